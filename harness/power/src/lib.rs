//! host: where energy figures come from.
//!
//! - [`PowerMeter`] ([`meter`]) is the seam to instruments: armed before a
//!   case runs, it delivers a [`Capture`] ([`capture`]) after. The drivers
//!   and their simulators live in `tinybench-instruments`; [`FakeMeter`]
//!   replays a scripted capture for tests. [`MeterFactory`] opens a run's
//!   meters by name, so the runner takes them as a parameter.
//! - [`ModeledTrace`] ([`model`]) is the simulated board's modeled current,
//!   from the simulator's counters and the board file's `[power-model]`; its
//!   figures are labeled *modeled*, never *measured*.
//! - [`analyze`] ([`analysis`]) turns any capture into energy per inference
//!   and per layer.

pub mod analysis;
pub mod capture;
pub mod meter;
pub mod model;

use serde::{Deserialize, Serialize};
use tinybench_config::{Board, MeterConfig, PowerConfig};

pub use analysis::{CaseEnergy, CaseTiming, LayerEnergy, Spread, WindowMethod, analyze};
pub use capture::{Capture, MarkerEdge, MarkerTrack, SampleKind, Timebase, Voltage, Waveform};
pub use meter::{Capabilities, CapturePlan, MarkerInput, PowerMeter};
pub use model::ModeledTrace;

/// Whether a figure was measured by an instrument or computed from a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Provenance {
    Measured,
    Modeled,
}

impl Provenance {
    pub fn as_str(self) -> &'static str {
        match self {
            Provenance::Measured => "measured",
            Provenance::Modeled => "modeled",
        }
    }
}

/// Why no energy figure could be produced.
#[derive(Debug, thiserror::Error)]
pub enum PowerError {
    #[error(
        "the current trace does not cover the inference window {start_us} us ..= {end_us} us; capture longer or start earlier"
    )]
    WindowNotCovered { start_us: f64, end_us: f64 },
    /// The instrument cannot be reached (not connected, wrong address, no permission).
    #[error("{instrument}: cannot reach it: {source}; {fix}")]
    Unreachable {
        instrument: String,
        fix: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The instrument failed or refused something during a capture (an
    /// SCPI error, a short or malformed block, a timeout, a disconnect, an
    /// I2C NACK); the source says which and what to do.
    #[error("{instrument}: {source}")]
    Instrument {
        instrument: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The marker pin's edges were not where the run expected them.
    #[error("{instrument}: saw {seen} marker edges where {expected} were expected; check the wiring: {hint}")]
    MarkerNotSeen { instrument: String, expected: u32, seen: u32, hint: String },
}

/// Opens the meters a run names (`[power]`), before anything is built, so
/// an unreachable instrument stops the run at once.
pub trait MeterFactory {
    /// The meter `name` configured as `meter`; with `power.simulate`, the
    /// instrument's simulator behind its real driver.
    fn open(
        &mut self,
        name: &str,
        meter: &MeterConfig,
        power: &PowerConfig,
        board: &Board,
    ) -> Result<Box<dyn PowerMeter>, PowerError>;
}

/// A factory without instrument drivers: `none` and `model` need none; an
/// instrument kind is refused with what to do.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoInstruments;

impl MeterFactory for NoInstruments {
    fn open(
        &mut self,
        name: &str,
        meter: &MeterConfig,
        _power: &PowerConfig,
        _board: &Board,
    ) -> Result<Box<dyn PowerMeter>, PowerError> {
        Err(PowerError::Unreachable {
            instrument: format!("meter {name} ({})", meter.kind()),
            fix: "this runner has no instrument drivers; run it through the tinybench command".to_owned(),
            source: "no instrument drivers".into(),
        })
    }
}

/// Opens scripted [`FakeMeter`]s by meter name, so a whole run can be driven
/// by fakes; a name without one is unreachable, as a missing instrument is.
#[derive(Debug, Clone, Default)]
pub struct FakeMeters {
    pub meters: std::collections::BTreeMap<String, FakeMeter>,
}

impl MeterFactory for FakeMeters {
    fn open(
        &mut self,
        name: &str,
        meter: &MeterConfig,
        _power: &PowerConfig,
        _board: &Board,
    ) -> Result<Box<dyn PowerMeter>, PowerError> {
        match self.meters.get(name) {
            Some(fake) => Ok(Box::new(fake.clone())),
            None => Err(PowerError::Unreachable {
                instrument: format!("meter {name} ({})", meter.kind()),
                fix: "script a FakeMeter for it".to_owned(),
                source: "no scripted meter".into(),
            }),
        }
    }
}

/// Replays a scripted capture: marked measured, like the instruments it
/// stands in for in tests; can fail at `arm` or `capture` instead.
#[derive(Debug, Clone)]
pub struct FakeMeter {
    pub capture: Capture,
    /// Each `play`ed waveform, in order.
    pub played: Vec<Waveform>,
    pub fail_arm: Option<String>,
    pub fail_capture: Option<String>,
    pub plans: Vec<CapturePlan>,
}

impl FakeMeter {
    pub fn new(capture: Capture) -> FakeMeter {
        FakeMeter { capture, played: Vec::new(), fail_arm: None, fail_capture: None, plans: Vec::new() }
    }
}

impl PowerMeter for FakeMeter {
    fn describe(&self) -> String {
        format!("fake meter replaying {} samples", self.capture.current_a.len())
    }

    fn provenance(&self) -> Provenance {
        self.capture.provenance
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { sample_interval_s: 10e-6, marker: MarkerInput::Logic, voltage: false }
    }

    fn arm(&mut self, plan: &CapturePlan) -> Result<(), PowerError> {
        self.plans.push(*plan);
        match &self.fail_arm {
            Some(why) => Err(PowerError::Instrument { instrument: "fake meter".into(), source: why.clone().into() }),
            None => Ok(()),
        }
    }

    fn play(&mut self, waveform: &Waveform) -> Result<(), PowerError> {
        self.played.push(waveform.clone());
        Ok(())
    }

    fn capture(&mut self) -> Result<Capture, PowerError> {
        match &self.fail_capture {
            Some(why) => Err(PowerError::Instrument { instrument: "fake meter".into(), source: why.clone().into() }),
            None => Ok(self.capture.clone()),
        }
    }
}
