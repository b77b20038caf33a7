//! 32-bit Thumb-2 encodings (ARMv7-M ARM section A5.3), `hw1` = first halfword.

use super::{bit, bits, sext};
use crate::insn::*;

pub(super) fn decode(hw1: u32, hw2: u32) -> Insn {
    let word = hw1 | (hw2 << 16);
    let insn = match bits(hw1, 12, 11) {
        0b01 => {
            if bit(hw1, 10) {
                coproc(hw1, hw2)
            } else if bit(hw1, 9) {
                dp_shifted_reg(hw1, hw2)
            } else if bit(hw1, 6) {
                ldst_dual_excl(hw1, hw2)
            } else {
                ldst_multiple(hw1, hw2)
            }
        }
        0b10 => {
            if bit(hw2, 15) {
                branch_misc(hw1, hw2)
            } else if bit(hw1, 9) {
                dp_plain_imm(hw1, hw2)
            } else {
                dp_mod_imm(hw1, hw2)
            }
        }
        _ => {
            if bit(hw1, 10) {
                coproc(hw1, hw2)
            } else if bits(hw1, 9, 8) == 0 && !bit(hw1, 4) {
                store_single(hw1, hw2)
            } else if bits(hw1, 9, 8) == 0b10 {
                dp_register(hw1, hw2)
            } else if bits(hw1, 9, 7) == 0b110 {
                multiply(hw1, hw2)
            } else if bits(hw1, 9, 7) == 0b111 {
                long_multiply(hw1, hw2)
            } else if bits(hw1, 9, 9) == 0 && bit(hw1, 4) {
                load_single(hw1, hw2)
            } else {
                None
            }
        }
    };
    insn.unwrap_or(Insn::Undefined { word })
}

fn r(x: u32, hi: u32, lo: u32) -> Reg {
    bits(x, hi, lo) as Reg
}

fn ldst_multiple(hw1: u32, hw2: u32) -> Option<Insn> {
    let rn = r(hw1, 3, 0);
    let wback = bit(hw1, 5);
    let load = bit(hw1, 4);
    let regs = hw2 as u16;
    let db = match bits(hw1, 8, 7) {
        0b01 => false,
        0b10 => true,
        _ => return None,
    };
    if regs.count_ones() == 0 || regs & (1 << 13) != 0 {
        return None;
    }
    Some(if load {
        Insn::Ldm { rn, regs, wback, db }
    } else {
        if regs & (1 << 15) != 0 {
            return None;
        }
        Insn::Stm { rn, regs, wback, db }
    })
}

fn ldst_dual_excl(hw1: u32, hw2: u32) -> Option<Insn> {
    let rn = r(hw1, 3, 0);
    let rt = r(hw2, 15, 12);
    let op1 = bits(hw1, 8, 7);
    let op2 = bits(hw1, 5, 4);
    let op3 = bits(hw2, 7, 4);
    let imm8 = bits(hw2, 7, 0);
    Some(match (op1, op2) {
        (0b00, 0b00) => Insn::Strex { ty: MemTy::Word, rd: r(hw2, 11, 8), rt, rn, imm: (imm8 << 2) as u16 },
        (0b00, 0b01) => Insn::Ldrex { ty: MemTy::Word, rt, rn, imm: (imm8 << 2) as u16 },
        (0b01, 0b00) => match op3 {
            0b0100 => Insn::Strex { ty: MemTy::Byte, rd: r(hw2, 3, 0), rt, rn, imm: 0 },
            0b0101 => Insn::Strex { ty: MemTy::Half, rd: r(hw2, 3, 0), rt, rn, imm: 0 },
            _ => return None,
        },
        (0b01, 0b01) => match op3 {
            0b0000 => Insn::Tb { rn, rm: r(hw2, 3, 0), half: false },
            0b0001 => Insn::Tb { rn, rm: r(hw2, 3, 0), half: true },
            0b0100 => Insn::Ldrex { ty: MemTy::Byte, rt, rn, imm: 0 },
            0b0101 => Insn::Ldrex { ty: MemTy::Half, rt, rn, imm: 0 },
            _ => return None,
        },
        _ => {
            // LDRD/STRD (immediate / literal): P = hw1[8], U = hw1[7], W = hw1[5].
            let index = bit(hw1, 8);
            let add = bit(hw1, 7);
            let wback = bit(hw1, 5);
            let off = (imm8 << 2) as i32;
            let imm = if add { off } else { -off };
            let rt2 = r(hw2, 11, 8);
            if bit(hw1, 4) {
                Insn::Ldrd { rt, rt2, rn, imm, index, wback }
            } else {
                Insn::Strd { rt, rt2, rn, imm, index, wback }
            }
        }
    })
}

fn dp_op(op: u32, rd: Reg, rn: Reg, s: bool) -> Option<DpOp> {
    Some(match op {
        0b0000 if rd == 15 && s => DpOp::Tst,
        0b0000 => DpOp::And,
        0b0001 => DpOp::Bic,
        0b0010 if rn == 15 => DpOp::Mov,
        0b0010 => DpOp::Orr,
        0b0011 if rn == 15 => DpOp::Mvn,
        0b0011 => DpOp::Orn,
        0b0100 if rd == 15 && s => DpOp::Teq,
        0b0100 => DpOp::Eor,
        0b1000 if rd == 15 && s => DpOp::Cmn,
        0b1000 => DpOp::Add,
        0b1010 => DpOp::Adc,
        0b1011 => DpOp::Sbc,
        0b1101 if rd == 15 && s => DpOp::Cmp,
        0b1101 => DpOp::Sub,
        0b1110 => DpOp::Rsb,
        _ => return None,
    })
}

fn sf(s: bool) -> SetFlags {
    if s { SetFlags::Always } else { SetFlags::Never }
}

fn dp_shifted_reg(hw1: u32, hw2: u32) -> Option<Insn> {
    let op = bits(hw1, 8, 5);
    let s = bit(hw1, 4);
    let rn = r(hw1, 3, 0);
    let rd = r(hw2, 11, 8);
    let rm = r(hw2, 3, 0);
    let imm5 = (bits(hw2, 14, 12) << 2) | bits(hw2, 7, 6);
    let ty = bits(hw2, 5, 4);
    if bit(hw2, 15) {
        return None;
    }
    if op == 0b0110 {
        if s || bit(hw2, 4) {
            return None;
        }
        let tb = bit(hw2, 5);
        return Some(Insn::Pkh { rd, rn, rm, tb, shift: Shift::decode(if tb { 2 } else { 0 }, imm5) });
    }
    let op = dp_op(op, rd, rn, s)?;
    let (rd, rn) = match op {
        DpOp::Mov | DpOp::Mvn => (rd, 0),
        DpOp::Tst | DpOp::Teq | DpOp::Cmp | DpOp::Cmn => (0, rn),
        _ => (rd, rn),
    };
    Some(Insn::DpReg { op, rd, rn, rm, shift: Shift::decode(ty, imm5), s: sf(s) })
}

/// `ThumbExpandImm_C`: returns the value and the shifter carry out (None = unchanged).
pub(crate) fn thumb_expand_imm(imm12: u32) -> (u32, Option<bool>) {
    if imm12 >> 10 == 0 {
        let b = imm12 & 0xff;
        let v = match (imm12 >> 8) & 3 {
            0 => b,
            1 => b | (b << 16),
            2 => (b << 8) | (b << 24),
            _ => b | (b << 8) | (b << 16) | (b << 24),
        };
        (v, None)
    } else {
        let unrot = 0x80 | (imm12 & 0x7f);
        let v = unrot.rotate_right(imm12 >> 7);
        (v, Some(v >> 31 != 0))
    }
}

fn dp_mod_imm(hw1: u32, hw2: u32) -> Option<Insn> {
    let op = bits(hw1, 8, 5);
    let s = bit(hw1, 4);
    let rn = r(hw1, 3, 0);
    let rd = r(hw2, 11, 8);
    let imm12 = (bits(hw1, 10, 10) << 11) | (bits(hw2, 14, 12) << 8) | bits(hw2, 7, 0);
    let (imm, carry) = thumb_expand_imm(imm12);
    let op = dp_op(op, rd, rn, s)?;
    let (rd, rn) = match op {
        DpOp::Mov | DpOp::Mvn => (rd, 0),
        DpOp::Tst | DpOp::Teq | DpOp::Cmp | DpOp::Cmn => (0, rn),
        _ => (rd, rn),
    };
    Some(Insn::DpImm { op, rd, rn, imm, carry, s: sf(s) })
}

fn dp_plain_imm(hw1: u32, hw2: u32) -> Option<Insn> {
    let rn = r(hw1, 3, 0);
    let rd = r(hw2, 11, 8);
    let imm12 = (bits(hw1, 10, 10) << 11) | (bits(hw2, 14, 12) << 8) | bits(hw2, 7, 0);
    let imm16 = ((bits(hw1, 3, 0) << 12) | imm12) as u16;
    let imm3_2 = (bits(hw2, 14, 12) << 2) | bits(hw2, 7, 6);
    let low5 = bits(hw2, 4, 0) as u8;
    Some(match bits(hw1, 8, 4) {
        0b00000 if rn == 15 => Insn::Adr { rd, imm: imm12 as i32 },
        0b00000 => Insn::DpImm { op: DpOp::Add, rd, rn, imm: imm12, carry: None, s: SetFlags::Never },
        0b00100 => Insn::MovW { rd, imm: imm16 },
        0b01010 if rn == 15 => Insn::Adr { rd, imm: -(imm12 as i32) },
        0b01010 => Insn::DpImm { op: DpOp::Sub, rd, rn, imm: imm12, carry: None, s: SetFlags::Never },
        0b01100 => Insn::MovT { rd, imm: imm16 },
        0b10000 | 0b10010 | 0b11000 | 0b11010 => {
            let unsigned = bit(hw1, 7);
            let sh = bit(hw1, 5);
            if sh && imm3_2 == 0 {
                // SSAT16 / USAT16.
                if bits(hw2, 5, 4) != 0 {
                    return None;
                }
                let sat = (low5 & 0xf) + u8::from(!unsigned);
                Insn::Sat16 { rd, rn, sat, unsigned }
            } else {
                let sat = low5 + u8::from(!unsigned);
                Insn::Sat { rd, rn, sat, shift: Shift::decode(if sh { 2 } else { 0 }, imm3_2), unsigned }
            }
        }
        0b10100 | 0b11100 => {
            let lsb = imm3_2 as u8;
            let width = low5 + 1;
            if lsb as u32 + width as u32 > 32 {
                return None;
            }
            Insn::Bfx { rd, rn, lsb, width, signed: !bit(hw1, 7) }
        }
        0b10110 => {
            let lsb = imm3_2 as u8;
            if low5 < lsb {
                return None;
            }
            Insn::Bfi { rd, rn, lsb, msb: low5 }
        }
        _ => return None,
    })
}

fn branch_misc(hw1: u32, hw2: u32) -> Option<Insn> {
    let op1 = bits(hw2, 14, 12);
    let s = bits(hw1, 10, 10);
    let j1 = bits(hw2, 13, 13);
    let j2 = bits(hw2, 11, 11);
    let imm11 = bits(hw2, 10, 0);
    match op1 {
        0b000 | 0b010 => {
            let op = bits(hw1, 10, 4);
            if bits(op, 5, 3) != 0b111 {
                let cond = bits(hw1, 9, 6) as u8;
                let imm = (s << 20) | (j2 << 19) | (j1 << 18) | (bits(hw1, 5, 0) << 12) | (imm11 << 1);
                return Some(Insn::B { cond, imm: sext(imm, 21) });
            }
            if op1 == 0b010 {
                // UDF.W (permanently undefined).
                if op == 0b1111111 {
                    let imm = ((bits(hw1, 3, 0) << 12) | bits(hw2, 11, 0)) as u16;
                    return Some(Insn::Udf { imm });
                }
                return None;
            }
            Some(match op {
                0b0111000 | 0b0111001 => {
                    let mask = bits(hw2, 11, 10) as u8;
                    if mask == 0 {
                        return None;
                    }
                    Insn::Msr { rn: r(hw1, 3, 0), sysm: bits(hw2, 7, 0) as u8, mask }
                }
                0b0111010 => {
                    if bits(hw2, 10, 8) != 0 {
                        return None;
                    }
                    match bits(hw2, 7, 0) {
                        0 => Insn::Hint { op: HintOp::Nop },
                        1 => Insn::Hint { op: HintOp::Yield },
                        2 => Insn::Hint { op: HintOp::Wfe },
                        3 => Insn::Hint { op: HintOp::Wfi },
                        4 => Insn::Hint { op: HintOp::Sev },
                        0xf0..=0xff => Insn::Hint { op: HintOp::Dbg },
                        _ => Insn::Hint { op: HintOp::Nop },
                    }
                }
                0b0111011 => match bits(hw2, 7, 4) {
                    0b0010 => Insn::Clrex,
                    0b0100 => Insn::Barrier { op: BarrierOp::Dsb },
                    0b0101 => Insn::Barrier { op: BarrierOp::Dmb },
                    0b0110 => Insn::Barrier { op: BarrierOp::Isb },
                    _ => return None,
                },
                0b0111110 | 0b0111111 => Insn::Mrs { rd: r(hw2, 11, 8), sysm: bits(hw2, 7, 0) as u8 },
                _ => return None,
            })
        }
        _ => {
            let i1 = 1 ^ (j1 ^ s);
            let i2 = 1 ^ (j2 ^ s);
            let imm = (s << 24) | (i1 << 23) | (i2 << 22) | (bits(hw1, 9, 0) << 12) | (imm11 << 1);
            let imm = sext(imm, 25);
            match op1 {
                0b001 | 0b011 => Some(Insn::B { cond: 14, imm }),
                0b101 | 0b111 => Some(Insn::Bl { imm }),
                _ => None, // BLX (immediate) switches to ARM state: not on M profile.
            }
        }
    }
}

/// Shared addressing-mode decode of 32-bit single loads/stores.
enum Addr {
    Imm { rn: Reg, imm: i32, index: bool, wback: bool },
    Reg { rn: Reg, rm: Reg, shift: u8 },
}

fn single_addr(hw1: u32, hw2: u32) -> Option<Addr> {
    let rn = r(hw1, 3, 0);
    if rn == 15 {
        // Literal: U = hw1[7].
        let imm12 = bits(hw2, 11, 0) as i32;
        return Some(Addr::Imm { rn, imm: if bit(hw1, 7) { imm12 } else { -imm12 }, index: true, wback: false });
    }
    if bit(hw1, 7) {
        return Some(Addr::Imm { rn, imm: bits(hw2, 11, 0) as i32, index: true, wback: false });
    }
    if bit(hw2, 11) {
        let p = bit(hw2, 10);
        let u = bit(hw2, 9);
        let w = bit(hw2, 8);
        if !p && !w {
            return None;
        }
        let imm8 = bits(hw2, 7, 0) as i32;
        // P=1 U=1 W=0 is the unprivileged LDRT/STRT form: treated as a plain access.
        return Some(Addr::Imm { rn, imm: if u { imm8 } else { -imm8 }, index: p, wback: w });
    }
    if bits(hw2, 11, 6) == 0 {
        return Some(Addr::Reg { rn, rm: r(hw2, 3, 0), shift: bits(hw2, 5, 4) as u8 });
    }
    None
}

fn store_single(hw1: u32, hw2: u32) -> Option<Insn> {
    let ty = match bits(hw1, 6, 5) {
        0 => MemTy::Byte,
        1 => MemTy::Half,
        2 => MemTy::Word,
        _ => return None,
    };
    let rt = r(hw2, 15, 12);
    if r(hw1, 3, 0) == 15 {
        return None;
    }
    Some(match single_addr(hw1, hw2)? {
        Addr::Imm { rn, imm, index, wback } => Insn::Str { ty, rt, rn, imm, index, wback },
        Addr::Reg { rn, rm, shift } => Insn::StrReg { ty, rt, rn, rm, shift },
    })
}

fn load_single(hw1: u32, hw2: u32) -> Option<Insn> {
    let signed = bit(hw1, 8);
    let ty = match (bits(hw1, 6, 5), signed) {
        (0, false) => MemTy::Byte,
        (0, true) => MemTy::SByte,
        (1, false) => MemTy::Half,
        (1, true) => MemTy::SHalf,
        (2, false) => MemTy::Word,
        _ => return None,
    };
    let rt = r(hw2, 15, 12);
    let addr = single_addr(hw1, hw2)?;
    if rt == 15 && ty != MemTy::Word {
        // PLD / PLI and unallocated memory hints.
        return Some(Insn::Hint { op: HintOp::Preload });
    }
    Some(match addr {
        Addr::Imm { rn, imm, index, wback } => Insn::Ldr { ty, rt, rn, imm, index, wback },
        Addr::Reg { rn, rm, shift } => Insn::LdrReg { ty, rt, rn, rm, shift },
    })
}

fn dp_register(hw1: u32, hw2: u32) -> Option<Insn> {
    if bits(hw2, 15, 12) != 0b1111 {
        return None;
    }
    let op1 = bits(hw1, 7, 4);
    let op2 = bits(hw2, 7, 4);
    let rn = r(hw1, 3, 0);
    let rd = r(hw2, 11, 8);
    let rm = r(hw2, 3, 0);
    if op2 == 0 && op1 < 8 {
        let ty = match op1 >> 1 {
            0 => ShiftType::Lsl,
            1 => ShiftType::Lsr,
            2 => ShiftType::Asr,
            _ => ShiftType::Ror,
        };
        return Some(Insn::ShiftReg { ty, rd, rn, rm, s: sf(bit(op1, 0)) });
    }
    if op1 < 8 {
        if op2 & 0b1000 == 0 || bit(hw2, 6) {
            return None;
        }
        let op = match op1 {
            0 => ExtOp::Sxth,
            1 => ExtOp::Uxth,
            2 => ExtOp::Sxtb16,
            3 => ExtOp::Uxtb16,
            4 => ExtOp::Sxtb,
            5 => ExtOp::Uxtb,
            _ => return None,
        };
        return Some(Insn::Extend { op, rd, rn, rm, rot: (bits(hw2, 5, 4) * 8) as u8 });
    }
    if op2 & 0b1000 == 0 {
        let op = match bits(hw1, 6, 4) {
            0b001 => ParOp::Add16,
            0b010 => ParOp::Asx,
            0b110 => ParOp::Sax,
            0b101 => ParOp::Sub16,
            0b000 => ParOp::Add8,
            0b100 => ParOp::Sub8,
            _ => return None,
        };
        let kind = match bits(hw2, 6, 4) {
            0b000 => ParKind::S,
            0b001 => ParKind::Q,
            0b010 => ParKind::Sh,
            0b100 => ParKind::U,
            0b101 => ParKind::Uq,
            0b110 => ParKind::Uh,
            _ => return None,
        };
        return Some(Insn::Parallel { op, kind, rd, rn, rm });
    }
    if op2 & 0b1100 != 0b1000 || op1 & 0b1100 != 0b1000 {
        return None;
    }
    Some(match (bits(hw1, 5, 4), bits(hw2, 5, 4)) {
        (0, 0) => Insn::Qarith { op: QOp::Qadd, rd, rn, rm },
        (0, 1) => Insn::Qarith { op: QOp::Qdadd, rd, rn, rm },
        (0, 2) => Insn::Qarith { op: QOp::Qsub, rd, rn, rm },
        (0, 3) => Insn::Qarith { op: QOp::Qdsub, rd, rn, rm },
        (1, 0) => Insn::Misc { op: MiscOp::Rev, rd, rm },
        (1, 1) => Insn::Misc { op: MiscOp::Rev16, rd, rm },
        (1, 2) => Insn::Misc { op: MiscOp::Rbit, rd, rm },
        (1, 3) => Insn::Misc { op: MiscOp::Revsh, rd, rm },
        (2, 0) => Insn::Sel { rd, rn, rm },
        (3, 0) => Insn::Misc { op: MiscOp::Clz, rd, rm },
        _ => return None,
    })
}

fn multiply(hw1: u32, hw2: u32) -> Option<Insn> {
    let rn = r(hw1, 3, 0);
    let ra = r(hw2, 15, 12);
    let rd = r(hw2, 11, 8);
    let rm = r(hw2, 3, 0);
    let op2 = bits(hw2, 5, 4);
    if bits(hw2, 7, 6) != 0 {
        return None;
    }
    Some(match bits(hw1, 6, 4) {
        0b000 => match op2 {
            0 if ra == 15 => Insn::Mul { rd, rn, rm, s: SetFlags::Never },
            0 => Insn::Mla { rd, rn, rm, ra, sub: false },
            1 => Insn::Mla { rd, rn, rm, ra, sub: true },
            _ => return None,
        },
        0b001 => Insn::SmulXy { rd, rn, rm, ra, nt: bit(hw2, 5), mt: bit(hw2, 4) },
        0b010 if op2 < 2 => Insn::Smlad { rd, rn, rm, ra, x: bit(hw2, 4), sub: false },
        0b011 if op2 < 2 => Insn::SmulWy { rd, rn, rm, ra, mt: bit(hw2, 4) },
        0b100 if op2 < 2 => Insn::Smlad { rd, rn, rm, ra, x: bit(hw2, 4), sub: true },
        0b101 if op2 < 2 => Insn::Smmul { rd, rn, rm, ra, sub: false, round: bit(hw2, 4) },
        0b110 if op2 < 2 && ra != 15 => Insn::Smmul { rd, rn, rm, ra, sub: true, round: bit(hw2, 4) },
        0b111 if op2 == 0 => Insn::Usad8 { rd, rn, rm, ra },
        _ => return None,
    })
}

fn long_multiply(hw1: u32, hw2: u32) -> Option<Insn> {
    let rn = r(hw1, 3, 0);
    let rdlo = r(hw2, 15, 12);
    let rdhi = r(hw2, 11, 8);
    let rm = r(hw2, 3, 0);
    let op2 = bits(hw2, 7, 4);
    let lm = |op| Some(Insn::LongMul { op, rdlo, rdhi, rn, rm });
    match (bits(hw1, 6, 4), op2) {
        (0b000, 0) => lm(LongMulOp::Smull),
        (0b010, 0) => lm(LongMulOp::Umull),
        (0b100, 0) => lm(LongMulOp::Smlal),
        (0b110, 0) => lm(LongMulOp::Umlal),
        (0b110, 0b0110) => lm(LongMulOp::Umaal),
        (0b001, 0b1111) | (0b011, 0b1111) if rdlo == 15 => Some(Insn::Div { rd: rdhi, rn, rm, signed: !bit(hw1, 5) }),
        (0b100, 0b1000..=0b1011) => Some(Insn::SmlalXy { rdlo, rdhi, rn, rm, nt: bit(hw2, 5), mt: bit(hw2, 4) }),
        (0b100, 0b1100 | 0b1101) => Some(Insn::Smlald { rdlo, rdhi, rn, rm, x: bit(hw2, 4), sub: false }),
        (0b101, 0b1100 | 0b1101) => Some(Insn::Smlald { rdlo, rdhi, rn, rm, x: bit(hw2, 4), sub: true }),
        _ => None,
    }
}

/// FPv5 VSEL, VMAXNM/VMINNM, VRINT{A,N,P,M}, VCVT{A,N,P,M} (hw1 = 0xFExx, cp10/11).
fn fpv5(hw1: u32, hw2: u32) -> Option<Insn> {
    if bits(hw1, 11, 8) != 0b1110 || bit(hw2, 4) {
        return None;
    }
    let double = bit(hw2, 8);
    let (d, n, m) = (bits(hw1, 6, 6), bits(hw2, 7, 7), bits(hw2, 5, 5));
    let (vd_f, vn_f, vm_f) = (bits(hw2, 15, 12), bits(hw1, 3, 0), bits(hw2, 3, 0));
    let reg = |hi: u32, f: u32| if double { (hi << 4) | f } else { (f << 1) | hi } as u8;
    let (vd, vn, vm) = (reg(d, vd_f), reg(n, vn_f), reg(m, vm_f));
    let vfp = |op| Some(Insn::Vfp { op, vd, vn, vm, double });
    if !bit(hw1, 7) {
        if bit(hw2, 6) {
            return None;
        }
        return vfp(VfpOp::Vsel { cond: bits(hw1, 5, 4) as u8 });
    }
    match bits(hw1, 5, 4) {
        0b00 => vfp(if bit(hw2, 6) { VfpOp::Vminnm } else { VfpOp::Vmaxnm }),
        0b11 if bit(hw2, 6) => {
            // RM field: 00 A (ties away), 01 N, 10 P, 11 M.
            let mode = [4, 0, 1, 2][bits(hw1, 1, 0) as usize];
            match bits(hw1, 3, 2) {
                0b10 if !bit(hw2, 7) => vfp(VfpOp::Vrint { mode }),
                0b11 => {
                    let vd = ((vd_f << 1) | d) as u8;
                    Some(Insn::Vfp { op: VfpOp::VcvtRound { mode, signed: bit(hw2, 7) }, vd, vn, vm, double })
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// Coprocessor space: only the FP extension (coprocessors 10 and 11) is decoded.
fn coproc(hw1: u32, hw2: u32) -> Option<Insn> {
    let word = hw1 | (hw2 << 16);
    let cp = bits(hw2, 11, 8);
    if cp & 0b1110 != 0b1010 {
        // Other coprocessors don't exist on M4/M7.
        return None;
    }
    if bit(hw1, 12) {
        // Unconditional space: only the FPv5 (ARMv8 FP) additions at 0xFExx.
        return fpv5(hw1, hw2);
    }
    let double = cp == 0b1011;
    let d = bits(hw1, 6, 6);
    let vd_field = bits(hw2, 15, 12);
    // S registers are Vd:D, D registers D:Vd.
    let vd = if double { (d << 4) | vd_field } else { (vd_field << 1) | d } as u8;
    let rn = r(hw1, 3, 0);
    if bits(hw1, 9, 8) == 0b11 {
        return None;
    }
    if !bit(hw1, 9) {
        // Extension register load/store, 64-bit transfers.
        let op = bits(hw1, 8, 4);
        if op & 0b11110 == 0b00100 {
            // VMOV 2 core <-> 2 S / 1 D: hw2[7:6] must be 00, hw2[4] = 1.
            if bits(hw2, 7, 6) != 0 || !bit(hw2, 4) {
                return Some(Insn::Unsupported { word });
            }
            let m = bits(hw2, 5, 5);
            let vm_f = bits(hw2, 3, 0);
            let vm = if double { (m << 4) | vm_f } else { (vm_f << 1) | m } as u8;
            return Some(Insn::VmovCore2 { to_core: bit(hw1, 4), rt: r(hw2, 15, 12), rt2: rn, vm, double });
        }
        if op & 0b11010 == 0 {
            return None;
        }
        if op & 0b10010 == 0b10000 {
            let imm = (bits(hw2, 7, 0) << 2) as i32;
            let imm = if bit(hw1, 7) { imm } else { -imm };
            return Some(if bit(hw1, 4) {
                Insn::Vldr { vd, double, rn, imm }
            } else {
                Insn::Vstr { vd, double, rn, imm }
            });
        }
        let p = bit(hw1, 8);
        let u = bit(hw1, 7);
        let w = bit(hw1, 5);
        if p == u || (p && !w) {
            return None;
        }
        let imm8 = bits(hw2, 7, 0);
        let count = if double { imm8 / 2 } else { imm8 };
        if count == 0 || (vd as u32 + count) > if double { 16 } else { 32 } {
            return None;
        }
        let count = count as u8;
        return Some(if bit(hw1, 4) {
            Insn::Vldm { vd, count, double, rn, wback: w, db: p }
        } else {
            Insn::Vstm { vd, count, double, rn, wback: w, db: p }
        });
    }
    // hw1[9:8] == 10: data processing or 8/16/32-bit transfers.
    if bit(hw2, 4) {
        let a = bits(hw1, 7, 5);
        let l = bit(hw1, 4);
        let rt = r(hw2, 15, 12);
        let c = bit(hw2, 8);
        return Some(match (l, c, a) {
            (_, false, 0) => {
                let sn = ((bits(hw1, 3, 0) << 1) | bits(hw2, 7, 7)) as u8;
                Insn::VmovCore { to_core: l, rt, sn }
            }
            (false, false, 0b111) => Insn::Vmsr { rt },
            (true, false, 0b111) => Insn::Vmrs { rt },
            (_, true, 0b000 | 0b001) => {
                let dn = ((bits(hw2, 7, 7) << 4) | bits(hw1, 3, 0)) as u8;
                Insn::VmovScalar { to_core: l, rt, dn, high: bit(hw1, 5) }
            }
            _ => Insn::Unsupported { word },
        });
    }
    let n = bits(hw2, 7, 7);
    let m = bits(hw2, 5, 5);
    let vn_f = bits(hw1, 3, 0);
    let vm_f = bits(hw2, 3, 0);
    let vn = if double { (n << 4) | vn_f } else { (vn_f << 1) | n } as u8;
    let vm = if double { (m << 4) | vm_f } else { (vm_f << 1) | m } as u8;
    let opc1 = (bits(hw1, 7, 7) << 2) | bits(hw1, 5, 4);
    let op6 = bit(hw2, 6);
    let vfp = |op| Some(Insn::Vfp { op, vd, vn, vm, double });
    match opc1 {
        0b000 => vfp(if op6 { VfpOp::Vmls } else { VfpOp::Vmla }),
        0b001 => vfp(if op6 { VfpOp::Vnmla } else { VfpOp::Vnmls }),
        0b010 => vfp(if op6 { VfpOp::Vnmul } else { VfpOp::Vmul }),
        0b011 => vfp(if op6 { VfpOp::Vsub } else { VfpOp::Vadd }),
        0b100 if !op6 => vfp(VfpOp::Vdiv),
        0b101 => vfp(if op6 { VfpOp::Vfnma } else { VfpOp::Vfnms }),
        0b110 => vfp(if op6 { VfpOp::Vfms } else { VfpOp::Vfma }),
        0b111 => {
            if !op6 {
                let imm8 = ((bits(hw1, 3, 0) << 4) | bits(hw2, 3, 0)) as u8;
                return Some(Insn::VmovImm { vd, double, imm8 });
            }
            let op7 = bit(hw2, 7);
            // Single-precision view of Vm for conversions whose source is an integer.
            let vm_s = ((vm_f << 1) | m) as u8;
            match vn_f {
                0b0000 => vfp(if op7 { VfpOp::Vabs } else { VfpOp::Vmov }),
                0b0001 => vfp(if op7 { VfpOp::Vsqrt } else { VfpOp::Vneg }),
                0b0100 => vfp(if op7 { VfpOp::Vcmpe } else { VfpOp::Vcmp }),
                0b0101 => {
                    Some(Insn::Vfp { op: if op7 { VfpOp::Vcmpe } else { VfpOp::Vcmp }, vd, vn, vm: 0xff, double })
                }
                0b0111 if op7 => {
                    // VCVT between double and single: destination has the other precision.
                    let vd = if double { (vd_field << 1) | d } else { (d << 4) | vd_field } as u8;
                    Some(Insn::Vfp { op: VfpOp::VcvtFf, vd, vn, vm, double })
                }
                0b1000 => Some(Insn::Vfp { op: VfpOp::VcvtFromInt { signed: op7 }, vd, vn, vm: vm_s, double }),
                0b0010 | 0b0011 => {
                    // VCVTB/VCVTT: the half-precision side is always an S register.
                    let to_half = vn_f & 1 != 0;
                    let (vd, vm) = match (double, to_half) {
                        (true, false) => (vd, vm_s),
                        (true, true) => (((vd_field << 1) | d) as u8, vm),
                        _ => (vd, vm),
                    };
                    Some(Insn::Vfp { op: VfpOp::VcvtHalf { to_half, top: op7 }, vd, vn, vm, double })
                }
                0b0110 => vfp(VfpOp::Vrint { mode: if op7 { 3 } else { 5 } }),
                0b0111 => vfp(VfpOp::Vrint { mode: 6 }),
                0b1010 | 0b1011 | 0b1110 | 0b1111 => {
                    // VCVT fixed point: size from sx (bit 7), fbits = size - imm4:i.
                    let size: u32 = if op7 { 32 } else { 16 };
                    let imm = (vm_f << 1) | m;
                    if imm > size {
                        return Some(Insn::Unsupported { word });
                    }
                    let op = VfpOp::VcvtFixed {
                        to_fixed: vn_f & 0b100 != 0,
                        unsigned: vn_f & 1 != 0,
                        size: size as u8,
                        fbits: (size - imm) as u8,
                    };
                    Some(Insn::Vfp { op, vd, vn: vd, vm: vd, double })
                }
                0b1100 | 0b1101 => {
                    // Destination is always a single register holding the integer.
                    let vd = ((vd_field << 1) | d) as u8;
                    Some(Insn::Vfp { op: VfpOp::VcvtToInt { signed: vn_f & 1 != 0, rz: op7 }, vd, vn, vm, double })
                }
                _ => Some(Insn::Unsupported { word }),
            }
        }
        _ => None,
    }
}
