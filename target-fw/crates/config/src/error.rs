use std::path::PathBuf;

/// Everything that can be wrong with a configuration or board file.
///
/// Each message is one line that names the file (with `line:column` where the
/// problem has a place), the key, and what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{}: cannot read: {error}; check the path", path.display())]
    Read { path: PathBuf, error: std::io::Error },
    /// The path names no regular file of a sensible size.
    #[error(transparent)]
    Input(Box<crate::input::InputFileError>),
    /// The TOML is malformed, a key is unknown or a value has the wrong type.
    #[error("{}:{line}:{column}: {key}: {message}", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        /// Dotted key path, e.g. `run.iterations`, or `(document)`.
        key: String,
        message: String,
    },
    /// A required key or table is missing, or a value breaks a rule (a
    /// named validation). `line` 0: about the whole file (a missing table).
    #[error("{}{}: {key}: {message}; {fix}", path.display(), place(*line, *column))]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        key: String,
        message: String,
        /// What the user should change.
        fix: String,
    },
}

impl ConfigError {
    /// The file the error is about.
    pub fn path(&self) -> &std::path::Path {
        match self {
            ConfigError::Read { path, .. } | ConfigError::Parse { path, .. } | ConfigError::Invalid { path, .. } => {
                path
            }
            ConfigError::Input(e) => e.path(),
        }
    }
}

/// `:line:column`, or nothing when the error has no place in a file.
fn place(line: usize, column: usize) -> String {
    if line == 0 { String::new() } else { format!(":{line}:{column}") }
}
