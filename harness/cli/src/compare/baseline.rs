//! `tinybench compare BASELINE CURRENT --update-baseline`: the current run
//! becomes the baseline. A baseline folder (`reports/baselines/<config>/`,
//! committed) holds only the run's tables and a README saying how they were
//! made, so the update never clobbers anything else: a folder holding other
//! files (a run folder given by mistake, say) is refused.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use tinybench_runner::RunResults;

use crate::Failure;
use crate::exit::Exit;

/// The run's files a baseline keeps (the tables first, results.json last:
/// an update cut short leaves the old results.json, never a half-new set
/// that compare would read).
const TABLES: [&str; 3] = ["results.parquet", "layers.parquet", "results.json"];
const README: &str = "README.md";

/// Whether `name` may be in a baseline folder: its files, or one a cut-short
/// atomic write left (`*.tmp`, removed by the next update).
fn belongs(name: &str) -> bool {
    let name = name.strip_suffix(".tmp").unwrap_or(name);
    name == README || TABLES.contains(&name)
}

/// A baseline folder checked for an update.
pub struct Target {
    folder: PathBuf,
    new: bool,
}

impl Target {
    /// The folder `baseline` names (itself, or a results.json's folder),
    /// refused if it is a file other than a results.json, holds anything
    /// but a baseline's files, or is the current run's own folder.
    pub fn check(baseline: &Path, current_folder: &Path) -> anyhow::Result<Target> {
        let is_results = baseline.file_name().is_some_and(|n| n == "results.json");
        let folder = if baseline.is_dir() {
            baseline.to_owned()
        } else if baseline.exists() && !is_results {
            bail!(
                "{}: a file, not a baseline folder or its results.json; --update-baseline writes into a folder, \
                 give one (e.g. reports/baselines/<config>)",
                baseline.display()
            );
        } else if is_results {
            baseline.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_owned()
        } else {
            baseline.to_owned()
        };
        if folder.exists() {
            if same_file::is_same_file(&folder, current_folder).unwrap_or(false) {
                bail!("{}: the baseline is the current run's own folder; give the baseline folder", folder.display());
            }
            let mut foreign = Vec::new();
            let entries =
                std::fs::read_dir(&folder).with_context(|| format!("{}: cannot list it", folder.display()))?;
            for entry in entries {
                let entry = entry.with_context(|| format!("{}: cannot list it", folder.display()))?;
                let name = entry.file_name().to_string_lossy().into_owned();
                if !belongs(&name) || !entry.file_type().is_ok_and(|t| t.is_file()) {
                    foreign.push(name);
                }
            }
            if !foreign.is_empty() {
                foreign.sort();
                bail!(
                    "{}: holds {}, which a baseline does not ({}, {README}); --update-baseline writes only into a new \
                     folder or a previous baseline's, e.g. reports/baselines/<config>",
                    folder.display(),
                    foreign.join(", "),
                    TABLES.join(", ")
                );
            }
        }
        let new = !folder.join("results.json").is_file();
        Ok(Target { folder, new })
    }

    /// There is no results.json to compare with yet.
    pub fn is_new(&self) -> bool {
        self.new
    }

    pub fn folder(&self) -> &Path {
        &self.folder
    }

    /// Copies the current run's tables from `current_folder` (results.json
    /// from `current_file`) and writes the README; returns what it did, file
    /// by file. `baseline_arg` and `current_arg` are the paths as given, for
    /// the README.
    pub fn update(
        &self,
        current_folder: &Path,
        current_file: &Path,
        current: &RunResults,
        baseline_arg: &Path,
        current_arg: &Path,
    ) -> Result<Vec<String>, Failure> {
        let failed = |e: anyhow::Error| Failure::new(Exit::WriteFailed, e);
        std::fs::create_dir_all(&self.folder)
            .with_context(|| format!("{}: cannot create the baseline folder", self.folder.display()))
            .map_err(failed)?;
        let mut done = Vec::new();
        for name in TABLES {
            let from = if name == "results.json" { current_file.to_owned() } else { current_folder.join(name) };
            let to = self.folder.join(name);
            if from.is_file() {
                let bytes = std::fs::read(&from)
                    .with_context(|| format!("{}: cannot read the run's {name}", from.display()))
                    .map_err(|e| Failure::new(Exit::BadInput, e))?;
                tinybench_runner::write_atomically(&to, &bytes)
                    .with_context(|| format!("{}: cannot write the baseline's {name}", to.display()))
                    .map_err(failed)?;
                done.push(name.to_owned());
            } else if to.exists() {
                // The run has no such table: the old one would not match the new results.json.
                std::fs::remove_file(&to)
                    .with_context(|| format!("{}: cannot remove the previous baseline's {name}", to.display()))
                    .map_err(failed)?;
                done.push(format!("(removed the previous {name}: the run has none)"));
            }
        }
        let readme = self.folder.join(README);
        tinybench_runner::write_atomically(&readme, readme_text(current, baseline_arg, current_arg).as_bytes())
            .with_context(|| format!("{}: cannot write the baseline's README", readme.display()))
            .map_err(failed)?;
        done.push(README.to_owned());
        // Leftovers of a cut-short earlier update.
        for name in TABLES.iter().chain([&README]) {
            let _ = std::fs::remove_file(self.folder.join(format!("{name}.tmp")));
        }
        Ok(done)
    }
}

/// The baseline folder's README: where its files came from and how to use
/// and update it.
fn readme_text(current: &RunResults, baseline_arg: &Path, current_arg: &Path) -> String {
    let config = Path::new(&current.config)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| current.board.clone());
    let origin = match current.results.first() {
        Some(r) => {
            format!("revision `{}`, {}, {}", r.provenance.git_revision, r.provenance.toolchain, r.provenance.timestamp)
        }
        None => "no case finished".to_owned(),
    };
    let (baseline, run) = (baseline_arg.display(), current_arg.display());
    format!(
        "# Baseline of `tinybench compare`: {config}\n\n\
         The files here are the results of the run `{run}` of `{}` on `{}` ({origin}), copied by\n\n\
         ```sh\ntinybench compare {baseline} {run} --update-baseline\n```\n\n\
         Check a run against it (exit 1 on a regression beyond the thresholds):\n\n\
         ```sh\ntinybench run {} --out RUN\ntinybench compare {baseline} RUN\n```\n\n\
         Update it when a change is meant to move the figures: run the configuration on that change, then\n\n\
         ```sh\ntinybench compare {baseline} RUN --update-baseline\n```\n\n\
         and commit this folder with the change. It holds only `results.json`, `results.parquet` and\n\
         `layers.parquet` (where the run has them) and this README; `--update-baseline` refuses a folder\n\
         holding anything else.\n",
        current.config, current.board, current.config
    )
}
