//! Progress on stderr while a run goes on; the summary table on stdout at
//! the end.

use std::io::Write;

use tinybench_runner::BenchEvent;

use crate::{Reporter, summary_table, thousands};

/// Human output for a terminal (or a CI log).
pub struct TerminalReporter<O: Write, E: Write> {
    out: O,
    err: E,
    /// Print the firmware's log lines as they arrive.
    verbose: bool,
    cases: usize,
    /// Log lines of the current case, shown if it fails.
    recent_log: Vec<String>,
}

/// Lines of firmware log shown with a failure.
const LOG_LINES_ON_FAILURE: usize = 12;

impl<O: Write, E: Write> TerminalReporter<O, E> {
    pub fn new(out: O, err: E, verbose: bool) -> Self {
        TerminalReporter { out, err, verbose, cases: 0, recent_log: Vec::new() }
    }

    fn case_tag(&self, index: usize) -> String {
        format!("[{}/{}]", index + 1, self.cases)
    }
}

impl<O: Write, E: Write> Reporter for TerminalReporter<O, E> {
    fn on_event(&mut self, event: &BenchEvent) -> std::io::Result<()> {
        match event {
            BenchEvent::RunStarted { config, board, target, run_dir, cases } => {
                self.cases = *cases;
                writeln!(self.err, "tinybench: {} on {board} — {target}", config.display())?;
                writeln!(self.err, "  results go to {}", run_dir.display())?;
            }
            BenchEvent::BuildStarted { index, case } => {
                self.recent_log.clear();
                writeln!(self.err, "{} {case}: building firmware", self.case_tag(*index))?;
            }
            BenchEvent::BuildFinished { index, case, duration, .. } => {
                writeln!(self.err, "{} {case}: built in {:.1} s", self.case_tag(*index), duration.as_secs_f64())?;
            }
            BenchEvent::CaseStarted { index, case, target } => {
                writeln!(self.err, "{} {case}: running on {target}", self.case_tag(*index))?;
            }
            BenchEvent::Progress { index, cycles, elapsed } => {
                writeln!(
                    self.err,
                    "{}   … {} cycles after {:.1} s",
                    self.case_tag(*index),
                    thousands(*cycles),
                    elapsed.as_secs_f64()
                )?;
            }
            BenchEvent::Log { line, .. } => {
                if self.verbose {
                    writeln!(self.err, "    fw: {line}")?;
                }
                self.recent_log.push(line.clone());
                if self.recent_log.len() > LOG_LINES_ON_FAILURE {
                    self.recent_log.remove(0);
                }
            }
            BenchEvent::Console { text, .. } => {
                if self.verbose {
                    write!(self.err, "{text}")?;
                }
            }
            BenchEvent::CaseFinished { index, result } => {
                writeln!(
                    self.err,
                    "{} {}: median {} cycles ({}), output matches the host",
                    self.case_tag(*index),
                    result.case,
                    thousands(result.cycles.median as u64),
                    result.provenance.timing
                )?;
            }
            BenchEvent::CaseFailed { index, failure } => {
                writeln!(self.err, "{} {}: FAILED: {}", self.case_tag(*index), failure.case, failure.error)?;
                if !self.verbose && !self.recent_log.is_empty() {
                    writeln!(self.err, "  last firmware log lines:")?;
                    for line in &self.recent_log {
                        writeln!(self.err, "    fw: {line}")?;
                    }
                }
            }
            BenchEvent::RunFinished { results } => {
                writeln!(self.out)?;
                write!(self.out, "{}", summary_table(results))?;
                if let Some(r) = results.results.first() {
                    writeln!(self.out)?;
                    writeln!(self.out, "timing: {}; energy: {}", r.provenance.timing, r.energy_source)?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::fixtures;

    #[test]
    fn progress_and_failure_with_log_tail() {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut r = TerminalReporter::new(&mut out, &mut err, false);
        let events = [
            BenchEvent::RunStarted {
                config: PathBuf::from("configs/sim-m4.toml"),
                board: "sim-m4".into(),
                target: "sim-m4 (simulator)".into(),
                run_dir: PathBuf::from("reports/x"),
                cases: 2,
            },
            BenchEvent::BuildStarted { index: 0, case: "a".into() },
            BenchEvent::Log { index: 0, line: "INFO starting".into() },
            BenchEvent::CaseFailed { index: 0, failure: fixtures::results().failures[0].clone() },
            BenchEvent::RunFinished { results: fixtures::results() },
        ];
        for e in &events {
            r.on_event(e).unwrap();
        }
        let err = String::from_utf8(err).unwrap();
        insta::assert_snapshot!(err);
        assert!(String::from_utf8(out).unwrap().contains("conv3x3-16x16x8-16"));
    }
}
