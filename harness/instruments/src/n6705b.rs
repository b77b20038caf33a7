//! n6705b: driver and simulator (see the crate documentation).

pub mod driver;
pub mod sim;
