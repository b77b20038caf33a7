//! End-to-end tests of the `tinybench` binary: the real firmware is built and
//! run on the simulator, and bad input is tried on purpose.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::{
    MinimalElf, conv_case, error_line, mlperf, repo_root, results_json, stderr, tinybench, write_run_config,
};

/// A small run configuration in `dir` using the shipped board files.
fn write_config(dir: &Path, board: &str, extra_run: &str, shape: &str) -> PathBuf {
    write_config_with_case(dir, board, extra_run, shape, "")
}

/// One conv case `conv-small` (seed 7, 8 output channels) with `extra_case`
/// keys; `[run]` has one warm-up and three timed inferences, then `extra_run`.
fn write_config_with_case(dir: &Path, board: &str, extra_run: &str, shape: &str, extra_case: &str) -> PathBuf {
    let case = format!("{}\nseed = 7\n{extra_case}", conv_case("conv-small", shape, 8));
    write_run_config(
        dir,
        &format!("{board}-test.toml"),
        board,
        &format!("warmup = 1\niterations = 3\n{extra_run}"),
        &[&case],
    )
}

#[test]
fn run_on_sim_m4_is_verified_and_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "sim-m4", "", "[8, 8, 4]");
    let mut cycles = Vec::new();
    for attempt in ["a", "b"] {
        let out_dir = dir.path().join(attempt);
        let o = tinybench(&["run", config.to_str().unwrap(), "--out", out_dir.to_str().unwrap()]);
        assert!(o.status.success(), "tinybench run failed:\n{}", stderr(&o));
        let json = results_json(&out_dir);
        let r = &json["results"][0];
        assert_eq!(r["checksum_ok"], true, "{r}");
        assert_eq!(r["output_checksum"], r["expected_checksum"]);
        assert_eq!(r["provenance"]["timing"], "simulated (cortex-m4 cycle model)");
        assert_eq!(r["energy"]["provenance"], "modeled");
        assert!(r["memory"]["flash_bytes"].as_u64().unwrap() > 0);
        assert!(r["memory"]["stack_peak_bytes"].as_u64().unwrap() > 0);
        let per_iteration: Vec<u64> =
            r["cycles_per_iteration"].as_array().unwrap().iter().map(|c| c.as_u64().unwrap()).collect();
        assert_eq!(per_iteration.len(), 3);
        assert!(per_iteration.iter().all(|&c| c > 8 * 8 * 4 * 8 * 9), "fewer cycles than MACs: {per_iteration:?}");
        cycles.push(per_iteration);
        let csv = std::fs::read_to_string(out_dir.join("results.csv")).unwrap();
        assert!(csv.starts_with("case,status,reason,workload,shape,"), "{csv}");
        assert_eq!(csv.lines().count(), 2);
        assert!(std::fs::read_to_string(out_dir.join("report.md")).unwrap().contains("simulated"));
        assert!(out_dir.join("cases/conv-small/firmware.elf").is_file());
        let log = std::fs::read_to_string(out_dir.join("cases/conv-small/firmware.log")).unwrap();
        assert!(log.contains("INFO"), "decoded defmt log expected:\n{log}");
    }
    assert_eq!(cycles[0], cycles[1], "two runs must give identical cycle counts");

    // The same ELF under `tinybench sim`: decoded log, exit status 0.
    let elf = dir.path().join("a/cases/conv-small/firmware.elf");
    let o = tinybench(&["sim", elf.to_str().unwrap(), "--board", "sim-m4"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("INFO"), "{stdout}");
    assert!(stdout.contains("result: Done"), "{stdout}");
    // Linked for sim-m4's 640 KiB of SRAM; sim-m7's data memory is smaller.
    let o = tinybench(&["sim", elf.to_str().unwrap(), "--board", "sim-m7"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(error_line(&o).contains("the ELF was linked for another memory map"), "{}", stderr(&o));
}

#[test]
fn run_on_sim_m7_works() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "sim-m7", "", "[6, 6, 4]");
    let out_dir = dir.path().join("out");
    let o = tinybench(&["run", config.to_str().unwrap(), "--out", out_dir.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let json = results_json(&out_dir);
    assert_eq!(json["results"][0]["provenance"]["core"], "cortex-m7");
    assert_eq!(json["results"][0]["checksum_ok"], true);
    // The board file's [settings] (clock, caches, wait states) in every row.
    let settings = &json["results"][0]["provenance"]["board_settings"];
    assert!(settings["flash-wait-states"].as_str().unwrap().starts_with("4 (modeled"), "{settings}");
    assert!(settings["icache"].as_str().unwrap().contains("16 KiB"), "{settings}");
    let csv = std::fs::read_to_string(out_dir.join("results.csv")).unwrap();
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let column = rows.headers().unwrap().iter().position(|h| h == "board_settings").expect("a board_settings column");
    let row = rows.records().next().unwrap().unwrap();
    assert!(row[column].contains("clock=480 MHz") && row[column].contains("; icache=16 KiB"), "{}", &row[column]);
}

#[test]
fn firmware_that_never_finishes_stops_at_the_budget() {
    let dir = tempfile::tempdir().unwrap();
    let config =
        write_config_with_case(dir.path(), "sim-m4", "max-cycles = 5_000_000", "[8, 8, 4]", "self-test = \"hang\"");
    let out_dir = dir.path().join("out");
    let o = tinybench(&["run", config.to_str().unwrap(), "--out", out_dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("firmware still running after"), "{err}");
    assert!(err.contains("raise [run] max-cycles"), "{err}");
    // The hang loop is in main, so the error names where it spins.
    assert!(err.contains("in tinybench_fw::"), "{err}");
    error_line(&o);
    // Nothing lost: the failure is recorded in the run folder, and what the
    // firmware logged before the budget stop is in its log.
    assert_eq!(results_json(&out_dir)["failures"][0]["kind"], "target");
    let log = std::fs::read_to_string(out_dir.join("cases/conv-small/firmware.log")).unwrap();
    assert!(log.contains("self-test: hanging on purpose"), "{log}");
}

#[test]
fn firmware_reporting_failure_exits_1_with_its_log() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config_with_case(dir.path(), "sim-m4", "", "[8, 8, 4]", "self-test = \"fail\"");
    let out_dir = dir.path().join("out");
    let o = tinybench(&["run", config.to_str().unwrap(), "--out", out_dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("the firmware reported failure (code 6)"), "{err}");
    assert!(err.contains("fw: ERROR benchmark failed: SelfTest"), "log tail expected: {err}");
    error_line(&o);
}

#[test]
fn unknown_key_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "sim-m4", "iterashuns = 3", "[8, 8, 4]");
    let o = tinybench(&["run", config.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let line = error_line(&o);
    assert!(line.contains("sim-m4-test.toml:16:1: run.iterashuns: unknown field `iterashuns`"), "{line}");
}

#[test]
fn wrong_type_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "sim-m4", "", "\"big\"");
    let o = tinybench(&["run", config.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let line = error_line(&o);
    assert!(line.contains("sim-m4-test.toml:21:15: case.input-shape: invalid type: string \"big\""), "{line}");
}

#[test]
fn missing_board_file_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "no-such-board", "", "[8, 8, 4]");
    let o = tinybench(&["run", config.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let line = error_line(&o);
    assert!(line.contains(":2:8: board.file: board file") && line.contains("no-such-board.toml not found"), "{line}");
}

#[test]
fn missing_config_is_bad_input() {
    let o = tinybench(&["run", "does/not/exist.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(error_line(&o).contains("does/not/exist.toml: cannot read"));
}

#[test]
fn unsupported_instruction_names_pc_and_symbol() {
    let dir = tempfile::tempdir().unwrap();
    let elf = dir.path().join("bad.elf");
    // movs r0, #1 then a coprocessor instruction no Cortex-M4 has.
    MinimalElf::new("bad_function")
        .code(&[
            0x01, 0x20, // movs r0, #1
            0x00, 0xEE, 0x10, 0x00, // mcr p0, #0, r0, c0, c0, #0 (coprocessor 0 does not exist)
        ])
        .write(&elf);
    let o = tinybench(&["sim", elf.to_str().unwrap(), "--board", "sim-m4"]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    let line = error_line(&o).to_lowercase();
    assert!(line.contains("0x08000042"), "PC expected: {line}");
    assert!(line.contains("bad_function"), "symbol expected: {line}");
}

#[test]
fn sim_with_unknown_board_is_bad_input() {
    let o = tinybench(&["sim", "x.elf", "--board", "sim-m9"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(error_line(&o).contains("use one of sim-m4, sim-m7"));
}

#[test]
fn sim_of_a_non_elf_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("not.elf");
    std::fs::write(&path, b"hello").unwrap();
    let o = tinybench(&["sim", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    error_line(&o);
}

#[test]
fn help_documents_exit_codes() {
    for args in [&["--help"][..], &["run", "--help"], &["sim", "--help"], &["model", "--help"], &["config", "--help"]] {
        let o = tinybench(args);
        assert!(o.status.success());
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.contains("Exit codes:") && text.contains("  3  the firmware could not be built"), "{text}");
        assert!(text.contains("130  stopped by Ctrl-C"), "{text}");
    }
}

#[test]
fn usage_error_exits_2() {
    let o = tinybench(&["frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
}

/// A firmware that does not compile fails the first two cases with its
/// compiler output; the third is not built (the same error a third time
/// would tell nothing new).
#[test]
fn firmware_build_failure_exits_3_and_keeps_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let cases = ["conv-small", "second", "third"].map(|name| conv_case(name, "[8, 8, 4]", 8));
    let config = write_run_config(
        dir.path(),
        "broken.toml",
        "sim-m4",
        "warmup = 1\niterations = 3",
        &cases.each_ref().map(String::as_str),
    );
    // A firmware workspace that cannot build.
    let broken = dir.path().join("broken-fw");
    std::fs::create_dir(&broken).unwrap();
    std::fs::write(
        broken.join("Cargo.toml"),
        "[package]\nname = \"broken\"\nversion = \"0.1.0\"\nedition = \"2024\"\n[features]\nboard-sim-m4 = []\n",
    )
    .unwrap();
    std::fs::create_dir(broken.join("src")).unwrap();
    std::fs::write(broken.join("src/main.rs"), "fn main() { this does not compile }\n").unwrap();
    let out_dir = dir.path().join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_tinybench"))
        .args(["run", config.to_str().unwrap(), "--out", out_dir.to_str().unwrap()])
        .env("TINYBENCH_FIRMWARE_DIR", &broken)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("firmware build for case conv-small failed; full log in"), "{err}");
    assert!(err.contains("this does not compile") || err.contains("expected"), "compiler output expected: {err}");
    error_line(&o);
    let log = std::fs::read_to_string(out_dir.join("cases/conv-small/build.log")).unwrap();
    assert!(log.contains("TINYBENCH_KERNELS=reference"), "{log}");
    // The case's name never reaches the firmware build (it would move code).
    assert!(!log.contains("TINYBENCH_CASE_NAME"), "{log}");
    assert!(out_dir.join("cases/second/build.log").is_file());
    assert!(!out_dir.join("cases/third/build.log").exists(), "the third case is not built");
    let json = results_json(&out_dir);
    let third = json["failures"][2]["error"].as_str().unwrap();
    assert!(
        third.starts_with("not built: the firmware build failed the same way for cases conv-small and second"),
        "{third}"
    );
}

/// A case running a whole MLPerf Tiny model from `models/mlperf-tiny` on `board`.
/// `extra_case` is appended to the case table (kernels, weights, accuracy keys).
fn write_model_config(dir: &Path, board: &str, model: &str, input: &str, extra_case: &str) -> PathBuf {
    write_model_config_from(&mlperf(""), dir, board, model, input, extra_case)
}

/// [`write_model_config`] with `model` and `input` under `base`: one case
/// `model` timing sample 1, no warm-up, one timed inference.
fn write_model_config_from(
    base: &Path,
    dir: &Path,
    board: &str,
    model: &str,
    input: &str,
    extra_case: &str,
) -> PathBuf {
    let case = format!(
        "name = \"model\"\nworkload = \"model\"\nmodel = \"{}\"\ninput = \"{}\"\nsample = 1\n{extra_case}",
        base.join(model).display(),
        base.join(input).display(),
    );
    write_run_config(dir, &format!("{board}-model.toml"), board, "warmup = 0\niterations = 1", &[&case])
}

#[test]
fn kws_model_on_the_simulator_matches_litert_byte_for_byte() {
    for board in ["sim-m4", "sim-m7"] {
        let dir = tempfile::tempdir().unwrap();
        let config = write_model_config(dir.path(), board, "kws/kws_ref_model.tflite", "kws/inputs.bin", "");
        let out_dir = dir.path().join("out");
        let o = tinybench(&["run", config.to_str().unwrap(), "--out", out_dir.to_str().unwrap()]);
        assert!(o.status.success(), "{board}: {}", stderr(&o));
        // Sample 1 of the LiteRT reference outputs (12 bytes each).
        let reference = std::fs::read(repo_root().join("models/mlperf-tiny/kws/outputs.bin")).unwrap();
        let firmware = std::fs::read(out_dir.join("cases/model/output.bin")).unwrap();
        assert_eq!(firmware, reference[12..24], "{board}: simulator output differs from LiteRT");
        let json = results_json(&out_dir);
        let layers = json["results"][0]["layers"].as_array().unwrap();
        assert_eq!(layers.len(), 13, "{board}");
        assert_eq!(layers[0]["op"], "CONV_2D");
        assert!(
            layers
                .iter()
                .filter(|l| l["macs"].as_u64().unwrap() > 0)
                .all(|l| l["cycles_median"].as_f64().unwrap() > 0.0)
        );
        assert_eq!(json["results"][0]["macs"], 2_664_768);
    }
}

#[test]
fn int4_weights_run_and_match_the_host_engine() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_model_config(
        dir.path(),
        "sim-m4",
        "kws/kws_ref_model.tflite",
        "kws/inputs.bin",
        "weights = \"int4\"\nkernels = \"simd\"",
    );
    let out_dir = dir.path().join("out");
    let o = tinybench(&["run", config.to_str().unwrap(), "--out", out_dir.to_str().unwrap()]);
    // The runner checks the firmware's bytes against the host engine on the
    // same int4 model; success means they are equal.
    assert!(o.status.success(), "{}", stderr(&o));
    let int4 = results_json(&out_dir)["results"][0]["weight_bytes"].as_u64().unwrap();
    assert!(int4 < 30_008, "int4 weights should be smaller than int8's 30,008 bytes: {int4}");
}

#[test]
fn missing_input_sample_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_model_config(dir.path(), "sim-m4", "kws/kws_ref_model.tflite", "kws/outputs.bin", "");
    let o = tinybench(&["run", config.to_str().unwrap(), "--out", dir.path().join("out").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("outputs.bin: 384 bytes hold 0 samples of 490 bytes and a partial one"),
        "{}",
        stderr(&o)
    );
}

/// Runs every LiteRT reference vector of `dir` (`inputs.bin`, `outputs.bin`:
/// `out_len` bytes per sample) on the simulated `board` with `kernels` and
/// checks every output byte; returns the run's results.json. The labels are
/// LiteRT's own predictions (argmax), so the accuracy must be 100%; for an
/// autoencoder (more than 256 outputs) there are no classes, the labels only
/// fill the evaluation's format and the check is the bytes.
fn every_vector_on_the_simulator(
    dir: &Path,
    board: &str,
    model: &str,
    out_len: usize,
    kernels: &str,
) -> serde_json::Value {
    let vectors = repo_root().join("models/mlperf-tiny").join(model.split('/').next().unwrap());
    let outputs = std::fs::read(vectors.join("outputs.bin")).unwrap();
    let samples = outputs.len() / out_len;
    assert_eq!(samples, 32);
    let labels: Vec<u8> = outputs
        .chunks(out_len)
        .map(|o| {
            if out_len > 256 {
                0
            } else {
                (0..out_len).fold(0, |best, i| if (o[i] as i8) > (o[best] as i8) { i } else { best }) as u8
            }
        })
        .collect();
    std::fs::write(dir.join("labels.bin"), &labels).unwrap();
    let extra = format!(
        "accuracy-inputs = \"{}\"\naccuracy-labels = \"{}\"\ntarget-accuracy-samples = {samples}\nkernels = \"{kernels}\"",
        vectors.join("inputs.bin").display(),
        dir.join("labels.bin").display()
    );
    let input = model.replace(model.rsplit('/').next().unwrap(), "inputs.bin");
    let config = write_model_config(dir, board, model, &input, &extra);
    let out_dir = dir.join("out");
    let o = tinybench(&["run", config.to_str().unwrap(), "--out", out_dir.to_str().unwrap()]);
    assert!(o.status.success(), "{model} {kernels} on {board}: {}", stderr(&o));
    let on_target = std::fs::read(out_dir.join("cases/model/eval-outputs.bin")).unwrap();
    assert!(
        on_target == outputs,
        "{model} {kernels} on {board}: simulator outputs differ from LiteRT's reference vectors"
    );
    let json = results_json(&out_dir);
    let acc = &json["results"][0]["accuracy"];
    assert_eq!((acc["host_samples"].as_u64(), acc["target_samples"].as_u64()), (Some(32), Some(32)), "{acc}");
    if out_len <= 256 {
        assert_eq!((acc["host_pct"].as_f64(), acc["target_pct"].as_f64()), (Some(100.0), Some(100.0)), "{acc}");
    }
    json
}

/// ResNet-8 (with ADD) and MobileNet VWW on the simulated Cortex-M4 with
/// `simd`: sample 1 of the LiteRT reference vectors in the repository
/// (`scripts/mlperf-reference-vectors.py`), byte for byte.
#[test]
fn resnet8_and_vww_on_the_simulator_match_litert() {
    for (model, out_len) in [("ic/pretrainedResnet_quant.tflite", 10), ("vww/vww_96_int8.tflite", 2)] {
        let dir = tempfile::tempdir().unwrap();
        let base = repo_root().join("models/mlperf-tiny");
        let input = model.replace(model.rsplit('/').next().unwrap(), "inputs.bin");
        let config = write_model_config_from(&base, dir.path(), "sim-m4", model, &input, "kernels = \"simd\"");
        let out_dir = dir.path().join("out");
        let o = tinybench(&["run", config.to_str().unwrap(), "--out", out_dir.to_str().unwrap()]);
        assert!(o.status.success(), "{model}: {}", stderr(&o));
        let reference = std::fs::read(base.join(model).with_file_name("outputs.bin")).unwrap();
        let firmware = std::fs::read(out_dir.join("cases/model/output.bin")).unwrap();
        assert_eq!(firmware, reference[out_len..2 * out_len], "{model}: simulator output differs from LiteRT");
    }
}

/// All 32 LiteRT reference vectors of keyword spotting, byte for byte, on
/// the simulated Cortex-M4 with every kernel set; the optimized sets take
/// fewer cycles.
#[test]
fn kws_every_reference_vector_matches_on_the_simulator_with_every_kernel_set() {
    let mut cycles = Vec::new();
    for kernels in ["reference", "fused", "simd"] {
        let dir = tempfile::tempdir().unwrap();
        let json = every_vector_on_the_simulator(dir.path(), "sim-m4", "kws/kws_ref_model.tflite", 12, kernels);
        assert_eq!(json["results"][0]["kernels"], kernels);
        cycles.push(json["results"][0]["cycles"]["median"].as_f64().unwrap());
        // The evaluation inputs are linked but not counted as the model's flash.
        assert_eq!(json["results"][0]["memory"]["eval_data_bytes"], 32 * 490);
        let csv = std::fs::read_to_string(dir.path().join("out/results.csv")).unwrap();
        assert!(csv.lines().next().unwrap().contains("accuracy_pct,accuracy_samples"), "{csv}");
    }
    assert!(cycles[2] < cycles[1] && cycles[1] < cycles[0], "simd < fused < reference in simulated cycles: {cycles:?}");
}

/// All 32 LiteRT reference vectors of the anomaly-detection autoencoder
/// (640 outputs each), byte for byte, on the simulated Cortex-M4 with every
/// kernel set.
#[test]
fn ad_every_reference_vector_matches_on_the_simulator_with_every_kernel_set() {
    for kernels in ["reference", "fused", "simd"] {
        let dir = tempfile::tempdir().unwrap();
        every_vector_on_the_simulator(dir.path(), "sim-m4", "ad/ad01_int8.tflite", 640, kernels);
    }
}

/// The same on the simulated Cortex-M7 (`simd`, the set a benchmark there uses).
#[test]
fn kws_and_ad_reference_vectors_match_on_the_simulated_m7() {
    for (model, out_len) in [("kws/kws_ref_model.tflite", 12), ("ad/ad01_int8.tflite", 640)] {
        let dir = tempfile::tempdir().unwrap();
        every_vector_on_the_simulator(dir.path(), "sim-m7", model, out_len, "simd");
    }
}
