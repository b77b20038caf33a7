//! Pure ALU helpers from the ARM pseudocode (AddWithCarry, Shift_C, saturation).

use crate::insn::{Shift, ShiftType};

/// `AddWithCarry(x, y, carry_in)` -> (result, carry, overflow).
#[inline]
pub fn add_with_carry(x: u32, y: u32, carry_in: bool) -> (u32, bool, bool) {
    let unsigned = x as u64 + y as u64 + carry_in as u64;
    let signed = x as i32 as i64 + y as i32 as i64 + carry_in as i64;
    let result = unsigned as u32;
    (result, unsigned >> 32 != 0, result as i32 as i64 != signed)
}

/// `Shift_C(value, type, amount, carry_in)` for amounts 0..=255 (register shifts use
/// the bottom byte of the register; immediate shifts are at most 32).
#[inline]
pub fn shift_c(value: u32, ty: ShiftType, amount: u32, carry_in: bool) -> (u32, bool) {
    if amount == 0 && ty != ShiftType::Rrx {
        return (value, carry_in);
    }
    match ty {
        ShiftType::Lsl => {
            if amount < 32 {
                (value << amount, (value >> (32 - amount)) & 1 != 0)
            } else if amount == 32 {
                (0, value & 1 != 0)
            } else {
                (0, false)
            }
        }
        ShiftType::Lsr => {
            if amount < 32 {
                (value >> amount, (value >> (amount - 1)) & 1 != 0)
            } else if amount == 32 {
                (0, value >> 31 != 0)
            } else {
                (0, false)
            }
        }
        ShiftType::Asr => {
            if amount < 32 {
                (((value as i32) >> amount) as u32, (value >> (amount - 1)) & 1 != 0)
            } else {
                let r = ((value as i32) >> 31) as u32;
                (r, r & 1 != 0)
            }
        }
        ShiftType::Ror => {
            let r = value.rotate_right(amount & 31);
            (r, r >> 31 != 0)
        }
        ShiftType::Rrx => ((value >> 1) | ((carry_in as u32) << 31), value & 1 != 0),
    }
}

/// Immediate shift of a register operand.
#[inline]
pub fn shift_imm(value: u32, shift: Shift, carry_in: bool) -> (u32, bool) {
    shift_c(value, shift.ty, shift.n as u32, carry_in)
}

/// `SignedSatQ(x, n)` for 1 <= n <= 32.
#[inline]
pub fn signed_sat(x: i64, n: u32) -> (i64, bool) {
    let max = (1i64 << (n - 1)) - 1;
    let min = -(1i64 << (n - 1));
    if x > max {
        (max, true)
    } else if x < min {
        (min, true)
    } else {
        (x, false)
    }
}

/// `UnsignedSatQ(x, n)` for 0 <= n <= 31.
#[inline]
pub fn unsigned_sat(x: i64, n: u32) -> (i64, bool) {
    let max = (1i64 << n) - 1;
    if x > max {
        (max, true)
    } else if x < 0 {
        (0, true)
    } else {
        (x, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_with_carry_flags() {
        assert_eq!(add_with_carry(0xffff_ffff, 1, false), (0, true, false));
        assert_eq!(add_with_carry(0x7fff_ffff, 1, false), (0x8000_0000, false, true));
        // SUB 0 - 1 = x + !y + 1: borrow means C clear.
        assert_eq!(add_with_carry(0, !1, true), (0xffff_ffff, false, false));
    }

    #[test]
    fn shifts_edge_amounts() {
        assert_eq!(shift_c(0x8000_0001, ShiftType::Lsl, 32, false), (0, true));
        assert_eq!(shift_c(0x8000_0001, ShiftType::Lsr, 32, false), (0, true));
        assert_eq!(shift_c(0x8000_0000, ShiftType::Asr, 40, false), (0xffff_ffff, true));
        assert_eq!(shift_c(1, ShiftType::Rrx, 1, true), (0x8000_0000, true));
        assert_eq!(shift_c(0x10, ShiftType::Ror, 36, false), (0x1, false));
    }
}
