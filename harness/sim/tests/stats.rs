//! `Simulator::stats` over whole programs, through the public API only.

use tinybench_sim::{CoreKind, RegionKind, RegionSpec, SimConfig, Simulator, StopReason};

const FLASH: u32 = 0x0800_0000;

/// A simulator with `code` at 0x0800_0040 behind a vector table (SP 0x2000_1000).
fn load(code: &[u8]) -> Simulator {
    let mut sim = Simulator::new(SimConfig {
        core: CoreKind::CortexM4,
        clock_hz: 120_000_000,
        regions: vec![
            RegionSpec { name: "flash".into(), start: FLASH, size: 4096, kind: RegionKind::Flash, wait_states: 0 },
            RegionSpec { name: "sram".into(), start: 0x2000_0000, size: 4096, kind: RegionKind::Ram, wait_states: 0 },
        ],
    })
    .unwrap();
    let mut image = Vec::new();
    image.extend(0x2000_1000u32.to_le_bytes()); // initial SP
    image.extend(((FLASH + 0x40) | 1).to_le_bytes()); // reset vector, Thumb bit
    image.resize(0x40, 0);
    image.extend(code);
    sim.write_memory(FLASH, &image).unwrap();
    sim.reset().unwrap();
    sim
}

/// The histogram counts every retired instruction, so its classes add up to
/// `instructions`, including the BKPT 0xAB that ends a program through
/// semihosting SYS_EXIT (retired by `finish_stop`, counted as a trap).
#[test]
fn histogram_adds_up_to_instructions_after_semihosting_exit() {
    let mut sim = load(&[
        0x18, 0x20, // movs r0, #0x18   (SYS_EXIT)
        0x01, 0x49, // ldr r1, [pc, #4] (ADP_Stopped_ApplicationExit)
        0xAB, 0xBE, // bkpt 0xab
        0x00, 0xBF, // nop (padding)
        0x26, 0x00, 0x02, 0x00, // .word 0x20026
    ]);
    assert_eq!(sim.run(100).unwrap(), StopReason::Exited { code: 0 });
    let stats = sim.stats();
    assert_eq!(stats.instructions, 3);
    assert_eq!(stats.histogram.values().sum::<u64>(), stats.instructions, "{:?}", stats.histogram);
}
