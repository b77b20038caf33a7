//! The simulator backend: runs firmware on tinybench's Cortex-M simulator and
//! reads RTT from simulated RAM exactly as a probe would from a chip.

use std::time::{Duration, Instant};

use tinybench_config::{Board, Core, RegionKind};
use tinybench_sim::{CoreKind, RegionSpec, SimConfig, Simulator, StopReason};

use crate::rtt::Rtt;
use crate::{BenchTarget, MemoryAccess, RunBudget, RunOutcome, TargetError, TargetOutput};

/// Instructions between two RTT polls: often enough that a 1 KiB ring in
/// blocking mode never stalls the firmware for long, rarely enough to cost
/// nothing measurable.
const POLL_INSTRUCTIONS: u64 = 20_000;
/// Progress is reported at most this often.
const PROGRESS_EVERY: Duration = Duration::from_millis(500);

/// Runs firmware on the built-in simulator.
pub struct SimTarget {
    board_id: String,
    sim: Simulator,
    rtt_address: Option<u32>,
    loaded: bool,
}

impl SimTarget {
    /// A simulator with the board's core, clock and memory map.
    pub fn new(board: &Board) -> Result<SimTarget, TargetError> {
        let config = SimConfig {
            core: match board.core {
                Core::CortexM4 => CoreKind::CortexM4,
                Core::CortexM7 => CoreKind::CortexM7,
            },
            clock_hz: board.clock_hz,
            regions: board
                .memory
                .iter()
                .map(|r| RegionSpec {
                    name: r.name.clone(),
                    start: r.start,
                    size: r.size_bytes,
                    kind: match r.kind {
                        RegionKind::Flash => tinybench_sim::RegionKind::Flash,
                        RegionKind::Ram => tinybench_sim::RegionKind::Ram,
                    },
                    wait_states: r.wait_states,
                })
                .collect(),
        };
        Ok(SimTarget { board_id: board.id.clone(), sim: Simulator::new(config)?, rtt_address: None, loaded: false })
    }

    /// The simulator, for callers that want its statistics or symbols.
    pub fn simulator(&self) -> &Simulator {
        &self.sim
    }

    /// The simulator, for callers that switch on its options (the profiler)
    /// after `load`.
    pub fn simulator_mut(&mut self) -> &mut Simulator {
        &mut self.sim
    }

    /// Passes on semihosting output and everything in the RTT up channels,
    /// attaching to the RTT control block once the firmware has set it up.
    fn pass_on_output(
        &mut self,
        rtt: &mut Option<Rtt>,
        buf: &mut Vec<u8>,
        output: &mut dyn FnMut(TargetOutput<'_>),
    ) -> Result<(), TargetError> {
        let console = self.sim.take_semihosting_output();
        if !console.is_empty() {
            output(TargetOutput::Console(&console));
        }
        if let (None, Some(address)) = (&rtt, self.rtt_address) {
            *rtt = Rtt::attach(&mut SimMemory(&mut self.sim), address)?;
        }
        match rtt {
            Some(rtt) => drain(&mut self.sim, rtt, buf, output),
            None => Ok(()),
        }
    }

    fn where_now(&self) -> (u32, String) {
        let pc = self.sim.pc();
        (pc, self.sim.symbolize(pc).unwrap_or_else(|| "an unknown function".to_owned()))
    }
}

/// The simulator's memory seen through the debugger interface.
struct SimMemory<'a>(&'a mut Simulator);

impl MemoryAccess for SimMemory<'_> {
    fn read(&mut self, address: u32, buf: &mut [u8]) -> Result<(), TargetError> {
        Ok(self.0.read_memory(address, buf)?)
    }
    fn write(&mut self, address: u32, data: &[u8]) -> Result<(), TargetError> {
        Ok(self.0.write_memory(address, data)?)
    }
}

/// Drains every up channel of an attached control block into `output`.
fn drain(
    sim: &mut Simulator,
    rtt: &Rtt,
    buf: &mut Vec<u8>,
    output: &mut dyn FnMut(TargetOutput<'_>),
) -> Result<(), TargetError> {
    let mut mem = SimMemory(sim);
    for channel in 0..rtt.up_channels().len() {
        buf.clear();
        if rtt.read_up(&mut mem, channel, buf)? > 0 {
            output(TargetOutput::Rtt { channel, bytes: buf });
        }
    }
    Ok(())
}

impl BenchTarget for SimTarget {
    fn describe(&self) -> String {
        format!("{} (simulator)", self.board_id)
    }

    fn load(&mut self, elf: &[u8]) -> Result<(), TargetError> {
        self.sim.load_elf(elf)?;
        // Programs without RTT (plain semihosting programs) run too; they
        // just produce no channel output.
        self.rtt_address = self.sim.symbol("_SEGGER_RTT").map(|s| s.address);
        self.loaded = true;
        Ok(())
    }

    fn run(&mut self, budget: &RunBudget, output: &mut dyn FnMut(TargetOutput<'_>)) -> Result<RunOutcome, TargetError> {
        if !self.loaded {
            return Err(TargetError::NotLoaded);
        }
        let started = Instant::now();
        let mut last_progress = started;
        let mut rtt: Option<Rtt> = None;
        let mut buf = Vec::with_capacity(4096);
        loop {
            let stop = self.sim.run(POLL_INSTRUCTIONS);
            // What the program printed before a fault is the best clue to it:
            // pass it on before the error.
            let drained = self.pass_on_output(&mut rtt, &mut buf, output);
            let stop = stop?;
            drained?;
            match stop {
                StopReason::Exited { code } => {
                    return Ok(RunOutcome {
                        exit_code: code,
                        cycles: Some(self.sim.cycles()),
                        instructions: Some(self.sim.instructions()),
                        wall: started.elapsed(),
                    });
                }
                StopReason::Breakpoint { imm, pc } => {
                    let symbol = self.sim.symbolize(pc).unwrap_or_else(|| "an unknown function".to_owned());
                    return Err(TargetError::Breakpoint { imm, pc, symbol });
                }
                // Debug halts are off in this backend (no debugger attached).
                StopReason::InstructionLimit | StopReason::DebugHalt { .. } | StopReason::CycleLimit => {}
            }
            let cycles = self.sim.cycles();
            if budget.stop.is_raised() {
                return Err(TargetError::Stopped { cycles });
            }
            if cycles > budget.max_cycles {
                let (pc, symbol) = self.where_now();
                return Err(TargetError::CycleBudgetExceeded {
                    cycles,
                    max_cycles: budget.max_cycles,
                    pc,
                    symbol,
                    setting: budget.set_by.max_cycles_setting(),
                });
            }
            let now = Instant::now();
            if now.duration_since(started) > budget.timeout {
                let (pc, symbol) = self.where_now();
                return Err(TargetError::Timeout {
                    seconds: budget.timeout.as_secs(),
                    cycles,
                    pc,
                    symbol,
                    setting: budget.set_by.timeout_setting(),
                });
            }
            if now.duration_since(last_progress) >= PROGRESS_EVERY {
                last_progress = now;
                output(TargetOutput::Progress { cycles, elapsed: now.duration_since(started) });
            }
        }
    }

    fn is_simulated(&self) -> bool {
        true
    }

    fn instruction_histogram(&self) -> Option<Vec<(String, u64)>> {
        let stats = self.sim.stats();
        Some(stats.histogram.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect())
    }
}
