//! The PPK2's calibration constants, its metadata text, and the current <->
//! (range, ADC code) conversion the simulator inverts.
//!
//! The documented conversion (IRNAS ppk2-api-python `get_adc_result`, Nordic
//! pc-nrfconnect-ppk `serialDevice.ts` `getAdcResult`), for a sample word with
//! 14-bit ADC code `code` in range `k` and the source voltage `VDD` in mV:
//!
//! ```text
//! adc = code * 4
//! r   = (adc - O[k]) * (1.8 / 163840) / R[k]
//! I   = UG[k] * (r * (GS[k] * r + GI[k]) + (S[k] * VDD / 1000 + I[k]))      [A]
//! ```
//!
//! The simulator runs it backwards: `c = I / UG - (S * VDD / 1000 + I)`, then
//! the positive root of `GS r^2 + GI r - c = 0` (as `2c / (GI + sqrt(GI^2 + 4 GS c))`,
//! which has no cancellation and is `c / GI` when `GS` is 0), then
//! `adc = r * R / (1.8 / 163840) + O` and the nearest code.

/// The PPK2's five current ranges (0 is the most sensitive).
pub const RANGES: usize = 5;

/// Largest 14-bit ADC code.
pub const ADC_MAX_CODE: u16 = 0x3FFF;

/// Volts per ADC unit after the `* 4` scaling (ppk2-api-python `adc_mult`).
const ADC_VOLTS_PER_UNIT: f64 = 1.8 / 163_840.0;

/// Per-range calibration, as the device reports it in its metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    /// Shunt resistance per range, in ohms (`R0`..`R4`).
    pub r_ohm: [f64; RANGES],
    /// Gain slope (`GS0`..`GS4`).
    pub gs: [f64; RANGES],
    /// Gain intercept (`GI0`..`GI4`); must be positive.
    pub gi: [f64; RANGES],
    /// ADC offset in `* 4` units (`O0`..`O4`).
    pub o: [f64; RANGES],
    /// Supply-voltage dependent offset, in A per V (`S0`..`S4`).
    pub s: [f64; RANGES],
    /// Offset current, in A (`I0`..`I4`).
    pub i: [f64; RANGES],
    /// User gain (`UG0`..`UG4`), set with SetUserGains; must be non-zero.
    pub ug: [f64; RANGES],
}

impl Calibration {
    /// One real PPK2's factory calibration as published in a metadata dump
    /// (hdoordt/ppk2-rs, `Metadata` doc comment in `types.rs`). These are not
    /// made up; they are one unit's values, printed with the same decimals.
    pub fn published_unit() -> Calibration {
        Calibration {
            r_ohm: [1003.3506, 101.5865, 10.3027, 0.9636, 0.0564],
            gs: [0.0, 112.7890, 18.0115, 2.4217, 0.0729],
            gi: [1.0, 0.9695, 0.9609, 0.9519, 0.9582],
            o: [112.9420, 75.4627, 64.6020, 50.4983, 87.2177],
            s: [0.000000048, 0.000000596, 0.000005281, 0.000062577, 0.002940743],
            i: [-0.000000104, -0.000001443, 0.000036439, -0.000374119, -0.009388455],
            ug: [1.0; RANGES],
        }
    }

    /// The current a sample stands for (the documented conversion above).
    pub fn current_a(&self, range: usize, code: u16, vdd_mv: u16) -> f64 {
        let k = range.min(RANGES - 1);
        let adc = f64::from(code) * 4.0;
        let r = (adc - self.o[k]) * ADC_VOLTS_PER_UNIT / self.r_ohm[k];
        self.ug[k] * (r * (self.gs[k] * r + self.gi[k]) + (self.s[k] * f64::from(vdd_mv) / 1000.0 + self.i[k]))
    }

    /// The fractional ADC code that stands for `current_a` in `range` (may be
    /// outside 0..=16383).
    fn fractional_code(&self, range: usize, current_a: f64, vdd_mv: u16) -> f64 {
        let k = range;
        let c = current_a / self.ug[k] - (self.s[k] * f64::from(vdd_mv) / 1000.0 + self.i[k]);
        // Below the parabola's vertex there is no root; the vertex is far
        // below code 0 for every published range, so the code clamps to 0.
        let discriminant = (self.gi[k] * self.gi[k] + 4.0 * self.gs[k] * c).max(0.0);
        let r = 2.0 * c / (self.gi[k] + discriminant.sqrt());
        (r * self.r_ohm[k] / ADC_VOLTS_PER_UNIT + self.o[k]) / 4.0
    }

    /// How the simulated PPK2 reports `current_a`: the most sensitive range
    /// whose nearest code does not exceed 16383 (what the device's
    /// auto-ranging aims at: the best resolution without saturating), and the
    /// code in it whose current is nearest. Currents beyond range 4 saturate
    /// at (4, 16383); currents below range 0's code 0 clamp to (0, 0).
    pub fn encode(&self, current_a: f64, vdd_mv: u16) -> (u8, u16) {
        let current_a = if current_a.is_finite() { current_a } else { 0.0 };
        for range in 0..RANGES {
            let x = self.fractional_code(range, current_a, vdd_mv);
            if x.round() <= f64::from(ADC_MAX_CODE) {
                return (range as u8, self.nearest_code(range, x, current_a, vdd_mv));
            }
        }
        ((RANGES - 1) as u8, ADC_MAX_CODE)
    }

    /// Of the codes around `x`, the one whose current is nearest (rounding in
    /// code space is not quite nearest in current when `GS` bends the curve).
    fn nearest_code(&self, range: usize, x: f64, current_a: f64, vdd_mv: u16) -> u16 {
        let centre = x.round().clamp(0.0, f64::from(ADC_MAX_CODE)) as u16;
        let lo = centre.saturating_sub(1);
        let hi = centre.saturating_add(1).min(ADC_MAX_CODE);
        (lo..=hi)
            .min_by(|&a, &b| {
                let da = (self.current_a(range, a, vdd_mv) - current_a).abs();
                let db = (self.current_a(range, b, vdd_mv) - current_a).abs();
                da.total_cmp(&db)
            })
            .unwrap_or(centre)
    }

    /// The current step between `code` and its neighbours in `range` (the
    /// larger of the two): a decoded sample is within half of it of the
    /// current the simulator was given, unless the sample saturated.
    pub fn step_a(&self, range: usize, code: u16, vdd_mv: u16) -> f64 {
        let at = self.current_a(range, code, vdd_mv);
        let up = self.current_a(range, code.saturating_add(1).min(ADC_MAX_CODE), vdd_mv) - at;
        let down = at - self.current_a(range, code.saturating_sub(1), vdd_mv);
        up.abs().max(down.abs())
    }

    /// The metadata text the device sends for GetMetaData: `Key: value` lines
    /// in the order and with the decimals of the published dump (hdoordt/ppk2-rs),
    /// ending with `END\n`. `VDD` and `mode` report the current regulator
    /// setting and power mode (1 ampere meter, 2 source meter); `Calibrated: 0`,
    /// `HW: 9173` and `IA: 56` are copied from that dump (their meaning is not
    /// documented; hosts only store them).
    pub fn metadata_text(&self, vdd_mv: u16, mode: u8) -> String {
        let mut text = String::from("Calibrated: 0\n");
        push_block(&mut text, "R", &self.r_ohm, 4);
        push_block(&mut text, "GS", &self.gs, 4);
        push_block(&mut text, "GI", &self.gi, 4);
        push_block(&mut text, "O", &self.o, 4);
        text.push_str(&format!("VDD: {vdd_mv}\nHW: 9173\nmode: {mode}\n"));
        push_block(&mut text, "S", &self.s, 9);
        push_block(&mut text, "I", &self.i, 9);
        push_block(&mut text, "UG", &self.ug, 2);
        text.push_str("IA: 56\nEND\n");
        text
    }
}

/// Appends `KEY0: value` .. `KEY4: value` lines.
fn push_block(text: &mut String, key: &str, values: &[f64; RANGES], decimals: usize) {
    for (k, value) in values.iter().enumerate() {
        text.push_str(&format!("{key}{k}: {value:.decimals$}\n"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VDD_MV: u16 = 3000;

    #[test]
    fn forward_conversion_matches_a_hand_computed_sample() {
        let cal = Calibration::published_unit();
        // Range 2, code 10000: adc 40000, r = (40000 - 64.602) * 1.8/163840 / 10.3027
        // = 0.042612.. A; I = r * (18.0115 r + 0.9609) + 5.281e-6 * 3 + 36.439e-6.
        let r = (40000.0 - 64.6020) * (1.8 / 163840.0) / 10.3027;
        let expected = r * (18.0115 * r + 0.9609) + 0.000005281 * 3.0 + 0.000036439;
        assert!((cal.current_a(2, 10000, VDD_MV) - expected).abs() < 1e-15);
        assert!((expected - 0.07364).abs() < 1e-4, "{expected}");
        // Range numbers above 4 are read as 4 (hosts clamp them too).
        assert_eq!(cal.current_a(7, 100, VDD_MV), cal.current_a(4, 100, VDD_MV));
    }

    #[test]
    fn known_currents_round_trip_within_half_a_step() {
        let cal = Calibration::published_unit();
        for vdd_mv in [800, 1800, 3000, 5000] {
            for &current_a in &[0.0, 1e-7, 3.3e-6, 5e-5, 4e-4, 7e-4, 2e-3, 1.2e-2, 0.05, 0.15, 0.3, 1.0, 1.9] {
                let (range, code) = cal.encode(current_a, vdd_mv);
                assert!(code <= ADC_MAX_CODE && usize::from(range) < RANGES);
                let back = cal.current_a(usize::from(range), code, vdd_mv);
                let step = cal.step_a(usize::from(range), code, vdd_mv);
                assert!(
                    (back - current_a).abs() <= step / 2.0 + 1e-15,
                    "{current_a} A at {vdd_mv} mV -> range {range} code {code} -> {back} A (step {step})"
                );
            }
        }
    }

    #[test]
    fn chooses_the_most_sensitive_range_that_does_not_saturate() {
        let cal = Calibration::published_unit();
        let mut last_range = 0;
        // Sweep 10 nA .. 2 A: the range never goes down as the current grows,
        // each sample is in range, and the range below would have saturated.
        let mut current_a = 1e-8;
        while current_a < 2.0 {
            let (range, code) = cal.encode(current_a, VDD_MV);
            assert!(range >= last_range, "{current_a} A: range {range} after {last_range}");
            assert!(code < ADC_MAX_CODE || range == 4);
            if range > 0 {
                let below_max = cal.current_a(usize::from(range) - 1, ADC_MAX_CODE, VDD_MV);
                let below_step = cal.step_a(usize::from(range) - 1, ADC_MAX_CODE, VDD_MV);
                assert!(current_a > below_max + below_step / 2.0 - 1e-12, "{current_a} A fits range {}", range - 1);
            }
            last_range = range;
            current_a *= 1.05;
        }
        assert_eq!(last_range, 3, "2 A is in range 3 with this calibration");
        // Far beyond range 4 saturates; far below range 0 clamps.
        assert_eq!(cal.encode(100.0, VDD_MV), (4, ADC_MAX_CODE));
        assert_eq!(cal.encode(-1.0, VDD_MV), (0, 0));
        assert_eq!(cal.encode(f64::NAN, VDD_MV), cal.encode(0.0, VDD_MV));
    }

    #[test]
    fn zero_amperes_decodes_within_range_0_resolution() {
        let cal = Calibration::published_unit();
        let (range, code) = cal.encode(0.0, VDD_MV);
        assert_eq!(range, 0);
        // Range 0 resolution: 4 * 1.8/163840 / 1003.3506 = 43.8 nA per code.
        let step = cal.step_a(0, code, VDD_MV);
        assert!((step - 43.8e-9).abs() < 0.1e-9, "{step}");
        assert!(cal.current_a(0, code, VDD_MV).abs() <= step / 2.0);
    }

    #[test]
    fn metadata_text_has_every_key_in_the_published_order() {
        let text = Calibration::published_unit().metadata_text(3300, 1);
        assert!(text.ends_with("IA: 56\nEND\n"));
        let keys: Vec<&str> = text.lines().map(|line| line.split(": ").next().unwrap_or("")).collect();
        let mut expected = vec!["Calibrated".to_string()];
        for key in ["R", "GS", "GI", "O"] {
            expected.extend((0..5).map(|k| format!("{key}{k}")));
        }
        expected.extend(["VDD", "HW", "mode"].map(String::from));
        for key in ["S", "I", "UG"] {
            expected.extend((0..5).map(|k| format!("{key}{k}")));
        }
        expected.extend(["IA", "END"].map(String::from));
        assert_eq!(keys, expected);
        assert!(text.contains("\nR0: 1003.3506\n") && text.contains("\nS4: 0.002940743\n"));
        assert!(text.contains("\nI0: -0.000000104\n") && text.contains("\nUG4: 1.00\n"));
        assert!(text.contains("\nVDD: 3300\nHW: 9173\nmode: 1\n"));
    }
}
