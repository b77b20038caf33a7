//! The run's plots, drawn with plotters: each as SVG (inlined in
//! `report.html`) and as PNG with DejaVu Sans embedded in the binary, so
//! rendering needs no system font.
//!
//! - `pareto-accuracy-weights`, `pareto-accuracy-flash`: accuracy against
//!   size with the Pareto front (smaller and more accurate) drawn and labeled;
//! - `latency-energy`: energy against latency per inference, front drawn;
//! - `layer-cycles`: each case's cycles stacked by layer, coloured by op;
//! - `kernel-ab`: cases that differ only in their kernel set, side by side,
//!   with the speed-up over the slowest;
//! - `trace-<case>`: a case's current trace with the marker's windows shaded.
//!
//! Axes carry units and the figures' provenance (simulated, modeled, measured).

use std::collections::BTreeMap;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use tinybench_runner::{CaseResult, RunResults};

use crate::ReportError;

const WIDTH: u32 = 880;
const HEIGHT: u32 = 520;
const FONT: &str = "sans-serif";

/// DejaVu Sans (Bitstream Vera license, `fonts/LICENSE-DejaVu.txt`).
static DEJAVU_SANS: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid font (a test draws with it); a failure here
        // would surface as a missing-font error when drawing.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, DEJAVU_SANS);
    });
}

/// One plot of a run, in both formats.
#[derive(Debug, Clone, PartialEq)]
pub struct Plot {
    /// File stem under `plots/` and the HTML figure's `data-plot`.
    pub id: String,
    pub title: String,
    /// One sentence on what it shows, for the HTML caption.
    pub caption: String,
    pub svg: String,
    pub png: Vec<u8>,
    /// Cases on the Pareto front, in drawing order (scatter plots).
    pub front: Vec<String>,
}

/// What a plot draws, independent of the backend.
enum Spec {
    Scatter {
        x_label: String,
        y_label: String,
        points: Vec<(String, f64, f64)>,
        /// Indices into `points`, by increasing x.
        front: Vec<usize>,
    },
    /// Horizontal bars, one per row, each split into coloured segments.
    StackedBars {
        x_label: String,
        rows: Vec<(String, Vec<(String, f64)>)>,
        legend: Vec<String>,
    },
    /// Horizontal bars with a note at each bar's end.
    Bars {
        x_label: String,
        rows: Vec<(String, f64, String)>,
    },
    Trace {
        y_label: String,
        time_ms: Vec<f64>,
        low: Vec<f64>,
        high: Vec<f64>,
        windows_ms: Vec<(f64, f64)>,
    },
    /// One line per series over runs `0..x_labels.len()`.
    Lines {
        x_labels: Vec<String>,
        y_label: String,
        series: Vec<(String, Vec<(f64, f64)>)>,
    },
}

/// Which of two values is better on an axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    Lower,
    Higher,
}

/// The points no other point dominates (at least as good on both axes and
/// better on one), as indices sorted by x then y.
pub fn pareto_front(points: &[(f64, f64)], x: Better, y: Better) -> Vec<usize> {
    let at_least = |better: Better, a: f64, b: f64| if better == Better::Lower { a <= b } else { a >= b };
    let dominates =
        |a: (f64, f64), b: (f64, f64)| at_least(x, a.0, b.0) && at_least(y, a.1, b.1) && (a.0 != b.0 || a.1 != b.1);
    let mut front: Vec<usize> =
        (0..points.len()).filter(|&i| !points.iter().any(|&other| dominates(other, points[i]))).collect();
    front.sort_by(|&a, &b| points[a].0.total_cmp(&points[b].0).then(points[a].1.total_cmp(&points[b].1)));
    front
}

/// Every plot the run's results support, in report order.
pub fn plots(results: &RunResults, traces: &BTreeMap<String, CaseTrace>) -> Result<Vec<Plot>, ReportError> {
    let mut out = Vec::new();
    let cycles_kind = timing_word(results);
    let with_accuracy: Vec<&CaseResult> = results.results.iter().filter(|r| r.accuracy.is_some()).collect();
    for (id, what, size) in [
        ("pareto-accuracy-weights", "weight bytes", (|r: &CaseResult| r.weight_bytes) as fn(&CaseResult) -> u64),
        ("pareto-accuracy-flash", "flash bytes (text + rodata + data)", |r: &CaseResult| r.memory.flash_bytes),
    ] {
        if with_accuracy.is_empty() {
            break;
        }
        let points: Vec<(String, f64, f64)> = with_accuracy
            .iter()
            .map(|r| (r.case.clone(), size(r) as f64, r.accuracy.as_ref().map_or(0.0, |a| a.host_pct)))
            .collect();
        let front = front_of(&points, Better::Lower, Better::Higher);
        out.push(render(
            id,
            &format!("Accuracy vs {}", what.split(' ').next().unwrap_or(what)),
            "Host-engine accuracy on the test set against size; the line joins the Pareto front \
             (no other case is both smaller and more accurate).",
            Spec::Scatter {
                x_label: what.to_owned(),
                y_label: "accuracy, % (host engine, whole test set)".to_owned(),
                points,
                front,
            },
        )?);
    }
    let with_energy: Vec<&CaseResult> = results.results.iter().filter(|r| r.energy.is_some()).collect();
    if !with_energy.is_empty() {
        let provenance = energy_word(&with_energy);
        let points: Vec<(String, f64, f64)> = with_energy
            .iter()
            .map(|r| (r.case.clone(), r.latency_us.median, r.energy.as_ref().map_or(0.0, |e| e.energy_uj.median)))
            .collect();
        let front = front_of(&points, Better::Lower, Better::Lower);
        out.push(render(
            "latency-energy",
            "Energy vs latency per inference",
            "Median energy per inference (idle baseline subtracted) against median latency; the line joins \
             the Pareto front (no other case is both faster and cheaper).",
            Spec::Scatter {
                x_label: format!("latency per inference, µs ({cycles_kind})"),
                y_label: format!("energy per inference, µJ ({provenance})"),
                points,
                front,
            },
        )?);
    }
    let with_layers: Vec<&CaseResult> = results.results.iter().filter(|r| !r.layers.is_empty()).collect();
    if !with_layers.is_empty() {
        let mut legend: Vec<String> = Vec::new();
        let rows = with_layers
            .iter()
            .map(|r| {
                let segments: Vec<(String, f64)> = r
                    .layers
                    .iter()
                    .filter(|l| l.cycles_median > 0.0)
                    .map(|l| {
                        if !legend.contains(&l.op) {
                            legend.push(l.op.clone());
                        }
                        (l.op.clone(), l.cycles_median)
                    })
                    .collect();
                (format!("{} ({})", r.case, r.kernels), segments)
            })
            .collect();
        out.push(render(
            "layer-cycles",
            "Cycles per layer",
            "Each case's median cycles per inference, split by layer and coloured by op: which layers eat \
             the time under each kernel set.",
            Spec::StackedBars { x_label: format!("cycles per inference ({cycles_kind})"), rows, legend },
        )?);
    }
    let ab = kernel_groups(results);
    if !ab.is_empty() {
        out.push(render(
            "kernel-ab",
            "Kernel sets side by side",
            "Cases that differ only in their kernel set: median cycles per inference, and each set's speed-up \
             over the slowest of its group.",
            Spec::Bars { x_label: format!("cycles per inference ({cycles_kind})"), rows: ab },
        )?);
    }
    for (case, trace) in traces {
        let provenance = results
            .results
            .iter()
            .find(|r| &r.case == case)
            .and_then(|r| r.energy.as_ref())
            .map_or("", |e| e.provenance.as_str());
        out.push(render(
            &format!("trace-{case}"),
            &format!("Current of {case}"),
            "The meter's current over the capture (minimum to maximum per pixel column); shaded: the \
             marker's high windows (inferences or layers).",
            trace.spec(provenance),
        )?);
    }
    Ok(out)
}

/// A figure followed across runs by [`trend`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrendMetric {
    Latency,
    Energy,
    Flash,
    Ram,
    Accuracy,
}

impl TrendMetric {
    pub const ALL: [TrendMetric; 5] =
        [TrendMetric::Latency, TrendMetric::Energy, TrendMetric::Flash, TrendMetric::Ram, TrendMetric::Accuracy];

    pub fn name(self) -> &'static str {
        match self {
            TrendMetric::Latency => "latency",
            TrendMetric::Energy => "energy",
            TrendMetric::Flash => "flash",
            TrendMetric::Ram => "ram",
            TrendMetric::Accuracy => "accuracy",
        }
    }

    /// The case's figure, where it has one.
    fn of(self, r: &CaseResult) -> Option<f64> {
        match self {
            TrendMetric::Latency => Some(r.latency_us.median),
            TrendMetric::Energy => r.energy.as_ref().map(|e| e.energy_uj.median),
            TrendMetric::Flash => Some(r.memory.flash_bytes as f64),
            // As `tinybench compare` counts it: static RAM and the stack's peak.
            TrendMetric::Ram => Some((r.memory.static_ram_bytes + r.memory.stack_peak_bytes) as f64),
            TrendMetric::Accuracy => r.accuracy.as_ref().map(|a| a.host_pct),
        }
    }

    fn axis(self, runs: &[RunResults]) -> String {
        let cases: Vec<&CaseResult> = runs.iter().flat_map(|r| r.results.iter()).collect();
        match self {
            TrendMetric::Latency => {
                let words: std::collections::BTreeSet<&str> = cases
                    .iter()
                    .map(|r| if r.provenance.timing.starts_with("measured") { "measured" } else { "simulated" })
                    .collect();
                format!("latency per inference, µs ({})", words.into_iter().collect::<Vec<_>>().join(" and "))
            }
            TrendMetric::Energy => format!("energy per inference, µJ ({})", energy_word(&cases)),
            TrendMetric::Flash => "flash bytes (text + rodata + data)".to_owned(),
            TrendMetric::Ram => "RAM bytes (static + stack peak)".to_owned(),
            TrendMetric::Accuracy => "accuracy, % (host engine)".to_owned(),
        }
    }
}

/// `metric` of every case across `runs`, in the order given (oldest first),
/// one line per case name; the x axis is labeled with each run's date.
pub fn trend(runs: &[RunResults], metric: TrendMetric) -> Result<Plot, ReportError> {
    let x_labels: Vec<String> = runs
        .iter()
        .map(|run| {
            let stamp = run.results.first().map_or("", |r| r.provenance.timestamp.as_str());
            // `12-02 02:17`: month, day and time, short enough for a dozen labels.
            stamp.get(5..16).map_or_else(|| stamp.to_owned(), |s| s.replace('T', " "))
        })
        .collect();
    render(
        &format!("trend-{}", metric.name()),
        &format!("{} over {} runs", metric.name(), runs.len()),
        "Each case's figure in each run, oldest first (the x axis gives each run's date).",
        Spec::Lines { x_labels, y_label: metric.axis(runs), series: trend_series(runs, metric) },
    )
}

/// One line per case name, in order of first appearance: (run index, figure).
fn trend_series(runs: &[RunResults], metric: TrendMetric) -> Vec<(String, Vec<(f64, f64)>)> {
    let mut series: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    for (x, run) in runs.iter().enumerate() {
        for r in &run.results {
            let Some(y) = metric.of(r) else { continue };
            match series.iter_mut().find(|(case, _)| *case == r.case) {
                Some((_, points)) => points.push((x as f64, y)),
                None => series.push((r.case.clone(), vec![(x as f64, y)])),
            }
        }
    }
    series
}

fn front_of(points: &[(String, f64, f64)], x: Better, y: Better) -> Vec<usize> {
    let xy: Vec<(f64, f64)> = points.iter().map(|p| (p.1, p.2)).collect();
    pareto_front(&xy, x, y)
}

/// `simulated` or `measured`, from the first result's timing.
fn timing_word(results: &RunResults) -> &'static str {
    match results.results.first() {
        Some(r) if r.provenance.timing.starts_with("measured") => "measured",
        _ => "simulated",
    }
}

fn energy_word(cases: &[&CaseResult]) -> String {
    let words: std::collections::BTreeSet<&str> =
        cases.iter().filter_map(|r| r.energy.as_ref().map(|e| e.provenance.as_str())).collect();
    words.into_iter().collect::<Vec<_>>().join(" and ")
}

/// Cases that differ only in their kernel set, grouped, with the speed-up
/// over the slowest of the group.
fn kernel_groups(results: &RunResults) -> Vec<(String, f64, String)> {
    let mut groups: BTreeMap<(String, String, String, String), Vec<&CaseResult>> = BTreeMap::new();
    for r in &results.results {
        let key = (r.workload.clone(), r.shape.clone(), r.quantization.clone(), r.provenance.board.clone());
        groups.entry(key).or_default().push(r);
    }
    let mut rows = Vec::new();
    for members in groups.values() {
        let kernels: std::collections::BTreeSet<&str> = members.iter().map(|r| r.kernels.as_str()).collect();
        if kernels.len() < 2 {
            continue;
        }
        let slowest = members.iter().map(|r| r.cycles.median).fold(0.0, f64::max);
        for r in members {
            let speedup = if r.cycles.median > 0.0 { slowest / r.cycles.median } else { 0.0 };
            rows.push((format!("{} ({})", r.case, r.kernels), r.cycles.median, format!("×{speedup:.2}")));
        }
    }
    rows
}

/// A case's current trace, reduced for drawing.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseTrace {
    pub time_s: Vec<f64>,
    pub current_a: Vec<f64>,
    pub marker: Vec<bool>,
}

impl CaseTrace {
    /// From a run's `cases/<case>/trace.parquet` rows (time, current, voltage, marker).
    pub fn from_rows(rows: &[tinybench_runner::trace::TraceRow]) -> CaseTrace {
        CaseTrace {
            time_s: rows.iter().map(|r| r.0).collect(),
            current_a: rows.iter().map(|r| r.1).collect(),
            marker: rows.iter().map(|r| r.3).collect(),
        }
    }

    fn spec(&self, provenance: &str) -> Spec {
        const BUCKETS: usize = 800;
        let n = self.time_s.len();
        let per = n.div_ceil(BUCKETS).max(1);
        let (mut time_ms, mut low, mut high) = (Vec::new(), Vec::new(), Vec::new());
        for start in (0..n).step_by(per) {
            let end = (start + per).min(n);
            let slice = &self.current_a[start..end];
            time_ms.push(self.time_s[start] * 1e3);
            low.push(slice.iter().copied().fold(f64::INFINITY, f64::min) * 1e3);
            high.push(slice.iter().copied().fold(f64::NEG_INFINITY, f64::max) * 1e3);
        }
        let mut windows_ms = Vec::new();
        let mut opened = None;
        for (k, &m) in self.marker.iter().enumerate() {
            match (m, opened) {
                (true, None) => opened = Some(self.time_s[k]),
                (false, Some(t0)) => {
                    windows_ms.push((t0 * 1e3, self.time_s[k] * 1e3));
                    opened = None;
                }
                _ => {}
            }
        }
        if let (Some(t0), Some(&last)) = (opened, self.time_s.last()) {
            windows_ms.push((t0 * 1e3, last * 1e3));
        }
        Spec::Trace { y_label: format!("current, mA ({provenance})"), time_ms, low, high, windows_ms }
    }
}

fn render(id: &str, title: &str, caption: &str, spec: Spec) -> Result<Plot, ReportError> {
    register_font();
    let fail = |e: Box<dyn std::error::Error>| ReportError::Plot { plot: id.to_owned(), message: e.to_string() };
    let (width, height) = spec.size();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        draw(&root, title, &spec).map_err(fail)?;
    }
    let mut pixels = vec![0u8; (width * height * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area();
        draw(&root, title, &spec).map_err(fail)?;
    }
    let mut png_bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut png_bytes, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|e| fail(e.into()))?;
        writer.write_image_data(&pixels).map_err(|e| fail(e.into()))?;
    }
    let front = match &spec {
        Spec::Scatter { points, front, .. } => front.iter().map(|&i| points[i].0.clone()).collect(),
        _ => Vec::new(),
    };
    Ok(Plot { id: id.to_owned(), title: title.to_owned(), caption: caption.to_owned(), svg, png: png_bytes, front })
}

impl Spec {
    fn size(&self) -> (u32, u32) {
        match self {
            Spec::StackedBars { rows, .. } => (WIDTH, 150 + 34 * rows.len() as u32),
            Spec::Bars { rows, .. } => (WIDTH, 120 + 34 * rows.len() as u32),
            _ => (WIDTH, HEIGHT),
        }
    }
}

type Drawn = Result<(), Box<dyn std::error::Error>>;

/// A range around `values` with a margin, never empty.
fn padded(values: impl Iterator<Item = f64> + Clone, from_zero: bool) -> std::ops::Range<f64> {
    let lo = values.clone().fold(f64::INFINITY, f64::min);
    let hi = values.fold(f64::NEG_INFINITY, f64::max);
    if !lo.is_finite() || !hi.is_finite() {
        return 0.0..1.0;
    }
    let span = if hi > lo { hi - lo } else { hi.abs().max(1.0) };
    let lo = if from_zero { lo.min(0.0) } else { lo - span * 0.08 };
    lo..hi + span * 0.12
}

/// Integers with thousands separators for axis labels.
fn count_label(v: &f64) -> String {
    if *v < 0.0 { format!("{v:.0}") } else { crate::thousands(v.round() as u64) }
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, title: &str, spec: &Spec) -> Drawn
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let label_style = (FONT, 13).into_font();
    match spec {
        Spec::Scatter { x_label, y_label, points, front } => {
            let x_range = padded(points.iter().map(|p| p.1), false);
            // Room on the right for the labels of the rightmost points.
            let x_range = x_range.start..x_range.end + (x_range.end - x_range.start) * 0.2;
            let y_range = padded(points.iter().map(|p| p.2), false);
            let mut chart = ChartBuilder::on(root)
                .caption(title, (FONT, 20))
                .margin(14)
                .x_label_area_size(46)
                .y_label_area_size(70)
                .build_cartesian_2d(x_range, y_range)?;
            chart
                .configure_mesh()
                .x_desc(x_label.as_str())
                .y_desc(y_label.as_str())
                .x_label_formatter(&|v| count_label(v))
                .label_style(label_style.clone())
                .light_line_style(RGBColor(236, 236, 236))
                .draw()?;
            chart.draw_series(
                points
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !front.contains(i))
                    .map(|(_, p)| Circle::new((p.1, p.2), 4, RGBColor(150, 150, 150).filled())),
            )?;
            chart.draw_series(LineSeries::new(
                front.iter().map(|&i| (points[i].1, points[i].2)),
                RGBColor(200, 40, 40).stroke_width(2),
            ))?;
            chart.draw_series(
                front.iter().map(|&i| Circle::new((points[i].1, points[i].2), 5, RGBColor(200, 40, 40).filled())),
            )?;
            // Every point labeled, the front's in black, the rest in grey;
            // cases at the same point share one label.
            let mut labels: Vec<((f64, f64), String, bool)> = Vec::new();
            for (i, p) in points.iter().enumerate() {
                let at = (p.1, p.2);
                match labels.iter_mut().find(|(q, _, _)| *q == at) {
                    Some((_, text, _)) => text.push_str(&format!(", {}", p.0)),
                    None => labels.push((at, p.0.clone(), front.contains(&i))),
                }
            }
            let grey = label_style.clone().color(&RGBColor(120, 120, 120));
            chart.draw_series(labels.into_iter().map(|(at, text, on_front)| {
                let style = if on_front { label_style.clone().color(&BLACK) } else { grey.clone() };
                EmptyElement::at(at) + Text::new(text, (7, -18), style)
            }))?;
        }
        Spec::StackedBars { x_label, rows, legend } => {
            let total = rows.iter().map(|(_, s)| s.iter().map(|x| x.1).sum::<f64>());
            let x_range = padded(total, true);
            // Room on the right for the legend.
            let x_range = x_range.start..x_range.end * 1.3;
            let n = rows.len();
            let mut chart = ChartBuilder::on(root)
                .caption(title, (FONT, 20))
                .margin(14)
                .x_label_area_size(46)
                .y_label_area_size(250)
                .build_cartesian_2d(x_range, 0.0..n as f64)?;
            let names: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
            chart
                .configure_mesh()
                .disable_y_mesh()
                .x_desc(x_label.as_str())
                .x_label_formatter(&|v| count_label(v))
                // Few enough that cycle counts in the millions do not collide.
                .x_labels(6)
                .y_labels(n * 2 + 1)
                .y_label_formatter(&|v| row_label(&names, *v))
                .label_style(label_style.clone())
                .light_line_style(RGBColor(236, 236, 236))
                .draw()?;
            let colour = |op: &str| Palette99::pick(legend.iter().position(|o| o == op).unwrap_or(0)).mix(0.9);
            for (row, (_, segments)) in rows.iter().enumerate() {
                let y = (n - 1 - row) as f64;
                let mut x = 0.0;
                for (op, cycles) in segments {
                    let corners = [(x, y + 0.18), (x + cycles, y + 0.82)];
                    chart.draw_series(std::iter::once(Rectangle::new(corners, colour(op).filled())))?;
                    // A white edge between layers of the same op.
                    chart.draw_series(std::iter::once(Rectangle::new(corners, WHITE.stroke_width(1))))?;
                    x += cycles;
                }
            }
            for op in legend {
                let op_colour = colour(op);
                chart
                    .draw_series(std::iter::empty::<Rectangle<(f64, f64)>>())?
                    .label(op.as_str())
                    .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], op_colour.filled()));
            }
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .label_font(label_style.clone())
                .position(SeriesLabelPosition::UpperRight)
                .draw()?;
        }
        Spec::Bars { x_label, rows } => {
            let x_range = padded(rows.iter().map(|r| r.1), true);
            let n = rows.len();
            let mut chart = ChartBuilder::on(root)
                .caption(title, (FONT, 20))
                .margin(14)
                .x_label_area_size(46)
                .y_label_area_size(250)
                .build_cartesian_2d(x_range, 0.0..n as f64)?;
            let names: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
            chart
                .configure_mesh()
                .disable_y_mesh()
                .x_desc(x_label.as_str())
                .x_label_formatter(&|v| count_label(v))
                // Few enough that cycle counts in the millions do not collide.
                .x_labels(6)
                .y_labels(n * 2 + 1)
                .y_label_formatter(&|v| row_label(&names, *v))
                .label_style(label_style.clone())
                .light_line_style(RGBColor(236, 236, 236))
                .draw()?;
            for (row, (_, value, note)) in rows.iter().enumerate() {
                let y = (n - 1 - row) as f64;
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(0.0, y + 0.2), (*value, y + 0.8)],
                    RGBColor(60, 110, 180).filled(),
                )))?;
                chart.draw_series(std::iter::once(
                    EmptyElement::at((*value, y + 0.5)) + Text::new(note.clone(), (5, -7), label_style.clone()),
                ))?;
            }
        }
        Spec::Trace { y_label, time_ms, low, high, windows_ms } => {
            let x_range = padded(time_ms.iter().copied(), false);
            let y_range = padded(low.iter().chain(high.iter()).copied(), true);
            let (y0, y1) = (y_range.start, y_range.end);
            let mut chart = ChartBuilder::on(root)
                .caption(title, (FONT, 20))
                .margin(14)
                .x_label_area_size(46)
                .y_label_area_size(70)
                .build_cartesian_2d(x_range, y_range)?;
            chart
                .configure_mesh()
                .x_desc("time, ms")
                .y_desc(y_label.as_str())
                .label_style(label_style.clone())
                .light_line_style(RGBColor(236, 236, 236))
                .draw()?;
            chart.draw_series(
                windows_ms
                    .iter()
                    .map(|&(a, b)| Rectangle::new([(a, y0), (b, y1)], RGBColor(255, 200, 120).mix(0.35).filled())),
            )?;
            chart.draw_series(
                time_ms
                    .iter()
                    .zip(low.iter().zip(high))
                    .map(|(&t, (&lo, &hi))| PathElement::new(vec![(t, lo), (t, hi)], RGBColor(30, 90, 170))),
            )?;
            chart
                .draw_series(LineSeries::new(time_ms.iter().zip(high).map(|(&t, &h)| (t, h)), RGBColor(30, 90, 170)))?;
        }
        Spec::Lines { x_labels, y_label, series } => {
            let n = x_labels.len().max(1);
            let y_range = padded(series.iter().flat_map(|(_, p)| p.iter().map(|q| q.1)), false);
            let mut chart = ChartBuilder::on(root)
                .caption(title, (FONT, 20))
                .margin(14)
                .x_label_area_size(46)
                .y_label_area_size(80)
                .build_cartesian_2d(-0.3..(n as f64 - 0.7), y_range)?;
            chart
                .configure_mesh()
                .x_desc("run")
                .y_desc(y_label.as_str())
                .x_labels(n.min(12))
                .x_label_formatter(&|v| {
                    let k = v.round();
                    if (v - k).abs() > 0.01 || k < 0.0 {
                        String::new()
                    } else {
                        x_labels.get(k as usize).cloned().unwrap_or_default()
                    }
                })
                .y_label_formatter(&|v| if v.abs() >= 1000.0 { count_label(v) } else { format!("{v:.2}") })
                .label_style(label_style.clone())
                .light_line_style(RGBColor(236, 236, 236))
                .draw()?;
            for (k, (case, points)) in series.iter().enumerate() {
                let colour = Palette99::pick(k).mix(0.95);
                chart
                    .draw_series(LineSeries::new(points.iter().copied(), colour.stroke_width(2)))?
                    .label(case.as_str())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], colour.stroke_width(2)));
                chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, colour.filled())))?;
            }
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .label_font(label_style.clone())
                .position(SeriesLabelPosition::UpperRight)
                .draw()?;
        }
    }
    root.present()?;
    Ok(())
}

/// The row name at the middle of each bar (rows are drawn top to bottom).
fn row_label(names: &[String], v: f64) -> String {
    let n = names.len();
    let slot = v - v.floor();
    if (slot - 0.5).abs() > 0.01 || v < 0.0 {
        return String::new();
    }
    let index = v.floor() as usize;
    if index >= n { String::new() } else { names[n - 1 - index].clone() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    /// The front by brute force: every point that no other point beats.
    fn front_by_definition(points: &[(f64, f64)]) -> Vec<usize> {
        let mut out = Vec::new();
        'point: for (i, p) in points.iter().enumerate() {
            for q in points {
                // Smaller x and larger y are better.
                if q.0 <= p.0 && q.1 >= p.1 && q != p {
                    continue 'point;
                }
            }
            out.push(i);
        }
        out.sort_by(|&a, &b| points[a].0.total_cmp(&points[b].0));
        out
    }

    #[test]
    fn the_front_is_every_point_nothing_dominates() {
        // Sizes and accuracies on a grid, with ties, in a fixed pseudo-random order.
        let mut seed = 12345u64;
        for _ in 0..200 {
            let points: Vec<(f64, f64)> = (0..12)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    (((seed >> 33) % 8) as f64 * 1000.0, ((seed >> 45) % 6) as f64 + 90.0)
                })
                .collect();
            assert_eq!(
                pareto_front(&points, Better::Lower, Better::Higher),
                front_by_definition(&points),
                "{points:?}"
            );
        }
    }

    fn model_run() -> RunResults {
        let mut run = fixtures::results();
        let base = run.results[0].clone();
        run.results.clear();
        run.failures.clear();
        run.cases.clear();
        for (name, kernels, weights, flash, acc, cycles) in [
            ("int8-reference", "reference", 9000, 90_000, 98.5, 3_000_000.0),
            ("int8-simd", "simd", 9000, 96_000, 98.5, 1_500_000.0),
            ("int4-simd", "simd", 5000, 94_000, 97.0, 1_600_000.0),
            ("pruned-int4", "simd", 4000, 93_000, 95.0, 1_200_000.0),
            ("worse", "simd", 9500, 97_000, 96.0, 2_000_000.0),
        ] {
            let mut r = base.clone();
            r.case = name.into();
            r.kernels = kernels.into();
            r.shape = if name.starts_with("int8") { "mnist-int8.tbm".into() } else { format!("{name}.tbm") };
            r.weight_bytes = weights;
            r.memory.flash_bytes = flash;
            r.accuracy.as_mut().unwrap().host_pct = acc;
            r.cycles.median = cycles;
            r.latency_us.median = cycles / 120.0;
            r.energy.as_mut().unwrap().energy_uj.median = cycles / 10_000.0 * if name == "worse" { 2.0 } else { 1.0 };
            run.cases.push(name.into());
            run.results.push(r);
        }
        run.finish(false);
        run
    }

    #[test]
    fn the_plots_drawn_are_the_ones_the_results_support() {
        let run = model_run();
        let plots = plots(&run, &BTreeMap::new()).unwrap();
        let ids: Vec<&str> = plots.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(
            ids,
            ["pareto-accuracy-weights", "pareto-accuracy-flash", "latency-energy", "layer-cycles", "kernel-ab"]
        );
        // The accuracy/weights front drawn is the brute-force one.
        let points: Vec<(f64, f64)> =
            run.results.iter().map(|r| (r.weight_bytes as f64, r.accuracy.as_ref().unwrap().host_pct)).collect();
        let expected: Vec<String> = front_by_definition(&points).iter().map(|&i| run.results[i].case.clone()).collect();
        assert_eq!(plots[0].front, expected);
        assert_eq!(expected, ["pruned-int4", "int4-simd", "int8-reference", "int8-simd"]);
        if let Some(dir) = std::env::var_os("TINYBENCH_PLOT_DUMP") {
            for p in &plots {
                std::fs::write(std::path::Path::new(&dir).join(format!("{}.svg", p.id)), &p.svg).unwrap();
                std::fs::write(std::path::Path::new(&dir).join(format!("{}.png", p.id)), &p.png).unwrap();
            }
        }
        for p in &plots {
            assert!(p.svg.starts_with("<svg") && p.svg.contains("<text"), "{}: {}", p.id, &p.svg[..80]);
            assert!(p.png.starts_with(b"\x89PNG"), "{}", p.id);
        }
        for name in &plots[0].front {
            assert!(plots[0].svg.contains(name.as_str()), "front point {name} is labeled");
        }
        assert!(plots[0].svg.contains("fill=\"#787878\">\nworse"), "a dominated point is labeled in grey");
        assert!(plots[3].svg.contains("cycles per inference (simulated)"), "axes carry provenance");
        assert!(plots[2].svg.contains("µJ (modeled)"), "energy axis carries provenance");
        // The A/B group is the two int8 cases: reference 2.00x slower than simd.
        assert!(plots[4].svg.contains("×2.00") && plots[4].svg.contains("×1.00"), "{}", plots[4].svg);
    }

    #[test]
    fn a_trend_draws_each_case_across_runs() {
        let mut runs = vec![model_run(), model_run(), model_run()];
        for (k, run) in runs.iter_mut().enumerate() {
            for r in &mut run.results {
                r.provenance.timestamp = format!("2026-12-0{}T02:17:00Z", k + 1);
                r.latency_us.median *= 1.0 + k as f64 * 0.1;
            }
        }
        // A case that only the last run has.
        runs[2].results[0].case = "new-case".into();
        let plot = trend(&runs, TrendMetric::Latency).unwrap();
        assert_eq!(plot.id, "trend-latency");
        for label in ["12-01 02:17", "12-03 02:17", "new-case", "int8-simd", "µs (simulated)"] {
            assert!(plot.svg.contains(label), "{label}");
        }
        let series = trend_series(&runs, TrendMetric::Latency);
        let line = |case: &str| series.iter().find(|(c, _)| c == case).map(|(_, p)| p.clone()).unwrap();
        let simd = line("int8-simd");
        assert_eq!(simd.iter().map(|p| p.0).collect::<Vec<_>>(), [0.0, 1.0, 2.0]);
        assert!((simd[2].1 / simd[0].1 - 1.2).abs() < 1e-12, "{simd:?}");
        assert_eq!(line("int8-reference").len(), 2, "not in the last run");
        assert_eq!(line("new-case"), [(2.0, runs[2].results[0].latency_us.median)]);
        assert!(trend(&runs, TrendMetric::Energy).unwrap().svg.contains("µJ (modeled)"));
    }

    #[test]
    fn a_trace_is_drawn_with_its_marker_windows() {
        let rows: Vec<(f64, f64, f64, bool)> = (0..5000)
            .map(|k| {
                let high = (1000..2000).contains(&k) || (3000..4000).contains(&k);
                (k as f64 * 1e-5, if high { 0.02 } else { 0.005 }, 3.3, high)
            })
            .collect();
        let trace = CaseTrace::from_rows(&rows);
        let Spec::Trace { windows_ms, high, .. } = trace.spec("modeled") else { unreachable!() };
        assert_eq!(windows_ms.len(), 2);
        assert!((windows_ms[0].0 - 10.0).abs() < 1e-9 && (windows_ms[1].1 - 40.0).abs() < 1e-9, "{windows_ms:?}");
        assert!(high.iter().all(|&ma| (ma - 20.0).abs() < 1e-9 || (ma - 5.0).abs() < 1e-9));
    }
}
