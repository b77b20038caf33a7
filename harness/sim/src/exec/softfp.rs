//! IEEE 754 arithmetic with the Arm FP extension's FPSCR semantics: rounding mode
//! (RMode), flush-to-zero (FZ), default NaN (DN) and the cumulative exception flags
//! (IOC, DZC, OFC, UFC, IXC, IDC), with traps disabled as on Cortex-M.
//!
//! # Method
//!
//! Every operation is first computed with the host's round-to-nearest-even
//! arithmetic (`r`), which IEEE 754 requires to be correctly rounded. Then the sign
//! of the exact error `e = sign(exact - r)` is determined *exactly*:
//!
//! - single precision: the operands are widened to `f64`, where `a*b`, `q*b` and
//!   `r*r` of two 24-bit significands are exact (48 bits);
//! - double precision: products are split into `ph + pl` with `pl = fma(a, b, -ph)`
//!   (exact when the product is not tiny). At the ends of the range the terms are
//!   first scaled by powers of two, which is exact: tiny operands up by `2^600`
//!   (an FMA's factors are normalised to `[1, 2)` and the addend and result scaled
//!   alike), and terms above `2^1000` down by 4 so that no intermediate rounds past
//!   MAX (terms below `2^-900` are then left alone: against such large terms they
//!   can only break a tie, for which their sign suffices);
//! - the exact residual (`a + b - r`, `a*b - r`, `a - q*b`, `a - r*r`,
//!   `a*b + c - r`) is then a sum of at most five `f64` terms, summed without error
//!   into a non-overlapping expansion with Knuth's two-sum (Shewchuk's
//!   grow-expansion); the sign of the expansion is the sign of its largest
//!   non-zero component.
//!
//! Proof sketch for directed rounding: `r = RN(x)` is one of the two representable
//! neighbours of `x` (or `x` itself). If `e = 0` the result is exact in every mode.
//! Otherwise the correctly rounded result in a directed mode is either `r` (when
//! `r` already lies on the required side of `x`) or the adjacent representable value
//! on the other side of `x`, i.e. `r` stepped by one ulp towards `x`; on the IEEE
//! bit pattern that is magnitude +1 or -1, which also crosses the
//! subnormal/normal and MAX/infinity boundaries correctly. RN overflow (`r = inf`
//! for finite operands) is resolved separately: the unbounded-exponent result
//! overflows in a mode rounding towards zero only if `|x| >= 2^(emax+1)`
//! (checked on a halved copy of the operation), giving MAX with OFC, otherwise MAX
//! with only IXC.
//!
//! Tininess is detected *before* rounding, as the Arm ARM's `FPRound` does:
//! `|x| < 2^emin` iff `|r| < 2^emin`, or `|r| = 2^emin` and `x` lies towards zero.
//! With FZ a tiny non-zero result becomes a signed zero with UFC only; denormal
//! inputs are flushed with IDC. NaNs follow `FPProcessNaNs`: the first signalling
//! NaN (quietened, IOC) else the first quiet NaN, or the default NaN when DN is set.

use std::ops::{Add, Div, Mul, Neg};

/// FPSCR cumulative exception flag bits.
pub const IOC: u32 = 1 << 0;
pub const DZC: u32 = 1 << 1;
pub const OFC: u32 = 1 << 2;
pub const UFC: u32 = 1 << 3;
pub const IXC: u32 = 1 << 4;
pub const IDC: u32 = 1 << 7;

/// FPSCR.RMode values.
pub const RN: u32 = 0;
pub const RP: u32 = 1;
pub const RM: u32 = 2;
pub const RZ: u32 = 3;

/// The FPSCR controls read by one operation and the flags it raises.
#[derive(Clone, Copy, Debug)]
pub struct FpCtx {
    pub rmode: u32,
    pub fz: bool,
    pub dn: bool,
    /// FPSCR.AHP: alternative half-precision format.
    pub ahp: bool,
    pub flags: u32,
}

impl FpCtx {
    pub fn from_fpscr(fpscr: u32) -> Self {
        FpCtx {
            rmode: (fpscr >> 22) & 3,
            fz: fpscr >> 24 & 1 != 0,
            dn: fpscr >> 25 & 1 != 0,
            ahp: fpscr >> 26 & 1 != 0,
            flags: 0,
        }
    }
}

/// The operation whose exact error is wanted. `Add` takes `a + b` (VSUB passes `-b`),
/// `Fma` is `a * b + c`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Add,
    Mul,
    Div,
    Sqrt,
    Fma,
}

/// A host float format: `f32` or `f64`.
pub trait Float:
    Copy + PartialOrd + Add<Output = Self> + Mul<Output = Self> + Div<Output = Self> + Neg<Output = Self>
{
    const FRAC: u32;
    const EXP: u32;
    fn from_bits64(b: u64) -> Self;
    fn bits64(self) -> u64;
    fn to_f64(self) -> f64;
    fn zero() -> Self;
    /// Round-to-nearest result of `k`.
    fn host(k: Kind, a: Self, b: Self, c: Self) -> Self;
    /// `sign(exact - r)` for a finite `r`.
    fn err(k: Kind, a: Self, b: Self, c: Self, r: Self) -> i8;
    /// `|exact| >= 2^(emax+1)` (only asked when the RN result overflowed).
    fn huge(k: Kind, a: Self, b: Self, c: Self) -> bool;
}

fn sgn(x: f64) -> i8 {
    if x > 0.0 {
        1
    } else if x < 0.0 {
        -1
    } else {
        0
    }
}

fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    (s, (a - (s - bb)) + (b - bb))
}

fn two_prod(a: f64, b: f64) -> (f64, f64) {
    let p = a * b;
    (p, a.mul_add(b, -p))
}

/// Exact sign of `terms.iter().sum()` (grow-expansion with two-sum; no overflow assumed).
fn sum_sign(terms: &[f64]) -> i8 {
    let mut e = [0f64; 8];
    let mut len = 0;
    for &t in terms {
        let mut q = t;
        for h in e[..len].iter_mut() {
            let (s, err) = two_sum(q, *h);
            *h = err;
            q = s;
        }
        e[len] = q;
        len += 1;
    }
    e[..len].iter().rev().map(|&x| sgn(x)).find(|&s| s != 0).unwrap_or(0)
}

impl Float for f32 {
    const FRAC: u32 = 23;
    const EXP: u32 = 8;
    fn from_bits64(b: u64) -> Self {
        f32::from_bits(b as u32)
    }
    fn bits64(self) -> u64 {
        self.to_bits() as u64
    }
    fn to_f64(self) -> f64 {
        self as f64
    }
    fn zero() -> Self {
        0.0
    }
    fn host(k: Kind, a: Self, b: Self, c: Self) -> Self {
        match k {
            Kind::Add => a + b,
            Kind::Mul => a * b,
            Kind::Div => a / b,
            Kind::Sqrt => a.sqrt(),
            Kind::Fma => a.mul_add(b, c),
        }
    }
    fn err(k: Kind, a: Self, b: Self, c: Self, r: Self) -> i8 {
        let (a, b, c, r) = (a as f64, b as f64, c as f64, r as f64);
        match k {
            Kind::Add => sum_sign(&[a, b, -r]),
            Kind::Mul => sum_sign(&[a * b, -r]),
            Kind::Div => sum_sign(&[a, -(r * b)]) * sgn(b),
            Kind::Sqrt => sum_sign(&[a, -(r * r)]),
            Kind::Fma => sum_sign(&[a * b, c, -r]),
        }
    }
    fn huge(k: Kind, a: Self, b: Self, c: Self) -> bool {
        let (a, b, c) = (a as f64, b as f64, c as f64);
        let x = match k {
            Kind::Add => a + b,
            Kind::Mul => a * b,
            Kind::Div => a / b,
            Kind::Sqrt => a.sqrt(),
            Kind::Fma => a.mul_add(b, c),
        };
        x.abs() >= 2f64.powi(128)
    }
}

/// `2^600`: scales tiny double-precision operands out of the subnormal range.
const P600: f64 = f64::from_bits((1023 + 600) << 52);
const TINY: f64 = f64::from_bits((1023 - 900) << 52);
const HUGE: f64 = f64::from_bits((1023 + 1000) << 52);

impl Float for f64 {
    const FRAC: u32 = 52;
    const EXP: u32 = 11;
    fn from_bits64(b: u64) -> Self {
        f64::from_bits(b)
    }
    fn bits64(self) -> u64 {
        self.to_bits()
    }
    fn to_f64(self) -> f64 {
        self
    }
    fn zero() -> Self {
        0.0
    }
    fn host(k: Kind, a: Self, b: Self, c: Self) -> Self {
        match k {
            Kind::Add => a + b,
            Kind::Mul => a * b,
            Kind::Div => a / b,
            Kind::Sqrt => a.sqrt(),
            Kind::Fma => a.mul_add(b, c),
        }
    }
    fn err(k: Kind, a: Self, b: Self, c: Self, r: Self) -> i8 {
        match k {
            Kind::Add => {
                if a.abs().max(b.abs()) > HUGE {
                    // Two-sum's intermediates may round past MAX: quarter the terms (those
                    // below 2^-900 can only break a tie against these and keep their sign).
                    let q = |v: f64| if v.abs() < TINY { v } else { v * 0.25 };
                    return sum_sign(&[q(a), q(b), -q(r)]);
                }
                sum_sign(&[a, b, -r])
            }
            Kind::Mul => {
                if a == 0.0 || b == 0.0 {
                    return 0;
                }
                if r == 0.0 {
                    return sgn(a) * sgn(b);
                }
                let (mut x, y, mut r) = if a.abs() <= b.abs() { (a, b, r) } else { (b, a, r) };
                if r.abs() < TINY {
                    x *= P600;
                    r *= P600;
                }
                let (ph, pl) = two_prod(x, y);
                sum_sign(&[ph, pl, -r])
            }
            Kind::Div => {
                if a == 0.0 {
                    return 0;
                }
                if r == 0.0 {
                    return sgn(a) * sgn(b);
                }
                let (mut a, mut q) = (a, r);
                if a.abs() < TINY {
                    a *= P600;
                    q *= P600;
                } else if a.abs() > HUGE {
                    // q * b may round past MAX: quarter both (exact, q >= 2^-24 here).
                    (a, q) = (a * 0.25, q * 0.25);
                }
                let (ph, pl) = two_prod(q, b);
                sum_sign(&[a, -ph, -pl]) * sgn(b)
            }
            Kind::Sqrt => {
                let (mut a, mut r) = (a, r);
                if a == 0.0 {
                    return 0;
                }
                if a < TINY {
                    a *= P600;
                    r *= f64::from_bits((1023 + 300) << 52);
                } else if a > HUGE {
                    (a, r) = (a * 0.25, r * 0.5);
                }
                let (ph, pl) = two_prod(r, r);
                sum_sign(&[a, -ph, -pl])
            }
            Kind::Fma => {
                if a == 0.0 || b == 0.0 {
                    return 0;
                }
                let (mut x, mut y, mut c, mut r) = (a, b, c, r);
                if (x * y).abs() < TINY {
                    // Normalise both factors to [1, 2) and scale c and r by the same power of two.
                    let (ex, ey) = (exponent(x), exponent(y));
                    let k = -(ex + ey);
                    let (cs, rs) = (ldexp(c, k), ldexp(r, k));
                    if !cs.is_finite() || !rs.is_finite() {
                        // The addend dominates by more than 2^1000: the product only breaks ties.
                        let s = sum_sign(&[c, -r]);
                        return if s != 0 { s } else { sgn(a) * sgn(b) };
                    }
                    (x, y, c, r) = (ldexp(x, -ex), ldexp(y, -ey), cs, rs);
                }
                if (x * y).abs() > HUGE || c.abs() > HUGE || r.abs() > HUGE {
                    // The product or the sum may round past MAX: quarter every term. Terms
                    // below 2^-1000 are kept as they are: against terms this large they
                    // can only break a tie, for which their sign suffices.
                    let q = |v: f64| if v.abs() < TINY { v } else { v * 0.25 };
                    if x.abs() >= y.abs() {
                        x = q(x);
                    } else {
                        y = q(y);
                    }
                    (c, r) = (q(c), q(r));
                }
                let (ph, pl) = two_prod(x, y);
                sum_sign(&[ph, pl, c, -r])
            }
        }
    }
    fn huge(k: Kind, a: Self, b: Self, c: Self) -> bool {
        let x = match k {
            Kind::Add => a * 0.5 + b * 0.5,
            Kind::Mul => (a * 0.5) * b,
            Kind::Div => (a * 0.5) / b,
            Kind::Sqrt => 0.0,
            Kind::Fma => (a * 0.5).mul_add(b, c * 0.5),
        };
        x.abs() >= 2f64.powi(1023)
    }
}

/// `floor(log2(|x|))` of a finite non-zero double.
fn exponent(x: f64) -> i32 {
    let b = x.to_bits();
    let e = ((b >> 52) & 0x7ff) as i32;
    if e == 0 { -1022 - ((b & ((1 << 52) - 1)).leading_zeros() as i32 - 11) } else { e - 1023 }
}

/// `x * 2^k`, exact unless the result leaves the double range (steps of at most 2^1000).
fn ldexp(mut x: f64, mut k: i32) -> f64 {
    while k != 0 {
        let s = k.clamp(-1000, 1000);
        x *= f64::from_bits(((1023 + s) as u64) << 52);
        k -= s;
    }
    x
}

/// Bit-pattern helpers for format `F`.
struct Bits<F>(std::marker::PhantomData<F>);

impl<F: Float> Bits<F> {
    const SIGN: u64 = 1 << (F::FRAC + F::EXP);
    const EXP_MASK: u64 = ((1 << F::EXP) - 1) << F::FRAC;
    const FRAC_MASK: u64 = (1 << F::FRAC) - 1;
    const QUIET: u64 = 1 << (F::FRAC - 1);
    const DEFAULT_NAN: u64 = Self::EXP_MASK | Self::QUIET;
    const MAX: u64 = Self::EXP_MASK - 1;
    const MIN_NORMAL: u64 = 1 << F::FRAC;

    fn is_nan(b: u64) -> bool {
        b & Self::EXP_MASK == Self::EXP_MASK && b & Self::FRAC_MASK != 0
    }
    fn is_snan(b: u64) -> bool {
        Self::is_nan(b) && b & Self::QUIET == 0
    }
    fn is_inf(b: u64) -> bool {
        b & !Self::SIGN == Self::EXP_MASK
    }
    fn is_denormal(b: u64) -> bool {
        b & Self::EXP_MASK == 0 && b & Self::FRAC_MASK != 0
    }
}

/// `FPUnpack`'s flush of a denormal input under FZ (sets IDC).
pub fn flush_input<F: Float>(ctx: &mut FpCtx, b: u64) -> u64 {
    if ctx.fz && Bits::<F>::is_denormal(b) {
        ctx.flags |= IDC;
        b & Bits::<F>::SIGN
    } else {
        b
    }
}

/// `FPProcessNaN`: quieten (IOC for a signalling NaN) or the default NaN.
fn process_nan<F: Float>(ctx: &mut FpCtx, b: u64) -> u64 {
    if Bits::<F>::is_snan(b) {
        ctx.flags |= IOC;
    }
    if ctx.dn { Bits::<F>::DEFAULT_NAN } else { b | Bits::<F>::QUIET }
}

/// `FPProcessNaNs` / `FPProcessNaNs3` over the operands in architectural order.
fn process_nans<F: Float>(ctx: &mut FpCtx, ops: &[u64]) -> Option<u64> {
    let pick = ops.iter().find(|&&b| Bits::<F>::is_snan(b)).or_else(|| ops.iter().find(|&&b| Bits::<F>::is_nan(b)));
    pick.map(|&b| process_nan::<F>(ctx, b))
}

/// `FPRound` of an exact value `x`, given `r = RN(x)` and `e = sign(x - r)`.
/// `huge` is consulted only when `r` is an overflowed infinity.
pub fn round<F: Float>(ctx: &mut FpCtx, r: F, e: i8, huge: impl FnOnce() -> bool) -> u64 {
    let b = r.bits64();
    let sign = b & Bits::<F>::SIGN;
    let mag = b & !Bits::<F>::SIGN;
    if Bits::<F>::is_inf(b) {
        // RN overflowed: |x| > MAX + ulp/2.
        let toward_zero = match ctx.rmode {
            RN => false,
            RP => sign != 0,
            RM => sign == 0,
            _ => true,
        };
        if !toward_zero {
            ctx.flags |= OFC | IXC;
            return b;
        }
        ctx.flags |= IXC | if huge() { OFC } else { 0 };
        return sign | Bits::<F>::MAX;
    }
    if mag == 0 && e == 0 {
        return b;
    }
    let tiny = mag < Bits::<F>::MIN_NORMAL || (mag == Bits::<F>::MIN_NORMAL && e != 0 && (e > 0) == (sign != 0));
    if ctx.fz && tiny {
        ctx.flags |= UFC;
        return sign;
    }
    if e == 0 {
        return b;
    }
    ctx.flags |= IXC | if tiny { UFC } else { 0 };
    // `away`: the exact value lies further from zero than r.
    let away = (e > 0) == (sign == 0);
    let step = match ctx.rmode {
        RP if e > 0 => {
            if sign == 0 {
                1
            } else {
                -1
            }
        }
        RM if e < 0 => {
            if sign != 0 {
                1
            } else {
                -1
            }
        }
        RZ if !away => -1,
        _ => 0,
    };
    let mag = mag.wrapping_add_signed(step);
    if mag == Bits::<F>::EXP_MASK {
        ctx.flags |= OFC;
    }
    sign | mag
}

/// One arithmetic operation (`FPAdd`, `FPSub`, `FPMul`, `FPDiv`, `FPSqrt`, `FPMulAdd`).
///
/// `ops` are bit patterns in the architecture's NaN-priority order: `[a, b]` for
/// add/sub/mul/div, `[a]` for sqrt, `[addend, op1, op2]` for fused multiply-add.
/// `sub` negates the second operand of an add after NaN processing.
pub fn arith<F: Float>(ctx: &mut FpCtx, k: Kind, ops: &[u64], sub: bool) -> u64 {
    let mut v = [0u64; 3];
    for (d, &s) in v.iter_mut().zip(ops) {
        *d = flush_input::<F>(ctx, s);
    }
    let v = &v[..ops.len()];
    if k == Kind::Fma && Bits::<F>::is_nan(v[0]) && !Bits::<F>::is_snan(v[0]) {
        // FPMulAdd: a quiet-NaN addend with an invalid product (0 * inf) is invalid too.
        let (zero, inf) = (|x: u64| x & !Bits::<F>::SIGN == 0, Bits::<F>::is_inf);
        if (zero(v[1]) && inf(v[2])) || (inf(v[1]) && zero(v[2])) {
            ctx.flags |= IOC;
            return Bits::<F>::DEFAULT_NAN;
        }
    }
    if let Some(nan) = process_nans::<F>(ctx, v) {
        return nan;
    }
    let f = |i: usize| F::from_bits64(v[i]);
    let z = F::zero();
    let (a, b, c) = match k {
        Kind::Sqrt => (f(0), z, z),
        Kind::Fma => (f(1), f(2), f(0)),
        _ => (f(0), if sub { -f(1) } else { f(1) }, z),
    };
    let r = F::host(k, a, b, c);
    let rb = r.bits64();
    if Bits::<F>::is_nan(rb) {
        ctx.flags |= IOC;
        return Bits::<F>::DEFAULT_NAN;
    }
    let any_inf = [a, b, c].iter().any(|x| Bits::<F>::is_inf(x.bits64()));
    if any_inf {
        return rb;
    }
    if k == Kind::Div && b == z {
        ctx.flags |= DZC;
        return rb;
    }
    if Bits::<F>::is_inf(rb) {
        return round::<F>(ctx, r, 0, || F::huge(k, a, b, c));
    }
    let e = F::err(k, a, b, c, r);
    if e == 0 && r == z && ctx.rmode == RM && matches!(k, Kind::Add | Kind::Fma) {
        // Exact zero sum: -0 in round-towards-minus unless both terms are +0.
        let (x, y) = if k == Kind::Add { (a, b) } else { (a * b, c) };
        let both_pos_zero = x == z && y == z && (x.bits64() | y.bits64()) & Bits::<F>::SIGN == 0;
        if !both_pos_zero {
            return Bits::<F>::SIGN;
        }
    }
    round::<F>(ctx, r, e, || false)
}

/// `FPCompare`: NZCV, IOC for signalling NaNs (and for quiet NaNs when `quiet_nan_exc`, VCMPE).
pub fn compare<F: Float>(ctx: &mut FpCtx, a: u64, b: u64, quiet_nan_exc: bool) -> u32 {
    let (a, b) = (flush_input::<F>(ctx, a), flush_input::<F>(ctx, b));
    if Bits::<F>::is_nan(a) || Bits::<F>::is_nan(b) {
        if quiet_nan_exc || Bits::<F>::is_snan(a) || Bits::<F>::is_snan(b) {
            ctx.flags |= IOC;
        }
        return 0b0011;
    }
    let (x, y) = (F::from_bits64(a).to_f64(), F::from_bits64(b).to_f64());
    if x == y {
        0b0110
    } else if x < y {
        0b1000
    } else {
        0b0010
    }
}

/// VCVT.F64.F32.
pub fn f32_to_f64(ctx: &mut FpCtx, b: u32) -> u64 {
    let b = flush_input::<f32>(ctx, b as u64);
    if Bits::<f32>::is_nan(b) {
        if Bits::<f32>::is_snan(b) {
            ctx.flags |= IOC;
        }
        if ctx.dn {
            return Bits::<f64>::DEFAULT_NAN;
        }
        return ((b & Bits::<f32>::SIGN) << 32) | Bits::<f64>::EXP_MASK | Bits::<f64>::QUIET | ((b & 0x3f_ffff) << 29);
    }
    (f32::from_bits(b as u32) as f64).to_bits()
}

/// VCVT.F32.F64.
pub fn f64_to_f32(ctx: &mut FpCtx, b: u64) -> u32 {
    let b = flush_input::<f64>(ctx, b);
    if Bits::<f64>::is_nan(b) {
        if Bits::<f64>::is_snan(b) {
            ctx.flags |= IOC;
        }
        if ctx.dn {
            return Bits::<f32>::DEFAULT_NAN as u32;
        }
        return ((b >> 32) as u32 & 0x8000_0000) | 0x7fc0_0000 | ((b >> 29) as u32 & 0x3f_ffff);
    }
    let x = f64::from_bits(b);
    let r = x as f32;
    if x.is_infinite() {
        return r.to_bits();
    }
    let e = sgn(x - r as f64);
    round::<f32>(ctx, r, e, || x.abs() >= 2f64.powi(128)) as u32
}

/// `FixedToFP`: a `size`-bit (16 or 32) integer with `fbits` fraction bits to `F`,
/// rounded with FPSCR.RMode.
pub fn fixed_to_fp<F: Float>(ctx: &mut FpCtx, v: u32, size: u32, fbits: u32, unsigned: bool) -> u64 {
    let i: i64 = match (size, unsigned) {
        (16, true) => v as u16 as i64,
        (16, false) => v as u16 as i16 as i64,
        (_, true) => v as i64,
        _ => v as i32 as i64,
    };
    // Exact in f64: at most 32 significant bits, power-of-two scale.
    let x = i as f64 / (1u64 << fbits) as f64;
    let r = F::from_bits64(if F::FRAC == 23 { (x as f32).to_bits() as u64 } else { x.to_bits() });
    let e = sgn(x - r.to_f64());
    round::<F>(ctx, r, e, || false)
}

/// `FPToFixed`: `F` to a `size`-bit integer with `fbits` fraction bits, rounding
/// with `rmode` (an FPSCR.RMode value, or 4 = ties away from zero for VCVTA);
/// saturates with IOC, otherwise IXC when inexact. NaN gives 0 with IOC.
pub fn fp_to_fixed<F: Float>(ctx: &mut FpCtx, b: u64, size: u32, fbits: u32, unsigned: bool, rmode: u32) -> u32 {
    let b = flush_input::<F>(ctx, b);
    if Bits::<F>::is_nan(b) {
        ctx.flags |= IOC;
        return 0;
    }
    let x = F::from_bits64(b).to_f64() * (1u64 << fbits) as f64;
    let i = match rmode {
        RN => x.round_ties_even(),
        RP => x.ceil(),
        RM => x.floor(),
        RZ => x.trunc(),
        _ => x.round(),
    };
    let (lo, hi) = match (size, unsigned) {
        (16, true) => (0.0, 65535.0),
        (16, false) => (-32768.0, 32767.0),
        (_, true) => (0.0, u32::MAX as f64),
        _ => (i32::MIN as f64, i32::MAX as f64),
    };
    let sat = if i < lo {
        Some(lo)
    } else if i > hi {
        Some(hi)
    } else {
        None
    };
    let v = match sat {
        Some(s) => {
            ctx.flags |= IOC;
            s
        }
        None => {
            if i != x {
                ctx.flags |= IXC;
            }
            i
        }
    };
    let v = v as i64 as u32;
    if size == 16 && !unsigned { v as u16 as i16 as i32 as u32 } else { v }
}

/// `FPRoundInt` (VRINT*): round to an integral value in `F`. `exact` (VRINTX)
/// raises IXC when the value changes. Rounding `rmode` 4 means ties away from zero.
pub fn round_int<F: Float>(ctx: &mut FpCtx, b: u64, rmode: u32, exact: bool) -> u64 {
    let b = flush_input::<F>(ctx, b);
    if Bits::<F>::is_nan(b) {
        return process_nan::<F>(ctx, b);
    }
    if Bits::<F>::is_inf(b) {
        return b;
    }
    let x = F::from_bits64(b).to_f64();
    let i = match rmode {
        RN => x.round_ties_even(),
        RP => x.ceil(),
        RM => x.floor(),
        RZ => x.trunc(),
        _ => x.round(),
    };
    if exact && i != x {
        ctx.flags |= IXC;
    }
    // Integral values of F are exact in f64 and convert back exactly; keep the sign of zero.
    let rb = if F::FRAC == 23 { (i as f32).to_bits() as u64 } else { i.to_bits() };
    if i == 0.0 { (rb & !Bits::<F>::SIGN) | (b & Bits::<F>::SIGN) } else { rb }
}

/// VMAXNM / VMINNM (IEEE 754-2008 maxNum/minNum): a single quiet NaN is ignored.
pub fn max_min_num<F: Float>(ctx: &mut FpCtx, a: u64, b: u64, max: bool) -> u64 {
    let (mut a, mut b) = (flush_input::<F>(ctx, a), flush_input::<F>(ctx, b));
    let qnan = |x: u64| Bits::<F>::is_nan(x) && !Bits::<F>::is_snan(x);
    if qnan(a) && !Bits::<F>::is_nan(b) {
        a = b;
    } else if qnan(b) && !Bits::<F>::is_nan(a) {
        b = a;
    }
    if let Some(nan) = process_nans::<F>(ctx, &[a, b]) {
        return nan;
    }
    let (x, y) = (F::from_bits64(a).to_f64(), F::from_bits64(b).to_f64());
    let pick_a = if x == y {
        // +0 vs -0: max prefers +0, min prefers -0.
        (a & Bits::<F>::SIGN == 0) == max
    } else {
        (x > y) == max
    };
    if pick_a { a } else { b }
}

/// `FPHalfToSingle` / `FPHalfToDouble`: exact widening; FZ does not apply to half
/// inputs; FPSCR.AHP (alternative half precision) has no infinities or NaNs.
pub fn from_half<F: Float>(ctx: &mut FpCtx, h: u16) -> u64 {
    let (sign, exp, frac) = ((h >> 15) as u64, (h >> 10) & 0x1f, (h & 0x3ff) as u64);
    let top = sign << (F::FRAC + F::EXP);
    if exp == 0x1f && !ctx.ahp {
        if frac == 0 {
            return top | Bits::<F>::EXP_MASK;
        }
        if frac & 0x200 == 0 {
            ctx.flags |= IOC;
        }
        if ctx.dn {
            return Bits::<F>::DEFAULT_NAN;
        }
        return top | Bits::<F>::EXP_MASK | Bits::<F>::QUIET | (frac << (F::FRAC - 10));
    }
    let mag = if exp == 0 { frac as f64 * 2f64.powi(-24) } else { (1024 + frac) as f64 * 2f64.powi(exp as i32 - 25) };
    let v = if sign != 0 { -mag } else { mag };
    if F::FRAC == 23 { (v as f32).to_bits() as u64 } else { v.to_bits() }
}

/// `FPSingleToHalf` / `FPDoubleToHalf` with FPSCR rounding. Under AHP, NaN gives a
/// signed zero and overflow/infinity the largest magnitude, with IOC. FZ flushes a
/// denormal *input* (IDC) but never the half-precision result.
pub fn to_half(ctx: &mut FpCtx, b: u64, double: bool) -> u16 {
    let (b, x) = if double {
        let b = flush_input::<f64>(ctx, b);
        (b, f64::from_bits(b))
    } else {
        let b = flush_input::<f32>(ctx, b);
        (b, f32::from_bits(b as u32) as f64)
    };
    let sign: u16 = if x.is_sign_negative() { 0x8000 } else { 0 };
    if x.is_nan() {
        let snan = if double { Bits::<f64>::is_snan(b) } else { Bits::<f32>::is_snan(b) };
        if snan || ctx.ahp {
            ctx.flags |= IOC;
        }
        if ctx.ahp {
            return sign;
        }
        if ctx.dn {
            return 0x7e00;
        }
        let payload = if double { (b >> 42) & 0x1ff } else { (b >> 13) & 0x1ff } as u16;
        return sign | 0x7e00 | payload;
    }
    if x.is_infinite() {
        if ctx.ahp {
            ctx.flags |= IOC;
            return sign | 0x7fff;
        }
        return sign | 0x7c00;
    }
    if x == 0.0 {
        return sign;
    }
    let a = x.abs();
    let e = exponent(a);
    let q = e.max(-14) - 10;
    // Exact: power-of-two scaling of a value with at most 53 significant bits.
    let m = ldexp(a, -q);
    let n = m.floor();
    let rem = m - n;
    let up = match ctx.rmode {
        RN => rem > 0.5 || (rem == 0.5 && n % 2.0 == 1.0),
        RP => rem > 0.0 && sign == 0,
        RM => rem > 0.0 && sign != 0,
        _ => false,
    };
    let (mut n, mut q) = (n as u32 + up as u32, q);
    if n == 2048 {
        (n, q) = (1024, q + 1);
    }
    let inexact = rem != 0.0;
    // Biased exponent of n * 2^q with n in [1024, 2048): q + 10 + 15.
    let biased = if n < 1024 { 0 } else { q + 25 };
    if biased >= if ctx.ahp { 32 } else { 31 } {
        if ctx.ahp {
            ctx.flags |= IOC;
            return sign | 0x7fff;
        }
        ctx.flags |= OFC | IXC;
        let to_inf = match ctx.rmode {
            RN => true,
            RP => sign == 0,
            RM => sign != 0,
            _ => false,
        };
        return sign | if to_inf { 0x7c00 } else { 0x7bff };
    }
    if inexact {
        ctx.flags |= IXC | if e < -14 { UFC } else { 0 };
    }
    let bits = if n < 1024 { n } else { (biased as u32) << 10 | (n - 1024) };
    sign | bits as u16
}
