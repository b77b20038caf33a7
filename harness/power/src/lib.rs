//! host: energy per inference.
//!
//! [`PowerMeter`] is the seam to power instruments. Implementations:
//! - [`ModeledSupply`]: constant run current at a supply voltage, for the
//!   simulator. Its figures carry [`Provenance::Modeled`] and are never shown
//!   as measurements.
//! - [`FakePowerMeter`]: replays a scripted current trace and integrates it
//!   over the inference window, the way the instrument backends (N6705B,
//!   INA219, PPK2) will integrate their captured traces.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tinybench_config::{PowerConfig, SimPowerConfig};

/// Whether a figure was measured by an instrument or computed from a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

/// Energy of one inference.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EnergyReading {
    pub energy_uj: f64,
    pub average_power_mw: f64,
    pub provenance: Provenance,
}

/// Why no energy figure could be produced.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PowerError {
    #[error(
        "the current trace does not cover the inference window {start_us} us ..= {end_us} us; capture longer or start earlier"
    )]
    WindowNotCovered { start_us: f64, end_us: f64 },
}

/// A source of energy figures for one inference window.
pub trait PowerMeter {
    /// One line for reports, e.g. `modeled supply 1800 mV, 12 mA run`.
    fn describe(&self) -> String;

    fn provenance(&self) -> Provenance;

    /// Energy of an inference that ran from `start` (since the capture began)
    /// for `duration`.
    fn energy(&mut self, start: Duration, duration: Duration) -> Result<EnergyReading, PowerError>;

    /// Power while the core sleeps between inferences, where known.
    fn sleep_power_mw(&self) -> Option<f64> {
        None
    }
}

/// Builds the meter a run configuration asks for.
pub fn meter_for(config: &PowerConfig) -> Box<dyn PowerMeter> {
    match config {
        PowerConfig::Sim(sim) => Box::new(ModeledSupply::new(sim)),
    }
}

/// A supply with constant run and sleep currents.
#[derive(Debug, Clone, PartialEq)]
pub struct ModeledSupply {
    supply_mv: f64,
    run_current_ma: f64,
    sleep_current_ma: f64,
}

impl ModeledSupply {
    pub fn new(config: &SimPowerConfig) -> Self {
        ModeledSupply {
            supply_mv: config.supply_mv,
            run_current_ma: config.run_current_ma,
            sleep_current_ma: config.sleep_current_ma,
        }
    }

    fn run_power_mw(&self) -> f64 {
        self.supply_mv * self.run_current_ma / 1000.0
    }
}

impl PowerMeter for ModeledSupply {
    fn describe(&self) -> String {
        format!(
            "modeled supply: {} mV, {} mA run, {} mA sleep (not a measurement)",
            self.supply_mv, self.run_current_ma, self.sleep_current_ma
        )
    }

    fn provenance(&self) -> Provenance {
        Provenance::Modeled
    }

    fn energy(&mut self, _start: Duration, duration: Duration) -> Result<EnergyReading, PowerError> {
        let power_mw = self.run_power_mw();
        // mW * us = nJ; / 1000 = uJ
        let energy_uj = power_mw * duration.as_secs_f64() * 1e6 / 1000.0;
        Ok(EnergyReading { energy_uj, average_power_mw: power_mw, provenance: Provenance::Modeled })
    }

    fn sleep_power_mw(&self) -> Option<f64> {
        Some(self.supply_mv * self.sleep_current_ma / 1000.0)
    }
}

/// Replays a current trace: samples of current at a fixed interval and a
/// fixed supply voltage. Marked as measured, like the instruments it stands in
/// for in tests.
#[derive(Debug, Clone, PartialEq)]
pub struct FakePowerMeter {
    supply_mv: f64,
    sample_interval: Duration,
    current_ma: Vec<f64>,
}

impl FakePowerMeter {
    pub fn new(supply_mv: f64, sample_interval: Duration, current_ma: Vec<f64>) -> Self {
        FakePowerMeter { supply_mv, sample_interval, current_ma }
    }
}

impl PowerMeter for FakePowerMeter {
    fn describe(&self) -> String {
        format!("fake meter: {} samples every {:?}", self.current_ma.len(), self.sample_interval)
    }

    fn provenance(&self) -> Provenance {
        Provenance::Measured
    }

    /// Integrates the trace over the window, counting partial sample
    /// intervals at the edges by their overlap (each sample holds its value
    /// for one interval).
    fn energy(&mut self, start: Duration, duration: Duration) -> Result<EnergyReading, PowerError> {
        let dt_us = self.sample_interval.as_secs_f64() * 1e6;
        let start_us = start.as_secs_f64() * 1e6;
        let end_us = start_us + duration.as_secs_f64() * 1e6;
        let covered_us = dt_us * self.current_ma.len() as f64;
        if dt_us <= 0.0 || end_us > covered_us + 1e-9 || duration.is_zero() {
            return Err(PowerError::WindowNotCovered { start_us, end_us });
        }
        let mut charge_ma_us = 0.0;
        for (i, &ma) in self.current_ma.iter().enumerate() {
            let (s0, s1) = (i as f64 * dt_us, (i + 1) as f64 * dt_us);
            let overlap = (s1.min(end_us) - s0.max(start_us)).max(0.0);
            charge_ma_us += ma * overlap;
        }
        let energy_uj = self.supply_mv * charge_ma_us / 1e6;
        let average_power_mw = energy_uj * 1000.0 / (end_us - start_us);
        Ok(EnergyReading { energy_uj, average_power_mw, provenance: Provenance::Measured })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modeled_energy_is_power_times_time() {
        let mut m =
            ModeledSupply::new(&SimPowerConfig { supply_mv: 1800.0, run_current_ma: 10.0, sleep_current_ma: 0.5 });
        // 1.8 V * 10 mA = 18 mW; 18 mW * 2 ms = 36 uJ
        let r = m.energy(Duration::ZERO, Duration::from_millis(2)).unwrap();
        assert!((r.energy_uj - 36.0).abs() < 1e-9, "{r:?}");
        assert_eq!(r.average_power_mw, 18.0);
        assert_eq!(r.provenance, Provenance::Modeled);
        assert_eq!(m.sleep_power_mw(), Some(0.9));
        assert!(m.describe().contains("not a measurement"));
    }

    #[test]
    fn fake_meter_integrates_partial_samples() {
        // 10 us samples: 1 mA, 2 mA, 3 mA, 4 mA at 1000 mV.
        let mut m = FakePowerMeter::new(1000.0, Duration::from_micros(10), vec![1.0, 2.0, 3.0, 4.0]);
        // Window 5 us ..= 25 us: half of 1 mA, all of 2 mA, half of 3 mA
        // = (0.5*10 + 2*10 + 1.5*10) mA*us = 40 mA*us -> 1 V * 40 nC = 0.04 uJ
        let r = m.energy(Duration::from_micros(5), Duration::from_micros(20)).unwrap();
        assert!((r.energy_uj - 0.04).abs() < 1e-12, "{r:?}");
        assert!((r.average_power_mw - 2.0).abs() < 1e-9);
        assert_eq!(r.provenance, Provenance::Measured);
    }

    #[test]
    fn fake_meter_refuses_windows_past_the_trace() {
        let mut m = FakePowerMeter::new(1000.0, Duration::from_micros(10), vec![1.0; 4]);
        assert!(m.energy(Duration::from_micros(30), Duration::from_micros(20)).is_err());
        assert!(m.energy(Duration::ZERO, Duration::ZERO).is_err());
    }
}
