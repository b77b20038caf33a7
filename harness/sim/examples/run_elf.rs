//! Developer tool: runs an ELF on a simulated Cortex-M4 with the sim-m4 memory map
//! (2 MiB flash at 0x0800_0000, 640 KiB RAM at 0x2000_0000) and prints the stop
//! reason, statistics and host speed.
//!
//! `cargo run --release -p tinybench-sim --example run_elf -- <elf> [max_instructions]`
//! (set `TINYBENCH_CORE=m7` to model a Cortex-M7).

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
    let config = SimConfig {
        core: if std::env::var("TINYBENCH_CORE").as_deref() == Ok("m7") {
            CoreKind::CortexM7
        } else {
            CoreKind::CortexM4
        },
        clock_hz: 120_000_000,
        regions: vec![
            RegionSpec {
                name: "flash".into(),
                start: 0x0800_0000,
                size: 2 << 20,
                kind: RegionKind::Flash,
                wait_states: 5,
            },
            RegionSpec {
                name: "sram".into(),
                start: 0x2000_0000,
                size: 640 << 10,
                kind: RegionKind::Ram,
                wait_states: 0,
            },
        ],
    };
    let mut sim = Simulator::new(config).expect("config");
    if let Err(e) = sim.load_elf(&elf) {
        eprintln!("error: {e}");
        std::process::exit(2);
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
}
