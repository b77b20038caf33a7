//! `model.toml`: data, architecture, training and the variant list. Paths
//! are relative to the file's folder. `RawModelConfig` is the file as
//! written; [`ModelConfig::load`] validates it.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::Error;
use crate::train::TrainOptions;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawModelConfig {
    name: String,
    data: RawData,
    model: RawArch,
    train: RawTrain,
    output: RawOutput,
    #[serde(rename = "variant")]
    variants: Vec<RawVariant>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawData {
    images: PathBuf,
    labels: PathBuf,
    train: usize,
    test_inputs: PathBuf,
    test_labels: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawArch {
    channels: [usize; 3],
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawTrain {
    seed: u64,
    epochs: usize,
    batch: usize,
    learning_rate: f64,
    weight_decay: f64,
    max_shift: i32,
    fine_tune_epochs: usize,
    fine_tune_learning_rate: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawOutput {
    weights: PathBuf,
    variants: PathBuf,
    table: PathBuf,
    readme: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawVariant {
    name: String,
    bits: u32,
    #[serde(default)]
    prune: f64,
    #[serde(default)]
    quantization_aware_epochs: usize,
}

/// One variant to build: prune `prune` of the channels (then fine-tune),
/// quantize weights to `bits` (after `qat_epochs` of quantization-aware
/// fine-tuning when non-zero).
#[derive(Debug, Clone, PartialEq)]
pub struct VariantSpec {
    pub name: String,
    pub bits: u32,
    pub prune: f64,
    pub qat_epochs: usize,
}

/// A validated `model.toml`, paths resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelConfig {
    pub name: String,
    pub images: PathBuf,
    pub labels: PathBuf,
    /// Digits `0..train` train and calibrate; the rest test.
    pub train: usize,
    pub test_inputs: PathBuf,
    pub test_labels: PathBuf,
    pub channels: [usize; 3],
    pub training: TrainOptions,
    pub fine_tune: TrainOptions,
    pub weights: PathBuf,
    pub variants_dir: PathBuf,
    pub table: PathBuf,
    pub readme: PathBuf,
    pub variants: Vec<VariantSpec>,
}

impl ModelConfig {
    /// # Errors
    /// [`Error::Config`] naming the file, the key and the fix.
    pub fn load(path: &Path) -> Result<ModelConfig, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let raw: RawModelConfig =
            toml::from_str(&text).map_err(|e| Error::Config { path: path.to_path_buf(), detail: e.to_string() })?;
        let dir = path.parent().unwrap_or(Path::new("."));
        Self::validate(raw, dir).map_err(|detail| Error::Config { path: path.to_path_buf(), detail })
    }

    fn validate(raw: RawModelConfig, dir: &Path) -> Result<ModelConfig, String> {
        if raw.model.channels.contains(&0) {
            return Err("model.channels: every convolution needs at least one channel".into());
        }
        let t = &raw.train;
        if t.batch == 0 || t.epochs == 0 {
            return Err("train.batch and train.epochs must be at least 1".into());
        }
        if !(0..=4).contains(&t.max_shift) {
            return Err(format!("train.max-shift = {}: use 0..=4 pixels", t.max_shift));
        }
        let mut names = std::collections::HashSet::new();
        for v in &raw.variants {
            if !(v.bits == 8 || v.bits == 4) {
                return Err(format!("variant `{}`: bits = {}: use 8 or 4", v.name, v.bits));
            }
            if !(0.0..1.0).contains(&v.prune) {
                return Err(format!("variant `{}`: prune = {}: use a fraction in [0, 1)", v.name, v.prune));
            }
            if v.name.is_empty() || !v.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                return Err(format!("variant `{}`: names are letters, digits and `-` (file names)", v.name));
            }
            if !names.insert(v.name.clone()) {
                return Err(format!("variant `{}` appears twice", v.name));
            }
        }
        let training = TrainOptions {
            seed: t.seed,
            epochs: t.epochs,
            batch: t.batch,
            learning_rate: t.learning_rate,
            weight_decay: t.weight_decay,
            max_shift: t.max_shift,
            weight_bits: None,
        };
        let fine_tune =
            TrainOptions { epochs: t.fine_tune_epochs, learning_rate: t.fine_tune_learning_rate, ..training.clone() };
        Ok(ModelConfig {
            name: raw.name,
            images: dir.join(raw.data.images),
            labels: dir.join(raw.data.labels),
            train: raw.data.train,
            test_inputs: dir.join(raw.data.test_inputs),
            test_labels: dir.join(raw.data.test_labels),
            channels: raw.model.channels,
            training,
            fine_tune,
            weights: dir.join(raw.output.weights),
            variants_dir: dir.join(raw.output.variants),
            table: dir.join(raw.output.table),
            readme: dir.join(raw.output.readme),
            variants: raw
                .variants
                .into_iter()
                .map(|v| VariantSpec {
                    name: v.name,
                    bits: v.bits,
                    prune: v.prune,
                    qat_epochs: v.quantization_aware_epochs,
                })
                .collect(),
        })
    }
}
