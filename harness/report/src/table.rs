//! The plain-text summary table printed at the end of a run.

use tinybench_runner::RunResults;

use crate::thousands;

/// One row per case, columns aligned; simulated and modeled figures say so in
/// their headers.
pub fn summary_table(results: &RunResults) -> String {
    let timing = results.results.first().map_or("cycles", |r| {
        if r.provenance.timing.starts_with("simulated") { "cycles (simulated)" } else { "cycles (measured)" }
    });
    let energy = results
        .results
        .first()
        .map_or("energy/inf".to_owned(), |r| format!("uJ/inf ({})", r.energy.provenance.as_str()));
    let header = vec![
        "case".to_owned(),
        "weights".to_owned(),
        "kernels".to_owned(),
        format!("{timing} min / median / max"),
        "latency us".to_owned(),
        "MAC/cycle".to_owned(),
        energy,
        "flash B".to_owned(),
        "RAM B".to_owned(),
        "stack B".to_owned(),
        "accuracy".to_owned(),
        "output".to_owned(),
    ];
    let mut rows = vec![header];
    for r in &results.results {
        rows.push(vec![
            r.case.clone(),
            r.quantization.clone(),
            r.kernels.clone(),
            format!(
                "{} / {} / {}",
                thousands(r.cycles.min as u64),
                thousands(r.cycles.median as u64),
                thousands(r.cycles.max as u64)
            ),
            format!("{:.1}", r.latency_us.median),
            format!("{:.3}", r.macs_per_cycle),
            format!("{:.2}", r.energy.energy_uj),
            thousands(r.memory.flash_bytes),
            thousands(r.memory.static_ram_bytes),
            thousands(r.memory.stack_peak_bytes),
            r.accuracy.as_ref().map_or_else(|| "-".to_owned(), |a| format!("{:.2}%", a.host_pct)),
            if r.checksum_ok { "matches host".to_owned() } else { "MISMATCH".to_owned() },
        ]);
    }
    for f in &results.failures {
        let mut row = vec![f.case.clone(), format!("FAILED: {}", f.error.lines().next().unwrap_or_default())];
        // The message spans the remaining columns.
        row.resize(rows[0].len(), String::new());
        rows.push(row);
    }
    let columns = rows[0].len();
    // Failure rows (after the results) run past their column: not measured.
    let measured = &rows[..=results.results.len()];
    let widths: Vec<usize> =
        (0..columns).map(|c| measured.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        // A failure row's message runs past its column; don't pad the rest.
        let last = if row.iter().skip(2).all(String::is_empty) { 2 } else { columns };
        let cells: Vec<String> = row[..last]
            .iter()
            .enumerate()
            .map(|(c, cell)| {
                let pad = widths[c].saturating_sub(cell.chars().count());
                if c == 0 || c + 1 == last {
                    format!("{cell}{}", " ".repeat(if c + 1 == last { 0 } else { pad }))
                } else {
                    format!("{}{cell}", " ".repeat(pad))
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
        if i == 0 {
            out.push_str(&widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("  "));
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_snapshot() {
        insta::assert_snapshot!(summary_table(&crate::fixtures::results()));
    }
}
