//! The build cache end to end: a second checkout takes the build from the local store,
//! a remote cache on 127.0.0.1 shares builds (PUT, HEAD, GET), damaged entries are
//! refused and rebuilt, an unreachable remote or unusable store is only a warning. The
//! C fixture of `pipeline.rs` builds in about a second with the real toolchain; one test
//! fetches a real PHP build from the remote into an empty store and runs it on Wasmtime.

use std::path::{Path, PathBuf};

use crate::pipeline::Fixture;
use crate::support::http::{TestServer, refused_url};

const RECIPE: &str = "c/hello-1.0";

fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn stdout_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `wlmake ARGS` in the fixture with this cache root; fails the test on a non-zero exit.
fn wlmake_ok(fixture: &Fixture, cache: &Path, args: &[&str]) -> std::process::Output {
    let out = fixture
        .wlmake()
        .env("WLMAKE_CACHE_DIR", cache)
        .env_remove("WLMAKE_CACHE_URL")
        .env_remove("WLMAKE_CACHE_PUSH")
        .env_remove("WLMAKE_CACHE_TOKEN")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "wlmake {args:?} failed:\n{}{}",
        stdout_of(&out),
        stderr_of(&out)
    );
    out
}

fn configure_log(fixture: &Fixture) -> PathBuf {
    fixture
        .root()
        .join("work/build/c/hello-1.0/wasmtime/logs/configure.log")
}

fn identity(fixture: &Fixture, cache: &Path) -> String {
    let out = wlmake_ok(
        fixture,
        cache,
        &["identity", RECIPE, "--runtime", "wasmtime"],
    );
    let identity = stdout_of(&out).trim().to_string();
    assert_eq!(identity.len(), 64, "{identity}");
    identity
}

fn greets(fixture: &Fixture, cache: &Path, expected: &str) {
    let out = wlmake_ok(fixture, cache, &["run", RECIPE, "--", "runner"]);
    assert_eq!(stdout_of(&out), expected);
}

#[test]
fn a_second_checkout_takes_the_build_from_the_store() {
    let cache = tempfile::tempdir().unwrap();
    let first = Fixture::new();
    let out = wlmake_ok(&first, cache.path(), &["build", RECIPE]);
    let stderr = stderr_of(&out);
    assert!(stderr.contains("built c/hello-1.0"), "{stderr}");
    assert!(stderr.contains("stored in the build cache"), "{stderr}");

    // Another folder, same files: same identity (no checkout path in it), nothing built.
    let second = Fixture::new();
    assert_eq!(
        identity(&first, cache.path()),
        identity(&second, cache.path())
    );
    let out = wlmake_ok(&second, cache.path(), &["build", RECIPE]);
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("from the build cache: c/hello-1.0"),
        "{stderr}"
    );
    assert!(
        !configure_log(&second).exists(),
        "the second checkout configured"
    );
    let module = "build-output/c/hello-1.0/wasmtime/hello.wasm";
    assert_eq!(
        std::fs::read(first.root().join(module)).unwrap(),
        std::fs::read(second.root().join(module)).unwrap()
    );
    greets(&second, cache.path(), "hello, runner (patched)\n");
    // Then it is up to date.
    let out = wlmake_ok(&second, cache.path(), &["build", RECIPE]);
    assert!(
        stderr_of(&out).contains("up to date"),
        "{}",
        stderr_of(&out)
    );

    // `cache ls` shows the entry.
    let id = identity(&second, cache.path());
    let out = wlmake_ok(&second, cache.path(), &["cache", "ls"]);
    let listing = stdout_of(&out);
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with(RECIPE) && l.contains("wasmtime") && l.contains(&id[..16])),
        "{listing}"
    );
    assert!(listing.contains("1 entries"), "{listing}");

    // --no-cache builds for real.
    std::fs::remove_dir_all(second.root().join("build-output")).unwrap();
    let out = wlmake_ok(&second, cache.path(), &["build", RECIPE, "--no-cache"]);
    assert!(
        stderr_of(&out).contains("built c/hello-1.0"),
        "{}",
        stderr_of(&out)
    );
    assert!(configure_log(&second).exists());

    // A changed input (the patch's description: same code, other bytes) misses the cache.
    let patch = second
        .root()
        .join("patches/hello/common/0001-mark-patched.patch");
    let text = std::fs::read_to_string(&patch).unwrap();
    std::fs::write(
        &patch,
        text.replace("Mark the greeting", "Mark the greeting line"),
    )
    .unwrap();
    assert_ne!(identity(&second, cache.path()), id);
    let out = wlmake_ok(&second, cache.path(), &["build", RECIPE]);
    assert!(
        stderr_of(&out).contains("built c/hello-1.0"),
        "{}",
        stderr_of(&out)
    );
    let out = wlmake_ok(&second, cache.path(), &["cache", "ls"]);
    assert!(stdout_of(&out).contains("2 entries"), "{}", stdout_of(&out));

    // gc by size keeps the most recently used; rm by prefix; rm --all.
    let out = wlmake_ok(&second, cache.path(), &["cache", "gc", "--max-size", "1"]);
    assert!(
        stderr_of(&out).contains("removed 2 entries"),
        "{}",
        stderr_of(&out)
    );
    wlmake_ok(&first, cache.path(), &["build", RECIPE, "--force"]);
    let out = second
        .wlmake()
        .env("WLMAKE_CACHE_DIR", cache.path())
        .args(["cache", "rm", "ffffffff"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("no build cache entry starts with `ffffffff`"),
        "{stderr}"
    );
    assert!(stderr.contains("hint: `wlmake cache ls`"), "{stderr}");
    let out = wlmake_ok(&second, cache.path(), &["cache", "rm", &id[..12]]);
    assert!(
        stderr_of(&out).contains("removed 1 entries"),
        "{}",
        stderr_of(&out)
    );
    let out = wlmake_ok(&second, cache.path(), &["cache", "ls"]);
    assert!(stdout_of(&out).contains("0 entries"), "{}", stdout_of(&out));
}

#[test]
fn a_damaged_store_entry_is_removed_and_rebuilt() {
    let cache = tempfile::tempdir().unwrap();
    let first = Fixture::new();
    wlmake_ok(&first, cache.path(), &["build", RECIPE]);
    let id = identity(&first, cache.path());
    let stored = cache.path().join("builds-v1").join(&id).join("hello.wasm");
    let mut bytes = std::fs::read(&stored).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&stored, bytes).unwrap();

    let second = Fixture::new();
    let out = wlmake_ok(&second, cache.path(), &["build", RECIPE]);
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("did not match its entry.json") && stderr.contains("hello.wasm"),
        "{stderr}"
    );
    assert!(stderr.contains("built c/hello-1.0"), "{stderr}");
    greets(&second, cache.path(), "hello, runner (patched)\n");
    // The rebuild went back into the store, intact.
    let third = Fixture::new();
    let out = wlmake_ok(&third, cache.path(), &["build", RECIPE]);
    assert!(
        stderr_of(&out).contains("from the build cache"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn an_unusable_store_is_a_warning_and_the_build_is_published() {
    let cache = tempfile::tempdir().unwrap();
    // The bucket's place is taken by a file: nothing can be stored (as with a full or
    // read-only disk, which root cannot simulate with permissions).
    std::fs::write(cache.path().join("builds-v1"), "not a folder\n").unwrap();
    let fixture = Fixture::new();
    let out = wlmake_ok(&fixture, cache.path(), &["build", RECIPE]);
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("warning: cannot store the build in the build cache"),
        "{stderr}"
    );
    assert!(stderr.contains("built c/hello-1.0"), "{stderr}");
    greets(&fixture, cache.path(), "hello, runner (patched)\n");
}

#[test]
fn a_remote_cache_shares_builds_and_refuses_corrupt_entries() {
    let server = TestServer::start_store(Some("sekrit"));
    let url = server.base_url();
    let cache = tempfile::tempdir().unwrap();
    let first = Fixture::new();
    let id = identity(&first, cache.path());
    let entry = |file: &str| format!("/builds-v1/{id}/{file}");

    // Pushing without the token: refused (a warning), the build is fine.
    let out = wlmake_ok(
        &first,
        cache.path(),
        &["build", RECIPE, "--cache-url", &url, "--cache-push"],
    );
    let stderr = stderr_of(&out);
    assert!(stderr.contains("built c/hello-1.0"), "{stderr}");
    assert!(stderr.contains("warning: cannot push"), "{stderr}");
    assert!(stderr.contains("HTTP 401"), "{stderr}");
    assert!(server.stored_paths().is_empty());

    // With the token (from the environment), the up-to-date build is pushed, entry.json last.
    let out = first
        .wlmake()
        .env("WLMAKE_CACHE_DIR", cache.path())
        .env("WLMAKE_CACHE_URL", &url)
        .env("WLMAKE_CACHE_PUSH", "1")
        .env("WLMAKE_CACHE_TOKEN", "sekrit")
        .args(["build", RECIPE])
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("pushed"), "{stderr}");
    assert_eq!(
        server.stored_paths(),
        [
            entry("entry.json"),
            entry("hello.wasm"),
            entry("manifest.json")
        ]
    );
    let puts: Vec<_> = server
        .log()
        .into_iter()
        .filter(|r| r.method == "PUT" && r.authorization.as_deref() == Some("Bearer sekrit"))
        .map(|r| r.path)
        .collect();
    assert_eq!(puts.len(), 3, "{puts:?}");
    assert_eq!(puts.last().unwrap(), &entry("entry.json"));

    // Another checkout with an empty store reads it from the remote (read-only: no PUT).
    let puts_before = server.log().iter().filter(|r| r.method == "PUT").count();
    let empty = tempfile::tempdir().unwrap();
    let second = Fixture::new();
    let out = wlmake_ok(
        &second,
        empty.path(),
        &["build", RECIPE, "--cache-url", &url],
    );
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("from the remote build cache: c/hello-1.0"),
        "{stderr}"
    );
    assert!(!configure_log(&second).exists());
    greets(&second, empty.path(), "hello, runner (patched)\n");
    assert_eq!(
        server.log().iter().filter(|r| r.method == "PUT").count(),
        puts_before
    );
    // ... and it is in that store now.
    let third = Fixture::new();
    let out = wlmake_ok(&third, empty.path(), &["build", RECIPE]);
    assert!(
        stderr_of(&out).contains("from the build cache"),
        "{}",
        stderr_of(&out)
    );

    // A corrupted remote file is refused: the build happens locally.
    let mut bytes = server.stored(&entry("hello.wasm")).unwrap();
    bytes[20] ^= 0xff;
    server.store(&entry("hello.wasm"), bytes);
    let empty = tempfile::tempdir().unwrap();
    let fourth = Fixture::new();
    let out = wlmake_ok(
        &fourth,
        empty.path(),
        &["build", RECIPE, "--cache-url", &url],
    );
    let stderr = stderr_of(&out);
    assert!(stderr.contains("is corrupt or incomplete"), "{stderr}");
    assert!(stderr.contains("built c/hello-1.0"), "{stderr}");
    greets(&fourth, empty.path(), "hello, runner (patched)\n");
    assert!(
        !std::fs::read_dir(empty.path().join("builds-v1"))
            .unwrap()
            .any(|e| e
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(".tmp-")),
        "a refused download left a temp folder"
    );

    // A truncated remote file too.
    let good = std::fs::read(
        fourth
            .root()
            .join("build-output/c/hello-1.0/wasmtime/hello.wasm"),
    )
    .unwrap();
    server.store(&entry("hello.wasm"), good[..good.len() / 2].to_vec());
    let empty = tempfile::tempdir().unwrap();
    let fifth = Fixture::new();
    let out = wlmake_ok(
        &fifth,
        empty.path(),
        &["build", RECIPE, "--cache-url", &url],
    );
    let stderr = stderr_of(&out);
    assert!(stderr.contains("is corrupt or incomplete"), "{stderr}");
    assert!(stderr.contains("built c/hello-1.0"), "{stderr}");
}

#[test]
fn an_unreachable_remote_cache_is_a_warning_and_a_local_build() {
    let cache = tempfile::tempdir().unwrap();
    let fixture = Fixture::new();
    let url = refused_url("");
    let out = wlmake_ok(
        &fixture,
        cache.path(),
        &["build", RECIPE, "--cache-url", &url, "--cache-push"],
    );
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("warning: the remote build cache") && stderr.contains("is unreachable"),
        "{stderr}"
    );
    assert!(stderr.contains("building locally"), "{stderr}");
    assert!(stderr.contains("built c/hello-1.0"), "{stderr}");
    greets(&fixture, cache.path(), "hello, runner (patched)\n");
}

/// The identity of a recipe covers its dependencies' identities, recursively: a change
/// in a dependency's dependency changes the top recipe's identity.
#[test]
fn a_change_in_a_transitive_dependency_changes_the_identity() {
    let cache = tempfile::tempdir().unwrap();
    let fixture = Fixture::new();
    let root = fixture.root();
    let library = |name: &str, depends: &str| {
        format!(
            "[package]\nlanguage = \"lib\"\nname = \"{name}\"\nversion = \"1.0\"\n\
             runtimes = [\"wasmtime\"]\n\n[source]\npath = \"upstream/{name}\"\n\n\
             [build]\nsystem = \"make\"\ndepends = [{depends}]\n\n\
             [[artifact]]\nname = \"{name}\"\npath = \"lib{name}.a\"\n"
        )
    };
    std::fs::create_dir_all(root.join("recipes/lib")).unwrap();
    for (name, depends) in [("outer", "\"lib/inner-1.0\""), ("inner", "")] {
        std::fs::create_dir_all(root.join(format!("upstream/{name}"))).unwrap();
        std::fs::write(root.join(format!("upstream/{name}/{name}.c")), "int x;\n").unwrap();
        std::fs::write(
            root.join(format!("recipes/lib/{name}-1.0.toml")),
            library(name, depends),
        )
        .unwrap();
    }
    let recipe = root.join("recipes/c/hello-1.0.toml");
    let text = std::fs::read_to_string(&recipe).unwrap();
    std::fs::write(
        &recipe,
        text.replace(
            "system = \"autotools\"",
            "system = \"autotools\"\ndepends = [\"lib/outer-1.0\"]",
        ),
    )
    .unwrap();
    let before = identity(&fixture, cache.path());
    std::fs::write(root.join("upstream/inner/inner.c"), "int y;\n").unwrap();
    let after = identity(&fixture, cache.path());
    assert_ne!(
        before, after,
        "the inner library's source is part of the identity"
    );
    // A cycle is named.
    std::fs::write(
        root.join("recipes/lib/inner-1.0.toml"),
        library("inner", "\"lib/outer-1.0\""),
    )
    .unwrap();
    let out = fixture
        .wlmake()
        .env("WLMAKE_CACHE_DIR", cache.path())
        .args(["identity", RECIPE])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr_of(&out).contains("dependency cycle"),
        "{}",
        stderr_of(&out)
    );
}

fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A real PHP build pushed to the remote cache, fetched into an empty store in other
/// folders, and run on the real Wasmtime.
#[test]
fn a_php_build_from_the_remote_cache_runs() {
    const PHP: &str = "php/php-7.4.33";
    let wlmake = || {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_wlmake"));
        command
            .current_dir(repo_root())
            .env_remove("WLMAKE_REPO")
            .env_remove("WLMAKE_CACHE_URL")
            .env_remove("WLMAKE_CACHE_PUSH")
            .env_remove("WLMAKE_CACHE_TOKEN");
        command
    };
    // The repository's own build (a no-op when the end-to-end step made it).
    let out = wlmake()
        .args(["-q", "build", PHP, "--runtime", "wasmtime"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));

    let server = TestServer::start_store(None);
    let out = wlmake()
        .args(["build", PHP, "--runtime", "wasmtime", "--cache-push"])
        .args(["--cache-url", &server.base_url()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        server
            .stored_paths()
            .iter()
            .any(|p| p.ends_with("/php.wasm")),
        "{:?}\n{}",
        server.stored_paths(),
        stderr_of(&out)
    );

    let temp = tempfile::tempdir().unwrap();
    let isolated = |command: &mut std::process::Command| {
        command
            .env("WLMAKE_CACHE_DIR", temp.path().join("cache"))
            .env("WLMAKE_OUTPUT_DIR", temp.path().join("out"))
            .env("WLMAKE_WORK_DIR", temp.path().join("work"));
    };
    let mut build = wlmake();
    isolated(&mut build);
    let out = build
        .args(["build", PHP, "--runtime", "wasmtime"])
        .args(["--cache-url", &server.base_url()])
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("from the remote build cache"), "{stderr}");
    assert!(
        temp.path()
            .join("out")
            .join(PHP)
            .join("wasmtime/php.wasm")
            .is_file()
    );

    let mut run = wlmake();
    isolated(&mut run);
    let out = run
        .args(["run", PHP, "--runtime", "wasmtime", "--"])
        .args(["-r", "echo 6 * 7, ' ', PHP_VERSION, PHP_EOL;"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(stdout_of(&out), "42 7.4.33\n");
}
