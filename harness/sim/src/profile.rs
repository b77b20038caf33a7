//! Opt-in function profiler: a shadow call stack kept from the control flow the
//! simulator already executes, charged with simulated cycles.
//!
//! Nothing runs per instruction. The run loop calls into the profiler only on an
//! instruction that wrote the PC (one `bool` test on that path), on exception
//! entry and on exception return; each event first charges the cycles and
//! instructions retired since the previous event to the frame on top of the stack.
//!
//! Stack rules:
//! - `BL`/`BLX` push a frame for the function containing the target; the return
//!   address is the new LR.
//! - Any other PC write whose target equals the return address of a frame on the
//!   stack (`BX LR`, `POP {.., pc}`, `LDR pc, [sp], #4`, `MOV pc, lr`) pops down to
//!   and including that frame (the topmost match wins, so recursion unwinds one
//!   level at a time).
//! - A branch (`B`, `BX Rm`, ...) that leaves the current function and lands
//!   exactly on the start of another symbol is a tail call: the top frame is
//!   re-labelled as that function (counted as a call).
//! - Exception entry pushes a frame for the handler on top of whatever ran;
//!   exception return pops down to and including the newest exception frame.
//!
//! Costs are kept per call-tree node (a path of functions), so folded stacks fall
//! out directly; per-function totals count recursive activations once.

use std::collections::{BTreeMap, HashMap};

use crate::Simulator;
use crate::insn::Insn;

/// Cycles and instructions per function, from [`Simulator::profile`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionCost {
    /// Demangled symbol name (as in [`Simulator::symbolize`]); `0x08001234` for code
    /// without a symbol.
    pub name: String,
    /// Cycles spent in the function itself.
    pub self_cycles: u64,
    /// Cycles spent in the function and everything it called (recursion counted once).
    pub total_cycles: u64,
    pub self_instructions: u64,
    /// Times the function was entered (calls, tail calls and exception entries).
    pub calls: u64,
}

/// A whole-run profile.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Profile {
    /// Sorted by `self_cycles`, most expensive first.
    pub functions: Vec<FunctionCost>,
    /// Folded stacks for inferno/flamegraph (`outer;inner;leaf`, self cycles),
    /// sorted by stack.
    pub folded: Vec<(String, u64)>,
}

impl Profile {
    /// The folded stacks as text, one `stack cycles` line each (inferno's input format).
    pub fn folded_text(&self) -> String {
        let mut s = String::new();
        for (stack, cycles) in &self.folded {
            s.push_str(stack);
            s.push(' ');
            s.push_str(&cycles.to_string());
            s.push('\n');
        }
        s
    }
}

const NO_PARENT: u32 = u32::MAX;
/// Return address of frames that no branch returns to (the root, exception frames).
const NO_RETURN: u32 = u32::MAX;

struct Node {
    parent: u32,
    func: u32,
    self_cycles: u64,
    self_insns: u64,
}

#[derive(Clone, Copy)]
struct Frame {
    node: u32,
    /// Address (bit 0 clear) a return lands on.
    ret: u32,
    exc: bool,
    /// Address range of the frame's function, for tail-call detection.
    start: u32,
    end: u32,
}

struct Func {
    name: String,
    calls: u64,
}

#[derive(Default)]
pub(crate) struct Profiler {
    nodes: Vec<Node>,
    children: HashMap<(u32, u32), u32>,
    funcs: Vec<Func>,
    func_by_addr: HashMap<u32, u32>,
    frames: Vec<Frame>,
    mark_cycles: u64,
    mark_insns: u64,
}

impl Profiler {
    fn charge(&mut self, cycles: u64, insns: u64) {
        if let Some(top) = self.frames.last() {
            let n = &mut self.nodes[top.node as usize];
            n.self_cycles += cycles.saturating_sub(self.mark_cycles);
            n.self_insns += insns.saturating_sub(self.mark_insns);
        }
        self.mark_cycles = cycles;
        self.mark_insns = insns;
    }

    fn node(&mut self, parent: u32, func: u32) -> u32 {
        if let Some(&n) = self.children.get(&(parent, func)) {
            return n;
        }
        let n = self.nodes.len() as u32;
        self.nodes.push(Node { parent, func, self_cycles: 0, self_insns: 0 });
        self.children.insert((parent, func), n);
        n
    }

    /// Index of the frame a branch to `target` returns to, topmost first.
    fn return_frame(&self, target: u32) -> Option<usize> {
        self.frames.iter().rposition(|f| f.ret == target && !f.exc)
    }
}

impl Simulator {
    /// Turns on the function profiler (off by default; when off it costs one
    /// test per taken branch). Call before `run`; cycles before the call are not
    /// attributed.
    pub fn enable_profiling(&mut self) {
        if self.profiler.is_none() {
            self.profiler = Some(Box::new(Profiler {
                mark_cycles: self.cycles,
                mark_insns: self.instructions,
                ..Default::default()
            }));
            self.profiling = true;
        }
    }

    /// The profile so far, or `None` when [`Simulator::enable_profiling`] wasn't called.
    pub fn profile(&self) -> Option<Profile> {
        let p = self.profiler.as_deref()?;
        let mut self_cycles: Vec<u64> = p.nodes.iter().map(|n| n.self_cycles).collect();
        let mut self_insns: Vec<u64> = p.nodes.iter().map(|n| n.self_insns).collect();
        if let Some(top) = p.frames.last() {
            self_cycles[top.node as usize] += self.cycles.saturating_sub(p.mark_cycles);
            self_insns[top.node as usize] += self.instructions.saturating_sub(p.mark_insns);
        }
        // Children are always created after their parent: one reverse sweep sums subtrees.
        let mut subtree = self_cycles.clone();
        for i in (0..p.nodes.len()).rev() {
            let parent = p.nodes[i].parent;
            if parent != NO_PARENT {
                subtree[parent as usize] += subtree[i];
            }
        }
        let mut costs: Vec<FunctionCost> = p
            .funcs
            .iter()
            .map(|f| FunctionCost {
                name: f.name.clone(),
                self_cycles: 0,
                total_cycles: 0,
                self_instructions: 0,
                calls: f.calls,
            })
            .collect();
        let mut folded: BTreeMap<String, u64> = BTreeMap::new();
        for (i, n) in p.nodes.iter().enumerate() {
            let f = &mut costs[n.func as usize];
            f.self_cycles += self_cycles[i];
            f.self_instructions += self_insns[i];
            let mut path = vec![n.func];
            let mut recursive = false;
            let mut a = n.parent;
            while a != NO_PARENT {
                let an = &p.nodes[a as usize];
                recursive |= an.func == n.func;
                path.push(an.func);
                a = an.parent;
            }
            if !recursive {
                costs[n.func as usize].total_cycles += subtree[i];
            }
            if self_cycles[i] > 0 {
                let stack: Vec<&str> = path.iter().rev().map(|&f| p.funcs[f as usize].name.as_str()).collect();
                *folded.entry(stack.join(";")).or_default() += self_cycles[i];
            }
        }
        costs.retain(|c| c.calls > 0 || c.self_cycles > 0);
        costs.sort_by(|a, b| b.self_cycles.cmp(&a.self_cycles).then_with(|| a.name.cmp(&b.name)));
        Some(Profile { functions: costs, folded: folded.into_iter().collect() })
    }

    /// The profiler's id for the function containing `addr`, and its address range.
    fn profile_func(&mut self, addr: u32) -> (u32, u32, u32) {
        let (start, size, name) = match self.symbols.function_at(addr) {
            Some((s, size, name)) => (s, size.max(2), name.to_owned()),
            None => (addr, 2, format!("{addr:#010x}")),
        };
        let Some(p) = self.profiler.as_deref_mut() else { return (0, start, start) };
        let id = *p.func_by_addr.entry(start).or_insert_with(|| {
            p.funcs.push(Func { name, calls: 0 });
            (p.funcs.len() - 1) as u32
        });
        (id, start, start.wrapping_add(size))
    }

    fn profile_push(&mut self, target: u32, ret: u32, exc: bool) {
        let (func, start, end) = self.profile_func(target);
        let (cycles, insns) = (self.cycles, self.instructions);
        let Some(p) = self.profiler.as_deref_mut() else { return };
        p.charge(cycles, insns);
        let parent = p.frames.last().map_or(NO_PARENT, |f| f.node);
        let node = p.node(parent, func);
        p.funcs[func as usize].calls += 1;
        p.frames.push(Frame { node, ret, exc, start, end });
    }

    /// Gives the profile a root frame (the function at the PC) if its stack is empty.
    pub(crate) fn profile_root(&mut self) {
        if self.profiler.as_ref().is_some_and(|p| p.frames.is_empty()) {
            self.profile_push(self.pc, NO_RETURN, false);
            if let Some(p) = self.profiler.as_deref_mut() {
                // The root was not called.
                let f = p.nodes[p.frames[0].node as usize].func;
                p.funcs[f as usize].calls -= 1;
            }
        }
    }

    /// After an instruction at `pc` wrote the PC (not an exception return).
    pub(crate) fn profile_branch(&mut self, insn: &Insn) {
        let target = self.pc;
        let (cycles, insns) = (self.cycles, self.instructions);
        match *insn {
            Insn::Bl { .. } | Insn::Blx { .. } => {
                let ret = self.r[14] & !1;
                self.profile_push(target, ret, false);
            }
            // Conditional/unconditional branches only leave a function as tail calls.
            Insn::B { .. } => self.profile_tail_call(target),
            // Short forward branches and table branches stay inside the function.
            Insn::Cbz { .. } | Insn::Tb { .. } => {}
            _ => {
                let Some(p) = self.profiler.as_deref_mut() else { return };
                if let Some(i) = p.return_frame(target) {
                    p.charge(cycles, insns);
                    p.frames.truncate(i);
                } else {
                    self.profile_tail_call(target);
                }
            }
        }
    }

    fn profile_tail_call(&mut self, target: u32) {
        let Some(top) = self.profiler.as_deref().and_then(|p| p.frames.last().copied()) else { return };
        if (top.start..top.end).contains(&target) || self.symbols.name_at(target).is_none() {
            return;
        }
        let (func, start, end) = self.profile_func(target);
        let (cycles, insns) = (self.cycles, self.instructions);
        let Some(p) = self.profiler.as_deref_mut() else { return };
        p.charge(cycles, insns);
        let parent = p.nodes[top.node as usize].parent;
        let node = p.node(parent, func);
        p.funcs[func as usize].calls += 1;
        if let Some(f) = p.frames.last_mut() {
            *f = Frame { node, start, end, ..top };
        }
    }

    /// Exception entry: the handler at the (new) PC runs on top of the interrupted stack.
    pub(crate) fn profile_exception_entry(&mut self) {
        self.profile_push(self.pc, NO_RETURN, true);
    }

    /// Exception return: drop the newest exception frame and anything above it.
    pub(crate) fn profile_exception_return(&mut self) {
        let (cycles, insns) = (self.cycles, self.instructions);
        let Some(p) = self.profiler.as_deref_mut() else { return };
        if let Some(i) = p.frames.iter().rposition(|f| f.exc) {
            p.charge(cycles, insns);
            p.frames.truncate(i);
        }
    }

    /// Reset: the old stack is gone; a new root is made on the next `run`.
    pub(crate) fn profile_reset(&mut self) {
        let (cycles, insns) = (self.cycles, self.instructions);
        if let Some(p) = self.profiler.as_deref_mut() {
            p.charge(cycles, insns);
            p.frames.clear();
            // The core's counters restart from 0.
            p.mark_cycles = 0;
            p.mark_insns = 0;
        }
    }
}
