//! host: the MNIST model family — data, float training, channel pruning,
//! int8/int4 post-training quantization to `.tbm` through
//! `tinybench_model::Graph` + `compile`, and accuracy on the host engine
//! (the `no_std` kernels the firmware links, so host and firmware give the
//! same bytes).
//!
//! `model.toml` ([`config`]) → [`family::train`] (float CNN, safetensors) →
//! [`family::variants`] (pruning + fine-tuning, quantization, `.tbm` files,
//! `variants.json`, the README table).
//!
//! **Why candle rather than burn.** Both are maintained pure-Rust tensor
//! libraries with CPU autodiff. The harness is a CLI that users build from
//! source, and training is a side job of it, so build cost decides:
//! `candle-core` + `candle-nn` with default features off pull one backend
//! (the `gemm` crate, rayon) and ~100 small crates; burn's CPU path
//! (`burn` + `burn-ndarray` + `burn-autodiff`) brings its generic backend
//! stack, `ndarray`, and a much larger compile (the `burn` facade alone
//! compiles several proc-macro and codegen crates). candle's eager,
//! PyTorch-like API (`conv2d`, `max_pool2d`, `backward`) is also all this
//! model needs. Costs measured on the 2-core build machine are in
//! `models/mnist-cnn/README.md`.
//!
//! **Determinism.** Initialization, batch order and augmentation come from
//! a seeded generator ([`rng`]); candle's CPU kernels split work by output
//! element (convolution tiles, `gemm` blocks), never a reduction across
//! threads, so the trained weights do not depend on the thread count.

pub mod config;
pub mod data;
pub mod family;
pub mod net;
pub mod prune;
pub mod quant;
pub mod rng;
pub mod train;

use std::path::{Path, PathBuf};

pub use config::ModelConfig;

/// Everything that can go wrong building the model family.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {detail}; refresh the data with scripts/mnist-data.sh")]
    Data { path: PathBuf, detail: String },
    #[error("{path}: {detail}")]
    Config { path: PathBuf, detail: String },
    #[error("tensor library: {0}")]
    Candle(String),
    #[error(transparent)]
    Model(#[from] tinybench_model::Error),
}

impl Error {
    pub fn io(path: &Path, source: std::io::Error) -> Error {
        Error::Io { path: path.to_path_buf(), source }
    }
}

impl From<candle_core::Error> for Error {
    fn from(e: candle_core::Error) -> Error {
        Error::Candle(e.to_string())
    }
}
