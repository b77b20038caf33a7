//! Cortex-M4 cycle model (zero wait states). Every number cites the source letter
//! listed with the table in docs/sim-timing-m4.md.

use super::{CycleModel, TimingCtx};
use crate::insn::*;

/// Pipeline refill after a taken branch: `MispredictPenalty = 2`, "best case branch
/// taken cost" (docs/sim-timing-m4.md, source [E]; [A] gives P = 1..3).
pub const P: u32 = 2;

/// Cortex-M4 timing: the TRM table plus the load-pipelining and AGU-stall rules.
#[derive(Clone, Debug, Default)]
pub struct CortexM4 {
    /// Facts about the previous instruction, packed as the `prepare` bits 16..48:
    /// bits 0..16 = destination registers of a pipelinable single load
    /// (LDR/LDRH/LDRB/LDREX) with [`LOAD_MARK`] set, else 0; bits 16..32 =
    /// registers written by a data-processing instruction (AGU stall rule).
    prev: u32,
}

/// Marks the previous-load field of `CortexM4::prev` as valid: r15 is never a pipelinable load destination.
const LOAD_MARK: u16 = 1 << 15;

fn bit(r: Reg) -> u16 {
    1 << (r & 15)
}

/// Registers a load/store uses to form its address.
fn addr_regs(insn: &Insn) -> u16 {
    match *insn {
        Insn::Ldr { rn, .. } | Insn::Str { rn, .. } | Insn::Ldrex { rn, .. } | Insn::Strex { rn, .. } => bit(rn),
        Insn::LdrReg { rn, rm, .. } | Insn::StrReg { rn, rm, .. } => bit(rn) | bit(rm),
        Insn::Ldrd { rn, .. } | Insn::Strd { rn, .. } | Insn::Ldm { rn, .. } | Insn::Stm { rn, .. } => bit(rn),
        _ => 0,
    }
}

/// Destination registers of single-cycle data-processing instructions.
fn alu_dest(insn: &Insn) -> u16 {
    use Insn::*;
    match *insn {
        DpImm { op, rd, .. } | DpReg { op, rd, .. } if !op.is_test() => bit(rd),
        ShiftReg { rd, .. }
        | Adr { rd, .. }
        | MovW { rd, .. }
        | MovT { rd, .. }
        | Mul { rd, .. }
        | Mla { rd, .. }
        | Bfi { rd, .. }
        | Bfx { rd, .. }
        | Misc { rd, .. }
        | Extend { rd, .. }
        | Sat { rd, .. } => bit(rd),
        _ => 0,
    }
}

/// Packed static facts from [`CortexM4::prepare`] (cached with the decoded instruction).
mod packed {
    pub const ADDR_SHIFT: u32 = 0; // u16: registers forming a load/store address
    pub const LOAD_SHIFT: u32 = 16; // u16: destinations of a pipelinable single load, | LOAD_MARK
    pub const ALU_SHIFT: u32 = 32; // u16: registers written by a 1-cycle data-processing op
    pub const STATE_SHIFT: u32 = 16; // bits 16..48 become `CortexM4::prev`
    pub const BASE_SHIFT: u32 = 48; // 6 bits: cycles, not taken
    pub const TAKEN_SHIFT: u32 = 54; // 6 bits: cycles when the PC was written
    pub const COST_MASK: u64 = 63;
    pub const PIPE: u64 = 1 << 60; // may pipeline after a load (single loads)
    pub const DIV: u64 = 1 << 62; // cost depends on the quotient
    pub const VALID: u64 = 1 << 63;
}

impl CortexM4 {
    #[cold]
    #[inline(never)]
    fn prepare_cold(&self, insn: &Insn) -> u64 {
        self.prepare(insn)
    }

    /// Cost of an executed instruction from its [`CycleModel::prepare`] facts `p`.
    #[inline(always)]
    pub(crate) fn cost_prepared(&mut self, p: u64, taken: bool, quotient: u32) -> u32 {
        use packed::*;
        let addr = (p >> ADDR_SHIFT) as u32 & 0xffff;
        let prev = self.prev;
        // AGU stall: an address depending on the previous data-processing result
        // costs +1 (no forwarding to address generation, [D]).
        let agu = u32::from((addr << 16) & prev != 0);
        let mut c = ((p >> if taken { TAKEN_SHIFT } else { BASE_SHIFT }) & COST_MASK) as u32;
        if p & (DIV | PIPE) != 0 {
            if p & DIV != 0 {
                // SDIV/UDIV: 2..12 with early termination ([B]); modelled as 2 + one cycle
                // per 3 significant quotient bits, capped at 12 (simplification, see docs).
                let bits = 32 - quotient.leading_zeros();
                c = (2 + bits / 3).min(12);
            }
            // LDR pipelining: a single load right after a single load whose destination
            // it doesn't use for its address loses one cycle ([D]).
            let prev_load = prev & 0xffff;
            if p & PIPE != 0 && prev_load != 0 && addr & prev_load & !(LOAD_MARK as u32) == 0 {
                c -= 1;
            }
        }
        self.prev = (p >> STATE_SHIFT) as u32;
        c + agu
    }
}

impl CortexM4 {
    /// The state `cost_prepared` leaves after an instruction with facts `p`.
    #[inline(always)]
    pub(crate) fn set_prev(&mut self, p: u64) {
        self.prev = (p >> packed::STATE_SHIFT) as u32;
    }
}

/// (cycles not taken, cycles when the PC was written) for one instruction.
fn costs(insn: &Insn) -> (u32, u32) {
    (cost(insn, false), cost(insn, true))
}

/// The Cortex-M4 table. Pipelining, AGU stalls and division are applied in `cycles`.
fn cost(insn: &Insn, taken: bool) -> u32 {
    use Insn::*;
    match *insn {
        // ALU, MOVW/MOVT, shifts, ADR: 1; writing the PC adds P ([A] "ADD PC 1+P", "MOV PC 1+P").
        DpImm { .. } | DpReg { .. } | ShiftReg { .. } | Adr { .. } | MovW { .. } | MovT { .. } => {
            if taken {
                1 + P
            } else {
                1
            }
        }
        // MUL/MLA/MLS and 32x32->64 long multiplies: 1 ([A], [B]).
        Mul { .. } | Mla { .. } | LongMul { .. } => 1,
        // SDIV/UDIV: data dependent, see `cycles`.
        Div { .. } => 2,
        // Single loads: 2, or 1 when pipelined after a load ([D], [E] LoadLatency=2).
        // A load to PC is "2 (load) + 3 (pipeline reload)" = 5 ([D]).
        Ldr { rt: 15, .. } | LdrReg { rt: 15, .. } => 5,
        Ldr { .. } | LdrReg { .. } | Ldrex { .. } => 2,
        // STR with immediate offset: 1 ([D] "always one cycle"); register offset: 2 ([G]).
        Str { .. } | Strex { .. } => 1,
        StrReg { .. } => 2,
        // LDRD/STRD: 1 + N with N = 2, never pipelined ([A] 1+N, [D]).
        Ldrd { .. } | Strd { .. } => 3,
        // LDM/STM/PUSH/POP: 1 + N, plus P when the PC is loaded ([A]).
        Ldm { regs, .. } => 1 + regs.count_ones() + if regs & 0x8000 != 0 { P } else { 0 },
        Stm { regs, .. } => 1 + regs.count_ones(),
        // Branches: 1 + P taken, 1 not taken ([A], P from [E]); BL/BX/BLX always taken.
        B { .. } | Cbz { .. } | Bl { .. } | Bx { .. } | Blx { .. } => {
            if taken {
                1 + P
            } else {
                1
            }
        }
        // TBB/TBH: >= 2 load + 1 add + 3 reload = 6 ([D]).
        Tb { .. } => 6,
        // IT folds into the pipeline: "Only IT can be dual-issued" ([E]): 0.
        It { .. } => 0,
        // Bitfield, CLZ/RBIT/REV, extend, saturate: single-cycle ALU ops ([A], [B] SSAT/USAT 1).
        Bfi { .. } | Bfx { .. } | Misc { .. } | Extend { .. } | Sat { .. } => 1,
        // DSP multiplies/MACs and SIMD add/sub: 1 ([A], [E] MAC latency counted as 1 issue).
        Sat16 { .. }
        | SmulXy { .. }
        | SmulWy { .. }
        | SmlalXy { .. }
        | Smlad { .. }
        | Smlald { .. }
        | Smmul { .. }
        | Qarith { .. }
        | Parallel { .. }
        | Sel { .. }
        | Usad8 { .. }
        | Pkh { .. } => 1,
        // MRS/MSR/CPS/CLREX/hints: 1 ([A]); DMB/DSB 1 + B with B min 0; ISB 1 + P ([A]).
        Mrs { .. } | Msr { .. } | Cps { .. } | Clrex | Hint { .. } => 1,
        Barrier { op: BarrierOp::Isb } => 1 + P,
        Barrier { .. } => 1,
        // BKPT/SVC/UDF: 1 issue cycle; exception entry is charged separately.
        Bkpt { .. } | Svc { .. } | Udf { .. } => 1,
        // FP: VLDR.32 2, VLDR.64 3; VSTR assumed equal (row truncated in [C]).
        Vldr { double, .. } | Vstr { double, .. } => {
            if double {
                3
            } else {
                2
            }
        }
        // VLDM/VSTM/VPUSH/VPOP: 1 + N (.32) or 1 + 2N (.64) ([C]).
        Vldm { count, double, .. } | Vstm { count, double, .. } => 1 + count as u32 * if double { 2 } else { 1 },
        // VMOV core<->single and two-register forms: 2; half of a double: 1 ([C]).
        VmovCore { .. } | VmovCore2 { .. } => 2,
        VmovScalar { .. } | VmovImm { .. } | Vmrs { .. } | Vmsr { .. } => 1,
        // FP arithmetic: 1; VMLA-family/VFMA-family 3; VDIV/VSQRT 14 ([C], [E]).
        Vfp { op, .. } => match op {
            VfpOp::Vmla
            | VfpOp::Vmls
            | VfpOp::Vnmla
            | VfpOp::Vnmls
            | VfpOp::Vfma
            | VfpOp::Vfms
            | VfpOp::Vfnma
            | VfpOp::Vfnms => 3,
            VfpOp::Vdiv | VfpOp::Vsqrt => 14,
            _ => 1,
        },
        Undefined { .. } | Unsupported { .. } => 1,
    }
}

impl CycleModel for CortexM4 {
    /// Precomputes the static part of the cost (bit layout in the private `packed` module).
    fn prepare(&self, insn: &Insn) -> u64 {
        use packed::*;
        let (base, taken) = costs(insn);
        let mut p = VALID
            | (addr_regs(insn) as u64) << ADDR_SHIFT
            | (alu_dest(insn) as u64) << ALU_SHIFT
            | ((base as u64).min(COST_MASK) << BASE_SHIFT)
            | ((taken as u64).min(COST_MASK) << TAKEN_SHIFT);
        match *insn {
            Insn::Ldr { rt, rn, wback, .. } if rt != 15 => {
                let dest = bit(rt) | if wback { bit(rn) } else { 0 };
                p |= PIPE | ((dest | LOAD_MARK) as u64) << LOAD_SHIFT;
            }
            Insn::LdrReg { rt, .. } | Insn::Ldrex { rt, .. } if rt != 15 => {
                p |= PIPE | ((bit(rt) | LOAD_MARK) as u64) << LOAD_SHIFT;
            }
            Insn::Div { .. } => p |= DIV,
            _ => {}
        }
        p
    }

    #[inline(always)]
    fn cycles(&mut self, insn: &Insn, ctx: &TimingCtx) -> u32 {
        if !ctx.executed {
            // A skipped IT-block instruction still occupies its issue slot: 1 ([A], [E] IssueWidth=1).
            self.prev = 0;
            return 1;
        }
        let p = if ctx.prepared & packed::VALID != 0 { ctx.prepared } else { self.prepare_cold(insn) };
        self.cost_prepared(p, ctx.taken, ctx.quotient)
    }

    fn reset(&mut self) {
        *self = Self::default();
    }

    /// 12 cycles: ARM's published Cortex-M4 interrupt latency (not in the shared
    /// doc; unverified, to be calibrated against DWT on a board).
    fn exception_entry_cycles(&self) -> u32 {
        12
    }

    /// 10 cycles: commonly quoted Cortex-M3/M4 exception return (unverified, see above).
    fn exception_return_cycles(&self) -> u32 {
        10
    }
}
