//! host: power instruments behind [`tinybench_power::PowerMeter`], and a
//! simulator of each that speaks the instrument's real protocol, so every
//! measurement path runs in CI without an instrument.
//!
//! Each instrument has a driver and a simulator written independently from
//! the instrument's documentation (neither uses the other's encoding code),
//! so that each checks the other:
//! - [`n6705b`]: Keysight N6705B DC power analyzer (and its N678xA SMU
//!   modules) over SCPI, on TCP port 5025 or Linux USBTMC;
//! - [`ina219`]: TI INA219 current monitor on Linux I2C, the marker on a GPIO
//!   line;
//! - [`ppk2`]: Nordic Power Profiler Kit II over USB serial, the marker on
//!   logic input D0.

pub mod error;
pub mod factory;
pub mod ina219;
pub mod n6705b;
pub mod ppk2;

pub use error::InstrumentError;
pub use factory::Instruments;
