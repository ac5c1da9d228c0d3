//! HTTP downloads with ureq: short connect timeouts, status codes as errors, truncated
//! bodies detected, progress through the reporter.

use std::io::{self, Read, Write};
use std::sync::OnceLock;
use std::time::Duration;

use ureq::Agent;

use crate::reporter::Reporter;

use super::error::FailureReason;

/// Time allowed to resolve a host name and to open a connection: without a network these
/// fail fast, so the next provider gets its turn.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// Time allowed for the response headers.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(60);
/// A read that stalls this long ends the download; there is no limit on the whole body.
const READ_TIMEOUT: Duration = Duration::from_secs(120);

fn agent() -> &'static Agent {
    static AGENT: OnceLock<Agent> = OnceLock::new();
    AGENT.get_or_init(|| {
        let config = Agent::config_builder()
            .http_status_as_error(true)
            .timeout_resolve(Some(CONNECT_TIMEOUT))
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_recv_response(Some(RESPONSE_TIMEOUT))
            .timeout_per_read(Some(READ_TIMEOUT))
            .user_agent(concat!("wlmake/", env!("CARGO_PKG_VERSION")))
            .build();
        Agent::new_with_config(config)
    })
}

/// Downloads `url` into `out`, reporting progress under `label`. Returns the byte count.
///
/// The body must be complete: a read error or fewer bytes than `Content-Length` is a
/// [`FailureReason::Truncated`].
pub(crate) fn download(
    url: &str,
    out: &mut dyn Write,
    label: &str,
    reporter: &dyn Reporter,
) -> Result<u64, FailureReason> {
    tracing::debug!(url, "GET");
    let response = agent()
        .get(url)
        // Archives are already compressed: ask for the bytes as they are, so that no
        // transparent decompression changes what gets hashed.
        .header("Accept-Encoding", "identity")
        .call()
        .map_err(classify)?;
    let expected = response.body().content_length();
    tracing::debug!(url, status = %response.status(), ?expected, "response");
    reporter.task_start(label, expected);
    let result = copy_body(response.into_body().into_reader(), out, expected, reporter);
    reporter.task_finish();
    result
}

fn copy_body(
    mut reader: impl Read,
    out: &mut dyn Write,
    expected: Option<u64>,
    reporter: &dyn Reporter,
) -> Result<u64, FailureReason> {
    let mut buffer = vec![0; 64 * 1024];
    let mut received = 0u64;
    loop {
        let read = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => {
                return Err(read_failure(error, received, expected));
            }
        };
        out.write_all(&buffer[..read])
            .map_err(|source| FailureReason::Io {
                path: "<download temp file>".into(),
                source,
            })?;
        received += read as u64;
        reporter.task_advance(read as u64);
    }
    match expected {
        Some(expected) if expected != received => Err(FailureReason::Truncated {
            received,
            expected: Some(expected),
            detail: None,
        }),
        _ => Ok(received),
    }
}

/// A body read failed: a timeout stays a timeout; anything else means the body is short.
fn read_failure(error: io::Error, received: u64, expected: Option<u64>) -> FailureReason {
    if error.kind() == io::ErrorKind::TimedOut {
        return FailureReason::Timeout(format!("after {received} bytes: {error}"));
    }
    FailureReason::Truncated {
        received,
        expected,
        detail: Some(error.to_string()),
    }
}

fn classify(error: ureq::Error) -> FailureReason {
    match error {
        ureq::Error::StatusCode(code) => FailureReason::HttpStatus(code),
        ureq::Error::HostNotFound => FailureReason::Dns("host not found".to_string()),
        ureq::Error::Timeout(what) => FailureReason::Timeout(what.to_string()),
        ureq::Error::ConnectionFailed => FailureReason::Network("connection failed".to_string()),
        ureq::Error::Io(error) => classify_io(error),
        other => FailureReason::Network(other.to_string()),
    }
}

fn classify_io(error: io::Error) -> FailureReason {
    match error.kind() {
        io::ErrorKind::ConnectionRefused => FailureReason::ConnectionRefused,
        io::ErrorKind::TimedOut => FailureReason::Timeout(error.to_string()),
        _ => {
            // Resolver failures from the system come back as plain io errors.
            let text = error.to_string();
            if text.contains("failed to lookup address")
                || text.contains("Name or service not known")
                || text.contains("Temporary failure in name resolution")
            {
                FailureReason::Dns(text)
            } else {
                FailureReason::Network(text)
            }
        }
    }
}
