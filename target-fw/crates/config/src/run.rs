//! Run configurations: `configs/<name>.toml` — which board, which target
//! backend, which power source, how to run, and the benchmark cases.
//!
//! Cases come from `[[case]]` tables (one case each) and `[[matrix]]` tables
//! (one case per row of a cartesian product), both starting from the keys in
//! `[defaults]`; `cases.rs` expands them in file order, then each case is
//! validated here. [`RunConfig::cases`] is the expanded list: the runner
//! never sees a matrix.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::cases::{self, Expanded, RawCase, RawCaseKeys, RawMatrix};
use crate::source::Required;
use crate::{Board, ConfigError, Core, SourceFile};

/// A validated run configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct RunConfig {
    /// The file this came from.
    pub path: PathBuf,
    /// File stem, used to name report folders.
    pub name: String,
    pub board: Board,
    pub target: TargetKind,
    pub power: PowerConfig,
    pub run: RunSettings,
    pub report: ReportSettings,
    /// Every case, `[[matrix]]` rows expanded, in file order.
    pub cases: Vec<CaseConfig>,
}

/// Where the firmware runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetKind {
    /// tinybench's built-in Cortex-M simulator.
    Sim,
    /// A board through a debug probe, with probe-rs.
    ProbeRs(ProbeRsSettings),
}

/// `[target] kind = "probe-rs"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeRsSettings {
    pub probe: ProbeChoice,
    /// SWD clock; `None` keeps the probe's default.
    pub speed_khz: Option<u32>,
    /// Hold the chip in reset while attaching (firmware that sleeps or
    /// reconfigures the debug pins).
    pub connect_under_reset: bool,
}

/// Which probe a probe-rs run uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeChoice {
    /// The board file's `probe` if it names one, else the only probe connected.
    Board,
    /// `probe = "VID:PID[:SERIAL]"`.
    Usb(crate::ProbeSelector),
    /// `probe = "sim"`: tinybench's simulator behind a probe-rs probe driver,
    /// for simulated boards; runs the whole probe-rs path without hardware.
    Sim,
}

/// Highest SWD clock accepted, kHz: probes top out around 50 MHz.
const MAX_SPEED_KHZ: u32 = 100_000;

/// Where energy figures come from (`[power]`), and what the firmware does
/// to be measured: a marker pin high during each timed inference, an idle
/// wait before the first for the baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct PowerConfig {
    /// The meters by name; each case uses the one its `power` key names (by
    /// default the only one).
    pub meters: BTreeMap<String, MeterConfig>,
    /// The firmware idles (WFI) this long before the first timed inference:
    /// the baseline subtracted from each inference's energy.
    pub idle_ms: u32,
    /// The marker also toggles at each layer boundary (energy per layer
    /// from the edges where the meter records them).
    pub per_layer: bool,
    /// Sample interval of the simulator's modeled current trace.
    pub sample_us: f64,
    /// Instruments are replaced by their simulators, measuring the simulated
    /// board's modeled current through the instrument's real protocol.
    pub simulate: bool,
    /// With `simulate`: a deliberate instrument fault, to check how a run
    /// handles one (as a case's `self-test` does for the firmware).
    pub simulate_fault: Option<SimulatedFault>,
}

/// A fault the instrument simulators inject on request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimulatedFault {
    /// The marker never reaches the instrument (a wire not connected).
    NoMarker,
    /// The N6705B refuses its first configuration command (an SCPI error).
    ScpiError,
    /// The instrument's connection is lost mid-capture (a cable pulled).
    Disconnect,
}

/// Idle baseline by default, milliseconds: long enough for a few samples of
/// any supported meter.
const DEFAULT_IDLE_MS: u32 = 20;
/// Longest idle accepted, milliseconds.
const MAX_IDLE_MS: u32 = 10_000;
/// The modeled trace's sample interval by default, microseconds.
const DEFAULT_SAMPLE_US: f64 = 5.0;

impl PowerConfig {
    /// The meter of `case`.
    pub fn meter_of(&self, case: &CaseConfig) -> Option<&MeterConfig> {
        self.meters.get(&case.power)
    }
}

/// One meter.
#[derive(Debug, Clone, PartialEq)]
pub enum MeterConfig {
    /// No energy figures.
    None,
    /// The simulator's modeled current (the board file's `[power-model]`);
    /// figures are labeled *modeled*, never *measured*.
    Model,
    /// Keysight N6705B DC power analyzer over SCPI.
    N6705b(N6705bSettings),
    /// TI INA219 on a Linux I2C bus, the marker on a GPIO line.
    Ina219(Ina219Settings),
    /// Nordic Power Profiler Kit II over USB serial, the marker on D0.
    Ppk2(Ppk2Settings),
}

impl MeterConfig {
    /// An instrument (a driver to open), not `none` or `model`.
    pub fn is_instrument(&self) -> bool {
        !matches!(self, MeterConfig::None | MeterConfig::Model)
    }

    /// The `kind` it was written as.
    pub fn kind(&self) -> &'static str {
        match self {
            MeterConfig::None => "none",
            MeterConfig::Model => "model",
            MeterConfig::N6705b(_) => "n6705b",
            MeterConfig::Ina219(_) => "ina219",
            MeterConfig::Ppk2(_) => "ppk2",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct N6705bSettings {
    /// `host:port` (SCPI socket, port 5025) or a USBTMC device (`/dev/usbtmc0`);
    /// none with `simulate = true`.
    pub address: Option<String>,
    /// The output channel (module) powering the board.
    pub channel: u8,
    /// The digital port pin the marker is wired to (a trigger input).
    pub trigger_pin: u8,
    /// Digitizer sample interval; none = the module's fastest.
    pub sample_interval_us: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Ina219Settings {
    /// The Linux I2C bus device.
    pub i2c: String,
    /// 7-bit I2C address.
    pub address: u8,
    pub shunt_ohms: f64,
    /// Largest current expected: sets the calibration and the range.
    pub max_current_ma: f64,
    /// `/dev/gpiochipN:LINE` the marker is wired to; none with `simulate = true`.
    pub marker_gpio: Option<String>,
    /// ADC resolution: 9 to 12 bits (9: 84 us conversions, 12: 532 us); by
    /// default the fastest that resolves a thousandth of max-current-ma.
    pub adc_bits: u8,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Ppk2Settings {
    /// Serial port (`/dev/ttyACM0`); none with `simulate = true`.
    pub port: Option<String>,
    pub mode: Ppk2Mode,
    /// Source mode: the voltage the PPK2 supplies; ampere mode: the board's
    /// supply, which the PPK2 does not measure.
    pub supply_mv: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ppk2Mode {
    /// The PPK2 powers the board (source meter).
    Source,
    /// The PPK2 measures a current path powered elsewhere (ampere meter).
    Ampere,
}

/// How each case runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct RunSettings {
    /// Inferences run before timing starts (caches, branch predictors).
    pub warmup: u32,
    /// Timed inferences.
    pub iterations: u32,
    /// Stop a firmware that has not finished after this many cycles.
    pub max_cycles: u64,
    /// Stop a firmware that has not finished after this much wall time.
    pub timeout_s: u64,
}

impl Default for RunSettings {
    fn default() -> Self {
        RunSettings { warmup: 2, iterations: 10, max_cycles: 4_000_000_000, timeout_s: 600 }
    }
}

/// Where reports go.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReportSettings {
    /// Parent folder of run folders (resolved against the config file's
    /// folder); `None` means `reports/` in the working directory.
    pub out_dir: Option<PathBuf>,
}

/// One benchmark case: a workload built into its own firmware.
///
/// Serializable so the runner can hash a case and tell a changed case from
/// one it already ran when resuming.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct CaseConfig {
    pub name: String,
    pub workload: Workload,
    pub kernels: KernelSet,
    /// Seed of the synthetic input and weights.
    pub seed: u32,
    /// A deliberate firmware failure, to check a setup's error handling.
    pub self_test: Option<SelfTest>,
    /// Accuracy evaluation of a model workload.
    pub accuracy: Option<AccuracyConfig>,
    /// The meter measuring it: a key of [`PowerConfig::meters`].
    pub power: String,
}

/// A labeled test set for a model case: accuracy on all of it with the host
/// engine, and on its first `target_samples` on the target (whose outputs
/// must equal the host's byte for byte). `target_samples == 0` means accuracy
/// on the host only: the runner builds no target subset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct AccuracyConfig {
    /// Raw int8 inputs back to back, in the model's input quantization.
    pub inputs: PathBuf,
    /// One byte per sample: the class index.
    pub labels: PathBuf,
    pub target_samples: u32,
}

/// Deliberate firmware failures (`self-test = "hang" | "fail"` in a case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SelfTest {
    /// The firmware never finishes: the run must stop at its budget.
    Hang,
    /// The firmware reports failure: the run must say so.
    Fail,
}

impl SelfTest {
    pub fn as_str(self) -> &'static str {
        match self {
            SelfTest::Hang => "hang",
            SelfTest::Fail => "fail",
        }
    }
}

/// What the firmware computes per inference. Serialized with its
/// `workload` name as `kind`, e.g. `{ kind = "conv2d-3x3", height = 16, .. }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case", rename_all_fields = "kebab-case")]
pub enum Workload {
    /// One int8 CONV_2D, 3x3 kernel, stride 1, SAME padding, per-channel
    /// requantization, on a synthetic input.
    #[serde(rename = "conv2d-3x3")]
    Conv2d3x3 { height: u32, width: u32, in_channels: u32, out_channels: u32 },
    /// A whole model (`.tflite`, imported at run time, or `.tbm`).
    Model {
        path: PathBuf,
        /// Raw int8 samples back to back; `None` means a synthetic input
        /// drawn from the case seed.
        input: Option<PathBuf>,
        /// Which sample of `input` to run.
        sample: u32,
        /// Weight storage for `.tflite` models (a `.tbm` keeps its own).
        weights: WeightFormat,
    },
}

impl Workload {
    pub fn kind(&self) -> &'static str {
        match self {
            Workload::Conv2d3x3 { .. } => "conv2d-3x3",
            Workload::Model { .. } => "model",
        }
    }
}

/// Which kernel implementation the firmware links. All give the same bytes;
/// they differ in speed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KernelSet {
    /// Plain loops, one layer at a time: the bit-exact reference.
    Reference,
    /// Conv + requantization + activation (+ pool) in one pass.
    Fused,
    /// ARMv7E-M DSP inner loops (SXTB16, SMLAD).
    Simd,
}

impl KernelSet {
    pub fn as_str(self) -> &'static str {
        match self {
            KernelSet::Reference => "reference",
            KernelSet::Fused => "fused",
            KernelSet::Simd => "simd",
        }
    }
}

/// How a `.tflite` model's weights are stored in the firmware.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WeightFormat {
    /// As in the model file.
    #[default]
    Int8,
    /// Requantized to 4 bits per channel, two per byte (lossy).
    Int4,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawRunConfig {
    board: RawBoardRef,
    target: RawTarget,
    power: RawPower,
    #[serde(default)]
    run: RawRun,
    #[serde(default)]
    report: RawReport,
    /// Keys every case starts from.
    #[serde(default)]
    defaults: RawCaseKeys,
    #[serde(default)]
    case: Vec<Spanned<RawCase>>,
    #[serde(default)]
    matrix: Vec<Spanned<RawMatrix>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawBoardRef {
    /// Board id, looked up as `boards/<name>.toml` next to the config.
    name: Option<Spanned<String>>,
    /// Explicit board file, relative to the config file.
    file: Option<Spanned<String>>,
    /// Override of the board file's clock.
    clock_hz: Option<Spanned<u64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawTarget {
    kind: Spanned<String>,
    probe: Option<Spanned<String>>,
    speed_khz: Option<Spanned<u32>>,
    connect_under_reset: Option<Spanned<bool>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawPower {
    idle_ms: Option<Spanned<u32>>,
    per_layer: Option<bool>,
    sample_us: Option<Spanned<f64>>,
    simulate: Option<bool>,
    simulate_fault: Option<Spanned<String>>,
    /// Several meters by name, chosen per case with `power = "<name>"`.
    meter: Option<BTreeMap<String, Spanned<RawMeter>>>,
    /// The flat modeled supply's keys, refused with what replaced them.
    run_current_ma: Option<toml::Value>,
    sleep_current_ma: Option<toml::Value>,
    // One meter, written in `[power]` itself: RawMeter's keys (serde's
    // flatten would lose the spans error messages point at).
    kind: Option<Spanned<String>>,
    address: Option<Spanned<toml::Value>>,
    channel: Option<Spanned<u8>>,
    trigger_pin: Option<Spanned<u8>>,
    sample_interval_us: Option<Spanned<f64>>,
    i2c: Option<Spanned<String>>,
    shunt_ohms: Option<Spanned<f64>>,
    max_current_ma: Option<Spanned<f64>>,
    marker_gpio: Option<Spanned<String>>,
    adc_bits: Option<Spanned<u8>>,
    port: Option<Spanned<String>>,
    mode: Option<Spanned<String>>,
    supply_mv: Option<Spanned<u32>>,
}

impl RawPower {
    /// The meter written in `[power]` itself.
    fn single(&self) -> RawMeter {
        RawMeter {
            kind: self.kind.clone(),
            address: self.address.clone(),
            channel: self.channel.clone(),
            trigger_pin: self.trigger_pin.clone(),
            sample_interval_us: self.sample_interval_us.clone(),
            i2c: self.i2c.clone(),
            shunt_ohms: self.shunt_ohms.clone(),
            max_current_ma: self.max_current_ma.clone(),
            marker_gpio: self.marker_gpio.clone(),
            adc_bits: self.adc_bits.clone(),
            port: self.port.clone(),
            mode: self.mode.clone(),
            supply_mv: self.supply_mv.clone(),
        }
    }
}

/// A meter's keys; which apply depends on `kind`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawMeter {
    kind: Option<Spanned<String>>,
    address: Option<Spanned<toml::Value>>,
    channel: Option<Spanned<u8>>,
    trigger_pin: Option<Spanned<u8>>,
    sample_interval_us: Option<Spanned<f64>>,
    i2c: Option<Spanned<String>>,
    shunt_ohms: Option<Spanned<f64>>,
    max_current_ma: Option<Spanned<f64>>,
    marker_gpio: Option<Spanned<String>>,
    adc_bits: Option<Spanned<u8>>,
    port: Option<Spanned<String>>,
    mode: Option<Spanned<String>>,
    supply_mv: Option<Spanned<u32>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawRun {
    warmup: Option<u32>,
    iterations: Option<Spanned<u32>>,
    max_cycles: Option<Spanned<u64>>,
    timeout_s: Option<Spanned<u64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawReport {
    out_dir: Option<String>,
}

/// What to say when a key serde requires is missing.
const REQUIRED: &[Required] = &[
    Required {
        key: "board",
        message: "missing table [board]",
        fix: "add [board] with name = \"sim-m4\" (looks up boards/sim-m4.toml next to this file) \
              or file = \"path/to/board.toml\"",
    },
    Required {
        key: "target",
        message: "missing table [target]",
        fix: "add [target] with kind = \"sim\" (the built-in simulator)",
    },
    Required {
        key: "power",
        message: "missing table [power]",
        fix: "add [power] with kind = \"model\" (the simulated board's modeled current), an instrument (\"n6705b\", \
              \"ina219\", \"ppk2\") or \"none\"",
    },
    Required {
        key: "target.kind",
        message: "missing key kind",
        fix: "add kind = \"sim\" under [target] (the built-in simulator)",
    },
    Required {
        key: "case.name",
        message: "missing key name",
        fix: "add name = \"...\" to the [[case]] (it names the case's firmware build and report folder)",
    },
];

/// Largest conv dimension accepted: keeps buffers within small-MCU RAM and
/// the per-inference MAC count within a u32.
const MAX_CONV_DIM: u32 = 1024;

impl RunConfig {
    /// Reads and validates a run configuration and the board file it names.
    pub fn from_file(path: &Path) -> Result<RunConfig, ConfigError> {
        Self::from_source(&SourceFile::read(path)?)
    }

    /// Validates an already loaded run configuration (e.g. a string): its
    /// relative paths, board included, resolve against the folder of
    /// `source.path`, as if the text were that file.
    pub fn from_source(source: &SourceFile) -> Result<RunConfig, ConfigError> {
        let path = source.path.as_path();
        let raw = parse_run_config(source)?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut board = load_board(source, dir, &raw.board)?;
        if let Some(clock) = &raw.board.clock_hz {
            if *clock.get_ref() == 0 {
                return Err(source.invalid(clock.span(), "board.clock-hz", "clock of 0 Hz", "give the clock in Hz"));
            }
            board.clock_hz = *clock.get_ref();
        }
        let target = validate_target(source, &raw.target, &board)?;
        let power = validate_power(source, &raw.power, &board)?;
        let run = validate_run(source, &raw.run)?;
        let expanded = cases::expand(source, &raw.defaults, &raw.case, &raw.matrix)?;
        let cases = validate_cases(source, &expanded, dir, &power)?;
        let report = ReportSettings { out_dir: raw.report.out_dir.map(|d| dir.join(d)) };
        Ok(RunConfig {
            path: path.to_owned(),
            name: path.file_stem().and_then(|s| s.to_str()).unwrap_or("run").to_owned(),
            board,
            target,
            power,
            run,
            report,
            cases,
        })
    }
}

/// Parses a run configuration's text, before validation.
pub(crate) fn parse_run_config(source: &SourceFile) -> Result<RawRunConfig, ConfigError> {
    source.parse_with(REQUIRED)
}

fn load_board(source: &SourceFile, dir: &Path, raw: &RawBoardRef) -> Result<Board, ConfigError> {
    let (span, key, path) = match (&raw.name, &raw.file) {
        (Some(name), None) => (name.span(), "board.name", dir.join("boards").join(format!("{}.toml", name.get_ref()))),
        (None, Some(file)) => (file.span(), "board.file", dir.join(file.get_ref())),
        (Some(name), Some(_)) => {
            return Err(source.invalid(
                name.span(),
                "board.name",
                "both board.name and board.file are set",
                "keep one: name looks up boards/<name>.toml, file names any board file",
            ));
        }
        (None, None) => {
            return Err(source.invalid_here(
                "board",
                "no board given",
                "add name = \"sim-m4\" (looks up boards/sim-m4.toml) or file = \"path/to/board.toml\" under [board]",
            ));
        }
    };
    if !path.is_file() {
        let available = available_boards(&dir.join("boards"));
        return Err(source.invalid(
            span,
            key,
            format!("board file {} not found", path.display()),
            if available.is_empty() {
                "point board.file at a board description".to_owned()
            } else {
                format!("available boards: {}", available.join(", "))
            },
        ));
    }
    Board::from_file(&path)
}

fn available_boards(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let p = e.path();
            (p.extension()? == "toml").then(|| p.file_stem()?.to_str().map(str::to_owned))?
        })
        .collect();
    names.sort();
    names
}

fn validate_target(source: &SourceFile, raw: &RawTarget, board: &Board) -> Result<TargetKind, ConfigError> {
    match raw.kind.get_ref().as_str() {
        // A real board's firmware talks to its peripherals (clocks, caches,
        // pins) that the simulator does not model: it would hang or misbehave.
        "sim" if !board.simulated => Err(source.invalid(
            raw.kind.span(),
            "target.kind",
            format!(
                "board \"{}\" is a real board (simulated = false); the simulator has no model of its peripherals",
                board.id
            ),
            format!(
                "use the simulated {} board (board name = \"{}\"), or kind = \"probe-rs\" to run on the board itself",
                board.core,
                simulated_board_for(board.core)
            ),
        )),
        "sim" => {
            let probe_keys = [
                ("probe", raw.probe.as_ref().map(|v| v.span())),
                ("speed-khz", raw.speed_khz.as_ref().map(|v| v.span())),
                ("connect-under-reset", raw.connect_under_reset.as_ref().map(|v| v.span())),
            ];
            if let Some((key, Some(span))) = probe_keys.into_iter().find(|(_, span)| span.is_some()) {
                return Err(source.invalid(
                    span,
                    &format!("target.{key}"),
                    format!("{key} applies to kind = \"probe-rs\" only"),
                    "remove it, or set kind = \"probe-rs\"",
                ));
            }
            Ok(TargetKind::Sim)
        }
        "probe-rs" => {
            let probe = match &raw.probe {
                None => ProbeChoice::Board,
                Some(p) if p.get_ref() == "sim" => {
                    if !board.simulated {
                        return Err(source.invalid(
                            p.span(),
                            "target.probe",
                            format!("the simulated probe runs simulated boards; \"{}\" is a real board", board.id),
                            format!(
                                "use board name = \"{}\" with the simulated probe, or the board's own probe (remove probe)",
                                simulated_board_for(board.core)
                            ),
                        ));
                    }
                    ProbeChoice::Sim
                }
                Some(p) => ProbeChoice::Usb(crate::ProbeSelector::parse(p.get_ref()).map_err(|why| {
                    source.invalid(
                        p.span(),
                        "target.probe",
                        why,
                        "give VID:PID[:SERIAL] as `tinybench probe list` prints it, or \"sim\"",
                    )
                })?),
            };
            if probe != ProbeChoice::Sim && board.probe_rs_chip.is_none() {
                return Err(source.invalid(
                    raw.kind.span(),
                    "target.kind",
                    format!("board \"{}\" names no probe-rs chip", board.id),
                    format!(
                        "add probe-rs-chip = \"<chip>\" to {} (`probe-rs chip list` names them)",
                        board.path.display()
                    ),
                ));
            }
            let speed_khz = match &raw.speed_khz {
                Some(k) if !(1..=MAX_SPEED_KHZ).contains(k.get_ref()) => {
                    return Err(source.invalid(
                        k.span(),
                        "target.speed-khz",
                        format!("{} kHz is outside 1..={MAX_SPEED_KHZ}", k.get_ref()),
                        "e.g. speed-khz = 4000, or remove it for the probe's default",
                    ));
                }
                k => k.as_ref().map(|k| *k.get_ref()),
            };
            Ok(TargetKind::ProbeRs(ProbeRsSettings {
                probe,
                speed_khz,
                connect_under_reset: raw.connect_under_reset.as_ref().is_some_and(|c| *c.get_ref()),
            }))
        }
        other => Err(source.invalid(
            raw.kind.span(),
            "target.kind",
            format!("unknown target kind \"{other}\""),
            "use kind = \"sim\" (the built-in simulator) or \"probe-rs\" (a board through a debug probe)",
        )),
    }
}

/// The shipped simulated board of a core.
fn simulated_board_for(core: Core) -> &'static str {
    match core {
        Core::CortexM4 => "sim-m4",
        Core::CortexM7 => "sim-m7",
    }
}

fn validate_power(source: &SourceFile, raw: &RawPower, board: &Board) -> Result<PowerConfig, ConfigError> {
    let simulate = raw.simulate.unwrap_or(false);
    if simulate && !board.simulated {
        return Err(source.invalid_here(
            "power.simulate",
            format!("simulate = true needs a simulated board; {} is a real one", board.id),
            "measure the board with the instrument (simulate = false), or run on sim-m4 / sim-m7",
        ));
    }
    if raw.run_current_ma.is_some() || raw.sleep_current_ma.is_some() {
        let key = if raw.run_current_ma.is_some() { "run-current-ma" } else { "sleep-current-ma" };
        return Err(source.invalid_here(
            &format!("power.{key}"),
            "the flat modeled supply is gone",
            "use kind = \"model\" without supply-mv, run-current-ma and sleep-current-ma: the modeled current comes \
             from the board file's [power-model]",
        ));
    }
    let single = raw.single();
    let mut meters = BTreeMap::new();
    match (&raw.meter, &single.kind) {
        (Some(_), Some(kind)) => {
            return Err(source.invalid(
                kind.span(),
                "power.kind",
                "both a meter in [power] and named meters in [power.meter.<name>]",
                "keep one: kind and its keys in [power] for one meter, or a [power.meter.<name>] table for each",
            ));
        }
        (None, None) => {
            return Err(source.invalid_here(
                "power",
                "no meter",
                "add kind = \"model\" (the simulated board's modeled current), an instrument (\"n6705b\", \
                 \"ina219\", \"ppk2\") or \"none\" to [power]",
            ));
        }
        (None, Some(_)) => {
            let meter = validate_meter(source, "power", &single, board, simulate)?;
            meters.insert(meter.kind().to_owned(), meter);
        }
        (Some(named), None) => {
            if let Some(key) = single.present_keys().first() {
                return Err(source.invalid_here(
                    &format!("power.{key}"),
                    format!("{key} in [power] next to named meters"),
                    format!("move {key} into the [power.meter.<name>] table it belongs to"),
                ));
            }
            if named.is_empty() {
                return Err(source.invalid_here("power.meter", "no meters", "add a [power.meter.<name>] table"));
            }
            for (name, meter) in named {
                if let Err(message) = check_case_name(name) {
                    return Err(source.invalid(
                        meter.span(),
                        &format!("power.meter.{name}"),
                        message.replace("case name", "meter name"),
                        "name meters like cases: it appears in case names and result rows",
                    ));
                }
                let table = format!("power.meter.{name}");
                meters.insert(name.clone(), validate_meter(source, &table, meter.get_ref(), board, simulate)?);
            }
        }
    }
    let measured = meters.values().any(|m| *m != MeterConfig::None);
    let idle_ms = match &raw.idle_ms {
        // Nothing measures: no baseline to wait for.
        None if !measured => 0,
        None => DEFAULT_IDLE_MS,
        Some(ms) if *ms.get_ref() > MAX_IDLE_MS => {
            return Err(source.invalid(
                ms.span(),
                "power.idle-ms",
                format!("{} ms of idle is more than the {MAX_IDLE_MS} ms accepted", ms.get_ref()),
                "a few tens of milliseconds give any meter enough baseline samples",
            ));
        }
        Some(ms) => *ms.get_ref(),
    };
    let sample_us = match &raw.sample_us {
        None => DEFAULT_SAMPLE_US,
        Some(us) if !(1.0..=10_000.0).contains(us.get_ref()) => {
            return Err(source.invalid(
                us.span(),
                "power.sample-us",
                format!("a sample interval of {} us", us.get_ref()),
                "use 1 to 10000 us (the modeled trace's resolution; 5 by default)",
            ));
        }
        Some(us) => *us.get_ref(),
    };
    if measured && board.marker.is_none() {
        return Err(source.invalid_here(
            "power",
            format!("{} has no marker pin, so no meter can tell the inferences apart", board.id),
            format!("add marker-pin and [marker] to {}", board.path.display()),
        ));
    }
    let simulate_fault = match &raw.simulate_fault {
        None => None,
        Some(fault) => {
            let parsed = match fault.get_ref().as_str() {
                "no-marker" => SimulatedFault::NoMarker,
                "scpi-error" => SimulatedFault::ScpiError,
                "disconnect" => SimulatedFault::Disconnect,
                other => {
                    return Err(source.invalid(
                        fault.span(),
                        "power.simulate-fault",
                        format!("unknown fault \"{other}\""),
                        "use \"no-marker\", \"scpi-error\" (n6705b) or \"disconnect\"",
                    ));
                }
            };
            let instruments = meters.values().any(MeterConfig::is_instrument);
            if !simulate || !instruments {
                return Err(source.invalid(
                    fault.span(),
                    "power.simulate-fault",
                    "a simulated fault needs an instrument simulator",
                    "set simulate = true with an instrument meter (n6705b, ina219, ppk2), or remove simulate-fault",
                ));
            }
            if parsed == SimulatedFault::ScpiError && !meters.values().any(|m| matches!(m, MeterConfig::N6705b(_))) {
                return Err(source.invalid(
                    fault.span(),
                    "power.simulate-fault",
                    "scpi-error is a fault of the N6705B, and no meter is one",
                    "use \"no-marker\" or \"disconnect\", or add an n6705b meter",
                ));
            }
            Some(parsed)
        }
    };
    Ok(PowerConfig { meters, idle_ms, per_layer: raw.per_layer.unwrap_or(false), sample_us, simulate, simulate_fault })
}

/// The INA219's fastest ADC setting (9 to 12 bits: 84 to 532 us per
/// conversion) whose current step resolves a thousandth of the range: the
/// shunt voltage LSB is 10 uV at 12 bits and doubles with each bit less.
fn ina219_adc_bits(shunt_ohms: f64, max_current_ma: f64) -> u8 {
    (9..=12)
        .find(|&bits| 10e-6 * f64::from(1u32 << (12 - bits)) / shunt_ohms <= max_current_ma * 1e-3 / 1000.0)
        .unwrap_or(12)
}

impl RawMeter {
    /// The meter keys that are set (not `kind`), in file order of the struct.
    fn present_keys(&self) -> Vec<&'static str> {
        let mut keys = Vec::new();
        let present = [
            ("address", self.address.is_some()),
            ("channel", self.channel.is_some()),
            ("trigger-pin", self.trigger_pin.is_some()),
            ("sample-interval-us", self.sample_interval_us.is_some()),
            ("i2c", self.i2c.is_some()),
            ("shunt-ohms", self.shunt_ohms.is_some()),
            ("max-current-ma", self.max_current_ma.is_some()),
            ("marker-gpio", self.marker_gpio.is_some()),
            ("adc-bits", self.adc_bits.is_some()),
            ("port", self.port.is_some()),
            ("mode", self.mode.is_some()),
            ("supply-mv", self.supply_mv.is_some()),
        ];
        for (key, set) in present {
            if set {
                keys.push(key);
            }
        }
        keys
    }
}

/// The keys each kind takes.
const METER_KEYS: &[(&str, &[&str])] = &[
    ("none", &[]),
    ("model", &[]),
    ("n6705b", &["address", "channel", "trigger-pin", "sample-interval-us"]),
    ("ina219", &["i2c", "address", "shunt-ohms", "max-current-ma", "marker-gpio", "adc-bits"]),
    ("ppk2", &["port", "mode", "supply-mv"]),
];

fn validate_meter(
    source: &SourceFile,
    table: &str,
    raw: &RawMeter,
    board: &Board,
    simulate: bool,
) -> Result<MeterConfig, ConfigError> {
    let Some(kind) = &raw.kind else {
        return Err(source.invalid_here(
            table,
            "a meter without kind",
            "add kind = \"model\", \"n6705b\", \"ina219\", \"ppk2\" or \"none\"",
        ));
    };
    let unknown = || {
        let fix = if kind.get_ref() == "sim" {
            "kind = \"sim\" is now kind = \"model\", without supply-mv, run-current-ma and sleep-current-ma: the \
             modeled current comes from the board file's [power-model]"
        } else {
            "use kind = \"model\", \"n6705b\", \"ina219\", \"ppk2\" or \"none\""
        };
        source.invalid(
            kind.span(),
            &format!("{table}.kind"),
            format!("unknown power meter \"{}\"", kind.get_ref()),
            fix,
        )
    };
    let Some((_, allowed)) = METER_KEYS.iter().find(|(k, _)| k == kind.get_ref()) else {
        return Err(unknown());
    };
    if let Some(key) = raw.present_keys().into_iter().find(|k| !allowed.contains(k)) {
        return Err(source.invalid_here(
            &format!("{table}.{key}"),
            format!("{key} is not a key of a {} meter", kind.get_ref()),
            format!("its keys are: {}", if allowed.is_empty() { "none".to_owned() } else { allowed.join(", ") }),
        ));
    }
    let needs = |present: bool, key: &str, example: &str| -> Result<(), ConfigError> {
        if present || simulate {
            return Ok(());
        }
        Err(source.invalid_here(
            table,
            format!("a {} meter needs {key}", kind.get_ref()),
            format!(
                "add {key} = {example} (or simulate = true to measure the simulated board through the \
                     instrument's simulator)"
            ),
        ))
    };
    let positive = |value: &Spanned<f64>, key: &str| -> Result<f64, ConfigError> {
        let x = *value.get_ref();
        if !x.is_finite() || x <= 0.0 {
            return Err(source.invalid(
                value.span(),
                &format!("{table}.{key}"),
                format!("{x} is not a positive number"),
                "give a positive figure in the unit its name says",
            ));
        }
        Ok(x)
    };
    let string = |value: &Option<Spanned<String>>| value.as_ref().map(|v| v.get_ref().clone());
    Ok(match kind.get_ref().as_str() {
        "none" => MeterConfig::None,
        "model" => {
            if board.power_model.is_none() {
                return Err(source.invalid(
                    kind.span(),
                    &format!("{table}.kind"),
                    format!("{} has no [power-model], so there is no modeled current", board.id),
                    if board.simulated {
                        format!("add [power-model] to {}", board.path.display())
                    } else {
                        "a real board's current is measured: use an instrument kind, or \"none\"".to_owned()
                    },
                ));
            }
            MeterConfig::Model
        }
        "n6705b" => {
            let address = match &raw.address {
                None => None,
                Some(value) => match value.get_ref() {
                    toml::Value::String(text) if !text.is_empty() => Some(text.clone()),
                    _ => {
                        return Err(source.invalid(
                            value.span(),
                            &format!("{table}.address"),
                            "not an address",
                            "give address = \"192.168.1.50:5025\" (SCPI socket) or \"/dev/usbtmc0\" (USB)",
                        ));
                    }
                },
            };
            needs(address.is_some(), "address", "\"192.168.1.50:5025\" or \"/dev/usbtmc0\"")?;
            let channel = raw.channel.as_ref().map_or(1, |c| *c.get_ref());
            let trigger_pin = raw.trigger_pin.as_ref().map_or(1, |p| *p.get_ref());
            for (key, value, range) in [("channel", channel, 1..=4), ("trigger-pin", trigger_pin, 1..=7)] {
                if !range.contains(&value) {
                    return Err(source.invalid_here(
                        &format!("{table}.{key}"),
                        format!("{key} {value} does not exist"),
                        format!("the N6705B has {key}s {} to {}", range.start(), range.end()),
                    ));
                }
            }
            let sample_interval_us =
                raw.sample_interval_us.as_ref().map(|v| positive(v, "sample-interval-us")).transpose()?;
            MeterConfig::N6705b(N6705bSettings { address, channel, trigger_pin, sample_interval_us })
        }
        "ina219" => {
            let address = match &raw.address {
                None => 0x40,
                Some(value) => match value.get_ref() {
                    toml::Value::Integer(a) if (0x40..=0x4F).contains(a) => *a as u8,
                    _ => {
                        return Err(source.invalid(
                            value.span(),
                            &format!("{table}.address"),
                            "not an INA219 address",
                            "the INA219's A0/A1 pins select 0x40 to 0x4F; e.g. address = 0x40",
                        ));
                    }
                },
            };
            let shunt = raw.shunt_ohms.as_ref();
            let max = raw.max_current_ma.as_ref();
            let (Some(shunt), Some(max)) = (shunt, max) else {
                return Err(source.invalid_here(
                    table,
                    "an ina219 meter needs shunt-ohms and max-current-ma",
                    "add the shunt resistor (e.g. shunt-ohms = 0.1) and the largest current expected (e.g. \
                     max-current-ma = 400): they set the calibration and the range",
                ));
            };
            needs(raw.marker_gpio.is_some(), "marker-gpio", "\"/dev/gpiochip0:17\"")?;
            let (shunt_ohms, max_current_ma) = (positive(shunt, "shunt-ohms")?, positive(max, "max-current-ma")?);
            let adc_bits =
                raw.adc_bits.as_ref().map_or_else(|| ina219_adc_bits(shunt_ohms, max_current_ma), |b| *b.get_ref());
            if !(9..=12).contains(&adc_bits) {
                return Err(source.invalid_here(
                    &format!("{table}.adc-bits"),
                    format!("{adc_bits}-bit conversions"),
                    "use 9 (84 us per conversion) to 12 (532 us)",
                ));
            }
            MeterConfig::Ina219(Ina219Settings {
                i2c: string(&raw.i2c).unwrap_or_else(|| "/dev/i2c-1".to_owned()),
                address,
                shunt_ohms,
                max_current_ma,
                marker_gpio: string(&raw.marker_gpio),
                adc_bits,
            })
        }
        "ppk2" => {
            needs(raw.port.is_some(), "port", "\"/dev/ttyACM0\"")?;
            let mode = match raw.mode.as_ref().map(|m| m.get_ref().as_str()) {
                None | Some("source") => Ppk2Mode::Source,
                Some("ampere") => Ppk2Mode::Ampere,
                Some(other) => {
                    return Err(source.invalid_here(
                        &format!("{table}.mode"),
                        format!("unknown PPK2 mode \"{other}\""),
                        "use mode = \"source\" (the PPK2 powers the board) or \"ampere\" (it measures a current \
                         path)",
                    ));
                }
            };
            let Some(supply) = &raw.supply_mv else {
                return Err(source.invalid_here(
                    table,
                    "a ppk2 meter needs supply-mv",
                    "add supply-mv = 1800: the voltage the PPK2 supplies (source mode) or the board's supply \
                     (ampere mode, where the PPK2 does not measure it)",
                ));
            };
            let supply_mv = *supply.get_ref();
            if mode == Ppk2Mode::Source && !(800..=5000).contains(&supply_mv) {
                return Err(source.invalid(
                    supply.span(),
                    &format!("{table}.supply-mv"),
                    format!("the PPK2 cannot supply {supply_mv} mV"),
                    "its source voltage is 800 to 5000 mV",
                ));
            }
            MeterConfig::Ppk2(Ppk2Settings { port: string(&raw.port), mode, supply_mv })
        }
        _ => return Err(unknown()),
    })
}

fn validate_run(source: &SourceFile, raw: &RawRun) -> Result<RunSettings, ConfigError> {
    let defaults = RunSettings::default();
    let iterations = raw.iterations.as_ref().map_or(Ok(defaults.iterations), |it| match *it.get_ref() {
        0 => Err(source.invalid(it.span(), "run.iterations", "0 iterations measure nothing", "use at least 1")),
        n => Ok(n),
    })?;
    let max_cycles = raw.max_cycles.as_ref().map_or(Ok(defaults.max_cycles), |c| match *c.get_ref() {
        0 => Err(source.invalid(
            c.span(),
            "run.max-cycles",
            "a budget of 0 cycles",
            "give a cycle budget, e.g. 4_000_000_000",
        )),
        n => Ok(n),
    })?;
    let timeout_s = raw.timeout_s.as_ref().map_or(Ok(defaults.timeout_s), |t| match *t.get_ref() {
        0 => Err(source.invalid(t.span(), "run.timeout-s", "a timeout of 0 s", "give a wall-clock budget in seconds")),
        n => Ok(n),
    })?;
    Ok(RunSettings { warmup: raw.warmup.unwrap_or(defaults.warmup), iterations, max_cycles, timeout_s })
}

fn validate_cases(
    source: &SourceFile,
    expanded: &[Expanded],
    dir: &Path,
    power: &PowerConfig,
) -> Result<Vec<CaseConfig>, ConfigError> {
    if expanded.is_empty() {
        return Err(source.invalid_here(
            "case",
            "no benchmark cases",
            "add a [[case]] with name and workload = \"conv2d-3x3\", or a [[matrix]]",
        ));
    }
    let mut cases: Vec<CaseConfig> = Vec::with_capacity(expanded.len());
    let mut seen: Vec<(String, String)> = Vec::with_capacity(expanded.len());
    for case in expanded {
        let cx = CaseCx { source, case, dir, power };
        let name = case.name.get_ref();
        if let Err(message) = check_case_name(name) {
            return Err(cx.name_error(
                message,
                &format!("{} (it names the case's folder, firmware build and report rows)", case.name_fix()),
            ));
        }
        if let Some(message) = duplicate_name(&seen, name) {
            return Err(cx.name_error(message, "give each case its own name"));
        }
        seen.push((name.clone(), case.place(source)));
        cases.push(validate_case(&cx)?);
    }
    Ok(cases)
}

/// One expanded case under validation: errors name the table each key came
/// from (the case's own, or `[defaults]`).
struct CaseCx<'a> {
    source: &'a SourceFile,
    case: &'a Expanded,
    /// The config file's folder: relative paths start here.
    dir: &'a Path,
    power: &'a PowerConfig,
}

impl CaseCx<'_> {
    fn keys(&self) -> &RawCaseKeys {
        &self.case.keys
    }

    /// A bad value of `key` at `span`.
    fn invalid(
        &self,
        span: Range<usize>,
        key: &str,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> ConfigError {
        let message = match self.case.context(key) {
            Some(context) => format!("{context}: {}", message.into()),
            None => message.into(),
        };
        self.source.invalid(span, &self.case.key_path(key), message, fix)
    }

    /// `key` is needed but absent: point at the case's table.
    fn missing(&self, key: &str, message: impl Into<String>, fix: impl Into<String>) -> ConfigError {
        self.invalid(self.case.header.clone(), key, message, fix)
    }

    fn name_error(&self, message: String, fix: &str) -> ConfigError {
        self.source.invalid(self.case.name.span(), &format!("{}.name", self.case.table), message, fix)
    }

    /// `value` as a path relative to the config file; the file must exist.
    fn existing_file(&self, value: &Spanned<String>, key: &str) -> Result<PathBuf, ConfigError> {
        let path = self.dir.join(value.get_ref());
        match std::fs::metadata(&path) {
            Ok(meta) if meta.is_file() => Ok(path),
            // A device, FIFO or folder would be read without end or not at all.
            Ok(_) => Err(self.invalid(
                value.span(),
                key,
                format!("{} is not a regular file", path.display()),
                "give the path of a file (not a device, pipe or folder)",
            )),
            Err(_) => Err(self.invalid(
                value.span(),
                key,
                format!("file {} not found", path.display()),
                "give a path relative to this config file",
            )),
        }
    }
}

fn validate_case(cx: &CaseCx) -> Result<CaseConfig, ConfigError> {
    let c = cx.keys();
    let Some(workload) = &c.workload else {
        return Err(cx.missing(
            "workload",
            "no workload",
            "add workload = \"conv2d-3x3\" or \"model\" to the case or to [defaults]",
        ));
    };
    let workload = match workload.get_ref().as_str() {
        "conv2d-3x3" => conv_workload(cx)?,
        "model" => model_workload(cx)?,
        other => {
            return Err(cx.invalid(
                workload.span(),
                "workload",
                format!("unknown workload \"{other}\""),
                "use workload = \"conv2d-3x3\" or \"model\"",
            ));
        }
    };
    let kernels = match &c.kernels {
        None => KernelSet::Reference,
        Some(k) => match k.get_ref().as_str() {
            "reference" => KernelSet::Reference,
            "fused" => KernelSet::Fused,
            "simd" => KernelSet::Simd,
            other => {
                return Err(cx.invalid(
                    k.span(),
                    "kernels",
                    format!("unknown kernel set \"{other}\""),
                    "use kernels = \"reference\", \"fused\" or \"simd\"",
                ));
            }
        },
    };
    let self_test = match &c.self_test {
        None => None,
        Some(t) => match t.get_ref().as_str() {
            "hang" => Some(SelfTest::Hang),
            "fail" => Some(SelfTest::Fail),
            other => {
                return Err(cx.invalid(
                    t.span(),
                    "self-test",
                    format!("unknown self-test \"{other}\""),
                    "use self-test = \"hang\" or \"fail\", or remove the key",
                ));
            }
        },
    };
    let accuracy = accuracy(cx, &workload)?;
    let meters = &cx.power.meters;
    let power = match &c.power {
        Some(name) if meters.contains_key(name.get_ref()) => name.get_ref().clone(),
        Some(name) => {
            return Err(cx.invalid(
                name.span(),
                "power",
                format!("no meter named \"{}\"", name.get_ref()),
                format!("use one of: {}", meters.keys().cloned().collect::<Vec<_>>().join(", ")),
            ));
        }
        None if meters.len() == 1 => meters.keys().next().cloned().unwrap_or_default(),
        None => {
            return Err(cx.missing(
                "power",
                "several meters and none chosen",
                format!(
                    "add power = \"<meter>\" to the case or to [defaults] (meters: {})",
                    meters.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
    };
    Ok(CaseConfig {
        name: cx.case.name.get_ref().clone(),
        workload,
        kernels,
        seed: c.seed.as_ref().map_or(1, |s| *s.get_ref()),
        self_test,
        accuracy,
        power,
    })
}

/// Longest case name: it becomes a folder name and part of file names.
const MAX_CASE_NAME_BYTES: usize = 64;

/// A case name must be a plain file name: it names the case's report folder
/// and firmware build. Returns why it is not.
fn check_case_name(name: &str) -> Result<(), String> {
    let plain = (1..=MAX_CASE_NAME_BYTES).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if !plain {
        return Err(format!("case name \"{name}\" must be 1-{MAX_CASE_NAME_BYTES} letters, digits, '-', '_' or '.'"));
    }
    if name.starts_with('.') {
        // "." and ".." are not folders of their own; ".x" is a hidden one.
        return Err(format!(
            "case name \"{name}\" starts with '.': as a folder name it would be the current or parent folder, \
             or hidden"
        ));
    }
    Ok(())
}

/// Why `name` may not join `seen` (name, where it is): names become folder
/// names, and case-insensitive file systems (macOS, Windows) would merge
/// "Int8" and "int8".
fn duplicate_name(seen: &[(String, String)], name: &str) -> Option<String> {
    let (other, place) = seen.iter().find(|(other, _)| other.eq_ignore_ascii_case(name))?;
    Some(if other == name {
        format!("two cases are named \"{name}\" (this one and {place})")
    } else {
        format!(
            "case names \"{name}\" and \"{other}\" ({place}) differ only in letter case; \
             as folder names they collide on case-insensitive file systems"
        )
    })
}

/// Keys that belong to one workload kind only.
fn refuse_foreign_keys(cx: &CaseCx, workload: &str, keys: &[(&str, Option<Range<usize>>)]) -> Result<(), ConfigError> {
    for (key, span) in keys {
        if let Some(span) = span {
            return Err(cx.invalid(
                span.clone(),
                key,
                format!("{key} does not apply to workload \"{workload}\""),
                "remove it, or change the workload",
            ));
        }
    }
    Ok(())
}

/// Largest target-side evaluation subset: its inputs are linked into the
/// firmware's flash.
const MAX_TARGET_ACCURACY_SAMPLES: u32 = 1000;

fn accuracy(cx: &CaseCx, workload: &Workload) -> Result<Option<AccuracyConfig>, ConfigError> {
    let c = cx.keys();
    let (inputs, labels) = match (&c.accuracy_inputs, &c.accuracy_labels) {
        (None, None) => {
            if let Some(n) = &c.target_accuracy_samples {
                return Err(cx.invalid(
                    n.span(),
                    "target-accuracy-samples",
                    "target-accuracy-samples needs a test set",
                    "add accuracy-inputs and accuracy-labels, or remove it",
                ));
            }
            return Ok(None);
        }
        (Some(i), Some(l)) => (i, l),
        (Some(i), None) => {
            return Err(cx.invalid(
                i.span(),
                "accuracy-inputs",
                "accuracy needs both accuracy-inputs and accuracy-labels",
                "give both files (raw int8 inputs back to back; one label byte per sample)",
            ));
        }
        (None, Some(l)) => {
            return Err(cx.invalid(
                l.span(),
                "accuracy-labels",
                "accuracy needs both accuracy-inputs and accuracy-labels",
                "give both files (raw int8 inputs back to back; one label byte per sample)",
            ));
        }
    };
    if !matches!(workload, Workload::Model { .. }) {
        return Err(cx.invalid(
            inputs.span(),
            "accuracy-inputs",
            "accuracy applies to workload \"model\" only",
            "remove the accuracy keys or use a model workload",
        ));
    }
    let target_samples = match &c.target_accuracy_samples {
        None => 20,
        Some(n) if *n.get_ref() <= MAX_TARGET_ACCURACY_SAMPLES => *n.get_ref(),
        Some(n) => {
            return Err(cx.invalid(
                n.span(),
                "target-accuracy-samples",
                format!("{} samples would not fit a microcontroller's flash", n.get_ref()),
                format!("use 0..={MAX_TARGET_ACCURACY_SAMPLES} (0: accuracy on the host only)"),
            ));
        }
    };
    Ok(Some(AccuracyConfig {
        inputs: cx.existing_file(inputs, "accuracy-inputs")?,
        labels: cx.existing_file(labels, "accuracy-labels")?,
        target_samples,
    }))
}

fn model_workload(cx: &CaseCx) -> Result<Workload, ConfigError> {
    let c = cx.keys();
    refuse_foreign_keys(
        cx,
        "model",
        &[
            ("input-shape", c.input_shape.as_ref().map(|s| s.span())),
            ("out-channels", c.out_channels.as_ref().map(|s| s.span())),
        ],
    )?;
    let Some(model) = &c.model else {
        return Err(cx.missing(
            "model",
            "workload \"model\" needs a model file",
            "add model = \"path/to/model.tflite\" (or a .tbm) to the case",
        ));
    };
    let path = cx.existing_file(model, "model")?;
    let input = c.input.as_ref().map(|i| cx.existing_file(i, "input")).transpose()?;
    if let (None, Some(sample)) = (&input, &c.sample) {
        return Err(cx.invalid(
            sample.span(),
            "sample",
            "sample needs an input file",
            "add input = \"samples.bin\" or remove sample",
        ));
    }
    let weights = match &c.weights {
        None => WeightFormat::Int8,
        Some(w) => match w.get_ref().as_str() {
            "int8" => WeightFormat::Int8,
            "int4" => WeightFormat::Int4,
            other => {
                return Err(cx.invalid(
                    w.span(),
                    "weights",
                    format!("unknown weight format \"{other}\""),
                    "use weights = \"int8\" or \"int4\"",
                ));
            }
        },
    };
    Ok(Workload::Model { path, input, sample: c.sample.as_ref().map_or(0, |s| *s.get_ref()), weights })
}

fn conv_workload(cx: &CaseCx) -> Result<Workload, ConfigError> {
    let c = cx.keys();
    refuse_foreign_keys(
        cx,
        "conv2d-3x3",
        &[
            ("model", c.model.as_ref().map(|s| s.span())),
            ("input", c.input.as_ref().map(|s| s.span())),
            ("sample", c.sample.as_ref().map(|s| s.span())),
            ("weights", c.weights.as_ref().map(|s| s.span())),
        ],
    )?;
    let (height, width, in_channels) = match &c.input_shape {
        None => (16, 16, 8),
        Some(shape) => match shape.get_ref().as_slice() {
            &[h, w, ch] if [h, w, ch].iter().all(|&d| (1..=MAX_CONV_DIM).contains(&d)) => (h, w, ch),
            _ => {
                return Err(cx.invalid(
                    shape.span(),
                    "input-shape",
                    format!(
                        "input-shape {:?} is not [height, width, channels] within 1..={MAX_CONV_DIM}",
                        shape.get_ref()
                    ),
                    "e.g. input-shape = [16, 16, 8]",
                ));
            }
        },
    };
    let out_channels = match &c.out_channels {
        None => 16,
        Some(oc) if (1..=MAX_CONV_DIM).contains(oc.get_ref()) => *oc.get_ref(),
        Some(oc) => {
            return Err(cx.invalid(
                oc.span(),
                "out-channels",
                format!("{} output channels is outside 1..={MAX_CONV_DIM}", oc.get_ref()),
                "e.g. out-channels = 16",
            ));
        }
    };
    let macs = u64::from(height) * u64::from(width) * u64::from(out_channels) * 9 * u64::from(in_channels);
    if macs > u64::from(u32::MAX) {
        let span = c.input_shape.as_ref().map_or(cx.case.header.clone(), |s| s.span());
        return Err(cx.invalid(
            span,
            "input-shape",
            format!("{macs} MACs per inference do not fit the protocol's u32"),
            "use a smaller input-shape or out-channels",
        ));
    }
    Ok(Workload::Conv2d3x3 { height, width, in_channels, out_channels })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const BOARD: &str = r#"
id = "sim-m4"
core = "cortex-m4"
clock-hz = 120_000_000
simulated = true
code-region = "flash"
data-region = "sram"
[[memory]]
name = "flash"
kind = "flash"
start = 0x0800_0000
size-bytes = 1_048_576
[[memory]]
name = "sram"
kind = "ram"
start = 0x2000_0000
size-bytes = 131_072
"#;

    pub(crate) const RUN: &str = r#"[board]
name = "sim-m4"

[target]
kind = "sim"

[power]
# No energy figures: this fixture's board has
# neither a marker pin nor a current model.
kind = "none"
per-layer = false

[run]
warmup = 1
iterations = 5

[[case]]
name = "conv-small"
workload = "conv2d-3x3"
input-shape = [8, 8, 4]
out-channels = 8
"#;

    /// RUN's `[power]` table.
    const POWER: &str = "[power]\n# No energy figures: this fixture's board has\n# neither a marker pin nor a current model.\n\
                         kind = \"none\"\nper-layer = false\n";

    pub(crate) struct Fixture {
        pub(crate) dir: tempfile::TempDir,
    }

    impl Fixture {
        pub(crate) fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            std::fs::create_dir(dir.path().join("boards")).unwrap();
            std::fs::write(dir.path().join("boards/sim-m4.toml"), BOARD).unwrap();
            Fixture { dir }
        }

        pub(crate) fn load(&self, text: &str) -> Result<RunConfig, ConfigError> {
            let path = self.dir.path().join("run.toml");
            std::fs::write(&path, text).unwrap();
            RunConfig::from_file(&path)
        }

        /// The error text with the temp dir replaced by `DIR`, single line.
        pub(crate) fn error(&self, text: &str) -> String {
            let e = self.load(text).unwrap_err().to_string();
            assert!(!e.contains('\n'), "error must be one line: {e}");
            e.replace(&self.dir.path().display().to_string(), "DIR")
        }
    }

    #[test]
    fn valid_run_config_loads() {
        let cfg = Fixture::new().load(RUN).unwrap();
        assert_eq!(cfg.name, "run");
        assert_eq!(cfg.board.id, "sim-m4");
        assert_eq!(cfg.target, TargetKind::Sim);
        assert_eq!(cfg.run.warmup, 1);
        assert_eq!(cfg.run.iterations, 5);
        assert_eq!(cfg.run.max_cycles, RunSettings::default().max_cycles);
        assert_eq!(cfg.cases[0].workload, Workload::Conv2d3x3 { height: 8, width: 8, in_channels: 4, out_channels: 8 });
        assert_eq!(cfg.power.meters.keys().collect::<Vec<_>>(), ["none"]);
        assert_eq!(cfg.power.meter_of(&cfg.cases[0]), Some(&MeterConfig::None));
        // Nothing measures: no idle wait is built in.
        assert_eq!(cfg.power.idle_ms, 0);
    }

    #[test]
    fn unknown_key() {
        let e = Fixture::new().error(&RUN.replace("warmup = 1", "warmpu = 1"));
        assert!(e.starts_with("DIR/run.toml:14:1: run.warmpu: unknown field `warmpu`, expected one of"), "{e}");
    }

    #[test]
    fn wrong_type() {
        let e = Fixture::new().error(&RUN.replace("iterations = 5", "iterations = \"five\""));
        assert!(
            e.starts_with("DIR/run.toml:15:14: run.iterations: invalid type: string \"five\", expected u32"),
            "{e}"
        );
    }

    #[test]
    fn missing_board_file_lists_boards() {
        let e = Fixture::new().error(&RUN.replace("name = \"sim-m4\"", "name = \"sim-m5\""));
        assert!(
            e.starts_with(
                "DIR/run.toml:2:8: board.name: board file DIR/boards/sim-m5.toml not found; available boards: sim-m4"
            ),
            "{e}"
        );
    }

    #[test]
    fn probe_rs_targets() {
        let f = Fixture::new();
        let target = |keys: &str| RUN.replace("kind = \"sim\"\n\n[power]", &format!("{keys}\n\n[power]"));
        // The fixture board is simulated and names no chip: only the simulated probe fits it.
        let e = f.error(&target("kind = \"probe-rs\""));
        assert!(e.contains("target.kind: board \"sim-m4\" names no probe-rs chip; add probe-rs-chip"), "{e}");
        let cfg = f.load(&target("kind = \"probe-rs\"\nprobe = \"sim\"\nspeed-khz = 1000")).unwrap();
        assert_eq!(
            cfg.target,
            TargetKind::ProbeRs(ProbeRsSettings {
                probe: ProbeChoice::Sim,
                speed_khz: Some(1000),
                connect_under_reset: false
            })
        );
        std::fs::write(
            f.dir.path().join("boards/sim-m4.toml"),
            BOARD.replace("core =", "probe-rs-chip = \"STM32L4R5ZITx\"\ncore ="),
        )
        .unwrap();
        let cfg =
            f.load(&target("kind = \"probe-rs\"\nprobe = \"0483:374b:0671FF\"\nconnect-under-reset = true")).unwrap();
        let TargetKind::ProbeRs(settings) = cfg.target else { panic!("{:?}", cfg.target) };
        assert_eq!(settings.probe, ProbeChoice::Usb(crate::ProbeSelector::parse("0483:374b:0671FF").unwrap()));
        assert!(settings.connect_under_reset);
        let e = f.error(&target("kind = \"probe-rs\"\nprobe = \"st-link\""));
        assert!(
            e.contains(
                "target.probe: vendor id \"st-link\" is not a 4-digit hexadecimal number; give VID:PID[:SERIAL]"
            ),
            "{e}"
        );
        let e = f.error(&target("kind = \"probe-rs\"\nspeed-khz = 0"));
        assert!(e.contains("target.speed-khz: 0 kHz is outside 1..=100000"), "{e}");
        let e = f.error(&target("kind = \"sim\"\nspeed-khz = 4000"));
        assert!(e.contains("target.speed-khz: speed-khz applies to kind = \"probe-rs\" only"), "{e}");
    }

    #[test]
    fn the_simulated_probe_runs_only_simulated_boards() {
        let f = Fixture::new();
        let real =
            BOARD.replace("simulated = true", "simulated = false").replace("core =", "probe-rs-chip = \"X\"\ncore =");
        std::fs::write(f.dir.path().join("boards/sim-m4.toml"), real).unwrap();
        let e = f.error(&RUN.replace("kind = \"sim\"\n\n[power]", "kind = \"probe-rs\"\nprobe = \"sim\"\n\n[power]"));
        assert!(e.contains("target.probe: the simulated probe runs simulated boards"), "{e}");
    }

    #[test]
    fn real_board_is_refused_on_the_simulator() {
        let nucleo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../configs/boards/nucleo-h743zi2.toml");
        let text = RUN.replace("name = \"sim-m4\"", &format!("file = \"{}\"", nucleo.display()));
        let e = Fixture::new().error(&text);
        assert!(
            e.starts_with(
                "DIR/run.toml:5:8: target.kind: board \"nucleo-h743zi2\" is a real board (simulated = false); \
                 the simulator has no model of its peripherals; use the simulated cortex-m7 board \
                 (board name = \"sim-m7\"), or kind = \"probe-rs\""
            ),
            "{e}"
        );
    }

    #[test]
    fn zero_iterations() {
        let e = Fixture::new().error(&RUN.replace("iterations = 5", "iterations = 0"));
        assert!(e.contains(":15:14: run.iterations: 0 iterations measure nothing; use at least 1"), "{e}");
    }

    #[test]
    fn the_old_flat_supply_is_refused_with_its_replacement() {
        let old = "kind = \"sim\"\nsupply-mv = 1800\nrun-current-ma = 12.5\nsleep-current-ma = 0.02";
        let e = Fixture::new().error(&RUN.replace("kind = \"none\"\nper-layer = false", old));
        assert!(e.contains("power.run-current-ma: the flat modeled supply is gone; use kind = \"model\""), "{e}");
        let e = Fixture::new().error(&RUN.replace("kind = \"none\"", "kind = \"sim\""));
        assert!(e.contains("power.kind: unknown power meter \"sim\"; kind = \"sim\" is now kind = \"model\""), "{e}");
    }

    #[test]
    fn an_instrument_names_the_keys_it_needs() {
        let e = Fixture::new().error(&RUN.replace("kind = \"none\"", "kind = \"ppk2\"\nport = \"/dev/ttyACM0\""));
        assert!(e.contains("power: a ppk2 meter needs supply-mv; add supply-mv = 1800"), "{e}");
        let e = Fixture::new().error(&RUN.replace("kind = \"none\"", "kind = \"n6705b\"\nshunt-ohms = 0.1"));
        assert!(e.contains("power.shunt-ohms: shunt-ohms is not a key of a n6705b meter"), "{e}");
        let e = Fixture::new().error(&RUN.replace("kind = \"none\"", "kind = \"n6705b\""));
        assert!(e.contains("a n6705b meter needs address; add address = \"192.168.1.50:5025\""), "{e}");
    }

    #[test]
    fn a_meter_needs_the_boards_marker_and_model() {
        // The fixture's board has neither [marker] nor [power-model].
        let e = Fixture::new().error(&RUN.replace("kind = \"none\"", "kind = \"model\""));
        assert!(
            e.contains("power.kind: sim-m4 has no [power-model], so there is no modeled current; add [power-model] to"),
            "{e}"
        );
        let ppk2 = "kind = \"ppk2\"\nport = \"/dev/ttyACM0\"\nsupply-mv = 1800";
        let e = Fixture::new().error(&RUN.replace("kind = \"none\"", ppk2));
        assert!(e.contains("power: sim-m4 has no marker pin, so no meter can tell the inferences apart"), "{e}");
    }

    #[test]
    fn the_ina219_defaults_to_the_fastest_conversion_that_resolves_a_thousandth_of_its_range() {
        // 0.1 ohm: 0.1 mA steps at 12 bits, 0.8 mA at 9.
        assert_eq!(ina219_adc_bits(0.1, 800.0), 9);
        assert_eq!(ina219_adc_bits(0.1, 400.0), 10);
        assert_eq!(ina219_adc_bits(0.1, 200.0), 11);
        assert_eq!(ina219_adc_bits(0.1, 100.0), 12);
        assert_eq!(ina219_adc_bits(0.1, 10.0), 12);
    }

    #[test]
    fn named_meters_are_chosen_per_case() {
        let named = "[power.meter.off]\nkind = \"none\"\n[power.meter.also-off]\nkind = \"none\"";
        let text = RUN.replace(POWER, named);
        let e = Fixture::new().error(&text);
        assert!(e.contains("add power = \"<meter>\" to the case or to [defaults] (meters: also-off, off)"), "{e}");
        let cfg = Fixture::new().load(&format!("{text}power = \"also-off\"\n")).unwrap();
        assert_eq!(cfg.cases[0].power, "also-off");
        let e = Fixture::new().error(&format!("{text}power = \"of\"\n"));
        assert!(e.contains("case.power"), "{e}");
    }

    #[test]
    fn missing_table_is_named() {
        let no_power = RUN.replace(POWER, "");
        assert_ne!(no_power, RUN);
        let e = Fixture::new().error(&no_power);
        assert!(e.starts_with("DIR/run.toml: power: missing table [power]; add [power] with kind = \"model\""), "{e}");
    }

    #[test]
    fn missing_key_is_named_with_its_table() {
        let e = Fixture::new().error(&RUN.replace("[target]\nkind = \"sim\"", "[target]"));
        assert_eq!(
            e,
            "DIR/run.toml:4:1: target.kind: missing key kind; add kind = \"sim\" under [target] (the built-in simulator)"
        );
        let e = Fixture::new().error(&RUN.replace("name = \"conv-small\"\n", ""));
        assert!(e.starts_with("DIR/run.toml:17:1: case.name: missing key name; add name = "), "{e}");
    }

    #[test]
    fn bad_shape() {
        let e = Fixture::new().error(&RUN.replace("[8, 8, 4]", "[8, 8]"));
        assert!(e.contains("case.input-shape: input-shape [8, 8] is not [height, width, channels]"), "{e}");
    }

    #[test]
    fn duplicate_case_names() {
        let twice = format!("{RUN}\n[[case]]\nname = \"conv-small\"\nworkload = \"conv2d-3x3\"\n");
        let e = Fixture::new().error(&twice);
        assert!(
            e.contains(":24:8: case.name: two cases are named \"conv-small\" (this one and the [[case]] at 18:8)"),
            "{e}"
        );
    }

    #[test]
    fn case_names_are_plain_file_names() {
        let f = Fixture::new();
        for bad in [".", "..", ".hidden"] {
            let e = f.error(&RUN.replace("name = \"conv-small\"", &format!("name = \"{bad}\"")));
            assert!(
                e.starts_with(&format!(
                    "DIR/run.toml:18:8: case.name: case name \"{bad}\" starts with '.': as a folder name"
                )),
                "{e}"
            );
            assert!(
                e.ends_with("; rename the case (it names the case's folder, firmware build and report rows)"),
                "{e}"
            );
        }
        for bad in ["", "a/b", "x y", &"n".repeat(65)] {
            let e = f.error(&RUN.replace("name = \"conv-small\"", &format!("name = \"{bad}\"")));
            assert!(e.contains("must be 1-64 letters, digits, '-', '_' or '.'"), "{e}");
        }
        for good in ["a.b", "x..y", "int8_v2.", &"n".repeat(64)] {
            f.load(&RUN.replace("name = \"conv-small\"", &format!("name = \"{good}\""))).unwrap();
        }
    }

    #[test]
    fn case_names_differing_only_in_case_are_refused() {
        let text = format!("{RUN}\n[[case]]\nname = \"Conv-Small\"\nworkload = \"conv2d-3x3\"\n");
        let e = Fixture::new().error(&text);
        assert_eq!(
            e,
            "DIR/run.toml:24:8: case.name: case names \"Conv-Small\" and \"conv-small\" (the [[case]] at 18:8) \
             differ only in letter case; as folder names they collide on case-insensitive file systems; \
             give each case its own name"
        );
    }

    #[test]
    fn defaults_fill_in_and_cases_override() {
        let text = RUN.replace(
            "[[case]]",
            "[defaults]\nkernels = \"simd\"\nworkload = \"conv2d-3x3\"\nseed = 7\n\n[[case]]\nname = \"first\"\n\
             kernels = \"fused\"\n\n[[case]]",
        );
        let cfg = Fixture::new().load(&text).unwrap_or_else(|e| panic!("{e}"));
        let got: Vec<_> = cfg.cases.iter().map(|c| (c.name.as_str(), c.kernels, c.seed, c.workload.kind())).collect();
        assert_eq!(
            got,
            [("first", KernelSet::Fused, 7, "conv2d-3x3"), ("conv-small", KernelSet::Simd, 7, "conv2d-3x3")]
        );
    }

    #[test]
    fn errors_in_defaults_name_the_case() {
        let f = Fixture::new();
        let text = RUN.replace("[[case]]", "[defaults]\nkernels = \"turbo\"\n\n[[case]]");
        assert_eq!(
            f.error(&text),
            "DIR/run.toml:18:11: defaults.kernels: in case \"conv-small\": unknown kernel set \"turbo\"; \
             use kernels = \"reference\", \"fused\" or \"simd\""
        );
        let named = RUN.replace("[[case]]", "[defaults]\nname = \"x\"\n\n[[case]]");
        assert!(f.error(&named).starts_with("DIR/run.toml:18:1: defaults.name: unknown field `name`"));
        let no_workload = RUN.replace("workload = \"conv2d-3x3\"\n", "");
        assert_eq!(
            f.error(&no_workload),
            "DIR/run.toml:17:1: case.workload: no workload; \
             add workload = \"conv2d-3x3\" or \"model\" to the case or to [defaults]"
        );
    }

    #[test]
    fn no_cases() {
        let none = RUN.split("[[case]]").next().unwrap();
        assert!(Fixture::new().error(none).contains("no benchmark cases"));
    }

    #[test]
    fn unknown_kernel_set() {
        let e = Fixture::new().error(&RUN.replace("out-channels = 8", "out-channels = 8\nkernels = \"turbo\""));
        assert!(
            e.contains(
                "case.kernels: unknown kernel set \"turbo\"; use kernels = \"reference\", \"fused\" or \"simd\""
            ),
            "{e}"
        );
    }

    #[test]
    fn model_workload_resolves_files() {
        let f = Fixture::new();
        std::fs::write(f.dir.path().join("m.tflite"), b"x").unwrap();
        std::fs::write(f.dir.path().join("in.bin"), b"x").unwrap();
        let text = RUN.replace(
            "workload = \"conv2d-3x3\"\ninput-shape = [8, 8, 4]\nout-channels = 8",
            "workload = \"model\"\nmodel = \"m.tflite\"\ninput = \"in.bin\"\nsample = 3\nweights = \"int4\"",
        );
        let cfg = f.load(&text).unwrap();
        assert_eq!(
            cfg.cases[0].workload,
            Workload::Model {
                path: f.dir.path().join("m.tflite"),
                input: Some(f.dir.path().join("in.bin")),
                sample: 3,
                weights: WeightFormat::Int4,
            }
        );
    }

    #[test]
    fn model_workload_errors() {
        let f = Fixture::new();
        let missing = RUN
            .replace("input-shape = [8, 8, 4]\nout-channels = 8", "model = \"nope.tflite\"")
            .replace("\"conv2d-3x3\"", "\"model\"");
        assert!(f.error(&missing).contains("case.model: file DIR/nope.tflite not found"), "{}", f.error(&missing));
        let device = missing.replace("nope.tflite", "/dev/zero");
        assert!(
            f.error(&device).contains("case.model: /dev/zero is not a regular file; give the path of a file"),
            "{}",
            f.error(&device)
        );
        let no_model =
            RUN.replace("input-shape = [8, 8, 4]\nout-channels = 8", "").replace("\"conv2d-3x3\"", "\"model\"");
        assert!(f.error(&no_model).contains("needs a model file"));
        let foreign = RUN.replace("\"conv2d-3x3\"", "\"model\"");
        assert!(f.error(&foreign).contains("case.input-shape: input-shape does not apply to workload \"model\""));
        let conv_with_model = RUN.replace("out-channels = 8", "out-channels = 8\nmodel = \"x.tflite\"");
        assert!(f.error(&conv_with_model).contains("case.model: model does not apply to workload \"conv2d-3x3\""));
    }

    #[test]
    fn accuracy_keys() {
        let f = Fixture::new();
        for name in ["m.tbm", "x.bin", "y.bin"] {
            std::fs::write(f.dir.path().join(name), b"x").unwrap();
        }
        let model = RUN.replace(
            "workload = \"conv2d-3x3\"\ninput-shape = [8, 8, 4]\nout-channels = 8",
            "workload = \"model\"\nmodel = \"m.tbm\"\naccuracy-inputs = \"x.bin\"\naccuracy-labels = \"y.bin\"",
        );
        let cfg = f.load(&model).unwrap();
        let acc = cfg.cases[0].accuracy.as_ref().unwrap();
        assert_eq!((acc.labels.file_name().unwrap().to_str(), acc.target_samples), (Some("y.bin"), 20));
        let half = model.replace("accuracy-labels = \"y.bin\"", "");
        assert!(f.error(&half).contains("accuracy needs both accuracy-inputs and accuracy-labels"));
        let too_many = format!("{model}\ntarget-accuracy-samples = 5000");
        assert!(f.error(&too_many).contains("5000 samples would not fit"), "{}", f.error(&too_many));
        let conv = RUN
            .replace("out-channels = 8", "out-channels = 8\naccuracy-inputs = \"x.bin\"\naccuracy-labels = \"y.bin\"");
        assert!(f.error(&conv).contains("accuracy applies to workload \"model\" only"));
    }

    #[test]
    fn zero_target_accuracy_samples_means_host_only() {
        let f = Fixture::new();
        for name in ["m.tbm", "x.bin", "y.bin"] {
            std::fs::write(f.dir.path().join(name), b"x").unwrap();
        }
        let model = RUN.replace(
            "workload = \"conv2d-3x3\"\ninput-shape = [8, 8, 4]\nout-channels = 8",
            "workload = \"model\"\nmodel = \"m.tbm\"\naccuracy-inputs = \"x.bin\"\naccuracy-labels = \"y.bin\"\n\
             target-accuracy-samples = 0",
        );
        let cfg = f.load(&model).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(cfg.cases[0].accuracy.as_ref().map(|a| a.target_samples), Some(0));
    }

    #[test]
    fn clock_override() {
        let cfg =
            Fixture::new().load(&RUN.replace("name = \"sim-m4\"", "name = \"sim-m4\"\nclock-hz = 80_000_000")).unwrap();
        assert_eq!(cfg.board.clock_hz, 80_000_000);
    }

    #[test]
    fn case_config_serializes_with_kebab_case_keys() {
        let f = Fixture::new();
        for name in ["m.tbm", "x.bin", "y.bin"] {
            std::fs::write(f.dir.path().join(name), b"x").unwrap();
        }
        let model = RUN.replace(
            "workload = \"conv2d-3x3\"\ninput-shape = [8, 8, 4]\nout-channels = 8",
            "workload = \"model\"\nmodel = \"m.tbm\"\naccuracy-inputs = \"x.bin\"\naccuracy-labels = \"y.bin\"\nkernels = \"simd\"",
        );
        let cfg = f.load(&model).unwrap();
        let text = toml::to_string(&cfg.cases[0]).unwrap();
        for line in [
            "name = \"conv-small\"",
            "kernels = \"simd\"",
            "self-test",
            "target-samples = 20",
            "kind = \"model\"",
            "weights = \"int8\"",
        ] {
            if line == "self-test" {
                assert!(!text.contains(line), "None is left out: {text}");
            } else {
                assert!(text.contains(line), "{line} missing in {text}");
            }
        }
        let conv = toml::to_string(&Fixture::new().load(RUN).unwrap().cases[0]).unwrap();
        assert!(conv.contains("kind = \"conv2d-3x3\"") && conv.contains("in-channels = 4"), "{conv}");
        let run = toml::to_string(&cfg.run).unwrap();
        assert!(run.contains("max-cycles = 4000000000") && run.contains("timeout-s = 600"), "{run}");
    }

    #[test]
    fn mnist_configs_expand_to_their_cases_before_the_matrix() {
        let configs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../configs");
        let before = [
            ("sim-m4", include_str!("../tests-data/sim-m4-before-matrix.toml")),
            ("sim-m7", include_str!("../tests-data/sim-m7-before-matrix.toml")),
        ];
        for (id, text) in before {
            let path = configs.join(format!("{id}.toml"));
            let now = RunConfig::from_file(&path).unwrap_or_else(|e| panic!("{e}"));
            // The old text as if it were still the file, so that its relative
            // paths resolve against configs/ as they did.
            let old = SourceFile { path: path.clone(), text: text.to_owned() };
            let old = RunConfig::from_source(&old).unwrap_or_else(|e| panic!("{e}"));
            let names: Vec<_> = now.cases.iter().map(|c| c.name.as_str()).collect();
            assert_eq!(names, ["int8", "int8-fused", "int8-simd", "int4", "pruned25-int4", "pruned50-int4"], "{id}");
            assert_eq!(now.cases, old.cases, "{id}");
            assert_eq!((&now.board, &now.target, &now.power), (&old.board, &old.target, &old.power), "{id}");
            assert_eq!((&now.run, &now.report), (&old.run, &old.report), "{id}");
            assert_eq!(now, old, "{id}");
            let (lines_now, lines_old) =
                (std::fs::read_to_string(&path).unwrap().lines().count(), text.lines().count());
            assert!(lines_now * 3 <= lines_old, "{id}: {lines_now} lines, at most a third of {lines_old}");
        }
    }

    #[test]
    fn shipped_run_configs_are_valid() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../configs");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                RunConfig::from_file(&path).unwrap_or_else(|e| panic!("{e}"));
                seen += 1;
            }
        }
        assert!(seen >= 1);
    }
}
