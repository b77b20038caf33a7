//! The kernel-set seam: one trait with every op's signature, one type per
//! implementation. [`Reference`] is the plain loops of each op module;
//! [`Fused`] and [`Simd`] override the ops they speed up and inherit the
//! rest, and prove themselves with [`kernel_conformance!`](crate::kernel_conformance).
//!
//! The weighted ops are generic over the filter storage ([`Filter`]: int8
//! `&[i8]` or packed [`crate::filter::Int4`]), so every set runs int4 models.
//!
//! Layer groups (a convolution followed by a standalone RELU and/or a pool,
//! marked in the `.tbm` file) go to [`KernelSet::conv2d_fused`] /
//! [`KernelSet::depthwise_conv2d_fused`] only for sets with
//! [`KernelSet::FUSES`]; the others run the group's layers one by one.

use crate::KernelError;
use crate::activation::{self, ReluParams};
use crate::add::{self, AddParams};
use crate::conv2d::{self, ConvParams, ConvWeights};
use crate::depthwise::{self, DepthwiseParams};
use crate::filter::Filter;
use crate::fully_connected::{self, FullyConnectedParams, FullyConnectedWeights};
use crate::fused::{self, Epilogue, Scalar};
use crate::pool::{self, PoolParams};
use crate::simd;
use crate::softmax::{self, FixedPointSoftmaxParams, SoftmaxShape};

/// One implementation of every op, same signatures and same results (see
/// [`Tolerance`]) as [`Reference`]. Every method defaults to the reference
/// kernel, so a set overrides only what it optimizes.
pub trait KernelSet {
    /// Name used on the command line and in reports (`reference`, `fused`, `simd`).
    const NAME: &'static str;

    /// Whether `tbm::run` hands fused layer groups to [`KernelSet::conv2d_fused`]
    /// and [`KernelSet::depthwise_conv2d_fused`] (one pass, no intermediate
    /// tensor) instead of running their layers one by one.
    const FUSES: bool = false;

    fn conv2d<F: Filter>(
        p: &ConvParams,
        input: &[i8],
        w: &ConvWeights<'_, F>,
        output: &mut [i8],
    ) -> Result<(), KernelError> {
        conv2d::reference(p, input, w, output)
    }

    fn depthwise_conv2d<F: Filter>(
        p: &DepthwiseParams,
        input: &[i8],
        w: &ConvWeights<'_, F>,
        output: &mut [i8],
    ) -> Result<(), KernelError> {
        depthwise::reference(p, input, w, output)
    }

    fn fully_connected<F: Filter>(
        p: &FullyConnectedParams,
        input: &[i8],
        w: &FullyConnectedWeights<'_, F>,
        output: &mut [i8],
    ) -> Result<(), KernelError> {
        fully_connected::reference(p, input, w, output)
    }

    /// CONV_2D, then the epilogue's RELU and pool, in one pass: equal to
    /// running the three layers one after the other.
    fn conv2d_fused<F: Filter>(
        p: &ConvParams,
        input: &[i8],
        w: &ConvWeights<'_, F>,
        epilogue: &Epilogue,
        output: &mut [i8],
    ) -> Result<(), KernelError> {
        fused::conv2d::<Scalar, F>(p, input, w, epilogue, output)
    }

    /// DEPTHWISE_CONV_2D, then the epilogue, in one pass.
    fn depthwise_conv2d_fused<F: Filter>(
        p: &DepthwiseParams,
        input: &[i8],
        w: &ConvWeights<'_, F>,
        epilogue: &Epilogue,
        output: &mut [i8],
    ) -> Result<(), KernelError> {
        fused::depthwise_conv2d(p, input, w, epilogue, output)
    }

    fn average_pool(p: &PoolParams, input: &[i8], output: &mut [i8]) -> Result<(), KernelError> {
        pool::average_reference(p, input, output)
    }

    fn max_pool(p: &PoolParams, input: &[i8], output: &mut [i8]) -> Result<(), KernelError> {
        pool::max_reference(p, input, output)
    }

    fn add(p: &AddParams, input1: &[i8], input2: &[i8], output: &mut [i8]) -> Result<(), KernelError> {
        add::reference(p, input1, input2, output)
    }

    fn relu(p: &ReluParams, input: &[i8], output: &mut [i8]) -> Result<(), KernelError> {
        activation::relu_reference(p, input, output)
    }

    fn reshape(input: &[i8], output: &mut [i8]) -> Result<(), KernelError> {
        activation::reshape_reference(input, output)
    }

    fn softmax_lut(
        shape: &SoftmaxShape,
        table: &[f32; 256],
        output_scale: f32,
        input: &[i8],
        output: &mut [i8],
    ) -> Result<(), KernelError> {
        softmax::lut_reference(shape, table, output_scale, input, output)
    }

    fn softmax_fixed_point(p: &FixedPointSoftmaxParams, input: &[i8], output: &mut [i8]) -> Result<(), KernelError> {
        softmax::fixed_point_reference(p, input, output)
    }
}

/// The plain, unfused loops: TFLite reference semantics, the yardstick.
#[derive(Debug, Clone, Copy, Default)]
pub struct Reference;

impl KernelSet for Reference {
    const NAME: &'static str = "reference";
}

/// Layer groups in one pass (conv/depthwise + bias + requantization +
/// activation + a following RELU and pool) with taps clipped once per output
/// position; see [`crate::fused`]. FULLY_CONNECTED and the elementwise ops
/// are the reference's (already one pass each).
#[derive(Debug, Clone, Copy, Default)]
pub struct Fused;

impl KernelSet for Fused {
    const NAME: &'static str = "fused";
    const FUSES: bool = true;

    fn conv2d<F: Filter>(
        p: &ConvParams,
        input: &[i8],
        w: &ConvWeights<'_, F>,
        output: &mut [i8],
    ) -> Result<(), KernelError> {
        fused::conv2d::<Scalar, F>(p, input, w, &Epilogue::NONE, output)
    }

    fn depthwise_conv2d<F: Filter>(
        p: &DepthwiseParams,
        input: &[i8],
        w: &ConvWeights<'_, F>,
        output: &mut [i8],
    ) -> Result<(), KernelError> {
        fused::depthwise_conv2d(p, input, w, &Epilogue::NONE, output)
    }
}

/// ARMv7E-M DSP inner loops (SXTB16/SXTAB16 + SMLAD, SMLABB/SMLATT) for
/// CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED; see [`crate::simd`]. It
/// runs layers unfused, like [`Reference`], so its gain is the inner loops'
/// alone.
#[derive(Debug, Clone, Copy, Default)]
pub struct Simd;

impl KernelSet for Simd {
    const NAME: &'static str = "simd";

    fn conv2d<F: Filter>(
        p: &ConvParams,
        input: &[i8],
        w: &ConvWeights<'_, F>,
        output: &mut [i8],
    ) -> Result<(), KernelError> {
        simd::conv2d(p, input, w, output)
    }

    fn depthwise_conv2d<F: Filter>(
        p: &DepthwiseParams,
        input: &[i8],
        w: &ConvWeights<'_, F>,
        output: &mut [i8],
    ) -> Result<(), KernelError> {
        simd::depthwise_conv2d(p, input, w, output)
    }

    fn fully_connected<F: Filter>(
        p: &FullyConnectedParams,
        input: &[i8],
        w: &FullyConnectedWeights<'_, F>,
        output: &mut [i8],
    ) -> Result<(), KernelError> {
        simd::fully_connected(p, input, w, output)
    }

    fn conv2d_fused<F: Filter>(
        p: &ConvParams,
        input: &[i8],
        w: &ConvWeights<'_, F>,
        epilogue: &Epilogue,
        output: &mut [i8],
    ) -> Result<(), KernelError> {
        fused::conv2d::<simd::Dsp, F>(p, input, w, epilogue, output)
    }
}

/// How closely a kernel set must match [`Reference`]. int8 and int4 kernels
/// are `Exact`: any rounding difference is a bug.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tolerance {
    Exact,
    /// Every output within this many quantization steps.
    WithinSteps(u8),
}

impl Tolerance {
    pub fn accepts(self, got: &[i8], expected: &[i8]) -> bool {
        match self {
            Tolerance::Exact => got == expected,
            Tolerance::WithinSteps(n) => {
                got.len() == expected.len()
                    && got
                        .iter()
                        .zip(expected)
                        .all(|(&a, &b)| (i16::from(a) - i16::from(b)).unsigned_abs() <= u16::from(n))
            }
        }
    }
}

/// Random cases for the conformance battery (proptest strategies). Test-only:
/// every kernel set lives in this crate, so no `proptest` in the firmware's
/// dependency graph.
#[cfg(test)]
pub mod testing {
    use proptest::collection::vec;
    use proptest::prelude::*;

    use super::{KernelSet, Reference};
    use crate::KernelError;
    use crate::activation::{FusedActivation, ReluParams};
    use crate::add::AddParams;
    use crate::conv2d::{ConvParams, Padding, Shape};
    use crate::depthwise::DepthwiseParams;
    use crate::fully_connected::{FullyConnectedParams, Rounding};
    use crate::fused::{Epilogue, FusedPool, PoolKind};
    use crate::pool::PoolParams;
    use crate::softmax::{FixedPointSoftmaxParams, SoftmaxShape};

    /// Filter, bias, per-channel multipliers and shifts for `channels` outputs.
    pub type Weights = (Vec<i8>, Vec<i32>, Vec<i32>, Vec<i32>);

    fn weights(filter_len: usize, channels: usize) -> impl Strategy<Value = Weights> {
        (
            vec(any::<i8>(), filter_len),
            vec(-20_000i32..20_000, channels),
            vec((1i32 << 30)..i32::MAX, channels),
            vec(-14i32..=1, channels),
        )
    }

    fn activation_range() -> impl Strategy<Value = (i32, i32)> {
        (-128i32..=127, -128i32..=127).prop_map(|(a, b)| (a.min(b), a.max(b)))
    }

    /// Batches, input, filter, stride and dilation (height, width), padding.
    type Geometry = (usize, Shape, (usize, usize), (usize, usize), (usize, usize), Padding);

    fn geometry() -> impl Strategy<Value = Geometry> {
        (
            1usize..=2,
            (1usize..=7, 1usize..=7, 1usize..=4),
            (1usize..=3, 1usize..=3),
            (1usize..=3, 1usize..=3),
            (1usize..=2, 1usize..=2),
            any::<bool>(),
        )
            .prop_map(|(batches, (h, w, c), filter, stride, dilation, same)| {
                let padding = if same { Padding::Same } else { Padding::Valid };
                (batches, Shape { height: h, width: w, channels: c }, filter, stride, dilation, padding)
            })
    }

    pub fn conv() -> impl Strategy<Value = (ConvParams, Vec<i8>, Weights)> {
        (geometry(), 1usize..=4, -128i32..=127, -128i32..=127, activation_range())
            .prop_filter_map("empty output", |((batches, input, f, s, d, padding), cout, zp, out_zp, (lo, hi))| {
                let p = ConvParams {
                    batches,
                    input,
                    filter_height: f.0,
                    filter_width: f.1,
                    output_channels: cout,
                    stride_height: s.0,
                    stride_width: s.1,
                    dilation_height: d.0,
                    dilation_width: d.1,
                    padding,
                    input_offset: -zp,
                    output_offset: out_zp,
                    activation_min: lo,
                    activation_max: hi,
                };
                p.validate().ok().map(|()| p)
            })
            .prop_flat_map(|p| (Just(p), vec(any::<i8>(), p.input_len()), weights(p.filter_len(), p.output_channels)))
    }

    pub fn depthwise() -> impl Strategy<Value = (DepthwiseParams, Vec<i8>, Weights)> {
        (geometry(), 1usize..=3, -128i32..=127, -128i32..=127, activation_range())
            .prop_filter_map("empty output", |((batches, input, f, s, d, padding), mult, zp, out_zp, (lo, hi))| {
                let p = DepthwiseParams {
                    batches,
                    input,
                    filter_height: f.0,
                    filter_width: f.1,
                    depth_multiplier: mult,
                    stride_height: s.0,
                    stride_width: s.1,
                    dilation_height: d.0,
                    dilation_width: d.1,
                    padding,
                    input_offset: -zp,
                    output_offset: out_zp,
                    activation_min: lo,
                    activation_max: hi,
                };
                p.validate().ok().map(|()| p)
            })
            .prop_flat_map(|p| (Just(p), vec(any::<i8>(), p.input_len()), weights(p.filter_len(), p.output_channels())))
    }

    pub fn fully_connected() -> impl Strategy<Value = (FullyConnectedParams, Vec<i8>, Weights)> {
        let sizes = (1usize..=3, 1usize..=40, 1usize..=8);
        let offsets = (-128i32..=127, -3i32..=3, -128i32..=127);
        (sizes, offsets, activation_range(), any::<bool>(), any::<bool>()).prop_flat_map(
            |((batches, accum_depth, output_depth), (zp, filter_offset, out_zp), (lo, hi), per_channel, single)| {
                let p = FullyConnectedParams {
                    batches,
                    accum_depth,
                    output_depth,
                    input_offset: -zp,
                    filter_offset,
                    output_offset: out_zp,
                    activation_min: lo,
                    activation_max: hi,
                    rounding: if single { Rounding::Single } else { Rounding::Double },
                };
                let quant = if per_channel { output_depth } else { 1 };
                (
                    Just(p),
                    vec(any::<i8>(), p.input_len()),
                    (
                        vec(any::<i8>(), p.filter_len()),
                        vec(-20_000i32..20_000, output_depth),
                        vec((1i32 << 30)..i32::MAX, quant),
                        vec(-14i32..=1, quant),
                    ),
                )
            },
        )
    }

    pub fn pool() -> impl Strategy<Value = (PoolParams, Vec<i8>)> {
        (geometry(), activation_range())
            .prop_filter_map("empty output", |((batches, input, f, s, _, padding), (lo, hi))| {
                let p = PoolParams {
                    batches,
                    input,
                    filter_height: f.0,
                    filter_width: f.1,
                    stride_height: s.0,
                    stride_width: s.1,
                    padding,
                    activation_min: lo,
                    activation_max: hi,
                };
                p.validate().ok().map(|()| p)
            })
            .prop_flat_map(|p| (Just(p), vec(any::<i8>(), p.input_len())))
    }

    fn scale() -> impl Strategy<Value = f32> {
        (1e-3f32..1.0).prop_map(|s| s)
    }

    pub fn add() -> impl Strategy<Value = (AddParams, Vec<i8>, Vec<i8>)> {
        (1usize..=64, (scale(), -128i32..=127), (scale(), -128i32..=127), (scale(), -128i32..=127), activation_range())
            .prop_flat_map(|(size, a, b, out, range)| {
                let p = AddParams::from_scales(size, a, b, out, range);
                (Just(p), vec(any::<i8>(), size), vec(any::<i8>(), size))
            })
    }

    pub fn relu() -> impl Strategy<Value = (ReluParams, Vec<i8>)> {
        let kind =
            prop_oneof![Just(FusedActivation::Relu), Just(FusedActivation::Relu6), Just(FusedActivation::ReluN1To1)];
        (kind, 1usize..=64, (scale(), -128i32..=127), (scale(), -128i32..=127))
            .prop_flat_map(|(kind, size, i, o)| (Just(ReluParams::new(kind, size, i, o)), vec(any::<i8>(), size)))
    }

    pub fn softmax() -> impl Strategy<Value = (SoftmaxShape, f32, Vec<i8>)> {
        (1usize..=3, 1usize..=16, 1e-3f32..0.5).prop_flat_map(|(outer, depth, input_scale)| {
            let shape = SoftmaxShape { outer, depth };
            (Just(shape), Just(input_scale), vec(any::<i8>(), shape.len()))
        })
    }

    pub fn fixed_point_softmax_params(shape: SoftmaxShape, input_scale: f32) -> FixedPointSoftmaxParams {
        FixedPointSoftmaxParams::new(shape, input_scale, 1.0)
    }

    /// Random int8 weights squeezed into int4 (`>> 4`: `-8..=7`) and packed.
    pub fn int4(filter: &[i8]) -> Vec<u8> {
        let values: Vec<i8> = filter.iter().map(|&v| v >> 4).collect();
        let mut packed = vec![0u8; values.len().div_ceil(2)];
        crate::filter::pack_int4(&values, &mut packed);
        packed
    }

    /// An optional standalone RELU and an optional pool after a convolution
    /// producing `batches` images of `shape`.
    pub fn epilogue(batches: usize, shape: Shape) -> impl Strategy<Value = Epilogue> {
        let kind =
            prop_oneof![Just(FusedActivation::Relu), Just(FusedActivation::Relu6), Just(FusedActivation::ReluN1To1)];
        let relu = proptest::option::of(
            (kind, (scale(), -128i32..=127), (scale(), -128i32..=127))
                .prop_map(move |(kind, i, o)| ReluParams::new(kind, batches * shape.len(), i, o)),
        );
        let pool = proptest::option::of(
            (
                any::<bool>(),
                (1usize..=4, 1usize..=4),
                (1usize..=3, 1usize..=3),
                any::<bool>(),
                any::<bool>(),
                activation_range(),
            )
                .prop_map(move |(max, (fh, fw), (sh, sw), same, global, (lo, hi))| {
                    // A window larger than the image would make a Valid output empty: clamp it.
                    let (fh, fw) =
                        if global { (shape.height, shape.width) } else { (fh.min(shape.height), fw.min(shape.width)) };
                    FusedPool {
                        kind: if max { PoolKind::Max } else { PoolKind::Average },
                        params: PoolParams {
                            batches,
                            input: shape,
                            filter_height: fh,
                            filter_width: fw,
                            stride_height: sh,
                            stride_width: sw,
                            padding: if same { Padding::Same } else { Padding::Valid },
                            activation_min: lo,
                            activation_max: hi,
                        },
                    }
                }),
        );
        (relu, pool).prop_map(|(relu, pool)| Epilogue { relu, pool })
    }

    pub fn conv_group() -> impl Strategy<Value = (ConvParams, Vec<i8>, Weights, Epilogue)> {
        conv().prop_flat_map(|(p, input, w)| (Just(p), Just(input), Just(w), epilogue(p.batches, p.output_shape())))
    }

    pub fn depthwise_group() -> impl Strategy<Value = (DepthwiseParams, Vec<i8>, Weights, Epilogue)> {
        depthwise()
            .prop_flat_map(|(p, input, w)| (Just(p), Just(input), Just(w), epilogue(p.batches, p.output_shape())))
    }

    /// The unfused schedule of a layer group with the reference kernels: the
    /// convolution into a buffer, RELU into another, then the pool.
    pub fn reference_chain(
        conv: impl FnOnce(&mut [i8]) -> Result<(), KernelError>,
        conv_len: usize,
        epilogue: &Epilogue,
        output: &mut [i8],
    ) -> Result<(), KernelError> {
        let mut a = vec![0i8; conv_len];
        conv(&mut a)?;
        if let Some(relu) = &epilogue.relu {
            let mut b = vec![0i8; conv_len];
            Reference::relu(relu, &a, &mut b)?;
            a = b;
        }
        match &epilogue.pool {
            Some(FusedPool { kind: PoolKind::Average, params }) => Reference::average_pool(params, &a, output),
            Some(FusedPool { kind: PoolKind::Max, params }) => Reference::max_pool(params, &a, output),
            None => Reference::reshape(&a, output),
        }
    }
}

/// The conformance battery: `kernel_conformance!(module_name, KernelSetType, Tolerance::Exact);`
/// generates one proptest per op that runs the set and [`Reference`] on the
/// same random case (shapes, strides, paddings, dilations, quantization) and
/// requires the outputs to agree within the tolerance: every op, its int4
/// variant for the weighted ones, and the fused layer groups (against the
/// unfused reference chain, int8 and int4). Test-only, like
/// [`testing`]: instantiate it in the new set's `#[cfg(test)]` module.
#[cfg(test)]
#[macro_export]
macro_rules! kernel_conformance {
    ($name:ident, $set:ty, $tolerance:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            use $crate::kernel_set::testing;
            use $crate::kernel_set::{KernelSet, Reference, Tolerance};
            use proptest::prelude::*;

            fn both(
                mut run: impl FnMut(bool, &mut [i8]) -> Result<(), $crate::KernelError>,
                len: usize,
            ) -> Result<(), TestCaseError> {
                let (mut got, mut expected) = (vec![0i8; len], vec![0i8; len]);
                let (a, b) = (run(true, &mut got), run(false, &mut expected));
                prop_assert_eq!(a, b);
                let tolerance: Tolerance = $tolerance;
                prop_assert!(tolerance.accepts(&got, &expected), "{:?}\n vs reference\n{:?}", got, expected);
                Ok(())
            }

            proptest! {
                #[test]
                fn conv2d((p, input, (f, bias, m, s)) in testing::conv()) {
                    let w = $crate::conv2d::ConvWeights { filter: &f, bias: Some(&bias), output_multiplier: &m, output_shift: &s };
                    both(|set, out| if set { <$set>::conv2d(&p, &input, &w, out) } else { Reference::conv2d(&p, &input, &w, out) }, p.output_len())?;
                }

                #[test]
                fn depthwise_conv2d((p, input, (f, bias, m, s)) in testing::depthwise()) {
                    let w = $crate::conv2d::ConvWeights { filter: &f, bias: Some(&bias), output_multiplier: &m, output_shift: &s };
                    both(|set, out| if set { <$set>::depthwise_conv2d(&p, &input, &w, out) } else { Reference::depthwise_conv2d(&p, &input, &w, out) }, p.output_len())?;
                }

                #[test]
                fn fully_connected((p, input, (f, bias, m, s)) in testing::fully_connected()) {
                    let w = $crate::fully_connected::FullyConnectedWeights { filter: &f, bias: Some(&bias), output_multiplier: &m, output_shift: &s };
                    both(|set, out| if set { <$set>::fully_connected(&p, &input, &w, out) } else { Reference::fully_connected(&p, &input, &w, out) }, p.output_len())?;
                }

                #[test]
                fn conv2d_int4((p, input, (f, bias, m, s)) in testing::conv()) {
                    let packed = testing::int4(&f);
                    let filter = $crate::filter::Int4::new(&packed, f.len()).unwrap();
                    let w = $crate::conv2d::ConvWeights { filter, bias: Some(&bias), output_multiplier: &m, output_shift: &s };
                    both(|set, out| if set { <$set>::conv2d(&p, &input, &w, out) } else { Reference::conv2d(&p, &input, &w, out) }, p.output_len())?;
                }

                #[test]
                fn depthwise_conv2d_int4((p, input, (f, bias, m, s)) in testing::depthwise()) {
                    let packed = testing::int4(&f);
                    let filter = $crate::filter::Int4::new(&packed, f.len()).unwrap();
                    let w = $crate::conv2d::ConvWeights { filter, bias: Some(&bias), output_multiplier: &m, output_shift: &s };
                    both(|set, out| if set { <$set>::depthwise_conv2d(&p, &input, &w, out) } else { Reference::depthwise_conv2d(&p, &input, &w, out) }, p.output_len())?;
                }

                #[test]
                fn fully_connected_int4((p, input, (f, bias, m, s)) in testing::fully_connected()) {
                    let packed = testing::int4(&f);
                    let filter = $crate::filter::Int4::new(&packed, f.len()).unwrap();
                    let w = $crate::fully_connected::FullyConnectedWeights { filter, bias: Some(&bias), output_multiplier: &m, output_shift: &s };
                    both(|set, out| if set { <$set>::fully_connected(&p, &input, &w, out) } else { Reference::fully_connected(&p, &input, &w, out) }, p.output_len())?;
                }

                /// A fused layer group (conv + RELU? + pool?) against the unfused reference chain.
                #[test]
                fn conv2d_group((p, input, (f, bias, m, s), epilogue) in testing::conv_group(), int4 in any::<bool>()) {
                    let packed = testing::int4(&f);
                    let len = epilogue.output_len(p.batches, p.output_shape());
                    if int4 {
                        let filter = $crate::filter::Int4::new(&packed, f.len()).unwrap();
                        let w = $crate::conv2d::ConvWeights { filter, bias: Some(&bias), output_multiplier: &m, output_shift: &s };
                        both(|set, out| if set { <$set>::conv2d_fused(&p, &input, &w, &epilogue, out) } else { testing::reference_chain(|o| Reference::conv2d(&p, &input, &w, o), p.output_len(), &epilogue, out) }, len)?;
                    } else {
                        let w = $crate::conv2d::ConvWeights { filter: &f[..], bias: Some(&bias), output_multiplier: &m, output_shift: &s };
                        both(|set, out| if set { <$set>::conv2d_fused(&p, &input, &w, &epilogue, out) } else { testing::reference_chain(|o| Reference::conv2d(&p, &input, &w, o), p.output_len(), &epilogue, out) }, len)?;
                    }
                }

                #[test]
                fn depthwise_conv2d_group((p, input, (f, bias, m, s), epilogue) in testing::depthwise_group(), int4 in any::<bool>()) {
                    let packed = testing::int4(&f);
                    let len = epilogue.output_len(p.batches, p.output_shape());
                    if int4 {
                        let filter = $crate::filter::Int4::new(&packed, f.len()).unwrap();
                        let w = $crate::conv2d::ConvWeights { filter, bias: Some(&bias), output_multiplier: &m, output_shift: &s };
                        both(|set, out| if set { <$set>::depthwise_conv2d_fused(&p, &input, &w, &epilogue, out) } else { testing::reference_chain(|o| Reference::depthwise_conv2d(&p, &input, &w, o), p.output_len(), &epilogue, out) }, len)?;
                    } else {
                        let w = $crate::conv2d::ConvWeights { filter: &f[..], bias: Some(&bias), output_multiplier: &m, output_shift: &s };
                        both(|set, out| if set { <$set>::depthwise_conv2d_fused(&p, &input, &w, &epilogue, out) } else { testing::reference_chain(|o| Reference::depthwise_conv2d(&p, &input, &w, o), p.output_len(), &epilogue, out) }, len)?;
                    }
                }

                #[test]
                fn average_pool((p, input) in testing::pool()) {
                    both(|set, out| if set { <$set>::average_pool(&p, &input, out) } else { Reference::average_pool(&p, &input, out) }, p.output_len())?;
                }

                #[test]
                fn max_pool((p, input) in testing::pool()) {
                    both(|set, out| if set { <$set>::max_pool(&p, &input, out) } else { Reference::max_pool(&p, &input, out) }, p.output_len())?;
                }

                #[test]
                fn add((p, a, b) in testing::add()) {
                    both(|set, out| if set { <$set>::add(&p, &a, &b, out) } else { Reference::add(&p, &a, &b, out) }, p.size)?;
                }

                #[test]
                fn relu((p, input) in testing::relu()) {
                    both(|set, out| if set { <$set>::relu(&p, &input, out) } else { Reference::relu(&p, &input, out) }, p.size)?;
                }

                #[test]
                fn softmax((shape, input_scale, input) in testing::softmax()) {
                    let table = $crate::softmax::populate_table(input_scale, 1.0);
                    both(|set, out| if set { <$set>::softmax_lut(&shape, &table, 1.0 / 256.0, &input, out) } else { Reference::softmax_lut(&shape, &table, 1.0 / 256.0, &input, out) }, shape.len())?;
                    let p = testing::fixed_point_softmax_params(shape, input_scale);
                    both(|set, out| if set { <$set>::softmax_fixed_point(&p, &input, out) } else { Reference::softmax_fixed_point(&p, &input, out) }, shape.len())?;
                }
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    // The battery on the reference itself (its fused-group methods are the
    // portable `fused` ones, checked against the unfused chain), and on
    // every optimized set.
    crate::kernel_conformance!(reference_battery, Reference, Tolerance::Exact);
    crate::kernel_conformance!(fused_battery, Fused, Tolerance::Exact);
    crate::kernel_conformance!(simd_battery, Simd, Tolerance::Exact);

    /// int4 semantics: a packed filter computes exactly what the same values
    /// as an int8 filter compute.
    mod int4_is_int8_on_the_unpacked_values {
        use super::*;
        use crate::filter::Int4;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn conv2d((p, input, (f, bias, m, s)) in testing::conv()) {
                let packed = testing::int4(&f);
                let unpacked: Vec<i8> = f.iter().map(|&v| v >> 4).collect();
                let w4 = ConvWeights { filter: Int4::new(&packed, f.len()).unwrap(), bias: Some(&bias), output_multiplier: &m, output_shift: &s };
                let w8 = ConvWeights { filter: &unpacked[..], bias: Some(&bias), output_multiplier: &m, output_shift: &s };
                let (mut a, mut b) = (vec![0i8; p.output_len()], vec![0i8; p.output_len()]);
                Reference::conv2d(&p, &input, &w4, &mut a).unwrap();
                Reference::conv2d(&p, &input, &w8, &mut b).unwrap();
                prop_assert_eq!(a, b);
            }

            #[test]
            fn depthwise_conv2d((p, input, (f, bias, m, s)) in testing::depthwise()) {
                let packed = testing::int4(&f);
                let unpacked: Vec<i8> = f.iter().map(|&v| v >> 4).collect();
                let w4 = ConvWeights { filter: Int4::new(&packed, f.len()).unwrap(), bias: Some(&bias), output_multiplier: &m, output_shift: &s };
                let w8 = ConvWeights { filter: &unpacked[..], bias: Some(&bias), output_multiplier: &m, output_shift: &s };
                let (mut a, mut b) = (vec![0i8; p.output_len()], vec![0i8; p.output_len()]);
                Reference::depthwise_conv2d(&p, &input, &w4, &mut a).unwrap();
                Reference::depthwise_conv2d(&p, &input, &w8, &mut b).unwrap();
                prop_assert_eq!(a, b);
            }

            #[test]
            fn fully_connected((p, input, (f, bias, m, s)) in testing::fully_connected()) {
                let packed = testing::int4(&f);
                let unpacked: Vec<i8> = f.iter().map(|&v| v >> 4).collect();
                let w4 = FullyConnectedWeights { filter: Int4::new(&packed, f.len()).unwrap(), bias: Some(&bias), output_multiplier: &m, output_shift: &s };
                let w8 = FullyConnectedWeights { filter: &unpacked[..], bias: Some(&bias), output_multiplier: &m, output_shift: &s };
                let (mut a, mut b) = (vec![0i8; p.output_len()], vec![0i8; p.output_len()]);
                Reference::fully_connected(&p, &input, &w4, &mut a).unwrap();
                Reference::fully_connected(&p, &input, &w8, &mut b).unwrap();
                prop_assert_eq!(a, b);
            }
        }
    }

    #[test]
    fn tolerance_accepts() {
        assert!(Tolerance::Exact.accepts(&[1, 2], &[1, 2]));
        assert!(!Tolerance::Exact.accepts(&[1, 2], &[1, 3]));
        assert!(Tolerance::WithinSteps(1).accepts(&[1, 2], &[1, 3]));
        assert!(!Tolerance::WithinSteps(1).accepts(&[-128], &[127]));
    }
}
