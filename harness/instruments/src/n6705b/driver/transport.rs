//! SCPI transports: the byte link under a SCPI instrument.
//!
//! - [`TcpScpi`]: Keysight's SCPI socket service, one TCP connection to port
//!   5025 carrying newline-terminated commands and answers ("Keysight
//!   instruments have standardized on using port 5025 for SCPI socket
//!   services", Keysight socket services text in the E4360 and EDU33210
//!   manuals).
//! - [`UsbtmcScpi`]: the Linux `usbtmc` driver's character device
//!   (`/dev/usbtmc0`). Per the kernel's `Documentation/usb/usbtmc.rst` and
//!   `include/uapi/linux/usb/tmc.h`: each `write()` sends one USBTMC message
//!   (the driver sets EOM on its last transfer); each `read()` returns at most
//!   one transfer (up to the end of the message), so a long answer takes
//!   several reads; the driver's timeout is set in milliseconds with
//!   `USBTMC_IOCTL_SET_TIMEOUT = _IOW('[', 10, __u32)` (0x40045B0A, refused
//!   below 500 ms, Linux 4.19 and later) and `USBTMC_IOCTL_CLEAR =
//!   _IO('[', 2)` (0x5B02) sends a device clear.
//!
//! Both share one framer: bytes are gathered until a whole answer line, or
//! a whole IEEE 488.2 block and its newline ([`super::block`]), has arrived.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use super::block::{BlockFrame, frame_block, preview};
use crate::InstrumentError;

/// The SCPI socket port of Keysight instruments.
pub const SCPI_TCP_PORT: u16 = 5025;

/// A link to a SCPI instrument: commands out, answer lines and blocks in.
pub trait ScpiTransport: Send {
    /// Sends one command or query; the transport adds the terminator.
    fn send(&mut self, command: &str) -> Result<(), InstrumentError>;

    /// Reads one answer line, without its terminator, waiting at most `timeout`.
    fn read_line(&mut self, timeout: Duration) -> Result<String, InstrumentError>;

    /// Reads one definite-length block answer (`#<d><count><bytes>` and its
    /// newline) and returns its bytes, waiting at most `timeout` for it to
    /// begin (a digitizer answers once its acquisition is complete) and at
    /// most `stall` for each further piece once it has (a block cut short
    /// is reported as such, without waiting out `timeout`).
    fn read_block(&mut self, timeout: Duration, stall: Duration) -> Result<Vec<u8>, InstrumentError>;

    /// Drops whatever is left of earlier answers (after a timeout or a
    /// malformed answer), with a device clear where the link has one.
    fn clear(&mut self) -> Result<(), InstrumentError>;
}

/// A byte source read with a timeout: returns `Ok(0)` when the link closed.
pub(crate) trait ChunkSource {
    fn read_chunk(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize>;
}

/// Gathers received bytes into whole answers.
#[derive(Debug, Default)]
pub(crate) struct Framer {
    pending: Vec<u8>,
    /// The last command sent, to name in errors.
    last_command: String,
    /// Reused receive buffer.
    scratch: Vec<u8>,
}

enum Fill {
    Data,
    TimedOut,
}

/// Large enough for a usbtmc transfer or a socket's receive burst.
const CHUNK_BYTES: usize = 64 * 1024;

impl Framer {
    pub(crate) fn sent(&mut self, command: &str) {
        command.clone_into(&mut self.last_command);
    }

    fn what(&self) -> String {
        format!("`{}`", self.last_command)
    }

    pub(crate) fn discard(&mut self) {
        self.pending.clear();
    }

    fn fill(&mut self, src: &mut dyn ChunkSource, deadline: Instant) -> Result<Fill, InstrumentError> {
        let mut chunk = std::mem::take(&mut self.scratch);
        chunk.resize(CHUNK_BYTES, 0);
        let result = self.fill_into(src, deadline, &mut chunk);
        self.scratch = chunk;
        result
    }

    fn fill_into(
        &mut self,
        src: &mut dyn ChunkSource,
        deadline: Instant,
        chunk: &mut [u8],
    ) -> Result<Fill, InstrumentError> {
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Ok(Fill::TimedOut);
            }
            match src.read_chunk(chunk, remaining) {
                Ok(0) => {
                    return Err(InstrumentError::Disconnected {
                        what: format!("the answer to {}", self.what()),
                        detail: "the instrument closed the connection".into(),
                    });
                }
                Ok(n) => {
                    self.pending.extend_from_slice(&chunk[..n]);
                    return Ok(Fill::Data);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock) => {
                    return Ok(Fill::TimedOut);
                }
                Err(source) => {
                    return Err(InstrumentError::Io {
                        context: format!("reading the answer to {}", self.what()),
                        source,
                    });
                }
            }
        }
    }

    pub(crate) fn read_line(
        &mut self,
        src: &mut dyn ChunkSource,
        timeout: Duration,
    ) -> Result<String, InstrumentError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.pending.drain(..=end).collect();
                let text = String::from_utf8_lossy(&line[..end]);
                return Ok(text.strip_suffix('\r').unwrap_or(&text).to_string());
            }
            if let Fill::TimedOut = self.fill(src, deadline)? {
                return Err(if self.pending.is_empty() {
                    InstrumentError::Timeout { what: self.what(), seconds: timeout.as_secs_f64() }
                } else {
                    let detail = format!("the answer stopped without its newline after {}", preview(&self.pending));
                    self.pending.clear();
                    InstrumentError::Malformed { what: format!("the answer to {}", self.what()), detail }
                });
            }
        }
    }

    pub(crate) fn read_block(
        &mut self,
        src: &mut dyn ChunkSource,
        timeout: Duration,
        stall: Duration,
    ) -> Result<Vec<u8>, InstrumentError> {
        let first_deadline = Instant::now() + timeout;
        let mut progress = Instant::now();
        loop {
            let declared = match frame_block(&self.pending) {
                Ok(BlockFrame::Complete { payload, consumed }) => {
                    let data = self.pending[payload].to_vec();
                    self.pending.drain(..consumed);
                    return Ok(data);
                }
                Ok(BlockFrame::Incomplete { declared }) => declared,
                Err(detail) => {
                    // The rest of this answer cannot be framed: drop what came.
                    self.pending.clear();
                    return Err(InstrumentError::Malformed { what: format!("the answer to {}", self.what()), detail });
                }
            };
            let deadline = if self.pending.is_empty() { first_deadline } else { progress + stall };
            let fill = self.fill(src, deadline)?;
            progress = Instant::now();
            if let Fill::TimedOut = fill {
                if self.pending.is_empty() {
                    return Err(InstrumentError::Timeout { what: self.what(), seconds: timeout.as_secs_f64() });
                }
                let detail = match declared {
                    Some(n) => format!(
                        "short block: it declares {n} bytes but the answer stopped after {} bytes (nothing more \
                         for {} s)",
                        self.pending.len(),
                        stall.as_secs_f64()
                    ),
                    None => format!("the answer stopped inside the block header: {}", preview(&self.pending)),
                };
                self.pending.clear();
                return Err(InstrumentError::Malformed { what: format!("the answer to {}", self.what()), detail });
            }
        }
    }
}

/// SCPI over a TCP socket (LAN), port 5025 unless the address names one.
#[derive(Debug)]
pub struct TcpScpi {
    stream: TcpStream,
    framer: Framer,
    peer: String,
    write_timeout: Duration,
}

impl TcpScpi {
    /// Connects to `address` (`host:port`, or `host` for port 5025), trying
    /// each address the name resolves to for at most `connect_timeout`,
    /// which also bounds each write (commands are short lines).
    pub fn connect(address: &str, connect_timeout: Duration) -> Result<Self, InstrumentError> {
        let target = with_default_port(address);
        let addrs: Vec<SocketAddr> = target
            .to_socket_addrs()
            .map_err(|source| InstrumentError::Io { context: format!("cannot resolve `{target}`"), source })?
            .collect();
        let mut last_error = io::Error::new(io::ErrorKind::NotFound, "the name resolved to no address");
        for addr in &addrs {
            match TcpStream::connect_timeout(addr, connect_timeout) {
                Ok(stream) => {
                    // Commands are short lines; do not hold them back.
                    stream.set_nodelay(true).map_err(|source| InstrumentError::Io {
                        context: format!("cannot configure the connection to {target}"),
                        source,
                    })?;
                    return Ok(TcpScpi {
                        stream,
                        framer: Framer::default(),
                        peer: target,
                        write_timeout: connect_timeout,
                    });
                }
                Err(e) => last_error = e,
            }
        }
        Err(InstrumentError::Io { context: format!("cannot connect to {target}"), source: last_error })
    }

    /// The `host:port` connected to.
    pub fn peer(&self) -> &str {
        &self.peer
    }
}

/// `address` with port 5025 added when it names none.
pub fn with_default_port(address: &str) -> String {
    if address.parse::<SocketAddr>().is_ok() {
        return address.to_string();
    }
    if let Ok(ip) = address.parse::<IpAddr>() {
        return SocketAddr::new(ip, SCPI_TCP_PORT).to_string();
    }
    match address.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') && port.parse::<u16>().is_ok() => address.to_string(),
        _ => format!("{address}:{SCPI_TCP_PORT}"),
    }
}

impl ChunkSource for TcpStream {
    fn read_chunk(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        // A zero timeout means "block forever" to set_read_timeout.
        self.set_read_timeout(Some(timeout.max(Duration::from_millis(1))))?;
        self.read(buf)
    }
}

impl ScpiTransport for TcpScpi {
    fn send(&mut self, command: &str) -> Result<(), InstrumentError> {
        self.framer.sent(command);
        let mut line = Vec::with_capacity(command.len() + 1);
        line.extend_from_slice(command.as_bytes());
        line.push(b'\n');
        let result =
            self.stream.set_write_timeout(Some(self.write_timeout)).and_then(|()| self.stream.write_all(&line));
        result
            .map_err(|source| InstrumentError::Io { context: format!("sending `{command}` to {}", self.peer), source })
    }

    fn read_line(&mut self, timeout: Duration) -> Result<String, InstrumentError> {
        self.framer.read_line(&mut self.stream, timeout)
    }

    fn read_block(&mut self, timeout: Duration, stall: Duration) -> Result<Vec<u8>, InstrumentError> {
        self.framer.read_block(&mut self.stream, timeout, stall)
    }

    fn clear(&mut self) -> Result<(), InstrumentError> {
        self.framer.discard();
        // Drain what already arrived; a later straggler is caught by the
        // next malformed-answer check.
        let drain = |stream: &mut TcpStream| -> io::Result<()> {
            stream.set_nonblocking(true)?;
            let mut buf = [0u8; 4096];
            let result = loop {
                match stream.read(&mut buf) {
                    Ok(0) => break Ok(()),
                    Ok(_) => continue,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break Ok(()),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => break Err(e),
                }
            };
            stream.set_nonblocking(false)?;
            result
        };
        drain(&mut self.stream)
            .map_err(|source| InstrumentError::Io { context: format!("clearing the link to {}", self.peer), source })
    }
}

/// What [`UsbtmcScpi`] needs of a usbtmc device file: `write()` sends one
/// message, `read()` returns at most one transfer, plus the driver's ioctls.
pub trait UsbtmcIo: Read + Write + Send {
    /// Sets the driver's I/O timeout (`USBTMC_IOCTL_SET_TIMEOUT`).
    fn set_timeout_ms(&mut self, ms: u32) -> io::Result<()>;

    /// Sends a device clear (`USBTMC_IOCTL_CLEAR`).
    fn device_clear(&mut self) -> io::Result<()>;
}

/// `USBTMC_IOCTL_SET_TIMEOUT = _IOW('[', 10, __u32)`: write direction
/// (1 << 30), size 4 (<< 16), type '[' = 0x5B (<< 8), number 10.
const USBTMC_IOCTL_SET_TIMEOUT: libc::Ioctl = 0x4004_5B0A;
/// `USBTMC_IOCTL_CLEAR = _IO('[', 2)`.
const USBTMC_IOCTL_CLEAR: libc::Ioctl = 0x5B02;
/// The driver refuses shorter timeouts with EINVAL.
const USBTMC_MIN_TIMEOUT_MS: u32 = 500;
/// How much later than asked a usbtmc read may give up.
const USBTMC_TIMEOUT_SLACK_MS: u32 = 1000;

/// An opened `/dev/usbtmcN`.
#[derive(Debug)]
pub struct UsbtmcDevice {
    file: File,
}

impl UsbtmcDevice {
    pub fn open(path: &str) -> io::Result<Self> {
        Ok(UsbtmcDevice { file: OpenOptions::new().read(true).write(true).open(path)? })
    }
}

impl Read for UsbtmcDevice {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.file.read(buf)
    }
}

impl Write for UsbtmcDevice {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl UsbtmcIo for UsbtmcDevice {
    fn set_timeout_ms(&mut self, ms: u32) -> io::Result<()> {
        let value: u32 = ms;
        // SAFETY: the fd is open for as long as `self.file` lives, and this ioctl reads one u32 through the pointer, which points at a live local.
        let rc = unsafe { libc::ioctl(self.file.as_raw_fd(), USBTMC_IOCTL_SET_TIMEOUT, &value as *const u32) };
        if rc < 0 { Err(io::Error::last_os_error()) } else { Ok(()) }
    }

    fn device_clear(&mut self) -> io::Result<()> {
        // SAFETY: the fd is open for as long as `self.file` lives, and USBTMC_IOCTL_CLEAR takes no argument.
        let rc = unsafe { libc::ioctl(self.file.as_raw_fd(), USBTMC_IOCTL_CLEAR) };
        if rc < 0 { Err(io::Error::last_os_error()) } else { Ok(()) }
    }
}

/// The device and the timeout last given to its driver.
#[derive(Debug)]
struct UsbtmcLink<D> {
    dev: D,
    timeout_ms: Option<u32>,
}

impl<D: UsbtmcIo> UsbtmcLink<D> {
    /// Gives the driver `timeout` (at least its minimum), unless the one
    /// it has is no shorter and at most a second longer: the remaining time
    /// shrinks with every read of an answer, and one ioctl per answer is
    /// enough.
    fn set_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        let ms = u32::try_from(timeout.as_micros().div_ceil(1000)).unwrap_or(u32::MAX).max(USBTMC_MIN_TIMEOUT_MS);
        let current = self.timeout_ms.filter(|&c| c >= ms && c - ms <= USBTMC_TIMEOUT_SLACK_MS);
        if current.is_none() {
            self.dev.set_timeout_ms(ms)?;
            self.timeout_ms = Some(ms);
        }
        Ok(())
    }
}

impl<D: UsbtmcIo> ChunkSource for UsbtmcLink<D> {
    fn read_chunk(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        self.set_timeout(timeout)?;
        self.dev.read(buf)
    }
}

/// SCPI over Linux USBTMC.
#[derive(Debug)]
pub struct UsbtmcScpi<D: UsbtmcIo = UsbtmcDevice> {
    link: UsbtmcLink<D>,
    framer: Framer,
    path: String,
}

impl UsbtmcScpi<UsbtmcDevice> {
    /// Opens `path` (e.g. `/dev/usbtmc0`) and sets the driver's timeout to
    /// `io_timeout`, which also checks that the driver supports it.
    pub fn open(path: &str, io_timeout: Duration) -> Result<Self, InstrumentError> {
        let dev = UsbtmcDevice::open(path)
            .map_err(|source| InstrumentError::Io { context: format!("cannot open {path}"), source })?;
        let mut scpi = UsbtmcScpi::with_device(dev, path);
        scpi.link.set_timeout(io_timeout).map_err(|source| InstrumentError::Io {
            context: format!(
                "cannot set the usbtmc driver's timeout on {path} (USBTMC_IOCTL_SET_TIMEOUT needs Linux 4.19 or \
                 later; use the instrument's LAN address otherwise)"
            ),
            source,
        })?;
        Ok(scpi)
    }
}

impl<D: UsbtmcIo> UsbtmcScpi<D> {
    /// Wraps an opened device (or a test double) named `path` in messages.
    pub fn with_device(dev: D, path: &str) -> Self {
        UsbtmcScpi { link: UsbtmcLink { dev, timeout_ms: None }, framer: Framer::default(), path: path.to_string() }
    }

    /// The device, e.g. to look at what a test double received.
    pub fn device(&self) -> &D {
        &self.link.dev
    }
}

impl<D: UsbtmcIo> ScpiTransport for UsbtmcScpi<D> {
    fn send(&mut self, command: &str) -> Result<(), InstrumentError> {
        self.framer.sent(command);
        let mut message = Vec::with_capacity(command.len() + 1);
        message.extend_from_slice(command.as_bytes());
        message.push(b'\n');
        // One write() is one USBTMC message: never split it.
        match self.link.dev.write(&message) {
            Ok(n) if n == message.len() => Ok(()),
            Ok(n) => Err(InstrumentError::Io {
                context: format!("sending `{command}` to {}", self.path),
                source: io::Error::new(
                    io::ErrorKind::WriteZero,
                    format!("the usbtmc driver took {n} of {} bytes", message.len()),
                ),
            }),
            Err(source) => {
                Err(InstrumentError::Io { context: format!("sending `{command}` to {}", self.path), source })
            }
        }
    }

    fn read_line(&mut self, timeout: Duration) -> Result<String, InstrumentError> {
        self.framer.read_line(&mut self.link, timeout)
    }

    fn read_block(&mut self, timeout: Duration, stall: Duration) -> Result<Vec<u8>, InstrumentError> {
        self.framer.read_block(&mut self.link, timeout, stall)
    }

    fn clear(&mut self) -> Result<(), InstrumentError> {
        self.framer.discard();
        self.link
            .dev
            .device_clear()
            .map_err(|source| InstrumentError::Io { context: format!("device clear on {}", self.path), source })
    }
}

/// Scripted bytes for [`Framer`] tests and fakes: each entry is one chunk
/// (one `read()`), a timeout, or the end of the link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Chunk {
    Bytes(Vec<u8>),
    TimedOut,
    Closed,
}

/// Pops scripted chunks; a chunk larger than the reader's buffer is handed
/// out in pieces. With nothing scripted, reads time out at once (a silent
/// instrument, without waiting on the clock).
pub(crate) fn pop_chunk(queue: &mut VecDeque<Chunk>, buf: &mut [u8]) -> io::Result<usize> {
    match queue.pop_front() {
        None | Some(Chunk::TimedOut) => Err(io::Error::new(io::ErrorKind::TimedOut, "scripted timeout")),
        Some(Chunk::Closed) => Ok(0),
        Some(Chunk::Bytes(mut bytes)) => {
            let n = bytes.len().min(buf.len());
            buf[..n].copy_from_slice(&bytes[..n]);
            if n < bytes.len() {
                queue.push_front(Chunk::Bytes(bytes.split_off(n)));
            }
            Ok(n)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A usbtmc device file: every read() returns one scripted transfer,
    /// every write() is recorded as one message.
    #[derive(Debug, Default)]
    struct FakeUsbtmcFile {
        transfers: VecDeque<Chunk>,
        messages: Vec<Vec<u8>>,
        timeouts_ms: Vec<u32>,
        clears: usize,
        max_read: Option<usize>,
    }

    impl FakeUsbtmcFile {
        fn with_transfers(transfers: &[&[u8]]) -> Self {
            FakeUsbtmcFile {
                transfers: transfers.iter().map(|t| Chunk::Bytes(t.to_vec())).collect(),
                ..Default::default()
            }
        }
    }

    impl Read for FakeUsbtmcFile {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let limit = self.max_read.unwrap_or(buf.len()).min(buf.len());
            pop_chunk(&mut self.transfers, &mut buf[..limit])
        }
    }

    impl Write for FakeUsbtmcFile {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.messages.push(buf.to_vec());
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl UsbtmcIo for FakeUsbtmcFile {
        fn set_timeout_ms(&mut self, ms: u32) -> io::Result<()> {
            self.timeouts_ms.push(ms);
            Ok(())
        }

        fn device_clear(&mut self) -> io::Result<()> {
            self.clears += 1;
            Ok(())
        }
    }

    const GENEROUS: Duration = Duration::from_secs(30);

    #[test]
    fn each_command_is_one_write_with_its_newline() {
        let mut scpi = UsbtmcScpi::with_device(FakeUsbtmcFile::default(), "/dev/usbtmc-fake");
        scpi.send("*IDN?").unwrap();
        scpi.send("SENS:SWE:POIN 100,(@1)").unwrap();
        assert_eq!(scpi.device().messages, [b"*IDN?\n".to_vec(), b"SENS:SWE:POIN 100,(@1)\n".to_vec()]);
    }

    #[test]
    fn a_block_split_over_transfers_is_gathered() {
        // `#18` + 8 bytes (two floats 1.0, 2.0 MSB first) + NL, arriving in
        // three transfers that split the header and a float.
        let transfers: [&[u8]; 3] = [b"#1", b"8\x3f\x80\x00\x00\x40", b"\x00\x00\x00\n"];
        let mut scpi = UsbtmcScpi::with_device(FakeUsbtmcFile::with_transfers(&transfers), "/dev/usbtmc-fake");
        let data = scpi.read_block(GENEROUS, GENEROUS).unwrap();
        assert_eq!(data, [0x3f, 0x80, 0, 0, 0x40, 0, 0, 0]);
        // The driver's timeout was set once, not for each read.
        let set = &scpi.device().timeouts_ms;
        assert!(set.len() == 1 && (29_000..=30_000).contains(&set[0]), "{set:?}");
    }

    #[test]
    fn a_block_larger_than_one_read_is_gathered() {
        // 3000 payload bytes, each read() limited to 512 bytes.
        let mut message = b"#43000".to_vec();
        message.extend((0..3000u32).map(|i| (i % 251) as u8));
        message.push(b'\n');
        let mut file = FakeUsbtmcFile::with_transfers(&[&message]);
        file.max_read = Some(512);
        let mut scpi = UsbtmcScpi::with_device(file, "/dev/usbtmc-fake");
        let data = scpi.read_block(GENEROUS, GENEROUS).unwrap();
        assert_eq!(data.len(), 3000);
        assert_eq!(data[2999], (2999 % 251) as u8);
    }

    #[test]
    fn lines_and_blocks_in_sequence() {
        let transfers: [&[u8]; 3] = [b"Keysight Technologies,N6705B,MY1,D.01\n", b"#14\x3f\x80", b"\x00\x00\n"];
        let mut scpi = UsbtmcScpi::with_device(FakeUsbtmcFile::with_transfers(&transfers), "/dev/usbtmc-fake");
        assert_eq!(scpi.read_line(GENEROUS).unwrap(), "Keysight Technologies,N6705B,MY1,D.01");
        assert_eq!(scpi.read_block(GENEROUS, GENEROUS).unwrap(), [0x3f, 0x80, 0, 0]);
    }

    #[test]
    fn short_timeouts_are_raised_to_the_drivers_minimum() {
        let mut scpi = UsbtmcScpi::with_device(FakeUsbtmcFile::with_transfers(&[b"+0\n"]), "/dev/usbtmc-fake");
        scpi.read_line(Duration::from_millis(20)).unwrap();
        assert_eq!(scpi.device().timeouts_ms, [500]);
    }

    #[test]
    fn a_block_cut_short_by_a_timeout_is_a_short_block() {
        let mut scpi = UsbtmcScpi::with_device(FakeUsbtmcFile::with_transfers(&[b"#18\x3f\x80"]), "/dev/usbtmc-fake");
        scpi.send("FETC:ARR:CURR? (@1)").unwrap();
        let err = scpi.read_block(GENEROUS, GENEROUS).unwrap_err().to_string();
        assert!(err.contains("short block") && err.contains("declares 8") && err.contains("FETC:ARR:CURR?"), "{err}");
    }

    #[test]
    fn silence_is_a_timeout_and_a_closed_device_a_disconnect() {
        let mut scpi = UsbtmcScpi::with_device(FakeUsbtmcFile::default(), "/dev/usbtmc-fake");
        scpi.send("*IDN?").unwrap();
        assert!(matches!(scpi.read_line(GENEROUS), Err(InstrumentError::Timeout { .. })));
        let mut file = FakeUsbtmcFile::default();
        file.transfers.push_back(Chunk::Closed);
        let mut scpi = UsbtmcScpi::with_device(file, "/dev/usbtmc-fake");
        assert!(matches!(scpi.read_block(GENEROUS, GENEROUS), Err(InstrumentError::Disconnected { .. })));
    }

    #[test]
    fn clear_drops_leftovers_and_sends_a_device_clear() {
        let mut scpi = UsbtmcScpi::with_device(FakeUsbtmcFile::with_transfers(&[b"+1\n+2\n"]), "/dev/usbtmc-fake");
        assert_eq!(scpi.read_line(GENEROUS).unwrap(), "+1");
        scpi.clear().unwrap();
        assert_eq!(scpi.device().clears, 1);
        assert!(matches!(scpi.read_line(GENEROUS), Err(InstrumentError::Timeout { .. })));
    }

    #[test]
    fn default_port() {
        assert_eq!(with_default_port("192.168.1.50"), "192.168.1.50:5025");
        assert_eq!(with_default_port("192.168.1.50:5030"), "192.168.1.50:5030");
        assert_eq!(with_default_port("n6705b.lab"), "n6705b.lab:5025");
        assert_eq!(with_default_port("n6705b.lab:6000"), "n6705b.lab:6000");
        assert_eq!(with_default_port("::1"), "[::1]:5025");
        assert_eq!(with_default_port("[::1]:5025"), "[::1]:5025");
    }

    #[test]
    fn tcp_round_trip_over_loopback() {
        use std::io::BufRead;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let server = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = io::BufReader::new(stream.try_clone().unwrap());
            let mut writer = stream;
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            assert_eq!(line, "FETC:ARR:CURR? (@1)\n");
            // The block in two writes, then a line.
            writer.write_all(b"#18\x3f\x80\x00").unwrap();
            writer.write_all(b"\x00\x40\x00\x00\x00\n+0,\"No error\"\n").unwrap();
        });
        let mut scpi = TcpScpi::connect(&address, GENEROUS).unwrap();
        scpi.send("FETC:ARR:CURR? (@1)").unwrap();
        assert_eq!(scpi.read_block(GENEROUS, GENEROUS).unwrap(), [0x3f, 0x80, 0, 0, 0x40, 0, 0, 0]);
        assert_eq!(scpi.read_line(GENEROUS).unwrap(), "+0,\"No error\"");
        server.join().unwrap();
    }
}
