//! The three seams the INA219 driver is generic over, so that the same driver
//! code reads a real INA219 on a Linux bench controller and the register model
//! in [`super::sim`]:
//!
//! | seam | real (Linux bench controller) | simulated ([`super::sim::Ina219Sim`]) |
//! | --- | --- | --- |
//! | I2C bus: [`embedded_hal::i2c::I2c`] (7-bit addresses) | `linux_embedded_hal::I2cdev` on `/dev/i2c-N` | `sim::SimBus` |
//! | [`Clock`] | [`MonotonicClock`] (`CLOCK_MONOTONIC`) | `sim::SimClock` (virtual time) |
//! | [`MarkerLine`] | a `gpiocdev` line request with edge detection | `sim::SimMarker` |
//!
//! The I2C seam is the embedded-hal 1.0 trait itself. A driver reads a
//! register with `write_read(address, &[pointer], &mut [msb, lsb])` (or a
//! pointer write followed by plain `read`s: the INA219 keeps its pointer) and
//! writes one with `write(address, &[pointer, msb, lsb])`. A device that is
//! absent or unplugged fails the transaction. On the simulator that error's
//! [`embedded_hal::i2c::Error::kind`] is
//! `ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address)` (an injected bus
//! glitch is `ErrorKind::Bus`); on Linux it is
//! that kind only when the adapter reports `ENXIO` (the kernel's documented
//! code for an address NACK): adapters that report `EREMOTEIO` instead (the
//! Raspberry Pi's `i2c-bcm2835`, for one) come out of linux-embedded-hal 0.5 as
//! `ErrorKind::Other`, so a driver should treat any failed transaction as
//! "the sensor did not answer", not only the NACK kind.
//!
//! A [`Clock`] and a [`MarkerLine`] come as a pair: the marker's edge times are
//! on that clock, so a driver can put its register readings and the marker's
//! edges on one time axis without converting anything.
//!
//! # Time on the simulator
//!
//! The simulator's clock is virtual: it advances only with the bus traffic
//! (each transaction costs the time of its bits at the bus speed) and when the
//! simulator is told to advance. A driver therefore has to keep doing I2C
//! transactions while it waits for something (a conversion, the marker's
//! edges); a loop that only reads the clock or the marker line never sees time
//! pass on the simulator. Polling the INA219 as fast as the bus allows, as a
//! capture loop does anyway, is enough. For the same reason, measure deadlines
//! with the [`Clock`], and start them when the waiting starts (e.g. in
//! `capture()`), not at `arm()`: on the simulator the waveform only arrives
//! with `play`, and its time 0 is the clock's time at that call.

use crate::InstrumentError;
use tinybench_power::MarkerEdge;

/// Monotonic time in seconds.
pub trait Clock {
    /// Seconds since an origin fixed when the clock was made; never
    /// decreases. The [`MarkerLine`] paired with this clock stamps its edges
    /// on the same axis.
    fn now_s(&self) -> f64;
}

/// The GPIO line the firmware's marker pin drives.
pub trait MarkerLine {
    /// The edges the line saw since the previous call (for the first call:
    /// since the line was opened), oldest first, each with its time on the
    /// paired [`Clock`] and its new level (`high: true` for a rising edge).
    /// Returns at once, with an empty list when there were none; it never
    /// waits for an edge.
    ///
    /// Every edge is returned exactly once. An implementation that cannot
    /// keep that promise (the kernel's event queue overflowed between calls)
    /// returns an error rather than a list with a gap, so call it often
    /// enough during a capture (every poll of the INA219 is fine: it is
    /// cheap).
    fn take_edges(&mut self) -> Result<Vec<MarkerEdge>, InstrumentError>;
}

/// The real [`Clock`]: Linux `CLOCK_MONOTONIC`, in seconds since the clock was
/// made.
///
/// `CLOCK_MONOTONIC` (not [`std::time::Instant`], whose raw value cannot be
/// read) because it is the clock the kernel stamps GPIO edge events with by
/// default (`gpiocdev::line::EventClock::Monotonic`, the GPIO character
/// device ABI v2 default): a real [`MarkerLine`] converts each event's
/// `timestamp_ns` with [`MonotonicClock::seconds_at_ns`] and its edges land on
/// this clock's axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonotonicClock {
    origin_ns: u64,
}

impl MonotonicClock {
    /// A clock whose time 0 is now.
    pub fn new() -> Self {
        MonotonicClock { origin_ns: monotonic_ns() }
    }

    /// The time on this clock of a `CLOCK_MONOTONIC` timestamp in
    /// nanoseconds (negative before the clock was made).
    pub fn seconds_at_ns(&self, timestamp_ns: u64) -> f64 {
        (timestamp_ns as i128 - self.origin_ns as i128) as f64 * 1e-9
    }
}

impl Default for MonotonicClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for MonotonicClock {
    fn now_s(&self) -> f64 {
        self.seconds_at_ns(monotonic_ns())
    }
}

/// `CLOCK_MONOTONIC` now, in nanoseconds.
fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; clock_gettime only writes it.
    // CLOCK_MONOTONIC is always supported on Linux, so the call cannot fail
    // (POSIX lists only EINVAL for an unsupported clock and EFAULT for a bad
    // pointer, neither possible here).
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monotonic_clock_starts_near_zero_and_never_goes_back() {
        let clock = MonotonicClock::new();
        let a = clock.now_s();
        let b = clock.now_s();
        assert!((0.0..1.0).contains(&a), "{a}");
        assert!(b >= a);
        // A timestamp taken now converts to about now on the clock's axis.
        let t = clock.seconds_at_ns(monotonic_ns());
        assert!(t >= b && t - b < 1.0);
        assert!(clock.seconds_at_ns(0) < 0.0);
    }
}
