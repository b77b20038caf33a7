//! ppk2: driver and simulator (see the crate documentation).

pub mod driver;
pub mod sim;
