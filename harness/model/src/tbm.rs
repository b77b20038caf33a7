//! `.tbm` writer: [`Graph`] + [`Plan`] -> bytes. The layout is specified in
//! `docs/tbm-format.md`; the reader is `tinybench_kernels::tbm` (it runs on
//! the firmware too). Each layer's parameter slots are the exact inverse of
//! `tinybench_kernels::tbm::Model::layer`; the round-trip tests keep the two
//! in step.

use tinybench_kernels::conv2d::Padding;
use tinybench_kernels::filter::pack_int4;
use tinybench_kernels::fully_connected::Rounding;
use tinybench_kernels::tbm::{
    BLOB_ALIGN, BLOB_SLOTS, FLAG_FUSE_NEXT, FLAG_HAS_BIAS, FLAG_INT4, HEADER_LEN, LAYER_ENTRY_LEN, MAGIC, NO_TENSOR,
    OpCode, PARAM_SLOTS, TENSOR_ENTRY_LEN, VERSION, crc32,
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
            _ if w.int4 => {
                if let Some(&v) = w.filter.iter().find(|v| !(-8..=7).contains(*v)) {
                    return Err(Error::TooLarge(format!("layer {i}: weight {v} does not fit int4")));
                }
                let mut packed = vec![0u8; w.filter.len().div_ceil(2)];
                pack_int4(&w.filter, &mut packed);
                [
                    packed,
                    w.bias.as_deref().map(words).unwrap_or_default(),
                    words(&w.output_multiplier),
                    words(&w.output_shift),
                ]
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
        let fuse = plan.fuse_next.get(i).copied().unwrap_or(false);
        e[1] = if w.bias.is_some() { FLAG_HAS_BIAS } else { 0 }
            | if fuse { FLAG_FUSE_NEXT } else { 0 }
            | if w.int4 { FLAG_INT4 } else { 0 };
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

#[cfg(test)]
mod tests {
    use tinybench_kernels::activation::{FusedActivation, ReluParams};
    use tinybench_kernels::conv2d::{ConvParams, Shape};
    use tinybench_kernels::fully_connected::{FullyConnectedParams, Rounding};
    use tinybench_kernels::kernel_set::{Fused, Reference, Simd};
    use tinybench_kernels::pool::PoolParams;
    use tinybench_kernels::tbm::{Layer as TbmLayer, LayerFilter, Model, TbmError};

    use super::*;
    use crate::graph::{Layer, TensorInfo, Weights};

    /// The example of `docs/tbm-format.md`: one FULLY_CONNECTED, 2 inputs -> 1 output.
    pub(crate) fn example() -> Graph {
        let tensor = |name: &str, shape: Vec<usize>| TensorInfo { name: name.into(), shape, scale: 1.0, zero_point: 0 };
        Graph {
            tensors: vec![tensor("in", vec![1, 2]), tensor("out", vec![1, 1])],
            layers: vec![Layer {
                source_index: 0,
                op: LayerOp::FullyConnected(FullyConnectedParams {
                    batches: 1,
                    accum_depth: 2,
                    output_depth: 1,
                    input_offset: 0,
                    filter_offset: 0,
                    output_offset: 0,
                    activation_min: -128,
                    activation_max: 127,
                    rounding: Rounding::Single,
                }),
                inputs: vec![0],
                output: 1,
                weights: Weights {
                    filter: vec![1, -1],
                    int4: false,
                    bias: Some(vec![5]),
                    output_multiplier: vec![1 << 30],
                    output_shift: vec![0],
                },
            }],
            input: 0,
            output: 1,
        }
    }

    #[test]
    fn the_documented_example_byte_for_byte() {
        let graph = example();
        let plan = crate::plan::plan(&graph);
        assert_eq!(plan.offsets, [0, 16]); // alive together during layer 0; 16-byte aligned
        let bytes = write(&graph, &plan).unwrap();
        let hex: Vec<String> =
            bytes.chunks(16).map(|c| c.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")).collect();
        #[rustfmt::skip]
        let expected = [
            // header: magic, version 2, header 32, file 256 B, CRC-32, 2 tensors, 1 layer, arena 17 B, in 0, out 1, weights at 192
            "54 42 4d 00 02 00 20 00 00 01 00 00 CR CR CR CR",
            "02 00 01 00 11 00 00 00 00 00 01 00 c0 00 00 00",
            // tensor 0: arena 0, 2 bytes, rank 2, dims 1 2 0 0, pad | tensor 1 starts at 52
            "00 00 00 00 02 00 00 00 02 00 01 00 02 00 00 00",
            "00 00 00 00 10 00 00 00 01 00 00 00 02 00 01 00",
            // tensor 1 continued | layer 0 at 72: op 3 (FC), flags 1 (bias), source op 0, input 0, no second input, output 1
            "01 00 00 00 00 00 00 00 03 01 00 00 00 00 ff ff",
            // output 1, reserved | params: batches 1, accum 2, out 1, then input_offset, filter_offset ...
            "01 00 00 00 01 00 00 00 02 00 00 00 01 00 00 00",
            // ... input_offset 0, filter_offset 0, output_offset 0, act_min -128
            "00 00 00 00 00 00 00 00 00 00 00 00 80 ff ff ff",
            // act_max 127, rounding 1 (single), slots 9..=10 unused
            "7f 00 00 00 01 00 00 00 00 00 00 00 00 00 00 00",
            // slots 12..=14 unused
            "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
            // slot 15 unused | blobs at 148: 0 (filter) at 192, 2 B; 1 (bias) at 208 ...
            "00 00 00 00 c0 00 00 00 02 00 00 00 d0 00 00 00",
            // ... 4 B; 2 (multiplier) at 224, 4 B; 3 (shift) at 240 ...
            "04 00 00 00 e0 00 00 00 04 00 00 00 f0 00 00 00",
            // ... 4 B; reserved u32 (180) | zero padding up to the 16-aligned weights section (192)
            "04 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
            // 192: filter [1, -1]
            "01 ff 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
            // 208: bias 5
            "05 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
            // 224: multiplier 2^30 (0.5)
            "00 00 00 40 00 00 00 00 00 00 00 00 00 00 00 00",
            // 240: shift 0
            "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
        ];
        let crc = format!("{:02x} {:02x} {:02x} {:02x}", bytes[12], bytes[13], bytes[14], bytes[15]);
        let expected: Vec<String> = expected.iter().map(|l| l.replace("CR CR CR CR", &crc)).collect();
        assert_eq!(hex, expected);
        assert_eq!(u32::from_le_bytes(bytes[12..16].try_into().unwrap()), crc32(&bytes[16..]));

        // And it runs: x = [7, 3]: 7 * 1 + 3 * -1 + bias 5 = 9, * 0.5 = 4.5 -> 5 (single rounding, half up).
        let model = Model::parse(&bytes).unwrap();
        assert!(matches!(model.layer(0).unwrap(), TbmLayer::FullyConnected(p, _) if p.rounding == Rounding::Single));
        let mut arena = vec![0i8; model.arena_bytes()];
        let mut out = [0i8; 1];
        tinybench_kernels::tbm::run::<tinybench_kernels::kernel_set::Reference>(
            &model,
            &mut arena,
            &[7, 3],
            &mut out,
            &mut |_, _| {},
        )
        .unwrap();
        assert_eq!(out, [5]);
    }

    #[test]
    fn every_layer_kind_round_trips_through_the_reader() {
        // The MLPerf KWS model covers conv, depthwise, pool, reshape, FC and softmax.
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/mlperf-tiny/kws/kws_ref_model.tflite");
        let graph = crate::tflite::import(&std::fs::read(&path).unwrap(), &path, crate::Flavor::LiteRt).unwrap();
        let bytes = crate::compile(&graph).unwrap();
        let interp = crate::Interpreter::new(&bytes).unwrap();
        let model = interp.model().unwrap();
        for (i, layer) in graph.layers.iter().enumerate() {
            let read = model.layer(i).unwrap();
            let same = match (&layer.op, &read) {
                (LayerOp::Conv2d(a), TbmLayer::Conv2d(b, w)) => {
                    a == b && w.filter == LayerFilter::Int8(layer.weights.filter.as_slice())
                }
                (LayerOp::DepthwiseConv2d(a), TbmLayer::DepthwiseConv2d(b, w)) => {
                    a == b && w.output_multiplier == layer.weights.output_multiplier.as_slice()
                }
                (LayerOp::FullyConnected(a), TbmLayer::FullyConnected(b, w)) => {
                    a == b && w.bias == layer.weights.bias.as_deref()
                }
                (LayerOp::AveragePool2d(a), TbmLayer::AveragePool2d(b)) => a == b,
                (LayerOp::Reshape { size: a }, TbmLayer::Reshape { size: b }) => a == b,
                (LayerOp::SoftmaxLut { shape, table, .. }, TbmLayer::SoftmaxLut { shape: s, table: t, .. }) => {
                    shape == s && table.as_slice() == t.as_slice()
                }
                _ => false,
            };
            assert!(same, "layer {i}: {:?} vs {read:?}", layer.op);
        }
    }

    /// Re-stamps the CRC after a test edits the bytes.
    fn restamp(bytes: &mut [u8]) {
        let crc = crc32(&bytes[16..]);
        bytes[12..16].copy_from_slice(&crc.to_le_bytes());
    }

    #[test]
    fn version_1_files_are_still_read_without_the_v2_flags() {
        let mut bytes = write(&example(), &crate::plan::plan(&example())).unwrap();
        bytes[4] = 1;
        restamp(&mut bytes);
        assert_eq!(Model::parse(&bytes).unwrap().version(), 1);
        // Layer 0's flags byte is at 72 + 1: the int4 flag is unknown to v1.
        bytes[73] |= FLAG_INT4;
        restamp(&mut bytes);
        assert_eq!(Model::parse(&bytes).unwrap_err(), TbmError::BadLayer { layer: 0, what: "unknown flag bits" });
        bytes[4] = 3;
        restamp(&mut bytes);
        assert_eq!(Model::parse(&bytes).unwrap_err(), TbmError::UnsupportedVersion { found: 3 });
    }

    #[test]
    fn a_corrupted_header_length_has_its_own_message() {
        let mut bytes = write(&example(), &crate::plan::plan(&example())).unwrap();
        bytes[6] = 33;
        let err = Model::parse(&bytes).unwrap_err();
        assert_eq!(err, TbmError::HeaderLength { found: 33, expected: 32 });
        let text = err.to_string();
        assert!(text.contains("header says it is 33 bytes long") && !text.contains("version"), "{text}");
    }

    /// conv (int4 filter) -> RELU -> MAX_POOL: one fused group of three layers.
    fn fused_int4_chain() -> Graph {
        let tensor = |shape: Vec<usize>| TensorInfo { name: String::new(), shape, scale: 0.5, zero_point: -3 };
        let conv = ConvParams {
            batches: 1,
            input: Shape { height: 5, width: 4, channels: 3 },
            filter_height: 3,
            filter_width: 2,
            output_channels: 3,
            stride_height: 1,
            stride_width: 1,
            dilation_height: 1,
            dilation_width: 1,
            padding: Padding::Same,
            input_offset: 3,
            output_offset: -3,
            activation_min: -128,
            activation_max: 127,
        };
        let shape = conv.output_shape();
        let pool = PoolParams {
            batches: 1,
            input: shape,
            filter_height: 2,
            filter_width: 2,
            stride_height: 2,
            stride_width: 2,
            padding: Padding::Valid,
            activation_min: -128,
            activation_max: 127,
        };
        let out = pool.output_shape();
        let relu = ReluParams::new(FusedActivation::Relu6, shape.len(), (0.5, -3), (0.25, -10));
        let layer = |op, inputs, output, weights| Layer { source_index: output - 1, op, inputs, output, weights };
        Graph {
            tensors: vec![
                tensor(vec![1, 5, 4, 3]),
                tensor(vec![1, shape.height, shape.width, 3]),
                tensor(vec![1, shape.height, shape.width, 3]),
                tensor(vec![1, out.height, out.width, 3]),
            ],
            layers: vec![
                layer(
                    LayerOp::Conv2d(conv),
                    vec![0],
                    1,
                    Weights {
                        filter: (0..conv.filter_len()).map(|i| ((i * 5 % 15) as i8) - 7).collect(),
                        int4: true,
                        bias: Some(vec![40, -7, 3]),
                        output_multiplier: vec![1 << 30; 3],
                        output_shift: vec![-2, -1, -3],
                    },
                ),
                layer(LayerOp::Relu(relu), vec![1], 2, Weights::default()),
                layer(LayerOp::MaxPool2d(pool), vec![2], 3, Weights::default()),
            ],
            input: 0,
            output: 3,
        }
    }

    #[test]
    fn a_fused_int4_group_is_marked_packed_and_runs_alike_in_every_set() {
        let graph = fused_int4_chain();
        let plan = crate::plan::plan(&graph);
        assert_eq!(plan.fuse_next, [true, true, false]);
        // The group's input (tensor 0) stays alive until the pool (layer 2) has written.
        assert_eq!(crate::plan::lifetimes_fused(&graph, &plan.fuse_next)[0], (0, 2));
        let bytes = write(&graph, &plan).unwrap();
        let interp = crate::Interpreter::new(&bytes).unwrap();
        let model = interp.model().unwrap();
        let flags: Vec<u8> = (0..3).map(|i| model.entry(i).unwrap().flags).collect();
        assert_eq!(flags, [FLAG_HAS_BIAS | FLAG_FUSE_NEXT | FLAG_INT4, FLAG_FUSE_NEXT, 0]);
        assert_eq!(model.group_end(0), Ok(2));
        let TbmLayer::Conv2d(_, w) = model.layer(0).unwrap() else { panic!("layer 0 is the conv") };
        let LayerFilter::Int4(filter) = w.filter else { panic!("int4 filter") };
        // 54 weights in 27 bytes; unpacking gives back the graph's values.
        assert_eq!(filter.bytes().len(), 27);
        let values: Vec<i8> = (0..54).map(|i| tinybench_kernels::filter::Filter::at(&filter, i)).collect();
        assert_eq!(values, graph.layers[0].weights.filter);

        let input: Vec<i8> = (0..60).map(|i| (i * 29 % 256) as u8 as i8).collect();
        type Runner<'r> = dyn FnMut(&mut [i8], &mut [i8]) -> Result<(), TbmError> + 'r;
        let run = |f: &mut Runner<'_>| {
            let mut arena = vec![0i8; model.arena_bytes()];
            let mut out = vec![0i8; model.output().len];
            f(&mut arena, &mut out).unwrap();
            out
        };
        let reference = run(&mut |a, o| tinybench_kernels::tbm::run::<Reference>(&model, a, &input, o, &mut |_, _| {}));
        let mut observed = Vec::new();
        let fused = run(&mut |a, o| {
            tinybench_kernels::tbm::run::<Fused>(&model, a, &input, o, &mut |layer, _| observed.push(layer))
        });
        // The group ran as one pass: only its last layer is observed.
        assert_eq!(observed, [2]);
        let simd = run(&mut |a, o| tinybench_kernels::tbm::run::<Simd>(&model, a, &input, o, &mut |_, _| {}));
        assert_eq!(fused, reference);
        assert_eq!(simd, reference);
        assert!(reference.iter().any(|&v| v != reference[0]), "a degenerate test output: {reference:?}");
    }

    #[test]
    fn a_fusion_mark_on_layers_that_cannot_fuse_is_refused() {
        // Mark the (only) FULLY_CONNECTED layer of the example as fusing with a next layer it does not have.
        let mut bytes = write(&example(), &crate::plan::plan(&example())).unwrap();
        bytes[73] |= FLAG_FUSE_NEXT;
        restamp(&mut bytes);
        assert!(matches!(Model::parse(&bytes), Err(TbmError::BadLayer { layer: 0, .. })));
    }
}
