//! The simulator standalone: a waveform played into the model and read back
//! by a built-in poller (see [`super`], "Standalone").
//!
//! The poller is the simulator's own, written from the datasheet like the
//! model; it is not the driver.

use std::io::Write;
use std::time::{Duration, Instant};

use embedded_hal::i2c::I2c;
use tinybench_power::Waveform;

use super::model::{AdcSetting, CONFIG_POR, REG_BUS, REG_CALIBRATION, REG_CONFIG, REG_CURRENT, REG_POWER, REG_SHUNT};
use super::{DEFAULT_ADDRESS, DEFAULT_BUS_HZ, Ina219Sim, SimBus};
use crate::InstrumentError;
use crate::ina219::seams::{Clock, MarkerLine};

/// How [`serve`] sets up the simulated device and its poller.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ServeOptions {
    pub shunt_ohms: f64,
    pub address: u8,
    pub bus_hz: u32,
    /// CONFIG the poller writes (default: the power-on value 0x399F, 32 V,
    /// ±320 mV, 12-bit shunt and bus, both continuous). A triggered mode is
    /// re-triggered after each reading.
    pub config: u16,
    /// Current register LSB in amperes; the calibration is
    /// trunc(0.04096 / (current_lsb_a × shunt_ohms)).
    pub current_lsb_a: f64,
    /// Pace the poller so virtual time keeps up with wall-clock time (to
    /// watch it live); otherwise it runs as fast as it can.
    pub realtime: bool,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            shunt_ohms: 0.1,
            address: DEFAULT_ADDRESS,
            bus_hz: DEFAULT_BUS_HZ,
            config: CONFIG_POR,
            current_lsb_a: 100e-6,
            realtime: false,
        }
    }
}

/// Plays `waveform` into a simulated INA219 and writes to `out` what a
/// driver polling it as fast as the bus allows reads, until the waveform has
/// ended and the last conversion over it completed. Blocks until then.
///
/// One line per completed conversion: its time (seconds since the waveform
/// started, on the simulator's virtual clock), shunt voltage, current, bus
/// voltage, power and the marker level; a comment line for each marker edge.
pub fn serve(waveform: Waveform, options: &ServeOptions, out: &mut dyn Write) -> Result<(), InstrumentError> {
    let calibration = calibration(options)?;
    let mode = options.config & 0x7;
    if mode & 0x3 == 0 {
        return Err(InstrumentError::Other(format!(
            "CONFIG {:#06x} converts nothing (MODE {mode:03b}); use a conversion mode, e.g. 0x399F (shunt and bus continuous)",
            options.config
        )));
    }
    let triggered = mode & 0x4 == 0;
    let cycle_s = (AdcSetting::from_code((options.config >> 3) & 0xF).conversion_us
        + AdcSetting::from_code((options.config >> 7) & 0xF).conversion_us) as f64
        * 1e-6;

    let sim = Ina219Sim::new(options.shunt_ohms, options.address, options.bus_hz);
    let (mut bus, clock, mut marker) = (sim.bus(), sim.clock(), sim.marker());
    let address = options.address;
    write_register(&mut bus, address, REG_CALIBRATION, calibration)?;
    write_register(&mut bus, address, REG_CONFIG, options.config)?;

    let io = |source| InstrumentError::Io { context: "writing the INA219 simulator's readings".into(), source };
    writeln!(
        out,
        "# simulated INA219 at {address:#04x}, I2C {} Hz, shunt {} ohm, CONFIG {:#06x}, CALIBRATION {calibration:#06x} (current LSB {} A)",
        options.bus_hz, options.shunt_ohms, options.config, options.current_lsb_a
    )
    .map_err(io)?;
    writeln!(
        out,
        "# A register model cannot sit on a real I2C bus: these are the readings a driver polling as fast as the bus allows would see, on the simulator's virtual clock."
    )
    .map_err(io)?;
    writeln!(out, "# time_s shunt_mv current_ma bus_v power_mw marker").map_err(io)?;

    sim.play(&waveform)?;
    let start_s = clock.now_s();
    let end_s = start_s + waveform.duration_s() + cycle_s;
    let wall_start = Instant::now();
    let mut marker_high = false;
    let mut conversions = 0u64;
    let mut edges = 0u64;
    while clock.now_s() < end_s {
        let bus_word = read_register(&mut bus, address, REG_BUS)?;
        for edge in marker.take_edges()? {
            edges += 1;
            marker_high = edge.high;
            let kind = if edge.high { "rising" } else { "falling" };
            writeln!(out, "# marker {kind} at {:.6} s", edge.time_s - start_s).map_err(io)?;
        }
        if bus_word & 0x2 != 0 {
            let time_s = clock.now_s() - start_s;
            let shunt = read_register(&mut bus, address, REG_SHUNT)? as i16;
            let current = read_register(&mut bus, address, REG_CURRENT)? as i16;
            // Read last: reading POWER clears CNVR.
            let power = read_register(&mut bus, address, REG_POWER)?;
            conversions += 1;
            writeln!(
                out,
                "{time_s:.6} {:.2} {:.3} {:.3} {:.3} {}",
                shunt as f64 * 0.01,
                current as f64 * options.current_lsb_a * 1e3,
                (bus_word >> 3) as f64 * 0.004,
                power as f64 * 20.0 * options.current_lsb_a * 1e3,
                u8::from(marker_high)
            )
            .map_err(io)?;
            if triggered {
                write_register(&mut bus, address, REG_CONFIG, options.config)?;
            }
        }
        if options.realtime {
            let ahead_s = (clock.now_s() - start_s) - wall_start.elapsed().as_secs_f64();
            if ahead_s > 0.0 {
                // Pacing for a human watching, not synchronisation.
                std::thread::sleep(Duration::from_secs_f64(ahead_s));
            }
        }
    }
    writeln!(out, "# {conversions} conversions, {edges} marker edges over {:.6} s of waveform", waveform.duration_s())
        .map_err(io)?;
    Ok(())
}

fn calibration(options: &ServeOptions) -> Result<u16, InstrumentError> {
    let cal = (0.04096 / (options.current_lsb_a * options.shunt_ohms)).trunc();
    if !(1.0..=65534.0).contains(&cal) {
        return Err(InstrumentError::Other(format!(
            "a current LSB of {} A across {} ohm needs CALIBRATION {cal}, outside 1..=65534; choose a current LSB between {:.3e} and {:.3e} A",
            options.current_lsb_a,
            options.shunt_ohms,
            0.04096 / (65534.0 * options.shunt_ohms),
            0.04096 / options.shunt_ohms
        )));
    }
    Ok(cal as u16)
}

fn bus_error(kind: embedded_hal::i2c::ErrorKind) -> InstrumentError {
    InstrumentError::Other(format!("the simulated INA219 did not answer ({kind}); this is a bug in the simulator"))
}

fn write_register(bus: &mut SimBus, address: u8, reg: u8, value: u16) -> Result<(), InstrumentError> {
    let [msb, lsb] = value.to_be_bytes();
    bus.write(address, &[reg, msb, lsb]).map_err(bus_error)
}

fn read_register(bus: &mut SimBus, address: u8, reg: u8) -> Result<u16, InstrumentError> {
    let mut word = [0u8; 2];
    bus.write_read(address, &[reg], &mut word).map_err(bus_error)?;
    Ok(u16::from_be_bytes(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serve_prints_each_conversion_and_the_marker_edges() {
        // 20 mA at 5 V for 10 ms, the marker high from 2 ms to 6 ms.
        let n = 10_000;
        let waveform = Waveform {
            interval_s: 1e-6,
            current_a: vec![0.020; n],
            voltage_v: vec![5.0; n],
            marker: (0..n).map(|k| (2000..6000).contains(&k)).collect(),
        };
        let mut out = Vec::new();
        serve(waveform, &ServeOptions::default(), &mut out).expect("serve runs");
        let text = String::from_utf8(out).expect("utf-8");
        let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        // 1.064 ms per conversion over 10 ms (+ one cycle after): 9 or 10.
        assert!((9..=10).contains(&lines.len()), "{text}");
        // A conversion wholly inside: 2 mV, 20 mA (Cal 4096), 5 V, 100 mW.
        assert!(lines.iter().any(|l| l.contains(" 2.00 20.000 5.000 100.000 ")), "{text}");
        assert!(
            text.contains("# marker rising at 0.002000 s") && text.contains("# marker falling at 0.006000 s"),
            "{text}"
        );
        assert!(lines.iter().any(|l| l.ends_with(" 1")), "{text}");
    }

    #[test]
    fn serve_refuses_a_calibration_out_of_range_and_a_mode_that_converts_nothing() {
        let waveform = Waveform { interval_s: 1e-6, current_a: vec![], voltage_v: vec![], marker: vec![] };
        let tiny_lsb = ServeOptions { current_lsb_a: 1e-9, ..ServeOptions::default() };
        let err = serve(waveform.clone(), &tiny_lsb, &mut Vec::new()).expect_err("calibration too large");
        assert!(err.to_string().contains("choose a current LSB"), "{err}");
        let power_down = ServeOptions { config: 0x3998, ..ServeOptions::default() };
        let err = serve(waveform, &power_down, &mut Vec::new()).expect_err("no conversions");
        assert!(err.to_string().contains("converts nothing"), "{err}");
    }
}
