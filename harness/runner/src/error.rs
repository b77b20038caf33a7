//! What can go wrong in a run, and which exit-code class each failure has.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tinybench_config::input::InputFileError;
use tinybench_target::TargetError;

/// Why a case or a run failed.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error("{}: {detail}", path.display())]
    Model { path: PathBuf, detail: String },
    #[error(
        "output byte {offset} from the firmware is {firmware}, the host computed {host} for the same model and input; \
         the simulator or the kernel build is wrong"
    )]
    OutputMismatch { offset: usize, firmware: i8, host: i8 },
    #[error(
        "evaluation sample {sample}: output byte {offset} from the firmware is {firmware}, the host computed {host}; \
         the simulator or the kernel build is wrong"
    )]
    EvalMismatch { sample: usize, offset: usize, firmware: i8, host: i8 },
    #[error("cannot find the firmware sources: {0}")]
    FirmwareSourcesMissing(String),
    #[error("cannot start cargo to build the firmware: {0}; is cargo on PATH?")]
    BuildSpawn(String),
    #[error("firmware build for case {case} failed; full log in {}:\n{tail}", log_path.display())]
    BuildFailed { case: String, log_path: PathBuf, tail: String },
    #[error("bad firmware ELF: {0}")]
    BadElf(String),
    #[error(
        "firmware speaks result protocol v{firmware}, this tinybench speaks v{host}; rebuild the firmware from this checkout"
    )]
    ProtocolMismatch { firmware: u16, host: u16 },
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error("result channel: {0}")]
    Protocol(String),
    #[error("the firmware reported failure (code {code}); its log: {log_path}")]
    FirmwareFailed { code: u16, log_path: String },
    #[error("the firmware exited with status {code} before reporting all results; its log: {log_path}")]
    IncompleteResults { code: i32, log_path: String },
    #[error(
        "output checksum {firmware:#010x} from the firmware differs from the host's {host:#010x} for the same kernel and input; \
         the simulator or the kernel build is wrong"
    )]
    ChecksumMismatch { firmware: u32, host: u32 },
    /// A file of the run folder (or the firmware build's output) could not be
    /// written or read back.
    #[error("cannot write {}: {error}; check free space and permissions there", path.display())]
    Io { path: PathBuf, error: std::io::Error },
    /// An input the run needs could not be read.
    #[error("cannot read {}: {error}; check the path and its permissions", path.display())]
    Read { path: PathBuf, error: std::io::Error },
    #[error(transparent)]
    InputFile(#[from] InputFileError),
    /// The firmware's Rust target is not installed and could not be.
    #[error("cannot build firmware: {detail}")]
    FirmwareTargetMissing { detail: String },
    #[error(
        "{}: no firmware support for board {board}: the firmware is built for {} (features board-<id> in {}); \
         use one of those, or add a feature `board-{board}` there with its start-up code in \
         target-fw/bench-fw/src/board/ (docs/architecture.md, \"a new board\")",
        board_file.display(), known.join(", "), manifest.display()
    )]
    BoardNotSupported { board: String, board_file: PathBuf, manifest: PathBuf, known: Vec<String> },
    #[error(
        "{what} need {needed_bytes} bytes of board {board}'s region {region}, which has {available_bytes}: short by {} \
         bytes; use a smaller model (int4 weights, fewer target-accuracy-samples){larger_region}",
        needed_bytes - available_bytes
    )]
    DoesNotFit {
        board: String,
        region: String,
        needed_bytes: u64,
        available_bytes: u64,
        what: &'static str,
        /// ", or ..." naming a larger region of the board, if it has one.
        larger_region: String,
    },
    #[error(
        "the firmware does not fit board {board}: section {section} overflows region {region} by {bytes} bytes \
         (linker log in {}); use a smaller model (int4 weights, fewer target-accuracy-samples) or a board with more memory",
        log_path.display()
    )]
    LinkerOverflow { board: String, section: String, region: String, bytes: u64, log_path: PathBuf },
    /// Two builds before this case failed with the same error.
    #[error(
        "not built: the firmware build failed the same way for cases {first} and {second} (log in {}), so it would \
         fail for this case too; fix the firmware build and run again",
        log_path.display()
    )]
    SameBuildFailure { first: String, second: String, log_path: PathBuf },
    /// The target cannot be reached at all (no debug probe, the chosen one
    /// missing, unplugged since the last case).
    #[error("{detail}")]
    TargetUnavailable { detail: String },
    /// The board file does not fit the backend (a chip name probe-rs does
    /// not know, no chip name); `detail` says which key to fix and how.
    #[error("{}: {detail}", path.display())]
    BadBoard { path: PathBuf, detail: String },
    /// A power meter failed or could not be reached; the case's other
    /// figures are lost with it, the finished cases are kept.
    #[error(transparent)]
    Power(#[from] tinybench_power::PowerError),
    /// The case ran but its energy could not be had: the timing, memory and
    /// accuracy figures are kept beside it (not as `result.json`, so
    /// `--resume` runs the case again).
    #[error("{source}; the case's other figures are kept in {}", kept.display())]
    PowerAfterRun {
        #[source]
        source: tinybench_power::PowerError,
        kept: std::path::PathBuf,
    },
    /// The run was asked to stop (Ctrl-C, SIGTERM) while this case ran.
    #[error("stopped on request")]
    Stopped,
}

impl RunnerError {
    pub fn io(path: &Path, source: std::io::Error) -> RunnerError {
        RunnerError::Io { path: path.to_owned(), error: source }
    }

    /// The class of failure, which decides the CLI's exit code.
    pub fn kind(&self) -> FailureKind {
        match self {
            RunnerError::FirmwareSourcesMissing(_)
            | RunnerError::BuildSpawn(_)
            | RunnerError::BuildFailed { .. }
            | RunnerError::SameBuildFailure { .. }
            | RunnerError::FirmwareTargetMissing { .. } => FailureKind::Build,
            RunnerError::BadElf(_)
            | RunnerError::ProtocolMismatch { .. }
            | RunnerError::Target(_)
            | RunnerError::Protocol(_)
            | RunnerError::IncompleteResults { .. }
            | RunnerError::Stopped => FailureKind::Target,
            RunnerError::FirmwareFailed { .. }
            | RunnerError::ChecksumMismatch { .. }
            | RunnerError::OutputMismatch { .. }
            | RunnerError::EvalMismatch { .. } => FailureKind::Benchmark,
            RunnerError::Model { .. }
            | RunnerError::Read { .. }
            | RunnerError::InputFile(_)
            | RunnerError::BoardNotSupported { .. }
            | RunnerError::DoesNotFit { .. }
            | RunnerError::LinkerOverflow { .. }
            | RunnerError::BadBoard { .. } => FailureKind::Input,
            RunnerError::Io { .. } => FailureKind::Io,
            RunnerError::TargetUnavailable { .. } => FailureKind::Unreachable,
            RunnerError::Power(_) | RunnerError::PowerAfterRun { .. } => FailureKind::Power,
        }
    }
}

/// What kind of thing went wrong; each maps to a documented exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    /// The firmware ran but reported failure or a wrong result.
    Benchmark,
    /// The firmware could not be built.
    Build,
    /// The target could not run the firmware to completion.
    Target,
    /// Files could not be written.
    Io,
    /// A case's inputs (model or input file) are unusable.
    Input,
    /// There is nothing to run on: no debug probe, or not the one asked for.
    Unreachable,
    /// A power meter: unreachable, refused a command, lost mid-capture, or
    /// never saw the marker.
    Power,
}

impl FailureKind {
    /// The kind in one word, as it appears in reports (`build`, `target`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Benchmark => "benchmark",
            FailureKind::Build => "build",
            FailureKind::Target => "target",
            FailureKind::Io => "io",
            FailureKind::Input => "input",
            FailureKind::Unreachable => "unreachable",
            FailureKind::Power => "power",
        }
    }
}
