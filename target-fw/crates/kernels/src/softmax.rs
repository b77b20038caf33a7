//! SOFTMAX, int8 in, int8 out (output zero point -128, scale 1/256), over the
//! last dimension.
//!
//! TFLite has two int8 softmaxes and they differ in the last bit:
//! - [`lut_reference`]: what LiteRT's builtin kernels, *including*
//!   `BUILTIN_REF`, run for int8 (`activations.cc` never routes quantized
//!   softmax to the reference code): a 256-entry `f32` table of
//!   `exp(-input_scale * beta * d)` ([`populate_table`], host only: it needs
//!   `expf`), summed in `f32`, output `round(p * 256) - 128`. The MLPerf Tiny
//!   reference vectors come from this one. Firmware gets the table in the
//!   model file, so it needs no `expf`.
//! - [`fixed_point_reference`]: `reference_ops::Softmax`, which TFLite Micro's
//!   reference kernel runs: gemmlowp fixed-point `exp_on_negative_values` on
//!   Q5.26 differences and a Newton-Raphson reciprocal (see [`fixedpoint`]).

use crate::KernelError;
use crate::conv2d::{check_len, invalid_params};
use crate::quant::{rounding_divide_by_pot, saturating_rounding_doubling_high_mul};

/// Rows and row length of a softmax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SoftmaxShape {
    /// Number of rows (all dimensions but the last, multiplied).
    pub outer: usize,
    /// Length of the last dimension.
    pub depth: usize,
}

impl SoftmaxShape {
    pub const fn len(&self) -> usize {
        self.outer * self.depth
    }

    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The output quantization TFLite requires of an int8 softmax.
pub const OUTPUT_ZERO_POINT: i32 = -128;

/// `table[255 - d] = expf(-input_scale * beta * d)` for `d` in `0..=255`, as
/// TFLite's `PopulateSoftmaxLookupTable` (the product is `f32`, like its `float scale`).
#[cfg(any(test, feature = "std"))]
pub fn populate_table(input_scale: f32, beta: f32) -> [f32; 256] {
    let scale = -input_scale * beta;
    let mut table = [0f32; 256];
    for val in 0..=255u8 {
        table[255 - usize::from(val)] = (scale * f32::from(val)).exp();
    }
    table
}

/// `std::round` for the small non-negative floats softmax produces, without
/// libm (`f32::round` is not in `core`): halves round away from zero.
fn round_half_away(x: f32) -> i32 {
    // Saturating cast truncates toward zero; NaN becomes 0.
    let truncated = x as i32;
    let fraction = x - truncated as f32;
    if fraction >= 0.5 {
        truncated + 1
    } else if fraction <= -0.5 {
        truncated - 1
    } else {
        truncated
    }
}

/// LiteRT's int8 softmax (`optimized_ops::Softmax` with the float table);
/// `output_scale` is the output tensor's scale (1/256).
///
/// # Errors
/// A zero-sized shape, a non-positive scale or a slice of the wrong length;
/// nothing is written then.
pub fn lut_reference(
    shape: &SoftmaxShape,
    table: &[f32; 256],
    output_scale: f32,
    input: &[i8],
    output: &mut [i8],
) -> Result<(), KernelError> {
    if shape.is_empty() {
        return invalid_params("zero-sized softmax");
    }
    if output_scale.is_nan() || output_scale <= 0.0 {
        return invalid_params("softmax output scale not positive");
    }
    check_len("input", shape.len(), input.len())?;
    check_len("output", shape.len(), output.len())?;
    for (row, out_row) in input.chunks_exact(shape.depth).zip(output.chunks_exact_mut(shape.depth)) {
        let max = row.iter().copied().max().map_or(-128, i32::from);
        // table_offset[x] = table[255 - max + x]; x <= max keeps it in 0..=255.
        let entry = |x: i8| table[(255 - max + i32::from(x)) as usize];
        let mut sum = 0f32;
        for &x in row {
            sum += entry(x);
        }
        let inv_sum = 1.0 / (sum * output_scale);
        for (&x, out) in row.iter().zip(out_row.iter_mut()) {
            let q = round_half_away(entry(x) * inv_sum) + OUTPUT_ZERO_POINT;
            *out = q.clamp(-128, 127) as i8;
        }
    }
    Ok(())
}

/// Parameters of the fixed-point softmax (TFLite `SoftmaxParams` for
/// `reference_ops::Softmax`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FixedPointSoftmaxParams {
    pub shape: SoftmaxShape,
    /// `beta * input_scale` in Q5.26 terms, as `PreprocessSoftmaxScaling`.
    pub input_multiplier: i32,
    pub input_left_shift: i32,
    /// Differences below this (in input units) contribute exactly zero.
    pub diff_min: i32,
}

impl FixedPointSoftmaxParams {
    /// TFLite's `PreprocessSoftmaxScaling` and `CalculateInputRadius` with 5
    /// integer bits (the default, not `TFLITE_SINGLE_ROUNDING`, build).
    #[cfg(any(test, feature = "std"))]
    pub fn new(shape: SoftmaxShape, input_scale: f32, beta: f32) -> FixedPointSoftmaxParams {
        const INTEGER_BITS: i32 = 5;
        let max_real_multiplier = ((1i64 << 31) - 1) as f64;
        let real = (f64::from(beta) * f64::from(input_scale) * f64::from(1i32 << (31 - INTEGER_BITS)))
            .min(max_real_multiplier);
        let (input_multiplier, input_left_shift) = crate::quant::quantize_multiplier(real);
        let max_input_rescaled = f64::from((1i32 << INTEGER_BITS) - 1) * (1i64 << (31 - INTEGER_BITS)) as f64
            / (1i64 << input_left_shift) as f64;
        let diff_min = -(max_input_rescaled.floor() as i32);
        FixedPointSoftmaxParams { shape, input_multiplier, input_left_shift, diff_min }
    }
}

/// TFLite's `reference_ops::Softmax` for int8 in and out (TFLite Micro's reference kernel).
///
/// # Errors
/// A zero-sized shape, a left shift outside `0..=31` or a slice of the wrong
/// length; nothing is written then.
pub fn fixed_point_reference(
    params: &FixedPointSoftmaxParams,
    input: &[i8],
    output: &mut [i8],
) -> Result<(), KernelError> {
    let shape = params.shape;
    if shape.is_empty() {
        return invalid_params("zero-sized softmax");
    }
    if !(0..=31).contains(&params.input_left_shift) {
        return invalid_params("softmax input_left_shift outside 0..=31");
    }
    check_len("input", shape.len(), input.len())?;
    check_len("output", shape.len(), output.len())?;
    const ACCUMULATION_INTEGER_BITS: i32 = 12;
    let rescaled = |diff: i32| {
        // MultiplyByQuantizedMultiplierGreaterThanOne.
        saturating_rounding_doubling_high_mul(diff.wrapping_mul(1 << params.input_left_shift), params.input_multiplier)
    };
    for (row, out_row) in input.chunks_exact(shape.depth).zip(output.chunks_exact_mut(shape.depth)) {
        let max = row.iter().copied().max().map_or(-128, i32::from);
        let mut sum_of_exps = 0i32; // Q12.19
        for &x in row {
            let diff = i32::from(x) - max;
            if diff >= params.diff_min {
                let exp = fixedpoint::exp_on_negative_values_q5(rescaled(diff));
                // Rescale<12> from Q0.31 to Q12.19.
                sum_of_exps = sum_of_exps.wrapping_add(rounding_divide_by_pot(exp, ACCUMULATION_INTEGER_BITS));
            }
        }
        let (shifted_scale, num_bits_over_unit) = fixedpoint::reciprocal(sum_of_exps, ACCUMULATION_INTEGER_BITS);
        for (&x, out) in row.iter().zip(out_row.iter_mut()) {
            let diff = i32::from(x) - max;
            *out = if diff >= params.diff_min {
                let exp = fixedpoint::exp_on_negative_values_q5(rescaled(diff));
                // 31 - 8 output bits; the shift stays in 0..=31 for sums of at least one.
                let exponent = (num_bits_over_unit + 31 - 8).clamp(0, 31);
                let unsat = rounding_divide_by_pot(saturating_rounding_doubling_high_mul(shifted_scale, exp), exponent);
                (unsat - 128).clamp(-128, 127) as i8
            } else {
                -128
            };
        }
    }
    Ok(())
}

/// gemmlowp `fixedpoint.h` functions on raw `i32`s, bit-exact. `Qm` below
/// means `m` integer bits, `31 - m` fraction bits.
pub mod fixedpoint {
    use crate::quant::{rounding_divide_by_pot, saturating_rounding_doubling_high_mul as mul};

    /// `SaturatingRoundingMultiplyByPOT<exponent>` for `exponent > 0`: a left
    /// shift saturating to `i32::MIN`/`i32::MAX`.
    pub const fn saturating_shift_left(x: i32, exponent: u32) -> i32 {
        let threshold = (1i32 << (31 - exponent)) - 1;
        if x > threshold {
            i32::MAX
        } else if x < -threshold {
            i32::MIN
        } else {
            x << exponent
        }
    }

    /// gemmlowp `RoundingHalfSum`: `(a + b) / 2`, rounding half away from zero.
    pub const fn rounding_half_sum(a: i32, b: i32) -> i32 {
        let sum = a as i64 + b as i64;
        let sign = if sum >= 0 { 1 } else { -1 };
        ((sum + sign) / 2) as i32
    }

    /// `exp_on_interval_between_negative_one_quarter_and_0_excl`, Q0.31 in and out:
    /// a Taylor expansion around -1/8.
    pub const fn exp_on_interval_between_negative_one_quarter_and_0_excl(a: i32) -> i32 {
        const CONSTANT_TERM: i32 = 1_895_147_668; // exp(-1/8)
        const CONSTANT_1_OVER_3: i32 = 715_827_883;
        let x = a.wrapping_add(1 << 28); // + 1/8
        let x2 = mul(x, x);
        let x3 = mul(x2, x);
        let x4 = mul(x2, x2);
        let x4_over_4 = rounding_divide_by_pot(x4, 2);
        let poly = rounding_divide_by_pot(mul(x4_over_4.wrapping_add(x3), CONSTANT_1_OVER_3).wrapping_add(x2), 1);
        CONSTANT_TERM.wrapping_add(mul(CONSTANT_TERM, x.wrapping_add(poly)))
    }

    /// `exp_on_negative_values` for a Q5.26 input `a <= 0`, Q0.31 result.
    pub const fn exp_on_negative_values_q5(a: i32) -> i32 {
        const INTEGER_BITS: u32 = 5;
        const FRACTIONAL_BITS: u32 = 31 - INTEGER_BITS;
        let one_quarter = 1i32 << (FRACTIONAL_BITS - 2);
        let mask = one_quarter - 1;
        let a_mod_quarter_minus_one_quarter = (a & mask) - one_quarter;
        // Rescale<0> from Q5: a saturating left shift by 5 (in range here).
        let mut result = exp_on_interval_between_negative_one_quarter_and_0_excl(saturating_shift_left(
            a_mod_quarter_minus_one_quarter,
            INTEGER_BITS,
        ));
        let remainder = a_mod_quarter_minus_one_quarter.wrapping_sub(a);
        // Barrel shifter: multiply by exp(-2^k) for each set bit of the
        // remainder, k = -2..=4 (bit FRACTIONAL_BITS + k).
        const MULTIPLIERS: [(i32, i32); 7] = [
            (-2, 1_672_461_947),
            (-1, 1_302_514_674),
            (0, 790_015_084),
            (1, 290_630_308),
            (2, 39_332_535),
            (3, 720_401),
            (4, 242),
        ];
        let mut i = 0;
        while i < MULTIPLIERS.len() {
            let (exponent, multiplier) = MULTIPLIERS[i];
            let bit = 1i32 << (FRACTIONAL_BITS as i32 + exponent);
            if remainder & bit != 0 {
                result = mul(result, multiplier);
            }
            i += 1;
        }
        // With 5 integer bits there is no clamp below -32 (gemmlowp applies it only above 5).
        if a == 0 { i32::MAX } else { result }
    }

    /// `one_over_one_plus_x_for_x_in_0_1`: Q0.31 `x` in `[0, 1)` to Q0.31
    /// `1 / (1 + x)`, three Newton-Raphson steps in Q2.29.
    pub const fn one_over_one_plus_x_for_x_in_0_1(a: i32) -> i32 {
        const CONSTANT_48_OVER_17: i32 = 1_515_870_810;
        const CONSTANT_NEG_32_OVER_17: i32 = -1_010_580_540;
        const ONE_Q2: i32 = 1 << 29;
        let half_denominator = rounding_half_sum(a, i32::MAX);
        let mut x = CONSTANT_48_OVER_17.wrapping_add(mul(half_denominator, CONSTANT_NEG_32_OVER_17));
        let mut i = 0;
        while i < 3 {
            let half_denominator_times_x = mul(half_denominator, x);
            let one_minus = ONE_Q2.wrapping_sub(half_denominator_times_x);
            // Q2 * Q2 = Q4, Rescale<2>: saturating shift left by 2.
            x = x.wrapping_add(saturating_shift_left(mul(x, one_minus), 2));
            i += 1;
        }
        // ExactMulByPot<-1> reinterprets Q2 as Q1; Rescale<0> shifts left by 1.
        saturating_shift_left(x, 1)
    }

    /// TFLite `GetReciprocal`: for `x` in Q`integer_digits`, returns
    /// `(1 / x` scaled into Q0.31, `num_bits_over_unit)`.
    pub const fn reciprocal(x: i32, integer_digits: i32) -> (i32, i32) {
        let headroom_plus_one = (x as u32).leading_zeros();
        let num_bits_over_unit = integer_digits - headroom_plus_one as i32;
        // `<< 32` cannot happen for x > 0; x == 0 (no term) is guarded like C's shift-by-32 UB.
        let shifted = if headroom_plus_one >= 32 { 0 } else { (x as u32) << headroom_plus_one };
        let shifted_sum_minus_one = shifted.wrapping_sub(1 << 31) as i32;
        (one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one), num_bits_over_unit)
    }
}

#[cfg(test)]
mod tests {
    use super::fixedpoint::*;
    use super::*;

    fn q(x: f64, integer_bits: i32) -> i32 {
        (x * 2f64.powi(31 - integer_bits)).round() as i32
    }

    #[test]
    fn exp_matches_the_real_function() {
        // Q5.26 inputs; Q0.31 output within a few ulp of exp.
        for x in [-0.0001, -0.1, -0.25, -0.5, -1.0, -2.0, -5.5, -10.0, -20.0, -31.9] {
            let got = f64::from(exp_on_negative_values_q5(q(x, 5))) / 2f64.powi(31);
            assert!((got - x.exp()).abs() < 1e-6, "exp({x}) = {got}");
        }
        // exp(0) is exactly the largest Q0.31 value.
        assert_eq!(exp_on_negative_values_q5(0), i32::MAX);
    }

    #[test]
    fn reciprocal_matches_the_real_function() {
        for x in [0.0, 0.1, 0.5, 0.9, 0.999] {
            let got = f64::from(one_over_one_plus_x_for_x_in_0_1(q(x, 0))) / 2f64.powi(31);
            assert!((got - 1.0 / (1.0 + x)).abs() < 1e-8, "1/(1+{x}) = {got}");
        }
        // Sum 3.0 in Q12.19 is 1.5 * 2^20: 11 leading zeros, 12 - 11 = 1 bit over unit
        // (3 = 1.5 * 2^1); shifted left 11 it is 1.5 * 2^31, minus 2^31 = 0.5 -> 1 / 1.5.
        let (scale, bits) = reciprocal(3 << 19, 12);
        assert_eq!(bits, 1);
        assert!((f64::from(scale) / 2f64.powi(31) - 2.0 / 3.0).abs() < 1e-8);
    }

    #[test]
    fn rounding_half_sum_known_values() {
        assert_eq!(rounding_half_sum(1, 2), 2); // 1.5 -> 2
        assert_eq!(rounding_half_sum(-1, -2), -2); // -1.5 -> -2
        assert_eq!(rounding_half_sum(i32::MAX, i32::MAX), i32::MAX);
    }

    #[test]
    fn lut_softmax_two_classes() {
        // Input scale 1/16, beta 1: logits 16 and 0 are real 1.0 and 0.0.
        let table = populate_table(1.0 / 16.0, 1.0);
        assert_eq!(table[255], 1.0);
        let shape = SoftmaxShape { outer: 1, depth: 2 };
        let mut out = [0i8; 2];
        lut_reference(&shape, &table, 1.0 / 256.0, &[16, 0], &mut out).unwrap();
        // p = 1 / (1 + e^-1) = 0.731059 -> 187.15 -> 187 - 128 = 59; 0.268941 * 256 = 68.85 -> 69 - 128 = -59.
        assert_eq!(out, [59, -59]);
        // Equal logits: 128 each -> 0; a dominant logit saturates at 256 - 128 = 128 -> 127.
        lut_reference(&shape, &table, 1.0 / 256.0, &[5, 5], &mut out).unwrap();
        assert_eq!(out, [0, 0]);
        let table = populate_table(1.0, 1.0);
        lut_reference(&shape, &table, 1.0 / 256.0, &[100, -100], &mut out).unwrap();
        assert_eq!(out, [127, -128]);
    }

    #[test]
    fn fixed_point_softmax_two_classes() {
        let shape = SoftmaxShape { outer: 1, depth: 2 };
        let p = FixedPointSoftmaxParams::new(shape, 1.0 / 16.0, 1.0);
        // beta * scale * 2^26 = 2^22 -> 0.5 * 2^23: multiplier 2^30, left shift 23;
        // radius 31 * 2^26 / 2^23 = 248.
        assert_eq!((p.input_multiplier, p.input_left_shift, p.diff_min), (1 << 30, 23, -248));
        let mut out = [0i8; 2];
        fixed_point_reference(&p, &[16, 0], &mut out).unwrap();
        // Same probabilities as the table version: 187 and 69 out of 256.
        assert_eq!(out, [59, -59]);
        fixed_point_reference(&p, &[5, 5], &mut out).unwrap();
        assert_eq!(out, [0, 0]);
    }
}
