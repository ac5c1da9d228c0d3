//! `wlmake build --container podman` for real: PHP 7.4.33 for WasmEdge built inside the
//! builder image (scripts/container-image makes it from this machine's own Debian
//! packages; no image registry is needed), then run on the host.

use std::path::Path;
use std::process::Output;

const PHP: &str = "php/php-7.4.33";

fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// wlmake in the repository, with the machine's source cache (the container gets it
/// mounted: the sources the host's builds fetched) and `dir`'s output and work folders.
fn wlmake(dir: &Path) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_wlmake"));
    command
        .current_dir(repo_root())
        .env_remove("WLMAKE_REPO")
        .env_remove("WLMAKE_CONTAINER_IMAGE")
        .env_remove("WLMAKE_CACHE_URL")
        .env_remove("WLMAKE_CACHE_PUSH")
        .env("WLMAKE_OUTPUT_DIR", dir.join("out"))
        .env("WLMAKE_WORK_DIR", dir.join("work"));
    command
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn artifact_sha256(build: &Output) -> String {
    let json: serde_json::Value = serde_json::from_slice(&build.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", text(&build.stdout)));
    json["artifacts"]
        .as_array()
        .and_then(|artifacts| artifacts.iter().find(|a| a["name"] == "php"))
        .and_then(|php| php["sha256"].as_str())
        .unwrap_or_else(|| panic!("no php artifact in {json}"))
        .to_string()
}

#[test]
#[ignore = "needs podman with the builder image: scripts/container-image"]
fn php_built_in_the_podman_container_runs_on_the_host() {
    let temp = tempfile::tempdir().unwrap();
    let build = wlmake(temp.path())
        .args([
            "build",
            PHP,
            "--runtime",
            "wasmedge",
            "--container",
            "podman",
        ])
        .args(["--no-cache", "--jobs", "2"])
        .output()
        .unwrap();
    let stderr = text(&build.stderr);
    assert!(build.status.success(), "{stderr}");
    // The command line the build ran shows the settings this machine needs.
    assert!(stderr.contains(" run --rm --init "), "{stderr}");
    let wasm = temp.path().join("out").join(PHP).join("wasmedge/php.wasm");
    assert!(wasm.is_file(), "no {}\n{stderr}", wasm.display());

    let run = wlmake(temp.path())
        .env("WLMAKE_WASMEDGE", crate::support::wasmedge())
        .args(["run", PHP, "--runtime", "wasmedge", "--", "-r", "echo 1+1;"])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", text(&run.stderr));
    assert_eq!(text(&run.stdout), "2");

    // The same recipe built on the host (from the build store when the end-to-end step
    // made it): a reproducible build gives the same bytes in the container
    // (docs/reproducibility.md).
    let host = std::process::Command::new(env!("CARGO_BIN_EXE_wlmake"))
        .current_dir(repo_root())
        .env_remove("WLMAKE_OUTPUT_DIR")
        .env_remove("WLMAKE_WORK_DIR")
        .args(["-q", "build", PHP, "--runtime", "wasmedge", "--json"])
        .output()
        .unwrap();
    assert!(host.status.success(), "{}", text(&host.stderr));
    let container = crate::support::sha256_hex(&std::fs::read(&wasm).unwrap());
    let host = artifact_sha256(&host);
    eprintln!("php.wasm sha256: container {container}, host {host}");
    assert_eq!(
        container, host,
        "the container's php.wasm differs from the host's"
    );
}
