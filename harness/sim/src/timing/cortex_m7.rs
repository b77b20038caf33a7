//! Cortex-M7 cycle model: in-order dual issue with a register scoreboard, static
//! branch prediction, LDM/STM at two registers per cycle. Every rule and number
//! cites [H] (LLVM `ARMScheduleM7.td`) or [I] (jnk0le's STM32H743 measurements)
//! listed with the table in docs/sim-timing-m7.md.

use super::{CycleModel, TimingCtx};
use crate::insn::*;

/// Branch mispredict penalty: 8 cycles measured ([I]; 6 with flag forwarding, not
/// modelled; [H] uses 4 as a scheduling compromise).
pub const MISPREDICT: u32 = 8;

/// Instruction kinds for the pairing rules.
mod kind {
    pub const ALU: u64 = 1;
    pub const LOAD: u64 = 2;
    pub const STORE: u64 = 3;
    pub const MUL: u64 = 4;
    /// Direct branch (B, B<cond>, CBZ/CBNZ, BL).
    pub const BRANCH: u64 = 5;
    /// BX LR / POP {.., pc}: predicted by the return stack.
    pub const RETURN: u64 = 6;
    /// Other PC writes (BX Rm, BLX Rm, LDR pc, MOV pc, TBB/TBH): not predicted.
    pub const INDIRECT: u64 = 7;
    pub const FP_ARITH: u64 = 8;
    /// FP moves, loads/stores of single registers, VMRS/VMSR.
    pub const FP_OTHER: u64 = 9;
    pub const OTHER: u64 = 10;
}

/// Packed static facts from [`CortexM7::prepare`].
mod packed {
    pub const SRC_SHIFT: u32 = 0; // u16: core registers read (MAC accumulators excluded)
    pub const DST_SHIFT: u32 = 16; // u16: core registers written
    pub const KIND_SHIFT: u32 = 32; // 4 bits: `kind`
    pub const ISSUE_SHIFT: u32 = 36; // 6 bits: issue cycles (1 for most)
    pub const LAT_SHIFT: u32 = 42; // 5 bits: result latency in cycles
    pub const SINGLE: u64 = 1 << 47; // cannot dual-issue
    pub const COND: u64 = 1 << 48; // conditional direct branch
    pub const BACKWARD: u64 = 1 << 49; // branch target below the branch
    pub const VALID: u64 = 1 << 63;
}

/// Cortex-M7 timing (see docs/sim-timing-m7.md).
#[derive(Clone, Debug, Default)]
pub struct CortexM7 {
    /// Cycle in which the last instruction issued (model-local clock).
    cur: u64,
    /// The last instruction issued first in its cycle and a second may join it.
    open: bool,
    /// Kind and destinations of the instruction holding the open slot.
    open_kind: u64,
    open_dsts: u16,
    /// Cycle from which each core register's new value can be consumed.
    ready: [u64; 16],
}

fn bit(r: Reg) -> u16 {
    1 << (r & 15)
}

fn bits(regs: &[Reg]) -> u16 {
    regs.iter().fold(0, |m, &r| m | bit(r))
}

/// (sources, destinations, kind, issue cycles, result latency, single-issue) per [H]/[I].
fn facts(insn: &Insn) -> (u16, u16, u64, u32, u32, bool) {
    use Insn::*;
    use kind::*;
    let narrow = |ty: MemTy| !matches!(ty, MemTy::Word);
    // Word loads feed the next cycle's (late) ALU ([I] measured; [H]'s LoadLatency 2
    // is its scheduling view); byte/halfword loads one cycle later ([I], [H] "slow").
    let load_lat = |ty: MemTy| if narrow(ty) { 2 } else { 1 };
    match *insn {
        DpImm { op, rd, rn, .. } => (bit(rn), if op.is_test() { 0 } else { bit(rd) }, ALU, 1, 1, false),
        DpReg { op, rd, rn, rm, .. } => (bits(&[rn, rm]), if op.is_test() { 0 } else { bit(rd) }, ALU, 1, 1, false),
        ShiftReg { rd, rn, rm, .. } => (bits(&[rn, rm]), bit(rd), ALU, 1, 1, false),
        Adr { rd, .. } | MovW { rd, .. } => (0, bit(rd), ALU, 1, 1, false),
        MovT { rd, .. } => (bit(rd), bit(rd), ALU, 1, 1, false),
        // CLZ, BFI/BFC are slot-0 only in [H]; modelled as ordinary ALU ops (simplification).
        Bfi { rd, rn, .. } => (bits(&[rd, rn]), bit(rd), ALU, 1, 1, false),
        Bfx { rd, rn, .. } | Misc { rd, rm: rn, .. } => (bit(rn), bit(rd), ALU, 1, 1, false),
        Extend { rd, rn, rm, .. } => (bits(&[rn, rm]), bit(rd), ALU, 1, 1, false),
        Sat { rd, rn, .. } | Sat16 { rd, rn, .. } => (bit(rn), bit(rd), ALU, 1, 1, false),
        Qarith { rd, rn, rm, .. } | Parallel { rd, rn, rm, .. } | Sel { rd, rn, rm } | Pkh { rd, rn, rm, .. } => {
            (bits(&[rn, rm]), bit(rd), ALU, 1, 1, false)
        }
        // Multiplies and MACs: result latency 2 ([H] MUL/MAC latency 2; [I] "1 extra
        // cycle result latency"). The accumulator is not a source: "all MACs can chain
        // on accumulator every cycle" ([I]).
        Mul { rd, rn, rm, .. } => (bits(&[rn, rm]), bit(rd), MUL, 1, 2, false),
        Mla { rd, rn, rm, .. } => (bits(&[rn, rm]), bit(rd), MUL, 1, 2, false),
        LongMul { rdlo, rdhi, rn, rm, .. } => (bits(&[rn, rm]), bits(&[rdlo, rdhi]), MUL, 1, 2, false),
        SmulXy { rd, rn, rm, .. }
        | SmulWy { rd, rn, rm, .. }
        | Smlad { rd, rn, rm, .. }
        | Smmul { rd, rn, rm, .. }
        | Usad8 { rd, rn, rm, .. } => (bits(&[rn, rm]), bit(rd), MUL, 1, 2, false),
        SmlalXy { rdlo, rdhi, rn, rm, .. } | Smlald { rdlo, rdhi, rn, rm, .. } => {
            (bits(&[rn, rm]), bits(&[rdlo, rdhi]), MUL, 1, 2, false)
        }
        // SDIV/UDIV: latency 7, single issue ([H]); modelled as blocking.
        Div { rd, rn, rm, .. } => (bits(&[rn, rm]), bit(rd), OTHER, 7, 1, true),
        Ldr { ty, rt: 15, rn, wback, .. } => {
            (bit(rn), if wback { bit(rn) } else { 0 }, INDIRECT, 1, load_lat(ty), false)
        }
        LdrReg { ty, rt: 15, rn, rm, .. } => (bits(&[rn, rm]), 0, INDIRECT, 1, load_lat(ty), false),
        Ldr { ty, rt, rn, wback, .. } => {
            (bit(rn), bit(rt) | if wback { bit(rn) } else { 0 }, LOAD, 1, load_lat(ty), false)
        }
        LdrReg { ty, rt, rn, rm, .. } => (bits(&[rn, rm]), bit(rt), LOAD, 1, load_lat(ty), false),
        Ldrex { ty, rt, rn, .. } => (bit(rn), bit(rt), LOAD, 1, load_lat(ty), false),
        Str { rt, rn, wback, .. } => (bits(&[rt, rn]), if wback { bit(rn) } else { 0 }, STORE, 1, 1, false),
        StrReg { rt, rn, rm, .. } => (bits(&[rt, rn, rm]), 0, STORE, 1, 1, false),
        Strex { rd, rt, rn, .. } => (bits(&[rt, rn]), bit(rd), STORE, 1, 1, false),
        // LDRD/STRD cannot dual-issue ([H]); one issue cycle (64-bit data path, assumption).
        Ldrd { rt, rt2, rn, wback, .. } => {
            (bit(rn), bits(&[rt, rt2]) | if wback { bit(rn) } else { 0 }, LOAD, 1, 1, true)
        }
        Strd { rt, rt2, rn, wback, .. } => (bits(&[rt, rt2, rn]), if wback { bit(rn) } else { 0 }, STORE, 1, 1, true),
        // LDM/STM/PUSH/POP: no dual issue, ceil(regnum / 2) cycles ([I]).
        Ldm { rn, regs, wback, .. } => {
            let n = regs.count_ones().div_ceil(2);
            let dst = regs | if wback { bit(rn) } else { 0 };
            let k = if regs & 0x8000 != 0 { if rn == 13 { RETURN } else { INDIRECT } } else { LOAD };
            (bit(rn), dst & 0x7fff, k, n, 1, true)
        }
        Stm { rn, regs, wback, .. } => {
            (regs | bit(rn), if wback { bit(rn) } else { 0 }, STORE, regs.count_ones().div_ceil(2), 1, true)
        }
        B { .. } | Cbz { .. } | Bl { .. } => {
            let src = if let Cbz { rn, .. } = *insn { bit(rn) } else { 0 };
            let dst = if matches!(insn, Bl { .. }) { bit(14) } else { 0 };
            (src, dst, BRANCH, 1, 1, false)
        }
        Bx { rm: 14 } => (bit(14), 0, RETURN, 1, 1, false),
        Bx { rm } => (bit(rm), 0, INDIRECT, 1, 1, false),
        Blx { rm } => (bit(rm), bit(14), INDIRECT, 1, 1, false),
        // TBB/TBH: single issue, 2 issue cycles ([H]); the target is not predicted.
        Tb { rn, rm, .. } => (bits(&[rn, rm]), 0, INDIRECT, 2, 1, true),
        It { .. } => (0, 0, ALU, 1, 1, false),
        Mrs { rd, .. } => (0, bit(rd), OTHER, 1, 1, true),
        Msr { rn, .. } => (bit(rn), 0, OTHER, 1, 1, true),
        // ISB flushes the pipeline: 1 + the refill (mispredict) penalty (assumption).
        Barrier { op: BarrierOp::Isb } => (0, 0, OTHER, 1 + MISPREDICT, 1, true),
        Cps { .. } | Clrex | Barrier { .. } | Bkpt { .. } | Svc { .. } | Udf { .. } => (0, 0, OTHER, 1, 1, true),
        Hint { .. } => (0, 0, ALU, 1, 1, false),
        // VLDR.64 and VLDM/VSTM cannot dual-issue ([H]); VLDM/VSTM move two words per
        // cycle like LDM/STM (assumption, by analogy with [I]).
        Vldr { double, rn, .. } => (bit(rn), 0, if double { OTHER } else { FP_OTHER }, 1, 1, double),
        Vstr { double, rn, .. } => (bit(rn), 0, if double { OTHER } else { STORE }, 1, 1, double),
        Vldm { rn, count, double, wback, .. } | Vstm { rn, count, double, wback, .. } => {
            let words = count as u32 * if double { 2 } else { 1 };
            (bit(rn), if wback { bit(rn) } else { 0 }, OTHER, words.div_ceil(2).max(1), 1, true)
        }
        VmovCore { to_core: true, rt, .. } | VmovScalar { to_core: true, rt, .. } => {
            (0, bit(rt), FP_OTHER, 1, 2, false)
        }
        VmovCore { rt, .. } | VmovScalar { rt, .. } => (bit(rt), 0, FP_OTHER, 1, 1, false),
        VmovCore2 { to_core: true, rt, rt2, .. } => (0, bits(&[rt, rt2]), FP_OTHER, 1, 2, false),
        VmovCore2 { rt, rt2, .. } => (bits(&[rt, rt2]), 0, FP_OTHER, 1, 1, false),
        Vmrs { rt } => (0, if rt == 15 { 0 } else { bit(rt) }, FP_OTHER, 1, 2, false),
        Vmsr { rt } => (bit(rt), 0, OTHER, 1, 1, true),
        VmovImm { .. } => (0, 0, FP_OTHER, 1, 1, false),
        // FP arithmetic: one issue cycle, never two FP arithmetic ops together ([I]).
        // VDIV/VSQRT.F32 16/14 cycles ([I]), .F64 30 ([I] vdiv.d; [H] 30); modelled as
        // blocking. FP register latencies are not tracked (docs/sim-timing-m7.md).
        Vfp { op: VfpOp::Vdiv, double, .. } => (0, 0, FP_ARITH, if double { 30 } else { 16 }, 1, true),
        Vfp { op: VfpOp::Vsqrt, double, .. } => (0, 0, FP_ARITH, if double { 30 } else { 14 }, 1, true),
        Vfp { .. } => (0, 0, FP_ARITH, 1, 1, false),
        Undefined { .. } | Unsupported { .. } => (0, 0, OTHER, 1, 1, true),
    }
}

/// Whether `second` may issue in the same cycle as `first` ([I] unless noted).
#[inline(always)]
fn pairable(first: u64, second: u64) -> bool {
    use kind::*;
    match (first, second) {
        // Two loads only pair on different DTCM/cache banks: not modelled, never pair.
        (LOAD, LOAD) => false,
        // "two stores cannot dual-issue".
        (STORE, STORE) => false,
        // "MUL/MAC cannot dual-issue with each other or with stores".
        (MUL, MUL) | (MUL, STORE) | (STORE, MUL) => false,
        // "FPU SP arithmetic ops cannot dual-issue with each other".
        (FP_ARITH, FP_ARITH) => false,
        // A branch after a (not taken) branch: one branch unit ([H]).
        (BRANCH | RETURN | INDIRECT, BRANCH | RETURN | INDIRECT) => false,
        _ => true,
    }
}

impl CortexM7 {
    #[cold]
    #[inline(never)]
    fn prepare_cold(&self, insn: &Insn) -> u64 {
        self.prepare(insn)
    }

    /// Cost of an executed instruction from its [`CycleModel::prepare`] facts `p`.
    #[inline(always)]
    pub(crate) fn cost_prepared(&mut self, p: u64, taken: bool, _quotient: u32) -> u32 {
        use packed::*;
        let srcs = (p >> SRC_SHIFT) as u16;
        let dsts = (p >> DST_SHIFT) as u16;
        let k = (p >> KIND_SHIFT) & 15;
        let issue = (p >> ISSUE_SHIFT) & 63;
        let lat = (p >> LAT_SHIFT) & 31;
        let single = p & SINGLE != 0;
        let start = self.cur;
        // Dual issue: join the open slot unless a rule forbids it or an operand is
        // produced by the instruction in that slot (no same-cycle forwarding).
        let mut t = if self.open && !single && srcs & self.open_dsts == 0 && pairable(self.open_kind, k) {
            self.cur
        } else {
            self.cur + 1
        };
        // Scoreboard: wait for every source operand.
        let mut s = srcs;
        while s != 0 {
            let r = s.trailing_zeros() as usize;
            s &= s - 1;
            t = t.max(self.ready[r]);
        }
        let paired = t == self.cur;
        let mut end = t + issue - 1;
        let mut d = dsts;
        while d != 0 {
            let r = d.trailing_zeros() as usize;
            d &= d - 1;
            self.ready[r] = end + lat;
        }
        // Branch prediction (static, docs/sim-timing-m7.md): backward conditional
        // branches predicted taken, forward ones not taken; B/BL always and returns
        // (return stack) predicted; other indirect branches never.
        let mispredict = match k {
            kind::BRANCH => p & COND != 0 && taken != (p & BACKWARD != 0),
            kind::RETURN => false,
            kind::INDIRECT => taken,
            _ => false,
        };
        if mispredict {
            end += MISPREDICT as u64;
        }
        // The next instruction may join this cycle if this one issued first in it
        // and takes one cycle; after a predicted taken branch one instruction at the
        // target may still pair ([I]).
        self.open = !paired && !single && issue == 1 && !mispredict;
        self.open_kind = k;
        self.open_dsts = dsts;
        self.cur = end;
        (end - start) as u32
    }
}

impl CycleModel for CortexM7 {
    fn prepare(&self, insn: &Insn) -> u64 {
        use packed::*;
        let (src, dst, k, issue, lat, single) = facts(insn);
        let mut p = VALID
            | (src as u64) << SRC_SHIFT
            | (dst as u64) << DST_SHIFT
            | k << KIND_SHIFT
            | (issue.min(63) as u64) << ISSUE_SHIFT
            | (lat.min(31) as u64) << LAT_SHIFT;
        if single {
            p |= SINGLE;
        }
        match *insn {
            Insn::B { cond, imm } => {
                if cond < 14 {
                    p |= COND;
                }
                if imm < 0 {
                    p |= BACKWARD;
                }
            }
            // CBZ/CBNZ only branch forward: predicted not taken.
            Insn::Cbz { .. } => p |= COND,
            _ => {}
        }
        p
    }

    #[inline(always)]
    fn cycles(&mut self, insn: &Insn, ctx: &TimingCtx) -> u32 {
        if !ctx.executed {
            // A skipped IT-block instruction still takes an issue slot (treated as a
            // pairable ALU op without operands).
            return self.cost_prepared(
                packed::VALID | kind::ALU << packed::KIND_SHIFT | 1 << packed::ISSUE_SHIFT | 1 << packed::LAT_SHIFT,
                false,
                0,
            );
        }
        let p = if ctx.prepared & packed::VALID != 0 { ctx.prepared } else { self.prepare_cold(insn) };
        self.cost_prepared(p, ctx.taken, ctx.quotient)
    }

    fn reset(&mut self) {
        *self = Self::default();
    }

    /// 12 cycles, as for the M4 (unverified on the M7; calibrate against DWT).
    fn exception_entry_cycles(&self) -> u32 {
        12
    }

    /// 10 cycles, as for the M4 (unverified on the M7).
    fn exception_return_cycles(&self) -> u32 {
        10
    }
}
