//! `tinybench report RUN_DIR`: rebuilds a run's reports (results.csv,
//! report.md, report.html, plots/) from its Parquet tables alone, as the run
//! wrote them; with `--out DIR`, somewhere else. `tinybench trend RUN_DIR...`
//! plots each case's figures across runs.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use tinybench_report::plots::TrendMetric;

use crate::exit::Exit;
use crate::{Failure, say};

#[derive(Args)]
pub struct ReportArgs {
    /// A run folder (holding results.parquet and layers.parquet)
    run_dir: PathBuf,
    /// Write the reports here instead of into the run folder
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

pub fn report(args: ReportArgs) -> Result<u8, Failure> {
    let results = tinybench_report::tables::read_tables(&args.run_dir)
        .context("cannot read the run's tables (a run folder written by `tinybench run`)")
        .map_err(|e| Failure::new(Exit::BadInput, e))?;
    let out = args.out.unwrap_or_else(|| args.run_dir.clone());
    std::fs::create_dir_all(&out)
        .with_context(|| format!("{}: cannot create the output folder", out.display()))
        .map_err(|e| Failure::new(Exit::WriteFailed, e))?;
    let written = tinybench_report::write_reports(&args.run_dir, &out, &results).map_err(|e| {
        let exit = match e {
            tinybench_report::ReportError::Io { .. } => Exit::WriteFailed,
            _ => Exit::BadInput,
        };
        Failure::new(exit, e)
    })?;
    for path in written {
        say!("{}", path.display());
    }
    Ok(Exit::Success.code())
}

#[derive(Args)]
pub struct TrendArgs {
    /// Run folders (holding results.parquet), in any order: they are sorted by the time they ran
    #[arg(required = true, num_args = 1..)]
    run_dirs: Vec<PathBuf>,
    /// The figures to follow (default: all of them)
    #[arg(long, value_enum)]
    metric: Vec<Metric>,
    /// Where to write trend-<metric>.svg and .png
    #[arg(long, value_name = "DIR", default_value = "trend")]
    out: PathBuf,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Metric {
    Latency,
    Energy,
    Flash,
    Ram,
    Accuracy,
}

impl From<Metric> for TrendMetric {
    fn from(m: Metric) -> Self {
        match m {
            Metric::Latency => TrendMetric::Latency,
            Metric::Energy => TrendMetric::Energy,
            Metric::Flash => TrendMetric::Flash,
            Metric::Ram => TrendMetric::Ram,
            Metric::Accuracy => TrendMetric::Accuracy,
        }
    }
}

/// `tinybench trend RUN_DIR...`: each case's figures across runs (the
/// nightly trend), one plot per metric.
pub fn trend(args: TrendArgs) -> Result<u8, Failure> {
    let mut runs = Vec::new();
    for dir in &args.run_dirs {
        let run = tinybench_report::tables::read_tables(dir)
            .with_context(|| format!("{}: cannot read the run's tables", dir.display()))
            .map_err(|e| Failure::new(Exit::BadInput, e))?;
        runs.push(run);
    }
    // Oldest first, by the time each run's first case ran (RFC 3339 sorts as text).
    runs.sort_by(|a, b| first_timestamp(a).cmp(first_timestamp(b)));
    let metrics: Vec<TrendMetric> = if args.metric.is_empty() {
        TrendMetric::ALL.to_vec()
    } else {
        args.metric.iter().map(|&m| m.into()).collect()
    };
    let write_failed = |e: anyhow::Error| Failure::new(Exit::WriteFailed, e);
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("{}: cannot create the output folder", args.out.display()))
        .map_err(write_failed)?;
    for metric in metrics {
        let plot = tinybench_report::plots::trend(&runs, metric).map_err(|e| Failure::new(Exit::WriteFailed, e))?;
        for (ext, bytes) in [("svg", plot.svg.as_bytes()), ("png", plot.png.as_slice())] {
            let path = args.out.join(format!("{}.{ext}", plot.id));
            tinybench_runner::write_atomically(&path, bytes)
                .with_context(|| format!("{}: cannot write the plot", path.display()))
                .map_err(write_failed)?;
            say!("{}", path.display());
        }
    }
    Ok(Exit::Success.code())
}

fn first_timestamp(run: &tinybench_runner::RunResults) -> &str {
    run.results.first().map_or("", |r| r.provenance.timestamp.as_str())
}
