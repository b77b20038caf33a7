//! The Nordic Power Profiler Kit II over its USB serial port (CDC ACM), as a
//! [`PowerMeter`] whose marker is the PPK2's logic input D0.
//!
//! Written from the protocol as the open implementations use it:
//! IRNAS/ppk2-api-python (`src/ppk2_api/ppk2_api.py`), hdoordt/ppk2-rs
//! (`src/cmd.rs`, `src/measurement.rs`, `src/types.rs`) and, as the
//! reference, Nordic's own app NordicSemiconductor/pc-nrfconnect-ppk
//! (`src/device/serialDevice.ts`, `src/device/abstractDevice.ts`,
//! `src/constants.ts`, `src/actions/deviceActions.ts`).
//!
//! We do not use the `ppk2` crate (ppk2-rs): it opens ports only by path
//! (no simulator or test double behind it), forces serialport's `libudev`
//! feature, which breaks this workspace's build (no system libudev), delivers
//! only averages over blocks of samples, and drops samples whose counter
//! jumps instead of keeping the time base.
//!
//! # Protocol facts used
//! - The port: USB CDC ACM, opened at 9600 baud (ignored by CDC; the python
//!   API's value). DTR is set best-effort (ppk2-rs: "Required to work on
//!   Windows"; a pseudo-terminal refuses it).
//! - Commands are raw bytes, the opcode first: `0x06` AverageStart (start
//!   streaming), `0x07` AverageStop, `0x0C <0|1>` DeviceRunningSet (DUT power
//!   off/on), `0x0D <hi> <lo>` RegulatorSet, `0x11 <1|2>` SetPowerMode
//!   (1 ampere meter, 2 source meter), `0x19` GetMetaData (constants.ts,
//!   cmd.rs). No command is acknowledged.
//! - RegulatorSet: python computes `d = mV - 800 + 32; b1 = 3 + d / 256;
//!   b2 = d % 256` after clamping to 800..=5000 mV; that is the millivolts
//!   big-endian, as Nordic's app sends them (`[0x0D, vdd >> 8, vdd & 0xff]`).
//!   This driver refuses a voltage outside the range instead of clamping.
//! - GetMetaData answers text lines `Key: value` ending with a line `END`
//!   (ppk2-rs quotes a real answer): `Calibrated`, `R0`..`R4`, `GS0`..`GS4`,
//!   `GI0`..`GI4`, `O0`..`O4`, `VDD`, `HW`, `mode`, `S0`..`S4`, `I0`..`I4`,
//!   `UG0`..`UG4`, `IA`. Nordic's app lower-cases the keys and reads `-nan`
//!   as null; the documented defaults are `R = [1031.64, 101.65, 10.15, 0.94,
//!   0.043]` ohm, `GS = GI = UG = 1`, `O = S = I = 0`. Where a value is
//!   missing or null, Nordic's app and the python API take the default; for a
//!   zero, the python API keeps it except in `R` (skipped: "wrong calibration
//!   values" on some units), ppk2-rs keeps it, Nordic's app takes the default
//!   (`meta[key] || default`). This driver takes the default where a value is
//!   missing or not a finite number, or zero in `R`, `GI` or `UG` (where the
//!   reading would be infinite or ignore the ADC), keeps other zeros (a real
//!   unit reports `GS0: 0.0000`; Nordic's 1 there differs by `r^2`, at most
//!   0.07 % at the top of range 0), and names the defaulted keys in
//!   [`Ppk2::describe`].
//! - Streaming: 100 000 samples per second (`adcSamplingTimeUs = 10`), each a
//!   4-byte little-endian word: bits 0-13 ADC, 14-16 current range (0..=4,
//!   clamped to 4), 18-23 a counter wrapping at 64, 24-31 logic inputs D0-D7.
//! - Conversion (serialDevice.ts `getAdcResult`, the same in the python API
//!   and ppk2-rs): `adc = ADC * 4; r = (adc - O[range]) * (1.8 / 163840) /
//!   R[range]; I = UG[range] * (r * (GS[range] * r + GI[range]) + (S[range] *
//!   VDD + I[range]))` in amperes, with `VDD` in volts the regulator setting
//!   (Nordic's `currentVdd`, python's `current_vdd`; ppk2-rs uses the
//!   metadata's `VDD`, the setting before the host changed it). This driver
//!   uses the configured `source_mv` in both modes.
//! - Spike filter (serialDevice.ts, on by default in Nordic's app): for the
//!   3 samples after a range change, the output is an exponential moving
//!   average (alpha 0.18; in range 4 alpha 0.06, the first two samples keep
//!   the averages from before the change). Optional here
//!   ([`Ppk2Config::spike_filter`], on by default).
//! - Lost samples: Nordic's app fills words missing by the counter with
//!   empty samples and reports data loss past 500 samples (5 ms), pointing to
//!   USB hubs and cables (doc/docs/troubleshooting.md).
//! - Modes: Nordic's app turns the DUT power on when it selects the ampere
//!   meter ("turns this option on by default", doc/docs/overview.md); in
//!   source mode the user does; the python API's example sets the mode, the
//!   voltage, then the DUT power.
//!
//! # What this driver does with them
//! - [`Ppk2::open`]: stop any stream and drain the port, GetMetaData (up to
//!   three tries, like ppk2-rs), SetPowerMode, RegulatorSet `source_mv`,
//!   DeviceRunningSet 1 (in both modes). Dropping the driver stops streaming
//!   but leaves the DUT powered: the runner flashes and runs the board through
//!   it.
//! - [`PowerMeter::arm`]: drain, AverageStart, and a thread that reads large
//!   blocks and decodes them as they come.
//! - Time base: sample `k` is at `k * 10 us` after the first word.
//!   Words the counter shows missing are filled with the last value and
//!   marker level, so the time base stays right, and counted; more than
//!   [`Ppk2Config::max_lost_samples`] in a capture fail it (default 0: a
//!   measurement with holes is not silently reported). A gap of a multiple
//!   of 64 words cannot be seen.
//! - Byte alignment: the stream has no framing; a word starts every four
//!   bytes from AverageStart on. USB delivers a bulk packet whole or not at
//!   all, so the Nordic app only watches the counter and never re-aligns.
//!   In case a partial word is ever lost, this driver re-aligns: when the
//!   counter breaks it takes the byte offset (0..=3) at which 8 words count
//!   up in a row (the skipped bytes' word then shows as lost), and fails
//!   the capture as malformed if there is none.
//! - [`PowerMeter::capture`] returns once `iterations * edges_per_inference`
//!   edges of D0 have come after D0 stayed low for 90 % of `idle_s` (the
//!   firmware times its idle wait with its own clock), plus
//!   [`Ppk2Config::tail_s`]; edges before that low stretch (a pin settling at
//!   reset) do not count. It waits at most
//!   [`CapturePlan::capture_wait_s`] after its call, then fails with
//!   [`PowerError::MarkerNotSeen`] (or returns what it has if only the tail
//!   is short). Samples past the end are not kept.
//! - Voltage: the configured `source_mv`, set in source mode; in ampere mode
//!   the PPK2 does not measure the supply, the configuration states it.
//! - Resolution: one ADC count of the most sensitive range the capture used
//!   (`UG * GI * 4 * 1.8 / 163840 / R` amperes: about 43 nA in range 0 with
//!   the default calibration, 1 mA in range 4).

mod protocol;
mod stream;

pub use protocol::{Calibration, Metadata, SOURCE_MV_MAX, SOURCE_MV_MIN};

use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tinybench_power::{
    Capabilities, Capture, CapturePlan, MarkerInput, MarkerTrack, PowerError, PowerMeter, Provenance, SampleKind,
    Timebase, Voltage,
};

use self::protocol::{RANGES, SampleWord, SpikeFilter, opcode, regulator_set};
use self::stream::{Event, WordStream};
use crate::InstrumentError;

/// The PPK2's sample interval.
pub const SAMPLE_INTERVAL_S: f64 = 10e-6;

/// How the PPK2 is wired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ppk2Mode {
    /// Source meter: the PPK2 powers the board at `source_mv` from VOUT.
    Source,
    /// Ampere meter: the board's own supply runs through VIN -> VOUT.
    Ampere,
}

/// How to reach and set up a PPK2.
#[derive(Debug, Clone, PartialEq)]
pub struct Ppk2Config {
    /// Its serial port, e.g. `/dev/ttyACM0`.
    pub port: String,
    pub mode: Ppk2Mode,
    /// Source mode: the voltage to supply (800..=5000 mV). Ampere mode: the
    /// board's supply voltage, which the PPK2 does not measure (used for the
    /// capture's voltage and the calibration's supply term).
    pub source_mv: u32,
    /// Apply the Nordic app's spike filter after range changes.
    pub spike_filter: bool,
    /// Lost samples a capture may have (filled by holding the last value)
    /// before it fails.
    pub max_lost_samples: u64,
    /// Samples kept after the last expected marker edge, in seconds.
    pub tail_s: f64,
    /// How long to wait for the metadata, per try, in seconds.
    pub metadata_timeout_s: f64,
}

impl Ppk2Config {
    /// The defaults: spike filter on, no lost samples, 5 ms tail, 1 s per
    /// metadata try.
    pub fn new(port: impl Into<String>, mode: Ppk2Mode, source_mv: u32) -> Self {
        Ppk2Config {
            port: port.into(),
            mode,
            source_mv,
            spike_filter: true,
            max_lost_samples: 0,
            tail_s: 0.005,
            metadata_timeout_s: 1.0,
        }
    }
}

/// A byte connection to a PPK2: its serial port ([`Ppk2::open`]), or a
/// test double or simulator ([`Ppk2::with_port`]).
pub trait Ppk2Port: Send {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()>;

    /// Reads what has arrived, waiting a short while (about 50 ms) for
    /// something: `ErrorKind::TimedOut` if nothing came, `Ok(0)` or another
    /// error if the connection is gone.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize>;

    /// A second handle for the reading thread.
    fn try_clone(&self) -> io::Result<Box<dyn Ppk2Port>>;

    /// Discards what arrived and was not read yet.
    fn clear_input(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// How long a serial read waits, which is also how quickly the reading
/// thread notices it should stop.
const READ_TIMEOUT: Duration = Duration::from_millis(50);

/// Bytes per read: 16 384 samples, 0.16 s of streaming.
const READ_CHUNK: usize = 64 * 1024;

/// Added to the plan's timeout for the USB latency.
const LATENCY_GRACE_S: f64 = 1.0;

/// The longest a drain waits for the port to fall quiet.
const DRAIN_LIMIT: Duration = Duration::from_secs(1);

const METADATA_TRIES: u32 = 3;

const WIRING_HINT: &str = "the board's marker pin → PPK2 logic input D0, with the PPK2's GND to the board's GND";

struct SerialLink(Box<dyn serialport::SerialPort>);

impl Ppk2Port for SerialLink {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        Write::write_all(&mut self.0, bytes)
    }

    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Read::read(&mut self.0, buf)
    }

    fn try_clone(&self) -> io::Result<Box<dyn Ppk2Port>> {
        Ok(Box::new(SerialLink(self.0.try_clone()?)))
    }

    fn clear_input(&mut self) -> io::Result<()> {
        Ok(self.0.clear(serialport::ClearBuffer::Input)?)
    }
}

/// A Nordic PPK2 (see the [module documentation](self)).
pub struct Ppk2 {
    config: Ppk2Config,
    port: Box<dyn Ppk2Port>,
    metadata: Metadata,
    identity: String,
    armed: Option<Armed>,
    lost_samples: u64,
}

impl std::fmt::Debug for Ppk2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ppk2")
            .field("config", &self.config)
            .field("identity", &self.identity)
            .field("armed", &self.armed.is_some())
            .finish_non_exhaustive()
    }
}

impl Ppk2 {
    /// Opens the PPK2 at `config.port` and sets it up (see the module
    /// documentation).
    pub fn open(config: Ppk2Config) -> Result<Ppk2, PowerError> {
        check_source_mv(&config)?;
        let port = serialport::new(config.port.as_str(), 9600).timeout(READ_TIMEOUT).open().map_err(|e| {
            let fix = open_fix(&config.port, &e);
            PowerError::Unreachable { instrument: port_name(&config), fix, source: Box::new(e) }
        })?;
        let mut link = SerialLink(port);
        // Best effort: a pseudo-terminal (the simulator) refuses it.
        let _ = link.0.write_data_terminal_ready(true);
        Ppk2::with_port(Box::new(link), config)
    }

    /// Sets up a PPK2 behind `port` (a test double or a simulator);
    /// `config.port` only names it.
    pub fn with_port(mut port: Box<dyn Ppk2Port>, config: Ppk2Config) -> Result<Ppk2, PowerError> {
        let regulator = check_source_mv(&config)?;
        let unreachable = |source: InstrumentError| PowerError::Unreachable {
            instrument: port_name(&config),
            fix: "unplug the PPK2 and plug it in again, check that the port is the PPK2's, then run again".into(),
            source: Box::new(source),
        };
        // A stream left running by an earlier program would bury the answer.
        send(port.as_mut(), &[opcode::AVERAGE_STOP], "AverageStop (0x07)").map_err(unreachable)?;
        drain(port.as_mut()).map_err(unreachable)?;
        let metadata = read_metadata(port.as_mut(), &config).map_err(unreachable)?;
        let mode = match config.mode {
            Ppk2Mode::Ampere => 1,
            Ppk2Mode::Source => 2,
        };
        send(port.as_mut(), &[opcode::SET_POWER_MODE, mode], "SetPowerMode (0x11)").map_err(unreachable)?;
        send(port.as_mut(), &regulator, "RegulatorSet (0x0D)").map_err(unreachable)?;
        send(port.as_mut(), &[opcode::DEVICE_RUNNING_SET, 1], "DeviceRunningSet (0x0C)").map_err(unreachable)?;
        let identity = match &metadata.hw {
            Some(hw) => format!("Nordic PPK2 (HW {hw})"),
            None => "Nordic PPK2 (HW not reported)".to_string(),
        };
        Ok(Ppk2 { config, port, metadata, identity, armed: None, lost_samples: 0 })
    }

    /// What the PPK2 said about itself, with the calibration in use.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// Samples the last capture lost (filled by holding the last value).
    pub fn lost_samples(&self) -> u64 {
        self.lost_samples
    }

    fn instrument_error(&self, source: InstrumentError) -> PowerError {
        PowerError::Instrument { instrument: self.identity.clone(), source: Box::new(source) }
    }

    /// Stops the reading thread and the stream; returns what was read.
    fn stop(&mut self, armed: Armed) -> Acquisition {
        armed.shared.stop.store(true, Ordering::Release);
        // Not reported: a whole capture is whole even if the port went away
        // just after it, and otherwise the capture's own failure says more.
        let _ = self.port.write_all(&[opcode::AVERAGE_STOP]);
        let joined = armed.reader.join();
        let mut acquisition = std::mem::take(&mut *lock(&armed.shared.acquisition));
        if joined.is_err() && acquisition.failure.is_none() {
            acquisition.failure = Some(InstrumentError::Other(
                "the PPK2 reading thread panicked; this is a bug in tinybench, please report it".into(),
            ));
        }
        acquisition
    }
}

impl Drop for Ppk2 {
    fn drop(&mut self) {
        if let Some(armed) = self.armed.take() {
            let _ = self.stop(armed);
        }
    }
}

impl PowerMeter for Ppk2 {
    fn describe(&self) -> String {
        let mode = match self.config.mode {
            Ppk2Mode::Source => format!("source meter at {} mV", self.config.source_mv),
            Ppk2Mode::Ampere => {
                format!(
                    "ampere meter, supply {} mV as configured (the PPK2 does not measure it)",
                    self.config.source_mv
                )
            }
        };
        let defaulted = &self.metadata.calibration.defaulted;
        let calibration = if defaulted.is_empty() {
            "calibration from its metadata".to_string()
        } else {
            format!("calibration from its metadata, documented defaults for {}", defaulted.join(", "))
        };
        format!("{} on {}, {mode}, {calibration}", self.identity, self.config.port)
    }

    fn provenance(&self) -> Provenance {
        Provenance::Measured
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { sample_interval_s: SAMPLE_INTERVAL_S, marker: MarkerInput::Logic, voltage: false }
    }

    fn arm(&mut self, plan: &CapturePlan) -> Result<(), PowerError> {
        if let Some(previous) = self.armed.take() {
            let _ = self.stop(previous);
        }
        self.lost_samples = 0;
        let io_error = |context: &str, source: io::Error| InstrumentError::Io { context: context.into(), source };
        drain(self.port.as_mut()).map_err(|e| self.instrument_error(e))?;
        let reader_port =
            self.port.try_clone().map_err(|e| self.instrument_error(io_error("opening a second handle", e)))?;
        let expected = plan.iterations.saturating_mul(plan.edges_per_inference);
        let samples = |s: f64| (s.max(0.0) / SAMPLE_INTERVAL_S).round() as u64;
        let mut acquisition = Acquisition {
            edges: Edges::new(samples(plan.idle_s * 0.9), expected),
            // With an odd number of per-layer marks the last expected edge is a
            // layer boundary and the last layers run on: keep an inference more.
            tail_samples: samples(self.config.tail_s.max(plan.inference_s)),
            // Nothing after the deadline is used, should capture() never come.
            max_samples: samples(plan.timeout_s.max(0.0) + plan.capture_wait_s() + LATENCY_GRACE_S) as usize,
            ..Acquisition::default()
        };
        let expected_s = plan.idle_s + f64::from(plan.iterations) * plan.inference_s + 1.0;
        let estimate = (expected_s.max(0.0) / SAMPLE_INTERVAL_S).min(1e7) as usize;
        acquisition.current_a.reserve(estimate);
        acquisition.marker.reserve(estimate);
        let shared = Arc::new(Shared {
            acquisition: Mutex::new(acquisition),
            changed: Condvar::new(),
            stop: AtomicBool::new(false),
        });
        let decoder = Decoder {
            words: WordStream::default(),
            calibration: self.metadata.calibration.clone(),
            vdd_v: f64::from(self.config.source_mv) / 1000.0,
            filter: self.config.spike_filter.then(SpikeFilter::default),
        };
        let thread_shared = Arc::clone(&shared);
        let reader = std::thread::Builder::new()
            .name("ppk2-reader".into())
            .spawn(move || read_stream(reader_port, &thread_shared, decoder))
            .map_err(|e| self.instrument_error(io_error("starting the PPK2 reading thread", e)))?;
        let armed = Armed { shared, reader, plan: *plan, expected_edges: expected };
        if let Err(e) = send(self.port.as_mut(), &[opcode::AVERAGE_START], "AverageStart (0x06)") {
            let _ = self.stop(armed);
            return Err(self.instrument_error(e));
        }
        self.armed = Some(armed);
        Ok(())
    }

    fn capture(&mut self) -> Result<Capture, PowerError> {
        let Some(armed) = self.armed.take() else {
            return Err(self.instrument_error(InstrumentError::Other(
                "capture() without arm(): the runner must arm the PPK2 before the firmware runs".into(),
            )));
        };
        // Counted from now: the firmware has finished, what is still to come
        // is in flight (or, on the simulator, only starting to stream).
        let armed_wait_s = armed.plan.capture_wait_s();
        let deadline = Instant::now() + Duration::from_secs_f64(armed_wait_s.min(1e9));
        let outcome = {
            let mut acquisition = lock(&armed.shared.acquisition);
            loop {
                if let Some(end) = acquisition.complete_at.filter(|&end| acquisition.current_a.len() >= end) {
                    break Ok(end);
                }
                if acquisition.failure.is_some() {
                    break Err(());
                }
                let now = Instant::now();
                if now >= deadline {
                    // All edges came, only the tail is short: keep what is there.
                    break acquisition.complete_at.map(|_| acquisition.current_a.len()).ok_or(());
                }
                acquisition = armed
                    .shared
                    .changed
                    .wait_timeout(acquisition, deadline - now)
                    .map_or_else(|poisoned| poisoned.into_inner().0, |(guard, _)| guard);
            }
        };
        let (expected, idle_s) = (armed.expected_edges, armed.plan.idle_s);
        let mut acquisition = self.stop(armed);
        let end = match outcome {
            Ok(end) => end,
            Err(()) => {
                if let Some(failure) = acquisition.failure.take() {
                    return Err(self.instrument_error(failure));
                }
                if acquisition.current_a.is_empty() {
                    return Err(self.instrument_error(InstrumentError::Timeout {
                        what: "samples after AverageStart (0x06)".into(),
                        seconds: armed_wait_s,
                    }));
                }
                let mut hint = WIRING_HINT.to_string();
                if !acquisition.edges.counting {
                    hint.push_str(&format!(
                        " (D0 never stayed low for the {idle_s} s idle baseline; edges are counted after it)"
                    ));
                }
                return Err(PowerError::MarkerNotSeen {
                    instrument: self.identity.clone(),
                    expected,
                    seen: acquisition.edges.seen,
                    hint,
                });
            }
        };
        let lost: u64 = acquisition.gaps.iter().filter(|g| g.at < end).map(|g| u64::from(g.lost)).sum();
        self.lost_samples = lost;
        if lost > self.config.max_lost_samples {
            let first: Vec<String> = acquisition
                .gaps
                .iter()
                .filter(|g| g.at < end)
                .take(5)
                .map(|g| format!("{} at {:.5} s", g.lost, g.at as f64 * SAMPLE_INTERVAL_S))
                .collect();
            let realigned = match acquisition.skipped_bytes {
                0 => String::new(),
                n => format!("; {n} bytes of partial words were skipped"),
            };
            return Err(self.instrument_error(InstrumentError::Other(format!(
                "the PPK2 stream lost {lost} samples ({}; the sample counter jumped{realigned}) where at most {} \
                 may be lost; connect the PPK2 without a USB hub, try another cable or port, or raise \
                 max_lost_samples (the lost samples hold the last value), then run again",
                first.join(", "),
                self.config.max_lost_samples
            ))));
        }
        acquisition.current_a.truncate(end);
        acquisition.marker.truncate(end);
        let finest = (0..RANGES).find(|r| acquisition.ranges_used & (1 << r) != 0).unwrap_or(0);
        Ok(Capture {
            timebase: Timebase::Uniform { start_s: 0.0, interval_s: SAMPLE_INTERVAL_S },
            sample_kind: SampleKind::Mean,
            current_a: acquisition.current_a,
            voltage: Voltage::Constant { volts: f64::from(self.config.source_mv) / 1000.0 },
            marker: MarkerTrack::Logic(acquisition.marker),
            instrument: self.identity.clone(),
            provenance: Provenance::Measured,
            resolution_a: self.metadata.calibration.resolution_a(finest),
        })
    }
}

fn port_name(config: &Ppk2Config) -> String {
    format!("Nordic PPK2 at {}", config.port)
}

fn check_source_mv(config: &Ppk2Config) -> Result<[u8; 3], PowerError> {
    regulator_set(config.source_mv).map_err(|detail| PowerError::Unreachable {
        instrument: port_name(config),
        fix: format!("set the PPK2's source_mv between {SOURCE_MV_MIN} and {SOURCE_MV_MAX}"),
        source: Box::new(InstrumentError::Refused { command: "RegulatorSet (0x0D)".into(), error: detail }),
    })
}

/// What to do when the port does not open.
fn open_fix(port: &str, error: &serialport::Error) -> String {
    use serialport::ErrorKind;
    match error.kind() {
        ErrorKind::Io(io::ErrorKind::PermissionDenied) => format!(
            "this user may not open {port}: add it to the dialout group (sudo usermod -aG dialout $USER, then log in \
             again) or install the udev rules shipped in scripts/ (sudo cp scripts/*.rules /etc/udev/rules.d/ && \
             sudo udevadm control --reload && sudo udevadm trigger), then plug the PPK2 in again"
        ),
        ErrorKind::NoDevice => format!(
            "{port} is busy: close the program that has it open (nRF Connect Power Profiler, a terminal), then run again"
        ),
        _ => format!(
            "is the PPK2 plugged in and on? It appears as /dev/ttyACM* (USB 1915:c00a; see ls /dev/serial/by-id/); \
             set the PPK2's port to it (was {port})"
        ),
    }
}

fn send(port: &mut dyn Ppk2Port, bytes: &[u8], what: &str) -> Result<(), InstrumentError> {
    port.write_all(bytes).map_err(|source| InstrumentError::Io { context: format!("sending {what}"), source })
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted)
}

fn gone(what: &str, read: io::Result<usize>) -> InstrumentError {
    let detail = match read {
        Ok(_) => "the port reached end of file".to_string(),
        Err(e) => format!("reading the port failed: {e}"),
    };
    InstrumentError::Disconnected { what: what.into(), detail }
}

/// Discards input until the port stays quiet for one read timeout.
fn drain(port: &mut dyn Ppk2Port) -> Result<(), InstrumentError> {
    let _ = port.clear_input();
    let until = Instant::now() + DRAIN_LIMIT;
    let mut buf = vec![0; READ_CHUNK];
    while Instant::now() < until {
        match port.read(&mut buf) {
            Ok(n) if n > 0 => {}
            Err(e) if is_timeout(&e) => return Ok(()),
            other => return Err(gone("talking to the PPK2", other)),
        }
    }
    // Still streaming after AverageStop; the word decoder copes with a
    // leftover partial word, so carry on.
    Ok(())
}

fn read_metadata(port: &mut dyn Ppk2Port, config: &Ppk2Config) -> Result<Metadata, InstrumentError> {
    // Not NaN: from_secs_f64 would panic.
    let timeout_s = if config.metadata_timeout_s.is_nan() { 1.0 } else { config.metadata_timeout_s };
    let wait = Duration::from_secs_f64(timeout_s.clamp(0.0, 1e6));
    let mut buf = vec![0; 4096];
    for _ in 0..METADATA_TRIES {
        send(port, &[opcode::GET_META_DATA], "GetMetaData (0x19)")?;
        let deadline = Instant::now() + wait;
        let mut answer = Vec::new();
        while !Metadata::is_complete(&answer) && Instant::now() < deadline {
            match port.read(&mut buf) {
                Ok(n) if n > 0 => answer.extend_from_slice(&buf[..n]),
                Err(e) if is_timeout(&e) => {}
                other => return Err(gone("reading the PPK2's metadata", other)),
            }
        }
        if Metadata::is_complete(&answer) {
            return Metadata::parse(&answer);
        }
        // ppk2-rs: "the metadata command sometimes fails"; try again.
        drain(port)?;
    }
    Err(InstrumentError::Timeout {
        what: format!("GetMetaData (0x19), {METADATA_TRIES} tries"),
        seconds: wait.as_secs_f64(),
    })
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere while holding it leaves plain data behind.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

struct Armed {
    shared: Arc<Shared>,
    reader: JoinHandle<()>,
    plan: CapturePlan,
    expected_edges: u32,
}

struct Shared {
    acquisition: Mutex<Acquisition>,
    /// Signalled when samples arrive or the stream fails.
    changed: Condvar,
    stop: AtomicBool,
}

/// Words counted lost by the counter before sample `at`.
#[derive(Debug, Clone, Copy)]
struct Gap {
    at: usize,
    lost: u32,
}

/// What the reading thread has decoded so far.
#[derive(Debug, Default)]
struct Acquisition {
    current_a: Vec<f64>,
    marker: Vec<bool>,
    /// Bit `r` set when range `r` appeared.
    ranges_used: u8,
    gaps: Vec<Gap>,
    skipped_bytes: u64,
    edges: Edges,
    tail_samples: u64,
    /// Samples beyond this are not kept.
    max_samples: usize,
    /// The number of samples that completes the capture, once the expected
    /// edges have come.
    complete_at: Option<usize>,
    failure: Option<InstrumentError>,
}

impl Acquisition {
    /// One sample; `range` None for a lost one.
    fn push(&mut self, current_a: f64, high: bool, range: Option<usize>) {
        let k = self.current_a.len();
        // Past the end of the capture (or of any capture this plan allows):
        // not needed, and the stream may run on until capture() stops it.
        if k >= self.complete_at.unwrap_or(usize::MAX).min(self.max_samples) {
            return;
        }
        if let Some(range) = range {
            self.ranges_used |= 1 << range;
        }
        self.current_a.push(current_a);
        self.marker.push(high);
        if self.edges.observe(high) && self.complete_at.is_none() {
            self.complete_at = Some(k + 1 + self.tail_samples as usize);
        }
    }

    fn take(&mut self, decoded: &mut Vec<Decoded>) {
        for item in decoded.drain(..) {
            match item {
                Decoded::Sample { current_a, range, logic } => self.push(current_a, logic & 1 != 0, Some(range)),
                Decoded::Lost(lost) => {
                    self.gaps.push(Gap { at: self.current_a.len(), lost });
                    let held = self.current_a.last().copied().unwrap_or(0.0);
                    let level = self.marker.last().copied().unwrap_or(false);
                    for _ in 0..lost {
                        self.push(held, level, None);
                    }
                }
                Decoded::Skipped(bytes) => self.skipped_bytes += bytes as u64,
            }
        }
    }
}

/// Marker edges on D0, counted once D0 has stayed low for the idle baseline.
#[derive(Debug, Default)]
struct Edges {
    idle_samples: u64,
    expected: u32,
    low_run: u64,
    counting: bool,
    level: bool,
    seen: u32,
}

impl Edges {
    fn new(idle_samples: u64, expected: u32) -> Self {
        Edges { idle_samples, expected, ..Edges::default() }
    }

    /// Takes the next level; true at the sample that completes the count.
    fn observe(&mut self, high: bool) -> bool {
        let edge = high != self.level;
        self.level = high;
        if !self.counting {
            self.low_run = if high { 0 } else { self.low_run + 1 };
            // At least one low sample, so that a marker already high is not
            // taken for a rising edge.
            self.counting = self.low_run >= self.idle_samples.max(1);
            return self.counting && self.expected == 0;
        }
        if edge && self.seen < self.expected {
            self.seen += 1;
            return self.seen == self.expected;
        }
        false
    }
}

enum Decoded {
    Sample { current_a: f64, range: usize, logic: u8 },
    Lost(u32),
    Skipped(usize),
}

/// Bytes to amperes, owned by the reading thread.
struct Decoder {
    words: WordStream,
    calibration: Calibration,
    vdd_v: f64,
    filter: Option<SpikeFilter>,
}

impl Decoder {
    fn push(&mut self, bytes: &[u8], out: &mut Vec<Decoded>) -> Result<(), InstrumentError> {
        let Decoder { words, calibration, vdd_v, filter } = self;
        words
            .push(bytes, |event| {
                out.push(match event {
                    Event::Word(word) => Decoded::Sample {
                        current_a: convert(calibration, filter, *vdd_v, word),
                        range: word.range(),
                        logic: word.logic(),
                    },
                    Event::Lost(n) => Decoded::Lost(n),
                    Event::Skipped(n) => Decoded::Skipped(n),
                })
            })
            .map_err(|detail| InstrumentError::Malformed { what: "the PPK2's sample stream".into(), detail })
    }
}

fn convert(calibration: &Calibration, filter: &mut Option<SpikeFilter>, vdd_v: f64, word: SampleWord) -> f64 {
    let current_a = calibration.current_a(word.range(), word.adc(), vdd_v);
    match filter {
        Some(filter) => filter.apply(word.range(), current_a),
        None => current_a,
    }
}

/// The reading thread: large reads, decoded as they come, until told to
/// stop or the port fails.
fn read_stream(mut port: Box<dyn Ppk2Port>, shared: &Shared, mut decoder: Decoder) {
    let mut buf = vec![0; READ_CHUNK];
    let mut decoded = Vec::new();
    while !shared.stop.load(Ordering::Acquire) {
        let result = match port.read(&mut buf) {
            Ok(n) if n > 0 => decoder.push(&buf[..n], &mut decoded),
            Err(e) if is_timeout(&e) => continue,
            other => Err(gone("a PPK2 capture", other)),
        };
        let mut acquisition = lock(&shared.acquisition);
        acquisition.take(&mut decoded);
        let failed = result.is_err();
        if let Err(failure) = result {
            acquisition.failure.get_or_insert(failure);
        }
        drop(acquisition);
        shared.changed.notify_all();
        if failed {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(edges: &mut Edges, levels: &str) -> Vec<usize> {
        // '_' low, '^' high; returns the indices where the count completed.
        levels.chars().enumerate().filter(|&(_, c)| edges.observe(c == '^')).map(|(k, _)| k).collect()
    }

    #[test]
    fn the_driver_can_move_to_another_thread() {
        fn send<T: Send>() {}
        send::<Ppk2>();
    }

    #[test]
    fn edges_count_only_after_the_idle_baseline() {
        // Boot glitch (ignored), 3 low samples of idle, then two pulses.
        let mut edges = Edges::new(3, 4);
        assert_eq!(count(&mut edges, "^^_^___^^_^^__^"), [12]);
        assert_eq!(edges.seen, 4);
        // A marker high from the start is not a rising edge.
        let mut edges = Edges::new(0, 2);
        assert_eq!(count(&mut edges, "^^^_^_"), [5]);
        // Never low long enough: nothing counts.
        let mut edges = Edges::new(4, 2);
        assert!(count(&mut edges, "___^___^___^").is_empty());
        assert!(!edges.counting && edges.seen == 0);
    }

    #[test]
    fn lost_words_hold_the_last_value_and_complete_at_the_tail() {
        let mut acquisition =
            Acquisition { edges: Edges::new(1, 2), tail_samples: 2, max_samples: 100, ..Acquisition::default() };
        let mut decoded = vec![
            Decoded::Sample { current_a: 1.0, range: 0, logic: 0 },
            Decoded::Sample { current_a: 2.0, range: 2, logic: 1 },
            Decoded::Lost(2),
            Decoded::Sample { current_a: 3.0, range: 2, logic: 0 },
            Decoded::Skipped(3),
        ];
        acquisition.take(&mut decoded);
        assert_eq!(acquisition.current_a, [1.0, 2.0, 2.0, 2.0, 3.0]);
        assert_eq!(acquisition.marker, [false, true, true, true, false]);
        // The falling edge at sample 4 completes the count; 2 more samples.
        assert_eq!(acquisition.complete_at, Some(7));
        assert_eq!((acquisition.ranges_used, acquisition.skipped_bytes), (0b101, 3));
        assert_eq!(acquisition.gaps.len(), 1);
        assert_eq!((acquisition.gaps[0].at, acquisition.gaps[0].lost), (2, 2));
        // Samples past the end are not kept (nor their range).
        let mut more: Vec<Decoded> = (0..5).map(|_| Decoded::Sample { current_a: 4.0, range: 1, logic: 0 }).collect();
        acquisition.take(&mut more);
        assert_eq!(acquisition.current_a, [1.0, 2.0, 2.0, 2.0, 3.0, 4.0, 4.0]);
        assert_eq!(acquisition.ranges_used, 0b111);
        let mut more = vec![Decoded::Sample { current_a: 5.0, range: 3, logic: 0 }];
        acquisition.take(&mut more);
        assert_eq!((acquisition.current_a.len(), acquisition.ranges_used), (7, 0b111));
        // Nor past the plan's limit before the edges came.
        let mut acquisition = Acquisition { edges: Edges::new(1, 2), max_samples: 3, ..Acquisition::default() };
        let mut decoded: Vec<Decoded> =
            (0..5).map(|_| Decoded::Sample { current_a: 1.0, range: 0, logic: 0 }).collect();
        acquisition.take(&mut decoded);
        assert_eq!(acquisition.current_a.len(), 3);
    }
}
