//! Simulation speed in simulated instructions per host second (MIPS).
//!
//! `cargo bench -p tinybench-sim --bench mips` runs
//! 1. a built-in long integer kernel (word loads, sign extension, MLA, a CRC-style
//!    shift/xor step with an IT block, counted loops: ~113 M instructions) on the
//!    Cortex-M4 and the Cortex-M7 model, checking its result against a host
//!    computation, and
//! 2. the benchmark firmware ELF (`TINYBENCH_FW_ELF`, default
//!    `target-fw/target/thumbv7em-none-eabihf/release/tinybench-fw`) when it exists,
//!    to its exit or for 50 M instructions.
//!
//! Each figure is the best of several runs (wall clock, one thread). The figures
//! of record are in docs/sim-performance.md.

use std::time::Instant;

use tinybench_sim::{CoreKind, MarkerPin, RegionKind, RegionSpec, SimConfig, Simulator, StopReason};

const FLASH: u32 = 0x0800_0000;
const RAM: u32 = 0x2000_0000;
const CODE: u32 = FLASH + 0x100;
const STACK: u32 = RAM + 0x8000;

/// The kernel; the outer iteration count is read from `[sp]`.
/// Assembled with `arm-none-eabi-as -mcpu=cortex-m4 -mthumb`.
#[rustfmt::skip]
const KERNEL: &[u16] = &[
    0xf240, 0x0000, // movw r0, #0
    0xf2c2, 0x0000, // movt r0, #0x2000
    0x2600,         // movs r6, #0
    0x9f00,         // ldr r7, [sp]
    0x4601,         // mov r1, r0
    0x2200,         // movs r2, #0
    0xf240, 0x5307, // movw r3, #0x0507
    0xf2c0, 0x1303, // movt r3, #0x0103
    // fill: buffer[i] = i * 0x01030507, 256 words
    0xfb02, 0xf403, // mul r4, r2, r3
    0xf841, 0x4b04, // str r4, [r1], #4
    0x3201,         // adds r2, #1
    0xf5b2, 0x7f80, // cmp.w r2, #256
    0xd1f7,         // bne fill
    0xf248, 0x3a20, // movw r10, #0x8320
    0xf6ce, 0x5ab8, // movt r10, #0xedb8
    // outer:
    0x4601,         // mov r1, r0
    0x2200,         // movs r2, #0
    0xf44f, 0x7380, // mov.w r3, #256
    0xf06f, 0x0800, // mvn r8, #0
    // inner: 11 instructions per word
    0xf851, 0x4b04, // ldr r4, [r1], #4
    0xb265,         // sxtb r5, r4
    0xea5f, 0x6c24, // asrs.w r12, r4, #24
    0xfb05, 0x220c, // mla r2, r5, r12, r2
    0xea88, 0x0804, // eor.w r8, r8, r4
    0xea5f, 0x0958, // lsrs.w r9, r8, #1
    0xbf28,         // it hs
    0xea89, 0x090a, // eorhs.w r9, r9, r10
    0xeb09, 0x08f8, // add.w r8, r9, r8, ror #3
    0x3b01,         // subs r3, #1
    0xd1ed,         // bne inner
    0xf8c0, 0x2400, // str.w r2, [r0, #1024]
    0xf8c0, 0x8404, // str.w r8, [r0, #1028]
    0x3601,         // adds r6, #1
    0x42be,         // cmp r6, r7
    0xd1e0,         // bne outer
    0xbe00,         // bkpt #0
];

/// The kernel's (r2, r8) computed on the host.
fn expected() -> (u32, u32) {
    let (mut acc, mut crc) = (0u32, u32::MAX);
    for i in 0..256u32 {
        let w = i.wrapping_mul(0x0103_0507);
        acc = acc.wrapping_add((w as i8 as i32 * ((w as i32) >> 24)) as u32);
        crc ^= w;
        let mut t = crc >> 1;
        if crc & 1 != 0 {
            t ^= 0xedb8_8320;
        }
        crc = t.wrapping_add(crc.rotate_right(3));
    }
    (acc, crc)
}

fn regions(core: CoreKind) -> Vec<RegionSpec> {
    let r =
        |name: &str, start, size, kind, wait_states| RegionSpec { name: name.into(), start, size, kind, wait_states };
    match core {
        CoreKind::CortexM4 => {
            vec![r("flash", FLASH, 2 << 20, RegionKind::Flash, 5), r("sram", RAM, 640 << 10, RegionKind::Ram, 0)]
        }
        CoreKind::CortexM7 => vec![
            r("flash", FLASH, 2 << 20, RegionKind::Flash, 4),
            r("dtcm", RAM, 128 << 10, RegionKind::Ram, 0),
            r("axi-sram", 0x2400_0000, 512 << 10, RegionKind::Ram, 0),
        ],
    }
}

fn kernel_sim(core: CoreKind, outer: u32) -> Simulator {
    let mut sim = Simulator::new(SimConfig { core, clock_hz: 100_000_000, regions: regions(core) }).unwrap();
    let mut vt = Vec::new();
    vt.extend_from_slice(&STACK.to_le_bytes());
    vt.extend_from_slice(&(CODE | 1).to_le_bytes());
    sim.write_memory(FLASH, &vt).unwrap();
    let code: Vec<u8> = KERNEL.iter().flat_map(|h| h.to_le_bytes()).collect();
    sim.write_memory(CODE, &code).unwrap();
    sim.write_memory(STACK, &outer.to_le_bytes()).unwrap();
    sim.reset().unwrap();
    sim
}

/// Runs to the end or `max` instructions; returns (instructions, seconds, stop).
fn run(sim: &mut Simulator, max: u64) -> (u64, f64, StopReason) {
    let start = Instant::now();
    let stop = loop {
        match sim.run(10_000_000).expect("simulation error") {
            StopReason::InstructionLimit if sim.instructions() < max => continue,
            s => break s,
        }
    };
    (sim.instructions(), start.elapsed().as_secs_f64(), stop)
}

fn report(name: &str, figures: &mut [(u64, f64)]) {
    figures.sort_by(|a, b| (b.0 as f64 / b.1).total_cmp(&(a.0 as f64 / a.1)));
    let mips: Vec<String> = figures.iter().map(|(i, s)| format!("{:.1}", *i as f64 / s / 1e6)).collect();
    let (insns, secs) = figures[0];
    println!(
        "{name:<28} {insns:>11} insns  best {:>6.3} s  {:>6.1} MIPS  (runs: {})",
        secs,
        insns as f64 / secs / 1e6,
        mips.join(" ")
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing useful either.
    let quick = std::env::args().any(|a| a == "--test") || std::env::var_os("TINYBENCH_BENCH_QUICK").is_some();
    let (outer, runs) = if quick { (50, 1) } else { (40_000, 5) };
    // For callgrind: `TINYBENCH_BENCH_OUTER=1000` (2.8 M instructions, one run).
    let (outer, runs) = match std::env::var("TINYBENCH_BENCH_OUTER").ok().and_then(|s| s.parse().ok()) {
        Some(n) => (n, 1),
        None => (outer, runs),
    };
    let want = expected();
    // `TINYBENCH_BENCH_CORE=m4` or `m7` runs the kernel on one core only.
    let cores: &[CoreKind] = match std::env::var("TINYBENCH_BENCH_CORE").as_deref() {
        Ok("m4") => &[CoreKind::CortexM4],
        Ok("m7") => &[CoreKind::CortexM7],
        _ => &[CoreKind::CortexM4, CoreKind::CortexM7],
    };
    for &core in cores {
        let mut figures = Vec::new();
        for _ in 0..runs {
            let mut sim = kernel_sim(core, outer);
            let (insns, secs, stop) = run(&mut sim, u64::MAX);
            assert!(matches!(stop, StopReason::Breakpoint { imm: 0, .. }), "{stop:?}");
            assert_eq!((sim.reg(2), sim.reg(8)), want, "kernel result");
            figures.push((insns, secs));
        }
        report(&format!("integer kernel ({core:?})"), &mut figures);
    }
    let elf_path = std::env::var("TINYBENCH_FW_ELF").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../target-fw/target/thumbv7em-none-eabihf/release/tinybench-fw").into()
    });
    match std::fs::read(&elf_path) {
        Ok(elf) => {
            let mut figures = Vec::new();
            for _ in 0..runs.max(3) {
                let mut sim = Simulator::new(SimConfig {
                    core: CoreKind::CortexM4,
                    clock_hz: 120_000_000,
                    regions: regions(CoreKind::CortexM4),
                })
                .unwrap();
                // The benchmark firmware drives the board's marker pin (configs/boards/sim-m4.toml
                // [marker]: GPIOE_BSRR, PE9).
                sim.set_marker_pin(MarkerPin {
                    set_address: 0x4800_1018,
                    set_value: 1 << 9,
                    clear_address: 0x4800_1018,
                    clear_value: 1 << 25,
                })
                .unwrap();
                sim.load_elf(&elf).expect("load firmware");
                // Without a host draining RTT the firmware may block in its logger: the
                // figure is for the first (at most) 50 M instructions.
                let (insns, secs, stop) = run(&mut sim, 50_000_000);
                assert!(matches!(stop, StopReason::Exited { .. } | StopReason::InstructionLimit), "{stop:?}");
                figures.push((insns, secs));
            }
            report("firmware ELF (CortexM4)", &mut figures);
        }
        Err(e) => println!("firmware ELF {elf_path}: {e} (build target-fw to include it)"),
    }
}
