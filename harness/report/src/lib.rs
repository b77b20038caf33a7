//! host: reporters. Each turns the runner's [`BenchEvent`] stream into one
//! output, independently of the others:
//!
//! - [`TerminalReporter`]: progress on stderr, a summary table on stdout;
//! - [`FilesReporter`]: `results.csv`, `results.json` and `report.md` in the
//!   run folder, rewritten after every case so a failure loses nothing.
//!
//! Tables come from comfy-table (terminal and Markdown presets), progress
//! bars from indicatif.

pub mod compare;
mod files;
mod html;
pub mod plots;
mod table;
pub mod tables;
mod terminal;

use std::path::PathBuf;

use tinybench_runner::BenchEvent;

pub use compare::{Allowance, Comparison, DEFAULT_MAD_K, ThresholdError, Thresholds, compare};
pub use files::{FilesReporter, PLOTS_DIR, csv_string, json_string, markdown_string, write_reports};
pub use html::html_string;
pub use table::{TableStyle, summary_table};
pub use terminal::TerminalReporter;

/// What can go wrong writing or reading a run's reports and tables.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}: cannot read: {message}", path.display())]
    Read { path: PathBuf, message: String },
    #[error("{}: Parquet: {source}", path.display())]
    Parquet { path: PathBuf, source: polars::error::PolarsError },
    #[error("{}: not a tinybench table of this version: {message}", path.display())]
    Schema { path: PathBuf, message: String },
    #[error(
        "plot `{plot}` could not be drawn: {message}; the tables and other reports are written, please report this"
    )]
    Plot { plot: String, message: String },
}

impl ReportError {
    pub(crate) fn parquet(path: &std::path::Path, source: polars::error::PolarsError) -> ReportError {
        ReportError::Parquet { path: path.to_owned(), source }
    }
}

impl From<ReportError> for std::io::Error {
    fn from(e: ReportError) -> Self {
        match e {
            ReportError::Io { source, .. } => source,
            other => std::io::Error::other(other),
        }
    }
}

/// Consumes run events.
pub trait Reporter {
    fn on_event(&mut self, event: &BenchEvent) -> std::io::Result<()>;
}

/// Formats an integer with thousands separators: `1234567` -> `1,234,567`.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
pub(crate) mod fixtures {
    use tinybench_power::{CaseEnergy, LayerEnergy, Provenance as Source, Spread as EnergySpread, WindowMethod};
    use tinybench_runner::{CaseResult, MemoryUsage, Provenance, RunResults, Spread, StaticMemory};

    /// A fixed result, so rendered reports can be snapshot-tested.
    pub fn result() -> CaseResult {
        CaseResult {
            case: "conv3x3-16x16x8-16".into(),
            workload: "conv2d-3x3".into(),
            shape: "16x16x8:16".into(),
            quantization: "int8".into(),
            kernels: "reference".into(),
            warmup: 2,
            iterations: 3,
            macs: 294_912,
            cycles_per_iteration: vec![1_200_000, 1_200_010, 1_199_990],
            cycles: Spread { min: 1_199_990.0, median: 1_200_000.0, max: 1_200_010.0 },
            latency_us: Spread { min: 9999.916666666666, median: 10000.0, max: 10000.083333333334 },
            macs_per_cycle: 0.24576,
            meter: "model".into(),
            energy: Some(CaseEnergy {
                per_inference_uj: vec![215.5, 216.0, 216.25],
                energy_uj: EnergySpread { min: 215.5, median: 216.0, max: 216.25 },
                average_power_mw: 21.6,
                idle_power_mw: Some(0.5),
                uncertainty_uj: 0.125,
                method: WindowMethod::MarkerEdges,
                loop_averaged: false,
                layers: vec![
                    LayerEnergy {
                        index: 0,
                        energy_uj: 207.0,
                        method: WindowMethod::MarkerEdges,
                        samples: 230.0,
                        modeled_exact_uj: None,
                    },
                    LayerEnergy {
                        index: 1,
                        energy_uj: 9.0,
                        method: WindowMethod::MarkerEdges,
                        samples: 10.0,
                        modeled_exact_uj: None,
                    },
                ],
                instrument: "current model of sim-m4".into(),
                provenance: Source::Modeled,
                modeled_exact_uj: None,
            }),
            memory: MemoryUsage {
                sections: StaticMemory {
                    text_bytes: 10_000,
                    rodata_bytes: 5_000,
                    data_bytes: 100,
                    bss_bytes: 6_000,
                    eval_data_bytes: 15_680,
                },
                flash_bytes: 15_100,
                static_ram_bytes: 6_100,
                stack_peak_bytes: 1_024,
                stack_size_bytes: 649_260,
            },
            weight_bytes: 1_216,
            arena_bytes: 6_144,
            layers: vec![
                tinybench_runner::LayerResult {
                    index: 0,
                    op: "CONV_2D".into(),
                    output_shape: "1x16x16x16".into(),
                    macs: 294_912,
                    weight_bytes: 1_216,
                    cycles_median: 1_150_000.0,
                    macs_per_cycle: 0.256,
                    energy_uj: Some(207.0),
                    energy_method: Some(WindowMethod::MarkerEdges),
                },
                tinybench_runner::LayerResult {
                    index: 1,
                    op: "SOFTMAX".into(),
                    output_shape: "1x16x16x16".into(),
                    macs: 0,
                    weight_bytes: 1_024,
                    cycles_median: 50_000.0,
                    macs_per_cycle: 0.0,
                    energy_uj: Some(9.0),
                    energy_method: Some(WindowMethod::MarkerEdges),
                },
            ],
            accuracy: Some(tinybench_runner::Accuracy {
                host_pct: 98.25,
                host_samples: 2000,
                target_pct: 100.0,
                target_samples: 20,
            }),
            output_checksum: 0x1234_5678,
            expected_checksum: 0x1234_5678,
            checksum_ok: true,
            provenance: Provenance {
                tinybench_version: "0.1.0".into(),
                git_revision: "abcdef123456".into(),
                toolchain: "rustc 1.95.0 (59807616e 2026-04-14)".into(),
                board: "sim-m4".into(),
                core: "cortex-m4".into(),
                clock_hz: 120_000_000,
                board_settings: [
                    ("clock", "120 MHz (modeled)"),
                    ("flash-wait-states", "5, ART-style prefetch and caches (modeled)"),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
                target: "sim".into(),
                timing: "simulated (cortex-m4 cycle model)".into(),
                firmware_sha256: "00ff".into(),
                inputs_sha256: "aa11".into(),
                timestamp: "2026-11-27T23:00:00Z".into(),
            },
        }
    }

    /// A finished run of two cases: one result, one failure.
    pub fn results() -> RunResults {
        let cases = vec!["conv3x3-16x16x8-16".to_owned(), "broken".to_owned()];
        let mut results = RunResults::new("configs/sim-m4.toml".into(), "sim-m4".into(), cases);
        results.results.push(result());
        results.failures.push(tinybench_runner::CaseFailure {
            case: "broken".into(),
            kind: tinybench_runner::FailureKind::Target,
            error: "simulation stopped: undefined instruction".into(),
        });
        results.finish(false);
        results
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_separators() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(1000), "1,000");
        assert_eq!(super::thousands(1_234_567), "1,234,567");
    }
}
