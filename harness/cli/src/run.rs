//! `tinybench run` and `tinybench config`.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, anyhow};
use clap::Args;
use tinybench_config::{RunConfig, TargetKind};
use tinybench_probe::ProbeRsTargets;
use tinybench_report::{FilesReporter, Reporter, TerminalReporter};
use tinybench_runner::folder::{self, FolderMode};
use tinybench_runner::{BenchEvent, RunOptions, Runner, SimTargets, TargetFactory};
use tinybench_target::StopFlag;

use crate::exit::Exit;
use crate::{Failure, say, tell};

#[derive(Args)]
pub struct RunArgs {
    /// Run configuration, e.g. configs/sim-m4.toml
    config: PathBuf,
    /// Folder for this run's results [default: a new reports/<config>-<UTC time>]; must not hold another run
    #[arg(long, value_name = "DIR", conflicts_with = "resume")]
    out: Option<PathBuf>,
    /// With --out: replace the earlier run in DIR (its files are deleted first)
    #[arg(long, requires = "out")]
    force: bool,
    /// Finish the interrupted run in DIR: cases it finished are kept when nothing they depend on changed
    /// (configuration entry, model and input files, firmware sources), the others run
    #[arg(long, value_name = "DIR")]
    resume: Option<PathBuf>,
    /// Print the cases the configuration expands to (name, workload, weights, kernels) and exit without building
    #[arg(long)]
    list: bool,
    /// Run only the cases whose name matches GLOB (`*`, `?`, `[...]`); repeat for several
    /// (not with --resume, which finishes every case of the run)
    #[arg(long, value_name = "GLOB", conflicts_with = "resume")]
    filter: Vec<String>,
    /// Print the firmware's log as it runs
    #[arg(short, long)]
    verbose: bool,
}

#[derive(Args)]
pub struct ConfigArgs {
    /// Print the default run configuration: every key of every table, commented, with defaults and units
    #[arg(long, required = true)]
    default: bool,
}

pub fn config(args: ConfigArgs) -> Result<u8, Failure> {
    debug_assert!(args.default, "clap requires --default");
    let _ = std::io::Write::write_all(&mut std::io::stdout(), tinybench_config::DEFAULT_RUN_CONFIG.as_bytes());
    Ok(Exit::Success.code())
}

pub fn run(args: RunArgs) -> Result<u8, Failure> {
    let bad_input = |e| Failure::new(Exit::BadInput, e);
    let mut config = RunConfig::from_file(&args.config).map_err(|e| bad_input(e.into()))?;
    if !args.filter.is_empty() {
        select(&mut config, &args.filter).map_err(bad_input)?;
    }
    if args.list {
        list(&config);
        return Ok(Exit::Success.code());
    }

    // Checks that need no run folder come first: a run that cannot build any
    // firmware leaves nothing behind and deletes no earlier run.
    let runner_failure = |e: tinybench_runner::RunnerError| Failure::new(Exit::of_failure(e.kind()), e);
    let mut runner = Runner::new(targets_for(&config), meters()).map_err(runner_failure)?;
    runner.check(&config, &mut |note| tell!("note: {note}")).map_err(runner_failure)?;

    // The run folder is settled before anything runs: never into another run.
    let (run_dir, mode) = match (&args.out, &args.resume) {
        (Some(out), _) => (out.clone(), if args.force { FolderMode::Replace } else { FolderMode::New }),
        (None, Some(dir)) => (dir.clone(), FolderMode::Resume),
        (None, None) => {
            let parent = config.report.out_dir.clone().unwrap_or_else(|| PathBuf::from("reports"));
            let dir = folder::create_unique(&parent, &config.name, &args.config).map_err(folder_failure)?;
            (dir, FolderMode::New)
        }
    };
    if args.out.is_some() || args.resume.is_some() {
        folder::prepare(&run_dir, mode, &args.config).map_err(folder_failure)?;
    }

    let stop = StopFlag::new();
    if let Err(e) = watch_signals(&stop) {
        tell!("warning: cannot watch for Ctrl-C and SIGTERM ({e}); an interrupted run will not be marked as such");
    }
    let mut terminal = TerminalReporter::new(std::io::stdout(), std::io::stderr(), args.verbose);
    if std::io::stderr().is_terminal() {
        terminal = terminal.with_progress_bar(indicatif::ProgressDrawTarget::stderr());
    }
    let mut files = FilesReporter::new(&run_dir);
    let mut io_error: Option<std::io::Error> = None;
    let mut on_event = |event: &BenchEvent| {
        // Files first: they are the results. The terminal may be gone (a
        // closed pipe, a full device); that loses nothing.
        if let Err(e) = files.on_event(event) {
            io_error.get_or_insert(e);
        }
        let _ = terminal.on_event(event);
    };
    let options = RunOptions { stop: stop.clone(), resume: mode == FolderMode::Resume };
    let results = runner.run(&config, &run_dir, &options, &mut on_event).map_err(runner_failure)?;
    if let Some(e) = io_error {
        return Err(Failure::new(
            Exit::WriteFailed,
            anyhow::Error::new(e).context(format!("cannot write results to {}", run_dir.display())),
        ));
    }
    let mut written: Vec<String> = files.paths().iter().map(|p| p.display().to_string()).collect();
    let plots = run_dir.join(tinybench_report::PLOTS_DIR);
    if plots.is_dir() {
        written.push(format!("{}/", plots.display()));
    }
    tell!("\nwrote {}", written.join(", "));
    if results.interrupted && stop.is_raised() {
        let signal = stop.signal().unwrap_or(signal_hook::consts::SIGINT as usize);
        return Err(Failure::new(
            Exit::of_signal(signal),
            anyhow!(
                "interrupted: {} of {} cases finished (kept in {}); `tinybench run {} --resume {}` finishes the run",
                results.cases.len() - results.missing.len(),
                results.cases.len(),
                run_dir.display(),
                args.config.display(),
                run_dir.display()
            ),
        ));
    }
    // The worst failure decides the exit code.
    let worst = results.failures.iter().map(|f| Exit::of_failure(f.kind)).max_by_key(|e| e.code());
    if let Some(exit) = worst {
        // One failure: its reason fits the line; several: their names and kinds.
        let failed = match results.failures.as_slice() {
            [one] => format!("{}: {}", one.case, one.reason()),
            all => all.iter().map(|f| format!("{} ({})", f.case, f.kind.as_str())).collect::<Vec<_>>().join(", "),
        };
        // A run that ended early (the target lost) says how to finish it.
        let resume = match results.missing.len() {
            0 => String::new(),
            n => format!(
                "; {n} not run: `tinybench run {} --resume {}` runs them",
                args.config.display(),
                run_dir.display()
            ),
        };
        return Err(Failure::new(
            exit,
            anyhow!("{} of {} cases failed: {failed}{resume}", results.failures.len(), results.cases.len()),
        ));
    }
    Ok(Exit::Success.code())
}

/// The backend `[target]` names.
fn targets_for(config: &RunConfig) -> Box<dyn TargetFactory> {
    match &config.target {
        TargetKind::Sim => Box::new(SimTargets),
        TargetKind::ProbeRs(settings) => Box::new(ProbeRsTargets::new(settings.clone())),
    }
}

fn folder_failure(e: folder::FolderError) -> Failure {
    Failure::new(if e.is_bad_input() { Exit::BadInput } else { Exit::WriteFailed }, e)
}

/// Keeps the cases whose name matches one of `globs`.
fn select(config: &mut RunConfig, globs: &[String]) -> anyhow::Result<()> {
    let patterns = globs
        .iter()
        .map(|g| glob::Pattern::new(g).with_context(|| format!("--filter {g}: not a valid glob")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let all: Vec<String> = config.cases.iter().map(|c| c.name.clone()).collect();
    config.cases.retain(|c| patterns.iter().any(|p| p.matches(&c.name)));
    if config.cases.is_empty() {
        return Err(anyhow!(
            "--filter {} matches none of the {} cases of {} ({}); `--list` shows them",
            globs.join(" --filter "),
            all.len(),
            config.path.display(),
            all.join(", ")
        ));
    }
    Ok(())
}

/// One line per case: what `run` would build.
fn list(config: &RunConfig) {
    let width = config.cases.iter().map(|c| c.name.len()).max().unwrap_or(0);
    for case in &config.cases {
        let what = match &case.workload {
            // A .tbm keeps the weights it was imported with; `weights` applies to .tflite.
            tinybench_config::Workload::Model { path, weights, .. }
                if path.extension().is_some_and(|e| e == "tflite") =>
            {
                format!("model {} (imported with {} weights)", path.display(), weights_name(*weights))
            }
            tinybench_config::Workload::Model { path, .. } => format!("model {}", path.display()),
            tinybench_config::Workload::Conv2d3x3 { height, width, in_channels, out_channels } => {
                format!("conv2d-3x3 {height}x{width}x{in_channels}:{out_channels}")
            }
        };
        say!("{:width$}  {:9}  {what}", case.name, case.kernels.as_str());
    }
}

fn weights_name(weights: tinybench_config::WeightFormat) -> &'static str {
    match weights {
        tinybench_config::WeightFormat::Int8 => "int8",
        tinybench_config::WeightFormat::Int4 => "int4",
    }
}

/// The first Ctrl-C or SIGTERM raises `stop` with its number (the run ends
/// after writing what finished); a second one, of either kind, ends the
/// process at once. Handlers run in registration order, so the shutdown check
/// sees the shared flag before this signal sets it, and a second signal
/// never overwrites the first one's number.
fn watch_signals(stop: &StopFlag) -> std::io::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let already = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    for signal in [SIGINT, SIGTERM] {
        let exit = Exit::of_signal(signal as usize).code();
        signal_hook::flag::register_conditional_shutdown(signal, i32::from(exit), already.clone())?;
        signal_hook::flag::register_usize(signal, stop.cell(), signal as usize)?;
        signal_hook::flag::register(signal, already.clone())?;
    }
    Ok(())
}

/// What opens the instruments `[power]` names.
fn meters() -> Box<dyn tinybench_power::MeterFactory> {
    Box::new(tinybench_instruments::Instruments)
}
