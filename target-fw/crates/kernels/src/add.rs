//! ADD, int8 elementwise (both inputs the same shape).
//!
//! Semantics are TFLite's `reference_integer_ops::Add` (`AddElementwise`):
//! each input is offset by its zero point, shifted left by `left_shift` (20
//! for int8) to keep precision, scaled by its multiplier (both `< 1`), summed,
//! and the sum scaled by the output multiplier. [`AddParams::from_scales`]
//! derives the multipliers as TFLite's `Prepare` does.

use crate::KernelError;
use crate::conv2d::{check_len, invalid_params};
use crate::quant::multiply_by_quantized_multiplier;

/// TFLite's `left_shift` for int8 ADD (int16 uses 15).
pub const INT8_LEFT_SHIFT: i32 = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AddParams {
    /// Elements of each input and of the output.
    pub size: usize,
    /// Minus the zero points of the inputs.
    pub input1_offset: i32,
    pub input2_offset: i32,
    pub left_shift: i32,
    pub input1_multiplier: i32,
    pub input1_shift: i32,
    pub input2_multiplier: i32,
    pub input2_shift: i32,
    pub output_multiplier: i32,
    pub output_shift: i32,
    /// The output zero point.
    pub output_offset: i32,
    pub activation_min: i32,
    pub activation_max: i32,
}

impl AddParams {
    /// The multipliers TFLite's `Prepare` computes for int8 ADD: inputs are
    /// rescaled to `2 * max(scale1, scale2)`, the sum back to the output scale
    /// (`QuantizeMultiplierSmallerThanOneExp`, i.e. [`crate::quant::quantize_multiplier`]).
    #[cfg(any(test, feature = "std"))]
    #[allow(clippy::too_many_arguments)]
    pub fn from_scales(
        size: usize,
        (scale1, zero_point1): (f32, i32),
        (scale2, zero_point2): (f32, i32),
        (output_scale, output_zero_point): (f32, i32),
        (activation_min, activation_max): (i32, i32),
    ) -> AddParams {
        use crate::quant::quantize_multiplier;
        let left_shift = INT8_LEFT_SHIFT;
        // `2 * std::max(float, float)` is a float; the quotients are doubles.
        let twice_max_input_scale = f64::from(2.0 * scale1.max(scale2));
        let real1 = f64::from(scale1) / twice_max_input_scale;
        let real2 = f64::from(scale2) / twice_max_input_scale;
        let real_out = twice_max_input_scale / f64::from((1i32 << left_shift) as f32 * output_scale);
        let (input1_multiplier, input1_shift) = quantize_multiplier(real1);
        let (input2_multiplier, input2_shift) = quantize_multiplier(real2);
        let (output_multiplier, output_shift) = quantize_multiplier(real_out);
        AddParams {
            size,
            input1_offset: -zero_point1,
            input2_offset: -zero_point2,
            left_shift,
            input1_multiplier,
            input1_shift,
            input2_multiplier,
            input2_shift,
            output_multiplier,
            output_shift,
            output_offset: output_zero_point,
            activation_min,
            activation_max,
        }
    }

    pub const fn macs(&self) -> u64 {
        self.size as u64
    }

    pub const fn validate(&self) -> Result<(), KernelError> {
        if self.size == 0 {
            return invalid_params("zero-sized ADD");
        }
        if self.left_shift < 0 || self.left_shift > 24 {
            return invalid_params("ADD left_shift outside 0..=24");
        }
        // The input and output multipliers are all below one in TFLite.
        if self.input1_shift > 0 || self.input2_shift > 0 || self.output_shift > 0 {
            return invalid_params("ADD shift above 0");
        }
        if self.input1_shift < -31 || self.input2_shift < -31 || self.output_shift < -31 {
            return invalid_params("ADD shift below -31");
        }
        if self.activation_min > self.activation_max || self.activation_min < -128 || self.activation_max > 127 {
            return invalid_params("activation range not within -128..=127 or min > max");
        }
        Ok(())
    }
}

/// The plain implementation every optimized ADD is tested against.
///
/// # Errors
/// Invalid parameters or a slice of the wrong length; nothing is written then.
pub fn reference(params: &AddParams, input1: &[i8], input2: &[i8], output: &mut [i8]) -> Result<(), KernelError> {
    params.validate()?;
    check_len("input1", params.size, input1.len())?;
    check_len("input2", params.size, input2.len())?;
    check_len("output", params.size, output.len())?;
    for ((&a, &b), out) in input1.iter().zip(input2).zip(output.iter_mut()) {
        let shifted1 = (i32::from(a) + params.input1_offset) << params.left_shift;
        let shifted2 = (i32::from(b) + params.input2_offset) << params.left_shift;
        // Non-positive shifts: MultiplyByQuantizedMultiplierSmallerThanOneExp is
        // exactly multiply_by_quantized_multiplier there.
        let scaled1 = multiply_by_quantized_multiplier(shifted1, params.input1_multiplier, params.input1_shift);
        let scaled2 = multiply_by_quantized_multiplier(shifted2, params.input2_multiplier, params.input2_shift);
        let raw_sum = scaled1.wrapping_add(scaled2);
        let raw_output = multiply_by_quantized_multiplier(raw_sum, params.output_multiplier, params.output_shift)
            .wrapping_add(params.output_offset);
        *out = raw_output.clamp(params.activation_min, params.activation_max) as i8;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_scales_add_real_values() {
        // Both inputs and the output at scale 0.5: 2 * max = 1.0, input multipliers 0.5
        // (2^30, shift 0), output 1.0 / (2^20 * 0.5) = 2^-19 = 0.5 * 2^-18 (2^30, shift -18).
        let p = AddParams::from_scales(3, (0.5, 1), (0.5, -2), (0.5, 3), (-128, 127));
        assert_eq!((p.input1_multiplier, p.input1_shift), (1 << 30, 0));
        assert_eq!((p.output_multiplier, p.output_shift), (1 << 30, -18));
        // a = 11 (real (11-1)*0.5 = 5), b = 0 (real (0+2)*0.5 = 1): (10 << 20) * 0.5 + (2 << 20) * 0.5
        // = 6 * 2^20, * 2^-19 = 12 -> real 6.0 at scale 0.5, + zero point 3 = 15.
        let mut out = [0i8; 3];
        reference(&p, &[11, -128, 127], &[0, -128, 127], &mut out).unwrap();
        // -128: (-129 + -126) = -255 -> -255 + 3 = -252 -> clamped -128. 127: 126 + 129 + 3 = 258 -> 127.
        assert_eq!(out, [15, -128, 127]);
    }

    #[test]
    fn unequal_scales_round_like_tflite() {
        // Scales 1.0 and 0.25, output 1.0: twice max = 2.0; multipliers 0.5 (2^30, 0) and
        // 0.125 (2^30, -2); output 2 / 2^20 = 2^-19 (2^30, -18).
        let p = AddParams::from_scales(2, (1.0, 0), (0.25, 0), (1.0, 0), (-128, 127));
        assert_eq!((p.input2_multiplier, p.input2_shift), (1 << 30, -2));
        // a = 3, b = 2 (real 0.5): 3 * 2^19 + 2 * 2^17 = 1_572_864 + 262_144 = 1_835_008;
        // * 2^-19 = 3.5 -> rounds half away from zero to 4.
        // a = -3, b = -2: -3.5 -> -4.
        let mut out = [0i8; 2];
        reference(&p, &[3, -3], &[2, -2], &mut out).unwrap();
        assert_eq!(out, [4, -4]);
    }
}
