//! The simulated PPK2 over its pseudo-terminal, seen by a minimal client
//! written here from the protocol description (not the driver): metadata,
//! commands, the stream's rate and word layout, played currents decoded with
//! the metadata's calibration, and the injected faults.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

use serialport::TTYPort;
use tinybench_instruments::ppk2::sim::{Corruption, PowerMode, Ppk2Sim, SampleDrop, SimFaults, SimOptions};
use tinybench_power::Waveform;

/// Generous: the test machine may be busy.
const DEADLINE: Duration = Duration::from_secs(20);

struct Client {
    port: TTYPort,
    /// Received and not yet taken.
    pending: Vec<u8>,
}

impl Client {
    fn open(sim: &Ppk2Sim) -> Client {
        let path = sim.port_path();
        let port = serialport::new(path.to_string_lossy(), 9600)
            .timeout(Duration::from_millis(50))
            .open_native()
            .expect("open the simulator's port");
        Client { port, pending: Vec::new() }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.port.write_all(bytes).expect("write a command");
    }

    /// Reads until `done(pending)` or the deadline; returns whether the port
    /// failed (a disconnect) first.
    fn fill_until(&mut self, mut done: impl FnMut(&[u8]) -> bool) -> bool {
        let start = Instant::now();
        let mut buf = [0u8; 4096];
        while !done(&self.pending) {
            assert!(start.elapsed() < DEADLINE, "timed out with {} bytes", self.pending.len());
            match self.port.read(&mut buf) {
                Ok(0) => return true,
                Ok(n) => self.pending.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(_) => return true,
            }
        }
        false
    }

    fn take(&mut self, n: usize) -> Vec<u8> {
        self.pending.drain(..n).collect()
    }

    /// Sends GetMetaData and returns the answer (dropping stream bytes before it).
    fn metadata(&mut self) -> String {
        self.send(&[0x19]);
        let end = |r: &[u8]| r.windows(4).position(|w| w == b"END\n");
        assert!(!self.fill_until(|r| end(r).is_some()));
        let bytes = self.take(end(&self.pending).unwrap_or(0) + 4);
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let at = text.rfind("Calibrated").expect("metadata starts with Calibrated");
        text[at..].to_string()
    }

    fn samples(&mut self, count: usize) -> Vec<u32> {
        assert!(!self.fill_until(|r| r.len() >= count * 4));
        words(&self.take(count * 4))
    }
}

fn words(bytes: &[u8]) -> Vec<u32> {
    bytes.chunks_exact(4).map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]])).collect()
}

fn counter(word: u32) -> u32 {
    (word >> 18) & 0x3F
}

fn logic(word: u32) -> u32 {
    word >> 24
}

/// The documented conversion with the metadata's calibration, written for
/// this test.
struct Decoder {
    keys: HashMap<String, f64>,
    vdd_mv: f64,
}

impl Decoder {
    fn new(metadata: &str, vdd_mv: f64) -> Decoder {
        let mut keys = HashMap::new();
        for line in metadata.lines().take_while(|l| *l != "END") {
            let (key, value) = line.split_once(": ").expect("Key: value");
            keys.insert(key.to_string(), value.parse::<f64>().expect("a number"));
        }
        Decoder { keys, vdd_mv }
    }

    fn key(&self, name: &str, range: u32) -> f64 {
        self.keys[&format!("{name}{range}")]
    }

    fn current_at(&self, range: u32, code: u32) -> f64 {
        let adc = f64::from(code * 4);
        let r = (adc - self.key("O", range)) * (1.8 / 163840.0) / self.key("R", range);
        self.key("UG", range)
            * (r * (self.key("GS", range) * r + self.key("GI", range))
                + (self.key("S", range) * self.vdd_mv / 1000.0 + self.key("I", range)))
    }

    fn current(&self, word: u32) -> f64 {
        self.current_at(((word >> 14) & 7).min(4), word & 0x3FFF)
    }

    /// Half the larger step to the neighbouring codes.
    fn half_step(&self, word: u32) -> f64 {
        let (range, code) = (((word >> 14) & 7).min(4), word & 0x3FFF);
        let at = self.current_at(range, code);
        let up = (self.current_at(range, (code + 1).min(0x3FFF)) - at).abs();
        let down = (at - self.current_at(range, code.saturating_sub(1))).abs();
        up.max(down) / 2.0
    }
}

/// Source mode at `vdd_mv` (RegulatorSet high byte first), DUT power on or off.
fn configure(client: &mut Client, vdd_mv: u16, dut_power: bool) {
    client.send(&[0x11, 0x02]);
    client.send(&[0x0D, (vdd_mv >> 8) as u8, (vdd_mv & 0xFF) as u8]);
    client.send(&[0x0C, u8::from(dut_power)]);
}

fn segments(currents_a: &[f64], samples_each: usize) -> Waveform {
    let mut current_a = Vec::new();
    let mut marker = Vec::new();
    for (k, &c) in currents_a.iter().enumerate() {
        current_a.extend(std::iter::repeat_n(c, samples_each));
        // Low in the first segment, then alternating: every later boundary is an edge.
        marker.extend(std::iter::repeat_n(k % 2 == 1, samples_each));
    }
    let n = current_a.len();
    Waveform { interval_s: 10e-6, current_a, voltage_v: vec![3.3; n], marker }
}

#[test]
fn metadata_lists_the_calibration_and_ends_with_end() {
    let sim = Ppk2Sim::start().unwrap();
    let mut client = Client::open(&sim);
    let text = client.metadata();
    assert!(text.starts_with("Calibrated: 0\nR0: 1003.3506\nR1: 101.5865\n"), "{text}");
    assert!(text.ends_with("UG4: 1.00\nIA: 56\nEND\n"), "{text}");
    assert!(text.contains("\nVDD: 3000\nHW: 9173\nmode: 2\n"), "{text}");
    let decoder = Decoder::new(&text, 3000.0);
    for key in ["R", "GS", "GI", "O", "S", "I", "UG"] {
        for range in 0..5 {
            assert!(decoder.key(key, range).is_finite());
        }
    }
    assert_eq!(decoder.keys.len(), 5 * 7 + 5, "Calibrated, VDD, HW, mode, IA");
}

#[test]
fn regulator_mode_dut_gain_and_reset_commands() {
    let sim = Ppk2Sim::start().unwrap();
    let mut client = Client::open(&sim);
    // ppk2-api-python's encoding of 1800 mV: d = 1800 - 800 + 32 = 1032 -> [3 + 4, 8].
    client.send(&[0x0D, 7, 8]);
    client.send(&[0x11, 0x01, 0x0C, 0x01]);
    let gain = 1.25f32.to_le_bytes();
    client.send(&[0x25, 2, gain[0], gain[1], gain[2], gain[3]]);
    let text = client.metadata();
    assert!(text.contains("\nVDD: 1800\nHW: 9173\nmode: 1\n"), "{text}");
    assert!(text.contains("\nUG2: 1.25\n"), "{text}");
    let status = sim.status();
    assert_eq!((status.vdd_mv, status.mode, status.dut_power), (1800, PowerMode::Ampere, true));
    // Out of range clamps; SetPowerMode 2 is the source meter.
    client.send(&[0x0D, 0x27, 0x10, 0x11, 0x02]);
    assert!(client.metadata().contains("\nVDD: 5000\nHW: 9173\nmode: 2\n"));
    // Reset restores the power-up state and stops the stream.
    client.send(&[0x06]);
    client.samples(100);
    client.send(&[0x20]);
    let text = client.metadata();
    assert!(text.contains("\nVDD: 3000\nHW: 9173\nmode: 2\n"), "{text}");
    let status = sim.status();
    assert!(!status.streaming && !status.dut_power);
}

#[test]
fn streams_about_100k_samples_per_second_without_gaps() {
    let sim = Ppk2Sim::start().unwrap();
    let mut client = Client::open(&sim);
    configure(&mut client, 3000, true);
    client.send(&[0x06]);
    let window = Duration::from_secs(2);
    assert!(!client.fill_until(|r| !r.is_empty()));
    let first = client.pending.len();
    let t0 = Instant::now();
    assert!(!client.fill_until(|_| t0.elapsed() >= window));
    let rate_hz = ((client.pending.len() - first) / 4) as f64 / t0.elapsed().as_secs_f64();
    assert!((60_000.0..140_000.0).contains(&rate_hz), "{rate_hz} samples/s");
    let whole = client.pending.len() / 4 * 4;
    let bytes = client.take(whole);
    // The simulator kept up: no counter gap in two seconds.
    let words = words(&bytes);
    for pair in words.windows(2) {
        assert_eq!(counter(pair[1]), (counter(pair[0]) + 1) % 64);
    }
    client.send(&[0x07]);
}

#[test]
fn played_currents_and_marker_come_back_through_the_calibration() {
    let sim = Ppk2Sim::start().unwrap();
    let mut client = Client::open(&sim);
    configure(&mut client, 3300, true);
    let decoder = Decoder::new(&client.metadata(), 3300.0);
    client.send(&[0x06]);
    // 0 A before anything is played, marker low.
    for word in client.samples(500) {
        assert!(decoder.current(word).abs() <= decoder.half_step(word), "{}", decoder.current(word));
        assert_eq!(logic(word), 0);
    }
    // Ranges' tops with this calibration: about 0.72 mA, 12.5 mA, 155 mA, 2.06 A.
    let currents_a = [0.0, 2e-6, 1.5e-4, 6e-4, 3e-3, 1.1e-2, 4e-2, 0.12, 0.4, 1.5, 3.0, 0.0];
    let each = 200;
    sim.play(&segments(&currents_a, each));
    let words = client.samples(20_000);

    // Layout: the counter counts and wraps; bit 17 is clear; only D0 is used.
    for pair in words.windows(2) {
        assert_eq!(counter(pair[1]), (counter(pair[0]) + 1) % 64);
    }
    assert!(words.iter().all(|w| w & (1 << 17) == 0 && logic(*w) <= 1 && ((w >> 14) & 7) <= 4));
    // D0 follows the marker: an edge at every segment boundary after the
    // first, and at the end (the last segment is high, then low after it).
    let edges: Vec<usize> = (1..words.len()).filter(|&k| logic(words[k]) != logic(words[k - 1])).collect();
    assert_eq!(edges.len(), currents_a.len(), "{edges:?}");
    for (k, pair) in edges.windows(2).enumerate() {
        assert_eq!(pair[1] - pair[0], each, "segment {}", k + 1);
    }
    let start = edges[0] - each;
    for (segment, &expected_a) in currents_a.iter().enumerate() {
        for word in &words[start + segment * each..start + (segment + 1) * each] {
            let got_a = decoder.current(*word);
            assert!(
                (got_a - expected_a).abs() <= decoder.half_step(*word) * (1.0 + 1e-9),
                "segment {segment}: {got_a} A for {expected_a} A (word {word:#010x})"
            );
        }
    }
    // The most sensitive range that holds each current.
    let ranges: Vec<u32> = (0..currents_a.len()).map(|s| (words[start + s * each + each / 2] >> 14) & 7).collect();
    assert_eq!(ranges, [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 0]);
    // After the end: 0 A, marker low.
    let after = start + currents_a.len() * each;
    for word in &words[after..] {
        assert!(decoder.current(*word).abs() <= decoder.half_step(*word));
        assert_eq!(logic(*word), 0);
    }
}

#[test]
fn dut_power_off_measures_zero_but_the_marker_still_shows() {
    let sim = Ppk2Sim::start().unwrap();
    let mut client = Client::open(&sim);
    configure(&mut client, 3000, false);
    client.send(&[0x11, 0x01]); // ampere meter
    let decoder = Decoder::new(&client.metadata(), 3000.0);
    client.send(&[0x06]);
    client.samples(10);
    sim.play(&segments(&[5e-3, 5e-3, 5e-3], 300));
    let words = client.samples(5000);
    assert!(words.iter().any(|w| logic(*w) == 1));
    for word in words {
        assert!(decoder.current(word).abs() <= decoder.half_step(word), "{}", decoder.current(word));
    }
}

#[test]
fn disconnect_fault_closes_the_port_mid_stream() {
    let faults = SimFaults { disconnect_after_samples: Some(5000), ..SimFaults::default() };
    let sim = Ppk2Sim::start_with(SimOptions { faults, play_on_start: None }).unwrap();
    let mut client = Client::open(&sim);
    client.send(&[0x06]);
    assert!(client.fill_until(|_| false), "the port should fail");
    let received = client.pending.len();
    assert!(received > 0 && received <= 5000 * 4 && received.is_multiple_of(4), "{received} bytes");
    assert!(sim.status().disconnected);
}

#[test]
fn drop_fault_skips_counter_values() {
    let faults =
        SimFaults { drop_samples: Some(SampleDrop { after_samples: 1000, count: 10 }), ..SimFaults::default() };
    let sim = Ppk2Sim::start_with(SimOptions { faults, play_on_start: None }).unwrap();
    let mut client = Client::open(&sim);
    client.send(&[0x06]);
    let words = client.samples(2000);
    let jumps: Vec<(usize, u32)> = (1..words.len())
        .map(|k| (k, (counter(words[k]) + 64 - counter(words[k - 1])) % 64))
        .filter(|&(_, step)| step != 1)
        .collect();
    assert_eq!(jumps, [(1000, 11)]);
}

#[test]
fn corrupt_fault_inserts_bytes_and_metadata_fault_stays_silent() {
    let faults = SimFaults {
        corrupt: Some(Corruption { after_samples: 100, bytes: vec![0xFF, 0xFF, 0xFF] }),
        no_metadata: true,
        ..SimFaults::default()
    };
    let sim = Ppk2Sim::start_with(SimOptions { faults, play_on_start: None }).unwrap();
    let mut client = Client::open(&sim);
    // GetMetaData gets no answer: the first bytes are already sample words.
    client.send(&[0x19, 0x06]);
    assert!(!client.fill_until(|r| r.len() >= 200 * 4 + 3));
    let bytes = client.take(200 * 4 + 3);
    assert!(!bytes.windows(3).any(|w| w == b"END"));
    assert_eq!(&bytes[400..403], &[0xFF, 0xFF, 0xFF]);
    let before = words(&bytes[..400]);
    let after = words(&bytes[403..200 * 4 + 3]);
    assert_eq!(counter(after[0]), (counter(before[99]) + 1) % 64);
    assert!(before.iter().chain(&after).all(|w| logic(*w) == 0));
}

#[test]
fn serve_like_start_plays_the_waveform_at_every_stream_start() {
    let waveform = segments(&[1e-3, 1e-3], 100);
    let sim = Ppk2Sim::start_with(SimOptions { faults: SimFaults::default(), play_on_start: Some(waveform) }).unwrap();
    let mut client = Client::open(&sim);
    configure(&mut client, 3000, true);
    let decoder = Decoder::new(&client.metadata(), 3000.0);
    for _ in 0..2 {
        client.send(&[0x06]);
        let words = client.samples(400);
        // The stream starts with the waveform: 100 low then 100 high samples, then 0 A.
        let highs: Vec<usize> = (0..words.len()).filter(|&k| logic(words[k]) == 1).collect();
        assert_eq!(highs, (100..200).collect::<Vec<_>>());
        assert!((decoder.current(words[0]) - 1e-3).abs() <= decoder.half_step(words[0]));
        assert!(decoder.current(words[300]).abs() <= decoder.half_step(words[300]));
        client.send(&[0x07]);
        // Take what was in flight before starting again.
        client.metadata();
    }
}
