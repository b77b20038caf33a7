//! `tinybench model import` / `model run` end to end on the MLPerf Tiny KWS model.

mod support;

use std::path::Path;

use support::{mlperf, tinybench};

#[test]
fn import_then_run_is_bit_exact_with_litert() {
    let dir = tempfile::tempdir().unwrap();
    let tbm = dir.path().join("kws.tbm");
    let out = dir.path().join("out.bin");
    let model = mlperf("kws/kws_ref_model.tflite");
    let import = tinybench(&["model", "import", model.to_str().unwrap(), "-o", tbm.to_str().unwrap()]);
    assert!(import.status.success(), "{}", String::from_utf8_lossy(&import.stderr));
    let inputs = mlperf("kws/inputs.bin");
    for kernels in ["reference", "fused", "simd"] {
        let run = tinybench(&[
            "model",
            "run",
            tbm.to_str().unwrap(),
            "--input",
            inputs.to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
            "--kernels",
            kernels,
        ]);
        assert!(run.status.success(), "{kernels}: {}", String::from_utf8_lossy(&run.stderr));
        let stdout = String::from_utf8_lossy(&run.stdout);
        // 2 x 8000 B ping-pong + the fused conv+pool group's 64 B output.
        assert!(stdout.contains("arena peak: 16064 bytes"), "{stdout}");
        assert!(stdout.lines().any(|l| l.contains("DEPTHWISE_CONV_2D") && l.contains("1x25x5x64")), "{stdout}");
        assert!(stdout.contains(&format!("with the {kernels} kernels")), "{stdout}");
        assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(mlperf("kws/outputs.bin")).unwrap(), "{kernels}");
    }
}

#[test]
fn int4_import_runs_alike_with_every_kernel_set() {
    let dir = tempfile::tempdir().unwrap();
    let model = mlperf("kws/kws_ref_model.tflite");
    let inputs = mlperf("kws/inputs.bin");
    let (tbm8, tbm4) = (dir.path().join("kws8.tbm"), dir.path().join("kws4.tbm"));
    for (tbm, weights) in [(&tbm8, "int8"), (&tbm4, "int4")] {
        let import =
            tinybench(&["model", "import", model.to_str().unwrap(), "-o", tbm.to_str().unwrap(), "--weights", weights]);
        assert!(import.status.success(), "{}", String::from_utf8_lossy(&import.stderr));
    }
    let size = |p: &Path| std::fs::metadata(p).unwrap().len();
    assert!(size(&tbm4) < size(&tbm8), "int4 {} B vs int8 {} B", size(&tbm4), size(&tbm8));
    let mut outputs = Vec::new();
    for kernels in ["reference", "fused", "simd"] {
        let out = dir.path().join(format!("{kernels}.bin"));
        // Straight from the .tflite with --weights int4: the same model as kws4.tbm.
        let run = tinybench(&[
            "model",
            "run",
            model.to_str().unwrap(),
            "--weights",
            "int4",
            "--input",
            inputs.to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
            "--kernels",
            kernels,
        ]);
        assert!(run.status.success(), "{kernels}: {}", String::from_utf8_lossy(&run.stderr));
        outputs.push(std::fs::read(&out).unwrap());
    }
    assert_eq!(outputs[0], outputs[1], "fused differs from reference on int4");
    assert_eq!(outputs[0], outputs[2], "simd differs from reference on int4");
    // --weights re-imports .tflite files only; a .tbm keeps its weights: exit 2 with a hint.
    let out = dir.path().join("x.bin");
    let run = tinybench(&[
        "model",
        "run",
        tbm4.to_str().unwrap(),
        "--weights",
        "int4",
        "--input",
        inputs.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("--weights applies to .tflite models"));
}

#[test]
fn a_truncated_model_exits_2_with_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.tflite");
    std::fs::write(&cut, &std::fs::read(mlperf("kws/kws_ref_model.tflite")).unwrap()[..1000]).unwrap();
    let tbm = dir.path().join("x.tbm");
    let out = tinybench(&["model", "import", cut.to_str().unwrap(), "-o", tbm.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cut.tflite: not a valid TFLite model"), "{stderr}");
    assert!(!tbm.exists());
}
