//! End-to-end tests: C programs built with clang-16 + wasi-libc that declare WasmEdge's
//! socket imports themselves, run on the real binary, talking to the test over loopback.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::Command;

use support::{Guest, Host, accept, fd_in, free_port, http_get, run};

/// Serves `count` requests on `ip` with the given guest and checks what both sides saw.
fn serve_and_check(guest: Guest, ip: &str, count: usize) -> Vec<u32> {
    let port = free_port(ip);
    let port_text = port.to_string();
    let count_text = count.to_string();
    let mut host = Host::start(&[], guest, &["serve", ip, &port_text, &count_text]);
    let listening = host.expect_line("listening fd=");
    let server = SocketAddr::new(ip.parse().unwrap(), port);

    let mut clients = Vec::new();
    for index in 0..count {
        let (response, client) = http_get(server, &format!("/request-{index}"));
        assert!(response.starts_with("HTTP/1.0 200 OK\r\n"), "{response}");
        assert!(
            response.contains(&format!("GET /request-{index} HTTP/1.0")),
            "{response}"
        );
        clients.push(client);
    }

    let finished = host.finish();
    assert!(finished.status.success(), "{}", finished.stderr);
    assert_eq!(
        finished.line("sockopt reuseaddr"),
        "sockopt reuseaddr=1 type=2 acceptconn=1 error=0 keepalive=0 rcvbuf_positive=1"
    );
    assert_eq!(finished.line("sockopt linger"), "sockopt linger errno=58");
    let family = if ip.contains(':') { 6 } else { 4 };
    assert_eq!(
        finished.line("local "),
        format!("local {ip} {port} type={family}")
    );
    let peers = finished.lines("peer ");
    assert_eq!(peers.len(), count);
    for (peer, client) in peers.iter().zip(&clients) {
        assert_eq!(*peer, format!("peer {ip} {} type={family}", client.port()));
    }
    assert_eq!(finished.stdout.last().unwrap(), "done");

    let mut fds = vec![fd_in(&listening)];
    fds.extend(
        finished
            .lines("accepted fd=")
            .iter()
            .map(|line| fd_in(line)),
    );
    fds
}

#[test]
fn serves_http_on_ipv4_with_wasmedge_accept() {
    let fds = serve_and_check(Guest::Accept2, "127.0.0.1", 3);
    assert!(fds.iter().all(|fd| (3..i32::MAX as u32).contains(fd)));
    // Like WasmEdge, fds are random in [3, 2^31-1): one of four below 1024 has odds of
    // about 2e-6.
    assert!(fds.iter().any(|fd| *fd >= 1024), "{fds:?}");
}

#[test]
fn serves_http_on_ipv6_with_standard_accept() {
    let fds = serve_and_check(Guest::Accept3, "::1", 2);
    assert!(fds.iter().any(|fd| *fd >= 1024), "{fds:?}");
}

#[test]
fn nonblocking_listener_with_poll_and_epoll_oneoff() {
    let port = free_port("127.0.0.1");
    let mut host = Host::start(
        &[],
        Guest::Accept2,
        &["poll", "127.0.0.1", &port.to_string()],
    );
    assert_eq!(host.expect_line("fdstat"), "fdstat filetype=6 nonblock=1");
    assert_eq!(
        host.expect_line("accept before"),
        "accept before a client: errno 6"
    );
    host.expect_line("listening fd=");
    let (response, _) = http_get(SocketAddr::from(([127, 0, 0, 1], port)), "/polled");
    assert!(response.ends_with("\r\n\r\npolled\n"), "{response}");
    let finished = host.finish();
    assert!(finished.status.success(), "{}", finished.stderr);
    assert_eq!(finished.line("poll:"), "poll: 1 revents_in=1");
    // The listener, polled beside the connection, has no client waiting: not reported
    // (wasi-common's own scheduler reported every descriptor once one was ready).
    assert_eq!(
        finished.line("epoll_oneoff"),
        "epoll_oneoff: events=1 first_userdata=1"
    );
}

#[test]
fn connects_to_a_listener_of_the_test() {
    for ip in ["127.0.0.1", "::1"] {
        let listener = TcpListener::bind((ip, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let host = Host::start(&[], Guest::Accept2, &["connect", ip, &port.to_string()]);

        let (mut stream, guest_address) = accept(&listener);
        let mut request = String::new();
        stream.read_to_string(&mut request).unwrap();
        assert_eq!(request, "ping\n");
        stream.write_all(b"pong\n").unwrap();
        drop(stream);

        let finished = host.finish();
        assert!(finished.status.success(), "{}", finished.stderr);
        let family = if ip.contains(':') { 6 } else { 4 };
        assert_eq!(
            finished.line("peer "),
            format!("peer {ip} {port} type={family}")
        );
        assert_eq!(
            finished.line("local "),
            format!("local {ip} {} type={family}", guest_address.port())
        );
        assert_eq!(finished.line("answer "), "answer pong");
    }
}

fn resolve(node: &str, service: &str, family: u8, flags: u16) -> support::Finished {
    let args = [
        "resolve",
        node,
        service,
        &family.to_string(),
        &flags.to_string(),
    ];
    run(&[], Guest::Accept2, &args)
}

#[test]
fn getaddrinfo_of_numeric_addresses() {
    let finished = resolve("127.0.0.1", "8080", 0, 0);
    assert!(finished.status.success(), "{}", finished.stderr);
    assert_eq!(
        finished.lines("result"),
        [
            "result family=1 socktype=2 protocol=1 addrlen=16 sa_family=1 data_len=14 \
          port=8080 addr=127.0.0.1 canonname="
        ]
    );

    let finished = resolve("::1", "443", 0, 2 | 4); // CANONNAME | NUMERICHOST
    assert!(finished.status.success(), "{}", finished.stderr);
    assert_eq!(
        finished.lines("result"),
        [
            "result family=2 socktype=2 protocol=1 addrlen=28 sa_family=2 data_len=26 \
          port=443 addr=::1 canonname=::1"
        ]
    );

    // A numeric address of the other family: glibc's EAI_ADDRFAMILY, WasmEdge's 77.
    let finished = resolve("::1", "-", 1, 0);
    assert_eq!(finished.status.code(), Some(3));
    assert_eq!(finished.line("getaddrinfo"), "getaddrinfo errno 77");
}

#[test]
fn getaddrinfo_of_names_and_absent_nodes() {
    // /etc/hosts may or may not list ::1 as localhost; 127.0.0.1 is always there.
    let finished = resolve("localhost", "80", 0, 2); // CANONNAME
    assert!(finished.status.success(), "{}", finished.stderr);
    let results = finished.lines("result");
    assert!(
        results.iter().any(|line| line.starts_with(
            "result family=1 socktype=2 protocol=1 addrlen=16 sa_family=1 data_len=14 \
             port=80 addr=127.0.0.1 "
        )),
        "{results:#?}"
    );
    // Like glibc, only the first result carries the canonical name.
    assert!(results[0].ends_with("canonname=localhost"), "{results:#?}");

    let finished = resolve("-", "80", 0, 1); // PASSIVE
    let addresses: Vec<&str> = finished
        .lines("result")
        .iter()
        .map(|line| line.split(" addr=").nth(1).unwrap())
        .collect();
    assert_eq!(addresses, ["0.0.0.0 canonname=", ":: canonname="]);

    let finished = resolve("-", "80", 0, 0);
    let addresses: Vec<&str> = finished
        .lines("result")
        .iter()
        .map(|line| line.split(" addr=").nth(1).unwrap())
        .collect();
    assert_eq!(addresses, ["::1 canonname=", "127.0.0.1 canonname="]);

    // WasmEdge translates glibc's EAI_NONAME to its errno 84.
    let finished = resolve("no-such-host.invalid", "80", 0, 0);
    assert_eq!(finished.status.code(), Some(3));
    assert_eq!(finished.line("getaddrinfo"), "getaddrinfo errno 84");
    let finished = resolve("-", "-", 0, 0);
    assert_eq!(finished.line("getaddrinfo"), "getaddrinfo errno 84");
}

#[test]
fn socket_fds_are_random_and_live_in_the_fd_table() {
    let finished = run(&[], Guest::Accept2, &["fds", "8"]);
    assert!(finished.status.success(), "{}", finished.stderr);
    let sockets = finished.lines("socket fd=");
    assert_eq!(sockets.len(), 8);
    let fds: Vec<u32> = sockets.iter().map(|line| fd_in(line)).collect();
    assert!(sockets.iter().all(|line| line.ends_with("filetype=6")));
    assert!(fds.iter().any(|fd| *fd >= 1024), "{fds:?}");
    // fd_close closed it: a second close is BADF.
    assert_eq!(finished.lines("closed again: errno 8").len(), 8);

    let host = Host::start_with_env(
        &[],
        Guest::Accept2,
        &["fds", "3"],
        &[("WASMEDGE_TEST_HOST_SEQUENTIAL_FDS", "1")],
    );
    let finished = host.finish();
    let fds: Vec<u32> = finished
        .lines("socket fd=")
        .iter()
        .map(|line| fd_in(line))
        .collect();
    assert_eq!(fds.len(), 3);
    assert!(fds.iter().all(|fd| *fd < 16), "{fds:?}");
}

#[test]
fn a_socket_import_with_a_wrong_signature_is_refused() {
    let finished = run(&[], Guest::BadAccept, &[]);
    assert_eq!(finished.status.code(), Some(1));
    assert!(
        finished.stderr.starts_with(
            "error: import `wasi_snapshot_preview1::sock_accept` has type (i32) -> i32, \
             but WasmEdge 0.13-0.16 accepts only (i32, i32) -> i32 or (i32, i32, i32) -> i32"
        ),
        "{}",
        finished.stderr
    );
    assert!(!finished.stderr.contains("panicked"), "{}", finished.stderr);
}

#[test]
fn unimplemented_wasmedge_forms_load_and_answer_nosys() {
    let finished = run(&[], Guest::UnimplementedForms, &[]);
    assert!(finished.status.success(), "{}", finished.stderr);
    assert_eq!(
        finished.stdout,
        ["getlocaladdr(3 params) errno 52", "sock_recv_from errno 52"]
    );
}

#[test]
fn exit_codes_pass_through_and_traps_are_errors() {
    for code in [0, 3, 125, 255] {
        let finished = run(&[], Guest::Accept2, &["exit", &code.to_string()]);
        assert_eq!(finished.status.code(), Some(code), "{}", finished.stderr);
        assert_eq!(finished.stderr, "");
    }
    let finished = run(&[], Guest::Accept2, &["trap"]);
    assert_eq!(finished.status.code(), Some(1));
    assert!(
        finished.stderr.starts_with("error: `"),
        "{}",
        finished.stderr
    );
    assert!(
        finished
            .stderr
            .contains("wasm `unreachable` instruction executed"),
        "{}",
        finished.stderr
    );
}

#[test]
fn command_line_like_wasmedge() {
    let site = tempdir("site");
    std::fs::write(site.join("index.txt"), "hello from the host\n").unwrap();
    let dir = format!("/srv:{}", site.display());
    let finished = run(
        &["--dir", &dir, "--env", "GREETING=a=b"],
        Guest::Accept2,
        &["read", "/srv/index.txt"],
    );
    assert!(finished.status.success(), "{}", finished.stderr);
    assert_eq!(finished.stdout, ["read hello from the host"]);

    let finished = run(
        &["--env=GREETING=a=b"],
        Guest::Accept2,
        &["env", "GREETING"],
    );
    assert_eq!(finished.stdout, ["env GREETING=a=b"]);
    // The host's own environment is not passed on.
    let finished = run(&[], Guest::Accept2, &["env", "PATH"]);
    assert_eq!(finished.stdout, ["env PATH=(unset)"]);

    let wasm = Guest::Accept2.wasm();
    let finished = run(&[], Guest::Accept2, &["argv", "--dir", "x"]);
    assert_eq!(
        finished.stdout,
        [
            format!("argv[0]={}", wasm.display()),
            "argv[1]=argv".into(),
            "argv[2]=--dir".into(),
            "argv[3]=x".into(),
        ]
    );

    let output = Command::new(env!("CARGO_BIN_EXE_wasmedge-test-host"))
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "wasmedge-test-host 0.1.0 (WasmEdge 0.14 socket calls on Wasmtime 46.0.3; for tests only)\n"
    );

    let output = Command::new(env!("CARGO_BIN_EXE_wasmedge-test-host"))
        .arg(site.join("missing.wasm"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with("error: cannot load module `"),
        "{stderr}"
    );
}

/// A fresh folder under Cargo's temporary directory for tests.
fn tempdir(name: &str) -> std::path::PathBuf {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&path);
    std::fs::create_dir_all(&path).unwrap();
    path
}
