//! target: tinybench's benchmark firmware.
//!
//! Runs one CONV_2D case (shape, seed, warmup and iteration counts chosen at
//! build time by the harness through `TINYBENCH_*` variables), times each
//! inference with the DWT cycle counter and reports over RTT: human logs as
//! defmt on up channel 0, results as `tinybench_proto` frames on up channel 1.
//! It exits through semihosting, which both the simulator and probe-rs catch.
#![no_std]
#![no_main]

mod board;
mod error;
#[cfg(idle)]
mod idle;
mod kernels;
mod marker;
mod rtt;
mod stack;
mod workload;

mod params {
    include!(concat!(env!("OUT_DIR"), "/params.rs"));
}

use core::hint::black_box;
use core::sync::atomic::{AtomicBool, Ordering, compiler_fence};

use cortex_m::peripheral::DWT;
use cortex_m_rt::entry;
use cortex_m_semihosting::debug::{self, EXIT_FAILURE, EXIT_SUCCESS};
use tinybench_proto::{Message, RunStatus};

use crate::board::BoardInfo;
use crate::error::FwError;
use crate::rtt::Results;

/// The protocol version, for the host to check the ELF before running it.
#[unsafe(no_mangle)]
#[used]
static TINYBENCH_PROTO_VERSION: u16 = tinybench_proto::PROTO_VERSION;
const _: () = assert!(
    rtt::str_eq(tinybench_proto::VERSION_SYMBOL, "TINYBENCH_PROTO_VERSION"),
    "the version static must be named tinybench_proto::VERSION_SYMBOL"
);

/// The only case this firmware runs.
const CASE: u16 = 0;

#[entry]
fn main() -> ! {
    // Initialization: failures here are programming errors and panic.
    let mut core = cortex_m::Peripherals::take().expect("core peripherals are taken only here");
    let board = board::init(&mut core);
    let mut results = rtt::init();
    defmt::info!(
        "tinybench-fw on {} ({}, {} Hz), workload {}, kernels {}",
        board.id,
        params::BOARD_CORE,
        board.core_clock_hz,
        params::WORKLOAD,
        params::KERNELS
    );

    match run(&mut core, &board, &mut results) {
        Ok(()) => {
            defmt::info!("done");
            exit(EXIT_SUCCESS)
        }
        Err(err) => fail(&mut results, err),
    }
}

fn run(core: &mut cortex_m::Peripherals, board: &BoardInfo, results: &mut Results) -> Result<(), FwError> {
    enable_cycle_counter(core)?;
    let marker_write_cycles = marker::write_cycles();
    let output: &'static mut [i8; workload::OUTPUT_LEN] =
        cortex_m::singleton!(: [i8; workload::OUTPUT_LEN] = [0; workload::OUTPUT_LEN])
            .ok_or(FwError::OutputBufferTaken)?;
    let mut workload = workload::Workload::init()?;
    // After the static buffers are placed: their initializers may pass through the stack.
    let stack = stack::paint();

    results.send(&Message::Hello { board: board.id, core_clock_hz: board.core_clock_hz, case_count: 1 })?;
    results.send(&Message::CaseStart {
        case: CASE,
        // The workload kind, not the case's label (which stays on the host).
        name: params::WORKLOAD,
        warmup: params::WARMUP,
        iterations: params::ITERATIONS,
        macs: workload::MACS,
        output_len: workload::OUTPUT_LEN_U32,
    })?;
    defmt::info!("{} warmup + {} timed runs", params::WARMUP, params::ITERATIONS);

    match params::SELF_TEST {
        "hang" => {
            defmt::warn!("self-test: hanging on purpose");
            loop {
                compiler_fence(Ordering::SeqCst);
            }
        }
        "fail" => return Err(FwError::SelfTest),
        _ => {}
    }

    // CYCCNT after each layer; a layer fused into the next one (fused kernel
    // sets) gets no stamp and its cycles are reported on the group's last layer.
    let mut layer_ends = [None; workload::LAYERS];
    for _ in 0..params::WARMUP {
        workload.run::<false>(output, &mut layer_ends)?;
    }
    defmt::info!("warmup done");
    // The baseline, then straight into the first timed inference: its rising
    // marker edge ends the idle window.
    #[cfg(idle)]
    idle::idle(&mut core.SYST, params::IDLE_MS, board.core_clock_hz);

    for iteration in 0..params::ITERATIONS {
        layer_ends = [None; workload::LAYERS];
        let (start_cycles, cycles, layer_marks) = timed_inference(&mut workload, output, &mut layer_ends)?;
        // Outside the timed region: sending may block on a slow reader.
        if iteration == 0 {
            // After the first inference, which counted its layer marks.
            results.send(&Message::PowerSetup {
                case: CASE,
                marker_write_cycles,
                idle_ms: params::IDLE_MS,
                layer_marks,
            })?;
        }
        results.send(&Message::Sample { case: CASE, iteration, cycles, start_cycles })?;
        let start = start_cycles;
        let mut previous = start;
        for (layer, end) in layer_ends.iter().enumerate() {
            let cycles = match *end {
                Some(end) => end.wrapping_sub(core::mem::replace(&mut previous, end)),
                None => 0,
            };
            results.send(&Message::LayerSample { case: CASE, iteration, layer: layer as u16, cycles })?;
        }
    }
    defmt::info!("{} timed runs done", params::ITERATIONS);

    let bytes = as_bytes(output);
    for (index, chunk) in bytes.chunks(tinybench_proto::MAX_OUTPUT_CHUNK_BYTES).enumerate() {
        let offset = (index * tinybench_proto::MAX_OUTPUT_CHUNK_BYTES) as u32;
        results.send(&Message::OutputChunk { case: CASE, offset, bytes: chunk })?;
    }
    let output_checksum = tinybench_proto::checksum(bytes);

    // Accuracy: every linked evaluation sample, untimed, its whole output in chunks.
    let eval_samples = workload.eval_samples();
    for sample in 0..eval_samples {
        workload.eval(sample, output)?;
        for (index, chunk) in as_bytes(output).chunks(tinybench_proto::MAX_OUTPUT_CHUNK_BYTES).enumerate() {
            let offset = (index * tinybench_proto::MAX_OUTPUT_CHUNK_BYTES) as u32;
            results.send(&Message::EvalOutput { case: CASE, sample: sample as u32, offset, bytes: chunk })?;
        }
    }
    if eval_samples > 0 {
        defmt::info!("{} evaluation samples done", eval_samples);
    }

    results.send(&Message::CaseEnd { case: CASE, output_checksum })?;
    defmt::info!("output checksum {=u32:#010x}", output_checksum);

    let (stack_peak_bytes, stack_size_bytes) = (stack.peak_bytes(), stack.size_bytes());
    results.send(&Message::Memory { stack_peak_bytes, stack_size_bytes })?;
    defmt::info!("stack peak {} of {} bytes", stack_peak_bytes, stack_size_bytes);

    results.send(&Message::Done { status: RunStatus::Ok })
}

fn enable_cycle_counter(core: &mut cortex_m::Peripherals) -> Result<(), FwError> {
    core.DCB.enable_trace();
    // The Cortex-M7 (and some M4 parts) ignore DWT writes until the lock
    // access register is written; harmless where there is no lock.
    DWT::unlock();
    if !DWT::has_cycle_counter() {
        return Err(FwError::NoCycleCounter);
    }
    core.DWT.enable_cycle_counter();
    Ok(())
}

/// One inference between two CYCCNT reads; returns the start stamp, the
/// cycles and the marker toggles at layer boundaries (per-layer marks). The fences keep the compiler from moving memory accesses of the
/// inference across the reads. Model workloads also stamp each layer's end
/// (a CYCCNT read per layer inside the timed region: a few cycles each).
///
/// The board's marker pin is raised just before the first CYCCNT read and
/// lowered just after the second, so the two register writes lie outside
/// the DWT window: the cycles do not include them, while the marker's high
/// time (seen by a power instrument) covers the window plus the writes'
/// latency to the pin; `marker::write_cycles` measures a write for the host.
/// The fences order the writes against the reads but not register-only
/// instructions: the compiler may put the set-up of the lowering write (its
/// address and value into registers, about 3 single-cycle moves) before the
/// second read, inside the window. Per-layer marks, when built in, are
/// inside the window: each layer's cycles include one marker write.
fn timed_inference(
    workload: &mut workload::Workload,
    output: &mut [i8],
    layer_ends: &mut [Option<u32>; workload::LAYERS],
) -> Result<(u32, u32, u16), FwError> {
    compiler_fence(Ordering::SeqCst);
    marker::high();
    compiler_fence(Ordering::SeqCst);
    let start = DWT::cycle_count();
    compiler_fence(Ordering::SeqCst);
    let result = workload.run::<{ params::LAYER_MARKS }>(black_box(&mut *output), layer_ends);
    compiler_fence(Ordering::SeqCst);
    let end = DWT::cycle_count();
    compiler_fence(Ordering::SeqCst);
    marker::low();
    compiler_fence(Ordering::SeqCst);
    black_box(output);
    let layer_marks = result?;
    // CYCCNT wraps every 2^32 cycles (~9 s at 480 MHz); one wrap is harmless.
    Ok((start, end.wrapping_sub(start), layer_marks))
}

fn as_bytes(values: &[i8]) -> &[u8] {
    // SAFETY: i8 and u8 have the same size, alignment and validity (every bit pattern).
    unsafe { core::slice::from_raw_parts(values.as_ptr().cast::<u8>(), values.len()) }
}

fn fail(results: &mut Results, err: FwError) -> ! {
    defmt::error!("benchmark failed: {} (code {})", err, err.code());
    // Best effort: the host treats a missing Done as a failure too.
    let _ = results.send(&Message::Done { status: RunStatus::Failed { code: err.code() } });
    exit(EXIT_FAILURE)
}

fn exit(status: debug::ExitStatus) -> ! {
    debug::exit(status);
    // Only reached when no debugger or simulator handles semihosting.
    loop {
        cortex_m::asm::wfi();
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    static PANICKING: AtomicBool = AtomicBool::new(false);
    // A panic inside the logger or the channel would recurse; the second one
    // only exits.
    if !PANICKING.swap(true, Ordering::Relaxed) {
        match info.location() {
            Some(at) => {
                defmt::error!("panic at {}:{}: {}", at.file(), at.line(), defmt::Display2Format(&info.message()))
            }
            None => defmt::error!("panic: {}", defmt::Display2Format(&info.message())),
        }
        // SAFETY: this is the panic handler; main never runs again.
        if let Some(mut results) = unsafe { Results::for_panic_handler() } {
            let _ = results.send(&Message::Done { status: RunStatus::Failed { code: FwError::Panic.code() } });
        }
    }
    exit(EXIT_FAILURE)
}
