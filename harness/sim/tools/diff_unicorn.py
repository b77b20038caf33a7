#!/usr/bin/env python3
"""Differential test of tinybench-sim against Unicorn (QEMU's Cortex-M4 model).

Random straight-line programs (ALU/DSP/multiply with IT blocks, or with `mem`
loads/stores/LDM/STM over RAM) run in both; registers, NZCVQ+GE and 512 bytes of
RAM must match. Programs either side rejects (unpredictable encodings, faults) are
skipped.

    pip install unicorn==2.1.4
    cargo build -p tinybench-sim --example exec_lines
    UC_IGNORE_REG_BREAK=1 python3 harness/sim/tools/diff_unicorn.py SEED COUNT [mem]
"""
import os, random, subprocess, sys
from unicorn import *
from unicorn.arm_const import *
random.seed(int(sys.argv[1]))
NPROG = int(sys.argv[2])
REGS = [UC_ARM_REG_R0+i for i in range(13)]
CLASSES = ("load", "store", "ldm_stm", "alu") if len(sys.argv) > 3 and sys.argv[3] == 'mem' else ("alu", "mul", "bitops", "dsp")
MEM = len(sys.argv) > 3
ONESHOT = os.environ.get("EXEC_LINES", "target/debug/examples/exec_lines")
def rnd32():
    if random.random() < 0.3: return random.choice([0, 1, 0xffffffff, 0x7fffffff, 0x80000000, 0x8000, 0xffff, 0x80])
    return random.getrandbits(32)
# candidate pool
cands = []
for _ in range(30000):
    if random.random() < 0.5:
        h1 = random.getrandbits(16)
        if h1 >> 11 >= 0b11101: h1 &= 0xe7ff
        cands.append((h1,))
    else:
        h1 = random.choice([0xea00, 0xeb00, 0xf000, 0xf100, 0xf200, 0xf300, 0xfa00, 0xfb00]) | random.getrandbits(9)
        if len(sys.argv) > 3:
            h1 = random.choice([0xe800, 0xe900, 0xf800, 0xf900]) | random.getrandbits(9)
        cands.append((h1, random.getrandbits(16)))
inp = "\n".join(f"{c[0]:x} {(c[1] if len(c)>1 else 0xbf00):x} " + " ".join(["0"]*13) + " 0" for c in cands) + "\n"
out = subprocess.run([ONESHOT], input=inp, capture_output=True, text=True).stdout.splitlines()
pool = []
for c, line in zip(cands, out):
    p = line.split(" | ")
    if p[0] in CLASSES and not any(r in p[1] for r in ("pc", "sp", "lr")) and not p[1].startswith(("sdiv","udiv")):
        pool.append(c)
print("pool", len(pool))
COND_INV = lambda c: c ^ 1
progs = []
for _ in range(NPROG):
    hws = []
    k = 0
    while k < 24:
        if random.random() < (0.0 if MEM else 0.2):
            fc = random.randrange(0, 14)
            mask = random.randrange(1, 16)
            n = 4 - ((mask & -mask).bit_length() - 1)
            hws.append(0xbf00 | fc << 4 | mask)
            for _ in range(n):
                hws.extend(random.choice(pool))
            k += n + 1
        else:
            hws.extend(random.choice(pool)); k += 1
    regs = [rnd32() for _ in range(13)]
    if MEM:
        regs = [0x20000400 + random.randrange(0, 64) * random.choice([1, 2, 4]) if i < 8 else random.randrange(0, 16) * random.choice([1, 4]) for i in range(13)]
    apsr = random.getrandbits(5) << 27 | random.getrandbits(4) << 16
    progs.append((hws, regs, apsr))
inp = "\n".join("ffff " + f"{len(h):x} " + " ".join(f"{x:x}" for x in h) + " " + " ".join(f"{x:x}" for x in r) + f" {a:x}" for h, r, a in progs) + "\n"
out = subprocess.run([ONESHOT], input=inp, capture_output=True, text=True).stdout.splitlines()
bad = 0; checked = 0; errs = {}
for (hws, regs, apsr), line in zip(progs, out):
    p = line.split(" | ")
    if p[0] == "ERR":
        errs[p[2][:60] if len(p) > 2 else line[:60]] = errs.get(p[2][:60] if len(p) > 2 else line[:60], 0) + 1
        continue
    vals = [int(x, 16) for x in p[2].split()]
    mu = Uc(UC_ARCH_ARM, UC_MODE_THUMB | UC_MODE_MCLASS); mu.ctl_set_cpu_model(UC_CPU_ARM_CORTEX_M4)
    mu.mem_map(0x08000000, 0x1000); mu.mem_map(0x20000000, 0x1000)
    mu.mem_write(0x20000200, bytes(((i * 37) ^ 0x5a) & 0xff for i in range(1024)))
    code = b"".join(h.to_bytes(2, 'little') for h in hws)
    mu.mem_write(0x08000200, code + b"\x00\xbe")
    for r, v in zip(REGS, regs): mu.reg_write(r, v)
    mu.reg_write(UC_ARM_REG_SP, 0x20001000)
    mu.reg_write(UC_ARM_REG_XPSR, apsr | (1 << 24)); mu.reg_write(UC_ARM_REG_APSR_NZCVQG, apsr)
    try:
        mu.emu_start(0x08000201, 0x08000200 + len(code))
    except UcError as e:
        continue
    u = [mu.reg_read(r) for r in REGS]; ua = mu.reg_read(UC_ARM_REG_XPSR) & 0xf80f0000
    checked += 1
    uram = bytes(mu.mem_read(0x20000300, 512)).hex()
    mram = p[3] if len(p) > 3 else ""
    if u != vals[:13] or ua != vals[13] & 0xf80f0000 or uram != mram:
        bad += 1
        if bad <= 5:
            print("MISMATCH", " ".join(f"{h:04x}" for h in hws))
            print("  regs in", " ".join(f"{x:08x}" for x in regs), f"apsr {apsr:08x}")
            print("  uc ", " ".join(f"{x:08x}" for x in u), f"{ua:08x}")
            print("  me ", " ".join(f"{x:08x}" for x in vals[:13]), f"{vals[13]:08x}")
            if uram != mram:
                d = [i for i in range(0, len(uram), 2) if uram[i:i+2] != mram[i:i+2]]
                print("  ram differs at", [hex(0x20000300 + i // 2) for i in d[:8]])
print("programs checked", checked, "mismatches", bad)

for k, v in sorted(errs.items(), key=lambda x: -x[1])[:8]: print(v, k)
