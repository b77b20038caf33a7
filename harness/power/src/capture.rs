//! What meters record and what instrument simulators serve.
//!
//! A [`Capture`] is one case's current record as an instrument delivered it:
//! samples on a time base, the supply voltage, and what the instrument saw
//! of the firmware's marker pin. [`crate::analysis`] turns it into energy per
//! inference and per layer, the same way for every instrument.
//!
//! A [`Waveform`] is what an instrument *simulator* measures: current (and
//! voltage) at a fixed interval with the marker's level, from a file or from
//! the simulated board's modeled trace.

use crate::Provenance;

/// When each sample was taken, in seconds on the capture's own clock.
#[derive(Debug, Clone, PartialEq)]
pub enum Timebase {
    /// Sample `k` covers `start_s + k * interval_s ..+ interval_s`.
    Uniform { start_s: f64, interval_s: f64 },
    /// One time per sample, increasing (a host polling a slow converter).
    Timestamps(Vec<f64>),
}

/// What a sample value stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleKind {
    /// The mean over its interval (a digitizer, the PPK2's averaged samples).
    Mean,
    /// A conversion ending at its timestamp, averaged over `conversion_s`
    /// before it (the INA219).
    Conversion { conversion_us: u32 },
}

/// The supply voltage over the capture.
#[derive(Debug, Clone, PartialEq)]
pub enum Voltage {
    /// Set, not measured (the PPK2's source mode, a fixed supply).
    Constant { volts: f64 },
    /// Measured with each current sample.
    Samples(Vec<f64>),
}

/// One change of the marker pin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MarkerEdge {
    pub time_s: f64,
    pub high: bool,
}

/// What the instrument saw of the marker pin.
#[derive(Debug, Clone, PartialEq)]
pub enum MarkerTrack {
    /// Its level with every sample (the PPK2's logic input D0).
    Logic(Vec<bool>),
    /// Its edges with their times (a GPIO line with timestamps; the
    /// simulator's modeled trace).
    Edges(Vec<MarkerEdge>),
    /// The capture was triggered by its first rising edge at `time_s`; later
    /// edges were not recorded (a digitizer's trigger input). Windows then
    /// come from the firmware's DWT timestamps.
    Trigger { time_s: f64 },
}

/// One case's record from a meter.
#[derive(Debug, Clone, PartialEq)]
pub struct Capture {
    pub timebase: Timebase,
    pub sample_kind: SampleKind,
    pub current_a: Vec<f64>,
    pub voltage: Voltage,
    pub marker: MarkerTrack,
    /// The instrument as it named itself (e.g. the `*IDN?` answer), or the model.
    pub instrument: String,
    pub provenance: Provenance,
    /// The smallest current step the instrument resolves, in amperes (for
    /// the uncertainty of each figure).
    pub resolution_a: f64,
}

impl Capture {
    /// Time of sample `k`: its start for a uniform time base, its timestamp otherwise.
    pub fn time_s(&self, k: usize) -> f64 {
        match &self.timebase {
            Timebase::Uniform { start_s, interval_s } => start_s + k as f64 * interval_s,
            Timebase::Timestamps(t) => t[k],
        }
    }

    /// The supply voltage at sample `k`.
    pub fn volts(&self, k: usize) -> f64 {
        match &self.voltage {
            Voltage::Constant { volts } => *volts,
            Voltage::Samples(v) => v[k],
        }
    }
}

/// What an instrument simulator serves: samples at a fixed interval from
/// time 0, with the marker's level at each.
#[derive(Debug, Clone, PartialEq)]
pub struct Waveform {
    pub interval_s: f64,
    pub current_a: Vec<f64>,
    /// Supply voltage per sample (same length as `current_a`).
    pub voltage_v: Vec<f64>,
    /// Marker level per sample (same length as `current_a`).
    pub marker: Vec<bool>,
}

impl Waveform {
    /// Duration covered, in seconds.
    pub fn duration_s(&self) -> f64 {
        self.interval_s * self.current_a.len() as f64
    }

    /// Mean current over `from_s ..= to_s` (each sample holding its value for
    /// its interval; partial samples by their overlap). Outside the waveform
    /// the current is 0.
    pub fn mean_current_a(&self, from_s: f64, to_s: f64) -> f64 {
        self.mean_of(&self.current_a, from_s, to_s)
    }

    /// Mean voltage over `from_s ..= to_s`, like [`Waveform::mean_current_a`].
    pub fn mean_voltage_v(&self, from_s: f64, to_s: f64) -> f64 {
        self.mean_of(&self.voltage_v, from_s, to_s)
    }

    fn mean_of(&self, values: &[f64], from_s: f64, to_s: f64) -> f64 {
        if to_s <= from_s || self.interval_s <= 0.0 {
            let k = (from_s / self.interval_s).floor();
            return if k >= 0.0 { values.get(k as usize).copied().unwrap_or(0.0) } else { 0.0 };
        }
        let first = (from_s / self.interval_s).floor().max(0.0) as usize;
        let last = ((to_s / self.interval_s).ceil().max(0.0) as usize).min(values.len());
        let mut sum = 0.0;
        for (k, value) in values.iter().enumerate().take(last).skip(first) {
            let (s0, s1) = (k as f64 * self.interval_s, (k + 1) as f64 * self.interval_s);
            sum += value * (s1.min(to_s) - s0.max(from_s)).max(0.0);
        }
        sum / (to_s - from_s)
    }

    /// The marker level at time `t_s` (low outside the waveform).
    pub fn marker_at(&self, t_s: f64) -> bool {
        if t_s < 0.0 {
            return false;
        }
        self.marker.get((t_s / self.interval_s) as usize).copied().unwrap_or(false)
    }

    /// Times of the marker's edges: (time of the first sample at the new level, new level).
    pub fn marker_edges(&self) -> Vec<MarkerEdge> {
        let mut edges = Vec::new();
        let mut level = false;
        for (k, &high) in self.marker.iter().enumerate() {
            if high != level {
                edges.push(MarkerEdge { time_s: k as f64 * self.interval_s, high });
                level = high;
            }
        }
        edges
    }

    /// Reads a waveform from CSV with the header `time_s,current_a,voltage_v,marker`
    /// (`marker` is 0 or 1; a run saves each case's trace as `trace.parquet`,
    /// see [`Waveform::from_rows`]). Time
    /// starts at the first row. Rows closer to evenly spaced than 1% are taken
    /// as they are; others (an INA219's conversions, the modeled trace's
    /// stretches) are resampled at their median spacing, each sample holding
    /// the last row's values.
    pub fn from_csv(text: &str) -> Result<Waveform, String> {
        const HEADER: &str = "time_s,current_a,voltage_v,marker";
        let mut lines = text.lines().enumerate();
        match lines.next() {
            Some((_, header)) if header.trim() == HEADER => {}
            _ => return Err(format!("the first line must be the header `{HEADER}`")),
        }
        let mut rows: Vec<(f64, f64, f64, bool)> = Vec::new();
        for (index, line) in lines {
            if line.trim().is_empty() {
                continue;
            }
            let at = || format!("line {}", index + 1);
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            let [t, a, v, m] = fields[..] else {
                return Err(format!("{}: {} fields where 4 were expected", at(), fields.len()));
            };
            let number = |text: &str, what: &str| {
                text.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| format!("{}: {what} `{text}` is not a number", at()))
            };
            let (t, a, v) = (number(t, "time_s")?, number(a, "current_a")?, number(v, "voltage_v")?);
            let marker = match m {
                "0" => false,
                "1" => true,
                _ => return Err(format!("{}: marker `{m}` is neither 0 nor 1", at())),
            };
            if rows.last().is_some_and(|last| t <= last.0) {
                return Err(format!("{}: time {t} s does not follow the row before", at()));
            }
            rows.push((t, a, v, marker));
        }
        Waveform::from_rows(&rows)
    }

    /// A waveform from rows of (time s, current A, voltage V, marker level)
    /// with increasing times, as a run's `trace.parquet` holds them: rows
    /// closer to evenly spaced than 1% are taken as they are, others are
    /// resampled as [`Waveform::from_csv`] says.
    pub fn from_rows(rows: &[(f64, f64, f64, bool)]) -> Result<Waveform, String> {
        const MAX_SAMPLES: f64 = 50e6;
        if let Some(k) = (1..rows.len()).find(|&k| rows[k].0 <= rows[k - 1].0) {
            return Err(format!("row {}: time {} s does not follow the row before", k + 1, rows[k].0));
        }
        if rows.len() < 2 {
            return Err("a waveform needs at least two rows".to_owned());
        }
        let mut steps: Vec<f64> = rows.windows(2).map(|w| w[1].0 - w[0].0).collect();
        steps.sort_by(f64::total_cmp);
        let interval_s = steps[(steps.len() - 1) / 2];
        let t0 = rows[0].0;
        let even = steps.iter().all(|d| (d - interval_s).abs() <= 0.01 * interval_s);
        if even {
            return Ok(Waveform {
                interval_s,
                current_a: rows.iter().map(|r| r.1).collect(),
                voltage_v: rows.iter().map(|r| r.2).collect(),
                marker: rows.iter().map(|r| r.3).collect(),
            });
        }
        // Each row holds until the next; a new sample is the mean over its
        // interval (so a short spike keeps its charge), the marker its level
        // at the interval's middle.
        let n = ((rows[rows.len() - 1].0 - t0) / interval_s).floor() + 1.0;
        if n > MAX_SAMPLES {
            return Err(format!("resampled at {interval_s} s it would take {n} samples; give evenly spaced rows"));
        }
        let n = n as usize;
        let end_of = |k: usize| rows.get(k + 1).map_or(f64::INFINITY, |r| r.0);
        let mut w = Waveform {
            interval_s,
            current_a: Vec::with_capacity(n),
            voltage_v: Vec::with_capacity(n),
            marker: Vec::with_capacity(n),
        };
        let mut row = 0;
        for k in 0..n {
            let (g0, g1) = (t0 + k as f64 * interval_s, t0 + (k + 1) as f64 * interval_s);
            while end_of(row) <= g0 {
                row += 1;
            }
            let (mut a, mut v, mut r) = (0.0, 0.0, row);
            while r < rows.len() && rows[r].0 < g1 {
                let overlap = end_of(r).min(g1) - rows[r].0.max(g0);
                a += rows[r].1 * overlap;
                v += rows[r].2 * overlap;
                r += 1;
            }
            let middle = (g0 + g1) / 2.0;
            let level = rows[..r].iter().rev().find(|x| x.0 <= middle).map_or(rows[row].3, |x| x.3);
            w.current_a.push(a / interval_s);
            w.voltage_v.push(v / interval_s);
            w.marker.push(level);
        }
        Ok(w)
    }

    /// Exact energy over `from_s ..= to_s` in microjoules (V·I per sample,
    /// partial samples by their overlap).
    pub fn energy_uj(&self, from_s: f64, to_s: f64) -> f64 {
        let first = (from_s / self.interval_s).floor().max(0.0) as usize;
        let last = ((to_s / self.interval_s).ceil().max(0.0) as usize).min(self.current_a.len());
        let mut joules = 0.0;
        for k in first..last {
            let (s0, s1) = (k as f64 * self.interval_s, (k + 1) as f64 * self.interval_s);
            let overlap = (s1.min(to_s) - s0.max(from_s)).max(0.0);
            joules += self.current_a[k] * self.voltage_v[k] * overlap;
        }
        joules * 1e6
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps() -> Waveform {
        // 10 us samples: 1, 2, 3, 4 mA at 3 V; marker high on samples 1 and 2.
        Waveform {
            interval_s: 10e-6,
            current_a: vec![1e-3, 2e-3, 3e-3, 4e-3],
            voltage_v: vec![3.0; 4],
            marker: vec![false, true, true, false],
        }
    }

    #[test]
    fn csv_rows_evenly_spaced_are_taken_as_they_are() {
        let text = "time_s,current_a,voltage_v,marker\n0.5,0.001,3,0\n0.50001,0.002,3,1\n0.50002,0.003,3,1\n0.50003,0.004,3,0\n";
        let w = Waveform::from_csv(text).unwrap();
        assert!((w.interval_s - 10e-6).abs() < 1e-12);
        assert_eq!((w.current_a.clone(), w.marker.clone()), (steps().current_a, steps().marker));
    }

    #[test]
    fn uneven_csv_rows_are_resampled_holding_each_row() {
        // Rows at 0, 10, 30 us: resampled every 10 us, the 10 us row held at 20 us.
        let text = "time_s,current_a,voltage_v,marker\n0,1,3,0\n0.00001,2,3,1\n0.00003,4,3,0\n";
        let w = Waveform::from_csv(text).unwrap();
        let close = |got: &[f64], want: &[f64]| got.iter().zip(want).all(|(g, w)| (g - w).abs() < 1e-9);
        assert!(close(&w.current_a, &[1.0, 2.0, 2.0, 4.0]), "{:?}", w.current_a);
        assert_eq!(w.marker, [false, true, true, false]);
        // A 1 us spike of 100 between 5 us rows keeps its charge in its interval.
        let text = "time_s,current_a,voltage_v,marker\n0,1,3,0\n0.000005,100,3,0\n0.000006,1,3,0\n0.00001,1,3,0\n0.000015,1,3,0\n0.00002,1,3,0\n";
        let w = Waveform::from_csv(text).unwrap();
        assert!((w.interval_s - 5e-6).abs() < 1e-12);
        assert!(close(&w.current_a, &[1.0, 20.8, 1.0, 1.0, 1.0]), "{:?}", w.current_a);
    }

    #[test]
    fn malformed_csv_is_refused_with_the_line() {
        let header = "time_s,current_a,voltage_v,marker\n";
        for (body, error) in [
            ("0,1,3,0\n", "at least two rows"),
            ("0,1,3,0\n0,1,3,0\n", "line 3: time 0 s does not follow"),
            ("0,1,3,0\n1,x,3,0\n", "line 3: current_a `x` is not a number"),
            ("0,1,3,2\n", "line 2: marker `2` is neither 0 nor 1"),
            ("0,1,3\n", "line 2: 3 fields where 4 were expected"),
        ] {
            let e = Waveform::from_csv(&format!("{header}{body}")).unwrap_err();
            assert!(e.contains(error), "{body}: {e}");
        }
        assert!(Waveform::from_csv("t,i\n").unwrap_err().contains("header"));
    }

    #[test]
    fn means_and_energy_count_partial_samples_by_overlap() {
        let w = steps();
        // 5 us .. 25 us: half of 1 mA, all of 2 mA, half of 3 mA over 20 us = 2 mA.
        assert!((w.mean_current_a(5e-6, 25e-6) - 2e-3).abs() < 1e-15);
        // 3 V * 2 mA * 20 us = 0.12 uJ.
        assert!((w.energy_uj(5e-6, 25e-6) - 0.12).abs() < 1e-12);
        assert_eq!(w.duration_s(), 40e-6);
    }

    #[test]
    fn marker_edges_and_levels() {
        let w = steps();
        let edges = w.marker_edges();
        assert_eq!(edges.iter().map(|e| e.high).collect::<Vec<_>>(), [true, false]);
        assert!((edges[0].time_s - 10e-6).abs() < 1e-15 && (edges[1].time_s - 30e-6).abs() < 1e-15, "{edges:?}");
        assert!(!w.marker_at(5e-6) && w.marker_at(15e-6) && !w.marker_at(35e-6) && !w.marker_at(-1.0));
    }
}
