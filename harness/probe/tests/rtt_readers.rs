//! probe-rs's RTT reader and tinybench's own on the same simulated run:
//! at every look at the running core, probe-rs peeks at each up channel and
//! tinybench's reader then consumes it; both must see the same bytes, and
//! the whole stream must equal what the backend recorded for the case.

mod support;

use std::time::Duration;

use probe_rs::config::Registry;
use probe_rs::probe::DebugProbeSelector;
use probe_rs::probe::list::Lister;
use probe_rs::rtt::{Rtt as ProbeRsRtt, ScanRegion};
use probe_rs::semihosting::SemihostingCommand;
use probe_rs::{BreakpointCause, Core, CoreStatus, HaltReason, MemoryInterface, Permissions};
use tinybench_config::Board;
use tinybench_probe::sim_probe::{self, SimProbeFaults};
use tinybench_target::rtt::Rtt;
use tinybench_target::{MemoryAccess, TargetError};

/// tinybench's reader over a probe-rs core.
struct CoreMemory<'a, 'b>(&'a mut Core<'b>);

impl MemoryAccess for CoreMemory<'_, '_> {
    fn read(&mut self, address: u32, buf: &mut [u8]) -> Result<(), TargetError> {
        let len = buf.len();
        self.0.read(u64::from(address), buf).map_err(|e| TargetError::Memory { address, len, reason: e.to_string() })
    }

    fn write(&mut self, address: u32, data: &[u8]) -> Result<(), TargetError> {
        let len = data.len();
        self.0.write(u64::from(address), data).map_err(|e| TargetError::Memory { address, len, reason: e.to_string() })
    }
}

#[test]
fn both_readers_see_the_same_bytes_on_the_same_run() {
    let dir = tempfile::tempdir().unwrap();
    let results = support::run_cases_in(dir.path(), &["tiny"], SimProbeFaults::default());
    assert!(results.failures.is_empty(), "{:?}", results.failures);
    let case = dir.path().join("out/cases/tiny");
    let elf_path = case.join("firmware.elf");
    let elf = std::fs::read(&elf_path).unwrap();
    let rtt_address = probe_rs::rtt::find_rtt_control_block_in_raw_file(&elf).unwrap().unwrap();

    // The backend's steps by hand: attach, flash, start from the image's reset vector.
    let board = Board::builtin("sim-m4").unwrap().unwrap();
    let serial = sim_probe::offer(&board, SimProbeFaults::default());
    let mut registry = Registry::from_builtin_families();
    registry.add_target_family_from_yaml(&sim_probe::chip_family_yaml(&board)).unwrap();
    let selector = DebugProbeSelector {
        vendor_id: sim_probe::SIM_VENDOR_ID,
        product_id: sim_probe::SIM_PRODUCT_ID,
        interface: None,
        serial_number: Some(serial),
    };
    let probe = Lister::new().open(selector).unwrap();
    let mut session =
        probe.attach_with_registry(sim_probe::chip_name(&board).as_str(), Permissions::default(), &registry).unwrap();
    let elf_loader = probe_rs::flashing::ElfLoader(probe_rs::flashing::ElfOptions::default());
    probe_rs::flashing::download_file(&mut session, &elf_path, elf_loader).unwrap();
    let mut core = session.core(0).unwrap();
    core.reset_and_halt(Duration::from_millis(500)).unwrap();
    ProbeRsRtt::clear_control_block(&mut core, &ScanRegion::Exact(rtt_address)).unwrap();
    core.run().unwrap();

    let mut streams = [Vec::new(), Vec::new()];
    let mut readers: Option<(ProbeRsRtt, Rtt)> = None;
    let mut peeked = vec![0u8; 4096];
    for _ in 0..100_000 {
        let status = core.status().unwrap();
        if readers.is_none()
            && let Ok(theirs) = ProbeRsRtt::attach_region(&mut core, &ScanRegion::Exact(rtt_address))
        {
            let ours = Rtt::attach(&mut CoreMemory(&mut core), rtt_address as u32).unwrap().expect("set up");
            readers = Some((theirs, ours));
        }
        if let Some((theirs, ours)) = readers.as_mut() {
            for (channel, stream) in streams.iter_mut().enumerate() {
                let n = theirs.up_channel(channel).unwrap().peek(&mut core, &mut peeked).unwrap();
                let start = stream.len();
                ours.read_up(&mut CoreMemory(&mut core), channel, stream).unwrap();
                assert_eq!(&stream[start..], &peeked[..n], "channel {channel} at byte {start}");
            }
        }
        if let CoreStatus::Halted(reason) = status {
            let exit = HaltReason::Breakpoint(BreakpointCause::Semihosting(SemihostingCommand::ExitSuccess));
            assert!(
                matches!(reason, HaltReason::Breakpoint(BreakpointCause::Semihosting(SemihostingCommand::ExitSuccess))),
                "{reason:?}, not {exit:?}"
            );
            break;
        }
    }
    assert!(readers.is_some(), "RTT was set up");
    for (channel, stream) in streams.iter().enumerate() {
        let recorded = std::fs::read(case.join(format!("rtt-{channel}.bin"))).unwrap();
        assert!(!recorded.is_empty());
        assert!(*stream == recorded, "channel {channel}: {} bytes here, {} recorded", stream.len(), recorded.len());
    }
}
