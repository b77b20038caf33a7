//! A simulated TI INA219 on a simulated I2C bus, in virtual time, with the
//! firmware's marker line beside it.
//!
//! [`Ina219Sim`] is a register model behind [`embedded_hal::i2c::I2c`]: the
//! driver talks to it exactly as to `linux_embedded_hal::I2cdev`, through the
//! seams in [`super::seams`]:
//!
//! ```
//! use embedded_hal::i2c::I2c;
//! use tinybench_instruments::ina219::seams::{Clock, MarkerLine};
//! use tinybench_instruments::ina219::sim::{DEFAULT_ADDRESS, DEFAULT_BUS_HZ, Ina219Sim};
//! use tinybench_power::Waveform;
//!
//! let sim = Ina219Sim::new(0.1, DEFAULT_ADDRESS, DEFAULT_BUS_HZ);
//! let (mut bus, clock, mut marker) = (sim.bus(), sim.clock(), sim.marker());
//! // 10 mA at 3.3 V for 5 ms, the marker high for the middle 2 ms.
//! let n = 5000;
//! let waveform = Waveform {
//!     interval_s: 1e-6,
//!     current_a: vec![0.010; n],
//!     voltage_v: vec![3.3; n],
//!     marker: (0..n).map(|k| (1500..3500).contains(&k)).collect(),
//! };
//! sim.play(&waveform)?; // from another thread in a real run
//! let start_s = clock.now_s();
//! let mut shunt = [0u8; 2];
//! while clock.now_s() < start_s + 0.004 {
//!     bus.write_read(DEFAULT_ADDRESS, &[0x01], &mut shunt).expect("the simulated bus answers");
//! }
//! assert_eq!(i16::from_be_bytes(shunt), 100); // 1 mV across 0.1 ohm, 10 uV LSB
//! assert_eq!(marker.take_edges()?.len(), 2);
//! # Ok::<(), tinybench_instruments::InstrumentError>(())
//! ```
//!
//! # Virtual time
//!
//! The model's clock starts at 0 and advances with the bus traffic: each
//! transaction costs the time of its bits at the bus speed (default 400 kHz):
//! 1 bit time for START, 9 per byte (8 bits and the acknowledge, the address
//! byte included), 1 for a repeated START between a write and a read, 1 for
//! STOP. A register read by `write_read` is 48 bit times (120 us at 400 kHz);
//! a plain `read` from the kept pointer 29 (72.5 us). A driver polling as
//! fast as it can therefore sees the timing of a real bus (without the host's
//! own latency), and [`SimClock`] is that virtual time. Nothing else moves
//! it, except [`Ina219Sim::advance`] (for tests and idle waits).
//!
//! A waveform's time 0 is the virtual time of [`Ina219Sim::play`]. Before a
//! waveform, the device measures 0 A at 0 V; after its end, 0 A at its last
//! voltage; a later `play` supersedes the rest of an earlier one. The bus
//! voltage is the waveform's `voltage_v` (the load side of the shunt, IN−).
//! The marker line ([`SimMarker`]) reports the waveform's marker edges at
//! play time + edge time once the virtual clock has passed them, and a
//! falling edge at the end if the waveform ends high.
//!
//! # The INA219 as modeled
//!
//! From the TI INA219 datasheet (SBOS448F 2011 and SBOS448G 2015: register
//! summary, register details, Table 6 "ADC Settings", Table 7 "Mode
//! Settings", serial interface section):
//! - Registers, 16 bits, MSB first on the wire: 0x00 CONFIG (R/W, power-on
//!   0x399F), 0x01 SHUNT_VOLTAGE (signed, 10 uV LSB), 0x02 BUS_VOLTAGE (bits
//!   15..3 in 4 mV, bit 1 CNVR, bit 0 OVF), 0x03 POWER, 0x04 CURRENT (signed),
//!   0x05 CALIBRATION (R/W, bit 0 void: always 0). POWER and CURRENT are 0
//!   until CALIBRATION is written (it powers on at 0).
//! - Write: address, pointer byte, MSB, LSB. Read: the register at the
//!   pointer, MSB then LSB; the pointer is kept until the next write, so
//!   repeated reads need no pointer byte.
//! - CONFIG: bit 15 RST (a reset like power-on; self-clearing), bit 13 BRNG
//!   (0 = 16 V, 1 = 32 V full scale), bits 12..11 PG (±40/80/160/320 mV),
//!   bits 10..7 BADC, bits 6..3 SADC, bits 2..0 MODE (000 power-down, 001
//!   shunt triggered, 010 bus triggered, 011 both triggered, 100 ADC off, 101
//!   shunt continuous, 110 bus continuous, 111 both continuous). In
//!   continuous modes the shunt is converted, then the bus, back to back.
//! - ADC codes (BADC/SADC): 0X00 9 bit 84 us, 0X01 10 bit 148 us, 0X10 11 bit
//!   276 us, 0X11 and 1000 12 bit 532 us; 1001..1111 average 2..128 12-bit
//!   samples in 1.06, 2.13, 4.26, 8.51, 17.02, 34.05, 68.10 ms.
//! - CURRENT = SHUNT × CALIBRATION / 4096; POWER = CURRENT × BUS / 5000 (BUS
//!   in 4 mV counts); the power LSB is 20 current LSBs. Calibration =
//!   trunc(0.04096 / (current LSB × R_shunt)): 0.1 ohm and a 100 uA LSB give
//!   4096, and a 40 uA LSB 10240 with an 800 uW power LSB (the worked
//!   examples in Adafruit_INA219's `setCalibration_32V_2A` and
//!   `setCalibration_32V_1A` comments).
//! - CNVR "is set after all conversions, averaging, and multiplications are
//!   complete" and clears when a new mode is written to CONFIG (except
//!   power-down and ADC off) or when POWER is read. OVF is set when the
//!   current or power calculation is out of range.
//!
//! A TI E2E thread (INA219, "Clearing of the CNVR flag in the bus voltage
//! register - documentation error?", e2e.ti.com thread 647053) reports parts
//! that clear CNVR on a read of BUS_VOLTAGE instead and ignore POWER reads;
//! [`CnvrClearedBy::BusVoltageRead`] models that, so a driver can be checked
//! against both (reading BUS_VOLTAGE first and POWER last each round works
//! with both).
//!
//! Choices where the datasheet is silent (model assumptions, not facts):
//! - A conversion's result is the mean of the signal over its whole
//!   conversion time (averaging settings included), rounded to the nearest
//!   step of its resolution: 1 register LSB at 12 bits, 2 at 11, 4 at 10, 8
//!   at 9 (so 80 uV and 32 mV steps at 9 bits), then clipped to the PGA range
//!   (±4000 × PG counts) or the bus range (0..=4000 or 8000 counts).
//! - SHUNT_VOLTAGE updates when the shunt conversion ends, BUS_VOLTAGE when
//!   the bus conversion ends; CURRENT, POWER, OVF and CNVR when the cycle
//!   (both conversions of the mode) ends, from the calibration at that time
//!   (a new calibration shows after the next conversion). The division
//!   truncates toward zero; POWER uses |CURRENT|; an out-of-range result
//!   saturates and sets OVF.
//! - Every CONFIG write (re)starts the ADC at the write: once for a triggered
//!   mode, back to back for a continuous one; power-down and ADC off stop it.
//! - Reads of a pointer outside 0..=5 give 0; writes there, to read-only
//!   registers, or bytes after a register's two are ignored. A read longer
//!   than 2 bytes repeats MSB, LSB. The 4 us register update delay (relevant
//!   above 1 MHz) is not modeled.
//!
//! # Faults
//!
//! [`Ina219Sim::inject`] takes a [`Fault`]: a disconnect (every transaction
//! NACKs its address from the Nth on, as an unplugged sensor), a single bus
//! error, a stalled ADC, or a CNVR bit stuck high. A transaction to another
//! address than the device's NACKs its address, as on a real bus
//! (`ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address)`).
//!
//! # Standalone
//!
//! A register model cannot be put on a real I2C bus (Linux has no I2C target
//! mode on common bench controllers), so [`serve`] cannot let another program
//! talk to it. Instead it plays a waveform into the model and runs a simple
//! built-in poller on the simulated bus, printing what a driver polling as
//! fast as the bus allows would read: each conversion's shunt voltage,
//! current, bus voltage, power and marker level, and the marker's edges.

mod model;
mod serve;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use embedded_hal::i2c::{ErrorKind, ErrorType, I2c, Operation, SevenBitAddress};
use tinybench_power::{MarkerEdge, Waveform};

use self::model::Model;
use super::seams::{Clock, MarkerLine};
use crate::InstrumentError;

pub use self::serve::{ServeOptions, serve};

/// The INA219's address with A0 and A1 grounded.
pub const DEFAULT_ADDRESS: u8 = 0x40;
/// I2C fast mode.
pub const DEFAULT_BUS_HZ: u32 = 400_000;

/// What CNVR clears on (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CnvrClearedBy {
    /// A read of POWER, as the datasheet says (the default).
    #[default]
    PowerRead,
    /// A read of BUS_VOLTAGE, as reported of some parts on TI's E2E forum.
    BusVoltageRead,
}

/// A failure to inject into the simulated device or its bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// After this many more transactions succeed, every transaction NACKs
    /// its address (a sensor unplugged or unpowered), until
    /// [`Ina219Sim::clear_faults`].
    Disconnect { after_transactions: u64 },
    /// After this many more transactions succeed, one fails with
    /// `ErrorKind::Bus` (a glitch on the lines); the next works again.
    BusError { after_transactions: u64 },
    /// No conversion completes any more: the data registers keep their
    /// values and CNVR, once cleared, stays low.
    AdcStalled,
    /// CNVR always reads 1, whether a new conversion completed or not.
    ConversionReadyStuckHigh,
}

/// A simulated INA219 (with its I2C bus, virtual clock and marker line).
/// Cloning gives another handle to the same device; handles can be used
/// from several threads (e.g. the driver polling on one, the runner calling
/// [`Ina219Sim::play`] on another).
#[derive(Debug, Clone)]
pub struct Ina219Sim {
    model: Arc<Mutex<Model>>,
}

impl Ina219Sim {
    /// A device at the 7-bit `address` (the INA219's straps give
    /// 0x40..=0x4F; [`DEFAULT_ADDRESS`] when both are grounded) measuring
    /// across a `shunt_ohms` shunt, on a bus clocked at `bus_hz`
    /// ([`DEFAULT_BUS_HZ`]), in its power-on state at virtual time 0.
    pub fn new(shunt_ohms: f64, address: u8, bus_hz: u32) -> Self {
        Ina219Sim { model: Arc::new(Mutex::new(Model::new(shunt_ohms, address, bus_hz))) }
    }

    /// The device's 7-bit address.
    pub fn address(&self) -> u8 {
        self.lock().address
    }

    /// The I2C bus the device is on (the driver's `I2c`).
    pub fn bus(&self) -> SimBus {
        SimBus { model: Arc::clone(&self.model) }
    }

    /// The virtual clock (the driver's [`Clock`]).
    pub fn clock(&self) -> SimClock {
        SimClock { model: Arc::clone(&self.model) }
    }

    /// The marker line (the driver's [`MarkerLine`]), reporting edges from
    /// now on.
    pub fn marker(&self) -> SimMarker {
        let next = self.lock().edges_until_now();
        SimMarker { model: Arc::clone(&self.model), next }
    }

    /// Starts `waveform` at the current virtual time: the device measures it
    /// from now on and the marker line reports its edges as virtual time
    /// passes them.
    pub fn play(&self, waveform: &Waveform) -> Result<(), InstrumentError> {
        validate(waveform)?;
        self.lock().play(waveform.clone());
        Ok(())
    }

    /// Moves virtual time on by `seconds` without bus traffic (a driver that
    /// sleeps; a test that waits for conversions).
    pub fn advance(&self, seconds: f64) {
        self.lock().advance(seconds);
    }

    /// Transactions addressed so far (to any address, failed ones included).
    pub fn transactions(&self) -> u64 {
        self.lock().transactions()
    }

    pub fn inject(&self, fault: Fault) {
        self.lock().inject(fault);
    }

    /// Ends every injected fault.
    pub fn clear_faults(&self) {
        self.lock().clear_faults();
    }

    pub fn set_cnvr_cleared_by(&self, by: CnvrClearedBy) {
        self.lock().set_cnvr_cleared_by(by);
    }

    fn lock(&self) -> MutexGuard<'_, Model> {
        lock(&self.model)
    }
}

/// The model stays consistent across a panic in another handle's holder (no
/// method panics half-way through an update), so a poisoned lock is used
/// as is.
fn lock(model: &Mutex<Model>) -> MutexGuard<'_, Model> {
    model.lock().unwrap_or_else(PoisonError::into_inner)
}

fn validate(waveform: &Waveform) -> Result<(), InstrumentError> {
    let n = waveform.current_a.len();
    if !(waveform.interval_s.is_finite() && waveform.interval_s > 0.0) {
        return Err(InstrumentError::Other(format!(
            "the waveform's sample interval is {} s; it must be a positive number of seconds",
            waveform.interval_s
        )));
    }
    if waveform.voltage_v.len() != n || waveform.marker.len() != n {
        return Err(InstrumentError::Other(format!(
            "the waveform has {n} current samples but {} voltages and {} marker levels; give one of each per sample",
            waveform.voltage_v.len(),
            waveform.marker.len()
        )));
    }
    if let Some(k) = waveform.current_a.iter().chain(&waveform.voltage_v).position(|v| !v.is_finite()) {
        return Err(InstrumentError::Other(format!(
            "the waveform's value {k} (currents first, then voltages) is not a finite number; fix the waveform"
        )));
    }
    Ok(())
}

/// The simulated I2C bus with the INA219 on it.
#[derive(Debug, Clone)]
pub struct SimBus {
    model: Arc<Mutex<Model>>,
}

impl ErrorType for SimBus {
    type Error = ErrorKind;
}

impl I2c<SevenBitAddress> for SimBus {
    fn transaction(&mut self, address: u8, operations: &mut [Operation<'_>]) -> Result<(), Self::Error> {
        lock(&self.model).transaction(address, operations)
    }
}

/// The simulator's virtual time.
#[derive(Debug, Clone)]
pub struct SimClock {
    model: Arc<Mutex<Model>>,
}

impl Clock for SimClock {
    fn now_s(&self) -> f64 {
        lock(&self.model).now_s()
    }
}

/// The marker line of the played waveforms, in virtual time.
#[derive(Debug)]
pub struct SimMarker {
    model: Arc<Mutex<Model>>,
    /// Index of the first edge not yet returned.
    next: usize,
}

impl MarkerLine for SimMarker {
    fn take_edges(&mut self) -> Result<Vec<MarkerEdge>, InstrumentError> {
        let model = lock(&self.model);
        let edges = model.edges_from(self.next);
        self.next += edges.len();
        Ok(edges)
    }
}
