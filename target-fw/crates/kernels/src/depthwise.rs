//! DEPTHWISE_CONV_2D, int8 NHWC with per-output-channel requantization.
//!
//! Semantics are TFLite's `reference_integer_ops::DepthwiseConvPerChannel`:
//! the filter is `1 x H x W x (in_channels * depth_multiplier)`, output
//! channel `c * depth_multiplier + m` reads only input channel `c`, and the
//! accumulator is requantized exactly as in [`crate::conv2d`]. The filter zero
//! point is ignored (TFLite requires symmetric int8 filters).

use crate::KernelError;
use crate::conv2d::{
    ConvWeights, Padding, PaddingValues, Shape, check_len, invalid_params, out_size, padding_with_offset,
};
use crate::filter::Filter;
use crate::quant::multiply_by_quantized_multiplier;

/// Everything about a depthwise convolution except its tensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DepthwiseParams {
    pub batches: usize,
    pub input: Shape,
    pub filter_height: usize,
    pub filter_width: usize,
    /// Output channels per input channel.
    pub depth_multiplier: usize,
    pub stride_height: usize,
    pub stride_width: usize,
    pub dilation_height: usize,
    pub dilation_width: usize,
    pub padding: Padding,
    /// Minus the input zero point.
    pub input_offset: i32,
    /// The output zero point.
    pub output_offset: i32,
    pub activation_min: i32,
    pub activation_max: i32,
}

impl DepthwiseParams {
    pub const fn output_channels(&self) -> usize {
        self.input.channels * self.depth_multiplier
    }

    pub const fn output_shape(&self) -> Shape {
        let p = self.padding;
        Shape {
            height: out_size(p, self.input.height, self.filter_height, self.stride_height, self.dilation_height),
            width: out_size(p, self.input.width, self.filter_width, self.stride_width, self.dilation_width),
            channels: self.output_channels(),
        }
    }

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

    pub const fn input_len(&self) -> usize {
        self.batches * self.input.len()
    }

    /// Elements of the `1 x H x W x C_out` filter.
    pub const fn filter_len(&self) -> usize {
        self.filter_height * self.filter_width * self.output_channels()
    }

    pub const fn output_len(&self) -> usize {
        self.batches * self.output_shape().len()
    }

    /// One MAC per filter tap per output element, padding taps included.
    pub const fn macs(&self) -> u64 {
        self.output_len() as u64 * (self.filter_height * self.filter_width) as u64
    }

    pub const fn validate(&self) -> Result<(), KernelError> {
        if self.batches == 0 || self.input.is_empty() || self.depth_multiplier == 0 {
            return invalid_params("zero-sized input or depth multiplier");
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

/// Every check [`reference`] makes, in its order (shared with the optimized kernels).
pub(crate) fn check<F: Filter>(
    params: &DepthwiseParams,
    input: &[i8],
    weights: &ConvWeights<'_, F>,
    output_len: usize,
) -> Result<(), KernelError> {
    params.validate()?;
    let channels_out = params.output_channels();
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

/// The plain implementation every optimized depthwise kernel is tested against.
///
/// # Errors
/// As [`crate::conv2d::reference`]: invalid parameters, a shift outside
/// `-31..=31` or a slice of the wrong length; nothing is written then.
pub fn reference<F: Filter>(
    params: &DepthwiseParams,
    input: &[i8],
    weights: &ConvWeights<'_, F>,
    output: &mut [i8],
) -> Result<(), KernelError> {
    check(params, input, weights, output.len())?;
    let channels_out = params.output_channels();

    let Shape { height: in_height, width: in_width, channels: depth } = params.input;
    let out_shape = params.output_shape();
    let pad = params.padding_values();
    let multiplier = params.depth_multiplier;

    let mut out_index = 0;
    for batch in 0..params.batches {
        for out_y in 0..out_shape.height {
            let in_y_origin = (out_y * params.stride_height) as isize - pad.height as isize;
            for out_x in 0..out_shape.width {
                let in_x_origin = (out_x * params.stride_width) as isize - pad.width as isize;
                // Output order is (in_channel, m): channel c * multiplier + m.
                for in_channel in 0..depth {
                    for m in 0..multiplier {
                        let out_channel = in_channel * multiplier + m;
                        let mut acc: i32 = 0;
                        for filter_y in 0..params.filter_height {
                            let in_y = in_y_origin + (filter_y * params.dilation_height) as isize;
                            if in_y < 0 || in_y >= in_height as isize {
                                continue;
                            }
                            for filter_x in 0..params.filter_width {
                                let in_x = in_x_origin + (filter_x * params.dilation_width) as isize;
                                if in_x < 0 || in_x >= in_width as isize {
                                    continue;
                                }
                                let x = input[((batch * in_height + in_y as usize) * in_width + in_x as usize) * depth
                                    + in_channel];
                                let w = weights
                                    .filter
                                    .at((filter_y * params.filter_width + filter_x) * channels_out + out_channel);
                                acc = acc.wrapping_add(i32::from(w) * (i32::from(x) + params.input_offset));
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
                        output[out_index] = scaled
                            .wrapping_add(params.output_offset)
                            .clamp(params.activation_min, params.activation_max)
                            as i8;
                        out_index += 1;
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HALF_Q31: i32 = 1 << 30;

    fn params(input: Shape, filter: (usize, usize), depth_multiplier: usize) -> DepthwiseParams {
        DepthwiseParams {
            batches: 1,
            input,
            filter_height: filter.0,
            filter_width: filter.1,
            depth_multiplier,
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

    #[test]
    fn channels_do_not_mix_and_the_multiplier_interleaves() {
        // 2x2 image, 2 channels: channel 0 = 1 2 3 4, channel 1 = 10 20 30 40 (NHWC interleaved).
        let input = [1, 10, 2, 20, 3, 30, 4, 40];
        // 2x2 filter, multiplier 2 -> 4 output channels, filter stored HW x C_out:
        // out 0 (in 0, m 0): all ones; out 1 (in 0, m 1): top-left only;
        // out 2 (in 1, m 0): all ones; out 3 (in 1, m 1): bottom-right only.
        #[rustfmt::skip]
        let filter = [
            1, 1, 1, 0, // tap (0,0) for out channels 0..4
            1, 0, 1, 0, // tap (0,1)
            1, 0, 1, 0, // tap (1,0)
            1, 0, 1, 1, // tap (1,1)
        ];
        let p = DepthwiseParams { input_offset: -1, ..params(Shape { height: 2, width: 2, channels: 2 }, (2, 2), 2) };
        // Scale 1.0 = 0.5 * 2^1. Effective input: ch0 0 1 2 3, ch1 9 19 29 39.
        let w = ConvWeights {
            filter: &filter,
            bias: Some(&[0, 0, 0, 100]),
            output_multiplier: &[HALF_Q31; 4],
            output_shift: &[1; 4],
        };
        let mut out = [0i8; 4];
        reference(&p, &input, &w, &mut out).unwrap();
        // out0 = 0+1+2+3 = 6; out1 = 0; out2 = 9+19+29+39 = 96; out3 = 39 + bias 100 = 139 -> clamped 127.
        assert_eq!(out, [6, 0, 96, 127]);
        assert_eq!(p.macs(), 4 * 4);
    }

    #[test]
    fn same_padding_skips_taps_outside_the_image() {
        // 3x3 single-channel image of ones with zero point 0, 3x3 box filter, Same: the
        // output counts how many taps fall inside: corners 4, edges 6, centre 9.
        let p =
            DepthwiseParams { padding: Padding::Same, ..params(Shape { height: 3, width: 3, channels: 1 }, (3, 3), 1) };
        let w = ConvWeights { filter: &[1; 9], bias: None, output_multiplier: &[HALF_Q31], output_shift: &[1] };
        let mut out = [0i8; 9];
        reference(&p, &[1; 9], &w, &mut out).unwrap();
        assert_eq!(out, [4, 6, 4, 6, 9, 6, 4, 6, 4]);
    }

    #[test]
    fn wrong_filter_length_is_refused() {
        let p = params(Shape { height: 2, width: 2, channels: 2 }, (2, 2), 2);
        let w = ConvWeights { filter: &[0; 15], bias: None, output_multiplier: &[HALF_Q31; 4], output_shift: &[0; 4] };
        let mut out = [7i8; 4];
        assert_eq!(
            reference(&p, &[0; 8], &w, &mut out),
            Err(KernelError::LengthMismatch { what: "filter", expected: 16, actual: 15 })
        );
        assert_eq!(out, [7; 4]);
    }
}
