//! Tamper and concurrency on the C fixture of `pipeline.rs`: a changed artifact is refused
//! by `run` and `test` and restored by `build` with a message; a corrupt manifest is a
//! clear error or a rebuild; the same build twice at once waits, then is up to date; two
//! recipes built at once share one cache.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::pipeline::Fixture;

const RECIPE: &str = "c/hello-1.0";

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
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
        .env("WLMAKE_APT", "0");
    command
}

fn run(fixture: &Fixture, args: &[&str]) -> (bool, String, String) {
    let out = wlmake(fixture).args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn build_ok(fixture: &Fixture, recipe: &str) -> String {
    let (ok, _, stderr) = run(fixture, &["build", recipe]);
    assert!(ok, "build of {recipe} failed: {stderr}");
    stderr
}

fn module(fixture: &Fixture) -> std::path::PathBuf {
    fixture
        .root()
        .join("build-output/c/hello-1.0/wasmtime/hello.wasm")
}

#[test]
fn a_changed_artifact_is_refused_by_run_and_test_and_restored_by_build() {
    let fixture = Fixture::new();
    build_ok(&fixture, RECIPE);
    let original = std::fs::read(module(&fixture)).unwrap();
    let mut changed = original.clone();
    let last = changed.len() - 1;
    changed[last] ^= 0x01;
    std::fs::write(module(&fixture), &changed).unwrap();

    for args in [
        &["run", RECIPE, "--", "x"][..],
        &["test", RECIPE, "--runtime", "wasmtime"][..],
    ] {
        let (ok, stdout, stderr) = run(&fixture, args);
        assert!(!ok, "{args:?} ran a changed artifact: {stdout}");
        assert!(
            stderr.contains("artifact `hello`") && stderr.contains("does not match its manifest"),
            "{stderr}"
        );
        assert!(
            stderr.contains("hint:") && stderr.contains("wlmake build"),
            "{stderr}"
        );
    }

    let stderr = build_ok(&fixture, RECIPE);
    assert!(
        stderr.contains("artifact `hello`") && stderr.contains("does not match its manifest"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(module(&fixture)).unwrap(), original);
    let (ok, stdout, stderr) = run(&fixture, &["run", RECIPE, "--", "again"]);
    assert!(ok, "{stderr}");
    assert_eq!(stdout, "hello, again (patched)\n");
}

#[test]
fn a_corrupt_manifest_is_a_clear_error_for_run_and_a_rebuild_for_build() {
    let fixture = Fixture::new();
    build_ok(&fixture, RECIPE);
    let manifest = fixture
        .root()
        .join("build-output/c/hello-1.0/wasmtime/manifest.json");
    std::fs::write(&manifest, "{\"manifest_version\": 1, \"recipe\": ").unwrap();

    let (ok, _, stderr) = run(&fixture, &["run", RECIPE, "--", "x"]);
    assert!(!ok);
    assert!(
        stderr.contains("is not a readable build manifest") && stderr.contains("manifest.json"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");

    let stderr = build_ok(&fixture, RECIPE);
    assert!(stderr.contains("not a readable build manifest"), "{stderr}");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(parsed["recipe"]["id"], RECIPE);
}

/// Makes the fixture's make step sleep a few seconds and touch `started` first.
fn slow_make(fixture: &Fixture, started: &Path) {
    let makefile = format!(
        "include config.mk\n\nall: hello.wasm\n\nhello.wasm: hello.c\n\
         \ttouch {started}; sleep 3\n\
         \t$(CC) $(CFLAGS) -DGREETING='\"$(GREETING)\"' hello.c -o hello.wasm\n",
        started = started.display(),
    );
    std::fs::write(fixture.root().join("upstream/hello/Makefile"), makefile).unwrap();
}

fn wait_for(path: &Path, child: &mut Running) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !path.exists() {
        if let Some(status) = child.0.try_wait().unwrap() {
            panic!("wlmake ended before make started: {status}");
        }
        assert!(Instant::now() < deadline, "make did not start in 120 s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_same_build_twice_at_once_waits_then_is_up_to_date() {
    let fixture = Fixture::new();
    let started = fixture.root().join("make-started");
    slow_make(&fixture, &started);
    let mut first = Running(
        wlmake(&fixture)
            .args(["build", RECIPE])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    wait_for(&started, &mut first);
    let (ok, _, second) = run(&fixture, &["build", RECIPE]);
    let first_pid = first.0.id();
    let out = std::mem::replace(&mut first.0, Command::new("true").spawn().unwrap())
        .wait_with_output()
        .unwrap();
    let first_stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{first_stderr}");
    assert!(first_stderr.contains("built c/hello-1.0"), "{first_stderr}");
    assert!(ok, "{second}");
    assert!(
        second.contains(&format!(
            "waiting for another build of c/hello-1.0 for wasmtime (pid {first_pid})"
        )),
        "{second}"
    );
    assert!(second.contains("up to date"), "{second}");
}

#[test]
fn two_recipes_built_at_once_share_the_cache() {
    let fixture = Fixture::new();
    let recipe = std::fs::read_to_string(fixture.root().join("recipes/c/hello-1.0.toml")).unwrap();
    std::fs::write(
        fixture.root().join("recipes/c/hello-2.0.toml"),
        recipe.replace("version = \"1.0\"", "version = \"2.0\""),
    )
    .unwrap();
    let children: Vec<Running> = ["c/hello-1.0", "c/hello-2.0"]
        .iter()
        .map(|recipe| {
            Running(
                wlmake(&fixture)
                    .args(["build", recipe])
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap(),
            )
        })
        .collect();
    for mut child in children {
        let out = std::mem::replace(&mut child.0, Command::new("true").spawn().unwrap())
            .wait_with_output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(stderr.contains("stored in the build cache"), "{stderr}");
    }
    let (ok, listing, stderr) = run(&fixture, &["cache", "ls"]);
    assert!(ok, "{stderr}");
    assert!(listing.contains("2 entries"), "{listing}");
    for recipe in ["c/hello-1.0", "c/hello-2.0"] {
        let (ok, stdout, stderr) = run(&fixture, &["run", recipe, "--", "both"]);
        assert!(ok, "{stderr}");
        assert_eq!(stdout, "hello, both (patched)\n");
    }
    // A second checkout takes both from the shared cache.
    let second = Fixture::new();
    std::fs::copy(
        fixture.root().join("recipes/c/hello-2.0.toml"),
        second.root().join("recipes/c/hello-2.0.toml"),
    )
    .unwrap();
    for recipe in ["c/hello-1.0", "c/hello-2.0"] {
        let out = wlmake(&second)
            .env("WLMAKE_CACHE_DIR", fixture.root().join("cache"))
            .args(["build", recipe])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(stderr.contains("from the build cache"), "{stderr}");
    }
}
