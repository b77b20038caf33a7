//! Fingerprints of what decides a case's result, so `--resume` reuses a
//! finished case only when nothing it depends on changed: the case's entry
//! in the configuration, the board, run and power settings, the bytes of
//! every file it reads, the firmware sources, and the tinybench version.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tinybench_config::{CaseConfig, RunConfig, Workload};

use crate::RunnerError;

/// SHA-256 over the firmware workspace's sources (everything under
/// `firmware_dir` but build output), in path order.
pub fn firmware_sources(firmware_dir: &Path) -> Result<String, RunnerError> {
    let mut files = Vec::new();
    collect_files(firmware_dir, &mut files).map_err(|e| RunnerError::io(firmware_dir, e))?;
    files.sort();
    let mut hash = Sha256::new();
    for file in files {
        let bytes = std::fs::read(&file).map_err(|e| RunnerError::io(&file, e))?;
        let relative = file.strip_prefix(firmware_dir).unwrap_or(&file);
        hash.update(relative.to_string_lossy().as_bytes());
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(&bytes);
    }
    Ok(hex(&hash.finalize()))
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

/// The fingerprint of one case.
pub fn case(config: &RunConfig, case: &CaseConfig, firmware_sources: &str) -> Result<String, RunnerError> {
    let mut hash = Sha256::new();
    // Debug forms name every field, so a changed setting changes the hash.
    for part in [
        env!("CARGO_PKG_VERSION").to_owned(),
        format!("{:?}", config.board),
        format!("{:?}", config.target),
        format!("{:?}", config.power),
        format!("{:?}", config.run),
        format!("{case:?}"),
        firmware_sources.to_owned(),
    ] {
        hash.update((part.len() as u64).to_le_bytes());
        hash.update(part.as_bytes());
    }
    for file in input_files(case) {
        let bytes = std::fs::read(file).map_err(|e| RunnerError::io(file, e))?;
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(&bytes);
    }
    Ok(hex(&hash.finalize()))
}

/// Every file a case reads.
fn input_files(case: &CaseConfig) -> Vec<&Path> {
    let mut files = Vec::new();
    if let Workload::Model { path, input, .. } = &case.workload {
        files.push(path.as_path());
        files.extend(input.as_deref());
    }
    if let Some(acc) = &case.accuracy {
        files.extend([acc.inputs.as_path(), acc.labels.as_path()]);
    }
    files
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn firmware_sources_change_with_a_source_file_not_with_build_output() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("src")).unwrap();
        std::fs::create_dir_all(dir.path().join("target/release")).unwrap();
        std::fs::write(dir.path().join("src/main.rs"), "fn main() {}").unwrap();
        let before = firmware_sources(dir.path()).unwrap();
        std::fs::write(dir.path().join("target/release/fw"), "binary").unwrap();
        assert_eq!(firmware_sources(dir.path()).unwrap(), before);
        std::fs::write(dir.path().join("src/main.rs"), "fn main() { }").unwrap();
        assert_ne!(firmware_sources(dir.path()).unwrap(), before);
    }
}
