//! host: runs a benchmark configuration.
//!
//! For each case: build the firmware ([`build`]), check and measure the ELF
//! ([`elf`]), run it on a [`BenchTarget`], decode its defmt log and result
//! frames, verify its output against the host's own computation of the same
//! kernel ([`workload`]), and turn the figures into a [`CaseResult`]. Progress
//! and results go out as [`BenchEvent`]s; the runner itself prints nothing.

pub mod build;
mod collect;
pub mod elf;
mod events;
mod provenance;
pub mod results;
pub mod workload;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;
use tinybench_config::{CaseConfig, RunConfig, TargetKind};
use tinybench_proto::{DecodeError, FrameDecoder, RunStatus};
use tinybench_target::{BenchTarget, BudgetSource, RunBudget, SimTarget, TargetError, TargetOutput};

pub use collect::{Collected, Collector};
pub use elf::{FirmwareImage, StaticMemory};
pub use events::BenchEvent;
pub use results::{Accuracy, CaseFailure, CaseResult, LayerResult, MemoryUsage, Provenance, RunResults, Spread};

/// Why a case or a run failed.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error("{}: {detail}", path.display())]
    Model { path: PathBuf, detail: String },
    #[error(
        "output byte {offset} from the firmware is {firmware}, the host computed {host} for the same model and input; \
         the simulator or the kernel build is wrong"
    )]
    OutputMismatch { offset: usize, firmware: i8, host: i8 },
    #[error(
        "evaluation sample {sample}: output byte {offset} from the firmware is {firmware}, the host computed {host}; \
         the simulator or the kernel build is wrong"
    )]
    EvalMismatch { sample: usize, offset: usize, firmware: i8, host: i8 },
    #[error("cannot find the firmware sources: {0}")]
    FirmwareSourcesMissing(String),
    #[error("cannot start cargo to build the firmware: {0}; is cargo on PATH?")]
    BuildSpawn(String),
    #[error("firmware build for case {case} failed; full log in {}:\n{tail}", log_path.display())]
    BuildFailed { case: String, log_path: PathBuf, tail: String },
    #[error("bad firmware ELF: {0}")]
    BadElf(String),
    #[error(
        "firmware speaks result protocol v{firmware}, this tinybench speaks v{host}; rebuild the firmware from this checkout"
    )]
    ProtocolMismatch { firmware: u16, host: u16 },
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error("result channel: {0}")]
    Protocol(String),
    #[error("the firmware reported failure (code {code}); its log: {log_path}")]
    FirmwareFailed { code: u16, log_path: String },
    #[error("the firmware exited with status {code} before reporting all results; its log: {log_path}")]
    IncompleteResults { code: i32, log_path: String },
    #[error(
        "output checksum {firmware:#010x} from the firmware differs from the host's {host:#010x} for the same kernel and input; \
         the simulator or the kernel build is wrong"
    )]
    ChecksumMismatch { firmware: u32, host: u32 },
    #[error("cannot write {}: {error}", path.display())]
    Io { path: PathBuf, error: std::io::Error },
}

impl RunnerError {
    pub fn io(path: &Path, source: std::io::Error) -> RunnerError {
        RunnerError::Io { path: path.to_owned(), error: source }
    }

    /// The class of failure, which decides the CLI's exit code.
    pub fn kind(&self) -> FailureKind {
        match self {
            RunnerError::FirmwareSourcesMissing(_) | RunnerError::BuildSpawn(_) | RunnerError::BuildFailed { .. } => {
                FailureKind::Build
            }
            RunnerError::BadElf(_)
            | RunnerError::ProtocolMismatch { .. }
            | RunnerError::Target(_)
            | RunnerError::Protocol(_)
            | RunnerError::IncompleteResults { .. } => FailureKind::Target,
            RunnerError::FirmwareFailed { .. }
            | RunnerError::ChecksumMismatch { .. }
            | RunnerError::OutputMismatch { .. }
            | RunnerError::EvalMismatch { .. } => FailureKind::Benchmark,
            RunnerError::Model { .. } => FailureKind::Input,
            RunnerError::Io { .. } => FailureKind::Io,
        }
    }
}

/// What kind of thing went wrong; each maps to a documented exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    /// The firmware ran but reported failure or a wrong result.
    Benchmark,
    /// The firmware could not be built.
    Build,
    /// The target could not run the firmware to completion.
    Target,
    /// Files could not be written.
    Io,
    /// A case's inputs (model or input file) are unusable.
    Input,
}

/// Runs every case of `config`, writing per-case artifacts (build log, ELF,
/// firmware log) under `run_dir`. Failed cases are reported and skipped; the
/// others still run.
pub fn run(config: &RunConfig, run_dir: &Path, events: &mut dyn FnMut(&BenchEvent)) -> Result<RunResults, RunnerError> {
    let firmware_dir = build::locate_firmware_dir()?;
    std::fs::create_dir_all(run_dir).map_err(|e| RunnerError::io(run_dir, e))?;
    let target_label = match config.target {
        TargetKind::Sim => format!("{} (simulator)", config.board.id),
    };
    events(&BenchEvent::RunStarted {
        config: config.path.clone(),
        board: config.board.id.clone(),
        target: target_label,
        run_dir: run_dir.to_owned(),
        cases: config.cases.len(),
    });
    let env = BuildEnvironment {
        git_revision: provenance::git_revision(&firmware_dir),
        toolchain: provenance::toolchain(&firmware_dir),
        firmware_dir,
    };
    let mut results = RunResults {
        config: config.path.display().to_string(),
        board: config.board.id.clone(),
        results: Vec::new(),
        failures: Vec::new(),
    };
    for (index, case) in config.cases.iter().enumerate() {
        match run_case(config, &env, index, case, run_dir, events) {
            Ok(result) => {
                events(&BenchEvent::CaseFinished { index, result: Box::new(result.clone()) });
                results.results.push(result);
            }
            Err(e) => {
                let failure = CaseFailure { case: case.name.clone(), kind: e.kind(), error: e.to_string() };
                events(&BenchEvent::CaseFailed { index, failure: failure.clone() });
                results.failures.push(failure);
            }
        }
    }
    events(&BenchEvent::RunFinished { results: results.clone() });
    Ok(results)
}

struct BuildEnvironment {
    firmware_dir: PathBuf,
    git_revision: String,
    toolchain: String,
}

fn run_case(
    config: &RunConfig,
    env: &BuildEnvironment,
    index: usize,
    case: &CaseConfig,
    run_dir: &Path,
    events: &mut dyn FnMut(&BenchEvent),
) -> Result<CaseResult, RunnerError> {
    let case_dir = run_dir.join("cases").join(&case.name);
    std::fs::create_dir_all(&case_dir).map_err(|e| RunnerError::io(&case_dir, e))?;

    let workload = workload::prepare(case, &case_dir)?;
    events(&BenchEvent::BuildStarted { index, case: case.name.clone() });
    let started = Instant::now();
    let build_log = case_dir.join("build.log");
    let elf_path = case_dir.join("firmware.elf");
    build::FirmwareBuild {
        firmware_dir: &env.firmware_dir,
        board: &config.board,
        case,
        run: &config.run,
        workload_env: &workload.env,
        log_path: &build_log,
    }
    .run(&elf_path)?;
    events(&BenchEvent::BuildFinished {
        index,
        case: case.name.clone(),
        duration: started.elapsed(),
        elf: elf_path.clone(),
    });

    let bytes = std::fs::read(&elf_path).map_err(|e| RunnerError::io(&elf_path, e))?;
    let image = FirmwareImage::parse(bytes)?;
    let mut target: Box<dyn BenchTarget> = match config.target {
        TargetKind::Sim => Box::new(SimTarget::new(&config.board)?),
    };
    target.load(&image.bytes)?;
    events(&BenchEvent::CaseStarted { index, case: case.name.clone(), target: target.describe() });

    let log_path = case_dir.join("firmware.log");
    let budget =
        RunBudget::new(config.run.max_cycles, Duration::from_secs(config.run.timeout_s), BudgetSource::RunConfig);
    let session = run_firmware(target.as_mut(), &image.bytes, &budget, index, events);
    let log_text = session.log.join("\n") + "\n";
    std::fs::write(&log_path, log_text).map_err(|e| RunnerError::io(&log_path, e))?;
    let outcome = session.outcome?;
    let collected = session.collector.collected().clone();
    if !collected.output.is_empty() {
        let output_path = case_dir.join("output.bin");
        std::fs::write(&output_path, &collected.output).map_err(|e| RunnerError::io(&output_path, e))?;
    }
    if !collected.eval_outputs.is_empty() {
        let eval_path = case_dir.join("eval-outputs.bin");
        std::fs::write(&eval_path, collected.eval_outputs.concat()).map_err(|e| RunnerError::io(&eval_path, e))?;
    }
    if let Some(RunStatus::Failed { code }) = collected.status {
        return Err(RunnerError::FirmwareFailed { code, log_path: log_path.display().to_string() });
    }
    if !session.collector.complete() || outcome.exit_code != 0 {
        return Err(RunnerError::IncompleteResults {
            code: outcome.exit_code,
            log_path: log_path.display().to_string(),
        });
    }

    let expected_checksum = workload::checksum(&workload.expected_output);
    if let Some(offset) = collected.output.iter().zip(&workload.expected_output).position(|(&f, &h)| f as i8 != h) {
        return Err(RunnerError::OutputMismatch {
            offset,
            firmware: collected.output[offset] as i8,
            host: workload.expected_output[offset],
        });
    }
    if let Some(eval) = &workload.eval {
        if collected.eval_outputs.len() != eval.target_expected.len() {
            return Err(RunnerError::Protocol(format!(
                "the firmware sent {} evaluation outputs, {} were linked",
                collected.eval_outputs.len(),
                eval.target_expected.len()
            )));
        }
        for (sample, (firmware, host)) in collected.eval_outputs.iter().zip(&eval.target_expected).enumerate() {
            if let Some(offset) = firmware.iter().zip(host).position(|(&f, &h)| f as i8 != h) {
                return Err(RunnerError::EvalMismatch {
                    sample,
                    offset,
                    firmware: firmware[offset] as i8,
                    host: host[offset],
                });
            }
        }
    }
    let output_checksum = collected.output_checksum.unwrap_or_default();
    if output_checksum != expected_checksum {
        return Err(RunnerError::ChecksumMismatch { firmware: output_checksum, host: expected_checksum });
    }
    let mut meter = tinybench_power::meter_for(&config.power);
    let result = results::assemble(results::Inputs {
        config,
        case,
        collected: &collected,
        workload: &workload,
        image: &image,
        expected_checksum,
        meter: meter.as_mut(),
        provenance: Provenance {
            tinybench_version: env!("CARGO_PKG_VERSION").to_owned(),
            git_revision: env.git_revision.clone(),
            toolchain: env.toolchain.clone(),
            board: config.board.id.clone(),
            core: config.board.core.to_string(),
            clock_hz: config.board.clock_hz,
            target: match config.target {
                TargetKind::Sim => "sim".to_owned(),
            },
            timing: if target.is_simulated() {
                format!("simulated ({} cycle model)", config.board.core)
            } else {
                "measured (DWT)".to_owned()
            },
            firmware_sha256: image.sha256.clone(),
            timestamp: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        },
    });
    let json_path = case_dir.join("result.json");
    let json = serde_json::to_string_pretty(&result).map_err(|e| RunnerError::io(&json_path, e.into()))?;
    std::fs::write(&json_path, json).map_err(|e| RunnerError::io(&json_path, e))?;
    Ok(result)
}

/// What one firmware run produced, kept even when it failed.
pub struct Session {
    pub outcome: Result<tinybench_target::RunOutcome, RunnerError>,
    pub collector: Collector,
    /// Decoded defmt lines and console text, in order.
    pub log: Vec<String>,
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
    let outcome = target.run(budget, &mut |output| match output {
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
    });
    let outcome = match (outcome, protocol_error) {
        (Err(e), _) => Err(RunnerError::Target(e)),
        (Ok(_), Some(e)) => Err(RunnerError::Protocol(e)),
        (Ok(o), None) => Ok(o),
    };
    Session { outcome, collector, log }
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
    use tinybench_proto::{MAX_FRAME_BYTES, Message};
    use tinybench_target::{FakeStep, FakeTarget};

    use super::*;

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
            Message::Sample { case: 0, iteration: 0, cycles: 100 },
            Message::Sample { case: 0, iteration: 1, cycles: 102 },
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
