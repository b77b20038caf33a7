//! ST NUCLEO-L4R5ZI: STM32L4R5ZI (Cortex-M4F) at 120 MHz in Range 1 boost
//! mode, ART accelerator (prefetch, instruction and data cache) on. The
//! board is MLPerf Tiny's reference platform.
//!
//! Clocks are set by register writes (the `stm32l4` PAC), in the order
//! RM0432 (PWR chapter, "Dynamic voltage scaling management") gives for
//! going from Range 1 normal mode to Range 1 boost mode:
//! 1. AHB prescaler to /2 before switching to a higher system clock;
//! 2. PWR_CR5.R1MODE = 0 (boost: needed above 80 MHz);
//! 3. flash wait states for the new frequency (5 WS up to 120 MHz in boost
//!    mode, RM0432 Table 12), with prefetch, instruction and data cache on;
//! 4. PLL from HSI16 and switch SYSCLK to it;
//! 5. wait at least 1 us, then AHB prescaler back to /1.
//!
//! The result (not verified on hardware): SYSCLK = HCLK = 120 MHz, PCLK1 =
//! PCLK2 = 120 MHz; PLL M = 2 (8 MHz VCO input, inside the 4-16 MHz that ST's
//! LL driver checks for this part), N = 30 (VCO 240 MHz, inside 64-344 MHz),
//! R = 2. M = 1, N = 15 would give the same clock but puts the VCO input at
//! the 16 MHz limit, which the HSI16's trimming tolerance could exceed. MSI
//! (the reset clock, 4 MHz) stays on.

use stm32l4::stm32l4r5 as pac;

use super::BoardInfo;

/// The marker is PE9: Arduino D6 on the ST Zio connector (CN10), a pin the
/// board leaves free (LD1 is PC7, LD2 PB7, LD3 PB14) and the same header
/// position and port pin as on the NUCLEO-H743ZI2. It is on VDD, not on the
/// VDDIO2 rail of PG2..PG15. Header position taken from the board's Arduino
/// pin map; not verified on hardware.
const MARKER_PIN: u8 = 9;

// The board file's [marker] writes must drive this pin: GPIOE_BSRR, BS9 / BR9.
#[cfg(marker)]
const _: () = assert!(
    crate::params::MARKER_SET_VALUE == 1 << MARKER_PIN && crate::params::MARKER_CLEAR_VALUE == 1 << (MARKER_PIN + 16),
    "configs/boards/nucleo-l4r5zi.toml [marker] does not drive PE9"
);

const HSI16_HZ: u32 = 16_000_000;
/// PLLCFGR.PLLSRC value selecting HSI16.
const PLLSRC_HSI16: u8 = 0b10;
/// PLL input divider M = 2 (PLLM field = M - 1).
const PLL_M: u32 = 2;
/// PLL multiplier N = 30 (field 8..=127).
const PLL_N: u32 = 30;
/// PLLCLK divider R = 2 (PLLR field 0b00).
const PLL_R: u32 = 2;
/// Flash wait states at 120 MHz in Range 1 boost mode (RM0432 Table 12).
const FLASH_LATENCY: u8 = 5;
/// CFGR.SW / SWS value for the PLL.
const SW_PLL: u8 = 0b11;
/// CFGR.HPRE values: /1 and /2.
const HPRE_DIV1: u8 = 0b0000;
const HPRE_DIV2: u8 = 0b1000;

const _: () = assert!(HSI16_HZ / PLL_M * PLL_N / PLL_R == 120_000_000);
const _: () = {
    let vco_in = HSI16_HZ / PLL_M;
    let vco = vco_in * PLL_N;
    assert!(vco_in >= 4_000_000 && vco_in <= 16_000_000 && vco >= 64_000_000 && vco <= 344_000_000);
};

pub fn init(_core: &mut cortex_m::Peripherals) -> BoardInfo {
    // Runs once, before anything else could have taken them.
    let device = pac::Peripherals::take().expect("device peripherals are taken only here");
    let (rcc, pwr, flash) = (&device.RCC, &device.PWR, &device.FLASH);

    // PWR registers need the PWR interface clock. Reading the enable
    // register back is the delay RM0432 asks for after enabling a clock.
    rcc.apb1enr1().modify(|_, w| w.pwren().set_bit());
    let _ = rcc.apb1enr1().read();

    // Range 1 is the reset state; set it anyway should something before us
    // (a bootloader) have left Range 2, and wait for the regulator.
    if !pwr.cr1().read().vos().is_range1() {
        pwr.cr1().modify(|_, w| w.vos().range1());
        while pwr.sr2().read().vosf().is_not_ready() {}
    }

    // 1. HCLK = SYSCLK / 2 before the switch to a higher clock.
    // SAFETY: HPRE_DIV2 is a valid HPRE encoding (RM0432 RCC_CFGR).
    rcc.cfgr().modify(|_, w| unsafe { w.hpre().bits(HPRE_DIV2) });
    // 2. Range 1 boost mode.
    pwr.cr5().modify(|_, w| w.r1mode().boost_mode());
    // 3. Wait states first, and check they took effect before going faster;
    //    the ART accelerator: prefetch, instruction cache, data cache.
    flash.acr().modify(|_, w| {
        w.latency().set(FLASH_LATENCY);
        w.prften().set_bit();
        w.icen().set_bit();
        w.dcen().set_bit()
    });
    while flash.acr().read().latency().bits() != FLASH_LATENCY {}

    // 4. HSI16 on; PLL (off after reset) from HSI16: 16 / 2 * 30 / 2 = 120 MHz,
    //    only its R output (PLLCLK) enabled.
    rcc.cr().modify(|_, w| w.hsion().set_bit());
    while rcc.cr().read().hsirdy().bit_is_clear() {}
    rcc.cr().modify(|_, w| w.pllon().clear_bit());
    while rcc.cr().read().pllrdy().bit_is_set() {}
    // SAFETY: every value is in its field's documented range (RM0432
    // RCC_PLLCFGR): PLLSRC 0b10 = HSI16, PLLM 0..=15 (M - 1), PLLN 8..=127,
    // PLLR 0b00 = /2; the PLL is off while they change.
    rcc.pllcfgr().write(|w| unsafe {
        w.pllsrc().bits(PLLSRC_HSI16);
        w.pllm().bits((PLL_M - 1) as u8);
        w.plln().bits(PLL_N as u8);
        w.pllr().bits(0b00);
        w.pllren().set_bit()
    });
    rcc.cr().modify(|_, w| w.pllon().set_bit());
    while rcc.cr().read().pllrdy().bit_is_clear() {}
    // SAFETY: SW_PLL selects PLLCLK, which is ready.
    rcc.cfgr().modify(|_, w| unsafe { w.sw().bits(SW_PLL) });
    while rcc.cfgr().read().sws().bits() != SW_PLL {}

    // 5. At least 1 us at HCLK = 60 MHz (the core runs at HCLK): delay waits
    //    at least this many core cycles, 240 cycles = 4 us. Then HCLK = SYSCLK.
    cortex_m::asm::delay(240);
    // SAFETY: HPRE_DIV1 is a valid HPRE encoding. APB1/APB2 stay /1 (reset).
    rcc.cfgr().modify(|_, w| unsafe { w.hpre().bits(HPRE_DIV1) });

    // Marker: GPIOE clock on (read back: the delay after enabling a clock),
    // PE9 low, then output (push-pull, low speed, no pull: reset values).
    rcc.ahb2enr().modify(|_, w| w.gpioeen().set_bit());
    let _ = rcc.ahb2enr().read();
    crate::marker::low();
    device.GPIOE.moder().modify(|_, w| w.moder(MARKER_PIN).output());

    if !pwr.cr5().read().r1mode().is_boost_mode() {
        defmt::warn!("PWR_CR5.R1MODE did not select Range 1 boost mode");
    }
    let acr = flash.acr().read();
    if !(acr.prften().bit_is_set() && acr.icen().bit_is_set() && acr.dcen().bit_is_set()) {
        defmt::warn!("FLASH_ACR {=u32:#010x}: prefetch, I-cache or D-cache is off", acr.bits());
    }
    super::check_clock(hclk_hz(&device.RCC))
}

/// HCLK (the core clock) from the clock registers: SYSCLK from HSI16 or from
/// the PLL fed by HSI16, divided by the AHB prescaler; 0 for other sources,
/// which this firmware never selects.
fn hclk_hz(rcc: &pac::RCC) -> u32 {
    let cfgr = rcc.cfgr().read();
    let sysclk = match cfgr.sws().bits() {
        0b01 => HSI16_HZ,
        SW_PLL => {
            let pll = rcc.pllcfgr().read();
            if pll.pllsrc().bits() != PLLSRC_HSI16 {
                return 0;
            }
            let m = u32::from(pll.pllm().bits()) + 1;
            let n = u32::from(pll.plln().bits());
            let r = 2 * (u32::from(pll.pllr().bits()) + 1);
            HSI16_HZ / m * n / r
        }
        _ => return 0,
    };
    let hpre = cfgr.hpre().bits();
    // 0xxx: /1; 1000..1111: /2, /4, /8, /16, /64, /128, /256, /512.
    let shift = match hpre {
        0..=7 => 0,
        8..=11 => u32::from(hpre - 7),
        _ => u32::from(hpre - 6),
    };
    sysclk >> shift
}
