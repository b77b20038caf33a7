//! [`FakeScpiInstrument`]: a scripted SCPI instrument behind
//! [`ScpiTransport`], for tests without an instrument.
//!
//! It records every command, answers queries from scripted rules, echoes
//! settings back (`SENS:SWE:TINT 1E-5,(@1)` then `SENS:SWE:TINT? (@1)`
//! answers `1E-5`), keeps an SCPI error queue for `SYST:ERR?`, and hands its
//! answers to the driver through the same framing code as the real links,
//! optionally split over several reads. A query it has no answer for times
//! out at once, without waiting on the clock.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::transport::{Chunk, ChunkSource, Framer, ScpiTransport, pop_chunk};
use crate::InstrumentError;

/// One scripted answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FakeReply {
    /// A text line; the newline is added.
    Line(String),
    /// Raw bytes, exactly as given (e.g. a block with its newline).
    Bytes(Vec<u8>),
    /// Raw bytes arriving in several reads (one USBTMC transfer or TCP
    /// segment each).
    Chunks(Vec<Vec<u8>>),
    /// Nothing comes: the read times out.
    Timeout,
    /// The instrument closes the connection.
    Disconnect,
}

impl FakeReply {
    pub fn line(text: impl Into<String>) -> Self {
        FakeReply::Line(text.into())
    }

    /// A definite-length block of big-endian single floats with its
    /// newline, as `FORM REAL` and `FORM:BORD NORM` send arrays.
    pub fn real32_block(values: &[f32]) -> Self {
        let payload: Vec<u8> = values.iter().flat_map(|v| v.to_be_bytes()).collect();
        FakeReply::Bytes(block_bytes(&payload))
    }
}

/// `#<d><count><payload>\n`.
pub fn block_bytes(payload: &[u8]) -> Vec<u8> {
    let count = payload.len().to_string();
    let mut bytes = format!("#{}{count}", count.len()).into_bytes();
    bytes.extend_from_slice(payload);
    bytes.push(b'\n');
    bytes
}

#[derive(Debug, Default)]
struct FakeState {
    sent: Vec<String>,
    /// Answers used once each, in order, before the standing ones.
    once: Vec<(String, VecDeque<FakeReply>)>,
    /// Standing answers; the last added match wins.
    standing: Vec<(String, FakeReply)>,
    /// Command prefix -> SCPI error queued when such a command arrives.
    errors_on: Vec<(String, String)>,
    error_queue: VecDeque<String>,
    /// Header -> first parameter of the last command setting it.
    settings: HashMap<String, String>,
    output: VecDeque<Chunk>,
    clears: usize,
}

impl FakeState {
    fn receive(&mut self, command: &str) {
        self.sent.push(command.to_string());
        for (prefix, error) in &self.errors_on {
            if command.starts_with(prefix.as_str()) {
                self.error_queue.push_back(error.clone());
            }
        }
        let (header, params) = command.split_once(' ').unwrap_or((command, ""));
        let header = header.to_ascii_uppercase();
        if !header.ends_with('?') {
            if header == "*CLS" {
                self.error_queue.clear();
            }
            let first = params.split(',').next().unwrap_or("").trim();
            self.settings.insert(header, first.to_string());
            return;
        }
        let reply = self.scripted(command).or_else(|| match header.as_str() {
            "SYST:ERR?" => {
                Some(FakeReply::line(self.error_queue.pop_front().unwrap_or_else(|| "+0,\"No error\"".into())))
            }
            _ => self.settings.get(header.trim_end_matches('?')).map(|v| FakeReply::line(v.clone())),
        });
        match reply {
            Some(FakeReply::Line(text)) => self.output.push_back(Chunk::Bytes(format!("{text}\n").into_bytes())),
            Some(FakeReply::Bytes(bytes)) => self.output.push_back(Chunk::Bytes(bytes)),
            Some(FakeReply::Chunks(chunks)) => self.output.extend(chunks.into_iter().map(Chunk::Bytes)),
            Some(FakeReply::Timeout) => self.output.push_back(Chunk::TimedOut),
            Some(FakeReply::Disconnect) => self.output.push_back(Chunk::Closed),
            None => {}
        }
    }

    fn scripted(&mut self, command: &str) -> Option<FakeReply> {
        for (prefix, replies) in &mut self.once {
            if command.starts_with(prefix.as_str())
                && let Some(reply) = replies.pop_front()
            {
                return Some(reply);
            }
        }
        self.standing.iter().rev().find(|(prefix, _)| command.starts_with(prefix.as_str())).map(|(_, r)| r.clone())
    }
}

/// A scripted SCPI instrument; see the module documentation.
#[derive(Debug, Default)]
pub struct FakeScpiInstrument {
    state: Arc<Mutex<FakeState>>,
    framer: Framer,
}

/// A view of what a [`FakeScpiInstrument`] received, kept after the fake
/// moved into a driver.
#[derive(Debug, Clone)]
pub struct FakeScpiLog {
    state: Arc<Mutex<FakeState>>,
}

impl FakeScpiLog {
    /// Every command and query received, in order.
    pub fn sent(&self) -> Vec<String> {
        lock(&self.state).sent.clone()
    }

    /// How many times the link was cleared.
    pub fn clears(&self) -> usize {
        lock(&self.state).clears
    }
}

fn lock(state: &Mutex<FakeState>) -> MutexGuard<'_, FakeState> {
    // A test that panicked while holding the lock has already failed.
    state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What the fake N6705B answers to `*IDN?`.
pub const FAKE_N6705B_IDN: &str = "Keysight Technologies,N6705B,MY00000001,D.01.09";

impl FakeScpiInstrument {
    /// An instrument that answers nothing but `SYST:ERR?` and echoed settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// Answers like an N6705B with `module` (e.g. `N6781A`) in every
    /// channel: identity, module model, 524288 digitizer points at most, a
    /// 3.06 A current range and 3.3 V on the output.
    pub fn n6705b(module: &str) -> Self {
        FakeScpiInstrument::new()
            .on("*IDN?", FakeReply::line(FAKE_N6705B_IDN))
            .on("SYST:CHAN:MOD?", FakeReply::line(module))
            .on("SENS:SWE:POIN? MAX", FakeReply::line("+524288"))
            .on("SENS:CURR:RANG?", FakeReply::line("+3.060000E+00"))
            .on("MEAS:VOLT?", FakeReply::line("+3.300012E+00"))
    }

    /// Answers every query starting with `prefix` with `reply` (the last
    /// rule added for a query wins).
    pub fn on(self, prefix: &str, reply: FakeReply) -> Self {
        lock(&self.state).standing.push((prefix.to_string(), reply));
        self
    }

    /// Answers the next query starting with `prefix` with `reply`; several
    /// are used in order, before any standing answer.
    pub fn on_once(self, prefix: &str, reply: FakeReply) -> Self {
        {
            let mut state = lock(&self.state);
            match state.once.iter_mut().find(|(p, _)| p == prefix) {
                Some((_, replies)) => replies.push_back(reply),
                None => state.once.push((prefix.to_string(), VecDeque::from([reply]))),
            }
        }
        self
    }

    /// Queues the SCPI error `error` (e.g. `-222,"Data out of range"`) each
    /// time a command starting with `prefix` arrives.
    pub fn error_on(self, prefix: &str, error: &str) -> Self {
        lock(&self.state).errors_on.push((prefix.to_string(), error.to_string()));
        self
    }

    /// A handle on what the fake receives.
    pub fn log(&self) -> FakeScpiLog {
        FakeScpiLog { state: Arc::clone(&self.state) }
    }
}

struct FakeOutput<'a>(&'a Mutex<FakeState>);

impl ChunkSource for FakeOutput<'_> {
    fn read_chunk(&mut self, buf: &mut [u8], _timeout: Duration) -> io::Result<usize> {
        pop_chunk(&mut lock(self.0).output, buf)
    }
}

impl ScpiTransport for FakeScpiInstrument {
    fn send(&mut self, command: &str) -> Result<(), InstrumentError> {
        self.framer.sent(command);
        lock(&self.state).receive(command);
        Ok(())
    }

    fn read_line(&mut self, timeout: Duration) -> Result<String, InstrumentError> {
        self.framer.read_line(&mut FakeOutput(&self.state), timeout)
    }

    fn read_block(&mut self, timeout: Duration, stall: Duration) -> Result<Vec<u8>, InstrumentError> {
        self.framer.read_block(&mut FakeOutput(&self.state), timeout, stall)
    }

    fn clear(&mut self) -> Result<(), InstrumentError> {
        self.framer.discard();
        let mut state = lock(&self.state);
        state.output.clear();
        state.clears += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Duration = Duration::from_secs(5);

    #[test]
    fn echoes_settings_and_keeps_an_error_queue() {
        let mut fake = FakeScpiInstrument::new().error_on("BOGUS", "-113,\"Undefined header\"");
        fake.send("SENS:SWE:TINT 1.024E-5,(@1)").unwrap();
        fake.send("SENS:SWE:TINT? (@1)").unwrap();
        assert_eq!(fake.read_line(T).unwrap(), "1.024E-5");
        fake.send("BOGUS").unwrap();
        fake.send("SYST:ERR?").unwrap();
        assert_eq!(fake.read_line(T).unwrap(), "-113,\"Undefined header\"");
        fake.send("SYST:ERR?").unwrap();
        assert_eq!(fake.read_line(T).unwrap(), "+0,\"No error\"");
        fake.send("*IDN?").unwrap();
        assert!(matches!(fake.read_line(T), Err(InstrumentError::Timeout { .. })));
    }

    #[test]
    fn once_answers_come_before_standing_ones() {
        let mut fake = FakeScpiInstrument::new()
            .on("Q?", FakeReply::line("standing"))
            .on_once("Q?", FakeReply::line("first"))
            .on_once("Q?", FakeReply::Chunks(vec![b"#13a".to_vec(), b"bc\n".to_vec()]));
        let log = fake.log();
        fake.send("Q?").unwrap();
        assert_eq!(fake.read_line(T).unwrap(), "first");
        fake.send("Q?").unwrap();
        assert_eq!(fake.read_block(T, T).unwrap(), b"abc");
        fake.send("Q?").unwrap();
        assert_eq!(fake.read_line(T).unwrap(), "standing");
        assert_eq!(log.sent(), ["Q?", "Q?", "Q?"]);
    }

    #[test]
    fn real32_blocks_are_big_endian() {
        assert_eq!(
            FakeReply::real32_block(&[1.0, -2.5]),
            FakeReply::Bytes(b"#18\x3f\x80\x00\x00\xc0\x20\x00\x00\n".to_vec())
        );
    }
}
