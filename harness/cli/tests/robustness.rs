//! A newcomer's first hour, the failures that made users leave, each pinned:
//! no panic on a closed pipe or a full device, bounded reads, outputs that
//! would destroy an input, messages that name the real problem, a missing
//! Cortex-M target, every exit code, and a fuzz of corrupted models.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{
    QUICK_RUN, conv_case, error_line, mlperf, mnist, repo_root, results_json, stderr, tinybench, tinybench_within,
    write_run_config,
};

fn kws(rel: &str) -> PathBuf {
    mlperf(&format!("kws/{rel}"))
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

// ---- stdout and stderr that cannot be written ----

/// The three model commands, each writing `out`.
fn model_commands(dir: &Path, out: &Path) -> Vec<Vec<String>> {
    let tbm = dir.join("kws.tbm");
    let o = tinybench(&["model", "import", s(&kws("kws_ref_model.tflite")), "-o", s(&tbm)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let owned = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    vec![
        owned(&["model", "import", s(&kws("kws_ref_model.tflite")), "-o", s(out)]),
        owned(&["model", "export", s(&tbm), "-o", s(out)]),
        owned(&["model", "run", s(&tbm), "--input", s(&kws("inputs.bin")), "--output", s(out)]),
    ]
}

#[test]
fn model_commands_write_their_file_whatever_happens_to_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.bin");
    for args in model_commands(dir.path(), &out) {
        for sink in ["closed pipe", "/dev/full"] {
            let _ = std::fs::remove_file(&out);
            let stdout = match sink {
                // The read end is closed before tinybench starts: every write fails with EPIPE.
                "closed pipe" => {
                    let (reader, writer) = std::io::pipe().unwrap();
                    drop(reader);
                    Stdio::from(writer)
                }
                _ => Stdio::from(std::fs::File::create("/dev/full").unwrap()),
            };
            let o = Command::new(env!("CARGO_BIN_EXE_tinybench")).args(&args).stdout(stdout).output().unwrap();
            assert_eq!(o.status.code(), Some(0), "{args:?} with stdout a {sink}: {}", stderr(&o));
            assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
            assert!(std::fs::metadata(&out).unwrap().len() > 0, "{args:?}: output not written");
        }
    }
}

#[test]
fn run_survives_stderr_on_a_full_device() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_run_config(dir.path(), "full.toml", "sim-m4", QUICK_RUN, &[&conv_case("tiny", "[4, 4, 2]", 2)]);
    let out = dir.path().join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_tinybench"))
        .args(["run", s(&config), "--out", s(&out)])
        .stderr(std::fs::File::create("/dev/full").unwrap())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(results_json(&out)["results"][0]["case"], "tiny");
}

// ---- reads with a bound, outputs that are not inputs ----

#[test]
fn devices_and_oversized_files_are_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.bin");
    // Each is refused at once: a read of /dev/zero would never end.
    let within = |args: &[&str]| tinybench_within(args, Duration::from_secs(30)).expect("refused, not read");
    let o = within(&["model", "run", "/dev/zero", "--input", s(&kws("inputs.bin")), "--output", s(&out)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(error_line(&o).contains("/dev/zero: a character device, not a regular file"), "{}", stderr(&o));
    let tflite = kws("kws_ref_model.tflite");
    let o = within(&["model", "run", s(&tflite), "--input", "/dev/zero", "--output", s(&out)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    // A sparse 65 MiB file: larger than any board holds.
    let huge = dir.path().join("huge.tflite");
    std::fs::File::create(&huge).unwrap().set_len(65 << 20).unwrap();
    let o = tinybench(&["model", "import", s(&huge), "-o", s(&out)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(error_line(&o).contains("more than the 67108864 bytes a model may have"), "{}", stderr(&o));
    let o = within(&["run", "/dev/zero"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(error_line(&o).contains("/dev/zero: a character device"), "{}", stderr(&o));
    let o = within(&["sim", "/dev/zero"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));

    let config = write_run_config(
        dir.path(),
        "zero.toml",
        "sim-m4",
        QUICK_RUN,
        &["name = \"m\"\nworkload = \"model\"\nmodel = \"/dev/zero\""],
    );
    let o = within(&["run", s(&config), "--list"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(error_line(&o).contains("/dev/zero is not a regular file"), "{}", stderr(&o));
}

#[test]
fn an_output_that_is_an_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("kws.tflite");
    let input = dir.path().join("in.bin");
    std::fs::copy(kws("kws_ref_model.tflite"), &model).unwrap();
    std::fs::copy(kws("inputs.bin"), &input).unwrap();
    let dotted = dir.path().join(".").join("in.bin");
    for args in [
        vec!["model", "run", s(&model), "--input", s(&input), "--output", s(&input)],
        vec!["model", "run", s(&model), "--input", s(&input), "--output", s(&dotted)],
        vec!["model", "run", s(&model), "--input", s(&input), "--output", s(&model)],
        vec!["model", "import", s(&model), "-o", s(&model)],
        vec!["model", "export", s(&model), "-o", s(&model)],
    ] {
        let o = tinybench(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(error_line(&o).contains("the output is also an input"), "{}", stderr(&o));
    }
    // `tinybench sim` writes statistics and a profile; never over its ELF.
    let elf = dir.path().join("prog.elf");
    std::fs::write(&elf, b"not run").unwrap();
    for flag in ["--stats-json", "--profile"] {
        let o = tinybench(&["sim", s(&elf), flag, s(&elf)]);
        assert_eq!(o.status.code(), Some(2), "{flag}: {}", stderr(&o));
        assert!(error_line(&o).contains("the output is also an input"), "{}", stderr(&o));
    }
    let folded = dir.path().join("prog");
    std::fs::rename(&elf, dir.path().join("prog.folded")).unwrap();
    let o = tinybench(&["sim", s(&dir.path().join("prog.folded")), "--profile", s(&folded)]);
    assert_eq!(o.status.code(), Some(2), "the profile's .folded file: {}", stderr(&o));
    assert_eq!(std::fs::read(dir.path().join("prog.folded")).unwrap(), b"not run");
    assert_eq!(std::fs::read(&model).unwrap(), std::fs::read(kws("kws_ref_model.tflite")).unwrap());
    assert_eq!(std::fs::read(&input).unwrap(), std::fs::read(kws("inputs.bin")).unwrap());
}

/// Accuracy keys with `target-accuracy-samples = 0`: accuracy on the host,
/// nothing linked for the target.
#[test]
fn zero_target_accuracy_samples_means_host_only() {
    let dir = tempfile::tempdir().unwrap();
    let case = format!(
        "name = \"int8\"\nworkload = \"model\"\nmodel = \"{}\"\ninput = \"{inputs}\"\naccuracy-inputs = \"{inputs}\"\n\
         accuracy-labels = \"{}\"\ntarget-accuracy-samples = 0",
        s(&mnist("variants/int8.tbm")),
        s(&mnist("data/test-labels.bin")),
        inputs = s(&mnist("data/test-inputs.bin")),
    );
    let config = write_run_config(dir.path(), "host-only.toml", "sim-m4", QUICK_RUN, &[&case]);
    let out = dir.path().join("out");
    let o = tinybench(&["run", s(&config), "--out", s(&out)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let accuracy = &results_json(&out)["results"][0]["accuracy"];
    assert_eq!((accuracy["host_samples"].as_u64(), accuracy["target_samples"].as_u64()), (Some(2000), Some(0)));
    assert_eq!(results_json(&out)["results"][0]["memory"]["eval_data_bytes"], 0);
}

// ---- messages that name the real problem ----

#[test]
fn a_real_board_on_the_simulator_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let config =
        write_run_config(dir.path(), "h7.toml", "nucleo-h743zi2", QUICK_RUN, &[&conv_case("c", "[4, 4, 2]", 2)]);
    let o = tinybench(&["run", s(&config)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let line = error_line(&o);
    assert!(line.contains("target.kind") && line.contains("sim-m7"), "{line}");
    assert!(!stderr(&o).contains("building firmware"), "{}", stderr(&o));
}

/// A board file in a scratch folder: the shipped `sim-m4.toml` with `edit` applied.
fn scratch_board(dir: &Path, id: &str, edit: impl Fn(String) -> String) -> PathBuf {
    std::fs::create_dir_all(dir.join("boards")).unwrap();
    let text = std::fs::read_to_string(repo_root().join("configs/boards/sim-m4.toml")).unwrap();
    let path = dir.join(format!("boards/{id}.toml"));
    std::fs::write(&path, edit(text.replace("id = \"sim-m4\"", &format!("id = \"{id}\"")))).unwrap();
    path
}

fn config_on(dir: &Path, board: &Path, case: &str) -> PathBuf {
    let text = std::fs::read_to_string(write_run_config(dir, "x.toml", "sim-m4", QUICK_RUN, &[case])).unwrap();
    // Line 2 is `file = "<the shipped board>"`.
    let board_line = text.lines().nth(1).unwrap().to_owned();
    let path = dir.join("on-board.toml");
    std::fs::write(&path, text.replace(&board_line, &format!("file = \"{}\"", s(board)))).unwrap();
    path
}

#[test]
fn a_board_without_firmware_support_names_the_boards_there_are() {
    let dir = tempfile::tempdir().unwrap();
    let board = scratch_board(dir.path(), "my-board", |t| t);
    let o = tinybench(&["run", s(&config_on(dir.path(), &board, &conv_case("c", "[4, 4, 2]", 2)))]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let line = error_line(&o);
    assert!(line.contains("no firmware support for board my-board"), "{line}");
    assert!(
        line.contains("nrf52840-dk, nucleo-h743zi2, nucleo-l4r5zi, sim-m4, sim-m7") && line.contains("board-my-board"),
        "{line}"
    );
}

#[test]
fn a_model_too_big_for_the_board_is_named_with_the_shortfall_before_building() {
    let dir = tempfile::tempdir().unwrap();
    // The KWS arena is 16,064 bytes; with the 6 KiB reserve it needs 22,208.
    let board = scratch_board(dir.path(), "sim-m4", |t| t.replace("size-bytes = 655_360", "size-bytes = 16_384"));
    let case = format!(
        "name = \"kws\"\nworkload = \"model\"\nmodel = \"{}\"\ninput = \"{}\"",
        s(&kws("kws_ref_model.tflite")),
        s(&kws("inputs.bin"))
    );
    let o = tinybench(&["run", s(&config_on(dir.path(), &board, &case))]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let line = error_line(&o);
    assert!(line.contains("region sram, which has 16384: short by 5824 bytes"), "{line}");
    assert!(!stderr(&o).contains("building firmware"), "{}", stderr(&o));
}

#[test]
fn a_firmware_the_linker_cannot_fit_is_named_without_the_linker_command_line() {
    let dir = tempfile::tempdir().unwrap();
    // The model fits 32 KiB; the firmware's code around it does not.
    let board = scratch_board(dir.path(), "sim-m4", |t| t.replace("size-bytes = 2_097_152", "size-bytes = 32_768"));
    let case = format!(
        "name = \"int8\"\nworkload = \"model\"\nmodel = \"{}\"\ninput = \"{}\"",
        s(&mnist("variants/int8.tbm")),
        s(&mnist("data/test-inputs.bin"))
    );
    let o = tinybench(&["run", s(&config_on(dir.path(), &board, &case))]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("the firmware does not fit board sim-m4: section"), "{err}");
    assert!(err.contains("overflows region FLASH by"), "{err}");
    assert!(!err.contains("rust-lld") && !err.contains("-Wl,"), "no linker command line: {err}");
}

#[test]
fn a_corrupted_tbm_header_length_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = std::fs::read(mnist("variants/int8.tbm")).unwrap();
    bytes[6] = 40;
    let bad = dir.path().join("bad.tbm");
    std::fs::write(&bad, bytes).unwrap();
    let o = tinybench(&["model", "run", s(&bad), "--input", s(&mnist("data/test-inputs.bin")), "--output", "x.bin"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let line = error_line(&o);
    assert!(line.contains("header says it is 40 bytes long") && !line.contains("version"), "{line}");
}

#[test]
fn a_missing_table_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_run_config(dir.path(), "x.toml", "sim-m4", QUICK_RUN, &[&conv_case("c", "[4, 4, 2]", 2)]);
    let text = std::fs::read_to_string(&config).unwrap();
    let start = text.find("[power]").unwrap();
    let end = text.find("[run]").unwrap();
    std::fs::write(&config, format!("{}{}", &text[..start], &text[end..])).unwrap();
    let o = tinybench(&["run", s(&config)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(error_line(&o).contains("power: missing table [power]"), "{}", stderr(&o));
}

/// No rustup and a toolchain without the Cortex-M standard library: one line
/// naming the command, before any build (not one failure per case).
#[test]
fn a_missing_firmware_target_stops_before_any_build() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let rustc = bin.join("rustc");
    std::fs::write(&rustc, format!("#!/bin/sh\necho '{}'\n", s(&dir.path().join("no-such-libdir")))).unwrap();
    std::fs::set_permissions(&rustc, std::fs::Permissions::from_mode(0o755)).unwrap();
    let config = write_run_config(
        dir.path(),
        "x.toml",
        "sim-m4",
        QUICK_RUN,
        &[&conv_case("a", "[4, 4, 2]", 2), &conv_case("b", "[4, 4, 2]", 3)],
    );
    let o = Command::new(env!("CARGO_BIN_EXE_tinybench"))
        .args(["run", s(&config), "--out", s(&dir.path().join("out"))])
        .env("PATH", &bin)
        .env_remove("RUSTC")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let line = error_line(&o);
    assert!(
        line.contains("rustup is not on PATH") && line.contains("`rustup target add thumbv7em-none-eabihf`"),
        "{line}"
    );
    assert!(!stderr(&o).contains("building firmware"), "{}", stderr(&o));
}

// ---- exit code 5 ----

#[test]
fn results_that_cannot_be_written_exit_5() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_run_config(dir.path(), "x.toml", "sim-m4", QUICK_RUN, &[&conv_case("c", "[4, 4, 2]", 2)]);
    let o = tinybench(&["run", s(&config), "--out", "/dev/full/run"]);
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    error_line(&o);
    let o = tinybench(&[
        "model",
        "run",
        s(&kws("kws_ref_model.tflite")),
        "--input",
        s(&kws("inputs.bin")),
        "--output",
        "/dev/full",
    ]);
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    assert!(error_line(&o).contains("cannot write /dev/full"), "{}", stderr(&o));
}

// ---- a fuzz of corrupted models through `model run` ----

/// xorshift64*: deterministic corruption without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// CRC-32 (IEEE), as the `.tbm` header stores over bytes 16.. (so corrupted
/// bodies get past the checksum to the deeper checks).
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn corrupt(original: &[u8], rng: &mut Rng, tbm: bool) -> Vec<u8> {
    let mut bytes = original.to_vec();
    match rng.below(4) {
        0 => bytes.truncate(rng.below(bytes.len())),
        1 => {
            for _ in 0..1 + rng.below(8) {
                let at = rng.below(bytes.len());
                bytes[at] = rng.next() as u8;
            }
        }
        2 => {
            // A header or table word: sizes, offsets, counts.
            let at = rng.below(bytes.len().min(1024).saturating_sub(4)) & !3;
            bytes[at..at + 4].copy_from_slice(&(rng.next() as u32).to_le_bytes());
        }
        _ => {
            let at = rng.below(bytes.len());
            bytes[at] ^= 1 << rng.below(8);
        }
    }
    if tbm && bytes.len() >= 16 && rng.below(2) == 0 {
        let crc = crc32(&bytes[16..]);
        bytes[12..16].copy_from_slice(&crc.to_le_bytes());
    }
    bytes
}

#[test]
fn three_hundred_corrupted_models_never_panic_or_hang() {
    let dir = tempfile::tempdir().unwrap();
    let kws_tflite = std::fs::read(kws("kws_ref_model.tflite")).unwrap();
    let mnist_tbm = std::fs::read(mnist("variants/int8.tbm")).unwrap();
    let kws_input = &std::fs::read(kws("inputs.bin")).unwrap()[..2 * 490];
    let mnist_input = &std::fs::read(mnist("data/test-inputs.bin")).unwrap()[..2 * 784];
    std::fs::write(dir.path().join("kws-in.bin"), kws_input).unwrap();
    std::fs::write(dir.path().join("mnist-in.bin"), mnist_input).unwrap();
    let mut rng = Rng(0x7469_6e79_6265_6e63);
    let cases: Vec<(PathBuf, &str)> = (0..300)
        .map(|i| {
            let (original, tbm, ext, input) = if i % 2 == 0 {
                (&kws_tflite, false, "tflite", "kws-in.bin")
            } else {
                (&mnist_tbm, true, "tbm", "mnist-in.bin")
            };
            let path = dir.path().join(format!("fuzz-{i:03}.{ext}"));
            std::fs::write(&path, corrupt(original, &mut rng, tbm)).unwrap();
            (path, input)
        })
        .collect();
    let (mut panics, mut timeouts, mut accepted) = (Vec::new(), Vec::new(), 0);
    for (model, input) in &cases {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tinybench"))
            .args(["model", "run", s(model), "--input", s(&dir.path().join(input)), "--output"])
            .arg(dir.path().join("out.bin"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            if started.elapsed() > Duration::from_secs(30) {
                let _ = child.kill();
                break None;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let mut err = String::new();
        std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
        match status {
            None => timeouts.push(model.clone()),
            Some(s) if s.code() == Some(0) => accepted += 1,
            Some(s) if s.code() == Some(2) && err.lines().filter(|l| l.starts_with("error:")).count() == 1 => {}
            Some(s) => panics.push(format!("{}: {s}: {err}", model.display())),
        }
    }
    assert!(
        panics.is_empty(),
        "{} of 300 did not end with a result or one error line:\n{}",
        panics.len(),
        panics.join("\n")
    );
    assert!(timeouts.is_empty(), "timed out: {timeouts:?}");
    // Some corruptions hit weights only and still run: the fuzz reached the interpreter.
    assert!(accepted > 0, "no corrupted model ran at all");
}
