//! SIGTERM and SIGINT during `wlmake build`: the whole process tree stops, no temp folder
//! is left, the previous output stays, and the next build succeeds. The C fixture of
//! `pipeline.rs` gets a make rule that sleeps (while a switch file exists) so there is
//! time to interrupt it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::pipeline::Fixture;

const RECIPE: &str = "c/hello-1.0";

/// Kills the child if the test fails before it exits, and then any process of the make
/// step (found by the marker): no process outlives the test.
struct Running(Child, &'static str);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        for process in processes_with(self.1) {
            if let Some(pid) = process
                .split(':')
                .next()
                .and_then(|p| p.parse::<i32>().ok())
            {
                // SAFETY: signals a process of this test's fixture.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                }
            }
        }
    }
}

fn wlmake(fixture: &Fixture) -> Command {
    let mut command = Command::new(assert_cmd::cargo::cargo_bin("wlmake"));
    command
        .current_dir(fixture.root())
        .env_remove("WLMAKE_REPO")
        .env_remove("WLMAKE_WORK_DIR")
        .env_remove("WLMAKE_OUTPUT_DIR")
        .env_remove("WLMAKE_CACHE_URL")
        .env_remove("WLMAKE_CACHE_PUSH")
        .env("WLMAKE_CACHE_DIR", fixture.root().join("cache"))
        .env("WLMAKE_APT", "0")
        .env("WLMAKE_LOG", "wlmake=debug");
    command
}

fn build_ok(fixture: &Fixture) -> String {
    let out = wlmake(fixture).args(["build", RECIPE]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "build failed: {stderr}");
    stderr
}

/// Makes the fixture's make step sleep `seconds` (a marker for /proc) while `slow` exists.
fn slow_make(fixture: &Fixture, seconds: &str) -> (PathBuf, PathBuf) {
    let slow = fixture.root().join("slow");
    let started = fixture.root().join("make-started");
    let makefile = format!(
        "include config.mk\n\nall: hello.wasm\n\nhello.wasm: hello.c\n\
         \ttest ! -f {slow} || {{ touch {started}; sleep {seconds}; }}\n\
         \t$(CC) $(CFLAGS) -DGREETING='\"$(GREETING)\"' hello.c -o hello.wasm\n",
        slow = slow.display(),
        started = started.display(),
    );
    std::fs::write(fixture.root().join("upstream/hello/Makefile"), makefile).unwrap();
    std::fs::write(&slow, "").unwrap();
    (slow, started)
}

fn wait_for(path: &Path, child: &mut Running) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !path.exists() {
        if let Some(status) = child.0.try_wait().unwrap() {
            panic!("wlmake ended before make started: {status}");
        }
        assert!(Instant::now() < deadline, "make did not start in 120 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn wait_exit(child: &mut Running, within: Duration) -> ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "wlmake did not exit within {within:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Processes whose command line holds `needle` (an argument).
fn processes_with(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(bytes) = std::fs::read(entry.path().join("cmdline")) {
            let args: Vec<String> = bytes
                .split(|&b| b == 0)
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            if args.iter().any(|a| a == needle) {
                found.push(format!(
                    "{}: {}",
                    entry.file_name().to_string_lossy(),
                    args.join(" ")
                ));
            }
        }
    }
    found
}

/// Temp folders and files wlmake makes (publish, store, source trees, downloads).
fn temps_under(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            let temp = [
                ".publish-",
                ".tmp-",
                ".download-",
                ".apt-",
                ".view-",
                ".old-",
            ]
            .iter()
            .any(|p| name.starts_with(p))
                || (name.starts_with('.')
                    && [".extract-", ".copy-", ".checkout-", ".old-"]
                        .iter()
                        .any(|p| name.contains(p)));
            if temp {
                found.push(path.clone());
            }
            if entry.file_type().is_ok_and(|t| t.is_dir()) && !name.starts_with("upstream") {
                stack.push(path);
            }
        }
    }
    found
}

fn interrupt_during_make(signal: i32, marker: &'static str, expected_code: i32) {
    let fixture = Fixture::new();
    build_ok(&fixture);
    let out_dir = fixture.root().join("build-output/c/hello-1.0/wasmtime");
    let module_before = std::fs::read(out_dir.join("hello.wasm")).unwrap();
    let manifest_before = std::fs::read(out_dir.join("manifest.json")).unwrap();

    let (slow, started) = slow_make(&fixture, marker);
    let mut child = Running(
        wlmake(&fixture)
            .args(["build", RECIPE])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
        marker,
    );
    wait_for(&started, &mut child);
    // `touch` ran; the sleep follows at once.
    let deadline = Instant::now() + Duration::from_secs(10);
    while processes_with(marker).is_empty() {
        assert!(
            Instant::now() < deadline,
            "the make step's sleep is not running"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: signals our own child.
    unsafe {
        libc::kill(child.0.id() as i32, signal);
    }
    let status = wait_exit(&mut child, Duration::from_secs(10));
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.0.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(expected_code), "{stderr}");
    assert!(stderr.contains("stopping the running steps"), "{stderr}");
    let left = processes_with(marker);
    assert!(left.is_empty(), "processes left behind: {left:?}\n{stderr}");
    let temps = temps_under(fixture.root());
    assert!(temps.is_empty(), "temp folders left behind: {temps:?}");
    assert_eq!(
        std::fs::read(out_dir.join("hello.wasm")).unwrap(),
        module_before
    );
    assert_eq!(
        std::fs::read(out_dir.join("manifest.json")).unwrap(),
        manifest_before
    );

    // The next build (no sleep now) succeeds.
    std::fs::remove_file(&slow).unwrap();
    let stderr = build_ok(&fixture);
    assert!(stderr.contains("built c/hello-1.0"), "{stderr}");
    assert!(temps_under(fixture.root()).is_empty());
}

#[test]
fn sigterm_during_make_stops_the_tree_and_keeps_the_previous_output() {
    interrupt_during_make(libc::SIGTERM, "37.25", 143);
}

#[test]
fn sigint_during_make_stops_the_tree_and_keeps_the_previous_output() {
    interrupt_during_make(libc::SIGINT, "37.75", 130);
}
