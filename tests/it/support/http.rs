//! A small real HTTP/1.1 server on 127.0.0.1, one thread per connection.
//!
//! GET answers from fixed routes, then from files stored with PUT; HEAD answers as GET
//! without the body (a tiny remote build cache). Every connection gets `Connection: close`. Dropping the server stops the accept loop and
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
    state: Arc<State>,
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub authorization: Option<String>,
}

/// Files stored with PUT, the request log, and the token PUT needs.
#[derive(Default)]
struct State {
    stored: Mutex<HashMap<String, Vec<u8>>>,
    log: Mutex<Vec<Request>>,
    put_token: Option<String>,
}

impl TestServer {
    pub fn start<P: Into<String>>(routes: impl IntoIterator<Item = (P, Route)>) -> TestServer {
        Self::start_with(routes, None)
    }

    /// A server that stores what is PUT (only with `Authorization: Bearer <token>` when a
    /// token is given; else 401) and serves it back with GET and HEAD.
    pub fn start_store(put_token: Option<&str>) -> TestServer {
        Self::start_with(Vec::<(String, Route)>::new(), put_token.map(str::to_string))
    }

    fn start_with<P: Into<String>>(
        routes: impl IntoIterator<Item = (P, Route)>,
        put_token: Option<String>,
    ) -> TestServer {
        let state = Arc::new(State {
            put_token,
            ..State::default()
        });
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
            let state = Arc::clone(&state);
            thread::spawn(move || {
                let mut connections = Vec::new();
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let routes = Arc::clone(&routes);
                            let requests = Arc::clone(&requests);
                            let state = Arc::clone(&state);
                            connections.push(thread::spawn(move || {
                                serve(stream, &routes, &requests, &state);
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
            state,
        }
    }

    /// The bytes stored at `path` by PUT (or by [`TestServer::store`]).
    pub fn stored(&self, path: &str) -> Option<Vec<u8>> {
        self.state.stored.lock().unwrap().get(path).cloned()
    }

    /// Every stored path, sorted.
    pub fn stored_paths(&self) -> Vec<String> {
        let mut paths: Vec<String> = self.state.stored.lock().unwrap().keys().cloned().collect();
        paths.sort();
        paths
    }

    /// Puts (or replaces) a file as if a client had PUT it.
    pub fn store(&self, path: &str, bytes: Vec<u8>) {
        self.state
            .stored
            .lock()
            .unwrap()
            .insert(path.to_string(), bytes);
    }

    /// Every request, in order of arrival.
    pub fn log(&self) -> Vec<Request> {
        self.state.log.lock().unwrap().clone()
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

fn serve(
    mut stream: TcpStream,
    routes: &HashMap<String, Route>,
    requests: &Mutex<Vec<String>>,
    state: &State,
) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
    let Some(head) = read_request(&mut stream) else {
        return;
    };
    let path = head.request.path.clone();
    requests.lock().unwrap().push(path.clone());
    state.log.lock().unwrap().push(head.request.clone());
    match head.request.method.as_str() {
        "PUT" => {
            let authorized = match &state.put_token {
                Some(token) => {
                    head.request.authorization.as_deref() == Some(&format!("Bearer {token}"))
                }
                None => true,
            };
            let (code, reason) = if !authorized {
                (401, "Unauthorized")
            } else if head.body.len() as u64 != head.content_length.unwrap_or(u64::MAX) {
                (400, "Bad Request")
            } else {
                state.stored.lock().unwrap().insert(path, head.body);
                (201, "Created")
            };
            respond(&mut stream, code, reason, 0, b"");
        }
        "HEAD" => {
            let length = state.stored.lock().unwrap().get(&path).map(Vec::len);
            match length {
                Some(length) => respond_head(&mut stream, 200, "OK", length),
                None => respond_head(&mut stream, 404, "Not Found", 0),
            }
        }
        _ => serve_get(&mut stream, routes, state, &path),
    }
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Both);
}

fn serve_get(stream: &mut TcpStream, routes: &HashMap<String, Route>, state: &State, path: &str) {
    let stored = state.stored.lock().unwrap().get(path).cloned();
    if let Some(body) = stored {
        respond(stream, 200, "OK", body.len(), &body);
        return;
    }
    match routes.get(path) {
        Some(Route::Bytes(body)) => respond(stream, 200, "OK", body.len(), body),
        Some(Route::Status(code)) => {
            let body = format!("status {code}\n");
            respond(stream, *code, "Error", body.len(), body.as_bytes());
        }
        Some(Route::Truncated { claimed, body }) => {
            respond(stream, 200, "OK", *claimed, body);
        }
        None => {
            let body = b"not found\n";
            respond(stream, 404, "Not Found", body.len(), body);
        }
    }
}

fn respond_head(stream: &mut TcpStream, code: u16, reason: &str, length: usize) {
    let head = format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Length: {length}\r\n\
         Content-Type: application/octet-stream\r\nConnection: close\r\n\r\n"
    );
    let _ = stream.write_all(head.as_bytes());
}

fn respond(stream: &mut TcpStream, code: u16, reason: &str, length: usize, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Length: {length}\r\n\
         Content-Type: application/octet-stream\r\nConnection: close\r\n\r\n"
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
}

struct RequestHead {
    request: Request,
    content_length: Option<u64>,
    body: Vec<u8>,
}

/// Reads the request head (method, path, Authorization, Content-Length) and the body
/// that Content-Length announces.
fn read_request(stream: &mut TcpStream) -> Option<RequestHead> {
    let mut data = Vec::new();
    let mut buffer = [0u8; 64 * 1024];
    let end = loop {
        if let Some(end) = data.windows(4).position(|window| window == b"\r\n\r\n") {
            break end + 4;
        }
        let read = stream.read(&mut buffer).ok()?;
        if read == 0 || data.len() > 64 * 1024 {
            return None;
        }
        data.extend_from_slice(&buffer[..read]);
    };
    let text = String::from_utf8_lossy(&data[..end]).into_owned();
    let mut lines = text.lines();
    let mut parts = lines.next()?.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut authorization = None;
    let mut content_length = None;
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "authorization" => authorization = Some(value.trim().to_string()),
                "content-length" => content_length = value.trim().parse().ok(),
                _ => {}
            }
        }
    }
    let mut body = data[end..].to_vec();
    let wanted = content_length.unwrap_or(0);
    while (body.len() as u64) < wanted {
        let read = stream.read(&mut buffer).ok()?;
        if read == 0 {
            break;
        }
        body.extend_from_slice(&buffer[..read]);
    }
    Some(RequestHead {
        request: Request {
            method,
            path,
            authorization,
        },
        content_length,
        body,
    })
}

/// A URL on 127.0.0.1 where nothing listens: a port bound, then released.
pub fn refused_url(path: &str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let address = listener.local_addr().expect("local address");
    drop(listener);
    format!("http://{address}{path}")
}
