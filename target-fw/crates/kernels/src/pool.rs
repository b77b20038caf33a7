//! AVERAGE_POOL_2D and MAX_POOL_2D, int8 NHWC.
//!
//! Semantics are TFLite's `reference_integer_ops::AveragePool` / `MaxPool`:
//! input and output share scale and zero point, so no requantization; the
//! window is clipped to the image (padding taps are not counted, not
//! zero-filled), and the average rounds half away from zero.

use crate::KernelError;
use crate::conv2d::{Padding, PaddingValues, Shape, check_len, invalid_params, out_size, padding_with_offset};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PoolParams {
    pub batches: usize,
    /// One input image; the output has the same channels.
    pub input: Shape,
    pub filter_height: usize,
    pub filter_width: usize,
    pub stride_height: usize,
    pub stride_width: usize,
    pub padding: Padding,
    pub activation_min: i32,
    pub activation_max: i32,
}

impl PoolParams {
    pub const fn output_shape(&self) -> Shape {
        let p = self.padding;
        Shape {
            height: out_size(p, self.input.height, self.filter_height, self.stride_height, 1),
            width: out_size(p, self.input.width, self.filter_width, self.stride_width, 1),
            channels: self.input.channels,
        }
    }

    /// TFLite pooling uses only the leading padding (`ComputePaddingHeightWidth`).
    pub const fn padding_values(&self) -> PaddingValues {
        let out = self.output_shape();
        let (height, height_offset) =
            padding_with_offset(self.stride_height, 1, self.input.height, self.filter_height, out.height);
        let (width, width_offset) =
            padding_with_offset(self.stride_width, 1, self.input.width, self.filter_width, out.width);
        PaddingValues { height, width, height_offset, width_offset }
    }

    pub const fn input_len(&self) -> usize {
        self.batches * self.input.len()
    }

    pub const fn output_len(&self) -> usize {
        self.batches * self.output_shape().len()
    }

    /// Window elements read per output element (an add or compare each; the
    /// usual MAC-count convention).
    pub const fn macs(&self) -> u64 {
        self.output_len() as u64 * (self.filter_height * self.filter_width) as u64
    }

    pub const fn validate(&self) -> Result<(), KernelError> {
        if self.batches == 0 || self.input.is_empty() {
            return invalid_params("zero-sized pooling input");
        }
        if self.filter_height == 0 || self.filter_width == 0 {
            return invalid_params("zero-sized pooling window");
        }
        if self.stride_height == 0 || self.stride_width == 0 {
            return invalid_params("zero stride");
        }
        if self.activation_min > self.activation_max || self.activation_min < -128 || self.activation_max > 127 {
            return invalid_params("activation range not within -128..=127 or min > max");
        }
        if self.output_shape().is_empty() {
            return invalid_params("pooling window larger than the input with Valid padding");
        }
        Ok(())
    }
}

/// Calls `f(output_index, window)` for every output element, where `window`
/// iterates the in-image input values of its (clipped) pooling window.
fn for_each_window(
    params: &PoolParams,
    input: &[i8],
    mut f: impl FnMut(usize, &mut dyn Iterator<Item = i8>) -> Result<(), KernelError>,
) -> Result<(), KernelError> {
    let Shape { height: in_height, width: in_width, channels: depth } = params.input;
    let out_shape = params.output_shape();
    let pad = params.padding_values();
    let mut out_index = 0;
    for batch in 0..params.batches {
        for out_y in 0..out_shape.height {
            let in_y_origin = (out_y * params.stride_height) as isize - pad.height as isize;
            // TFLite clips the window: filter_y_start = max(0, -origin), end = min(filter, in - origin).
            let y_start = (-in_y_origin).max(0) as usize;
            let y_end = (params.filter_height as isize).min(in_height as isize - in_y_origin).max(0) as usize;
            for out_x in 0..out_shape.width {
                let in_x_origin = (out_x * params.stride_width) as isize - pad.width as isize;
                let x_start = (-in_x_origin).max(0) as usize;
                let x_end = (params.filter_width as isize).min(in_width as isize - in_x_origin).max(0) as usize;
                for channel in 0..depth {
                    let mut window = (y_start..y_end).flat_map(|fy| {
                        let in_y = (in_y_origin + fy as isize) as usize;
                        (x_start..x_end).map(move |fx| {
                            let in_x = (in_x_origin + fx as isize) as usize;
                            input[((batch * in_height + in_y) * in_width + in_x) * depth + channel]
                        })
                    });
                    f(out_index, &mut window)?;
                    out_index += 1;
                }
            }
        }
    }
    Ok(())
}

fn check(params: &PoolParams, input: &[i8], output: &[i8]) -> Result<(), KernelError> {
    params.validate()?;
    check_len("input", params.input_len(), input.len())?;
    check_len("output", params.output_len(), output.len())
}

/// AVERAGE_POOL_2D: the mean of the window's in-image values, rounded half
/// away from zero, clamped to the activation range.
///
/// # Errors
/// Invalid parameters or a slice of the wrong length (nothing written); a
/// window entirely in the padding (TFLite fails there too), after which the
/// output is partly written.
pub fn average_reference(params: &PoolParams, input: &[i8], output: &mut [i8]) -> Result<(), KernelError> {
    check(params, input, output)?;
    for_each_window(params, input, |out_index, window| {
        let (mut sum, mut count) = (0i32, 0i32);
        for x in window {
            sum += i32::from(x);
            count += 1;
        }
        if count == 0 {
            return Err(KernelError::InvalidParams { what: "pooling window entirely in the padding" });
        }
        // C++ `/` truncates toward zero; adding ±count/2 first rounds half away from zero.
        let mean = if sum > 0 { (sum + count / 2) / count } else { (sum - count / 2) / count };
        output[out_index] = mean.clamp(params.activation_min, params.activation_max) as i8;
        Ok(())
    })
}

/// MAX_POOL_2D: the window's largest in-image value, clamped to the activation range.
///
/// # Errors
/// Invalid parameters or a slice of the wrong length; nothing is written then.
pub fn max_reference(params: &PoolParams, input: &[i8], output: &mut [i8]) -> Result<(), KernelError> {
    check(params, input, output)?;
    for_each_window(params, input, |out_index, window| {
        // An empty window gives i8::MIN, as TFLite's `lowest()` start value does.
        let max = window.fold(i8::MIN, i8::max);
        output[out_index] = i32::from(max).clamp(params.activation_min, params.activation_max) as i8;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(h: usize, w: usize, c: usize, filter: usize, stride: usize, padding: Padding) -> PoolParams {
        PoolParams {
            batches: 1,
            input: Shape { height: h, width: w, channels: c },
            filter_height: filter,
            filter_width: filter,
            stride_height: stride,
            stride_width: stride,
            padding,
            activation_min: -128,
            activation_max: 127,
        }
    }

    fn average(p: &PoolParams, input: &[i8]) -> Vec<i8> {
        let mut out = vec![0; p.output_len()];
        average_reference(p, input, &mut out).unwrap();
        out
    }

    #[test]
    fn average_rounds_half_away_from_zero() {
        // 2x2 windows, stride 2, over a 2x4 image: windows (1 2 / 3 5) and (-1 -2 / -3 -5).
        let p = params(2, 4, 1, 2, 2, Padding::Valid);
        // 11 / 4 = 2.75 -> (11 + 2) / 4 = 3; -11 / 4 -> (-11 - 2) / 4 = -3 (truncation toward zero).
        assert_eq!(average(&p, &[1, 2, -1, -2, 3, 5, -3, -5]), [3, -3]);
        // 10 / 4 = 2.5 -> 3 and -10 / 4 = -2.5 -> -3: halves go away from zero.
        assert_eq!(average(&p, &[1, 2, -1, -2, 3, 4, -3, -4]), [3, -3]);
    }

    #[test]
    fn average_same_padding_counts_only_image_taps() {
        // 3x3 image 1..=9, 3x3 window, stride 1, Same: corner (0,0) averages 1 2 4 5 = 12 / 4 = 3;
        // the centre averages all nine = 45 / 9 = 5; edge (0,1) = 1+2+3+4+5+6 = 21 / 6 = 3.5 -> 4.
        let p = params(3, 3, 1, 3, 1, Padding::Same);
        let input: Vec<i8> = (1..=9).collect();
        let out = average(&p, &input);
        assert_eq!((out[0], out[1], out[4]), (3, 4, 5));
    }

    #[test]
    fn average_whole_image_per_channel_with_activation() {
        // KWS-style global pool: a 2x2 window over the whole 2x2x2 image, then ReLU-like min 0.
        let p = PoolParams { activation_min: 0, ..params(2, 2, 2, 2, 2, Padding::Valid) };
        // Channel 0: 4 + 5 + 6 + 7 = 22 / 4 = 5.5 -> 6. Channel 1: -1 -2 -3 -4 = -10 / 4 -> -3, clamped to 0.
        assert_eq!(average(&p, &[4, -1, 5, -2, 6, -3, 7, -4]), [6, 0]);
    }

    #[test]
    fn max_picks_the_largest_and_clamps() {
        let p = PoolParams { activation_max: 6, ..params(2, 4, 1, 2, 2, Padding::Valid) };
        let mut out = [0i8; 2];
        max_reference(&p, &[1, 2, -8, -2, 3, 5, -3, -5], &mut out).unwrap();
        // Windows (1 2 3 5) -> 5; (-8 -2 -3 -5) -> -2.
        assert_eq!(out, [5, -2]);
        max_reference(&p, &[1, 9, -8, -2, 3, 5, -3, -5], &mut out).unwrap();
        assert_eq!(out, [6, -2]); // 9 clamped to the ReLU6 bound 6
    }
}
