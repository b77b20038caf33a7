//! The capture thread: polls the INA219 for new conversions and drains the
//! marker line until the expected edges and one conversion after the last
//! of them are in, or until told to stop.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use embedded_hal::i2c::I2c;
use ina219::SyncIna219;
use ina219::calibration::Calibration;
use ina219::errors::BusVoltageReadError;
use tinybench_power::MarkerEdge;

use super::{CountCalibration, I2cTarget};
use crate::InstrumentError;
use crate::ina219::seams::{Clock, MarkerLine};

/// What the capture thread needs to know.
#[derive(Debug, Clone, Copy)]
pub(super) struct SamplerSpec {
    /// Kept after the last expected edge: with an odd number of per-layer
    /// marks that edge is a layer boundary, and the last layers run on.
    pub tail_s: f64,
    /// Marker edges the case makes; the capture ends one conversion after the
    /// last of them.
    pub expected_edges: u32,
    /// Time origin of the capture on the clock (the end of `arm`).
    pub t0_s: f64,
    /// One shunt + bus conversion cycle.
    pub cycle_s: f64,
    /// The shunt conversion (what each current value averages over).
    pub shunt_conversion_s: f64,
    /// The bus conversion, which follows the shunt conversion in each cycle.
    pub bus_conversion_s: f64,
    /// Until the first edge only the last this many seconds are kept (the
    /// idle baseline and a margin): a simulated case polls for as long as the
    /// firmware simulation takes before the waveform arrives.
    pub keep_before_first_edge_s: f64,
    /// Pause after a poll that found no new conversion, until the first
    /// edge (the idle baseline needs no tight timestamps, and a simulated
    /// case should not spin a core while its firmware is simulated).
    pub idle_pause: Duration,
    /// A current at or beyond this magnitude is at the end of the shunt
    /// range (the shunt register saturates there).
    pub full_scale_a: f64,
}

/// Flags shared with `capture()`.
#[derive(Debug, Default)]
pub(super) struct Control {
    pub stop: AtomicBool,
    pub edges_seen: AtomicU32,
}

/// One conversion.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Sample {
    /// End of its shunt conversion, seconds since `t0_s`.
    pub time_s: f64,
    pub current_a: f64,
    pub bus_v: f64,
    /// The chip's math-overflow flag was set or the current was at the end
    /// of the shunt range: the value is clipped.
    pub clipped: bool,
}

/// What the thread recorded.
#[derive(Debug, Default)]
pub(super) struct Recording {
    pub samples: VecDeque<Sample>,
    /// Edges, seconds since `t0_s`.
    pub edges: Vec<MarkerEdge>,
    /// All expected edges and one conversion after them were recorded.
    pub complete: bool,
    /// Why the thread stopped early.
    pub error: Option<InstrumentError>,
}

/// Estimates when a conversion cycle ended from the poll that saw it.
///
/// The data registers hold the latest conversion, so the one seen by a read
/// of BUS_VOLTAGE latched between `read_start_s` and `read_end_s` ended
/// within one cycle before the latch; and it ended after `not_before_s` (the
/// start of the last read that found no new conversion, or of the POWER read
/// that cleared the previous one). The estimate is the middle of what
/// remains, so its error is at most half of min(poll interval, cycle).
pub(super) fn conversion_end_s(not_before_s: f64, read_start_s: f64, read_end_s: f64, cycle_s: f64) -> f64 {
    let earliest = not_before_s.max(read_start_s - cycle_s).min(read_end_s);
    0.5 * (earliest + read_end_s)
}

/// Runs until complete, stopped, or an error; gives back the device and the
/// marker line with what it recorded.
pub(super) fn run<B, C, M>(
    mut ina: SyncIna219<B, CountCalibration>,
    clock: C,
    mut marker: M,
    spec: SamplerSpec,
    calibration: CountCalibration,
    control: Arc<Control>,
    target: &I2cTarget,
) -> (SyncIna219<B, CountCalibration>, M, Recording)
where
    B: I2c,
    C: Clock,
    M: MarkerLine,
{
    let mut rec = Recording::default();
    // Writing CONFIG restarted the conversions just before t0.
    let mut not_before_s = spec.t0_s;
    // Time (since t0) from which the last expected edge is covered.
    let mut done_after_s: Option<f64> = None;
    loop {
        if control.stop.load(Ordering::Acquire) {
            break;
        }
        match marker.take_edges() {
            Ok(edges) => {
                for edge in edges {
                    // The marker idles low: a falling edge before any rising
                    // one is the end of something earlier (an interrupted
                    // case, the pin's setup), not this case's.
                    if rec.edges.is_empty() && !edge.high {
                        continue;
                    }
                    if (rec.edges.len() as u64) < u64::from(spec.expected_edges) {
                        rec.edges.push(MarkerEdge { time_s: edge.time_s - spec.t0_s, high: edge.high });
                        control.edges_seen.store(rec.edges.len() as u32, Ordering::Release);
                        if rec.edges.len() as u64 == u64::from(spec.expected_edges) {
                            done_after_s = Some(edge.time_s - spec.t0_s + spec.tail_s);
                        }
                    }
                }
            }
            Err(err) => {
                rec.error = Some(err);
                break;
            }
        }
        if spec.expected_edges == 0 && done_after_s.is_none() {
            done_after_s = Some(clock.now_s() - spec.t0_s);
        }
        if let (Some(after_s), Some(last)) = (done_after_s, rec.samples.back())
            && last.time_s - spec.shunt_conversion_s >= after_s
        {
            rec.complete = true;
            break;
        }

        let read_start_s = clock.now_s();
        let bus = match ina.bus_voltage() {
            Ok(bus) => bus,
            Err(BusVoltageReadError::I2cError(err)) => {
                rec.error = Some(target.error(err, "reading BUS_VOLTAGE"));
                break;
            }
            Err(BusVoltageReadError::BusVoltageOutOfRange { is, .. }) => {
                rec.error = Some(InstrumentError::Malformed {
                    what: "the INA219's BUS_VOLTAGE register".into(),
                    detail: format!("{} mV is beyond the chip's 32 V range", is.voltage_mv()),
                });
                break;
            }
        };
        let read_end_s = clock.now_s();
        if !bus.is_conversion_ready() {
            not_before_s = read_start_s;
            if rec.edges.is_empty() && !spec.idle_pause.is_zero() {
                std::thread::sleep(spec.idle_pause);
            }
            continue;
        }
        let current = match ina.current_raw() {
            Ok(current) => current,
            Err(err) => {
                rec.error = Some(target.error(err, "reading CURRENT"));
                break;
            }
        };
        // Reading POWER clears the conversion-ready flag; a conversion ending
        // after this read starts is a new one.
        let clear_start_s = clock.now_s();
        if let Err(err) = ina.power_raw() {
            rec.error = Some(target.error(err, "reading POWER"));
            break;
        }
        let cycle_end_s = conversion_end_s(not_before_s, read_start_s, read_end_s, spec.cycle_s);
        not_before_s = clear_start_s;
        let current_a = calibration.current_from_register(current);
        rec.samples.push_back(Sample {
            time_s: cycle_end_s - spec.bus_conversion_s - spec.t0_s,
            current_a,
            bus_v: f64::from(bus.voltage_mv()) * 1e-3,
            clipped: bus.has_math_overflowed() || current_a.abs() >= spec.full_scale_a,
        });
        if rec.edges.is_empty() {
            let keep_from_s = read_end_s - spec.t0_s - spec.keep_before_first_edge_s;
            while rec.samples.front().is_some_and(|s| s.time_s < keep_from_s) {
                rec.samples.pop_front();
            }
        }
    }
    (ina, marker, rec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversion_end_is_the_middle_of_what_the_polls_allow() {
        // Polled every 0.1 ms with a 1 ms cycle: the end lies between the
        // previous poll's start (10.0) and this read's end (10.0002).
        assert!((conversion_end_s(10.0, 10.0001, 10.0002, 1e-3) - 10.0001).abs() < 1e-12);
        // Polled every 5 ms (slower than the cycle): the conversion seen
        // ended within one cycle before the latch.
        assert!((conversion_end_s(5.0, 9.9995, 10.0, 1e-3) - (10.0 - 0.00075)).abs() < 1e-12);
    }
}
