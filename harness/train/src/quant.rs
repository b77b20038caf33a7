//! Post-training quantization to a `tinybench_model::Graph`, TFLite
//! conventions throughout:
//!
//! - input: int8 = pixel − 128 (scale 1/255, zero point −128) for every variant;
//! - weights: per output channel, symmetric, zero point 0, scale
//!   `max|w| / (2^(bits-1) - 1)` (127 for int8, 7 for int4);
//! - activations: per tensor, asymmetric, from the min/max over the
//!   calibration digits (range widened to include 0), `scale = (max - min) / 255`;
//!   max and average pools keep their input's parameters (TFLite requires it);
//! - bias: int32 with scale `input_scale * weight_scale[c]`; requantization
//!   multipliers and shifts from `quantize_multiplier(input_scale * weight_scale[c] / output_scale)`;
//!   ReLU folded into the activation range (`CalculateActivationRangeQuantized`).
//!
//! int4 weights are the values −7..=7, stored packed two a byte (`.tbm` v2
//! int4 layers, `Weights::int4`).

use candle_core::Tensor;
use tinybench_kernels::conv2d::{ConvParams, Padding, Shape};
use tinybench_kernels::fully_connected::{FullyConnectedParams, Rounding};
use tinybench_kernels::pool::PoolParams;
use tinybench_kernels::quant::quantize_multiplier;
use tinybench_model::graph::{Graph, Layer as GraphLayer, LayerOp, TensorInfo, Weights};

use crate::Error;
use crate::data::{self, Digits};
use crate::net::{self, K, Layer, Params};
use crate::rng::Rng;

/// Scale of the model input: one pixel step.
pub const INPUT_SCALE: f32 = 1.0 / 255.0;
/// Zero point of the model input: pixel 0 is −128.
pub const INPUT_ZERO_POINT: i32 = -128;

/// Per-tensor affine quantization.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QParams {
    pub scale: f32,
    pub zero_point: i32,
}

impl QParams {
    /// TFLite's asymmetric int8 parameters for the real range `[min, max]`
    /// (widened to include 0).
    pub fn from_range(min: f32, max: f32) -> QParams {
        let (min, max) = (min.min(0.0), max.max(0.0));
        let scale = if max > min { (max - min) / 255.0 } else { 1.0 };
        let zero_point = (-128.0 - min / scale).round().clamp(-128.0, 127.0) as i32;
        QParams { scale, zero_point }
    }
}

/// Symmetric per-channel weights: values in `±levels` and one scale per output channel.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantWeights {
    pub values: Vec<i8>,
    pub scales: Vec<f32>,
}

/// Quantizes `layer`'s weights per output channel to `bits` (2..=8).
pub fn quantize_weights(layer: &Layer, bits: u32) -> QuantWeights {
    let levels = ((1i32 << (bits - 1)) - 1) as f32;
    let mut values = Vec::with_capacity(layer.weight.len());
    let mut scales = Vec::with_capacity(layer.out_channels());
    for o in 0..layer.out_channels() {
        let f = layer.filter(o);
        let max = f.iter().fold(0f32, |m, w| m.max(w.abs()));
        // An all-zero channel gets scale 1 (any scale represents it exactly).
        let scale = if max > 0.0 { max / levels } else { 1.0 };
        values.extend(f.iter().map(|&w| (w / scale).round().clamp(-levels, levels) as i8));
        scales.push(scale);
    }
    QuantWeights { values, scales }
}

/// `params` with every weight replaced by its `bits` quantized value (dequantized).
pub fn fake_quantized(params: &Params, bits: u32) -> Params {
    let mut p = params.clone();
    for l in p.convs.iter_mut().chain(std::iter::once(&mut p.fc)) {
        let q = quantize_weights(l, bits);
        let fan_in = l.fan_in();
        for (i, w) in l.weight.iter_mut().enumerate() {
            *w = f32::from(q.values[i]) * q.scales[i / fan_in];
        }
    }
    p
}

/// Activation ranges at conv1, conv2, conv3 (after ReLU), the last max pool and
/// the logits, over `digits` (no augmentation).
///
/// # Errors
/// [`Error::Candle`].
pub fn calibrate(params: &Params, digits: &Digits) -> Result<[QParams; 5], Error> {
    let mut ranges = [(f32::MAX, f32::MIN); 5];
    let indices: Vec<usize> = (0..digits.len()).collect();
    for chunk in indices.chunks(500) {
        let x = net::images_tensor(data::batch_f32(digits, chunk, 0, &mut Rng::new(0)))?;
        let acts = net::activations(params, &x)?;
        for (r, t) in ranges.iter_mut().zip(acts.iter()) {
            let flat: &Tensor = &t.flatten_all()?;
            let min: f32 = flat.min(0)?.to_scalar()?;
            let max: f32 = flat.max(0)?.to_scalar()?;
            *r = (r.0.min(min), r.1.max(max));
        }
    }
    Ok(ranges.map(|(min, max)| QParams::from_range(min, max)))
}

/// OIHW → OHWI (TFLite's CONV_2D filter layout).
fn ohwi(values: &[i8], shape: &[usize]) -> Vec<i8> {
    let (o, i, h, w) = (shape[0], shape[1], shape[2], shape[3]);
    let mut out = vec![0i8; values.len()];
    for oo in 0..o {
        for ii in 0..i {
            for hh in 0..h {
                for ww in 0..w {
                    out[((oo * h + hh) * w + ww) * i + ii] = values[((oo * i + ii) * h + hh) * w + ww];
                }
            }
        }
    }
    out
}

/// Bias, multipliers and shifts of a layer from `input`, its weight scales and `output`.
fn requantization(layer: &Layer, q: &QuantWeights, input: QParams, output: QParams) -> Weights {
    let mut w = Weights { bias: Some(Vec::new()), ..Weights::default() };
    for (o, &ws) in q.scales.iter().enumerate() {
        let bias_scale = f64::from(input.scale) * f64::from(ws);
        let b = (f64::from(layer.bias[o]) / bias_scale).round().clamp(f64::from(i32::MIN), f64::from(i32::MAX));
        w.bias.as_mut().expect("set above").push(b as i32);
        let (m, s) = quantize_multiplier(bias_scale / f64::from(output.scale));
        w.output_multiplier.push(m);
        w.output_shift.push(s);
    }
    w
}

/// The quantized graph: conv1 → max pool → conv2 → max pool → conv3 → max
/// pool → fully connected over the flattened 3×3×c3 map (int8 logits; the
/// prediction is their argmax).
/// `ranges` come from [`calibrate`] on the weights as quantized.
pub fn graph(params: &Params, bits: u32, ranges: &[QParams; 5]) -> Graph {
    let input_q = QParams { scale: INPUT_SCALE, zero_point: INPUT_ZERO_POINT };
    let mut tensors = Vec::new();
    let mut tensor = |name: &str, shape: Vec<usize>, q: QParams| {
        tensors.push(TensorInfo { name: name.into(), shape, scale: q.scale, zero_point: q.zero_point });
        tensors.len() - 1
    };
    let mut layers = Vec::new();
    let mut current = tensor("input", vec![1, 28, 28, 1], input_q);
    let mut current_q = input_q;
    let mut side = 28;
    for (i, conv) in params.convs.iter().enumerate() {
        let out_q = ranges[i];
        let (cin, cout) = (conv.in_channels(), conv.out_channels());
        let q = quantize_weights(conv, bits);
        let mut weights = requantization(conv, &q, current_q, out_q);
        weights.filter = ohwi(&q.values, &conv.shape);
        weights.int4 = bits == 4;
        let out = tensor(&format!("conv{}", i + 1), vec![1, side, side, cout], out_q);
        layers.push(GraphLayer {
            source_index: layers.len(),
            op: LayerOp::Conv2d(ConvParams {
                batches: 1,
                input: Shape { height: side, width: side, channels: cin },
                filter_height: K,
                filter_width: K,
                output_channels: cout,
                stride_height: 1,
                stride_width: 1,
                dilation_height: 1,
                dilation_width: 1,
                padding: Padding::Same,
                input_offset: -current_q.zero_point,
                output_offset: out_q.zero_point,
                // ReLU: from the real 0 up.
                activation_min: out_q.zero_point.max(-128),
                activation_max: 127,
            }),
            inputs: vec![current],
            output: out,
            weights,
        });
        current = out;
        current_q = out_q;
        // 2×2 max pool, VALID: 28 → 14 → 7 → 3 (the last row and column of the 7×7 map drop out).
        let next_side = side / 2;
        let pool = PoolParams {
            batches: 1,
            input: Shape { height: side, width: side, channels: cout },
            filter_height: 2,
            filter_width: 2,
            stride_height: 2,
            stride_width: 2,
            padding: Padding::Valid,
            activation_min: -128,
            activation_max: 127,
        };
        let out = tensor(&format!("pool{}", i + 1), vec![1, next_side, next_side, cout], out_q);
        layers.push(GraphLayer {
            source_index: layers.len(),
            op: LayerOp::MaxPool2d(pool),
            inputs: vec![current],
            output: out,
            weights: Weights::default(),
        });
        current = out;
        side = next_side;
    }
    // The pool's output carries conv3's parameters (TFLite: same in and out).
    // The dense layer reads the [1, 3, 3, c3] map flat (NHWC order): its
    // [10, c3, 3, 3] weights go to [10, 3, 3, c3], the OHWI move of a convolution.
    let fc = &params.fc;
    let out_q = ranges[4];
    let q = quantize_weights(fc, bits);
    let mut weights = requantization(fc, &q, current_q, out_q);
    weights.filter = ohwi(&q.values, &fc.shape);
    weights.int4 = bits == 4;
    let logits = tensor("logits", vec![1, fc.out_channels()], out_q);
    layers.push(GraphLayer {
        source_index: layers.len(),
        op: LayerOp::FullyConnected(FullyConnectedParams {
            batches: 1,
            accum_depth: fc.fan_in(),
            output_depth: fc.out_channels(),
            input_offset: -current_q.zero_point,
            filter_offset: 0,
            output_offset: out_q.zero_point,
            activation_min: -128,
            activation_max: 127,
            rounding: Rounding::Double,
        }),
        inputs: vec![current],
        output: logits,
        weights,
    });
    Graph { tensors, layers, input: 0, output: logits }
}

/// Quantizes `params` to `bits`-bit weights, calibrated on `calibration`.
///
/// # Errors
/// [`Error::Candle`].
pub fn quantize(params: &Params, bits: u32, calibration: &Digits) -> Result<Graph, Error> {
    let ranges = calibrate(&fake_quantized(params, bits), calibration)?;
    Ok(graph(params, bits, &ranges))
}

/// Weight bytes of `graph` with one byte a filter weight: filters, then bias,
/// multipliers and shifts four bytes per output channel.
pub fn weight_bytes(graph: &Graph) -> usize {
    graph
        .layers
        .iter()
        .map(|l| {
            let w = &l.weights;
            w.filter.len()
                + 4 * (w.bias.as_ref().map_or(0, Vec::len) + w.output_multiplier.len() + w.output_shift.len())
        })
        .sum()
}

/// As [`weight_bytes`] with `bits`-bit filters packed (`ceil(n * bits / 8)`
/// bytes per layer): what the `.tbm` file holds.
pub fn packed_weight_bytes(graph: &Graph, bits: u32) -> usize {
    weight_bytes(graph)
        - graph
            .layers
            .iter()
            .map(|l| l.weights.filter.len() - (l.weights.filter.len() * bits as usize).div_ceil(8))
            .sum::<usize>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asymmetric_parameters_follow_tflite() {
        let q = QParams::from_range(0.0, 2.55);
        assert!((q.scale - 0.01).abs() < 1e-7);
        assert_eq!(q.zero_point, -128);
        let q = QParams::from_range(-1.0, 1.0);
        assert_eq!(q.zero_point, -1); // -128 + 127.5 = -0.5, rounded away from zero
    }

    #[test]
    fn weights_are_symmetric_per_channel() {
        let l = Layer { shape: vec![2, 1, 1, 2], weight: vec![0.5, -0.26, 0.0, 0.0], bias: vec![0.0; 2] };
        let q8 = quantize_weights(&l, 8);
        assert_eq!(q8.values, [127, -66, 0, 0]);
        assert_eq!(q8.scales[1], 1.0);
        let q4 = quantize_weights(&l, 4);
        assert_eq!(q4.values, [7, -4, 0, 0]);
    }

    #[test]
    fn ohwi_moves_input_channels_last() {
        // O=1, I=2, H=1, W=2: [i0w0, i0w1, i1w0, i1w1] -> [w0i0, w0i1, w1i0, w1i1]
        assert_eq!(ohwi(&[1, 2, 3, 4], &[1, 2, 1, 2]), [1, 3, 2, 4]);
    }

    #[test]
    fn weight_bytes_formula() {
        // [8, 16, 32]: 8712 int8 weights + 66 channels × (bias + multiplier + shift).
        let p = Params::init([8, 16, 32], 3);
        let ranges = [QParams { scale: 0.05, zero_point: -128 }; 5];
        let g8 = graph(&p, 8, &ranges);
        assert_eq!(weight_bytes(&g8), 8712 + 66 * 12);
        assert_eq!(packed_weight_bytes(&g8, 4), (72 / 2 + 1152 / 2 + 4608 / 2 + 2880 / 2) + 66 * 12);
        let image = tinybench_model::compile(&g8).unwrap();
        let interp = tinybench_model::Interpreter::new(&image).unwrap();
        let model = interp.model().unwrap();
        let tbm_bytes: usize = (0..model.layer_count()).map(|i| model.entry(i).unwrap().weight_bytes()).sum();
        assert_eq!(tbm_bytes, weight_bytes(&g8));
    }
}
