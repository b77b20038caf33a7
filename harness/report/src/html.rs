//! `report.html`: one self-contained file — inline CSS and SVG plots, no
//! script, nothing fetched — with the summary, the plots, each case's
//! details and layers, provenance and failures. The sentences and tables are
//! the ones `report.md` shows (one source for both, in `files`).
//!
//! The markup has stable hooks for tests and tools: `table#summary` with a
//! `tr[data-case]` per case, `figure.plot[data-plot]` per plot (the Pareto
//! plots' `data-front` lists the front's cases), `section.case[data-case]`.

use std::fmt::Write as _;

use tinybench_runner::{CaseResult, RunResults};

use crate::files::{
    Cells, board_settings, case_intro, checksum_sentence, energy_line, energy_paragraph, layer_cells, memory_cells,
    memory_notes, timing_cells,
};
use crate::plots::Plot;
use crate::table::summary_cells;

const STYLE: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#1b1f24;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:1px solid #d0d7de;padding-bottom:.3rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.88rem}th,td{border:1px solid #d0d7de;padding:.25rem .55rem;text-align:left}
th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.failed td{background:#ffebe9}tr.not-run td{color:#6e7781}
code{background:#f6f8fa;padding:0 .25rem;border-radius:3px;font-size:.85em}
pre{background:#f6f8fa;padding:.7rem;overflow-x:auto;font-size:.82rem;white-space:pre-wrap}
figure.plot{margin:1.2rem 0}figure.plot svg{max-width:100%;height:auto;border:1px solid #eaeef2}
figcaption{font-size:.88rem;color:#57606a}
.banner{background:#fff8c5;border:1px solid #d4a72c;padding:.6rem .9rem;border-radius:4px}
dl.provenance{display:grid;grid-template-columns:max-content auto;gap:.15rem 1rem;font-size:.9rem}dl.provenance dt{font-weight:600}
";

/// Text safe in HTML element content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The sentences shared with report.md use `code` and **bold**; here they
/// become `<code>` and `<strong>`.
fn inline(text: &str) -> String {
    let mut out = String::new();
    for (k, part) in escape(text).split('`').enumerate() {
        if k % 2 == 1 {
            let _ = write!(out, "<code>{part}</code>");
        } else {
            for (j, piece) in part.split("**").enumerate() {
                if j % 2 == 1 {
                    let _ = write!(out, "<strong>{piece}</strong>");
                } else {
                    out.push_str(piece);
                }
            }
        }
    }
    out
}

fn table_html(cells: &Cells, attributes: &str, row_attributes: impl Fn(usize) -> String) -> String {
    let mut html = format!("<table{attributes}><thead><tr>");
    for h in &cells.header {
        let _ = write!(html, "<th>{}</th>", escape(h));
    }
    html.push_str("</tr></thead><tbody>\n");
    for (i, row) in cells.rows.iter().enumerate() {
        let _ = write!(html, "<tr{}>", row_attributes(i));
        for (c, cell) in row.iter().enumerate() {
            let class = if cells.right.contains(&c) { " class=\"num\"" } else { "" };
            let _ = write!(html, "<td{class}>{}</td>", escape(cell));
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</tbody></table>\n");
    html
}

/// The whole report.
pub fn html_string(results: &RunResults, plots: &[Plot]) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>tinybench report: {}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n",
        escape(&results.config)
    );
    let _ = writeln!(
        h,
        "<h1>tinybench report</h1>\n<p>Configuration <code>{}</code> on board <code>{}</code>.</p>",
        escape(&results.config),
        escape(&results.board)
    );
    if !results.complete {
        let done = results.cases.len() - results.missing.len();
        let _ = writeln!(
            h,
            "<p class=\"banner\"><strong>Incomplete run</strong>{}: {done} of {} cases finished; missing: {}. \
             <code>tinybench run {} --resume &lt;this folder&gt;</code> finishes it.</p>",
            if results.interrupted { " (interrupted)" } else { " (in progress)" },
            results.cases.len(),
            escape(&results.missing.join(", ")),
            escape(&results.config)
        );
    }
    if let Some(r) = results.results.first() {
        provenance(&mut h, r);
    }
    h.push_str("<h2>Summary</h2>\n");
    let summary = summary_cells(results);
    let row_attributes = |i: usize| {
        let case = &results.cases[i];
        let class = if results.failures.iter().any(|f| &f.case == case) {
            " class=\"failed\""
        } else if results.missing.contains(case) {
            " class=\"not-run\""
        } else {
            ""
        };
        format!(" data-case=\"{}\"{class}", escape(case))
    };
    h.push_str(&table_html(
        &Cells { header: summary.header, rows: summary.rows, right: summary.right },
        " id=\"summary\"",
        row_attributes,
    ));
    if !plots.is_empty() {
        h.push_str("<h2>Plots</h2>\n");
        for p in plots {
            let front = if p.front.is_empty() {
                String::new()
            } else {
                format!(" data-front=\"{}\"", escape(&p.front.join("\n")))
            };
            let front_text =
                if p.front.is_empty() { String::new() } else { format!(" Front: {}.", escape(&p.front.join(", "))) };
            let _ = writeln!(
                h,
                "<figure class=\"plot\" data-plot=\"{}\"{front}>\n{}\n<figcaption><strong>{}</strong>: {}{front_text} \
                 Also as <code>plots/{}.svg</code> and <code>.png</code>.</figcaption>\n</figure>",
                escape(&p.id),
                p.svg.trim(),
                escape(&p.title),
                escape(&p.caption),
                escape(&p.id)
            );
        }
    }
    for r in &results.results {
        case_section(&mut h, r);
    }
    if !results.failures.is_empty() {
        h.push_str("<h2>Failures</h2>\n");
        for f in &results.failures {
            let _ = writeln!(
                h,
                "<section class=\"failure\" data-case=\"{}\"><h3>{} ({})</h3>\n<pre>{}</pre></section>",
                escape(&f.case),
                escape(&f.case),
                escape(f.kind.as_str()),
                escape(f.error.trim_end())
            );
        }
    }
    h.push_str("</body>\n</html>\n");
    h
}

fn provenance(h: &mut String, r: &CaseResult) {
    let p = &r.provenance;
    let settings = if p.board_settings.is_empty() {
        "none given in the board file".to_owned()
    } else {
        board_settings(r, ": ", "; ")
    };
    let items = [
        ("timing", inline(&format!("**{}**", p.timing))),
        ("energy", inline(&energy_line(r))),
        ("board", inline(&format!("`{}` ({}, {} Hz)", p.board, p.core, crate::thousands(p.clock_hz)))),
        ("board settings", escape(&settings)),
        ("target", escape(&p.target)),
        ("revision", inline(&format!("`{}`", p.git_revision))),
        ("toolchain", escape(&p.toolchain)),
        ("tinybench", escape(&p.tinybench_version)),
    ];
    h.push_str("<dl class=\"provenance\">\n");
    for (term, value) in items {
        let _ = writeln!(h, "<dt>{term}</dt><dd>{value}</dd>");
    }
    h.push_str("</dl>\n");
}

fn case_section(h: &mut String, r: &CaseResult) {
    let _ = writeln!(
        h,
        "<section class=\"case\" data-case=\"{}\">\n<h2>{}</h2>\n<p>{}</p>",
        escape(&r.case),
        escape(&r.case),
        inline(&case_intro(r))
    );
    h.push_str(&table_html(&timing_cells(r), "", |_| String::new()));
    let _ = writeln!(h, "<p>{}</p>", inline(energy_paragraph(r).trim_end()));
    h.push_str(&table_html(&memory_cells(r), "", |_| String::new()));
    for note in memory_notes(r) {
        let _ = writeln!(h, "<p>{}</p>", inline(&note));
    }
    if let Some((cells, fused)) = layer_cells(r) {
        h.push_str("<h3>Layers</h3>\n");
        h.push_str(&table_html(&cells, " class=\"layers\"", |_| String::new()));
        if let Some(fused) = fused {
            let _ = writeln!(h, "<p>{}</p>", inline(fused));
        }
    }
    let _ = writeln!(
        h,
        "<p>{} Inputs fingerprint <code>{}</code>; ran {}.</p>\n</section>",
        inline(&checksum_sentence(r)),
        escape(&r.provenance.inputs_sha256),
        escape(&r.provenance.timestamp)
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    #[test]
    fn text_from_the_results_is_escaped() {
        let mut run = fixtures::results();
        run.results[0].kernels = "<script>alert(1)</script>".into();
        run.failures[0].error = "linker said: a < b && \"c\"".into();
        let html = html_string(&run, &[]);
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("linker said: a &lt; b &amp;&amp; &quot;c&quot;"));
    }

    #[test]
    fn every_case_has_a_summary_row_and_failures_their_text() {
        let mut run = fixtures::results();
        run.cases.push("later".into());
        run.finish(true);
        let html = html_string(&run, &[]);
        for case in &run.cases {
            assert!(html.contains(&format!("<tr data-case=\"{case}\"")), "{case}: {html}");
        }
        assert!(html.contains("<tr data-case=\"broken\" class=\"failed\">"));
        assert!(html.contains("<tr data-case=\"later\" class=\"not-run\">"));
        assert!(html.contains("<strong>Incomplete run</strong> (interrupted)"));
        assert!(html.contains("<pre>simulation stopped: undefined instruction</pre>"));
        assert!(html.contains("<code>abcdef123456</code>"), "the revision is shown");
        assert!(!html.contains("http"), "nothing is fetched");
    }
}
