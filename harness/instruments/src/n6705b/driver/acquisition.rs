//! Sizing one case's acquisition from its [`CapturePlan`]: the digitizer
//! (a fixed number of points, some of them before the trigger) when the
//! case fits in its memory at a sample interval that still resolves an
//! inference, else the external data logger (no point limit, no pre-trigger
//! data).

use tinybench_power::CapturePlan;

/// The case's marker loop may run this much longer than planned...
pub(crate) const TAIL_MARGIN_FRACTION: f64 = 0.25;
/// ...plus this (marker latency, the last inference's tail).
pub(crate) const TAIL_MARGIN_S: f64 = 0.010;
/// Share of the idle wait recorded before the trigger. Less than all of it:
/// the N6705 ignores a trigger that comes before its pre-trigger samples are
/// complete (N6705C Operating and Service Guide, "Specify a Trigger
/// Offset"), which would lose the whole capture.
pub(crate) const PRE_TRIGGER_FRACTION: f64 = 0.9;
/// A digitizer interval longer than inference_s / this no longer resolves
/// an inference; the data logger is used instead.
pub(crate) const MIN_SAMPLES_PER_INFERENCE: f64 = 8.0;
/// Above 20.48 us the digitizer's interval comes in steps of 20.48 us
/// (`SENS:SWE:TINT:RES RES20`, the default); below it 10.24 us is the step.
pub(crate) const RES20_STEP_S: f64 = 20.48e-6;
pub(crate) const FINE_STEP_S: f64 = 10.24e-6;
/// The data logger's shortest integration period per logged parameter with
/// `FORM REAL` (102.4 us for one, 204.8 us for two; Agilent N6705 User's
/// Guide, external data logging).
pub(crate) const ELOG_MIN_PERIOD_PER_PARAM_S: f64 = 102.4e-6;
/// Records kept at most from a data-logger capture (memory on the host).
pub(crate) const ELOG_MAX_RECORDS: f64 = 2.0e6;

/// The time to record before and after the trigger (the marker's first
/// rising edge).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Spans {
    pub pre_s: f64,
    pub post_s: f64,
}

pub(crate) fn spans(plan: &CapturePlan) -> Spans {
    let loop_s = f64::from(plan.iterations) * plan.inference_s;
    Spans { pre_s: plan.idle_s * PRE_TRIGGER_FRACTION, post_s: loop_s * (1.0 + TAIL_MARGIN_FRACTION) + TAIL_MARGIN_S }
}

/// Points in all and before the trigger to cover `spans` at `interval_s`,
/// if they fit in `max_points`.
pub(crate) fn fit(spans: Spans, interval_s: f64, max_points: u32) -> Option<(u32, u32)> {
    // The small slack keeps exact multiples from gaining a point to rounding.
    let pre = (spans.pre_s / interval_s + 1e-9).floor();
    let post = (spans.post_s / interval_s - 1e-9).ceil().max(1.0);
    let total = pre + post;
    (total <= f64::from(max_points)).then_some((total as u32, pre as u32))
}

/// How a case is recorded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Acquisition {
    /// The digitizer at `interval_s` (the instrument may round it; read it back).
    Digitizer { interval_s: f64 },
    /// The external data logger at `period_s`, because the digitizer cannot
    /// cover the case at an interval that resolves an inference.
    Elog { period_s: f64 },
}

/// Chooses the acquisition for `plan`, starting from `base_interval_s` (the
/// configured or the fastest interval), with `max_points` digitizer points
/// and `params` measured parameters (current, and voltage where measured).
pub(crate) fn choose(plan: &CapturePlan, base_interval_s: f64, max_points: u32, params: u32) -> Acquisition {
    let spans = spans(plan);
    if fit(spans, base_interval_s, max_points).is_some() {
        return Acquisition::Digitizer { interval_s: base_interval_s };
    }
    let usable_s = base_interval_s.max(plan.inference_s / MIN_SAMPLES_PER_INFERENCE);
    let needed_s = (spans.pre_s + spans.post_s) / f64::from(max_points.max(2) - 1);
    let mut interval_s =
        if needed_s <= FINE_STEP_S { FINE_STEP_S } else { (needed_s / RES20_STEP_S - 1e-9).ceil() * RES20_STEP_S };
    // Rounding in `fit` can ask for one more step.
    while fit(spans, interval_s, max_points).is_none() && interval_s <= usable_s {
        interval_s += RES20_STEP_S;
    }
    if interval_s <= usable_s {
        return Acquisition::Digitizer { interval_s };
    }
    let period_s = (ELOG_MIN_PERIOD_PER_PARAM_S * f64::from(params)).max(spans.post_s / ELOG_MAX_RECORDS);
    Acquisition::Elog { period_s }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(iterations: u32, inference_s: f64, idle_s: f64) -> CapturePlan {
        CapturePlan { iterations, inference_s, idle_s, edges_per_inference: 2, timeout_s: 60.0 }
    }

    #[test]
    fn spans_cover_the_loop_with_margins_and_most_of_the_idle_wait() {
        let s = spans(&plan(10, 0.01, 0.5));
        assert!((s.pre_s - 0.45).abs() < 1e-12);
        // 10 x 10 ms x 1.25 + 10 ms.
        assert!((s.post_s - 0.135).abs() < 1e-12);
    }

    #[test]
    fn a_short_case_uses_the_base_interval() {
        assert_eq!(choose(&plan(10, 0.01, 0.5), 10.24e-6, 524_288, 2), Acquisition::Digitizer { interval_s: 10.24e-6 });
        // 0.45 s / 10.24 us = 43945.3 -> 43945 before; 0.135 s -> 13184 after.
        assert_eq!(fit(spans(&plan(10, 0.01, 0.5)), 10.24e-6, 524_288), Some((57_129, 43_945)));
        assert_eq!(fit(spans(&plan(10, 0.01, 0.5)), 10.24e-6, 57_128), None);
    }

    #[test]
    fn a_longer_case_lengthens_the_interval_in_20_48_us_steps() {
        // 100 x 50 ms: post 6.26 s, pre 0.9 s: 7.16 s / 524287 = 13.7 us -> 20.48 us.
        let p = plan(100, 0.05, 1.0);
        assert_eq!(choose(&p, 10.24e-6, 524_288, 2), Acquisition::Digitizer { interval_s: 20.48e-6 });
        // With 4096 points: 1.75 ms -> 86 x 20.48 us = 1.76128 ms (< 50 ms / 8).
        let Acquisition::Digitizer { interval_s } = choose(&p, 10.24e-6, 4096, 2) else { panic!() };
        assert!((interval_s - 86.0 * 20.48e-6).abs() < 1e-12, "{interval_s}");
        assert!(fit(spans(&p), interval_s, 4096).is_some());
    }

    #[test]
    fn a_case_too_long_to_resolve_falls_back_to_the_data_logger() {
        // 1e6 x 200 us: 250 s; the digitizer would need ~480 us > 200 us / 8.
        let p = plan(1_000_000, 200e-6, 1.0);
        let Acquisition::Elog { period_s } = choose(&p, 10.24e-6, 524_288, 2) else { panic!() };
        // 204.8 us minimum for two parameters; 250.01 s / 2e6 = 125 us is less.
        assert!((period_s - 204.8e-6).abs() < 1e-12, "{period_s}");
    }
}
