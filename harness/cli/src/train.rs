//! `tinybench model train|variants`: the model families under `models/`
//! (`model.toml`), trained with `tinybench-train` (cargo feature `train`,
//! off by default so a newcomer's build stays short).

use std::path::Path;

use crate::Failure;
use crate::exit::Exit;

#[cfg(feature = "train")]
fn config(path: &Path) -> Result<tinybench_train::ModelConfig, Failure> {
    tinybench_train::ModelConfig::load(path).map_err(|e| Failure::new(Exit::BadInput, e))
}

#[cfg(feature = "train")]
fn failure(e: tinybench_train::Error) -> Failure {
    use tinybench_train::Error;
    let exit = match e {
        Error::Io { .. } => Exit::WriteFailed,
        _ => Exit::BadInput,
    };
    Failure::new(exit, e)
}

/// Trains the float network and saves its weights.
#[cfg(feature = "train")]
pub fn train(path: &Path) -> Result<u8, Failure> {
    let cfg = config(path)?;
    tinybench_train::family::train(&cfg, &mut |line| crate::say!("{line}")).map_err(failure)?;
    Ok(Exit::Success.code())
}

/// Builds, writes and measures every variant from the saved weights.
#[cfg(feature = "train")]
pub fn variants(path: &Path) -> Result<u8, Failure> {
    let cfg = config(path)?;
    let table = tinybench_train::family::variants(&cfg, &mut |line| crate::say!("{line}")).map_err(failure)?;
    crate::say!("{}", tinybench_train::family::markdown(&table));
    Ok(Exit::Success.code())
}

#[cfg(not(feature = "train"))]
fn disabled() -> Failure {
    Failure::new(
        Exit::BadInput,
        anyhow::anyhow!(
            "this tinybench was built without training (it needs candle); run it as \
             `cargo run --release --features train -- model train|variants <model.toml>`"
        ),
    )
}

#[cfg(not(feature = "train"))]
pub fn train(_: &Path) -> Result<u8, Failure> {
    Err(disabled())
}

#[cfg(not(feature = "train"))]
pub fn variants(_: &Path) -> Result<u8, Failure> {
    Err(disabled())
}
