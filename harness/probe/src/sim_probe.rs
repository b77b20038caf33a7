//! A probe-rs debug probe driver backed by tinybench's simulator: the "sim"
//! probe. probe-rs attaches to it, flashes through it and reads RTT through
//! it exactly as through an ST-LINK or a J-Link, so the whole probe-rs
//! backend runs in CI without hardware.
//!
//! It implements probe-rs's public driver traits at the ARM debug interface
//! level (like probe-rs's own ST-LINK driver): memory accesses go straight to
//! the simulator's bus, and the Cortex-M debug registers probe-rs uses are
//! emulated here from the ARMv7-M Architecture Reference Manual (C1.6):
//! DHCSR (halt, step, run, status), DCRSR/DCRDR (core registers), DFSR (halt
//! reasons, write-1-to-clear), DEMCR (vector catch), AIRCR (SYSRESETREQ), the
//! FPB (no comparators) and MVFR0. Vendor registers (STM32 DBGMCU) and the
//! rest of the private peripheral bus go to the simulator's model.
//!
//! The simulated core only runs when the host looks at it: each read of
//! DHCSR while it runs executes a fixed quantum of instructions. Simulated
//! time therefore does not depend on how fast the host polls, and runs are
//! deterministic. A BKPT (semihosting's included) halts the core on the
//! instruction with DFSR.BKPT, as with a debugger attached, so probe-rs
//! decodes a semihosting exit itself. A simulator error (an unmapped access,
//! an undefined instruction, a HardFault the firmware does not handle)
//! halts the core like a vector catch and is described in the fault status
//! registers (CFSR, HFSR, BFAR).
//!
//! Probes are offered per simulated board ([`offer`]) and listed under the
//! pid.codes test ids 1209:0001 with the board id as serial number.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, Once};
use std::time::Duration;

use probe_rs::MemoryInterface;
use probe_rs::architecture::arm::ap::CSW;
use probe_rs::architecture::arm::dp::{DpAddress, DpRegisterAddress};
use probe_rs::architecture::arm::memory::ArmMemoryInterface;
use probe_rs::architecture::arm::sequences::ArmDebugSequence;
use probe_rs::architecture::arm::{
    ApAddress, ArmDebugInterface, ArmError, DapAccess, DapProbe, FullyQualifiedApAddress, SwdSequence, SwoAccess,
    SwoConfig,
};
use probe_rs::probe::list::{Accessibility, ProbeListItem};
use probe_rs::probe::{
    DebugProbe, DebugProbeError, DebugProbeInfo, DebugProbeSelector, Probe, ProbeCreationError, ProbeFactory,
    WireProtocol,
};
use tinybench_config::{Board, Core, RegionKind};
use tinybench_sim::{CoreKind, SimError, Simulator, StopReason};

/// pid.codes' vendor id, and its product id for tests and experiments.
pub const SIM_VENDOR_ID: u16 = 0x1209;
pub const SIM_PRODUCT_ID: u16 = 0x0001;

/// Instructions the simulated core executes per look at DHCSR while it runs
/// (about a millisecond of simulation on the host).
const QUANTUM_INSTRUCTIONS: u64 = 200_000;

// Debug registers (ARMv7-M ARM C1.6, B3.2).
const DHCSR: u64 = 0xE000_EDF0;
const DCRSR: u64 = 0xE000_EDF4;
const DCRDR: u64 = 0xE000_EDF8;
const DEMCR: u64 = 0xE000_EDFC;
const DFSR: u64 = 0xE000_ED30;
const AIRCR: u64 = 0xE000_ED0C;
const CPUID: u64 = 0xE000_ED00;
const CFSR: u64 = 0xE000_ED28;
const HFSR: u64 = 0xE000_ED2C;
const BFAR: u64 = 0xE000_ED38;
const MVFR0: u64 = 0xE000_EF40;
const FP_CTRL: u64 = 0xE000_2000;
const PPB: std::ops::Range<u64> = 0xE000_0000..0xE010_0000;

const DBGKEY: u32 = 0xA05F;
const C_DEBUGEN: u32 = 1 << 0;
const C_HALT: u32 = 1 << 1;
const C_STEP: u32 = 1 << 2;
const C_MASKINTS: u32 = 1 << 3;
const C_SNAPSTALL: u32 = 1 << 5;
const S_REGRDY: u32 = 1 << 16;
const S_HALT: u32 = 1 << 17;
const S_LOCKUP: u32 = 1 << 19;
const S_RESET_ST: u32 = 1 << 25;
const DFSR_HALTED: u32 = 1 << 0;
const DFSR_BKPT: u32 = 1 << 1;
const DFSR_VCATCH: u32 = 1 << 3;
const DEMCR_VC_CORERESET: u32 = 1 << 0;
const DEMCR_VC_HARDERR: u32 = 1 << 10;
const AIRCR_VECTKEY: u32 = 0x05FA;
const AIRCR_SYSRESETREQ: u32 = 1 << 2;
const DCRSR_REGWNR: u32 = 1 << 16;
/// DCRSR.REGSEL of the PC (ARMv7-M ARM C1.6.3).
const DCRSR_PC: u16 = 15;

/// Faults a test can inject into a simulated probe, to check the backend's
/// handling of real-world failures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimProbeFaults {
    /// The USB cable is pulled during a run: the probe stops answering
    /// and is gone from the lister.
    pub unplug: Option<Unplug>,
    /// Flash writes land with a bit flipped (a failing verify).
    pub corrupt_flash_writes: bool,
    /// The chip reports this CPUID (another core than the board file's).
    pub cpuid: Option<u32>,
    /// Listed, but this user may not open it (no udev rule).
    pub no_permission: bool,
    /// The firmware jumps to a bad address (a corrupted function pointer)
    /// after this many looks at the running core: it faults there.
    pub wild_jump: Option<WildJump>,
}

/// Where and when [`SimProbeFaults::wild_jump`] sends the core.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WildJump {
    pub after_polls: u64,
    pub address: u32,
}

/// When [`SimProbeFaults::unplug`] pulls the cable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unplug {
    /// In the probe's `session`-th opening (0-based; a run opens it once per case)...
    pub session: u32,
    /// ...after this many looks at the running core.
    pub after_polls: u64,
}

/// A board offered as a simulated probe: what `open` builds.
#[derive(Debug, Clone)]
struct Offer {
    /// The simulator is built as the sim target builds it (marker pin, class weights).
    board: Board,
    faults: SimProbeFaults,
    flash: Vec<(u32, u32)>,
    /// How often the probe was opened.
    sessions: u32,
}

static OFFERS: Mutex<BTreeMap<String, Offer>> = Mutex::new(BTreeMap::new());

fn offers() -> MutexGuard<'static, BTreeMap<String, Offer>> {
    // A panic while holding the map leaves a usable map.
    OFFERS.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Makes a simulated probe for `board` available to probe-rs's lister (the
/// driver is registered on first use); returns its serial number: the board
/// id, or with injected faults the board id and a number of its own (so
/// that offers with faults never replace each other). Each `open` gets a
/// fresh simulator.
pub fn offer(board: &Board, faults: SimProbeFaults) -> String {
    static FAULTY: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    register();
    let flash = board.memory.iter().filter(|r| r.kind == RegionKind::Flash).map(|r| (r.start, r.size_bytes)).collect();
    let serial = if faults == SimProbeFaults::default() {
        board.id.clone()
    } else {
        format!("{}-faulty-{}", board.id, FAULTY.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    };
    offers().insert(serial.clone(), Offer { board: board.clone(), faults, flash, sessions: 0 });
    serial
}

/// Registers the driver with probe-rs (once per process).
pub fn register() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        probe_rs::plugin::register_plugin(probe_rs::plugin::Plugin {
            probe_drivers: &[&SIM_FACTORY],
            ..Default::default()
        })
    });
}

/// The probe-rs driver: lists and opens the offered simulated probes.
#[derive(Debug)]
pub struct SimProbeFactory;

static SIM_FACTORY: SimProbeFactory = SimProbeFactory;

impl fmt::Display for SimProbeFactory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tinybench-sim")
    }
}

impl ProbeFactory for SimProbeFactory {
    fn open(&self, selector: &DebugProbeSelector) -> Result<Box<dyn DebugProbe>, DebugProbeError> {
        let not_ours = || DebugProbeError::ProbeCouldNotBeCreated(ProbeCreationError::NotFound);
        if (selector.vendor_id, selector.product_id) != (SIM_VENDOR_ID, SIM_PRODUCT_ID) {
            return Err(not_ours());
        }
        let mut offers = offers();
        let only = (offers.len() == 1).then(|| offers.keys().next().cloned()).flatten();
        let serial = selector.serial_number.clone().or(only).ok_or_else(not_ours)?;
        let offer = offers.get_mut(&serial).ok_or_else(not_ours)?;
        if offer.faults.no_permission {
            return Err(DebugProbeError::ProbeCouldNotBeCreated(ProbeCreationError::Usb(std::io::Error::from(
                std::io::ErrorKind::PermissionDenied,
            ))));
        }
        let session = offer.sessions;
        offer.sessions += 1;
        let core =
            SimCore::new(&serial, offer, session).map_err(|e| DebugProbeError::Other(format!("simulator: {e}")))?;
        Ok(Box::new(SimProbe { core: Arc::new(Mutex::new(core)), speed_khz: 4000, protocol: WireProtocol::Swd }))
    }

    fn list_probes(&self) -> Vec<ProbeListItem> {
        offers()
            .iter()
            .map(|(serial, offer)| ProbeListItem {
                info: DebugProbeInfo::new(
                    "tinybench simulator",
                    SIM_VENDOR_ID,
                    SIM_PRODUCT_ID,
                    Some(serial.clone()),
                    &SIM_FACTORY,
                    None,
                    false,
                ),
                accessibility: if offer.faults.no_permission {
                    Accessibility::PermissionDenied
                } else {
                    Accessibility::Accessible
                },
            })
            .collect()
    }
}

/// The simulated chip as the debug port sees it.
struct SimCore {
    sim: Simulator,
    core_kind: CoreKind,
    halted: bool,
    /// DHCSR's C_* control bits as last written.
    control: u32,
    dfsr: u32,
    /// DHCSR.S_RESET_ST: set by a reset, cleared by reading DHCSR.
    reset_sticky: bool,
    dcrdr: u32,
    /// Fault status a simulator error stands for (CFSR, HFSR, BFAR).
    fault: Option<FaultRegisters>,
    polls: u64,
    faults: SimProbeFaults,
    /// The offer's serial, withdrawn when the cable is pulled.
    serial: String,
    /// Looks at the running core after which this session's cable is pulled.
    unplug_after_polls: Option<u64>,
    /// (start, size) of the flash regions, for injected write corruption.
    flash: Vec<(u32, u32)>,
}

impl fmt::Debug for SimCore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimCore")
            .field("halted", &self.halted)
            .field("control", &self.control)
            .field("pc", &self.sim.pc())
            .field("fault", &self.fault)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FaultRegisters {
    cfsr: u32,
    hfsr: u32,
    bfar: u32,
    lockup: bool,
}

impl SimCore {
    fn new(serial: &str, offer: &Offer, session: u32) -> Result<SimCore, SimError> {
        let mut sim = tinybench_target::simulator_for(&offer.board)?;
        sim.set_debug_halts(true);
        // Halted with debug enabled: attaching then leaves the core alone.
        Ok(SimCore {
            sim,
            core_kind: match offer.board.core {
                Core::CortexM4 => CoreKind::CortexM4,
                Core::CortexM7 => CoreKind::CortexM7,
            },
            halted: true,
            control: C_DEBUGEN | C_HALT,
            dfsr: 0,
            reset_sticky: false,
            dcrdr: 0,
            fault: None,
            polls: 0,
            faults: offer.faults.clone(),
            serial: serial.to_owned(),
            unplug_after_polls: offer.faults.unplug.filter(|u| u.session == session).map(|u| u.after_polls),
            flash: offer.flash.clone(),
        })
    }

    fn disconnected(&self) -> bool {
        let pulled = self.unplug_after_polls.is_some_and(|n| self.polls > n);
        if pulled {
            // Gone from the lister too, as an unplugged probe is.
            offers().remove(&self.serial);
        }
        pulled
    }

    fn halt(&mut self, reason: u32) {
        self.halted = true;
        self.control |= C_HALT;
        self.dfsr |= reason;
    }

    /// Runs the core for up to `instructions`, halting on a BKPT or a fault.
    fn advance(&mut self, instructions: u64) {
        match self.sim.run(instructions) {
            // No cycle limit is set here.
            Ok(StopReason::InstructionLimit | StopReason::CycleLimit) => {}
            Ok(StopReason::DebugHalt { .. } | StopReason::Breakpoint { .. }) => self.halt(DFSR_BKPT),
            // Only without debug halts (never set here): stop like a BKPT.
            Ok(StopReason::Exited { .. }) => self.halt(DFSR_BKPT),
            Err(e) => {
                self.fault = Some(fault_registers(&e));
                let reason = if self.demcr() & DEMCR_VC_HARDERR != 0 { DFSR_VCATCH } else { DFSR_HALTED };
                self.halt(reason);
            }
        }
    }

    fn demcr(&mut self) -> u32 {
        self.sim.ppb_read(DEMCR as u32).unwrap_or(0)
    }

    fn read_dhcsr(&mut self) -> u32 {
        if !self.halted && self.control & C_DEBUGEN != 0 {
            self.polls += 1;
            if let Some(jump) = self.faults.wild_jump
                && jump.after_polls == self.polls
            {
                self.sim.set_core_register(DCRSR_PC, jump.address);
            }
            self.advance(QUANTUM_INSTRUCTIONS);
        }
        let mut value = self.control | S_REGRDY;
        if self.halted {
            value |= S_HALT;
        }
        if self.fault.is_some_and(|f| f.lockup) {
            value |= S_LOCKUP;
        }
        if std::mem::take(&mut self.reset_sticky) {
            value |= S_RESET_ST;
        }
        value
    }

    fn write_dhcsr(&mut self, value: u32) {
        // Writes without the key are ignored, as on silicon (probe-rs's
        // vector-catch write carries none).
        if value >> 16 != DBGKEY {
            return;
        }
        self.control = value & (C_DEBUGEN | C_HALT | C_STEP | C_MASKINTS | C_SNAPSTALL);
        self.sim.set_debug_halts(self.control & C_DEBUGEN != 0);
        if self.control & C_DEBUGEN == 0 {
            self.halted = false;
        } else if self.control & C_HALT != 0 {
            if !self.halted {
                self.halt(DFSR_HALTED);
            }
        } else if self.control & C_STEP != 0 {
            if self.halted && self.fault.is_none() {
                self.halted = false;
                self.advance(1);
                if !self.halted {
                    self.halt(DFSR_HALTED);
                }
            }
        } else if self.fault.is_none() {
            self.halted = false;
        }
    }

    fn write_dcrsr(&mut self, value: u32) {
        let regsel = (value & 0x7f) as u16;
        if value & DCRSR_REGWNR != 0 {
            self.sim.set_core_register(regsel, self.dcrdr);
        } else {
            self.dcrdr = self.sim.core_register(regsel).unwrap_or(0);
        }
    }

    /// SYSRESETREQ: the core restarts from the vector table; the debug
    /// registers (DHCSR's C bits, DEMCR) keep their values.
    fn system_reset(&mut self) {
        let demcr = self.demcr();
        // An empty vector table (before flashing) leaves the core on
        // address 0, as a real chip would fetch it.
        let _ = self.sim.reset();
        self.sim.ppb_write(DEMCR as u32, demcr);
        self.fault = None;
        self.reset_sticky = true;
        self.dfsr = 0;
        if demcr & DEMCR_VC_CORERESET != 0 {
            self.halted = false;
            self.halt(DFSR_VCATCH);
        } else {
            self.halted = false;
            self.control &= !C_HALT;
        }
    }

    fn read_word(&mut self, address: u64) -> Result<u32, ArmError> {
        if self.disconnected() {
            return Err(disconnected());
        }
        Ok(match address {
            DHCSR => self.read_dhcsr(),
            DCRDR => self.dcrdr,
            DFSR => self.dfsr,
            CPUID => match self.faults.cpuid {
                Some(cpuid) => cpuid,
                None => self.sim.ppb_read(CPUID as u32).unwrap_or(0),
            },
            CFSR | HFSR | BFAR if self.fault.is_some() => {
                let f = self.fault.unwrap_or(FaultRegisters { cfsr: 0, hfsr: 0, bfar: 0, lockup: false });
                match address {
                    CFSR => f.cfsr,
                    HFSR => f.hfsr,
                    _ => f.bfar,
                }
            }
            // Cortex-M4F FPv4-SP: single precision; Cortex-M7 FPv5 as on the
            // STM32H7: double precision too (the TRMs' MVFR0 values).
            MVFR0 => match self.core_kind {
                CoreKind::CortexM4 => 0x1011_0021,
                CoreKind::CortexM7 => 0x1011_0221,
            },
            // FPB revision 0 with no comparators: no hardware breakpoints.
            FP_CTRL => 0,
            a if PPB.contains(&a) => self.sim.ppb_read(a as u32).unwrap_or(0),
            a => {
                let mut bytes = [0; 4];
                self.read_memory(a, &mut bytes)?;
                u32::from_le_bytes(bytes)
            }
        })
    }

    fn write_word(&mut self, address: u64, value: u32) -> Result<(), ArmError> {
        if self.disconnected() {
            return Err(disconnected());
        }
        match address {
            DHCSR => self.write_dhcsr(value),
            DCRSR => self.write_dcrsr(value),
            DCRDR => self.dcrdr = value,
            DFSR => self.dfsr &= !value,
            AIRCR if value >> 16 == AIRCR_VECTKEY && value & AIRCR_SYSRESETREQ != 0 => self.system_reset(),
            FP_CTRL => {}
            a if (FP_CTRL..FP_CTRL + 0x100).contains(&a) => {}
            a if PPB.contains(&a) => {
                self.sim.ppb_write(a as u32, value);
            }
            a => self.write_memory(a, &value.to_le_bytes())?,
        }
        Ok(())
    }

    fn read_memory(&mut self, address: u64, data: &mut [u8]) -> Result<(), ArmError> {
        if self.disconnected() {
            return Err(disconnected());
        }
        if PPB.contains(&address) {
            // Byte or halfword reads of registers: from the word.
            for (i, byte) in data.iter_mut().enumerate() {
                let a = address + i as u64;
                *byte = self.read_word(a & !3)?.to_le_bytes()[(a & 3) as usize];
            }
            return Ok(());
        }
        let address = u32::try_from(address).map_err(|_| ArmError::AddressOutOf32BitAddressSpace)?;
        self.sim.read_memory(address, data).map_err(|e| ArmError::Other(e.to_string()))
    }

    fn write_memory(&mut self, address: u64, data: &[u8]) -> Result<(), ArmError> {
        if self.disconnected() {
            return Err(disconnected());
        }
        if PPB.contains(&address) {
            if !address.is_multiple_of(4) || !data.len().is_multiple_of(4) {
                return Err(ArmError::alignment_error(address, 4));
            }
            for (i, word) in data.chunks_exact(4).enumerate() {
                self.write_word(address + 4 * i as u64, u32::from_le_bytes([word[0], word[1], word[2], word[3]]))?;
            }
            return Ok(());
        }
        let address = u32::try_from(address).map_err(|_| ArmError::AddressOutOf32BitAddressSpace)?;
        let in_flash = self.flash.iter().any(|&(start, size)| (start..start.saturating_add(size)).contains(&address));
        if self.faults.corrupt_flash_writes && in_flash && !data.is_empty() {
            let mut corrupted = data.to_vec();
            corrupted[0] ^= 0x01;
            return self.sim.write_memory(address, &corrupted).map_err(|e| ArmError::Other(e.to_string()));
        }
        self.sim.write_memory(address, data).map_err(|e| ArmError::Other(e.to_string()))
    }
}

fn disconnected() -> ArmError {
    ArmError::Probe(DebugProbeError::Usb(std::io::Error::new(
        std::io::ErrorKind::NotConnected,
        "the simulated probe was unplugged",
    )))
}

/// The fault status registers a simulator error stands for (ARMv7-M ARM
/// B3.2.15-B3.2.18): undefined and unsupported instructions are UsageFault
/// UNDEFINSTR; accesses outside memory and writes to flash are precise
/// BusFaults with BFAR; escalated to HardFault (FORCED). A fault the
/// simulator modelled keeps its own CFSR and HFSR.
fn fault_registers(e: &SimError) -> FaultRegisters {
    const UNDEFINSTR: u32 = 1 << 16;
    const IBUSERR: u32 = 1 << 8;
    const PRECISERR: u32 = 1 << 9;
    const BFARVALID: u32 = 1 << 15;
    const FORCED: u32 = 1 << 30;
    match e {
        SimError::HardFault { cfsr, hfsr, .. } => FaultRegisters { cfsr: *cfsr, hfsr: *hfsr, bfar: 0, lockup: false },
        SimError::Lockup { .. } => FaultRegisters { cfsr: 0, hfsr: FORCED, bfar: 0, lockup: true },
        // A fetch bus error has no address register (IBUSERR).
        SimError::Unmapped { access: "instruction fetch", .. } => {
            FaultRegisters { cfsr: IBUSERR, hfsr: FORCED, bfar: 0, lockup: false }
        }
        SimError::Unmapped { addr, .. } | SimError::FlashWrite { addr, .. } => {
            FaultRegisters { cfsr: PRECISERR | BFARVALID, hfsr: FORCED, bfar: *addr, lockup: false }
        }
        SimError::Undefined { .. } | SimError::Unsupported { .. } => {
            FaultRegisters { cfsr: UNDEFINSTR, hfsr: FORCED, bfar: 0, lockup: false }
        }
        _ => FaultRegisters { cfsr: 0, hfsr: FORCED, bfar: 0, lockup: false },
    }
}

/// The simulated probe.
#[derive(Debug)]
pub struct SimProbe {
    core: Arc<Mutex<SimCore>>,
    speed_khz: u32,
    protocol: WireProtocol,
}

impl SimProbe {
    fn lock(&self) -> MutexGuard<'_, SimCore> {
        self.core.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl DebugProbe for SimProbe {
    fn get_name(&self) -> &str {
        "tinybench simulator"
    }

    fn speed_khz(&self) -> u32 {
        self.speed_khz
    }

    fn set_speed(&mut self, speed_khz: u32) -> Result<u32, DebugProbeError> {
        self.speed_khz = speed_khz;
        Ok(speed_khz)
    }

    fn attach(&mut self) -> Result<(), DebugProbeError> {
        Ok(())
    }

    fn detach(&mut self) -> Result<(), probe_rs::Error> {
        Ok(())
    }

    fn target_reset(&mut self) -> Result<(), DebugProbeError> {
        self.lock().system_reset();
        Ok(())
    }

    fn target_reset_assert(&mut self) -> Result<(), DebugProbeError> {
        Ok(())
    }

    fn target_reset_deassert(&mut self) -> Result<(), DebugProbeError> {
        self.lock().system_reset();
        Ok(())
    }

    fn select_protocol(&mut self, protocol: WireProtocol) -> Result<(), DebugProbeError> {
        match protocol {
            WireProtocol::Swd => {
                self.protocol = protocol;
                Ok(())
            }
            WireProtocol::Jtag => Err(DebugProbeError::UnsupportedProtocol(protocol)),
        }
    }

    fn active_protocol(&self) -> Option<WireProtocol> {
        Some(self.protocol)
    }

    fn has_arm_interface(&self) -> bool {
        true
    }

    fn try_get_arm_debug_interface<'probe>(
        self: Box<Self>,
        _sequence: Arc<dyn ArmDebugSequence>,
    ) -> Result<Box<dyn ArmDebugInterface + 'probe>, (Box<dyn DebugProbe>, ArmError)> {
        Ok(Box::new(SimArm { probe: self, debug_port: None }))
    }

    fn into_probe(self: Box<Self>) -> Box<dyn DebugProbe> {
        self
    }
}

/// The simulated probe's ARM debug interface.
#[derive(Debug)]
struct SimArm {
    probe: Box<SimProbe>,
    debug_port: Option<DpAddress>,
}

impl SwdSequence for SimArm {
    fn swj_sequence(&mut self, _bit_len: u8, _bits: u64) -> Result<(), DebugProbeError> {
        Ok(())
    }

    fn swj_pins(&mut self, pin_out: u32, pin_select: u32, _pin_wait: u32) -> Result<u32, DebugProbeError> {
        // nRESET is bit 7: releasing it resets the chip.
        if pin_select & 0x80 != 0 && pin_out & 0x80 != 0 {
            self.probe.lock().system_reset();
        }
        Ok(0x80)
    }
}

impl SwoAccess for SimArm {
    fn enable_swo(&mut self, _config: &SwoConfig) -> Result<(), ArmError> {
        Err(ArmError::NotImplemented("SWO on the simulated probe"))
    }

    fn disable_swo(&mut self) -> Result<(), ArmError> {
        Err(ArmError::NotImplemented("SWO on the simulated probe"))
    }

    fn read_swo_timeout(&mut self, _timeout: Duration) -> Result<Vec<u8>, ArmError> {
        Err(ArmError::NotImplemented("SWO on the simulated probe"))
    }
}

impl DapAccess for SimArm {
    fn read_raw_dp_register(&mut self, _dp: DpAddress, _address: DpRegisterAddress) -> Result<u32, ArmError> {
        Ok(0)
    }

    fn write_raw_dp_register(
        &mut self,
        _dp: DpAddress,
        _address: DpRegisterAddress,
        _value: u32,
    ) -> Result<(), ArmError> {
        Ok(())
    }

    fn read_raw_ap_register(&mut self, ap: &FullyQualifiedApAddress, address: u64) -> Result<u32, ArmError> {
        Ok(match (ap.ap(), address & 0xff) {
            // nRF52 CTRL-AP APPROTECTSTATUS: 1 = not protected.
            (ApAddress::V1(1), 0x0c) => 1,
            _ => 0,
        })
    }

    fn write_raw_ap_register(
        &mut self,
        _ap: &FullyQualifiedApAddress,
        _address: u64,
        _value: u32,
    ) -> Result<(), ArmError> {
        Ok(())
    }

    fn try_dap_probe(&self) -> Option<&dyn DapProbe> {
        None
    }

    fn try_dap_probe_mut(&mut self) -> Option<&mut dyn DapProbe> {
        None
    }
}

impl ArmDebugInterface for SimArm {
    fn reinitialize(&mut self) -> Result<(), ArmError> {
        Ok(())
    }

    fn access_ports(
        &mut self,
        _dp: DpAddress,
    ) -> Result<std::collections::BTreeSet<FullyQualifiedApAddress>, ArmError> {
        Ok([0, 1, 2].into_iter().map(FullyQualifiedApAddress::v1_with_default_dp).collect())
    }

    fn close(self: Box<Self>) -> Probe {
        Probe::from_specific_probe(self.probe)
    }

    fn select_debug_port(&mut self, dp: DpAddress) -> Result<(), ArmError> {
        match dp {
            DpAddress::Default => {
                self.debug_port = Some(dp);
                Ok(())
            }
            DpAddress::Multidrop(_) => Err(ArmError::NotImplemented("multidrop on the simulated probe")),
        }
    }

    fn current_debug_port(&self) -> Option<DpAddress> {
        self.debug_port
    }

    fn memory_interface(
        &mut self,
        access_port: &FullyQualifiedApAddress,
    ) -> Result<Box<dyn ArmMemoryInterface + '_>, ArmError> {
        match access_port.ap() {
            // AP0: the core's bus; AP2: the STM32H7's debug bus (DBGMCU).
            ApAddress::V1(0) | ApAddress::V1(2) => Ok(Box::new(SimMemory { arm: self, ap: access_port.clone() })),
            _ => Err(ArmError::ApDoesNotExist(access_port.clone())),
        }
    }
}

/// Memory seen through one access port of the simulated probe.
struct SimMemory<'a> {
    arm: &'a mut SimArm,
    ap: FullyQualifiedApAddress,
}

impl SimMemory<'_> {
    fn core(&self) -> MutexGuard<'_, SimCore> {
        self.arm.probe.lock()
    }

    fn read_units<const N: usize>(&mut self, address: u64, count: usize) -> Result<Vec<[u8; N]>, ArmError> {
        let mut bytes = vec![0u8; N * count];
        self.read(address, &mut bytes)?;
        Ok(bytes.chunks_exact(N).map(|c| c.try_into().expect("chunks of N bytes")).collect())
    }
}

impl MemoryInterface<ArmError> for SimMemory<'_> {
    fn supports_native_64bit_access(&mut self) -> bool {
        false
    }

    fn read(&mut self, address: u64, data: &mut [u8]) -> Result<(), ArmError> {
        let mut core = self.core();
        if PPB.contains(&address) && address.is_multiple_of(4) && data.len().is_multiple_of(4) {
            for (i, word) in data.chunks_exact_mut(4).enumerate() {
                word.copy_from_slice(&core.read_word(address + 4 * i as u64)?.to_le_bytes());
            }
            return Ok(());
        }
        core.read_memory(address, data)
    }

    fn write(&mut self, address: u64, data: &[u8]) -> Result<(), ArmError> {
        self.core().write_memory(address, data)
    }

    fn read_64(&mut self, address: u64, data: &mut [u64]) -> Result<(), ArmError> {
        let units = self.read_units::<8>(address, data.len())?;
        for (value, bytes) in data.iter_mut().zip(units) {
            *value = u64::from_le_bytes(bytes);
        }
        Ok(())
    }

    fn read_32(&mut self, address: u64, data: &mut [u32]) -> Result<(), ArmError> {
        let units = self.read_units::<4>(address, data.len())?;
        for (value, bytes) in data.iter_mut().zip(units) {
            *value = u32::from_le_bytes(bytes);
        }
        Ok(())
    }

    fn read_16(&mut self, address: u64, data: &mut [u16]) -> Result<(), ArmError> {
        let units = self.read_units::<2>(address, data.len())?;
        for (value, bytes) in data.iter_mut().zip(units) {
            *value = u16::from_le_bytes(bytes);
        }
        Ok(())
    }

    fn read_8(&mut self, address: u64, data: &mut [u8]) -> Result<(), ArmError> {
        self.read(address, data)
    }

    fn write_64(&mut self, address: u64, data: &[u64]) -> Result<(), ArmError> {
        let bytes: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.write(address, &bytes)
    }

    fn write_32(&mut self, address: u64, data: &[u32]) -> Result<(), ArmError> {
        let bytes: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.write(address, &bytes)
    }

    fn write_16(&mut self, address: u64, data: &[u16]) -> Result<(), ArmError> {
        let bytes: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.write(address, &bytes)
    }

    fn write_8(&mut self, address: u64, data: &[u8]) -> Result<(), ArmError> {
        self.write(address, data)
    }

    fn supports_8bit_transfers(&self) -> Result<bool, ArmError> {
        Ok(true)
    }

    fn flush(&mut self) -> Result<(), ArmError> {
        Ok(())
    }
}

impl ArmMemoryInterface for SimMemory<'_> {
    fn fully_qualified_address(&self) -> FullyQualifiedApAddress {
        self.ap.clone()
    }

    fn base_address(&mut self) -> Result<u64, ArmError> {
        // The Cortex-M ROM table's usual place; nothing walks it on this path.
        Ok(0xE00F_F000)
    }

    fn get_arm_debug_interface(&mut self) -> Result<&mut dyn ArmDebugInterface, DebugProbeError> {
        Ok(&mut *self.arm)
    }

    fn generic_status(&mut self) -> Result<CSW, ArmError> {
        // A 32-bit, auto-incrementing, enabled MEM-AP.
        Ok(CSW::from_raw(0x0300_0052))
    }
}

/// The probe-rs target description ("chip") of a simulated board: its
/// memory map with every region as RAM, so that flashing writes the image
/// with plain memory writes instead of running a flash algorithm.
pub fn chip_family_yaml(board: &Board) -> String {
    let mut yaml = format!(
        "name: tinybench-sim\nvariants:\n- name: {}\n  cores:\n  - name: main\n    type: armv7em\n    \
         core_access_options: !Arm\n      ap: !v1 0\n  memory_map:\n",
        chip_name(board)
    );
    for region in &board.memory {
        yaml.push_str(&format!(
            "  - !Ram\n    name: {}\n    range: {{start: {:#x}, end: {:#x}}}\n    cores: [main]\n",
            region.name,
            region.start,
            region.end()
        ));
    }
    yaml
}

/// The chip name of a simulated board in [`chip_family_yaml`]. (No `x`:
/// probe-rs reads it as a wildcard in chip names.)
pub fn chip_name(board: &Board) -> String {
    format!("tinybench-sim-{}", board.id)
}
