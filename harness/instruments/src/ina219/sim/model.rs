//! The INA219 register model behind [`super::Ina219Sim`]: the six registers,
//! the ADC's conversions in virtual time, the played signal and the marker's
//! edges. The facts it implements, with their sources, are in the
//! [`super`] module documentation.

use embedded_hal::i2c::{ErrorKind, NoAcknowledgeSource, Operation};
use tinybench_power::{MarkerEdge, Waveform};

use super::{CnvrClearedBy, Fault};

pub(super) const REG_CONFIG: u8 = 0x00;
pub(super) const REG_SHUNT: u8 = 0x01;
pub(super) const REG_BUS: u8 = 0x02;
pub(super) const REG_POWER: u8 = 0x03;
pub(super) const REG_CURRENT: u8 = 0x04;
pub(super) const REG_CALIBRATION: u8 = 0x05;

/// CONFIG after power-on or a reset: 32 V bus range, PGA /8 (±320 mV),
/// 12-bit bus and shunt conversions, shunt and bus continuous.
pub(super) const CONFIG_POR: u16 = 0x399F;
const CONFIG_RST: u16 = 1 << 15;
/// Bit 14 is unused ("—" in the datasheet): it reads 0.
const CONFIG_WRITABLE: u16 = 0x3FFF;
const CONFIG_BRNG: u16 = 1 << 13;
const PG_SHIFT: u16 = 11;
const BADC_SHIFT: u16 = 7;
const SADC_SHIFT: u16 = 3;
const MODE_MASK: u16 = 0x7;
const MODE_SHUNT: u16 = 0b001;
const MODE_BUS: u16 = 0b010;
const MODE_CONTINUOUS: u16 = 0b100;

const CNVR_BIT: u16 = 1 << 1;
const OVF_BIT: u16 = 1 << 0;

/// Shunt voltage register LSB, in volts.
const SHUNT_LSB_V: f64 = 10e-6;
/// Bus voltage LSB (of bits 15..3), in volts.
const BUS_LSB_V: f64 = 4e-3;

/// One BADC/SADC setting (datasheet Table 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct AdcSetting {
    /// Resolution of each conversion, 9..=12.
    pub bits: u32,
    /// Conversions averaged into one result (1 for the plain resolutions).
    pub samples: u32,
    pub conversion_us: u32,
}

impl AdcSetting {
    /// The setting of a 4-bit BADC/SADC code: with bit 3 clear, bits 1..0
    /// select 9..12 bits (bit 2 is "don't care"); with bit 3 set, bits 2..0
    /// select 2^n 12-bit samples averaged (n = 0 is plain 12-bit).
    pub fn from_code(code: u16) -> AdcSetting {
        const SINGLE_US: [u32; 4] = [84, 148, 276, 532];
        const AVERAGED_US: [u32; 8] = [532, 1060, 2130, 4260, 8510, 17020, 34050, 68100];
        if code & 0x8 == 0 {
            let n = (code & 0x3) as usize;
            AdcSetting { bits: 9 + n as u32, samples: 1, conversion_us: SINGLE_US[n] }
        } else {
            let n = (code & 0x7) as usize;
            AdcSetting { bits: 12, samples: 1 << n, conversion_us: AVERAGED_US[n] }
        }
    }

    fn conversion_s(self) -> f64 {
        self.conversion_us as f64 * 1e-6
    }

    /// Register LSBs per ADC step: 1 at 12 bits, 2 at 11, 4 at 10, 8 at 9.
    fn step_lsbs(self) -> f64 {
        (1u32 << (12 - self.bits)) as f64
    }
}

/// One run of the ADC: the shunt conversion (if the mode has it), then the
/// bus conversion (if the mode has it), back to back from `start_s`.
#[derive(Debug, Clone, Copy)]
struct Cycle {
    start_s: f64,
    /// 0 when the mode converts no shunt voltage.
    shunt_s: f64,
    /// 0 when the mode converts no bus voltage.
    bus_s: f64,
    shunt_done: bool,
    continuous: bool,
}

impl Cycle {
    fn period_s(&self) -> f64 {
        self.shunt_s + self.bus_s
    }
}

/// A waveform and the virtual time its sample 0 began.
#[derive(Debug)]
struct Played {
    start_s: f64,
    waveform: Waveform,
    /// The bus voltage after the waveform ends.
    voltage_after_v: f64,
}

/// What the INA219 measures over time: the played waveforms, each in force
/// from its start until the next one starts; 0 A at the last voltage after
/// one ends, 0 A at 0 V before the first.
#[derive(Debug, Default)]
struct Signal {
    played: Vec<Played>,
}

impl Signal {
    fn play(&mut self, start_s: f64, waveform: Waveform, needed_from_s: f64) {
        // Waveforms wholly superseded before anything still to be converted
        // can go.
        while self.played.len() > 1 && self.played[1].start_s <= needed_from_s {
            self.played.remove(0);
        }
        let before_v = self.played.last().map_or(0.0, |p| p.voltage_after_v);
        let voltage_after_v = waveform.voltage_v.last().copied().unwrap_or(before_v);
        self.played.push(Played { start_s, waveform, voltage_after_v });
    }

    /// Mean current over `from_s .. to_s`, in amperes.
    fn mean_current_a(&self, from_s: f64, to_s: f64) -> f64 {
        self.mean(from_s, to_s, |p, u0, u1| p.waveform.mean_current_a(u0, u1) * (u1 - u0))
    }

    /// Mean bus voltage over `from_s .. to_s`, in volts.
    fn mean_voltage_v(&self, from_s: f64, to_s: f64) -> f64 {
        self.mean(from_s, to_s, |p, u0, u1| {
            let end = p.waveform.duration_s();
            let mut integral = 0.0;
            if u1.min(end) > u0 {
                integral += p.waveform.mean_voltage_v(u0, u1.min(end)) * (u1.min(end) - u0);
            }
            if u1 > u0.max(end) {
                integral += p.voltage_after_v * (u1 - u0.max(end));
            }
            integral
        })
    }

    /// `integral(played, u0, u1)` integrates one waveform over its own time
    /// `u0 .. u1`; this sums the pieces of `from_s .. to_s` and divides.
    fn mean(&self, from_s: f64, to_s: f64, integral: impl Fn(&Played, f64, f64) -> f64) -> f64 {
        if to_s <= from_s {
            return 0.0;
        }
        let mut sum = 0.0;
        for (i, p) in self.played.iter().enumerate() {
            let next_s = self.played.get(i + 1).map_or(f64::INFINITY, |n| n.start_s);
            let (a, b) = (from_s.max(p.start_s), to_s.min(next_s));
            if b > a {
                sum += integral(p, a - p.start_s, b - p.start_s);
            }
        }
        sum / (to_s - from_s)
    }
}

/// The whole simulated device and its bus, in virtual time.
#[derive(Debug)]
pub(super) struct Model {
    pub address: u8,
    bit_s: f64,
    shunt_ohms: f64,
    now_s: f64,

    pointer: u8,
    config: u16,
    calibration: u16,
    shunt_reg: i16,
    /// Bus voltage in 4 mV counts (bits 15..3 of the register).
    bus_counts: u16,
    power_reg: u16,
    current_reg: i16,
    cnvr: bool,
    ovf: bool,
    cycle: Option<Cycle>,
    cnvr_cleared_by: CnvrClearedBy,

    signal: Signal,
    /// Every marker edge of the played waveforms, in virtual time, in order.
    edges: Vec<MarkerEdge>,

    transactions: u64,
    disconnect_at: Option<u64>,
    bus_error_at: Option<u64>,
    adc_stalled: bool,
    cnvr_stuck_high: bool,
}

impl Model {
    pub fn new(shunt_ohms: f64, address: u8, bus_hz: u32) -> Model {
        let mut model = Model {
            address,
            bit_s: 1.0 / bus_hz.max(1) as f64,
            shunt_ohms,
            now_s: 0.0,
            pointer: REG_CONFIG,
            config: CONFIG_POR,
            calibration: 0,
            shunt_reg: 0,
            bus_counts: 0,
            power_reg: 0,
            current_reg: 0,
            cnvr: false,
            ovf: false,
            cycle: None,
            cnvr_cleared_by: CnvrClearedBy::PowerRead,
            signal: Signal::default(),
            edges: Vec::new(),
            transactions: 0,
            disconnect_at: None,
            bus_error_at: None,
            adc_stalled: false,
            cnvr_stuck_high: false,
        };
        model.reset();
        model
    }

    pub fn now_s(&self) -> f64 {
        self.now_s
    }

    pub fn transactions(&self) -> u64 {
        self.transactions
    }

    pub fn set_cnvr_cleared_by(&mut self, by: CnvrClearedBy) {
        self.cnvr_cleared_by = by;
    }

    pub fn inject(&mut self, fault: Fault) {
        match fault {
            Fault::Disconnect { after_transactions } => {
                self.disconnect_at = Some(self.transactions + after_transactions)
            }
            Fault::BusError { after_transactions } => self.bus_error_at = Some(self.transactions + after_transactions),
            Fault::AdcStalled => self.adc_stalled = true,
            Fault::ConversionReadyStuckHigh => self.cnvr_stuck_high = true,
        }
    }

    pub fn clear_faults(&mut self) {
        self.disconnect_at = None;
        self.bus_error_at = None;
        self.adc_stalled = false;
        self.cnvr_stuck_high = false;
    }

    /// Moves virtual time on by `seconds` without bus traffic.
    pub fn advance(&mut self, seconds: f64) {
        if seconds > 0.0 {
            self.now_s += seconds;
            self.run_until(self.now_s);
        }
    }

    /// Starts `waveform` now (its time 0 is the current virtual time).
    pub fn play(&mut self, waveform: Waveform) {
        let now = self.now_s;
        self.run_until(now);
        // The new waveform supersedes the rest of the old one: its edges
        // after now never happen.
        self.edges.retain(|e| e.time_s <= now);
        let mut level = self.edges.last().is_some_and(|e| e.high);
        for (k, &high) in waveform.marker.iter().enumerate() {
            if high != level {
                self.edges.push(MarkerEdge { time_s: now + k as f64 * waveform.interval_s, high });
                level = high;
            }
        }
        if level {
            // The marker is low once the waveform ends.
            self.edges.push(MarkerEdge { time_s: now + waveform.duration_s(), high: false });
        }
        let needed_from_s = self.cycle.map_or(now, |c| c.start_s.min(now));
        self.signal.play(now, waveform, needed_from_s);
    }

    /// How many marker edges have happened by now.
    pub fn edges_until_now(&self) -> usize {
        self.edges.partition_point(|e| e.time_s <= self.now_s)
    }

    /// The marker edges from index `from` up to now.
    pub fn edges_from(&self, from: usize) -> Vec<MarkerEdge> {
        let until = self.edges_until_now();
        self.edges.get(from..until).map(<[MarkerEdge]>::to_vec).unwrap_or_default()
    }

    /// One I2C transaction addressed to `address`, costing virtual time bit
    /// by bit (see the module documentation of [`super`]).
    pub fn transaction(&mut self, address: u8, operations: &mut [Operation<'_>]) -> Result<(), ErrorKind> {
        let count = self.transactions;
        self.transactions += 1;
        self.tick_bits(1); // START
        let failure = if address != self.address || self.disconnect_at.is_some_and(|at| count >= at) {
            Some(ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address))
        } else if self.bus_error_at == Some(count) {
            self.bus_error_at = None;
            Some(ErrorKind::Bus)
        } else {
            None
        };
        if let Some(kind) = failure {
            self.tick_bits(9 + 1); // the unacknowledged address byte, STOP
            self.run_until(self.now_s);
            return Err(kind);
        }

        let mut previous_is_read: Option<bool> = None;
        let mut write_pos = 0usize;
        let mut msb = 0u8;
        let mut read_pos = 0usize;
        let mut latched = 0u16;
        for op in operations.iter_mut() {
            let is_read = matches!(op, Operation::Read(_));
            // Adjacent operations of one kind are one transfer (the
            // embedded-hal contract); a change of kind is a repeated START
            // and the address byte again.
            if previous_is_read != Some(is_read) {
                if previous_is_read.is_some() {
                    self.tick_bits(1);
                }
                self.tick_bits(9);
                self.run_until(self.now_s);
                if is_read {
                    // The INA219 latches the register as it starts sending.
                    latched = self.read_register(self.pointer);
                    read_pos = 0;
                } else {
                    write_pos = 0;
                }
                previous_is_read = Some(is_read);
            }
            match op {
                Operation::Write(bytes) => {
                    for &byte in bytes.iter() {
                        self.tick_bits(9);
                        match write_pos {
                            0 => self.pointer = byte,
                            1 => msb = byte,
                            2 => {
                                self.run_until(self.now_s);
                                self.write_register(self.pointer, u16::from_be_bytes([msb, byte]));
                            }
                            // Bytes after the register's two are acknowledged
                            // and ignored (the datasheet defines none).
                            _ => {}
                        }
                        write_pos += 1;
                    }
                }
                Operation::Read(buffer) => {
                    for slot in buffer.iter_mut() {
                        let [hi, lo] = latched.to_be_bytes();
                        *slot = if read_pos.is_multiple_of(2) { hi } else { lo };
                        read_pos += 1;
                        self.tick_bits(9);
                    }
                }
            }
        }
        self.tick_bits(1); // STOP
        self.run_until(self.now_s);
        Ok(())
    }

    fn tick_bits(&mut self, bits: u32) {
        self.now_s += bits as f64 * self.bit_s;
    }

    /// The value the device sends for register `reg`, with the read's side
    /// effects (clearing CNVR).
    fn read_register(&mut self, reg: u8) -> u16 {
        let value = match reg {
            REG_CONFIG => self.config,
            REG_SHUNT => self.shunt_reg as u16,
            REG_BUS => {
                let cnvr = if self.cnvr || self.cnvr_stuck_high { CNVR_BIT } else { 0 };
                let ovf = if self.ovf { OVF_BIT } else { 0 };
                (self.bus_counts << 3) | cnvr | ovf
            }
            REG_POWER => self.power_reg,
            REG_CURRENT => self.current_reg as u16,
            REG_CALIBRATION => self.calibration,
            // No register there; the datasheet does not say what the part
            // sends, the model sends 0.
            _ => 0,
        };
        match (reg, self.cnvr_cleared_by) {
            (REG_POWER, CnvrClearedBy::PowerRead) | (REG_BUS, CnvrClearedBy::BusVoltageRead) => self.cnvr = false,
            _ => {}
        }
        value
    }

    fn write_register(&mut self, reg: u8, value: u16) {
        match reg {
            REG_CONFIG if value & CONFIG_RST != 0 => self.reset(),
            REG_CONFIG => {
                self.config = value & CONFIG_WRITABLE;
                self.start_conversions();
            }
            // Bit 0 of CALIBRATION is void: always 0.
            REG_CALIBRATION => self.calibration = value & !1,
            // Read-only or no register: the write is acknowledged and ignored.
            _ => {}
        }
    }

    /// Power-on reset (and CONFIG's RST bit): every register to its default,
    /// conversions restarting in the default mode.
    fn reset(&mut self) {
        self.config = CONFIG_POR;
        self.calibration = 0;
        self.shunt_reg = 0;
        self.bus_counts = 0;
        self.power_reg = 0;
        self.current_reg = 0;
        self.ovf = false;
        self.start_conversions();
    }

    /// After a CONFIG write: a conversion mode clears CNVR and (re)starts
    /// the ADC now, once for a triggered mode, back to back for a
    /// continuous one; power-down and ADC off stop it.
    fn start_conversions(&mut self) {
        let mode = self.config & MODE_MASK;
        if mode & (MODE_SHUNT | MODE_BUS) == 0 {
            self.cycle = None;
            return;
        }
        self.cnvr = false;
        let shunt = AdcSetting::from_code((self.config >> SADC_SHIFT) & 0xF);
        let bus = AdcSetting::from_code((self.config >> BADC_SHIFT) & 0xF);
        self.cycle = Some(Cycle {
            start_s: self.now_s,
            shunt_s: if mode & MODE_SHUNT != 0 { shunt.conversion_s() } else { 0.0 },
            bus_s: if mode & MODE_BUS != 0 { bus.conversion_s() } else { 0.0 },
            shunt_done: false,
            continuous: mode & MODE_CONTINUOUS != 0,
        });
    }

    /// Completes every conversion that ends by `t_s`.
    fn run_until(&mut self, t_s: f64) {
        if self.adc_stalled {
            return;
        }
        while let Some(mut cycle) = self.cycle {
            if cycle.shunt_s > 0.0 && !cycle.shunt_done {
                let end = cycle.start_s + cycle.shunt_s;
                if end > t_s {
                    return;
                }
                self.shunt_reg = self.convert_shunt(cycle.start_s, end);
                cycle.shunt_done = true;
                self.cycle = Some(cycle);
                continue;
            }
            let end = cycle.start_s + cycle.period_s();
            if end > t_s {
                return;
            }
            if cycle.bus_s > 0.0 {
                self.bus_counts = self.convert_bus(cycle.start_s + cycle.shunt_s, end);
            }
            self.finish_cycle();
            self.cycle = if cycle.continuous {
                // Only the last completed cycle shows in the registers, so a
                // long gap skips the cycles that would be overwritten anyway.
                let period = cycle.period_s();
                let behind = ((t_s - end) / period).floor();
                let start_s = if behind >= 2.0 { end + (behind - 1.0) * period } else { end };
                Some(Cycle { start_s, shunt_done: false, ..cycle })
            } else {
                None
            };
        }
    }

    /// The shunt voltage register for a conversion over `from_s .. to_s`:
    /// the mean shunt voltage, in steps of the ADC resolution, clipped to
    /// the PGA range.
    fn convert_shunt(&self, from_s: f64, to_s: f64) -> i16 {
        let setting = AdcSetting::from_code((self.config >> SADC_SHIFT) & 0xF);
        let range = 4000.0 * (1u32 << ((self.config >> PG_SHIFT) & 0x3)) as f64;
        let volts = self.signal.mean_current_a(from_s, to_s) * self.shunt_ohms;
        let step = setting.step_lsbs();
        let counts = (volts / SHUNT_LSB_V / step).round() * step;
        counts.clamp(-range, range) as i16
    }

    /// The bus voltage in 4 mV counts for a conversion over `from_s .. to_s`,
    /// clipped to the bus range.
    fn convert_bus(&self, from_s: f64, to_s: f64) -> u16 {
        let setting = AdcSetting::from_code((self.config >> BADC_SHIFT) & 0xF);
        let range = if self.config & CONFIG_BRNG != 0 { 8000.0 } else { 4000.0 };
        let volts = self.signal.mean_voltage_v(from_s, to_s);
        let step = setting.step_lsbs();
        let counts = (volts / BUS_LSB_V / step).round() * step;
        counts.clamp(0.0, range) as u16
    }

    /// The end of a cycle: current and power from the latest results and the
    /// calibration, OVF, CNVR.
    fn finish_cycle(&mut self) {
        // Current = Shunt × Cal / 4096, Power = Current × Bus / 5000
        // (datasheet equations; integer division truncates toward zero).
        let current = self.shunt_reg as i64 * self.calibration as i64 / 4096;
        let power = current.abs() * self.bus_counts as i64 / 5000;
        let current_over = current < i16::MIN as i64 || current > i16::MAX as i64;
        let power_over = power > u16::MAX as i64;
        self.current_reg = current.clamp(i16::MIN as i64, i16::MAX as i64) as i16;
        self.power_reg = power.min(u16::MAX as i64) as u16;
        self.ovf = current_over || power_over;
        self.cnvr = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn constant(current_a: f64, voltage_v: f64, duration_s: f64, interval_s: f64) -> Waveform {
        let n = (duration_s / interval_s).round() as usize;
        Waveform { interval_s, current_a: vec![current_a; n], voltage_v: vec![voltage_v; n], marker: vec![false; n] }
    }

    #[test]
    fn adc_codes_follow_table_6() {
        // Bit 2 is "don't care" for the plain resolutions: 0b0100 is 9-bit.
        assert_eq!(AdcSetting::from_code(0b0100), AdcSetting { bits: 9, samples: 1, conversion_us: 84 });
        assert_eq!(AdcSetting::from_code(0b0111), AdcSetting { bits: 12, samples: 1, conversion_us: 532 });
        assert_eq!(AdcSetting::from_code(0b1000), AdcSetting { bits: 12, samples: 1, conversion_us: 532 });
        assert_eq!(AdcSetting::from_code(0b1010), AdcSetting { bits: 12, samples: 4, conversion_us: 2130 });
        assert_eq!(AdcSetting::from_code(0b1111), AdcSetting { bits: 12, samples: 128, conversion_us: 68100 });
    }

    #[test]
    fn signal_is_zero_before_and_holds_the_last_voltage_after() {
        let mut s = Signal::default();
        s.play(1.0, constant(0.01, 3.3, 0.001, 1e-6), 0.0);
        // Half the window before the waveform (0 A, 0 V), half inside.
        assert!((s.mean_current_a(0.9995, 1.0005) - 0.005).abs() < 1e-12);
        assert!((s.mean_voltage_v(0.9995, 1.0005) - 1.65).abs() < 1e-9);
        // After its end: 0 A at 3.3 V.
        assert_eq!(s.mean_current_a(2.0, 3.0), 0.0);
        assert!((s.mean_voltage_v(2.0, 3.0) - 3.3).abs() < 1e-12);
        // A second waveform supersedes the first from its start.
        s.play(1.0005, constant(0.02, 5.0, 0.001, 1e-6), 0.0);
        assert!((s.mean_current_a(1.0, 1.001) - 0.015).abs() < 1e-12);
    }

    #[test]
    fn a_long_gap_skips_overwritten_cycles_but_keeps_the_phase() {
        let mut m = Model::new(0.1, 0x40, 400_000);
        m.play(constant(0.01, 3.3, 100.0, 1e-3));
        // Default mode: 532 us shunt + 532 us bus, from time 0.
        m.advance(10.0);
        let cycle = m.cycle.expect("continuous mode keeps converting");
        let period = 1064e-6;
        let phase = cycle.start_s / period;
        assert!((phase - phase.round()).abs() < 1e-6, "cycle start {} is off the 1064 us grid", cycle.start_s);
        assert!(cycle.start_s <= 10.0 && cycle.start_s > 10.0 - period);
        // 10 mA across 0.1 ohm = 1 mV = 100 counts; 3.3 V = 825 counts.
        assert_eq!(m.shunt_reg, 100);
        assert_eq!(m.bus_counts, 825);
    }
}
