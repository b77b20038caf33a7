//! The PPK2's bytes: command encoding, the metadata text, the sample word and
//! its conversion to amperes, and the Nordic app's spike filter. The facts
//! and their sources are listed in the [driver](super) documentation.

use crate::InstrumentError;

/// Command opcodes (the first byte of every command).
pub(super) mod opcode {
    /// Start streaming samples.
    pub const AVERAGE_START: u8 = 0x06;
    /// Stop streaming samples.
    pub const AVERAGE_STOP: u8 = 0x07;
    /// DUT power: followed by 0 (off) or 1 (on).
    pub const DEVICE_RUNNING_SET: u8 = 0x0C;
    /// Source voltage: followed by the millivolts, most significant byte first.
    pub const REGULATOR_SET: u8 = 0x0D;
    /// Power mode: followed by 1 (ampere meter) or 2 (source meter).
    pub const SET_POWER_MODE: u8 = 0x11;
    /// Answered with the metadata text.
    pub const GET_META_DATA: u8 = 0x19;
}

/// The regulator's range in millivolts.
pub const SOURCE_MV_MIN: u32 = 800;
pub const SOURCE_MV_MAX: u32 = 5000;

/// `RegulatorSet` for `source_mv`. The references clamp to 800..=5000 mV;
/// a value outside is refused here instead, so a typo in a configuration
/// cannot silently power a board at another voltage.
///
/// ppk2-api-python builds the two bytes as `b1 = 3 + d / 256, b2 = d % 256`
/// with `d = mV - 800 + 32`; since `3 * 256 + 32 = 800`, that is
/// `b1 * 256 + b2 = mV`, the millivolts big-endian, which is what Nordic's app
/// sends (`[0x0D, vdd >> 8, vdd & 0xff]`).
pub fn regulator_set(source_mv: u32) -> Result<[u8; 3], String> {
    if !(SOURCE_MV_MIN..=SOURCE_MV_MAX).contains(&source_mv) {
        return Err(format!(
            "source voltage {source_mv} mV is outside the PPK2's {SOURCE_MV_MIN}..={SOURCE_MV_MAX} mV; \
             set source_mv within that range"
        ));
    }
    let d = source_mv - SOURCE_MV_MIN + 32;
    // Both fit a byte: d <= 4232, so 3 + d / 256 <= 19.
    Ok([opcode::REGULATOR_SET, (3 + d / 256) as u8, (d % 256) as u8])
}

/// Volts per ADC count after the ×4 scaling (1.8 V reference over 163840).
pub const ADC_V_PER_COUNT: f64 = 1.8 / 163_840.0;

/// The five current ranges (0 = most sensitive).
pub const RANGES: usize = 5;

/// The documented defaults, used where the metadata lacks a value.
const DEFAULT_R_OHM: [f64; RANGES] = [1031.64, 101.65, 10.15, 0.94, 0.043];

/// The PPK2's per-range calibration, from its metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    /// Shunt resistance per range (`R0`..`R4`), ohms.
    pub r_ohm: [f64; RANGES],
    /// Quadratic gain (`GS0`..`GS4`).
    pub gs: [f64; RANGES],
    /// Linear gain (`GI0`..`GI4`).
    pub gi: [f64; RANGES],
    /// ADC offset in counts (`O0`..`O4`).
    pub o: [f64; RANGES],
    /// Supply-voltage dependent offset, amperes per volt (`S0`..`S4`).
    pub s: [f64; RANGES],
    /// Constant offset, amperes (`I0`..`I4`).
    pub i: [f64; RANGES],
    /// User gain (`UG0`..`UG4`).
    pub ug: [f64; RANGES],
    /// Keys taken from the defaults, e.g. `R2`: missing from the metadata,
    /// not a finite number there, or zero where zero would make the reading
    /// infinite or independent of the ADC (`R`, `GI`, `UG`).
    pub defaulted: Vec<String>,
}

impl Default for Calibration {
    fn default() -> Self {
        Calibration {
            r_ohm: DEFAULT_R_OHM,
            gs: [1.0; RANGES],
            gi: [1.0; RANGES],
            o: [0.0; RANGES],
            s: [0.0; RANGES],
            i: [0.0; RANGES],
            ug: [1.0; RANGES],
            defaulted: Vec::new(),
        }
    }
}

impl Calibration {
    /// Current in amperes for a sample's 14-bit ADC field in `range`, with
    /// the regulator at `vdd_v` volts (the Nordic app's `getAdcResult`):
    /// `adc = ADC * 4; r = (adc - O) * (1.8 / 163840) / R;
    ///  I = UG * (r * (GS * r + GI) + (S * VDD + I))`.
    pub fn current_a(&self, range: usize, adc_field: u32, vdd_v: f64) -> f64 {
        let range = range.min(RANGES - 1);
        let adc = f64::from(adc_field) * 4.0;
        let r = (adc - self.o[range]) * (ADC_V_PER_COUNT / self.r_ohm[range]);
        self.ug[range] * (r * (self.gs[range] * r + self.gi[range]) + (self.s[range] * vdd_v + self.i[range]))
    }

    /// The current step of one ADC count in `range`, near zero current
    /// (dI/dr there is UG * GI).
    pub fn resolution_a(&self, range: usize) -> f64 {
        let range = range.min(RANGES - 1);
        (self.ug[range] * self.gi[range] * 4.0 * ADC_V_PER_COUNT / self.r_ohm[range]).abs()
    }
}

/// What the PPK2 says about itself in its metadata.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Metadata {
    pub calibration: Calibration,
    /// Hardware revision (`HW`).
    pub hw: Option<String>,
    /// Regulator voltage at the time of the request (`VDD`), millivolts.
    pub vdd_mv: Option<f64>,
    /// Power mode at the time of the request (`mode`: 1 ampere, 2 source).
    pub mode: Option<String>,
    /// `IA`, reported as is.
    pub ia: Option<String>,
    /// `Calibrated`, reported as is.
    pub calibrated: Option<String>,
}

impl Metadata {
    /// Whether `bytes` holds a whole answer: a line `END`.
    pub fn is_complete(bytes: &[u8]) -> bool {
        bytes.split(|&b| b == b'\n').any(|line| line.trim_ascii() == b"END")
    }

    /// Parses the answer to `GetMetaData`: `Key: value` lines up to a line
    /// `END`. Keys are matched without regard to case (the Nordic app
    /// lower-cases them); unknown keys are ignored (newer firmware may add
    /// some); a line that is not `Key: value`, or a calibration value that
    /// is not a number, is an error.
    pub fn parse(bytes: &[u8]) -> Result<Metadata, InstrumentError> {
        let malformed = |detail: String| InstrumentError::Malformed { what: "GetMetaData (0x19)".into(), detail };
        let text = std::str::from_utf8(bytes).map_err(|e| {
            malformed(format!("not text ({e}); is this port a PPK2 (and not its second, unused serial port)?"))
        })?;
        let mut metadata = Metadata::default();
        let mut values: [[Option<f64>; RANGES]; 7] = [[None; RANGES]; 7];
        let mut ended = false;
        for line in text.lines().map(str::trim) {
            if line.is_empty() {
                continue;
            }
            if line == "END" {
                ended = true;
                break;
            }
            let Some((key, value)) = line.split_once(':') else {
                return Err(malformed(format!("line `{line}` is not `Key: value`")));
            };
            let (key, value) = (key.trim(), value.trim());
            let lower = key.to_ascii_lowercase();
            match lower.as_str() {
                "hw" => metadata.hw = Some(value.to_string()),
                "mode" => metadata.mode = Some(value.to_string()),
                "ia" => metadata.ia = Some(value.to_string()),
                "calibrated" => metadata.calibrated = Some(value.to_string()),
                "vdd" => {
                    let mv = value.parse::<f64>().map_err(|_| malformed(format!("VDD `{value}` is not a number")))?;
                    metadata.vdd_mv = mv.is_finite().then_some(mv);
                }
                _ => {
                    if let Some((table, range)) = calibration_key(&lower) {
                        let v =
                            value.parse::<f64>().map_err(|_| malformed(format!("{key} `{value}` is not a number")))?;
                        values[table][range] = Some(v);
                    }
                }
            }
        }
        if !ended {
            return Err(malformed("no `END` line".into()));
        }
        let cal = &mut metadata.calibration;
        for (table, name) in TABLES.iter().enumerate() {
            for (range, value) in values[table].iter().enumerate() {
                let slot = match table {
                    0 => &mut cal.r_ohm[range],
                    1 => &mut cal.gs[range],
                    2 => &mut cal.gi[range],
                    3 => &mut cal.o[range],
                    4 => &mut cal.s[range],
                    5 => &mut cal.i[range],
                    _ => &mut cal.ug[range],
                };
                match value {
                    Some(v) if v.is_finite() && (*v != 0.0 || ZERO_IS_A_VALUE[table]) => *slot = *v,
                    _ => cal.defaulted.push(format!("{name}{range}")),
                }
            }
        }
        Ok(metadata)
    }
}

const TABLES: [&str; 7] = ["R", "GS", "GI", "O", "S", "I", "UG"];

/// Per table: whether zero is a calibration value (a quadratic term or an
/// offset) rather than a broken one (a shunt or a gain). A real unit reports
/// `GS0: 0.0000`, which the python API and ppk2-rs use as is; Nordic's app
/// (`meta[key] || default`) would take 1 there, a difference of `r^2`, at
/// most 0.07 % at the top of range 0.
const ZERO_IS_A_VALUE: [bool; 7] = [false, true, false, true, true, true, false];

/// `gs3` -> (1, 3); None for anything else.
fn calibration_key(lower: &str) -> Option<(usize, usize)> {
    let range = lower.chars().last()?.to_digit(10).map(|d| d as usize).filter(|&r| r < RANGES)?;
    // The digit is ASCII: one byte.
    let name = &lower[..lower.len() - 1];
    let table = TABLES.iter().position(|t| t.eq_ignore_ascii_case(name))?;
    Some((table, range))
}

/// One 4-byte sample word (little-endian on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleWord(pub u32);

impl SampleWord {
    pub const BYTES: usize = 4;

    pub fn from_le(bytes: [u8; 4]) -> Self {
        SampleWord(u32::from_le_bytes(bytes))
    }

    /// Bits 0-13: the ADC reading.
    pub fn adc(self) -> u32 {
        self.0 & 0x3FFF
    }

    /// Bits 14-16: the current range, clamped to 4 like the references do.
    pub fn range(self) -> usize {
        (((self.0 >> 14) & 0x7) as usize).min(RANGES - 1)
    }

    /// Bits 18-23: a counter that wraps at 64.
    pub fn counter(self) -> u8 {
        ((self.0 >> 18) & 0x3F) as u8
    }

    /// Bits 24-31: logic inputs D0 (bit 24) .. D7.
    pub fn logic(self) -> u8 {
        (self.0 >> 24) as u8
    }
}

/// The counter's modulus.
pub const COUNTER_MODULUS: u8 = 64;

/// The Nordic app's spike filter: after the range changes, the next three
/// samples are replaced by exponential moving averages of all samples
/// (alpha 0.18; alpha 0.06 in range 4, where the first two keep the averages
/// from before the switch), because the range switch itself disturbs them.
#[derive(Debug, Clone, Default)]
pub struct SpikeFilter {
    rolling: Option<f64>,
    rolling_4: Option<f64>,
    prev_range: Option<usize>,
    after_spike: u32,
    consecutive: u32,
}

impl SpikeFilter {
    const ALPHA: f64 = 0.18;
    const ALPHA_4: f64 = 0.06;
    const SAMPLES: u32 = 3;

    /// The filtered value of a sample of `value_a` in `range`.
    pub fn apply(&mut self, range: usize, value_a: f64) -> f64 {
        let (prev_rolling, prev_rolling_4) = (self.rolling, self.rolling_4);
        let rolling = self.rolling.map_or(value_a, |avg| Self::ALPHA * value_a + (1.0 - Self::ALPHA) * avg);
        let rolling_4 = self.rolling_4.map_or(value_a, |avg| Self::ALPHA_4 * value_a + (1.0 - Self::ALPHA_4) * avg);
        self.rolling = Some(rolling);
        self.rolling_4 = Some(rolling_4);
        let prev_range = *self.prev_range.get_or_insert(range);
        self.prev_range = Some(range);
        if prev_range == range && self.after_spike == 0 {
            return value_a;
        }
        if prev_range != range {
            self.consecutive = 0;
            self.after_spike = Self::SAMPLES;
        } else {
            self.consecutive += 1;
        }
        self.after_spike -= 1;
        if range == RANGES - 1 {
            if self.consecutive < 2 {
                self.rolling = prev_rolling;
                self.rolling_4 = prev_rolling_4;
            }
            self.rolling_4.unwrap_or(value_a)
        } else {
            rolling
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real PPK2's answer, as quoted in hdoordt/ppk2-rs (types.rs).
    const METADATA: &str = "Calibrated: 0\nR0: 1003.3506\nR1: 101.5865\nR2: 10.3027\nR3: 0.9636\nR4: 0.0564\n\
        GS0: 0.0000\nGS1: 112.7890\nGS2: 18.0115\nGS3: 2.4217\nGS4: 0.0729\n\
        GI0: 1.0000\nGI1: 0.9695\nGI2: 0.9609\nGI3: 0.9519\nGI4: 0.9582\n\
        O0: 112.9420\nO1: 75.4627\nO2: 64.6020\nO3: 50.4983\nO4: 87.2177\n\
        VDD: 3000\nHW: 9173\nmode: 2\n\
        S0: 0.000000048\nS1: 0.000000596\nS2: 0.000005281\nS3: 0.000062577\nS4: 0.002940743\n\
        I0: -0.000000104\nI1: -0.000001443\nI2: 0.000036439\nI3: -0.000374119\nI4: -0.009388455\n\
        UG0: 1.00\nUG1: 1.00\nUG2: 1.00\nUG3: 1.00\nUG4: 1.00\nIA: 56\nEND\n";

    #[test]
    fn parses_a_real_answer() {
        let m = Metadata::parse(METADATA.as_bytes()).unwrap();
        let c = &m.calibration;
        assert_eq!(c.r_ohm, [1003.3506, 101.5865, 10.3027, 0.9636, 0.0564]);
        // GS0 is 0.0000 there, and stays (see ZERO_IS_A_VALUE).
        assert_eq!(c.gs, [0.0, 112.7890, 18.0115, 2.4217, 0.0729]);
        assert_eq!(c.gi, [1.0, 0.9695, 0.9609, 0.9519, 0.9582]);
        assert_eq!(c.o, [112.9420, 75.4627, 64.6020, 50.4983, 87.2177]);
        assert_eq!(c.s, [0.000000048, 0.000000596, 0.000005281, 0.000062577, 0.002940743]);
        assert_eq!(c.i, [-0.000000104, -0.000001443, 0.000036439, -0.000374119, -0.009388455]);
        assert_eq!(c.ug, [1.0; 5]);
        assert!(c.defaulted.is_empty(), "{:?}", c.defaulted);
        assert_eq!(m.hw.as_deref(), Some("9173"));
        assert_eq!(m.vdd_mv, Some(3000.0));
        assert_eq!(m.mode.as_deref(), Some("2"));
        assert_eq!(m.ia.as_deref(), Some("56"));
        assert_eq!(m.calibrated.as_deref(), Some("0"));
    }

    #[test]
    fn missing_and_nan_keys_take_the_defaults_and_are_listed() {
        // CRLF, lower-case keys (as the Nordic app sees them), R2 missing,
        // R3 zero, UG4 -nan, GS1 and O1 zero, an unknown key.
        let text = "r0: 1000\r\nr1: 100\r\nr3: 0\r\nr4: 0.05\r\nug4: -nan\r\ngs1: 0\r\no1: 0.0\r\nFOO: bar\r\nEND\r\n";
        let m = Metadata::parse(text.as_bytes()).unwrap();
        let c = &m.calibration;
        assert_eq!(c.r_ohm, [1000.0, 100.0, 10.15, 0.94, 0.05]);
        assert_eq!(c.ug, [1.0; 5]);
        assert_eq!((c.gs[1], c.o[1]), (0.0, 0.0));
        for key in ["R2", "R3", "UG4", "O0", "GS0"] {
            assert!(c.defaulted.contains(&key.to_string()), "{key} in {:?}", c.defaulted);
        }
        for key in ["R0", "GS1", "O1"] {
            assert!(!c.defaulted.contains(&key.to_string()), "{key} in {:?}", c.defaulted);
        }
        assert_eq!(m.hw, None);
    }

    #[test]
    fn malformed_metadata_is_refused() {
        for bad in [&b"R0: 1000\n"[..], b"R0: abc\nEND\n", b"hello\nEND\n", b"R0: \xff\nEND\n"] {
            let err = Metadata::parse(bad).unwrap_err();
            assert!(matches!(err, InstrumentError::Malformed { .. }), "{err}");
        }
        assert!(Metadata::is_complete(b"HW: 1\r\nEND\r\n") && !Metadata::is_complete(b"HW: 1\nEN"));
    }

    #[test]
    fn regulator_bytes() {
        // 800 mV = 0x0320, 3300 mV = 0x0CE4, 5000 mV = 0x1388: big-endian.
        assert_eq!(regulator_set(800), Ok([0x0D, 0x03, 0x20]));
        assert_eq!(regulator_set(1800), Ok([0x0D, 0x07, 0x08]));
        assert_eq!(regulator_set(3300), Ok([0x0D, 0x0C, 0xE4]));
        assert_eq!(regulator_set(5000), Ok([0x0D, 0x13, 0x88]));
        assert!(regulator_set(799).unwrap_err().contains("800..=5000"));
        assert!(regulator_set(5001).is_err());
    }

    #[test]
    fn sample_word_fields() {
        // 0xA5 logic | counter 0x2A | bit 17 clear | range 3 | ADC 0x1234:
        // 0xA5 << 24 | 0x2A << 18 | 3 << 14 | 0x1234 = 0xA5A8D234.
        let w = SampleWord::from_le([0x34, 0xD2, 0xA8, 0xA5]);
        assert_eq!(w.0, 0xA5A8_D234);
        assert_eq!((w.adc(), w.range(), w.counter(), w.logic()), (0x1234, 3, 0x2A, 0xA5));
        // Range bits 7 are clamped to 4.
        assert_eq!(SampleWord(7 << 14).range(), 4);
    }

    #[test]
    fn conversion_with_the_default_calibration() {
        let c = Calibration::default();
        // ADC 1000 in range 2: r = 4000 * 1.8 / 163840 V / 10.15 ohm = 4.3296 mA;
        // the default GS = GI = 1 make I = r * (r + 1).
        let r = 4000.0 * 1.8 / 163_840.0 / 10.15;
        let expected = r * (r + 1.0);
        assert!((c.current_a(2, 1000, 3.3) - expected).abs() < 1e-15);
        assert!((c.resolution_a(0) - 4.0 * 1.8 / 163_840.0 / 1031.64).abs() < 1e-18);
        // Offsets, gains and the supply term, by hand for one range:
        // r = (400 - 100) * 1.8/163840 / 2 = 1.647949e-3; I = 0.5 * (r * (3 r + 2) + (0.01 * 3 + 0.001)).
        let mut c = Calibration::default();
        (c.o[1], c.r_ohm[1], c.gs[1], c.gi[1], c.s[1], c.i[1], c.ug[1]) = (100.0, 2.0, 3.0, 2.0, 0.01, 0.001, 0.5);
        let r = 300.0 * 1.8 / 163_840.0 / 2.0;
        let expected = 0.5 * (r * (3.0 * r + 2.0) + (0.01 * 3.0 + 0.001));
        assert!((c.current_a(1, 100, 3.0) - expected).abs() < 1e-15);
    }

    #[test]
    fn spike_filter_smooths_three_samples_after_a_range_change() {
        let mut f = SpikeFilter::default();
        assert_eq!(f.apply(1, 1.0), 1.0);
        assert_eq!(f.apply(1, 1.0), 1.0);
        // Switch to range 2 at 2.0: EMA 0.18 * 2 + 0.82 * 1 = 1.18, then 1.3276, 1.448632.
        let a = f.apply(2, 2.0);
        let b = f.apply(2, 2.0);
        let c = f.apply(2, 2.0);
        assert!((a - 1.18).abs() < 1e-12 && (b - 1.3276).abs() < 1e-12 && (c - 1.448632).abs() < 1e-12, "{a} {b} {c}");
        assert_eq!(f.apply(2, 2.0), 2.0);
        // Into range 4: the first two keep the averages from before.
        let mut f = SpikeFilter::default();
        f.apply(3, 1.0);
        assert_eq!(f.apply(4, 5.0), 1.0);
        assert_eq!(f.apply(4, 5.0), 1.0);
        assert!((f.apply(4, 5.0) - (0.06 * 5.0 + 0.94 * 1.0)).abs() < 1e-12);
        assert_eq!(f.apply(4, 5.0), 5.0);
    }
}
