//! The per-layer table `tinybench model run` prints: op, output shape, MACs,
//! weight bytes, and the arena peak.

use std::fmt::Write;

use tinybench_kernels::tbm::Model;

use crate::Error;

/// One row per layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerRow {
    pub index: usize,
    pub source_index: usize,
    pub op: &'static str,
    pub output_shape: Vec<u16>,
    pub macs: u64,
    pub weight_bytes: usize,
}

pub fn rows(model: &Model<'_>) -> Result<Vec<LayerRow>, Error> {
    (0..model.layer_count())
        .map(|i| {
            let entry = model.entry(i).map_err(Error::Tbm)?;
            let layer = model.layer(i).map_err(Error::Tbm)?;
            Ok(LayerRow {
                index: i,
                source_index: usize::from(entry.source_index),
                op: entry.op.name(),
                output_shape: model.tensor(usize::from(entry.output)).dims().to_vec(),
                macs: layer.macs(),
                weight_bytes: entry.weight_bytes(),
            })
        })
        .collect()
}

/// The table as text, with totals and the arena peak.
pub fn table(model: &Model<'_>) -> Result<String, Error> {
    let rows = rows(model)?;
    let mut s = String::new();
    let _ = writeln!(s, "{:>5}  {:<18} {:<16} {:>12} {:>12}", "layer", "op", "output", "MACs", "weight B");
    for r in &rows {
        let shape = r.output_shape.iter().map(u16::to_string).collect::<Vec<_>>().join("x");
        let _ = writeln!(s, "{:>5}  {:<18} {:<16} {:>12} {:>12}", r.index, r.op, shape, r.macs, r.weight_bytes);
    }
    let macs: u64 = rows.iter().map(|r| r.macs).sum();
    let weights: usize = rows.iter().map(|r| r.weight_bytes).sum();
    let _ = writeln!(s, "{:>5}  {:<18} {:<16} {:>12} {:>12}", "total", "", "", macs, weights);
    let _ = writeln!(s, "arena peak: {} bytes", model.arena_bytes());
    Ok(s)
}
