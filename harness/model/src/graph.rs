//! The engine's model: activation tensors and a topologically ordered list
//! of layers, each a kernel's parameters plus its (owned) weights. Import
//! produces it, [`crate::tbm::write`] serializes it for the firmware.

use tinybench_kernels::activation::ReluParams;
use tinybench_kernels::add::AddParams;
use tinybench_kernels::conv2d::ConvParams;
use tinybench_kernels::depthwise::DepthwiseParams;
use tinybench_kernels::fully_connected::FullyConnectedParams;
use tinybench_kernels::pool::PoolParams;
use tinybench_kernels::softmax::{FixedPointSoftmaxParams, SoftmaxShape};

/// An int8 activation tensor.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorInfo {
    pub name: String,
    pub shape: Vec<usize>,
    pub scale: f32,
    pub zero_point: i32,
}

impl TensorInfo {
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What a layer computes.
#[derive(Debug, Clone, PartialEq)]
pub enum LayerOp {
    Conv2d(ConvParams),
    DepthwiseConv2d(DepthwiseParams),
    FullyConnected(FullyConnectedParams),
    AveragePool2d(PoolParams),
    MaxPool2d(PoolParams),
    Add(AddParams),
    Reshape { size: usize },
    SoftmaxLut { shape: SoftmaxShape, output_scale: f32, table: Box<[f32; 256]> },
    SoftmaxFixedPoint(FixedPointSoftmaxParams),
    Relu(ReluParams),
}

/// Filter, bias and per-channel (or per-tensor) requantization.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Weights {
    /// One value per weight, in the TFLite layout; `-7..=7` when `int4`.
    pub filter: Vec<i8>,
    /// Store the filter packed two weights a byte (`.tbm` v2 int4 layers).
    pub int4: bool,
    pub bias: Option<Vec<i32>>,
    pub output_multiplier: Vec<i32>,
    pub output_shift: Vec<i32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    /// Index of the operator in the source model.
    pub source_index: usize,
    pub op: LayerOp,
    /// Graph tensor indices read (one, or two for ADD).
    pub inputs: Vec<usize>,
    pub output: usize,
    pub weights: Weights,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Graph {
    pub tensors: Vec<TensorInfo>,
    pub layers: Vec<Layer>,
    pub input: usize,
    pub output: usize,
}
