//! Board descriptions: `configs/boards/<id>.toml`.
//!
//! A board file says which core runs at which clock, where its memories are,
//! and which of them the firmware's linker uses for code and for data/stack.
//! The firmware's build script reads the same file to write `memory.x`, so the
//! simulator's memory map and the firmware's link map cannot drift apart.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::source::Required;
use crate::{ConfigError, ProbeSelector, SourceFile};

/// The CPU core of a board; selects the simulator's cycle model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Core {
    CortexM4,
    CortexM7,
}

impl Core {
    pub fn as_str(self) -> &'static str {
        match self {
            Core::CortexM4 => "cortex-m4",
            Core::CortexM7 => "cortex-m7",
        }
    }
}

impl std::fmt::Display for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a memory region holds code (read-only at run time) or data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RegionKind {
    Flash,
    Ram,
}

/// One memory region of a board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryRegion {
    pub name: String,
    pub kind: RegionKind,
    pub start: u32,
    pub size_bytes: u32,
    /// Extra cycles per access (flash wait states; 0 for TCM).
    pub wait_states: u32,
}

impl MemoryRegion {
    /// One past the last address, as u64 so a region ending at 4 GiB fits.
    pub fn end(&self) -> u64 {
        u64::from(self.start) + u64::from(self.size_bytes)
    }
}

/// A validated board description.
#[derive(Debug, Clone, PartialEq)]
pub struct Board {
    /// Board id; equals the file stem and the firmware feature `board-<id>`.
    pub id: String,
    pub description: String,
    pub core: Core,
    pub clock_hz: u64,
    /// probe-rs chip name, for the real-board backend.
    pub probe_rs_chip: Option<String>,
    /// The board's own debug probe (`VID:PID`), chosen when several are connected.
    pub probe: Option<ProbeSelector>,
    /// The GPIO the firmware raises around each timed inference (e.g. `PB0`,
    /// `P0.13`), for instruments that synchronize on it.
    pub marker_pin: Option<String>,
    /// The single register writes that set and clear the marker pin: the
    /// firmware makes them, the simulator models them.
    pub marker: Option<MarkerRegisters>,
    /// Modeled current of a simulated board.
    pub power_model: Option<PowerModel>,
    /// How the firmware sets the chip up (clock tree, voltage scaling,
    /// caches, flash wait states), reported with every result.
    pub settings: BTreeMap<String, String>,
    /// True for boards that exist only in tinybench's simulator.
    pub simulated: bool,
    pub memory: Vec<MemoryRegion>,
    /// Index into `memory` of the region the linker puts code in.
    pub code_region: usize,
    /// Index into `memory` of the region holding data, bss and the stack.
    pub data_region: usize,
    /// The file this came from.
    pub path: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawBoard {
    id: Spanned<String>,
    #[serde(default)]
    description: String,
    core: Core,
    clock_hz: Spanned<u64>,
    probe_rs_chip: Option<String>,
    probe: Option<Spanned<String>>,
    marker_pin: Option<Spanned<String>>,
    marker: Option<Spanned<MarkerRegisters>>,
    power_model: Option<Spanned<RawPowerModel>>,
    #[serde(default)]
    settings: BTreeMap<String, String>,
    #[serde(default)]
    simulated: bool,
    code_region: Spanned<String>,
    data_region: Spanned<String>,
    memory: Vec<Spanned<RawMemoryRegion>>,
}

/// The marker pin's registers: writing `set-value` to `set-address` raises
/// it, `clear-value` to `clear-address` lowers it (an STM32 `BSRR`, an nRF
/// `OUTSET`/`OUTCLR`), each one store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct MarkerRegisters {
    pub set_address: u32,
    pub set_value: u32,
    pub clear_address: u32,
    pub clear_value: u32,
}

/// Instruction classes of the simulator, for `[power-model.class-extra-pc]`
/// (`tinybench_sim::insn::CLASS_NAMES`; a test in tinybench-target keeps
/// them equal).
pub const INSTRUCTION_CLASSES: [&str; 15] = [
    "alu",
    "mul",
    "div",
    "load",
    "store",
    "ldm_stm",
    "branch",
    "bitops",
    "dsp",
    "it",
    "system",
    "trap",
    "fp_mem",
    "fp",
    "undefined",
];

/// A simulated board's current, from what its core does (docs/power-model.md).
/// Charge over an interval = run current per MHz × active cycles + sleep
/// current per MHz × sleep cycles + static current × time + extra charge per
/// instruction of each class + charge per flash line read.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct PowerModel {
    /// The core supply the current is drawn from.
    pub supply_mv: f64,
    /// Current while the core runs, per MHz of core clock.
    pub run_ua_per_mhz: f64,
    /// Current while the core sleeps in WFI, per MHz.
    pub sleep_ua_per_mhz: f64,
    /// Current independent of the clock (regulator, leakage).
    pub static_ua: f64,
    /// Charge of each flash line read (instruction fetch or data).
    pub flash_line_pc: f64,
    /// Extra charge per executed instruction, by class ([`INSTRUCTION_CLASSES`]).
    pub class_extra_pc: BTreeMap<String, f64>,
    /// Where the numbers come from (reported with modeled figures).
    pub source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawPowerModel {
    supply_mv: Spanned<f64>,
    run_ua_per_mhz: Spanned<f64>,
    sleep_ua_per_mhz: Spanned<f64>,
    #[serde(default)]
    static_ua: Option<Spanned<f64>>,
    #[serde(default)]
    flash_line_pc: Option<Spanned<f64>>,
    #[serde(default)]
    class_extra_pc: BTreeMap<String, Spanned<f64>>,
    source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawMemoryRegion {
    name: String,
    kind: RegionKind,
    start: u32,
    size_bytes: u32,
    #[serde(default)]
    wait_states: u32,
}

/// What to say when a key serde requires is missing.
const REQUIRED: &[Required] = &[
    Required { key: "id", message: "missing key id", fix: "add id = \"<file name without .toml>\"" },
    Required { key: "core", message: "missing key core", fix: "add core = \"cortex-m4\" or \"cortex-m7\"" },
    Required {
        key: "clock-hz",
        message: "missing key clock-hz",
        fix: "add the core clock in Hz, e.g. clock-hz = 120_000_000",
    },
    Required {
        key: "code-region",
        message: "missing key code-region",
        fix: "add code-region = \"flash\" (the [[memory]] region the linker puts code in)",
    },
    Required {
        key: "data-region",
        message: "missing key data-region",
        fix: "add data-region = \"sram\" (the RAM [[memory]] region for data and stack)",
    },
    Required {
        key: "memory",
        message: "missing tables [[memory]]",
        fix: "add [[memory]] tables with name, kind, start and size-bytes",
    },
    Required { key: "memory.name", message: "missing key name", fix: "add name = \"sram\" to this [[memory]]" },
    Required {
        key: "memory.kind",
        message: "missing key kind",
        fix: "add kind = \"flash\" or \"ram\" to this [[memory]]",
    },
    Required {
        key: "memory.start",
        message: "missing key start",
        fix: "add start = 0x2000_0000 (its first address) to this [[memory]]",
    },
    Required {
        key: "memory.size-bytes",
        message: "missing key size-bytes",
        fix: "add size-bytes = 131_072 to this [[memory]]",
    },
];

/// Highest core clock accepted; above this a typo (an extra zero) is likelier
/// than a real microcontroller.
const MAX_CLOCK_HZ: u64 = 2_000_000_000;

impl Board {
    /// Reads and validates a board file.
    pub fn from_file(path: &Path) -> Result<Board, ConfigError> {
        let source = SourceFile::read(path)?;
        Self::from_source(&source)
    }

    /// Parses and validates an already loaded board file.
    pub fn from_source(source: &SourceFile) -> Result<Board, ConfigError> {
        let raw: RawBoard = source.parse_with(REQUIRED)?;
        validate_id_matches_file_name(source, &raw)?;
        validate_clock(source, &raw)?;
        validate_regions(source, &raw)?;
        let code_region = resolve_region(source, &raw, &raw.code_region, "code-region")?;
        let data_region = resolve_region(source, &raw, &raw.data_region, "data-region")?;
        validate_linker_regions(source, &raw, code_region, data_region)?;
        validate_m7_data_in_dtcm(source, &raw, data_region)?;
        let probe = match &raw.probe {
            None => None,
            Some(text) => Some(ProbeSelector::parse(text.get_ref()).map_err(|why| {
                source.invalid(
                    text.span(),
                    "probe",
                    why,
                    "give the on-board probe's USB ids as VID:PID, e.g. probe = \"0483:374e\"",
                )
            })?),
        };
        if let Some(pin) = &raw.marker_pin
            && pin.get_ref().trim().is_empty()
        {
            return Err(source.invalid(
                pin.span(),
                "marker-pin",
                "empty pin name",
                "e.g. marker-pin = \"PB0\", or remove the key",
            ));
        }
        validate_marker(source, &raw)?;
        let power_model = raw.power_model.as_ref().map(|m| validate_power_model(source, m)).transpose()?;
        Ok(Board {
            id: raw.id.into_inner(),
            description: raw.description,
            core: raw.core,
            clock_hz: *raw.clock_hz.get_ref(),
            probe_rs_chip: raw.probe_rs_chip,
            probe,
            marker_pin: raw.marker_pin.map(Spanned::into_inner),
            marker: raw.marker.map(Spanned::into_inner),
            power_model,
            settings: raw.settings,
            simulated: raw.simulated,
            memory: raw
                .memory
                .into_iter()
                .map(|r| {
                    let r = r.into_inner();
                    MemoryRegion {
                        name: r.name,
                        kind: r.kind,
                        start: r.start,
                        size_bytes: r.size_bytes,
                        wait_states: r.wait_states,
                    }
                })
                .collect(),
            code_region,
            data_region,
            path: source.path.clone(),
        })
    }

    pub fn code(&self) -> &MemoryRegion {
        &self.memory[self.code_region]
    }

    pub fn data(&self) -> &MemoryRegion {
        &self.memory[self.data_region]
    }

    /// The cortex-m-rt `memory.x` linker script for this board.
    pub fn memory_x(&self) -> String {
        let (code, data) = (self.code(), self.data());
        format!(
            "/* Generated by tinybench from {path} ({id}); edit the board file, not this. */\n\
             MEMORY\n{{\n  FLASH : ORIGIN = {cs:#010X}, LENGTH = {cl}\n  RAM : ORIGIN = {ds:#010X}, LENGTH = {dl}\n}}\n",
            path = self.path.display(),
            id = self.id,
            cs = code.start,
            cl = code.size_bytes,
            ds = data.start,
            dl = data.size_bytes,
        )
    }
}

/// `id` must equal the file stem: configs name boards by file.
fn validate_id_matches_file_name(source: &SourceFile, raw: &RawBoard) -> Result<(), ConfigError> {
    let stem = source.path.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
    if raw.id.get_ref() != stem {
        return Err(source.invalid(
            raw.id.span(),
            "id",
            format!("board id \"{}\" differs from the file name \"{stem}.toml\"", raw.id.get_ref()),
            format!("set id = \"{stem}\" or rename the file to {}.toml", raw.id.get_ref()),
        ));
    }
    let valid = !stem.is_empty() && stem.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !valid {
        return Err(source.invalid(
            raw.id.span(),
            "id",
            format!("board id \"{stem}\" must be lowercase letters, digits and '-'"),
            "rename the board (it becomes the firmware feature board-<id>)",
        ));
    }
    Ok(())
}

fn validate_clock(source: &SourceFile, raw: &RawBoard) -> Result<(), ConfigError> {
    let hz = *raw.clock_hz.get_ref();
    if hz == 0 || hz > MAX_CLOCK_HZ {
        return Err(source.invalid(
            raw.clock_hz.span(),
            "clock-hz",
            format!("clock of {hz} Hz is outside 1 Hz ..= {MAX_CLOCK_HZ} Hz"),
            "give the core clock in Hz, e.g. clock-hz = 120_000_000",
        ));
    }
    Ok(())
}

fn validate_regions(source: &SourceFile, raw: &RawBoard) -> Result<(), ConfigError> {
    if raw.memory.is_empty() {
        return Err(source.invalid_here(
            "memory",
            "the board has no memory regions",
            "add [[memory]] tables with name, kind, start and size-bytes",
        ));
    }
    for (i, region) in raw.memory.iter().enumerate() {
        let r = region.get_ref();
        if r.size_bytes == 0 {
            return Err(source.invalid(
                region.span(),
                "memory.size-bytes",
                format!("region \"{}\" has size 0", r.name),
                "give the region's size in bytes",
            ));
        }
        if u64::from(r.start) + u64::from(r.size_bytes) > 1 << 32 {
            return Err(source.invalid(
                region.span(),
                "memory.size-bytes",
                format!("region \"{}\" runs past the 4 GiB address space", r.name),
                "check start and size-bytes",
            ));
        }
        for other in &raw.memory[..i] {
            let o = other.get_ref();
            if o.name == r.name {
                return Err(source.invalid(
                    region.span(),
                    "memory.name",
                    format!("two regions are named \"{}\"", r.name),
                    "give each region its own name",
                ));
            }
            let overlaps = u64::from(r.start) < u64::from(o.start) + u64::from(o.size_bytes)
                && u64::from(o.start) < u64::from(r.start) + u64::from(r.size_bytes);
            if overlaps {
                return Err(source.invalid(
                    region.span(),
                    "memory.start",
                    format!("region \"{}\" overlaps region \"{}\"", r.name, o.name),
                    "fix start or size-bytes of one of them",
                ));
            }
        }
    }
    Ok(())
}

fn resolve_region(
    source: &SourceFile,
    raw: &RawBoard,
    name: &Spanned<String>,
    key: &str,
) -> Result<usize, ConfigError> {
    raw.memory.iter().position(|r| &r.get_ref().name == name.get_ref()).ok_or_else(|| {
        let names: Vec<&str> = raw.memory.iter().map(|r| r.get_ref().name.as_str()).collect();
        source.invalid(
            name.span(),
            key,
            format!("no memory region named \"{}\"", name.get_ref()),
            format!("use one of: {}", names.join(", ")),
        )
    })
}

fn validate_linker_regions(source: &SourceFile, raw: &RawBoard, code: usize, data: usize) -> Result<(), ConfigError> {
    if raw.memory[data].get_ref().kind != RegionKind::Ram {
        return Err(source.invalid(
            raw.data_region.span(),
            "data-region",
            format!("data-region \"{}\" is not RAM", raw.data_region.get_ref()),
            "name a region with kind = \"ram\" for data and stack",
        ));
    }
    if code == data {
        return Err(source.invalid(
            raw.code_region.span(),
            "code-region",
            "code-region and data-region are the same region",
            "put code in flash and data in RAM",
        ));
    }
    Ok(())
}

/// `marker-pin` and `[marker]` come together; the marker registers are
/// words outside memory (and, on a simulated board, outside the PPB, where
/// the simulator could not model them).
fn validate_marker(source: &SourceFile, raw: &RawBoard) -> Result<(), ConfigError> {
    let marker = match (&raw.marker_pin, &raw.marker) {
        (None, None) => return Ok(()),
        (Some(pin), None) => {
            return Err(source.invalid(
                pin.span(),
                "marker-pin",
                "a marker pin without [marker]",
                "add [marker] with set-address, set-value, clear-address and clear-value: the register writes that \
                 set and clear it",
            ));
        }
        (None, Some(marker)) => {
            return Err(source.invalid(
                marker.span(),
                "marker",
                "[marker] without marker-pin",
                "add marker-pin = \"<pin name>\" (e.g. \"PE9\") for reports and wiring hints",
            ));
        }
        (Some(_), Some(marker)) => marker,
    };
    let m = marker.get_ref();
    for (key, address, value) in
        [("set-address", m.set_address, m.set_value), ("clear-address", m.clear_address, m.clear_value)]
    {
        let in_memory = raw.memory.iter().any(|r| {
            let r = r.get_ref();
            u64::from(address) >= u64::from(r.start)
                && u64::from(address) < u64::from(r.start) + u64::from(r.size_bytes)
        });
        let in_ppb = (0xE000_0000..0xE010_0000).contains(&address);
        let why = if address % 4 != 0 {
            Some("is not word aligned")
        } else if in_memory {
            Some("lies in a [[memory]] region")
        } else if in_ppb && raw.simulated {
            Some("lies in the private peripheral bus, which the simulator reserves")
        } else if value == 0 {
            Some("is written with a value of 0, which changes no pin")
        } else {
            None
        };
        if let Some(why) = why {
            return Err(source.invalid(
                marker.span(),
                &format!("marker.{key}"),
                format!("the marker register {address:#010x} {why}"),
                "give the GPIO port's set and clear registers (e.g. GPIOE_BSRR = 0x4800_1018 on an STM32L4) and \
                 the bit values that set and clear the pin",
            ));
        }
    }
    Ok(())
}

/// Non-negative, finite numbers; classes the simulator has.
fn validate_power_model(source: &SourceFile, raw: &Spanned<RawPowerModel>) -> Result<PowerModel, ConfigError> {
    let m = raw.get_ref();
    let number = |value: &Spanned<f64>, key: &str| -> Result<f64, ConfigError> {
        let x = *value.get_ref();
        if !x.is_finite() || x < 0.0 {
            return Err(source.invalid(
                value.span(),
                &format!("power-model.{key}"),
                format!("{x} is not a non-negative number"),
                "give a non-negative figure in the unit its name says",
            ));
        }
        Ok(x)
    };
    let supply_mv = number(&m.supply_mv, "supply-mv")?;
    if supply_mv == 0.0 {
        return Err(source.invalid(
            m.supply_mv.span(),
            "power-model.supply-mv",
            "a supply of 0 mV",
            "give the core supply voltage in mV",
        ));
    }
    let mut class_extra_pc = BTreeMap::new();
    for (class, value) in &m.class_extra_pc {
        if !INSTRUCTION_CLASSES.contains(&class.as_str()) {
            return Err(source.invalid(
                value.span(),
                &format!("power-model.class-extra-pc.{class}"),
                format!("no instruction class \"{class}\""),
                format!("use one of: {}", INSTRUCTION_CLASSES.join(", ")),
            ));
        }
        class_extra_pc.insert(class.clone(), number(value, &format!("class-extra-pc.{class}"))?);
    }
    Ok(PowerModel {
        supply_mv,
        run_ua_per_mhz: number(&m.run_ua_per_mhz, "run-ua-per-mhz")?,
        sleep_ua_per_mhz: number(&m.sleep_ua_per_mhz, "sleep-ua-per-mhz")?,
        static_ua: m.static_ua.as_ref().map(|v| number(v, "static-ua")).transpose()?.unwrap_or(0.0),
        flash_line_pc: m.flash_line_pc.as_ref().map(|v| number(v, "flash-line-pc")).transpose()?.unwrap_or(0.0),
        class_extra_pc,
        source: m.source.clone(),
    })
}

/// The Cortex-M7's data tightly coupled memory: fixed by the core.
const M7_DTCM_START: u32 = 0x2000_0000;

/// On a real Cortex-M7 the data region, which holds the RTT control block,
/// must be the DTCM: the probe reads RTT from memory while the core runs,
/// and would miss what the core left in its D-cache.
fn validate_m7_data_in_dtcm(source: &SourceFile, raw: &RawBoard, data: usize) -> Result<(), ConfigError> {
    let region = raw.memory[data].get_ref();
    if raw.core != Core::CortexM7 || raw.simulated || region.start == M7_DTCM_START {
        return Ok(());
    }
    Err(source.invalid(
        raw.data_region.span(),
        "data-region",
        format!(
            "data-region \"{}\" at {:#010x} is not the Cortex-M7's DTCM, so the RTT control block in it could \
             sit in the D-cache where the probe cannot see it",
            raw.data_region.get_ref(),
            region.start
        ),
        "describe the DTCM (start = 0x2000_0000) as a ram region and name it as data-region",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIM_M4: &str = r#"
id = "sim-m4"
core = "cortex-m4"
clock-hz = 120_000_000
code-region = "flash"
data-region = "sram"

[[memory]]
name = "flash"
kind = "flash"
start = 0x0800_0000
size-bytes = 2_097_152

[[memory]]
name = "sram"
kind = "ram"
start = 0x2000_0000
size-bytes = 655_360
"#;

    fn parse(name: &str, text: &str) -> Result<Board, ConfigError> {
        Board::from_source(&SourceFile {
            path: PathBuf::from(format!("configs/boards/{name}.toml")),
            text: text.into(),
        })
    }

    #[test]
    fn valid_board_loads() {
        let b = parse("sim-m4", SIM_M4).unwrap();
        assert_eq!(b.core, Core::CortexM4);
        assert_eq!(b.clock_hz, 120_000_000);
        assert_eq!(b.code().start, 0x0800_0000);
        assert_eq!(b.data().size_bytes, 655_360);
    }

    #[test]
    fn memory_x_names_flash_and_ram() {
        let x = parse("sim-m4", SIM_M4).unwrap().memory_x();
        assert!(x.contains("FLASH : ORIGIN = 0x08000000, LENGTH = 2097152"), "{x}");
        assert!(x.contains("RAM : ORIGIN = 0x20000000, LENGTH = 655360"), "{x}");
    }

    #[test]
    fn unknown_key_names_line_and_key() {
        let text = SIM_M4.replace("clock-hz", "clock-hertz");
        let err = parse("sim-m4", &text).unwrap_err().to_string();
        assert!(err.starts_with("configs/boards/sim-m4.toml:4:1: clock-hertz: unknown field `clock-hertz`"), "{err}");
    }

    #[test]
    fn wrong_type_names_line_and_key() {
        let text = SIM_M4.replace("clock-hz = 120_000_000", "clock-hz = \"fast\"");
        let err = parse("sim-m4", &text).unwrap_err().to_string();
        assert!(err.starts_with("configs/boards/sim-m4.toml:4:12: clock-hz: invalid type"), "{err}");
    }

    #[test]
    fn missing_keys_are_named() {
        let err = parse("sim-m4", &SIM_M4.replace("core = \"cortex-m4\"\n", "")).unwrap_err().to_string();
        assert_eq!(
            err,
            "configs/boards/sim-m4.toml: core: missing key core; add core = \"cortex-m4\" or \"cortex-m7\""
        );
        let err = parse("sim-m4", &SIM_M4.replace("start = 0x2000_0000\n", "")).unwrap_err().to_string();
        assert!(
            err.starts_with("configs/boards/sim-m4.toml:14:1: memory.start: missing key start; add start ="),
            "{err}"
        );
    }

    #[test]
    fn bad_core_lists_the_choices() {
        let text = SIM_M4.replace("cortex-m4\"", "cortex-m0\"");
        let err = parse("sim-m4", &text).unwrap_err().to_string();
        assert!(err.contains("core") && err.contains("cortex-m4") && err.contains("cortex-m7"), "{err}");
    }

    #[test]
    fn id_must_match_file_name() {
        let err = parse("other", SIM_M4).unwrap_err().to_string();
        assert!(err.contains(":2:6: id: board id \"sim-m4\" differs from the file name \"other.toml\""), "{err}");
    }

    #[test]
    fn overlapping_regions_are_refused() {
        let text = SIM_M4.replace("start = 0x2000_0000", "start = 0x0800_1000");
        let err = parse("sim-m4", &text).unwrap_err().to_string();
        assert!(err.contains("overlaps region \"flash\""), "{err}");
    }

    #[test]
    fn unknown_data_region_lists_regions() {
        let text = SIM_M4.replace("data-region = \"sram\"", "data-region = \"dtcm\"");
        let err = parse("sim-m4", &text).unwrap_err().to_string();
        assert!(err.contains("data-region: no memory region named \"dtcm\"; use one of: flash, sram"), "{err}");
    }

    #[test]
    fn data_region_must_be_ram() {
        let text = SIM_M4.replace("data-region = \"sram\"", "data-region = \"flash\"");
        assert!(parse("sim-m4", &text).unwrap_err().to_string().contains("is not RAM"));
    }

    #[test]
    fn a_real_m7_keeps_its_data_in_dtcm() {
        let h7 = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../configs/boards/nucleo-h743zi2.toml"),
        )
        .unwrap();
        parse("nucleo-h743zi2", &h7).unwrap();
        let in_axi_sram = h7.replacen("data-region = \"dtcm\"", "data-region = \"axi-sram\"", 1);
        let err = parse("nucleo-h743zi2", &in_axi_sram).unwrap_err().to_string();
        assert!(err.contains("data-region \"axi-sram\" at 0x24000000 is not the Cortex-M7's DTCM"), "{err}");
        assert!(err.contains("start = 0x2000_0000"), "{err}");
        // The simulator has no cache to hide anything in.
        let simulated = in_axi_sram.replace("simulated = false", "simulated = true");
        parse("nucleo-h743zi2", &simulated).unwrap();
    }

    #[test]
    fn zero_clock_is_refused() {
        let text = SIM_M4.replace("120_000_000", "0");
        assert!(parse("sim-m4", &text).unwrap_err().to_string().contains("clock-hz: clock of 0 Hz"));
    }

    #[test]
    fn shipped_boards_are_valid() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../configs/boards");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                Board::from_file(&path).unwrap_or_else(|e| panic!("{e}"));
                seen += 1;
            }
        }
        assert!(seen >= 3, "expected the shipped boards in {}", dir.display());
    }
}
