//! CONV_2D, int8 NHWC with per-output-channel requantization.
//!
//! Semantics are TFLite's `reference_integer_ops::ConvPerChannel`: the filter
//! is OHWI, every accumulator is `sum(filter * (input + input_offset)) + bias`,
//! requantized with its output channel's multiplier and shift, offset by
//! `output_offset` and clamped to the activation range. Taps outside the image
//! contribute nothing, which is the same as padding with the input zero point.

use crate::KernelError;
use crate::filter::Filter;
use crate::quant::multiply_by_quantized_multiplier;

/// How the output size and border are chosen (TFLite `Padding`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Padding {
    /// Output is `ceil(input / stride)`; the border is split evenly, the odd
    /// pixel going to the bottom/right.
    Same,
    /// Only positions where the whole (dilated) filter fits the image.
    Valid,
}

/// Height, width and channels of one NHWC image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Shape {
    pub height: usize,
    pub width: usize,
    pub channels: usize,
}

impl Shape {
    pub const fn len(&self) -> usize {
        self.height * self.width * self.channels
    }

    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Padding TFLite computes for one convolution: rows/columns added before the
/// image (`height`, `width`); the `*_offset` is the extra one after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PaddingValues {
    pub height: usize,
    pub width: usize,
    pub height_offset: usize,
    pub width_offset: usize,
}

/// Everything about a convolution except its tensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ConvParams {
    pub batches: usize,
    /// One input image; `input.channels` is also the filter's input depth.
    pub input: Shape,
    pub filter_height: usize,
    pub filter_width: usize,
    pub output_channels: usize,
    pub stride_height: usize,
    pub stride_width: usize,
    pub dilation_height: usize,
    pub dilation_width: usize,
    pub padding: Padding,
    /// Minus the input zero point.
    pub input_offset: i32,
    /// The output zero point.
    pub output_offset: i32,
    /// Clamp range of the output, within `-128..=127`.
    pub activation_min: i32,
    pub activation_max: i32,
}

/// Filter, bias and requantization of a convolution; all per output channel
/// except `filter`, which is OHWI: int8 (`&[i8]`, the default) or packed
/// int4 ([`crate::filter::Int4`]).
#[derive(Debug, Clone, Copy)]
pub struct ConvWeights<'a, F = &'a [i8]> {
    pub filter: F,
    pub bias: Option<&'a [i32]>,
    pub output_multiplier: &'a [i32],
    pub output_shift: &'a [i32],
}

impl<'a, F> ConvWeights<'a, F> {
    /// The same bias and requantization with another filter (storage).
    pub fn with_filter<G>(&self, filter: G) -> ConvWeights<'a, G> {
        ConvWeights {
            filter,
            bias: self.bias,
            output_multiplier: self.output_multiplier,
            output_shift: self.output_shift,
        }
    }
}

/// TFLite `ComputeOutSize`.
pub(crate) const fn out_size(padding: Padding, image: usize, filter: usize, stride: usize, dilation: usize) -> usize {
    let effective_filter = (filter - 1) * dilation + 1;
    match padding {
        Padding::Same => image.div_ceil(stride),
        Padding::Valid if image >= effective_filter => (image - effective_filter) / stride + 1,
        Padding::Valid => 0,
    }
}

/// TFLite `ComputePaddingWithOffset`: (before, extra after).
pub(crate) const fn padding_with_offset(
    stride: usize,
    dilation: usize,
    image: usize,
    filter: usize,
    out: usize,
) -> (usize, usize) {
    let effective_filter = (filter - 1) * dilation + 1;
    let needed = (out - 1) * stride + effective_filter;
    let total = needed.saturating_sub(image);
    (total / 2, total % 2)
}

impl ConvParams {
    /// Shape of one output image. Call [`ConvParams::validate`] first: zero
    /// strides or dilations make this meaningless.
    pub const fn output_shape(&self) -> Shape {
        let p = self.padding;
        Shape {
            height: out_size(p, self.input.height, self.filter_height, self.stride_height, self.dilation_height),
            width: out_size(p, self.input.width, self.filter_width, self.stride_width, self.dilation_width),
            channels: self.output_channels,
        }
    }

    /// The padding TFLite uses for these parameters.
    pub const fn padding_values(&self) -> PaddingValues {
        let out = self.output_shape();
        let (height, height_offset) = padding_with_offset(
            self.stride_height,
            self.dilation_height,
            self.input.height,
            self.filter_height,
            out.height,
        );
        let (width, width_offset) =
            padding_with_offset(self.stride_width, self.dilation_width, self.input.width, self.filter_width, out.width);
        PaddingValues { height, width, height_offset, width_offset }
    }

    /// Elements of the input tensor (all batches).
    pub const fn input_len(&self) -> usize {
        self.batches * self.input.len()
    }

    /// Elements of the OHWI filter tensor.
    pub const fn filter_len(&self) -> usize {
        self.output_channels * self.filter_height * self.filter_width * self.input.channels
    }

    /// Elements of the output tensor (all batches).
    pub const fn output_len(&self) -> usize {
        self.batches * self.output_shape().len()
    }

    /// Multiply-accumulates of one run, counting every filter tap at every
    /// output position (taps in the padding included), the usual convention
    /// for reporting MAC/s.
    pub const fn macs(&self) -> u64 {
        let taps = (self.filter_height * self.filter_width * self.input.channels) as u64;
        self.output_len() as u64 * taps
    }

    /// Checks that the parameters describe a convolution with a non-empty
    /// output that [`reference`] can compute.
    pub const fn validate(&self) -> Result<(), KernelError> {
        if self.batches == 0 || self.input.is_empty() || self.output_channels == 0 {
            return invalid_params("zero-sized input or output channels");
        }
        if self.filter_height == 0 || self.filter_width == 0 {
            return invalid_params("zero-sized filter");
        }
        if self.stride_height == 0 || self.stride_width == 0 {
            return invalid_params("zero stride");
        }
        if self.dilation_height == 0 || self.dilation_width == 0 {
            return invalid_params("zero dilation");
        }
        if self.activation_min > self.activation_max || self.activation_min < -128 || self.activation_max > 127 {
            return invalid_params("activation range not within -128..=127 or min > max");
        }
        if self.output_shape().is_empty() {
            return invalid_params("dilated filter larger than the input with Valid padding");
        }
        Ok(())
    }
}

pub(crate) const fn invalid_params(what: &'static str) -> Result<(), KernelError> {
    Err(KernelError::InvalidParams { what })
}

pub(crate) const fn check_len(what: &'static str, expected: usize, actual: usize) -> Result<(), KernelError> {
    if expected == actual { Ok(()) } else { Err(KernelError::LengthMismatch { what, expected, actual }) }
}

/// Every check [`reference`] makes before computing, in its order; optimized
/// kernels call it too so they refuse exactly what the reference refuses.
pub(crate) fn check<F: Filter>(
    params: &ConvParams,
    input: &[i8],
    weights: &ConvWeights<'_, F>,
    output_len: usize,
) -> Result<(), KernelError> {
    params.validate()?;
    let channels_out = params.output_channels;
    check_len("input", params.input_len(), input.len())?;
    check_len("filter", params.filter_len(), weights.filter.len())?;
    if let Some(bias) = weights.bias {
        check_len("bias", channels_out, bias.len())?;
    }
    check_len("output_multiplier", channels_out, weights.output_multiplier.len())?;
    check_len("output_shift", channels_out, weights.output_shift.len())?;
    check_len("output", params.output_len(), output_len)?;
    if weights.output_shift.iter().any(|shift| !(-31..=31).contains(shift)) {
        return Err(KernelError::InvalidParams { what: "output_shift outside -31..=31" });
    }
    Ok(())
}

/// The plain, obviously-correct implementation every optimized kernel is
/// tested against.
///
/// # Errors
/// [`KernelError::InvalidParams`] if `params` fail [`ConvParams::validate`] or
/// a shift is outside `-31..=31`; [`KernelError::LengthMismatch`] if a slice
/// does not match the shapes. Nothing is written to `output` then.
pub fn reference<F: Filter>(
    params: &ConvParams,
    input: &[i8],
    weights: &ConvWeights<'_, F>,
    output: &mut [i8],
) -> Result<(), KernelError> {
    check(params, input, weights, output.len())?;
    let channels_out = params.output_channels;
    let Shape { height: in_height, width: in_width, channels: depth } = params.input;
    let out_shape = params.output_shape();
    let pad = params.padding_values();
    let (filter_height, filter_width) = (params.filter_height, params.filter_width);

    let mut out_index = 0;
    for batch in 0..params.batches {
        for out_y in 0..out_shape.height {
            // Signed: the first rows/columns start inside the padding.
            let in_y_origin = (out_y * params.stride_height) as isize - pad.height as isize;
            for out_x in 0..out_shape.width {
                let in_x_origin = (out_x * params.stride_width) as isize - pad.width as isize;
                for out_channel in 0..channels_out {
                    let mut acc: i32 = 0;
                    for filter_y in 0..filter_height {
                        let in_y = in_y_origin + (filter_y * params.dilation_height) as isize;
                        if in_y < 0 || in_y >= in_height as isize {
                            continue;
                        }
                        for filter_x in 0..filter_width {
                            let in_x = in_x_origin + (filter_x * params.dilation_width) as isize;
                            if in_x < 0 || in_x >= in_width as isize {
                                continue;
                            }
                            let in_start = ((batch * in_height + in_y as usize) * in_width + in_x as usize) * depth;
                            let filter_start =
                                ((out_channel * filter_height + filter_y) * filter_width + filter_x) * depth;
                            let pixel = &input[in_start..in_start + depth];
                            for (i, &x) in pixel.iter().enumerate() {
                                let w = weights.filter.at(filter_start + i);
                                // Wrapping like the int32 hardware add; a model whose
                                // accumulators overflow is broken either way.
                                acc = acc.wrapping_add(i32::from(w) * (i32::from(x) + params.input_offset));
                            }
                        }
                    }
                    if let Some(bias) = weights.bias {
                        acc = acc.wrapping_add(bias[out_channel]);
                    }
                    let scaled = multiply_by_quantized_multiplier(
                        acc,
                        weights.output_multiplier[out_channel],
                        weights.output_shift[out_channel],
                    );
                    let clamped =
                        scaled.wrapping_add(params.output_offset).clamp(params.activation_min, params.activation_max);
                    // In range: validate() bounds the activation range to i8.
                    output[out_index] = clamped as i8;
                    out_index += 1;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HALF_Q31: i32 = 1 << 30; // 0.5
    const THREE_QUARTERS_Q31: i32 = 3 << 29; // 0.75

    fn params(input: Shape, filter: (usize, usize), output_channels: usize) -> ConvParams {
        ConvParams {
            batches: 1,
            input,
            filter_height: filter.0,
            filter_width: filter.1,
            output_channels,
            stride_height: 1,
            stride_width: 1,
            dilation_height: 1,
            dilation_width: 1,
            padding: Padding::Valid,
            input_offset: 0,
            output_offset: 0,
            activation_min: -128,
            activation_max: 127,
        }
    }

    fn run<F: Filter>(p: &ConvParams, input: &[i8], weights: &ConvWeights<'_, F>) -> Vec<i8> {
        let mut out = vec![0; p.output_len()];
        reference(p, input, weights, &mut out).unwrap();
        out
    }

    fn shape(height: usize, width: usize, channels: usize) -> Shape {
        Shape { height, width, channels }
    }

    /// Params, input, filter, bias, multipliers, shifts.
    type Tiny = (ConvParams, Vec<i8>, [i8; 8], [i32; 2], [i32; 2], [i32; 2]);
    type Case = (ConvParams, Vec<i8>, Vec<i8>, Vec<i32>, Vec<i32>, Vec<i32>);

    /// Input 3x3x1 = 1..=9 with zero point 1, two 2x2 filters, Valid padding.
    fn tiny() -> Tiny {
        let mut p = params(shape(3, 3, 1), (2, 2), 2);
        p.input_offset = -1; // zero point 1: the effective input is 0..=8
        p.output_offset = -3;
        let input: Vec<i8> = (1..=9).collect();
        #[rustfmt::skip]
        let filter = [
            1, 2, 3, 4,  // out channel 0, rows (1 2) (3 4)
            -1, 0, 0, 1, // out channel 1: bottom-right minus top-left
        ];
        (p, input, filter, [1, -2], [HALF_Q31, THREE_QUARTERS_Q31], [0, 2])
    }

    #[test]
    fn tiny_hand_computed() {
        let (p, input, filter, bias, mult, shift) = tiny();
        let w = ConvWeights { filter: &filter, bias: Some(&bias), output_multiplier: &mult, output_shift: &shift };
        // Effective input    channel 0 (filter 1 2 / 3 4):
        //   0 1 2            (0,0): 0*1 + 1*2 + 3*3 + 4*4 = 27, +bias 1 = 28, *0.5 = 14, -3 = 11
        //   3 4 5            (0,1): 1 + 4 + 12 + 20 = 37 -> 38 -> 19 -> 16
        //   6 7 8            (1,0): 3 + 8 + 18 + 28 = 57 -> 58 -> 29 -> 26
        //                    (1,1): 4 + 10 + 21 + 32 = 67 -> 68 -> 34 -> 31
        // Channel 1 is x[y+1][x+1] - x[y][x] = 4 everywhere, +bias -2 = 2;
        // 0.75 with shift 2 is 3.0: (2 << 2) * 0.75 = 6, -3 = 3.
        assert_eq!(run(&p, &input, &w), [11, 3, 16, 3, 26, 3, 31, 3]);
        assert_eq!(p.macs(), 2 * 2 * 2 * 4);
    }

    #[test]
    fn output_is_clamped_to_the_activation_range() {
        let (mut p, input, filter, bias, mult, shift) = tiny();
        p.activation_min = 5;
        p.activation_max = 20;
        let w = ConvWeights { filter: &filter, bias: Some(&bias), output_multiplier: &mult, output_shift: &shift };
        // Unclamped [11, 3, 16, 3, 26, 3, 31, 3].
        assert_eq!(run(&p, &input, &w), [11, 5, 16, 5, 20, 5, 20, 5]);
    }

    #[test]
    fn no_bias_is_zero_bias() {
        let (p, input, filter, _, mult, shift) = tiny();
        let w = ConvWeights { filter: &filter, bias: None, output_multiplier: &mult, output_shift: &shift };
        // Channel 0: 27 * 0.5 = 13.5 -> 14 (SRDHM rounds half up), -3 = 11; 37 -> 18.5 -> 19 -> 16; ...
        // Channel 1: 4 << 2 = 16, * 0.75 = 12, -3 = 9.
        assert_eq!(run(&p, &input, &w), [11, 9, 16, 9, 26, 9, 31, 9]);
    }

    #[test]
    fn same_padding_with_stride_two_puts_the_odd_pixel_last() {
        // 4x4 image 1..=16, 3x3 box filter, stride 2: output ceil(4/2) = 2, total
        // padding (2-1)*2 + 3 - 4 = 1, so 0 before and 1 after.
        let mut p = params(shape(4, 4, 1), (3, 3), 1);
        p.padding = Padding::Same;
        p.stride_height = 2;
        p.stride_width = 2;
        assert_eq!(p.padding_values(), PaddingValues { height: 0, width: 0, height_offset: 1, width_offset: 1 });
        let input: Vec<i8> = (1..=16).collect();
        let w = ConvWeights { filter: &[1; 9], bias: None, output_multiplier: &[HALF_Q31], output_shift: &[-1] };
        // Image rows: 1 2 3 4 / 5 6 7 8 / 9 10 11 12 / 13 14 15 16; scale 0.25.
        // (0,0): rows 0-2, cols 0-2 = 54; 54*0.5 = 27, 27/2 = 13.5 -> 14
        // (0,1): rows 0-2, cols 2-3 (col 4 is padding) = 3+4+7+8+11+12 = 45; 22.5 -> 23; 11.5 -> 12
        // (1,0): rows 2-3, cols 0-2 = 9+10+11+13+14+15 = 72 -> 36 -> 18
        // (1,1): rows 2-3, cols 2-3 = 11+12+15+16 = 54 -> 14
        assert_eq!(run(&p, &input, &w), [14, 12, 18, 14]);
    }

    #[test]
    fn same_padding_values_match_tflite() {
        let mut p = params(shape(5, 6, 1), (3, 3), 1);
        p.padding = Padding::Same;
        p.stride_height = 2;
        p.stride_width = 2;
        // Height 5: out 3, total (3-1)*2 + 3 - 5 = 2 -> 1 before, 0 extra.
        // Width 6: out 3, total 4 + 3 - 6 = 1 -> 0 before, 1 extra.
        assert_eq!(p.output_shape(), shape(3, 3, 1));
        assert_eq!(p.padding_values(), PaddingValues { height: 1, width: 0, height_offset: 0, width_offset: 1 });
        // Dilation 2 makes a 3-tap filter span 5: 7 wide, stride 1 -> out 7, total 6 + 5 - 7 = 4 -> 2 before.
        let mut p = params(shape(7, 7, 1), (3, 3), 1);
        p.padding = Padding::Same;
        p.dilation_height = 2;
        p.dilation_width = 2;
        assert_eq!(p.padding_values(), PaddingValues { height: 2, width: 2, height_offset: 0, width_offset: 0 });
        // Valid never pads.
        p.padding = Padding::Valid;
        assert_eq!(p.output_shape(), shape(3, 3, 1));
        assert_eq!(p.padding_values(), PaddingValues { height: 0, width: 0, height_offset: 0, width_offset: 0 });
    }

    #[test]
    fn dilation_spreads_the_taps() {
        // 5x5 image x(r, c) = 5r + c + 1, 2x2 box filter with dilation 2 (span 3), Valid: 3x3 output.
        let mut p = params(shape(5, 5, 1), (2, 2), 1);
        p.dilation_height = 2;
        p.dilation_width = 2;
        let input: Vec<i8> = (1..=25).collect();
        // Scale 1.0 (0.5 with shift 1) keeps the sums:
        // out(y, x) = x(y,x) + x(y,x+2) + x(y+2,x) + x(y+2,x+2) = 4 * (5y + x + 1) + 2 + 10 + 12.
        let w = ConvWeights { filter: &[1; 4], bias: None, output_multiplier: &[HALF_Q31], output_shift: &[1] };
        assert_eq!(run(&p, &input, &w), [28, 32, 36, 48, 52, 56, 68, 72, 76]);
    }

    #[test]
    fn batches_are_independent() {
        let (mut p, mut input, filter, bias, mult, shift) = tiny();
        p.batches = 2;
        input.extend(input.clone());
        let w = ConvWeights { filter: &filter, bias: Some(&bias), output_multiplier: &mult, output_shift: &shift };
        let out = run(&p, &input, &w);
        assert_eq!(out[..8], out[8..]);
    }

    #[test]
    fn wrong_lengths_are_reported_and_nothing_is_written() {
        let (p, input, filter, bias, mult, shift) = tiny();
        let w = ConvWeights { filter: &filter, bias: Some(&bias), output_multiplier: &mult, output_shift: &shift };
        let mut out = [99i8; 8];
        let err = reference(&p, &input[..8], &w, &mut out).unwrap_err();
        assert_eq!(err, KernelError::LengthMismatch { what: "input", expected: 9, actual: 8 });
        let err = reference(&p, &input, &w, &mut out[..7]).unwrap_err();
        assert_eq!(err, KernelError::LengthMismatch { what: "output", expected: 8, actual: 7 });
        let short_bias = ConvWeights { bias: Some(&bias[..1]), ..w };
        assert!(matches!(
            reference(&p, &input, &short_bias, &mut out),
            Err(KernelError::LengthMismatch { what: "bias", .. })
        ));
        assert_eq!(out, [99; 8]);
    }

    #[test]
    fn invalid_params_are_refused() {
        let (p, input, filter, bias, mult, _) = tiny();
        let mut out = [0i8; 8];
        let bad_shift =
            ConvWeights { filter: &filter, bias: Some(&bias), output_multiplier: &mult, output_shift: &[0, -32] };
        assert!(matches!(reference(&p, &input, &bad_shift, &mut out), Err(KernelError::InvalidParams { .. })));
        for broken in [
            ConvParams { stride_width: 0, ..p },
            ConvParams { dilation_height: 0, ..p },
            ConvParams { activation_min: 10, activation_max: 9, ..p },
            ConvParams { activation_max: 128, ..p },
            ConvParams { filter_height: 4, ..p }, // Valid, filter taller than the image
        ] {
            assert!(matches!(broken.validate(), Err(KernelError::InvalidParams { .. })), "{broken:?}");
        }
    }

    /// An independent formulation: materialize the zero-point-padded image,
    /// then run a Valid convolution over it with no bounds tests.
    fn padded_oracle<F: Filter>(p: &ConvParams, input: &[i8], w: &ConvWeights<'_, F>) -> Vec<i8> {
        let pad = p.padding_values();
        let out = p.output_shape();
        let Shape { height: ih, width: iw, channels: depth } = p.input;
        let (ph, pw) = (ih + 2 * pad.height + pad.height_offset, iw + 2 * pad.width + pad.width_offset);
        let mut result = Vec::new();
        for b in 0..p.batches {
            // Padding holds 0 = zero point + input_offset.
            let mut padded = vec![0i32; ph * pw * depth];
            for y in 0..ih {
                for x in 0..iw {
                    for c in 0..depth {
                        let v = input[((b * ih + y) * iw + x) * depth + c];
                        padded[((y + pad.height) * pw + x + pad.width) * depth + c] = i32::from(v) + p.input_offset;
                    }
                }
            }
            for oy in 0..out.height {
                for ox in 0..out.width {
                    for oc in 0..p.output_channels {
                        let mut acc = 0i64;
                        for fy in 0..p.filter_height {
                            for fx in 0..p.filter_width {
                                let y = oy * p.stride_height + fy * p.dilation_height;
                                let x = ox * p.stride_width + fx * p.dilation_width;
                                for c in 0..depth {
                                    let f =
                                        w.filter.at(((oc * p.filter_height + fy) * p.filter_width + fx) * depth + c);
                                    acc += i64::from(f) * i64::from(padded[(y * pw + x) * depth + c]);
                                }
                            }
                        }
                        acc += w.bias.map_or(0, |bias| i64::from(bias[oc]));
                        let acc = i32::try_from(acc).unwrap();
                        let v = multiply_by_quantized_multiplier(acc, w.output_multiplier[oc], w.output_shift[oc]);
                        result.push((v + p.output_offset).clamp(p.activation_min, p.activation_max) as i8);
                    }
                }
            }
        }
        result
    }

    fn arb_case() -> impl Strategy<Value = Case> {
        (
            (1usize..=2, 1usize..=7, 1usize..=7, 1usize..=4),
            (1usize..=3, 1usize..=3, 1usize..=4),
            (1usize..=3, 1usize..=3, 1usize..=2, 1usize..=2),
            (any::<bool>(), -128i32..=127, -20i32..=20),
        )
            .prop_filter_map(
                "empty output",
                |((batches, h, w, cin), (fh, fw, cout), (sh, sw, dh, dw), (same, zp, out_zp))| {
                    let p = ConvParams {
                        batches,
                        input: shape(h, w, cin),
                        filter_height: fh,
                        filter_width: fw,
                        output_channels: cout,
                        stride_height: sh,
                        stride_width: sw,
                        dilation_height: dh,
                        dilation_width: dw,
                        padding: if same { Padding::Same } else { Padding::Valid },
                        input_offset: -zp,
                        output_offset: out_zp,
                        activation_min: -128,
                        activation_max: 127,
                    };
                    p.validate().ok().map(|()| p)
                },
            )
            .prop_flat_map(|p| {
                let cout = p.output_channels;
                (
                    Just(p),
                    proptest::collection::vec(any::<i8>(), p.input_len()),
                    proptest::collection::vec(any::<i8>(), p.filter_len()),
                    proptest::collection::vec(-5000i32..5000, cout),
                    proptest::collection::vec(1i32 << 30..i32::MAX, cout),
                    proptest::collection::vec(-12i32..=0, cout),
                )
            })
    }

    proptest! {
        #[test]
        fn reference_matches_the_padded_oracle((p, input, filter, bias, mult, shift) in arb_case()) {
            let w = ConvWeights { filter: &filter, bias: Some(&bias), output_multiplier: &mult, output_shift: &shift };
            prop_assert_eq!(run(&p, &input, &w), padded_oracle(&p, &input, &w));
        }
    }
}
