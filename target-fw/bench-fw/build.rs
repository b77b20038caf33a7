//! Turns the harness's choices into code and a link map:
//! - the board feature + board file -> `memory.x` (so the simulator's memory
//!   map and the firmware's link map come from one file),
//! - `TINYBENCH_*` variables -> `params.rs` constants.
//!
//! Every variable has a default, so a plain
//! `cargo build --release --features board-sim-m4` works without the harness.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;

/// (cargo feature, board id); the id names `configs/boards/<id>.toml`.
const BOARDS: &[(&str, &str)] = &[
    ("board-sim-m4", "sim-m4"),
    ("board-sim-m7", "sim-m7"),
    ("board-nucleo-h743zi2", "nucleo-h743zi2"),
    ("board-nucleo-l4r5zi", "nucleo-l4r5zi"),
    ("board-nrf52840-dk", "nrf52840-dk"),
];

/// Kernel implementations the firmware can be built with.
const KERNELS: &[&str] = &["reference", "fused", "simd"];
/// Deliberate failures, to check that a setup catches a hanging or failing
/// firmware (the harness's `self-test` case key).
const SELF_TESTS: &[&str] = &["none", "hang", "fail"];

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));

    let board_id = selected_board();
    let board = load_board(board_id);
    let memory_x = board.memory_x();
    fs::write(out_dir.join("memory.x"), memory_x).expect("write memory.x into OUT_DIR");
    println!("cargo::rustc-link-search={}", out_dir.display());

    println!("cargo::rustc-check-cfg=cfg(workload, values(\"conv2d-3x3\", \"model\"))");
    println!("cargo::rustc-check-cfg=cfg(kernels, values(\"reference\", \"fused\", \"simd\"))");
    let kernels =
        param("TINYBENCH_KERNELS", "reference".to_string(), &format!("one of: {}", KERNELS.join(", ")), |s| {
            KERNELS.contains(&s).then(|| s.to_string())
        });
    println!("cargo::rustc-cfg=kernels=\"{kernels}\"");
    let workload = param("TINYBENCH_WORKLOAD", "conv2d-3x3".to_string(), "conv2d-3x3 or model", |s| {
        ["conv2d-3x3", "model"].contains(&s).then(|| s.to_string())
    });
    println!("cargo::rustc-cfg=workload=\"{workload}\"");
    let mut params = params_rs(&board, &workload);
    params.push_str(&power_params(&board));
    params.push_str(&if workload == "model" { model_params(&out_dir) } else { conv_params() });
    fs::write(out_dir.join("params.rs"), params).expect("write params.rs into OUT_DIR");
}

/// Shape and seed of the synthetic conv workload.
fn conv_params() -> String {
    let [height, width, input_channels, output_channels] = param(
        "TINYBENCH_CONV",
        [16, 16, 8, 16],
        "HxWxCIN:COUT with positive whole numbers, e.g. 16x16x8:16",
        conv_shape,
    );
    let seed = param("TINYBENCH_SEED", 1u32, "a whole number in 0..=4294967295", |s| s.parse().ok());
    let mut rs = String::new();
    for decl in [
        format!("pub const INPUT_HEIGHT: usize = {height};"),
        format!("pub const INPUT_WIDTH: usize = {width};"),
        format!("pub const INPUT_CHANNELS: usize = {input_channels};"),
        format!("pub const OUTPUT_CHANNELS: usize = {output_channels};"),
        format!("pub const SEED: u32 = {seed};"),
    ] {
        writeln!(rs, "{decl}").expect("writing to a String");
    }
    rs
}

/// Copies the `.tbm` model and its input sample into OUT_DIR (the firmware
/// `include_bytes!`s them) and writes the sizes the firmware's statics need.
fn model_params(out_dir: &std::path::Path) -> String {
    let model_path = var("TINYBENCH_MODEL")
        .unwrap_or_else(|| panic!("TINYBENCH_WORKLOAD=model needs TINYBENCH_MODEL=<path of a .tbm file>"));
    println!("cargo::rerun-if-changed={model_path}");
    let model_bytes = fs::read(&model_path).unwrap_or_else(|e| panic!("TINYBENCH_MODEL={model_path}: {e}"));
    // The parser wants the alignment the firmware will give it.
    let mut aligned = vec![0u128; model_bytes.len().div_ceil(16)];
    // SAFETY: a u128 buffer viewed as bytes; at least model_bytes.len() long.
    let view = unsafe { core::slice::from_raw_parts_mut(aligned.as_mut_ptr().cast::<u8>(), model_bytes.len()) };
    view.copy_from_slice(&model_bytes);
    let model = tinybench_kernels::tbm::Model::parse(view)
        .unwrap_or_else(|e| panic!("TINYBENCH_MODEL={model_path} is not a valid .tbm model: {e:?}"));
    let macs: u64 = (0..model.layer_count())
        .map(|i| model.layer(i).map(|l| l.macs()).unwrap_or_else(|e| panic!("{model_path}: layer {i}: {e:?}")))
        .sum();
    let input_len = model.input().len;
    let input = match var("TINYBENCH_INPUT") {
        Some(path) => {
            println!("cargo::rerun-if-changed={path}");
            let bytes = fs::read(&path).unwrap_or_else(|e| panic!("TINYBENCH_INPUT={path}: {e}"));
            if bytes.len() != input_len {
                panic!("TINYBENCH_INPUT={path} has {} bytes; the model's input needs exactly {input_len}", bytes.len());
            }
            bytes
        }
        None => panic!("TINYBENCH_WORKLOAD=model needs TINYBENCH_INPUT=<path of one raw int8 input sample>"),
    };
    // Evaluation samples for accuracy runs: linked into their own section so
    // the host can leave them out of the model's flash figure.
    let eval = match var("TINYBENCH_EVAL_INPUTS") {
        None => Vec::new(),
        Some(path) => {
            println!("cargo::rerun-if-changed={path}");
            let bytes = fs::read(&path).unwrap_or_else(|e| panic!("TINYBENCH_EVAL_INPUTS={path}: {e}"));
            if bytes.is_empty() || bytes.len() % input_len != 0 {
                panic!(
                    "TINYBENCH_EVAL_INPUTS={path} has {} bytes, not a whole number of {input_len}-byte samples",
                    bytes.len()
                );
            }
            bytes
        }
    };
    fs::write(out_dir.join("eval.bin"), &eval).expect("write eval.bin into OUT_DIR");
    fs::write(out_dir.join("model.tbm"), &model_bytes).expect("write model.tbm into OUT_DIR");
    fs::write(out_dir.join("input.bin"), &input).expect("write input.bin into OUT_DIR");
    let macs =
        u32::try_from(macs).unwrap_or_else(|_| panic!("{model_path}: {macs} MACs do not fit the protocol's u32"));
    let mut rs = String::new();
    for decl in [
        format!("pub const MODEL_BYTES: usize = {};", model_bytes.len()),
        format!("pub const MODEL_ARENA_BYTES: usize = {};", model.arena_bytes()),
        format!("pub const MODEL_INPUT_BYTES: usize = {input_len};"),
        format!("pub const MODEL_OUTPUT_BYTES: usize = {};", model.output().len),
        format!("pub const MODEL_LAYERS: usize = {};", model.layer_count()),
        format!("pub const MODEL_MACS: u32 = {macs};"),
        format!("pub const EVAL_BYTES: usize = {};", eval.len()),
        format!("pub const EVAL_SAMPLES: usize = {};", eval.len() / input_len),
    ] {
        writeln!(rs, "{decl}").expect("writing to a String");
    }
    rs
}

fn selected_board() -> &'static str {
    let selected: Vec<&(&str, &str)> = BOARDS
        .iter()
        .filter(|(feature, _)| {
            let var = format!("CARGO_FEATURE_{}", feature.to_uppercase().replace('-', "_"));
            env::var_os(var).is_some()
        })
        .collect();
    match selected.as_slice() {
        [(_, id)] => id,
        _ => {
            let all: Vec<&str> = BOARDS.iter().map(|(feature, _)| *feature).collect();
            let chosen: Vec<&str> = selected.iter().map(|(feature, _)| *feature).collect();
            panic!(
                "select exactly one board feature, e.g. `--features board-sim-m4` \
                 (selected: [{}]; available: {})",
                chosen.join(", "),
                all.join(", ")
            )
        }
    }
}

/// Reads a variable, telling cargo to rebuild when it changes.
fn var(name: &str) -> Option<String> {
    println!("cargo::rerun-if-env-changed={name}");
    match env::var(name) {
        Ok(value) => Some(value),
        Err(env::VarError::NotPresent) => None,
        Err(env::VarError::NotUnicode(value)) => panic!("{name}={value:?} is not UTF-8"),
    }
}

fn load_board(board_id: &str) -> tinybench_config::Board {
    let path = match var("TINYBENCH_BOARD_FILE") {
        Some(path) => PathBuf::from(path),
        None => {
            let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
            manifest_dir.join("../../configs/boards").join(format!("{board_id}.toml"))
        }
    };
    println!("cargo::rerun-if-changed={}", path.display());
    let board = tinybench_config::Board::from_file(&path).unwrap_or_else(|err| panic!("{err}"));
    if board.id != board_id {
        panic!(
            "{} describes board `{}`, but the firmware is built with feature `board-{board_id}`; \
             point TINYBENCH_BOARD_FILE at {board_id}.toml or build with `--features board-{}`",
            path.display(),
            board.id,
            board.id
        );
    }
    board
}

/// The marker register writes (from the board file) and the power
/// measurement options. Options that are off add no code: the timed image
/// is the same as without them.
fn power_params(board: &tinybench_config::Board) -> String {
    println!("cargo::rustc-check-cfg=cfg(marker)");
    println!("cargo::rustc-check-cfg=cfg(idle)");
    println!("cargo::rustc-check-cfg=cfg(layer_marks)");
    let idle_ms = param("TINYBENCH_IDLE_MS", 0u32, "whole milliseconds up to 10000 (0: no idle wait)", |s| {
        s.parse().ok().filter(|&n: &u32| n <= 10_000)
    });
    let layer_marks = param("TINYBENCH_LAYER_MARKS", false, "0 or 1", |s| match s {
        "0" => Some(false),
        "1" => Some(true),
        _ => None,
    });
    let mut rs = String::new();
    let mut line = |decl: String| writeln!(rs, "{decl}").expect("writing to a String");
    line(format!("pub const IDLE_MS: u32 = {idle_ms};"));
    line(format!("pub const LAYER_MARKS: bool = {layer_marks};"));
    match &board.marker {
        Some(m) => {
            println!("cargo::rustc-cfg=marker");
            line(format!("pub const MARKER_SET_ADDRESS: u32 = {:#010x};", m.set_address));
            line(format!("pub const MARKER_SET_VALUE: u32 = {:#010x};", m.set_value));
            line(format!("pub const MARKER_CLEAR_ADDRESS: u32 = {:#010x};", m.clear_address));
            line(format!("pub const MARKER_CLEAR_VALUE: u32 = {:#010x};", m.clear_value));
        }
        None if layer_marks => panic!(
            "TINYBENCH_LAYER_MARKS=1 needs a marker pin: add marker-pin and [marker] to {}",
            board.path.display()
        ),
        None => {}
    }
    if idle_ms > 0 {
        println!("cargo::rustc-cfg=idle");
    }
    if layer_marks {
        println!("cargo::rustc-cfg=layer_marks");
    }
    rs
}

/// Parses `name`'s value with `parse`, or returns `default` when unset.
fn param<T>(name: &str, default: T, expected: &str, parse: impl Fn(&str) -> Option<T>) -> T {
    match var(name) {
        None => default,
        Some(value) => {
            parse(value.trim()).unwrap_or_else(|| panic!("{name}={value:?} is invalid: expected {expected}"))
        }
    }
}

fn positive(text: &str) -> Option<usize> {
    text.parse().ok().filter(|&n| n > 0)
}

/// `HxWxCIN:COUT`, e.g. `16x16x8:16`.
fn conv_shape(text: &str) -> Option<[usize; 4]> {
    let (image, output_channels) = text.split_once(':')?;
    let mut dims = image.split('x').map(positive);
    let shape = [dims.next()??, dims.next()??, dims.next()??, positive(output_channels)?];
    dims.next().is_none().then_some(shape)
}

/// The case's name is not among the parameters: labels stay on the host, so
/// renaming a case cannot move code in the timed image.
fn params_rs(board: &tinybench_config::Board, workload: &str) -> String {
    let warmup = param("TINYBENCH_WARMUP", 2u32, "a whole number (0 or more)", |s| s.parse().ok());
    let iterations = param("TINYBENCH_ITERATIONS", 10u32, "a whole number of at least 1", |s| {
        s.parse().ok().filter(|&n: &u32| n > 0)
    });
    let kernels =
        param("TINYBENCH_KERNELS", "reference".to_string(), &format!("one of: {}", KERNELS.join(", ")), |s| {
            KERNELS.contains(&s).then(|| s.to_string())
        });
    let self_test =
        param("TINYBENCH_SELF_TEST", "none".to_string(), &format!("one of: {}", SELF_TESTS.join(", ")), |s| {
            SELF_TESTS.contains(&s).then(|| s.to_string())
        });
    let clock_hz = u32::try_from(board.clock_hz).unwrap_or_else(|_| {
        panic!("{}: clock-hz {} does not fit the protocol's u32", board.path.display(), board.clock_hz)
    });

    let mut rs = String::from("// Generated by build.rs from the board file and TINYBENCH_* variables.\n");
    let mut line = |decl: String| writeln!(rs, "{decl}").expect("writing to a String");
    line(format!("pub const BOARD_ID: &str = {:?};", board.id));
    line(format!("pub const BOARD_CORE: &str = {:?};", board.core.as_str()));
    line(format!("pub const BOARD_CLOCK_HZ: u32 = {clock_hz};"));
    line(format!("pub const WORKLOAD: &str = {workload:?};"));
    line(format!("pub const WARMUP: u32 = {warmup};"));
    line(format!("pub const ITERATIONS: u32 = {iterations};"));
    line(format!("pub const KERNELS: &str = {kernels:?};"));
    line(format!("pub const SELF_TEST: &str = {self_test:?};"));
    rs
}
