//! host: real boards through probe-rs, and a probe-rs probe driver backed by
//! tinybench's simulator, so the probe-rs path runs in CI without hardware.
//!
//! - [`ProbeRsTargets`] / [`ProbeRsTarget`]: the `[target] kind = "probe-rs"`
//!   backend (a `TargetFactory` for the runner);
//! - [`sim_probe`]: the simulated probe (`probe = "sim"`);
//! - [`list`]: the probes connected, for `tinybench probe list` and the
//!   lookup a run makes before building;
//! - [`faults`]: fault status registers in words;
//! - [`dry_run`]: probe-rs's flash plan for a chip, without a board.

mod backend;
pub mod dry_run;
mod error;
pub mod faults;
pub mod list;
pub mod sim_probe;

pub use backend::{ProbeRsTarget, ProbeRsTargets};
pub use error::ProbeError;
