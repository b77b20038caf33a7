//! Run folders: where one run's results go, and the rules that keep a run
//! from overwriting another one's.
//!
//! A run folder holds `run.json` (written first: which configuration, which
//! tinybench), `results.*` and `cases/<name>/`. Default folders are unique
//! (`reports/<config>-<UTC time to the millisecond>`, then `-2`, `-3`, ... if
//! taken); an existing run folder is only reused when asked to, either
//! cleared (`--force`) or resumed (`--resume`). A folder that holds anything
//! but a run is never cleared.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The marker file that makes a folder a run folder.
pub const MARKER: &str = "run.json";

/// What `run.json` records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunMarker {
    /// Version of this file's layout.
    pub format: u32,
    pub tinybench_version: String,
    /// The run configuration, as given on the command line.
    pub config: String,
    /// RFC 3339 UTC time the run folder was created.
    pub created: String,
}

const MARKER_FORMAT: u32 = 1;

/// How to treat the folder a run writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FolderMode {
    /// It must not exist or be empty.
    New,
    /// An earlier run's folder is cleared first (`--force`).
    Replace,
    /// An earlier, unfinished run of the same configuration is continued (`--resume`).
    Resume,
}

/// Why a run folder cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum FolderError {
    #[error("{}: holds an earlier run; pass --force to replace it, --resume to finish it, or choose another --out", path.display())]
    HoldsARun { path: PathBuf },
    #[error("{}: not empty and not a tinybench run folder; choose another --out (tinybench never clears such a folder)", path.display())]
    NotARunFolder { path: PathBuf },
    #[error("{}: no {MARKER} here, so no run to resume; give the folder of an interrupted run", path.display())]
    NothingToResume { path: PathBuf },
    #[error(
        "{}: is a run of {earlier}, not of {config}; resume it with that configuration or start a new run",
        path.display()
    )]
    OtherConfig { path: PathBuf, earlier: String, config: String },
    #[error("{}: unreadable {MARKER} ({detail}); start a new run elsewhere", path.display())]
    BadMarker { path: PathBuf, detail: String },
    #[error("cannot prepare the run folder {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
}

impl FolderError {
    /// Whether this is the user's choice of folder (exit 2) rather than the
    /// file system failing (exit 5).
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, FolderError::Io { .. })
    }
}

/// Makes `path` ready for a run of `config` according to `mode`.
pub fn prepare(path: &Path, mode: FolderMode, config: &Path) -> Result<(), FolderError> {
    let io = |source| FolderError::Io { path: path.to_owned(), source };
    let config_name = config.display().to_string();
    let marker = path.join(MARKER);
    let is_run = marker.is_file();
    let is_empty = match std::fs::read_dir(path) {
        Ok(mut entries) => entries.next().is_none(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
        Err(e) => return Err(io(e)),
    };
    match mode {
        FolderMode::Resume => {
            if !is_run {
                return Err(FolderError::NothingToResume { path: path.to_owned() });
            }
            let earlier = read_marker(path)?;
            if !same_config(&earlier.config, config) {
                return Err(FolderError::OtherConfig {
                    path: path.to_owned(),
                    earlier: earlier.config,
                    config: config_name,
                });
            }
            return Ok(());
        }
        FolderMode::New if !is_empty => {
            return Err(if is_run {
                FolderError::HoldsARun { path: path.to_owned() }
            } else {
                FolderError::NotARunFolder { path: path.to_owned() }
            });
        }
        FolderMode::Replace if !is_empty => {
            if !is_run {
                return Err(FolderError::NotARunFolder { path: path.to_owned() });
            }
            std::fs::remove_dir_all(path).map_err(io)?;
        }
        FolderMode::New | FolderMode::Replace => {}
    }
    std::fs::create_dir_all(path).map_err(io)?;
    write_marker(path, &config_name)
}

/// Creates a new, unique run folder under `parent` named after the
/// configuration and the current UTC time; returns its path.
pub fn create_unique(parent: &Path, config_name: &str, config: &Path) -> Result<PathBuf, FolderError> {
    let io = |path: &Path, source| FolderError::Io { path: path.to_owned(), source };
    std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
    // Millisecond resolution, without ':' (not allowed in Windows paths and
    // awkward in shells): 2026-12-02T094126.123
    let stamp = humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string().replace(':', "");
    let base = format!("{config_name}-{}", stamp.trim_end_matches('Z'));
    for attempt in 1u32.. {
        let name = if attempt == 1 { base.clone() } else { format!("{base}-{attempt}") };
        let path = parent.join(name);
        // create_dir (not _all) fails if another run took the name first.
        match std::fs::create_dir(&path) {
            Ok(()) => {
                write_marker(&path, &config.display().to_string())?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io(&path, e)),
        }
    }
    unreachable!("u32 attempts run out only after 4 billion runs in one millisecond")
}

fn read_marker(path: &Path) -> Result<RunMarker, FolderError> {
    let file = path.join(MARKER);
    let text = std::fs::read_to_string(&file).map_err(|source| FolderError::Io { path: file.clone(), source })?;
    serde_json::from_str(&text).map_err(|e| FolderError::BadMarker { path: path.to_owned(), detail: e.to_string() })
}

fn write_marker(path: &Path, config: &str) -> Result<(), FolderError> {
    let marker = RunMarker {
        format: MARKER_FORMAT,
        tinybench_version: env!("CARGO_PKG_VERSION").to_owned(),
        config: config.to_owned(),
        created: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
    };
    let text = serde_json::to_string_pretty(&marker).expect("a marker serializes") + "\n";
    let file = path.join(MARKER);
    crate::write_atomically(&file, text.as_bytes()).map_err(|source| FolderError::Io { path: file, source })
}

/// The same configuration file, whether named relatively or absolutely.
fn same_config(earlier: &str, config: &Path) -> bool {
    let earlier = Path::new(earlier);
    earlier == config || same_file::is_same_file(earlier, config).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_run_refuses_a_folder_holding_anything() {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("run");
        prepare(&run, FolderMode::New, Path::new("a.toml")).unwrap();
        assert!(run.join(MARKER).is_file());
        let err = prepare(&run, FolderMode::New, Path::new("a.toml")).unwrap_err();
        assert!(matches!(err, FolderError::HoldsARun { .. }), "{err}");
        assert!(err.to_string().contains("pass --force to replace it"), "{err}");
        // An existing empty folder is fine.
        let empty = dir.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        prepare(&empty, FolderMode::New, Path::new("a.toml")).unwrap();
    }

    #[test]
    fn force_clears_only_run_folders() {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("run");
        prepare(&run, FolderMode::New, Path::new("a.toml")).unwrap();
        std::fs::create_dir_all(run.join("cases/old")).unwrap();
        std::fs::write(run.join("cases/old/result.json"), "{}").unwrap();
        prepare(&run, FolderMode::Replace, Path::new("a.toml")).unwrap();
        assert!(!run.join("cases").exists(), "the earlier run's cases are cleared");
        assert!(run.join(MARKER).is_file());
        // A folder of the user's own files is never cleared.
        let mine = dir.path().join("mine");
        std::fs::create_dir(&mine).unwrap();
        std::fs::write(mine.join("thesis.tex"), "precious").unwrap();
        let err = prepare(&mine, FolderMode::Replace, Path::new("a.toml")).unwrap_err();
        assert!(matches!(err, FolderError::NotARunFolder { .. }), "{err}");
        assert!(mine.join("thesis.tex").is_file());
    }

    #[test]
    fn resume_needs_a_run_of_the_same_config() {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("run");
        assert!(matches!(
            prepare(&run, FolderMode::Resume, Path::new("a.toml")),
            Err(FolderError::NothingToResume { .. })
        ));
        prepare(&run, FolderMode::New, Path::new("a.toml")).unwrap();
        std::fs::write(run.join("results.json"), "{}").unwrap();
        prepare(&run, FolderMode::Resume, Path::new("a.toml")).unwrap();
        assert!(run.join("results.json").is_file(), "resuming keeps what is there");
        let err = prepare(&run, FolderMode::Resume, Path::new("b.toml")).unwrap_err();
        assert!(err.to_string().contains("is a run of a.toml, not of b.toml"), "{err}");
    }

    #[test]
    fn default_folders_are_unique_within_the_same_millisecond() {
        let dir = tempfile::tempdir().unwrap();
        let folders: Vec<PathBuf> =
            (0..5).map(|_| create_unique(dir.path(), "sim-m4", Path::new("configs/sim-m4.toml")).unwrap()).collect();
        let mut names: Vec<_> = folders.iter().map(|f| f.file_name().unwrap().to_owned()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 5, "{folders:?}");
        assert!(folders.iter().all(|f| f.join(MARKER).is_file()));
        let name = folders[0].file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with("sim-m4-20") && name.contains('.') && !name.contains(':'), "{name}");
    }
}
