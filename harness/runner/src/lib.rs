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
mod fingerprint;
pub mod folder;
pub mod preflight;
mod provenance;
pub mod results;
pub mod toolchain;
pub mod workload;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tinybench_config::{CaseConfig, RunConfig, TargetKind};
use tinybench_proto::{DecodeError, FrameDecoder, RunStatus};
use tinybench_target::{BenchTarget, BudgetSource, RunBudget, SimTarget, StopFlag, TargetError, TargetOutput};

pub use collect::{Collected, Collector};
pub use elf::{FirmwareImage, StaticMemory};
pub use events::{BenchEvent, Phase};
pub use results::{Accuracy, CaseFailure, CaseResult, LayerResult, MemoryUsage, Provenance, RunResults, Spread};
pub use tinybench_config::input::{self, InputFileError};

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
    /// A file of the run folder (or the firmware build's output) could not be
    /// written or read back.
    #[error("cannot write {}: {error}; check free space and permissions there", path.display())]
    Io { path: PathBuf, error: std::io::Error },
    /// An input the run needs could not be read.
    #[error("cannot read {}: {error}; check the path and its permissions", path.display())]
    Read { path: PathBuf, error: std::io::Error },
    #[error(transparent)]
    InputFile(#[from] InputFileError),
    /// The firmware's Rust target is not installed and could not be.
    #[error("cannot build firmware: {detail}")]
    FirmwareTargetMissing { detail: String },
    #[error(
        "{}: no firmware support for board {board}: the firmware is built for {} (features board-<id> in {}); \
         use one of those, or add a feature `board-{board}` there with its start-up code in \
         target-fw/bench-fw/src/board/ (docs/architecture.md, \"a new board\")",
        board_file.display(), known.join(", "), manifest.display()
    )]
    BoardNotSupported { board: String, board_file: PathBuf, manifest: PathBuf, known: Vec<String> },
    #[error(
        "{what} need {needed_bytes} bytes of board {board}'s region {region}, which has {available_bytes}: short by {} \
         bytes; use a smaller model (int4 weights, fewer target-accuracy-samples){larger_region}",
        needed_bytes - available_bytes
    )]
    DoesNotFit {
        board: String,
        region: String,
        needed_bytes: u64,
        available_bytes: u64,
        what: &'static str,
        /// ", or ..." naming a larger region of the board, if it has one.
        larger_region: String,
    },
    #[error(
        "the firmware does not fit board {board}: section {section} overflows region {region} by {bytes} bytes \
         (linker log in {}); use a smaller model (int4 weights, fewer target-accuracy-samples) or a board with more memory",
        log_path.display()
    )]
    LinkerOverflow { board: String, section: String, region: String, bytes: u64, log_path: PathBuf },
    /// Two builds before this case failed with the same error.
    #[error(
        "not built: the firmware build failed the same way for cases {first} and {second} (log in {}), so it would \
         fail for this case too; fix the firmware build and run again",
        log_path.display()
    )]
    SameBuildFailure { first: String, second: String, log_path: PathBuf },
    /// The run was asked to stop (Ctrl-C, SIGTERM) while this case ran.
    #[error("stopped on request")]
    Stopped,
}

impl RunnerError {
    pub fn io(path: &Path, source: std::io::Error) -> RunnerError {
        RunnerError::Io { path: path.to_owned(), error: source }
    }

    /// The class of failure, which decides the CLI's exit code.
    pub fn kind(&self) -> FailureKind {
        match self {
            RunnerError::FirmwareSourcesMissing(_)
            | RunnerError::BuildSpawn(_)
            | RunnerError::BuildFailed { .. }
            | RunnerError::SameBuildFailure { .. }
            | RunnerError::FirmwareTargetMissing { .. } => FailureKind::Build,
            RunnerError::BadElf(_)
            | RunnerError::ProtocolMismatch { .. }
            | RunnerError::Target(_)
            | RunnerError::Protocol(_)
            | RunnerError::IncompleteResults { .. }
            | RunnerError::Stopped => FailureKind::Target,
            RunnerError::FirmwareFailed { .. }
            | RunnerError::ChecksumMismatch { .. }
            | RunnerError::OutputMismatch { .. }
            | RunnerError::EvalMismatch { .. } => FailureKind::Benchmark,
            RunnerError::Model { .. }
            | RunnerError::Read { .. }
            | RunnerError::InputFile(_)
            | RunnerError::BoardNotSupported { .. }
            | RunnerError::DoesNotFit { .. }
            | RunnerError::LinkerOverflow { .. } => FailureKind::Input,
            RunnerError::Io { .. } => FailureKind::Io,
        }
    }
}

/// What kind of thing went wrong; each maps to a documented exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

impl FailureKind {
    /// The kind in one word, as it appears in reports (`build`, `target`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Benchmark => "benchmark",
            FailureKind::Build => "build",
            FailureKind::Target => "target",
            FailureKind::Io => "io",
            FailureKind::Input => "input",
        }
    }
}

/// How to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Raised by Ctrl-C or SIGTERM: the run stops after writing what finished.
    pub stop: StopFlag,
    /// Keep the cases an earlier, interrupted run finished in the same folder
    /// when nothing they depend on changed (`--resume`).
    pub resume: bool,
}

/// Runs every case of `config`, writing per-case artifacts (build log, ELF,
/// firmware log, `result.json`) under `run_dir/cases/<name>/`. Failed cases
/// are reported and skipped; the others still run. A raised stop flag ends
/// the run after the current step; the results then say `interrupted`.
///
/// Before any case: the firmware must support the board and the firmware's
/// Rust target must be installed (it is installed once if rustup can).
pub fn run(
    config: &RunConfig,
    run_dir: &Path,
    options: &RunOptions,
    events: &mut dyn FnMut(&BenchEvent),
) -> Result<RunResults, RunnerError> {
    let firmware_dir = preflight::check_before_run(config, &mut |message| events(&BenchEvent::Note { message }))?;
    std::fs::create_dir_all(run_dir).map_err(|e| RunnerError::io(run_dir, e))?;
    let target_label = match config.target {
        TargetKind::Sim => format!("{} (simulator)", config.board.id),
    };
    let names: Vec<String> = config.cases.iter().map(|c| c.name.clone()).collect();
    events(&BenchEvent::RunStarted {
        config: config.path.clone(),
        board: config.board.id.clone(),
        target: target_label,
        run_dir: run_dir.to_owned(),
        cases: names.clone(),
    });
    let toolchain = provenance::toolchain(&firmware_dir);
    let env = BuildEnvironment {
        git_revision: provenance::git_revision(&firmware_dir),
        fingerprint: fingerprint::RunFingerprint::new(&firmware_dir, &toolchain)?,
        toolchain,
        firmware_dir,
    };
    let mut results = RunResults::new(config.path.display().to_string(), config.board.id.clone(), names);
    // (case, its build error with case-specific text removed) of the last
    // failed build: the same error twice means the firmware itself does not
    // build, and building the remaining cases would only repeat it.
    let mut last_build_failure: Option<(String, String)> = None;
    // (first case, second case, log) once that happened.
    let mut same_build_failure: Option<(String, String, PathBuf)> = None;
    for (index, case) in config.cases.iter().enumerate() {
        if options.stop.is_raised() {
            break;
        }
        if let Some((first, second, log_path)) = &same_build_failure {
            let (first, second, log_path) = (first.clone(), second.clone(), log_path.clone());
            record_failure(
                &mut results,
                index,
                case,
                RunnerError::SameBuildFailure { first, second, log_path },
                events,
            );
            continue;
        }
        let case_dir = run_dir.join("cases").join(&case.name);
        let inputs_sha256 = match env.fingerprint.case(config, case) {
            Ok(fingerprint) => fingerprint,
            Err(e) => {
                record_failure(&mut results, index, case, e, events);
                continue;
            }
        };
        if options.resume
            && let Some(result) = reusable_result(&case_dir, &inputs_sha256)
        {
            events(&BenchEvent::CaseReused { index, result: Box::new(result.clone()) });
            results.results.push(result);
            continue;
        }
        // Nothing of an earlier attempt may stay beside this one's files.
        if case_dir.exists() {
            std::fs::remove_dir_all(&case_dir).map_err(|e| RunnerError::io(&case_dir, e))?;
        }
        let budget = RunBudget {
            stop: options.stop.clone(),
            ..RunBudget::new(config.run.max_cycles, Duration::from_secs(config.run.timeout_s), BudgetSource::RunConfig)
        };
        match run_case(config, &env, index, case, &case_dir, &budget, &inputs_sha256, events) {
            Ok(result) => {
                events(&BenchEvent::CaseFinished { index, result: Box::new(result.clone()) });
                results.results.push(result);
            }
            // Whatever failed after a stop request failed because of it (a
            // Ctrl-C also reaches cargo): the case is missing, not failed.
            Err(_) if options.stop.is_raised() => break,
            Err(e) => {
                if let RunnerError::BuildFailed { tail, log_path, .. } = &e {
                    let error = tail.replace(&case_dir.display().to_string(), "<case>").replace(&case.name, "<case>");
                    match &last_build_failure {
                        Some((first, previous)) if *previous == error => {
                            same_build_failure = Some((first.clone(), case.name.clone(), log_path.clone()));
                        }
                        _ => last_build_failure = Some((case.name.clone(), error)),
                    }
                }
                record_failure(&mut results, index, case, e, events);
            }
        }
    }
    results.finish(options.stop.is_raised());
    events(&BenchEvent::RunFinished { results: results.clone() });
    Ok(results)
}

fn record_failure(
    results: &mut RunResults,
    index: usize,
    case: &CaseConfig,
    error: RunnerError,
    events: &mut dyn FnMut(&BenchEvent),
) {
    let failure = CaseFailure { case: case.name.clone(), kind: error.kind(), error: error.to_string() };
    events(&BenchEvent::CaseFailed { index, failure: failure.clone() });
    results.failures.push(failure);
}

/// A finished case's result from an earlier run, if its inputs are unchanged.
fn reusable_result(case_dir: &Path, inputs_sha256: &str) -> Option<CaseResult> {
    let text = std::fs::read_to_string(case_dir.join("result.json")).ok()?;
    let result: CaseResult = serde_json::from_str(&text).ok()?;
    (result.provenance.inputs_sha256 == inputs_sha256).then_some(result)
}

/// Writes to a temporary file beside `path`, syncs it, then renames it over
/// `path`: a crash, a kill or a full disk leaves the old file or the new one,
/// never half of one.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}

struct BuildEnvironment {
    firmware_dir: PathBuf,
    git_revision: String,
    toolchain: String,
    /// What every case's fingerprint shares.
    fingerprint: fingerprint::RunFingerprint,
}

#[allow(clippy::too_many_arguments, reason = "one case's whole context; a struct would only rename it")]
fn run_case(
    config: &RunConfig,
    env: &BuildEnvironment,
    index: usize,
    case: &CaseConfig,
    case_dir: &Path,
    budget: &RunBudget,
    inputs_sha256: &str,
    events: &mut dyn FnMut(&BenchEvent),
) -> Result<CaseResult, RunnerError> {
    std::fs::create_dir_all(case_dir).map_err(|e| RunnerError::io(case_dir, e))?;
    let phase = |phase| BenchEvent::Phase { index, case: case.name.clone(), phase };
    events(&phase(Phase::Preparing));
    let workload = workload::prepare(case, &config.board, case_dir)?;
    if budget.stop.is_raised() {
        return Err(RunnerError::Stopped);
    }
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
        stop: &budget.stop,
        cargo: &build::cargo(),
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
    let session = run_firmware(target.as_mut(), &image.bytes, budget, index, events);
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
            inputs_sha256: inputs_sha256.to_owned(),
            timestamp: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        },
    });
    // Written at once and whole: `--resume` trusts a result.json it finds.
    let json_path = case_dir.join("result.json");
    let json = serde_json::to_string_pretty(&result).map_err(|e| RunnerError::io(&json_path, e.into()))? + "\n";
    write_atomically(&json_path, json.as_bytes()).map_err(|e| RunnerError::io(&json_path, e))?;
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
