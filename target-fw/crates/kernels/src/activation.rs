//! Activations: the fused-activation clamp range (TFLite
//! `CalculateActivationRangeQuantized`) and standalone RELU / RELU6 / RELU_N1_TO_1
//! (TFLite `ReluX` on quantized tensors: requantize, then clamp).

use crate::KernelError;
use crate::conv2d::{check_len, invalid_params};
use crate::quant::multiply_by_quantized_multiplier;

/// A TFLite fused activation (`ActivationFunctionType`) the engine supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum FusedActivation {
    None,
    Relu,
    ReluN1To1,
    Relu6,
}

impl FusedActivation {
    /// The real-valued clamp bounds; `None` for an unbounded side.
    pub const fn bounds(self) -> (Option<f32>, Option<f32>) {
        match self {
            FusedActivation::None => (None, None),
            FusedActivation::Relu => (Some(0.0), None),
            FusedActivation::ReluN1To1 => (Some(-1.0), Some(1.0)),
            FusedActivation::Relu6 => (Some(0.0), Some(6.0)),
        }
    }

    /// `(activation_min, activation_max)` for an int8 output with this scale
    /// and zero point, as TFLite's `CalculateActivationRangeQuantized`:
    /// `zero_point + round(bound / scale)` in `f32`, rounded half away from
    /// zero, intersected with `-128..=127`. The same bounds serve the
    /// standalone activations (`QuantizedReluX`), which round the same way.
    #[cfg(any(test, feature = "std"))]
    pub fn range_int8(self, scale: f32, zero_point: i32) -> (i32, i32) {
        let quantize = |bound: f32| zero_point + (bound / scale).round() as i32;
        let (low, high) = self.bounds();
        let min = low.map_or(-128, |b| quantize(b).max(-128));
        let max = high.map_or(127, |b| quantize(b).min(127));
        (min, max)
    }
}

/// A standalone RELU-family op on int8 tensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ReluParams {
    pub size: usize,
    /// The input zero point (subtracted, unlike the `*_offset` of the convolutions).
    pub input_zero_point: i32,
    /// The output zero point.
    pub output_offset: i32,
    /// `input_scale / output_scale` as TFLite's `QuantizeMultiplier`.
    pub output_multiplier: i32,
    pub output_shift: i32,
    pub activation_min: i32,
    pub activation_max: i32,
}

impl ReluParams {
    /// The parameters TFLite's `ReluPrepare` / `QuantizedReluX` compute.
    #[cfg(any(test, feature = "std"))]
    pub fn new(
        kind: FusedActivation,
        size: usize,
        (input_scale, input_zero_point): (f32, i32),
        (output_scale, output_zero_point): (f32, i32),
    ) -> ReluParams {
        let (output_multiplier, output_shift) =
            crate::quant::quantize_multiplier(f64::from(input_scale) / f64::from(output_scale));
        let (activation_min, activation_max) = kind.range_int8(output_scale, output_zero_point);
        ReluParams {
            size,
            input_zero_point,
            output_offset: output_zero_point,
            output_multiplier,
            output_shift,
            activation_min,
            activation_max,
        }
    }

    pub const fn validate(&self) -> Result<(), KernelError> {
        if self.size == 0 {
            return invalid_params("zero-sized activation");
        }
        if self.output_shift < -31 || self.output_shift > 31 {
            return invalid_params("output_shift outside -31..=31");
        }
        if self.activation_min > self.activation_max || self.activation_min < -128 || self.activation_max > 127 {
            return invalid_params("activation range not within -128..=127 or min > max");
        }
        Ok(())
    }
}

/// The plain implementation of RELU / RELU6 / RELU_N1_TO_1 (TFLite `ReluX`).
///
/// # Errors
/// Invalid parameters or a slice of the wrong length; nothing is written then.
pub fn relu_reference(params: &ReluParams, input: &[i8], output: &mut [i8]) -> Result<(), KernelError> {
    params.validate()?;
    check_len("input", params.size, input.len())?;
    check_len("output", params.size, output.len())?;
    for (&x, out) in input.iter().zip(output.iter_mut()) {
        *out = relu_one(params, x);
    }
    Ok(())
}

/// One element of [`relu_reference`] (parameters already validated); the
/// fused kernels apply it to a convolution's output in registers.
#[inline]
pub fn relu_one(params: &ReluParams, x: i8) -> i8 {
    let scaled = multiply_by_quantized_multiplier(
        i32::from(x) - params.input_zero_point,
        params.output_multiplier,
        params.output_shift,
    );
    params.output_offset.wrapping_add(scaled).clamp(params.activation_min, params.activation_max) as i8
}

/// RESHAPE: the data does not move; copy it to the output buffer.
///
/// # Errors
/// [`KernelError::LengthMismatch`] if the two slices differ in length.
pub fn reshape_reference(input: &[i8], output: &mut [i8]) -> Result<(), KernelError> {
    check_len("output", input.len(), output.len())?;
    output.copy_from_slice(input);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fused_ranges_match_tflite() {
        // KWS conv output: scale 0.0787, zero point -128: ReLU min = -128 + round(0) = -128.
        assert_eq!(FusedActivation::Relu.range_int8(0.078_725_4, -128), (-128, 127));
        // Zero point 5, scale 0.1: ReLU6 -> (5, 5 + 60 = 65).
        assert_eq!(FusedActivation::Relu6.range_int8(0.1, 5), (5, 65));
        // Scale 0.02: 6 / 0.02 = 300 -> 300 - 10 = 290, capped to 127.
        assert_eq!(FusedActivation::Relu6.range_int8(0.02, -10), (-10, 127));
        // ReLU_N1_TO_1 at scale 0.4: 1 / 0.4 = 2.5 rounds away from zero to 3 -> (-3, 3).
        assert_eq!(FusedActivation::ReluN1To1.range_int8(0.4, 0), (-3, 3));
        assert_eq!(FusedActivation::None.range_int8(0.4, 0), (-128, 127));
    }

    #[test]
    fn relu6_requantizes_then_clamps() {
        // Input scale 0.5 zp 0, output scale 0.25 zp -128: multiplier 2.0 (2^30, shift 2).
        let p = ReluParams::new(FusedActivation::Relu6, 4, (0.5, 0), (0.25, -128));
        assert_eq!((p.output_multiplier, p.output_shift), (1 << 30, 2));
        // ReLU6 bounds: -128 + 0 and -128 + 6 / 0.25 = -104.
        assert_eq!((p.activation_min, p.activation_max), (-128, -104));
        let mut out = [0i8; 4];
        // x = -4 (real -2) -> -8 - 128 -> -128; x = 3 (1.5) -> 6 - 128 = -122; x = 12 (6.0) -> -104; 13 -> -104.
        relu_reference(&p, &[-4, 3, 12, 13], &mut out).unwrap();
        assert_eq!(out, [-128, -122, -104, -104]);
    }

    #[test]
    fn reshape_copies() {
        let mut out = [0i8; 3];
        reshape_reference(&[1, 2, 3], &mut out).unwrap();
        assert_eq!(out, [1, 2, 3]);
        assert!(reshape_reference(&[1, 2], &mut out).is_err());
    }
}
