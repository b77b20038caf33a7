#!/usr/bin/env python3
"""Double-precision check of tinybench-sim (Cortex-M7, FPv5) against an exact
oracle (Python `fractions`): result bits and FPSCR flags of VADD/VSUB/VMUL/VDIV/
VSQRT/VFMA/VFMS/VFNMA/VFNMS.F64, VCVT.F32.F64, VCVT{R}.S32/U32.F64 and VRINTX.F64 under random RMode/FZ with finite operands chosen
to hit ties, cancellation, overflow, subnormals and tiny products. Unicorn's
Cortex-M model has no double precision, hence the oracle. Rounding follows the
Arm ARM `FPRound` (tininess before rounding, FZ flushes tiny results with UFC).

    cargo build -p tinybench-sim --example exec_lines
    python3 harness/sim/tools/diff_fp64.py SEED COUNT
"""
import math, os, random, struct, subprocess, sys
from fractions import Fraction as Fr

random.seed(int(sys.argv[1]))
N = int(sys.argv[2])
ONESHOT = os.environ.get("EXEC_LINES", "target/debug/examples/exec_lines")
PRO = [0xf64e, 0x5c88, 0xf2ce, 0x0c00, 0xf44f, 0x0b70, 0xf8cc, 0xb000,  # CPACR = 0xf << 20
       0xeee1, 0x0a10, 0xec42, 0x1b11, 0xec44, 0x3b12, 0xec46, 0x5b10]  # fpscr = r0; d1 = r1:r2; d2 = r3:r4; d0 = r5:r6
EPI = [0xeef1, 0x7a10, 0xec59, 0x8b10]  # vmrs r7, fpscr; vmov r8, r9, d0
OPS = {"vadd": (0xee31, 0x0b02), "vsub": (0xee31, 0x0b42), "vmul": (0xee21, 0x0b02), "vdiv": (0xee81, 0x0b02),
       "vsqrt": (0xeeb1, 0x0bc2), "vfma": (0xeea1, 0x0b02), "vfms": (0xeea1, 0x0b42), "vfnma": (0xee91, 0x0b42),
       "vfnms": (0xee91, 0x0b02), "vcvt.f32.f64": (0xeeb7, 0x0bc1), "vcvtr.s32.f64": (0xeebd, 0x0b41),
       "vcvt.u32.f64": (0xeebc, 0x0bc1), "vrintx": (0xeeb7, 0x0b41)}
IOC, DZC, OFC, UFC, IXC, IDC = 1, 2, 4, 8, 16, 128
FRAC, EMIN, EMAX = 52, -1022, 1023
F32 = (23, -126, 127)

def bits(x): return struct.unpack("<Q", struct.pack("<d", x))[0]
def val(b):
    e, f, s = (b >> 52) & 0x7ff, b & ((1 << 52) - 1), -1 if b >> 63 else 1
    return s * (Fr(f, 1 << 52) * Fr(2) ** (EMIN) if e == 0 else (1 + Fr(f, 1 << 52)) * Fr(2) ** (e - 1023))

def round_fr(sign, n, rem, q, rmode, tiny, fz, fmt=(FRAC, EMIN, EMAX)):
    """n + rem (rem: Fraction in [0,1) or a comparator) in units of 2^q."""
    flags = 0
    frac, emin, emax = fmt
    sbit = 31 if frac == 23 else 63
    if tiny and fz:
        return (sign << sbit), UFC
    inexact = rem != 0
    up = {0: rem > Fr(1, 2) or (rem == Fr(1, 2) and n % 2 == 1), 1: inexact and not sign,
          2: inexact and sign, 3: False}[rmode]
    n += up
    if inexact:
        flags |= IXC | (UFC if tiny else 0)
    v = Fr(n) * Fr(2) ** q
    if v >= Fr(2) ** (emax + 1):
        flags |= OFC | IXC
        to_inf = {0: True, 1: not sign, 2: bool(sign), 3: False}[rmode]
        if frac == 23:
            return (sign << 31) | (0x7f800000 if to_inf else 0x7f7fffff), flags
        return (sign << 63) | (0x7ff << 52 if to_inf else 0x7fefffffffffffff), flags
    if frac == 23:
        return (sign << 31) | struct.unpack("<I", struct.pack("<f", float(v)))[0], flags
    return (sign << 63) | bits(float(v)), flags

def quantize(a, fmt=(FRAC, EMIN, EMAX)):
    """|exact| = a > 0 -> (n, rem, q, tiny) with q the ulp exponent."""
    frac, emin, _ = fmt
    e = a.numerator.bit_length() - a.denominator.bit_length()
    if Fr(2) ** e > a: e -= 1
    if Fr(2) ** (e + 1) <= a: e += 1
    q = max(e, emin) - frac
    m = a / Fr(2) ** q
    n = m.numerator // m.denominator
    return n, m - n, q, e < emin

def oracle(name, fpscr, d0, d1, d2):
    rmode, fz = (fpscr >> 22) & 3, bool(fpscr >> 24 & 1)
    flags = 0
    def unpack(b):
        nonlocal flags
        if fz and (b >> 52) & 0x7ff == 0 and b & ((1 << 52) - 1):
            flags |= IDC
            b &= 1 << 63
        return b
    if name in ("vcvt.f32.f64", "vcvtr.s32.f64", "vcvt.u32.f64", "vrintx"):
        d1 = unpack(d1)
        x = val(d1)
        keep = d0 & 0xffffffff00000000
        if name == "vcvt.f32.f64":
            if x == 0: return keep | (d1 >> 32 & 0x80000000), flags
            n, rem, q, tiny = quantize(abs(x), F32)
            r, f = round_fr(1 if x < 0 else 0, n, rem, q, rmode, tiny, fz, F32)
            return keep | r, flags | f
        rm = 3 if name == "vcvt.u32.f64" else rmode
        fl = math.floor(x)
        rem = x - fl
        i = {0: fl + (rem > Fr(1, 2) or (rem == Fr(1, 2) and fl % 2 == 1)), 1: fl + (rem > 0), 2: fl,
             3: math.trunc(x)}[rm]
        if name == "vrintx":
            f = IXC if i != x else 0
            return (d1 & (1 << 63) if i == 0 else bits(float(i))), flags | f
        lo_, hi_ = (0, 2**32 - 1) if name == "vcvt.u32.f64" else (-2**31, 2**31 - 1)
        if i < lo_ or i > hi_:
            return keep | (min(max(i, lo_), hi_) & 0xffffffff), flags | IOC
        return keep | (i & 0xffffffff), flags | (IXC if i != x else 0)
    if name == "vsqrt": d2 = unpack(d2)
    elif name.startswith("vf"): d1, d2, d0 = unpack(d1), unpack(d2), unpack(d0)
    else: d1, d2 = unpack(d1), unpack(d2)
    a, b, c = val(d1), val(d2), val(d0)
    neg = lambda b: b ^ (1 << 63)
    if name == "vsqrt":
        if b < 0: return None
        if b == 0: return d2, flags
        n, _, q, tiny = None, None, None, None
        e = (b.numerator.bit_length() - b.denominator.bit_length()) // 2
        while Fr(2) ** (2 * e) > b: e -= 1
        while Fr(2) ** (2 * e + 2) <= b: e += 1
        q = max(e, EMIN) - FRAC
        y = b / Fr(2) ** (2 * q)
        n = math.isqrt(y.numerator // y.denominator)
        if Fr(n * n) == y: rem = Fr(0)
        else:
            t = (2 * n + 1) ** 2 - 4 * y  # compare sqrt(y) - n with 1/2
            rem = Fr(1, 2) if t == 0 else (Fr(1, 4) if t > 0 else Fr(3, 4))
        r, f = round_fr(0, n, rem, q, rmode, e < EMIN, fz)
        return r, flags | f
    if name in ("vadd", "vsub"):
        x, y = a, (b if name == "vadd" else -b)
        zx = d1 & ~(1 << 63) == 0
        zy = d2 & ~(1 << 63) == 0
        sx, sy = d1 >> 63, (d2 >> 63) ^ (name == "vsub")
        exact = x + y
        zero_sign = sx if (zx and zy and sx == sy) else (1 if rmode == 2 else 0)
    elif name in ("vmul", "vdiv"):
        if name == "vdiv" and b == 0: return None
        exact = a * b if name == "vmul" else a / b
        zero_sign = (d1 ^ d2) >> 63
    else:
        n1 = d1 if name in ("vfma", "vfnms") else neg(d1)
        ad = d0 if name in ("vfma", "vfms") else neg(d0)
        p = val(n1) * val(d2)
        exact = p + val(ad)
        zp = p == 0
        sp = (n1 ^ d2) >> 63
        za, sa = ad & ~(1 << 63) == 0, ad >> 63
        zero_sign = sp if (zp and za and sp == sa) else (1 if rmode == 2 else 0)
    if exact == 0: return zero_sign << 63, flags
    n, rem, q, tiny = quantize(abs(exact))
    r, f = round_fr(1 if exact < 0 else 0, n, rem, q, rmode, tiny, fz)
    return r, flags | f

def operand():
    x = random.random()
    if x < 0.15: return random.choice([bits(1.0), bits(-1.0), bits(2.0), bits(3.0), bits(1e-310), 1, 2**52 - 1,
                                       2**52, 0x7fefffffffffffff, bits(2.0 ** -537), bits(1 + 2 ** -52), 0, 1 << 63])
    if x < 0.5:
        e = random.choice([0, 1, 2, 50, 500, 970, 1000, 1022, 1023, 1024, 1070, 1500, 2000, 2045, 2046])
        return random.getrandbits(1) << 63 | e << 52 | random.getrandbits(52)
    if x < 0.6: return random.getrandbits(1) << 63 | random.randrange(1, 2046) << 52 | random.getrandbits(52)
    return bits(random.uniform(-4, 4))

cases = []
for _ in range(N):
    name = random.choice(list(OPS))
    fpscr = random.getrandbits(2) << 22 | (random.random() < 0.2) << 24
    d0, d1, d2 = operand(), operand(), operand()
    if name in ("vadd", "vsub", "vfma", "vfms", "vfnma", "vfnms") and random.random() < 0.3:
        d2 = d2 & ~(0x7ff << 52) | (d1 & (0x7ff << 52))  # same exponent: cancellation and ties
    cases.append((name, fpscr, d0, d1, d2))
prog = lambda name: PRO + list(OPS[name]) + EPI
lo, hi = lambda x: x & 0xffffffff, lambda x: x >> 32
inp = "".join("ffff %x %s %x %x %x %x %x %x %x %s 0\n" % (len(prog(c[0])), " ".join("%x" % h for h in prog(c[0])),
              c[1], lo(c[3]), hi(c[3]), lo(c[4]), hi(c[4]), lo(c[2]), hi(c[2]), " ".join(["0"] * 6)) for c in cases)
out = subprocess.run([ONESHOT], input=inp, capture_output=True, text=True,
                     env=dict(os.environ, EXEC_LINES_CORE="m7")).stdout.splitlines()
bad = checked = 0
for (name, fpscr, d0, d1, d2), line in zip(cases, out):
    p = line.split(" | ")
    if p[0] == "ERR":
        print("ERR", name, line[:120]); bad += 1; continue
    r = [int(x, 16) for x in p[2].split()]
    me = (r[8] | r[9] << 32, r[7] & 0x9f)
    want = oracle(name, fpscr, d0, d1, d2)
    if want is None: continue
    checked += 1
    if me != want:
        bad += 1
        if bad <= 20:
            print(f"MISMATCH {name} fpscr={fpscr:08x} d0={d0:016x} d1={d1:016x} d2={d2:016x}: "
                  f"oracle {want[0]:016x} {want[1]:02x} | me {me[0]:016x} {me[1]:02x}")
print("checked", checked, "mismatches", bad)
