//! A simulated Keysight N6705B DC power analyzer with an N6781A SMU module
//! in channel 1 (optionally up to four), speaking SCPI over a TCP socket the
//! way the real mainframe's socket service on port 5025 does.
//!
//! Written from the instrument's documentation only; it shares no encoding
//! or decoding code with [`super::driver`], so each checks the other.
//!
//! # Use
//!
//! - In-process (tests, `[power] simulate = true`): [`N6705bSim::start`] on
//!   `127.0.0.1:0` listens on a free loopback port ([`N6705bSim::address`]);
//!   connect the driver there. [`N6705bSim::play`] (or a [`SimHandle`] from
//!   another thread) hands it what the simulated board drew; time 0 of the
//!   [`Waveform`] is the instant of the call. [`N6705bSim::inject`] makes a
//!   later answer fail ([`SimFault`]). Dropping it stops the server.
//! - Standalone: [`serve`] blocks and replays its waveform from the start at
//!   every `INIT:ACQ`, `INIT:ELOG` and `MEAS...?`, so a driver that connects
//!   any time later still sees it.
//!
//! # Protocol facts implemented, with their sources
//!
//! - Socket: port 5025 style raw SCPI; commands and responses end with a
//!   newline (Keysight socket-services text in the E4360/EDU33210 manuals:
//!   "Keysight instruments have standardized on using port 5025 for SCPI
//!   socket services"). Several connections may be open; they share the one
//!   instrument (and its error queue), and a new one may come after one closes.
//! - Parser (IEEE 488.2 and SCPI-99): `;` separates message units; a unit
//!   without a leading `:` continues the previous unit's path (`SENS:SWE:POIN
//!   10;TINT 1E-3`), common commands (`*XXX`) leave the path alone; long and
//!   short mnemonics, any case; `[optional]` nodes; numeric suffixes
//!   (`DIG:PIN2:FUNC`, 1 when omitted); numbers in NR1/NR2/NR3 form and
//!   `#H`/`#Q`/`#B`, with unit suffixes `S`/`MS`/`US`/`NS`, `V`/`MV`, `A`/`MA`/`UA`
//!   where a value has a unit; `MINimum`/`MAXimum`/`DEFault` for the numeric
//!   settings; booleans `ON`/`OFF`/number; channel lists `(@1)`, `(@1,2)`,
//!   `(@1:2)`, `(@2:1)` (channel 1 when a command omits it). Errors go to a
//!   20-entry queue with the standard numbers and texts (-100 Command error,
//!   -102 Syntax error, -104 Data type error, -108 Parameter not allowed, -109
//!   Missing parameter, -112 Program mnemonic too long, -113 Undefined header,
//!   -114 Header suffix out of range, -131 Invalid suffix, -138 Suffix not
//!   allowed, -221 Settings conflict, -222 Data out of range, -224 Illegal
//!   parameter value, -230 Data corrupt or stale, -350 Queue overflow (the
//!   last entry of a full queue), -410 Query INTERRUPTED); a query that fails
//!   sends no response; a command error drops the rest of its line.
//!   `SYST:ERR?` answers `-113,"Undefined header"` or `+0,"No error"`.
//!   -410: a query that is waiting for data (an armed capture) is abandoned
//!   when the client sends anything else meanwhile. -420 (Query UNTERMINATED)
//!   cannot happen on a socket: there is no read request without a query.
//! - `*IDN?` answers `Keysight Technologies,N6705B,<serial>,<firmware>`; the
//!   serial number and firmware revision ([`SimConfig`]) are MADE UP. `*RST`,
//!   `*CLS`, `*OPC`, `*OPC?` (at once: nothing here is overlapped), `*ESR?`
//!   (CME/EXE/DDE/QYE bits per error class), `*ESE`, `*SRE`, `*STB?`, `*TRG`,
//!   `*WAI`, `*TST?`.
//! - Digitizer (N6705C User's Guide p. 213, manualslib.fr/manual/607663 page
//!   213; Series N6700 User's Guide, measurement subsystem):
//!   `SENS:FUNC:CURR|VOLT ON|OFF,(@1)` (and the older `SENS:FUNC "CURR"`);
//!   `SENS:SWE:POIN`; `SENS:SWE:TINT` rounded as the guide says: 5.12 us steps
//!   with one parameter on an N678xA SMU, else at least 10.24 us; 10.24 us
//!   steps up to 20.48 us; 20.48 us steps above, or 40.96 us steps above
//!   40.96 us with `SENS:SWE:TINT:RES RES40`; the query answers the interval
//!   in use. `SENS:SWE:OFFS:POIN` (negative = pre-trigger samples; "if a
//!   trigger occurs before the pre-trigger data count is completed, the
//!   measurement system ignores this trigger"). `TRIG:ACQ:SOUR BUS|EXTernal|
//!   IMMediate|PIN<n>`, `INIT:ACQ`, `*TRG` and `TRIG:ACQ` (immediate, any
//!   source), `ABOR:ACQ`; `FETC:ARR:CURR?|VOLT?` (the data of the last
//!   acquisition, valid until the next MEAS or INIT; the instrument waits for
//!   the trigger before answering), `MEAS:ARR:CURR?|VOLT?` (acquire now),
//!   `FETC:CURR?|VOLT?` and `MEAS:CURR?|VOLT?` (the buffer's average). Each
//!   sample is the mean over its interval; sample 0 starts at the trigger plus
//!   offset x interval; voltage comes from the waveform's `voltage_v`.
//! - Data formats (N6705C Operating and Service Guide p. 286): `FORM[:DATA]
//!   ASCii|REAL` (*RST ASCii), `FORM:BORD NORMal|SWAPped` (*RST NORMal). ASCII:
//!   comma-separated NR3 (`+1.23456E-03`); REAL: an IEEE 488.2 definite-length
//!   block (`#`, digit count, byte count, bytes) of IEEE 754 single-precision
//!   floats, most significant byte first with NORMal; then the newline.
//! - Digital port (N6900/N7900 Operating and Service Guide pp. 152, 154 and
//!   222, RP7900 guide p. 187, same mainframe family; the N6705 pages were not
//!   found, so these are the most likely forms): `[SOURce:]DIGital:PIN<1-7>:
//!   FUNCtion DIO|DINPut|FAULt|INHibit|ONCouple|OFFCouple|TOUTput|TINPut`
//!   (FAULt on pin 1 only, INHibit on pin 3, couplings on pins 4-7: else
//!   -221), `:POLarity POSitive|NEGative` ("POSitive means a rising edge and
//!   NEGative means a falling edge"), `DIG:INP:DATA?`, `DIG:OUTP:DATA`.
//!   `TRIG:ACQ:SOUR EXTernal` "selects ANY pin that has been configured as a
//!   Trigger Input", `PIN<n>` that pin. The marker is wired to every pin, or
//!   to [`SimConfig::marker_pin`] only. An armed acquisition triggers at the
//!   first edge (per the pin's polarity) at or after the arm time (after the
//!   pre-trigger samples are in); with no trigger-input pin carrying the
//!   marker it never triggers and `FETC...?` does not answer.
//! - External data logger (N6900 guide p. 161; RP7900 guide p. 143; N6702C /
//!   N6700C guide p. 146): `SENS:ELOG:FUNC:CURR|VOLT ON|OFF`, `...:MINMax`,
//!   `SENS:ELOG:PER` (rounded to whole 20.48 us, or 40.96 us with RES40,
//!   steps; at least 102.4 us per logged parameter over the mainframe, at
//!   most 4 parameters with RES20 and 24 with RES40, else `INIT:ELOG` gives
//!   -221), `TRIG:ELOG:SOUR BUS|EXTernal|IMMediate|PIN<n>`, `INIT:ELOG`,
//!   `TRIG:ELOG` (immediate, any source), `*TRG`, `FETC:ELOG? <max>,(@1)`
//!   (returns and removes up to max records; waits for at least one),
//!   `ABOR:ELOG`. Record order: I avg, I min, I max, V avg, V min, V max,
//!   enabled items only; min/max over the period's 20.48 us (40.96 us)
//!   sub-samples. FIFO "large enough to hold about 20 seconds": 195,312 values
//!   here (20 s of the fastest logging); when nobody fetched for 20 s of
//!   instrument time, the oldest records beyond that are lost.
//!
//! # Assumptions (not found in the documentation searched)
//!
//! - `SENS:SWE:POIN` at most 524,288 (`SENS:SWE:POIN? MAX`), *RST 1024:
//!   a public N6700 test script's comment says "1 to 512K". `SENS:SWE:TINT`
//!   from 5.12 us to 40,000 s, *RST 20.48 us: the same comment says "5.12 to
//!   40000 us"; the upper number is taken in seconds, as the manuals give
//!   intervals. `SENS:SWE:OFFS:POIN` from -524,287 to 2,000,000,000.
//! - `FETC...?` with no acquisition since *RST/INIT/ABOR: -230 and no
//!   answer. `FETC:ELOG?` waits for at least one record; with the Elog
//!   idle, -230.
//! - *RST: `SENS:FUNC:VOLT ON`, `SENS:FUNC:CURR OFF`; trigger sources BUS;
//!   Elog items I avg and V avg, period 0.1 s (60 s at most).
//! - N6781A: output 0-20.4 V, 0-3.06 A; current ranges 1 mA, 100 mA, 3 A
//!   (`SENS:CURR:RANG`, `:AUTO`); measurement does not depend on `OUTP`.
//! - `STAT:OPER:COND?`: CV 1, OFF 4, waiting for a trigger 8, Elog logging 16.
//! - Array and Elog queries over several channels answer the channels one
//!   after the other (Elog: record by record). Only channel 1 sees the board;
//!   other channels measure 0 A at 0 V. `INIT` of an armed capture re-arms it.
//!
//! # Time
//!
//! Instrument time runs with the wall clock from [`N6705bSim::start`]. A
//! played waveform occupies instrument time from the call on; before it,
//! between waveforms and after the last one the channel measures 0 A at the
//! last voltage (0 V before any) with the marker low. Once triggered, an
//! acquisition's record is computed at once from what was played (points
//! past the waveform's end read 0 A): the simulator does not make the client
//! wait for the window to pass. The Elog logs records as instrument time
//! passes, but the played waveform counts as passed at once.

mod instrument;
mod scpi;
mod timeline;

use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tinybench_power::Waveform;

use crate::InstrumentError;
use instrument::{Answer, Instrument, Outcome};
use scpi::{Header, Node, Params, ScpiError, lookup, parse_unit, split_units};

/// How often waiting threads look at the socket and the shutdown flag.
const POLL: Duration = Duration::from_millis(20);
/// A client that does not read its answers for this long is dropped.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// A fault for the next data answer (`FETC...?`, `MEAS...?`), or the next
/// command, to exercise a driver's error paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimFault {
    /// The answer is cut short: a block keeps its header (with the full
    /// byte count) but carries half the bytes; text keeps half its
    /// characters. The newline follows.
    ShortBlock,
    /// The answer is malformed: a block's digit-count character, or the
    /// first character of a text answer, is replaced by `X`.
    MalformedBlock,
    /// Half the answer is sent, then the connection is closed.
    DisconnectMidAnswer,
    /// The answer (and the rest of its line's answers) is never sent; the
    /// connection stays open.
    NoAnswer,
    /// The connection is closed instead of answering (a disconnect during
    /// the capture).
    Disconnect,
    /// The next command (not a query, not a common command) is refused
    /// with -221 "Settings conflict" instead of being executed.
    RejectNextCommand,
}

/// What the simulated mainframe holds and says.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Installed channels, each an N6781A (1 to 4).
    pub channels: usize,
    /// Serial number in `*IDN?` (made up).
    pub serial: String,
    /// Firmware revision in `*IDN?` (made up).
    pub firmware: String,
    /// The digital-port pin (1-7) the board's marker is wired to; `None`
    /// wires it to every pin, so whichever pin a driver configures as
    /// trigger input sees it.
    pub marker_pin: Option<u8>,
    /// Played anew at every arm (`INIT:ACQ`, `INIT:ELOG`, `MEAS...?`), for
    /// standalone serving.
    pub replay: Option<Waveform>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            channels: 1,
            serial: "SIM0000001".to_string(),
            firmware: "D.00.00-SIM".to_string(),
            marker_pin: None,
            replay: None,
        }
    }
}

impl SimConfig {
    fn validate(&self) -> Result<(), InstrumentError> {
        if !(1..=4).contains(&self.channels) {
            return Err(InstrumentError::Other(format!(
                "the simulated N6705B holds 1 to 4 channels, not {}; set SimConfig::channels to 1..=4",
                self.channels
            )));
        }
        if let Some(pin) = self.marker_pin
            && !(1..=7).contains(&pin)
        {
            return Err(InstrumentError::Other(format!(
                "the N6705B digital port has pins 1 to 7, not {pin}; set SimConfig::marker_pin to one of them (or None)"
            )));
        }
        Ok(())
    }
}

#[derive(Debug)]
struct Shared {
    instrument: Mutex<Instrument>,
    /// Signalled when a waveform is played or an acquisition completes.
    changed: Condvar,
    epoch: Instant,
    shutdown: AtomicBool,
}

impl Shared {
    fn new(config: SimConfig) -> Shared {
        let identity = format!("Keysight Technologies,N6705B,{},{}", config.serial, config.firmware);
        Shared {
            instrument: Mutex::new(Instrument::new(identity, config.channels, config.marker_pin, config.replay)),
            changed: Condvar::new(),
            epoch: Instant::now(),
            shutdown: AtomicBool::new(false),
        }
    }

    fn now_s(&self) -> f64 {
        self.epoch.elapsed().as_secs_f64()
    }

    fn lock(&self) -> MutexGuard<'_, Instrument> {
        // A panicked connection thread leaves consistent state behind (every
        // change is made whole under the lock), so keep serving.
        self.instrument.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn play(&self, waveform: &Waveform) {
        let mut instrument = self.lock();
        instrument.play(waveform, self.now_s());
        drop(instrument);
        self.changed.notify_all();
    }

    fn inject(&self, fault: SimFault) {
        self.lock().inject(fault);
    }
}

/// A running simulated N6705B; stops when dropped.
#[derive(Debug)]
pub struct N6705bSim {
    shared: Arc<Shared>,
    address: SocketAddr,
    listener: Option<JoinHandle<()>>,
}

/// A cloneable handle to play waveforms and inject faults from any thread.
#[derive(Debug, Clone)]
pub struct SimHandle {
    shared: Arc<Shared>,
}

impl SimHandle {
    /// What the board draws from now on (time 0 of `waveform` = now).
    pub fn play(&self, waveform: &Waveform) {
        self.shared.play(waveform);
    }

    /// Makes the next data answer (or command) fail as `fault` says.
    pub fn inject(&self, fault: SimFault) {
        self.shared.inject(fault);
    }
}

impl N6705bSim {
    /// Starts the default simulator (one N6781A in channel 1) listening on
    /// `bind` (port 0: any free port).
    pub fn start(bind: SocketAddr) -> Result<N6705bSim, InstrumentError> {
        N6705bSim::start_with(bind, SimConfig::default())
    }

    /// Starts a simulator as `config` says, listening on `bind`.
    pub fn start_with(bind: SocketAddr, config: SimConfig) -> Result<N6705bSim, InstrumentError> {
        config.validate()?;
        let listener = listen(bind)?;
        let address = local_address(&listener, bind)?;
        let shared = Arc::new(Shared::new(config));
        let for_thread = Arc::clone(&shared);
        let listener = std::thread::Builder::new()
            .name("n6705b-sim".to_string())
            .spawn(move || accept_loop(&listener, &for_thread))
            .map_err(|source| InstrumentError::Io {
                context: "cannot start the simulated N6705B's listener thread".to_string(),
                source,
            })?;
        Ok(N6705bSim { shared, address, listener: Some(listener) })
    }

    /// Where a driver connects.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The `*IDN?` answer.
    pub fn identity(&self) -> String {
        self.shared.lock().identity().to_string()
    }

    /// A handle for other threads.
    pub fn handle(&self) -> SimHandle {
        SimHandle { shared: Arc::clone(&self.shared) }
    }

    /// What the board draws from now on (time 0 of `waveform` = now).
    pub fn play(&self, waveform: &Waveform) {
        self.shared.play(waveform);
    }

    /// Makes the next data answer (or command) fail as `fault` says.
    pub fn inject(&self, fault: SimFault) {
        self.shared.inject(fault);
    }
}

impl Drop for N6705bSim {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        self.shared.changed.notify_all();
        // Wake the blocking accept so the listener sees the flag.
        let mut wake = self.address;
        if wake.ip().is_unspecified() {
            wake.set_ip(match wake {
                SocketAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
                SocketAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
            });
        }
        // If it cannot be woken, leave it blocked rather than hang here.
        let woken = TcpStream::connect_timeout(&wake, Duration::from_secs(1)).is_ok();
        if let Some(listener) = self.listener.take()
            && woken
        {
            let _ = listener.join();
        }
    }
}

/// Serves `waveform` on `bind` until the process ends, replaying it from
/// the start at every arm. Use [`serve_with`] to learn the port when
/// binding port 0.
pub fn serve(waveform: Waveform, bind: SocketAddr) -> Result<(), InstrumentError> {
    serve_with(bind, SimConfig { replay: Some(waveform), ..SimConfig::default() }, |_| {})
}

/// Serves a simulator as `config` says on `bind`, calling `on_listening`
/// with the bound address once connections are accepted; blocks.
pub fn serve_with(
    bind: SocketAddr,
    config: SimConfig,
    on_listening: impl FnOnce(SocketAddr),
) -> Result<(), InstrumentError> {
    config.validate()?;
    let listener = listen(bind)?;
    on_listening(local_address(&listener, bind)?);
    accept_loop(&listener, &Arc::new(Shared::new(config)));
    Ok(())
}

fn listen(bind: SocketAddr) -> Result<TcpListener, InstrumentError> {
    TcpListener::bind(bind).map_err(|source| InstrumentError::Io {
        context: format!(
            "cannot listen on {bind} for the simulated N6705B; is another program using the port? (port 0 picks a free one)"
        ),
        source,
    })
}

fn local_address(listener: &TcpListener, bind: SocketAddr) -> Result<SocketAddr, InstrumentError> {
    listener.local_addr().map_err(|source| InstrumentError::Io {
        context: format!("cannot read the address the simulated N6705B listens on ({bind})"),
        source,
    })
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    let mut connections: Vec<JoinHandle<()>> = Vec::new();
    for stream in listener.incoming() {
        if shared.shutdown.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else {
            // Out of descriptors or an aborted handshake: try the next one,
            // without spinning.
            std::thread::sleep(POLL);
            continue;
        };
        connections.retain(|c| !c.is_finished());
        let shared = Arc::clone(shared);
        let spawned = std::thread::Builder::new()
            .name("n6705b-sim-conn".to_string())
            .spawn(move || serve_connection(stream, &shared));
        if let Ok(handle) = spawned {
            connections.push(handle);
        }
    }
    for connection in connections {
        let _ = connection.join();
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Flow {
    Continue,
    Close,
}

fn serve_connection(mut stream: TcpStream, shared: &Shared) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(POLL * 5));
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let mut received: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        while let Some(end) = received.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = received.drain(..=end).collect();
            let text = String::from_utf8_lossy(&line[..end]);
            let text = text.strip_suffix('\r').unwrap_or(&text).to_string();
            if process_line(&text, &mut stream, &received, shared) == Flow::Close {
                let _ = stream.shutdown(Shutdown::Both);
                return;
            }
        }
        if shared.shutdown.load(Ordering::SeqCst) {
            return;
        }
        match stream.read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => received.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted) => {}
            Err(_) => return,
        }
    }
}

/// Executes one program message and sends its responses.
fn process_line(line: &str, stream: &mut TcpStream, received: &[u8], shared: &Shared) -> Flow {
    let mut answers: Vec<Answer> = Vec::new();
    // The path a unit without a leading ':' continues (SCPI-99 6.2.4).
    let mut path: Vec<Node> = Vec::new();
    for unit in split_units(line) {
        let (header, tokens) = match parse_unit(unit) {
            Ok(Some(parsed)) => parsed,
            Ok(None) => continue,
            Err(error) => {
                shared.lock().push_error(error);
                break;
            }
        };
        let command = match &header {
            Header::Common { .. } => None,
            Header::Path { absolute, nodes, .. } => {
                let full: Vec<Node> =
                    if *absolute { nodes.clone() } else { path.iter().chain(nodes.iter()).cloned().collect() };
                let Some(found) = lookup(&full) else {
                    shared.lock().push_error(ScpiError::UndefinedHeader);
                    break;
                };
                path = full[..full.len() - 1].to_vec();
                Some(found)
            }
        };
        let mut instrument = shared.lock();
        loop {
            let now_s = shared.now_s();
            let params = Params::new(tokens.clone());
            let result = match (&header, &command) {
                (Header::Common { name, query }, _) => instrument.execute_common(name, *query, params, now_s),
                (Header::Path { query, .. }, Some((cmd, suffixes))) => {
                    instrument.execute(*cmd, suffixes, *query, params, now_s)
                }
                (Header::Path { .. }, None) => Err(ScpiError::Command),
            };
            match result {
                Ok(Outcome::Done(answer)) => {
                    answers.extend(answer);
                    // A command may have triggered what another connection waits for.
                    shared.changed.notify_all();
                    break;
                }
                Err(error) => {
                    instrument.push_error(error);
                    if error.is_command_error() {
                        return send(answers, stream);
                    }
                    break;
                }
                Ok(Outcome::Pending) => {
                    instrument = shared
                        .changed
                        .wait_timeout(instrument, POLL)
                        .map_or_else(|poisoned| poisoned.into_inner().0, |(guard, _)| guard);
                    if shared.shutdown.load(Ordering::SeqCst) {
                        return Flow::Close;
                    }
                    match input_waiting(stream, received) {
                        Some(false) => {}
                        Some(true) => {
                            // IEEE 488.2 6.3.2.3: a new message before the
                            // response was sent interrupts the query; its
                            // line's responses are discarded.
                            instrument.push_error(ScpiError::QueryInterrupted);
                            return Flow::Continue;
                        }
                        None => return Flow::Close,
                    }
                }
            }
        }
    }
    send(answers, stream)
}

/// Whether the client sent more (`Some(true)`), nothing yet (`Some(false)`),
/// or closed the connection (`None`).
fn input_waiting(stream: &TcpStream, received: &[u8]) -> Option<bool> {
    if !received.is_empty() {
        return Some(true);
    }
    if stream.set_nonblocking(true).is_err() {
        return None;
    }
    let peeked = stream.peek(&mut [0u8; 1]);
    let restored = stream.set_nonblocking(false).is_ok();
    match peeked {
        Ok(0) => None,
        _ if !restored => None,
        Ok(_) => Some(true),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => Some(false),
        Err(_) => None,
    }
}

/// Sends a line's responses, `;`-separated and newline-terminated, applying
/// injected faults.
fn send(answers: Vec<Answer>, stream: &mut TcpStream) -> Flow {
    if answers.is_empty() {
        return Flow::Continue;
    }
    let mut out = Vec::new();
    for (i, answer) in answers.into_iter().enumerate() {
        if i > 0 {
            out.push(b';');
        }
        let Answer { mut bytes, fault } = answer;
        match fault {
            None | Some(SimFault::RejectNextCommand) => out.extend_from_slice(&bytes),
            Some(SimFault::ShortBlock) => {
                let header = block_header_len(&bytes).unwrap_or(0);
                let keep = header + (bytes.len() - header) / 2;
                out.extend_from_slice(&bytes[..keep]);
            }
            Some(SimFault::MalformedBlock) => {
                let at = usize::from(block_header_len(&bytes).is_some());
                if let Some(b) = bytes.get_mut(at) {
                    *b = b'X';
                }
                out.extend_from_slice(&bytes);
            }
            Some(SimFault::DisconnectMidAnswer) => {
                out.extend_from_slice(&bytes[..bytes.len() / 2]);
                let _ = stream.write_all(&out);
                let _ = stream.flush();
                return Flow::Close;
            }
            Some(SimFault::NoAnswer) => return Flow::Continue,
            Some(SimFault::Disconnect) => return Flow::Close,
        }
    }
    out.push(b'\n');
    if stream.write_all(&out).and_then(|()| stream.flush()).is_err() { Flow::Close } else { Flow::Continue }
}

/// The length of a definite-length block's header (`#`, digit count,
/// count), if `bytes` starts with one.
fn block_header_len(bytes: &[u8]) -> Option<usize> {
    if bytes.first() != Some(&b'#') {
        return None;
    }
    let digits = (*bytes.get(1)? as char).to_digit(10)? as usize;
    (bytes.len() >= 2 + digits).then_some(2 + digits)
}
