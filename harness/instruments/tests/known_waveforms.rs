//! Each instrument's simulator, opened through the run's factory and its
//! real driver, measures a waveform whose energy is known: a staircase, a
//! ramp and noise, each in its own marker window after an idle baseline.
//! The energy per window comes back within 1%.

use std::collections::BTreeMap;

use tinybench_config::{Board, Ina219Settings, MeterConfig, N6705bSettings, PowerConfig, Ppk2Mode, Ppk2Settings};
use tinybench_instruments::Instruments;
use tinybench_power::{CapturePlan, CaseTiming, MeterFactory, Provenance, Waveform, analyze};

const INTERVAL_S: f64 = 10e-6;
const VOLTS: f64 = 1.8;
const IDLE_A: f64 = 2e-3;
const IDLE_S: f64 = 0.02;
const WINDOW_S: f64 = 0.05;
const GAP_S: f64 = 0.01;

/// The current in each window at `t` seconds from its start.
fn shapes() -> [Box<dyn Fn(f64, usize) -> f64>; 3] {
    [
        // Steps: 10, 30 and 15 mA.
        Box::new(|t, _| {
            if t < 0.01 {
                10e-3
            } else if t < 0.03 {
                30e-3
            } else {
                15e-3
            }
        }),
        // A ramp from 5 to 45 mA.
        Box::new(|t, _| 5e-3 + 40e-3 * t / WINDOW_S),
        // 20 mA with +-8 mA of noise from a fixed-seed generator.
        Box::new(|_, k| {
            let mut x = (k as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            x ^= x >> 29;
            x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
            x ^= x >> 32;
            20e-3 + 16e-3 * ((x % 10_000) as f64 / 10_000.0 - 0.5)
        }),
    ]
}

/// The waveform, its timing as the firmware would report it (1 MHz clock),
/// and the exact energy of each window less the idle baseline, in µJ.
fn known() -> (Waveform, CaseTiming, Vec<f64>) {
    let samples = |s: f64| (s / INTERVAL_S).round() as usize;
    let (mut current_a, mut marker) = (Vec::new(), Vec::new());
    let mut push = |a: f64, high: bool| {
        current_a.push(a);
        marker.push(high);
    };
    for _ in 0..samples(IDLE_S) {
        push(IDLE_A, false);
    }
    let mut exact_uj = Vec::new();
    let mut inferences = Vec::new();
    for (i, shape) in shapes().iter().enumerate() {
        let start_cycles = (IDLE_S + i as f64 * (WINDOW_S + GAP_S)) * 1e6;
        inferences.push((start_cycles as u32, (WINDOW_S * 1e6) as u32));
        let mut joules = 0.0;
        for k in 0..samples(WINDOW_S) {
            let a = shape((k as f64 + 0.5) * INTERVAL_S, k);
            joules += (a - IDLE_A) * VOLTS * INTERVAL_S;
            push(a, true);
        }
        exact_uj.push(joules * 1e6);
        for _ in 0..samples(GAP_S) {
            push(IDLE_A, false);
        }
    }
    let n = current_a.len();
    let waveform = Waveform { interval_s: INTERVAL_S, current_a, voltage_v: vec![VOLTS; n], marker };
    let timing = CaseTiming {
        clock_hz: 1_000_000,
        inferences,
        layer_cycles: Vec::new(),
        layer_marks: 0,
        marker_write_cycles: 1,
        idle_s: IDLE_S,
    };
    (waveform, timing, exact_uj)
}

fn power(meter: &MeterConfig) -> PowerConfig {
    PowerConfig {
        meters: BTreeMap::from([("bench".to_owned(), meter.clone())]),
        idle_ms: (IDLE_S * 1e3) as u32,
        per_layer: false,
        sample_us: INTERVAL_S * 1e6,
        simulate: true,
        simulate_fault: None,
    }
}

fn measure(meter: MeterConfig) {
    let board: Board = Board::builtin("sim-m4").unwrap().unwrap();
    let (waveform, timing, exact_uj) = known();
    let mut opened = Instruments.open("bench", &meter, &power(&meter), &board).unwrap_or_else(|e| panic!("{e}"));
    let plan = CapturePlan {
        iterations: 3,
        inference_s: WINDOW_S + GAP_S,
        idle_s: IDLE_S,
        edges_per_inference: 2,
        timeout_s: 10.0,
    };
    opened.arm(&plan).unwrap_or_else(|e| panic!("{e}"));
    opened.play(&waveform).unwrap();
    let capture = opened.capture().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(capture.provenance, Provenance::Measured);
    let energy = analyze(&capture, &timing, "the test's marker").unwrap_or_else(|e| panic!("{e}"));
    let idle_mw = IDLE_A * VOLTS * 1e3;
    let measured_idle = energy.idle_power_mw.unwrap();
    assert!((measured_idle / idle_mw - 1.0).abs() < 0.01, "{}: idle {measured_idle} mW, {idle_mw} exact", meter.kind());
    for ((shape, got), want) in ["steps", "ramp", "noise"].iter().zip(&energy.per_inference_uj).zip(&exact_uj) {
        let error = (got / want - 1.0).abs();
        assert!(error < 0.01, "{} {shape}: {got} uJ measured, {want} uJ exact ({:.2}%)", meter.kind(), error * 100.0);
    }
}

#[test]
fn the_n6705b_simulator_over_scpi_recovers_known_energies() {
    measure(MeterConfig::N6705b(N6705bSettings {
        address: None,
        channel: 1,
        trigger_pin: 1,
        sample_interval_us: None,
    }));
}

#[test]
fn the_ina219_register_model_recovers_known_energies() {
    measure(MeterConfig::Ina219(Ina219Settings {
        i2c: "/dev/i2c-1".into(),
        address: 0x40,
        shunt_ohms: 0.1,
        max_current_ma: 100.0,
        marker_gpio: None,
        adc_bits: 11,
    }));
}

#[test]
fn the_ppk2_simulator_over_a_pty_recovers_known_energies() {
    measure(MeterConfig::Ppk2(Ppk2Settings { port: None, mode: Ppk2Mode::Source, supply_mv: 1800 }));
}
