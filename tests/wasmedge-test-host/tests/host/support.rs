//! Building the C guests, running the host under a kill-on-drop guard, and a tiny client.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// The longest any single step may take (a module compile, a request, an exit).
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// The guest programs, built from tests/guests with the real wasm32-wasi toolchain.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Guest {
    /// socket_guest.c importing WasmEdge's 2-parameter `sock_accept`.
    Accept2,
    /// socket_guest.c importing the standard 3-parameter `sock_accept`.
    Accept3,
    BadAccept,
    UnimplementedForms,
}

impl Guest {
    fn source_and_flags(self) -> (&'static str, &'static [&'static str]) {
        match self {
            Guest::Accept2 => ("socket_guest.c", &["-DACCEPT_PARAMS=2"]),
            Guest::Accept3 => ("socket_guest.c", &["-DACCEPT_PARAMS=3"]),
            Guest::BadAccept => ("bad_accept.c", &[]),
            Guest::UnimplementedForms => ("unimplemented_forms.c", &[]),
        }
    }

    /// Compiles the guest once per test process. The compiler is `clang-16` with the
    /// sysroot `/usr` (Debian's wasi-libc) unless WASMEDGE_TEST_HOST_CLANG /
    /// WASMEDGE_TEST_HOST_SYSROOT say otherwise.
    pub fn wasm(self) -> PathBuf {
        static BUILT: Mutex<Option<HashMap<Guest, PathBuf>>> = Mutex::new(None);
        let mut built = BUILT
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let built = built.get_or_insert_with(HashMap::new);
        if let Some(path) = built.get(&self) {
            return path.clone();
        }
        let (source, flags) = self.source_and_flags();
        let guests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/guests");
        let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("guests");
        std::fs::create_dir_all(&out_dir).unwrap();
        let output = out_dir.join(format!("{self:?}.wasm"));
        let clang = std::env::var("WASMEDGE_TEST_HOST_CLANG").unwrap_or("clang-16".into());
        let sysroot = std::env::var("WASMEDGE_TEST_HOST_SYSROOT").unwrap_or("/usr".into());
        let result = Command::new(&clang)
            .args([
                "--target=wasm32-wasi",
                &format!("--sysroot={sysroot}"),
                "-O1",
            ])
            .args(["-Wall", "-Wextra", "-Werror"])
            .args(flags)
            .arg(guests.join(source))
            .arg("-o")
            .arg(&output)
            .output()
            .unwrap_or_else(|err| {
                panic!(
                    "cannot run `{clang}` ({err}): these tests need clang-16 and wasi-libc; \
                     install them with .ci/install-deps (from the repository root), or set \
                     WASMEDGE_TEST_HOST_CLANG and WASMEDGE_TEST_HOST_SYSROOT"
                )
            });
        assert!(
            result.status.success(),
            "compiling {source} failed:\n{}",
            String::from_utf8_lossy(&result.stderr)
        );
        built.insert(self, output.clone());
        output
    }
}

/// A running `wasmedge-test-host`, killed when dropped (so a failing test leaves no
/// process behind). Its stdout arrives line by line while it runs.
pub struct Host {
    child: Child,
    lines: Receiver<String>,
    stdout: Vec<String>,
    stderr: Arc<Mutex<String>>,
}

impl Host {
    pub fn start(options: &[&str], guest: Guest, args: &[&str]) -> Host {
        Host::start_with_env(options, guest, args, &[])
    }

    pub fn start_with_env(
        options: &[&str],
        guest: Guest,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Host {
        let mut command = Command::new(env!("CARGO_BIN_EXE_wasmedge-test-host"));
        command.args(options).arg(guest.wasm()).args(args);
        command.env_remove("WASMEDGE_TEST_HOST_SEQUENTIAL_FDS");
        command.envs(env.iter().copied());
        Host::spawn(command)
    }

    pub fn spawn(mut command: Command) -> Host {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start wasmedge-test-host");
        let (sender, lines) = channel();
        let stdout = child.stdout.take().unwrap();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().unwrap();
        let collected = stderr.clone();
        thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            collected.lock().unwrap().push_str(&text);
        });
        Host {
            child,
            lines,
            stdout: Vec::new(),
            stderr,
        }
    }

    /// Waits for the next stdout line that starts with `prefix` and returns it.
    pub fn expect_line(&mut self, prefix: &str) -> String {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.stdout.push(line.clone());
                    if line.starts_with(prefix) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!(
                        "no line starting with {prefix:?} in time; {}",
                        self.report()
                    )
                }
                Err(RecvTimeoutError::Disconnected) => {
                    thread::sleep(Duration::from_millis(100)); // let stderr arrive
                    panic!("no line starting with {prefix:?}; {}", self.report())
                }
            }
        }
    }

    /// Waits for the process to exit; returns its status, all its stdout lines and its
    /// stderr.
    pub fn finish(mut self) -> Finished {
        let deadline = Instant::now() + TIMEOUT;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "the host did not exit in time; {}",
                self.report()
            );
            thread::sleep(Duration::from_millis(20));
        };
        while let Ok(line) = self.lines.recv_timeout(TIMEOUT) {
            self.stdout.push(line);
        }
        // The stderr reader finishes when the pipe closes, right after the exit.
        let stderr_deadline = Instant::now() + Duration::from_secs(5);
        while Arc::strong_count(&self.stderr) > 1 && Instant::now() < stderr_deadline {
            thread::sleep(Duration::from_millis(10));
        }
        Finished {
            status,
            stdout: std::mem::take(&mut self.stdout),
            stderr: self.stderr.lock().unwrap().clone(),
        }
    }

    fn report(&self) -> String {
        format!(
            "stdout so far: {:#?}\nstderr so far: {}",
            self.stdout,
            self.stderr.lock().unwrap()
        )
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub struct Finished {
    pub status: ExitStatus,
    pub stdout: Vec<String>,
    pub stderr: String,
}

impl Finished {
    pub fn line(&self, prefix: &str) -> &str {
        self.stdout
            .iter()
            .find(|line| line.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line starting with {prefix:?} in {:#?}", self.stdout))
    }

    pub fn lines(&self, prefix: &str) -> Vec<&str> {
        self.stdout
            .iter()
            .filter(|line| line.starts_with(prefix))
            .map(String::as_str)
            .collect()
    }
}

/// Runs the host to completion.
pub fn run(options: &[&str], guest: Guest, args: &[&str]) -> Finished {
    Host::start(options, guest, args).finish()
}

/// A port that was free a moment ago on `ip`.
pub fn free_port(ip: &str) -> u16 {
    TcpListener::bind((ip, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Sends an HTTP/1.0 GET and returns the whole response and the client's own address.
pub fn http_get(server: SocketAddr, path: &str) -> (String, SocketAddr) {
    let mut stream = TcpStream::connect_timeout(&server, TIMEOUT).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(TIMEOUT)).unwrap();
    // One write: `write!` would send the pieces of the format string as separate
    // segments, and a server that answers on the first one closes a socket that still
    // receives the rest (a reset, then a broken pipe here).
    let request = format!("GET {path} HTTP/1.0\r\nHost: test\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    (response, stream.local_addr().unwrap())
}

/// Accepts one connection, giving up after `TIMEOUT`.
pub fn accept(listener: &TcpListener) -> (TcpStream, SocketAddr) {
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + TIMEOUT;
    loop {
        match listener.accept() {
            Ok((stream, peer)) => {
                stream.set_nonblocking(false).unwrap();
                stream.set_read_timeout(Some(TIMEOUT)).unwrap();
                stream.set_write_timeout(Some(TIMEOUT)).unwrap();
                return (stream, peer);
            }
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {
                assert!(Instant::now() < deadline, "no connection in time");
                thread::sleep(Duration::from_millis(10));
            }
            Err(err) => panic!("accept failed: {err}"),
        }
    }
}

/// The number after `fd=` in a line such as `accepted fd=123`.
pub fn fd_in(line: &str) -> u32 {
    let (_, rest) = line.split_once("fd=").expect("no fd= in the line");
    rest.split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}
