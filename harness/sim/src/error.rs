//! The crate's error type. Every message says what to do next.

use std::fmt;

/// Where a guest-side error happened: PC, raw instruction, enclosing symbol, disassembly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub pc: u32,
    /// Instruction word as fetched (hw1 in the high half for 32-bit encodings, as
    /// objdump prints it: `f8d1 0004` -> 0xf8d10004); None if the PC was unreadable.
    pub word: Option<u32>,
    /// Instruction length in bytes (2 or 4).
    pub len: u8,
    /// `symbol+0xoff` or `<no symbol>`.
    pub symbol: String,
    /// Disassembly, when the word could be fetched.
    pub disasm: String,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pc {:#010x} ({})", self.pc, self.symbol)?;
        match (self.word, self.len) {
            (Some(w), 4) => write!(f, ", insn {:08x} `{}`", w, self.disasm),
            (Some(w), _) => write!(f, ", insn {:04x} `{}`", w, self.disasm),
            (None, _) => write!(f, ", insn unreadable"),
        }
    }
}

/// Errors from configuration, ELF loading and execution.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("invalid simulator configuration: {reason}")]
    InvalidConfig { reason: String },

    #[error("cannot load ELF: {reason}")]
    Elf { reason: String },

    /// The ELF needs memory the board does not have: it was linked for
    /// another memory map (another board's memory.x).
    #[error(
        "the ELF was linked for another memory map: {what} needs {start:#010x}..{end:#010x}, outside this board's \
         memory ({map}); build it for this board (its memory.x comes from the board file) or run it with the board \
         it was built for"
    )]
    OutsideMemoryMap { what: String, start: u32, end: u64, map: String },

    #[error(
        "bad vector table at {vtor:#010x}: {reason}; make sure the ELF has a vector table at the start of flash (cortex-m-rt `.vector_table`)"
    )]
    BadVectorTable { vtor: u32, reason: String },

    #[error(
        "undefined instruction at {loc}; the core jumped into data or the firmware targets another architecture (build for thumbv7em-none-eabihf)"
    )]
    Undefined { loc: Location },

    #[error(
        "instruction not supported by the simulator at {loc}: {what}; run the firmware on hardware or file an issue for tinybench-sim with this instruction"
    )]
    Unsupported { loc: Location, what: &'static str },

    #[error(
        "unmapped memory {access} of {size} byte(s) at {addr:#010x} from {loc}; add a region covering this address to the board config or fix the pointer"
    )]
    Unmapped { addr: u32, size: u32, access: &'static str, loc: Location },

    #[error(
        "write of {size} byte(s) to read-only flash at {addr:#010x} from {loc}; flash programming is not simulated — move the data to RAM"
    )]
    FlashWrite { addr: u32, size: u32, loc: Location },

    #[error(
        "debugger access of {len} byte(s) at {addr:#010x} touches unmapped memory; only configured regions are accessible"
    )]
    DebugAccess { addr: u32, len: u32 },

    #[error(
        "HardFault: {reason} at pc {pc:#010x} ({symbol}), lr {lr:#010x}, CFSR {cfsr:#010x}, HFSR {hfsr:#010x}{insn}; \
         the firmware's HardFault handler would spin forever, so the simulation stopped here — inspect the code at this PC"
    )]
    HardFault { cfsr: u32, hfsr: u32, pc: u32, lr: u32, symbol: String, reason: String, insn: String },

    #[error(
        "core lockup: {reason} while already handling a HardFault at {loc}; the HardFault handler itself faulted — check its stack and code"
    )]
    Lockup { reason: String, loc: Location },
}
