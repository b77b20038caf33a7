//! Developer tool: runs an ELF on a simulated Cortex-M4 with the sim-m4 memory map
//! (2 MiB flash at 0x0800_0000, 640 KiB RAM at 0x2000_0000) and prints the stop
//! reason, statistics and host speed.
//!
//! `cargo run --release -p tinybench-sim --example run_elf -- <elf> [max_instructions]`
//! (set `TINYBENCH_CORE=m7` for a Cortex-M7 with the sim-m7 memory map:
//! 2 MiB flash, 128 KiB DTCM at 0x2000_0000, 512 KiB AXI SRAM at 0x2400_0000;
//! `TINYBENCH_PROFILE=FILE` prints the ten most expensive functions and writes
//! folded stacks to FILE).

use std::time::Instant;

use tinybench_sim::{CoreKind, RegionKind, RegionSpec, SimConfig, Simulator};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: run_elf <elf> [max_instructions]");
        std::process::exit(2);
    };
    let max: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(100_000_000);
    let elf = std::fs::read(&path).unwrap_or_else(|e| {
        eprintln!("cannot read {path}: {e}");
        std::process::exit(2)
    });
    let m7 = std::env::var("TINYBENCH_CORE").as_deref() == Ok("m7");
    let region =
        |name: &str, start, size, kind, wait_states| RegionSpec { name: name.into(), start, size, kind, wait_states };
    let config = if m7 {
        SimConfig {
            core: CoreKind::CortexM7,
            clock_hz: 480_000_000,
            regions: vec![
                region("flash", 0x0800_0000, 2 << 20, RegionKind::Flash, 4),
                region("dtcm", 0x2000_0000, 128 << 10, RegionKind::Ram, 0),
                region("axi-sram", 0x2400_0000, 512 << 10, RegionKind::Ram, 0),
            ],
        }
    } else {
        SimConfig {
            core: CoreKind::CortexM4,
            clock_hz: 120_000_000,
            regions: vec![
                region("flash", 0x0800_0000, 2 << 20, RegionKind::Flash, 5),
                region("sram", 0x2000_0000, 640 << 10, RegionKind::Ram, 0),
            ],
        }
    };
    let mut sim = Simulator::new(config).expect("config");
    if let Err(e) = sim.load_elf(&elf) {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
    let profile_file = std::env::var("TINYBENCH_PROFILE").ok();
    if profile_file.is_some() {
        sim.enable_profiling();
    }
    let start = Instant::now();
    let mut result = Ok(tinybench_sim::StopReason::InstructionLimit);
    let mut left = max;
    while left > 0 {
        let slice = left.min(10_000_000);
        result = sim.run(slice);
        left -= slice;
        if !matches!(result, Ok(tinybench_sim::StopReason::InstructionLimit)) {
            break;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let out = sim.take_semihosting_output();
    if !out.is_empty() {
        println!("semihosting output:\n{}", String::from_utf8_lossy(&out));
    }
    match result {
        Ok(r) => println!("stop: {r:?}"),
        Err(e) => println!("error: {e}"),
    }
    let st = sim.stats();
    println!(
        "{} instructions, {} cycles (CPI {:.3}), {:.1} MIPS host speed",
        st.instructions,
        st.cycles,
        st.cycles as f64 / st.instructions.max(1) as f64,
        st.instructions as f64 / secs / 1e6
    );
    println!("pc {:#010x} ({})", sim.pc(), sim.symbolize(sim.pc()).unwrap_or_default());
    println!("{:?}", st.histogram);
    if let (Some(file), Some(profile)) = (profile_file, sim.profile()) {
        println!("{:>12} {:>12} {:>10} {:>8}  function", "self", "total", "insns", "calls");
        for f in profile.functions.iter().take(10) {
            println!(
                "{:>12} {:>12} {:>10} {:>8}  {}",
                f.self_cycles, f.total_cycles, f.self_instructions, f.calls, f.name
            );
        }
        if let Err(e) = std::fs::write(&file, profile.folded_text()) {
            eprintln!("cannot write {file}: {e}");
        }
    }
}
