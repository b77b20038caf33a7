//! TFLite export round trips: every MNIST variant and the MLPerf Tiny kws,
//! ad and ic models, exported to `.tflite` (from the `.tbm`, scales derived,
//! and from the source `.tflite`, scales kept), pass the structural check,
//! import back, and give the same output bytes on the host engine as the
//! original on the reference inputs. Bit-exactness with LiteRT itself is
//! checked by `scripts/check-tflite-export.py` (Python, not in CI).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use tinybench_model::flatbuf::Table;
use tinybench_model::{Flavor, Interpreter, Kernels, tflite, tflite_export};

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(rel)
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Outputs of `.tbm` images on one input set, each image run once.
struct Runs<'i> {
    inputs: &'i [u8],
    outputs: HashMap<Vec<u8>, Vec<u8>>,
}

impl Runs<'_> {
    fn of(&mut self, image: &[u8]) -> &[u8] {
        let inputs = self.inputs;
        self.outputs.entry(image.to_vec()).or_insert_with(|| {
            let interp = Interpreter::new(image).unwrap();
            let per = interp.input().unwrap().len;
            let mut out = Vec::new();
            for x in inputs.chunks_exact(per) {
                let x: Vec<i8> = x.iter().map(|&b| b as i8).collect();
                out.extend(interp.run(Kernels::Reference, &x).unwrap().iter().map(|&v| v as u8));
            }
            out
        })
    }
}

/// Exports `source` (a `.tbm` or `.tflite`), checks the file, imports it
/// back and compares its outputs with those of `image` (the `.tbm` the
/// source stands for). Returns the exported file and its re-imported `.tbm`.
fn round_trip(
    name: &str,
    source: &[u8],
    image: &[u8],
    runs: &mut Runs<'_>,
    input_scale: Option<f32>,
) -> (Vec<u8>, Vec<u8>) {
    let exported =
        tinybench_model::export(source, Path::new(name), input_scale).unwrap_or_else(|e| panic!("{name}: {e}"));
    tflite_export::verify(&exported.bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    let back = tflite::import(&exported.bytes, Path::new("exported.tflite"), Flavor::LiteRt)
        .unwrap_or_else(|e| panic!("{name}: the exported file does not import: {e}"));
    let reimported = tinybench_model::compile(&back).unwrap();
    let want = runs.of(image).to_vec();
    let got = runs.of(&reimported);
    let differing = want.iter().zip(got).filter(|(a, b)| a != b).count();
    assert!(want.len() == got.len() && differing == 0, "{name}: {differing} of {} output bytes differ", want.len());
    (exported.bytes, reimported)
}

/// Scale of every int8 activation (non-constant) tensor of a `.tflite`, in tensor order.
fn activation_scales(bytes: &[u8]) -> Vec<f32> {
    let model = Table::root(bytes).unwrap();
    let buffers = model.vector(4).unwrap().unwrap();
    let tensors = model.vector(2).unwrap().unwrap().table(0).unwrap().vector(0).unwrap().unwrap();
    (0..tensors.len())
        .map(|i| tensors.table(i).unwrap())
        .filter(|t| t.u8(1, 0).unwrap() == 9)
        .filter(|t| {
            let data = buffers.table(t.u32(2, 0).unwrap() as usize).unwrap().vector(0).unwrap();
            data.is_none_or(|d| d.is_empty())
        })
        .map(|t| t.table(4).unwrap().unwrap().vector(2).unwrap().unwrap().f32s().unwrap()[0])
        .collect()
}

#[test]
fn mnist_variants_round_trip_and_the_committed_exports_are_current() {
    let digits = read(&repo("models/mnist-cnn/data/test-inputs.bin"));
    let mut runs = Runs { inputs: &digits[..200 * 784], outputs: HashMap::new() };
    for variant in ["int8", "int4", "pruned25-int4", "pruned50-int4"] {
        let image = read(&repo(&format!("models/mnist-cnn/variants/{variant}.tbm")));
        // As models/mnist-cnn/README.md makes them: the input scale is 1/255.
        let (exported, _) = round_trip(variant, &image, &image, &mut runs, Some(1.0 / 255.0));
        let committed = repo(&format!("models/mnist-cnn/variants/{variant}.tflite"));
        assert!(
            read(&committed) == exported,
            "{} is not what `tinybench model export {variant}.tbm --input-scale 1/255` writes; re-export it",
            committed.display()
        );
        assert_eq!(activation_scales(&exported)[0], 1.0 / 255.0, "{variant}: input scale");
    }
}

#[test]
fn mlperf_models_round_trip() {
    for (name, model, inputs) in [
        ("kws", repo("models/mlperf-tiny/kws/kws_ref_model.tflite"), repo("models/mlperf-tiny/kws/inputs.bin")),
        ("ad", repo("models/mlperf-tiny/ad/ad01_int8.tflite"), repo("models/mlperf-tiny/ad/inputs.bin")),
        ("ic", repo("models/mlperf-tiny/ic/pretrainedResnet_quant.tflite"), repo("models/mlperf-tiny/ic/inputs.bin")),
    ] {
        let source = read(&model);
        let image = tinybench_model::load(&source, &model).unwrap();
        let inputs = read(&inputs);
        let mut runs = Runs { inputs: &inputs, outputs: HashMap::new() };

        // From the .tbm alone (derived scales): the very same .tbm comes back.
        let (derived, from_tbm) = round_trip(name, &image, &image, &mut runs, None);
        assert!(from_tbm == image, "{name}: re-imported .tbm (derived scales) differs from the original");
        // From the .tflite (its scales): the same again, and the scales are the source's.
        let (kept, from_tflite) = round_trip(name, &source, &image, &mut runs, None);
        assert!(from_tflite == image, "{name}: re-imported .tbm (source scales) differs from the original");
        let graph = tflite::import(&source, &model, Flavor::LiteRt).unwrap();
        let source_scales: Vec<f32> = graph.tensors.iter().map(|t| t.scale).collect();
        assert_eq!(activation_scales(&kept), source_scales, "{name}: source scales kept");
        // Per-channel layers pin mantissas: derived scales are the source's times powers of two.
        if name != "ad" {
            for (t, (d, s)) in activation_scales(&derived).iter().zip(&source_scales).enumerate() {
                let ratio = f64::from(*d) / f64::from(*s);
                assert_eq!(ratio.log2().fract(), 0.0, "{name} tensor {t}: derived {d}, source {s}");
            }
        }
    }
}
