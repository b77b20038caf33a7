//! `.tbm` writer: [`Graph`] + [`Plan`] -> bytes. The layout is specified in
//! `docs/tbm-format.md`; the reader is `tinybench_kernels::tbm` (it runs on
//! the firmware too). Each layer's parameter slots are the exact inverse of
//! `tinybench_kernels::tbm::Model::layer`; the round-trip tests keep the two
//! in step.

use tinybench_kernels::conv2d::Padding;
use tinybench_kernels::fully_connected::Rounding;
use tinybench_kernels::tbm::{
    BLOB_ALIGN, BLOB_SLOTS, FLAG_HAS_BIAS, HEADER_LEN, LAYER_ENTRY_LEN, MAGIC, NO_TENSOR, OpCode, PARAM_SLOTS,
    TENSOR_ENTRY_LEN, VERSION, crc32,
};

use crate::Error;
use crate::graph::{Graph, LayerOp};
use crate::plan::Plan;

fn padding(p: Padding) -> i32 {
    match p {
        Padding::Same => 0,
        Padding::Valid => 1,
    }
}

fn u16_field(value: usize, what: &str) -> Result<u16, Error> {
    u16::try_from(value).map_err(|_| Error::TooLarge(format!("{what} {value} exceeds 65535")))
}

fn u32_field(value: usize, what: &str) -> Result<u32, Error> {
    u32::try_from(value).map_err(|_| Error::TooLarge(format!("{what} {value} exceeds 4 GiB")))
}

/// Serializes `graph` with the arena offsets of `plan`.
///
/// # Errors
/// [`Error::TooLarge`] if a count or size does not fit its field.
pub fn write(graph: &Graph, plan: &Plan) -> Result<Vec<u8>, Error> {
    let tensor_table = HEADER_LEN;
    let layer_table = tensor_table + graph.tensors.len() * TENSOR_ENTRY_LEN;
    let weights_start = (layer_table + graph.layers.len() * LAYER_ENTRY_LEN).next_multiple_of(BLOB_ALIGN);

    let mut out = vec![0u8; weights_start];
    out[..4].copy_from_slice(&MAGIC);
    out[4..6].copy_from_slice(&VERSION.to_le_bytes());
    out[6..8].copy_from_slice(&(HEADER_LEN as u16).to_le_bytes());
    out[16..18].copy_from_slice(&u16_field(graph.tensors.len(), "tensor count")?.to_le_bytes());
    out[18..20].copy_from_slice(&u16_field(graph.layers.len(), "layer count")?.to_le_bytes());
    out[20..24].copy_from_slice(&u32_field(plan.arena_bytes, "arena size")?.to_le_bytes());
    out[24..26].copy_from_slice(&u16_field(graph.input, "input tensor")?.to_le_bytes());
    out[26..28].copy_from_slice(&u16_field(graph.output, "output tensor")?.to_le_bytes());
    out[28..32].copy_from_slice(&u32_field(weights_start, "weights offset")?.to_le_bytes());

    for (i, t) in graph.tensors.iter().enumerate() {
        let at = tensor_table + i * TENSOR_ENTRY_LEN;
        if t.shape.len() > 4 {
            return Err(Error::TooLarge(format!("tensor `{}` has rank {} (at most 4)", t.name, t.shape.len())));
        }
        out[at..at + 4].copy_from_slice(&u32_field(plan.offsets[i], "arena offset")?.to_le_bytes());
        out[at + 4..at + 8].copy_from_slice(&u32_field(t.len(), "tensor size")?.to_le_bytes());
        out[at + 8..at + 10].copy_from_slice(&(t.shape.len() as u16).to_le_bytes());
        for (d, &dim) in t.shape.iter().enumerate() {
            out[at + 10 + 2 * d..at + 12 + 2 * d].copy_from_slice(&u16_field(dim, "dimension")?.to_le_bytes());
        }
    }

    for (i, layer) in graph.layers.iter().enumerate() {
        let mut params = [0i32; PARAM_SLOTS];
        let mut set = |values: &[i64]| {
            for (slot, &v) in params.iter_mut().zip(values) {
                *slot = v as i32;
            }
        };
        let op = match &layer.op {
            LayerOp::Conv2d(p) => {
                set(&[
                    p.batches as i64,
                    p.input.height as i64,
                    p.input.width as i64,
                    p.input.channels as i64,
                    p.filter_height as i64,
                    p.filter_width as i64,
                    p.output_channels as i64,
                    p.stride_height as i64,
                    p.stride_width as i64,
                    p.dilation_height as i64,
                    p.dilation_width as i64,
                    padding(p.padding).into(),
                    p.input_offset.into(),
                    p.output_offset.into(),
                    p.activation_min.into(),
                    p.activation_max.into(),
                ]);
                OpCode::Conv2d
            }
            LayerOp::DepthwiseConv2d(p) => {
                set(&[
                    p.batches as i64,
                    p.input.height as i64,
                    p.input.width as i64,
                    p.input.channels as i64,
                    p.filter_height as i64,
                    p.filter_width as i64,
                    p.depth_multiplier as i64,
                    p.stride_height as i64,
                    p.stride_width as i64,
                    p.dilation_height as i64,
                    p.dilation_width as i64,
                    padding(p.padding).into(),
                    p.input_offset.into(),
                    p.output_offset.into(),
                    p.activation_min.into(),
                    p.activation_max.into(),
                ]);
                OpCode::DepthwiseConv2d
            }
            LayerOp::FullyConnected(p) => {
                set(&[
                    p.batches as i64,
                    p.accum_depth as i64,
                    p.output_depth as i64,
                    p.input_offset.into(),
                    p.filter_offset.into(),
                    p.output_offset.into(),
                    p.activation_min.into(),
                    p.activation_max.into(),
                    match p.rounding {
                        Rounding::Double => 0,
                        Rounding::Single => 1,
                    },
                ]);
                OpCode::FullyConnected
            }
            LayerOp::AveragePool2d(p) | LayerOp::MaxPool2d(p) => {
                set(&[
                    p.batches as i64,
                    p.input.height as i64,
                    p.input.width as i64,
                    p.input.channels as i64,
                    p.filter_height as i64,
                    p.filter_width as i64,
                    p.stride_height as i64,
                    p.stride_width as i64,
                    padding(p.padding).into(),
                    p.activation_min.into(),
                    p.activation_max.into(),
                ]);
                if matches!(layer.op, LayerOp::AveragePool2d(_)) { OpCode::AveragePool2d } else { OpCode::MaxPool2d }
            }
            LayerOp::Add(p) => {
                set(&[
                    p.size as i64,
                    p.input1_offset.into(),
                    p.input2_offset.into(),
                    p.left_shift.into(),
                    p.input1_multiplier.into(),
                    p.input1_shift.into(),
                    p.input2_multiplier.into(),
                    p.input2_shift.into(),
                    p.output_multiplier.into(),
                    p.output_shift.into(),
                    p.output_offset.into(),
                    p.activation_min.into(),
                    p.activation_max.into(),
                ]);
                OpCode::Add
            }
            LayerOp::Reshape { size } => {
                set(&[*size as i64]);
                OpCode::Reshape
            }
            LayerOp::SoftmaxLut { shape, output_scale, .. } => {
                set(&[shape.outer as i64, shape.depth as i64, i64::from(output_scale.to_bits())]);
                OpCode::SoftmaxLut
            }
            LayerOp::SoftmaxFixedPoint(p) => {
                set(&[
                    p.shape.outer as i64,
                    p.shape.depth as i64,
                    p.input_multiplier.into(),
                    p.input_left_shift.into(),
                    p.diff_min.into(),
                ]);
                OpCode::SoftmaxFixedPoint
            }
            LayerOp::Relu(p) => {
                set(&[
                    p.size as i64,
                    p.input_zero_point.into(),
                    p.output_offset.into(),
                    p.output_multiplier.into(),
                    p.output_shift.into(),
                    p.activation_min.into(),
                    p.activation_max.into(),
                ]);
                OpCode::Relu
            }
        };

        // Blobs: 0 filter (i8) or softmax table (f32), 1 bias, 2 multipliers, 3 shifts (i32).
        let w = &layer.weights;
        let words = |v: &[i32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
        let blobs: [Vec<u8>; BLOB_SLOTS] = match &layer.op {
            LayerOp::SoftmaxLut { table, .. } => {
                [table.iter().flat_map(|x| x.to_le_bytes()).collect(), Vec::new(), Vec::new(), Vec::new()]
            }
            _ => [
                w.filter.iter().map(|&b| b as u8).collect(),
                w.bias.as_deref().map(words).unwrap_or_default(),
                words(&w.output_multiplier),
                words(&w.output_shift),
            ],
        };
        let mut blob_entries = [(0u32, 0u32); BLOB_SLOTS];
        for (entry, blob) in blob_entries.iter_mut().zip(&blobs) {
            if blob.is_empty() {
                continue;
            }
            let offset = out.len().next_multiple_of(BLOB_ALIGN);
            out.resize(offset, 0);
            out.extend_from_slice(blob);
            *entry = (u32_field(offset, "blob offset")?, u32_field(blob.len(), "blob size")?);
        }

        let at = layer_table + i * LAYER_ENTRY_LEN;
        let e = &mut out[at..at + LAYER_ENTRY_LEN];
        e[0] = op as u8;
        e[1] = if w.bias.is_some() { FLAG_HAS_BIAS } else { 0 };
        e[2..4].copy_from_slice(&u16_field(layer.source_index, "operator index")?.to_le_bytes());
        e[4..6].copy_from_slice(&u16_field(layer.inputs[0], "tensor index")?.to_le_bytes());
        let second = layer.inputs.get(1).map_or(Ok(NO_TENSOR), |&t| u16_field(t, "tensor index"))?;
        e[6..8].copy_from_slice(&second.to_le_bytes());
        e[8..10].copy_from_slice(&u16_field(layer.output, "tensor index")?.to_le_bytes());
        for (slot, p) in params.iter().enumerate() {
            e[12 + 4 * slot..16 + 4 * slot].copy_from_slice(&p.to_le_bytes());
        }
        for (slot, (offset, len)) in blob_entries.iter().enumerate() {
            e[76 + 8 * slot..80 + 8 * slot].copy_from_slice(&offset.to_le_bytes());
            e[80 + 8 * slot..84 + 8 * slot].copy_from_slice(&len.to_le_bytes());
        }
    }

    let total = out.len().next_multiple_of(BLOB_ALIGN);
    out.resize(total, 0);
    let total = u32_field(total, "file size")?;
    out[8..12].copy_from_slice(&total.to_le_bytes());
    let crc = crc32(&out[16..]);
    out[12..16].copy_from_slice(&crc.to_le_bytes());
    Ok(out)
}
