//! A case's energy: which meter measures it, what the firmware is built
//! with for it (idle wait, per-layer marks), the capture around the run,
//! and the trace saved beside the case.

use std::collections::BTreeMap;
use std::path::Path;

use tinybench_config::{Board, CaseConfig, MeterConfig, PowerConfig, RunConfig};
use tinybench_power::{
    CapturePlan, CaseEnergy, CaseTiming, MeterFactory, ModeledTrace, PowerError, PowerMeter, analyze,
};
use tinybench_target::BenchTarget;

use crate::RunnerError;
use crate::collect::Collected;
use crate::seams::TargetFactory;

/// The run's meters: opened once, by name, before anything is built.
pub struct Meters {
    factory: Box<dyn MeterFactory>,
    open: BTreeMap<String, Box<dyn PowerMeter>>,
}

impl Meters {
    pub fn new(factory: Box<dyn MeterFactory>) -> Meters {
        Meters { factory, open: BTreeMap::new() }
    }

    /// Opens every instrument the cases use (`none` and `model` need nothing);
    /// a modeled current needs targets that record the simulator's counters.
    pub fn check(&mut self, config: &RunConfig, targets: &dyn TargetFactory) -> Result<(), RunnerError> {
        if needs_counter_trace(config) && !targets.records_counters() {
            let what = if config.power.simulate { "an instrument simulator" } else { "the modeled current" };
            return Err(RunnerError::Power(PowerError::Unreachable {
                instrument: format!("{what} of {}", config.board.id),
                fix: format!(
                    "{what} is made from the simulator's own counters, which the {} target does not record; run on \
                     [target] kind = \"sim\", or choose [power] kind = \"none\"",
                    targets.kind()
                ),
                source: "no counter trace".into(),
            }));
        }
        for case in &config.cases {
            let Some(meter) = config.power.meter_of(case) else { continue };
            if meter.is_instrument() && !self.open.contains_key(&case.power) {
                let opened = self.factory.open(&case.power, meter, &config.power, &config.board)?;
                self.open.insert(case.power.clone(), opened);
            }
        }
        Ok(())
    }

    fn get(&mut self, name: &str) -> Option<&mut Box<dyn PowerMeter>> {
        self.open.get_mut(name)
    }
}

/// Whether the case is measured at all.
pub fn measured(config: &RunConfig, case: &CaseConfig) -> bool {
    config.power.meter_of(case).is_some_and(|m| *m != MeterConfig::None)
}

/// Whether the simulator must record its counters for the run: a modeled
/// meter, or an instrument simulator fed by the simulated board.
pub fn needs_counter_trace(config: &RunConfig) -> bool {
    config.board.power_model.is_some()
        && config
            .cases
            .iter()
            .filter_map(|c| config.power.meter_of(c))
            .any(|m| *m == MeterConfig::Model || (config.power.simulate && m.is_instrument()))
}

/// The firmware build variables for the case's measurement.
pub fn build_env(config: &RunConfig, case: &CaseConfig) -> Vec<(&'static str, String)> {
    let on = measured(config, case);
    let idle_ms = if on { config.power.idle_ms } else { 0 };
    let marks = on && config.power.per_layer;
    vec![("TINYBENCH_IDLE_MS", idle_ms.to_string()), ("TINYBENCH_LAYER_MARKS", u8::from(marks).to_string())]
}

/// Prepares the case's meter before its firmware runs.
pub fn arm(
    meters: &mut Meters,
    config: &RunConfig,
    case: &CaseConfig,
    macs: u64,
    layer_marks: u16,
) -> Result<(), RunnerError> {
    let Some(meter) = meters.get(&case.power) else { return Ok(()) };
    // Not yet known from the firmware: a pessimistic 0.02 MAC per cycle errs long.
    let inference_s = macs as f64 / (0.02 * config.board.clock_hz as f64) + 1e-3;
    // A rise, a toggle per mark, and a fall unless the last toggle left it low.
    let marks = if config.power.per_layer { u32::from(layer_marks) } else { 0 };
    let edges_per_inference = 1 + marks + u32::from(marks % 2 == 0);
    let plan = CapturePlan {
        iterations: config.run.iterations,
        inference_s,
        idle_s: f64::from(config.power.idle_ms) / 1000.0,
        edges_per_inference,
        timeout_s: config.run.timeout_s as f64,
    };
    Ok(meter.arm(&plan)?)
}

/// What the firmware reported, for the analysis.
fn timing(config: &RunConfig, collected: &Collected) -> CaseTiming {
    let setup = collected.power.unwrap_or_default();
    CaseTiming {
        clock_hz: config.board.clock_hz,
        inferences: collected.sample_starts.iter().copied().zip(collected.samples.iter().copied()).collect(),
        layer_cycles: collected.layer_samples.clone(),
        layer_marks: setup.layer_marks,
        marker_write_cycles: setup.marker_write_cycles,
        idle_s: f64::from(setup.idle_ms) / 1000.0,
    }
}

/// The case's energy after its run (none without a meter), and the trace
/// saved as `trace.parquet` beside the case.
pub fn measure(
    meters: &mut Meters,
    config: &RunConfig,
    case: &CaseConfig,
    target: &mut dyn BenchTarget,
    collected: &Collected,
    case_dir: &Path,
) -> Result<Option<CaseEnergy>, RunnerError> {
    let Some(meter_config) = config.power.meter_of(case) else { return Ok(None) };
    if *meter_config == MeterConfig::None {
        return Ok(None);
    }
    let modeled = modeled_trace(&config.board, target);
    let timing = timing(config, collected);
    // With an instrument simulator: the exact figures it is checked against.
    let mut reference = None;
    let capture = match meter_config {
        MeterConfig::Model => {
            let trace = modeled.ok_or_else(|| no_modeled_trace(config, target))?;
            trace.capture()
        }
        _ => {
            let meter = meters.get(&case.power).ok_or_else(|| {
                RunnerError::Power(PowerError::Unreachable {
                    instrument: case.power.clone(),
                    fix: "the run did not open it; this is a tinybench bug".to_owned(),
                    source: "meter not open".into(),
                })
            })?;
            if config.power.simulate {
                let trace = modeled.ok_or_else(|| no_modeled_trace(config, target))?;
                let interval_s = config.power.sample_us * 1e-6;
                meter.play(&trace.waveform(interval_s))?;
                reference = Some(trace.capture());
            }
            meter.capture()?
        }
    };
    let trace = case_dir.join(crate::trace::TRACE_FILE);
    crate::trace::write_parquet(&trace, &capture).map_err(|e| RunnerError::io(&trace, e))?;
    let hint = match meter_config {
        MeterConfig::Model => format!(
            "the simulated firmware did not drive the marker ({} [marker] in {})",
            config.board.marker_pin.as_deref().unwrap_or("no pin"),
            config.board.path.display()
        ),
        _ => format!(
            "the board's marker pin {} to the meter's marker input, with a common ground",
            config.board.marker_pin.as_deref().unwrap_or("(none in the board file)")
        ),
    };
    let energy = analyze(&capture, &timing, &hint)?;
    Ok(Some(match reference {
        Some(exact) => energy.with_reference(&analyze(&exact, &timing, &hint)?),
        None => energy,
    }))
}

fn modeled_trace(board: &Board, target: &mut dyn BenchTarget) -> Option<ModeledTrace> {
    let model = board.power_model.as_ref()?;
    let counters = target.take_counter_trace()?;
    Some(ModeledTrace::new(&counters, model))
}

fn no_modeled_trace(config: &RunConfig, target: &dyn BenchTarget) -> RunnerError {
    RunnerError::Power(PowerError::Unreachable {
        instrument: format!("the modeled current of {}", config.board.id),
        fix: format!(
            "{} records no simulator counters; run on [target] kind = \"sim\" (or choose kind = \"none\" in [power])",
            target.describe()
        ),
        source: "no counter trace".into(),
    })
}

/// `[power]` needs nothing from a run without meters.
pub fn describe(power: &PowerConfig) -> String {
    power
        .meters
        .iter()
        .map(|(name, m)| if name == m.kind() { name.clone() } else { format!("{name} ({})", m.kind()) })
        .collect::<Vec<_>>()
        .join(", ")
}
