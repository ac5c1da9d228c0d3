//! Library recipes end to end: the real zlib recipe built for wasm32-wasi from its real
//! source (Debian's orig tarball through apt, or the shared cache), a C program linked
//! against it through the restricted pkg-config and run on Wasmtime, reuse of the
//! library's prefix, and no host `.pc` file or header reaching a build.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

const ZLIB_RECIPE: &str = "recipes/lib/zlib-1.2.13.toml";

/// compress/uncompress round trip; prints what it checked.
const ROUND_TRIP_C: &str = r#"#include <stdio.h>
#include <string.h>
#include <zlib.h>

int main(void) {
    const char *text = "wasm wasm wasm wasm wasm wasm wasm wasm wasm wasm wasm wasm";
    unsigned char packed[256], unpacked[256];
    uLongf packed_len = sizeof packed, unpacked_len = sizeof unpacked;
    if (compress(packed, &packed_len, (const Bytef *)text, strlen(text)) != Z_OK) return 2;
    if (uncompress(unpacked, &unpacked_len, packed, packed_len) != Z_OK) return 3;
    if (unpacked_len != strlen(text) || memcmp(unpacked, text, unpacked_len) != 0) return 4;
    printf("zlib %s: %zu -> %lu -> %lu bytes\n", zlibVersion(), strlen(text),
           (unsigned long)packed_len, (unsigned long)unpacked_len);
    return 0;
}
"#;

/// The Makefile checks what the build sees before compiling: pkg-config knows zlib (from
/// the dependency's prefix, which `{dep:zlib}` also names) and knows nothing of the host.
const ROUND_TRIP_MAKEFILE: &str = "\
all: zround.wasm

zround.wasm: zround.c
\ttest \"$$(realpath $$(pkg-config --variable=includedir zlib))\" = \"$$(realpath $(ZLIB_PREFIX)/include)\"
\t! pkg-config --exists libxml-2.0
\ttest -z \"$$PKG_CONFIG_PATH\"
\t$(CC) -O2 $$(pkg-config --cflags zlib) zround.c $$(pkg-config --libs zlib) -o zround.wasm
";

const ROUND_TRIP_RECIPE: &str = r#"
[package]
language = "c"
name = "zround"
version = "1.0"
runtimes = ["wasmtime", "wasmedge"]

[source]
path = "upstream/zround"

[build]
system = "make"
depends = ["lib/zlib-1.2.13"]
make-vars = ["CC={cc}", "ZLIB_PREFIX={dep:zlib}"]

[[artifact]]
name = "zround"
path = "zround.wasm"

[[test]]
name = "round-trip"
artifact = "zround"
expect-pattern = "^zlib 1\\.2\\.13: 59 -> \\d+ -> 59 bytes\n$"
"#;

/// A build without dependencies: pkg-config must find neither the host's zlib.pc nor
/// its libxml-2.0.pc, and `#include <zlib.h>` must not find /usr/include/zlib.h.
const LEAK_MAKEFILE: &str = "\
all: hello.wasm

hello.wasm: hello.c probe.c
\t! pkg-config --exists zlib
\t! pkg-config --exists libxml-2.0
\t! $(CC) -c probe.c -o probe.o
\t$(CC) hello.c -o hello.wasm
";

const LEAK_RECIPE: &str = r#"
[package]
language = "c"
name = "leak"
version = "1.0"
runtimes = ["wasmtime"]

[source]
path = "upstream/leak"

[build]
system = "make"
make-vars = ["CC={cc}"]

[[artifact]]
name = "hello"
path = "hello.wasm"
"#;

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let fixture = Self {
            dir: tempfile::tempdir().unwrap(),
        };
        let root = fixture.root();
        fixture.copy_from_repository(ZLIB_RECIPE);
        // The import tables every build checks its artifacts against.
        fixture.copy_from_repository("runtimes");
        write(&root.join("recipes/c/zround-1.0.toml"), ROUND_TRIP_RECIPE);
        write(&root.join("upstream/zround/Makefile"), ROUND_TRIP_MAKEFILE);
        write(&root.join("upstream/zround/zround.c"), ROUND_TRIP_C);
        write(&root.join("recipes/c/leak-1.0.toml"), LEAK_RECIPE);
        write(&root.join("upstream/leak/Makefile"), LEAK_MAKEFILE);
        write(
            &root.join("upstream/leak/hello.c"),
            "#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n",
        );
        write(
            &root.join("upstream/leak/probe.c"),
            "#include <zlib.h>\nint probe(void) { return Z_OK; }\n",
        );
        fixture
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    /// wlmake in the fixture, with the shared source cache (zlib's archive comes from it
    /// or from apt) and a host pkg-config setup that would leak if wlmake passed it on.
    /// Builds pass `--no-cache`: the shared cache's build store may hold an earlier run's
    /// build of the same fixture, and these tests watch the build itself.
    fn wlmake(&self) -> Command {
        let mut command = Command::cargo_bin("wlmake").unwrap();
        command
            .current_dir(self.root())
            .env_remove("WLMAKE_REPO")
            .env_remove("WLMAKE_WORK_DIR")
            .env_remove("WLMAKE_OUTPUT_DIR")
            .env(
                "PKG_CONFIG_PATH",
                "/usr/lib/x86_64-linux-gnu/pkgconfig:/usr/share/pkgconfig",
            )
            .env("PKG_CONFIG_SYSROOT_DIR", "/")
            .timeout(std::time::Duration::from_secs(600));
        command
    }

    /// Copies a file of the repository, or every file of a folder, into the fixture.
    fn copy_from_repository(&self, path: &str) {
        let from = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
        let files: Vec<PathBuf> = if from.is_dir() {
            std::fs::read_dir(&from)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.is_file())
                .collect()
        } else {
            vec![from.clone()]
        };
        for file in files {
            let relative = file.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap();
            std::fs::create_dir_all(self.root().join(relative).parent().unwrap()).unwrap();
            std::fs::copy(&file, self.root().join(relative)).unwrap();
        }
    }

    /// The wasmtime build's manifest of `recipe`.
    fn manifest(&self, recipe: &str) -> serde_json::Value {
        let path = self
            .root()
            .join("build-output")
            .join(recipe)
            .join("wasmtime/manifest.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    /// `wlmake test RECIPE --runtime wasmtime` (with `cache` as the cache folder when
    /// given) passes.
    fn assert_smoke_tests_pass(&self, recipe: &str, cache: Option<&Path>) {
        let mut command = self.wlmake();
        if let Some(cache) = cache {
            command.env("WLMAKE_CACHE_DIR", cache);
        }
        let out = command
            .args(["test", recipe, "--runtime", "wasmtime"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "smoke tests of {recipe} failed: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
    }

    fn library_dirs(&self, name: &str) -> Vec<String> {
        let mut dirs: Vec<String> = std::fs::read_dir(self.root().join("work/lib").join(name))
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        dirs.sort();
        dirs
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The host must have the `.pc` files and header the leak checks look for, or those
/// checks prove nothing (`.ci/install-deps` installs zlib1g-dev and libxml2-dev).
fn assert_host_has_what_could_leak() {
    let status = std::process::Command::new("pkg-config")
        .args(["--exists", "libxml-2.0", "zlib"])
        .status()
        .expect("pkg-config runs");
    assert!(
        status.success(),
        "the host lacks libxml-2.0.pc or zlib.pc: install libxml2-dev and zlib1g-dev (.ci/install-deps)"
    );
    assert!(
        Path::new("/usr/include/zlib.h").is_file(),
        "the host lacks /usr/include/zlib.h"
    );
}

#[test]
fn zlib_builds_once_and_links_through_restricted_pkg_config() {
    assert_host_has_what_could_leak();
    let fixture = Fixture::new();
    let out = fixture
        .wlmake()
        .args(["build", "c/zround-1.0", "-j2", "--no-cache"])
        .output()
        .unwrap();
    assert!(out.status.success(), "build failed: {}", text(&out.stderr));

    // The library's prefix: archive, headers, .pc, and the stamp.
    let dirs = fixture.library_dirs("zlib");
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    let lib_dir = fixture.root().join("work/lib/zlib").join(&dirs[0]);
    let prefix = lib_dir.join("prefix");
    let archive = std::fs::read(prefix.join("lib/libz.a")).unwrap();
    assert!(archive.starts_with(b"!<arch>\n"));
    assert!(prefix.join("include/zlib.h").is_file());
    // Relocatable: the .pc file names its prefix relative to itself.
    let pc = std::fs::read_to_string(prefix.join("lib/pkgconfig/zlib.pc")).unwrap();
    assert!(pc.contains("prefix=${pcfiledir}/../..\n"), "{pc}");
    assert!(!pc.contains(&fixture.root().display().to_string()), "{pc}");
    let stamp = std::fs::metadata(lib_dir.join("complete"))
        .unwrap()
        .modified()
        .unwrap();

    // The manifest lists the library with its identity.
    let manifest = fixture.manifest("c/zround-1.0");
    let deps = manifest["dependencies"].as_array().unwrap();
    assert_eq!(deps.len(), 1, "{deps:?}");
    assert_eq!(deps[0]["id"], "lib/zlib-1.2.13");
    assert!(deps[0]["identity"].as_str().unwrap().starts_with(&dirs[0]));

    // The program runs on the real Wasmtime: compress, uncompress, compare.
    fixture.assert_smoke_tests_pass("c/zround-1.0", None);

    // A forced rebuild of the program, and a build for the other runtime, reuse the
    // library: same folder, untouched stamp.
    for args in [
        ["build", "c/zround-1.0", "--force"].as_slice(),
        [
            "build",
            "c/zround-1.0",
            "--runtime",
            "wasmedge",
            "--no-cache",
        ]
        .as_slice(),
    ] {
        let out = fixture.wlmake().args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        assert!(
            !text(&out.stderr).contains("library lib/zlib"),
            "{args:?} rebuilt zlib: {}",
            text(&out.stderr)
        );
    }
    // Another recipe that needs the same library (as php-8.2.32 after php-7.4.33) finds
    // it built.
    write(
        &fixture.root().join("recipes/c/zround2-1.0.toml"),
        &ROUND_TRIP_RECIPE.replace("name = \"zround\"\nversion", "name = \"zround2\"\nversion"),
    );
    let out = fixture
        .wlmake()
        .args(["build", "c/zround2-1.0", "--no-cache"])
        .output()
        .unwrap();
    assert!(out.status.success(), "zround2: {}", text(&out.stderr));
    assert!(
        !text(&out.stderr).contains("library lib/zlib"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(fixture.library_dirs("zlib"), dirs);
    let again = std::fs::metadata(lib_dir.join("complete"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(stamp, again, "the library was rebuilt");
}

/// The entries of a store holding `recipe`, by identity.
fn store_entries(cache: &Path, recipe: &str) -> Vec<PathBuf> {
    let Ok(read) = std::fs::read_dir(cache.join("builds-v1")) else {
        return Vec::new();
    };
    read.filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            std::fs::read_to_string(p.join("entry.json"))
                .ok()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                .is_some_and(|v| v["recipe"] == recipe)
        })
        .collect()
}

#[test]
fn a_library_in_the_build_store_serves_another_checkout() {
    let cache = tempfile::tempdir().unwrap();
    let build = |fixture: &Fixture| {
        let out = fixture
            .wlmake()
            .env("WLMAKE_CACHE_DIR", cache.path())
            // --force: the program itself is in the store too after the first build;
            // these builds must build it, against the stored library.
            .args(["build", "c/zround-1.0", "-j2", "--force"])
            .output()
            .unwrap();
        assert!(out.status.success(), "build failed: {}", text(&out.stderr));
        text(&out.stderr)
    };
    let first = Fixture::new();
    let log = build(&first);
    assert!(log.contains("library lib/zlib-1.2.13"), "{log}");

    // The prefix is a store entry: verified files, no libtool archive, a .pc file that
    // does not name the checkout it was built in.
    let entries = store_entries(cache.path(), "lib/zlib-1.2.13");
    assert_eq!(entries.len(), 1, "{entries:?}");
    let entry = &entries[0];
    let index = std::fs::read_to_string(entry.join("entry.json")).unwrap();
    assert!(index.contains("\"lib/libz.a\""), "{index}");
    assert!(!index.contains(".la\""), "{index}");
    let pc = std::fs::read_to_string(entry.join("lib/pkgconfig/zlib.pc")).unwrap();
    assert!(pc.contains("prefix=${pcfiledir}/../..\n"), "{pc}");
    assert!(!pc.contains(&first.root().display().to_string()), "{pc}");
    let identity = entry.file_name().unwrap().to_string_lossy().into_owned();
    let manifest = first.manifest("c/zround-1.0");
    assert_eq!(manifest["dependencies"][0]["identity"], identity.as_str());

    // Another checkout with the same store: the library is not built again, the program
    // is built against the stored prefix and runs.
    let second = Fixture::new();
    let log = build(&second);
    assert!(!log.contains("library lib/zlib"), "{log}");
    assert!(!second.root().join("work/lib/zlib").exists());
    second.assert_smoke_tests_pass("c/zround-1.0", Some(cache.path()));

    // A damaged entry is removed and the library rebuilt (the store never serves bytes
    // that do not match their entry.json).
    std::fs::write(entry.join("lib/libz.a"), b"!<arch>\ndamaged").unwrap();
    let third = Fixture::new();
    let log = build(&third);
    assert!(log.contains("did not match its entry.json"), "{log}");
    assert!(log.contains("library lib/zlib-1.2.13"), "{log}");
    let archive = std::fs::read(entry.join("lib/libz.a")).unwrap();
    assert!(archive.len() > 1000, "the entry was not rebuilt");
}

/// `pyspdxtools` (PyPI `spdx-tools`, installed by .ci/install-deps) validates a document.
fn assert_valid_spdx(path: &Path) {
    let out = std::process::Command::new("pyspdxtools")
        .arg("-i")
        .arg(path)
        .output()
        .expect("pyspdxtools runs (pip install spdx-tools, as .ci/install-deps does)");
    assert!(
        out.status.success(),
        "{} is not valid SPDX:\n{}{}",
        path.display(),
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[test]
fn a_build_writes_an_spdx_sbom_of_its_artifacts_sources_and_libraries() {
    let fixture = Fixture::new();
    let out = fixture
        .wlmake()
        .args(["build", "c/zround-1.0", "-j2", "--no-cache"])
        .output()
        .unwrap();
    assert!(out.status.success(), "build failed: {}", text(&out.stderr));
    let dir = fixture.root().join("build-output/c/zround-1.0/wasmtime");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    let path = dir.join("sbom.spdx.json");
    assert_valid_spdx(&path);
    let sbom: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(sbom["spdxVersion"], "SPDX-2.3");
    let packages = sbom["packages"].as_array().unwrap();
    let named = |name: &str| {
        packages
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("no package {name} in {packages:#?}"))
    };
    // The artifact, with the digest the manifest has.
    let artifact = named("zround.wasm");
    assert_eq!(
        artifact["checksums"][0]["checksumValue"],
        manifest["artifacts"][0]["sha256"]
    );
    // The library linked in: its archive's sha256 and where the archive comes from.
    let zlib = named("zlib");
    assert_eq!(zlib["primaryPackagePurpose"], "LIBRARY");
    assert_eq!(
        zlib["checksums"][0]["checksumValue"],
        zlib_recipe_sha256().as_str()
    );
    assert!(
        zlib["sourceInfo"]
            .as_str()
            .unwrap()
            .contains("Debian source package zlib zlib_1.2.13.dfsg.orig.tar.bz2"),
        "{zlib:#}"
    );
    // The program's own source (a folder of the repository) and the toolchain.
    assert_eq!(named("zround")["primaryPackagePurpose"], "SOURCE");
    let relationships = sbom["relationships"].to_string();
    assert!(relationships.contains("STATIC_LINK"), "{relationships}");
    assert!(relationships.contains("BUILD_TOOL_OF"), "{relationships}");
    assert!(
        sbom["documentNamespace"]
            .as_str()
            .unwrap()
            .ends_with(manifest["build_identity"].as_str().unwrap())
    );
}

/// The sha256 the zlib recipe pins (what the SBOM must name for the library).
fn zlib_recipe_sha256() -> String {
    let recipe =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(ZLIB_RECIPE)).unwrap();
    let line = recipe
        .lines()
        .find(|l| l.starts_with("sha256"))
        .expect("the zlib recipe pins a sha256");
    line.split('"').nth(1).unwrap().to_string()
}

#[test]
fn a_build_without_dependencies_sees_no_host_pc_file_or_header() {
    assert_host_has_what_could_leak();
    let fixture = Fixture::new();
    let out = fixture
        .wlmake()
        .args(["build", "c/leak-1.0", "--no-cache"])
        .output()
        .unwrap();
    let log = std::fs::read_to_string(
        fixture
            .root()
            .join("work/build/c/leak-1.0/wasmtime/logs/make.log"),
    )
    .unwrap_or_default();
    assert!(
        out.status.success(),
        "a host file leaked into the build: {}\n{log}",
        text(&out.stderr)
    );
    // The probe's compile really failed for want of the header (not for another reason).
    assert!(log.contains("'zlib.h' file not found"), "{log}");
}

/// A build step that prints its environment, tries to reach a server of the test, and
/// compiles with `$(CFLAGS)` (make takes it from the environment when it is there).
const SEALED_MAKEFILE: &str = "\
all: sealed.wasm

sealed.wasm: sealed.c
\tenv | sort | sed 's/^/env: /'
\tbash -c 'exec 3<>/dev/tcp/127.0.0.1/$(PORT) && echo network: reached' || echo network: unreachable
\t$(CC) $(CFLAGS) sealed.c -o sealed.wasm
";

const SEALED_C: &str = "\
#ifdef BROKEN
#error the host's CFLAGS reached the build
#endif
int main(void) { return 0; }
";

#[test]
fn build_steps_see_no_host_variable_and_no_network() {
    let fixture = Fixture::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    write(
        &fixture.root().join("recipes/c/sealed-1.0.toml"),
        &LEAK_RECIPE
            .replace("name = \"leak\"", "name = \"sealed\"")
            .replace("upstream/leak", "upstream/sealed")
            .replace(
                "[\"CC={cc}\"]",
                &format!("[\"CC={{cc}}\", \"PORT={port}\"]"),
            )
            .replace("hello", "sealed"),
    );
    write(
        &fixture.root().join("upstream/sealed/Makefile"),
        SEALED_MAKEFILE,
    );
    write(&fixture.root().join("upstream/sealed/sealed.c"), SEALED_C);
    let out = fixture
        .wlmake()
        .env("CFLAGS", "-DBROKEN")
        .env("WLMAKE_HOST_PROBE", "from the host")
        .env_remove("WLMAKE_BUILD_NETWORK")
        .args(["build", "c/sealed-1.0", "--no-cache"])
        .output()
        .unwrap();
    let log = std::fs::read_to_string(
        fixture
            .root()
            .join("work/build/c/sealed-1.0/wasmtime/logs/make.log"),
    )
    .unwrap_or_default();
    assert!(out.status.success(), "{}\n{log}", text(&out.stderr));
    let env: Vec<&str> = log
        .lines()
        .filter_map(|l| l.strip_prefix("env: "))
        .collect();
    assert!(env.iter().any(|l| l.starts_with("CC=")), "{log}");
    // CFLAGS is wlmake's own (the prefix maps, docs/reproducibility.md), not the host's.
    assert!(!env.iter().any(|l| l.contains("BROKEN")), "{log}");
    assert!(
        env.iter()
            .any(|l| l.starts_with("CFLAGS=-ffile-prefix-map=")),
        "{log}"
    );
    for leaked in ["WLMAKE_HOST_PROBE=", "PKG_CONFIG_SYSROOT_DIR=", "CARGO"] {
        assert!(
            !env.iter().any(|l| l.starts_with(leaked)),
            "{leaked} leaked:\n{log}"
        );
    }
    let path = env.iter().find(|l| l.starts_with("PATH=")).unwrap();
    assert!(
        !path.contains(".cargo") && !path.contains("pyenv"),
        "{path}"
    );
    assert!(
        env.contains(&"TZ=UTC") && env.contains(&"LC_ALL=C"),
        "{log}"
    );
    // No network: the server of the test was not reached (loopback is down in the step's
    // own network namespace).
    assert!(log.contains("network: unreachable"), "{log}");
    assert!(
        matches!(listener.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "a build step connected to the test's server"
    );
}

/// zlib shared by libpng and the program: the tree shows it under both, DOT once.
const GRAPH_RECIPE: &str = r#"
[package]
language = "c"
name = "pngapp"
version = "1.0"
runtimes = ["wasmtime"]

[source]
path = "upstream/zround"

[build]
system = "make"
depends = ["lib/libpng-1.6.39", "lib/zlib-1.2.13"]

[[artifact]]
name = "pngapp"
path = "pngapp.wasm"
"#;

#[test]
fn graph_prints_a_tree_and_dot_with_identities() {
    let fixture = Fixture::new();
    fixture.copy_from_repository("recipes/lib/libpng-1.6.39.toml");
    write(
        &fixture.root().join("recipes/c/pngapp-1.0.toml"),
        GRAPH_RECIPE,
    );
    let identity = regex::Regex::new(r"[0-9a-f]{16}").unwrap();
    let mut outputs = Vec::new();
    for args in [
        ["graph", "c/pngapp-1.0"].as_slice(),
        ["graph", "c/pngapp-1.0", "--dot"].as_slice(),
    ] {
        let out = fixture.wlmake().args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        let stdout = text(&out.stdout);
        // The same library has the same identity wherever it appears.
        let zlib: std::collections::BTreeSet<&str> = stdout
            .lines()
            .filter(|l| l.contains("lib/zlib-1.2.13 ") || l.contains("\"lib/zlib-1.2.13\" ["))
            .filter_map(|l| identity.find(l).map(|m| m.as_str()))
            .collect();
        assert_eq!(zlib.len(), 1, "{stdout}");
        outputs.push(identity.replace_all(&stdout, "<identity>").into_owned());
    }
    insta::assert_snapshot!(outputs.join("\n"));
    // Graph building builds nothing.
    assert!(!fixture.root().join("work/lib").exists());
}

/// A tiny in-repository library whose Makefile fails on request and installs no `.pc`.
const TINY_RECIPE: &str = r#"
[package]
language = "lib"
name = "tiny"
version = "1.0"
runtimes = ["wasmtime"]

[source]
path = "upstream/tiny"

[build]
system = "make"
make-vars = ["CC={cc}", "AR={ar}", "PREFIX={prefix}"]

[library]
archives = ["lib/libtiny.a"]
pkg-config = ["tiny"]
"#;

const TINY_MAKEFILE: &str = "\
all: libtiny.a

libtiny.a: tiny.c
\t$(CC) -c tiny.c -o tiny.o
\t$(AR) rcs libtiny.a tiny.o

install: libtiny.a
\tmkdir -p $(PREFIX)/lib $(PREFIX)/include
\tcp libtiny.a $(PREFIX)/lib/
";

#[test]
fn a_failed_library_names_the_step_and_a_missing_pc_file_is_named() {
    let fixture = Fixture::new();
    let root = fixture.root();
    write(&root.join("recipes/lib/tiny-1.0.toml"), TINY_RECIPE);
    write(&root.join("upstream/tiny/Makefile"), TINY_MAKEFILE);
    write(
        &root.join("upstream/tiny/tiny.c"),
        "int tiny(void) { return 1 }\n",
    );
    let out = fixture
        .wlmake()
        .args(["build", "lib/tiny-1.0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("library `lib/tiny-1.0`: step `make` failed"),
        "{stderr}"
    );
    assert!(
        stderr.contains("expected ';'"),
        "the log tail is shown: {stderr}"
    );

    write(
        &root.join("upstream/tiny/tiny.c"),
        "int tiny(void) { return 1; }\n",
    );
    let out = fixture
        .wlmake()
        .args(["build", "lib/tiny-1.0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("library `lib/tiny-1.0` built but its prefix")
            && stderr.contains("lacks `lib/pkgconfig/tiny.pc`"),
        "{stderr}"
    );
    assert!(stderr.contains("hint: "), "{stderr}");
}

/// A library that waits (bounded) for its sibling to start: built one after the other,
/// the first one times out and the build fails.
fn waiting_library(name: &str, other: &str) -> (String, String) {
    let recipe = format!(
        "[package]\nlanguage = \"lib\"\nname = \"{name}\"\nversion = \"1.0\"\nruntimes = [\"wasmtime\"]\n\n\
         [source]\npath = \"upstream/{name}\"\n\n[build]\nsystem = \"make\"\n\
         make-vars = [\"CC={{cc}}\", \"AR={{ar}}\", \"PREFIX={{prefix}}\", \"MARKS={{repo}}/marks\"]\n\n\
         [library]\narchives = [\"lib/lib{name}.a\"]\ninstall-targets = [\"install\"]\n"
    );
    let makefile = format!(
        "lib{name}.a:\n\
         \ttouch $(MARKS)/{name}\n\
         \ti=0; while [ ! -e $(MARKS)/{other} ]; do i=$$((i+1)); [ $$i -lt 600 ] || exit 1; sleep 0.05; done\n\
         \techo 'int {name}(void) {{ return 1; }}' > {name}.c\n\
         \t$(CC) -c {name}.c -o {name}.o\n\
         \t$(AR) rcs lib{name}.a {name}.o\n\n\
         install: lib{name}.a\n\
         \tmkdir -p $(PREFIX)/lib\n\
         \tcp lib{name}.a $(PREFIX)/lib/\n"
    );
    (recipe, makefile)
}

#[test]
fn independent_libraries_build_at_the_same_time() {
    let fixture = Fixture::new();
    let root = fixture.root();
    std::fs::create_dir_all(root.join("marks")).unwrap();
    for (name, other) in [("left", "right"), ("right", "left")] {
        let (recipe, makefile) = waiting_library(name, other);
        write(&root.join(format!("recipes/lib/{name}-1.0.toml")), &recipe);
        write(&root.join(format!("upstream/{name}/Makefile")), &makefile);
    }
    // `both` needs the two; they need each other only to run at the same time.
    let (recipe, _) = waiting_library("both", "both");
    let recipe = recipe.replace(
        "system = \"make\"\n",
        "system = \"make\"\ndepends = [\"lib/left-1.0\", \"lib/right-1.0\"]\n",
    );
    write(&root.join("recipes/lib/both-1.0.toml"), &recipe);
    let (_, makefile) = waiting_library("both", "both");
    write(&root.join("upstream/both/Makefile"), &makefile);

    // --no-cache: the machine-wide store may hold these libraries from an earlier run
    // (their identities do not depend on the checkout); this test watches the build.
    let out = fixture
        .wlmake()
        .args(["build", "lib/both-1.0", "-j2", "--no-cache"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    for name in ["left", "right", "both"] {
        let dirs = fixture.library_dirs(name);
        assert_eq!(dirs.len(), 1, "{name}: {dirs:?}");
        let prefix = root
            .join("work/lib")
            .join(name)
            .join(&dirs[0])
            .join("prefix");
        assert!(prefix.join(format!("lib/lib{name}.a")).is_file());
    }
}

const OPENSSL_RECIPE: &str = "recipes/lib/openssl-3.0.20.toml";
const OPENSSL_PATCHES: &str = "patches/lib/openssl/3.0.20";

/// The version and the recorded compiler line, SHA-256 of "abc" (FIPS 180-2's example),
/// AES-256-GCM against a known answer (the GCM specification's test case 14: zero key,
/// IV and block) and a round trip with a tampered tag refused, and RAND_bytes from the
/// runtime's entropy.
const OPENSSL_CHECK_C: &str = r#"#include <stdio.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

static void hex(const char *label, const unsigned char *bytes, int len) {
    printf("%s ", label);
    for (int i = 0; i < len; i++) printf("%02x", bytes[i]);
    printf("\n");
}

/* Returns the ciphertext length, or -1. */
static int gcm(int encrypt, const unsigned char *key, const unsigned char *iv,
               const unsigned char *in, int len, unsigned char *out, unsigned char *tag) {
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, total = -1;
    if (ctx != NULL
        && EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, iv, encrypt) == 1
        && EVP_CipherUpdate(ctx, out, &n, in, len) == 1
        && (encrypt || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1)) {
        int m = 0;
        if (EVP_CipherFinal_ex(ctx, out + n, &m) == 1
            && (!encrypt || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1))
            total = n + m;
    }
    EVP_CIPHER_CTX_free(ctx);
    return total;
}

int main(void) {
    unsigned char digest[32];
    unsigned int digest_len = 0;
    if (EVP_Digest("abc", 3, digest, &digest_len, EVP_sha256(), NULL) != 1) return 2;
    printf("%s\n", OpenSSL_version(OPENSSL_VERSION));
    /* The recorded compiler line names no folder of the build machine (reproducible). */
    const char *cflags = OpenSSL_version(OPENSSL_CFLAGS);
    printf("%s\n", strncmp(cflags, "compiler: ", 10) == 0 && strchr(cflags, '/') == NULL
                       ? "compiler line without folders" : cflags);
    hex("sha256(abc)", digest, (int)digest_len);

    unsigned char key[32] = {0}, iv[12] = {0}, zero[16] = {0}, block[16], tag[16];
    if (gcm(1, key, iv, zero, 16, block, tag) != 16) return 3;
    hex("gcm-ciphertext", block, 16);
    hex("gcm-tag", tag, 16);

    const char *text = "WebAssembly on WASI, encrypted with AES-256-GCM";
    int len = (int)strlen(text);
    unsigned char sealed[64], opened[64], sealed_tag[16];
    if (RAND_bytes(key, sizeof key) != 1 || RAND_bytes(iv, sizeof iv) != 1) return 4;
    if (gcm(1, key, iv, (const unsigned char *)text, len, sealed, sealed_tag) != len) return 5;
    if (memcmp(sealed, text, len) == 0) return 6;
    if (gcm(0, key, iv, sealed, len, opened, sealed_tag) != len) return 7;
    if (memcmp(opened, text, len) != 0) return 8;
    sealed_tag[0] ^= 1;
    if (gcm(0, key, iv, sealed, len, opened, sealed_tag) != -1) return 9;
    printf("gcm round trip: %d bytes, tampered tag refused\n", len);

    unsigned char first[32], second[32], none[32] = {0};
    if (RAND_bytes(first, 32) != 1 || RAND_bytes(second, 32) != 1) return 10;
    if (memcmp(first, second, 32) == 0 || memcmp(first, none, 32) == 0) return 11;
    printf("rand: 2 x 32 bytes, different\n");
    return 0;
}
"#;

/// pkg-config finds libcrypto in the dependency's prefix; the program links what the
/// recipe's comment says programs need.
const OPENSSL_CHECK_MAKEFILE: &str = "\
all: sslcheck.wasm

sslcheck.wasm: sslcheck.c
\ttest \"$$(pkg-config --modversion libcrypto)\" = 3.0.20
\t$(CC) -O2 $$(pkg-config --cflags libcrypto) sslcheck.c \
$$(pkg-config --libs --static libcrypto) -lwasi-emulated-getpid -o sslcheck.wasm
";

const OPENSSL_CHECK_RECIPE: &str = r#"
[package]
language = "c"
name = "sslcheck"
version = "1.0"
runtimes = ["wasmtime"]

[source]
path = "upstream/sslcheck"

[build]
system = "make"
depends = ["lib/openssl-3.0.20"]
make-vars = ["CC={cc}"]

[[artifact]]
name = "sslcheck"
path = "sslcheck.wasm"

[[test]]
name = "crypto"
artifact = "sslcheck"
expect-stdout = """
OpenSSL 3.0.20 7 Apr 2026
compiler line without folders
sha256(abc) ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
gcm-ciphertext cea7403d4d606b6e074ec5d3baf39d18
gcm-tag d0d1c8a799996bf0265b98b5d48ab919
gcm round trip: 47 bytes, tampered tag refused
rand: 2 x 32 bytes, different
"""
"#;

impl Fixture {
    /// The real OpenSSL recipe and its patches, and a program that needs it.
    fn with_openssl(self) -> Self {
        self.copy_from_repository(OPENSSL_RECIPE);
        self.copy_from_repository(OPENSSL_PATCHES);
        let root = self.root();
        write(
            &root.join("recipes/c/sslcheck-1.0.toml"),
            OPENSSL_CHECK_RECIPE,
        );
        write(
            &root.join("upstream/sslcheck/Makefile"),
            OPENSSL_CHECK_MAKEFILE,
        );
        write(&root.join("upstream/sslcheck/sslcheck.c"), OPENSSL_CHECK_C);
        self
    }
}

/// OpenSSL built from its recipe (or taken from the machine's build store: building it
/// takes minutes, and its identity does not depend on the checkout), a program linked
/// against the prefix through pkg-config, run on the real Wasmtime.
#[test]
fn openssl_hashes_encrypts_and_draws_random_bytes_on_wasmtime() {
    let fixture = Fixture::new().with_openssl();
    let out = fixture
        .wlmake()
        .timeout(std::time::Duration::from_secs(1800))
        .args(["build", "c/sslcheck-1.0", "-j2", "--force"])
        .output()
        .unwrap();
    assert!(out.status.success(), "build failed: {}", text(&out.stderr));
    let manifest = fixture.manifest("c/sslcheck-1.0");
    assert_eq!(manifest["dependencies"][0]["id"], "lib/openssl-3.0.20");
    fixture.assert_smoke_tests_pass("c/sslcheck-1.0", None);

    // The graph shows the library under the program.
    let out = fixture
        .wlmake()
        .args(["graph", "c/sslcheck-1.0"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("lib/openssl-3.0.20 "),
        "{}",
        text(&out.stdout)
    );
}

/// A recipe that maps `--with-openssl` to the library (as a PHP recipe's
/// `[build.requires]` does) and uses the flag without depending on it fails lint at the
/// flag; depending on the OpenSSL recipe satisfies it.
#[test]
fn with_openssl_without_the_library_fails_lint() {
    let fixture = Fixture::new().with_openssl();
    let app = |depends: &str| {
        format!(
            "[package]\nlanguage = \"c\"\nname = \"tlsapp\"\nversion = \"1.0\"\nruntimes = [\"wasmtime\"]\n\n\
             [source]\npath = \"upstream/sslcheck\"\n\n[build]\ndepends = [{depends}]\n\
             configure-args = [\"--with-openssl\"]\n\n[build.requires]\n\"--with-openssl\" = \"openssl\"\n\n\
             [[artifact]]\nname = \"tlsapp\"\npath = \"tlsapp.wasm\"\n"
        )
    };
    let file = fixture.root().join("recipes/c/tlsapp-1.0.toml");
    write(&file, &app(""));
    let out = fixture.wlmake().arg("lint").output().unwrap();
    assert!(!out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "recipes/c/tlsapp-1.0.toml:12:19: `--with-openssl` needs library `openssl`, which is not among the dependencies for wasmtime"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("hint: "), "{stderr}");

    write(&file, &app("\"lib/openssl-3.0.20\""));
    let out = fixture.wlmake().arg("lint").output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
}
