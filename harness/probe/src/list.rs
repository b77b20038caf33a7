//! Debug probes as tinybench lists them: `tinybench probe list`, and the
//! lookup a run makes before building anything.

use std::fmt;

use probe_rs::probe::DebugProbeSelector;
use probe_rs::probe::list::Accessibility;
pub use probe_rs::probe::list::Lister;

use crate::sim_probe;

/// How to let this user open the probes (Linux): `tinybench probe list`
/// and a run that finds its probe locked both print it.
pub const PERMISSION_FIX: &str = "install the udev rules: sudo cp scripts/99-tinybench-probes.rules \
     /etc/udev/rules.d/ && sudo udevadm control --reload && sudo udevadm trigger, then plug the probe in again \
     (on a headless runner also: sudo usermod -aG plugdev $USER, and log in again)";

/// One connected probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeEntry {
    /// The probe's name, e.g. `STLINK-V3`.
    pub name: String,
    pub vendor_id: u16,
    pub product_id: u16,
    pub serial: Option<String>,
    /// The probe-rs driver, e.g. `ST-LINK`.
    pub driver: String,
    /// The user may not open it (no udev rule on Linux).
    pub permission_denied: bool,
    /// tinybench's simulated probe.
    pub simulated: bool,
}

impl ProbeEntry {
    /// `VID:PID:SERIAL`, as `[target] probe` takes it.
    pub fn selector_text(&self) -> String {
        let ids = format!("{:04x}:{:04x}", self.vendor_id, self.product_id);
        match &self.serial {
            Some(serial) => format!("{ids}:{serial}"),
            None => ids,
        }
    }

    pub fn selector(&self) -> DebugProbeSelector {
        DebugProbeSelector {
            vendor_id: self.vendor_id,
            product_id: self.product_id,
            interface: None,
            serial_number: self.serial.clone(),
        }
    }
}

impl fmt::Display for ProbeEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ({})", self.name, self.selector_text(), self.driver)?;
        if self.permission_denied {
            f.write_str(" [no permission]")?;
        }
        Ok(())
    }
}

/// Every probe probe-rs's drivers find, simulated probes included only if
/// offered ([`sim_probe::offer`]).
pub fn list_probes(lister: &Lister) -> Vec<ProbeEntry> {
    lister
        .list_all_with_access()
        .into_iter()
        .map(|item| {
            let info = item.info;
            ProbeEntry {
                // By driver: a real probe may use the same pid.codes ids.
                simulated: info.is_probe_type::<sim_probe::SimProbeFactory>(),
                name: info.identifier.clone(),
                vendor_id: info.vendor_id,
                product_id: info.product_id,
                serial: info.serial_number.clone(),
                driver: info.probe_type(),
                permission_denied: matches!(item.accessibility, Accessibility::PermissionDenied),
            }
        })
        .collect()
}
