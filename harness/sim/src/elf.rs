//! ELF loading: PT_LOAD segments at their physical (load) addresses + symbols.

use object::read::elf::{ElfFile32, FileHeader, ProgramHeader};
use object::{Endianness, Object, ObjectSymbol, SymbolKind};

use crate::symbols::Symbols;
use crate::{SimError, Simulator};

const PT_LOAD: u32 = 1;

/// `len` bytes at `start` lie inside one of the board's memory regions.
pub(crate) fn check_mapped(sim: &Simulator, what: &str, start: u32, len: u32) -> Result<(), SimError> {
    if len == 0 || sim.mem.find(start, len).is_some() {
        return Ok(());
    }
    Err(SimError::OutsideMemoryMap {
        what: what.to_owned(),
        start,
        end: u64::from(start) + u64::from(len),
        map: sim.memory_map(),
    })
}

pub(crate) fn load(sim: &mut Simulator, data: &[u8]) -> Result<(Vec<(u32, u32)>, Symbols), SimError> {
    let file = ElfFile32::<Endianness>::parse(data).map_err(|e| SimError::Elf {
        reason: format!(
            "{e}; pass a 32-bit little-endian ARM ELF (the firmware's target/thumbv7em-none-eabihf/... binary)"
        ),
    })?;
    if file.architecture() != object::Architecture::Arm {
        return Err(SimError::Elf {
            reason: format!(
                "architecture is {:?}, not ARM; build the firmware for thumbv7em-none-eabihf",
                file.architecture()
            ),
        });
    }
    let endian = file.endian();
    let mut segments = Vec::new();
    for (index, ph) in file
        .elf_header()
        .program_headers(endian, data)
        .map_err(|e| SimError::Elf { reason: format!("bad program headers: {e}") })?
        .iter()
        .enumerate()
    {
        if ph.p_type(endian) != PT_LOAD {
            continue;
        }
        let (paddr, filesz) = (ph.p_paddr(endian), ph.p_filesz(endian));
        let (vaddr, memsz) = (ph.p_vaddr(endian), ph.p_memsz(endian));
        // Where it is loaded (flash for initialized data) and where it runs
        // (RAM for .data and .bss): both must exist on this board.
        check_mapped(sim, &format!("segment {index} (load image)"), paddr, filesz)?;
        check_mapped(sim, &format!("segment {index} (run-time addresses)"), vaddr, memsz)?;
        if filesz == 0 {
            continue;
        }
        let bytes = ph.data(endian, data).map_err(|()| SimError::Elf {
            reason: format!("segment {index} data lies outside the file; the ELF is truncated"),
        })?;
        sim.write_memory(paddr, bytes).map_err(|_| SimError::Elf {
            reason: format!("segment {index} ({paddr:#010x}, {filesz} bytes) spans two memory regions"),
        })?;
        segments.push((paddr, filesz));
    }
    Ok((segments, symbols_of(&file)))
}

/// The function and data symbols of an ELF, for naming addresses.
pub fn symbols(data: &[u8]) -> Result<Symbols, SimError> {
    let file = ElfFile32::<Endianness>::parse(data).map_err(|e| SimError::Elf { reason: e.to_string() })?;
    Ok(symbols_of(&file))
}

fn symbols_of(file: &ElfFile32<'_, Endianness>) -> Symbols {
    let mut list = Vec::new();
    for sym in file.symbols() {
        if !matches!(sym.kind(), SymbolKind::Text | SymbolKind::Data | SymbolKind::Unknown) {
            continue;
        }
        let Ok(name) = sym.name() else { continue };
        if name.is_empty() || name.starts_with('$') {
            continue;
        }
        let mut addr = sym.address() as u32;
        if sym.kind() == SymbolKind::Text {
            addr &= !1;
        }
        list.push((addr, sym.size() as u32, name.to_string()));
    }
    Symbols::new(list)
}
