use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;
use wlmake::cli::Cli;
use wlmake::env_vars::WLMAKE_LOG;

fn main() -> ExitCode {
    // A reader that goes away (`wlmake doctor | head`) ends the output quietly, as for
    // other Unix tools, instead of a panic in println!. Children get SIGPIPE's default
    // disposition anyway.
    // SAFETY: called before any thread starts; SIG_DFL is a valid disposition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // Ctrl-C and SIGTERM stop the children's process groups, remove temp folders and
    // exit 130 / 143 (src/interrupt.rs).
    wlmake::interrupt::install();
    let cli = Cli::parse();
    // rustls-platform-verifier logs a refused certificate as an error of its own; the
    // download's error says the same with the host and a hint (src/net.rs).
    let default = match cli.global.verbose {
        0 => "warn,rustls_platform_verifier=off",
        1 => "wlmake=debug,rustls_platform_verifier=off",
        _ => "debug",
    };
    let filter = EnvFilter::try_from_env(WLMAKE_LOG).unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .init();
    match wlmake::commands::run(cli) {
        Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
        Err(error) => {
            eprint!("{}", wlmake::error::render(&error));
            ExitCode::from(wlmake::error::exit_code(&error) as u8)
        }
    }
}
