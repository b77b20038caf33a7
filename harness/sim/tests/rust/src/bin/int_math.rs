//! Integer arithmetic: 32/64/128-bit multiply and divide (SDIV/UDIV and
//! compiler-builtins' helpers), wrapping, checked and saturating operations,
//! bit operations (CLZ, RBIT, REV), a sieve and a few number-theory loops.
#![no_std]
#![no_main]

use core::hint::black_box;

use cortex_m_rt::entry;
use tinybench_test_programs::{check, check_eq, finish};

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

fn collatz_steps(mut n: u32) -> u32 {
    let mut steps = 0;
    while n != 1 {
        n = if n % 2 == 1 { 3 * n + 1 } else { n / 2 };
        steps += 1;
    }
    steps
}

fn count_primes(below: usize) -> usize {
    let mut composite = [false; 10_000];
    let mut count = 0;
    for i in 2..below {
        if !composite[i] {
            count += 1;
            let mut j = i * i;
            while j < below {
                composite[j] = true;
                j += i;
            }
        }
    }
    count
}

#[entry]
fn main() -> ! {
    let (neg7, two, big, three) = black_box((-7i32, 2i32, 0xFFFF_FFF0u32, 3u32));
    check_eq!(neg7 / two, -3);
    check_eq!(neg7 % two, -1);
    check_eq!(neg7.div_euclid(two), -4);
    check_eq!(neg7.rem_euclid(two), 1);
    check_eq!(big / three, 0x5555_5550);
    check_eq!(i32::MIN.checked_div(black_box(-1)), None);
    check_eq!(i32::MIN.wrapping_div(black_box(-1)), i32::MIN);
    check_eq!(big.checked_add(16), None);
    check_eq!(big.wrapping_add(17), 1);
    check_eq!(big.saturating_add(100), u32::MAX);
    check_eq!(neg7.saturating_mul(i32::MAX), i32::MIN);
    check_eq!(big.overflowing_mul(three), (0xFFFF_FFD0, true));

    let (u, s) = black_box((0x1234_5678_9ABC_DEF0u64, -1_000_000_000_000i64));
    check_eq!(u64::from(big) * u64::from(big), 0xFFFF_FFE0_0000_0100);
    check_eq!(u / 1_000_003, 1_311_764_532_170);
    check_eq!(u % 1_000_003, 193_810);
    check_eq!(s / 7, -142_857_142_857);
    check_eq!(s % 7, -1);
    check_eq!(u >> 36, 0x123_4567);
    check_eq!(u << 20, 0x6789_ABCD_EF00_0000);
    check_eq!(s >> 40, -1);
    let wide = u128::from(u) * u128::from(u);
    check_eq!(wide, 0x014B_66DC_33F6_ACDC_A5E2_0890_F2A5_2100);
    check_eq!((wide / u128::from(big)) as u64, 0x48AD_1AA1_30B3_B2A3);

    check_eq!(three.leading_zeros(), 30);
    check_eq!(big.trailing_zeros(), 4);
    check_eq!(big.count_ones(), 28);
    check_eq!(black_box(0x1122_3344u32).swap_bytes(), 0x4433_2211);
    check_eq!(black_box(1u32).reverse_bits(), 0x8000_0000);
    check_eq!(big.rotate_right(4), 0x0FFF_FFFF);
    check_eq!(black_box(-12i8) as u8 >> 2, 0x3D);
    check_eq!(i16::from(black_box(-12i8)), -12);

    check_eq!(gcd(black_box(1071 * 3), 462), 21);
    check_eq!(collatz_steps(black_box(27)), 111);
    check_eq!(count_primes(black_box(10_000)), 1229);
    let factorial = (2..=black_box(20u64)).product::<u64>();
    check_eq!(factorial, 2_432_902_008_176_640_000);
    check!((1..=black_box(21u64)).try_fold(1u64, |a, b| a.checked_mul(b)).is_none());
    finish("int_math")
}
