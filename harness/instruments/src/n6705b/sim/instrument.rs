//! The simulated mainframe's state and what each command does to it. Facts
//! and assumptions are listed in the parent module's documentation.

use std::collections::VecDeque;

use tinybench_power::Waveform;

use super::SimFault;
use super::scpi::{Cmd, Numeric, Params, ScpiError, Unit, definite_block, names, nr1, nr3};
use super::timeline::Timeline;

/// Largest `SENS:SWE:POIN` (assumed: 512 K points).
pub(crate) const POINTS_MAX: u32 = 524_288;
const POINTS_DEFAULT: u32 = 1024;
/// Most pre-trigger samples (assumed: the buffer less one point).
const OFFSET_MIN: i64 = -(POINTS_MAX as i64 - 1);
/// Largest post-trigger delay in points (assumed).
const OFFSET_MAX: i64 = 2_000_000_000;
/// Sample interval limits and default, in seconds.
const TINT_MIN_S: f64 = 5.12e-6;
const TINT_MAX_S: f64 = 40_000.0;
const TINT_DEFAULT_S: f64 = 20.48e-6;
/// The digitizer's interval steps, in nanoseconds.
const STEP_1_PARAM_NS: f64 = 5120.0;
const STEP_2_PARAMS_NS: f64 = 10_240.0;
const STEP_RES20_NS: f64 = 20_480.0;
const STEP_RES40_NS: f64 = 40_960.0;
/// Elog integration period limits and default, in seconds; the minimum is
/// per logged parameter.
const ELOG_PERIOD_PER_PARAM_S: f64 = 102.4e-6;
const ELOG_PERIOD_MAX_S: f64 = 60.0;
const ELOG_PERIOD_DEFAULT_S: f64 = 0.1;
/// Elog FIFO: "about 20 seconds" of the fastest logging (one value per
/// 102.4 us); it overflows when nobody fetched for that long.
const ELOG_FIFO_VALUES: usize = 195_312;
const ELOG_FIFO_S: f64 = 20.0;
/// Error queue depth (assumed).
const ERROR_QUEUE_DEPTH: usize = 20;
/// N6781A output and measurement ranges.
const VOLTAGE_MAX_V: f64 = 20.4;
const CURRENT_MAX_A: f64 = 3.06;
const CURRENT_RANGES_A: [f64; 3] = [0.001, 0.1, 3.0];
const MODULE: &str = "N6781A";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DataFormat {
    Ascii,
    Real,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ByteOrder {
    Normal,
    Swapped,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resolution {
    Res20,
    Res40,
}

impl Resolution {
    fn step_s(self) -> f64 {
        match self {
            Resolution::Res20 => STEP_RES20_NS * 1e-9,
            Resolution::Res40 => STEP_RES40_NS * 1e-9,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Bus,
    External,
    Immediate,
    Pin(u8),
}

impl Source {
    fn parse(word: &str) -> Option<Source> {
        if names(word, "BUS") {
            Some(Source::Bus)
        } else if names(word, "EXTernal") {
            Some(Source::External)
        } else if names(word, "IMMediate") {
            Some(Source::Immediate)
        } else {
            let pin: u8 = word.strip_prefix("PIN")?.parse().ok()?;
            (1..=7).contains(&pin).then_some(Source::Pin(pin))
        }
    }

    fn name(self) -> String {
        match self {
            Source::Bus => "BUS".into(),
            Source::External => "EXT".into(),
            Source::Immediate => "IMM".into(),
            Source::Pin(n) => format!("PIN{n}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PinFunction {
    Dio,
    DigitalInput,
    Fault,
    Inhibit,
    OnCouple,
    OffCouple,
    TriggerOutput,
    TriggerInput,
}

const PIN_FUNCTIONS: [(&str, PinFunction); 8] = [
    ("DIO", PinFunction::Dio),
    ("DINPut", PinFunction::DigitalInput),
    ("FAULt", PinFunction::Fault),
    ("INHibit", PinFunction::Inhibit),
    ("ONCouple", PinFunction::OnCouple),
    ("OFFCouple", PinFunction::OffCouple),
    ("TOUTput", PinFunction::TriggerOutput),
    ("TINPut", PinFunction::TriggerInput),
];

#[derive(Debug, Clone, Copy)]
struct Pin {
    function: PinFunction,
    positive: bool,
}

/// What an armed acquisition will record (the settings at INIT time).
#[derive(Debug, Clone, Copy)]
struct AcqSetup {
    current: bool,
    voltage: bool,
    points: u32,
    interval_s: f64,
    offset: i64,
    source: Source,
}

#[derive(Debug, Clone, Copy)]
enum Acquisition {
    Idle,
    /// Initiated at `arm_s`; triggers count from `ready_s` (after the
    /// pre-trigger samples are in).
    Armed {
        ready_s: f64,
        arm_s: f64,
        setup: AcqSetup,
    },
}

#[derive(Debug, Clone)]
struct AcqData {
    current_a: Option<Vec<f64>>,
    voltage_v: Option<Vec<f64>>,
}

/// Which Elog items a record holds, in record order: I avg, I min, I max,
/// V avg, V min, V max.
#[derive(Debug, Clone, Copy)]
struct ElogSetup {
    items: [bool; 6],
    period_s: f64,
    sub_interval_s: f64,
    source: Source,
}

impl ElogSetup {
    fn values_per_record(&self) -> usize {
        self.items.iter().filter(|&&on| on).count()
    }
}

#[derive(Debug, Clone, Copy)]
enum Elog {
    Idle,
    Armed { arm_s: f64, setup: ElogSetup },
    Running { start_s: f64, next: u64, setup: ElogSetup },
}

#[derive(Debug, Clone)]
struct Channel {
    voltage_set_v: f64,
    current_set_a: f64,
    output_on: bool,
    sense_current: bool,
    sense_voltage: bool,
    points: u32,
    interval_request_s: f64,
    offset: i64,
    acq_source: Source,
    current_range_a: f64,
    current_range_auto: bool,
    acquisition: Acquisition,
    data: Option<AcqData>,
    elog_items: [bool; 4],
    elog_period_request_s: f64,
    elog_source: Source,
    elog: Elog,
    fifo: VecDeque<f64>,
    fifo_record_values: usize,
    /// Instrument time of INIT:ELOG or the last FETC:ELOG?.
    fifo_drained_s: f64,
}

impl Channel {
    /// The *RST state (assumed where the manuals found do not say).
    fn reset() -> Channel {
        Channel {
            voltage_set_v: 0.0,
            current_set_a: 0.1,
            output_on: false,
            sense_current: false,
            sense_voltage: true,
            points: POINTS_DEFAULT,
            interval_request_s: TINT_DEFAULT_S,
            offset: 0,
            acq_source: Source::Bus,
            current_range_a: 3.0,
            current_range_auto: true,
            acquisition: Acquisition::Idle,
            data: None,
            // CURR, CURR:MINM, VOLT, VOLT:MINM
            elog_items: [true, false, true, false],
            elog_period_request_s: ELOG_PERIOD_DEFAULT_S,
            elog_source: Source::Bus,
            elog: Elog::Idle,
            fifo: VecDeque::new(),
            fifo_record_values: 0,
            fifo_drained_s: 0.0,
        }
    }
}

/// The sample interval the digitizer uses for `requested_s` with
/// `parameters` digitized (N6705C User's Guide p. 213).
fn effective_interval_s(requested_s: f64, parameters: u32, resolution: Resolution) -> f64 {
    let ns = requested_s * 1e9;
    let step_ns = if ns < STEP_2_PARAMS_NS {
        if parameters <= 1 { STEP_1_PARAM_NS } else { return STEP_2_PARAMS_NS * 1e-9 }
    } else if ns <= STEP_RES20_NS {
        STEP_2_PARAMS_NS
    } else if resolution == Resolution::Res40 && ns > STEP_RES40_NS {
        STEP_RES40_NS
    } else {
        STEP_RES20_NS
    };
    (ns / step_ns).round().max(1.0) * step_ns * 1e-9
}

/// The Elog integration period for `requested_s`: a whole number of the
/// resolution's steps.
fn effective_period_s(requested_s: f64, resolution: Resolution) -> f64 {
    let step = resolution.step_s();
    (requested_s / step).round().max(1.0) * step
}

/// What executing one message unit gave.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Done; the response, if it was a query.
    Done(Option<Answer>),
    /// A query whose data is not there yet (an armed acquisition, an empty
    /// Elog FIFO): retry it when something changes.
    Pending,
}

/// A query's response (without the terminator), with the fault a test
/// injected for it.
#[derive(Debug)]
pub(crate) struct Answer {
    pub bytes: Vec<u8>,
    pub fault: Option<SimFault>,
}

/// A query's text response.
fn reply(text: impl Into<String>) -> Outcome {
    Outcome::Done(Some(Answer { bytes: text.into().into_bytes(), fault: None }))
}

const DONE: Outcome = Outcome::Done(None);

/// The simulated mainframe.
#[derive(Debug)]
pub(crate) struct Instrument {
    identity: String,
    marker_pin: Option<u8>,
    errors: VecDeque<ScpiError>,
    esr: u8,
    ese: u8,
    sre: u8,
    format: DataFormat,
    border: ByteOrder,
    resolution: Resolution,
    channels: Vec<Channel>,
    pins: [Pin; 7],
    digital_out: u8,
    timeline: Timeline,
    answer_faults: VecDeque<SimFault>,
    reject_commands: u32,
    replay: Option<Waveform>,
}

impl Instrument {
    pub(crate) fn new(identity: String, channels: usize, marker_pin: Option<u8>, replay: Option<Waveform>) -> Self {
        Instrument {
            identity,
            marker_pin,
            errors: VecDeque::new(),
            esr: 0,
            ese: 0,
            sre: 0,
            format: DataFormat::Ascii,
            border: ByteOrder::Normal,
            resolution: Resolution::Res20,
            channels: vec![Channel::reset(); channels],
            // Pin functions live in non-volatile memory; a fresh one is all DIO.
            pins: [Pin { function: PinFunction::Dio, positive: true }; 7],
            digital_out: 0,
            timeline: Timeline::default(),
            answer_faults: VecDeque::new(),
            reject_commands: 0,
            replay,
        }
    }

    pub(crate) fn identity(&self) -> &str {
        &self.identity
    }

    /// Queues an error (SCPI-99 21.8: a full queue's last entry becomes
    /// -350 and further errors are lost).
    pub(crate) fn push_error(&mut self, error: ScpiError) {
        self.esr |= error.esr_bit();
        if self.errors.len() < ERROR_QUEUE_DEPTH {
            self.errors.push_back(error);
        } else if let Some(last) = self.errors.back_mut() {
            *last = ScpiError::QueueOverflow;
        }
    }

    pub(crate) fn inject(&mut self, fault: SimFault) {
        match fault {
            SimFault::RejectNextCommand => self.reject_commands += 1,
            other => self.answer_faults.push_back(other),
        }
    }

    /// A waveform starts now: trigger what it triggers.
    pub(crate) fn play(&mut self, waveform: &Waveform, now_s: f64) {
        self.timeline.play(now_s, waveform);
        self.resolve_external(now_s);
    }

    fn data_answer(&mut self, bytes: Vec<u8>) -> Outcome {
        Outcome::Done(Some(Answer { bytes, fault: self.answer_faults.pop_front() }))
    }

    pub(crate) fn execute_common(
        &mut self,
        name: &str,
        query: bool,
        mut p: Params,
        now_s: f64,
    ) -> Result<Outcome, ScpiError> {
        let byte_param = |p: &mut Params| -> Result<u8, ScpiError> {
            match p.numeric(None)? {
                Numeric::Value(v) if (0.0..=255.0).contains(&v.round()) => Ok(v.round() as u8),
                Numeric::Value(_) => Err(ScpiError::DataOutOfRange),
                Numeric::Min | Numeric::Default => Ok(0),
                Numeric::Max => Ok(255),
            }
        };
        let outcome = match (name, query) {
            ("IDN", true) => reply(self.identity.clone()),
            ("RST", false) => {
                self.reset();
                DONE
            }
            ("CLS", false) => {
                self.errors.clear();
                self.esr = 0;
                DONE
            }
            ("OPC", false) => {
                // Nothing here is an overlapped command: complete at once.
                self.esr |= 0x01;
                DONE
            }
            ("OPC", true) => reply("1"),
            ("ESR", true) => {
                let esr = self.esr;
                self.esr = 0;
                reply(nr1(esr.into()))
            }
            ("ESE", false) => {
                self.ese = byte_param(&mut p)?;
                DONE
            }
            ("ESE", true) => reply(nr1(self.ese.into())),
            ("SRE", false) => {
                self.sre = byte_param(&mut p)?;
                DONE
            }
            ("SRE", true) => reply(nr1(self.sre.into())),
            ("STB", true) => {
                let mut stb = 0u8;
                if !self.errors.is_empty() {
                    stb |= 0x04;
                }
                if self.esr & self.ese != 0 {
                    stb |= 0x20;
                }
                if stb & self.sre & !0x40 != 0 {
                    stb |= 0x40;
                }
                reply(nr1(stb.into()))
            }
            ("TRG", false) => {
                self.bus_trigger(now_s);
                DONE
            }
            ("WAI", false) => DONE,
            ("TST", true) => reply("+0"),
            _ => return Err(ScpiError::UndefinedHeader),
        };
        p.finish()?;
        Ok(outcome)
    }

    /// *RST: the reset state; pin functions (non-volatile) and the error
    /// queue stay.
    fn reset(&mut self) {
        self.format = DataFormat::Ascii;
        self.border = ByteOrder::Normal;
        self.resolution = Resolution::Res20;
        let n = self.channels.len();
        self.channels = vec![Channel::reset(); n];
        self.digital_out = 0;
    }

    pub(crate) fn execute(
        &mut self,
        cmd: Cmd,
        suffixes: &[u32],
        query: bool,
        mut p: Params,
        now_s: f64,
    ) -> Result<Outcome, ScpiError> {
        if !query && self.reject_commands > 0 {
            self.reject_commands -= 1;
            return Err(ScpiError::SettingsConflict);
        }
        let installed = self.channels.len();
        match (cmd, query) {
            (Cmd::SystemError, true) => {
                p.finish()?;
                let text = match self.errors.pop_front() {
                    Some(e) => e.to_string(),
                    None => "+0,\"No error\"".to_string(),
                };
                Ok(reply(text))
            }
            (Cmd::SystemVersion, true) => {
                p.finish()?;
                Ok(reply("1999.0"))
            }
            (Cmd::SystemChannelCount, true) => {
                p.finish()?;
                Ok(reply(nr1(installed as i64)))
            }
            (Cmd::SystemChannelModel, true) => {
                let chans = p.channels(installed)?;
                Ok(reply(chans.iter().map(|_| MODULE).collect::<Vec<_>>().join(",")))
            }
            (Cmd::StatusOperationCondition, true) => {
                let chans = p.channels(installed)?;
                Ok(self.per_channel(&chans, |c| nr1(operation_condition(c).into())))
            }
            (Cmd::SourceVoltage, false) => {
                let v = limited(p.numeric(Some(Unit::Volts))?, 0.0, VOLTAGE_MAX_V, 0.0)?;
                for ch in p.channels(installed)? {
                    self.channels[ch - 1].voltage_set_v = v;
                }
                Ok(DONE)
            }
            (Cmd::SourceVoltage, true) => {
                let limit = p.limit_opt()?;
                let chans = p.channels(installed)?;
                Ok(self.per_channel(&chans, |c| {
                    nr3(limit.map_or(c.voltage_set_v, |l| limit_value(l, 0.0, VOLTAGE_MAX_V, 0.0)))
                }))
            }
            (Cmd::SourceCurrent, false) => {
                let a = limited(p.numeric(Some(Unit::Amperes))?, 0.0, CURRENT_MAX_A, 0.1)?;
                for ch in p.channels(installed)? {
                    self.channels[ch - 1].current_set_a = a;
                }
                Ok(DONE)
            }
            (Cmd::SourceCurrent, true) => {
                let limit = p.limit_opt()?;
                let chans = p.channels(installed)?;
                Ok(self.per_channel(&chans, |c| {
                    nr3(limit.map_or(c.current_set_a, |l| limit_value(l, 0.0, CURRENT_MAX_A, 0.1)))
                }))
            }
            (Cmd::Output, false) => {
                let on = p.boolean()?;
                for ch in p.channels(installed)? {
                    self.channels[ch - 1].output_on = on;
                }
                Ok(DONE)
            }
            (Cmd::Output, true) => {
                let chans = p.channels(installed)?;
                Ok(self.per_channel(&chans, |c| bool_text(c.output_on)))
            }
            (Cmd::SenseFunction, false) => {
                let function = p.string()?;
                let current = if names(&function, "CURRent") {
                    true
                } else if names(&function, "VOLTage") {
                    false
                } else {
                    return Err(ScpiError::IllegalParameterValue);
                };
                for ch in p.channels(installed)? {
                    let c = &mut self.channels[ch - 1];
                    c.sense_current = current;
                    c.sense_voltage = !current;
                }
                Ok(DONE)
            }
            (Cmd::SenseFunction, true) => {
                let chans = p.channels(installed)?;
                Ok(self.per_channel(&chans, |c| {
                    if c.sense_current && !c.sense_voltage { "\"CURR\"".into() } else { "\"VOLT\"".into() }
                }))
            }
            (Cmd::SenseFunctionCurrent | Cmd::SenseFunctionVoltage, false) => {
                let on = p.boolean()?;
                for ch in p.channels(installed)? {
                    let c = &mut self.channels[ch - 1];
                    if cmd == Cmd::SenseFunctionCurrent {
                        c.sense_current = on;
                    } else {
                        c.sense_voltage = on;
                    }
                }
                Ok(DONE)
            }
            (Cmd::SenseFunctionCurrent | Cmd::SenseFunctionVoltage, true) => {
                let chans = p.channels(installed)?;
                let current = cmd == Cmd::SenseFunctionCurrent;
                Ok(self.per_channel(&chans, |c| bool_text(if current { c.sense_current } else { c.sense_voltage })))
            }
            (Cmd::SensePoints, false) => {
                let n = limited(p.numeric(None)?, 1.0, f64::from(POINTS_MAX), f64::from(POINTS_DEFAULT))?;
                for ch in p.channels(installed)? {
                    self.channels[ch - 1].points = n.round() as u32;
                }
                Ok(DONE)
            }
            (Cmd::SensePoints, true) => {
                let limit = p.limit_opt()?;
                let chans = p.channels(installed)?;
                Ok(self.per_channel(&chans, |c| {
                    let n = limit.map_or(f64::from(c.points), |l| {
                        limit_value(l, 1.0, f64::from(POINTS_MAX), f64::from(POINTS_DEFAULT))
                    });
                    nr1(n as i64)
                }))
            }
            (Cmd::SenseInterval, false) => {
                let t = limited(p.numeric(Some(Unit::Seconds))?, TINT_MIN_S, TINT_MAX_S, TINT_DEFAULT_S)?;
                for ch in p.channels(installed)? {
                    self.channels[ch - 1].interval_request_s = t;
                }
                Ok(DONE)
            }
            (Cmd::SenseInterval, true) => {
                let limit = p.limit_opt()?;
                let chans = p.channels(installed)?;
                let resolution = self.resolution;
                Ok(self.per_channel(&chans, |c| {
                    let requested =
                        limit.map_or(c.interval_request_s, |l| limit_value(l, TINT_MIN_S, TINT_MAX_S, TINT_DEFAULT_S));
                    nr3(effective_interval_s(requested, sense_parameters(c), resolution))
                }))
            }
            (Cmd::SenseIntervalResolution, false) => {
                let resolution = p.keyword(|w| match w {
                    "RES20" => Some(Resolution::Res20),
                    "RES40" => Some(Resolution::Res40),
                    _ => None,
                })?;
                // Mainframe-wide; a channel list is accepted and changes nothing.
                p.channels(installed)?;
                self.resolution = resolution;
                Ok(DONE)
            }
            (Cmd::SenseIntervalResolution, true) => {
                p.channels(installed)?;
                Ok(reply(if self.resolution == Resolution::Res20 { "RES20" } else { "RES40" }))
            }
            (Cmd::SenseOffset, false) => {
                let n = limited(p.numeric(None)?, OFFSET_MIN as f64, OFFSET_MAX as f64, 0.0)?;
                for ch in p.channels(installed)? {
                    self.channels[ch - 1].offset = n.round() as i64;
                }
                Ok(DONE)
            }
            (Cmd::SenseOffset, true) => {
                let limit = p.limit_opt()?;
                let chans = p.channels(installed)?;
                Ok(self.per_channel(&chans, |c| {
                    let n =
                        limit.map_or(c.offset as f64, |l| limit_value(l, OFFSET_MIN as f64, OFFSET_MAX as f64, 0.0));
                    nr1(n as i64)
                }))
            }
            (Cmd::SenseCurrentRange, false) => {
                let top = CURRENT_RANGES_A[CURRENT_RANGES_A.len() - 1];
                let a = limited(p.numeric(Some(Unit::Amperes))?, -CURRENT_MAX_A, CURRENT_MAX_A, top)?;
                // The smallest range that holds the value.
                let range = CURRENT_RANGES_A.iter().copied().find(|r| a.abs() <= r * 1.02).unwrap_or(top);
                for ch in p.channels(installed)? {
                    let c = &mut self.channels[ch - 1];
                    c.current_range_a = range;
                    c.current_range_auto = false;
                }
                Ok(DONE)
            }
            (Cmd::SenseCurrentRange, true) => {
                let limit = p.limit_opt()?;
                let chans = p.channels(installed)?;
                Ok(self.per_channel(&chans, |c| {
                    nr3(match limit {
                        None => c.current_range_a,
                        Some(Numeric::Min) => CURRENT_RANGES_A[0],
                        Some(_) => CURRENT_RANGES_A[CURRENT_RANGES_A.len() - 1],
                    })
                }))
            }
            (Cmd::SenseCurrentRangeAuto, false) => {
                let on = p.boolean()?;
                for ch in p.channels(installed)? {
                    self.channels[ch - 1].current_range_auto = on;
                }
                Ok(DONE)
            }
            (Cmd::SenseCurrentRangeAuto, true) => {
                let chans = p.channels(installed)?;
                Ok(self.per_channel(&chans, |c| bool_text(c.current_range_auto)))
            }
            (
                Cmd::ElogFunctionCurrent
                | Cmd::ElogFunctionCurrentMinMax
                | Cmd::ElogFunctionVoltage
                | Cmd::ElogFunctionVoltageMinMax,
                _,
            ) => {
                let item = match cmd {
                    Cmd::ElogFunctionCurrent => 0,
                    Cmd::ElogFunctionCurrentMinMax => 1,
                    Cmd::ElogFunctionVoltage => 2,
                    _ => 3,
                };
                if query {
                    let chans = p.channels(installed)?;
                    return Ok(self.per_channel(&chans, |c| bool_text(c.elog_items[item])));
                }
                let on = p.boolean()?;
                for ch in p.channels(installed)? {
                    self.channels[ch - 1].elog_items[item] = on;
                }
                Ok(DONE)
            }
            (Cmd::ElogPeriod, false) => {
                let t = limited(
                    p.numeric(Some(Unit::Seconds))?,
                    ELOG_PERIOD_PER_PARAM_S,
                    ELOG_PERIOD_MAX_S,
                    ELOG_PERIOD_DEFAULT_S,
                )?;
                for ch in p.channels(installed)? {
                    self.channels[ch - 1].elog_period_request_s = t;
                }
                Ok(DONE)
            }
            (Cmd::ElogPeriod, true) => {
                let limit = p.limit_opt()?;
                let chans = p.channels(installed)?;
                let resolution = self.resolution;
                Ok(self.per_channel(&chans, |c| {
                    let requested = limit.map_or(c.elog_period_request_s, |l| {
                        limit_value(l, ELOG_PERIOD_PER_PARAM_S, ELOG_PERIOD_MAX_S, ELOG_PERIOD_DEFAULT_S)
                    });
                    nr3(effective_period_s(requested, resolution))
                }))
            }
            (Cmd::TriggerAcquireSource | Cmd::TriggerElogSource, false) => {
                let source = p.keyword(Source::parse)?;
                for ch in p.channels(installed)? {
                    let c = &mut self.channels[ch - 1];
                    if cmd == Cmd::TriggerAcquireSource {
                        c.acq_source = source;
                    } else {
                        c.elog_source = source;
                    }
                }
                Ok(DONE)
            }
            (Cmd::TriggerAcquireSource | Cmd::TriggerElogSource, true) => {
                let chans = p.channels(installed)?;
                let acquire = cmd == Cmd::TriggerAcquireSource;
                Ok(self.per_channel(&chans, |c| if acquire { c.acq_source.name() } else { c.elog_source.name() }))
            }
            (Cmd::TriggerAcquire, false) => {
                for ch in p.channels(installed)? {
                    self.trigger_acquisition(ch, now_s);
                }
                Ok(DONE)
            }
            (Cmd::TriggerElog, false) => {
                for ch in p.channels(installed)? {
                    self.trigger_elog(ch, now_s);
                }
                Ok(DONE)
            }
            (Cmd::InitiateAcquire, false) => {
                let chans = p.channels(installed)?;
                self.start_replay(now_s);
                for ch in chans {
                    self.arm_acquisition(ch, now_s, None)?;
                }
                self.resolve_external(now_s);
                Ok(DONE)
            }
            (Cmd::InitiateElog, false) => {
                let chans = p.channels(installed)?;
                self.arm_elogs(&chans, now_s)?;
                Ok(DONE)
            }
            (Cmd::AbortAcquire, false) => {
                for ch in p.channels(installed)? {
                    self.channels[ch - 1].acquisition = Acquisition::Idle;
                }
                Ok(DONE)
            }
            (Cmd::AbortElog, false) => {
                for ch in p.channels(installed)? {
                    let c = &mut self.channels[ch - 1];
                    c.elog = Elog::Idle;
                    c.fifo.clear();
                }
                Ok(DONE)
            }
            (Cmd::FetchArrayCurrent | Cmd::FetchArrayVoltage, true) => {
                let chans = p.channels(installed)?;
                self.fetch(&chans, cmd == Cmd::FetchArrayCurrent, true)
            }
            (Cmd::FetchCurrent | Cmd::FetchVoltage, true) => {
                let chans = p.channels(installed)?;
                self.fetch(&chans, cmd == Cmd::FetchCurrent, false)
            }
            (Cmd::MeasureArrayCurrent | Cmd::MeasureArrayVoltage | Cmd::MeasureCurrent | Cmd::MeasureVoltage, true) => {
                let chans = p.channels(installed)?;
                let current = matches!(cmd, Cmd::MeasureArrayCurrent | Cmd::MeasureCurrent);
                self.start_replay(now_s);
                for &ch in &chans {
                    self.arm_acquisition(ch, now_s, Some(current))?;
                }
                self.fetch(&chans, current, matches!(cmd, Cmd::MeasureArrayCurrent | Cmd::MeasureArrayVoltage))
            }
            (Cmd::FetchElog, true) => {
                let records = match p.numeric(None)? {
                    Numeric::Value(v) if v.round() >= 1.0 => v.round().min(u32::MAX.into()) as usize,
                    Numeric::Value(_) => return Err(ScpiError::DataOutOfRange),
                    Numeric::Min => 1,
                    Numeric::Max | Numeric::Default => usize::MAX,
                };
                let chans = p.channels(installed)?;
                self.fetch_elog(&chans, records, now_s)
            }
            (Cmd::FormatData, false) => {
                let format = p.keyword(|w| {
                    if names(w, "ASCii") {
                        Some(DataFormat::Ascii)
                    } else if names(w, "REAL") {
                        Some(DataFormat::Real)
                    } else {
                        None
                    }
                })?;
                if p.has_more() {
                    // The length: REAL is 32-bit single precision only.
                    match (format, p.numeric(None)?) {
                        (DataFormat::Real, Numeric::Value(32.0)) => {}
                        (DataFormat::Ascii, Numeric::Value(_)) => {}
                        _ => return Err(ScpiError::IllegalParameterValue),
                    }
                }
                p.finish()?;
                self.format = format;
                Ok(DONE)
            }
            (Cmd::FormatData, true) => {
                p.finish()?;
                Ok(reply(if self.format == DataFormat::Ascii { "ASC" } else { "REAL" }))
            }
            (Cmd::FormatBorder, false) => {
                let order = p.keyword(|w| {
                    if names(w, "NORMal") {
                        Some(ByteOrder::Normal)
                    } else if names(w, "SWAPped") {
                        Some(ByteOrder::Swapped)
                    } else {
                        None
                    }
                })?;
                p.finish()?;
                self.border = order;
                Ok(DONE)
            }
            (Cmd::FormatBorder, true) => {
                p.finish()?;
                Ok(reply(if self.border == ByteOrder::Normal { "NORM" } else { "SWAP" }))
            }
            (Cmd::DigitalPinFunction | Cmd::DigitalPinPolarity, _) => {
                let pin = suffixes.first().copied().unwrap_or(1);
                if !(1..=7).contains(&pin) {
                    return Err(ScpiError::HeaderSuffixOutOfRange);
                }
                let index = pin as usize - 1;
                if query {
                    p.finish()?;
                    let state = self.pins[index];
                    let text = if cmd == Cmd::DigitalPinFunction {
                        PIN_FUNCTIONS
                            .iter()
                            .find(|(_, f)| *f == state.function)
                            .map_or("DIO".to_string(), |(long, _)| super::scpi::short_form(long))
                    } else if state.positive {
                        "POS".to_string()
                    } else {
                        "NEG".to_string()
                    };
                    return Ok(reply(text));
                }
                if cmd == Cmd::DigitalPinFunction {
                    let function =
                        p.keyword(|w| PIN_FUNCTIONS.iter().find(|(long, _)| names(w, long)).map(|(_, f)| *f))?;
                    p.finish()?;
                    // Pin 1 alone is the fault output, pin 3 the inhibit
                    // input, pins 4-7 the output couplings.
                    let allowed = match function {
                        PinFunction::Fault => pin == 1,
                        PinFunction::Inhibit => pin == 3,
                        PinFunction::OnCouple | PinFunction::OffCouple => (4..=7).contains(&pin),
                        _ => true,
                    };
                    if !allowed {
                        return Err(ScpiError::SettingsConflict);
                    }
                    self.pins[index].function = function;
                    // A new trigger input may see an edge an armed capture waits for.
                    self.resolve_external(now_s);
                } else {
                    let positive = p.keyword(|w| {
                        if names(w, "POSitive") {
                            Some(true)
                        } else if names(w, "NEGative") {
                            Some(false)
                        } else {
                            None
                        }
                    })?;
                    p.finish()?;
                    self.pins[index].positive = positive;
                    self.resolve_external(now_s);
                }
                Ok(DONE)
            }
            (Cmd::DigitalInputData, true) => {
                p.finish()?;
                let level = self.timeline.level_at(now_s);
                let mut bits = 0i64;
                for (i, pin) in self.pins.iter().enumerate() {
                    let wired = self.marker_pin.is_none_or(|m| usize::from(m) == i + 1);
                    let high = wired && level;
                    // NEGative reads a low pin as 1.
                    if high == pin.positive {
                        bits |= 1 << i;
                    }
                }
                Ok(reply(nr1(bits)))
            }
            (Cmd::DigitalOutputData, false) => {
                let v = limited(p.numeric(None)?, 0.0, 127.0, 0.0)?;
                p.finish()?;
                self.digital_out = v.round() as u8;
                Ok(DONE)
            }
            (Cmd::DigitalOutputData, true) => {
                p.finish()?;
                Ok(reply(nr1(self.digital_out.into())))
            }
            // A header without this form (a query of a command, or the reverse).
            _ => Err(ScpiError::UndefinedHeader),
        }
    }

    fn per_channel(&self, chans: &[usize], text: impl Fn(&Channel) -> String) -> Outcome {
        reply(chans.iter().map(|&ch| text(&self.channels[ch - 1])).collect::<Vec<_>>().join(","))
    }

    /// With a replay waveform (standalone serving), each arm starts it anew.
    fn start_replay(&mut self, now_s: f64) {
        if let Some(waveform) = self.replay.take() {
            self.timeline.play(now_s, &waveform);
            self.replay = Some(waveform);
        }
    }

    fn arm_acquisition(&mut self, ch: usize, now_s: f64, measure_current: Option<bool>) -> Result<(), ScpiError> {
        let resolution = self.resolution;
        let c = &mut self.channels[ch - 1];
        if !matches!(c.elog, Elog::Idle) {
            // The Elog uses the acquisition system.
            return Err(ScpiError::SettingsConflict);
        }
        let current = c.sense_current || measure_current == Some(true);
        let voltage = c.sense_voltage || measure_current == Some(false);
        if !current && !voltage {
            return Err(ScpiError::SettingsConflict);
        }
        let parameters = u32::from(current) + u32::from(voltage);
        let interval_s = effective_interval_s(c.interval_request_s, parameters, resolution);
        let source = if measure_current.is_some() { Source::Immediate } else { c.acq_source };
        let setup = AcqSetup { current, voltage, points: c.points, interval_s, offset: c.offset, source };
        // A trigger before the pre-trigger samples are in is ignored.
        let ready_s = now_s + (-c.offset).max(0) as f64 * interval_s;
        c.data = None;
        c.acquisition = Acquisition::Armed { ready_s, arm_s: now_s, setup };
        if source == Source::Immediate {
            self.complete_acquisition(ch, ready_s);
        }
        Ok(())
    }

    fn trigger_acquisition(&mut self, ch: usize, now_s: f64) {
        if let Acquisition::Armed { ready_s, .. } = self.channels[ch - 1].acquisition
            && now_s >= ready_s
        {
            self.complete_acquisition(ch, now_s);
        }
    }

    fn complete_acquisition(&mut self, ch: usize, trigger_s: f64) {
        let Acquisition::Armed { setup, .. } = self.channels[ch - 1].acquisition else {
            return;
        };
        let n = setup.points as usize;
        let mut current = Vec::with_capacity(if setup.current { n } else { 0 });
        let mut voltage = Vec::with_capacity(if setup.voltage { n } else { 0 });
        // Only channel 1 carries the board; the others measure an open output.
        let measured = ch == 1;
        for k in 0..n {
            let start = trigger_s + (setup.offset + k as i64) as f64 * setup.interval_s;
            let integral =
                if measured { self.timeline.integrate(start, start + setup.interval_s) } else { Default::default() };
            if setup.current {
                current.push(integral.current_as / setup.interval_s);
            }
            if setup.voltage {
                voltage.push(integral.voltage_vs / setup.interval_s);
            }
        }
        let c = &mut self.channels[ch - 1];
        c.data =
            Some(AcqData { current_a: setup.current.then_some(current), voltage_v: setup.voltage.then_some(voltage) });
        c.acquisition = Acquisition::Idle;
    }

    /// The first edge an external source sees at or after `from_s`: on any
    /// trigger-input pin (EXTernal) or on the named one, per its polarity,
    /// provided the marker is wired to it.
    fn external_edge_s(&self, source: Source, from_s: f64) -> Option<f64> {
        let mut first: Option<f64> = None;
        for (i, pin) in self.pins.iter().enumerate() {
            let number = i as u8 + 1;
            let selected = match source {
                Source::External => true,
                Source::Pin(n) => n == number,
                Source::Bus | Source::Immediate => false,
            };
            let wired = self.marker_pin.is_none_or(|m| m == number);
            if selected
                && wired
                && pin.function == PinFunction::TriggerInput
                && let Some(t) = self.timeline.first_edge_s(from_s, pin.positive)
            {
                first = Some(first.map_or(t, |f: f64| f.min(t)));
            }
        }
        first
    }

    /// Triggers what waits for an edge that the played waveforms contain.
    fn resolve_external(&mut self, now_s: f64) {
        for ch in 1..=self.channels.len() {
            if let Acquisition::Armed { ready_s, setup, .. } = self.channels[ch - 1].acquisition
                && let Some(t) = self.external_edge_s(setup.source, ready_s)
            {
                self.complete_acquisition(ch, t);
            }
            if let Elog::Armed { arm_s, setup } = self.channels[ch - 1].elog
                && let Some(t) = self.external_edge_s(setup.source, arm_s)
            {
                self.channels[ch - 1].elog = Elog::Running { start_s: t, next: 0, setup };
            }
        }
        self.prune(now_s);
    }

    fn bus_trigger(&mut self, now_s: f64) {
        for ch in 1..=self.channels.len() {
            let c = &self.channels[ch - 1];
            if let Acquisition::Armed { setup, .. } = c.acquisition
                && setup.source == Source::Bus
            {
                self.trigger_acquisition(ch, now_s);
            }
            let c = &mut self.channels[ch - 1];
            if let Elog::Armed { setup, .. } = c.elog
                && setup.source == Source::Bus
            {
                c.elog = Elog::Running { start_s: now_s, next: 0, setup };
            }
        }
    }

    fn trigger_elog(&mut self, ch: usize, now_s: f64) {
        let c = &mut self.channels[ch - 1];
        if let Elog::Armed { setup, .. } = c.elog {
            c.elog = Elog::Running { start_s: now_s, next: 0, setup };
        }
    }

    fn arm_elogs(&mut self, chans: &[usize], now_s: f64) -> Result<(), ScpiError> {
        let resolution = self.resolution;
        let setup_of = |c: &Channel| {
            let [i, i_minmax, v, v_minmax] = c.elog_items;
            ElogSetup {
                items: [i, i_minmax, i_minmax, v, v_minmax, v_minmax],
                period_s: effective_period_s(c.elog_period_request_s, resolution),
                sub_interval_s: resolution.step_s(),
                source: c.elog_source,
            }
        };
        // Parameters logged at once over the mainframe, with these.
        let mut total = 0;
        let mut shortest_s = f64::INFINITY;
        for (i, c) in self.channels.iter().enumerate() {
            let starting = chans.contains(&(i + 1));
            if starting || !matches!(c.elog, Elog::Idle) {
                let setup = setup_of(c);
                if setup.values_per_record() == 0 {
                    return Err(ScpiError::SettingsConflict);
                }
                if starting && !matches!(c.acquisition, Acquisition::Idle) {
                    return Err(ScpiError::SettingsConflict);
                }
                total += setup.values_per_record();
                shortest_s = shortest_s.min(setup.period_s);
            }
        }
        // Up to 4 parameters with 20 us resolution, 24 with 40 us; at least
        // 102.4 us of period per parameter.
        let too_many = match resolution {
            Resolution::Res20 => total > 4,
            Resolution::Res40 => total > 24,
        };
        if too_many || shortest_s < ELOG_PERIOD_PER_PARAM_S * total as f64 - 1e-12 {
            return Err(ScpiError::SettingsConflict);
        }
        self.start_replay(now_s);
        for &ch in chans {
            let setup = setup_of(&self.channels[ch - 1]);
            let c = &mut self.channels[ch - 1];
            c.fifo.clear();
            c.fifo_record_values = setup.values_per_record();
            c.fifo_drained_s = now_s;
            c.elog = if setup.source == Source::Immediate {
                Elog::Running { start_s: now_s, next: 0, setup }
            } else {
                Elog::Armed { arm_s: now_s, setup }
            };
        }
        self.resolve_external(now_s);
        Ok(())
    }

    /// Logs every record that ended by `horizon_s`. The FIFO overflows
    /// (losing the oldest records) only when nobody fetched for about 20 s
    /// of instrument time: a played waveform passes at once, and a driver
    /// that polls while the real one runs would have kept up.
    fn advance_elog(&mut self, ch: usize, horizon_s: f64, now_s: f64) {
        let Elog::Running { start_s, next, setup } = self.channels[ch - 1].elog else {
            return;
        };
        let ended = ((horizon_s - start_s) / setup.period_s).floor();
        if ended <= next as f64 {
            return;
        }
        let ended = ended as u64;
        let per_record = setup.values_per_record();
        let overflowing = now_s - self.channels[ch - 1].fifo_drained_s > ELOG_FIFO_S;
        // Records the FIFO could not hold anyway are not worth computing.
        let keep = (ELOG_FIFO_VALUES / per_record) as u64;
        let first = if overflowing { next.max(ended.saturating_sub(keep)) } else { next };
        let subs = (setup.period_s / setup.sub_interval_s).round().max(1.0) as u64;
        let measured = ch == 1;
        let mut values = Vec::with_capacity(per_record);
        for record in first..ended {
            let record_start = start_s + record as f64 * setup.period_s;
            let (mut i_sum, mut i_min, mut i_max) = (0.0, f64::INFINITY, f64::NEG_INFINITY);
            let (mut v_sum, mut v_min, mut v_max) = (0.0, f64::INFINITY, f64::NEG_INFINITY);
            for j in 0..subs {
                let a = record_start + j as f64 * setup.sub_interval_s;
                let integral =
                    if measured { self.timeline.integrate(a, a + setup.sub_interval_s) } else { Default::default() };
                let (i, v) = (integral.current_as / setup.sub_interval_s, integral.voltage_vs / setup.sub_interval_s);
                i_sum += i;
                i_min = i_min.min(i);
                i_max = i_max.max(i);
                v_sum += v;
                v_min = v_min.min(v);
                v_max = v_max.max(v);
            }
            let all = [i_sum / subs as f64, i_min, i_max, v_sum / subs as f64, v_min, v_max];
            values.clear();
            values.extend(all.iter().zip(setup.items).filter(|(_, on)| *on).map(|(v, _)| *v));
            self.channels[ch - 1].fifo.extend(values.iter().copied());
        }
        let c = &mut self.channels[ch - 1];
        if overflowing {
            let excess = c.fifo.len().saturating_sub(ELOG_FIFO_VALUES);
            // Whole records go, oldest first.
            c.fifo.drain(..excess.div_ceil(per_record) * per_record);
        }
        c.elog = Elog::Running { start_s, next: ended, setup };
    }

    fn fetch_elog(&mut self, chans: &[usize], records: usize, now_s: f64) -> Result<Outcome, ScpiError> {
        let horizon_s = now_s.max(self.timeline.known_until_s());
        for &ch in chans {
            let c = &self.channels[ch - 1];
            if matches!(c.elog, Elog::Idle) && c.fifo.is_empty() {
                return Err(ScpiError::DataStale);
            }
            self.advance_elog(ch, horizon_s, now_s);
        }
        self.prune(now_s);
        let available = chans
            .iter()
            .map(|&ch| {
                let c = &self.channels[ch - 1];
                c.fifo.len() / c.fifo_record_values.max(1)
            })
            .min()
            .unwrap_or(0);
        if available == 0 {
            return Ok(Outcome::Pending);
        }
        let take = available.min(records);
        for &ch in chans {
            self.channels[ch - 1].fifo_drained_s = now_s;
        }
        let mut values = Vec::new();
        for _ in 0..take {
            for &ch in chans {
                let c = &mut self.channels[ch - 1];
                let n = c.fifo_record_values;
                values.extend(c.fifo.drain(..n));
            }
        }
        Ok(self.data_answer(self.encode(&values)))
    }

    /// Arrays (or their average) from the last acquisition.
    fn fetch(&mut self, chans: &[usize], current: bool, array: bool) -> Result<Outcome, ScpiError> {
        let mut values = Vec::new();
        for &ch in chans {
            let c = &self.channels[ch - 1];
            if matches!(c.acquisition, Acquisition::Armed { .. }) {
                // The instrument waits for the trigger before it answers.
                return Ok(Outcome::Pending);
            }
            let data = c.data.as_ref().ok_or(ScpiError::DataStale)?;
            let samples = if current { &data.current_a } else { &data.voltage_v };
            // Fetching a function the acquisition did not digitize.
            let samples = samples.as_ref().ok_or(ScpiError::SettingsConflict)?;
            if array {
                values.extend_from_slice(samples);
            } else {
                values.push(samples.iter().sum::<f64>() / samples.len().max(1) as f64);
            }
        }
        if array {
            Ok(self.data_answer(self.encode(&values)))
        } else {
            let text = values.iter().map(|v| nr3(*v)).collect::<Vec<_>>().join(",");
            Ok(self.data_answer(text.into_bytes()))
        }
    }

    /// Numbers as FORMat says: NR3 text, or a block of IEEE 754 singles in
    /// the FORMat:BORDer byte order.
    fn encode(&self, values: &[f64]) -> Vec<u8> {
        match self.format {
            DataFormat::Ascii => {
                values.iter().map(|v| nr3(f64::from(*v as f32))).collect::<Vec<_>>().join(",").into_bytes()
            }
            DataFormat::Real => {
                let mut bytes = Vec::with_capacity(values.len() * 4);
                for v in values {
                    let single = *v as f32;
                    bytes.extend_from_slice(&match self.border {
                        ByteOrder::Normal => single.to_be_bytes(),
                        ByteOrder::Swapped => single.to_le_bytes(),
                    });
                }
                definite_block(&bytes)
            }
        }
    }

    /// Drops waveforms nothing can measure any more: everything still to
    /// be measured starts after `now_s`, an armed capture's arm time or a
    /// running Elog's next record.
    fn prune(&mut self, now_s: f64) {
        let mut keep_from = now_s;
        for c in &self.channels {
            if let Acquisition::Armed { arm_s, .. } = c.acquisition {
                keep_from = keep_from.min(arm_s);
            }
            match c.elog {
                Elog::Armed { arm_s, .. } => keep_from = keep_from.min(arm_s),
                Elog::Running { start_s, next, setup } => {
                    keep_from = keep_from.min(start_s + next as f64 * setup.period_s);
                }
                Elog::Idle => {}
            }
        }
        self.timeline.prune(keep_from);
    }

    #[cfg(test)]
    fn armed(&self, ch: usize) -> bool {
        matches!(self.channels[ch - 1].acquisition, Acquisition::Armed { .. })
    }
}

/// STATus:OPERation:CONDition bits: CV (1) with the output on, OFF (4)
/// with it off, WTG-meas (8) while a capture waits for its trigger,
/// MEAS-active (16) while the Elog logs.
fn operation_condition(c: &Channel) -> u8 {
    let mut bits = if c.output_on { 0x01 } else { 0x04 };
    if matches!(c.acquisition, Acquisition::Armed { .. }) || matches!(c.elog, Elog::Armed { .. }) {
        bits |= 0x08;
    }
    if matches!(c.elog, Elog::Running { .. }) {
        bits |= 0x10;
    }
    bits
}

/// How many parameters the digitizer takes on `c` (at least 1).
fn sense_parameters(c: &Channel) -> u32 {
    (u32::from(c.sense_current) + u32::from(c.sense_voltage)).max(1)
}

fn bool_text(on: bool) -> String {
    if on { "1".into() } else { "0".into() }
}

/// A setting's value: in `min ..= max`, or the keyword's value.
fn limited(n: Numeric, min: f64, max: f64, default: f64) -> Result<f64, ScpiError> {
    match n {
        Numeric::Value(v) if v.is_finite() && v >= min - min.abs() * 1e-9 && v <= max + max.abs() * 1e-9 => {
            Ok(v.clamp(min, max))
        }
        Numeric::Value(_) => Err(ScpiError::DataOutOfRange),
        other => Ok(limit_value(other, min, max, default)),
    }
}

fn limit_value(n: Numeric, min: f64, max: f64, default: f64) -> f64 {
    match n {
        Numeric::Value(v) => v,
        Numeric::Min => min,
        Numeric::Max => max,
        Numeric::Default => default,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_rounding_follows_the_users_guide() {
        let us = |t: f64, p: u32, r: Resolution| (effective_interval_s(t * 1e-6, p, r) * 1e6 * 100.0).round() / 100.0;
        // One parameter on an SMU: 5.12 us steps below 10.24 us.
        assert_eq!(us(5.12, 1, Resolution::Res20), 5.12);
        assert_eq!(us(7.0, 1, Resolution::Res20), 5.12);
        assert_eq!(us(8.0, 1, Resolution::Res20), 10.24);
        // Two parameters: never below 10.24 us.
        assert_eq!(us(5.12, 2, Resolution::Res20), 10.24);
        // 10.24 .. 20.48 us: 10.24 us steps.
        assert_eq!(us(15.0, 2, Resolution::Res20), 10.24);
        assert_eq!(us(16.0, 1, Resolution::Res20), 20.48);
        // Above: 20.48 us steps, or 40.96 us above 40.96 with RES40.
        assert_eq!(us(100.0, 1, Resolution::Res20), 102.4);
        assert_eq!(us(100.0, 1, Resolution::Res40), 81.92);
        assert_eq!(us(30.0, 1, Resolution::Res40), 20.48);
        assert_eq!(us(1000.0, 2, Resolution::Res20), 1003.52);
        assert_eq!(us(1000.0, 2, Resolution::Res40), 983.04);
    }

    #[test]
    fn elog_periods_are_whole_steps() {
        assert!((effective_period_s(1e-3, Resolution::Res20) - 49.0 * 20.48e-6).abs() < 1e-15);
        assert!((effective_period_s(1e-3, Resolution::Res40) - 24.0 * 40.96e-6).abs() < 1e-15);
        assert!((effective_period_s(1e-9, Resolution::Res20) - 20.48e-6).abs() < 1e-15);
    }

    #[test]
    fn external_trigger_needs_a_trigger_input_pin() {
        let mut inst = Instrument::new("x".into(), 1, None, None);
        let wave = Waveform {
            interval_s: 0.25,
            current_a: vec![1.0, 2.0, 3.0, 4.0],
            voltage_v: vec![3.0; 4],
            marker: vec![false, true, true, false],
        };
        inst.channels[0].acq_source = Source::External;
        inst.channels[0].sense_current = true;
        inst.channels[0].points = 2;
        inst.arm_acquisition(1, 0.0, None).unwrap();
        inst.play(&wave, 1.0);
        assert!(inst.armed(1), "no pin is a trigger input yet");
        inst.pins[1].function = PinFunction::TriggerInput;
        inst.resolve_external(1.0);
        assert!(!inst.armed(1));
        let data = inst.channels[0].data.clone().unwrap();
        // Triggered at the rising edge (1.25 s): the next two 20.48 us samples are 2 A.
        let current = data.current_a.unwrap();
        assert_eq!(current.len(), 2);
        assert!(current.iter().all(|a| (a - 2.0).abs() < 1e-9), "{current:?}");
        assert_eq!(data.voltage_v.map(|v| v.len()), Some(2));
    }
}
