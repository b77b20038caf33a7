//! probe-rs's flash plan for a real chip, made without a board: probe-rs's
//! own mocked probe stands in for the chip, and `dry_run` stops the download
//! before anything is written. It checks that the chip name exists in
//! probe-rs's database, that the ELF lies in the chip's memory, and that a
//! flash algorithm covers it.

use std::path::Path;

use probe_rs::Permissions;
use probe_rs::architecture::arm::FullyQualifiedApAddress;
use probe_rs::flashing::{DownloadOptions, ElfLoader, ElfOptions, FlashProgress, ProgressEvent};
use probe_rs::integration::{FakeProbe, Operation};

use crate::ProbeError;

/// What the dry run saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlashPlan {
    /// Progress events of the dry run, by name (probe-rs reports the phases
    /// it skips as failed).
    pub events: Vec<String>,
}

/// Plans flashing `elf` onto `chip`; an error names what probe-rs refused.
pub fn flash_plan(chip: &str, elf: &Path) -> Result<FlashPlan, ProbeError> {
    let fake = FakeProbe::with_mocked_core();
    if chip.to_ascii_lowercase().starts_with("nrf52") {
        // The nRF52 attach sequence reads CTRL-AP APPROTECTSTATUS: 1 = not protected.
        fake.expect_operation(Operation::ReadRawApRegister {
            ap: FullyQualifiedApAddress::v1_with_default_dp(1),
            address: 0x0c,
            result: 1,
        });
    }
    let mut session = fake
        .into_probe()
        .attach(chip, Permissions::default())
        .map_err(|source| ProbeError::Attach { chip: chip.to_owned(), source })?;
    let loader = probe_rs::flashing::build_loader(&mut session, elf, ElfLoader(ElfOptions::default()), None)
        .map_err(|source| ProbeError::Image { path: elf.to_owned(), source })?;
    let mut events = Vec::new();
    let mut options = DownloadOptions::default();
    options.dry_run = true;
    options.progress = FlashProgress::new(|event| {
        events.push(match event {
            ProgressEvent::Started(op) => format!("started {op:?}"),
            ProgressEvent::Finished(op) => format!("finished {op:?}"),
            ProgressEvent::Failed(op) => format!("skipped {op:?}"),
            other => format!("{other:?}").split([' ', '{', '(']).next().unwrap_or_default().to_owned(),
        })
    });
    loader.commit(&mut session, options).map_err(|source| ProbeError::Plan { chip: chip.to_owned(), source })?;
    Ok(FlashPlan { events })
}
