//! Timing visitor: per-core cycle models over [`Insn`]. Numbers and rules are
//! documented (with sources) in docs/sim-timing-m4.md.

mod cortex_m4;
mod cortex_m7;

pub use cortex_m4::CortexM4;
pub use cortex_m7::CortexM7;

use crate::insn::Insn;

/// Run-time facts about the instruction just executed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimingCtx {
    /// False when an IT block condition failed (the instruction was skipped).
    pub executed: bool,
    /// The instruction wrote the PC (taken branch, load to PC, exception return).
    pub taken: bool,
    /// Magnitude of the last SDIV/UDIV quotient (early-termination input).
    pub quotient: u32,
    /// This model's [`CycleModel::prepare`] result for the instruction, cached with
    /// the decoded instruction; 0 when not available (the model recomputes it).
    pub prepared: u64,
}

/// A core's cycle model. Stateful so it can model pipelining between instructions.
pub trait CycleModel {
    /// Cycles for one instruction.
    fn cycles(&mut self, insn: &Insn, ctx: &TimingCtx) -> u32;
    /// Static per-instruction facts, computed once when the instruction is decoded
    /// and handed back in [`TimingCtx::prepared`] (decode once, cost many times).
    /// Must not return 0 if the model relies on it; the default returns 0 (unused).
    fn prepare(&self, insn: &Insn) -> u64 {
        let _ = insn;
        0
    }
    /// Forgets inter-instruction state (called on reset).
    fn reset(&mut self) {}
    /// Extra cycles for exception entry (stacking + vector fetch).
    fn exception_entry_cycles(&self) -> u32 {
        0
    }
    /// Extra cycles for exception return (unstacking).
    fn exception_return_cycles(&self) -> u32 {
        0
    }
}

/// The simulator's cycle model: the built-in cores are matched statically so the
/// hot loop can inline them; anything else goes through a trait object.
pub(crate) enum Timing {
    M4(CortexM4),
    M7(CortexM7),
    Custom(Box<dyn CycleModel + Send>),
}

impl Timing {
    #[inline(always)]
    pub fn cycles(&mut self, insn: &Insn, ctx: &TimingCtx) -> u32 {
        match self {
            Timing::M4(m) => m.cycles(insn, ctx),
            Timing::M7(m) => m.cycles(insn, ctx),
            Timing::Custom(m) => m.cycles(insn, ctx),
        }
    }

    /// Cycles for an executed instruction from its cached `prepare` facts (the hot path).
    #[inline(always)]
    pub fn cycles_prepared(&mut self, d: &crate::memory::Decoded, taken: bool, quotient: u32) -> u32 {
        match self {
            Timing::M4(m) => m.cost_prepared(d.prepared, taken, quotient),
            Timing::M7(m) => m.cost_prepared(d.prepared, taken, quotient),
            Timing::Custom(m) => {
                m.cycles(&d.insn, &TimingCtx { executed: true, taken, quotient, prepared: d.prepared })
            }
        }
    }

    #[inline(always)]
    pub fn prepare(&self, insn: &Insn) -> u64 {
        match self {
            Timing::M4(m) => m.prepare(insn),
            Timing::M7(m) => m.prepare(insn),
            Timing::Custom(m) => m.prepare(insn),
        }
    }

    fn model(&self) -> &dyn CycleModel {
        match self {
            Timing::M4(m) => m,
            Timing::M7(m) => m,
            Timing::Custom(m) => m.as_ref(),
        }
    }

    pub fn reset(&mut self) {
        match self {
            Timing::M4(m) => m.reset(),
            Timing::M7(m) => m.reset(),
            Timing::Custom(m) => m.reset(),
        }
    }

    pub fn exception_entry_cycles(&self) -> u32 {
        self.model().exception_entry_cycles()
    }

    pub fn exception_return_cycles(&self) -> u32 {
        self.model().exception_return_cycles()
    }
}

/// The run loop's view of the cycle model, one implementation per built-in
/// core so that `Simulator::run` monomorphizes over it and inlines the model.
pub(crate) trait HotTiming {
    /// Whether the hot loop may run straight-line blocks (`crate::block`).
    const BLOCKS: bool = true;
    /// Whether [`HotTiming::block_costs`] gives static costs: then a block's
    /// instructions after the first are charged from them at its end.
    const STATIC: bool = false;

    /// Cycles of an executed instruction (see [`Timing::cycles_prepared`]).
    fn cost(timing: &mut Timing, d: &crate::memory::Decoded, taken: bool, quotient: u32) -> u32 {
        Self::cost_p(timing, d.prepared, taken, quotient)
    }

    /// [`HotTiming::cost`] from the `prepare` facts alone (built-in models).
    fn cost_p(timing: &mut Timing, prepared: u64, taken: bool, quotient: u32) -> u32;

    /// [`HotTiming::cost_skipped`] without the instruction (built-in models,
    /// which do not look at it).
    #[inline(always)]
    fn cost_skipped_p(timing: &mut Timing) -> u32 {
        let skipped = Insn::Hint { op: crate::insn::HintOp::Nop };
        timing.cycles(&skipped, &TimingCtx { executed: false, taken: false, quotient: 0, prepared: 0 })
    }

    /// Static costs of a block of instructions with these `prepare` facts.
    fn block_costs(prepared: &[u64]) -> crate::block::BlockCosts {
        let _ = prepared;
        crate::block::BlockCosts::default()
    }

    /// The model's state after a block whose last executed instruction had
    /// `prepared` facts (static models; the others were charged one by one).
    fn after_block(timing: &mut Timing, prepared: u64) {
        let _ = (timing, prepared);
    }

    /// Cycles of an instruction skipped by its IT condition.
    #[inline(always)]
    fn cost_skipped(timing: &mut Timing, d: &crate::memory::Decoded) -> u32 {
        timing.cycles(&d.insn, &TimingCtx { executed: false, taken: false, quotient: 0, prepared: d.prepared })
    }
}

/// [`Timing::M4`] on the hot path.
pub(crate) struct HotM4;
/// [`Timing::M7`] on the hot path.
pub(crate) struct HotM7;
/// Any model, dispatched per instruction.
pub(crate) struct HotCustom;

impl HotTiming for HotM4 {
    const STATIC: bool = true;

    #[inline(always)]
    fn cost_p(timing: &mut Timing, prepared: u64, taken: bool, quotient: u32) -> u32 {
        match timing {
            Timing::M4(m) => m.cost_prepared(prepared, taken, quotient),
            _ => unreachable!("`Simulator::run` picks HotM4 for Timing::M4 only"),
        }
    }

    /// The M4 cost depends on the instruction and its predecessor only
    /// (`CortexM4::prev`), so after the first every cost in a block is fixed.
    fn block_costs(prepared: &[u64]) -> crate::block::BlockCosts {
        let mut m = CortexM4::default();
        let mut cycles = vec![0u32; prepared.len()];
        let mut taken_extra = 0;
        if let Some((&first, rest)) = prepared.split_first() {
            m.cost_prepared(first, false, 0);
            for (i, &p) in rest.iter().enumerate() {
                if i + 1 == rest.len() {
                    taken_extra = m.clone().cost_prepared(p, true, 0) - m.clone().cost_prepared(p, false, 0);
                }
                cycles[i + 1] = m.cost_prepared(p, false, 0);
            }
        }
        crate::block::BlockCosts { cycles, taken_extra }
    }

    #[inline(always)]
    fn after_block(timing: &mut Timing, prepared: u64) {
        if let Timing::M4(m) = timing {
            m.set_prev(prepared);
        }
    }
}

impl HotTiming for HotM7 {
    #[inline(always)]
    fn cost_p(timing: &mut Timing, prepared: u64, taken: bool, quotient: u32) -> u32 {
        match timing {
            Timing::M7(m) => m.cost_prepared(prepared, taken, quotient),
            _ => unreachable!("`Simulator::run` picks HotM7 for Timing::M7 only"),
        }
    }
}

impl HotTiming for HotCustom {
    /// A custom model's costs are unknown ahead of time, so neither blocks
    /// nor their SysTick bound apply.
    const BLOCKS: bool = false;

    #[inline(always)]
    fn cost(timing: &mut Timing, d: &crate::memory::Decoded, taken: bool, quotient: u32) -> u32 {
        timing.cycles_prepared(d, taken, quotient)
    }

    fn cost_p(_timing: &mut Timing, _prepared: u64, _taken: bool, _quotient: u32) -> u32 {
        unreachable!("blocks, the only user of cost_p, are off for custom models")
    }
}
