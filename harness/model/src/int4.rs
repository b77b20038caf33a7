//! int4 weights: requantizes an imported int8 graph's CONV_2D,
//! DEPTHWISE_CONV_2D and FULLY_CONNECTED filters to 4 bits, per output
//! channel. A lossy variant: it is benchmarked for speed and size, and its
//! accuracy is whatever 4-bit weights give (no LiteRT reference exists).
//!
//! For output channel `c` with int8 weights `w` (real value `s_c · w`) and
//! `m = max |w|`:
//!
//! - new weight scale `s'_c = s_c · m / 7`, i.e. the largest weight maps to ±7;
//! - weights `q = round(7 · w / m)`, halves away from zero (`f64::round`),
//!   always within `-7..=7` (symmetric; `-8` is never used);
//! - bias (int32 in scale `s_in · s_c`) `b' = round(7 · b / m)`, same
//!   rounding, saturated to `i32`;
//! - output multiplier `M' = M · m / 7`, where `M = multiplier · 2^(shift − 31)`
//!   is the stored Q0.31 pair, re-split with TFLite's `QuantizeMultiplier`
//!   (a per-tensor FULLY_CONNECTED multiplier becomes per-channel).
//!
//! A channel whose weights are all zero stays as it is. The filter keeps
//! its layout; the `.tbm` writer packs it (low nibble first).

use std::path::Path;

use tinybench_kernels::quant::quantize_multiplier;

use crate::Error;
use crate::graph::{Graph, LayerOp};

/// Which filter elements belong to output channel `c`.
enum Channels {
    /// `count` contiguous rows (CONV_2D OHWI, FULLY_CONNECTED `[out, in]`).
    Rows { count: usize },
    /// Interleaved: element `i` belongs to channel `i % count` (DEPTHWISE 1HWC).
    Interleaved { count: usize },
}

fn round_saturating(x: f64) -> i32 {
    x.round().clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32
}

/// The graph with every weighted layer's filter requantized to int4 (see
/// the module docs); other layers are unchanged.
///
/// # Errors
/// [`Error::Unsupported`] (naming `path`) for an asymmetric FULLY_CONNECTED
/// filter (non-zero filter offset), which 4-bit symmetric weights cannot represent.
pub fn to_int4(graph: &Graph, path: &Path) -> Result<Graph, Error> {
    let mut out = graph.clone();
    for layer in &mut out.layers {
        let channels = match &layer.op {
            LayerOp::Conv2d(p) => Channels::Rows { count: p.output_channels },
            LayerOp::DepthwiseConv2d(p) => Channels::Interleaved { count: p.output_channels() },
            LayerOp::FullyConnected(p) => {
                if p.filter_offset != 0 {
                    return Err(Error::Unsupported {
                        path: path.to_path_buf(),
                        index: layer.source_index,
                        op: "FULLY_CONNECTED",
                        detail: "int4 weights need a symmetric filter (zero point 0)".into(),
                    });
                }
                Channels::Rows { count: p.output_depth }
            }
            _ => continue,
        };
        let w = &mut layer.weights;
        let count = match channels {
            Channels::Rows { count } | Channels::Interleaved { count } => count,
        };
        if w.output_multiplier.len() == 1 && count > 1 {
            w.output_multiplier = vec![w.output_multiplier[0]; count];
            w.output_shift = vec![w.output_shift[0]; count];
        }
        let channel_of = |i: usize| match channels {
            Channels::Rows { count } => i / (w.filter.len() / count).max(1),
            Channels::Interleaved { count } => i % count,
        };
        let mut max_abs = vec![0i32; count];
        for (i, &v) in w.filter.iter().enumerate() {
            let c = channel_of(i);
            max_abs[c] = max_abs[c].max(i32::from(v).abs());
        }
        let quantized: Vec<i8> = w
            .filter
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                let m = max_abs[channel_of(i)];
                if m == 0 { 0 } else { (7.0 * f64::from(v) / f64::from(m)).round() as i8 }
            })
            .collect();
        w.filter = quantized;
        w.int4 = true;
        for (c, &m) in max_abs.iter().enumerate() {
            if m == 0 {
                continue;
            }
            let ratio = f64::from(m) / 7.0;
            if let Some(bias) = &mut w.bias {
                bias[c] = round_saturating(f64::from(bias[c]) / ratio);
            }
            let real = f64::from(w.output_multiplier[c]) * 2f64.powi(w.output_shift[c] - 31);
            let (multiplier, shift) = quantize_multiplier(real * ratio);
            w.output_multiplier[c] = multiplier;
            w.output_shift[c] = shift;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use tinybench_kernels::fully_connected::{FullyConnectedParams, Rounding};

    use super::*;
    use crate::graph::{Layer, TensorInfo, Weights};

    #[test]
    fn per_channel_requantization_is_as_documented() {
        let tensor = |shape: Vec<usize>| TensorInfo { name: String::new(), shape, scale: 1.0, zero_point: 0 };
        let graph = Graph {
            tensors: vec![tensor(vec![1, 4]), tensor(vec![1, 2])],
            layers: vec![Layer {
                source_index: 0,
                op: LayerOp::FullyConnected(FullyConnectedParams {
                    batches: 1,
                    accum_depth: 4,
                    output_depth: 2,
                    input_offset: 0,
                    filter_offset: 0,
                    output_offset: 0,
                    activation_min: -128,
                    activation_max: 127,
                    rounding: Rounding::Single,
                }),
                inputs: vec![0],
                output: 1,
                weights: Weights {
                    // Row 0: max 14 -> 7·w/14 = w/2: 14 -> 7, -7 -> -3.5 -> -4 (away from zero), 1 -> 0.5 -> 1, 0.
                    // Row 1: all zero: unchanged.
                    filter: vec![14, -7, 1, 0, 0, 0, 0, 0],
                    int4: false,
                    bias: Some(vec![9, 5]),
                    output_multiplier: vec![1 << 30], // 0.5, per tensor
                    output_shift: vec![0],
                },
            }],
            input: 0,
            output: 1,
        };
        let w = &to_int4(&graph, Path::new("test.tflite")).unwrap().layers[0].weights;
        assert!(w.int4);
        assert_eq!(w.filter, [7, -4, 1, 0, 0, 0, 0, 0]);
        // Bias 9 / 2 = 4.5 -> 5; channel 1 keeps 5.
        assert_eq!(w.bias.as_deref(), Some(&[5, 5][..]));
        // Multiplier 0.5 · 2 = 1.0 = 2^30 with shift 1; channel 1 keeps 0.5, now per channel.
        assert_eq!(w.output_multiplier, [1 << 30, 1 << 30]);
        assert_eq!(w.output_shift, [1, 0]);
    }
}
