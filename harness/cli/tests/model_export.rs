//! `tinybench model export` end to end: a `.tbm` exported to `.tflite` and
//! run again gives LiteRT's reference outputs; the committed MNIST exports
//! are what the command writes; errors name the file and the layer.

mod support;

use std::ffi::OsStr;

use support::{mlperf, repo_root, tinybench};

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

#[test]
fn an_exported_tbm_runs_like_litert() {
    let dir = tempfile::tempdir().unwrap();
    let (tbm, tflite, out) = (dir.path().join("kws.tbm"), dir.path().join("kws.tflite"), dir.path().join("out.bin"));
    let model = mlperf("kws/kws_ref_model.tflite");
    let import = tinybench(&[os("model"), os("import"), model.as_os_str(), os("-o"), tbm.as_os_str()]);
    assert!(import.status.success(), "{}", String::from_utf8_lossy(&import.stderr));
    let export = tinybench(&[os("model"), os("export"), tbm.as_os_str(), os("-o"), tflite.as_os_str()]);
    assert!(export.status.success(), "{}", String::from_utf8_lossy(&export.stderr));
    let stdout = String::from_utf8_lossy(&export.stdout);
    assert!(stdout.contains("TFLite operators: CONV_2D, DEPTHWISE_CONV_2D, CONV_2D"), "{stdout}");
    assert!(stdout.contains("note: scales: derived from the .tbm's fixed-point parameters"), "{stdout}");
    assert!(stdout.contains(&format!("wrote {}", tflite.display())), "{stdout}");
    // `model run` imports the exported .tflite again: LiteRT's reference outputs.
    let inputs = mlperf("kws/inputs.bin");
    let run = tinybench(&[
        os("model"),
        os("run"),
        tflite.as_os_str(),
        os("--input"),
        inputs.as_os_str(),
        os("--output"),
        out.as_os_str(),
    ]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(mlperf("kws/outputs.bin")).unwrap());
}

#[test]
fn the_committed_mnist_export_is_what_the_command_writes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("int8.tflite");
    let tbm = repo_root().join("models/mnist-cnn/variants/int8.tbm");
    let export = tinybench(&[
        os("model"),
        os("export"),
        tbm.as_os_str(),
        os("--input-scale"),
        os("1/255"),
        os("-o"),
        out.as_os_str(),
    ]);
    assert!(export.status.success(), "{}", String::from_utf8_lossy(&export.stderr));
    let stdout = String::from_utf8_lossy(&export.stdout);
    assert!(stdout.contains("anchored at the given input scale"), "{stdout}");
    assert!(
        stdout.contains("layer 6 (FULLY_CONNECTED, double rounding) written as CONV_2D 3x3 VALID + RESHAPE"),
        "{stdout}"
    );
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(repo_root().join("models/mnist-cnn/variants/int8.tflite")).unwrap()
    );
}

#[test]
fn errors_name_the_file_and_exit_2_or_5() {
    let dir = tempfile::tempdir().unwrap();
    let kws4 = dir.path().join("kws4.tbm");
    let model = mlperf("kws/kws_ref_model.tflite");
    let import = tinybench(&[
        os("model"),
        os("import"),
        model.as_os_str(),
        os("--weights"),
        os("int4"),
        os("-o"),
        kws4.as_os_str(),
    ]);
    assert!(import.status.success(), "{}", String::from_utf8_lossy(&import.stderr));
    let out = dir.path().join("x.tflite");
    // int4 requantized after import: TFLite cannot compute those multipliers from float scales.
    let export = tinybench(&[os("model"), os("export"), kws4.as_os_str(), os("-o"), out.as_os_str()]);
    assert_eq!(export.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&export.stderr);
    assert!(stderr.contains("kws4.tbm: cannot export layer 0 (CONV_2D) to TFLite"), "{stderr}");
    assert!(!out.exists());
    // A file that is not there; a scale that is not one.
    let missing = dir.path().join("missing.tbm");
    let export = tinybench(&[os("model"), os("export"), missing.as_os_str(), os("-o"), out.as_os_str()]);
    assert_eq!(export.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&export.stderr).contains("cannot read"));
    let tbm = repo_root().join("models/mnist-cnn/variants/int8.tbm");
    let export =
        tinybench(&[os("model"), os("export"), tbm.as_os_str(), os("--input-scale=0"), os("-o"), out.as_os_str()]);
    assert_eq!(export.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&export.stderr).contains("`0` is not a positive scale"));
    // An output that cannot be written: exit 5.
    let unwritable = dir.path().join("no/such/dir/x.tflite");
    let export = tinybench(&[os("model"), os("export"), tbm.as_os_str(), os("-o"), unwritable.as_os_str()]);
    assert_eq!(export.status.code(), Some(5), "{}", String::from_utf8_lossy(&export.stderr));
    assert!(String::from_utf8_lossy(&export.stderr).contains("cannot write"));
}
