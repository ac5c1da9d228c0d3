//! `php -S` served from WebAssembly: real HTTP requests on 127.0.0.1 and ::1 to the
//! PHP development server. The Wasmtime flavor runs on the real Wasmtime 36, which
//! opens the listening socket for the program; the WasmEdge flavor opens its own
//! sockets through WasmEdge's socket calls (our socket layer, lib/wasmedge-sockets).
//! WasmEdge: a real `wasmedge` named by `WLMAKE_WASMEDGE` or found on PATH, else the
//! test-only stand-in in tests/wasmedge-test-host (WasmEdge's socket calls on
//! Wasmtime's embedding API; no registry here ships WasmEdge).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const PHP_74: &str = "php/php-7.4.33";
const PHP_82: &str = "php/php-8.2.32";

pub(crate) fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub(crate) fn wlmake() -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_wlmake"));
    command.current_dir(repo_root()).env_remove("WLMAKE_REPO");
    command
}

/// Wasmtime 36: the last line that passes a listening socket to a preview1 program.
pub(crate) fn wasmtime_36() -> PathBuf {
    let path = std::env::var_os("WLMAKE_TEST_WASMTIME_36")
        .map(PathBuf::from)
        .unwrap_or_else(|| "/opt/wlmake/wasmtime-36/wasmtime_cli/wasmtime".into());
    assert!(
        path.is_file(),
        "Wasmtime 36 not found at {} (.ci/install-deps installs it; or set WLMAKE_TEST_WASMTIME_36)",
        path.display()
    );
    path
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Flavor {
    Wasmtime,
    Wasmedge,
}

impl Flavor {
    pub(crate) fn runtime(self) -> &'static str {
        match self {
            Self::Wasmtime => "wasmtime",
            Self::Wasmedge => "wasmedge",
        }
    }

    /// The runtime's environment variable and binary for `wlmake run`.
    pub(crate) fn binary(self) -> (&'static str, PathBuf) {
        match self {
            Self::Wasmtime => ("WLMAKE_WASMTIME", wasmtime_36()),
            Self::Wasmedge => ("WLMAKE_WASMEDGE", crate::support::wasmedge().to_path_buf()),
        }
    }
}

/// Builds the recipe for the flavor (a no-op when the build is up to date).
pub(crate) fn ensure_built(recipe: &str, flavor: Flavor) {
    let out = wlmake()
        .args(["-q", "build", recipe, "--runtime", flavor.runtime()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "build failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub(crate) fn free_port(ip: &str) -> u16 {
    TcpListener::bind((ip, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running `wlmake run ... -- -S` (wlmake execs the runtime): killed when dropped.
/// A running server (`wlmake run ...`, which execs the runtime): killed when dropped,
/// also when an assertion fails.
pub(crate) struct Server {
    child: Child,
    /// Where clients connect.
    address: SocketAddr,
}

impl Server {
    /// Takes a started server; returns once it accepts on `address` (panics when it
    /// exits first or after `within`).
    pub(crate) fn ready(child: Child, address: SocketAddr, within: Duration) -> Self {
        let mut server = Self { child, address };
        server.wait_until_ready(within);
        server
    }

    /// Starts `php -S HOST:PORT`; clients connect to `connect_ip` (the address a
    /// wildcard or a name stands for).
    fn start(recipe: &str, flavor: Flavor, host: &str, connect_ip: &str, docroot: &Path) -> Self {
        let port = free_port(connect_ip);
        let address = (connect_ip, port)
            .to_socket_addrs()
            .unwrap()
            .next()
            .unwrap();
        let listen = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let (variable, binary) = flavor.binary();
        let child = wlmake()
            .env(variable, binary)
            .args(["run", recipe, "--runtime", flavor.runtime(), "--", "-S"])
            .arg(listen)
            .arg("-t")
            .arg(docroot)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Self::ready(child, address, Duration::from_secs(30))
    }

    fn wait_until_ready(&mut self, within: Duration) {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("the server exited early with {status}");
            }
            if TcpStream::connect_timeout(&self.address, Duration::from_millis(200)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "the server did not listen on {} within {} s",
            self.address,
            within.as_secs()
        );
    }

    /// One HTTP/1.0 exchange; returns (status code, headers, body).
    pub(crate) fn request(&self, method: &str, path: &str, body: &str) -> (u16, String, String) {
        let mut stream = TcpStream::connect_timeout(&self.address, Duration::from_secs(5)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let request = format!(
            "{method} {path} HTTP/1.0\r\nHost: {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.address,
            body.len()
        );
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).unwrap();
        let response = String::from_utf8_lossy(&response).into_owned();
        let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or(0);
        (status, head.to_string(), body.to_string())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The HTTP tests against `php -S HOST:PORT`: static file, PHP page, POST body, 404 and
/// the peer address.
fn serves_on(recipe: &str, flavor: Flavor, host: &str, connect_ip: &str) {
    ensure_built(recipe, flavor);
    let docroot = repo_root().join("tests/fixtures/docroot");
    let server = Server::start(recipe, flavor, host, connect_ip, &docroot);

    let (status, _, body) = server.request("GET", "/static.txt", "");
    assert_eq!((status, body.as_str()), (200, "plain static text\n"));

    let (status, head, body) = server.request("GET", "/page.php?q=wasm", "");
    assert_eq!(status, 200, "{head}\n{body}");
    assert!(head.contains("X-Served-By: php-wasm"), "{head}");
    assert_eq!(body, "method=GET\nquery=wasm\nbody=\nsum=6\n");

    let (status, _, body) = server.request("POST", "/page.php", "posted=1&x=y");
    assert_eq!(status, 200);
    assert_eq!(body, "method=POST\nquery=-\nbody=posted=1&x=y\nsum=6\n");

    let (status, _, body) = server.request("GET", "/missing.html", "");
    assert_eq!(status, 404, "{body}");

    // WasmEdge reports the peer (accept + sock_getpeeraddr); Wasmtime's preview1
    // sock_accept cannot, so the server names the client "unknown".
    let (status, _, body) = server.request("GET", "/peer.php", "");
    assert_eq!(status, 200, "{body}");
    let expected = match flavor {
        Flavor::Wasmedge => connect_ip,
        Flavor::Wasmtime => "unknown",
    };
    assert_eq!(body, format!("remote={expected}\n"));
}

#[test]
fn php_74_dev_server_on_wasmtime() {
    serves_on(PHP_74, Flavor::Wasmtime, "127.0.0.1", "127.0.0.1");
}

#[test]
fn php_82_dev_server_on_wasmtime() {
    serves_on(PHP_82, Flavor::Wasmtime, "127.0.0.1", "127.0.0.1");
}

#[test]
fn php_74_dev_server_on_wasmtime_over_ipv6() {
    serves_on(PHP_74, Flavor::Wasmtime, "::1", "::1");
}

#[test]
fn php_74_dev_server_on_wasmedge_ipv4_loopback() {
    serves_on(PHP_74, Flavor::Wasmedge, "127.0.0.1", "127.0.0.1");
}

#[test]
fn php_74_dev_server_on_wasmedge_all_interfaces() {
    serves_on(PHP_74, Flavor::Wasmedge, "0.0.0.0", "127.0.0.1");
}

#[test]
fn php_74_dev_server_on_wasmedge_ipv6_loopback() {
    serves_on(PHP_74, Flavor::Wasmedge, "::1", "::1");
}

/// A name goes through WasmEdge's sock_getaddrinfo (numeric hosts never reach it).
#[test]
fn php_74_dev_server_on_wasmedge_by_name() {
    serves_on(PHP_74, Flavor::Wasmedge, "localhost", "127.0.0.1");
}

#[test]
fn php_82_dev_server_on_wasmedge_ipv4_loopback() {
    serves_on(PHP_82, Flavor::Wasmedge, "127.0.0.1", "127.0.0.1");
}

#[test]
fn php_82_dev_server_on_wasmedge_ipv6_loopback() {
    serves_on(PHP_82, Flavor::Wasmedge, "::1", "::1");
}

/// Clients that go away before their answer is written: the test's own (it sends a
/// request and closes at once) and PHP's (`loopback.php` asks the busy single-threaded
/// server for a page and gives up, as WordPress's installer does; the server serves
/// that request later). Writing to them fails (EPIPE); that stops the script, and the
/// server goes on to the next client. Without longjmp, the bailout that PHP makes
/// there used to end the whole server (patches/php/8.2/common/0014).
/// `loopback`: PHP opens the client socket itself, which only the WasmEdge flavor can (on
/// Wasmtime only the test's own client goes away).
fn survives_clients_that_go_away(recipe: &str, flavor: Flavor, loopback: bool) {
    ensure_built(recipe, flavor);
    let docroot = repo_root().join("tests/fixtures/docroot");
    let mut server = Server::start(recipe, flavor, "127.0.0.1", "127.0.0.1", &docroot);

    if loopback {
        let (status, head, body) = server.request("GET", "/loopback.php", "");
        assert_eq!((status, body.as_str()), (200, "gave up\n"), "{head}");
    }

    let mut abandoned =
        TcpStream::connect_timeout(&server.address, Duration::from_secs(5)).unwrap();
    abandoned
        .write_all(b"GET /long.php HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .unwrap();
    drop(abandoned);

    // Served after both abandoned requests (one at a time, in order of arrival).
    for _ in 0..2 {
        let (status, _, body) = server.request("GET", "/page.php?q=after", "");
        assert_eq!(status, 200, "{body}");
        assert_eq!(body, "method=GET\nquery=after\nbody=\nsum=6\n");
    }
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the server exited after its clients went away"
    );
}

#[test]
fn php_82_dev_server_on_wasmedge_survives_clients_that_go_away() {
    survives_clients_that_go_away(PHP_82, Flavor::Wasmedge, true);
}

#[test]
fn php_74_dev_server_on_wasmedge_survives_clients_that_go_away() {
    survives_clients_that_go_away(PHP_74, Flavor::Wasmedge, true);
}

#[test]
fn php_82_dev_server_on_wasmtime_survives_a_client_that_goes_away() {
    survives_clients_that_go_away(PHP_82, Flavor::Wasmtime, false);
}

#[test]
fn php_74_dev_server_on_wasmtime_survives_a_client_that_goes_away() {
    survives_clients_that_go_away(PHP_74, Flavor::Wasmtime, false);
}

#[test]
fn a_wasmtime_too_new_for_servers_is_refused_with_a_hint() {
    ensure_built(PHP_74, Flavor::Wasmtime);
    // The default `wasmtime` (49) cannot pass a listening socket to a preview1 program.
    let out = wlmake()
        .env_remove("WLMAKE_WASMTIME")
        .args([
            "run",
            PHP_74,
            "--runtime",
            "wasmtime",
            "--",
            "-S",
            "127.0.0.1:9",
            "-t",
            "/tmp",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("is too new to run a server"), "{stderr}");
    assert!(
        stderr.contains("hint: install Wasmtime 36 beside it"),
        "{stderr}"
    );
}

/// The socket imports (name -> parameter count) of a built artifact (`php.wasm`).
pub(crate) fn socket_imports_of(
    recipe: &str,
    flavor: Flavor,
    module: &str,
) -> Vec<(String, usize)> {
    let file = repo_root()
        .join("build-output")
        .join(recipe)
        .join(flavor.runtime())
        .join(module);
    let out = wlmake()
        .args(["inspect", "--json"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    json["imports"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|import| import["name"].as_str().unwrap().starts_with("sock_"))
        .map(|import| {
            (
                import["name"].as_str().unwrap().to_string(),
                import["signature"]["params"].as_array().unwrap().len(),
            )
        })
        .collect()
}

/// One recipe, two flavors: the WasmEdge build opens its own sockets with WasmEdge's
/// 2-parameter `sock_accept`; the Wasmtime build has none of WasmEdge's calls and
/// wasi-libc's standard 3-parameter `sock_accept`.
#[test]
fn each_flavor_imports_only_its_runtimes_socket_calls() {
    for recipe in [PHP_74, PHP_82] {
        ensure_built(recipe, Flavor::Wasmtime);
        ensure_built(recipe, Flavor::Wasmedge);
        let wasmedge = socket_imports_of(recipe, Flavor::Wasmedge, "php.wasm");
        for call in ["sock_open", "sock_bind", "sock_listen", "sock_getaddrinfo"] {
            assert!(
                wasmedge.iter().any(|(name, _)| name == call),
                "{recipe} for wasmedge lacks {call}: {wasmedge:?}"
            );
        }
        assert!(
            wasmedge.contains(&("sock_accept".into(), 2)),
            "{wasmedge:?}"
        );

        let wasmtime = socket_imports_of(recipe, Flavor::Wasmtime, "php.wasm");
        let standard = ["sock_accept", "sock_recv", "sock_send", "sock_shutdown"];
        assert!(
            wasmtime
                .iter()
                .all(|(name, _)| standard.contains(&name.as_str())),
            "{recipe} for wasmtime imports WasmEdge calls: {wasmtime:?}"
        );
        assert!(
            wasmtime.contains(&("sock_accept".into(), 3)),
            "{wasmtime:?}"
        );
    }
}
