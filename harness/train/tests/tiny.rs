//! Training, pruning and quantization on a tiny subset (200 digits, an
//! 8-16-16 network, a few short epochs): seconds, not minutes.

use std::path::{Path, PathBuf};

use tinybench_model::Kernels;
use tinybench_train::data::{self, Digits};
use tinybench_train::net::Params;
use tinybench_train::train::{self, TrainOptions};
use tinybench_train::{family, prune, quant};

fn model_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/mnist-cnn")
}

fn subset(n: usize) -> Digits {
    let d = model_dir().join("data");
    let all = data::load(&d.join("mnist10k-images-idx3-ubyte.gz"), &d.join("mnist10k-labels-idx1-ubyte.gz")).unwrap();
    assert_eq!(all.len(), 10_000);
    all.slice(0..n)
}

fn options(epochs: usize) -> TrainOptions {
    TrainOptions { seed: 3, epochs, batch: 16, learning_rate: 0.01, weight_decay: 0.0, max_shift: 0, weight_bits: None }
}

fn trained(digits: &Digits) -> (Params, Vec<train::EpochReport>) {
    train::train(&Params::init([8, 16, 16], 3), digits, None, &options(6), &mut |_| {}).unwrap()
}

#[test]
fn training_lowers_the_loss_and_is_deterministic() {
    let digits = subset(200);
    let (a, reports) = trained(&digits);
    assert!(reports.windows(2).all(|w| w[1].loss < w[0].loss), "{reports:?}");
    assert!(reports[5].loss < reports[0].loss - 0.05, "{reports:?}");
    let (b, _) = trained(&digits);
    assert_eq!(a, b, "same seed, same weights");
    assert_ne!(a, Params::init([8, 16, 16], 3));
}

/// Predictions of the quantized graph on the host engine.
fn engine_predictions(graph: &tinybench_model::Graph, digits: &Digits, kernels: Kernels) -> Vec<u8> {
    let image = tinybench_model::compile(graph).unwrap();
    let inputs: Vec<i8> = digits.engine_inputs().into_iter().map(|b| b as i8).collect();
    family::predict_engine(&image, &inputs, kernels).unwrap()
}

fn agreement(a: &[u8], b: &[u8]) -> f64 {
    a.iter().zip(b).filter(|(x, y)| x == y).count() as f64 / a.len() as f64
}

#[test]
fn int8_and_int4_agree_with_float_on_the_host_engine() {
    let digits = subset(200);
    let (params, _) = trained(&digits);
    let float = train::predict(&params, &digits, None).unwrap();
    let g8 = quant::quantize(&params, 8, &digits).unwrap();
    let int8 = engine_predictions(&g8, &digits, Kernels::Reference);
    assert!(agreement(&int8, &float) >= 0.95, "int8 agrees on {}", agreement(&int8, &float));
    // int4 compared with the float network evaluated on the same 4-bit weights.
    let g4 = quant::quantize(&params, 4, &digits).unwrap();
    let int4 = engine_predictions(&g4, &digits, Kernels::Reference);
    let float4 = train::predict(&params, &digits, Some(4)).unwrap();
    assert!(agreement(&int4, &float4) >= 0.95, "int4 agrees on {}", agreement(&int4, &float4));
    assert!(g4.layers.iter().all(|l| l.weights.filter.iter().all(|w| (-7..=7).contains(w))));
    // The input encoding is the same for every variant.
    for g in [&g8, &g4] {
        let t = &g.tensors[g.input];
        assert_eq!((t.scale, t.zero_point), (1.0 / 255.0, -128));
    }
    // Weight bytes: filters + 12 bytes per output channel; int4 packs two weights a byte.
    let weights = 72 + 1152 + 2304 + 1440;
    let channels = 8 + 16 + 16 + 10;
    assert_eq!(quant::weight_bytes(&g8), weights + 12 * channels);
    assert_eq!(quant::packed_weight_bytes(&g4, 4), weights / 2 + 12 * channels);
}

#[test]
fn pruning_removes_the_weakest_channels_and_the_graph_still_runs() {
    let digits = subset(200);
    let (params, _) = trained(&digits);
    let (pruned, kept) = prune::prune(&params, 0.5);
    assert_eq!(pruned.channels(), [4, 8, 8]);
    pruned.check().unwrap();
    // conv1 ranks its own filters (later layers rank theirs after losing the
    // pruned input channels; the unit test in prune.rs covers that).
    let norm = |o: usize| params.convs[0].filter(o).iter().map(|w| w.abs()).sum::<f32>();
    let weakest_kept = kept[0].iter().map(|&o| norm(o)).fold(f32::MAX, f32::min);
    let strongest_dropped = (0..8).filter(|o| !kept[0].contains(o)).map(norm).fold(0.0, f32::max);
    assert!(weakest_kept >= strongest_dropped);
    assert!(kept.iter().zip([8, 16, 16]).all(|(k, n)| k.len() == n / 2 && k.iter().all(|&c| c < n)));
    let (tuned, reports) = train::train(&pruned, &digits, None, &options(1), &mut |_| {}).unwrap();
    assert!(reports[0].loss.is_finite());
    let g = quant::quantize(&tuned, 8, &digits).unwrap();
    assert_eq!(quant::weight_bytes(&g), (36 + 288 + 576 + 720) + 12 * (4 + 8 + 8 + 10));
    assert_eq!(engine_predictions(&g, &digits, Kernels::Reference).len(), 200);
}
