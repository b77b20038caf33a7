//! host: where the benchmark firmware runs.
//!
//! [`BenchTarget`] is the seam between the runner and a device. Backends:
//! - [`SimTarget`]: tinybench's built-in Cortex-M simulator, the default when
//!   no board is attached;
//! - [`FakeTarget`]: a scripted target for tests and dry runs.
//!
//! The probe-rs backend for real boards implements the same trait and reuses
//! [`rtt::Rtt`] through the [`MemoryAccess`] trait: probe-rs cannot read RTT
//! without a real core, so the reader is ours.

mod error;
mod fake;
mod memory;
pub mod rtt;
mod sim;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

pub use error::TargetError;
pub use fake::{FakeStep, FakeTarget};
pub use memory::MemoryAccess;
pub use sim::{SimTarget, simulator_for};

/// Limits on one firmware run.
#[derive(Debug, Clone)]
pub struct RunBudget {
    /// Stop after this many core cycles (simulated cycles on the simulator).
    pub max_cycles: u64,
    /// Stop after this much wall time.
    pub timeout: Duration,
    /// Where the user sets these limits, for the hint in a budget error.
    pub set_by: BudgetSource,
    /// Stop early when this is raised (Ctrl-C, SIGTERM).
    pub stop: StopFlag,
}

impl RunBudget {
    pub fn new(max_cycles: u64, timeout: Duration, set_by: BudgetSource) -> Self {
        RunBudget { max_cycles, timeout, set_by, stop: StopFlag::new() }
    }
}

/// Where a run's budget comes from, so a budget error names the knob to turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetSource {
    /// A run configuration's `[run]` table.
    RunConfig,
    /// `tinybench sim` flags.
    CommandLine,
}

impl BudgetSource {
    /// The setting that raises the cycle budget.
    pub fn max_cycles_setting(self) -> &'static str {
        match self {
            BudgetSource::RunConfig => "[run] max-cycles",
            BudgetSource::CommandLine => "--max-cycles",
        }
    }

    /// The setting that raises the wall-time budget.
    pub fn timeout_setting(self) -> &'static str {
        match self {
            BudgetSource::RunConfig => "[run] timeout-s",
            BudgetSource::CommandLine => "--timeout-s",
        }
    }
}

/// A request to stop, shared between a signal handler and whatever runs.
/// It holds the number of the signal that raised it (0: not raised), so the
/// caller can exit with the conventional 128 + signal.
#[derive(Debug, Clone, Default)]
pub struct StopFlag(Arc<AtomicUsize>);

impl StopFlag {
    pub fn new() -> Self {
        StopFlag::default()
    }

    /// The shared cell, for `signal_hook::flag::register_usize`.
    pub fn cell(&self) -> Arc<AtomicUsize> {
        Arc::clone(&self.0)
    }

    /// Raises the flag; `signal` is the signal number, or any nonzero value.
    pub fn raise(&self, signal: usize) {
        self.0.store(signal.max(1), Ordering::SeqCst);
    }

    pub fn is_raised(&self) -> bool {
        self.0.load(Ordering::SeqCst) != 0
    }

    /// The signal number that raised the flag, if any.
    pub fn signal(&self) -> Option<usize> {
        match self.0.load(Ordering::SeqCst) {
            0 => None,
            n => Some(n),
        }
    }
}

impl PartialEq for StopFlag {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for StopFlag {}

/// Something the running firmware produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetOutput<'a> {
    /// Bytes read from an RTT up channel.
    Rtt { channel: usize, bytes: &'a [u8] },
    /// Bytes the program wrote through semihosting (stdout/stderr).
    Console(&'a [u8]),
    /// Periodic progress while the firmware runs.
    Progress { cycles: u64, elapsed: Duration },
    /// Progress of writing the firmware to the target (`erase`, `program`,
    /// `verify`).
    Flash { operation: &'static str, done_bytes: u64, total_bytes: u64 },
}

/// How a firmware run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOutcome {
    /// The program's exit status (0 = success).
    pub exit_code: i32,
    /// Core cycles from reset to exit, where the target knows them.
    pub cycles: Option<u64>,
    /// Instructions executed, where the target knows them.
    pub instructions: Option<u64>,
    /// Wall time of the run.
    pub wall: Duration,
}

/// A device (or a model of one) that runs benchmark firmware.
pub trait BenchTarget {
    /// Short name for logs, e.g. `sim-m4 (simulator)`.
    fn describe(&self) -> String;

    /// Loads the firmware ELF and resets the core, ready to run.
    fn load(&mut self, elf: &[u8]) -> Result<(), TargetError>;

    /// [`BenchTarget::load`], reporting the progress of a slow load (a
    /// board's flash) to `progress` as [`TargetOutput::Flash`].
    fn load_with_progress(
        &mut self,
        elf: &[u8],
        _progress: &mut dyn FnMut(TargetOutput<'_>),
    ) -> Result<(), TargetError> {
        self.load(elf)
    }

    /// Runs the loaded firmware until it exits, passing everything it
    /// produces to `output` as it appears. Fails when the budget runs out.
    fn run(&mut self, budget: &RunBudget, output: &mut dyn FnMut(TargetOutput<'_>)) -> Result<RunOutcome, TargetError>;

    /// Whether figures from this target are simulated rather than measured.
    fn is_simulated(&self) -> bool;

    /// Instruction-class histogram of the last run, where the target counts
    /// instructions (the simulator does; hardware does not).
    fn instruction_histogram(&self) -> Option<Vec<(String, u64)>> {
        None
    }

    /// The simulator's counters sampled through the last run, for a modeled
    /// current trace, where the target records them ([`SimTarget::record_power`]).
    fn take_counter_trace(&mut self) -> Option<tinybench_sim::CounterTrace> {
        None
    }
}
