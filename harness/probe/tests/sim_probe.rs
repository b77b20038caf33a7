//! The probe-rs backend against failures a board can have, injected into
//! the simulated probe: another chip than the board file's, a flash that
//! does not verify, a probe unplugged mid-run. Each is one clear line in the
//! case's failure; the run goes on, except when the probe is gone: then it
//! stops, keeping what finished. The real benchmark firmware is built.

mod support;

use tinybench_probe::sim_probe::{SimProbeFaults, Unplug, WildJump};
use tinybench_runner::{FailureKind, RunResults};

fn run_with(faults: SimProbeFaults) -> RunResults {
    run_cases(&["tiny"], faults)
}

fn run_cases(cases: &[&str], faults: SimProbeFaults) -> RunResults {
    let dir = tempfile::tempdir().unwrap();
    support::run_cases_in(dir.path(), cases, faults)
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
    let results =
        run_with(SimProbeFaults { unplug: Some(Unplug { session: 0, after_polls: 3 }), ..Default::default() });
    let error = &results.failures[0].error;
    assert!(error.starts_with("debug probe: "), "{error}");
    assert!(error.contains("unplugged"), "{error}");
}

/// Unplugged during the second case: the first case's result is kept, the
/// second fails with the probe's error, the third finds no probe and the
/// run stops there (no firmware built for nothing); the fourth is not run.
#[test]
fn a_probe_unplugged_mid_run_keeps_the_finished_cases_and_stops() {
    let unplug = Some(Unplug { session: 1, after_polls: 3 });
    let results = run_cases(&["first", "second", "third", "fourth"], SimProbeFaults { unplug, ..Default::default() });
    assert_eq!(results.results.iter().map(|r| r.case.as_str()).collect::<Vec<_>>(), ["first"]);
    let failures: Vec<(&str, FailureKind)> = results.failures.iter().map(|f| (f.case.as_str(), f.kind)).collect();
    assert_eq!(failures, [("second", FailureKind::Target), ("third", FailureKind::Unreachable)]);
    assert!(results.failures[0].error.contains("unplugged"), "{}", results.failures[0].error);
    let lost = &results.failures[1].error;
    assert!(lost.starts_with("the debug probe tinybench simulator 1209:0001:sim-m4-faulty-"), "{lost}");
    assert!(lost.ends_with("is no longer connected; plug it in again"), "{lost}");
    assert_eq!(results.missing, ["fourth"]);
    assert!(results.interrupted && !results.complete);
}

/// A probe this user may not open: marked in the list, and the run stops
/// before building with the fix (udev rules) in its one line.
#[test]
fn a_probe_without_permission_is_marked_and_the_run_names_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let err =
        support::try_run_cases_in(dir.path(), &["tiny"], SimProbeFaults { no_permission: true, ..Default::default() })
            .unwrap_err();
    assert_eq!(err.kind(), FailureKind::Unreachable);
    let line = err.to_string();
    assert!(
        line.starts_with("no permission to open the debug probe tinybench simulator 1209:0001:sim-m4-faulty-"),
        "{line}"
    );
    assert!(
        line.contains("[no permission]; install the udev rules: sudo cp scripts/99-tinybench-probes.rules"),
        "{line}"
    );
    assert!(!dir.path().join("out").exists(), "nothing built");
    let listed = tinybench_probe::list::list_probes(&tinybench_probe::list::Lister::new());
    assert!(
        listed.iter().any(|p| p.permission_denied && p.to_string().ends_with("(tinybench-sim) [no permission]")),
        "{listed:?}"
    );
}

/// A fault on the board: the halted PC with its symbol, the fault status in
/// words, and the log the firmware wrote before it, kept beside the case.
#[test]
fn a_fault_names_the_pc_and_the_fault_and_keeps_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let wild_jump = Some(WildJump { after_polls: 2, address: 0x6000_0000 });
    let results = support::run_cases_in(dir.path(), &["tiny"], SimProbeFaults { wild_jump, ..Default::default() });
    let failure = &results.failures[0];
    assert_eq!(failure.kind, FailureKind::Target);
    assert_eq!(
        failure.error,
        "the core halted on a fault at pc 0x60000000 in an unknown function: HardFault (FORCED: an escalated \
         fault): IBUSERR (bus error on instruction fetch)"
    );
    let log = std::fs::read_to_string(dir.path().join("out/cases/tiny/firmware.log")).unwrap();
    assert!(log.contains("INFO"), "the log so far: {log}");
}
