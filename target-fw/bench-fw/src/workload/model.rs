//! A whole model from a `.tbm` file (imported by the harness from `.tflite`),
//! run by the kernels crate's arena runner on one input sample, both kept in
//! flash. Each layer's end is stamped with CYCCNT for the per-layer breakdown.

use core::hint::black_box;

use cortex_m::peripheral::DWT;
use tinybench_kernels::tbm::{self, Model};

use crate::error::FwError;
use crate::kernels::Selected;
use crate::params::{
    EVAL_BYTES, MODEL_ARENA_BYTES, MODEL_BYTES, MODEL_INPUT_BYTES, MODEL_LAYERS, MODEL_MACS, MODEL_OUTPUT_BYTES,
};

/// The `.tbm` format wants 16-byte alignment for its weight blobs.
#[repr(C, align(16))]
struct Aligned<T>(T);

static MODEL: Aligned<[u8; MODEL_BYTES]> = Aligned(*include_bytes!(concat!(env!("OUT_DIR"), "/model.tbm")));
static INPUT: [u8; MODEL_INPUT_BYTES] = *include_bytes!(concat!(env!("OUT_DIR"), "/input.bin"));
/// Accuracy-evaluation inputs, in their own section: the host reports them
/// apart from the model's flash (section name known to the runner).
#[unsafe(link_section = ".tinybench_eval")]
static EVAL_INPUTS: [u8; EVAL_BYTES] = *include_bytes!(concat!(env!("OUT_DIR"), "/eval.bin"));

/// Evaluation samples linked into this build.
pub const EVAL_SAMPLES: usize = crate::params::EVAL_SAMPLES;

pub const MACS: u32 = MODEL_MACS;
pub const OUTPUT_LEN: usize = MODEL_OUTPUT_BYTES;
pub const OUTPUT_LEN_U32: u32 = {
    assert!(OUTPUT_LEN <= u32::MAX as usize);
    OUTPUT_LEN as u32
};
pub const LAYERS: usize = MODEL_LAYERS;

/// The parsed model and its activation arena.
pub struct Workload {
    model: Model<'static>,
    arena: &'static mut [i8],
}

impl Workload {
    pub fn init() -> Result<Workload, FwError> {
        let model = Model::parse(&MODEL.0).map_err(FwError::Model)?;
        let arena: &'static mut Aligned<[i8; MODEL_ARENA_BYTES]> =
            cortex_m::singleton!(: Aligned<[i8; MODEL_ARENA_BYTES]> = Aligned([0; MODEL_ARENA_BYTES]))
                .ok_or(FwError::OutputBufferTaken)?;
        defmt::info!(
            "workload: model of {} layers, {} MACs, {} bytes, arena {} bytes",
            model.layer_count(),
            MACS,
            MODEL_BYTES,
            MODEL_ARENA_BYTES
        );
        Ok(Workload { model, arena: &mut arena.0 })
    }

    /// One inference into `output`, stamping CYCCNT after each layer; with
    /// `MARK_LAYERS` (per-layer marks built in) the marker toggles at each
    /// layer boundary after the stamp. Returns the toggles.
    #[inline(never)]
    pub fn run<const MARK_LAYERS: bool>(
        &mut self,
        output: &mut [i8],
        layer_ends: &mut [Option<u32>; LAYERS],
    ) -> Result<u16, FwError> {
        let input = as_i8(black_box(&INPUT));
        #[cfg_attr(not(layer_marks), allow(unused_mut))]
        let mut marks: u16 = 0;
        tbm::run::<Selected>(&self.model, self.arena, input, output, &mut |layer, _| {
            if let Some(end) = layer_ends.get_mut(layer) {
                *end = Some(DWT::cycle_count());
            }
            #[cfg(layer_marks)]
            if MARK_LAYERS && layer + 1 < LAYERS {
                marks += 1;
                // High for the first group, then alternating.
                crate::marker::set(marks % 2 == 0);
            }
        })
        .map_err(FwError::Model)?;
        Ok(marks)
    }
}

impl Workload {
    /// Evaluation samples linked into this build.
    pub fn eval_samples(&self) -> usize {
        EVAL_SAMPLES
    }

    /// Runs evaluation sample `sample` into `output` (untimed).
    pub fn eval(&mut self, sample: usize, output: &mut [i8]) -> Result<(), FwError> {
        let start = sample * MODEL_INPUT_BYTES;
        let input = EVAL_INPUTS.get(start..start + MODEL_INPUT_BYTES).ok_or(FwError::NoSuchSample)?;
        tbm::run::<Selected>(&self.model, self.arena, as_i8(input), output, &mut |_, _| {}).map_err(FwError::Model)
    }
}

fn as_i8(bytes: &[u8]) -> &[i8] {
    // SAFETY: u8 and i8 have the same size, alignment and validity.
    unsafe { core::slice::from_raw_parts(bytes.as_ptr().cast::<i8>(), bytes.len()) }
}
