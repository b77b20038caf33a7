//! The runner's event stream. Reporters (terminal progress, files) consume
//! these; the runner never prints.

use std::path::PathBuf;
use std::time::Duration;

use crate::results::{CaseFailure, CaseResult, RunResults};

/// Something that happened during a run.
#[derive(Debug, Clone, PartialEq)]
pub enum BenchEvent {
    RunStarted {
        config: PathBuf,
        board: String,
        target: String,
        run_dir: PathBuf,
        cases: usize,
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
    CaseFailed {
        index: usize,
        failure: CaseFailure,
    },
    RunFinished {
        results: RunResults,
    },
}
