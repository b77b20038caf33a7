//! Exit codes: one enum, documented once. `--help` shows [`help_text`], the
//! README repeats it word for word (a test checks), and every code has a
//! test that makes tinybench exit with it.

use tinybench_runner::FailureKind;

/// How `tinybench` ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Success,
    /// A benchmark ran but failed: the firmware reported an error, or its
    /// output differs from the host's; or `tinybench compare` found a
    /// regression (one code for "the benchmark got worse", as CI expects).
    BenchmarkFailed,
    /// Bad input: usage, configuration, board, model or ELF file, run folder.
    BadInput,
    /// The firmware could not be built.
    BuildFailed,
    /// The target could not run the firmware to completion.
    TargetFailed,
    /// Results could not be written.
    WriteFailed,
    /// No target to run on: no debug probe found, or not the one asked for.
    NoTarget,
    /// A power meter could not be reached or its capture gave no energy.
    PowerFailed,
    /// Stopped by Ctrl-C (SIGINT) after writing what finished.
    Interrupted,
    /// Stopped by SIGTERM after writing what finished.
    Terminated,
}

impl Exit {
    /// Every code, in the order the documentation lists them.
    pub const ALL: [Exit; 10] = [
        Exit::Success,
        Exit::BenchmarkFailed,
        Exit::BadInput,
        Exit::BuildFailed,
        Exit::TargetFailed,
        Exit::WriteFailed,
        Exit::NoTarget,
        Exit::PowerFailed,
        Exit::Interrupted,
        Exit::Terminated,
    ];

    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::BenchmarkFailed => 1,
            Exit::BadInput => 2,
            Exit::BuildFailed => 3,
            Exit::TargetFailed => 4,
            Exit::WriteFailed => 5,
            Exit::NoTarget => 6,
            Exit::PowerFailed => 7,
            // 128 + the signal number, as shells report a process killed by it.
            Exit::Interrupted => 130,
            Exit::Terminated => 143,
        }
    }

    /// One line for `--help` and the README.
    pub fn meaning(self) -> &'static str {
        match self {
            Exit::Success => "success",
            Exit::BenchmarkFailed => {
                "a benchmark ran but failed (firmware reported an error, output differs from the host), \
                 or `tinybench compare` found a regression beyond its thresholds"
            }
            Exit::BadInput => "bad input: usage, configuration, board, model or ELF file, run folder",
            Exit::BuildFailed => {
                "the firmware could not be built (Rust target missing, compile error; log in the run folder)"
            }
            Exit::TargetFailed => {
                "the target could not run the firmware to completion (fault, cycle/time budget, protocol)"
            }
            Exit::WriteFailed => "results could not be written",
            Exit::NoTarget => "no target to run on: no debug probe found, or not the one the configuration asks for",
            Exit::PowerFailed => {
                "a power meter could not be reached or gave no energy (instrument error, marker not seen); timing results are kept"
            }
            Exit::Interrupted => "stopped by Ctrl-C (SIGINT) after writing what finished; `run --resume` finishes it",
            Exit::Terminated => "stopped by SIGTERM after writing what finished; `run --resume` finishes it",
        }
    }

    /// The exit code of a case failure of this kind.
    pub fn of_failure(kind: FailureKind) -> Exit {
        match kind {
            FailureKind::Benchmark => Exit::BenchmarkFailed,
            FailureKind::Build => Exit::BuildFailed,
            FailureKind::Target => Exit::TargetFailed,
            FailureKind::Io => Exit::WriteFailed,
            FailureKind::Input => Exit::BadInput,
            FailureKind::Unreachable => Exit::NoTarget,
            FailureKind::Power => Exit::PowerFailed,
        }
    }

    /// The exit code after a stop requested by `signal`.
    pub fn of_signal(signal: usize) -> Exit {
        if signal == signal_hook::consts::SIGTERM as usize { Exit::Terminated } else { Exit::Interrupted }
    }
}

/// The exit-code section of `--help` and of the README.
pub fn help_text() -> String {
    let mut text = String::from("Exit codes:\n");
    for exit in Exit::ALL {
        text.push_str(&format!("  {:>3}  {}\n", exit.code(), exit.meaning()));
    }
    text.push_str("`tinybench sim` exits with the program's own exit status when the program exits.");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_lists_the_exit_codes_as_help_does() {
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
        assert!(readme.contains(&help_text()), "README.md must contain, in a code block:\n{}", help_text());
    }

    /// Where `exit` stands in [`Exit::ALL`]: the match makes a new variant a
    /// compile error here until it is listed.
    fn position(exit: Exit) -> usize {
        match exit {
            Exit::Success => 0,
            Exit::BenchmarkFailed => 1,
            Exit::BadInput => 2,
            Exit::BuildFailed => 3,
            Exit::TargetFailed => 4,
            Exit::WriteFailed => 5,
            Exit::NoTarget => 6,
            Exit::PowerFailed => 7,
            Exit::Interrupted => 8,
            Exit::Terminated => 9,
        }
    }

    #[test]
    fn every_exit_is_listed_once_with_a_distinct_code() {
        for (i, exit) in Exit::ALL.iter().enumerate() {
            assert_eq!(position(*exit), i, "{exit:?}");
        }
        let mut codes: Vec<u8> = Exit::ALL.iter().map(|e| e.code()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), Exit::ALL.len());
        assert_eq!(Exit::of_signal(signal_hook::consts::SIGINT as usize).code(), 128 + 2);
        assert_eq!(Exit::of_signal(signal_hook::consts::SIGTERM as usize).code(), 128 + 15);
    }
}
