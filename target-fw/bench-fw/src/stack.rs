//! Stack high-water mark by painting: fill the unused stack with a pattern at
//! start-up, and later find the lowest word that is no longer the pattern.
//!
//! cortex-m-rt's layout: the stack grows down from `_stack_start` (end of RAM)
//! towards `__sheap` (end of .bss; there is no heap), so the whole gap is the
//! stack's to use.

use core::ptr;

const PAINT: u32 = 0xCCCC_CCCC;

/// Left unpainted below the stack pointer at painting time, for the frames of
/// `paint` itself. Counted as used, so the peak is an upper bound by at most this.
const SAFETY_MARGIN_BYTES: usize = 256;

unsafe extern "C" {
    // Linker symbols: only their addresses are meaningful.
    static __sheap: u32;
    static _stack_start: u32;
}

/// The painted stack region.
pub struct PaintedStack {
    bottom: *const u32,
    painted_end: *const u32,
    top: usize,
}

fn stack_limits() -> (usize, usize) {
    // Taking the addresses of linker symbols reads no memory.
    (ptr::addr_of!(__sheap) as usize, ptr::addr_of!(_stack_start) as usize)
}

/// Paints from the end of .bss up to the stack pointer minus a margin. Call
/// early, with interrupts off, before anything deep on the stack has run.
#[inline(never)]
pub fn paint() -> PaintedStack {
    let (bottom, top) = stack_limits();
    let sp = cortex_m::register::msp::read() as usize;
    let painted_end = (sp - SAFETY_MARGIN_BYTES) & !3;
    let mut word = bottom as *mut u32;
    while (word as usize) < painted_end {
        // SAFETY: [__sheap, sp - margin) is RAM below every live stack frame
        // that no Rust object occupies; volatile keeps the loop a loop (a
        // memset call would push a frame into the region while it is painted).
        unsafe { word.write_volatile(PAINT) };
        word = word.wrapping_add(1);
    }
    PaintedStack { bottom: bottom as *const u32, painted_end: painted_end as *const u32, top }
}

impl PaintedStack {
    /// Bytes between the stack top and the lowest overwritten word.
    pub fn peak_bytes(&self) -> u32 {
        let mut word = self.bottom;
        while word < self.painted_end {
            // SAFETY: inside the painted region, which is plain RAM.
            if unsafe { word.read_volatile() } != PAINT {
                break;
            }
            word = word.wrapping_add(1);
        }
        (self.top - word as usize) as u32
    }

    /// Bytes available to the stack: from the end of .bss to the end of RAM.
    pub fn size_bytes(&self) -> u32 {
        (self.top - self.bottom as usize) as u32
    }
}
