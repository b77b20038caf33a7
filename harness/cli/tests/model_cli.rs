//! `tinybench model import` / `model run` end to end on the MLPerf Tiny KWS model.

use std::path::{Path, PathBuf};
use std::process::Command;

fn shared(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/mlperf-tiny").join(rel)
}

fn tinybench(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tinybench")).args(args).output().unwrap()
}

#[test]
fn import_then_run_is_bit_exact_with_litert() {
    let dir = tempfile::tempdir().unwrap();
    let tbm = dir.path().join("kws.tbm");
    let out = dir.path().join("out.bin");
    let model = shared("kws/kws_ref_model.tflite");
    let import = tinybench(&["model".as_ref(), "import".as_ref(), model.as_os_str(), "-o".as_ref(), tbm.as_os_str()]);
    assert!(import.status.success(), "{}", String::from_utf8_lossy(&import.stderr));
    let inputs = shared("kws/inputs.bin");
    let run = tinybench(&[
        "model".as_ref(),
        "run".as_ref(),
        tbm.as_os_str(),
        "--input".as_ref(),
        inputs.as_os_str(),
        "--output".as_ref(),
        out.as_os_str(),
        "--kernels".as_ref(),
        "reference".as_ref(),
    ]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(stdout.contains("arena peak: 16000 bytes"), "{stdout}");
    assert!(stdout.contains("DEPTHWISE_CONV_2D  1x25x5x64"), "{stdout}");
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(shared("kws/outputs.bin")).unwrap());
}

#[test]
fn a_truncated_model_exits_2_with_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.tflite");
    std::fs::write(&cut, &std::fs::read(shared("kws/kws_ref_model.tflite")).unwrap()[..1000]).unwrap();
    let tbm = dir.path().join("x.tbm");
    let out = tinybench(&["model".as_ref(), "import".as_ref(), cut.as_os_str(), "-o".as_ref(), tbm.as_os_str()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cut.tflite: not a valid TFLite model"), "{stderr}");
    assert!(!tbm.exists());
}
