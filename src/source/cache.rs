//! The download cache: versioned buckets under one root, a CACHEDIR.TAG, file locks.
//!
//! Layout:
//!
//! ```text
//! <root>/CACHEDIR.TAG
//! <root>/sources-v1/<sha256>/<file name>    archives, content-addressed
//! <root>/sources-v1/<sha256>/.lock          held while the entry is checked or filled
//! <root>/git-v1/<sha256 of url, 16 hex>/    bare repositories
//! <root>/git-v1/<sha256 of url, 16 hex>.lock
//! ```

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use crate::env_vars;
use crate::recipe::Sha256;

use super::error::SourceError;

/// Archives bucket; bump the version when the layout inside changes.
pub(crate) const SOURCES_BUCKET: &str = "sources-v1";
/// Bare git repositories bucket.
pub(crate) const GIT_BUCKET: &str = "git-v1";

const CACHEDIR_TAG: &str = "Signature: 8a477f597d28d172789f06886806bc55\n\
# This file is a cache directory tag created by wlmake.\n\
# For information about cache directory tags see https://bford.info/cachedir/\n";

/// The root of wlmake's cache.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    /// Uses `root` as the cache, creating it and its CACHEDIR.TAG when missing.
    pub fn new(root: PathBuf) -> Result<Cache, SourceError> {
        fs::create_dir_all(&root).map_err(|e| SourceError::io("create folder", &root, e))?;
        let tag = root.join("CACHEDIR.TAG");
        if !tag.exists() {
            crate::files::write_atomically(&root, &tag, CACHEDIR_TAG.as_bytes())
                .map_err(|e| SourceError::io("write", &tag, e))?;
        }
        Ok(Cache { root })
    }

    /// `WLMAKE_CACHE_DIR`, else the user's cache folder + `/wlmake`.
    pub fn from_env() -> Result<Cache, SourceError> {
        match std::env::var_os(env_vars::WLMAKE_CACHE_DIR) {
            Some(dir) if !dir.is_empty() => Cache::new(PathBuf::from(dir)),
            _ => {
                let base = dirs::cache_dir().ok_or(SourceError::NoCacheDir)?;
                Cache::new(base.join("wlmake"))
            }
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the archive with this checksum is kept: `sources-v1/<sha256>/<file_name>`.
    pub fn archive_path(&self, sha256: &Sha256, file_name: &str) -> PathBuf {
        self.archive_bucket(sha256).join(file_name)
    }

    pub(crate) fn archive_bucket(&self, sha256: &Sha256) -> PathBuf {
        self.root.join(SOURCES_BUCKET).join(sha256.as_str())
    }

    /// The bare repository for a git URL: `git-v1/<first 16 hex of sha256(url)>`.
    pub(crate) fn git_repository(&self, url: &str) -> PathBuf {
        let digest = super::hash::hash_bytes(url.as_bytes());
        self.root.join(GIT_BUCKET).join(&digest[..16])
    }
}

/// An exclusive lock on a file; released when dropped (the file is closed).
#[derive(Debug)]
pub struct LockGuard {
    _file: File,
}

/// Blocks until this process holds the exclusive lock on `path` (created when missing).
pub fn lock_exclusive(path: &Path) -> Result<LockGuard, SourceError> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| SourceError::io("create folder", parent, e))?;
    }
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| SourceError::io("open lock file", path, e))?;
    tracing::debug!(path = %path.display(), "waiting for lock");
    fs4::FileExt::lock(&file).map_err(|source| SourceError::Lock {
        path: path.to_path_buf(),
        source,
    })?;
    tracing::debug!(path = %path.display(), "lock acquired");
    Ok(LockGuard { _file: file })
}

/// Like `lock_exclusive`, but when another process holds the lock, calls `waiting` with
/// the holder's pid (recorded in the lock file) before it blocks; the pid of this process
/// is recorded once it holds the lock.
pub fn lock_exclusive_announced(
    path: &Path,
    waiting: impl FnOnce(Option<u32>),
) -> Result<LockGuard, SourceError> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| SourceError::io("create folder", parent, e))?;
    }
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| SourceError::io("open lock file", path, e))?;
    if fs4::FileExt::try_lock(&file).is_err() {
        let holder = fs::read_to_string(path)
            .ok()
            .and_then(|text| text.trim().parse().ok());
        waiting(holder);
        fs4::FileExt::lock(&file).map_err(|source| SourceError::Lock {
            path: path.to_path_buf(),
            source,
        })?;
    }
    // Best effort: the pid only makes the waiting message of another process clearer.
    let _ = file
        .set_len(0)
        .and_then(|()| io::Seek::seek(&mut file, io::SeekFrom::Start(0)))
        .and_then(|_| io::Write::write_all(&mut file, std::process::id().to_string().as_bytes()));
    Ok(LockGuard { _file: file })
}
