//! The crate's one error type. Each variant's message says what happened and
//! what to do next; drivers wrap it into `tinybench_power::PowerError`.

/// What went wrong talking to an instrument (or one of its simulators).
#[derive(Debug, thiserror::Error)]
pub enum InstrumentError {
    /// An I/O error on the instrument's connection.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// The instrument did not answer in time.
    #[error("no answer to {what} within {seconds} s; is the instrument on and connected?")]
    Timeout { what: String, seconds: f64 },
    /// The instrument reported an error for a command (an SCPI error queue entry).
    #[error("the instrument refused `{command}`: {error}")]
    Refused { command: String, error: String },
    /// The instrument's answer could not be read.
    #[error("malformed answer to {what}: {detail}")]
    Malformed { what: String, detail: String },
    /// The connection ended while a capture was running.
    #[error("the connection was lost during {what} ({detail}); check the cable and the instrument, then run again")]
    Disconnected { what: String, detail: String },
    /// The device did not acknowledge on the I2C bus.
    #[error("no acknowledge from I2C address {address:#04x} on {bus}; check the wiring and the address (i2cdetect)")]
    Nack { bus: String, address: u8 },
    /// Something else the user can fix; the text says how.
    #[error("{0}")]
    Other(String),
}
