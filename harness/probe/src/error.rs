use std::path::PathBuf;

/// What this crate's own entry points (the dry-run flash plan) report; the
/// backend reports through the runner's and the target's error types,
/// which the runner turns into a case's failure.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// probe-rs could not attach to the chip (an unknown chip name, or the
    /// chip's attach sequence failed).
    #[error("probe-rs cannot attach to {chip}; check the chip name (`probe-rs chip list` names them)")]
    Attach {
        chip: String,
        #[source]
        source: probe_rs::Error,
    },
    /// The image could not be read or laid out in the chip's memory.
    #[error("{}: probe-rs cannot lay the image out in the chip's memory", path.display())]
    Image {
        path: PathBuf,
        #[source]
        source: probe_rs::flashing::FileDownloadError,
    },
    /// probe-rs refused the flash plan.
    #[error("no flash plan for {chip}")]
    Plan {
        chip: String,
        #[source]
        source: probe_rs::flashing::FlashError,
    },
}
