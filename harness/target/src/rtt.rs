//! Host side of SEGGER RTT: finds the control block in target RAM and drains
//! the up (target -> host) ring buffers, the way a debug probe does.
//!
//! Control block layout (32-bit target, little-endian):
//!
//! ```text
//! +0   char  id[16]            "SEGGER RTT\0\0\0\0\0\0" (written last by the firmware)
//! +16  u32   max_up_buffers
//! +20  u32   max_down_buffers
//! +24  up[max_up_buffers]      24 bytes each, then down[...] likewise:
//!        +0  u32 name         pointer to a NUL-terminated name (may be 0)
//!        +4  u32 buffer       pointer to the ring buffer
//!        +8  u32 size         ring buffer size in bytes
//!        +12 u32 write_offset advanced by the target
//!        +16 u32 read_offset  advanced by the host
//!        +20 u32 flags        mode (skip / trim / block if full)
//! ```
//!
//! Bytes between `read_offset` and `write_offset` (wrapping at `size`) are
//! unread; after copying them the host writes `read_offset = write_offset`.

use crate::{MemoryAccess, TargetError};

/// What marks an initialized control block.
pub const RTT_ID: &[u8; 16] = b"SEGGER RTT\0\0\0\0\0\0";
const HEADER_BYTES: u32 = 24;
const DESCRIPTOR_BYTES: u32 = 24;
/// More up buffers than this means we are not looking at a control block.
const MAX_PLAUSIBLE_BUFFERS: u32 = 32;
const MAX_NAME_BYTES: usize = 64;

/// A control block or buffer descriptor holds values no firmware would write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RttError {
    #[error(
        "control block at {address:#010x} claims {count} up buffers; the firmware overwrote it or the address is wrong"
    )]
    ImplausibleBufferCount { address: u32, count: u32 },
    #[error(
        "up buffer {channel} is corrupt (size {size}, write offset {write}, read offset {read}); \
         the firmware overwrote its RTT buffers"
    )]
    CorruptBuffer { channel: usize, size: u32, write: u32, read: u32 },
    #[error("up channel {channel} does not exist (the control block has {count})")]
    NoSuchChannel { channel: usize, count: usize },
}

/// One up (target -> host) channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpChannel {
    pub index: usize,
    pub name: String,
    /// Address of this channel's 24-byte descriptor.
    descriptor: u32,
    buffer: u32,
    size: u32,
}

/// An attached RTT control block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rtt {
    pub address: u32,
    up: Vec<UpChannel>,
}

impl Rtt {
    /// Attaches to the control block at `address` (the `_SEGGER_RTT` symbol).
    /// Returns `Ok(None)` while the firmware has not initialized it yet.
    pub fn attach(mem: &mut dyn MemoryAccess, address: u32) -> Result<Option<Rtt>, TargetError> {
        let mut id = [0u8; 16];
        mem.read(address, &mut id)?;
        if &id != RTT_ID {
            return Ok(None);
        }
        let max_up = mem.read_u32(address + 16)?;
        if max_up > MAX_PLAUSIBLE_BUFFERS {
            return Err(RttError::ImplausibleBufferCount { address, count: max_up }.into());
        }
        let mut up = Vec::with_capacity(max_up as usize);
        for index in 0..max_up {
            let descriptor = address + HEADER_BYTES + index * DESCRIPTOR_BYTES;
            let name_ptr = mem.read_u32(descriptor)?;
            let buffer = mem.read_u32(descriptor + 4)?;
            let size = mem.read_u32(descriptor + 8)?;
            let name = if name_ptr == 0 { String::new() } else { read_c_string(mem, name_ptr)? };
            up.push(UpChannel { index: index as usize, name, descriptor, buffer, size });
        }
        Ok(Some(Rtt { address, up }))
    }

    /// The up channels, in index order.
    pub fn up_channels(&self) -> &[UpChannel] {
        &self.up
    }

    /// Copies all unread bytes of up channel `channel` into `out`, marks them
    /// read, and returns how many there were.
    pub fn read_up(&self, mem: &mut dyn MemoryAccess, channel: usize, out: &mut Vec<u8>) -> Result<usize, TargetError> {
        let ch = self.up.get(channel).ok_or(RttError::NoSuchChannel { channel, count: self.up.len() })?;
        if ch.size == 0 {
            return Ok(0);
        }
        let write = mem.read_u32(ch.descriptor + 12)?;
        let read = mem.read_u32(ch.descriptor + 16)?;
        if write >= ch.size || read >= ch.size {
            return Err(RttError::CorruptBuffer { channel, size: ch.size, write, read }.into());
        }
        if write == read {
            return Ok(0);
        }
        let start = out.len();
        if write > read {
            copy(mem, ch.buffer + read, (write - read) as usize, out)?;
        } else {
            // Wrapped: tail of the ring, then its head.
            copy(mem, ch.buffer + read, (ch.size - read) as usize, out)?;
            copy(mem, ch.buffer, write as usize, out)?;
        }
        mem.write(ch.descriptor + 16, &write.to_le_bytes())?;
        Ok(out.len() - start)
    }
}

fn copy(mem: &mut dyn MemoryAccess, address: u32, len: usize, out: &mut Vec<u8>) -> Result<(), TargetError> {
    let start = out.len();
    out.resize(start + len, 0);
    mem.read(address, &mut out[start..])
}

fn read_c_string(mem: &mut dyn MemoryAccess, address: u32) -> Result<String, TargetError> {
    let mut bytes = Vec::new();
    for i in 0..MAX_NAME_BYTES as u32 {
        let mut b = [0u8];
        mem.read(address + i, &mut b)?;
        if b[0] == 0 {
            break;
        }
        bytes.push(b[0]);
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A flat RAM at 0x2000_0000 for building control blocks by hand.
    struct FakeRam {
        base: u32,
        bytes: Vec<u8>,
    }

    impl FakeRam {
        fn new() -> Self {
            FakeRam { base: 0x2000_0000, bytes: vec![0; 0x1000] }
        }
        fn put(&mut self, address: u32, data: &[u8]) {
            let at = (address - self.base) as usize;
            self.bytes[at..at + data.len()].copy_from_slice(data);
        }
        fn put_u32(&mut self, address: u32, v: u32) {
            self.put(address, &v.to_le_bytes());
        }
    }

    impl MemoryAccess for FakeRam {
        fn read(&mut self, address: u32, buf: &mut [u8]) -> Result<(), TargetError> {
            let at = address.checked_sub(self.base).map(|a| a as usize).filter(|a| a + buf.len() <= self.bytes.len());
            let at = at.ok_or(TargetError::Memory { address, len: buf.len(), reason: "unmapped".into() })?;
            buf.copy_from_slice(&self.bytes[at..at + buf.len()]);
            Ok(())
        }
        fn write(&mut self, address: u32, data: &[u8]) -> Result<(), TargetError> {
            self.put(address, data);
            Ok(())
        }
    }

    const CB: u32 = 0x2000_0000;
    const NAME0: u32 = 0x2000_0100;
    const BUF0: u32 = 0x2000_0200;

    /// Control block with two up channels, "defmt" (16-byte ring at BUF0) and
    /// "tinybench-results" (8-byte ring right after it).
    fn control_block() -> FakeRam {
        let mut ram = FakeRam::new();
        ram.put(CB, RTT_ID); // +0  id
        ram.put_u32(CB + 16, 2); // +16 max_up_buffers
        ram.put_u32(CB + 20, 1); // +20 max_down_buffers
        // up[0] at +24
        ram.put_u32(CB + 24, NAME0); // name -> "defmt"
        ram.put_u32(CB + 28, BUF0); // buffer
        ram.put_u32(CB + 32, 16); // size
        // up[1] at +48
        ram.put_u32(CB + 48, NAME0 + 8); // name -> "tinybench-results"
        ram.put_u32(CB + 52, BUF0 + 16); // buffer
        ram.put_u32(CB + 56, 8); // size
        ram.put(NAME0, b"defmt\0");
        ram.put(NAME0 + 8, b"tinybench-results\0");
        ram
    }

    #[test]
    fn uninitialized_block_is_not_attached() {
        let mut ram = FakeRam::new();
        assert_eq!(Rtt::attach(&mut ram, CB).unwrap(), None);
    }

    #[test]
    fn attach_reads_channel_names() {
        let mut ram = control_block();
        let rtt = Rtt::attach(&mut ram, CB).unwrap().unwrap();
        let names: Vec<&str> = rtt.up_channels().iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["defmt", "tinybench-results"]);
    }

    #[test]
    fn reads_contiguous_bytes_and_advances_read_offset() {
        let mut ram = control_block();
        ram.put(BUF0, b"hello");
        ram.put_u32(CB + 24 + 12, 5); // write_offset = 5
        let rtt = Rtt::attach(&mut ram, CB).unwrap().unwrap();
        let mut out = Vec::new();
        assert_eq!(rtt.read_up(&mut ram, 0, &mut out).unwrap(), 5);
        assert_eq!(out, b"hello");
        assert_eq!(ram.read_u32(CB + 24 + 16).unwrap(), 5); // read_offset caught up
        assert_eq!(rtt.read_up(&mut ram, 0, &mut out).unwrap(), 0);
    }

    #[test]
    fn reads_wrapped_bytes_in_order() {
        let mut ram = control_block();
        // 8-byte ring of channel 1: "fg" at 6..8 then "hij" at 0..3
        ram.put(BUF0 + 16, b"hij___fg");
        ram.put_u32(CB + 48 + 12, 3); // write_offset = 3
        ram.put_u32(CB + 48 + 16, 6); // read_offset = 6
        let rtt = Rtt::attach(&mut ram, CB).unwrap().unwrap();
        let mut out = Vec::new();
        rtt.read_up(&mut ram, 1, &mut out).unwrap();
        assert_eq!(out, b"fghij");
        assert_eq!(ram.read_u32(CB + 48 + 16).unwrap(), 3);
    }

    #[test]
    fn corrupt_offsets_are_an_error() {
        let mut ram = control_block();
        ram.put_u32(CB + 24 + 12, 99); // write_offset past the 16-byte ring
        let rtt = Rtt::attach(&mut ram, CB).unwrap().unwrap();
        let err = rtt.read_up(&mut ram, 0, &mut Vec::new()).unwrap_err();
        assert!(matches!(err, TargetError::Rtt(RttError::CorruptBuffer { channel: 0, size: 16, write: 99, .. })));
    }

    #[test]
    fn implausible_buffer_count_is_an_error() {
        let mut ram = control_block();
        ram.put_u32(CB + 16, 0xFFFF_FFFF);
        assert!(matches!(
            Rtt::attach(&mut ram, CB),
            Err(TargetError::Rtt(RttError::ImplausibleBufferCount { count: 0xFFFF_FFFF, .. }))
        ));
    }

    #[test]
    fn missing_channel_is_an_error() {
        let mut ram = control_block();
        let rtt = Rtt::attach(&mut ram, CB).unwrap().unwrap();
        assert!(rtt.read_up(&mut ram, 5, &mut Vec::new()).is_err());
    }
}
