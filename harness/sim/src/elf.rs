//! ELF loading: PT_LOAD segments at their physical (load) addresses + symbols.

use object::read::elf::{ElfFile32, FileHeader, ProgramHeader};
use object::{Endianness, Object, ObjectSymbol, SymbolKind};

use crate::symbols::Symbols;
use crate::{SimError, Simulator};

const PT_LOAD: u32 = 1;

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
        let paddr = ph.p_paddr(endian);
        let filesz = ph.p_filesz(endian);
        if filesz == 0 {
            continue;
        }
        let bytes = ph.data(endian, data).map_err(|()| SimError::Elf {
            reason: format!("segment {index} data lies outside the file; the ELF is truncated"),
        })?;
        sim.write_memory(paddr, bytes).map_err(|_| SimError::SegmentDoesNotFit { index, addr: paddr, len: filesz })?;
        segments.push((paddr, filesz));
    }
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
    Ok((segments, Symbols::new(list)))
}
