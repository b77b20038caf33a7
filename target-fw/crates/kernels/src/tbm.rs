//! The `.tbm` firmware model format: reader and engine (no `alloc`).
//!
//! The byte layout is specified in `docs/tbm-format.md`; the host writer is
//! `tinybench-model`. [`Model::parse`] checks everything once (magic,
//! version, length, CRC-32, every table index, blob bounds and alignment), so
//! [`run`] only fails on kernel errors. Weights are borrowed in place: the
//! firmware keeps the file in flash, aligned to 16 bytes.
//!
//! Version 2 adds packed int4 filters ([`FLAG_INT4`]) and the fused
//! schedule ([`FLAG_FUSE_NEXT`]); version 1 files (neither) are still read.

use core::ops::Range;

use crate::KernelError;
use crate::activation::ReluParams;
use crate::add::AddParams;
use crate::conv2d::{ConvParams, ConvWeights, Padding, Shape};
use crate::depthwise::DepthwiseParams;
use crate::filter::Int4;
use crate::fully_connected::{FullyConnectedParams, FullyConnectedWeights, Rounding};
use crate::fused::{Epilogue, FusedPool, PoolKind};
use crate::kernel_set::KernelSet;
use crate::pool::PoolParams;
use crate::softmax::{FixedPointSoftmaxParams, SoftmaxShape};

/// First four bytes of every `.tbm` file.
pub const MAGIC: [u8; 4] = *b"TBM\0";
/// The format version the writer produces and this reader understands.
pub const VERSION: u16 = 2;
/// The oldest version this reader still accepts (v1: no int4, no fusion flags).
pub const MIN_VERSION: u16 = 1;
pub const HEADER_LEN: usize = 32;
pub const TENSOR_ENTRY_LEN: usize = 20;
pub const LAYER_ENTRY_LEN: usize = 112;
/// Number of `i32` parameter slots in a layer entry.
pub const PARAM_SLOTS: usize = 16;
/// Number of weight blobs a layer entry can point to.
pub const BLOB_SLOTS: usize = 4;
/// Alignment of the weights section and of every blob in it.
pub const BLOB_ALIGN: usize = 16;
/// "No tensor" in a layer's second input slot.
pub const NO_TENSOR: u16 = 0xFFFF;

/// Layer opcodes (byte 0 of a layer entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum OpCode {
    Conv2d = 1,
    DepthwiseConv2d = 2,
    FullyConnected = 3,
    AveragePool2d = 4,
    MaxPool2d = 5,
    Add = 6,
    Reshape = 7,
    SoftmaxLut = 8,
    SoftmaxFixedPoint = 9,
    Relu = 10,
}

impl OpCode {
    pub const fn from_u8(byte: u8) -> Option<OpCode> {
        Some(match byte {
            1 => OpCode::Conv2d,
            2 => OpCode::DepthwiseConv2d,
            3 => OpCode::FullyConnected,
            4 => OpCode::AveragePool2d,
            5 => OpCode::MaxPool2d,
            6 => OpCode::Add,
            7 => OpCode::Reshape,
            8 => OpCode::SoftmaxLut,
            9 => OpCode::SoftmaxFixedPoint,
            10 => OpCode::Relu,
            _ => return None,
        })
    }

    /// The TFLite operator name this opcode implements.
    pub const fn name(self) -> &'static str {
        match self {
            OpCode::Conv2d => "CONV_2D",
            OpCode::DepthwiseConv2d => "DEPTHWISE_CONV_2D",
            OpCode::FullyConnected => "FULLY_CONNECTED",
            OpCode::AveragePool2d => "AVERAGE_POOL_2D",
            OpCode::MaxPool2d => "MAX_POOL_2D",
            OpCode::Add => "ADD",
            OpCode::Reshape => "RESHAPE",
            OpCode::SoftmaxLut | OpCode::SoftmaxFixedPoint => "SOFTMAX",
            OpCode::Relu => "RELU",
        }
    }
}

/// Why a `.tbm` file was refused or a run failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TbmError {
    /// Shorter than its header or than the length the header states.
    Truncated {
        needed: usize,
        actual: usize,
    },
    BadMagic,
    UnsupportedVersion {
        found: u16,
    },
    /// The header states a header length other than this version's.
    HeaderLength {
        found: u16,
        expected: u16,
    },
    /// The CRC-32 over the body does not match the header.
    ChecksumMismatch {
        stored: u32,
        computed: u32,
    },
    /// A table entry points outside the file, arena or tensor table.
    OutOfRange {
        what: &'static str,
        index: usize,
    },
    /// A weight blob is not 4-byte aligned in memory (place the file at a
    /// 16-byte aligned address).
    Misaligned {
        layer: usize,
    },
    UnknownOp {
        layer: usize,
        op: u8,
    },
    /// This host is big-endian; the format is little-endian in place.
    BigEndianHost,
    /// The caller's arena, input or output buffer has the wrong size.
    Buffer {
        what: &'static str,
        expected: usize,
        actual: usize,
    },
    /// Two tensors a layer uses at the same time overlap in the arena.
    Overlap {
        layer: usize,
    },
    /// A layer entry is inconsistent (unknown flag bits, an int4 filter of
    /// the wrong size, a fusion mark on layers that cannot fuse).
    BadLayer {
        layer: usize,
        what: &'static str,
    },
    Kernel {
        layer: usize,
        error: KernelError,
    },
}

impl core::fmt::Display for TbmError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            TbmError::Truncated { needed, actual } => {
                write!(
                    f,
                    "model file is truncated: needs {needed} bytes, has {actual}; re-run `tinybench model import`"
                )
            }
            TbmError::BadMagic => {
                write!(f, "not a .tbm model file (bad magic); convert it with `tinybench model import`")
            }
            TbmError::UnsupportedVersion { found } => {
                write!(
                    f,
                    ".tbm version {found} is not supported (this build reads {MIN_VERSION} to {VERSION}); re-import the model"
                )
            }
            TbmError::HeaderLength { found, expected } => write!(
                f,
                "model file is corrupt: its header says it is {found} bytes long, a .tbm header is {expected}; \
                 re-import the model"
            ),
            TbmError::ChecksumMismatch { stored, computed } => write!(
                f,
                "model file is corrupt: CRC-32 {computed:#010x} does not match the header's {stored:#010x}; re-import it"
            ),
            TbmError::OutOfRange { what, index } => {
                write!(f, "model file is corrupt: {what} {index} points outside the file; re-import it")
            }
            TbmError::Misaligned { layer } => {
                write!(
                    f,
                    "weights of layer {layer} are not 4-byte aligned in memory; load the file at a 16-byte boundary"
                )
            }
            TbmError::UnknownOp { layer, op } => {
                write!(f, "layer {layer} has unknown opcode {op}; this engine is older than the model file")
            }
            TbmError::BigEndianHost => write!(f, ".tbm files can only be run on little-endian machines"),
            TbmError::Buffer { what, expected, actual } => {
                write!(f, "{what} buffer has {actual} bytes, the model needs {expected}")
            }
            TbmError::Overlap { layer } => {
                write!(
                    f,
                    "layer {layer} reads and writes overlapping arena memory; the memory plan is broken, re-import"
                )
            }
            TbmError::BadLayer { layer, what } => {
                write!(f, "model file is corrupt: layer {layer}: {what}; re-import it")
            }
            TbmError::Kernel { layer, error } => write!(f, "layer {layer}: {error}"),
        }
    }
}

/// CRC-32 (IEEE 802.3, reflected, as zlib's `crc32`), bitwise: small, no table.
pub const fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    let mut i = 0;
    while i < bytes.len() {
        crc ^= bytes[i] as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            bit += 1;
        }
        i += 1;
    }
    !crc
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// One activation tensor: where it lives in the arena and its shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tensor {
    pub arena_offset: usize,
    pub len: usize,
    pub rank: usize,
    pub dims: [u16; 4],
}

impl Tensor {
    pub fn range(&self) -> Range<usize> {
        self.arena_offset..self.arena_offset + self.len
    }

    pub fn dims(&self) -> &[u16] {
        &self.dims[..self.rank]
    }
}

/// A weighted layer's filter as stored in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerFilter<'a> {
    Int8(&'a [i8]),
    Int4(Int4<'a>),
}

/// A layer decoded from its table entry, borrowing weights from the file.
#[derive(Debug, Clone, Copy)]
pub enum Layer<'a> {
    Conv2d(ConvParams, ConvWeights<'a, LayerFilter<'a>>),
    DepthwiseConv2d(DepthwiseParams, ConvWeights<'a, LayerFilter<'a>>),
    FullyConnected(FullyConnectedParams, FullyConnectedWeights<'a, LayerFilter<'a>>),
    AveragePool2d(PoolParams),
    MaxPool2d(PoolParams),
    Add(AddParams),
    Reshape { size: usize },
    SoftmaxLut { shape: SoftmaxShape, output_scale: f32, table: &'a [f32; 256] },
    SoftmaxFixedPoint(FixedPointSoftmaxParams),
    Relu(ReluParams),
}

impl Layer<'_> {
    /// Multiply-accumulates (or, for pools and ADD, element operations) of one run.
    pub fn macs(&self) -> u64 {
        match self {
            Layer::Conv2d(p, _) => p.macs(),
            Layer::DepthwiseConv2d(p, _) => p.macs(),
            Layer::FullyConnected(p, _) => p.macs(),
            Layer::AveragePool2d(p) | Layer::MaxPool2d(p) => p.macs(),
            Layer::Add(p) => p.macs(),
            Layer::Reshape { .. } | Layer::SoftmaxLut { .. } | Layer::SoftmaxFixedPoint(_) | Layer::Relu(_) => 0,
        }
    }
}

/// A layer's table entry: what it is, which tensors it uses, where its weights are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerEntry {
    pub op: OpCode,
    pub flags: u8,
    /// Index of the operator in the source model (TFLite operator index).
    pub source_index: u16,
    pub inputs: [u16; 2],
    pub output: u16,
    pub params: [i32; PARAM_SLOTS],
    /// `(file offset, byte length)` of each blob; length 0 means absent.
    pub blobs: [(u32, u32); BLOB_SLOTS],
}

/// Layer flag: blob 1 holds a bias.
pub const FLAG_HAS_BIAS: u8 = 1;
/// Layer flag (v2): this layer and the next form one fused group — the next
/// layer (a RELU or a pool) reads only this layer's output, nothing else
/// does, and the memory plan keeps the group's input alive until the group
/// ends. A group starts at a CONV_2D or DEPTHWISE_CONV_2D.
pub const FLAG_FUSE_NEXT: u8 = 2;
/// Layer flag (v2): blob 0 is a packed int4 filter (see [`crate::filter`]).
pub const FLAG_INT4: u8 = 4;
const KNOWN_FLAGS_V1: u8 = FLAG_HAS_BIAS;
const KNOWN_FLAGS: u8 = FLAG_HAS_BIAS | FLAG_FUSE_NEXT | FLAG_INT4;

impl LayerEntry {
    /// Total bytes of this layer's weight blobs (filter, bias, requantization, tables).
    pub fn weight_bytes(&self) -> usize {
        self.blobs.iter().map(|&(_, len)| len as usize).sum()
    }
}

/// A parsed, validated `.tbm` file.
#[derive(Debug, Clone, Copy)]
pub struct Model<'a> {
    bytes: &'a [u8],
    version: u16,
    tensor_count: usize,
    layer_count: usize,
    arena_bytes: usize,
    input: usize,
    output: usize,
}

const TENSOR_TABLE: usize = HEADER_LEN;

impl<'a> Model<'a> {
    /// Checks the whole file; afterwards every accessor and [`run`] is
    /// bounds-safe.
    ///
    /// # Errors
    /// Any [`TbmError`] but `Kernel`, `Buffer` and `Overlap`.
    pub fn parse(bytes: &'a [u8]) -> Result<Model<'a>, TbmError> {
        if cfg!(target_endian = "big") {
            return Err(TbmError::BigEndianHost);
        }
        if bytes.len() < HEADER_LEN {
            return Err(TbmError::Truncated { needed: HEADER_LEN, actual: bytes.len() });
        }
        if bytes[..4] != MAGIC {
            return Err(TbmError::BadMagic);
        }
        let version = u16_at(bytes, 4);
        if !(MIN_VERSION..=VERSION).contains(&version) {
            return Err(TbmError::UnsupportedVersion { found: version });
        }
        let header_len = u16_at(bytes, 6);
        if usize::from(header_len) != HEADER_LEN {
            return Err(TbmError::HeaderLength { found: header_len, expected: HEADER_LEN as u16 });
        }
        let file_len = u32_at(bytes, 8) as usize;
        if bytes.len() < file_len {
            return Err(TbmError::Truncated { needed: file_len, actual: bytes.len() });
        }
        let bytes = &bytes[..file_len];
        let stored = u32_at(bytes, 12);
        let computed = crc32(&bytes[16..]);
        if stored != computed {
            return Err(TbmError::ChecksumMismatch { stored, computed });
        }
        let model = Model {
            bytes,
            version,
            tensor_count: usize::from(u16_at(bytes, 16)),
            layer_count: usize::from(u16_at(bytes, 18)),
            arena_bytes: u32_at(bytes, 20) as usize,
            input: usize::from(u16_at(bytes, 24)),
            output: usize::from(u16_at(bytes, 26)),
        };
        let tables_end = model.layer_table() + model.layer_count * LAYER_ENTRY_LEN;
        if tables_end > bytes.len() {
            return Err(TbmError::Truncated { needed: tables_end, actual: bytes.len() });
        }
        if model.input >= model.tensor_count {
            return Err(TbmError::OutOfRange { what: "input tensor", index: model.input });
        }
        if model.output >= model.tensor_count {
            return Err(TbmError::OutOfRange { what: "output tensor", index: model.output });
        }
        for t in 0..model.tensor_count {
            let tensor = model.tensor(t);
            if tensor.rank > 4 || tensor.arena_offset.checked_add(tensor.len).is_none_or(|end| end > model.arena_bytes)
            {
                return Err(TbmError::OutOfRange { what: "tensor", index: t });
            }
        }
        for l in 0..model.layer_count {
            let entry = model.entry(l)?;
            for (slot, &tensor) in entry.inputs.iter().enumerate() {
                let absent = slot == 1 && tensor == NO_TENSOR;
                if !absent && usize::from(tensor) >= model.tensor_count {
                    return Err(TbmError::OutOfRange { what: "layer input of layer", index: l });
                }
            }
            if usize::from(entry.output) >= model.tensor_count {
                return Err(TbmError::OutOfRange { what: "layer output of layer", index: l });
            }
            for &(offset, len) in &entry.blobs {
                let end = (offset as usize).checked_add(len as usize);
                if end.is_none_or(|end| end > bytes.len()) {
                    return Err(TbmError::OutOfRange { what: "weight blob of layer", index: l });
                }
            }
            let known = if model.version == 1 { KNOWN_FLAGS_V1 } else { KNOWN_FLAGS };
            if entry.flags & !known != 0 {
                return Err(TbmError::BadLayer { layer: l, what: "unknown flag bits" });
            }
            // Decoding checks blob alignment and sizes once, here.
            model.layer(l)?;
        }
        let mut l = 0;
        while l < model.layer_count {
            l = model.group_end(l)? + 1;
        }
        Ok(model)
    }

    /// The file's format version.
    pub fn version(&self) -> u16 {
        self.version
    }

    /// The last layer of the fused group starting at layer `first` (`first`
    /// itself when it is not marked [`FLAG_FUSE_NEXT`]): CONV_2D or
    /// DEPTHWISE_CONV_2D, then optionally a RELU, then optionally a pool,
    /// each reading the previous one's output.
    ///
    /// # Errors
    /// [`TbmError::BadLayer`] for a mark that does not describe such a group.
    pub fn group_end(&self, first: usize) -> Result<usize, TbmError> {
        let bad = |layer| TbmError::BadLayer { layer, what: "marked to fuse with a layer it cannot fuse with" };
        let head = self.entry(first)?;
        if head.flags & FLAG_FUSE_NEXT == 0 {
            return Ok(first);
        }
        if !matches!(head.op, OpCode::Conv2d | OpCode::DepthwiseConv2d) {
            return Err(bad(first));
        }
        let mut last = first;
        let mut previous = head;
        let mut seen_relu = false;
        while previous.flags & FLAG_FUSE_NEXT != 0 {
            let next_index = last + 1;
            if next_index >= self.layer_count {
                return Err(bad(last));
            }
            let next = self.entry(next_index)?;
            let fits = match next.op {
                OpCode::Relu => !seen_relu && previous.op != OpCode::AveragePool2d && previous.op != OpCode::MaxPool2d,
                OpCode::AveragePool2d | OpCode::MaxPool2d => true,
                _ => false,
            };
            let pool_ends =
                matches!(next.op, OpCode::AveragePool2d | OpCode::MaxPool2d) && next.flags & FLAG_FUSE_NEXT != 0;
            if !fits || pool_ends || next.inputs[0] != previous.output || next.inputs[1] != NO_TENSOR {
                return Err(bad(last));
            }
            seen_relu |= next.op == OpCode::Relu;
            last = next_index;
            previous = next;
        }
        Ok(last)
    }

    pub fn tensor_count(&self) -> usize {
        self.tensor_count
    }

    pub fn layer_count(&self) -> usize {
        self.layer_count
    }

    /// Bytes of activation memory [`run`] needs.
    pub fn arena_bytes(&self) -> usize {
        self.arena_bytes
    }

    pub fn input(&self) -> Tensor {
        self.tensor(self.input)
    }

    pub fn output(&self) -> Tensor {
        self.tensor(self.output)
    }

    fn layer_table(&self) -> usize {
        TENSOR_TABLE + self.tensor_count * TENSOR_ENTRY_LEN
    }

    /// Tensor `index`. Panics if `index >= tensor_count()`.
    pub fn tensor(&self, index: usize) -> Tensor {
        let at = TENSOR_TABLE + index * TENSOR_ENTRY_LEN;
        let b = self.bytes;
        Tensor {
            arena_offset: u32_at(b, at) as usize,
            len: u32_at(b, at + 4) as usize,
            rank: usize::from(u16_at(b, at + 8)),
            dims: [u16_at(b, at + 10), u16_at(b, at + 12), u16_at(b, at + 14), u16_at(b, at + 16)],
        }
    }

    /// The table entry of layer `index` (`< layer_count()`).
    ///
    /// # Errors
    /// [`TbmError::UnknownOp`] for an opcode this reader does not know.
    pub fn entry(&self, index: usize) -> Result<LayerEntry, TbmError> {
        let at = self.layer_table() + index * LAYER_ENTRY_LEN;
        let b = &self.bytes[at..at + LAYER_ENTRY_LEN];
        let op = OpCode::from_u8(b[0]).ok_or(TbmError::UnknownOp { layer: index, op: b[0] })?;
        let mut params = [0i32; PARAM_SLOTS];
        for (i, p) in params.iter_mut().enumerate() {
            *p = u32_at(b, 12 + 4 * i) as i32;
        }
        let mut blobs = [(0u32, 0u32); BLOB_SLOTS];
        for (i, blob) in blobs.iter_mut().enumerate() {
            *blob = (u32_at(b, 76 + 8 * i), u32_at(b, 80 + 8 * i));
        }
        Ok(LayerEntry {
            op,
            flags: b[1],
            source_index: u16_at(b, 2),
            inputs: [u16_at(b, 4), u16_at(b, 6)],
            output: u16_at(b, 8),
            params,
            blobs,
        })
    }

    fn blob(&self, layer: usize, entry: &LayerEntry, slot: usize) -> &'a [u8] {
        let (offset, len) = entry.blobs[slot];
        let _ = layer;
        &self.bytes[offset as usize..offset as usize + len as usize]
    }

    fn blob_i8(&self, layer: usize, entry: &LayerEntry, slot: usize) -> &'a [i8] {
        let bytes = self.blob(layer, entry, slot);
        // SAFETY: i8 and u8 have the same size, alignment and every bit pattern is valid.
        unsafe { core::slice::from_raw_parts(bytes.as_ptr().cast::<i8>(), bytes.len()) }
    }

    fn blob_i32(&self, layer: usize, entry: &LayerEntry, slot: usize) -> Result<&'a [i32], TbmError> {
        let bytes = self.blob(layer, entry, slot);
        // SAFETY: every bit pattern is a valid i32; align_to only reinterprets the aligned middle.
        let (head, words, tail) = unsafe { bytes.align_to::<i32>() };
        if !head.is_empty() || !tail.is_empty() {
            return Err(TbmError::Misaligned { layer });
        }
        Ok(words)
    }

    fn blob_f32(&self, layer: usize, entry: &LayerEntry, slot: usize) -> Result<&'a [f32], TbmError> {
        let bytes = self.blob(layer, entry, slot);
        // SAFETY: every bit pattern is a valid f32; align_to only reinterprets the aligned middle.
        let (head, words, tail) = unsafe { bytes.align_to::<f32>() };
        if !head.is_empty() || !tail.is_empty() {
            return Err(TbmError::Misaligned { layer });
        }
        Ok(words)
    }

    /// Layer `index` with its kernel parameters and weights.
    ///
    /// # Errors
    /// An unknown opcode, a misaligned blob or a softmax table that is not 256 entries.
    pub fn layer(&self, index: usize) -> Result<Layer<'a>, TbmError> {
        let e = self.entry(index)?;
        let p = e.params;
        let u = |i: usize| p[i].max(0) as usize;
        let padding = |i: usize| if p[i] == 0 { Padding::Same } else { Padding::Valid };
        let filter = |len: usize| -> Result<LayerFilter<'a>, TbmError> {
            if e.flags & FLAG_INT4 == 0 {
                return Ok(LayerFilter::Int8(self.blob_i8(index, &e, 0)));
            }
            Int4::new(self.blob(index, &e, 0), len)
                .map(LayerFilter::Int4)
                .ok_or(TbmError::BadLayer { layer: index, what: "int4 filter blob is not (weights + 1) / 2 bytes" })
        };
        let conv_weights = |filter_len: usize| -> Result<ConvWeights<'a, LayerFilter<'a>>, TbmError> {
            Ok(ConvWeights {
                filter: filter(filter_len)?,
                bias: if e.flags & FLAG_HAS_BIAS != 0 { Some(self.blob_i32(index, &e, 1)?) } else { None },
                output_multiplier: self.blob_i32(index, &e, 2)?,
                output_shift: self.blob_i32(index, &e, 3)?,
            })
        };
        let weighted = matches!(e.op, OpCode::Conv2d | OpCode::DepthwiseConv2d | OpCode::FullyConnected);
        if e.flags & FLAG_INT4 != 0 && !weighted {
            return Err(TbmError::BadLayer { layer: index, what: "int4 flag on a layer without a filter" });
        }
        Ok(match e.op {
            OpCode::Conv2d | OpCode::DepthwiseConv2d => {
                let input = Shape { height: u(1), width: u(2), channels: u(3) };
                // Conv: out_c x fh x fw x in_c; depthwise: fh x fw x (in_c x multiplier).
                let filter_len = u(4).saturating_mul(u(5)).saturating_mul(u(6)).saturating_mul(u(3));
                let w = conv_weights(filter_len)?;
                if e.op == OpCode::Conv2d {
                    Layer::Conv2d(
                        ConvParams {
                            batches: u(0),
                            input,
                            filter_height: u(4),
                            filter_width: u(5),
                            output_channels: u(6),
                            stride_height: u(7),
                            stride_width: u(8),
                            dilation_height: u(9),
                            dilation_width: u(10),
                            padding: padding(11),
                            input_offset: p[12],
                            output_offset: p[13],
                            activation_min: p[14],
                            activation_max: p[15],
                        },
                        w,
                    )
                } else {
                    Layer::DepthwiseConv2d(
                        DepthwiseParams {
                            batches: u(0),
                            input,
                            filter_height: u(4),
                            filter_width: u(5),
                            depth_multiplier: u(6),
                            stride_height: u(7),
                            stride_width: u(8),
                            dilation_height: u(9),
                            dilation_width: u(10),
                            padding: padding(11),
                            input_offset: p[12],
                            output_offset: p[13],
                            activation_min: p[14],
                            activation_max: p[15],
                        },
                        w,
                    )
                }
            }
            OpCode::FullyConnected => {
                let w = conv_weights(u(1).saturating_mul(u(2)))?;
                Layer::FullyConnected(
                    FullyConnectedParams {
                        batches: u(0),
                        accum_depth: u(1),
                        output_depth: u(2),
                        input_offset: p[3],
                        filter_offset: p[4],
                        output_offset: p[5],
                        activation_min: p[6],
                        activation_max: p[7],
                        rounding: if p[8] == 1 { Rounding::Single } else { Rounding::Double },
                    },
                    FullyConnectedWeights {
                        filter: w.filter,
                        bias: w.bias,
                        output_multiplier: w.output_multiplier,
                        output_shift: w.output_shift,
                    },
                )
            }
            OpCode::AveragePool2d | OpCode::MaxPool2d => {
                let params = PoolParams {
                    batches: u(0),
                    input: Shape { height: u(1), width: u(2), channels: u(3) },
                    filter_height: u(4),
                    filter_width: u(5),
                    stride_height: u(6),
                    stride_width: u(7),
                    padding: padding(8),
                    activation_min: p[9],
                    activation_max: p[10],
                };
                if e.op == OpCode::AveragePool2d { Layer::AveragePool2d(params) } else { Layer::MaxPool2d(params) }
            }
            OpCode::Add => Layer::Add(AddParams {
                size: u(0),
                input1_offset: p[1],
                input2_offset: p[2],
                left_shift: p[3],
                input1_multiplier: p[4],
                input1_shift: p[5],
                input2_multiplier: p[6],
                input2_shift: p[7],
                output_multiplier: p[8],
                output_shift: p[9],
                output_offset: p[10],
                activation_min: p[11],
                activation_max: p[12],
            }),
            OpCode::Reshape => Layer::Reshape { size: u(0) },
            OpCode::SoftmaxLut => {
                let table: &'a [f32; 256] = self
                    .blob_f32(index, &e, 0)?
                    .try_into()
                    .map_err(|_| TbmError::OutOfRange { what: "softmax table of layer", index })?;
                Layer::SoftmaxLut {
                    shape: SoftmaxShape { outer: u(0), depth: u(1) },
                    output_scale: f32::from_bits(p[2] as u32),
                    table,
                }
            }
            OpCode::SoftmaxFixedPoint => Layer::SoftmaxFixedPoint(FixedPointSoftmaxParams {
                shape: SoftmaxShape { outer: u(0), depth: u(1) },
                input_multiplier: p[2],
                input_left_shift: p[3],
                diff_min: p[4],
            }),
            OpCode::Relu => Layer::Relu(ReluParams {
                size: u(0),
                input_zero_point: p[1],
                output_offset: p[2],
                output_multiplier: p[3],
                output_shift: p[4],
                activation_min: p[5],
                activation_max: p[6],
            }),
        })
    }
}

/// Borrows the output range mutably and up to two input ranges immutably
/// from one arena, refusing overlaps.
fn split<'x>(
    arena: &'x mut [i8],
    layer: usize,
    out: Range<usize>,
    inputs: [Option<Range<usize>>; 2],
) -> Result<(&'x mut [i8], [&'x [i8]; 2]), TbmError> {
    for r in inputs.iter().flatten() {
        if r.start < out.end && out.start < r.end {
            return Err(TbmError::Overlap { layer });
        }
    }
    let (left, rest) = arena.split_at_mut(out.start);
    let (output, right) = rest.split_at_mut(out.end - out.start);
    let (left, right): (&'x [i8], &'x [i8]) = (left, right);
    let pick = |r: &Option<Range<usize>>| -> &'x [i8] {
        match r {
            None => &[],
            Some(r) if r.end <= out.start => &left[r.clone()],
            Some(r) => &right[r.start - out.end..r.end - out.end],
        }
    };
    Ok((output, [pick(&inputs[0]), pick(&inputs[1])]))
}

/// Runs one inference with kernel set `K`. `arena` must hold exactly
/// [`Model::arena_bytes`]; `observe(layer, output)` sees every layer's output
/// (per-layer checks, cycle stamps); pass `&mut |_, _| {}` to ignore.
///
/// For a set with [`KernelSet::FUSES`], each group marked with
/// [`FLAG_FUSE_NEXT`] runs as one call and `observe` sees only the group's
/// last layer (its inner layers' outputs never exist in memory): a per-layer
/// cycle stamp then covers the whole group.
///
/// # Errors
/// [`TbmError::Buffer`] for wrongly sized buffers, [`TbmError::Kernel`] when a
/// kernel refuses its parameters, [`TbmError::Overlap`] for a broken plan.
pub fn run<K: KernelSet>(
    model: &Model<'_>,
    arena: &mut [i8],
    input: &[i8],
    output: &mut [i8],
    observe: &mut dyn FnMut(usize, &[i8]),
) -> Result<(), TbmError> {
    let check = |what, expected: usize, actual: usize| {
        if expected == actual { Ok(()) } else { Err(TbmError::Buffer { what, expected, actual }) }
    };
    check("arena", model.arena_bytes(), arena.len())?;
    let (input_tensor, output_tensor) = (model.input(), model.output());
    check("input", input_tensor.len, input.len())?;
    check("output", output_tensor.len, output.len())?;
    arena[input_tensor.range()].copy_from_slice(input);
    let range = |t: u16| (t != NO_TENSOR).then(|| model.tensor(usize::from(t)).range());
    let mut index = 0;
    while index < model.layer_count() {
        let entry = model.entry(index)?;
        let last = if K::FUSES { model.group_end(index)? } else { index };
        if last != index {
            // One pass from the head's input to the group's last output.
            let out_tensor = model.entry(last)?.output;
            let out_range = model.tensor(usize::from(out_tensor)).range();
            let (out, [a, _]) = split(arena, index, out_range, [range(entry.inputs[0]), None])?;
            let mut epilogue = Epilogue::NONE;
            for l in index + 1..=last {
                match model.layer(l)? {
                    Layer::Relu(p) => epilogue.relu = Some(p),
                    Layer::AveragePool2d(params) => epilogue.pool = Some(FusedPool { kind: PoolKind::Average, params }),
                    Layer::MaxPool2d(params) => epilogue.pool = Some(FusedPool { kind: PoolKind::Max, params }),
                    _ => return Err(TbmError::BadLayer { layer: l, what: "not a RELU or pool in a fused group" }),
                }
            }
            let result = match model.layer(index)? {
                Layer::Conv2d(p, w) => match w.filter {
                    LayerFilter::Int8(f) => K::conv2d_fused(&p, a, &w.with_filter(f), &epilogue, out),
                    LayerFilter::Int4(f) => K::conv2d_fused(&p, a, &w.with_filter(f), &epilogue, out),
                },
                Layer::DepthwiseConv2d(p, w) => match w.filter {
                    LayerFilter::Int8(f) => K::depthwise_conv2d_fused(&p, a, &w.with_filter(f), &epilogue, out),
                    LayerFilter::Int4(f) => K::depthwise_conv2d_fused(&p, a, &w.with_filter(f), &epilogue, out),
                },
                _ => {
                    return Err(TbmError::BadLayer {
                        layer: index,
                        what: "fused group does not start with a convolution",
                    });
                }
            };
            result.map_err(|error| TbmError::Kernel { layer: index, error })?;
            observe(last, out);
            index = last + 1;
            continue;
        }
        let layer = model.layer(index)?;
        let out_range = model.tensor(usize::from(entry.output)).range();
        let (out, [a, b]) = split(arena, index, out_range, [range(entry.inputs[0]), range(entry.inputs[1])])?;
        let result = match &layer {
            Layer::Conv2d(p, w) => match w.filter {
                LayerFilter::Int8(f) => K::conv2d(p, a, &w.with_filter(f), out),
                LayerFilter::Int4(f) => K::conv2d(p, a, &w.with_filter(f), out),
            },
            Layer::DepthwiseConv2d(p, w) => match w.filter {
                LayerFilter::Int8(f) => K::depthwise_conv2d(p, a, &w.with_filter(f), out),
                LayerFilter::Int4(f) => K::depthwise_conv2d(p, a, &w.with_filter(f), out),
            },
            Layer::FullyConnected(p, w) => match w.filter {
                LayerFilter::Int8(f) => K::fully_connected(p, a, &w.with_filter(f), out),
                LayerFilter::Int4(f) => K::fully_connected(p, a, &w.with_filter(f), out),
            },
            Layer::AveragePool2d(p) => K::average_pool(p, a, out),
            Layer::MaxPool2d(p) => K::max_pool(p, a, out),
            Layer::Add(p) => K::add(p, a, b, out),
            Layer::Reshape { .. } => K::reshape(a, out),
            Layer::SoftmaxLut { shape, output_scale, table } => K::softmax_lut(shape, table, *output_scale, a, out),
            Layer::SoftmaxFixedPoint(p) => K::softmax_fixed_point(p, a, out),
            Layer::Relu(p) => K::relu(p, a, out),
        };
        result.map_err(|error| TbmError::Kernel { layer: index, error })?;
        observe(index, out);
        index += 1;
    }
    output.copy_from_slice(&arena[output_tensor.range()]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_check_value() {
        // The standard check value of CRC-32/ISO-HDLC.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn short_and_foreign_files_are_refused() {
        assert_eq!(Model::parse(&[0; 8]).unwrap_err(), TbmError::Truncated { needed: 32, actual: 8 });
        assert_eq!(Model::parse(&[0; 32]).unwrap_err(), TbmError::BadMagic);
    }

    #[test]
    fn split_refuses_overlap_and_finds_both_sides() {
        let mut arena: Vec<i8> = (0..10).collect();
        let (out, [a, b]) = split(&mut arena, 0, 4..6, [Some(0..2), Some(7..10)]).unwrap();
        assert_eq!((a, b), (&[0i8, 1][..], &[7i8, 8, 9][..]));
        out.copy_from_slice(&[-1, -1]);
        assert_eq!(split(&mut arena, 3, 4..6, [Some(5..7), None]).unwrap_err(), TbmError::Overlap { layer: 3 });
    }
}
