//! `tinybench run`.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use tinybench_config::RunConfig;
use tinybench_report::{FilesReporter, Reporter, TerminalReporter};
use tinybench_runner::{BenchEvent, FailureKind};

use crate::{EXIT_BAD_INPUT, EXIT_IO, Failure};

#[derive(Args)]
pub struct RunArgs {
    /// Run configuration, e.g. configs/sim-m4.toml
    config: PathBuf,
    /// Folder for this run's results [default: reports/<config>-<UTC time>]
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Print the firmware's log as it runs
    #[arg(short, long)]
    verbose: bool,
}

pub fn run(args: RunArgs) -> Result<u8, Failure> {
    let config = RunConfig::from_file(&args.config).map_err(|e| Failure::new(EXIT_BAD_INPUT, e))?;
    let run_dir = args.out.unwrap_or_else(|| {
        let stamp = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string().replace(':', "");
        let parent = config.report.out_dir.clone().unwrap_or_else(|| PathBuf::from("reports"));
        parent.join(format!("{}-{}", config.name, stamp.trim_end_matches('Z')))
    });
    std::fs::create_dir_all(&run_dir)
        .with_context(|| format!("cannot create the run folder {}", run_dir.display()))
        .map_err(|e| Failure::new(EXIT_IO, e))?;

    let mut terminal = TerminalReporter::new(std::io::stdout(), std::io::stderr(), args.verbose);
    let mut files = FilesReporter::new(&run_dir, &config.path.display().to_string(), &config.board.id);
    let mut io_error: Option<std::io::Error> = None;
    let mut on_event = |event: &BenchEvent| {
        // The terminal may be gone (a closed pipe); files must not be.
        let _ = terminal.on_event(event);
        if let Err(e) = files.on_event(event) {
            io_error.get_or_insert(e);
        }
    };
    let results = tinybench_runner::run(&config, &run_dir, &mut on_event).map_err(|e| {
        let code = exit_code(e.kind());
        Failure::new(code, e)
    })?;
    if let Some(e) = io_error {
        return Err(Failure::new(
            EXIT_IO,
            anyhow::Error::new(e).context(format!("cannot write results to {}", run_dir.display())),
        ));
    }
    eprintln!("\nwrote {}", files.paths().map(|p| p.display().to_string()).join(", "));
    // The worst failure decides the exit code.
    let code = results.failures.iter().map(|f| exit_code(f.kind)).max().unwrap_or(0);
    if code != 0 {
        let failed: Vec<&str> = results.failures.iter().map(|f| f.case.as_str()).collect();
        return Err(Failure::new(
            code,
            anyhow::anyhow!("{} of {} cases failed: {}", failed.len(), config.cases.len(), failed.join(", ")),
        ));
    }
    Ok(0)
}

fn exit_code(kind: FailureKind) -> u8 {
    match kind {
        FailureKind::Benchmark => 1,
        FailureKind::Build => 3,
        FailureKind::Target => 4,
        FailureKind::Io => 5,
        FailureKind::Input => 2,
    }
}
