//! The one wrapper every subprocess goes through.
//!
//! It logs the command line, sends the output to the step's log file (or captures it),
//! and fails with the command, the exit status, the tail of the output and the log path.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Lines of output shown when a command fails.
pub const TAIL_LINES: usize = 40;

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("cannot start `{program}`")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{command}` failed with {status}{}\n{tail}", log.as_ref().map(|l| format!(" (full log: {})", l.display())).unwrap_or_default())]
    Failed {
        command: String,
        status: String,
        tail: String,
        log: Option<PathBuf>,
    },
    #[error("`{command}` did not finish within {seconds} s and was stopped")]
    TimedOut { command: String, seconds: u64 },
    #[error("cannot write the log file `{}`", path.display())]
    Log {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl ProcessError {
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Spawn { program, .. } => Some(format!(
                "is `{program}` installed and on PATH? `wlmake doctor` lists what is missing"
            )),
            Self::Failed { tail, .. } => hint_from_output(tail),
            _ => None,
        }
    }
}

/// Turns well-known compiler and linker messages into advice.
pub fn hint_from_output(output: &str) -> Option<String> {
    for line in output.lines().rev() {
        if let Some(rest) = line.split("fatal error: '").nth(1)
            && let Some(header) = rest.split('\'').next()
        {
            return Some(format!(
                "the WASI sysroot has no `{header}`: patch the include out, or add a header to a compat library"
            ));
        }
        if let Some(symbol) = line.split("undefined symbol: ").nth(1) {
            return Some(format!(
                "`{}` is not in wasi-libc: stub it in a compat library or patch its caller",
                symbol.trim()
            ));
        }
        if let Some(lib) = line.split("unable to find library -l").nth(1) {
            return Some(format!("the linker cannot find `-l{}`", lib.trim()));
        }
    }
    None
}

/// A command to run: program, arguments, environment, folder.
#[derive(Debug, Clone)]
pub struct Command {
    program: OsString,
    args: Vec<OsString>,
    env: BTreeMap<OsString, OsString>,
    env_remove: Vec<OsString>,
    /// Start from an empty environment: only `env` reaches the child.
    clear_env: bool,
    /// A program that execs this one (`unshare --net --`); not shown in messages.
    wrapper: Vec<OsString>,
    dir: Option<PathBuf>,
    stdin: Option<Vec<u8>>,
    timeout: Option<Duration>,
}

/// What a captured run produced.
#[derive(Debug, Clone)]
pub struct Captured {
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Command {
    pub fn new(program: impl Into<OsString>) -> Self {
        Self {
            program: program.into(),
            args: Vec::new(),
            env: BTreeMap::new(),
            env_remove: Vec::new(),
            clear_env: false,
            wrapper: Vec::new(),
            dir: None,
            stdin: None,
            timeout: None,
        }
    }

    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.insert(key.into(), value.into());
        self
    }

    pub fn envs<I, K, V>(mut self, vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<OsString>,
        V: Into<OsString>,
    {
        for (key, value) in vars {
            self.env.insert(key.into(), value.into());
        }
        self
    }

    pub fn env_remove(mut self, key: impl Into<OsString>) -> Self {
        self.env_remove.push(key.into());
        self
    }

    /// The child sees no variable of ours: only those set with [`Command::env`].
    pub fn env_clear(mut self) -> Self {
        self.clear_env = true;
        self
    }

    /// Runs the program through `wrapper` (e.g. `unshare --net --`): the wrapper execs
    /// it, so the process (and its group) stays the same.
    pub fn wrapped(mut self, wrapper: &[&str]) -> Self {
        self.wrapper = wrapper.iter().map(OsString::from).collect();
        self
    }

    pub fn dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = Some(dir.into());
        self
    }

    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The command line as a user would type it (for logs and errors).
    pub fn display(&self) -> String {
        std::iter::once(&self.program)
            .chain(&self.args)
            .map(|part| {
                let text = part.to_string_lossy();
                if text.is_empty()
                    || text.contains(|c: char| c.is_whitespace() || "'\"$`\\".contains(c))
                {
                    format!("'{}'", text.replace('\'', "'\\''"))
                } else {
                    text.into_owned()
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn expression(&self) -> duct::Expression {
        let mut expression = match self.wrapper.split_first() {
            Some((wrapper, rest)) => duct::cmd(
                wrapper,
                rest.iter()
                    .chain(std::iter::once(&self.program))
                    .chain(&self.args),
            ),
            None => duct::cmd(&self.program, &self.args),
        };
        if let Some(dir) = &self.dir {
            expression = expression.dir(dir);
        }
        if self.clear_env {
            expression = expression.full_env(&self.env);
        } else {
            for key in &self.env_remove {
                expression = expression.env_remove(key);
            }
            for (key, value) in &self.env {
                expression = expression.env(key, value);
            }
        }
        // Its own process group: an interruption stops the child and all it started.
        expression = expression.before_spawn(|command| {
            use std::os::unix::process::CommandExt;
            command.process_group(0);
            Ok(())
        });
        match &self.stdin {
            Some(bytes) => expression.stdin_bytes(bytes.clone()),
            None => expression.stdin_null(),
        }
    }

    /// Starts `expression` with its process group registered for interruptions.
    fn start(
        &self,
        expression: duct::Expression,
    ) -> Result<(duct::Handle, crate::interrupt::Group), ProcessError> {
        let spawning = crate::interrupt::spawning();
        let handle = expression.start().map_err(|source| ProcessError::Spawn {
            program: self.program_name(),
            source,
        })?;
        let group = spawning.register(&handle.pids());
        Ok((handle, group))
    }

    fn program_name(&self) -> String {
        self.program.to_string_lossy().into_owned()
    }

    fn wait(
        &self,
        handle: duct::Handle,
        group: &crate::interrupt::Group,
    ) -> Result<std::process::Output, ProcessError> {
        let spawn_error = |source| ProcessError::Spawn {
            program: self.program_name(),
            source,
        };
        let Some(timeout) = self.timeout else {
            return handle.wait().cloned().map_err(spawn_error);
        };
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(output) = handle.try_wait().map_err(spawn_error)? {
                return Ok(output.clone());
            }
            if Instant::now() >= deadline {
                group.kill();
                let _ = handle.kill();
                return Err(ProcessError::TimedOut {
                    command: self.display(),
                    seconds: timeout.as_secs(),
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Runs with stdout and stderr appended to `log` (created if missing). Non-zero exit
    /// is an error carrying the tail of the log.
    pub fn run_logged(&self, log: &Path) -> Result<Duration, ProcessError> {
        let log_error = |source| ProcessError::Log {
            path: log.to_path_buf(),
            source,
        };
        if let Some(parent) = log.parent() {
            std::fs::create_dir_all(parent).map_err(log_error)?;
        }
        let mut file = File::options()
            .create(true)
            .append(true)
            .open(log)
            .map_err(log_error)?;
        writeln!(file, "$ {}", self.display()).map_err(log_error)?;
        tracing::debug!(command = %self.display(), log = %log.display(), "run");
        let start = Instant::now();
        let (handle, group) = self.start(
            self.expression()
                .stderr_to_stdout()
                .stdout_file(file.try_clone().map_err(log_error)?)
                .unchecked(),
        )?;
        let output = self.wait(handle, &group)?;
        let elapsed = start.elapsed();
        writeln!(
            file,
            "# exit: {} after {:.1} s",
            describe_status(&output.status),
            elapsed.as_secs_f64()
        )
        .map_err(log_error)?;
        if output.status.success() {
            Ok(elapsed)
        } else {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            Err(ProcessError::Failed {
                command: self.display(),
                status: describe_status(&output.status),
                tail: tail(&text, TAIL_LINES),
                log: Some(log.to_path_buf()),
            })
        }
    }

    /// Runs and captures stdout and stderr; the exit status is returned, not judged.
    pub fn capture(&self) -> Result<Captured, ProcessError> {
        tracing::debug!(command = %self.display(), "capture");
        let start = Instant::now();
        let (handle, group) = self.start(
            self.expression()
                .stdout_capture()
                .stderr_capture()
                .unchecked(),
        )?;
        let output = self.wait(handle, &group)?;
        Ok(Captured {
            status: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            elapsed: start.elapsed(),
        })
    }

    /// Runs, captures, and fails on a non-zero exit.
    pub fn capture_checked(&self) -> Result<Captured, ProcessError> {
        let captured = self.capture()?;
        if captured.status == Some(0) {
            Ok(captured)
        } else {
            Err(ProcessError::Failed {
                command: self.display(),
                status: captured
                    .status
                    .map_or("a signal".to_string(), |code| format!("exit status {code}")),
                tail: tail(
                    &format!("{}{}", captured.stdout, captured.stderr),
                    TAIL_LINES,
                ),
                log: None,
            })
        }
    }

    /// Replaces the current process with this command (for `wlmake run`): the runtime
    /// gets the terminal and the signals, and nothing is left behind when it is
    /// stopped. Returns only if the command cannot be started.
    pub fn exec(&self) -> ProcessError {
        use std::os::unix::process::CommandExt;
        tracing::debug!(command = %self.display(), "exec");
        let mut command = match self.wrapper.split_first() {
            Some((wrapper, rest)) => {
                let mut command = std::process::Command::new(wrapper);
                command.args(rest).arg(&self.program);
                command
            }
            None => std::process::Command::new(&self.program),
        };
        command.args(&self.args);
        if let Some(dir) = &self.dir {
            command.current_dir(dir);
        }
        if self.clear_env {
            command.env_clear();
        }
        for key in &self.env_remove {
            command.env_remove(key);
        }
        command.envs(&self.env);
        ProcessError::Spawn {
            program: self.program_name(),
            source: command.exec(),
        }
    }
}

fn describe_status(status: &std::process::ExitStatus) -> String {
    match status.code() {
        Some(code) => format!("exit status {code}"),
        None => "a signal".to_string(),
    }
}

/// The last `count` lines of `text`.
pub fn tail(text: &str, count: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(count)..].join("\n")
}

/// The first `head` and the last `tail` lines of `text`, with a line saying how many were
/// left out between them (a runtime prints its error first, then a long backtrace).
pub fn head_and_tail(text: &str, head: usize, tail: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() <= head + tail + 1 {
        return lines.join("\n");
    }
    let left_out = lines.len() - head - tail;
    format!(
        "{}\n[... {left_out} lines left out ...]\n{}",
        lines[..head].join("\n"),
        lines[lines.len() - tail..].join("\n")
    )
}

/// Finds `program` on PATH (or returns it if it is a path to an executable file). The
/// one PATH lookup of wlmake, with [`which_all`]; both use the `which` crate.
pub fn which(program: &str) -> Option<PathBuf> {
    which::which(program).ok()
}

/// Every executable `program` on PATH, in PATH order.
pub fn which_all(program: &str) -> Vec<PathBuf> {
    which::which_all(program)
        .map(|found| found.collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_and_tail_keeps_both_ends_of_a_long_text() {
        let text: Vec<String> = (1..=40).map(|n| format!("line {n}")).collect();
        let shown = head_and_tail(&text.join("\n"), 3, 2);
        assert_eq!(
            shown,
            "line 1\nline 2\nline 3\n[... 35 lines left out ...]\nline 39\nline 40"
        );
        assert_eq!(head_and_tail("a\nb\nc", 1, 1), "a\nb\nc");
        assert_eq!(head_and_tail("", 3, 2), "");
    }

    #[test]
    fn failure_carries_command_status_tail_and_log() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("step.log");
        let script = "for i in $(seq 1 50); do echo line $i; done; echo oops >&2; exit 3";
        let error = Command::new("sh")
            .arg("-c")
            .arg(script)
            .run_logged(&log)
            .unwrap_err();
        let text = error.to_string();
        assert!(text.contains("exit status 3"), "{text}");
        assert!(text.contains("oops"), "{text}");
        assert!(text.contains("line 50"), "{text}");
        assert!(!text.contains("line 10\n"), "tail must be 40 lines: {text}");
        assert!(text.contains(&log.display().to_string()), "{text}");
        let logged = std::fs::read_to_string(&log).unwrap();
        assert!(logged.contains("line 1\n") && logged.contains("# exit: exit status 3"));
    }

    #[test]
    fn timeout_stops_the_process() {
        let start = Instant::now();
        let error = Command::new("sleep")
            .arg("30")
            .timeout(Duration::from_millis(300))
            .capture()
            .unwrap_err();
        assert!(matches!(error, ProcessError::TimedOut { .. }), "{error}");
        assert!(start.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn missing_program_is_a_spawn_error_with_hint() {
        let error = Command::new("wlmake-no-such-program")
            .capture()
            .unwrap_err();
        assert!(matches!(error, ProcessError::Spawn { .. }));
        assert!(error.hint().unwrap().contains("wlmake doctor"));
    }

    #[test]
    fn compiler_output_becomes_hints() {
        let hint = hint_from_output("x.c:1:10: fatal error: 'netdb.h' file not found").unwrap();
        assert!(hint.contains("`netdb.h`"), "{hint}");
        let hint = hint_from_output("wasm-ld: error: a.o: undefined symbol: popen").unwrap();
        assert!(hint.contains("`popen`"), "{hint}");
    }

    #[test]
    fn display_quotes_arguments_with_spaces() {
        let command = Command::new("php").args(["-r", "echo 1;"]);
        assert_eq!(command.display(), "php -r 'echo 1;'");
    }

    #[test]
    fn which_finds_programs_on_path_and_checks_named_paths() {
        let sh = which("sh").expect("sh on PATH");
        assert!(sh.is_absolute() && sh.ends_with("sh"), "{}", sh.display());
        assert_eq!(which_all("sh").first(), Some(&sh));
        assert_eq!(which("wlmake-no-such-program"), None);
        assert!(which_all("wlmake-no-such-program").is_empty());

        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain");
        std::fs::write(&plain, "not a program").unwrap();
        assert_eq!(which(&plain.display().to_string()), None);
        assert_eq!(which(&sh.display().to_string()), Some(sh));
    }
}
