//! The two steps of `tinybench model train|variants`: train the float
//! network, then derive, write and measure every variant.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};
use tinybench_model::{Interpreter, Kernels};

use crate::config::{ModelConfig, VariantSpec};
use crate::data::{self, Digits, PIXELS};
use crate::net::Params;
use crate::train::{self, EpochReport};
use crate::{Error, prune, quant};

/// One row of the accuracy and size table (`variants.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariantRow {
    pub name: String,
    /// `.tbm` file, relative to the model folder.
    pub file: String,
    /// Weight bits (8 or 4).
    pub bits: u32,
    /// Fraction of convolution channels pruned.
    pub prune: f64,
    /// Output channels of the three convolutions.
    pub channels: [usize; 3],
    /// Test accuracy in percent, host engine (reference kernels), argmax of the int8 logits.
    pub accuracy: f64,
    /// Correct test digits (of `test_digits`).
    pub correct: usize,
    pub test_digits: usize,
    /// Test accuracy of the float network the variant was quantized from.
    pub float_accuracy: f64,
    /// Test digits where the quantized and the float network predict the same class, percent.
    pub agreement_with_float: f64,
    /// Weight bytes at the variant's bit width: filters (`bits` per weight,
    /// packed) plus int32 bias, multiplier and shift per output channel.
    pub weight_bytes: usize,
    /// Filter bytes alone at the variant's bit width.
    pub filter_bytes: usize,
    /// Weight bytes in the `.tbm` file (equal to `weight_bytes` when the file packs int4).
    pub tbm_weight_bytes: usize,
    pub file_bytes: usize,
    pub parameters: usize,
    pub macs: u64,
    pub arena_bytes: usize,
}

/// `variants.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariantTable {
    pub model: String,
    /// How accuracy is measured.
    pub accuracy_method: String,
    pub test_inputs: String,
    pub test_labels: String,
    pub variants: Vec<VariantRow>,
}

/// Loads the digits and splits them `(train, test)`.
///
/// # Errors
/// [`Error::Io`] / [`Error::Data`].
pub fn load_split(cfg: &ModelConfig) -> Result<(Digits, Digits), Error> {
    Ok(data::load(&cfg.images, &cfg.labels)?.split(cfg.train))
}

/// Writes the engine-form test files (int8 = pixel − 128; labels).
///
/// # Errors
/// [`Error::Io`].
pub fn write_test_files(cfg: &ModelConfig, test: &Digits) -> Result<(), Error> {
    std::fs::write(&cfg.test_inputs, test.engine_inputs()).map_err(|e| Error::io(&cfg.test_inputs, e))?;
    std::fs::write(&cfg.test_labels, &test.labels).map_err(|e| Error::io(&cfg.test_labels, e))
}

/// Trains the float network of `cfg` and saves it; returns it with the epoch reports.
///
/// # Errors
/// Data, tensor library or file errors.
pub fn train(cfg: &ModelConfig, log: &mut dyn FnMut(&str)) -> Result<(Params, Vec<EpochReport>), Error> {
    let (train_set, test) = load_split(cfg)?;
    write_test_files(cfg, &test)?;
    log(&format!(
        "{}: training channels {:?} on {} digits ({} test), {} epochs, seed {}",
        cfg.name,
        cfg.channels,
        train_set.len(),
        test.len(),
        cfg.training.epochs,
        cfg.training.seed
    ));
    let start = Params::init(cfg.channels, cfg.training.seed);
    let (params, reports) = train::train(&start, &train_set, Some(&test), &cfg.training, &mut |r| log(&r.to_string()))?;
    params.save(&cfg.weights)?;
    log(&format!("wrote {} ({} parameters)", cfg.weights.display(), params.count()));
    Ok((params, reports))
}

/// Predicted class: the index of the largest int8 logit, the first one on a tie.
pub fn argmax(logits: &[i8]) -> u8 {
    let mut best = 0;
    for (i, &v) in logits.iter().enumerate() {
        if v > logits[best] {
            best = i;
        }
    }
    best as u8
}

/// Runs `image` on every input (784 int8 each) with `kernels`; returns the predicted classes.
///
/// # Errors
/// [`Error::Model`] if the image does not load or a run fails.
pub fn predict_engine(image: &[u8], inputs: &[i8], kernels: Kernels) -> Result<Vec<u8>, Error> {
    let interp = Interpreter::new(image)?;
    inputs.chunks_exact(PIXELS).map(|x| Ok(argmax(&interp.run(kernels, x)?))).collect()
}

fn percent(hits: usize, of: usize) -> f64 {
    // Two decimals, stable in JSON.
    (10000.0 * hits as f64 / of.max(1) as f64).round() / 100.0
}

/// Everything a variant is built from: the (pruned, fine-tuned) float network and its graph.
pub struct Built {
    pub params: Params,
    pub graph: tinybench_model::Graph,
    pub image: Vec<u8>,
}

/// Builds one variant from the trained network: pruning + fine-tuning
/// (cached per ratio in `pruned`), optional quantization-aware fine-tuning,
/// quantization calibrated on the training digits, `.tbm` image.
///
/// # Errors
/// Tensor library or model errors.
pub fn build(
    cfg: &ModelConfig,
    spec: &VariantSpec,
    base: &Params,
    train_set: &Digits,
    pruned: &mut BTreeMap<String, Params>,
    log: &mut dyn FnMut(&str),
) -> Result<Built, Error> {
    let mut params = if spec.prune > 0.0 {
        let key = format!("{}", spec.prune);
        if let Some(p) = pruned.get(&key) {
            p.clone()
        } else {
            let (p, _) = prune::prune(base, spec.prune);
            log(&format!(
                "{}: pruned {:.0}% of channels -> {:?}; fine-tuning {} epochs",
                spec.name,
                spec.prune * 100.0,
                p.channels(),
                cfg.fine_tune.epochs
            ));
            let (p, _) = train::train(&p, train_set, None, &cfg.fine_tune, &mut |r| log(&format!("  {r}")))?;
            pruned.insert(key, p.clone());
            p
        }
    } else {
        base.clone()
    };
    if spec.qat_epochs > 0 {
        log(&format!("{}: {} epochs of {}-bit quantization-aware fine-tuning", spec.name, spec.qat_epochs, spec.bits));
        let opts =
            train::TrainOptions { epochs: spec.qat_epochs, weight_bits: Some(spec.bits), ..cfg.fine_tune.clone() };
        params = train::train(&params, train_set, None, &opts, &mut |r| log(&format!("  {r}")))?.0;
    }
    let graph = quant::quantize(&params, spec.bits, train_set)?;
    let image = tinybench_model::compile(&graph)?;
    Ok(Built { params, graph, image })
}

/// Measures a built variant on the test digits.
///
/// # Errors
/// Model or tensor library errors.
pub fn measure(spec: &VariantSpec, built: &Built, test: &Digits) -> Result<VariantRow, Error> {
    let inputs: Vec<i8> = test.engine_inputs().into_iter().map(|b| b as i8).collect();
    let predicted = predict_engine(&built.image, &inputs, Kernels::Reference)?;
    let float = train::predict(&built.params, test, None)?;
    let correct = predicted.iter().zip(&test.labels).filter(|(p, l)| p == l).count();
    let float_correct = float.iter().zip(&test.labels).filter(|(p, l)| p == l).count();
    let agree = predicted.iter().zip(&float).filter(|(a, b)| a == b).count();
    let interp = Interpreter::new(&built.image)?;
    let model = interp.model()?;
    let rows = tinybench_model::report::rows(&model)?;
    let filters: usize = built.graph.layers.iter().map(|l| l.weights.filter.len()).sum();
    Ok(VariantRow {
        name: spec.name.clone(),
        file: format!("variants/{}.tbm", spec.name),
        bits: spec.bits,
        prune: spec.prune,
        channels: built.params.channels(),
        accuracy: percent(correct, test.len()),
        correct,
        test_digits: test.len(),
        float_accuracy: percent(float_correct, test.len()),
        agreement_with_float: percent(agree, test.len()),
        weight_bytes: quant::packed_weight_bytes(&built.graph, spec.bits),
        filter_bytes: (filters * spec.bits as usize).div_ceil(8),
        tbm_weight_bytes: rows.iter().map(|r| r.weight_bytes).sum(),
        file_bytes: built.image.len(),
        parameters: built.params.count(),
        macs: rows.iter().map(|r| r.macs).sum(),
        arena_bytes: model.arena_bytes(),
    })
}

/// Builds, writes and measures every variant of `cfg` from the saved
/// weights; writes `variants.json` and the README table.
///
/// # Errors
/// Data, tensor library, model or file errors.
pub fn variants(cfg: &ModelConfig, log: &mut dyn FnMut(&str)) -> Result<VariantTable, Error> {
    let (train_set, test) = load_split(cfg)?;
    write_test_files(cfg, &test)?;
    let base = Params::load(&cfg.weights)?;
    std::fs::create_dir_all(&cfg.variants_dir).map_err(|e| Error::io(&cfg.variants_dir, e))?;
    let mut pruned = BTreeMap::new();
    let mut rows = Vec::new();
    for spec in &cfg.variants {
        let built = build(cfg, spec, &base, &train_set, &mut pruned, log)?;
        let path = cfg.variants_dir.join(format!("{}.tbm", spec.name));
        std::fs::write(&path, &built.image).map_err(|e| Error::io(&path, e))?;
        let row = measure(spec, &built, &test)?;
        log(&format!(
            "{}: {:.2}% ({} of {}), {} weight bytes, {} parameters, {} MACs, arena {} B -> {}",
            row.name,
            row.accuracy,
            row.correct,
            row.test_digits,
            row.weight_bytes,
            row.parameters,
            row.macs,
            row.arena_bytes,
            path.display()
        ));
        rows.push(row);
    }
    let table = VariantTable {
        model: cfg.name.clone(),
        accuracy_method: "host engine (tinybench-kernels reference set; fused and simd give the same bytes), \
                          argmax of the int8 logits (first index on a tie), on the last 2,000 of the 10,000 digits"
            .into(),
        test_inputs: "data/test-inputs.bin".into(),
        test_labels: "data/test-labels.bin".into(),
        variants: rows,
    };
    let json = serde_json::to_string_pretty(&table).expect("plain data serializes") + "\n";
    std::fs::write(&cfg.table, json).map_err(|e| Error::io(&cfg.table, e))?;
    update_readme(&cfg.readme, &markdown(&table))?;
    log(&format!("wrote {} and the table in {}", cfg.table.display(), cfg.readme.display()));
    Ok(table)
}

/// Whether `a` dominates `b` on the size/accuracy plane: no more weight
/// bytes, no less test accuracy, and strictly better in one of the two.
pub fn dominates(a: &VariantRow, b: &VariantRow) -> bool {
    a.weight_bytes <= b.weight_bytes
        && a.accuracy >= b.accuracy
        && (a.weight_bytes < b.weight_bytes || a.accuracy > b.accuracy)
}

/// The first variant of `rows` that dominates `row` (`None`: `row` is on
/// the Pareto front of `rows`).
pub fn dominated_by<'a>(rows: &'a [VariantRow], row: &VariantRow) -> Option<&'a VariantRow> {
    rows.iter().find(|a| dominates(a, row))
}

/// The table as Markdown.
pub fn markdown(table: &VariantTable) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| variant | weights | channels | test accuracy | float accuracy | weight bytes | .tbm weight bytes | parameters | MACs | arena bytes | Pareto |"
    );
    let _ = writeln!(s, "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|");
    for r in &table.variants {
        let pareto = match dominated_by(&table.variants, r) {
            None => "front".to_string(),
            Some(a) => format!("dominated by `{}`", a.name),
        };
        let _ = writeln!(
            s,
            "| `{}` | int{} | {}-{}-{} | {:.2}% | {:.2}% | {} | {} | {} | {} | {} | {} |",
            r.name,
            r.bits,
            r.channels[0],
            r.channels[1],
            r.channels[2],
            r.accuracy,
            r.float_accuracy,
            r.weight_bytes,
            r.tbm_weight_bytes,
            r.parameters,
            r.macs,
            r.arena_bytes,
            pareto
        );
    }
    s
}

const BEGIN: &str = "<!-- variants:begin (written by `tinybench model variants`) -->";
const END: &str = "<!-- variants:end -->";

/// Replaces the text between the README's table markers.
fn update_readme(path: &Path, table: &str) -> Result<(), Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let (Some(start), Some(end)) = (text.find(BEGIN), text.find(END)) else {
        return Err(Error::Config { path: path.to_path_buf(), detail: format!("no `{BEGIN}` … `{END}` markers") });
    };
    let updated = format!("{}{BEGIN}\n\n{table}\n{}", &text[..start], &text[end..]);
    std::fs::write(path, updated).map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argmax_takes_the_first_maximum() {
        assert_eq!(argmax(&[-3, 7, 7, 1]), 1);
        assert_eq!(argmax(&[-128; 10]), 0);
    }

    fn row(name: &str, weight_bytes: usize, accuracy: f64) -> VariantRow {
        VariantRow {
            name: name.into(),
            file: format!("variants/{name}.tbm"),
            bits: 8,
            prune: 0.0,
            channels: [8, 16, 30],
            accuracy,
            correct: 0,
            test_digits: 2000,
            float_accuracy: accuracy,
            agreement_with_float: 100.0,
            weight_bytes,
            filter_bytes: 0,
            tbm_weight_bytes: weight_bytes,
            file_bytes: 0,
            parameters: 0,
            macs: 0,
            arena_bytes: 0,
        }
    }

    #[test]
    fn pareto_front_and_dominance() {
        let rows = [
            row("big", 9000, 98.8),
            row("mid", 4900, 98.6),
            row("worse", 5800, 98.1),
            row("tie", 4900, 98.6),
            row("small", 1800, 97.5),
            row("same-size-worse", 1800, 97.4),
        ];
        let by = |i: usize| dominated_by(&rows, &rows[i]).map(|r| r.name.as_str());
        assert_eq!(by(0), None);
        assert_eq!(by(1), None, "an equal row does not dominate");
        assert_eq!(by(2), Some("mid"), "larger and less accurate");
        assert_eq!(by(3), None);
        assert_eq!(by(4), None);
        assert_eq!(by(5), Some("small"), "as large and less accurate");
        let table = VariantTable {
            model: "m".into(),
            accuracy_method: String::new(),
            test_inputs: String::new(),
            test_labels: String::new(),
            variants: rows.to_vec(),
        };
        let md = markdown(&table);
        assert!(md.contains("| 98.80% | 9000 | 9000 | 0 | 0 | 0 | front |"), "{md}");
        assert!(md.contains("| dominated by `mid` |"), "{md}");
    }
}
