//! Unit tests for the simulator. Encodings are annotated with their assembly
//! (produced with `llvm-mc -triple=thumbv7em -show-encoding`); 32-bit encodings are
//! written as two halfwords in memory order, as llvm-objdump prints them.

use super::*;
use crate::symbols::Symbols;

const FLASH: u32 = 0x0800_0000;
const RAM: u32 = 0x2000_0000;
const CODE: u32 = FLASH + 0x200;
const STACK_TOP: u32 = RAM + 0x1_0000;
/// Default handler for every exception: `b .` (like cortex-m-rt's `DefaultHandler_`).
const SPIN: u32 = FLASH + 0x180;
const BKPT0: u16 = 0xbe00; // bkpt #0

fn config(core: CoreKind) -> SimConfig {
    SimConfig {
        core,
        clock_hz: 100_000_000,
        regions: vec![
            RegionSpec { name: "flash".into(), start: FLASH, size: 0x1_0000, kind: RegionKind::Flash, wait_states: 0 },
            RegionSpec { name: "ram".into(), start: RAM, size: 0x1_0000, kind: RegionKind::Ram, wait_states: 0 },
        ],
    }
}

fn bytes(code: &[u16]) -> Vec<u8> {
    code.iter().flat_map(|h| h.to_le_bytes()).collect()
}

/// A simulator with a vector table (every handler = `b .` unless overridden in
/// `handlers` as (exception number, address)), `code` at CODE, reset done.
fn sim_with(core: CoreKind, code: &[u16], handlers: &[(u32, u32)]) -> Simulator {
    let mut sim = Simulator::new(config(core)).unwrap();
    let mut vt = vec![0u8; 0x100];
    vt[0..4].copy_from_slice(&STACK_TOP.to_le_bytes());
    vt[4..8].copy_from_slice(&(CODE | 1).to_le_bytes());
    for exc in 2..64 {
        let h = handlers.iter().find(|h| h.0 == exc).map(|h| h.1).unwrap_or(SPIN);
        vt[exc as usize * 4..exc as usize * 4 + 4].copy_from_slice(&(h | 1).to_le_bytes());
    }
    sim.write_memory(FLASH, &vt).unwrap();
    sim.write_memory(SPIN, &bytes(&[0xe7fe])).unwrap(); // b .
    sim.write_memory(CODE, &bytes(code)).unwrap();
    sim.reset().unwrap();
    sim
}

fn sim(code: &[u16]) -> Simulator {
    sim_with(CoreKind::CortexM4, code, &[])
}

fn run_to_bkpt(sim: &mut Simulator) {
    match sim.run(100_000) {
        Ok(StopReason::Breakpoint { imm: 0, .. }) => {}
        other => panic!("expected bkpt #0, got {other:?} at pc {:#x}", sim.pc()),
    }
}

struct AluCase {
    name: &'static str,
    code: &'static [u16],
    init: &'static [(usize, u32)],
    expect: &'static [(usize, u32)],
    /// "nZcv" / "nzcvQ": upper case = set; or "GE1001" for the GE bits 3..0.
    flags: Option<&'static str>,
}

fn check_flags(sim: &Simulator, want: &str, name: &str) {
    if let Some(ge) = want.strip_prefix("GE") {
        let v = u8::from_str_radix(ge, 2).unwrap();
        assert_eq!(sim.ge(), v, "{name}: GE");
        return;
    }
    let (n, z, c, v, q) = sim.flags();
    for (ch, got) in want.chars().zip([n, z, c, v, q]) {
        assert_eq!(got, ch.is_ascii_uppercase(), "{name}: flag {ch}");
    }
}

fn run_alu_cases(cases: &[AluCase]) {
    for case in cases {
        let mut code = case.code.to_vec();
        code.push(BKPT0);
        let mut s = sim(&code);
        for &(r, v) in case.init {
            s.set_reg(r, v);
        }
        run_to_bkpt(&mut s);
        for &(r, v) in case.expect {
            assert_eq!(s.reg(r), v, "{}: r{r} = {:#x}, want {v:#x}", case.name, s.reg(r));
        }
        if let Some(f) = case.flags {
            check_flags(&s, f, case.name);
        }
    }
}

include!("tests_alu.rs");

mod flash;
mod fp;
mod m7;
mod power;
mod profile;

// ---- loads and stores --------------------------------------------------------------

fn ram_word(sim: &Simulator, addr: u32) -> u32 {
    let mut b = [0u8; 4];
    sim.read_memory(addr, &mut b).unwrap();
    u32::from_le_bytes(b)
}

#[test]
fn load_store_sizes_and_sign_extension() {
    let mut s = sim(&[
        0x6008, // str r0, [r1]
        0x680a, // ldr r2, [r1]
        0x7148, // strb r0, [r1, #5]
        0xf991, 0x3005, // ldrsb.w r3, [r1, #5]
        0x80c8, // strh r0, [r1, #6]
        0xf9b1, 0x4006, // ldrsh.w r4, [r1, #6]
        0x88cd, // ldrh r5, [r1, #6]
        0x794e, // ldrb r6, [r1, #5]
        BKPT0,
    ]);
    s.set_reg(0, 0x1234_8081);
    s.set_reg(1, RAM + 0x100);
    run_to_bkpt(&mut s);
    assert_eq!(ram_word(&s, RAM + 0x100), 0x1234_8081);
    assert_eq!(s.reg(2), 0x1234_8081);
    assert_eq!(s.reg(3), 0xffff_ff81);
    assert_eq!(s.reg(4), 0xffff_8081);
    assert_eq!(s.reg(5), 0x8081);
    assert_eq!(s.reg(6), 0x81);
}

#[test]
fn load_addressing_modes_with_writeback() {
    let mut s = sim(&[
        0xf851, 0x0f04, // ldr r0, [r1, #4]!
        0xf853, 0x2b04, // ldr r2, [r3], #4
        0xf855, 0x4c04, // ldr r4, [r5, #-4]
        0xf857, 0x6026, // ldr.w r6, [r7, r6, lsl #2]
        BKPT0,
    ]);
    s.write_memory(RAM, &bytes(&[0x1111, 0x1111, 0x2222, 0x2222, 0x3333, 0x3333])).unwrap();
    s.set_reg(1, RAM);
    s.set_reg(3, RAM + 8);
    s.set_reg(5, RAM + 8);
    s.set_reg(7, RAM);
    s.set_reg(6, 2);
    run_to_bkpt(&mut s);
    assert_eq!((s.reg(0), s.reg(1)), (0x2222_2222, RAM + 4));
    assert_eq!((s.reg(2), s.reg(3)), (0x3333_3333, RAM + 12));
    assert_eq!(s.reg(4), 0x2222_2222);
    assert_eq!(s.reg(6), 0x3333_3333);
}

#[test]
fn store_pre_index_halfword_and_register_offset_byte() {
    let mut s = sim(&[
        0xf821, 0x0d02, // strh r0, [r1, #-2]!
        0x5c9b, // ldrb r3, [r3, r2]
        BKPT0,
    ]);
    s.set_reg(0, 0xbeef);
    s.set_reg(1, RAM + 0x10);
    s.set_reg(2, 0xe);
    s.set_reg(3, RAM + 1);
    run_to_bkpt(&mut s);
    assert_eq!(s.reg(1), RAM + 0xe);
    assert_eq!(ram_word(&s, RAM + 0xc) >> 16, 0xbeef);
    assert_eq!(s.reg(3), 0xbe, "byte at RAM+0xf");
}

#[test]
fn unaligned_word_load_is_allowed() {
    let mut s = sim(&[
        0xf8d1, 0x0001, // ldr.w r0, [r1, #1]
        BKPT0,
    ]);
    s.write_memory(RAM, &[0x11, 0x22, 0x33, 0x44, 0x55]).unwrap();
    s.set_reg(1, RAM);
    run_to_bkpt(&mut s);
    assert_eq!(s.reg(0), 0x5544_3322);
}

#[test]
fn literal_load_uses_aligned_pc() {
    // 0x200: ldr r0, [pc, #4] -> Align(0x204, 4) + 4 = 0x208
    let mut s = sim(&[
        0x4801, // ldr r0, [pc, #4]
        BKPT0, 0xbf00, 0xbf00, // bkpt #0; nop; nop
        0x5678, 0x1234, // .word 0x12345678
    ]);
    run_to_bkpt(&mut s);
    assert_eq!(s.reg(0), 0x1234_5678);
}

#[test]
fn ldrd_strd_and_multiple() {
    let mut s = sim(&[
        0xe8e1, 0x2302, // strd r2, r3, [r1], #8
        0xe9d1, 0x4500, // ldrd r4, r5, [r1]  (r1 advanced by 8: reads zeros)
        0xe951, 0x6702, // ldrd r6, r7, [r1, #-8]
        0xc10c, // stm r1!, {r2, r3}
        0xe911, 0x0300, // ldmdb r1, {r8, r9}
        BKPT0,
    ]);
    s.set_reg(1, RAM);
    s.set_reg(2, 0xaaaa);
    s.set_reg(3, 0xbbbb);
    run_to_bkpt(&mut s);
    assert_eq!(s.reg(1), RAM + 16);
    assert_eq!((s.reg(4), s.reg(5)), (0, 0));
    assert_eq!((s.reg(6), s.reg(7)), (0xaaaa, 0xbbbb));
    assert_eq!((s.reg(8), s.reg(9)), (0xaaaa, 0xbbbb));
}

#[test]
fn push_pop_and_pop_pc_interworks() {
    // 0x200: bl 0x20a ; 0x204: bkpt ; ... 0x20a: push {r4, lr}; movs r4, #9; pop {r4, pc}
    let mut s = sim(&[
        0xf000, 0xf803, // bl #6 -> 0x20a
        BKPT0,  // 0x204
        0xbf00, 0xbf00, // 0x206, 0x208
        0xb510, // 0x20a push {r4, lr}
        0x2409, // movs r4, #9
        0x2007, // movs r0, #7
        0xbd10, // pop {r4, pc}
    ]);
    s.set_reg(4, 0x44);
    run_to_bkpt(&mut s);
    assert_eq!(s.reg(0), 7);
    assert_eq!(s.reg(4), 0x44, "r4 restored");
    assert_eq!(s.reg(13), STACK_TOP);
    assert_eq!(s.pc(), CODE + 6, "resumes after the bkpt");
}

#[test]
fn exclusive_monitor() {
    let mut s = sim(&[
        0xe851, 0x0f00, // ldrex r0, [r1]
        0xe841, 0x3200, // strex r2, r3, [r1]
        0xe841, 0x3400, // strex r4, r3, [r1]  (monitor cleared: fails)
        0xf3bf, 0x8f2f, // clrex
        BKPT0,
    ]);
    s.set_reg(1, RAM);
    s.set_reg(3, 99);
    run_to_bkpt(&mut s);
    assert_eq!(s.reg(2), 0, "first strex succeeds");
    assert_eq!(s.reg(4), 1, "second strex fails");
    assert_eq!(ram_word(&s, RAM), 99);
}

#[test]
fn self_modifying_ram_code_is_redecoded() {
    // Run code in RAM, patch it, run again: the decode cache must be invalidated.
    let mut s = sim(&[
        0x4788, // blx r1
        0x4788, // blx r1
        BKPT0,
    ]);
    s.write_memory(RAM + 0x400, &bytes(&[0x3001, 0x4770])).unwrap(); // adds r0, #1; bx lr
    s.set_reg(1, RAM + 0x401);
    s.run(3).unwrap(); // blx, adds, bx
    assert_eq!(s.reg(0), 1);
    // The guest patches `adds r0, #1` into `adds r0, #5` with a store.
    s.write_memory(RAM + 0x400, &bytes(&[0x3005])).unwrap();
    run_to_bkpt(&mut s);
    assert_eq!(s.reg(0), 6);
}

// ---- branches and IT ------------------------------------------------------------------

#[test]
fn conditional_branches_and_cbz() {
    let mut s = sim(&[
        0x2800, // 0x200 cmp r0, #0
        0xd001, // 0x202 beq 0x208
        0x2101, // 0x204 movs r1, #1 (skipped)
        BKPT0,  // 0x206
        0xb108, // 0x208 cbz r0, 0x20e
        0x2102, // 0x20a movs r1, #2 (skipped)
        BKPT0,  // 0x20c
        0xb901, // 0x20e cbnz r1, 0x212 (not taken: r1 == 0)
        0x2203, // 0x210 movs r2, #3
        0xf000, 0xb801, // 0x212 b.w 0x218
        BKPT0,  // 0x216
        0xf43f, 0xaffc, // 0x218 beq.w 0x214 (not taken: movs cleared Z)
        0xf47f, 0xaffb, // 0x21c bne.w 0x216 (taken)
    ]);
    run_to_bkpt(&mut s);
    assert_eq!(s.reg(1), 0);
    assert_eq!(s.reg(2), 3);
    assert_eq!(s.pc(), CODE + 0x18, "stopped after the bkpt at 0x216");
}

#[test]
fn tbb_and_tbh_jump_tables() {
    // 0x200: tbb [pc, r0]; table at 0x204: [2, 3] -> targets 0x204 + 2*entry.
    let mut s = sim(&[
        0xe8df, 0xf000, // tbb [pc, r0]
        0x0302, // table bytes: 2, 3
        0x2101, // 0x206 movs r1, #1   (pad: entry 0 -> 0x208)
        0x2111, // 0x208 movs r1, #0x11
        BKPT0,  // 0x20a: entry 1 -> 0x20a
    ]);
    s.set_reg(0, 0);
    run_to_bkpt(&mut s);
    assert_eq!(s.reg(1), 0x11);
    let mut s = sim(&[
        0xe8df, 0xf010, // tbh [pc, r0, lsl #1]
        0x0003, 0x0002, // table halfwords: 3, 2
        0x2122, // 0x208 movs r1, #0x22 (entry 1 -> 0x208)
        BKPT0,  // 0x20a (entry 0)
    ]);
    s.set_reg(0, 1);
    s.set_reg(1, 5);
    run_to_bkpt(&mut s);
    assert_eq!(s.reg(1), 0x22);
}

#[test]
fn it_blocks_execute_conditionally_and_advance() {
    let code = [
        0x2801, // cmp r0, #1
        0xbf0c, // ite eq
        0x2101, // moveq r1, #1
        0x2102, // movne r1, #2
        0xbf15, // itete ne
        0x2201, // movne r2, #1
        0x2301, // moveq r3, #1
        0x2401, // movne r4, #1
        0x2501, // moveq r5, #1
        0x2607, // movs r6, #7 (outside: always, sets flags)
        BKPT0,
    ];
    let mut s = sim(&code);
    s.set_reg(0, 1);
    run_to_bkpt(&mut s);
    assert_eq!([s.reg(1), s.reg(2), s.reg(3), s.reg(4), s.reg(5), s.reg(6)], [1, 0, 1, 0, 1, 7]);
    let mut s = sim(&code);
    s.set_reg(0, 0);
    run_to_bkpt(&mut s);
    assert_eq!([s.reg(1), s.reg(2), s.reg(3), s.reg(4), s.reg(5)], [2, 1, 0, 1, 0]);
}

#[test]
fn sixteen_bit_alu_inside_it_does_not_set_flags() {
    let mut s = sim(&[
        0x4280, // cmp r0, r0 (Z=1, C=1)
        0xbf08, // it eq
        0x1c49, // addeq r1, r1, #1 (16-bit `adds` encoding: no flags inside IT)
        BKPT0,
    ]);
    s.set_reg(1, 0xffff_ffff);
    run_to_bkpt(&mut s);
    assert_eq!(s.reg(1), 0);
    let (n, z, c, v, _) = s.flags();
    assert_eq!((n, z, c, v), (false, true, true, false), "flags unchanged");
}

#[test]
fn branch_to_even_address_is_a_usage_fault() {
    let mut s = sim(&[
        0x4708, // bx r1
    ]);
    s.set_reg(1, CODE + 8);
    match s.run(10) {
        Err(SimError::HardFault { cfsr, pc, .. }) => {
            assert_ne!(cfsr & (1 << 17), 0, "INVSTATE");
            assert_eq!(pc, CODE);
        }
        other => panic!("{other:?}"),
    }
}

// ---- system registers --------------------------------------------------------------

#[test]
fn mrs_msr_apsr_and_masks() {
    let mut s = sim(&[
        0xf381, 0x8800, // msr apsr_nzcvq, r1
        0xf3ef, 0x8000, // mrs r0, apsr
        0xb672, // cpsid i
        0xf3ef, 0x8210, // mrs r2, primask
        0xb662, // cpsie i
        0xf3ef, 0x8310, // mrs r3, primask
        0xf384, 0x8811, // msr basepri, r4
        0xf3ef, 0x8511, // mrs r5, basepri
        BKPT0,
    ]);
    s.set_reg(1, 0xf800_0000);
    s.set_reg(4, 0x40);
    run_to_bkpt(&mut s);
    assert_eq!(s.reg(0), 0xf800_0000);
    assert_eq!((s.reg(2), s.reg(3)), (1, 0));
    assert_eq!(s.reg(5), 0x40);
}

#[test]
fn control_spsel_switches_to_psp() {
    let mut s = sim(&[
        0xf381, 0x8809, // msr psp, r1
        0xf382, 0x8814, // msr control, r2   (SPSEL = 1)
        0xb401, // push {r0}
        0xf3ef, 0x8308, // mrs r3, msp
        0xf3ef, 0x8409, // mrs r4, psp
        0xf3ef, 0x8514, // mrs r5, control
        BKPT0,
    ]);
    s.set_reg(0, 0x55);
    s.set_reg(1, RAM + 0x800);
    s.set_reg(2, 2);
    run_to_bkpt(&mut s);
    assert_eq!(s.reg(3), STACK_TOP);
    assert_eq!(s.reg(4), RAM + 0x7fc);
    assert_eq!(s.reg(5), 2);
    assert_eq!(ram_word(&s, RAM + 0x7fc), 0x55);
}

// ---- exceptions --------------------------------------------------------------------

const HANDLER: u32 = FLASH + 0x400;

#[test]
fn svc_entry_and_return() {
    let mut s = sim_with(
        CoreKind::CortexM4,
        &[
            0x2105, // movs r1, #5
            0xdf00, // svc #0
            0x3101, // adds r1, #1
            BKPT0,
        ],
        &[(11, HANDLER)],
    );
    // Handler: movs r0, #42; movs r1, #0 (r1 is stacked, restored on return); bx lr
    s.write_memory(HANDLER, &bytes(&[0x202a, 0x2100, 0x4770])).unwrap();
    run_to_bkpt(&mut s);
    assert_eq!(s.reg(0), 0, "r0 is restored from the frame");
    assert_eq!(s.reg(1), 6);
    assert_eq!(s.reg(13), STACK_TOP);
}

#[test]
fn svc_handler_sees_stacked_frame_and_exc_return() {
    let mut s = sim_with(
        CoreKind::CortexM4,
        &[
            0x2007, // movs r0, #7
            0xdf00, // svc #0
            BKPT0,
        ],
        &[(11, HANDLER)],
    );
    // Handler: mov r4, lr; ldr r5, [sp, #24] (stacked PC); mrs r6, ipsr; bx lr
    s.write_memory(HANDLER, &bytes(&[0x4674, 0x9d06, 0xf3ef, 0x8605, 0x4770])).unwrap();
    run_to_bkpt(&mut s);
    assert_eq!(s.reg(4), 0xFFFF_FFF9);
    assert_eq!(s.reg(5), CODE + 4);
    assert_eq!(s.reg(6), 11);
    assert_eq!(s.reg(0), 7);
}

#[test]
fn pendsv_pended_through_icsr_runs_immediately() {
    let mut s = sim_with(
        CoreKind::CortexM4,
        &[
            0x6008, // str r0, [r1] (ICSR = PENDSVSET)
            0x2201, // movs r2, #1
            BKPT0,
        ],
        &[(14, HANDLER)],
    );
    // movs r4, #99 (r4 is not part of the exception frame); bx lr
    s.write_memory(HANDLER, &bytes(&[0x2463, 0x4770])).unwrap();
    s.set_reg(0, 1 << 28);
    s.set_reg(1, periph::ICSR);
    run_to_bkpt(&mut s);
    assert_eq!((s.reg(2), s.reg(4)), (1, 99));
}

#[test]
fn systick_interrupts_wake_wfi() {
    // SysTick: RVR = 99, CVR = 0, CSR = ENABLE | TICKINT | CLKSOURCE.
    let mut s = sim_with(
        CoreKind::CortexM4,
        &[
            0x6048, // str r0, [r1, #4]  SYST_RVR
            0x608a, // str r2, [r1, #8]  SYST_CVR
            0x600b, // str r3, [r1]      SYST_CSR
            0xbf30, // 0x206: wfi
            0x2d03, // cmp r5, #3
            0xd3fb, // blo 0x206
            BKPT0,
        ],
        &[(15, HANDLER)],
    );
    s.write_memory(HANDLER, &bytes(&[0x3501, 0x4770])).unwrap(); // adds r5, #1; bx lr
    s.set_reg(0, 99);
    s.set_reg(1, periph::SYST_CSR);
    s.set_reg(2, 0);
    s.set_reg(3, 7);
    run_to_bkpt(&mut s);
    assert_eq!(s.reg(5), 3);
    assert!(s.cycles() >= 300, "three SysTick periods of 100 cycles elapsed: {}", s.cycles());
}

/// SysTick interrupts a loop of fast-form instructions every 150 cycles (the
/// loop runs as a block while the next tick is far enough, instruction by
/// instruction near it): the fast paths must take each interrupt at the same
/// instruction and cycle, and read the same SysTick counts, as the
/// reference path.
#[test]
fn systick_in_straight_line_code_matches_the_reference_path() {
    for core in [CoreKind::CortexM4, CoreKind::CortexM7] {
        let run = |fast: bool| {
            let mut s = sim_with(
                core,
                &[
                    0x6048, // str r0, [r1, #4]  SYST_RVR
                    0x608a, // str r2, [r1, #8]  SYST_CVR
                    0x600b, // str r3, [r1]      SYST_CSR
                    0x3601, // 0x206: adds r6, #1
                    0x688c, // ldr r4, [r1, #8]  SYST_CVR: the exact cycle inside the block
                    0x4067, // eors r7, r4
                    0x2ec8, // cmp r6, #200
                    0xd1fa, // bne 0x206
                    BKPT0,
                ],
                &[(15, HANDLER)],
            );
            s.write_memory(HANDLER, &bytes(&[0x3501, 0x4770])).unwrap(); // adds r5, #1; bx lr
            s.set_fast_paths(fast);
            s.set_reg(0, 149);
            s.set_reg(1, periph::SYST_CSR);
            s.set_reg(2, 0);
            s.set_reg(3, 7);
            run_to_bkpt(&mut s);
            let stats = s.stats();
            ((s.reg(5), s.reg(6), s.reg(7)), stats.cycles, stats.instructions, stats.histogram, stats.exceptions)
        };
        let reference = run(false);
        assert!(reference.0.0 >= 3, "{core:?}: SysTick fired ({} times)", reference.0.0);
        assert_eq!(run(true), reference, "{core:?}");
    }
}

/// Loops with IT groups, compared with the reference path on both cores
/// (every register, flag, cycle and count):
/// 1. an IT group that runs inside a block (a 32-bit EOR) and one that ends
///    the block (a 16-bit ADD, which sets no flags inside IT);
/// 2. an ITE whose then-instruction feeds the address of a load after the
///    group: the Cortex-M4 AGU stall applies only when it ran, so the
///    instructions of a group and the one after it are timed at run time.
#[test]
fn it_groups_in_blocks_match_the_reference_path() {
    let programs: [&[u16]; 2] = [
        &[
            0x2364, // movs r3, #100
            0xea5f, 0x0958, // 0x202: lsrs.w r9, r8, #1
            0xbf28, // it hs
            0xea89, 0x090a, // eorhs.w r9, r9, r10
            0xeb09, 0x08f8, // add.w r8, r9, r8, ror #3
            0xbf38, // it lo
            0x3401, // addlo r4, #1 (no flags inside IT)
            0x3b01, // subs r3, #1
            0xd1f4, // bne 0x202
            BKPT0,
        ],
        &[
            0x2364, // movs r3, #100
            0xf013, 0x0f01, // 0x202: tst.w r3, #1
            0xbf0c, // ite eq
            0xf101, 0x0104, // addeq.w r1, r1, #4
            0xf8d1, 0x0000, // ldrne.w r0, [r1]
            0x680a, // ldr r2, [r1]  (address from the ADD when it ran)
            0x3b01, // subs r3, #1
            0xd1f5, // bne 0x202
            BKPT0,
        ],
    ];
    for (i, program) in programs.iter().enumerate() {
        for core in [CoreKind::CortexM4, CoreKind::CortexM7] {
            let run = |fast: bool| {
                let mut s = sim_with(core, program, &[]);
                s.set_fast_paths(fast);
                s.set_reg(1, RAM);
                s.set_reg(8, 0x1234_5679);
                s.set_reg(10, 0xedb8_8320);
                run_to_bkpt(&mut s);
                let stats = s.stats();
                let regs: Vec<u32> = (0..13).map(|r| s.reg(r)).collect();
                (regs, s.flags(), stats.cycles, stats.instructions, stats.histogram)
            };
            let reference = run(false);
            assert_eq!(run(true), reference, "program {i} on {core:?}");
        }
    }
}

#[test]
fn fault_with_default_handler_reports_hardfault() {
    let mut s = sim(&[
        0xbf00, // nop
        0xe9d1, 0x2301, // ldrd r2, r3, [r1, #4]  (unaligned)
    ]);
    s.set_reg(1, RAM + 2);
    s.symbols = Symbols::new(vec![(CODE, 6, "kernel".into())]);
    match s.run(100) {
        Err(e @ SimError::HardFault { .. }) => {
            let SimError::HardFault { cfsr, hfsr, pc, symbol, .. } = &e else { unreachable!() };
            assert_ne!(cfsr & (1 << 24), 0, "UNALIGNED");
            assert_ne!(hfsr & (1 << 30), 0, "FORCED");
            assert_eq!(*pc, CODE + 2);
            assert_eq!(symbol, "kernel+0x2");
            let msg = e.to_string();
            assert!(msg.contains("e9d12301") && msg.contains("ldrd r2, r3, [r1, #4]"), "{msg}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn fault_with_real_handler_enters_it() {
    let mut s = sim_with(
        CoreKind::CortexM4,
        &[
            0xe9d1, 0x2301, // ldrd r2, r3, [r1, #4]
        ],
        &[(3, HANDLER)],
    );
    // Handler: ldr r0, [sp, #24] (stacked PC); bkpt #1
    s.write_memory(HANDLER, &bytes(&[0x9806, 0xbe01])).unwrap();
    s.set_reg(1, RAM + 2);
    assert_eq!(s.run(100).unwrap(), StopReason::Breakpoint { imm: 1, pc: HANDLER + 2 });
    assert_eq!(s.reg(0), CODE, "stacked PC is the faulting instruction");
}

#[test]
fn handler_that_spins_later_is_reported() {
    // A HardFault handler that does some work (a store) and then loops.
    let mut s = sim_with(CoreKind::CortexM4, &[0x4708], &[(3, HANDLER)]); // bx r1 (even)
    s.write_memory(HANDLER, &bytes(&[0x6010, 0xe7fe])).unwrap(); // str r0, [r2]; b .
    s.set_reg(1, CODE);
    s.set_reg(2, RAM);
    assert!(matches!(s.run(1000), Err(SimError::HardFault { pc, .. }) if pc == CODE));
}

#[test]
fn bad_exc_return_is_reported() {
    let mut s = sim_with(CoreKind::CortexM4, &[0xdf00, BKPT0], &[(11, HANDLER)]);
    // Handler: ldr r0, =0xFFFFFFF5 via mvn r0, #10; bx r0
    s.write_memory(HANDLER, &bytes(&[0xf06f, 0x000a, 0x4700])).unwrap();
    match s.run(100) {
        Err(SimError::HardFault { cfsr, .. }) => assert_ne!(cfsr & (1 << 18), 0, "INVPC"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn nvic_interrupt_pended_by_software() {
    // ISER0 = 1 (enable IRQ0), ISPR0 = 1 (pend it): handler at vector 16 runs at once.
    let mut s = sim_with(
        CoreKind::CortexM4,
        &[
            0x6008, // str r0, [r1]  NVIC_ISER0
            0xf8c1, 0x0100, // str.w r0, [r1, #256]  NVIC_ISPR0
            0x2201, // movs r2, #1
            BKPT0,
        ],
        &[(16, HANDLER)],
    );
    s.write_memory(HANDLER, &bytes(&[0x2463, 0x4770])).unwrap(); // movs r4, #99; bx lr
    s.set_reg(0, 1);
    s.set_reg(1, periph::NVIC_ISER);
    run_to_bkpt(&mut s);
    assert_eq!((s.reg(2), s.reg(4)), (1, 99));
}

#[test]
fn primask_defers_pending_exception() {
    let mut s = sim_with(
        CoreKind::CortexM4,
        &[
            0xb672, // cpsid i
            0x6008, // str r0, [r1]  ICSR.PENDSVSET
            0x2463, // movs r4, #99   (runs before the handler)
            0xb662, // cpsie i        (PendSV taken here)
            BKPT0,
        ],
        &[(14, HANDLER)],
    );
    s.write_memory(HANDLER, &bytes(&[0x2405, 0x4770])).unwrap(); // movs r4, #5; bx lr
    s.set_reg(0, 1 << 28);
    s.set_reg(1, periph::ICSR);
    run_to_bkpt(&mut s);
    assert_eq!(s.reg(4), 5, "handler ran after cpsie");
}

#[test]
fn fp_context_is_stacked_when_fpca_set() {
    let mut s = sim_with(
        CoreKind::CortexM4,
        &[
            0xee00, 0x0a10, // vmov s0, r0   (sets CONTROL.FPCA)
            0xf3ef, 0x8714, // mrs r7, control
            0xdf00, // svc #0
            0xee10, 0x6a10, // vmov r6, s0
            BKPT0,
        ],
        &[(11, HANDLER)],
    );
    // Handler: mov r4, lr; vmov.f32 s0, #1.0; vmov r5, s0; bx lr
    s.write_memory(HANDLER, &bytes(&[0x4674, 0xeeb7, 0x0a00, 0xee10, 0x5a10, 0x4770])).unwrap();
    s.scs.cpacr = 0xf << 20;
    s.set_reg(0, 0x1234_5678);
    run_to_bkpt(&mut s);
    assert_eq!(s.reg(7) & 4, 4, "FPCA");
    assert_eq!(s.reg(4), 0xFFFF_FFE9, "EXC_RETURN with FP frame");
    assert_eq!(s.reg(5), 1.0f32.to_bits());
    assert_eq!(s.reg(6), 0x1234_5678, "S0 restored from the extended frame");
    assert_eq!(s.reg(13), STACK_TOP);
}

#[test]
fn double_precision_on_m7() {
    let mut s = sim_with(
        CoreKind::CortexM7,
        &[
            0xec41, 0x0b11, // vmov d1, r0, r1
            0xec43, 0x2b12, // vmov d2, r2, r3
            0xee31, 0x0b02, // vadd.f64 d0, d1, d2
            0xec51, 0x0b10, // vmov r0, r1, d0
            BKPT0,
        ],
        &[],
    );
    s.scs.cpacr = 0xf << 20;
    let (a, b) = (1.25f64.to_bits(), 2.5f64.to_bits());
    s.set_reg(0, a as u32);
    s.set_reg(1, (a >> 32) as u32);
    s.set_reg(2, b as u32);
    s.set_reg(3, (b >> 32) as u32);
    run_to_bkpt(&mut s);
    assert_eq!(f64::from_bits(((s.reg(1) as u64) << 32) | s.reg(0) as u64), 3.75);
}

// ---- semihosting -------------------------------------------------------------------

#[test]
fn semihosting_write0_and_exit() {
    let mut s = sim(&[
        0x2004, // movs r0, #4 (SYS_WRITE0)
        0xbeab, // bkpt #0xab
        0x2018, // movs r0, #0x18 (SYS_EXIT)
        0x4611, // mov r1, r2
        0xbeab, // bkpt #0xab
    ]);
    s.write_memory(RAM, b"hi\n\0").unwrap();
    s.set_reg(1, RAM);
    s.set_reg(2, 0x20026);
    assert_eq!(s.run(100).unwrap(), StopReason::Exited { code: 0 });
    assert_eq!(s.take_semihosting_output(), b"hi\n");
    assert!(s.take_semihosting_output().is_empty());
}

#[test]
fn semihosting_exit_failure_and_extended() {
    let mut s = sim(&[0x2018, 0xbeab]); // movs r0, #0x18; bkpt #0xab
    s.set_reg(1, 0x20023); // ADP_Stopped_RunTimeErrorUnknown
    assert_eq!(s.run(10).unwrap(), StopReason::Exited { code: 1 });
    let mut s = sim(&[0x2020, 0xbeab]); // movs r0, #0x20; bkpt #0xab
    s.write_memory(RAM, &[0x26, 0x00, 0x02, 0x00, 3, 0, 0, 0]).unwrap();
    s.set_reg(1, RAM);
    assert_eq!(s.run(10).unwrap(), StopReason::Exited { code: 3 });
}

#[test]
fn semihosting_open_tt_write_and_features() {
    let mut s = sim(&[
        0x2001, // movs r0, #1 (SYS_OPEN ":tt", mode 4)
        0xbeab, 0x6108, // str r0, [r1, #16] -> write block handle
        0x2005, // movs r0, #5 (SYS_WRITE)
        0xf101, 0x0110, // add.w r1, r1, #16
        0xbeab, 0x4605, // mov r5, r0 (bytes not written)
        0x2001, // movs r0, #1 (SYS_OPEN ":semihosting-features")
        0x4611, // mov r1, r2
        0xbeab, 0x6198, // str r0, [r3, #24]
        0x2006, // movs r0, #6 (SYS_READ)
        0xf103, 0x0118, // add.w r1, r3, #24
        0xbeab, 0x4606, // mov r6, r0
        BKPT0,
    ]);
    let base = RAM + 0x100;
    // Open block at base: [name, mode 4, len 3]; write block at base+16: [h, buf, 2].
    let mut mem = Vec::new();
    for w in [RAM, 4, 3, 0, 0, RAM + 0x40, 2, 0] {
        mem.extend_from_slice(&u32::to_le_bytes(w));
    }
    s.write_memory(base, &mem).unwrap();
    s.write_memory(RAM, b":tt\0").unwrap();
    s.write_memory(RAM + 0x40, b"ok").unwrap();
    // Features open block at base+0x40: [name, 0, 21]; read block at base+0x58: [h, buf, 8].
    let mut mem = Vec::new();
    for w in [RAM + 0x20, 0, 21, 0, 0, 0, 0, RAM + 0x80, 8] {
        mem.extend_from_slice(&u32::to_le_bytes(w));
    }
    s.write_memory(base + 0x40, &mem).unwrap();
    s.write_memory(RAM + 0x20, b":semihosting-features").unwrap();
    s.set_reg(1, base);
    s.set_reg(2, base + 0x40);
    s.set_reg(3, base + 0x40);
    run_to_bkpt(&mut s);
    assert_eq!(s.take_semihosting_output(), b"ok");
    assert_eq!(s.reg(5), 0);
    assert_eq!(s.reg(6), 3, "5 of 8 bytes read");
    let mut f = [0u8; 5];
    s.read_memory(RAM + 0x80, &mut f).unwrap();
    assert_eq!(&f, b"SHFB\x03");
}

#[test]
fn semihosting_clock_and_tickfreq_use_simulated_time() {
    let mut s = sim(&[0x2031, 0xbeab, BKPT0]); // movs r0, #0x31 (SYS_TICKFREQ); bkpt #0xab
    run_to_bkpt(&mut s);
    assert_eq!(s.reg(0), 100_000_000);
}

#[test]
fn semihosting_heapinfo_and_elapsed() {
    let mut s = sim(&[
        0x2016, // movs r0, #0x16 (SYS_HEAPINFO)
        0xbeab, // bkpt #0xab
        0x2030, // movs r0, #0x30 (SYS_ELAPSED)
        0x4611, // mov r1, r2
        0xbeab, // bkpt #0xab
        BKPT0,
    ]);
    s.write_memory(RAM, &(RAM + 0x10).to_le_bytes()).unwrap();
    s.set_reg(1, RAM);
    s.set_reg(2, RAM + 0x40);
    run_to_bkpt(&mut s);
    let info: Vec<u32> = (0..4).map(|i| ram_word(&s, RAM + 0x10 + 4 * i)).collect();
    assert_eq!(info[2], STACK_TOP, "stack base = initial SP");
    assert!(info[0] < info[1] && info[1] <= info[2], "{info:x?}");
    assert!(ram_word(&s, RAM + 0x40) > 0, "elapsed ticks");
}

/// A minimal ELF32 (ARM, EXEC) with one PT_LOAD segment and no sections.
fn mini_elf(paddr: u32, data: &[u8]) -> Vec<u8> {
    let mut e = vec![0x7f, b'E', b'L', b'F', 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let h16 = |e: &mut Vec<u8>, v: u16| e.extend_from_slice(&v.to_le_bytes());
    let h32 = |e: &mut Vec<u8>, v: u32| e.extend_from_slice(&v.to_le_bytes());
    h16(&mut e, 2); // ET_EXEC
    h16(&mut e, 40); // EM_ARM
    h32(&mut e, 1);
    h32(&mut e, paddr + 0x201); // e_entry
    h32(&mut e, 52); // e_phoff
    h32(&mut e, 0); // e_shoff
    h32(&mut e, 0x0500_0400); // EABI5, hard float
    for v in [52u16, 32, 1, 40, 0, 0] {
        h16(&mut e, v);
    }
    for v in [1u32, 84, paddr, paddr, data.len() as u32, data.len() as u32, 5, 4] {
        h32(&mut e, v);
    }
    e.extend_from_slice(data);
    e
}

#[test]
fn load_elf_writes_segments_and_resets() {
    let mut image = vec![0u8; 0x204];
    image[0..4].copy_from_slice(&STACK_TOP.to_le_bytes());
    image[4..8].copy_from_slice(&(CODE | 1).to_le_bytes());
    image[0x200..0x204].copy_from_slice(&bytes(&[0x2018, 0xbeab])); // movs r0, #0x18; bkpt #0xab
    let mut s = Simulator::new(config(CoreKind::CortexM4)).unwrap();
    let img = s.load_elf(&mini_elf(FLASH, &image)).unwrap();
    assert_eq!(img, LoadedImage { entry: CODE, initial_sp: STACK_TOP, segments: vec![(FLASH, 0x204)] });
    s.set_reg(1, 0x20026);
    assert_eq!(s.run(10).unwrap(), StopReason::Exited { code: 0 });
    // A segment outside every region is named in the error.
    let mut s = Simulator::new(config(CoreKind::CortexM4)).unwrap();
    match s.load_elf(&mini_elf(0x6000_0000, &image)) {
        Err(e @ SimError::OutsideMemoryMap { start: 0x6000_0000, end: 0x6000_0204, .. }) => {
            let text = e.to_string();
            assert!(text.starts_with("the ELF was linked for another memory map: segment 0"), "{text}");
            assert!(text.contains("flash 0x08000000..0x08010000, ram 0x20000000..0x20010000"), "{text}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_elf_linked_for_a_bigger_ram_is_named() {
    // Linked for 128 KiB of RAM; the board has 64 KiB: the stack top is unmapped.
    let mut image = vec![0u8; 0x204];
    image[0..4].copy_from_slice(&(RAM + 0x2_0000).to_le_bytes());
    image[4..8].copy_from_slice(&(CODE | 1).to_le_bytes());
    let mut s = Simulator::new(config(CoreKind::CortexM4)).unwrap();
    match s.load_elf(&mini_elf(FLASH, &image)) {
        Err(e @ SimError::OutsideMemoryMap { start: 0x2001_fffc, .. }) => {
            assert!(e.to_string().contains("the initial stack pointer"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    // A .bss-like segment (nothing in the file) beyond the RAM.
    let mut image = vec![0u8; 0x204];
    image[0..4].copy_from_slice(&STACK_TOP.to_le_bytes());
    image[4..8].copy_from_slice(&(CODE | 1).to_le_bytes());
    let mut elf = mini_elf(FLASH, &image);
    // Second program header: PT_LOAD, no file bytes, 0x100 bytes at RAM + 64 KiB.
    let bss = [1u32, 0, RAM + 0x1_0000, RAM + 0x1_0000, 0, 0x100, 6, 4];
    let phnum_at = 44;
    elf[phnum_at..phnum_at + 2].copy_from_slice(&2u16.to_le_bytes());
    let second: Vec<u8> = bss.iter().flat_map(|v| v.to_le_bytes()).collect();
    elf.splice(84..84, second);
    // The first segment's file offset moves by the inserted header.
    elf[56..60].copy_from_slice(&(84u32 + 32).to_le_bytes());
    let mut s = Simulator::new(config(CoreKind::CortexM4)).unwrap();
    match s.load_elf(&elf) {
        Err(e @ SimError::OutsideMemoryMap { start: 0x2001_0000, end: 0x2001_0100, .. }) => {
            assert!(e.to_string().contains("segment 1 (run-time addresses)"), "{e}");
        }
        other => panic!("{other:?}"),
    }
}

// ---- DWT / SysTick registers through the bus ----------------------------------------

/// Enables TRCENA + CYCCNTENA (after LAR unlock when r6 holds the key), then reads
/// CYCCNT around 4 NOPs.
const DWT_PROGRAM: [u16; 14] = [
    0x6006, // str r6, [r0]       DWT_LAR (r0 = 0xE0001FB0)
    0x600a, // str r2, [r1]       DEMCR = TRCENA (r1 = 0xE000EDFC)
    0x601c, // str r4, [r3]       DWT_CTRL = 1 (r3 = 0xE0001000)
    0x685d, // ldr r5, [r3, #4]   CYCCNT
    0xbf00, 0xbf00, 0xbf00, 0xbf00, // nop x4
    0x685f, // ldr r7, [r3, #4]   CYCCNT
    BKPT0, 0, 0, 0, 0,
];

fn dwt_sim(core: CoreKind, key: u32) -> Simulator {
    let mut s = sim_with(core, &DWT_PROGRAM, &[]);
    s.set_reg(0, periph::DWT_LAR);
    s.set_reg(1, periph::DEMCR);
    s.set_reg(2, periph::DEMCR_TRCENA);
    s.set_reg(3, periph::DWT_CTRL);
    s.set_reg(4, 1);
    s.set_reg(6, key);
    run_to_bkpt(&mut s);
    s
}

#[test]
fn dwt_cyccnt_counts_simulated_cycles_on_m4() {
    let s = dwt_sim(CoreKind::CortexM4, 0);
    // ldr (2, then the next ldr pipelines: the NOPs break it) + 4 nops = 2 + 4.
    assert_eq!(s.reg(7).wrapping_sub(s.reg(5)), 6);
}

#[test]
fn dwt_on_m7_needs_lar_unlock() {
    let s = dwt_sim(CoreKind::CortexM7, 0);
    assert_eq!((s.reg(5), s.reg(7)), (0, 0), "locked: CYCCNTENA write ignored");
    let s = dwt_sim(CoreKind::CortexM7, periph::LAR_KEY);
    assert!(s.reg(7) > s.reg(5));
}

#[test]
fn unmodelled_scs_and_cpuid() {
    let mut s = sim(&[
        0x6008, // str r0, [r1]
        0x680a, // ldr r2, [r1]
        0x681c, // ldr r4, [r3]
        BKPT0,
    ]);
    s.set_reg(0, 0xabcd);
    s.set_reg(1, 0xE000_E4F0);
    s.set_reg(3, periph::CPUID);
    run_to_bkpt(&mut s);
    assert_eq!(s.reg(2), 0xabcd);
    assert_eq!(s.reg(4), 0x410F_C241);
}

// ---- FP ------------------------------------------------------------------------------

#[test]
fn fp_requires_cpacr_then_computes() {
    let code = [
        0xed91, 0x0a00, // vldr s0, [r1]
        0xed91, 0x1a01, // vldr s2, [r1, #4]
        0xee30, 0x0a01, // vadd.f32 s0, s0, s2
        0xee20, 0x0a01, // vmul.f32 s0, s0, s2
        0xee10, 0x0a10, // vmov r0, s0
        0xeeb4, 0x0ac1, // vcmpe.f32 s0, s2
        0xeef1, 0xfa10, // vmrs APSR_nzcv, fpscr
        0xeebd, 0x1ac0, // vcvt.s32.f32 s2, s0
        0xee11, 0x2a10, // vmov r2, s2
        BKPT0,
    ];
    let mut s = sim(&code);
    s.write_memory(RAM, &[1.5f32.to_le_bytes(), 2.0f32.to_le_bytes()].concat()).unwrap();
    s.set_reg(1, RAM);
    assert!(matches!(s.run(10), Err(SimError::HardFault { cfsr, .. }) if cfsr & (1 << 19) != 0), "NOCP");
    let mut s = sim(&code);
    s.write_memory(RAM, &[1.5f32.to_le_bytes(), 2.0f32.to_le_bytes()].concat()).unwrap();
    s.set_reg(1, RAM);
    s.scs.cpacr = 0xf << 20;
    run_to_bkpt(&mut s);
    assert_eq!(f32::from_bits(s.reg(0)), 7.0);
    let (n, z, c, v, _) = s.flags();
    assert_eq!((n, z, c, v), (false, false, true, false), "7.0 > 2.0");
    assert_eq!(s.reg(2), 7);
}

#[test]
fn vpush_vpop_and_double_moves() {
    let mut s = sim(&[
        0xec43, 0x2b18, // vmov d8, r2, r3
        0xed2d, 0x8b02, // vpush {d8}
        0xeeb7, 0x8a00, // vmov.f32 s16, #1.0
        0xecbd, 0x8b02, // vpop {d8}
        0xec51, 0x0b18, // vmov r0, r1, d8
        BKPT0,
    ]);
    s.scs.cpacr = 0xf << 20;
    s.set_reg(2, 0x1111);
    s.set_reg(3, 0x2222);
    run_to_bkpt(&mut s);
    assert_eq!((s.reg(0), s.reg(1)), (0x1111, 0x2222));
    assert_eq!(s.reg(13), STACK_TOP);
}

#[test]
fn double_precision_arithmetic_is_undefined_on_m4() {
    let mut s = sim(&[0xee31, 0x0b02]); // vadd.f64 d0, d1, d2
    s.scs.cpacr = 0xf << 20;
    assert!(matches!(s.run(1), Err(SimError::Undefined { .. })));
}

// ---- errors --------------------------------------------------------------------------

#[test]
fn unmapped_access_names_pc_symbol_and_insn() {
    let mut s = sim(&[
        0xbf00, // nop
        0x6808, // ldr r0, [r1]
    ]);
    s.set_reg(1, 0x4000_0000);
    s.symbols = Symbols::new(vec![(CODE, 4, "read_sensor".into())]);
    match s.run(10) {
        Err(e @ SimError::Unmapped { .. }) => {
            let SimError::Unmapped { addr, size, access, loc } = &e else { unreachable!() };
            assert_eq!((*addr, *size, *access), (0x4000_0000, 4, "read"));
            assert_eq!(loc.pc, CODE + 2);
            assert_eq!(loc.symbol, "read_sensor+0x2");
            assert_eq!(loc.word, Some(0x6808));
            let msg = e.to_string();
            assert!(msg.contains("0x40000000") && msg.contains("read_sensor+0x2") && msg.contains("6808"), "{msg}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn undefined_instruction_error() {
    let mut s = sim(&[0xde00]); // udf #0
    match s.run(10) {
        Err(SimError::Undefined { loc }) => {
            assert_eq!(loc.pc, CODE);
            assert_eq!(loc.word, Some(0xde00));
            assert_eq!(loc.disasm, "udf #0");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn flash_write_error() {
    let mut s = sim(&[0x6008]); // str r0, [r1]
    s.set_reg(1, FLASH + 0x1000);
    assert!(matches!(s.run(1), Err(SimError::FlashWrite { addr, .. }) if addr == FLASH + 0x1000));
}

#[test]
fn fetch_from_unmapped_memory() {
    let mut s = sim(&[0x4708]); // bx r1
    s.set_reg(1, 0x3000_0001);
    assert!(matches!(s.run(5), Err(SimError::Unmapped { access: "instruction fetch", .. })));
}

#[test]
fn config_validation() {
    let mut c = config(CoreKind::CortexM4);
    c.regions[1].start = FLASH + 0x100;
    assert!(matches!(Simulator::new(c), Err(SimError::InvalidConfig { .. })));
    let mut c = config(CoreKind::CortexM4);
    c.regions[1].size = 0;
    assert!(matches!(Simulator::new(c), Err(SimError::InvalidConfig { .. })));
    let mut s = Simulator::new(config(CoreKind::CortexM4)).unwrap();
    assert!(matches!(s.reset(), Err(SimError::BadVectorTable { .. })), "reset vector 0 has no Thumb bit");
    assert!(matches!(s.load_elf(b"not an elf"), Err(SimError::Elf { .. })));
    let mut b = [0u8; 4];
    assert!(matches!(s.read_memory(0x1000_0000, &mut b), Err(SimError::DebugAccess { .. })));
}

#[test]
fn hot_path_types_stay_small_and_send() {
    fn assert_send<T: Send>() {}
    assert_send::<Simulator>();
    // Insn (12) + the fast form (8) + prepared timing facts (8) + length and class.
    assert!(std::mem::size_of::<memory::Decoded>() <= 32, "decode cache entry grew");
}

#[test]
fn stats_histogram_and_counts() {
    let mut s = sim(&[0x2001, 0x6008, 0xe000, 0xbf00, BKPT0]); // movs; str; b +0; (skipped nop); bkpt
    s.set_reg(1, RAM);
    run_to_bkpt(&mut s);
    let st = s.stats();
    assert_eq!(st.instructions, 4);
    assert_eq!(st.histogram.get("alu"), Some(&1));
    assert_eq!(st.histogram.get("store"), Some(&1));
    assert_eq!(st.histogram.get("branch"), Some(&1));
    assert_eq!(st.cycles, s.cycles());
}

// ---- timing ----------------------------------------------------------------------------

fn cycles_of(code: &[u16], setup: impl Fn(&mut Simulator)) -> u64 {
    let mut full = code.to_vec();
    full.push(BKPT0);
    let mut s = sim(&full);
    setup(&mut s);
    run_to_bkpt(&mut s);
    s.cycles() - 1 // minus the BKPT
}

fn ram_ptrs(s: &mut Simulator) {
    for r in 0..8 {
        s.set_reg(r, RAM + 0x100 * r as u32);
    }
}

#[test]
fn timing_ldr_pipelining() {
    // LDR r0,[r1]; LDR r1,[r2] -> 3 cycles ([D]).
    assert_eq!(cycles_of(&[0x6808, 0x6811], ram_ptrs), 3);
    let small_offsets = |s: &mut Simulator| {
        ram_ptrs(s);
        s.set_reg(2, 8);
        s.set_reg(5, 8);
    };
    // LDR r0,[r1,r2]; STR r0,[r3,#20] -> 3 cycles ([D]).
    assert_eq!(cycles_of(&[0x5888, 0x6158], small_offsets), 3);
    // LDR r0,[r1,r5]; LDR r1,[r2]; LDR r2,[r3,#4] -> 4 cycles ([D]).
    assert_eq!(
        cycles_of(&[0x5948, 0x6811, 0x685a], |s| {
            ram_ptrs(s);
            s.set_reg(5, 8);
        }),
        4
    );
    // LDR r0,[r1]; LDR r2,[r0]: the address depends on the load -> 2 + 2.
    assert_eq!(
        cycles_of(&[0x6808, 0x6802], |s| {
            ram_ptrs(s);
            s.write_memory(RAM + 0x100, &(RAM + 0x200).to_le_bytes()).unwrap();
        }),
        4
    );
    // LDR; LDR; ADD -> 2 + 1 + 1.
    assert_eq!(cycles_of(&[0x6808, 0x6811, 0x1840], ram_ptrs), 4);
}

#[test]
fn timing_agu_stall_after_alu() {
    // adds r1, #4; ldr r0, [r1] -> 1 + (2 + 1 AGU stall).
    assert_eq!(cycles_of(&[0x3104, 0x6808], ram_ptrs), 4);
}

#[test]
fn timing_branches_and_multiple() {
    // b +0 (taken) = 1 + P = 3.
    assert_eq!(cycles_of(&[0xe7ff], |_| {}), 3);
    // cmp r0, r0; bne (not taken) = 1 + 1.
    assert_eq!(cycles_of(&[0x4280, 0xd100], |_| {}), 2);
    // push {r4, lr} = 1 + 2; pop {r4, r5} = 1 + 2.
    assert_eq!(cycles_of(&[0xb510, 0xbc30], |_| {}), 6);
    // ldrd = 3.
    assert_eq!(cycles_of(&[0xe9d1, 0x2302], ram_ptrs), 3);
    // IT is folded (0) and a skipped instruction costs 1.
    assert_eq!(cycles_of(&[0x4280, 0xbf18, 0x2001], |_| {}), 2);
}

#[test]
fn timing_division_early_termination() {
    // udiv r0, r1, r2 with a small and a large quotient.
    let small = cycles_of(&[0xfbb1, 0xf0f2], |s| {
        s.set_reg(1, 10);
        s.set_reg(2, 5);
    });
    let large = cycles_of(&[0xfbb1, 0xf0f2], |s| {
        s.set_reg(1, 0xffff_ffff);
        s.set_reg(2, 1);
    });
    assert_eq!(small, 2);
    assert_eq!(large, 12);
}

#[test]
fn timing_model_is_a_standalone_visitor() {
    let mut m = timing::CortexM4::default();
    let ctx = TimingCtx { executed: true, taken: false, quotient: 0, prepared: 0 };
    let (l1, _) = decode::decode(0x6808, 0); // ldr r0, [r1]
    let (l2, _) = decode::decode(0x6811, 0); // ldr r1, [r2]
    assert_eq!(m.cycles(&l1, &ctx) + m.cycles(&l2, &ctx), 3);
}

// ---- disassembly snapshots ---------------------------------------------------------------

#[test]
fn disassembly_snapshots() {
    let table: &[(&[u16], &str)] = &[
        (&[0x1c48], "adds r0, r1, #1"),
        (&[0xf8d1, 0x0004], "ldr r0, [r1, #4]"),
        (&[0xf851, 0x0f04], "ldr r0, [r1, #4]!"),
        (&[0xf851, 0x0b04], "ldr r0, [r1], #4"),
        (&[0xe9d1, 0x2302], "ldrd r2, r3, [r1, #8]"),
        (&[0xb510], "push {r4, lr}"),
        (&[0xe8bd, 0x8ff0], "pop {r4, r5, r6, r7, r8, r9, r10, r11, pc}"),
        (&[0xf04f, 0x30ff], "mov r0, #4294967295"),
        (&[0xea41, 0x1002], "orr r0, r1, r2, lsl #4"),
        (&[0xfb82, 0x0103], "smull r0, r1, r2, r3"),
        (&[0xfb91, 0xf0f2], "sdiv r0, r1, r2"),
        (&[0xf361, 0x200b], "bfi r0, r1, #8, #4"),
        (&[0xfa0f, 0xf091], "sxth r0, r1, ror #8"),
        (&[0xf301, 0x0007], "ssat r0, #8, r1"),
        (&[0xfb21, 0x3002], "smlad r0, r1, r2, r3"),
        (&[0xfa91, 0xf002], "sadd16 r0, r1, r2"),
        (&[0xbf0c], "ite eq"),
        (&[0xbf15], "itete ne"),
        (&[0xe8df, 0xf000], "tbb [pc, r0]"),
        (&[0xf3ef, 0x8010], "mrs r0, primask"),
        (&[0xf381, 0x8814], "msr control, r1"),
        (&[0xb672], "cpsid i"),
        (&[0xf3bf, 0x8f5f], "dmb sy"),
        (&[0xbeab], "bkpt #0xab"),
        (&[0xdf00], "svc #0"),
        (&[0xed2d, 0x8a02], "vpush {s16-s17}"),
        (&[0xee30, 0x0a81], "vadd.f32 s0, s1, s2"),
        (&[0xeeb7, 0x0a00], "vmov.f32 s0, #1.0"),
        (&[0xeef1, 0xfa10], "vmrs APSR_nzcv, fpscr"),
        (&[0xde00], "udf #0"),
    ];
    for (hw, want) in table {
        let (insn, _) = decode::decode(hw[0], hw.get(1).copied().unwrap_or(0));
        assert_eq!(insn.to_string(), *want, "{hw:04x?}");
    }
    // Branch targets are absolute when the address is known.
    let (b, _) = decode::decode(0xe7fe, 0);
    assert_eq!(disasm::disassemble(&b, 0x0800_0200), "b 0x8000200");
    let (bl, _) = decode::decode(0xf000, 0xf804);
    assert_eq!(disasm::disassemble(&bl, 0x100), "bl 0x10c");
}

// ---- robustness ----------------------------------------------------------------------------

mod prop {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]

        /// Any 32-bit word decodes (and disassembles) without panicking.
        #[test]
        fn decode_never_panics(word in any::<u32>()) {
            let (insn, len) = decode::decode_word(word);
            prop_assert!(len == 2 || len == 4);
            let _ = insn.to_string();
            let _ = insn.class();
        }

        /// Random words at a random PC run to a structured result, never a panic.
        #[test]
        fn random_words_never_panic(words in proptest::collection::vec(any::<u32>(), 1..8), off in 0u32..64) {
            let mut s = sim(&[]);
            let pc = CODE + off * 2;
            let mut b = Vec::new();
            for w in &words { b.extend_from_slice(&w.to_le_bytes()); }
            s.write_memory(pc, &b).unwrap();
            s.set_reg(15, pc);
            for r in 0..13 { s.set_reg(r, words[r % words.len()]); }
            let _ = s.run(64);
        }

        /// Random FP data-processing words (0xEExx / FPv5 0xFExx, cp10/cp11) with random
        /// FP registers and FPSCR (every RMode/FZ/DN/AHP) on both cores: no panic.
        #[test]
        fn random_fp_ops_never_panic(
            words in proptest::collection::vec((any::<u16>(), any::<u16>()), 1..8),
            regs in proptest::collection::vec(any::<u32>(), 32),
            fpscr in any::<u32>(),
            m7 in any::<bool>(),
        ) {
            let core = if m7 { CoreKind::CortexM7 } else { CoreKind::CortexM4 };
            let mut code = vec![];
            for (a, b) in &words {
                code.push(if a & 1 != 0 { 0xfe00 } else { 0xee00 } | (a >> 8));
                code.push((b & !0x0e00) | 0x0a00);
            }
            code.push(BKPT0);
            let mut s = sim_with(core, &code, &[]);
            s.scs.cpacr = 0xf << 20;
            s.fpscr = fpscr & 0xF7C0_009F;
            s.s.copy_from_slice(&regs);
            let _ = s.run(64);
        }

        /// Random programs with a FPU enabled and registers pointing into RAM.
        #[test]
        fn random_programs_never_panic(words in proptest::collection::vec(any::<u32>(), 16..64)) {
            let mut s = sim(&[]);
            let mut b = Vec::new();
            for w in &words { b.extend_from_slice(&w.to_le_bytes()); }
            s.write_memory(CODE, &b).unwrap();
            s.write_memory(RAM + 0x1000, &b).unwrap();
            s.scs.cpacr = 0xf << 20;
            for (r, w) in words.iter().take(13).enumerate() { s.set_reg(r, RAM + 0x1000 + (w & 0xfc)); }
            let _ = s.run(500);
        }
    }
}

// ---- firmware integration ------------------------------------------------------------------

/// Runs the benchmark firmware ELF if it has been built
/// (`cd target-fw && cargo build --release`); skipped otherwise.
#[test]
fn firmware_elf_runs_if_present() {
    let path = std::env::var("TINYBENCH_FW_ELF").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../target-fw/target/thumbv7em-none-eabihf/release/tinybench-fw").into()
    });
    let Ok(elf) = std::fs::read(&path) else {
        eprintln!("skipping: {path} not built");
        return;
    };
    let mut cfg = config(CoreKind::CortexM4);
    cfg.clock_hz = 120_000_000;
    cfg.regions = vec![
        // configs/boards/sim-m4.toml
        RegionSpec { name: "flash".into(), start: FLASH, size: 2 << 20, kind: RegionKind::Flash, wait_states: 5 },
        RegionSpec { name: "sram".into(), start: RAM, size: 640 << 10, kind: RegionKind::Ram, wait_states: 0 },
    ];
    let mut s = Simulator::new(cfg).unwrap();
    let img = s.load_elf(&elf).unwrap();
    assert_eq!(img.entry, s.pc());
    assert!(s.symbol("main").is_some() || s.symbol("Reset").is_some());
    // It must run for a while without an undefined/unsupported instruction.
    match s.run(2_000_000) {
        Ok(_) => {}
        Err(e @ (SimError::Undefined { .. } | SimError::Unsupported { .. })) => panic!("{e}"),
        Err(e) => eprintln!("firmware stopped with: {e}"),
    }
    eprintln!("firmware: {} insns, {} cycles, {:?}", s.instructions(), s.cycles(), s.stats().histogram);
}

// ---- the debugger interface (debug.rs) ----
#[test]
fn registers_round_trip_through_their_dcrsr_numbers() {
    let mut s = sim(&[0xbf00]);
    for (regsel, value) in [
        (0u16, 1u32),
        (12, 12),
        (14, 0x0800_0101),
        (17, 0x2000_1000),
        (18, 0x2000_0800),
        (33, 0x0300_0000),
        (64, 0x3f80_0000),
        (95, 7),
    ] {
        assert!(s.set_core_register(regsel, value));
        assert_eq!(s.core_register(regsel), Some(value), "regsel {regsel}");
    }
    // MSP is the current SP in thread mode without SPSEL.
    assert_eq!(s.core_register(13), Some(0x2000_1000));
    assert!(s.set_core_register(15, CODE | 1), "a vector-table PC keeps no Thumb bit");
    assert_eq!(s.core_register(15), Some(CODE));
    assert!(s.set_core_register(16, 0xF800_0000 | 1 << 24));
    assert_eq!(s.core_register(16), Some(0xF800_0000 | 1 << 24));
    assert!(s.set_core_register(20, 1 << 24 | 1 << 16 | 0x40 << 8 | 1));
    assert_eq!(s.core_register(20), Some(1 << 24 | 1 << 16 | 0x40 << 8 | 1));
    assert_eq!(s.core_register(19), None);
    assert!(!s.set_core_register(200, 0));
}

#[test]
fn with_debug_halts_a_bkpt_halts_on_itself() {
    // movs r0, #0x18; bkpt #0xab (semihosting SYS_EXIT)
    let mut s = sim(&[0x2018, 0xbeab]);
    s.set_debug_halts(true);
    assert_eq!(s.run(10).unwrap(), StopReason::DebugHalt { imm: 0xab, pc: CODE + 2 });
    assert_eq!(s.pc(), CODE + 2, "not executed");
    assert_eq!(s.instructions(), 1);
    assert_eq!(s.run(10).unwrap(), StopReason::DebugHalt { imm: 0xab, pc: CODE + 2 }, "halts again");
    s.set_debug_halts(false);
    assert!(matches!(s.run(10).unwrap(), StopReason::Exited { .. }), "serviced without a debugger");
}

#[test]
fn the_ppb_is_reachable_and_nothing_else() {
    let mut s = sim(&[0xbf00]);
    assert_eq!(s.ppb_read(0xE000_ED00), Some(0x410F_C241), "CPUID of the Cortex-M4");
    assert!(s.ppb_write(0xE00E_1004, 0x0070_003F), "vendor debug registers store");
    assert_eq!(s.ppb_read(0xE00E_1004), Some(0x0070_003F));
    assert_eq!(s.ppb_read(0x2000_0000), None);
    assert!(!s.ppb_write(0xE010_0000, 1));
}
