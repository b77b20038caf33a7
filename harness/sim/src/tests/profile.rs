//! Profiler: shadow call stack, tail calls, exception frames, folded stacks.

use super::*;

/// ```text
/// CODE+0x00 main: bl f; bl f; bl t; svc #0; bkpt #0
/// CODE+0x10 f:    push {lr}; bl g; pop {pc}
/// CODE+0x18 g:    movs r0, #1; bx lr
/// CODE+0x1c t:    movs r1, #2; b g          (tail call)
/// CODE+0x20 svc:  nop; bx lr                (exception return)
/// ```
const CALLS: &[u16] = &[
    0xf000, 0xf806, // bl f
    0xf000, 0xf804, // bl f
    0xf000, 0xf808, // bl t
    0xdf00, // svc #0
    0xbe00, // bkpt #0
    0xb500, // f: push {lr}
    0xf000, 0xf801, // bl g
    0xbd00, // pop {pc}
    0x2001, // g: movs r0, #1
    0x4770, // bx lr
    0x2102, // t: movs r1, #2
    0xe7fb, // b g
    0xbf00, // svc: nop
    0x4770, // bx lr
];

fn calls_sim() -> Simulator {
    let mut s = sim_with(CoreKind::CortexM4, CALLS, &[(11, CODE + 0x20)]);
    s.symbols = Symbols::new(vec![
        (CODE, 0x10, "main".into()),
        (CODE + 0x10, 8, "f".into()),
        (CODE + 0x18, 4, "g".into()),
        (CODE + 0x1c, 4, "t".into()),
        (CODE + 0x20, 4, "svc_handler".into()),
    ]);
    s
}

#[test]
fn profile_is_none_unless_enabled() {
    let mut s = calls_sim();
    run_to_bkpt(&mut s);
    assert!(s.profile().is_none());
}

#[test]
fn profile_attributes_cycles_to_the_shadow_stack() {
    let mut s = calls_sim();
    s.enable_profiling();
    run_to_bkpt(&mut s);
    let p = s.profile().unwrap();
    // M4 table: BL/BX/B/POP{pc} 1+P = 3 / 4, PUSH{lr} 2, MOVS 1, SVC 1 + entry 12,
    // exception return 3 + 10, BKPT 1. main: 3 BLs + SVC + BKPT = 11.
    let folded: Vec<(&str, u64)> = p.folded.iter().map(|(s, c)| (s.as_str(), *c)).collect();
    assert_eq!(
        folded,
        [("main", 11), ("main;f", 18), ("main;f;g", 8), ("main;g", 4), ("main;svc_handler", 26), ("main;t", 4)]
    );
    assert_eq!(s.cycles(), 71, "self cycles add up to the run's cycles");
    let row = |name: &str| p.functions.iter().find(|f| f.name == name).unwrap().clone();
    assert_eq!(p.functions[0].name, "svc_handler", "sorted by self cycles");
    assert_eq!(
        row("f"),
        FunctionCost { name: "f".into(), self_cycles: 18, total_cycles: 26, self_instructions: 6, calls: 2 }
    );
    // Two BLs from f and one tail call from t.
    assert_eq!(
        row("g"),
        FunctionCost { name: "g".into(), self_cycles: 12, total_cycles: 12, self_instructions: 6, calls: 3 }
    );
    assert_eq!(row("main").total_cycles, 71);
    assert_eq!(row("main").calls, 0);
    assert_eq!(row("svc_handler").calls, 1);
    let cycles: Vec<u64> = p.functions.iter().map(|f| f.self_cycles).collect();
    assert!(cycles.windows(2).all(|w| w[0] >= w[1]), "{cycles:?}");
    assert!(p.folded_text().contains("main;f;g 8\n"));
}

/// ```text
/// CODE+0x00 main: movs r0, #3; bl r; bkpt #0
/// CODE+0x08 r:    push {lr}; subs r0, #1; it ne; blne r; pop {pc}
/// ```
#[test]
fn profile_recursion_counts_total_once() {
    let code: &[u16] = &[
        0x2003, // movs r0, #3
        0xf000, 0xf801, // bl r  (CODE+0x08)
        0xbe00, // bkpt #0
        0xb500, // r: push {lr}
        0x3801, // subs r0, #1
        0xbf18, // it ne
        0xf7ff, 0xfffb, // blne r
        0xbd00, // pop {pc}
    ];
    let mut s = sim(code);
    s.symbols = Symbols::new(vec![(CODE, 8, "main".into()), (CODE + 8, 12, "r".into())]);
    s.enable_profiling();
    run_to_bkpt(&mut s);
    let p = s.profile().unwrap();
    let r = p.functions.iter().find(|f| f.name == "r").unwrap();
    assert_eq!(r.calls, 3);
    let main = p.functions.iter().find(|f| f.name == "main").unwrap();
    assert_eq!(r.total_cycles + main.self_cycles, s.cycles(), "recursion is not double counted");
    let stacks: Vec<&str> = p.folded.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(stacks, ["main", "main;r", "main;r;r", "main;r;r;r"]);
}
