//! The build pipeline end to end on a tiny C program: real clang for wasm32-wasi, real
//! configure and make, real patches, real Wasmtime.

use std::path::Path;

use assert_cmd::Command;

/// A throw-away wlmake repository with one C recipe.
pub struct Fixture {
    pub dir: tempfile::TempDir,
}

const RECIPE: &str = r#"
[package]
language = "c"
name = "hello"
version = "1.0"
runtimes = ["wasmtime"]

[source]
path = "upstream/hello"

[patches]
common = "patches/hello/common"

[build]
system = "autotools"
configure-args = ["--greeting=hello"]
make-targets = ["all"]

[build.env]
CFLAGS = "-O2"

[[artifact]]
name = "hello"
path = "hello.wasm"

[[test]]
name = "greets"
artifact = "hello"
args = ["wasm"]
expect-stdout = "hello, wasm (patched)\n"

[[test]]
name = "reads-preopened-file"
artifact = "hello"
args = ["--cat", "/app/data.txt"]
dir = "data"
expect-stdout = "some data\n"

[[record]]
name = "greeting"
artifact = "hello"
args = ["record"]
"#;

const CONFIGURE: &str = r#"#!/bin/sh
# A minimal autotools-style configure: records the cross settings it was given.
set -e
host=""
greeting=""
for arg in "$@"; do
  case "$arg" in
    --host=*) host="${arg#--host=}" ;;
    --greeting=*) greeting="${arg#--greeting=}" ;;
    *) echo "configure: unknown argument $arg" >&2; exit 1 ;;
  esac
done
[ "$host" = "wasm32-wasi" ] || { echo "configure: expected --host=wasm32-wasi, got '$host'" >&2; exit 1; }
[ -n "$CC" ] || { echo "configure: CC is not set" >&2; exit 1; }
printf 'CC=%s\nCFLAGS=%s\nGREETING=%s\n' "$CC" "$CFLAGS" "$greeting" > config.mk
echo "configured for $host with $CC"
"#;

const MAKEFILE: &str = "include config.mk\n\nall: hello.wasm\n\nhello.wasm: hello.c\n\t$(CC) $(CFLAGS) -DGREETING='\"$(GREETING)\"' hello.c -o hello.wasm\n";

const HELLO_C: &str = r#"#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--cat") == 0) {
        FILE *file = fopen(argv[2], "r");
        if (!file) { perror(argv[2]); return 1; }
        char line[256];
        while (fgets(line, sizeof line, file)) fputs(line, stdout);
        fclose(file);
        return 0;
    }
    printf("%s, %s\n", GREETING, argc > 1 ? argv[1] : "world");
    return 0;
}

/* end of hello.c */
"#;

const PATCH: &str = r#"Subject: Mark the greeting as patched

Shows that the common series is applied before configure.

--- a/hello.c
+++ b/hello.c
@@ -10,7 +10,7 @@
         fclose(file);
         return 0;
     }
-    printf("%s, %s\n", GREETING, argc > 1 ? argv[1] : "world");
+    printf("%s, %s (patched)\n", GREETING, argc > 1 ? argv[1] : "world");
     return 0;
 }
 
"#;

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

impl Fixture {
    pub fn new() -> Self {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(&root.join("recipes/c/hello-1.0.toml"), RECIPE);
        write(&root.join("upstream/hello/configure"), CONFIGURE);
        std::fs::set_permissions(
            root.join("upstream/hello/configure"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        write(&root.join("upstream/hello/Makefile"), MAKEFILE);
        write(&root.join("upstream/hello/hello.c"), HELLO_C);
        write(
            &root.join("patches/hello/common/0001-mark-patched.patch"),
            PATCH,
        );
        write(&root.join("data/data.txt"), "some data\n");
        Self { dir }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn wlmake(&self) -> Command {
        let mut command = Command::cargo_bin("wlmake").unwrap();
        command
            .current_dir(self.root())
            .env_remove("WLMAKE_REPO")
            .env_remove("WLMAKE_WORK_DIR")
            .env_remove("WLMAKE_OUTPUT_DIR")
            .env("WLMAKE_CACHE_DIR", self.root().join("cache"))
            .env("WLMAKE_APT", "0")
            .timeout(std::time::Duration::from_secs(300));
        command
    }
}

fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn build_test_rebuild_and_run_a_c_program() {
    let fixture = Fixture::new();
    let out = fixture
        .wlmake()
        .args(["build", "c/hello-1.0"])
        .output()
        .unwrap();
    assert!(out.status.success(), "build failed: {}", stderr_of(&out));
    let output_dir = fixture.root().join("build-output/c/hello-1.0/wasmtime");
    let module = output_dir.join("hello.wasm");
    assert!(std::fs::read(&module).unwrap().starts_with(b"\0asm"));

    // The manifest records inputs and artifacts.
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(output_dir.join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["recipe"]["id"], "c/hello-1.0");
    assert_eq!(
        manifest["patches"][0]["path"],
        "patches/hello/common/0001-mark-patched.patch"
    );
    assert_eq!(manifest["artifacts"][0]["path"], "hello.wasm");
    // The [[record]] ran the built artifact on the runtime and kept its output.
    assert_eq!(
        manifest["records"]["greeting"]["lines"],
        serde_json::json!(["hello, record (patched)"])
    );
    assert!(
        manifest["records"]["greeting"]["runtime"]
            .as_str()
            .is_some_and(|v| v.starts_with("wasmtime")),
        "{}",
        manifest["records"]
    );
    assert_eq!(
        manifest["artifacts"][0]["size"],
        std::fs::metadata(&module).unwrap().len()
    );
    assert!(manifest["flags"]["configure_args"][0].as_str().unwrap() == "--greeting=hello");
    assert!(
        manifest["toolchain"]["versions"]["clang"]
            .as_str()
            .unwrap()
            .contains("clang")
    );
    let log = std::fs::read_to_string(
        fixture
            .root()
            .join("work/build/c/hello-1.0/wasmtime/logs/configure.log"),
    )
    .unwrap();
    assert!(log.contains("configured for wasm32-wasi"), "{log}");

    // Smoke tests run on the real Wasmtime, with the test folder preopened as /app.
    let out = fixture
        .wlmake()
        .args(["test", "c/hello-1.0"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", stderr_of(&out));
    assert!(stdout.contains("2 passed, 0 failed"), "{stdout}");

    // The same as JSON, and the build's result as JSON.
    let out = fixture
        .wlmake()
        .args(["test", "c/hello-1.0", "--json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (report["passed"].as_u64(), report["failed"].as_u64()),
        (Some(2), Some(0))
    );
    assert_eq!(report["tests"].as_array().unwrap().len(), 2, "{report:#}");
    assert!(report["tests"][0]["reason"].is_null(), "{report:#}");
    let out = fixture
        .wlmake()
        .args(["build", "c/hello-1.0", "--json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["origin"], "up-to-date", "{report:#}");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(output_dir.join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(report["identity"], manifest["build_identity"]);
    assert_eq!(
        report["artifacts"][0]["sha256"],
        manifest["artifacts"][0]["sha256"]
    );

    // `wlmake run` passes arguments through.
    let out = fixture
        .wlmake()
        .args(["run", "c/hello-1.0", "--", "runner"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "hello, runner (patched)\n"
    );

    // `--precompiled`: compiled once into the cache (keyed by artifact and runtime
    // version), then the native code runs; the second run compiles nothing.
    for round in 0..2 {
        let out = fixture
            .wlmake()
            .args(["run", "c/hello-1.0", "--precompiled", "--", "native"])
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "hello, native (patched)\n",
            "{}",
            stderr_of(&out)
        );
        assert_eq!(
            stderr_of(&out).contains("precompiling"),
            round == 0,
            "{}",
            stderr_of(&out)
        );
    }
    let compiled: Vec<_> = std::fs::read_dir(fixture.root().join("cache/precompiled-v1"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect();
    assert_eq!(compiled.len(), 1, "{compiled:?}");

    // Nothing changed: no configure, no make, same artifact.
    let before = std::fs::read_to_string(output_dir.join("manifest.json")).unwrap();
    let out = fixture
        .wlmake()
        .args(["build", "c/hello-1.0"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        stderr_of(&out).contains("up to date"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(
        before,
        std::fs::read_to_string(output_dir.join("manifest.json")).unwrap()
    );

    // A changed recipe setting rebuilds.
    let recipe = fixture.root().join("recipes/c/hello-1.0.toml");
    let text = std::fs::read_to_string(&recipe)
        .unwrap()
        .replace("--greeting=hello", "--greeting=howdy");
    std::fs::write(
        &recipe,
        text.replace(
            "expect-stdout = \"hello, wasm",
            "expect-stdout = \"howdy, wasm",
        ),
    )
    .unwrap();
    let out = fixture
        .wlmake()
        .args(["build", "c/hello-1.0"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("built c/hello-1.0"),
        "{}",
        stderr_of(&out)
    );
    let out = fixture
        .wlmake()
        .args(["run", "c/hello-1.0", "--", "again"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "howdy, again (patched)\n"
    );

    // --force rebuilds even when nothing changed.
    let out = fixture
        .wlmake()
        .args(["build", "c/hello-1.0", "--force"])
        .output()
        .unwrap();
    assert!(
        stderr_of(&out).contains("built c/hello-1.0"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn a_patch_that_does_not_apply_fails_the_build_and_keeps_the_old_output() {
    let fixture = Fixture::new();
    let patch = fixture
        .root()
        .join("patches/hello/common/0001-mark-patched.patch");
    std::fs::write(
        &patch,
        PATCH.replace("    printf(\"%s, %s\\n\"", "    printf(\"%s: %s\\n\""),
    )
    .unwrap();
    let out = fixture
        .wlmake()
        .args(["build", "c/hello-1.0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("error: cannot build `c/hello-1.0` for wasmtime"),
        "{stderr}"
    );
    assert!(
        stderr.contains("0001-mark-patched.patch` does not apply"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: the patch was written for another upstream tree"),
        "{stderr}"
    );
    assert!(!fixture.root().join("build-output/c/hello-1.0").exists());
}

#[test]
fn a_compile_error_shows_command_tail_log_and_hint() {
    let fixture = Fixture::new();
    let source = fixture.root().join("upstream/hello/hello.c");
    let text = std::fs::read_to_string(&source).unwrap();
    // Same line count, so the patch still applies exactly.
    std::fs::write(
        &source,
        text.replace("#include <string.h>", "#include <netdb.h>"),
    )
    .unwrap();
    let out = fixture
        .wlmake()
        .args(["build", "c/hello-1.0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = stderr_of(&out);
    assert!(stderr.contains("`make -j"), "{stderr}");
    assert!(stderr.contains("failed with exit status 2"), "{stderr}");
    assert!(stderr.contains("logs/make.log"), "{stderr}");
    assert!(
        stderr.contains("hint: the WASI sysroot has no `netdb.h`"),
        "{stderr}"
    );
}

#[test]
fn run_before_build_says_how_to_build() {
    let fixture = Fixture::new();
    let out = fixture
        .wlmake()
        .args(["run", "c/hello-1.0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("hint: build it first: wlmake build c/hello-1.0 --runtime wasmtime"),
        "{stderr}"
    );
}

#[test]
fn an_import_the_runtime_lacks_fails_the_build() {
    let fixture = Fixture::new();
    // Link with an undefined function: wasm-ld turns it into an `env` import that no
    // WASI runtime provides.
    let source = fixture.root().join("upstream/hello/hello.c");
    let text = std::fs::read_to_string(&source).unwrap();
    std::fs::write(
        &source,
        text.replace(
            "/* end of hello.c */",
            "void wlmake_missing(void);\nvoid call_missing(void) { wlmake_missing(); }",
        ),
    )
    .unwrap();
    let recipe = fixture.root().join("recipes/c/hello-1.0.toml");
    let text = std::fs::read_to_string(&recipe).unwrap();
    std::fs::write(
        &recipe,
        text.replace(
            "CFLAGS = \"-O2\"",
            "CFLAGS = \"-O2 -Wl,--allow-undefined -Wl,--export=call_missing\"",
        ),
    )
    .unwrap();
    let out = fixture
        .wlmake()
        .args(["build", "c/hello-1.0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("artifact `hello` does not fit runtime wasmtime"),
        "{stderr}"
    );
    assert!(stderr.contains("env"), "{stderr}");
    assert!(!fixture.root().join("build-output/c/hello-1.0").exists());
}
