//! The executor's fast forms. When an instruction is decoded, its commonest
//! shapes are lowered once more into an [`Op`] with every run-time choice of
//! the generic visitor ([`Simulator::exec`]) already made: the operation, flag
//! setting, shift, access size, and the PC and SP special cases. Everything
//! else is [`Op::Generic`] and runs through `exec`.
//!
//! Why: the generic visitor pays for its generality on every instruction
//! (nested matches on operation, shift type, flag mode and register number);
//! the shapes below make up most of what compiled kernels execute
//! (docs/sim-performance.md). `Op` is private to the executor: decoding,
//! disassembly and timing keep working on [`Insn`].
//!
//! Correctness: `fast_forms_match_the_generic_visitor` (tests below) runs
//! random instruction words through both paths from random machine states and
//! requires identical registers, flags, memory and next PC.
//!
//! Conditions every fast form meets: no operand is the PC (it would need
//! `r[15]`, which only the generic path keeps up to date), no destination is
//! the SP or PC (their writes are special), and the flag-setting forms come
//! from encodings that set flags outside an IT block (`SetFlags::Always` or
//! `OutsideIt`: fast forms only run outside IT blocks; inside, `step_in_it`
//! runs the generic visitor).

use super::Trap;
use super::alu::{add_with_carry, shift_c};
use crate::Simulator;
use crate::insn::*;

/// An instruction in its execution form (see the module documentation). Every
/// variant fits in 8 bytes, so a decode cache entry stays at 32.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    /// Execute the decoded [`Insn`] with the generic visitor.
    Generic,
    /// `rd = rn + imm` without flags (ADD, and SUB with the negated immediate).
    AddImm {
        rd: Reg,
        rn: Reg,
        imm: u32,
    },
    /// `rd = imm - rn` without flags.
    RsbImm {
        rd: Reg,
        rn: Reg,
        imm: u32,
    },
    /// `rd = imm` (MOV/MOVW without flags).
    MovImm {
        rd: Reg,
        imm: u32,
    },
    /// AND/ORR/EOR/BIC with an immediate, without flags.
    LogicImm {
        op: DpOp,
        rd: Reg,
        rn: Reg,
        imm: u32,
    },
    /// ADDS / CMN (`rd` 15: compare only) with an immediate.
    AddsImm {
        rd: Reg,
        rn: Reg,
        imm: u32,
    },
    /// SUBS / CMP (`rd` 15: compare only) with an immediate.
    SubsImm {
        rd: Reg,
        rn: Reg,
        imm: u32,
    },
    /// ADD/SUB/RSB/AND/ORR/EOR/BIC/MOV/MVN with a shifted register, without flags.
    Alu {
        op: DpOp,
        rd: Reg,
        rn: Reg,
        rm: Reg,
        ty: ShiftType,
        n: u8,
    },
    /// ADDS/SUBS/CMN/CMP (`rd` 15: compare only) with an unshifted register.
    AddsReg {
        rd: Reg,
        rn: Reg,
        rm: Reg,
        sub: bool,
    },
    /// Logical ops with flags (ANDS/ORRS/EORS/BICS/MOVS/MVNS, TST/TEQ with `rd`
    /// 15) on a shifted register: N, Z from the result, C from the shifter.
    LogicS {
        op: DpOp,
        rd: Reg,
        rn: Reg,
        rm: Reg,
        ty: ShiftType,
        n: u8,
    },
    /// `rd = rn * rm` without flags; `rd = ra + rn * rm` (MLA).
    Mul {
        rd: Reg,
        rn: Reg,
        rm: Reg,
    },
    Mla {
        rd: Reg,
        rn: Reg,
        rm: Reg,
        ra: Reg,
    },
    /// SMLAD without exchange: `rd = ra + lo(rn)·lo(rm) + hi(rn)·hi(rm)`, Q on overflow.
    Smlad {
        rd: Reg,
        rn: Reg,
        rm: Reg,
        ra: Reg,
    },
    /// SXTB/SXTH/UXTB/UXTH (`rn` 15) and their add forms, SXTB16/SXTAB16;
    /// `rot` in bits.
    Extend {
        op: ExtOp,
        rd: Reg,
        rn: Reg,
        rm: Reg,
        rot: u8,
    },
    /// Load/store `[rn, #imm]`, no write-back.
    Load {
        ty: MemTy,
        rt: Reg,
        rn: Reg,
        imm: i16,
    },
    Store {
        ty: MemTy,
        rt: Reg,
        rn: Reg,
        imm: i16,
    },
    /// Load/store with write-back: `[rn, #imm]!` (`pre`) or `[rn], #imm`.
    LoadWb {
        ty: MemTy,
        rt: Reg,
        rn: Reg,
        pre: bool,
        imm: i16,
    },
    StoreWb {
        ty: MemTy,
        rt: Reg,
        rn: Reg,
        pre: bool,
        imm: i16,
    },
    /// Load/store `[rn, rm, LSL #shift]`.
    LoadReg {
        ty: MemTy,
        rt: Reg,
        rn: Reg,
        rm: Reg,
        shift: u8,
    },
    StoreReg {
        ty: MemTy,
        rt: Reg,
        rn: Reg,
        rm: Reg,
        shift: u8,
    },
    /// B / B<cond> (`cond` ≥ 14: always) to `PC + 4 + off`.
    Branch {
        cond: u8,
        off: i32,
    },
    /// BL to `PC + 4 + off`.
    Call {
        off: i32,
    },
    /// CBZ/CBNZ to `PC + 4 + off`.
    Cbz {
        rn: Reg,
        nz: bool,
        off: i16,
    },
    /// IT: the new ITSTATE.
    It {
        state: u8,
    },
}

/// Whether `r` can be read directly from the register file (not the PC).
fn src(r: Reg) -> bool {
    r != 15
}

/// Whether `r` can be written directly (not the SP or PC).
fn dst(r: Reg) -> bool {
    r != 13 && r != 15
}

/// The destination of a flag-setting form: 15 for the compare/test ops.
fn dst_or_test(op: DpOp, rd: Reg) -> Option<Reg> {
    if op.is_test() {
        Some(15)
    } else if dst(rd) {
        Some(rd)
    } else {
        None
    }
}

/// Flag-setting 16-bit encodings set flags outside IT blocks, where fast forms run.
fn sets_flags(s: SetFlags) -> bool {
    !matches!(s, SetFlags::Never)
}

fn is_logic(op: DpOp) -> bool {
    matches!(op, DpOp::And | DpOp::Orr | DpOp::Eor | DpOp::Bic | DpOp::Orn)
}

impl Op {
    /// The fast form of `insn`, or [`Op::Generic`].
    pub(crate) fn lower(insn: &Insn) -> Op {
        use Insn::*;
        let lowered = match *insn {
            // MOV and MVN have rn = 0 in the typed form.
            DpImm { op, rd, rn, imm, s, .. } if src(rn) => match (op, sets_flags(s)) {
                (DpOp::Mov, false) if dst(rd) => Some(Op::MovImm { rd, imm }),
                (DpOp::Mvn, false) if dst(rd) => Some(Op::MovImm { rd, imm: !imm }),
                (DpOp::Add, false) if dst(rd) => Some(Op::AddImm { rd, rn, imm }),
                (DpOp::Sub, false) if dst(rd) => Some(Op::AddImm { rd, rn, imm: imm.wrapping_neg() }),
                (DpOp::Rsb, false) if dst(rd) => Some(Op::RsbImm { rd, rn, imm }),
                (op, false) if is_logic(op) && dst(rd) => Some(Op::LogicImm { op, rd, rn, imm }),
                (DpOp::Add | DpOp::Cmn, true) => dst_or_test(op, rd).map(|rd| Op::AddsImm { rd, rn, imm }),
                (DpOp::Sub | DpOp::Cmp, true) => dst_or_test(op, rd).map(|rd| Op::SubsImm { rd, rn, imm }),
                _ => None,
            },
            MovW { rd, imm } if dst(rd) => Some(Op::MovImm { rd, imm: imm as u32 }),
            DpReg { op, rd, rn, rm, shift, s } if src(rn) && src(rm) && shift.ty != ShiftType::Rrx => {
                let (ty, n) = (shift.ty, shift.n);
                match (op, sets_flags(s)) {
                    (DpOp::Add | DpOp::Sub | DpOp::Rsb | DpOp::Mov | DpOp::Mvn, false) if dst(rd) => {
                        Some(Op::Alu { op, rd, rn, rm, ty, n })
                    }
                    (op, false) if is_logic(op) && dst(rd) => Some(Op::Alu { op, rd, rn, rm, ty, n }),
                    (DpOp::Add | DpOp::Cmn | DpOp::Sub | DpOp::Cmp, true) if shift.is_none() => dst_or_test(op, rd)
                        .map(|rd| Op::AddsReg { rd, rn, rm, sub: matches!(op, DpOp::Sub | DpOp::Cmp) }),
                    (DpOp::Mov | DpOp::Mvn | DpOp::Tst | DpOp::Teq, true) => {
                        dst_or_test(op, rd).map(|rd| Op::LogicS { op, rd, rn, rm, ty, n })
                    }
                    (op, true) if is_logic(op) => dst_or_test(op, rd).map(|rd| Op::LogicS { op, rd, rn, rm, ty, n }),
                    _ => None,
                }
            }
            Mul { rd, rn, rm, s: SetFlags::Never } if dst(rd) && src(rn) && src(rm) => Some(Op::Mul { rd, rn, rm }),
            Mla { rd, rn, rm, ra, sub: false } if dst(rd) && src(rn) && src(rm) && src(ra) => {
                Some(Op::Mla { rd, rn, rm, ra })
            }
            Smlad { rd, rn, rm, ra, x: false, sub: false } if dst(rd) && src(rn) && src(rm) && src(ra) => {
                Some(Op::Smlad { rd, rn, rm, ra })
            }
            // rn = 15 means "no add" here, not the PC.
            Extend { op, rd, rn, rm, rot } if dst(rd) && src(rm) => Some(Op::Extend { op, rd, rn, rm, rot }),
            Ldr { ty, rt, rn, imm, index: true, wback: false } if dst(rt) && src(rn) => {
                i16::try_from(imm).ok().map(|imm| Op::Load { ty, rt, rn, imm })
            }
            Str { ty, rt, rn, imm, index: true, wback: false } if src(rt) && src(rn) => {
                i16::try_from(imm).ok().map(|imm| Op::Store { ty, rt, rn, imm })
            }
            // Write-back to the SP aligns it, and rt == rn with write-back is
            // UNPREDICTABLE: both stay generic.
            Ldr { ty, rt, rn, imm, index, wback: true } if dst(rt) && dst(rn) && rt != rn => {
                i16::try_from(imm).ok().map(|imm| Op::LoadWb { ty, rt, rn, pre: index, imm })
            }
            Str { ty, rt, rn, imm, index, wback: true } if src(rt) && dst(rn) && rt != rn => {
                i16::try_from(imm).ok().map(|imm| Op::StoreWb { ty, rt, rn, pre: index, imm })
            }
            LdrReg { ty, rt, rn, rm, shift } if dst(rt) && src(rn) && src(rm) => {
                Some(Op::LoadReg { ty, rt, rn, rm, shift })
            }
            StrReg { ty, rt, rn, rm, shift } if src(rt) && src(rn) && src(rm) => {
                Some(Op::StoreReg { ty, rt, rn, rm, shift })
            }
            B { cond, imm } => Some(Op::Branch { cond, off: imm }),
            Bl { imm } => Some(Op::Call { off: imm }),
            Cbz { rn, imm, nz } if src(rn) => Some(Op::Cbz { rn, nz, off: i16::from(imm) }),
            It { firstcond, mask } => Some(Op::It { state: (firstcond << 4) | mask }),
            _ => None,
        };
        lowered.unwrap_or(Op::Generic)
    }

    /// Whether the fast form of `insn` is only right outside an IT block:
    /// the 16-bit encodings that set flags only there, and IT itself (an IT
    /// inside an IT block is UNPREDICTABLE; the generic visitor decides).
    pub(crate) fn outside_it_only(insn: &Insn) -> bool {
        matches!(
            insn,
            Insn::DpImm { s: SetFlags::OutsideIt, .. } | Insn::DpReg { s: SetFlags::OutsideIt, .. } | Insn::It { .. }
        )
    }
}

#[inline(always)]
fn lo(x: u32) -> i32 {
    x as u16 as i16 as i32
}

#[inline(always)]
fn hi(x: u32) -> i32 {
    (x >> 16) as u16 as i16 as i32
}

/// A load's value extended to 32 bits.
#[inline(always)]
fn extend_load(ty: MemTy, v: u32) -> u32 {
    match ty {
        MemTy::SByte => v as u8 as i8 as i32 as u32,
        MemTy::SHalf => v as u16 as i16 as i32 as u32,
        _ => v,
    }
}

impl Simulator {
    /// Executes a fast form (not [`Op::Generic`]) of the instruction at `pc`
    /// whose condition passed (outside an IT block, or inside one unless
    /// [`Op::outside_it_only`]). Returns whether it branched; a branch leaves its
    /// target in `next_pc`.
    #[inline(always)]
    pub(crate) fn exec_fast(&mut self, op: Op, pc: u32) -> Result<bool, Trap> {
        // Registers by number; lowering guarantees no read of r15 and no
        // write of r13/r15 except the compare-only `rd` 15, written to the
        // unused slot `r[15]` (the generic path sets it before every use).
        let r = |s: &Self, n: Reg| s.r[(n & 15) as usize];
        match op {
            Op::Generic => return Err(Trap::Unsupported("internal: generic instruction on the fast path")),
            Op::AddImm { rd, rn, imm } => self.r[(rd & 15) as usize] = r(self, rn).wrapping_add(imm),
            Op::RsbImm { rd, rn, imm } => self.r[(rd & 15) as usize] = imm.wrapping_sub(r(self, rn)),
            Op::MovImm { rd, imm } => self.r[(rd & 15) as usize] = imm,
            Op::LogicImm { op, rd, rn, imm } => self.r[(rd & 15) as usize] = logic(op, r(self, rn), imm),
            Op::AddsImm { rd, rn, imm } => {
                let (v, c, o) = add_with_carry(r(self, rn), imm, false);
                self.r[(rd & 15) as usize] = v;
                self.set_nzcv(v, c, o);
            }
            Op::SubsImm { rd, rn, imm } => {
                let (v, c, o) = add_with_carry(r(self, rn), !imm, true);
                self.r[(rd & 15) as usize] = v;
                self.set_nzcv(v, c, o);
            }
            Op::Alu { op, rd, rn, rm, ty, n } => {
                let b = shift_c(r(self, rm), ty, n as u32, false).0;
                let a = r(self, rn);
                self.r[(rd & 15) as usize] = match op {
                    DpOp::Add => a.wrapping_add(b),
                    DpOp::Sub => a.wrapping_sub(b),
                    DpOp::Rsb => b.wrapping_sub(a),
                    DpOp::Mov => b,
                    DpOp::Mvn => !b,
                    op => logic(op, a, b),
                };
            }
            Op::AddsReg { rd, rn, rm, sub } => {
                let m = r(self, rm);
                let (v, c, o) =
                    if sub { add_with_carry(r(self, rn), !m, true) } else { add_with_carry(r(self, rn), m, false) };
                self.r[(rd & 15) as usize] = v;
                self.set_nzcv(v, c, o);
            }
            Op::LogicS { op, rd, rn, rm, ty, n } => {
                let (b, c) = shift_c(r(self, rm), ty, n as u32, self.c);
                let v = match op {
                    DpOp::Mov => b,
                    DpOp::Mvn => !b,
                    DpOp::Tst => r(self, rn) & b,
                    DpOp::Teq => r(self, rn) ^ b,
                    op => logic(op, r(self, rn), b),
                };
                self.r[(rd & 15) as usize] = v;
                self.n = v >> 31 != 0;
                self.z = v == 0;
                self.c = c;
            }
            Op::Mul { rd, rn, rm } => self.r[(rd & 15) as usize] = r(self, rn).wrapping_mul(r(self, rm)),
            Op::Mla { rd, rn, rm, ra } => {
                self.r[(rd & 15) as usize] = r(self, ra).wrapping_add(r(self, rn).wrapping_mul(r(self, rm)))
            }
            Op::Smlad { rd, rn, rm, ra } => {
                let (n, m) = (r(self, rn), r(self, rm));
                let sum = (lo(n) * lo(m)) as i64 + (hi(n) * hi(m)) as i64 + r(self, ra) as i32 as i64;
                self.q |= sum != sum as i32 as i64;
                self.r[(rd & 15) as usize] = sum as u32;
            }
            Op::Extend { op, rd, rn, rm, rot } => {
                let x = r(self, rm).rotate_right(rot as u32);
                let add = if rn == 15 { 0 } else { r(self, rn) };
                self.r[(rd & 15) as usize] = match op {
                    ExtOp::Sxtb => add.wrapping_add(x as u8 as i8 as i32 as u32),
                    ExtOp::Sxth => add.wrapping_add(x as u16 as i16 as i32 as u32),
                    ExtOp::Uxtb => add.wrapping_add(x & 0xff),
                    ExtOp::Uxth => add.wrapping_add(x & 0xffff),
                    ExtOp::Sxtb16 | ExtOp::Uxtb16 => {
                        let (l, h) = if op == ExtOp::Sxtb16 {
                            (x as u8 as i8 as u16, (x >> 16) as u8 as i8 as u16)
                        } else {
                            (x as u8 as u16, (x >> 16) as u8 as u16)
                        };
                        let l = l.wrapping_add(add as u16) as u32;
                        let h = h.wrapping_add((add >> 16) as u16) as u32;
                        l | h << 16
                    }
                };
            }
            Op::Load { ty, rt, rn, imm } => {
                let v = self.read(r(self, rn).wrapping_add(imm as u32), ty.size())?;
                self.r[(rt & 15) as usize] = extend_load(ty, v);
            }
            Op::Store { ty, rt, rn, imm } => {
                self.write(r(self, rn).wrapping_add(imm as u32), ty.size(), r(self, rt))?;
            }
            Op::LoadWb { ty, rt, rn, pre, imm } => {
                let base = r(self, rn);
                let off = base.wrapping_add(imm as u32);
                let v = self.read(if pre { off } else { base }, ty.size())?;
                self.r[(rn & 15) as usize] = off;
                self.r[(rt & 15) as usize] = extend_load(ty, v);
            }
            Op::StoreWb { ty, rt, rn, pre, imm } => {
                let base = r(self, rn);
                let off = base.wrapping_add(imm as u32);
                self.write(if pre { off } else { base }, ty.size(), r(self, rt))?;
                self.r[(rn & 15) as usize] = off;
            }
            Op::LoadReg { ty, rt, rn, rm, shift } => {
                let v = self.read(r(self, rn).wrapping_add(r(self, rm) << shift), ty.size())?;
                self.r[(rt & 15) as usize] = extend_load(ty, v);
            }
            Op::StoreReg { ty, rt, rn, rm, shift } => {
                self.write(r(self, rn).wrapping_add(r(self, rm) << shift), ty.size(), r(self, rt))?;
            }
            Op::Branch { cond, off } => {
                if cond >= 14 || self.cond_passed(cond) {
                    self.next_pc = pc.wrapping_add(4).wrapping_add(off as u32);
                    return Ok(true);
                }
            }
            Op::Call { off } => {
                // BL is 32 bits: the return address is PC + 4.
                self.r[14] = pc.wrapping_add(4) | 1;
                self.next_pc = pc.wrapping_add(4).wrapping_add(off as u32);
                return Ok(true);
            }
            Op::Cbz { rn, nz, off } => {
                if (r(self, rn) == 0) != nz {
                    self.next_pc = pc.wrapping_add(4).wrapping_add(off as u32);
                    return Ok(true);
                }
            }
            Op::It { state } => self.itstate = state,
        }
        Ok(false)
    }

    #[inline(always)]
    fn set_nzcv(&mut self, v: u32, c: bool, o: bool) {
        self.n = v >> 31 != 0;
        self.z = v == 0;
        self.c = c;
        self.v = o;
    }
}

/// AND/ORR/EOR/BIC/ORN.
#[inline(always)]
fn logic(op: DpOp, a: u32, b: u32) -> u32 {
    match op {
        DpOp::And => a & b,
        DpOp::Orr => a | b,
        DpOp::Eor => a ^ b,
        DpOp::Bic => a & !b,
        _ => a | !b,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::Op;
    use crate::insn::Insn;
    use crate::{CoreKind, RegionKind, RegionSpec, SimConfig, Simulator, decode};

    const CODE: u32 = 0x0800_0000;
    const RAM: u32 = 0x2000_0000;
    /// Bytes of RAM compared after each instruction (register bases reach
    /// 0x100, immediate offsets 4095).
    const RAM_SEEN: usize = 0x1200;

    fn flat_sim() -> Simulator {
        let region =
            |name: &str, start, kind| RegionSpec { name: name.into(), start, size: 0x2000, kind, wait_states: 0 };
        let regions = vec![region("flash", CODE, RegionKind::Flash), region("ram", RAM, RegionKind::Ram)];
        Simulator::new(SimConfig { core: CoreKind::CortexM4, clock_hz: 1_000_000, regions }).unwrap()
    }

    /// Every register, flag and the RAM word the accesses land in, after running
    /// `insn` at `pc` from `regs`/`apsr` through the generic visitor or the fast form.
    fn run_one(insn: &Insn, fast: bool, regs: &[u32; 15], apsr: u32, pc: u32) -> Option<(Vec<u32>, Vec<u8>)> {
        let mut sim = flat_sim();
        for (i, v) in regs.iter().enumerate() {
            sim.set_reg(i, *v);
        }
        sim.set_apsr(apsr);
        sim.pc = pc;
        sim.next_pc = pc.wrapping_add(4);
        sim.pc_written = false;
        sim.r[15] = pc.wrapping_add(4);
        let taken = if fast {
            sim.exec_fast(Op::lower(insn), pc).ok()?
        } else {
            sim.exec(insn).ok()?;
            sim.pc_written
        };
        let next = if taken { sim.next_pc } else { pc.wrapping_add(4) };
        let (n, z, c, v, q) = sim.flags();
        let mut state: Vec<u32> = (0..15).map(|i| sim.reg(i)).collect();
        state.extend([n, z, c, v, q].map(u32::from));
        state.push(next);
        let mut ram = vec![0; RAM_SEEN];
        sim.read_memory(RAM, &mut ram).unwrap();
        Some((state, ram))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 20_000, max_global_rejects: 1_000_000, ..ProptestConfig::default() })]

        /// For every instruction with a fast form: same state as the generic visitor.
        #[test]
        fn fast_forms_match_the_generic_visitor(
            word in any::<u32>(),
            regs in proptest::array::uniform15(0u32..0x40),
            wide in proptest::array::uniform15(any::<u32>()),
            use_wide in any::<u16>(),
            apsr in any::<u32>(),
        ) {
            // 16-bit encodings from the low halfword, 32-bit from the whole word.
            let (insn, _) = decode::decode((word >> 16) as u16, word as u16);
            let op = Op::lower(&insn);
            prop_assume!(op != Op::Generic);
            // Small register values point into the test RAM (base + offset), wide
            // ones exercise the arithmetic.
            let mut r = [0u32; 15];
            for i in 0..15 {
                r[i] = if use_wide >> i & 1 != 0 { wide[i] } else { RAM + regs[i] * 4 };
            }
            let pc = CODE;
            let generic = run_one(&insn, false, &r, apsr & 0xf80f_0000, pc);
            let fast = run_one(&insn, true, &r, apsr & 0xf80f_0000, pc);
            prop_assert_eq!(fast, generic, "{:?} lowered to {:?}", insn, op);
        }
    }

    #[test]
    fn common_shapes_have_fast_forms() {
        // (hw1, hw2, assembly): each must lower to a fast form.
        let cases: &[(u16, u16, &str)] = &[
            (0xf851, 0x4b04, "ldr r4, [r1], #4"),
            (0x9f00, 0, "ldr r7, [sp]"),
            (0x3b01, 0, "subs r3, #1"),
            (0xd1ed, 0, "bne.n -0x22"),
            (0xfb05, 0x220c, "mla r2, r5, r12, r2"),
            (0x4601, 0, "mov r1, r0"),
            (0x42be, 0, "cmp r6, r7"),
            (0xf8c0, 0x2400, "str.w r2, [r0, #1024]"),
            (0xfb22, 0x0003, "smlad r0, r2, r3, r0"),
            (0xfa2f, 0xf185, "sxtb16 r1, r5"),
        ];
        for &(hw1, hw2, asm) in cases {
            let (insn, _) = decode::decode(hw1, hw2);
            assert_ne!(Op::lower(&insn), Op::Generic, "{asm} ({insn:?}) has no fast form");
        }
    }
}
