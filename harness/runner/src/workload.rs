//! Prepares a case's workload for the firmware build and computes, on the
//! host, what the firmware must output: the same kernels crate on the same
//! input, so results can be checked bit for bit.

use std::path::{Path, PathBuf};

use serde::Serialize;
use tinybench_config::{Board, CaseConfig, Workload};
use tinybench_kernels::{conv2d, fixture};
use tinybench_model::{Interpreter, Kernels};

use crate::RunnerError;
use crate::preflight::MemoryNeeds;
use tinybench_config::input::{MAX_MODEL_BYTES, MAX_TEST_SET_BYTES, read_limited};

/// One layer of a model workload, as the host sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LayerInfo {
    pub index: usize,
    pub op: String,
    pub output_shape: String,
    pub macs: u64,
    pub weight_bytes: u64,
}

/// A workload ready to build: the firmware's build variables, the expected
/// output and what the report says about it.
#[derive(Debug, Clone)]
pub struct PreparedWorkload {
    /// `TINYBENCH_*` variables selecting the workload.
    pub env: Vec<(&'static str, String)>,
    pub expected_output: Vec<i8>,
    /// Short description: conv shape, or model file name.
    pub description: String,
    /// Per-layer facts (model workloads; empty for the single conv).
    pub layers: Vec<LayerInfo>,
    /// Multiply-accumulates of one inference.
    pub macs: u64,
    /// Layer boundaries the firmware marks with per-layer marks: groups of
    /// the case's kernel set, less one (a fused group is one).
    pub layer_marks: u16,
    /// Weights and activation arena of a model, in bytes.
    pub weight_bytes: u64,
    pub arena_bytes: u64,
    /// Accuracy evaluation, when the case has a test set.
    pub eval: Option<Evaluation>,
    /// Weight storage: `int8`, `int4`, or `int4+int8` for a mix.
    pub quantization: String,
    /// What the workload's data needs from the board, checked before building.
    pub memory_needs: MemoryNeeds,
}

/// The host's accuracy on a whole test set, and what the target must
/// reproduce on its first samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub host_correct: u32,
    pub host_samples: u32,
    /// Labels of the target subset.
    pub target_labels: Vec<u8>,
    /// The host's outputs for the target subset, which the target's must equal.
    pub target_expected: Vec<Vec<i8>>,
}

/// Index of the largest value; the first on ties (TFLite ARG_MAX).
pub fn argmax(values: &[i8]) -> usize {
    values.iter().enumerate().fold(0, |best, (i, &v)| if v > values[best] { i } else { best })
}

/// Builds what the firmware build needs for `case` into `case_dir`.
/// Checks that the data fits `board` before the (possibly long) host
/// evaluation of a test set.
pub fn prepare(case: &CaseConfig, board: &Board, case_dir: &Path) -> Result<PreparedWorkload, RunnerError> {
    match &case.workload {
        Workload::Conv2d3x3 { height, width, in_channels, out_channels } => {
            let (h, w, c, o) = (*height as usize, *width as usize, *in_channels as usize, *out_channels as usize);
            let weight_bytes = (o * 9 * c + 4 * o) as u64;
            Ok(PreparedWorkload {
                env: vec![
                    ("TINYBENCH_WORKLOAD", "conv2d-3x3".to_owned()),
                    ("TINYBENCH_CONV", format!("{h}x{w}x{c}:{o}")),
                    ("TINYBENCH_SEED", case.seed.to_string()),
                ],
                expected_output: conv_output(case.seed, h, w, c, o),
                description: format!("{h}x{w}x{c}:{o}"),
                layers: Vec::new(),
                macs: (h * w * o * 9 * c) as u64,
                layer_marks: 0,
                weight_bytes,
                arena_bytes: (h * w * c + h * w * o) as u64,
                eval: None,
                quantization: "int8".to_owned(),
                // Weights are constants in flash; input and output live in RAM.
                memory_needs: MemoryNeeds {
                    flash_data_bytes: weight_bytes,
                    arena_bytes: (h * w * c + h * w * o) as u64,
                },
            })
        }
        Workload::Model { path, input, sample, weights } => {
            prepare_model(case, board, path, input.as_deref(), *sample, *weights, case_dir)
        }
    }
}

fn conv_output(seed: u32, h: usize, w: usize, c: usize, o: usize) -> Vec<i8> {
    let params = fixture::conv3x3_same(h, w, c, o);
    let mut input = vec![0i8; params.input_len()];
    let mut filter = vec![0i8; params.filter_len()];
    let (mut bias, mut multipliers, mut shifts) = (vec![0i32; o], vec![0i32; o], vec![0i32; o]);
    fixture::fill_workload(seed, &params, &mut input, &mut filter, &mut bias, &mut multipliers, &mut shifts);
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

#[allow(clippy::too_many_arguments, reason = "the fields of Workload::Model, spelled out")]
fn prepare_model(
    case: &CaseConfig,
    board: &Board,
    path: &Path,
    input: Option<&Path>,
    sample: u32,
    weights: tinybench_config::WeightFormat,
    case_dir: &Path,
) -> Result<PreparedWorkload, RunnerError> {
    let model_error = |detail: String| RunnerError::Model { path: path.to_owned(), detail };
    let bytes = read_limited(path, MAX_MODEL_BYTES, "model")?;
    let image = if tinybench_model::is_tbm(&bytes) {
        tinybench_model::load(&bytes, path)
    } else {
        let format = match weights {
            tinybench_config::WeightFormat::Int8 => tinybench_model::WeightFormat::Int8,
            tinybench_config::WeightFormat::Int4 => tinybench_model::WeightFormat::Int4,
        };
        tinybench_model::import(&bytes, path, format)
    }
    .map_err(|e| model_error(e.to_string()))?;
    let interpreter = Interpreter::new(&image).map_err(|e| model_error(e.to_string()))?;
    let model = interpreter.model().map_err(|e| model_error(e.to_string()))?;
    let input_len = model.input().len;

    let input_bytes: Vec<i8> = match input {
        Some(file) => {
            let all = read_limited(file, MAX_MODEL_BYTES, "input file")?;
            let count = all.len() / input_len.max(1);
            if all.len() % input_len.max(1) != 0 || sample as usize >= count {
                return Err(RunnerError::Model {
                    path: file.to_owned(),
                    detail: format!(
                        "{} bytes hold {count} samples of {input_len} bytes{}; case {} asks for sample {sample}",
                        all.len(),
                        if all.len() % input_len.max(1) != 0 { " and a partial one" } else { "" },
                        case.name
                    ),
                });
            }
            let start = sample as usize * input_len;
            all[start..start + input_len].iter().map(|&b| b as i8).collect()
        }
        None => {
            let mut synthetic = vec![0i8; input_len];
            fixture::fill_i8_into(fixture::stream_seed(case.seed, fixture::Stream::Input), &mut synthetic);
            synthetic
        }
    };
    let expected_output = interpreter.run(Kernels::Reference, &input_bytes).map_err(|e| model_error(e.to_string()))?;

    let rows = tinybench_model::report::rows(&model).map_err(|e| model_error(e.to_string()))?;
    // As `tbm::run` walks the model for this kernel set: one mark after each group but the last.
    let mut groups = 0u16;
    let mut index = 0;
    while index < model.layer_count() {
        let fuses = case.kernels == tinybench_config::KernelSet::Fused;
        index = if fuses { model.group_end(index).map_err(|e| model_error(format!("{e:?}")))? } else { index } + 1;
        groups += 1;
    }
    let quantization = quantization(&model).map_err(|e| model_error(format!("{e:?}")))?;
    let layers: Vec<LayerInfo> = rows
        .iter()
        .map(|r| LayerInfo {
            index: r.index,
            op: r.op.to_owned(),
            output_shape: r.output_shape.iter().map(u16::to_string).collect::<Vec<_>>().join("x"),
            macs: r.macs,
            weight_bytes: r.weight_bytes as u64,
        })
        .collect();
    let model_file = case_dir.join("model.tbm");
    std::fs::write(&model_file, &image).map_err(|e| RunnerError::io(&model_file, e))?;
    let input_file = case_dir.join("input.bin");
    let raw: Vec<u8> = input_bytes.iter().map(|&b| b as u8).collect();
    std::fs::write(&input_file, raw).map_err(|e| RunnerError::io(&input_file, e))?;
    let mut env = vec![
        ("TINYBENCH_WORKLOAD", "model".to_owned()),
        ("TINYBENCH_MODEL", absolute(&model_file)),
        ("TINYBENCH_INPUT", absolute(&input_file)),
    ];
    let target_samples = case.accuracy.as_ref().map_or(0, |a| a.target_samples as u64);
    let memory_needs = MemoryNeeds {
        flash_data_bytes: image.len() as u64 + input_len as u64 * (1 + target_samples),
        arena_bytes: model.arena_bytes() as u64,
    };
    crate::preflight::check_fits(board, memory_needs)?;
    let eval = match &case.accuracy {
        None => None,
        Some(acc) => {
            let (eval, subset) = evaluate(&interpreter, input_len, acc)?;
            // 0 target samples: accuracy on the host only, nothing linked.
            if !subset.is_empty() {
                let eval_file = case_dir.join("eval-inputs.bin");
                std::fs::write(&eval_file, subset).map_err(|e| RunnerError::io(&eval_file, e))?;
                env.push(("TINYBENCH_EVAL_INPUTS", absolute(&eval_file)));
            }
            Some(eval)
        }
    };
    Ok(PreparedWorkload {
        env,
        expected_output,
        description: path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned()),
        weight_bytes: layers.iter().map(|l| l.weight_bytes).sum(),
        arena_bytes: model.arena_bytes() as u64,
        macs: layers.iter().map(|l| l.macs).sum(),
        layers,
        layer_marks: groups.saturating_sub(1),
        eval,
        quantization,
        memory_needs,
    })
}

/// `int8`, `int4`, or `int4+int8`, from the layers that carry a filter.
fn quantization(model: &tinybench_kernels::tbm::Model<'_>) -> Result<String, tinybench_kernels::tbm::TbmError> {
    use tinybench_kernels::tbm::{FLAG_INT4, OpCode};
    let (mut int4, mut int8) = (0, 0);
    for i in 0..model.layer_count() {
        let entry = model.entry(i)?;
        if matches!(entry.op, OpCode::Conv2d | OpCode::DepthwiseConv2d | OpCode::FullyConnected) {
            if entry.flags & FLAG_INT4 != 0 {
                int4 += 1;
            } else {
                int8 += 1;
            }
        }
    }
    Ok(match (int4, int8) {
        (0, _) => "int8",
        (_, 0) => "int4",
        _ => "int4+int8",
    }
    .to_owned())
}

/// Runs the whole test set on the host; returns the evaluation and the raw
/// inputs of the target subset.
fn evaluate(
    interpreter: &Interpreter,
    input_len: usize,
    acc: &tinybench_config::AccuracyConfig,
) -> Result<(Evaluation, Vec<u8>), RunnerError> {
    let inputs = read_limited(&acc.inputs, MAX_TEST_SET_BYTES, "test set")?;
    let labels = read_limited(&acc.labels, MAX_TEST_SET_BYTES, "test set")?;
    let samples = inputs.len() / input_len.max(1);
    if inputs.len() % input_len.max(1) != 0 || samples != labels.len() || samples == 0 {
        return Err(RunnerError::Model {
            path: acc.inputs.clone(),
            detail: format!(
                "{} bytes are not {} samples of {input_len} bytes matching the {} labels in {}",
                inputs.len(),
                labels.len(),
                labels.len(),
                acc.labels.display()
            ),
        });
    }
    let model_error =
        |e: tinybench_model::Error| RunnerError::Model { path: acc.inputs.clone(), detail: e.to_string() };
    let target_count = (acc.target_samples as usize).min(samples);
    let mut eval = Evaluation {
        host_correct: 0,
        host_samples: samples as u32,
        target_labels: labels[..target_count].to_vec(),
        target_expected: Vec::with_capacity(target_count),
    };
    for (i, (input, &label)) in inputs.chunks_exact(input_len).zip(&labels).enumerate() {
        let input: Vec<i8> = input.iter().map(|&b| b as i8).collect();
        let output = interpreter.run(Kernels::Reference, &input).map_err(model_error)?;
        if argmax(&output) == usize::from(label) {
            eval.host_correct += 1;
        }
        if i < target_count {
            eval.target_expected.push(output);
        }
    }
    Ok((eval, inputs[..target_count * input_len].to_vec()))
}

fn absolute(path: &Path) -> String {
    let p: PathBuf = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    p.display().to_string()
}

/// FNV-1a of an int8 tensor, as the firmware reports it.
pub fn checksum(output: &[i8]) -> u32 {
    let bytes: Vec<u8> = output.iter().map(|&v| v as u8).collect();
    tinybench_proto::checksum(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argmax_takes_the_first_maximum() {
        assert_eq!(argmax(&[-128, 5, 5, -3]), 1);
        assert_eq!(argmax(&[7]), 0);
        assert_eq!(argmax(&[-1, -2, 0]), 2);
    }
}
