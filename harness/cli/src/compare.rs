//! `tinybench compare BASELINE CURRENT`: two runs case by case, with the
//! regressions beyond the thresholds; exits 8 when there is one (the CI gate).

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use tinybench_report::{TableStyle, Thresholds, compare};
use tinybench_runner::RunResults;

use crate::exit::Exit;
use crate::{Failure, say, tell};

#[derive(Args)]
pub struct CompareArgs {
    /// The baseline: a run folder (or its results.json)
    baseline: PathBuf,
    /// The run to check against it: a run folder (or its results.json)
    current: PathBuf,
    /// Largest increase of a case's median cycles, percent
    #[arg(long, default_value_t = 1.0)]
    max_cycles_pct: f64,
    /// Largest increase of a case's median energy per inference, percent
    #[arg(long, default_value_t = 2.0)]
    max_energy_pct: f64,
    /// Largest increase of a case's flash, bytes
    #[arg(long, default_value_t = 0)]
    max_flash_bytes: u64,
    /// Largest loss of host accuracy, percentage points
    #[arg(long, default_value_t = 0.0)]
    max_accuracy_drop: f64,
    /// Print the table as Markdown (for a pull-request comment)
    #[arg(long)]
    markdown: bool,
}

/// The largest results.json read.
const MAX_RESULTS_BYTES: u64 = 256 << 20;

fn load(path: &Path) -> anyhow::Result<RunResults> {
    let file = if path.is_dir() { path.join("results.json") } else { path.to_owned() };
    let bytes = tinybench_config::input::read_limited(&file, MAX_RESULTS_BYTES, "results")
        .with_context(|| format!("{}: cannot read the run's results", file.display()))?;
    serde_json::from_slice(&bytes)
        .with_context(|| format!("{}: not a tinybench results.json (written by `tinybench run`)", file.display()))
}

pub fn compare_runs(args: CompareArgs) -> Result<u8, Failure> {
    let bad_input = |e: anyhow::Error| Failure::new(Exit::BadInput, e);
    let baseline = load(&args.baseline).map_err(bad_input)?;
    let current = load(&args.current).map_err(bad_input)?;
    for (value, flag) in [
        (args.max_cycles_pct, "--max-cycles-pct"),
        (args.max_energy_pct, "--max-energy-pct"),
        (args.max_accuracy_drop, "--max-accuracy-drop"),
    ] {
        if !value.is_finite() || value < 0.0 {
            return Err(bad_input(anyhow::anyhow!("{flag} {value}: give a non-negative number")));
        }
    }
    let limits = Thresholds {
        cycles_pct: args.max_cycles_pct,
        energy_pct: args.max_energy_pct,
        flash_bytes: args.max_flash_bytes,
        accuracy_points: args.max_accuracy_drop,
    };
    let comparison = compare(&baseline, &current, &limits);
    say!("{}", comparison.render(if args.markdown { TableStyle::Markdown } else { TableStyle::Terminal }).trim_end());
    if comparison.regressions.is_empty() {
        Ok(Exit::Success.code())
    } else {
        tell!("{} regression(s) beyond the thresholds", comparison.regressions.len());
        Ok(Exit::Regression.code())
    }
}
