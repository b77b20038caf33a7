//! A run's tables, plots and HTML report: written by `tinybench run`, rebuilt
//! byte for byte by `tinybench report` from the Parquet tables (and traces)
//! alone, and rendered by headless Chromium.

mod support;

use std::path::Path;
use std::process::Command;

use support::{repo_root, stderr, stdout, tinybench};

/// The plots two MNIST int8 cases with modeled energy support.
const PLOTS: [&str; 7] = [
    "pareto-accuracy-weights",
    "pareto-accuracy-flash",
    "latency-energy",
    "layer-cycles",
    "kernel-ab",
    "trace-int8-fused",
    "trace-int8-simd",
];
const CASES: [&str; 2] = ["int8-fused", "int8-simd"];

/// Every file under `dir`, relative, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_run_writes_tables_plots_and_a_report_that_rebuilds_byte_for_byte_and_renders() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let config = repo_root().join("configs/sim-m4.toml");
    let o = tinybench(&["run", config.to_str().unwrap(), "--filter", "int8-*", "--out", run.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    for file in ["results.parquet", "layers.parquet", "report.html", "results.csv", "report.md"] {
        assert!(run.join(file).is_file(), "{file}");
    }
    for plot in PLOTS {
        for ext in ["svg", "png"] {
            assert!(run.join(format!("plots/{plot}.{ext}")).is_file(), "plots/{plot}.{ext}");
        }
    }

    // Only the tables and the traces, in another folder: the same reports.
    let copy = dir.path().join("copy");
    for file in ["results.parquet", "layers.parquet"] {
        std::fs::create_dir_all(&copy).unwrap();
        std::fs::copy(run.join(file), copy.join(file)).unwrap();
    }
    for case in CASES {
        let trace = Path::new("cases").join(case).join("trace.csv");
        std::fs::create_dir_all(copy.join(trace.parent().unwrap())).unwrap();
        std::fs::copy(run.join(&trace), copy.join(&trace)).unwrap();
    }
    let o = tinybench(&["report", copy.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("report.html"), "{}", stdout(&o));
    let rebuilt: Vec<String> =
        files_under(&copy).into_iter().filter(|f| !f.ends_with(".parquet") && !f.starts_with("cases")).collect();
    assert_eq!(rebuilt.len(), 3 + 2 * PLOTS.len(), "{rebuilt:?}");
    for file in &rebuilt {
        assert!(std::fs::read(run.join(file)).unwrap() == std::fs::read(copy.join(file)).unwrap(), "{file} differs");
    }

    // A folder without tables is bad input, named.
    let o = tinybench(&["report", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("results.parquet"), "{}", stderr(&o));

    check_in_chromium(&run.join("report.html"), &dir.path().join("report.png"));
}

/// Opens the report in headless Chromium (scripts/check-report-html.py):
/// not blank, every plot drawn, every case's row visible, no console error,
/// nothing fetched. In CI (`CI` set) a missing Chromium fails the test;
/// elsewhere it is skipped with a note.
fn check_in_chromium(report: &Path, screenshot: &Path) {
    let has_chromium = Path::new("/usr/bin/chromium").exists()
        || Command::new("chromium").arg("--version").output().is_ok_and(|o| o.status.success());
    if !has_chromium {
        assert!(std::env::var_os("CI").is_none(), "CI needs Chromium: scripts/ensure-chromium.sh installs it");
        eprintln!("note: Chromium not installed, report.html not rendered (scripts/ensure-chromium.sh installs it)");
        return;
    }
    let mut args = vec![
        repo_root().join("scripts/check-report-html.py").display().to_string(),
        report.display().to_string(),
        "--screenshot".into(),
        screenshot.display().to_string(),
    ];
    for case in CASES {
        args.extend(["--case".to_owned(), case.to_owned()]);
    }
    for plot in PLOTS {
        args.extend(["--plot".to_owned(), plot.to_owned()]);
    }
    let o = Command::new("python3").args(&args).output().expect("python3 runs");
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    eprintln!("{}", stdout(&o).trim());
}
