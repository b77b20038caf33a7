//! Exception entry/return, pending-exception arbitration and fault escalation.
//!
//! Simplifications (see docs/sim-timing-m4.md): every configurable fault escalates
//! to HardFault; priorities use all 8 bits as group priority (PRIGROUP ignored);
//! FP context is stacked eagerly when CONTROL.FPCA is set (same architectural result
//! as lazy stacking, FPCAR is updated but LSPACT is never set).

use crate::exec::{FaultKind, Trap};
use crate::insn::Insn;
use crate::periph::{EXC_HARDFAULT, EXC_NMI, EXC_PENDSV, EXC_SVCALL, EXC_SYSTICK, NUM_IRQS};
use crate::{FaultRecord, SimError, Simulator, decode};

impl Simulator {
    fn exc_priority(&self, exc: u32) -> i32 {
        match exc {
            EXC_NMI => -2,
            EXC_HARDFAULT => -1,
            4..=15 => self.scs.sys_priority(exc),
            16.. => self.scs.irq_prio.get((exc - 16) as usize).copied().unwrap_or(0) as i32,
            _ => 0,
        }
    }

    /// Current execution priority (lower = more urgent; 256 = thread mode, nothing masked).
    fn execution_priority(&self) -> i32 {
        let mut p = 256;
        for exc in 2..16 {
            if self.scs.active & (1 << exc) != 0 {
                p = p.min(self.exc_priority(exc));
            }
        }
        let mut act = self.scs.irq_active;
        while act != 0 {
            let i = act.trailing_zeros();
            act &= act - 1;
            p = p.min(self.exc_priority(16 + i));
        }
        if self.basepri != 0 {
            p = p.min(self.basepri as i32);
        }
        if self.primask {
            p = p.min(0);
        }
        if self.faultmask {
            p = p.min(-1);
        }
        p
    }

    /// Highest-priority pending exception (number, priority).
    fn highest_pending(&self) -> Option<(u32, i32)> {
        let mut best: Option<(u32, i32)> = None;
        let mut consider = |exc: u32, prio: i32| {
            if best.is_none_or(|(_, bp)| prio < bp) {
                best = Some((exc, prio));
            }
        };
        for exc in [EXC_NMI, EXC_HARDFAULT, EXC_SVCALL, EXC_PENDSV, EXC_SYSTICK] {
            if self.scs.pending & (1 << exc) != 0 {
                consider(exc, self.exc_priority(exc));
            }
        }
        let mut pend = self.scs.irq_pending & self.scs.irq_enabled;
        while pend != 0 {
            let i = pend.trailing_zeros();
            pend &= pend - 1;
            if i < NUM_IRQS {
                consider(16 + i, self.exc_priority(16 + i));
            }
        }
        best
    }

    /// Takes the highest-priority pending exception if it preempts the current priority.
    pub(crate) fn take_pending(&mut self) -> Result<(), Trap> {
        let Some((exc, prio)) = self.highest_pending() else { return Ok(()) };
        if prio >= self.execution_priority() {
            return Ok(());
        }
        let ret = self.pc;
        self.exception_entry(exc, ret)
    }

    /// SVC is synchronous: SVCall must be taken now or it escalates to HardFault.
    pub(crate) fn take_svc(&mut self) -> Result<(), Trap> {
        self.scs.pending &= !(1 << EXC_SVCALL);
        if self.exc_priority(EXC_SVCALL) >= self.execution_priority() {
            return Err(Trap::Fault(FaultKind::SvcEscalation));
        }
        let ret = self.pc;
        self.exception_entry(EXC_SVCALL, ret)
    }

    /// Stacks the context and jumps to the handler of `exc`; `ret` is the stacked PC.
    pub(crate) fn exception_entry(&mut self, exc: u32, ret: u32) -> Result<(), Trap> {
        let fp = self.control & 4 != 0;
        let frame = if fp { 0x68 } else { 0x20 };
        let sp0 = self.r[13];
        let align = sp0.wrapping_sub(frame) & 4 != 0;
        let sp = sp0.wrapping_sub(frame) & !7;
        let xpsr = self.xpsr() | ((align as u32) << 9);
        let words = [self.r[0], self.r[1], self.r[2], self.r[3], self.r[12], self.r[14], ret & !1, xpsr];
        for (i, w) in words.iter().enumerate() {
            self.write(sp.wrapping_add(4 * i as u32), 4, *w)?;
        }
        if fp {
            for i in 0..16 {
                self.write(sp.wrapping_add(0x20 + 4 * i), 4, self.s[i as usize])?;
            }
            self.write(sp.wrapping_add(0x60), 4, self.fpscr)?;
            self.scs.fpcar = sp.wrapping_add(0x20);
        }
        self.r[13] = sp;
        let mut exc_ret: u32 = if self.handler_mode {
            0xFFFF_FFF1
        } else if self.control & 2 != 0 {
            0xFFFF_FFFD
        } else {
            0xFFFF_FFF9
        };
        if fp {
            exc_ret &= !0x10;
        }
        let vector_addr = self.scs.vtor.wrapping_add(4 * exc);
        let vector = match self.read(vector_addr, 4) {
            Ok(v) if v & 1 == 1 => v,
            _ => return Err(Trap::Fault(FaultKind::VectorTable { exc })),
        };
        // Handler mode always runs on MSP.
        if self.on_psp() {
            std::mem::swap(&mut self.r[13], &mut self.other_sp);
        }
        self.handler_mode = true;
        self.ipsr = exc;
        // Handler mode runs on MSP with CONTROL.SPSEL = 0 and no active FP context yet.
        self.control &= !(4 | 2);
        self.r[14] = exc_ret;
        self.itstate = 0;
        self.excl = None;
        if exc < 16 {
            self.scs.pending &= !(1 << exc);
            self.scs.active |= 1 << exc;
        } else {
            let bit = 1u64 << ((exc - 16) & 63);
            self.scs.irq_pending &= !bit;
            self.scs.irq_active |= bit;
        }
        self.pc = vector & !1;
        self.exceptions += 1;
        if self.profiling {
            self.profile_exception_entry();
        }
        self.cycles += self.timing.exception_entry_cycles() as u64;
        self.exc_check = true;
        self.check_fetch_line();
        Ok(())
    }

    /// Performs an exception return for the EXC_RETURN value `v`.
    pub(crate) fn exception_return(&mut self, v: u32) -> Result<(), Trap> {
        let low = v & 0xF;
        if v & 0x0FFF_FFE0 != 0x0FFF_FFE0 || !matches!(low, 0x1 | 0x9 | 0xD) {
            return Err(Trap::Fault(FaultKind::InvPc { value: v }));
        }
        let exc = self.ipsr;
        if exc < 16 {
            self.scs.active &= !(1 << exc);
        } else {
            self.scs.irq_active &= !(1u64 << ((exc - 16) & 63));
        }
        let to_handler = low == 0x1;
        let others_active = self.scs.active != 0 || self.scs.irq_active != 0;
        if to_handler != others_active {
            // Return to thread mode with exceptions still active (or vice versa).
            return Err(Trap::Fault(FaultKind::InvPc { value: v }));
        }
        self.handler_mode = to_handler;
        self.control = (self.control & !2) | if low == 0xD { 2 } else { 0 };
        if self.on_psp() {
            std::mem::swap(&mut self.r[13], &mut self.other_sp);
        }
        let sp = self.r[13];
        let mut w = [0u32; 8];
        for (i, x) in w.iter_mut().enumerate() {
            *x = self.read(sp.wrapping_add(4 * i as u32), 4)?;
        }
        let fp = v & 0x10 == 0;
        let mut frame = 0x20;
        if fp {
            for i in 0..16u32 {
                self.s[i as usize] = self.read(sp.wrapping_add(0x20 + 4 * i), 4)?;
            }
            self.fpscr = self.read(sp.wrapping_add(0x60), 4)?;
            frame = 0x68;
        }
        self.control = (self.control & !4) | if fp { 4 } else { 0 };
        let xpsr = w[7];
        self.r[13] = sp.wrapping_add(frame) | if xpsr & (1 << 9) != 0 { 4 } else { 0 };
        self.r[0] = w[0];
        self.r[1] = w[1];
        self.r[2] = w[2];
        self.r[3] = w[3];
        self.r[12] = w[4];
        self.r[14] = w[5];
        self.pc = w[6] & !1;
        self.set_xpsr(xpsr);
        self.ipsr = if to_handler { xpsr & 0x1FF } else { 0 };
        self.exc_check = true;
        Ok(())
    }

    /// WFI/WFE: if SysTick will fire, skip the idle cycles until it does.
    pub(crate) fn sleep(&mut self) {
        if self.scs.pending != 0 || self.scs.irq_pending & self.scs.irq_enabled != 0 {
            return;
        }
        let at = self.scs.syst_zero_at;
        if at != u64::MAX && self.scs.syst_csr & 2 != 0 && at > self.cycles {
            self.sleep_until(at);
        }
    }

    /// Converts a trap into an error with location context, or takes HardFault.
    pub(crate) fn handle_trap(&mut self, t: Trap) -> Result<(), SimError> {
        let pc = self.pc;
        match t {
            Trap::Stop(_) => Ok(()),
            Trap::Error(e) => Err(*e),
            Trap::Undefined => Err(SimError::Undefined { loc: self.location(pc) }),
            Trap::Unsupported(what) => Err(SimError::Unsupported { loc: self.location(pc), what }),
            Trap::Unmapped { addr, size, write } => Err(SimError::Unmapped {
                addr,
                size,
                access: if write {
                    "write"
                } else if addr == pc || addr == pc.wrapping_add(2) {
                    "instruction fetch"
                } else {
                    "read"
                },
                loc: self.location(pc),
            }),
            Trap::ReadOnly { addr, size } => Err(SimError::FlashWrite { addr, size, loc: self.location(pc) }),
            Trap::Fault(kind) => self.raise_fault(kind),
        }
    }

    fn raise_fault(&mut self, kind: FaultKind) -> Result<(), SimError> {
        let cfsr_bit = match kind {
            FaultKind::Unaligned { .. } => 1 << 24,
            FaultKind::InvState { .. } => 1 << 17,
            FaultKind::InvPc { .. } => 1 << 18,
            FaultKind::NoCp => 1 << 19,
            FaultKind::DivByZero => 1 << 25,
            FaultKind::SvcEscalation | FaultKind::VectorTable { .. } => 0,
        };
        self.scs.cfsr |= cfsr_bit;
        self.scs.hfsr |= if matches!(kind, FaultKind::VectorTable { .. }) { 1 << 1 } else { 1 << 30 };
        let reason = kind.describe();
        if self.scs.active & (1 << EXC_HARDFAULT) != 0 || self.ipsr == EXC_NMI {
            return Err(SimError::Lockup { reason, loc: self.location(self.pc) });
        }
        let record = FaultRecord { pc: self.pc, lr: self.r[14], reason };
        if matches!(kind, FaultKind::VectorTable { .. }) || self.hardfault_handler_spins() {
            self.last_fault = Some(record);
            return Err(self.hardfault_spin_error());
        }
        self.last_fault = Some(record);
        let pc = self.pc;
        match self.exception_entry(EXC_HARDFAULT, pc) {
            Ok(()) => Ok(()),
            Err(Trap::Fault(k)) => Err(SimError::Lockup { reason: k.describe(), loc: self.location(pc) }),
            Err(t) => self.handle_trap(t),
        }
    }

    /// The structured error for a HardFault the firmware cannot recover from.
    pub(crate) fn hardfault_spin_error(&self) -> SimError {
        let rec = self.last_fault.clone().unwrap_or(FaultRecord {
            pc: self.pc,
            lr: self.r[14],
            reason: "HardFault handler entered".into(),
        });
        let loc = self.location(rec.pc);
        let insn = match loc.word {
            Some(w) if loc.len == 4 => format!(", insn {w:08x} `{}`", loc.disasm),
            Some(w) => format!(", insn {w:04x} `{}`", loc.disasm),
            None => String::new(),
        };
        SimError::HardFault {
            cfsr: self.scs.cfsr,
            hfsr: self.scs.hfsr,
            pc: rec.pc,
            lr: rec.lr,
            symbol: loc.symbol,
            reason: rec.reason,
            insn,
        }
    }

    /// Whether the HardFault handler is a do-nothing loop (cortex-m-rt's default
    /// `HardFault_`, possibly behind its trampoline): a short static walk that follows
    /// unconditional branches through register-only code and looks for `b .`.
    fn hardfault_handler_spins(&self) -> bool {
        let Some(vector) = self.mem.read(self.scs.vtor.wrapping_add(4 * EXC_HARDFAULT), 4) else {
            return true;
        };
        let mut addr = vector & !1;
        if let Some(name) = self.symbols.name_at(addr)
            && matches!(name, "HardFault_" | "DefaultHandler_")
        {
            return true;
        }
        for _ in 0..32 {
            let Some(h1) = self.mem.read(addr, 2) else { return true };
            let h2 = self.mem.read(addr.wrapping_add(2), 2).unwrap_or(0);
            let (insn, len) = decode::decode(h1 as u16, h2 as u16);
            match insn {
                Insn::B { cond: 14, imm } => {
                    let target = addr.wrapping_add(4).wrapping_add(imm as u32);
                    if target == addr {
                        return true;
                    }
                    addr = target;
                    continue;
                }
                Insn::B { .. }
                | Insn::DpImm { .. }
                | Insn::DpReg { .. }
                | Insn::Mrs { .. }
                | Insn::Hint { .. }
                | Insn::Barrier { .. }
                | Insn::It { .. }
                | Insn::Cps { .. } => {}
                // Frame-pointer prologues (`push {r7, lr}; mov r7, sp`) only touch the stack.
                Insn::Stm { rn: 13, .. } | Insn::Str { rn: 13, .. } => {}
                _ => return false,
            }
            addr = addr.wrapping_add(len as u32);
        }
        false
    }
}
