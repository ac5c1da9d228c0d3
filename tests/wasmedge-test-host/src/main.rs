//! `wasmedge-test-host`: a stand-in for WasmEdge, for wlmake's tests only.
//!
//! No registry reachable from wlmake's build machines ships WasmEdge, yet builds for the
//! `wasmedge` runtime import WasmEdge's socket extensions of `wasi_snapshot_preview1`.
//! This program runs such a module on Wasmtime: standard WASI preview1 comes from
//! wasi-common, the socket calls are implemented here the way WasmEdge 0.14 implements
//! them on Linux, random file descriptors included. It is not a WasmEdge runtime and must
//! never be offered as one.

mod addrinfo;
mod cli;
mod guest;
mod host;
mod sched;
mod socket_file;
mod sockets;

use std::process::ExitCode;

use cli::Command;

fn main() -> ExitCode {
    match cli::parse(std::env::args_os().skip(1)) {
        Ok(Command::Version) => {
            println!("{}", cli::version());
            ExitCode::SUCCESS
        }
        Ok(Command::Help) => {
            println!("{}\n\n{}", cli::version(), cli::USAGE);
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}\n\n{}", cli::USAGE);
            ExitCode::FAILURE
        }
        // Like WasmEdge, the process exits with the program's exit code (its low 8 bits).
        Ok(Command::Run(options)) => match host::run(&options) {
            Ok(code) => ExitCode::from(code as u8),
            Err(err) => {
                eprintln!("error: {err}");
                for cause in err.chain().skip(1) {
                    eprintln!("  Caused by: {cause}");
                }
                ExitCode::FAILURE
            }
        },
    }
}
