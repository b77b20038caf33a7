//! Whole runs driven by fakes: a [`FakeBuilder`] instead of cargo, scripted
//! [`FakeTarget`]s instead of the simulator or a board. The runner's own
//! checks (protocol, output against the host, provenance, labelling) run
//! unchanged.

use std::path::Path;

use tinybench_config::{CaseConfig, RunConfig};
use tinybench_power::{Capture, FakeMeter, FakeMeters, MarkerTrack, SampleKind, Timebase, Voltage};
use tinybench_proto::{MAX_FRAME_BYTES, MAX_OUTPUT_CHUNK_BYTES, Message, RunStatus};
use tinybench_runner::fake::{FakeBuilder, FakeTargets};
use tinybench_runner::power::Meters;
use tinybench_runner::{BenchEvent, RunOptions, RunResults, Runner};
use tinybench_target::{FakeStep, FakeTarget};

const CYCLES: u32 = 12_000;
/// The idle wait the firmware reports.
const IDLE_MS: u32 = 1;

/// Two small conv cases on the shipped sim-m4 board, no energy figures.
fn config(dir: &Path) -> RunConfig {
    config_with_power(dir, "[power]\nkind = \"none\"\n")
}

/// The same with `power` as its `[power]` table.
fn config_with_power(dir: &Path, power: &str) -> RunConfig {
    let board = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/boards/sim-m4.toml");
    let case = |name: &str| {
        format!("[[case]]\nname = \"{name}\"\nworkload = \"conv2d-3x3\"\ninput-shape = [4, 4, 2]\nout-channels = 3\n")
    };
    let text = format!(
        "[board]\nfile = \"{}\"\n[target]\nkind = \"sim\"\n{power}[run]\nwarmup = 0\niterations = 2\n{}{}",
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
        Message::PowerSetup { case: 0, marker_write_cycles: 1, idle_ms: IDLE_MS, layer_marks: 0 },
        Message::Sample { case: 0, iteration: 0, cycles: CYCLES, start_cycles: 1_000 },
        Message::Sample { case: 0, iteration: 1, cycles: CYCLES, start_cycles: 1_000 + 2 * CYCLES },
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
    run_with_meters(config, dir, FakeMeters::default(), script)
}

fn run_with_meters(
    config: &RunConfig,
    dir: &Path,
    meters: FakeMeters,
    script: impl Fn(&CaseConfig, Vec<u8>) -> FakeTarget + 'static,
) -> (RunResults, Vec<BenchEvent>) {
    let board = config.board.clone();
    let targets = FakeTargets::new(config, move |case| script(case, firmware_frames(case, &board)));
    let mut runner = Runner {
        builder: Box::new(FakeBuilder::default()),
        targets: Box::new(targets),
        meters: Meters::new(Box::new(meters)),
    };
    runner.check(config, &mut |_| {}).unwrap();
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
    assert_eq!((r.meter.as_str(), r.energy.as_ref()), ("none", None));
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
}

/// 1 us samples: 2 mA idle for the idle wait, then 40 mA while the marker
/// is high (each inference: CYCLES at 120 MHz = 100 us) and 2 mA between.
fn meter_capture() -> Capture {
    let (mut current_a, mut marker) = (Vec::new(), Vec::new());
    let mut push = |us: usize, a: f64, high: bool| {
        current_a.extend(std::iter::repeat_n(a, us));
        marker.extend(std::iter::repeat_n(high, us));
    };
    push(IDLE_MS as usize * 1000, 2e-3, false);
    for _ in 0..2 {
        push(100, 40e-3, true);
        push(100, 2e-3, false);
    }
    Capture {
        timebase: Timebase::Uniform { start_s: 0.0, interval_s: 1e-6 },
        sample_kind: SampleKind::Mean,
        current_a,
        voltage: Voltage::Constant { volts: 3.0 },
        marker: MarkerTrack::Logic(marker),
        instrument: "scripted".into(),
        provenance: tinybench_power::Provenance::Measured,
        resolution_a: 1e-6,
    }
}

#[test]
fn a_meter_on_fakes_gives_measured_energy_per_inference() {
    let dir = tempfile::tempdir().unwrap();
    let power = "[power.meter.bench]\nkind = \"ppk2\"\nport = \"/dev/fake\"\nsupply-mv = 3000\n";
    let config = config_with_power(dir.path(), power);
    let mut meters = FakeMeters::default();
    meters.meters.insert("bench".into(), FakeMeter::new(meter_capture()));
    let (results, _) =
        run_with_meters(&config, dir.path(), meters, |_, frames| FakeTarget::new(exits(frames)).as_hardware());
    assert!(results.failures.is_empty(), "{:?}", results.failures);
    let r = &results.results[0];
    let e = r.energy.as_ref().expect("energy");
    assert_eq!((r.meter.as_str(), e.provenance.as_str(), e.instrument.as_str()), ("bench", "measured", "scripted"));
    // (40 mA - 2 mA idle) x 3 V x 100 us = 11.4 uJ.
    assert!((e.energy_uj.median - 11.4).abs() < 1e-9, "{e:?}");
    assert!((e.idle_power_mw.unwrap() - 6.0).abs() < 1e-9, "{e:?}");
    assert!(dir.path().join("out/cases/first/trace.parquet").is_file());
}

#[test]
fn a_capture_without_the_marker_fails_the_case_with_the_wiring_and_keeps_its_timing() {
    let dir = tempfile::tempdir().unwrap();
    let power = "[power.meter.bench]\nkind = \"ppk2\"\nport = \"/dev/fake\"\nsupply-mv = 3000\n";
    let config = config_with_power(dir.path(), power);
    let mut capture = meter_capture();
    capture.marker = MarkerTrack::Logic(vec![false; capture.current_a.len()]);
    let mut meters = FakeMeters::default();
    meters.meters.insert("bench".into(), FakeMeter::new(capture));
    let (results, _) =
        run_with_meters(&config, dir.path(), meters, |_, frames| FakeTarget::new(exits(frames)).as_hardware());
    assert_eq!(results.failures.len(), 2, "{:?}", results.failures);
    let failure = &results.failures[0];
    assert_eq!(failure.kind.as_str(), "power");
    assert!(failure.error.contains("saw 0 marker edges where 4 were expected"), "{}", failure.error);
    assert!(failure.error.contains("marker pin"), "{}", failure.error);
    // The figures the run did get are kept beside the case.
    assert!(dir.path().join("out/cases/first/trace.parquet").is_file());
    let kept = std::fs::read_to_string(dir.path().join("out/cases/first/result-without-energy.json")).unwrap();
    assert!(kept.contains(&format!("\"cycles_per_iteration\": [\n    {CYCLES},")), "{kept}");
    assert!(!dir.path().join("out/cases/first/result.json").exists(), "--resume must run it again");
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
