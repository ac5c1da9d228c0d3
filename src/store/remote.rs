//! The remote build cache: a plain HTTP server (any WebDAV-style or object-store
//! endpoint) with the local store's layout, `<url>/builds-v1/<identity>/<file>`.
//!
//! Reading needs GET; pushing needs PUT and HEAD. `entry.json` is uploaded last, so a
//! reader that finds it finds the whole entry; every download is checked against it
//! before it enters the local store.

use std::fs;
use std::path::Path;

use super::http::{self, HttpError};
use super::{BUCKET, ENTRY_FILE, Entry, EntryIndex, Store, StoreError};
use crate::env_vars;

/// An `entry.json` larger than this is refused.
const ENTRY_FILE_LIMIT: u64 = 4 << 20;

#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error("the remote build cache `{url}` is unreachable")]
    Unreachable {
        url: String,
        #[source]
        source: HttpError,
    },
    #[error("the remote build cache refused `{url}`")]
    Refused {
        url: String,
        #[source]
        source: HttpError,
    },
    #[error("the remote build cache entry `{url}` is corrupt or incomplete: {reason}")]
    Corrupt { url: String, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl RemoteError {
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Unreachable {
                source: HttpError::Unreachable(crate::net::Failure::Tls { host, .. }),
                ..
            } => Some(crate::net::tls_hint(host)),
            Self::Unreachable { .. } => Some(format!(
                "check --cache-url / {} (the build goes on without it)",
                env_vars::WLMAKE_CACHE_URL
            )),
            Self::Refused {
                source: HttpError::Status(401 | 403),
                ..
            } => Some(format!(
                "pushing needs a token the server accepts: set {}",
                env_vars::WLMAKE_CACHE_TOKEN
            )),
            Self::Refused { .. } => None,
            Self::Corrupt { .. } => {
                Some("the entry was not used; push a good build over it with --cache-push".into())
            }
            Self::Store(error) => error.hint(),
        }
    }
}

/// A remote build cache.
#[derive(Debug, Clone)]
pub struct Remote {
    base: String,
    token: Option<String>,
    /// Upload builds that the remote lacks.
    pub push: bool,
}

impl Remote {
    pub fn new(url: &str, push: bool, token: Option<String>) -> Remote {
        Remote {
            base: url.trim_end_matches('/').to_string(),
            token: token.filter(|t| !t.is_empty()),
            push,
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn url(&self, identity: &str, file: &str) -> String {
        format!("{}/{BUCKET}/{identity}/{file}", self.base)
    }

    fn classify(&self, url: String, error: HttpError) -> RemoteError {
        match error {
            HttpError::Unreachable(_) => RemoteError::Unreachable { url, source: error },
            HttpError::Status(_) => RemoteError::Refused { url, source: error },
            HttpError::Write(source) => RemoteError::Store(StoreError::Io {
                action: "write",
                path: "<download>".into(),
                source,
            }),
            other => RemoteError::Corrupt {
                url,
                reason: other.to_string(),
            },
        }
    }

    /// Downloads the entry into the local store, checked against its `entry.json`;
    /// `Ok(None)` when the remote does not have it.
    pub fn fetch(&self, store: &Store, identity: &str) -> Result<Option<Entry>, RemoteError> {
        let index_url = self.url(identity, ENTRY_FILE);
        let mut bytes = Vec::new();
        let token = self.token.as_deref();
        match http::get(&index_url, token, &mut bytes, ENTRY_FILE_LIMIT) {
            Ok(Some(_)) => {}
            Ok(None) => return Ok(None),
            Err(error) => return Err(self.classify(index_url, error)),
        }
        let corrupt = |reason: String| RemoteError::Corrupt {
            url: index_url.clone(),
            reason,
        };
        let index: EntryIndex = serde_json::from_slice(&bytes)
            .map_err(|error| corrupt(format!("{ENTRY_FILE} is not valid: {error}")))?;
        index.check().map_err(|error| corrupt(error.to_string()))?;
        if index.identity != identity {
            return Err(corrupt(format!("it names identity {}", index.identity)));
        }
        let entry = store.insert_with(identity, |temp: &Path| {
            for file in &index.files {
                let url = self.url(identity, &file.path);
                let target = temp.join(&file.path);
                if let Some(parent) = target.parent() {
                    fs::create_dir_all(parent).map_err(StoreError::io("create folder", parent))?;
                }
                let mut out =
                    fs::File::create(&target).map_err(StoreError::io("write", &target))?;
                match http::get(&url, token, &mut out, file.size) {
                    Ok(Some(_)) => {}
                    Ok(None) => {
                        return Err(RemoteError::Corrupt {
                            url,
                            reason: format!("`{}` is listed but missing", file.path),
                        });
                    }
                    Err(error) => return Err(self.classify(url, error)),
                }
            }
            Ok(index.clone())
        });
        match entry {
            Ok(entry) => Ok(Some(entry)),
            Err(RemoteError::Store(StoreError::Mismatch { reason })) => Err(RemoteError::Corrupt {
                url: self.url(identity, ""),
                reason,
            }),
            Err(error) => Err(error),
        }
    }

    /// Uploads a local entry unless the remote has it: every file, then `entry.json`.
    /// Returns true when something was uploaded.
    pub fn push(&self, entry: &Entry) -> Result<bool, RemoteError> {
        let identity = &entry.index.identity;
        let token = self.token.as_deref();
        let index_url = self.url(identity, ENTRY_FILE);
        match http::head(&index_url, token) {
            Ok(true) => return Ok(false),
            Ok(false) => {}
            Err(error) => return Err(self.classify(index_url, error)),
        }
        let upload = |relative: &str| -> Result<(), RemoteError> {
            let path = entry.path(relative);
            let bytes = fs::read(&path).map_err(StoreError::io("read", &path))?;
            let url = self.url(identity, relative);
            http::put(&url, token, bytes).map_err(|error| self.classify(url, error))
        };
        for file in &entry.index.files {
            upload(&file.path)?;
        }
        upload(ENTRY_FILE)?;
        Ok(true)
    }
}
