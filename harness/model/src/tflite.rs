//! TensorFlow Lite import: `.tflite` flatbuffer -> [`Graph`].
//!
//! Reads the subset of `tensorflow/lite/schema/schema.fbs` the engine needs
//! (field numbers below are the schema's declaration order) with the
//! bounds-checked reader in [`crate::flatbuf`], and derives every kernel
//! parameter exactly as TFLite's `Prepare` functions do (multipliers in
//! `f64` from `f32` scales, activation ranges in `f32`).

use std::collections::HashMap;
use std::path::Path;

use tinybench_kernels::activation::{FusedActivation, ReluParams};
use tinybench_kernels::add::AddParams;
use tinybench_kernels::conv2d::{ConvParams, Padding, Shape};
use tinybench_kernels::depthwise::DepthwiseParams;
use tinybench_kernels::fully_connected::{FullyConnectedParams, Rounding};
use tinybench_kernels::pool::PoolParams;
use tinybench_kernels::quant::quantize_multiplier;
use tinybench_kernels::softmax::{self, SoftmaxShape};

use crate::Error;
use crate::flatbuf::{FlatError, Table};
use crate::graph::{Graph, Layer, LayerOp, TensorInfo, Weights};

/// `BuiltinOperator` codes the engine maps (and the exporter writes).
pub(crate) mod builtin {
    pub const ADD: i32 = 0;
    pub const AVERAGE_POOL_2D: i32 = 1;
    pub const CONV_2D: i32 = 3;
    pub const DEPTHWISE_CONV_2D: i32 = 4;
    pub const FULLY_CONNECTED: i32 = 9;
    pub const MAX_POOL_2D: i32 = 17;
    pub const RELU: i32 = 19;
    pub const RELU_N1_TO_1: i32 = 20;
    pub const RELU6: i32 = 21;
    pub const RESHAPE: i32 = 22;
    pub const SOFTMAX: i32 = 25;
    pub const CUSTOM: i32 = 32;
}

/// Schema names of the builtin operators, for messages (index = code).
const BUILTIN_NAMES: &[&str] = &[
    "ADD",
    "AVERAGE_POOL_2D",
    "CONCATENATION",
    "CONV_2D",
    "DEPTHWISE_CONV_2D",
    "DEPTH_TO_SPACE",
    "DEQUANTIZE",
    "EMBEDDING_LOOKUP",
    "FLOOR",
    "FULLY_CONNECTED",
    "HASHTABLE_LOOKUP",
    "L2_NORMALIZATION",
    "L2_POOL_2D",
    "LOCAL_RESPONSE_NORMALIZATION",
    "LOGISTIC",
    "LSH_PROJECTION",
    "LSTM",
    "MAX_POOL_2D",
    "MUL",
    "RELU",
    "RELU_N1_TO_1",
    "RELU6",
    "RESHAPE",
    "RESIZE_BILINEAR",
    "RNN",
    "SOFTMAX",
    "SPACE_TO_DEPTH",
    "SVDF",
    "TANH",
    "CONCAT_EMBEDDINGS",
    "SKIP_GRAM",
    "CALL",
    "CUSTOM",
    "EMBEDDING_LOOKUP_SPARSE",
    "PAD",
    "UNIDIRECTIONAL_SEQUENCE_RNN",
    "GATHER",
    "BATCH_TO_SPACE_ND",
    "SPACE_TO_BATCH_ND",
    "TRANSPOSE",
    "MEAN",
    "SUB",
    "DIV",
    "SQUEEZE",
    "UNIDIRECTIONAL_SEQUENCE_LSTM",
    "STRIDED_SLICE",
    "BIDIRECTIONAL_SEQUENCE_RNN",
    "EXP",
    "TOPK_V2",
    "SPLIT",
    "LOG_SOFTMAX",
    "DELEGATE",
    "BIDIRECTIONAL_SEQUENCE_LSTM",
    "CAST",
    "PRELU",
    "MAXIMUM",
    "ARG_MAX",
    "MINIMUM",
    "LESS",
    "NEG",
    "PADV2",
    "GREATER",
    "GREATER_EQUAL",
    "LESS_EQUAL",
    "SELECT",
    "SLICE",
    "SIN",
    "TRANSPOSE_CONV",
    "SPARSE_TO_DENSE",
    "TILE",
    "EXPAND_DIMS",
    "EQUAL",
    "NOT_EQUAL",
    "LOG",
    "SUM",
    "SQRT",
    "RSQRT",
    "SHAPE",
    "POW",
    "ARG_MIN",
    "FAKE_QUANT",
    "REDUCE_PROD",
    "REDUCE_MAX",
    "PACK",
    "LOGICAL_OR",
    "ONE_HOT",
    "LOGICAL_AND",
    "LOGICAL_NOT",
    "UNPACK",
    "REDUCE_MIN",
    "FLOOR_DIV",
    "REDUCE_ANY",
    "SQUARE",
    "ZEROS_LIKE",
    "FILL",
    "FLOOR_MOD",
    "RANGE",
    "RESIZE_NEAREST_NEIGHBOR",
    "LEAKY_RELU",
    "SQUARED_DIFFERENCE",
    "MIRROR_PAD",
    "ABS",
    "SPLIT_V",
    "UNIQUE",
    "CEIL",
    "REVERSE_V2",
    "ADD_N",
    "GATHER_ND",
    "COS",
    "WHERE",
    "RANK",
    "ELU",
    "REVERSE_SEQUENCE",
    "MATRIX_DIAG",
    "QUANTIZE",
    "MATRIX_SET_DIAG",
    "ROUND",
    "HARD_SWISH",
    "IF",
    "WHILE",
];

/// The schema name of builtin operator `code`.
pub fn builtin_name(code: i32) -> String {
    usize::try_from(code)
        .ok()
        .and_then(|c| BUILTIN_NAMES.get(c))
        .map_or_else(|| format!("BUILTIN_{code}"), |name| (*name).to_owned())
}

/// `TensorType` values.
pub(crate) const TYPE_INT32: u8 = 2;
pub(crate) const TYPE_INT8: u8 = 9;

/// A raw TFLite tensor with its constant data, if any.
struct RawTensor<'a> {
    name: String,
    shape: Vec<usize>,
    dtype: u8,
    scales: Vec<f32>,
    zero_points: Vec<i64>,
    data: Option<&'a [u8]>,
}

impl RawTensor<'_> {
    fn len(&self) -> usize {
        self.shape.iter().product()
    }

    fn scale(&self) -> f32 {
        self.scales.first().copied().unwrap_or(0.0)
    }

    fn zero_point(&self) -> i32 {
        self.zero_points.first().copied().unwrap_or(0) as i32
    }
}

/// Which TFLite runtime's int8 arithmetic to reproduce bit for bit; they
/// differ in two places.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Flavor {
    /// The TFLite / LiteRT interpreter (the MLPerf Tiny reference vectors):
    /// float-table SOFTMAX and single-rounding FULLY_CONNECTED.
    #[default]
    LiteRt,
    /// TFLite Micro's reference kernels: gemmlowp fixed-point SOFTMAX and
    /// double-rounding FULLY_CONNECTED.
    TfliteMicro,
}

/// Imports `bytes`, read from `path` (used in messages only).
///
/// # Errors
/// [`Error::Malformed`] for a file that is not a readable TFLite flatbuffer,
/// [`Error::UnsupportedOp`] naming the first operator the engine lacks,
/// [`Error::Unsupported`] for a supported op used in a way the engine is not
/// (float tensors, broadcasting, ...).
pub fn import(bytes: &[u8], path: &Path, flavor: Flavor) -> Result<Graph, Error> {
    let malformed = |e: FlatError| Error::Malformed { path: path.to_owned(), detail: e.to_string() };
    if bytes.len() >= 8 && &bytes[4..8] != b"TFL3" {
        return Err(Error::Malformed {
            path: path.to_owned(),
            detail: "missing the TFL3 file identifier at byte 4".into(),
        });
    }
    Importer { bytes, path }.run(flavor).map_err(|e| match e {
        Fail::Flat(e) => malformed(e),
        Fail::Other(e) => e,
    })
}

enum Fail {
    Flat(FlatError),
    Other(Error),
}

impl From<FlatError> for Fail {
    fn from(e: FlatError) -> Fail {
        Fail::Flat(e)
    }
}

impl From<Error> for Fail {
    fn from(e: Error) -> Fail {
        Fail::Other(e)
    }
}

struct Importer<'a> {
    bytes: &'a [u8],
    path: &'a Path,
}

/// One operator being mapped: its index, name and tensors, for messages.
struct OpCtx<'p> {
    path: &'p Path,
    index: usize,
    name: &'static str,
}

impl OpCtx<'_> {
    fn unsupported(&self, detail: impl Into<String>) -> Fail {
        Fail::Other(Error::Unsupported {
            path: self.path.to_owned(),
            index: self.index,
            op: self.name,
            detail: detail.into(),
        })
    }
}

/// int8 tensors need a zero point in `-128..=127` and a positive finite scale;
/// anything else is a broken file (and would overflow the kernels' offsets).
fn check_quantization(ctx: &OpCtx<'_>, t: &RawTensor<'_>) -> Result<(), Fail> {
    if t.zero_points.iter().any(|zp| !(-128..=127).contains(zp)) {
        return Err(ctx.unsupported(format!("tensor `{}` has a zero point outside int8", t.name)));
    }
    let scale = t.scale();
    if !scale.is_finite() || scale <= 0.0 {
        return Err(ctx.unsupported(format!("tensor `{}` has no positive quantization scale", t.name)));
    }
    Ok(())
}

fn usize_dims(shape: &[i32]) -> Option<Vec<usize>> {
    shape.iter().map(|&d| usize::try_from(d).ok()).collect()
}

impl<'a> Importer<'a> {
    fn run(&self, flavor: Flavor) -> Result<Graph, Fail> {
        let model = Table::root(self.bytes)?;
        // Model: 0 version, 1 operator_codes, 2 subgraphs, 3 description, 4 buffers.
        let opcodes = model.vector(1)?.ok_or(FlatError { what: "model has no operator codes", offset: 0 })?;
        let subgraphs = model.vector(2)?.ok_or(FlatError { what: "model has no subgraphs", offset: 0 })?;
        let buffers = model.vector(4)?.ok_or(FlatError { what: "model has no buffers", offset: 0 })?;
        if subgraphs.is_empty() {
            return Err(FlatError { what: "model has no subgraphs", offset: 0 }.into());
        }
        // SubGraph: 0 tensors, 1 inputs, 2 outputs, 3 operators, 4 name.
        let subgraph = subgraphs.table(0)?;
        let tensor_tables = subgraph.vector(0)?.ok_or(FlatError { what: "subgraph has no tensors", offset: 0 })?;
        let mut tensors = Vec::with_capacity(tensor_tables.len());
        for i in 0..tensor_tables.len() {
            tensors.push(self.tensor(tensor_tables.table(i)?, &buffers)?);
        }
        let io = |field, what| -> Result<usize, Fail> {
            let list = subgraph.vector(field)?.map(|v| v.i32s()).transpose()?.unwrap_or_default();
            match list.as_slice() {
                [t] if (*t as usize) < tensors.len() && *t >= 0 => Ok(*t as usize),
                _ => Err(Fail::Other(Error::Malformed {
                    path: self.path.to_owned(),
                    detail: format!("the model must have exactly one {what} tensor, it has {}", list.len()),
                })),
            }
        };
        let model_input = io(1, "input")?;
        let model_output = io(2, "output")?;

        let operators = subgraph.vector(3)?.ok_or(FlatError { what: "subgraph has no operators", offset: 0 })?;
        let mut graph = Graph { tensors: Vec::new(), layers: Vec::new(), input: 0, output: 0 };
        let mut graph_index: HashMap<usize, usize> = HashMap::new();
        let mut activation = |t: usize, graph: &mut Graph| -> usize {
            *graph_index.entry(t).or_insert_with(|| {
                let raw = &tensors[t];
                graph.tensors.push(TensorInfo {
                    name: raw.name.clone(),
                    shape: raw.shape.clone(),
                    scale: raw.scale(),
                    zero_point: raw.zero_point(),
                });
                graph.tensors.len() - 1
            })
        };
        graph.input = activation(model_input, &mut graph);

        for index in 0..operators.len() {
            // Operator: 0 opcode_index, 1 inputs, 2 outputs, 3 builtin_options_type, 4 builtin_options.
            let op = operators.table(index)?;
            let opcode_index = op.u32(0, 0)? as usize;
            if opcode_index >= opcodes.len() {
                return Err(FlatError { what: "operator code index out of range", offset: 0 }.into());
            }
            // OperatorCode: 0 deprecated_builtin_code (i8), 1 custom_code, 2 version, 3 builtin_code (i32).
            let code_table = opcodes.table(opcode_index)?;
            let code = i32::from(code_table.i8(0, 0)?).max(code_table.i32(3, 0)?);
            let name: &'static str = match code {
                builtin::CONV_2D => "CONV_2D",
                builtin::DEPTHWISE_CONV_2D => "DEPTHWISE_CONV_2D",
                builtin::FULLY_CONNECTED => "FULLY_CONNECTED",
                builtin::AVERAGE_POOL_2D => "AVERAGE_POOL_2D",
                builtin::MAX_POOL_2D => "MAX_POOL_2D",
                builtin::ADD => "ADD",
                builtin::RESHAPE => "RESHAPE",
                builtin::SOFTMAX => "SOFTMAX",
                builtin::RELU => "RELU",
                builtin::RELU6 => "RELU6",
                builtin::RELU_N1_TO_1 => "RELU_N1_TO_1",
                _ => {
                    let name = if code == builtin::CUSTOM {
                        format!("CUSTOM ({})", code_table.string(1)?.unwrap_or("unnamed"))
                    } else {
                        builtin_name(code)
                    };
                    return Err(Error::UnsupportedOp { path: self.path.to_owned(), index, name }.into());
                }
            };
            let ctx = OpCtx { path: self.path, index, name };
            let ins = op.vector(1)?.map(|v| v.i32s()).transpose()?.unwrap_or_default();
            let outs = op.vector(2)?.map(|v| v.i32s()).transpose()?.unwrap_or_default();
            let tensor_ref = |i: i32| -> Result<Option<&RawTensor<'a>>, Fail> {
                match i {
                    -1 => Ok(None),
                    i if i >= 0 && (i as usize) < tensors.len() => Ok(Some(&tensors[i as usize])),
                    _ => Err(FlatError { what: "operator tensor index out of range", offset: 0 }.into()),
                }
            };
            let input_at = |slot: usize| -> Result<&RawTensor<'a>, Fail> {
                ins.get(slot)
                    .map(|&i| tensor_ref(i))
                    .transpose()?
                    .flatten()
                    .ok_or_else(|| ctx.unsupported(format!("input {slot} is missing")))
            };
            let [out_index] = outs.as_slice() else {
                return Err(ctx.unsupported(format!("expected one output, found {}", outs.len())));
            };
            let output = tensor_ref(*out_index)?.ok_or_else(|| ctx.unsupported("output is missing"))?;
            let input = input_at(0)?;
            for t in [input, output] {
                if t.dtype != TYPE_INT8 {
                    return Err(ctx.unsupported(format!(
                        "tensor `{}` is not int8 (type {}); quantize the model to int8 (full integer quantization)",
                        t.name, t.dtype
                    )));
                }
                if t.data.is_some() {
                    return Err(ctx.unsupported(format!("constant input tensor `{}` is not supported", t.name)));
                }
                check_quantization(&ctx, t)?;
            }
            let options = op.table(4)?;
            let mapped = self.map_op(&ctx, code, options, &input_at, input, output, flavor)?;
            let mut inputs = vec![activation(ins[0] as usize, &mut graph)];
            if code == builtin::ADD {
                let second = ins[1] as usize;
                if input_at(1)?.data.is_some() {
                    return Err(ctx.unsupported("ADD of a constant tensor is not supported"));
                }
                inputs.push(activation(second, &mut graph));
            }
            let out = activation(*out_index as usize, &mut graph);
            let (op, weights) = mapped;
            graph.layers.push(Layer { source_index: index, op, inputs, output: out, weights });
        }
        graph.output = *graph_index.get(&model_output).ok_or_else(|| Error::Malformed {
            path: self.path.to_owned(),
            detail: "no operator writes the model output".into(),
        })?;
        if graph.layers.is_empty() {
            return Err(
                Error::Malformed { path: self.path.to_owned(), detail: "the model has no operators".into() }.into()
            );
        }
        Ok(graph)
    }

    fn tensor(&self, t: Table<'a>, buffers: &crate::flatbuf::Vector<'a>) -> Result<RawTensor<'a>, Fail> {
        // Tensor: 0 shape, 1 type, 2 buffer, 3 name, 4 quantization.
        let shape_raw = t.vector(0)?.map(|v| v.i32s()).transpose()?.unwrap_or_default();
        let shape = usize_dims(&shape_raw).ok_or(FlatError { what: "negative tensor dimension", offset: 0 })?;
        if shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)).is_none_or(|n| n > 1 << 30) {
            return Err(FlatError { what: "tensor too large", offset: 0 }.into());
        }
        let dtype = t.u8(1, 0)?;
        let buffer = t.u32(2, 0)? as usize;
        let name = t.string(3)?.unwrap_or("").to_owned();
        let (mut scales, mut zero_points) = (Vec::new(), Vec::new());
        if let Some(q) = t.table(4)? {
            // QuantizationParameters: 0 min, 1 max, 2 scale, 3 zero_point, 4/5 details, 6 quantized_dimension.
            scales = q.vector(2)?.map(|v| v.f32s()).transpose()?.unwrap_or_default();
            zero_points = q.vector(3)?.map(|v| v.i64s()).transpose()?.unwrap_or_default();
        }
        let mut data = None;
        if buffer != 0 {
            if buffer >= buffers.len() {
                return Err(FlatError { what: "tensor buffer index out of range", offset: 0 }.into());
            }
            // Buffer: 0 data, 1 offset, 2 size (offset > 1: data outside the flatbuffer).
            let b = buffers.table(buffer)?;
            if let Some(v) = b.vector(0)? {
                if !v.is_empty() {
                    data = Some(v.bytes(1)?);
                }
            } else {
                let (offset, size) = (b.u64(1, 0)?, b.u64(2, 0)?);
                if offset > 1 {
                    let range = usize::try_from(offset).ok().zip(usize::try_from(size).ok());
                    data = Some(
                        range
                            .and_then(|(o, s)| self.bytes.get(o..o.checked_add(s)?))
                            .ok_or(FlatError { what: "external buffer out of range", offset: 0 })?,
                    );
                }
            }
        }
        Ok(RawTensor { name, shape, dtype, scales, zero_points, data })
    }

    #[allow(clippy::too_many_arguments)]
    fn map_op<'t>(
        &self,
        ctx: &OpCtx<'_>,
        code: i32,
        options: Option<Table<'a>>,
        input_at: &dyn Fn(usize) -> Result<&'t RawTensor<'a>, Fail>,
        input: &'t RawTensor<'a>,
        output: &'t RawTensor<'a>,
        flavor: Flavor,
    ) -> Result<(LayerOp, Weights), Fail> {
        let opt_i32 = |field, default| options.map_or(Ok(default), |o| o.i32(field, default));
        let opt_u8 = |field, default| options.map_or(Ok(default), |o| o.u8(field, default));
        let positive = |v: i32, what: &str| -> Result<usize, Fail> {
            usize::try_from(v)
                .ok()
                .filter(|&v| v > 0)
                .ok_or_else(|| ctx.unsupported(format!("{what} {v} is not positive")))
        };
        let padding = |field| -> Result<Padding, Fail> {
            match opt_u8(field, 0)? {
                0 => Ok(Padding::Same),
                1 => Ok(Padding::Valid),
                p => Err(ctx.unsupported(format!("padding type {p}"))),
            }
        };
        let activation = |field| -> Result<FusedActivation, Fail> {
            match opt_u8(field, 0)? {
                0 => Ok(FusedActivation::None),
                1 => Ok(FusedActivation::Relu),
                2 => Ok(FusedActivation::ReluN1To1),
                3 => Ok(FusedActivation::Relu6),
                a => Err(ctx.unsupported(format!("fused activation {a} (only NONE, RELU, RELU_N1_TO_1, RELU6)"))),
            }
        };
        let range = |act: FusedActivation| act.range_int8(output.scale(), output.zero_point());
        let nhwc = |t: &RawTensor<'_>| -> Result<(usize, Shape), Fail> {
            match t.shape.as_slice() {
                &[n, h, w, c] => Ok((n, Shape { height: h, width: w, channels: c })),
                s => Err(ctx.unsupported(format!("tensor `{}` has shape {s:?}, expected NHWC", t.name))),
            }
        };
        let expect_shape = |got: &[usize], want: &[usize]| -> Result<(), Fail> {
            if got == want {
                Ok(())
            } else {
                Err(ctx.unsupported(format!("output shape {got:?} does not match the computed {want:?}")))
            }
        };
        // Filter + bias + per-channel multipliers, as PopulateConvolutionQuantizationParams.
        let weights = |channels: usize, conv: bool| -> Result<Weights, Fail> {
            let filter = input_at(1)?;
            if filter.dtype != TYPE_INT8 {
                return Err(ctx.unsupported(format!("filter `{}` is not int8 (type {})", filter.name, filter.dtype)));
            }
            let data = filter.data.ok_or_else(|| ctx.unsupported("the filter is not a constant tensor"))?;
            check_quantization(ctx, filter)?;
            if filter.scales.iter().any(|s| !s.is_finite() || *s <= 0.0) {
                return Err(ctx.unsupported(format!("filter `{}` has a non-positive scale", filter.name)));
            }
            if data.len() != filter.len() {
                return Err(ctx.unsupported("filter data does not match its shape"));
            }
            let bias = match input_at(2) {
                Ok(b) => {
                    if b.dtype != TYPE_INT32 {
                        return Err(ctx.unsupported(format!("bias `{}` is not int32 (type {})", b.name, b.dtype)));
                    }
                    let data = b.data.ok_or_else(|| ctx.unsupported("the bias is not a constant tensor"))?;
                    if b.len() != channels || data.len() != 4 * channels {
                        return Err(ctx.unsupported("bias length does not match the output channels"));
                    }
                    Some(data.chunks_exact(4).map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
                }
                Err(_) => None,
            };
            let scales = &filter.scales;
            let count = match scales.len() {
                1 => 1,
                n if n == channels => channels,
                n => return Err(ctx.unsupported(format!("filter has {n} scales for {channels} output channels"))),
            };
            let (mut output_multiplier, mut output_shift) = (Vec::new(), Vec::new());
            // Convolutions always requantize per channel (a per-tensor scale is repeated);
            // FULLY_CONNECTED keeps one multiplier for a per-tensor filter.
            let expanded = if conv { channels } else { count };
            for c in 0..expanded {
                let filter_scale = scales[if count == 1 { 0 } else { c }];
                let real = if !conv && count == 1 {
                    // GetQuantizedConvolutionMultipler: the scale product is a float, then widened.
                    f64::from(input.scale() * filter_scale) / f64::from(output.scale())
                } else {
                    // PopulateConvolutionQuantizationParams and per-channel FC: all in double.
                    f64::from(input.scale()) * f64::from(filter_scale) / f64::from(output.scale())
                };
                if !real.is_finite() {
                    return Err(ctx.unsupported("quantization scales give a non-finite multiplier"));
                }
                let (m, s) = quantize_multiplier(real);
                output_multiplier.push(m);
                output_shift.push(s);
            }
            Ok(Weights {
                filter: data.iter().map(|&b| b as i8).collect(),
                int4: false,
                bias,
                output_multiplier,
                output_shift,
            })
        };

        Ok(match code {
            builtin::CONV_2D | builtin::DEPTHWISE_CONV_2D => {
                let (batches, in_shape) = nhwc(input)?;
                let filter = input_at(1)?;
                let &[fo, fh, fw, fi] = filter.shape.as_slice() else {
                    return Err(ctx.unsupported("filter is not 4-D"));
                };
                let (_, out_shape) = nhwc(output)?;
                let depthwise = code == builtin::DEPTHWISE_CONV_2D;
                // Conv2DOptions: 0 padding, 1 stride_w, 2 stride_h, 3 activation, 4 dilation_w, 5 dilation_h.
                // DepthwiseConv2DOptions: 0 padding, 1 stride_w, 2 stride_h, 3 depth_multiplier,
                // 4 activation, 5 dilation_w, 6 dilation_h.
                let (act_field, dil_w_field) = if depthwise { (4, 5) } else { (3, 4) };
                let stride_width = positive(opt_i32(1, 1)?, "stride_w")?;
                let stride_height = positive(opt_i32(2, 1)?, "stride_h")?;
                let dilation_width = positive(opt_i32(dil_w_field, 1)?, "dilation_w")?;
                let dilation_height = positive(opt_i32(dil_w_field + 1, 1)?, "dilation_h")?;
                let padding = padding(0)?;
                let (activation_min, activation_max) = range(activation(act_field)?);
                let channels = out_shape.channels;
                let w = weights(channels, true)?;
                if depthwise {
                    // TFLite derives the multiplier from the shapes; the option is redundant.
                    if fo != 1
                        || fw == 0
                        || in_shape.channels == 0
                        || !fi.is_multiple_of(in_shape.channels)
                        || fi != channels
                    {
                        return Err(ctx.unsupported(format!("depthwise filter shape {:?}", filter.shape)));
                    }
                    let p = DepthwiseParams {
                        batches,
                        input: in_shape,
                        filter_height: fh,
                        filter_width: fw,
                        depth_multiplier: fi / in_shape.channels,
                        stride_height,
                        stride_width,
                        dilation_height,
                        dilation_width,
                        padding,
                        input_offset: -input.zero_point(),
                        output_offset: output.zero_point(),
                        activation_min,
                        activation_max,
                    };
                    p.validate().map_err(|e| ctx.unsupported(e.to_string()))?;
                    let o = p.output_shape();
                    expect_shape(&output.shape, &[batches, o.height, o.width, o.channels])?;
                    (LayerOp::DepthwiseConv2d(p), w)
                } else {
                    if fi != in_shape.channels || fo != channels {
                        return Err(
                            ctx.unsupported(format!("filter shape {:?} does not match the input", filter.shape))
                        );
                    }
                    let p = ConvParams {
                        batches,
                        input: in_shape,
                        filter_height: fh,
                        filter_width: fw,
                        output_channels: fo,
                        stride_height,
                        stride_width,
                        dilation_height,
                        dilation_width,
                        padding,
                        input_offset: -input.zero_point(),
                        output_offset: output.zero_point(),
                        activation_min,
                        activation_max,
                    };
                    p.validate().map_err(|e| ctx.unsupported(e.to_string()))?;
                    let o = p.output_shape();
                    expect_shape(&output.shape, &[batches, o.height, o.width, o.channels])?;
                    (LayerOp::Conv2d(p), w)
                }
            }
            builtin::FULLY_CONNECTED => {
                let filter = input_at(1)?;
                let &[output_depth, accum_depth] = filter.shape.as_slice() else {
                    return Err(ctx.unsupported("filter is not 2-D"));
                };
                // FullyConnectedOptions: 0 activation, 1 weights_format, 2 keep_num_dims.
                if opt_u8(1, 0)? != 0 {
                    return Err(ctx.unsupported("shuffled weights format"));
                }
                if accum_depth == 0 || !input.len().is_multiple_of(accum_depth) {
                    return Err(ctx.unsupported("input size is not a multiple of the filter depth"));
                }
                let batches = input.len() / accum_depth;
                if output.len() != batches * output_depth {
                    return Err(ctx.unsupported("output size does not match batches x filter rows"));
                }
                let (activation_min, activation_max) = range(activation(0)?);
                let w = weights(output_depth, false)?;
                let p = FullyConnectedParams {
                    batches,
                    accum_depth,
                    output_depth,
                    input_offset: -input.zero_point(),
                    filter_offset: -filter.zero_point(),
                    output_offset: output.zero_point(),
                    activation_min,
                    activation_max,
                    rounding: match flavor {
                        Flavor::LiteRt => Rounding::Single,
                        Flavor::TfliteMicro => Rounding::Double,
                    },
                };
                p.validate().map_err(|e| ctx.unsupported(e.to_string()))?;
                (LayerOp::FullyConnected(p), w)
            }
            builtin::AVERAGE_POOL_2D | builtin::MAX_POOL_2D => {
                let (batches, in_shape) = nhwc(input)?;
                // Pool2DOptions: 0 padding, 1 stride_w, 2 stride_h, 3 filter_width, 4 filter_height, 5 activation.
                let (activation_min, activation_max) = range(activation(5)?);
                let p = PoolParams {
                    batches,
                    input: in_shape,
                    filter_height: positive(opt_i32(4, 0)?, "filter_height")?,
                    filter_width: positive(opt_i32(3, 0)?, "filter_width")?,
                    stride_height: positive(opt_i32(2, 0)?, "stride_h")?,
                    stride_width: positive(opt_i32(1, 0)?, "stride_w")?,
                    padding: padding(0)?,
                    activation_min,
                    activation_max,
                };
                p.validate().map_err(|e| ctx.unsupported(e.to_string()))?;
                let o = p.output_shape();
                expect_shape(&output.shape, &[batches, o.height, o.width, o.channels])?;
                if input.scale() != output.scale() || input.zero_point() != output.zero_point() {
                    return Err(ctx.unsupported("input and output quantization differ (TFLite requires them equal)"));
                }
                let op =
                    if code == builtin::AVERAGE_POOL_2D { LayerOp::AveragePool2d(p) } else { LayerOp::MaxPool2d(p) };
                (op, Weights::default())
            }
            builtin::ADD => {
                let second = input_at(1)?;
                if second.dtype != TYPE_INT8 {
                    return Err(ctx.unsupported("second input is not int8"));
                }
                check_quantization(ctx, second)?;
                if second.shape != input.shape || output.len() != input.len() {
                    return Err(ctx.unsupported(format!(
                        "broadcasting ADD ({:?} + {:?}) is not supported",
                        input.shape, second.shape
                    )));
                }
                // AddOptions: 0 activation.
                let p = AddParams::from_scales(
                    input.len(),
                    (input.scale(), input.zero_point()),
                    (second.scale(), second.zero_point()),
                    (output.scale(), output.zero_point()),
                    range(activation(0)?),
                );
                p.validate().map_err(|e| ctx.unsupported(e.to_string()))?;
                (LayerOp::Add(p), Weights::default())
            }
            builtin::RESHAPE => {
                if input.len() != output.len() {
                    return Err(ctx.unsupported("input and output sizes differ"));
                }
                if input.scale() != output.scale() || input.zero_point() != output.zero_point() {
                    return Err(ctx.unsupported("input and output quantization differ"));
                }
                (LayerOp::Reshape { size: input.len() }, Weights::default())
            }
            builtin::SOFTMAX => {
                // SoftmaxOptions: 0 beta.
                let beta = options.map_or(Ok(1.0), |o| o.f32(0, 1.0))?;
                let depth = input.shape.last().copied().unwrap_or(1);
                if depth == 0 || output.len() != input.len() {
                    return Err(ctx.unsupported("empty softmax or output size differs"));
                }
                let shape = SoftmaxShape { outer: input.len() / depth, depth };
                // TFLite: TF_LITE_ENSURE_NEAR(scale, 1/256, 0.001/256) and zero point -128.
                if output.zero_point() != softmax::OUTPUT_ZERO_POINT
                    || (output.scale() - 1.0 / 256.0).abs() > 0.001 / 256.0
                {
                    return Err(ctx.unsupported("int8 softmax output must have zero point -128 and scale 1/256"));
                }
                let op = match flavor {
                    Flavor::LiteRt => LayerOp::SoftmaxLut {
                        shape,
                        output_scale: output.scale(),
                        table: Box::new(softmax::populate_table(input.scale(), beta)),
                    },
                    Flavor::TfliteMicro => {
                        LayerOp::SoftmaxFixedPoint(softmax::FixedPointSoftmaxParams::new(shape, input.scale(), beta))
                    }
                };
                (op, Weights::default())
            }
            builtin::RELU | builtin::RELU6 | builtin::RELU_N1_TO_1 => {
                let kind = match code {
                    builtin::RELU => FusedActivation::Relu,
                    builtin::RELU6 => FusedActivation::Relu6,
                    _ => FusedActivation::ReluN1To1,
                };
                if output.len() != input.len() {
                    return Err(ctx.unsupported("input and output sizes differ"));
                }
                let p = ReluParams::new(
                    kind,
                    input.len(),
                    (input.scale(), input.zero_point()),
                    (output.scale(), output.zero_point()),
                );
                p.validate().map_err(|e| ctx.unsupported(e.to_string()))?;
                (LayerOp::Relu(p), Weights::default())
            }
            _ => unreachable!("filtered by the opcode match in run()"),
        })
    }
}
