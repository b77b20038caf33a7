//! Decoder: halfwords -> [`Insn`]. Pure functions, never panic on any input.

mod thumb16;
mod thumb32;

use crate::insn::Insn;

/// True when `hw1` is the first halfword of a 32-bit Thumb-2 instruction.
#[inline]
pub fn is_32bit(hw1: u16) -> bool {
    (hw1 >> 11) >= 0b11101
}

/// Decodes one instruction. `hw2` is ignored for 16-bit encodings.
/// Returns the instruction and its length in bytes (2 or 4).
pub fn decode(hw1: u16, hw2: u16) -> (Insn, u8) {
    if is_32bit(hw1) { (thumb32::decode(hw1 as u32, hw2 as u32), 4) } else { (thumb16::decode(hw1 as u32), 2) }
}

/// Decodes from a 32-bit word as it appears in a little-endian halfword stream
/// (`hw1` in the low half), the order used in test tables.
pub fn decode_word(word: u32) -> (Insn, u8) {
    decode(word as u16, (word >> 16) as u16)
}

#[inline]
pub(crate) fn bits(x: u32, hi: u32, lo: u32) -> u32 {
    (x >> lo) & ((1u32 << (hi - lo + 1)) - 1)
}

#[inline]
pub(crate) fn bit(x: u32, n: u32) -> bool {
    (x >> n) & 1 != 0
}

/// `SignExtend(x, bits)`.
#[inline]
pub(crate) fn sext(x: u32, nbits: u32) -> i32 {
    let sh = 32 - nbits;
    ((x << sh) as i32) >> sh
}
