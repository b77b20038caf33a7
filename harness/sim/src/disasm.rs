//! Disassembly visitor: ARM UAL text for an [`Insn`] (llvm-objdump style, lower case).

use std::fmt::{self, Write as _};

use crate::insn::*;

const COND: [&str; 16] = ["eq", "ne", "hs", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le", "", ""];

/// Register name (`sp`, `lr`, `pc` for 13..15).
pub fn reg_name(r: Reg) -> &'static str {
    const N: [&str; 16] =
        ["r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "sp", "lr", "pc"];
    N[(r & 15) as usize]
}

/// Disassembles `insn` located at `pc` (branch targets are printed as absolute addresses).
pub fn disassemble(insn: &Insn, pc: u32) -> String {
    Disasm { insn, pc: Some(pc) }.to_string()
}

/// Display adapter; without a PC, branch targets print as `pc+off` offsets from the instruction.
pub struct Disasm<'a> {
    pub insn: &'a Insn,
    pub pc: Option<u32>,
}

impl fmt::Display for Insn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Disasm { insn: self, pc: None }.fmt(f)
    }
}

fn s(sf: SetFlags) -> &'static str {
    if sf == SetFlags::Never { "" } else { "s" }
}

fn shift_str(sh: Shift) -> String {
    match sh.ty {
        _ if sh.is_none() => String::new(),
        ShiftType::Rrx => ", rrx".into(),
        t => format!(", {} #{}", shift_name(t), sh.n),
    }
}

fn shift_name(t: ShiftType) -> &'static str {
    match t {
        ShiftType::Lsl => "lsl",
        ShiftType::Lsr => "lsr",
        ShiftType::Asr => "asr",
        ShiftType::Ror => "ror",
        ShiftType::Rrx => "rrx",
    }
}

fn dp_name(op: DpOp) -> &'static str {
    match op {
        DpOp::And => "and",
        DpOp::Eor => "eor",
        DpOp::Orr => "orr",
        DpOp::Orn => "orn",
        DpOp::Bic => "bic",
        DpOp::Mov => "mov",
        DpOp::Mvn => "mvn",
        DpOp::Tst => "tst",
        DpOp::Teq => "teq",
        DpOp::Add => "add",
        DpOp::Adc => "adc",
        DpOp::Sub => "sub",
        DpOp::Sbc => "sbc",
        DpOp::Rsb => "rsb",
        DpOp::Cmp => "cmp",
        DpOp::Cmn => "cmn",
    }
}

fn reglist(regs: u16) -> String {
    let names: Vec<&str> = (0..16).filter(|i| regs & (1 << i) != 0).map(|i| reg_name(i as u8)).collect();
    format!("{{{}}}", names.join(", "))
}

fn mem_suffix(ty: MemTy) -> &'static str {
    match ty {
        MemTy::Word => "",
        MemTy::Half => "h",
        MemTy::SHalf => "sh",
        MemTy::Byte => "b",
        MemTy::SByte => "sb",
    }
}

fn sysm_name(sysm: u8) -> String {
    match sysm {
        0 => "apsr".into(),
        1 => "iapsr".into(),
        2 => "eapsr".into(),
        3 => "xpsr".into(),
        5 => "ipsr".into(),
        6 => "epsr".into(),
        7 => "iepsr".into(),
        8 => "msp".into(),
        9 => "psp".into(),
        16 => "primask".into(),
        17 => "basepri".into(),
        18 => "basepri_max".into(),
        19 => "faultmask".into(),
        20 => "control".into(),
        n => format!("sysm{n}"),
    }
}

fn addr_imm(rn: Reg, imm: i32, index: bool, wback: bool) -> String {
    let sign = if imm < 0 { "-" } else { "" };
    let mag = imm.unsigned_abs();
    match (index, wback) {
        (true, false) if imm == 0 => format!("[{}]", reg_name(rn)),
        (true, false) => format!("[{}, #{sign}{mag}]", reg_name(rn)),
        (true, true) => format!("[{}, #{sign}{mag}]!", reg_name(rn)),
        (false, _) => format!("[{}], #{sign}{mag}", reg_name(rn)),
    }
}

fn vreg(n: u8, double: bool) -> String {
    if double { format!("d{n}") } else { format!("s{n}") }
}

impl Disasm<'_> {
    fn target(&self, imm: i32) -> String {
        match self.pc {
            Some(pc) => format!("{:#x}", pc.wrapping_add(4).wrapping_add(imm as u32)),
            None => format!("pc{:+}", imm as i64 + 4),
        }
    }
}

impl fmt::Display for Disasm<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Insn::*;
        let r = reg_name;
        let mut o = String::new();
        match *self.insn {
            DpImm { op, rd, rn, imm, s: sf, .. } => match op {
                DpOp::Mov | DpOp::Mvn => write!(o, "{}{} {}, #{}", dp_name(op), s(sf), r(rd), imm)?,
                DpOp::Tst | DpOp::Teq | DpOp::Cmp | DpOp::Cmn => write!(o, "{} {}, #{}", dp_name(op), r(rn), imm)?,
                _ => write!(o, "{}{} {}, {}, #{}", dp_name(op), s(sf), r(rd), r(rn), imm)?,
            },
            DpReg { op, rd, rn, rm, shift, s: sf } => match op {
                DpOp::Mov if !shift.is_none() => {
                    if shift.ty == ShiftType::Rrx {
                        write!(o, "rrx{} {}, {}", s(sf), r(rd), r(rm))?
                    } else {
                        write!(o, "{}{} {}, {}, #{}", shift_name(shift.ty), s(sf), r(rd), r(rm), shift.n)?
                    }
                }
                DpOp::Mov | DpOp::Mvn => {
                    write!(o, "{}{} {}, {}{}", dp_name(op), s(sf), r(rd), r(rm), shift_str(shift))?
                }
                DpOp::Tst | DpOp::Teq | DpOp::Cmp | DpOp::Cmn => {
                    write!(o, "{} {}, {}{}", dp_name(op), r(rn), r(rm), shift_str(shift))?
                }
                _ => write!(o, "{}{} {}, {}, {}{}", dp_name(op), s(sf), r(rd), r(rn), r(rm), shift_str(shift))?,
            },
            ShiftReg { ty, rd, rn, rm, s: sf } => {
                write!(o, "{}{} {}, {}, {}", shift_name(ty), s(sf), r(rd), r(rn), r(rm))?
            }
            Adr { rd, imm } => match self.pc {
                Some(pc) => write!(o, "adr {}, {:#x}", r(rd), (pc.wrapping_add(4) & !3).wrapping_add(imm as u32))?,
                None => write!(o, "adr {}, #{}", r(rd), imm)?,
            },
            MovW { rd, imm } => write!(o, "movw {}, #{}", r(rd), imm)?,
            MovT { rd, imm } => write!(o, "movt {}, #{}", r(rd), imm)?,
            Mul { rd, rn, rm, s: sf } => write!(o, "mul{} {}, {}, {}", s(sf), r(rd), r(rn), r(rm))?,
            Mla { rd, rn, rm, ra, sub } => {
                write!(o, "{} {}, {}, {}, {}", if sub { "mls" } else { "mla" }, r(rd), r(rn), r(rm), r(ra))?
            }
            LongMul { op, rdlo, rdhi, rn, rm } => {
                let name = match op {
                    LongMulOp::Umull => "umull",
                    LongMulOp::Smull => "smull",
                    LongMulOp::Umlal => "umlal",
                    LongMulOp::Smlal => "smlal",
                    LongMulOp::Umaal => "umaal",
                };
                write!(o, "{name} {}, {}, {}, {}", r(rdlo), r(rdhi), r(rn), r(rm))?
            }
            Div { rd, rn, rm, signed } => {
                write!(o, "{} {}, {}, {}", if signed { "sdiv" } else { "udiv" }, r(rd), r(rn), r(rm))?
            }
            Ldr { ty, rt, rn: 15, imm, .. } => match self.pc {
                Some(pc) => write!(
                    o,
                    "ldr{} {}, [pc, #{}] @ {:#x}",
                    mem_suffix(ty),
                    r(rt),
                    imm,
                    (pc.wrapping_add(4) & !3).wrapping_add(imm as u32)
                )?,
                None => write!(o, "ldr{} {}, [pc, #{}]", mem_suffix(ty), r(rt), imm)?,
            },
            Ldr { ty, rt, rn, imm, index, wback } => {
                if rn == 13 && rt != 13 && !index && wback && imm == 4 && ty == MemTy::Word {
                    write!(o, "pop {{{}}}", r(rt))?
                } else {
                    write!(o, "ldr{} {}, {}", mem_suffix(ty), r(rt), addr_imm(rn, imm, index, wback))?
                }
            }
            Str { ty, rt, rn, imm, index, wback } => {
                if rn == 13 && index && wback && imm == -4 && ty == MemTy::Word {
                    write!(o, "push {{{}}}", r(rt))?
                } else {
                    write!(o, "str{} {}, {}", mem_suffix(ty), r(rt), addr_imm(rn, imm, index, wback))?
                }
            }
            LdrReg { ty, rt, rn, rm, shift } | StrReg { ty, rt, rn, rm, shift } => {
                let name = if matches!(self.insn, LdrReg { .. }) { "ldr" } else { "str" };
                let sh = if shift == 0 { String::new() } else { format!(", lsl #{shift}") };
                write!(o, "{name}{} {}, [{}, {}{sh}]", mem_suffix(ty), r(rt), r(rn), r(rm))?
            }
            Ldrd { rt, rt2, rn, imm, index, wback } | Strd { rt, rt2, rn, imm, index, wback } => {
                let name = if matches!(self.insn, Ldrd { .. }) { "ldrd" } else { "strd" };
                write!(o, "{name} {}, {}, {}", r(rt), r(rt2), addr_imm(rn, imm, index, wback))?
            }
            Ldrex { ty, rt, rn, imm } => {
                let a = if imm == 0 { format!("[{}]", r(rn)) } else { format!("[{}, #{}]", r(rn), imm) };
                write!(o, "ldrex{} {}, {a}", mem_suffix(ty), r(rt))?
            }
            Strex { ty, rd, rt, rn, imm } => {
                let a = if imm == 0 { format!("[{}]", r(rn)) } else { format!("[{}, #{}]", r(rn), imm) };
                write!(o, "strex{} {}, {}, {a}", mem_suffix(ty), r(rd), r(rt))?
            }
            Clrex => o.push_str("clrex"),
            Ldm { rn: 13, regs, wback: true, db: false } => write!(o, "pop {}", reglist(regs))?,
            Stm { rn: 13, regs, wback: true, db: true } => write!(o, "push {}", reglist(regs))?,
            Ldm { rn, regs, wback, db } | Stm { rn, regs, wback, db } => {
                let base = if matches!(self.insn, Ldm { .. }) { "ldm" } else { "stm" };
                write!(
                    o,
                    "{base}{} {}{}, {}",
                    if db { "db" } else { "" },
                    r(rn),
                    if wback { "!" } else { "" },
                    reglist(regs)
                )?
            }
            B { cond, imm } => write!(o, "b{} {}", COND[(cond & 15) as usize], self.target(imm))?,
            Bl { imm } => write!(o, "bl {}", self.target(imm))?,
            Bx { rm } => write!(o, "bx {}", r(rm))?,
            Blx { rm } => write!(o, "blx {}", r(rm))?,
            Cbz { rn, imm, nz } => {
                write!(o, "{} {}, {}", if nz { "cbnz" } else { "cbz" }, r(rn), self.target(imm as i32))?
            }
            Tb { rn, rm, half } => {
                if half {
                    write!(o, "tbh [{}, {}, lsl #1]", r(rn), r(rm))?
                } else {
                    write!(o, "tbb [{}, {}]", r(rn), r(rm))?
                }
            }
            It { firstcond, mask } => {
                let mut suffix = String::new();
                let tz = mask.trailing_zeros();
                for i in (tz + 1..4).rev() {
                    let bit = (mask >> i) & 1;
                    suffix.push(if bit == (firstcond & 1) { 't' } else { 'e' });
                }
                let c = if firstcond == 14 { "al" } else { COND[(firstcond & 15) as usize] };
                write!(o, "it{suffix} {c}")?;
            }
            Bfi { rd, rn: 15, lsb, msb } => write!(o, "bfc {}, #{}, #{}", r(rd), lsb, msb - lsb + 1)?,
            Bfi { rd, rn, lsb, msb } => write!(o, "bfi {}, {}, #{}, #{}", r(rd), r(rn), lsb, msb - lsb + 1)?,
            Bfx { rd, rn, lsb, width, signed } => {
                write!(o, "{} {}, {}, #{}, #{}", if signed { "sbfx" } else { "ubfx" }, r(rd), r(rn), lsb, width)?
            }
            Misc { op, rd, rm } => {
                let name = match op {
                    MiscOp::Clz => "clz",
                    MiscOp::Rbit => "rbit",
                    MiscOp::Rev => "rev",
                    MiscOp::Rev16 => "rev16",
                    MiscOp::Revsh => "revsh",
                };
                write!(o, "{name} {}, {}", r(rd), r(rm))?
            }
            Extend { op, rd, rn, rm, rot } => {
                let base = match op {
                    ExtOp::Sxtb => "sxt?b",
                    ExtOp::Sxth => "sxt?h",
                    ExtOp::Uxtb => "uxt?b",
                    ExtOp::Uxth => "uxt?h",
                    ExtOp::Sxtb16 => "sxt?b16",
                    ExtOp::Uxtb16 => "uxt?b16",
                };
                let rot = if rot == 0 { String::new() } else { format!(", ror #{rot}") };
                if rn == 15 {
                    write!(o, "{} {}, {}{rot}", base.replace('?', ""), r(rd), r(rm))?
                } else {
                    write!(o, "{} {}, {}, {}{rot}", base.replace('?', "a"), r(rd), r(rn), r(rm))?
                }
            }
            Sat { rd, rn, sat, shift, unsigned } => write!(
                o,
                "{} {}, #{}, {}{}",
                if unsigned { "usat" } else { "ssat" },
                r(rd),
                sat,
                r(rn),
                shift_str(shift)
            )?,
            Sat16 { rd, rn, sat, unsigned } => {
                write!(o, "{} {}, #{}, {}", if unsigned { "usat16" } else { "ssat16" }, r(rd), sat, r(rn))?
            }
            SmulXy { rd, rn, rm, ra, nt, mt } => {
                let xy = format!("{}{}", if nt { 't' } else { 'b' }, if mt { 't' } else { 'b' });
                if ra == 15 {
                    write!(o, "smul{xy} {}, {}, {}", r(rd), r(rn), r(rm))?
                } else {
                    write!(o, "smla{xy} {}, {}, {}, {}", r(rd), r(rn), r(rm), r(ra))?
                }
            }
            SmulWy { rd, rn, rm, ra, mt } => {
                let y = if mt { 't' } else { 'b' };
                if ra == 15 {
                    write!(o, "smulw{y} {}, {}, {}", r(rd), r(rn), r(rm))?
                } else {
                    write!(o, "smlaw{y} {}, {}, {}, {}", r(rd), r(rn), r(rm), r(ra))?
                }
            }
            SmlalXy { rdlo, rdhi, rn, rm, nt, mt } => write!(
                o,
                "smlal{}{} {}, {}, {}, {}",
                if nt { 't' } else { 'b' },
                if mt { 't' } else { 'b' },
                r(rdlo),
                r(rdhi),
                r(rn),
                r(rm)
            )?,
            Smlad { rd, rn, rm, ra, x, sub } => {
                let x = if x { "x" } else { "" };
                let op = if sub { "s" } else { "a" };
                if ra == 15 {
                    write!(o, "smu{op}d{x} {}, {}, {}", r(rd), r(rn), r(rm))?
                } else {
                    write!(o, "sml{op}d{x} {}, {}, {}, {}", r(rd), r(rn), r(rm), r(ra))?
                }
            }
            Smlald { rdlo, rdhi, rn, rm, x, sub } => write!(
                o,
                "sml{}ld{} {}, {}, {}, {}",
                if sub { "s" } else { "a" },
                if x { "x" } else { "" },
                r(rdlo),
                r(rdhi),
                r(rn),
                r(rm)
            )?,
            Smmul { rd, rn, rm, ra, sub, round } => {
                let rr = if round { "r" } else { "" };
                if ra == 15 {
                    write!(o, "smmul{rr} {}, {}, {}", r(rd), r(rn), r(rm))?
                } else {
                    write!(o, "smml{}{rr} {}, {}, {}, {}", if sub { "s" } else { "a" }, r(rd), r(rn), r(rm), r(ra))?
                }
            }
            Qarith { op, rd, rn, rm } => {
                let name = match op {
                    QOp::Qadd => "qadd",
                    QOp::Qsub => "qsub",
                    QOp::Qdadd => "qdadd",
                    QOp::Qdsub => "qdsub",
                };
                write!(o, "{name} {}, {}, {}", r(rd), r(rm), r(rn))?
            }
            Parallel { op, kind, rd, rn, rm } => {
                let p = match kind {
                    ParKind::S => "s",
                    ParKind::Q => "q",
                    ParKind::Sh => "sh",
                    ParKind::U => "u",
                    ParKind::Uq => "uq",
                    ParKind::Uh => "uh",
                };
                let n = match op {
                    ParOp::Add16 => "add16",
                    ParOp::Asx => "asx",
                    ParOp::Sax => "sax",
                    ParOp::Sub16 => "sub16",
                    ParOp::Add8 => "add8",
                    ParOp::Sub8 => "sub8",
                };
                write!(o, "{p}{n} {}, {}, {}", r(rd), r(rn), r(rm))?
            }
            Sel { rd, rn, rm } => write!(o, "sel {}, {}, {}", r(rd), r(rn), r(rm))?,
            Usad8 { rd, rn, rm, ra } => {
                if ra == 15 {
                    write!(o, "usad8 {}, {}, {}", r(rd), r(rn), r(rm))?
                } else {
                    write!(o, "usada8 {}, {}, {}, {}", r(rd), r(rn), r(rm), r(ra))?
                }
            }
            Pkh { rd, rn, rm, tb, shift } => {
                write!(o, "{} {}, {}, {}{}", if tb { "pkhtb" } else { "pkhbt" }, r(rd), r(rn), r(rm), shift_str(shift))?
            }
            Mrs { rd, sysm } => write!(o, "mrs {}, {}", r(rd), sysm_name(sysm))?,
            Msr { rn, sysm, mask } => {
                let name = if sysm < 8 {
                    let m = match mask {
                        1 => "_g",
                        2 => "_nzcvq",
                        _ => "_nzcvqg",
                    };
                    format!("{}{m}", sysm_name(sysm))
                } else {
                    sysm_name(sysm)
                };
                write!(o, "msr {name}, {}", r(rn))?
            }
            Cps { disable, i, f } => write!(
                o,
                "cps{} {}{}",
                if disable { "id" } else { "ie" },
                if i { "i" } else { "" },
                if f { "f" } else { "" }
            )?,
            Barrier { op } => o.push_str(match op {
                BarrierOp::Dmb => "dmb sy",
                BarrierOp::Dsb => "dsb sy",
                BarrierOp::Isb => "isb sy",
            }),
            Hint { op } => o.push_str(match op {
                HintOp::Nop => "nop",
                HintOp::Yield => "yield",
                HintOp::Wfe => "wfe",
                HintOp::Wfi => "wfi",
                HintOp::Sev => "sev",
                HintOp::Preload => "pld",
                HintOp::Dbg => "dbg",
            }),
            Bkpt { imm } => write!(o, "bkpt #{imm:#x}")?,
            Svc { imm } => write!(o, "svc #{imm}")?,
            Udf { imm } => write!(o, "udf #{imm}")?,
            Vldr { vd, double, rn, imm } | Vstr { vd, double, rn, imm } => {
                let name = if matches!(self.insn, Vldr { .. }) { "vldr" } else { "vstr" };
                write!(o, "{name} {}, {}", vreg(vd, double), addr_imm(rn, imm, true, false))?
            }
            Vldm { vd, count, double, rn, wback, db } | Vstm { vd, count, double, rn, wback, db } => {
                let load = matches!(self.insn, Vldm { .. });
                let list = if count == 1 {
                    vreg(vd, double)
                } else {
                    format!("{}-{}", vreg(vd, double), vreg(vd.wrapping_add(count - 1), double))
                };
                if rn == 13 && wback && db != load {
                    write!(o, "{} {{{list}}}", if load { "vpop" } else { "vpush" })?
                } else {
                    write!(
                        o,
                        "{}{} {}{}, {{{list}}}",
                        if load { "vldm" } else { "vstm" },
                        if db { "db" } else { "ia" },
                        r(rn),
                        if wback { "!" } else { "" }
                    )?
                }
            }
            VmovCore { to_core, rt, sn } => {
                if to_core {
                    write!(o, "vmov {}, s{sn}", r(rt))?
                } else {
                    write!(o, "vmov s{sn}, {}", r(rt))?
                }
            }
            VmovCore2 { to_core, rt, rt2, vm, double } => {
                let v = if double { format!("d{vm}") } else { format!("s{vm}, s{}", vm.wrapping_add(1)) };
                if to_core {
                    write!(o, "vmov {}, {}, {v}", r(rt), r(rt2))?
                } else {
                    write!(o, "vmov {v}, {}, {}", r(rt), r(rt2))?
                }
            }
            VmovScalar { to_core, rt, dn, high } => {
                if to_core {
                    write!(o, "vmov.32 {}, d{dn}[{}]", r(rt), high as u8)?
                } else {
                    write!(o, "vmov.32 d{dn}[{}], {}", high as u8, r(rt))?
                }
            }
            Vmrs { rt: 15 } => o.push_str("vmrs APSR_nzcv, fpscr"),
            Vmrs { rt } => write!(o, "vmrs {}, fpscr", r(rt))?,
            Vmsr { rt } => write!(o, "vmsr fpscr, {}", r(rt))?,
            VmovImm { vd, double, imm8 } => {
                let v = f64::from(f32::from_bits(crate::exec::fp::vfp_expand_imm32(imm8)));
                write!(o, "vmov.f{} {}, #{v:?}", if double { 64 } else { 32 }, vreg(vd, double))?
            }
            Vfp { op, vd, vn, vm, double } => {
                let t = if double { "f64" } else { "f32" };
                let (d, n, m) = (vreg(vd, double), vreg(vn, double), vreg(vm, double));
                match op {
                    VfpOp::Vmov | VfpOp::Vabs | VfpOp::Vneg | VfpOp::Vsqrt => {
                        let name = match op {
                            VfpOp::Vmov => "vmov",
                            VfpOp::Vabs => "vabs",
                            VfpOp::Vneg => "vneg",
                            _ => "vsqrt",
                        };
                        write!(o, "{name}.{t} {d}, {m}")?
                    }
                    VfpOp::Vcmp | VfpOp::Vcmpe => {
                        let name = if op == VfpOp::Vcmp { "vcmp" } else { "vcmpe" };
                        if vm == 0xff { write!(o, "{name}.{t} {d}, #0")? } else { write!(o, "{name}.{t} {d}, {m}")? }
                    }
                    VfpOp::VcvtFf => {
                        if double {
                            write!(o, "vcvt.f32.f64 s{vd}, d{vm}")?
                        } else {
                            write!(o, "vcvt.f64.f32 d{vd}, s{vm}")?
                        }
                    }
                    VfpOp::VcvtFromInt { signed } => {
                        write!(o, "vcvt.{t}.{} {d}, s{vm}", if signed { "s32" } else { "u32" })?
                    }
                    VfpOp::VcvtFixed { to_fixed, unsigned, size, fbits } => {
                        let fx = format!("{}{size}", if unsigned { "u" } else { "s" });
                        let (to, from) = if to_fixed { (fx.as_str(), t) } else { (t, fx.as_str()) };
                        write!(o, "vcvt.{to}.{from} {d}, {d}, #{fbits}")?
                    }
                    VfpOp::VcvtHalf { to_half, top } => {
                        let bt = if top { "t" } else { "b" };
                        if to_half {
                            write!(o, "vcvt{bt}.f16.{t} s{vd}, {m}")?
                        } else {
                            write!(o, "vcvt{bt}.{t}.f16 {d}, s{vm}")?
                        }
                    }
                    VfpOp::Vrint { mode } => {
                        let c = ["n", "p", "m", "z", "a", "r", "x"][mode as usize % 7];
                        write!(o, "vrint{c}.{t} {d}, {m}")?
                    }
                    VfpOp::VcvtRound { mode, signed } => {
                        let c = ["n", "p", "m", "z", "a"][mode as usize % 5];
                        write!(o, "vcvt{c}.{}.{t} s{vd}, {m}", if signed { "s32" } else { "u32" })?
                    }
                    VfpOp::Vsel { cond } => {
                        let c = ["eq", "vs", "ge", "gt"][cond as usize & 3];
                        write!(o, "vsel{c}.{t} {d}, {n}, {m}")?
                    }
                    VfpOp::Vmaxnm | VfpOp::Vminnm => {
                        let name = if op == VfpOp::Vmaxnm { "vmaxnm" } else { "vminnm" };
                        write!(o, "{name}.{t} {d}, {n}, {m}")?
                    }
                    VfpOp::VcvtToInt { signed, rz } => write!(
                        o,
                        "vcvt{}.{}.{t} s{vd}, {m}",
                        if rz { "" } else { "r" },
                        if signed { "s32" } else { "u32" }
                    )?,
                    _ => {
                        let name = match op {
                            VfpOp::Vmla => "vmla",
                            VfpOp::Vmls => "vmls",
                            VfpOp::Vnmla => "vnmla",
                            VfpOp::Vnmls => "vnmls",
                            VfpOp::Vmul => "vmul",
                            VfpOp::Vnmul => "vnmul",
                            VfpOp::Vadd => "vadd",
                            VfpOp::Vsub => "vsub",
                            VfpOp::Vdiv => "vdiv",
                            VfpOp::Vfma => "vfma",
                            VfpOp::Vfms => "vfms",
                            VfpOp::Vfnma => "vfnma",
                            _ => "vfnms",
                        };
                        write!(o, "{name}.{t} {d}, {n}, {m}")?
                    }
                }
            }
            Undefined { word } => write!(o, "<undefined {word:#x}>")?,
            Unsupported { word } => write!(o, "<unsupported {word:#x}>")?,
        }
        f.write_str(&o)
    }
}
