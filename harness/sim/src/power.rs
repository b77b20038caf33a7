//! What a current model needs from a run, at no cost to the hot loop:
//! cumulative [`Counters`] readable at any instruction boundary in O(1), a
//! modeled marker pin ([`MarkerPin`]) whose edges carry the counters of the
//! instant they happened, and the spans the core slept in WFI.
//!
//! The simulator counts; the charge model (current per MHz, extra charge per
//! instruction class and per flash line read, sleep current) lives on the
//! host (`tinybench-power`), except for the per-class weights, which are
//! summed here because per-class counts are only cheap at the end of a run
//! (complete block runs are counted per block, `block` module).

use crate::exec::Trap;
use crate::periph::{PPB_END, PPB_START};
use crate::{SimError, Simulator};

/// Cumulative counts since reset, exact at every instruction boundary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub cycles: u64,
    /// Cycles the core slept in WFI/WFE (part of `cycles`).
    pub sleep_cycles: u64,
    pub instructions: u64,
    /// Σ over executed instructions of their class's weight
    /// ([`Simulator::set_class_weights`]), e.g. in femtocoulombs.
    pub weighted: u64,
    /// Flash lines read for instruction fetch (not held by the instruction
    /// cache; sequential prefetches included).
    pub flash_fetch_lines: u64,
    /// Flash lines read for data loads (data-cache misses).
    pub flash_data_lines: u64,
}

/// A known point of a run for the current model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerEvent {
    /// The marker pin changed; `at` is the state right after the store that
    /// changed it retired.
    Marker { high: bool, at: Counters },
    /// WFI/WFE: the core sleeps from `from` until the event at `to`; only
    /// sleep happens in between.
    Sleep { from: Counters, to: Counters },
}

/// The board's marker pin as the firmware drives it: a write of `set_value`
/// to `set_address` raises it, of `clear_value` to `clear_address` lowers it
/// (an STM32 `BSRR`, an nRF `OUTSET`/`OUTCLR`). Writes to either address are
/// taken (reads give 0); nothing else of the GPIO port is modeled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarkerPin {
    pub set_address: u32,
    pub set_value: u32,
    pub clear_address: u32,
    pub clear_value: u32,
}

impl MarkerPin {
    fn owns(&self, addr: u32) -> bool {
        addr & !3 == self.set_address || addr & !3 == self.clear_address
    }
}

/// Marker and trace state of a simulator.
#[derive(Debug, Default)]
pub(crate) struct PowerState {
    pub marker: Option<MarkerPin>,
    pub marker_high: bool,
    /// A marker edge waiting to be recorded at the next instruction boundary.
    pub edge_pending: Option<bool>,
    pub tracing: bool,
    pub events: Vec<PowerEvent>,
    pub sleep_cycles: u64,
    pub block_weighted: u64,
    pub weights: [u64; 16],
    pub flash_fetch_lines: u64,
    pub flash_data_lines: u64,
}

impl PowerState {
    /// Counts and events start again (reset); the marker, its level and the
    /// weights stay, as a GPIO keeps its output across a core reset.
    pub fn reset(&mut self) {
        self.edge_pending = None;
        self.events.clear();
        self.sleep_cycles = 0;
        self.block_weighted = 0;
        self.flash_fetch_lines = 0;
        self.flash_data_lines = 0;
    }
}

impl Simulator {
    /// Models the board's marker pin; its edges are [`PowerEvent::Marker`]s.
    /// Refused where the addresses are memory or the PPB, where a write would
    /// never reach the pin.
    pub fn set_marker_pin(&mut self, pin: MarkerPin) -> Result<(), SimError> {
        for address in [pin.set_address, pin.clear_address] {
            let taken = self.mem.regions.iter().any(|r| {
                address >= r.spec.start && u64::from(address) < u64::from(r.spec.start) + u64::from(r.spec.size)
            }) || (PPB_START..PPB_END).contains(&address);
            if taken || address % 4 != 0 {
                return Err(SimError::InvalidConfig {
                    reason: format!(
                        "the marker register {address:#010x} must be a word address outside every memory region \
                         and the PPB"
                    ),
                });
            }
        }
        self.power.marker = Some(pin);
        Ok(())
    }

    /// The marker pin's level.
    pub fn marker_high(&self) -> bool {
        self.power.marker_high
    }

    /// Weight per instruction class (indexed like `insn::CLASS_NAMES`),
    /// summed into [`Counters::weighted`]. Set before running: the blocks
    /// built so far are dropped, since each carries its weight.
    pub fn set_class_weights(&mut self, weights: [u64; 16]) {
        self.power.weights = weights;
        self.blocks.set_weights(weights);
    }

    /// Records [`PowerEvent`]s from now on (off by default: nobody would
    /// drain them).
    pub fn set_power_tracing(&mut self, on: bool) {
        self.power.tracing = on;
    }

    /// The counters now.
    pub fn counters(&self) -> Counters {
        let mut weighted = self.power.block_weighted;
        for (count, weight) in self.class_counts.iter().zip(self.power.weights) {
            weighted += count * weight;
        }
        Counters {
            cycles: self.cycles,
            sleep_cycles: self.power.sleep_cycles,
            instructions: self.instructions,
            weighted,
            flash_fetch_lines: self.power.flash_fetch_lines,
            flash_data_lines: self.power.flash_data_lines,
        }
    }

    /// The events since the last call, in order.
    pub fn take_power_events(&mut self) -> Vec<PowerEvent> {
        // No instruction ran since the edge's store: the counters are its.
        self.record_pending_edge();
        std::mem::take(&mut self.power.events)
    }

    /// A store outside memory and the PPB: the marker's, or unmapped.
    #[cold]
    #[inline(never)]
    pub(crate) fn write_marker(&mut self, addr: u32, size: u32, value: u32) -> Result<(), Trap> {
        let Some(pin) = self.power.marker.filter(|p| p.owns(addr)) else {
            return Err(Trap::Unmapped { addr, size, write: true });
        };
        // Narrow writes land in their byte lanes of the register.
        let word = if size >= 4 { value } else { (value & ((1 << (size * 8)) - 1)) << ((addr & 3) * 8) };
        let addr = addr & !3;
        let level = if addr == pin.set_address && word & pin.set_value == pin.set_value {
            Some(true)
        } else if addr == pin.clear_address && word & pin.clear_value == pin.clear_value {
            Some(false)
        } else {
            None
        };
        if let Some(high) = level
            && high != self.power.marker_high
        {
            self.power.marker_high = high;
            self.power.edge_pending = Some(high);
            // Ends the block after this store: the edge is recorded at the
            // next instruction boundary with every counter up to date.
            self.exc_check = true;
        }
        Ok(())
    }

    /// A load outside memory and the PPB: the marker's registers read 0.
    #[cold]
    #[inline(never)]
    pub(crate) fn read_marker(&self, addr: u32, size: u32) -> Result<u32, Trap> {
        match self.power.marker {
            Some(pin) if pin.owns(addr) => Ok(0),
            _ => Err(Trap::Unmapped { addr, size, write: false }),
        }
    }

    #[inline(always)]
    pub(crate) fn record_pending_edge(&mut self) {
        if let Some(high) = self.power.edge_pending.take()
            && self.power.tracing
        {
            let at = self.counters();
            self.power.events.push(PowerEvent::Marker { high, at });
        }
    }

    /// WFI/WFE sleeping until cycle `until`.
    pub(crate) fn sleep_until(&mut self, until: u64) {
        let from = self.counters();
        self.power.sleep_cycles += until - self.cycles;
        self.cycles = until;
        if self.power.tracing {
            let to = self.counters();
            self.power.events.push(PowerEvent::Sleep { from, to });
        }
    }
}

/// Counters sampled through a run, with its events: what a current model
/// turns into a trace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CounterTrace {
    pub clock_hz: u64,
    /// Samples at (about) every `interval_cycles`, in order.
    pub samples: Vec<Counters>,
    /// Marker edges and sleep spans, in order.
    pub events: Vec<PowerEvent>,
}

/// Samples the counters every `interval_cycles` of simulated time while
/// [`Simulator::run_recording`] runs.
#[derive(Debug, Clone)]
pub struct TraceRecorder {
    interval_cycles: u64,
    next: u64,
    trace: CounterTrace,
}

impl TraceRecorder {
    pub fn new(clock_hz: u64, interval_cycles: u64) -> TraceRecorder {
        TraceRecorder {
            interval_cycles: interval_cycles.max(1),
            next: 0,
            trace: CounterTrace { clock_hz, ..CounterTrace::default() },
        }
    }

    /// The trace so far; recording starts again from empty.
    pub fn take(&mut self) -> CounterTrace {
        let clock_hz = self.trace.clock_hz;
        std::mem::replace(&mut self.trace, CounterTrace { clock_hz, ..CounterTrace::default() })
    }

    fn sample(&mut self, sim: &mut Simulator) {
        self.trace.events.extend(sim.take_power_events());
        let now = sim.counters();
        self.trace.samples.push(now);
        while self.next <= now.cycles {
            self.next += self.interval_cycles;
        }
    }
}

impl Simulator {
    /// [`Simulator::run`], sampling the counters into `recorder` at its
    /// interval (and once when it returns); turns power tracing on.
    pub fn run_recording(
        &mut self,
        max_instructions: u64,
        recorder: &mut TraceRecorder,
    ) -> Result<crate::StopReason, SimError> {
        self.power.tracing = true;
        let start = self.instructions;
        loop {
            let left = max_instructions.saturating_sub(self.instructions - start);
            if left == 0 {
                recorder.sample(self);
                return Ok(crate::StopReason::InstructionLimit);
            }
            let stop = self.run_until(left, recorder.next);
            match stop {
                Ok(crate::StopReason::CycleLimit) => recorder.sample(self),
                other => {
                    recorder.sample(self);
                    return other;
                }
            }
        }
    }
}
