//! Energy per inference and per layer from any meter's [`Capture`], the same
//! way for every instrument and for the modeled trace.
//!
//! Windows come from the marker where the meter saw its edges (a logic
//! input, timestamped edges), otherwise from the first rising edge (a
//! trigger) and the firmware's DWT timestamps. Each inference's energy is
//! ∫V·I over its window less the idle baseline (mean power over the idle
//! wait before the first inference) times the window's length. Every figure
//! says how its window was found.

use serde::{Deserialize, Serialize};

use crate::capture::{Capture, MarkerEdge, MarkerTrack, SampleKind, Timebase};
use crate::{PowerError, Provenance};

/// What the firmware reported about the timed inferences of a case.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CaseTiming {
    pub clock_hz: u64,
    /// Per timed inference: CYCCNT at its start, and its cycles.
    pub inferences: Vec<(u32, u32)>,
    /// Per timed inference, per layer: its cycles (0: fused into a later layer).
    pub layer_cycles: Vec<Vec<u32>>,
    /// Marker toggles inside each inference (per-layer marks).
    pub layer_marks: u16,
    /// Cycles of one marker write.
    pub marker_write_cycles: u32,
    /// The idle wait before the first inference.
    pub idle_s: f64,
}

/// How a window was placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WindowMethod {
    /// Between marker edges the meter recorded.
    MarkerEdges,
    /// From the trigger (the first rising edge) and the firmware's DWT cycle counts.
    DwtOffsets,
}

impl WindowMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            WindowMethod::MarkerEdges => "marker edges",
            WindowMethod::DwtOffsets => "DWT offsets",
        }
    }
}

/// Minimum, median and maximum.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    pub min: f64,
    pub median: f64,
    pub max: f64,
}

impl Spread {
    pub fn of(values: &[f64]) -> Spread {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        if n == 0 {
            return Spread { min: 0.0, median: 0.0, max: 0.0 };
        }
        let median = if n % 2 == 1 { sorted[n / 2] } else { (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0 };
        Spread { min: sorted[0], median, max: sorted[n - 1] }
    }
}

/// One layer's energy (median over the inferences).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerEnergy {
    pub index: usize,
    pub energy_uj: f64,
    pub method: WindowMethod,
    /// Samples in its window (mean over the inferences): few samples, rough figure.
    pub samples: f64,
    /// With `[power] simulate = true`: the same figure from the modeled
    /// current the instrument simulator was fed, integrated exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modeled_exact_uj: Option<f64>,
}

/// A case's energy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseEnergy {
    /// Per inference, less the idle baseline, µJ.
    pub per_inference_uj: Vec<f64>,
    pub energy_uj: Spread,
    /// Mean power during the median inference (baseline included), mW.
    pub average_power_mw: f64,
    /// Mean power over the idle wait; none without one.
    pub idle_power_mw: Option<f64>,
    /// A bound on the median figure's error from the sample interval, the
    /// current resolution and the window placement, µJ.
    pub uncertainty_uj: f64,
    pub method: WindowMethod,
    /// Fewer than [`MIN_SAMPLES_PER_WINDOW`] samples per inference: only the
    /// mean over all inferences means something (min = median = max).
    pub loop_averaged: bool,
    pub layers: Vec<LayerEnergy>,
    pub instrument: String,
    pub provenance: Provenance,
    /// With `[power] simulate = true`: the median per inference from the
    /// modeled current the instrument simulator was fed, integrated exactly;
    /// the instrument's error is the difference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modeled_exact_uj: Option<f64>,
}

impl CaseEnergy {
    /// Records `exact` (the same analysis of the modeled trace) as the reference.
    pub fn with_reference(mut self, exact: &CaseEnergy) -> CaseEnergy {
        self.modeled_exact_uj = Some(exact.energy_uj.median);
        for layer in &mut self.layers {
            layer.modeled_exact_uj = exact.layers.iter().find(|l| l.index == layer.index).map(|l| l.energy_uj);
        }
        self
    }
}

/// Fewer samples than this in an inference's window: the figure is averaged
/// over all inferences instead.
pub const MIN_SAMPLES_PER_WINDOW: f64 = 10.0;

/// One sample's stretch of time and values.
struct Stretch {
    from_s: f64,
    to_s: f64,
    power_w: f64,
}

/// The capture as stretches of constant power (see [`SampleKind`]).
fn stretches(capture: &Capture) -> Vec<Stretch> {
    let n = capture.current_a.len();
    let mut out = Vec::with_capacity(n);
    for k in 0..n {
        let (from_s, to_s) = match (&capture.timebase, capture.sample_kind) {
            (Timebase::Uniform { start_s, interval_s }, _) => {
                (start_s + k as f64 * interval_s, start_s + (k + 1) as f64 * interval_s)
            }
            (Timebase::Timestamps(t), SampleKind::Mean) => (t[k], t.get(k + 1).copied().unwrap_or(t[k])),
            (Timebase::Timestamps(t), SampleKind::Conversion { conversion_us }) => {
                // A conversion stands for the time since the previous one.
                let from = if k == 0 { t[0] - f64::from(conversion_us) * 1e-6 } else { t[k - 1] };
                (from, t[k])
            }
        };
        out.push(Stretch { from_s, to_s, power_w: capture.current_a[k] * capture.volts(k) });
    }
    out
}

/// ∫P over `from_s ..= to_s` (joules) and the samples touching it.
fn integrate(stretches: &[Stretch], from_s: f64, to_s: f64) -> (f64, f64) {
    let first = stretches.partition_point(|s| s.to_s <= from_s);
    let mut joules = 0.0;
    let mut samples = 0.0;
    for s in &stretches[first..] {
        if s.from_s >= to_s {
            break;
        }
        let overlap = s.to_s.min(to_s) - s.from_s.max(from_s);
        if overlap > 0.0 {
            joules += s.power_w * overlap;
            if s.to_s > s.from_s {
                samples += overlap / (s.to_s - s.from_s);
            }
        }
    }
    (joules, samples)
}

/// The marker's edges as the capture saw them.
fn edges(capture: &Capture) -> Vec<MarkerEdge> {
    match &capture.marker {
        MarkerTrack::Edges(edges) => edges.clone(),
        MarkerTrack::Logic(levels) => {
            let mut out = Vec::new();
            let mut level = levels.first().copied().unwrap_or(false);
            for (k, &high) in levels.iter().enumerate().skip(1) {
                if high != level {
                    // Between the last sample at the old level and the first at the new.
                    out.push(MarkerEdge { time_s: capture.time_s(k), high });
                    level = high;
                }
            }
            out
        }
        MarkerTrack::Trigger { time_s } => vec![MarkerEdge { time_s: *time_s, high: true }],
    }
}

/// The time the capture's samples cover, seconds (none without samples).
fn capture_span_s(capture: &Capture) -> Option<(f64, f64)> {
    let n = capture.current_a.len();
    if n == 0 {
        return None;
    }
    Some(match (&capture.timebase, capture.sample_kind) {
        (Timebase::Uniform { start_s, interval_s }, _) => (*start_s, start_s + n as f64 * interval_s),
        (Timebase::Timestamps(t), SampleKind::Mean) => (t[0], t[n - 1]),
        (Timebase::Timestamps(t), SampleKind::Conversion { conversion_us }) => {
            (t[0] - f64::from(conversion_us) * 1e-6, t[n - 1])
        }
    })
}

/// The mean sample interval of the capture, seconds.
fn sample_interval_s(capture: &Capture) -> f64 {
    match &capture.timebase {
        Timebase::Uniform { interval_s, .. } => *interval_s,
        Timebase::Timestamps(t) if t.len() > 1 => (t[t.len() - 1] - t[0]) / (t.len() - 1) as f64,
        Timebase::Timestamps(_) => 0.0,
    }
}

/// Energy per inference and per layer of one case.
pub fn analyze(capture: &Capture, timing: &CaseTiming, wiring_hint: &str) -> Result<CaseEnergy, PowerError> {
    let iterations = timing.inferences.len();
    let clock = timing.clock_hz.max(1) as f64;
    let marks = usize::from(timing.layer_marks);
    let per_inference_edges = 1 + marks + usize::from(marks % 2 == 0);
    let all_edges = edges(capture);
    // The first inference's rise ends the idle wait: the first rise after the
    // marker stayed low for most of it (an edge at reset, a pin settling, does
    // not count); without an idle wait, the first rise.
    let capture_start_s = capture_span_s(capture).map_or(f64::NEG_INFINITY, |(from, _)| from);
    let first_rise = all_edges
        .iter()
        .enumerate()
        .position(|(i, e)| {
            let low_since = if i == 0 { capture_start_s } else { all_edges[i - 1].time_s };
            e.high && (timing.idle_s <= 0.0 || e.time_s - low_since >= 0.9 * timing.idle_s)
        })
        .or_else(|| all_edges.iter().position(|e| e.high));
    let seen = first_rise.map_or(0, |i| all_edges.len() - i);
    let by_edges = !matches!(capture.marker, MarkerTrack::Trigger { .. });
    let needed = if by_edges { iterations * per_inference_edges } else { 1 };
    let Some(first_rise) = first_rise.filter(|_| seen >= needed) else {
        return Err(PowerError::MarkerNotSeen {
            instrument: capture.instrument.clone(),
            expected: needed as u32,
            seen: seen as u32,
            hint: wiring_hint.to_owned(),
        });
    };
    let edges = &all_edges[first_rise..];
    let stretches = stretches(capture);
    let dt_s = sample_interval_s(capture);
    let start0 = edges[0].time_s;

    // The baseline: the idle wait, less a guard at each end.
    let idle_power_w = if timing.idle_s > 0.0 {
        let guard = (2.0 * dt_s).max(timing.idle_s * 0.1);
        let (from, to) = (start0 - timing.idle_s + guard, start0 - guard);
        // Only the part the capture covers (it may start inside the wait).
        let from = capture_span_s(capture).map_or(from, |(first, _)| from.max(first));
        let (joules, samples) = integrate(&stretches, from, to);
        (to > from && samples >= 1.0).then(|| joules / (to - from))
    } else {
        None
    };
    let baseline_w = idle_power_w.unwrap_or(0.0);

    let mut per_inference_uj = Vec::with_capacity(iterations);
    let mut power_w = Vec::with_capacity(iterations);
    let mut samples_per_window = 0.0;
    let layers = timing.layer_cycles.first().map_or(0, Vec::len);
    let mut layer_uj: Vec<Vec<f64>> = vec![Vec::new(); layers];
    let mut layer_samples = vec![0.0; layers];
    let observed: Vec<usize> =
        (0..layers).filter(|&l| timing.layer_cycles.iter().any(|c| c.get(l).is_some_and(|&x| x != 0))).collect();
    let layer_method = if by_edges && marks > 0 && observed.len() == marks + 1 {
        WindowMethod::MarkerEdges
    } else {
        WindowMethod::DwtOffsets
    };
    // CYCCNT wraps every 2^32 cycles (9 s at 480 MHz): each start's offset
    // from the first, summed from consecutive differences.
    let mut offset_cycles = Vec::with_capacity(iterations);
    let mut total: u64 = 0;
    for (i, &(start, _)) in timing.inferences.iter().enumerate() {
        if i > 0 {
            total += u64::from(start.wrapping_sub(timing.inferences[i - 1].0));
        }
        offset_cycles.push(total);
    }
    let span = capture_span_s(capture);
    for (i, &(_, cycles)) in timing.inferences.iter().enumerate() {
        let duration_s = f64::from(cycles) / clock;
        let (from, to, bounds) = if by_edges {
            let e = &edges[i * per_inference_edges..(i + 1) * per_inference_edges];
            let to = if marks % 2 == 0 { e[e.len() - 1].time_s } else { e[0].time_s + duration_s };
            (e[0].time_s, to, e.iter().map(|x| x.time_s).collect::<Vec<_>>())
        } else {
            let from = start0 + offset_cycles[i] as f64 / clock;
            (from, from + duration_s, vec![from])
        };
        // Half a sample of slack: edges fall between samples.
        if let Some((first, last)) = span
            && (from < first - dt_s || to > last + dt_s)
        {
            return Err(PowerError::WindowNotCovered { start_us: from * 1e6, end_us: to * 1e6 });
        }
        let (joules, samples) = integrate(&stretches, from, to);
        per_inference_uj.push((joules - baseline_w * (to - from)) * 1e6);
        power_w.push(if to > from { joules / (to - from) } else { 0.0 });
        samples_per_window += samples / iterations as f64;

        // Layer windows.
        let cycles_of = timing.layer_cycles.get(i);
        let mut layer_from = from;
        for (g, &layer) in observed.iter().enumerate() {
            let layer_to = match layer_method {
                WindowMethod::MarkerEdges => bounds.get(g + 1).copied().unwrap_or(to),
                WindowMethod::DwtOffsets => {
                    layer_from + f64::from(cycles_of.and_then(|c| c.get(layer)).copied().unwrap_or(0)) / clock
                }
            };
            let (joules, samples) = integrate(&stretches, layer_from, layer_to);
            layer_uj[layer].push((joules - baseline_w * (layer_to - layer_from)) * 1e6);
            layer_samples[layer] += samples / iterations as f64;
            layer_from = layer_to;
        }
    }
    let loop_averaged = samples_per_window < MIN_SAMPLES_PER_WINDOW;
    let energy_uj = if loop_averaged {
        let mean = per_inference_uj.iter().sum::<f64>() / iterations.max(1) as f64;
        Spread { min: mean, median: mean, max: mean }
    } else {
        Spread::of(&per_inference_uj)
    };
    let average_power_w = Spread::of(&power_w).median;
    let median_duration_s =
        Spread::of(&timing.inferences.iter().map(|&(_, c)| f64::from(c) / clock).collect::<Vec<_>>()).median;
    // Placement: half a sample at each end; resolution over the window; the
    // baseline's own resolution over the window.
    let volts = if capture.current_a.is_empty() { 0.0 } else { capture.volts(0) };
    let uncertainty_uj = (dt_s * average_power_w
        + capture.resolution_a * volts * median_duration_s * if idle_power_w.is_some() { 2.0 } else { 1.0 })
        * 1e6;
    let layers = observed
        .iter()
        .map(|&l| LayerEnergy {
            index: l,
            energy_uj: Spread::of(&layer_uj[l]).median,
            method: layer_method,
            samples: layer_samples[l],
            modeled_exact_uj: None,
        })
        .collect();
    Ok(CaseEnergy {
        per_inference_uj,
        energy_uj,
        average_power_mw: average_power_w * 1e3,
        idle_power_mw: idle_power_w.map(|w| w * 1e3),
        uncertainty_uj,
        method: if by_edges { WindowMethod::MarkerEdges } else { WindowMethod::DwtOffsets },
        loop_averaged,
        layers,
        instrument: capture.instrument.clone(),
        provenance: capture.provenance,
        modeled_exact_uj: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{Voltage, Waveform};

    /// 100 kS/s: 1 mA idle for 5 ms, then 3 inferences of 2 ms at 10 mA
    /// (the first layer, 1 ms) and 20 mA (the second), 1 ms apart, at 2 V.
    fn waveform(marks_per_layer: bool) -> (Waveform, CaseTiming) {
        let dt = 10e-6;
        let mut current = Vec::new();
        let mut marker = Vec::new();
        let push = |current: &mut Vec<f64>, marker: &mut Vec<bool>, ms: f64, a: f64, m: bool| {
            for _ in 0..(ms * 1e-3 / dt).round() as usize {
                current.push(a);
                marker.push(m);
            }
        };
        push(&mut current, &mut marker, 5.0, 1e-3, false);
        let mut inferences = Vec::new();
        for i in 0..3u32 {
            push(&mut current, &mut marker, 1.0, 10e-3, true);
            push(&mut current, &mut marker, 1.0, 20e-3, !marks_per_layer);
            push(&mut current, &mut marker, 1.0, 1e-3, false);
            // 1 MHz clock: 1 cycle = 1 us.
            inferences.push((5000 + i * 3000, 2000));
        }
        let n = current.len();
        let timing = CaseTiming {
            clock_hz: 1_000_000,
            inferences,
            layer_cycles: vec![vec![1000, 1000]; 3],
            layer_marks: u16::from(marks_per_layer),
            marker_write_cycles: 1,
            idle_s: 5e-3,
        };
        (Waveform { interval_s: dt, current_a: current, voltage_v: vec![2.0; n], marker }, timing)
    }

    fn capture(w: &Waveform, marker: MarkerTrack) -> Capture {
        Capture {
            timebase: Timebase::Uniform { start_s: 0.0, interval_s: w.interval_s },
            sample_kind: SampleKind::Mean,
            current_a: w.current_a.clone(),
            voltage: Voltage::Constant { volts: 2.0 },
            marker,
            instrument: "test".into(),
            provenance: Provenance::Measured,
            resolution_a: 1e-6,
        }
    }

    #[test]
    fn windows_from_logic_edges_less_the_baseline() {
        let (w, timing) = waveform(false);
        let e = analyze(&capture(&w, MarkerTrack::Logic(w.marker.clone())), &timing, "hint").unwrap();
        // (10 mA + 20 mA) * 1 ms * 2 V = 60 uJ, less 1 mA * 2 ms * 2 V = 4 uJ of baseline.
        assert!((e.energy_uj.median - 56.0).abs() < 1e-9, "{e:?}");
        assert!((e.idle_power_mw.unwrap() - 2.0).abs() < 1e-9);
        assert!((e.average_power_mw - 30.0).abs() < 1e-9);
        assert_eq!(e.method, WindowMethod::MarkerEdges);
        // Without per-layer marks the layers come from the DWT cycles.
        assert_eq!(e.layers.len(), 2);
        assert!((e.layers[0].energy_uj - 18.0).abs() < 1e-9 && (e.layers[1].energy_uj - 38.0).abs() < 1e-9);
        assert_eq!(e.layers[0].method, WindowMethod::DwtOffsets);
        assert!(!e.loop_averaged);
    }

    #[test]
    fn per_layer_marks_give_layer_windows_from_the_edges() {
        let (w, timing) = waveform(true);
        let e = analyze(&capture(&w, MarkerTrack::Logic(w.marker.clone())), &timing, "hint").unwrap();
        assert_eq!(e.layers[0].method, WindowMethod::MarkerEdges);
        assert!((e.layers[0].energy_uj - 18.0).abs() < 1e-9, "{e:?}");
        assert!((e.layers[1].energy_uj - 38.0).abs() < 1e-9, "{e:?}");
        assert!((e.energy_uj.median - 56.0).abs() < 1e-9);
    }

    #[test]
    fn a_trigger_places_the_windows_with_the_dwt_timestamps() {
        let (w, timing) = waveform(false);
        let e = analyze(&capture(&w, MarkerTrack::Trigger { time_s: 5e-3 }), &timing, "hint").unwrap();
        assert!((e.energy_uj.median - 56.0).abs() < 1e-9, "{e:?}");
        assert_eq!(e.method, WindowMethod::DwtOffsets);
    }

    #[test]
    fn missing_edges_name_the_wiring() {
        let (w, timing) = waveform(false);
        let mut levels = w.marker.clone();
        // Up to 11.5 ms: rise, fall, rise, fall, rise.
        levels.truncate(1150);
        let err = analyze(&capture(&w, MarkerTrack::Logic(levels)), &timing, "D0 to the marker pin").unwrap_err();
        assert_eq!(
            err.to_string(),
            "test: saw 5 marker edges where 6 were expected; check the wiring: D0 to the marker pin"
        );
    }

    #[test]
    fn an_edge_before_the_idle_wait_is_not_the_first_inference() {
        let (w, timing) = waveform(false);
        let mut levels = w.marker.clone();
        // A pin settling at reset: high from 0.1 ms to 0.2 ms, inside the idle wait.
        levels[10..20].fill(true);
        let e = analyze(&capture(&w, MarkerTrack::Logic(levels)), &timing, "hint").unwrap();
        assert!((e.energy_uj.median - 56.0).abs() < 1e-9, "{e:?}");
        assert_eq!(e.per_inference_uj.len(), 3);
    }

    #[test]
    fn a_capture_that_ends_inside_an_inference_is_an_error_not_a_smaller_figure() {
        let (w, timing) = waveform(false);
        let mut c = capture(&w, MarkerTrack::Trigger { time_s: 5e-3 });
        // 12 ms: the third inference (11 .. 13 ms) is cut.
        c.current_a.truncate(1200);
        let err = analyze(&c, &timing, "hint").unwrap_err();
        assert!(matches!(err, PowerError::WindowNotCovered { .. }), "{err}");
    }

    #[test]
    fn dwt_offsets_survive_the_cycle_counter_wrapping_more_than_once() {
        let (w, mut timing) = waveform(false);
        // The same times at 1 THz: the three inferences span 8e9 cycles, so
        // CYCCNT (32 bits) wraps between each of them.
        timing.clock_hz = 1_000_000_000_000;
        for (i, (start, cycles)) in timing.inferences.iter_mut().enumerate() {
            *start = ((5_000_000_000u64 + i as u64 * 3_000_000_000) % (1 << 32)) as u32;
            *cycles = 2_000_000_000;
        }
        timing.layer_cycles = vec![vec![1_000_000_000, 1_000_000_000]; 3];
        let e = analyze(&capture(&w, MarkerTrack::Trigger { time_s: 5e-3 }), &timing, "hint").unwrap();
        assert!(e.per_inference_uj.iter().all(|x| (x - 56.0).abs() < 1e-6), "{e:?}");
    }

    #[test]
    fn a_slow_meter_is_loop_averaged() {
        let (w, timing) = waveform(false);
        // One conversion per 1 ms: two per inference.
        let times: Vec<f64> = (1..=(w.duration_s() * 1e3).round() as usize).map(|k| k as f64 * 1e-3).collect();
        let current: Vec<f64> = times.iter().map(|&t| w.mean_current_a(t - 1e-3, t)).collect();
        let mut c = capture(&w, MarkerTrack::Edges(w.marker_edges()));
        c.timebase = Timebase::Timestamps(times);
        c.sample_kind = SampleKind::Conversion { conversion_us: 1000 };
        c.current_a = current;
        let e = analyze(&c, &timing, "hint").unwrap();
        assert!(e.loop_averaged);
        assert_eq!(e.energy_uj.min, e.energy_uj.max);
        assert!((e.energy_uj.median - 56.0).abs() < 1.0, "{e:?}");
    }
}
