//! `tinybench instrument serve`: an instrument's simulator on its own,
//! serving a waveform over the instrument's real protocol, for trying a
//! driver, a script or another tool without the instrument.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use tinybench_instruments::ina219::sim::ServeOptions;
use tinybench_power::Waveform;

use crate::exit::Exit;
use crate::{Failure, say};

#[derive(Args)]
pub struct InstrumentArgs {
    #[command(subcommand)]
    command: InstrumentCommand,
}

#[derive(Subcommand)]
enum InstrumentCommand {
    /// Serve a waveform from an instrument's simulator until stopped (N6705B: SCPI on a TCP port; PPK2: its serial
    /// protocol on a pseudo-terminal; INA219: its registers read by the simulator's own poller, printed)
    Serve {
        /// The instrument
        kind: Kind,
        /// A run's `cases/<case>/trace.parquet`, or CSV with the header `time_s,current_a,voltage_v,marker`
        #[arg(long)]
        waveform: PathBuf,
        /// n6705b: the address to listen on (port 5025 is the instrument's; 0 picks a free one)
        #[arg(long, default_value = "127.0.0.1:5025")]
        bind: SocketAddr,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Kind {
    N6705b,
    Ina219,
    Ppk2,
}

/// The largest waveform file read (a day of 100 kS/s samples is far less).
const MAX_WAVEFORM_BYTES: u64 = 2 << 30;

pub fn instrument(args: InstrumentArgs) -> Result<u8, Failure> {
    let InstrumentCommand::Serve { kind, waveform, bind } = args.command;
    let bad_input = |e: anyhow::Error| Failure::new(Exit::BadInput, e);
    let size = std::fs::metadata(&waveform)
        .with_context(|| format!("{}: cannot read the waveform", waveform.display()))
        .map_err(bad_input)?
        .len();
    if size > MAX_WAVEFORM_BYTES {
        return Err(bad_input(anyhow::anyhow!(
            "{}: {size} bytes is more than the {MAX_WAVEFORM_BYTES} bytes accepted for a waveform",
            waveform.display()
        )));
    }
    let parsed = if waveform.extension().is_some_and(|e| e == "parquet") {
        tinybench_runner::trace::read_parquet(&waveform).and_then(|rows| Waveform::from_rows(&rows))
    } else {
        let text = std::fs::read_to_string(&waveform)
            .with_context(|| format!("{}: cannot read the waveform", waveform.display()))
            .map_err(bad_input)?;
        Waveform::from_csv(&text)
    }
    .map_err(|e| bad_input(anyhow::anyhow!("{}: {e}", waveform.display())))?;
    say!(
        "serving {} ({:.6} s, {} samples every {:.3} us)",
        waveform.display(),
        parsed.duration_s(),
        parsed.current_a.len(),
        parsed.interval_s * 1e6
    );
    let unreachable = |e: tinybench_instruments::InstrumentError| Failure::new(Exit::PowerFailed, e);
    match kind {
        Kind::N6705b => tinybench_instruments::n6705b::sim::serve_with(
            bind,
            tinybench_instruments::n6705b::sim::SimConfig { replay: Some(parsed), ..Default::default() },
            |address| say!("simulated Keysight N6705B listening on {address} (SCPI); stop with Ctrl-C"),
        )
        .map_err(unreachable)?,
        Kind::Ppk2 => tinybench_instruments::ppk2::sim::serve(parsed).map_err(unreachable)?,
        Kind::Ina219 => {
            let mut out = std::io::stdout();
            tinybench_instruments::ina219::sim::serve(parsed, &ServeOptions::default(), &mut out)
                .map_err(unreachable)?
        }
    }
    Ok(Exit::Success.code())
}
