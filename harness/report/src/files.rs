//! The run folder's files: `results.json`, the Parquet tables and the
//! reports derived from them (`results.csv`, `report.md`, `report.html`, `plots/`),
//! rewritten whole (temporary file + rename) when the run starts and after
//! every case, so an interrupted run leaves readable files that say what is
//! missing.

use std::path::{Path, PathBuf};

use serde::Serialize;
use tinybench_runner::{BenchEvent, CaseResult, RunResults, write_atomically};

use crate::table::{TableStyle, table};
use crate::{ReportError, Reporter, summary_table, tables, thousands};

/// Writes the run's files after every case and at the end: `results.json`,
/// the Parquet tables, and every report derived from them.
pub struct FilesReporter {
    dir: PathBuf,
    partial: Option<RunResults>,
}

impl FilesReporter {
    pub fn new(dir: &Path) -> Self {
        FilesReporter { dir: dir.to_owned(), partial: None }
    }

    /// The files this reporter writes (beside `plots/`).
    pub fn paths(&self) -> Vec<PathBuf> {
        [JSON_FILE, tables::RESULTS_FILE, tables::LAYERS_FILE, CSV_FILE, MARKDOWN_FILE, HTML_FILE]
            .iter()
            .map(|name| self.dir.join(name))
            .collect()
    }

    fn write(&self, results: &RunResults) -> Result<(), ReportError> {
        let json = self.dir.join(JSON_FILE);
        write_atomically(&json, json_string(results).map_err(|e| io_error(&json, e))?.as_bytes())
            .map_err(|e| io_error(&json, e))?;
        tables::write_tables(&self.dir, results)?;
        write_reports(&self.dir, &self.dir, results).map(|_| ())
    }

    /// Applies `change` to the run so far and writes the files.
    fn update(&mut self, change: impl FnOnce(&mut RunResults)) -> Result<(), ReportError> {
        let Some(partial) = self.partial.as_mut() else { return Ok(()) };
        change(partial);
        partial.update_status();
        let partial = partial.clone();
        self.write(&partial)
    }
}

pub const JSON_FILE: &str = "results.json";
pub const CSV_FILE: &str = "results.csv";
pub const MARKDOWN_FILE: &str = "report.md";
pub const HTML_FILE: &str = "report.html";
pub const PLOTS_DIR: &str = "plots";

fn io_error(path: &Path, source: std::io::Error) -> ReportError {
    ReportError::Io { path: path.to_owned(), source }
}

/// Writes every report derived from the tables into `out`: `results.csv`,
/// `report.md`, `report.html` and `plots/`, reading the cases' current
/// traces from `run_dir/cases/<case>/trace.parquet`. Returns the files
/// written. `tinybench report` calls this with the tables read back, so its
/// output equals the run's byte for byte.
pub fn write_reports(run_dir: &Path, out: &Path, results: &RunResults) -> Result<Vec<PathBuf>, ReportError> {
    let mut traces = std::collections::BTreeMap::new();
    for r in results.results.iter().filter(|r| r.energy.is_some()) {
        let path = run_dir.join("cases").join(&r.case).join(tinybench_runner::trace::TRACE_FILE);
        if !path.is_file() {
            continue;
        }
        let rows = tinybench_runner::trace::read_parquet(&path)
            .map_err(|message| ReportError::Read { path: path.clone(), message })?;
        traces.insert(r.case.clone(), crate::plots::CaseTrace::from_rows(&rows));
    }
    let plots = crate::plots::plots(results, &traces)?;
    let mut written = Vec::new();
    let mut put = |path: PathBuf, bytes: &[u8]| -> Result<(), ReportError> {
        write_atomically(&path, bytes).map_err(|e| io_error(&path, e))?;
        written.push(path);
        Ok(())
    };
    let csv = out.join(CSV_FILE);
    let text = csv_string(results).map_err(|e| io_error(&csv, e))?;
    put(csv, text.as_bytes())?;
    put(out.join(MARKDOWN_FILE), markdown_string(results).as_bytes())?;
    put(out.join(HTML_FILE), crate::html::html_string(results, &plots).as_bytes())?;
    if !plots.is_empty() {
        let dir = out.join(PLOTS_DIR);
        std::fs::create_dir_all(&dir).map_err(|e| io_error(&dir, e))?;
        for p in &plots {
            put(dir.join(format!("{}.svg", p.id)), p.svg.as_bytes())?;
            put(dir.join(format!("{}.png", p.id)), &p.png)?;
        }
    }
    Ok(written)
}

impl Reporter for FilesReporter {
    fn on_event(&mut self, event: &BenchEvent) -> std::io::Result<()> {
        match event {
            BenchEvent::RunStarted { config, board, cases, .. } => {
                self.partial = Some(RunResults::new(config.display().to_string(), board.clone(), cases.clone()));
                self.update(|_| {})
            }
            BenchEvent::CaseFinished { result, .. } | BenchEvent::CaseReused { result, .. } => {
                self.update(|r| r.results.push((**result).clone()))
            }
            BenchEvent::CaseFailed { failure, .. } => self.update(|r| r.failures.push(failure.clone())),
            BenchEvent::RunFinished { results } => {
                self.partial = Some(results.clone());
                self.write(results)
            }
            _ => Ok(()),
        }
        .map_err(std::io::Error::from)
    }
}

/// One flat CSV row per case. Units are in the column names; `timing` and
/// `energy_provenance` say whether figures are simulated/modeled or measured.
/// A failed case has `status` `failed` and a one-line `reason`, and nothing
/// else but its name; a case an interrupted run did not reach, `not-run`.
#[derive(Serialize, Default)]
struct CsvRow<'a> {
    case: &'a str,
    status: &'a str,
    reason: String,
    workload: &'a str,
    shape: &'a str,
    quantization: &'a str,
    kernels: &'a str,
    board: &'a str,
    core: &'a str,
    clock_hz: u64,
    /// The board file's `[settings]` as `key=value; key=value`.
    board_settings: String,
    target: &'a str,
    timing: &'a str,
    warmup: u32,
    iterations: u32,
    macs: u64,
    cycles_min: u64,
    cycles_median: f64,
    cycles_max: u64,
    latency_us_min: f64,
    latency_us_median: f64,
    latency_us_max: f64,
    macs_per_cycle: f64,
    /// The `[power]` meter that gave the energy figures (`none`: no energy).
    meter: &'a str,
    /// Per inference less the idle baseline, over the timed inferences.
    energy_uj_min: Option<f64>,
    energy_uj_median: Option<f64>,
    energy_uj_max: Option<f64>,
    /// A bound on the median's error (sample interval, resolution, window).
    energy_uncertainty_uj: Option<f64>,
    average_power_mw: Option<f64>,
    idle_power_mw: Option<f64>,
    /// `measured` (an instrument) or `modeled` (the simulator's current model).
    energy_provenance: &'a str,
    /// How the inference windows were placed: `marker edges` or `DWT offsets`.
    energy_method: &'a str,
    energy_instrument: &'a str,
    /// `[power] simulate = true`: the exact modeled figure the instrument
    /// simulator's median is checked against.
    energy_modeled_exact_uj: Option<f64>,
    text_bytes: u64,
    rodata_bytes: u64,
    data_bytes: u64,
    bss_bytes: u64,
    flash_bytes: u64,
    static_ram_bytes: u64,
    stack_peak_bytes: u64,
    stack_size_bytes: u64,
    weight_bytes: u64,
    arena_bytes: u64,
    /// Percent correct on the whole test set (host engine); empty without one.
    accuracy_pct: Option<f64>,
    accuracy_samples: Option<u32>,
    /// Percent correct on the target's subset (same bytes out as the host).
    target_accuracy_pct: Option<f64>,
    target_accuracy_samples: Option<u32>,
    output_checksum: String,
    expected_checksum: String,
    checksum_ok: bool,
    git_revision: &'a str,
    toolchain: &'a str,
    firmware_sha256: &'a str,
    timestamp: &'a str,
}

impl<'a> From<&'a CaseResult> for CsvRow<'a> {
    fn from(r: &'a CaseResult) -> Self {
        let round = |x: f64| (x * 1000.0).round() / 1000.0;
        CsvRow {
            case: &r.case,
            status: if r.checksum_ok { "ok" } else { "output-mismatch" },
            reason: String::new(),
            workload: &r.workload,
            shape: &r.shape,
            quantization: &r.quantization,
            kernels: &r.kernels,
            board: &r.provenance.board,
            core: &r.provenance.core,
            clock_hz: r.provenance.clock_hz,
            board_settings: board_settings(r, "=", "; "),
            target: &r.provenance.target,
            timing: &r.provenance.timing,
            warmup: r.warmup,
            iterations: r.iterations,
            macs: r.macs,
            cycles_min: r.cycles.min as u64,
            cycles_median: r.cycles.median,
            cycles_max: r.cycles.max as u64,
            latency_us_min: round(r.latency_us.min),
            latency_us_median: round(r.latency_us.median),
            latency_us_max: round(r.latency_us.max),
            macs_per_cycle: round(r.macs_per_cycle),
            meter: &r.meter,
            energy_uj_min: r.energy.as_ref().map(|e| round(e.energy_uj.min)),
            energy_uj_median: r.energy.as_ref().map(|e| round(e.energy_uj.median)),
            energy_uj_max: r.energy.as_ref().map(|e| round(e.energy_uj.max)),
            energy_uncertainty_uj: r.energy.as_ref().map(|e| round(e.uncertainty_uj)),
            average_power_mw: r.energy.as_ref().map(|e| round(e.average_power_mw)),
            idle_power_mw: r.energy.as_ref().and_then(|e| e.idle_power_mw.map(round)),
            energy_provenance: r.energy.as_ref().map_or("", |e| e.provenance.as_str()),
            energy_method: r.energy.as_ref().map_or("", |e| e.method.as_str()),
            energy_instrument: r.energy.as_ref().map_or("", |e| e.instrument.as_str()),
            energy_modeled_exact_uj: r.energy.as_ref().and_then(|e| e.modeled_exact_uj.map(round)),
            text_bytes: r.memory.sections.text_bytes,
            rodata_bytes: r.memory.sections.rodata_bytes,
            data_bytes: r.memory.sections.data_bytes,
            bss_bytes: r.memory.sections.bss_bytes,
            flash_bytes: r.memory.flash_bytes,
            static_ram_bytes: r.memory.static_ram_bytes,
            stack_peak_bytes: r.memory.stack_peak_bytes,
            stack_size_bytes: r.memory.stack_size_bytes,
            weight_bytes: r.weight_bytes,
            arena_bytes: r.arena_bytes,
            accuracy_pct: r.accuracy.as_ref().map(|a| round(a.host_pct)),
            accuracy_samples: r.accuracy.as_ref().map(|a| a.host_samples),
            target_accuracy_pct: r.accuracy.as_ref().map(|a| round(a.target_pct)),
            target_accuracy_samples: r.accuracy.as_ref().map(|a| a.target_samples),
            output_checksum: format!("{:#010x}", r.output_checksum),
            expected_checksum: format!("{:#010x}", r.expected_checksum),
            checksum_ok: r.checksum_ok,
            git_revision: &r.provenance.git_revision,
            toolchain: &r.provenance.toolchain,
            firmware_sha256: &r.provenance.firmware_sha256,
            timestamp: &r.provenance.timestamp,
        }
    }
}

/// The board's `[settings]` in one line, keys in order.
pub(crate) fn board_settings(r: &CaseResult, between: &str, separator: &str) -> String {
    let pairs = r.provenance.board_settings.iter().map(|(k, v)| format!("{k}{between}{v}"));
    pairs.collect::<Vec<_>>().join(separator)
}

/// `results.csv`: one row per case, in run order.
pub fn csv_string(results: &RunResults) -> std::io::Result<String> {
    let header = csv_header();
    let mut w = csv::Writer::from_writer(Vec::new());
    // The header comes first even without rows, so tools can read the file.
    w.write_record(&header)?;
    w.flush()?;
    let mut rows =
        csv::WriterBuilder::new().has_headers(false).from_writer(w.into_inner().map_err(|e| e.into_error())?);
    for case in &results.cases {
        if let Some(r) = results.results.iter().find(|r| &r.case == case) {
            rows.serialize(CsvRow::from(r))?;
            continue;
        }
        // A failed or missing case: its name, status and reason; the
        // figures stay empty rather than 0, which would read as data.
        let (status, reason) = match results.failures.iter().find(|f| &f.case == case) {
            Some(f) => ("failed", format!("{}: {}", f.kind.as_str(), f.reason())),
            None => ("not-run", String::new()),
        };
        let mut record = vec![String::new(); header.len()];
        record[0] = case.clone();
        record[1] = status.to_owned();
        record[2] = reason;
        rows.write_record(&record)?;
    }
    let bytes = rows.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The CSV header, from serializing an empty row.
fn csv_header() -> Vec<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.serialize(CsvRow::default());
    let bytes = w.into_inner().unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes);
    text.lines().next().unwrap_or_default().split(',').map(str::to_owned).collect()
}

/// `results.json`: everything, including per-iteration cycles and failures.
pub fn json_string(results: &RunResults) -> std::io::Result<String> {
    Ok(serde_json::to_string_pretty(results)? + "\n")
}

/// `report.md`: a human-readable report. Every table is a comfy-table
/// Markdown table; error texts, which may span lines, go in text blocks.
pub fn markdown_string(results: &RunResults) -> String {
    let mut md = format!("# tinybench report\n\nConfiguration `{}` on board `{}`.\n\n", results.config, results.board);
    if !results.complete {
        let done = results.cases.len() - results.missing.len();
        md.push_str(&format!(
            "> **Incomplete run**{}: {done} of {} cases finished; missing: {}. \
             `tinybench run {} --resume <this folder>` finishes it.\n\n",
            if results.interrupted { " (interrupted)" } else { " (in progress)" },
            results.cases.len(),
            results.missing.join(", "),
            results.config
        ));
    }
    if let Some(r) = results.results.first() {
        md.push_str(&format!(
            "- Timing: **{}**.\n- Board settings: {}.\n- Energy: {}.\n- Revision `{}`, {}.\n\n",
            r.provenance.timing,
            if r.provenance.board_settings.is_empty() {
                "none given in the board file".to_owned()
            } else {
                board_settings(r, ": ", "; ")
            },
            energy_line(r),
            r.provenance.git_revision,
            r.provenance.toolchain
        ));
    }
    md.push_str("## Summary\n\n");
    md.push_str(&summary_table(results, TableStyle::Markdown));
    for r in &results.results {
        case_section(&mut md, r);
    }
    if !results.failures.is_empty() {
        md.push_str("\n## Failures\n");
        for f in &results.failures {
            let text = f.error.trim_end();
            let fence = fence_for(text);
            md.push_str(&format!("\n### {} ({})\n\n{fence}text\n{text}\n{fence}\n", f.case, f.kind.as_str()));
        }
    }
    md
}

/// A code fence longer than any run of backticks in `text`, so a build log
/// quoting Markdown cannot end the block early.
fn fence_for(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

/// Where the run's energy figures come from, for the report's header.
pub(crate) fn energy_line(r: &CaseResult) -> String {
    match &r.energy {
        None => "none (no `[power]` meter)".to_owned(),
        Some(e) => format!(
            "**{}** by `{}` ({}), windows from {}",
            e.provenance.as_str(),
            r.meter,
            e.instrument,
            e.method.as_str()
        ),
    }
}

/// A case's energy figures in a sentence or two.
pub(crate) fn energy_paragraph(r: &CaseResult) -> String {
    let Some(e) = &r.energy else {
        return "No energy figures: the case has no `[power]` meter.\n".to_owned();
    };
    let mut text = format!(
        "Energy per inference ({}, `{}`): {:.3} uJ median (min {:.3}, max {:.3}, ± {:.3} uJ) at {:.2} mW average",
        e.provenance.as_str(),
        r.meter,
        e.energy_uj.median,
        e.energy_uj.min,
        e.energy_uj.max,
        e.uncertainty_uj,
        e.average_power_mw
    );
    match e.idle_power_mw {
        Some(idle) => text.push_str(&format!("; the idle baseline, {idle:.2} mW, is subtracted")),
        None => text.push_str("; no idle baseline was captured, so nothing is subtracted"),
    }
    text.push_str(&format!("; windows from {}.", e.method.as_str()));
    if let Some(exact) = e.modeled_exact_uj {
        text.push_str(&format!(
            " The modeled current fed to the instrument simulator gives {exact:.3} uJ exactly ({:+.2}%).",
            (e.energy_uj.median / exact - 1.0) * 100.0
        ));
    }
    if e.loop_averaged {
        text.push_str(
            " Too few samples per inference for single figures: min, median and max are the mean over all inferences.",
        );
    }
    text.push('\n');
    text
}

/// A table's header, rows and right-aligned (numeric) columns.
pub(crate) struct Cells {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub right: Vec<usize>,
}

fn strings(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| c.to_string()).collect()
}

/// `simulated` or `measured`, the first word of the case's timing.
fn timing_word(r: &CaseResult) -> &str {
    r.provenance.timing.split(' ').next().unwrap_or("")
}

/// The sentence that opens a case's section.
pub(crate) fn case_intro(r: &CaseResult) -> String {
    format!(
        "Workload `{}` `{}`, {} weights, kernels `{}`, {} MACs per inference; {} warm-up and {} timed inferences at {} Hz.",
        r.workload,
        r.shape,
        r.quantization,
        r.kernels,
        thousands(r.macs),
        r.warmup,
        r.iterations,
        thousands(r.provenance.clock_hz)
    )
}

/// Cycles and latency: min, median, max.
pub(crate) fn timing_cells(r: &CaseResult) -> Cells {
    Cells {
        header: strings(&["metric", "min", "median", "max"]),
        rows: vec![
            vec![
                format!("cycles ({})", timing_word(r)),
                thousands(r.cycles.min as u64),
                thousands(r.cycles.median as u64),
                thousands(r.cycles.max as u64),
            ],
            vec![
                "latency (us)".to_owned(),
                format!("{:.2}", r.latency_us.min),
                format!("{:.2}", r.latency_us.median),
                format!("{:.2}", r.latency_us.max),
            ],
        ],
        right: vec![1, 2, 3],
    }
}

pub(crate) fn memory_cells(r: &CaseResult) -> Cells {
    let m = &r.memory;
    let memory = [
        ("text", m.sections.text_bytes),
        ("rodata", m.sections.rodata_bytes),
        ("data", m.sections.data_bytes),
        ("bss", m.sections.bss_bytes),
        ("flash (text + rodata + data)", m.flash_bytes),
        ("static RAM (data + bss)", m.static_ram_bytes),
        ("stack peak (painted)", m.stack_peak_bytes),
        ("weights", r.weight_bytes),
        ("activation arena", r.arena_bytes),
    ];
    Cells {
        header: strings(&["memory", "bytes"]),
        rows: memory.iter().map(|(name, v)| vec![(*name).to_owned(), thousands(*v)]).collect(),
        right: vec![1],
    }
}

/// Sentences after the memory table (evaluation inputs, accuracy).
pub(crate) fn memory_notes(r: &CaseResult) -> Vec<String> {
    let mut notes = Vec::new();
    if r.memory.sections.eval_data_bytes > 0 {
        notes.push(format!(
            "Evaluation inputs linked for the accuracy run ({} bytes) are not counted in flash.",
            thousands(r.memory.sections.eval_data_bytes)
        ));
    }
    if let Some(a) = &r.accuracy {
        notes.push(format!(
            "Accuracy: {:.2}% on {} test samples (host engine); {:.2}% on the first {} on the target, \
             whose outputs equal the host's byte for byte.",
            a.host_pct, a.host_samples, a.target_pct, a.target_samples
        ));
    }
    notes
}

/// The per-layer table (none for a workload without layers), and the note
/// on fused layers where one shows 0 cycles.
pub(crate) fn layer_cells(r: &CaseResult) -> Option<(Cells, Option<&'static str>)> {
    if r.layers.is_empty() {
        return None;
    }
    let with_energy = r.layers.iter().any(|l| l.energy_uj.is_some());
    let mut header =
        strings(&["layer", "op", "output", "MACs", "weight B", &format!("cycles ({})", timing_word(r)), "MAC/cycle"]);
    if with_energy {
        let provenance = r.energy.as_ref().map_or("", |e| e.provenance.as_str());
        header.push(format!("energy uJ ({provenance})"));
    }
    let rows = r
        .layers
        .iter()
        .map(|l| {
            let mut row = vec![
                l.index.to_string(),
                l.op.clone(),
                l.output_shape.clone(),
                thousands(l.macs),
                thousands(l.weight_bytes),
                thousands(l.cycles_median as u64),
                format!("{:.3}", l.macs_per_cycle),
            ];
            if with_energy {
                row.push(l.energy_uj.map_or(String::new(), |e| format!("{e:.4}")));
            }
            row
        })
        .collect();
    let fused = r.layers.iter().any(|l| l.cycles_median == 0.0 && l.macs > 0).then_some(
        "Layers showing 0 cycles are fused into the following layer by the kernel set; \
         the group's cycles are on its last layer.",
    );
    Some((Cells { header, rows, right: vec![0, 3, 4, 5, 6, 7] }, fused))
}

pub(crate) fn checksum_sentence(r: &CaseResult) -> String {
    format!(
        "Output checksum {:#010x} ({}); firmware SHA-256 `{}`.",
        r.output_checksum,
        if r.checksum_ok {
            "equals the host's computation".to_owned()
        } else {
            format!("host expected {:#010x}", r.expected_checksum)
        },
        r.provenance.firmware_sha256
    )
}

fn markdown_table(cells: Cells) -> String {
    table(TableStyle::Markdown, &cells.header, cells.rows, &cells.right)
}

fn case_section(md: &mut String, r: &CaseResult) {
    md.push_str(&format!("\n## {}\n\n", r.case));
    md.push_str(&case_intro(r));
    md.push_str("\n\n");
    md.push_str(&markdown_table(timing_cells(r)));
    md.push('\n');
    md.push_str(&energy_paragraph(r));
    md.push('\n');
    md.push_str(&markdown_table(memory_cells(r)));
    for note in memory_notes(r) {
        md.push_str(&format!("\n{note}\n"));
    }
    if let Some((cells, fused)) = layer_cells(r) {
        md.push('\n');
        md.push_str(&markdown_table(cells));
        // After the table: a line between its header and rows would end it.
        if let Some(fused) = fused {
            md.push_str(&format!("\n{fused}\n"));
        }
    }
    md.push_str(&format!("\n{}\n", checksum_sentence(r)));
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::fixtures;

    #[test]
    fn csv_snapshot() {
        insta::assert_snapshot!(csv_string(&fixtures::results()).unwrap());
    }

    #[test]
    fn csv_without_cases_keeps_header() {
        let csv = csv_string(&RunResults::new("c.toml".into(), "sim-m4".into(), vec![])).unwrap();
        assert!(csv.starts_with("case,status,reason,workload,shape,"), "{csv}");
        assert_eq!(csv.lines().count(), 1);
    }

    #[test]
    fn failed_and_missing_cases_have_rows_with_a_status_and_no_figures() {
        let mut results = fixtures::results();
        results.cases.push("later".into());
        results.failures[0].error =
            "firmware build for case broken failed; full log in x/build.log:\n    rust-lld ...".into();
        results.update_status();
        let csv = csv_string(&results).unwrap();
        let rows: Vec<&str> = csv.lines().collect();
        assert_eq!(rows.len(), 4, "{csv}");
        assert!(rows[1].starts_with("conv3x3-16x16x8-16,ok,,conv2d-3x3,"), "{}", rows[1]);
        let columns = rows[0].split(',').count();
        assert_eq!(
            rows[2],
            format!(
                "broken,failed,target: firmware build for case broken failed; full log in x/build.log{}",
                ",".repeat(columns - 3)
            )
        );
        assert_eq!(rows[3], format!("later,not-run{}", ",".repeat(columns - 2)));
    }

    #[test]
    fn markdown_snapshot() {
        insta::assert_snapshot!(markdown_string(&fixtures::results()));
    }

    #[test]
    fn a_fused_layer_with_0_cycles_keeps_the_layer_table_whole() {
        let mut results = fixtures::results();
        results.results[0].layers[0].cycles_median = 0.0;
        let md = markdown_string(&results);
        let header = md.find("| layer |").expect("layer table");
        let table: Vec<&str> = md[header..].lines().take_while(|l| l.starts_with('|')).collect();
        assert_eq!(table.len(), 2 + results.results[0].layers.len(), "{md}");
        assert!(md[header..].contains("Layers showing 0 cycles are fused"), "{md}");
    }

    #[test]
    fn an_unfinished_run_says_what_is_missing_and_how_to_finish_it() {
        let mut results = fixtures::results();
        results.cases.push("later".into());
        results.finish(true);
        let md = markdown_string(&results);
        assert!(md.contains("**Incomplete run** (interrupted): 2 of 3 cases finished; missing: later."), "{md}");
        assert!(md.contains("--resume"), "{md}");
        assert!(!markdown_string(&fixtures::results()).contains("Incomplete"));
    }

    #[test]
    fn an_error_quoting_a_code_fence_stays_in_its_block() {
        let mut results = fixtures::results();
        results.failures[0].error = "error:\n```\nfn main() {}\n```\n# not a heading".into();
        let md = markdown_string(&results);
        let block = md.split("### broken (target)\n\n").nth(1).unwrap();
        assert!(block.starts_with("````text\n") && block.trim_end().ends_with("# not a heading\n````"), "{md}");
    }

    #[test]
    fn json_round_trips_fields() {
        let json: serde_json::Value = serde_json::from_str(&json_string(&fixtures::results()).unwrap()).unwrap();
        assert_eq!(json["results"][0]["cycles_per_iteration"][1], 1_200_010);
        assert_eq!(json["results"][0]["energy"]["provenance"], "modeled");
        assert_eq!(json["failures"][0]["kind"], "target");
        assert_eq!((json["complete"].as_bool(), json["interrupted"].as_bool()), (Some(true), Some(false)));
    }

    #[test]
    fn files_are_written_at_the_start_and_after_each_case() {
        let dir = tempfile::tempdir().unwrap();
        let mut rep = FilesReporter::new(dir.path());
        let read_json = || -> serde_json::Value {
            serde_json::from_str(&std::fs::read_to_string(dir.path().join("results.json")).unwrap()).unwrap()
        };
        let cases = vec!["conv3x3-16x16x8-16".to_owned(), "second".to_owned()];
        rep.on_event(&BenchEvent::RunStarted {
            config: PathBuf::from("c.toml"),
            board: "sim-m4".into(),
            target: "sim".into(),
            run_dir: dir.path().to_owned(),
            cases: cases.clone(),
        })
        .unwrap();
        assert_eq!(read_json()["missing"], serde_json::json!(cases));
        assert_eq!(read_json()["complete"], false);
        rep.on_event(&BenchEvent::CaseFinished { index: 0, result: Box::new(fixtures::result()) }).unwrap();
        for p in rep.paths() {
            assert!(p.is_file(), "{}", p.display());
        }
        assert_eq!(read_json()["missing"], serde_json::json!(["second"]));
        let csv = std::fs::read_to_string(dir.path().join("results.csv")).unwrap();
        assert_eq!(csv.lines().count(), 3);
        assert!(!dir.path().join("results.json.tmp").exists());
    }
}
