//! The float CNN: three 3×3 convolutions (SAME, ReLU), each followed by a
//! 2×2 max pool (28 → 14 → 7 → 3), then one fully connected layer from the
//! flattened 3×3×c3 features to 10 logits. Parameters live in plain vectors ([`Params`]: what pruning and
//! quantization edit); training turns them into candle variables.
//!
//! Layouts are candle's/PyTorch's: convolution weights `[out, in, 3, 3]`
//! (OIHW), dense weights `[out, c3, 3, 3]` (the dense layer read as a
//! 3×3 "convolution" over the pooled map: pruning and per-channel
//! quantization treat it like the convolutions); activations NCHW.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor, Var};

use crate::Error;
use crate::rng::Rng;

/// Kernel size of every convolution.
pub const K: usize = 3;
/// Classes.
pub const CLASSES: usize = 10;
/// Side of the last pooled map (28 → 14 → 7 → 3), flattened into the dense layer.
pub const POOLED: usize = 3;

/// One layer's float weights and bias; `shape` is the weight's.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    pub shape: Vec<usize>,
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
}

impl Layer {
    pub fn out_channels(&self) -> usize {
        self.shape[0]
    }

    pub fn in_channels(&self) -> usize {
        self.shape[1]
    }

    /// Weights per output channel.
    pub fn fan_in(&self) -> usize {
        self.shape[1..].iter().product()
    }

    /// The weights of output channel `o`.
    pub fn filter(&self, o: usize) -> &[f32] {
        &self.weight[o * self.fan_in()..(o + 1) * self.fan_in()]
    }
}

/// The whole network: `convs[0..3]` then `fc`.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    pub convs: Vec<Layer>,
    pub fc: Layer,
}

impl Params {
    /// He-normal weights, zero biases, from `seed`.
    pub fn init(channels: [usize; 3], seed: u64) -> Params {
        let mut rng = Rng::new(seed);
        let mut layer = |shape: Vec<usize>| {
            let fan_in: usize = shape[1..].iter().product();
            let std = (2.0 / fan_in as f64).sqrt();
            let n: usize = shape.iter().product();
            let weight = (0..n).map(|_| (rng.normal() * std) as f32).collect();
            Layer { bias: vec![0.0; shape[0]], shape, weight }
        };
        let mut inputs = 1;
        let mut convs = Vec::new();
        for c in channels {
            convs.push(layer(vec![c, inputs, K, K]));
            inputs = c;
        }
        let fc = layer(vec![CLASSES, inputs, POOLED, POOLED]);
        Params { convs, fc }
    }

    /// Output channels of the three convolutions.
    pub fn channels(&self) -> [usize; 3] {
        [self.convs[0].out_channels(), self.convs[1].out_channels(), self.convs[2].out_channels()]
    }

    pub fn layers(&self) -> impl Iterator<Item = &Layer> {
        self.convs.iter().chain(std::iter::once(&self.fc))
    }

    /// Trainable parameters (weights and biases).
    pub fn count(&self) -> usize {
        self.layers().map(|l| l.weight.len() + l.bias.len()).sum()
    }

    /// Multiply-accumulates of one inference (convolutions and the dense layer).
    pub fn macs(&self) -> u64 {
        let sides = [28u64, 14, 7];
        let conv: u64 = self.convs.iter().zip(sides).map(|(l, s)| s * s * l.weight.len() as u64).sum();
        conv + self.fc.weight.len() as u64
    }

    fn names() -> [&'static str; 4] {
        ["conv1", "conv2", "conv3", "fc"]
    }

    /// Saves as safetensors: `conv1.weight`, `conv1.bias`, … `fc.bias` (f32).
    ///
    /// # Errors
    /// [`Error::Candle`] if the file cannot be written.
    pub fn save(&self, path: &Path) -> Result<(), Error> {
        let mut map = HashMap::new();
        for (name, l) in Self::names().into_iter().zip(self.layers()) {
            map.insert(format!("{name}.weight"), Tensor::from_slice(&l.weight, l.shape.as_slice(), &Device::Cpu)?);
            map.insert(format!("{name}.bias"), Tensor::from_slice(&l.bias, l.bias.len(), &Device::Cpu)?);
        }
        candle_core::safetensors::save(&map, path).map_err(|e| Error::Candle(format!("{}: {e}", path.display())))
    }

    /// Loads what [`Params::save`] wrote.
    ///
    /// # Errors
    /// [`Error::Candle`] for a missing file or tensor, or shapes that do not chain.
    pub fn load(path: &Path) -> Result<Params, Error> {
        let bad = |d: String| Error::Candle(format!("{}: {d}; retrain with `tinybench model train`", path.display()));
        let map = candle_core::safetensors::load(path, &Device::Cpu).map_err(|e| bad(e.to_string()))?;
        let mut layers = Vec::new();
        for name in Self::names() {
            let get = |key: String| map.get(&key).cloned().ok_or_else(|| bad(format!("no tensor `{key}`")));
            let w = get(format!("{name}.weight"))?;
            let b = get(format!("{name}.bias"))?;
            layers.push(Layer { shape: w.dims().to_vec(), weight: w.flatten_all()?.to_vec1()?, bias: b.to_vec1()? });
        }
        let fc = layers.pop().expect("four layers");
        let params = Params { convs: layers, fc };
        params.check().map_err(bad)?;
        Ok(params)
    }

    /// Shapes chain: 1 input channel, each layer's input = the previous output, 10 classes.
    pub fn check(&self) -> Result<(), String> {
        let mut inputs = 1;
        for (i, l) in self.layers().enumerate() {
            let conv = i < 3;
            let ok = if conv {
                l.shape.len() == 4 && l.shape[2..] == [K, K]
            } else {
                l.shape == [CLASSES, inputs, POOLED, POOLED]
            };
            if !ok || l.in_channels() != inputs || l.bias.len() != l.out_channels() {
                return Err(format!("layer {} has shape {:?} after {inputs} channels", i + 1, l.shape));
            }
            inputs = l.out_channels();
        }
        Ok(())
    }
}

/// The parameters as candle variables, in [`Params::layers`] order: weight, bias.
pub struct Vars(pub Vec<Var>);

impl Vars {
    /// # Errors
    /// [`Error::Candle`] (allocation).
    pub fn new(p: &Params) -> Result<Vars, Error> {
        let mut vars = Vec::new();
        for l in p.layers() {
            vars.push(Var::from_slice(&l.weight, l.shape.as_slice(), &Device::Cpu)?);
            vars.push(Var::from_slice(&l.bias, l.bias.len(), &Device::Cpu)?);
        }
        Ok(Vars(vars))
    }

    /// Back to plain vectors.
    ///
    /// # Errors
    /// [`Error::Candle`].
    pub fn params(&self) -> Result<Params, Error> {
        let mut layers = Vec::new();
        for pair in self.0.chunks(2) {
            layers.push(Layer {
                shape: pair[0].dims().to_vec(),
                weight: pair[0].flatten_all()?.to_vec1()?,
                bias: pair[1].to_vec1()?,
            });
        }
        let fc = layers.pop().expect("four layers");
        Ok(Params { convs: layers, fc })
    }

    /// Logits `[batch, 10]` for images `[batch, 1, 28, 28]` (real values
    /// `pixel / 255`). With `weight_bits`, weights are fake-quantized per
    /// output channel (symmetric, `±(2^(bits-1) - 1)` levels) with a
    /// straight-through gradient: quantization-aware fine-tuning.
    ///
    /// # Errors
    /// [`Error::Candle`].
    pub fn forward(&self, x: &Tensor, weight_bits: Option<u32>) -> Result<Tensor, Error> {
        Ok(forward_tensors(&self.0.iter().map(|v| v.as_tensor().clone()).collect::<Vec<_>>(), x, weight_bits)?)
    }
}

/// Per-output-channel symmetric fake quantization with a straight-through gradient.
fn fake_quant(w: &Tensor, bits: u32) -> candle_core::Result<Tensor> {
    let levels = f64::from((1u32 << (bits - 1)) - 1);
    let flat = w.flatten_from(1)?;
    let scale = (flat.abs()?.max_keepdim(1)?.clamp(1e-8, f64::MAX)? / levels)?;
    let q = flat.broadcast_div(&scale)?.round()?.broadcast_mul(&scale)?;
    let q = (&flat + (q - &flat)?.detach())?;
    q.reshape(w.shape())
}

/// The forward pass over `[w1, b1, w2, b2, w3, b3, wfc, bfc]`.
pub fn forward_tensors(t: &[Tensor], x: &Tensor, weight_bits: Option<u32>) -> candle_core::Result<Tensor> {
    let w = |i: usize| match weight_bits {
        Some(bits) => fake_quant(&t[2 * i], bits),
        None => Ok(t[2 * i].clone()),
    };
    let mut h = x.clone();
    for i in 0..3 {
        let out = t[2 * i].dim(0)?;
        h = pool(&h.conv2d(&w(i)?, 1, 1, 1, 1)?.broadcast_add(&t[2 * i + 1].reshape((1, out, 1, 1))?)?.relu()?)?;
    }
    dense(&h, &w(3)?, &t[7])
}

/// 2×2 max pool, VALID. An odd side loses its last row and column first:
/// the same forward result, but candle's max-pool gradient upsamples the
/// pooled map back to the input size by nearest neighbour, which for 7 → 3
/// would route gradients to the wrong pixels (the network then barely trains).
fn pool(h: &Tensor) -> candle_core::Result<Tensor> {
    let (_, _, height, width) = h.dims4()?;
    h.narrow(2, 0, height - height % 2)?.narrow(3, 0, width - width % 2)?.max_pool2d(2)
}

/// The dense layer on the pooled map `[batch, c3, 3, 3]`: flattened in
/// channel-major order, the order of the `[10, c3, 3, 3]` weights.
fn dense(h: &Tensor, w: &Tensor, b: &Tensor) -> candle_core::Result<Tensor> {
    h.flatten_from(1)?.matmul(&w.flatten_from(1)?.t()?)?.broadcast_add(b)
}

/// Intermediate activations of the float network, for calibration: the
/// outputs of conv1, conv2, conv3 (after ReLU), the last max pool and the logits.
pub fn activations(p: &Params, x: &Tensor) -> Result<[Tensor; 5], Error> {
    let t: Vec<Tensor> = Vars::new(p)?.0.iter().map(|v| v.as_tensor().clone()).collect();
    let mut h = x.clone();
    let mut convs = Vec::new();
    for i in 0..3 {
        let out = t[2 * i].dim(0)?;
        let c = h.conv2d(&t[2 * i], 1, 1, 1, 1)?.broadcast_add(&t[2 * i + 1].reshape((1, out, 1, 1))?)?.relu()?;
        h = pool(&c)?;
        convs.push(c);
    }
    let logits = dense(&h, &t[6], &t[7])?;
    let pooled = h;
    let [c1, c2, c3]: [Tensor; 3] = convs.try_into().expect("three convolutions");
    Ok([c1, c2, c3, pooled, logits])
}

/// `images` (floats, `[n * 784]`) as an NCHW tensor.
///
/// # Errors
/// [`Error::Candle`].
pub fn images_tensor(images: Vec<f32>) -> Result<Tensor, Error> {
    let n = images.len() / crate::data::PIXELS;
    Ok(Tensor::from_vec(images, (n, 1, 28, 28), &Device::Cpu)?.to_dtype(DType::F32)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_macs_of_the_default_shape() {
        let p = Params::init([8, 16, 32], 1);
        p.check().unwrap();
        assert_eq!(p.count(), (72 + 8) + (1152 + 16) + (4608 + 32) + (2880 + 10));
        assert_eq!(p.macs(), 784 * 72 + 196 * 1152 + 49 * 4608 + 2880);
    }

    #[test]
    fn save_and_load_round_trip() {
        let p = Params::init([2, 3, 4], 5);
        let dir = std::env::temp_dir().join(format!("tinybench-train-net-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("w.safetensors");
        p.save(&path).unwrap();
        assert_eq!(Params::load(&path).unwrap(), p);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn fake_quant_snaps_to_levels() {
        let w = Tensor::from_slice(&[0.7f32, -0.36, 0.1, 0.0], (2, 2), &Device::Cpu).unwrap();
        let q: Vec<f32> = fake_quant(&w, 4).unwrap().flatten_all().unwrap().to_vec1().unwrap();
        // row 0: scale 0.1 -> 7 and -3.6 -> -4; row 1: scale 0.1/7 -> 7 and 0
        assert!((q[0] - 0.7).abs() < 1e-6 && (q[1] + 0.4).abs() < 1e-6, "{q:?}");
        assert!((q[2] - 0.1).abs() < 1e-6 && q[3] == 0.0, "{q:?}");
    }
}
