//! host: tinybench's configuration files, parsed and validated.
//!
//! Hardware is described in data. Each file is deserialized into a `Raw*`
//! type that denies unknown keys, then checked by named validations; every
//! error is a single line naming the file, `line:column`, the key and a fix.
//!
//! - [`Board`]: `configs/boards/<id>.toml`, a board's core, clock and memories.
//! - [`RunConfig`]: `configs/<name>.toml`, what `tinybench run` does: the
//!   board, target, power source and run settings, and the cases, written
//!   one by one (`[[case]]`) or as a variant matrix (`[[matrix]]`), both on
//!   top of `[defaults]`.
//! - [`DEFAULT_RUN_CONFIG`]: a run configuration documenting every key, with
//!   its default and units (`tinybench config --default`).

mod board;
mod builtin;
mod cases;
mod default_run;
mod error;
pub mod input;
#[cfg(test)]
mod matrix_tests;
mod probe;
mod run;
mod source;

pub use board::{Board, Core, INSTRUCTION_CLASSES, MarkerRegisters, MemoryRegion, PowerModel, RegionKind};
pub use default_run::DEFAULT_RUN_CONFIG;
pub use error::ConfigError;
pub use probe::ProbeSelector;
pub use run::{
    AccuracyConfig, CaseConfig, Ina219Settings, KernelSet, MeterConfig, N6705bSettings, PowerConfig, Ppk2Mode,
    Ppk2Settings, ProbeChoice, ProbeRsSettings, ReportSettings, RunConfig, RunSettings, SelfTest, SimulatedFault,
    TargetKind, WeightFormat, Workload,
};
pub use source::SourceFile;
