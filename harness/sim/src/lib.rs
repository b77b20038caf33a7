//! tinybench-sim — host: an ARMv7E-M (Cortex-M4/M7) Thumb/Thumb-2 instruction-set
//! simulator with cycle models, used to run the benchmark firmware without a board.
#![doc = include_str!("../README.md")]

mod block;
mod debug;
pub mod decode;
pub mod disasm;
mod elf;
mod error;
mod exception;
mod exec;
mod flash;
pub mod insn;
mod memory;
pub mod periph;
mod power;
mod profile;
mod semihosting;
mod symbols;
pub mod timing;

use std::collections::BTreeMap;

pub use elf::symbols as elf_symbols;
pub use error::{Location, SimError};
pub use power::{CounterTrace, Counters, MarkerPin, PowerEvent, TraceRecorder};
pub use profile::{FunctionCost, Profile};
pub use symbols::Symbols;
pub use timing::{CycleModel, TimingCtx};

use exec::Trap;
use insn::CLASS_NAMES;
use memory::Memory;
use periph::Scs;
use semihosting::Semihosting;

/// ITAdvance (ARM ARM A7.3.3): the ITSTATE after an instruction of an IT block.
#[inline(always)]
const fn it_advance(it: u8) -> u8 {
    if it & 7 == 0 { 0 } else { (it & 0xe0) | ((it << 1) & 0x1f) }
}

/// Which core to model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoreKind {
    CortexM4,
    CortexM7,
}

/// Kind of a memory region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionKind {
    /// Read-only for the guest (debugger writes and ELF loading are allowed).
    Flash,
    Ram,
}

/// One memory region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionSpec {
    pub name: String,
    pub start: u32,
    pub size: u32,
    pub kind: RegionKind,
    /// Flash wait states: charged on instruction fetches that miss the
    /// prefetch buffer/cache model and on data loads that miss its data cache
    /// (`flash` module, docs/sim-timing-m4.md). 0 for SRAM/TCM.
    pub wait_states: u32,
}

/// Simulator configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimConfig {
    pub core: CoreKind,
    pub clock_hz: u64,
    pub regions: Vec<RegionSpec>,
}

/// Why [`Simulator::run`] returned without error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The instruction budget of this call is used up; call `run` again to continue.
    InstructionLimit,
    /// Semihosting SYS_EXIT / SYS_EXIT_EXTENDED.
    Exited { code: i32 },
    /// `BKPT #imm` other than the semihosting 0xAB. The PC has moved past the
    /// BKPT, so calling `run` again continues.
    Breakpoint { imm: u8, pc: u32 },
    /// With debug halts on ([`Simulator::set_debug_halts`]): a `BKPT #imm`
    /// (semihosting's 0xAB too) at `pc` halted the core before executing it;
    /// the PC stays on it, as on a Cortex-M with C_DEBUGEN set.
    DebugHalt { imm: u8, pc: u32 },
    /// [`Simulator::run_until`]'s cycle limit is reached (at the first
    /// instruction boundary at or after it); calling it again continues.
    CycleLimit,
}

/// Result of [`Simulator::load_elf`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedImage {
    /// Reset vector (with the Thumb bit cleared).
    pub entry: u32,
    pub initial_sp: u32,
    /// (load address, file size) of each PT_LOAD segment written.
    pub segments: Vec<(u32, u32)>,
}

/// Address and size of an ELF symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SymbolInfo {
    pub address: u32,
    pub size: u32,
}

/// Execution statistics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimStats {
    pub instructions: u64,
    pub cycles: u64,
    /// Executed instructions per class (see [`insn::Insn::class`]).
    pub histogram: BTreeMap<&'static str, u64>,
    /// The simulated core clock; `cycles / clock_hz` is simulated time.
    pub clock_hz: u64,
    /// Exceptions taken (interrupts, SVC, faults).
    pub exceptions: u64,
}

/// Details of the last fault, kept for the HardFault spin detector.
#[derive(Debug, Clone)]
pub(crate) struct FaultRecord {
    pub pc: u32,
    pub lr: u32,
    pub reason: String,
}

/// The simulator: core state, memory, SCS peripherals, symbols and semihosting.
pub struct Simulator {
    pub(crate) core: CoreKind,
    pub(crate) clock_hz: u64,
    pub(crate) mem: Memory,
    pub(crate) scs: Scs,
    /// r0..r14 (index 15 unused: the PC lives in `pc`).
    pub(crate) r: [u32; 16],
    pub(crate) pc: u32,
    pub(crate) next_pc: u32,
    pub(crate) pc_written: bool,
    pub(crate) n: bool,
    pub(crate) z: bool,
    pub(crate) c: bool,
    pub(crate) v: bool,
    pub(crate) q: bool,
    pub(crate) ge: u8,
    pub(crate) itstate: u8,
    /// Whether the current instruction is inside an IT block.
    pub(crate) in_it: bool,
    pub(crate) primask: bool,
    pub(crate) faultmask: bool,
    pub(crate) basepri: u8,
    pub(crate) control: u32,
    /// The banked stack pointer not currently in r13.
    pub(crate) other_sp: u32,
    pub(crate) handler_mode: bool,
    pub(crate) ipsr: u32,
    pub(crate) s: [u32; 32],
    pub(crate) fpscr: u32,
    pub(crate) excl: Option<u32>,
    pub(crate) cycles: u64,
    pub(crate) instructions: u64,
    pub(crate) exceptions: u64,
    /// Per-class counts, indexed by `class & 15` (no bounds check in the hot loop).
    class_counts: [u64; 16],
    pub(crate) timing: timing::Timing,
    pub(crate) symbols: Symbols,
    pub(crate) semihost: Semihosting,
    /// A debugger is attached (`debug` module): BKPT, semihosting's
    /// included, halts the core on the instruction instead of running it.
    pub(crate) debug_halts: bool,
    /// Pending exceptions must be evaluated before the next instruction.
    pub(crate) exc_check: bool,
    /// Set by SVC: the SVCall exception must be taken right after the instruction.
    pub(crate) svc_taken: bool,
    /// EXC_RETURN written to the PC by the current instruction.
    pub(crate) exc_return: Option<u32>,
    /// `exc_return` or `svc_taken` is set: the instruction needs the slow retire path.
    pub(crate) post_step: bool,
    pub(crate) last_quotient: u32,
    pub(crate) last_fault: Option<FaultRecord>,
    pub(crate) initial_sp_hint: u32,
    /// Whether `profiler` is set (tested on taken branches only).
    pub(crate) profiling: bool,
    pub(crate) profiler: Option<Box<profile::Profiler>>,
    /// Flash line of the last instruction fetch (u32::MAX: none).
    pub(crate) fetch_line: u32,
    pub(crate) flash: flash::FlashModel,
    /// Straight-line blocks of fast-form instructions (`block` module).
    blocks: block::BlockCache,
    /// Whether fast forms and blocks run (false: the reference path).
    fast_paths: bool,
    /// Counters, marker pin and events for a current model (`power` module).
    pub(crate) power: power::PowerState,
    /// [`Simulator::run_until`]'s limit (u64::MAX: none).
    cycle_limit: u64,
}

impl Simulator {
    /// Creates a simulator with zeroed memory. Overlapping or empty regions are rejected.
    pub fn new(config: SimConfig) -> Result<Self, SimError> {
        if config.clock_hz == 0 {
            return Err(SimError::InvalidConfig { reason: "clock_hz is 0; set the core clock in Hz".into() });
        }
        if !config.regions.iter().any(|r| r.kind == RegionKind::Flash) {
            return Err(SimError::InvalidConfig {
                reason: "no flash region configured; the vector table is read from the lowest flash region".into(),
            });
        }
        let mem = Memory::new(config.regions)?;
        let timing = match config.core {
            CoreKind::CortexM4 => timing::Timing::M4(timing::CortexM4::default()),
            CoreKind::CortexM7 => timing::Timing::M7(timing::CortexM7::default()),
        };
        let mut sim = Simulator {
            core: config.core,
            clock_hz: config.clock_hz,
            mem,
            scs: Scs::new(config.core),
            r: [0; 16],
            pc: 0,
            next_pc: 0,
            pc_written: false,
            n: false,
            z: false,
            c: false,
            v: false,
            q: false,
            ge: 0,
            itstate: 0,
            in_it: false,
            primask: false,
            faultmask: false,
            basepri: 0,
            control: 0,
            other_sp: 0,
            handler_mode: false,
            ipsr: 0,
            s: [0; 32],
            fpscr: 0,
            excl: None,
            cycles: 0,
            instructions: 0,
            exceptions: 0,
            class_counts: [0; 16],
            timing,
            symbols: Symbols::default(),
            semihost: Semihosting::default(),
            debug_halts: false,
            exc_check: false,
            svc_taken: false,
            exc_return: None,
            post_step: false,
            last_quotient: 0,
            last_fault: None,
            initial_sp_hint: 0,
            profiling: false,
            profiler: None,
            fetch_line: u32::MAX,
            flash: flash::FlashModel::new(config.core),
            blocks: block::BlockCache::default(),
            fast_paths: true,
            power: power::PowerState::default(),
            cycle_limit: u64::MAX,
        };
        sim.reset_core_state();
        Ok(sim)
    }

    fn reset_core_state(&mut self) {
        if self.profiling {
            self.profile_reset();
        }
        self.scs = Scs::new(self.core);
        self.r = [0; 16];
        self.n = false;
        self.z = false;
        self.c = false;
        self.v = false;
        self.q = false;
        self.ge = 0;
        self.itstate = 0;
        self.in_it = false;
        self.primask = false;
        self.faultmask = false;
        self.basepri = 0;
        self.control = 0;
        self.other_sp = 0;
        self.handler_mode = false;
        self.ipsr = 0;
        self.s = [0; 32];
        self.fpscr = 0;
        self.excl = None;
        self.cycles = 0;
        self.instructions = 0;
        self.exceptions = 0;
        self.fetch_line = u32::MAX;
        self.flash.reset();
        self.class_counts = [0; 16];
        self.blocks.reset();
        self.power.reset();
        self.timing.reset();
        self.exc_check = false;
        self.svc_taken = false;
        self.exc_return = None;
        self.post_step = false;
        self.last_fault = None;
        self.semihost.reset();
        // The R14 reset value is UNKNOWN; this value makes a `bx lr` from the reset
        // handler fault visibly instead of jumping to 0.
        self.r[14] = 0xFFFF_FFFF;
    }

    /// Loads an ELF image: PT_LOAD segments at their physical addresses, the symbol
    /// table, then resets from the vector table.
    pub fn load_elf(&mut self, elf: &[u8]) -> Result<LoadedImage, SimError> {
        let (segments, symbols) = elf::load(self, elf)?;
        self.symbols = symbols;
        self.reset()?;
        Ok(LoadedImage { entry: self.pc, initial_sp: self.r[13], segments })
    }

    /// The board's regions in words, for messages: `flash 0x08000000..0x08200000, sram ...`.
    pub fn memory_map(&self) -> String {
        let regions: Vec<String> = self
            .mem
            .regions
            .iter()
            .map(|r| {
                format!(
                    "{} {:#010x}..{:#010x}",
                    r.spec.name,
                    r.spec.start,
                    u64::from(r.spec.start) + u64::from(r.spec.size)
                )
            })
            .collect();
        regions.join(", ")
    }

    /// Resets the core: registers, SCS, counters; SP and PC from the vector table at
    /// the start of the lowest flash region.
    pub fn reset(&mut self) -> Result<(), SimError> {
        self.reset_core_state();
        let vtor = self
            .mem
            .regions
            .iter()
            .filter(|r| r.spec.kind == RegionKind::Flash)
            .map(|r| r.spec.start)
            .min()
            .unwrap_or(0);
        self.scs.vtor = vtor;
        let (Some(sp), Some(pc)) = (self.mem.read(vtor, 4), self.mem.read(vtor.wrapping_add(4), 4)) else {
            return Err(SimError::BadVectorTable { vtor, reason: "vector table is not readable".into() });
        };
        if pc & 1 == 0 {
            return Err(SimError::BadVectorTable {
                vtor,
                reason: format!("reset vector {pc:#010x} lacks the Thumb bit (bit 0)"),
            });
        }
        // The initial stack pointer is one past the stack's top: the word
        // below it must be memory, or the ELF was linked for another map.
        elf::check_mapped(self, "the initial stack pointer (vector table word 0)", sp.wrapping_sub(4) & !3, 4)?;
        self.r[13] = sp & !3;
        self.initial_sp_hint = sp & !3;
        self.pc = pc & !1;
        Ok(())
    }

    /// Executes up to `max_instructions` instructions, stopping with
    /// [`StopReason::CycleLimit`] at the first instruction boundary at or
    /// after cycle `cycle_limit`: how a current trace is sampled in
    /// simulated time. The limit never splits a block before it starts, so
    /// it costs the hot loop nothing; it may be passed by one block.
    pub fn run_until(&mut self, max_instructions: u64, cycle_limit: u64) -> Result<StopReason, SimError> {
        self.cycle_limit = cycle_limit;
        let stop = self.run(max_instructions);
        self.cycle_limit = u64::MAX;
        stop
    }

    /// Executes up to `max_instructions` instructions.
    pub fn run(&mut self, max_instructions: u64) -> Result<StopReason, SimError> {
        if self.profiling {
            self.profile_root();
        }
        self.check_fetch_line();
        // One loop per built-in cycle model, so the model inlines into it.
        match self.timing {
            timing::Timing::M4(_) => self.run_with::<timing::HotM4>(max_instructions),
            timing::Timing::M7(_) => self.run_with::<timing::HotM7>(max_instructions),
            timing::Timing::Custom(_) => self.run_with::<timing::HotCustom>(max_instructions),
        }
    }

    fn run_with<T: timing::HotTiming>(&mut self, max_instructions: u64) -> Result<StopReason, SimError> {
        let mut left = max_instructions;
        while left != 0 {
            if self.cycles >= self.cycle_limit {
                return Ok(StopReason::CycleLimit);
            }
            if self.cycles >= self.scs.syst_zero_at {
                if self.scs.syst_wrap(self.cycles) {
                    self.scs.pending |= 1 << periph::EXC_SYSTICK;
                }
                self.exc_check = true;
            }
            if self.exc_check {
                self.exc_check = false;
                // Before any exception entry: the state right after the marker store.
                self.record_pending_edge();
                left -= 1;
                if self.scs.reset_requested {
                    self.reset()?;
                    if self.profiling {
                        self.profile_root();
                    }
                    self.check_fetch_line();
                    continue;
                }
                if let Err(t) = self.take_pending() {
                    self.handle_trap(t)?;
                    continue;
                }
                left += 1;
            }
            // Straight-line runs of fast forms first; `step` takes whatever
            // they stop at (an IT block, a generic instruction, a cache miss).
            if self.fast_paths && !self.profiling {
                match self.run_fast::<T>(left) {
                    Ok(n) => left -= n,
                    Err((n, t)) => {
                        left -= n + 1;
                        self.handle_trap(t)?;
                        continue;
                    }
                }
                if left == 0
                    || self.exc_check
                    || self.cycles >= self.scs.syst_zero_at
                    || self.cycles >= self.cycle_limit
                {
                    continue;
                }
            }
            left -= 1;
            match self.step::<T>() {
                Ok(()) => {}
                Err(Trap::Stop(s @ StopReason::DebugHalt { .. })) => return Ok(s),
                Err(Trap::Stop(s)) => {
                    self.finish_stop();
                    return Ok(s);
                }
                Err(t) => self.handle_trap(t)?,
            }
        }
        Ok(StopReason::InstructionLimit)
    }

    /// The hot loop: executes up to `budget` instructions back to back while
    /// no exception or SysTick event is due, the fast forms (`exec::fast`)
    /// inline and the rest through [`Simulator::step_general`]. Stops early at
    /// a decode-cache miss or a stop (BKPT, semihosting exit), which `step`
    /// handles. Returns how many it retired; on a trap, also the trap (the
    /// faulting instruction not counted, the PC on it).
    #[inline(always)]
    fn run_fast<T: timing::HotTiming>(&mut self, budget: u64) -> Result<u64, (u64, Trap)> {
        let event_at = self.scs.syst_zero_at;
        // Soft: ends the loop, but a block that fits before `event_at` still starts.
        let stop_at = event_at.min(self.cycle_limit);
        let mut pc = self.pc;
        let mut n = 0;
        while n < budget && self.cycles < stop_at && !self.exc_check {
            let it = self.itstate;
            if T::BLOCKS
                && it & 0xf == 0
                && let Some(id) = self.block_at::<T>(pc)
                && self.blocks.blocks[id].len as u64 <= budget - n
                && self.blocks.blocks[id].max_cycles < event_at - self.cycles
            {
                self.pc = pc;
                match self.run_block::<T>(id) {
                    Ok(k) => n += k,
                    Err((k, t)) => return Err((n + k, t)),
                }
                pc = self.pc;
                continue;
            }
            let Some(&d) = self.mem.icache.get((pc.wrapping_sub(self.mem.icache_base) >> 1) as usize) else { break };
            if d.op == exec::fast::Op::Generic || (it & 0xf != 0 && d.class & memory::OUTSIDE_IT_ONLY != 0) {
                // Empty cache slots and BKPT (a possible stop) are left to `step`.
                if d.len == 0 || d.class & memory::CLASS_MASK == insn::CLASS_TRAP {
                    break;
                }
                self.pc = pc;
                if let Err(t) = self.step_general::<T>(pc, &d) {
                    return Err((n, t));
                }
                n += 1;
                pc = self.pc;
                continue;
            }
            // Inside an IT block: ITAdvance, then the condition.
            let executed = it & 0xf == 0 || {
                self.itstate = it_advance(it);
                self.cond_passed(it >> 4)
            };
            if !executed {
                self.cycles += T::cost_skipped(&mut self.timing, &d) as u64;
                self.class_counts[(d.class & memory::CLASS_MASK) as usize] += 1;
                self.instructions += 1;
                n += 1;
                pc = self.next_sequential(pc, d.len, d.class & memory::LINE_END != 0);
                continue;
            }
            let taken = match self.exec_fast(d.op, pc) {
                Ok(taken) => taken,
                Err(t) => {
                    // A faulting instruction is re-executed after the handler: keep its IT state.
                    self.itstate = it;
                    self.pc = pc;
                    return Err((n, t));
                }
            };
            self.cycles += T::cost(&mut self.timing, &d, taken, self.last_quotient) as u64;
            self.class_counts[(d.class & memory::CLASS_MASK) as usize] += 1;
            self.instructions += 1;
            n += 1;
            if taken {
                let target = self.next_pc;
                if target == pc && self.ipsr == periph::EXC_HARDFAULT {
                    self.pc = pc;
                    return Err((n, Trap::Error(Box::new(self.hardfault_spin_error()))));
                }
                pc = target;
                self.pc = pc;
                self.check_fetch_line();
            } else {
                pc = self.next_sequential(pc, d.len, d.class & memory::LINE_END != 0);
            }
        }
        self.pc = pc;
        Ok(n)
    }

    /// The block starting at `pc`: cached, or built now from the decode
    /// cache. `None` where no block can start (the instruction needs the
    /// general path, or is not decoded yet).
    #[inline(always)]
    fn block_at<T: timing::HotTiming>(&mut self, pc: u32) -> Option<usize> {
        if self.mem.code_changed {
            self.mem.code_changed = false;
            self.blocks.clear();
        }
        match self.blocks.lookup(pc) {
            Some(id) => (self.blocks.blocks[id].len != 0).then_some(id),
            None => self.build_block::<T>(pc),
        }
    }

    /// Collects the fast-form instructions from `pc` (see the `block`
    /// module) and caches them as a block; an empty block marks a start
    /// where none can begin. Stops, without caching, at an instruction that
    /// is not decoded yet.
    #[cold]
    #[inline(never)]
    fn build_block<T: timing::HotTiming>(&mut self, pc: u32) -> Option<usize> {
        let mut decoded: Vec<memory::Decoded> = Vec::new();
        // Per instruction: `block::IT_COND` / `block::DYNAMIC` flags.
        let mut it_flags: Vec<u8> = Vec::new();
        let entry = |at: u32| {
            self.mem.icache.get((at.wrapping_sub(self.mem.icache_base) >> 1) as usize).copied().filter(|d| d.len != 0)
        };
        let is_branch = |op: exec::fast::Op| {
            matches!(op, exec::fast::Op::Branch { .. } | exec::fast::Op::Call { .. } | exec::fast::Op::Cbz { .. })
        };
        let mut at = pc;
        // Instructions still in the current IT group, and whether the next
        // one follows a group (its static cost assumed an executed predecessor).
        let mut in_group = 0;
        let mut after_group = false;
        let complete = loop {
            let Some(d) = entry(at) else { break false };
            if d.op == exec::fast::Op::Generic {
                break true;
            }
            if let exec::fast::Op::It { state } = d.op {
                // The whole group must have fast forms that are right inside
                // IT, a branch only last; else the block ends before the IT.
                let count = 4 - (state & 0xf).trailing_zeros() as usize;
                let mut next = at.wrapping_add(d.len as u32);
                let mut group_ok = decoded.len() + 1 + count <= block::MAX_LEN;
                for k in 0..count {
                    match entry(next) {
                        Some(g)
                            if g.op != exec::fast::Op::Generic
                                && !matches!(g.op, exec::fast::Op::It { .. })
                                && g.class & memory::OUTSIDE_IT_ONLY == 0
                                && (!is_branch(g.op) || k + 1 == count) =>
                        {
                            next = next.wrapping_add(g.len as u32);
                        }
                        _ => group_ok = false,
                    }
                }
                if !group_ok {
                    break true;
                }
                decoded.push(d);
                it_flags.push(if after_group { block::DYNAMIC } else { 0 });
                after_group = false;
                in_group = count;
                at = at.wrapping_add(d.len as u32);
                continue;
            }
            decoded.push(d);
            it_flags.push(if in_group > 0 {
                block::IT_COND | block::DYNAMIC
            } else if after_group {
                block::DYNAMIC
            } else {
                0
            });
            after_group = in_group == 1;
            in_group = in_group.saturating_sub(1);
            if is_branch(d.op) || decoded.len() == block::MAX_LEN {
                break true;
            }
            at = at.wrapping_add(d.len as u32);
        };
        if !complete && decoded.is_empty() {
            return None;
        }
        let prepared: Vec<u64> = decoded.iter().map(|d| d.prepared).collect();
        let costs = T::block_costs(&prepared);
        let id = self.blocks.insert(pc, &decoded, &it_flags, &costs, self.mem.max_wait_states());
        (!decoded.is_empty()).then_some(id)
    }

    /// Runs block `id` from its start (`self.pc`). Returns how many
    /// instructions it retired; on a trap, also the trap (the faulting
    /// instruction not counted, the PC on it).
    #[inline(always)]
    fn run_block<T: timing::HotTiming>(&mut self, id: usize) -> Result<u64, (u64, Trap)> {
        let block::Block { start, first, len, taken_extra, .. } = self.blocks.blocks[id];
        let (first, len) = (first as usize, len as usize);
        let mut pc = start;
        let mut i = 0;
        // Static models: whether the model's state is that after instruction
        // i - 1 (it is not updated by statically charged instructions).
        let mut synced = true;
        let taken = loop {
            let bi = self.blocks.insns[first + i];
            let it = self.itstate;
            if bi.flags & block::IT_COND != 0 {
                // ITAdvance, then the condition (as `step_in_it`).
                self.itstate = it_advance(it);
                if !self.cond_passed(it >> 4) {
                    self.cycles += T::cost_skipped_p(&mut self.timing) as u64;
                    synced = true;
                    i += 1;
                    pc = self.next_sequential(pc, bi.len, bi.flags & block::LINE_END != 0);
                    if i == len {
                        break false;
                    }
                    continue;
                }
            }
            let taken = match self.exec_fast(bi.op, pc) {
                Ok(taken) => taken,
                Err(t) => {
                    // A faulting instruction is re-executed after the handler: keep its IT state.
                    self.itstate = it;
                    self.pc = pc;
                    self.block_exit::<T>(first, i, synced);
                    return Err((i as u64, t));
                }
            };
            if !T::STATIC || i == 0 || bi.flags & block::DYNAMIC != 0 {
                if T::STATIC && !synced {
                    T::after_block(&mut self.timing, self.blocks.insns[first + i - 1].prepared);
                }
                self.cycles += T::cost_p(&mut self.timing, bi.prepared, taken, 0) as u64;
                synced = true;
            } else {
                self.cycles += bi.cycles as u64 + if taken { taken_extra as u64 } else { 0 };
                synced = false;
            }
            i += 1;
            if taken {
                // Only the last instruction branches; `b .` in the HardFault
                // handler is the spin the run stops at.
                let target = self.next_pc;
                if target == pc && self.ipsr == periph::EXC_HARDFAULT {
                    self.pc = pc;
                    self.block_exit::<T>(first, i, synced);
                    return Err((i as u64, Trap::Error(Box::new(self.hardfault_spin_error()))));
                }
                pc = target;
                break true;
            }
            pc = self.next_sequential(pc, bi.len, bi.flags & block::LINE_END != 0);
            // A store may have raised an exception or rewritten code.
            if i == len || (bi.flags & block::STORE != 0 && (self.exc_check || self.mem.code_changed)) {
                break false;
            }
        };
        self.pc = pc;
        self.block_exit::<T>(first, i, synced);
        if i == len {
            self.blocks.blocks[id].runs += 1;
            self.power.block_weighted += self.blocks.blocks[id].weight;
        } else {
            for bi in &self.blocks.insns[first..first + i] {
                self.class_counts[bi.class as usize] += 1;
            }
        }
        if taken {
            self.check_fetch_line();
        }
        Ok(i as u64)
    }

    /// Counts `n` retired instructions of the block at `first` and, unless
    /// `synced`, leaves a static model in the state after the last of them.
    #[inline(always)]
    fn block_exit<T: timing::HotTiming>(&mut self, first: usize, n: usize, synced: bool) {
        self.instructions += n as u64;
        if T::STATIC && !synced {
            T::after_block(&mut self.timing, self.blocks.insns[first + n - 1].prepared);
        }
    }

    /// A BKPT-based stop retires the instruction so the next `run` continues after it.
    fn finish_stop(&mut self) {
        if !self.pc_written {
            self.pc = self.next_pc;
        }
        self.instructions += 1;
        self.cycles += 1;
        // BKPT is in the "trap" class (insn::CLASS_NAMES).
        self.class_counts[insn::CLASS_TRAP as usize] += 1;
    }

    /// Executes one instruction. The common case (outside an IT block, no
    /// exception return or SVC) touches no other state than it must.
    #[inline(always)]
    fn step<T: timing::HotTiming>(&mut self) -> Result<(), Trap> {
        let pc = self.pc;
        let d = match self.fetch_cached(pc) {
            Some(d) => *d,
            None => self.fetch_slow(pc)?,
        };
        if self.itstate & 0xf != 0 || d.op == exec::fast::Op::Generic || !self.fast_paths {
            return self.step_general::<T>(pc, &d);
        }
        let taken = self.exec_fast(d.op, pc)?;
        self.cycles += T::cost(&mut self.timing, &d, taken, self.last_quotient) as u64;
        self.retire(pc, &d, taken)
    }

    /// An instruction without a fast form or inside an IT block. Kept out of
    /// line so the fast paths stay small enough to live in registers.
    #[inline(never)]
    fn step_general<T: timing::HotTiming>(&mut self, pc: u32, d: &memory::Decoded) -> Result<(), Trap> {
        self.prepare_generic(pc, d);
        if self.itstate & 0xf != 0 {
            return self.step_in_it(pc, d);
        }
        self.exec(&d.insn)?;
        let taken = self.pc_written;
        self.cycles += T::cost(&mut self.timing, d, taken, self.last_quotient) as u64;
        self.retire(pc, d, taken)
    }

    /// State the generic visitor reads: the sequential next PC, the PC-written
    /// flag and `r[15]` (the fast forms need none of them).
    #[inline(always)]
    fn prepare_generic(&mut self, pc: u32, d: &memory::Decoded) {
        self.next_pc = pc.wrapping_add(d.len as u32);
        self.pc_written = false;
        self.r[15] = pc.wrapping_add(4);
    }

    /// The address after an instruction of `len` bytes at `pc` that did not
    /// branch; when it ends a flash line (`line_end`), the PC moves there and
    /// the flash model looks at the new line.
    #[inline(always)]
    fn next_sequential(&mut self, pc: u32, len: u8, line_end: bool) -> u32 {
        let next = pc.wrapping_add(len as u32);
        if line_end {
            self.pc = next;
            self.check_fetch_line();
        }
        next
    }

    /// Charges the flash model if the PC is in another line than the last fetch.
    /// Called only where the line can change: after an instruction that ends a
    /// line (`Decoded::class` bit 7) or wrote the PC, after exception entry and
    /// return, and when `run` starts.
    #[inline(always)]
    pub(crate) fn check_fetch_line(&mut self) {
        if self.pc >> self.flash.line_shift != self.fetch_line {
            self.fetch_new_line(self.pc);
        }
    }

    /// The fetch moved to another memory line: flash wait states unless the
    /// prefetch buffer or the instruction cache has it (`flash` module).
    #[inline(always)]
    fn fetch_new_line(&mut self, pc: u32) {
        let line = pc >> self.flash.line_shift;
        let prev = std::mem::replace(&mut self.fetch_line, line);
        let ws = self.mem.fetch_wait_states(pc);
        if ws != 0 && !self.flash.fetch_hit(line) {
            self.fetch_line_miss(line, prev, ws);
        }
    }

    #[cold]
    #[inline(never)]
    fn fetch_line_miss(&mut self, line: u32, prev: u32, ws: u32) {
        self.power.flash_fetch_lines += 1;
        self.cycles += self.flash.fetch(line, prev, ws) as u64;
    }

    /// Bookkeeping after an instruction: counters, PC update and the rare events.
    #[inline(always)]
    fn retire(&mut self, pc: u32, d: &memory::Decoded, taken: bool) -> Result<(), Trap> {
        self.instructions += 1;
        self.class_counts[(d.class & memory::CLASS_MASK) as usize] += 1;
        if self.post_step {
            return self.retire_slow(pc, d, taken);
        }
        self.pc = if taken { self.next_pc } else { pc.wrapping_add(d.len as u32) };
        if d.class & memory::LINE_END != 0 || taken {
            self.check_fetch_line();
        }
        if taken {
            if self.profiling {
                self.profile_branch(&d.insn);
            }
            if self.ipsr == periph::EXC_HARDFAULT && self.pc == pc {
                return Err(Trap::Error(Box::new(self.hardfault_spin_error())));
            }
        }
        Ok(())
    }

    /// Exception return or SVC after the instruction.
    #[cold]
    #[inline(never)]
    fn retire_slow(&mut self, pc: u32, d: &memory::Decoded, taken: bool) -> Result<(), Trap> {
        self.post_step = false;
        if self.exc_return.is_none() {
            self.pc = self.next_pc;
            if taken && self.profiling {
                self.profile_branch(&d.insn);
            }
        }
        if let Some(v) = self.exc_return.take() {
            self.exception_return(v)?;
            self.cycles += self.timing.exception_return_cycles() as u64;
            if self.profiling {
                self.profile_exception_return();
            }
        }
        if self.svc_taken {
            self.svc_taken = false;
            self.take_svc()?;
        }
        self.check_fetch_line();
        if taken && self.ipsr == periph::EXC_HARDFAULT && self.pc == pc {
            return Err(Trap::Error(Box::new(self.hardfault_spin_error())));
        }
        Ok(())
    }

    /// An instruction inside an IT block: ITAdvance, condition check, and the
    /// full timing context (a skipped instruction still costs its issue slot).
    #[inline(never)]
    fn step_in_it(&mut self, pc: u32, d: &memory::Decoded) -> Result<(), Trap> {
        let it = self.itstate;
        self.in_it = true;
        // ITAdvance before executing: an exception taken by this instruction
        // (SVC) must stack the state of the following one.
        self.itstate = it_advance(it);
        let executed = self.cond_passed(it >> 4);
        if executed && let Err(t) = self.exec(&d.insn) {
            self.in_it = false;
            if !matches!(t, Trap::Stop(_)) {
                // A faulting instruction is re-executed after the handler: keep its IT state.
                self.itstate = it;
            }
            return Err(t);
        }
        self.in_it = false;
        let taken = self.pc_written;
        let ctx = TimingCtx { executed, taken, quotient: self.last_quotient, prepared: d.prepared };
        self.cycles += self.timing.cycles(&d.insn, &ctx) as u64;
        self.retire(pc, d, taken)
    }

    /// Simulated cycles since reset.
    pub fn cycles(&self) -> u64 {
        self.cycles
    }

    /// Instructions retired since reset.
    pub fn instructions(&self) -> u64 {
        self.instructions
    }

    /// Address of the next instruction.
    pub fn pc(&self) -> u32 {
        self.pc
    }

    /// r0..r15 (r15 reads as the address of the next instruction).
    pub fn reg(&self, n: usize) -> u32 {
        match n {
            15 => self.pc,
            0..=14 => self.r[n],
            _ => 0,
        }
    }

    /// Sets a core register (r15 sets the PC). For tests and debugger use.
    pub fn set_reg(&mut self, n: usize, value: u32) {
        match n {
            15 => self.pc = value & !1,
            0..=14 => self.r[n] = value,
            _ => {}
        }
    }

    /// APSR flags as (N, Z, C, V, Q).
    pub fn flags(&self) -> (bool, bool, bool, bool, bool) {
        (self.n, self.z, self.c, self.v, self.q)
    }

    /// Sets the APSR flags from an APSR-format word (N Z C V Q in bits 31..27, GE in 19..16).
    pub fn set_apsr(&mut self, apsr: u32) {
        self.n = apsr >> 31 != 0;
        self.z = apsr >> 30 & 1 != 0;
        self.c = apsr >> 29 & 1 != 0;
        self.v = apsr >> 28 & 1 != 0;
        self.q = apsr >> 27 & 1 != 0;
        self.ge = ((apsr >> 16) & 0xf) as u8;
    }

    /// APSR.GE bits.
    pub fn ge(&self) -> u8 {
        self.ge
    }

    /// FP single-precision register Sn (raw bits).
    pub fn sreg(&self, n: usize) -> u32 {
        self.s.get(n).copied().unwrap_or(0)
    }

    /// Debugger read: regions only, no side effects.
    pub fn read_memory(&self, addr: u32, buf: &mut [u8]) -> Result<(), SimError> {
        self.mem.read_bytes(addr, buf).map_err(|(addr, len)| SimError::DebugAccess { addr, len })
    }

    /// Debugger write: any region, including flash.
    pub fn write_memory(&mut self, addr: u32, data: &[u8]) -> Result<(), SimError> {
        self.mem.write_bytes(addr, data).map_err(|(addr, len)| SimError::DebugAccess { addr, len })
    }

    /// Looks up a symbol by name.
    pub fn symbol(&self, name: &str) -> Option<SymbolInfo> {
        self.symbols.get(name)
    }

    /// `func+0x1a` for an address inside a known symbol.
    pub fn symbolize(&self, addr: u32) -> Option<String> {
        self.symbols.symbolize(addr)
    }

    /// Semihosting stdout + stderr bytes written since the last call.
    pub fn take_semihosting_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.semihost.output)
    }

    /// Instruction/cycle counts and the per-class histogram.
    pub fn stats(&self) -> SimStats {
        let mut counts = self.class_counts;
        for (c, b) in counts.iter_mut().zip(self.blocks.class_counts()) {
            *c += b;
        }
        let histogram = CLASS_NAMES.iter().zip(counts.iter()).filter(|(_, c)| **c > 0).map(|(n, c)| (*n, *c)).collect();
        SimStats {
            instructions: self.instructions,
            cycles: self.cycles,
            histogram,
            clock_hz: self.clock_hz,
            exceptions: self.exceptions,
        }
    }

    /// Turns the fast forms and straight-line blocks (docs/sim-performance.md)
    /// off or on. Off, every instruction runs through the generic visitor and
    /// the per-instruction cycle model: the reference the fast paths are
    /// tested against (same registers, memory, cycles and statistics). On by
    /// default.
    pub fn set_fast_paths(&mut self, enabled: bool) {
        self.fast_paths = enabled;
    }

    /// Replaces the cycle model (e.g. a calibrated one).
    pub fn set_cycle_model(&mut self, model: Box<dyn CycleModel + Send>) {
        self.timing = timing::Timing::Custom(model);
        // Cached `prepare` results belong to the old model.
        self.mem.flush_decode_cache();
    }

    /// Location context for errors at `pc`.
    pub(crate) fn location(&self, pc: u32) -> Location {
        let symbol = self.symbols.symbolize(pc).unwrap_or_else(|| "<no symbol>".into());
        let hw1 = self.mem.read(pc, 2);
        match hw1 {
            Some(h1) => {
                let h1 = h1 as u16;
                let (word, len, hw2) = if decode::is_32bit(h1) {
                    match self.mem.read(pc.wrapping_add(2), 2) {
                        Some(h2) => (Some(((h1 as u32) << 16) | h2), 4u8, h2 as u16),
                        None => (None, 4, 0),
                    }
                } else {
                    (Some(h1 as u32), 2, 0)
                };
                let disasm =
                    if word.is_some() { disasm::disassemble(&decode::decode(h1, hw2).0, pc) } else { String::new() };
                Location { pc, word, len, symbol, disasm }
            }
            None => Location { pc, word: None, len: 2, symbol, disasm: String::new() },
        }
    }
}

#[cfg(test)]
mod tests;
