//! Firmware errors. Each has a stable code, sent as `RunStatus::Failed { code }`;
//! the defmt log carries the details.

use tinybench_kernels::KernelError;
#[cfg(workload = "model")]
use tinybench_kernels::tbm::TbmError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, defmt::Format)]
pub enum FwError {
    /// The kernel refused the workload (a build-time shape bug).
    Kernel(KernelError),
    /// A result message did not fit `MAX_FRAME_BYTES`.
    FrameTooLarge,
    /// The results channel accepted only part of a frame.
    ResultsChannelShort { written: usize, frame_len: usize },
    /// The core has no DWT cycle counter (DWT_CTRL.NOCYCCNT).
    NoCycleCounter,
    /// The output buffer was already taken (the benchmark ran twice).
    OutputBufferTaken,
    /// An evaluation sample index past the linked samples.
    NoSuchSample,
    /// The build asked for a deliberate failure (`TINYBENCH_SELF_TEST=fail`).
    SelfTest,
    /// The model was refused or failed to run.
    #[cfg(workload = "model")]
    Model(TbmError),
    /// A panic; see the defmt log for its message and location.
    Panic,
}

impl FwError {
    /// The code reported to the host; stable across versions (documented in
    /// target-fw/README.md).
    pub const fn code(&self) -> u16 {
        match self {
            FwError::Kernel(_) => 1,
            FwError::FrameTooLarge => 2,
            FwError::ResultsChannelShort { .. } => 3,
            FwError::NoCycleCounter => 4,
            FwError::OutputBufferTaken => 5,
            FwError::SelfTest => 6,
            FwError::NoSuchSample => 8,
            #[cfg(workload = "model")]
            FwError::Model(_) => 7,
            FwError::Panic => 100,
        }
    }
}

impl From<KernelError> for FwError {
    fn from(err: KernelError) -> Self {
        FwError::Kernel(err)
    }
}
