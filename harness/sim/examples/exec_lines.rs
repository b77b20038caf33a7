//! Developer tool for differential testing (see `tools/diff_unicorn.py`).
//!
//! Each stdin line (hex words) is either `hw1 hw2 r0..r12 apsr` (one instruction)
//! or `ffff n hw*n r0..r12 apsr` (a program of n halfwords). The code runs at
//! 0x0800_0200 until the trailing `bkpt`; RAM 0x2000_0200.. is filled with a
//! fixed pattern first. Output per line: `class | disasm | r0..r12 apsr pc | ram`
//! (512 bytes from 0x2000_0300 in hex), or `ERR | insn | error`.
use std::io::{BufRead, Write};
use tinybench_sim::*;
fn main() {
    let cfg = SimConfig {
        // EXEC_LINES_CORE=m7 selects the Cortex-M7 (FPv5 with double precision).
        core: if std::env::var("EXEC_LINES_CORE").as_deref() == Ok("m7") {
            CoreKind::CortexM7
        } else {
            CoreKind::CortexM4
        },
        clock_hz: 1_000_000,
        regions: vec![
            RegionSpec { name: "f".into(), start: 0x0800_0000, size: 0x1000, kind: RegionKind::Flash, wait_states: 0 },
            RegionSpec { name: "r".into(), start: 0x2000_0000, size: 0x1000, kind: RegionKind::Ram, wait_states: 0 },
        ],
    };
    let mut sim = Simulator::new(cfg).unwrap();
    let mut vt = vec![0u8; 8];
    vt[0..4].copy_from_slice(&0x2000_1000u32.to_le_bytes());
    vt[4..8].copy_from_slice(&0x0800_0201u32.to_le_bytes());
    sim.write_memory(0x0800_0000, &vt).unwrap();
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    for line in stdin.lock().lines().map_while(Result::ok) {
        let v: Vec<u32> = line.split_whitespace().map(|t| u32::from_str_radix(t, 16).unwrap()).collect();
        // Program mode: first value 0xffff, second = number of halfwords, then halfwords.
        let (hw1, hw2, v) = if v[0] == 0xffff {
            let n = v[1] as usize;
            let mut code = vec![];
            for h in &v[2..2 + n] {
                code.extend_from_slice(&(*h as u16).to_le_bytes());
            }
            code.extend_from_slice(&[0x00, 0xbe, 0x00, 0xbe]);
            sim.write_memory(0x0800_0200, &code).unwrap();
            (0u16, 0u16, v[2 + n..].to_vec())
        } else {
            (v[0] as u16, v[1] as u16, v[2..].to_vec())
        };
        let mut v2 = vec![0, 0];
        v2.extend_from_slice(&v);
        let v = v2;
        let mut code = vec![];
        code.extend_from_slice(&hw1.to_le_bytes());
        code.extend_from_slice(&hw2.to_le_bytes());
        code.extend_from_slice(&[0x00, 0xbe, 0x00, 0xbe]);
        let program = hw1 == 0 && hw2 == 0;
        if !program {
            sim.write_memory(0x0800_0200, &code).unwrap();
        }
        sim.reset().unwrap();
        let pattern: Vec<u8> = (0..1024u32).map(|i| (i.wrapping_mul(37) ^ 0x5a) as u8).collect();
        sim.write_memory(0x2000_0200, &pattern).unwrap();
        for r in 0..13 {
            sim.set_reg(r, v[2 + r]);
        }
        // Set flags through an MSR-less path: run `msr apsr_nzcvqg, r12`? simpler: poke via a tiny prologue is not possible; use test hook.
        sim.set_apsr(v[15]);
        let (insn, _) = decode::decode(hw1, hw2);
        let r = if program { sim.run(1000) } else { sim.run(1) };
        match r {
            Ok(_) => {
                let mut s = format!("{} | {} |", insn.class(), insn);
                for i in 0..13 {
                    s += &format!(" {:08x}", sim.reg(i));
                }
                let (n, z, c, vv, q) = sim.flags();
                let apsr = ((n as u32) << 31)
                    | ((z as u32) << 30)
                    | ((c as u32) << 29)
                    | ((vv as u32) << 28)
                    | ((q as u32) << 27)
                    | ((sim.ge() as u32) << 16);
                s += &format!(" {:08x} {:08x}", apsr, sim.pc());
                let mut ram = [0u8; 512];
                sim.read_memory(0x2000_0300, &mut ram).unwrap();
                s += " | ";
                for b in ram {
                    s += &format!("{b:02x}");
                }
                let _ = writeln!(out, "{s}");
            }
            Err(e) => {
                let _ = writeln!(out, "ERR | {} | {}", insn, e.to_string().replace('\n', " "));
            }
        }
    }
}
