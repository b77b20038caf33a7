//! Energy through each instrument's simulator, end to end: the run starts
//! the simulators itself (N6705B over TCP, INA219 over the register model,
//! PPK2 over a pseudo-terminal), feeds each the simulated board's modeled
//! current, and every instrument's figure agrees with the exact integral of
//! that current.

mod support;

use std::path::Path;

use support::{repo_root, results_json, stderr, tinybench};

fn run(config: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["run", config.to_str().unwrap(), "--out", out.to_str().unwrap()];
    args.extend(extra);
    tinybench(&args)
}

/// Relative error of `measured` against `exact`.
fn error(measured: f64, exact: f64) -> f64 {
    (measured - exact).abs() / exact.abs()
}

#[test]
fn each_instrument_simulator_measures_the_mnist_family_as_the_model_integrates_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = run(&repo_root().join("configs/sim-m4-power.toml"), &out, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let json = results_json(&out);
    let results = json["results"].as_array().unwrap();
    assert_eq!(results.len(), 12, "four variants through three instruments");
    let mut layers_checked = 0;
    for r in results {
        let case = r["case"].as_str().unwrap();
        let meter = r["meter"].as_str().unwrap();
        assert!(case.ends_with(&format!("-{meter}")), "{case} names its meter {meter}");
        let e = &r["energy"];
        assert_eq!(e["provenance"], "measured", "{case}: an instrument measured it (its simulator)");
        let instrument = e["instrument"].as_str().unwrap();
        let expected_name = match meter {
            "n6705b" => "N6705B",
            "ina219" => "INA219",
            _ => "PPK2",
        };
        assert!(instrument.contains(expected_name), "{case}: {instrument}");
        let median = e["energy_uj"]["median"].as_f64().unwrap();
        let exact = e["modeled_exact_uj"].as_f64().unwrap();
        assert!(exact > 100.0, "{case}: {exact} uJ is no MNIST inference");
        assert!(error(median, exact) < 0.01, "{case}: {median} uJ measured, {exact} uJ exact");
        assert!(e["idle_power_mw"].as_f64().unwrap() > 0.0, "{case}: the idle baseline");
        let layers = e["layers"].as_array().unwrap();
        assert!(layers.len() >= 5, "{case}: energy per layer");
        for l in layers {
            let (uj, exact, samples) = (
                l["energy_uj"].as_f64().unwrap(),
                l["modeled_exact_uj"].as_f64().unwrap(),
                l["samples"].as_f64().unwrap(),
            );
            if samples >= 20.0 {
                layers_checked += 1;
                assert!(error(uj, exact) < 0.05, "{case} layer {}: {uj} uJ measured, {exact} exact", l["index"]);
            }
        }
        // The layer table carries the figures too.
        assert!(r["layers"].as_array().unwrap().iter().any(|l| l["energy_uj"].is_number()), "{case}");
        assert!(out.join("cases").join(case).join("trace.parquet").is_file(), "{case}: its trace is saved");
    }
    assert!(layers_checked >= 30, "only {layers_checked} layers had 20 samples");
    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    assert!(csv.lines().next().unwrap().contains(",meter,energy_uj_min,energy_uj_median,"), "{csv}");
}

/// configs/sim-m4-power.toml with `[power] simulate-fault = fault`, written into `dir`.
fn with_fault(dir: &Path, fault: &str) -> std::path::PathBuf {
    let root = repo_root();
    let text = std::fs::read_to_string(root.join("configs/sim-m4-power.toml")).unwrap();
    let board = format!("file = \"{}\"", root.join("configs/boards/sim-m4.toml").display());
    let text = text
        .replace("name = \"sim-m4\"", &board)
        .replace("\"../models/", &format!("\"{}/models/", root.display()))
        .replace("[power]\n", &format!("[power]\nsimulate-fault = \"{fault}\"\n"));
    let path = dir.join(format!("{fault}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

/// Each fault fails its case with exit 7 and one line naming what to do,
/// and keeps the case's timing, memory and trace figures.
#[test]
fn instrument_faults_exit_7_and_keep_the_cases_other_figures() {
    let dir = tempfile::tempdir().unwrap();
    for (fault, case, expected) in [
        ("no-marker", "int8-ppk2", "saw 0 marker edges where 40 were expected; check the wiring"),
        ("disconnect", "int8-ina219", "no acknowledge from I2C address 0x40"),
        ("disconnect", "int8-ppk2", "connection was lost"),
        ("disconnect", "int8-n6705b", "connection"),
    ] {
        let out = dir.path().join(format!("{fault}-{case}"));
        let o = run(&with_fault(dir.path(), fault), &out, &["--filter", case]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(7), "{fault} {case}: {err}");
        let json = results_json(&out);
        let failure = &json["failures"][0];
        assert_eq!(failure["kind"], "power", "{fault} {case}: {json}");
        let text = failure["error"].as_str().unwrap();
        assert!(text.contains(expected), "{fault} {case}: {text}");
        assert!(err.contains(expected), "{fault} {case}: the terminal says it too: {err}");
        let case_dir = out.join("cases").join(case);
        let kept = std::fs::read_to_string(case_dir.join("result-without-energy.json"))
            .unwrap_or_else(|e| panic!("{fault} {case}: {e}"));
        assert!(kept.contains("\"cycles_per_iteration\""), "{fault} {case}");
        assert!(text.contains("result-without-energy.json"), "{fault} {case}: {text}");
    }
}

/// An SCPI error when the N6705B is set up for a case fails that case
/// (nothing of it ran) with the command and the instrument's error; the
/// other meters' cases are measured and kept.
#[test]
fn an_scpi_error_names_the_command_and_the_other_cases_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = run(&with_fault(dir.path(), "scpi-error"), &out, &["--filter", "int8-*"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(7), "{err}");
    let json = results_json(&out);
    let failures = json["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{json}");
    assert_eq!((failures[0]["case"].as_str(), failures[0]["kind"].as_str()), (Some("int8-n6705b"), Some("power")));
    let text = failures[0]["error"].as_str().unwrap();
    assert!(text.contains("-221") && text.contains("Settings conflict"), "{text}");
    let measured: Vec<_> = json["results"].as_array().unwrap().iter().map(|r| r["case"].as_str().unwrap()).collect();
    assert_eq!(measured, ["int8-ina219", "int8-ppk2"]);
    assert!(json["results"][0]["energy"]["energy_uj"]["median"].as_f64().unwrap() > 100.0);
}

/// `tinybench instrument serve n6705b` answers SCPI on the port it prints,
/// serving a run's trace.csv; a malformed waveform is bad input (exit 2).
#[test]
fn instrument_serve_answers_over_the_real_protocol() {
    use std::io::{BufRead, BufReader, Write};
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace.csv");
    std::fs::write(
        &trace,
        "time_s,current_a,voltage_v,marker\n0,0.001,1.8,0\n0.00001,0.02,1.8,1\n0.00002,0.001,1.8,0\n",
    )
    .unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "time,current\n").unwrap();
    let o = tinybench(&["instrument", "serve", "ppk2", "--waveform", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("header `time_s,current_a,voltage_v,marker`"), "{}", stderr(&o));

    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tinybench"))
        .args(["instrument", "serve", "n6705b", "--bind", "127.0.0.1:0", "--waveform", trace.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let serving = lines.next().unwrap().unwrap();
    assert!(serving.contains("3 samples every 10.000 us"), "{serving}");
    let listening = lines.next().unwrap().unwrap();
    let address = listening.split_whitespace().find(|w| w.starts_with("127.0.0.1:")).expect(&listening);
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
    stream.write_all(b"*idn?\n").unwrap();
    let mut answer = String::new();
    BufReader::new(stream).read_line(&mut answer).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(answer.starts_with("Keysight Technologies,N6705B,"), "{answer}");
}

/// A meter that cannot be reached stops the run before anything is built.
#[test]
fn an_unreachable_instrument_stops_the_run_before_building() {
    let dir = tempfile::tempdir().unwrap();
    let root = repo_root();
    for (meter, expected) in [
        ("kind = \"ppk2\"\nport = \"/dev/no-such-ppk2\"\nsupply-mv = 1800", "Nordic PPK2 at /dev/no-such-ppk2"),
        ("kind = \"n6705b\"\naddress = \"127.0.0.1:1\"", "check that the N6705B is on"),
    ] {
        let config = dir.path().join("unreachable.toml");
        let text = format!(
            "[board]\nfile = \"{}\"\n[target]\nkind = \"sim\"\n[power]\n{meter}\n[[case]]\nname = \"c\"\n\
             workload = \"conv2d-3x3\"\ninput-shape = [4, 4, 2]\nout-channels = 2\n",
            root.join("configs/boards/sim-m4.toml").display()
        );
        std::fs::write(&config, text).unwrap();
        let out = dir.path().join("out");
        let started = std::time::Instant::now();
        let o = run(&config, &out, &[]);
        assert_eq!(o.status.code(), Some(7), "{}", stderr(&o));
        assert!(stderr(&o).contains(expected), "{}", stderr(&o));
        assert!(!stderr(&o).contains("building firmware"), "{}", stderr(&o));
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
    }
}

/// The shipped current models still give the published figures they were
/// calibrated to (docs/power-model.md): KWS with the simd kernels at 40.84 mW
/// on sim-m4 (STM32L4R5, MLPerf Tiny v0.5 reference) and 278.6 mW on sim-m7
/// (the NUCLEO-H7A3ZI-Q's 175.9 uA/MHz at 3.3 V, at 480 MHz). A change to
/// the models or to the cycle models that moves them shows here.
#[test]
fn the_modeled_current_matches_its_calibration_sources() {
    let dir = tempfile::tempdir().unwrap();
    let root = repo_root();
    for (id, expected_mw) in [("sim-m4", 40.84), ("sim-m7", 175.9e-6 * 480.0 * 3.3 * 1e3)] {
        let text = std::fs::read_to_string(root.join(format!("configs/{id}-kws.toml"))).unwrap();
        let text = text
            .replace(
                &format!("name = \"{id}\""),
                &format!("file = \"{}\"", root.join(format!("configs/boards/{id}.toml")).display()),
            )
            .replace("\"../models/", &format!("\"{}/models/", root.display()))
            .replace("kernels = \"reference\"", "kernels = \"simd\"");
        let config = dir.path().join(format!("{id}.toml"));
        std::fs::write(&config, text).unwrap();
        let out = dir.path().join(id);
        let o = run(&config, &out, &["--filter", "kws-ds-cnn"]);
        assert!(o.status.success(), "{}", stderr(&o));
        let r = &results_json(&out)["results"][0];
        assert_eq!(r["energy"]["provenance"], "modeled");
        let mw = r["energy"]["average_power_mw"].as_f64().unwrap();
        assert!(error(mw, expected_mw) < 0.02, "{id}: KWS draws {mw} mW modeled, calibrated to {expected_mw} mW");
    }
}
