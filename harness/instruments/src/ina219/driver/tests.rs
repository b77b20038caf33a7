//! The meter against `FakeIna219Bus`: an INA219 register model written for
//! these tests from the datasheet (not from the driver's code or the
//! simulator's), with a fake time that advances with each I2C transaction.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use embedded_hal::i2c::{ErrorKind, ErrorType, I2c, NoAcknowledgeSource, Operation};
use tinybench_power::{CapturePlan, MarkerEdge, MarkerTrack, PowerError, PowerMeter, SampleKind, Timebase, Voltage};

use super::*;

/// The load the fake INA219 measures: current in amperes at a time.
type Load = Box<dyn Fn(f64) -> f64 + Send>;

/// The fake chip's state and the fake time.
struct FakeChip {
    now_s: f64,
    /// What each I2C transaction costs (about a register read at 400 kHz).
    transaction_s: f64,
    address: u8,
    shunt_ohms: f64,
    bus_v: f64,
    load: Load,
    /// CONFIG bits the chip does not keep (to break the read-back).
    stuck_clear: u16,
    pointer: u8,
    config: u16,
    calibration: u16,
    shunt: i16,
    bus_reg: u16,
    current: i16,
    power: u16,
    conversion_ready: bool,
    overflow: bool,
    /// When the running conversion cycle began (reset or CONFIG write).
    cycle_start_s: f64,
    cycles_done: u64,
    /// True end time of each shunt conversion.
    shunt_ends_s: Vec<f64>,
    /// Every register write, as the bytes on the wire after the address.
    writes: Vec<Vec<u8>>,
}

const POR_CONFIG: u16 = 0x399F;

impl FakeChip {
    /// Datasheet ADC table: 4-bit BADC/SADC code to conversion time.
    fn conversion_s(code: u16) -> f64 {
        let us = match code & 0xF {
            0b0000 | 0b0100 => 84.0,
            0b0001 | 0b0101 => 148.0,
            0b0010 | 0b0110 => 276.0,
            0b0011 | 0b0111 | 0b1000 => 532.0,
            0b1001 => 1060.0,
            0b1010 => 2130.0,
            0b1011 => 4260.0,
            0b1100 => 8510.0,
            0b1101 => 17020.0,
            0b1110 => 34050.0,
            _ => 68100.0,
        };
        us * 1e-6
    }

    fn shunt_conversion_s(&self) -> f64 {
        Self::conversion_s(self.config >> 3)
    }

    fn bus_conversion_s(&self) -> f64 {
        Self::conversion_s(self.config >> 7)
    }

    /// Runs the conversions that finished by now (continuous shunt and bus).
    fn convert_until_now(&mut self) {
        if self.config & 0b111 != 0b111 {
            return;
        }
        let (shunt_s, bus_s) = (self.shunt_conversion_s(), self.bus_conversion_s());
        let cycle_s = shunt_s + bus_s;
        let done = ((self.now_s - self.cycle_start_s) / cycle_s).floor() as u64;
        while self.cycles_done < done {
            let start_s = self.cycle_start_s + self.cycles_done as f64 * cycle_s;
            self.cycles_done += 1;
            // The shunt ADC averages the load over its conversion.
            let n = 32;
            let mean_a =
                (0..n).map(|k| (self.load)(start_s + (k as f64 + 0.5) * shunt_s / n as f64)).sum::<f64>() / n as f64;
            let pga_counts = 4000i64 << ((self.config >> 11) & 0b11);
            let shunt = ((mean_a * self.shunt_ohms / 10e-6).round() as i64).clamp(-pga_counts, pga_counts);
            self.shunt = shunt as i16;
            let current = shunt * i64::from(self.calibration) / 4096;
            self.overflow = current.abs() > 32767;
            self.current = current.clamp(-32768, 32767) as i16;
            let bus_counts = (self.bus_v / 4e-3).round() as u16;
            self.power = ((current.abs() * i64::from(bus_counts)) / 5000).min(65535) as u16;
            self.conversion_ready = true;
            self.bus_reg = (bus_counts << 3) | 0b10 | u16::from(self.overflow);
            self.shunt_ends_s.push(start_s + shunt_s);
        }
    }

    fn reset(&mut self) {
        self.config = POR_CONFIG;
        self.calibration = 0;
        self.shunt = 0;
        self.bus_reg = 0;
        self.current = 0;
        self.power = 0;
        self.conversion_ready = false;
        self.restart();
    }

    fn restart(&mut self) {
        self.cycle_start_s = self.now_s;
        self.cycles_done = 0;
    }

    fn write_register(&mut self, pointer: u8, value: u16) {
        match pointer {
            0x00 if value & 0x8000 != 0 => self.reset(),
            0x00 => {
                self.config = value & !self.stuck_clear;
                self.conversion_ready = false;
                self.bus_reg &= !0b10;
                self.restart();
            }
            0x05 => self.calibration = value & !1,
            _ => {}
        }
    }

    fn read_register(&mut self, pointer: u8) -> u16 {
        match pointer {
            0x00 => self.config,
            0x01 => self.shunt as u16,
            0x02 => self.bus_reg,
            0x03 => {
                // Reading POWER clears CNVR.
                self.conversion_ready = false;
                self.bus_reg &= !0b10;
                self.power
            }
            0x04 => self.current as u16,
            0x05 => self.calibration,
            _ => 0,
        }
    }
}

type Shared = Arc<Mutex<FakeChip>>;

fn lock(chip: &Shared) -> MutexGuard<'_, FakeChip> {
    chip.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The fake INA219 on a fake I2C bus.
struct FakeIna219Bus(Shared);

#[derive(Debug)]
struct FakeNack;

impl embedded_hal::i2c::Error for FakeNack {
    fn kind(&self) -> ErrorKind {
        ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address)
    }
}

impl ErrorType for FakeIna219Bus {
    type Error = FakeNack;
}

impl I2c for FakeIna219Bus {
    fn transaction(&mut self, address: u8, operations: &mut [Operation<'_>]) -> Result<(), FakeNack> {
        let mut chip = lock(&self.0);
        chip.convert_until_now();
        let transaction_s = chip.transaction_s;
        chip.now_s += transaction_s;
        if address != chip.address {
            return Err(FakeNack);
        }
        for op in operations {
            match op {
                Operation::Write(bytes) => {
                    if let Some(&pointer) = bytes.first() {
                        chip.pointer = pointer;
                    }
                    if bytes.len() == 3 {
                        chip.writes.push(bytes.to_vec());
                        chip.write_register(bytes[0], u16::from_be_bytes([bytes[1], bytes[2]]));
                    }
                }
                Operation::Read(buf) => {
                    let pointer = chip.pointer;
                    let value = chip.read_register(pointer).to_be_bytes();
                    for (k, byte) in buf.iter_mut().enumerate() {
                        *byte = value.get(k).copied().unwrap_or(0xFF);
                    }
                }
            }
        }
        Ok(())
    }
}

#[derive(Clone)]
struct FakeClock(Shared);

impl Clock for FakeClock {
    fn now_s(&self) -> f64 {
        lock(&self.0).now_s
    }
}

/// Scripted marker edges, each delivered once the fake time passed it.
struct FakeMarker {
    chip: Shared,
    edges: VecDeque<MarkerEdge>,
}

impl MarkerLine for FakeMarker {
    fn take_edges(&mut self) -> Result<Vec<MarkerEdge>, InstrumentError> {
        let now_s = lock(&self.chip).now_s;
        let mut out = Vec::new();
        while self.edges.front().is_some_and(|e| e.time_s <= now_s) {
            out.extend(self.edges.pop_front());
        }
        Ok(out)
    }
}

struct Bench {
    chip: Shared,
    meter: Ina219Meter<FakeIna219Bus, FakeClock, FakeMarker>,
}

fn bench(config: Ina219Config, chip_address: u8, bus_v: f64, load: Load, edges: &[(f64, bool)]) -> Bench {
    let chip = Arc::new(Mutex::new(FakeChip {
        now_s: 0.0,
        transaction_s: 100e-6,
        address: chip_address,
        shunt_ohms: config.shunt_ohms,
        bus_v,
        load,
        stuck_clear: 0,
        pointer: 0,
        config: POR_CONFIG,
        calibration: 0,
        shunt: 0,
        bus_reg: 0,
        current: 0,
        power: 0,
        conversion_ready: false,
        overflow: false,
        cycle_start_s: 0.0,
        cycles_done: 0,
        shunt_ends_s: Vec::new(),
        writes: Vec::new(),
    }));
    let marker = FakeMarker {
        chip: Arc::clone(&chip),
        edges: edges.iter().map(|&(time_s, high)| MarkerEdge { time_s, high }).collect(),
    };
    let meter =
        Ina219Meter::new(FakeIna219Bus(Arc::clone(&chip)), FakeClock(Arc::clone(&chip)), marker, config).unwrap();
    Bench { chip, meter }
}

/// Two 50 ms inferences at 50 mA, from 0.1 s and 0.2 s, idle at 10 mA.
fn two_inferences() -> (Load, Vec<(f64, bool)>) {
    let load: Load = Box::new(|t| if (0.1..0.15).contains(&t) || (0.2..0.25).contains(&t) { 0.050 } else { 0.010 });
    (load, vec![(0.1, true), (0.15, false), (0.2, true), (0.25, false)])
}

fn plan(iterations: u32, timeout_s: f64) -> CapturePlan {
    CapturePlan { iterations, inference_s: 0.05, idle_s: 0.05, edges_per_inference: 2, timeout_s }
}

fn instrument_source(err: &PowerError) -> &InstrumentError {
    match err {
        PowerError::Instrument { source, .. } | PowerError::Unreachable { source, .. } => {
            source.downcast_ref::<InstrumentError>().expect("an InstrumentError source")
        }
        other => panic!("not an instrument error: {other:?}"),
    }
}

#[test]
fn arm_resets_calibrates_and_configures_then_reads_back() {
    let (load, edges) = two_inferences();
    let mut b = bench(Ina219Config::default(), 0x40, 3.3, load, &edges);
    b.meter.arm(&plan(2, 10.0)).unwrap();
    let writes = lock(&b.chip).writes.clone();
    // RST with the power-on settings; CALIBRATION 20480 (0.1 Ω, 400 mA:
    // LSB 20 µA); CONFIG 16 V, PGA /1, 12-bit shunt and bus, continuous.
    assert_eq!(writes, [vec![0x00, 0xB9, 0x9F], vec![0x05, 0x50, 0x00], vec![0x00, 0x01, 0x9F]]);
    assert_eq!(b.meter.describe(), "TI INA219 at 0x40 on /dev/i2c-1, shunt 0.1 ohm");
    let caps = b.meter.capabilities();
    assert!((caps.sample_interval_s - 1.064e-3).abs() < 1e-12);
    assert_eq!((caps.marker, caps.voltage), (MarkerInput::Edges, true));
}

#[test]
fn a_supply_above_15_v_gets_the_32_v_range() {
    let (load, edges) = two_inferences();
    let mut b = bench(Ina219Config::default(), 0x40, 20.0, load, &edges);
    b.meter.arm(&plan(2, 10.0)).unwrap();
    assert_eq!(lock(&b.chip).writes.last().unwrap(), &vec![0x00, 0x21, 0x9F]);
}

#[test]
fn capture_returns_timed_conversions_the_bus_voltage_and_the_edges() {
    let (load, edges) = two_inferences();
    let mut b = bench(Ina219Config::default(), 0x40, 3.3, load, &edges);
    b.meter.arm(&plan(2, 10.0)).unwrap();
    let capture = b.meter.capture().unwrap();
    let Timebase::Timestamps(times) = &capture.timebase else { panic!("{:?}", capture.timebase) };
    let MarkerTrack::Edges(seen) = &capture.marker else { panic!("{:?}", capture.marker) };
    assert_eq!(seen.iter().map(|e| e.high).collect::<Vec<_>>(), [true, false, true, false]);
    // Capture time 0 is the end of arm: the offset of the edges gives it.
    let t0 = 0.1 - seen[0].time_s;
    for (edge, &(time_s, _)) in seen.iter().zip(&edges) {
        assert!((edge.time_s + t0 - time_s).abs() < 1e-12);
    }
    assert_eq!(capture.sample_kind, SampleKind::Conversion { conversion_us: 532 });
    assert_eq!(capture.instrument, "TI INA219 at 0x40 on /dev/i2c-1, shunt 0.1 ohm");
    assert!((capture.resolution_a - 100e-6).abs() < 1e-12);
    let Voltage::Samples(volts) = &capture.voltage else { panic!("{:?}", capture.voltage) };
    assert_eq!((volts.len(), capture.current_a.len()), (times.len(), times.len()));
    assert!(volts.iter().all(|&v| (v - 3.3).abs() < 4e-3), "{volts:?}");

    // Each time is the end of a real shunt conversion, within the poll's
    // uncertainty (transactions take 100 µs here).
    let true_ends = lock(&b.chip).shunt_ends_s.clone();
    for &t in times {
        let nearest = true_ends.iter().map(|e| (e - (t + t0)).abs()).fold(f64::INFINITY, f64::min);
        assert!(nearest <= 150e-6, "sample at {t} is {nearest} s from any conversion end");
    }
    assert!(times.windows(2).all(|w| w[1] > w[0]));
    // Every conversion from the first edge on was read (one per 1.064 ms).
    let after_first_edge = times.iter().filter(|&&t| t + t0 >= 0.1).count();
    let converted = true_ends.iter().filter(|&&e| e >= 0.1 && e <= times.last().unwrap() + t0 + 1e-9).count();
    assert_eq!(after_first_edge, converted);
    // It ends one conversion after the last edge, and keeps the idle baseline
    // (0.05 s) before the first.
    assert!(times.last().unwrap() + t0 - 532e-6 >= 0.25);
    assert!(times[0] + t0 <= 0.1 - 0.05);

    // Values: conversions wholly inside an inference read 50 mA, those wholly
    // outside 10 mA, to the resolution.
    for (&t, &amps) in times.iter().zip(&capture.current_a) {
        let (start, end) = (t + t0 - 532e-6, t + t0);
        let inside = [(0.1, 0.15), (0.2, 0.25)].iter().any(|&(a, z)| start >= a && end <= z);
        let outside = [(0.1, 0.15), (0.2, 0.25)].iter().all(|&(a, z)| end <= a || start >= z);
        if inside {
            assert!((amps - 0.050).abs() <= capture.resolution_a, "{amps} at {t}");
        } else if outside {
            assert!((amps - 0.010).abs() <= capture.resolution_a, "{amps} at {t}");
        }
    }
}

#[test]
fn a_falling_edge_before_the_first_rising_one_is_not_counted() {
    let (load, mut edges) = two_inferences();
    edges.insert(0, (0.02, false));
    let mut b = bench(Ina219Config::default(), 0x40, 3.3, load, &edges);
    b.meter.arm(&plan(2, 10.0)).unwrap();
    let capture = b.meter.capture().unwrap();
    let MarkerTrack::Edges(seen) = &capture.marker else { panic!("{:?}", capture.marker) };
    assert_eq!(seen.iter().map(|e| e.high).collect::<Vec<_>>(), [true, false, true, false]);
    let t0 = 0.1 - seen[0].time_s;
    assert!((seen[3].time_s + t0 - 0.25).abs() < 1e-12);
}

#[test]
fn negative_currents_are_twos_complement() {
    let cal = CountCalibration { register: 20480, amps_per_count: 20e-6 };
    assert_eq!(cal.current_from_register(CurrentRegister(0xFFFF)), -20e-6);
    assert_eq!(cal.current_from_register(CurrentRegister(0x8000)), -32768.0 * 20e-6);
    assert_eq!(cal.current_from_register(CurrentRegister(2500)), 0.05);
}

#[test]
fn a_device_that_does_not_answer_is_a_nack_with_the_wiring_hint() {
    let (load, edges) = two_inferences();
    // The chip sits at 0x41; the configuration says 0x40.
    let mut b = bench(Ina219Config::default(), 0x41, 3.3, load, &edges);
    let err = b.meter.arm(&plan(2, 10.0)).unwrap_err();
    assert!(
        matches!(instrument_source(&err), InstrumentError::Nack { bus, address: 0x40 } if bus == "/dev/i2c-1"),
        "{err:?}"
    );
    assert!(err.to_string().contains("check the wiring and the address (i2cdetect)"), "{err}");
    let probe = b.meter.probe().unwrap_err();
    assert!(matches!(probe, InstrumentError::Nack { address: 0x40, .. }), "{probe:?}");
    // The bus is still there: once the address is right, arm works.
    lock(&b.chip).address = 0x40;
    b.meter.arm(&plan(2, 10.0)).unwrap();
}

#[test]
fn a_marker_that_never_moves_is_reported_with_the_gpio_line() {
    let (load, _) = two_inferences();
    let mut b = bench(Ina219Config::default(), 0x40, 3.3, load, &[]);
    b.meter.arm(&plan(2, 0.5)).unwrap();
    let err = b.meter.capture().unwrap_err();
    let PowerError::MarkerNotSeen { expected, seen, hint, .. } = &err else { panic!("{err:?}") };
    assert_eq!((*expected, *seen), (4, 0));
    assert!(hint.contains("GPIO line 17 of /dev/gpiochip0") && hint.contains("common ground"), "{hint}");
    // It waited the plan's timeout (0.5 s on the fake clock), no more.
    let waited = lock(&b.chip).now_s;
    assert!((0.5..0.6).contains(&waited), "{waited}");
    // The meter is usable again.
    b.meter.arm(&plan(2, 0.5)).unwrap();
}

#[test]
fn a_configuration_that_does_not_read_back_is_refused() {
    let (load, edges) = two_inferences();
    let mut b = bench(Ina219Config::default(), 0x40, 3.3, load, &edges);
    // The chip drops the ADC bits of CONFIG.
    lock(&b.chip).stuck_clear = 0b0000_0111_1111_1000;
    let err = b.meter.arm(&plan(2, 10.0)).unwrap_err();
    let source = instrument_source(&err);
    assert!(matches!(source, InstrumentError::Malformed { what, .. } if what == "CONFIG read back"), "{source:?}");
    assert!(err.to_string().contains("wrote 0x019f, read 0x0007"), "{err}");
}

#[test]
fn a_current_beyond_the_range_says_to_raise_max_current() {
    let edges = [(0.1, true), (0.15, false)];
    // 600 mA through 0.1 Ω is 60 mV, beyond the ±40 mV range for 400 mA.
    let load: Load = Box::new(|t| if (0.1..0.15).contains(&t) { 0.6 } else { 0.01 });
    let mut b = bench(Ina219Config::default(), 0x40, 3.3, load, &edges);
    b.meter.arm(&plan(1, 10.0)).unwrap();
    let err = b.meter.capture().unwrap_err();
    assert!(err.to_string().contains("raise max_current_ma (now 400 mA)"), "{err}");
}

#[test]
fn capture_without_arm_and_bad_settings_are_errors() {
    let (load, edges) = two_inferences();
    let mut b = bench(Ina219Config::default(), 0x40, 3.3, load, &edges);
    assert!(b.meter.capture().unwrap_err().to_string().contains("without arm()"));
    let chip = Arc::clone(&b.chip);
    let bad = Ina219Config { marker_gpio: "17".into(), ..Ina219Config::default() };
    assert!(bad.marker_line().unwrap_err().to_string().contains("/dev/gpiochip0:17"));
    let short = Ina219Config { marker_gpio: "gpiochip1:4".into(), ..Ina219Config::default() };
    assert_eq!(short.marker_line().unwrap(), ("/dev/gpiochip1".to_string(), 4));
    let wrong_address = Ina219Config { address: 0x20, ..Ina219Config::default() };
    let marker = FakeMarker { chip: Arc::clone(&chip), edges: VecDeque::new() };
    let err = Ina219Meter::new(FakeIna219Bus(Arc::clone(&chip)), FakeClock(chip), marker, wrong_address)
        .err()
        .expect("0x20 refused");
    assert!(matches!(err, PowerError::Unreachable { .. }) && err.to_string().contains("0x40..=0x4f"), "{err}");
}

#[test]
fn open_reports_a_missing_bus_as_unreachable_with_the_fix() {
    let config = Ina219Config { i2c: "/nonexistent/i2c-9".into(), ..Ina219Config::default() };
    let err = Ina219Meter::open(config).err().expect("no such bus");
    let PowerError::Unreachable { fix, .. } = &err else { panic!("{err:?}") };
    assert!(fix.contains("/nonexistent/i2c-9 exists") && fix.contains("`i2c` group"), "{fix}");
    // Settings are checked before any device is opened.
    let config = Ina219Config { i2c: "/nonexistent/i2c-9".into(), shunt_ohms: -1.0, ..Ina219Config::default() };
    let err = Ina219Meter::open(config).err().expect("bad shunt");
    assert!(err.to_string().contains("shunt_ohms"), "{err}");
}
