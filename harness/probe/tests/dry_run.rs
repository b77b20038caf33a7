//! probe-rs's dry-run flash plan for the chips of the three real boards:
//! the chip names exist in probe-rs's database, an image at each chip's
//! flash base fits, and a flash algorithm covers it. No board needed.

use std::path::Path;

use tinybench_probe::ProbeError;

/// An ELF32 ARM executable with one loadable segment of `size` bytes at
/// `address` holding a `.vector_table` section (where cortex-m-rt puts the
/// vector table), as the benchmark firmware's image starts.
fn image_at(address: u32, size: u32) -> Vec<u8> {
    const SEGMENT: u32 = 0x100;
    let shstrtab = b"\0.vector_table\0.shstrtab\0";
    let shoff = SEGMENT + size + shstrtab.len() as u32;
    let shoff = shoff.next_multiple_of(4);
    let mut out = vec![0x7F, b'E', b'L', b'F', 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let words: [u32; 6] = [1, address | 1, 52, shoff, 0x0500_0400, 0]; // e_version, e_entry, e_phoff, e_shoff, e_flags
    out.extend(2u16.to_le_bytes()); // e_type: EXEC
    out.extend(40u16.to_le_bytes()); // e_machine: ARM
    for w in &words[..5] {
        out.extend(w.to_le_bytes());
    }
    for half in [52u16, 32, 1, 40, 3, 2] {
        // e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx
        out.extend(half.to_le_bytes());
    }
    // PT_LOAD, offset, vaddr, paddr, filesz, memsz, flags R+X, align
    for w in [1, SEGMENT, address, address, size, size, 5, 4] {
        out.extend(w.to_le_bytes());
    }
    out.resize(SEGMENT as usize, 0);
    // A vector table: the initial SP, then the reset handler (Thumb).
    let mut segment = vec![0u8; size as usize];
    segment[..4].copy_from_slice(&0x2000_8000u32.to_le_bytes());
    segment[4..8].copy_from_slice(&(address + 0x41).to_le_bytes());
    out.extend(&segment);
    out.extend(shstrtab);
    out.resize(shoff as usize, 0);
    // Section headers: null, .vector_table, .shstrtab
    let sections: [[u32; 10]; 3] = [
        [0; 10],
        [1, 1, 0x6, address, SEGMENT, size, 0, 0, 4, 0],
        [15, 3, 0, 0, SEGMENT + size, shstrtab.len() as u32, 0, 0, 1, 0],
    ];
    for s in sections {
        for w in s {
            out.extend(w.to_le_bytes());
        }
    }
    out
}

fn plan(chip: &str, flash_base: u32, dir: &Path) -> Result<tinybench_probe::dry_run::FlashPlan, ProbeError> {
    let elf = dir.join(format!("{chip}.elf"));
    std::fs::write(&elf, image_at(flash_base, 4096)).unwrap();
    tinybench_probe::dry_run::flash_plan(chip, &elf)
}

#[test]
fn the_three_boards_chips_have_a_flash_plan() {
    let dir = tempfile::tempdir().unwrap();
    for (chip, flash_base) in [("STM32H743ZITx", 0x0800_0000), ("STM32L4R5ZITx", 0x0800_0000), ("nRF52840_xxAA", 0)] {
        let plan = plan(chip, flash_base, dir.path()).unwrap_or_else(|e| panic!("{chip}: {e}"));
        // probe-rs stops before writing and reports the phases it skipped.
        assert!(plan.events.iter().any(|e| e == "skipped Program"), "{chip}: {:?}", plan.events);
    }
}

#[test]
fn an_unknown_chip_has_no_plan() {
    let dir = tempfile::tempdir().unwrap();
    let unknown = plan("NOT_A_CHIP", 0x0800_0000, dir.path()).unwrap_err();
    assert!(matches!(unknown, ProbeError::Attach { .. }), "{unknown:?}");
    assert!(unknown.to_string().contains("probe-rs cannot attach to NOT_A_CHIP"), "{unknown}");
}
