//! host + target: the firmware -> host results protocol.
//!
//! The benchmark firmware writes its results to RTT up channel
//! [`RESULTS_CHANNEL`] (named [`RESULTS_CHANNEL_NAME`]); human-readable logs go
//! to up channel 0 as defmt frames. Each result message is one *frame*:
//!
//! ```text
//! COBS( postcard(version: u16) ++ postcard(Message) ) ++ 0x00
//! ```
//!
//! The version comes first and on its own so a host can read it before it
//! knows the layout of the rest, and refuse a firmware built against another
//! protocol version with a fix hint instead of misdecoding it. The complete
//! specification with byte-annotated examples is `docs/protocol.md`; the tests
//! at the bottom of this file pin those bytes.
#![cfg_attr(not(feature = "std"), no_std)]

use serde::{Deserialize, Serialize};

/// Version of this protocol. Bump it on any change to [`Message`] or to the
/// framing; the host refuses frames of another version.
pub const PROTO_VERSION: u16 = 4;

/// Name of the `u16` static the firmware exports with [`PROTO_VERSION`], so the
/// host can check an ELF before running it.
pub const VERSION_SYMBOL: &str = "TINYBENCH_PROTO_VERSION";

/// RTT up channel carrying result frames (channel 0 carries defmt logs).
pub const RESULTS_CHANNEL: usize = 1;
/// Name of the results channel in the RTT control block.
pub const RESULTS_CHANNEL_NAME: &str = "tinybench-results";
/// RTT up channel carrying defmt log frames.
pub const LOG_CHANNEL: usize = 0;
/// Name of the defmt channel in the RTT control block.
pub const LOG_CHANNEL_NAME: &str = "defmt";

/// Largest encoded frame (including COBS overhead and the 0x00 delimiter) the
/// firmware ever produces; names are capped at [`MAX_NAME_BYTES`].
pub const MAX_FRAME_BYTES: usize = 128;
/// Longest board or case name carried in a message.
pub const MAX_NAME_BYTES: usize = 64;

/// One result message, firmware -> host. Fields carry their unit in the name.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Message<'a> {
    /// First message after reset.
    Hello {
        /// Board id the firmware was built for (e.g. `sim-m4`).
        board: &'a str,
        /// Core clock the firmware configured, in Hz.
        core_clock_hz: u32,
        /// Number of benchmark cases that follow.
        case_count: u16,
    },
    /// A benchmark case begins; `warmup` untimed-for-report runs come first.
    CaseStart {
        case: u16,
        name: &'a str,
        warmup: u32,
        iterations: u32,
        /// Multiply-accumulate operations of one inference.
        macs: u32,
        /// Bytes in the case's output tensor.
        output_len: u32,
    },
    /// One timed inference (warmup runs are not sent).
    Sample {
        case: u16,
        iteration: u32,
        /// DWT CYCCNT difference around the inference.
        cycles: u32,
        /// DWT CYCCNT when it started: where each inference lies after the
        /// first, for a meter that only saw the first marker edge.
        start_cycles: u32,
    },
    /// The case finished; checksum of the output of its last inference.
    CaseEnd {
        case: u16,
        /// FNV-1a 32 ([`checksum`]) of the output bytes.
        output_checksum: u32,
    },
    /// Stack usage measured by painting the stack at start-up.
    Memory { stack_peak_bytes: u32, stack_size_bytes: u32 },
    /// Last message; the firmware stops after it.
    Done { status: RunStatus },
    /// Cycles of one layer within timed inference `iteration` (model
    /// workloads; sent after the inference, outside the timed region).
    LayerSample { case: u16, iteration: u32, layer: u16, cycles: u32 },
    /// A piece of the case's last output tensor, for exact comparison with
    /// the host. Chunks arrive in order and cover `output_len` bytes.
    OutputChunk {
        case: u16,
        offset: u32,
        #[serde(borrow)]
        bytes: &'a [u8],
    },
    /// A piece of the output for evaluation sample `sample` (accuracy
    /// runs): like [`Message::OutputChunk`], chunks of at most
    /// [`MAX_OUTPUT_CHUNK_BYTES`] at increasing `offset`, samples in order.
    EvalOutput {
        case: u16,
        sample: u32,
        offset: u32,
        #[serde(borrow)]
        bytes: &'a [u8],
    },
    /// How the firmware helps power measurement, once after `CaseStart` and
    /// before the first `Sample`.
    PowerSetup {
        case: u16,
        /// Cycles of one marker register write, measured at start-up.
        marker_write_cycles: u32,
        /// Low-power wait before the first timed inference, ms; it ends at
        /// that inference's rising marker edge.
        idle_ms: u32,
        /// Marker toggles inside each timed inference (0: per-layer marks off).
        layer_marks: u16,
    },
}

/// Largest `bytes` of an [`Message::OutputChunk`], so a chunk frame fits
/// [`MAX_FRAME_BYTES`].
pub const MAX_OUTPUT_CHUNK_BYTES: usize = 96;

/// Outcome reported in [`Message::Done`].
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RunStatus {
    Ok,
    /// A firmware error; the code is the firmware's error enum discriminant,
    /// and the defmt log says what it was.
    Failed {
        code: u16,
    },
}

/// FNV-1a, 32 bit: the output checksum both sides compute.
pub const fn checksum(bytes: &[u8]) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u32;
        hash = hash.wrapping_mul(0x0100_0193);
        i += 1;
    }
    hash
}

/// Encoding failed: the output buffer is too small for the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EncodeError;

/// Encodes `message` as one complete frame (COBS, 0x00-terminated) into `buf`
/// and returns the used prefix.
pub fn encode<'b>(message: &Message<'_>, buf: &'b mut [u8]) -> Result<&'b mut [u8], EncodeError> {
    postcard::to_slice_cobs(&(PROTO_VERSION, message), buf).map_err(|_| EncodeError)
}

#[cfg(feature = "std")]
pub use host::*;

#[cfg(feature = "std")]
mod host {
    use super::{Message, PROTO_VERSION};

    /// Why a frame could not be decoded.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum DecodeError {
        /// The frame is not valid COBS or not a valid message.
        Malformed { frame_len: usize, reason: String },
        /// The firmware speaks another protocol version.
        VersionMismatch { firmware: u16, host: u16 },
    }

    impl std::fmt::Display for DecodeError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            match self {
                DecodeError::Malformed { frame_len, reason } => {
                    write!(f, "malformed result frame ({frame_len} bytes): {reason}")
                }
                DecodeError::VersionMismatch { firmware, host } => write!(
                    f,
                    "firmware speaks result protocol v{firmware}, this tinybench speaks v{host}; \
                     rebuild the firmware from this checkout (`tinybench run` does) or use the \
                     tinybench release that built it"
                ),
            }
        }
    }

    impl std::error::Error for DecodeError {}

    /// An owned copy of a [`Message`], for the host to keep.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum OwnedMessage {
        Hello { board: String, core_clock_hz: u32, case_count: u16 },
        CaseStart { case: u16, name: String, warmup: u32, iterations: u32, macs: u32, output_len: u32 },
        Sample { case: u16, iteration: u32, cycles: u32, start_cycles: u32 },
        CaseEnd { case: u16, output_checksum: u32 },
        Memory { stack_peak_bytes: u32, stack_size_bytes: u32 },
        Done { status: super::RunStatus },
        LayerSample { case: u16, iteration: u32, layer: u16, cycles: u32 },
        OutputChunk { case: u16, offset: u32, bytes: Vec<u8> },
        EvalOutput { case: u16, sample: u32, offset: u32, bytes: Vec<u8> },
        PowerSetup { case: u16, marker_write_cycles: u32, idle_ms: u32, layer_marks: u16 },
    }

    impl From<&Message<'_>> for OwnedMessage {
        fn from(m: &Message<'_>) -> Self {
            match *m {
                Message::Hello { board, core_clock_hz, case_count } => {
                    OwnedMessage::Hello { board: board.to_owned(), core_clock_hz, case_count }
                }
                Message::CaseStart { case, name, warmup, iterations, macs, output_len } => {
                    OwnedMessage::CaseStart { case, name: name.to_owned(), warmup, iterations, macs, output_len }
                }
                Message::Sample { case, iteration, cycles, start_cycles } => {
                    OwnedMessage::Sample { case, iteration, cycles, start_cycles }
                }
                Message::CaseEnd { case, output_checksum } => OwnedMessage::CaseEnd { case, output_checksum },
                Message::Memory { stack_peak_bytes, stack_size_bytes } => {
                    OwnedMessage::Memory { stack_peak_bytes, stack_size_bytes }
                }
                Message::Done { status } => OwnedMessage::Done { status },
                Message::LayerSample { case, iteration, layer, cycles } => {
                    OwnedMessage::LayerSample { case, iteration, layer, cycles }
                }
                Message::OutputChunk { case, offset, bytes } => {
                    OwnedMessage::OutputChunk { case, offset, bytes: bytes.to_vec() }
                }
                Message::EvalOutput { case, sample, offset, bytes } => {
                    OwnedMessage::EvalOutput { case, sample, offset, bytes: bytes.to_vec() }
                }
                Message::PowerSetup { case, marker_write_cycles, idle_ms, layer_marks } => {
                    OwnedMessage::PowerSetup { case, marker_write_cycles, idle_ms, layer_marks }
                }
            }
        }
    }

    /// Decodes one frame's bytes (without the 0x00 delimiter).
    pub fn decode_frame(frame: &[u8]) -> Result<OwnedMessage, DecodeError> {
        let malformed = |reason: String| DecodeError::Malformed { frame_len: frame.len(), reason };
        let mut raw = frame.to_vec();
        let len = cobs_decode_in_place(&mut raw).map_err(|reason| malformed(reason.into()))?;
        let payload = &raw[..len];
        let (version, rest) =
            postcard::take_from_bytes::<u16>(payload).map_err(|e| malformed(format!("no version: {e}")))?;
        if version != PROTO_VERSION {
            return Err(DecodeError::VersionMismatch { firmware: version, host: PROTO_VERSION });
        }
        let (message, tail) =
            postcard::take_from_bytes::<Message<'_>>(rest).map_err(|e| malformed(format!("bad message: {e}")))?;
        if !tail.is_empty() {
            return Err(malformed(format!("{} trailing bytes", tail.len())));
        }
        Ok(OwnedMessage::from(&message))
    }

    // COBS is a few lines; decoding it here keeps the framing logic next to
    // its specification (postcard's accumulator would also decode the message
    // before we could check the version).
    fn cobs_decode_in_place(buf: &mut [u8]) -> Result<usize, &'static str> {
        let (mut read, mut write) = (0, 0);
        while read < buf.len() {
            let code = buf[read] as usize;
            if code == 0 {
                return Err("zero byte inside a COBS frame");
            }
            read += 1;
            let end = read + code - 1;
            if end > buf.len() {
                return Err("COBS block runs past the end of the frame");
            }
            buf.copy_within(read..end, write);
            write += code - 1;
            read = end;
            if code != 0xFF && read < buf.len() {
                buf[write] = 0;
                write += 1;
            }
        }
        Ok(write)
    }

    /// Splits a byte stream into frames at 0x00 and decodes them; bytes of an
    /// unfinished frame are kept for the next [`FrameDecoder::push`].
    #[derive(Debug, Default)]
    pub struct FrameDecoder {
        pending: Vec<u8>,
    }

    impl FrameDecoder {
        pub fn new() -> Self {
            Self::default()
        }

        /// Feeds bytes read from the channel; returns every message completed
        /// by them, in order.
        pub fn push(&mut self, bytes: &[u8]) -> Vec<Result<OwnedMessage, DecodeError>> {
            let mut out = Vec::new();
            for &b in bytes {
                if b == 0 {
                    if !self.pending.is_empty() {
                        out.push(decode_frame(&self.pending));
                        self.pending.clear();
                    }
                } else {
                    self.pending.push(b);
                }
            }
            out
        }

        /// Bytes of a frame that has not been terminated yet.
        pub fn pending_len(&self) -> usize {
            self.pending.len()
        }
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;

    fn frame(message: &Message<'_>) -> Vec<u8> {
        let mut buf = [0u8; MAX_FRAME_BYTES];
        encode(message, &mut buf).unwrap().to_vec()
    }

    #[test]
    fn sample_frame_bytes_match_the_spec() {
        // The example in docs/protocol.md.
        let bytes = frame(&Message::Sample { case: 0, iteration: 3, cycles: 1000, start_cycles: 5 });
        assert_eq!(
            bytes,
            [
                0x03, // COBS: 2 data bytes follow, then a zero
                0x04, // version 4 (varint)
                0x02, // Message variant 2 = Sample
                // (zero here) case 0
                0x05, // COBS: 4 data bytes follow, then end of frame
                0x03, // iteration 3
                0xE8, 0x07, // cycles 1000 as varint: 0x68 | 0x80, 1000 >> 7
                0x05, // start_cycles 5
                0x00, // frame delimiter
            ]
        );
    }

    #[test]
    fn power_setup_frame_bytes_match_the_spec() {
        let bytes = frame(&Message::PowerSetup { case: 0, marker_write_cycles: 2, idle_ms: 20, layer_marks: 7 });
        assert_eq!(
            bytes,
            [
                0x03, // COBS: 2 data bytes follow, then a zero
                0x04, // version 4
                0x09, // variant 9 = PowerSetup
                // (zero here) case 0
                0x04, // COBS: 3 data bytes follow, then end of frame
                0x02, // marker_write_cycles 2
                0x14, // idle_ms 20
                0x07, // layer_marks 7
                0x00, // frame delimiter
            ]
        );
    }

    #[test]
    fn hello_frame_bytes_match_the_spec() {
        let bytes = frame(&Message::Hello { board: "sim-m4", core_clock_hz: 120_000_000, case_count: 1 });
        assert_eq!(
            bytes,
            [
                0x02, // COBS: 1 data byte follows, then a zero
                0x04, // version 4
                // (zero here) variant 0 = Hello
                0x0D, // COBS: 12 data bytes follow, then end of frame
                0x06, b's', b'i', b'm', b'-', b'm', b'4', // board: length 6, UTF-8
                0x80, 0x9C, 0x9C, 0x39, // 120_000_000 as varint (LEB128)
                0x01, // case_count 1
                0x00, // frame delimiter
            ]
        );
    }

    #[test]
    fn every_message_round_trips() {
        let messages = [
            Message::Hello { board: "nucleo-h743zi2", core_clock_hz: 480_000_000, case_count: 3 },
            Message::CaseStart { case: 2, name: "conv3x3", warmup: 2, iterations: 10, macs: 294_912, output_len: 4096 },
            Message::Sample { case: 2, iteration: 9, cycles: u32::MAX, start_cycles: 0x8000_0000 },
            Message::PowerSetup { case: 2, marker_write_cycles: 3, idle_ms: 10_000, layer_marks: 41 },
            Message::CaseEnd { case: 2, output_checksum: 0xDEAD_BEEF },
            Message::Memory { stack_peak_bytes: 1234, stack_size_bytes: 65536 },
            Message::Done { status: RunStatus::Ok },
            Message::Done { status: RunStatus::Failed { code: 7 } },
            Message::LayerSample { case: 2, iteration: 1, layer: 12, cycles: 123_456 },
            Message::OutputChunk { case: 2, offset: 96, bytes: &[0, 1, 0x80, 0xFF] },
            Message::EvalOutput { case: 2, sample: 1999, offset: 96, bytes: &[0x80; 10] },
        ];
        let mut decoder = FrameDecoder::new();
        let stream: Vec<u8> = messages.iter().flat_map(frame).collect();
        // Feed in awkward pieces: frames must survive arbitrary splits.
        let mut decoded = Vec::new();
        for piece in stream.chunks(5) {
            decoded.extend(decoder.push(piece).into_iter().map(Result::unwrap));
        }
        assert_eq!(decoder.pending_len(), 0);
        let expected: Vec<OwnedMessage> = messages.iter().map(OwnedMessage::from).collect();
        assert_eq!(decoded, expected);
    }

    #[test]
    fn output_chunk_bytes_match_the_spec() {
        let bytes = frame(&Message::OutputChunk { case: 1, offset: 300, bytes: &[0x7F, 0x80] });
        assert_eq!(
            bytes,
            [
                0x09, // COBS: 8 data bytes follow, then end of frame
                0x04, // version 4
                0x07, // variant 7 = OutputChunk
                0x01, // case 1
                0xAC, 0x02, // offset 300 as varint: 0x2C | 0x80, 300 >> 7
                0x02, // 2 bytes follow
                0x7F, 0x80, // the output bytes, raw
                0x00, // frame delimiter
            ]
        );
    }

    #[test]
    fn eval_output_bytes_match_the_spec() {
        let bytes = frame(&Message::EvalOutput { case: 0, sample: 5, offset: 96, bytes: &[0x01, 0xFF] });
        assert_eq!(
            bytes,
            [
                0x03, // COBS: 2 data bytes follow, then a zero
                0x04, // version 4
                0x08, // variant 8 = EvalOutput
                // (zero here) case 0
                0x06, // COBS: 5 data bytes follow, then end of frame
                0x05, // sample 5
                0x60, // offset 96 as varint (< 128: one byte)
                0x02, // 2 bytes follow
                0x01, 0xFF, // the output bytes, raw
                0x00, // frame delimiter
            ]
        );
    }

    #[test]
    fn longest_messages_fit_the_frame_buffer() {
        let name = core::str::from_utf8(&[b'x'; MAX_NAME_BYTES]).unwrap();
        let chunk = [0u8; MAX_OUTPUT_CHUNK_BYTES];
        let long = [
            Message::OutputChunk { case: u16::MAX, offset: u32::MAX, bytes: &chunk },
            Message::EvalOutput { case: u16::MAX, sample: u32::MAX, offset: u32::MAX, bytes: &chunk },
            Message::Hello { board: name, core_clock_hz: u32::MAX, case_count: u16::MAX },
            Message::PowerSetup {
                case: u16::MAX,
                marker_write_cycles: u32::MAX,
                idle_ms: u32::MAX,
                layer_marks: u16::MAX,
            },
            Message::CaseStart {
                case: u16::MAX,
                name,
                warmup: u32::MAX,
                iterations: u32::MAX,
                macs: u32::MAX,
                output_len: u32::MAX,
            },
        ];
        for m in long {
            assert!(frame(&m).len() <= MAX_FRAME_BYTES);
        }
    }

    #[test]
    fn other_version_is_refused_with_a_hint() {
        // version 1, then a Done { Ok } body: COBS(01 05 00) = 03 01 05 01
        let err = decode_frame(&[0x03, 0x01, 0x05, 0x01]).unwrap_err();
        assert_eq!(err, DecodeError::VersionMismatch { firmware: 1, host: 4 });
        assert!(err.to_string().contains("rebuild the firmware"));
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        for bad in [&[0x05, 0x01][..], &[0x02, 0x04], &[0x01], &[0x03, 0x04, 0x0A], &[0xFF; 3]] {
            assert!(matches!(decode_frame(bad), Err(DecodeError::Malformed { .. })), "{bad:?}");
        }
    }

    #[test]
    fn checksum_is_fnv1a_32() {
        // Published FNV-1a test vectors.
        assert_eq!(checksum(b""), 0x811c_9dc5);
        assert_eq!(checksum(b"a"), 0xe40c_292c);
        assert_eq!(checksum(b"foobar"), 0xbf9c_f968);
    }
}
