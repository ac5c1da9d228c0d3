//! Python's `http.server` served from WebAssembly on WasmEdge: real HTTP requests on
//! 127.0.0.1 and ::1. The WasmEdge flavor of python/python-3.11.2 opens its own sockets
//! through WasmEdge's socket calls (our socket layer, lib/wasmedge-sockets), as `php -S`
//! does (tests/it/server.rs). CPython on WASI has no threads, so the server is
//! `http.server.HTTPServer`, not the ThreadingHTTPServer of `-m http.server`
//! (docs/port-python-3.11.md, "Server sockets"). A real WasmEdge runs Python's AOT form
//! (`--precompiled`): its interpreter is about 100 times slower. WasmEdge: a real
//! `wasmedge` named by `WLMAKE_WASMEDGE` or found on PATH, else the test host in
//! tests/wasmedge-test-host (see tests/it/server.rs).

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use crate::server::{Flavor, Server, ensure_built, free_port, wlmake};

const PYTHON: &str = "python/python-3.11.2";

/// `http.server.test` with the single-threaded HTTPServer: it picks the address family
/// from the bind address (getaddrinfo), as `-m http.server --bind` does. Arguments:
/// the folder to serve, the port, the address.
const SERVE: &str = "import functools, http.server as s, sys; \
s.test(functools.partial(s.SimpleHTTPRequestHandler, directory=sys.argv[1]), \
s.HTTPServer, port=int(sys.argv[2]), bind=sys.argv[3])";

/// Builds the WasmEdge flavor and compiles python.wasm ahead of time, once per test run
/// (minutes the first time, then cached), so that a server's start is not the compile.
/// The tests wait here for each other: two compiles at once would write the same file.
fn prepare() {
    static PREPARED: OnceLock<()> = OnceLock::new();
    PREPARED.get_or_init(|| {
        ensure_built(PYTHON, Flavor::Wasmedge);
        precompile();
    });
}

/// `--precompiled` on a real WasmEdge; the test host (tests/wasmedge-test-host, on
/// Wasmtime's compiler, which caches its own code) has no `compile` command.
fn precompiled_flag() -> Option<&'static str> {
    let (_, binary) = Flavor::Wasmedge.binary();
    let test_host = binary
        .file_name()
        .is_some_and(|name| name == "wasmedge-test-host");
    (!test_host).then_some("--precompiled")
}

fn precompile() {
    let (variable, binary) = Flavor::Wasmedge.binary();
    let out = wlmake()
        .env(variable, binary)
        .args(["run", PYTHON, "--runtime", "wasmedge"])
        .args(precompiled_flag())
        .args([
            "--",
            "-c",
            "import http.server, socket; print(socket.has_ipv6)",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "precompiling failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "True\n");
}

/// Starts `wlmake run python ... -c SERVE` on `ip` serving `docroot`.
fn start(ip: &str, docroot: &Path) -> Server {
    let port = free_port(ip);
    let address = SocketAddr::new(ip.parse().unwrap(), port);
    let (variable, binary) = Flavor::Wasmedge.binary();
    let child = wlmake()
        .env(variable, binary)
        .args(["run", PYTHON, "--runtime", "wasmedge"])
        .args(precompiled_flag())
        .arg("--dir")
        .arg(format!("{}::/srv", docroot.display()))
        .args(["--", "-c", SERVE, "/srv"])
        .arg(port.to_string())
        .arg(ip)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Server::ready(child, address, Duration::from_secs(60))
}

/// A file, a missing file, the folder's listing and a subfolder's listing.
fn serves_a_folder_on(ip: &str) {
    prepare();
    let docroot = tempfile::Builder::new()
        .prefix("wlmake-python-server-")
        .tempdir()
        .unwrap();
    std::fs::write(docroot.path().join("hello.txt"), "hello from wasi\n").unwrap();
    std::fs::create_dir(docroot.path().join("notes")).unwrap();
    std::fs::write(docroot.path().join("notes/todo.md"), "- serve\n").unwrap();
    let server = start(ip, docroot.path());

    let (status, head, body) = server.request("GET", "/hello.txt", "");
    assert_eq!(
        (status, body.as_str()),
        (200, "hello from wasi\n"),
        "{head}"
    );
    assert!(head.contains("Server: SimpleHTTP/"), "{head}");
    assert!(head.contains("Content-Length: 16"), "{head}");

    let (status, _, body) = server.request("GET", "/missing.html", "");
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("File not found"), "{body}");

    let (status, head, body) = server.request("GET", "/", "");
    assert_eq!(status, 200, "{head}\n{body}");
    assert!(body.contains("Directory listing for /"), "{body}");
    assert!(
        body.contains("<a href=\"hello.txt\">hello.txt</a>"),
        "{body}"
    );
    assert!(body.contains("<a href=\"notes/\">notes/</a>"), "{body}");

    let (status, _, body) = server.request("GET", "/notes/", "");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("<a href=\"todo.md\">todo.md</a>"), "{body}");

    let (status, _, body) = server.request("GET", "/notes/todo.md", "");
    assert_eq!((status, body.as_str()), (200, "- serve\n"));
}

#[test]
fn python_http_server_on_wasmedge_ipv4_loopback() {
    serves_a_folder_on("127.0.0.1");
}

#[test]
fn python_http_server_on_wasmedge_ipv6_loopback() {
    serves_a_folder_on("::1");
}

/// The socket imports (name, parameter count) of python.wasm for a flavor.
fn socket_imports(flavor: Flavor) -> Vec<(String, usize)> {
    crate::server::socket_imports_of(PYTHON, flavor, "python.wasm")
}

/// The socket layer is linked into the WasmEdge flavor only: it opens sockets with
/// WasmEdge's calls (2-parameter `sock_accept`); the Wasmtime flavor keeps wasi-libc's
/// standard calls and none of WasmEdge's.
#[test]
fn python_flavors_import_only_their_runtimes_socket_calls() {
    ensure_built(PYTHON, Flavor::Wasmedge);
    ensure_built(PYTHON, Flavor::Wasmtime);
    let wasmedge = socket_imports(Flavor::Wasmedge);
    for call in [
        "sock_open",
        "sock_bind",
        "sock_listen",
        "sock_getaddrinfo",
        "sock_getlocaladdr",
    ] {
        assert!(
            wasmedge.iter().any(|(name, _)| name == call),
            "python for wasmedge lacks {call}: {wasmedge:?}"
        );
    }
    assert!(
        wasmedge.contains(&("sock_accept".into(), 2)),
        "{wasmedge:?}"
    );

    let wasmtime = socket_imports(Flavor::Wasmtime);
    let standard = ["sock_accept", "sock_recv", "sock_send", "sock_shutdown"];
    assert!(
        wasmtime
            .iter()
            .all(|(name, _)| standard.contains(&name.as_str())),
        "python for wasmtime imports WasmEdge calls: {wasmtime:?}"
    );
    assert!(
        wasmtime.contains(&("sock_accept".into(), 3)),
        "{wasmtime:?}"
    );
}
