//! The `fused` kernels: a convolution computes each output value (taps,
//! bias, requantization, fused activation clamp) in registers and hands it
//! to an [`Epilogue`] — an optional standalone RELU and an optional
//! AVERAGE/MAX_POOL_2D over the convolution's output — so a whole layer
//! group runs in one pass with no intermediate tensor in memory.
//!
//! Results equal the unfused `reference` chain bit for bit: every value is
//! computed by the same integer arithmetic, only the loop order differs.
//! With a pool, each output value of the pool reads its window's convolution
//! values as it needs them, channel by channel; overlapping windows
//! (stride < window) recompute the shared ones (no buffer), non-overlapping
//! ones (the usual case, KWS's global average pool) compute each once.
//!
//! The tap loops clip the filter to the image once per output position (the
//! reference tests every tap) and hand contiguous runs of taps to a [`Mac`]
//! strategy: [`Scalar`] here, the DSP one in [`crate::simd`].

use core::ops::Range;

use crate::KernelError;
use crate::activation::{ReluParams, relu_one};
use crate::conv2d::{self, ConvParams, ConvWeights, Shape, check_len, invalid_params};
use crate::depthwise::{self, DepthwiseParams};
use crate::filter::Filter;
use crate::pool::PoolParams;
use crate::quant::multiply_by_quantized_multiplier;

/// Which pool follows the convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PoolKind {
    Average,
    Max,
}

/// A pool over the convolution's output (`params.input` is that output's shape).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FusedPool {
    pub kind: PoolKind,
    pub params: PoolParams,
}

/// What runs on each convolution output value before it is stored: a
/// standalone RELU, then a pool. `Epilogue::NONE` stores the value as is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Epilogue {
    pub relu: Option<ReluParams>,
    pub pool: Option<FusedPool>,
}

impl Epilogue {
    pub const NONE: Epilogue = Epilogue { relu: None, pool: None };

    /// Elements the group writes, for a convolution with `batches` images of `shape`.
    pub const fn output_len(&self, batches: usize, shape: Shape) -> usize {
        match &self.pool {
            Some(pool) => pool.params.output_len(),
            None => batches * shape.len(),
        }
    }

    /// The checks the unfused chain would make (RELU, then pool), in that
    /// order, against a convolution output of `batches` × `shape`.
    fn check(&self, batches: usize, shape: Shape, output: &[i8]) -> Result<(), KernelError> {
        if let Some(relu) = &self.relu {
            relu.validate()?;
            check_len("input", relu.size, batches * shape.len())?;
        }
        if let Some(pool) = &self.pool {
            pool.params.validate()?;
            if pool.params.batches != batches || pool.params.input != shape {
                return invalid_params("fused pool input is not the convolution output");
            }
        }
        check_len("output", self.output_len(batches, shape), output.len())
    }
}

/// How a run of taps is multiply-accumulated: `acc + Σ (x + x_offset)·(w + w_offset)`
/// over equal-length slices, wrapping in 32 bits.
pub trait Mac {
    fn dot(x: &[i8], w: &[i8], x_offset: i32, w_offset: i32, acc: i32) -> i32;
}

/// Plain loops (the `fused` set).
#[derive(Debug, Clone, Copy, Default)]
pub struct Scalar;

impl Mac for Scalar {
    #[inline]
    fn dot(x: &[i8], w: &[i8], x_offset: i32, w_offset: i32, mut acc: i32) -> i32 {
        for (&x, &w) in x.iter().zip(w) {
            acc = acc.wrapping_add((i32::from(w) + w_offset) * (i32::from(x) + x_offset));
        }
        acc
    }
}

/// Weights unpacked per step when a filter is not int8 in memory (int4).
const UNPACK_CHUNK: usize = 64;

/// [`Mac::dot`] over weights `start..start + x.len()` of any [`Filter`]:
/// int8 filters are borrowed, int4 ones unpacked in chunks on the stack.
#[inline]
pub fn dot_filter<M: Mac, F: Filter>(
    x: &[i8],
    filter: &F,
    start: usize,
    x_offset: i32,
    w_offset: i32,
    acc: i32,
) -> i32 {
    if let Some(w) = filter.as_int8() {
        return M::dot(x, &w[start..start + x.len()], x_offset, w_offset, acc);
    }
    let mut acc = acc;
    let mut buf = [0i8; UNPACK_CHUNK];
    for (k, xs) in x.chunks(UNPACK_CHUNK).enumerate() {
        let w = &mut buf[..xs.len()];
        filter.unpack(start + k * UNPACK_CHUNK, w);
        acc = M::dot(xs, w, x_offset, w_offset, acc);
    }
    acc
}

/// Filter taps `0..filter` whose input coordinate `origin + tap·dilation`
/// falls inside `0..image`.
#[inline]
pub(crate) fn tap_range(origin: isize, dilation: usize, filter: usize, image: usize) -> Range<usize> {
    if dilation == 1 {
        // The common case, without the divisions.
        let start = if origin < 0 { origin.unsigned_abs() } else { 0 };
        let end = (image as isize - origin).clamp(0, filter as isize) as usize;
        return start.min(end)..end;
    }
    let start = if origin < 0 { origin.unsigned_abs().div_ceil(dilation) } else { 0 };
    let limit = image as isize - origin;
    let end = if limit <= 0 { 0 } else { (limit as usize).div_ceil(dilation).min(filter) };
    start.min(end)..end
}

/// Bias, requantization, output offset and clamp of one accumulator.
#[inline]
pub(crate) fn requantize(
    acc: i32,
    channel: usize,
    w: &ConvWeights<'_, impl Filter>,
    offset: i32,
    min: i32,
    max: i32,
) -> i8 {
    let acc = match w.bias {
        Some(bias) => acc.wrapping_add(bias[channel]),
        None => acc,
    };
    let scaled = multiply_by_quantized_multiplier(acc, w.output_multiplier[channel], w.output_shift[channel]);
    scaled.wrapping_add(offset).clamp(min, max) as i8
}

/// A convolution seen as "the value at (batch, y, x, channel)" for the epilogue driver.
trait Head {
    fn shape(&self) -> Shape;
    fn batches(&self) -> usize;
    /// Every channel of one output position into `out` (`shape().channels` long).
    fn pixel(&self, batch: usize, y: usize, x: usize, out: &mut [i8]);
    /// One output value.
    fn value(&self, batch: usize, y: usize, x: usize, channel: usize) -> i8;
}

/// Runs `head` through `epilogue` into `output` (all checks done).
fn drive(head: &impl Head, epilogue: &Epilogue, output: &mut [i8]) -> Result<(), KernelError> {
    let shape = head.shape();
    let relu = |v: i8| match &epilogue.relu {
        Some(r) => relu_one(r, v),
        None => v,
    };
    let Some(pool) = &epilogue.pool else {
        let mut pixels = output.chunks_exact_mut(shape.channels);
        for batch in 0..head.batches() {
            for y in 0..shape.height {
                for x in 0..shape.width {
                    // The output length was checked: one chunk per position.
                    let Some(out) = pixels.next() else { return Ok(()) };
                    head.pixel(batch, y, x, out);
                    if epilogue.relu.is_some() {
                        for v in out.iter_mut() {
                            *v = relu(*v);
                        }
                    }
                }
            }
        }
        return Ok(());
    };
    let p = &pool.params;
    let out_shape = p.output_shape();
    let pad = p.padding_values();
    let mut out_index = 0;
    for batch in 0..head.batches() {
        for out_y in 0..out_shape.height {
            let origin_y = (out_y * p.stride_height) as isize - pad.height as isize;
            let ys = tap_range(origin_y, 1, p.filter_height, shape.height);
            for out_x in 0..out_shape.width {
                let origin_x = (out_x * p.stride_width) as isize - pad.width as isize;
                let xs = tap_range(origin_x, 1, p.filter_width, shape.width);
                for channel in 0..shape.channels {
                    let window = ys.clone().flat_map(|fy| {
                        let y = (origin_y + fy as isize) as usize;
                        xs.clone().map(move |fx| (y, (origin_x + fx as isize) as usize))
                    });
                    let v = match pool.kind {
                        PoolKind::Max => {
                            window.map(|(y, x)| relu(head.value(batch, y, x, channel))).fold(i8::MIN, i8::max).into()
                        }
                        PoolKind::Average => {
                            let (mut sum, mut count) = (0i32, 0i32);
                            for (y, x) in window {
                                sum += i32::from(relu(head.value(batch, y, x, channel)));
                                count += 1;
                            }
                            if count == 0 {
                                return Err(KernelError::InvalidParams {
                                    what: "pooling window entirely in the padding",
                                });
                            }
                            // As `pool::average_reference`: round half away from zero.
                            if sum > 0 { (sum + count / 2) / count } else { (sum - count / 2) / count }
                        }
                    };
                    output[out_index] = v.clamp(p.activation_min, p.activation_max) as i8;
                    out_index += 1;
                }
            }
        }
    }
    Ok(())
}

struct Conv<'a, 'w, M, F> {
    p: &'a ConvParams,
    input: &'a [i8],
    w: &'a ConvWeights<'w, F>,
    shape: Shape,
    pad: conv2d::PaddingValues,
    mac: core::marker::PhantomData<M>,
}

impl<M: Mac, F: Filter> Conv<'_, '_, M, F> {
    /// Clipped tap ranges and input origin of one output position.
    #[inline]
    fn window(&self, y: usize, x: usize) -> (isize, isize, Range<usize>, Range<usize>) {
        let p = self.p;
        let oy = (y * p.stride_height) as isize - self.pad.height as isize;
        let ox = (x * p.stride_width) as isize - self.pad.width as isize;
        let ry = tap_range(oy, p.dilation_height, p.filter_height, p.input.height);
        let rx = tap_range(ox, p.dilation_width, p.filter_width, p.input.width);
        (oy, ox, ry, rx)
    }

    #[inline]
    fn acc(&self, batch: usize, (oy, ox, ry, rx): &(isize, isize, Range<usize>, Range<usize>), channel: usize) -> i32 {
        let p = self.p;
        let Shape { height, width, channels: depth } = p.input;
        let mut acc = 0i32;
        for fy in ry.clone() {
            let in_y = (oy + (fy * p.dilation_height) as isize) as usize;
            let row = (batch * height + in_y) * width;
            let filter_row = (channel * p.filter_height + fy) * p.filter_width;
            if p.dilation_width == 1 {
                // The in-image taps of a filter row are one contiguous run in
                // both the NHWC input and the OHWI filter.
                let in_x = (ox + rx.start as isize) as usize;
                let start = (row + in_x) * depth;
                let run = &self.input[start..start + rx.len() * depth];
                acc = dot_filter::<M, F>(run, &self.w.filter, (filter_row + rx.start) * depth, p.input_offset, 0, acc);
            } else {
                for fx in rx.clone() {
                    let in_x = (ox + (fx * p.dilation_width) as isize) as usize;
                    let start = (row + in_x) * depth;
                    let run = &self.input[start..start + depth];
                    acc = dot_filter::<M, F>(run, &self.w.filter, (filter_row + fx) * depth, p.input_offset, 0, acc);
                }
            }
        }
        acc
    }

    #[inline]
    fn finish(&self, acc: i32, channel: usize) -> i8 {
        let p = self.p;
        requantize(acc, channel, self.w, p.output_offset, p.activation_min, p.activation_max)
    }
}

impl<M: Mac, F: Filter> Head for Conv<'_, '_, M, F> {
    fn shape(&self) -> Shape {
        self.shape
    }

    fn batches(&self) -> usize {
        self.p.batches
    }

    fn pixel(&self, batch: usize, y: usize, x: usize, out: &mut [i8]) {
        let window = self.window(y, x);
        for (channel, o) in out.iter_mut().enumerate() {
            *o = self.finish(self.acc(batch, &window, channel), channel);
        }
    }

    fn value(&self, batch: usize, y: usize, x: usize, channel: usize) -> i8 {
        let window = self.window(y, x);
        self.finish(self.acc(batch, &window, channel), channel)
    }
}

/// CONV_2D with an epilogue, one pass. `M` multiply-accumulates the tap runs.
///
/// # Errors
/// What `conv2d::reference` refuses, then what the epilogue's RELU and
/// pool would refuse, in that order; a pool whose input is not this
/// convolution's output.
pub fn conv2d<M: Mac, F: Filter>(
    p: &ConvParams,
    input: &[i8],
    w: &ConvWeights<'_, F>,
    epilogue: &Epilogue,
    output: &mut [i8],
) -> Result<(), KernelError> {
    conv2d::check(p, input, w, p.output_len())?;
    let shape = p.output_shape();
    epilogue.check(p.batches, shape, output)?;
    let head = Conv::<M, F> { p, input, w, shape, pad: p.padding_values(), mac: core::marker::PhantomData };
    drive(&head, epilogue, output)
}

struct Depthwise<'a, 'w, F> {
    p: &'a DepthwiseParams,
    input: &'a [i8],
    w: &'a ConvWeights<'w, F>,
    shape: Shape,
    pad: conv2d::PaddingValues,
}

impl<F: Filter> Depthwise<'_, '_, F> {
    #[inline]
    fn window(&self, y: usize, x: usize) -> (isize, isize, Range<usize>, Range<usize>) {
        let p = self.p;
        let oy = (y * p.stride_height) as isize - self.pad.height as isize;
        let ox = (x * p.stride_width) as isize - self.pad.width as isize;
        let ry = tap_range(oy, p.dilation_height, p.filter_height, p.input.height);
        let rx = tap_range(ox, p.dilation_width, p.filter_width, p.input.width);
        (oy, ox, ry, rx)
    }

    #[inline]
    fn value_in(
        &self,
        batch: usize,
        (oy, ox, ry, rx): &(isize, isize, Range<usize>, Range<usize>),
        channel: usize,
    ) -> i8 {
        let p = self.p;
        let Shape { height, width, channels: depth } = p.input;
        let in_channel = channel / p.depth_multiplier;
        let channels_out = self.shape.channels;
        let mut acc = 0i32;
        for fy in ry.clone() {
            let in_y = (oy + (fy * p.dilation_height) as isize) as usize;
            for fx in rx.clone() {
                let in_x = (ox + (fx * p.dilation_width) as isize) as usize;
                let x = self.input[((batch * height + in_y) * width + in_x) * depth + in_channel];
                let w = self.w.filter.at((fy * p.filter_width + fx) * channels_out + channel);
                acc = acc.wrapping_add(i32::from(w) * (i32::from(x) + p.input_offset));
            }
        }
        requantize(acc, channel, self.w, p.output_offset, p.activation_min, p.activation_max)
    }
}

impl<F: Filter> Head for Depthwise<'_, '_, F> {
    fn shape(&self) -> Shape {
        self.shape
    }

    fn batches(&self) -> usize {
        self.p.batches
    }

    fn pixel(&self, batch: usize, y: usize, x: usize, out: &mut [i8]) {
        let window = self.window(y, x);
        for (channel, o) in out.iter_mut().enumerate() {
            *o = self.value_in(batch, &window, channel);
        }
    }

    fn value(&self, batch: usize, y: usize, x: usize, channel: usize) -> i8 {
        self.value_in(batch, &self.window(y, x), channel)
    }
}

/// DEPTHWISE_CONV_2D with an epilogue, one pass.
///
/// # Errors
/// As [`conv2d`], with `depthwise::reference`'s checks.
pub fn depthwise_conv2d<F: Filter>(
    p: &DepthwiseParams,
    input: &[i8],
    w: &ConvWeights<'_, F>,
    epilogue: &Epilogue,
    output: &mut [i8],
) -> Result<(), KernelError> {
    depthwise::check(p, input, w, p.output_len())?;
    let shape = p.output_shape();
    epilogue.check(p.batches, shape, output)?;
    drive(&Depthwise { p, input, w, shape, pad: p.padding_values() }, epilogue, output)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tap_range_clips_to_the_image() {
        // Origin -2, dilation 1, 5 taps over 4 pixels: taps 2.. land on 0..; tap 5 would be pixel 3 -> all of 2..5.
        assert_eq!(tap_range(-2, 1, 5, 4), 2..5);
        // Origin -3, dilation 2: taps land on -3, -1, 1, 3, 5 -> taps 2 and 3 are inside 0..5.
        assert_eq!(tap_range(-3, 2, 5, 5), 2..4);
        // Entirely past the image.
        assert_eq!(tap_range(6, 1, 3, 4), 0..0);
        // Entirely before it.
        assert_eq!(tap_range(-9, 1, 3, 4), 3..3);
    }
}
