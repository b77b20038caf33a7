//! Board bring-up: one module per board, exactly one compiled (build.rs
//! rejects zero or several board features before rustc gets here).

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

/// The board id and clock the board file declares.
const fn from_board_file() -> BoardInfo {
    BoardInfo { id: params::BOARD_ID, core_clock_hz: params::BOARD_CLOCK_HZ }
}
