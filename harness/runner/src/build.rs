//! [`CargoBuilder`], the firmware builder: cargo as a subprocess in the
//! firmware workspace, parametrized through environment variables that the
//! firmware's build script turns into constants.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tinybench_config::{Board, CaseConfig, RunConfig, RunSettings};
use tinybench_target::StopFlag;

use crate::seams::{BuildRequest, BuilderIdentity, FirmwareBuilder};
use crate::toolchain::Toolchain;
use crate::{RunnerError, fingerprint, preflight, provenance};

/// Builds firmware with cargo in the firmware workspace.
#[derive(Debug, Clone)]
pub struct CargoBuilder {
    firmware_dir: PathBuf,
    cargo: OsString,
    toolchain: Toolchain,
}

impl CargoBuilder {
    /// The firmware workspace of this checkout (or `$TINYBENCH_FIRMWARE_DIR`),
    /// the cargo that built tinybench, the toolchain cargo will use.
    pub fn locate() -> Result<Self, RunnerError> {
        Ok(CargoBuilder { firmware_dir: locate_firmware_dir()?, cargo: cargo(), toolchain: Toolchain::from_env() })
    }

    pub fn firmware_dir(&self) -> &Path {
        &self.firmware_dir
    }
}

impl FirmwareBuilder for CargoBuilder {
    /// The firmware supports the board and the firmware's Rust target is
    /// installed (installed once if rustup can).
    fn check(&mut self, config: &RunConfig, note: &mut dyn FnMut(String)) -> Result<(), RunnerError> {
        preflight::check_board_supported(&self.firmware_dir, &config.board)?;
        self.toolchain.ensure_firmware_target(&self.firmware_dir, note)
    }

    fn identity(&mut self) -> Result<BuilderIdentity, RunnerError> {
        let toolchain = provenance::toolchain(&self.firmware_dir);
        Ok(BuilderIdentity {
            git_revision: provenance::git_revision(&self.firmware_dir),
            sources_sha256: fingerprint::sources_sha256(&self.firmware_dir, &toolchain)?,
            toolchain,
        })
    }

    fn build(&mut self, request: &BuildRequest<'_>) -> Result<PathBuf, RunnerError> {
        let elf_path = request.case_dir.join("firmware.elf");
        FirmwareBuild {
            firmware_dir: &self.firmware_dir,
            board: request.board,
            case: request.case,
            run: request.run,
            workload_env: request.workload_env,
            log_path: &request.case_dir.join("build.log"),
            stop: request.stop,
            cargo: &self.cargo,
        }
        .run(&elf_path)?;
        Ok(elf_path)
    }
}

/// Where the firmware workspace is: `$TINYBENCH_FIRMWARE_DIR`, else the
/// `target-fw/` of the checkout this tinybench was built from.
pub fn locate_firmware_dir() -> Result<PathBuf, RunnerError> {
    if let Some(dir) = std::env::var_os("TINYBENCH_FIRMWARE_DIR") {
        let dir = PathBuf::from(dir);
        return if dir.join("Cargo.toml").is_file() {
            Ok(dir)
        } else {
            Err(RunnerError::FirmwareSourcesMissing(format!(
                "TINYBENCH_FIRMWARE_DIR={} has no Cargo.toml",
                dir.display()
            )))
        };
    }
    let built_from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target-fw");
    if built_from.join("Cargo.toml").is_file() {
        return Ok(built_from.canonicalize().unwrap_or(built_from));
    }
    Err(RunnerError::FirmwareSourcesMissing(format!(
        "{} does not exist; run tinybench from its checkout or set TINYBENCH_FIRMWARE_DIR to the target-fw folder",
        built_from.display()
    )))
}

/// Everything that selects one firmware build.
#[derive(Debug, Clone)]
pub struct FirmwareBuild<'a> {
    pub firmware_dir: &'a Path,
    pub board: &'a Board,
    pub case: &'a CaseConfig,
    pub run: &'a RunSettings,
    /// Variables selecting the workload (see `workload::prepare`).
    pub workload_env: &'a [(&'static str, String)],
    /// The build's full output goes here.
    pub log_path: &'a Path,
    /// A raised flag stops the build (the run was asked to stop).
    pub stop: &'a StopFlag,
    /// The cargo to run ([`cargo`]).
    pub cargo: &'a OsString,
}

/// The cargo that built tinybench (`$CARGO`, set by `cargo run` and
/// `cargo test`), else `cargo` on PATH.
pub fn cargo() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// Rust flags that make the image independent of where the cargo home is:
/// dependencies' source paths end up in the image (panic locations), and a
/// longer path would move code and change the cycles measured. (The
/// firmware's own crates get paths relative to its workspace, and every crate
/// it uses lives inside that workspace's folder, so the checkout's place
/// changes neither paths nor crate hashes.)
fn path_independence_flags() -> Vec<String> {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")));
    cargo_home.map(|home| format!("--remap-path-prefix={}=/cargo-home", home.display())).into_iter().collect()
}

impl FirmwareBuild<'_> {
    /// Environment variables the firmware's build.rs reads.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let board_file = self.board.path.canonicalize().unwrap_or_else(|_| self.board.path.clone());
        // The case's name stays on the host: a label must not move code in
        // the timed image (a longer name once cost a case 2,355 cycles).
        let mut env = vec![
            ("TINYBENCH_BOARD_FILE", board_file.display().to_string()),
            ("TINYBENCH_WARMUP", self.run.warmup.to_string()),
            ("TINYBENCH_ITERATIONS", self.run.iterations.to_string()),
            ("TINYBENCH_KERNELS", self.case.kernels.as_str().to_owned()),
            ("TINYBENCH_SELF_TEST", self.case.self_test.map_or("none", |t| t.as_str()).to_owned()),
        ];
        env.extend(self.workload_env.iter().cloned());
        env
    }

    /// Runs cargo and copies the built ELF to `elf_dest`. The combined output
    /// is written to `log_path` whether the build succeeds or not.
    ///
    /// Builds of different cases share one cargo target folder and so one
    /// output path; a lock held from build to copy keeps concurrent runs
    /// (or parallel tests) from copying each other's ELF.
    pub fn run(&self, elf_dest: &Path) -> Result<(), RunnerError> {
        let lock_dir = self.firmware_dir.join("target");
        std::fs::create_dir_all(&lock_dir).map_err(|e| RunnerError::io(&lock_dir, e))?;
        let lock_path = lock_dir.join(".tinybench-build.lock");
        let lock = std::fs::File::create(&lock_path).map_err(|e| RunnerError::io(&lock_path, e))?;
        lock.lock().map_err(|e| RunnerError::io(&lock_path, e))?;
        let built = self.build()?;
        std::fs::copy(&built, elf_dest).map_err(|e| RunnerError::io(elf_dest, e))?;
        // Dropping `lock` unlocks.
        Ok(())
    }

    fn build(&self) -> Result<PathBuf, RunnerError> {
        let mut cmd = Command::new(self.cargo);
        // Appended to the target's rustflags from target-fw/.cargo/config.toml
        // (cargo joins arrays from --config with the files').
        let rustflags: Vec<String> = path_independence_flags().iter().map(|f| format!("{f:?}")).collect();
        cmd.current_dir(self.firmware_dir)
            .args(["build", "--release", "--message-format=json-render-diagnostics", "--config"])
            .arg(format!("target.thumbv7em-none-eabihf.rustflags=[{}]", rustflags.join(",")))
            .arg("--features")
            .arg(format!("board-{}", self.board.id))
            .stdin(Stdio::null());
        // A parent build's settings must not leak into the firmware build
        // (host RUSTFLAGS would break the thumbv7em link).
        for var in
            ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_BUILD_RUSTFLAGS", "CARGO_BUILD_TARGET", "CARGO_TARGET_DIR"]
        {
            cmd.env_remove(var);
        }
        for (k, v) in self.env() {
            cmd.env(k, v);
        }
        let (status, stdout, stderr) = self.wait(cmd)?;
        let mut log = format!("# firmware build for case {}\n# env:", self.case.name);
        for (k, v) in self.env() {
            log.push_str(&format!(" {k}={v}"));
        }
        log.push_str(&format!("\n# exit: {status}\n\n{stderr}"));
        std::fs::write(self.log_path, &log).map_err(|e| RunnerError::io(self.log_path, e))?;
        if !status.success() {
            if let Some((section, region, bytes)) = crate::preflight::linker_overflow(&stderr) {
                return Err(RunnerError::LinkerOverflow {
                    board: self.board.id.clone(),
                    section,
                    region,
                    bytes,
                    log_path: self.log_path.to_owned(),
                });
            }
            return Err(RunnerError::BuildFailed {
                case: self.case.name.clone(),
                log_path: self.log_path.to_owned(),
                tail: tail(&stderr, 25),
            });
        }
        executable_from_messages(&stdout).ok_or_else(|| RunnerError::BuildFailed {
            case: self.case.name.clone(),
            log_path: self.log_path.to_owned(),
            tail: "cargo reported success but named no executable".to_owned(),
        })
    }
}

impl FirmwareBuild<'_> {
    /// Runs cargo to its end, or kills it when the stop flag rises; returns
    /// its status, stdout and stderr. Output goes to files beside the log,
    /// so neither pipe can fill up while this polls.
    fn wait(&self, mut cmd: Command) -> Result<(std::process::ExitStatus, String, String), RunnerError> {
        let stdout_path = self.log_path.with_extension("stdout.tmp");
        let stderr_path = self.log_path.with_extension("stderr.tmp");
        let create = |path: &Path| std::fs::File::create(path).map_err(|e| RunnerError::io(path, e));
        cmd.stdout(create(&stdout_path)?).stderr(create(&stderr_path)?);
        // Cargo and the compilers it starts get a process group of their own,
        // so a stop reaches all of them and none is left writing to target/.
        cmd.process_group(0);
        let mut child = cmd.spawn().map_err(|e| RunnerError::BuildSpawn(e.to_string()))?;
        let status = loop {
            if self.stop.is_raised() {
                stop_group(&mut child);
                let _ = (std::fs::remove_file(&stdout_path), std::fs::remove_file(&stderr_path));
                return Err(RunnerError::Stopped);
            }
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) => std::thread::sleep(std::time::Duration::from_millis(50)),
                Err(e) => return Err(RunnerError::BuildSpawn(e.to_string())),
            }
        };
        let read = |path: &Path| {
            let bytes = std::fs::read(path).map_err(|e| RunnerError::io(path, e))?;
            let _ = std::fs::remove_file(path);
            Ok::<_, RunnerError>(String::from_utf8_lossy(&bytes).into_owned())
        };
        Ok((status, read(&stdout_path)?, read(&stderr_path)?))
    }
}

/// Stops a build's process group as a terminal's Ctrl-C would (SIGINT, so
/// cargo cleans up), then kills whatever is left after 5 s.
fn stop_group(child: &mut Child) {
    let group = child.id() as libc::pid_t;
    // SAFETY: signals the process group the child leads (process_group(0)); no memory is involved.
    unsafe { libc::killpg(group, libc::SIGINT) };
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline && matches!(child.try_wait(), Ok(None)) {
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: as above; compilers that outlived cargo are still in the group.
    unsafe { libc::killpg(group, libc::SIGKILL) };
    let _ = child.wait();
}

/// The `tinybench-fw` executable from cargo's JSON messages.
fn executable_from_messages(stdout: &str) -> Option<PathBuf> {
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "tinybench-fw")
        .filter_map(|m| m["executable"].as_str().map(PathBuf::from))
        .next_back()
}

/// The last `lines` lines, indented so they read as quoted compiler output.
fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].iter().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_executable_in_cargo_messages() {
        let stdout = r#"{"reason":"compiler-artifact","target":{"name":"cortex-m-rt"},"executable":null}
{"reason":"compiler-artifact","target":{"name":"tinybench-fw"},"executable":"/x/target/thumbv7em-none-eabihf/release/tinybench-fw"}
{"reason":"build-finished","success":true}"#;
        assert_eq!(
            executable_from_messages(stdout),
            Some(PathBuf::from("/x/target/thumbv7em-none-eabihf/release/tinybench-fw"))
        );
        assert_eq!(executable_from_messages("not json"), None);
    }

    #[test]
    fn a_stop_ends_cargo_and_every_process_it_started() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        // A "cargo" that starts a long compiler-like child and waits for it.
        let fake = dir.path().join("cargo");
        let pid_file = dir.path().join("child.pid");
        std::fs::write(&fake, format!("#!/bin/sh\nsleep 300 &\necho $! > '{}'\nwait\n", pid_file.display())).unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let board = Board::builtin("sim-m4").unwrap().unwrap();
        let case = tinybench_config::CaseConfig {
            name: "c".into(),
            workload: tinybench_config::Workload::Conv2d3x3 { height: 4, width: 4, in_channels: 2, out_channels: 2 },
            kernels: tinybench_config::KernelSet::Reference,
            seed: 1,
            self_test: None,
            accuracy: None,
            power: "none".into(),
        };
        let (stop, cargo) = (StopFlag::new(), fake.into_os_string());
        let build = FirmwareBuild {
            firmware_dir: dir.path(),
            board: &board,
            case: &case,
            run: &RunSettings::default(),
            workload_env: &[],
            log_path: &dir.path().join("build.log"),
            stop: &stop,
            cargo: &cargo,
        };
        let started = Instant::now();
        let result = std::thread::scope(|scope| {
            let running = scope.spawn(|| build.build());
            while !pid_file.exists() {
                std::thread::sleep(Duration::from_millis(10));
            }
            stop.raise(2);
            running.join().unwrap()
        });
        assert!(matches!(result, Err(RunnerError::Stopped)), "{result:?}");
        assert!(started.elapsed() < Duration::from_secs(10));
        // Gone, or a zombie nobody reaped yet (state Z in /proc/PID/stat);
        // SIGKILL takes effect when the process is next scheduled.
        let pid = std::fs::read_to_string(&pid_file).unwrap();
        let state = || {
            let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())).unwrap_or_default();
            stat.rsplit(')').next().unwrap_or_default().split_whitespace().next().unwrap_or("gone").to_owned()
        };
        let deadline = Instant::now() + Duration::from_secs(2);
        while !matches!(state().as_str(), "gone" | "Z") && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(matches!(state().as_str(), "gone" | "Z"), "the build's child {} survived the stop", pid.trim());
    }

    #[test]
    fn tail_keeps_last_lines() {
        assert_eq!(tail("a\nb\nc", 2), "    b\n    c");
        assert_eq!(tail("a", 5), "    a");
    }
}
