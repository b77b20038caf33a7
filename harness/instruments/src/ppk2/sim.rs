//! A simulated Nordic Power Profiler Kit II on a pseudo-terminal, speaking
//! the PPK2's USB serial byte protocol.
//!
//! Written from the protocol's public descriptions only; it shares no
//! encoding or decoding code with [`super::driver`], so each checks the other.
//!
//! # Use
//!
//! - In-process (tests, `[power] simulate = true`): [`Ppk2Sim::start`]
//!   creates a pseudo-terminal pair and keeps the master end; a driver opens
//!   [`Ppk2Sim::port_path`] like the PPK2's `/dev/ttyACM*`
//!   (`serialport::new(path, 9600).open()`; the baud rate is ignored, as on
//!   USB CDC; do not set DTR, which a pseudo-terminal refuses).
//!   [`Ppk2Sim::play`] (or a [`SimHandle`] from another thread) hands it what
//!   the simulated board drew; the waveform's time 0 is the start of the next
//!   10 us sample after the call, whether or not the host is streaming then.
//!   [`Ppk2Sim::inject`] sets [`SimFaults`]. Dropping it stops the simulator
//!   and closes the port.
//! - Standalone: [`serve`] prints the port's path and serves until the
//!   process is killed, replaying its waveform from the start at every
//!   AverageStart.
//!
//! # Protocol facts implemented, with their sources
//!
//! Sources: IRNAS ppk2-api-python (`src/ppk2_api/ppk2_api.py`), hdoordt/ppk2-rs
//! (`cmd.rs`, `types.rs`, `measurement.rs`), Nordic pc-nrfconnect-ppk
//! (`src/constants.ts`, `src/device/serialDevice.ts`, `abstractDevice.ts`,
//! `doc/docs/overview.md`).
//!
//! - Commands are an opcode byte ([`opcode`]) and its arguments; nothing is
//!   acknowledged. Argument lengths come from the hosts that send them; the
//!   four opcodes Nordic marks "no-firmware" (AvgNumSet, TriggerIntervalSet,
//!   RangeSet, LcdSet) and unknown ones have no documented length, so the
//!   simulator drops them with whatever arrived in the same read.
//! - GetMetaData (0x19) answers ASCII `Key: value` lines ending `END\n`:
//!   `Calibrated`, `R0..R4`, `GS0..4`, `GI0..4`, `O0..4`, `VDD`, `HW`, `mode`,
//!   `S0..4`, `I0..4`, `UG0..4`, `IA` (order and decimals of a real unit's dump
//!   in ppk2-rs; the calibration values are that unit's, see
//!   [`Calibration::published_unit`]). `VDD` is the regulator's setting and
//!   `mode` the power mode (1 ampere meter, 2 source meter).
//! - RegulatorSet (0x0D) `[mV >> 8, mV & 0xFF]` sets the source voltage
//!   (Nordic's encoding; ppk2-api-python's `[3 + d/256, d % 256]`, d = mV - 768,
//!   is the same number); clamped to 800..=5000 mV as the hosts clamp it.
//! - SetPowerMode (0x11) 1 = ampere meter, 2 = source meter.
//!   DeviceRunningSet (0x0C) 1/0 switches the DUT power on/off (off at power-up,
//!   pc-nrfconnect-ppk `isRunningInitially = false`).
//! - AverageStart (0x06) starts the stream, AverageStop (0x07) stops it (the
//!   bytes already queued still arrive, as USB transfers in flight do).
//!   Reset (0x20) stops streaming, drops queued output and restores the
//!   power-up state (the real device reboots and re-enumerates; a
//!   pseudo-terminal cannot, so the same port stays open).
//! - SetUserGains (0x25) `[range, f32 LE]` stores the user gain: it is reported
//!   as `UG<range>` and used in the conversion (the device keeps user gains;
//!   the host applies the metadata's `UG`). The other opcodes (triggers,
//!   switch points, spike filter, ResUserSet, TriggerExtToggle, NoOp) are
//!   accepted and ignored.
//! - While streaming: 100 000 samples per second ("The sampling always happens
//!   at 100 000 samples per second", overview.md; ppk2-api-python buffers
//!   "100k 4-byte samples per second"), paced by the wall clock, each a 4-byte
//!   little-endian word: bits 0-13 ADC code, 14-16 range (0..=4), 17 zero,
//!   18-23 a counter that increments every sample and wraps at 64, 24-31 the
//!   logic inputs D0..D7 (serialDevice.ts masks). The marker is D0; D1..D7
//!   read low.
//! - Current -> (range, code): the documented conversion run backwards with
//!   the metadata's calibration ([`Calibration`]) and, for `VDD`, the
//!   regulator's setting (what both host libraries use); the range is the
//!   most sensitive one whose code does not exceed 16383 (what the PPK2's
//!   "dynamic range switching", overview.md, aims at; its switch points and
//!   the spike after a switch are not modelled). A host decoding with the metadata recovers each sample's
//!   current within half a code step. A step is
//!   `UG * (2 GS r + GI) * 4 * (1.8 / 163840) / R` amperes: 44 nA throughout
//!   range 0; from 0.42 uA, 4.1 uA, 43 uA and 0.75 mA at the bottom of ranges
//!   1..4 to 1.1 uA, 15 uA, 0.21 mA and 2.2 mA at their tops (the `GS` term).
//!   The ranges reach about 0.72 mA, 12.5 mA, 155 mA, 2.06 A and 24 A; currents
//!   beyond range 4 saturate at code 16383.
//!
//! # What a sample measures
//!
//! The mean of the played waveform's current over the sample's 10 us, and its
//! marker at the sample's middle. Before a waveform is played, after it ends,
//! and whenever the DUT power is off (either mode), 0 A; the marker is low
//! outside a waveform (the logic inputs are wired to the board, not powered
//! by the PPK2, so with the DUT power off they still follow the waveform).
//! The waveform's voltage is not used: the PPK2 does not measure voltage (the
//! host uses the regulator's setting in source mode).
//!
//! Assumptions (not documented for the real device): the counter is the
//! sample's index since the simulator started, modulo 64 (it runs between
//! streams); when the host does not read, up to one second of samples is
//! queued and later samples are lost (the counter skips them).

mod calibration;
mod protocol;

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serialport::{SerialPort, TTYPort};
use tinybench_power::Waveform;

pub use self::calibration::{ADC_MAX_CODE, Calibration, RANGES};
use self::protocol::{COUNTER_MODULO, Command, CommandParser, sample_word};
pub use self::protocol::{VDD_MAX_MV, VDD_MIN_MV, opcode};
use crate::InstrumentError;

/// Samples per second (one every 10 us).
pub const SAMPLE_RATE_HZ: u64 = 100_000;
const SAMPLE_INTERVAL_S: f64 = 1.0 / SAMPLE_RATE_HZ as f64;
const NANOS_PER_SAMPLE: u128 = 1_000_000_000 / SAMPLE_RATE_HZ as u128;
/// Bytes per sample word.
pub const SAMPLE_BYTES: usize = 4;
/// Source voltage at power-up, in mV (the value in the published metadata dump).
pub const POWER_UP_VDD_MV: u16 = 3000;
/// How often the simulator looks at the port and sends what is due.
const TICK: Duration = Duration::from_millis(1);
/// Output queued while the host does not read: one second of samples.
const QUEUE_CAP_BYTES: usize = SAMPLE_RATE_HZ as usize * SAMPLE_BYTES;
/// How long a disconnect fault waits for the host to take what was sent.
const DRAIN_BEFORE_DISCONNECT: Duration = Duration::from_secs(2);

/// The PPK2's measurement mode (SetPowerMode's argument).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerMode {
    /// 1: ampere meter, the DUT supplied from outside through the PPK2.
    Ampere,
    /// 2: source meter, the PPK2 supplies the DUT at the regulator's voltage (power-up mode).
    Source,
}

impl PowerMode {
    fn code(self) -> u8 {
        match self {
            PowerMode::Ampere => 1,
            PowerMode::Source => 2,
        }
    }
}

/// What the simulated device is doing, for tests and diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimStatus {
    pub mode: PowerMode,
    pub vdd_mv: u16,
    /// DeviceRunningSet: the DUT power is on.
    pub dut_power: bool,
    pub streaming: bool,
    /// Samples made since the last AverageStart (sent, dropped or lost).
    pub stream_samples: u64,
    /// The port was closed by a disconnect fault (or failed).
    pub disconnected: bool,
}

/// Lose `count` samples after the first `after_samples` of a stream: they are
/// not sent and the counter skips them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleDrop {
    pub after_samples: u64,
    pub count: u64,
}

/// Send `bytes` in the stream after its first `after_samples` samples (e.g.
/// three bytes, which also misalign every word after them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corruption {
    pub after_samples: u64,
    pub bytes: Vec<u8>,
}

/// Faults to inject; each stream (AverageStart) applies them afresh.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimFaults {
    /// Close the port after this many samples of a stream, as if the PPK2 were
    /// unplugged (the host first gets every byte sent before; then its reads fail).
    pub disconnect_after_samples: Option<u64>,
    pub drop_samples: Option<SampleDrop>,
    pub corrupt: Option<Corruption>,
    /// Do not answer GetMetaData.
    pub no_metadata: bool,
}

/// How to start a simulator.
#[derive(Debug, Clone, Default)]
pub struct SimOptions {
    pub faults: SimFaults,
    /// Play this waveform from the first sample of every stream (for [`serve`]).
    pub play_on_start: Option<Waveform>,
}

/// A waveform and the instrument sample its time 0 falls on.
#[derive(Debug, Clone)]
struct Scheduled {
    first_sample: u64,
    waveform: Arc<Waveform>,
}

#[derive(Debug)]
struct State {
    /// Sorted by `first_sample`; each one replaces the one before from its start.
    schedule: Vec<Scheduled>,
    faults: SimFaults,
    status: SimStatus,
}

#[derive(Debug)]
struct Shared {
    epoch: Instant,
    stop: AtomicBool,
    state: Mutex<State>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere cannot leave the state half-updated in a way that
        // matters to a simulator; keep going.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Index of the sample in progress now (sample n covers n*10us ..+10us
    /// after the epoch); the samples before it are complete.
    fn sample_now(&self) -> u64 {
        (self.epoch.elapsed().as_nanos() / NANOS_PER_SAMPLE) as u64
    }

    fn play(&self, waveform: &Waveform) {
        let waveform = Arc::new(waveform.clone());
        let mut state = self.lock();
        // The sample is read under the lock: the worker takes its snapshot of
        // the schedule under it after reading which samples are due, so it
        // either sees this waveform or makes none of its samples yet.
        let first_sample = self.sample_now() + 1;
        schedule(&mut state, first_sample, waveform);
    }
}

fn schedule(state: &mut State, first_sample: u64, waveform: Arc<Waveform>) {
    // Playing again replaces what has not started yet.
    state.schedule.retain(|s| s.first_sample < first_sample);
    state.schedule.push(Scheduled { first_sample, waveform });
}

/// A clonable handle to play waveforms and inject faults from any thread.
#[derive(Debug, Clone)]
pub struct SimHandle {
    shared: Arc<Shared>,
}

impl SimHandle {
    /// See [`Ppk2Sim::play`].
    pub fn play(&self, waveform: &Waveform) {
        self.shared.play(waveform);
    }

    /// See [`Ppk2Sim::inject`].
    pub fn inject(&self, faults: SimFaults) {
        self.shared.lock().faults = faults;
    }

    /// See [`Ppk2Sim::status`].
    pub fn status(&self) -> SimStatus {
        self.shared.lock().status
    }
}

/// A running simulated PPK2 (see the module documentation).
#[derive(Debug)]
pub struct Ppk2Sim {
    shared: Arc<Shared>,
    path: PathBuf,
    worker: Option<JoinHandle<Result<(), InstrumentError>>>,
    /// Keeps the terminal open while no host has it open, so the master end
    /// never sees a hang-up between connections.
    _slave: TTYPort,
}

impl Ppk2Sim {
    /// Starts a simulator with no faults.
    pub fn start() -> Result<Ppk2Sim, InstrumentError> {
        Ppk2Sim::start_with(SimOptions::default())
    }

    /// Starts a simulator on a new pseudo-terminal.
    pub fn start_with(options: SimOptions) -> Result<Ppk2Sim, InstrumentError> {
        let pty_error = |source: serialport::Error| InstrumentError::Io {
            context:
                "cannot create a pseudo-terminal for the PPK2 simulator (is /dev/ptmx available and devpts mounted?)"
                    .into(),
            source: source.into(),
        };
        let (mut master, slave) = TTYPort::pair().map_err(pty_error)?;
        let path = slave.name().map(PathBuf::from).ok_or_else(|| {
            InstrumentError::Other("the pseudo-terminal for the PPK2 simulator has no path; run it on Linux".into())
        })?;
        set_nonblocking(&master)?;
        master.set_timeout(Duration::ZERO).map_err(pty_error)?;
        let probe = slave.try_clone_native().map_err(pty_error)?;

        let shared = Arc::new(Shared {
            epoch: Instant::now(),
            stop: AtomicBool::new(false),
            state: Mutex::new(State {
                schedule: Vec::new(),
                faults: options.faults,
                status: SimStatus {
                    mode: PowerMode::Source,
                    vdd_mv: POWER_UP_VDD_MV,
                    dut_power: false,
                    streaming: false,
                    stream_samples: 0,
                    disconnected: false,
                },
            }),
        });
        let device = Device::new(master, probe, Arc::clone(&shared), options.play_on_start.map(Arc::new));
        let worker =
            std::thread::Builder::new().name("ppk2-sim".into()).spawn(move || device.run()).map_err(|source| {
                InstrumentError::Io { context: "cannot start the PPK2 simulator's thread".into(), source }
            })?;
        Ok(Ppk2Sim { shared, path, worker: Some(worker), _slave: slave })
    }

    /// The serial port a driver opens (`/dev/pts/N`).
    pub fn port_path(&self) -> PathBuf {
        self.path.clone()
    }

    /// Plays `waveform`: its time 0 is the start of the next sample after the
    /// call (instrument time runs whether or not the host is streaming).
    /// Playing again replaces the previous waveform from then on.
    pub fn play(&self, waveform: &Waveform) {
        self.shared.play(waveform);
    }

    /// Sets the faults for the next and the running stream.
    pub fn inject(&self, faults: SimFaults) {
        self.shared.lock().faults = faults;
    }

    /// What the simulated device is doing now.
    pub fn status(&self) -> SimStatus {
        self.shared.lock().status
    }

    /// A handle for another thread.
    pub fn handle(&self) -> SimHandle {
        SimHandle { shared: Arc::clone(&self.shared) }
    }

    /// Blocks until the simulator stops by itself: after a disconnect fault
    /// (`Ok`), or when its port failed (`Err`).
    pub fn wait(mut self) -> Result<(), InstrumentError> {
        self.join()
    }

    fn join(&mut self) -> Result<(), InstrumentError> {
        match self.worker.take().map(JoinHandle::join) {
            None => Ok(()),
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(InstrumentError::Other(
                "the PPK2 simulator's thread panicked; this is a bug, please report it".into(),
            )),
        }
    }
}

impl Drop for Ppk2Sim {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        // Errors of a simulator being shut down have no one left to tell.
        let _ = self.join();
    }
}

/// Serves a simulated PPK2 that plays `waveform` from the first sample of
/// every stream; prints the port's path and blocks until the process is killed.
pub fn serve(waveform: Waveform) -> Result<(), InstrumentError> {
    let sim = Ppk2Sim::start_with(SimOptions { faults: SimFaults::default(), play_on_start: Some(waveform) })?;
    println!(
        "simulated Nordic PPK2 on {} (open it as the PPK2's serial port); stop with Ctrl-C",
        sim.port_path().display()
    );
    sim.wait()
}

/// Writes to the master end must not block: a host that stops reading would
/// stall command handling and shutdown.
fn set_nonblocking(port: &TTYPort) -> Result<(), InstrumentError> {
    let fd = port.as_raw_fd();
    // SAFETY: `fd` is the open master descriptor owned by `port`; F_GETFL/F_SETFL only change its status flags.
    let result = unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags < 0 { flags } else { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) }
    };
    if result < 0 {
        return Err(InstrumentError::Io {
            context: "cannot make the PPK2 simulator's pseudo-terminal non-blocking".into(),
            source: std::io::Error::last_os_error(),
        });
    }
    Ok(())
}

/// The simulated device: owns the master end, runs on its own thread.
struct Device {
    port: TTYPort,
    /// The slave end, only to see whether the host has read what was sent.
    probe: TTYPort,
    shared: Arc<Shared>,
    play_on_start: Option<Arc<Waveform>>,
    calibration: Calibration,
    parser: CommandParser,
    mode: PowerMode,
    vdd_mv: u16,
    dut_power: bool,
    streaming: bool,
    /// The next sample to make while streaming.
    next_sample: u64,
    stream_samples: u64,
    out: VecDeque<u8>,
    disconnecting: bool,
}

impl Device {
    fn new(port: TTYPort, probe: TTYPort, shared: Arc<Shared>, play_on_start: Option<Arc<Waveform>>) -> Device {
        Device {
            port,
            probe,
            shared,
            play_on_start,
            calibration: Calibration::published_unit(),
            parser: CommandParser::default(),
            mode: PowerMode::Source,
            vdd_mv: POWER_UP_VDD_MV,
            dut_power: false,
            streaming: false,
            next_sample: 0,
            stream_samples: 0,
            out: VecDeque::new(),
            disconnecting: false,
        }
    }

    fn run(mut self) -> Result<(), InstrumentError> {
        let result = self.serve();
        let mut state = self.shared.lock();
        state.status.disconnected = true;
        state.status.streaming = false;
        drop(state);
        // Dropping `self` closes the master end: the host's reads fail.
        result
    }

    fn serve(&mut self) -> Result<(), InstrumentError> {
        while !self.shared.stop.load(Ordering::Relaxed) {
            let faults = self.shared.lock().faults.clone();
            self.read_commands(&faults)?;
            if self.streaming && !self.disconnecting {
                let due = self.shared.sample_now();
                let schedule = self.shared.lock().schedule.clone();
                self.make_samples(due, &schedule, &faults);
            }
            // Status first: a host that sees the bytes a command caused also sees its status.
            self.publish();
            self.flush()?;
            if self.disconnecting && self.out.is_empty() {
                self.wait_for_host_to_drain();
                return Ok(());
            }
            std::thread::sleep(TICK);
        }
        Ok(())
    }

    fn read_commands(&mut self, faults: &SimFaults) -> Result<(), InstrumentError> {
        let mut buf = [0u8; 256];
        let mut commands = Vec::new();
        loop {
            match self.port.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => self.parser.push(&buf[..n], &mut commands),
                Err(e) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock) => break,
                Err(source) => {
                    return Err(InstrumentError::Io {
                        context: "the PPK2 simulator cannot read its pseudo-terminal".into(),
                        source,
                    });
                }
            }
        }
        for command in commands {
            self.execute(command, faults);
        }
        Ok(())
    }

    fn execute(&mut self, command: Command, faults: &SimFaults) {
        match command {
            Command::GetMetadata if !faults.no_metadata => {
                let text = self.calibration.metadata_text(self.vdd_mv, self.mode.code());
                self.out.extend(text.as_bytes());
            }
            Command::Regulator { vdd_mv } => self.vdd_mv = vdd_mv,
            Command::PowerMode(1) => self.mode = PowerMode::Ampere,
            Command::PowerMode(2) => self.mode = PowerMode::Source,
            Command::DutPower(on) => self.dut_power = on,
            Command::AverageStart if !self.streaming => {
                self.streaming = true;
                self.next_sample = self.shared.sample_now();
                self.stream_samples = 0;
                if let Some(waveform) = &self.play_on_start {
                    schedule(&mut self.shared.lock(), self.next_sample, Arc::clone(waveform));
                }
            }
            Command::AverageStop => self.streaming = false,
            Command::Reset => {
                self.streaming = false;
                self.out.clear();
                self.parser.clear();
                self.mode = PowerMode::Source;
                self.vdd_mv = POWER_UP_VDD_MV;
                self.dut_power = false;
            }
            Command::UserGain { range, gain } => {
                let gain = f64::from(gain);
                if usize::from(range) < RANGES && gain.is_finite() && gain > 0.0 {
                    self.calibration.ug[usize::from(range)] = gain;
                }
            }
            _ => {}
        }
    }

    /// Makes the samples before `due` (those completed since the last tick).
    fn make_samples(&mut self, due: u64, schedule: &[Scheduled], faults: &SimFaults) {
        while self.next_sample < due {
            let n = self.next_sample;
            let index = self.stream_samples;
            if faults.disconnect_after_samples == Some(index) {
                self.disconnecting = true;
                return;
            }
            if let Some(corrupt) = faults.corrupt.as_ref().filter(|c| c.after_samples == index) {
                self.out.extend(&corrupt.bytes);
            }
            let dropped =
                faults.drop_samples.is_some_and(|d| index >= d.after_samples && index - d.after_samples < d.count);
            if !dropped && self.out.len() + SAMPLE_BYTES <= QUEUE_CAP_BYTES {
                let (current_a, marker) = measure(schedule, n);
                let current_a = if self.dut_power { current_a } else { 0.0 };
                let (range, code) = self.calibration.encode(current_a, self.vdd_mv);
                let counter = (n % COUNTER_MODULO) as u8;
                self.out.extend(sample_word(code, range, counter, u8::from(marker)));
            }
            self.next_sample += 1;
            self.stream_samples += 1;
        }
    }

    fn flush(&mut self) -> Result<(), InstrumentError> {
        while !self.out.is_empty() {
            let (front, _) = self.out.as_slices();
            match self.port.write(front) {
                Ok(0) => break,
                Ok(n) => {
                    self.out.drain(..n);
                }
                Err(e) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock) => break,
                Err(source) => {
                    return Err(InstrumentError::Io {
                        context: "the PPK2 simulator cannot write its pseudo-terminal".into(),
                        source,
                    });
                }
            }
        }
        Ok(())
    }

    /// Before a simulated unplug, lets the host read what the device had
    /// sent (a hang-up discards unread input), so the fault is deterministic.
    fn wait_for_host_to_drain(&mut self) {
        let deadline = Instant::now() + DRAIN_BEFORE_DISCONNECT;
        let mut empty_ticks = 0;
        while empty_ticks < 3 && Instant::now() < deadline && !self.shared.stop.load(Ordering::Relaxed) {
            match self.probe.bytes_to_read() {
                Ok(0) => empty_ticks += 1,
                Ok(_) => empty_ticks = 0,
                Err(_) => return,
            }
            std::thread::sleep(TICK);
        }
    }

    /// Tells play() and status() what the device does.
    fn publish(&mut self) {
        let mut state = self.shared.lock();
        state.status = SimStatus {
            mode: self.mode,
            vdd_mv: self.vdd_mv,
            dut_power: self.dut_power,
            streaming: self.streaming,
            stream_samples: self.stream_samples,
            disconnected: false,
        };
        // Waveforms replaced by a later one that has started are done.
        let horizon = if self.streaming { self.next_sample } else { self.shared.sample_now() };
        let started = state.schedule.iter().rposition(|s| s.first_sample <= horizon);
        if let Some(last_started) = started {
            state.schedule.drain(..last_started);
        }
    }
}

/// The current (mean over the sample) and marker (at its middle) of
/// instrument sample `n`: from the latest waveform that started at or before
/// it, 0 A and low outside any.
fn measure(schedule: &[Scheduled], n: u64) -> (f64, bool) {
    let Some(playing) = schedule.iter().rev().find(|s| s.first_sample <= n) else {
        return (0.0, false);
    };
    let waveform = &playing.waveform;
    if !(waveform.interval_s.is_finite() && waveform.interval_s > 0.0) {
        return (0.0, false);
    }
    let t_s = (n - playing.first_sample) as f64 * SAMPLE_INTERVAL_S;
    if t_s >= waveform.duration_s() {
        return (0.0, false);
    }
    let current_a = waveform.mean_current_a(t_s, t_s + SAMPLE_INTERVAL_S);
    (if current_a.is_finite() { current_a } else { 0.0 }, waveform.marker_at(t_s + SAMPLE_INTERVAL_S / 2.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waveform(current_a: Vec<f64>, marker: Vec<bool>, interval_s: f64) -> Waveform {
        let n = current_a.len();
        Waveform { interval_s, current_a, voltage_v: vec![3.0; n], marker }
    }

    #[test]
    fn the_simulator_can_be_shared_between_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Ppk2Sim>();
        shareable::<SimHandle>();
    }

    #[test]
    fn samples_follow_the_latest_started_waveform() {
        let first = Arc::new(waveform(vec![1e-3, 2e-3], vec![false, true], 10e-6));
        let second = Arc::new(waveform(vec![5e-3; 3], vec![true; 3], 10e-6));
        let schedule =
            [Scheduled { first_sample: 100, waveform: first }, Scheduled { first_sample: 101, waveform: second }];
        assert_eq!(measure(&schedule, 99), (0.0, false));
        let (i, m) = measure(&schedule, 100);
        assert!((i - 1e-3).abs() < 1e-12 && !m);
        let (i, m) = measure(&schedule, 103);
        assert!((i - 5e-3).abs() < 1e-12 && m);
        assert_eq!(measure(&schedule, 104), (0.0, false));
    }

    #[test]
    fn other_intervals_are_averaged_over_each_sample() {
        // 5 us samples 1 mA, 3 mA, ...: each 10 us PPK2 sample is their mean, 2 mA;
        // 20 us samples are held for two PPK2 samples.
        let fine = Arc::new(waveform(vec![1e-3, 3e-3, 1e-3, 3e-3], vec![true, true, false, false], 5e-6));
        let schedule = [Scheduled { first_sample: 0, waveform: fine }];
        let (i, m) = measure(&schedule, 0);
        assert!((i - 2e-3).abs() < 1e-12 && m);
        assert!(!measure(&schedule, 1).1);
        let coarse = Arc::new(waveform(vec![4e-3, 6e-3], vec![false, true], 20e-6));
        let schedule = [Scheduled { first_sample: 0, waveform: coarse }];
        let levels: Vec<(f64, bool)> = (0..5).map(|n| measure(&schedule, n)).collect();
        assert!((levels[1].0 - 4e-3).abs() < 1e-12 && !levels[1].1);
        assert!((levels[2].0 - 6e-3).abs() < 1e-12 && levels[2].1);
        assert_eq!(levels[4], (0.0, false));
    }
}
