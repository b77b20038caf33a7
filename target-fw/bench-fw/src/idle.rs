//! The idle wait before the first timed inference: the core sleeps in WFI
//! (Sleep mode: SLEEPDEEP stays clear, so clocks and SysTick keep running)
//! for `TINYBENCH_IDLE_MS`, woken each millisecond by SysTick, so a power
//! meter records a baseline to subtract. Compiled only when asked
//! (`cfg(idle)`): the SysTick handler would otherwise change every image.

use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::peripheral::SYST;
use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_rt::exception;

static TICKS: AtomicU32 = AtomicU32::new(0);

#[exception]
fn SysTick() {
    // Only this handler writes TICKS: a plain load and store suffice.
    TICKS.store(TICKS.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
}

/// Sleeps `ms` SysTick periods of 1 ms at `core_clock_hz`, then stops
/// SysTick so the timed inferences run without interrupts.
pub fn idle(syst: &mut SYST, ms: u32, core_clock_hz: u32) {
    syst.set_clock_source(SystClkSource::Core);
    // 1 ms of core cycles; SysTick's reload is 24 bits (up to 16.7 MHz per ms).
    syst.set_reload((core_clock_hz / 1000).clamp(2, 1 << 24) - 1);
    syst.clear_current();
    TICKS.store(0, Ordering::Relaxed);
    syst.enable_interrupt();
    syst.enable_counter();
    while TICKS.load(Ordering::Relaxed) < ms {
        // A tick between the check and the WFI costs at most one extra period.
        cortex_m::asm::wfi();
    }
    syst.disable_counter();
    syst.disable_interrupt();
}
