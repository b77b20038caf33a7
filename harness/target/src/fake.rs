//! A scripted target: replays channel bytes, progress and an ending (an exit,
//! a hang, a timeout, a fault, a probe failure), for testing the runner and
//! reporters without a simulator or a board. It can present itself as real
//! hardware, so the labelling of measured figures is testable too.

use std::time::Duration;

use crate::{BenchTarget, RunBudget, RunOutcome, TargetError, TargetOutput};

/// One scripted step of a [`FakeTarget`] run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FakeStep {
    /// Bytes appear on an RTT up channel.
    Rtt { channel: usize, bytes: Vec<u8> },
    /// Bytes written through semihosting.
    Console(Vec<u8>),
    /// The firmware exits with this status after `cycles` cycles.
    Exit { code: i32, cycles: u64 },
    /// The firmware never finishes: the run ends at the cycle budget.
    Hang { pc: u32, symbol: String },
    /// The firmware is still running: progress is reported.
    Progress { cycles: u64 },
    /// The firmware does not finish within the wall-time budget.
    Timeout { pc: u32, symbol: String },
    /// The core halts on a fault.
    Fault { pc: u32, symbol: String, detail: String },
    /// The core halts on a breakpoint instruction.
    Breakpoint { imm: u8, pc: u32, symbol: String },
    /// The debug probe fails (e.g. unplugged).
    ProbeError(String),
}

/// A target that replays a script.
#[derive(Debug, Clone, Default)]
pub struct FakeTarget {
    script: Vec<FakeStep>,
    loaded_elf_len: Option<usize>,
    /// Presents itself as a board (its figures are then measured).
    hardware: bool,
}

impl FakeTarget {
    pub fn new(script: Vec<FakeStep>) -> Self {
        FakeTarget { script, loaded_elf_len: None, hardware: false }
    }

    /// The same script on a pretend board: `is_simulated` is false.
    pub fn as_hardware(mut self) -> Self {
        self.hardware = true;
        self
    }

    /// Size of the last loaded ELF, to check that the runner loaded one.
    pub fn loaded_elf_len(&self) -> Option<usize> {
        self.loaded_elf_len
    }
}

impl BenchTarget for FakeTarget {
    fn describe(&self) -> String {
        if self.hardware { "fake board".to_owned() } else { "fake target".to_owned() }
    }

    fn load(&mut self, elf: &[u8]) -> Result<(), TargetError> {
        self.loaded_elf_len = Some(elf.len());
        Ok(())
    }

    fn run(&mut self, budget: &RunBudget, output: &mut dyn FnMut(TargetOutput<'_>)) -> Result<RunOutcome, TargetError> {
        if self.loaded_elf_len.is_none() {
            return Err(TargetError::NotLoaded);
        }
        for step in &self.script {
            if budget.stop.is_raised() {
                return Err(TargetError::Stopped { cycles: 0 });
            }
            match step {
                FakeStep::Rtt { channel, bytes } => output(TargetOutput::Rtt { channel: *channel, bytes }),
                FakeStep::Console(bytes) => output(TargetOutput::Console(bytes)),
                FakeStep::Exit { code, cycles } => {
                    return Ok(RunOutcome {
                        exit_code: *code,
                        cycles: Some(*cycles),
                        instructions: None,
                        wall: Duration::ZERO,
                    });
                }
                FakeStep::Progress { cycles } => {
                    output(TargetOutput::Progress { cycles: *cycles, elapsed: Duration::ZERO })
                }
                FakeStep::Timeout { pc, symbol } => {
                    return Err(TargetError::Timeout {
                        seconds: budget.timeout.as_secs(),
                        cycles: 0,
                        pc: *pc,
                        symbol: symbol.clone(),
                        setting: budget.set_by.timeout_setting(),
                    });
                }
                FakeStep::Fault { pc, symbol, detail } => {
                    return Err(TargetError::Fault { pc: *pc, symbol: symbol.clone(), detail: detail.clone() });
                }
                FakeStep::Breakpoint { imm, pc, symbol } => {
                    return Err(TargetError::Breakpoint { imm: *imm, pc: *pc, symbol: symbol.clone() });
                }
                FakeStep::ProbeError(detail) => return Err(TargetError::Probe { detail: detail.clone() }),
                FakeStep::Hang { pc, symbol } => {
                    return Err(TargetError::CycleBudgetExceeded {
                        cycles: budget.max_cycles + 1,
                        max_cycles: budget.max_cycles,
                        pc: *pc,
                        symbol: symbol.clone(),
                        setting: budget.set_by.max_cycles_setting(),
                    });
                }
            }
        }
        // A script without an ending behaves like firmware that never stops.
        Err(TargetError::CycleBudgetExceeded {
            cycles: budget.max_cycles + 1,
            max_cycles: budget.max_cycles,
            pc: 0,
            symbol: "the end of the fake script".to_owned(),
            setting: budget.set_by.max_cycles_setting(),
        })
    }

    fn is_simulated(&self) -> bool {
        !self.hardware
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget() -> RunBudget {
        RunBudget::new(1000, Duration::from_secs(1), crate::BudgetSource::RunConfig)
    }

    #[test]
    fn replays_script_in_order() {
        let mut t = FakeTarget::new(vec![
            FakeStep::Rtt { channel: 1, bytes: vec![1, 2] },
            FakeStep::Console(b"hi".to_vec()),
            FakeStep::Exit { code: 0, cycles: 42 },
        ]);
        t.load(&[0; 8]).unwrap();
        let mut seen = Vec::new();
        let outcome = t
            .run(&budget(), &mut |o| {
                seen.push(match o {
                    TargetOutput::Rtt { channel, bytes } => format!("rtt{channel}:{bytes:?}"),
                    TargetOutput::Console(b) => format!("console:{}", String::from_utf8_lossy(b)),
                    TargetOutput::Progress { .. } | TargetOutput::Flash { .. } => "progress".into(),
                })
            })
            .unwrap();
        assert_eq!(seen, ["rtt1:[1, 2]", "console:hi"]);
        assert_eq!(outcome.exit_code, 0);
        assert_eq!(outcome.cycles, Some(42));
    }

    #[test]
    fn run_before_load_is_an_error() {
        let mut t = FakeTarget::new(vec![FakeStep::Exit { code: 0, cycles: 1 }]);
        assert!(matches!(t.run(&budget(), &mut |_| {}), Err(TargetError::NotLoaded)));
    }

    #[test]
    fn hang_ends_at_the_budget() {
        let mut t = FakeTarget::new(vec![FakeStep::Hang { pc: 0x0800_0100, symbol: "spin".into() }]);
        t.load(&[]).unwrap();
        let err = t.run(&budget(), &mut |_| {}).unwrap_err();
        assert!(err.to_string().contains("at pc 0x08000100 in spin"), "{err}");
        assert!(err.to_string().contains("raise [run] max-cycles"), "{err}");
        let mut flags = budget();
        flags.set_by = crate::BudgetSource::CommandLine;
        let err = t.run(&flags, &mut |_| {}).unwrap_err();
        assert!(err.to_string().contains("raise --max-cycles,"), "{err}");
    }

    #[test]
    fn every_ending_is_scripted() {
        let ending = |step: FakeStep| {
            let mut t = FakeTarget::new(vec![FakeStep::Progress { cycles: 7 }, step]);
            t.load(&[]).unwrap();
            let mut progress = Vec::new();
            let result = t.run(&budget(), &mut |o| {
                if let TargetOutput::Progress { cycles, .. } = o {
                    progress.push(cycles)
                }
            });
            assert_eq!(progress, [7]);
            result.unwrap_err().to_string()
        };
        assert!(ending(FakeStep::Timeout { pc: 4, symbol: "loop".into() }).contains("raise [run] timeout-s"));
        let fault = ending(FakeStep::Fault { pc: 8, symbol: "f".into(), detail: "HardFault: FORCED".into() });
        assert_eq!(fault, "the core halted on a fault at pc 0x00000008 in f: HardFault: FORCED");
        assert!(ending(FakeStep::Breakpoint { imm: 3, pc: 2, symbol: "b".into() }).contains("breakpoint #3"));
        assert_eq!(ending(FakeStep::ProbeError("USB disconnected".into())), "debug probe: USB disconnected");
    }

    #[test]
    fn as_hardware_its_figures_are_not_simulated() {
        assert!(FakeTarget::new(vec![]).is_simulated());
        assert!(!FakeTarget::new(vec![]).as_hardware().is_simulated());
    }

    #[test]
    fn a_raised_stop_flag_ends_the_run() {
        let mut t = FakeTarget::new(vec![FakeStep::Console(b"x".to_vec()), FakeStep::Exit { code: 0, cycles: 1 }]);
        t.load(&[]).unwrap();
        let budget = budget();
        budget.stop.raise(2);
        assert!(matches!(t.run(&budget, &mut |_| {}), Err(TargetError::Stopped { .. })));
        assert_eq!(budget.stop.signal(), Some(2));
    }
}
