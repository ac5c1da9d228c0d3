//! The HTTP calls of the remote build cache (GET, PUT, HEAD), in one place so that the
//! client library can change without touching the cache logic.

use std::io::{self, Read, Write};

use reqwest::blocking::{RequestBuilder, Response};

use crate::net::{self, Failure, Purpose};

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("cannot reach it: {0}")]
    Unreachable(Failure),
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

/// A request through the shared client, with the token when there is one.
fn request(
    token: Option<&str>,
    method: impl FnOnce(&reqwest::blocking::Client) -> RequestBuilder,
) -> Result<Response, HttpError> {
    let client = net::client(Purpose::Cache).map_err(HttpError::Unreachable)?;
    let mut request = method(client);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request
        .send()
        .map_err(|error| HttpError::Unreachable(net::classify(&error)))
}

/// True when the server has `url` (2xx), false on 404.
pub fn head(url: &str, token: Option<&str>) -> Result<bool, HttpError> {
    tracing::debug!(url, "HEAD");
    let response = request(token, |client| client.head(url))?;
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
    let mut response = request(token, |client| {
        client.get(url).header("Accept-Encoding", "identity")
    })?;
    match response.status().as_u16() {
        200..=299 => {}
        404 => return Ok(None),
        code => return Err(HttpError::Status(code)),
    }
    let expected = response.content_length();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut received = 0u64;
    loop {
        let read = match response.read(&mut buffer) {
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
pub fn put(url: &str, token: Option<&str>, bytes: Vec<u8>) -> Result<(), HttpError> {
    tracing::debug!(url, size = bytes.len(), "PUT");
    let response = request(token, |client| {
        client
            .put(url)
            .header("Content-Type", "application/octet-stream")
            .body(bytes)
    })?;
    match response.status().as_u16() {
        200..=299 => Ok(()),
        code => Err(HttpError::Status(code)),
    }
}
