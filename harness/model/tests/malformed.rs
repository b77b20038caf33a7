//! A malformed or truncated model gives an error, never a panic: the real
//! MLPerf Tiny models truncated and mutated at random, through import,
//! compile and (for `.tbm`) parse.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use tinybench_kernels::tbm::{Model, TbmError};
use tinybench_model::{Error, Flavor, tflite};

fn model_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/mlperf-tiny").join(rel)
}

fn kws() -> &'static [u8] {
    static BYTES: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BYTES.get_or_init(|| std::fs::read(model_path("kws/kws_ref_model.tflite")).unwrap())
}

fn ic() -> &'static [u8] {
    static BYTES: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BYTES.get_or_init(|| std::fs::read(model_path("ic/pretrainedResnet_quant.tflite")).unwrap())
}

/// Import + compile + parse + run; any outcome but a panic is fine.
fn survive(bytes: &[u8]) {
    let Ok(graph) = tflite::import(bytes, Path::new("fuzz.tflite"), Flavor::LiteRt) else { return };
    let Ok(image) = tinybench_model::compile(&graph) else { return };
    let Ok(interp) = tinybench_model::Interpreter::new(&image) else { return };
    let Ok(model) = interp.model() else { return };
    // Skip absurd arenas a mutated shape can ask for; they are not a panic.
    if model.arena_bytes() < 1 << 24 {
        let input = vec![0i8; model.input().len];
        let _ = interp.run(tinybench_model::Kernels::Reference, &input);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn truncated_tflite_is_an_error(cut in 0usize..53_936) {
        let bytes = kws();
        let cut = cut.min(bytes.len() - 1);
        survive(&bytes[..cut]);
        // Cutting the weights away is always noticed: offsets point past the end.
        prop_assert!(tflite::import(&bytes[..cut], Path::new("cut.tflite"), Flavor::LiteRt).is_err());
    }

    #[test]
    fn mutated_tflite_never_panics(edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16), resnet in any::<bool>()) {
        let mut bytes = if resnet { ic().to_vec() } else { kws().to_vec() };
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        survive(&bytes);
    }

    #[test]
    fn mutated_or_truncated_tbm_is_refused(at in any::<prop::sample::Index>(), value in any::<u8>(), cut in any::<bool>()) {
        let image = tinybench_model::load(kws(), Path::new("kws.tflite")).unwrap();
        let mut bad = image.clone();
        let i = at.index(bad.len());
        if cut {
            bad.truncate(i);
        } else {
            prop_assume!(bad[i] != value);
            bad[i] = value;
        }
        prop_assert!(Model::parse(&bad).is_err());
    }
}

#[test]
fn garbage_and_empty_files_are_malformed_not_panics() {
    for bytes in [&b""[..], b"TFL3", &[0xff; 64], b"\x10\x00\x00\x00TFL3\x00\x00\x00\x00"] {
        let err = tflite::import(bytes, Path::new("bad.tflite"), Flavor::LiteRt).unwrap_err();
        assert!(matches!(err, Error::Malformed { .. }), "{err}");
        assert!(err.to_string().starts_with("bad.tflite: not a valid TFLite model"), "{err}");
    }
}

#[test]
fn a_flipped_weight_byte_fails_the_checksum() {
    let mut image = tinybench_model::load(kws(), Path::new("kws.tflite")).unwrap();
    let last = image.len() - 20;
    image[last] ^= 1;
    assert!(matches!(Model::parse(&image), Err(TbmError::ChecksumMismatch { .. })));
}
