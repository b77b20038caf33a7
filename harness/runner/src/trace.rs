//! A case's current trace as the meter recorded it, saved beside its
//! results as `trace.parquet`: one row per sample (`time_s`, `current_a`,
//! `voltage_v`, `marker`), written with polars (a capture has up to millions
//! of samples: Parquet keeps them about a tenth of the size of CSV and exact).
//! The layout is in `docs/result-tables.md`.

use std::path::Path;

use polars::prelude::*;
use tinybench_power::{Capture, MarkerTrack};

/// The file name beside a case's results.
pub const TRACE_FILE: &str = "trace.parquet";

/// Version of the trace's layout (the file's key-value metadata).
pub const TRACE_SCHEMA_VERSION: u32 = 1;
const KEY_SCHEMA: &str = "tinybench.trace-schema-version";
const KEY_INSTRUMENT: &str = "tinybench.instrument";

/// One sample: time (s), current (A), supply voltage (V), marker level.
pub type TraceRow = (f64, f64, f64, bool);

/// The capture's samples as rows, the marker as its level at each sample.
pub fn rows(capture: &Capture) -> Vec<TraceRow> {
    let edges = match &capture.marker {
        MarkerTrack::Edges(edges) => edges.clone(),
        MarkerTrack::Trigger { time_s } => vec![tinybench_power::MarkerEdge { time_s: *time_s, high: true }],
        MarkerTrack::Logic(_) => Vec::new(),
    };
    let mut edge = 0;
    let mut level = false;
    (0..capture.current_a.len())
        .map(|k| {
            let t = capture.time_s(k);
            let marker = match &capture.marker {
                MarkerTrack::Logic(levels) => levels.get(k).copied().unwrap_or(false),
                _ => {
                    while edge < edges.len() && edges[edge].time_s <= t {
                        level = edges[edge].high;
                        edge += 1;
                    }
                    level
                }
            };
            (t, capture.current_a[k], capture.volts(k), marker)
        })
        .collect()
}

/// Writes `capture` to `path` (atomically).
pub fn write_parquet(path: &Path, capture: &Capture) -> std::io::Result<()> {
    let rows = rows(capture);
    let column = |name: &str, values: Vec<f64>| Column::new(name.into(), values);
    let mut frame = DataFrame::new_infer_height(vec![
        column("time_s", rows.iter().map(|r| r.0).collect()),
        column("current_a", rows.iter().map(|r| r.1).collect()),
        column("voltage_v", rows.iter().map(|r| r.2).collect()),
        Column::new("marker".into(), rows.iter().map(|r| r.3).collect::<Vec<bool>>()),
    ])
    .map_err(std::io::Error::other)?;
    let metadata = vec![
        (KEY_SCHEMA.to_owned(), TRACE_SCHEMA_VERSION.to_string()),
        (KEY_INSTRUMENT.to_owned(), capture.instrument.clone()),
    ];
    let mut bytes = Vec::new();
    ParquetWriter::new(&mut bytes)
        .with_key_value_metadata(Some(KeyValueMetadata::from_static(metadata)))
        .finish(&mut frame)
        .map_err(std::io::Error::other)?;
    crate::write_atomically(path, &bytes)
}

/// The largest trace read back.
const MAX_TRACE_BYTES: u64 = 1 << 30;

/// Reads a `trace.parquet` back as rows. Errors say what is wrong with the
/// file in one line.
pub fn read_parquet(path: &Path) -> Result<Vec<TraceRow>, String> {
    let bytes = crate::input::read_limited(path, MAX_TRACE_BYTES, "trace").map_err(|e| e.to_string())?;
    let mut reader = ParquetReader::new(std::io::Cursor::new(bytes));
    let not_a_trace = |e: PolarsError| format!("not a tinybench trace.parquet: {e}");
    let version = reader
        .get_metadata()
        .map_err(not_a_trace)?
        .key_value_metadata()
        .iter()
        .flatten()
        .find(|kv| kv.key == KEY_SCHEMA)
        .and_then(|kv| kv.value.clone())
        .unwrap_or_default();
    if version != TRACE_SCHEMA_VERSION.to_string() {
        return Err(format!(
            "trace schema version `{version}` where this tinybench reads {TRACE_SCHEMA_VERSION}; \
             use the tinybench that wrote it"
        ));
    }
    let frame = reader.finish().map_err(not_a_trace)?;
    let floats = |name: &str| -> Result<Vec<f64>, String> {
        let values = frame.column(name).and_then(|c| c.f64().cloned()).map_err(not_a_trace)?;
        (0..values.len()).map(|k| values.get(k).ok_or_else(|| format!("`{name}` row {k} is empty"))).collect()
    };
    let (time_s, current_a, voltage_v) = (floats("time_s")?, floats("current_a")?, floats("voltage_v")?);
    let marker = frame.column("marker").and_then(|c| c.bool().cloned()).map_err(not_a_trace)?;
    Ok((0..time_s.len()).map(|k| (time_s[k], current_a[k], voltage_v[k], marker.get(k).unwrap_or(false))).collect())
}

#[cfg(test)]
mod tests {
    use tinybench_power::{MarkerEdge, Provenance, SampleKind, Timebase, Voltage};

    use super::*;

    #[test]
    fn a_trace_survives_parquet_with_its_marker_levels() {
        let capture = Capture {
            timebase: Timebase::Uniform { start_s: 0.0, interval_s: 1e-5 },
            sample_kind: SampleKind::Mean,
            current_a: vec![0.001, 0.02, 0.021, 0.001],
            voltage: Voltage::Constant { volts: 1.8 },
            marker: MarkerTrack::Edges(vec![
                MarkerEdge { time_s: 1e-5, high: true },
                MarkerEdge { time_s: 3e-5, high: false },
            ]),
            instrument: "scripted".into(),
            provenance: Provenance::Measured,
            resolution_a: 1e-6,
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(TRACE_FILE);
        write_parquet(&path, &capture).unwrap();
        let back = read_parquet(&path).unwrap();
        assert_eq!(back, rows(&capture));
        assert_eq!(back.iter().map(|r| r.3).collect::<Vec<_>>(), [false, true, true, false]);
        assert!(read_parquet(&dir.path().join("missing.parquet")).is_err());
        std::fs::write(&path, b"time_s,current_a\n").unwrap();
        assert!(read_parquet(&path).unwrap_err().contains("not a tinybench trace.parquet"));
    }
}
