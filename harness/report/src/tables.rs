//! The run's tables on disk: `results.parquet` (one row per case) and
//! `layers.parquet` (one row per case × layer), written with polars' eager
//! API. They hold everything the reports show, unrounded, so
//! `tinybench report <run-dir>` rebuilds every report from them alone; the
//! schema is versioned ([`SCHEMA_VERSION`]) and described in
//! `docs/result-tables.md`.
//!
//! Run-level facts (configuration, board, whether the run was stopped) are
//! the Parquet file's key-value metadata; case order is row order.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tinybench_power::{CaseEnergy, LayerEnergy, Spread as EnergySpread};
use tinybench_runner::{
    Accuracy, CaseFailure, CaseResult, LayerResult, MemoryUsage, Provenance, RunResults, Spread, StaticMemory,
    write_atomically,
};

use crate::ReportError;

/// Version of the tables' layout. Raise it when a column changes meaning or
/// goes away (adding a column does not); readers refuse other versions.
pub const SCHEMA_VERSION: u32 = 1;

pub const RESULTS_FILE: &str = "results.parquet";
pub const LAYERS_FILE: &str = "layers.parquet";

const KEY_SCHEMA: &str = "tinybench.schema-version";
const KEY_CONFIG: &str = "tinybench.config";
const KEY_BOARD: &str = "tinybench.board";
const KEY_INTERRUPTED: &str = "tinybench.interrupted";

/// Columns of one table, built row by row.
#[derive(Default)]
struct Columns(Vec<Column>);

impl Columns {
    fn add<T, P: ?Sized>(&mut self, name: &str, values: Vec<T>)
    where
        Series: NamedFrom<Vec<T>, P>,
    {
        self.0.push(Column::new(name.into(), values));
    }

    fn add_lists<T, P: ?Sized>(&mut self, name: &str, lists: Vec<Vec<T>>)
    where
        Series: NamedFrom<Vec<T>, P>,
    {
        let series: Vec<Series> = lists.into_iter().map(|l| Series::new(PlSmallStr::EMPTY, l)).collect();
        self.0.push(list_column(name, series));
    }

    fn frame(self, path: &Path) -> Result<DataFrame, ReportError> {
        DataFrame::new_infer_height(self.0).map_err(|e| ReportError::parquet(path, e))
    }
}

fn list_column(name: &str, lists: Vec<Series>) -> Column {
    Series::new(name.into(), lists).into_column()
}

/// An enum's serde name (`marker-edges`, `modeled`, `target`): one spelling,
/// the one results.json uses.
fn serde_name<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

fn from_serde_name<T: DeserializeOwned>(name: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(name.to_owned())).ok()
}

/// Writes `results.parquet` and `layers.parquet` for `results` into `dir`.
pub fn write_tables(dir: &Path, results: &RunResults) -> Result<(), ReportError> {
    let metadata = vec![
        (KEY_SCHEMA.to_owned(), SCHEMA_VERSION.to_string()),
        (KEY_CONFIG.to_owned(), results.config.clone()),
        (KEY_BOARD.to_owned(), results.board.clone()),
        (KEY_INTERRUPTED.to_owned(), results.interrupted.to_string()),
    ];
    let path = dir.join(RESULTS_FILE);
    let mut frame = results_frame(results, &path)?;
    write_frame(&path, &mut frame, metadata.clone())?;
    let path = dir.join(LAYERS_FILE);
    let mut frame = layers_frame(results, &path)?;
    write_frame(&path, &mut frame, metadata)
}

fn write_frame(path: &Path, frame: &mut DataFrame, metadata: Vec<(String, String)>) -> Result<(), ReportError> {
    let mut bytes = Vec::new();
    ParquetWriter::new(&mut bytes)
        .with_key_value_metadata(Some(KeyValueMetadata::from_static(metadata)))
        .finish(frame)
        .map_err(|e| ReportError::parquet(path, e))?;
    write_atomically(path, &bytes).map_err(|source| ReportError::Io { path: path.to_owned(), source })
}

fn results_frame(results: &RunResults, path: &Path) -> Result<DataFrame, ReportError> {
    let rows: Vec<Row> = results
        .cases
        .iter()
        .map(|case| match results.results.iter().find(|r| &r.case == case) {
            Some(r) => Row::Result(r),
            None => match results.failures.iter().find(|f| &f.case == case) {
                Some(f) => Row::Failure(f),
                None => Row::NotRun(case),
            },
        })
        .collect();
    let result = Row::result;
    let mut c = Columns::default();
    // For each column: its values, one per row.
    macro_rules! per_result {
        ($name:expr, |$r:ident| $value:expr) => {
            c.add($name, rows.iter().map(|row| result(row).map(|$r| $value)).collect::<Vec<_>>())
        };
    }
    macro_rules! per_energy {
        ($name:expr, |$e:ident| $value:expr) => {
            c.add(
                $name,
                rows.iter().map(|row| result(row).and_then(|r| r.energy.as_ref()).map(|$e| $value)).collect::<Vec<_>>(),
            )
        };
    }
    c.add("case", rows.iter().map(|row| row.case().to_owned()).collect::<Vec<_>>());
    c.add("status", rows.iter().map(|row| row.status().to_owned()).collect::<Vec<_>>());
    c.add(
        "reason",
        rows.iter()
            .map(|row| match row {
                Row::Failure(f) => Some(format!("{}: {}", f.kind.as_str(), f.reason())),
                _ => None,
            })
            .collect::<Vec<_>>(),
    );
    c.add(
        "failure_kind",
        rows.iter()
            .map(|row| if let Row::Failure(f) = row { Some(serde_name(&f.kind)) } else { None })
            .collect::<Vec<_>>(),
    );
    c.add(
        "error",
        rows.iter().map(|row| if let Row::Failure(f) = row { Some(f.error.clone()) } else { None }).collect::<Vec<_>>(),
    );
    per_result!("workload", |r| r.workload.clone());
    per_result!("shape", |r| r.shape.clone());
    per_result!("quantization", |r| r.quantization.clone());
    per_result!("kernels", |r| r.kernels.clone());
    per_result!("board", |r| r.provenance.board.clone());
    per_result!("core", |r| r.provenance.core.clone());
    per_result!("clock_hz", |r| r.provenance.clock_hz);
    per_result!("board_settings", |r| crate::files::board_settings(r, "=", "; "));
    let settings = |pick: fn((&String, &String)) -> String| {
        rows.iter()
            .map(|row| result(row).map_or(Vec::new(), |r| r.provenance.board_settings.iter().map(pick).collect()))
            .collect::<Vec<Vec<String>>>()
    };
    c.add_lists("board_setting_keys", settings(|(k, _)| k.clone()));
    c.add_lists("board_setting_values", settings(|(_, v)| v.clone()));
    per_result!("target", |r| r.provenance.target.clone());
    per_result!("timing", |r| r.provenance.timing.clone());
    per_result!("warmup", |r| r.warmup);
    per_result!("iterations", |r| r.iterations);
    per_result!("macs", |r| r.macs);
    c.add_lists(
        "cycles_per_iteration",
        rows.iter().map(|row| result(row).map_or(Vec::new(), |r| r.cycles_per_iteration.clone())).collect(),
    );
    per_result!("cycles_min", |r| r.cycles.min);
    per_result!("cycles_median", |r| r.cycles.median);
    per_result!("cycles_max", |r| r.cycles.max);
    per_result!("latency_us_min", |r| r.latency_us.min);
    per_result!("latency_us_median", |r| r.latency_us.median);
    per_result!("latency_us_max", |r| r.latency_us.max);
    per_result!("macs_per_cycle", |r| r.macs_per_cycle);
    per_result!("meter", |r| r.meter.clone());
    c.add_lists(
        "energy_per_inference_uj",
        rows.iter()
            .map(|row| result(row).and_then(|r| r.energy.as_ref()).map_or(Vec::new(), |e| e.per_inference_uj.clone()))
            .collect(),
    );
    per_energy!("energy_uj_min", |e| e.energy_uj.min);
    per_energy!("energy_uj_median", |e| e.energy_uj.median);
    per_energy!("energy_uj_max", |e| e.energy_uj.max);
    per_energy!("energy_uncertainty_uj", |e| e.uncertainty_uj);
    per_energy!("average_power_mw", |e| e.average_power_mw);
    c.add(
        "idle_power_mw",
        rows.iter()
            .map(|row| result(row).and_then(|r| r.energy.as_ref()).and_then(|e| e.idle_power_mw))
            .collect::<Vec<_>>(),
    );
    per_energy!("energy_provenance", |e| serde_name(&e.provenance));
    per_energy!("energy_method", |e| serde_name(&e.method));
    per_energy!("energy_loop_averaged", |e| e.loop_averaged);
    per_energy!("energy_instrument", |e| e.instrument.clone());
    c.add(
        "energy_modeled_exact_uj",
        rows.iter()
            .map(|row| result(row).and_then(|r| r.energy.as_ref()).and_then(|e| e.modeled_exact_uj))
            .collect::<Vec<_>>(),
    );
    per_result!("text_bytes", |r| r.memory.sections.text_bytes);
    per_result!("rodata_bytes", |r| r.memory.sections.rodata_bytes);
    per_result!("data_bytes", |r| r.memory.sections.data_bytes);
    per_result!("bss_bytes", |r| r.memory.sections.bss_bytes);
    per_result!("eval_data_bytes", |r| r.memory.sections.eval_data_bytes);
    per_result!("flash_bytes", |r| r.memory.flash_bytes);
    per_result!("static_ram_bytes", |r| r.memory.static_ram_bytes);
    per_result!("stack_peak_bytes", |r| r.memory.stack_peak_bytes);
    per_result!("stack_size_bytes", |r| r.memory.stack_size_bytes);
    per_result!("weight_bytes", |r| r.weight_bytes);
    per_result!("arena_bytes", |r| r.arena_bytes);
    let accuracy = |pick: fn(&Accuracy) -> f64| {
        rows.iter().map(|row| result(row).and_then(|r| r.accuracy.as_ref()).map(pick)).collect::<Vec<_>>()
    };
    let samples = |pick: fn(&Accuracy) -> u32| {
        rows.iter().map(|row| result(row).and_then(|r| r.accuracy.as_ref()).map(pick)).collect::<Vec<_>>()
    };
    c.add("accuracy_pct", accuracy(|a| a.host_pct));
    c.add("accuracy_samples", samples(|a| a.host_samples));
    c.add("target_accuracy_pct", accuracy(|a| a.target_pct));
    c.add("target_accuracy_samples", samples(|a| a.target_samples));
    per_result!("output_checksum", |r| r.output_checksum);
    per_result!("expected_checksum", |r| r.expected_checksum);
    per_result!("checksum_ok", |r| r.checksum_ok);
    per_result!("tinybench_version", |r| r.provenance.tinybench_version.clone());
    per_result!("git_revision", |r| r.provenance.git_revision.clone());
    per_result!("toolchain", |r| r.provenance.toolchain.clone());
    per_result!("firmware_sha256", |r| r.provenance.firmware_sha256.clone());
    per_result!("inputs_sha256", |r| r.provenance.inputs_sha256.clone());
    per_result!("timestamp", |r| r.provenance.timestamp.clone());
    c.frame(path)
}

enum Row<'a> {
    Result(&'a CaseResult),
    Failure(&'a CaseFailure),
    NotRun(&'a str),
}

impl<'a> Row<'a> {
    fn result(&self) -> Option<&'a CaseResult> {
        if let Row::Result(r) = self { Some(r) } else { None }
    }

    fn case(&self) -> &str {
        match self {
            Row::Result(r) => &r.case,
            Row::Failure(f) => &f.case,
            Row::NotRun(case) => case,
        }
    }

    /// The same word as results.csv's `status`.
    fn status(&self) -> &'static str {
        match self {
            Row::Result(r) if r.checksum_ok => "ok",
            Row::Result(_) => "output-mismatch",
            Row::Failure(_) => "failed",
            Row::NotRun(_) => "not-run",
        }
    }
}

fn layers_frame(results: &RunResults, path: &Path) -> Result<DataFrame, ReportError> {
    let layers: Vec<(&CaseResult, &LayerResult)> =
        results.results.iter().flat_map(|r| r.layers.iter().map(move |l| (r, l))).collect();
    let energy_of = |r: &CaseResult, l: &LayerResult| -> Option<LayerEnergy> {
        r.energy.as_ref().and_then(|e| e.layers.iter().find(|le| le.index == l.index)).cloned()
    };
    let mut c = Columns::default();
    c.add("case", layers.iter().map(|(r, _)| r.case.clone()).collect::<Vec<_>>());
    c.add("kernels", layers.iter().map(|(r, _)| r.kernels.clone()).collect::<Vec<_>>());
    c.add("layer", layers.iter().map(|(_, l)| l.index as u32).collect::<Vec<_>>());
    c.add("op", layers.iter().map(|(_, l)| l.op.clone()).collect::<Vec<_>>());
    c.add("output_shape", layers.iter().map(|(_, l)| l.output_shape.clone()).collect::<Vec<_>>());
    c.add("macs", layers.iter().map(|(_, l)| l.macs).collect::<Vec<_>>());
    c.add("weight_bytes", layers.iter().map(|(_, l)| l.weight_bytes).collect::<Vec<_>>());
    c.add("cycles_median", layers.iter().map(|(_, l)| l.cycles_median).collect::<Vec<_>>());
    c.add("macs_per_cycle", layers.iter().map(|(_, l)| l.macs_per_cycle).collect::<Vec<_>>());
    c.add("energy_uj", layers.iter().map(|(_, l)| l.energy_uj).collect::<Vec<_>>());
    c.add("energy_method", layers.iter().map(|(_, l)| l.energy_method.map(|m| serde_name(&m))).collect::<Vec<_>>());
    c.add("energy_samples", layers.iter().map(|(r, l)| energy_of(r, l).map(|e| e.samples)).collect::<Vec<_>>());
    c.add(
        "energy_modeled_exact_uj",
        layers.iter().map(|(r, l)| energy_of(r, l).and_then(|e| e.modeled_exact_uj)).collect::<Vec<_>>(),
    );
    c.frame(path)
}

/// A table read back, with typed cell access whose errors name the file,
/// the column and the row.
struct Table {
    path: PathBuf,
    frame: DataFrame,
    metadata: BTreeMap<String, String>,
}

impl Table {
    fn read(path: &Path) -> Result<Table, ReportError> {
        const MAX_TABLE_BYTES: u64 = 512 << 20;
        let bytes = tinybench_runner::input::read_limited(path, MAX_TABLE_BYTES, "table")
            .map_err(|e| ReportError::Read { path: path.to_owned(), message: e.to_string() })?;
        let mut reader = ParquetReader::new(std::io::Cursor::new(bytes));
        let metadata: BTreeMap<String, String> = reader
            .get_metadata()
            .map_err(|e| ReportError::parquet(path, e))?
            .key_value_metadata()
            .iter()
            .flatten()
            .filter_map(|kv| kv.value.clone().map(|v| (kv.key.clone(), v)))
            .collect();
        let version = metadata.get(KEY_SCHEMA).cloned().unwrap_or_default();
        if version != SCHEMA_VERSION.to_string() {
            return Err(ReportError::Schema {
                path: path.to_owned(),
                message: format!(
                    "schema version `{version}` where this tinybench reads {SCHEMA_VERSION}; \
                     use the tinybench that wrote it, or rerun the configuration"
                ),
            });
        }
        let frame = reader.finish().map_err(|e| ReportError::parquet(path, e))?;
        Ok(Table { path: path.to_owned(), frame, metadata })
    }

    fn rows(&self) -> usize {
        self.frame.height()
    }

    fn schema_error(&self, column: &str, message: impl std::fmt::Display) -> ReportError {
        ReportError::Schema { path: self.path.clone(), message: format!("column `{column}`: {message}") }
    }

    fn column(&self, name: &str) -> Result<&Column, ReportError> {
        self.frame.column(name).map_err(|_| self.schema_error(name, "missing"))
    }

    fn opt<T>(
        &self,
        name: &str,
        get: impl FnOnce(&Column) -> PolarsResult<Option<T>>,
    ) -> Result<Option<T>, ReportError> {
        get(self.column(name)?).map_err(|e| self.schema_error(name, e))
    }

    fn req<T>(
        &self,
        name: &str,
        row: usize,
        get: impl FnOnce(&Column) -> PolarsResult<Option<T>>,
    ) -> Result<T, ReportError> {
        self.opt(name, get)?.ok_or_else(|| self.schema_error(name, format_args!("row {row} is empty")))
    }

    fn str_opt(&self, name: &str, row: usize) -> Result<Option<String>, ReportError> {
        self.opt(name, |c| Ok(c.str()?.get(row).map(str::to_owned)))
    }
    fn str(&self, name: &str, row: usize) -> Result<String, ReportError> {
        self.req(name, row, |c| Ok(c.str()?.get(row).map(str::to_owned)))
    }
    fn u64(&self, name: &str, row: usize) -> Result<u64, ReportError> {
        self.req(name, row, |c| Ok(c.u64()?.get(row)))
    }
    fn u32_opt(&self, name: &str, row: usize) -> Result<Option<u32>, ReportError> {
        self.opt(name, |c| Ok(c.u32()?.get(row)))
    }
    fn u32(&self, name: &str, row: usize) -> Result<u32, ReportError> {
        self.req(name, row, |c| Ok(c.u32()?.get(row)))
    }
    fn f64_opt(&self, name: &str, row: usize) -> Result<Option<f64>, ReportError> {
        self.opt(name, |c| Ok(c.f64()?.get(row)))
    }
    fn f64(&self, name: &str, row: usize) -> Result<f64, ReportError> {
        self.req(name, row, |c| Ok(c.f64()?.get(row)))
    }
    fn bool(&self, name: &str, row: usize) -> Result<bool, ReportError> {
        self.req(name, row, |c| Ok(c.bool()?.get(row)))
    }
    fn list(&self, name: &str, row: usize) -> Result<Series, ReportError> {
        self.req(name, row, |c| c.list()?.get_as_series(row).map_or(Ok(None), |s| Ok(Some(s))))
    }
    fn u32_list(&self, name: &str, row: usize) -> Result<Vec<u32>, ReportError> {
        let list = self.list(name, row)?;
        let values = list.u32().map_err(|e| self.schema_error(name, e))?;
        Ok((0..values.len()).filter_map(|i| values.get(i)).collect())
    }
    fn f64_list(&self, name: &str, row: usize) -> Result<Vec<f64>, ReportError> {
        let list = self.list(name, row)?;
        let values = list.f64().map_err(|e| self.schema_error(name, e))?;
        Ok((0..values.len()).filter_map(|i| values.get(i)).collect())
    }
    fn str_list(&self, name: &str, row: usize) -> Result<Vec<String>, ReportError> {
        let list = self.list(name, row)?;
        let values = list.str().map_err(|e| self.schema_error(name, e))?;
        Ok((0..values.len()).filter_map(|i| values.get(i).map(str::to_owned)).collect())
    }
    fn enum_value<T: DeserializeOwned>(&self, name: &str, row: usize) -> Result<Option<T>, ReportError> {
        match self.str_opt(name, row)? {
            None => Ok(None),
            Some(text) => from_serde_name(&text)
                .map(Some)
                .ok_or_else(|| self.schema_error(name, format_args!("row {row}: unknown value `{text}`"))),
        }
    }
}

/// Reads a run back from `results.parquet` and `layers.parquet` in `dir`.
pub fn read_tables(dir: &Path) -> Result<RunResults, ReportError> {
    let t = Table::read(&dir.join(RESULTS_FILE))?;
    let layers = Table::read(&dir.join(LAYERS_FILE))?;
    let meta = |key: &str| {
        t.metadata.get(key).cloned().ok_or_else(|| ReportError::Schema {
            path: t.path.clone(),
            message: format!("no `{key}` in the file's metadata"),
        })
    };
    let mut cases = Vec::with_capacity(t.rows());
    let mut results = Vec::new();
    let mut failures = Vec::new();
    for row in 0..t.rows() {
        let case = t.str("case", row)?;
        cases.push(case.clone());
        match t.str("status", row)?.as_str() {
            "ok" | "output-mismatch" => results.push(read_result(&t, &layers, row, case)?),
            "failed" => failures.push(CaseFailure {
                case,
                kind: t
                    .enum_value("failure_kind", row)?
                    .ok_or_else(|| t.schema_error("failure_kind", format_args!("row {row} is empty")))?,
                error: t.str("error", row)?,
            }),
            "not-run" => {}
            other => return Err(t.schema_error("status", format_args!("row {row}: unknown status `{other}`"))),
        }
    }
    let mut run = RunResults::new(meta(KEY_CONFIG)?, meta(KEY_BOARD)?, cases);
    run.results = results;
    run.failures = failures;
    run.interrupted = meta(KEY_INTERRUPTED)? == "true";
    run.update_status();
    Ok(run)
}

fn read_result(t: &Table, layers: &Table, row: usize, case: String) -> Result<CaseResult, ReportError> {
    let keys = t.str_list("board_setting_keys", row)?;
    let values = t.str_list("board_setting_values", row)?;
    if keys.len() != values.len() {
        return Err(t.schema_error("board_setting_values", format_args!("row {row}: not one value per key")));
    }
    let mut case_layers = Vec::new();
    let mut layer_energies = Vec::new();
    for l in 0..layers.rows() {
        if layers.str("case", l)? != case {
            continue;
        }
        let index = layers.u32("layer", l)? as usize;
        let energy_uj = layers.f64_opt("energy_uj", l)?;
        let energy_method = layers.enum_value("energy_method", l)?;
        if let (Some(energy_uj), Some(method), Some(samples)) =
            (energy_uj, energy_method, layers.f64_opt("energy_samples", l)?)
        {
            let modeled_exact_uj = layers.f64_opt("energy_modeled_exact_uj", l)?;
            layer_energies.push(LayerEnergy { index, energy_uj, method, samples, modeled_exact_uj });
        }
        case_layers.push(LayerResult {
            index,
            op: layers.str("op", l)?,
            output_shape: layers.str("output_shape", l)?,
            macs: layers.u64("macs", l)?,
            weight_bytes: layers.u64("weight_bytes", l)?,
            cycles_median: layers.f64("cycles_median", l)?,
            macs_per_cycle: layers.f64("macs_per_cycle", l)?,
            energy_uj,
            energy_method,
        });
    }
    let energy = match t.enum_value("energy_provenance", row)? {
        None => None,
        Some(provenance) => Some(CaseEnergy {
            per_inference_uj: t.f64_list("energy_per_inference_uj", row)?,
            energy_uj: EnergySpread {
                min: t.f64("energy_uj_min", row)?,
                median: t.f64("energy_uj_median", row)?,
                max: t.f64("energy_uj_max", row)?,
            },
            average_power_mw: t.f64("average_power_mw", row)?,
            idle_power_mw: t.f64_opt("idle_power_mw", row)?,
            uncertainty_uj: t.f64("energy_uncertainty_uj", row)?,
            method: t
                .enum_value("energy_method", row)?
                .ok_or_else(|| t.schema_error("energy_method", format_args!("row {row} is empty")))?,
            loop_averaged: t.bool("energy_loop_averaged", row)?,
            layers: layer_energies,
            instrument: t.str("energy_instrument", row)?,
            provenance,
            modeled_exact_uj: t.f64_opt("energy_modeled_exact_uj", row)?,
        }),
    };
    let accuracy = match t.f64_opt("accuracy_pct", row)? {
        None => None,
        Some(host_pct) => Some(Accuracy {
            host_pct,
            host_samples: t.u32("accuracy_samples", row)?,
            target_pct: t.f64("target_accuracy_pct", row)?,
            target_samples: t.u32_opt("target_accuracy_samples", row)?.unwrap_or_default(),
        }),
    };
    let spread = |name: &str| -> Result<Spread, ReportError> {
        Ok(Spread {
            min: t.f64(&format!("{name}_min"), row)?,
            median: t.f64(&format!("{name}_median"), row)?,
            max: t.f64(&format!("{name}_max"), row)?,
        })
    };
    Ok(CaseResult {
        workload: t.str("workload", row)?,
        shape: t.str("shape", row)?,
        quantization: t.str("quantization", row)?,
        kernels: t.str("kernels", row)?,
        warmup: t.u32("warmup", row)?,
        iterations: t.u32("iterations", row)?,
        macs: t.u64("macs", row)?,
        cycles_per_iteration: t.u32_list("cycles_per_iteration", row)?,
        cycles: spread("cycles")?,
        latency_us: spread("latency_us")?,
        macs_per_cycle: t.f64("macs_per_cycle", row)?,
        meter: t.str("meter", row)?,
        energy,
        memory: MemoryUsage {
            sections: StaticMemory {
                text_bytes: t.u64("text_bytes", row)?,
                rodata_bytes: t.u64("rodata_bytes", row)?,
                data_bytes: t.u64("data_bytes", row)?,
                bss_bytes: t.u64("bss_bytes", row)?,
                eval_data_bytes: t.u64("eval_data_bytes", row)?,
            },
            flash_bytes: t.u64("flash_bytes", row)?,
            static_ram_bytes: t.u64("static_ram_bytes", row)?,
            stack_peak_bytes: t.u64("stack_peak_bytes", row)?,
            stack_size_bytes: t.u64("stack_size_bytes", row)?,
        },
        weight_bytes: t.u64("weight_bytes", row)?,
        arena_bytes: t.u64("arena_bytes", row)?,
        layers: case_layers,
        accuracy,
        output_checksum: t.u32("output_checksum", row)?,
        expected_checksum: t.u32("expected_checksum", row)?,
        checksum_ok: t.bool("checksum_ok", row)?,
        provenance: Provenance {
            tinybench_version: t.str("tinybench_version", row)?,
            git_revision: t.str("git_revision", row)?,
            toolchain: t.str("toolchain", row)?,
            board: t.str("board", row)?,
            core: t.str("core", row)?,
            clock_hz: t.u64("clock_hz", row)?,
            board_settings: keys.into_iter().zip(values).collect(),
            target: t.str("target", row)?,
            timing: t.str("timing", row)?,
            firmware_sha256: t.str("firmware_sha256", row)?,
            inputs_sha256: t.str("inputs_sha256", row)?,
            timestamp: t.str("timestamp", row)?,
        },
        case,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    fn round_trip(results: &RunResults) -> RunResults {
        let dir = tempfile::tempdir().unwrap();
        write_tables(dir.path(), results).unwrap();
        read_tables(dir.path()).unwrap()
    }

    #[test]
    fn a_run_survives_the_tables_unchanged() {
        let run = fixtures::results();
        assert_eq!(round_trip(&run), run);
        // Without energy, accuracy or layers, and a case not run yet.
        let mut bare = fixtures::results();
        bare.results[0].energy = None;
        bare.results[0].accuracy = None;
        bare.results[0].layers.clear();
        bare.results[0].provenance.board_settings.clear();
        bare.cases.push("later".into());
        bare.finish(true);
        assert!(bare.interrupted);
        assert_eq!(round_trip(&bare), bare);
    }

    #[test]
    fn the_tables_have_the_documented_columns() {
        let dir = tempfile::tempdir().unwrap();
        write_tables(dir.path(), &fixtures::results()).unwrap();
        let doc = include_str!("../../../docs/result-tables.md");
        for file in [RESULTS_FILE, LAYERS_FILE] {
            let t = Table::read(&dir.path().join(file)).unwrap();
            for column in t.frame.get_column_names() {
                assert!(doc.contains(&format!("| `{column}` |")), "{file}: column `{column}` is not documented");
            }
        }
    }

    #[test]
    fn another_schema_version_is_refused_with_a_fix() {
        let dir = tempfile::tempdir().unwrap();
        let mut frame = df!("case" => ["a"]).unwrap();
        write_frame(&dir.path().join(RESULTS_FILE), &mut frame, vec![(KEY_SCHEMA.into(), "99".into())]).unwrap();
        let e = read_tables(dir.path()).unwrap_err().to_string();
        assert!(e.contains("schema version `99`") && e.contains("rerun"), "{e}");
    }
}
