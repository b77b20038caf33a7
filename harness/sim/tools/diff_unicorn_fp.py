#!/usr/bin/env python3
"""Differential test of tinybench-sim's single-precision FP against Unicorn (QEMU's
Cortex-M4 FPv4-SP model, softfloat): result bits and the whole FPSCR (NZCV,
RMode/FZ/DN/AHP as set, cumulative flags) after one FP instruction under a random
FPSCR (rounding mode, FZ, DN) with special-heavy operands.

    pip install unicorn==2.1.4
    cargo build -p tinybench-sim --example exec_lines
    python3 harness/sim/tools/diff_unicorn_fp.py SEED COUNT [OP-SUBSTRING]
"""
import os, random, struct, subprocess, sys
from unicorn import *
from unicorn.arm_const import *

random.seed(int(sys.argv[1]))
N = int(sys.argv[2])
ONLY = sys.argv[3] if len(sys.argv) > 3 else ""  # optional substring filter on op names
ONESHOT = os.environ.get("EXEC_LINES", "target/debug/examples/exec_lines")
# s0 = op(s1, s2) (s0 is also the accumulator / in-place operand); from arm-none-eabi-as.
OPS = {
    "vadd": (0xee30, 0x0a81), "vsub": (0xee30, 0x0ac1), "vmul": (0xee20, 0x0a81),
    "vnmul": (0xee20, 0x0ac1), "vdiv": (0xee80, 0x0a81), "vsqrt": (0xeeb1, 0x0ac1),
    "vfma": (0xeea0, 0x0a81), "vfms": (0xeea0, 0x0ac1), "vfnma": (0xee90, 0x0ac1),
    "vfnms": (0xee90, 0x0a81), "vmla": (0xee00, 0x0a81), "vmls": (0xee00, 0x0ac1),
    "vnmla": (0xee10, 0x0ac1), "vnmls": (0xee10, 0x0a81), "vcmp": (0xeeb4, 0x0a41),
    "vcmpe": (0xeeb4, 0x0ac1), "vcmpz": (0xeeb5, 0x0a40), "vcvt.s32": (0xeebd, 0x0ac1),
    "vcvtr.s32": (0xeebd, 0x0a41), "vcvt.u32": (0xeebc, 0x0ac1), "vcvtr.u32": (0xeebc, 0x0a41),
    "vcvt.f32.s32": (0xeeb8, 0x0ac1), "vcvt.f32.u32": (0xeeb8, 0x0a41),
    "vcvt.s32.#16": (0xeebe, 0x0ac8), "vcvt.f32.s32#16": (0xeeba, 0x0ac8),
    "vcvt.s16.#8": (0xeebe, 0x0a44), "vcvt.u16.#8": (0xeebf, 0x0a44), "vcvt.f32.u16#8": (0xeebb, 0x0a44),
    "vabs": (0xeeb0, 0x0ac1), "vneg": (0xeeb1, 0x0a41),
    "vcvtb.f32.f16": (0xeeb2, 0x0a41), "vcvtt.f32.f16": (0xeeb2, 0x0ac1),
    "vcvtb.f16.f32": (0xeeb3, 0x0a41), "vcvtt.f16.f32": (0xeeb3, 0x0ac1),
}
PRO = [0xf64e, 0x5c88, 0xf2ce, 0x0c00, 0xf44f, 0x0b70, 0xf8cc, 0xb000,  # CPACR = 0xf << 20
       0xeee1, 0x0a10, 0xee00, 0x1a90, 0xee01, 0x2a10, 0xee00, 0x3a10]  # vmsr fpscr, r0; s1, s2, s0 = r1..r3
EPI = [0xeef1, 0x4a10, 0xee10, 0x5a10]  # vmrs r4, fpscr; vmov r5, s0
SPECIAL = [0, 0x80000000, 0x3f800000, 0xbf800000, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001,
           0xffc12345, 0x7fa00000, 0x00000001, 0x80000001, 0x007fffff, 0x00800000, 0x00800001, 0x7f7fffff,
           0xff7fffff, 0x33800000, 0x4f000000, 0xcf000000, 0x4f800000, 0x3f000000, 0x40200000, 0xc0200000,
           0x01000001, 0x80ffffff, 0x0000ffff, 0x477fe000, 0x477ff000, 0x47800000, 0x387fc000, 0x33800000,
           0x7c00fc00, 0x7e017d01, 0x03ff8001, 0x3c00bc00]  # last ones: half-precision pairs

def operand():
    x = random.random()
    if x < 0.35: return random.choice(SPECIAL)
    if x < 0.5: return random.getrandbits(32)
    if x < 0.7:  # nearby values so additions cancel and products underflow/overflow
        e = random.choice([1, 2, 30, 100, 127, 150, 200, 253, 254])
        return random.getrandbits(1) << 31 | e << 23 | random.getrandbits(23)
    return struct.unpack("<I", struct.pack("<f", random.uniform(-10, 10)))[0]

cases = []
for _ in range(N):
    name = random.choice([o for o in OPS if ONLY in o])
    fpscr = random.getrandbits(2) << 22 | (random.random() < 0.25) << 24 | (random.random() < 0.25) << 25 | (random.random() < 0.2) << 26
    cases.append((name, fpscr, operand(), operand(), operand()))
def prog(name):
    return PRO + list(OPS[name]) + EPI
inp = "".join("ffff %x %s %x %x %x %x %s 0\n" % (len(prog(c[0])), " ".join("%x" % h for h in prog(c[0])),
              c[1], c[2], c[3], c[4], " ".join(["0"] * 9)) for c in cases)
out = subprocess.run([ONESHOT], input=inp, capture_output=True, text=True).stdout.splitlines()
bad = 0; STATS = {}
for (name, fpscr, a, b, c), line in zip(cases, out):
    p = line.split(" | ")
    if p[0] == "ERR":
        print("ERR", name, line[:120]); bad += 1; continue
    me = [int(x, 16) for x in p[2].split()]
    mu = Uc(UC_ARCH_ARM, UC_MODE_THUMB | UC_MODE_MCLASS); mu.ctl_set_cpu_model(UC_CPU_ARM_CORTEX_M4)
    mu.mem_map(0x08000000, 0x1000); mu.mem_map(0x20000000, 0x1000)
    mu.mem_map(0xe000e000, 0x1000)  # Unicorn has no SCS; its FPU is enabled from reset
    code = b"".join(h.to_bytes(2, "little") for h in prog(name))
    mu.mem_write(0x08000200, code + b"\x00\xbe")
    for r, v in zip((UC_ARM_REG_R0, UC_ARM_REG_R1, UC_ARM_REG_R2, UC_ARM_REG_R3), (fpscr, a, b, c)):
        mu.reg_write(r, v)
    mu.reg_write(UC_ARM_REG_SP, 0x20001000)
    try:
        mu.emu_start(0x08000201, 0x08000200 + len(code))
    except UcError as e:
        print("unicorn error", name, e); continue
    u = (mu.reg_read(UC_ARM_REG_R4), mu.reg_read(UC_ARM_REG_R5))
    m = (me[4], me[5])
    STATS[u[0] & 0x9f] = STATS.get(u[0] & 0x9f, 0) + 1
    if u != m:
        bad += 1
        if bad <= 20:
            print(f"MISMATCH {name} fpscr_in={fpscr:08x} s1={a:08x} s2={b:08x} s0={c:08x}: "
                  f"uc fpscr={u[0]:08x} s0={u[1]:08x} | me fpscr={m[0]:08x} s0={m[1]:08x}")
print("flag patterns (unicorn)", {f"{k:02x}": v for k, v in sorted(STATS.items())})
print("cases", len(cases), "mismatches", bad)
