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
