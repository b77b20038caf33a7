//! The runner's event stream. Reporters (terminal progress, files) consume
//! these; the runner never prints.

use std::path::PathBuf;
use std::time::Duration;

use crate::results::{CaseFailure, CaseResult, RunResults};

/// What a case is doing, for progress displays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Reading the model and inputs, computing the host's expected outputs
    /// and test-set accuracy.
    Preparing,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Preparing => "preparing the workload on the host",
        }
    }
}

/// Something that happened during a run.
#[derive(Debug, Clone, PartialEq)]
pub enum BenchEvent {
    RunStarted {
        config: PathBuf,
        board: String,
        target: String,
        run_dir: PathBuf,
        /// Every case's name, in run order.
        cases: Vec<String>,
    },
    /// A one-line notice about the run's set-up (e.g. a target being installed).
    Note {
        message: String,
    },
    Phase {
        index: usize,
        case: String,
        phase: Phase,
    },
    BuildStarted {
        index: usize,
        case: String,
    },
    BuildFinished {
        index: usize,
        case: String,
        duration: Duration,
        elf: PathBuf,
    },
    /// The firmware is being written to the board.
    Flashing {
        index: usize,
        case: String,
        /// `erase`, `program` or `verify`.
        operation: &'static str,
        done_bytes: u64,
        total_bytes: u64,
    },
    CaseStarted {
        index: usize,
        case: String,
        target: String,
    },
    /// The firmware is still running.
    Progress {
        index: usize,
        cycles: u64,
        elapsed: Duration,
    },
    /// A decoded defmt log line from the firmware.
    Log {
        index: usize,
        line: String,
    },
    /// Text the firmware wrote through semihosting.
    Console {
        index: usize,
        text: String,
    },
    CaseFinished {
        index: usize,
        result: Box<CaseResult>,
    },
    /// A case an earlier, interrupted run finished, kept because nothing it
    /// depends on changed (`--resume`).
    CaseReused {
        index: usize,
        result: Box<CaseResult>,
    },
    CaseFailed {
        index: usize,
        failure: CaseFailure,
    },
    RunFinished {
        results: RunResults,
    },
}
