//! The firmware's Rust target, checked once before any build: without it
//! every case's build would fail the same way ("can't find crate for
//! `core`"). Where rustup manages the toolchain it is installed once, with
//! one line saying so; elsewhere the run stops naming the command to run.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::RunnerError;

/// The firmware's target triple (also in `rust-toolchain.toml` and
/// `target-fw/.cargo/config.toml`).
pub const FIRMWARE_TARGET: &str = "thumbv7em-none-eabihf";

/// The programs that answer for the toolchain.
#[derive(Debug, Clone)]
pub struct Toolchain {
    /// The compiler cargo will use: `$RUSTC`, else `rustc` on PATH (a rustup
    /// proxy that honors the checkout's `rust-toolchain.toml`).
    pub rustc: PathBuf,
    /// rustup, which can add a target.
    pub rustup: PathBuf,
}

impl Toolchain {
    /// The programs cargo would use.
    pub fn from_env() -> Self {
        Toolchain {
            rustc: std::env::var_os("RUSTC").map_or_else(|| PathBuf::from("rustc"), PathBuf::from),
            rustup: PathBuf::from("rustup"),
        }
    }

    /// Makes sure the firmware target's standard library is installed for
    /// the toolchain that builds `firmware_dir`; installs it through rustup
    /// if it is missing, calling `note` with one line first.
    pub fn ensure_firmware_target(&self, firmware_dir: &Path, note: &mut dyn FnMut(String)) -> Result<(), RunnerError> {
        let libdir = self.target_libdir(firmware_dir)?;
        if has_core(&libdir) {
            return Ok(());
        }
        let install = format!("rustup target add {FIRMWARE_TARGET}");
        // Said before the download starts, which may take a while.
        note(format!("installing the firmware target once: {install} (for the toolchain in rust-toolchain.toml)"));
        let output = match Command::new(&self.rustup)
            .current_dir(firmware_dir)
            .args(["target", "add", FIRMWARE_TARGET])
            .stdin(std::process::Stdio::null())
            .output()
        {
            Ok(output) => output,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(RunnerError::FirmwareTargetMissing {
                    detail: format!(
                        "the Rust standard library for {FIRMWARE_TARGET} is not installed ({} has no libcore) \
                         and rustup is not on PATH; install it with your toolchain manager (with rustup: `{install}`)",
                        libdir.display()
                    ),
                });
            }
            Err(e) => {
                return Err(RunnerError::FirmwareTargetMissing { detail: format!("cannot run `{install}`: {e}") });
            }
        };
        if !output.status.success() || !has_core(&self.target_libdir(firmware_dir)?) {
            let stderr = String::from_utf8_lossy(&output.stderr);
            return Err(RunnerError::FirmwareTargetMissing {
                detail: format!(
                    "`{install}` did not install it ({}): {}; run it yourself and retry",
                    output.status,
                    stderr.trim().lines().last().unwrap_or("no output")
                ),
            });
        }
        Ok(())
    }

    fn target_libdir(&self, firmware_dir: &Path) -> Result<PathBuf, RunnerError> {
        let output = Command::new(&self.rustc)
            .current_dir(firmware_dir)
            .args(["--print", "target-libdir", "--target", FIRMWARE_TARGET])
            .output()
            .map_err(|e| RunnerError::FirmwareTargetMissing {
                detail: format!(
                    "cannot run {}: {e}; install Rust with rustup (https://rustup.rs), which reads the toolchain \
                     from rust-toolchain.toml",
                    self.rustc.display()
                ),
            })?;
        if !output.status.success() {
            return Err(RunnerError::FirmwareTargetMissing {
                detail: format!(
                    "`{} --print target-libdir --target {FIRMWARE_TARGET}` failed: {}",
                    self.rustc.display(),
                    String::from_utf8_lossy(&output.stderr).trim()
                ),
            });
        }
        Ok(PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()))
    }
}

/// Whether a target library folder holds `libcore-*.rlib`.
fn has_core(libdir: &Path) -> bool {
    std::fs::read_dir(libdir).into_iter().flatten().flatten().any(|e| {
        let name = e.file_name();
        let name = name.to_string_lossy();
        name.starts_with("libcore-") && name.ends_with(".rlib")
    })
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    /// A fake `rustc` printing `libdir`, and a fake `rustup` that logs its
    /// arguments and, if `installs`, creates libcore there.
    fn fakes(dir: &Path, installs: bool) -> (Toolchain, PathBuf, PathBuf) {
        let libdir = dir.join("sysroot/lib/rustlib/thumbv7em-none-eabihf/lib");
        let log = dir.join("rustup.log");
        let script = |name: &str, body: String| {
            let path = dir.join(name);
            std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
            path
        };
        let rustc = script("rustc", format!("echo '{}'", libdir.display()));
        let install = if installs {
            format!("mkdir -p '{0}' && touch '{0}/libcore-0123.rlib'", libdir.display())
        } else {
            "echo 'error: component download failed' >&2; exit 1".to_owned()
        };
        let rustup = script("rustup", format!("echo \"$@\" >> '{}'\n{install}", log.display()));
        (Toolchain { rustc, rustup }, libdir, log)
    }

    #[test]
    fn an_installed_target_needs_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (toolchain, libdir, log) = fakes(dir.path(), true);
        std::fs::create_dir_all(&libdir).unwrap();
        std::fs::write(libdir.join("libcore-abc.rlib"), b"").unwrap();
        let mut notes = Vec::new();
        toolchain.ensure_firmware_target(dir.path(), &mut |n| notes.push(n)).unwrap();
        assert!(notes.is_empty() && !log.exists());
    }

    #[test]
    fn a_missing_target_is_installed_once_with_one_line() {
        let dir = tempfile::tempdir().unwrap();
        let (toolchain, _, log) = fakes(dir.path(), true);
        let mut notes = Vec::new();
        toolchain.ensure_firmware_target(dir.path(), &mut |n| notes.push(n)).unwrap();
        toolchain.ensure_firmware_target(dir.path(), &mut |n| notes.push(n)).unwrap();
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("rustup target add thumbv7em-none-eabihf"), "{notes:?}");
        assert_eq!(std::fs::read_to_string(&log).unwrap(), "target add thumbv7em-none-eabihf\n");
    }

    #[test]
    fn without_rustup_the_error_names_the_command() {
        let dir = tempfile::tempdir().unwrap();
        let (mut toolchain, _, _) = fakes(dir.path(), true);
        toolchain.rustup = dir.path().join("no-such-rustup");
        let mut notes = Vec::new();
        let err = toolchain.ensure_firmware_target(dir.path(), &mut |n| notes.push(n)).unwrap_err().to_string();
        assert_eq!(notes.len(), 1, "the note names what is tried: {notes:?}");
        assert!(
            err.contains("rustup is not on PATH") && err.contains("`rustup target add thumbv7em-none-eabihf`"),
            "{err}"
        );
        assert!(!err.contains('\n'), "one line: {err}");
    }

    #[test]
    fn a_failed_install_says_what_rustup_said() {
        let dir = tempfile::tempdir().unwrap();
        let (toolchain, _, _) = fakes(dir.path(), false);
        let err = toolchain.ensure_firmware_target(dir.path(), &mut |_| {}).unwrap_err().to_string();
        assert!(err.contains("did not install it") && err.contains("component download failed"), "{err}");
    }
}
