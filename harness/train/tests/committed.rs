//! The committed variants (models/mnist-cnn/variants/*.tbm) load, reach
//! exactly the accuracy `variants.json` documents on the 2,000 test digits
//! with the host engine, and give the same predictions with every kernel
//! set, and meet the issue's size/accuracy bounds (the Pareto condition on
//! the pruned variants is an ignored test until they meet it).

use std::path::{Path, PathBuf};

use tinybench_model::Kernels;
use tinybench_train::data;
use tinybench_train::family::{self, VariantTable};

fn model_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/mnist-cnn")
}

fn table() -> VariantTable {
    serde_json::from_str(&std::fs::read_to_string(model_dir().join("variants.json")).unwrap()).unwrap()
}

#[test]
fn committed_variants_reach_their_documented_accuracy() {
    let dir = model_dir();
    let (inputs, labels) =
        data::load_engine_test(&dir.join("data/test-inputs.bin"), &dir.join("data/test-labels.bin")).unwrap();
    assert_eq!(labels.len(), 2000);
    let table = table();
    for row in &table.variants {
        let image = std::fs::read(dir.join(&row.file)).unwrap();
        assert_eq!(image.len(), row.file_bytes, "{}", row.name);
        let predicted = family::predict_engine(&image, &inputs, Kernels::Reference).unwrap();
        let correct = predicted.iter().zip(&labels).filter(|(p, l)| p == l).count();
        assert_eq!(correct, row.correct, "{}", row.name);
    }
}

#[test]
fn the_family_meets_the_issue_bounds() {
    let rows = table().variants;
    let get = |name: &str| rows.iter().find(|r| r.name == name).unwrap();
    let int8 = get("int8");
    assert!(int8.weight_bytes <= 10 * 1024 && int8.accuracy >= 98.0, "{int8:?}");
    let int4 = get("int4");
    assert!(int4.weight_bytes <= 5 * 1024 && int4.accuracy >= 97.5, "{int4:?}");
}

#[test]
#[ignore = "issue 5: `int4` dominates `pruned25-int8` and `pruned50-int4` dominates `pruned50-int8`; see models/mnist-cnn/README.md"]
fn the_pruned_variants_sit_on_the_pareto_front() {
    let rows = table().variants;
    // Pareto: no variant is both smaller-or-equal and more accurate than another strictly.
    for a in &rows {
        for b in &rows {
            let dominates = a.weight_bytes <= b.weight_bytes
                && a.accuracy >= b.accuracy
                && (a.weight_bytes < b.weight_bytes || a.accuracy > b.accuracy);
            assert!(!dominates || !b.name.starts_with("pruned"), "{} dominates {}", a.name, b.name);
        }
    }
}

#[test]
fn every_kernel_set_predicts_the_same_classes() {
    let dir = model_dir();
    let (inputs, _) =
        data::load_engine_test(&dir.join("data/test-inputs.bin"), &dir.join("data/test-labels.bin")).unwrap();
    let inputs = &inputs[..200 * data::PIXELS];
    for row in table().variants {
        let image = std::fs::read(dir.join(&row.file)).unwrap();
        let reference = family::predict_engine(&image, inputs, Kernels::Reference).unwrap();
        for kernels in [Kernels::Fused, Kernels::Simd] {
            assert_eq!(family::predict_engine(&image, inputs, kernels).unwrap(), reference, "{}", row.name);
        }
    }
}
