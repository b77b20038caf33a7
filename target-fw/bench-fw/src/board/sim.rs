//! tinybench's simulated boards (`sim-m4`, `sim-m7`).

use super::BoardInfo;

/// Nothing to set up: the simulator starts the core at the board file's
/// clock, and its cycle counts do not depend on clock configuration.
pub fn init(_core: &mut cortex_m::Peripherals) -> BoardInfo {
    super::from_board_file()
}

/// No marker pin on the simulator yet: compiles to nothing, so the timed
/// code and its cycle counts are those of a firmware without the marker.
#[inline(always)]
pub fn marker_high() {}

/// See [`marker_high`].
#[inline(always)]
pub fn marker_low() {}
