//! IEEE 488.2 arbitrary block response data and the digitizer's binary
//! sample format, written from the standard (IEEE Std 488.2-1992):
//!
//! - 8.7.9 *definite length arbitrary block response data*: `#`, one
//!   non-zero digit `d`, `d` decimal digits giving the byte count `n`, then
//!   exactly `n` bytes of any value (a payload may contain newlines);
//! - 8.7.10 *indefinite length arbitrary block response data*: `#0`, then
//!   bytes up to the response terminator, which must be NL with END. Over a
//!   byte stream without END (a TCP socket) its end cannot be told from a
//!   newline inside the data, so it is refused here;
//! - 8.5 *response message terminator*: NL (`\n`), sent with END.
//!
//! `FORMat REAL` makes the N6705B send arrays as such a block of IEEE 754
//! single-precision floats, and `FORMat:BORDer NORMal` (the `*RST` value)
//! puts each float's most significant byte first (N6705C Operating and
//! Service Guide, FORMat subsystem).

use std::ops::Range;

use crate::InstrumentError;

/// How much of a block the bytes received so far hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BlockFrame {
    /// More bytes are needed; `declared` is the byte count once the header
    /// has arrived.
    Incomplete { declared: Option<usize> },
    /// `payload` is the data; `consumed` bytes make up the whole message
    /// (header, data and terminator).
    Complete { payload: Range<usize>, consumed: usize },
}

/// Frames a definite-length block at the start of `bytes`. An error text
/// says what is wrong with it; the bytes cannot be a valid block whatever
/// follows.
pub(crate) fn frame_block(bytes: &[u8]) -> Result<BlockFrame, String> {
    let Some(&first) = bytes.first() else {
        return Ok(BlockFrame::Incomplete { declared: None });
    };
    if first != b'#' {
        return Err(format!("expected a definite-length block starting with `#`, got {}", preview(bytes)));
    }
    let Some(&digits) = bytes.get(1) else {
        return Ok(BlockFrame::Incomplete { declared: None });
    };
    let length_digits = match digits {
        b'0' => {
            return Err("got an indefinite-length block (`#0`) where a definite-length block (`#<d><count>`) \
                        was expected"
                .into());
        }
        b'1'..=b'9' => usize::from(digits - b'0'),
        other => return Err(format!("the digit count after `#` is {}, not a digit 1-9", show_byte(other))),
    };
    let header_len = 2 + length_digits;
    let Some(count_text) = bytes.get(2..header_len) else {
        return Ok(BlockFrame::Incomplete { declared: None });
    };
    let mut declared = 0usize;
    for &c in count_text {
        if !c.is_ascii_digit() {
            return Err(format!(
                "the {length_digits}-digit byte count after `#{length_digits}` holds {}",
                show_byte(c)
            ));
        }
        declared = declared
            .checked_mul(10)
            .and_then(|v| v.checked_add(usize::from(c - b'0')))
            .ok_or_else(|| "the byte count does not fit in memory".to_string())?;
    }
    let payload = header_len..header_len + declared;
    let Some(&terminator) = bytes.get(payload.end) else {
        return Ok(BlockFrame::Incomplete { declared: Some(declared) });
    };
    if terminator != b'\n' {
        return Err(format!(
            "the block declares {declared} bytes but byte {} after them is {}, not the newline that ends the \
             answer (wrong byte count)",
            payload.end,
            show_byte(terminator)
        ));
    }
    Ok(BlockFrame::Complete { consumed: payload.end + 1, payload })
}

/// The data of one complete block answer (`#<d><count><bytes>\n`), which
/// must be all of `message`.
pub fn parse_block(message: &[u8]) -> Result<&[u8], InstrumentError> {
    let malformed = |detail: String| InstrumentError::Malformed { what: "a block answer".into(), detail };
    match frame_block(message).map_err(malformed)? {
        BlockFrame::Complete { payload, consumed } if consumed == message.len() => Ok(&message[payload]),
        BlockFrame::Complete { consumed, .. } => {
            Err(malformed(format!("{} bytes follow the block's terminator", message.len() - consumed)))
        }
        BlockFrame::Incomplete { declared: Some(n) } => Err(malformed(format!(
            "short block: it declares {n} bytes but only {} follow its header",
            message.len().saturating_sub(header_len_of(message))
        ))),
        BlockFrame::Incomplete { declared: None } => {
            Err(malformed(format!("the answer ends inside the block header: {}", preview(message))))
        }
    }
}

fn header_len_of(message: &[u8]) -> usize {
    message.get(1).map_or(message.len(), |d| 2 + usize::from(d.wrapping_sub(b'0')))
}

/// Big-endian IEEE 754 single floats (`FORM REAL`, `FORM:BORD NORM`) as f64.
pub fn decode_real32_be(payload: &[u8]) -> Result<Vec<f64>, InstrumentError> {
    if !payload.len().is_multiple_of(4) {
        return Err(InstrumentError::Malformed {
            what: "a block of single-precision floats".into(),
            detail: format!("{} bytes is not a whole number of 4-byte floats", payload.len()),
        });
    }
    Ok(payload.chunks_exact(4).map(|b| f64::from(f32::from_be_bytes([b[0], b[1], b[2], b[3]]))).collect())
}

/// The first bytes of an answer, for error messages.
pub(crate) fn preview(bytes: &[u8]) -> String {
    const SHOWN: usize = 24;
    let text: String = bytes.iter().take(SHOWN).map(|&b| std::ascii::escape_default(b).to_string()).collect();
    if bytes.len() > SHOWN { format!("`{text}`...") } else { format!("`{text}`") }
}

fn show_byte(b: u8) -> String {
    format!("`{}` (0x{b:02x})", std::ascii::escape_default(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definite_block_with_newlines_inside() {
        // `#` `2` (two count digits) `05` (five bytes) "a\nb\nc" then NL.
        let message = b"#205a\nb\nc\n";
        assert_eq!(frame_block(message), Ok(BlockFrame::Complete { payload: 4..9, consumed: 10 }));
        assert_eq!(parse_block(message).unwrap(), b"a\nb\nc");
    }

    #[test]
    fn empty_block_is_valid() {
        // `#10`: one count digit, zero bytes.
        assert_eq!(parse_block(b"#10\n").unwrap(), b"");
    }

    #[test]
    fn incomplete_prefixes_ask_for_more() {
        let message = b"#3004\x3f\x80\x00\x00\n";
        for end in 0..message.len() {
            let frame = frame_block(&message[..end]).unwrap();
            assert!(matches!(frame, BlockFrame::Incomplete { .. }), "{end}: {frame:?}");
        }
        assert_eq!(frame_block(&message[..6]), Ok(BlockFrame::Incomplete { declared: Some(4) }));
    }

    #[test]
    fn malformed_headers_are_refused() {
        assert!(frame_block(b"+1.0E+00\n").unwrap_err().contains("expected a definite-length block"));
        assert!(frame_block(b"#0abc\n").unwrap_err().contains("indefinite-length"));
        assert!(frame_block(b"#x12\n").unwrap_err().contains("not a digit 1-9"));
        assert!(frame_block(b"#2a4xxxx\n").unwrap_err().contains("byte count"));
    }

    #[test]
    fn wrong_byte_count_is_caught_at_the_terminator() {
        // Declares 3 bytes, sends 4: the 4th byte is where the newline must be.
        let err = frame_block(b"#13abcd\n").unwrap_err();
        assert!(err.contains("wrong byte count") && err.contains("`d`"), "{err}");
    }

    #[test]
    fn short_and_trailing_blocks_are_refused_whole() {
        let short = parse_block(b"#15abc\n").unwrap_err().to_string();
        assert!(short.contains("short block") && short.contains("declares 5"), "{short}");
        let trailing = parse_block(b"#13abc\nxyz").unwrap_err().to_string();
        assert!(trailing.contains("3 bytes follow"), "{trailing}");
    }

    #[test]
    fn big_endian_singles() {
        // 1.0 = 3F800000, -2.5 = C0200000, 1e-3 ~ 3A83126F (MSB first).
        let payload = [0x3F, 0x80, 0x00, 0x00, 0xC0, 0x20, 0x00, 0x00, 0x3A, 0x83, 0x12, 0x6F];
        let values = decode_real32_be(&payload).unwrap();
        assert_eq!(values[..2], [1.0, -2.5]);
        assert!((values[2] - 1e-3).abs() < 1e-10);
        assert!(decode_real32_be(&payload[..5]).unwrap_err().to_string().contains("5 bytes"));
    }
}
