//! The current model's inputs (`power` module): marker edges carry the
//! counters of the instant after their store, sleep spans are exact, the
//! class-weighted count equals the histogram's, `run_until` stops at a cycle
//! without changing the run, and all of it is the same on the fast paths
//! and the reference path.

use super::*;
use crate::power::{Counters, MarkerPin, PowerEvent};

/// An STM32 BSRR: bit 9 sets PE9, bit 25 clears it.
const BSRR: u32 = 0x4800_1018;
const PIN: MarkerPin = MarkerPin { set_address: BSRR, set_value: 1 << 9, clear_address: BSRR, clear_value: 1 << 25 };

/// Raises the marker, adds twice, lowers it, stops.
const PULSE: &[u16] = &[
    0x6008, // str r0, [r1]  marker high
    0x3601, // adds r6, #1
    0x3601, // adds r6, #1
    0x600a, // str r2, [r1]  marker low
    BKPT0,
];

fn marker_sim(code: &[u16], fast: bool) -> Simulator {
    let mut s = sim(code);
    s.set_fast_paths(fast);
    s.set_marker_pin(PIN).unwrap();
    s.set_power_tracing(true);
    s.set_reg(0, 1 << 9);
    s.set_reg(1, BSRR);
    s.set_reg(2, 1 << 25);
    s
}

/// The counters just before the stopping BKPT retired (it adds 1 cycle, 1 instruction).
fn before_bkpt(s: &Simulator) -> (u64, u64) {
    let c = s.counters();
    (c.cycles - 1, c.instructions - 1)
}

#[test]
fn a_marker_edge_carries_the_counters_right_after_its_store() {
    for fast in [true, false] {
        let mut s = marker_sim(PULSE, fast);
        run_to_bkpt(&mut s);
        let events = s.take_power_events();
        let [PowerEvent::Marker { high: true, at: rise }, PowerEvent::Marker { high: false, at: fall }] = events[..]
        else {
            panic!("two edges expected: {events:?}");
        };
        assert_eq!((fall.cycles, fall.instructions), before_bkpt(&s), "fast {fast}");
        // The rise is the first instruction; the same program cut after it gives its cycles.
        let mut first = marker_sim(&[PULSE[0], BKPT0], fast);
        run_to_bkpt(&mut first);
        assert_eq!((rise.cycles, rise.instructions), before_bkpt(&first), "fast {fast}");
        assert!(!s.marker_high());
    }
}

#[test]
fn writes_that_do_not_change_the_level_are_not_edges_and_other_addresses_fault() {
    // Low while low (how the firmware measures a marker write's cost): no edge.
    let mut s = marker_sim(&[0x600a, BKPT0], true);
    run_to_bkpt(&mut s);
    assert!(s.take_power_events().is_empty());
    // A byte store to the BSRR's upper half clears the pin too (BR9 = bit 25 = bit 1 of byte 3).
    let mut s = marker_sim(&[0x6008, 0x70ca, BKPT0], true); // str r0, [r1]; strb r2, [r1, #3]
    s.set_reg(2, 1 << 1);
    run_to_bkpt(&mut s);
    assert_eq!(s.take_power_events().len(), 2);
    // Next to the marker register is not modeled: an unmapped write, as before.
    let mut s = marker_sim(&[0x6048, BKPT0], true); // str r0, [r1, #4]
    assert!(matches!(s.run(10), Err(SimError::Unmapped { addr: 0x4800_101c, .. })));
}

#[test]
fn the_marker_may_not_sit_in_memory_or_the_ppb() {
    let mut s = sim(&[BKPT0]);
    for address in [RAM + 0x100, periph::SYST_CSR, BSRR + 2] {
        let pin = MarkerPin { set_address: address, ..PIN };
        assert!(s.set_marker_pin(pin).is_err(), "{address:#x}");
    }
    s.set_marker_pin(PIN).unwrap();
}

/// SysTick every 100 cycles wakes a WFI loop three times.
fn sleeping(fast: bool) -> Simulator {
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
    s.set_fast_paths(fast);
    s.set_power_tracing(true);
    s.set_reg(0, 99);
    s.set_reg(1, periph::SYST_CSR);
    s.set_reg(2, 0);
    s.set_reg(3, 7);
    s
}

#[test]
fn sleep_spans_are_recorded_and_counted() {
    let mut runs = Vec::new();
    for fast in [true, false] {
        let mut s = sleeping(fast);
        run_to_bkpt(&mut s);
        let events = s.take_power_events();
        let spans: Vec<(Counters, Counters)> = events
            .iter()
            .map(|e| match *e {
                PowerEvent::Sleep { from, to } => (from, to),
                other => panic!("only sleep expected: {other:?}"),
            })
            .collect();
        assert_eq!(spans.len(), 3, "one sleep per tick");
        let mut slept = 0;
        for (from, to) in &spans {
            assert!(to.cycles > from.cycles);
            assert_eq!(to.sleep_cycles - from.sleep_cycles, to.cycles - from.cycles, "nothing but sleep");
            assert_eq!(to.instructions, from.instructions);
            slept += to.cycles - from.cycles;
        }
        assert_eq!(s.counters().sleep_cycles, slept);
        assert!(slept > 200, "most of the 300 cycles are asleep: {slept}");
        runs.push((events, s.counters()));
    }
    assert_eq!(runs[0], runs[1], "fast paths and reference path");
}

/// A counted loop of fast forms (r6 from 0 to r7), run as blocks.
const LOOP: &[u16] = &[
    0x3601, // 0x200: adds r6, #1
    0x4346, // muls r6, r0, r6 (r0 = 1)
    0x42be, // cmp r6, r7
    0xd1fb, // bne 0x200
    BKPT0,
];

fn looping(fast: bool) -> Simulator {
    let mut s = sim(LOOP);
    s.set_fast_paths(fast);
    s.set_reg(0, 1);
    s.set_reg(7, 500);
    s
}

#[test]
fn the_weighted_count_is_the_histograms_and_the_same_on_both_paths() {
    // A different weight for every class: any miscount shows.
    let weights: [u64; 16] = std::array::from_fn(|c| 1000 + 7 * c as u64 * c as u64);
    let mut weighted = Vec::new();
    for fast in [true, false] {
        let mut s = looping(fast);
        s.set_class_weights(weights);
        run_to_bkpt(&mut s);
        let from_histogram: u64 = s
            .stats()
            .histogram
            .iter()
            .map(|(name, count)| {
                let class = insn::CLASS_NAMES.iter().position(|n| n == name).unwrap();
                weights[class] * count
            })
            .sum();
        assert_eq!(s.counters().weighted, from_histogram, "fast {fast}");
        weighted.push(s.counters());
    }
    assert_eq!(weighted[0], weighted[1]);
}

#[test]
fn run_until_stops_at_the_cycle_limit_without_changing_the_run() {
    let mut whole = looping(true);
    run_to_bkpt(&mut whole);
    let mut sliced = looping(true);
    let mut limit = 0;
    let mut stops = 0;
    loop {
        limit += 97;
        match sliced.run_until(100_000, limit).unwrap() {
            StopReason::CycleLimit => {
                let over = sliced.cycles() - limit;
                assert!(over < 64 * 16, "at most one block past the limit: {over}");
                stops += 1;
            }
            StopReason::Breakpoint { imm: 0, .. } => break,
            other => panic!("{other:?}"),
        }
    }
    assert!(stops > 10, "{stops}");
    assert_eq!(sliced.counters(), whole.counters());
    assert_eq!((sliced.reg(6), sliced.pc()), (whole.reg(6), whole.pc()));
    // Without a limit, run() is unaffected by an earlier run_until.
    assert!(sliced.run(10).is_ok());
}
