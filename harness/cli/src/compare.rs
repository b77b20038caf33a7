//! `tinybench compare BASELINE CURRENT`: two runs case by case, with the
//! regressions beyond the thresholds; exits 1 when there is one (the CI
//! gate). Writes `compare.md` into the current run's folder and, with
//! `--junit`, JUnit XML; `--update-baseline` then makes the current run the
//! baseline.

mod baseline;

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use tinybench_report::{DEFAULT_MAD_K, Thresholds, compare};
use tinybench_runner::RunResults;

use crate::exit::Exit;
use crate::{Failure, refuse_overwriting_an_input, say, tell};

#[derive(Args)]
pub struct CompareArgs {
    /// The baseline: a run folder, a baseline folder (reports/baselines/<config>) or a results.json
    baseline: PathBuf,
    /// The run to check against it: a run folder or its results.json
    current: PathBuf,
    /// How much worse each figure may get, as KEY=LIMIT pairs: latency and energy in percent of the
    /// baseline (latency=2%), flash and ram in bytes or percent (flash=256, ram=1%), accuracy in
    /// percentage points lost (accuracy=0.1). A key not given is 0: simulated and modeled figures must
    /// match exactly, measured ones stay within the baseline's spread (see --mad-k)
    #[arg(long, value_name = "latency=2%,energy=5%,flash=0,ram=0,accuracy=0.1")]
    threshold: Option<Thresholds>,
    /// Measured figures (a board's DWT cycles, an instrument's energy) regress only beyond the
    /// baseline's median + max(K x MAD, threshold), the MAD (unscaled) over the baseline's inferences.
    /// 3 x MAD is about 2 standard deviations of one inference, and the median judged varies less,
    /// so noise passes while a slowdown beyond the board's jitter fails
    #[arg(long, value_name = "K", default_value_t = DEFAULT_MAD_K)]
    mad_k: f64,
    /// Where to write the Markdown report (for a pull-request comment) [default: compare.md in the
    /// current run's folder]
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
    /// Also write JUnit XML to FILE: one test case per case, a failure for each regressed case
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// After comparing, copy the current run's results.json (and results.parquet, layers.parquet) into
    /// the BASELINE folder, creating it, with a README.md; exits 0 even with regressions
    #[arg(long)]
    update_baseline: bool,
}

/// The largest results.json read.
const MAX_RESULTS_BYTES: u64 = 256 << 20;

/// A run's results.json: `path` itself, or `path/results.json` for a folder.
fn results_file(path: &Path) -> PathBuf {
    if path.is_dir() { path.join("results.json") } else { path.to_owned() }
}

fn load(file: &Path) -> anyhow::Result<RunResults> {
    let bytes = tinybench_config::input::read_limited(file, MAX_RESULTS_BYTES, "results")
        .with_context(|| format!("{}: cannot read the run's results", file.display()))?;
    serde_json::from_slice(&bytes)
        .with_context(|| format!("{}: not a tinybench results.json (written by `tinybench run`)", file.display()))
}

/// The folder a run was given as: the folder itself, or the results.json's.
fn run_folder(path: &Path) -> PathBuf {
    if path.is_dir() {
        return path.to_owned();
    }
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    }
}

fn write(path: &Path, text: &str, what: &str) -> Result<(), Failure> {
    tinybench_runner::write_atomically(path, text.as_bytes())
        .with_context(|| format!("{}: cannot write the {what}", path.display()))
        .map_err(|e| Failure::new(Exit::WriteFailed, e))?;
    tell!("wrote {}", path.display());
    Ok(())
}

pub fn compare_runs(args: CompareArgs) -> Result<u8, Failure> {
    let bad_input = |e: anyhow::Error| Failure::new(Exit::BadInput, e);
    if !args.mad_k.is_finite() || args.mad_k < 0.0 {
        return Err(bad_input(anyhow::anyhow!("--mad-k {}: give a non-negative number, e.g. 3", args.mad_k)));
    }
    let current_file = results_file(&args.current);
    let current = load(&current_file).map_err(bad_input)?;
    // Checked before anything is compared or written, so a refused update changes nothing.
    let update = if args.update_baseline {
        Some(baseline::Target::check(&args.baseline, &run_folder(&args.current)).map_err(bad_input)?)
    } else {
        None
    };
    let baseline_file = results_file(&args.baseline);
    let baseline = match &update {
        // The first baseline: nothing to compare with yet.
        Some(target) if target.is_new() => None,
        _ if !baseline_file.exists() => {
            return Err(bad_input(anyhow::anyhow!(
                "{}: no results.json there, so no baseline to compare with; give a run or baseline folder, \
                 or make this run the first baseline: tinybench compare {} {} --update-baseline",
                baseline_file.display(),
                args.baseline.display(),
                args.current.display()
            )));
        }
        _ => Some(load(&baseline_file).map_err(bad_input)?),
    };
    let markdown = args.markdown.clone().unwrap_or_else(|| run_folder(&args.current).join("compare.md"));
    for output in [Some(&markdown), args.junit.as_ref()].into_iter().flatten() {
        refuse_overwriting_an_input(output, &[&current_file, &baseline_file])?;
    }

    let mut regressions = 0;
    if let Some(baseline) = &baseline {
        let comparison = compare(baseline, &current, &args.threshold.unwrap_or_default(), args.mad_k);
        say!("{}", comparison.render().trim_end());
        write(
            &markdown,
            &comparison.markdown(&args.baseline.display().to_string(), &args.current.display().to_string()),
            "comparison (Markdown)",
        )?;
        if let Some(junit) = &args.junit {
            write(junit, &comparison.junit(), "comparison (JUnit XML)")?;
        }
        regressions = comparison.regressions().count();
    } else {
        say!("{}: no baseline yet; this run becomes the first", args.baseline.display());
    }

    if let Some(target) = update {
        let written =
            target.update(&run_folder(&args.current), &current_file, &current, &args.baseline, &args.current)?;
        say!(
            "baseline updated: {} now holds {} from {}",
            target.folder().display(),
            written.join(", "),
            args.current.display()
        );
        if regressions > 0 {
            say!("the {regressions} regression(s) above are now the baseline's figures");
        }
        return Ok(Exit::Success.code());
    }
    if regressions == 0 {
        Ok(Exit::Success.code())
    } else {
        tell!("{regressions} regression(s) beyond the thresholds");
        Ok(Exit::BenchmarkFailed.code())
    }
}
