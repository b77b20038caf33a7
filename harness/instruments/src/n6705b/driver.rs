//! Keysight N6705B DC power analyzer driver: one channel's digitizer
//! ("scope") records the board's supply current, triggered by the
//! firmware's marker on a digital-port pin.
//!
//! # How a case is recorded
//!
//! [`N6705b::connect`] opens the link ([`TcpScpi`] for `host[:port]`, port
//! 5025 by default; [`UsbtmcScpi`] for a `/dev/usbtmcN` path), checks
//! `*IDN?` (a Keysight or Agilent N6705x, else an error naming what
//! answered), clears the error queue (`*CLS`) and reads the channel's module
//! model (`SYST:CHAN:MOD? (@1)`), which decides what the channel can do:
//!
//! | module | voltage with current | fastest interval |
//! |---|---|---|
//! | N678xA SMU | yes | 5.12 us for one parameter, 10.24 us for two |
//! | N676xA precision | yes | 10.24 us |
//! | others | no (the voltage is measured once per case) | 10.24 us |
//!
//! [`PowerMeter::arm`] sizes the capture from the plan: after the trigger
//! the loop (`iterations x inference_s`) plus 25 % and 10 ms; before it 90 %
//! of the idle wait as pre-trigger samples (negative offset), so the idle
//! baseline is recorded although the acquisition starts at the marker's
//! first rising edge. It asks the instrument for its point limit
//! (`SENS:SWE:POIN? MAX,(@1)`); if the span does not fit at the fastest (or
//! configured) interval the interval is lengthened in 20.48 us steps, and
//! if that would leave fewer than 8 samples per inference the case is
//! recorded loop-averaged by the external data logger (Elog) instead, which
//! has no point limit but no pre-trigger data (the describe line and the
//! capture's instrument string say so). The commands, for channel 1 and
//! trigger pin 2 on an SMU:
//!
//! ```text
//! ABOR:ACQ (@1)
//! SENS:FUNC:CURR ON,(@1)
//! SENS:FUNC:VOLT ON,(@1)            (OFF where voltage is not sampled)
//! SENS:SWE:POIN? MAX,(@1)
//! SENS:SWE:TINT 1.024E-5,(@1)
//! SENS:SWE:TINT? (@1)               (the interval as the instrument rounded it)
//! SENS:SWE:POIN 57129,(@1)
//! SENS:SWE:OFFS:POIN -43945,(@1)    (pre-trigger samples)
//! SENS:CURR:RANG? (@1)
//! FORM REAL
//! FORM:BORD NORM
//! SOUR:DIG:PIN2:FUNC TINP
//! SOUR:DIG:PIN2:POL POS
//! TRIG:ACQ:SOUR PIN2,(@1)
//! INIT:ACQ (@1)
//! SYST:ERR?                         (until +0)
//! ```
//!
//! Where voltage is not sampled it is measured once, after the capture's
//! data was read: `SENS:SWE:OFFS:POIN 0`, `SENS:SWE:POIN 256`,
//! `SENS:SWE:TINT` and `MEAS:VOLT? (@1)` (with no pre-trigger offset, which
//! would make `MEAS` wait for a trigger).
//! The data-logger variant sends `ABOR:ELOG`, `SENS:ELOG:FUNC:CURR ON`,
//! `SENS:ELOG:FUNC:CURR:MINM OFF`, `SENS:ELOG:FUNC:VOLT ON|OFF` (and its
//! `MINM OFF`), `SENS:ELOG:PER <s>`, `SENS:ELOG:PER?`, the same format and
//! pin setup, `TRIG:ELOG:SOUR PIN<n>,(@1)`, `INIT:ELOG (@1)`; a thread then
//! drains the logger's FIFO (about 20 s deep) with `FETC:ELOG? 50000,(@1)`
//! until [`PowerMeter::capture`], which ends it with `ABOR:ELOG (@1)`.
//!
//! [`PowerMeter::capture`] sends `FETC:ARR:CURR? (@1)` (and `FETC:ARR:VOLT?`),
//! which the instrument answers once the acquisition has triggered and
//! completed; the wait lasts until the plan's `timeout_s` (counted from
//! `arm`) has passed. A timeout there means the trigger never came: a
//! [`PowerError::MarkerNotSeen`] with the wiring. Once an answer has begun,
//! each further piece must come within `io_timeout_s`, so a block cut short
//! is reported as such at once. The error queue is read again after the
//! fetch. After a timeout or a malformed answer the acquisition is aborted
//! and the link cleared (device clear on USBTMC), and the next `arm` clears
//! it again and sends `*CLS` first.
//!
//! Errors: after configuring (and after each capture) `SYST:ERR?` is read
//! until `+0`. An error is reported with the commands sent since the last
//! check, the most recent named as the likely cause; with
//! [`N6705bConfig::strict_errors`] the queue is read after every command,
//! which pins the cause exactly at the cost of a round trip each.
//!
//! # Protocol facts and their sources
//!
//! - Digitizer commands `SENS:FUNC:CURR|VOLT ON,(@n)`, `SENS:SWE:POIN`,
//!   `SENS:SWE:TINT`, `SENS:SWE:OFFS:POIN` (negative = samples before the
//!   trigger; a trigger arriving before they are complete is ignored),
//!   `TRIG:ACQ:SOUR`, `INIT:ACQ`, `FETC:ARR:CURR?|VOLT?`: N6705C Operating and
//!   Service Guide, "Using the Measurement Functions", and the Series N6700
//!   User's Guide measurement subsystem; `INIT:ACQ (@1)`,
//!   `TRIG:ACQ:SOUR PIN4, (@1)` with `DIG:PIN4:FUNC TINP` and
//!   `FETCH:ARRAY:CURRENT? (@1)` also appear together in public N67xx test
//!   programs.
//! - Sample interval steps: 5.12 us (one parameter, N678xA only), 10.24 us,
//!   then 20.48 us steps (`RES20`): N6705C Operating and Service Guide,
//!   digitizer sample interval.
//! - Trigger source: the N6705C guide lists `PIN<1-7>` (a digital-port pin
//!   configured as trigger input) separately from `EXTernal`, which on the
//!   N6705C is its trigger BNC (low-true). `PIN<n>` names the marker's pin
//!   on both the B and the C, so it is used rather than `EXT`.
//! - Digital port: pins 1-7, pin 8 common; `[SOURce:]DIGital:PIN<n>:FUNCtion
//!   TINPut` makes a pin a trigger input and `:POLarity POSitive` makes a
//!   rising edge trigger; minimum pulse 4 us (positive), latency about 5 us
//!   (Keysight N6900/N7900 Operating and Service Guide, "Digital Control
//!   Port", the same port and commands as the N6705's; the forms used here,
//!   `SOUR:DIG:PIN<n>:FUNC TINP` and `SOUR:DIG:PIN<n>:POL POS`, follow it).
//!   The marker's time is reported as 0, the trigger instant; the latency
//!   is not subtracted.
//! - `FORM REAL` sends arrays as IEEE 488.2 definite-length blocks of
//!   single floats, most significant byte first with `FORM:BORD NORM`
//!   ([`block`]). `FORMat` applies to arrays; scalar answers (`MEAS:VOLT?`,
//!   `SENS:SWE:TINT?`) stay ASCII numbers (assumed, as in the family's
//!   guides).
//! - External data logger: `SENS:ELOG:FUNC:CURR|VOLT ON`, `:MINM`,
//!   `SENS:ELOG:PER` (at least 102.4 us per parameter with `FORM REAL`),
//!   `TRIG:ELOG:SOUR`, `INIT:ELOG`, `FETC:ELOG? <records>,(@n)` (records of
//!   current average then voltage average when min/max are off),
//!   `ABOR:ELOG`: Agilent N6705 User's Guide p.168-170; the exact syntax is
//!   from the N6700 family's documentation and was not checked on an
//!   instrument.
//! - `SYST:CHAN:MOD? (@n)` answers the module's model; `SYST:ERR?` answers
//!   `<code>,"<text>"`, `+0,"No error"` when the queue is empty (SCPI-99).
//!
//! # Assumptions
//!
//! - Resolution: the digitizer is taken to resolve the channel's present
//!   current range (`SENS:CURR:RANG?`) in 2^15 steps (a 16-bit signed
//!   converter); Keysight's per-module resolution tables were not available.
//!   With the SMU's seamless ranging the reported range is the top one, so
//!   this is an upper bound.
//! - `SENS:SWE:POIN` is set before `SENS:SWE:OFFS:POIN`; the offset's range
//!   is taken to be independent of the point count.

mod acquisition;
pub mod block;
mod fake;
pub mod transport;

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tinybench_power::{
    Capabilities, Capture, CapturePlan, MarkerInput, MarkerTrack, PowerError, PowerMeter, Provenance, SampleKind,
    Timebase, Voltage, Waveform,
};

use crate::InstrumentError;
use acquisition::Acquisition;
use block::decode_real32_be;
pub use fake::{FAKE_N6705B_IDN, FakeReply, FakeScpiInstrument, FakeScpiLog, block_bytes};
pub use transport::{SCPI_TCP_PORT, ScpiTransport, TcpScpi, UsbtmcDevice, UsbtmcIo, UsbtmcScpi};

/// How to reach the instrument and what to record.
#[derive(Debug, Clone, PartialEq)]
pub struct N6705bConfig {
    /// `host`, `host:port` (LAN, port 5025 by default) or a usbtmc device
    /// path such as `/dev/usbtmc0`.
    pub address: String,
    /// Output channel 1-4 the board is powered from.
    pub channel: u8,
    /// Digital-port pin 1-7 the marker is wired to (pin 8 is common).
    pub trigger_pin: u8,
    /// Digitizer sample interval; `None` is the fastest the module offers.
    pub sample_interval_s: Option<f64>,
    /// Sample the voltage with the current where the module can (N676xA,
    /// N678xA); otherwise it is measured once per case. Off doubles an
    /// SMU's rate (5.12 us).
    pub measure_voltage: bool,
    /// Longest wait for an ordinary answer.
    pub io_timeout_s: f64,
    /// Longest wait for the LAN connection.
    pub connect_timeout_s: f64,
    /// Read the error queue after every command, to name the failing one
    /// exactly.
    pub strict_errors: bool,
}

impl N6705bConfig {
    /// Channel and pin as given; voltage sampled, fastest interval, 5 s
    /// timeouts, errors checked after configuring.
    pub fn new(address: impl Into<String>, channel: u8, trigger_pin: u8) -> Self {
        N6705bConfig {
            address: address.into(),
            channel,
            trigger_pin,
            sample_interval_s: None,
            measure_voltage: true,
            io_timeout_s: 5.0,
            connect_timeout_s: 5.0,
            strict_errors: false,
        }
    }

    /// What is wrong with the configuration and how to fix it.
    fn validate(&self) -> Result<(), String> {
        if !(1..=4).contains(&self.channel) {
            return Err(format!("channel is {}; set it to the N6705B output 1-4 the board is on", self.channel));
        }
        if !(1..=7).contains(&self.trigger_pin) {
            return Err(format!(
                "trigger_pin is {}; set it to the digital-port pin 1-7 the marker is wired to",
                self.trigger_pin
            ));
        }
        if let Some(interval) = self.sample_interval_s
            && !(interval.is_finite() && interval > 0.0)
        {
            return Err(format!("sample_interval_s is {interval}; give a positive interval or leave it unset"));
        }
        for (key, value) in [("io_timeout_s", self.io_timeout_s), ("connect_timeout_s", self.connect_timeout_s)] {
            if !(value.is_finite() && value > 0.0) {
                return Err(format!("{key} is {value}; give a positive number of seconds"));
            }
        }
        Ok(())
    }

    fn is_usbtmc(&self) -> bool {
        self.address.starts_with('/')
    }
}

/// What the channel's module can measure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleInfo {
    /// As `SYST:CHAN:MOD?` answered, e.g. `N6781A`.
    pub model: String,
    /// Digitizes voltage and current together (N676xA, N678xA).
    pub simultaneous: bool,
    /// Samples one parameter every 5.12 us (N678xA SMU).
    pub fast_single: bool,
}

impl ModuleInfo {
    pub fn from_model(model: &str) -> Self {
        let smu = model.starts_with("N678");
        ModuleInfo { model: model.to_string(), simultaneous: smu || model.starts_with("N676"), fast_single: smu }
    }

    /// The shortest sample interval for `params` measured parameters.
    pub fn fastest_interval_s(&self, params: u32) -> f64 {
        if self.fast_single && params == 1 { 5.12e-6 } else { acquisition::FINE_STEP_S }
    }
}

/// Forwards a simulated board's waveform to wherever the instrument's
/// simulator runs (set with [`N6705b::set_play_hook`]).
pub type PlayHook = Box<dyn FnMut(&Waveform) -> Result<(), PowerError> + Send>;

/// The part of an armed capture common to both acquisitions.
#[derive(Debug, Clone, Copy)]
struct ArmedCase {
    expected_edges: u32,
    deadline: Instant,
    /// How long capture waits from its call ([`CapturePlan::capture_wait_s`]).
    capture_wait_s: f64,
    resolution_a: f64,
    /// Where the voltage is not sampled: measured once after the capture,
    /// at this interval.
    voltage_once_s: Option<f64>,
}

enum Armed {
    Digitizer { case: ArmedCase, interval_s: f64, points: u32, pre_points: u32, post_s: f64 },
    Elog { case: ArmedCase, period_s: f64, per_record: usize, stop: mpsc::Sender<()>, reader: JoinHandle<ElogOutcome> },
}

/// What the data-logger thread hands back: the link, and the values.
struct ElogOutcome {
    link: Box<dyn ScpiTransport>,
    result: Result<Vec<f64>, ElogFailure>,
}

enum ElogFailure {
    /// No record came before the deadline or the stop: never triggered.
    NoRecords,
    Failed(InstrumentError),
}

/// Errors read from the queue at most per check (the queue holds few).
const MAX_QUEUED_ERRORS: usize = 32;
/// Records asked for per data-logger fetch.
const ELOG_FETCH_RECORDS: usize = 50_000;
/// Pause between data-logger fetches (the FIFO holds about 20 s).
const ELOG_POLL: Duration = Duration::from_millis(200);
/// Points of the one-off voltage measurement.
const VOLTAGE_POINTS: u32 = 256;

/// A Keysight N6705B channel as a [`PowerMeter`].
pub struct N6705b {
    config: N6705bConfig,
    /// e.g. `Keysight N6705B at 192.168.1.50:5025, channel 1`.
    name: String,
    idn: String,
    module: ModuleInfo,
    /// `None` while the data-logger thread holds it.
    link: Option<Box<dyn ScpiTransport>>,
    /// Commands sent since the error queue was last read.
    unchecked: Vec<String>,
    /// An answer may be left over (after a timeout or a malformed answer).
    needs_clear: bool,
    armed: Option<Armed>,
    /// How the last armed case is recorded, for `describe`.
    mode: Option<String>,
    play_hook: Option<PlayHook>,
}

impl std::fmt::Debug for N6705b {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("N6705b")
            .field("name", &self.name)
            .field("idn", &self.idn)
            .field("module", &self.module)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl N6705b {
    /// Opens the instrument at `config.address` and checks what answers.
    pub fn connect(config: N6705bConfig) -> Result<Self, PowerError> {
        let name = base_name("Keysight N6705B", &config);
        config.validate().map_err(|fix| unreachable(&name, fix.clone(), InstrumentError::Other(fix)))?;
        let link: Box<dyn ScpiTransport> = if config.is_usbtmc() {
            let scpi = UsbtmcScpi::open(&config.address, secs(config.io_timeout_s)).map_err(|e| {
                let fix = format!(
                    "check that the N6705B is connected over USB as {}, and that you may open it (a udev rule \
                     for usbtmc devices, or membership of its group)",
                    config.address
                );
                unreachable(&name, fix, e)
            })?;
            Box::new(scpi)
        } else {
            let scpi = TcpScpi::connect(&config.address, secs(config.connect_timeout_s)).map_err(|e| {
                let fix = format!(
                    "check that the N6705B is on, that {} is its LAN address and that port {SCPI_TCP_PORT} (or \
                     the one given) is reachable from this host",
                    config.address
                );
                unreachable(&name, fix, e)
            })?;
            Box::new(scpi)
        };
        Self::with_transport(config, link)
    }

    /// Uses an opened link (or a [`FakeScpiInstrument`]) to the instrument.
    pub fn with_transport(config: N6705bConfig, link: Box<dyn ScpiTransport>) -> Result<Self, PowerError> {
        let name = base_name("Keysight N6705B", &config);
        config.validate().map_err(|fix| unreachable(&name, fix.clone(), InstrumentError::Other(fix)))?;
        let mut meter = N6705b {
            config,
            name,
            idn: String::new(),
            module: ModuleInfo::from_model(""),
            link: Some(link),
            unchecked: Vec::new(),
            needs_clear: false,
            armed: None,
            mode: None,
            play_hook: None,
        };
        meter.identify()?;
        Ok(meter)
    }

    fn identify(&mut self) -> Result<(), PowerError> {
        let address = self.config.address.clone();
        let no_answer_fix = format!(
            "check that {address} is the N6705B and that no other program holds its connection; power-cycle it if \
             it stopped answering"
        );
        let idn = self.query("*IDN?").map_err(|e| unreachable(&self.name, no_answer_fix.clone(), e))?;
        let fields: Vec<&str> = idn.split(',').map(str::trim).collect();
        let maker = fields.first().copied().unwrap_or("").to_ascii_uppercase();
        let model = fields.get(1).copied().unwrap_or("");
        if !(maker.contains("KEYSIGHT") || maker.contains("AGILENT")) || !model.starts_with("N6705") {
            let source = InstrumentError::Other(format!(
                "{address} answered *IDN? with `{idn}`, which is not a Keysight or Agilent N6705 DC power analyzer"
            ));
            return Err(unreachable(&self.name, "set `address` to the N6705B's".into(), source));
        }
        self.name = base_name(&format!("Keysight {model}"), &self.config);
        self.idn = idn;
        let checked = (|| {
            self.command("*CLS")?;
            let answer = self.query(&format!("SYST:CHAN:MOD? {}", self.channel_list()))?;
            self.check_errors()?;
            Ok(answer)
        })();
        let answer = checked.map_err(|e| unreachable(&self.name, no_answer_fix, e))?;
        let model = answer.trim().trim_matches('"').trim().to_string();
        if model.is_empty() || !model.starts_with('N') {
            let source = InstrumentError::Other(format!(
                "channel {} holds no power module (SYST:CHAN:MOD? answered `{answer}`)",
                self.config.channel
            ));
            return Err(unreachable(&self.name, "set `channel` to the output the board is on".into(), source));
        }
        self.module = ModuleInfo::from_model(&model);
        Ok(())
    }

    /// The `*IDN?` answer.
    pub fn identity(&self) -> &str {
        &self.idn
    }

    /// The channel's module.
    pub fn module(&self) -> &ModuleInfo {
        &self.module
    }

    /// With `[power] simulate = true`: where [`PowerMeter::play`] sends the
    /// simulated board's waveform (the instrument simulator's `play`).
    pub fn set_play_hook(&mut self, hook: PlayHook) {
        self.play_hook = Some(hook);
    }

    fn channel_list(&self) -> String {
        format!("(@{})", self.config.channel)
    }

    fn io_timeout(&self) -> Duration {
        secs(self.config.io_timeout_s)
    }

    fn voltage_sampled(&self) -> bool {
        self.config.measure_voltage && self.module.simultaneous
    }

    fn params(&self) -> u32 {
        if self.voltage_sampled() { 2 } else { 1 }
    }

    fn link(&mut self) -> Result<&mut Box<dyn ScpiTransport>, InstrumentError> {
        self.link.as_mut().ok_or_else(|| {
            InstrumentError::Other(
                "the instrument link is lost (a data-logger capture thread failed); reconnect to the N6705B".into(),
            )
        })
    }

    fn fail(&self, source: InstrumentError) -> PowerError {
        PowerError::Instrument { instrument: self.name.clone(), source: Box::new(source) }
    }

    /// Sends a command; in strict mode reads the error queue after it.
    fn command(&mut self, command: &str) -> Result<(), InstrumentError> {
        self.link()?.send(command)?;
        self.unchecked.push(command.to_string());
        if self.config.strict_errors { self.check_errors() } else { Ok(()) }
    }

    /// Sends a query and reads its answer line. An unanswered query is
    /// often a refused one: the error queue then names it.
    fn query(&mut self, query: &str) -> Result<String, InstrumentError> {
        let timeout = self.io_timeout();
        self.link()?.send(query)?;
        self.unchecked.push(query.to_string());
        match self.link()?.read_line(timeout) {
            Ok(answer) => {
                if self.config.strict_errors {
                    self.check_errors()?;
                }
                Ok(answer)
            }
            Err(e) => {
                self.needs_clear = true;
                // A refusal explains the silence; a silent queue does not.
                if matches!(e, InstrumentError::Timeout { .. })
                    && let Err(refused @ InstrumentError::Refused { .. }) = self.check_errors()
                {
                    return Err(refused);
                }
                Err(e)
            }
        }
    }

    fn query_f64(&mut self, query: &str) -> Result<f64, InstrumentError> {
        let answer = self.query(query)?;
        parse_number(&answer).ok_or_else(|| InstrumentError::Malformed {
            what: format!("the answer to `{query}`"),
            detail: format!("`{answer}` is not a number"),
        })
    }

    fn query_positive(&mut self, query: &str) -> Result<f64, InstrumentError> {
        let value = self.query_f64(query)?;
        if value.is_finite() && value > 0.0 {
            Ok(value)
        } else {
            Err(InstrumentError::Malformed {
                what: format!("the answer to `{query}`"),
                detail: format!("{value} is not a positive value"),
            })
        }
    }

    /// Reads `SYST:ERR?` until `+0`; any error is reported with the
    /// commands sent since the last check.
    fn check_errors(&mut self) -> Result<(), InstrumentError> {
        let timeout = self.io_timeout();
        let mut errors = Vec::new();
        for _ in 0..MAX_QUEUED_ERRORS {
            let link = self.link()?;
            link.send("SYST:ERR?")?;
            let answer = link.read_line(timeout).inspect_err(|_| self.needs_clear = true)?;
            let code = answer.split(',').next().and_then(|c| c.trim().parse::<i32>().ok());
            match code {
                Some(0) => break,
                Some(_) => errors.push(answer),
                None => {
                    self.needs_clear = true;
                    return Err(InstrumentError::Malformed {
                        what: "the answer to `SYST:ERR?`".into(),
                        detail: format!("`{answer}` is not `<code>,\"<message>\"`"),
                    });
                }
            }
        }
        let sent = std::mem::take(&mut self.unchecked);
        if errors.is_empty() {
            return Ok(());
        }
        let command = sent.last().cloned().unwrap_or_else(|| "(no command since the last check)".into());
        let mut error = errors.join("; ");
        if sent.len() > 1 {
            let all: Vec<String> = sent.iter().map(|c| format!("`{c}`")).collect();
            error.push_str(&format!(
                " (the most recent of {} commands sent since the error queue was last read, the likely cause; \
                 all: {}; set strict_errors = true to pin the failing one)",
                sent.len(),
                all.join(", ")
            ));
        }
        Err(InstrumentError::Refused { command, error })
    }

    /// Sends an array query and reads its block of floats.
    fn fetch_array(&mut self, query: &str, timeout: Duration) -> Result<Vec<f64>, InstrumentError> {
        self.link()?.send(query)?;
        self.unchecked.push(query.to_string());
        let stall = self.io_timeout();
        let data = self.link()?.read_block(timeout, stall).inspect_err(|_| self.needs_clear = true)?;
        decode_real32_be(&data)
    }

    /// The voltage measured once, after the capture's data was read (the
    /// board has been powered and has run by then), with no pre-trigger
    /// offset left over (which would make `MEAS` wait for a trigger).
    fn measure_voltage_once(&mut self, interval_s: f64) -> Result<f64, InstrumentError> {
        let ch = self.channel_list();
        self.command(&format!("SENS:SWE:OFFS:POIN 0,{ch}"))?;
        self.command(&format!("SENS:SWE:POIN {VOLTAGE_POINTS},{ch}"))?;
        self.command(&format!("SENS:SWE:TINT {},{ch}", nr3(interval_s)))?;
        self.query_f64(&format!("MEAS:VOLT? {ch}"))
    }

    fn current_resolution_a(&mut self) -> Result<f64, InstrumentError> {
        let range_a = self.query_positive(&format!("SENS:CURR:RANG? {}", self.channel_list()))?;
        Ok(range_a / 32768.0)
    }

    fn configure_format_and_pin(&mut self) -> Result<(), InstrumentError> {
        let pin = self.config.trigger_pin;
        self.command("FORM REAL")?;
        self.command("FORM:BORD NORM")?;
        self.command(&format!("SOUR:DIG:PIN{pin}:FUNC TINP"))?;
        self.command(&format!("SOUR:DIG:PIN{pin}:POL POS"))
    }

    fn arm_case(&mut self, plan: &CapturePlan) -> Result<Armed, InstrumentError> {
        check_plan(plan)?;
        let deadline = Instant::now() + secs(plan.timeout_s);
        if self.needs_clear {
            self.link()?.clear()?;
            self.needs_clear = false;
            self.command("*CLS")?;
            self.unchecked.clear();
        }
        let ch = self.channel_list();
        self.command(&format!("ABOR:ACQ {ch}"))?;
        let sampled_v = self.voltage_sampled();
        let params = self.params();
        let base_s = self.config.sample_interval_s.unwrap_or_else(|| self.module.fastest_interval_s(params));
        self.command(&format!("SENS:FUNC:CURR ON,{ch}"))?;
        self.command(&format!("SENS:FUNC:VOLT {},{ch}", if sampled_v { "ON" } else { "OFF" }))?;
        let max_points = self.query_positive(&format!("SENS:SWE:POIN? MAX,{ch}"))?.min(f64::from(u32::MAX)) as u32;
        let mut case = ArmedCase {
            expected_edges: plan.iterations.saturating_mul(plan.edges_per_inference),
            deadline,
            capture_wait_s: plan.capture_wait_s(),
            resolution_a: 0.0,
            voltage_once_s: (!sampled_v).then_some(base_s),
        };
        match acquisition::choose(plan, base_s, max_points, params) {
            Acquisition::Digitizer { interval_s } => {
                self.command(&format!("SENS:SWE:TINT {},{ch}", nr3(interval_s)))?;
                let actual_s = self.query_positive(&format!("SENS:SWE:TINT? {ch}"))?;
                let spans = acquisition::spans(plan);
                let (points, pre_points) = acquisition::fit(spans, actual_s, max_points).ok_or_else(|| {
                    InstrumentError::Other(format!(
                        "the instrument set the sample interval to {actual_s} s where {interval_s} s was asked; \
                         {} s do not fit in its {max_points} points; set sample_interval_s longer",
                        spans.pre_s + spans.post_s
                    ))
                })?;
                self.command(&format!("SENS:SWE:POIN {points},{ch}"))?;
                self.command(&format!("SENS:SWE:OFFS:POIN -{pre_points},{ch}"))?;
                case.resolution_a = self.current_resolution_a()?;
                self.configure_format_and_pin()?;
                self.command(&format!("TRIG:ACQ:SOUR PIN{},{ch}", self.config.trigger_pin))?;
                self.command(&format!("INIT:ACQ {ch}"))?;
                self.check_errors()?;
                self.mode = Some(format!(
                    "digitizer: {points} samples every {} us, {pre_points} of them before the marker",
                    micros(actual_s)
                ));
                Ok(Armed::Digitizer { case, interval_s: actual_s, points, pre_points, post_s: spans.post_s })
            }
            Acquisition::Elog { period_s } => {
                self.command(&format!("ABOR:ELOG {ch}"))?;
                self.command(&format!("SENS:ELOG:FUNC:CURR ON,{ch}"))?;
                self.command(&format!("SENS:ELOG:FUNC:CURR:MINM OFF,{ch}"))?;
                if sampled_v {
                    self.command(&format!("SENS:ELOG:FUNC:VOLT ON,{ch}"))?;
                    self.command(&format!("SENS:ELOG:FUNC:VOLT:MINM OFF,{ch}"))?;
                } else {
                    self.command(&format!("SENS:ELOG:FUNC:VOLT OFF,{ch}"))?;
                }
                self.command(&format!("SENS:ELOG:PER {},{ch}", nr3(period_s)))?;
                let actual_s = self.query_positive(&format!("SENS:ELOG:PER? {ch}"))?;
                case.resolution_a = self.current_resolution_a()?;
                self.configure_format_and_pin()?;
                self.command(&format!("TRIG:ELOG:SOUR PIN{},{ch}", self.config.trigger_pin))?;
                self.command(&format!("INIT:ELOG {ch}"))?;
                self.check_errors()?;
                self.mode = Some(format!(
                    "loop-averaged through the external data logger (Elog), {} us periods from the marker, no idle \
                     baseline: the case does not fit the digitizer's {max_points} points at an interval that \
                     resolves an inference",
                    micros(actual_s)
                ));
                let link = self.link.take().ok_or_else(|| InstrumentError::Other("no link".into()))?;
                let (stop, stopped) = mpsc::channel();
                let fetch = format!("FETC:ELOG? {ELOG_FETCH_RECORDS},{ch}");
                let io = self.io_timeout();
                let reader = std::thread::Builder::new()
                    .name("n6705b-elog".into())
                    .spawn(move || drain_elog(link, &fetch, params as usize, &stopped, deadline, io))
                    .map_err(|source| InstrumentError::Io {
                        context: "starting the data-logger reader".into(),
                        source,
                    })?;
                Ok(Armed::Elog { case, period_s: actual_s, per_record: params as usize, stop, reader })
            }
        }
    }

    fn marker_not_seen(&self, expected: u32) -> PowerError {
        PowerError::MarkerNotSeen {
            instrument: self.name.clone(),
            expected,
            seen: 0,
            hint: format!(
                "the acquisition never triggered; wire the marker pin to the N6705B's digital port pin {}, and the \
                 board's ground to pin 8 (common)",
                self.config.trigger_pin
            ),
        }
    }

    fn capture_digitizer(
        &mut self,
        case: ArmedCase,
        interval_s: f64,
        points: u32,
        pre_points: u32,
        post_s: f64,
    ) -> Result<Capture, PowerError> {
        let ch = self.channel_list();
        let io = self.io_timeout();
        // Counted from now: the firmware has finished (see CapturePlan::capture_wait_s).
        let deadline = case.deadline.min(Instant::now() + secs(case.capture_wait_s));
        let wait = deadline.saturating_duration_since(Instant::now()).max(secs(post_s) + io);
        let current_a = match self.fetch_array(&format!("FETC:ARR:CURR? {ch}"), wait) {
            Ok(values) => values,
            Err(InstrumentError::Timeout { .. }) => {
                // Best effort: stop the acquisition and drop its late answer.
                let _ = self.link().and_then(|l| l.send(&format!("ABOR:ACQ {ch}")));
                let _ = self.link().and_then(|l| l.clear());
                self.needs_clear = true;
                return Err(self.marker_not_seen(case.expected_edges));
            }
            Err(e) => return Err(self.fail(e)),
        };
        let count = |what: &str, got: usize| {
            if got == points as usize {
                Ok(())
            } else {
                Err(InstrumentError::Malformed {
                    what: format!("the {what} array"),
                    detail: format!("{got} samples where {points} were configured"),
                })
            }
        };
        count("current", current_a.len()).map_err(|e| self.fail(e))?;
        let voltage = match case.voltage_once_s {
            Some(interval_s) => {
                Voltage::Constant { volts: self.measure_voltage_once(interval_s).map_err(|e| self.fail(e))? }
            }
            None => {
                let v = self.fetch_array(&format!("FETC:ARR:VOLT? {ch}"), io).map_err(|e| self.fail(e))?;
                count("voltage", v.len()).map_err(|e| self.fail(e))?;
                Voltage::Samples(v)
            }
        };
        self.check_errors().map_err(|e| self.fail(e))?;
        Ok(Capture {
            timebase: Timebase::Uniform { start_s: -f64::from(pre_points) * interval_s, interval_s },
            sample_kind: SampleKind::Mean,
            current_a,
            voltage,
            marker: MarkerTrack::Trigger { time_s: 0.0 },
            instrument: self.capture_identity(),
            provenance: Provenance::Measured,
            resolution_a: case.resolution_a,
        })
    }

    fn capture_elog(
        &mut self,
        case: ArmedCase,
        period_s: f64,
        per_record: usize,
        stop: mpsc::Sender<()>,
        reader: JoinHandle<ElogOutcome>,
    ) -> Result<Capture, PowerError> {
        // The thread may already have ended on its own; then nobody listens.
        let _ = stop.send(());
        let Ok(outcome) = reader.join() else {
            return Err(self.fail(InstrumentError::Other(
                "the data-logger reader thread panicked; reconnect to the N6705B".into(),
            )));
        };
        self.link = Some(outcome.link);
        let ch = self.channel_list();
        let stopped = self.command(&format!("ABOR:ELOG {ch}"));
        let values = match outcome.result {
            Ok(values) => values,
            Err(ElogFailure::NoRecords) => {
                self.needs_clear = true;
                return Err(self.marker_not_seen(case.expected_edges));
            }
            Err(ElogFailure::Failed(e)) => {
                self.needs_clear = true;
                return Err(self.fail(e));
            }
        };
        stopped.map_err(|e| self.fail(e))?;
        if !values.len().is_multiple_of(per_record) {
            return Err(self.fail(InstrumentError::Malformed {
                what: "the data-logger records".into(),
                detail: format!("{} values are not whole records of {per_record}", values.len()),
            }));
        }
        let current_a: Vec<f64> = values.iter().step_by(per_record).copied().collect();
        let voltage = match case.voltage_once_s {
            Some(interval_s) => {
                Voltage::Constant { volts: self.measure_voltage_once(interval_s).map_err(|e| self.fail(e))? }
            }
            None => Voltage::Samples(values.iter().skip(1).step_by(per_record).copied().collect()),
        };
        self.check_errors().map_err(|e| self.fail(e))?;
        Ok(Capture {
            timebase: Timebase::Uniform { start_s: 0.0, interval_s: period_s },
            sample_kind: SampleKind::Mean,
            current_a,
            voltage,
            marker: MarkerTrack::Trigger { time_s: 0.0 },
            instrument: self.capture_identity(),
            provenance: Provenance::Measured,
            resolution_a: case.resolution_a,
        })
    }

    fn capture_identity(&self) -> String {
        let mut identity = format!("{}, channel {} ({})", self.idn, self.config.channel, self.module.model);
        if let Some(mode) = self.mode.as_deref().filter(|m| m.starts_with("loop-averaged")) {
            identity.push_str(&format!(" [{mode}]"));
        }
        identity
    }

    /// Ends a data-logger capture nobody collected, taking the link back.
    fn abandon(&mut self) {
        if let Some(Armed::Elog { stop, reader, .. }) = self.armed.take() {
            let _ = stop.send(());
            if let Ok(outcome) = reader.join() {
                self.link = Some(outcome.link);
                let ch = self.channel_list();
                let _ = self.link().and_then(|l| l.send(&format!("ABOR:ELOG {ch}")));
            }
            self.needs_clear = true;
        }
    }
}

/// Reads data-logger records until told to stop (then once more, to drain
/// the FIFO). Before the first record, waits until `deadline` for the
/// trigger.
fn drain_elog(
    mut link: Box<dyn ScpiTransport>,
    fetch: &str,
    per_record: usize,
    stopped: &mpsc::Receiver<()>,
    deadline: Instant,
    io: Duration,
) -> ElogOutcome {
    let mut values = Vec::new();
    let mut stopping = false;
    let result = loop {
        let wait = if values.is_empty() { deadline.saturating_duration_since(Instant::now()).max(io) } else { io };
        let fetched = link.send(fetch).and_then(|()| link.read_block(wait, io)).and_then(|b| decode_real32_be(&b));
        let batch = match fetched {
            Ok(batch) => batch,
            // An instrument that holds the answer until records exist.
            Err(InstrumentError::Timeout { .. }) if values.is_empty() => break Err(ElogFailure::NoRecords),
            Err(e) => break Err(ElogFailure::Failed(e)),
        };
        // A full answer means more records are waiting: fetch again at once.
        let full = batch.len() >= ELOG_FETCH_RECORDS * per_record;
        values.extend(batch);
        if stopping && !full {
            break if values.is_empty() { Err(ElogFailure::NoRecords) } else { Ok(std::mem::take(&mut values)) };
        }
        if values.is_empty() && Instant::now() >= deadline {
            break Err(ElogFailure::NoRecords);
        }
        if !full {
            match stopped.recv_timeout(ELOG_POLL) {
                Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => stopping = true,
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
        }
    };
    ElogOutcome { link, result }
}

impl Drop for N6705b {
    fn drop(&mut self) {
        // Let a data-logger thread end after its next fetch.
        if let Some(Armed::Elog { stop, .. }) = &self.armed {
            let _ = stop.send(());
        }
    }
}

impl PowerMeter for N6705b {
    fn describe(&self) -> String {
        let mut line = format!("{} ({})", self.name, self.module.model);
        if let Some(mode) = &self.mode {
            line.push_str(&format!("; {mode}"));
        }
        line
    }

    fn provenance(&self) -> Provenance {
        Provenance::Measured
    }

    fn capabilities(&self) -> Capabilities {
        let fastest = self.module.fastest_interval_s(self.params());
        Capabilities {
            sample_interval_s: self.config.sample_interval_s.unwrap_or(fastest),
            marker: MarkerInput::Trigger,
            voltage: self.voltage_sampled(),
        }
    }

    fn arm(&mut self, plan: &CapturePlan) -> Result<(), PowerError> {
        self.abandon();
        self.mode = None;
        match self.arm_case(plan) {
            Ok(armed) => {
                self.armed = Some(armed);
                Ok(())
            }
            Err(e) => Err(self.fail(e)),
        }
    }

    fn play(&mut self, waveform: &Waveform) -> Result<(), PowerError> {
        match &mut self.play_hook {
            Some(hook) => hook(waveform),
            None => Ok(()),
        }
    }

    fn capture(&mut self) -> Result<Capture, PowerError> {
        match self.armed.take() {
            None => Err(self.fail(InstrumentError::Other(
                "capture() came without arm(); arm the meter before the case runs".into(),
            ))),
            Some(Armed::Digitizer { case, interval_s, points, pre_points, post_s }) => {
                self.capture_digitizer(case, interval_s, points, pre_points, post_s)
            }
            Some(Armed::Elog { case, period_s, per_record, stop, reader }) => {
                self.capture_elog(case, period_s, per_record, stop, reader)
            }
        }
    }
}

fn check_plan(plan: &CapturePlan) -> Result<(), InstrumentError> {
    let ok = plan.inference_s.is_finite()
        && plan.inference_s >= 0.0
        && plan.idle_s.is_finite()
        && plan.idle_s >= 0.0
        && plan.timeout_s.is_finite()
        && plan.timeout_s > 0.0;
    if ok {
        Ok(())
    } else {
        Err(InstrumentError::Other(format!(
            "cannot size a capture for {plan:?}: durations must be finite, not negative, and the timeout positive"
        )))
    }
}

fn base_name(model: &str, config: &N6705bConfig) -> String {
    format!("{model} at {}, channel {}", config.address, config.channel)
}

fn unreachable(name: &str, fix: String, source: InstrumentError) -> PowerError {
    PowerError::Unreachable { instrument: name.to_string(), fix, source: Box::new(source) }
}

/// Seconds as a Duration; callers pass validated, positive values (a
/// nonsensical one saturates instead of panicking).
fn secs(seconds: f64) -> Duration {
    Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX)
}

/// An SCPI number answer (`+1.024000E-05`, `524288`).
fn parse_number(answer: &str) -> Option<f64> {
    answer.trim().parse::<f64>().ok()
}

/// Seconds as microseconds for people: 10.24, 204.8.
fn micros(seconds: f64) -> String {
    format!("{}", (seconds * 1e9).round() / 1e3)
}

/// A number as SCPI NR3 without trailing zeros: 1.024E-5.
fn nr3(value: f64) -> String {
    let text = format!("{value:.6E}");
    match text.split_once('E') {
        Some((mantissa, exponent)) if mantissa.contains('.') => {
            format!("{}E{exponent}", mantissa.trim_end_matches('0').trim_end_matches('.'))
        }
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nr3_is_short_and_exact_enough() {
        assert_eq!(nr3(10.24e-6), "1.024E-5");
        assert_eq!(nr3(5.12e-6), "5.12E-6");
        assert_eq!(nr3(3.0 * 20.48e-6), "6.144E-5");
        assert_eq!(nr3(2.048e-4), "2.048E-4");
        assert_eq!(nr3(1.0), "1E0");
    }

    #[test]
    fn modules() {
        let smu = ModuleInfo::from_model("N6781A");
        assert!(smu.simultaneous && smu.fast_single);
        assert_eq!(smu.fastest_interval_s(1), 5.12e-6);
        assert_eq!(smu.fastest_interval_s(2), 10.24e-6);
        let precision = ModuleInfo::from_model("N6762A");
        assert!(precision.simultaneous && !precision.fast_single);
        let basic = ModuleInfo::from_model("N6734B");
        assert!(!basic.simultaneous && !basic.fast_single);
        assert_eq!(basic.fastest_interval_s(1), 10.24e-6);
    }

    #[test]
    fn config_is_checked() {
        assert!(N6705bConfig::new("x", 1, 1).validate().is_ok());
        assert!(N6705bConfig::new("x", 5, 1).validate().unwrap_err().contains("1-4"));
        assert!(N6705bConfig::new("x", 1, 8).validate().unwrap_err().contains("1-7"));
        let mut c = N6705bConfig::new("x", 1, 1);
        c.sample_interval_s = Some(0.0);
        assert!(c.validate().is_err());
    }
}
