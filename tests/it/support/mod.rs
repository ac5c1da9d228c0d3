//! Helpers for the integration tests: a real HTTP server, real archives, real git
//! repositories, and a reporter that records what it is told.

#![allow(dead_code)]

pub mod archive;
pub mod git;
pub mod http;
pub mod https;
pub mod npm;
pub mod reporter;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use sha2::Digest;

/// Lowercase hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

/// A real WasmEdge when there is one, else the test host (built once per test run).
pub fn wasmedge() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        if let Some(path) = std::env::var_os("WLMAKE_WASMEDGE").filter(|p| !p.is_empty()) {
            return PathBuf::from(path);
        }
        if let Some(found) = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .map(|dir| dir.join("wasmedge"))
            .find(|path| path.is_file())
        {
            return found;
        }
        wasmedge_test_host().to_path_buf()
    })
}

/// The WasmEdge test host (WasmEdge's socket calls on Wasmtime's embedding API; it has
/// no ahead-of-time compiler), built once per test run.
pub fn wasmedge_test_host() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let manifest =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/wasmedge-test-host/Cargo.toml");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = std::process::Command::new(cargo)
            .args(["build", "--release", "--quiet", "--manifest-path"])
            .arg(&manifest)
            .status()
            .unwrap();
        assert!(status.success(), "building the WasmEdge test host failed");
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/wasmedge-test-host/target/release/wasmedge-test-host")
    })
}
