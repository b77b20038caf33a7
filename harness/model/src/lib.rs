//! host: TensorFlow Lite import and export, the `.tbm` firmware model format
//! (writer), the static memory planner and a reference interpreter.
//!
//! `.tflite` -> [`tflite::import`] -> [`Graph`] -> [`plan::plan`] ->
//! [`tbm::write`] -> `.tbm` bytes, which [`Interpreter`] runs on the host
//! with the same `no_std` engine (`tinybench_kernels::tbm`) the firmware links.
//! [`export`] goes back: `.tbm` -> `.tflite` ([`tflite_export`]).
//!
//! **Why a hand-written flatbuffer reader** ([`flatbuf`]) rather than the
//! `flatbuffers` or `planus` crates: both need code generated from
//! `schema.fbs` by a compiler (`flatc` / `planus-cli`) that the build
//! machines do not have, and the `flatbuffers` accessors are `unsafe` reads
//! trusted after a separate verifier pass. The engine needs about fifteen
//! fields of nine tables; a safe reader where every access is bounds-checked
//! is ~200 lines, cannot panic on a hostile file by construction, and is
//! fuzzed by the truncation/mutation proptests. Field numbers follow the
//! TFLite `schema.fbs` declaration order and are commented at each use.
//! Writing ([`tflite_export`]) has no such hazard, so it uses the
//! maintained `flatbuffers` crate's `FlatBufferBuilder` directly, table by
//! table with the same field numbers (still no generated code).

pub mod flatbuf;
pub mod graph;
pub mod int4;
pub mod interpreter;
pub mod plan;
pub mod report;
pub mod tbm;
pub mod tflite;
pub mod tflite_export;

use std::path::{Path, PathBuf};

pub use graph::Graph;
pub use interpreter::{Interpreter, Kernels};
pub use tflite::Flavor;
use tinybench_kernels::tbm::TbmError;

/// Everything that can go wrong importing, converting or running a model.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: not a valid TFLite model ({detail}); check the file is a complete .tflite export")]
    Malformed { path: PathBuf, detail: String },
    #[error(
        "{path}: operator {index} is {name}, which tinybench does not support; supported: CONV_2D, DEPTHWISE_CONV_2D, \
         FULLY_CONNECTED, AVERAGE_POOL_2D, MAX_POOL_2D, ADD, RESHAPE, SOFTMAX, RELU, RELU6, RELU_N1_TO_1"
    )]
    UnsupportedOp { path: PathBuf, index: usize, name: String },
    #[error("{path}: operator {index} ({op}): {detail}")]
    Unsupported { path: PathBuf, index: usize, op: &'static str, detail: String },
    #[error("{path}: cannot export layer {layer} ({op}) to TFLite: {detail}")]
    Export { path: PathBuf, layer: usize, op: &'static str, detail: String },
    #[error("{path}: cannot export to TFLite: {detail}")]
    ExportModel { path: PathBuf, detail: String },
    #[error("model too large for the .tbm format: {0}")]
    TooLarge(String),
    #[error("{0}")]
    Tbm(TbmError),
    #[error("running the model failed: {0}")]
    Run(TbmError),
}

/// How an imported model stores its filters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum WeightFormat {
    /// As in the `.tflite` file: int8.
    #[default]
    Int8,
    /// Requantized to int4 per channel ([`int4::to_int4`]), packed two a byte.
    Int4,
}

/// Whether `bytes` are a `.tbm` file (by its magic), not a `.tflite` one.
pub fn is_tbm(bytes: &[u8]) -> bool {
    bytes.starts_with(&tinybench_kernels::tbm::MAGIC)
}

/// Imports a `.tflite` file or loads a `.tbm` file, by content (the `.tbm`
/// magic), and returns the `.tbm` image.
///
/// # Errors
/// Any import error, or [`Error::Tbm`] for a bad `.tbm`.
pub fn load(bytes: &[u8], path: &Path) -> Result<Vec<u8>, Error> {
    if bytes.starts_with(&tinybench_kernels::tbm::MAGIC) {
        tinybench_kernels::tbm::Model::parse(bytes).map_err(Error::Tbm)?;
        return Ok(bytes.to_vec());
    }
    import(bytes, path, WeightFormat::Int8)
}

/// Imports a `.tflite` file with the given weight format and returns the `.tbm` image.
///
/// # Errors
/// Any import error; [`Error::Unsupported`] if `weights` cannot represent a layer.
pub fn import(bytes: &[u8], path: &Path, weights: WeightFormat) -> Result<Vec<u8>, Error> {
    let graph = tflite::import(bytes, path, Flavor::LiteRt)?;
    match weights {
        WeightFormat::Int8 => compile(&graph),
        WeightFormat::Int4 => compile(&int4::to_int4(&graph, path)?),
    }
}

/// Plans memory for `graph` and writes its `.tbm` image.
///
/// # Errors
/// [`Error::TooLarge`] if the graph does not fit the format.
pub fn compile(graph: &Graph) -> Result<Vec<u8>, Error> {
    tbm::write(graph, &plan::plan(graph))
}

/// Exports a `.tbm` or `.tflite` file (by content) to an int8 TFLite
/// flatbuffer that LiteRT and TFLite Micro run with the same integer
/// arithmetic as the host engine ([`tflite_export`]).
///
/// A `.tflite` is imported first (as `tinybench model import` does) and its
/// scales are kept; a `.tbm` stores no float scales, so they are derived
/// from its fixed-point parameters, anchored on `input_scale` when given.
///
/// # Errors
/// Any import error; [`Error::Export`] / [`Error::ExportModel`] when a layer
/// or the model cannot be expressed in TFLite.
pub fn export(bytes: &[u8], path: &Path, input_scale: Option<f32>) -> Result<tflite_export::Exported, Error> {
    if is_tbm(bytes) {
        let model = tinybench_kernels::tbm::Model::parse(bytes).map_err(Error::Tbm)?;
        let mut given = vec![None; model.tensor_count()];
        // The header's input tensor index (bytes 24..26).
        given[usize::from(u16::from_le_bytes([bytes[24], bytes[25]]))] = input_scale;
        return tflite_export::export(bytes, path, &given);
    }
    let graph = tflite::import(bytes, path, Flavor::LiteRt)?;
    let image = compile(&graph)?;
    let mut given: Vec<Option<f32>> = graph.tensors.iter().map(|t| Some(t.scale)).collect();
    if let Some(s) = input_scale {
        given[graph.input] = Some(s);
    }
    tflite_export::export(&image, path, &given)
}
