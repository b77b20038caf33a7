//! Caller-defined memory regions with a per-halfword pre-decoded instruction cache.

use std::cell::Cell;

use crate::exec::fast::Op;
use crate::insn::Insn;
use crate::{RegionKind, RegionSpec, SimError};

/// A decoded instruction and its length, cached per halfword address.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Decoded {
    pub insn: Insn,
    /// The executor's fast form of `insn` ([`Op::Generic`]: none).
    pub op: Op,
    pub len: u8,
    /// [`Insn::class_id`] (bits 0..4, [`CLASS_MASK`]) for the statistics
    /// histogram, and [`LINE_END`].
    pub class: u8,
    /// The cycle model's [`crate::CycleModel::prepare`] result.
    pub prepared: u64,
}

impl Decoded {
    /// An empty cache slot (`len` 0; real instructions are 2 or 4 bytes).
    pub const EMPTY: Decoded =
        Decoded { insn: Insn::Undefined { word: 0 }, op: Op::Generic, len: 0, class: 0, prepared: 0 };
}

/// `Decoded::class` bits holding the class id.
pub(crate) const CLASS_MASK: u8 = 15;
/// `Decoded::class` flag: the fast form is only right outside an IT block
/// ([`crate::exec::fast::Op::outside_it_only`]).
pub(crate) const OUTSIDE_IT_ONLY: u8 = 0x40;
/// `Decoded::class` flag: the next sequential instruction starts in another flash
/// line (the flash model must look at it).
pub(crate) const LINE_END: u8 = 0x80;

pub(crate) struct Region {
    pub spec: RegionSpec,
    pub data: Vec<u8>,
    /// Indexed by (addr - start) / 2. Cleared for the touched halfwords on every
    /// write, so self-modifying and RAM-loaded code stay correct.
    pub cache: Vec<Decoded>,
    /// Half-open range of cache indices that may hold entries (empty when
    /// `lo >= hi`): stores outside it skip the invalidation.
    pub cached_lo: usize,
    pub cached_hi: usize,
}

impl Region {
    #[inline]
    fn end(&self) -> u64 {
        self.spec.start as u64 + self.spec.size as u64
    }
}

/// Why a region access failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MemFault {
    Unmapped,
    ReadOnly,
}

pub(crate) struct Memory {
    pub regions: Vec<Region>,
    /// Index of the region that served the last data access (most accesses hit it again).
    last: Cell<usize>,
    /// Same for instruction fetches, kept apart so code in flash and data in RAM
    /// don't evict each other.
    last_fetch: Cell<usize>,
    /// The decode cache of the region code currently runs from, moved out of its
    /// `Region` so a fetch is one subtraction and one bounds check.
    pub icache: Vec<Decoded>,
    /// Start address of `icache`'s region.
    pub icache_base: u32,
    /// Index of the region whose cache is in `icache` (usize::MAX: none).
    icache_region: usize,
    /// `wait_states` of `icache`'s region.
    pub icache_wait_states: u32,
    /// A cached decode was dropped since the flag was last cleared: blocks
    /// built from the decode cache (`crate::block`) are stale.
    pub code_changed: bool,
}

impl Memory {
    pub fn new(specs: Vec<RegionSpec>) -> Result<Self, SimError> {
        let mut regions: Vec<Region> = Vec::with_capacity(specs.len());
        for spec in specs {
            if spec.size == 0 {
                return Err(SimError::InvalidConfig {
                    reason: format!("region `{}` has size 0; give it a non-zero size", spec.name),
                });
            }
            if spec.start as u64 + spec.size as u64 > 0xE000_0000 {
                return Err(SimError::InvalidConfig {
                    reason: format!(
                        "region `{}` ({:#010x}, {:#x} bytes) reaches into the system address space at 0xE000_0000; shrink or move it",
                        spec.name, spec.start, spec.size
                    ),
                });
            }
            for other in &regions {
                let (a0, a1) = (spec.start as u64, spec.start as u64 + spec.size as u64);
                let (b0, b1) = (other.spec.start as u64, other.end());
                if a0 < b1 && b0 < a1 {
                    return Err(SimError::InvalidConfig {
                        reason: format!(
                            "regions `{}` and `{}` overlap; fix their start/size so they are disjoint",
                            spec.name, other.spec.name
                        ),
                    });
                }
            }
            let halfwords = (spec.size as usize).div_ceil(2);
            regions.push(Region {
                data: vec![0; spec.size as usize],
                cache: vec![Decoded::EMPTY; halfwords],
                cached_lo: usize::MAX,
                cached_hi: 0,
                spec,
            });
        }
        if regions.is_empty() {
            return Err(SimError::InvalidConfig {
                reason: "no memory regions configured; add at least a flash and a RAM region".into(),
            });
        }
        Ok(Memory {
            regions,
            last: Cell::new(0),
            last_fetch: Cell::new(0),
            icache: Vec::new(),
            icache_base: 0,
            icache_region: usize::MAX,
            icache_wait_states: 0,
            code_changed: false,
        })
    }

    /// Finds the region holding `[addr, addr + size)`; returns (region index, offset).
    #[inline]
    pub fn find(&self, addr: u32, size: u32) -> Option<(usize, usize)> {
        Self::find_with(&self.regions, &self.last, addr, size)
    }

    /// [`Memory::find`] for instruction fetches.
    #[inline]
    pub fn find_fetch(&self, addr: u32) -> Option<(usize, usize)> {
        Self::find_with(&self.regions, &self.last_fetch, addr, 2)
    }

    #[inline(always)]
    fn find_with(regions: &[Region], hint: &Cell<usize>, addr: u32, size: u32) -> Option<(usize, usize)> {
        let last = hint.get();
        if let Some(r) = regions.get(last) {
            // One compare: addresses below the start wrap to huge offsets.
            let off = addr.wrapping_sub(r.spec.start) as usize;
            if off + size as usize <= r.data.len() {
                return Some((last, off));
            }
        }
        Self::find_slow(regions, hint, addr, size)
    }

    #[cold]
    #[inline(never)]
    fn find_slow(regions: &[Region], hint: &Cell<usize>, addr: u32, size: u32) -> Option<(usize, usize)> {
        for (i, r) in regions.iter().enumerate() {
            if addr >= r.spec.start && addr as u64 + size as u64 <= r.end() {
                hint.set(i);
                return Some((i, (addr - r.spec.start) as usize));
            }
        }
        None
    }

    #[inline(always)]
    pub fn read(&self, addr: u32, size: u32) -> Option<u32> {
        let (i, off) = self.find(addr, size)?;
        let d = &self.regions[i].data;
        Some(match size {
            1 => *d.get(off)? as u32,
            2 => u16::from_le_bytes(d.get(off..off + 2)?.try_into().ok()?) as u32,
            _ => u32::from_le_bytes(d.get(off..off + 4)?.try_into().ok()?),
        })
    }

    /// Guest read: the value and the region's wait states.
    #[inline(always)]
    pub fn read_ws(&self, addr: u32, size: u32) -> Option<(u32, u32)> {
        let (i, off) = self.find(addr, size)?;
        let r = &self.regions[i];
        let d = &r.data;
        let v = match size {
            1 => *d.get(off)? as u32,
            2 => u16::from_le_bytes(d.get(off..off + 2)?.try_into().ok()?) as u32,
            _ => u32::from_le_bytes(d.get(off..off + 4)?.try_into().ok()?),
        };
        Some((v, r.spec.wait_states))
    }

    /// The largest wait states of any region.
    pub fn max_wait_states(&self) -> u32 {
        self.regions.iter().map(|r| r.spec.wait_states).max().unwrap_or(0)
    }

    /// Wait states of the region holding the instruction at `pc` (0 if unmapped).
    #[inline(always)]
    pub fn fetch_wait_states(&self, pc: u32) -> u32 {
        if ((pc.wrapping_sub(self.icache_base) >> 1) as usize) < self.icache.len() {
            return self.icache_wait_states;
        }
        self.find_fetch(pc).map_or(0, |(i, _)| self.regions[i].spec.wait_states)
    }

    /// The decode cache of region `i` (wherever it currently lives).
    #[inline]
    fn cache_mut(&mut self, i: usize) -> &mut Vec<Decoded> {
        if i == self.icache_region { &mut self.icache } else { &mut self.regions[i].cache }
    }

    /// Makes region `ri`'s decode cache the active `icache`.
    fn activate_icache(&mut self, ri: usize) {
        if ri == self.icache_region {
            return;
        }
        if let Some(old) = self.regions.get_mut(self.icache_region) {
            old.cache = std::mem::take(&mut self.icache);
        }
        self.icache = std::mem::take(&mut self.regions[ri].cache);
        self.icache_base = self.regions[ri].spec.start;
        self.icache_wait_states = self.regions[ri].spec.wait_states;
        self.icache_region = ri;
    }

    /// Stores a decode in the cache slot for offset `off` of region `ri` and makes
    /// that region's cache the active one.
    pub fn cache_insert(&mut self, ri: usize, off: usize, d: Decoded) {
        self.activate_icache(ri);
        let i = off / 2;
        if let Some(slot) = self.icache.get_mut(i) {
            *slot = d;
            let r = &mut self.regions[ri];
            r.cached_lo = r.cached_lo.min(i);
            r.cached_hi = r.cached_hi.max(i + 1);
        }
    }

    /// Guest write: flash regions are read-only.
    #[inline(always)]
    pub fn write(&mut self, addr: u32, size: u32, value: u32) -> Result<(), MemFault> {
        let (i, off) = self.find(addr, size).ok_or(MemFault::Unmapped)?;
        let r = &mut self.regions[i];
        if r.spec.kind == RegionKind::Flash {
            return Err(MemFault::ReadOnly);
        }
        match size {
            1 => r.data[off] = value as u8,
            2 => r.data[off..off + 2].copy_from_slice(&(value as u16).to_le_bytes()),
            _ => r.data[off..off + 4].copy_from_slice(&value.to_le_bytes()),
        }
        if off / 2 + 2 >= r.cached_lo && off / 2 <= r.cached_hi {
            invalidate(self.cache_mut(i), off, size as usize);
            self.code_changed = true;
        }
        Ok(())
    }

    /// Drops every cached decode (e.g. after the cycle model changed).
    pub fn flush_decode_cache(&mut self) {
        for r in &mut self.regions {
            r.cache.fill(Decoded::EMPTY);
            r.cached_lo = usize::MAX;
            r.cached_hi = 0;
        }
        self.icache.fill(Decoded::EMPTY);
        self.code_changed = true;
    }

    /// Debugger view: any region, no side effects beyond the cache.
    pub fn read_bytes(&self, addr: u32, buf: &mut [u8]) -> Result<(), (u32, u32)> {
        let len = buf.len() as u32;
        for (k, b) in buf.iter_mut().enumerate() {
            let a = addr.wrapping_add(k as u32);
            *b = self.read(a, 1).ok_or((a, len))? as u8;
        }
        Ok(())
    }

    /// Debugger view: writes flash too.
    pub fn write_bytes(&mut self, addr: u32, data: &[u8]) -> Result<(), (u32, u32)> {
        for (k, b) in data.iter().enumerate() {
            let a = addr.wrapping_add(k as u32);
            let (i, off) = self.find(a, 1).ok_or((a, data.len() as u32))?;
            self.regions[i].data[off] = *b;
            invalidate(self.cache_mut(i), off, 1);
            self.code_changed = true;
        }
        Ok(())
    }
}

/// Drops cached decodes overlapping `[off, off + len)`, including a 32-bit
/// instruction starting one halfword earlier.
#[inline]
fn invalidate(cache: &mut [Decoded], off: usize, len: usize) {
    let first = (off / 2).saturating_sub(1);
    let last = ((off + len - 1) / 2 + 1).min(cache.len());
    if let Some(slots) = cache.get_mut(first..last) {
        slots.fill(Decoded::EMPTY);
    }
}
