//! Self-checking programs run end to end on the simulator, on both cores:
//! - C under `tests/c/`, compiled by `arm-none-eabi-gcc` at -O0, -O2 and -Os
//!   and linked with newlib's librdimon (printf and exit through semihosting);
//! - Rust under `tests/rust/`, compiled by rustc for thumbv7em-none-eabihf at
//!   opt-level 0, "s" and 3 (one cargo build per level, shared by the tests);
//!   `kernels_simd` among them checks the `simd` kernels' ARM assembly against
//!   the reference kernels.
//!
//! Every program checks its own results, prints `PASS <name>` and exits 0.
//! Without `arm-none-eabi-gcc` (Debian: `gcc-arm-none-eabi` and
//! `libnewlib-arm-none-eabi`) the C tests are skipped with a message, except
//! under CI (`CI` set), where they fail.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use tinybench_sim::{CoreKind, RegionKind, RegionSpec, SimConfig, Simulator, StopReason};

/// More than any test program needs (the slowest, `kernels_simd` at opt-level 0, runs about 86 million).
const MAX_INSTRUCTIONS: u64 = 200_000_000;

/// How a program run ended.
#[derive(Debug, PartialEq)]
struct Run {
    exit_code: i32,
    output: String,
    instructions: u64,
    cycles: u64,
    histogram: Vec<(&'static str, u64)>,
}

/// The memory maps of the built-in boards sim-m4 (STM32L4R5) and sim-m7
/// (STM32H743); the programs link to flash and the first 128 KiB of RAM at
/// 0x2000_0000, which both have.
fn config(core: CoreKind) -> SimConfig {
    let region =
        |name: &str, start, size, kind, wait_states| RegionSpec { name: name.into(), start, size, kind, wait_states };
    match core {
        CoreKind::CortexM4 => SimConfig {
            core,
            clock_hz: 120_000_000,
            regions: vec![
                region("flash", 0x0800_0000, 2 << 20, RegionKind::Flash, 5),
                region("sram", 0x2000_0000, 640 << 10, RegionKind::Ram, 0),
            ],
        },
        CoreKind::CortexM7 => SimConfig {
            core,
            clock_hz: 480_000_000,
            regions: vec![
                region("flash", 0x0800_0000, 2 << 20, RegionKind::Flash, 4),
                region("dtcm", 0x2000_0000, 128 << 10, RegionKind::Ram, 0),
                region("axi-sram", 0x2400_0000, 512 << 10, RegionKind::Ram, 0),
            ],
        },
    }
}

/// Runs a program to its exit, with the simulator's fast paths or through
/// the reference path only (`Simulator::set_fast_paths`).
fn run(elf_path: &Path, core: CoreKind, fast_paths: bool) -> Run {
    let elf = std::fs::read(elf_path).unwrap_or_else(|e| panic!("cannot read {}: {e}", elf_path.display()));
    let mut sim = Simulator::new(config(core)).unwrap();
    sim.set_fast_paths(fast_paths);
    sim.load_elf(&elf).unwrap_or_else(|e| panic!("cannot load {}: {e}", elf_path.display()));
    let mut output = Vec::new();
    let mut left = MAX_INSTRUCTIONS;
    let exit_code = loop {
        let stop = sim.run(left.min(10_000_000));
        output.extend(sim.take_semihosting_output());
        let text = String::from_utf8_lossy(&output);
        match stop {
            Ok(StopReason::Exited { code }) => break code,
            Ok(StopReason::InstructionLimit) if left > 10_000_000 => left -= 10_000_000,
            other => panic!(
                "{} on {core:?} did not exit: {other:?} at pc {:#010x} ({}) after {} instructions; output:\n{text}",
                elf_path.display(),
                sim.pc(),
                sim.symbolize(sim.pc()).unwrap_or_default(),
                sim.instructions()
            ),
        }
    };
    let stats = sim.stats();
    Run {
        exit_code,
        output: String::from_utf8_lossy(&output).into_owned(),
        instructions: stats.instructions,
        cycles: stats.cycles,
        histogram: stats.histogram.into_iter().collect(),
    }
}

/// Runs a program on both cores; it must print `PASS <name>` and exit 0, and
/// the fast paths must give exactly what the reference path gives: output,
/// instruction and cycle counts, class histogram.
fn assert_passes(elf: &Path, name: &str) {
    for core in [CoreKind::CortexM4, CoreKind::CortexM7] {
        let reference = run(elf, core, false);
        let run = run(elf, core, true);
        assert_eq!(run, reference, "{} on {core:?}: fast paths differ from the reference path", elf.display());
        assert!(
            run.exit_code == 0 && run.output.contains(&format!("PASS {name}")),
            "{} on {core:?}: exit {}, output:\n{}",
            elf.display(),
            run.exit_code,
            run.output
        );
    }
}

fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

/// Where built programs go: under the host's target folder, kept between runs.
fn out_dir(kind: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(kind);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

// ---- C, arm-none-eabi-gcc + newlib ----

const GCC: &str = "arm-none-eabi-gcc";

/// Whether arm-none-eabi-gcc runs; if not, skipping is allowed outside CI only.
fn have_gcc() -> bool {
    static HAVE: OnceLock<bool> = OnceLock::new();
    let have = *HAVE.get_or_init(|| {
        Command::new(GCC)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    if !have {
        assert!(
            !under_ci(),
            "{GCC} not found and CI is set: install the Debian packages gcc-arm-none-eabi and libnewlib-arm-none-eabi"
        );
        eprintln!(
            "SKIPPED: {GCC} not found; install gcc-arm-none-eabi and libnewlib-arm-none-eabi to run the C programs"
        );
    }
    have
}

/// Compiles `tests/c/<program>.c` with startup code and newlib's librdimon.
fn build_c(program: &str, opt: &str) -> PathBuf {
    let c = tests_dir().join("c");
    let elf = out_dir("c-programs").join(format!("{program}-{opt}.elf"));
    let output = Command::new(GCC)
        .current_dir(&c)
        .args(["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"])
        .arg(format!("-{opt}"))
        .args(["-g", "-std=c11", "-Wall", "-Wextra", "-Werror", "--specs=rdimon.specs", "-T", "link.ld", "startup.c"])
        .arg(format!("{program}.c"))
        .args(["-lm", "-o"])
        .arg(&elf)
        .output()
        .expect("arm-none-eabi-gcc runs");
    assert!(output.status.success(), "{GCC} -{opt} {program}.c failed:\n{}", String::from_utf8_lossy(&output.stderr));
    elf
}

macro_rules! gcc_programs {
    ($($test:ident: $program:literal at $opt:literal;)*) => {$(
        #[test]
        fn $test() {
            if have_gcc() {
                assert_passes(&build_c($program, $opt), $program);
            }
        }
    )*};
}

gcc_programs! {
    gcc_int_math_o0: "int_math" at "O0";
    gcc_int_math_o2: "int_math" at "O2";
    gcc_int_math_os: "int_math" at "Os";
    gcc_sort_o0: "sort" at "O0";
    gcc_sort_o2: "sort" at "O2";
    gcc_sort_os: "sort" at "Os";
    gcc_crc_o0: "crc" at "O0";
    gcc_crc_o2: "crc" at "O2";
    gcc_crc_os: "crc" at "Os";
    gcc_fixed_point_o0: "fixed_point" at "O0";
    gcc_fixed_point_o2: "fixed_point" at "O2";
    gcc_fixed_point_os: "fixed_point" at "Os";
    gcc_float32_o0: "float32" at "O0";
    gcc_float32_o2: "float32" at "O2";
    gcc_float32_os: "float32" at "Os";
    gcc_fp_env_o0: "fp_env" at "O0";
    gcc_fp_env_o2: "fp_env" at "O2";
    gcc_fp_env_os: "fp_env" at "Os";
    gcc_float64_o0: "float64" at "O0";
    gcc_float64_o2: "float64" at "O2";
    gcc_float64_os: "float64" at "Os";
}

#[test]
fn gcc_exit_status_and_stderr_reach_the_host() {
    if !have_gcc() {
        return;
    }
    let run = run(&build_c("exit_status", "O2"), CoreKind::CortexM4, true);
    assert_eq!(run.exit_code, 3, "{}", run.output);
    assert_eq!(run.output, "to stdout\nto stderr\n");
}

// ---- Rust, rustc for thumbv7em-none-eabihf ----

/// The cargo profiles of `tests/rust/Cargo.toml`.
const PROFILES: [&str; 3] = ["opt-0", "opt-s", "opt-3"];

/// Builds every Rust program with one profile, once per test binary; returns
/// the folder holding the ELFs.
fn build_rust(profile: &str) -> PathBuf {
    static BUILT: [OnceLock<Result<PathBuf, String>>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let index = PROFILES.iter().position(|p| *p == profile).expect("a profile of tests/rust/Cargo.toml");
    let built = BUILT[index].get_or_init(|| {
        let target_dir = out_dir("rust-programs");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut cmd = Command::new(cargo);
        // The current folder selects tests/rust/.cargo/config.toml (the target).
        cmd.current_dir(tests_dir().join("rust"))
            .args(["build", "--quiet", "--bins", "--profile", profile])
            .env("CARGO_TARGET_DIR", &target_dir)
            .stdin(Stdio::null());
        // The host build's settings must not leak into the thumbv7em build.
        for var in ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_BUILD_RUSTFLAGS", "CARGO_BUILD_TARGET"] {
            cmd.env_remove(var);
        }
        let output = cmd.output().map_err(|e| format!("cannot run cargo: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "cargo build --profile {profile} in tests/rust failed:\n{}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        Ok(target_dir.join("thumbv7em-none-eabihf").join(profile))
    });
    built.clone().unwrap_or_else(|e| panic!("{e}"))
}

macro_rules! rustc_programs {
    ($($test:ident: $program:literal at $profile:literal;)*) => {$(
        #[test]
        fn $test() {
            assert_passes(&build_rust($profile).join($program), $program);
        }
    )*};
}

rustc_programs! {
    rustc_int_math_opt_0: "int_math" at "opt-0";
    rustc_int_math_opt_s: "int_math" at "opt-s";
    rustc_int_math_opt_3: "int_math" at "opt-3";
    rustc_sort_opt_0: "sort" at "opt-0";
    rustc_sort_opt_s: "sort" at "opt-s";
    rustc_sort_opt_3: "sort" at "opt-3";
    rustc_crc32_opt_0: "crc32" at "opt-0";
    rustc_crc32_opt_s: "crc32" at "opt-s";
    rustc_crc32_opt_3: "crc32" at "opt-3";
    rustc_fixed_point_opt_0: "fixed_point" at "opt-0";
    rustc_fixed_point_opt_s: "fixed_point" at "opt-s";
    rustc_fixed_point_opt_3: "fixed_point" at "opt-3";
    rustc_float32_opt_0: "float32" at "opt-0";
    rustc_float32_opt_s: "float32" at "opt-s";
    rustc_float32_opt_3: "float32" at "opt-3";
    rustc_float64_opt_0: "float64" at "opt-0";
    rustc_float64_opt_s: "float64" at "opt-s";
    rustc_float64_opt_3: "float64" at "opt-3";
    rustc_kernels_simd_opt_0: "kernels_simd" at "opt-0";
    rustc_kernels_simd_opt_s: "kernels_simd" at "opt-s";
    rustc_kernels_simd_opt_3: "kernels_simd" at "opt-3";
}
