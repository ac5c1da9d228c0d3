//! Build profiles end to end with the C fixture of `pipeline.rs`, the real clang wasm
//! toolchain, binaryen's real `wasm-opt` and Wasmtime: `release` keeps the identity and
//! folder builds had before profiles (so the build store still hits), `speed` and `size`
//! get folders, identities and manifests of their own, their smoke tests run, and
//! `--check` finds a profile build reproducible.

use std::path::Path;

use crate::pipeline::Fixture;

const RECIPE: &str = "c/hello-1.0";

fn stdout_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn wlmake_ok(fixture: &Fixture, args: &[&str]) -> std::process::Output {
    let out = fixture
        .wlmake()
        .env_remove("WLMAKE_CACHE_URL")
        .env_remove("WLMAKE_CACHE_PUSH")
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

fn identity(fixture: &Fixture, extra: &[&str]) -> String {
    let mut args = vec!["identity", RECIPE];
    args.extend_from_slice(extra);
    let id = stdout_of(&wlmake_ok(fixture, &args)).trim().to_string();
    assert_eq!(id.len(), 64, "{id}");
    id
}

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap()
}

#[test]
fn profiles_build_apart_and_release_stays_as_it_was() {
    let fixture = Fixture::new();
    let root = fixture.root();

    // Release is the default: same identity with and without the flag.
    let release_id = identity(&fixture, &[]);
    assert_eq!(identity(&fixture, &["--profile", "release"]), release_id);
    let speed_id = identity(&fixture, &["--profile", "speed"]);
    let size_id = identity(&fixture, &["--profile", "size"]);
    assert_ne!(speed_id, release_id);
    assert_ne!(size_id, release_id);
    assert_ne!(size_id, speed_id);

    wlmake_ok(&fixture, &["build", RECIPE]);
    let release_dir = root.join("build-output/c/hello-1.0/wasmtime");
    let release = manifest(&release_dir);
    assert_eq!(release["build_identity"], release_id.as_str());
    assert_eq!(release["profile"]["name"], "release");
    assert_eq!(release["profile"]["cflags"], serde_json::json!([]));

    let out = wlmake_ok(&fixture, &["build", RECIPE, "--profile", "size"]);
    assert!(
        stderr_of(&out).contains("built c/hello-1.0"),
        "{}",
        stderr_of(&out)
    );
    let size_dir = root.join("build-output/c/hello-1.0/wasmtime-size");
    let size = manifest(&size_dir);
    assert_eq!(size["build_identity"], size_id.as_str());
    assert_eq!(size["profile"]["name"], "size");
    assert_eq!(size["profile"]["cflags"], serde_json::json!(["-Oz"]));
    assert_eq!(size["profile"]["wasm_opt"][0], "-Oz");
    assert!(
        size["profile"]["wasm_opt_version"]
            .as_str()
            .is_some_and(|v| v.starts_with("wasm-opt version")),
        "{}",
        size["profile"]
    );
    // The recipe's CFLAGS, then the profile's: the last -O wins.
    let config =
        std::fs::read_to_string(root.join("work/build/c/hello-1.0/wasmtime-size/src/config.mk"))
            .unwrap();
    let cflags = config.lines().find(|l| l.starts_with("CFLAGS=")).unwrap();
    assert!(
        cflags.starts_with("CFLAGS=-O2 ") && cflags.ends_with(" -Oz"),
        "{config}"
    );
    assert!(
        root.join("work/build/c/hello-1.0/wasmtime-size/logs/wasm-opt.log")
            .is_file()
    );
    let release_wasm = std::fs::read(release_dir.join("hello.wasm")).unwrap();
    let size_wasm = std::fs::read(size_dir.join("hello.wasm")).unwrap();
    assert!(
        size_wasm.len() < release_wasm.len(),
        "size {} bytes, release {} bytes",
        size_wasm.len(),
        release_wasm.len()
    );

    // Each profile's own build runs and passes the smoke tests.
    let out = wlmake_ok(
        &fixture,
        &["run", RECIPE, "--profile", "size", "--", "small"],
    );
    assert_eq!(stdout_of(&out), "hello, small (patched)\n");
    let out = wlmake_ok(&fixture, &["test", RECIPE, "--profile", "size"]);
    assert!(stdout_of(&out).contains("PASS"), "{}", stdout_of(&out));
    // A profile that was never built is named with the command that builds it.
    let out = fixture
        .wlmake()
        .args(["run", RECIPE, "--profile", "speed", "--", "x"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr_of(&out).contains("wlmake build c/hello-1.0 --runtime wasmtime --profile speed"),
        "{}",
        stderr_of(&out)
    );

    // A profile build is reproducible through the same --check.
    let out = wlmake_ok(&fixture, &["build", RECIPE, "--profile", "size", "--check"]);
    assert!(stdout_of(&out).contains("identical"), "{}", stdout_of(&out));

    // The release output left alone by the profile builds; gone, it comes back from the
    // store under the identity it always had.
    assert_eq!(
        std::fs::read(release_dir.join("hello.wasm")).unwrap(),
        release_wasm
    );
    std::fs::remove_dir_all(root.join("build-output")).unwrap();
    let out = wlmake_ok(&fixture, &["build", RECIPE]);
    assert!(
        stderr_of(&out).contains("from the build cache: c/hello-1.0"),
        "{}",
        stderr_of(&out)
    );
    let out = wlmake_ok(&fixture, &["build", RECIPE, "--profile", "size"]);
    assert!(
        stderr_of(&out).contains("from the build cache: c/hello-1.0"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(
        std::fs::read(size_dir.join("hello.wasm")).unwrap(),
        size_wasm
    );
}

/// `[profile.<name>] prepare`: commands run in the patched tree before configure, for that
/// profile only (PHP's speed profile regenerates its VM this way); recorded in the
/// manifest; a program missing on the build machine is named before anything is built.
#[test]
fn a_profile_prepares_its_source_before_configure() {
    let fixture = Fixture::new();
    let root = fixture.root();
    let recipe_path = root.join("recipes/c/hello-1.0.toml");
    let recipe = std::fs::read_to_string(&recipe_path).unwrap();
    std::fs::write(
        &recipe_path,
        format!(
            "{recipe}\n[profile.speed]\nwasm-opt = []\nprepare = [[\"sed\", \"-i\", \"s/(patched)/(patched, prepared)/\", \"hello.c\"]]\n"
        ),
    )
    .unwrap();

    wlmake_ok(&fixture, &["build", RECIPE, "--profile", "speed"]);
    let out = wlmake_ok(&fixture, &["run", RECIPE, "--profile", "speed", "--", "x"]);
    assert_eq!(stdout_of(&out), "hello, x (patched, prepared)\n");
    let speed = manifest(&root.join("build-output/c/hello-1.0/wasmtime-speed"));
    assert_eq!(
        speed["profile"]["prepare"],
        serde_json::json!([["sed", "-i", "s/(patched)/(patched, prepared)/", "hello.c"]])
    );
    assert!(
        root.join("work/build/c/hello-1.0/wasmtime-speed/logs/prepare.log")
            .is_file()
    );
    // Release is the recipe as written: no prepare step, nothing recorded.
    wlmake_ok(&fixture, &["build", RECIPE]);
    let out = wlmake_ok(&fixture, &["run", RECIPE, "--", "x"]);
    assert_eq!(stdout_of(&out), "hello, x (patched)\n");
    let release = manifest(&root.join("build-output/c/hello-1.0/wasmtime"));
    assert!(
        release["profile"].get("prepare").is_none(),
        "{}",
        release["profile"]
    );

    // A program the machine lacks: refused before the build, with the fix.
    std::fs::write(
        &recipe_path,
        format!("{recipe}\n[profile.size]\nprepare = [[\"wlmake-no-such-generator\"]]\n"),
    )
    .unwrap();
    let out = fixture
        .wlmake()
        .args(["build", RECIPE, "--profile", "size"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("runs `wlmake-no-such-generator` before configure")
            && stderr.contains("hint: install `wlmake-no-such-generator`"),
        "{stderr}"
    );
    assert!(!root.join("build-output/c/hello-1.0/wasmtime-size").exists());

    // A path instead of a program name is a recipe error with its place.
    std::fs::write(
        &recipe_path,
        format!("{recipe}\n[profile.size]\nprepare = [[\"/usr/bin/php\", \"gen.php\"]]\n"),
    )
    .unwrap();
    let out = fixture.wlmake().args(["lint"]).output().unwrap();
    assert!(!out.status.success());
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("`/usr/bin/php` is not a program name")
            && stderr.contains("recipes/c/hello-1.0.toml:"),
        "{stderr}"
    );
}
