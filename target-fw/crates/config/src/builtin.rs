//! Board files shipped inside the binary, so `tinybench sim --board sim-m4`
//! works outside a checkout. They are the same files as `configs/boards/`.

use std::path::{Path, PathBuf};

use crate::{Board, ConfigError, SourceFile};

/// (id, file text) of every shipped board.
const BUILTIN: &[(&str, &str)] = &[
    ("sim-m4", include_str!("../../../../configs/boards/sim-m4.toml")),
    ("sim-m7", include_str!("../../../../configs/boards/sim-m7.toml")),
    ("nucleo-h743zi2", include_str!("../../../../configs/boards/nucleo-h743zi2.toml")),
    ("nucleo-l4r5zi", include_str!("../../../../configs/boards/nucleo-l4r5zi.toml")),
    ("nrf52840-dk", include_str!("../../../../configs/boards/nrf52840-dk.toml")),
];

impl Board {
    /// Ids of the boards built into tinybench.
    pub fn builtin_ids() -> impl Iterator<Item = &'static str> {
        BUILTIN.iter().map(|(id, _)| *id)
    }

    /// A board built into tinybench, by id.
    pub fn builtin(id: &str) -> Option<Result<Board, ConfigError>> {
        let (id, text) = BUILTIN.iter().find(|(b, _)| *b == id)?;
        let path = PathBuf::from(format!("configs/boards/{id}.toml"));
        Some(Board::from_source(&SourceFile { path, text: (*text).to_owned() }))
    }

    /// `name_or_path` as a board file if it names one (ends in `.toml` or
    /// exists), else as the id of a built-in board.
    pub fn resolve(name_or_path: &str) -> Result<Board, ConfigError> {
        let path = Path::new(name_or_path);
        if name_or_path.ends_with(".toml") || path.is_file() {
            return Board::from_file(path);
        }
        Board::builtin(name_or_path).unwrap_or_else(|| {
            Err(ConfigError::Invalid {
                path: PathBuf::from(name_or_path),
                line: 0,
                column: 0,
                key: "board".to_owned(),
                message: format!("no built-in board named \"{name_or_path}\""),
                fix: format!(
                    "use one of {} or the path of a board file",
                    Board::builtin_ids().collect::<Vec<_>>().join(", ")
                ),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_boards_parse_and_match_their_files() {
        for id in Board::builtin_ids() {
            let board = Board::builtin(id).unwrap().unwrap();
            assert_eq!(board.id, id);
            let file = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../../configs/boards/{id}.toml"));
            let from_file = Board::from_file(&file).unwrap();
            assert_eq!(board.memory, from_file.memory);
        }
    }

    #[test]
    fn unknown_board_lists_builtins() {
        let e = Board::resolve("sim-m9").unwrap_err().to_string();
        assert!(
            e.contains(
                "no built-in board named \"sim-m9\"; use one of sim-m4, sim-m7, nucleo-h743zi2, nucleo-l4r5zi, nrf52840-dk"
            ),
            "{e}"
        );
    }
}
