//! Fakes of the runner's seams, shipped so that tests (and dry runs) can
//! drive a whole [`crate::Runner`] without cargo, a simulator or a board:
//! [`FakeBuilder`] writes a minimal ELF that passes the runner's checks, and
//! [`FakeTargets`] opens scripted [`FakeTarget`]s.

use std::path::PathBuf;

use tinybench_config::{CaseConfig, RunConfig};
use tinybench_target::{BenchTarget, FakeTarget};

use crate::RunnerError;
use crate::seams::{BuildRequest, BuilderIdentity, FirmwareBuilder, TargetFactory};

/// A builder that writes [`minimal_elf`] and a one-line build log per case.
#[derive(Debug, Clone, Default)]
pub struct FakeBuilder {
    /// Cases built so far, in order.
    pub built: Vec<String>,
}

impl FirmwareBuilder for FakeBuilder {
    fn identity(&mut self) -> Result<BuilderIdentity, RunnerError> {
        Ok(BuilderIdentity {
            git_revision: "fake".to_owned(),
            toolchain: "fake toolchain".to_owned(),
            sources_sha256: "fake sources".to_owned(),
        })
    }

    fn build(&mut self, request: &BuildRequest<'_>) -> Result<PathBuf, RunnerError> {
        let (elf, log) = (request.case_dir.join("firmware.elf"), request.case_dir.join("build.log"));
        std::fs::write(&log, "fake build\n").map_err(|e| RunnerError::io(&log, e))?;
        std::fs::write(&elf, minimal_elf(tinybench_proto::PROTO_VERSION)).map_err(|e| RunnerError::io(&elf, e))?;
        self.built.push(request.case.name.clone());
        Ok(elf)
    }
}

/// Opens a [`FakeTarget`] per case from a script.
pub struct FakeTargets {
    script: Box<dyn FnMut(&CaseConfig) -> FakeTarget>,
    /// The case `open` will be asked for next (the runner opens in case order).
    cases: std::vec::IntoIter<CaseConfig>,
}

impl FakeTargets {
    /// `script` gives each case's target; `config` is the run it will serve
    /// (its cases are opened in order).
    pub fn new(config: &RunConfig, script: impl FnMut(&CaseConfig) -> FakeTarget + 'static) -> Self {
        FakeTargets { script: Box::new(script), cases: config.cases.clone().into_iter() }
    }
}

impl TargetFactory for FakeTargets {
    fn kind(&self) -> &'static str {
        "fake"
    }

    fn describe(&self, config: &RunConfig) -> String {
        format!("{} (fake)", config.board.id)
    }

    fn open(&mut self, config: &RunConfig) -> Result<Box<dyn BenchTarget>, RunnerError> {
        let case = self.cases.next().ok_or_else(|| {
            RunnerError::Protocol(format!(
                "the fake targets of {} were opened more often than it has cases",
                config.name
            ))
        })?;
        Ok(Box::new((self.script)(&case)))
    }
}

/// The smallest ELF the runner accepts as benchmark firmware: ELF32 ARM with
/// `.text` (4 bytes), `.rodata` holding the protocol version under its symbol
/// name, and the symbol and string tables. Layout, all little-endian:
///
/// ```text
/// 0x000  ELF header (52 bytes), no program headers, 6 section headers at 0x100
/// 0x034  .text    4 bytes  bx lr; bx lr   (address 0x0800_0000)
/// 0x038  .rodata  2 bytes  the version     (address 0x0800_0004)
/// 0x040  .symtab  2 entries (null, TINYBENCH_PROTO_VERSION -> .rodata)
/// 0x060  .strtab  "\0TINYBENCH_PROTO_VERSION\0"
/// 0x080  .shstrtab
/// 0x100  section headers: null, .text, .rodata, .symtab, .strtab, .shstrtab
/// ```
pub fn minimal_elf(version: u16) -> Vec<u8> {
    const TEXT: u32 = 0x34;
    const RODATA: u32 = 0x38;
    const SYMTAB: u32 = 0x40;
    const STRTAB: u32 = 0x60;
    const SHSTRTAB: u32 = 0x80;
    const SECTIONS: u32 = 0x100;
    let mut out = vec![0u8; SECTIONS as usize];
    let put =
        |out: &mut Vec<u8>, at: u32, bytes: &[u8]| out[at as usize..at as usize + bytes.len()].copy_from_slice(bytes);
    // ELF header: magic, ELFCLASS32, little-endian, version 1.
    put(&mut out, 0, &[0x7F, b'E', b'L', b'F', 1, 1, 1]);
    let mut header = Vec::new();
    header.extend(2u16.to_le_bytes()); // e_type: EXEC
    header.extend(40u16.to_le_bytes()); // e_machine: ARM
    header.extend(1u32.to_le_bytes()); // e_version
    header.extend(0x0800_0001u32.to_le_bytes()); // e_entry (Thumb)
    header.extend(0u32.to_le_bytes()); // e_phoff: none
    header.extend(SECTIONS.to_le_bytes()); // e_shoff
    header.extend(0x0500_0400u32.to_le_bytes()); // e_flags: EABI5, hard float
    for half in [52u16, 32, 0, 40, 6, 5] {
        // e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx
        header.extend(half.to_le_bytes());
    }
    put(&mut out, 16, &header);
    put(&mut out, TEXT, &[0x70, 0x47, 0x70, 0x47]);
    put(&mut out, RODATA, &version.to_le_bytes());
    let name = tinybench_proto::VERSION_SYMBOL.as_bytes();
    let mut symbol = Vec::new();
    symbol.extend(1u32.to_le_bytes()); // st_name: after the leading NUL of .strtab
    symbol.extend(0x0800_0004u32.to_le_bytes()); // st_value
    symbol.extend(2u32.to_le_bytes()); // st_size
    symbol.extend([0x11, 0]); // st_info: GLOBAL OBJECT; st_other
    symbol.extend(2u16.to_le_bytes()); // st_shndx: .rodata
    put(&mut out, SYMTAB + 16, &symbol);
    put(&mut out, STRTAB + 1, name);
    let shstrtab = b"\0.text\0.rodata\0.symtab\0.strtab\0.shstrtab\0";
    put(&mut out, SHSTRTAB, shstrtab);
    let strtab_len = name.len() as u32 + 2;
    // name, type, flags, addr, offset, size, link, info, align, entsize
    let sections: [[u32; 10]; 6] = [
        [0; 10],
        [1, 1, 0x6, 0x0800_0000, TEXT, 4, 0, 0, 2, 0], // .text: PROGBITS, alloc+exec
        [7, 1, 0x2, 0x0800_0004, RODATA, 2, 0, 0, 2, 0], // .rodata: PROGBITS, alloc
        [15, 2, 0, 0, SYMTAB, 32, 4, 1, 4, 16],        // .symtab -> .strtab
        [23, 3, 0, 0, STRTAB, strtab_len, 0, 0, 1, 0], // .strtab
        [31, 3, 0, 0, SHSTRTAB, shstrtab.len() as u32, 0, 0, 1, 0], // .shstrtab
    ];
    for section in sections {
        for word in section {
            out.extend(word.to_le_bytes());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_minimal_elf_passes_the_firmware_checks() {
        let image = crate::FirmwareImage::parse(minimal_elf(tinybench_proto::PROTO_VERSION)).unwrap();
        assert_eq!((image.memory.text_bytes, image.memory.rodata_bytes), (4, 2));
        let old = crate::FirmwareImage::parse(minimal_elf(1)).unwrap_err().to_string();
        assert!(old.contains("protocol v1"), "{old}");
    }
}
