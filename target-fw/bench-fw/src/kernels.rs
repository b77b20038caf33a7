//! The kernel set this build links, chosen by `TINYBENCH_KERNELS` (build.rs
//! turns it into `cfg(kernels = ...)`). Every set gives the same bytes; the
//! host checks that against its reference run.

#[cfg(kernels = "reference")]
pub type Selected = tinybench_kernels::kernel_set::Reference;
#[cfg(kernels = "fused")]
pub type Selected = tinybench_kernels::kernel_set::Fused;
#[cfg(kernels = "simd")]
pub type Selected = tinybench_kernels::kernel_set::Simd;
