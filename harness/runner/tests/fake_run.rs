//! Whole runs driven by fakes: a [`FakeBuilder`] instead of cargo, scripted
//! [`FakeTarget`]s instead of the simulator or a board. The runner's own
//! checks (protocol, output against the host, provenance, labelling) run
//! unchanged.

use std::path::Path;

use tinybench_config::{CaseConfig, RunConfig};
use tinybench_proto::{MAX_FRAME_BYTES, MAX_OUTPUT_CHUNK_BYTES, Message, RunStatus};
use tinybench_runner::fake::{FakeBuilder, FakeTargets};
use tinybench_runner::{BenchEvent, RunOptions, RunResults, Runner};
use tinybench_target::{FakeStep, FakeTarget};

const CYCLES: u32 = 12_345;

/// Two small conv cases on the shipped sim-m4 board.
fn config(dir: &Path) -> RunConfig {
    let board = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/boards/sim-m4.toml");
    let case = |name: &str| {
        format!("[[case]]\nname = \"{name}\"\nworkload = \"conv2d-3x3\"\ninput-shape = [4, 4, 2]\nout-channels = 3\n")
    };
    let text = format!(
        "[board]\nfile = \"{}\"\n[target]\nkind = \"sim\"\n[power]\nkind = \"sim\"\nsupply-mv = 1800\n\
         run-current-ma = 10.0\nsleep-current-ma = 0.01\n[run]\nwarmup = 0\niterations = 2\n{}{}",
        board.display(),
        case("first"),
        case("second")
    );
    std::fs::write(dir.join("run.toml"), text).unwrap();
    RunConfig::from_file(&dir.join("run.toml")).unwrap()
}

/// What the benchmark firmware sends for `case`: the host's own output for
/// the case's workload, two samples of `CYCLES` cycles each.
fn firmware_frames(case: &CaseConfig, board: &tinybench_config::Board) -> Vec<u8> {
    let scratch = tempfile::tempdir().unwrap();
    let workload = tinybench_runner::workload::prepare(case, board, scratch.path()).unwrap();
    let output: Vec<u8> = workload.expected_output.iter().map(|&v| v as u8).collect();
    let mut messages = vec![
        Message::Hello { board: "sim-m4", core_clock_hz: 120_000_000, case_count: 1 },
        Message::CaseStart {
            case: 0,
            name: "conv2d-3x3",
            warmup: 0,
            iterations: 2,
            macs: 864,
            output_len: output.len() as u32,
        },
        Message::Sample { case: 0, iteration: 0, cycles: CYCLES },
        Message::Sample { case: 0, iteration: 1, cycles: CYCLES },
    ];
    for (i, chunk) in output.chunks(MAX_OUTPUT_CHUNK_BYTES).enumerate() {
        messages.push(Message::OutputChunk { case: 0, offset: (i * MAX_OUTPUT_CHUNK_BYTES) as u32, bytes: chunk });
    }
    messages.push(Message::CaseEnd { case: 0, output_checksum: tinybench_proto::checksum(&output) });
    messages.push(Message::Memory { stack_peak_bytes: 512, stack_size_bytes: 4096 });
    messages.push(Message::Done { status: RunStatus::Ok });
    let mut stream = Vec::new();
    for m in &messages {
        let mut buf = [0u8; MAX_FRAME_BYTES];
        stream.extend_from_slice(tinybench_proto::encode(m, &mut buf).unwrap());
    }
    stream
}

/// Runs `config` with fakes; `script` turns a case and its firmware's frames
/// into the target that runs it.
fn run_with_fakes(
    config: &RunConfig,
    dir: &Path,
    script: impl Fn(&CaseConfig, Vec<u8>) -> FakeTarget + 'static,
) -> (RunResults, Vec<BenchEvent>) {
    let board = config.board.clone();
    let targets = FakeTargets::new(config, move |case| script(case, firmware_frames(case, &board)));
    let mut runner = Runner {
        builder: Box::new(FakeBuilder::default()),
        targets: Box::new(targets),
        meter: tinybench_power::meter_for(&config.power),
    };
    let mut events = Vec::new();
    let results =
        runner.run(config, &dir.join("out"), &RunOptions::default(), &mut |e| events.push(e.clone())).unwrap();
    (results, events)
}

fn exits(frames: Vec<u8>) -> Vec<FakeStep> {
    vec![
        FakeStep::Progress { cycles: 1_000 },
        FakeStep::Rtt { channel: 1, bytes: frames },
        FakeStep::Exit { code: 0, cycles: 50_000 },
    ]
}

#[test]
fn a_whole_run_on_fakes_is_checked_and_labelled_simulated() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let (results, events) = run_with_fakes(&config, dir.path(), |_, frames| FakeTarget::new(exits(frames)));
    assert!(results.failures.is_empty(), "{:?}", results.failures);
    assert_eq!(results.results.len(), 2);
    let r = &results.results[0];
    assert_eq!(r.cycles_per_iteration, [CYCLES, CYCLES]);
    assert!(r.checksum_ok);
    assert_eq!(r.provenance.timing, "simulated (cortex-m4 cycle model)");
    assert_eq!(r.provenance.target, "fake");
    assert_eq!(r.energy.provenance.as_str(), "modeled");
    assert!(events.iter().any(|e| matches!(e, BenchEvent::Progress { cycles: 1_000, .. })));
    assert!(dir.path().join("out/cases/second/result.json").is_file());
}

#[test]
fn a_board_measures_its_cycles() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let (results, _) = run_with_fakes(&config, dir.path(), |_, frames| FakeTarget::new(exits(frames)).as_hardware());
    let r = &results.results[0];
    assert_eq!(r.provenance.timing, "measured (DWT)");
    // The energy still comes from the modeled supply, and says so.
    assert_eq!(r.energy.provenance.as_str(), "modeled");
}

#[test]
fn target_failures_fail_their_case_and_keep_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let endings = [
        FakeStep::Fault {
            pc: 0x0800_0100,
            symbol: "kernel".into(),
            detail: "HardFault (FORCED), BusFault at 0x60000000".into(),
        },
        FakeStep::ProbeError("USB device disconnected".into()),
        FakeStep::Timeout { pc: 0x0800_0200, symbol: "spin".into() },
    ];
    for ending in endings {
        let expected = ending.clone();
        let (results, _) = run_with_fakes(&config, dir.path(), move |case, frames| {
            let mut steps = vec![FakeStep::Rtt { channel: 1, bytes: frames }];
            if case.name == "first" {
                steps = vec![expected.clone()];
            } else {
                steps.push(FakeStep::Exit { code: 0, cycles: 1 });
            }
            FakeTarget::new(steps).as_hardware()
        });
        assert_eq!(results.failures.len(), 1, "{ending:?}");
        let failure = &results.failures[0];
        assert_eq!((failure.case.as_str(), failure.kind.as_str()), ("first", "target"));
        let expected_text = match &ending {
            FakeStep::Fault { .. } => "HardFault (FORCED)",
            FakeStep::ProbeError(_) => "debug probe: USB device disconnected",
            _ => "raise [run] timeout-s",
        };
        assert!(failure.error.contains(expected_text), "{}", failure.error);
        assert_eq!(results.results.len(), 1, "the second case still ran");
        std::fs::remove_dir_all(dir.path().join("out")).unwrap();
    }
}
