//! What the driver programs into the INA219: the calibration and the
//! configuration word, derived from the shunt, the largest expected current,
//! the ADC setting and the bus voltage (facts and sources in the module
//! documentation of [`super`]).

use ina219::configuration::{
    BusVoltageRange, Configuration, MeasuredSignals, OperatingMode, Reset, Resolution, ShuntVoltageRange,
};

use super::Ina219Adc;

/// The datasheet's calibration constant: `Cal = trunc(0.04096 / (Current_LSB × R_shunt))`.
const CAL_SCALE: f64 = 0.04096;
/// The SHUNT_VOLTAGE register's LSB: 10 µV at every PGA setting.
const SHUNT_LSB_V: f64 = 10e-6;
/// The 16 V bus range is used below this bus voltage (a margin under its
/// full scale); the 32 V range above it.
const BUS_16V_BELOW_V: f64 = 15.0;
/// The largest calibration value: bit 0 of the register is unused (reads 0).
const CAL_MAX: f64 = 65534.0;
/// The smallest shunt voltage at the largest current: 100 steps of the
/// shunt register's 10 µV, so one step is at most 1 % of the range.
const MIN_SHUNT_FULL_SCALE_V: f64 = 1e-3;
/// The PGA settings, smallest full scale first (PG = 00, 01, 10, 11).
const SHUNT_RANGES: [(ShuntVoltageRange, f64); 4] = [
    (ShuntVoltageRange::Fsr40mv, 0.040),
    (ShuntVoltageRange::Fsr80mv, 0.080),
    (ShuntVoltageRange::Fsr160mv, 0.160),
    (ShuntVoltageRange::Fsr320mv, 0.320),
];

/// The calibration for one shunt and current range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ina219Calibration {
    /// The PGA setting: the smallest shunt range that holds
    /// `max_current × shunt_ohms`.
    pub shunt_range: ShuntVoltageRange,
    /// Full scale of that range, in volts.
    pub shunt_full_scale_v: f64,
    /// The current LSB the calibration was computed for (the datasheet's
    /// `Current_LSB`), in amperes.
    pub current_lsb_a: f64,
    /// The CALIBRATION register value.
    pub register: u16,
    /// What one count of the CURRENT register really is, in amperes:
    /// `0.04096 / (Cal × R)`, the inverse of the chip's own
    /// `CURRENT = SHUNT × Cal / 4096` with the shunt's 10 µV LSB. It differs
    /// from `current_lsb_a` by the truncation of `Cal`.
    pub amps_per_count: f64,
    /// One 10 µV step of the SHUNT_VOLTAGE register over the shunt, in
    /// amperes.
    pub shunt_step_a: f64,
}

impl Ina219Calibration {
    /// The smallest current step the readings resolve at an ADC setting, in
    /// amperes: one count of the CURRENT register, or one step of the shunt
    /// conversion when that is coarser (CURRENT is computed from it). The
    /// datasheet gives only the register's 10 µV LSB; that each bit below
    /// 12 doubles the conversion's step (80 µV at 9 bits) is an assumption,
    /// on the safe side for the uncertainty.
    pub fn resolution_a(&self, adc: Ina219Adc) -> f64 {
        let coarsening = match adc {
            Ina219Adc::Bits9 => 8.0,
            Ina219Adc::Bits10 => 4.0,
            Ina219Adc::Bits11 => 2.0,
            Ina219Adc::Bits12 => 1.0,
        };
        self.amps_per_count.max(self.shunt_step_a * coarsening)
    }
}

/// Computes the calibration per the datasheet's programming procedure.
///
/// `Current_LSB` must lie between `Imax / 32767` (the 15-bit register holds
/// `Imax`) and `Imax / 4096`; the datasheet suggests a round number near the
/// minimum, so this takes the smallest 1-2-5 step (…, 10, 20, 50, 100 µA, …)
/// not below `Imax / 32767`. Round steps also make `Cal` an exact multiple of
/// 4096 for round shunts (0.1 Ω and 20 µA: 20480), where the chip's integer
/// division loses nothing. If `Cal` would not fit its register (a tiny
/// `Imax × R`), the LSB grows until it does.
pub fn calibrate(shunt_ohms: f64, max_current_a: f64) -> Result<Ina219Calibration, String> {
    if !(shunt_ohms.is_finite() && shunt_ohms > 0.0) {
        return Err(format!(
            "shunt_ohms must be the shunt resistor's value in ohms, above 0 (0.1 on the common breakout boards), not {shunt_ohms}"
        ));
    }
    if !(max_current_a.is_finite() && max_current_a > 0.0) {
        return Err(format!(
            "max_current_ma must be the largest current the board draws, in mA, above 0, not {}",
            max_current_a * 1e3
        ));
    }
    let shunt_max_v = max_current_a * shunt_ohms;
    // A relative tolerance: 0.4 A × 0.1 Ω is 0.04000000000000001 in binary.
    let Some(&(shunt_range, shunt_full_scale_v)) =
        SHUNT_RANGES.iter().find(|(_, fsr_v)| *fsr_v >= shunt_max_v * (1.0 - 1e-9))
    else {
        return Err(format!(
            "max_current_ma × shunt_ohms = {:.1} mV exceeds the INA219's ±320 mV shunt range; use a smaller shunt (at most {:.4} ohm for {} mA) or a lower max_current_ma",
            shunt_max_v * 1e3,
            0.320 / max_current_a,
            max_current_a * 1e3
        ));
    };
    if shunt_max_v < MIN_SHUNT_FULL_SCALE_V {
        return Err(format!(
            "max_current_ma × shunt_ohms = {:.3} mV is below 1 mV: one 10 µV step of the INA219's shunt register would be over 1 % of the largest current; use a shunt of at least {:.3} ohm",
            shunt_max_v * 1e3,
            MIN_SHUNT_FULL_SCALE_V / max_current_a
        ));
    }
    let lsb_for_range = max_current_a / 32767.0;
    let lsb_for_register = CAL_SCALE / (CAL_MAX * shunt_ohms);
    let current_lsb_a = round_up_1_2_5(lsb_for_range.max(lsb_for_register));
    let register = calibration_register(current_lsb_a, shunt_ohms);
    let amps_per_count = CAL_SCALE / (f64::from(register) * shunt_ohms);
    Ok(Ina219Calibration {
        shunt_range,
        shunt_full_scale_v,
        current_lsb_a,
        register,
        amps_per_count,
        shunt_step_a: SHUNT_LSB_V / shunt_ohms,
    })
}

/// `Cal = trunc(0.04096 / (Current_LSB × R_shunt))` with bit 0 cleared (the
/// register's bit 0 is not used). A quotient within 1e-9 of an integer is
/// taken as that integer, so that an LSB or shunt carrying a rounding error
/// (100 µA × (1 + 1e-12) over 0.1 Ω) still gives the datasheet's 4096, not
/// 4094.
pub fn calibration_register(current_lsb_a: f64, shunt_ohms: f64) -> u16 {
    let exact = CAL_SCALE / (current_lsb_a * shunt_ohms);
    let whole = if (exact - exact.round()).abs() < 1e-9 * exact { exact.round() } else { exact.trunc() };
    // In range by construction in `calibrate` (the LSB is at least
    // 0.04096 / (65534 R)); clamped so that other callers cannot wrap.
    (whole.clamp(2.0, CAL_MAX) as u16) & !1
}

/// The smallest value of the form {1, 2, 5} × 10^k that is at least `x` (> 0).
fn round_up_1_2_5(x: f64) -> f64 {
    let exponent = x.log10().floor() as i32;
    // Dividing by 10^k for negative exponents keeps 5 µA exactly 5e-6.
    let scaled = |step: f64| if exponent < 0 { step / 10f64.powi(-exponent) } else { step * 10f64.powi(exponent) };
    for step in [1.0, 2.0, 5.0, 10.0, 20.0] {
        let candidate = scaled(step);
        // A relative tolerance keeps exact steps (1e-4 from 0.4 / 4000 etc.)
        // from being pushed to the next one by rounding.
        if candidate >= x * (1.0 - 1e-12) {
            return candidate;
        }
    }
    scaled(20.0)
}

/// The bus range for a measured bus voltage: 16 V unless the supply is near
/// or above it.
pub fn bus_range_for(bus_v: f64) -> BusVoltageRange {
    if bus_v < BUS_16V_BELOW_V { BusVoltageRange::Fsr16v } else { BusVoltageRange::Fsr32v }
}

/// The ADC setting's code (the crate's encoding of BADC/SADC).
pub fn resolution(adc: Ina219Adc) -> Resolution {
    match adc {
        Ina219Adc::Bits9 => Resolution::Res9Bit,
        Ina219Adc::Bits10 => Resolution::Res10Bit,
        Ina219Adc::Bits11 => Resolution::Res11Bit,
        Ina219Adc::Bits12 => Resolution::Res12Bit,
    }
}

/// The configuration written for a capture: both ADCs at the chosen setting,
/// shunt and bus converted continuously.
pub fn configuration(calibration: &Ina219Calibration, bus: BusVoltageRange, adc: Ina219Adc) -> Configuration {
    Configuration {
        reset: Reset::Run,
        bus_voltage_range: bus,
        shunt_voltage_range: calibration.shunt_range,
        bus_resolution: resolution(adc),
        shunt_resolution: resolution(adc),
        operating_mode: OperatingMode::Continous(MeasuredSignals::ShutAndBusVoltage),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datasheet_example_100_ua_over_0_1_ohm_is_4096() {
        assert_eq!(calibration_register(100e-6, 0.1), 4096);
        assert_eq!(calibration_register(100e-6 * (1.0 + 1e-12), 0.1), 4096);
        // The other datasheet example: 40 µA over 0.1 Ω is 10240 (0x2800).
        assert_eq!(calibration_register(40e-6, 0.1), 10240);
        // 3.2 A over 0.1 Ω (the full ±320 mV): Imax / 32767 = 97.66 µA, so
        // 100 µA, Cal 4096, PGA /8.
        let cal = calibrate(0.1, 3.2).unwrap();
        assert_eq!((cal.current_lsb_a, cal.register, cal.shunt_range), (100e-6, 4096, ShuntVoltageRange::Fsr320mv));
        assert!((cal.amps_per_count - 100e-6).abs() < 1e-15);
        assert!((cal.resolution_a(Ina219Adc::Bits12) - 100e-6).abs() < 1e-15);
    }

    #[test]
    fn lsb_is_the_round_step_above_imax_over_32767() {
        // 400 mA over 0.1 Ω: 40 mV (PGA /1), Imax / 32767 = 12.2 µA -> 20 µA,
        // Cal = 0.04096 / (20 µA × 0.1 Ω) = 20480. One shunt step (10 µV /
        // 0.1 Ω = 100 µA) is coarser than one current count.
        let cal = calibrate(0.1, 0.4).unwrap();
        assert_eq!((cal.current_lsb_a, cal.register, cal.shunt_range), (20e-6, 20480, ShuntVoltageRange::Fsr40mv));
        assert!((cal.resolution_a(Ina219Adc::Bits12) - 100e-6).abs() < 1e-12);
        assert!((cal.resolution_a(Ina219Adc::Bits9) - 800e-6).abs() < 1e-12);
        assert!(cal.current_lsb_a >= 0.4 / 32767.0 && cal.current_lsb_a <= 0.4 / 4096.0);
        // 50 mA over 1 Ω: 50 mV -> PGA /2; 1.53 µA -> 2 µA; Cal 20480.
        let cal = calibrate(1.0, 0.05).unwrap();
        assert_eq!((cal.current_lsb_a, cal.register, cal.shunt_range), (2e-6, 20480, ShuntVoltageRange::Fsr80mv));
        // A truncated Cal: 0.15 Ω, 1 A -> 30.5 µA -> 50 µA,
        // 0.04096 / 7.5e-6 = 5461.33 -> 5461 -> bit 0 cleared 5460; one
        // count is then 0.04096 / (5460 × 0.15) = 50.01 µA.
        let cal = calibrate(0.15, 1.0).unwrap();
        assert_eq!((cal.current_lsb_a, cal.register, cal.shunt_range), (50e-6, 5460, ShuntVoltageRange::Fsr160mv));
        assert!((cal.amps_per_count - 0.04096 / (5460.0 * 0.15)).abs() < 1e-15);
    }

    #[test]
    fn a_small_shunt_voltage_still_fits_the_register() {
        // 20 mA over 0.1 Ω is 2 mV: Imax / 32767 = 0.61 µA would need
        // Cal = 671088; the LSB grows to 10 µA (Cal 40960).
        let cal = calibrate(0.1, 0.02).unwrap();
        assert_eq!((cal.current_lsb_a, cal.register), (10e-6, 40960), "{cal:?}");
        // Below 1 mV at full scale one shunt step is over 1 % of it.
        let err = calibrate(0.1, 0.001).unwrap_err();
        assert!(err.contains("below 1 mV") && err.contains("at least 1.000 ohm"), "{err}");
    }

    #[test]
    fn impossible_configurations_say_what_to_change() {
        let err = calibrate(0.1, 4.0).unwrap_err();
        assert!(err.contains("400.0 mV exceeds") && err.contains("at most 0.0800 ohm"), "{err}");
        assert!(calibrate(0.0, 0.4).unwrap_err().contains("shunt_ohms"));
        assert!(calibrate(f64::NAN, 0.4).unwrap_err().contains("shunt_ohms"));
        assert!(calibrate(0.1, -1.0).unwrap_err().contains("max_current_ma"));
    }

    #[test]
    fn round_steps() {
        assert_eq!(round_up_1_2_5(12.2e-6), 20e-6);
        assert_eq!(round_up_1_2_5(97.66e-6), 100e-6);
        assert_eq!(round_up_1_2_5(1.0), 1.0);
        assert_eq!(round_up_1_2_5(2.5e-6), 5e-6);
        assert_eq!(round_up_1_2_5(6e-6), 10e-6);
    }

    #[test]
    fn configuration_word_bits() {
        // Datasheet CONFIG layout: RST 15, BRNG 13, PG 12:11, BADC 10:7,
        // SADC 6:3, MODE 2:0. 16 V (0), PGA /1 (00), 12-bit (0011) on both,
        // shunt and bus continuous (111): 0b0_0_0_00_0011_0011_111 = 0x019F.
        let cal = calibrate(0.1, 0.4).unwrap();
        let word = configuration(&cal, BusVoltageRange::Fsr16v, Ina219Adc::Bits12).as_bits();
        assert_eq!(word, 0b0000_0001_1001_1111);
        // 32 V (1), PGA /8 (11), 9-bit (0000): 0b0_0_1_11_0000_0000_111 = 0x3807.
        let cal = calibrate(0.1, 3.0).unwrap();
        let word = configuration(&cal, BusVoltageRange::Fsr32v, Ina219Adc::Bits9).as_bits();
        assert_eq!(word, 0b0011_1000_0000_0111);
        assert_eq!(bus_range_for(3.3), BusVoltageRange::Fsr16v);
        assert_eq!(bus_range_for(24.0), BusVoltageRange::Fsr32v);
    }
}
