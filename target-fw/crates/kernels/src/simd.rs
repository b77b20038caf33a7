//! The `simd` kernels: ARMv7E-M DSP inner loops ([`crate::dsp`]) for
//! CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED; on the host the same
//! algorithm runs on the portable models of the instructions.
//!
//! - CONV_2D (and FULLY_CONNECTED with several rows) run the blocked GEMM of
//!   [`crate::gemm`]: weights and im2col columns widened once to 16-bit
//!   halves (zero point added), then 4 positions × 2 channels per register
//!   block, 8 SMLADs per 6 word loads ([`dsp::block_4x2`]). Reductions longer
//!   than [`gemm::K_MAX`] and one-row FULLY_CONNECTED keep [`Dsp`]: four input
//!   and four weight bytes per step, SXTB16 / SXTAB16 widening, two SMLADs.
//! - DEPTHWISE_CONV_2D (depth multiplier 1) has no reduction over adjacent
//!   bytes: adjacent bytes are adjacent *channels*. It loads four channels
//!   of a tap at once, widens them the same way and accumulates each channel
//!   with SMLABB / SMLATT (one 16×16 MAC each), four accumulators per step.
//!   Other depth multipliers use the `fused` scalar loop.
//!
//! int4 filters are unpacked on the stack in small chunks (conv, FC) or
//! four weights at a time (depthwise), then take the same DSP path.

use crate::KernelError;
use crate::conv2d::{self, ConvParams, ConvWeights, Shape};
use crate::depthwise::{self, DepthwiseParams};
use crate::dsp::{self, fits_half, load4, pair, sxtb16, sxtb16_ror8};
use crate::filter::Filter;
use crate::fully_connected::{self, FullyConnectedParams, FullyConnectedWeights, Rounding};
use crate::fused::{self, Epilogue, Mac, Scalar, dot_filter, tap_range};
use crate::gemm;
use crate::quant::{
    Requantizer, multiply_by_quantized_multiplier_fast, multiply_by_quantized_multiplier_single_rounding,
};
use core::ops::Range;

/// SXTAB16 + SMLAD dot products ([`dsp::dot`]); offsets that do not fit a
/// 16-bit half (never the case for TFLite int8 zero points) use [`Scalar`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Dsp;

impl Mac for Dsp {
    #[inline]
    fn dot(x: &[i8], w: &[i8], x_offset: i32, w_offset: i32, acc: i32) -> i32 {
        if fits_half(x_offset) && fits_half(w_offset) {
            dsp::dot(x, w, x_offset, w_offset, acc)
        } else {
            Scalar::dot(x, w, x_offset, w_offset, acc)
        }
    }
}

/// CONV_2D: the `fused` loop nest (taps clipped once per position) with DSP dot products.
///
/// # Errors
/// As `conv2d::reference`.
pub fn conv2d<F: Filter>(
    p: &ConvParams,
    input: &[i8],
    w: &ConvWeights<'_, F>,
    output: &mut [i8],
) -> Result<(), KernelError> {
    let k = p.filter_height * p.filter_width * p.input.channels;
    if !gemm::supports(k, p.input_offset, 0) || !Requantizer::supports(w.output_multiplier) {
        return fused::conv2d::<Dsp, F>(p, input, w, &Epilogue::NONE, output);
    }
    conv2d::check(p, input, w, output.len())?;
    let Shape { height, width, channels: depth } = p.input;
    let out = p.output_shape();
    let pad = p.padding_values();
    let per_image = out.height * out.width;
    // One column per output position: each filter row's in-image taps, a
    // contiguous run of input (NHWC) at its slots of the OHWI order.
    let column = |pos: usize, cols: &mut gemm::Columns, lane: usize| {
        let (batch, at) = (pos / per_image, pos % per_image);
        let oy = ((at / out.width) * p.stride_height) as isize - pad.height as isize;
        let ox = ((at % out.width) * p.stride_width) as isize - pad.width as isize;
        let ry = tap_range(oy, p.dilation_height, p.filter_height, height);
        let rx = tap_range(ox, p.dilation_width, p.filter_width, width);
        if ry.len() < p.filter_height || rx.len() < p.filter_width {
            cols.clear(lane);
        }
        for fy in ry {
            let row = (batch * height + (oy + (fy * p.dilation_height) as isize) as usize) * width;
            if p.dilation_width == 1 {
                let start = (row + (ox + rx.start as isize) as usize) * depth;
                let run = &input[start..start + rx.len() * depth];
                cols.put(lane, (fy * p.filter_width + rx.start) * depth, run, p.input_offset);
            } else {
                for fx in rx.clone() {
                    let start = (row + (ox + (fx * p.dilation_width) as isize) as usize) * depth;
                    cols.put(lane, (fy * p.filter_width + fx) * depth, &input[start..start + depth], p.input_offset);
                }
            }
        }
    };
    let cout = p.output_channels;
    gemm::run(k, p.batches * per_image, cout, &w.filter, 0, column, |b| store_block(b, p, w, output));
    Ok(())
}

/// Requantizes a finished register block of a CONV_2D into `output` (NHWC).
/// Kept out of line: one call per 8 outputs, and the GEMM loop around it
/// stays small.
#[inline(never)]
fn store_block(b: &gemm::Block, p: &ConvParams, w: &ConvWeights<'_, impl Filter>, output: &mut [i8]) {
    let cout = p.output_channels;
    for c in 0..b.channels {
        let q = requantizer(w, b.ch0 + c, p.output_offset, p.activation_min, p.activation_max);
        let base = b.pos0 * cout + b.ch0 + c;
        if b.positions == 4 {
            q.apply4(&[b.acc[c], b.acc[2 + c], b.acc[4 + c], b.acc[6 + c]], output, base, cout);
        } else {
            for pos in 0..b.positions {
                output[base + pos * cout] = q.apply(b.acc[2 * pos + c]);
            }
        }
    }
}

/// Channel `c`'s [`Requantizer`] for a convolution's weights.
#[inline(always)]
fn requantizer(w: &ConvWeights<'_, impl Filter>, c: usize, offset: i32, min: i32, max: i32) -> Requantizer {
    let bias = w.bias.map_or(0, |b| b[c]);
    Requantizer::new(bias, w.output_multiplier[c], w.output_shift[c], offset, min, max)
}

/// Four consecutive weights as one word (int8: one load; int4: unpacked).
#[inline(always)]
fn weights4<F: Filter>(filter: &F, at: usize) -> u32 {
    match filter.as_int8() {
        Some(w) => load4(w, at),
        None => {
            let mut b = [0i8; 4];
            filter.unpack(at, &mut b);
            load4(&b, 0)
        }
    }
}

/// Most filter taps the [`depthwise_conv2d`] channel-group path keeps widened
/// on the stack (a 3×3 filter has 9, a 10×4 one 40); larger filters use the
/// `fused` loop.
const DEPTHWISE_MAX_TAPS: usize = 64;

/// DEPTHWISE_CONV_2D (depth multiplier 1): four channels at a time with
/// SMLABB/SMLATT. Channel groups are the outer loop, so a group's weights
/// are widened once (two words per tap, even and odd channels) and its four
/// [`Requantizer`]s resolved once; every output position then costs one
/// input word load, two SXTAB16 and four MACs per tap, and the four
/// requantizations. Other depth multipliers and very large filters use the
/// `fused` scalar loop.
///
/// # Errors
/// As `depthwise::reference`.
pub fn depthwise_conv2d<F: Filter>(
    p: &DepthwiseParams,
    input: &[i8],
    w: &ConvWeights<'_, F>,
    output: &mut [i8],
) -> Result<(), KernelError> {
    let taps = p.filter_height * p.filter_width;
    if p.depth_multiplier != 1
        || !fits_half(p.input_offset)
        || taps > DEPTHWISE_MAX_TAPS
        || !Requantizer::supports(w.output_multiplier)
    {
        return fused::depthwise_conv2d(p, input, w, &Epilogue::NONE, output);
    }
    depthwise::check(p, input, w, output.len())?;
    let Shape { width, channels: depth, .. } = p.input;
    let out_shape = p.output_shape();
    let pad = p.padding_values();
    let offset = pair(p.input_offset);
    let quads = depth / 4 * 4;
    let requantizer = |c: usize| requantizer(w, c, p.output_offset, p.activation_min, p.activation_max);
    // Visits every output position with its clipped tap ranges and the
    // index of its first input pixel (tap (0, 0), possibly outside).
    fn for_each_position(
        p: &DepthwiseParams,
        out_shape: Shape,
        pad: &crate::conv2d::PaddingValues,
        mut f: impl FnMut(usize, Range<usize>, Range<usize>, isize),
    ) {
        let Shape { height, width, .. } = p.input;
        let mut out_pixel = 0;
        for batch in 0..p.batches {
            for out_y in 0..out_shape.height {
                let oy = (out_y * p.stride_height) as isize - pad.height as isize;
                let ry = tap_range(oy, p.dilation_height, p.filter_height, height);
                for out_x in 0..out_shape.width {
                    let ox = (out_x * p.stride_width) as isize - pad.width as isize;
                    let rx = tap_range(ox, p.dilation_width, p.filter_width, width);
                    let origin = ((batch * height) as isize + oy) * width as isize + ox;
                    f(out_pixel, ry.clone(), rx, origin);
                    out_pixel += 1;
                }
            }
        }
    }
    let (row_step, col_step) = (p.dilation_height * width * depth, p.dilation_width * depth);
    let mut widened = [0u32; 2 * DEPTHWISE_MAX_TAPS];
    for c in (0..quads).step_by(4) {
        for (t, pair) in widened.chunks_exact_mut(2).take(taps).enumerate() {
            let ww = weights4(&w.filter, t * depth + c);
            // Channels c, c+2 in the even word; c+1, c+3 in the odd one.
            pair[0] = sxtb16(ww);
            pair[1] = sxtb16_ror8(ww);
        }
        let q = [requantizer(c), requantizer(c + 1), requantizer(c + 2), requantizer(c + 3)];
        // Accumulators of up to four consecutive positions, requantized per
        // channel four at a time (`Requantizer::apply4`).
        let mut pending = [[0i32; 4]; 4];
        let mut first_pixel = 0;
        let mut count = 0;
        let flush = |pending: &[[i32; 4]; 4], first_pixel: usize, count: usize, output: &mut [i8]| {
            for (k, q) in q.iter().enumerate() {
                let at = first_pixel * depth + c + k;
                if count == 4 {
                    q.apply4(&[pending[0][k], pending[1][k], pending[2][k], pending[3][k]], output, at, depth);
                } else {
                    for (i, acc) in pending.iter().take(count).enumerate() {
                        output[at + i * depth] = q.apply(acc[k]);
                    }
                }
            }
        };
        for_each_position(p, out_shape, &pad, |out_pixel, ry, rx, origin| {
            let mut acc = [0i32; 4];
            let base = origin * depth as isize + c as isize;
            for fy in ry {
                // In the image: fy and rx are within the clipped tap ranges.
                let start = (base + (fy * row_step + rx.start * col_step) as isize) as usize;
                let t = fy * p.filter_width + rx.start;
                dsp::depthwise_row(&mut acc, input, start, col_step, rx.len(), &widened[2 * t..], offset);
            }
            if count == 0 {
                first_pixel = out_pixel;
            }
            pending[count] = acc;
            count += 1;
            if count == 4 {
                flush(&pending, first_pixel, count, output);
                count = 0;
            }
        });
        if count > 0 {
            flush(&pending, first_pixel, count, output);
        }
    }
    for c in quads..depth {
        let q = requantizer(c);
        for_each_position(p, out_shape, &pad, |out_pixel, ry, rx, origin| {
            let mut acc = 0i32;
            let base = origin * depth as isize + c as isize;
            for fy in ry {
                for fx in rx.clone() {
                    let at = (base + (fy * row_step + fx * col_step) as isize) as usize;
                    let (x, wv) = (input[at], w.filter.at((fy * p.filter_width + fx) * depth + c));
                    acc = acc.wrapping_add(i32::from(wv) * (i32::from(x) + p.input_offset));
                }
            }
            output[out_pixel * depth + c] = q.apply(acc);
        });
    }
    Ok(())
}

/// FULLY_CONNECTED: one DSP dot product per output.
///
/// # Errors
/// As `fully_connected::reference`.
pub fn fully_connected<F: Filter>(
    p: &FullyConnectedParams,
    input: &[i8],
    w: &FullyConnectedWeights<'_, F>,
    output: &mut [i8],
) -> Result<(), KernelError> {
    let per_channel = fully_connected::check(p, input, w, output.len())?;
    let (depth, accum_depth) = (p.output_depth, p.accum_depth);
    let finish = |acc: i32, out_c: usize| {
        let acc = match w.bias {
            Some(bias) => acc.wrapping_add(bias[out_c]),
            None => acc,
        };
        let q = if per_channel { out_c } else { 0 };
        let (m, shift) = (w.output_multiplier[q], w.output_shift[q]);
        let scaled = match p.rounding {
            Rounding::Double => multiply_by_quantized_multiplier_fast(acc, m, shift),
            Rounding::Single => multiply_by_quantized_multiplier_single_rounding(acc, m, shift),
        };
        scaled.wrapping_add(p.output_offset).clamp(p.activation_min, p.activation_max) as i8
    };
    // Several rows: the blocked GEMM (batches are its positions); one row
    // would fill a quarter of its register block, so it keeps the dot products.
    if p.batches > 1 && gemm::supports(accum_depth, p.input_offset, p.filter_offset) {
        let column = |batch: usize, cols: &mut gemm::Columns, lane: usize| {
            cols.put(lane, 0, &input[batch * accum_depth..(batch + 1) * accum_depth], p.input_offset);
        };
        gemm::run(accum_depth, p.batches, depth, &w.filter, p.filter_offset, column, |b| {
            for pos in 0..b.positions {
                for c in 0..b.channels {
                    output[(b.pos0 + pos) * depth + b.ch0 + c] = finish(b.acc[2 * pos + c], b.ch0 + c);
                }
            }
        });
        return Ok(());
    }
    for batch in 0..p.batches {
        let row = &input[batch * accum_depth..(batch + 1) * accum_depth];
        for out_c in 0..depth {
            let acc = dot_filter::<Dsp, F>(row, &w.filter, out_c * accum_depth, p.input_offset, p.filter_offset, 0);
            output[batch * depth + out_c] = finish(acc, out_c);
        }
    }
    Ok(())
}
