//! Cortex-M7 cycle model.
//!
//! TODO: the M7 is dual-issue (source [H]/[I] in docs/sim-timing-m4.md); until the
//! dual-issue model lands this is the Cortex-M4 table, so M7 cycle counts are an
//! upper-bound approximation.

use super::{CortexM4, CycleModel, TimingCtx};
use crate::insn::Insn;

/// Cortex-M7 timing (currently the M4 table; see module docs).
#[derive(Clone, Debug, Default)]
pub struct CortexM7 {
    inner: CortexM4,
}

impl CortexM7 {
    #[inline(always)]
    pub(crate) fn cost_prepared(&mut self, p: u64, taken: bool, quotient: u32) -> u32 {
        self.inner.cost_prepared(p, taken, quotient)
    }
}

impl CycleModel for CortexM7 {
    #[inline(always)]
    fn cycles(&mut self, insn: &Insn, ctx: &TimingCtx) -> u32 {
        self.inner.cycles(insn, ctx)
    }
    fn prepare(&self, insn: &Insn) -> u64 {
        self.inner.prepare(insn)
    }
    fn reset(&mut self) {
        self.inner.reset();
    }
    fn exception_entry_cycles(&self) -> u32 {
        self.inner.exception_entry_cycles()
    }
    fn exception_return_cycles(&self) -> u32 {
        self.inner.exception_return_cycles()
    }
}
