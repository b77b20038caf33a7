//! Board bring-up: one module per board, exactly one compiled (build.rs
//! rejects zero or several board features before rustc gets here).
//!
//! Each module gives `init`: clocks, caches, and the marker pin as an
//! output (low); returns the real core clock. The marker's writes
//! themselves are the board file's (`crate::marker`).

use crate::params;

/// What the firmware reports about the board in `Message::Hello`.
#[derive(Debug, Clone, Copy, defmt::Format)]
pub struct BoardInfo {
    pub id: &'static str,
    pub core_clock_hz: u32,
}

#[cfg(any(feature = "board-sim-m4", feature = "board-sim-m7"))]
mod sim;
#[cfg(any(feature = "board-sim-m4", feature = "board-sim-m7"))]
pub use sim::init;

#[cfg(feature = "board-nucleo-h743zi2")]
mod nucleo_h743zi2;
#[cfg(feature = "board-nucleo-h743zi2")]
pub use nucleo_h743zi2::init;

#[cfg(feature = "board-nucleo-l4r5zi")]
mod nucleo_l4r5zi;
#[cfg(feature = "board-nucleo-l4r5zi")]
pub use nucleo_l4r5zi::init;

#[cfg(feature = "board-nrf52840-dk")]
mod nrf52840_dk;
#[cfg(feature = "board-nrf52840-dk")]
pub use nrf52840_dk::init;

/// The board id and clock the board file declares.
const fn from_board_file() -> BoardInfo {
    BoardInfo { id: params::BOARD_ID, core_clock_hz: params::BOARD_CLOCK_HZ }
}

/// Warns when the clock the board set up differs from the board file's
/// (the host computes latency from the board file's clock).
#[cfg(not(any(feature = "board-sim-m4", feature = "board-sim-m7")))]
fn check_clock(core_clock_hz: u32) -> BoardInfo {
    let declared = from_board_file();
    if core_clock_hz != declared.core_clock_hz {
        defmt::warn!("core clock is {} Hz, the board file says {} Hz", core_clock_hz, declared.core_clock_hz);
    }
    BoardInfo { core_clock_hz, ..declared }
}
