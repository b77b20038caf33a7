//! `tinybench report RUN_DIR`: rebuilds a run's reports (results.csv,
//! report.md, report.html, plots/) from its Parquet tables alone, as the run
//! wrote them; with `--out DIR`, somewhere else.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

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
