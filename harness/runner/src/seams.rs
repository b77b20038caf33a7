//! The runner's seams: what builds the firmware ([`FirmwareBuilder`]) and
//! where it runs ([`TargetFactory`]) are parameters of a [`crate::Runner`],
//! like its power meter, so a whole run can be driven by fakes
//! ([`crate::fake`]) and a new backend plugs in without touching the run loop.

use std::path::{Path, PathBuf};

use tinybench_config::{Board, CaseConfig, RunConfig, RunSettings};
use tinybench_target::{BenchTarget, SimTarget, StopFlag};

use crate::RunnerError;

/// One case's firmware to build.
#[derive(Debug, Clone, Copy)]
pub struct BuildRequest<'a> {
    pub board: &'a Board,
    pub case: &'a CaseConfig,
    pub run: &'a RunSettings,
    /// Variables selecting the workload (see [`crate::workload::prepare`]).
    pub workload_env: &'a [(&'static str, String)],
    /// The case's folder: the build writes `build.log` and `firmware.elf` there.
    pub case_dir: &'a Path,
    /// A raised flag stops the build (the run was asked to stop).
    pub stop: &'a StopFlag,
}

/// What decides every image a builder makes besides the case, for result
/// provenance and `--resume` fingerprints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuilderIdentity {
    /// Revision of the firmware sources (`git describe`-like, `+dirty`), or `unknown`.
    pub git_revision: String,
    /// The compiler, e.g. `rustc 1.95.0 (...)`.
    pub toolchain: String,
    /// Hash of the firmware sources and the toolchain.
    pub sources_sha256: String,
}

/// Builds benchmark firmware.
pub trait FirmwareBuilder {
    /// Checks that need no build and no run folder (the firmware supports
    /// the board, the toolchain is installed), run before anything else;
    /// `note` takes one-line notices.
    fn check(&mut self, _config: &RunConfig, _note: &mut dyn FnMut(String)) -> Result<(), RunnerError> {
        Ok(())
    }

    /// What decides every image besides the case.
    fn identity(&mut self) -> Result<BuilderIdentity, RunnerError>;

    /// Builds one case's firmware; returns the ELF's path.
    fn build(&mut self, request: &BuildRequest<'_>) -> Result<PathBuf, RunnerError>;
}

/// Opens the targets firmware runs on.
pub trait TargetFactory {
    /// Checks made before any firmware is built (e.g. that a probe is there).
    fn check(&mut self, _config: &RunConfig) -> Result<(), RunnerError> {
        Ok(())
    }

    /// The backend in one word, for result provenance: `sim`, `probe-rs`, `fake`.
    fn kind(&self) -> &'static str;

    /// What the run's targets are, for progress lines.
    fn describe(&self, config: &RunConfig) -> String;

    /// Whether its targets record the simulator's counters, from which the
    /// modeled current (and an instrument simulator's input) is made.
    fn records_counters(&self) -> bool {
        false
    }

    /// A target for one case, ready for `load`. Called before the case's
    /// firmware is built: `TargetUnavailable` here (a probe unplugged since
    /// the last case) ends the run, the cases left marked not run.
    fn open(&mut self, config: &RunConfig) -> Result<Box<dyn BenchTarget>, RunnerError>;
}

/// tinybench's own simulator, one fresh instance per case.
#[derive(Debug, Clone, Copy, Default)]
pub struct SimTargets;

impl TargetFactory for SimTargets {
    fn kind(&self) -> &'static str {
        "sim"
    }

    fn describe(&self, config: &RunConfig) -> String {
        format!("{} (simulator)", config.board.id)
    }

    fn records_counters(&self) -> bool {
        true
    }

    fn open(&mut self, config: &RunConfig) -> Result<Box<dyn BenchTarget>, RunnerError> {
        let mut target = SimTarget::new(&config.board)?;
        if crate::power::needs_counter_trace(config) {
            let interval_cycles = (config.power.sample_us * 1e-6 * config.board.clock_hz as f64).round() as u64;
            target.record_power(config.board.clock_hz, interval_cycles);
        }
        Ok(Box::new(target))
    }
}
