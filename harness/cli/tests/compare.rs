//! `tinybench compare`: a run against itself passes; a baseline it is slower,
//! bigger or less accurate than fails with exit 8 naming each regression.

mod support;

use support::{QUICK_RUN, conv_case, stderr, stdout, tinybench, write_run_config};

#[test]
fn compare_gates_regressions_with_exit_8() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_run_config(dir.path(), "run.toml", "sim-m4", QUICK_RUN, &[&conv_case("conv", "[4, 4, 2]", 2)]);
    let run = dir.path().join("run");
    let o = tinybench(&["run", config.to_str().unwrap(), "--out", run.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));

    let o = tinybench(&["compare", run.to_str().unwrap(), run.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("no regression beyond the thresholds"), "{}", stdout(&o));

    // A baseline 10% faster, 100 bytes smaller, with a lower modeled energy.
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("results.json")).unwrap()).unwrap();
    let r = &mut json["results"][0];
    r["cycles"]["median"] = serde_json::json!(r["cycles"]["median"].as_f64().unwrap() / 1.1);
    r["memory"]["flash_bytes"] = serde_json::json!(r["memory"]["flash_bytes"].as_u64().unwrap() - 100);
    r["energy"]["energy_uj"]["median"] = serde_json::json!(r["energy"]["energy_uj"]["median"].as_f64().unwrap() / 1.1);
    let baseline = dir.path().join("baseline.json");
    std::fs::write(&baseline, serde_json::to_string(&json).unwrap()).unwrap();

    let o = tinybench(&["compare", baseline.to_str().unwrap(), run.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(8), "{}", stderr(&o));
    let out = stdout(&o);
    for expected in [
        "REGRESSION conv: cycles +10.00% (limit 1%)",
        "REGRESSION conv: energy +10.00%",
        "REGRESSION conv: flash +100 B",
    ] {
        assert!(out.contains(expected), "{expected}: {out}");
    }
    // Looser thresholds let it pass; a folder that is no run is bad input.
    let loose = ["--max-cycles-pct", "15", "--max-energy-pct", "15", "--max-flash-bytes", "128"];
    let o = tinybench(&[&["compare", baseline.to_str().unwrap(), run.to_str().unwrap()][..], &loose[..]].concat());
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let o = tinybench(&["compare", dir.path().to_str().unwrap(), run.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("results.json: cannot read the run's results"), "{}", stderr(&o));
}
