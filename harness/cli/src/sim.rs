//! `tinybench sim`: run any ELF on the built-in simulator, print what it
//! prints (semihosting output, decoded defmt log), exit with its status, and
//! optionally write run statistics and a cycle profile.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, ValueEnum};
use tinybench_config::Board;
use tinybench_config::input::{MAX_ELF_BYTES, read_limited};
use tinybench_proto::FrameDecoder;
use tinybench_runner::LogDecoder;
use tinybench_sim::{Profile, SimStats};
use tinybench_target::{BenchTarget, BudgetSource, RunBudget, SimTarget, TargetOutput};

use crate::exit::Exit;
use crate::{Failure, refuse_overwriting_an_input, tell};

/// Highest `--clock-hz`, as for `clock-hz` in board files.
const MAX_CLOCK_HZ: u64 = 2_000_000_000;

#[derive(Args)]
pub struct SimArgs {
    /// The program to run (an ARMv7E-M ELF)
    elf: PathBuf,
    /// Built-in board id (sim-m4, sim-m7, ...) or the path of a board file [default: sim-m4]
    #[arg(long, value_name = "NAME|FILE", conflicts_with = "core")]
    board: Option<String>,
    /// Run on this core with the memory map of its built-in board (cortex-m4: sim-m4, STM32L4R5;
    /// cortex-m7: sim-m7, STM32H743)
    #[arg(long, value_enum)]
    core: Option<CoreArg>,
    /// Core clock in Hz, instead of the board's (sim-m4: 120 MHz, sim-m7: 480 MHz)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=MAX_CLOCK_HZ))]
    clock_hz: Option<u64>,
    /// Stop the program after this many simulated cycles (at least 1, as `[run] max-cycles`)
    #[arg(long, value_name = "N", default_value_t = 10_000_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    max_cycles: u64,
    /// Stop the program after this many seconds of wall time (at least 1, as `[run] timeout-s`)
    #[arg(long, value_name = "SECONDS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..))]
    timeout_s: u64,
    /// Write run statistics as JSON: instructions, cycles, wall_seconds, mips, exit_code, core,
    /// clock_hz and the instruction-class histogram
    #[arg(long, value_name = "FILE")]
    stats_json: Option<PathBuf>,
    /// Write simulated cycles per function (a table sorted by self cycles) to FILE and folded
    /// stacks for inferno/flamegraph to FILE.folded
    #[arg(long, value_name = "FILE")]
    profile: Option<PathBuf>,
}

/// A core for `--core`; each has a built-in board.
#[derive(Clone, Copy, ValueEnum)]
enum CoreArg {
    CortexM4,
    CortexM7,
}

impl CoreArg {
    fn board_id(self) -> &'static str {
        match self {
            CoreArg::CortexM4 => "sim-m4",
            CoreArg::CortexM7 => "sim-m7",
        }
    }
}

/// The board named by `--board` or `--core` (default sim-m4), with `--clock-hz` applied.
fn select_board(args: &SimArgs) -> Result<Board, Failure> {
    let bad = |e| Failure::new(Exit::BadInput, e);
    let mut board = match (&args.board, args.core) {
        (Some(name), _) => Board::resolve(name).map_err(bad)?,
        (None, core) => {
            let id = core.map_or("sim-m4", CoreArg::board_id);
            Board::builtin(id).expect("every --core has a built-in board").map_err(bad)?
        }
    };
    if let Some(hz) = args.clock_hz {
        board.clock_hz = hz;
    }
    Ok(board)
}

pub fn sim(args: SimArgs) -> Result<u8, Failure> {
    let board = select_board(&args)?;
    for output in args.stats_json.iter().chain(&args.profile).cloned().chain(args.profile.as_deref().map(folded_path)) {
        refuse_overwriting_an_input(&output, &[&args.elf])?;
    }
    let elf = read_limited(&args.elf, MAX_ELF_BYTES, "ELF file").map_err(|e| Failure::new(Exit::BadInput, e))?;
    let mut target = SimTarget::new(&board).map_err(|e| Failure::new(Exit::BadInput, e))?;
    target
        .load(&elf)
        .with_context(|| format!("cannot load {}", args.elf.display()))
        .map_err(|e| Failure::new(Exit::BadInput, e))?;
    if args.profile.is_some() {
        target.simulator_mut().enable_profiling();
    }

    let table = defmt_decoder::Table::parse(&elf).ok().flatten();
    let mut log = LogDecoder::new(table.as_ref());
    let mut frames = FrameDecoder::new();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let budget = RunBudget::new(args.max_cycles, Duration::from_secs(args.timeout_s), BudgetSource::CommandLine);
    let started = Instant::now();
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
            TargetOutput::Progress { .. } | TargetOutput::Flash { .. } => Ok(()),
        };
    });
    let wall = started.elapsed();
    let _ = out.flush();

    let sim = target.simulator();
    let stats = sim.stats();
    let exit_code = outcome.as_ref().ok().map(|o| o.exit_code);
    let run = RunFacts { elf: &args.elf, board: &board, exit_code, wall };
    // The files are written whether or not the program exits: the statistics
    // and profile of a program that hangs or faults are worth having.
    let written = write_outputs(&args, &run, &stats, sim.profile());

    let outcome = outcome
        .with_context(|| format!("{} on {}", args.elf.display(), target.describe()))
        .map_err(|e| Failure::new(Exit::TargetFailed, e));
    let outcome = match (outcome, written) {
        (Ok(outcome), Ok(())) => outcome,
        (Ok(_), Err(e)) => return Err(e),
        (Err(e), written) => {
            if let Err(w) = written {
                tell!("warning: {:#}", w.error);
            }
            return Err(e);
        }
    };
    tell!(
        "exit {} after {} simulated cycles, {} instructions, {:.2} s ({:.1} MIPS)",
        outcome.exit_code,
        stats.cycles,
        stats.instructions,
        wall.as_secs_f64(),
        mips(stats.instructions, wall)
    );
    // Exit statuses outside 0..=255 are truncated the way a shell would.
    Ok(outcome.exit_code as u8)
}

/// What the statistics and profile files say about the run besides the simulator's counts.
struct RunFacts<'a> {
    elf: &'a Path,
    board: &'a Board,
    /// `None` when the program did not exit (fault, budget, ...).
    exit_code: Option<i32>,
    wall: Duration,
}

fn write_outputs(
    args: &SimArgs,
    run: &RunFacts<'_>,
    stats: &SimStats,
    profile: Option<Profile>,
) -> Result<(), Failure> {
    if let Some(path) = &args.stats_json {
        let mut text = serde_json::to_string_pretty(&stats_json(run, stats)).expect("JSON values serialize");
        text.push('\n');
        write_file(path, &text)?;
    }
    if let (Some(path), Some(profile)) = (&args.profile, profile) {
        write_file(path, &profile_table(run, stats, &profile))?;
        write_file(&folded_path(path), &profile.folded_text())?;
    }
    Ok(())
}

fn write_file(path: &Path, text: &str) -> Result<(), Failure> {
    std::fs::write(path, text)
        .with_context(|| format!("cannot write {}", path.display()))
        .map_err(|e| Failure::new(Exit::WriteFailed, e))
}

/// `FILE.folded` next to `FILE`.
fn folded_path(path: &Path) -> PathBuf {
    let mut name = OsString::from(path.as_os_str());
    name.push(".folded");
    PathBuf::from(name)
}

/// Simulated instructions per wall-clock second, in millions.
fn mips(instructions: u64, wall: Duration) -> f64 {
    let seconds = wall.as_secs_f64();
    if seconds > 0.0 { instructions as f64 / seconds / 1e6 } else { 0.0 }
}

fn stats_json(run: &RunFacts<'_>, stats: &SimStats) -> serde_json::Value {
    let clock_hz = run.board.clock_hz;
    serde_json::json!({
        "elf": run.elf.display().to_string(),
        "board": run.board.id,
        "core": run.board.core.as_str(),
        "clock_hz": clock_hz,
        "exit_code": run.exit_code,
        "instructions": stats.instructions,
        "cycles": stats.cycles,
        "simulated_seconds": stats.cycles as f64 / clock_hz as f64,
        "exceptions": stats.exceptions,
        "wall_seconds": run.wall.as_secs_f64(),
        "mips": mips(stats.instructions, run.wall),
        "histogram": stats.histogram,
    })
}

/// Per-function cycles, most expensive first, with shares of the whole run.
fn profile_table(run: &RunFacts<'_>, stats: &SimStats, profile: &Profile) -> String {
    let percent = |cycles: u64| if stats.cycles == 0 { 0.0 } else { 100.0 * cycles as f64 / stats.cycles as f64 };
    let mut text = format!(
        "# simulated cycles per function: {} on {} ({}, {} Hz)\n# {} cycles, {} instructions, {} functions\n",
        run.elf.display(),
        run.board.id,
        run.board.core,
        run.board.clock_hz,
        stats.cycles,
        stats.instructions,
        profile.functions.len()
    );
    text.push_str(&format!(
        "{:>14} {:>7} {:>14} {:>7} {:>10} {:>14}  function\n",
        "self_cycles", "self%", "total_cycles", "total%", "calls", "self_insns"
    ));
    let mut functions: Vec<_> = profile.functions.iter().collect();
    functions.sort_by(|a, b| {
        b.self_cycles.cmp(&a.self_cycles).then(b.total_cycles.cmp(&a.total_cycles)).then(a.name.cmp(&b.name))
    });
    for f in functions {
        text.push_str(&format!(
            "{:>14} {:>6.2}% {:>14} {:>6.2}% {:>10} {:>14}  {}\n",
            f.self_cycles,
            percent(f.self_cycles),
            f.total_cycles,
            percent(f.total_cycles),
            f.calls,
            f.self_instructions,
            f.name
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use tinybench_sim::{CoreKind, FunctionCost, RegionKind, RegionSpec, SimConfig, Simulator};

    use super::*;

    fn facts(board: &Board) -> RunFacts<'_> {
        RunFacts { elf: Path::new("prog.elf"), board, exit_code: Some(0), wall: Duration::from_millis(500) }
    }

    fn stats() -> SimStats {
        let mut stats = Simulator::new(SimConfig {
            core: CoreKind::CortexM4,
            clock_hz: 120_000_000,
            regions: vec![RegionSpec {
                name: "flash".into(),
                start: 0x0800_0000,
                size: 1024,
                kind: RegionKind::Flash,
                wait_states: 0,
            }],
        })
        .unwrap()
        .stats();
        stats.instructions = 3_000_000;
        stats.cycles = 4_000;
        stats.histogram = BTreeMap::from([("alu", 2_000_000), ("load", 1_000_000)]);
        stats
    }

    #[test]
    fn mips_is_millions_of_instructions_per_wall_second() {
        assert_eq!(mips(3_000_000, Duration::from_millis(500)), 6.0);
        assert_eq!(mips(3_000_000, Duration::ZERO), 0.0);
    }

    #[test]
    fn stats_json_has_the_documented_keys() {
        let board = Board::builtin("sim-m4").unwrap().unwrap();
        let json = stats_json(&facts(&board), &stats());
        assert_eq!(json["core"], "cortex-m4");
        assert_eq!(json["clock_hz"], 120_000_000);
        assert_eq!(json["exit_code"], 0);
        assert_eq!(json["instructions"], 3_000_000);
        assert_eq!(json["cycles"], 4_000);
        assert_eq!(json["wall_seconds"], 0.5);
        assert_eq!(json["mips"], 6.0);
        assert_eq!(json["histogram"]["load"], 1_000_000);
        let no_exit = RunFacts { exit_code: None, ..facts(&board) };
        assert!(stats_json(&no_exit, &stats())["exit_code"].is_null());
    }

    #[test]
    fn profile_table_is_sorted_by_self_cycles_with_shares() {
        let board = Board::builtin("sim-m4").unwrap().unwrap();
        let cost = |name: &str, self_cycles, total_cycles, calls| FunctionCost {
            name: name.to_owned(),
            self_cycles,
            total_cycles,
            self_instructions: self_cycles / 2,
            calls,
        };
        let profile = Profile {
            functions: vec![cost("main", 1_000, 4_000, 1), cost("kernel", 3_000, 3_000, 10)],
            folded: vec![("main".into(), 1_000), ("main;kernel".into(), 3_000)],
        };
        let table = profile_table(&facts(&board), &stats(), &profile);
        let expected = "\
# simulated cycles per function: prog.elf on sim-m4 (cortex-m4, 120000000 Hz)
# 4000 cycles, 3000000 instructions, 2 functions
   self_cycles   self%   total_cycles  total%      calls     self_insns  function
          3000  75.00%           3000  75.00%         10           1500  kernel
          1000  25.00%           4000 100.00%          1            500  main
";
        assert_eq!(table, expected);
        assert_eq!(profile.folded_text(), "main 1000\nmain;kernel 3000\n");
    }

    #[test]
    fn folded_file_sits_next_to_the_table() {
        assert_eq!(folded_path(Path::new("out/prof.txt")), PathBuf::from("out/prof.txt.folded"));
    }
}
