//! JUnit XML of a comparison (`tinybench compare --junit FILE`), so any CI
//! shows each case as a test: one `<testsuite name="tinybench compare">`,
//! one `<testcase classname="<config>" name="<case>">` per case, a
//! `<failure>` naming the metrics and figures of a regressed case, and
//! `<skipped>` for a case on one side only (or failed on both).
//!
//! Written by hand: the format needs a dozen lines and one escaper, not a
//! dependency.

use super::{CaseComparison, Comparison, Status};

/// `text` escaped for XML 1.0 text and attribute values. Characters XML 1.0
/// cannot carry at all (most control characters, from a firmware's error
/// message) become U+FFFD.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Kept literally in text; in an attribute a parser would fold them to spaces.
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// Why a case is skipped, or none if it ran on both sides.
fn skipped(c: &CaseComparison) -> Option<String> {
    match &c.status {
        Status::OnlyInBaseline => Some("only in the baseline, not in this run".to_owned()),
        Status::OnlyInCurrent { failed: None } => Some("only in this run, not in the baseline".to_owned()),
        Status::OnlyInCurrent { failed: Some(kind) } => {
            Some(format!("only in this run, not in the baseline; failed ({kind})"))
        }
        Status::FailedInBoth { kind, reason } => Some(format!("failed in the baseline too ({kind}): {reason}")),
        Status::Compared | Status::FailedNow { .. } | Status::Fixed => None,
    }
}

pub(crate) fn junit_xml(comparison: &Comparison, class: &str) -> String {
    let cases = &comparison.cases;
    let failures = cases.iter().filter(|c| !c.regressions.is_empty()).count();
    let skips = cases.iter().filter(|c| c.regressions.is_empty() && skipped(c).is_some()).count();
    let counts = format!("tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skips}\"", cases.len());
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"tinybench compare\" {counts}>\n  \
         <testsuite name=\"tinybench compare\" {counts}>\n"
    );
    for c in cases {
        let open = format!("    <testcase classname=\"{}\" name=\"{}\"", escape(class), escape(&c.case));
        if !c.regressions.is_empty() {
            let short: Vec<String> = c
                .regressions
                .iter()
                .map(|r| r.detail.split_once(';').map_or(r.detail.as_str(), |(head, _)| head).to_owned())
                .collect();
            let body: Vec<&str> = c.regressions.iter().map(|r| r.detail.as_str()).collect();
            xml.push_str(&format!(
                "{open}>\n      <failure type=\"regression\" message=\"{}\">{}</failure>\n    </testcase>\n",
                escape(&short.join("; ")),
                escape(&body.join("\n"))
            ));
        } else if let Some(why) = skipped(c) {
            xml.push_str(&format!("{open}>\n      <skipped message=\"{}\"/>\n    </testcase>\n", escape(&why)));
        } else {
            xml.push_str(&format!("{open}/>\n"));
        }
    }
    xml.push_str("  </testsuite>\n</testsuites>\n");
    xml
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_quotes_and_control_characters() {
        assert_eq!(escape(r#"a<b>&"c"'d'"#), "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;");
        assert_eq!(escape("line\nnext\ttab"), "line&#10;next&#9;tab");
        assert_eq!(escape("bell\u{7}nul\u{0}"), "bell\u{fffd}nul\u{fffd}");
        assert_eq!(escape("µs → ok"), "µs → ok");
    }
}
