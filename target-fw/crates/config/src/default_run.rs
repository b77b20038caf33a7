//! The commented default run configuration: every key of every table with
//! its default and units. `tinybench config --default` prints it.

/// A complete, valid run configuration documenting every key (for
/// `tinybench config --default`). It names board `sim-m4`, looked up as
/// `boards/sim-m4.toml` next to wherever it is written.
pub const DEFAULT_RUN_CONFIG: &str = include_str!("default-run.toml");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::tests::Fixture;
    use crate::run::{RawRunConfig, parse_run_config};
    use crate::{KernelSet, RunSettings, SourceFile};

    #[test]
    fn default_config_is_valid() {
        // The shipped sim-m4 board: it has the [power-model] kind = "model" reads.
        let fixture = Fixture::new();
        let board = include_str!("../../../../configs/boards/sim-m4.toml");
        std::fs::write(fixture.dir.path().join("boards/sim-m4.toml"), board).unwrap();
        let cfg = fixture.load(DEFAULT_RUN_CONFIG).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(cfg.power.meters.get("model"), Some(&crate::MeterConfig::Model));
        assert_eq!((cfg.power.idle_ms, cfg.power.per_layer, cfg.power.sample_us), (20, false, 5.0));
        let names: Vec<_> = cfg.cases.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["conv3x3", "conv-16x16x8-reference", "conv-8x8x4-simd", "conv-16x16x8-simd"]);
        // The values it shows are the defaults.
        assert_eq!(cfg.run, RunSettings::default());
        assert_eq!((cfg.cases[0].kernels, cfg.cases[0].seed), (KernelSet::Reference, 1));
        assert_eq!(cfg.report.out_dir, None);
    }

    /// The table headers of the default text and each one's lines.
    fn sections() -> Vec<(&'static str, Vec<&'static str>)> {
        let mut sections: Vec<(&str, Vec<&str>)> = Vec::new();
        for line in DEFAULT_RUN_CONFIG.lines() {
            if line.starts_with('[') {
                let header = line.split('#').next().unwrap().trim();
                sections.push((header.trim_matches(['[', ']']), Vec::new()));
            } else if let Some((_, lines)) = sections.last_mut() {
                lines.push(line);
            }
        }
        sections
    }

    /// Whether `lines` document `key` as `key = ...`, commented out or not.
    fn documents(lines: &[&str], key: &str) -> bool {
        lines.iter().any(|l| l.trim_start_matches(['#', ' ']).starts_with(&format!("{key} =")))
    }

    /// The keys serde accepts in `table`, from its unknown-field error.
    fn accepted_keys(table: &str) -> Vec<String> {
        let header = if matches!(table, "case" | "matrix") { format!("[[{table}]]") } else { format!("[{table}]") };
        let at = DEFAULT_RUN_CONFIG.find(&format!("\n{header}")).expect("table in the default text") + 1;
        let line_end = at + DEFAULT_RUN_CONFIG[at..].find('\n').unwrap() + 1;
        let text = format!(
            "{}bogus-key-for-the-test = 1\n{}",
            &DEFAULT_RUN_CONFIG[..line_end],
            &DEFAULT_RUN_CONFIG[line_end..]
        );
        let source = SourceFile { path: "default-run.toml".into(), text };
        let e = parse_run_config(&source).map(|_: RawRunConfig| ()).unwrap_err().to_string();
        let (_, expected) = e.split_once("unknown field `bogus-key-for-the-test`, expected").expect(&e);
        expected.split('`').skip(1).step_by(2).map(str::to_owned).collect()
    }

    #[test]
    fn default_config_documents_every_key() {
        let sections = sections();
        let lines = |table: &str| &sections.iter().find(|(t, _)| *t == table).expect(table).1;
        let tables = ["board", "target", "power", "run", "report", "defaults", "case", "matrix"];
        assert_eq!(sections.iter().map(|(t, _)| *t).collect::<Vec<_>>(), tables, "one section per table");
        let case_keys = accepted_keys("case");
        for table in tables {
            let keys = accepted_keys(table);
            assert!(!keys.is_empty(), "{table}");
            for key in keys {
                // [defaults] and [[matrix]] take the case keys, documented under [[case]].
                let shared = matches!(table, "defaults" | "matrix") && case_keys.contains(&key);
                let documented = documents(lines(table), &key) || shared && documents(lines("case"), &key);
                assert!(documented, "[{table}] {key} is not documented in default-run.toml as `{key} = ...`");
            }
        }
    }
}
