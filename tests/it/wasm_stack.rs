//! The stack Wasmtime gives wasm code. Each call from C back into PHP (here `array_map`
//! with a PHP callback) nests PHP's executor on it; Wasmtime's default (512 KiB) held
//! 900 nested callbacks of the release build of 8.2.32 (native PHP: beyond 10,000).
//! wlmake runs Wasmtime with 2 MiB (`WASMTIME_WASM_STACK` in src/runtime).

use crate::server::{Flavor, ensure_built, wlmake};

const NESTED_CALLBACKS: &str =
    "function f($n) { return $n ? array_map('f', [$n - 1])[0] + 1 : 0; } echo f((int) $argv[1]);";

#[test]
fn php_82_on_wasmtime_nests_1500_callbacks() {
    ensure_built("php/php-8.2.32", Flavor::Wasmtime);
    let output = wlmake()
        .args(["-q", "run", "php/php-8.2.32", "--runtime", "wasmtime", "--"])
        .args(["-r", NESTED_CALLBACKS, "1500"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "php failed (exit {:?}):\n{}",
        output.status.code(),
        stderr.lines().take(8).collect::<Vec<_>>().join("\n")
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout), "1500");
}
