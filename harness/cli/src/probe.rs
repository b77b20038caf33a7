//! `tinybench probe list`: the debug probes a run can use.

use clap::{Args, Subcommand};
use tinybench_config::Board;
use tinybench_probe::list::{self, list_probes};
use tinybench_probe::sim_probe::{self, SimProbeFaults};

use crate::exit::Exit;
use crate::{Failure, say, tell};

#[derive(Args)]
pub struct ProbeArgs {
    #[command(subcommand)]
    command: ProbeCommand,
}

#[derive(Subcommand)]
enum ProbeCommand {
    /// Print every probe with VID:PID:SERIAL and its driver; mark the ones this user may not open
    List {
        /// Also list tinybench's simulated probe for each built-in simulated board (probe = "sim")
        #[arg(long)]
        include_sim: bool,
    },
}

pub fn probe(args: ProbeArgs) -> Result<u8, Failure> {
    let ProbeCommand::List { include_sim } = args.command;
    if include_sim {
        for id in Board::builtin_ids() {
            match Board::builtin(id) {
                Some(Ok(board)) if board.simulated => {
                    sim_probe::offer(&board, SimProbeFaults::default());
                }
                _ => {}
            }
        }
    }
    let probes = list_probes(&probe_rs_lister());
    if probes.is_empty() {
        tell!("no debug probes found; connect a board's on-board probe over USB");
    }
    for probe in &probes {
        say!("{probe}");
    }
    if probes.iter().any(|p| p.permission_denied) {
        tell!("note: this user may not open the probes marked [no permission]; {}", list::PERMISSION_FIX);
    }
    Ok(Exit::Success.code())
}

fn probe_rs_lister() -> tinybench_probe::list::Lister {
    tinybench_probe::list::Lister::new()
}
