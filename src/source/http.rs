//! HTTP downloads of source archives: the shared client (`crate::net`), status codes as
//! errors, truncated bodies detected, progress through the reporter.

use std::io::{self, Read, Write};

use crate::net::{self, Failure, Purpose};
use crate::reporter::Reporter;

use super::error::FailureReason;

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
    let response = net::client(Purpose::Source)
        .map_err(FailureReason::Net)?
        .get(url)
        // Archives are already compressed: ask for the bytes as they are, so that no
        // transparent decompression changes what gets hashed.
        .header("Accept-Encoding", "identity")
        .send()
        .map_err(|error| FailureReason::Net(net::classify(&error)))?;
    let status = response.status();
    if status.is_client_error() || status.is_server_error() {
        return Err(FailureReason::HttpStatus(status.as_u16()));
    }
    let expected = response.content_length();
    tracing::debug!(url, status = %response.status(), ?expected, "response");
    reporter.task_start(label, expected);
    let result = copy_body(response, out, expected, reporter);
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
    if net::is_read_timeout(&error) {
        return FailureReason::Net(Failure::Timeout(format!("after {received} bytes: {error}")));
    }
    FailureReason::Truncated {
        received,
        expected,
        detail: Some(error.to_string()),
    }
}
