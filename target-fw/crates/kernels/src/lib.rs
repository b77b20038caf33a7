//! host + target: int8 inference kernels with TensorFlow Lite semantics, and
//! the deterministic synthetic workloads the benchmark firmware runs them on.
//!
//! - [`quant`]: fixed-point requantization arithmetic (gemmlowp / TFLite
//!   `kernels/internal/common.h`), bit-exact.
//! - [`conv2d`]: CONV_2D, int8 NHWC with per-channel requantization.
//! - [`fixture`]: `const fn` generators so firmware keeps a workload in rodata.
//!
//! The library is `no_std` without `alloc`: kernels take slices in and write a
//! caller-provided output slice.
#![cfg_attr(not(any(test, feature = "std")), no_std)]

pub mod conv2d;
pub mod fixture;
pub mod quant;

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
