//! RTT: one `_SEGGER_RTT` control block with two up channels.
//!
//! - channel 0 ("defmt"): defmt log frames, decoded by the host with defmt-decoder;
//! - channel 1 ("tinybench-results"): `tinybench_proto` result frames.
//!
//! defmt-rtt is not used because its control block has exactly one up
//! channel; rtt-target builds a block with both, and its `defmt` feature puts
//! defmt on channel 0, exactly where defmt-rtt would.
//!
//! Both channels block when full rather than drop data: a lost sample or log
//! frame would corrupt the run, and the host (probe or simulator) drains them.

use rtt_target::{ChannelMode, UpChannel};
use tinybench_proto::{LOG_CHANNEL, LOG_CHANNEL_NAME, MAX_FRAME_BYTES, Message, RESULTS_CHANNEL, RESULTS_CHANNEL_NAME};

use crate::error::FwError;

// rtt_init! takes names as literals; keep them equal to the protocol's.
const _: () = assert!(str_eq(LOG_CHANNEL_NAME, "defmt") && LOG_CHANNEL == 0);
const _: () = assert!(str_eq(RESULTS_CHANNEL_NAME, "tinybench-results") && RESULTS_CHANNEL == 1);

pub const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Sets up the control block, routes defmt to channel 0 and returns the
/// results channel. Call once.
pub fn init() -> Results {
    let channels = rtt_target::rtt_init! {
        up: {
            0: {
                size: 1024,
                mode: ChannelMode::BlockIfFull,
                name: "defmt"
            }
            1: {
                size: 1024,
                mode: ChannelMode::BlockIfFull,
                name: "tinybench-results"
            }
        }
    };
    rtt_target::set_defmt_channel(channels.up.0);
    Results { channel: channels.up.1 }
}

/// The results channel: sends one protocol frame per message.
pub struct Results {
    channel: UpChannel,
}

impl Results {
    /// The results channel for the panic handler, if RTT was set up.
    ///
    /// # Safety
    /// Only from the panic handler: nothing else may use channel 1 afterwards
    /// (main never resumes after a panic).
    pub unsafe fn for_panic_handler() -> Option<Results> {
        // SAFETY: the caller guarantees main's `Results` is never used again;
        // conjure returns None if `init` has not run (the block is still zeroed).
        unsafe { UpChannel::conjure(RESULTS_CHANNEL) }.map(|channel| Results { channel })
    }

    pub fn send(&mut self, message: &Message<'_>) -> Result<(), FwError> {
        let mut buf = [0u8; MAX_FRAME_BYTES];
        let frame = tinybench_proto::encode(message, &mut buf).map_err(|_| FwError::FrameTooLarge)?;
        let written = self.channel.write(frame);
        if written != frame.len() {
            return Err(FwError::ResultsChannelShort { written, frame_len: frame.len() });
        }
        Ok(())
    }
}
