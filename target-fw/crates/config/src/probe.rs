//! Debug-probe selectors in configuration files: `VID:PID[:SERIAL]`, the
//! form probe-rs prints and accepts, with VID and PID in hexadecimal.

use std::fmt;

/// Which USB debug probe to use.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct ProbeSelector {
    pub vendor_id: u16,
    pub product_id: u16,
    /// Picks one of several probes of the same kind.
    pub serial: Option<String>,
}

impl ProbeSelector {
    /// Parses `VID:PID` or `VID:PID:SERIAL`; `None` names what is wrong.
    pub fn parse(text: &str) -> Result<ProbeSelector, String> {
        let mut parts = text.splitn(3, ':');
        let hex = |part: Option<&str>, what: &str| -> Result<u16, String> {
            let part = part.filter(|p| !p.is_empty()).ok_or_else(|| format!("no {what}"))?;
            u16::from_str_radix(part, 16).map_err(|_| format!("{what} \"{part}\" is not a 4-digit hexadecimal number"))
        };
        let vendor_id = hex(parts.next(), "vendor id")?;
        let product_id = hex(parts.next(), "product id")?;
        let serial = parts.next().filter(|s| !s.is_empty()).map(str::to_owned);
        Ok(ProbeSelector { vendor_id, product_id, serial })
    }

    /// Whether a probe with these ids matches (a selector without a serial
    /// matches every serial).
    pub fn matches(&self, vendor_id: u16, product_id: u16, serial: Option<&str>) -> bool {
        self.vendor_id == vendor_id
            && self.product_id == product_id
            && self.serial.as_deref().is_none_or(|wanted| Some(wanted) == serial)
    }
}

impl fmt::Display for ProbeSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04x}:{:04x}", self.vendor_id, self.product_id)?;
        match &self.serial {
            Some(serial) => write!(f, ":{serial}"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_vid_pid_serial() {
        let st = ProbeSelector::parse("0483:374E").unwrap();
        assert_eq!((st.vendor_id, st.product_id, st.serial.as_deref()), (0x0483, 0x374e, None));
        assert_eq!(st.to_string(), "0483:374e");
        let with_serial = ProbeSelector::parse("1366:1015:000683456789").unwrap();
        assert_eq!(with_serial.to_string(), "1366:1015:000683456789");
        assert!(with_serial.matches(0x1366, 0x1015, Some("000683456789")));
        assert!(!with_serial.matches(0x1366, 0x1015, Some("1")));
        assert!(st.matches(0x0483, 0x374e, Some("anything")));
        assert_eq!(ProbeSelector::parse("483").unwrap_err(), "no product id");
        assert!(ProbeSelector::parse("zz:1").unwrap_err().contains("vendor id \"zz\""));
    }
}
