//! The command line: the subset of WasmEdge's that wlmake uses.
//!
//! `wasmedge-test-host [--dir GUEST:HOST]... [--env NAME=VALUE]... MODULE.wasm [ARGS...]`
//!
//! As in WasmEdge, options come before the module and everything after it belongs to the
//! program; `--dir PATH` alone maps PATH to itself, and the host environment is not passed on.

use std::ffi::OsString;
use std::path::PathBuf;

/// The Wasmtime release this host is built on (pinned in Cargo.toml).
pub const WASMTIME_VERSION: &str = "46.0.3";

pub const USAGE: &str = "\
usage: wasmedge-test-host [--dir GUEST:HOST]... [--env NAME=VALUE]... MODULE.wasm [ARGS...]

For wlmake's tests only: WASI preview1 and WasmEdge 0.14's socket calls on Wasmtime.
Not a WasmEdge runtime; never ship or recommend it as one.

Options (before the module):
  --dir GUEST:HOST   preopen the host folder HOST as GUEST (--dir PATH means PATH:PATH)
  --env NAME=VALUE   set an environment variable for the program
  --version          print the version
  --help             print this help

Environment:
  WASMEDGE_TEST_HOST_SEQUENTIAL_FDS=1   number new sockets 3, 4, 5... instead of at random
                                        (debugging only; WasmEdge has no such switch)";

pub fn version() -> String {
    format!(
        "wasmedge-test-host {} (WasmEdge 0.14 socket calls on Wasmtime {WASMTIME_VERSION}; for tests only)",
        env!("CARGO_PKG_VERSION")
    )
}

/// A folder the program sees, from `--dir`.
#[derive(Debug, PartialEq, Eq)]
pub struct Preopen {
    pub guest: String,
    pub host: PathBuf,
}

/// What to run, as parsed from the command line.
#[derive(Debug, PartialEq, Eq)]
pub struct RunOptions {
    pub preopens: Vec<Preopen>,
    pub env: Vec<(String, String)>,
    pub module: PathBuf,
    /// The program's argv, starting with the module path as given.
    pub args: Vec<String>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Run(RunOptions),
    Version,
    Help,
}

pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Command, String> {
    let mut args = args.into_iter().map(|arg| {
        arg.into_string()
            .map_err(|arg| format!("argument {arg:?} is not valid UTF-8"))
    });
    let mut preopens = Vec::new();
    let mut env = Vec::new();
    while let Some(arg) = args.next().transpose()? {
        let (flag, inline_value) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag.to_string(), Some(value)),
            _ => (arg.clone(), None),
        };
        let mut value = || match inline_value {
            Some(value) => Ok(value.to_string()),
            None => args
                .next()
                .transpose()?
                .ok_or_else(|| format!("`{flag}` needs a value")),
        };
        match flag.as_str() {
            "--version" => return Ok(Command::Version),
            "--help" | "-h" => return Ok(Command::Help),
            "--dir" => preopens.push(parse_dir(&value()?)),
            "--env" => env.push(parse_env(&value()?)?),
            _ if arg.starts_with('-') => return Err(format!("unknown option `{arg}`")),
            _ => {
                let mut program_args = vec![arg.clone()];
                program_args.extend(args.collect::<Result<Vec<_>, _>>()?);
                return Ok(Command::Run(RunOptions {
                    preopens,
                    env,
                    module: PathBuf::from(arg),
                    args: program_args,
                }));
            }
        }
    }
    Err("no module given".to_string())
}

fn parse_dir(value: &str) -> Preopen {
    let (guest, host) = value.split_once(':').unwrap_or((value, value));
    Preopen {
        guest: guest.to_string(),
        host: PathBuf::from(host),
    }
}

fn parse_env(value: &str) -> Result<(String, String), String> {
    match value.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_string(), value.to_string())),
        _ => Err(format!("`--env {value}` is not NAME=VALUE")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_strs(args: &[&str]) -> Result<Command, String> {
        parse(args.iter().map(OsString::from))
    }

    #[test]
    fn options_then_module_then_program_args() {
        let command = parse_strs(&[
            "--dir",
            ".:/tmp/site",
            "--dir=/data",
            "--env",
            "A=1=2",
            "php.wasm",
            "-S",
            "--dir",
        ])
        .unwrap();
        assert_eq!(
            command,
            Command::Run(RunOptions {
                preopens: vec![
                    Preopen {
                        guest: ".".into(),
                        host: "/tmp/site".into()
                    },
                    Preopen {
                        guest: "/data".into(),
                        host: "/data".into()
                    },
                ],
                env: vec![("A".into(), "1=2".into())],
                module: "php.wasm".into(),
                args: vec!["php.wasm".into(), "-S".into(), "--dir".into()],
            })
        );
    }

    #[test]
    fn errors_name_the_problem() {
        assert_eq!(parse_strs(&[]).unwrap_err(), "no module given");
        assert_eq!(
            parse_strs(&["--env", "NOVALUE", "m.wasm"]).unwrap_err(),
            "`--env NOVALUE` is not NAME=VALUE"
        );
        assert_eq!(parse_strs(&["--dir"]).unwrap_err(), "`--dir` needs a value");
        assert_eq!(
            parse_strs(&["--reactor", "m.wasm"]).unwrap_err(),
            "unknown option `--reactor`"
        );
    }

    #[test]
    fn version_names_the_wasmtime_pin() {
        let manifest = include_str!("../Cargo.toml");
        assert!(manifest.contains(&format!("version = \"={WASMTIME_VERSION}\"")));
        assert!(version().ends_with("for tests only)"));
    }
}
