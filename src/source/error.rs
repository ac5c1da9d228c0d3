//! Everything that can go wrong while getting a source tree, with the data a user needs.

use std::fmt;
use std::io;
use std::path::PathBuf;

use crate::env_vars;

/// The apt sources file a deb-src entry is derived from (Debian 12 layout).
const APT_SOURCES_FILE: &str = "/etc/apt/sources.list.d/debian.sources";

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("no cache folder could be determined for this user")]
    NoCacheDir,

    #[error("failed to {action} `{}`", path.display())]
    Io {
        /// What was being done, as a verb phrase: `create folder`, `read`, `rename`.
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("failed to lock `{}`", path.display())]
    Lock {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("invalid {what} `{name}`: a plain file name is required")]
    InvalidFileName { what: &'static str, name: String },

    #[error(
        "could not get `{file_name}` (sha256 {sha256}); every provider failed:{}",
        AttemptList(attempts)
    )]
    AllProvidersFailed {
        file_name: String,
        sha256: String,
        attempts: Vec<Attempt>,
    },

    #[error("git repository `{url}`: {action} failed")]
    Git {
        url: String,
        action: &'static str,
        #[source]
        source: git2::Error,
    },

    #[error("git repository `{url}` has no tag `{tag}`")]
    GitTagNotFound {
        url: String,
        tag: String,
        #[source]
        source: git2::Error,
    },

    #[error(
        "git tag `{tag}` of `{url}` points at commit {actual}, but the recipe pins commit {expected}"
    )]
    GitTagMismatch {
        url: String,
        tag: String,
        expected: String,
        actual: String,
    },

    #[error("invalid pinned commit `{commit}`: 40 hexadecimal digits are required")]
    GitInvalidCommit { commit: String },

    #[error("git tree entry `{entry}` of `{url}` has an unsafe name")]
    GitUnsafeEntry { url: String, entry: String },

    #[error("source folder `{}` does not exist", path.display())]
    PathMissing { path: PathBuf },

    #[error(
        "unsupported archive format `{file_name}` (expected .tar.gz, .tgz, .tar.xz, .tar.bz2 or .tar)"
    )]
    UnsupportedArchive { file_name: String },

    #[error("failed to read archive `{}`", archive.display())]
    ArchiveRead {
        archive: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("refusing to extract entry `{entry}` of `{}`: {reason}", archive.display())]
    UnsafeEntry {
        archive: PathBuf,
        entry: String,
        reason: String,
    },

    #[error("entry `{entry}` of `{}` is not under the strip prefix `{prefix}`", archive.display())]
    StripPrefix {
        archive: PathBuf,
        entry: String,
        prefix: String,
    },

    #[error("failed to extract entry `{entry}` of `{}`", archive.display())]
    ExtractEntry {
        archive: PathBuf,
        entry: String,
        #[source]
        source: io::Error,
    },
}

impl SourceError {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// What the user can do about it, rendered by the CLI as `hint:`.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::NoCacheDir => Some(format!(
                "set {} to a folder wlmake may use as its cache",
                env_vars::WLMAKE_CACHE_DIR
            )),
            Self::Io { .. } | Self::Lock { .. } => Some(format!(
                "check the folder's permissions and free space, or point {} elsewhere",
                env_vars::WLMAKE_CACHE_DIR
            )),
            Self::InvalidFileName { .. } => {
                Some("fix the file name in the recipe's source section".to_string())
            }
            Self::AllProvidersFailed {
                file_name,
                attempts,
                ..
            } => Some(providers_hint(file_name, attempts)),
            Self::Git { .. } => Some(
                "check that the repository URL is right and reachable (a local path works too)"
                    .to_string(),
            ),
            Self::GitTagNotFound { .. } => {
                Some("check the recipe's `tag`: it must exist in the repository".to_string())
            }
            Self::GitTagMismatch { tag, actual, .. } => Some(format!(
                "the tag `{tag}` was moved or the recipe is wrong; if {actual} is trusted, \
                 put it in the recipe's `commit`"
            )),
            Self::GitInvalidCommit { .. } => {
                Some("write the full 40-character commit id in the recipe".to_string())
            }
            Self::GitUnsafeEntry { .. } => Some(
                "the repository contains a path that cannot be checked out safely".to_string(),
            ),
            Self::PathMissing { .. } => Some(
                "check the recipe's `path`: it is relative to the repository root".to_string(),
            ),
            Self::UnsupportedArchive { .. } => Some(
                "use a .tar.gz, .tar.xz or .tar.bz2 archive (the format is taken from the file name)"
                    .to_string(),
            ),
            Self::ArchiveRead { .. } => Some(
                "the archive is damaged; remove it from the cache and fetch it again".to_string(),
            ),
            Self::UnsafeEntry { .. } => Some(
                "the archive would write outside its folder; do not use it, check where it came from"
                    .to_string(),
            ),
            Self::StripPrefix { entry, .. } => {
                let first = entry.split('/').find(|part| !part.is_empty() && *part != ".");
                Some(match first {
                    Some(first) => format!(
                        "set the recipe's `strip-prefix` to the archive's top folder (`{first}`?), \
                         or remove it to keep the layout"
                    ),
                    None => "remove the recipe's `strip-prefix` to keep the layout".to_string(),
                })
            }
            Self::ExtractEntry { .. } => Some(
                "check the free space and permissions of the destination folder".to_string(),
            ),
        }
    }
}

fn providers_hint(file_name: &str, attempts: &[Attempt]) -> String {
    let apt_without_deb_src = attempts.iter().find_map(|attempt| match &attempt.reason {
        FailureReason::AptNoSourceEntries { .. } => Some(()),
        _ => None,
    });
    let debian_file = attempts.iter().find_map(|attempt| match &attempt.reason {
        FailureReason::AptNoSourceEntries { file, .. }
        | FailureReason::AptFileMissing { file, .. }
        | FailureReason::AptFailed { file, .. } => Some(file.clone()),
        _ => None,
    });
    let files = match &debian_file {
        Some(debian) => format!("`{file_name}` or `{debian}`"),
        None => format!("`{file_name}`"),
    };
    let mirror = format!(
        "set {} to a folder holding {files} (or to a base URL serving it)",
        env_vars::WLMAKE_MIRROR
    );
    if apt_without_deb_src.is_some() {
        return format!(
            "add a deb-src entry for apt: a copy of the stanza in {APT_SOURCES_FILE} with \
             `Types: deb-src` (and `Suites:` naming the Debian release that carries the \
             package), in a new file such as /etc/apt/sources.list.d/deb-src.sources, then run \
             `apt-get update`; or {mirror}"
        );
    }
    let only_checksums = attempts
        .iter()
        .all(|attempt| matches!(attempt.reason, FailureReason::ChecksumMismatch { .. }));
    if only_checksums && !attempts.is_empty() {
        return format!(
            "every copy found differs from the recipe's sha256: the upstream file changed or \
             the recipe's checksum is wrong; or {mirror}"
        );
    }
    if let Some(host) = attempts.iter().find_map(|attempt| match &attempt.reason {
        FailureReason::Net(crate::net::Failure::Tls { host, .. }) => Some(host),
        _ => None,
    }) {
        return format!("{}; or {mirror}", crate::net::tls_hint(host));
    }
    format!("check the network connection, or {mirror}")
}

/// One provider tried while fetching an archive, and why it did not deliver.
#[derive(Debug)]
pub struct Attempt {
    /// `mirror http://..`, the URL, `apt source package php7.4`, ...
    pub provider: String,
    pub reason: FailureReason,
}

impl fmt::Display for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.provider, self.reason)
    }
}

struct AttemptList<'a>(&'a [Attempt]);

impl fmt::Display for AttemptList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str(" no provider is configured (no URL, mirror or Debian package)");
        }
        for attempt in self.0 {
            write!(f, "\n  - {attempt}")?;
        }
        Ok(())
    }
}

/// Why one provider failed. Not an error on its own: [`SourceError::AllProvidersFailed`]
/// collects them.
#[derive(Debug)]
pub enum FailureReason {
    /// The server answered with a 4xx/5xx status.
    HttpStatus(u16),
    /// The request got no answer (refused, DNS, timeout, TLS, ...).
    Net(crate::net::Failure),
    /// The body ended before `Content-Length` bytes arrived.
    Truncated {
        received: u64,
        expected: Option<u64>,
        detail: Option<String>,
    },
    ChecksumMismatch {
        expected: String,
        actual: String,
    },
    /// A mirror folder holds none of the candidate names.
    NotInFolder {
        candidates: Vec<String>,
    },
    /// A local read or write failed.
    Io {
        path: PathBuf,
        source: io::Error,
    },
    AptNotInstalled,
    /// apt-get has no deb-src entries, or does not know the package.
    AptNoSourceEntries {
        file: String,
        message: String,
    },
    /// apt-get failed for another reason.
    AptFailed {
        file: String,
        status: String,
        output: String,
    },
    /// apt-get succeeded but did not download the expected orig tarball.
    AptFileMissing {
        file: String,
        downloaded: Vec<String>,
    },
}

impl fmt::Display for FailureReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::HttpStatus(code) => write!(f, "HTTP status {code}"),
            Self::Net(failure) => failure.fmt(f),
            Self::Truncated {
                received,
                expected,
                detail,
            } => {
                write!(f, "truncated download: received {received} bytes")?;
                if let Some(expected) = expected {
                    write!(f, " of {expected}")?;
                }
                if let Some(detail) = detail {
                    write!(f, " ({detail})")?;
                }
                Ok(())
            }
            Self::ChecksumMismatch { expected, actual } => {
                write!(
                    f,
                    "checksum mismatch: expected sha256 {expected}, got {actual}"
                )
            }
            Self::NotInFolder { candidates } => {
                write!(f, "no such file (looked for {})", candidates.join(", "))
            }
            Self::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Self::AptNotInstalled => f.write_str("apt-get is not installed"),
            Self::AptNoSourceEntries { message, .. } => {
                if message.contains("deb-src") || message.contains("'source' URIs") {
                    write!(f, "no deb-src entries ({message})")
                } else {
                    write!(
                        f,
                        "the deb-src entries carry no such source package ({message})"
                    )
                }
            }
            Self::AptFailed { status, output, .. } => {
                write!(f, "apt-get failed ({status})")?;
                if !output.is_empty() {
                    write!(f, ": {output}")?;
                }
                Ok(())
            }
            Self::AptFileMissing { file, downloaded } => write!(
                f,
                "apt-get did not download `{file}` (got: {})",
                if downloaded.is_empty() {
                    "nothing".to_string()
                } else {
                    downloaded.join(", ")
                }
            ),
        }
    }
}
