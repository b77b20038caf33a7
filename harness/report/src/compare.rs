//! Two runs side by side, case by case (`tinybench compare`): cycles, energy,
//! flash and accuracy of the baseline and of the current run, the change, and
//! whether it is a regression beyond the thresholds (the CI gate).

use tinybench_runner::{CaseResult, RunResults};

use crate::table::{TableStyle, table};
use crate::thousands;

/// How much worse a figure may get before it counts as a regression.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Median cycles per inference, percent.
    pub cycles_pct: f64,
    /// Median energy per inference, percent (where both runs have energy).
    pub energy_pct: f64,
    /// Flash (text + rodata + data), bytes.
    pub flash_bytes: u64,
    /// Host accuracy, percentage points lost.
    pub accuracy_points: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds { cycles_pct: 1.0, energy_pct: 2.0, flash_bytes: 0, accuracy_points: 0.0 }
    }
}

/// One figure of one case that got worse beyond its threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Regression {
    pub case: String,
    pub what: String,
}

/// The comparison of two runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub rows: Vec<Vec<String>>,
    pub regressions: Vec<Regression>,
    /// Facts the reader needs (cases on one side only, figures of another
    /// provenance, failed cases).
    pub notes: Vec<String>,
}

fn change_pct(base: f64, now: f64) -> f64 {
    if base == 0.0 { 0.0 } else { (now / base - 1.0) * 100.0 }
}

fn energy_median(r: &CaseResult) -> Option<f64> {
    r.energy.as_ref().map(|e| e.energy_uj.median)
}

/// Compares `current` with `baseline`, matching cases by name.
pub fn compare(baseline: &RunResults, current: &RunResults, limits: &Thresholds) -> Comparison {
    let mut rows = Vec::new();
    let mut regressions = Vec::new();
    let mut notes = Vec::new();
    let mut regress = |case: &str, what: String| regressions.push(Regression { case: case.to_owned(), what });
    for now in &current.results {
        let Some(base) = baseline.results.iter().find(|b| b.case == now.case) else {
            notes.push(format!("{}: new, not in the baseline", now.case));
            continue;
        };
        if base.provenance.timing != now.provenance.timing {
            notes.push(format!(
                "{}: cycles are {} in the baseline and {} now; they are not comparable",
                now.case, base.provenance.timing, now.provenance.timing
            ));
            continue;
        }
        let cycles = change_pct(base.cycles.median, now.cycles.median);
        if cycles > limits.cycles_pct {
            regress(&now.case, format!("cycles +{cycles:.2}% (limit {}%)", limits.cycles_pct));
        }
        let energy = match (energy_median(base), energy_median(now)) {
            (Some(b), Some(n)) => {
                let same_kind = base.energy.as_ref().map(|e| e.provenance) == now.energy.as_ref().map(|e| e.provenance);
                let pct = change_pct(b, n);
                if same_kind && pct > limits.energy_pct {
                    regress(&now.case, format!("energy +{pct:.2}% (limit {}%)", limits.energy_pct));
                }
                if !same_kind {
                    notes.push(format!("{}: energy is modeled on one side and measured on the other", now.case));
                }
                format!("{b:.2} → {n:.2} ({pct:+.2}%)")
            }
            _ => "-".to_owned(),
        };
        let flash = now.memory.flash_bytes as i64 - base.memory.flash_bytes as i64;
        if flash > limits.flash_bytes as i64 {
            regress(&now.case, format!("flash +{flash} B (limit {} B)", limits.flash_bytes));
        }
        let accuracy = match (&base.accuracy, &now.accuracy) {
            (Some(b), Some(n)) => {
                let lost = b.host_pct - n.host_pct;
                if lost > limits.accuracy_points {
                    regress(&now.case, format!("accuracy -{lost:.2} points (limit {})", limits.accuracy_points));
                }
                format!("{:.2}% → {:.2}%", b.host_pct, n.host_pct)
            }
            _ => "-".to_owned(),
        };
        if !now.checksum_ok {
            regress(&now.case, "output differs from the host's".to_owned());
        }
        rows.push(vec![
            now.case.clone(),
            format!("{} → {}", thousands(base.cycles.median as u64), thousands(now.cycles.median as u64)),
            format!("{cycles:+.2}%"),
            energy,
            format!("{} → {} ({flash:+})", thousands(base.memory.flash_bytes), thousands(now.memory.flash_bytes)),
            accuracy,
        ]);
    }
    for failure in &current.failures {
        regress(&failure.case, format!("failed ({})", failure.kind.as_str()));
    }
    for base in &baseline.results {
        if !current.results.iter().any(|r| r.case == base.case) && !current.failures.iter().any(|f| f.case == base.case)
        {
            notes.push(format!("{}: in the baseline, not in this run", base.case));
        }
    }
    Comparison { rows, regressions, notes }
}

impl Comparison {
    /// The table, then the notes and the regressions, one per line.
    pub fn render(&self, style: TableStyle) -> String {
        let header: Vec<String> =
            ["case", "cycles (median)", "change", "energy uJ", "flash B", "accuracy"].map(str::to_owned).to_vec();
        let mut text = table(style, &header, self.rows.clone(), &[1, 2, 3, 4]);
        for note in &self.notes {
            text.push_str(&format!("note: {note}\n"));
        }
        for r in &self.regressions {
            text.push_str(&format!("REGRESSION {}: {}\n", r.case, r.what));
        }
        if self.regressions.is_empty() {
            text.push_str("no regression beyond the thresholds\n");
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    #[test]
    fn an_unchanged_run_has_no_regression() {
        let mut base = fixtures::results();
        base.failures.clear();
        let c = compare(&base, &base, &Thresholds::default());
        assert!(c.regressions.is_empty(), "{c:?}");
        assert!(c.render(TableStyle::Terminal).contains("no regression beyond the thresholds"));
    }

    #[test]
    fn each_figure_beyond_its_threshold_is_a_regression() {
        let mut base = fixtures::results();
        base.failures.clear();
        let mut now = base.clone();
        let r = &mut now.results[0];
        r.cycles.median *= 1.02;
        r.memory.flash_bytes += 8;
        if let Some(a) = r.accuracy.as_mut() {
            a.host_pct -= 0.5;
        }
        if let Some(e) = r.energy.as_mut() {
            e.energy_uj.median *= 1.03;
        }
        let c = compare(&base, &now, &Thresholds::default());
        let what: Vec<&str> = c.regressions.iter().map(|r| r.what.as_str()).collect();
        assert_eq!(
            what,
            [
                "cycles +2.00% (limit 1%)",
                "energy +3.00% (limit 2%)",
                "flash +8 B (limit 0 B)",
                "accuracy -0.50 points (limit 0)"
            ]
        );
        // Looser limits let the same run pass.
        let loose = Thresholds { cycles_pct: 5.0, energy_pct: 5.0, flash_bytes: 64, accuracy_points: 1.0 };
        assert!(compare(&base, &now, &loose).regressions.is_empty());
    }

    #[test]
    fn failures_and_cases_on_one_side_are_named() {
        let base = fixtures::results();
        let mut now = base.clone();
        now.results[0].case = "renamed".into();
        let c = compare(&base, &now, &Thresholds::default());
        assert_eq!(c.regressions.len(), 1, "{c:?}");
        assert!(c.regressions[0].what.starts_with("failed (target)"), "{c:?}");
        assert!(c.notes.iter().any(|n| n == "renamed: new, not in the baseline"), "{c:?}");
        assert!(c.notes.iter().any(|n| n == "conv3x3-16x16x8-16: in the baseline, not in this run"), "{c:?}");
    }

    #[test]
    fn simulated_and_measured_cycles_are_not_compared() {
        let base = fixtures::results();
        let mut now = base.clone();
        now.failures.clear();
        now.results[0].provenance.timing = "measured (DWT)".into();
        now.results[0].cycles.median *= 2.0;
        let c = compare(&base, &now, &Thresholds::default());
        assert!(c.regressions.is_empty(), "{c:?}");
        assert!(c.notes[0].contains("they are not comparable"), "{c:?}");
    }
}
