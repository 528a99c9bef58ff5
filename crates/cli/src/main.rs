//! `meshhunt`: hunt peer-to-peer command-and-control meshes in endpoint and
//! network telemetry.

mod cli;
mod live_cmd;

use std::process::ExitCode;

fn main() -> ExitCode {
    match cli::run() {
        Ok(code) => code,
        Err(cli::Failure::Usage(msg)) => {
            eprintln!("meshhunt: {msg}");
            ExitCode::from(1)
        }
        Err(cli::Failure::Internal(msg)) => {
            eprintln!("meshhunt: internal error: {msg}");
            ExitCode::from(2)
        }
    }
}
