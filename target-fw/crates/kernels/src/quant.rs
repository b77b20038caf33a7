//! Fixed-point requantization, bit-exact with TensorFlow Lite
//! (`tensorflow/lite/kernels/internal/common.h`, which takes these from
//! gemmlowp `fixedpoint.h`).
//!
//! A real multiplier `M` is stored as a Q0.31 `quantized_multiplier` in
//! `[2^30, 2^31)` and a power-of-two `shift`: `M ≈ quantized_multiplier / 2^31 * 2^shift`.

/// `round(a * b / 2^31)` with TFLite/gemmlowp rounding, saturating the one
/// overflowing input `(i32::MIN, i32::MIN)` to `i32::MAX`.
///
/// gemmlowp adds a nudge of `±(2^30)` (minus one for negative products) and
/// then divides with truncation toward zero, so halves round toward +∞:
/// `1.5 -> 2`, `-1.5 -> -1`.
#[inline]
pub const fn saturating_rounding_doubling_high_mul(a: i32, b: i32) -> i32 {
    if a == b && a == i32::MIN {
        return i32::MAX;
    }
    let ab = a as i64 * b as i64;
    let nudge: i64 = if ab >= 0 { 1 << 30 } else { 1 - (1 << 30) };
    // `/` on i64 truncates toward zero, as C++'s does; the quotient fits i32
    // for every input except the one handled above.
    ((ab + nudge) / (1i64 << 31)) as i32
}

/// `x / 2^exponent`, rounding to nearest with ties away from zero
/// (gemmlowp `RoundingDivideByPOT`). `exponent` must be in `0..=31`.
#[inline]
pub const fn rounding_divide_by_pot(x: i32, exponent: i32) -> i32 {
    debug_assert!(exponent >= 0 && exponent <= 31);
    // Computed in i64 so `exponent == 31` gives 0x7fff_ffff, as gemmlowp's
    // `(1ll << exponent) - 1` does.
    let mask = ((1i64 << exponent) - 1) as i32;
    let remainder = x & mask;
    // Negative x: `>>` already rounded toward -∞, so it needs one more than
    // half to round back up; this makes ties go away from zero.
    let threshold = (mask >> 1) + if x < 0 { 1 } else { 0 };
    (x >> exponent) + if remainder > threshold { 1 } else { 0 }
}

/// `x * M` for the real multiplier `M = quantized_multiplier * 2^(shift - 31)`,
/// as TFLite's default (not `TFLITE_SINGLE_ROUNDING`) `MultiplyByQuantizedMultiplier`:
/// a left shift before the high multiply, a rounding right shift after it.
///
/// This rounds twice, so it can differ by one from `round(x * M)`; that is the
/// behaviour TFLite models are validated against.
#[inline]
pub const fn multiply_by_quantized_multiplier(x: i32, quantized_multiplier: i32, shift: i32) -> i32 {
    let left_shift = if shift > 0 { shift } else { 0 };
    let right_shift = if shift > 0 { 0 } else { -shift };
    // C++ overflows here (undefined) for inputs TFLite never produces; wrap
    // like the hardware does instead of panicking in debug builds.
    let scaled = x.wrapping_mul(1i32.wrapping_shl(left_shift as u32));
    rounding_divide_by_pot(saturating_rounding_doubling_high_mul(scaled, quantized_multiplier), right_shift)
}

/// [`multiply_by_quantized_multiplier`] in fewer instructions, bit for bit
/// the same (property-tested below); the `simd` kernels requantize with it.
///
/// - gemmlowp's nudge-then-truncate is a floor after all: for `ab ≥ 0`,
///   `(ab + 2^30) / 2^31` truncates a non-negative value; for `ab < 0`,
///   `ab + 1 - 2^30` is negative and truncating it toward zero equals
///   `floor((ab + 1 - 2^30 + 2^31 - 1) / 2^31) = floor((ab + 2^30) / 2^31)`.
///   So one `SMULL`, a 64-bit add and a shift, with no division.
/// - The rounding shift's mask is built in 32 bits (`(1 << e) - 1` wraps to
///   `0x7fff_ffff` for `e = 31`, as the i64 form does).
#[inline(always)]
pub const fn multiply_by_quantized_multiplier_fast(x: i32, quantized_multiplier: i32, shift: i32) -> i32 {
    let left_shift = if shift > 0 { shift } else { 0 };
    let right_shift = if shift > 0 { 0 } else { -shift };
    let scaled = x.wrapping_shl(left_shift as u32);
    let high = if scaled == i32::MIN && quantized_multiplier == i32::MIN {
        i32::MAX
    } else {
        ((scaled as i64 * quantized_multiplier as i64 + (1 << 30)) >> 31) as i32
    };
    let mask = (1u32.wrapping_shl(right_shift as u32) as i32).wrapping_sub(1);
    let threshold = (mask >> 1) + if high < 0 { 1 } else { 0 };
    (high >> right_shift) + if high & mask > threshold { 1 } else { 0 }
}

/// One output channel's requantization with its constants resolved once:
/// `clamp(MBQM(acc + bias) + offset, min, max)`, where MBQM is
/// [`multiply_by_quantized_multiplier`] (double rounding, TFLite's
/// convolutions), bit for bit (property-tested below). The `simd` epilogues
/// build one per channel of a register block and apply it to each of the
/// block's accumulators, so the per-output work is the arithmetic alone: no
/// parameter loads, no shift-direction branches.
///
/// The multiplier `i32::MIN` (a real multiplier of -1, which TFLite never
/// produces) is refused: it is the one value whose high multiply needs a
/// saturation test, and without it [`Requantizer::apply`] is straight-line
/// code. Kernels check [`Requantizer::supports`] once per layer.
///
/// `repr(C)`: [`Requantizer::apply4`]'s assembly loads the first eight
/// fields with one LDM, in this order.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct Requantizer {
    bias: i32,
    multiplier: i32,
    left_shift: u32,
    right_shift: u32,
    /// `2^right_shift - 1` and half of it: the rounding shift's remainder test.
    mask: i32,
    offset: i32,
    min: i32,
    max: i32,
    half: i32,
}

impl Requantizer {
    /// `bias` is 0 for a layer without one; `shift` as in
    /// [`multiply_by_quantized_multiplier`] (`-31..=31`).
    #[inline(always)]
    pub const fn new(bias: i32, multiplier: i32, shift: i32, offset: i32, min: i32, max: i32) -> Requantizer {
        let left_shift = if shift > 0 { shift as u32 } else { 0 };
        let right_shift = if shift > 0 { 0 } else { shift.unsigned_abs() };
        let mask = (1u32.wrapping_shl(right_shift) as i32).wrapping_sub(1);
        Requantizer { bias, multiplier, left_shift, right_shift, mask, offset, min, max, half: mask >> 1 }
    }

    /// Whether every multiplier of a layer can be a [`Requantizer`]'s.
    pub fn supports(multipliers: &[i32]) -> bool {
        !multipliers.contains(&i32::MIN)
    }

    /// The int8 output for accumulator `acc`. Straight-line arithmetic (one
    /// SMLAL, no data-dependent branches) so the compiler keeps it small in
    /// unrolled epilogues.
    #[inline(always)]
    pub const fn apply(&self, acc: i32) -> i8 {
        let scaled = acc.wrapping_add(self.bias).wrapping_shl(self.left_shift);
        // Fits i32 for every multiplier but `i32::MIN` (see the type's doc).
        let high = ((scaled as i64 * self.multiplier as i64 + (1 << 30)) >> 31) as i32;
        let threshold = self.half + (high < 0) as i32;
        let rounded = (high >> self.right_shift) + ((high & self.mask) > threshold) as i32;
        let out = rounded.wrapping_add(self.offset);
        let out = if out < self.min { self.min } else { out };
        (if out > self.max { self.max } else { out }) as i8
    }

    /// [`Requantizer::apply`] of four accumulators into `out[at]`,
    /// `out[at + stride]`, `out[at + 2 * stride]`, `out[at + 3 * stride]`:
    /// one channel of four output positions (NHWC rows `stride` apart). On
    /// ARM, hand-scheduled assembly with the eight constants in registers
    /// (about 22 cycles an output on the Cortex-M4 model); elsewhere `apply`
    /// four times. Checked on the simulator against `apply` by the
    /// `kernels_simd` test program.
    ///
    /// # Panics
    /// If `out` is shorter than `at + 3 * stride + 1`.
    #[inline]
    pub fn apply4(&self, acc: &[i32; 4], out: &mut [i8], at: usize, stride: usize) {
        assert!(at + 3 * stride < out.len(), "apply4: output row out of range");
        #[cfg(target_arch = "arm")]
        {
            // SAFETY: reads the 8 words at the start of `self` (repr(C), 9
            // words) and the 4 of `acc`; writes the four bytes at `at + i *
            // stride`, i < 4, inside `out` (asserted above). r6/r7 (not
            // allocatable in Rust asm) are saved and restored around the block.
            unsafe {
                core::arch::asm!(
                    "push {{r6, r7}}",
                    "ldm r0, {{r6, r7, r8, r9, r10, r11, r12, lr}}", // bias mult ls rs mask offset min max
                    ".rept 4",
                    "ldr r0, [r3], #4",
                    "add r0, r0, r6",              // + bias
                    "lsl r0, r0, r8",              // << left shift
                    "mov r1, #0x40000000",
                    "mov r2, #0",
                    "smlal r1, r2, r0, r7",        // x * multiplier + 2^30
                    "lsl r2, r2, #1",
                    "orr r0, r2, r1, lsr #31",     // high = that >> 31
                    "and r1, r0, r10",             // remainder
                    "lsr r2, r10, #1",             // half
                    "add r2, r2, r0, lsr #31",     // threshold: half, + 1 when high < 0
                    "asr r0, r0, r9",              // >> right shift
                    "cmp r1, r2",
                    "it gt",
                    "addgt r0, r0, #1",            // round half away from zero
                    "add r0, r0, r11",             // + output offset
                    "cmp r0, r12",
                    "it lt",
                    "movlt r0, r12",               // clamp below
                    "cmp r0, lr",
                    "it gt",
                    "movgt r0, lr",                // clamp above
                    "strb r0, [r4]",
                    "add r4, r4, r5",
                    ".endr",
                    "pop {{r6, r7}}",
                    inout("r0") core::ptr::from_ref(self) => _,
                    out("r1") _,
                    out("r2") _,
                    inout("r3") acc.as_ptr() => _,
                    inout("r4") out.as_mut_ptr().wrapping_add(at) => _,
                    in("r5") stride,
                    out("r8") _,
                    out("r9") _,
                    out("r10") _,
                    out("r11") _,
                    out("r12") _,
                    out("lr") _,
                )
            };
        }
        #[cfg(not(target_arch = "arm"))]
        {
            for (i, &a) in acc.iter().enumerate() {
                out[at + i * stride] = self.apply(a);
            }
        }
    }
}

/// `round(x * M)` with one rounding, half toward +∞, for
/// `M = quantized_multiplier * 2^(shift - 31)`: TFLite's
/// `TFLITE_SINGLE_ROUNDING` `MultiplyByQuantizedMultiplier`. LiteRT's int8
/// FULLY_CONNECTED rounds this way (measured against its reference kernels:
/// the MLPerf Tiny autoencoder matches only with it), its convolutions do not.
#[inline]
pub const fn multiply_by_quantized_multiplier_single_rounding(x: i32, quantized_multiplier: i32, shift: i32) -> i32 {
    let total_shift = 31 - shift;
    let round = 1i64 << (total_shift - 1);
    // Saturate like the int32 result TFLite asserts instead of wrapping silently.
    let result = (x as i64 * quantized_multiplier as i64 + round) >> total_shift;
    if result > i32::MAX as i64 {
        i32::MAX
    } else if result < i32::MIN as i64 {
        i32::MIN
    } else {
        result as i32
    }
}

/// Splits a real multiplier into `(quantized_multiplier, shift)` as TFLite's
/// `QuantizeMultiplier` does (host only: it needs `f64::round`).
///
/// `quantized_multiplier` is in `[2^30, 2^31)` for positive inputs (negated
/// for negative ones); zero gives `(0, 0)`, and multipliers below `2^-32`,
/// whose shift would exceed 31 bits, also give `(0, 0)`.
///
/// # Panics
/// If `real` is not finite (TFLite aborts too).
#[cfg(any(test, feature = "std"))]
pub fn quantize_multiplier(real: f64) -> (i32, i32) {
    assert!(real.is_finite(), "cannot quantize the multiplier {real}");
    if real == 0.0 {
        return (0, 0);
    }
    let (q, mut shift) = frexp(real);
    // TfLiteRound is std::round: halves away from zero, like f64::round.
    let mut q_fixed = (q * (1i64 << 31) as f64).round() as i64;
    assert!(q_fixed <= 1 << 31);
    if q_fixed == 1 << 31 {
        // The mantissa rounded up to 1.0: renormalize to 0.5 * 2^(shift + 1).
        // (TFLite checks only the positive end: -2^31 fits an i32 as is.)
        q_fixed /= 2;
        shift += 1;
    }
    if shift < -31 {
        // Every bit would be shifted out; TFLite encodes that as zero.
        return (0, 0);
    }
    (q_fixed as i32, shift)
}

/// C's `frexp` for finite non-zero `x`: `x = m * 2^e` with `0.5 <= |m| < 1`.
#[cfg(any(test, feature = "std"))]
fn frexp(x: f64) -> (f64, i32) {
    const EXPONENT_MASK: u64 = 0x7ff << 52;
    let bits = x.to_bits();
    let biased = ((bits & EXPONENT_MASK) >> 52) as i32;
    if biased == 0 {
        // Subnormal: scale into the normal range first.
        let (m, e) = frexp(x * 2f64.powi(64));
        return (m, e - 64);
    }
    // Biased exponent 1022 means 2^-1, i.e. a mantissa in [0.5, 1).
    let mantissa = f64::from_bits((bits & !EXPONENT_MASK) | (1022 << 52));
    (mantissa, biased - 1022)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HALF_Q31: i32 = 1 << 30; // 0.5 in Q0.31

    proptest! {
        /// The fast form is the reference form, including the saturating corner and extreme shifts.
        #[test]
        fn fast_requantization_is_exact(
            x in prop_oneof![any::<i32>(), -70_000i32..70_000, Just(i32::MIN), Just(i32::MAX)],
            m in prop_oneof![any::<i32>(), (1i32 << 30)..i32::MAX, Just(i32::MIN)],
            shift in -31i32..=31,
        ) {
            prop_assert_eq!(
                multiply_by_quantized_multiplier_fast(x, m, shift),
                multiply_by_quantized_multiplier(x, m, shift)
            );
        }
    }

    proptest! {
        /// The requantizer is bias + MBQM + offset + clamp, exactly.
        #[test]
        fn requantizer_is_exact(
            acc in prop_oneof![any::<i32>(), -70_000i32..70_000],
            bias in prop_oneof![Just(0i32), any::<i32>(), -5_000i32..5_000],
            m in prop_oneof![(i32::MIN + 1)..=i32::MAX, (1i32 << 30)..i32::MAX, Just(i32::MIN + 1)],
            shift in -31i32..=31,
            offset in -128i32..=127,
            (min, max) in prop_oneof![Just((-128i32, 127i32)), (-128i32..=127).prop_flat_map(|lo| (Just(lo), lo..=127))],
        ) {
            let expected = multiply_by_quantized_multiplier(acc.wrapping_add(bias), m, shift)
                .wrapping_add(offset)
                .clamp(min, max) as i8;
            prop_assert!(Requantizer::supports(&[m]));
            prop_assert_eq!(Requantizer::new(bias, m, shift, offset, min, max).apply(acc), expected);
        }
    }

    #[test]
    fn srdhm_known_values() {
        // The single overflow: (-1) * (-1) = +1 is not representable in Q0.31.
        assert_eq!(saturating_rounding_doubling_high_mul(i32::MIN, i32::MIN), i32::MAX);
        // 0.5 * 0.5 = 0.25 = 2^29 in Q0.31; (2^60 + 2^30) / 2^31 = 2^29 + 0.5 truncates to 2^29.
        assert_eq!(saturating_rounding_doubling_high_mul(HALF_Q31, HALF_Q31), 1 << 29);
        // (2^31-1)^2 = 2^62 - 2^32 + 1; + 2^30, / 2^31 = 2^31 - 2 + 0.50..., truncated.
        assert_eq!(saturating_rounding_doubling_high_mul(i32::MAX, i32::MAX), i32::MAX - 1);
        // 3 * 0.5 = 1.5: (3*2^30 + 2^30) / 2^31 = 2 exactly.
        assert_eq!(saturating_rounding_doubling_high_mul(3, HALF_Q31), 2);
        // -3 * 0.5 = -1.5: (-3*2^30 + 1 - 2^30) / 2^31 = -1.99..., truncated to -1 (ties go to +inf).
        assert_eq!(saturating_rounding_doubling_high_mul(-3, HALF_Q31), -1);
        // -1 * 0.5 = -0.5: (-2^30 + 1 - 2^30) / 2^31 = -0.99..., truncated to 0.
        assert_eq!(saturating_rounding_doubling_high_mul(-1, HALF_Q31), 0);
        // i32::MIN * 0.5 = -2^30 exactly.
        assert_eq!(saturating_rounding_doubling_high_mul(i32::MIN, HALF_Q31), -(1 << 30));
    }

    #[test]
    fn rdbpot_known_values() {
        // -5 / 2 = -2.5: mask 1, remainder -5 & 1 = 1, threshold 0 + 1 = 1,
        // -5 >> 1 = -3, 1 > 1 is false -> -3 (tie away from zero).
        assert_eq!(rounding_divide_by_pot(-5, 1), -3);
        // 5 / 2 = 2.5: remainder 1 > threshold 0 -> (5 >> 1) + 1 = 3.
        assert_eq!(rounding_divide_by_pot(5, 1), 3);
        // -3 / 2 = -1.5: remainder 1, threshold 1, -3 >> 1 = -2 -> -2.
        assert_eq!(rounding_divide_by_pot(-3, 1), -2);
        // -6 / 4 = -1.5: mask 3, remainder 0b10 = 2, threshold 1 + 1 = 2, -6 >> 2 = -2 -> -2.
        assert_eq!(rounding_divide_by_pot(-6, 2), -2);
        // -5 / 4 = -1.25: remainder 3 > threshold 2, -5 >> 2 = -2 -> -1.
        assert_eq!(rounding_divide_by_pot(-5, 2), -1);
        // 6 / 4 = 1.5: remainder 2 > threshold 1 -> 1 + 1 = 2.
        assert_eq!(rounding_divide_by_pot(6, 2), 2);
        // Exponent 0 is the identity, including for negatives.
        assert_eq!(rounding_divide_by_pot(-7, 0), -7);
        // Exponent 31: mask 0x7fff_ffff; i32::MIN / 2^31 = -1 exactly.
        assert_eq!(rounding_divide_by_pot(i32::MIN, 31), -1);
        // i32::MAX / 2^31 = 0.99... -> 1.
        assert_eq!(rounding_divide_by_pot(i32::MAX, 31), 1);
        // -2^30 / 2^31 = -0.5 -> -1 (away from zero).
        assert_eq!(rounding_divide_by_pot(-(1 << 30), 31), -1);
    }

    #[test]
    fn mbqm_known_values() {
        // 100 * 0.5 = 50, no shift.
        assert_eq!(multiply_by_quantized_multiplier(100, HALF_Q31, 0), 50);
        // 1000 * 0.5 / 8 = 62.5: SRDHM gives 500, RDBPOT(500, 3) = 63 (tie away from zero).
        assert_eq!(multiply_by_quantized_multiplier(1000, HALF_Q31, -3), 63);
        assert_eq!(multiply_by_quantized_multiplier(-1000, HALF_Q31, -3), -63);
        // Positive shift scales before the multiply: (3 << 2) * 0.5 = 6.
        assert_eq!(multiply_by_quantized_multiplier(3, HALF_Q31, 2), 6);
        // Double rounding: 1 * 0.5 / 2 = 0.25 exactly, but SRDHM rounds 0.5 up
        // to 1 and RDBPOT(1, 1) = 0.5 rounds up to 1 again. TFLite gives 1.
        assert_eq!(multiply_by_quantized_multiplier(1, HALF_Q31, -1), 1);
        // 0.75 in Q0.31 is 3 << 29: 3 * 0.75 = 2.25 -> 2, / 2 = 1.
        assert_eq!(multiply_by_quantized_multiplier(3, 3 << 29, -1), 1);
    }

    #[test]
    fn single_rounding_known_values() {
        // The case that separates the two: 1691 * 1442659874 / 2^36 = 35.49995 (MLPerf AD, layer 1).
        // Double rounding: SRDHM = 1135.998 -> 1136, / 32 = 35.5 -> 36. Single: 35.
        assert_eq!(multiply_by_quantized_multiplier(1691, 1_442_659_874, -5), 36);
        assert_eq!(multiply_by_quantized_multiplier_single_rounding(1691, 1_442_659_874, -5), 35);
        // 1 * 0.5 / 2 = 0.25 -> 0 (double rounding gives 1, see mbqm_known_values).
        assert_eq!(multiply_by_quantized_multiplier_single_rounding(1, HALF_Q31, -1), 0);
        // Ties go toward +inf: 3 * 0.5 = 1.5 -> 2, -3 * 0.5 = -1.5 -> -1.
        assert_eq!(multiply_by_quantized_multiplier_single_rounding(3, HALF_Q31, 0), 2);
        assert_eq!(multiply_by_quantized_multiplier_single_rounding(-3, HALF_Q31, 0), -1);
        // Positive shift: 3 * 0.5 * 4 = 6.
        assert_eq!(multiply_by_quantized_multiplier_single_rounding(3, HALF_Q31, 2), 6);
    }

    #[test]
    fn quantize_multiplier_known_values() {
        // frexp(0.5) = (0.5, 0): 0.5 * 2^31 = 2^30.
        assert_eq!(quantize_multiplier(0.5), (1 << 30, 0));
        // frexp(1.0) = (0.5, 1).
        assert_eq!(quantize_multiplier(1.0), (1 << 30, 1));
        // 0.75 * 2^31 = 1_610_612_736.
        assert_eq!(quantize_multiplier(0.75), (1_610_612_736, 0));
        // 0.1 = 0.8 * 2^-3; 0.8 * 2^31 = 1_717_986_918.4 -> 1_717_986_918.
        assert_eq!(quantize_multiplier(0.1), (1_717_986_918, -3));
        // Mantissa 1 - 2^-40 rounds to 2^31, which is renormalized to 2^30 with shift + 1.
        assert_eq!(quantize_multiplier(1.0 - 2f64.powi(-40)), (1 << 30, 1));
        // 2^-40 = 0.5 * 2^-39: shift -39 < -31 flushes to zero.
        assert_eq!(quantize_multiplier(2f64.powi(-40)), (0, 0));
        assert_eq!(quantize_multiplier(0.0), (0, 0));
        // Negative multipliers keep their sign in the mantissa.
        assert_eq!(quantize_multiplier(-0.5), (-(1 << 30), 0));
        // Subnormal input goes through the rescaling branch of frexp; it is far below 2^-32.
        assert_eq!(quantize_multiplier(f64::MIN_POSITIVE / 4.0), (0, 0));
    }

    #[test]
    fn frexp_matches_c() {
        assert_eq!(frexp(8.0), (0.5, 4));
        assert_eq!(frexp(-3.0), (-0.75, 2));
        assert_eq!(frexp(f64::MIN_POSITIVE / 2.0), (0.5, -1022));
    }

    proptest! {
        /// SRDHM is round-half-up of 2ab / 2^32 (see the doc comment), exact in i128.
        #[test]
        fn srdhm_is_round_half_up(a in any::<i32>(), b in any::<i32>()) {
            prop_assume!(!(a == i32::MIN && b == i32::MIN));
            let expected = (2 * a as i128 * b as i128 + (1i128 << 31)).div_euclid(1i128 << 32);
            prop_assert_eq!(saturating_rounding_doubling_high_mul(a, b) as i128, expected);
        }

        /// RDBPOT is x / 2^e rounded to nearest, ties away from zero.
        #[test]
        fn rdbpot_rounds_half_away_from_zero(x in any::<i32>(), exponent in 0i32..=31) {
            let magnitude = (x as i64).abs();
            let half = if exponent == 0 { 0 } else { 1i64 << (exponent - 1) };
            let rounded = (magnitude + half) >> exponent;
            let expected = if x < 0 { -rounded } else { rounded };
            prop_assert_eq!(rounding_divide_by_pot(x, exponent) as i64, expected);
        }

        /// MBQM is within one of the exact product for non-positive shifts.
        #[test]
        fn mbqm_is_within_one_of_exact(x in any::<i32>(), m in (1i32 << 30)..i32::MAX, shift in -31i32..=0) {
            let exact = x as f64 * m as f64 / 2f64.powi(31 - shift);
            let got = multiply_by_quantized_multiplier(x, m, shift) as f64;
            prop_assert!((got - exact).abs() <= 1.0, "got {got}, exact {exact}");
        }

        /// The quantized pair represents the real multiplier to Q0.31 precision.
        #[test]
        fn quantize_multiplier_round_trips(real in 1e-6f64..1e3) {
            let (m, shift) = quantize_multiplier(real);
            prop_assert!((1 << 30..=i32::MAX).contains(&m), "{m}");
            let back = m as f64 * 2f64.powi(shift - 31);
            prop_assert!((back - real).abs() <= real * 2f64.powi(-30), "{real} -> {back}");
        }
    }
}
