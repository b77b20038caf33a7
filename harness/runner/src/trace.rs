//! A case's current trace as the meter recorded it, saved beside its
//! results: one row per sample (time, current, voltage, marker level).

use std::io::Write;
use std::path::Path;

use tinybench_power::{Capture, MarkerTrack};

/// Writes `capture` as CSV: `time_s,current_a,voltage_v,marker`.
pub fn write_csv(path: &Path, capture: &Capture) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(out, "time_s,current_a,voltage_v,marker")?;
    let edges = match &capture.marker {
        MarkerTrack::Edges(edges) => edges.clone(),
        MarkerTrack::Trigger { time_s } => vec![tinybench_power::MarkerEdge { time_s: *time_s, high: true }],
        MarkerTrack::Logic(_) => Vec::new(),
    };
    let mut edge = 0;
    let mut level = false;
    for k in 0..capture.current_a.len() {
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
        writeln!(out, "{t:.9},{:.9e},{:.6},{}", capture.current_a[k], capture.volts(k), u8::from(marker))?;
    }
    out.flush()
}
