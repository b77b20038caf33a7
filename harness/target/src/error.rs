use crate::rtt::RttError;

/// Why a firmware could not be loaded or did not run to completion.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// The simulator stopped on an error (undefined instruction, unmapped
    /// access, fault); the message names PC, instruction and symbol.
    #[error("simulator: {0}")]
    Sim(tinybench_sim::SimError),
    /// The firmware did not finish within the cycle budget.
    #[error(
        "firmware still running after {cycles} cycles (budget {max_cycles}), at pc {pc:#010x} in {symbol}; \
         if it needs longer raise {setting}, otherwise look for a hang there"
    )]
    CycleBudgetExceeded { cycles: u64, max_cycles: u64, pc: u32, symbol: String, setting: &'static str },
    /// The firmware did not finish within the wall-time budget.
    #[error(
        "firmware still running after {seconds} s of wall time ({cycles} cycles), at pc {pc:#010x} in {symbol}; \
         raise {setting} or reduce the workload"
    )]
    Timeout { seconds: u64, cycles: u64, pc: u32, symbol: String, setting: &'static str },
    /// The run was asked to stop (Ctrl-C, SIGTERM) before the firmware finished.
    #[error("stopped on request after {cycles} cycles")]
    Stopped { cycles: u64 },
    /// The core stopped on a fault (HardFault, lockup) on real hardware; the
    /// detail names the fault and its status registers.
    #[error("the core halted on a fault at pc {pc:#010x} in {symbol}: {detail}")]
    Fault { pc: u32, symbol: String, detail: String },
    /// The debug probe failed (unplugged, USB error, no response).
    #[error("debug probe: {detail}")]
    Probe { detail: String },
    /// The firmware hit a breakpoint other than semihosting.
    #[error("firmware hit breakpoint #{imm} at pc {pc:#010x} in {symbol}; remove it or run under a debugger")]
    Breakpoint { imm: u8, pc: u32, symbol: String },
    /// RTT could not be read.
    #[error("RTT: {0}")]
    Rtt(RttError),
    /// `run` was called before `load`.
    #[error("no firmware loaded; call load() before run()")]
    NotLoaded,
    /// A memory access through the debug interface failed.
    #[error("cannot access {len} bytes at {address:#010x}: {reason}")]
    Memory { address: u32, len: usize, reason: String },
}

// Manual `From`s: the wrapped error is part of the message, not a separate
// `source`, so a CLI printing the error chain shows it once.
impl From<tinybench_sim::SimError> for TargetError {
    fn from(e: tinybench_sim::SimError) -> Self {
        TargetError::Sim(e)
    }
}

impl From<RttError> for TargetError {
    fn from(e: RttError) -> Self {
        TargetError::Rtt(e)
    }
}
