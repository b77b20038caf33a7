//! Caller-defined memory regions with a per-halfword pre-decoded instruction cache.

use std::cell::Cell;

use crate::insn::Insn;
use crate::{RegionKind, RegionSpec, SimError};

/// A decoded instruction and its length, cached per halfword address.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Decoded {
    pub insn: Insn,
    pub len: u8,
    /// [`Insn::class_id`], precomputed for the statistics histogram.
    pub class: u8,
    /// The cycle model's [`crate::CycleModel::prepare`] result.
    pub prepared: u64,
}

pub(crate) struct Region {
    pub spec: RegionSpec,
    pub data: Vec<u8>,
    /// Indexed by (addr - start) / 2. Cleared for the touched halfwords on every
    /// write, so self-modifying and RAM-loaded code stay correct.
    pub cache: Vec<Option<Decoded>>,
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
            regions.push(Region { data: vec![0; spec.size as usize], cache: vec![None; halfwords], spec });
        }
        if regions.is_empty() {
            return Err(SimError::InvalidConfig {
                reason: "no memory regions configured; add at least a flash and a RAM region".into(),
            });
        }
        Ok(Memory { regions, last: Cell::new(0), last_fetch: Cell::new(0) })
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
        if let Some(r) = regions.get(last)
            && addr >= r.spec.start
            && addr as u64 + size as u64 <= r.end()
        {
            return Some((last, (addr - r.spec.start) as usize));
        }
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
            1 => d[off] as u32,
            2 => u16::from_le_bytes([d[off], d[off + 1]]) as u32,
            _ => u32::from_le_bytes([d[off], d[off + 1], d[off + 2], d[off + 3]]),
        })
    }

    /// Guest write: flash regions are read-only.
    #[inline(always)]
    pub fn write(&mut self, addr: u32, size: u32, value: u32) -> Result<(), MemFault> {
        let (i, off) = self.find(addr, size).ok_or(MemFault::Unmapped)?;
        let r = &mut self.regions[i];
        if r.spec.kind == RegionKind::Flash {
            return Err(MemFault::ReadOnly);
        }
        let bytes = value.to_le_bytes();
        r.data[off..off + size as usize].copy_from_slice(&bytes[..size as usize]);
        invalidate(&mut r.cache, off, size as usize);
        Ok(())
    }

    /// Drops every cached decode (e.g. after the cycle model changed).
    pub fn flush_decode_cache(&mut self) {
        for r in &mut self.regions {
            r.cache.fill(None);
        }
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
            let r = &mut self.regions[i];
            r.data[off] = *b;
            invalidate(&mut r.cache, off, 1);
        }
        Ok(())
    }
}

/// Drops cached decodes overlapping `[off, off + len)`, including a 32-bit
/// instruction starting one halfword earlier.
#[inline]
fn invalidate(cache: &mut [Option<Decoded>], off: usize, len: usize) {
    let first = (off / 2).saturating_sub(1);
    let last = ((off + len - 1) / 2 + 1).min(cache.len());
    if let Some(slots) = cache.get_mut(first..last) {
        slots.fill(None);
    }
}
