//! tinybench's simulated boards (`sim-m4`, `sim-m7`).

use super::BoardInfo;

/// Nothing to set up: the simulator starts the core at the board file's
/// clock, its cycle counts do not depend on clock configuration, and its
/// marker pin is modeled without a port to configure.
pub fn init(_core: &mut cortex_m::Peripherals) -> BoardInfo {
    super::from_board_file()
}
