//! The INA219 simulator through its I2C bus, register by register, against
//! the datasheet (TI SBOS448): raw reads and writes, not the driver.

use std::time::{Duration, Instant};

use embedded_hal::i2c::{Error as _, ErrorKind, I2c, NoAcknowledgeSource};
use tinybench_instruments::ina219::seams::{Clock, MarkerLine};
use tinybench_instruments::ina219::sim::{
    CnvrClearedBy, DEFAULT_ADDRESS, DEFAULT_BUS_HZ, Fault, Ina219Sim, SimBus, SimClock,
};
use tinybench_power::{MarkerEdge, Waveform};

const CONFIG: u8 = 0x00;
const SHUNT: u8 = 0x01;
const BUS: u8 = 0x02;
const POWER: u8 = 0x03;
const CURRENT: u8 = 0x04;
const CALIBRATION: u8 = 0x05;
const CNVR: u16 = 0x2;

fn read(bus: &mut SimBus, reg: u8) -> u16 {
    let mut word = [0u8; 2];
    bus.write_read(DEFAULT_ADDRESS, &[reg], &mut word).expect("the simulated INA219 answers");
    u16::from_be_bytes(word)
}

fn write(bus: &mut SimBus, reg: u8, value: u16) {
    let [msb, lsb] = value.to_be_bytes();
    bus.write(DEFAULT_ADDRESS, &[reg, msb, lsb]).expect("the simulated INA219 answers");
}

fn constant(current_a: f64, voltage_v: f64, duration_s: f64, interval_s: f64) -> Waveform {
    let n = (duration_s / interval_s).round() as usize;
    Waveform { interval_s, current_a: vec![current_a; n], voltage_v: vec![voltage_v; n], marker: vec![false; n] }
}

/// Polls BUS_VOLTAGE (pointer kept, plain reads) until CNVR is set; the
/// clock's time then.
fn wait_cnvr(bus: &mut SimBus, clock: &SimClock) -> f64 {
    let mut word = [0u8; 2];
    bus.write(DEFAULT_ADDRESS, &[BUS]).expect("pointer");
    let give_up_s = clock.now_s() + 1.0;
    while clock.now_s() < give_up_s {
        bus.read(DEFAULT_ADDRESS, &mut word).expect("read");
        if u16::from_be_bytes(word) & CNVR != 0 {
            return clock.now_s();
        }
    }
    panic!("CNVR did not set within 1 s of virtual time");
}

fn sim() -> Ina219Sim {
    Ina219Sim::new(0.1, DEFAULT_ADDRESS, DEFAULT_BUS_HZ)
}

#[test]
fn power_on_values() {
    let sim = sim();
    let mut bus = sim.bus();
    sim.play(&constant(0.5, 12.0, 1.0, 1e-3)).expect("play");
    sim.advance(0.01);
    assert_eq!(read(&mut bus, CONFIG), 0x399F);
    assert_eq!(read(&mut bus, CALIBRATION), 0);
    // The shunt is measured, but CURRENT and POWER stay 0 without a calibration.
    assert_eq!(read(&mut bus, SHUNT), 5000);
    assert_eq!(read(&mut bus, CURRENT), 0);
    assert_eq!(read(&mut bus, POWER), 0);
}

#[test]
fn the_reset_bit_restores_power_on_values_and_clears_itself() {
    let sim = sim();
    let mut bus = sim.bus();
    write(&mut bus, CALIBRATION, 0x1000);
    // Bit 14 is unused: it reads 0.
    write(&mut bus, CONFIG, 0x4000 | 0x0123);
    assert_eq!(read(&mut bus, CONFIG), 0x0123);
    // RST with other bits: the other bits are ignored.
    write(&mut bus, CONFIG, 0x8000 | 0x0123);
    assert_eq!(read(&mut bus, CONFIG), 0x399F);
    assert_eq!(read(&mut bus, CALIBRATION), 0);
}

#[test]
fn calibration_current_and_power_follow_the_datasheet_example() {
    // R = 0.1 ohm, 0.5 A at 12 V. Current LSB 100 uA -> Cal = trunc(0.04096 /
    // (100e-6 * 0.1)) = 4096, power LSB 2 mW.
    let sim = sim();
    let (mut bus, clock) = (sim.bus(), sim.clock());
    sim.play(&constant(0.5, 12.0, 10.0, 1e-3)).expect("play");
    write(&mut bus, CALIBRATION, 4096);
    wait_cnvr(&mut bus, &clock);
    assert_eq!(read(&mut bus, SHUNT), 5000); // 50 mV / 10 uV
    assert_eq!(read(&mut bus, BUS) >> 3, 3000); // 12 V / 4 mV
    assert_eq!(read(&mut bus, CURRENT), 5000); // 5000 * 4096 / 4096 = 0.5 A / 100 uA
    assert_eq!(read(&mut bus, POWER), 3000); // 5000 * 3000 / 5000 = 6 W / 2 mW

    // Current LSB 40 uA -> Cal 10240 (0x2800), power LSB 800 uW.
    write(&mut bus, CALIBRATION, 10240);
    // The new calibration shows after the next conversion.
    assert_eq!(read(&mut bus, CURRENT), 5000);
    wait_cnvr(&mut bus, &clock);
    assert_eq!(read(&mut bus, CURRENT), 12500); // 0.5 A / 40 uA
    assert_eq!(read(&mut bus, POWER), 7500); // 6 W / 800 uW

    // Bit 0 of CALIBRATION is void.
    write(&mut bus, CALIBRATION, 0x1001);
    assert_eq!(read(&mut bus, CALIBRATION), 0x1000);
}

#[test]
fn negative_current_and_math_overflow() {
    let sim = sim();
    let (mut bus, clock) = (sim.bus(), sim.clock());
    sim.play(&constant(-0.25, 5.0, 10.0, 1e-3)).expect("play");
    write(&mut bus, CALIBRATION, 4096);
    wait_cnvr(&mut bus, &clock);
    assert_eq!(read(&mut bus, SHUNT) as i16, -2500);
    assert_eq!(read(&mut bus, CURRENT) as i16, -2500);
    // POWER is a magnitude: 2500 * 1250 / 5000.
    assert_eq!(read(&mut bus, POWER), 625);
    assert_eq!(read(&mut bus, BUS) & 1, 0, "no overflow");
    // Cal 0xFFFE: -2500 * 65534 / 4096 is out of range -> saturated, OVF.
    write(&mut bus, CALIBRATION, 0xFFFE);
    wait_cnvr(&mut bus, &clock);
    assert_eq!(read(&mut bus, CURRENT) as i16, i16::MIN);
    assert_eq!(read(&mut bus, BUS) & 1, 1, "OVF");
}

#[test]
fn the_pointer_persists_between_reads() {
    let sim = sim();
    let mut bus = sim.bus();
    write(&mut bus, CALIBRATION, 0x1234);
    bus.write(DEFAULT_ADDRESS, &[CALIBRATION]).expect("pointer");
    for _ in 0..3 {
        let mut word = [0u8; 2];
        bus.read(DEFAULT_ADDRESS, &mut word).expect("read");
        assert_eq!(word, [0x12, 0x34]);
    }
    // Separate write operations in one transaction are one transfer.
    bus.transaction(
        DEFAULT_ADDRESS,
        &mut [embedded_hal::i2c::Operation::Write(&[CALIBRATION, 0x56]), embedded_hal::i2c::Operation::Write(&[0x78])],
    )
    .expect("write");
    assert_eq!(read(&mut bus, CALIBRATION), 0x5678);
}

#[test]
fn each_transaction_costs_its_bits_at_the_bus_speed() {
    let sim = sim();
    let clock = sim.clock();
    let bit_s = 1.0 / DEFAULT_BUS_HZ as f64;
    let cost = |f: &mut dyn FnMut(&mut SimBus)| {
        let t0 = clock.now_s();
        let mut b = sim.bus();
        f(&mut b);
        clock.now_s() - t0
    };
    // START, address, pointer, repeated START, address, 2 data bytes, STOP.
    let write_read = cost(&mut |b| {
        read(b, CONFIG);
    });
    assert!((write_read - 48.0 * bit_s).abs() < 1e-12, "{write_read}");
    let plain_read = cost(&mut |b| {
        let mut w = [0u8; 2];
        b.read(DEFAULT_ADDRESS, &mut w).expect("read");
    });
    assert!((plain_read - 29.0 * bit_s).abs() < 1e-12, "{plain_read}");
    let register_write = cost(&mut |b| write(b, CALIBRATION, 1));
    assert!((register_write - 38.0 * bit_s).abs() < 1e-12, "{register_write}");
    // A NACKed address: START, the address byte, STOP.
    let nacked = cost(&mut |b| assert!(b.write(0x41, &[0]).is_err()));
    assert!((nacked - 11.0 * bit_s).abs() < 1e-12, "{nacked}");
    // Reading the clock costs nothing.
    let t = clock.now_s();
    assert_eq!(clock.now_s(), t);
}

#[test]
fn conversion_time_per_adc_setting_in_virtual_time() {
    // Table 6: code -> microseconds. Codes 4..7 repeat 0..3 (bit 2 is
    // "don't care"); 8 is 12-bit like 3.
    const US: [f64; 16] =
        [84., 148., 276., 532., 84., 148., 276., 532., 532., 1060., 2130., 4260., 8510., 17020., 34050., 68100.];
    // A fast bus, so that one poll (29 bits = 11.3 us) resolves the times.
    let hz = 2_560_000;
    let poll_s = 29.0 / hz as f64;
    for code in 0u16..16 {
        // Shunt continuous (SADC = code), then bus continuous (BADC = code).
        for config in [0x3800 | (code << 3) | 0b101, 0x2000 | (code << 7) | 0b110] {
            let sim = Ina219Sim::new(0.1, DEFAULT_ADDRESS, hz);
            let (mut bus, clock) = (sim.bus(), sim.clock());
            write(&mut bus, CONFIG, config);
            // The write took effect one STOP bit before the transaction ended.
            let written_s = clock.now_s() - 1.0 / hz as f64;
            let expected_s = US[code as usize] * 1e-6;
            let first_s = wait_cnvr(&mut bus, &clock) - written_s;
            assert!(
                first_s >= expected_s && first_s <= expected_s + 2.0 * poll_s,
                "CONFIG {config:#06x}: first conversion seen after {first_s} s, expected {expected_s} s"
            );
            // Continuous: the next one completes a conversion time later.
            read(&mut bus, POWER);
            let second_s = wait_cnvr(&mut bus, &clock) - written_s;
            assert!(
                second_s >= 2.0 * expected_s && second_s <= 2.0 * expected_s + 2.0 * poll_s,
                "CONFIG {config:#06x}: second conversion seen after {second_s} s, expected {} s",
                2.0 * expected_s
            );
        }
    }
    // Shunt and bus: one after the other (the power-on 532 + 532 us; 9-bit
    // shunt + 128-sample bus: 84 us + 68.10 ms).
    for (config, expected_s) in [(0x399F, 1064e-6), (0x3F87, 68184e-6)] {
        let sim = Ina219Sim::new(0.1, DEFAULT_ADDRESS, hz);
        let (mut bus, clock) = (sim.bus(), sim.clock());
        write(&mut bus, CONFIG, config);
        let written_s = clock.now_s() - 1.0 / hz as f64;
        let seen_s = wait_cnvr(&mut bus, &clock) - written_s;
        assert!(seen_s >= expected_s && seen_s <= expected_s + 2.0 * poll_s, "{config:#06x}: {seen_s} s");
    }
}

#[test]
fn cnvr_sets_when_a_conversion_completes_and_clears_on_a_power_read_or_a_mode_write() {
    let sim = sim();
    let (mut bus, clock) = (sim.bus(), sim.clock());
    // Shunt and bus, triggered: one conversion per CONFIG write.
    write(&mut bus, CONFIG, 0x399B);
    assert_eq!(read(&mut bus, BUS) & CNVR, 0, "cleared by the mode write");
    wait_cnvr(&mut bus, &clock);
    // Reading BUS_VOLTAGE again does not clear it (datasheet semantics).
    assert_ne!(read(&mut bus, BUS) & CNVR, 0);
    read(&mut bus, SHUNT);
    read(&mut bus, CURRENT);
    assert_ne!(read(&mut bus, BUS) & CNVR, 0, "other reads keep it");
    read(&mut bus, POWER);
    assert_eq!(read(&mut bus, BUS) & CNVR, 0, "cleared by the POWER read");
    // Triggered: no further conversion, however long we wait.
    sim.advance(1.0);
    assert_eq!(read(&mut bus, BUS) & CNVR, 0);
    // Another write of the triggered mode converts once more.
    write(&mut bus, CONFIG, 0x399B);
    wait_cnvr(&mut bus, &clock);
    // Power-down does not clear it.
    write(&mut bus, CONFIG, 0x3998);
    assert_ne!(read(&mut bus, BUS) & CNVR, 0);
    // Power-down converts nothing.
    read(&mut bus, POWER);
    sim.advance(1.0);
    assert_eq!(read(&mut bus, BUS) & CNVR, 0);
}

#[test]
fn cnvr_can_clear_on_a_bus_voltage_read_instead() {
    let sim = sim();
    sim.set_cnvr_cleared_by(CnvrClearedBy::BusVoltageRead);
    let (mut bus, clock) = (sim.bus(), sim.clock());
    wait_cnvr(&mut bus, &clock);
    assert_eq!(read(&mut bus, BUS) & CNVR, 0, "the first read cleared it");
    // The next conversion sets it again; a POWER read leaves it.
    sim.advance(1064e-6);
    read(&mut bus, POWER);
    assert_ne!(read(&mut bus, BUS) & CNVR, 0, "a POWER read does not clear it");
}

#[test]
fn results_are_the_window_mean_quantised_to_the_resolution_and_clipped_to_the_range() {
    // 12.34567 mA across 0.1 ohm = 1.234567 mV = 123.4567 LSBs of 10 uV.
    // Steps: 8 LSBs at 9 bits, 4 at 10, 2 at 11, 1 at 12 (and when averaging).
    for (sadc, expected) in [(0u16, 120i16), (1, 124), (2, 124), (3, 123), (8, 123), (15, 123)] {
        let sim = sim();
        let (mut bus, clock) = (sim.bus(), sim.clock());
        sim.play(&constant(0.01234567, 3.3, 1.0, 1e-3)).expect("play");
        write(&mut bus, CONFIG, 0x3985 | (sadc << 3));
        wait_cnvr(&mut bus, &clock);
        assert_eq!(read(&mut bus, SHUNT) as i16, expected, "SADC {sadc}");
    }
    // Bus: 3.3 V = 825 counts of 4 mV; 9 bits steps 8 counts: 824.
    for (badc, expected) in [(3u16, 825u16), (0, 824)] {
        let sim = sim();
        let (mut bus, clock) = (sim.bus(), sim.clock());
        sim.play(&constant(0.0, 3.3, 1.0, 1e-3)).expect("play");
        write(&mut bus, CONFIG, 0x3806 | (badc << 7));
        wait_cnvr(&mut bus, &clock);
        assert_eq!(read(&mut bus, BUS) >> 3, expected, "BADC {badc}");
    }

    // The mean over the conversion: 0 and 20 mA alternating every 10 us
    // average to 10 mA = 100 LSBs (a sampler would read 0 or 200).
    let n = 200_000;
    let square = Waveform {
        interval_s: 10e-6,
        current_a: (0..n).map(|k| if k % 2 == 0 { 0.0 } else { 0.020 }).collect(),
        voltage_v: vec![3.3; n],
        marker: vec![false; n],
    };
    for sadc in [3u16, 15] {
        let sim = sim();
        let (mut bus, clock) = (sim.bus(), sim.clock());
        sim.play(&square).expect("play");
        write(&mut bus, CONFIG, 0x3985 | (sadc << 3));
        wait_cnvr(&mut bus, &clock);
        let shunt = read(&mut bus, SHUNT) as i16;
        // A 532 us window holds 53.2 periods of 20 us: within 1 LSB of 100.
        assert!((shunt - 100).abs() <= 1, "SADC {sadc}: {shunt}");
    }

    // Clipped to the PGA range: 100 mV and -100 mV.
    for (pg, amps, expected) in
        [(0u16, 1.0, 4000i16), (0, -1.0, -4000), (1, 1.0, 8000), (3, 1.0, 10000), (3, 4.0, 32000)]
    {
        let sim = sim();
        let (mut bus, clock) = (sim.bus(), sim.clock());
        sim.play(&constant(amps, 3.3, 1.0, 1e-3)).expect("play");
        write(&mut bus, CONFIG, 0x2000 | (pg << 11) | 0x019D);
        wait_cnvr(&mut bus, &clock);
        assert_eq!(read(&mut bus, SHUNT) as i16, expected, "PG {pg}, {amps} A");
    }
    // Clipped to the bus range: 20 V reads 16 V with BRNG = 0.
    for (brng, expected) in [(0u16, 4000u16), (1, 5000)] {
        let sim = sim();
        let (mut bus, clock) = (sim.bus(), sim.clock());
        sim.play(&constant(0.0, 20.0, 1.0, 1e-3)).expect("play");
        write(&mut bus, CONFIG, (brng << 13) | 0x199F);
        wait_cnvr(&mut bus, &clock);
        assert_eq!(read(&mut bus, BUS) >> 3, expected, "BRNG {brng}");
    }
}

#[test]
fn the_registers_show_the_last_completed_conversion() {
    let sim = sim();
    let (mut bus, clock) = (sim.bus(), sim.clock());
    // Shunt continuous, 12 bit: conversions end every 532 us from the write.
    write(&mut bus, CONFIG, 0x399D);
    let written_s = clock.now_s() - 1.0 / DEFAULT_BUS_HZ as f64;
    // 10 mA from 0.9 ms after the write: the conversion over 532..1064 us
    // sees 0 A for 368 us, then 10 mA for 164 us.
    sim.advance(written_s + 0.9e-3 - clock.now_s());
    sim.play(&constant(0.010, 3.3, 1.0, 1e-6)).expect("play");
    assert_eq!(read(&mut bus, SHUNT), 0, "the conversion under way does not show yet");
    sim.advance(written_s + 1064e-6 + 1e-6 - clock.now_s());
    // round(100 * 164 / 532) = 31.
    assert_eq!(read(&mut bus, SHUNT), 31);
    sim.advance(532e-6);
    assert_eq!(read(&mut bus, SHUNT), 100);
}

#[test]
fn another_address_is_not_acknowledged() {
    let sim = Ina219Sim::new(0.1, 0x45, DEFAULT_BUS_HZ);
    assert_eq!(sim.address(), 0x45);
    let mut bus = sim.bus();
    let mut word = [0u8; 2];
    // Set the pointer at the right address, then try the wrong one.
    bus.write(0x45, &[CALIBRATION, 0x10, 0x00]).expect("the device answers at 0x45");
    let err = bus.write_read(DEFAULT_ADDRESS, &[CONFIG], &mut word).expect_err("nothing at 0x40");
    assert_eq!(err.kind(), ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address));
    // The NACKed transaction changed nothing: the pointer is still CALIBRATION.
    bus.read(0x45, &mut word).expect("read");
    assert_eq!(word, [0x10, 0x00]);
}

#[test]
fn injected_faults() {
    let sim = sim();
    let (mut bus, clock) = (sim.bus(), sim.clock());
    let nack = ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address);
    let mut word = [0u8; 2];

    // Disconnect after 2 transactions: those succeed, then every one NACKs.
    sim.inject(Fault::Disconnect { after_transactions: 2 });
    read(&mut bus, CONFIG);
    read(&mut bus, CONFIG);
    for _ in 0..3 {
        let err = bus.write_read(DEFAULT_ADDRESS, &[CONFIG], &mut word).expect_err("unplugged");
        assert_eq!(err.kind(), nack);
    }
    sim.clear_faults();
    assert_eq!(read(&mut bus, CONFIG), 0x399F);

    // One bus error, then the bus works again.
    sim.inject(Fault::BusError { after_transactions: 1 });
    read(&mut bus, CONFIG);
    assert_eq!(bus.write_read(DEFAULT_ADDRESS, &[CONFIG], &mut word).expect_err("glitch").kind(), ErrorKind::Bus);
    assert_eq!(read(&mut bus, CONFIG), 0x399F);

    // A stalled ADC: CNVR stays low and the registers keep their values.
    sim.play(&constant(0.010, 3.3, 10.0, 1e-3)).expect("play");
    sim.inject(Fault::AdcStalled);
    write(&mut bus, CONFIG, 0x399F);
    sim.advance(1.0);
    assert_eq!(read(&mut bus, BUS), 0);
    assert_eq!(read(&mut bus, SHUNT), 0);
    sim.clear_faults();
    wait_cnvr(&mut bus, &clock);
    assert_eq!(read(&mut bus, SHUNT), 100);

    // CNVR stuck high: set right after a mode write and after a POWER read.
    sim.inject(Fault::ConversionReadyStuckHigh);
    write(&mut bus, CONFIG, 0x399F);
    assert_ne!(read(&mut bus, BUS) & CNVR, 0);
    read(&mut bus, POWER);
    assert_ne!(read(&mut bus, BUS) & CNVR, 0);
    assert!(sim.transactions() > 10);
}

#[test]
fn marker_edges_arrive_in_virtual_time() {
    let sim = sim();
    let (mut bus, clock) = (sim.bus(), sim.clock());
    sim.advance(0.5);
    let mut marker = sim.marker();
    // 1 ms samples: low, high x2, low, high (ends high -> falls at the end).
    let waveform = Waveform {
        interval_s: 1e-3,
        current_a: vec![0.01; 5],
        voltage_v: vec![3.3; 5],
        marker: vec![false, true, true, false, true],
    };
    sim.play(&waveform).expect("play");
    let played_s = clock.now_s();
    assert_eq!(played_s, 0.5);
    assert!(marker.take_edges().expect("edges").is_empty(), "nothing has happened yet");
    // Bus traffic moves time past the first edge (1 ms) but not the second.
    while clock.now_s() < played_s + 2e-3 {
        read(&mut bus, BUS);
    }
    assert_eq!(marker.take_edges().expect("edges"), [MarkerEdge { time_s: played_s + 1e-3, high: true }]);
    assert!(marker.take_edges().expect("edges").is_empty(), "each edge once");
    sim.advance(1.0);
    let rest = marker.take_edges().expect("edges");
    let expected = [(3e-3, false), (4e-3, true), (5e-3, false)];
    assert_eq!(rest.len(), 3, "{rest:?}");
    for (edge, (t, high)) in rest.iter().zip(expected) {
        assert!((edge.time_s - (played_s + t)).abs() < 1e-12 && edge.high == high, "{rest:?}");
    }
    // A line opened later sees only later edges.
    let mut late = sim.marker();
    sim.play(&waveform).expect("play again");
    sim.advance(1.5e-3);
    assert_eq!(late.take_edges().expect("edges").len(), 1);
    assert_eq!(marker.take_edges().expect("edges").len(), 1);
}

#[test]
fn a_new_waveform_supersedes_the_rest_of_the_old_one() {
    let sim = sim();
    let mut marker = sim.marker();
    let high =
        Waveform { interval_s: 1e-3, current_a: vec![0.0; 10], voltage_v: vec![3.3; 10], marker: vec![true; 10] };
    sim.play(&high).expect("play");
    sim.advance(2e-3);
    let low =
        Waveform { interval_s: 1e-3, current_a: vec![0.0; 10], voltage_v: vec![3.3; 10], marker: vec![false; 10] };
    sim.play(&low).expect("play");
    sim.advance(1.0);
    // Rises at 0, falls when the low waveform starts; the old end never comes.
    let edges = marker.take_edges().expect("edges");
    assert_eq!(edges, [MarkerEdge { time_s: 0.0, high: true }, MarkerEdge { time_s: 2e-3, high: false }]);
}

#[test]
fn play_refuses_a_malformed_waveform() {
    let sim = sim();
    let mut w = constant(0.01, 3.3, 0.01, 1e-3);
    w.marker.pop();
    assert!(sim.play(&w).expect_err("short marker").to_string().contains("one of each per sample"));
    let w = Waveform { interval_s: 0.0, ..constant(0.01, 3.3, 0.01, 1e-3) };
    assert!(sim.play(&w).expect_err("zero interval").to_string().contains("positive"));
}

#[test]
fn play_from_another_thread_while_a_driver_polls() {
    let sim = sim();
    let (mut bus, clock) = (sim.bus(), sim.clock());
    let poller = std::thread::spawn(move || {
        write(&mut bus, CALIBRATION, 4096);
        let deadline = Instant::now() + Duration::from_secs(60);
        // Conversions across the start of the waveform read less; then 10 mA.
        while read(&mut bus, CURRENT) != 100 {
            assert!(Instant::now() < deadline, "the played current never showed");
        }
        clock.now_s()
    });
    sim.play(&constant(0.010, 3.3, 10.0, 1e-3)).expect("play");
    let seen_s = poller.join().expect("poller");
    assert!(seen_s > 0.0);
}
