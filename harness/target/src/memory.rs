/// Debugger-style access to a target's memory: what an RTT reader needs.
///
/// The simulator implements it over its memory map; the probe-rs backend will
/// implement it over a probe's memory interface.
pub trait MemoryAccess {
    /// Reads `buf.len()` bytes at `address`.
    fn read(&mut self, address: u32, buf: &mut [u8]) -> Result<(), crate::TargetError>;
    /// Writes `data` at `address`.
    fn write(&mut self, address: u32, data: &[u8]) -> Result<(), crate::TargetError>;

    /// Reads a little-endian word.
    fn read_u32(&mut self, address: u32) -> Result<u32, crate::TargetError> {
        let mut b = [0; 4];
        self.read(address, &mut b)?;
        Ok(u32::from_le_bytes(b))
    }
}
