//! ina219: driver and simulator (see the crate documentation).

pub mod driver;
pub mod seams;
pub mod sim;
