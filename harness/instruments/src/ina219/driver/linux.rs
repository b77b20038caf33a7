//! The real seams on a Linux bench controller: the I2C bus (`/dev/i2c-N`
//! through linux-embedded-hal) and the marker's GPIO line (a gpiocdev line
//! request with edge events). The clock is the seams' [`MonotonicClock`].

use std::path::Path;

use embedded_hal::i2c::{ErrorKind, ErrorType, I2c, NoAcknowledgeSource, Operation};
use gpiocdev::line::{EdgeDetection, EdgeKind, EventClock};
use linux_embedded_hal::I2cdev;
use linux_embedded_hal::i2cdev::linux::LinuxI2CError;
use tinybench_power::MarkerEdge;

use crate::InstrumentError;
use crate::ina219::seams::{MarkerLine, MonotonicClock};

/// A Linux I2C bus (`/dev/i2c-N`): linux-embedded-hal's [`I2cdev`], with the
/// adapters' NACK codes all reported as [`ErrorKind::NoAcknowledge`].
///
/// The kernel documents `ENXIO` for an address NACK, which linux-embedded-hal
/// maps to that kind; but common adapters (the Raspberry Pi's `i2c-bcm2835`)
/// report `EREMOTEIO`, which it maps to `Other`. Without this a miswired
/// INA219 on a Pi would not get the wiring hint.
pub struct LinuxI2c {
    dev: I2cdev,
}

impl LinuxI2c {
    /// Opens the bus device, e.g. `/dev/i2c-1`.
    pub fn open(path: &str) -> Result<Self, std::io::Error> {
        I2cdev::new(Path::new(path)).map(|dev| LinuxI2c { dev }).map_err(std::io::Error::from)
    }
}

/// A failed transfer on a [`LinuxI2c`] bus.
pub struct LinuxI2cError(linux_embedded_hal::I2CError);

impl LinuxI2cError {
    fn errno(&self) -> Option<i32> {
        match self.0.inner() {
            LinuxI2CError::Errno(errno) => Some(*errno),
            LinuxI2CError::Io(err) => err.raw_os_error(),
        }
    }
}

impl std::fmt::Debug for LinuxI2cError {
    // Debug is what the driver puts into its messages (embedded-hal's error
    // trait only promises Debug), so it reads like one.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        match self.errno() {
            Some(libc::EBUSY) => write!(
                f,
                " (the address is claimed by a kernel driver, probably ina2xx: unbind it, e.g. `echo 1-0040 | sudo tee /sys/bus/i2c/drivers/ina2xx/unbind`)"
            ),
            Some(libc::ENXIO | libc::EREMOTEIO) => write!(f, " (no acknowledge)"),
            _ => Ok(()),
        }
    }
}

impl embedded_hal::i2c::Error for LinuxI2cError {
    fn kind(&self) -> ErrorKind {
        match self.errno() {
            Some(libc::EREMOTEIO) => ErrorKind::NoAcknowledge(NoAcknowledgeSource::Unknown),
            _ => embedded_hal::i2c::Error::kind(&self.0),
        }
    }
}

impl ErrorType for LinuxI2c {
    type Error = LinuxI2cError;
}

impl I2c for LinuxI2c {
    fn transaction(&mut self, address: u8, operations: &mut [Operation<'_>]) -> Result<(), Self::Error> {
        I2c::transaction(&mut self.dev, address, operations).map_err(LinuxI2cError)
    }
}

/// The marker's GPIO line: requested as an input with both-edge detection,
/// its kernel edge events stamped with `CLOCK_MONOTONIC` and converted onto
/// the paired [`MonotonicClock`]'s axis.
pub struct GpioMarker {
    request: gpiocdev::Request,
    clock: MonotonicClock,
    /// The line's sequence number of the last event taken (the kernel counts
    /// from 1), to notice events lost to a full kernel queue.
    last_seqno: u32,
}

/// The kernel's largest event queue per line request (16 × 64 lines); a
/// capture drains it every poll of the INA219.
const KERNEL_EVENT_QUEUE: u32 = 1024;

impl GpioMarker {
    /// Requests line `offset` of the GPIO chip at `chip` (e.g.
    /// `/dev/gpiochip0`, 17), edges on `clock`'s axis.
    pub fn open(chip: &str, offset: u32, clock: MonotonicClock) -> Result<Self, gpiocdev::Error> {
        let request = gpiocdev::Request::builder()
            .on_chip(chip)
            .with_consumer("tinybench-marker")
            .with_line(offset)
            .as_input()
            .with_edge_detection(EdgeDetection::BothEdges)
            .with_event_clock(EventClock::Monotonic)
            .with_kernel_event_buffer_size(KERNEL_EVENT_QUEUE)
            .request()?;
        Ok(GpioMarker { request, clock, last_seqno: 0 })
    }
}

impl MarkerLine for GpioMarker {
    fn take_edges(&mut self) -> Result<Vec<MarkerEdge>, InstrumentError> {
        let gpio_error = |err: gpiocdev::Error| InstrumentError::Io {
            context: "reading the marker's GPIO edge events".into(),
            source: std::io::Error::other(err),
        };
        let mut edges = Vec::new();
        while self.request.has_edge_event().map_err(gpio_error)? {
            let event = self.request.read_edge_event().map_err(gpio_error)?;
            if event.line_seqno != self.last_seqno.wrapping_add(1) {
                return Err(InstrumentError::Other(format!(
                    "marker edges were lost (the kernel's queue of {KERNEL_EVENT_QUEUE} events overflowed: event {} follows {}); is the marker toggling much faster than once per inference or layer?",
                    event.line_seqno, self.last_seqno
                )));
            }
            self.last_seqno = event.line_seqno;
            edges.push(MarkerEdge {
                time_s: self.clock.seconds_at_ns(event.timestamp_ns),
                high: event.kind == EdgeKind::Rising,
            });
        }
        Ok(edges)
    }
}

#[cfg(test)]
mod tests {
    use embedded_hal::i2c::Error as _;

    use super::*;

    fn error(errno: i32) -> LinuxI2cError {
        LinuxI2cError(linux_embedded_hal::I2CError::from(LinuxI2CError::Errno(errno)))
    }

    #[test]
    fn both_kernel_nack_codes_are_nacks() {
        assert!(matches!(error(libc::ENXIO).kind(), ErrorKind::NoAcknowledge(_)));
        assert!(matches!(error(libc::EREMOTEIO).kind(), ErrorKind::NoAcknowledge(_)));
        assert!(matches!(error(libc::EIO).kind(), ErrorKind::Bus));
        let busy = format!("{:?}", error(libc::EBUSY));
        assert!(busy.contains("ina2xx") && busy.contains("unbind"), "{busy}");
    }

    #[test]
    fn missing_devices_fail_to_open() {
        let err = LinuxI2c::open("/nonexistent/i2c-9").err().expect("no such bus");
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
        assert!(GpioMarker::open("/nonexistent/gpiochip9", 17, MonotonicClock::new()).is_err());
    }
}
