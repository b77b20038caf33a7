//! Bit-exactness against LiteRT's builtin reference kernels on the MLPerf
//! Tiny models with the LiteRT vectors in the repository's `models/mlperf-tiny/`
//! (kws, ad, ic, vww, strww; made by `scripts/mlperf-reference-vectors.py`): every op's output for sample 0 first, to localize a mismatch,
//! then every sample of `inputs.bin` (`count` in `meta.json`).
//! Every kernel set (`reference`, `fused`, `simd`) must match the vectors;
//! int4 variants (lossy, no LiteRT reference) must agree across the sets.

use std::path::{Path, PathBuf};

use tinybench_kernels::tbm::FLAG_FUSE_NEXT;
use tinybench_kernels::tbm::Model;
use tinybench_model::{Flavor, Interpreter, Kernels, WeightFormat, tflite};

/// A file or folder under the repository's `models/mlperf-tiny/`.
fn in_repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/mlperf-tiny").join(rel)
}

fn read(rel: &str) -> Vec<u8> {
    let path = in_repo(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn read_in(dir: &Path, file: &str) -> Vec<u8> {
    let path = dir.join(file);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The folder's name (`kws`, `ic`, ...) for messages.
fn short(dir: &Path) -> String {
    dir.file_name().map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into_owned())
}

fn as_i8(bytes: Vec<u8>) -> Vec<i8> {
    bytes.into_iter().map(|b| b as i8).collect()
}

fn interpreter(rel: &str) -> Interpreter {
    interpreter_at(&in_repo(rel))
}

fn interpreter_at(path: &Path) -> Interpreter {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let image = tinybench_model::load(&bytes, path).unwrap();
    Interpreter::new(&image).unwrap()
}

/// Runs sample 0 of `dir` and compares each layer's output with `dir/sample0_ops/`.
fn every_op_matches(dir: &Path, model: &str) {
    let interp = interpreter_at(&dir.join(model));
    let index: serde_json::Value = serde_json::from_slice(&read_in(dir, "sample0_ops/index.json")).unwrap();
    let model_view = interp.model().unwrap();
    let input = as_i8(read_in(dir, "inputs.bin"));
    let per_sample = model_view.input().len;
    let mut outputs: Vec<(usize, Vec<i8>)> = Vec::new();
    interp
        .run_observed(Kernels::Reference, &input[..per_sample], &mut |layer, out| {
            let source = usize::from(model_view.entry(layer).unwrap().source_index);
            outputs.push((source, out.to_vec()));
        })
        .unwrap();
    let ops = index.as_array().unwrap();
    assert_eq!(ops.len(), outputs.len(), "one dump per TFLite operator");
    for op in ops {
        let op_index = op["op_index"].as_u64().unwrap() as usize;
        let expected = as_i8(read_in(dir, &format!("sample0_ops/{}", op["file"].as_str().unwrap())));
        let (_, got) = outputs.iter().find(|(s, _)| *s == op_index).expect("layer for every op");
        let differing = got.iter().zip(&expected).filter(|(a, b)| a != b).count();
        assert!(
            got.len() == expected.len() && differing == 0,
            "{} op {op_index} ({}): {differing} of {} bytes differ; first at {:?}",
            short(dir),
            op["op"],
            expected.len(),
            got.iter().zip(&expected).position(|(a, b)| a != b)
        );
    }
}

/// Runs all `count` samples (`meta.json`) of `dir/inputs.bin` with `kernels`
/// and compares with `dir/outputs.bin`.
fn all_samples_match(dir: &Path, model: &str, kernels: Kernels) {
    let interp = interpreter_at(&dir.join(model));
    let meta: serde_json::Value = serde_json::from_slice(&read_in(dir, "meta.json")).unwrap();
    let count = meta["count"].as_u64().unwrap() as usize;
    let (input, output) = (as_i8(read_in(dir, "inputs.bin")), as_i8(read_in(dir, "outputs.bin")));
    let (in_len, out_len) = (interp.input().unwrap().len, interp.output().unwrap().len);
    assert_eq!(meta["input"]["bytes_per_sample"].as_u64(), Some(in_len as u64));
    assert_eq!(meta["output"]["bytes_per_sample"].as_u64(), Some(out_len as u64));
    assert!(count > 0);
    assert_eq!(input.len(), count * in_len, "{}: inputs.bin holds {count} samples", short(dir));
    assert_eq!(output.len(), count * out_len, "{}: outputs.bin holds {count} samples", short(dir));
    for (sample, (x, expected)) in input.chunks_exact(in_len).zip(output.chunks_exact(out_len)).enumerate() {
        let got = interp.run(kernels, x).unwrap();
        assert_eq!(got, expected, "{} sample {sample} with the {} kernels", short(dir), kernels.name());
    }
}

/// Sample 0 with `kernels`: every layer output it exposes (a fused group
/// shows only its last layer) equals the reference's for that layer.
fn observed_layers_match_reference(interp: &Interpreter, input: &[i8], kernels: Kernels) -> usize {
    let mut reference: Vec<Vec<i8>> = Vec::new();
    interp.run_observed(Kernels::Reference, input, &mut |_, out| reference.push(out.to_vec())).unwrap();
    let mut seen = 0;
    interp
        .run_observed(kernels, input, &mut |layer, out| {
            assert_eq!(out, reference[layer].as_slice(), "layer {layer} with the {} kernels", kernels.name());
            seen += 1;
        })
        .unwrap();
    seen
}

#[test]
fn kws_sample0_every_op_matches_litert() {
    every_op_matches(&in_repo("kws"), "kws_ref_model.tflite");
}

#[test]
fn kws_32_samples_match_litert() {
    all_samples_match(&in_repo("kws"), "kws_ref_model.tflite", Kernels::Reference);
}

#[test]
fn kws_32_samples_match_litert_fused() {
    all_samples_match(&in_repo("kws"), "kws_ref_model.tflite", Kernels::Fused);
}

#[test]
fn kws_32_samples_match_litert_simd() {
    all_samples_match(&in_repo("kws"), "kws_ref_model.tflite", Kernels::Simd);
}

#[test]
fn kws_fused_and_simd_layers_match_reference() {
    let interp = interpreter("kws/kws_ref_model.tflite");
    let input = as_i8(read("kws/inputs.bin"));
    let sample = &input[..interp.input().unwrap().len];
    let layers = interp.model().unwrap().layer_count();
    assert_eq!(observed_layers_match_reference(&interp, sample, Kernels::Simd), layers);
    // The last conv and the average pool run as one group: one layer fewer to observe.
    assert_eq!(observed_layers_match_reference(&interp, sample, Kernels::Fused), layers - 1);
}

#[test]
fn ad_sample0_every_op_matches_litert() {
    every_op_matches(&in_repo("ad"), "ad01_int8.tflite");
}

#[test]
fn ad_32_samples_match_litert() {
    all_samples_match(&in_repo("ad"), "ad01_int8.tflite", Kernels::Reference);
}

#[test]
fn ad_32_samples_match_litert_fused() {
    all_samples_match(&in_repo("ad"), "ad01_int8.tflite", Kernels::Fused);
}

#[test]
fn ad_32_samples_match_litert_simd() {
    all_samples_match(&in_repo("ad"), "ad01_int8.tflite", Kernels::Simd);
}

#[test]
fn ic_sample0_every_op_matches_litert() {
    every_op_matches(&in_repo("ic"), "pretrainedResnet_quant.tflite");
}

#[test]
fn ic_32_samples_match_litert() {
    all_samples_match(&in_repo("ic"), "pretrainedResnet_quant.tflite", Kernels::Reference);
}

#[test]
fn ic_32_samples_match_litert_fused() {
    all_samples_match(&in_repo("ic"), "pretrainedResnet_quant.tflite", Kernels::Fused);
}

#[test]
fn ic_32_samples_match_litert_simd() {
    all_samples_match(&in_repo("ic"), "pretrainedResnet_quant.tflite", Kernels::Simd);
}

#[test]
fn vww_sample0_every_op_matches_litert() {
    every_op_matches(&in_repo("vww"), "vww_96_int8.tflite");
}

#[test]
fn vww_8_samples_match_litert() {
    all_samples_match(&in_repo("vww"), "vww_96_int8.tflite", Kernels::Reference);
}

#[test]
fn vww_8_samples_match_litert_fused() {
    all_samples_match(&in_repo("vww"), "vww_96_int8.tflite", Kernels::Fused);
}

#[test]
fn vww_8_samples_match_litert_simd() {
    all_samples_match(&in_repo("vww"), "vww_96_int8.tflite", Kernels::Simd);
}

#[test]
fn strww_sample0_every_op_matches_litert() {
    every_op_matches(&in_repo("strww"), "str_ww_ref_model.tflite");
}

#[test]
fn strww_32_samples_match_litert() {
    all_samples_match(&in_repo("strww"), "str_ww_ref_model.tflite", Kernels::Reference);
}

#[test]
fn strww_32_samples_match_litert_fused() {
    all_samples_match(&in_repo("strww"), "str_ww_ref_model.tflite", Kernels::Fused);
}

#[test]
fn strww_32_samples_match_litert_simd() {
    all_samples_match(&in_repo("strww"), "str_ww_ref_model.tflite", Kernels::Simd);
}

/// int4 is lossy: no LiteRT reference. Every kernel set must give the same
/// bytes on all 32 samples, and the filters must take about half the bytes.
fn int4_kernel_sets_agree(dir: &str, model: &str) {
    let rel = format!("{dir}/{model}");
    let int8 = tinybench_model::import(&read(&rel), &in_repo(&rel), WeightFormat::Int8).unwrap();
    let int4 = tinybench_model::import(&read(&rel), &in_repo(&rel), WeightFormat::Int4).unwrap();
    assert!(int4.len() < int8.len() * 3 / 4, "{dir}: int4 image {} B vs int8 {} B", int4.len(), int8.len());
    let interp = Interpreter::new(&int4).unwrap();
    let input = as_i8(read(&format!("{dir}/inputs.bin")));
    let in_len = interp.input().unwrap().len;
    let mut differs_from_int8 = false;
    let int8_interp = Interpreter::new(&int8).unwrap();
    for (sample, x) in input.chunks_exact(in_len).enumerate() {
        let reference = interp.run(Kernels::Reference, x).unwrap();
        for kernels in [Kernels::Fused, Kernels::Simd] {
            assert_eq!(interp.run(kernels, x).unwrap(), reference, "{dir} int4 sample {sample}, {}", kernels.name());
        }
        differs_from_int8 |= int8_interp.run(Kernels::Reference, x).unwrap() != reference;
    }
    // The int4 filters really are in use (a 4-bit model does not reproduce the 8-bit one).
    assert!(differs_from_int8, "{dir}: int4 outputs identical to int8 on every sample");
}

#[test]
fn kws_int4_every_kernel_set_agrees() {
    int4_kernel_sets_agree("kws", "kws_ref_model.tflite");
}

#[test]
fn ad_int4_every_kernel_set_agrees() {
    int4_kernel_sets_agree("ad", "ad01_int8.tflite");
}

/// Imports a model from `models/mlperf-tiny` and runs a deterministic input.
fn imports_and_runs(rel: &str, input_dims: &[u16], output_dims: &[u16]) -> Vec<i8> {
    let interp = interpreter(rel);
    let model = interp.model().unwrap();
    assert_eq!(model.input().dims(), input_dims);
    assert_eq!(model.output().dims(), output_dims);
    let input: Vec<i8> = (0..model.input().len).map(|i| ((i * 37 + 11) % 256) as u8 as i8).collect();
    interp.run(Kernels::Reference, &input).unwrap()
}

#[test]
fn ic_resnet8_imports_and_runs() {
    let out = imports_and_runs("ic/pretrainedResnet_quant.tflite", &[1, 32, 32, 3], &[1, 10]);
    assert_eq!(out.len(), 10);
}

#[test]
fn vww_mobilenet_imports_and_runs() {
    let out = imports_and_runs("vww/vww_96_int8.tflite", &[1, 96, 96, 3], &[1, 2]);
    assert_eq!(out.len(), 2);
}

#[test]
fn strww_imports_and_runs() {
    let out = imports_and_runs("strww/str_ww_ref_model.tflite", &[1, 30, 1, 40], &[1, 3]);
    assert_eq!(out.len(), 3);
}

#[test]
fn kws_layer_table_and_plan() {
    let interp = interpreter("kws/kws_ref_model.tflite");
    let model = interp.model().unwrap();
    let rows = tinybench_model::report::rows(&model).unwrap();
    let ops: Vec<&str> = rows.iter().map(|r| r.op).collect();
    assert_eq!(
        ops,
        [
            "CONV_2D",
            "DEPTHWISE_CONV_2D",
            "CONV_2D",
            "DEPTHWISE_CONV_2D",
            "CONV_2D",
            "DEPTHWISE_CONV_2D",
            "CONV_2D",
            "DEPTHWISE_CONV_2D",
            "CONV_2D",
            "AVERAGE_POOL_2D",
            "RESHAPE",
            "FULLY_CONNECTED",
            "SOFTMAX"
        ]
    );
    // First conv: 25x5x64 outputs x (10x4x1) taps = 320_000 MACs.
    assert_eq!(rows[0].macs, 25 * 5 * 64 * 40);
    // Two 25x5x64 int8 buffers ping-pong: 8000 bytes each (+ the 490-byte input is dead by then),
    // plus the pool's 64-byte output: the last conv and the pool form a fused group, so the
    // conv's input stays alive until the pool has written (see plan::fuse_next).
    assert_eq!(model.arena_bytes(), 16_064);
    let fused: Vec<usize> =
        (0..model.layer_count()).filter(|&i| model.entry(i).unwrap().flags & FLAG_FUSE_NEXT != 0).collect();
    assert_eq!(fused, [8]);
}

#[test]
fn tflite_micro_flavor_selects_fixed_point_softmax() {
    let rel = "kws/kws_ref_model.tflite";
    let graph = tflite::import(&read(rel), &in_repo(rel), Flavor::TfliteMicro).unwrap();
    let image = tinybench_model::compile(&graph).unwrap();
    let model_bytes = Interpreter::new(&image).unwrap();
    let view: Model<'_> = model_bytes.model().unwrap();
    let last = view.entry(view.layer_count() - 1).unwrap();
    assert_eq!(last.op, tinybench_kernels::tbm::OpCode::SoftmaxFixedPoint);
}
