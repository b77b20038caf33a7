//! Turns the firmware's result messages into one case's raw figures, checking
//! that they arrive in the order the protocol specifies.

use tinybench_proto::{OwnedMessage, RunStatus};

/// Raw figures of one case as the firmware reported them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Collected {
    pub board: String,
    pub core_clock_hz: u32,
    pub name: String,
    pub warmup: u32,
    pub iterations: u32,
    pub macs: u32,
    pub output_len: u32,
    pub samples: Vec<u32>,
    /// CYCCNT at the start of each timed inference.
    pub sample_starts: Vec<u32>,
    /// The firmware's power set-up (marker write cost, idle, per-layer marks).
    pub power: Option<PowerSetup>,
    /// Per-layer cycles, `[iteration][layer]` (model workloads).
    pub layer_samples: Vec<Vec<u32>>,
    /// The last output, assembled from `OutputChunk`s.
    pub output: Vec<u8>,
    /// Outputs of the evaluation samples, in order.
    pub eval_outputs: Vec<Vec<u8>>,
    pub output_checksum: Option<u32>,
    pub stack_peak_bytes: Option<u32>,
    pub stack_size_bytes: Option<u32>,
    pub status: Option<RunStatus>,
}

impl Collected {
    /// The last opened evaluation sample, if any, has all `output_len` bytes.
    fn check_eval_complete(&self) -> Result<(), String> {
        match self.eval_outputs.last() {
            Some(last) if last.len() != self.output_len as usize => Err(format!(
                "evaluation sample {} ended after {} of {} output bytes",
                self.eval_outputs.len() - 1,
                last.len(),
                self.output_len
            )),
            _ => Ok(()),
        }
    }
}

/// What `PowerSetup` reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PowerSetup {
    pub marker_write_cycles: u32,
    pub idle_ms: u32,
    pub layer_marks: u16,
}

/// Accumulates messages for a single-case firmware.
#[derive(Debug, Default)]
pub struct Collector {
    c: Collected,
    stage: Stage,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Stage {
    #[default]
    ExpectHello,
    ExpectCaseStart,
    InCase,
    AfterCase,
    Done,
}

impl Collector {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the next message; an error says what arrived out of order.
    pub fn push(&mut self, message: OwnedMessage) -> Result<(), String> {
        use OwnedMessage as M;
        let c = &mut self.c;
        match (self.stage, message) {
            (Stage::ExpectHello, M::Hello { board, core_clock_hz, case_count }) => {
                if case_count != 1 {
                    return Err(format!(
                        "firmware announced {case_count} cases; this runner builds one case per firmware"
                    ));
                }
                c.board = board;
                c.core_clock_hz = core_clock_hz;
                self.stage = Stage::ExpectCaseStart;
            }
            (Stage::ExpectCaseStart, M::CaseStart { case: 0, name, warmup, iterations, macs, output_len }) => {
                (c.name, c.warmup, c.iterations, c.macs, c.output_len) = (name, warmup, iterations, macs, output_len);
                self.stage = Stage::InCase;
            }
            (Stage::InCase, M::Sample { case: 0, iteration, cycles, start_cycles }) => {
                if iteration as usize != c.samples.len() {
                    return Err(format!("sample {iteration} arrived when sample {} was expected", c.samples.len()));
                }
                if c.power.is_none() {
                    return Err("a sample arrived before PowerSetup".to_owned());
                }
                c.samples.push(cycles);
                c.sample_starts.push(start_cycles);
            }
            (Stage::InCase, M::PowerSetup { case: 0, marker_write_cycles, idle_ms, layer_marks }) => {
                if c.power.is_some() || !c.samples.is_empty() {
                    return Err("PowerSetup arrived twice or after a sample".to_owned());
                }
                c.power = Some(PowerSetup { marker_write_cycles, idle_ms, layer_marks });
            }
            (Stage::InCase, M::LayerSample { case: 0, iteration, layer, cycles }) => {
                if iteration as usize + 1 != c.samples.len() {
                    return Err(format!(
                        "layer sample of iteration {iteration} arrived after {} samples",
                        c.samples.len()
                    ));
                }
                let row = match c.layer_samples.get_mut(iteration as usize) {
                    Some(row) => row,
                    None => {
                        c.layer_samples.resize(iteration as usize + 1, Vec::new());
                        &mut c.layer_samples[iteration as usize]
                    }
                };
                if layer as usize != row.len() {
                    return Err(format!("layer {layer} arrived when layer {} was expected", row.len()));
                }
                row.push(cycles);
            }
            (Stage::InCase, M::OutputChunk { case: 0, offset, bytes }) => {
                if offset as usize != c.output.len() || c.output.len() + bytes.len() > c.output_len as usize {
                    return Err(format!(
                        "output chunk at {offset} ({} bytes) does not continue the {} bytes received of {}",
                        bytes.len(),
                        c.output.len(),
                        c.output_len
                    ));
                }
                c.output.extend_from_slice(&bytes);
            }
            (Stage::InCase, M::EvalOutput { case: 0, sample, offset, bytes }) => {
                // A sample's first chunk (offset 0) opens it, after the previous one is whole.
                if offset == 0 {
                    c.check_eval_complete()?;
                    if sample as usize != c.eval_outputs.len() {
                        return Err(format!(
                            "evaluation sample {sample} arrived when {} was expected",
                            c.eval_outputs.len()
                        ));
                    }
                    c.eval_outputs.push(Vec::new());
                }
                let open = c.eval_outputs.len();
                let output_len = c.output_len as usize;
                let out = match c.eval_outputs.last_mut() {
                    Some(out) if sample as usize + 1 == open => out,
                    _ => {
                        return Err(format!(
                            "evaluation sample {sample}: chunk at {offset} arrived while sample {} is open",
                            open as i64 - 1
                        ));
                    }
                };
                if offset as usize != out.len() || out.len() + bytes.len() > output_len {
                    return Err(format!(
                        "evaluation sample {sample}: chunk at {offset} ({} bytes) does not continue the {} bytes received of {output_len}",
                        bytes.len(),
                        out.len(),
                    ));
                }
                out.extend_from_slice(&bytes);
            }
            (Stage::InCase, M::CaseEnd { case: 0, output_checksum }) => {
                if c.samples.len() != c.iterations as usize {
                    return Err(format!("case ended after {} of {} samples", c.samples.len(), c.iterations));
                }
                if !c.output.is_empty() && c.output.len() != c.output_len as usize {
                    return Err(format!("case ended after {} of {} output bytes", c.output.len(), c.output_len));
                }
                c.check_eval_complete()?;
                c.output_checksum = Some(output_checksum);
                self.stage = Stage::AfterCase;
            }
            (Stage::AfterCase, M::Memory { stack_peak_bytes, stack_size_bytes }) => {
                c.stack_peak_bytes = Some(stack_peak_bytes);
                c.stack_size_bytes = Some(stack_size_bytes);
            }
            // A failing firmware may report Done at any stage.
            (stage, M::Done { status }) if stage != Stage::Done => {
                c.status = Some(status);
                self.stage = Stage::Done;
            }
            (stage, message) => return Err(format!("unexpected {message:?} while {}", stage.describe())),
        }
        Ok(())
    }

    /// What was collected so far.
    pub fn collected(&self) -> &Collected {
        &self.c
    }

    /// True once the firmware reported a successful end with all figures.
    pub fn complete(&self) -> bool {
        self.stage == Stage::Done
            && self.c.status == Some(RunStatus::Ok)
            && self.c.output_checksum.is_some()
            && self.c.stack_peak_bytes.is_some()
    }
}

impl Stage {
    fn describe(self) -> &'static str {
        match self {
            Stage::ExpectHello => "waiting for Hello",
            Stage::ExpectCaseStart => "waiting for CaseStart of case 0",
            Stage::InCase => "collecting samples of case 0",
            Stage::AfterCase => "waiting for Memory or Done",
            Stage::Done => "the firmware had already reported Done",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OwnedMessage as M;

    fn happy() -> Vec<OwnedMessage> {
        vec![
            M::Hello { board: "sim-m4".into(), core_clock_hz: 120_000_000, case_count: 1 },
            M::CaseStart { case: 0, name: "c".into(), warmup: 1, iterations: 2, macs: 100, output_len: 8 },
            M::PowerSetup { case: 0, marker_write_cycles: 1, idle_ms: 0, layer_marks: 0 },
            M::Sample { case: 0, iteration: 0, cycles: 10, start_cycles: 100 },
            M::Sample { case: 0, iteration: 1, cycles: 11, start_cycles: 200 },
            M::CaseEnd { case: 0, output_checksum: 7 },
            M::Memory { stack_peak_bytes: 256, stack_size_bytes: 4096 },
            M::Done { status: RunStatus::Ok },
        ]
    }

    #[test]
    fn collects_a_complete_case() {
        let mut c = Collector::new();
        for m in happy() {
            c.push(m).unwrap();
        }
        assert!(c.complete());
        assert_eq!(c.collected().samples, [10, 11]);
        assert_eq!(c.collected().output_checksum, Some(7));
    }

    #[test]
    fn missing_sample_is_reported() {
        let mut c = Collector::new();
        let mut msgs = happy();
        msgs.remove(4);
        let err = msgs.into_iter().map(|m| c.push(m)).find_map(Result::err).unwrap();
        assert_eq!(err, "case ended after 1 of 2 samples");
    }

    #[test]
    fn collects_layers_and_output_chunks() {
        let mut c = Collector::new();
        let msgs = vec![
            M::Hello { board: "sim-m4".into(), core_clock_hz: 1, case_count: 1 },
            M::CaseStart { case: 0, name: "m".into(), warmup: 0, iterations: 1, macs: 1, output_len: 3 },
            M::PowerSetup { case: 0, marker_write_cycles: 1, idle_ms: 0, layer_marks: 0 },
            M::Sample { case: 0, iteration: 0, cycles: 30, start_cycles: 0 },
            M::LayerSample { case: 0, iteration: 0, layer: 0, cycles: 10 },
            M::LayerSample { case: 0, iteration: 0, layer: 1, cycles: 20 },
            M::OutputChunk { case: 0, offset: 0, bytes: vec![1, 2] },
            M::OutputChunk { case: 0, offset: 2, bytes: vec![3] },
            M::CaseEnd { case: 0, output_checksum: 9 },
        ];
        for m in msgs {
            c.push(m).unwrap();
        }
        assert_eq!(c.collected().layer_samples, [vec![10, 20]]);
        assert_eq!(c.collected().output, [1, 2, 3]);
    }

    /// Evaluation outputs longer than a chunk (a 3-byte output sent in
    /// pieces of 2 + 1 here) are assembled per sample, in order.
    #[test]
    fn collects_chunked_evaluation_outputs() {
        let start = || {
            let mut c = Collector::new();
            c.push(happy().remove(0)).unwrap();
            c.push(M::CaseStart { case: 0, name: "m".into(), warmup: 0, iterations: 0, macs: 1, output_len: 3 })
                .unwrap();
            c
        };
        let eval = |sample, offset, bytes: &[u8]| M::EvalOutput { case: 0, sample, offset, bytes: bytes.to_vec() };
        let mut c = start();
        for m in [eval(0, 0, &[1, 2]), eval(0, 2, &[3]), eval(1, 0, &[4, 5]), eval(1, 2, &[6])] {
            c.push(m).unwrap();
        }
        c.push(M::CaseEnd { case: 0, output_checksum: 0 }).unwrap();
        assert_eq!(c.collected().eval_outputs, [vec![1, 2, 3], vec![4, 5, 6]]);

        // A sample that stops short, a gap, a sample out of order, a case ending mid-sample.
        let mut c = start();
        c.push(eval(0, 0, &[1, 2])).unwrap();
        let err = c.push(eval(1, 0, &[4, 5])).unwrap_err();
        assert_eq!(err, "evaluation sample 0 ended after 2 of 3 output bytes");
        let mut c = start();
        c.push(eval(0, 0, &[1])).unwrap();
        let err = c.push(eval(0, 2, &[3])).unwrap_err();
        assert!(err.contains("chunk at 2 (1 bytes) does not continue the 1 bytes received of 3"), "{err}");
        let mut c = start();
        let err = c.push(eval(1, 0, &[1, 2, 3])).unwrap_err();
        assert_eq!(err, "evaluation sample 1 arrived when 0 was expected");
        let mut c = start();
        c.push(eval(0, 0, &[1])).unwrap();
        let err = c.push(M::CaseEnd { case: 0, output_checksum: 0 }).unwrap_err();
        assert_eq!(err, "evaluation sample 0 ended after 1 of 3 output bytes");
    }

    #[test]
    fn gaps_in_output_are_reported() {
        let mut c = Collector::new();
        c.push(happy().remove(0)).unwrap();
        c.push(M::CaseStart { case: 0, name: "m".into(), warmup: 0, iterations: 1, macs: 1, output_len: 3 }).unwrap();
        let err = c.push(M::OutputChunk { case: 0, offset: 1, bytes: vec![2] }).unwrap_err();
        assert!(err.contains("does not continue the 0 bytes"), "{err}");
    }

    #[test]
    fn out_of_order_is_reported() {
        let mut c = Collector::new();
        let err = c.push(M::Sample { case: 0, iteration: 0, cycles: 1, start_cycles: 0 }).unwrap_err();
        assert!(err.contains("while waiting for Hello"), "{err}");
    }

    #[test]
    fn early_failure_is_complete_but_not_ok() {
        let mut c = Collector::new();
        c.push(happy().remove(0)).unwrap();
        c.push(M::Done { status: RunStatus::Failed { code: 3 } }).unwrap();
        assert!(!c.complete());
        assert_eq!(c.collected().status, Some(RunStatus::Failed { code: 3 }));
    }
}
