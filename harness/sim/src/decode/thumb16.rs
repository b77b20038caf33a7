//! 16-bit Thumb encodings (ARMv7-M ARM section A5.2).

use super::{bit, bits, sext};
use crate::insn::*;

const OIT: SetFlags = SetFlags::OutsideIt;

pub(super) fn decode(hw: u32) -> Insn {
    let r = |hi, lo| bits(hw, hi, lo) as Reg;
    match hw >> 10 {
        // Shift (immediate), add, subtract, move, compare.
        0b000000..=0b001111 => {
            let rd = r(2, 0);
            let rm = r(5, 3);
            match bits(hw, 13, 9) {
                0b00000..=0b01011 => {
                    let shift = Shift::decode(bits(hw, 12, 11), bits(hw, 10, 6));
                    Insn::DpReg { op: DpOp::Mov, rd, rn: 0, rm, shift, s: OIT }
                }
                0b01100 | 0b01101 => Insn::DpReg {
                    op: if bit(hw, 9) { DpOp::Sub } else { DpOp::Add },
                    rd,
                    rn: rm,
                    rm: r(8, 6),
                    shift: Shift::NONE,
                    s: OIT,
                },
                0b01110 | 0b01111 => Insn::DpImm {
                    op: if bit(hw, 9) { DpOp::Sub } else { DpOp::Add },
                    rd,
                    rn: rm,
                    imm: bits(hw, 8, 6),
                    carry: None,
                    s: OIT,
                },
                op => {
                    let rdn = r(10, 8);
                    let imm = bits(hw, 7, 0);
                    match op >> 2 {
                        0b100 => Insn::DpImm { op: DpOp::Mov, rd: rdn, rn: 0, imm, carry: None, s: OIT },
                        0b101 => Insn::DpImm { op: DpOp::Cmp, rd: 0, rn: rdn, imm, carry: None, s: SetFlags::Always },
                        0b110 => Insn::DpImm { op: DpOp::Add, rd: rdn, rn: rdn, imm, carry: None, s: OIT },
                        _ => Insn::DpImm { op: DpOp::Sub, rd: rdn, rn: rdn, imm, carry: None, s: OIT },
                    }
                }
            }
        }
        // Data processing (register).
        0b010000 => {
            let rdn = r(2, 0);
            let rm = r(5, 3);
            let dp = |op| Insn::DpReg { op, rd: rdn, rn: rdn, rm, shift: Shift::NONE, s: OIT };
            let test = |op| Insn::DpReg { op, rd: 0, rn: rdn, rm, shift: Shift::NONE, s: SetFlags::Always };
            let sh = |ty| Insn::ShiftReg { ty, rd: rdn, rn: rdn, rm, s: OIT };
            match bits(hw, 9, 6) {
                0 => dp(DpOp::And),
                1 => dp(DpOp::Eor),
                2 => sh(ShiftType::Lsl),
                3 => sh(ShiftType::Lsr),
                4 => sh(ShiftType::Asr),
                5 => dp(DpOp::Adc),
                6 => dp(DpOp::Sbc),
                7 => sh(ShiftType::Ror),
                8 => test(DpOp::Tst),
                9 => Insn::DpImm { op: DpOp::Rsb, rd: rdn, rn: rm, imm: 0, carry: None, s: OIT },
                10 => test(DpOp::Cmp),
                11 => test(DpOp::Cmn),
                12 => dp(DpOp::Orr),
                13 => Insn::Mul { rd: rdn, rn: rm, rm: rdn, s: OIT },
                14 => dp(DpOp::Bic),
                _ => Insn::DpReg { op: DpOp::Mvn, rd: rdn, rn: 0, rm, shift: Shift::NONE, s: OIT },
            }
        }
        // Special data processing and branch/exchange.
        0b010001 => {
            let rdn = (bits(hw, 2, 0) | (bits(hw, 7, 7) << 3)) as Reg;
            let rm = r(6, 3);
            match bits(hw, 9, 8) {
                0 => Insn::DpReg { op: DpOp::Add, rd: rdn, rn: rdn, rm, shift: Shift::NONE, s: SetFlags::Never },
                1 => Insn::DpReg { op: DpOp::Cmp, rd: 0, rn: rdn, rm, shift: Shift::NONE, s: SetFlags::Always },
                2 => Insn::DpReg { op: DpOp::Mov, rd: rdn, rn: 0, rm, shift: Shift::NONE, s: SetFlags::Never },
                _ => {
                    if bits(hw, 2, 0) != 0 {
                        Insn::Undefined { word: hw }
                    } else if bit(hw, 7) {
                        Insn::Blx { rm }
                    } else {
                        Insn::Bx { rm }
                    }
                }
            }
        }
        // LDR (literal).
        0b010010 | 0b010011 => Insn::Ldr {
            ty: MemTy::Word,
            rt: r(10, 8),
            rn: 15,
            imm: (bits(hw, 7, 0) << 2) as i32,
            index: true,
            wback: false,
        },
        // Load/store single data item, register offset.
        0b010100..=0b010111 => {
            let rt = r(2, 0);
            let rn = r(5, 3);
            let rm = r(8, 6);
            let st = |ty| Insn::StrReg { ty, rt, rn, rm, shift: 0 };
            let ld = |ty| Insn::LdrReg { ty, rt, rn, rm, shift: 0 };
            match bits(hw, 11, 9) {
                0 => st(MemTy::Word),
                1 => st(MemTy::Half),
                2 => st(MemTy::Byte),
                3 => ld(MemTy::SByte),
                4 => ld(MemTy::Word),
                5 => ld(MemTy::Half),
                6 => ld(MemTy::Byte),
                _ => ld(MemTy::SHalf),
            }
        }
        // Load/store immediate offset (word, byte, halfword) and SP-relative.
        0b011000..=0b100111 => {
            let rt = r(2, 0);
            let rn = r(5, 3);
            let imm5 = bits(hw, 10, 6);
            let load = bit(hw, 11);
            let (ty, rt, rn, imm) = match hw >> 12 {
                0b0110 => (MemTy::Word, rt, rn, imm5 << 2),
                0b0111 => (MemTy::Byte, rt, rn, imm5),
                0b1000 => (MemTy::Half, rt, rn, imm5 << 1),
                _ => (MemTy::Word, r(10, 8), 13, bits(hw, 7, 0) << 2),
            };
            let imm = imm as i32;
            if load {
                Insn::Ldr { ty, rt, rn, imm, index: true, wback: false }
            } else {
                Insn::Str { ty, rt, rn, imm, index: true, wback: false }
            }
        }
        // ADR.
        0b101000 | 0b101001 => Insn::Adr { rd: r(10, 8), imm: (bits(hw, 7, 0) << 2) as i32 },
        // ADD Rd, SP, #imm.
        0b101010 | 0b101011 => Insn::DpImm {
            op: DpOp::Add,
            rd: r(10, 8),
            rn: 13,
            imm: bits(hw, 7, 0) << 2,
            carry: None,
            s: SetFlags::Never,
        },
        // Miscellaneous 16-bit instructions.
        0b101100..=0b101111 => misc(hw),
        // STM / LDM.
        0b110000..=0b110011 => {
            let rn = r(10, 8);
            let regs = bits(hw, 7, 0) as u16;
            if bit(hw, 11) {
                Insn::Ldm { rn, regs, wback: regs & (1 << rn) == 0, db: false }
            } else {
                Insn::Stm { rn, regs, wback: true, db: false }
            }
        }
        // Conditional branch, UDF, SVC.
        0b110100..=0b110111 => {
            let cond = bits(hw, 11, 8) as u8;
            match cond {
                14 => Insn::Udf { imm: bits(hw, 7, 0) as u16 },
                15 => Insn::Svc { imm: bits(hw, 7, 0) as u8 },
                _ => Insn::B { cond, imm: sext(bits(hw, 7, 0) << 1, 9) },
            }
        }
        // Unconditional branch.
        0b111000 | 0b111001 => Insn::B { cond: 14, imm: sext(bits(hw, 10, 0) << 1, 12) },
        _ => Insn::Undefined { word: hw },
    }
}

fn misc(hw: u32) -> Insn {
    let op = bits(hw, 11, 5);
    match op {
        0b0000000..=0b0000011 => {
            Insn::DpImm { op: DpOp::Add, rd: 13, rn: 13, imm: bits(hw, 6, 0) << 2, carry: None, s: SetFlags::Never }
        }
        0b0000100..=0b0000111 => {
            Insn::DpImm { op: DpOp::Sub, rd: 13, rn: 13, imm: bits(hw, 6, 0) << 2, carry: None, s: SetFlags::Never }
        }
        0b0010000..=0b0010111 => {
            let rd = bits(hw, 2, 0) as Reg;
            let rm = bits(hw, 5, 3) as Reg;
            let op = match bits(hw, 7, 6) {
                0 => ExtOp::Sxth,
                1 => ExtOp::Sxtb,
                2 => ExtOp::Uxth,
                _ => ExtOp::Uxtb,
            };
            Insn::Extend { op, rd, rn: 15, rm, rot: 0 }
        }
        0b0100000..=0b0101111 => {
            let regs = (bits(hw, 7, 0) | (bits(hw, 8, 8) << 14)) as u16;
            Insn::Stm { rn: 13, regs, wback: true, db: true }
        }
        0b1100000..=0b1101111 => {
            let regs = (bits(hw, 7, 0) | (bits(hw, 8, 8) << 15)) as u16;
            Insn::Ldm { rn: 13, regs, wback: true, db: false }
        }
        0b0110011 => {
            if bits(hw, 3, 2) != 0 || bits(hw, 1, 0) == 0 {
                return Insn::Undefined { word: hw };
            }
            Insn::Cps { disable: bit(hw, 4), i: bit(hw, 1), f: bit(hw, 0) }
        }
        0b1010000..=0b1010111 => {
            let rd = bits(hw, 2, 0) as Reg;
            let rm = bits(hw, 5, 3) as Reg;
            match bits(hw, 7, 6) {
                0 => Insn::Misc { op: MiscOp::Rev, rd, rm },
                1 => Insn::Misc { op: MiscOp::Rev16, rd, rm },
                3 => Insn::Misc { op: MiscOp::Revsh, rd, rm },
                _ => Insn::Undefined { word: hw },
            }
        }
        0b1110000..=0b1110111 => Insn::Bkpt { imm: bits(hw, 7, 0) as u8 },
        0b1111000..=0b1111111 => {
            let mask = bits(hw, 3, 0) as u8;
            let firstcond = bits(hw, 7, 4) as u8;
            if mask != 0 {
                // IT with cond 15, or AL with a mask asking for "else", is unpredictable.
                if firstcond == 15 || (firstcond == 14 && mask.count_ones() != 1) {
                    return Insn::Undefined { word: hw };
                }
                return Insn::It { firstcond, mask };
            }
            match firstcond {
                0 => Insn::Hint { op: HintOp::Nop },
                1 => Insn::Hint { op: HintOp::Yield },
                2 => Insn::Hint { op: HintOp::Wfe },
                3 => Insn::Hint { op: HintOp::Wfi },
                4 => Insn::Hint { op: HintOp::Sev },
                _ => Insn::Hint { op: HintOp::Nop },
            }
        }
        _ => {
            // CBZ/CBNZ: 1011 o0i1 iiii innn.
            if hw & 0x0500 == 0x0100 {
                let imm = ((bits(hw, 9, 9) << 6) | (bits(hw, 7, 3) << 1)) as u8;
                Insn::Cbz { rn: bits(hw, 2, 0) as Reg, imm, nz: bit(hw, 11) }
            } else {
                Insn::Undefined { word: hw }
            }
        }
    }
}
