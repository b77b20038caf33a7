//! The INA219 driver against the INA219 simulator (written independently
//! from the datasheet): a simulated case with marker pulses, captured through
//! the real register protocol on the simulator's bus, clock and marker line.

use tinybench_instruments::InstrumentError;
use tinybench_instruments::ina219::driver::{Ina219Adc, Ina219Config, Ina219Meter};
use tinybench_instruments::ina219::sim::{
    CnvrClearedBy, DEFAULT_ADDRESS, DEFAULT_BUS_HZ, Fault, Ina219Sim, SimBus, SimClock, SimMarker,
};
use tinybench_power::{
    Capture, CapturePlan, MarkerTrack, PowerError, PowerMeter, SampleKind, Timebase, Voltage, Waveform,
};

const IDLE_A: f64 = 0.005;
const IDLE_S: f64 = 0.030;
const INFERENCES: u32 = 8;
const INFERENCE_S: f64 = 0.012;
/// 12 ms + 6.221 ms = 17 12-bit cycles (1.064 ms) + 133 µs: each rising edge
/// falls 1/8 cycle later in the conversion cycle than the one before, so the
/// eight cover every phase and a time stamp error shows at some of them.
const GAP_S: f64 = 0.006221;
const SUPPLY_V: f64 = 3.3;

/// The current of inference `k`: 20, 30, 40, 50, 60, 20, ... mA.
fn level_a(k: usize) -> f64 {
    0.020 + 0.010 * (k % 5) as f64
}

/// 30 ms idle at 5 mA, then eight 12 ms inferences (marker high) at
/// `level_a`, 6.221 ms apart, and 6 ms idle after; 1 µs steps, 3.3 V.
fn case() -> Waveform {
    let interval_s = 1e-6;
    let mut current_a = Vec::new();
    let mut marker = Vec::new();
    let mut push = |seconds: f64, amps: f64, high: bool| {
        for _ in 0..(seconds / interval_s).round() as usize {
            current_a.push(amps);
            marker.push(high);
        }
    };
    push(IDLE_S, IDLE_A, false);
    for k in 0..INFERENCES as usize {
        push(INFERENCE_S, level_a(k), true);
        push(GAP_S, IDLE_A, false);
    }
    let n = current_a.len();
    Waveform { interval_s, current_a, voltage_v: vec![SUPPLY_V; n], marker }
}

fn plan() -> CapturePlan {
    CapturePlan {
        iterations: INFERENCES,
        inference_s: INFERENCE_S,
        idle_s: IDLE_S,
        edges_per_inference: 2,
        timeout_s: 60.0,
    }
}

fn sim_meter(sim: &Ina219Sim, config: Ina219Config) -> Ina219Meter<SimBus, SimClock, SimMarker> {
    let player = sim.clone();
    Ina219Meter::new(sim.bus(), sim.clock(), sim.marker(), config)
        .expect("valid settings")
        .with_player(move |waveform| player.play(waveform))
}

/// Arms, plays the case into the simulator as the runner does, captures.
fn run(sim: &Ina219Sim, config: Ina219Config) -> Result<Capture, PowerError> {
    let mut meter = sim_meter(sim, config);
    meter.arm(&plan())?;
    meter.play(&case())?;
    meter.capture()
}

/// The mean of the samples whose conversion lies wholly inside
/// `from_s..to_s` (capture time), keeping `margin_s` for the time stamps'
/// uncertainty, and how many there were.
fn mean_inside(capture: &Capture, conversion_s: f64, from_s: f64, to_s: f64, margin_s: f64) -> (f64, usize) {
    let Timebase::Timestamps(times) = &capture.timebase else { panic!("{:?}", capture.timebase) };
    let inside: Vec<f64> = times
        .iter()
        .zip(&capture.current_a)
        .filter(|&(&t, _)| t - conversion_s >= from_s + margin_s && t <= to_s - margin_s)
        .map(|(_, &amps)| amps)
        .collect();
    (inside.iter().sum::<f64>() / inside.len().max(1) as f64, inside.len())
}

/// Checks a capture of `case()`: edges, each inference's and the idle's
/// mean current to the resolution (which also checks the time stamps: a
/// conversion placed wrongly by more than the margin would mix in the idle
/// current), the supply voltage.
fn check(capture: &Capture, conversion_us: u32) {
    assert_eq!(capture.sample_kind, SampleKind::Conversion { conversion_us });
    assert_eq!(capture.instrument, "TI INA219 at 0x40 on /dev/i2c-1, shunt 0.1 ohm");
    let conversion_s = f64::from(conversion_us) * 1e-6;
    let cycle_s = 2.0 * conversion_s;
    let MarkerTrack::Edges(edges) = &capture.marker else { panic!("{:?}", capture.marker) };
    assert_eq!(edges.len(), 2 * INFERENCES as usize);
    assert!(edges.iter().enumerate().all(|(k, e)| e.high == (k % 2 == 0)), "{edges:?}");
    // The edges are where the waveform has them, relative to the first.
    for (k, pair) in edges.chunks(2).enumerate() {
        let rise_s = k as f64 * (INFERENCE_S + GAP_S);
        assert!((pair[0].time_s - edges[0].time_s - rise_s).abs() < 1e-9, "{edges:?}");
        assert!((pair[1].time_s - pair[0].time_s - INFERENCE_S).abs() < 1e-9, "{edges:?}");
    }
    // A register read takes 120 µs at 400 kHz: the time stamps are good to
    // about one read; keep two reads clear of every change.
    let margin_s = 240e-6;
    // One conversion per cycle, or per poll round (a BUS_VOLTAGE poll and
    // the three reads of a new conversion) when that is longer.
    let every_s = cycle_s.max(4.0 * 120e-6);
    let resolution_a = capture.resolution_a;
    for (k, pair) in edges.chunks(2).enumerate() {
        let level = level_a(k);
        let (mean_a, n) = mean_inside(capture, conversion_s, pair[0].time_s, pair[1].time_s, margin_s);
        let expected_n = ((INFERENCE_S - 2.0 * margin_s - conversion_s) / every_s).floor() as usize;
        assert!(n >= expected_n.saturating_sub(1), "{n} conversions inside an inference, expected about {expected_n}");
        assert!((mean_a - level).abs() <= resolution_a, "inference at {level} A read {mean_a} A");
    }
    // The idle baseline before the first edge is there, at 5 mA.
    let first_s = edges[0].time_s;
    let (idle_a, n) = mean_inside(capture, conversion_s, first_s - IDLE_S, first_s, margin_s);
    assert!(n as f64 >= 0.8 * IDLE_S / every_s, "only {n} idle conversions");
    assert!((idle_a - IDLE_A).abs() <= resolution_a, "idle read {idle_a} A");
    // The capture covers one conversion past the last edge.
    let Timebase::Timestamps(times) = &capture.timebase else { unreachable!() };
    assert!(times.last().copied().unwrap_or(0.0) - conversion_s >= edges[edges.len() - 1].time_s);
    assert!(times.windows(2).all(|w| w[1] > w[0]));
    // The bus voltage, once the waveform plays, is its supply (4 mV LSB;
    // coarser at fewer bits).
    let Voltage::Samples(volts) = &capture.voltage else { panic!("{:?}", capture.voltage) };
    let volts_step = if conversion_us == 532 { 4e-3 } else { 32e-3 };
    for (&t, &v) in times.iter().zip(volts) {
        if t - cycle_s > first_s - IDLE_S + margin_s {
            assert!((v - SUPPLY_V).abs() <= volts_step, "{v} V at {t} s");
        }
    }
}

#[test]
fn a_simulated_case_gives_each_inference_mean_current_to_the_resolution() {
    let sim = Ina219Sim::new(0.1, DEFAULT_ADDRESS, DEFAULT_BUS_HZ);
    let capture = run(&sim, Ina219Config::default()).unwrap();
    assert!((capture.resolution_a - 100e-6).abs() < 1e-12);
    check(&capture, 532);
}

#[test]
fn parts_that_clear_the_ready_flag_on_a_bus_voltage_read_work_too() {
    let sim = Ina219Sim::new(0.1, DEFAULT_ADDRESS, DEFAULT_BUS_HZ);
    sim.set_cnvr_cleared_by(CnvrClearedBy::BusVoltageRead);
    check(&run(&sim, Ina219Config::default()).unwrap(), 532);
}

#[test]
fn nine_bit_conversions_are_faster_and_coarser() {
    let sim = Ina219Sim::new(0.1, DEFAULT_ADDRESS, DEFAULT_BUS_HZ);
    let config = Ina219Config { adc: Ina219Adc::Bits9, ..Ina219Config::default() };
    let mut meter = sim_meter(&sim, config);
    assert!((meter.capabilities().sample_interval_s - 168e-6).abs() < 1e-12);
    meter.arm(&plan()).unwrap();
    meter.play(&case()).unwrap();
    let capture = meter.capture().unwrap();
    assert!((capture.resolution_a - 800e-6).abs() < 1e-12);
    check(&capture, 84);
}

#[test]
fn a_sensor_lost_during_the_capture_is_a_nack() {
    let sim = Ina219Sim::new(0.1, DEFAULT_ADDRESS, DEFAULT_BUS_HZ);
    let mut meter = sim_meter(&sim, Ina219Config::default());
    meter.arm(&plan()).unwrap();
    meter.play(&case()).unwrap();
    sim.inject(Fault::Disconnect { after_transactions: 300 });
    let err = meter.capture().unwrap_err();
    let PowerError::Instrument { source, .. } = &err else { panic!("{err:?}") };
    let source = source.downcast_ref::<InstrumentError>().expect("an InstrumentError");
    assert!(matches!(source, InstrumentError::Nack { address: 0x40, .. }), "{source:?}");
    // Once it is back, the next case works (after the rest of the first
    // case's waveform, whose edges arm drops).
    sim.clear_faults();
    sim.advance(1.0);
    meter.arm(&plan()).unwrap();
    meter.play(&case()).unwrap();
    check(&meter.capture().unwrap(), 532);
}

#[test]
fn a_wrong_address_is_a_nack_at_arm() {
    let sim = Ina219Sim::new(0.1, 0x41, DEFAULT_BUS_HZ);
    let mut meter = sim_meter(&sim, Ina219Config::default());
    let err = meter.arm(&plan()).unwrap_err();
    assert!(err.to_string().contains("no acknowledge from I2C address 0x40 on /dev/i2c-1"), "{err}");
}

#[test]
fn a_stalled_adc_is_a_timeout_and_a_missing_marker_is_named() {
    // The ADC stops after arm: the edges come, the conversion after the last
    // one never does.
    let sim = Ina219Sim::new(0.1, DEFAULT_ADDRESS, DEFAULT_BUS_HZ);
    let mut meter = sim_meter(&sim, Ina219Config::default());
    meter.arm(&CapturePlan { timeout_s: 1.0, ..plan() }).unwrap();
    meter.play(&case()).unwrap();
    sim.inject(Fault::AdcStalled);
    let err = meter.capture().unwrap_err();
    assert!(err.to_string().contains("stopped converting"), "{err}");

    // A waveform without marker edges: the marker is not seen.
    let sim = Ina219Sim::new(0.1, DEFAULT_ADDRESS, DEFAULT_BUS_HZ);
    let mut meter = sim_meter(&sim, Ina219Config::default());
    meter.arm(&CapturePlan { timeout_s: 0.5, ..plan() }).unwrap();
    let mut flat = case();
    flat.marker.iter_mut().for_each(|m| *m = false);
    meter.play(&flat).unwrap();
    let err = meter.capture().unwrap_err();
    assert!(
        matches!(&err, PowerError::MarkerNotSeen { expected: 16, seen: 0, hint, .. } if hint.contains("GPIO line 17")),
        "{err:?}"
    );
}
