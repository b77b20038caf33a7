//! The N6705B driver against a scripted SCPI instrument: the commands it
//! sends for a plan, how it reads the error queue, and what it makes of
//! short, malformed and missing answers.

use tinybench_instruments::InstrumentError;
use tinybench_instruments::n6705b::driver::{
    FAKE_N6705B_IDN, FakeReply, FakeScpiInstrument, FakeScpiLog, N6705b, N6705bConfig,
};
use tinybench_power::{CapturePlan, MarkerInput, MarkerTrack, PowerError, PowerMeter, SampleKind, Timebase, Voltage};

fn plan(iterations: u32, inference_s: f64, idle_s: f64) -> CapturePlan {
    CapturePlan { iterations, inference_s, idle_s, edges_per_inference: 2, timeout_s: 60.0 }
}

/// 2 inferences of 1 ms after 10 ms idle, at 10.24 us: 878 samples before
/// the trigger (9 ms), 1221 after (2.5 ms + 10 ms).
const SMALL_POINTS: usize = 2099;
const SMALL_PRE: usize = 878;

fn config(pin: u8) -> N6705bConfig {
    N6705bConfig::new("fake", 1, pin)
}

fn connect(fake: FakeScpiInstrument, config: N6705bConfig) -> (N6705b, FakeScpiLog) {
    let log = fake.log();
    let meter = N6705b::with_transport(config, Box::new(fake)).unwrap();
    (meter, log)
}

/// The sample values the fake digitizer returns: 1 mA + k uA.
fn ramp(points: usize) -> Vec<f32> {
    (0..points).map(|k| 1e-3 + k as f32 * 1e-6).collect()
}

fn instrument_error(error: &PowerError) -> &InstrumentError {
    match error {
        PowerError::Instrument { source, .. } | PowerError::Unreachable { source, .. } => {
            source.downcast_ref::<InstrumentError>().unwrap_or_else(|| panic!("not an InstrumentError: {error}"))
        }
        other => panic!("expected an instrument error, got {other}"),
    }
}

fn since<'a>(log: &'a [String], first: &str) -> &'a [String] {
    let start = log.iter().position(|c| c == first).unwrap_or_else(|| panic!("`{first}` not sent: {log:#?}"));
    &log[start..]
}

#[test]
fn connect_checks_identity_clears_errors_and_reads_the_module() {
    let (meter, log) = connect(FakeScpiInstrument::n6705b("N6781A"), config(2));
    assert_eq!(log.sent(), ["*IDN?", "*CLS", "SYST:CHAN:MOD? (@1)", "SYST:ERR?"]);
    assert_eq!(meter.identity(), FAKE_N6705B_IDN);
    assert_eq!(meter.module().model, "N6781A");
    assert_eq!(meter.describe(), "Keysight N6705B at fake, channel 1 (N6781A)");
    let caps = meter.capabilities();
    assert_eq!((caps.sample_interval_s, caps.marker, caps.voltage), (10.24e-6, MarkerInput::Trigger, true));
}

#[test]
fn arm_sends_the_pinned_command_sequence() {
    let (mut meter, log) = connect(FakeScpiInstrument::n6705b("N6781A"), config(2));
    meter.arm(&plan(10, 0.01, 0.5)).unwrap();
    // 0.45 s before the trigger and 10 x 10 ms x 1.25 + 10 ms after, at 10.24 us.
    assert_eq!(
        since(&log.sent(), "ABOR:ACQ (@1)"),
        [
            "ABOR:ACQ (@1)",
            "SENS:FUNC:CURR ON,(@1)",
            "SENS:FUNC:VOLT ON,(@1)",
            "SENS:SWE:POIN? MAX,(@1)",
            "SENS:SWE:TINT 1.024E-5,(@1)",
            "SENS:SWE:TINT? (@1)",
            "SENS:SWE:POIN 57129,(@1)",
            "SENS:SWE:OFFS:POIN -43945,(@1)",
            "SENS:CURR:RANG? (@1)",
            "FORM REAL",
            "FORM:BORD NORM",
            "SOUR:DIG:PIN2:FUNC TINP",
            "SOUR:DIG:PIN2:POL POS",
            "TRIG:ACQ:SOUR PIN2,(@1)",
            "INIT:ACQ (@1)",
            "SYST:ERR?",
        ]
    );
    assert!(meter.describe().contains("57129 samples every 10.24 us, 43945 of them before the marker"));
}

#[test]
fn capture_returns_the_digitized_current_and_voltage() {
    let fake = FakeScpiInstrument::n6705b("N6781A")
        .on("FETC:ARR:CURR? (@1)", FakeReply::real32_block(&ramp(SMALL_POINTS)))
        .on("FETC:ARR:VOLT? (@1)", FakeReply::real32_block(&vec![3.25; SMALL_POINTS]));
    let (mut meter, log) = connect(fake, config(2));
    meter.arm(&plan(2, 1e-3, 0.01)).unwrap();
    let capture = meter.capture().unwrap();
    assert_eq!(since(&log.sent(), "FETC:ARR:CURR? (@1)"), ["FETC:ARR:CURR? (@1)", "FETC:ARR:VOLT? (@1)", "SYST:ERR?"]);
    assert_eq!(capture.timebase, Timebase::Uniform { start_s: -(SMALL_PRE as f64) * 10.24e-6, interval_s: 10.24e-6 });
    assert_eq!(capture.sample_kind, SampleKind::Mean);
    assert_eq!(capture.marker, MarkerTrack::Trigger { time_s: 0.0 });
    assert_eq!(capture.current_a.len(), SMALL_POINTS);
    assert!((capture.current_a[0] - 1e-3).abs() < 1e-9);
    assert!((capture.current_a[1000] - 2e-3).abs() < 1e-8);
    assert_eq!(capture.voltage, Voltage::Samples(vec![3.25; SMALL_POINTS]));
    assert_eq!(capture.instrument, format!("{FAKE_N6705B_IDN}, channel 1 (N6781A)"));
    assert_eq!(capture.resolution_a, 3.06 / 32768.0);
    // The time of the first sample after the trigger is 0.
    assert!(capture.time_s(SMALL_PRE).abs() < 1e-15);
}

#[test]
fn a_module_without_simultaneous_voltage_measures_it_once() {
    let fake =
        FakeScpiInstrument::n6705b("N6734B").on("FETC:ARR:CURR? (@1)", FakeReply::real32_block(&ramp(SMALL_POINTS)));
    let (mut meter, log) = connect(fake, config(3));
    assert!(!meter.capabilities().voltage);
    meter.arm(&plan(2, 1e-3, 0.01)).unwrap();
    assert_eq!(
        since(&log.sent(), "ABOR:ACQ (@1)")[..4],
        ["ABOR:ACQ (@1)", "SENS:FUNC:CURR ON,(@1)", "SENS:FUNC:VOLT OFF,(@1)", "SENS:SWE:POIN? MAX,(@1)"]
    );
    let capture = meter.capture().unwrap();
    // Measured once after the fetch, with the pre-trigger offset cleared.
    assert_eq!(
        since(&log.sent(), "FETC:ARR:CURR? (@1)"),
        [
            "FETC:ARR:CURR? (@1)",
            "SENS:SWE:OFFS:POIN 0,(@1)",
            "SENS:SWE:POIN 256,(@1)",
            "SENS:SWE:TINT 1.024E-5,(@1)",
            "MEAS:VOLT? (@1)",
            "SYST:ERR?",
        ]
    );
    assert_eq!(capture.voltage, Voltage::Constant { volts: 3.300012 });
    assert!(!log.sent().iter().any(|c| c.starts_with("FETC:ARR:VOLT?")));
}

#[test]
fn an_smu_recording_current_alone_samples_every_5_12_us() {
    let mut config = config(1);
    config.measure_voltage = false;
    let (mut meter, log) = connect(FakeScpiInstrument::n6705b("N6782A"), config);
    assert_eq!(meter.capabilities().sample_interval_s, 5.12e-6);
    meter.arm(&plan(2, 1e-3, 0.01)).unwrap();
    let sent = log.sent();
    assert!(sent.contains(&"SENS:FUNC:VOLT OFF,(@1)".to_string()));
    // 9 ms / 5.12 us = 1757.8 -> 1757 before; 12.5 ms -> 2442 after.
    assert!(sent.contains(&"SENS:SWE:TINT 5.12E-6,(@1)".to_string()), "{sent:#?}");
    assert!(sent.contains(&"SENS:SWE:POIN 4199,(@1)".to_string()), "{sent:#?}");
    assert!(sent.contains(&"SENS:SWE:OFFS:POIN -1757,(@1)".to_string()), "{sent:#?}");
}

#[test]
fn a_long_case_lengthens_the_interval_to_fit_the_points() {
    let fake = FakeScpiInstrument::n6705b("N6781A").on("SENS:SWE:POIN? MAX", FakeReply::line("+4096"));
    let (mut meter, log) = connect(fake, config(1));
    // 100 x 50 ms: 7.16 s in 4096 points -> 86 x 20.48 us.
    meter.arm(&plan(100, 0.05, 1.0)).unwrap();
    let sent = log.sent();
    assert!(sent.contains(&"SENS:SWE:TINT 1.76128E-3,(@1)".to_string()), "{sent:#?}");
    assert!(sent.contains(&"SENS:SWE:POIN 4065,(@1)".to_string()), "{sent:#?}");
}

#[test]
fn an_error_after_configuring_is_reported_with_the_commands() {
    let fake = FakeScpiInstrument::n6705b("N6781A").error_on("SENS:SWE:OFFS:POIN", "-222,\"Data out of range\"");
    let (mut meter, _log) = connect(fake, config(2));
    let error = meter.arm(&plan(10, 0.01, 0.5)).unwrap_err();
    let InstrumentError::Refused { command, error: text } = instrument_error(&error) else {
        panic!("expected a refusal: {error}");
    };
    // Read once after configuring: the most recent command is named, and
    // every command since the last check is listed.
    assert_eq!(command, "INIT:ACQ (@1)");
    assert!(text.starts_with("-222,\"Data out of range\""), "{text}");
    assert!(text.contains("`SENS:SWE:OFFS:POIN -43945,(@1)`") && text.contains("strict_errors"), "{text}");
}

#[test]
fn strict_mode_names_the_failing_command() {
    let fake = FakeScpiInstrument::n6705b("N6781A").error_on("SENS:SWE:OFFS:POIN", "-222,\"Data out of range\"");
    let mut config = config(2);
    config.strict_errors = true;
    let (mut meter, log) = connect(fake, config);
    let error = meter.arm(&plan(10, 0.01, 0.5)).unwrap_err();
    let InstrumentError::Refused { command, error: text } = instrument_error(&error) else {
        panic!("expected a refusal: {error}");
    };
    assert_eq!(command, "SENS:SWE:OFFS:POIN -43945,(@1)");
    assert_eq!(text, "-222,\"Data out of range\"");
    // Each command is followed by a look at the queue; nothing after the failure.
    assert_eq!(
        since(&log.sent(), "ABOR:ACQ (@1)")[..4],
        ["ABOR:ACQ (@1)", "SYST:ERR?", "SENS:FUNC:CURR ON,(@1)", "SYST:ERR?"]
    );
    assert_eq!(log.sent().last().map(String::as_str), Some("SYST:ERR?"));
    assert!(!log.sent().iter().any(|c| c.starts_with("INIT:ACQ")));
}

#[test]
fn an_unanswered_query_is_explained_by_the_error_queue() {
    let fake = FakeScpiInstrument::n6705b("N6781A")
        .on("SENS:CURR:RANG?", FakeReply::Timeout)
        .error_on("SENS:CURR:RANG?", "-113,\"Undefined header\"");
    let (mut meter, _log) = connect(fake, config(2));
    let error = meter.arm(&plan(10, 0.01, 0.5)).unwrap_err();
    let InstrumentError::Refused { command, error: text } = instrument_error(&error) else {
        panic!("expected a refusal: {error}");
    };
    assert_eq!(command, "SENS:CURR:RANG? (@1)");
    assert!(text.starts_with("-113"), "{text}");
}

#[test]
fn an_error_after_the_fetch_fails_the_capture() {
    let fake = FakeScpiInstrument::n6705b("N6781A")
        .on("FETC:ARR:CURR? (@1)", FakeReply::real32_block(&ramp(SMALL_POINTS)))
        .on("FETC:ARR:VOLT? (@1)", FakeReply::real32_block(&ramp(SMALL_POINTS)))
        .error_on("FETC:ARR:VOLT?", "-230,\"Data corrupt or stale\"");
    let (mut meter, _log) = connect(fake, config(2));
    meter.arm(&plan(2, 1e-3, 0.01)).unwrap();
    let error = meter.capture().unwrap_err();
    let InstrumentError::Refused { command, error: text } = instrument_error(&error) else {
        panic!("expected a refusal: {error}");
    };
    assert_eq!(command, "FETC:ARR:VOLT? (@1)");
    assert!(text.starts_with("-230"), "{text}");
}

/// Arms for the small plan with `reply` to the current fetch; the error.
fn capture_with(reply: FakeReply) -> (PowerError, FakeScpiLog, N6705b) {
    let fake = FakeScpiInstrument::n6705b("N6781A").on("FETC:ARR:CURR? (@1)", reply);
    let (mut meter, log) = connect(fake, config(2));
    meter.arm(&plan(2, 1e-3, 0.01)).unwrap();
    let error = meter.capture().unwrap_err();
    (error, log, meter)
}

#[test]
fn a_short_block_is_malformed() {
    // Declares 8 bytes (two floats); one float comes, then nothing.
    let (error, _, _) = capture_with(FakeReply::Bytes(b"#18\x3f\x80\x00\x00".to_vec()));
    let InstrumentError::Malformed { what, detail } = instrument_error(&error) else { panic!("{error}") };
    assert!(what.contains("FETC:ARR:CURR?") && detail.contains("short block"), "{what}: {detail}");
}

#[test]
fn a_block_with_the_wrong_byte_count_is_malformed() {
    // Declares 4 bytes, sends 8.
    let (error, _, _) = capture_with(FakeReply::Bytes(b"#14\x3f\x80\x00\x00\x3f\x80\x00\x00\n".to_vec()));
    let InstrumentError::Malformed { detail, .. } = instrument_error(&error) else { panic!("{error}") };
    assert!(detail.contains("wrong byte count"), "{detail}");
}

#[test]
fn ascii_and_indefinite_answers_are_malformed() {
    let (error, _, _) = capture_with(FakeReply::line("+1.000000E-03,+1.000000E-03"));
    let InstrumentError::Malformed { detail, .. } = instrument_error(&error) else { panic!("{error}") };
    assert!(detail.contains("expected a definite-length block"), "{detail}");
    let (error, _, _) = capture_with(FakeReply::Bytes(b"#0\x3f\x80\x00\x00\n".to_vec()));
    let InstrumentError::Malformed { detail, .. } = instrument_error(&error) else { panic!("{error}") };
    assert!(detail.contains("indefinite-length"), "{detail}");
}

#[test]
fn a_block_of_the_wrong_length_is_malformed() {
    let (error, _, _) = capture_with(FakeReply::real32_block(&ramp(SMALL_POINTS - 1)));
    let InstrumentError::Malformed { detail, .. } = instrument_error(&error) else { panic!("{error}") };
    assert_eq!(detail, &format!("{} samples where {SMALL_POINTS} were configured", SMALL_POINTS - 1));
    // A block split over several reads is fine.
    let block = match FakeReply::real32_block(&ramp(SMALL_POINTS)) {
        FakeReply::Bytes(bytes) => bytes,
        other => panic!("{other:?}"),
    };
    let chunks: Vec<Vec<u8>> = block.chunks(1000).map(<[u8]>::to_vec).collect();
    let fake = FakeScpiInstrument::n6705b("N6781A")
        .on("FETC:ARR:CURR? (@1)", FakeReply::Chunks(chunks))
        .on("FETC:ARR:VOLT? (@1)", FakeReply::real32_block(&ramp(SMALL_POINTS)));
    let (mut meter, _) = connect(fake, config(2));
    meter.arm(&plan(2, 1e-3, 0.01)).unwrap();
    assert_eq!(meter.capture().unwrap().current_a.len(), SMALL_POINTS);
}

#[test]
fn no_trigger_is_marker_not_seen_with_the_wiring() {
    let (error, log, mut meter) = capture_with(FakeReply::Timeout);
    let PowerError::MarkerNotSeen { expected, seen, hint, .. } = &error else { panic!("{error}") };
    assert_eq!((*expected, *seen), (4, 0));
    assert!(hint.contains("digital port pin 2") && hint.contains("ground"), "{hint}");
    // The acquisition is stopped and the link cleared; the next arm clears again first.
    assert_eq!(since(&log.sent(), "FETC:ARR:CURR? (@1)"), ["FETC:ARR:CURR? (@1)", "ABOR:ACQ (@1)"]);
    assert_eq!(log.clears(), 1);
    meter.arm(&plan(2, 1e-3, 0.01)).unwrap();
    assert_eq!(log.clears(), 2);
    let sent = log.sent();
    let last_cls = sent.iter().rposition(|c| c == "*CLS").unwrap();
    assert!(last_cls > 4, "no *CLS after the timeout: {sent:#?}");
    assert_eq!(sent[last_cls + 1], "ABOR:ACQ (@1)");
}

#[test]
fn capture_without_arm_is_an_error() {
    let (mut meter, _) = connect(FakeScpiInstrument::n6705b("N6781A"), config(2));
    let error = meter.capture().unwrap_err();
    assert!(error.to_string().contains("without arm()"), "{error}");
}

#[test]
fn another_instrument_is_refused_by_name() {
    let fake =
        FakeScpiInstrument::n6705b("N6781A").on("*IDN?", FakeReply::line("Rigol Technologies,DP832,DP8C000,00.01.16"));
    let error = N6705b::with_transport(config(1), Box::new(fake)).unwrap_err();
    let PowerError::Unreachable { fix, .. } = &error else { panic!("{error}") };
    assert!(error.to_string().contains("`Rigol Technologies,DP832,DP8C000,00.01.16`"), "{error}");
    assert!(fix.contains("address"), "{fix}");
    // An empty slot.
    let fake = FakeScpiInstrument::n6705b("").on("SYST:CHAN:MOD?", FakeReply::line("\"\""));
    let error = N6705b::with_transport(config(1), Box::new(fake)).unwrap_err();
    assert!(error.to_string().contains("channel 1 holds no power module"), "{error}");
}

#[test]
fn a_case_too_long_for_the_digitizer_is_loop_averaged_by_the_data_logger() {
    // Three records of (current, voltage); before and after them, empty blocks.
    let records: Vec<f32> = vec![1e-3, 3.3, 2e-3, 3.2, 4e-3, 3.1];
    let fake = FakeScpiInstrument::n6705b("N6781A")
        .on("SENS:SWE:POIN? MAX", FakeReply::line("+4096"))
        .on("FETC:ELOG?", FakeReply::real32_block(&[]))
        .on_once("FETC:ELOG?", FakeReply::real32_block(&[]))
        .on_once("FETC:ELOG?", FakeReply::real32_block(&records));
    let (mut meter, log) = connect(fake, config(5));
    // 1e5 x 200 us = 20 s in 4096 points would need 6 ms samples > 200 us / 8.
    meter.arm(&plan(100_000, 200e-6, 1.0)).unwrap();
    assert!(meter.describe().contains("loop-averaged through the external data logger (Elog), 204.8 us"));
    let capture = meter.capture().unwrap();
    let sent = log.sent();
    assert_eq!(
        since(&sent, "ABOR:ELOG (@1)")[..13],
        [
            "ABOR:ELOG (@1)",
            "SENS:ELOG:FUNC:CURR ON,(@1)",
            "SENS:ELOG:FUNC:CURR:MINM OFF,(@1)",
            "SENS:ELOG:FUNC:VOLT ON,(@1)",
            "SENS:ELOG:FUNC:VOLT:MINM OFF,(@1)",
            "SENS:ELOG:PER 2.048E-4,(@1)",
            "SENS:ELOG:PER? (@1)",
            "SENS:CURR:RANG? (@1)",
            "FORM REAL",
            "FORM:BORD NORM",
            "SOUR:DIG:PIN5:FUNC TINP",
            "SOUR:DIG:PIN5:POL POS",
            "TRIG:ELOG:SOUR PIN5,(@1)",
        ]
    );
    assert!(sent.contains(&"INIT:ELOG (@1)".to_string()));
    assert!(sent.contains(&"FETC:ELOG? 50000,(@1)".to_string()));
    assert_eq!(&sent[sent.len() - 2..], ["ABOR:ELOG (@1)", "SYST:ERR?"]);
    assert_eq!(capture.timebase, Timebase::Uniform { start_s: 0.0, interval_s: 2.048e-4 });
    assert_eq!(capture.current_a.len(), 3);
    assert!((capture.current_a[2] - 4e-3).abs() < 1e-9);
    let Voltage::Samples(v) = &capture.voltage else { panic!("{:?}", capture.voltage) };
    assert!((v[1] - 3.2).abs() < 1e-6);
    assert!(capture.instrument.contains("loop-averaged"), "{}", capture.instrument);
}

#[test]
fn a_data_logger_that_never_triggers_is_marker_not_seen() {
    let fake = FakeScpiInstrument::n6705b("N6781A")
        .on("SENS:SWE:POIN? MAX", FakeReply::line("+4096"))
        .on("FETC:ELOG?", FakeReply::real32_block(&[]));
    let (mut meter, log) = connect(fake, config(5));
    meter.arm(&plan(100_000, 200e-6, 1.0)).unwrap();
    let error = meter.capture().unwrap_err();
    assert!(matches!(error, PowerError::MarkerNotSeen { .. }), "{error}");
    assert!(log.sent().contains(&"ABOR:ELOG (@1)".to_string()));
    // The link came back from the reader: the meter arms again.
    meter.arm(&plan(2, 1e-3, 0.01)).unwrap();
}

#[test]
fn play_forwards_to_the_hook() {
    use std::sync::{Arc, Mutex};
    let (mut meter, _) = connect(FakeScpiInstrument::n6705b("N6781A"), config(2));
    let waveform = tinybench_power::Waveform {
        interval_s: 1e-5,
        current_a: vec![1e-3; 4],
        voltage_v: vec![3.3; 4],
        marker: vec![false, true, true, false],
    };
    assert!(meter.play(&waveform).is_ok());
    let played = Arc::new(Mutex::new(0usize));
    let seen = Arc::clone(&played);
    meter.set_play_hook(Box::new(move |w| {
        *seen.lock().unwrap() += w.current_a.len();
        Ok(())
    }));
    meter.play(&waveform).unwrap();
    assert_eq!(*played.lock().unwrap(), 4);
}

#[test]
fn a_silent_instrument_is_unreachable_naming_the_query() {
    let error = N6705b::with_transport(config(1), Box::new(FakeScpiInstrument::new())).unwrap_err();
    let PowerError::Unreachable { source, .. } = &error else { panic!("{error}") };
    let Some(InstrumentError::Timeout { what, .. }) = source.downcast_ref::<InstrumentError>() else {
        panic!("{error}")
    };
    assert_eq!(what, "`*IDN?`");
}

/// The driver against the simulated N6705B (written independently from the
/// documentation) over a real TCP connection on loopback.
mod with_simulator {
    use super::*;
    use tinybench_instruments::n6705b::sim::{N6705bSim, SimFault};
    use tinybench_power::Waveform;

    const DT_S: f64 = 10.24e-6;

    fn start() -> N6705bSim {
        N6705bSim::start("127.0.0.1:0".parse().unwrap()).unwrap()
    }

    fn sim_config(sim: &N6705bSim, pin: u8) -> N6705bConfig {
        let mut config = N6705bConfig::new(sim.address().to_string(), 1, pin);
        config.io_timeout_s = 10.0;
        config
    }

    /// Runs of (samples, current, marker) at `interval_s`, at 3.3 V.
    fn waveform(interval_s: f64, runs: &[(usize, f64, bool)]) -> Waveform {
        let mut w = Waveform { interval_s, current_a: vec![], voltage_v: vec![], marker: vec![] };
        for &(n, current, marker) in runs {
            w.current_a.extend(std::iter::repeat_n(current, n));
            w.voltage_v.extend(std::iter::repeat_n(3.3, n));
            w.marker.extend(std::iter::repeat_n(marker, n));
        }
        w
    }

    fn assert_close(got: &[f64], want: f64, what: &str) {
        for (k, v) in got.iter().enumerate() {
            assert!((v - want).abs() < 1e-6, "{what}[{k}] = {v}, want {want}");
        }
    }

    #[test]
    fn digitizer_capture_end_to_end() {
        let sim = start();
        let mut meter = N6705b::connect(sim_config(&sim, 2)).unwrap();
        assert_eq!(meter.identity(), sim.identity());
        let handle = sim.handle();
        meter.set_play_hook(Box::new(move |w| {
            handle.play(w);
            Ok(())
        }));
        meter.arm(&plan(2, 1e-3, 0.01)).unwrap();
        // On the digitizer's grid: 10 ms idle at 1 mA, two ~1 ms inferences
        // (10 mA, 20 mA) with the marker high, 1 mA after.
        let board = waveform(
            DT_S,
            &[(977, 1e-3, false), (98, 10e-3, true), (10, 1e-3, false), (98, 20e-3, true), (1200, 1e-3, false)],
        );
        meter.play(&board).unwrap();
        let capture = meter.capture().unwrap();
        assert_eq!(capture.timebase, Timebase::Uniform { start_s: -(SMALL_PRE as f64) * DT_S, interval_s: DT_S });
        assert_eq!(capture.marker, MarkerTrack::Trigger { time_s: 0.0 });
        assert_eq!(capture.current_a.len(), SMALL_POINTS);
        // The idle baseline before the trigger, then the inferences from sample 0 after it.
        assert_close(&capture.current_a[..SMALL_PRE], 1e-3, "idle");
        assert_close(&capture.current_a[SMALL_PRE..SMALL_PRE + 98], 10e-3, "first inference");
        assert_close(&capture.current_a[SMALL_PRE + 98..SMALL_PRE + 108], 1e-3, "between");
        assert_close(&capture.current_a[SMALL_PRE + 108..SMALL_PRE + 206], 20e-3, "second inference");
        assert_close(&capture.current_a[SMALL_PRE + 206..], 1e-3, "after");
        let Voltage::Samples(volts) = &capture.voltage else { panic!("{:?}", capture.voltage) };
        assert_close(volts, 3.3, "voltage");
        assert!(capture.instrument.starts_with(&sim.identity()), "{}", capture.instrument);
        assert!(capture.resolution_a > 0.0);
    }

    #[test]
    fn current_alone_at_5_12_us_with_the_voltage_measured_once() {
        let sim = start();
        let mut config = sim_config(&sim, 3);
        config.measure_voltage = false;
        let mut meter = N6705b::connect(config).unwrap();
        meter.arm(&plan(2, 1e-3, 0.01)).unwrap();
        // 9 ms / 5.12 us = 1757 samples before the trigger, 12.5 ms -> 2442 after.
        sim.play(&waveform(5.12e-6, &[(1954, 1e-3, false), (200, 7e-3, true), (2600, 1e-3, false)]));
        let capture = meter.capture().unwrap();
        assert_eq!(capture.timebase, Timebase::Uniform { start_s: -1757.0 * 5.12e-6, interval_s: 5.12e-6 });
        assert_eq!(capture.current_a.len(), 4199);
        assert_close(&capture.current_a[..1757], 1e-3, "idle");
        assert_close(&capture.current_a[1757..1957], 7e-3, "inference");
        let Voltage::Constant { volts } = capture.voltage else { panic!("{:?}", capture.voltage) };
        assert!((volts - 3.3).abs() < 1e-6, "{volts}");
    }

    #[test]
    fn no_marker_is_marker_not_seen_and_the_link_recovers() {
        let sim = start();
        let mut config = sim_config(&sim, 4);
        config.io_timeout_s = 1.0;
        let mut meter = N6705b::connect(config).unwrap();
        let short = CapturePlan { timeout_s: 0.5, ..plan(2, 1e-3, 0.01) };
        meter.arm(&short).unwrap();
        sim.play(&waveform(DT_S, &[(3000, 1e-3, false)]));
        let error = meter.capture().unwrap_err();
        assert!(matches!(error, PowerError::MarkerNotSeen { .. }), "{error}");
        // The same connection arms and captures again.
        meter.arm(&plan(2, 1e-3, 0.01)).unwrap();
        sim.play(&waveform(DT_S, &[(977, 1e-3, false), (200, 5e-3, true), (1200, 1e-3, false)]));
        let capture = meter.capture().unwrap();
        assert_close(&capture.current_a[SMALL_PRE..SMALL_PRE + 200], 5e-3, "after recovery");
    }

    #[test]
    fn a_long_case_is_loop_averaged_by_the_data_logger() {
        let sim = start();
        let mut meter = N6705b::connect(sim_config(&sim, 1)).unwrap();
        // 1e6 x 200 us do not fit 524288 points at an interval under 25 us.
        meter.arm(&plan(1_000_000, 200e-6, 1.0)).unwrap();
        assert!(meter.describe().contains("external data logger (Elog), 204.8 us"), "{}", meter.describe());
        // 20.48 us samples: idle, then 5 logger periods (1.024 ms) at 10 mA.
        sim.play(&waveform(20.48e-6, &[(100, 1e-3, false), (50, 10e-3, true), (100, 2e-3, false)]));
        let capture = meter.capture().unwrap();
        assert_eq!(capture.timebase, Timebase::Uniform { start_s: 0.0, interval_s: 204.8e-6 });
        assert!(capture.current_a.len() >= 15, "{} records", capture.current_a.len());
        assert_close(&capture.current_a[..5], 10e-3, "marked");
        assert_close(&capture.current_a[5..15], 2e-3, "after");
        let Voltage::Samples(volts) = &capture.voltage else { panic!("{:?}", capture.voltage) };
        assert_close(&volts[..15], 3.3, "voltage");
    }

    #[test]
    fn the_simulators_faults_are_reported() {
        let sim = start();
        let mut config = sim_config(&sim, 2);
        // How long a block cut short is waited for.
        config.io_timeout_s = 1.0;
        let mut meter = N6705b::connect(config).unwrap();
        let marked = waveform(DT_S, &[(977, 1e-3, false), (200, 5e-3, true), (1200, 1e-3, false)]);
        for (fault, expect) in [(SimFault::ShortBlock, "short block"), (SimFault::MalformedBlock, "not a digit 1-9")] {
            meter.arm(&plan(2, 1e-3, 0.01)).unwrap();
            sim.inject(fault);
            sim.play(&marked);
            let error = meter.capture().unwrap_err();
            let InstrumentError::Malformed { detail, .. } = instrument_error(&error) else { panic!("{error}") };
            assert!(detail.contains(expect), "{fault:?}: {detail}");
        }
        sim.inject(SimFault::RejectNextCommand);
        let error = meter.arm(&plan(2, 1e-3, 0.01)).unwrap_err();
        let InstrumentError::Refused { error: text, .. } = instrument_error(&error) else { panic!("{error}") };
        assert!(text.contains("-221"), "{text}");
        // And it still works afterwards.
        meter.arm(&plan(2, 1e-3, 0.01)).unwrap();
        sim.play(&marked);
        assert_eq!(meter.capture().unwrap().current_a.len(), SMALL_POINTS);
        // A disconnect during the capture.
        meter.arm(&plan(2, 1e-3, 0.01)).unwrap();
        sim.inject(SimFault::Disconnect);
        sim.play(&marked);
        let error = meter.capture().unwrap_err();
        assert!(matches!(instrument_error(&error), InstrumentError::Disconnected { .. }), "{error}");
    }
}
