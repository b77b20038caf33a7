//! The PPK2 driver against `FakePpk2`: an in-memory PPK2 that answers the
//! metadata request and, on AverageStart, plays a byte stream built here from
//! known currents with the documented conversion, run forwards (written for
//! this test, not taken from the driver).

use std::collections::VecDeque;
use std::io;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tinybench_instruments::InstrumentError;
use tinybench_instruments::ppk2::driver::{Ppk2, Ppk2Config, Ppk2Mode, Ppk2Port};
use tinybench_power::{
    Capture, CapturePlan, MarkerTrack, PowerError, PowerMeter, Provenance, SampleKind, Timebase, Voltage,
};

/// A calibration with every term in use (values after a real PPK2's, GS0
/// and the user gains made non-trivial).
struct Cal {
    r: [f64; 5],
    gs: [f64; 5],
    gi: [f64; 5],
    o: [f64; 5],
    s: [f64; 5],
    i: [f64; 5],
    ug: [f64; 5],
}

const CAL: Cal = Cal {
    r: [1003.3506, 101.5865, 10.3027, 0.9636, 0.0564],
    gs: [0.5, 112.7890, 18.0115, 2.4217, 0.0729],
    gi: [1.0, 0.9695, 0.9609, 0.9519, 0.9582],
    o: [112.9420, 75.4627, 64.6020, 50.4983, 87.2177],
    s: [0.000000048, 0.000000596, 0.000005281, 0.000062577, 0.002940743],
    i: [-0.000000104, -0.000001443, 0.000036439, -0.000374119, -0.009388455],
    ug: [1.0, 1.01, 0.99, 1.0, 1.02],
};

fn metadata_text() -> String {
    let mut text = String::from("Calibrated: 0\n");
    for (name, table) in
        [("R", CAL.r), ("GS", CAL.gs), ("GI", CAL.gi), ("O", CAL.o), ("S", CAL.s), ("I", CAL.i), ("UG", CAL.ug)]
    {
        for (k, v) in table.iter().enumerate() {
            text.push_str(&format!("{name}{k}: {v}\n"));
        }
    }
    text + "VDD: 3000\nHW: 9173\nmode: 2\nIA: 56\nEND\n"
}

/// The documented conversion: amperes for a 14-bit ADC field in `range`.
fn amps_of(range: usize, field: u32, vdd_v: f64) -> f64 {
    let volts = f64::from(field * 4) - CAL.o[range];
    let shunt_a = volts * 1.8 / 163_840.0 / CAL.r[range];
    CAL.ug[range] * (CAL.gs[range] * shunt_a * shunt_a + CAL.gi[range] * shunt_a + CAL.s[range] * vdd_v + CAL.i[range])
}

/// The range and ADC field a PPK2 would report for `amps`: the most
/// sensitive range in which the field stays below 90 % of full scale.
fn encode(amps: f64, vdd_v: f64) -> (usize, u32) {
    for range in 0..5 {
        // Solve GS r^2 + GI r + (S V + I - amps / UG) = 0 for the shunt current r.
        let c = CAL.s[range] * vdd_v + CAL.i[range] - amps / CAL.ug[range];
        let (a, b) = (CAL.gs[range], CAL.gi[range]);
        let shunt_a = (-b + (b * b - 4.0 * a * c).sqrt()) / (2.0 * a);
        let counts = shunt_a * CAL.r[range] * 163_840.0 / 1.8 + CAL.o[range];
        let field = (counts / 4.0).round();
        if (0.0..=0.9 * 16383.0).contains(&field) {
            return (range, field as u32);
        }
    }
    panic!("{amps} A is beyond the PPK2");
}

/// A stream of samples: the wire bytes, and per sample the exact current the
/// fields stand for, the range and the marker.
#[derive(Default, Clone)]
struct Trace {
    bytes: Vec<u8>,
    current_a: Vec<f64>,
    range: Vec<usize>,
    marker: Vec<bool>,
}

impl Trace {
    /// `samples` samples of `amps` with the marker at `high`.
    fn hold(mut self, amps: f64, high: bool, samples: usize) -> Self {
        for _ in 0..samples {
            let (range, field) = encode(amps, VDD_V);
            let exact = amps_of(range, field, VDD_V);
            // The field can only be off by rounding: half a count.
            let step = (amps_of(range, field + 1, VDD_V) - exact).abs();
            assert!((exact - amps).abs() <= step, "{amps} A encoded as {exact} A");
            // Counter starts at 50 to wrap early.
            let counter = (50 + self.current_a.len() as u32) % 64;
            let word = u32::from(high) << 24 | counter << 18 | (range as u32) << 14 | field;
            self.bytes.extend(word.to_le_bytes());
            self.current_a.push(exact);
            self.range.push(range);
            self.marker.push(high);
        }
        self
    }
}

const VDD_V: f64 = 3.3;
const IDLE_A: f64 = 5e-6;
const RUN_A: f64 = 25e-3;

/// A boot glitch on the marker, 3 ms idle, 3 inferences of 1 ms (marker
/// high, 25 mA) with 0.5 ms idle after each, 10 ms idle at the end.
fn case_trace() -> Trace {
    let mut trace = Trace::default().hold(1e-3, true, 20).hold(IDLE_A, false, 300);
    for _ in 0..3 {
        trace = trace.hold(RUN_A, true, 100).hold(IDLE_A, false, 50);
    }
    trace.hold(IDLE_A, false, 1000)
}

fn plan() -> CapturePlan {
    CapturePlan { iterations: 3, inference_s: 1e-3, idle_s: 3e-3, edges_per_inference: 2, timeout_s: 10.0 }
}

/// Where the capture must end: 5 ms (500 samples) after the last falling edge.
fn expected_len(trace: &Trace) -> usize {
    let last_high = trace.marker.iter().rposition(|&h| h).unwrap_or(0);
    last_high + 1 + 1 + 500
}

#[derive(Default)]
struct Device {
    to_host: VecDeque<u8>,
    from_host: Vec<u8>,
    metadata: Option<Vec<u8>>,
    stream: Vec<u8>,
    /// The connection ends once the stream has been read.
    vanish_after_stream: bool,
    streaming: bool,
    gone: bool,
}

/// An in-memory PPK2 behind [`Ppk2Port`].
#[derive(Clone)]
struct FakePpk2 {
    device: Arc<(Mutex<Device>, Condvar)>,
    /// The most bytes one read returns (odd, so words straddle reads).
    chunk: usize,
}

impl FakePpk2 {
    fn new(metadata: Option<String>, stream: Vec<u8>) -> Self {
        let device = Device { metadata: metadata.map(String::into_bytes), stream, ..Device::default() };
        FakePpk2 { device: Arc::new((Mutex::new(device), Condvar::new())), chunk: 4093 }
    }

    fn device(&self) -> MutexGuard<'_, Device> {
        self.device.0.lock().unwrap()
    }

    /// What the host sent, split into commands by their documented lengths.
    fn commands(&self) -> Vec<Vec<u8>> {
        let bytes = self.device().from_host.clone();
        let mut commands = Vec::new();
        let mut at = 0;
        while at < bytes.len() {
            let len = match bytes[at] {
                0x0C | 0x11 => 2,
                0x0D => 3,
                _ => 1,
            };
            commands.push(bytes[at..(at + len).min(bytes.len())].to_vec());
            at += len;
        }
        commands
    }
}

impl Ppk2Port for FakePpk2 {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        let mut device = self.device();
        if device.gone {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        device.from_host.extend_from_slice(bytes);
        // The driver writes one command per call.
        match bytes[0] {
            0x19 => {
                let answer = device.metadata.clone().unwrap_or_default();
                device.to_host.extend(answer);
            }
            0x06 => {
                device.streaming = true;
                let stream = device.stream.clone();
                device.to_host.extend(stream);
            }
            0x07 => device.streaming = false,
            _ => {}
        }
        drop(device);
        self.device.1.notify_all();
        Ok(())
    }

    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let (lock, arrived) = &*self.device;
        let device = lock.lock().unwrap();
        let (mut device, _) =
            arrived.wait_timeout_while(device, Duration::from_millis(20), |d| d.to_host.is_empty() && !d.gone).unwrap();
        if device.to_host.is_empty() {
            return Err(if device.gone { io::ErrorKind::BrokenPipe } else { io::ErrorKind::TimedOut }.into());
        }
        let n = buf.len().min(self.chunk).min(device.to_host.len());
        for (slot, byte) in buf.iter_mut().zip(device.to_host.drain(..n)) {
            *slot = byte;
        }
        if device.streaming && device.vanish_after_stream && device.to_host.is_empty() {
            device.gone = true;
        }
        Ok(n)
    }

    fn try_clone(&self) -> io::Result<Box<dyn Ppk2Port>> {
        Ok(Box::new(self.clone()))
    }
}

fn config() -> Ppk2Config {
    let mut config = Ppk2Config::new("fake", Ppk2Mode::Source, 3300);
    config.spike_filter = false;
    config.metadata_timeout_s = 0.2;
    config
}

fn open(fake: &FakePpk2, config: Ppk2Config) -> Ppk2 {
    Ppk2::with_port(Box::new(fake.clone()), config).unwrap()
}

fn instrument_source(err: &PowerError) -> &InstrumentError {
    match err {
        PowerError::Instrument { source, .. } | PowerError::Unreachable { source, .. } => {
            source.downcast_ref::<InstrumentError>().unwrap_or_else(|| panic!("not an InstrumentError: {err}"))
        }
        other => panic!("not an instrument error: {other}"),
    }
}

fn assert_samples(capture: &Capture, trace: &Trace, samples: std::ops::Range<usize>) {
    for k in samples {
        let (got, want) = (capture.current_a[k], trace.current_a[k]);
        assert!((got - want).abs() <= 1e-12 * want.abs().max(1e-6), "sample {k}: {got} A, expected {want} A");
    }
}

#[test]
fn decodes_known_currents_and_the_marker() {
    let trace = case_trace();
    let fake = FakePpk2::new(Some(metadata_text()), trace.bytes.clone());
    let mut ppk2 = open(&fake, config());
    assert_eq!(
        ppk2.describe(),
        "Nordic PPK2 (HW 9173) on fake, source meter at 3300 mV, calibration from its metadata"
    );
    assert_eq!(ppk2.capabilities().sample_interval_s, 10e-6);
    ppk2.arm(&plan()).unwrap();
    let capture = ppk2.capture().unwrap();

    let len = expected_len(&trace);
    assert_eq!(capture.current_a.len(), len);
    assert_samples(&capture, &trace, 0..len);
    // Idle in range 0 and the inferences in range 2 really were decoded.
    assert_eq!((trace.range[30], trace.range[400]), (0, 2));
    assert_eq!(capture.marker, MarkerTrack::Logic(trace.marker[..len].to_vec()));
    assert_eq!(capture.timebase, Timebase::Uniform { start_s: 0.0, interval_s: 10e-6 });
    assert_eq!(capture.sample_kind, SampleKind::Mean);
    assert_eq!(capture.voltage, Voltage::Constant { volts: 3.3 });
    assert_eq!(capture.instrument, "Nordic PPK2 (HW 9173)");
    assert_eq!(capture.provenance, Provenance::Measured);
    // One count of range 0, the most sensitive range used.
    let resolution = CAL.ug[0] * CAL.gi[0] * 4.0 * 1.8 / 163_840.0 / CAL.r[0];
    assert!((capture.resolution_a - resolution).abs() < 1e-18, "{}", capture.resolution_a);
    assert_eq!(ppk2.lost_samples(), 0);

    // 3300 mV = 0x0CE4.
    let commands = fake.commands();
    let expected: [&[u8]; 7] = [&[0x07], &[0x19], &[0x11, 0x02], &[0x0D, 0x0C, 0xE4], &[0x0C, 0x01], &[0x06], &[0x07]];
    assert_eq!(commands, expected.map(<[u8]>::to_vec));
}

#[test]
fn a_second_capture_starts_afresh() {
    let trace = case_trace();
    let fake = FakePpk2::new(Some(metadata_text()), trace.bytes.clone());
    let mut ppk2 = open(&fake, config());
    for _ in 0..2 {
        ppk2.arm(&plan()).unwrap();
        let capture = ppk2.capture().unwrap();
        assert_eq!(capture.current_a.len(), expected_len(&trace));
        assert_samples(&capture, &trace, 0..expected_len(&trace));
        // Samples still in flight after AverageStop, ending in a partial word.
        let late = Trace::default().hold(0.5, true, 9).bytes;
        fake.device().to_host.extend(&late[..late.len() - 1]);
    }
}

#[test]
fn the_spike_filter_smooths_range_changes_by_default() {
    let trace = case_trace();
    let fake = FakePpk2::new(Some(metadata_text()), trace.bytes.clone());
    let mut ppk2 = open(&fake, Ppk2Config::new("fake", Ppk2Mode::Source, 3300));
    ppk2.arm(&plan()).unwrap();
    let capture = ppk2.capture().unwrap();
    // The first inference starts at sample 320 (range 0 -> 2).
    assert_eq!((trace.range[319], trace.range[320]), (0, 2));
    for k in 320..323 {
        assert!(capture.current_a[k] < 0.9 * trace.current_a[k], "sample {k} not smoothed: {}", capture.current_a[k]);
    }
    // (Samples 20..23 follow the boot glitch's range change.)
    assert_samples(&capture, &trace, 23..320);
    assert!((capture.current_a[323] - trace.current_a[323]).abs() < 1e-15);
}

#[test]
fn ampere_mode_takes_the_voltage_from_the_configuration() {
    let trace = case_trace();
    let fake = FakePpk2::new(Some(metadata_text()), trace.bytes.clone());
    let mut config = config();
    (config.mode, config.source_mv) = (Ppk2Mode::Ampere, 1800);
    let mut ppk2 = open(&fake, config);
    assert!(ppk2.describe().contains("ampere meter, supply 1800 mV as configured (the PPK2 does not measure it)"));
    ppk2.arm(&plan()).unwrap();
    let capture = ppk2.capture().unwrap();
    assert_eq!(capture.voltage, Voltage::Constant { volts: 1.8 });
    // 1800 mV = 0x0708.
    assert_eq!(&fake.commands()[2..5], [vec![0x11, 0x01], vec![0x0D, 0x07, 0x08], vec![0x0C, 0x01]]);
}

/// The case trace without samples `from..to` (whole words).
fn without_words(trace: &Trace, from: usize, to: usize) -> Vec<u8> {
    let mut bytes = trace.bytes[..from * 4].to_vec();
    bytes.extend(&trace.bytes[to * 4..]);
    bytes
}

#[test]
fn lost_samples_fail_the_capture_unless_allowed() {
    let trace = case_trace();
    // 7 words lost inside the first inference.
    let fake = FakePpk2::new(Some(metadata_text()), without_words(&trace, 350, 357));
    let mut ppk2 = open(&fake, config());
    ppk2.arm(&plan()).unwrap();
    let err = ppk2.capture().unwrap_err();
    let text = instrument_source(&err).to_string();
    assert!(text.contains("lost 7 samples (7 at 0.00350 s") && text.contains("max_lost_samples"), "{text}");

    let mut config = config();
    config.max_lost_samples = 10;
    let mut ppk2 = open(&fake, config);
    ppk2.arm(&plan()).unwrap();
    let capture = ppk2.capture().unwrap();
    assert_eq!(ppk2.lost_samples(), 7);
    // The time base is kept: the gap holds the last value.
    assert_eq!(capture.current_a.len(), expected_len(&trace));
    assert_samples(&capture, &trace, 0..350);
    assert!(capture.current_a[350..357].iter().all(|&a| a == capture.current_a[349]));
    assert!((capture.current_a[357] - trace.current_a[357]).abs() < 1e-15);
    assert!((capture.current_a[1200] - trace.current_a[1200]).abs() < 1e-15);
}

#[test]
fn a_partial_word_is_realigned() {
    let trace = case_trace();
    // Two bytes of sample 400 lost.
    let mut bytes = trace.bytes[..400 * 4 + 2].to_vec();
    bytes.extend(&trace.bytes[401 * 4..]);
    let fake = FakePpk2::new(Some(metadata_text()), bytes);
    let mut config = config();
    config.max_lost_samples = 1;
    let mut ppk2 = open(&fake, config);
    ppk2.arm(&plan()).unwrap();
    let capture = ppk2.capture().unwrap();
    assert_eq!(ppk2.lost_samples(), 1);
    assert_eq!(capture.current_a.len(), expected_len(&trace));
    assert_samples(&capture, &trace, 0..400);
    assert_eq!(capture.current_a[400], capture.current_a[399]);
    assert!((capture.current_a[401] - trace.current_a[401]).abs() < 1e-15);
    assert_eq!(capture.marker, MarkerTrack::Logic(trace.marker[..capture.current_a.len()].to_vec()));
}

#[test]
fn a_port_gone_mid_capture_is_a_disconnect() {
    let trace = case_trace();
    let fake = FakePpk2::new(Some(metadata_text()), trace.bytes[..450 * 4].to_vec());
    let mut ppk2 = open(&fake, config());
    fake.device().vanish_after_stream = true;
    ppk2.arm(&plan()).unwrap();
    let err = ppk2.capture().unwrap_err();
    assert!(matches!(err, PowerError::Instrument { .. }), "{err}");
    let source = instrument_source(&err);
    assert!(matches!(source, InstrumentError::Disconnected { .. }), "{source}");
    assert!(err.to_string().contains("Nordic PPK2 (HW 9173): the connection was lost"), "{err}");
}

#[test]
fn a_marker_never_seen_fails_after_the_capture_wait() {
    // The right currents, but D0 never moves.
    let mut trace = Trace::default().hold(IDLE_A, false, 300);
    for _ in 0..3 {
        trace = trace.hold(RUN_A, false, 100).hold(IDLE_A, false, 50);
    }
    let fake = FakePpk2::new(Some(metadata_text()), trace.bytes.clone());
    let mut ppk2 = open(&fake, config());
    let plan = CapturePlan { timeout_s: 0.1, ..plan() };
    ppk2.arm(&plan).unwrap();
    let started = Instant::now();
    let err = ppk2.capture().unwrap_err();
    // At most capture_wait_s after capture (here the 0.1 s timeout), not longer.
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(100) && waited < Duration::from_secs(2), "{waited:?}");
    let PowerError::MarkerNotSeen { instrument, expected, seen, hint } = &err else { panic!("{err}") };
    assert_eq!((instrument.as_str(), *expected, *seen), ("Nordic PPK2 (HW 9173)", 6, 0));
    assert!(hint.contains("marker pin → PPK2 logic input D0, with the PPK2's GND to the board's GND"), "{hint}");
    assert!(!hint.contains("idle baseline"), "{hint}");

    // D0 pulses, but never after a low stretch as long as the idle baseline.
    let mut trace = Trace::default();
    for _ in 0..20 {
        trace = trace.hold(RUN_A, true, 100).hold(IDLE_A, false, 100);
    }
    let fake = FakePpk2::new(Some(metadata_text()), trace.bytes.clone());
    let mut ppk2 = open(&fake, config());
    ppk2.arm(&plan).unwrap();
    let err = ppk2.capture().unwrap_err();
    let PowerError::MarkerNotSeen { seen, hint, .. } = &err else { panic!("{err}") };
    assert_eq!(*seen, 0);
    assert!(hint.contains("never stayed low for the 0.003 s idle baseline"), "{hint}");
}

#[test]
fn a_short_tail_is_kept_at_the_deadline() {
    // The stream stops 100 samples after the last edge (the tail wants 500).
    let trace = case_trace();
    let fake = FakePpk2::new(Some(metadata_text()), trace.bytes[..820 * 4].to_vec());
    let mut ppk2 = open(&fake, config());
    ppk2.arm(&CapturePlan { timeout_s: 1.0, ..plan() }).unwrap();
    let capture = ppk2.capture().unwrap();
    // The last word waits for a next one that never comes.
    assert_eq!(capture.current_a.len(), 819);
    assert_samples(&capture, &trace, 0..819);
}

#[test]
fn no_samples_at_all_is_a_timeout() {
    let fake = FakePpk2::new(Some(metadata_text()), Vec::new());
    let mut ppk2 = open(&fake, config());
    ppk2.arm(&CapturePlan { timeout_s: 0.0, ..plan() }).unwrap();
    let err = ppk2.capture().unwrap_err();
    assert!(matches!(instrument_source(&err), InstrumentError::Timeout { .. }), "{err}");
}

#[test]
fn missing_or_malformed_metadata_is_unreachable() {
    let fake = FakePpk2::new(None, Vec::new());
    let err = Ppk2::with_port(Box::new(fake.clone()), config()).unwrap_err();
    assert!(matches!(err, PowerError::Unreachable { .. }), "{err}");
    assert!(matches!(instrument_source(&err), InstrumentError::Timeout { .. }), "{err}");
    // Three tries, then nothing else was sent.
    assert_eq!(fake.commands(), [vec![0x07], vec![0x19], vec![0x19], vec![0x19]]);

    let fake = FakePpk2::new(Some("R0: 1000\nR1: ten\nEND\n".into()), Vec::new());
    let err = Ppk2::with_port(Box::new(fake), config()).unwrap_err();
    let source = instrument_source(&err);
    assert!(matches!(source, InstrumentError::Malformed { .. }) && source.to_string().contains("R1 `ten`"), "{err}");
}

#[test]
fn missing_calibration_keys_take_the_defaults_and_say_so() {
    let text = metadata_text().replace("GI3: 0.9519\n", "").replace("HW: 9173\n", "");
    let fake = FakePpk2::new(Some(text), Vec::new());
    let ppk2 = open(&fake, config());
    assert_eq!(ppk2.metadata().calibration.gi[3], 1.0);
    assert_eq!(
        ppk2.describe(),
        "Nordic PPK2 (HW not reported) on fake, source meter at 3300 mV, calibration from its metadata, \
         documented defaults for GI3"
    );
}

#[test]
fn a_stream_left_running_is_drained_before_the_metadata() {
    let fake = FakePpk2::new(Some(metadata_text()), Vec::new());
    fake.device().to_host.extend(case_trace().bytes[..1001].iter());
    let ppk2 = open(&fake, config());
    assert_eq!(ppk2.metadata().calibration.r_ohm[0], CAL.r[0]);
}

#[test]
fn a_source_voltage_outside_the_range_is_refused_before_anything_is_sent() {
    for mv in [799, 5001] {
        let fake = FakePpk2::new(Some(metadata_text()), Vec::new());
        let err = Ppk2::with_port(Box::new(fake.clone()), Ppk2Config::new("fake", Ppk2Mode::Source, mv)).unwrap_err();
        let PowerError::Unreachable { fix, .. } = &err else { panic!("{err}") };
        assert!(fix.contains("between 800 and 5000"), "{fix}");
        assert!(fake.commands().is_empty());
    }
}

#[test]
fn a_missing_port_is_unreachable_with_a_fix() {
    let err = Ppk2::open(Ppk2Config::new("/dev/tinybench-no-such-ppk2", Ppk2Mode::Source, 3300)).unwrap_err();
    let PowerError::Unreachable { instrument, fix, .. } = &err else { panic!("{err}") };
    assert_eq!(instrument, "Nordic PPK2 at /dev/tinybench-no-such-ppk2");
    assert!(fix.contains("is the PPK2 plugged in"), "{fix}");
}

#[test]
fn capture_without_arm_is_refused() {
    let fake = FakePpk2::new(Some(metadata_text()), Vec::new());
    let mut ppk2 = open(&fake, config());
    let err = ppk2.capture().unwrap_err();
    assert!(err.to_string().contains("without arm()"), "{err}");
}

/// A PPK2 on a pseudo-terminal, for the driver's real serial-port path
/// ([`Ppk2::open`]): a thread on the master side answers the metadata
/// request and plays a stream on AverageStart, optionally hanging up after it.
struct FakePpk2Pty {
    path: String,
    stop: Arc<std::sync::atomic::AtomicBool>,
    device: Option<std::thread::JoinHandle<Vec<u8>>>,
}

impl FakePpk2Pty {
    fn start(metadata: String, stream: Vec<u8>, hang_up_after_stream: bool) -> Self {
        use std::os::fd::{FromRawFd, OwnedFd};
        // SAFETY: plain libc call; the result is checked.
        let master = unsafe { libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_NONBLOCK) };
        assert!(master >= 0, "posix_openpt: {}", io::Error::last_os_error());
        // SAFETY: `master` is a fresh descriptor that nothing else owns.
        let master = unsafe { OwnedFd::from_raw_fd(master) };
        let fd = std::os::fd::AsRawFd::as_raw_fd(&master);
        let mut name = [0 as libc::c_char; 128];
        // SAFETY: `fd` is an open pty master; `name` is writable for its length.
        let ok = unsafe {
            libc::grantpt(fd) == 0 && libc::unlockpt(fd) == 0 && libc::ptsname_r(fd, name.as_mut_ptr(), name.len()) == 0
        };
        assert!(ok, "pty setup: {}", io::Error::last_os_error());
        // SAFETY: ptsname_r wrote a NUL-terminated string into `name`.
        let path = unsafe { std::ffi::CStr::from_ptr(name.as_ptr()) }.to_string_lossy().into_owned();
        // Hold the slave open so that the master never sees "no slave" (EIO)
        // between the driver's opens.
        let slave = std::fs::OpenOptions::new().read(true).write(true).open(&path).unwrap();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let thread_stop = Arc::clone(&stop);
        let device = std::thread::spawn(move || {
            let _slave = slave;
            let mut master = std::fs::File::from(master);
            let (mut received, mut parsed, mut outbox, mut streaming) = (Vec::new(), 0, VecDeque::new(), false);
            while !thread_stop.load(std::sync::atomic::Ordering::Acquire) {
                if hang_up_after_stream && streaming && outbox.is_empty() {
                    break;
                }
                let events = if outbox.is_empty() { libc::POLLIN } else { libc::POLLIN | libc::POLLOUT };
                let mut pollfd = libc::pollfd { fd, events, revents: 0 };
                // SAFETY: one valid pollfd for the duration of the call.
                if unsafe { libc::poll(&mut pollfd, 1, 20) } <= 0 {
                    continue;
                }
                let mut buf = [0u8; 4096];
                if pollfd.revents & libc::POLLIN != 0 {
                    if let Ok(n) = io::Read::read(&mut master, &mut buf) {
                        received.extend_from_slice(&buf[..n]);
                    }
                    while parsed < received.len() {
                        let len = match received[parsed] {
                            0x0C | 0x11 => 2,
                            0x0D => 3,
                            _ => 1,
                        };
                        if parsed + len > received.len() {
                            break;
                        }
                        match received[parsed] {
                            0x19 => outbox.extend(metadata.bytes()),
                            0x06 => {
                                outbox.extend(stream.iter().copied());
                                streaming = true;
                            }
                            _ => {}
                        }
                        parsed += len;
                    }
                }
                if pollfd.revents & libc::POLLOUT != 0 && !outbox.is_empty() {
                    let chunk: Vec<u8> = outbox.iter().take(4096).copied().collect();
                    if let Ok(n) = io::Write::write(&mut master, &chunk) {
                        outbox.drain(..n);
                    }
                }
            }
            received
        });
        FakePpk2Pty { path, stop, device: Some(device) }
    }

    /// Stops the device; what the host sent.
    fn finish(mut self) -> Vec<u8> {
        self.stop.store(true, std::sync::atomic::Ordering::Release);
        self.device.take().map(|d| d.join().unwrap()).unwrap_or_default()
    }
}

impl Drop for FakePpk2Pty {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Release);
    }
}

#[test]
fn over_a_pseudo_terminal() {
    let trace = case_trace();
    let pty = FakePpk2Pty::start(metadata_text(), trace.bytes.clone(), false);
    let mut config = config();
    config.port = pty.path.clone();
    // The DTR request fails on a pseudo-terminal; the driver carries on.
    let mut ppk2 = Ppk2::open(config).unwrap();
    ppk2.arm(&plan()).unwrap();
    let capture = ppk2.capture().unwrap();
    assert_eq!(capture.current_a.len(), expected_len(&trace));
    assert_samples(&capture, &trace, 0..expected_len(&trace));
    assert_eq!(capture.marker, MarkerTrack::Logic(trace.marker[..expected_len(&trace)].to_vec()));
    drop(ppk2);
    let received = pty.finish();
    assert_eq!(received, [0x07, 0x19, 0x11, 0x02, 0x0D, 0x0C, 0xE4, 0x0C, 0x01, 0x06, 0x07]);
}

#[test]
fn a_pseudo_terminal_hanging_up_mid_capture_is_a_disconnect() {
    let trace = case_trace();
    let pty = FakePpk2Pty::start(metadata_text(), trace.bytes[..450 * 4].to_vec(), true);
    let mut config = config();
    config.port = pty.path.clone();
    let mut ppk2 = Ppk2::open(config).unwrap();
    ppk2.arm(&plan()).unwrap();
    let err = ppk2.capture().unwrap_err();
    let source = instrument_source(&err);
    assert!(matches!(source, InstrumentError::Disconnected { .. }), "{err}");
    pty.finish();
}
