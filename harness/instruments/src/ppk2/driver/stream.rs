//! The sample stream: bytes into 4-byte words, checked against the words'
//! 6-bit counter.
//!
//! The protocol has no framing: words follow each other from `AverageStart`
//! on, and the host knows where a word starts only by counting bytes. USB
//! delivers a bulk packet whole or not at all, so a host that falls behind
//! loses whole packets; the Nordic app therefore only watches the counter
//! for lost words and never re-aligns. This decoder does the same and, in
//! case a partial word is ever lost or stray bytes arrive, also re-aligns.
//!
//! A word is taken when it has the expected count and the next word follows
//! it (so the last word read so far waits for the next), so that a
//! misaligned word whose count matches by chance (1 in 64) is not taken
//! unless the next one matches too (1 in 4096). Otherwise the decoder looks
//! [`CONFIRM_WORDS`] words ahead and takes the first explanation that fits,
//! in this order:
//! 1. words count up from here: whole words were lost before this one;
//! 2. words count up from 1..=3 bytes on, from the expected count: bytes were
//!    inserted here, skip them;
//! 3. this word has the expected count and words count up from 0..=3 bytes
//!    after it: the break comes after it, take it;
//! 4. words count up from 1..=3 bytes on: part of a word was lost here, skip
//!    to them (the counter then shows the lost word);
//! 5. none: the stream is refused as malformed.

use super::protocol::{COUNTER_MODULUS, SampleWord};

/// Words that must count up in a row to accept an alignment or a gap.
pub const CONFIRM_WORDS: usize = 8;

/// What the stream held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Word(SampleWord),
    /// Words missing before the next one, from the counter (so modulo 64:
    /// a gap of a multiple of 64 words cannot be seen).
    Lost(u32),
    /// Bytes dropped to re-align on word boundaries.
    Skipped(usize),
}

#[derive(Debug, Default)]
pub struct WordStream {
    pending: Vec<u8>,
    expected: Option<u8>,
}

impl WordStream {
    /// Takes the next bytes read; emits what they complete. Bytes after a
    /// counter break wait until [`CONFIRM_WORDS`] words can be checked.
    pub fn push(&mut self, bytes: &[u8], mut emit: impl FnMut(Event)) -> Result<(), String> {
        self.pending.extend_from_slice(bytes);
        let mut at = 0;
        let result = loop {
            let avail = &self.pending[at..];
            let (Some(word), Some(following)) = (word_at(avail, 0), word_at(avail, 1)) else { break Ok(()) };
            let expected = self.expected == Some(word.counter());
            if expected && following.counter() == next(word.counter()) {
                emit(Event::Word(word));
                self.expected = Some(next(word.counter()));
                at += SampleWord::BYTES;
                continue;
            }
            // The first word, or the counter broke here or right after: look
            // further ahead, for the explanation that loses the fewest words.
            if avail.len() < (CONFIRM_WORDS + 1) * SampleWord::BYTES + 3 {
                break Ok(());
            }
            // The first of 1..=3 byte offsets at which words count up, and that run's first count.
            let shifted = (1..SampleWord::BYTES)
                .find(|&shift| counts_up(&avail[shift..]))
                .and_then(|shift| word_at(&avail[shift..], 0).map(|w| (shift, w.counter())));
            let break_after =
                expected && (0..SampleWord::BYTES).any(|shift| counts_up(&avail[SampleWord::BYTES + shift..]));
            if counts_up(avail) {
                // Whole words were lost before this one (or it is the first).
                if let Some(expected) = self.expected {
                    let lost = (word.counter() + COUNTER_MODULUS - expected) % COUNTER_MODULUS;
                    emit(Event::Lost(u32::from(lost)));
                }
            } else if let Some((shift, _)) = shifted.filter(|&(_, counter)| Some(counter) == self.expected) {
                // Bytes were inserted here: the expected word is `shift` on.
                emit(Event::Skipped(shift));
                at += shift;
                continue;
            } else if break_after {
                // This word is the expected one; the break comes after it.
            } else if let Some((shift, _)) = shifted {
                // Part of a word was lost here.
                emit(Event::Skipped(shift));
                at += shift;
                continue;
            } else {
                let head: Vec<String> =
                    avail[..CONFIRM_WORDS * SampleWord::BYTES].iter().map(|b| format!("{b:02x}")).collect();
                break Err(format!(
                    "the sample counter does not count up at any byte alignment (bytes {}); is this port a PPK2?",
                    head.join(" ")
                ));
            }
            emit(Event::Word(word));
            self.expected = Some(next(word.counter()));
            at += SampleWord::BYTES;
        };
        self.pending.drain(..at);
        result
    }
}

fn next(counter: u8) -> u8 {
    (counter + 1) % COUNTER_MODULUS
}

fn word_at(bytes: &[u8], index: usize) -> Option<SampleWord> {
    let start = index * SampleWord::BYTES;
    let b = bytes.get(start..start + SampleWord::BYTES)?;
    Some(SampleWord::from_le([b[0], b[1], b[2], b[3]]))
}

/// Whether the first [`CONFIRM_WORDS`] words count up by one each.
fn counts_up(bytes: &[u8]) -> bool {
    let counters: Option<Vec<u8>> = (0..CONFIRM_WORDS).map(|k| word_at(bytes, k).map(SampleWord::counter)).collect();
    counters.is_some_and(|c| c.windows(2).all(|pair| pair[1] == next(pair[0])))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Word `k` of a test stream: counter `(first + k) % 64`, ADC = k, D0 = k odd.
    fn word(first: u32, k: u32) -> [u8; 4] {
        (((k & 1) << 24) | (((first + k) % 64) << 18) | (1 << 14) | k).to_le_bytes()
    }

    fn stream(first: u32, words: std::ops::Range<u32>) -> Vec<u8> {
        words.flat_map(|k| word(first, k)).collect()
    }

    fn run(s: &mut WordStream, bytes: &[u8], chunk: usize) -> Result<Vec<Event>, String> {
        let mut events = Vec::new();
        for piece in bytes.chunks(chunk) {
            s.push(piece, |e| events.push(e))?;
        }
        Ok(events)
    }

    fn adcs(events: &[Event]) -> Vec<u32> {
        events.iter().filter_map(|e| if let Event::Word(w) = e { Some(w.adc()) } else { None }).collect()
    }

    #[test]
    fn words_across_reads_of_any_size() {
        let bytes = stream(60, 0..100);
        for chunk in [1, 3, 4, 7, 64, 4096] {
            let events = run(&mut WordStream::default(), &bytes, chunk).unwrap();
            // The last word waits for the next.
            assert_eq!(adcs(&events), (0..99).collect::<Vec<_>>(), "chunk {chunk}");
            assert!(events.iter().all(|e| matches!(e, Event::Word(_))));
        }
    }

    #[test]
    fn a_counter_gap_is_reported_with_its_size() {
        // Words 40..45 lost (counter 40 expected, 45 arrives).
        let mut bytes = stream(0, 0..40);
        bytes.extend(stream(0, 45..100));
        let events = run(&mut WordStream::default(), &bytes, 13).unwrap();
        assert_eq!(events[40], Event::Lost(5));
        assert_eq!(adcs(&events), (0..40).chain(45..99).collect::<Vec<_>>());
    }

    #[test]
    fn a_partial_word_is_skipped_and_counted_as_lost() {
        // Two bytes of word 30 lost: re-align by 2, then word 30 counts as lost.
        let mut bytes = stream(5, 0..30);
        bytes.extend(&word(5, 30)[..2]);
        bytes.extend(stream(5, 31..80));
        let events = run(&mut WordStream::default(), &bytes, 64).unwrap();
        assert_eq!(&events[30..32], [Event::Skipped(2), Event::Lost(1)]);
        assert_eq!(adcs(&events), (0..30).chain(31..79).collect::<Vec<_>>());
        // A stream that starts mid-word (a leftover byte) aligns from the start.
        let mut bytes = vec![0xEE];
        bytes.extend(stream(0, 0..20));
        let events = run(&mut WordStream::default(), &bytes, 5).unwrap();
        assert_eq!(events[0], Event::Skipped(1));
        assert_eq!(adcs(&events), (0..19).collect::<Vec<_>>());
    }

    #[test]
    fn inserted_bytes_whose_count_matches_by_chance_are_skipped() {
        // Three bytes after word 29 of a stream whose counter equals the
        // word's index: 00 00 78 + the first byte of word 30 read as a word
        // has count 0x78 >> 2 = 30, the expected one.
        let mut bytes = stream(0, 0..30);
        bytes.extend([0x00, 0x00, 30 << 2]);
        bytes.extend(stream(0, 30..80));
        let events = run(&mut WordStream::default(), &bytes, 64).unwrap();
        assert_eq!(events[30], Event::Skipped(3));
        assert!(!events.iter().any(|e| matches!(e, Event::Lost(_))), "{events:?}");
        assert_eq!(adcs(&events), (0..79).collect::<Vec<_>>());
        // Bytes whose count does not match: the same.
        let mut bytes = stream(0, 0..30);
        bytes.extend([0xAA, 0xBB, 0xCC]);
        bytes.extend(stream(0, 30..80));
        let events = run(&mut WordStream::default(), &bytes, 7).unwrap();
        assert_eq!(events[30], Event::Skipped(3));
        assert_eq!(adcs(&events), (0..79).collect::<Vec<_>>());
    }

    #[test]
    fn bytes_that_never_count_up_are_refused() {
        let text = b"this is not a stream of PPK2 samples at all, no";
        let err = run(&mut WordStream::default(), text, 64).unwrap_err();
        assert!(err.contains("any byte alignment"), "{err}");
    }
}
