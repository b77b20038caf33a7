//! Cortex-M7 cycle model: one test per rule of docs/sim-timing-m7.md.
//! Counts exclude the final BKPT (which costs 1 outside the model).

use super::*;

fn m7_cycles(code: &[u16], setup: impl Fn(&mut Simulator)) -> u64 {
    let mut full = code.to_vec();
    full.push(BKPT0);
    let mut s = sim_with(CoreKind::CortexM7, &full, &[]);
    setup(&mut s);
    run_to_bkpt(&mut s);
    s.cycles() - 1
}

fn none(_: &mut Simulator) {}

#[test]
fn m7_independent_alu_ops_dual_issue() {
    // adds r0, r1, r2; adds r3, r4, r5 -> one cycle ([H] IssueWidth 2).
    assert_eq!(m7_cycles(&[0x1888, 0x1963], none), 1);
    // adds r0, r1, r2; adds r3, r0, r4 -> no same-cycle forwarding: 2.
    assert_eq!(m7_cycles(&[0x1888, 0x1903], none), 2);
}

#[test]
fn m7_multiply_result_latency_and_mac_chaining() {
    // mul r0, r1, r2; add.w r3, r0, r4 -> MUL latency 2 ([H], [I]): 1 + 2.
    assert_eq!(m7_cycles(&[0xfb01, 0xf002, 0xeb00, 0x0304], none), 3);
    // mul r0, r1, r2; add.w r3, r4, r5 -> independent, dual issue: 1.
    assert_eq!(m7_cycles(&[0xfb01, 0xf002, 0xeb04, 0x0305], none), 1);
    // mla r0, r1, r2, r0; mla r0, r3, r4, r0 -> MACs don't pair but chain on the
    // accumulator every cycle ([I]): 2.
    assert_eq!(m7_cycles(&[0xfb01, 0x0002, 0xfb03, 0x0004], none), 2);
    // mul r0, r1, r2; mul r3, r0, r4 -> multiplicand from a MUL waits: 1 + 2.
    assert_eq!(m7_cycles(&[0xfb01, 0xf002, 0xfb00, 0xf304], none), 3);
}

#[test]
fn m7_load_use_latency() {
    // ldr r0, [r1]; adds r3, r0, r4 -> word load feeds the next cycle ([I]): 2.
    assert_eq!(m7_cycles(&[0x6808, 0x1903], ram_ptrs), 2);
    // ldrb r0, [r1]; adds r3, r0, r4 -> byte loads one cycle later ([I], [H]): 3.
    assert_eq!(m7_cycles(&[0x7808, 0x1903], ram_ptrs), 3);
    // ldr r0, [r1]; adds r3, r4, r5 -> independent: load + ALU pair: 1.
    assert_eq!(m7_cycles(&[0x6808, 0x1963], ram_ptrs), 1);
}

#[test]
fn m7_load_store_pairing() {
    // str r0, [r1]; str r2, [r3] -> two stores never pair ([I]): 2.
    assert_eq!(m7_cycles(&[0x6008, 0x601a], ram_ptrs), 2);
    // str r0, [r1]; ldr r2, [r3] -> a store pairs with a load ([I]): 1.
    assert_eq!(m7_cycles(&[0x6008, 0x681a], ram_ptrs), 1);
    // ldr r0, [r1]; ldr r2, [r3] -> bank conflicts not modelled, loads don't pair: 2.
    assert_eq!(m7_cycles(&[0x6808, 0x681a], ram_ptrs), 2);
}

#[test]
fn m7_ldm_stm_two_registers_per_cycle() {
    // push {r4-r7, lr}: ceil(5 / 2) = 3; pop {r4-r7}: ceil(4 / 2) = 2 ([I]).
    assert_eq!(m7_cycles(&[0xb5f0], none), 3);
    assert_eq!(m7_cycles(&[0xb5f0, 0xbcf0], none), 5);
}

#[test]
fn m7_static_branch_prediction() {
    // loop: subs r0, #1; bne loop  with r0 = 3: the backward branch is predicted
    // taken, so each taken iteration is one dual-issued cycle; the final fall-through
    // is a mispredict (+8, [I]): 1 + 1 + (1 + 8).
    assert_eq!(m7_cycles(&[0x3801, 0xd1fd], |s| s.set_reg(0, 3)), 11);
    // cmp r0, #0; beq fwd; nop; fwd: nop  -- forward branch predicted not taken.
    // Taken (r0 = 0): cmp + beq pair, +8 mispredict, then nop: 1 + 8 + 1.
    assert_eq!(m7_cycles(&[0x2800, 0xd000, 0xbf00, 0xbf00], none), 10);
    // Not taken (r0 = 1): cmp + beq in one cycle, the two NOPs in the next: 2.
    assert_eq!(m7_cycles(&[0x2800, 0xd000, 0xbf00, 0xbf00], |s| s.set_reg(0, 1)), 2);
}

#[test]
fn m7_is_not_the_m4_table() {
    // The [D] sequence LDR r0,[r1]; LDR r1,[r2]; ADD costs 4 on the M4 but 2 + 1 here
    // (loads don't pair; the ADD r0 = r0 + r1 waits one cycle for the second load).
    let code = [0x6808, 0x6811, 0x1840];
    assert_eq!(cycles_of(&code, ram_ptrs), 4);
    assert_eq!(m7_cycles(&code, ram_ptrs), 3);
}
