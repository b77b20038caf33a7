//! Straight-line blocks: the hot loop's unit of work.
//!
//! A block is a run of instructions that all have fast forms
//! ([`crate::exec::fast`]) from a start address up to and including the first
//! that may branch (B, BL, CBZ/CBNZ), stopping before anything that needs the
//! general path (a generic instruction, an IT group with an instruction that
//! cannot run in one, a decode failure) and after at most [`MAX_LEN`]
//! instructions. IT groups inside a block run their instructions only when
//! the condition passes, as `step_in_it` does. Executing a block skips what the
//! per-instruction loop pays on every instruction: the decode-cache lookup,
//! the IT, budget, event and exception checks, and the statistics counters
//! (a block counts its runs; the class histogram is derived from them).
//!
//! Timing stays exact. The Cortex-M4 model's cost depends only on the
//! instruction and the one before it, so inside a block every cost after the
//! first is fixed when the block is built ([`crate::timing::HotTiming::
//! block_costs`]) and added as each instruction retires, so the cycle counter
//! is exact at every instruction (DWT reads see it); the first instruction
//! and a taken final branch are charged by the model at run time, and
//! data-dependent extras (flash wait states) by the memory accesses
//! themselves. Other models charge every instruction as the per-instruction
//! loop does.
//!
//! Blocks are built from the decode cache and dropped together whenever a
//! cached decode is invalidated (a store into code, a debugger write).

use crate::exec::fast::Op;
use crate::memory::{CLASS_MASK, Decoded};

/// Longest block, in instructions.
pub(crate) const MAX_LEN: usize = 64;

/// Slots of the direct-mapped start-address table.
const MAP_SLOTS: usize = 1 << 13;

/// Instructions kept before the cache is emptied and rebuilt from the decode
/// cache (bounds memory when many blocks collide in the table).
const MAX_INSNS: usize = 1 << 20;

/// `BlockInsn::flags`: a store (may set `exc_check` or invalidate code: the
/// block must be left after it when either happened).
pub(crate) const STORE: u8 = 1;
/// `BlockInsn::flags`: the next sequential instruction is in another flash line.
pub(crate) const LINE_END: u8 = 2;
/// `BlockInsn::flags`: inside an IT group: runs only when the condition passes.
pub(crate) const IT_COND: u8 = 4;
/// `BlockInsn::flags`: charged by the cycle model at run time even in a
/// static block: IT-group instructions (skipped ones cost differently) and the
/// instruction after a group (its predecessor may have been skipped).
pub(crate) const DYNAMIC: u8 = 8;

/// One instruction of a block.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BlockInsn {
    pub op: Op,
    /// The cycle model's `prepare` facts.
    pub prepared: u64,
    /// Static cycles of this instruction after its predecessor in the block,
    /// not taken (static models; the first instruction is charged at run time).
    pub cycles: u32,
    pub len: u8,
    pub class: u8,
    pub flags: u8,
}

/// A block (see the module documentation).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Block {
    pub start: u32,
    /// Index of the first instruction in `BlockCache::insns`.
    pub first: u32,
    /// Instructions; 0 marks a start address where no block can begin.
    pub len: u32,
    /// Extra static cycles when the last instruction branches.
    pub taken_extra: u32,
    /// An upper bound of the cycles one run can take, wait states included:
    /// a block only starts when it cannot reach the next SysTick event.
    pub max_cycles: u64,
    /// Completed runs, for the class histogram.
    pub runs: u64,
    /// Σ of its instructions' class weights (`power` module).
    pub weight: u64,
}

/// Blocks by start address.
pub(crate) struct BlockCache {
    pub blocks: Vec<Block>,
    pub insns: Vec<BlockInsn>,
    /// `(start >> 1) % MAP_SLOTS` → block index + 1 (0: empty).
    map: Vec<u32>,
    /// Class counts of blocks already dropped.
    folded: [u64; 16],
    /// Weight per instruction class, for `Block::weight`.
    weights: [u64; 16],
}

impl Default for BlockCache {
    fn default() -> Self {
        BlockCache { blocks: Vec::new(), insns: Vec::new(), map: vec![0; MAP_SLOTS], folded: [0; 16], weights: [0; 16] }
    }
}

impl BlockCache {
    /// The block starting at `pc`, if one was built.
    #[inline(always)]
    pub fn lookup(&self, pc: u32) -> Option<usize> {
        let slot = self.map[(pc >> 1) as usize % MAP_SLOTS];
        let id = slot.checked_sub(1)? as usize;
        (self.blocks.get(id)?.start == pc).then_some(id)
    }

    /// Records a block built from `decoded` (the instructions from `start`, in
    /// order, with their [`IT_COND`] / [`DYNAMIC`] flags in `it_flags`) and
    /// `costs` from the cycle model; returns its index.
    pub fn insert(
        &mut self,
        start: u32,
        decoded: &[Decoded],
        it_flags: &[u8],
        costs: &BlockCosts,
        max_wait_states: u32,
    ) -> usize {
        if self.insns.len() + decoded.len() > MAX_INSNS {
            self.clear();
        }
        let first = self.insns.len() as u32;
        let mut mem_and_lines = 1u64;
        let mut weight = 0;
        for (i, d) in decoded.iter().enumerate() {
            let store = matches!(d.op, Op::Store { .. } | Op::StoreWb { .. } | Op::StoreReg { .. });
            let load = matches!(d.op, Op::Load { .. } | Op::LoadWb { .. } | Op::LoadReg { .. });
            let line_end = d.class & crate::memory::LINE_END != 0;
            mem_and_lines += u64::from(store || load) + u64::from(line_end);
            weight += self.weights[(d.class & CLASS_MASK) as usize];
            self.insns.push(BlockInsn {
                op: d.op,
                prepared: d.prepared,
                cycles: costs.cycles.get(i).copied().unwrap_or(0),
                len: d.len,
                class: d.class & CLASS_MASK,
                flags: if store { STORE } else { 0 }
                    | if line_end { LINE_END } else { 0 }
                    | it_flags.get(i).copied().unwrap_or(0),
            });
        }
        let max_cycles = decoded.len() as u64 * MAX_FAST_INSN_CYCLES + mem_and_lines * max_wait_states as u64;
        let id = self.blocks.len();
        self.blocks.push(Block {
            start,
            first,
            len: decoded.len() as u32,
            taken_extra: costs.taken_extra,
            max_cycles,
            runs: 0,
            weight,
        });
        self.map[(start >> 1) as usize % MAP_SLOTS] = id as u32 + 1;
        id
    }

    /// Drops every block, keeping the class counts of their runs.
    pub fn clear(&mut self) {
        for (class, count) in self.class_counts().into_iter().enumerate() {
            self.folded[class] = count;
        }
        self.blocks.clear();
        self.insns.clear();
        self.map.fill(0);
    }

    /// Executed instructions per class over all complete block runs.
    pub fn class_counts(&self) -> [u64; 16] {
        let mut counts = self.folded;
        for b in &self.blocks {
            if b.runs == 0 {
                continue;
            }
            for insn in &self.insns[b.first as usize..(b.first + b.len) as usize] {
                counts[insn.class as usize] += b.runs;
            }
        }
        counts
    }

    /// New class weights: the blocks built with the old ones are dropped.
    pub fn set_weights(&mut self, weights: [u64; 16]) {
        self.clear();
        self.weights = weights;
    }

    /// Forgets the blocks and their counts (reset).
    pub fn reset(&mut self) {
        self.blocks.clear();
        self.insns.clear();
        self.map.fill(0);
        self.folded = [0; 16];
    }
}

/// An upper bound of one fast-form instruction's cycles under the built-in
/// models without wait states: the Cortex-M4 charges at most 1 + P + an AGU
/// stall (4), the Cortex-M7 at most a result wait of 2, one issue cycle and a
/// mispredict of 8 (11). Used only to decide whether a block may run before
/// a SysTick event, so it errs high.
pub(crate) const MAX_FAST_INSN_CYCLES: u64 = 16;

/// Static costs of a block's instructions, from [`crate::timing::HotTiming::block_costs`].
#[derive(Debug, Default)]
pub(crate) struct BlockCosts {
    /// `cycles[i]`: instruction i after instruction i - 1, not taken (0 for i = 0).
    pub cycles: Vec<u32>,
    /// Extra cycles when the last instruction branches.
    pub taken_extra: u32,
}
