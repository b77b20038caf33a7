//! Double precision: on thumbv7em-none-eabihf software floating point
//! (compiler-builtins' __aeabi_d* helpers, all integer code), pinned bit for
//! bit where IEEE 754 defines the result; conversions; `Display` of doubles.
#![no_std]
#![no_main]

use core::hint::black_box;

use cortex_m_rt::entry;
use tinybench_test_programs::{Text, check, check_eq, finish};

/// Square root by Newton's method from a bit-level first guess.
fn sqrt_newton(x: f64) -> f64 {
    let mut y = f64::from_bits((x.to_bits() >> 1) + (1023u64 << 51));
    for _ in 0..6 {
        y = 0.5 * (y + x / y);
    }
    y
}

#[entry]
fn main() -> ! {
    let (one, two, three, tenth, fifth, huge, zero) =
        black_box((1.0f64, 2.0f64, 3.0f64, 0.1f64, 0.2f64, 1e300f64, 0.0f64));
    check_eq!((one / three).to_bits(), 0x3FD5_5555_5555_5555);
    check_eq!((tenth * three).to_bits(), 0x3FD3_3333_3333_3334);
    check_eq!((tenth + fifth).to_bits(), 0x3FD3_3333_3333_3334);
    check_eq!((two - tenth).to_bits(), 0x3FFE_6666_6666_6666);
    check!((huge * huge).is_infinite());
    check!((zero / black_box(0.0f64)).is_nan());
    check!((sqrt_newton(two) - core::f64::consts::SQRT_2).abs() < 1e-15);

    check_eq!(black_box(-2.5f64) as i32, -2);
    check_eq!(black_box(-9_007_199_254_740_993i64) as f64, -9_007_199_254_740_992.0); // round to even
    check_eq!((huge / 1e290) as i64, 10_000_000_000);
    check_eq!(huge as i64, i64::MAX);
    check_eq!((one / three) as f32, black_box(1.0f32) / 3.0);
    check_eq!(f64::from(black_box(0.1f32)).to_bits(), 0x3FB9_9999_A000_0000);

    // Leibniz series: pi/4 = 1 - 1/3 + 1/5 - ...
    let pi: f64 = (0..2000).map(|k| if k % 2 == 1 { -4.0 } else { 4.0 } / f64::from(2 * k + 1) * one).sum();
    check!((pi - core::f64::consts::PI).abs() < 1e-3);

    check_eq!(Text::format(format_args!("{}", tenth)).as_str(), "0.1");
    check_eq!(Text::format(format_args!("{}", core::f64::consts::PI * one)).as_str(), "3.141592653589793");
    check_eq!(Text::format(format_args!("{:.6} {:e}", one / three, huge)).as_str(), "0.333333 1e300");
    finish("float64")
}
