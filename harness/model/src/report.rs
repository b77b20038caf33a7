//! The per-layer table `tinybench model run` prints: op, output shape, MACs,
//! weight bytes, and the arena peak.

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

/// The table as text (comfy-table), with totals and the arena peak.
pub fn table(model: &Model<'_>) -> Result<String, Error> {
    let rows = rows(model)?;
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_header(["layer", "op", "output", "MACs", "weight B"]);
    for r in &rows {
        let shape = r.output_shape.iter().map(u16::to_string).collect::<Vec<_>>().join("x");
        table.add_row([r.index.to_string(), r.op.to_owned(), shape, r.macs.to_string(), r.weight_bytes.to_string()]);
    }
    let macs: u64 = rows.iter().map(|r| r.macs).sum();
    let weights: usize = rows.iter().map(|r| r.weight_bytes).sum();
    table.add_row(["total".to_owned(), String::new(), String::new(), macs.to_string(), weights.to_string()]);
    for column in [0, 3, 4] {
        if let Some(c) = table.column_mut(column) {
            c.set_cell_alignment(comfy_table::CellAlignment::Right);
        }
    }
    Ok(format!("{table}\narena peak: {} bytes\n", model.arena_bytes()))
}
