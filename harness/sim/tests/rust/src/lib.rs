//! target: the shared part of the self-checking test programs — check
//! macros that count failures, one closing PASS/FAIL line, and exit through
//! semihosting with 0 (pass) or 1 (fail); panics and faults also exit 1.
#![no_std]

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m_rt::{ExceptionFrame, exception};
use cortex_m_semihosting::debug::{self, EXIT_FAILURE, EXIT_SUCCESS};
use cortex_m_semihosting::hprintln;

static FAILURES: AtomicU32 = AtomicU32::new(0);

/// Checks a condition; on failure prints it with its location and counts it.
#[macro_export]
macro_rules! check {
    ($cond:expr) => {
        if !$cond {
            $crate::failed(file!(), line!(), format_args!("check failed: {}", stringify!($cond)));
        }
    };
}

/// Checks two values for equality; on failure prints both.
#[macro_export]
macro_rules! check_eq {
    ($got:expr, $want:expr) => {
        // `match` keeps temporaries in `$got` alive, as in `assert_eq!`.
        match (&$got, &$want) {
            (got, want) => {
                if *got != *want {
                    $crate::failed(file!(), line!(), format_args!("{} = {:?}, want {:?}", stringify!($got), got, want));
                }
            }
        }
    };
}

/// Records one failed check.
pub fn failed(file: &str, line: u32, what: fmt::Arguments<'_>) {
    hprintln!("{}:{}: {}", file, line, what);
    FAILURES.fetch_add(1, Ordering::Relaxed);
}

/// Prints `PASS <name>` or `FAIL <name>` and exits with 0 or 1.
pub fn finish(name: &str) -> ! {
    let failures = FAILURES.load(Ordering::Relaxed);
    let profile = if cfg!(debug_assertions) { "debug" } else { "release" };
    if failures == 0 {
        hprintln!("PASS {} ({})", name, profile);
        exit(true)
    } else {
        hprintln!("FAIL {} ({}): {} failed checks", name, profile, failures);
        exit(false)
    }
}

fn exit(success: bool) -> ! {
    debug::exit(if success { EXIT_SUCCESS } else { EXIT_FAILURE });
    // Only reached without a semihosting host.
    loop {
        cortex_m::asm::bkpt();
    }
}

/// Formats into a fixed buffer, to compare `Display` output with a string.
pub struct Text {
    bytes: [u8; 96],
    len: usize,
}

impl Text {
    pub fn format(args: fmt::Arguments<'_>) -> Text {
        let mut text = Text { bytes: [0; 96], len: 0 };
        // A too-long text is cut short; the comparison then fails visibly.
        let _ = text.write_fmt(args);
        text
    }

    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.bytes[..self.len]).unwrap_or("<not UTF-8>")
    }
}

impl Write for Text {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        if end > self.bytes.len() {
            return Err(fmt::Error);
        }
        self.bytes[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    hprintln!("FAIL: {}", info);
    exit(false)
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    hprintln!("FAIL: HardFault at pc {:#010x}", frame.pc());
    exit(false)
}
