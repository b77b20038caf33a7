//! Fingerprints of what decides a case's result, so `--resume` reuses a
//! finished case only when nothing it depends on changed: the case's entry
//! in the configuration, the board, target, run and power settings, the
//! bytes of every file it reads, the firmware sources, the toolchain that
//! builds them and the tinybench executable itself (a rebuilt tinybench may
//! simulate differently, so its results are not mixed with older ones).
//!
//! Paths are not part of it, file contents are: the same configuration named
//! `./configs/x.toml` or `configs/x.toml`, or a checkout moved elsewhere, keeps
//! its cases.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tinybench_config::{CaseConfig, RunConfig, Workload};

use crate::RunnerError;
use tinybench_config::input::{MAX_MODEL_BYTES, MAX_TEST_SET_BYTES, read_limited};

/// SHA-256 over the firmware workspace's sources (everything under
/// `firmware_dir` but build output, in path order) and the toolchain.
pub fn sources_sha256(firmware_dir: &Path, toolchain: &str) -> Result<String, RunnerError> {
    let mut files = Vec::new();
    collect_files(firmware_dir, &mut files).map_err(|e| sources_error(firmware_dir, &e))?;
    files.sort();
    let mut hash = Sha256::new();
    for file in files {
        let bytes = std::fs::read(&file).map_err(|e| sources_error(&file, &e))?;
        let relative = file.strip_prefix(firmware_dir).unwrap_or(&file);
        part(&mut hash, relative.to_string_lossy().as_bytes());
        part(&mut hash, &bytes);
    }
    part(&mut hash, toolchain.as_bytes());
    Ok(hex(&hash.finalize()))
}

/// What every case of a run shares: the builder's identity (sources and
/// toolchain), the backend, and this executable, hashed once per run.
pub struct RunFingerprint(String);

impl RunFingerprint {
    pub fn new(builder_identity: &str, target_kind: &str) -> Result<Self, RunnerError> {
        let mut hash = Sha256::new();
        part(&mut hash, builder_identity.as_bytes());
        part(&mut hash, target_kind.as_bytes());
        // The running tinybench: its simulator and host engine decide figures.
        let exe = std::env::current_exe()
            .and_then(std::fs::read)
            .map_err(|e| RunnerError::Read { path: PathBuf::from("the tinybench executable"), error: e })?;
        part(&mut hash, &exe);
        Ok(RunFingerprint(hex(&hash.finalize())))
    }

    /// The fingerprint of one case of `config`.
    pub fn case(&self, config: &RunConfig, case: &CaseConfig) -> Result<String, RunnerError> {
        let mut hash = Sha256::new();
        part(&mut hash, self.0.as_bytes());
        let mut board = config.board.clone();
        board.path = PathBuf::new();
        for settings in [format!("{board:?}"), format!("{:?}", config.target), format!("{:?}", config.power)] {
            part(&mut hash, settings.as_bytes());
        }
        part(&mut hash, &json(&config.run));
        part(&mut hash, &json(&without_paths(case)));
        for (file, limit, what) in input_files(case) {
            part(&mut hash, &read_limited(file, limit, what)?);
        }
        Ok(hex(&hash.finalize()))
    }
}

/// Plain settings as JSON: structs of numbers, strings and enums, which
/// always serialize.
fn json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("settings are plain data")
}

/// The case with every path emptied: their files' contents stand in for them.
fn without_paths(case: &CaseConfig) -> CaseConfig {
    let mut case = case.clone();
    if let Workload::Model { path, input, .. } = &mut case.workload {
        *path = PathBuf::new();
        if let Some(input) = input {
            *input = PathBuf::new();
        }
    }
    if let Some(acc) = &mut case.accuracy {
        acc.inputs = PathBuf::new();
        acc.labels = PathBuf::new();
    }
    case
}

/// Every file a case reads, with the bound it is read with.
fn input_files(case: &CaseConfig) -> Vec<(&Path, u64, &'static str)> {
    let mut files = Vec::new();
    if let Workload::Model { path, input, .. } = &case.workload {
        files.push((path.as_path(), MAX_MODEL_BYTES, "model"));
        files.extend(input.as_deref().map(|i| (i, MAX_MODEL_BYTES, "input file")));
    }
    if let Some(acc) = &case.accuracy {
        files.push((acc.inputs.as_path(), MAX_TEST_SET_BYTES, "test set"));
        files.push((acc.labels.as_path(), MAX_TEST_SET_BYTES, "test set"));
    }
    files
}

/// A length-prefixed part, so two parts cannot run into each other.
fn part(hash: &mut Sha256, bytes: &[u8]) {
    hash.update((bytes.len() as u64).to_le_bytes());
    hash.update(bytes);
}

fn collect_files(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            // Build output, not sources.
            if entry.file_name() != "target" {
                collect_files(&path, files)?;
            }
        } else if kind.is_file() {
            files.push(path);
        }
    }
    Ok(())
}

fn sources_error(path: &Path, e: &std::io::Error) -> RunnerError {
    RunnerError::FirmwareSourcesMissing(format!("cannot read {}: {e}", path.display()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dir: &Path, model_dir: &str) -> RunConfig {
        std::fs::create_dir_all(dir.join("boards")).unwrap();
        let board = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/boards/sim-m4.toml");
        std::fs::copy(board, dir.join("boards/sim-m4.toml")).unwrap();
        let text = format!(
            "[board]\nname = \"sim-m4\"\n[target]\nkind = \"sim\"\n[power]\nkind = \"model\"\n\
             [[case]]\nname = \"m\"\nworkload = \"model\"\n\
             model = \"{model_dir}/m.tbm\"\n"
        );
        std::fs::write(dir.join("run.toml"), text).unwrap();
        RunConfig::from_file(&dir.join("run.toml")).unwrap()
    }

    #[test]
    fn firmware_sources_count_build_output_does_not() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("src")).unwrap();
        std::fs::create_dir_all(dir.path().join("target/release")).unwrap();
        std::fs::write(dir.path().join("src/main.rs"), "fn main() {}").unwrap();
        let before = sources_sha256(dir.path(), "rustc 1.95.0").unwrap();
        std::fs::write(dir.path().join("target/release/fw"), "binary").unwrap();
        assert_eq!(sources_sha256(dir.path(), "rustc 1.95.0").unwrap(), before);
        assert_ne!(sources_sha256(dir.path(), "rustc 1.96.0").unwrap(), before, "the toolchain counts");
        std::fs::write(dir.path().join("src/main.rs"), "fn main() { }").unwrap();
        assert_ne!(sources_sha256(dir.path(), "rustc 1.95.0").unwrap(), before);
        let run = |identity: &str, kind: &str| RunFingerprint::new(identity, kind).unwrap().0;
        assert_ne!(run(&before, "sim"), run(&before, "probe-rs"), "the backend counts");
    }

    #[test]
    fn a_case_changes_with_its_files_contents_not_with_how_paths_are_spelled() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("models")).unwrap();
        std::fs::write(dir.path().join("models/m.tbm"), b"model v1").unwrap();
        let run = RunFingerprint::new("sources", "sim").unwrap();
        let plain = config(dir.path(), "models");
        let first = run.case(&plain, &plain.cases[0]).unwrap();
        let dotted = config(dir.path(), "./models/../models");
        assert_eq!(run.case(&dotted, &dotted.cases[0]).unwrap(), first);
        std::fs::write(dir.path().join("models/m.tbm"), b"model v2").unwrap();
        assert_ne!(run.case(&plain, &plain.cases[0]).unwrap(), first);
        let mut seeded = plain.clone();
        seeded.cases[0].seed += 1;
        assert_ne!(run.case(&seeded, &seeded.cases[0]).unwrap(), run.case(&plain, &plain.cases[0]).unwrap());
    }
}
