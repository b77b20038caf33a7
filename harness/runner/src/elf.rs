//! What the host learns from a firmware ELF before running it: its memory
//! footprint, its protocol version and a content hash for provenance.

use object::elf::{SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE, SHT_NOBITS};
use object::read::elf::{ElfFile32, SectionHeader};
use object::{Object, ObjectSection, ObjectSymbol};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::RunnerError;

/// Static memory of a firmware image, from its ELF section headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StaticMemory {
    /// Executable sections (vector table and code).
    pub text_bytes: u64,
    /// Read-only data (constants, weights of a model).
    pub rodata_bytes: u64,
    /// Initialized data: stored in flash, copied to RAM at start-up.
    pub data_bytes: u64,
    /// Zero-initialized and uninitialized RAM.
    pub bss_bytes: u64,
    /// Evaluation inputs linked for accuracy runs (section
    /// `.tinybench_eval`): in flash, but not part of the deployed model, so
    /// not counted in the figures above.
    pub eval_data_bytes: u64,
}

impl StaticMemory {
    /// Flash used: text + rodata + the initial values of data.
    pub fn flash_bytes(&self) -> u64 {
        self.text_bytes + self.rodata_bytes + self.data_bytes
    }

    /// RAM used before the stack: data + bss.
    pub fn static_ram_bytes(&self) -> u64 {
        self.data_bytes + self.bss_bytes
    }
}

/// A firmware image read for running and reporting.
#[derive(Debug, Clone)]
pub struct FirmwareImage {
    pub bytes: Vec<u8>,
    pub memory: StaticMemory,
    /// Lowercase hex SHA-256 of the ELF file.
    pub sha256: String,
}

impl FirmwareImage {
    /// Reads an ELF, checks it speaks this host's protocol version, and
    /// measures its sections.
    pub fn parse(bytes: Vec<u8>) -> Result<FirmwareImage, RunnerError> {
        let elf = ElfFile32::<object::LittleEndian>::parse(&*bytes)
            .map_err(|e| RunnerError::BadElf(format!("not a 32-bit little-endian ELF: {e}")))?;
        check_protocol_version(&elf)?;
        let memory = static_memory(&elf);
        let sha256 = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
        Ok(FirmwareImage { bytes, memory, sha256 })
    }
}

/// Section the firmware links accuracy-evaluation inputs into.
const EVAL_SECTION: &str = ".tinybench_eval";

fn static_memory(elf: &ElfFile32<'_, object::LittleEndian>) -> StaticMemory {
    let endian = elf.endian();
    let mut m = StaticMemory::default();
    for section in elf.sections() {
        let header = section.elf_section_header();
        let flags = header.sh_flags(endian);
        if flags & SHF_ALLOC == 0 {
            continue; // debug info, defmt table: never loaded
        }
        let size = u64::from(header.sh_size(endian));
        if section.name() == Ok(EVAL_SECTION) {
            m.eval_data_bytes += size;
        } else if header.sh_type(endian) == SHT_NOBITS {
            m.bss_bytes += size;
        } else if flags & SHF_WRITE != 0 {
            m.data_bytes += size;
        } else if flags & SHF_EXECINSTR != 0 {
            m.text_bytes += size;
        } else {
            m.rodata_bytes += size;
        }
    }
    m
}

fn check_protocol_version(elf: &ElfFile32<'_, object::LittleEndian>) -> Result<(), RunnerError> {
    let symbol =
        elf.symbols().find(|s| s.name() == Ok(tinybench_proto::VERSION_SYMBOL)).ok_or(RunnerError::BadElf(format!(
            "no `{}` symbol: this is not a tinybench benchmark firmware; build it from target-fw/",
            tinybench_proto::VERSION_SYMBOL
        )))?;
    let address = symbol.address();
    let data = symbol
        .section_index()
        .and_then(|i| elf.section_by_index(i).ok())
        .and_then(|s| {
            let offset = address.checked_sub(s.address())?;
            let data = s.data().ok()?;
            data.get(offset as usize..offset as usize + 2).map(|b| u16::from_le_bytes([b[0], b[1]]))
        })
        .ok_or(RunnerError::BadElf(format!("cannot read `{}`", tinybench_proto::VERSION_SYMBOL)))?;
    if data != tinybench_proto::PROTO_VERSION {
        return Err(RunnerError::ProtocolMismatch { firmware: data, host: tinybench_proto::PROTO_VERSION });
    }
    Ok(())
}
