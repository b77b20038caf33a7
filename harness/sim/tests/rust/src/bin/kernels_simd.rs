//! The `simd` kernel set's ARM code checked on the target: the kernels
//! crate's host tests run its portable models of the DSP instructions, so
//! this program runs the real `asm!` paths (SXTAB16, SMLAD, the blocked GEMM
//! `dsp::block_4x2`, the requantizer) on random cases and compares every
//! output byte with the `reference` kernels, exactly — the conformance
//! battery of `kernel_set.rs` in miniature, without std or proptest. It also
//! exercises the simulator's DSP instructions and fast paths on real kernels.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use tinybench_kernels::conv2d::{ConvParams, ConvWeights, Padding, Shape};
use tinybench_kernels::depthwise::DepthwiseParams;
use tinybench_kernels::dsp;
use tinybench_kernels::fully_connected::{FullyConnectedParams, FullyConnectedWeights, Rounding};
use tinybench_kernels::kernel_set::{KernelSet, Reference, Simd};
use tinybench_kernels::quant::{Requantizer, multiply_by_quantized_multiplier};
use tinybench_test_programs::{check, check_eq, finish};

/// xorshift32: a fixed sequence, so a failure reproduces.
struct Rng(u32);

impl Rng {
    fn next(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }

    /// Uniform in `lo..=hi` (small ranges; the modulo bias does not matter here).
    fn range(&mut self, lo: i32, hi: i32) -> i32 {
        lo + (self.next() % (hi - lo + 1) as u32) as i32
    }

    fn usize(&mut self, lo: usize, hi: usize) -> usize {
        self.range(lo as i32, hi as i32) as usize
    }

    fn fill(&mut self, out: &mut [i8]) {
        for v in out {
            *v = self.next() as i8;
        }
    }
}

const MAX_IN: usize = 2 * 8 * 8 * 12;
const MAX_FILTER: usize = 3 * 3 * 12 * 9;
const MAX_OUT: usize = 2 * 8 * 8 * 36;
const MAX_CHANNELS: usize = 36;

/// Bias and requantization of `channels` outputs (TFLite ranges: multipliers
/// in [2^30, 2^31), shifts mostly right).
struct Quant {
    bias: [i32; MAX_CHANNELS],
    multiplier: [i32; MAX_CHANNELS],
    shift: [i32; MAX_CHANNELS],
}

impl Quant {
    fn random(rng: &mut Rng) -> Quant {
        let mut q = Quant { bias: [0; MAX_CHANNELS], multiplier: [0; MAX_CHANNELS], shift: [0; MAX_CHANNELS] };
        for c in 0..MAX_CHANNELS {
            q.bias[c] = rng.range(-20_000, 20_000);
            q.multiplier[c] = (1 << 30) + (rng.next() >> 2) as i32;
            q.shift[c] = rng.range(-14, 1);
        }
        q
    }
}

fn padding(rng: &mut Rng) -> Padding {
    if rng.next() & 1 == 0 { Padding::Same } else { Padding::Valid }
}

/// Output zero point and a clamp range inside int8.
fn output_range(rng: &mut Rng) -> (i32, i32, i32) {
    let (a, b) = (rng.range(-128, 127), rng.range(-128, 127));
    (rng.range(-128, 127), a.min(b), a.max(b))
}

fn conv_cases(rng: &mut Rng, cases: usize) {
    let (mut input, mut filter) = ([0i8; MAX_IN], [0i8; MAX_FILTER]);
    let (mut want, mut got) = ([0i8; MAX_OUT], [0i8; MAX_OUT]);
    let mut done = 0;
    while done < cases {
        let (out_zp, lo, hi) = output_range(rng);
        let p = ConvParams {
            batches: rng.usize(1, 2),
            input: Shape { height: rng.usize(1, 8), width: rng.usize(1, 8), channels: rng.usize(1, 12) },
            filter_height: rng.usize(1, 3),
            filter_width: rng.usize(1, 3),
            output_channels: rng.usize(1, 9),
            stride_height: rng.usize(1, 2),
            stride_width: rng.usize(1, 2),
            dilation_height: rng.usize(1, 2),
            dilation_width: rng.usize(1, 2),
            padding: padding(rng),
            input_offset: -rng.range(-128, 127),
            output_offset: out_zp,
            activation_min: lo,
            activation_max: hi,
        };
        if p.validate().is_err() {
            continue;
        }
        let q = Quant::random(rng);
        rng.fill(&mut input[..p.input_len()]);
        rng.fill(&mut filter[..p.filter_len()]);
        let w = ConvWeights {
            filter: &filter[..p.filter_len()],
            bias: Some(&q.bias[..p.output_channels]),
            output_multiplier: &q.multiplier[..p.output_channels],
            output_shift: &q.shift[..p.output_channels],
        };
        let n = p.output_len();
        check!(Reference::conv2d(&p, &input[..p.input_len()], &w, &mut want[..n]).is_ok());
        check!(Simd::conv2d(&p, &input[..p.input_len()], &w, &mut got[..n]).is_ok());
        check_eq!(got[..n], want[..n]);
        done += 1;
    }
}

fn depthwise_cases(rng: &mut Rng, cases: usize) {
    let (mut input, mut filter) = ([0i8; MAX_IN], [0i8; MAX_FILTER]);
    let (mut want, mut got) = ([0i8; MAX_OUT], [0i8; MAX_OUT]);
    let mut done = 0;
    while done < cases {
        let (out_zp, lo, hi) = output_range(rng);
        // Multiplier 1 (the SMLABB path) three times as often as 2 or 3.
        let multiplier = if rng.next().is_multiple_of(4) { rng.usize(2, 3) } else { 1 };
        let p = DepthwiseParams {
            batches: rng.usize(1, 2),
            input: Shape { height: rng.usize(1, 8), width: rng.usize(1, 8), channels: rng.usize(1, 12) },
            filter_height: rng.usize(1, 3),
            filter_width: rng.usize(1, 3),
            depth_multiplier: multiplier,
            stride_height: rng.usize(1, 2),
            stride_width: rng.usize(1, 2),
            dilation_height: rng.usize(1, 2),
            dilation_width: rng.usize(1, 2),
            padding: padding(rng),
            input_offset: -rng.range(-128, 127),
            output_offset: out_zp,
            activation_min: lo,
            activation_max: hi,
        };
        if p.validate().is_err() {
            continue;
        }
        let q = Quant::random(rng);
        rng.fill(&mut input[..p.input_len()]);
        rng.fill(&mut filter[..p.filter_len()]);
        let channels = p.output_channels();
        let w = ConvWeights {
            filter: &filter[..p.filter_len()],
            bias: Some(&q.bias[..channels]),
            output_multiplier: &q.multiplier[..channels],
            output_shift: &q.shift[..channels],
        };
        let n = p.output_len();
        check!(Reference::depthwise_conv2d(&p, &input[..p.input_len()], &w, &mut want[..n]).is_ok());
        check!(Simd::depthwise_conv2d(&p, &input[..p.input_len()], &w, &mut got[..n]).is_ok());
        check_eq!(got[..n], want[..n]);
        done += 1;
    }
}

fn fully_connected_cases(rng: &mut Rng, cases: usize) {
    let (mut input, mut filter) = ([0i8; 4 * 80], [0i8; 9 * 80]);
    let (mut want, mut got) = ([0i8; 4 * 9], [0i8; 4 * 9]);
    for _ in 0..cases {
        let (out_zp, lo, hi) = output_range(rng);
        let p = FullyConnectedParams {
            batches: rng.usize(1, 4),
            accum_depth: rng.usize(1, 80),
            output_depth: rng.usize(1, 9),
            input_offset: -rng.range(-128, 127),
            filter_offset: rng.range(-3, 3),
            output_offset: out_zp,
            activation_min: lo,
            activation_max: hi,
            rounding: if rng.next() & 1 == 0 { Rounding::Double } else { Rounding::Single },
        };
        let q = Quant::random(rng);
        let quantized = if rng.next() & 1 == 0 { p.output_depth } else { 1 };
        rng.fill(&mut input[..p.input_len()]);
        rng.fill(&mut filter[..p.filter_len()]);
        let w = FullyConnectedWeights {
            filter: &filter[..p.filter_len()],
            bias: Some(&q.bias[..p.output_depth]),
            output_multiplier: &q.multiplier[..quantized],
            output_shift: &q.shift[..quantized],
        };
        let n = p.output_len();
        check!(Reference::fully_connected(&p, &input[..p.input_len()], &w, &mut want[..n]).is_ok());
        check!(Simd::fully_connected(&p, &input[..p.input_len()], &w, &mut got[..n]).is_ok());
        check_eq!(got[..n], want[..n]);
    }
}

/// The register-blocked GEMM step against its definition: 4 positions × 2
/// channels of 16-bit-pair dot products, sums wrapping in 32 bits.
fn block_cases(rng: &mut Rng, cases: usize) {
    let mut x = [0u32; 2 * 64];
    let mut w = [0u32; 64];
    for _ in 0..cases {
        let words = 8 * rng.usize(1, 8);
        for v in &mut x[..2 * words] {
            *v = rng.next();
        }
        for v in &mut w[..words] {
            *v = rng.next();
        }
        let got = dsp::block_4x2(&x[..2 * words], &w[..words]);
        let half = |v: u32, top: bool| i32::from(if top { (v >> 16) as u16 as i16 } else { v as u16 as i16 });
        let mut want = [0i32; 8];
        for j in 0..words / 2 {
            for p in 0..4 {
                for c in 0..2 {
                    let (a, b) = (x[4 * j + p], w[2 * j + c]);
                    want[2 * p + c] = want[2 * p + c]
                        .wrapping_add(half(a, false) * half(b, false))
                        .wrapping_add(half(a, true) * half(b, true));
                }
            }
        }
        check_eq!(got, want);
    }
}

/// The requantizer over the whole shift range and extreme accumulators.
fn requantizer_cases(rng: &mut Rng, cases: usize) {
    for i in 0..cases {
        let acc = match i % 4 {
            0 => rng.next() as i32,
            1 => rng.range(-70_000, 70_000),
            2 => i32::MIN + rng.range(0, 3),
            _ => i32::MAX - rng.range(0, 3),
        };
        let bias = if i % 3 == 0 { 0 } else { rng.range(-5_000, 5_000) };
        let multiplier = if i % 2 == 0 { (1 << 30) + (rng.next() >> 2) as i32 } else { rng.next() as i32 | 1 };
        let shift = rng.range(-31, 31);
        let (offset, lo, hi) = output_range(rng);
        let want = multiply_by_quantized_multiplier(acc.wrapping_add(bias), multiplier, shift)
            .wrapping_add(offset)
            .clamp(lo, hi) as i8;
        let q = Requantizer::new(bias, multiplier, shift, offset, lo, hi);
        check_eq!(q.apply(acc), want);
        // The four-at-a-time assembly on strided outputs, the untouched bytes kept.
        let accs = [acc, acc.wrapping_add(i as i32), rng.next() as i32, rng.range(-70_000, 70_000)];
        let stride = rng.usize(1, 5);
        let mut out = [0x55u8 as i8; 24];
        q.apply4(&accs, &mut out, 2, stride);
        for (k, o) in out.iter().enumerate() {
            let lane = (k >= 2 && (k - 2) % stride == 0 && (k - 2) / stride < 4).then(|| (k - 2) / stride);
            check_eq!(*o, lane.map_or(0x55u8 as i8, |l| q.apply(accs[l])));
        }
    }
}

#[entry]
fn main() -> ! {
    let mut rng = Rng(0x2545_F491);
    requantizer_cases(&mut rng, 2_000);
    block_cases(&mut rng, 200);
    conv_cases(&mut rng, 60);
    depthwise_cases(&mut rng, 60);
    fully_connected_cases(&mut rng, 60);
    finish("kernels_simd")
}
