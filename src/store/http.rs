//! The HTTP calls of the remote build cache (GET, PUT, HEAD), in one place so that the
//! client library can change without touching the cache logic.

use std::io::{self, Read, Write};
use std::sync::OnceLock;
use std::time::Duration;

use ureq::Agent;

/// A cache that does not answer within this time is treated as unreachable: a build
/// should not wait long for an optional speed-up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(30);
const READ_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("cannot reach it: {0}")]
    Unreachable(String),
    #[error("it answered HTTP {0}")]
    Status(u16),
    #[error("the body ended after {received} of {expected} bytes")]
    Truncated { received: u64, expected: u64 },
    #[error("the body is larger than the {limit} bytes expected")]
    TooLarge { limit: u64 },
    #[error("reading the body failed after {received} bytes: {detail}")]
    Read { received: u64, detail: String },
    #[error("cannot write the download: {0}")]
    Write(#[source] io::Error),
}

fn agent() -> &'static Agent {
    static AGENT: OnceLock<Agent> = OnceLock::new();
    AGENT.get_or_init(|| {
        let config = Agent::config_builder()
            .http_status_as_error(false)
            .timeout_resolve(Some(CONNECT_TIMEOUT))
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_recv_response(Some(RESPONSE_TIMEOUT))
            .timeout_per_read(Some(READ_TIMEOUT))
            .user_agent(concat!("wlmake/", env!("CARGO_PKG_VERSION")))
            .build();
        Agent::new_with_config(config)
    })
}

fn unreachable(error: ureq::Error) -> HttpError {
    HttpError::Unreachable(error.to_string())
}

/// True when the server has `url` (2xx), false on 404.
pub fn head(url: &str, token: Option<&str>) -> Result<bool, HttpError> {
    tracing::debug!(url, "HEAD");
    let mut request = agent().head(url);
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    let response = request.call().map_err(unreachable)?;
    match response.status().as_u16() {
        200..=299 => Ok(true),
        404 => Ok(false),
        code => Err(HttpError::Status(code)),
    }
}

/// Downloads `url` into `out`; `Ok(None)` on 404. At most `limit` bytes are accepted, and
/// a body shorter than its Content-Length is an error.
pub fn get(
    url: &str,
    token: Option<&str>,
    out: &mut dyn Write,
    limit: u64,
) -> Result<Option<u64>, HttpError> {
    tracing::debug!(url, "GET");
    let mut request = agent().get(url).header("Accept-Encoding", "identity");
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    let response = request.call().map_err(unreachable)?;
    match response.status().as_u16() {
        200..=299 => {}
        404 => return Ok(None),
        code => return Err(HttpError::Status(code)),
    }
    let expected = response.body().content_length();
    let mut reader = response.into_body().into_reader();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut received = 0u64;
    loop {
        let read = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => {
                return Err(HttpError::Read {
                    received,
                    detail: error.to_string(),
                });
            }
        };
        received += read as u64;
        if received > limit {
            return Err(HttpError::TooLarge { limit });
        }
        out.write_all(&buffer[..read]).map_err(HttpError::Write)?;
    }
    if let Some(expected) = expected
        && expected != received
    {
        return Err(HttpError::Truncated { received, expected });
    }
    Ok(Some(received))
}

/// Uploads `bytes` to `url`.
pub fn put(url: &str, token: Option<&str>, bytes: &[u8]) -> Result<(), HttpError> {
    tracing::debug!(url, size = bytes.len(), "PUT");
    let mut request = agent()
        .put(url)
        .header("Content-Type", "application/octet-stream");
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    let response = request.send(bytes).map_err(unreachable)?;
    match response.status().as_u16() {
        200..=299 => Ok(()),
        code => Err(HttpError::Status(code)),
    }
}
