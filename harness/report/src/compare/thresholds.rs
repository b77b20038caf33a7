//! `--threshold latency=2%,energy=5%,flash=0,ram=0,accuracy=0.1`: how much
//! worse each figure may get before it counts as a regression.

use std::fmt;
use std::str::FromStr;

/// How much a figure may grow over the baseline's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Allowance {
    /// In the figure's own unit (bytes, percentage points); 0 is an exact match.
    Absolute(f64),
    /// Percent of the baseline's figure.
    Percent(f64),
}

impl Default for Allowance {
    fn default() -> Self {
        Allowance::Absolute(0.0)
    }
}

impl Allowance {
    /// The growth allowed over `baseline`, in the figure's unit.
    pub fn of(self, baseline: f64) -> f64 {
        match self {
            Allowance::Absolute(v) => v,
            Allowance::Percent(pct) => baseline.abs() * pct / 100.0,
        }
    }

    pub fn is_exact(self) -> bool {
        matches!(self, Allowance::Absolute(v) | Allowance::Percent(v) if v == 0.0)
    }
}

impl fmt::Display for Allowance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Allowance::Absolute(v) => write!(f, "{v}"),
            Allowance::Percent(pct) => write!(f, "{pct}%"),
        }
    }
}

/// The limits of `tinybench compare`. A key not given is 0: deterministic
/// (simulated, modeled, build) figures must then match exactly, and measured
/// ones stay within the baseline's spread.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Thresholds {
    /// Median latency, percent of the baseline's (`latency=2%`).
    pub latency: Allowance,
    /// Median energy per inference, percent of the baseline's (`energy=5%`).
    pub energy: Allowance,
    /// Flash (text + rodata + data): bytes (`flash=256`) or percent.
    pub flash: Allowance,
    /// RAM (static RAM + stack peak): bytes (`ram=0`) or percent.
    pub ram: Allowance,
    /// Host accuracy, percentage points that may be lost (`accuracy=0.1`).
    pub accuracy_points: f64,
}

/// The keys of `--threshold`, in the order [`Thresholds`] prints them.
pub const THRESHOLD_KEYS: [&str; 5] = ["latency", "energy", "flash", "ram", "accuracy"];

const EXAMPLE: &str = "latency=2%,energy=5%,flash=0,ram=0,accuracy=0.1";

/// Why a `--threshold` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThresholdError {
    #[error("no threshold given; write KEY=LIMIT pairs, e.g. {EXAMPLE}")]
    Empty,
    #[error("`{item}` is not KEY=LIMIT; write comma-separated pairs, e.g. {EXAMPLE}")]
    NotKeyValue { item: String },
    #[error("unknown threshold `{key}`; the keys are {keys} (e.g. {EXAMPLE})", keys = THRESHOLD_KEYS.join(", "))]
    UnknownKey { key: String },
    #[error("threshold `{key}` is given twice; give each key once")]
    Repeated { key: String },
    #[error("`{key}={value}`: {form}", form = accepted_form(.key))]
    BadValue { key: &'static str, value: String },
}

/// What a key's limit may be written as, for the error message.
fn accepted_form(key: &str) -> &'static str {
    match key {
        "latency" => "give a percent of the baseline's median latency, e.g. latency=2%, or 0 for an exact match",
        "energy" => "give a percent of the baseline's median energy, e.g. energy=5%, or 0 for an exact match",
        "flash" => "give bytes as a whole number, e.g. flash=256, or a percent of the baseline's flash, e.g. flash=1%",
        "ram" => "give bytes as a whole number, e.g. ram=1024, or a percent of the baseline's RAM, e.g. ram=1%",
        _ => "give the percentage points of accuracy that may be lost as a plain number, e.g. accuracy=0.1 (no %)",
    }
}

/// A finite, non-negative number.
fn amount(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0)
}

fn percent(text: &str) -> Option<Allowance> {
    text.strip_suffix('%').and_then(amount).map(Allowance::Percent)
}

fn parse_value(key: &'static str, value: &str) -> Option<Allowance> {
    match key {
        // A bare number would be ambiguous (percent? microseconds?): only 0.
        "latency" | "energy" => {
            percent(value).or_else(|| (amount(value) == Some(0.0)).then_some(Allowance::Absolute(0.0)))
        }
        "flash" | "ram" => percent(value).or_else(|| value.parse::<u64>().ok().map(|b| Allowance::Absolute(b as f64))),
        _ => (!value.ends_with('%')).then(|| amount(value)).flatten().map(Allowance::Absolute),
    }
}

impl FromStr for Thresholds {
    type Err = ThresholdError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.trim().is_empty() {
            return Err(ThresholdError::Empty);
        }
        let mut thresholds = Thresholds::default();
        let mut seen = Vec::new();
        for item in text.split(',') {
            let Some((key, value)) = item.split_once('=') else {
                return Err(ThresholdError::NotKeyValue { item: item.trim().to_owned() });
            };
            let (key, value) = (key.trim(), value.trim());
            let Some(key) = THRESHOLD_KEYS.iter().copied().find(|k| *k == key) else {
                return Err(ThresholdError::UnknownKey { key: key.to_owned() });
            };
            if seen.contains(&key) {
                return Err(ThresholdError::Repeated { key: key.to_owned() });
            }
            seen.push(key);
            let allowance =
                parse_value(key, value).ok_or_else(|| ThresholdError::BadValue { key, value: value.to_owned() })?;
            match key {
                "latency" => thresholds.latency = allowance,
                "energy" => thresholds.energy = allowance,
                "flash" => thresholds.flash = allowance,
                "ram" => thresholds.ram = allowance,
                _ => thresholds.accuracy_points = allowance.of(0.0),
            }
        }
        Ok(thresholds)
    }
}

/// The `--threshold` form, every key given: parses back to the same value.
impl fmt::Display for Thresholds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "latency={},energy={},flash={},ram={},accuracy={}",
            self.latency, self.energy, self.flash, self.ram, self.accuracy_points
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_forms() {
        let t: Thresholds = "latency=2%,energy=5%,flash=0,ram=0,accuracy=0.1".parse().unwrap();
        assert_eq!(
            t,
            Thresholds {
                latency: Allowance::Percent(2.0),
                energy: Allowance::Percent(5.0),
                flash: Allowance::Absolute(0.0),
                ram: Allowance::Absolute(0.0),
                accuracy_points: 0.1,
            }
        );
        // Any subset, any order, spaces around items; keys not given are exact.
        let t: Thresholds = " flash = 1.5% , latency=0, ram=2048,energy=0.25%".parse().unwrap();
        assert_eq!(
            t,
            Thresholds {
                latency: Allowance::Absolute(0.0),
                energy: Allowance::Percent(0.25),
                flash: Allowance::Percent(1.5),
                ram: Allowance::Absolute(2048.0),
                accuracy_points: 0.0,
            }
        );
        assert_eq!("accuracy=1".parse::<Thresholds>().unwrap().latency, Allowance::default());
        assert!("latency=0%".parse::<Thresholds>().unwrap().latency.is_exact());
        // Display is the flag's form and parses back.
        let t: Thresholds = "latency=2.5%,flash=64,accuracy=0.1".parse().unwrap();
        assert_eq!(t.to_string(), "latency=2.5%,energy=0,flash=64,ram=0,accuracy=0.1");
        assert_eq!(t.to_string().parse::<Thresholds>().unwrap(), t);
    }

    #[test]
    fn rejected_forms_say_what_is_accepted() {
        let error = |text: &str| text.parse::<Thresholds>().unwrap_err().to_string();
        assert_eq!(
            error(""),
            "no threshold given; write KEY=LIMIT pairs, e.g. latency=2%,energy=5%,flash=0,ram=0,accuracy=0.1"
        );
        assert_eq!(
            error("cycles=2%"),
            "unknown threshold `cycles`; the keys are latency, energy, flash, ram, accuracy \
             (e.g. latency=2%,energy=5%,flash=0,ram=0,accuracy=0.1)"
        );
        assert!(error("latency").starts_with("`latency` is not KEY=LIMIT;"), "{}", error("latency"));
        assert!(error("latency=2%,").starts_with("`` is not KEY=LIMIT"), "{}", error("latency=2%,"));
        assert_eq!(error("flash=0,flash=8"), "threshold `flash` is given twice; give each key once");
        // A bare latency or energy number would be ambiguous: only 0.
        assert_eq!(
            error("latency=2"),
            "`latency=2`: give a percent of the baseline's median latency, e.g. latency=2%, or 0 for an exact match"
        );
        assert!(error("energy=5uJ").starts_with("`energy=5uJ`: give a percent"), "{}", error("energy=5uJ"));
        assert!(error("flash=1.5").contains("give bytes as a whole number"), "{}", error("flash=1.5"));
        assert!(error("ram=-1").starts_with("`ram=-1`: give bytes"), "{}", error("ram=-1"));
        assert!(error("accuracy=0.1%").contains("(no %)"), "{}", error("accuracy=0.1%"));
        for bad in
            ["latency=-2%", "latency=NaN%", "latency=inf%", "energy=%", "accuracy=-0.5", "accuracy=", "Latency=2%"]
        {
            assert!(bad.parse::<Thresholds>().is_err(), "{bad} was accepted");
        }
    }
}
