//! The import ABI check on real modules: C compiled with the real wasm32-wasi clang,
//! checked against the tables in `runtimes/`, and the Wasmtime table instantiated on
//! the real Wasmtime.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use wlmake::runtime::abi::{self, AbiError, Mismatch, Table};
use wlmake::runtime::{Invocation, Kind, Runtime};

fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn table(runtime: &str) -> Table {
    abi::load_table(repo_root(), runtime).unwrap()
}

/// The wasm32-wasi clang and sysroot wlmake itself would use.
fn toolchain() -> wlmake::toolchain::Tools {
    wlmake::toolchain::discover().expect("a wasm32-wasi toolchain (see `wlmake doctor`)")
}

/// Compiles and links `source` to `<dir>/<name>.wasm` with the real clang.
fn compile(dir: &Path, name: &str, source: &str, extra: &[&str]) -> PathBuf {
    let tools = toolchain();
    let c_file = dir.join(format!("{name}.c"));
    let wasm = dir.join(format!("{name}.wasm"));
    std::fs::write(&c_file, source).unwrap();
    let output = std::process::Command::new(&tools.clang)
        .arg("--target=wasm32-wasi")
        .arg(format!("--sysroot={}", tools.sysroot.display()))
        .arg("-O1")
        .args(extra)
        .arg(&c_file)
        .arg("-o")
        .arg(&wasm)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "clang failed on {name}.c:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    wasm
}

/// A program whose only socket call is WasmEdge's old 2-parameter `sock_accept`.
const SOCK_ACCEPT_2: &str = r#"
__attribute__((import_module("wasi_snapshot_preview1"), import_name("sock_accept")))
int sock_accept2(int fd, int *new_fd);

int main(int argc, char **argv) {
    int fd = -1;
    (void)argv;
    if (argc > 100) return sock_accept2(3, &fd);
    return 0;
}
"#;

/// A program calling a function nothing defines: `--allow-undefined` leaves an
/// `env` import behind.
const UNDEFINED: &str = r#"
extern int wlmake_never_defined(int);

int main(int argc, char **argv) {
    (void)argv;
    return argc > 100 ? wlmake_never_defined(argc) : 0;
}
"#;

const HELLO: &str = r#"#include <stdio.h>

int main(void) {
    puts("hello");
    return 0;
}
"#;

#[test]
fn every_table_in_the_repository_parses() {
    let tables = abi::load_all(repo_root()).unwrap();
    let names: Vec<_> = tables.iter().map(Table::stem).collect();
    assert_eq!(names, ["wasmedge-0.13-0.16", "wasmtime"]);
    for table in &tables {
        assert!(
            !table.tested.is_empty(),
            "{}: no tested versions",
            table.stem()
        );
        assert_eq!(table.modules(), BTreeSet::from(["wasi_snapshot_preview1"]));
    }
    assert_eq!(table("wasmedge").stem(), "wasmedge-0.13-0.16");
    assert_eq!(table("wasmedge-0.13-0.16").runtime, "wasmedge");
    let error = abi::load_table(repo_root(), "nodejs").unwrap_err();
    assert_eq!(
        error.hint().unwrap(),
        "tables exist for: wasmedge, wasmtime"
    );
}

/// WasmEdge provides all of standard preview1, each with its standard signature.
#[test]
fn the_wasmedge_table_contains_the_standard_one() {
    let wasmtime = table("wasmtime");
    let wasmedge = table("wasmedge");
    for entry in &wasmtime.entries {
        assert!(
            wasmedge
                .signatures(&entry.module, &entry.name)
                .contains(&&entry.signature),
            "wasmedge lacks {}.{} {}",
            entry.module,
            entry.name,
            entry.signature
        );
    }
    let sock_accept: Vec<String> = wasmedge
        .signatures("wasi_snapshot_preview1", "sock_accept")
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(sock_accept, ["(i32, i32) -> i32", "(i32, i32, i32) -> i32"]);
    assert_eq!(
        wasmedge.signatures("wasi_snapshot_preview1", "epoll_oneoff"),
        wasmtime.signatures("wasi_snapshot_preview1", "poll_oneoff")
    );
}

/// The names of every `__wasi_*` function declared in the sysroot's <wasi/api.h>.
fn api_h_functions(sysroot: &Path) -> Vec<String> {
    let header = [
        "include/wasm32-wasi/wasi/api.h",
        "include/wasm32-wasip1/wasi/api.h",
        "include/wasi/api.h",
    ]
    .iter()
    .map(|relative| sysroot.join(relative))
    .find(|path| path.is_file())
    .expect("wasi-libc's wasi/api.h in the sysroot");
    let text = std::fs::read_to_string(header).unwrap();
    let declaration =
        regex::Regex::new(r"(?m)^(?:_Noreturn\s+)?(?:__wasi_errno_t|void)\s+__wasi_([a-z0-9_]+)\(")
            .unwrap();
    declaration
        .captures_iter(&text)
        .map(|c| c[1].to_string())
        .collect()
}

/// The standard table checked mechanically: a program that takes the address of every
/// function wasi-libc declares links to imports that are exactly the table's (only
/// `proc_raise`, which wasi-libc dropped, is extra in the table) and pass the check.
#[test]
fn wasi_libc_links_to_exactly_the_wasmtime_table() {
    let dir = tempfile::tempdir().unwrap();
    let tools = toolchain();
    let functions = api_h_functions(&tools.sysroot);
    assert!(functions.len() >= 45, "only {functions:?} in api.h");
    let mut source = String::from("#include <wasi/api.h>\n\nstatic void *volatile used[] = {\n");
    for name in &functions {
        source.push_str(&format!("    (void *)__wasi_{name},\n"));
    }
    source.push_str("};\n\nint main(void) { return used[0] == 0; }\n");
    let wasm = compile(dir.path(), "every_wasi_call", &source, &[]);

    let table = table("wasmtime");
    let module = abi::check_artifact(repo_root(), "wasmtime", &wasm).unwrap();
    assert!(abi::check(&module, &table).is_empty());
    let imported: BTreeSet<&str> = module
        .imports
        .iter()
        .inspect(|i| assert_eq!(i.module, "wasi_snapshot_preview1"))
        .map(|i| i.name.as_str())
        .collect();
    let declared: BTreeSet<&str> = functions.iter().map(String::as_str).collect();
    assert_eq!(imported, declared, "every api.h function is one import");
    let listed: BTreeSet<&str> = table.entries.iter().map(|e| e.name.as_str()).collect();
    let only_in_table: Vec<_> = listed.difference(&imported).collect();
    assert!(
        only_in_table.iter().all(|name| **name == "proc_raise"),
        "the table lists functions wasi-libc does not: {only_in_table:?}"
    );
    assert_eq!(table.entries.len(), listed.len(), "one signature per name");
}

fn c_type(types: &[abi::ValType]) -> Vec<&'static str> {
    types
        .iter()
        .map(|t| match t {
            abi::ValType::I32 => "int",
            abi::ValType::I64 => "long long",
            abi::ValType::F32 => "float",
            abi::ValType::F64 => "double",
            other => panic!("no C type for {other}"),
        })
        .collect()
}

/// The table checked against the runtime: a module importing every entry instantiates
/// on the real Wasmtime (which refuses a wrong signature at load time).
#[test]
fn every_wasmtime_table_entry_instantiates_on_wasmtime() {
    let dir = tempfile::tempdir().unwrap();
    let table = table("wasmtime");
    let mut declarations = String::new();
    let mut calls = String::new();
    for (number, entry) in table.entries.iter().enumerate() {
        let result = c_type(&entry.signature.results);
        assert!(result.len() <= 1, "{}: several results", entry.name);
        let params = c_type(&entry.signature.params);
        declarations.push_str(&format!(
            "__attribute__((import_module(\"{}\"), import_name(\"{}\")))\n{} f{number}({});\n",
            entry.module,
            entry.name,
            result.first().copied().unwrap_or("void"),
            if params.is_empty() {
                "void".to_string()
            } else {
                params.join(", ")
            }
        ));
        let zeros = vec!["0"; params.len()].join(", ");
        calls.push_str(&format!("        f{number}({zeros});\n"));
    }
    let source = format!(
        "{declarations}\nint main(int argc, char **argv) {{\n    (void)argv;\n    if (argc > 1000) {{\n{calls}    }}\n    return 0;\n}}\n"
    );
    let wasm = compile(dir.path(), "every_table_entry", &source, &[]);
    let module = abi::read_module_file(&wasm).unwrap();
    assert_eq!(module.imports.len(), table.entries.len());
    assert!(abi::check(&module, &table).is_empty());

    let wasmtime = Runtime::find(Kind::Wasmtime).expect("wasmtime on PATH (or WLMAKE_WASMTIME)");
    let run = wasmtime
        .command(&wasm, &Invocation::default())
        .capture()
        .unwrap();
    assert_eq!(
        run.status,
        Some(0),
        "{} refused the table:\n{}",
        wasmtime.version,
        run.stderr
    );
}

#[test]
fn two_parameter_sock_accept_fails_for_wasmtime_and_passes_for_wasmedge() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = compile(dir.path(), "accept2", SOCK_ACCEPT_2, &[]);

    let error = abi::check_artifact(repo_root(), "wasmtime", &wasm).unwrap_err();
    let AbiError::Mismatch { mismatches, .. } = &error else {
        panic!("expected a mismatch, got {error}");
    };
    assert_eq!(
        mismatches,
        &[Mismatch::WrongSignature {
            module: "wasi_snapshot_preview1".into(),
            name: "sock_accept".into(),
            expected: table("wasmtime")
                .signatures("wasi_snapshot_preview1", "sock_accept")
                .into_iter()
                .cloned()
                .collect(),
            found: abi::FuncSig {
                params: vec![abi::ValType::I32, abi::ValType::I32],
                results: vec![abi::ValType::I32],
            },
        }]
    );
    let message = error.to_string();
    assert!(
        message.contains(
            "`wasi_snapshot_preview1.sock_accept`: expected (i32, i32, i32) -> i32, found (i32, i32) -> i32"
        ),
        "{message}"
    );

    let module = abi::check_artifact(repo_root(), "wasmedge", &wasm).unwrap();
    assert!(module.imports.iter().any(|i| i.name == "sock_accept"
        && i.signature.as_ref().unwrap().to_string() == "(i32, i32) -> i32"));
}

#[test]
fn imports_from_env_fail_on_every_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = compile(
        dir.path(),
        "undefined",
        UNDEFINED,
        &["-Wl,--allow-undefined"],
    );
    for runtime in ["wasmtime", "wasmedge"] {
        let error = abi::check_artifact(repo_root(), runtime, &wasm).unwrap_err();
        let AbiError::Mismatch { mismatches, .. } = &error else {
            panic!("expected a mismatch, got {error}");
        };
        assert_eq!(
            mismatches
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            [format!(
                "`env.wlmake_never_defined`: runtime {runtime} provides no module `env`"
            )]
        );
        assert!(error.hint().unwrap().contains("--allow-undefined"));
    }
}

const SIMD: &str = r#"
#include <wasm_simd128.h>
#include <stdio.h>

int main(int argc, char **argv) {
    (void)argv;
    /* A swizzle by indices known only at run time: no scalar form to fold into. */
    v128_t v = wasm_i32x4_make(argc, 0x0201, 3, 4);
    v128_t picked = wasm_i8x16_swizzle(v, wasm_i8x16_splat(argc + 3));
    printf("%d\n", wasm_i32x4_extract_lane(picked, 0));
    return 0;
}
"#;

/// A module clang compiled with `-msimd128` passes the repository's Wasmtime table
/// (and runs on Wasmtime), and is refused by a copy of that table without `simd128`;
/// the same program without the flag passes both.
#[test]
fn a_simd_module_is_refused_by_a_table_without_simd() {
    let dir = tempfile::tempdir().unwrap();
    let simd = compile(dir.path(), "simd", SIMD, &["-msimd128"]);
    let scalar = compile(dir.path(), "scalar", HELLO, &[]);
    abi::check_artifact(repo_root(), "wasmtime", &simd).unwrap();
    let out = std::process::Command::new("wasmtime")
        .arg(&simd)
        .output()
        .expect("wasmtime on PATH");
    // Every byte of the result is byte 4 of the vector (lane 1's low byte, 0x01).
    assert_eq!(String::from_utf8_lossy(&out.stdout), "16843009\n");

    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir(repo.path().join("runtimes")).unwrap();
    let text = std::fs::read_to_string(repo_root().join("runtimes/wasmtime.toml")).unwrap();
    assert!(text.contains("  \"simd128\",\n"));
    std::fs::write(
        repo.path().join("runtimes/wasmtime.toml"),
        text.replace("  \"simd128\",\n", ""),
    )
    .unwrap();
    let error = abi::check_artifact(repo.path(), "wasmtime", &simd).unwrap_err();
    assert!(matches!(error, AbiError::Feature { .. }), "{error}");
    assert!(error.to_string().to_lowercase().contains("simd"), "{error}");
    abi::check_artifact(repo.path(), "wasmtime", &scalar).unwrap();

    // `wlmake inspect` refuses it the same way.
    let (code, _, stderr) = run(wlmake_in(dir.path()).env("WLMAKE_REPO", repo.path()).args([
        "inspect",
        "simd.wasm",
        "--runtime",
        "wasmtime",
    ]));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("uses a WebAssembly feature runtime wasmtime"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: runtime wasmtime accepts: mutable-global"),
        "{stderr}"
    );
}

fn wlmake_in(dir: &Path) -> Command {
    let mut command = Command::cargo_bin("wlmake").unwrap();
    command
        .current_dir(dir)
        .env("WLMAKE_REPO", repo_root())
        .env("COLUMNS", "100");
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

/// The size line depends on the toolchain: hide the number.
fn without_size(text: &str, wasm: &Path) -> String {
    let size = std::fs::metadata(wasm).unwrap().len();
    text.replace(&format!("size:     {size} bytes"), "size:     [SIZE] bytes")
}

#[test]
fn inspect_lists_imports_exports_and_the_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = compile(dir.path(), "hello", HELLO, &[]);
    let (code, stdout, stderr) =
        run(wlmake_in(dir.path()).args(["inspect", "hello.wasm", "--runtime", "wasmtime"]));
    assert_eq!(code, 0, "{stderr}");
    insta::assert_snapshot!(without_size(&stdout, &wasm));
}

#[test]
fn inspect_fails_on_a_wrong_socket_signature() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = compile(dir.path(), "accept2", SOCK_ACCEPT_2, &[]);
    let (code, stdout, stderr) =
        run(wlmake_in(dir.path()).args(["inspect", "accept2.wasm", "--runtime", "wasmtime"]));
    assert_eq!(code, 1);
    insta::assert_snapshot!(format!(
        "--- stdout\n{}--- stderr\n{stderr}",
        without_size(&stdout, &wasm)
    ));

    let (code, stdout, _) =
        run(wlmake_in(dir.path()).args(["inspect", "accept2.wasm", "--runtime", "wasmedge"]));
    assert_eq!(code, 0);
    assert!(stdout.contains("check:    OK"), "{stdout}");
}

#[test]
fn inspect_json_carries_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = compile(dir.path(), "accept2", SOCK_ACCEPT_2, &[]);
    let (code, stdout, stderr) =
        run(wlmake_in(dir.path()).args(["inspect", "accept2.wasm", "--json", "-r", "wasmtime"]));
    assert_eq!(code, 1);
    assert!(
        stderr.contains("error: `accept2.wasm` does not fit runtime wasmtime"),
        "{stderr}"
    );
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["size"], std::fs::metadata(&wasm).unwrap().len());
    assert_eq!(json["check"]["ok"], false);
    let mismatch = &json["check"]["mismatches"][0];
    assert_eq!(mismatch["problem"], "wrong-signature");
    assert_eq!(mismatch["name"], "sock_accept");
    assert_eq!(
        mismatch["found"]["params"],
        serde_json::json!(["i32", "i32"])
    );

    let (code, stdout, _) = run(wlmake_in(dir.path()).args(["inspect", "accept2.wasm", "--json"]));
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(json["check"].is_null());
    assert!(
        json["exports"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["name"] == "_start" && e["kind"] == "func")
    );
}

#[test]
fn inspect_refuses_a_file_that_is_not_wasm() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "hello").unwrap();
    let (code, _, stderr) = run(wlmake_in(dir.path()).args(["inspect", "notes.txt"]));
    assert_eq!(code, 1);
    assert!(
        stderr.starts_with("error: `notes.txt` is not a WebAssembly module: no `\\0asm` header"),
        "{stderr}"
    );
}
