//! Fixed point: Q15 and Q31 multiply with rounding and saturation, a Q15 FIR
//! filter, and DSP instructions (SMLAD, QADD, SSAT, SADD16 + SEL) through
//! inline assembly. Expected values are the same as in fixed_point.c.
#![no_std]
#![no_main]

use core::arch::asm;
use core::hint::black_box;

use cortex_m_rt::entry;
use tinybench_test_programs::{check_eq, finish};

const N: usize = 64;
const TAPS: [i16; 8] = [1000, -2000, 3000, 12000, 12000, 3000, -2000, 1000];

fn sat16(x: i32) -> i16 {
    x.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16
}

fn q15_mul(a: i16, b: i16) -> i16 {
    sat16((i32::from(a) * i32::from(b) + (1 << 14)) >> 15)
}

fn q31_mul(a: i32, b: i32) -> i32 {
    ((i64::from(a) * i64::from(b)) >> 31) as i32
}

fn pack(p: &[i16]) -> u32 {
    u32::from(p[0] as u16) | u32::from(p[1] as u16) << 16
}

fn smlad(a: u32, b: u32, acc: i32) -> i32 {
    let out: i32;
    // SAFETY: SMLAD only reads and writes the registers named here.
    unsafe {
        asm!("smlad {out}, {a}, {b}, {acc}", out = lateout(reg) out, a = in(reg) a, b = in(reg) b, acc = in(reg) acc, options(pure, nomem, nostack))
    };
    out
}

fn qadd(a: i32, b: i32) -> i32 {
    let out: i32;
    // SAFETY: QADD only reads and writes the registers named here (and the Q flag).
    unsafe {
        asm!("qadd {out}, {a}, {b}", out = lateout(reg) out, a = in(reg) a, b = in(reg) b, options(pure, nomem, nostack))
    };
    out
}

fn ssat16_bits(a: i32) -> i32 {
    let out: i32;
    // SAFETY: SSAT only reads and writes the registers named here (and the Q flag).
    unsafe { asm!("ssat {out}, #16, {a}", out = lateout(reg) out, a = in(reg) a, options(pure, nomem, nostack)) };
    out
}

/// SADD16 (sets GE per halfword where the sum is >= 0), then SEL picks
/// halfwords from `x` where GE is set and from `y` elsewhere.
fn sadd16_sel(a: u32, b: u32, x: u32, y: u32) -> (u32, u32) {
    let (sum, picked): (u32, u32);
    // SAFETY: SADD16 and SEL only read and write the registers named here (and the GE flags).
    unsafe {
        asm!(
            "sadd16 {sum}, {a}, {b}",
            "sel {picked}, {x}, {y}",
            sum = out(reg) sum, picked = lateout(reg) picked,
            a = in(reg) a, b = in(reg) b, x = in(reg) x, y = in(reg) y,
            options(pure, nomem, nostack),
        )
    };
    (sum, picked)
}

#[entry]
fn main() -> ! {
    let mut xs = [0i16; N];
    let mut ys = [0i16; N];
    for i in 0..N as i32 {
        xs[i as usize] = ((i * 1237 + 11) % 65536 - 32768) as i16;
        ys[i as usize] = ((i * 4099 + 7) % 65536 - 32768) as i16;
    }
    let (xs, ys) = black_box((xs, ys));

    let min = black_box(i16::MIN);
    check_eq!(q15_mul(min, min), 32767);
    check_eq!(q15_mul(16384, black_box(16384)), 8192);
    check_eq!(q15_mul(-16384, black_box(16384)), -8192);
    check_eq!(q15_mul(12345, black_box(-23456)), -8837);
    check_eq!(q31_mul(0x4000_0000, black_box(0x4000_0000)), 0x2000_0000);
    check_eq!(q31_mul(-1_518_500_250, black_box(1_518_500_250)), -1_073_741_825);
    check_eq!(q31_mul(123_456_789, black_box(-987_654_321)), -56_779_306);

    let dot: i64 = xs.iter().zip(&ys).map(|(&x, &y)| i64::from(x) * i64::from(y)).sum();
    check_eq!(dot, 162_338_656);
    let dot_smlad = (0..N).step_by(2).fold(0, |acc, i| smlad(pack(&xs[i..]), pack(&ys[i..]), acc));
    check_eq!(dot_smlad, 162_338_656);

    let fir: [i16; N - 7] = core::array::from_fn(|n| {
        let acc: i32 = TAPS.iter().zip(&xs[n..]).map(|(&t, &x)| i32::from(t) * i32::from(x)).sum();
        sat16((acc + (1 << 14)) >> 15)
    });
    check_eq!(fir[0], -24291);
    check_eq!(fir.iter().map(|&y| i32::from(y)).sum::<i32>(), -117_615);

    let (big, m5, hundred_k) = black_box((0x7FFF_FFF0i32, -5i32, 100_000i32));
    check_eq!(qadd(big, 0x100), i32::MAX);
    check_eq!(qadd(-big, -0x100), i32::MIN);
    check_eq!(big.saturating_add(0x100), i32::MAX);
    check_eq!(ssat16_bits(hundred_k), 32767);
    check_eq!(ssat16_bits(-hundred_k), -32768);
    check_eq!(ssat16_bits(m5), -5);
    let (sum, picked) = sadd16_sel(black_box(0x0005_FFF0), 0x0003_0001, 0xAAAA_BBBB, 0xCCCC_DDDD);
    check_eq!(sum, 0x0008_FFF1);
    check_eq!(picked, 0xAAAA_DDDD);
    finish("fixed_point")
}
