//! Opens the meters a run configuration's `[power]` names: the real
//! instrument through its driver, or, with `[power] simulate = true`, the
//! instrument's simulator behind the same driver, fed by the simulated
//! board's modeled current.

use tinybench_config::{Board, Ina219Settings, MeterConfig, N6705bSettings, PowerConfig, Ppk2Settings, SimulatedFault};
use tinybench_power::{Capabilities, Capture, CapturePlan, MeterFactory, PowerError, PowerMeter, Provenance, Waveform};

use crate::ina219::driver::{Ina219Adc, Ina219Config, Ina219Meter};
use crate::ina219::sim::{DEFAULT_BUS_HZ, Fault as Ina219Fault, Ina219Sim};
use crate::n6705b::driver::{N6705b, N6705bConfig};
use crate::n6705b::sim::{N6705bSim, SimConfig as N6705bSimConfig, SimFault as N6705bFault};
use crate::ppk2::driver::{Ppk2, Ppk2Config, Ppk2Mode};
use crate::ppk2::sim::{Ppk2Sim, SimFaults as Ppk2Faults};

/// The instrument drivers (and, for `simulate = true`, their simulators).
#[derive(Debug, Default, Clone, Copy)]
pub struct Instruments;

impl MeterFactory for Instruments {
    fn open(
        &mut self,
        name: &str,
        meter: &MeterConfig,
        power: &PowerConfig,
        _board: &Board,
    ) -> Result<Box<dyn PowerMeter>, PowerError> {
        match (meter, power.simulate) {
            (MeterConfig::N6705b(s), false) => {
                Ok(Box::new(N6705b::connect(n6705b_config(s, address(name, &s.address)?))?))
            }
            (MeterConfig::N6705b(s), true) => simulated_n6705b(s, power.simulate_fault),
            (MeterConfig::Ina219(s), false) => {
                let gpio = s.marker_gpio.clone().ok_or_else(|| missing(name, "marker-gpio"))?;
                Ok(Box::new(Ina219Meter::open(ina219_config(s, gpio))?))
            }
            (MeterConfig::Ina219(s), true) => simulated_ina219(s, power.simulate_fault),
            (MeterConfig::Ppk2(s), false) => Ok(Box::new(Ppk2::open(ppk2_config(s, address(name, &s.port)?))?)),
            (MeterConfig::Ppk2(s), true) => simulated_ppk2(s, power.simulate_fault),
            (MeterConfig::None | MeterConfig::Model, _) => Err(PowerError::Unreachable {
                instrument: format!("meter {name} ({})", meter.kind()),
                fix: "this is a tinybench bug: `none` and `model` open no instrument".to_owned(),
                source: "not an instrument".into(),
            }),
        }
    }
}

fn missing(name: &str, key: &str) -> PowerError {
    PowerError::Unreachable {
        instrument: format!("meter {name}"),
        fix: format!("give its {key} in [power]"),
        source: format!("no {key}").into(),
    }
}

fn address(name: &str, value: &Option<String>) -> Result<String, PowerError> {
    value.clone().ok_or_else(|| missing(name, "address or port"))
}

fn n6705b_config(s: &N6705bSettings, address: String) -> N6705bConfig {
    let mut config = N6705bConfig::new(address, s.channel, s.trigger_pin);
    config.sample_interval_s = s.sample_interval_us.map(|us| us * 1e-6);
    config
}

fn ina219_config(s: &Ina219Settings, marker_gpio: String) -> Ina219Config {
    Ina219Config {
        i2c: s.i2c.clone(),
        address: s.address,
        shunt_ohms: s.shunt_ohms,
        max_current_ma: s.max_current_ma,
        marker_gpio,
        adc: match s.adc_bits {
            9 => Ina219Adc::Bits9,
            10 => Ina219Adc::Bits10,
            11 => Ina219Adc::Bits11,
            _ => Ina219Adc::Bits12,
        },
    }
}

fn ppk2_config(s: &Ppk2Settings, port: String) -> Ppk2Config {
    let mode = match s.mode {
        tinybench_config::Ppk2Mode::Source => Ppk2Mode::Source,
        tinybench_config::Ppk2Mode::Ampere => Ppk2Mode::Ampere,
    };
    Ppk2Config::new(port, mode, s.supply_mv)
}

fn sim_failed(instrument: &str, source: crate::InstrumentError) -> PowerError {
    PowerError::Unreachable {
        instrument: format!("the {instrument} simulator"),
        fix: "the simulator runs on this machine; see the cause".to_owned(),
        source: Box::new(source),
    }
}

fn simulated_n6705b(s: &N6705bSettings, fault: Option<SimulatedFault>) -> Result<Box<dyn PowerMeter>, PowerError> {
    let config = N6705bSimConfig { channels: 4, marker_pin: Some(s.trigger_pin), ..N6705bSimConfig::default() };
    let sim = N6705bSim::start_with(([127, 0, 0, 1], 0).into(), config).map_err(|e| sim_failed("N6705B", e))?;
    let meter = N6705b::connect(n6705b_config(s, sim.address().to_string()))?;
    if fault == Some(SimulatedFault::ScpiError) {
        // Its first configuration command at arm is refused with -221.
        sim.inject(N6705bFault::RejectNextCommand);
    }
    let handle = sim.handle();
    Ok(Box::new(Simulated {
        meter: Box::new(meter),
        play: Box::new(move |w| {
            if fault == Some(SimulatedFault::Disconnect) {
                // The fetch after the capture finds the connection closed.
                handle.inject(N6705bFault::Disconnect);
            }
            handle.play(w);
            Ok(())
        }),
        fault,
        _simulator: Box::new(sim),
    }))
}

fn simulated_ina219(s: &Ina219Settings, fault: Option<SimulatedFault>) -> Result<Box<dyn PowerMeter>, PowerError> {
    let sim = Ina219Sim::new(s.shunt_ohms, s.address, DEFAULT_BUS_HZ);
    let mut config = ina219_config(s, s.marker_gpio.clone().unwrap_or_else(|| "simulated:0".to_owned()));
    // Its name in every result row: not the bus a real one would be on.
    config.i2c = "a simulated I2C bus".to_owned();
    let player = sim.clone();
    let meter = Ina219Meter::new(sim.bus(), sim.clock(), sim.marker(), config)?;
    Ok(Box::new(Simulated {
        meter: Box::new(meter),
        play: Box::new(move |w| {
            if fault == Some(SimulatedFault::Disconnect) {
                // Unplugged a few hundred conversions into the capture.
                player.inject(Ina219Fault::Disconnect { after_transactions: 400 });
            }
            player.play(w).map_err(|source| PowerError::Instrument {
                instrument: "the INA219 simulator".to_owned(),
                source: Box::new(source),
            })
        }),
        fault,
        _simulator: Box::new(sim),
    }))
}

fn simulated_ppk2(s: &Ppk2Settings, fault: Option<SimulatedFault>) -> Result<Box<dyn PowerMeter>, PowerError> {
    let sim = Ppk2Sim::start().map_err(|e| sim_failed("PPK2", e))?;
    let meter = Ppk2::open(ppk2_config(s, sim.port_path().display().to_string()))?;
    let handle = sim.handle();
    Ok(Box::new(Simulated {
        meter: Box::new(meter),
        play: Box::new(move |w| {
            if fault == Some(SimulatedFault::Disconnect) {
                // Unplugged after a quarter of the waveform has streamed.
                // (Counted from the stream's start, at arm.)
                let at = handle.status().stream_samples + (w.duration_s() / 10e-6) as u64 / 4;
                handle.inject(Ppk2Faults { disconnect_after_samples: Some(at), ..Ppk2Faults::default() });
            }
            handle.play(w);
            Ok(())
        }),
        fault,
        _simulator: Box::new(sim),
    }))
}

type Player = Box<dyn FnMut(&Waveform) -> Result<(), PowerError> + Send>;

/// A driver talking to an instrument simulator this process runs: `play`
/// hands the simulated board's current to the simulator; everything else is
/// the driver's, over the instrument's real protocol.
struct Simulated {
    meter: Box<dyn PowerMeter + Send>,
    play: Player,
    fault: Option<SimulatedFault>,
    /// Kept running as long as the meter.
    _simulator: Box<dyn Send>,
}

impl PowerMeter for Simulated {
    fn describe(&self) -> String {
        format!("{} (simulated instrument)", self.meter.describe())
    }

    fn provenance(&self) -> Provenance {
        self.meter.provenance()
    }

    fn capabilities(&self) -> Capabilities {
        self.meter.capabilities()
    }

    fn arm(&mut self, plan: &CapturePlan) -> Result<(), PowerError> {
        self.meter.arm(plan)
    }

    fn play(&mut self, waveform: &Waveform) -> Result<(), PowerError> {
        if self.fault == Some(SimulatedFault::NoMarker) {
            let unwired = Waveform { marker: vec![false; waveform.marker.len()], ..waveform.clone() };
            return (self.play)(&unwired);
        }
        (self.play)(waveform)
    }

    fn capture(&mut self) -> Result<Capture, PowerError> {
        self.meter.capture()
    }
}
