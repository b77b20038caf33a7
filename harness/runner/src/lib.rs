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
mod error;
mod events;
pub mod fake;
mod fingerprint;
pub mod folder;
pub mod power;
pub mod preflight;
mod provenance;
pub mod results;
pub mod seams;
mod session;
pub mod toolchain;
pub mod trace;
pub mod workload;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tinybench_config::{CaseConfig, RunConfig};
use tinybench_proto::RunStatus;
use tinybench_target::{BudgetSource, RunBudget, StopFlag, TargetOutput};

pub use build::CargoBuilder;
pub use collect::{Collected, Collector};
pub use elf::{FirmwareImage, StaticMemory};
pub use error::{FailureKind, RunnerError};
pub use events::{BenchEvent, Phase};
pub use results::{Accuracy, CaseFailure, CaseResult, LayerResult, MemoryUsage, Provenance, RunResults, Spread};
pub use seams::{BuildRequest, BuilderIdentity, FirmwareBuilder, SimTargets, TargetFactory};
pub use session::{LogDecoder, Session, run_firmware};
pub use tinybench_config::input::{self, InputFileError};

/// How to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Raised by Ctrl-C or SIGTERM: the run stops after writing what finished.
    pub stop: StopFlag,
    /// Keep the cases an earlier, interrupted run finished in the same folder
    /// when nothing they depend on changed (`--resume`).
    pub resume: bool,
}

/// One run's parts: what builds the firmware, where it runs, what measures
/// energy. Built with [`Runner::new`], or from fakes in tests.
pub struct Runner {
    pub builder: Box<dyn FirmwareBuilder>,
    pub targets: Box<dyn TargetFactory>,
    pub meters: power::Meters,
}

impl Runner {
    /// Cargo in this checkout's firmware workspace, `targets` (the backend
    /// `[target]` names: [`SimTargets`] for `kind = "sim"`), and `meters`
    /// (what opens the instruments `[power]` names; the modeled current
    /// needs none).
    pub fn new(
        targets: Box<dyn TargetFactory>,
        meters: Box<dyn tinybench_power::MeterFactory>,
    ) -> Result<Runner, RunnerError> {
        Ok(Runner { builder: Box::new(CargoBuilder::locate()?), targets, meters: power::Meters::new(meters) })
    }

    /// The checks that need no build and no run folder: the firmware
    /// supports the board, the toolchain is there, the target is reachable.
    /// A run that cannot build or run anything fails here in a second and
    /// leaves nothing behind; `note` takes one-line notices.
    pub fn check(&mut self, config: &RunConfig, note: &mut dyn FnMut(String)) -> Result<(), RunnerError> {
        self.targets.check(config)?;
        self.meters.check(config, self.targets.as_ref())?;
        self.builder.check(config, note)
    }

    /// Runs every case of `config`, writing per-case artifacts (build log,
    /// ELF, firmware log, `result.json`) under `run_dir/cases/<name>/`.
    /// Failed cases are reported and skipped; the others still run. A raised
    /// stop flag ends the run after the current step; the results then say
    /// `interrupted`. Starts with [`Runner::check`].
    pub fn run(
        &mut self,
        config: &RunConfig,
        run_dir: &Path,
        options: &RunOptions,
        events: &mut dyn FnMut(&BenchEvent),
    ) -> Result<RunResults, RunnerError> {
        self.check(config, &mut |message| events(&BenchEvent::Note { message }))?;
        std::fs::create_dir_all(run_dir).map_err(|e| RunnerError::io(run_dir, e))?;
        let names: Vec<String> = config.cases.iter().map(|c| c.name.clone()).collect();
        events(&BenchEvent::RunStarted {
            config: config.path.clone(),
            board: config.board.id.clone(),
            target: self.targets.describe(config),
            run_dir: run_dir.to_owned(),
            cases: names.clone(),
        });
        let identity = self.builder.identity()?;
        let fingerprint = fingerprint::RunFingerprint::new(&identity.sources_sha256, self.targets.kind())?;
        let mut results = RunResults::new(config.path.display().to_string(), config.board.id.clone(), names);
        // (case, its build error with case-specific text removed) of the last
        // failed build: the same error twice means the firmware itself does
        // not build, and building the remaining cases would only repeat it.
        let mut last_build_failure: Option<(String, String)> = None;
        // (first case, second case, log) once that happened.
        let mut same_build_failure: Option<(String, String, PathBuf)> = None;
        let mut target_lost = false;
        for (index, case) in config.cases.iter().enumerate() {
            if options.stop.is_raised() {
                break;
            }
            if let Some((first, second, log_path)) = &same_build_failure {
                let (first, second, log_path) = (first.clone(), second.clone(), log_path.clone());
                let error = RunnerError::SameBuildFailure { first, second, log_path };
                record_failure(&mut results, index, case, error, events);
                continue;
            }
            let case_dir = run_dir.join("cases").join(&case.name);
            let inputs_sha256 = match fingerprint.case(config, case) {
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
                ..RunBudget::new(
                    config.run.max_cycles,
                    Duration::from_secs(config.run.timeout_s),
                    BudgetSource::RunConfig,
                )
            };
            let case_run = CaseRun { config, identity: &identity, index, case, case_dir: &case_dir, budget: &budget };
            match self.run_case(&case_run, &inputs_sha256, events) {
                Ok(result) => {
                    events(&BenchEvent::CaseFinished { index, result: Box::new(result.clone()) });
                    results.results.push(result);
                }
                // Whatever failed after a stop request failed because of it (a
                // Ctrl-C also reaches cargo): the case is missing, not failed.
                Err(_) if options.stop.is_raised() => break,
                Err(e) => {
                    if let RunnerError::BuildFailed { tail, log_path, .. } = &e {
                        // The compiler's error lines only: cargo's own lines
                        // ("Blocking waiting for file lock", ...) vary.
                        let error: Vec<String> = tail
                            .lines()
                            .map(str::trim)
                            .filter(|l| l.starts_with("error"))
                            .map(|l| l.replace(&case_dir.display().to_string(), "<case>").replace(&case.name, "<case>"))
                            .collect();
                        let error = error.join("\n");
                        match &last_build_failure {
                            Some((first, previous)) if *previous == error && !error.is_empty() => {
                                same_build_failure = Some((first.clone(), case.name.clone(), log_path.clone()));
                            }
                            _ => last_build_failure = Some((case.name.clone(), error)),
                        }
                    }
                    // No target any more (a probe unplugged): the cases left
                    // cannot run; `--resume` runs them once it is back.
                    target_lost = matches!(e, RunnerError::TargetUnavailable { .. });
                    record_failure(&mut results, index, case, e, events);
                    if target_lost {
                        break;
                    }
                }
            }
        }
        results.finish(options.stop.is_raised() || target_lost);
        events(&BenchEvent::RunFinished { results: results.clone() });
        Ok(results)
    }
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

/// One case's context in a run.
#[derive(Clone, Copy)]
struct CaseRun<'a> {
    config: &'a RunConfig,
    identity: &'a BuilderIdentity,
    index: usize,
    case: &'a CaseConfig,
    case_dir: &'a Path,
    budget: &'a RunBudget,
}

impl Runner {
    fn run_case(
        &mut self,
        run: &CaseRun<'_>,
        inputs_sha256: &str,
        events: &mut dyn FnMut(&BenchEvent),
    ) -> Result<CaseResult, RunnerError> {
        let CaseRun { config, identity, index, case, case_dir, budget } = *run;
        std::fs::create_dir_all(case_dir).map_err(|e| RunnerError::io(case_dir, e))?;
        let phase = |phase| BenchEvent::Phase { index, case: case.name.clone(), phase };
        events(&phase(Phase::Preparing));
        let workload = workload::prepare(case, &config.board, case_dir)?;
        if budget.stop.is_raised() {
            return Err(RunnerError::Stopped);
        }
        // Before the build: a probe unplugged since the last case stops the
        // run without building for nothing.
        let mut target = self.targets.open(config)?;
        events(&BenchEvent::BuildStarted { index, case: case.name.clone() });
        let started = Instant::now();
        let mut build_env = workload.env.clone();
        build_env.extend(power::build_env(config, case));
        let elf_path = self.builder.build(&BuildRequest {
            board: &config.board,
            case,
            run: &config.run,
            workload_env: &build_env,
            case_dir,
            stop: &budget.stop,
        })?;
        events(&BenchEvent::BuildFinished {
            index,
            case: case.name.clone(),
            duration: started.elapsed(),
            elf: elf_path.clone(),
        });

        let bytes = std::fs::read(&elf_path).map_err(|e| RunnerError::io(&elf_path, e))?;
        let image = FirmwareImage::parse(bytes)?;
        target.load_with_progress(&image.bytes, &mut |output| {
            if let TargetOutput::Flash { operation, done_bytes, total_bytes } = output {
                events(&BenchEvent::Flashing { index, case: case.name.clone(), operation, done_bytes, total_bytes });
            }
        })?;
        events(&BenchEvent::CaseStarted { index, case: case.name.clone(), target: target.describe() });

        let log_path = case_dir.join("firmware.log");
        power::arm(&mut self.meters, config, case, workload.macs, workload.layer_marks)?;
        let session = run_firmware(target.as_mut(), &image.bytes, budget, index, events);
        let log_text = session.log.join("\n") + "\n";
        std::fs::write(&log_path, log_text).map_err(|e| RunnerError::io(&log_path, e))?;
        // The raw channels: what any decoding above was made from.
        for (channel, bytes) in &session.rtt {
            let path = case_dir.join(format!("rtt-{channel}.bin"));
            std::fs::write(&path, bytes).map_err(|e| RunnerError::io(&path, e))?;
        }
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
        let setup = collected.power.unwrap_or_default();
        if power::measured(config, case) && config.power.per_layer && setup.layer_marks != workload.layer_marks {
            return Err(RunnerError::Protocol(format!(
                "the firmware marked {} layer boundaries, the model has {}",
                setup.layer_marks, workload.layer_marks
            )));
        }
        let measured = power::measure(&mut self.meters, config, case, target.as_mut(), &collected, case_dir);
        let (energy, power_error) = match measured {
            Ok(energy) => (energy, None),
            Err(RunnerError::Power(e)) => (None, Some(e)),
            Err(e) => return Err(e),
        };
        let result = results::assemble(results::Inputs {
            config,
            case,
            collected: &collected,
            workload: &workload,
            image: &image,
            expected_checksum,
            energy,
            provenance: Provenance {
                tinybench_version: env!("CARGO_PKG_VERSION").to_owned(),
                git_revision: identity.git_revision.clone(),
                toolchain: identity.toolchain.clone(),
                board: config.board.id.clone(),
                core: config.board.core.to_string(),
                clock_hz: config.board.clock_hz,
                board_settings: config.board.settings.clone(),
                target: self.targets.kind().to_owned(),
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
        if let Some(source) = power_error {
            let kept = case_dir.join("result-without-energy.json");
            let json = serde_json::to_string_pretty(&result).map_err(|e| RunnerError::io(&kept, e.into()))? + "\n";
            write_atomically(&kept, json.as_bytes()).map_err(|e| RunnerError::io(&kept, e))?;
            return Err(RunnerError::PowerAfterRun { source, kept });
        }
        // Written at once and whole: `--resume` trusts a result.json it finds.
        let json_path = case_dir.join("result.json");
        let json = serde_json::to_string_pretty(&result).map_err(|e| RunnerError::io(&json_path, e.into()))? + "\n";
        write_atomically(&json_path, json.as_bytes()).map_err(|e| RunnerError::io(&json_path, e))?;
        Ok(result)
    }
}
