//! Typed results of a run: what reporters render.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tinybench_power::{CaseEnergy, WindowMethod};

use crate::elf::StaticMemory;

/// Minimum, median and maximum of a sample set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    pub min: f64,
    pub median: f64,
    pub max: f64,
}

impl Spread {
    /// `None` for an empty set. The median of an even count is the mean of
    /// the two middle values.
    pub fn of(samples: &[f64]) -> Option<Spread> {
        if samples.is_empty() {
            return None;
        }
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = if n % 2 == 1 { sorted[n / 2] } else { (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0 };
        Some(Spread { min: sorted[0], median, max: sorted[n - 1] })
    }

    pub fn scaled(&self, factor: f64) -> Spread {
        Spread { min: self.min * factor, median: self.median * factor, max: self.max * factor }
    }
}

/// Where a result came from, so a row can be traced and reproduced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    pub tinybench_version: String,
    /// `git describe`-like revision of the checkout, `+dirty` if modified.
    pub git_revision: String,
    /// `rustc -V` of the firmware toolchain.
    pub toolchain: String,
    pub board: String,
    pub core: String,
    pub clock_hz: u64,
    /// The board file's `[settings]`: clock tree, voltage scale, flash wait
    /// states, caches: what the firmware's board set-up configures (or, on
    /// a simulated board, what the cycle model assumes).
    #[serde(default)]
    pub board_settings: BTreeMap<String, String>,
    /// `sim` or the backend that ran the firmware.
    pub target: String,
    /// `simulated` (cycle model) or `measured` (DWT on hardware).
    pub timing: String,
    pub firmware_sha256: String,
    /// Fingerprint of everything the result depends on (configuration entry,
    /// board, input files, firmware sources, tinybench version): `--resume`
    /// reuses the result only while it is unchanged.
    pub inputs_sha256: String,
    /// RFC 3339 UTC time the case ran.
    pub timestamp: String,
}

/// Memory of one firmware build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryUsage {
    #[serde(flatten)]
    pub sections: StaticMemory,
    pub flash_bytes: u64,
    pub static_ram_bytes: u64,
    /// Deepest stack use seen by stack painting.
    pub stack_peak_bytes: u64,
    /// Stack space available (RAM after static data).
    pub stack_size_bytes: u64,
}

/// One layer of a model workload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerResult {
    pub index: usize,
    pub op: String,
    pub output_shape: String,
    pub macs: u64,
    pub weight_bytes: u64,
    /// Median over the timed inferences.
    pub cycles_median: f64,
    pub macs_per_cycle: f64,
    /// Median energy of the layer less the idle baseline (none without a
    /// meter, or for a layer fused into the next).
    pub energy_uj: Option<f64>,
    /// How its window was found.
    pub energy_method: Option<WindowMethod>,
}

/// Accuracy of a model case on its labeled test set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Accuracy {
    /// Percent correct on the whole test set, by the host engine.
    pub host_pct: f64,
    pub host_samples: u32,
    /// Percent correct on the target's subset (outputs equal the host's
    /// byte for byte, so this equals the host figure on the same subset).
    pub target_pct: f64,
    pub target_samples: u32,
}

/// Everything measured for one benchmark case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseResult {
    pub case: String,
    pub workload: String,
    /// Workload shape (`16x16x8:16`) or model file name.
    pub shape: String,
    /// Weight storage: `int8`, `int4` or `int4+int8`.
    pub quantization: String,
    pub kernels: String,
    pub warmup: u32,
    pub iterations: u32,
    pub macs: u64,
    /// Cycles of each timed inference, in order.
    pub cycles_per_iteration: Vec<u32>,
    pub cycles: Spread,
    pub latency_us: Spread,
    /// MACs per cycle at the median.
    pub macs_per_cycle: f64,
    /// The meter that measured it (`[power]`'s name for it).
    pub meter: String,
    /// Energy per inference and per layer; none when the meter is `none`.
    pub energy: Option<CaseEnergy>,
    pub memory: MemoryUsage,
    /// Bytes of weights (model or conv filter + bias).
    pub weight_bytes: u64,
    /// Activation memory the workload needs (model arena, or conv in + out).
    pub arena_bytes: u64,
    /// Per-layer figures (model workloads; empty for the single conv).
    pub layers: Vec<LayerResult>,
    pub accuracy: Option<Accuracy>,
    pub output_checksum: u32,
    /// The host's computation of the same kernel on the same input.
    pub expected_checksum: u32,
    pub checksum_ok: bool,
    pub provenance: Provenance,
}

/// A case that did not produce a result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseFailure {
    pub case: String,
    /// Exit-code class of the failure (see [`crate::FailureKind`]).
    pub kind: crate::FailureKind,
    pub error: String,
}

impl CaseFailure {
    /// The error's first line, at most 160 characters: for table cells and
    /// CSV fields (the whole message is in `error`).
    pub fn reason(&self) -> String {
        const MAX_CHARS: usize = 160;
        let first = self.error.lines().next().unwrap_or_default().trim_end_matches(':');
        if first.chars().count() <= MAX_CHARS {
            first.to_owned()
        } else {
            first.chars().take(MAX_CHARS - 1).chain(['…']).collect()
        }
    }
}

/// The outcome of a whole run, or of the part of it that is finished.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResults {
    pub config: String,
    pub board: String,
    /// Every case of the run, in order.
    pub cases: Vec<String>,
    /// Every case finished (with a result or a failure).
    pub complete: bool,
    /// The run was stopped before every case finished (Ctrl-C, SIGTERM, or
    /// the target lost: a probe unplugged); `tinybench run CONFIG --resume
    /// DIR` finishes it.
    pub interrupted: bool,
    /// Cases with neither a result nor a failure yet.
    pub missing: Vec<String>,
    pub results: Vec<CaseResult>,
    pub failures: Vec<CaseFailure>,
}

impl RunResults {
    /// A run that has not finished any case yet.
    pub fn new(config: String, board: String, cases: Vec<String>) -> Self {
        let mut results = RunResults {
            config,
            board,
            missing: Vec::new(),
            cases,
            complete: false,
            interrupted: false,
            results: Vec::new(),
            failures: Vec::new(),
        };
        results.update_status();
        results
    }

    /// Recomputes `missing` and `complete` from the results and failures.
    pub fn update_status(&mut self) {
        let done = |name: &String| {
            self.results.iter().any(|r| &r.case == name) || self.failures.iter().any(|f| &f.case == name)
        };
        self.missing = self.cases.iter().filter(|c| !done(c)).cloned().collect();
        self.complete = self.missing.is_empty() && !self.interrupted;
    }

    /// Marks the end of the run: stopped early or not.
    pub fn finish(&mut self, interrupted: bool) {
        self.interrupted = interrupted && !self.cases.is_empty();
        self.update_status();
        if self.missing.is_empty() {
            self.interrupted = false;
            self.complete = true;
        }
    }
}

/// What [`assemble`] turns into a [`CaseResult`].
pub(crate) struct Inputs<'a> {
    pub config: &'a tinybench_config::RunConfig,
    pub case: &'a tinybench_config::CaseConfig,
    pub collected: &'a crate::Collected,
    pub workload: &'a crate::workload::PreparedWorkload,
    pub image: &'a crate::FirmwareImage,
    pub expected_checksum: u32,
    pub energy: Option<CaseEnergy>,
    pub provenance: Provenance,
}

/// Computes a case's figures from the firmware's raw report. Call only for a
/// complete report (`Collector::complete`).
pub(crate) fn assemble(inputs: Inputs<'_>) -> CaseResult {
    let Inputs { config, case, collected, workload, image, expected_checksum, energy, provenance } = inputs;
    let samples: Vec<f64> = collected.samples.iter().map(|&c| f64::from(c)).collect();
    let cycles = Spread::of(&samples).unwrap_or(Spread { min: 0.0, median: 0.0, max: 0.0 });
    let us_per_cycle = 1e6 / config.board.clock_hz as f64;
    let latency_us = cycles.scaled(us_per_cycle);
    let output_checksum = collected.output_checksum.unwrap_or_default();
    let layers = workload
        .layers
        .iter()
        .map(|l| {
            let per_iteration: Vec<f64> =
                collected.layer_samples.iter().filter_map(|row| row.get(l.index)).map(|&c| f64::from(c)).collect();
            let cycles_median = Spread::of(&per_iteration).map_or(0.0, |s| s.median);
            let layer_energy = energy.as_ref().and_then(|e| e.layers.iter().find(|le| le.index == l.index));
            LayerResult {
                energy_uj: layer_energy.map(|le| le.energy_uj),
                energy_method: layer_energy.map(|le| le.method),
                index: l.index,
                op: l.op.clone(),
                output_shape: l.output_shape.clone(),
                macs: l.macs,
                weight_bytes: l.weight_bytes,
                cycles_median,
                macs_per_cycle: if cycles_median > 0.0 { l.macs as f64 / cycles_median } else { 0.0 },
            }
        })
        .collect();
    CaseResult {
        case: case.name.clone(),
        workload: case.workload.kind().to_owned(),
        shape: workload.description.clone(),
        quantization: workload.quantization.clone(),
        kernels: case.kernels.as_str().to_owned(),
        warmup: collected.warmup,
        iterations: collected.iterations,
        macs: u64::from(collected.macs),
        cycles_per_iteration: collected.samples.clone(),
        cycles,
        latency_us,
        macs_per_cycle: if cycles.median > 0.0 { f64::from(collected.macs) / cycles.median } else { 0.0 },
        meter: case.power.clone(),
        energy,
        memory: MemoryUsage {
            sections: image.memory,
            flash_bytes: image.memory.flash_bytes(),
            static_ram_bytes: image.memory.static_ram_bytes(),
            stack_peak_bytes: u64::from(collected.stack_peak_bytes.unwrap_or_default()),
            stack_size_bytes: u64::from(collected.stack_size_bytes.unwrap_or_default()),
        },
        weight_bytes: workload.weight_bytes,
        arena_bytes: workload.arena_bytes,
        layers,
        accuracy: workload.eval.as_ref().map(|e| {
            let target_correct = collected
                .eval_outputs
                .iter()
                .zip(&e.target_labels)
                .filter(|(out, label)| {
                    let out: Vec<i8> = out.iter().map(|&b| b as i8).collect();
                    crate::workload::argmax(&out) == usize::from(**label)
                })
                .count();
            let pct = |n: usize, of: usize| if of == 0 { 0.0 } else { 100.0 * n as f64 / of as f64 };
            Accuracy {
                host_pct: pct(e.host_correct as usize, e.host_samples as usize),
                host_samples: e.host_samples,
                target_pct: pct(target_correct, e.target_labels.len()),
                target_samples: e.target_labels.len() as u32,
            }
        }),
        output_checksum,
        expected_checksum,
        checksum_ok: output_checksum == expected_checksum,
        provenance,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_of_odd_and_even_sets() {
        assert_eq!(Spread::of(&[3.0, 1.0, 2.0]), Some(Spread { min: 1.0, median: 2.0, max: 3.0 }));
        assert_eq!(Spread::of(&[4.0, 1.0, 2.0, 3.0]), Some(Spread { min: 1.0, median: 2.5, max: 4.0 }));
        assert_eq!(Spread::of(&[]), None);
    }
}
