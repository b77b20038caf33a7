//! `tinybench model`: import TensorFlow Lite models, export `.tbm` models to
//! TensorFlow Lite, and run them on the host with the engine the firmware links.
//!
//! Each command writes its output file before printing anything (a closed
//! pipe must not cost the file), reads its inputs with a size bound, and
//! refuses an output path that is one of its inputs.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use clap::{Args, Subcommand, ValueEnum};
use tinybench_model::{Interpreter, Kernels, WeightFormat};
use tinybench_runner::input::{MAX_MODEL_BYTES, read_limited};

use crate::exit::Exit;
use crate::{Failure, refuse_overwriting_an_input, say};

#[derive(Args)]
pub struct ModelArgs {
    #[command(subcommand)]
    command: ModelCommand,
}

#[derive(Subcommand)]
enum ModelCommand {
    /// Convert a .tflite model to a .tbm firmware model (memory planned, weights aligned)
    Import {
        /// The int8 .tflite model
        model: PathBuf,
        /// Where to write the .tbm file
        #[arg(short, long, value_name = "MODEL.tbm")]
        output: PathBuf,
        /// Filter storage: int8 as in the .tflite (default), or int4 (requantized per channel, packed two a byte; lossy)
        #[arg(long, value_enum)]
        weights: Option<WeightsArg>,
    },
    /// Export a .tbm (or .tflite) model to an int8 .tflite that LiteRT and TFLite Micro run bit-exactly like the host engine
    Export {
        /// The model (.tbm or .tflite, recognized by content)
        model: PathBuf,
        /// Where to write the .tflite file
        #[arg(short, long, value_name = "MODEL.tflite")]
        output: PathBuf,
        /// The model input's real scale (e.g. 0.0039215686 or 1/255): anchors the scales derived for a .tbm,
        /// which stores none (default: derived too, exact for the integer arithmetic up to a power of two)
        #[arg(long, value_name = "SCALE", value_parser = parse_scale)]
        input_scale: Option<f32>,
    },
    /// Run a .tflite or .tbm model on raw int8 samples and print the per-layer table
    Run {
        /// The model (.tflite or .tbm, recognized by content)
        model: PathBuf,
        /// Raw int8 input samples, back to back
        #[arg(long, value_name = "FILE")]
        input: PathBuf,
        /// Where to write the raw int8 outputs, back to back
        #[arg(long, value_name = "FILE")]
        output: PathBuf,
        /// Kernel set to run
        #[arg(long, value_enum, default_value = "reference")]
        kernels: KernelsArg,
        /// Import a .tflite with int8 or int4 filters (default int8); a .tbm keeps the filters it was imported with
        #[arg(long, value_enum)]
        weights: Option<WeightsArg>,
    },
    /// Train a model family's float network (models/<family>/model.toml) and save its weights
    Train {
        /// The family's model.toml
        config: PathBuf,
    },
    /// Build a model family's variants (pruned, int8, int4 .tbm files) from its trained weights and measure them
    Variants {
        /// The family's model.toml
        config: PathBuf,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum KernelsArg {
    /// Plain loops, one layer at a time (TFLite reference kernels)
    Reference,
    /// Fused layer groups (conv + activation + pool) in one pass
    Fused,
    /// ARMv7E-M DSP inner loops (SXTB16/SMLAD; emulated exactly on the host)
    Simd,
}

impl From<KernelsArg> for Kernels {
    fn from(k: KernelsArg) -> Kernels {
        match k {
            KernelsArg::Reference => Kernels::Reference,
            KernelsArg::Fused => Kernels::Fused,
            KernelsArg::Simd => Kernels::Simd,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum WeightsArg {
    Int8,
    Int4,
}

impl From<WeightsArg> for WeightFormat {
    fn from(w: WeightsArg) -> WeightFormat {
        match w {
            WeightsArg::Int8 => WeightFormat::Int8,
            WeightsArg::Int4 => WeightFormat::Int4,
        }
    }
}

/// A positive scale: a number or a quotient `a/b` (`1/255`), rounded to `f32`.
fn parse_scale(text: &str) -> Result<f32, String> {
    let value = match text.split_once('/') {
        Some((a, b)) => {
            let parse = |s: &str| s.trim().parse::<f64>().map_err(|e| format!("`{s}`: {e}"));
            parse(a)? / parse(b)?
        }
        None => text.trim().parse::<f64>().map_err(|e| format!("`{text}`: {e}"))?,
    };
    let scale = value as f32;
    if scale.is_normal() && scale > 0.0 { Ok(scale) } else { Err(format!("`{text}` is not a positive scale")) }
}

fn bad_input(e: impl Into<anyhow::Error>) -> Failure {
    Failure::new(Exit::BadInput, e)
}

fn write_output(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    std::fs::write(path, bytes)
        .with_context(|| format!("cannot write {}", path.display()))
        .map_err(|e| Failure::new(Exit::WriteFailed, e))
}

/// Reads a `.tflite` (imported with `weights`, default int8) or `.tbm` file;
/// returns the `.tbm` image and its interpreter.
fn load(path: &Path, weights: Option<WeightsArg>) -> Result<(Vec<u8>, Interpreter), Failure> {
    let bytes = read_limited(path, MAX_MODEL_BYTES, "model").map_err(bad_input)?;
    let is_tbm = tinybench_model::is_tbm(&bytes);
    let image = match weights {
        None => tinybench_model::load(&bytes, path).map_err(bad_input)?,
        Some(_) if is_tbm => {
            return Err(bad_input(anyhow!(
                "{}: --weights applies to .tflite models; a .tbm file keeps the weights it was imported with \
                 (re-import the .tflite with `tinybench model import --weights ...`)",
                path.display()
            )));
        }
        Some(w) => tinybench_model::import(&bytes, path, w.into()).map_err(bad_input)?,
    };
    let interp = Interpreter::new(&image).with_context(|| path.display().to_string()).map_err(bad_input)?;
    Ok((image, interp))
}

pub fn model(args: ModelArgs) -> Result<u8, Failure> {
    match args.command {
        ModelCommand::Train { config } => crate::train::train(&config),
        ModelCommand::Variants { config } => crate::train::variants(&config),
        ModelCommand::Import { model, output, weights } => {
            refuse_overwriting_an_input(&output, &[&model])?;
            let (image, interp) = load(&model, weights)?;
            let view = interp.model().map_err(bad_input)?;
            let table = tinybench_model::report::table(&view).map_err(bad_input)?;
            write_output(&output, &image)?;
            say!("{}wrote {} ({} bytes)", table, output.display(), image.len());
            Ok(Exit::Success.code())
        }
        ModelCommand::Export { model, output, input_scale } => {
            refuse_overwriting_an_input(&output, &[&model])?;
            let bytes = read_limited(&model, MAX_MODEL_BYTES, "model").map_err(bad_input)?;
            let exported = tinybench_model::export(&bytes, &model, input_scale).map_err(bad_input)?;
            write_output(&output, &exported.bytes)?;
            say!("{} -> TFLite operators: {}", model.display(), exported.operators.join(", "));
            for note in &exported.notes {
                say!("note: {note}");
            }
            say!("wrote {} ({} bytes)", output.display(), exported.bytes.len());
            Ok(Exit::Success.code())
        }
        ModelCommand::Run { model, input, output, kernels, weights } => {
            refuse_overwriting_an_input(&output, &[&model, &input])?;
            let (_, interp) = load(&model, weights)?;
            let view = interp.model().map_err(bad_input)?;
            let (in_len, out_len) = (view.input().len, view.output().len);
            let samples = read_limited(&input, MAX_MODEL_BYTES, "input file").map_err(bad_input)?;
            if samples.is_empty() || !samples.len().is_multiple_of(in_len) {
                return Err(bad_input(anyhow!(
                    "{}: {} bytes is not a whole number of {in_len}-byte samples (the model input is {:?} int8)",
                    input.display(),
                    samples.len(),
                    view.input().dims()
                )));
            }
            let mut results = Vec::with_capacity(samples.len() / in_len * out_len);
            for sample in samples.chunks_exact(in_len) {
                let x: Vec<i8> = sample.iter().map(|&b| b as i8).collect();
                let y = interp.run(kernels.into(), &x).map_err(bad_input)?;
                results.extend(y.iter().map(|&v| v as u8));
            }
            let table = tinybench_model::report::table(&view).map_err(bad_input)?;
            write_output(&output, &results)?;
            say!(
                "{table}ran {} sample(s) with the {} kernels; output {:?} int8 per sample; wrote {}",
                samples.len() / in_len,
                Kernels::from(kernels).name(),
                view.output().dims(),
                output.display()
            );
            Ok(Exit::Success.code())
        }
    }
}
