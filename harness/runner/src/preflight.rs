//! Checks made before any firmware is built, so a mistake costs a second and
//! one clear line instead of a build and a linker command line: the firmware
//! supports the board, and a case's model fits the board's memories. When
//! the linker still finds an overflow (the firmware's own code is not
//! counted here), [`linker_overflow`] turns its message into the same error.

use std::path::{Path, PathBuf};

use tinybench_config::Board;

use crate::RunnerError;

/// RAM the firmware needs besides the model's arena: the RTT buffers (2 KiB)
/// and a minimal stack. Kernels may need more stack; the run measures it.
pub const RAM_RESERVE_BYTES: u64 = 6 * 1024;

/// The firmware's board features (`board-<id>` in the firmware package's
/// Cargo.toml): the boards it can be built for.
pub fn supported_boards(firmware_dir: &Path) -> Result<Vec<String>, RunnerError> {
    let manifest = firmware_manifest(firmware_dir);
    let text = std::fs::read_to_string(&manifest)
        .map_err(|e| RunnerError::FirmwareSourcesMissing(format!("cannot read {}: {e}", manifest.display())))?;
    let doc: toml::Table = toml::from_str(&text)
        .map_err(|e| RunnerError::FirmwareSourcesMissing(format!("{}: {e}", manifest.display())))?;
    let mut boards: Vec<String> = doc
        .get("features")
        .and_then(toml::Value::as_table)
        .into_iter()
        .flat_map(|features| features.keys())
        .filter_map(|k| k.strip_prefix("board-").map(str::to_owned))
        .collect();
    boards.sort();
    Ok(boards)
}

/// The firmware package's manifest: `bench-fw/Cargo.toml` in the firmware
/// workspace, or the folder's own for a single-package firmware.
fn firmware_manifest(firmware_dir: &Path) -> PathBuf {
    let member = firmware_dir.join("bench-fw/Cargo.toml");
    if member.is_file() { member } else { firmware_dir.join("Cargo.toml") }
}

/// The firmware can be built for `board`.
pub fn check_board_supported(firmware_dir: &Path, board: &Board) -> Result<(), RunnerError> {
    let boards = supported_boards(firmware_dir)?;
    if boards.contains(&board.id) {
        return Ok(());
    }
    Err(RunnerError::BoardNotSupported {
        board: board.id.clone(),
        board_file: board.path.clone(),
        manifest: firmware_manifest(firmware_dir),
        known: boards,
    })
}

/// What a case needs from the board's memories, known before building.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryNeeds {
    /// Model image, input sample and evaluation inputs, all linked into flash.
    pub flash_data_bytes: u64,
    /// The model's activation arena, a static buffer in RAM.
    pub arena_bytes: u64,
}

/// The case's model and data fit the board's code and data regions.
pub fn check_fits(board: &Board, needs: MemoryNeeds) -> Result<(), RunnerError> {
    let (code, data) = (board.code(), board.data());
    let checks = [
        (
            code,
            needs.flash_data_bytes,
            "code-region",
            "the model, its input and evaluation samples (before any firmware code)",
        ),
        (
            data,
            needs.arena_bytes + RAM_RESERVE_BYTES,
            "data-region",
            "the activation arena plus 6 KiB for stack and RTT buffers",
        ),
    ];
    for (region, needed_bytes, key, what) in checks {
        if needed_bytes <= u64::from(region.size_bytes) {
            continue;
        }
        // A larger region of the same kind is one edit of the board file away.
        let larger: Vec<String> = board
            .memory
            .iter()
            .filter(|r| r.kind == region.kind && u64::from(r.size_bytes) >= needed_bytes)
            .map(|r| format!("{} ({} bytes)", r.name, r.size_bytes))
            .collect();
        let larger_region = if larger.is_empty() {
            ", or a board with more memory".to_owned()
        } else {
            format!(", or set {key} in {} to {}", board.path.display(), larger.join(" or "))
        };
        return Err(RunnerError::DoesNotFit {
            board: board.id.clone(),
            region: region.name.clone(),
            needed_bytes,
            available_bytes: u64::from(region.size_bytes),
            what,
            larger_region,
        });
    }
    Ok(())
}

/// A linker's "will not fit in region" message in a build log, as the same
/// error the preflight check gives: `(section, region, overflow bytes)`.
pub fn linker_overflow(build_output: &str) -> Option<(String, String, u64)> {
    // rust-lld: "error: section '.rodata' will not fit in region 'FLASH': overflowed by 12345 bytes"
    build_output.lines().find_map(|line| {
        let (_, rest) = line.split_once("section '")?;
        let (section, rest) = rest.split_once("' will not fit in region '")?;
        let (region, rest) = rest.split_once("': overflowed by ")?;
        let bytes = rest.split_whitespace().next()?.parse().ok()?;
        Some((section.to_owned(), region.to_owned(), bytes))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn board() -> Board {
        Board::builtin("sim-m4").unwrap().unwrap()
    }

    #[test]
    fn the_shipped_firmware_supports_the_shipped_boards() {
        let firmware = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target-fw");
        let boards = supported_boards(&firmware).unwrap();
        for id in Board::builtin_ids() {
            assert!(boards.iter().any(|b| b == id), "{id} missing from {boards:?}");
        }
        let mut other = board();
        other.id = "my-board".into();
        let err = check_board_supported(&firmware, &other).unwrap_err().to_string();
        assert!(err.contains("no firmware support for board my-board"), "{err}");
        assert!(err.contains("nrf52840-dk, nucleo-h743zi2, nucleo-l4r5zi, sim-m4, sim-m7"), "{err}");
        assert!(err.contains("board-my-board"), "{err}");
    }

    #[test]
    fn a_model_too_big_for_the_board_names_the_shortfall() {
        let b = board();
        let flash = u64::from(b.code().size_bytes);
        check_fits(&b, MemoryNeeds { flash_data_bytes: flash, arena_bytes: 1000 }).unwrap();
        let err = check_fits(&b, MemoryNeeds { flash_data_bytes: flash + 10, arena_bytes: 1000 }).unwrap_err();
        assert!(err.to_string().contains("short by 10 bytes"), "{err}");
        let ram = u64::from(b.data().size_bytes);
        let err = check_fits(&b, MemoryNeeds { flash_data_bytes: 0, arena_bytes: ram }).unwrap_err().to_string();
        assert!(err.contains("region sram") && err.contains(&format!("short by {RAM_RESERVE_BYTES} bytes")), "{err}");
        assert!(err.ends_with("or a board with more memory"), "{err}");
        // The H7's 128 KiB DTCM is the data region; its 512 KiB AXI SRAM would do.
        let h7 = Board::builtin("nucleo-h743zi2").unwrap().unwrap();
        let err = check_fits(&h7, MemoryNeeds { flash_data_bytes: 0, arena_bytes: 200_000 }).unwrap_err().to_string();
        assert!(
            err.contains("set data-region in configs/boards/nucleo-h743zi2.toml to axi-sram (524288 bytes)"),
            "{err}"
        );
    }

    #[test]
    fn linker_overflow_is_read_from_rust_lld_output() {
        let log =
            "  = note: rust-lld: error: section '.rodata' will not fit in region 'FLASH': overflowed by 12345 bytes\n";
        assert_eq!(linker_overflow(log), Some((".rodata".into(), "FLASH".into(), 12345)));
        assert_eq!(linker_overflow("error: something else"), None);
    }
}
