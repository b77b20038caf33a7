//! The seam to power instruments: a [`PowerMeter`] is armed before a case's
//! firmware runs and delivers its [`Capture`] afterwards.

use crate::capture::{Capture, Waveform};
use crate::{PowerError, Provenance};

/// How a meter sees the firmware's marker pin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkerInput {
    /// A logic level recorded with every sample.
    Logic,
    /// Edges with timestamps.
    Edges,
    /// A trigger input: the capture starts at the first rising edge.
    Trigger,
}

/// What a meter can do.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Capabilities {
    /// The shortest sample interval it delivers, in seconds.
    pub sample_interval_s: f64,
    pub marker: MarkerInput,
    /// It measures the supply voltage too (else the configured one is used).
    pub voltage: bool,
}

/// What the run expects of one case, for sizing a capture.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CapturePlan {
    /// Timed inferences.
    pub iterations: u32,
    /// Expected duration of one, in seconds (from a model or an earlier
    /// case; a guess errs long).
    pub inference_s: f64,
    /// The firmware's idle wait before the first timed inference.
    pub idle_s: f64,
    /// Marker edges in each timed inference (2, or more with per-layer marks).
    pub edges_per_inference: u32,
    /// The longest the whole case may take (the run's timeout), in seconds.
    pub timeout_s: f64,
}

impl CapturePlan {
    /// How long [`PowerMeter::capture`] waits, counted from its call, for
    /// marker edges still to come: twice the case's expected length plus 5 s
    /// (USB and LAN latency; a simulated instrument's waveform only starts
    /// with `play`, just before), never beyond `timeout_s`. The firmware has
    /// finished by then, so a marker that never came fails in seconds, not
    /// at the run's timeout.
    pub fn capture_wait_s(&self) -> f64 {
        let expected_s = self.idle_s.max(0.0) + f64::from(self.iterations) * self.inference_s.max(0.0);
        let wait_s = 2.0 * expected_s + 5.0;
        if self.timeout_s.is_finite() && self.timeout_s > 0.0 { wait_s.min(self.timeout_s) } else { wait_s }
    }
}

/// A source of current captures.
pub trait PowerMeter {
    /// One line for reports, e.g. `Keysight N6705B at 192.168.1.50:5025, channel 1`.
    fn describe(&self) -> String;

    fn provenance(&self) -> Provenance;

    fn capabilities(&self) -> Capabilities;

    /// Prepares a capture; called before the case's firmware runs.
    fn arm(&mut self, plan: &CapturePlan) -> Result<(), PowerError>;

    /// With `[power] simulate = true`: what the simulated board drew while the
    /// firmware ran, for the instrument's simulator to measure. Real
    /// instruments measure the board and have nothing to take.
    fn play(&mut self, _waveform: &Waveform) -> Result<(), PowerError> {
        Ok(())
    }

    /// The capture; called after the firmware finished.
    fn capture(&mut self) -> Result<Capture, PowerError>;
}
