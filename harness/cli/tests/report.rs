//! A run's tables, plots and HTML report: written by `tinybench run`, rebuilt
//! byte for byte by `tinybench report` from the Parquet tables (and traces)
//! alone, and rendered by headless Chromium; its current traces serve an
//! instrument simulator.

mod support;

use std::path::Path;
use std::process::Command;

use support::{repo_root, stderr, stdout, tinybench};

/// Four cases of configs/sim-m4.toml (the MNIST family, modeled energy):
/// two sizes on the Pareto front beside int8, and two kernel sets of int8.
const CASES: [&str; 4] = ["int8", "int8-simd", "int4", "pruned50-int4"];

/// The plots they support: every kind, and a current trace per case.
fn plot_ids() -> Vec<String> {
    let kinds = ["pareto-accuracy-weights", "pareto-accuracy-flash", "latency-energy", "layer-cycles", "kernel-ab"];
    kinds.iter().map(|k| k.to_string()).chain(CASES.iter().map(|c| format!("trace-{c}"))).collect()
}

/// The Pareto front of (size, accuracy) by its definition: every case no
/// other case beats (no larger and at least as accurate, and not equal).
fn front_by_definition(points: &[(String, f64, f64)]) -> Vec<String> {
    let mut front: Vec<&(String, f64, f64)> = points
        .iter()
        .filter(|p| !points.iter().any(|q| q.1 <= p.1 && q.2 >= p.2 && (q.1, q.2) != (p.1, p.2)))
        .collect();
    front.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.2.total_cmp(&b.2)));
    front.into_iter().map(|p| p.0.clone()).collect()
}

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
    let mut args = vec!["run".to_owned(), config.display().to_string(), "--out".into(), run.display().to_string()];
    for case in CASES {
        args.extend(["--filter".to_owned(), case.to_owned()]);
    }
    let o = tinybench(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    for file in ["results.parquet", "layers.parquet", "report.html", "results.csv", "report.md"] {
        assert!(run.join(file).is_file(), "{file}");
    }
    for plot in plot_ids() {
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
        let trace = Path::new("cases").join(case).join("trace.parquet");
        std::fs::create_dir_all(copy.join(trace.parent().unwrap())).unwrap();
        std::fs::copy(run.join(&trace), copy.join(&trace)).unwrap();
    }
    let o = tinybench(&["report", copy.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("report.html"), "{}", stdout(&o));
    let rebuilt: Vec<String> =
        files_under(&copy).into_iter().filter(|f| !f.ends_with(".parquet") && !f.starts_with("cases")).collect();
    assert_eq!(rebuilt.len(), 3 + 2 * plot_ids().len(), "{rebuilt:?}");
    for file in &rebuilt {
        assert!(std::fs::read(run.join(file)).unwrap() == std::fs::read(copy.join(file)).unwrap(), "{file} differs");
    }

    // The fronts drawn are the ones the definition gives, from results.json.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("results.json")).unwrap()).unwrap();
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();
    for (plot, size) in [("pareto-accuracy-weights", "/weight_bytes"), ("pareto-accuracy-flash", "/memory/flash_bytes")]
    {
        let points: Vec<(String, f64, f64)> = json["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let case = r["case"].as_str().unwrap().to_owned();
                (case, r.pointer(size).unwrap().as_f64().unwrap(), r["accuracy"]["host_pct"].as_f64().unwrap())
            })
            .collect();
        let drawn = html
            .split(&format!("data-plot=\"{plot}\" data-front=\""))
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("{plot}: no data-front"));
        let expected = front_by_definition(&points);
        assert_eq!(drawn.split('\n').collect::<Vec<_>>(), expected, "{plot}");
        assert!(!expected.is_empty(), "{plot}");
    }

    // A folder without tables is bad input, named.
    let o = tinybench(&["report", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("results.parquet"), "{}", stderr(&o));

    check_in_chromium(&run.join("report.html"), &dir.path().join("report.png"));

    // The trend across runs: this one and the committed baseline of its configuration.
    let trend = dir.path().join("trend");
    let baseline = repo_root().join("reports/baselines/sim-m4");
    let o = tinybench(&[
        "trend",
        run.to_str().unwrap(),
        baseline.to_str().unwrap(),
        "--metric",
        "latency",
        "--out",
        trend.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let svg = std::fs::read_to_string(trend.join("trend-latency.svg")).unwrap();
    assert!(svg.contains("int8-simd") && svg.contains("µs (simulated)"), "{svg}");
    assert!(trend.join("trend-latency.png").is_file());

    // A run's trace feeds an instrument simulator as it is; a broken one is bad input.
    let trace = run.join("cases/int8-simd/trace.parquet");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tinybench"))
        .args(["instrument", "serve", "n6705b", "--bind", "127.0.0.1:0", "--waveform", trace.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut first).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(first.starts_with("serving ") && first.contains(" samples every "), "{first}");
    let broken = dir.path().join("broken.parquet");
    std::fs::write(&broken, b"PAR1 not really").unwrap();
    let o = tinybench(&["instrument", "serve", "ppk2", "--waveform", broken.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("not a tinybench trace.parquet"), "{}", stderr(&o));
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
    for plot in plot_ids() {
        args.extend(["--plot".to_owned(), plot]);
    }
    let o = Command::new("python3").args(&args).output().expect("python3 runs");
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    eprintln!("{}", stdout(&o).trim());
}
