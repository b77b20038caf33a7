//! Deterministic synthetic CONV_2D workloads, built by `const fn` so firmware
//! can keep them in rodata (no start-up cost, no RAM).
//!
//! Values come from xorshift32 streams; each tensor takes its own seed derived
//! from the case seed so changing one shape does not reshuffle the others.
//! Requantization is chosen so outputs spread over int8 rather than saturate.

use crate::conv2d::{ConvParams, Padding, Shape};

/// Input zero point of fixture workloads: -128, as for a tensor after ReLU,
/// so the kernel's input offset path is exercised.
pub const INPUT_ZERO_POINT: i32 = -128;
/// Output zero point of fixture workloads.
pub const OUTPUT_ZERO_POINT: i32 = -3;

/// One xorshift32 step (Marsaglia, shifts 13/17/5). Zero maps to zero, so
/// generators never start from it.
pub const fn xorshift32(state: u32) -> u32 {
    let mut x = state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    x
}

/// Seed of tensor `stream` of case `seed`; never 0, and distinct streams of
/// one case are unrelated.
pub const fn stream_seed(seed: u32, stream: Stream) -> u32 {
    // Golden-ratio spreading, then mixing steps so nearby seeds diverge.
    let spread = seed.wrapping_mul(0x9E37_79B9) ^ (stream as u32).wrapping_mul(0x85EB_CA6B) ^ 0x2545_F491;
    let mixed = xorshift32(xorshift32(spread));
    if mixed == 0 { 0x2545_F491 } else { mixed }
}

/// The tensors of a workload, each drawn from its own stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Input = 0,
    Filter = 1,
    Bias = 2,
    Multipliers = 3,
    Shifts = 4,
}

/// `N` int8 values uniform over the whole range, from xorshift32 state `seed`
/// (0 is replaced: it is xorshift's fixed point).
pub const fn fill_i8<const N: usize>(seed: u32) -> [i8; N] {
    let mut out = [0i8; N];
    fill_i8_into(seed, &mut out);
    out
}

/// [`fill_i8`] into a slice of any length (the host sizes buffers at run time).
pub const fn fill_i8_into(seed: u32, out: &mut [i8]) {
    let mut state = if seed == 0 { 0x2545_F491 } else { seed };
    let mut i = 0;
    while i < out.len() {
        state = xorshift32(state);
        // The high byte: xorshift's low bits are its weakest.
        out[i] = (state >> 24) as u8 as i8;
        i += 1;
    }
}

/// `N` values uniform in `lo..=hi`, from xorshift32 state `seed` (not 0).
pub const fn fill_i32_in<const N: usize>(seed: u32, lo: i32, hi: i32) -> [i32; N] {
    let mut out = [0i32; N];
    fill_i32_in_into(seed, lo, hi, &mut out);
    out
}

/// [`fill_i32_in`] into a slice of any length.
pub const fn fill_i32_in_into(seed: u32, lo: i32, hi: i32, out: &mut [i32]) {
    let span = (hi as i64 - lo as i64 + 1) as u64;
    let mut state = if seed == 0 { 0x2545_F491 } else { seed };
    let mut i = 0;
    while i < out.len() {
        state = xorshift32(state);
        // Multiply-shift maps 0..2^32 onto 0..span without modulo bias worth noting.
        out[i] = (lo as i64 + ((state as u64 * span) >> 32) as i64) as i32;
        i += 1;
    }
}

/// Range of fixture biases: a fraction of the accumulator spread.
const BIAS_RANGE: (i32, i32) = (-(1 << 13), 1 << 13);
/// Q0.31 multipliers in `[2^30, 2^31)`, i.e. mantissas in `[0.5, 1)`.
const MULTIPLIER_RANGE: (i32, i32) = (1 << 30, i32::MAX);

/// The input tensor of case `seed`: uniform int8.
pub const fn input<const N: usize>(seed: u32) -> [i8; N] {
    fill_i8(stream_seed(seed, Stream::Input))
}

/// The OHWI filter of case `seed`: uniform int8.
pub const fn filter<const N: usize>(seed: u32) -> [i8; N] {
    fill_i8(stream_seed(seed, Stream::Filter))
}

/// Biases of a realistic size: a fraction of the accumulator spread.
pub const fn bias<const N: usize>(seed: u32) -> [i32; N] {
    fill_i32_in(stream_seed(seed, Stream::Bias), BIAS_RANGE.0, BIAS_RANGE.1)
}

/// Q0.31 multipliers in `[2^30, 2^31)`, i.e. mantissas in `[0.5, 1)`.
pub const fn multipliers<const N: usize>(seed: u32) -> [i32; N] {
    fill_i32_in(stream_seed(seed, Stream::Multipliers), MULTIPLIER_RANGE.0, MULTIPLIER_RANGE.1)
}

/// Shifts that map accumulators of `accumulation_depth` terms
/// (`filter_height * filter_width * input_channels`) onto int8 without
/// saturating most of them: each is [`base_shift`] or one less.
pub const fn shifts<const N: usize>(seed: u32, accumulation_depth: usize) -> [i32; N] {
    let base = base_shift(accumulation_depth);
    let mut out = fill_i32_in::<N>(stream_seed(seed, Stream::Shifts), 0, 1);
    let mut i = 0;
    while i < N {
        out[i] = base - out[i];
        i += 1;
    }
    out
}

/// The benchmark's convolution: 3x3 filter, stride 1, SAME padding, the
/// fixture's zero points, full int8 output range. Firmware and host both take
/// it from here so they compute the same thing.
pub const fn conv3x3_same(height: usize, width: usize, input_channels: usize, output_channels: usize) -> ConvParams {
    ConvParams {
        batches: 1,
        input: Shape { height, width, channels: input_channels },
        filter_height: 3,
        filter_width: 3,
        output_channels,
        stride_height: 1,
        stride_width: 1,
        dilation_height: 1,
        dilation_width: 1,
        padding: Padding::Same,
        input_offset: -INPUT_ZERO_POINT,
        output_offset: OUTPUT_ZERO_POINT,
        activation_min: -128,
        activation_max: 127,
    }
}

/// The tensors of a fixture workload in run-time sized buffers, for the
/// host: the same values the `const fn` generators put in firmware rodata.
/// Buffers must have the lengths `params` implies (input, OHWI filter, and
/// one entry per output channel for the rest).
pub fn fill_workload(
    seed: u32,
    params: &ConvParams,
    input: &mut [i8],
    filter: &mut [i8],
    bias: &mut [i32],
    multipliers: &mut [i32],
    shifts: &mut [i32],
) {
    fill_i8_into(stream_seed(seed, Stream::Input), input);
    fill_i8_into(stream_seed(seed, Stream::Filter), filter);
    fill_i32_in_into(stream_seed(seed, Stream::Bias), BIAS_RANGE.0, BIAS_RANGE.1, bias);
    fill_i32_in_into(stream_seed(seed, Stream::Multipliers), MULTIPLIER_RANGE.0, MULTIPLIER_RANGE.1, multipliers);
    fill_i32_in_into(stream_seed(seed, Stream::Shifts), 0, 1, shifts);
    let base = base_shift(params.filter_height * params.filter_width * params.input.channels);
    for s in shifts.iter_mut() {
        *s = base - *s;
    }
}

/// Shift for a multiplier of ~0.75 that brings the accumulator's spread to
/// around 32 output steps.
///
/// With uniform int8 weights (variance ~2^12.4) and inputs offset by 128
/// (second moment ~2^14.4), an accumulator of `d` terms has a standard
/// deviation of ~2^13.4 * sqrt(d); dividing by 2^(8.4 + log2(d)/2) lands near
/// 2^5.
pub const fn base_shift(accumulation_depth: usize) -> i32 {
    let log2_depth = if accumulation_depth <= 1 { 0 } else { accumulation_depth.ilog2() as i32 };
    -(8 + (log2_depth + 1) / 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conv2d::{self, ConvParams, ConvWeights};

    // The firmware's default case: 16x16x8 input, 3x3 filter, 16 output channels.
    const H: usize = 16;
    const W: usize = 16;
    const CIN: usize = 8;
    const COUT: usize = 16;
    const DEPTH: usize = 3 * 3 * CIN;

    fn params() -> ConvParams {
        conv3x3_same(H, W, CIN, COUT)
    }

    // Evaluated at compile time, as in the firmware.
    static INPUT: [i8; H * W * CIN] = input(1);
    static FILTER: [i8; COUT * DEPTH] = filter(1);
    static BIAS: [i32; COUT] = bias(1);
    static MULTIPLIERS: [i32; COUT] = multipliers(1);
    static SHIFTS: [i32; COUT] = shifts(1, DEPTH);

    fn run(input: &[i8], filter: &[i8]) -> Vec<i8> {
        let p = params();
        let w = ConvWeights { filter, bias: Some(&BIAS), output_multiplier: &MULTIPLIERS, output_shift: &SHIFTS };
        let mut out = vec![0; p.output_len()];
        conv2d::reference(&p, input, &w, &mut out).unwrap();
        out
    }

    #[test]
    fn xorshift32_reference_values() {
        // 1 -> 1 ^ 1<<13 = 0x2001; ^ >>17 = 0x2001; ^ <<5 = 0x2001 ^ 0x40020 = 0x42021.
        assert_eq!(xorshift32(1), 0x0004_2021);
        assert_eq!(xorshift32(0), 0);
    }

    #[test]
    fn fixture_is_deterministic_and_const_matches_runtime() {
        let at_runtime: [i8; H * W * CIN] = input(1);
        assert_eq!(at_runtime, INPUT);
        assert_ne!(input::<64>(1), input::<64>(2));
        assert_ne!(input::<64>(1), filter::<64>(1));
        assert_ne!(fill_i8::<64>(0), [0; 64], "seed 0 must not stick at xorshift's fixed point");
        assert_eq!(run(&INPUT, &FILTER), run(&INPUT, &FILTER));
    }

    #[test]
    fn run_time_fill_equals_the_const_generators() {
        let p = params();
        let (mut input, mut filter) = (vec![0i8; p.input_len()], vec![0i8; p.filter_len()]);
        let (mut bias, mut mult, mut shifts) = (vec![0i32; COUT], vec![0i32; COUT], vec![0i32; COUT]);
        fill_workload(1, &p, &mut input, &mut filter, &mut bias, &mut mult, &mut shifts);
        assert_eq!(input, INPUT);
        assert_eq!(filter, FILTER);
        assert_eq!(bias, BIAS);
        assert_eq!(mult, MULTIPLIERS);
        assert_eq!(shifts, SHIFTS);
    }

    #[test]
    fn generated_values_stay_in_their_ranges() {
        let mult: [i32; 1000] = multipliers(7);
        assert!(mult.iter().all(|m| (1 << 30..=i32::MAX).contains(m)));
        let bias: [i32; 1000] = bias(7);
        assert!(bias.iter().all(|b| (-(1 << 13)..=1 << 13).contains(b)));
        let shifts: [i32; 1000] = shifts(7, DEPTH);
        assert!(shifts.iter().all(|s| [-11, -12].contains(s)), "{:?}", &shifts[..8]);
        let input: [i8; 4096] = input(7);
        let distinct = input.iter().collect::<std::collections::BTreeSet<_>>().len();
        assert_eq!(distinct, 256);
    }

    #[test]
    fn fixture_output_is_spread_not_saturated() {
        let out = run(&INPUT, &FILTER);
        let distinct = out.iter().collect::<std::collections::BTreeSet<_>>().len();
        let saturated = out.iter().filter(|&&v| v == -128 || v == 127).count();
        assert!(distinct >= 100, "only {distinct} distinct output values");
        assert!(saturated * 100 <= out.len() * 2, "{saturated} of {} outputs saturated", out.len());
    }

    #[test]
    fn base_shift_scales_with_depth() {
        // log2(72) = 6 -> -(8 + 3) = -11; deeper accumulators shift further.
        assert_eq!(base_shift(DEPTH), -11);
        assert_eq!(base_shift(1), -8);
        assert_eq!(base_shift(3 * 3 * 64), -13);
    }
}
