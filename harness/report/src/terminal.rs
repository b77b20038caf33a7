//! Progress on stderr while a run goes on; the summary table on stdout at
//! the end. On a terminal, progress is an indicatif bar (the current case and
//! what it is doing) with finished cases printed above it; elsewhere (CI
//! logs, pipes) it is plain lines.

use std::io::Write;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tinybench_runner::{BenchEvent, Phase};

use crate::{Reporter, TableStyle, summary_table, thousands};

/// Human output for a terminal (or a CI log).
pub struct TerminalReporter<O: Write, E: Write> {
    out: O,
    err: E,
    /// Print the firmware's log lines as they arrive.
    verbose: bool,
    cases: usize,
    /// Log lines of the current case, shown if it fails.
    recent_log: Vec<String>,
    /// Where a progress bar draws, when there is a terminal.
    bar_target: Option<ProgressDrawTarget>,
    bar: Option<ProgressBar>,
}

/// Lines of firmware log shown with a failure.
const LOG_LINES_ON_FAILURE: usize = 12;

impl<O: Write, E: Write> TerminalReporter<O, E> {
    /// Plain progress lines on `err`.
    pub fn new(out: O, err: E, verbose: bool) -> Self {
        TerminalReporter { out, err, verbose, cases: 0, recent_log: Vec::new(), bar_target: None, bar: None }
    }

    /// Progress as a bar drawn to `target` (a terminal) instead of lines on
    /// `err`; finished cases and log lines are printed above the bar.
    pub fn with_progress_bar(mut self, target: ProgressDrawTarget) -> Self {
        self.bar_target = Some(target);
        self
    }

    fn case_tag(&self, index: usize) -> String {
        format!("[{}/{}]", index + 1, self.cases)
    }

    /// A line that stays: above the bar, or on `err`.
    fn line(&mut self, text: &str) -> std::io::Result<()> {
        match &self.bar {
            Some(bar) => {
                bar.println(text);
                Ok(())
            }
            None => writeln!(self.err, "{text}"),
        }
    }

    /// What the current case is doing: the bar's message, or a line.
    fn status(&mut self, text: String) -> std::io::Result<()> {
        match &self.bar {
            Some(bar) => {
                bar.set_message(text);
                Ok(())
            }
            None => writeln!(self.err, "{text}"),
        }
    }

    fn case_done(&mut self, text: &str) -> std::io::Result<()> {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
        self.line(text)
    }

    fn remember(&mut self, line: String) {
        self.recent_log.push(line);
        if self.recent_log.len() > LOG_LINES_ON_FAILURE {
            self.recent_log.remove(0);
        }
    }
}

impl<O: Write, E: Write> Reporter for TerminalReporter<O, E> {
    fn on_event(&mut self, event: &BenchEvent) -> std::io::Result<()> {
        match event {
            BenchEvent::RunStarted { config, board, target, run_dir, cases } => {
                self.cases = cases.len();
                writeln!(self.err, "tinybench: {} on {board} — {target}", config.display())?;
                writeln!(self.err, "  results go to {}", run_dir.display())?;
                if let Some(draw) = self.bar_target.take() {
                    let bar = ProgressBar::with_draw_target(Some(cases.len() as u64), draw);
                    bar.set_style(
                        ProgressStyle::with_template("{spinner} [{pos}/{len}] {elapsed_precise} {wide_msg}")
                            .expect("the template is valid"),
                    );
                    bar.enable_steady_tick(std::time::Duration::from_millis(200));
                    self.bar = Some(bar);
                }
            }
            BenchEvent::Note { message } => self.line(&format!("note: {message}"))?,
            BenchEvent::Phase { index, case, phase } => {
                if *phase == Phase::Preparing {
                    self.recent_log.clear();
                }
                let text = format!("{} {case}: {}", self.case_tag(*index), phase.as_str());
                self.status(text)?;
            }
            BenchEvent::BuildStarted { index, case } => {
                let text = format!("{} {case}: building firmware", self.case_tag(*index));
                self.status(text)?;
            }
            BenchEvent::BuildFinished { index, case, duration, .. } => {
                if self.bar.is_none() {
                    writeln!(self.err, "{} {case}: built in {:.1} s", self.case_tag(*index), duration.as_secs_f64())?;
                }
            }
            BenchEvent::Flashing { index, case, operation, done_bytes, total_bytes } => {
                let text = format!(
                    "{} {case}: {operation} {} of {} bytes",
                    self.case_tag(*index),
                    thousands(*done_bytes),
                    thousands(*total_bytes)
                );
                match &self.bar {
                    Some(bar) => bar.set_message(text),
                    // One line per finished operation, not one per block.
                    None if done_bytes == total_bytes => writeln!(self.err, "{text}")?,
                    None => {}
                }
            }
            BenchEvent::CaseStarted { index, case, target } => {
                let text = format!("{} {case}: running on {target}", self.case_tag(*index));
                self.status(text)?;
            }
            BenchEvent::Progress { index, cycles, elapsed } => match &self.bar {
                Some(bar) => bar.set_message(format!(
                    "{} running: {} cycles after {:.1} s",
                    self.case_tag(*index),
                    thousands(*cycles),
                    elapsed.as_secs_f64()
                )),
                None => writeln!(
                    self.err,
                    "{}   … {} cycles after {:.1} s",
                    self.case_tag(*index),
                    thousands(*cycles),
                    elapsed.as_secs_f64()
                )?,
            },
            BenchEvent::Log { line, .. } => {
                if self.verbose {
                    self.line(&format!("    fw: {line}"))?;
                }
                self.remember(format!("fw: {line}"));
            }
            BenchEvent::Console { text, .. } => {
                for line in text.lines() {
                    if self.verbose {
                        self.line(&format!("    console: {line}"))?;
                    }
                    self.remember(format!("console: {line}"));
                }
            }
            BenchEvent::CaseFinished { index, result } => {
                let text = format!(
                    "{} {}: median {} cycles ({}), output matches the host",
                    self.case_tag(*index),
                    result.case,
                    thousands(result.cycles.median as u64),
                    result.provenance.timing
                );
                self.case_done(&text)?;
            }
            BenchEvent::CaseReused { index, result } => {
                let text = format!(
                    "{} {}: kept from the earlier run (nothing it depends on changed): median {} cycles",
                    self.case_tag(*index),
                    result.case,
                    thousands(result.cycles.median as u64)
                );
                self.case_done(&text)?;
            }
            BenchEvent::CaseFailed { index, failure } => {
                let text = format!("{} {}: FAILED: {}", self.case_tag(*index), failure.case, failure.error);
                self.case_done(&text)?;
                if !self.verbose && !self.recent_log.is_empty() {
                    self.line("  last firmware log lines:")?;
                    for line in self.recent_log.clone() {
                        self.line(&format!("    {line}"))?;
                    }
                }
            }
            BenchEvent::RunFinished { results } => {
                if let Some(bar) = self.bar.take() {
                    bar.finish_and_clear();
                }
                writeln!(self.out)?;
                write!(self.out, "{}", summary_table(results, TableStyle::Terminal))?;
                if let Some(r) = results.results.first() {
                    writeln!(self.out)?;
                    writeln!(self.out, "timing: {}", r.provenance.timing)?;
                    // One line per meter: a matrix may mix instruments and the model.
                    let mut seen = Vec::new();
                    for r in &results.results {
                        if let Some(e) = r.energy.as_ref().filter(|_| !seen.contains(&&r.meter)) {
                            seen.push(&r.meter);
                            writeln!(
                                self.out,
                                "energy ({}): {} by {}, windows from {}",
                                r.meter,
                                e.provenance.as_str(),
                                e.instrument,
                                e.method.as_str()
                            )?;
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use indicatif::InMemoryTerm;

    use super::*;
    use crate::fixtures;

    fn events() -> Vec<BenchEvent> {
        vec![
            BenchEvent::RunStarted {
                config: PathBuf::from("configs/sim-m4.toml"),
                board: "sim-m4".into(),
                target: "sim-m4 (simulator)".into(),
                run_dir: PathBuf::from("reports/x"),
                cases: vec!["a".into(), "broken".into()],
            },
            BenchEvent::Note { message: "installing the firmware target once".into() },
            BenchEvent::BuildStarted { index: 0, case: "a".into() },
            BenchEvent::Log { index: 0, line: "INFO starting".into() },
            BenchEvent::Console { index: 0, text: "printed\n".into() },
            BenchEvent::CaseFailed { index: 0, failure: fixtures::results().failures[0].clone() },
            BenchEvent::RunFinished { results: fixtures::results() },
        ]
    }

    #[test]
    fn progress_and_failure_with_log_tail() {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut r = TerminalReporter::new(&mut out, &mut err, false);
        for e in &events() {
            r.on_event(e).unwrap();
        }
        let err = String::from_utf8(err).unwrap();
        insta::assert_snapshot!(err);
        assert!(String::from_utf8(out).unwrap().contains("conv3x3-16x16x8-16"));
    }

    #[test]
    fn on_a_terminal_progress_is_a_bar_with_lines_above_it() {
        let term = InMemoryTerm::new(20, 100);
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut r = TerminalReporter::new(&mut out, &mut err, false)
            .with_progress_bar(ProgressDrawTarget::term_like(Box::new(term.clone())));
        let events = events();
        for e in &events[..4] {
            r.on_event(e).unwrap();
        }
        let screen = term.contents();
        assert!(screen.contains("note: installing the firmware target once"), "{screen}");
        assert!(screen.contains("[0/2]") && screen.contains("[1/2] a: building firmware"), "{screen}");
        for e in &events[4..] {
            r.on_event(e).unwrap();
        }
        let screen = term.contents();
        assert!(screen.contains("[1/2] broken: FAILED: simulation stopped"), "{screen}");
        assert!(screen.contains("console: printed"), "the program's output is in the failure's tail: {screen}");
        assert!(!screen.contains("[1/2] a: building firmware"), "the bar is cleared at the end: {screen}");
        let err = String::from_utf8(err).unwrap();
        assert!(!err.contains("building firmware"), "no plain progress lines beside the bar: {err}");
    }
}
