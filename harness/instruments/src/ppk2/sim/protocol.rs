//! The PPK2's command bytes (host -> device) and sample words (device -> host).
//!
//! Opcodes: IRNAS ppk2-api-python `PPK2_Command`, Nordic pc-nrfconnect-ppk
//! `src/constants.ts`, hdoordt/ppk2-rs `cmd.rs`. Argument lengths: from the
//! hosts that send them (pc-nrfconnect-ppk `abstractDevice.ts`,
//! `serialDevice.ts`, and its removed PPK1 `rttDevice.ts` for the trigger,
//! switch-point and resistor commands). A USB transfer carries one command,
//! but a pseudo-terminal may join several into one read, so the simulator
//! needs each command's length to find the next.

/// Opcodes (first byte of a command).
pub mod opcode {
    pub const NO_OP: u8 = 0x00;
    pub const TRIGGER_SET: u8 = 0x01;
    pub const AVG_NUM_SET: u8 = 0x02;
    pub const TRIGGER_WINDOW_SET: u8 = 0x03;
    pub const TRIGGER_INTERVAL_SET: u8 = 0x04;
    pub const TRIGGER_SINGLE_SET: u8 = 0x05;
    pub const AVERAGE_START: u8 = 0x06;
    pub const AVERAGE_STOP: u8 = 0x07;
    pub const RANGE_SET: u8 = 0x08;
    pub const LCD_SET: u8 = 0x09;
    pub const TRIGGER_STOP: u8 = 0x0A;
    pub const DEVICE_RUNNING_SET: u8 = 0x0C;
    pub const REGULATOR_SET: u8 = 0x0D;
    pub const SWITCH_POINT_DOWN: u8 = 0x0E;
    pub const SWITCH_POINT_UP: u8 = 0x0F;
    /// ppk2-rs; the Python and Nordic tables give 0x11, the same as SetPowerMode.
    pub const TRIGGER_EXT_TOGGLE: u8 = 0x10;
    pub const SET_POWER_MODE: u8 = 0x11;
    pub const RES_USER_SET: u8 = 0x12;
    pub const SPIKE_FILTERING_ON: u8 = 0x15;
    pub const SPIKE_FILTERING_OFF: u8 = 0x16;
    pub const GET_META_DATA: u8 = 0x19;
    pub const RESET: u8 = 0x20;
    pub const SET_USER_GAINS: u8 = 0x25;
}

/// Lowest and highest source voltage, in mV (ppk2-api-python `vdd_low`/`vdd_high`,
/// pc-nrfconnect-ppk `vddRange`); the simulator clamps RegulatorSet to them.
pub const VDD_MIN_MV: u16 = 800;
pub const VDD_MAX_MV: u16 = 5000;

/// A command the simulator acts on.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    GetMetadata,
    /// RegulatorSet: the source voltage in mV, clamped to 800..=5000.
    Regulator {
        vdd_mv: u16,
    },
    /// SetPowerMode with its argument (1 ampere meter, 2 source meter).
    PowerMode(u8),
    /// DeviceRunningSet: DUT power on (non-zero) or off.
    DutPower(bool),
    AverageStart,
    AverageStop,
    Reset,
    /// SetUserGains: range and IEEE-754 single gain, little-endian.
    UserGain {
        range: u8,
        gain: f32,
    },
    /// Understood and ignored (triggers, switch points, spike filter, ...).
    Ignored(u8),
    /// An opcode whose length is unknown; it and the bytes after it that
    /// had already arrived were dropped.
    Unknown(u8),
}

/// Argument bytes after the opcode, where known.
fn argument_len(op: u8) -> Option<usize> {
    use opcode::*;
    match op {
        NO_OP | AVERAGE_START | AVERAGE_STOP | TRIGGER_STOP | TRIGGER_EXT_TOGGLE | SPIKE_FILTERING_ON
        | SPIKE_FILTERING_OFF | GET_META_DATA | RESET => Some(0),
        DEVICE_RUNNING_SET | SET_POWER_MODE => Some(1),
        // RegulatorSet [mV >> 8, mV & 0xFF]; TriggerWindowSet and the switch
        // points also send a 16-bit value high byte first (PPK1 host code).
        REGULATOR_SET | TRIGGER_WINDOW_SET | SWITCH_POINT_DOWN | SWITCH_POINT_UP => Some(2),
        // A 24-bit trigger level, high byte first (PPK1 host code).
        TRIGGER_SET | TRIGGER_SINGLE_SET => Some(3),
        SET_USER_GAINS => Some(5),
        // Three f32 resistor values (PPK1 host code).
        RES_USER_SET => Some(12),
        // AvgNumSet, TriggerIntervalSet, RangeSet, LcdSet are marked
        // "no-firmware" by Nordic; their lengths are not documented.
        _ => None,
    }
}

/// Splits the command byte stream into commands; keeps a command whose
/// arguments have not all arrived yet until they do.
#[derive(Debug, Default)]
pub struct CommandParser {
    pending: Vec<u8>,
}

impl CommandParser {
    /// Feeds the bytes of one read; appends the complete commands to `out`.
    pub fn push(&mut self, bytes: &[u8], out: &mut Vec<Command>) {
        self.pending.extend_from_slice(bytes);
        let mut at = 0;
        while at < self.pending.len() {
            let op = self.pending[at];
            let Some(len) = argument_len(op) else {
                out.push(Command::Unknown(op));
                at = self.pending.len();
                break;
            };
            if self.pending.len() - at < 1 + len {
                break;
            }
            let args = &self.pending[at + 1..at + 1 + len];
            out.push(decode(op, args));
            at += 1 + len;
        }
        self.pending.drain(..at);
    }

    /// Forgets a partly received command (the device reset).
    pub fn clear(&mut self) {
        self.pending.clear();
    }
}

fn decode(op: u8, args: &[u8]) -> Command {
    match (op, args) {
        (opcode::GET_META_DATA, []) => Command::GetMetadata,
        (opcode::REGULATOR_SET, &[high, low]) => {
            // Both host encodings give the millivolts high byte first: Nordic
            // sends [mV >> 8, mV & 0xFF]; ppk2-api-python's [3 + d / 256, d % 256]
            // with d = mV - 800 + 32 is the same number (800 mV = [3, 32] = 0x0320).
            let vdd_mv = (u16::from(high) << 8 | u16::from(low)).clamp(VDD_MIN_MV, VDD_MAX_MV);
            Command::Regulator { vdd_mv }
        }
        (opcode::SET_POWER_MODE, &[mode]) => Command::PowerMode(mode),
        (opcode::DEVICE_RUNNING_SET, &[on]) => Command::DutPower(on != 0),
        (opcode::AVERAGE_START, []) => Command::AverageStart,
        (opcode::AVERAGE_STOP, []) => Command::AverageStop,
        (opcode::RESET, []) => Command::Reset,
        (opcode::SET_USER_GAINS, &[range, b0, b1, b2, b3]) => {
            Command::UserGain { range, gain: f32::from_le_bytes([b0, b1, b2, b3]) }
        }
        _ => Command::Ignored(op),
    }
}

/// Bit fields of a sample word (pc-nrfconnect-ppk `serialDevice.ts` masks
/// MEAS_ADC 14 bits at 0, MEAS_RANGE 3 at 14, MEAS_COUNTER 6 at 18,
/// MEAS_LOGIC 8 at 24; bit 17 is unused).
pub const ADC_BITS: u32 = 14;
pub const RANGE_SHIFT: u32 = 14;
pub const COUNTER_SHIFT: u32 = 18;
pub const COUNTER_MODULO: u64 = 64;
pub const LOGIC_SHIFT: u32 = 24;

/// One sample as the device sends it: a little-endian u32 of
/// code (bits 0-13) | range (14-16) | counter (18-23) | logic D0..D7 (24-31).
pub fn sample_word(code: u16, range: u8, counter: u8, logic: u8) -> [u8; 4] {
    let word = (u32::from(code) & ((1 << ADC_BITS) - 1))
        | (u32::from(range) & 0b111) << RANGE_SHIFT
        | (u32::from(counter) & 0b11_1111) << COUNTER_SHIFT
        | u32::from(logic) << LOGIC_SHIFT;
    word.to_le_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(chunks: &[&[u8]]) -> Vec<Command> {
        let mut parser = CommandParser::default();
        let mut out = Vec::new();
        for chunk in chunks {
            parser.push(chunk, &mut out);
        }
        out
    }

    #[test]
    fn regulator_bytes_from_both_host_encodings() {
        // Nordic: 3000 mV -> [0x0D, 0x0B, 0xB8]; ppk2-api-python: d = 3000 - 800 + 32
        // = 2232 -> [3 + 8, 2232 % 256 = 184] = the same bytes.
        assert_eq!(parse(&[&[0x0D, 0x0B, 0xB8]]), [Command::Regulator { vdd_mv: 3000 }]);
        // ppk2-api-python's lowest setting [3, 32] is 800 mV.
        assert_eq!(parse(&[&[0x0D, 3, 32]]), [Command::Regulator { vdd_mv: 800 }]);
        // 1800 mV: d = 1032 -> [3 + 4, 8] = 0x0708.
        assert_eq!(parse(&[&[0x0D, 7, 8]]), [Command::Regulator { vdd_mv: 1800 }]);
        // Out of range values clamp to 800..=5000.
        assert_eq!(parse(&[&[0x0D, 0x00, 0x10]]), [Command::Regulator { vdd_mv: 800 }]);
        assert_eq!(parse(&[&[0x0D, 0xFF, 0xFF]]), [Command::Regulator { vdd_mv: 5000 }]);
    }

    #[test]
    fn joined_and_split_commands() {
        // SetPowerMode 2, RegulatorSet 3300 mV split across reads, DUT on, start.
        let cmds = parse(&[&[0x11, 0x02, 0x0D, 0x0C], &[0xE4, 0x0C, 0x01, 0x06]]);
        assert_eq!(
            cmds,
            [
                Command::PowerMode(2),
                Command::Regulator { vdd_mv: 3300 },
                Command::DutPower(true),
                Command::AverageStart
            ]
        );
        // Ignored commands with arguments do not swallow what follows.
        let cmds = parse(&[&[0x01, 1, 2, 3, 0x0E, 0, 1, 0x15, 0x12], &[0; 12], &[0x19, 0x07, 0x20]]);
        assert_eq!(
            cmds,
            [
                Command::Ignored(0x01),
                Command::Ignored(0x0E),
                Command::Ignored(0x15),
                Command::Ignored(0x12),
                Command::GetMetadata,
                Command::AverageStop,
                Command::Reset
            ]
        );
        // SetUserGains: range 3, 1.25f32 little-endian.
        let gain = 1.25f32.to_le_bytes();
        assert_eq!(
            parse(&[&[0x25, 3, gain[0], gain[1], gain[2], gain[3]]]),
            [Command::UserGain { range: 3, gain: 1.25 }]
        );
        // An undocumented length drops the rest of what arrived with it.
        assert_eq!(parse(&[&[0x08, 0x06], &[0x07]]), [Command::Unknown(0x08), Command::AverageStop]);
    }

    #[test]
    fn sample_word_layout() {
        // code 0x1234, range 3, counter 45, logic 0b1000_0001:
        // 0x1234 | 3 << 14 | 45 << 18 | 0x81 << 24 = 0x81B4_D234, little-endian.
        assert_eq!(sample_word(0x1234, 3, 45, 0x81), [0x34, 0xD2, 0xB4, 0x81]);
        // Fields are masked to their widths; bit 17 stays clear.
        assert_eq!(u32::from_le_bytes(sample_word(0xFFFF, 0xFF, 0xFF, 0)), 0x00FD_FFFF);
    }
}
