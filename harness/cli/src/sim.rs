//! `tinybench sim`: run any ELF on the built-in simulator.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use tinybench_config::Board;
use tinybench_proto::FrameDecoder;
use tinybench_runner::LogDecoder;
use tinybench_target::{BenchTarget, RunBudget, SimTarget, TargetOutput};

use crate::{EXIT_BAD_INPUT, EXIT_TARGET, Failure};

#[derive(Args)]
pub struct SimArgs {
    /// The program to run (an ARMv7E-M ELF)
    elf: PathBuf,
    /// Built-in board id (sim-m4, sim-m7, ...) or the path of a board file
    #[arg(long, default_value = "sim-m4")]
    board: String,
    /// Stop the program after this many simulated cycles
    #[arg(long, value_name = "N", default_value_t = 10_000_000_000)]
    max_cycles: u64,
    /// Stop the program after this many seconds of wall time
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    timeout_s: u64,
}

pub fn sim(args: SimArgs) -> Result<u8, Failure> {
    let board = Board::resolve(&args.board).map_err(|e| Failure::new(EXIT_BAD_INPUT, e))?;
    let elf = std::fs::read(&args.elf)
        .with_context(|| format!("cannot read {}", args.elf.display()))
        .map_err(|e| Failure::new(EXIT_BAD_INPUT, e))?;
    let mut target = SimTarget::new(&board).map_err(|e| Failure::new(EXIT_BAD_INPUT, e))?;
    target
        .load(&elf)
        .with_context(|| format!("cannot load {}", args.elf.display()))
        .map_err(|e| Failure::new(EXIT_BAD_INPUT, e))?;

    let table = defmt_decoder::Table::parse(&elf).ok().flatten();
    let mut log = LogDecoder::new(table.as_ref());
    let mut frames = FrameDecoder::new();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let budget = RunBudget { max_cycles: args.max_cycles, timeout: Duration::from_secs(args.timeout_s) };
    let outcome = target.run(&budget, &mut |output| {
        let _ = match output {
            TargetOutput::Rtt { channel: tinybench_proto::LOG_CHANNEL, bytes } => {
                log.push(bytes).iter().try_for_each(|line| writeln!(out, "{line}"))
            }
            TargetOutput::Rtt { channel: tinybench_proto::RESULTS_CHANNEL, bytes } => {
                frames.push(bytes).iter().try_for_each(|m| match m {
                    Ok(m) => writeln!(out, "result: {m:?}"),
                    Err(e) => writeln!(out, "result: {e}"),
                })
            }
            TargetOutput::Rtt { channel, bytes } => writeln!(out, "rtt{channel}: {}", String::from_utf8_lossy(bytes)),
            TargetOutput::Console(bytes) => out.write_all(bytes),
            TargetOutput::Progress { .. } => Ok(()),
        };
    });
    let _ = out.flush();
    let outcome = outcome
        .with_context(|| format!("{} on {}", args.elf.display(), target.describe()))
        .map_err(|e| Failure::new(EXIT_TARGET, e))?;
    eprintln!(
        "exit {} after {} simulated cycles, {} instructions, {:.2} s",
        outcome.exit_code,
        outcome.cycles.unwrap_or_default(),
        outcome.instructions.unwrap_or_default(),
        outcome.wall.as_secs_f64()
    );
    // Exit statuses outside 0..=255 are truncated the way a shell would.
    Ok(outcome.exit_code as u8)
}
