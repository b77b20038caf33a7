//! `tinybench`: how fast, how big, how much energy and how accurate is this
//! model variant on this microcontroller?
//!
//! Exit codes live in [`exit::Exit`]; `--help` and the README show them.
//! Output to stdout and stderr goes through [`say`] and [`tell`], which never
//! panic: a closed pipe or a full device must not cost a run its results,
//! which are in files written first.

mod compare;
mod exit;
mod instrument;
mod model;
mod probe;
mod report;
mod run;
mod sim;
mod train;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::exit::Exit;

#[derive(Parser)]
#[command(
    name = "tinybench",
    version,
    about = "Benchmark TinyML model variants on microcontrollers: latency, energy, memory, accuracy",
    after_help = exit::help_text()
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the benchmark firmware for each case of a configuration, run it, and write reports
    #[command(after_help = exit::help_text())]
    Run(run::RunArgs),
    /// Run an ELF on the built-in Cortex-M simulator and print its log
    #[command(after_help = exit::help_text())]
    Sim(sim::SimArgs),
    /// Import a TensorFlow Lite model to the .tbm firmware format, export one back, or run one on the host
    #[command(after_help = exit::help_text())]
    Model(model::ModelArgs),
    /// Print the commented default run configuration, which documents every key
    #[command(after_help = exit::help_text())]
    Config(run::ConfigArgs),
    /// List the debug probes connected (for [target] probe in a run configuration)
    #[command(after_help = exit::help_text())]
    Probe(probe::ProbeArgs),
    /// Rebuild a run's reports (CSV, Markdown, HTML, plots) from its Parquet tables
    #[command(after_help = exit::help_text())]
    Report(report::ReportArgs),
    /// Plot each case's latency, energy, flash, RAM and accuracy across runs (the nightly trend)
    #[command(after_help = exit::help_text())]
    Trend(report::TrendArgs),
    /// Compare a run with a baseline case by case; exit 1 on a regression beyond the thresholds (the CI gate)
    #[command(after_help = exit::help_text())]
    Compare(compare::CompareArgs),
    /// Run a power instrument's simulator on its own, serving a waveform over the instrument's protocol
    #[command(after_help = exit::help_text())]
    Instrument(instrument::InstrumentArgs),
}

/// An error with the exit code it maps to.
#[derive(Debug)]
pub struct Failure {
    pub exit: Exit,
    pub error: anyhow::Error,
}

impl Failure {
    pub fn new(exit: Exit, error: impl Into<anyhow::Error>) -> Failure {
        Failure { exit, error: error.into() }
    }
}

/// `output` is none of `inputs` (by device and inode where they exist, so
/// `./m.tbm` and `m.tbm` are the same file): writing it would destroy one.
pub fn refuse_overwriting_an_input(output: &std::path::Path, inputs: &[&std::path::Path]) -> Result<(), Failure> {
    for input in inputs {
        if output == *input || same_file::is_same_file(output, input).unwrap_or(false) {
            return Err(Failure::new(
                Exit::BadInput,
                anyhow::anyhow!(
                    "{}: the output is also an input of this command; writing it would destroy the input, \
                     give another output path",
                    output.display()
                ),
            ));
        }
    }
    Ok(())
}

/// Prints a line to stdout; a closed pipe or full device is ignored (the
/// command's real output is in files, written before anything is printed).
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// [`say`] for stderr.
#[macro_export]
macro_rules! tell {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { Exit::BadInput.code() } else { Exit::Success.code() });
        }
    };
    let outcome = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Sim(args) => sim::sim(args),
        Command::Model(args) => model::model(args),
        Command::Config(args) => run::config(args),
        Command::Probe(args) => probe::probe(args),
        Command::Instrument(args) => instrument::instrument(args),
        Command::Compare(args) => compare::compare_runs(args),
        Command::Report(args) => report::report(args),
        Command::Trend(args) => report::trend(args),
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            // One line: the error and its causes, joined.
            tell!("error: {:#}", failure.error);
            ExitCode::from(failure.exit.code())
        }
    }
}
