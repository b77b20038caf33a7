//! ST NUCLEO-H743ZI2: STM32H743ZI at 480 MHz with I- and D-cache on, the
//! configuration its published benchmarks use.
//!
//! What `init` ends up with (stm32h7xx-hal 0.16 `freeze`, worked out from its
//! source for these arguments; not verified on hardware):
//! - VOS0 on the LDO; PLL1 from the HSI (64 MHz): M = 4 (16 MHz reference,
//!   range 8-16 MHz), N = 60 (wide VCO at 960 MHz), P = 2 -> sys_ck 480 MHz;
//! - D1CPRE = 1 (CPU 480 MHz), HPRE = 2 (AXI/AHB 240 MHz), APB1-4 at 120 MHz;
//! - flash: 4 wait states, WRHIGHFREQ = 2 (RM0433 Table 17: AXI clock in
//!   225..=240 MHz at VOS0);
//! - marker: PE9 push-pull output, low (see `MARKER_PIN`).

use stm32h7xx_hal::pac;
use stm32h7xx_hal::prelude::*;
use stm32h7xx_hal::rcc::PllConfigStrategy;

use super::BoardInfo;

/// The marker is PE9: Arduino D6 on the ST Zio connector (CN10), a pin the
/// board leaves free (LD1 is PB0, LD2 PE1, LD3 PB14) and the same header
/// position and port pin as on the NUCLEO-L4R5ZI. Header position taken from
/// the board's Arduino pin map; not verified on hardware.
const MARKER_PIN: u32 = 9;

// The board file's [marker] writes must drive this pin: GPIOE_BSRR, BS9 / BR9.
#[cfg(marker)]
const _: () = assert!(
    crate::params::MARKER_SET_VALUE == 1 << MARKER_PIN && crate::params::MARKER_CLEAR_VALUE == 1 << (MARKER_PIN + 16),
    "configs/boards/nucleo-h743zi2.toml [marker] does not drive PE9"
);

pub fn init(core: &mut cortex_m::Peripherals) -> BoardInfo {
    // Runs once, before anything else could have taken them.
    let device = pac::Peripherals::take().expect("device peripherals are taken only here");
    // 480 MHz needs voltage scale 0 and revision V silicon (the ZI2 has it);
    // the board runs from the LDO, the HAL default.
    let power = device.PWR.constrain().vos0(&device.SYSCFG).freeze();
    // The PLL runs from the HSI (no dependence on the ST-LINK's MCO solder
    // bridge); its accuracy does not matter for cycle counts. The default
    // `Normal` strategy caps the VCO at 420 MHz and panics for 480 MHz; the
    // iterative one uses the wide-range VCO (up to 960 MHz).
    let ccdr = device
        .RCC
        .constrain()
        .pll1_strategy(PllConfigStrategy::Iterative)
        .sys_ck(480.MHz())
        .freeze(power, &device.SYSCFG);
    // Marker: enabling GPIOE through its reset/enable control, then PE9 as a
    // push-pull output driven low (the HAL sets ODR before MODER), low speed.
    let gpioe = device.GPIOE.split(ccdr.peripheral.GPIOE);
    let mut marker = gpioe.pe9.into_push_pull_output();
    marker.set_low();
    core.SCB.enable_icache();
    // Data, stack and the RTT buffers live in DTCM (board file: data-region),
    // which the D-cache does not cover, so the probe still reads fresh RTT data.
    core.SCB.enable_dcache(&mut core.CPUID);
    super::check_clock(ccdr.clocks.c_ck().raw())
}
