//! The simulator backend: runs firmware on tinybench's Cortex-M simulator and
//! reads RTT from simulated RAM exactly as a probe would from a chip.

use std::time::{Duration, Instant};

use tinybench_config::{Board, Core, RegionKind};
use tinybench_sim::{
    CoreKind, CounterTrace, MarkerPin, RegionSpec, SimConfig, SimError, Simulator, StopReason, TraceRecorder,
};

use crate::rtt::Rtt;
use crate::{BenchTarget, MemoryAccess, RunBudget, RunOutcome, TargetError, TargetOutput};

/// Instructions between two RTT polls: often enough that a 1 KiB ring in
/// blocking mode never stalls the firmware for long, rarely enough to cost
/// nothing measurable.
const POLL_INSTRUCTIONS: u64 = 20_000;
/// Progress is reported at most this often.
const PROGRESS_EVERY: Duration = Duration::from_millis(500);

/// A simulator for `board`: its core, clock and memory map, its marker pin
/// and, where the board file models its current, the per-class weights
/// (femtocoulombs) of that model. Every backend that simulates a board
/// builds it here, so a firmware's marker writes work on all of them.
pub fn simulator_for(board: &Board) -> Result<Simulator, SimError> {
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
    let mut sim = Simulator::new(config)?;
    if let Some(m) = &board.marker {
        sim.set_marker_pin(MarkerPin {
            set_address: m.set_address,
            set_value: m.set_value,
            clear_address: m.clear_address,
            clear_value: m.clear_value,
        })?;
    }
    if let Some(model) = &board.power_model {
        // Encoded where the modeled trace decodes them.
        sim.set_class_weights(tinybench_power::model::class_weights(model));
    }
    Ok(sim)
}

/// Runs firmware on the built-in simulator.
pub struct SimTarget {
    board_id: String,
    sim: Simulator,
    rtt_address: Option<u32>,
    loaded: bool,
    /// Samples the counters for a modeled current trace (`record_power`).
    recorder: Option<TraceRecorder>,
}

impl SimTarget {
    /// A simulator with the board's core, clock, memory map and marker.
    pub fn new(board: &Board) -> Result<SimTarget, TargetError> {
        Ok(SimTarget {
            board_id: board.id.clone(),
            sim: simulator_for(board)?,
            rtt_address: None,
            loaded: false,
            recorder: None,
        })
    }

    /// Records the counters every `interval_cycles` while running, for
    /// [`BenchTarget::take_counter_trace`].
    pub fn record_power(&mut self, clock_hz: u64, interval_cycles: u64) {
        self.recorder = Some(TraceRecorder::new(clock_hz, interval_cycles));
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
            let stop = match &mut self.recorder {
                Some(recorder) => self.sim.run_recording(POLL_INSTRUCTIONS, recorder),
                None => self.sim.run(POLL_INSTRUCTIONS),
            };
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

    fn take_counter_trace(&mut self) -> Option<CounterTrace> {
        self.recorder.as_mut().map(TraceRecorder::take)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The power model's class names are the simulator's.
    #[test]
    fn the_configs_instruction_classes_are_the_simulators() {
        assert_eq!(tinybench_config::INSTRUCTION_CLASSES, tinybench_sim::insn::CLASS_NAMES);
    }

    /// A firmware's marker writes reach the modeled pin on every simulated board.
    #[test]
    fn simulated_boards_get_their_marker() {
        for id in ["sim-m4", "sim-m7"] {
            let board = Board::builtin(id).unwrap().unwrap();
            let mut sim = simulator_for(&board).unwrap();
            let m = board.marker.unwrap();
            let flash = board.code().start;
            let mut image = Vec::new();
            image.extend(0x2000_1000u32.to_le_bytes()); // initial SP
            image.extend((flash + 0x41).to_le_bytes()); // reset vector, Thumb
            image.resize(0x40, 0);
            image.extend([0x08, 0x60, 0x00, 0xbe]); // str r0, [r1]; bkpt #0
            sim.write_memory(flash, &image).unwrap();
            sim.reset().unwrap();
            sim.set_reg(0, m.set_value);
            sim.set_reg(1, m.set_address);
            assert!(matches!(sim.run(10), Ok(StopReason::Breakpoint { .. })), "{id}");
            assert!(sim.marker_high(), "{id}");
        }
    }
}
