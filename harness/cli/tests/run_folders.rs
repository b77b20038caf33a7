//! Results are never lost or clobbered: unique run folders, `--out` that
//! refuses another run unless `--force`, case names that stay inside the run
//! folder, Ctrl-C / SIGTERM that stop cleanly, `--resume`; and the variant
//! matrix from the command line: `--list`, `--filter`, `config --default`.
//! Also: a case's label never changes what it measures.

mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{
    QUICK_RUN, conv_case, error_line, mnist, repo_root, results_json, stderr, stdout, tinybench, write_run_config,
};

fn run(config: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["run", config.to_str().unwrap()];
    args.extend(extra);
    tinybench(&args)
}

/// Two runs started together share a default folder name up to the
/// millisecond at most; neither may write into the other's folder.
#[test]
fn default_run_folders_are_unique_for_runs_started_together() {
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("reports");
    let config = write_run_config(
        dir.path(),
        "twice.toml",
        "sim-m4",
        &format!("{QUICK_RUN}\n\n[report]\nout-dir = \"reports\""),
        &[&conv_case("tiny", "[4, 4, 2]", 2)],
    );
    // Built once, so the two runs below start and end close together.
    assert!(run(&config, &[]).status.success());
    std::fs::remove_dir_all(&reports).unwrap();
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_tinybench"))
            .args(["run", config.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success() && b.status.success(), "{}{}", stderr(&a), stderr(&b));
    let folders: Vec<_> = std::fs::read_dir(&reports).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(folders.len(), 2, "{folders:?}");
    for folder in folders {
        assert_eq!(results_json(&folder)["results"].as_array().unwrap().len(), 1, "{}", folder.display());
    }
}

#[test]
fn out_refuses_an_earlier_run_unless_forced_and_force_clears_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let first =
        write_run_config(dir.path(), "first.toml", "sim-m4", QUICK_RUN, &[&conv_case("old-case", "[4, 4, 2]", 2)]);
    let second =
        write_run_config(dir.path(), "second.toml", "sim-m4", QUICK_RUN, &[&conv_case("new-case", "[4, 4, 2]", 2)]);
    let o = run(&first, &["--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));

    let o = run(&second, &["--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(error_line(&o).contains("holds an earlier run; pass --force"), "{}", stderr(&o));
    assert!(out.join("cases/old-case/result.json").is_file(), "the earlier run is untouched");

    let o = run(&second, &["--out", out.to_str().unwrap(), "--force"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!out.join("cases/old-case").exists(), "nothing of the earlier run stays beside the new one");
    assert_eq!(results_json(&out)["cases"], serde_json::json!(["new-case"]));

    // A folder of the user's own files is never cleared, not even with --force.
    let mine = dir.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    std::fs::write(mine.join("notes.txt"), "mine").unwrap();
    let o = run(&second, &["--out", mine.to_str().unwrap(), "--force"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(error_line(&o).contains("not a tinybench run folder"), "{}", stderr(&o));
    assert!(mine.join("notes.txt").is_file());
}

#[test]
fn case_names_must_be_plain_file_names() {
    let dir = tempfile::tempdir().unwrap();
    for (name, why) in [("..", "'.'"), (".hidden", "'.'"), ("a/b", "letters, digits")] {
        let config =
            write_run_config(dir.path(), "names.toml", "sim-m4", QUICK_RUN, &[&conv_case(name, "[4, 4, 2]", 2)]);
        let o = run(&config, &["--list"]);
        assert_eq!(o.status.code(), Some(2), "{name}: {}", stderr(&o));
        assert!(error_line(&o).contains(why), "{name}: {}", stderr(&o));
    }
    let config = write_run_config(
        dir.path(),
        "names.toml",
        "sim-m4",
        QUICK_RUN,
        &[&conv_case("Int8", "[4, 4, 2]", 2), &conv_case("int8", "[4, 4, 2]", 2)],
    );
    let o = run(&config, &["--list"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(error_line(&o).contains("\"int8\""), "{}", stderr(&o));
}

#[test]
fn list_and_filter_show_and_select_the_expanded_matrix() {
    let config = repo_root().join("configs/sim-m4.toml");
    let o = run(&config, &["--list"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let names: Vec<String> =
        stdout(&o).lines().map(|l| l.split_whitespace().next().unwrap_or_default().to_owned()).collect();
    assert_eq!(names, ["int8", "int8-fused", "int8-simd", "int4", "pruned25-int4", "pruned50-int4"]);
    assert!(stdout(&o).lines().nth(1).unwrap().contains("fused"), "{}", stdout(&o));

    let o = run(&config, &["--list", "--filter", "int8*", "--filter", "pruned50-*"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let listed = stdout(&o);
    let names: Vec<&str> = listed.lines().map(|l| l.split_whitespace().next().unwrap_or_default()).collect();
    assert_eq!(names, ["int8", "int8-fused", "int8-simd", "pruned50-int4"]);

    let o = run(&config, &["--list", "--filter", "resnet*"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(error_line(&o).contains("matches none of the 6 cases"), "{}", stderr(&o));
}

#[test]
fn filter_runs_a_subset() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_run_config(
        dir.path(),
        "subset.toml",
        "sim-m4",
        QUICK_RUN,
        &[&conv_case("keep", "[4, 4, 2]", 2), &conv_case("skip", "[4, 4, 2]", 3)],
    );
    let out = dir.path().join("out");
    let o = run(&config, &["--filter", "ke?p", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(results_json(&out)["cases"], serde_json::json!(["keep"]));
    assert!(!out.join("cases/skip").exists());
}

#[test]
fn the_default_configuration_documents_itself_and_runs() {
    let o = tinybench(&["config", "--default"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    for key in ["[[matrix]]", "exclude", "[defaults]", "target-accuracy-samples", "max-cycles", "out-dir"] {
        assert!(text.contains(key), "{key} undocumented:\n{text}");
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("boards")).unwrap();
    std::fs::copy(repo_root().join("configs/boards/sim-m4.toml"), dir.path().join("boards/sim-m4.toml")).unwrap();
    std::fs::write(dir.path().join("default.toml"), &text).unwrap();
    let o = run(&dir.path().join("default.toml"), &["--list"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).lines().count() >= 2, "{}", stdout(&o));
}

/// A renamed case measures the same: the label never reaches the timed image
/// (the examples: the conv case and MNIST int8 with simd).
#[test]
fn the_same_case_under_two_names_takes_identical_cycles() {
    let dir = tempfile::tempdir().unwrap();
    let conv = |name: &str| conv_case(name, "[16, 16, 8]", 16);
    let model = |name: &str| {
        format!(
            "name = \"{name}\"\nworkload = \"model\"\nmodel = \"{}\"\ninput = \"{}\"\nkernels = \"simd\"",
            mnist("variants/int8.tbm").display(),
            mnist("data/test-inputs.bin").display()
        )
    };
    let cases = [conv("conv3x3-16x16x8-16"), conv("a"), model("int8-simd"), model("renamed-int8-simd-case")];
    let config =
        write_run_config(dir.path(), "labels.toml", "sim-m4", QUICK_RUN, &cases.each_ref().map(String::as_str));
    let out = dir.path().join("out");
    let o = run(&config, &["--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let json = results_json(&out);
    for pair in json["results"].as_array().unwrap().chunks(2) {
        let (a, b) = (&pair[0], &pair[1]);
        assert_eq!(a["cycles_per_iteration"], b["cycles_per_iteration"], "{} vs {}", a["case"], b["case"]);
        assert_eq!(a["provenance"]["firmware_sha256"], b["provenance"]["firmware_sha256"], "the same image");
    }
}

/// Where the checkout and the cargo home are does not change what is
/// measured: source paths reach the image (panic locations) and path-based
/// crate hashes order its functions; either would move code.
#[test]
fn the_same_case_from_another_checkout_takes_identical_cycles() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("a/much/longer/path/to/another/checkout/of/tinybench");
    let listed = Command::new("git")
        .current_dir(repo_root())
        .args(["ls-files", "--cached", "--others", "--exclude-standard", "-z"])
        .output()
        .unwrap();
    for file in listed.stdout.split(|&b| b == 0).filter(|f| !f.is_empty()) {
        let file = std::str::from_utf8(file).unwrap();
        let (from, to) = (repo_root().join(file), copy.join(file));
        if from.is_file() {
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(&from, &to).unwrap();
        }
    }
    // A case whose cycles moved with the checkout's path (1,614,511 in a clone
    // under /tmp, 1,615,946 in /work/main) before paths were remapped.
    let case = format!(
        "name = \"pruned50-int4\"\nworkload = \"model\"\nmodel = \"{}\"\ninput = \"{}\"\nkernels = \"simd\"",
        mnist("variants/pruned50-int4.tbm").display(),
        mnist("data/test-inputs.bin").display()
    );
    let config = write_run_config(dir.path(), "where.toml", "sim-m4", QUICK_RUN, &[&case]);
    // The same cargo home (no downloads) under a longer path.
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cargo"));
    let other_home = dir.path().join("another/user/home/.cargo");
    std::fs::create_dir_all(other_home.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&cargo_home, &other_home).unwrap();
    let cycles = |firmware: Option<&Path>, out: &str| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tinybench"));
        cmd.args(["run", config.to_str().unwrap(), "--out", dir.path().join(out).to_str().unwrap()]);
        if let Some(firmware) = firmware {
            cmd.env("TINYBENCH_FIRMWARE_DIR", firmware).env("CARGO_HOME", &other_home);
        }
        let o = cmd.output().unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        results_json(&dir.path().join(out))["results"][0]["cycles_per_iteration"].clone()
    };
    assert_eq!(cycles(None, "here"), cycles(Some(&copy.join("target-fw")), "there"));
}

/// Results that cannot be written end the run with exit 5 (here results.csv
/// is in the way as a folder when a finished run is resumed).
#[test]
fn results_that_cannot_be_written_during_a_run_exit_5() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_run_config(dir.path(), "x.toml", "sim-m4", QUICK_RUN, &[&conv_case("c", "[4, 4, 2]", 2)]);
    let out = dir.path().join("out");
    assert!(run(&config, &["--out", out.to_str().unwrap()]).status.success());
    std::fs::remove_file(out.join("results.csv")).unwrap();
    std::fs::create_dir(out.join("results.csv")).unwrap();
    let o = run(&config, &["--resume", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    assert!(error_line(&o).contains("cannot write results to"), "{}", stderr(&o));
}

// ---- interrupting and resuming ----

/// Two cases: a tiny one, then `second` with `keys` (a 48x48x16:32 conv, at
/// least a second of simulation, unless `keys` make it hang).
fn two_case_config(dir: &Path, keys: &str) -> std::path::PathBuf {
    let second = format!("{}\nseed = 3\n{keys}", conv_case("second", "[48, 48, 16]", 32));
    write_run_config(dir, "two.toml", "sim-m4", QUICK_RUN, &[&conv_case("first", "[4, 4, 2]", 2), &second])
}

fn spawn_run(config: &Path, out: &Path, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_tinybench"))
        .args(["run", config.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until the run in `out` has finished its first case, then sends `signal`.
fn signal_after_first_case(child: &mut Child, out: &Path, signal: &str) {
    let started = Instant::now();
    loop {
        let done = std::fs::read_to_string(out.join("results.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .is_some_and(|j| j["results"].as_array().is_some_and(|r| !r.is_empty()));
        if done {
            break;
        }
        assert!(child.try_wait().unwrap().is_none(), "the run ended before its first case was written");
        assert!(started.elapsed() < Duration::from_secs(600), "the first case never finished");
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = Command::new("kill").args([signal, &child.id().to_string()]).status().unwrap();
    assert!(status.success());
}

/// results.csv without the columns that differ between two runs of the same
/// cases (when they ran).
fn csv_without_timestamps(out: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(out.join("results.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().clone();
    let stamp = header.iter().position(|h| h == "timestamp").unwrap();
    let mut rows = vec![header.iter().collect::<Vec<_>>().join(",")];
    for record in reader.records() {
        let record = record.unwrap();
        rows.push(record.iter().enumerate().filter(|(i, _)| *i != stamp).map(|(_, v)| v).collect::<Vec<_>>().join(","));
    }
    rows
}

#[test]
fn sigint_after_the_first_case_stops_cleanly_and_resume_finishes_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let config = two_case_config(dir.path(), "");
    let uninterrupted = dir.path().join("uninterrupted");
    let o = run(&config, &["--out", uninterrupted.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));

    let out = dir.path().join("out");
    let mut child = spawn_run(&config, &out, &[]);
    signal_after_first_case(&mut child, &out, "-INT");
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    let line = error_line(&o);
    assert!(line.contains("interrupted: 1 of 2 cases finished") && line.contains("--resume"), "{line}");
    let json = results_json(&out);
    assert_eq!((json["complete"].as_bool(), json["interrupted"].as_bool()), (Some(false), Some(true)), "{json}");
    assert_eq!(json["missing"], serde_json::json!(["second"]));
    assert_eq!(json["failures"], serde_json::json!([]));
    assert!(std::fs::read_to_string(out.join("report.md")).unwrap().contains("Incomplete run"));

    let o = run(&config, &["--resume", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("first: kept from the earlier run"), "{}", stderr(&o));
    assert_eq!(results_json(&out)["complete"], true);
    assert_eq!(csv_without_timestamps(&out), csv_without_timestamps(&uninterrupted));

    // A case whose inputs changed is not kept: here its seed.
    let changed =
        std::fs::read_to_string(&config).unwrap().replacen("name = \"first\"", "name = \"first\"\nseed = 9", 1);
    std::fs::write(&config, changed).unwrap();
    let o = run(&config, &["--resume", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stderr(&o).contains("first: kept"), "{}", stderr(&o));
    assert!(stderr(&o).contains("second: kept from the earlier run"), "{}", stderr(&o));
}

#[test]
fn sigterm_stops_cleanly_with_exit_143() {
    let dir = tempfile::tempdir().unwrap();
    // The second case never ends by itself: the signal surely finds it running.
    let config = two_case_config(dir.path(), "self-test = \"hang\"");
    let out = dir.path().join("out");
    let mut child = spawn_run(&config, &out, &[]);
    signal_after_first_case(&mut child, &out, "-TERM");
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(143), "{}", stderr(&o));
    let json = results_json(&out);
    assert_eq!((json["interrupted"].as_bool(), json["missing"].clone()), (Some(true), serde_json::json!(["second"])));
}

#[test]
fn resume_needs_a_run_folder_of_the_same_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_run_config(dir.path(), "a.toml", "sim-m4", QUICK_RUN, &[&conv_case("x", "[4, 4, 2]", 2)]);
    let o = run(&config, &["--resume", dir.path().join("nothing").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(error_line(&o).contains("no run to resume"), "{}", stderr(&o));
}
