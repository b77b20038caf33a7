//! The probe-rs backend: [`ProbeRsTargets`] finds the board's probe before
//! anything is built, and each case's [`ProbeRsTarget`] flashes the ELF
//! (verified, with progress), resets and halts the core, clears a stale RTT
//! control block, catches HardFault, runs, reads RTT channel 0 (defmt) and
//! 1 (results) at the `_SEGGER_RTT` address from the ELF until the firmware
//! exits through semihosting, and detaches (dropping the session clears the
//! debug-in-low-power bits before anything measures current).
//!
//! Written against the public probe-rs API only, so the same code drives a
//! board over USB and the simulated probe ([`crate::sim_probe`]) in CI.

use std::time::{Duration, Instant};

use probe_rs::config::Registry;
use probe_rs::flashing::{
    BootInfo, DownloadOptions, ElfLoader, ElfOptions, FlashProgress, ProgressEvent, ProgressOperation,
};
use probe_rs::probe::list::Lister;
use probe_rs::probe::{DebugProbeSelector, WireProtocol};
use probe_rs::rtt::{Rtt, ScanRegion};
use probe_rs::semihosting::SemihostingCommand;
use probe_rs::{
    BreakpointCause, Core, CoreStatus, HaltReason, MemoryInterface, Permissions, Session, VectorCatchCondition,
};
use tinybench_config::{Board, ProbeChoice, ProbeRsSettings, RunConfig};
use tinybench_runner::{RunnerError, TargetFactory};
use tinybench_target::{BenchTarget, RunBudget, RunOutcome, TargetError, TargetOutput};

use crate::faults;
use crate::list::{ProbeEntry, list_probes};
use crate::sim_probe::{self, SimProbeFaults};

/// How long the firmware may take to set up RTT after it starts.
const RTT_SETUP_TIMEOUT: Duration = Duration::from_secs(5);
/// Progress is reported at most this often.
const PROGRESS_EVERY: Duration = Duration::from_millis(500);
/// A real core runs on its own: poll it at this interval while nothing
/// arrives. The simulated one only runs when polled, so it gets none.
const BOARD_POLL_INTERVAL: Duration = Duration::from_millis(10);
/// DWT cycle counter, read for progress.
const DWT_CYCCNT: u64 = 0xE000_1004;

/// Opens probe-rs targets for the configuration's board.
pub struct ProbeRsTargets {
    settings: ProbeRsSettings,
    /// The probe [`TargetFactory::check`] found.
    probe: Option<ProbeEntry>,
    faults: SimProbeFaults,
    lister: Lister,
}

impl ProbeRsTargets {
    pub fn new(settings: ProbeRsSettings) -> Self {
        ProbeRsTargets { settings, probe: None, faults: SimProbeFaults::default(), lister: Lister::new() }
    }

    /// With `probe = "sim"`: faults the simulated probe injects (tests).
    pub fn with_sim_faults(mut self, faults: SimProbeFaults) -> Self {
        self.faults = faults;
        self
    }

    fn still_connected(&self, probe: &ProbeEntry) -> bool {
        list_probes(&self.lister).iter().any(|p| p.selector_text() == probe.selector_text())
    }

    /// The chip name and, for the simulated probe, the registry that knows it.
    fn chip(&self, board: &Board) -> Result<(String, Option<Registry>), RunnerError> {
        if self.settings.probe == ProbeChoice::Sim {
            let mut registry = Registry::from_builtin_families();
            registry.add_target_family_from_yaml(&sim_probe::chip_family_yaml(board)).map_err(|e| {
                RunnerError::BadBoard {
                    path: board.path.clone(),
                    detail: format!("its memory map cannot be described to probe-rs ({e}); check [[memory]]"),
                }
            })?;
            return Ok((sim_probe::chip_name(board), Some(registry)));
        }
        let chip = board.probe_rs_chip.clone().ok_or_else(|| RunnerError::BadBoard {
            path: board.path.clone(),
            detail: "no probe-rs-chip; add the chip's name as probe-rs knows it (`probe-rs chip list`)".to_owned(),
        })?;
        Ok((chip, None))
    }
}

impl TargetFactory for ProbeRsTargets {
    /// Finds the probe (and checks the chip name) before anything is built.
    fn check(&mut self, config: &RunConfig) -> Result<(), RunnerError> {
        // Checked before (the CLI checks before settling the run folder,
        // the run again) and the probe still there.
        if self.probe.as_ref().is_some_and(|chosen| self.still_connected(chosen)) {
            return Ok(());
        }
        let (chip, registry) = self.chip(&config.board)?;
        let known = match &registry {
            Some(registry) => registry.get_target_by_name(&chip).is_ok(),
            None => Registry::from_builtin_families().get_target_by_name(&chip).is_ok(),
        };
        if !known {
            return Err(RunnerError::BadBoard {
                path: config.board.path.clone(),
                detail: format!(
                    "probe-rs does not know the chip \"{chip}\"; correct probe-rs-chip (`probe-rs chip list` names them)"
                ),
            });
        }
        let sim_serial =
            (self.settings.probe == ProbeChoice::Sim).then(|| sim_probe::offer(&config.board, self.faults.clone()));
        self.probe = Some(choose_probe(&list_probes(&self.lister), &self.settings.probe, &config.board, sim_serial)?);
        Ok(())
    }

    fn kind(&self) -> &'static str {
        "probe-rs"
    }

    fn describe(&self, config: &RunConfig) -> String {
        match &self.probe {
            Some(probe) => format!("{} through probe-rs on {}", config.board.id, probe),
            None => format!("{} through probe-rs", config.board.id),
        }
    }

    fn open(&mut self, config: &RunConfig) -> Result<Box<dyn BenchTarget>, RunnerError> {
        let probe = match self.probe.clone() {
            None => {
                self.check(config)?;
                self.probe
                    .clone()
                    .ok_or_else(|| RunnerError::TargetUnavailable { detail: "no debug probe was chosen".to_owned() })?
            }
            // Unplugged since the last case: the run stops here rather than
            // building every remaining case for nothing.
            Some(probe) if !self.still_connected(&probe) => {
                return Err(RunnerError::TargetUnavailable {
                    detail: format!("the debug probe {probe} is no longer connected; plug it in again"),
                });
            }
            Some(probe) => probe,
        };
        let (chip, registry) = self.chip(&config.board)?;
        Ok(Box::new(ProbeRsTarget {
            board: config.board.clone(),
            selector: probe.selector(),
            chip,
            registry,
            settings: self.settings.clone(),
            simulated: probe.simulated,
            session: None,
            rtt_address: None,
            symbols: None,
        }))
    }
}

/// The probe a run uses: the configured one, else the board file's, else
/// the only one connected; one error line otherwise.
fn choose_probe(
    probes: &[ProbeEntry],
    choice: &ProbeChoice,
    board: &Board,
    sim_serial: Option<String>,
) -> Result<ProbeEntry, RunnerError> {
    let unavailable = |detail: String| RunnerError::TargetUnavailable { detail };
    let listed = || probes.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
    let wanted = match choice {
        ProbeChoice::Sim => Some(tinybench_config::ProbeSelector {
            vendor_id: sim_probe::SIM_VENDOR_ID,
            product_id: sim_probe::SIM_PRODUCT_ID,
            serial: sim_serial,
        }),
        ProbeChoice::Usb(selector) => Some(selector.clone()),
        ProbeChoice::Board => None,
    };
    // The simulated probe is for `probe = "sim"` only.
    let real: Vec<&ProbeEntry> = probes.iter().filter(|p| !p.simulated).collect();
    let candidates: Vec<&ProbeEntry> = match (&wanted, &board.probe) {
        (Some(selector), _) => {
            probes.iter().filter(|p| selector.matches(p.vendor_id, p.product_id, p.serial.as_deref())).collect()
        }
        (None, Some(on_board)) => {
            let exact: Vec<&ProbeEntry> = real
                .iter()
                .copied()
                .filter(|p| on_board.matches(p.vendor_id, p.product_id, p.serial.as_deref()))
                .collect();
            if exact.is_empty() {
                // A probe firmware update changes the product id (ST-LINK/V3:
                // 374e, 374f, 3753, 3754): the board's probe vendor will do.
                real.iter().copied().filter(|p| p.vendor_id == on_board.vendor_id).collect()
            } else {
                exact
            }
        }
        (None, None) => real.clone(),
    };
    match candidates.as_slice() {
        [one] if one.permission_denied => {
            Err(unavailable(format!("no permission to open the debug probe {one}; {}", crate::list::PERMISSION_FIX)))
        }
        [one] => Ok((*one).clone()),
        [] if real.is_empty() && wanted.is_none() => Err(unavailable(
            "no debug probe found; connect the board's on-board probe over USB or set [target] kind = \"sim\""
                .to_owned(),
        )),
        [] => Err(unavailable(format!(
            "the debug probe {} is not connected (connected: {}); connect it, or choose another with [target] probe",
            wanted.or_else(|| board.probe.clone()).map_or_else(String::new, |s| s.to_string()),
            if real.is_empty() { "none".to_owned() } else { listed() }
        ))),
        several => Err(unavailable(format!(
            "{} debug probes fit ({}); choose one with [target] probe = \"VID:PID:SERIAL\"{}",
            several.len(),
            several.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "),
            if several.iter().any(|p| p.permission_denied) {
                format!("; for those marked [no permission], {}", crate::list::PERMISSION_FIX)
            } else {
                String::new()
            }
        ))),
    }
}

/// One case on a board through probe-rs.
pub struct ProbeRsTarget {
    board: Board,
    selector: DebugProbeSelector,
    chip: String,
    registry: Option<Registry>,
    settings: ProbeRsSettings,
    simulated: bool,
    session: Option<Session>,
    rtt_address: Option<u64>,
    symbols: Option<tinybench_sim::Symbols>,
}

/// A probe-rs error with its causes, which carry the useful part ("Error
/// communicating with the probe" alone does not say what happened).
fn probe_error(e: impl std::error::Error) -> TargetError {
    TargetError::Probe { detail: with_causes(&e) }
}

/// An error and its causes in one line.
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(cause) = source {
        parts.push(cause.to_string());
        source = cause.source();
    }
    let parts: Vec<&str> = parts.iter().map(|p| p.trim_end_matches('.')).collect();
    parts.join(": ")
}

impl ProbeRsTarget {
    fn attach(&self) -> Result<Session, TargetError> {
        let mut probe = Lister::new().open(self.selector.clone()).map_err(|e| TargetError::Probe {
            detail: format!("cannot open the probe {}: {}; is it still connected?", self.selector, with_causes(&e)),
        })?;
        probe.select_protocol(WireProtocol::Swd).map_err(probe_error)?;
        if let Some(khz) = self.settings.speed_khz {
            probe.set_speed(khz).map_err(probe_error)?;
        }
        let builtin;
        let registry = match &self.registry {
            Some(registry) => registry,
            None => {
                builtin = Registry::from_builtin_families();
                &builtin
            }
        };
        let attached = if self.settings.connect_under_reset {
            probe.attach_under_reset_with_registry(self.chip.as_str(), Permissions::default(), registry)
        } else {
            probe.attach_with_registry(self.chip.as_str(), Permissions::default(), registry)
        };
        attached.map_err(|e| TargetError::Probe {
            detail: format!(
                "cannot attach to {} ({}); check the board's power and cable{}",
                self.chip,
                with_causes(&e),
                if self.settings.connect_under_reset { "" } else { ", or try connect-under-reset = true" }
            ),
        })
    }

    /// The attached core is the board file's (its CPUID part number).
    fn check_core(&self, core: &mut Core<'_>) -> Result<(), TargetError> {
        let cpuid = core.read_word_32(0xE000_ED00).map_err(probe_error)?;
        let found = match (cpuid >> 4) & 0xfff {
            0xC24 => "Cortex-M4",
            0xC27 => "Cortex-M7",
            0xC23 => "Cortex-M3",
            0xC20 => "Cortex-M0",
            0xC60 => "Cortex-M0+",
            0xD21 => "Cortex-M33",
            _ => "core of another kind",
        };
        let expected = match self.board.core {
            tinybench_config::Core::CortexM4 => "Cortex-M4",
            tinybench_config::Core::CortexM7 => "Cortex-M7",
        };
        if found != expected {
            return Err(TargetError::WrongChip { found: found.to_owned(), cpuid, expected: expected.to_owned() });
        }
        Ok(())
    }

    fn flash(
        &self,
        session: &mut Session,
        elf: &[u8],
        progress: &mut dyn FnMut(TargetOutput<'_>),
    ) -> Result<(), TargetError> {
        // probe-rs loads images from files.
        let dir =
            tempfile::tempdir().map_err(|e| TargetError::Flash { detail: format!("no temporary folder: {e}") })?;
        let path = dir.path().join("firmware.elf");
        std::fs::write(&path, elf).map_err(|e| TargetError::Flash { detail: format!("{}: {e}", path.display()) })?;
        let loader =
            probe_rs::flashing::build_loader(session, &path, ElfLoader(ElfOptions::default()), None).map_err(|e| {
                let hint = match e {
                    probe_rs::flashing::FileDownloadError::Flash(_) => {
                        format!("; does the board file's memory map match {}?", self.chip)
                    }
                    _ => String::new(),
                };
                TargetError::Flash { detail: format!("{}{hint}", with_causes(&e)) }
            })?;
        let mut totals = std::collections::HashMap::new();
        let mut done = std::collections::HashMap::new();
        let mut options = DownloadOptions::default();
        options.verify = true;
        options.progress = FlashProgress::new(|event| match event {
            ProgressEvent::AddProgressBar { operation, total } => {
                totals.insert(operation_name(operation), total.unwrap_or(0));
            }
            ProgressEvent::Progress { operation, size, .. } => {
                let name = operation_name(operation);
                let done_bytes = done.entry(name).or_insert(0u64);
                *done_bytes += size;
                let total_bytes = totals.get(name).copied().unwrap_or(0).max(*done_bytes);
                progress(TargetOutput::Flash { operation: name, done_bytes: *done_bytes, total_bytes });
            }
            _ => {}
        });
        loader.commit(session, options).map_err(|e| {
            let detail = match e {
                probe_rs::flashing::FlashError::Verify => {
                    "the image read back differs from the ELF after programming (verify); the flash is worn or \
                     write-protected, or the board's power is unstable"
                        .to_owned()
                }
                other => with_causes(&other),
            };
            TargetError::Flash { detail }
        })?;
        match loader.boot_info() {
            BootInfo::FromRam { vector_table_addr, .. } => {
                session.prepare_running_on_ram(vector_table_addr, 0).map_err(probe_error)?;
            }
            BootInfo::Other => {
                session
                    .core(0)
                    .map_err(probe_error)?
                    .reset_and_halt(Duration::from_millis(500))
                    .map_err(probe_error)?;
            }
        }
        Ok(())
    }

    /// The fault the core stopped on: status registers decoded and the PC
    /// of the faulting instruction (from the exception frame when the core
    /// halted at the HardFault handler).
    fn fault(&self, core: &mut Core<'_>, lockup: bool) -> TargetError {
        let detail = faults::describe(core, lockup);
        let pc = faults::faulting_pc(core).unwrap_or(0);
        TargetError::Fault { pc, symbol: self.symbol_at(pc), detail }
    }

    /// The function holding `pc`, from the ELF's symbols.
    fn symbol_at(&self, pc: u32) -> String {
        self.symbols.as_ref().and_then(|s| s.symbolize(pc)).unwrap_or_else(|| "an unknown function".to_owned())
    }
}

fn operation_name(operation: ProgressOperation) -> &'static str {
    match operation {
        ProgressOperation::Fill => "read",
        ProgressOperation::Erase => "erase",
        ProgressOperation::Program => "program",
        ProgressOperation::Verify => "verify",
    }
}

impl BenchTarget for ProbeRsTarget {
    fn describe(&self) -> String {
        format!("{} through probe-rs ({})", self.board.id, self.selector)
    }

    fn load(&mut self, elf: &[u8]) -> Result<(), TargetError> {
        self.load_with_progress(elf, &mut |_| {})
    }

    fn load_with_progress(
        &mut self,
        elf: &[u8],
        progress: &mut dyn FnMut(TargetOutput<'_>),
    ) -> Result<(), TargetError> {
        self.session = None;
        // Before touching the board: without the control block nothing
        // could be read back.
        let rtt_address = probe_rs::rtt::find_rtt_control_block_in_raw_file(elf)
            .map_err(|e| TargetError::Flash { detail: format!("the ELF cannot be read: {}", with_causes(&e)) })?
            .ok_or(TargetError::NoRttControlBlock)?;
        self.rtt_address = Some(rtt_address);
        self.symbols = tinybench_sim::elf_symbols(elf).ok();
        let mut session = self.attach()?;
        self.check_core(&mut session.core(0).map_err(probe_error)?)?;
        self.flash(&mut session, elf, progress)?;
        {
            let mut core = session.core(0).map_err(probe_error)?;
            core.enable_vector_catch(VectorCatchCondition::HardFault).map_err(probe_error)?;
            // RAM keeps the last run's control block until the firmware
            // writes its own: attaching to it would read garbage.
            Rtt::clear_control_block(&mut core, &ScanRegion::Exact(rtt_address)).map_err(probe_error)?;
        }
        self.session = Some(session);
        Ok(())
    }

    fn run(&mut self, budget: &RunBudget, output: &mut dyn FnMut(TargetOutput<'_>)) -> Result<RunOutcome, TargetError> {
        let mut session = self.session.take().ok_or(TargetError::NotLoaded)?;
        let address = self.rtt_address.ok_or(TargetError::NotLoaded)?;
        let result = self.run_session(&mut session, address, budget, output).map_err(|e| match e {
            TargetError::Probe { detail } => TargetError::Probe {
                detail: format!("{detail}; is the board still connected and powered? (cases finished so far are kept)"),
            },
            other => other,
        });
        // Dropping the session detaches: the vendor debug bits that keep
        // clocks running in low-power modes are cleared (see the module doc).
        drop(session);
        result
    }

    fn is_simulated(&self) -> bool {
        self.simulated
    }
}

impl ProbeRsTarget {
    fn run_session(
        &self,
        session: &mut Session,
        rtt_address: u64,
        budget: &RunBudget,
        output: &mut dyn FnMut(TargetOutput<'_>),
    ) -> Result<RunOutcome, TargetError> {
        let mut core = session.core(0).map_err(probe_error)?;
        let mut cycles = CycleTotal::start(&mut core);
        core.run().map_err(probe_error)?;
        let started = Instant::now();
        let mut last_progress = started;
        let mut rtt: Option<Rtt> = None;
        let mut buf = vec![0u8; 4096];
        let poll_interval = if self.simulated { Duration::ZERO } else { BOARD_POLL_INTERVAL };
        loop {
            // The status first, then one more drain: nothing the firmware
            // wrote before it halted is lost.
            let status = core.status().map_err(probe_error)?;
            if rtt.is_none() {
                match Rtt::attach_region(&mut core, &ScanRegion::Exact(rtt_address)) {
                    Ok(attached) => rtt = Some(attached),
                    // Not written yet (or half written): the firmware sets it up
                    // after its board init.
                    Err(
                        probe_rs::rtt::Error::ControlBlockNotFound | probe_rs::rtt::Error::ControlBlockCorrupted(_),
                    ) if status.is_halted() || started.elapsed() < RTT_SETUP_TIMEOUT => {}
                    Err(
                        probe_rs::rtt::Error::ControlBlockNotFound | probe_rs::rtt::Error::ControlBlockCorrupted(_),
                    ) => {
                        return Err(TargetError::RttNotFound {
                            address: rtt_address,
                            seconds: RTT_SETUP_TIMEOUT.as_secs(),
                        });
                    }
                    Err(other) => return Err(probe_error(other)),
                }
            }
            let mut moved = false;
            if let Some(rtt) = rtt.as_mut() {
                for channel in rtt.up_channels() {
                    loop {
                        let n = channel.read(&mut core, &mut buf).map_err(probe_error)?;
                        if n == 0 {
                            break;
                        }
                        moved = true;
                        output(TargetOutput::Rtt { channel: channel.number(), bytes: &buf[..n] });
                    }
                }
            }
            match status {
                CoreStatus::Halted(HaltReason::Breakpoint(BreakpointCause::Semihosting(command))) => {
                    if rtt.is_none() {
                        // Exited without ever setting up RTT.
                        return Err(TargetError::RttNotFound { address: rtt_address, seconds: 0 });
                    }
                    let exit_code = match command {
                        SemihostingCommand::ExitSuccess => 0,
                        SemihostingCommand::ExitError(details) => details.exit_status.map_or(1, |s| s as i32),
                        other => {
                            return Err(TargetError::Probe {
                                detail: format!(
                                    "the firmware made the semihosting call {other:?}, which tinybench does not \
                                     serve; a tinybench firmware only exits through semihosting"
                                ),
                            });
                        }
                    };
                    leave_running(&mut core).map_err(probe_error)?;
                    return Ok(RunOutcome { exit_code, cycles: None, instructions: None, wall: started.elapsed() });
                }
                CoreStatus::Halted(HaltReason::Exception) => return Err(self.fault(&mut core, false)),
                CoreStatus::LockedUp => {
                    // The core registers can only be read from a halted core.
                    let _ = core.halt(Duration::from_millis(100));
                    return Err(self.fault(&mut core, true));
                }
                CoreStatus::Halted(HaltReason::Breakpoint(_)) => {
                    let pc = faults::current_pc(&mut core).unwrap_or(0);
                    let imm = core.read_word_8(u64::from(pc)).unwrap_or(0);
                    return Err(TargetError::Breakpoint { imm, pc, symbol: self.symbol_at(pc) });
                }
                CoreStatus::Halted(reason) => {
                    let pc = faults::current_pc(&mut core).unwrap_or(0);
                    return Err(TargetError::Probe {
                        detail: format!(
                            "the core halted at pc {pc:#010x} in {} for no reason of the firmware's ({reason:?}); \
                             is another debugger attached to the board?",
                            self.symbol_at(pc)
                        ),
                    });
                }
                CoreStatus::Running | CoreStatus::Sleeping | CoreStatus::Unknown => {}
            }
            let now = Instant::now();
            if budget.stop.is_raised() {
                let _ = core.halt(Duration::from_millis(100));
                return Err(TargetError::Stopped { cycles: cycles.read(&mut core) });
            }
            if now.duration_since(started) > budget.timeout {
                let _ = core.halt(Duration::from_millis(100));
                let pc = faults::current_pc(&mut core).unwrap_or(0);
                return Err(TargetError::Timeout {
                    seconds: budget.timeout.as_secs(),
                    cycles: cycles.read(&mut core),
                    pc,
                    symbol: self.symbol_at(pc),
                    setting: budget.set_by.timeout_setting(),
                });
            }
            if now.duration_since(last_progress) >= PROGRESS_EVERY {
                last_progress = now;
                output(TargetOutput::Progress { cycles: cycles.read(&mut core), elapsed: now.duration_since(started) });
            }
            if !moved && !poll_interval.is_zero() {
                std::thread::sleep(poll_interval);
            }
        }
    }
}

/// Cycles since the run started, from the 32-bit DWT CYCCNT read at least
/// every [`PROGRESS_EVERY`]: it wraps after 2^32 cycles (8.9 s at 480 MHz),
/// so the deltas between reads add up to the total.
struct CycleTotal {
    last: u32,
    total: u64,
}

impl CycleTotal {
    fn start(core: &mut Core<'_>) -> CycleTotal {
        CycleTotal { last: core.read_word_32(DWT_CYCCNT).unwrap_or(0), total: 0 }
    }

    fn read(&mut self, core: &mut Core<'_>) -> u64 {
        if let Ok(now) = core.read_word_32(DWT_CYCCNT) {
            self.total += u64::from(now.wrapping_sub(self.last));
            self.last = now;
        }
        self.total
    }
}

/// After the firmware's semihosting exit: the HardFault catch off, the core
/// past its `BKPT 0xAB` and running again, so once the session is dropped
/// the board idles in the firmware's `wfi` loop instead of sitting halted
/// in debug state (or, with no debugger, faulting on the BKPT).
fn leave_running(core: &mut Core<'_>) -> Result<(), probe_rs::Error> {
    core.disable_vector_catch(VectorCatchCondition::HardFault)?;
    // probe-rs steps over a BKPT the core halted on before it lets it run.
    core.run()
}

#[cfg(test)]
mod tests {
    use tinybench_config::ProbeSelector;

    use super::*;

    fn probe(vid_pid: (u16, u16), serial: &str) -> ProbeEntry {
        ProbeEntry {
            name: "STLINK-V3".into(),
            vendor_id: vid_pid.0,
            product_id: vid_pid.1,
            serial: Some(serial.into()),
            driver: "ST-LINK".into(),
            permission_denied: false,
            simulated: false,
        }
    }

    const STLINK_V3: (u16, u16) = (0x0483, 0x374e);
    const JLINK: (u16, u16) = (0x1366, 0x1015);

    fn h743() -> Board {
        Board::builtin("nucleo-h743zi2").unwrap().unwrap()
    }

    fn chosen(probes: &[ProbeEntry], choice: &ProbeChoice, board: &Board) -> Result<String, String> {
        choose_probe(probes, choice, board, None).map(|p| p.selector_text()).map_err(|e| e.to_string())
    }

    #[test]
    fn without_probes_one_line_says_what_to_do() {
        let sim = ProbeEntry { simulated: true, ..probe((0x1209, 0x0001), "sim-m4") };
        for probes in [vec![], vec![sim]] {
            assert_eq!(
                chosen(&probes, &ProbeChoice::Board, &h743()).unwrap_err(),
                "no debug probe found; connect the board's on-board probe over USB or set [target] kind = \"sim\"",
                "the simulated probe is only for probe = \"sim\""
            );
        }
    }

    #[test]
    fn the_board_files_probe_is_picked_among_others() {
        let probes = [probe(JLINK, "J1"), probe(STLINK_V3, "S1")];
        assert_eq!(chosen(&probes, &ProbeChoice::Board, &h743()).unwrap(), "0483:374e:S1");
    }

    #[test]
    fn a_probe_of_the_board_files_vendor_with_another_product_id_will_do() {
        let updated = probe((0x0483, 0x3754), "S1");
        assert_eq!(chosen(&[probe(JLINK, "J1"), updated], &ProbeChoice::Board, &h743()).unwrap(), "0483:3754:S1");
        let err = chosen(&[probe(JLINK, "J1")], &ProbeChoice::Board, &h743()).unwrap_err();
        assert!(
            err.starts_with("the debug probe 0483:374e is not connected (connected: STLINK-V3 1366:1015:J1"),
            "{err}"
        );
    }

    #[test]
    fn several_fitting_probes_are_listed_and_one_asked_for() {
        let probes = [probe(STLINK_V3, "S1"), probe(STLINK_V3, "S2")];
        let err = chosen(&probes, &ProbeChoice::Board, &h743()).unwrap_err();
        assert_eq!(
            err,
            "2 debug probes fit (STLINK-V3 0483:374e:S1 (ST-LINK); STLINK-V3 0483:374e:S2 (ST-LINK)); \
             choose one with [target] probe = \"VID:PID:SERIAL\""
        );
        let mut anonymous = h743();
        anonymous.probe = None;
        let probes = [probe(JLINK, "J1"), probe(STLINK_V3, "S1")];
        assert!(chosen(&probes, &ProbeChoice::Board, &anonymous).unwrap_err().starts_with("2 debug probes fit"));
        let serial = ProbeChoice::Usb(ProbeSelector::parse("0483:374e:S2").unwrap());
        assert_eq!(
            chosen(&[probe(STLINK_V3, "S1"), probe(STLINK_V3, "S2")], &serial, &h743()).unwrap(),
            "0483:374e:S2"
        );
    }

    #[test]
    fn a_probe_asked_for_but_absent_is_named_with_those_present() {
        let choice = ProbeChoice::Usb(ProbeSelector::parse("0483:374e:S9").unwrap());
        let err = chosen(&[probe(STLINK_V3, "S1")], &choice, &h743()).unwrap_err();
        assert_eq!(
            err,
            "the debug probe 0483:374e:S9 is not connected (connected: STLINK-V3 0483:374e:S1 (ST-LINK)); \
             connect it, or choose another with [target] probe"
        );
    }

    #[test]
    fn a_probe_without_permission_names_the_udev_rules() {
        let locked = ProbeEntry { permission_denied: true, ..probe(STLINK_V3, "S1") };
        let err = chosen(&[locked], &ProbeChoice::Board, &h743()).unwrap_err();
        assert!(
            err.starts_with("no permission to open the debug probe STLINK-V3 0483:374e:S1 (ST-LINK) [no permission]"),
            "{err}"
        );
        assert!(err.contains("sudo cp scripts/99-tinybench-probes.rules"), "{err}");
    }

    #[test]
    fn the_simulated_probe_is_chosen_by_its_serial() {
        let sims = [
            ProbeEntry { simulated: true, ..probe((0x1209, 0x0001), "sim-m4") },
            ProbeEntry { simulated: true, ..probe((0x1209, 0x0001), "sim-m7") },
        ];
        let found = choose_probe(&sims, &ProbeChoice::Sim, &h743(), Some("sim-m7".into())).unwrap();
        assert_eq!(found.selector_text(), "1209:0001:sim-m7");
    }
}
