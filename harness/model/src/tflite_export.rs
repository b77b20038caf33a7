//! TensorFlow Lite export: a `.tbm` model (what the firmware runs) -> an
//! int8 `.tflite` flatbuffer that LiteRT and TFLite Micro run with the same
//! integer arithmetic, so other engines can run exactly the model tinybench
//! benchmarks.
//!
//! The file is written with the `flatbuffers` crate's `FlatBufferBuilder`,
//! table by table, following `tensorflow/lite/schema/schema.fbs` (field ids
//! are the schema's declaration order, the same ones [`crate::tflite`]
//! reads): `Model { version 3, operator_codes, subgraphs, description,
//! buffers }` with buffer 0 the empty sentinel, one `SubGraph`, file
//! identifier `TFL3`. Constant data is 16-byte aligned, as the converter
//! writes it.
//!
//! What a `.tbm` does not store is derived:
//!
//! - **Scales.** A `.tbm` keeps the fixed-point multipliers and shifts, not
//!   the `f32` scales TFLite recomputes them from. The `scales` module finds `f32`
//!   scales for which TFLite's own `Prepare` arithmetic gives back every
//!   stored integer parameter exactly (checked, not approximated). The
//!   fixed-point parameters pin a scale's mantissa, not its power of two, so
//!   real-valued scales of a bare `.tbm` can differ from the originals by a
//!   power of two (the integer model, and so every output byte, is the
//!   same). Exporting from the `.tflite` itself, or passing the input scale,
//!   keeps the given scales.
//! - **Filter scales** per output channel (`quantized_dimension` 0, 3 for
//!   DEPTHWISE_CONV_2D), and **bias** scales `input_scale * filter_scale`.
//! - **Fused activations** from the stored activation range.
//!
//! Two choices keep the arithmetic identical:
//!
//! - A FULLY_CONNECTED layer with *double* rounding (TFLite Micro's, and
//!   what `tinybench-train` builds) is written as a CONV_2D over the whole
//!   input (VALID) plus a RESHAPE: LiteRT's int8 FULLY_CONNECTED rounds
//!   once, its convolutions (like TFLite Micro's) round twice. Single
//!   rounding FULLY_CONNECTED layers (imported from LiteRT models) stay
//!   FULLY_CONNECTED: LiteRT runs them exactly (TFLite Micro would round
//!   them twice, as it would the source model).
//! - int4 layers are written as **int8** tensors holding the int4 values
//!   (−7..=7): TFLite's INT4 type is not supported by TFLite Micro or most
//!   LiteRT kernels. The arithmetic is the same; the file is not smaller.
//!
//! Every written file passes [`verify`] (structural checks beyond the
//! importer's) before it is returned. The tests import exported files back
//! and compare output bytes; `scripts/check-tflite-export.py` runs them
//! under LiteRT's reference kernels (the MNIST variants and the MLPerf Tiny
//! models were bit-exact with `tinybench model run`).

mod scales;

use std::path::Path;

use flatbuffers::{FlatBufferBuilder, Push, PushAlignment, WIPOffset};
use tinybench_kernels::activation::FusedActivation;
use tinybench_kernels::conv2d::Padding;
use tinybench_kernels::filter::Filter;
use tinybench_kernels::fully_connected::Rounding;
use tinybench_kernels::tbm::{Layer, LayerFilter, Model, NO_TENSOR};

use crate::tflite::{TYPE_INT8, TYPE_INT32, builtin, builtin_name};
use crate::{Error, Interpreter};
use scales::{Class, Constraint, FUSED, Formula, STANDALONE};

/// `BuiltinOptions` union members written.
mod options_type {
    pub const NONE: u8 = 0;
    pub const CONV_2D: u8 = 1;
    pub const DEPTHWISE_CONV_2D: u8 = 2;
    pub const POOL_2D: u8 = 5;
    pub const FULLY_CONNECTED: u8 = 8;
    pub const SOFTMAX: u8 = 9;
    pub const ADD: u8 = 11;
    pub const RESHAPE: u8 = 17;
}

/// The description written into every exported model.
pub const DESCRIPTION: &str = "tinybench model export (int8; int4 layers as int8 values)";

/// An exported model and what the exporter had to decide.
#[derive(Debug, Clone)]
pub struct Exported {
    /// The `.tflite` file.
    pub bytes: Vec<u8>,
    /// The TFLite operators, in order.
    pub operators: Vec<String>,
    /// One line per decision a reader should know about (derived scales,
    /// int4 layers, FULLY_CONNECTED written as CONV_2D, ...).
    pub notes: Vec<String>,
}

/// One TFLite tensor.
#[derive(Debug, Clone)]
struct TensorSpec {
    name: String,
    shape: Vec<i32>,
    dtype: u8,
    /// Index into the buffers; 0 (the empty sentinel) for activations.
    buffer: u32,
    scales: Vec<f32>,
    zero_points: Vec<i64>,
    quantized_dimension: i32,
}

/// A builtin options table.
#[derive(Debug, Clone)]
enum Options {
    None,
    Conv {
        padding: u8,
        stride_w: i32,
        stride_h: i32,
        activation: u8,
        dilation_w: i32,
        dilation_h: i32,
    },
    Depthwise {
        padding: u8,
        stride_w: i32,
        stride_h: i32,
        depth_multiplier: i32,
        activation: u8,
        dilation_w: i32,
        dilation_h: i32,
    },
    Pool {
        padding: u8,
        stride_w: i32,
        stride_h: i32,
        filter_w: i32,
        filter_h: i32,
        activation: u8,
    },
    FullyConnected {
        activation: u8,
    },
    Softmax {
        beta: f32,
    },
    Add {
        activation: u8,
    },
    Reshape {
        new_shape: Vec<i32>,
    },
}

#[derive(Debug, Clone)]
struct OpSpec {
    code: i32,
    version: i32,
    inputs: Vec<i32>,
    outputs: Vec<i32>,
    options: Options,
}

/// Everything the flatbuffer holds, before serialization.
#[derive(Debug, Default)]
struct ModelSpec {
    tensors: Vec<TensorSpec>,
    ops: Vec<OpSpec>,
    /// Constant data; index 0 is the empty sentinel.
    buffers: Vec<Vec<u8>>,
    input: i32,
    output: i32,
}

impl ModelSpec {
    fn constant(&mut self, name: String, shape: Vec<i32>, dtype: u8, data: Vec<u8>, scales: Vec<f32>, dim: i32) -> i32 {
        self.buffers.push(data);
        let zero_points = if scales.is_empty() { Vec::new() } else { vec![0; scales.len()] };
        self.tensor(TensorSpec {
            name,
            shape,
            dtype,
            buffer: (self.buffers.len() - 1) as u32,
            scales,
            zero_points,
            quantized_dimension: dim,
        })
    }

    fn tensor(&mut self, t: TensorSpec) -> i32 {
        self.tensors.push(t);
        (self.tensors.len() - 1) as i32
    }
}

fn padding(p: Padding) -> u8 {
    match p {
        Padding::Same => 0,
        Padding::Valid => 1,
    }
}

fn activation_code(a: FusedActivation) -> u8 {
    match a {
        FusedActivation::None => 0,
        FusedActivation::Relu => 1,
        FusedActivation::ReluN1To1 => 2,
        FusedActivation::Relu6 => 3,
    }
}

fn dim(v: usize) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

fn le_bytes_i32(v: impl IntoIterator<Item = i32>) -> Vec<u8> {
    v.into_iter().flat_map(i32::to_le_bytes).collect()
}

fn filter_values(filter: &LayerFilter<'_>) -> Vec<u8> {
    match filter {
        LayerFilter::Int8(f) => f.iter().map(|&v| v as u8).collect(),
        LayerFilter::Int4(f) => (0..f.len()).map(|i| f.at(i) as u8).collect(),
    }
}

/// Union-find over tensors: a pool or RESHAPE keeps its input's quantization.
fn find(parent: &mut [usize], mut t: usize) -> usize {
    while parent[t] != t {
        parent[t] = parent[parent[t]];
        t = parent[t];
    }
    t
}

/// How the exporter writes one `.tbm` layer.
fn layer_name(layer: &Layer<'_>) -> &'static str {
    match layer {
        Layer::Conv2d(..) => "CONV_2D",
        Layer::DepthwiseConv2d(..) => "DEPTHWISE_CONV_2D",
        Layer::FullyConnected(..) => "FULLY_CONNECTED",
        Layer::AveragePool2d(_) => "AVERAGE_POOL_2D",
        Layer::MaxPool2d(_) => "MAX_POOL_2D",
        Layer::Add(_) => "ADD",
        Layer::Reshape { .. } => "RESHAPE",
        Layer::SoftmaxLut { .. } | Layer::SoftmaxFixedPoint(_) => "SOFTMAX",
        Layer::Relu(_) => "RELU",
    }
}

/// Exports a `.tbm` image. `given[t]` is a known scale of `.tbm` tensor `t`
/// (the source `.tflite`'s, or `--input-scale`); the others are derived.
/// `path` is used in messages only.
///
/// # Errors
/// [`Error::Tbm`] for an image that does not parse; [`Error::Export`] naming
/// the layer whose parameters TFLite cannot express; [`Error::ExportModel`]
/// when no consistent scales exist.
pub fn export(image: &[u8], path: &Path, given: &[Option<f32>]) -> Result<Exported, Error> {
    let interp = Interpreter::new(image)?;
    let model = interp.model()?;
    // The header's model input and output tensor (bytes 24 and 26; the image parsed).
    let header = |at: usize| usize::from(u16::from_le_bytes([image[at], image[at + 1]]));
    Exporter { model: &model, path, input: header(24), output: header(26) }.run(given)
}

struct Exporter<'m, 'a> {
    model: &'m Model<'a>,
    path: &'m Path,
    input: usize,
    output: usize,
}

impl Exporter<'_, '_> {
    fn layer_error(&self, layer: usize, op: &'static str, detail: impl Into<String>) -> Error {
        Error::Export { path: self.path.to_owned(), layer, op, detail: detail.into() }
    }

    fn layers(&self) -> Result<Vec<(Layer<'_>, [u16; 2], u16)>, Error> {
        (0..self.model.layer_count())
            .map(|i| {
                let entry = self.model.entry(i).map_err(Error::Tbm)?;
                Ok((self.model.layer(i).map_err(Error::Tbm)?, entry.inputs, entry.output))
            })
            .collect()
    }

    fn run(&self, given: &[Option<f32>]) -> Result<Exported, Error> {
        let layers = self.layers()?;
        let tensor_count = self.model.tensor_count();
        let mut notes = Vec::new();

        // Classes: a pool or RESHAPE output shares its input's quantization.
        let mut parent: Vec<usize> = (0..tensor_count).collect();
        for (layer, inputs, output) in &layers {
            if matches!(layer, Layer::AveragePool2d(_) | Layer::MaxPool2d(_) | Layer::Reshape { .. }) {
                let (a, b) = (find(&mut parent, usize::from(inputs[0])), find(&mut parent, usize::from(*output)));
                parent[b] = a;
            }
        }
        let mut class_of = vec![0; tensor_count];
        let mut roots: Vec<usize> = Vec::new();
        for (t, class) in class_of.iter_mut().enumerate() {
            let root = find(&mut parent, t);
            *class = match roots.iter().position(|&r| r == root) {
                Some(c) => c,
                None => {
                    roots.push(root);
                    roots.len() - 1
                }
            };
        }
        let classes = roots.len();

        // Zero points, from every layer that states one.
        let mut zero_point: Vec<Option<i32>> = vec![None; classes];
        let mut set_zp = |layer: usize, op: &'static str, tensor: u16, zp: i32| -> Result<(), Error> {
            let class = class_of[usize::from(tensor)];
            match zero_point[class] {
                Some(z) if z != zp => Err(self.layer_error(
                    layer,
                    op,
                    format!("tensor {tensor} has zero point {zp} here and {z} in another layer"),
                )),
                _ => {
                    zero_point[class] = Some(zp);
                    Ok(())
                }
            }
        };
        for (i, (layer, inputs, output)) in layers.iter().enumerate() {
            let name = layer_name(layer);
            match layer {
                Layer::Conv2d(p, _) => {
                    set_zp(i, name, inputs[0], -p.input_offset)?;
                    set_zp(i, name, *output, p.output_offset)?;
                }
                Layer::DepthwiseConv2d(p, _) => {
                    set_zp(i, name, inputs[0], -p.input_offset)?;
                    set_zp(i, name, *output, p.output_offset)?;
                }
                Layer::FullyConnected(p, _) => {
                    set_zp(i, name, inputs[0], -p.input_offset)?;
                    set_zp(i, name, *output, p.output_offset)?;
                }
                Layer::Add(p) => {
                    set_zp(i, name, inputs[0], -p.input1_offset)?;
                    set_zp(i, name, inputs[1], -p.input2_offset)?;
                    set_zp(i, name, *output, p.output_offset)?;
                }
                Layer::Relu(p) => {
                    set_zp(i, name, inputs[0], p.input_zero_point)?;
                    set_zp(i, name, *output, p.output_offset)?;
                }
                Layer::SoftmaxLut { .. } | Layer::SoftmaxFixedPoint(_) => {
                    set_zp(i, name, *output, tinybench_kernels::softmax::OUTPUT_ZERO_POINT)?;
                }
                Layer::AveragePool2d(_) | Layer::MaxPool2d(_) | Layer::Reshape { .. } => {}
            }
        }
        let zero_point: Vec<i32> = zero_point.into_iter().map(|z| z.unwrap_or(0)).collect();

        // Constraints on the class scales.
        let mut constraints = Vec::new();
        let class = |t: u16| class_of[usize::from(t)];
        let channels = |m: &[i32], s: &[i32]| m.iter().copied().zip(s.iter().copied()).collect::<Vec<_>>();
        for (i, (layer, inputs, output)) in layers.iter().enumerate() {
            let (input, out) = (class(inputs[0]), class(*output));
            let range = |min: i32, max: i32, kinds| Constraint::Range {
                layer: i,
                class: out,
                zero_point: zero_point[out],
                range: (min, max),
                kinds,
            };
            match layer {
                Layer::Conv2d(p, w) => {
                    let ch = channels(w.output_multiplier, w.output_shift);
                    constraints.push(Constraint::Weighted {
                        layer: i,
                        input,
                        output: out,
                        channels: ch,
                        formula: Formula::Double,
                    });
                    constraints.push(range(p.activation_min, p.activation_max, FUSED));
                }
                Layer::DepthwiseConv2d(p, w) => {
                    let ch = channels(w.output_multiplier, w.output_shift);
                    constraints.push(Constraint::Weighted {
                        layer: i,
                        input,
                        output: out,
                        channels: ch,
                        formula: Formula::Double,
                    });
                    constraints.push(range(p.activation_min, p.activation_max, FUSED));
                }
                Layer::FullyConnected(p, w) => {
                    let per_tensor = w.output_multiplier.len() == 1;
                    // Written as CONV_2D (double rounding) or as a per-tensor / per-channel FC.
                    let formula = if p.rounding == Rounding::Single && per_tensor {
                        Formula::FloatProduct
                    } else {
                        Formula::Double
                    };
                    constraints.push(Constraint::Weighted {
                        layer: i,
                        input,
                        output: out,
                        channels: channels(w.output_multiplier, w.output_shift),
                        formula,
                    });
                    constraints.push(range(p.activation_min, p.activation_max, FUSED));
                }
                Layer::AveragePool2d(p) | Layer::MaxPool2d(p) => {
                    constraints.push(range(p.activation_min, p.activation_max, FUSED));
                }
                Layer::Add(p) => {
                    constraints.push(Constraint::Add { layer: i, a: input, b: class(inputs[1]), out, params: *p });
                    constraints.push(range(p.activation_min, p.activation_max, FUSED));
                }
                Layer::Relu(p) => {
                    constraints.push(Constraint::Relu {
                        layer: i,
                        input,
                        output: out,
                        multiplier: (p.output_multiplier, p.output_shift),
                    });
                    constraints.push(range(p.activation_min, p.activation_max, STANDALONE));
                }
                Layer::SoftmaxLut { output_scale, table, .. } => {
                    let values = scales::softmax_table_scales(table);
                    if values.is_empty() {
                        return Err(self.layer_error(
                            i,
                            "SOFTMAX",
                            "its table is not exp(-input_scale * d) for any float32 input scale (beta 1)",
                        ));
                    }
                    let what = format!("layer {i}'s SOFTMAX table");
                    constraints.push(Constraint::OneOf { layer: Some(i), class: input, values, what });
                    let what = format!("layer {i}'s SOFTMAX output scale");
                    constraints.push(Constraint::OneOf {
                        layer: Some(i),
                        class: out,
                        values: vec![*output_scale],
                        what,
                    });
                }
                Layer::SoftmaxFixedPoint(p) => {
                    let values = scales::softmax_fixed_scales(p);
                    if values.is_empty() {
                        return Err(self.layer_error(
                            i,
                            "SOFTMAX",
                            "its input multiplier does not come from any float32 input scale (beta 1)",
                        ));
                    }
                    let what = format!("layer {i}'s SOFTMAX input multiplier");
                    constraints.push(Constraint::OneOf { layer: Some(i), class: input, values, what });
                    let what = format!("layer {i}'s SOFTMAX output scale");
                    constraints.push(Constraint::OneOf { layer: Some(i), class: out, values: vec![1.0 / 256.0], what });
                    notes.push(format!(
                        "layer {i} (SOFTMAX) uses TFLite Micro's fixed-point arithmetic: TFLite Micro matches it, \
                         LiteRT's int8 SOFTMAX (a float table) may differ in the last bit"
                    ));
                }
                Layer::Reshape { .. } => {}
            }
        }
        let all_given = (0..tensor_count).all(|t| given.get(t).is_some_and(Option::is_some));
        for (t, scale) in given.iter().enumerate().take(tensor_count) {
            match scale {
                Some(s) if s.is_finite() && *s > 0.0 => constraints.push(Constraint::OneOf {
                    layer: None,
                    class: class_of[t],
                    values: vec![*s],
                    what: format!("the given scale {s:e} of tensor {t}"),
                }),
                Some(s) => {
                    return Err(Error::ExportModel {
                        path: self.path.to_owned(),
                        detail: format!("the given scale {s} of tensor {t} is not a positive number"),
                    });
                }
                None => {}
            }
        }

        // First-seen order: the model input, then layer outputs.
        let mut order = vec![class_of[self.input]];
        for (_, _, output) in &layers {
            if !order.contains(&class(*output)) {
                order.push(class(*output));
            }
        }
        for c in 0..classes {
            if !order.contains(&c) {
                order.push(c);
            }
        }
        let scale = scales::solve(classes, &constraints, &order).map_err(|e| match e.layer {
            Some(l) => self.layer_error(l, layer_name(&layers[l].0), e.detail),
            None => Error::ExportModel { path: self.path.to_owned(), detail: e.detail },
        })?;
        let any_given = given.iter().any(Option::is_some);
        notes.insert(
            0,
            if all_given {
                "scales: those of the source .tflite".to_string()
            } else {
                format!(
                    "scales: derived from the .tbm's fixed-point parameters{} (a .tbm stores no float scales); \
                     TFLite recomputes exactly the stored integer parameters from them, but a tensor's real \
                     scale may differ from the original by a power of two",
                    if any_given { ", anchored at the given input scale" } else { "" }
                )
            },
        );

        let spec = self.emit(&layers, &class_of, &scale, &zero_point, &mut notes)?;
        let operators = spec.ops.iter().map(|o| builtin_name(o.code)).collect();
        let bytes = serialize(&spec);
        verify(&bytes).map_err(|detail| Error::ExportModel {
            path: self.path.to_owned(),
            detail: format!("the written flatbuffer fails its structural check ({detail}); this is a bug"),
        })?;
        Ok(Exported { bytes, operators, notes })
    }

    fn emit(
        &self,
        layers: &[(Layer<'_>, [u16; 2], u16)],
        class_of: &[Class],
        scale: &[f32],
        zero_point: &[i32],
        notes: &mut Vec<String>,
    ) -> Result<ModelSpec, Error> {
        let mut spec = ModelSpec { buffers: vec![Vec::new()], ..ModelSpec::default() };
        let tensor_count = self.model.tensor_count();
        let (input, output) = (self.input, self.output);
        for (t, &c) in class_of.iter().enumerate().take(tensor_count) {
            let tensor = self.model.tensor(t);
            let name = if t == input {
                "input".to_string()
            } else if t == output {
                "output".to_string()
            } else {
                format!("tensor{t}")
            };
            spec.tensor(TensorSpec {
                name,
                shape: tensor.dims().iter().map(|&d| i32::from(d)).collect(),
                dtype: TYPE_INT8,
                buffer: 0,
                scales: vec![scale[c]],
                zero_points: vec![i64::from(zero_point[c])],
                quantized_dimension: 0,
            });
        }
        spec.input = dim(input);
        spec.output = dim(output);
        let act_scale = |t: u16| scale[class_of[usize::from(t)]];
        let act_zp = |t: u16| zero_point[class_of[usize::from(t)]];
        let kind = |layer: usize, op: &'static str, kinds: &[FusedActivation], t: u16, range: (i32, i32)| {
            scales::activation_kind(kinds, act_scale(t), act_zp(t), range)
                .ok_or_else(|| self.layer_error(layer, op, format!("no activation gives the range {range:?}")))
        };

        // Filter and bias constants of a weighted layer; returns their tensor indices (bias -1 if absent).
        #[allow(clippy::too_many_arguments)]
        fn weights(
            spec: &mut ModelSpec,
            layer: usize,
            shape: Vec<i32>,
            quantized_dimension: i32,
            filter: Vec<u8>,
            filter_scales: &[f32],
            filter_zero_point: i64,
            bias: Option<&[i32]>,
            input_scale: f32,
        ) -> (i32, i32) {
            spec.buffers.push(filter);
            let filter = spec.tensor(TensorSpec {
                name: format!("layer{layer}/filter"),
                shape,
                dtype: TYPE_INT8,
                buffer: (spec.buffers.len() - 1) as u32,
                scales: filter_scales.to_vec(),
                zero_points: vec![filter_zero_point; filter_scales.len()],
                quantized_dimension,
            });
            let bias = bias.map_or(-1, |b| {
                let scales = filter_scales.iter().map(|&w| input_scale * w).collect();
                spec.constant(
                    format!("layer{layer}/bias"),
                    vec![dim(b.len())],
                    TYPE_INT32,
                    le_bytes_i32(b.iter().copied()),
                    scales,
                    0,
                )
            });
            (filter, bias)
        }
        let filter_scales =
            |layer: usize, op: &'static str, formula: Formula, inputs: [u16; 2], output: u16, m: &[i32], s: &[i32]| {
                let (si, so) = (act_scale(inputs[0]), act_scale(output));
                m.iter()
                    .zip(s)
                    .map(|(&m, &s)| {
                        scales::filter_scale(formula, si, so, (m, s)).ok_or_else(|| {
                            self.layer_error(layer, op, format!("no filter scale gives the multiplier ({m}, {s})"))
                        })
                    })
                    .collect::<Result<Vec<f32>, Error>>()
            };
        let mut int4_layers: Vec<String> = Vec::new();
        let mut int4_note = |i: usize, f: &LayerFilter<'_>| {
            if matches!(f, LayerFilter::Int4(_)) {
                int4_layers.push(i.to_string());
            }
        };

        for (i, (layer, inputs, output)) in layers.iter().enumerate() {
            let op = layer_name(layer);
            let (x, y) = (i32::from(inputs[0]), i32::from(*output));
            match layer {
                Layer::Conv2d(p, w) => {
                    int4_note(i, &w.filter);
                    let ws =
                        filter_scales(i, op, Formula::Double, *inputs, *output, w.output_multiplier, w.output_shift)?;
                    let shape =
                        vec![dim(p.output_channels), dim(p.filter_height), dim(p.filter_width), dim(p.input.channels)];
                    let (f, b) =
                        weights(&mut spec, i, shape, 0, filter_values(&w.filter), &ws, 0, w.bias, act_scale(inputs[0]));
                    let act = kind(i, op, FUSED, *output, (p.activation_min, p.activation_max))?;
                    spec.ops.push(OpSpec {
                        code: builtin::CONV_2D,
                        version: 3,
                        inputs: vec![x, f, b],
                        outputs: vec![y],
                        options: Options::Conv {
                            padding: padding(p.padding),
                            stride_w: dim(p.stride_width),
                            stride_h: dim(p.stride_height),
                            activation: activation_code(act),
                            dilation_w: dim(p.dilation_width),
                            dilation_h: dim(p.dilation_height),
                        },
                    });
                }
                Layer::DepthwiseConv2d(p, w) => {
                    int4_note(i, &w.filter);
                    let ws =
                        filter_scales(i, op, Formula::Double, *inputs, *output, w.output_multiplier, w.output_shift)?;
                    let channels = p.input.channels * p.depth_multiplier;
                    let shape = vec![1, dim(p.filter_height), dim(p.filter_width), dim(channels)];
                    let (f, b) =
                        weights(&mut spec, i, shape, 3, filter_values(&w.filter), &ws, 0, w.bias, act_scale(inputs[0]));
                    let act = kind(i, op, FUSED, *output, (p.activation_min, p.activation_max))?;
                    spec.ops.push(OpSpec {
                        code: builtin::DEPTHWISE_CONV_2D,
                        version: 3,
                        inputs: vec![x, f, b],
                        outputs: vec![y],
                        options: Options::Depthwise {
                            padding: padding(p.padding),
                            stride_w: dim(p.stride_width),
                            stride_h: dim(p.stride_height),
                            depth_multiplier: dim(p.depth_multiplier),
                            activation: activation_code(act),
                            dilation_w: dim(p.dilation_width),
                            dilation_h: dim(p.dilation_height),
                        },
                    });
                }
                Layer::FullyConnected(p, w) => {
                    int4_note(i, &w.filter);
                    let act = kind(i, op, FUSED, *output, (p.activation_min, p.activation_max))?;
                    let data = filter_values(&w.filter);
                    if p.rounding == Rounding::Single {
                        let per_tensor = w.output_multiplier.len() == 1;
                        let formula = if per_tensor { Formula::FloatProduct } else { Formula::Double };
                        let ws = filter_scales(i, op, formula, *inputs, *output, w.output_multiplier, w.output_shift)?;
                        let shape = vec![dim(p.output_depth), dim(p.accum_depth)];
                        let (f, b) = weights(
                            &mut spec,
                            i,
                            shape,
                            0,
                            data,
                            &ws,
                            i64::from(-p.filter_offset),
                            w.bias,
                            act_scale(inputs[0]),
                        );
                        spec.ops.push(OpSpec {
                            code: builtin::FULLY_CONNECTED,
                            version: 4,
                            inputs: vec![x, f, b],
                            outputs: vec![y],
                            options: Options::FullyConnected { activation: activation_code(act) },
                        });
                        continue;
                    }
                    // Double rounding: CONV_2D over the whole input, then RESHAPE to the FC output.
                    if p.filter_offset != 0 {
                        return Err(self.layer_error(
                            i,
                            op,
                            "a double-rounding FULLY_CONNECTED with an asymmetric filter (offset != 0) has no \
                             TFLite equivalent that LiteRT rounds the same way",
                        ));
                    }
                    let ws =
                        filter_scales(i, op, Formula::Double, *inputs, *output, w.output_multiplier, w.output_shift)?;
                    let ws = if ws.len() == 1 { vec![ws[0]; p.output_depth] } else { ws };
                    let in_dims = self.model.tensor(usize::from(inputs[0])).dims().to_vec();
                    let (batches, accum) = (dim(p.batches), dim(p.accum_depth));
                    let whole = in_dims.len() == 4
                        && usize::from(in_dims[0]) == p.batches
                        && in_dims[1..].iter().map(|&d| usize::from(d)).product::<usize>() == p.accum_depth;
                    let (conv_input, kernel) = if whole {
                        (x, [i32::from(in_dims[1]), i32::from(in_dims[2]), i32::from(in_dims[3])])
                    } else {
                        let shape = vec![batches, 1, 1, accum];
                        let reshaped = spec.tensor(TensorSpec {
                            name: format!("layer{i}/input_as_nhwc"),
                            shape: shape.clone(),
                            ..spec.tensors[usize::from(inputs[0])].clone()
                        });
                        let shape_tensor = spec.constant(
                            format!("layer{i}/input_shape"),
                            vec![4],
                            TYPE_INT32,
                            le_bytes_i32(shape.iter().copied()),
                            Vec::new(),
                            0,
                        );
                        spec.ops.push(OpSpec {
                            code: builtin::RESHAPE,
                            version: 1,
                            inputs: vec![x, shape_tensor],
                            outputs: vec![reshaped],
                            options: Options::Reshape { new_shape: shape },
                        });
                        (reshaped, [1, 1, accum])
                    };
                    let shape = vec![dim(p.output_depth), kernel[0], kernel[1], kernel[2]];
                    let (f, b) = weights(&mut spec, i, shape, 0, data, &ws, 0, w.bias, act_scale(inputs[0]));
                    let conv_out = spec.tensor(TensorSpec {
                        name: format!("layer{i}/conv_output"),
                        shape: vec![batches, 1, 1, dim(p.output_depth)],
                        ..spec.tensors[usize::from(*output)].clone()
                    });
                    spec.ops.push(OpSpec {
                        code: builtin::CONV_2D,
                        version: 3,
                        inputs: vec![conv_input, f, b],
                        outputs: vec![conv_out],
                        options: Options::Conv {
                            padding: padding(Padding::Valid),
                            stride_w: 1,
                            stride_h: 1,
                            activation: activation_code(act),
                            dilation_w: 1,
                            dilation_h: 1,
                        },
                    });
                    let out_shape = spec.tensors[usize::from(*output)].shape.clone();
                    let shape_tensor = spec.constant(
                        format!("layer{i}/output_shape"),
                        vec![dim(out_shape.len())],
                        TYPE_INT32,
                        le_bytes_i32(out_shape.iter().copied()),
                        Vec::new(),
                        0,
                    );
                    spec.ops.push(OpSpec {
                        code: builtin::RESHAPE,
                        version: 1,
                        inputs: vec![conv_out, shape_tensor],
                        outputs: vec![y],
                        options: Options::Reshape { new_shape: out_shape },
                    });
                    notes.push(format!(
                        "layer {i} (FULLY_CONNECTED, double rounding) written as CONV_2D {}x{} VALID + RESHAPE: \
                         LiteRT's int8 FULLY_CONNECTED rounds once, its convolutions (and TFLite Micro's) round \
                         twice like the .tbm",
                        kernel[0], kernel[1]
                    ));
                }
                Layer::AveragePool2d(p) | Layer::MaxPool2d(p) => {
                    let act = kind(i, op, FUSED, *output, (p.activation_min, p.activation_max))?;
                    let average = matches!(layer, Layer::AveragePool2d(_));
                    spec.ops.push(OpSpec {
                        code: if average { builtin::AVERAGE_POOL_2D } else { builtin::MAX_POOL_2D },
                        version: 2,
                        inputs: vec![x],
                        outputs: vec![y],
                        options: Options::Pool {
                            padding: padding(p.padding),
                            stride_w: dim(p.stride_width),
                            stride_h: dim(p.stride_height),
                            filter_w: dim(p.filter_width),
                            filter_h: dim(p.filter_height),
                            activation: activation_code(act),
                        },
                    });
                }
                Layer::Add(p) => {
                    if inputs[1] == NO_TENSOR {
                        return Err(self.layer_error(i, op, "no second input"));
                    }
                    let act = kind(i, op, FUSED, *output, (p.activation_min, p.activation_max))?;
                    spec.ops.push(OpSpec {
                        code: builtin::ADD,
                        version: 2,
                        inputs: vec![x, i32::from(inputs[1])],
                        outputs: vec![y],
                        options: Options::Add { activation: activation_code(act) },
                    });
                }
                Layer::Reshape { .. } => {
                    let new_shape = spec.tensors[usize::from(*output)].shape.clone();
                    let shape_tensor = spec.constant(
                        format!("layer{i}/shape"),
                        vec![dim(new_shape.len())],
                        TYPE_INT32,
                        le_bytes_i32(new_shape.iter().copied()),
                        Vec::new(),
                        0,
                    );
                    spec.ops.push(OpSpec {
                        code: builtin::RESHAPE,
                        version: 1,
                        inputs: vec![x, shape_tensor],
                        outputs: vec![y],
                        options: Options::Reshape { new_shape },
                    });
                }
                Layer::SoftmaxLut { .. } | Layer::SoftmaxFixedPoint(_) => {
                    spec.ops.push(OpSpec {
                        code: builtin::SOFTMAX,
                        version: 2,
                        inputs: vec![x],
                        outputs: vec![y],
                        options: Options::Softmax { beta: 1.0 },
                    });
                }
                Layer::Relu(p) => {
                    let act = kind(i, op, STANDALONE, *output, (p.activation_min, p.activation_max))?;
                    let code = match act {
                        FusedActivation::Relu6 => builtin::RELU6,
                        FusedActivation::ReluN1To1 => builtin::RELU_N1_TO_1,
                        _ => builtin::RELU,
                    };
                    spec.ops.push(OpSpec {
                        code,
                        version: 2,
                        inputs: vec![x],
                        outputs: vec![y],
                        options: Options::None,
                    });
                }
            }
        }
        if !int4_layers.is_empty() {
            notes.push(format!(
                "layer{} {}: int4 weights written as int8 values -7..7 (TFLite's INT4 type is not supported by \
                 TFLite Micro and most LiteRT kernels; same arithmetic, not smaller)",
                if int4_layers.len() > 1 { "s" } else { "" },
                int4_layers.join(", ")
            ));
        }
        Ok(spec)
    }
}

/// Options union type each exported operator must carry.
fn expected_options(code: i32) -> Option<u8> {
    Some(match code {
        builtin::CONV_2D => options_type::CONV_2D,
        builtin::DEPTHWISE_CONV_2D => options_type::DEPTHWISE_CONV_2D,
        builtin::AVERAGE_POOL_2D | builtin::MAX_POOL_2D => options_type::POOL_2D,
        builtin::FULLY_CONNECTED => options_type::FULLY_CONNECTED,
        builtin::SOFTMAX => options_type::SOFTMAX,
        builtin::ADD => options_type::ADD,
        builtin::RESHAPE => options_type::RESHAPE,
        builtin::RELU | builtin::RELU6 | builtin::RELU_N1_TO_1 => options_type::NONE,
        _ => return None,
    })
}

/// Structural checks of an exported flatbuffer, beyond what the importer
/// ([`crate::tflite::import`]) checks: the `TFL3` identifier and schema
/// version 3; buffer 0 the empty sentinel and every other buffer's data
/// 16-byte aligned and as long as its tensor; tensor types int8 / int32;
/// quantization vectors consistent (one scale per channel of
/// `quantized_dimension`, zero points in range, symmetric filters, bias
/// scales `input_scale * filter_scale`); operator codes with both code
/// fields and a version; every operator input either constant, the model
/// input or written by an earlier operator; every tensor written once.
///
/// # Errors
/// The first violation, as text.
pub fn verify(bytes: &[u8]) -> Result<(), String> {
    use crate::flatbuf::{FlatError, Table};
    let flat = |e: FlatError| e.to_string();
    if bytes.get(4..8) != Some(b"TFL3".as_slice()) {
        return Err("no TFL3 file identifier".into());
    }
    let model = Table::root(bytes).map_err(flat)?;
    // Model: 0 version, 1 operator_codes, 2 subgraphs, 3 description, 4 buffers.
    if model.u32(0, 0).map_err(flat)? != 3 {
        return Err("schema version is not 3".into());
    }
    let opcodes = model.vector(1).map_err(flat)?.ok_or("no operator codes")?;
    let subgraphs = model.vector(2).map_err(flat)?.ok_or("no subgraphs")?;
    let buffers = model.vector(4).map_err(flat)?.ok_or("no buffers")?;
    if subgraphs.len() != 1 {
        return Err(format!("{} subgraphs, expected 1", subgraphs.len()));
    }
    let mut codes = Vec::new();
    for i in 0..opcodes.len() {
        // OperatorCode: 0 deprecated_builtin_code, 1 custom_code, 2 version, 3 builtin_code.
        let c = opcodes.table(i).map_err(flat)?;
        let (deprecated, code, version) =
            (c.i8(0, 0).map_err(flat)?, c.i32(3, 0).map_err(flat)?, c.i32(2, 1).map_err(flat)?);
        if i32::from(deprecated) != code.min(127) || version < 1 || expected_options(code).is_none() {
            return Err(format!("operator code {i}: builtin {code}, deprecated {deprecated}, version {version}"));
        }
        codes.push(code);
    }
    let mut data: Vec<Option<&[u8]>> = Vec::with_capacity(buffers.len());
    for i in 0..buffers.len() {
        // Buffer: 0 data.
        let d =
            buffers.table(i).map_err(flat)?.vector(0).map_err(flat)?.map(|v| v.bytes(1)).transpose().map_err(flat)?;
        if let Some(d) = d.filter(|d| !d.is_empty()) {
            if i == 0 {
                return Err("buffer 0 (the sentinel) has data".into());
            }
            if !(d.as_ptr() as usize - bytes.as_ptr() as usize).is_multiple_of(16) {
                return Err(format!("buffer {i}'s data is not 16-byte aligned"));
            }
        }
        data.push(d);
    }

    struct T {
        shape: Vec<i32>,
        dtype: u8,
        constant: bool,
        scales: Vec<f32>,
        zero_points: Vec<i64>,
    }
    // SubGraph: 0 tensors, 1 inputs, 2 outputs, 3 operators, 4 name.
    let subgraph = subgraphs.table(0).map_err(flat)?;
    let tensor_tables = subgraph.vector(0).map_err(flat)?.ok_or("no tensors")?;
    let mut tensors = Vec::with_capacity(tensor_tables.len());
    for i in 0..tensor_tables.len() {
        // Tensor: 0 shape, 1 type, 2 buffer, 3 name, 4 quantization.
        let t = tensor_tables.table(i).map_err(flat)?;
        let shape = t.vector(0).map_err(flat)?.map(|v| v.i32s()).transpose().map_err(flat)?.unwrap_or_default();
        let dtype = t.u8(1, 0).map_err(flat)?;
        let buffer = t.u32(2, 0).map_err(flat)? as usize;
        let bad = |what: &str| format!("tensor {i} ({:?}): {what}", t.string(3).ok().flatten().unwrap_or(""));
        let size = match dtype {
            TYPE_INT8 => 1,
            TYPE_INT32 => 4,
            _ => return Err(bad("not int8 or int32")),
        };
        if shape.iter().any(|&d| d < 0) {
            return Err(bad("negative dimension"));
        }
        let elements: usize = shape.iter().map(|&d| d as usize).product();
        let constant = match data.get(buffer) {
            None => return Err(bad("buffer index out of range")),
            Some(Some(d)) if !d.is_empty() => {
                if d.len() != elements * size {
                    return Err(bad(&format!("{} data bytes for {elements} elements", d.len())));
                }
                true
            }
            Some(_) => false,
        };
        let (mut scales, mut zero_points) = (Vec::new(), Vec::new());
        if let Some(q) = t.table(4).map_err(flat)? {
            // QuantizationParameters: 2 scale, 3 zero_point, 6 quantized_dimension.
            scales = q.vector(2).map_err(flat)?.map(|v| v.f32s()).transpose().map_err(flat)?.unwrap_or_default();
            zero_points = q.vector(3).map_err(flat)?.map(|v| v.i64s()).transpose().map_err(flat)?.unwrap_or_default();
            let dim = q.i32(6, 0).map_err(flat)?;
            let channels = usize::try_from(dim).ok().and_then(|d| shape.get(d)).map(|&c| c as usize);
            if scales.len() != zero_points.len() || !(scales.len() == 1 || Some(scales.len()) == channels) {
                return Err(bad(&format!(
                    "{} scales, {} zero points, quantized dimension {dim}",
                    scales.len(),
                    zero_points.len()
                )));
            }
            if scales.iter().any(|s| !s.is_finite() || *s <= 0.0) {
                return Err(bad("a scale is not positive"));
            }
            if dtype == TYPE_INT8 && zero_points.iter().any(|z| !(-128..=127).contains(z)) {
                return Err(bad("a zero point outside int8"));
            }
        } else if dtype == TYPE_INT8 {
            return Err(bad("int8 tensor without quantization"));
        }
        tensors.push(T { shape, dtype, constant, scales, zero_points });
    }
    let io = |field| -> Result<usize, String> {
        let list =
            subgraph.vector(field).map_err(flat)?.map(|v| v.i32s()).transpose().map_err(flat)?.unwrap_or_default();
        match list.as_slice() {
            [t] if usize::try_from(*t).is_ok_and(|t| t < tensors.len()) => Ok(*t as usize),
            _ => Err(format!(
                "subgraph {} is {list:?}, expected one tensor",
                if field == 1 { "input" } else { "output" }
            )),
        }
    };
    let (input, output) = (io(1)?, io(2)?);
    for t in [input, output] {
        if tensors[t].dtype != TYPE_INT8 || tensors[t].constant {
            return Err(format!("model input/output tensor {t} is not an int8 activation"));
        }
    }
    let operators = subgraph.vector(3).map_err(flat)?.ok_or("no operators")?;
    let mut written = vec![false; tensors.len()];
    written[input] = true;
    for i in 0..operators.len() {
        // Operator: 0 opcode_index, 1 inputs, 2 outputs, 3 builtin_options_type, 4 builtin_options.
        let op = operators.table(i).map_err(flat)?;
        let code = *codes
            .get(op.u32(0, 0).map_err(flat)? as usize)
            .ok_or(format!("operator {i}: opcode index out of range"))?;
        let bad = |what: String| format!("operator {i} ({}): {what}", builtin_name(code));
        if Some(op.u8(3, 0).map_err(flat)?) != expected_options(code)
            || (op.u8(3, 0).map_err(flat)? != 0) != op.table(4).map_err(flat)?.is_some()
        {
            return Err(bad("wrong or missing builtin options".into()));
        }
        let ins = op.vector(1).map_err(flat)?.map(|v| v.i32s()).transpose().map_err(flat)?.unwrap_or_default();
        let outs = op.vector(2).map_err(flat)?.map(|v| v.i32s()).transpose().map_err(flat)?.unwrap_or_default();
        for &t in &ins {
            if t == -1 {
                continue;
            }
            let t = usize::try_from(t)
                .ok()
                .filter(|&t| t < tensors.len())
                .ok_or_else(|| bad(format!("input {t} out of range")))?;
            if !tensors[t].constant && !written[t] {
                return Err(bad(format!("reads tensor {t} before any operator writes it")));
            }
        }
        for &t in &outs {
            let t = usize::try_from(t)
                .ok()
                .filter(|&t| t < tensors.len())
                .ok_or_else(|| bad(format!("output {t} out of range")))?;
            if tensors[t].constant || written[t] {
                return Err(bad(format!("writes tensor {t}, which is constant or already written")));
            }
            written[t] = true;
        }
        if matches!(code, builtin::CONV_2D | builtin::DEPTHWISE_CONV_2D | builtin::FULLY_CONNECTED) {
            let [x, w, b] = ins.as_slice() else { return Err(bad(format!("{} inputs, expected 3", ins.len()))) };
            let (x, w) = (&tensors[*x as usize], &tensors[*w as usize]);
            let rank = if code == builtin::FULLY_CONNECTED { 2 } else { 4 };
            if !w.constant || w.dtype != TYPE_INT8 || w.shape.len() != rank {
                return Err(bad("the filter is not a constant int8 tensor of the right rank".into()));
            }
            if code != builtin::FULLY_CONNECTED && w.zero_points.iter().any(|&z| z != 0) {
                return Err(bad("the filter is not symmetric".into()));
            }
            if *b != -1 {
                let b = &tensors[*b as usize];
                let channels = if code == builtin::DEPTHWISE_CONV_2D { w.shape[3] } else { w.shape[0] };
                if !b.constant || b.dtype != TYPE_INT32 || b.shape != [channels] {
                    return Err(bad("the bias is not a constant int32 vector, one per output channel".into()));
                }
                for (c, &bs) in b.scales.iter().enumerate() {
                    let product = f64::from(x.scales[0]) * f64::from(w.scales[if w.scales.len() == 1 { 0 } else { c }]);
                    if (f64::from(bs) - product).abs() > 1e-6 * product {
                        return Err(bad(format!("bias scale {c} is not input scale x filter scale")));
                    }
                }
            }
        }
    }
    if !written[output] {
        return Err(format!("no operator writes the model output (tensor {output})"));
    }
    Ok(())
}

/// A zero-sized push that aligns the builder to 16 bytes and makes the
/// finished buffer's length a multiple of 16 (so offsets from its end that
/// are multiples of 16 are aligned from its start too).
struct Align16;

impl Push for Align16 {
    type Output = Align16;

    // SAFETY: writes nothing, so the trait's contract (`dst` holds `size()` = 0 bytes) holds trivially.
    unsafe fn push(&self, _dst: &mut [u8], _written_len: usize) {}

    fn size() -> usize {
        0
    }

    fn alignment() -> PushAlignment {
        PushAlignment::new(16)
    }
}

/// Field `id`'s slot in a vtable.
const fn slot(id: u16) -> u16 {
    4 + 2 * id
}

/// A `[ubyte]` vector whose data starts 16-byte aligned (TFLite's `Buffer.data` is `force_align: 16`).
fn aligned_bytes<'b>(fbb: &mut FlatBufferBuilder<'b>, data: &[u8]) -> WIPOffset<flatbuffers::Vector<'b, u8>> {
    fbb.push(Align16);
    let pad = (16 - data.len() % 16) % 16;
    for _ in 0..pad {
        fbb.push(0u8);
    }
    fbb.create_vector(data)
}

/// Serializes the model (schema field ids in comments).
fn serialize(spec: &ModelSpec) -> Vec<u8> {
    let mut fbb = FlatBufferBuilder::with_capacity(1024 + spec.buffers.iter().map(Vec::len).sum::<usize>() * 2);

    // Buffer: 0 data. Buffer 0 is the empty sentinel (no data field).
    let mut buffers = Vec::with_capacity(spec.buffers.len());
    for (i, data) in spec.buffers.iter().enumerate() {
        let data = (i != 0).then(|| aligned_bytes(&mut fbb, data));
        let start = fbb.start_table();
        if let Some(d) = data {
            fbb.push_slot_always(slot(0), d);
        }
        buffers.push(fbb.end_table(start));
    }

    let mut tensors = Vec::with_capacity(spec.tensors.len());
    for t in &spec.tensors {
        let shape = fbb.create_vector(&t.shape);
        let name = fbb.create_string(&t.name);
        let quantization = (!t.scales.is_empty()).then(|| {
            // QuantizationParameters: 0 min, 1 max, 2 scale, 3 zero_point, 4/5 details, 6 quantized_dimension.
            let scale = fbb.create_vector(&t.scales);
            let zero_point = fbb.create_vector(&t.zero_points);
            let start = fbb.start_table();
            fbb.push_slot_always(slot(2), scale);
            fbb.push_slot_always(slot(3), zero_point);
            fbb.push_slot(slot(6), t.quantized_dimension, 0);
            fbb.end_table(start)
        });
        // Tensor: 0 shape, 1 type, 2 buffer, 3 name, 4 quantization.
        let start = fbb.start_table();
        fbb.push_slot_always(slot(0), shape);
        fbb.push_slot(slot(1), t.dtype, 0);
        fbb.push_slot(slot(2), t.buffer, 0);
        fbb.push_slot_always(slot(3), name);
        if let Some(q) = quantization {
            fbb.push_slot_always(slot(4), q);
        }
        tensors.push(fbb.end_table(start));
    }

    // Operator codes in order of first use.
    let mut codes: Vec<(i32, i32)> = Vec::new();
    let mut operators = Vec::with_capacity(spec.ops.len());
    for op in &spec.ops {
        let index = match codes.iter().position(|&(c, _)| c == op.code) {
            Some(i) => i,
            None => {
                codes.push((op.code, op.version));
                codes.len() - 1
            }
        };
        let inputs = fbb.create_vector(&op.inputs);
        let outputs = fbb.create_vector(&op.outputs);
        let (options_type, options) = write_options(&mut fbb, &op.options);
        // Operator: 0 opcode_index, 1 inputs, 2 outputs, 3 builtin_options_type, 4 builtin_options.
        let start = fbb.start_table();
        fbb.push_slot(slot(0), index as u32, 0);
        fbb.push_slot_always(slot(1), inputs);
        fbb.push_slot_always(slot(2), outputs);
        fbb.push_slot(slot(3), options_type, options_type::NONE);
        if let Some(o) = options {
            fbb.push_slot_always(slot(4), o);
        }
        operators.push(fbb.end_table(start));
    }
    let mut opcodes = Vec::with_capacity(codes.len());
    for &(code, version) in &codes {
        // OperatorCode: 0 deprecated_builtin_code (i8), 1 custom_code, 2 version, 3 builtin_code (i32).
        let start = fbb.start_table();
        fbb.push_slot(slot(0), code.min(127) as i8, 0);
        fbb.push_slot(slot(2), version, 1);
        fbb.push_slot(slot(3), code, 0);
        opcodes.push(fbb.end_table(start));
    }

    // SubGraph: 0 tensors, 1 inputs, 2 outputs, 3 operators, 4 name.
    let tensors = fbb.create_vector(&tensors);
    let inputs = fbb.create_vector(&[spec.input]);
    let outputs = fbb.create_vector(&[spec.output]);
    let operators = fbb.create_vector(&operators);
    let name = fbb.create_string("main");
    let start = fbb.start_table();
    fbb.push_slot_always(slot(0), tensors);
    fbb.push_slot_always(slot(1), inputs);
    fbb.push_slot_always(slot(2), outputs);
    fbb.push_slot_always(slot(3), operators);
    fbb.push_slot_always(slot(4), name);
    let subgraph = fbb.end_table(start);

    // Model: 0 version, 1 operator_codes, 2 subgraphs, 3 description, 4 buffers.
    let opcodes = fbb.create_vector(&opcodes);
    let subgraphs = fbb.create_vector(&[subgraph]);
    let description = fbb.create_string(DESCRIPTION);
    let buffers = fbb.create_vector(&buffers);
    let start = fbb.start_table();
    fbb.push_slot(slot(0), 3u32, 0);
    fbb.push_slot_always(slot(1), opcodes);
    fbb.push_slot_always(slot(2), subgraphs);
    fbb.push_slot_always(slot(3), description);
    fbb.push_slot_always(slot(4), buffers);
    let model = fbb.end_table(start);
    fbb.finish(model, Some("TFL3"));
    fbb.finished_data().to_vec()
}

/// Writes an options table; returns its union type and offset.
fn write_options(
    fbb: &mut FlatBufferBuilder<'_>,
    options: &Options,
) -> (u8, Option<WIPOffset<flatbuffers::UnionWIPOffset>>) {
    let table = |fbb: &mut FlatBufferBuilder<'_>, fill: &dyn Fn(&mut FlatBufferBuilder<'_>)| {
        let start = fbb.start_table();
        fill(fbb);
        fbb.end_table(start).as_union_value()
    };
    match options {
        Options::None => (options_type::NONE, None),
        // Conv2DOptions: 0 padding, 1 stride_w, 2 stride_h, 3 activation, 4 dilation_w, 5 dilation_h.
        &Options::Conv { padding, stride_w, stride_h, activation, dilation_w, dilation_h } => (
            options_type::CONV_2D,
            Some(table(fbb, &|f| {
                f.push_slot(slot(0), padding, 0);
                f.push_slot(slot(1), stride_w, 0);
                f.push_slot(slot(2), stride_h, 0);
                f.push_slot(slot(3), activation, 0);
                f.push_slot(slot(4), dilation_w, 1);
                f.push_slot(slot(5), dilation_h, 1);
            })),
        ),
        // DepthwiseConv2DOptions: 0 padding, 1 stride_w, 2 stride_h, 3 depth_multiplier,
        // 4 activation, 5 dilation_w, 6 dilation_h.
        &Options::Depthwise { padding, stride_w, stride_h, depth_multiplier, activation, dilation_w, dilation_h } => (
            options_type::DEPTHWISE_CONV_2D,
            Some(table(fbb, &|f| {
                f.push_slot(slot(0), padding, 0);
                f.push_slot(slot(1), stride_w, 0);
                f.push_slot(slot(2), stride_h, 0);
                f.push_slot(slot(3), depth_multiplier, 0);
                f.push_slot(slot(4), activation, 0);
                f.push_slot(slot(5), dilation_w, 1);
                f.push_slot(slot(6), dilation_h, 1);
            })),
        ),
        // Pool2DOptions: 0 padding, 1 stride_w, 2 stride_h, 3 filter_width, 4 filter_height, 5 activation.
        &Options::Pool { padding, stride_w, stride_h, filter_w, filter_h, activation } => (
            options_type::POOL_2D,
            Some(table(fbb, &|f| {
                f.push_slot(slot(0), padding, 0);
                f.push_slot(slot(1), stride_w, 0);
                f.push_slot(slot(2), stride_h, 0);
                f.push_slot(slot(3), filter_w, 0);
                f.push_slot(slot(4), filter_h, 0);
                f.push_slot(slot(5), activation, 0);
            })),
        ),
        // FullyConnectedOptions: 0 activation, 1 weights_format (DEFAULT), 2 keep_num_dims (false).
        &Options::FullyConnected { activation } => {
            (options_type::FULLY_CONNECTED, Some(table(fbb, &|f| f.push_slot(slot(0), activation, 0))))
        }
        // SoftmaxOptions: 0 beta.
        &Options::Softmax { beta } => (options_type::SOFTMAX, Some(table(fbb, &|f| f.push_slot(slot(0), beta, 0.0)))),
        // AddOptions: 0 activation (1 pot_scale_int16 only matters for int16).
        &Options::Add { activation } => (options_type::ADD, Some(table(fbb, &|f| f.push_slot(slot(0), activation, 0)))),
        // ReshapeOptions: 0 new_shape.
        Options::Reshape { new_shape } => {
            let shape = fbb.create_vector(new_shape);
            let start = fbb.start_table();
            fbb.push_slot_always(slot(0), shape);
            (options_type::RESHAPE, Some(fbb.end_table(start).as_union_value()))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use tinybench_kernels::activation::ReluParams;
    use tinybench_kernels::add::AddParams;
    use tinybench_kernels::conv2d::{ConvParams, Shape};
    use tinybench_kernels::depthwise::DepthwiseParams;
    use tinybench_kernels::fully_connected::FullyConnectedParams;
    use tinybench_kernels::pool::PoolParams;
    use tinybench_kernels::quant::quantize_multiplier;
    use tinybench_kernels::softmax::{FixedPointSoftmaxParams, SoftmaxShape, populate_table};

    use super::*;
    use crate::flatbuf::Table;
    use crate::graph::{Graph, Layer as GraphLayer, LayerOp, TensorInfo, Weights};
    use crate::{Flavor, Kernels, WeightFormat};

    /// Deterministic pseudo-random bytes.
    fn noise(seed: u32, n: usize) -> Vec<i8> {
        let mut x = seed.wrapping_mul(2_654_435_761).max(1);
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                (x >> 24) as u8 as i8
            })
            .collect()
    }

    /// Filter, bias and requantization of a weighted layer from its scales.
    fn weights(seed: u32, len: usize, channels: usize, si: f32, filter: &[f32], so: f32, formula: Formula) -> Weights {
        let values = noise(seed, len).iter().map(|&v| v.clamp(-127, 127)).collect();
        let bias = noise(seed + 1, channels).iter().map(|&v| i32::from(v) * 37).collect();
        let (multiplier, shift) = filter.iter().map(|&w| scales::requantization(formula, si, w, so)).unzip();
        Weights { filter: values, int4: false, bias: Some(bias), output_multiplier: multiplier, output_shift: shift }
    }

    fn tensor(shape: &[usize], scale: f32, zero_point: i32) -> TensorInfo {
        TensorInfo { name: String::new(), shape: shape.to_vec(), scale, zero_point }
    }

    fn layer(op: LayerOp, inputs: Vec<usize>, output: usize, weights: Weights) -> GraphLayer {
        GraphLayer { source_index: output - 1, op, inputs, output, weights }
    }

    /// Every layer kind the `.tbm` holds, with known scales: conv (RELU6
    /// fused), depthwise (multiplier 2), standalone RELU6, average pool, 1x1
    /// conv, ADD (RELU), max pool, RESHAPE, per-tensor single-rounding FC,
    /// per-channel double-rounding FC on a 2-D input, LiteRT softmax.
    fn every_kind() -> Graph {
        let s = [0.02f32, 0.05, 0.07, 0.04, 0.04, 0.03, 0.06, 0.06, 0.06, 0.09, 0.11, 1.0 / 256.0];
        let z = [-5, -128, 3, -128, -128, 7, -100, -100, -100, -2, 4, -128];
        let shapes: [&[usize]; 12] = [
            &[1, 6, 6, 3],
            &[1, 6, 6, 4],
            &[1, 4, 4, 8],
            &[1, 4, 4, 8],
            &[1, 2, 2, 8],
            &[1, 2, 2, 8],
            &[1, 2, 2, 8],
            &[1, 1, 1, 8],
            &[1, 8],
            &[1, 6],
            &[1, 5],
            &[1, 5],
        ];
        let tensors = (0..12).map(|t| tensor(shapes[t], s[t], z[t])).collect();
        let range = |kind: FusedActivation, t: usize| kind.range_int8(s[t], z[t]);
        let shape = |h, w, c| Shape { height: h, width: w, channels: c };
        let conv = |input: Shape, k: usize, out: usize, padding, si: usize, so: usize, act| ConvParams {
            batches: 1,
            input,
            filter_height: k,
            filter_width: k,
            output_channels: out,
            stride_height: 1,
            stride_width: 1,
            dilation_height: 1,
            dilation_width: 1,
            padding,
            input_offset: -z[si],
            output_offset: z[so],
            activation_min: range(act, so).0,
            activation_max: range(act, so).1,
        };
        let pool = |input: Shape, t: usize| PoolParams {
            batches: 1,
            input,
            filter_height: 2,
            filter_width: 2,
            stride_height: 2,
            stride_width: 2,
            padding: Padding::Valid,
            activation_min: range(FusedActivation::None, t).0,
            activation_max: range(FusedActivation::None, t).1,
        };
        let fc = |accum: usize, out: usize, si: usize, so: usize, rounding| FullyConnectedParams {
            batches: 1,
            accum_depth: accum,
            output_depth: out,
            input_offset: -z[si],
            filter_offset: 0,
            output_offset: z[so],
            activation_min: -128,
            activation_max: 127,
            rounding,
        };
        // Pseudo-random filter scales, as calibration gives (no small rational relations).
        let random = |seed: u32, n: usize, lo: f32| -> Vec<f32> {
            noise(seed, 3 * n)
                .chunks(3)
                .map(|b| {
                    lo * (1.0 + (b[0] as u8 as f32 * 256.0 + b[1] as u8 as f32 + b[2] as u8 as f32 / 256.0) / 65536.0)
                })
                .collect()
        };
        let (f0, f1, f4, f9) = (random(11, 4, 0.002), random(12, 8, 0.006), random(13, 8, 0.003), random(14, 5, 0.006));
        let depthwise = DepthwiseParams {
            batches: 1,
            input: shape(6, 6, 4),
            filter_height: 3,
            filter_width: 3,
            depth_multiplier: 2,
            stride_height: 1,
            stride_width: 1,
            dilation_height: 1,
            dilation_width: 1,
            padding: Padding::Valid,
            input_offset: -z[1],
            output_offset: z[2],
            activation_min: -128,
            activation_max: 127,
        };
        let layers = vec![
            layer(
                LayerOp::Conv2d(conv(shape(6, 6, 3), 3, 4, Padding::Same, 0, 1, FusedActivation::Relu6)),
                vec![0],
                1,
                weights(1, 4 * 9 * 3, 4, s[0], &f0, s[1], Formula::Double),
            ),
            layer(
                LayerOp::DepthwiseConv2d(depthwise),
                vec![1],
                2,
                weights(2, 9 * 8, 8, s[1], &f1, s[2], Formula::Double),
            ),
            layer(
                LayerOp::Relu(ReluParams::new(FusedActivation::Relu6, 128, (s[2], z[2]), (s[3], z[3]))),
                vec![2],
                3,
                Weights::default(),
            ),
            layer(LayerOp::AveragePool2d(pool(shape(4, 4, 8), 4)), vec![3], 4, Weights::default()),
            layer(
                LayerOp::Conv2d(conv(shape(2, 2, 8), 1, 8, Padding::Valid, 4, 5, FusedActivation::None)),
                vec![4],
                5,
                weights(3, 64, 8, s[4], &f4, s[5], Formula::Double),
            ),
            layer(
                LayerOp::Add(AddParams::from_scales(
                    32,
                    (s[4], z[4]),
                    (s[5], z[5]),
                    (s[6], z[6]),
                    range(FusedActivation::Relu, 6),
                )),
                vec![4, 5],
                6,
                Weights::default(),
            ),
            layer(LayerOp::MaxPool2d(pool(shape(2, 2, 8), 7)), vec![6], 7, Weights::default()),
            layer(LayerOp::Reshape { size: 8 }, vec![7], 8, Weights::default()),
            layer(
                LayerOp::FullyConnected(fc(8, 6, 8, 9, Rounding::Single)),
                vec![8],
                9,
                weights(4, 48, 6, s[8], &[0.0123], s[9], Formula::FloatProduct),
            ),
            layer(
                LayerOp::FullyConnected(fc(6, 5, 9, 10, Rounding::Double)),
                vec![9],
                10,
                weights(5, 30, 5, s[9], &f9, s[10], Formula::Double),
            ),
            layer(
                LayerOp::SoftmaxLut {
                    shape: SoftmaxShape { outer: 1, depth: 5 },
                    output_scale: s[11],
                    table: Box::new(populate_table(s[10], 1.0)),
                },
                vec![10],
                11,
                Weights::default(),
            ),
        ];
        Graph { tensors, layers, input: 0, output: 11 }
    }

    fn outputs(image: &[u8], inputs: &[Vec<i8>]) -> Vec<Vec<i8>> {
        let interp = Interpreter::new(image).unwrap();
        inputs.iter().map(|x| interp.run(Kernels::Reference, x).unwrap()).collect()
    }

    /// Exports `image`, checks the file and imports it back: the outputs match.
    fn round_trip(image: &[u8], given: &[Option<f32>], flavor: Flavor) -> (Exported, Vec<u8>) {
        let exported = export(image, Path::new("m.tbm"), given).unwrap();
        verify(&exported.bytes).unwrap();
        let back = crate::tflite::import(&exported.bytes, Path::new("m.tflite"), flavor).unwrap();
        let reimported = crate::compile(&back).unwrap();
        let n = Interpreter::new(image).unwrap().input().unwrap().len;
        let inputs: Vec<Vec<i8>> = (0..16).map(|i| noise(100 + i, n)).collect();
        assert_eq!(outputs(&reimported, &inputs), outputs(image, &inputs));
        (exported, reimported)
    }

    /// The activation scales of an exported file, by tensor index.
    fn tensor_scales(bytes: &[u8]) -> Vec<f32> {
        let subgraph = Table::root(bytes).unwrap().vector(2).unwrap().unwrap().table(0).unwrap();
        let tensors = subgraph.vector(0).unwrap().unwrap();
        (0..tensors.len())
            .map(|i| {
                tensors
                    .table(i)
                    .unwrap()
                    .table(4)
                    .unwrap()
                    .map_or(0.0, |q| q.vector(2).unwrap().unwrap().f32s().unwrap()[0])
            })
            .collect()
    }

    #[test]
    fn every_layer_kind_exports_and_imports_back() {
        let graph = every_kind();
        let image = crate::compile(&graph).unwrap();
        let inputs: Vec<Vec<i8>> = (0..16).map(|i| noise(7 + i, 108)).collect();
        let out = outputs(&image, &inputs);
        assert!(out.iter().any(|o| o != &out[0]), "a degenerate test model: {out:?}");

        // The given scales are kept exactly; everything reproduces.
        let given: Vec<Option<f32>> = graph.tensors.iter().map(|t| Some(t.scale)).collect();
        let (exported, _) = round_trip(&image, &given, Flavor::LiteRt);
        let written = tensor_scales(&exported.bytes);
        for (t, info) in graph.tensors.iter().enumerate() {
            assert_eq!(written[t], info.scale, "tensor {t}");
        }
        assert_eq!(exported.notes[0], "scales: those of the source .tflite");
        assert_eq!(
            exported.operators,
            [
                "CONV_2D",
                "DEPTHWISE_CONV_2D",
                "RELU6",
                "AVERAGE_POOL_2D",
                "CONV_2D",
                "ADD",
                "MAX_POOL_2D",
                "RESHAPE",
                "FULLY_CONNECTED",
                "RESHAPE",
                "CONV_2D",
                "RESHAPE",
                "SOFTMAX"
            ]
        );

        // Derived from the .tbm alone: other scales (this small model does not
        // pin them all), the same integer model; the softmax fixes its own.
        let (exported, _) = round_trip(&image, &[], Flavor::LiteRt);
        let written = tensor_scales(&exported.bytes);
        for t in [10, 11] {
            assert_eq!(written[t], graph.tensors[t].scale, "tensor {t} is pinned exactly");
        }
        assert!(exported.notes[0].starts_with("scales: derived"), "{:?}", exported.notes);
        assert!(
            exported
                .notes
                .iter()
                .any(|n| n.starts_with("layer 9 (FULLY_CONNECTED, double rounding) written as CONV_2D 1x1"))
        );
    }

    /// The importer's field ids, spelled out on an exported file.
    #[test]
    fn the_file_follows_the_tflite_schema() {
        let image = crate::compile(&every_kind()).unwrap();
        let bytes = export(&image, Path::new("m.tbm"), &[]).unwrap().bytes;
        assert_eq!(&bytes[4..8], b"TFL3");
        assert_eq!(bytes.len() % 16, 0);
        let model = Table::root(&bytes).unwrap();
        assert_eq!(model.u32(0, 0).unwrap(), 3); // version
        assert_eq!(model.string(3).unwrap(), Some(DESCRIPTION));
        let buffers = model.vector(4).unwrap().unwrap();
        assert!(buffers.table(0).unwrap().vector(0).unwrap().is_none(), "buffer 0 is the empty sentinel");
        let codes = model.vector(1).unwrap().unwrap();
        let code = |i| {
            let c = codes.table(i).unwrap();
            (c.i8(0, 0).unwrap(), c.i32(2, 1).unwrap(), c.i32(3, 0).unwrap())
        };
        assert_eq!(code(0), (3, 3, builtin::CONV_2D)); // deprecated code, version, code
        assert_eq!(code(1), (4, 3, builtin::DEPTHWISE_CONV_2D));
        let subgraph = model.vector(2).unwrap().unwrap().table(0).unwrap();
        assert_eq!(subgraph.vector(1).unwrap().unwrap().i32s().unwrap(), [0]);
        assert_eq!(subgraph.vector(2).unwrap().unwrap().i32s().unwrap(), [11]);
        let tensors = subgraph.vector(0).unwrap().unwrap();
        let ops = subgraph.vector(3).unwrap().unwrap();
        // The depthwise filter: [1, 3, 3, 8] int8, 8 scales along dimension 3.
        let dw = ops.table(1).unwrap();
        assert_eq!(dw.u8(3, 0).unwrap(), options_type::DEPTHWISE_CONV_2D);
        let dw_options = dw.table(4).unwrap().unwrap();
        assert_eq!(dw_options.i32(3, 0).unwrap(), 2); // depth_multiplier
        assert_eq!(dw_options.u8(0, 0).unwrap(), 1); // padding VALID
        let inputs = dw.vector(1).unwrap().unwrap().i32s().unwrap();
        let filter = tensors.table(inputs[1] as usize).unwrap();
        assert_eq!(filter.vector(0).unwrap().unwrap().i32s().unwrap(), [1, 3, 3, 8]);
        assert_eq!(filter.u8(1, 0).unwrap(), TYPE_INT8);
        let q = filter.table(4).unwrap().unwrap();
        assert_eq!(q.i32(6, 0).unwrap(), 3);
        assert_eq!(q.vector(2).unwrap().unwrap().len(), 8);
        assert_eq!(q.vector(3).unwrap().unwrap().i64s().unwrap(), [0; 8]);
        let bias = tensors.table(inputs[2] as usize).unwrap();
        assert_eq!(bias.u8(1, 0).unwrap(), TYPE_INT32);
        // The conv's fused RELU6 (activation 3) and SAME padding (0).
        let conv = ops.table(0).unwrap().table(4).unwrap().unwrap();
        assert_eq!((conv.u8(0, 0).unwrap(), conv.u8(3, 0).unwrap()), (0, 3));
        // Deterministic: the same bytes again.
        assert_eq!(export(&image, Path::new("m.tbm"), &[]).unwrap().bytes, bytes);
    }

    #[test]
    fn the_structural_check_refuses_broken_files() {
        let image = crate::compile(&every_kind()).unwrap();
        let good = export(&image, Path::new("m.tbm"), &[]).unwrap().bytes;
        let mut bad = good.clone();
        bad[4..8].copy_from_slice(b"TFL2");
        assert_eq!(verify(&bad).unwrap_err(), "no TFL3 file identifier");
        for len in [8, 64, good.len() / 2, good.len() - 1] {
            assert!(verify(&good[..len]).is_err(), "truncated to {len}");
        }
        // Byte flips anywhere: an error or a pass, never a panic.
        for at in (0..good.len()).step_by(7) {
            let mut b = good.clone();
            b[at] ^= 0x5a;
            let _ = verify(&b);
        }
    }

    #[test]
    fn a_fixed_point_softmax_round_trips_with_tflite_micro_arithmetic() {
        let (si, so) = (0.21f32, 1.0 / 256.0);
        let fc = FullyConnectedParams {
            batches: 1,
            accum_depth: 6,
            output_depth: 4,
            input_offset: 3,
            filter_offset: 0,
            output_offset: -9,
            activation_min: -128,
            activation_max: 127,
            rounding: Rounding::Double,
        };
        let graph = Graph {
            tensors: vec![tensor(&[1, 6], 0.05, -3), tensor(&[1, 4], si, -9), tensor(&[1, 4], so, -128)],
            layers: vec![
                layer(
                    LayerOp::FullyConnected(fc),
                    vec![0],
                    1,
                    weights(9, 24, 4, 0.05, &[0.004, 0.0071, 0.0033, 0.0052], si, Formula::Double),
                ),
                layer(
                    LayerOp::SoftmaxFixedPoint(FixedPointSoftmaxParams::new(
                        SoftmaxShape { outer: 1, depth: 4 },
                        si,
                        1.0,
                    )),
                    vec![1],
                    2,
                    Weights::default(),
                ),
            ],
            input: 0,
            output: 2,
        };
        let image = crate::compile(&graph).unwrap();
        let (exported, _) = round_trip(&image, &[], Flavor::TfliteMicro);
        assert!(exported.notes.iter().any(|n| n.contains("TFLite Micro's fixed-point arithmetic")));
        assert_eq!(tensor_scales(&exported.bytes)[1], si, "pinned by the softmax input multiplier");
    }

    #[test]
    fn requantized_int4_imports_are_refused_naming_the_layer() {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models/mlperf-tiny/kws/kws_ref_model.tflite");
        let image = crate::import(&std::fs::read(&path).unwrap(), &path, WeightFormat::Int4).unwrap();
        match export(&image, Path::new("kws4.tbm"), &[]) {
            Err(e @ Error::Export { layer: 0, op: "CONV_2D", .. }) => {
                let text = e.to_string();
                assert!(text.starts_with("kws4.tbm: cannot export layer 0 (CONV_2D) to TFLite"), "{text}");
                assert!(text.contains("cannot all come from float32 scales"), "{text}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn quantize_multiplier_is_what_requantization_uses() {
        // Guards the Double formula against drifting from the importer's.
        let (i, w, o) = (0.02f32, 0.0031f32, 0.05f32);
        let real = f64::from(i) * f64::from(w) / f64::from(o);
        assert_eq!(scales::requantization(Formula::Double, i, w, o), quantize_multiplier(real));
    }
}
