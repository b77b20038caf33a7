//! Two runs side by side, case by case (`tinybench compare`, the CI gate):
//! latency, energy, flash, RAM and accuracy of the baseline and of the
//! current run, the change, and whether it is a regression.
//!
//! The rules, in one place:
//! - Cases are matched by name. A case on one side only is listed, never
//!   dropped. A case that failed now but passed in the baseline is a
//!   regression, and so is an output that differs from the host's.
//! - Simulated and modeled figures (and flash, RAM, accuracy) are
//!   deterministic: they must match exactly unless a threshold is given.
//! - Measured figures (DWT cycles on a board, energy from an instrument)
//!   vary from run to run: the current median regresses only beyond the
//!   baseline's median + max(k·MAD, threshold), the MAD taken over the
//!   baseline's per-inference samples, so noise does not fail the gate.
//! - A simulated figure is never compared with a measured one; a note says so.
//! - Latency is the median cycles at each run's own clock, in µs, so a clock
//!   change shows. RAM is static RAM (data + bss) plus the painted stack
//!   peak: all the RAM the firmware needs, so moving a buffer from the
//!   stack to a static does not hide a growth.

mod junit;
mod thresholds;

use std::path::Path;

use tinybench_runner::{CaseFailure, CaseResult, RunResults};

use crate::table::{TableStyle, table};
use crate::thousands;

pub use thresholds::{Allowance, THRESHOLD_KEYS, ThresholdError, Thresholds};

/// The default k of the measured-figure rule (`--mad-k`). The MAD is not
/// scaled to a standard deviation: for Gaussian noise σ ≈ 1.48·MAD, so
/// 3·MAD ≈ 2σ of a single inference, and the median the current run is
/// judged by varies much less than a single inference does. Noise alone
/// then rarely crosses the bound, while a slowdown larger than a board's
/// inference-to-inference jitter does (3 is also the customary cut-off of
/// median/MAD outlier rules).
pub const DEFAULT_MAD_K: f64 = 3.0;

/// A figure the gate compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Metric {
    Latency,
    Energy,
    Flash,
    Ram,
    Accuracy,
}

impl Metric {
    pub const ALL: [Metric; 5] = [Metric::Latency, Metric::Energy, Metric::Flash, Metric::Ram, Metric::Accuracy];

    /// Its name, as in `--threshold`.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Latency => "latency",
            Metric::Energy => "energy",
            Metric::Flash => "flash",
            Metric::Ram => "ram",
            Metric::Accuracy => "accuracy",
        }
    }

    fn unit(self) -> &'static str {
        match self {
            Metric::Latency => "us",
            Metric::Energy => "uJ",
            Metric::Flash | Metric::Ram => "B",
            Metric::Accuracy => "%",
        }
    }

    fn format(self, value: f64) -> String {
        match self {
            Metric::Latency | Metric::Energy => decimal(value, 2),
            Metric::Flash | Metric::Ram => thousands(value as u64),
            Metric::Accuracy => format!("{value:.2}"),
        }
    }
}

/// `value` with `places` decimals and thousands separators.
fn decimal(value: f64, places: usize) -> String {
    let text = format!("{:.places$}", value.abs());
    let (whole, fraction) = text.split_once('.').map_or((text.as_str(), None), |(w, f)| (w, Some(f)));
    let sign = if value < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') { "-" } else { "" };
    let whole = whole.parse::<u64>().map_or_else(|_| whole.to_owned(), thousands);
    match fraction {
        Some(f) => format!("{sign}{whole}.{f}"),
        None => format!("{sign}{whole}"),
    }
}

/// How a figure's growth is judged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rule {
    /// A deterministic figure: it may grow by `allowed` (0: not at all).
    Threshold { allowed: f64 },
    /// A measured figure: it may grow by the larger of k·MAD of the
    /// baseline's samples and `allowed`.
    Spread { mad: f64, k: f64, allowed: f64 },
}

impl Rule {
    /// The largest growth that is not a regression, in the figure's unit.
    pub fn bound(self) -> f64 {
        match self {
            Rule::Threshold { allowed } => allowed,
            Rule::Spread { mad, k, allowed } => (k * mad).max(allowed),
        }
    }
}

/// One figure of one case on both sides.
#[derive(Debug, Clone, PartialEq)]
pub struct Delta {
    pub metric: Metric,
    pub baseline: f64,
    pub current: f64,
    pub rule: Rule,
    /// Where the figure comes from (`simulated`, `measured`, `modeled`, `build`, `host`).
    pub source: &'static str,
    /// More about the figures (cycles and clock for latency), or empty.
    pub context: String,
}

impl Delta {
    /// How much worse the current figure is (negative: better), in the
    /// figure's unit: accuracy gets worse going down, the others going up.
    pub fn worsening(&self) -> f64 {
        match self.metric {
            Metric::Accuracy => self.baseline - self.current,
            _ => self.current - self.baseline,
        }
    }

    pub fn regressed(&self) -> bool {
        self.worsening() > self.rule.bound()
    }

    fn change_pct(&self) -> Option<f64> {
        (self.baseline != 0.0).then(|| (self.current / self.baseline - 1.0) * 100.0)
    }

    /// The change: `+2.00%`, `+8 B`, `-0.50 points`.
    fn change(&self) -> String {
        match self.metric {
            Metric::Latency | Metric::Energy => match self.change_pct() {
                Some(pct) => format!("{pct:+.2}%"),
                None => format!("{:+.2} {}", self.current - self.baseline, self.metric.unit()),
            },
            Metric::Flash | Metric::Ram => {
                let bytes = self.current as i64 - self.baseline as i64;
                format!("{}{} B", if bytes < 0 { '-' } else { '+' }, thousands(bytes.unsigned_abs()))
            }
            Metric::Accuracy => format!("{:+.2} points", self.current - self.baseline),
        }
    }

    /// The table cell: `10,000.00 → 10,200.00 (+2.00%)`.
    fn cell(&self) -> String {
        let (b, n) = (self.metric.format(self.baseline), self.metric.format(self.current));
        match self.metric {
            Metric::Accuracy => format!("{b}% → {n}% ({})", self.change()),
            _ => format!("{b} → {n} ({})", self.change()),
        }
    }

    /// What the rule allowed, for a regression's description.
    fn limit(&self, thresholds: &Thresholds) -> String {
        let unit = self.metric.unit();
        let allowance = match self.metric {
            Metric::Latency => Some(thresholds.latency),
            Metric::Energy => Some(thresholds.energy),
            Metric::Flash => Some(thresholds.flash),
            Metric::Ram => Some(thresholds.ram),
            Metric::Accuracy => None,
        };
        let grow = |v: f64| match self.metric {
            Metric::Accuracy => format!("-{v} points"),
            _ => format!("+{} {unit}", self.metric.format(v)),
        };
        // The threshold as given, and what it allows here when that differs.
        let threshold = |allowed: f64| match allowance {
            Some(Allowance::Percent(pct)) => format!("{pct}% = {}", grow(allowed)),
            _ => grow(allowed),
        };
        match self.rule {
            Rule::Threshold { allowed: 0.0 } => format!("must match exactly ({})", self.source),
            Rule::Threshold { allowed } => format!("limit {} ({})", threshold(allowed), self.source),
            Rule::Spread { mad, k, allowed } => format!(
                "limit max({k}·MAD, threshold) = max({}, {}) ({}, MAD of the baseline's inferences {} {unit})",
                grow(k * mad),
                threshold(allowed),
                self.source,
                self.metric.format(mad)
            ),
        }
    }

    /// A regression's one-line description: the metric, its change, both
    /// figures and the limit crossed.
    fn describe(&self, thresholds: &Thresholds) -> String {
        let (b, n, unit) = (self.metric.format(self.baseline), self.metric.format(self.current), self.metric.unit());
        let figures = match self.metric {
            Metric::Accuracy => format!("{b}% → {n}%"),
            _ => format!("{b} → {n} {unit}"),
        };
        format!("{} {}: {figures}{}; {}", self.metric.name(), self.change(), self.context, self.limit(thresholds))
    }
}

/// What the two sides hold for a case.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// A result on both sides: its figures are compared.
    Compared,
    /// Passed in the baseline, failed now: a regression.
    FailedNow { kind: String, reason: String },
    /// Failed on both sides: nothing to compare.
    FailedInBoth { kind: String, reason: String },
    /// Failed in the baseline, passes now.
    Fixed,
    /// In the baseline only (removed, renamed, or not finished in this run).
    OnlyInBaseline,
    /// In this run only (new, or not finished in the baseline).
    OnlyInCurrent { failed: Option<String> },
}

/// One figure, check or failure of a case that regressed.
#[derive(Debug, Clone, PartialEq)]
pub struct Regression {
    pub case: String,
    /// The metric's name (`latency`, `energy`, `flash`, `ram`, `accuracy`),
    /// `output` (differs from the host's) or `failed`.
    pub check: &'static str,
    /// One line: the change, both figures and the limit crossed.
    pub detail: String,
}

/// One case on both sides.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseComparison {
    pub case: String,
    pub status: Status,
    /// The figures compared, in [`Metric::ALL`] order.
    pub deltas: Vec<Delta>,
    /// Figures present but not compared, with the table cell saying why.
    pub skipped: Vec<(Metric, String)>,
    pub regressions: Vec<Regression>,
}

impl CaseComparison {
    fn new(case: &str, status: Status) -> Self {
        CaseComparison {
            case: case.to_owned(),
            status,
            deltas: Vec::new(),
            skipped: Vec::new(),
            regressions: Vec::new(),
        }
    }

    fn regress(&mut self, check: &'static str, detail: String) {
        self.regressions.push(Regression { case: self.case.clone(), check, detail });
    }

    /// The status column: `ok`, `REGRESSED: latency, energy`, `only in baseline`, ...
    fn status_cell(&self) -> String {
        match &self.status {
            _ if !self.regressions.is_empty() && !matches!(self.status, Status::FailedNow { .. }) => {
                let checks: Vec<&str> = self.regressions.iter().map(|r| r.check).collect();
                format!("REGRESSED: {}", checks.join(", "))
            }
            Status::Compared => "ok".to_owned(),
            Status::FailedNow { kind, .. } => format!("REGRESSED: FAILED ({kind})"),
            Status::FailedInBoth { kind, .. } => format!("failed in both ({kind})"),
            Status::Fixed => "fixed (failed in baseline)".to_owned(),
            Status::OnlyInBaseline => "only in baseline".to_owned(),
            Status::OnlyInCurrent { failed: None } => "new (not in baseline)".to_owned(),
            Status::OnlyInCurrent { failed: Some(kind) } => format!("new, FAILED ({kind})"),
        }
    }

    fn row(&self) -> Vec<String> {
        let mut row = vec![self.case.clone(), self.status_cell()];
        for metric in Metric::ALL {
            let delta = self.deltas.iter().find(|d| d.metric == metric);
            let skipped = self.skipped.iter().find(|(m, _)| *m == metric);
            row.push(match (delta, skipped) {
                (Some(d), _) => d.cell(),
                (None, Some((_, why))) => why.clone(),
                (None, None) => "-".to_owned(),
            });
        }
        row
    }
}

/// A run as the comparison names it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunLabel {
    pub config: String,
    pub board: String,
    /// The revision the run was built from (its first result's), if any.
    pub revision: Option<String>,
}

impl RunLabel {
    fn of(results: &RunResults) -> Self {
        RunLabel {
            config: results.config.clone(),
            board: results.board.clone(),
            revision: results.results.first().map(|r| r.provenance.git_revision.clone()),
        }
    }

    fn describe(&self) -> String {
        let revision = self.revision.as_deref().map_or_else(String::new, |r| format!(", revision `{r}`"));
        format!("`{}` on `{}`{revision}", self.config, self.board)
    }
}

/// The comparison of two runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Every case of either run: the current run's order, then the
    /// baseline's cases this run does not have.
    pub cases: Vec<CaseComparison>,
    /// Facts the reader needs: figures of another provenance, changed
    /// kernels or clocks, incomplete runs, cases on one side only.
    pub notes: Vec<String>,
    pub thresholds: Thresholds,
    pub mad_k: f64,
    pub baseline: RunLabel,
    pub current: RunLabel,
}

fn is_measured_timing(r: &CaseResult) -> bool {
    r.provenance.timing.starts_with("measured")
}

/// The median of `samples` (0 for none).
fn median(samples: &[f64]) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// The median absolute deviation of `samples` from their median, unscaled
/// (see [`DEFAULT_MAD_K`]); 0 for fewer than two samples.
pub fn mad(samples: &[f64]) -> f64 {
    let m = median(samples);
    let deviations: Vec<f64> = samples.iter().map(|s| (s - m).abs()).collect();
    median(&deviations)
}

/// Every case name of a run, in its order (results and failures not in
/// `cases`, from an edited file, last).
fn case_names(run: &RunResults) -> Vec<String> {
    let mut names = run.cases.clone();
    for name in run.results.iter().map(|r| &r.case).chain(run.failures.iter().map(|f| &f.case)) {
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    names
}

enum Side<'a> {
    Result(&'a CaseResult),
    Failure(&'a CaseFailure),
    Absent,
}

fn side<'a>(run: &'a RunResults, case: &str) -> Side<'a> {
    if let Some(r) = run.results.iter().find(|r| r.case == case) {
        Side::Result(r)
    } else if let Some(f) = run.failures.iter().find(|f| f.case == case) {
        Side::Failure(f)
    } else {
        Side::Absent
    }
}

/// Compares `current` with `baseline`, matching cases by name; `mad_k` is
/// the k of the measured-figure rule ([`DEFAULT_MAD_K`]).
pub fn compare(baseline: &RunResults, current: &RunResults, thresholds: &Thresholds, mad_k: f64) -> Comparison {
    let mut names = case_names(current);
    for name in case_names(baseline) {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let mut notes = Vec::new();
    for (run, which) in [(baseline, "the baseline"), (current, "this run")] {
        if !run.missing.is_empty() {
            notes.push(format!(
                "{which} is incomplete: {} of {} cases did not finish ({})",
                run.missing.len(),
                run.cases.len(),
                run.missing.join(", ")
            ));
        }
    }
    let mut cases = Vec::new();
    for name in &names {
        let c = match (side(baseline, name), side(current, name)) {
            (Side::Result(b), Side::Result(n)) => compare_case(b, n, thresholds, mad_k, &mut notes),
            (Side::Result(_), Side::Failure(f)) => {
                let mut c = CaseComparison::new(
                    name,
                    Status::FailedNow { kind: f.kind.as_str().to_owned(), reason: f.reason() },
                );
                c.regress("failed", format!("failed ({}), passed in the baseline: {}", f.kind.as_str(), f.reason()));
                c
            }
            (Side::Failure(_), Side::Failure(f)) => {
                notes.push(format!("{name}: failed in the baseline too; now: {}", f.reason()));
                CaseComparison::new(name, Status::FailedInBoth { kind: f.kind.as_str().to_owned(), reason: f.reason() })
            }
            (Side::Failure(_), Side::Result(_)) => {
                notes.push(format!("{name}: failed in the baseline, passes now; no figures to compare"));
                CaseComparison::new(name, Status::Fixed)
            }
            (Side::Absent, Side::Result(_)) => {
                notes.push(format!("{name}: only in this run, not in the baseline"));
                CaseComparison::new(name, Status::OnlyInCurrent { failed: None })
            }
            (Side::Absent, Side::Failure(f)) => {
                notes.push(format!("{name}: only in this run, and failed: {}", f.reason()));
                CaseComparison::new(name, Status::OnlyInCurrent { failed: Some(f.kind.as_str().to_owned()) })
            }
            (Side::Result(_) | Side::Failure(_), Side::Absent) => {
                notes.push(format!("{name}: only in the baseline, not in this run"));
                CaseComparison::new(name, Status::OnlyInBaseline)
            }
            (Side::Absent, Side::Absent) => {
                notes.push(format!("{name}: finished on neither side"));
                continue;
            }
        };
        cases.push(c);
    }
    Comparison {
        cases,
        notes,
        thresholds: *thresholds,
        mad_k,
        baseline: RunLabel::of(baseline),
        current: RunLabel::of(current),
    }
}

/// The figures of a case with a result on both sides.
fn compare_case(
    base: &CaseResult,
    now: &CaseResult,
    thresholds: &Thresholds,
    mad_k: f64,
    notes: &mut Vec<String>,
) -> CaseComparison {
    let mut c = CaseComparison::new(&now.case, Status::Compared);
    let name = &now.case;
    // What changed besides the figures, so the reader knows why they moved.
    let mut changed = Vec::new();
    for (what, b, n) in [
        ("workload", &base.workload, &now.workload),
        ("shape", &base.shape, &now.shape),
        ("weights", &base.quantization, &now.quantization),
        ("kernels", &base.kernels, &now.kernels),
        ("board", &base.provenance.board, &now.provenance.board),
    ] {
        if b != n {
            changed.push(format!("{what} {b} → {n}"));
        }
    }
    if base.provenance.clock_hz != now.provenance.clock_hz {
        changed.push(format!(
            "clock {} → {} Hz",
            thousands(base.provenance.clock_hz),
            thousands(now.provenance.clock_hz)
        ));
    }
    if !changed.is_empty() {
        notes.push(format!("{name}: {}", changed.join(", ")));
    }

    // Latency: median cycles at each side's clock.
    let us = |cycles: f64, r: &CaseResult| cycles * 1e6 / r.provenance.clock_hz.max(1) as f64;
    let measured = (is_measured_timing(base), is_measured_timing(now));
    if measured.0 != measured.1 {
        notes.push(format!(
            "{name}: latency is {} in the baseline and {} now; a simulated figure is not compared with a measured one",
            base.provenance.timing, now.provenance.timing
        ));
        c.skipped.push((Metric::Latency, "not compared (simulated vs measured)".to_owned()));
    } else {
        let baseline = us(base.cycles.median, base);
        let allowed = thresholds.latency.of(baseline);
        let rule = if measured.0 {
            let samples: Vec<f64> = base.cycles_per_iteration.iter().map(|&c| us(f64::from(c), base)).collect();
            Rule::Spread { mad: mad(&samples), k: mad_k, allowed }
        } else {
            Rule::Threshold { allowed }
        };
        let clock = if base.provenance.clock_hz == now.provenance.clock_hz {
            String::new()
        } else {
            format!(
                " at {} → {} MHz",
                decimal(base.provenance.clock_hz as f64 / 1e6, 0),
                decimal(now.provenance.clock_hz as f64 / 1e6, 0)
            )
        };
        c.deltas.push(Delta {
            metric: Metric::Latency,
            baseline,
            current: us(now.cycles.median, now),
            rule,
            source: if measured.0 { "measured" } else { "simulated" },
            context: format!(
                " ({} → {} cycles{clock})",
                thousands(base.cycles.median as u64),
                thousands(now.cycles.median as u64)
            ),
        });
    }

    // Energy: median per inference, where both sides have it.
    match (&base.energy, &now.energy) {
        (Some(b), Some(n)) if b.provenance != n.provenance => {
            notes.push(format!(
                "{name}: energy is {} in the baseline and {} now; they are not compared",
                b.provenance.as_str(),
                n.provenance.as_str()
            ));
            c.skipped.push((
                Metric::Energy,
                format!("not compared ({} vs {})", b.provenance.as_str(), n.provenance.as_str()),
            ));
        }
        (Some(b), Some(n)) => {
            let allowed = thresholds.energy.of(b.energy_uj.median);
            let measured = b.provenance == tinybench_power::Provenance::Measured;
            let rule = if measured {
                Rule::Spread { mad: mad(&b.per_inference_uj), k: mad_k, allowed }
            } else {
                Rule::Threshold { allowed }
            };
            c.deltas.push(Delta {
                metric: Metric::Energy,
                baseline: b.energy_uj.median,
                current: n.energy_uj.median,
                rule,
                source: b.provenance.as_str(),
                context: String::new(),
            });
        }
        (Some(_), None) => {
            notes.push(format!("{name}: energy only in the baseline (no meter now)"));
            c.skipped.push((Metric::Energy, "only in baseline".to_owned()));
        }
        (None, Some(_)) => {
            notes.push(format!("{name}: energy only in this run (no meter in the baseline)"));
            c.skipped.push((Metric::Energy, "only now".to_owned()));
        }
        (None, None) => {}
    }

    // Memory: from the ELF and stack painting, deterministic on any target.
    let ram = |r: &CaseResult| (r.memory.static_ram_bytes + r.memory.stack_peak_bytes) as f64;
    for (metric, allowance, b, n) in [
        (Metric::Flash, thresholds.flash, base.memory.flash_bytes as f64, now.memory.flash_bytes as f64),
        (Metric::Ram, thresholds.ram, ram(base), ram(now)),
    ] {
        c.deltas.push(Delta {
            metric,
            baseline: b,
            current: n,
            rule: Rule::Threshold { allowed: allowance.of(b) },
            source: "build",
            context: String::new(),
        });
    }

    match (&base.accuracy, &now.accuracy) {
        (Some(b), Some(n)) => c.deltas.push(Delta {
            metric: Metric::Accuracy,
            baseline: b.host_pct,
            current: n.host_pct,
            rule: Rule::Threshold { allowed: thresholds.accuracy_points },
            source: "host",
            context: String::new(),
        }),
        (Some(_), None) => {
            notes.push(format!("{name}: accuracy only in the baseline"));
            c.skipped.push((Metric::Accuracy, "only in baseline".to_owned()));
        }
        (None, Some(_)) => {
            notes.push(format!("{name}: accuracy only in this run"));
            c.skipped.push((Metric::Accuracy, "only now".to_owned()));
        }
        (None, None) => {}
    }

    let regressed: Vec<(&'static str, String)> =
        c.deltas.iter().filter(|d| d.regressed()).map(|d| (d.metric.name(), d.describe(thresholds))).collect();
    for (check, detail) in regressed {
        c.regress(check, detail);
    }
    if !now.checksum_ok {
        c.regress(
            "output",
            format!(
                "output checksum {:#010x} differs from the host's {:#010x}",
                now.output_checksum, now.expected_checksum
            ),
        );
    }
    c
}

const HEADER: [&str; 7] = ["case", "status", "latency us", "energy uJ", "flash B", "RAM B", "accuracy"];

impl Comparison {
    /// Every regression, case by case.
    pub fn regressions(&self) -> impl Iterator<Item = &Regression> {
        self.cases.iter().flat_map(|c| c.regressions.iter())
    }

    pub fn has_regressions(&self) -> bool {
        self.regressions().next().is_some()
    }

    /// The cases that regressed.
    fn regressed_cases(&self) -> usize {
        self.cases.iter().filter(|c| !c.regressions.is_empty()).count()
    }

    /// The table of deltas, one row per case.
    pub fn table(&self, style: TableStyle) -> String {
        let header: Vec<String> = HEADER.map(str::to_owned).to_vec();
        table(style, &header, self.cases.iter().map(CaseComparison::row).collect(), &[2, 3, 4, 5, 6])
    }

    /// One line: the verdict.
    pub fn verdict(&self) -> String {
        let n = self.regressions().count();
        if n == 0 {
            format!("no regression beyond the thresholds in {} case(s)", self.cases.len())
        } else {
            format!(
                "{n} regression(s) beyond the thresholds in {} of {} case(s)",
                self.regressed_cases(),
                self.cases.len()
            )
        }
    }

    /// The rules applied, in words.
    fn rules(&self) -> String {
        format!(
            "thresholds {} (0: exact); measured figures may exceed the baseline's median by max({}·MAD of its \
             inferences, threshold)",
            self.thresholds, self.mad_k
        )
    }

    /// For the terminal: the table, the notes, the regressions, the verdict.
    pub fn render(&self) -> String {
        let mut text = self.table(TableStyle::Terminal);
        for note in &self.notes {
            text.push_str(&format!("note: {note}\n"));
        }
        for r in self.regressions() {
            text.push_str(&format!("REGRESSION {}: {}\n", r.case, r.detail));
        }
        text.push_str(&format!("rules: {}\n{}\n", self.rules(), self.verdict()));
        text
    }

    /// `compare.md`, for a pull-request comment: the verdict, the runs, the
    /// table, the regressions and the notes. `baseline` and `current` name
    /// the two runs (their paths as given).
    pub fn markdown(&self, baseline: &str, current: &str) -> String {
        let mut md = format!(
            "## tinybench compare: {}\n\n{}.\n\n",
            if self.has_regressions() { "FAILED" } else { "passed" },
            capitalized(&self.verdict())
        );
        md.push_str(&format!(
            "- Baseline: `{}`, {}.\n- This run: `{}`, {}.\n- Rules: {}.\n\n",
            markdown_code(baseline),
            self.baseline.describe(),
            markdown_code(current),
            self.current.describe(),
            self.rules()
        ));
        md.push_str(&self.table(TableStyle::Markdown));
        if self.has_regressions() {
            md.push_str("\n### Regressions\n\n");
            for r in self.regressions() {
                md.push_str(&format!("- `{}`: {}\n", markdown_code(&r.case), markdown_text(&r.detail)));
            }
        }
        if !self.notes.is_empty() {
            md.push_str("\n### Notes\n\n");
            for note in &self.notes {
                md.push_str(&format!("- {}\n", markdown_text(note)));
            }
        }
        md
    }

    /// JUnit XML: one test suite, one test case per case (see [`junit`]).
    pub fn junit(&self) -> String {
        junit::junit_xml(self, &self.suite_class())
    }

    /// The JUnit class of the cases: the current run's configuration (file
    /// stem), or its board.
    fn suite_class(&self) -> String {
        Path::new(&self.current.config)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| self.current.board.clone())
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| first.to_uppercase().chain(chars).collect())
}

/// Free text (a firmware's error message, a case name) shown as written in
/// Markdown, on one line: `<arena>` would otherwise vanish as an HTML tag
/// and `__x__` turn bold.
fn markdown_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// `text` safe inside a Markdown code span on one line.
fn markdown_code(text: &str) -> String {
    text.replace('`', "'").replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;
    use tinybench_power::Provenance as Source;
    use tinybench_runner::{CaseFailure, FailureKind};

    fn passing() -> RunResults {
        let mut run = fixtures::results();
        run.failures.clear();
        run.cases.retain(|c| c != "broken");
        run.finish(false);
        run
    }

    fn exact(base: &RunResults, now: &RunResults) -> Comparison {
        compare(base, now, &Thresholds::default(), DEFAULT_MAD_K)
    }

    fn checks(c: &Comparison) -> Vec<&'static str> {
        c.regressions().map(|r| r.check).collect()
    }

    #[test]
    fn an_unchanged_run_has_no_regression() {
        let base = passing();
        let c = exact(&base, &base);
        assert!(!c.has_regressions(), "{c:?}");
        assert!(c.notes.is_empty(), "{c:?}");
        assert_eq!(c.cases[0].deltas.len(), 5, "every metric compared: {c:?}");
        assert!(c.render().contains("no regression beyond the thresholds in 1 case(s)"), "{}", c.render());
    }

    #[test]
    fn simulated_figures_must_match_exactly_unless_a_threshold_is_given() {
        let base = passing();
        let mut now = base.clone();
        let r = &mut now.results[0];
        r.cycles.median += 1.0;
        r.memory.flash_bytes += 8;
        r.memory.stack_peak_bytes += 4;
        r.accuracy.as_mut().unwrap().host_pct -= 0.05;
        r.energy.as_mut().unwrap().energy_uj.median *= 1.03;
        let c = exact(&base, &now);
        assert_eq!(checks(&c), ["latency", "energy", "flash", "ram", "accuracy"], "{c:?}");
        let latency = &c.regressions().next().unwrap().detail;
        assert_eq!(
            latency,
            "latency +0.00%: 10,000.00 → 10,000.01 us (1,200,000 → 1,200,001 cycles); must match exactly (simulated)"
        );
        // Thresholds just above the changes let it pass; just below, not.
        let loose: Thresholds = "latency=0.001%,energy=3.01%,flash=8,ram=4,accuracy=0.051".parse().unwrap();
        assert!(!compare(&base, &now, &loose, DEFAULT_MAD_K).has_regressions());
        let tight: Thresholds = "latency=0.00005%,energy=2.9%,flash=7,ram=0.05%,accuracy=0.04".parse().unwrap();
        let c = compare(&base, &now, &tight, DEFAULT_MAD_K);
        assert_eq!(checks(&c), ["latency", "energy", "flash", "ram", "accuracy"], "{c:?}");
        // Better figures are never regressions.
        assert!(!exact(&now, &base).has_regressions());
    }

    #[test]
    fn latency_follows_the_clock() {
        let base = passing();
        let mut now = base.clone();
        // The same cycles at a slower clock take longer.
        now.results[0].provenance.clock_hz = 80_000_000;
        let c = exact(&base, &now);
        assert_eq!(checks(&c), ["latency"], "{c:?}");
        assert!(c.regressions().next().unwrap().detail.contains("at 120 → 80 MHz"), "{c:?}");
        assert!(c.notes.iter().any(|n| n.contains("clock 120,000,000 → 80,000,000 Hz")), "{c:?}");
    }

    /// A measured baseline whose inferences spread by `jitter` cycles
    /// around 1,200,000 (MAD = `jitter` at 120 MHz in cycles).
    fn measured(jitter: u32) -> RunResults {
        let mut run = passing();
        let r = &mut run.results[0];
        r.provenance.timing = "measured (DWT)".into();
        r.cycles_per_iteration =
            vec![1_200_000 - jitter, 1_200_000, 1_200_000 + jitter, 1_200_000 - jitter, 1_200_000 + jitter];
        r.cycles.median = 1_200_000.0;
        let e = r.energy.as_mut().unwrap();
        e.provenance = Source::Measured;
        e.per_inference_uj = vec![214.0, 216.0, 218.0];
        e.energy_uj.median = 216.0;
        run
    }

    #[test]
    fn measured_noise_within_k_mad_passes_and_beyond_fails() {
        let base = measured(100);
        assert_eq!(mad(&base.results[0].cycles_per_iteration.iter().map(|&c| f64::from(c)).collect::<Vec<_>>()), 100.0);
        let slower = |cycles: f64, energy_uj: f64| {
            let mut now = base.clone();
            now.results[0].cycles.median += cycles;
            now.results[0].energy.as_mut().unwrap().energy_uj.median += energy_uj;
            exact(&base, &now)
        };
        // Within 3·MAD (300 cycles, 6 uJ): noise.
        assert!(!slower(300.0, 6.0).has_regressions(), "{:?}", slower(300.0, 6.0));
        // Beyond it: regressions.
        let c = slower(301.0, 6.01);
        assert_eq!(checks(&c), ["latency", "energy"], "{c:?}");
        assert!(
            c.regressions()
                .next()
                .unwrap()
                .detail
                .contains("limit max(3·MAD, threshold) = max(+2.50 us, +0.00 us) (measured"),
            "{c:?}"
        );
        // k is configurable.
        let mut now = base.clone();
        now.results[0].cycles.median += 301.0;
        assert!(!compare(&base, &now, &Thresholds::default(), 4.0).has_regressions());
        // A threshold larger than k·MAD wins: 0.1% of 10,000 us = 1,200 cycles.
        let t: Thresholds = "latency=0.1%".parse().unwrap();
        now.results[0].cycles.median = 1_200_000.0 + 1_200.0;
        assert!(!compare(&base, &now, &t, DEFAULT_MAD_K).has_regressions());
        now.results[0].cycles.median += 1.0;
        assert_eq!(checks(&compare(&base, &now, &t, DEFAULT_MAD_K)), ["latency"]);
        // No jitter at all (a deterministic board): any slowdown is beyond the spread.
        let steady = measured(0);
        let mut now = steady.clone();
        now.results[0].cycles.median += 1.0;
        assert_eq!(checks(&exact(&steady, &now)), ["latency"]);
    }

    #[test]
    fn simulated_and_measured_figures_are_not_compared() {
        let base = passing();
        let mut now = base.clone();
        now.results[0].provenance.timing = "measured (DWT)".into();
        now.results[0].cycles.median *= 2.0;
        let e = now.results[0].energy.as_mut().unwrap();
        e.provenance = Source::Measured;
        e.energy_uj.median *= 2.0;
        let c = exact(&base, &now);
        assert!(!c.has_regressions(), "{c:?}");
        assert!(c.notes[0].contains("a simulated figure is not compared with a measured one"), "{c:?}");
        assert!(c.notes[1].contains("energy is modeled in the baseline and measured now"), "{c:?}");
        let row = c.cases[0].row();
        assert_eq!(row[2], "not compared (simulated vs measured)");
        assert_eq!(row[3], "not compared (modeled vs measured)");
    }

    #[test]
    fn cases_on_one_side_only_are_listed() {
        let base = passing();
        let mut now = base.clone();
        now.results[0].case = "renamed".into();
        now.cases = vec!["renamed".into()];
        let c = exact(&base, &now);
        assert!(!c.has_regressions(), "{c:?}");
        let statuses: Vec<(&str, &Status)> = c.cases.iter().map(|c| (c.case.as_str(), &c.status)).collect();
        assert_eq!(
            statuses,
            [("renamed", &Status::OnlyInCurrent { failed: None }), ("conv3x3-16x16x8-16", &Status::OnlyInBaseline)]
        );
        assert_eq!(
            c.notes,
            [
                "renamed: only in this run, not in the baseline",
                "conv3x3-16x16x8-16: only in the baseline, not in this run"
            ]
        );
        let table = c.render();
        assert!(table.contains("new (not in baseline)") && table.contains("only in baseline"), "{table}");
    }

    #[test]
    fn a_case_failed_now_that_passed_in_the_baseline_is_a_regression() {
        let base = passing();
        let mut now = fixtures::results();
        now.results.clear();
        now.failures.push(CaseFailure {
            case: "conv3x3-16x16x8-16".into(),
            kind: FailureKind::Benchmark,
            error: "firmware reported an error: kernel refused the shape\nmore".into(),
        });
        now.finish(false);
        let c = exact(&base, &now);
        let r: Vec<&Regression> = c.regressions().collect();
        assert_eq!(r.len(), 1, "{c:?}");
        assert_eq!(r[0].case, "conv3x3-16x16x8-16");
        assert_eq!(r[0].check, "failed");
        assert_eq!(
            r[0].detail,
            "failed (benchmark), passed in the baseline: firmware reported an error: kernel refused the shape"
        );
        // `broken` failed in this run only: listed, not a regression of the gate.
        assert!(c.notes.iter().any(|n| n.starts_with("broken: only in this run, and failed")), "{c:?}");
        // Failed on both sides: a note, not a regression; fixed: a note.
        let c = exact(&now, &now);
        assert!(!c.has_regressions(), "{c:?}");
        assert!(c.notes.iter().any(|n| n.starts_with("conv3x3-16x16x8-16: failed in the baseline too")), "{c:?}");
        let c = exact(&now, &base);
        assert!(!c.has_regressions(), "{c:?}");
        assert_eq!(c.cases[0].status, Status::Fixed);
    }

    #[test]
    fn an_output_that_differs_from_the_host_is_a_regression() {
        let base = passing();
        let mut now = base.clone();
        now.results[0].checksum_ok = false;
        now.results[0].output_checksum = 0xdead_beef;
        let c = exact(&base, &now);
        assert_eq!(checks(&c), ["output"]);
        assert_eq!(
            c.regressions().next().unwrap().detail,
            "output checksum 0xdeadbeef differs from the host's 0x12345678"
        );
    }

    #[test]
    fn mad_of_sample_sets() {
        assert_eq!(mad(&[]), 0.0);
        assert_eq!(mad(&[5.0]), 0.0);
        assert_eq!(mad(&[1.0, 2.0, 3.0, 4.0, 100.0]), 1.0);
        assert_eq!(mad(&[10.0, 10.0, 10.0, 13.0]), 0.0);
    }

    #[test]
    fn figures_are_formatted_with_thousands_separators() {
        assert_eq!(decimal(1234567.891, 2), "1,234,567.89");
        assert_eq!(decimal(0.004, 2), "0.00");
        assert_eq!(decimal(-1234.5, 1), "-1,234.5");
        assert_eq!(decimal(480.0, 0), "480");
        let flash = Delta {
            metric: Metric::Flash,
            baseline: 26_476.0,
            current: 23_492.0,
            rule: Rule::Threshold { allowed: 0.0 },
            source: "build",
            context: String::new(),
        };
        assert_eq!(flash.cell(), "26,476 → 23,492 (-2,984 B)");
    }

    /// A fixed comparison with one of everything: a latency and an energy
    /// regression, a case failed now, one failed in both, one only in each
    /// run, and a case within its thresholds.
    pub(super) fn fixed_comparison() -> Comparison {
        let conv = fixtures::result();
        let named = |name: &str| {
            let mut r = conv.clone();
            r.case = name.into();
            r
        };
        let failure =
            |case: &str, kind: FailureKind, error: &str| CaseFailure { case: case.into(), kind, error: error.into() };
        let cases = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        let mut base = RunResults::new(
            "configs/sim-m4.toml".into(),
            "sim-m4".into(),
            cases(&["conv3x3-16x16x8-16", "steady", "flaky", "broken", "retired"]),
        );
        base.results = vec![conv.clone(), named("steady"), named("flaky"), named("retired")];
        base.failures = vec![failure("broken", FailureKind::Target, "simulation stopped: undefined instruction")];
        base.finish(false);

        let mut now = RunResults::new(
            "configs/sim-m4.toml".into(),
            "sim-m4".into(),
            cases(&["conv3x3-16x16x8-16", "steady", "flaky", "broken", "added"]),
        );
        let mut slower = conv.clone();
        slower.kernels = "fused".into();
        slower.cycles.median = 1_260_000.0;
        slower.energy.as_mut().unwrap().energy_uj.median = 230.0;
        slower.memory.flash_bytes -= 64;
        let mut steady = named("steady");
        steady.memory.flash_bytes += 16;
        steady.energy.as_mut().unwrap().energy_uj.median = 220.0;
        now.results = vec![slower, steady, named("added")];
        now.failures = vec![
            failure("flaky", FailureKind::Benchmark, "firmware reported an error: <arena> & \"stack\" overflow"),
            failure("broken", FailureKind::Target, "simulation stopped: undefined instruction"),
        ];
        now.finish(false);
        let thresholds: Thresholds = "energy=5%,flash=16".parse().unwrap();
        compare(&base, &now, &thresholds, DEFAULT_MAD_K)
    }

    #[test]
    fn compare_md_snapshot() {
        insta::assert_snapshot!(
            fixed_comparison().markdown("reports/baselines/sim-m4", "reports/sim-m4-2026-11-28T00:00:00.000Z")
        );
    }

    /// Here rather than in `junit`, so its snapshot lives in `src/snapshots`
    /// with the others (insta files them by source folder).
    #[test]
    fn junit_snapshot() {
        insta::assert_snapshot!(fixed_comparison().junit());
    }

    #[test]
    fn terminal_snapshot() {
        insta::assert_snapshot!(fixed_comparison().render());
    }
}
