//! The probe-rs backend end to end without hardware: the MNIST family
//! through probe-rs on the simulated probe gives what the simulator backend
//! gives, byte for byte; a real board's configuration without a probe stops
//! at once; `probe list` shows the simulated probes only when asked.

mod support;

use std::path::Path;
use std::time::Duration;

use support::{error_line, repo_root, results_json, stderr, stdout, tinybench, tinybench_within};

/// Whether a real debug probe is plugged into this machine (then the
/// no-probe tests do not apply).
fn a_probe_is_connected() -> bool {
    let o = tinybench(&["probe", "list"]);
    !stdout(&o).trim().is_empty()
}

fn run(config: &str, out: &Path, extra: &[&str]) {
    let mut args = vec!["run", config, "--out", out.to_str().unwrap()];
    args.extend(extra);
    let config = repo_root().join(config); // (an absolute path stays as it is)
    args[1] = config.to_str().unwrap();
    let o = tinybench(&args);
    assert!(o.status.success(), "{}: {}", config.display(), stderr(&o));
}

/// `configs/<id>.toml` without energy figures, written into `dir`: the
/// simulated probe records no counters for a modeled current, and the idle
/// wait a meter needs moves the firmware's code (so its cycles, slightly).
fn without_power(id: &str, dir: &Path) -> String {
    let root = repo_root();
    let text = std::fs::read_to_string(root.join(format!("configs/{id}.toml"))).unwrap();
    let board = format!("file = \"{}\"", root.join(format!("configs/boards/{id}.toml")).display());
    let text = text
        .replace(&format!("name = \"{id}\""), &board)
        .replace("\"../models/", &format!("\"{}/models/", root.display()));
    let (head, tail) = text.split_once("[power]\n").unwrap();
    let tail = tail.split_once('\n').unwrap().1;
    let path = dir.join(format!("{id}.toml"));
    std::fs::write(&path, format!("{head}[power]\nkind = \"none\"\n{tail}")).unwrap();
    path.display().to_string()
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every case of configs/probe-sim-m4.toml (probe-rs: attach, flash, vector
/// catch, RTT through probe-rs's reader) against configs/sim-m4.toml without power
/// (tinybench's simulator backend and its own RTT reader): the same cycles,
/// per layer too, the same output and evaluation bytes, and the same bytes
/// on both RTT channels.
#[test]
fn probe_sim_m4_gives_the_same_cycles_and_bytes_as_sim_m4() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, probe) = (dir.path().join("sim"), dir.path().join("probe"));
    run(&without_power("sim-m4", dir.path()), &sim, &[]);
    run("configs/probe-sim-m4.toml", &probe, &[]);
    let (sim_json, probe_json) = (results_json(&sim), results_json(&probe));
    let cases = sim_json["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 6);
    assert_eq!(probe_json["cases"], sim_json["cases"]);
    for (s, p) in sim_json["results"].as_array().unwrap().iter().zip(probe_json["results"].as_array().unwrap()) {
        let case = s["case"].as_str().unwrap();
        assert_eq!(p["cycles_per_iteration"], s["cycles_per_iteration"], "{case}");
        let layer_cycles = |r: &serde_json::Value| -> Vec<serde_json::Value> {
            r["layers"].as_array().unwrap().iter().map(|l| l["cycles_median"].clone()).collect()
        };
        assert_eq!(layer_cycles(p), layer_cycles(s), "{case}: per layer");
        assert_eq!(p["accuracy"], s["accuracy"], "{case}");
        assert_eq!(
            (s["provenance"]["target"].as_str(), p["provenance"]["target"].as_str()),
            (Some("sim"), Some("probe-rs"))
        );
        assert_eq!(
            p["provenance"]["timing"], "simulated (cortex-m4 cycle model)",
            "the simulated probe is not a board"
        );
        for file in ["output.bin", "eval-outputs.bin", "rtt-0.bin", "rtt-1.bin"] {
            let (a, b) = (sim.join("cases").join(case).join(file), probe.join("cases").join(case).join(file));
            assert!(read(&a) == read(&b), "{case}: {file} differs between the backends");
        }
    }
}

/// The M7 through probe-rs: its D-cache-free DTCM data region and its cycle
/// model, on one case (the others take the same path).
#[test]
fn probe_sim_m7_gives_the_same_cycles_and_bytes_as_sim_m7() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, probe) = (dir.path().join("sim"), dir.path().join("probe"));
    run(&without_power("sim-m7", dir.path()), &sim, &["--filter", "int8-simd"]);
    run("configs/probe-sim-m7.toml", &probe, &["--filter", "int8-simd"]);
    let (s, p) = (&results_json(&sim)["results"][0], &results_json(&probe)["results"][0]);
    assert_eq!(p["case"], "int8-simd");
    assert_eq!(p["provenance"]["target"], "probe-rs");
    assert_eq!(p["cycles_per_iteration"], s["cycles_per_iteration"]);
    for file in ["output.bin", "rtt-0.bin", "rtt-1.bin"] {
        let (a, b) = (sim.join("cases/int8-simd").join(file), probe.join("cases/int8-simd").join(file));
        assert!(read(&a) == read(&b), "{file} differs between the backends");
    }
}

#[test]
fn a_real_board_without_a_probe_stops_at_once_before_building() {
    if a_probe_is_connected() {
        eprintln!("skipped: a debug probe is connected to this machine");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    for config in ["configs/h743.toml", "configs/l4r5.toml", "configs/nrf52840.toml"] {
        let config = repo_root().join(config);
        let args = ["run", config.to_str().unwrap(), "--out", out.to_str().unwrap()];
        let o = tinybench_within(&args, Duration::from_secs(10)).expect("stops within seconds");
        assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
        assert_eq!(
            error_line(&o),
            "error: no debug probe found; connect the board's on-board probe over USB or set [target] kind = \"sim\""
        );
        assert!(!out.exists(), "nothing built, no run folder");
    }
}

#[test]
fn probe_list_shows_the_simulated_probes_only_when_asked() {
    if a_probe_is_connected() {
        eprintln!("skipped: a debug probe is connected to this machine");
        return;
    }
    let o = tinybench(&["probe", "list"]);
    assert!(o.status.success());
    assert_eq!(stdout(&o), "");
    assert!(stderr(&o).contains("no debug probes found"), "{}", stderr(&o));
    let o = tinybench(&["probe", "list", "--include-sim"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "tinybench simulator 1209:0001:sim-m4 (tinybench-sim)\ntinybench simulator 1209:0001:sim-m7 (tinybench-sim)\n"
    );
}
