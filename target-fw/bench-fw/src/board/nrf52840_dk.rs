//! Nordic nRF52840-DK (PCA10056): nRF52840 (Cortex-M4F) at 64 MHz, HFCLK
//! from the 32 MHz crystal (HFXO), flash instruction cache on.
//!
//! The nRF52840's CPU always runs at 64 MHz (there is no clock tree to set
//! up); starting the HFXO only replaces the internal RC oscillator (HFINT)
//! as the HFCLK source, for frequency accuracy. What `init` does (register
//! writes through `nrf52840-pac`; not verified on hardware):
//! - clears EVENTS_HFCLKSTARTED, triggers TASKS_HFCLKSTART and waits for
//!   EVENTS_HFCLKSTARTED, then checks HFCLKSTAT (source Xtal, running);
//! - NVMC.ICACHECNF.CACHEEN = 1 (the flash instruction cache is off after
//!   reset);
//! - marker P1.07 as a push-pull output (standard drive S0S1), low.
//!
//! Not done: the regulator stays the LDO (POWER.DCDCEN reset value 0), and
//! none of the errata workarounds of Nordic's `system_nrf52840.c` are
//! applied (those for current silicon concern peripherals this firmware does
//! not use; not verified). Nor the software unlock of the debug access port
//! that nRF52840 revision 3 silicon (newer DKs) needs after each reset
//! besides UICR.APPROTECT = HwDisabled (Nordic's start-up code writes
//! APPROTECT.DISABLE; `nrf52840-pac` 0.12 predates that register): on such
//! a chip the probe may lose access once the firmware runs (not verified).

use nrf52840_pac as pac;

use super::BoardInfo;

/// The nRF52840's fixed CPU clock.
const CPU_CLOCK_HZ: u32 = 64_000_000;

/// The marker is P1.07: Arduino D6 on the DK's Arduino-shaped headers, the
/// same header position as on the Nucleo boards. P0.13..P0.16 are the LEDs
/// (active low) and P1.01/P1.02 (D0/D1) the Arduino UART; P1.07 is free on
/// the DK. The nRF52840 product specification lists the P1.0x pins near the
/// radio as for low-frequency I/O (a few edges per inference qualify).
/// Header position taken from the board's Arduino pin map; not verified on
/// hardware.
const MARKER_PIN: usize = 7;

// The board file's [marker] writes must drive this pin: P1 OUTSET / OUTCLR bit 7.
#[cfg(marker)]
const _: () = assert!(
    crate::params::MARKER_SET_VALUE == 1 << MARKER_PIN && crate::params::MARKER_CLEAR_VALUE == 1 << MARKER_PIN,
    "configs/boards/nrf52840-dk.toml [marker] does not drive P1.07"
);

pub fn init(_core: &mut cortex_m::Peripherals) -> BoardInfo {
    // Runs once, before anything else could have taken them.
    let device = pac::Peripherals::take().expect("device peripherals are taken only here");

    let clock = &device.CLOCK;
    clock.events_hfclkstarted.write(|w| w.events_hfclkstarted().clear_bit());
    clock.tasks_hfclkstart.write(|w| w.tasks_hfclkstart().set_bit());
    while clock.events_hfclkstarted.read().events_hfclkstarted().bit_is_clear() {}
    let stat = clock.hfclkstat.read();
    if !(stat.src().is_xtal() && stat.state().is_running()) {
        defmt::warn!("HFCLKSTAT {=u32:#010x}: HFCLK is not running from the HFXO", stat.bits());
    }

    device.NVMC.icachecnf.modify(|_, w| w.cacheen().enabled());
    if device.NVMC.icachecnf.read().cacheen().is_disabled() {
        defmt::warn!("NVMC.ICACHECNF: the flash instruction cache did not turn on");
    }

    // Marker: low first, then output.
    crate::marker::low();
    device.P1.pin_cnf[MARKER_PIN].write(|w| {
        w.dir().output();
        w.input().disconnect();
        w.pull().disabled();
        w.drive().s0s1();
        w.sense().disabled()
    });

    // The CPU clock cannot be read back: it is 64 MHz by design.
    super::check_clock(CPU_CLOCK_HZ)
}
