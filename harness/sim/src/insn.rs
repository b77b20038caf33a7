//! The typed instruction set: the decoder produces [`Insn`] once per address,
//! and execution, disassembly and timing are separate visitors over it.

/// A core register number, 0..=15 (13 = SP, 14 = LR, 15 = PC).
pub type Reg = u8;

/// Whether a data-processing instruction updates the flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetFlags {
    /// Never (32-bit encoding with S = 0, or a compare-free op).
    Never,
    /// Always (32-bit encoding with S = 1, and 16-bit compares).
    Always,
    /// 16-bit encodings: set flags only outside an IT block. The decoded
    /// instruction must not depend on IT state, because it is cached by address.
    OutsideIt,
}

/// Shift type of a shifted-register operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShiftType {
    Lsl,
    Lsr,
    Asr,
    Ror,
    /// Rotate right by one through carry (ROR #0 in the encoding).
    Rrx,
}

/// A decoded immediate shift (`DecodeImmShift`): LSR/ASR #32 are stored as 32.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shift {
    pub ty: ShiftType,
    pub n: u8,
}

impl Shift {
    /// No shift (LSL #0).
    pub const NONE: Shift = Shift { ty: ShiftType::Lsl, n: 0 };

    /// `DecodeImmShift(type, imm5)`.
    pub fn decode(ty: u32, imm5: u32) -> Shift {
        let n = (imm5 & 31) as u8;
        match ty & 3 {
            0 => Shift { ty: ShiftType::Lsl, n },
            1 => Shift { ty: ShiftType::Lsr, n: if n == 0 { 32 } else { n } },
            2 => Shift { ty: ShiftType::Asr, n: if n == 0 { 32 } else { n } },
            _ if n == 0 => Shift { ty: ShiftType::Rrx, n: 1 },
            _ => Shift { ty: ShiftType::Ror, n },
        }
    }

    /// True for LSL #0.
    pub fn is_none(self) -> bool {
        self.ty == ShiftType::Lsl && self.n == 0
    }
}

/// Data-processing operation (shared by immediate and register forms).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DpOp {
    And,
    Eor,
    Orr,
    Orn,
    Bic,
    Mov,
    Mvn,
    Tst,
    Teq,
    Add,
    Adc,
    Sub,
    Sbc,
    Rsb,
    Cmp,
    Cmn,
}

impl DpOp {
    /// Compare/test ops write no destination register.
    pub fn is_test(self) -> bool {
        matches!(self, DpOp::Tst | DpOp::Teq | DpOp::Cmp | DpOp::Cmn)
    }
    /// Arithmetic ops set C and V from the adder; logical ops take C from the shifter.
    pub fn is_arith(self) -> bool {
        matches!(self, DpOp::Add | DpOp::Adc | DpOp::Sub | DpOp::Sbc | DpOp::Rsb | DpOp::Cmp | DpOp::Cmn)
    }
}

/// Memory access type for single loads/stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemTy {
    Word,
    Half,
    SHalf,
    Byte,
    SByte,
}

impl MemTy {
    /// Access size in bytes.
    pub fn size(self) -> u32 {
        match self {
            MemTy::Word => 4,
            MemTy::Half | MemTy::SHalf => 2,
            MemTy::Byte | MemTy::SByte => 1,
        }
    }
}

/// Long multiplies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LongMulOp {
    Umull,
    Smull,
    Umlal,
    Smlal,
    Umaal,
}

/// Single-register miscellaneous ops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MiscOp {
    Clz,
    Rbit,
    Rev,
    Rev16,
    Revsh,
}

/// Sign/zero extension (with optional add when `rn != 15`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExtOp {
    Sxtb,
    Sxth,
    Uxtb,
    Uxth,
    Sxtb16,
    Uxtb16,
}

/// Saturating arithmetic (QADD family).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QOp {
    Qadd,
    Qsub,
    Qdadd,
    Qdsub,
}

/// Parallel add/subtract operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParOp {
    Add16,
    Asx,
    Sax,
    Sub16,
    Add8,
    Sub8,
}

/// Parallel add/subtract flavour (the mnemonic prefix).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParKind {
    /// Signed modulo, sets GE.
    S,
    /// Signed saturating.
    Q,
    /// Signed halving.
    Sh,
    /// Unsigned modulo, sets GE.
    U,
    /// Unsigned saturating.
    Uq,
    /// Unsigned halving.
    Uh,
}

/// Barriers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BarrierOp {
    Dmb,
    Dsb,
    Isb,
}

/// Hints (all architecturally no-ops in this model, see docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HintOp {
    Nop,
    Yield,
    Wfe,
    Wfi,
    Sev,
    /// PLD/PLI preload hints: no effect.
    Preload,
    /// DBG #option.
    Dbg,
}

/// Floating-point data-processing operations (FPv4-SP / FPv5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VfpOp {
    Vmla,
    Vmls,
    Vnmla,
    Vnmls,
    Vmul,
    Vnmul,
    Vadd,
    Vsub,
    Vdiv,
    Vfma,
    Vfms,
    Vfnma,
    Vfnms,
    /// VMOV register.
    Vmov,
    Vabs,
    Vneg,
    Vsqrt,
    /// VCMP (vm = 0xff means compare with #0.0).
    Vcmp,
    Vcmpe,
    /// VCVT between single and double (`double` is the source precision).
    VcvtFf,
    /// VCVT integer -> float; `vm` holds a single register, signed in `signed`.
    VcvtFromInt {
        signed: bool,
    },
    /// VCVT float -> integer (round toward zero when `rz`).
    VcvtToInt {
        signed: bool,
        rz: bool,
    },
    /// VCVT between float and fixed point, in place on `vd` (`size` 16 or 32 bits,
    /// `fbits` fraction bits); float -> fixed rounds toward zero.
    VcvtFixed {
        to_fixed: bool,
        unsigned: bool,
        size: u8,
        fbits: u8,
    },
    /// VCVTB/VCVTT between half precision (bottom or `top` half of an S register)
    /// and single (or, FPv5, double: `double`) precision.
    VcvtHalf {
        to_half: bool,
        top: bool,
    },
    /// VRINT{N,P,M,Z,A,R,X} (FPv5): `mode` 0..=3 is an FPSCR.RMode value, 4 = A
    /// (ties away), 5 = R (FPSCR.RMode), 6 = X (FPSCR.RMode, signals inexact).
    Vrint {
        mode: u8,
    },
    /// VCVT{A,N,P,M}.S32/U32 (FPv5): float -> integer with the rounding in the
    /// encoding (`mode` as for [`VfpOp::Vrint`], 0..=4); the destination is an S register.
    VcvtRound {
        mode: u8,
        signed: bool,
    },
    /// VSEL{EQ,VS,GE,GT} (FPv5): `cond` 0 = EQ, 1 = VS, 2 = GE, 3 = GT.
    Vsel {
        cond: u8,
    },
    /// VMAXNM / VMINNM (FPv5).
    Vmaxnm,
    Vminnm,
}

/// One decoded Thumb/Thumb-2 instruction.
///
/// Register fields are raw register numbers; PC-relative forms use `rn == 15`.
/// Immediates are fully decoded (signs applied, shifts applied).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Insn {
    /// Data-processing with an immediate. `carry` is the ThumbExpandImm carry
    /// out (None keeps C) and is used by logical ops when setting flags.
    DpImm {
        op: DpOp,
        rd: Reg,
        rn: Reg,
        imm: u32,
        carry: Option<bool>,
        s: SetFlags,
    },
    /// Data-processing with a shifted register (also MOV/LSL/LSR/ASR/ROR/RRX by immediate).
    DpReg {
        op: DpOp,
        rd: Reg,
        rn: Reg,
        rm: Reg,
        shift: Shift,
        s: SetFlags,
    },
    /// Shift by register: LSL/LSR/ASR/ROR Rd, Rn, Rm.
    ShiftReg {
        ty: ShiftType,
        rd: Reg,
        rn: Reg,
        rm: Reg,
        s: SetFlags,
    },
    /// ADR: Rd = Align(PC, 4) + imm.
    Adr {
        rd: Reg,
        imm: i32,
    },
    MovW {
        rd: Reg,
        imm: u16,
    },
    MovT {
        rd: Reg,
        imm: u16,
    },
    Mul {
        rd: Reg,
        rn: Reg,
        rm: Reg,
        s: SetFlags,
    },
    /// MLA (sub = false) / MLS (sub = true).
    Mla {
        rd: Reg,
        rn: Reg,
        rm: Reg,
        ra: Reg,
        sub: bool,
    },
    LongMul {
        op: LongMulOp,
        rdlo: Reg,
        rdhi: Reg,
        rn: Reg,
        rm: Reg,
    },
    Div {
        rd: Reg,
        rn: Reg,
        rm: Reg,
        signed: bool,
    },
    /// Load with immediate offset; `index` = offset applied before access, `wback` = base update.
    Ldr {
        ty: MemTy,
        rt: Reg,
        rn: Reg,
        imm: i32,
        index: bool,
        wback: bool,
    },
    LdrReg {
        ty: MemTy,
        rt: Reg,
        rn: Reg,
        rm: Reg,
        shift: u8,
    },
    Str {
        ty: MemTy,
        rt: Reg,
        rn: Reg,
        imm: i32,
        index: bool,
        wback: bool,
    },
    StrReg {
        ty: MemTy,
        rt: Reg,
        rn: Reg,
        rm: Reg,
        shift: u8,
    },
    Ldrd {
        rt: Reg,
        rt2: Reg,
        rn: Reg,
        imm: i32,
        index: bool,
        wback: bool,
    },
    Strd {
        rt: Reg,
        rt2: Reg,
        rn: Reg,
        imm: i32,
        index: bool,
        wback: bool,
    },
    Ldrex {
        ty: MemTy,
        rt: Reg,
        rn: Reg,
        imm: u16,
    },
    Strex {
        ty: MemTy,
        rd: Reg,
        rt: Reg,
        rn: Reg,
        imm: u16,
    },
    Clrex,
    /// LDMIA/LDMDB (POP is LDMIA sp!).
    Ldm {
        rn: Reg,
        regs: u16,
        wback: bool,
        db: bool,
    },
    /// STMIA/STMDB (PUSH is STMDB sp!).
    Stm {
        rn: Reg,
        regs: u16,
        wback: bool,
        db: bool,
    },
    /// B / `B<cond>` (cond 14 = always); target = PC + 4 + imm.
    B {
        cond: u8,
        imm: i32,
    },
    Bl {
        imm: i32,
    },
    Bx {
        rm: Reg,
    },
    Blx {
        rm: Reg,
    },
    /// CBZ (nz = false) / CBNZ; target = PC + 4 + imm.
    Cbz {
        rn: Reg,
        imm: u8,
        nz: bool,
    },
    /// TBB (half = false) / TBH.
    Tb {
        rn: Reg,
        rm: Reg,
        half: bool,
    },
    It {
        firstcond: u8,
        mask: u8,
    },
    /// BFI, or BFC when rn == 15.
    Bfi {
        rd: Reg,
        rn: Reg,
        lsb: u8,
        msb: u8,
    },
    /// UBFX / SBFX.
    Bfx {
        rd: Reg,
        rn: Reg,
        lsb: u8,
        width: u8,
        signed: bool,
    },
    Misc {
        op: MiscOp,
        rd: Reg,
        rm: Reg,
    },
    /// SXT*/UXT*; the add forms (SXTAB...) when rn != 15. `rot` in bits (0/8/16/24).
    Extend {
        op: ExtOp,
        rd: Reg,
        rn: Reg,
        rm: Reg,
        rot: u8,
    },
    /// SSAT/USAT: `sat` is the saturation bit position as written in assembly.
    Sat {
        rd: Reg,
        rn: Reg,
        sat: u8,
        shift: Shift,
        unsigned: bool,
    },
    Sat16 {
        rd: Reg,
        rn: Reg,
        sat: u8,
        unsigned: bool,
    },
    /// `SMUL<x><y>` (ra == 15) / `SMLA<x><y>`.
    SmulXy {
        rd: Reg,
        rn: Reg,
        rm: Reg,
        ra: Reg,
        nt: bool,
        mt: bool,
    },
    /// `SMULW<y>` (ra == 15) / `SMLAW<y>`.
    SmulWy {
        rd: Reg,
        rn: Reg,
        rm: Reg,
        ra: Reg,
        mt: bool,
    },
    SmlalXy {
        rdlo: Reg,
        rdhi: Reg,
        rn: Reg,
        rm: Reg,
        nt: bool,
        mt: bool,
    },
    /// SMUAD/SMUSD (ra == 15) / SMLAD/SMLSD, X = exchange halves of Rm.
    Smlad {
        rd: Reg,
        rn: Reg,
        rm: Reg,
        ra: Reg,
        x: bool,
        sub: bool,
    },
    Smlald {
        rdlo: Reg,
        rdhi: Reg,
        rn: Reg,
        rm: Reg,
        x: bool,
        sub: bool,
    },
    /// SMMUL (ra == 15) / SMMLA / SMMLS, R = round.
    Smmul {
        rd: Reg,
        rn: Reg,
        rm: Reg,
        ra: Reg,
        sub: bool,
        round: bool,
    },
    Qarith {
        op: QOp,
        rd: Reg,
        rn: Reg,
        rm: Reg,
    },
    Parallel {
        op: ParOp,
        kind: ParKind,
        rd: Reg,
        rn: Reg,
        rm: Reg,
    },
    Sel {
        rd: Reg,
        rn: Reg,
        rm: Reg,
    },
    /// USAD8 (ra == 15) / USADA8.
    Usad8 {
        rd: Reg,
        rn: Reg,
        rm: Reg,
        ra: Reg,
    },
    /// PKHBT (tb = false, LSL) / PKHTB (ASR).
    Pkh {
        rd: Reg,
        rn: Reg,
        rm: Reg,
        tb: bool,
        shift: Shift,
    },
    Mrs {
        rd: Reg,
        sysm: u8,
    },
    Msr {
        rn: Reg,
        sysm: u8,
        mask: u8,
    },
    /// CPSID (disable) / CPSIE; `i` = PRIMASK, `f` = FAULTMASK.
    Cps {
        disable: bool,
        i: bool,
        f: bool,
    },
    Barrier {
        op: BarrierOp,
    },
    Hint {
        op: HintOp,
    },
    Bkpt {
        imm: u8,
    },
    Svc {
        imm: u8,
    },
    Udf {
        imm: u16,
    },
    /// VLDR: `vd` is the S or D register index.
    Vldr {
        vd: u8,
        double: bool,
        rn: Reg,
        imm: i32,
    },
    Vstr {
        vd: u8,
        double: bool,
        rn: Reg,
        imm: i32,
    },
    /// VLDM (VPOP is VLDMIA sp!); `count` registers of the given precision.
    Vldm {
        vd: u8,
        count: u8,
        double: bool,
        rn: Reg,
        wback: bool,
        db: bool,
    },
    /// VSTM (VPUSH is VSTMDB sp!).
    Vstm {
        vd: u8,
        count: u8,
        double: bool,
        rn: Reg,
        wback: bool,
        db: bool,
    },
    /// VMOV between a core register and a single register.
    VmovCore {
        to_core: bool,
        rt: Reg,
        sn: u8,
    },
    /// VMOV between two core registers and two singles (`double` false, `vm` = first S)
    /// or one double (`double` true).
    VmovCore2 {
        to_core: bool,
        rt: Reg,
        rt2: Reg,
        vm: u8,
        double: bool,
    },
    /// VMOV between a core register and half of a double (`high` selects the upper word).
    VmovScalar {
        to_core: bool,
        rt: Reg,
        dn: u8,
        high: bool,
    },
    /// VMRS Rt, FPSCR (rt == 15: APSR_nzcv).
    Vmrs {
        rt: Reg,
    },
    Vmsr {
        rt: Reg,
    },
    /// VMOV immediate: `imm8` is the VFPExpandImm input.
    VmovImm {
        vd: u8,
        double: bool,
        imm8: u8,
    },
    /// FP data processing; for single precision the registers are S numbers, for double D numbers.
    Vfp {
        op: VfpOp,
        vd: u8,
        vn: u8,
        vm: u8,
        double: bool,
    },
    /// Permanently or architecturally undefined encoding.
    Undefined {
        word: u32,
    },
    /// A valid encoding that this simulator does not implement.
    Unsupported {
        word: u32,
    },
}

impl Insn {
    /// Histogram class name for [`crate::SimStats`].
    pub fn class(&self) -> &'static str {
        CLASS_NAMES[self.class_id() as usize]
    }

    /// Index into [`CLASS_NAMES`]; kept as a number so the hot loop counts in an array.
    /// BKPT/SVC/UDF are [`CLASS_TRAP`].
    pub fn class_id(&self) -> u8 {
        use Insn::*;
        match self {
            DpImm { .. } | DpReg { .. } | ShiftReg { .. } | Adr { .. } | MovW { .. } | MovT { .. } => 0,
            Mul { .. } | Mla { .. } | LongMul { .. } => 1,
            Div { .. } => 2,
            Ldr { .. } | LdrReg { .. } | Ldrd { .. } | Ldrex { .. } => 3,
            Str { .. } | StrReg { .. } | Strd { .. } | Strex { .. } => 4,
            Ldm { .. } | Stm { .. } => 5,
            B { .. } | Bl { .. } | Bx { .. } | Blx { .. } | Cbz { .. } | Tb { .. } => 6,
            Bfi { .. } | Bfx { .. } | Misc { .. } | Extend { .. } | Sat { .. } => 7,
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
            | Pkh { .. } => 8,
            It { .. } => 9,
            Mrs { .. } | Msr { .. } | Cps { .. } | Barrier { .. } | Hint { .. } | Clrex => 10,
            Bkpt { .. } | Svc { .. } | Udf { .. } => CLASS_TRAP,
            Vldr { .. } | Vstr { .. } | Vldm { .. } | Vstm { .. } => 12,
            VmovCore { .. }
            | VmovCore2 { .. }
            | VmovScalar { .. }
            | Vmrs { .. }
            | Vmsr { .. }
            | VmovImm { .. }
            | Vfp { .. } => 13,
            Undefined { .. } | Unsupported { .. } => 14,
        }
    }
}

/// [`Insn::class_id`] of BKPT, SVC and UDF ("trap").
pub const CLASS_TRAP: u8 = 11;

/// Names of the instruction classes, indexed by [`Insn::class_id`].
pub const CLASS_NAMES: [&str; 15] = [
    "alu",
    "mul",
    "div",
    "load",
    "store",
    "ldm_stm",
    "branch",
    "bitops",
    "dsp",
    "it",
    "system",
    "trap",
    "fp_mem",
    "fp",
    "undefined",
];
