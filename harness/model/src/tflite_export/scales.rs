//! Real-valued scales for a `.tbm` model, derived from what it stores.
//!
//! A `.tbm` keeps the fixed-point parameters the kernels run with (Q0.31
//! multipliers and shifts, offsets, activation bounds, the softmax table),
//! not the `f32` scales TFLite computes them from. A TFLite file must carry
//! the scales, and LiteRT / TFLite Micro recompute every integer parameter
//! from them in `Prepare`. So the exporter needs `f32` scales for which
//! TFLite's arithmetic gives back **exactly** the stored integers; then any
//! TFLite runtime runs the same integer model.
//!
//! Each unknown is the scale of one class of activation tensors (tensors a
//! pool or RESHAPE connects share one); each layer is a constraint, checked
//! exactly with the TFLite formulas (`quantize_multiplier` of `f64` products
//! of `f32` scales, `AddParams::from_scales`, `ReluParams::new`,
//! `CalculateActivationRangeQuantized`, the softmax table):
//!
//! - a convolution or fully connected layer relates its input and output
//!   scale through one multiplier per channel, each with a free filter
//!   scale `w`. Scaling a tensor by a power of two is absorbed by `w`
//!   exactly, so these constraints fix *mantissas*, not exponents. With
//!   several distinct multipliers they pin the ratio `input / output` to
//!   about 2^-31 (one `f32` in ~2^7 fits; the first pass,
//!   [`ratio_intervals`], finds those ratios by trying every `f32` filter
//!   scale of channel 0 in one binade);
//! - ADD, a standalone RELU, a softmax (its table is a function of the
//!   input scale), a RELU6 range and a given scale (`--input-scale`, or the
//!   scales of the source `.tflite`) fix values, exponents included.
//!
//! The search assigns classes one at a time, each from the constraint that
//! pins it best given those already assigned, and backtracks on a
//! contradiction; a class nothing pins yet (the model input) is enumerated
//! over one binade, filtered by its pinned neighbours. Every candidate is
//! checked exactly, so a solution reproduces every stored integer; a wrong
//! guess costs time, never correctness. Exponents no constraint fixes are
//! chosen so a layer's output scale is within a factor √2 of its input's.

use std::cell::OnceCell;

use tinybench_kernels::activation::FusedActivation;
use tinybench_kernels::add::AddParams;
use tinybench_kernels::quant::quantize_multiplier;
use tinybench_kernels::softmax::{FixedPointSoftmaxParams, populate_table};

/// Index of a class of activation tensors that share one scale.
pub(crate) type Class = usize;

/// How TFLite turns the scales of a weighted layer into its multiplier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Formula {
    /// `f64(input) * f64(filter) / f64(output)`: convolutions, per-channel
    /// FULLY_CONNECTED (`PopulateConvolutionQuantizationParams`).
    Double,
    /// `f64(input * filter) / f64(output)`, the product in `f32`: per-tensor
    /// FULLY_CONNECTED (`GetQuantizedConvolutionMultipler`).
    FloatProduct,
}

/// The `(multiplier, shift)` TFLite computes for one channel.
pub(crate) fn requantization(formula: Formula, input: f32, filter: f32, output: f32) -> (i32, i32) {
    let real = match formula {
        Formula::Double => f64::from(input) * f64::from(filter) / f64::from(output),
        Formula::FloatProduct => f64::from(input * filter) / f64::from(output),
    };
    if !real.is_finite() {
        return (i32::MIN, i32::MIN); // matches nothing stored
    }
    quantize_multiplier(real)
}

/// `x` moved by `steps` units in the last place (positive finite `x`).
fn ulps(x: f32, steps: i32) -> f32 {
    f32::from_bits(x.to_bits().wrapping_add_signed(steps))
}

/// Positive normal `f32` values near the real `x`, nearest first.
fn near(x: f64, spread: i32) -> impl Iterator<Item = f32> {
    let center = x as f32;
    let ok = center.is_normal() && center > 0.0;
    (0..=2 * spread)
        .map(move |i| if i % 2 == 0 { i / 2 } else { -(i + 1) / 2 })
        .filter(move |_| ok)
        .map(move |d| ulps(center, d))
        .filter(|v| v.is_normal() && *v > 0.0)
}

/// The real multiplier a stored `(multiplier, shift)` stands for.
fn real_of((multiplier, shift): (i32, i32)) -> f64 {
    f64::from(multiplier) * 2f64.powi(shift - 31)
}

/// The filter scale that makes TFLite compute `stored` from `input` and
/// `output`, if one exists (the mapping is monotone: the nearest `f32` to
/// the exact quotient or a neighbour).
pub(crate) fn filter_scale(formula: Formula, input: f32, output: f32, stored: (i32, i32)) -> Option<f32> {
    // (0, 0) stands for a multiplier below 2^-32 (TFLite's encoding of zero).
    let target = if stored == (0, 0) { 2f64.powi(-40) } else { real_of(stored) };
    if target <= 0.0 {
        return None;
    }
    let center = target * f64::from(output) / f64::from(input);
    near(center, 4).find(|&w| requantization(formula, input, w, output) == stored)
}

/// The reals `quantize_multiplier` maps to `(multiplier, shift)`: `[lo, hi)`.
fn cell((multiplier, shift): (i32, i32)) -> (f64, f64) {
    let unit = 2f64.powi(shift - 31);
    let m = f64::from(multiplier);
    // 2^30 also collects the reals whose mantissa rounds up to 2^31 one binade below.
    let lo = if multiplier == 1 << 30 { m - 0.25 } else { m - 0.5 };
    (lo * unit, (m + 0.5) * unit)
}

/// Relative slack on interval ends: covers the `f64` rounding of the
/// quotient; candidates are checked exactly afterwards.
const SLACK: f64 = 1e-12;

/// `x` (positive, finite) times the power of two that brings it into `[1, 2)`.
fn unit_binade(x: f64) -> (f64, f64) {
    // The exponent bits give the power directly: no log2 in the hot loops.
    let exponent = ((x.to_bits() >> 52) & 0x7ff) as i64;
    let factor = f64::from_bits(((2046 - exponent) as u64) << 52);
    (x * factor, factor)
}

/// Whether some `f32` times some power of two lies in `[lo, hi]` (positive,
/// `hi / lo` < 2): checked on the 2^-23 grid of `[1, 2)`.
fn any_f32_scaled_in(lo: f64, hi: f64) -> bool {
    let (a, factor) = unit_binade(lo);
    let b = hi * factor;
    (a * 8_388_608.0).ceil() <= b * 8_388_608.0
}

/// The first `f32` in `[lo, hi]` (both positive), if any.
fn first_f32_in(lo: f64, hi: f64) -> Option<f32> {
    let mut f = lo as f32;
    if !f.is_finite() || f <= 0.0 {
        return None;
    }
    if f64::from(f) < lo {
        f = ulps(f, 1);
    }
    (f64::from(f) <= hi).then_some(f)
}

/// Every `f32` in `[lo, hi]` (a handful at most for the intervals used here).
fn f32s_in(lo: f64, hi: f64) -> Vec<f32> {
    let mut out = Vec::new();
    let mut f = first_f32_in(lo, hi);
    while let Some(v) = f {
        if out.len() >= 16 || f64::from(v) > hi || !v.is_finite() {
            break;
        }
        out.push(v);
        f = Some(ulps(v, 1));
    }
    out
}

/// Most ratio intervals a layer may leave for it to count as pinning its
/// input/output ratio; more and it is only checked, not used to generate.
const MAX_INTERVALS: usize = 64;

/// The ratios `input / output` for which every channel's multiplier comes
/// from some `f32` filter scale (`Double` formula), with channel 0's filter
/// scale in `[1, 2)`; every other solution is one of these times a power
/// of two. `None` when more than [`MAX_INTERVALS`] survive (the layer does
/// not pin the ratio); an empty list when none does.
pub(crate) fn ratio_intervals(channels: &[(i32, i32)]) -> Option<Vec<(f64, f64)>> {
    let mut distinct: Vec<(i32, i32)> = channels.iter().copied().filter(|&c| c != (0, 0) && c.0 > 0).collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 2 {
        return None;
    }
    let cells: Vec<(f64, f64)> = distinct.iter().map(|&c| cell(c)).collect();
    let (lo0, hi0) = (cells[0].0 * (1.0 - SLACK), cells[0].1 * (1.0 + SLACK));
    let mut found = Vec::new();
    const GRID: f64 = 8_388_608.0; // 2^23: f32 mantissas in [1, 2)
    'filter: for mantissa in 0u32..1 << 23 {
        let w0 = 1.0 + f64::from(mantissa) / GRID;
        let mut lo = lo0 / w0;
        let mut hi = hi0 / w0;
        for &(clo, chi) in &cells[1..] {
            // Filter scales w with w * [lo, hi] meeting [clo, chi): the first on
            // the f32 grid (any power of two) at or above clo / hi.
            let (a, factor) = unit_binade(clo / hi);
            let w = (a * GRID).ceil() / GRID;
            if w > chi / lo * factor {
                continue 'filter;
            }
            let w = w / factor;
            lo = lo.max(clo * (1.0 - SLACK) / w);
            hi = hi.min(chi * (1.0 + SLACK) / w);
            if lo > hi {
                continue 'filter;
            }
        }
        found.push((lo, hi));
        if found.len() > MAX_INTERVALS {
            return None;
        }
    }
    Some(found)
}

/// A constraint between class scales; `layer` names it in errors.
#[derive(Debug, Clone)]
pub(crate) enum Constraint {
    /// CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED: one `(multiplier, shift)`
    /// per channel, each from the input scale, a free filter scale and the output scale.
    Weighted { layer: usize, input: Class, output: Class, channels: Vec<(i32, i32)>, formula: Formula },
    /// ADD: `AddParams::from_scales` gives back the stored multipliers.
    Add { layer: usize, a: Class, b: Class, out: Class, params: AddParams },
    /// Standalone RELU / RELU6 / RELU_N1_TO_1: `input / output` is the stored multiplier.
    Relu { layer: usize, input: Class, output: Class, multiplier: (i32, i32) },
    /// A fused or standalone activation range: one of `kinds` gives it.
    Range { layer: usize, class: Class, zero_point: i32, range: (i32, i32), kinds: &'static [FusedActivation] },
    /// The scale is one of `values` (a softmax table, a given scale).
    OneOf { layer: Option<usize>, class: Class, values: Vec<f32>, what: String },
}

/// Fused activations in the order the exporter prefers them.
pub(crate) const FUSED: &[FusedActivation] =
    &[FusedActivation::None, FusedActivation::Relu, FusedActivation::Relu6, FusedActivation::ReluN1To1];
/// The kinds a standalone RELU-family op can be.
pub(crate) const STANDALONE: &[FusedActivation] =
    &[FusedActivation::Relu, FusedActivation::Relu6, FusedActivation::ReluN1To1];

/// [`FusedActivation::range_int8`] (TFLite's `CalculateActivationRangeQuantized`),
/// saturating where the search tries scales so small the bound overflows `i32`.
fn range_int8(kind: FusedActivation, scale: f32, zero_point: i32) -> (i32, i32) {
    let quantize = |bound: f32| zero_point.saturating_add((bound / scale).round() as i32);
    let (low, high) = kind.bounds();
    (low.map_or(-128, |b| quantize(b).max(-128)), high.map_or(127, |b| quantize(b).min(127)))
}

/// The first of `kinds` whose range at `scale` and `zero_point` is `range`.
pub(crate) fn activation_kind(
    kinds: &[FusedActivation],
    scale: f32,
    zero_point: i32,
    range: (i32, i32),
) -> Option<FusedActivation> {
    kinds.iter().copied().find(|&k| range_int8(k, scale, zero_point) == range)
}

/// Whether `range` is given by a kind whose bounds do not depend on the scale.
fn range_is_scale_free(kinds: &[FusedActivation], zero_point: i32, range: (i32, i32)) -> bool {
    // NONE and RELU have no finite real bound but 0, which lands on the zero point.
    kinds
        .iter()
        .filter(|k| matches!(k, FusedActivation::None | FusedActivation::Relu))
        .any(|&k| range_int8(k, 1.0, zero_point) == range)
}

impl Constraint {
    fn layer(&self) -> Option<usize> {
        match self {
            Constraint::Weighted { layer, .. }
            | Constraint::Add { layer, .. }
            | Constraint::Relu { layer, .. }
            | Constraint::Range { layer, .. } => Some(*layer),
            Constraint::OneOf { layer, .. } => *layer,
        }
    }

    fn classes(&self) -> Vec<Class> {
        match self {
            Constraint::Weighted { input, output, .. } | Constraint::Relu { input, output, .. } => {
                vec![*input, *output]
            }
            Constraint::Add { a, b, out, .. } => vec![*a, *b, *out],
            Constraint::Range { class, .. } | Constraint::OneOf { class, .. } => vec![*class],
        }
    }

    /// Whether the assigned scales satisfy this constraint (as far as they
    /// are assigned: unassigned parts pass).
    fn holds(&self, scale: &[Option<f32>]) -> bool {
        match self {
            Constraint::Weighted { input, output, channels, formula, .. } => {
                let (Some(i), Some(o)) = (scale[*input], scale[*output]) else { return true };
                let mut seen: Vec<(i32, i32)> = Vec::new();
                channels.iter().all(|&c| {
                    if seen.contains(&c) {
                        return true;
                    }
                    seen.push(c);
                    filter_scale(*formula, i, o, c).is_some()
                })
            }
            Constraint::Add { a, b, out, params, .. } => {
                let (Some(sa), Some(sb)) = (scale[*a], scale[*b]) else { return true };
                let got =
                    AddParams::from_scales(params.size, (sa, 0), (sb, 0), (scale[*out].unwrap_or(1.0), 0), (0, 0));
                let inputs = (got.input1_multiplier, got.input1_shift, got.input2_multiplier, got.input2_shift)
                    == (params.input1_multiplier, params.input1_shift, params.input2_multiplier, params.input2_shift);
                inputs
                    && (scale[*out].is_none()
                        || (got.output_multiplier, got.output_shift) == (params.output_multiplier, params.output_shift))
            }
            Constraint::Relu { input, output, multiplier, .. } => {
                let (Some(i), Some(o)) = (scale[*input], scale[*output]) else { return true };
                quantize_multiplier(f64::from(i) / f64::from(o)) == *multiplier
            }
            Constraint::Range { class, zero_point, range, kinds, .. } => {
                scale[*class].is_none_or(|s| activation_kind(kinds, s, *zero_point, *range).is_some())
            }
            Constraint::OneOf { class, values, .. } => {
                scale[*class].is_none_or(|s| values.iter().any(|v| v.to_bits() == s.to_bits()))
            }
        }
    }
}

/// Candidate input scales of a LiteRT softmax table (beta 1: the table is
/// `exp(-input_scale * d)`, so it fixes the input scale).
pub(crate) fn softmax_table_scales(table: &[f32; 256]) -> Vec<f32> {
    let e1 = f64::from(table[254]);
    if !(e1 > 0.0 && e1 < 1.0) {
        return Vec::new();
    }
    near(-e1.ln(), 256).filter(|&s| populate_table(s, 1.0) == *table).collect()
}

/// Candidate input scales of a TFLite Micro fixed-point softmax (beta 1).
pub(crate) fn softmax_fixed_scales(params: &FixedPointSoftmaxParams) -> Vec<f32> {
    let real = real_of((params.input_multiplier, params.input_left_shift)) / 2f64.powi(26);
    near(real, 8)
        .filter(|&s| {
            let p = FixedPointSoftmaxParams::new(params.shape, s, 1.0);
            (p.input_multiplier, p.input_left_shift, p.diff_min)
                == (params.input_multiplier, params.input_left_shift, params.diff_min)
        })
        .collect()
}

/// Why no scales were found.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SolveError {
    /// The layer whose constraint failed most often, if one did.
    pub layer: Option<usize>,
    pub detail: String,
}

/// How many candidate scales the search may try before giving up.
const BUDGET: u64 = 1 << 26;

/// A layer's [`ratio_intervals`], computed when first needed.
type Ratios = Option<Vec<(f64, f64)>>;

/// Candidates for one class: a list, or every `f32` of an interval in turn.
enum Candidates {
    List(Vec<f32>),
    Range { next: u32, last: u32 },
}

struct Search<'p> {
    constraints: &'p [Constraint],
    /// Constraints touching each class.
    touching: Vec<Vec<usize>>,
    /// First-seen order of the classes (the model input first).
    order: &'p [Class],
    /// Classes whose exponent matters: a scale-dependent activation range or
    /// a fixed value, directly or through exact ratios (ADD, RELU).
    absolute: Vec<bool>,
    ratios: Vec<OnceCell<Ratios>>,
    scale: Vec<Option<f32>>,
    tried: u64,
    failures: Vec<u64>,
}

/// Finds a scale for every class such that every constraint holds.
///
/// `order` lists the classes in the order they are first produced (the
/// model input first): unpinned classes are enumerated in that order.
pub(crate) fn solve(classes: usize, constraints: &[Constraint], order: &[Class]) -> Result<Vec<f32>, SolveError> {
    let mut touching = vec![Vec::new(); classes];
    let mut absolute = vec![false; classes];
    for (i, c) in constraints.iter().enumerate() {
        for class in c.classes() {
            if !touching[class].contains(&i) {
                touching[class].push(i);
            }
        }
        match c {
            Constraint::Range { class, zero_point, range, kinds, .. }
                if !range_is_scale_free(kinds, *zero_point, *range) =>
            {
                absolute[*class] = true;
            }
            Constraint::OneOf { class, .. } => absolute[*class] = true,
            _ => {}
        }
    }
    // An exact ratio (ADD, RELU) to a class whose exponent matters makes it matter too.
    loop {
        let mut changed = false;
        for c in constraints {
            let linked = match c {
                Constraint::Relu { input, output, .. } => vec![*input, *output],
                Constraint::Add { a, b, out, .. } => vec![*a, *b, *out],
                _ => continue,
            };
            if linked.iter().any(|&x| absolute[x]) && !linked.iter().all(|&x| absolute[x]) {
                linked.iter().for_each(|&x| absolute[x] = true);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let mut search = Search {
        constraints,
        touching,
        order,
        absolute,
        ratios: (0..constraints.len()).map(|_| OnceCell::new()).collect(),
        scale: vec![None; classes],
        tried: 0,
        failures: vec![0; constraints.len()],
    };
    if search.run() {
        return Ok(search.scale.into_iter().map(|s| s.expect("every class assigned")).collect());
    }
    Err(search.explain())
}

impl Search<'_> {
    fn ratios(&self, constraint: usize) -> Option<&Vec<(f64, f64)>> {
        self.ratios[constraint]
            .get_or_init(|| match &self.constraints[constraint] {
                Constraint::Weighted { channels, formula: Formula::Double, .. } => ratio_intervals(channels),
                _ => None,
            })
            .as_ref()
    }

    fn run(&mut self) -> bool {
        let Some((class, candidates)) = self.next() else { return true };
        let mut candidates = candidates;
        loop {
            let value = match &mut candidates {
                Candidates::List(list) => match list.pop() {
                    Some(v) => v,
                    None => break,
                },
                Candidates::Range { next, last } => {
                    if *next > *last {
                        break;
                    }
                    let v = f32::from_bits(*next);
                    *next += 1;
                    if !self.viable(class, v) {
                        continue;
                    }
                    v
                }
            };
            self.tried += 1;
            if self.tried > BUDGET {
                return false;
            }
            self.scale[class] = Some(value);
            if self.consistent(class) && self.run() {
                return true;
            }
            self.scale[class] = None;
        }
        false
    }

    /// Whether every constraint touching `class` holds; counts failures.
    fn consistent(&mut self, class: Class) -> bool {
        for &c in &self.touching[class] {
            if !self.constraints[c].holds(&self.scale) {
                self.failures[c] += 1;
                return false;
            }
        }
        true
    }

    /// Quick filter for enumerated values: each pinned layer from `class`
    /// to an unassigned class must leave an `f32` there.
    fn viable(&self, class: Class, value: f32) -> bool {
        for &c in &self.touching[class] {
            let Constraint::Weighted { input, output, .. } = &self.constraints[c] else { continue };
            let (other, forward) = if *input == class { (*output, true) } else { (*input, false) };
            if other == class || self.scale[other].is_some() {
                continue;
            }
            let Some(intervals) = self.ratios(c) else { continue };
            let v = f64::from(value);
            let mut fits = false;
            for &(lo, hi) in intervals {
                let (a, b) = if forward { (v / hi, v / lo) } else { (v * lo, v * hi) };
                // Any power of two of the partner will do.
                if any_f32_scaled_in(a, b) {
                    fits = true;
                    break;
                }
            }
            if !fits {
                return false;
            }
        }
        true
    }

    /// The next class to assign and its candidates (tried last first).
    fn next(&self) -> Option<(Class, Candidates)> {
        let mut best: Option<(u8, Class, Vec<f32>)> = None;
        // Exact generators first; pinned layers (which may need the ratio pass) only if none applies.
        for pinned_layers in [false, true] {
            for class in 0..self.scale.len() {
                if self.scale[class].is_some() {
                    continue;
                }
                for &c in &self.touching[class] {
                    if matches!(self.constraints[c], Constraint::Weighted { .. }) != pinned_layers {
                        continue;
                    }
                    let Some((priority, list)) = self.generate(c, class) else { continue };
                    let better = best.as_ref().is_none_or(|(p, _, l)| (priority, list.len()) < (*p, l.len()));
                    if better {
                        best = Some((priority, class, list));
                    }
                }
            }
            if best.is_some() {
                break;
            }
        }
        if let Some((_, class, mut list)) = best {
            list.reverse(); // popped from the end: preferred first
            return Some((class, Candidates::List(list)));
        }
        // Nothing pins a class yet: enumerate one. A class whose activation range bounds
        // its scale first (a narrow interval), else the first in production order.
        let unassigned = || self.order.iter().copied().filter(|&c| self.scale[c].is_none());
        let class = unassigned().find(|&c| self.free_interval(c).is_some()).or_else(|| unassigned().next())?;
        let (lo, hi) = self.free_interval(class).unwrap_or((2f64.powi(-8), 2f64.powi(-7) * (1.0 - f64::EPSILON)));
        let first = first_f32_in(lo, hi).map_or(1, f32::to_bits);
        let last = (hi as f32).to_bits();
        Some((class, Candidates::Range { next: first, last }))
    }

    /// Where to enumerate a class nothing pins: the interval a
    /// scale-dependent activation range allows, if it has one (else the
    /// caller takes `[2^-8, 2^-7)`, the binade of the usual input scale 1/255).
    fn free_interval(&self, class: Class) -> Option<(f64, f64)> {
        for &c in &self.touching[class] {
            let Constraint::Range { zero_point, range: (_, max), kinds, .. } = &self.constraints[c] else { continue };
            for kind in *kinds {
                let (_, high) = kind.bounds();
                if let Some(bound) = high
                    && *max < 127
                {
                    let n = f64::from(max - zero_point);
                    if n >= 1.0 {
                        return Some((f64::from(bound) / (n + 0.5), f64::from(bound) / (n - 0.5)));
                    }
                }
            }
        }
        None
    }

    /// Candidates for `class` from constraint `c` given the assigned
    /// scales, with a priority (lower first): 0 fixed values, 1 exact
    /// ratios, 2 pinned layers.
    fn generate(&self, c: usize, class: Class) -> Option<(u8, Vec<f32>)> {
        let scale = &self.scale;
        match &self.constraints[c] {
            Constraint::OneOf { values, .. } => Some((0, values.clone())),
            Constraint::Relu { input, output, multiplier, .. } => {
                let m = real_of(*multiplier);
                let x = if class == *output { f64::from(scale[*input]?) / m } else { f64::from(scale[*output]?) * m };
                Some((1, near(x, 3).collect()))
            }
            Constraint::Add { a, b, out, params, .. } => {
                if class == *out {
                    let twice_max = 2.0 * f64::from(scale[*a]?.max(scale[*b]?));
                    let x = twice_max
                        / (f64::from(1u32 << params.left_shift)
                            * real_of((params.output_multiplier, params.output_shift)));
                    return Some((1, near(x, 3).collect()));
                }
                let (known, known_m, own_m) = if class == *b {
                    (
                        scale[*a]?,
                        (params.input1_multiplier, params.input1_shift),
                        (params.input2_multiplier, params.input2_shift),
                    )
                } else {
                    (
                        scale[*b]?,
                        (params.input2_multiplier, params.input2_shift),
                        (params.input1_multiplier, params.input1_shift),
                    )
                };
                let k = f64::from(known);
                // The known input is the larger (own = s / 2k) or the smaller (known = k / 2s).
                let mut list: Vec<f32> = near(2.0 * k * real_of(own_m), 3).collect();
                list.extend(near(k / (2.0 * real_of(known_m)), 3));
                Some((1, list))
            }
            Constraint::Weighted { input, output, .. } => {
                let (known, forward) = if class == *output { (scale[*input]?, true) } else { (scale[*output]?, false) };
                let intervals = self.ratios(c)?;
                let k = f64::from(known);
                let mut mantissas = Vec::new();
                for &(lo, hi) in intervals {
                    let (a, b) = if forward { (k / hi, k / lo) } else { (k * lo, k * hi) };
                    let shift = 2f64.powi(-(a.log2().floor() as i32));
                    mantissas.extend(f32s_in(a * shift, b * shift));
                }
                // The exponent no weighted layer fixes: nearest to the known scale
                // first; others only where an activation range depends on it.
                let extra = if self.absolute[class] { 40 } else { 0 };
                let mut list = Vec::new();
                for step in 0..=2 * extra {
                    let delta = if step % 2 == 0 { step / 2 } else { -(step + 1) / 2 };
                    for &m in &mantissas {
                        let k0 = (k / f64::from(m)).log2().round() as i32;
                        let v = f64::from(m) * 2f64.powi(k0 + delta);
                        let v = v as f32;
                        if v.is_normal() {
                            list.push(v);
                        }
                    }
                }
                Some((2, list))
            }
            Constraint::Range { .. } => None,
        }
    }

    fn explain(&self) -> SolveError {
        let worst = self.failures.iter().enumerate().filter(|(_, n)| **n > 0).max_by_key(|(_, n)| **n).map(|(i, _)| i);
        // A weighted layer whose multipliers no ratio at all can give is the clearest cause.
        for (i, c) in self.constraints.iter().enumerate() {
            if let Constraint::Weighted { layer, channels, .. } = c
                && self.ratios(i).is_some_and(Vec::is_empty)
            {
                return SolveError {
                    layer: Some(*layer),
                    detail: format!(
                        "its {} per-channel requantization multipliers cannot all come from float32 scales, which \
                         is how TFLite computes them (a layer requantized after import, e.g. `--weights int4`?)",
                        channels.len()
                    ),
                };
            }
        }
        if self.tried > BUDGET {
            return SolveError {
                layer: worst.and_then(|i| self.constraints[i].layer()),
                detail: format!("no consistent float32 scales found within {BUDGET} tries"),
            };
        }
        match worst.map(|i| &self.constraints[i]) {
            Some(Constraint::OneOf { layer, what, .. }) => {
                SolveError { layer: *layer, detail: format!("no float32 scales reproduce it together with {what}") }
            }
            Some(c) => SolveError {
                layer: c.layer(),
                detail: "no float32 scales reproduce its fixed-point parameters together with the other layers'".into(),
            },
            None => SolveError { layer: None, detail: "no consistent float32 scales exist".into() },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_invert_quantize_multiplier() {
        for real in [0.3f64, 0.5, 0.75, 1.0 / 3.0, 0.0009765625, 1.7e-5, 0.999_999_999_9] {
            let q = quantize_multiplier(real);
            let (lo, hi) = cell(q);
            assert!(lo <= real && real < hi, "{real}: {q:?} -> [{lo}, {hi})");
            assert_eq!(quantize_multiplier(lo), q, "{real}: low end");
            assert_ne!(quantize_multiplier(hi), q, "{real}: high end is outside");
        }
    }

    #[test]
    fn filter_scales_are_found_exactly() {
        let (i, w, o) = (0.003_921_569_f32, 0.001_234_5_f32, 0.047_f32);
        for formula in [Formula::Double, Formula::FloatProduct] {
            let stored = requantization(formula, i, w, o);
            let found = filter_scale(formula, i, o, stored).unwrap();
            assert_eq!(requantization(formula, i, found, o), stored);
        }
    }

    /// Pseudo-random scales in `[lo, 2 lo)`: trained scales have no small
    /// rational relations (short decimals would, and then many ratios fit).
    fn random_scales(seed: u32, n: usize, lo: f32) -> Vec<f32> {
        let mut x = seed.wrapping_mul(2_654_435_761) | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                lo * (1.0 + (x >> 8) as f32 / (1 << 24) as f32)
            })
            .collect()
    }

    fn chain(tensors: &[f32], filters: &[Vec<f32>]) -> Vec<Constraint> {
        filters
            .iter()
            .enumerate()
            .map(|(l, ws)| Constraint::Weighted {
                layer: l,
                input: l,
                output: l + 1,
                channels: ws.iter().map(|&w| requantization(Formula::Double, tensors[l], w, tensors[l + 1])).collect(),
                formula: Formula::Double,
            })
            .collect()
    }

    /// A three-layer chain of per-channel convolutions with known scales:
    /// the search finds scales that give back every multiplier, with the
    /// true mantissas.
    #[test]
    fn a_pinned_chain_is_solved_up_to_powers_of_two() {
        let tensors = [1.0f32 / 255.0, 0.043_7, 0.117_2, 0.091_3];
        let filters = [random_scales(1, 6, 0.001), random_scales(2, 5, 0.002), random_scales(3, 6, 0.0005)];
        let constraints = chain(&tensors, &filters);
        for c in &constraints {
            let Constraint::Weighted { channels, .. } = c else { unreachable!() };
            assert_eq!(ratio_intervals(channels).map(|r| r.len()), Some(1), "the layer pins its ratio");
        }
        let scales = solve(4, &constraints, &[0, 1, 2, 3]).unwrap();
        for c in &constraints {
            assert!(c.holds(&scales.iter().map(|&s| Some(s)).collect::<Vec<_>>()));
        }
        // Same mantissas as the truth (bits below the exponent).
        let mantissa = |x: f32| x.to_bits() & 0x7f_ffff;
        for (got, want) in scales.iter().zip(&tensors) {
            assert_eq!(mantissa(*got), mantissa(*want), "{got} vs {want}");
        }
        // 1/255 lies in the binade enumerated first: found exactly.
        assert_eq!(scales[0], tensors[0]);
    }

    /// Filter scales with small rational relations leave many ratios: the
    /// layers only check, and the search still finds consistent scales.
    #[test]
    fn layers_that_do_not_pin_their_ratio_still_solve() {
        let tensors = [1.0f32 / 255.0, 0.043_7, 0.117_2];
        let filters = [vec![0.002_1f32, 0.000_73, 0.004_4, 0.001_9], vec![0.0017f32, 0.0029]];
        let constraints = chain(&tensors, &filters);
        let Constraint::Weighted { channels, .. } = &constraints[0] else { unreachable!() };
        assert_eq!(ratio_intervals(channels), None);
        let scales = solve(3, &constraints, &[0, 1, 2]).unwrap();
        let assigned: Vec<Option<f32>> = scales.iter().map(|&s| Some(s)).collect();
        assert!(constraints.iter().all(|c| c.holds(&assigned)));
    }

    #[test]
    fn multipliers_no_scales_give_are_reported() {
        // Independent random 31-bit multipliers: no single input/output ratio fits them all.
        let mut x = 0x9e37_79b9u32;
        let channels: Vec<(i32, i32)> = (0..12)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                ((1 << 30) + (x >> 2) as i32, -8)
            })
            .collect();
        assert_eq!(ratio_intervals(&channels), Some(Vec::new()));
        let c = Constraint::Weighted { layer: 3, input: 0, output: 1, channels, formula: Formula::Double };
        let err = solve(2, &[c], &[0, 1]).unwrap_err();
        assert_eq!(err.layer, Some(3));
        assert!(err.detail.contains("cannot all come from float32 scales"), "{}", err.detail);
    }

    #[test]
    fn the_activation_range_is_the_kernels_where_that_does_not_overflow() {
        for kind in FUSED {
            for (scale, zp) in [(0.05f32, -128), (0.0235, 3), (0.9, 127), (1e-3, -7)] {
                assert_eq!(range_int8(*kind, scale, zp), kind.range_int8(scale, zp), "{kind:?} {scale} {zp}");
            }
            let (lo, hi) = range_int8(*kind, 1e-30, 5);
            assert!((-128..=127).contains(&lo) && (-128..=127).contains(&hi));
        }
    }

    #[test]
    fn softmax_tables_give_back_their_input_scale() {
        let s = 0.144_692_51_f32;
        let found = softmax_table_scales(&populate_table(s, 1.0));
        assert!(found.contains(&s), "{found:?}");
        assert!(found.iter().all(|&x| populate_table(x, 1.0) == populate_table(s, 1.0)));
    }
}
