//! The blocked int8 GEMM behind the `simd` CONV_2D and FULLY_CONNECTED
//! (the CMSIS-NN structure): `acc[pos][ch] = Σ_k (x[pos][k] + x_offset) ·
//! (w[ch][k] + w_offset)`, 4 positions × 2 channels per register block
//! ([`dsp::block_4x2`]).
//!
//! Both operands are **widened once** to 16-bit halves with their offset
//! added: the weights of a chunk of channels into [`Weights`] (once per
//! layer when they fit, as KWS's do), the im2col columns of 4 positions into
//! [`Columns`] (once per position block). The inner loop is then only word
//! loads and SMLADs. The reduction order is permuted the same way on both
//! sides, so no repacking is needed: values `4q..4q + 4` go to word `2q` as
//! `(v0, v2)` (what `SXTB16` makes of a word) and to word `2q + 1` as
//! `(v1, v3)` (`SXTB16 …, ROR #8`). A dot product does not depend on the
//! order of its terms, and the 32-bit sum wraps like the reference's.
//!
//! Padding is zeros on both sides: reduction slots past `k` (up to a
//! multiple of 8), taps outside the image (`x + x_offset = 0` there, as the
//! reference's skipped taps), the missing second channel of an odd count and
//! positions past the last.

use crate::dsp::{self, BLOCK_PAIRS, pair, sxtab16, sxtab16_ror8};
use crate::filter::Filter;

/// Longest reduction (`filter_height · filter_width · input_channels`, or
/// FULLY_CONNECTED's depth) the blocked path takes; longer ones keep the dot-product path.
pub const K_MAX: usize = 512;

/// Widened weight words per chunk (8 KiB on the stack).
const WEIGHT_WORDS: usize = 2048;

/// Reduction slots per channel: `k` rounded up to whole loop iterations.
pub const fn padded(k: usize) -> usize {
    k.div_ceil(4 * BLOCK_PAIRS) * 4 * BLOCK_PAIRS
}

/// Whether the blocked path handles a reduction of `k` with these offsets
/// (every offset of a TFLite int8 zero point does).
pub const fn supports(k: usize, x_offset: i32, w_offset: i32) -> bool {
    k > 0 && k <= K_MAX && dsp::fits_half(x_offset) && dsp::fits_half(w_offset)
}

/// Writes `values[i] + offset` as reduction slot `k0 + i` of lane `lane` in
/// `words`, where pair `j` of the lane is `words[j * stride + lane]`.
#[inline(always)]
fn widen_run(words: &mut [u32], stride: usize, lane: usize, k0: usize, values: &[i8], offset: i32) {
    let mut k = k0;
    let mut rest = values;
    // Single values up to a slot multiple of 4, whole words, then the tail.
    while !k.is_multiple_of(4)
        && let [v, tail @ ..] = rest
    {
        set_half(words, stride, lane, k, i32::from(*v) + offset);
        (k, rest) = (k + 1, tail);
    }
    let (quads, tail) = rest.as_chunks::<4>();
    let off = pair(offset);
    for q in quads {
        let word = u32::from_le_bytes(q.map(|v| v as u8));
        let j = k / 2;
        words[j * stride + lane] = sxtab16(off, word);
        words[(j + 1) * stride + lane] = sxtab16_ror8(off, word);
        k += 4;
    }
    for &v in tail {
        set_half(words, stride, lane, k, i32::from(v) + offset);
        k += 1;
    }
}

/// Slot `k` (value `v`, which fits 16 bits) of lane `lane`.
#[inline(always)]
fn set_half(words: &mut [u32], stride: usize, lane: usize, k: usize, v: i32) {
    let (j, shift) = (2 * (k / 4) + (k & 1), 16 * ((k & 2) >> 1));
    let word = &mut words[j * stride + lane];
    *word = (*word & !(0xffff << shift)) | ((v as u16 as u32) << shift);
}

/// The widened im2col columns of 4 output positions (lanes).
pub struct Columns {
    words: [u32; 2 * K_MAX],
    /// Slots per lane, `padded(k)`.
    slots: usize,
}

impl Columns {
    fn new(k: usize) -> Columns {
        Columns { words: [0; 2 * K_MAX], slots: padded(k) }
    }

    /// `values[i] + offset` into slot `k0 + i` of `lane`.
    #[inline]
    pub fn put(&mut self, lane: usize, k0: usize, values: &[i8], offset: i32) {
        widen_run(&mut self.words, 4, lane, k0, values, offset);
    }

    /// Zeros every slot of `lane` (before a column with taps outside the image).
    #[inline]
    pub fn clear(&mut self, lane: usize) {
        for j in 0..self.slots / 2 {
            self.words[4 * j + lane] = 0;
        }
    }
}

/// Widened weights of a chunk of channels, in pairs: pair `b`'s words at
/// `b * slots..(b + 1) * slots`, channel `2b` in the even words.
struct Weights {
    words: [u32; WEIGHT_WORDS],
    slots: usize,
}

impl Weights {
    /// Channels `first..first + count` of `filter` (`k` weights each), plus `offset`.
    fn load<F: Filter>(&mut self, filter: &F, k: usize, offset: i32, first: usize, count: usize) {
        let used = count.div_ceil(2) * self.slots;
        self.words[..used].fill(0);
        for i in 0..count {
            let block = &mut self.words[(i / 2) * self.slots..(i / 2 + 1) * self.slots];
            let start = (first + i) * k;
            match filter.as_int8() {
                Some(w) => widen_run(block, 2, i % 2, 0, &w[start..start + k], offset),
                None => {
                    let mut buf = [0i8; 64];
                    for k0 in (0..k).step_by(buf.len()) {
                        let run = &mut buf[..(k - k0).min(64)];
                        filter.unpack(start + k0, run);
                        widen_run(block, 2, i % 2, k0, run, offset);
                    }
                }
            }
        }
    }
}

/// A finished register block: positions `pos0..pos0 + positions` ×
/// channels `ch0..ch0 + channels` (at most 4 × 2), accumulator of position
/// `pos0 + p`, channel `ch0 + c` at `acc[2 * p + c]`.
#[derive(Debug, Clone, Copy)]
pub struct Block {
    pub pos0: usize,
    pub positions: usize,
    pub ch0: usize,
    pub channels: usize,
    pub acc: [i32; 8],
}

/// Runs the GEMM: `column(pos, columns, lane)` fills `lane` with position
/// `pos`'s widened values (see [`Columns::put`]; lanes are zero when first
/// handed out and keep their last contents), `store(block)` takes each
/// finished register block (one call per block, so the epilogue can resolve
/// its two channels' requantization once). `filter` holds channel `ch`'s
/// `k` weights at `ch * k`. Call only when [`supports`] holds.
pub fn run<F: Filter>(
    k: usize,
    positions: usize,
    channels: usize,
    filter: &F,
    w_offset: i32,
    mut column: impl FnMut(usize, &mut Columns, usize),
    mut store: impl FnMut(&Block),
) {
    debug_assert!(k > 0 && k <= K_MAX);
    let slots = padded(k);
    // Channels per chunk: as many pairs as the weight buffer holds (at least 4 pairs, K_MAX ≤ 512).
    let chunk = 2 * (WEIGHT_WORDS / slots);
    let mut weights = Weights { words: [0; WEIGHT_WORDS], slots };
    let mut columns = Columns::new(k);
    let x_words = 2 * slots;
    for first in (0..channels).step_by(chunk) {
        let count = chunk.min(channels - first);
        weights.load(filter, k, w_offset, first, count);
        let mut filled = 0;
        for pos0 in (0..positions).step_by(4) {
            let lanes = 4.min(positions - pos0);
            for lane in 0..lanes {
                column(pos0 + lane, &mut columns, lane);
            }
            // A short last block: clear the lanes still holding earlier positions.
            for lane in lanes..filled {
                columns.clear(lane);
            }
            filled = lanes;
            for b in 0..count.div_ceil(2) {
                let acc = dsp::block_4x2(&columns.words[..x_words], &weights.words[b * slots..(b + 1) * slots]);
                store(&Block { pos0, positions: lanes, ch0: first + 2 * b, channels: 2.min(count - 2 * b), acc });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn slots_are_permuted_as_documented() {
        // Values 1..=8 at slots 0..8 of lane 1 (stride 4): word 0 = (1, 3), word 1 = (2, 4), word 2 = (5, 7), word 3 = (6, 8).
        let mut words = [0u32; 16];
        widen_run(&mut words, 4, 1, 0, &[1, 2, 3, 4, 5, 6, 7, 8], 0);
        assert_eq!([words[1], words[5], words[9], words[13]], [0x0003_0001, 0x0004_0002, 0x0007_0005, 0x0008_0006]);
        // The same values one at a time from slot 1 on (unaligned start): slot 1 -> word 1 bottom.
        let mut single = [0u32; 16];
        widen_run(&mut single, 4, 1, 1, &[-1, 2], 1);
        // -1 + 1 = 0 at slot 1 (word 1 bottom), 2 + 1 = 3 at slot 2 (word 0 top).
        assert_eq!([single[1], single[5]], [0x0003_0000, 0]);
    }

    proptest! {
        /// The blocked GEMM equals the plain wrapping sum, for any shape and offsets.
        #[test]
        fn gemm_matches_scalar(
            k in 1usize..=40,
            positions in 1usize..=9,
            channels in 1usize..=7,
            seed in any::<u64>(),
            x_offset in -128i32..=128,
            w_offset in prop_oneof![Just(0i32), -128i32..=128],
        ) {
            let byte = |i: usize| (seed.rotate_left((i % 64) as u32) as usize).wrapping_mul(i + 7) as i8;
            let x: Vec<i8> = (0..positions * k).map(byte).collect();
            let w: Vec<i8> = (0..channels * k).map(|i| byte(i + 1000)).collect();
            let mut got = vec![None; positions * channels];
            run(k, positions, channels, &&w[..], w_offset,
                |pos, cols, lane| cols.put(lane, 0, &x[pos * k..(pos + 1) * k], x_offset),
                |b| {
                    for p in 0..b.positions {
                        for c in 0..b.channels {
                            assert!(got[(b.pos0 + p) * channels + b.ch0 + c].replace(b.acc[2 * p + c]).is_none());
                        }
                    }
                });
            for pos in 0..positions {
                for ch in 0..channels {
                    let expected = (0..k).fold(0i32, |a, i| {
                        a.wrapping_add((i32::from(x[pos * k + i]) + x_offset) * (i32::from(w[ch * k + i]) + w_offset))
                    });
                    prop_assert_eq!(got[pos * channels + ch], Some(expected));
                }
            }
        }
    }
}
