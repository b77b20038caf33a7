//! The marker pin: high during each timed inference (and toggled at layer
//! boundaries with per-layer marks), so a power instrument can tell what the
//! firmware was doing. Each change is one store to the register the board
//! file's `[marker]` names (build.rs writes `params::MARKER_*`), the same on
//! every board; the board's `init` configures the pin as an output. On the
//! simulator the store is a modeled GPIO edge. Without a `[marker]`
//! (`cfg(marker)` unset) the functions compile to nothing.

#[cfg(marker)]
use crate::params::{MARKER_CLEAR_ADDRESS, MARKER_CLEAR_VALUE, MARKER_SET_ADDRESS, MARKER_SET_VALUE};

/// Raises the marker.
#[inline(always)]
pub fn high() {
    #[cfg(marker)]
    {
        // SAFETY: the board file's set register of the marker's GPIO port; the
        // value sets only the marker pin, which `board::init` made an output.
        unsafe { core::ptr::write_volatile(MARKER_SET_ADDRESS as *mut u32, MARKER_SET_VALUE) };
    }
}

/// Lowers the marker.
#[inline(always)]
pub fn low() {
    #[cfg(marker)]
    {
        // SAFETY: as in `high`, with the clear register.
        unsafe { core::ptr::write_volatile(MARKER_CLEAR_ADDRESS as *mut u32, MARKER_CLEAR_VALUE) };
    }
}

/// Sets the marker to `level` with one store (the register and value are
/// chosen first).
#[cfg(layer_marks)]
#[inline(always)]
pub fn set(level: bool) {
    let (address, value) =
        if level { (MARKER_SET_ADDRESS, MARKER_SET_VALUE) } else { (MARKER_CLEAR_ADDRESS, MARKER_CLEAR_VALUE) };
    // SAFETY: as in `high` and `low`.
    unsafe { core::ptr::write_volatile(address as *mut u32, value) }
}

/// Cycles of one marker write, for the host to account for them: the
/// fastest of a few CYCCNT-bracketed writes, less the bracket itself. It
/// lowers the already low pin, so no instrument sees an edge.
pub fn write_cycles() -> u32 {
    use core::sync::atomic::{Ordering, compiler_fence};
    use cortex_m::peripheral::DWT;
    let mut best = u32::MAX;
    for _ in 0..4 {
        compiler_fence(Ordering::SeqCst);
        let a = DWT::cycle_count();
        compiler_fence(Ordering::SeqCst);
        let b = DWT::cycle_count();
        compiler_fence(Ordering::SeqCst);
        low();
        compiler_fence(Ordering::SeqCst);
        let c = DWT::cycle_count();
        best = best.min(c.wrapping_sub(b).saturating_sub(b.wrapping_sub(a)));
    }
    best
}
