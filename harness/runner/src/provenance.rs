//! Facts about the build environment recorded with every result row.

use std::path::Path;
use std::process::Command;

/// Revision of the git checkout containing `dir`, `+dirty` when it has
/// uncommitted changes, or `unknown` outside git.
pub fn git_revision(dir: &Path) -> String {
    let Some(rev) = run(Command::new("git").current_dir(dir).args(["rev-parse", "--short=12", "HEAD"])) else {
        return "unknown".to_owned();
    };
    let dirty = run(Command::new("git").current_dir(dir).args(["status", "--porcelain", "--untracked-files=no"]))
        .is_some_and(|s| !s.is_empty());
    if dirty { format!("{rev}+dirty") } else { rev }
}

/// `rustc -V` as the firmware build sees it (the pinned toolchain).
pub fn toolchain(dir: &Path) -> String {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    run(Command::new(rustc).current_dir(dir).arg("-V")).unwrap_or_else(|| "unknown".to_owned())
}

fn run(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}
