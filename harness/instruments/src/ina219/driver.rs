//! The TI INA219 driver: a [`PowerMeter`] that reads an INA219 current
//! monitor over Linux I2C and the firmware's marker pin on a GPIO line of the
//! same bench controller (a Raspberry Pi, say).
//!
//! ```text
//! supply ── IN+ ─[shunt]─ IN- ── board VDD        INA219 SDA/SCL ── /dev/i2c-1
//! board marker pin ── GPIO line 17 of /dev/gpiochip0, common ground
//! ```
//!
//! [`Ina219Meter::open`] opens the real seams (the bus through
//! linux-embedded-hal, the line through gpiocdev, the seams'
//! [`MonotonicClock`]); [`Ina219Meter::new`] takes any bus, clock and marker
//! line (the simulator's, in a simulated run, with [`Ina219Meter::with_player`]
//! to hand it the waveform). `arm` resets, calibrates and configures the
//! chip, checks the configuration by reading it back, and starts a thread
//! that polls for conversions and drains the marker's edges; `capture` waits
//! for the case's edges and returns the conversions with their end times.
//!
//! # Register facts used
//!
//! Sources: TI INA219 datasheet SBOS448G (sections 8.3 "Feature Description",
//! 8.5 "Programming", 8.6 "Register Maps"); Linux `drivers/hwmon/ina2xx.c`;
//! the `ina219` crate 0.2 (its `Configuration` encoding and conversion times
//! follow the datasheet's tables).
//! - 16-bit registers, most significant byte first: 0x00 CONFIG, 0x01
//!   SHUNT_VOLTAGE, 0x02 BUS_VOLTAGE, 0x03 POWER, 0x04 CURRENT, 0x05
//!   CALIBRATION. A write is `[pointer, msb, lsb]`; a read writes the pointer
//!   and reads two bytes. Addresses 0x40..=0x4F (pins A0/A1; 0x40 with both
//!   at GND).
//! - CONFIG: bit 15 RST (self-clearing; power-on value 0x399F), bit 13 BRNG
//!   (0 = 16 V, 1 = 32 V), bits 12:11 PG (±40, 80, 160, 320 mV), bits 10:7
//!   BADC and 6:3 SADC (0000 9-bit 84 µs, 0001 10-bit 148 µs, 0010 11-bit
//!   276 µs, 0011 12-bit 532 µs, 1001..1111 averages of 2..128 12-bit
//!   conversions, 1.06..68.10 ms), bits 2:0 MODE (111 = shunt and bus,
//!   continuous).
//! - In continuous shunt-and-bus mode the chip converts the shunt voltage,
//!   then the bus voltage, and sets CNVR (BUS_VOLTAGE bit 1) when both are
//!   done; reading POWER (or writing CONFIG) clears it. OVF (bit 0) flags an
//!   overflow of the current or power calculation. The bus voltage is bits
//!   15..3 × 4 mV; the shunt voltage's LSB is 10 µV at every PGA setting.
//! - Calibration (datasheet 8.5.1): `Current_LSB` between `Imax / 32767` and
//!   `Imax / 4096`, `Cal = trunc(0.04096 / (Current_LSB × R_shunt))`;
//!   `CURRENT = SHUNT × Cal / 4096`; bit 0 of CALIBRATION is unused. Example:
//!   0.1 Ω and 100 µA give 4096.
//! - The bus voltage is measured from IN- to ground (datasheet 8.3: the chip
//!   "senses the voltage with respect to ground from IN–"), i.e. after the
//!   shunt: the capture's voltage is the load's own supply, without the
//!   shunt's drop.
//!
//! # Settings chosen
//!
//! - PGA: the smallest shunt range that holds `max_current_ma × shunt_ohms`.
//! - Current LSB: the smallest 1-2-5 step not below `Imax / 32767` (see
//!   [`setup::calibrate`]); the readings are converted with the truncated
//!   `Cal`'s real step `0.04096 / (Cal × R)`, not the nominal LSB.
//! - Bus range: 16 V unless the first reading after the reset (made in the
//!   power-on 32 V range) is 15 V or more.
//! - ADC: 12-bit (532 µs) on both channels unless [`Ina219Config::adc`] asks
//!   for fewer bits. 12 bits is the finest single conversion; fewer bits are
//!   faster (9-bit: 84 µs, a 168 µs cycle) but coarser (taken as twice per
//!   bit: [`Ina219Calibration::resolution_a`]). The averaging settings
//!   (1.06..68.10 ms) only smooth, which the analysis does anyway over whole
//!   inferences, and they would blur the inference boundaries.
//! - Resolution reported: one CURRENT count or one shunt step over the shunt,
//!   whichever is coarser (100 µA for 0.1 Ω at 12 bits).
//!
//! # What a capture holds
//!
//! Recording starts at `arm`. Until the first marker edge only the last
//! `1.5 × idle_s + 0.1 s` are kept (the idle baseline: the firmware may take
//! long to start, and a simulated instrument is polled while the firmware is
//! simulated). It ends one shunt conversion after the case's last expected
//! edge (`iterations × edges_per_inference`); later edges are not recorded,
//! nor is a falling edge before the first rising one (the marker idles low:
//! that edge ends something earlier, such as an interrupted case).
//! `capture` waits for that at most `min(timeout_s, 2 × (idle_s + iterations
//! × inference_s) + 5 s)` on the meter's clock, then reports
//! [`PowerError::MarkerNotSeen`]. A clipped current (OVF, or a reading at the
//! end of the shunt range) fails the capture with the fix.
//!
//! # Time stamps
//!
//! Register readings and marker edges are on one clock (the [`Clock`] and
//! [`MarkerLine`] seams; `CLOCK_MONOTONIC` for both on Linux: the kernel
//! stamps the GPIO edge events with it), with time 0 at the end of `arm`.
//! Each sample's time is the end of its shunt conversion: the capture thread
//! polls BUS_VOLTAGE until CNVR is set, reads CURRENT, then POWER to clear
//! CNVR; the cycle ended after the previous poll (or clear) started and
//! within one cycle before the read that saw it, and its middle estimate
//! minus the bus conversion time is the shunt conversion's end
//! ([`SampleKind::Conversion`] with the shunt conversion time). The bus
//! conversion that follows each shunt conversion is not part of any current
//! value. On a 100 kHz bus the three reads per conversion take longer than a
//! 12-bit cycle and every other conversion is missed; set the bus to 400 kHz
//! (`dtparam=i2c_arm_baudrate=400000` on a Raspberry Pi).
//!
//! # Where the `ina219` crate is not used, and why
//!
//! The crate does the reset, the calibration write, CONFIG, and the register
//! reads (`SyncIna219`), and its `Configuration` encodes CONFIG. Not used:
//! - `IntCalibration`: its LSB is a whole number of µA (a 10 Ω shunt for a
//!   few mA needs less) and it converts with that nominal LSB, not with the
//!   truncated `Cal`'s real step. [`setup::calibrate`] computes the
//!   calibration, and a small `Calibration` implementation hands it to the
//!   crate.
//! - `next_measurement`: it reads four registers on every poll, about four
//!   times the bus time of reading BUS_VOLTAGE alone, which spreads the time
//!   stamps.
//! - Reading CALIBRATION back: the crate has no public reader for it, so that
//!   one register is read with a plain `write_read`.

mod linux;
mod sampler;
pub mod setup;
#[cfg(test)]
mod tests;

use std::sync::atomic::Ordering;
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use embedded_hal::i2c::{ErrorKind, I2c};
use ina219::SyncIna219;
use ina219::address::Address;
use ina219::calibration::Calibration;
use ina219::errors::{BusVoltageReadError, ConfigurationReadError, InitializationErrorReason};
use ina219::measurements::{CurrentRegister, PowerRegister};
use tinybench_power::{
    Capabilities, Capture, CapturePlan, MarkerInput, MarkerTrack, PowerError, PowerMeter, Provenance, SampleKind,
    Timebase, Voltage, Waveform,
};

pub use self::linux::{GpioMarker, LinuxI2c, LinuxI2cError};
use self::sampler::{Control, Recording, SamplerSpec};
pub use self::setup::Ina219Calibration;
use crate::InstrumentError;
use crate::ina219::seams::{Clock, MarkerLine, MonotonicClock};

/// The ADC setting of both channels: bits per conversion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ina219Adc {
    /// 84 µs per conversion.
    Bits9,
    /// 148 µs.
    Bits10,
    /// 276 µs.
    Bits11,
    /// 532 µs; the default.
    #[default]
    Bits12,
}

impl Ina219Adc {
    /// One conversion, in microseconds (datasheet table of ADC settings).
    pub fn conversion_us(self) -> u32 {
        setup::resolution(self).conversion_time_us()
    }
}

/// Where the INA219 and the marker line are, and what it measures.
#[derive(Debug, Clone, PartialEq)]
pub struct Ina219Config {
    /// The I2C bus device, e.g. `/dev/i2c-1`.
    pub i2c: String,
    /// The 7-bit address, 0x40..=0x4F (0x40 with A0 and A1 at GND).
    pub address: u8,
    /// The shunt resistor, in ohms (0.1 on the common breakout boards).
    pub shunt_ohms: f64,
    /// The largest current the board draws, in mA; sets the PGA range and the
    /// current LSB.
    pub max_current_ma: f64,
    /// The GPIO line the marker pin is wired to: `<chip>:<line offset>`, e.g.
    /// `/dev/gpiochip0:17`.
    pub marker_gpio: String,
    /// The ADC setting (12-bit unless faster, coarser samples are wanted).
    pub adc: Ina219Adc,
}

impl Default for Ina219Config {
    fn default() -> Self {
        Ina219Config {
            i2c: "/dev/i2c-1".into(),
            address: 0x40,
            shunt_ohms: 0.1,
            max_current_ma: 400.0,
            marker_gpio: "/dev/gpiochip0:17".into(),
            adc: Ina219Adc::Bits12,
        }
    }
}

impl Ina219Config {
    /// The instrument's name in reports, e.g. `TI INA219 at 0x40 on /dev/i2c-1, shunt 0.1 ohm`.
    pub fn identity(&self) -> String {
        format!("TI INA219 at {:#04x} on {}, shunt {} ohm", self.address, self.i2c, self.shunt_ohms)
    }

    /// The marker's GPIO chip path and line offset.
    pub fn marker_line(&self) -> Result<(String, u32), InstrumentError> {
        let bad = || {
            InstrumentError::Other(format!(
                "marker_gpio must be <gpio chip>:<line offset>, e.g. /dev/gpiochip0:17 (see gpioinfo), not {:?}",
                self.marker_gpio
            ))
        };
        let (chip, offset) = self.marker_gpio.rsplit_once(':').ok_or_else(bad)?;
        let offset: u32 = offset.trim().parse().map_err(|_| bad())?;
        let chip = chip.trim();
        if chip.is_empty() {
            return Err(bad());
        }
        let chip = if chip.contains('/') { chip.to_string() } else { format!("/dev/{chip}") };
        Ok((chip, offset))
    }

    /// Checks the settings and computes the calibration.
    pub fn calibration(&self) -> Result<Ina219Calibration, InstrumentError> {
        if Address::from_byte(self.address).is_err() {
            return Err(InstrumentError::Other(format!(
                "address must be an INA219 address, 0x40..=0x4f (set by its A0/A1 pins), not {:#04x}",
                self.address
            )));
        }
        setup::calibrate(self.shunt_ohms, self.max_current_ma * 1e-3).map_err(InstrumentError::Other)
    }
}

/// The calibration as the `ina219` crate's [`Calibration`]: the register
/// value, and CURRENT counts to amperes by the real step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct CountCalibration {
    register: u16,
    amps_per_count: f64,
}

impl Calibration for CountCalibration {
    type Current = f64;
    type Power = ();

    fn register_bits(&self) -> u16 {
        self.register
    }

    fn current_from_register(&self, reg: CurrentRegister) -> f64 {
        // CURRENT is two's complement.
        f64::from(reg.0 as i16) * self.amps_per_count
    }

    fn power_from_register(&self, _reg: PowerRegister) {}
}

/// The bus and address, for error messages.
#[derive(Debug, Clone)]
pub(crate) struct I2cTarget {
    bus: String,
    address: u8,
}

impl I2cTarget {
    /// A failed transaction: a NACK (the device did not answer) or another
    /// bus error, both pointing at the wiring.
    fn error<E: embedded_hal::i2c::Error>(&self, err: E, what: &str) -> InstrumentError {
        match err.kind() {
            ErrorKind::NoAcknowledge(_) => InstrumentError::Nack { bus: self.bus.clone(), address: self.address },
            _ => InstrumentError::Io {
                context: format!(
                    "{what} of the INA219 at {:#04x} on {} failed; check the wiring (SDA, SCL, VCC, GND) and that nothing else uses the device",
                    self.address, self.bus
                ),
                source: std::io::Error::other(format!("{err:?}")),
            },
        }
    }
}

/// Hands a simulated run's waveform to the instrument simulator.
type Player = Box<dyn FnMut(&Waveform) -> Result<(), InstrumentError> + Send>;

/// A capture in progress.
struct Running<B: I2c, M> {
    handle: JoinHandle<(SyncIna219<B, CountCalibration>, M, Recording)>,
    control: Arc<Control>,
    /// Disconnects when the thread ends.
    done: mpsc::Receiver<()>,
    plan: CapturePlan,
    spec: SamplerSpec,
}

/// A TI INA219 on an I2C bus `B`, with the marker on `M`, both timed by `C`.
pub struct Ina219Meter<B: I2c, C, M> {
    config: Ina219Config,
    identity: String,
    calibration: Ina219Calibration,
    target: I2cTarget,
    clock: C,
    /// The bus and marker line while no capture runs (the capture thread
    /// owns them meanwhile). `None` after the thread was lost.
    devices: Option<(B, M)>,
    running: Option<Running<B, M>>,
    player: Option<Player>,
}

impl Ina219Meter<LinuxI2c, MonotonicClock, GpioMarker> {
    /// Opens the INA219 on `config.i2c` and the marker line, and checks that
    /// the INA219 answers.
    pub fn open(config: Ina219Config) -> Result<Self, PowerError> {
        let identity = config.identity();
        let unreachable = |fix: String, source: InstrumentError| PowerError::Unreachable {
            instrument: identity.clone(),
            fix,
            source: Box::new(source),
        };
        let settings_fix = || "correct the INA219 settings of the run configuration".to_string();
        config.calibration().map_err(|e| unreachable(settings_fix(), e))?;
        let (chip, offset) = config.marker_line().map_err(|e| unreachable(settings_fix(), e))?;
        let bus = LinuxI2c::open(&config.i2c).map_err(|source| {
            unreachable(
                format!(
                    "check that {} exists (enable I2C, e.g. `dtparam=i2c_arm=on` on a Raspberry Pi; list buses with `i2cdetect -l`) and that you may open it (add the user to the `i2c` group, or a udev rule for /dev/i2c-*)",
                    config.i2c
                ),
                InstrumentError::Io { context: format!("opening {}", config.i2c), source },
            )
        })?;
        let clock = MonotonicClock::new();
        let marker = GpioMarker::open(&chip, offset, clock).map_err(|err| {
            unreachable(
                format!(
                    "check that {chip} exists and line {offset} is free (`gpioinfo`), and that you may open it (add the user to the `gpio` group, or a udev rule for /dev/gpiochip*)"
                ),
                InstrumentError::Io {
                    context: format!("requesting GPIO line {offset} of {chip} for the marker"),
                    source: std::io::Error::other(err),
                },
            )
        })?;
        let mut meter = Self::new(bus, clock, marker, config)?;
        meter.probe().map_err(|err| {
            unreachable(
                "check the INA219's wiring (SDA, SCL, VCC, GND) and its address (`i2cdetect -y <bus number>` lists the devices that answer)"
                    .into(),
                err,
            )
        })?;
        Ok(meter)
    }
}

impl<B, C, M> Ina219Meter<B, C, M>
where
    B: I2c + Send + 'static,
    C: Clock + Clone + Send + 'static,
    M: MarkerLine + Send + 'static,
{
    /// A meter over the given seams (the simulator's, or fakes). Checks the
    /// configuration; talks to the device only in `arm`.
    pub fn new(bus: B, clock: C, marker: M, config: Ina219Config) -> Result<Self, PowerError> {
        let identity = config.identity();
        let calibration = config.calibration().map_err(|source| PowerError::Unreachable {
            instrument: identity.clone(),
            fix: "correct the INA219 settings of the run configuration".into(),
            source: Box::new(source),
        })?;
        let target = I2cTarget { bus: config.i2c.clone(), address: config.address };
        Ok(Ina219Meter {
            config,
            identity,
            calibration,
            target,
            clock,
            devices: Some((bus, marker)),
            running: None,
            player: None,
        })
    }

    /// Hands each waveform given to [`PowerMeter::play`] to `player` (the
    /// instrument simulator, in a simulated run).
    pub fn with_player(
        mut self,
        player: impl FnMut(&Waveform) -> Result<(), InstrumentError> + Send + 'static,
    ) -> Self {
        self.player = Some(Box::new(player));
        self
    }

    /// The calibration in use.
    pub fn calibration(&self) -> &Ina219Calibration {
        &self.calibration
    }

    /// The settings.
    pub fn config(&self) -> &Ina219Config {
        &self.config
    }

    /// One shunt conversion plus one bus conversion, in seconds.
    fn cycle_s(&self) -> f64 {
        2.0 * f64::from(self.config.adc.conversion_us()) * 1e-6
    }

    fn instrument_error(&self, source: InstrumentError) -> PowerError {
        PowerError::Instrument { instrument: self.identity.clone(), source: Box::new(source) }
    }

    /// Reads CONFIG once: does the device answer?
    fn probe(&mut self) -> Result<(), InstrumentError> {
        let (bus, _) = self.devices.as_mut().ok_or_else(lost_devices)?;
        let mut word = [0u8; 2];
        bus.write_read(self.config.address, &[REG_CONFIG], &mut word)
            .map_err(|err| self.target.error(err, "reading CONFIG"))
    }

    /// Stops a capture in progress, keeping the devices and dropping its
    /// recording.
    fn stop_running(&mut self) {
        if let Some(running) = self.running.take() {
            running.control.stop.store(true, Ordering::Release);
            if let Ok((ina, marker, _)) = running.handle.join() {
                self.devices = Some((ina.destroy(), marker));
            }
        }
    }

    /// Resets, calibrates and configures the chip and reads the settings
    /// back. Gives the bus back on failure.
    fn configure(&self, bus: B) -> Result<SyncIna219<B, CountCalibration>, (B, InstrumentError)> {
        let address = Address::from_byte(self.config.address).map_err(|_| {
            // Checked in `new`; kept as an error rather than a panic.
            InstrumentError::Other(format!("{:#04x} is not an INA219 address", self.config.address))
        });
        let address = match address {
            Ok(address) => address,
            Err(err) => return Err((bus, err)),
        };
        let calibration =
            CountCalibration { register: self.calibration.register, amps_per_count: self.calibration.amps_per_count };
        // Reset (CONFIG with RST), wait for the power-on CONFIG, write CALIBRATION.
        let mut ina = match SyncIna219::new_calibrated(bus, address, calibration) {
            Ok(ina) => ina,
            Err(failure) => {
                let err = match failure.reason {
                    InitializationErrorReason::I2cError(err) => self.target.error(err, "writing CONFIG (reset)"),
                    InitializationErrorReason::ConfigurationNotDefaultAfterReset => InstrumentError::Malformed {
                        what: "CONFIG after a reset".into(),
                        detail: format!(
                            "it never read 0x399f (an INA219's power-on value); is the device at {:#04x} an INA219?",
                            self.config.address
                        ),
                    },
                    other => InstrumentError::Malformed {
                        what: "the registers after a reset".into(),
                        detail: format!("{other:?}"),
                    },
                };
                return Err((failure.device, err));
            }
        };
        let result = (|| {
            let bus_v = self.first_bus_reading(&mut ina)?;
            let config = setup::configuration(&self.calibration, setup::bus_range_for(bus_v), self.config.adc);
            ina.set_configuration(config).map_err(|err| self.target.error(err, "writing CONFIG"))?;
            let read = match ina.configuration() {
                Ok(read) => read,
                Err(ConfigurationReadError::I2cError(err)) => return Err(self.target.error(err, "reading CONFIG")),
                Err(ConfigurationReadError::ConfigurationMismatch { read, .. }) => read,
            };
            check_read_back("CONFIG", config.as_bits(), read.as_bits(), read == config)
        })();
        let mut bus = ina.destroy();
        let result = result.and_then(|()| {
            let mut word = [0u8; 2];
            bus.write_read(self.config.address, &[REG_CALIBRATION], &mut word)
                .map_err(|err| self.target.error(err, "reading CALIBRATION"))?;
            let read = u16::from_be_bytes(word);
            check_read_back("CALIBRATION", self.calibration.register, read, read == self.calibration.register)
        });
        match result {
            Ok(()) => Ok(SyncIna219::new_unchecked(bus, address, calibration)),
            Err(err) => Err((bus, err)),
        }
    }

    /// The bus voltage of the first conversion after the reset (power-on
    /// settings: 32 V range, 12-bit, continuous), to choose the bus range.
    fn first_bus_reading(&self, ina: &mut SyncIna219<B, CountCalibration>) -> Result<f64, InstrumentError> {
        // The power-on cycle is 2 × 532 µs; allow many.
        const WAIT_S: f64 = 0.1;
        let deadline_s = self.clock.now_s() + WAIT_S;
        loop {
            match ina.bus_voltage() {
                Ok(bus) if bus.is_conversion_ready() => return Ok(f64::from(bus.voltage_mv()) * 1e-3),
                Ok(_) => {}
                Err(BusVoltageReadError::I2cError(err)) => return Err(self.target.error(err, "reading BUS_VOLTAGE")),
                // Beyond 32 V: the 32 V range it is.
                Err(BusVoltageReadError::BusVoltageOutOfRange { .. }) => return Ok(32.0),
            }
            if self.clock.now_s() > deadline_s {
                return Err(InstrumentError::Timeout {
                    what: "the INA219's first conversion after a reset (CNVR never set)".into(),
                    seconds: WAIT_S,
                });
            }
        }
    }

    /// How long `capture` waits for the marker's edges, counted from
    /// `capture` ([`CapturePlan::capture_wait_s`]).
    fn wait_s(plan: &CapturePlan) -> f64 {
        plan.capture_wait_s()
    }
}

/// Register pointers the driver addresses itself.
const REG_CONFIG: u8 = 0x00;
const REG_CALIBRATION: u8 = 0x05;

fn lost_devices() -> InstrumentError {
    InstrumentError::Other("the INA219's capture thread failed and took the bus with it; open the meter again".into())
}

fn check_read_back(register: &str, wrote: u16, read: u16, same: bool) -> Result<(), InstrumentError> {
    if same {
        return Ok(());
    }
    Err(InstrumentError::Malformed {
        what: format!("{register} read back"),
        detail: format!(
            "wrote {wrote:#06x}, read {read:#06x}; is another program or the kernel's ina2xx driver using the INA219?"
        ),
    })
}

impl<B, C, M> PowerMeter for Ina219Meter<B, C, M>
where
    B: I2c + Send + 'static,
    C: Clock + Clone + Send + 'static,
    M: MarkerLine + Send + 'static,
{
    fn describe(&self) -> String {
        self.identity.clone()
    }

    fn provenance(&self) -> Provenance {
        Provenance::Measured
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { sample_interval_s: self.cycle_s(), marker: MarkerInput::Edges, voltage: true }
    }

    fn arm(&mut self, plan: &CapturePlan) -> Result<(), PowerError> {
        self.stop_running();
        let (bus, mut marker) = self.devices.take().ok_or_else(|| self.instrument_error(lost_devices()))?;
        let ina = match self.configure(bus) {
            Ok(ina) => ina,
            Err((bus, err)) => {
                self.devices = Some((bus, marker));
                return Err(self.instrument_error(err));
            }
        };
        // Edges from before this case (a reset glitch, an earlier case).
        if let Err(err) = marker.take_edges() {
            self.devices = Some((ina.destroy(), marker));
            return Err(self.instrument_error(err));
        }
        let cycle_s = self.cycle_s();
        let conversion_s = f64::from(self.config.adc.conversion_us()) * 1e-6;
        let spec = SamplerSpec {
            expected_edges: plan.iterations.saturating_mul(plan.edges_per_inference),
            tail_s: plan.inference_s.max(0.0),
            t0_s: self.clock.now_s(),
            cycle_s,
            shunt_conversion_s: conversion_s,
            bus_conversion_s: conversion_s,
            keep_before_first_edge_s: 1.5 * plan.idle_s.max(0.0) + 0.1 + 2.0 * cycle_s,
            idle_pause: Duration::from_secs_f64((cycle_s / 4.0).min(1e-3)),
            full_scale_a: self.calibration.shunt_full_scale_v / self.config.shunt_ohms,
        };
        let control = Arc::new(Control::default());
        let (done_tx, done) = mpsc::channel::<()>();
        let clock = self.clock.clone();
        let thread_control = Arc::clone(&control);
        let target = self.target.clone();
        let calibration =
            CountCalibration { register: self.calibration.register, amps_per_count: self.calibration.amps_per_count };
        let handle = std::thread::Builder::new()
            .name("ina219-capture".into())
            .spawn(move || {
                let out = sampler::run(ina, clock, marker, spec, calibration, thread_control, &target);
                drop(done_tx);
                out
            })
            .map_err(|source| {
                // The bus and marker moved into the closure and are gone
                // with it; `devices` stays None.
                self.instrument_error(InstrumentError::Io { context: "starting the capture thread".into(), source })
            })?;
        self.running = Some(Running { handle, control, done, plan: *plan, spec });
        Ok(())
    }

    fn play(&mut self, waveform: &Waveform) -> Result<(), PowerError> {
        match self.player.as_mut() {
            Some(player) => player(waveform).map_err(|source| PowerError::Instrument {
                instrument: self.identity.clone(),
                source: Box::new(source),
            }),
            None => Ok(()),
        }
    }

    fn capture(&mut self) -> Result<Capture, PowerError> {
        let Some(running) = self.running.take() else {
            return Err(self.instrument_error(InstrumentError::Other(
                "capture() was called without arm(); arm the meter before the firmware runs".into(),
            )));
        };
        let wait_s = Self::wait_s(&running.plan);
        let deadline_s = self.clock.now_s() + wait_s;
        // The thread ends by disconnecting the channel; the deadline is on
        // the meter's clock (virtual on the simulator), checked between waits.
        while let Err(mpsc::RecvTimeoutError::Timeout) = running.done.recv_timeout(Duration::from_millis(2)) {
            if self.clock.now_s() >= deadline_s {
                running.control.stop.store(true, Ordering::Release);
                break;
            }
        }
        let Ok((ina, marker, recording)) = running.handle.join() else {
            return Err(self.instrument_error(lost_devices()));
        };
        self.devices = Some((ina.destroy(), marker));
        if let Some(err) = recording.error {
            return Err(self.instrument_error(err));
        }
        let expected = running.spec.expected_edges;
        let seen = recording.edges.len() as u32;
        if !recording.complete {
            if seen < expected {
                let line = match self.config.marker_line() {
                    Ok((chip, offset)) => format!("GPIO line {offset} of {chip}"),
                    Err(_) => format!("the GPIO line {}", self.config.marker_gpio),
                };
                return Err(PowerError::MarkerNotSeen {
                    instrument: self.identity.clone(),
                    expected,
                    seen,
                    hint: format!(
                        "marker pin → {line} (waited {wait_s:.1} s), with a common ground between the board and the controller"
                    ),
                });
            }
            return Err(self.instrument_error(InstrumentError::Timeout {
                what: "a conversion after the last marker edge (the INA219 stopped converting?)".into(),
                seconds: wait_s,
            }));
        }
        if let Some(clipped) = recording.samples.iter().find(|s| s.clipped) {
            return Err(self.instrument_error(InstrumentError::Other(format!(
                "the current reached the end of the INA219's range ({:.1} mA) at {:.3} s into the capture; raise max_current_ma (now {} mA) or use a smaller shunt",
                running.spec.full_scale_a * 1e3,
                clipped.time_s,
                self.config.max_current_ma
            ))));
        }
        let samples = recording.samples;
        Ok(Capture {
            timebase: Timebase::Timestamps(samples.iter().map(|s| s.time_s).collect()),
            sample_kind: SampleKind::Conversion { conversion_us: self.config.adc.conversion_us() },
            current_a: samples.iter().map(|s| s.current_a).collect(),
            voltage: Voltage::Samples(samples.iter().map(|s| s.bus_v).collect()),
            marker: MarkerTrack::Edges(recording.edges),
            instrument: self.identity.clone(),
            provenance: Provenance::Measured,
            resolution_a: self.calibration.resolution_a(self.config.adc),
        })
    }
}

impl<B: I2c, C, M> Drop for Ina219Meter<B, C, M> {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            running.control.stop.store(true, Ordering::Release);
            let _ = running.handle.join();
        }
    }
}
