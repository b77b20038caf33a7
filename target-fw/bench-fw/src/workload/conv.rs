//! The benchmark case: a 3x3 CONV_2D, SAME padding, stride 1, on a synthetic
//! fixture generated at compile time (rodata: no RAM, no start-up cost).

use core::hint::black_box;

use tinybench_kernels::conv2d::{ConvParams, ConvWeights};
use tinybench_kernels::fixture;
use tinybench_kernels::kernel_set::KernelSet;

use crate::error::FwError;
use crate::kernels::Selected;
use crate::params::{INPUT_CHANNELS, INPUT_HEIGHT, INPUT_WIDTH, OUTPUT_CHANNELS, SEED};

pub const CONV: ConvParams = fixture::conv3x3_same(INPUT_HEIGHT, INPUT_WIDTH, INPUT_CHANNELS, OUTPUT_CHANNELS);
const _: () = assert!(CONV.validate().is_ok(), "TINYBENCH_CONV describes an invalid convolution");

pub const INPUT_LEN: usize = CONV.input_len();
pub const FILTER_LEN: usize = CONV.filter_len();
pub const OUTPUT_LEN: usize = CONV.output_len();
const ACCUMULATION_DEPTH: usize = CONV.filter_height * CONV.filter_width * INPUT_CHANNELS;

/// MACs of one inference, as the protocol's u32.
pub const MACS: u32 = {
    let macs = CONV.macs();
    assert!(macs <= u32::MAX as u64, "TINYBENCH_CONV: more than 2^32 MACs per inference");
    macs as u32
};
pub const OUTPUT_LEN_U32: u32 = {
    assert!(OUTPUT_LEN <= u32::MAX as usize);
    OUTPUT_LEN as u32
};

// Large shapes take a while to evaluate; that is the point of doing it here.
#[allow(long_running_const_eval)]
static INPUT: [i8; INPUT_LEN] = fixture::input(SEED);
#[allow(long_running_const_eval)]
static FILTER: [i8; FILTER_LEN] = fixture::filter(SEED);
static BIAS: [i32; OUTPUT_CHANNELS] = fixture::bias(SEED);
static MULTIPLIERS: [i32; OUTPUT_CHANNELS] = fixture::multipliers(SEED);
static SHIFTS: [i32; OUTPUT_CHANNELS] = fixture::shifts(SEED, ACCUMULATION_DEPTH);

/// Layers of one inference (a single conv: no per-layer breakdown).
pub const LAYERS: usize = 0;
/// The conv workload has no labeled test set.
pub const EVAL_SAMPLES: usize = 0;

/// The conv workload needs no run-time state.
pub struct Workload;

impl Workload {
    pub fn init() -> Result<Workload, FwError> {
        defmt::info!(
            "workload: conv {}x{}x{} -> {} channels, {} MACs",
            INPUT_HEIGHT,
            INPUT_WIDTH,
            INPUT_CHANNELS,
            OUTPUT_CHANNELS,
            MACS
        );
        Ok(Workload)
    }

    /// One inference into `output`; `_layer_ends` is empty for this workload.
    #[inline(never)]
    /// One layer: no boundaries to mark (`MARK_LAYERS` changes nothing).
    pub fn run<const MARK_LAYERS: bool>(
        &mut self,
        output: &mut [i8],
        _layer_ends: &mut [Option<u32>; LAYERS],
    ) -> Result<u16, FwError> {
        let weights =
            ConvWeights { filter: &FILTER, bias: Some(&BIAS), output_multiplier: &MULTIPLIERS, output_shift: &SHIFTS };
        Selected::conv2d(&CONV, black_box(&INPUT), &weights, output)?;
        Ok(0)
    }

    /// Evaluation samples linked into this build (none).
    pub fn eval_samples(&self) -> usize {
        EVAL_SAMPLES
    }

    /// No evaluation samples: never called.
    pub fn eval(&mut self, _sample: usize, _output: &mut [i8]) -> Result<(), FwError> {
        Err(FwError::NoSuchSample)
    }
}
