//! Runs through the probe-rs backend on the simulated probe (sim-m4), with
//! the real benchmark firmware built for each case.

use std::path::Path;

use tinybench_config::{RunConfig, TargetKind};
use tinybench_probe::ProbeRsTargets;
use tinybench_probe::sim_probe::SimProbeFaults;
use tinybench_runner::{RunOptions, RunResults, Runner, RunnerError};

/// A configuration in `dir` with a tiny convolution case for each name.
pub fn config(dir: &Path, cases: &[&str]) -> RunConfig {
    let board = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/boards/sim-m4.toml");
    let mut text = format!(
        "[board]\nfile = \"{}\"\n[target]\nkind = \"probe-rs\"\nprobe = \"sim\"\n[power]\nkind = \"none\"\n\
         [run]\nwarmup = 0\niterations = 2\n",
        board.display()
    );
    for name in cases {
        text += &format!(
            "[[case]]\nname = \"{name}\"\nworkload = \"conv2d-3x3\"\ninput-shape = [4, 4, 2]\nout-channels = 2\n"
        );
    }
    std::fs::write(dir.join("run.toml"), text).unwrap();
    RunConfig::from_file(&dir.join("run.toml")).unwrap()
}

/// Runs `cases` in `dir` (results in `dir/out`) on a simulated probe with `faults`.
pub fn run_cases_in(dir: &Path, cases: &[&str], faults: SimProbeFaults) -> RunResults {
    try_run_cases_in(dir, cases, faults).unwrap()
}

/// The run, or why it could not start.
pub fn try_run_cases_in(dir: &Path, cases: &[&str], faults: SimProbeFaults) -> Result<RunResults, RunnerError> {
    let config = config(dir, cases);
    let TargetKind::ProbeRs(settings) = config.target.clone() else { panic!("a probe-rs config") };
    let targets = ProbeRsTargets::new(settings).with_sim_faults(faults);
    let mut runner = Runner::new(Box::new(targets), Box::new(tinybench_power::NoInstruments)).unwrap();
    runner.run(&config, &dir.join("out"), &RunOptions::default(), &mut |_| {})
}
