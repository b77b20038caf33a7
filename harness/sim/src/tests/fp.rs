//! FP semantics (`exec/softfp.rs`): FPSCR exception flags, rounding modes, NaNs,
//! flush-to-zero, conversions with saturation, and the FPv5 additions (M7 only).
//! Operands are raw bit patterns; FPSCR flag bits: IOC 0x01, DZC 0x02, OFC 0x04,
//! UFC 0x08, IXC 0x10, IDC 0x80. RMode (bits 23:22) RN 0, RP 1, RM 2, RZ 3.

use super::*;

const RN: u32 = 0;
const RP: u32 = 1 << 22;
const RM: u32 = 2 << 22;
const RZ: u32 = 3 << 22;
const FZ: u32 = 1 << 24;
const DN: u32 = 1 << 25;
const IOC: u32 = 0x01;
const DZC: u32 = 0x02;
const OFC: u32 = 0x04;
const UFC: u32 = 0x08;
const IXC: u32 = 0x10;
const IDC: u32 = 0x80;

/// Runs one FP instruction (two halfwords) on `core` with FPSCR = `fpscr` and the
/// given S registers; returns (S0, FPSCR flags) — the whole simulator for D results.
fn run_fp(core: CoreKind, insn: [u16; 2], fpscr: u32, regs: &[(usize, u32)]) -> Simulator {
    let mut s = sim_with(core, &[insn[0], insn[1], BKPT0], &[]);
    s.scs.cpacr = 0xf << 20;
    s.fpscr = fpscr;
    for &(i, v) in regs {
        s.s[i] = v;
    }
    run_to_bkpt(&mut s);
    s
}

/// Single precision on the M4: `s0 = op(s1, s2)` (s0 also the accumulator).
fn f32op(insn: [u16; 2], fpscr: u32, s1: u32, s2: u32) -> (u32, u32) {
    f32op3(insn, fpscr, 0, s1, s2)
}

fn f32op3(insn: [u16; 2], fpscr: u32, s0: u32, s1: u32, s2: u32) -> (u32, u32) {
    let s = run_fp(CoreKind::CortexM4, insn, fpscr, &[(0, s0), (1, s1), (2, s2)]);
    assert_eq!(s.fpscr & !0x9f, fpscr & !0x9f, "controls unchanged");
    (s.s[0], s.fpscr & 0x9f)
}

/// Double precision on the M7: `d0 = op(d1, d2)`.
fn f64op(insn: [u16; 2], fpscr: u32, d0: f64, d1: f64, d2: f64) -> (u64, u32) {
    let mut regs = vec![];
    for (i, v) in [d0, d1, d2].iter().enumerate() {
        let b = v.to_bits();
        regs.push((2 * i, b as u32));
        regs.push((2 * i + 1, (b >> 32) as u32));
    }
    let s = run_fp(CoreKind::CortexM7, insn, fpscr, &regs);
    ((s.s[1] as u64) << 32 | s.s[0] as u64, s.fpscr & 0x9f)
}

const VADD: [u16; 2] = [0xee30, 0x0a81]; // vadd.f32 s0, s1, s2
const VSUB: [u16; 2] = [0xee30, 0x0ac1]; // vsub.f32 s0, s1, s2
const VMUL: [u16; 2] = [0xee20, 0x0a81]; // vmul.f32 s0, s1, s2
const VDIV: [u16; 2] = [0xee80, 0x0a81]; // vdiv.f32 s0, s1, s2
const VSQRT: [u16; 2] = [0xeeb1, 0x0ac1]; // vsqrt.f32 s0, s2
const VFMA: [u16; 2] = [0xeea0, 0x0a81]; // vfma.f32 s0, s1, s2
const VMLA: [u16; 2] = [0xee00, 0x0a81]; // vmla.f32 s0, s1, s2

const ONE: u32 = 0x3f80_0000;
const MAX: u32 = 0x7f7f_ffff;
const INF: u32 = 0x7f80_0000;
const QNAN: u32 = 0x7fc0_0000;

#[test]
fn fp_add_rounds_per_rmode_and_sets_ixc() {
    // 1 + 2^-24 is halfway between 1 and 1 + 2^-23.
    let half_ulp = 0x3380_0000;
    assert_eq!(f32op(VADD, RN, ONE, half_ulp), (ONE, IXC), "ties to even");
    assert_eq!(f32op(VADD, RP, ONE, half_ulp), (ONE + 1, IXC));
    assert_eq!(f32op(VADD, RM, ONE, half_ulp), (ONE, IXC));
    assert_eq!(f32op(VADD, RZ, ONE, half_ulp), (ONE, IXC));
    let (m1, mh) = (ONE | 1 << 31, half_ulp | 1 << 31);
    assert_eq!(f32op(VADD, RM, m1, mh), (m1 + 1, IXC), "-1 - 2^-24 rounds down in magnitude up");
    assert_eq!(f32op(VADD, RP, m1, mh), (m1, IXC));
    // Exact: no flags in any mode.
    assert_eq!(f32op(VADD, RZ, ONE, ONE), (0x4000_0000, 0));
}

#[test]
fn fp_exact_zero_sum_is_negative_only_in_rm() {
    assert_eq!(f32op(VSUB, RN, ONE, ONE), (0, 0));
    assert_eq!(f32op(VSUB, RP, ONE, ONE), (0, 0));
    assert_eq!(f32op(VSUB, RM, ONE, ONE), (0x8000_0000, 0));
    assert_eq!(f32op(VADD, RM, 0, 0), (0, 0), "+0 + +0 stays +0");
}

#[test]
fn fp_div_sqrt_fma_directed_rounding() {
    // 1/3 = 0x3eaaaaab (RN, rounded up), 0x3eaaaaaa toward zero.
    let three = 0x4040_0000;
    assert_eq!(f32op(VDIV, RN, ONE, three), (0x3eaa_aaab, IXC));
    assert_eq!(f32op(VDIV, RZ, ONE, three), (0x3eaa_aaaa, IXC));
    assert_eq!(f32op(VDIV, RM, ONE, three), (0x3eaa_aaaa, IXC));
    assert_eq!(f32op(VDIV, RP, ONE, three), (0x3eaa_aaab, IXC));
    // sqrt(2) = 0x3fb504f3 (RN rounds down), 0x3fb504f4 rounding up.
    assert_eq!(f32op(VSQRT, RN, 0, 0x4000_0000), (0x3fb5_04f3, IXC));
    assert_eq!(f32op(VSQRT, RP, 0, 0x4000_0000), (0x3fb5_04f4, IXC));
    assert_eq!(f32op(VSQRT, RZ, 0x4080_0000, 0x4080_0000), (0x4000_0000, 0), "sqrt(4) exact");
    // vfma: 1 + (1 + 2^-23) * (1 - 2^-24): single rounding of 2 + 2^-24 - 2^-47.
    assert_eq!(f32op3(VFMA, RN, ONE, ONE + 1, 0x3f7f_ffff), (0x4000_0000, IXC));
    assert_eq!(f32op3(VFMA, RP, ONE, ONE + 1, 0x3f7f_ffff), (0x4000_0001, IXC));
}

#[test]
fn fp_overflow_depends_on_rounding_mode() {
    let two = 0x4000_0000;
    assert_eq!(f32op(VMUL, RN, MAX, two), (INF, OFC | IXC));
    assert_eq!(f32op(VMUL, RP, MAX, two), (INF, OFC | IXC));
    assert_eq!(f32op(VMUL, RZ, MAX, two), (MAX, OFC | IXC));
    assert_eq!(f32op(VMUL, RM, MAX, two), (MAX, OFC | IXC));
    assert_eq!(f32op(VMUL, RP, MAX | 1 << 31, two), (MAX | 1 << 31, OFC | IXC));
    // MAX + half an ulp (2^103): RN rounds to 2^128 (overflow); RZ gives MAX, inexact only.
    let half = 0x7300_0000;
    assert_eq!(f32op(VADD, RN, MAX, half), (INF, OFC | IXC));
    assert_eq!(f32op(VADD, RZ, MAX, half), (MAX, IXC));
    // RP from MAX with a tiny excess steps to infinity.
    assert_eq!(f32op(VADD, RP, MAX, ONE), (INF, OFC | IXC));
    assert_eq!(f32op(VADD, RN, MAX, ONE), (MAX, IXC));
}

#[test]
fn fp_underflow_is_detected_before_rounding() {
    let half = 0x3f00_0000;
    // MIN_NORMAL / 2 is an exact subnormal: no flags.
    assert_eq!(f32op(VMUL, RN, 0x0080_0000, half), (0x0040_0000, 0));
    // (MIN_NORMAL + ulp) / 2: inexact and tiny.
    assert_eq!(f32op(VMUL, RN, 0x0080_0001, half), (0x0040_0000, UFC | IXC));
    // 0x00ffffff / 2 = 2^-126 - 2^-150 rounds up to MIN_NORMAL but was tiny: UFC.
    assert_eq!(f32op(VMUL, RN, 0x00ff_ffff, half), (0x0080_0000, UFC | IXC));
    assert_eq!(f32op(VMUL, RZ, 0x00ff_ffff, half), (0x007f_ffff, UFC | IXC));
    // Smallest subnormal / 4 rounds to zero, or up to it in RP.
    let quarter = 0x3e80_0000;
    assert_eq!(f32op(VMUL, RN, 1, quarter), (0, UFC | IXC));
    assert_eq!(f32op(VMUL, RP, 1, quarter), (1, UFC | IXC));
    assert_eq!(f32op(VMUL, RM, 1 | 1 << 31, quarter), (1 | 1 << 31, UFC | IXC));
}

#[test]
fn fp_flush_to_zero_inputs_and_results() {
    // FZ: a denormal input is flushed (IDC), the sum is exact.
    assert_eq!(f32op(VADD, FZ, ONE, 1), (ONE, IDC));
    // FZ: a tiny result becomes a signed zero with UFC only (even when exact).
    let half = 0x3f00_0000;
    assert_eq!(f32op(VMUL, FZ, 0x0080_0000, half), (0, UFC));
    assert_eq!(f32op(VMUL, FZ, 0x8080_0001, half), (0x8000_0000, UFC));
    // Denormal * 0 under FZ: IDC only.
    assert_eq!(f32op(VMUL, FZ, 5, 0), (0, IDC));
    // The minimum normal itself is not flushed.
    assert_eq!(f32op(VMUL, FZ, 0x0080_0000, ONE), (0x0080_0000, 0));
}

#[test]
fn fp_nan_propagation_and_default_nan() {
    let snan = 0x7f80_0001;
    // The first signalling NaN wins over an earlier quiet NaN, quietened, IOC.
    assert_eq!(f32op(VADD, RN, 0x7fc0_0003, 0xff80_0005), (0xffc0_0005, IOC));
    assert_eq!(f32op(VADD, RN, snan, 0x7fc0_0002), (0x7fc0_0001, IOC));
    // Two quiet NaNs: the first, no flag.
    assert_eq!(f32op(VMUL, RN, 0xffc0_0007, 0x7fc0_0002), (0xffc0_0007, 0));
    assert_eq!(f32op(VMUL, RN, ONE, 0x7fc0_0002), (0x7fc0_0002, 0));
    // DN: the default NaN, still IOC for a signalling input.
    assert_eq!(f32op(VADD, DN, snan, ONE), (QNAN, IOC));
    assert_eq!(f32op(VADD, DN, 0xffc0_0007, ONE), (QNAN, 0));
    // Invalid operations give the default NaN.
    assert_eq!(f32op(VSUB, RN, INF, INF), (QNAN, IOC));
    assert_eq!(f32op(VMUL, RN, INF, 0), (QNAN, IOC));
    assert_eq!(f32op(VDIV, RN, 0, 0), (QNAN, IOC));
    assert_eq!(f32op(VSQRT, RN, 0, 0xbf80_0000), (QNAN, IOC));
    assert_eq!(f32op(VSQRT, RN, 0, 0x8000_0000), (0x8000_0000, 0), "sqrt(-0) = -0");
    // Division by zero.
    assert_eq!(f32op(VDIV, RN, 0xbf80_0000, 0), (INF | 1 << 31, DZC));
    // VFMA with a quiet-NaN addend and 0 * inf: invalid, default NaN (FPMulAdd).
    assert_eq!(f32op3(VFMA, RN, 0x7fc0_0009, 0, INF), (QNAN, IOC));
    // VMLA is two operations: the product's NaN is negated by VMLS-style ops, flags accumulate.
    assert_eq!(f32op3(VMLA, RN, ONE, MAX, MAX), (INF, OFC | IXC));
}

#[test]
fn fp_compare_quiet_and_signalling() {
    const VCMP: [u16; 2] = [0xeeb4, 0x0a41]; // vcmp.f32 s0, s2
    const VCMPE: [u16; 2] = [0xeeb4, 0x0ac1]; // vcmpe.f32 s0, s2
    let run = |insn, s0, s2| {
        let s = run_fp(CoreKind::CortexM4, insn, 0, &[(0, s0), (2, s2)]);
        (s.fpscr >> 28, s.fpscr & 0x9f)
    };
    assert_eq!(run(VCMP, QNAN, ONE), (0b0011, 0), "unordered, quiet");
    assert_eq!(run(VCMPE, QNAN, ONE), (0b0011, IOC), "vcmpe signals on quiet NaN");
    assert_eq!(run(VCMP, 0x7f80_0001, ONE), (0b0011, IOC), "signalling NaN");
    assert_eq!(run(VCMP, 0x8000_0000, 0), (0b0110, 0), "-0 == +0");
    assert_eq!(run(VCMPE, ONE, 0x4000_0000), (0b1000, 0));
}

#[test]
fn fp_float_to_int_rounding_saturation_and_flags() {
    const VCVT_S32: [u16; 2] = [0xeebd, 0x0ac1]; // vcvt.s32.f32 s0, s2
    const VCVTR_S32: [u16; 2] = [0xeebd, 0x0a41]; // vcvtr.s32.f32 s0, s2
    const VCVT_U32: [u16; 2] = [0xeebc, 0x0ac1]; // vcvt.u32.f32 s0, s2
    let (p25, m25) = (0x4020_0000, 0xc020_0000); // 2.5, -2.5
    assert_eq!(f32op(VCVT_S32, RP, 0, p25), (2, IXC), "vcvt always truncates");
    assert_eq!(f32op(VCVTR_S32, RN, 0, p25), (2, IXC), "ties to even");
    assert_eq!(f32op(VCVTR_S32, RP, 0, p25), (3, IXC));
    assert_eq!(f32op(VCVTR_S32, RM, 0, m25), (-3i32 as u32, IXC));
    assert_eq!(f32op(VCVTR_S32, RZ, 0, m25), (-2i32 as u32, IXC));
    assert_eq!(f32op(VCVT_S32, RN, 0, 0x4040_0000), (3, 0), "exact");
    // Saturation: IOC, no IXC.
    assert_eq!(f32op(VCVT_S32, RN, 0, 0x4f80_0000), (0x7fff_ffff, IOC), "2^32");
    assert_eq!(f32op(VCVT_S32, RN, 0, 0xcf00_0000), (0x8000_0000, 0), "-2^31 fits");
    assert_eq!(f32op(VCVT_U32, RN, 0, 0xbf80_0000), (0, IOC), "-1 -> u32");
    assert_eq!(f32op(VCVT_U32, RN, 0, 0xbf00_0000), (0, IXC), "-0.5 truncates to 0");
    assert_eq!(f32op(VCVT_S32, RN, 0, QNAN), (0, IOC));
    assert_eq!(f32op(VCVT_U32, RN, 0, INF), (u32::MAX, IOC));
    assert_eq!(f32op(VCVT_S32, FZ, 0, 1), (0, IDC), "denormal flushed");
}

#[test]
fn fp_int_to_float_rounds_per_rmode() {
    const VCVT_F32_S32: [u16; 2] = [0xeeb8, 0x0ac1]; // vcvt.f32.s32 s0, s2
    const VCVT_F32_U32: [u16; 2] = [0xeeb8, 0x0a41]; // vcvt.f32.u32 s0, s2
    // 2^24 + 1 is not representable.
    assert_eq!(f32op(VCVT_F32_S32, RN, 0, 0x0100_0001), (0x4b80_0000, IXC));
    assert_eq!(f32op(VCVT_F32_S32, RP, 0, 0x0100_0001), (0x4b80_0001, IXC));
    assert_eq!(f32op(VCVT_F32_S32, RN, 0, 0xffff_ffff), (0xbf80_0000, 0), "-1");
    assert_eq!(f32op(VCVT_F32_U32, RZ, 0, 0xffff_ffff), (0x4f7f_ffff, IXC));
    assert_eq!(f32op(VCVT_F32_U32, RN, 0, 0xffff_ffff), (0x4f80_0000, IXC));
}

#[test]
fn fp_fixed_point_conversions() {
    const TO_S32_16: [u16; 2] = [0xeebe, 0x0ac8]; // vcvt.s32.f32 s0, s0, #16
    const FROM_S32_16: [u16; 2] = [0xeeba, 0x0ac8]; // vcvt.f32.s32 s0, s0, #16
    const TO_S16_8: [u16; 2] = [0xeebe, 0x0a44]; // vcvt.s16.f32 s0, s0, #8
    const TO_U16_8: [u16; 2] = [0xeebf, 0x0a44]; // vcvt.u16.f32 s0, s0, #8
    const FROM_U16_8: [u16; 2] = [0xeebb, 0x0a44]; // vcvt.f32.u16 s0, s0, #8
    let inplace = |insn, fpscr, x| f32op3(insn, fpscr, x, 0, 0);
    assert_eq!(inplace(TO_S32_16, RN, 0x3fc0_0000), (0x0001_8000, 0), "1.5");
    assert_eq!(inplace(TO_S32_16, RP, 0x3380_0000), (0, IXC), "2^-24 truncates even in RP");
    assert_eq!(inplace(FROM_S32_16, RN, 0xfffe_8000), (0xbfc0_0000, 0), "-1.5");
    assert_eq!(inplace(TO_S16_8, RN, 0x4348_0000), (0x0000_7fff, IOC), "200 saturates");
    assert_eq!(inplace(TO_S16_8, RN, 0xc348_0000), (0xffff_8000, IOC), "-200, sign-extended");
    assert_eq!(inplace(TO_S16_8, RN, 0xbfc0_0000), (0xffff_fe80, 0), "-1.5");
    assert_eq!(inplace(TO_U16_8, RN, 0x4348_0000), (0x0000_c800, 0), "200");
    assert_eq!(inplace(FROM_U16_8, RN, 0xdead_c800), (0x4348_0000, 0), "upper half ignored");
}

#[test]
fn fp_double_precision_rounding_on_m7() {
    const VADD_F64: [u16; 2] = [0xee31, 0x0b02]; // vadd.f64 d0, d1, d2
    const VDIV_F64: [u16; 2] = [0xee81, 0x0b02]; // vdiv.f64 d0, d1, d2
    const VSQRT_F64: [u16; 2] = [0xeeb1, 0x0bc2]; // vsqrt.f64 d0, d2
    const VFMA_F64: [u16; 2] = [0xeea1, 0x0b02]; // vfma.f64 d0, d1, d2
    let one = 1f64.to_bits();
    let eps2 = f64::EPSILON / 2.0;
    assert_eq!(f64op(VADD_F64, RN, 0.0, 1.0, eps2), (one, IXC));
    assert_eq!(f64op(VADD_F64, RP, 0.0, 1.0, eps2), (one + 1, IXC));
    let third = (1.0f64 / 3.0).to_bits(); // rounded down by RN
    assert_eq!(f64op(VDIV_F64, RN, 0.0, 1.0, 3.0), (third, IXC));
    assert_eq!(f64op(VDIV_F64, RP, 0.0, 1.0, 3.0), (third + 1, IXC));
    assert_eq!(f64op(VDIV_F64, RM, 0.0, 1.0, 3.0), (third, IXC));
    let sqrt2 = 2f64.sqrt().to_bits(); // 0x3ff6a09e667f3bcd, rounded up by RN
    assert_eq!(f64op(VSQRT_F64, RN, 0.0, 0.0, 2.0), (sqrt2, IXC));
    assert_eq!(f64op(VSQRT_F64, RZ, 0.0, 0.0, 2.0), (sqrt2 - 1, IXC));
    // FMA: 1 + (1 + 2^-52)(1 - 2^-53) = 2 + 2^-53 - 2^-105, one rounding.
    let (a, b) = (f64::from_bits(one + 1), 1.0 - eps2);
    assert_eq!(f64op(VFMA_F64, RN, 1.0, a, b), (2f64.to_bits(), IXC));
    assert_eq!(f64op(VFMA_F64, RP, 1.0, a, b), (2f64.to_bits() + 1, IXC));
    // Tiny products: subnormal results keep exact directed rounding.
    let tiny = f64::from_bits(1); // 2^-1074
    assert_eq!(f64op(VDIV_F64, RP, 0.0, tiny, 3.0), (1, UFC | IXC));
    assert_eq!(f64op(VDIV_F64, RN, 0.0, tiny, 3.0), (0, UFC | IXC));
    // Found by tools/diff_fp64.py: a subnormal * subnormal product below an addend
    // (the product is only a sticky bit) and a quotient whose q * b rounds past MAX.
    let sub = f64::from_bits(0x000f_ffff_ffff_ffff);
    assert_eq!(f64op(VFMA_F64, RM, -1.0, sub, sub), ((-1f64).to_bits(), IXC));
    assert_eq!(f64op(VFMA_F64, RZ, -1.0, sub, sub), (0xbfef_ffff_ffff_ffff, IXC));
    // MAX + (-0.27 MAX): two-sum's intermediate would round past MAX.
    let b = f64::from_bits(0xffd1_2aac_31e8_7097);
    assert_eq!(f64op(VADD_F64, RZ, 0.0, f64::MAX, b), (0x7fe7_6aa9_e70b_c7b3, IXC));
    let d = f64::from_bits(0x400b_52a5_2540_81ec);
    assert_eq!(f64op(VDIV_F64, RZ, 0.0, f64::MAX, d), (0x7fd2_bd28_f8b2_e9f5, IXC));
    assert_eq!(f64op(VDIV_F64, RN, 0.0, f64::MAX, 0.5), (f64::INFINITY.to_bits(), OFC | IXC));
    assert_eq!(f64op(VDIV_F64, RZ, 0.0, f64::MAX, 0.5), (f64::MAX.to_bits(), OFC | IXC));
}

#[test]
fn fp_single_double_conversions() {
    const TO_F32: [u16; 2] = [0xeeb7, 0x0bc1]; // vcvt.f32.f64 s0, d1
    const TO_F64: [u16; 2] = [0xeeb7, 0x0ac1]; // vcvt.f64.f32 d0, s2
    let cvt32 = |fpscr, x: f64| {
        let b = x.to_bits();
        let s = run_fp(CoreKind::CortexM7, TO_F32, fpscr, &[(2, b as u32), (3, (b >> 32) as u32)]);
        (s.s[0], s.fpscr & 0x9f)
    };
    assert_eq!(cvt32(RN, 0.1), (0x3dcc_cccd, IXC));
    assert_eq!(cvt32(RZ, 0.1), (0x3dcc_cccc, IXC));
    assert_eq!(cvt32(RN, 1e300), (INF, OFC | IXC));
    assert_eq!(cvt32(RM, 1e300), (MAX, OFC | IXC));
    assert_eq!(cvt32(RN, 1e-40), (0x0001_16c2, UFC | IXC));
    assert_eq!(cvt32(FZ, 1e-40), (0, UFC));
    let s = run_fp(CoreKind::CortexM7, TO_F64, RN, &[(2, 0x7f80_0001)]);
    assert_eq!(((s.s[1] as u64) << 32 | s.s[0] as u64, s.fpscr & 0x9f), (0x7ff8_0000_2000_0000, IOC));
    // FPv4-SP (M4) has no double precision: VCVT.F64.F32 is undefined.
    let mut m4 = sim_with(CoreKind::CortexM4, &[TO_F64[0], TO_F64[1], BKPT0], &[]);
    m4.scs.cpacr = 0xf << 20;
    assert!(m4.run(10).is_err(), "undefined on M4");
}

#[test]
fn fpv5_vrint_vcvt_directed_vsel_vmaxnm_on_m7() {
    let m7 = |insn, fpscr, regs: &[(usize, u32)]| {
        let s = run_fp(CoreKind::CortexM7, insn, fpscr, regs);
        (s.s[0], s.fpscr & 0x9f)
    };
    let (p25, m25) = (0x4020_0000, 0xc020_0000); // 2.5, -2.5
    assert_eq!(m7([0xfeb8, 0x0a41], RN, &[(2, p25)]), (0x4040_0000, 0)); // vrinta.f32 s0, s2 -> 3.0
    assert_eq!(m7([0xfeb8, 0x0a41], RN, &[(2, m25)]), (0xc040_0000, 0)); // vrinta.f32 s0, s2 -> -3.0
    assert_eq!(m7([0xfeb9, 0x0a41], RP, &[(2, p25)]), (0x4000_0000, 0)); // vrintn.f32 s0, s2 -> 2.0
    assert_eq!(m7([0xfeba, 0x0a41], RN, &[(2, m25)]), (0xc000_0000, 0)); // vrintp.f32 s0, s2 -> -2.0
    assert_eq!(m7([0xfebb, 0x0a41], RN, &[(2, p25)]), (0x4000_0000, 0)); // vrintm.f32 s0, s2 -> 2.0
    assert_eq!(m7([0xeeb6, 0x0ac1], RN, &[(2, m25)]), (0xc000_0000, 0)); // vrintz.f32 s0, s2 -> -2.0
    assert_eq!(m7([0xeeb6, 0x0a41], RM, &[(2, p25)]), (0x4000_0000, 0)); // vrintr.f32 s0, s2 (RM) -> 2.0
    assert_eq!(m7([0xeeb7, 0x0a41], RP, &[(2, p25)]), (0x4040_0000, IXC)); // vrintx.f32 s0, s2 (RP) -> 3.0
    assert_eq!(m7([0xeeb6, 0x0ac1], RN, &[(2, 0xbf00_0000)]), (0x8000_0000, 0)); // vrintz -0.5 -> -0.0
    assert_eq!(m7([0xfeb8, 0x0a41], RN, &[(2, 0x7f80_0001)]), (0x7fc0_0001, IOC)); // vrinta sNaN
    assert_eq!(m7([0xfebc, 0x0ac1], RN, &[(2, p25)]), (3, IXC)); // vcvta.s32.f32 s0, s2
    assert_eq!(m7([0xfebc, 0x0ac1], RN, &[(2, m25)]), (-3i32 as u32, IXC)); // vcvta.s32.f32 s0, s2
    assert_eq!(m7([0xfebd, 0x0ac1], RP, &[(2, p25)]), (2, IXC)); // vcvtn.s32.f32 s0, s2
    assert_eq!(m7([0xfebe, 0x0a41], RN, &[(2, 0x3f80_0001)]), (2, IXC)); // vcvtp.u32.f32 s0, s2
    assert_eq!(m7([0xfebf, 0x0ac1], RN, &[(2, m25)]), (-3i32 as u32, IXC)); // vcvtm.s32.f32 s0, s2
    assert_eq!(m7([0xfebc, 0x0ac1], RN, &[(2, 0x5f00_0000)]), (0x7fff_ffff, IOC)); // vcvta 2^63 saturates
    assert_eq!(m7([0xfebc, 0x0ac1], FZ, &[(2, 0x8000_0001)]), (0, IDC)); // vcvta: flushed denormal, exact
    assert_eq!(m7([0xfebc, 0x0ac1], RN, &[(2, 0xbf00_0000)]), (-1i32 as u32, IXC)); // vcvta -0.5 -> -1
    // vmaxnm/vminnm: a single quiet NaN is ignored; +0 > -0.
    assert_eq!(m7([0xfe80, 0x0a81], RN, &[(1, QNAN), (2, ONE)]), (ONE, 0)); // vmaxnm.f32 s0, s1, s2
    assert_eq!(m7([0xfe80, 0x0ac1], RN, &[(1, 0x8000_0000), (2, 0)]), (0x8000_0000, 0)); // vminnm.f32 s0, s1, s2
    assert_eq!(m7([0xfe80, 0x0a81], RN, &[(1, 0x8000_0000), (2, 0)]), (0, 0)); // vmaxnm.f32 s0, s1, s2
    assert_eq!(m7([0xfe80, 0x0a81], RN, &[(1, 0x7f80_0001), (2, ONE)]), (0x7fc0_0001, IOC)); // sNaN
    // vselge.f32 s0, s1, s2 / vseleq.f32 on the APSR flags.
    let sel = |insn: [u16; 2], apsr: u32| {
        let mut s = sim_with(CoreKind::CortexM7, &[insn[0], insn[1], BKPT0], &[]);
        s.scs.cpacr = 0xf << 20;
        s.set_apsr(apsr);
        (s.s[1], s.s[2]) = (1, 2);
        run_to_bkpt(&mut s);
        s.s[0]
    };
    assert_eq!(sel([0xfe20, 0x0a81], 0), 1, "ge with N == V"); // vselge.f32 s0, s1, s2
    assert_eq!(sel([0xfe20, 0x0a81], 1 << 31), 2, "lt"); // vselge.f32 s0, s1, s2
    assert_eq!(sel([0xfe00, 0x0a81], 1 << 30), 1, "eq"); // vseleq.f32 s0, s1, s2
    assert_eq!(sel([0xfe10, 0x0a81], 0), 2, "vc"); // vselvs.f32 s0, s1, s2
    // FPv4-SP (M4): all of these are undefined.
    for insn in [[0xfeb8u16, 0x0a41], [0xeeb6, 0x0ac1], [0xfebc, 0x0ac1], [0xfe80, 0x0a81], [0xfe20, 0x0a81]] {
        let mut s = sim_with(CoreKind::CortexM4, &[insn[0], insn[1], BKPT0], &[]);
        s.scs.cpacr = 0xf << 20;
        assert!(s.run(10).is_err(), "{insn:04x?} undefined on M4");
    }
}

#[test]
fn fp_half_precision_conversions() {
    const B_F32_F16: [u16; 2] = [0xeeb2, 0x0a41]; // vcvtb.f32.f16 s0, s2
    const T_F32_F16: [u16; 2] = [0xeeb2, 0x0ac1]; // vcvtt.f32.f16 s0, s2
    const B_F16_F32: [u16; 2] = [0xeeb3, 0x0a41]; // vcvtb.f16.f32 s0, s2
    const T_F16_F32: [u16; 2] = [0xeeb3, 0x0ac1]; // vcvtt.f16.f32 s0, s2
    const AHP: u32 = 1 << 26;
    assert_eq!(f32op(B_F32_F16, RN, 0, 0xbc00_3c00), (ONE, 0), "bottom half 1.0");
    assert_eq!(f32op(T_F32_F16, RN, 0, 0xbc00_3c00), (0xbf80_0000, 0), "top half -1.0");
    assert_eq!(f32op(B_F32_F16, RN, 0, 0x0000_7d01), (0x7fe0_2000, IOC), "signalling NaN quietened");
    assert_eq!(f32op(B_F32_F16, AHP, 0, 0x0000_7fff), (0x47ff_e000, 0), "AHP: 131008, no NaN");
    assert_eq!(f32op(B_F32_F16, FZ, 0, 0x0000_0001), (0x3380_0000, 0), "half denormal is not flushed");
    // Narrowing keeps the other half of s0.
    assert_eq!(f32op3(B_F16_F32, RN, 0xaaaa_5555, 0, ONE), (0xaaaa_3c00, 0));
    assert_eq!(f32op3(T_F16_F32, RN, 0xaaaa_5555, 0, ONE), (0x3c00_5555, 0));
    // 65520 is halfway between 65504 (max) and 2^16: RN overflows, RZ gives max.
    assert_eq!(f32op(B_F16_F32, RN, 0, 0x477f_f000), (0x7c00, OFC | IXC));
    assert_eq!(f32op(B_F16_F32, RZ, 0, 0x477f_f000), (0x7bff, IXC));
    assert_eq!(f32op(B_F16_F32, RZ, 0, 0x4780_0000), (0x7bff, OFC | IXC), "2^16 overflows in RZ");
    assert_eq!(f32op(B_F16_F32, AHP, 0, 0x4780_0000), (0x7c00, 0), "AHP: 2^16 is representable");
    assert_eq!(f32op(B_F16_F32, AHP, 0, INF), (0x7fff, IOC));
    assert_eq!(f32op(B_F16_F32, AHP, 0, QNAN), (0, IOC));
    // 2^-25 is half the smallest half denormal: tiny and inexact.
    assert_eq!(f32op(B_F16_F32, RN, 0, 0x3300_0000), (0, UFC | IXC));
    assert_eq!(f32op(B_F16_F32, RP, 0, 0x3300_0000), (1, UFC | IXC));
    // FZ flushes the single-precision input, not the half result.
    assert_eq!(f32op(B_F16_F32, FZ, 0, 0x0000_0001), (0, IDC));
    assert_eq!(f32op(B_F16_F32, FZ, 0, 0x3380_0000), (1, 0), "2^-24 stays a half denormal");
}
