//! `tinybench compare`: a run against itself passes; the same case with its
//! kernel set changed from `simd` to `fused` fails with exit 1, naming the
//! case and the metric, in the table, `compare.md` and the JUnit XML; and
//! `--update-baseline` makes a run the baseline.

mod support;

use std::path::Path;

use support::{QUICK_RUN, conv_case, error_line, stderr, stdout, tinybench, write_run_config};

/// Runs a configuration of one conv case `conv` with `kernels` into `dir/<name>`.
fn run_conv(dir: &Path, name: &str, kernels: &str) -> std::path::PathBuf {
    let case = format!("{}\nkernels = \"{kernels}\"", conv_case("conv", "[8, 8, 4]", 8));
    let config = write_run_config(dir, &format!("{name}.toml"), "sim-m4", QUICK_RUN, &[&case]);
    let out = dir.join(name);
    let o = tinybench(&["run", config.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{kernels}: {}", stderr(&o));
    out
}

fn compare(args: &[&Path], flags: &[&str]) -> std::process::Output {
    let mut all: Vec<&str> = vec!["compare"];
    all.extend(args.iter().map(|p| p.to_str().unwrap()));
    all.extend(flags);
    tinybench(&all)
}

#[test]
fn compare_gates_a_slower_kernel_set_with_exit_1_and_updates_the_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let simd = run_conv(dir.path(), "simd", "simd");
    let fused = run_conv(dir.path(), "fused", "fused");

    // Against itself: no regression, and compare.md says so.
    let o = compare(&[&simd, &simd], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("no regression beyond the thresholds in 1 case(s)"), "{}", stdout(&o));
    let md = std::fs::read_to_string(simd.join("compare.md")).unwrap();
    assert!(md.starts_with("## tinybench compare: passed"), "{md}");

    // The same case name with the fused kernels: slower, a regression.
    let junit = dir.path().join("junit.xml");
    let o = compare(&[&simd, &fused], &["--junit", junit.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}\n{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("REGRESSION conv: latency +"), "{out}");
    assert!(out.contains("must match exactly (simulated)"), "{out}");
    assert!(out.contains("note: conv: kernels simd → fused"), "{out}");
    let md = std::fs::read_to_string(fused.join("compare.md")).unwrap();
    assert!(md.starts_with("## tinybench compare: FAILED"), "{md}");
    assert!(md.contains("- `conv`: latency +"), "{md}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("<testsuite name=\"tinybench compare\" tests=\"1\" failures=\"1\""), "{xml}");
    assert!(xml.contains("<testcase classname=\"fused\" name=\"conv\">"), "{xml}");
    assert!(xml.contains("<failure type=\"regression\" message=\"latency +"), "{xml}");

    // A latency threshold wide enough lets it pass; --markdown moves compare.md.
    let elsewhere = dir.path().join("pr-comment.md");
    let flags =
        ["--threshold", "latency=1000%,energy=1000%,flash=100%,ram=100%", "--markdown", elsewhere.to_str().unwrap()];
    let o = compare(&[&simd, &fused], &flags);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(std::fs::read_to_string(&elsewhere).unwrap().contains("passed"));

    // Thresholds and folders that are not what they should be: bad input.
    let o = compare(&[&simd, &fused], &["--threshold", "cycles=2%"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("unknown threshold `cycles`; the keys are latency, energy, flash, ram, accuracy"));
    let o = compare(&[dir.path(), &fused], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(error_line(&o).contains("results.json: no results.json there, so no baseline"), "{}", stderr(&o));
    std::fs::write(dir.path().join("results.json"), "{}").unwrap();
    let o = compare(&[dir.path(), &fused], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(error_line(&o).contains("results.json: not a tinybench results.json"), "{}", stderr(&o));

    update_baseline_makes_the_run_the_baseline(dir.path(), &simd, &fused);
}

/// `--update-baseline`, with the runs of the test above (building the
/// firmware again would double the test's time).
fn update_baseline_makes_the_run_the_baseline(dir: &Path, simd: &Path, fused: &Path) {
    let (simd, fused) = (simd.to_owned(), fused.to_owned());
    let baseline = dir.join("baselines/sim-m4");

    // No baseline yet: the first is written, nothing compared.
    let o = compare(&[&baseline, &simd], &["--update-baseline"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("no baseline yet"), "{}", stdout(&o));
    assert_eq!(
        std::fs::read(baseline.join("results.json")).unwrap(),
        std::fs::read(simd.join("results.json")).unwrap()
    );
    let readme = std::fs::read_to_string(baseline.join("README.md")).unwrap();
    assert!(readme.contains(&format!("tinybench compare {} RUN --update-baseline", baseline.display())), "{readme}");

    let o = compare(&[&baseline, &fused], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    // Updating exits 0 despite the regression, and says what it wrote.
    let o = compare(&[&baseline, &fused], &["--update-baseline"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("REGRESSION conv: latency"), "{out}");
    assert!(out.contains(&format!("baseline updated: {} now holds ", baseline.display())), "{out}");
    let o = compare(&[&baseline, &fused], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    // The run's tables and a README, nothing else.
    let mut files: Vec<String> =
        std::fs::read_dir(&baseline).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    files.sort();
    let expected: Vec<&str> = ["README.md", "layers.parquet", "results.json", "results.parquet"]
        .into_iter()
        .filter(|f| *f == "README.md" || fused.join(f).is_file())
        .collect();
    assert_eq!(files, expected);
    for file in &expected[1..] {
        assert!(out.contains(file), "{file} not named: {out}");
        assert_eq!(std::fs::read(baseline.join(file)).unwrap(), std::fs::read(fused.join(file)).unwrap(), "{file}");
    }

    // A run folder is not a baseline folder, nor is another file: refused, untouched.
    let before = std::fs::read(simd.join("results.json")).unwrap();
    let o = compare(&[&simd, &fused], &["--update-baseline"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(error_line(&o).contains("which a baseline does not"), "{}", stderr(&o));
    assert_eq!(std::fs::read(simd.join("results.json")).unwrap(), before);
    let o = compare(&[&simd.join("report.md"), &fused], &["--update-baseline"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(error_line(&o).contains("a file, not a baseline folder or its results.json"), "{}", stderr(&o));
}
