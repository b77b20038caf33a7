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
    /// Writing the firmware to the board failed.
    #[error("flashing the firmware failed: {detail}")]
    Flash { detail: String },
    /// The firmware never set up its RTT control block.
    #[error(
        "the firmware's RTT control block at {address:#010x} was not set up within {seconds} s of starting it; the \
         firmware may have crashed or hung before starting RTT (`tinybench sim` on the same ELF shows where)"
    )]
    RttNotFound { address: u64, seconds: u64 },
    /// The ELF has no `_SEGGER_RTT`: the results could not be read.
    #[error("the ELF has no _SEGGER_RTT symbol, so its results cannot be read; it is not a tinybench firmware")]
    NoRttControlBlock,
    /// The chip on the other end is not the board file's.
    #[error(
        "the attached chip is a {found} (CPUID {cpuid:#010x}) but the board file says {expected}; another board is \
         connected, or [target] probe picks the wrong probe (`tinybench probe list`)"
    )]
    WrongChip { found: String, cpuid: u32, expected: String },
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
