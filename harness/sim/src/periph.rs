//! System Control Space (SCS) and other private-peripheral-bus registers:
//! DWT cycle counter, SysTick, SCB, NVIC, FPU control. Unmodelled addresses in
//! the PPB (0xE000_0000..0xE010_0000) store and read back, so firmware poking
//! debug/trace registers never crashes the simulation.

use std::collections::BTreeMap;

use crate::CoreKind;

/// DWT control register (CYCCNTENA is bit 0).
pub const DWT_CTRL: u32 = 0xE000_1000;
/// DWT cycle counter.
pub const DWT_CYCCNT: u32 = 0xE000_1004;
/// DWT lock access register (Cortex-M7: write 0xC5AC_CE55 to unlock).
pub const DWT_LAR: u32 = 0xE000_1FB0;
/// DWT lock status register.
pub const DWT_LSR: u32 = 0xE000_1FB4;
/// Debug exception and monitor control (TRCENA is bit 24).
pub const DEMCR: u32 = 0xE000_EDFC;
/// SysTick control and status.
pub const SYST_CSR: u32 = 0xE000_E010;
/// SysTick reload value.
pub const SYST_RVR: u32 = 0xE000_E014;
/// SysTick current value.
pub const SYST_CVR: u32 = 0xE000_E018;
/// SysTick calibration value.
pub const SYST_CALIB: u32 = 0xE000_E01C;
/// CPUID base register.
pub const CPUID: u32 = 0xE000_ED00;
/// Interrupt control and state.
pub const ICSR: u32 = 0xE000_ED04;
/// Vector table offset.
pub const VTOR: u32 = 0xE000_ED08;
/// Application interrupt and reset control.
pub const AIRCR: u32 = 0xE000_ED0C;
/// System control register.
pub const SCR: u32 = 0xE000_ED10;
/// Configuration and control.
pub const CCR: u32 = 0xE000_ED14;
/// System handler priorities 4..7.
pub const SHPR1: u32 = 0xE000_ED18;
/// System handler priorities 8..11 (SVCall in the top byte).
pub const SHPR2: u32 = 0xE000_ED1C;
/// System handler priorities 12..15 (PendSV byte 2, SysTick byte 3).
pub const SHPR3: u32 = 0xE000_ED20;
/// System handler control and state.
pub const SHCSR: u32 = 0xE000_ED24;
/// Configurable fault status.
pub const CFSR: u32 = 0xE000_ED28;
/// HardFault status.
pub const HFSR: u32 = 0xE000_ED2C;
/// Cache level ID (Cortex-M7).
pub const CLIDR: u32 = 0xE000_ED78;
/// Cache type (Cortex-M7).
pub const CTR: u32 = 0xE000_ED7C;
/// Cache size ID (Cortex-M7).
pub const SCB_CCSIDR: u32 = 0xE000_ED80;
/// Cache size selection (Cortex-M7).
pub const SCB_CSSELR: u32 = 0xE000_ED84;
/// Coprocessor access control (CP10/CP11 = FPU in bits 20..23).
pub const CPACR: u32 = 0xE000_ED88;
/// FP context control.
pub const FPCCR: u32 = 0xE000_EF34;
/// FP context address.
pub const FPCAR: u32 = 0xE000_EF38;
/// FP default status control.
pub const FPDSCR: u32 = 0xE000_EF3C;
/// First cache maintenance operation register (ICIALLU); accepted as no-ops.
pub const SCB_CACHE_MAINT_FIRST: u32 = 0xE000_EF50;
/// Last cache maintenance operation register (DCCISW); accepted as no-ops.
pub const SCB_CACHE_MAINT_LAST: u32 = 0xE000_EF78;
/// NVIC interrupt set-enable registers.
pub const NVIC_ISER: u32 = 0xE000_E100;
/// NVIC interrupt clear-enable registers.
pub const NVIC_ICER: u32 = 0xE000_E180;
/// NVIC interrupt set-pending registers.
pub const NVIC_ISPR: u32 = 0xE000_E200;
/// NVIC interrupt clear-pending registers.
pub const NVIC_ICPR: u32 = 0xE000_E280;
/// NVIC interrupt active bit registers.
pub const NVIC_IABR: u32 = 0xE000_E300;
/// NVIC interrupt priority registers (one byte per IRQ).
pub const NVIC_IPR: u32 = 0xE000_E400;
/// ITM stimulus port 0 (reads return 1 = FIFO ready).
pub const ITM_STIM0: u32 = 0xE000_0000;
/// Start of the private peripheral bus.
pub const PPB_START: u32 = 0xE000_0000;
/// End (exclusive) of the private peripheral bus.
pub const PPB_END: u32 = 0xE010_0000;

/// DEMCR.TRCENA.
pub const DEMCR_TRCENA: u32 = 1 << 24;
/// DWT_CTRL.CYCCNTENA.
pub const DWT_CTRL_CYCCNTENA: u32 = 1;
/// The DWT/ITM unlock key.
pub const LAR_KEY: u32 = 0xC5AC_CE55;

/// Exception numbers.
pub const EXC_NMI: u32 = 2;
pub const EXC_HARDFAULT: u32 = 3;
pub const EXC_SVCALL: u32 = 11;
pub const EXC_PENDSV: u32 = 14;
pub const EXC_SYSTICK: u32 = 15;

/// Number of external interrupts modelled in the NVIC.
pub const NUM_IRQS: u32 = 64;

/// Architectural state of the SCS that the core and exception logic use.
pub(crate) struct Scs {
    core: CoreKind,
    pub demcr: u32,
    dwt_ctrl: u32,
    /// CYCCNT value at `cyc_base_cycle` (it advances with the core clock only while enabled).
    cyc_base_val: u32,
    cyc_base_cycle: u64,
    pub dwt_locked: bool,
    pub syst_csr: u32,
    pub syst_rvr: u32,
    /// Counter value when stopped.
    syst_cvr: u32,
    /// Cycle at which the running counter next reaches zero (u64::MAX when stopped).
    pub syst_zero_at: u64,
    pub vtor: u32,
    pub aircr: u32,
    pub scr: u32,
    pub ccr: u32,
    /// Priorities of system exceptions 4..=15.
    pub shpr: [u8; 12],
    pub cfsr: u32,
    pub hfsr: u32,
    pub cpacr: u32,
    pub fpccr: u32,
    pub fpcar: u32,
    pub fpdscr: u32,
    csselr: u32,
    /// Pending system exceptions, bit n = exception n (< 16).
    pub pending: u32,
    /// Active system exceptions.
    pub active: u32,
    pub irq_enabled: u64,
    pub irq_pending: u64,
    pub irq_active: u64,
    pub irq_prio: [u8; NUM_IRQS as usize],
    /// Store-and-read-back backing for everything else in the PPB.
    backing: BTreeMap<u32, u32>,
    /// Set when AIRCR.SYSRESETREQ was written with the right key.
    pub reset_requested: bool,
}

impl Scs {
    pub fn new(core: CoreKind) -> Self {
        Scs {
            core,
            demcr: 0,
            dwt_ctrl: 0,
            cyc_base_val: 0,
            cyc_base_cycle: 0,
            dwt_locked: core == CoreKind::CortexM7,
            syst_csr: 0,
            syst_rvr: 0,
            syst_cvr: 0,
            syst_zero_at: u64::MAX,
            vtor: 0,
            aircr: 0,
            scr: 0,
            ccr: 0x200,
            shpr: [0; 12],
            cfsr: 0,
            hfsr: 0,
            cpacr: 0,
            fpccr: 0xC000_0000,
            fpcar: 0,
            fpdscr: 0,
            csselr: 0,
            pending: 0,
            active: 0,
            irq_enabled: 0,
            irq_pending: 0,
            irq_active: 0,
            irq_prio: [0; NUM_IRQS as usize],
            backing: BTreeMap::new(),
            reset_requested: false,
        }
    }

    fn cyccnt_running(&self) -> bool {
        self.demcr & DEMCR_TRCENA != 0 && self.dwt_ctrl & DWT_CTRL_CYCCNTENA != 0
    }

    /// Current CYCCNT for the given simulated cycle count.
    pub fn cyccnt(&self, now: u64) -> u32 {
        if self.cyccnt_running() {
            self.cyc_base_val.wrapping_add(now.wrapping_sub(self.cyc_base_cycle) as u32)
        } else {
            self.cyc_base_val
        }
    }

    /// Freezes CYCCNT bookkeeping before a change of its enable state or value.
    fn cyc_sync(&mut self, now: u64) {
        self.cyc_base_val = self.cyccnt(now);
        self.cyc_base_cycle = now;
    }

    fn syst_running(&self) -> bool {
        self.syst_csr & 1 != 0
    }

    fn syst_value(&self, now: u64) -> u32 {
        if self.syst_running() && self.syst_zero_at != u64::MAX {
            if now >= self.syst_zero_at {
                0
            } else {
                ((self.syst_zero_at - now) as u32).min(self.syst_rvr.max(self.syst_cvr)) & 0xFF_FFFF
            }
        } else {
            self.syst_cvr
        }
    }

    /// Called by the core when `now >= syst_zero_at`: the counter wrapped.
    /// Returns true when the SysTick exception must be pended.
    pub fn syst_wrap(&mut self, now: u64) -> bool {
        let mut pend = false;
        while self.syst_zero_at <= now {
            self.syst_csr |= 1 << 16;
            pend |= self.syst_csr & 2 != 0;
            if self.syst_rvr == 0 {
                // Reload 0 stops the counter at zero.
                self.syst_cvr = 0;
                self.syst_zero_at = u64::MAX;
                break;
            }
            self.syst_zero_at = self.syst_zero_at.saturating_add(self.syst_rvr as u64 + 1);
        }
        pend
    }

    /// Reads a word-aligned PPB register. `now` is the simulated cycle count.
    pub fn read(&mut self, addr: u32, now: u64) -> u32 {
        match addr {
            DWT_CTRL => (4 << 28) | self.dwt_ctrl,
            DWT_CYCCNT => self.cyccnt(now),
            DWT_LSR => match self.core {
                CoreKind::CortexM4 => 0,
                CoreKind::CortexM7 => 1 | ((self.dwt_locked as u32) << 1),
            },
            DEMCR => self.demcr,
            SYST_CSR => {
                let v = self.syst_csr;
                // COUNTFLAG clears on read.
                self.syst_csr &= !(1 << 16);
                v
            }
            SYST_RVR => self.syst_rvr,
            SYST_CVR => self.syst_value(now),
            // NOREF = 1 (no external reference clock), SKEW = 1, TENMS = 0.
            SYST_CALIB => 0xC000_0000,
            CPUID => match self.core {
                CoreKind::CortexM4 => 0x410F_C241,
                CoreKind::CortexM7 => 0x411F_C272,
            },
            ICSR => {
                let mut v = 0;
                if self.pending & (1 << EXC_PENDSV) != 0 {
                    v |= 1 << 28;
                }
                if self.pending & (1 << EXC_SYSTICK) != 0 {
                    v |= 1 << 26;
                }
                if self.pending != 0 || self.irq_pending & self.irq_enabled != 0 {
                    v |= 1 << 22;
                }
                v
            }
            VTOR => self.vtor,
            AIRCR => 0xFA05_0000 | (self.aircr & 0x700),
            SCR => self.scr,
            CCR => self.ccr,
            SHPR1 | SHPR2 | SHPR3 => {
                let i = (addr - SHPR1) as usize;
                u32::from_le_bytes([self.shpr[i], self.shpr[i + 1], self.shpr[i + 2], self.shpr[i + 3]])
            }
            SHCSR => {
                let mut v = 0;
                if self.active & (1 << EXC_SVCALL) != 0 {
                    v |= 1 << 7;
                }
                if self.active & (1 << EXC_PENDSV) != 0 {
                    v |= 1 << 10;
                }
                if self.active & (1 << EXC_SYSTICK) != 0 {
                    v |= 1 << 11;
                }
                if self.pending & (1 << EXC_SVCALL) != 0 {
                    v |= 1 << 15;
                }
                v | (self.backing.get(&SHCSR).copied().unwrap_or(0) & 0x7_0000)
            }
            CFSR => self.cfsr,
            HFSR => self.hfsr,
            CLIDR => match self.core {
                CoreKind::CortexM4 => 0,
                CoreKind::CortexM7 => 0x0900_0003,
            },
            CTR => match self.core {
                CoreKind::CortexM4 => 0,
                CoreKind::CortexM7 => 0x8303_C003,
            },
            SCB_CCSIDR => match (self.core, self.csselr & 1) {
                (CoreKind::CortexM4, _) => 0,
                // 16 KiB, 4-way, 32-byte lines: 128 sets (D-cache); 16 KiB 2-way 256 sets (I-cache).
                (CoreKind::CortexM7, 0) => (127 << 13) | (3 << 3) | 1,
                (CoreKind::CortexM7, _) => (255 << 13) | (1 << 3) | 1,
            },
            SCB_CSSELR => self.csselr,
            CPACR => self.cpacr,
            FPCCR => self.fpccr,
            FPCAR => self.fpcar,
            FPDSCR => self.fpdscr,
            a if (NVIC_ISER..NVIC_ISER + 8).contains(&a) || (NVIC_ICER..NVIC_ICER + 8).contains(&a) => {
                (self.irq_enabled >> ((a & 4) * 8)) as u32
            }
            a if (NVIC_ISPR..NVIC_ISPR + 8).contains(&a) || (NVIC_ICPR..NVIC_ICPR + 8).contains(&a) => {
                (self.irq_pending >> ((a & 4) * 8)) as u32
            }
            a if (NVIC_IABR..NVIC_IABR + 8).contains(&a) => (self.irq_active >> ((a & 4) * 8)) as u32,
            a if (NVIC_IPR..NVIC_IPR + NUM_IRQS).contains(&a) => {
                let i = (a - NVIC_IPR) as usize;
                u32::from_le_bytes([self.irq_prio[i], self.irq_prio[i + 1], self.irq_prio[i + 2], self.irq_prio[i + 3]])
            }
            // ITM stimulus ports: reading 1 means "FIFO ready", so ITM writers never block.
            a if (ITM_STIM0..ITM_STIM0 + 0x80).contains(&a) => 1,
            a => self.backing.get(&a).copied().unwrap_or(0),
        }
    }

    /// Writes a word-aligned PPB register.
    pub fn write(&mut self, addr: u32, value: u32, now: u64) {
        match addr {
            DWT_LAR => {
                if self.core == CoreKind::CortexM7 {
                    self.dwt_locked = value != LAR_KEY;
                }
            }
            // Cortex-M7: the whole DWT ignores writes until unlocked through LAR.
            a if self.dwt_locked && (DWT_CTRL..DWT_LAR).contains(&a) => {}
            DWT_CTRL => {
                self.cyc_sync(now);
                self.dwt_ctrl = value & 0x0FFF_FFFF;
            }
            DWT_CYCCNT => {
                self.cyc_sync(now);
                self.cyc_base_val = value;
            }
            DEMCR => {
                self.cyc_sync(now);
                self.demcr = value;
            }
            SYST_CSR => {
                let was = self.syst_running();
                if was {
                    self.syst_cvr = self.syst_value(now);
                }
                self.syst_csr = (self.syst_csr & (1 << 16)) | (value & 7);
                if self.syst_running() {
                    if !was {
                        self.syst_zero_at = if self.syst_cvr == 0 {
                            // Counter loads RVR on the next clock.
                            now + 1 + self.syst_rvr as u64
                        } else {
                            now + self.syst_cvr as u64
                        };
                        if self.syst_cvr == 0 && self.syst_rvr == 0 {
                            self.syst_zero_at = u64::MAX;
                        }
                    }
                } else {
                    self.syst_zero_at = u64::MAX;
                }
            }
            SYST_RVR => self.syst_rvr = value & 0xFF_FFFF,
            SYST_CVR => {
                // Any write clears the counter and COUNTFLAG; it reloads on the next clock.
                self.syst_cvr = 0;
                self.syst_csr &= !(1 << 16);
                if self.syst_running() {
                    self.syst_zero_at = if self.syst_rvr == 0 { u64::MAX } else { now + 1 + self.syst_rvr as u64 };
                }
            }
            SYST_CALIB | CPUID | CLIDR | CTR | SCB_CCSIDR | DWT_LSR => {}
            ICSR => {
                if value & (1 << 28) != 0 {
                    self.pending |= 1 << EXC_PENDSV;
                }
                if value & (1 << 27) != 0 {
                    self.pending &= !(1 << EXC_PENDSV);
                }
                if value & (1 << 26) != 0 {
                    self.pending |= 1 << EXC_SYSTICK;
                }
                if value & (1 << 25) != 0 {
                    self.pending &= !(1 << EXC_SYSTICK);
                }
                if value & (1 << 31) != 0 {
                    self.pending |= 1 << EXC_NMI;
                }
            }
            VTOR => self.vtor = value & 0xFFFF_FF80,
            AIRCR => {
                if value >> 16 == 0x05FA {
                    self.aircr = value & 0x700;
                    if value & 4 != 0 {
                        self.reset_requested = true;
                    }
                }
            }
            SCR => self.scr = value & 0x16,
            CCR => self.ccr = value,
            SHPR1 | SHPR2 | SHPR3 => {
                let i = (addr - SHPR1) as usize;
                self.shpr[i..i + 4].copy_from_slice(&value.to_le_bytes());
            }
            SHCSR => {
                self.backing.insert(SHCSR, value);
            }
            // Fault status registers are write-one-to-clear.
            CFSR => self.cfsr &= !value,
            HFSR => self.hfsr &= !value,
            SCB_CSSELR => self.csselr = value & 0xF,
            CPACR => self.cpacr = value & 0x00F0_0000,
            FPCCR => self.fpccr = (self.fpccr & 0x1FF) | (value & 0xC000_0000),
            FPCAR => self.fpcar = value & !7,
            FPDSCR => self.fpdscr = value,
            a if (SCB_CACHE_MAINT_FIRST..=SCB_CACHE_MAINT_LAST).contains(&a) => {}
            a if (NVIC_ISER..NVIC_ISER + 8).contains(&a) => self.irq_enabled |= (value as u64) << ((a & 4) * 8),
            a if (NVIC_ICER..NVIC_ICER + 8).contains(&a) => self.irq_enabled &= !((value as u64) << ((a & 4) * 8)),
            a if (NVIC_ISPR..NVIC_ISPR + 8).contains(&a) => self.irq_pending |= (value as u64) << ((a & 4) * 8),
            a if (NVIC_ICPR..NVIC_ICPR + 8).contains(&a) => self.irq_pending &= !((value as u64) << ((a & 4) * 8)),
            a if (NVIC_IPR..NVIC_IPR + NUM_IRQS).contains(&a) => {
                let i = (a - NVIC_IPR) as usize;
                self.irq_prio[i..i + 4].copy_from_slice(&value.to_le_bytes());
            }
            a if (ITM_STIM0..ITM_STIM0 + 0x80).contains(&a) => {}
            a => {
                self.backing.insert(a, value);
            }
        }
    }

    /// Priority of a system exception (4..=15), as configured in SHPR.
    pub fn sys_priority(&self, exc: u32) -> i32 {
        match exc {
            4..=15 => self.shpr[exc as usize - 4] as i32,
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// House rule: every register address is pinned by a test.
    #[test]
    fn register_addresses() {
        assert_eq!(DWT_CTRL, 0xE000_1000);
        assert_eq!(DWT_CYCCNT, 0xE000_1004);
        assert_eq!(DWT_LAR, 0xE000_1FB0);
        assert_eq!(DWT_LSR, 0xE000_1FB4);
        assert_eq!(DEMCR, 0xE000_EDFC);
        assert_eq!(SYST_CSR, 0xE000_E010);
        assert_eq!(SYST_RVR, 0xE000_E014);
        assert_eq!(SYST_CVR, 0xE000_E018);
        assert_eq!(SYST_CALIB, 0xE000_E01C);
        assert_eq!(CPUID, 0xE000_ED00);
        assert_eq!(ICSR, 0xE000_ED04);
        assert_eq!(VTOR, 0xE000_ED08);
        assert_eq!(AIRCR, 0xE000_ED0C);
        assert_eq!(SCR, 0xE000_ED10);
        assert_eq!(CCR, 0xE000_ED14);
        assert_eq!(SHPR1, 0xE000_ED18);
        assert_eq!(SHPR2, 0xE000_ED1C);
        assert_eq!(SHPR3, 0xE000_ED20);
        assert_eq!(SHCSR, 0xE000_ED24);
        assert_eq!(CFSR, 0xE000_ED28);
        assert_eq!(HFSR, 0xE000_ED2C);
        assert_eq!(CLIDR, 0xE000_ED78);
        assert_eq!(CTR, 0xE000_ED7C);
        assert_eq!(SCB_CCSIDR, 0xE000_ED80);
        assert_eq!(SCB_CSSELR, 0xE000_ED84);
        assert_eq!(CPACR, 0xE000_ED88);
        assert_eq!(FPCCR, 0xE000_EF34);
        assert_eq!(FPCAR, 0xE000_EF38);
        assert_eq!(FPDSCR, 0xE000_EF3C);
        assert_eq!(SCB_CACHE_MAINT_FIRST, 0xE000_EF50);
        assert_eq!(SCB_CACHE_MAINT_LAST, 0xE000_EF78);
        assert_eq!(NVIC_ISER, 0xE000_E100);
        assert_eq!(NVIC_ICER, 0xE000_E180);
        assert_eq!(NVIC_ISPR, 0xE000_E200);
        assert_eq!(NVIC_ICPR, 0xE000_E280);
        assert_eq!(NVIC_IABR, 0xE000_E300);
        assert_eq!(NVIC_IPR, 0xE000_E400);
        assert_eq!(ITM_STIM0, 0xE000_0000);
    }

    #[test]
    fn cyccnt_needs_trcena_and_cyccntena() {
        let mut s = Scs::new(CoreKind::CortexM4);
        s.write(DWT_CTRL, 1, 0);
        assert_eq!(s.read(DWT_CYCCNT, 100), 0, "TRCENA still clear");
        s.write(DEMCR, DEMCR_TRCENA, 100);
        assert_eq!(s.read(DWT_CYCCNT, 150), 50);
        s.write(DWT_CTRL, 0, 150);
        assert_eq!(s.read(DWT_CYCCNT, 1000), 50, "stopped");
    }

    #[test]
    fn m7_dwt_lock() {
        let mut s = Scs::new(CoreKind::CortexM7);
        assert_eq!(s.read(DWT_LSR, 0), 0b11, "implemented + locked");
        s.write(DEMCR, DEMCR_TRCENA, 0);
        s.write(DWT_CTRL, 1, 0);
        assert_eq!(s.read(DWT_CYCCNT, 10), 0, "write ignored while locked");
        s.write(DWT_LAR, LAR_KEY, 10);
        assert_eq!(s.read(DWT_LSR, 10), 0b01);
        s.write(DWT_CTRL, 1, 10);
        assert_eq!(s.read(DWT_CYCCNT, 25), 15);
    }

    #[test]
    fn systick_wraps_and_pends() {
        let mut s = Scs::new(CoreKind::CortexM4);
        s.write(SYST_RVR, 99, 0);
        s.write(SYST_CVR, 0, 0);
        s.write(SYST_CSR, 0b111, 0);
        assert_eq!(s.syst_zero_at, 100);
        assert_eq!(s.read(SYST_CVR, 50), 50);
        assert!(s.syst_wrap(100));
        assert_eq!(s.syst_zero_at, 200);
        assert_ne!(s.read(SYST_CSR, 100) & (1 << 16), 0, "COUNTFLAG");
        assert_eq!(s.read(SYST_CSR, 100) & (1 << 16), 0, "cleared by read");
    }

    #[test]
    fn unmodelled_scs_reads_back() {
        let mut s = Scs::new(CoreKind::CortexM4);
        s.write(0xE000_E4F0, 0x1234, 0);
        assert_eq!(s.read(0xE000_E4F0, 0), 0x1234);
        assert_eq!(s.read(ITM_STIM0, 0), 1);
    }
}
