//! The run folder's files: `results.csv`, `results.json`, `report.md`.

use std::path::{Path, PathBuf};

use serde::Serialize;
use tinybench_runner::{BenchEvent, CaseResult, RunResults};

use crate::{Reporter, summary_table, thousands};

/// Writes the three result files, after every case and at the end.
pub struct FilesReporter {
    dir: PathBuf,
    partial: RunResults,
}

impl FilesReporter {
    pub fn new(dir: &Path, config: &str, board: &str) -> Self {
        FilesReporter {
            dir: dir.to_owned(),
            partial: RunResults { config: config.into(), board: board.into(), results: vec![], failures: vec![] },
        }
    }

    /// The files this reporter writes.
    pub fn paths(&self) -> [PathBuf; 3] {
        [self.dir.join("results.csv"), self.dir.join("results.json"), self.dir.join("report.md")]
    }

    fn write(&self, results: &RunResults) -> std::io::Result<()> {
        let [csv, json, md] = self.paths();
        write_atomically(&csv, csv_string(results)?.as_bytes())?;
        write_atomically(&json, json_string(results)?.as_bytes())?;
        write_atomically(&md, markdown_string(results).as_bytes())
    }
}

/// Write to a temporary file, then rename: a crash never leaves half a file.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

impl Reporter for FilesReporter {
    fn on_event(&mut self, event: &BenchEvent) -> std::io::Result<()> {
        match event {
            BenchEvent::CaseFinished { result, .. } => {
                self.partial.results.push((**result).clone());
                self.write(&self.partial)
            }
            BenchEvent::CaseFailed { failure, .. } => {
                self.partial.failures.push(failure.clone());
                self.write(&self.partial)
            }
            BenchEvent::RunFinished { results } => self.write(results),
            _ => Ok(()),
        }
    }
}

/// One flat CSV row per case. Units are in the column names; `timing` and
/// `energy_provenance` say whether figures are simulated/modeled or measured.
#[derive(Serialize, Default)]
struct CsvRow<'a> {
    case: &'a str,
    workload: &'a str,
    shape: &'a str,
    quantization: &'a str,
    kernels: &'a str,
    board: &'a str,
    core: &'a str,
    clock_hz: u64,
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
    energy_uj: f64,
    average_power_mw: f64,
    energy_provenance: &'a str,
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
            workload: &r.workload,
            shape: &r.shape,
            quantization: &r.quantization,
            kernels: &r.kernels,
            board: &r.provenance.board,
            core: &r.provenance.core,
            clock_hz: r.provenance.clock_hz,
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
            energy_uj: round(r.energy.energy_uj),
            average_power_mw: round(r.energy.average_power_mw),
            energy_provenance: r.energy.provenance.as_str(),
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

/// `results.csv`: one row per successful case.
pub fn csv_string(results: &RunResults) -> std::io::Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    if results.results.is_empty() {
        // Keep the header even with no rows, so tools can still read the file.
        w.write_record(csv_header())?;
    }
    for r in &results.results {
        w.serialize(CsvRow::from(r))?;
    }
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The CSV header line, from serializing an empty row.
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

/// `report.md`: a human-readable report.
pub fn markdown_string(results: &RunResults) -> String {
    let mut md = format!("# tinybench report\n\nConfiguration `{}` on board `{}`.\n\n", results.config, results.board);
    if let Some(r) = results.results.first() {
        md.push_str(&format!(
            "- Timing: **{}**.\n- Energy: **{}** — {}.\n- Revision `{}`, {}.\n\n",
            r.provenance.timing,
            r.energy.provenance.as_str(),
            r.energy_source,
            r.provenance.git_revision,
            r.provenance.toolchain
        ));
    }
    md.push_str("## Summary\n\n```text\n");
    md.push_str(&summary_table(results));
    md.push_str("```\n");
    for r in &results.results {
        md.push_str(&format!("\n## {}\n\n", r.case));
        md.push_str(&format!(
            "Workload `{}` `{}`, {} weights, kernels `{}`, {} MACs per inference; {} warm-up and {} timed inferences at {} Hz.\n\n",
            r.workload,
            r.shape,
            r.quantization,
            r.kernels,
            thousands(r.macs),
            r.warmup,
            r.iterations,
            thousands(r.provenance.clock_hz)
        ));
        md.push_str("| metric | min | median | max |\n|---|---:|---:|---:|\n");
        md.push_str(&format!(
            "| cycles ({}) | {} | {} | {} |\n",
            r.provenance.timing.split(' ').next().unwrap_or(""),
            thousands(r.cycles.min as u64),
            thousands(r.cycles.median as u64),
            thousands(r.cycles.max as u64)
        ));
        md.push_str(&format!(
            "| latency (us) | {:.2} | {:.2} | {:.2} |\n\n",
            r.latency_us.min, r.latency_us.median, r.latency_us.max
        ));
        md.push_str(&format!(
            "Energy per inference ({}): {:.3} uJ at {:.2} mW average.\n\n",
            r.energy.provenance.as_str(),
            r.energy.energy_uj,
            r.energy.average_power_mw
        ));
        let m = &r.memory;
        md.push_str("| memory | bytes |\n|---|---:|\n");
        for (name, v) in [
            ("text", m.sections.text_bytes),
            ("rodata", m.sections.rodata_bytes),
            ("data", m.sections.data_bytes),
            ("bss", m.sections.bss_bytes),
            ("flash (text + rodata + data)", m.flash_bytes),
            ("static RAM (data + bss)", m.static_ram_bytes),
            ("stack peak (painted)", m.stack_peak_bytes),
            ("weights", r.weight_bytes),
            ("activation arena", r.arena_bytes),
        ] {
            md.push_str(&format!("| {name} | {} |\n", thousands(v)));
        }
        if m.sections.eval_data_bytes > 0 {
            md.push_str(&format!(
                "\nEvaluation inputs linked for the accuracy run ({} bytes) are not counted in flash.\n",
                thousands(m.sections.eval_data_bytes)
            ));
        }
        if let Some(a) = &r.accuracy {
            md.push_str(&format!(
                "\nAccuracy: {:.2}% on {} test samples (host engine); {:.2}% on the first {} on the target, \
                 whose outputs equal the host's byte for byte.\n",
                a.host_pct, a.host_samples, a.target_pct, a.target_samples
            ));
        }
        if !r.layers.is_empty() {
            md.push_str(&format!(
                "\n| layer | op | output | MACs | weight B | cycles ({}) | MAC/cycle |\n|---:|---|---|---:|---:|---:|---:|\n",
                r.provenance.timing.split(' ').next().unwrap_or("")
            ));
            if r.layers.iter().any(|l| l.cycles_median == 0.0 && l.macs > 0) {
                md.push_str(
                    "\nLayers showing 0 cycles are fused into the following layer by the kernel set; \
                     the group's cycles are on its last layer.\n\n",
                );
            }
            for l in &r.layers {
                md.push_str(&format!(
                    "| {} | {} | {} | {} | {} | {} | {:.3} |\n",
                    l.index,
                    l.op,
                    l.output_shape,
                    thousands(l.macs),
                    thousands(l.weight_bytes),
                    thousands(l.cycles_median as u64),
                    l.macs_per_cycle
                ));
            }
        }
        md.push_str(&format!(
            "\nOutput checksum {:#010x} ({}); firmware SHA-256 `{}`.\n",
            r.output_checksum,
            if r.checksum_ok {
                "equals the host's computation".to_owned()
            } else {
                format!("host expected {:#010x}", r.expected_checksum)
            },
            r.provenance.firmware_sha256
        ));
    }
    if !results.failures.is_empty() {
        md.push_str("\n## Failures\n\n");
        for f in &results.failures {
            md.push_str(&format!("- `{}` ({:?}): {}\n", f.case, f.kind, f.error.replace('\n', " ")));
        }
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    #[test]
    fn csv_snapshot() {
        insta::assert_snapshot!(csv_string(&fixtures::results()).unwrap());
    }

    #[test]
    fn csv_without_rows_keeps_header() {
        let mut r = fixtures::results();
        r.results.clear();
        let csv = csv_string(&r).unwrap();
        assert!(csv.starts_with("case,workload,shape,"), "{csv}");
        assert_eq!(csv.lines().count(), 1);
    }

    #[test]
    fn markdown_snapshot() {
        insta::assert_snapshot!(markdown_string(&fixtures::results()));
    }

    #[test]
    fn json_round_trips_fields() {
        let json: serde_json::Value = serde_json::from_str(&json_string(&fixtures::results()).unwrap()).unwrap();
        assert_eq!(json["results"][0]["cycles_per_iteration"][1], 1_200_010);
        assert_eq!(json["results"][0]["energy"]["provenance"], "modeled");
        assert_eq!(json["failures"][0]["kind"], "target");
    }

    #[test]
    fn files_are_written_after_each_case() {
        let dir = tempfile::tempdir().unwrap();
        let mut rep = FilesReporter::new(dir.path(), "c.toml", "sim-m4");
        rep.on_event(&BenchEvent::CaseFinished { index: 0, result: Box::new(fixtures::result()) }).unwrap();
        for p in rep.paths() {
            assert!(p.is_file(), "{}", p.display());
        }
        let csv = std::fs::read_to_string(dir.path().join("results.csv")).unwrap();
        assert_eq!(csv.lines().count(), 2);
    }
}
