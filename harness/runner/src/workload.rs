//! The host's own computation of each workload: the same kernels crate and
//! the same synthetic tensors the firmware uses, so the firmware's output
//! checksum can be checked bit for bit.

use tinybench_config::{CaseConfig, Workload};
use tinybench_kernels::{conv2d, fixture};

/// The output tensor of one inference of `case`, computed on the host.
pub fn expected_output(case: &CaseConfig) -> Vec<i8> {
    let Workload::Conv2d3x3 { height, width, in_channels, out_channels } = case.workload;
    let params = fixture::conv3x3_same(height as usize, width as usize, in_channels as usize, out_channels as usize);
    let mut input = vec![0i8; params.input_len()];
    let mut filter = vec![0i8; params.filter_len()];
    let mut bias = vec![0i32; out_channels as usize];
    let mut multipliers = vec![0i32; out_channels as usize];
    let mut shifts = vec![0i32; out_channels as usize];
    fixture::fill_workload(case.seed, &params, &mut input, &mut filter, &mut bias, &mut multipliers, &mut shifts);
    let mut output = vec![0i8; params.output_len()];
    let weights = conv2d::ConvWeights {
        filter: &filter,
        bias: Some(&bias),
        output_multiplier: &multipliers,
        output_shift: &shifts,
    };
    // The shapes come from a validated config and the buffers are sized from
    // the same params, so the kernel cannot refuse them.
    conv2d::reference(&params, &input, &weights, &mut output).expect("buffers sized from the same params");
    output
}

/// FNV-1a of [`expected_output`], as the firmware reports it.
pub fn expected_checksum(case: &CaseConfig) -> u32 {
    let output = expected_output(case);
    let bytes: Vec<u8> = output.iter().map(|&v| v as u8).collect();
    tinybench_proto::checksum(&bytes)
}
