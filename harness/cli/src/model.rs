//! `tinybench model`: import TensorFlow Lite models and run them on the host
//! with the engine the firmware links.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use clap::{Args, Subcommand, ValueEnum};
use tinybench_model::{Interpreter, Kernels};

use crate::{EXIT_BAD_INPUT, EXIT_IO, Failure};

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
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum KernelsArg {
    Reference,
}

impl From<KernelsArg> for Kernels {
    fn from(k: KernelsArg) -> Kernels {
        match k {
            KernelsArg::Reference => Kernels::Reference,
        }
    }
}

fn bad_input(e: impl Into<anyhow::Error>) -> Failure {
    Failure::new(EXIT_BAD_INPUT, e)
}

/// Reads a `.tflite` (imported) or `.tbm` file; returns the `.tbm` image and its interpreter.
fn load(path: &Path) -> Result<(Vec<u8>, Interpreter), Failure> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display())).map_err(bad_input)?;
    let image = tinybench_model::load(&bytes, path).map_err(bad_input)?;
    let interp = Interpreter::new(&image).with_context(|| path.display().to_string()).map_err(bad_input)?;
    Ok((image, interp))
}

pub fn model(args: ModelArgs) -> Result<u8, Failure> {
    match args.command {
        ModelCommand::Import { model, output } => {
            let (image, interp) = load(&model)?;
            let view = interp.model().map_err(bad_input)?;
            print!("{}", tinybench_model::report::table(&view).map_err(bad_input)?);
            std::fs::write(&output, &image)
                .with_context(|| format!("cannot write {}", output.display()))
                .map_err(|e| Failure::new(EXIT_IO, e))?;
            println!("wrote {} ({} bytes)", output.display(), image.len());
            Ok(0)
        }
        ModelCommand::Run { model, input, output, kernels } => {
            let (_, interp) = load(&model)?;
            let view = interp.model().map_err(bad_input)?;
            let (in_len, out_len) = (view.input().len, view.output().len);
            let samples =
                std::fs::read(&input).with_context(|| format!("cannot read {}", input.display())).map_err(bad_input)?;
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
            print!("{}", tinybench_model::report::table(&view).map_err(bad_input)?);
            println!(
                "ran {} sample(s) with the {} kernels; output {:?} int8 per sample",
                samples.len() / in_len,
                Kernels::from(kernels).name(),
                view.output().dims()
            );
            std::fs::write(&output, &results)
                .with_context(|| format!("cannot write {}", output.display()))
                .map_err(|e| Failure::new(EXIT_IO, e))?;
            Ok(0)
        }
    }
}
