//! `php -S` served from WebAssembly: real HTTP requests on 127.0.0.1 to the PHP
//! development server running on the real Wasmtime (the Wasmtime flavor takes the
//! listening socket the runtime opens for it).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const PHP_74: &str = "php/php-7.4.33";
const PHP_82: &str = "php/php-8.2.32";

fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn wlmake() -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_wlmake"));
    command.current_dir(repo_root()).env_remove("WLMAKE_REPO");
    command
}

/// Wasmtime 36: the last line that passes a listening socket to a preview1 program.
fn wasmtime_36() -> PathBuf {
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

/// Builds the recipe for Wasmtime (a no-op when the build is up to date).
fn ensure_built(recipe: &str) {
    let out = wlmake()
        .args(["-q", "build", recipe, "--runtime", "wasmtime"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "build failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running `wlmake run ... -- -S` (wlmake execs the runtime): killed when dropped.
struct Server {
    child: Child,
    address: SocketAddr,
}

impl Server {
    fn start(recipe: &str, docroot: &Path) -> Self {
        let port = free_port();
        let address: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let child = wlmake()
            .env("WLMAKE_WASMTIME", wasmtime_36())
            .args(["run", recipe, "--runtime", "wasmtime", "--", "-S"])
            .arg(address.to_string())
            .arg("-t")
            .arg(docroot)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut server = Self { child, address };
        server.wait_until_ready();
        server
    }

    fn wait_until_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("the server exited early with {status}");
            }
            if TcpStream::connect_timeout(&self.address, Duration::from_millis(200)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the server did not listen on {} within 30 s", self.address);
    }

    /// One HTTP/1.0 exchange; returns (status code, headers, body).
    fn request(&self, method: &str, path: &str, body: &str) -> (u16, String, String) {
        let mut stream = TcpStream::connect_timeout(&self.address, Duration::from_secs(5)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
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

fn serves_static_files_php_pages_posts_and_404(recipe: &str) {
    ensure_built(recipe);
    let docroot = repo_root().join("tests/fixtures/docroot");
    let server = Server::start(recipe, &docroot);

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
}

#[test]
fn php_74_dev_server_on_wasmtime() {
    serves_static_files_php_pages_posts_and_404(PHP_74);
}

#[test]
fn php_82_dev_server_on_wasmtime() {
    serves_static_files_php_pages_posts_and_404(PHP_82);
}

#[test]
fn a_wasmtime_too_new_for_servers_is_refused_with_a_hint() {
    ensure_built(PHP_74);
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
