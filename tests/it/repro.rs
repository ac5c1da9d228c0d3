//! Reproducible builds and `wlmake build --check` (issue 13, items 1-2), on the C
//! fixture of `pipeline.rs` changed to embed its absolute source path and its build
//! date and time (`__FILE__`, `__DATE__`, `__TIME__`): two clean builds in different
//! folders, caches and seconds give the same bytes; `--check` confirms it, names the
//! artifact, section and function when a build embeds something variable, and refuses
//! to run without a published build.

use std::path::Path;

use crate::pipeline::Fixture;

const RECIPE: &str = "c/hello-1.0";

/// Compiles hello.c by its absolute path, so `__FILE__` names the host's folder.
const MAKEFILE: &str = "include config.mk\n\nall: hello.wasm\n\nhello.wasm: hello.c\n\t$(CC) $(CFLAGS) -DGREETING='\"$(GREETING)\"' $(CURDIR)/hello.c -o hello.wasm\n";

/// Appended to hello.c (after the lines the fixture's patch touches).
const EMBEDS: &str = "__attribute__((export_name(\"built_from\"))) const char *built_from(void) { return __FILE__ \" \" __DATE__ \" \" __TIME__; }\n";

/// A Makefile that writes the time of the build (nanoseconds) into a function.
const VARIABLE_MAKEFILE: &str = "include config.mk\n\nall: hello.wasm\n\nhello.wasm: hello.c\n\techo \"__attribute__((noinline)) int build_stamp(void) { return 1$$(date +%N) % 1000000; }\" > stamp.c\n\t$(CC) $(CFLAGS) -DGREETING='\"$(GREETING)\"' hello.c stamp.c -o hello.wasm\n";

const VARIABLE_MAIN: &str = "int build_stamp(void);\n__attribute__((export_name(\"stamp_of_the_build\"))) int stamp_of_the_build(void) { return build_stamp(); }\n";

fn fixture(makefile: &str, appended: &str) -> Fixture {
    let fixture = Fixture::new();
    let upstream = fixture.root().join("upstream/hello");
    std::fs::write(upstream.join("Makefile"), makefile).unwrap();
    let source = upstream.join("hello.c");
    let mut text = std::fs::read_to_string(&source).unwrap();
    text.push_str(appended);
    std::fs::write(&source, text).unwrap();
    fixture
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `wlmake ARGS` in the fixture with this cache root.
fn wlmake(fixture: &Fixture, cache: &Path, args: &[&str]) -> std::process::Output {
    fixture
        .wlmake()
        .env("WLMAKE_CACHE_DIR", cache)
        .env_remove("WLMAKE_CACHE_URL")
        .env_remove("WLMAKE_CACHE_PUSH")
        .args(args)
        .output()
        .unwrap()
}

fn wlmake_ok(fixture: &Fixture, cache: &Path, args: &[&str]) -> std::process::Output {
    let out = wlmake(fixture, cache, args);
    assert!(
        out.status.success(),
        "wlmake {args:?} failed:\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    out
}

fn output_dir(fixture: &Fixture) -> std::path::PathBuf {
    fixture.root().join("build-output/c/hello-1.0/wasmtime")
}

fn manifest(fixture: &Fixture) -> wlmake::output::Manifest {
    serde_json::from_str(
        &std::fs::read_to_string(output_dir(fixture).join("manifest.json")).unwrap(),
    )
    .unwrap()
}

/// No `.check-*` folder is left in the work folder.
/// The published artifact (and manifest, when given) has the bytes it had before.
fn assert_published_as_it_was(fixture: &Fixture, wasm: &[u8], manifest: Option<&[u8]>) {
    let dir = output_dir(fixture);
    assert_eq!(std::fs::read(dir.join("hello.wasm")).unwrap(), wasm);
    if let Some(manifest) = manifest {
        assert_eq!(std::fs::read(dir.join("manifest.json")).unwrap(), manifest);
    }
}

fn no_check_folder_left(fixture: &Fixture) {
    let work = fixture.root().join("work");
    let left: Vec<_> = std::fs::read_dir(&work)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".check-"))
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn two_clean_builds_in_different_folders_give_the_same_bytes() {
    let first = fixture(MAKEFILE, EMBEDS);
    let second = fixture(MAKEFILE, EMBEDS);
    let (cache_a, cache_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    wlmake_ok(&first, cache_a.path(), &["build", RECIPE, "--no-cache"]);
    // Another second on the clock: `__TIME__` would differ without SOURCE_DATE_EPOCH.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    wlmake_ok(&second, cache_b.path(), &["build", RECIPE, "--no-cache"]);

    let module = |f: &Fixture| std::fs::read(output_dir(f).join("hello.wasm")).unwrap();
    let (a, b) = (module(&first), module(&second));
    // The fixture really embeds a path and a date: the mapped folder and the fixed epoch.
    let strings = text(&a);
    let embedded = strings
        .split('\0')
        .find(|s| s.contains("hello.c "))
        .unwrap_or("(no path of hello.c)");
    assert_eq!(embedded, "/src/hello-1.0/hello.c Jan  1 1980 00:00:00");
    assert!(!strings.contains(&first.root().display().to_string()));
    assert_eq!(
        crate::support::sha256_hex(&a),
        crate::support::sha256_hex(&b),
        "the two builds differ"
    );
    // The manifests agree on everything but the host's part.
    let (ma, mb) = (manifest(&first), manifest(&second));
    assert_eq!(ma.reproducible(), mb.reproducible());
    assert_ne!(ma.flags, mb.flags, "the flags name each build's folders");
    assert_eq!(ma.flags.env["SOURCE_DATE_EPOCH"], "315532800");
}

#[test]
fn check_rebuilds_and_finds_the_published_build_identical() {
    let fixture = fixture(MAKEFILE, EMBEDS);
    let cache = tempfile::tempdir().unwrap();
    wlmake_ok(&fixture, cache.path(), &["build", RECIPE]);
    let published = std::fs::read(output_dir(&fixture).join("hello.wasm")).unwrap();
    let published_manifest = std::fs::read(output_dir(&fixture).join("manifest.json")).unwrap();

    let out = wlmake_ok(&fixture, cache.path(), &["build", RECIPE, "--check"]);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("identical hello (hello.wasm, sha256 "),
        "{stdout}"
    );
    // It rebuilt (not taken from the store, which holds this build).
    let stderr = text(&out.stderr);
    assert!(stderr.contains("==> make"), "{stderr}");
    // The published output is untouched and no temporary folder is left.
    assert_published_as_it_was(&fixture, &published, Some(&published_manifest));
    no_check_folder_left(&fixture);

    // The JSON form.
    let out = wlmake_ok(
        &fixture,
        cache.path(),
        &["build", RECIPE, "--check", "--json"],
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["check"], "identical");
    assert_eq!(report["artifacts"][0]["name"], "hello");
    assert_eq!(report["artifacts"][0]["identical"], true);
    assert_eq!(
        report["artifacts"][0]["published_sha256"],
        report["artifacts"][0]["rebuilt_sha256"]
    );
}

#[test]
fn check_names_the_artifact_section_and_function_that_differ() {
    let fixture = fixture(VARIABLE_MAKEFILE, VARIABLE_MAIN);
    let cache = tempfile::tempdir().unwrap();
    wlmake_ok(&fixture, cache.path(), &["build", RECIPE]);
    let published = std::fs::read(output_dir(&fixture).join("hello.wasm")).unwrap();

    let out = wlmake(&fixture, cache.path(), &["build", RECIPE, "--check"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains("DIFFERS hello (hello.wasm): section code"),
        "{stdout}"
    );
    assert!(
        stdout.contains("1 function(s) differ: function "),
        "{stdout}"
    );
    assert!(stdout.contains("(build_stamp)"), "{stdout}");
    assert!(
        stderr.contains("differs from the published build: hello"),
        "{stderr}"
    );
    assert_published_as_it_was(&fixture, &published, None);
    no_check_folder_left(&fixture);

    let out = wlmake(
        &fixture,
        cache.path(),
        &["build", RECIPE, "--check", "--json"],
    );
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["check"], "differs");
    assert_eq!(report["artifacts"][0]["identical"], false);
    assert!(
        report["artifacts"][0]["difference"]
            .as_str()
            .is_some_and(|d| d.contains("build_stamp")),
        "{report}"
    );
}

#[test]
fn check_without_a_published_build_says_to_build_first() {
    let fixture = fixture(MAKEFILE, EMBEDS);
    let cache = tempfile::tempdir().unwrap();
    let out = wlmake(&fixture, cache.path(), &["build", RECIPE, "--check"]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("no build of `c/hello-1.0` for wasmtime"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: build it first: wlmake build c/hello-1.0 --runtime wasmtime"),
        "{stderr}"
    );
    assert!(!fixture.root().join("build-output").exists());
}

/// Kills the child on drop, so no process outlives a failing test.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn an_interrupted_check_leaves_no_temporary_folder_and_the_output_as_it_was() {
    // The make step waits while a marker file exists (the Makefile is part of the
    // source, so it must be the same for the published build and the check).
    let root = tempfile::tempdir().unwrap();
    let (marker, started) = (root.path().join("slow"), root.path().join("started"));
    let slow = MAKEFILE.replace(
        "hello.wasm: hello.c\n",
        &format!(
            "hello.wasm: hello.c\n\tif [ -e {m} ]; then touch {s}; sleep 60; fi\n",
            m = marker.display(),
            s = started.display()
        ),
    );
    let fixture = fixture(&slow, EMBEDS);
    let cache = tempfile::tempdir().unwrap();
    wlmake_ok(&fixture, cache.path(), &["build", RECIPE]);
    let published = std::fs::read(output_dir(&fixture).join("hello.wasm")).unwrap();
    let published_manifest = std::fs::read(output_dir(&fixture).join("manifest.json")).unwrap();

    std::fs::write(&marker, "").unwrap();
    let mut check = Running(
        std::process::Command::new(assert_cmd::cargo::cargo_bin("wlmake"))
            .current_dir(fixture.root())
            .env_remove("WLMAKE_REPO")
            .env_remove("WLMAKE_WORK_DIR")
            .env_remove("WLMAKE_OUTPUT_DIR")
            .env_remove("WLMAKE_CACHE_URL")
            .env_remove("WLMAKE_CACHE_PUSH")
            .env("WLMAKE_CACHE_DIR", cache.path())
            .env("WLMAKE_APT", "0")
            .args(["build", RECIPE, "--check"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !started.exists() {
        if let Some(status) = check.0.try_wait().unwrap() {
            panic!("the check ended before its make step: {status}");
        }
        assert!(
            std::time::Instant::now() < deadline,
            "make did not start in 120 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // A temporary folder exists while the check runs ...
    let work = fixture.root().join("work");
    assert!(
        std::fs::read_dir(&work)
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with(".check-"))
    );
    let pid = check.0.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = check.0.wait().unwrap();
    assert_eq!(status.code(), Some(143), "{status}");
    // ... and is gone after SIGTERM; the published build is as it was.
    no_check_folder_left(&fixture);
    assert_published_as_it_was(&fixture, &published, Some(&published_manifest));
}
