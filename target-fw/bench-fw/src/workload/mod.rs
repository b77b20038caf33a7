//! The benchmark workload, chosen at build time (`TINYBENCH_WORKLOAD`, which
//! build.rs turns into `cfg(workload = ...)`). Each provides the same items:
//! `MACS`, `OUTPUT_LEN`, `OUTPUT_LEN_U32`, `LAYERS` and a `Workload` with
//! `init()` and `run(output, layer_ends)`.

#[cfg(workload = "conv2d-3x3")]
mod conv;
#[cfg(workload = "conv2d-3x3")]
pub use conv::*;

#[cfg(workload = "model")]
mod model;
#[cfg(workload = "model")]
pub use model::*;
