//! Release tooling for real: `wlmake matrix` on the repository's recipes and on a
//! throw-away repository, `wlmake release-assets` on outputs made by real `wlmake build`
//! runs (real clang, real make) and checked with the real `sha256sum -c`, and
//! `wlmake build --container` up to the engine: its exact command line and the error
//! when no engine works.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use wlmake::container::{ContainerBuild, DEFAULT_IMAGE, Engine, EngineSettings, Limit};
use wlmake::recipe::Repository;
use wlmake::source::Mirror;

fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn wlmake_in(dir: &Path) -> Command {
    let mut command = Command::cargo_bin("wlmake").unwrap();
    command
        .current_dir(dir)
        .env_remove("WLMAKE_REPO")
        .env_remove("WLMAKE_WORK_DIR")
        .env_remove("WLMAKE_OUTPUT_DIR")
        .env_remove("WLMAKE_MIRROR")
        .env_remove("WLMAKE_CONTAINER_IMAGE")
        .env("WLMAKE_CACHE_DIR", dir.join("cache"))
        .env("WLMAKE_APT", "0")
        .env("COLUMNS", "100")
        .timeout(std::time::Duration::from_secs(300));
    command
}

fn run(command: &mut Command) -> (i32, String, String) {
    let out = command.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A throw-away repository: a C program with two artifacts for both runtimes, and a
/// library recipe (never a release target).
struct Fixture {
    dir: tempfile::TempDir,
}

const GREET_RECIPE: &str = r#"
[package]
language = "c"
name = "greet"
version = "1.0"
runtimes = ["wasmtime", "wasmedge"]

[source]
path = "upstream/greet"

[build]
system = "make"
make-vars = ["CC={cc}"]

[[artifact]]
name = "greet"
path = "greet.wasm"

[[artifact]]
name = "greet-loud"
path = "greet-loud.wasm"

[[artifact]]
name = "greetings"
path = "greetings"
kind = "folder"
mount = "/usr/share/greetings"
"#;

const GREET_MAKEFILE: &str = "all: greet.wasm greet-loud.wasm greetings\n\ngreet.wasm: greet.c\n\t$(CC) -O1 greet.c -o $@\n\ngreet-loud.wasm: greet.c\n\t$(CC) -O1 -DLOUD greet.c -o $@\n\ngreetings:\n\tmkdir -p greetings/more\n\techo hello > greetings/en.txt\n\techo hallo > greetings/more/de.txt\n";

const GREET_C: &str = r#"#include <stdio.h>
int main(void) {
#ifdef LOUD
    puts("HELLO FROM A RELEASE ASSET");
#else
    puts("hello from a release asset");
#endif
    return 0;
}
"#;

const STUB_RECIPE: &str = r#"
[package]
language = "lib"
name = "stub"
version = "1.0"
runtimes = ["wasmtime"]

[source]
path = "upstream/stub"

[build]
system = "make"
make-vars = ["CC={cc}", "AR={ar}"]

[[artifact]]
name = "libstub"
path = "libstub.a"
"#;

const STUB_MAKEFILE: &str =
    "all: libstub.a\n\nlibstub.a: stub.c\n\t$(CC) -O1 -c stub.c -o stub.o\n\t$(AR) rcs $@ stub.o\n";

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(&root.join("recipes/c/greet-1.0.toml"), GREET_RECIPE);
        write(&root.join("upstream/greet/Makefile"), GREET_MAKEFILE);
        write(&root.join("upstream/greet/greet.c"), GREET_C);
        write(&root.join("recipes/lib/stub-1.0.toml"), STUB_RECIPE);
        write(&root.join("upstream/stub/Makefile"), STUB_MAKEFILE);
        write(
            &root.join("upstream/stub/stub.c"),
            "int stub(void) { return 1; }\n",
        );
        Self { dir }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn wlmake(&self) -> Command {
        wlmake_in(self.root())
    }

    /// Really builds every recipe for every runtime.
    fn build_all(&self) {
        for (recipe, runtime) in [
            ("c/greet-1.0", "wasmtime"),
            ("c/greet-1.0", "wasmedge"),
            ("lib/stub-1.0", "wasmtime"),
        ] {
            let (code, _, stderr) =
                run(self
                    .wlmake()
                    .args(["build", recipe, "--runtime", runtime, "-q"]));
            assert_eq!(code, 0, "build {recipe} for {runtime} failed:\n{stderr}");
        }
    }

    fn output(&self, id: &str, runtime: &str) -> PathBuf {
        self.root().join("build-output").join(id).join(runtime)
    }
}

fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// No `.release-assets-*` temp folder may be left beside the release folder.
fn assert_no_leftovers(parent: &Path) {
    let left: Vec<_> = file_names(parent)
        .into_iter()
        .filter(|name| name.starts_with(".release-assets-"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn matrix_json_is_every_release_recipe_times_its_runtimes() {
    let (code, stdout, stderr) = run(wlmake_in(repo_root()).args(["matrix", "--json"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.lines().count(), 1, "one line for $GITHUB_OUTPUT");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let recipes = Repository::at(repo_root().to_path_buf())
        .load_all()
        .unwrap();
    let expected: Vec<serde_json::Value> = recipes
        .iter()
        .filter(|r| r.language != "lib")
        .flat_map(|r| {
            r.runtimes.iter().map(move |runtime| {
                serde_json::json!({
                    "recipe": r.id.0, "language": r.language, "name": r.name,
                    "version": r.version, "runtime": runtime,
                })
            })
        })
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(json, serde_json::json!({ "include": expected }));
    assert!(
        json["include"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["recipe"] == "php/php-7.4.32" && e["runtime"] == "wasmedge"),
        "{stdout}"
    );
}

#[test]
fn matrix_filters_by_language_runtime_and_tag() {
    let fixture = Fixture::new();
    let (code, stdout, stderr) = run(fixture.wlmake().args(["matrix", "--json"]));
    assert_eq!(code, 0, "{stderr}");
    insta::assert_snapshot!("matrix_all", stdout);
    let (code, stdout, _) = run(fixture
        .wlmake()
        .args(["matrix", "--json", "--language", "lib"]));
    assert_eq!(code, 0);
    insta::assert_snapshot!("matrix_lib", stdout);
    let (code, stdout, _) = run(fixture.wlmake().args([
        "matrix",
        "--json",
        "--runtime",
        "wasmedge",
        "--tag",
        "c/1.0+20250101-0123abc",
    ]));
    assert_eq!(code, 0);
    insta::assert_snapshot!("matrix_tag_wasmedge", stdout);
    let (code, stdout, _) = run(fixture.wlmake().arg("matrix"));
    assert_eq!(code, 0);
    insta::assert_snapshot!("matrix_table", stdout);
}

#[test]
fn matrix_refuses_bad_selections() {
    let (code, _, stderr) = run(wlmake_in(repo_root()).args(["matrix", "--tag", "php-7.4.32"]));
    assert_eq!(code, 2);
    insta::assert_snapshot!("matrix_bad_tag", stderr);
    let (code, _, stderr) =
        run(wlmake_in(repo_root()).args(["matrix", "--tag", "php/7.4.99+20250101-0123abc"]));
    assert_eq!(code, 2);
    insta::assert_snapshot!("matrix_tag_without_recipe", stderr);
    let (code, _, stderr) = run(wlmake_in(repo_root()).args(["matrix", "--runtime", "nodejs"]));
    assert_eq!(code, 2, "{stderr}");
    let (code, _, stderr) = run(wlmake_in(repo_root()).args(["matrix", "--language", "cobol"]));
    assert_eq!(code, 1);
    assert!(stderr.contains("the release matrix is empty"), "{stderr}");
}

#[test]
fn release_assets_of_real_builds_pass_sha256sum_and_run() {
    let fixture = Fixture::new();
    fixture.build_all();
    let out_dir = fixture.root().join("dist");
    let (code, stdout, stderr) = run(fixture.wlmake().args(["release-assets", "dist"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        file_names(&out_dir),
        [
            "SHA256SUMS",
            "greet-1.0-wasmedge.manifest.json",
            "greet-1.0-wasmedge.sbom.spdx.json",
            "greet-1.0-wasmedge.wasm",
            "greet-1.0-wasmtime.manifest.json",
            "greet-1.0-wasmtime.sbom.spdx.json",
            "greet-1.0-wasmtime.wasm",
            "greet-loud-1.0-wasmedge.wasm",
            "greet-loud-1.0-wasmtime.wasm",
            "greetings-1.0-wasmedge.tar.gz",
            "greetings-1.0-wasmtime.tar.gz",
        ],
        "lib/ outputs are no release assets; stdout:\n{stdout}"
    );
    assert_no_leftovers(fixture.root());

    // Every file is a byte copy of its build output, and SHA256SUMS says so.
    let built = fixture.output("c/greet-1.0", "wasmedge");
    assert_eq!(
        std::fs::read(out_dir.join("greet-loud-1.0-wasmedge.wasm")).unwrap(),
        std::fs::read(built.join("greet-loud.wasm")).unwrap()
    );
    assert_eq!(
        std::fs::read(out_dir.join("greet-1.0-wasmedge.manifest.json")).unwrap(),
        std::fs::read(built.join("manifest.json")).unwrap()
    );
    let sums = std::fs::read_to_string(out_dir.join("SHA256SUMS")).unwrap();
    let names: Vec<&str> = sums.lines().map(|l| &l[66..]).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "sorted by name");
    assert_eq!(names.len(), 10);
    assert!(sums.lines().all(|l| l.as_bytes()[64..66] == *b"  "));
    let check = std::process::Command::new("sha256sum")
        .args(["-c", "SHA256SUMS"])
        .current_dir(&out_dir)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert_eq!(report.lines().filter(|l| l.ends_with(": OK")).count(), 10);

    // A folder artifact is an archive of its files under one folder of its name, the
    // same bytes from the same files (no times, owners or gzip name in it).
    let archive = out_dir.join("greetings-1.0-wasmtime.tar.gz");
    let unpacked = fixture.root().join("unpacked");
    std::fs::create_dir(&unpacked).unwrap();
    let tar = std::process::Command::new("tar")
        .arg("-xzf")
        .arg(&archive)
        .arg("-C")
        .arg(&unpacked)
        .output()
        .unwrap();
    assert!(
        tar.status.success(),
        "{}",
        String::from_utf8_lossy(&tar.stderr)
    );
    let built_folder = fixture.output("c/greet-1.0", "wasmtime").join("greetings");
    for file in ["en.txt", "more/de.txt"] {
        assert_eq!(
            std::fs::read(unpacked.join("greetings").join(file)).unwrap(),
            std::fs::read(built_folder.join(file)).unwrap(),
            "{file}"
        );
    }
    let listing = std::process::Command::new("tar")
        .args(["-tzvf"])
        .arg(&archive)
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout);
    assert!(
        listing
            .lines()
            .all(|l| l.starts_with("-rw-r--r-- 0/0") && l.contains("1970-01-01")),
        "{listing}"
    );
    assert_eq!(
        std::fs::read(&archive).unwrap(),
        std::fs::read(out_dir.join("greetings-1.0-wasmedge.tar.gz")).unwrap(),
        "the same files make the same archive"
    );

    // The released module is the program: run it on the real Wasmtime.
    let wasmtime = wlmake::runtime::Runtime::find(wlmake::runtime::Kind::Wasmtime).unwrap();
    let ran = std::process::Command::new(&wasmtime.binary)
        .arg("run")
        .arg(out_dir.join("greet-loud-1.0-wasmtime.wasm"))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&ran.stdout),
        "HELLO FROM A RELEASE ASSET\n"
    );

    // A second run refuses the non-empty folder; --force replaces it whole.
    std::fs::write(out_dir.join("stale.txt"), "old").unwrap();
    let (code, _, stderr) = run(fixture.wlmake().args(["release-assets", "dist"]));
    assert_eq!(code, 1);
    assert!(
        stderr.contains("is not empty") && stderr.contains("hint: pass --force"),
        "{stderr}"
    );
    assert!(out_dir.join("stale.txt").exists());
    let (code, _, stderr) =
        run(fixture
            .wlmake()
            .args(["release-assets", "dist", "--force", "--runtime", "wasmtime"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        file_names(&out_dir),
        [
            "SHA256SUMS",
            "greet-1.0-wasmtime.manifest.json",
            "greet-1.0-wasmtime.sbom.spdx.json",
            "greet-1.0-wasmtime.wasm",
            "greet-loud-1.0-wasmtime.wasm",
            "greetings-1.0-wasmtime.tar.gz",
        ]
    );
    assert_no_leftovers(fixture.root());

    // Library outputs only when asked for; they have no `.wasm` artifact to release.
    let (code, _, stderr) =
        run(fixture
            .wlmake()
            .args(["release-assets", "libs", "--language", "lib"]));
    assert_eq!(code, 1);
    assert!(stderr.contains("nothing to release"), "{stderr}");
    assert!(!fixture.root().join("libs").exists());
}

#[test]
fn release_assets_refuses_a_tampered_artifact() {
    let fixture = Fixture::new();
    fixture.build_all();
    // One flipped byte in a built module, after its manifest was written.
    let tampered = fixture
        .output("c/greet-1.0", "wasmtime")
        .join("greet-loud.wasm");
    let mut bytes = std::fs::read(&tampered).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    std::fs::write(&tampered, bytes).unwrap();
    let (code, _, stderr) = run(fixture.wlmake().args(["release-assets", "dist"]));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(&format!("artifact `{}`", tampered.display()))
            && stderr.contains("does not match its manifest"),
        "{stderr}"
    );
    assert!(stderr.contains("hint: rebuild it"), "{stderr}");
    assert!(
        !fixture.root().join("dist").exists(),
        "nothing half-written"
    );
    assert_no_leftovers(fixture.root());
}

#[test]
fn release_assets_refuses_a_folder_artifact_changed_after_the_build() {
    let fixture = Fixture::new();
    fixture.build_all();
    let folder = fixture.output("c/greet-1.0", "wasmedge").join("greetings");
    std::fs::write(folder.join("more/de.txt"), "guten tag\n").unwrap();
    let (code, _, stderr) = run(fixture.wlmake().args(["release-assets", "dist"]));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(&format!("artifact `{}`", folder.display()))
            && stderr.contains("does not match its manifest"),
        "{stderr}"
    );
    assert!(!fixture.root().join("dist").exists());
    assert_no_leftovers(fixture.root());
}

#[test]
fn release_assets_reads_outputs_from_wlmake_output_dir() {
    let fixture = Fixture::new();
    let outputs = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(fixture
        .wlmake()
        .env("WLMAKE_OUTPUT_DIR", outputs.path())
        .args(["build", "c/greet-1.0", "-q"]));
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = run(fixture
        .wlmake()
        .env("WLMAKE_OUTPUT_DIR", outputs.path())
        .args(["release-assets", "dist", "--tag", "c/1.0+20250101-0123abc"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        file_names(&fixture.root().join("dist")),
        [
            "SHA256SUMS",
            "greet-1.0-wasmtime.manifest.json",
            "greet-1.0-wasmtime.sbom.spdx.json",
            "greet-1.0-wasmtime.wasm",
            "greet-loud-1.0-wasmtime.wasm",
            "greetings-1.0-wasmtime.tar.gz",
        ]
    );
    // Nothing built in the default place.
    let (code, _, stderr) = run(fixture.wlmake().args(["release-assets", "dist2"]));
    assert_eq!(code, 1);
    assert!(stderr.contains("nothing to release"), "{stderr}");
}

fn container_spec(engine: Engine) -> ContainerBuild {
    ContainerBuild {
        engine,
        settings: EngineSettings::default(),
        image: DEFAULT_IMAGE.into(),
        uid: 1000,
        gid: 1000,
        repo: "/home/dev/wlmake".into(),
        cache: "/home/dev/.cache/wlmake".into(),
        output_dir: None,
        work_dir: None,
        mirrors: Vec::new(),
        use_apt: true,
        recipe: "php/php-7.4.32".into(),
        runtime: wlmake::runtime::Kind::Wasmedge,
        force: false,
        jobs: None,
        quiet: false,
        verbose: 0,
        no_cache: false,
        cache_url: None,
        cache_push: false,
    }
}

#[test]
fn container_command_line_docker() {
    let command = container_spec(Engine::Docker).command().unwrap();
    insta::assert_snapshot!("container_docker", command.display());
}

#[test]
fn container_command_line_podman_with_outputs_mirrors_and_flags() {
    let mut spec = container_spec(Engine::Podman);
    // What a Debian 12 machine with the hybrid cgroup layout and no systemd needs.
    spec.settings = EngineSettings {
        oci_runtime: Some("runc".into()),
        cgroupfs: true,
        nofile: Some(Limit {
            soft: 20000,
            hard: 20000,
        }),
        nproc: Some(Limit {
            soft: 32768,
            hard: 32768,
        }),
    };
    spec.output_dir = Some("/srv/release/outputs".into());
    spec.mirrors = vec![
        Mirror::Dir("/srv/mirror".into()),
        Mirror::Url("http://127.0.0.1:8080/archives".into()),
    ];
    spec.use_apt = false;
    spec.force = true;
    spec.jobs = Some(2);
    spec.quiet = true;
    spec.no_cache = true;
    spec.cache_url = Some("http://127.0.0.1:8081/cache".into());
    spec.cache_push = true;
    let command = spec.command().unwrap();
    insta::assert_snapshot!("container_podman", command.display());
}

/// A folder for PATH holding only the given real programs (symlinks to them).
fn path_with(programs: &[&Path]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for program in programs {
        std::os::unix::fs::symlink(program, dir.path().join(program.file_name().unwrap())).unwrap();
    }
    dir
}

#[test]
fn container_build_without_any_engine_says_why() {
    let path = path_with(&[]);
    let (code, stdout, stderr) = run(wlmake_in(repo_root()).env("PATH", path.path()).args([
        "build",
        "php/php-7.4.32",
        "--runtime",
        "wasmedge",
        "--container",
    ]));
    // No engine is a missing tool (exit code 4).
    assert_eq!(code, 4, "{stdout}");
    insta::assert_snapshot!("container_no_engine", stderr);
    let (code, _, stderr) = run(wlmake_in(repo_root()).env("PATH", path.path()).args([
        "build",
        "php/php-7.4.32",
        "--runtime",
        "wasmedge",
        "--container",
        "podman",
    ]));
    assert_eq!(code, 4);
    insta::assert_snapshot!("container_podman_missing", stderr);
}

/// Needs the real `docker` client (no daemon): scripts/test-all runs it with
/// `--include-ignored` where one is on PATH.
#[test]
#[ignore = "needs a docker client on PATH (no daemon needed)"]
fn container_build_with_a_docker_client_but_no_daemon() {
    let docker = wlmake::process::which("docker").expect("no `docker` client on PATH");
    let path = path_with(&[&docker]);
    let socket = path.path().join("no-daemon.sock");
    let (code, _, stderr) = run(wlmake_in(repo_root())
        .env("PATH", path.path())
        .env("DOCKER_HOST", format!("unix://{}", socket.display()))
        .args([
            "build",
            "php/php-7.4.32",
            "--runtime",
            "wasmedge",
            "--container",
        ]));
    assert_eq!(code, 4, "{stderr}");
    assert!(
        stderr.starts_with("error: no container engine works here: docker: ")
            && stderr.contains(&socket.display().to_string())
            && stderr.contains("; podman: not found on PATH"),
        "{stderr}"
    );
    assert!(stderr.contains("hint: install Docker"), "{stderr}");
}

#[test]
fn container_option_takes_only_known_engines() {
    let (code, _, stderr) =
        run(wlmake_in(repo_root()).args(["build", "php/php-7.4.32", "--container", "lxc"]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("[possible values: docker, podman]"),
        "{stderr}"
    );
}
