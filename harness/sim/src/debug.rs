//! What a debugger sees of the core: registers by their DCRSR numbers, the
//! private peripheral bus (SCS, DWT, vendor debug registers; reads have the
//! effects they have on silicon, e.g. SYST_CSR's COUNTFLAG clears), and
//! halts on BKPT instead of servicing semihosting. A debug probe driver built on the simulator (tinybench's
//! probe-rs "sim" probe) emulates the debug registers (DHCSR, DCRSR, ...) on
//! top of these.
//!
//! DCRSR register numbers (ARMv7-M ARM, C1.6.3): 0-12 r0-r12, 13 the current
//! SP, 14 LR, 15 the debug return address (the PC), 16 xPSR, 17 MSP, 18 PSP,
//! 20 CONTROL[31:24] FAULTMASK[23:16] BASEPRI[15:8] PRIMASK[7:0], 33 FPSCR,
//! 64-95 S0-S31.

use crate::Simulator;
use crate::periph::{PPB_END, PPB_START};

/// DCRSR number of xPSR.
pub const REGSEL_XPSR: u16 = 16;

impl Simulator {
    /// With `on`, a `BKPT` (semihosting's `BKPT 0xAB` included) stops `run`
    /// with [`crate::StopReason::DebugHalt`] before it executes, as a
    /// Cortex-M with a debugger attached (DHCSR.C_DEBUGEN) halts; the
    /// debugger then services semihosting itself.
    pub fn set_debug_halts(&mut self, on: bool) {
        self.debug_halts = on;
    }

    /// A core register by its DCRSR number; `None` for a number that names
    /// no register of this core.
    pub fn core_register(&self, regsel: u16) -> Option<u32> {
        Some(match regsel {
            0..=12 | 14 => self.r[regsel as usize],
            13 => self.r[13],
            15 => self.pc,
            REGSEL_XPSR => self.xpsr(),
            17 => self.msp(),
            18 => self.psp(),
            20 => {
                (self.control & 0xff) << 24
                    | u32::from(self.faultmask) << 16
                    | u32::from(self.basepri) << 8
                    | u32::from(self.primask)
            }
            33 => self.fpscr,
            64..=95 => self.s[(regsel - 64) as usize],
            _ => return None,
        })
    }

    /// Writes a core register by its DCRSR number; false if there is none.
    /// A PC write drops bit 0 (the Thumb bit of a vector table entry), as the
    /// debug return address has no such bit.
    pub fn set_core_register(&mut self, regsel: u16, value: u32) -> bool {
        match regsel {
            0..=12 | 14 => self.r[regsel as usize] = value,
            13 => self.r[13] = value & !3,
            15 => {
                self.pc = value & !1;
                // The next fetch may be anywhere: let the flash model see it.
                self.fetch_line = u32::MAX;
            }
            REGSEL_XPSR => {
                self.set_xpsr(value);
                self.ipsr = value & 0x1ff;
                self.handler_mode = self.ipsr != 0;
            }
            17 => {
                if self.on_psp() {
                    self.other_sp = value & !3;
                } else {
                    self.r[13] = value & !3;
                }
            }
            18 => {
                if self.on_psp() {
                    self.r[13] = value & !3;
                } else {
                    self.other_sp = value & !3;
                }
            }
            20 => {
                self.control = (value >> 24) & 0x7;
                self.faultmask = (value >> 16) & 1 != 0;
                self.basepri = (value >> 8) as u8;
                self.primask = value & 1 != 0;
                self.exc_check = true;
            }
            33 => self.fpscr = value,
            64..=95 => self.s[(regsel - 64) as usize] = value,
            _ => return false,
        }
        true
    }

    /// A word of the private peripheral bus (0xE000_0000..0xE010_0000) as a
    /// debugger reads it: SCS, DWT, SysTick, and everything else stored as
    /// written (vendor debug registers such as DBGMCU). `None` outside it.
    pub fn ppb_read(&mut self, address: u32) -> Option<u32> {
        (PPB_START..PPB_END).contains(&address).then(|| self.scs.read(address & !3, self.cycles))
    }

    /// Writes a word of the private peripheral bus; false outside it.
    pub fn ppb_write(&mut self, address: u32, value: u32) -> bool {
        if !(PPB_START..PPB_END).contains(&address) {
            return false;
        }
        self.scs.write(address & !3, value, self.cycles);
        // A write may enable SysTick or pend an exception.
        self.exc_check = true;
        true
    }

    fn msp(&self) -> u32 {
        if self.on_psp() { self.other_sp } else { self.r[13] }
    }

    fn psp(&self) -> u32 {
        if self.on_psp() { self.r[13] } else { self.other_sp }
    }
}
