//! Reading input files (configurations, boards, models, samples, test sets,
//! ELF files) with a size bound, so a wrong path (`/dev/zero`, a disk image,
//! a FIFO) is refused at once instead of being read into memory without end.

use std::io::Read;
use std::path::{Path, PathBuf};

/// More than any microcontroller board holds, internal and external flash
/// together (the largest common parts have 8 MiB internal and 64 MiB of
/// external flash): a model or input sample above this is a wrong file.
pub const MAX_MODEL_BYTES: u64 = 64 << 20;

/// Configuration and board files are a few KiB.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// Firmware ELF files carry debug info: tens of MiB at most.
pub const MAX_ELF_BYTES: u64 = 256 << 20;

/// Test sets are only read by the host, so they may be larger than a board:
/// 256 MiB is 340,000 MNIST digits or 25,000 96x96 RGB images.
pub const MAX_TEST_SET_BYTES: u64 = 256 << 20;

/// Why an input file was refused.
#[derive(Debug, thiserror::Error)]
pub enum InputFileError {
    #[error("{}: cannot read: {source}; check the path", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}: {kind}, not a regular file; give the path of a file", path.display())]
    NotAFile { path: PathBuf, kind: &'static str },
    #[error(
        "{}: {size_bytes} bytes, more than the {limit_bytes} bytes a {what} may have; check the path",
        path.display()
    )]
    TooLarge { path: PathBuf, size_bytes: u64, limit_bytes: u64, what: &'static str },
}

impl InputFileError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            InputFileError::Io { path, .. }
            | InputFileError::NotAFile { path, .. }
            | InputFileError::TooLarge { path, .. } => path,
        }
    }
}

/// Reads `path` if it is a regular file of at most `limit` bytes; `what`
/// names it in the error (`model`, `input`, `test set`).
pub fn read_limited(path: &Path, limit: u64, what: &'static str) -> Result<Vec<u8>, InputFileError> {
    let io = |source| InputFileError::Io { path: path.to_owned(), source };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(InputFileError::NotAFile { path: path.to_owned(), kind: file_kind(&meta) });
    }
    let too_large =
        |size_bytes| InputFileError::TooLarge { path: path.to_owned(), size_bytes, limit_bytes: limit, what };
    if meta.len() > limit {
        return Err(too_large(meta.len()));
    }
    // The file may grow between the check and the read: read one byte more
    // than allowed at most.
    let file = std::fs::File::open(path).map_err(io)?;
    // Checked again on the open file, in case the path changed meanwhile.
    let opened = file.metadata().map_err(io)?;
    if !opened.is_file() {
        return Err(InputFileError::NotAFile { path: path.to_owned(), kind: file_kind(&opened) });
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(limit + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a folder"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_fifo() {
        "a named pipe"
    } else if t.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_folders_and_oversized_files_are_refused() {
        let err = read_limited(Path::new("/dev/zero"), MAX_MODEL_BYTES, "model").unwrap_err();
        assert_eq!(err.to_string(), "/dev/zero: a character device, not a regular file; give the path of a file");
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            read_limited(dir.path(), MAX_MODEL_BYTES, "model"),
            Err(InputFileError::NotAFile { kind: "a folder", .. })
        ));
        let file = dir.path().join("big.bin");
        std::fs::write(&file, [0u8; 11]).unwrap();
        let err = read_limited(&file, 10, "model").unwrap_err();
        assert!(
            err.to_string().ends_with("big.bin: 11 bytes, more than the 10 bytes a model may have; check the path"),
            "{err}"
        );
        assert_eq!(read_limited(&file, 11, "model").unwrap().len(), 11);
        assert!(matches!(read_limited(&dir.path().join("none"), 10, "model"), Err(InputFileError::Io { .. })));
    }
}
