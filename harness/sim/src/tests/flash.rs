//! Flash wait states behind the prefetch buffer / ART-style cache model
//! (`flash` module; docs/sim-timing-m4.md "Flash wait states"). Cortex-M4, 16-byte
//! lines, flash with 5 wait states; CODE is line-aligned.

use super::*;

const WS: u32 = 5;

fn flash_sim(code: &[u16], wait_states: u32) -> Simulator {
    let mut cfg = config(CoreKind::CortexM4);
    cfg.regions[0].wait_states = wait_states;
    let mut s = Simulator::new(cfg).unwrap();
    let mut vt = vec![0u8; 8];
    vt[0..4].copy_from_slice(&STACK_TOP.to_le_bytes());
    vt[4..8].copy_from_slice(&(CODE | 1).to_le_bytes());
    s.write_memory(FLASH, &vt).unwrap();
    s.write_memory(CODE, &bytes(code)).unwrap();
    s.reset().unwrap();
    s
}

fn cycles_ws(code: &[u16], wait_states: u32, setup: impl Fn(&mut Simulator)) -> u64 {
    let mut s = flash_sim(code, wait_states);
    setup(&mut s);
    run_to_bkpt(&mut s);
    s.cycles()
}

#[test]
fn flash_sequential_fetch_pays_only_the_first_line() {
    // 8 x nop (one 16-byte line), bkpt #0 in the next line: 8 + 1, plus one
    // non-sequential fill for the first line; the next line was prefetched.
    let code = [0xbf00, 0xbf00, 0xbf00, 0xbf00, 0xbf00, 0xbf00, 0xbf00, 0xbf00, BKPT0];
    assert_eq!(cycles_ws(&code, 0, |_| {}), 9);
    assert_eq!(cycles_ws(&code, WS, |_| {}), 9 + WS as u64);
}

#[test]
fn flash_loop_hits_the_instruction_cache() {
    // CODE+0x00: 6 x nop; +0x0c: nop; nop; +0x10: subs r0, #1; bne +0x0c; bkpt #0.
    // r0 = 2: 6 + (1 + 1 + 1 + 3) + (1 + 1 + 1 + 1) + 1 = 17 at zero wait states.
    // The back edge crosses into a cached line: only the first fill pays.
    let code = [0xbf00, 0xbf00, 0xbf00, 0xbf00, 0xbf00, 0xbf00, 0xbf00, 0xbf00, 0x3801, 0xd1fb, BKPT0];
    assert_eq!(cycles_ws(&code, 0, |s| s.set_reg(0, 2)), 17);
    assert_eq!(cycles_ws(&code, WS, |s| s.set_reg(0, 2)), 17 + WS as u64);
}

#[test]
fn flash_taken_branch_to_an_uncached_line_pays_wait_states() {
    // b.n CODE+0x40 (e01e); bkpt #0 at CODE+0x40: B taken 1 + P = 3, bkpt 1, and two
    // non-sequential line fills.
    let mut code = vec![0xe01e];
    code.resize(0x20, 0xbf00);
    code.push(BKPT0);
    assert_eq!(cycles_ws(&code, 0, |_| {}), 4);
    assert_eq!(cycles_ws(&code, WS, |_| {}), 4 + 2 * WS as u64);
}

#[test]
fn flash_data_loads_pay_unless_the_line_is_cached() {
    // ldr r0, [r1]; ldr r2, [r1, #4]; ldr r3, [r1, #16]; bkpt #0, r1 = FLASH + 0x800:
    // 2 + 1 + 1 (pipelined) + 1 at zero wait states. With wait states: first line
    // fill for the code, the first load misses, the second hits its line, the third
    // is in the next line and misses.
    let code = [0x6808, 0x684a, 0x690b, BKPT0];
    let setup = |s: &mut Simulator| s.set_reg(1, FLASH + 0x800);
    assert_eq!(cycles_ws(&code, 0, setup), 5);
    assert_eq!(cycles_ws(&code, WS, setup), 5 + 3 * WS as u64);
    // The same loads from RAM pay nothing.
    assert_eq!(cycles_ws(&code, WS, |s| s.set_reg(1, RAM + 0x800)), 5 + WS as u64);
}
