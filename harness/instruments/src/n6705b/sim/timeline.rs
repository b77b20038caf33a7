//! What the simulated channel 1 sees over instrument time: the waveforms
//! played so far, each starting at the instant it was played, with 0 A, the
//! last voltage and a low marker between and after them.

use std::sync::Arc;

use tinybench_power::Waveform;

/// A played waveform with its lengths made consistent.
#[derive(Debug)]
struct Segment {
    /// Instrument time of its sample 0, in seconds.
    start_s: f64,
    interval_s: f64,
    current_a: Vec<f64>,
    voltage_v: Vec<f64>,
    marker: Vec<bool>,
}

impl Segment {
    fn from_waveform(start_s: f64, waveform: &Waveform) -> Segment {
        let usable = waveform.interval_s.is_finite() && waveform.interval_s > 0.0;
        let n = if usable { waveform.current_a.len() } else { 0 };
        let current_a = waveform.current_a[..n].to_vec();
        // Missing voltages hold the last one given; a missing marker is low.
        let mut voltage_v: Vec<f64> = waveform.voltage_v.iter().copied().take(n).collect();
        let last_v = voltage_v.last().copied().unwrap_or(0.0);
        voltage_v.resize(n, last_v);
        let mut marker: Vec<bool> = waveform.marker.iter().copied().take(n).collect();
        marker.resize(n, false);
        Segment { start_s, interval_s: if usable { waveform.interval_s } else { 1.0 }, current_a, voltage_v, marker }
    }

    fn natural_end_s(&self) -> f64 {
        self.start_s + self.interval_s * self.current_a.len() as f64
    }
}

/// The integrals of current and voltage over a time span (ampere-seconds
/// and volt-seconds); divide by the span for the means.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Integral {
    pub current_as: f64,
    pub voltage_vs: f64,
}

#[derive(Debug, Default)]
pub(crate) struct Timeline {
    /// Ordered by start; each is cut off where the next one starts.
    segments: Vec<Arc<Segment>>,
    /// What dropped history left behind: where it ended, the marker level
    /// and the voltage there.
    history_end_s: Option<f64>,
    history_level: bool,
    history_volts: f64,
}

impl Timeline {
    /// Adds `waveform` starting at instrument time `start_s` (not earlier
    /// than any earlier play).
    pub(crate) fn play(&mut self, start_s: f64, waveform: &Waveform) {
        self.segments.retain(|s| s.start_s < start_s);
        self.segments.push(Arc::new(Segment::from_waveform(start_s, waveform)));
    }

    /// Until when the played waveforms say what happens (the end of the
    /// last one).
    pub(crate) fn known_until_s(&self) -> f64 {
        self.segments.last().map_or(f64::NEG_INFINITY, |s| s.natural_end_s())
    }

    fn effective_end_s(&self, index: usize) -> f64 {
        let natural = self.segments[index].natural_end_s();
        self.segments.get(index + 1).map_or(natural, |next| natural.min(next.start_s))
    }

    /// Samples of segment `index` that start before its effective end.
    fn effective_len(&self, index: usize) -> usize {
        let s = &self.segments[index];
        let span = self.effective_end_s(index) - s.start_s;
        ((span / s.interval_s).ceil().max(0.0) as usize).min(s.current_a.len())
    }

    /// The voltage in the gap that follows segment `index` (or precedes the
    /// first one when `index` is `None`): the last voltage seen.
    fn gap_volts(&self, index: Option<usize>) -> f64 {
        match index {
            None => self.history_volts,
            Some(i) => self.segments[i]
                .voltage_v
                .last()
                .copied()
                .unwrap_or_else(|| if i == 0 { self.history_volts } else { self.gap_volts(Some(i - 1)) }),
        }
    }

    /// Current and voltage integrated over `from_s .. to_s`.
    pub(crate) fn integrate(&self, from_s: f64, to_s: f64) -> Integral {
        let mut total = Integral::default();
        if to_s <= from_s {
            return total;
        }
        // Walk the pieces: gap before segment 0, segment 0, gap, segment 1...
        let mut cursor = from_s;
        for index in 0..self.segments.len() {
            if cursor >= to_s {
                break;
            }
            let seg = &self.segments[index];
            let end = self.effective_end_s(index);
            if end <= cursor {
                continue;
            }
            // The gap before this segment.
            if seg.start_s > cursor {
                let gap_end = seg.start_s.min(to_s);
                let previous = index.checked_sub(1);
                total.voltage_vs += self.gap_volts(previous) * (gap_end - cursor);
                cursor = gap_end;
                if cursor >= to_s {
                    break;
                }
            }
            let piece_end = end.min(to_s);
            if piece_end > cursor {
                let (a_rel, b_rel) = (cursor - seg.start_s, piece_end - seg.start_s);
                let first = (a_rel / seg.interval_s).floor().max(0.0) as usize;
                let last = ((b_rel / seg.interval_s).ceil().max(0.0) as usize).min(seg.current_a.len());
                for k in first..last {
                    let s0 = k as f64 * seg.interval_s;
                    let overlap = ((s0 + seg.interval_s).min(b_rel) - s0.max(a_rel)).max(0.0);
                    total.current_as += seg.current_a[k] * overlap;
                    total.voltage_vs += seg.voltage_v[k] * overlap;
                }
                cursor = piece_end;
            }
        }
        if cursor < to_s {
            let last = self.segments.len().checked_sub(1);
            total.voltage_vs += self.gap_volts(last) * (to_s - cursor);
        }
        total
    }

    /// The marker level just before segment `index` starts.
    fn level_entering(&self, index: usize) -> bool {
        let start = self.segments[index].start_s;
        match index.checked_sub(1) {
            None => self.history_end_s == Some(start) && self.history_level,
            Some(prev) => {
                let seg = &self.segments[prev];
                // Cut off by this one: its level at the cut; else it ended first.
                if seg.natural_end_s() > start {
                    let n = self.effective_len(prev);
                    n > 0 && seg.marker[n - 1]
                } else {
                    false
                }
            }
        }
    }

    /// The first marker edge to `rising` (true) or falling (false) level at
    /// or after `from_s`, in instrument time.
    pub(crate) fn first_edge_s(&self, from_s: f64, rising: bool) -> Option<f64> {
        for index in 0..self.segments.len() {
            let seg = &self.segments[index];
            let end = self.effective_end_s(index);
            if end < from_s {
                continue;
            }
            let n = self.effective_len(index);
            let first = ((from_s - seg.start_s) / seg.interval_s).floor().max(0.0) as usize;
            let mut level = if first == 0 { self.level_entering(index) } else { seg.marker[first - 1] };
            for k in first..n {
                let high = seg.marker[k];
                if high != level {
                    let t = seg.start_s + k as f64 * seg.interval_s;
                    if high == rising && t >= from_s {
                        return Some(t);
                    }
                    level = high;
                }
            }
            // It ends without being cut off: the marker drops to low.
            let cut = self.segments.get(index + 1).is_some_and(|next| next.start_s <= seg.natural_end_s());
            if !cut && level && !rising && seg.natural_end_s() >= from_s {
                return Some(seg.natural_end_s());
            }
        }
        None
    }

    /// The marker level at `t_s`.
    pub(crate) fn level_at(&self, t_s: f64) -> bool {
        for index in (0..self.segments.len()).rev() {
            let seg = &self.segments[index];
            if seg.start_s <= t_s {
                if t_s >= self.effective_end_s(index) {
                    return false;
                }
                let k = ((t_s - seg.start_s) / seg.interval_s) as usize;
                return seg.marker.get(k).copied().unwrap_or(false);
            }
        }
        false
    }

    /// Forgets segments that end at or before `before_s` (nothing that may
    /// still be measured reaches back that far), keeping their voltage and
    /// marker level for what follows.
    pub(crate) fn prune(&mut self, before_s: f64) {
        while !self.segments.is_empty() && self.effective_end_s(0) <= before_s {
            let n = self.effective_len(0);
            let end = self.effective_end_s(0);
            let seg = &self.segments[0];
            let cut = self.segments.get(1).is_some_and(|next| next.start_s < seg.natural_end_s());
            self.history_volts = if n > 0 { seg.voltage_v[n - 1] } else { self.history_volts };
            self.history_level = cut && n > 0 && seg.marker[n - 1];
            self.history_end_s = Some(end);
            self.segments.remove(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wave(interval_s: f64, current_ma: &[f64], marker: &[u8]) -> Waveform {
        Waveform {
            interval_s,
            current_a: current_ma.iter().map(|c| c * 1e-3).collect(),
            voltage_v: vec![3.0; current_ma.len()],
            marker: marker.iter().map(|&m| m != 0).collect(),
        }
    }

    #[test]
    fn integrates_played_samples_and_gaps() {
        let mut t = Timeline::default();
        // Nothing played: 0 A at 0 V.
        assert_eq!(t.integrate(0.0, 1.0), Integral::default());
        t.play(10.0, &wave(1e-3, &[1.0, 2.0, 3.0], &[0, 0, 0]));
        // 9.9995 .. 10.0025: half a ms of gap (0 V), 1 ms of 1 mA, 1 ms of 2 mA, half of 3 mA.
        let i = t.integrate(9.9995, 10.0025);
        assert!((i.current_as - (1e-6 + 2e-6 + 1.5e-6)).abs() < 1e-15, "{i:?}");
        assert!((i.voltage_vs - 3.0 * 2.5e-3).abs() < 1e-12, "{i:?}");
        // After the end: 0 A at the last voltage.
        let after = t.integrate(11.0, 12.0);
        assert_eq!(after.current_as, 0.0);
        assert!((after.voltage_vs - 3.0).abs() < 1e-12);
    }

    #[test]
    fn a_later_play_cuts_the_earlier_one_off() {
        // Binary fractions of a second keep the edge times exact.
        let mut t = Timeline::default();
        t.play(0.0, &wave(0.25, &[5.0; 10], &[1; 10]));
        t.play(1.0, &wave(0.25, &[1.0; 2], &[0, 1]));
        let i = t.integrate(0.0, 1.5);
        assert!((i.current_as - (4.0 * 0.25 * 5e-3 + 2.0 * 0.25 * 1e-3)).abs() < 1e-15);
        // Rising at 0, falling at the cut (1 s), rising again at 1.25 s,
        // falling at the end (1.5 s).
        assert_eq!(t.first_edge_s(0.0, true), Some(0.0));
        assert_eq!(t.first_edge_s(0.0, false), Some(1.0));
        assert_eq!(t.first_edge_s(1.1, true), Some(1.25));
        assert_eq!(t.first_edge_s(1.3, false), Some(1.5));
        assert_eq!(t.first_edge_s(1.3, true), None);
        assert!(t.level_at(0.9) && !t.level_at(1.1) && t.level_at(1.3) && !t.level_at(1.6));
    }

    #[test]
    fn pruning_keeps_what_follows() {
        let mut t = Timeline::default();
        t.play(0.0, &wave(0.25, &[5.0; 2], &[0, 1]));
        t.play(0.375, &wave(0.25, &[1.0; 2], &[1, 0]));
        t.prune(0.4);
        // The first waveform is gone; the marker was high at the cut, so the
        // second one starts without a rising edge.
        assert_eq!(t.first_edge_s(0.0, true), None);
        assert_eq!(t.first_edge_s(0.0, false), Some(0.625));
        let after = t.integrate(1.0, 2.0);
        assert!((after.voltage_vs - 3.0).abs() < 1e-12);
    }
}
