//! `wlmake build --precompile` on a real PHP build: Wasmtime's `.cwasm` beside the
//! `.wasm`, listed with the runtime's version; `wlmake run` uses it while it matches and
//! says why when it does not (another Wasmtime); release assets carry it under a name
//! with the Wasmtime version; a WasmEdge without an ahead-of-time
//! compiler is reported and skipped. Each test publishes into its own output folder
//! (the build itself comes from the build store).

use std::path::Path;
use std::process::Output;

use crate::server::{Flavor, ensure_built, wasmtime_36, wlmake};

const PHP: &str = "php/php-7.4.33";

fn in_output(out: &Path, args: &[&str]) -> Output {
    wlmake()
        .env("WLMAKE_OUTPUT_DIR", out)
        .env_remove("WLMAKE_WASMTIME")
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn listed(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("precompiled.json")).unwrap()).unwrap()
}

#[test]
fn a_precompiled_php_runs_while_it_matches_the_wasmtime() {
    ensure_built(PHP, Flavor::Wasmtime);
    let temp = tempfile::tempdir().unwrap();
    let out = temp.path().join("out");
    let built = in_output(
        &out,
        &["build", PHP, "--runtime", "wasmtime", "--precompile"],
    );
    assert!(built.status.success(), "{}", text(&built.stderr));
    let dir = out.join("php/php-7.4.33/wasmtime");
    let stdout = text(&built.stdout);
    assert!(
        stdout.contains(&format!("{}", dir.join("php.cwasm").display())),
        "{stdout}"
    );

    // The list ties each compiled file to its module, the Wasmtime and the machine.
    let list = listed(&dir);
    let entries = list["precompiled"].as_array().unwrap();
    let names: Vec<_> = entries
        .iter()
        .map(|e| e["artifact"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["php", "php-cgi"]);
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    let php = &entries[0];
    assert_eq!(php["artifact_sha256"], manifest["artifacts"][0]["sha256"]);
    assert!(
        php["runtime_version"]
            .as_str()
            .unwrap()
            .starts_with("wasmtime 49."),
        "{php}"
    );
    assert_eq!(
        php["target"],
        format!("{}-{}", std::env::consts::ARCH, std::env::consts::OS)
    );
    let cwasm = std::fs::read(dir.join("php.cwasm")).unwrap();
    assert_eq!(php["sha256"], crate::support::sha256_hex(&cwasm));
    assert!(cwasm.starts_with(b"\x7fELF"), "a .cwasm is an ELF image");

    // Release assets carry it, named with the Wasmtime version and the machine, checked
    // against the list like an artifact against its manifest.
    let version = php["runtime_version"]
        .as_str()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_string();
    let dist = temp.path().join("dist");
    let released = in_output(&out, &["-q", "release-assets", dist.to_str().unwrap()]);
    assert!(released.status.success(), "{}", text(&released.stderr));
    let asset = format!(
        "php-7.4.33-wasmtime.wasmtime-{version}-{}.cwasm",
        php["target"].as_str().unwrap()
    );
    assert_eq!(std::fs::read(dist.join(&asset)).unwrap(), cwasm);
    assert_eq!(
        std::fs::read(dist.join("php-7.4.33-wasmtime.precompiled.json")).unwrap(),
        std::fs::read(dir.join("precompiled.json")).unwrap()
    );
    let sums = std::fs::read_to_string(dist.join("SHA256SUMS")).unwrap();
    assert!(
        sums.contains(&format!("{}  {asset}\n", php["sha256"].as_str().unwrap())),
        "{sums}"
    );

    // A run takes the .cwasm (the exec'd command names it) and prints what PHP says.
    let ran = in_output(&out, &["-v", "run", PHP, "--", "-r", "echo PHP_VERSION;"]);
    assert_eq!(text(&ran.stdout), "7.4.33", "{}", text(&ran.stderr));
    let stderr = text(&ran.stderr);
    assert!(
        stderr.contains("--allow-precompiled") && stderr.contains("php.cwasm"),
        "{stderr}"
    );

    // Another Wasmtime never runs it: the run says why and runs the .wasm.
    let older = wlmake()
        .env("WLMAKE_OUTPUT_DIR", &out)
        .env("WLMAKE_WASMTIME", wasmtime_36())
        .args(["-v", "run", PHP, "--", "-r", "echo PHP_VERSION;"])
        .output()
        .unwrap();
    assert_eq!(text(&older.stdout), "7.4.33", "{}", text(&older.stderr));
    let stderr = text(&older.stderr);
    assert!(
        stderr.contains("`php.cwasm` was compiled by wasmtime 49.")
            && stderr.contains("the runtime here is wasmtime 36.")
            && stderr.contains("running the `.wasm` instead")
            && stderr.contains("--precompile` makes it again"),
        "{stderr}"
    );
    assert!(!stderr.contains("--allow-precompiled"), "{stderr}");

    // A changed .cwasm is native code nobody vouches for: not run either.
    std::fs::write(dir.join("php.cwasm"), b"\x7fELF changed").unwrap();
    let changed = in_output(&out, &["run", PHP, "--", "-r", "echo PHP_VERSION;"]);
    assert_eq!(text(&changed.stdout), "7.4.33", "{}", text(&changed.stderr));
    assert!(text(&changed.stderr).contains("changed after it was compiled"));
    // ... nor released.
    let refused_dist = temp.path().join("dist-changed");
    let refused = in_output(&out, &["release-assets", refused_dist.to_str().unwrap()]);
    let stderr = text(&refused.stderr);
    assert!(!refused.status.success(), "{stderr}");
    assert!(
        stderr.contains("php.cwasm") && stderr.contains("does not match"),
        "{stderr}"
    );
    assert!(!refused_dist.exists());

    // --precompile again puts it right (from the machine's precompiled cache).
    let again = in_output(
        &out,
        &["-q", "build", PHP, "--runtime", "wasmtime", "--precompile"],
    );
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert_eq!(std::fs::read(dir.join("php.cwasm")).unwrap(), cwasm);
}

#[test]
fn a_wasmedge_without_an_aot_compiler_is_reported_and_skipped() {
    ensure_built(PHP, Flavor::Wasmedge);
    let temp = tempfile::tempdir().unwrap();
    let out = temp.path().join("out");
    let built = wlmake()
        .env("WLMAKE_OUTPUT_DIR", &out)
        .env("WLMAKE_WASMEDGE", crate::support::wasmedge_test_host())
        .args(["build", PHP, "--runtime", "wasmedge", "--precompile"])
        .output()
        .unwrap();
    let stderr = text(&built.stderr);
    assert!(built.status.success(), "{stderr}");
    assert!(
        stderr.contains("cannot compile `php.wasm` ahead of time")
            && stderr.contains("its runs interpret the `.wasm`"),
        "{stderr}"
    );
    let dir = out.join("php/php-7.4.33/wasmedge");
    assert!(dir.join("php.wasm").is_file());
    assert!(!dir.join("precompiled.json").exists());
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
