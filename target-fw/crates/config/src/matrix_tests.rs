//! Tests of `[[matrix]]` expansion, through `RunConfig::from_file`.

use crate::run::tests::{Fixture, RUN};
use crate::{CaseConfig, KernelSet, Workload};

/// `RUN` without its case: board, target, power and run (16 lines), so
/// the tables a test appends start on line 17.
fn head() -> &'static str {
    RUN.split("[[case]]").next().unwrap()
}

fn load(f: &Fixture, tables: &str) -> Vec<CaseConfig> {
    f.load(&format!("{}{tables}", head())).unwrap_or_else(|e| panic!("{e}")).cases
}

fn error(tables: &str) -> String {
    Fixture::new().error(&format!("{}{tables}", head()))
}

fn names(cases: &[CaseConfig]) -> Vec<&str> {
    cases.iter().map(|c| c.name.as_str()).collect()
}

fn out_channels(c: &CaseConfig) -> u32 {
    match c.workload {
        Workload::Conv2d3x3 { out_channels, .. } => out_channels,
        Workload::Model { .. } => panic!("not a conv case"),
    }
}

#[test]
fn rows_are_the_product_leading_axes_first_last_axis_fastest() {
    let cases = load(
        &Fixture::new(),
        "[[matrix]]\nworkload = \"conv2d-3x3\"\nseed = [1, 2]\nout-channels = [4, 8]\n\
         kernels = [\"reference\", \"fused\", \"simd\"]\n",
    );
    // kernels leads; seed and out-channels follow in file order.
    let expected = [
        "reference-1-4",
        "reference-1-8",
        "reference-2-4",
        "reference-2-8",
        "fused-1-4",
        "fused-1-8",
        "fused-2-4",
        "fused-2-8",
        "simd-1-4",
        "simd-1-8",
        "simd-2-4",
        "simd-2-8",
    ];
    assert_eq!(names(&cases), expected);
    let values: Vec<_> = cases.iter().map(|c| (c.kernels, c.seed, out_channels(c))).collect();
    assert_eq!(values[9], (KernelSet::Simd, 1, 8));
    assert_eq!(values[2], (KernelSet::Reference, 2, 4));
}

#[test]
fn model_weights_kernels_lead_in_that_order() {
    let f = Fixture::new();
    for name in ["a.tflite", "b.tflite"] {
        std::fs::write(f.dir.path().join(name), b"x").unwrap();
    }
    let cases = load(
        &f,
        "[[matrix]]\nworkload = \"model\"\nsample = [0]\ninput = \"a.tflite\"\nkernels = [\"simd\"]\n\
         weights = [\"int8\", \"int4\"]\nmodel = [\"a.tflite\", \"b.tflite\"]\n",
    );
    assert_eq!(
        names(&cases),
        ["a-int8-simd-0", "a-int4-simd-0", "b-int8-simd-0", "b-int4-simd-0"],
        "labels: a path's file stem, a number in decimal"
    );
}

#[test]
fn defaults_then_matrix_values() {
    let cases = load(
        &Fixture::new(),
        "[defaults]\nworkload = \"conv2d-3x3\"\nout-channels = 4\nkernels = \"simd\"\nseed = 9\n\n\
         [[matrix]]\nseed = 3\nkernels = [\"fused\", \"reference\"]\n",
    );
    let values: Vec<_> = cases.iter().map(|c| (c.name.as_str(), c.kernels, c.seed, out_channels(c))).collect();
    assert_eq!(values, [("fused", KernelSet::Fused, 3, 4), ("reference", KernelSet::Reference, 3, 4)]);
}

#[test]
fn cases_and_matrix_rows_keep_file_order() {
    let cases = load(
        &Fixture::new(),
        "[defaults]\nworkload = \"conv2d-3x3\"\n\n[[case]]\nname = \"first\"\n\n\
         [[matrix]]\nkernels = [\"fused\", \"simd\"]\n\n[[case]]\nname = \"last\"\n\n\
         [[matrix]]\nname = \"seed-{seed}\"\nseed = [5, 6]\n",
    );
    assert_eq!(names(&cases), ["first", "fused", "simd", "last", "seed-5", "seed-6"]);
}

#[test]
fn exclude_matches_by_label_or_as_written() {
    let cases = load(
        &Fixture::new(),
        "[[matrix]]\nworkload = \"conv2d-3x3\"\ninput-shape = [[8, 8, 4], [4, 4, 2]]\n\
         kernels = [\"reference\", \"fused\", \"simd\"]\n\
         exclude = [{ input-shape = \"8x8x4\", kernels = \"simd\" }, { kernels = \"reference\", input-shape = [4, 4, 2] }]\n",
    );
    assert_eq!(names(&cases), ["reference-8x8x4", "fused-8x8x4", "fused-4x4x2", "simd-4x4x2"]);
    let shapes: Vec<_> = cases.iter().map(|c| c.workload.clone()).collect();
    assert_eq!(shapes[0], Workload::Conv2d3x3 { height: 8, width: 8, in_channels: 4, out_channels: 16 });
    assert_eq!(shapes[3], Workload::Conv2d3x3 { height: 4, width: 4, in_channels: 2, out_channels: 16 });
}

#[test]
fn exclude_rules_that_would_drop_nothing_are_refused() {
    let matrix = "[[matrix]]\nworkload = \"conv2d-3x3\"\nseed = [1, 2]\nkernels = [\"reference\", \"simd\"]\n";
    let e = error(&format!("{matrix}exclude = [{{ kernels = \"simd\", workload = \"conv2d-3x3\" }}]\n"));
    assert_eq!(
        e,
        "DIR/run.toml:21:32: matrix.exclude: workload has one value in this matrix, it is not an axis; \
         name one of the axes (kernels, seed), or remove the rule"
    );
    let e = error(&format!("{matrix}exclude = [{{ out-channels = 4 }}]\n"));
    assert!(e.starts_with("DIR/run.toml:21:14: matrix.exclude: out-channels is not an axis of this matrix;"), "{e}");
    let e = error(&format!("{matrix}exclude = [{{ kernel = \"simd\" }}]\n"));
    assert!(e.contains("matrix.exclude: kernel is not a case key; name one of the axes (kernels, seed)"), "{e}");
    let e = error(&format!("{matrix}exclude = [{{ kernels = \"fused\" }}]\n"));
    assert_eq!(
        e,
        "DIR/run.toml:21:24: matrix.exclude: kernels = \"fused\" is not a value of the kernels axis \
         (reference, simd); give a value of the axis as written or its label, or remove the rule"
    );
    let e = error(&format!("{matrix}exclude = [{{ seed = \"3\" }}]\n"));
    assert!(e.contains("seed = \"3\" is not a value of the seed axis (1, 2)"), "{e}");
    let e = error(&format!("{matrix}exclude = [{{}}]\n"));
    assert!(e.contains(":21:12: matrix.exclude: an empty rule would drop every row"), "{e}");
    let e = error(&format!("{matrix}exclude = [{{ kernels = \"simd\" }}, {{ kernels = \"reference\" }}]\n"));
    assert!(e.contains(":21:11: matrix.exclude: exclude drops every row of the matrix"), "{e}");
}

#[test]
fn name_templates() {
    let cases = load(
        &Fixture::new(),
        "[[matrix]]\nname = \"conv-{kernels}-s{seed}\"\nworkload = \"conv2d-3x3\"\nseed = 3\nkernels = [\"fused\", \"simd\"]\n",
    );
    assert_eq!(names(&cases), ["conv-fused-s3", "conv-simd-s3"]);
    let matrix = "[[matrix]]\nworkload = \"conv2d-3x3\"\nkernels = [\"fused\", \"simd\"]\n";
    let e = error(&format!("{matrix}name = \"{{model}}-{{kernels}}\"\n"));
    assert_eq!(
        e,
        "DIR/run.toml:20:8: matrix.name: placeholder {model} names no key of this matrix; \
         use one of {workload}, {kernels}, or set model in the matrix"
    );
    assert!(error(&format!("{matrix}name = \"x-{{kernels\"\n")).contains("unmatched '{' in name template"));
    assert!(error(&format!("{matrix}name = \"x-}}\"\n")).contains("unmatched '}' in name template"));
    let e = error("[[matrix]]\nworkload = \"conv2d-3x3\"\nseed = 2\n");
    assert_eq!(
        e,
        "DIR/run.toml:17:1: matrix.name: a matrix without an array-valued key has no axis labels to name \
         its row by; add name = \"...\", or give a key an array of values"
    );
    let one = load(&Fixture::new(), "[[matrix]]\nname = \"single\"\nworkload = \"conv2d-3x3\"\nseed = 2\n");
    assert_eq!((names(&one), one[0].seed), (vec!["single"], 2));
}

#[test]
fn row_errors_point_at_the_value_and_name_the_row() {
    let e = error("[[matrix]]\nworkload = \"conv2d-3x3\"\nseed = [1, 2]\nkernels = [\"simd\", \"turbo\"]\n");
    assert_eq!(
        e,
        "DIR/run.toml:20:20: matrix.kernels: in row \"turbo-1\": unknown kernel set \"turbo\"; \
         use kernels = \"reference\", \"fused\" or \"simd\""
    );
    let e = error(
        "[defaults]\nself-test = \"boom\"\n\n[[matrix]]\nworkload = \"conv2d-3x3\"\nkernels = [\"simd\", \"fused\"]\n",
    );
    assert!(
        e.starts_with("DIR/run.toml:18:13: defaults.self-test: in row \"simd\": unknown self-test \"boom\""),
        "{e}"
    );
    let e = error("[[matrix]]\nkernels = [\"simd\", \"fused\"]\n");
    assert_eq!(
        e,
        "DIR/run.toml:17:1: matrix.workload: in row \"simd\": no workload; \
         add workload = \"conv2d-3x3\" or \"model\" to the case or to [defaults]"
    );
    let e = error("[[matrix]]\nworkload = \"conv2d-3x3\"\nkernels = [\"simd\", 3]\n");
    assert!(e.starts_with("DIR/run.toml:19:20: matrix.kernels: invalid type: integer `3`, expected a string"), "{e}");
}

#[test]
fn duplicate_names_across_cases_and_rows_name_both() {
    let e = error(
        "[defaults]\nworkload = \"conv2d-3x3\"\n\n[[case]]\nname = \"Simd\"\n\n\
         [[matrix]]\nkernels = [\"fused\", \"simd\"]\n",
    );
    assert_eq!(
        e,
        "DIR/run.toml:23:1: matrix.name: case names \"simd\" and \"Simd\" (the [[case]] at 21:8) differ only \
         in letter case; as folder names they collide on case-insensitive file systems; give each case its own name"
    );
    let e = error(
        "[defaults]\nworkload = \"conv2d-3x3\"\n\n[[matrix]]\nname = \"same\"\nkernels = [\"fused\", \"simd\"]\n",
    );
    assert_eq!(
        e,
        "DIR/run.toml:21:8: matrix.name: two cases are named \"same\" (this one and row \"same\" of the \
         [[matrix]] at 20:1); give each case its own name"
    );
    let e = error("[defaults]\nworkload = \"conv2d-3x3\"\n\n[[matrix]]\nname = \".{kernels}\"\nkernels = [\"simd\"]\n");
    assert!(
        e.contains(
            "matrix.name: case name \".simd\" starts with '.': as a folder name it would be the current or parent \
             folder, or hidden; give the matrix a name template whose rows differ"
        ),
        "{e}"
    );
}

#[test]
fn shapes_empty_axes_and_size_limit() {
    let fixed = load(&Fixture::new(), "[[matrix]]\nworkload = \"conv2d-3x3\"\ninput-shape = [4, 4, 2]\nseed = [1]\n");
    assert_eq!(fixed[0].workload, Workload::Conv2d3x3 { height: 4, width: 4, in_channels: 2, out_channels: 16 });
    let e = error("[[matrix]]\nworkload = \"conv2d-3x3\"\nseed = []\n");
    assert_eq!(
        e,
        "DIR/run.toml:19:8: matrix.seed: an empty array gives the matrix no rows; \
         give at least one value, or remove the key"
    );
    let values = (0..40).map(|i| i.to_string()).collect::<Vec<_>>().join(", ");
    let e = error(&format!("[[matrix]]\nworkload = \"conv2d-3x3\"\nseed = [{values}]\nsample = [{values}]\n"));
    assert!(e.starts_with("DIR/run.toml:17:1: matrix: the matrix has more than 1000 rows"), "{e}");
}
