//! Float training (and fine-tuning) with candle on the CPU: AdamW, a short
//! linear warm-up then cosine decay, random ±`max_shift` px shifts, batches
//! in a seeded order. Optional fake-quantized weights (quantization-aware
//! fine-tuning for int4).

use std::time::Instant;

use candle_core::{D, DType, Device, Tensor};
use candle_nn::optim::{AdamW, Optimizer, ParamsAdamW};

use crate::Error;
use crate::data::{self, Digits};
use crate::net::{Params, Vars};
use crate::rng::Rng;

#[derive(Debug, Clone, PartialEq)]
pub struct TrainOptions {
    pub seed: u64,
    pub epochs: usize,
    pub batch: usize,
    /// Peak learning rate (after warm-up).
    pub learning_rate: f64,
    pub weight_decay: f64,
    /// Random shift of each training image, in pixels per axis (0 = none).
    pub max_shift: i32,
    /// Fake-quantize weights to this many bits during training.
    pub weight_bits: Option<u32>,
}

/// One epoch's figures, for progress output.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochReport {
    pub epoch: usize,
    pub epochs: usize,
    /// Mean training loss over the epoch.
    pub loss: f64,
    /// Training accuracy (on the augmented batches), percent.
    pub train_accuracy: f64,
    /// Float accuracy on the evaluation digits, percent.
    pub eval_accuracy: Option<f64>,
    pub learning_rate: f64,
    pub seconds: f64,
}

impl std::fmt::Display for EpochReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "epoch {:>2}/{}  loss {:.4}  train {:.2}%", self.epoch, self.epochs, self.loss, self.train_accuracy)?;
        if let Some(a) = self.eval_accuracy {
            write!(f, "  test {a:.2}%")?;
        }
        write!(f, "  lr {:.2e}  {:.1} s", self.learning_rate, self.seconds)
    }
}

/// Learning rate at `step` of `total`: linear warm-up over the first 3 %,
/// then cosine decay to zero.
pub fn learning_rate(peak: f64, step: usize, total: usize) -> f64 {
    let warmup = (total * 3 / 100).max(1);
    if step < warmup {
        return peak * (step + 1) as f64 / warmup as f64;
    }
    let t = (step - warmup) as f64 / (total - warmup).max(1) as f64;
    peak * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())
}

/// Trains `start` on `train`; `progress` sees every epoch (evaluated on
/// `eval` when given). Deterministic for a given seed and inputs.
///
/// # Errors
/// [`Error::Candle`] from the tensor library.
pub fn train(
    start: &Params,
    train: &Digits,
    eval: Option<&Digits>,
    opts: &TrainOptions,
    progress: &mut dyn FnMut(&EpochReport),
) -> Result<(Params, Vec<EpochReport>), Error> {
    let vars = Vars::new(start)?;
    let mut opt = AdamW::new(
        vars.0.clone(),
        ParamsAdamW { lr: opts.learning_rate, weight_decay: opts.weight_decay, ..Default::default() },
    )?;
    let mut rng = Rng::new(opts.seed ^ 0x005E_ED0F_BA7C);
    let batch = opts.batch.max(1);
    let steps_per_epoch = train.len().div_ceil(batch);
    let total = steps_per_epoch * opts.epochs;
    let mut order: Vec<usize> = (0..train.len()).collect();
    let mut reports = Vec::new();
    let mut step = 0;
    for epoch in 1..=opts.epochs {
        let started = Instant::now();
        rng.shuffle(&mut order);
        let (mut loss_sum, mut correct, mut lr) = (0.0, 0usize, 0.0);
        for chunk in order.chunks(batch) {
            lr = learning_rate(opts.learning_rate, step, total);
            opt.set_learning_rate(lr);
            let x = crate::net::images_tensor(data::batch_f32(train, chunk, opts.max_shift, &mut rng))?;
            let labels: Vec<u32> = chunk.iter().map(|&i| u32::from(train.labels[i])).collect();
            let y = Tensor::from_vec(labels.clone(), labels.len(), &Device::Cpu)?;
            let logits = vars.forward(&x, opts.weight_bits)?;
            let loss = candle_nn::loss::cross_entropy(&logits, &y)?;
            opt.backward_step(&loss)?;
            loss_sum += f64::from(loss.to_scalar::<f32>()?) * chunk.len() as f64;
            let predicted: Vec<u32> = logits.argmax(D::Minus1)?.to_vec1()?;
            correct += predicted.iter().zip(&labels).filter(|(p, l)| p == l).count();
            step += 1;
        }
        let params = vars.params()?;
        let eval_accuracy = match eval {
            Some(e) => Some(accuracy(&params, e, opts.weight_bits)?),
            None => None,
        };
        let report = EpochReport {
            epoch,
            epochs: opts.epochs,
            loss: loss_sum / train.len() as f64,
            train_accuracy: 100.0 * correct as f64 / train.len() as f64,
            eval_accuracy,
            learning_rate: lr,
            seconds: started.elapsed().as_secs_f64(),
        };
        progress(&report);
        reports.push(report);
    }
    Ok((vars.params()?, reports))
}

/// Float predictions (argmax of the logits) for every digit.
///
/// # Errors
/// [`Error::Candle`].
pub fn predict(params: &Params, digits: &Digits, weight_bits: Option<u32>) -> Result<Vec<u8>, Error> {
    let vars = Vars::new(params)?;
    let mut out = Vec::with_capacity(digits.len());
    let indices: Vec<usize> = (0..digits.len()).collect();
    for chunk in indices.chunks(500) {
        let x = crate::net::images_tensor(data::batch_f32(digits, chunk, 0, &mut Rng::new(0)))?;
        let p: Vec<u32> = vars.forward(&x, weight_bits)?.argmax(D::Minus1)?.to_dtype(DType::U32)?.to_vec1()?;
        out.extend(p.into_iter().map(|c| c as u8));
    }
    Ok(out)
}

/// Float accuracy in percent.
///
/// # Errors
/// [`Error::Candle`].
pub fn accuracy(params: &Params, digits: &Digits, weight_bits: Option<u32>) -> Result<f64, Error> {
    let p = predict(params, digits, weight_bits)?;
    Ok(100.0 * p.iter().zip(&digits.labels).filter(|(a, b)| a == b).count() as f64 / digits.len().max(1) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_warms_up_then_decays() {
        assert!(learning_rate(1.0, 0, 1000) < 0.1);
        assert!((learning_rate(1.0, 30, 1000) - 1.0).abs() < 1e-9);
        assert!(learning_rate(1.0, 500, 1000) < 0.6);
        assert!(learning_rate(1.0, 999, 1000) < 1e-4);
    }
}
