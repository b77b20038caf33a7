//! FULLY_CONNECTED, int8, per-tensor or per-output-channel requantization.
//!
//! Semantics are TFLite's `reference_integer_ops::FullyConnected` (one
//! multiplier) and `FullyConnectedPerChannel` (one per output): the filter is
//! `[output_depth, accum_depth]` row-major, every accumulator is
//! `sum((filter + filter_offset) * (input + input_offset)) + bias`.

use crate::KernelError;
use crate::conv2d::{check_len, invalid_params};
use crate::filter::Filter;
use crate::quant::{multiply_by_quantized_multiplier, multiply_by_quantized_multiplier_single_rounding};

/// How the accumulator is requantized. TFLite builds differ: TFLite Micro
/// and LiteRT's convolutions round twice (`Double`), LiteRT's int8
/// FULLY_CONNECTED rounds once (`Single`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Rounding {
    /// [`multiply_by_quantized_multiplier`] (TFLite default build).
    Double,
    /// [`multiply_by_quantized_multiplier_single_rounding`] (`TFLITE_SINGLE_ROUNDING`).
    Single,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FullyConnectedParams {
    /// Rows of the input: its element count over `accum_depth`.
    pub batches: usize,
    /// Inputs per output (the filter's inner dimension).
    pub accum_depth: usize,
    pub output_depth: usize,
    /// Minus the input zero point.
    pub input_offset: i32,
    /// Minus the filter zero point (0 for the usual symmetric filters).
    pub filter_offset: i32,
    /// The output zero point.
    pub output_offset: i32,
    pub activation_min: i32,
    pub activation_max: i32,
    pub rounding: Rounding,
}

/// Filter, bias and requantization. `output_multiplier`/`output_shift` hold
/// one entry (per-tensor) or `output_depth` entries (per-channel). The
/// filter is int8 (`&[i8]`, the default) or packed int4 ([`crate::filter::Int4`]).
#[derive(Debug, Clone, Copy)]
pub struct FullyConnectedWeights<'a, F = &'a [i8]> {
    pub filter: F,
    pub bias: Option<&'a [i32]>,
    pub output_multiplier: &'a [i32],
    pub output_shift: &'a [i32],
}

impl<'a, F> FullyConnectedWeights<'a, F> {
    /// The same bias and requantization with another filter (storage).
    pub fn with_filter<G>(&self, filter: G) -> FullyConnectedWeights<'a, G> {
        FullyConnectedWeights {
            filter,
            bias: self.bias,
            output_multiplier: self.output_multiplier,
            output_shift: self.output_shift,
        }
    }
}

impl FullyConnectedParams {
    pub const fn input_len(&self) -> usize {
        self.batches * self.accum_depth
    }

    pub const fn filter_len(&self) -> usize {
        self.output_depth * self.accum_depth
    }

    pub const fn output_len(&self) -> usize {
        self.batches * self.output_depth
    }

    pub const fn macs(&self) -> u64 {
        self.output_len() as u64 * self.accum_depth as u64
    }

    pub const fn validate(&self) -> Result<(), KernelError> {
        if self.batches == 0 || self.accum_depth == 0 || self.output_depth == 0 {
            return invalid_params("zero-sized fully connected layer");
        }
        if self.activation_min > self.activation_max || self.activation_min < -128 || self.activation_max > 127 {
            return invalid_params("activation range not within -128..=127 or min > max");
        }
        Ok(())
    }
}

/// Every check [`reference`] makes, in its order (shared with the optimized
/// kernels); returns whether the requantization is per channel.
pub(crate) fn check<F: Filter>(
    params: &FullyConnectedParams,
    input: &[i8],
    weights: &FullyConnectedWeights<'_, F>,
    output_len: usize,
) -> Result<bool, KernelError> {
    params.validate()?;
    let depth = params.output_depth;
    check_len("input", params.input_len(), input.len())?;
    check_len("filter", params.filter_len(), weights.filter.len())?;
    if let Some(bias) = weights.bias {
        check_len("bias", depth, bias.len())?;
    }
    let per_channel = weights.output_multiplier.len() != 1;
    let quant_len = if per_channel { depth } else { 1 };
    check_len("output_multiplier", quant_len, weights.output_multiplier.len())?;
    check_len("output_shift", quant_len, weights.output_shift.len())?;
    check_len("output", params.output_len(), output_len)?;
    if weights.output_shift.iter().any(|shift| !(-31..=31).contains(shift)) {
        return Err(KernelError::InvalidParams { what: "output_shift outside -31..=31" });
    }
    Ok(per_channel)
}

/// The plain implementation every optimized fully connected kernel is tested against.
///
/// # Errors
/// Invalid parameters, a shift outside `-31..=31`, multipliers that are
/// neither one nor one per output, or a slice of the wrong length; nothing
/// is written then.
pub fn reference<F: Filter>(
    params: &FullyConnectedParams,
    input: &[i8],
    weights: &FullyConnectedWeights<'_, F>,
    output: &mut [i8],
) -> Result<(), KernelError> {
    let per_channel = check(params, input, weights, output.len())?;
    let depth = params.output_depth;

    let accum_depth = params.accum_depth;
    for batch in 0..params.batches {
        let row = &input[batch * accum_depth..(batch + 1) * accum_depth];
        for out_c in 0..depth {
            let mut acc: i32 = 0;
            for (i, &x) in row.iter().enumerate() {
                let w = weights.filter.at(out_c * accum_depth + i);
                acc = acc.wrapping_add((i32::from(w) + params.filter_offset) * (i32::from(x) + params.input_offset));
            }
            if let Some(bias) = weights.bias {
                acc = acc.wrapping_add(bias[out_c]);
            }
            let q = if per_channel { out_c } else { 0 };
            let (m, shift) = (weights.output_multiplier[q], weights.output_shift[q]);
            let scaled = match params.rounding {
                Rounding::Double => multiply_by_quantized_multiplier(acc, m, shift),
                Rounding::Single => multiply_by_quantized_multiplier_single_rounding(acc, m, shift),
            };
            output[batch * depth + out_c] =
                scaled.wrapping_add(params.output_offset).clamp(params.activation_min, params.activation_max) as i8;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HALF_Q31: i32 = 1 << 30;

    fn params(batches: usize, accum_depth: usize, output_depth: usize) -> FullyConnectedParams {
        FullyConnectedParams {
            batches,
            accum_depth,
            output_depth,
            input_offset: 0,
            filter_offset: 0,
            output_offset: 0,
            activation_min: -128,
            activation_max: 127,
            rounding: Rounding::Double,
        }
    }

    #[test]
    fn per_tensor_hand_computed() {
        // Input zero point 2 (offset -2): x = [3, 4, 5] -> effective [1, 2, 3].
        // Filter zero point -1 (offset +1): rows [0, 1, 2] -> [1, 2, 3] and [-2, 0, 2] -> [-1, 1, 3].
        let p = FullyConnectedParams { input_offset: -2, filter_offset: 1, output_offset: 5, ..params(1, 3, 2) };
        let w = FullyConnectedWeights {
            filter: &[0, 1, 2, -2, 0, 2],
            bias: Some(&[1, -3]),
            output_multiplier: &[HALF_Q31],
            output_shift: &[0],
        };
        let mut out = [0i8; 2];
        reference(&p, &[3, 4, 5], &w, &mut out).unwrap();
        // Row 0: 1 + 4 + 9 = 14, +1 = 15, *0.5 = 7.5 -> 8 (half up), +5 = 13.
        // Row 1: -1 + 2 + 9 = 10, -3 = 7, *0.5 = 3.5 -> 4, +5 = 9.
        assert_eq!(out, [13, 9]);
    }

    #[test]
    fn per_channel_uses_one_multiplier_per_output_and_clamps() {
        let p = FullyConnectedParams { activation_min: 0, activation_max: 10, ..params(2, 2, 2) };
        let w = FullyConnectedWeights {
            filter: &[1, 1, 1, -1],
            bias: None,
            output_multiplier: &[HALF_Q31, HALF_Q31],
            output_shift: &[1, 3], // scales 1.0 and 4.0
        };
        let mut out = [0i8; 4];
        // Batch 0 x = [2, 1]: out0 = 3 * 1 = 3; out1 = 1 * 4 = 4.
        // Batch 1 x = [1, 4]: out0 = 5; out1 = -3 * 4 = -12 -> clamped to 0.
        reference(&p, &[2, 1, 1, 4], &w, &mut out).unwrap();
        assert_eq!(out, [3, 4, 5, 0]);
        assert_eq!(p.macs(), 8);
    }

    #[test]
    fn single_rounding_rounds_once() {
        // acc = 1 * 1 = 1, multiplier 0.25 (0.5 * 2^-1): double rounding 0.5 -> 1 then 0.5 -> 1;
        // single rounding 0.25 -> 0.
        let w = FullyConnectedWeights { filter: &[1], bias: None, output_multiplier: &[HALF_Q31], output_shift: &[-1] };
        let mut out = [0i8; 1];
        reference(&params(1, 1, 1), &[1], &w, &mut out).unwrap();
        assert_eq!(out, [1]);
        reference(&FullyConnectedParams { rounding: Rounding::Single, ..params(1, 1, 1) }, &[1], &w, &mut out).unwrap();
        assert_eq!(out, [0]);
    }

    #[test]
    fn multiplier_count_must_be_one_or_per_output() {
        let p = params(1, 2, 3);
        let w = FullyConnectedWeights {
            filter: &[0; 6],
            bias: None,
            output_multiplier: &[HALF_Q31; 2],
            output_shift: &[0; 2],
        };
        let mut out = [0i8; 3];
        assert_eq!(
            reference(&p, &[0; 2], &w, &mut out),
            Err(KernelError::LengthMismatch { what: "output_multiplier", expected: 3, actual: 2 })
        );
    }
}
