//! Run folders: where one run's results go, and the rules that keep a run
//! from overwriting another one's.
//!
//! A run folder holds `run.json` (written first: which configuration, which
//! tinybench), `results.*`, `report.md` and `cases/<name>/`. Default folders
//! are unique (`reports/<config>-<UTC time to the millisecond>`, then `-2`,
//! `-3`, ... if taken); an existing run folder is only reused when asked to,
//! either cleared (`--force`) or resumed (`--resume`). Clearing deletes only
//! what a run writes, and only when the folder holds nothing else: a folder
//! with any other file, or one that holds the working folder or the
//! configuration, is never cleared.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The marker file that makes a folder a run folder.
pub const MARKER: &str = "run.json";

/// The entries a run writes into its folder; nothing else is ever deleted.
const RUN_ENTRIES: &[&str] = &[
    MARKER,
    "results.json",
    "results.parquet",
    "layers.parquet",
    "results.csv",
    "report.md",
    "report.html",
    "plots",
    "cases",
    // Written by `tinybench compare` into the run it checked.
    "compare.md",
];

/// What `run.json` records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunMarker {
    /// Version of this file's layout.
    pub format: u32,
    pub tinybench_version: String,
    /// The run configuration's absolute path.
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
    #[error(
        "{}: holds {entry}, which no run writes; move it away or choose another --out (tinybench deletes only its own files)",
        path.display()
    )]
    ForeignEntry { path: PathBuf, entry: String },
    #[error("{}: holds {what}; choose an --out folder of its own", path.display())]
    HoldsInputs { path: PathBuf, what: String },
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
    let config_name = absolute(config).display().to_string();
    // Not a folder that holds the configuration or the working folder: a
    // later --force would take them with it.
    for (what, inside) in [("the configuration", absolute(config)), ("the working folder", absolute(Path::new(".")))] {
        if inside.starts_with(absolute(path)) {
            return Err(FolderError::HoldsInputs { path: path.to_owned(), what: what.to_owned() });
        }
    }
    let is_run = path.join(MARKER).is_file() && read_marker(path).is_ok();
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
            if !same_config(Path::new(&earlier.config), config) {
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
            clear_run(path)?;
        }
        FolderMode::New | FolderMode::Replace => {}
    }
    std::fs::create_dir_all(path).map_err(io)?;
    write_marker(path, &config_name)
}

/// Deletes an earlier run's entries, after checking that the folder holds
/// nothing else (checked first: nothing is deleted if anything is foreign).
fn clear_run(path: &Path) -> Result<(), FolderError> {
    let io = |p: &Path, source| FolderError::Io { path: p.to_owned(), source };
    let entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| io(path, e))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(|e| io(path, e))?;
    for entry in &entries {
        let name = entry.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        // Temporary files of an interrupted atomic write are the run's too.
        if !RUN_ENTRIES.contains(&name.as_str()) && !name.ends_with(".tmp") {
            return Err(FolderError::ForeignEntry { path: path.to_owned(), entry: name });
        }
    }
    for entry in entries {
        let removed = if entry.is_dir() { std::fs::remove_dir_all(&entry) } else { std::fs::remove_file(&entry) };
        removed.map_err(|e| io(&entry, e))?;
    }
    Ok(())
}

fn absolute(path: &Path) -> PathBuf {
    // Canonical where it exists (symbolic links resolved), else made absolute.
    std::fs::canonicalize(path).or_else(|_| std::path::absolute(path)).unwrap_or_else(|_| path.to_owned())
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
                write_marker(&path, &absolute(config).display().to_string())?;
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

/// The same configuration file (`run.json` records its absolute path).
fn same_config(earlier: &Path, config: &Path) -> bool {
    earlier == absolute(config) || same_file::is_same_file(earlier, config).unwrap_or(false)
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
        // A run folder the user added a file to is not cleared either.
        std::fs::write(run.join("notes.txt"), "mine").unwrap();
        let err = prepare(&run, FolderMode::Replace, Path::new("a.toml")).unwrap_err();
        assert!(matches!(&err, FolderError::ForeignEntry { entry, .. } if entry == "notes.txt"), "{err}");
        assert!(run.join(MARKER).is_file(), "nothing deleted");
        // A stray run.json does not make a folder a run folder.
        let stray = dir.path().join("stray");
        std::fs::create_dir(&stray).unwrap();
        std::fs::write(stray.join(MARKER), "{\"name\": \"my package\"}").unwrap();
        assert!(matches!(
            prepare(&stray, FolderMode::Replace, Path::new("a.toml")),
            Err(FolderError::NotARunFolder { .. })
        ));
        // A folder of the user's own files is never cleared.
        let mine = dir.path().join("mine");
        std::fs::create_dir(&mine).unwrap();
        std::fs::write(mine.join("thesis.tex"), "precious").unwrap();
        let err = prepare(&mine, FolderMode::Replace, Path::new("a.toml")).unwrap_err();
        assert!(matches!(err, FolderError::NotARunFolder { .. }), "{err}");
        assert!(mine.join("thesis.tex").is_file());
    }

    #[test]
    fn a_folder_holding_the_configuration_or_the_working_folder_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("configs/a.toml");
        std::fs::create_dir_all(config.parent().unwrap()).unwrap();
        std::fs::write(&config, "").unwrap();
        for mode in [FolderMode::New, FolderMode::Replace] {
            let err = prepare(dir.path(), mode, &config).unwrap_err();
            assert!(matches!(err, FolderError::HoldsInputs { .. }), "{err}");
            let err = prepare(Path::new("."), mode, &config).unwrap_err();
            assert!(err.to_string().contains("the working folder"), "{err}");
        }
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
        let text = err.to_string();
        assert!(
            text.contains("/a.toml, not of /") && text.contains("/b.toml; resume it with that configuration"),
            "{err}"
        );
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
