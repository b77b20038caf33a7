//! One firmware run on a target: its RTT channels decoded as they arrive
//! (defmt log lines, result frames), its console output, and how it ended.

use tinybench_proto::{DecodeError, FrameDecoder};
use tinybench_target::{BenchTarget, RunBudget, TargetOutput};

use crate::{BenchEvent, Collector, RunnerError};

/// What one firmware run produced, kept even when it failed.
pub struct Session {
    pub outcome: Result<tinybench_target::RunOutcome, RunnerError>,
    pub collector: Collector,
    /// Decoded defmt lines and console text, in order.
    pub log: Vec<String>,
    /// Every byte of each RTT up channel, as the target gave them (the run
    /// folder keeps them: `rtt-<channel>.bin`).
    pub rtt: std::collections::BTreeMap<usize, Vec<u8>>,
}

/// Runs loaded firmware to its end, decoding its defmt log (channel 0) and
/// result frames (channel 1) as they arrive.
pub fn run_firmware(
    target: &mut dyn BenchTarget,
    elf: &[u8],
    budget: &RunBudget,
    index: usize,
    events: &mut dyn FnMut(&BenchEvent),
) -> Session {
    let mut collector = Collector::new();
    let mut log = Vec::new();
    let table = defmt_decoder::Table::parse(elf).ok().flatten();
    let mut defmt = LogDecoder::new(table.as_ref());
    let mut frames = FrameDecoder::new();
    let mut protocol_error: Option<String> = None;
    let mut rtt: std::collections::BTreeMap<usize, Vec<u8>> = std::collections::BTreeMap::new();
    let outcome = target.run(budget, &mut |output| {
        if let TargetOutput::Rtt { channel, bytes } = output {
            rtt.entry(channel).or_default().extend_from_slice(bytes);
        }
        match output {
            TargetOutput::Rtt { channel: tinybench_proto::LOG_CHANNEL, bytes } => {
                for line in defmt.push(bytes) {
                    events(&BenchEvent::Log { index, line: line.clone() });
                    log.push(line);
                }
            }
            TargetOutput::Rtt { channel: tinybench_proto::RESULTS_CHANNEL, bytes } => {
                for message in frames.push(bytes) {
                    let pushed = message.map_err(|e: DecodeError| e.to_string()).and_then(|m| collector.push(m));
                    if let (Err(e), None) = (pushed, &protocol_error) {
                        protocol_error = Some(e);
                    }
                }
            }
            TargetOutput::Rtt { .. } => {}
            TargetOutput::Console(bytes) => {
                let text = String::from_utf8_lossy(bytes).into_owned();
                events(&BenchEvent::Console { index, text: text.clone() });
                log.extend(text.lines().map(|l| format!("console: {l}")));
            }
            TargetOutput::Progress { cycles, elapsed } => events(&BenchEvent::Progress { index, cycles, elapsed }),
            // Loading is over before the run starts.
            TargetOutput::Flash { .. } => {}
        }
    });
    let outcome = match (outcome, protocol_error) {
        (Err(e), _) => Err(RunnerError::Target(e)),
        (Ok(_), Some(e)) => Err(RunnerError::Protocol(e)),
        (Ok(o), None) => Ok(o),
    };
    Session { outcome, collector, log, rtt }
}

/// Decodes defmt frames from RTT channel 0 into log lines.
pub struct LogDecoder<'t> {
    decoder: Option<Box<dyn defmt_decoder::StreamDecoder + Send + Sync + 't>>,
    can_recover: bool,
    /// Raw bytes when the ELF has no defmt table.
    undecodable_bytes: usize,
}

impl<'t> LogDecoder<'t> {
    pub fn new(table: Option<&'t defmt_decoder::Table>) -> Self {
        LogDecoder {
            can_recover: table.is_some_and(|t| t.encoding().can_recover()),
            decoder: table.map(|t| t.new_stream_decoder()),
            undecodable_bytes: 0,
        }
    }

    /// Feeds channel bytes; returns the completed log lines.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        let Some(decoder) = self.decoder.as_mut() else {
            self.undecodable_bytes += bytes.len();
            return vec![format!("({} bytes of log without a defmt table in the ELF)", bytes.len())];
        };
        decoder.received(bytes);
        let mut lines = Vec::new();
        loop {
            match decoder.decode() {
                Ok(frame) => lines.push(frame.display(false).to_string()),
                Err(defmt_decoder::DecodeError::UnexpectedEof) => break,
                Err(defmt_decoder::DecodeError::Malformed) if self.can_recover => {
                    lines.push("(malformed defmt frame skipped)".to_owned())
                }
                Err(defmt_decoder::DecodeError::Malformed) => {
                    lines.push("(malformed defmt frame; the rest of the log cannot be decoded)".to_owned());
                    self.decoder = None;
                    break;
                }
            }
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use tinybench_proto::{MAX_FRAME_BYTES, Message, RunStatus};
    use tinybench_target::{FakeStep, FakeTarget};

    use std::time::Duration;

    use tinybench_target::{BudgetSource, TargetError};

    use super::*;
    use crate::FailureKind;

    fn frames(messages: &[Message<'_>]) -> Vec<u8> {
        let mut out = Vec::new();
        for m in messages {
            let mut buf = [0u8; MAX_FRAME_BYTES];
            out.extend_from_slice(tinybench_proto::encode(m, &mut buf).unwrap());
        }
        out
    }

    fn budget() -> RunBudget {
        RunBudget::new(1_000_000, Duration::from_secs(5), BudgetSource::RunConfig)
    }

    #[test]
    fn fake_target_session_collects_results_split_across_reads() {
        let stream = frames(&[
            Message::Hello { board: "fake", core_clock_hz: 1_000_000, case_count: 1 },
            Message::CaseStart { case: 0, name: "c", warmup: 0, iterations: 2, macs: 10, output_len: 4 },
            Message::PowerSetup { case: 0, marker_write_cycles: 1, idle_ms: 0, layer_marks: 0 },
            Message::Sample { case: 0, iteration: 0, cycles: 100, start_cycles: 10 },
            Message::Sample { case: 0, iteration: 1, cycles: 102, start_cycles: 200 },
            Message::CaseEnd { case: 0, output_checksum: 5 },
            Message::Memory { stack_peak_bytes: 64, stack_size_bytes: 1024 },
            Message::Done { status: RunStatus::Ok },
        ]);
        let (a, b) = stream.split_at(stream.len() / 2);
        let mut target = FakeTarget::new(vec![
            FakeStep::Rtt { channel: 1, bytes: a.to_vec() },
            FakeStep::Rtt { channel: 0, bytes: vec![1, 2, 3] },
            FakeStep::Rtt { channel: 1, bytes: b.to_vec() },
            FakeStep::Console(b"hello\n".to_vec()),
            FakeStep::Exit { code: 0, cycles: 5000 },
        ]);
        target.load(&[]).unwrap();
        let mut events = Vec::new();
        let session = run_firmware(&mut target, &[], &budget(), 0, &mut |e| events.push(e.clone()));
        assert_eq!(session.outcome.unwrap().exit_code, 0);
        assert!(session.collector.complete());
        assert_eq!(session.collector.collected().samples, [100, 102]);
        // No defmt table in an empty ELF: the bytes are reported, not lost.
        assert_eq!(session.log, ["(3 bytes of log without a defmt table in the ELF)", "console: hello"]);
        assert!(events.iter().any(|e| matches!(e, BenchEvent::Console { text, .. } if text == "hello\n")));
    }

    #[test]
    fn protocol_errors_fail_the_session() {
        let mut target = FakeTarget::new(vec![
            // version 1 frame (Done { Ok }): refused with the rebuild hint
            FakeStep::Rtt { channel: 1, bytes: vec![0x03, 0x01, 0x05, 0x01, 0x00] },
            FakeStep::Exit { code: 0, cycles: 1 },
        ]);
        target.load(&[]).unwrap();
        let session = run_firmware(&mut target, &[], &budget(), 0, &mut |_| {});
        let err = session.outcome.unwrap_err().to_string();
        assert!(err.contains("protocol v1") && err.contains("rebuild the firmware"), "{err}");
    }

    #[test]
    fn target_errors_keep_what_was_collected() {
        let stream = frames(&[Message::Hello { board: "fake", core_clock_hz: 1, case_count: 1 }]);
        let mut target = FakeTarget::new(vec![
            FakeStep::Rtt { channel: 1, bytes: stream },
            FakeStep::Hang { pc: 0x0800_0200, symbol: "spin".into() },
        ]);
        target.load(&[]).unwrap();
        let session = run_firmware(&mut target, &[], &budget(), 0, &mut |_| {});
        assert!(matches!(session.outcome, Err(RunnerError::Target(TargetError::CycleBudgetExceeded { .. }))));
        assert_eq!(session.collector.collected().board, "fake");
        assert_eq!(RunnerError::Target(TargetError::NotLoaded).kind(), FailureKind::Target);
    }
}
