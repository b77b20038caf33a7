//! The Cortex-M fault status registers in words (ARMv7-M ARM B3.2.15 to
//! B3.2.18): which fault, why, and at which address, for the one line a
//! failed run prints.

use probe_rs::{Core, MemoryInterface, RegisterValue};

const CFSR: u64 = 0xE000_ED28;
const HFSR: u64 = 0xE000_ED2C;
const MMFAR: u64 = 0xE000_ED34;
const BFAR: u64 = 0xE000_ED38;

/// (bit, name, meaning) of the Configurable Fault Status Register.
const CFSR_BITS: &[(u32, &str, &str)] = &[
    (0, "IACCVIOL", "instruction fetch from a protected region"),
    (1, "DACCVIOL", "data access to a protected region"),
    (3, "MUNSTKERR", "MPU fault on exception return"),
    (4, "MSTKERR", "MPU fault on exception entry"),
    (5, "MLSPERR", "MPU fault on lazy FP state save"),
    (8, "IBUSERR", "bus error on instruction fetch"),
    (9, "PRECISERR", "precise bus error on a data access"),
    (10, "IMPRECISERR", "imprecise bus error on a data access"),
    (11, "UNSTKERR", "bus error on exception return"),
    (12, "STKERR", "bus error on exception entry"),
    (13, "LSPERR", "bus error on lazy FP state save"),
    (16, "UNDEFINSTR", "undefined instruction"),
    (17, "INVSTATE", "invalid state (Thumb bit clear)"),
    (18, "INVPC", "invalid EXC_RETURN"),
    (19, "NOCP", "coprocessor access with the coprocessor off (FPU not enabled?)"),
    (24, "UNALIGNED", "unaligned access"),
    (25, "DIVBYZERO", "division by zero"),
];

/// The fault status in words, e.g. `HardFault (FORCED): PRECISERR (precise
/// bus error on a data access) at 0x60000000`.
pub fn describe_registers(cfsr: u32, hfsr: u32, mmfar: u32, bfar: u32, lockup: bool) -> String {
    let mut parts = Vec::new();
    for &(bit, name, meaning) in CFSR_BITS {
        if cfsr & (1 << bit) != 0 {
            let address = match bit {
                0..=5 if cfsr & (1 << 7) != 0 => format!(" at {mmfar:#010x}"),
                8..=13 if cfsr & (1 << 15) != 0 => format!(" at {bfar:#010x}"),
                _ => String::new(),
            };
            parts.push(format!("{name} ({meaning}){address}"));
        }
    }
    let kind = if lockup {
        "lockup (a fault while handling a fault)".to_owned()
    } else if hfsr & (1 << 1) != 0 {
        "HardFault (VECTTBL: bus error reading the vector table)".to_owned()
    } else if hfsr & (1 << 30) != 0 {
        "HardFault (FORCED: an escalated fault)".to_owned()
    } else {
        "HardFault".to_owned()
    };
    if parts.is_empty() {
        format!("{kind}; CFSR {cfsr:#010x}, HFSR {hfsr:#010x}")
    } else {
        format!("{kind}: {}", parts.join(", "))
    }
}

/// The fault status of a halted core.
pub fn describe(core: &mut Core<'_>, lockup: bool) -> String {
    let mut read = |address| core.read_word_32(address).unwrap_or(0);
    let (cfsr, hfsr, mmfar, bfar) = (read(CFSR), read(HFSR), read(MMFAR), read(BFAR));
    describe_registers(cfsr, hfsr, mmfar, bfar, lockup)
}

/// The halted core's PC.
pub fn current_pc(core: &mut Core<'_>) -> Option<u32> {
    let value: RegisterValue = core.read_core_reg(core.program_counter()).ok()?;
    value.try_into().ok()
}

/// The faulting instruction's address: the stacked PC when the core halted
/// at the HardFault handler (IPSR 3), else the PC.
pub fn faulting_pc(core: &mut Core<'_>) -> Option<u32> {
    let xpsr: u32 = core.read_core_reg::<u32>(probe_rs::RegisterId(16)).ok()?;
    if xpsr & 0x1ff == 3 {
        let sp: u32 = core.read_core_reg(core.stack_pointer()).ok()?;
        // Exception frame: r0-r3, r12, lr, pc, xpsr.
        return core.read_word_32(u64::from(sp) + 24).ok();
    }
    current_pc(core)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_status_in_words() {
        assert_eq!(
            describe_registers(1 << 9 | 1 << 15, 1 << 30, 0, 0x6000_0000, false),
            "HardFault (FORCED: an escalated fault): PRECISERR (precise bus error on a data access) at 0x60000000"
        );
        assert_eq!(
            describe_registers(1 << 16, 1 << 30, 0, 0, false),
            "HardFault (FORCED: an escalated fault): UNDEFINSTR (undefined instruction)"
        );
        assert_eq!(
            describe_registers(0, 0, 0, 0, true),
            "lockup (a fault while handling a fault); CFSR 0x00000000, HFSR 0x00000000"
        );
        assert!(
            describe_registers(1 << 1, 0, 0x100, 0, false).ends_with("DACCVIOL (data access to a protected region)")
        );
    }
}
