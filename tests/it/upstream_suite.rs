//! `wlmake test --suite upstream`: PHP's own run-tests.php against the real PHP 8.2 build
//! on the real Wasmtime, driven by the native PHP. Each test uses its own work folder, so
//! they run side by side (and beside a developer's run).

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use wlmake::suite::expected::ExpectedFailures;

const PHP_82: &str = "php/php-8.2.32";

fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn wlmake() -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_wlmake"));
    command
        .current_dir(repo_root())
        .env_remove("WLMAKE_REPO")
        .env_remove("WLMAKE_SUITE_TIME_LIMIT");
    command
}

/// Builds the recipe for Wasmtime (a no-op when the build is up to date; about two
/// minutes when it is missing).
fn ensure_built(recipe: &str) {
    let out = wlmake()
        .args(["-q", "build", recipe, "--runtime", "wasmtime"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "build failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `wlmake -q test PHP_82 --runtime wasmtime --suite upstream`, before the run's own arguments.
const SUITE_82: [&str; 7] = [
    "-q",
    "test",
    PHP_82,
    "--runtime",
    "wasmtime",
    "--suite",
    "upstream",
];

/// `wlmake -q test PHP_82 --suite upstream ARGS` with `work` as the work folder.
fn upstream(work: &Path, args: &[&str]) -> (Output, String) {
    ensure_built(PHP_82);
    let out = wlmake()
        .env("WLMAKE_WORK_DIR", work)
        .args(SUITE_82)
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out, text)
}

/// Processes whose command line mentions `needle`.
fn processes_mentioning(needle: &str) -> Vec<String> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|entry| entry.file_name().to_string_lossy().parse::<u32>().is_ok())
        .filter_map(|entry| {
            let bytes = std::fs::read(entry.path().join("cmdline")).ok()?;
            let line = String::from_utf8_lossy(&bytes).replace('\0', " ");
            line.contains(needle)
                .then(|| format!("{:?}: {line}", entry.file_name()))
        })
        .collect()
}

#[test]
fn the_operators_folder_passes_and_writes_junit() {
    let work = tempfile::tempdir().unwrap();
    let junit = work.path().join("reports/junit.xml");
    let (out, text) = upstream(
        work.path(),
        &[
            "--only",
            "tests/lang/operators",
            "--junit",
            junit.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{text}");
    // 25 of the 64 tests are for 64-bit integers and skip on wasm32.
    assert!(
        text.contains("39 passed, 0 failed, 0 expected failures, 25 skipped"),
        "{text}"
    );
    assert!(
        text.contains("pass rate 100.0% of the 39 tests that ran"),
        "{text}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains(r#"tests="64" failures="0" errors="0" skipped="25""#),
        "{xml}"
    );
    assert!(
        xml.contains(
            r#"<testcase classname="tests.lang.operators" name="add_variationStr.phpt"/>"#
        )
    );
    let results = work
        .path()
        .join("suite")
        .join(PHP_82)
        .join("wasmtime/results.txt");
    assert_eq!(
        std::fs::read_to_string(results).unwrap().lines().count(),
        64
    );
}

#[test]
fn a_test_that_runs_forever_is_stopped_at_the_limit_and_leaves_no_runtime_process() {
    let work = tempfile::tempdir().unwrap();
    let tests = tempfile::tempdir().unwrap();
    std::fs::write(
        tests.path().join("forever.phpt"),
        "--TEST--\nRuns forever: max_execution_time never fires without timers\n--INI--\nmax_execution_time=1\n--FILE--\n<?php\nwhile (true) {}\n?>\n--EXPECT--\nnever\n",
    )
    .unwrap();
    std::fs::write(
        tests.path().join("prints.phpt"),
        "--TEST--\nPrints\n--FILE--\n<?php echo \"ok\\n\";\n--EXPECT--\nok\n",
    )
    .unwrap();
    let start = Instant::now();
    let (out, text) = upstream(
        work.path(),
        &["--only", tests.path().to_str().unwrap(), "--timeout", "3"],
    );
    let elapsed = start.elapsed();
    // A test outside the expected-failures list failed: "tests failed" (exit code 3).
    assert_eq!(out.status.code(), Some(3), "{text}");
    let forever = tests.path().join("forever.phpt");
    assert!(
        text.contains(&format!(
            "FAIL {} [FAILED] (stopped at the 3 s limit)",
            forever.display()
        )),
        "{text}"
    );
    assert!(text.contains(&format!(
        "diff: {}",
        tests.path().join("forever.diff").display()
    )));
    assert!(
        text.contains("1 passed, 1 failed, 0 expected failures, 0 skipped"),
        "{text}"
    );
    assert!(text.contains("error: 1 test(s) failed that the expected-failures list does not name"));
    let diff = std::fs::read_to_string(tests.path().join("forever.diff")).unwrap();
    assert!(diff.contains("wlmake: stopped after 3 s"), "{diff}");
    // Well under run-tests.php's own limit (3 + 5 + 10 s) on top of preparing the tree.
    assert!(elapsed < Duration::from_secs(300), "{elapsed:?}");
    // Every runtime process preopens the suite's source tree.
    let tree = work.path().join("suite").join(PHP_82).join("wasmtime/src");
    let left = processes_mentioning(&format!("{}::", tree.display()));
    assert!(left.is_empty(), "runtime processes left running: {left:#?}");
}

/// A folder with one test that never ends (PHP 8.2.32 for wasmtime built).
fn forever_test() -> tempfile::TempDir {
    let tests = tempfile::tempdir().unwrap();
    std::fs::write(
        tests.path().join("forever.phpt"),
        "--TEST--\nRuns forever\n--FILE--\n<?php\nwhile (true) {}\n--EXPECT--\nnever\n",
    )
    .unwrap();
    ensure_built(PHP_82);
    tests
}

/// `wlmake test` arguments that run the folder of [`forever_test`] as the suite.
fn forever_args(tests: &Path) -> Vec<std::ffi::OsString> {
    let mut args: Vec<std::ffi::OsString> = SUITE_82.iter().map(Into::into).collect();
    args.push("--only".into());
    args.push(tests.into());
    args.extend(["--timeout", "600"].iter().map(Into::into));
    args
}

#[test]
fn the_overall_limit_stops_the_driver_and_every_runtime_process() {
    let work = tempfile::tempdir().unwrap();
    let tests = forever_test();
    let out = wlmake()
        .env("WLMAKE_WORK_DIR", work.path())
        .env("WLMAKE_SUITE_TIME_LIMIT", "8")
        .args(forever_args(tests.path()))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("error: the upstream suite did not finish within 8 s and was stopped"),
        "{stderr}"
    );
    let suite = work.path().join("suite");
    let left = processes_mentioning(&suite.display().to_string());
    assert!(left.is_empty(), "processes left running: {left:#?}");
}

#[test]
fn sigterm_stops_the_driver_and_every_runtime_process() {
    let work = tempfile::tempdir().unwrap();
    let tests = forever_test();
    let suite = work.path().join("suite");
    let stderr_path = work.path().join("stderr.txt");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("wlmake"))
        .env("WLMAKE_WORK_DIR", work.path())
        .args(forever_args(tests.path()))
        .stdout(std::process::Stdio::null())
        // A file, not a pipe: a leftover runtime holding the pipe would delay the check
        // below until it ends.
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .unwrap();
    // Killed on every path out of this test, also when an assertion fails.
    struct Reap(u32);
    impl Drop for Reap {
        fn drop(&mut self) {
            // SAFETY: signals our own child (gone already on the normal path).
            unsafe { libc::kill(self.0 as i32, libc::SIGKILL) };
        }
    }
    let _reap = Reap(child.id());
    // Wait until the test's runtime runs (it preopens the suite's source tree, `TREE::`).
    let runtime_running = || {
        processes_mentioning(&suite.display().to_string())
            .iter()
            .any(|line| line.contains("::"))
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    while !runtime_running() {
        assert!(
            std::time::Instant::now() < deadline,
            "no runtime process appeared within 300 s"
        );
        assert!(child.try_wait().unwrap().is_none(), "wlmake ended early");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    // SAFETY: signals our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    let stderr = std::fs::read_to_string(&stderr_path).unwrap();
    assert_eq!(status.code(), Some(143), "{stderr}");
    assert!(stderr.contains("SIGTERM received"), "{stderr}");
    let left = processes_mentioning(&suite.display().to_string());
    assert!(left.is_empty(), "processes left running: {left:#?}");
}

#[test]
fn upstream_flags_are_refused_for_the_smoke_tests() {
    let out = wlmake()
        .args([
            "test",
            PHP_82,
            "--runtime",
            "wasmtime",
            "--only",
            "Zend/tests",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("--only, --jobs, --timeout and --junit apply to `--suite upstream` only")
    );
}

#[test]
fn every_expected_failures_list_parses_and_names_a_recipe() {
    let folder = repo_root().join("expected-failures");
    let mut lists = 0;
    for language in std::fs::read_dir(&folder).unwrap().flatten() {
        for file in std::fs::read_dir(language.path()).unwrap().flatten() {
            let path = file.path();
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            let recipe_id = format!(
                "{}/{}",
                language.file_name().to_string_lossy(),
                stem.rsplit_once('-').unwrap().0
            );
            // A recipe with an in-guest [suite] lists its test cases by name; PHP's
            // lists name `.phpt` files.
            let suite = wlmake::recipe::Repository::at(repo_root().to_path_buf())
                .load(&recipe_id)
                .ok()
                .and_then(|recipe| recipe.suite);
            let list = match &suite {
                Some(suite) => ExpectedFailures::load_with(&path, |test| {
                    let module = test.split('.').nth(1).unwrap_or(test);
                    (!suite.tests.iter().any(|t| t == module)).then(|| format!("`{test}`"))
                }),
                None => ExpectedFailures::load(&path),
            }
            .unwrap_or_else(|e| panic!("{e}"));
            assert!(
                !list.entries.is_empty(),
                "{} is empty: delete it",
                path.display()
            );
            let (name, runtime) = stem.rsplit_once('-').unwrap();
            let recipe = language
                .path()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let recipe_file = repo_root()
                .join("recipes")
                .join(&recipe)
                .join(format!("{name}.toml"));
            assert!(
                recipe_file.is_file(),
                "{}: no recipe {}",
                path.display(),
                recipe_file.display()
            );
            assert!(
                ["wasmtime", "wasmedge"].contains(&runtime),
                "{}",
                path.display()
            );
            lists += 1;
        }
    }
    assert!(lists >= 2, "expected the lists of PHP 7.4.33 and 8.2.32");
}
