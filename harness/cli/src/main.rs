//! `tinybench`: how fast, how big, how much energy and how accurate is this
//! model variant on this microcontroller?
//!
//! Exit codes (also in `--help` and the README):
//! 0 success; 1 a benchmark ran but failed (firmware error, wrong output);
//! 2 bad input (usage, configuration, board or ELF file); 3 firmware build
//! failed; 4 the target could not run the firmware to completion (simulator
//! fault, cycle or time budget exceeded, protocol error); 5 results could not
//! be written. `tinybench sim` exits with the program's own exit status when
//! it exits, and with 4 when the simulation stops on an error.

mod model;
mod run;
mod sim;
mod train;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  a benchmark ran but failed (firmware reported an error, output differs from the host)
  2  bad input: usage, configuration, board or ELF file
  3  the firmware build failed (its log is in the run folder)
  4  the target could not run the firmware to completion (fault, cycle/time budget, protocol)
  5  results could not be written
`tinybench sim` exits with the program's own exit status when the program exits.";

#[derive(Parser)]
#[command(name = "tinybench", version, about = "Benchmark TinyML model variants on microcontrollers: latency, energy, memory, accuracy", after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the benchmark firmware for each case of a configuration, run it, and write reports
    #[command(after_help = EXIT_CODES)]
    Run(run::RunArgs),
    /// Run an ELF on the built-in Cortex-M simulator and print its log
    #[command(after_help = EXIT_CODES)]
    Sim(sim::SimArgs),
    /// Import a TensorFlow Lite model to the .tbm firmware format, export one back, or run one on the host
    #[command(after_help = EXIT_CODES)]
    Model(model::ModelArgs),
}

/// An error with the exit code it maps to.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub error: anyhow::Error,
}

impl Failure {
    pub fn new(code: u8, error: impl Into<anyhow::Error>) -> Failure {
        Failure { code, error: error.into() }
    }
}

/// Exit code of bad input.
pub const EXIT_BAD_INPUT: u8 = 2;
/// Exit code of a target that could not run the firmware to completion.
pub const EXIT_TARGET: u8 = 4;
/// Exit code of results that could not be written.
pub const EXIT_IO: u8 = 5;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_BAD_INPUT } else { 0 });
        }
    };
    let outcome = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Sim(args) => sim::sim(args),
        Command::Model(args) => model::model(args),
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            // One line: the error and its causes, joined.
            eprintln!("error: {:#}", failure.error);
            ExitCode::from(failure.code)
        }
    }
}
