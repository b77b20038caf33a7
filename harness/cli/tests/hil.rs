//! Hardware in the loop, opt in: with `TINYBENCH_HIL=<board id>` set and that
//! board connected, its configuration runs on the board and the figures are
//! measured by DWT. Without it these tests say they were skipped and pass,
//! so the same suite runs in CI and on a self-hosted runner with a board.

mod support;

use support::{repo_root, results_json, stderr, tinybench};

/// The board under test and its configuration, from `TINYBENCH_HIL`.
fn board_under_test() -> Option<(String, &'static str)> {
    let board = std::env::var("TINYBENCH_HIL").ok()?;
    let config = match board.as_str() {
        "nucleo-h743zi2" => "configs/h743.toml",
        "nucleo-l4r5zi" => "configs/l4r5.toml",
        "nrf52840-dk" => "configs/nrf52840.toml",
        other => panic!(
            "TINYBENCH_HIL={other}: no configuration for this board (nucleo-h743zi2, nucleo-l4r5zi, nrf52840-dk)"
        ),
    };
    Some((board, config))
}

#[test]
fn hil_the_board_runs_a_case_and_measures_its_cycles() {
    let Some((board, config)) = board_under_test() else {
        eprintln!("skipped: set TINYBENCH_HIL=<board id> with that board connected to run the hardware tests");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let config = repo_root().join(config);
    let o = tinybench(&["run", config.to_str().unwrap(), "--filter", "int8-simd", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{board}: {}", stderr(&o));
    let result = &results_json(&out)["results"][0];
    assert_eq!(result["provenance"]["timing"], "measured (DWT)", "{result}");
    assert_eq!(result["provenance"]["board"], board.as_str());
    assert!(result["provenance"]["board_settings"]["clock"].is_string(), "the board's settings: {result}");
    assert_eq!(result["checksum_ok"], true, "the board's output equals the host's");
    assert!(result["cycles"]["median"].as_f64().unwrap() > 100_000.0, "{result}");
}
