//! The simulated board's modeled current: the simulator's counters
//! ([`tinybench_sim::CounterTrace`]) through the board file's
//! `[power-model]` (docs/power-model.md).
//!
//! Cumulative charge is exact at every known point of the run (every
//! sample, marker edge and sleep boundary), and current is constant
//! between two of them. An integral between marker edges is therefore
//! exact whatever the sampling; the sampling only shapes the waveform an
//! instrument simulator measures.

use tinybench_config::{INSTRUCTION_CLASSES, PowerModel};
use tinybench_sim::{CounterTrace, Counters, PowerEvent};

use crate::Provenance;
use crate::capture::{Capture, MarkerEdge, MarkerTrack, SampleKind, Timebase, Voltage, Waveform};

/// Femtocoulombs per picocoulomb: the class weights are integers in fC.
const FC_PER_PC: f64 = 1000.0;

/// The per-class weights (fC per instruction) the simulator sums for `model`.
pub fn class_weights(model: &PowerModel) -> [u64; 16] {
    let mut weights = [0u64; 16];
    for (i, class) in INSTRUCTION_CLASSES.iter().enumerate() {
        if let Some(pc) = model.class_extra_pc.get(*class) {
            weights[i] = (pc * FC_PER_PC).round() as u64;
        }
    }
    weights
}

/// Cumulative charge in picocoulombs at a point with counters `c`.
fn charge_pc(model: &PowerModel, clock_hz: u64, c: &Counters) -> f64 {
    let active = c.cycles - c.sleep_cycles;
    // µA/MHz × cycles = pC (µA × µs); static µA × seconds × 1e6 = pC.
    model.run_ua_per_mhz * active as f64
        + model.sleep_ua_per_mhz * c.sleep_cycles as f64
        + model.static_ua * c.cycles as f64 / clock_hz as f64 * 1e6
        + c.weighted as f64 / FC_PER_PC
        + model.flash_line_pc * (c.flash_fetch_lines + c.flash_data_lines) as f64
}

/// A run's modeled current.
#[derive(Debug, Clone, PartialEq)]
pub struct ModeledTrace {
    supply_v: f64,
    /// (time s, cumulative charge C), increasing in time.
    points: Vec<(f64, f64)>,
    edges: Vec<MarkerEdge>,
    source: String,
}

impl ModeledTrace {
    pub fn new(trace: &CounterTrace, model: &PowerModel) -> ModeledTrace {
        let clock = trace.clock_hz.max(1);
        let mut known: Vec<Counters> = trace.samples.clone();
        let mut edges = Vec::new();
        for event in &trace.events {
            match *event {
                PowerEvent::Marker { high, at } => {
                    known.push(at);
                    edges.push(MarkerEdge { time_s: at.cycles as f64 / clock as f64, high });
                }
                PowerEvent::Sleep { from, to } => known.extend([from, to]),
            }
        }
        known.sort_by_key(|c| (c.cycles, c.instructions));
        known.dedup_by_key(|c| c.cycles);
        let mut points: Vec<(f64, f64)> = Vec::with_capacity(known.len() + 1);
        if known.first().is_none_or(|c| c.cycles > 0) {
            points.push((0.0, 0.0));
        }
        points.extend(known.iter().map(|c| (c.cycles as f64 / clock as f64, charge_pc(model, clock, c) * 1e-12)));
        edges.sort_by(|a, b| a.time_s.total_cmp(&b.time_s));
        ModeledTrace { supply_v: model.supply_mv / 1000.0, points, edges, source: model.source.clone() }
    }

    /// Cumulative charge at `t_s`, coulombs (constant current between known points).
    pub fn charge_c(&self, t_s: f64) -> f64 {
        let i = self.points.partition_point(|p| p.0 <= t_s);
        match (i.checked_sub(1).map(|k| self.points[k]), self.points.get(i)) {
            (None, _) => 0.0,
            (Some(last), None) => last.1,
            (Some(a), Some(b)) => a.1 + (b.1 - a.1) * (t_s - a.0) / (b.0 - a.0),
        }
    }

    /// Exact energy over `from_s ..= to_s`, microjoules.
    pub fn energy_uj(&self, from_s: f64, to_s: f64) -> f64 {
        (self.charge_c(to_s) - self.charge_c(from_s)) * self.supply_v * 1e6
    }

    /// The marker's edges, exact.
    pub fn edges(&self) -> &[MarkerEdge] {
        &self.edges
    }

    pub fn duration_s(&self) -> f64 {
        self.points.last().map_or(0.0, |p| p.0)
    }

    /// The trace as a capture: one sample per stretch between known points
    /// (its mean current), the edges exact; labeled modeled.
    pub fn capture(&self) -> Capture {
        let times: Vec<f64> = self.points.iter().map(|p| p.0).collect();
        let mut current_a: Vec<f64> = self
            .points
            .windows(2)
            .map(|w| if w[1].0 > w[0].0 { (w[1].1 - w[0].1) / (w[1].0 - w[0].0) } else { 0.0 })
            .collect();
        current_a.push(0.0);
        Capture {
            timebase: Timebase::Timestamps(times),
            sample_kind: SampleKind::Mean,
            current_a,
            voltage: Voltage::Constant { volts: self.supply_v },
            marker: MarkerTrack::Edges(self.edges.clone()),
            instrument: format!("modeled current ({})", self.source),
            provenance: Provenance::Modeled,
            resolution_a: 0.0,
        }
    }

    /// Resampled at `interval_s` for an instrument simulator: each sample the
    /// mean current over its interval, the marker's level at its middle.
    pub fn waveform(&self, interval_s: f64) -> Waveform {
        let n = (self.duration_s() / interval_s).ceil() as usize;
        let mut current_a = Vec::with_capacity(n);
        let mut marker = Vec::with_capacity(n);
        let mut edge = 0;
        let mut level = false;
        let mut q0 = self.charge_c(0.0);
        for k in 0..n {
            let (t0, t1) = (k as f64 * interval_s, (k + 1) as f64 * interval_s);
            let q1 = self.charge_c(t1);
            current_a.push((q1 - q0) / (t1 - t0));
            q0 = q1;
            let middle = (t0 + t1) / 2.0;
            while edge < self.edges.len() && self.edges[edge].time_s <= middle {
                level = self.edges[edge].high;
                edge += 1;
            }
            marker.push(level);
        }
        Waveform { interval_s, current_a, voltage_v: vec![self.supply_v; n], marker }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn model() -> PowerModel {
        PowerModel {
            supply_mv: 2000.0,
            run_ua_per_mhz: 100.0,
            sleep_ua_per_mhz: 10.0,
            static_ua: 0.0,
            flash_line_pc: 0.0,
            class_extra_pc: BTreeMap::from([("mul".to_owned(), 5.0)]),
            source: "test".into(),
        }
    }

    fn at(cycles: u64, sleep_cycles: u64) -> Counters {
        Counters { cycles, sleep_cycles, instructions: cycles - sleep_cycles, ..Counters::default() }
    }

    #[test]
    fn charge_follows_the_model_and_edges_are_exact() {
        // 100 MHz: 1000 cycles = 10 us running (100 uA/MHz -> 10 mA), then 1000 asleep (1 mA).
        let trace = CounterTrace {
            clock_hz: 100_000_000,
            samples: vec![at(1000, 0), at(2000, 1000)],
            events: vec![
                PowerEvent::Marker { high: true, at: at(500, 0) },
                PowerEvent::Sleep { from: at(1000, 0), to: at(2000, 1000) },
            ],
        };
        let m = ModeledTrace::new(&trace, &model());
        // Run: 10 mA * 10 us = 100 nC; sleep: 1 mA * 10 us = 10 nC.
        assert!((m.charge_c(10e-6) - 100e-9).abs() < 1e-18);
        assert!((m.charge_c(20e-6) - 110e-9).abs() < 1e-18);
        // From the edge at 5 us to 20 us: 50 nC + 10 nC at 2 V = 0.12 uJ.
        assert!((m.energy_uj(5e-6, 20e-6) - 0.12).abs() < 1e-12);
        assert_eq!(m.edges(), [MarkerEdge { time_s: 5e-6, high: true }]);
        let w = m.waveform(5e-6);
        assert_eq!(w.marker, [false, true, true, true]);
        assert!((w.current_a[0] - 10e-3).abs() < 1e-12 && (w.current_a[3] - 1e-3).abs() < 1e-12, "{:?}", w.current_a);
        assert!((w.energy_uj(5e-6, 20e-6) - 0.12).abs() < 1e-12);
    }

    #[test]
    fn class_weights_are_femtocoulombs_in_the_simulators_order() {
        let w = class_weights(&model());
        assert_eq!(w[INSTRUCTION_CLASSES.iter().position(|c| *c == "mul").unwrap()], 5000);
        assert_eq!(w.iter().sum::<u64>(), 5000);
    }
}
