//! Single precision on the FPU (FPv4-SP / FPv5): exactly rounded arithmetic
//! pinned bit for bit, Rust's saturating float-to-int casts, NaN and
//! infinity, and `Display` of floats (core's integer-heavy formatting).
#![no_std]
#![no_main]

use core::hint::black_box;

use cortex_m_rt::entry;
use tinybench_test_programs::{Text, check, check_eq, finish};

/// Square root by Newton's method from a bit-level first guess.
fn sqrt_newton(x: f32) -> f32 {
    let mut y = f32::from_bits((x.to_bits() >> 1) + (127 << 22));
    for _ in 0..5 {
        y = 0.5 * (y + x / y);
    }
    y
}

fn approx(got: f32, want: f32, tolerance: f32) -> bool {
    (got - want).abs() <= tolerance * want.abs()
}

/// sin(x) by its Taylor series, as a model's activation might be computed.
fn sin_taylor(x: f32) -> f32 {
    let (mut term, mut sum) = (x, x);
    for n in 1..8 {
        term *= -x * x / ((2 * n) * (2 * n + 1)) as f32;
        sum += term;
    }
    sum
}

#[entry]
fn main() -> ! {
    let (one, two, three, tenth, fifth, huge, zero) =
        black_box((1.0f32, 2.0f32, 3.0f32, 0.1f32, 0.2f32, 1e30f32, 0.0f32));
    check_eq!((one / three).to_bits(), 0x3EAA_AAAB);
    check!((sqrt_newton(two) - core::f32::consts::SQRT_2).abs() <= f32::EPSILON);
    check_eq!((tenth * three).to_bits(), 0x3E99_999A);
    check_eq!((tenth + fifth).to_bits(), 0x3E99_999A);
    check!((huge * huge).is_infinite());
    let nan = zero / black_box(0.0f32);
    check!(nan.is_nan());
    check!(nan.partial_cmp(&nan).is_none());
    check!((one / -zero).is_sign_negative());
    check_eq!(one.copysign(-zero), -1.0);
    check_eq!(two.max(f32::NAN), 2.0);

    // Rust's `as` saturates and maps NaN to 0.
    check_eq!(black_box(-2.5f32) as i32, -2);
    check_eq!(huge as u32, u32::MAX);
    check_eq!(-huge as i32, i32::MIN);
    check_eq!(nan as i32, 0);
    check_eq!(black_box(16_777_217i32) as f32, 16_777_216.0); // round to even
    check_eq!(black_box(u32::MAX) as f32, 4_294_967_296.0);

    check!(approx(sin_taylor(one), 0.841_470_98, 1e-6));
    let mut acc = 0.0f32;
    for i in 0..100 {
        let term = i as f32 * tenth;
        acc += if i % 2 == 1 { term } else { -term };
    }
    check!(approx(acc, 5.0, 1e-5));

    check_eq!(Text::format(format_args!("{}", one / three)).as_str(), "0.33333334");
    check_eq!(Text::format(format_args!("{:.3} {:e}", two / three, huge)).as_str(), "0.667 1e30");
    finish("float32")
}
