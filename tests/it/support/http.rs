//! A small real HTTP/1.1 server on 127.0.0.1, one thread per connection.
//!
//! Every connection gets `Connection: close`. Dropping the server stops the accept loop and
//! joins every thread, so nothing outlives the test.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// What the server answers for a path.
#[derive(Debug, Clone)]
pub enum Route {
    /// 200 with these bytes and a correct Content-Length.
    Bytes(Vec<u8>),
    /// This status with a short text body.
    Status(u16),
    /// 200 announcing `claimed` bytes in Content-Length, sending only `body`, then closing.
    Truncated { claimed: usize, body: Vec<u8> },
}

pub struct TestServer {
    address: SocketAddr,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
    requests: Arc<Mutex<Vec<String>>>,
}

impl TestServer {
    pub fn start<P: Into<String>>(routes: impl IntoIterator<Item = (P, Route)>) -> TestServer {
        let routes: HashMap<String, Route> = routes
            .into_iter()
            .map(|(path, route)| (path.into(), route))
            .collect();
        let routes = Arc::new(routes);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let address = listener.local_addr().expect("local address");
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(Mutex::new(Vec::new()));

        let acceptor = {
            let stop = Arc::clone(&stop);
            let requests = Arc::clone(&requests);
            thread::spawn(move || {
                let mut connections = Vec::new();
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let routes = Arc::clone(&routes);
                            let requests = Arc::clone(&requests);
                            connections.push(thread::spawn(move || {
                                serve(stream, &routes, &requests);
                            }));
                        }
                        Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {
                            thread::sleep(Duration::from_millis(5));
                        }
                        Err(_) => thread::sleep(Duration::from_millis(5)),
                    }
                    connections.retain(|handle: &JoinHandle<()>| !handle.is_finished());
                }
                for handle in connections {
                    let _ = handle.join();
                }
            })
        };
        TestServer {
            address,
            stop,
            acceptor: Some(acceptor),
            requests,
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// `http://127.0.0.1:PORT<path>`
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url())
    }

    /// How many requests asked for `path`.
    pub fn hits(&self, path: &str) -> usize {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|p| *p == path)
            .count()
    }

    /// How many requests arrived at all.
    pub fn total_hits(&self) -> usize {
        self.requests.lock().unwrap().len()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

fn serve(mut stream: TcpStream, routes: &HashMap<String, Route>, requests: &Mutex<Vec<String>>) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
    let Some(path) = read_request_path(&mut stream) else {
        return;
    };
    requests.lock().unwrap().push(path.clone());
    match routes.get(&path) {
        Some(Route::Bytes(body)) => respond(&mut stream, 200, "OK", body.len(), body),
        Some(Route::Status(code)) => {
            let body = format!("status {code}\n");
            respond(&mut stream, *code, "Error", body.len(), body.as_bytes());
        }
        Some(Route::Truncated { claimed, body }) => {
            respond(&mut stream, 200, "OK", *claimed, body);
        }
        None => {
            let body = b"not found\n";
            respond(&mut stream, 404, "Not Found", body.len(), body);
        }
    }
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Both);
}

fn respond(stream: &mut TcpStream, code: u16, reason: &str, length: usize, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Length: {length}\r\n\
         Content-Type: application/octet-stream\r\nConnection: close\r\n\r\n"
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
}

/// Reads the request head and returns the path of `GET <path> HTTP/1.1`.
fn read_request_path(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut buffer = [0u8; 1024];
    while !head.windows(4).any(|window| window == b"\r\n\r\n") {
        let read = stream.read(&mut buffer).ok()?;
        if read == 0 || head.len() > 64 * 1024 {
            return None;
        }
        head.extend_from_slice(&buffer[..read]);
    }
    let text = String::from_utf8_lossy(&head);
    let request_line = text.lines().next()?;
    let mut parts = request_line.split_whitespace();
    let _method = parts.next()?;
    parts.next().map(str::to_string)
}

/// A URL on 127.0.0.1 where nothing listens: a port bound, then released.
pub fn refused_url(path: &str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let address = listener.local_addr().expect("local address");
    drop(listener);
    format!("http://{address}{path}")
}
