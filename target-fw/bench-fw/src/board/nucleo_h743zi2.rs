//! ST NUCLEO-H743ZI2: STM32H743ZI at 480 MHz with I- and D-cache on, the
//! configuration its published benchmarks use.

use stm32h7xx_hal::pac;
use stm32h7xx_hal::prelude::*;
use stm32h7xx_hal::rcc::PllConfigStrategy;

use super::BoardInfo;

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
    core.SCB.enable_icache();
    // Data, stack and the RTT buffers live in DTCM (board file: data-region),
    // which the D-cache does not cover, so the probe still reads fresh RTT data.
    core.SCB.enable_dcache(&mut core.CPUID);
    let declared = super::from_board_file();
    let core_clock_hz = ccdr.clocks.c_ck().raw();
    if core_clock_hz != declared.core_clock_hz {
        defmt::warn!("core clock is {} Hz, the board file says {} Hz", core_clock_hz, declared.core_clock_hz);
    }
    BoardInfo { core_clock_hz, ..declared }
}
