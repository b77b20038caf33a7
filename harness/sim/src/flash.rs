//! Flash wait states behind a prefetch buffer and a small cache (STM32 "ART"
//! style), for instruction fetch and data loads from regions with
//! `wait_states > 0`. Zero-wait regions (SRAM, TCM) never get here.
//!
//! Model (docs/sim-timing-m4.md, "Flash wait states"): memory is read in lines
//! (16 bytes on the M4 model, 32 on the M7). An instruction fetch that enters a
//! new line costs nothing if the line is in the instruction cache or is the next
//! sequential line (the prefetch buffer fetched it while the previous line
//! executed); otherwise (a taken branch to an uncached line) it costs
//! `wait_states` cycles. A data load from flash costs `wait_states` cycles unless
//! its line is in the data cache. Both caches are direct-mapped.

use crate::CoreKind;

pub(crate) struct FlashModel {
    pub line_shift: u32,
    itags: Vec<u32>,
    dtags: Vec<u32>,
}

impl FlashModel {
    pub fn new(core: CoreKind) -> Self {
        // M4: the STM32F4/L4 ART accelerator's 64 instruction and 8 data lines of
        // 128 bits. M7: 16 KiB L1 I- and D-caches with 32-byte lines (STM32H743),
        // modelled direct-mapped (the real caches are set-associative).
        let (line_shift, ilines, dlines) = match core {
            CoreKind::CortexM4 => (4, 64, 8),
            CoreKind::CortexM7 => (5, 512, 512),
        };
        FlashModel { line_shift, itags: vec![u32::MAX; ilines], dtags: vec![u32::MAX; dlines] }
    }

    pub fn reset(&mut self) {
        self.itags.fill(u32::MAX);
        self.dtags.fill(u32::MAX);
    }

    /// Whether `line` is in the instruction cache (the common case in loops).
    #[inline(always)]
    pub fn fetch_hit(&self, line: u32) -> bool {
        self.itags.get(line as usize & (self.itags.len() - 1)) == Some(&line)
    }

    /// Extra cycles for fetching `line` after `prev_line`.
    pub fn fetch(&mut self, line: u32, prev_line: u32, wait_states: u32) -> u32 {
        let slot = line as usize & (self.itags.len() - 1);
        if self.itags[slot] == line {
            return 0;
        }
        self.itags[slot] = line;
        if line == prev_line.wrapping_add(1) { 0 } else { wait_states }
    }

    /// Extra cycles for a data load from flash at `addr`.
    pub fn load(&mut self, addr: u32, wait_states: u32) -> u32 {
        let line = addr >> self.line_shift;
        let slot = line as usize & (self.dtags.len() - 1);
        if self.dtags[slot] == line {
            return 0;
        }
        self.dtags[slot] = line;
        wait_states
    }
}
