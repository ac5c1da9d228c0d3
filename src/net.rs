//! The one place that builds HTTP clients: reqwest's blocking client over rustls, which
//! checks servers against the system's root certificates (so a private CA installed on
//! the machine, or named by `SSL_CERT_FILE` / `SSL_CERT_DIR`, is trusted), with our
//! timeouts, user agent and the proxy from the environment (`HTTPS_PROXY`, `NO_PROXY`, ...).
//! Source downloads and the remote build cache both get their client here, and both turn
//! a failed request into a [`Failure`] the same way.

use std::error::Error as _;
use std::io;
use std::sync::OnceLock;
use std::time::Duration;

use reqwest::blocking::Client;

/// What the client is for: each use has its own patience.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Source archives: without a network the connect fails fast, so the next provider
    /// gets its turn; a slow but moving download may take as long as it needs.
    Source,
    /// The remote build cache: an optional speed-up, so a build should not wait long.
    Cache,
}

impl Purpose {
    /// Time allowed to resolve the host name and open the connection (TLS included).
    fn connect_timeout(self) -> Duration {
        match self {
            Self::Source => Duration::from_secs(15),
            Self::Cache => Duration::from_secs(5),
        }
    }

    /// Time allowed for the response headers, and for each read of the body: a read that
    /// stalls this long ends the download; there is no limit on the whole body.
    fn io_timeout(self) -> Duration {
        match self {
            Self::Source => Duration::from_secs(120),
            Self::Cache => Duration::from_secs(60),
        }
    }
}

/// The client for `purpose`, built once per process. An error (no crypto provider, an
/// unreadable certificate store) is kept as text and reported by every request.
pub fn client(purpose: Purpose) -> Result<&'static Client, Failure> {
    static SOURCE: OnceLock<Result<Client, String>> = OnceLock::new();
    static CACHE: OnceLock<Result<Client, String>> = OnceLock::new();
    let cell = match purpose {
        Purpose::Source => &SOURCE,
        Purpose::Cache => &CACHE,
    };
    cell.get_or_init(|| build(purpose))
        .as_ref()
        .map_err(|detail| Failure::Other(format!("cannot set up the HTTP client: {detail}")))
}

fn build(purpose: Purpose) -> Result<Client, String> {
    // reqwest uses the process's default rustls provider; ring is ours (see
    // docs/dependencies.md). Another part of the process may have installed one already.
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder()
        .user_agent(concat!("wlmake/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(purpose.connect_timeout())
        .timeout(purpose.io_timeout())
        .build()
        .map_err(|error| chain(&error))
}

/// Why a request got no answer (an HTTP status is an answer: callers read it from the
/// response).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    ConnectionRefused,
    /// Name resolution failed.
    Dns(String),
    Timeout(String),
    /// The TLS handshake failed, most often because no trusted root certificate signs
    /// the server's certificate.
    Tls {
        host: String,
        detail: String,
    },
    Other(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ConnectionRefused => f.write_str("connection refused"),
            Self::Dns(detail) => write!(f, "dns error: {detail}"),
            Self::Timeout(detail) => write!(f, "timed out ({detail})"),
            Self::Tls { host, detail } => write!(f, "TLS error with {host}: {detail}"),
            Self::Other(detail) => write!(f, "network error: {detail}"),
        }
    }
}

/// The hint for a [`Failure::Tls`]: where wlmake looks for trusted certificates.
pub fn tls_hint(host: &str) -> String {
    format!(
        "wlmake trusts the system's root certificates: install the CA that signed {host}'s \
         certificate into the system store (Debian: copy it to /usr/local/share/ca-certificates/ \
         and run `update-ca-certificates`), or set SSL_CERT_FILE to a PEM file holding it"
    )
}

/// Sorts a failed request into a [`Failure`].
pub fn classify(error: &reqwest::Error) -> Failure {
    let detail = chain(error);
    if let Some(tls) = find::<rustls::Error>(error) {
        let host = error
            .url()
            .and_then(|url| url.host_str())
            .unwrap_or("the server")
            .to_string();
        return Failure::Tls {
            host,
            detail: tls.to_string(),
        };
    }
    if error.is_timeout() {
        return Failure::Timeout(detail);
    }
    if let Some(io) = find::<io::Error>(error)
        && io.kind() == io::ErrorKind::ConnectionRefused
    {
        return Failure::ConnectionRefused;
    }
    // hyper-util's connector says "dns error"; the system resolver's text follows.
    if detail.contains("dns error")
        || detail.contains("failed to lookup address")
        || detail.contains("Name or service not known")
        || detail.contains("Temporary failure in name resolution")
    {
        return Failure::Dns(detail);
    }
    Failure::Other(detail)
}

/// True when a body read failed because it stalled past the client's timeout.
pub fn is_read_timeout(error: &io::Error) -> bool {
    if error.kind() == io::ErrorKind::TimedOut {
        return true;
    }
    error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<reqwest::Error>())
        .is_some_and(reqwest::Error::is_timeout)
}

/// The first error of type `E` in `error`'s source chain. An `io::Error` wrapping another
/// error reports that error's source, not the error itself: look inside it.
fn find<E: std::error::Error + 'static>(error: &reqwest::Error) -> Option<&E> {
    let mut next = error.source();
    while let Some(current) = next {
        if let Some(found) = current.downcast_ref::<E>() {
            return Some(found);
        }
        next = match current
            .downcast_ref::<io::Error>()
            .and_then(io::Error::get_ref)
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => current.source(),
        };
    }
    None
}

/// `error` and its causes on one line, each cause once.
fn chain(error: &dyn std::error::Error) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(current) = source {
        let text = current.to_string();
        if !parts.iter().any(|part| part.contains(&text)) {
            parts.push(text);
        }
        source = current.source();
    }
    parts.join(": ")
}
