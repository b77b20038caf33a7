//! The probe-rs backend against failures a board can have, injected into
//! the simulated probe: another chip than the board file's, a flash that
//! does not verify, a probe unplugged mid-run. Each is one clear line in the
//! case's failure; the run goes on. The real benchmark firmware is built.

use std::path::Path;

use tinybench_config::{RunConfig, TargetKind};
use tinybench_probe::ProbeRsTargets;
use tinybench_probe::sim_probe::SimProbeFaults;
use tinybench_runner::{RunOptions, RunResults, Runner};

fn config(dir: &Path) -> RunConfig {
    let board = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/boards/sim-m4.toml");
    let text = format!(
        "[board]\nfile = \"{}\"\n[target]\nkind = \"probe-rs\"\nprobe = \"sim\"\n[power]\nkind = \"sim\"\n\
         supply-mv = 1800\nrun-current-ma = 10.0\nsleep-current-ma = 0.01\n[run]\nwarmup = 0\niterations = 2\n\
         [[case]]\nname = \"tiny\"\nworkload = \"conv2d-3x3\"\ninput-shape = [4, 4, 2]\nout-channels = 2\n",
        board.display()
    );
    std::fs::write(dir.join("run.toml"), text).unwrap();
    RunConfig::from_file(&dir.join("run.toml")).unwrap()
}

fn run_with(faults: SimProbeFaults) -> RunResults {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let TargetKind::ProbeRs(settings) = config.target.clone() else { panic!("a probe-rs config") };
    let targets = ProbeRsTargets::new(settings).with_sim_faults(faults);
    let mut runner = Runner::new(&config, Box::new(targets)).unwrap();
    runner.run(&config, &dir.path().join("out"), &RunOptions::default(), &mut |_| {}).unwrap()
}

#[test]
fn without_faults_the_case_runs() {
    let results = run_with(SimProbeFaults::default());
    assert!(results.failures.is_empty(), "{:?}", results.failures);
    assert_eq!(results.results[0].provenance.target, "probe-rs");
}

#[test]
fn another_chip_than_the_board_files_is_named() {
    let results = run_with(SimProbeFaults { cpuid: Some(0x411F_C272), ..Default::default() });
    let error = &results.failures[0].error;
    assert!(
        error.starts_with("the attached chip is a Cortex-M7 (CPUID 0x411fc272) but the board file says Cortex-M4"),
        "{error}"
    );
}

#[test]
fn a_flash_that_does_not_verify_is_named() {
    let results = run_with(SimProbeFaults { corrupt_flash_writes: true, ..Default::default() });
    let error = &results.failures[0].error;
    assert!(error.starts_with("flashing the firmware failed: "), "{error}");
    assert!(error.contains("verif"), "{error}");
}

#[test]
fn a_probe_unplugged_mid_run_is_named() {
    let results = run_with(SimProbeFaults { disconnect_after_polls: Some(3), ..Default::default() });
    let error = &results.failures[0].error;
    assert!(error.starts_with("debug probe: "), "{error}");
    assert!(error.contains("unplugged"), "{error}");
}
