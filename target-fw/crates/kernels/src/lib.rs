//! host + target: int8 inference kernels with TensorFlow Lite semantics, and
//! the deterministic synthetic workloads the benchmark firmware runs them on.
//!
//! - [`quant`]: fixed-point requantization arithmetic (gemmlowp / TFLite
//!   `kernels/internal/common.h`), bit-exact.
//! - [`conv2d`]: CONV_2D, int8 NHWC with per-channel requantization.
//! - [`depthwise`]: DEPTHWISE_CONV_2D with a depth multiplier.
//! - [`fully_connected`]: FULLY_CONNECTED, per-tensor or per-channel.
//! - [`pool`]: AVERAGE_POOL_2D and MAX_POOL_2D.
//! - [`add`]: ADD with TFLite's quantized rescaling.
//! - [`softmax`]: SOFTMAX, LiteRT's table version and the fixed-point one.
//! - [`activation`]: fused activation ranges, standalone RELU/RELU6, RESHAPE.
//! - [`filter`]: int8 and packed int4 filter storage (nibble order documented there).
//! - [`kernel_set`]: the [`kernel_set::KernelSet`] seam every implementation
//!   (`reference`, `fused`, `simd`) plugs into, and the conformance battery.
//! - [`fused`]: one-pass layer groups (conv + requantization + activation + RELU + pool).
//! - [`simd`], [`gemm`] and [`dsp`]: ARMv7E-M DSP inner loops (`asm!` on ARM,
//!   exact portable models of the instructions elsewhere).
//! - [`tbm`]: the `.tbm` firmware model format (reader) and the arena engine
//!   that runs it with a kernel set.
//! - [`fixture`]: `const fn` generators so firmware keeps a workload in rodata.
//!
//! The library is `no_std` without `alloc`: kernels take slices in and write a
//! caller-provided output slice.
#![cfg_attr(not(any(test, feature = "std")), no_std)]

pub mod activation;
pub mod add;
pub mod conv2d;
pub mod depthwise;
pub mod dsp;
pub mod filter;
pub mod fixture;
pub mod fully_connected;
pub mod fused;
pub mod gemm;
pub mod kernel_set;
pub mod pool;
pub mod quant;
pub mod simd;
pub mod softmax;
pub mod tbm;

/// Why a kernel refused to run. Kernels check everything up front and write
/// no output on error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum KernelError {
    /// A slice's length does not match the shape in the parameters.
    LengthMismatch {
        /// Which argument (`"input"`, `"filter"`, `"bias"`, ...).
        what: &'static str,
        expected: usize,
        actual: usize,
    },
    /// The parameters describe no valid operation (a zero dimension, stride or
    /// dilation, an empty output, or activation min > max).
    InvalidParams { what: &'static str },
}

impl core::fmt::Display for KernelError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            KernelError::LengthMismatch { what, expected, actual } => {
                write!(f, "{what} has {actual} elements, the shape needs {expected}")
            }
            KernelError::InvalidParams { what } => write!(f, "invalid kernel parameters: {what}"),
        }
    }
}
