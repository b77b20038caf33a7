//! ARM semihosting (`BKPT 0xAB`): r0 = operation, r1 = parameter block (or value).
//! Console output is buffered for [`crate::Simulator::take_semihosting_output`];
//! time calls report *simulated* time so results are deterministic.

use crate::exec::Trap;
use crate::{RegionKind, Simulator, StopReason};

pub const SYS_OPEN: u32 = 0x01;
pub const SYS_CLOSE: u32 = 0x02;
pub const SYS_WRITEC: u32 = 0x03;
pub const SYS_WRITE0: u32 = 0x04;
pub const SYS_WRITE: u32 = 0x05;
pub const SYS_READ: u32 = 0x06;
pub const SYS_ISTTY: u32 = 0x09;
pub const SYS_SEEK: u32 = 0x0A;
pub const SYS_FLEN: u32 = 0x0C;
pub const SYS_CLOCK: u32 = 0x10;
pub const SYS_TIME: u32 = 0x11;
pub const SYS_ERRNO: u32 = 0x13;
pub const SYS_HEAPINFO: u32 = 0x16;
pub const SYS_EXIT: u32 = 0x18;
pub const SYS_EXIT_EXTENDED: u32 = 0x20;
pub const SYS_ELAPSED: u32 = 0x30;
pub const SYS_TICKFREQ: u32 = 0x31;

/// ADP_Stopped_ApplicationExit.
pub const ADP_STOPPED_APPLICATION_EXIT: u32 = 0x20026;

/// Contents of the `:semihosting-features` pseudo-file: magic + EXIT_EXTENDED | STDOUT_STDERR.
const FEATURES: [u8; 5] = [b'S', b'H', b'F', b'B', 0x03];

const ENOENT: u32 = 2;
const EBADF: u32 = 9;
const EINVAL: u32 = 22;

/// Longest string SYS_WRITE0 / SYS_OPEN will read, so a missing terminator can't run away.
const MAX_STRING: u32 = 1 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Handle {
    Stdin,
    Stdout,
    Stderr,
    Features { pos: u32 },
}

#[derive(Default)]
pub(crate) struct Semihosting {
    pub output: Vec<u8>,
    handles: Vec<Option<Handle>>,
    errno: u32,
}

impl Semihosting {
    pub fn reset(&mut self) {
        self.handles.clear();
        self.errno = 0;
    }

    fn get(&mut self, h: u32) -> Option<&mut Handle> {
        self.handles.get_mut((h as usize).wrapping_sub(1)).and_then(|x| x.as_mut())
    }
}

impl Simulator {
    fn arg(&mut self, block: u32, i: u32) -> Result<u32, Trap> {
        self.read(block.wrapping_add(4 * i), 4)
    }

    /// Executes the semihosting call in r0/r1; returns a stop reason for exits.
    pub(crate) fn semihosting(&mut self) -> Result<Option<StopReason>, Trap> {
        let op = self.r[0];
        let p = self.r[1];
        let ret: u32 = match op {
            SYS_EXIT => {
                // On 32-bit targets r1 is the reason code itself, not a block.
                let code = if p == ADP_STOPPED_APPLICATION_EXIT { 0 } else { 1 };
                return Ok(Some(StopReason::Exited { code }));
            }
            SYS_EXIT_EXTENDED => {
                let reason = self.arg(p, 0)?;
                let sub = self.arg(p, 1)?;
                let code = if reason == ADP_STOPPED_APPLICATION_EXIT { sub as i32 } else { 1 };
                return Ok(Some(StopReason::Exited { code }));
            }
            SYS_WRITEC => {
                let c = self.read(p, 1)? as u8;
                self.semihost.output.push(c);
                0
            }
            SYS_WRITE0 => {
                let mut a = p;
                for _ in 0..MAX_STRING {
                    let c = self.read(a, 1)? as u8;
                    if c == 0 {
                        break;
                    }
                    self.semihost.output.push(c);
                    a = a.wrapping_add(1);
                }
                0
            }
            SYS_OPEN => {
                let name_ptr = self.arg(p, 0)?;
                let mode = self.arg(p, 1)?;
                let len = self.arg(p, 2)?.min(MAX_STRING);
                let mut name = Vec::with_capacity(len as usize);
                for k in 0..len {
                    name.push(self.read(name_ptr.wrapping_add(k), 1)? as u8);
                }
                let h = match (name.as_slice(), mode) {
                    (b":tt", 0..=3) => Some(Handle::Stdin),
                    (b":tt", 4..=7) => Some(Handle::Stdout),
                    (b":tt", 8..=11) => Some(Handle::Stderr),
                    (b":semihosting-features", 0..=1) => Some(Handle::Features { pos: 0 }),
                    _ => None,
                };
                match h {
                    Some(h) => {
                        self.semihost.handles.push(Some(h));
                        self.semihost.handles.len() as u32
                    }
                    None => {
                        self.semihost.errno = ENOENT;
                        u32::MAX
                    }
                }
            }
            SYS_CLOSE => {
                let h = self.arg(p, 0)?;
                match self.semihost.handles.get_mut((h as usize).wrapping_sub(1)) {
                    Some(slot @ Some(_)) => {
                        *slot = None;
                        0
                    }
                    _ => {
                        self.semihost.errno = EBADF;
                        u32::MAX
                    }
                }
            }
            SYS_WRITE => {
                let h = self.arg(p, 0)?;
                let buf = self.arg(p, 1)?;
                let len = self.arg(p, 2)?;
                match self.semihost.get(h).copied() {
                    Some(Handle::Stdout | Handle::Stderr) => {
                        for k in 0..len.min(MAX_STRING) {
                            let c = self.read(buf.wrapping_add(k), 1)? as u8;
                            self.semihost.output.push(c);
                        }
                        len - len.min(MAX_STRING)
                    }
                    Some(_) => {
                        self.semihost.errno = EBADF;
                        len
                    }
                    None => {
                        self.semihost.errno = EBADF;
                        u32::MAX
                    }
                }
            }
            SYS_READ => {
                let h = self.arg(p, 0)?;
                let buf = self.arg(p, 1)?;
                let len = self.arg(p, 2)?;
                match self.semihost.get(h).copied() {
                    // stdin is at EOF: nothing read.
                    Some(Handle::Stdin) => len,
                    Some(Handle::Features { pos }) => {
                        let avail = (FEATURES.len() as u32).saturating_sub(pos);
                        let n = avail.min(len);
                        for k in 0..n {
                            self.write(buf.wrapping_add(k), 1, FEATURES[(pos + k) as usize] as u32)?;
                        }
                        if let Some(Handle::Features { pos }) = self.semihost.get(h) {
                            *pos += n;
                        }
                        len - n
                    }
                    _ => {
                        self.semihost.errno = EBADF;
                        u32::MAX
                    }
                }
            }
            SYS_ISTTY => {
                let h = self.arg(p, 0)?;
                match self.semihost.get(h).copied() {
                    Some(Handle::Features { .. }) => 0,
                    Some(_) => 1,
                    None => {
                        self.semihost.errno = EBADF;
                        u32::MAX
                    }
                }
            }
            SYS_SEEK => {
                let h = self.arg(p, 0)?;
                let target = self.arg(p, 1)?;
                match self.semihost.get(h) {
                    Some(Handle::Features { pos }) if target <= FEATURES.len() as u32 => {
                        *pos = target;
                        0
                    }
                    _ => {
                        self.semihost.errno = EINVAL;
                        u32::MAX
                    }
                }
            }
            SYS_FLEN => {
                let h = self.arg(p, 0)?;
                match self.semihost.get(h).copied() {
                    Some(Handle::Features { .. }) => FEATURES.len() as u32,
                    Some(_) => 0,
                    None => {
                        self.semihost.errno = EBADF;
                        u32::MAX
                    }
                }
            }
            SYS_ERRNO => self.semihost.errno,
            SYS_CLOCK => (self.cycles as u128 * 100 / self.clock_hz as u128) as u32,
            SYS_TIME => (self.cycles / self.clock_hz) as u32,
            SYS_ELAPSED => {
                self.write(p, 4, self.cycles as u32)?;
                self.write(p.wrapping_add(4), 4, (self.cycles >> 32) as u32)?;
                0
            }
            SYS_TICKFREQ => self.clock_hz.min(u32::MAX as u64) as u32,
            SYS_HEAPINFO => {
                let [heap_base, heap_limit, stack_base, stack_limit] = self.heap_info();
                let block = self.read(p, 4)?;
                for (i, v) in [heap_base, heap_limit, stack_base, stack_limit].into_iter().enumerate() {
                    self.write(block.wrapping_add(4 * i as u32), 4, v)?;
                }
                0
            }
            _ => {
                self.semihost.errno = EINVAL;
                u32::MAX
            }
        };
        self.r[0] = ret;
        Ok(None)
    }

    /// Heap from the end of .bss (`__sheap` / `__ebss`, else the middle of the RAM
    /// region holding the stack) up to 4 KiB below the initial stack pointer.
    fn heap_info(&self) -> [u32; 4] {
        let sp = self.initial_sp_hint;
        let ram = self
            .mem
            .regions
            .iter()
            .find(|r| {
                r.spec.kind == RegionKind::Ram
                    && sp > r.spec.start
                    && sp as u64 <= r.spec.start as u64 + r.spec.size as u64
            })
            .or_else(|| self.mem.regions.iter().find(|r| r.spec.kind == RegionKind::Ram));
        let Some(ram) = ram else { return [0; 4] };
        let base = self
            .symbols
            .get("__sheap")
            .or_else(|| self.symbols.get("__ebss"))
            .map(|s| s.address)
            .unwrap_or(ram.spec.start + ram.spec.size / 2);
        let stack_base = if sp != 0 { sp } else { ram.spec.start.wrapping_add(ram.spec.size) };
        let limit = stack_base.saturating_sub(4096).max(base);
        [base, limit, stack_base, limit]
    }
}
