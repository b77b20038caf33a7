//! The summary table: one row per case in run order, for the terminal and for
//! Markdown (comfy-table renders both; only the preset differs).

use comfy_table::{CellAlignment, Table, presets};
use tinybench_runner::{CaseResult, RunResults};

use crate::thousands;

/// How a table is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableStyle {
    /// Box-drawing characters, for a terminal or a log.
    Terminal,
    /// A GitHub-flavored Markdown table.
    Markdown,
}

/// A table in `style` with `header`; columns whose index is in `right` are
/// right-aligned (numbers).
pub(crate) fn table(style: TableStyle, header: &[String], rows: Vec<Vec<String>>, right: &[usize]) -> String {
    let mut table = Table::new();
    table.load_preset(match style {
        TableStyle::Terminal => presets::UTF8_FULL_CONDENSED,
        TableStyle::Markdown => presets::ASCII_MARKDOWN,
    });
    let cell = |text: &str| match style {
        TableStyle::Terminal => text.to_owned(),
        TableStyle::Markdown => markdown_cell(text),
    };
    table.set_header(header.iter().map(|h| cell(h)));
    for row in rows {
        table.add_row(row.iter().map(|c| cell(c)));
    }
    for &c in right {
        if let Some(column) = table.column_mut(c) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    let mut text = table.to_string();
    if style == TableStyle::Markdown {
        text = mark_right_aligned(&text, right);
    }
    text.push('\n');
    text
}

/// Ends the Markdown delimiter row's cells of right-aligned columns with
/// `:` (comfy-table pads them, but renderers go by the delimiter row).
fn mark_right_aligned(text: &str, right: &[usize]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    if let Some(delimiter) = lines.get_mut(1) {
        let mut cells: Vec<String> = delimiter.split('|').map(str::to_owned).collect();
        for &c in right {
            // cells[0] is before the first '|'.
            if let Some(cell) = cells.get_mut(c + 1).filter(|cell| cell.ends_with('-')) {
                cell.pop();
                cell.push(':');
            }
        }
        *delimiter = cells.join("|");
    }
    lines.join("\n")
}

/// A cell's text safe inside a Markdown table: one line, pipes escaped.
fn markdown_cell(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").replace('|', "\\|")
}

/// The summary's header, one row of cells per case in run order (the case
/// name first), and the numeric columns: for every rendering of it.
pub(crate) struct SummaryCells {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub right: Vec<usize>,
}

pub(crate) fn summary_cells(results: &RunResults) -> SummaryCells {
    let timing = results.results.first().map_or("cycles", |r| {
        if r.provenance.timing.starts_with("simulated") { "cycles (simulated)" } else { "cycles (measured)" }
    });
    // One provenance for all: in the header; mixed (a meter matrix): in each cell.
    let provenances: std::collections::BTreeSet<_> =
        results.results.iter().filter_map(|r| r.energy.as_ref().map(|e| e.provenance)).collect();
    let uniform = provenances.len() == 1;
    let energy = match provenances.iter().next() {
        Some(p) if uniform => format!("uJ/inf ({})", p.as_str()),
        _ => "uJ/inf".to_owned(),
    };
    let header: Vec<String> = [
        "case",
        "status",
        "weights",
        "kernels",
        &format!("{timing} min / median / max"),
        "latency us",
        "MAC/cycle",
        &energy,
        "flash B",
        "RAM B",
        "stack B",
        "accuracy",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let columns = header.len();
    let rows = results
        .cases
        .iter()
        .map(|case| {
            if let Some(r) = results.results.iter().find(|r| &r.case == case) {
                result_row(r, uniform)
            } else {
                let status = match results.failures.iter().find(|f| &f.case == case) {
                    Some(f) => format!("FAILED ({})", f.kind.as_str()),
                    None => "not run".to_owned(),
                };
                let mut row = vec![case.clone(), status];
                row.resize(columns, String::new());
                row
            }
        })
        .collect();
    SummaryCells { header, rows, right: vec![4, 5, 6, 7, 8, 9, 10, 11] }
}

/// One row per case in run order: results, failures (`FAILED (kind)`; the
/// reasons follow the table) and cases not run yet (`not run`).
pub fn summary_table(results: &RunResults, style: TableStyle) -> String {
    let SummaryCells { header, rows, right } = summary_cells(results);
    let mut text = table(style, &header, rows, &right);
    for f in &results.failures {
        text.push_str(&match style {
            TableStyle::Terminal => format!("{}: {}\n", f.case, f.reason()),
            TableStyle::Markdown => format!("\n- `{}`: {}", f.case, markdown_cell(&f.reason())),
        });
    }
    if style == TableStyle::Markdown && !results.failures.is_empty() {
        text.push('\n');
    }
    text
}

fn result_row(r: &CaseResult, uniform_energy: bool) -> Vec<String> {
    vec![
        r.case.clone(),
        if r.checksum_ok { "ok".to_owned() } else { "OUTPUT MISMATCH".to_owned() },
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
        match &r.energy {
            None => "-".to_owned(),
            Some(e) if uniform_energy => format!("{:.2}", e.energy_uj.median),
            Some(e) => format!("{:.2} ({})", e.energy_uj.median, e.provenance.as_str()),
        },
        thousands(r.memory.flash_bytes),
        thousands(r.memory.static_ram_bytes),
        thousands(r.memory.stack_peak_bytes),
        r.accuracy.as_ref().map_or_else(|| "-".to_owned(), |a| format!("{:.2}%", a.host_pct)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_snapshot() {
        insta::assert_snapshot!(summary_table(&crate::fixtures::results(), TableStyle::Terminal));
    }

    #[test]
    fn markdown_cells_stay_on_one_line_and_escape_pipes() {
        let mut results = crate::fixtures::results();
        results.failures[0].error = "cargo failed:\n  rust-lld -o a|b --gc-sections".into();
        results.results[0].kernels = "ref | erence".into();
        let md = summary_table(&results, TableStyle::Markdown);
        let table_lines: Vec<&str> = md.lines().take_while(|l| l.starts_with('|')).collect();
        assert_eq!(table_lines.len(), 2 + results.cases.len(), "{md}");
        // Unescaped pipes separate cells: the same count on every line.
        let separators = |l: &str| l.matches('|').count() - l.matches("\\|").count();
        assert!(table_lines.iter().all(|l| separators(l) == separators(table_lines[0])), "{md}");
        assert!(md.contains("- `broken`: cargo failed\n"), "{md}");
        assert!(md.contains("ref \\| erence"), "{md}");
    }
}
