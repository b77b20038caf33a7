//! ARMv7E-M DSP instructions the `simd` kernel set is built from: on ARM
//! through `asm!`, everywhere else as plain Rust with the architecture's
//! exact semantics (ARM ARM v7-M, A7.7), so host tests run the same
//! algorithm the firmware does.
//!
//! A 32-bit register holds two signed 16-bit halves: "bottom" (bits 0..16)
//! and "top" (bits 16..32). ARM builds of this crate assume the DSP
//! extension (Cortex-M4/M7, `thumbv7em`), the only ARM target it serves.

#[cfg(target_arch = "arm")]
use core::arch::asm;

/// Both halves set to `value` (truncated to 16 bits): the offset operand of [`sxtab16`].
#[inline(always)]
pub const fn pair(value: i32) -> u32 {
    let half = value as u16 as u32;
    half | (half << 16)
}

/// `SXTB16 rd, rm`: bytes 0 and 2 of `x`, sign-extended to the bottom and top halves.
#[inline(always)]
pub fn sxtb16(x: u32) -> u32 {
    #[cfg(target_arch = "arm")]
    {
        let r: u32;
        // SAFETY: register-only ALU instruction of ARMv7E-M (the firmware target); no memory, stack or flags.
        unsafe {
            asm!("sxtb16 {r}, {x}", r = lateout(reg) r, x = in(reg) x, options(pure, nomem, nostack, preserves_flags))
        };
        r
    }
    #[cfg(not(target_arch = "arm"))]
    {
        let bottom = (x as u8 as i8) as i16 as u16 as u32;
        let top = ((x >> 16) as u8 as i8) as i16 as u16 as u32;
        bottom | (top << 16)
    }
}

/// `SXTB16 rd, rm, ROR #8`: bytes 1 and 3 of `x`, sign-extended to the bottom and top halves.
#[inline(always)]
pub fn sxtb16_ror8(x: u32) -> u32 {
    #[cfg(target_arch = "arm")]
    {
        let r: u32;
        // SAFETY: register-only ALU instruction of ARMv7E-M (the firmware target); no memory, stack or flags.
        unsafe {
            asm!("sxtb16 {r}, {x}, ror #8", r = lateout(reg) r, x = in(reg) x, options(pure, nomem, nostack, preserves_flags))
        };
        r
    }
    #[cfg(not(target_arch = "arm"))]
    {
        sxtb16(x.rotate_right(8))
    }
}

/// `SXTAB16 rd, rn, rm`: `rn` plus bytes 0 and 2 of `x` sign-extended, per half, wrapping.
#[inline(always)]
pub fn sxtab16(rn: u32, x: u32) -> u32 {
    #[cfg(target_arch = "arm")]
    {
        let r: u32;
        // SAFETY: register-only ALU instruction of ARMv7E-M (the firmware target); no memory, stack or flags.
        unsafe {
            asm!("sxtab16 {r}, {n}, {x}", r = lateout(reg) r, n = in(reg) rn, x = in(reg) x, options(pure, nomem, nostack, preserves_flags))
        };
        r
    }
    #[cfg(not(target_arch = "arm"))]
    {
        add16(rn, sxtb16(x))
    }
}

/// `SXTAB16 rd, rn, rm, ROR #8`: `rn` plus bytes 1 and 3 of `x` sign-extended, per half, wrapping.
#[inline(always)]
pub fn sxtab16_ror8(rn: u32, x: u32) -> u32 {
    #[cfg(target_arch = "arm")]
    {
        let r: u32;
        // SAFETY: register-only ALU instruction of ARMv7E-M (the firmware target); no memory, stack or flags.
        unsafe {
            asm!("sxtab16 {r}, {n}, {x}, ror #8", r = lateout(reg) r, n = in(reg) rn, x = in(reg) x, options(pure, nomem, nostack, preserves_flags))
        };
        r
    }
    #[cfg(not(target_arch = "arm"))]
    {
        add16(rn, sxtb16(x.rotate_right(8)))
    }
}

/// Per-half wrapping add (the host model of SXTAB16's addition).
#[cfg(not(target_arch = "arm"))]
#[inline(always)]
fn add16(a: u32, b: u32) -> u32 {
    let bottom = (a as u16).wrapping_add(b as u16) as u32;
    let top = ((a >> 16) as u16).wrapping_add((b >> 16) as u16) as u32;
    bottom | (top << 16)
}

#[cfg(not(target_arch = "arm"))]
#[inline(always)]
fn bottom(x: u32) -> i32 {
    i32::from(x as u16 as i16)
}

#[cfg(not(target_arch = "arm"))]
#[inline(always)]
fn top(x: u32) -> i32 {
    i32::from((x >> 16) as u16 as i16)
}

/// `SMLAD rd, rn, rm, ra`: `acc + bottom(a)·bottom(b) + top(a)·top(b)`, the
/// 32-bit sum wrapping (the hardware sets the Q flag on overflow and keeps
/// the low 32 bits, as the reference's `wrapping_add` does).
#[inline(always)]
pub fn smlad(a: u32, b: u32, acc: i32) -> i32 {
    #[cfg(target_arch = "arm")]
    {
        let r: i32;
        // SAFETY: register-only multiply-accumulate of ARMv7E-M; touches no memory or stack (may set Q, which nothing reads).
        unsafe {
            asm!("smlad {r}, {a}, {b}, {acc}", r = lateout(reg) r, a = in(reg) a, b = in(reg) b, acc = in(reg) acc, options(pure, nomem, nostack))
        };
        r
    }
    #[cfg(not(target_arch = "arm"))]
    {
        // Each product fits i32 (|16-bit × 16-bit| ≤ 2^30); the sums wrap like the hardware's.
        acc.wrapping_add(bottom(a) * bottom(b)).wrapping_add(top(a) * top(b))
    }
}

/// `SMLABB rd, rn, rm, ra`: `acc + bottom(a)·bottom(b)`, wrapping.
#[inline(always)]
pub fn smlabb(a: u32, b: u32, acc: i32) -> i32 {
    #[cfg(target_arch = "arm")]
    {
        let r: i32;
        // SAFETY: register-only multiply-accumulate of ARMv7E-M; touches no memory or stack (may set Q, which nothing reads).
        unsafe {
            asm!("smlabb {r}, {a}, {b}, {acc}", r = lateout(reg) r, a = in(reg) a, b = in(reg) b, acc = in(reg) acc, options(pure, nomem, nostack))
        };
        r
    }
    #[cfg(not(target_arch = "arm"))]
    {
        acc.wrapping_add(bottom(a) * bottom(b))
    }
}

/// `SMLATT rd, rn, rm, ra`: `acc + top(a)·top(b)`, wrapping.
#[inline(always)]
pub fn smlatt(a: u32, b: u32, acc: i32) -> i32 {
    #[cfg(target_arch = "arm")]
    {
        let r: i32;
        // SAFETY: register-only multiply-accumulate of ARMv7E-M; touches no memory or stack (may set Q, which nothing reads).
        unsafe {
            asm!("smlatt {r}, {a}, {b}, {acc}", r = lateout(reg) r, a = in(reg) a, b = in(reg) b, acc = in(reg) acc, options(pure, nomem, nostack))
        };
        r
    }
    #[cfg(not(target_arch = "arm"))]
    {
        acc.wrapping_add(top(a) * top(b))
    }
}

/// Four int8 values as one little-endian word (an unaligned `LDR` on ARMv7-M).
#[inline(always)]
pub fn load4(bytes: &[i8], at: usize) -> u32 {
    let b = &bytes[at..at + 4];
    u32::from_le_bytes([b[0] as u8, b[1] as u8, b[2] as u8, b[3] as u8])
}

/// Whether an offset keeps `int8 + offset` within a signed 16-bit half.
#[inline(always)]
pub const fn fits_half(offset: i32) -> bool {
    offset >= -128 && offset <= 128
}

/// `Σ (x[i] + x_offset) · (w[i] + w_offset)` over equal-length slices, four
/// pairs per step: SXTAB16 (+ROR 8) widens and offsets the even and odd
/// bytes, two SMLADs accumulate them. Both offsets must satisfy
/// [`fits_half`] (TFLite int8 zero points always do). The 32-bit sum wraps,
/// exactly like the reference's `wrapping_add` loop.
///
/// Not `#[inline]`: it is compiled into this crate's object code (so it can
/// be disassembled on its own), and the firmware's fat LTO inlines it anyway.
pub fn dot(x: &[i8], w: &[i8], x_offset: i32, w_offset: i32, mut acc: i32) -> i32 {
    debug_assert!(x.len() == w.len() && fits_half(x_offset) && fits_half(w_offset));
    let (xo, wo) = (pair(x_offset), pair(w_offset));
    let n = x.len().min(w.len());
    // Whole 4-byte groups (one word load each, no bounds checks), then the tail.
    let (xq, _) = x[..n].as_chunks::<4>();
    let (wq, _) = w[..n].as_chunks::<4>();
    let word = |b: &[i8; 4]| u32::from_le_bytes(b.map(|v| v as u8));
    if w_offset == 0 {
        for (xc, wc) in xq.iter().zip(wq) {
            let (xw, ww) = (word(xc), word(wc));
            acc = smlad(sxtab16(xo, xw), sxtb16(ww), acc);
            acc = smlad(sxtab16_ror8(xo, xw), sxtb16_ror8(ww), acc);
        }
    } else {
        for (xc, wc) in xq.iter().zip(wq) {
            let (xw, ww) = (word(xc), word(wc));
            acc = smlad(sxtab16(xo, xw), sxtab16(wo, ww), acc);
            acc = smlad(sxtab16_ror8(xo, xw), sxtab16_ror8(wo, ww), acc);
        }
    }
    for i in xq.len() * 4..n {
        acc = acc.wrapping_add((i32::from(w[i]) + w_offset) * (i32::from(x[i]) + x_offset));
    }
    acc
}

/// One filter row of a depthwise convolution for four channels: for `n`
/// taps, the input word at `input[start + i * step]` (channels c..c+4 of one
/// pixel) is widened with `offset` (SXTAB16, even and odd bytes) and
/// multiplied into `acc` with the tap's pre-widened weights
/// `weights[2 * i]` (channels c, c+2) and `weights[2 * i + 1]` (c+1, c+3):
/// `acc = [c, c+1, c+2, c+3]`, SMLABB/SMLATT, sums wrapping like the
/// reference's. On ARM a hand-scheduled loop (about 15 cycles a tap on the
/// Cortex-M4 model); elsewhere the same steps on the portable models.
///
/// # Panics
/// If `n > 0` and the last input word or weight pair lies outside the slices.
#[inline]
pub fn depthwise_row(
    acc: &mut [i32; 4],
    input: &[i8],
    start: usize,
    step: usize,
    n: usize,
    weights: &[u32],
    offset: u32,
) {
    if n == 0 {
        return;
    }
    assert!(start + (n - 1) * step + 4 <= input.len() && 2 * n <= weights.len(), "depthwise_row: out of range");
    #[cfg(target_arch = "arm")]
    {
        let [mut a0, mut a1, mut a2, mut a3] = *acc;
        // SAFETY: reads the n input words at `start + i * step` (the last
        // one's 4 bytes inside `input`, asserted above; LDR on ARMv7-M allows
        // unaligned words) and the 2n weight words (inside `weights`,
        // asserted above); no stores, no stack.
        unsafe {
            asm!(
                "2:",
                "ldr {x}, [{input}]",
                "ldr {we}, [{w}], #4",
                "ldr {wo}, [{w}], #4",
                "add {input}, {input}, {step}",
                "sxtab16 {xe}, {off}, {x}",
                "sxtab16 {x}, {off}, {x}, ror #8",
                "smlabb {a0}, {xe}, {we}, {a0}",
                "smlabb {a1}, {x}, {wo}, {a1}",
                "smlatt {a2}, {xe}, {we}, {a2}",
                "smlatt {a3}, {x}, {wo}, {a3}",
                "subs {n}, {n}, #1",
                "bne 2b",
                input = inout(reg) input.as_ptr().wrapping_add(start) => _,
                w = inout(reg) weights.as_ptr() => _,
                n = inout(reg) n => _,
                step = in(reg) step,
                off = in(reg) offset,
                x = out(reg) _,
                xe = out(reg) _,
                we = out(reg) _,
                wo = out(reg) _,
                a0 = inout(reg) a0,
                a1 = inout(reg) a1,
                a2 = inout(reg) a2,
                a3 = inout(reg) a3,
                options(nostack, readonly),
            )
        };
        *acc = [a0, a1, a2, a3];
    }
    #[cfg(not(target_arch = "arm"))]
    {
        for i in 0..n {
            let xw = load4(input, start + i * step);
            let (xe, xo) = (sxtab16(offset, xw), sxtab16_ror8(offset, xw));
            let (we, wo) = (weights[2 * i], weights[2 * i + 1]);
            acc[0] = smlabb(xe, we, acc[0]);
            acc[1] = smlabb(xo, wo, acc[1]);
            acc[2] = smlatt(xe, we, acc[2]);
            acc[3] = smlatt(xo, wo, acc[3]);
        }
    }
}

/// Words of widened operands one [`block_4x2`] step consumes per position or
/// channel: 4 k-pairs (8 reduction values) per loop iteration.
pub const BLOCK_PAIRS: usize = 4;

/// The register-blocked GEMM step of the `simd` CONV_2D / FULLY_CONNECTED:
/// 4 output positions × 2 output channels, all 8 accumulators in registers.
///
/// Operands are *pre-widened* words, each two signed 16-bit values of
/// consecutive reduction slots (see [`crate::gemm`] for the slot order):
/// `x` holds, per k-pair `j`, the words of positions 0..4 at `4j..4j + 4`;
/// `w` the words of channels 0, 1 at `2j, 2j + 1`. Per k-pair the loop loads
/// 2 weight and 4 input words and issues 8 SMLADs (16 MACs): every input
/// word feeds two SMLADs, every weight word four. Returns
/// `[p0c0, p0c1, p1c0, p1c1, p2c0, p2c1, p3c0, p3c1]`, sums wrapping in 32
/// bits like the reference's.
///
/// # Panics
/// Unless `w.len()` is a non-zero multiple of `2 * BLOCK_PAIRS` and `x.len() == 2 * w.len()`.
///
/// Never inlined: one call per 16 MACs × the reduction length costs little,
/// and the loop stays a function of its own in `tinybench sim --profile`.
#[inline(never)]
pub fn block_4x2(x: &[u32], w: &[u32]) -> [i32; 8] {
    assert!(w.len().is_multiple_of(2 * BLOCK_PAIRS) && !w.is_empty() && x.len() == 2 * w.len());
    #[cfg(target_arch = "arm")]
    {
        // The loop end (one past w's last word) rides in r0 until it is pushed.
        let mut a0 = w.as_ptr_range().end as u32;
        let (mut a1, mut a2, mut a3) = (0i32, 0i32, 0i32);
        let (a4, a5, a8, a9): (i32, i32, i32, i32);
        // SAFETY: reads `w` (r10 walks it to its end, checked above) and `x`
        // (r11, twice w's length, checked above) only; r6/r7 (not allocatable
        // in Rust asm) are saved and restored around the loop, and the one
        // word pushed for the loop end is popped before the block ends.
        unsafe {
            asm!(
            "push {{r0, r6, r7}}",
            "movs r0, #0",
            "movs r4, #0",
            "movs r5, #0",
            "mov r8, r0",
            "mov r9, r0",
            "2:",
            "ldr r12, [r10, #8]",
            "ldr lr, [r10, #12]",
            "ldr r6, [r11, #16]",
            "ldr r7, [r11, #20]",
            "smlad r0, r6, r12, r0",
            "smlad r1, r6, lr, r1",
            "smlad r2, r7, r12, r2",
            "smlad r3, r7, lr, r3",
            "ldr r6, [r11, #24]",
            "ldr r7, [r11, #28]",
            "smlad r4, r6, r12, r4",
            "smlad r5, r6, lr, r5",
            "smlad r8, r7, r12, r8",
            "smlad r9, r7, lr, r9",
            "ldr r12, [r10, #16]",
            "ldr lr, [r10, #20]",
            "ldr r6, [r11, #32]",
            "ldr r7, [r11, #36]",
            "smlad r0, r6, r12, r0",
            "smlad r1, r6, lr, r1",
            "smlad r2, r7, r12, r2",
            "smlad r3, r7, lr, r3",
            "ldr r6, [r11, #40]",
            "ldr r7, [r11, #44]",
            "smlad r4, r6, r12, r4",
            "smlad r5, r6, lr, r5",
            "smlad r8, r7, r12, r8",
            "smlad r9, r7, lr, r9",
            "ldr r12, [r10, #24]",
            "ldr lr, [r10, #28]",
            "ldr r6, [r11, #48]",
            "ldr r7, [r11, #52]",
            "smlad r0, r6, r12, r0",
            "smlad r1, r6, lr, r1",
            "smlad r2, r7, r12, r2",
            "smlad r3, r7, lr, r3",
            "ldr r6, [r11, #56]",
            "ldr r7, [r11, #60]",
            "smlad r4, r6, r12, r4",
            "smlad r5, r6, lr, r5",
            "smlad r8, r7, r12, r8",
            "smlad r9, r7, lr, r9",
            // k-pair 0 of the group last: its final loads advance both pointers.
            "ldr lr, [r10, #4]",
            "ldr r12, [r10], #32",
            "ldr r6, [r11, #8]",
            "ldr r7, [r11, #12]",
            "smlad r4, r6, r12, r4",
            "smlad r5, r6, lr, r5",
            "smlad r8, r7, r12, r8",
            "smlad r9, r7, lr, r9",
            "ldr r7, [r11, #4]",
            "ldr r6, [r11], #64",
            "smlad r0, r6, r12, r0",
            "smlad r1, r6, lr, r1",
            "smlad r2, r7, r12, r2",
            "smlad r3, r7, lr, r3",
            "ldr r12, [sp]",
            "cmp r10, r12",
            "bne 2b",
            "add sp, #4",
            "pop {{r6, r7}}",
            inout("r0") a0,
            inout("r1") a1,
            inout("r2") a2,
            inout("r3") a3,
            out("r4") a4,
            out("r5") a5,
            out("r8") a8,
            out("r9") a9,
            inout("r10") w.as_ptr() => _,
            inout("r11") x.as_ptr() => _,
            out("r12") _,
            out("lr") _,
            )
        };
        [a0 as i32, a1, a2, a3, a4, a5, a8, a9]
    }
    #[cfg(not(target_arch = "arm"))]
    {
        let mut acc = [0i32; 8];
        for (xs, ws) in x.chunks_exact(4).zip(w.chunks_exact(2)) {
            for (p, &xw) in xs.iter().enumerate() {
                acc[2 * p] = smlad(xw, ws[0], acc[2 * p]);
                acc[2 * p + 1] = smlad(xw, ws[1], acc[2 * p + 1]);
            }
        }
        acc
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn unpack_known_values() {
        // Bytes (LSB first) 0x81 = -127, 0x02, 0xff = -1, 0x7f = 127.
        let x = 0x7fff_0281;
        // Even bytes: bottom -127 = 0xff81, top -1 = 0xffff.
        assert_eq!(sxtb16(x), 0xffff_ff81);
        // Odd bytes: bottom 2, top 127.
        assert_eq!(sxtb16_ror8(x), 0x007f_0002);
        // Plus 128 in each half: -127 + 128 = 1, -1 + 128 = 127; 2 + 128 = 130, 127 + 128 = 255.
        assert_eq!(sxtab16(pair(128), x), 0x007f_0001);
        assert_eq!(sxtab16_ror8(pair(128), x), 0x00ff_0082);
        assert_eq!(pair(-2), 0xfffe_fffe);
    }

    #[test]
    fn multiply_accumulate_known_values() {
        // (3, -2) · (-4, 5) = -12 - 10 = -22, plus 100.
        let a = pair(3) & 0xffff | (pair(-2) & 0xffff_0000);
        let b = pair(-4) & 0xffff | (pair(5) & 0xffff_0000);
        assert_eq!(smlad(a, b, 100), 78);
        assert_eq!(smlabb(a, b, 100), 88);
        assert_eq!(smlatt(a, b, 100), 90);
        // The sum wraps like the hardware's: i32::MAX + (-32768 · -32768) + 0.
        assert_eq!(smlad(0x8000, 0x8000, i32::MAX), i32::MAX.wrapping_add(1 << 30));
    }

    proptest! {
        #[test]
        fn dot_matches_scalar(
            xs in proptest::collection::vec(any::<i8>(), 0..40),
            seed in any::<u64>(),
            x_offset in -128i32..=128,
            w_offset in prop_oneof![Just(0i32), -128i32..=128],
            acc in any::<i32>(),
        ) {
            let ws: Vec<i8> = (0..xs.len()).map(|i| seed.rotate_left(i as u32 * 7) as i8).collect();
            let expected = xs.iter().zip(&ws).fold(acc, |a, (&x, &w)| {
                a.wrapping_add((i32::from(w) + w_offset) * (i32::from(x) + x_offset))
            });
            prop_assert_eq!(dot(&xs, &ws, x_offset, w_offset, acc), expected);
        }
    }
}
