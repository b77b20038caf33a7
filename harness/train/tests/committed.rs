//! The committed variants (models/mnist-cnn/variants/*.tbm) load, reach
//! exactly the accuracy `variants.json` documents on the 2,000 test digits
//! with the host engine, and give the same predictions with every kernel
//! set, and meet the issue's size/accuracy bounds, with the pruned variants
//! (two pruning ratios) on the size/accuracy Pareto front.

use std::path::{Path, PathBuf};

use tinybench_model::Kernels;
use tinybench_train::data;
use tinybench_train::family::{self, VariantRow, VariantTable};

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

/// `(a, b)` for every pruned variant `b` that another variant `a` dominates:
/// `a` has no more weight bytes and no lower test accuracy, and is strictly
/// better in one. Written out here rather than calling the generator's
/// `family::dominates`, so a mistake there cannot hide one here.
fn dominated_pruned(rows: &[VariantRow]) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for b in rows.iter().filter(|r| r.prune > 0.0) {
        for a in rows {
            let no_worse = a.weight_bytes <= b.weight_bytes && a.correct >= b.correct;
            let better = a.weight_bytes < b.weight_bytes || a.correct > b.correct;
            if no_worse && better {
                found.push((a.name.clone(), b.name.clone()));
            }
        }
    }
    found
}

#[test]
fn the_pruned_variants_sit_on_the_pareto_front() {
    let rows = table().variants;
    assert!(rows.iter().all(|r| r.test_digits == 2000), "accuracies over different test sets do not compare");
    // Issue 5: structured channel pruning at two ratios, each a smaller network than the full one.
    let full = rows.iter().find(|r| r.name == "int8").unwrap();
    let mut ratios: Vec<f64> = rows.iter().filter(|r| r.prune > 0.0).map(|r| r.prune).collect();
    ratios.sort_by(f64::total_cmp);
    ratios.dedup();
    assert!(ratios.len() >= 2, "pruning ratios {ratios:?}");
    for r in rows.iter().filter(|r| r.prune > 0.0) {
        assert!(r.parameters < full.parameters && r.channels.iter().zip(full.channels).all(|(p, f)| *p < f), "{r:?}");
    }
    assert_eq!(dominated_pruned(&rows), Vec::<(String, String)>::new(), "(dominating, dominated pruned variant)");
}

#[test]
fn the_pareto_check_catches_a_dominated_pruned_variant() {
    // The family before issue 5 was closed (weight bytes, correct of 2,000):
    // `int4` dominated `pruned25-int8`, `pruned50-int4` dominated `pruned50-int8`.
    let template = table().variants[0].clone();
    let row = |name: &str, prune: f64, weight_bytes: usize, correct: usize| VariantRow {
        name: name.into(),
        prune,
        weight_bytes,
        correct,
        accuracy: correct as f64 / 20.0,
        ..template.clone()
    };
    let old = [
        row("int8", 0.0, 9012, 1977),
        row("int4", 0.0, 4890, 1972),
        row("pruned25-int8", 0.25, 5868, 1962),
        row("pruned50-int8", 0.5, 3198, 1950),
        row("pruned50-int4", 0.5, 1821, 1951),
    ];
    let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
    assert_eq!(dominated_pruned(&old), [pair("int4", "pruned25-int8"), pair("pruned50-int4", "pruned50-int8")]);
    // A tie in both is not domination; one digit fewer at the same size is.
    assert!(dominated_pruned(&[row("a", 0.0, 100, 1900), row("pruned-a", 0.5, 100, 1900)]).is_empty());
    assert_eq!(dominated_pruned(&[row("a", 0.0, 100, 1900), row("pruned-b", 0.5, 100, 1899)]), [pair("a", "pruned-b")]);
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
