//! Every environment variable wlmake reads, declared in one place.

/// Cache root (default: the XDG cache dir + `/wlmake`): sources and finished builds.
pub const WLMAKE_CACHE_DIR: &str = "WLMAKE_CACHE_DIR";
/// A remote build cache, `http(s)://host/path` (same as `--cache-url`; docs/cache.md).
pub const WLMAKE_CACHE_URL: &str = "WLMAKE_CACHE_URL";
/// `1`: push finished builds to the remote build cache (same as `--cache-push`).
pub const WLMAKE_CACHE_PUSH: &str = "WLMAKE_CACHE_PUSH";
/// Sent as `Authorization: Bearer <token>` to the remote build cache when set.
pub const WLMAKE_CACHE_TOKEN: &str = "WLMAKE_CACHE_TOKEN";
/// Extra archive mirrors tried before the recipe's URLs: base URLs (`http://host/path`) or
/// folders holding pre-seeded archives, separated by whitespace or commas.
pub const WLMAKE_MIRROR: &str = "WLMAKE_MIRROR";
/// Work folder root for extracted trees and builds (default: `<repo>/work`).
pub const WLMAKE_WORK_DIR: &str = "WLMAKE_WORK_DIR";
/// Output folder (default: `<repo>/build-output`).
pub const WLMAKE_OUTPUT_DIR: &str = "WLMAKE_OUTPUT_DIR";
/// The repository root holding `recipes/` (default: found upward from the current folder).
pub const WLMAKE_REPO: &str = "WLMAKE_REPO";
/// Set to `0` to skip the Debian source-package provider.
pub const WLMAKE_APT: &str = "WLMAKE_APT";
/// A wasi-sdk installation (`bin/clang`, `share/wasi-sysroot`).
pub const WASI_SDK_PATH: &str = "WASI_SDK_PATH";
/// The Wasmtime CLI to use (default: `wasmtime` on PATH).
pub const WLMAKE_WASMTIME: &str = "WLMAKE_WASMTIME";
/// The WasmEdge CLI to use (default: `wasmedge` on PATH).
pub const WLMAKE_WASMEDGE: &str = "WLMAKE_WASMEDGE";
/// The native PHP that drives the upstream suite's `run-tests.php` (default: `php` on PATH).
pub const WLMAKE_PHP: &str = "WLMAKE_PHP";
/// Seconds a whole upstream suite run may take before it is stopped (default: 7200).
pub const WLMAKE_SUITE_TIME_LIMIT: &str = "WLMAKE_SUITE_TIME_LIMIT";
/// Log filter for `-v` style debug output (tracing's env-filter syntax).
pub const WLMAKE_LOG: &str = "WLMAKE_LOG";
/// The builder image `wlmake build --container` runs (default: `wlmake-builder:distro`).
pub const WLMAKE_CONTAINER_IMAGE: &str = "WLMAKE_CONTAINER_IMAGE";
/// A folder holding `node_modules/@php-wasm/node`: `wlmake bench`'s Node column
/// (default: `<cache>/php-wasm-node`; docs/benchmarks.md).
pub const WLMAKE_PHP_WASM_NODE: &str = "WLMAKE_PHP_WASM_NODE";
