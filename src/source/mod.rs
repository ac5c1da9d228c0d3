//! Sources: fetch (cache, mirrors, URLs, Debian source packages, git, local folders),
//! verify, extract.
//!
//! An archive is found by its sha256, whoever delivers it. Providers are tried in order:
//!
//! 1. the cache (`sources-v1/<sha256>/<file name>`, re-verified on every use; a corrupted
//!    entry is removed and fetched again);
//! 2. the user's mirrors ([`FetchOptions::mirrors`], from `WLMAKE_MIRROR`);
//! 3. the recipe's URLs, primary first;
//! 4. the Debian source package named by the recipe (`apt-get source --download-only`).
//!
//! Every byte is hashed on its way into a temp file inside the cache bucket, and the file
//! is renamed into place only when the checksum matches. An exclusive lock per bucket keeps
//! concurrent wlmake processes from doing the same work twice or corrupting the entry.
//!
//! [`prepare`] then builds a fresh work tree from the fetched source.

mod apt;
mod cache;
mod error;
mod extract;
mod git;
mod hash;
mod http;
mod tree;

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

pub use cache::{Cache, LockGuard, lock_exclusive, lock_exclusive_announced};
pub use error::{Attempt, FailureReason, SourceError};
pub use extract::extract_archive;

use crate::env_vars;
use crate::recipe::{ArchiveSource, PathSource, Sha256, SourceSpec};
use crate::reporter::Reporter;

use hash::HashingWriter;

/// An archive mirror given by the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mirror {
    /// A base URL: `<base>/<file name>` is tried.
    Url(String),
    /// A folder holding pre-seeded archives, under the recipe's file name or the Debian
    /// orig tarball's name.
    Dir(PathBuf),
}

/// Where archives may come from besides the cache and the recipe's URLs.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Tried after the cache, before the recipe's URLs.
    pub mirrors: Vec<Mirror>,
    /// Whether to try the Debian source package (last).
    pub use_apt: bool,
}

impl Default for FetchOptions {
    fn default() -> Self {
        Self {
            mirrors: Vec::new(),
            use_apt: true,
        }
    }
}

impl FetchOptions {
    /// `WLMAKE_MIRROR` (whitespace or comma separated; an existing folder or a `file://`
    /// URL is a folder mirror, anything else a base URL) and `WLMAKE_APT` (`0` disables
    /// the Debian source package provider).
    pub fn from_env() -> FetchOptions {
        let mirrors = std::env::var(env_vars::WLMAKE_MIRROR)
            .map(|value| parse_mirrors(&value))
            .unwrap_or_default();
        let use_apt = std::env::var(env_vars::WLMAKE_APT)
            .map(|value| !is_false(&value))
            .unwrap_or(true);
        FetchOptions { mirrors, use_apt }
    }
}

fn is_false(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "0" | "false" | "no" | "off"
    )
}

/// Parses a `WLMAKE_MIRROR` value.
pub fn parse_mirrors(value: &str) -> Vec<Mirror> {
    value
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|item| !item.is_empty())
        .map(|item| {
            if let Some(path) = item.strip_prefix("file://") {
                Mirror::Dir(PathBuf::from(path))
            } else if Path::new(item).is_dir() {
                Mirror::Dir(PathBuf::from(item))
            } else {
                Mirror::Url(item.to_string())
            }
        })
        .collect()
}

/// A fetched source and who delivered it.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The archive in the cache, the cached bare git repository, or the local folder.
    pub path: PathBuf,
    /// `cache`, `mirror <url or file>`, the URL, `apt source package <name>`, `git <url>`,
    /// `path <folder>`.
    pub provider: String,
    /// The verified checksum (archives only).
    pub sha256: Option<Sha256>,
}

/// A work tree ready for patching.
#[derive(Debug, Clone)]
pub struct PreparedSource {
    pub tree: PathBuf,
    pub fetched: Fetched,
}

/// Gets the source into the cache (archives, git) or checks it exists (paths).
pub fn fetch(
    spec: &SourceSpec,
    cache: &Cache,
    options: &FetchOptions,
    reporter: &dyn Reporter,
) -> Result<Fetched, SourceError> {
    match spec {
        SourceSpec::Archive(archive) => fetch_archive(archive, cache, options, reporter),
        SourceSpec::Git(source) => git::fetch(source, cache, reporter),
        SourceSpec::Path(source) => fetch_path(source),
    }
}

/// Fetches the source, then builds a FRESH work tree at `dest`: the archive extracted, the
/// git commit's files (without `.git`), or a copy of the folder. An existing `dest` is
/// replaced only after the new tree is complete.
pub fn prepare(
    spec: &SourceSpec,
    cache: &Cache,
    options: &FetchOptions,
    dest: &Path,
    reporter: &dyn Reporter,
) -> Result<PreparedSource, SourceError> {
    let fetched = fetch(spec, cache, options, reporter)?;
    match spec {
        SourceSpec::Archive(archive) => {
            extract_archive(
                &fetched.path,
                dest,
                archive.strip_prefix.as_deref(),
                reporter,
            )?;
        }
        SourceSpec::Git(source) => git::checkout(source, &fetched.path, dest, reporter)?,
        SourceSpec::Path(source) => {
            let temp = tree::temp_dir_beside(dest, "copy")?;
            tree::copy_dir(&source.dir, temp.path())?;
            tree::replace_dir(temp, dest)?;
        }
    }
    Ok(PreparedSource {
        tree: dest.to_path_buf(),
        fetched,
    })
}

fn fetch_path(source: &PathSource) -> Result<Fetched, SourceError> {
    if !source.dir.is_dir() {
        return Err(SourceError::PathMissing {
            path: source.dir.clone(),
        });
    }
    Ok(Fetched {
        path: source.dir.clone(),
        provider: format!("path {}", source.dir.display()),
        sha256: None,
    })
}

/// One way to get an archive, in the order tried.
enum Provider<'a> {
    MirrorUrl(String),
    MirrorDir(&'a Path),
    Url(&'a str),
    Apt(&'a crate::recipe::DebianSource),
}

impl Provider<'_> {
    fn label(&self) -> String {
        match self {
            Provider::MirrorUrl(url) => format!("mirror {url}"),
            Provider::MirrorDir(dir) => format!("mirror {}", dir.display()),
            Provider::Url(url) => (*url).to_string(),
            Provider::Apt(debian) => format!("apt-get source {}", debian.package),
        }
    }
}

fn providers<'a>(archive: &'a ArchiveSource, options: &'a FetchOptions) -> Vec<Provider<'a>> {
    let mut providers = Vec::new();
    for mirror in &options.mirrors {
        providers.push(match mirror {
            Mirror::Url(base) => Provider::MirrorUrl(format!(
                "{}/{}",
                base.trim_end_matches('/'),
                archive.file_name
            )),
            Mirror::Dir(dir) => Provider::MirrorDir(dir),
        });
    }
    providers.extend(archive.urls.iter().map(|url| Provider::Url(url)));
    if options.use_apt
        && let Some(debian) = &archive.debian
    {
        providers.push(Provider::Apt(debian));
    }
    providers
}

fn check_file_name(what: &'static str, name: &str) -> Result<(), SourceError> {
    let plain = !name.is_empty()
        && name != "."
        && name != ".."
        && !name.starts_with('.')
        && !name.contains(['/', '\\', '\0']);
    if plain {
        Ok(())
    } else {
        Err(SourceError::InvalidFileName {
            what,
            name: name.to_string(),
        })
    }
}

fn fetch_archive(
    archive: &ArchiveSource,
    cache: &Cache,
    options: &FetchOptions,
    reporter: &dyn Reporter,
) -> Result<Fetched, SourceError> {
    check_file_name("archive file name", &archive.file_name)?;
    if let Some(debian) = &archive.debian {
        check_file_name("Debian file name", &debian.file)?;
    }
    let bucket = cache.archive_bucket(&archive.sha256);
    let target = bucket.join(&archive.file_name);
    fs::create_dir_all(&bucket).map_err(|e| SourceError::io("create folder", &bucket, e))?;
    // Held until the entry is complete: another process waiting here then finds it.
    let _lock = cache::lock_exclusive(&bucket.join(".lock"))?;
    remove_stale_temps(&bucket);

    if let Some(fetched) = check_cached(archive, &target, reporter)? {
        return Ok(fetched);
    }

    let mut attempts = Vec::new();
    for provider in providers(archive, options) {
        let label = provider.label();
        tracing::debug!(
            provider = label,
            file = archive.file_name,
            "trying provider"
        );
        let result = match &provider {
            Provider::MirrorUrl(url) => {
                download_verified(url, archive, &bucket, &target, reporter).map(|()| None)
            }
            Provider::Url(url) => {
                download_verified(url, archive, &bucket, &target, reporter).map(|()| None)
            }
            Provider::MirrorDir(dir) => copy_from_dir(dir, archive, &bucket, &target, reporter)
                .map(|source| Some(format!("mirror {}", source.display()))),
            Provider::Apt(debian) => {
                reporter.task_start(&format!("apt-get source {}", debian.package), None);
                let result = fetch_from_apt(debian, archive, &bucket, &target);
                reporter.task_finish();
                result.map(|()| None)
            }
        };
        match result {
            Ok(delivered_by) => {
                let provider = delivered_by.unwrap_or(match &provider {
                    Provider::Apt(debian) => format!("apt source package {}", debian.package),
                    _ => label,
                });
                tracing::debug!(provider, path = %target.display(), "archive cached");
                return Ok(Fetched {
                    path: target,
                    provider,
                    sha256: Some(archive.sha256.clone()),
                });
            }
            Err(reason) => {
                tracing::debug!(provider = label, %reason, "provider failed");
                attempts.push(Attempt {
                    provider: label,
                    reason,
                });
            }
        }
    }
    Err(SourceError::AllProvidersFailed {
        file_name: archive.file_name.clone(),
        sha256: archive.sha256.to_string(),
        attempts,
    })
}

/// Removes temp files and folders left in the bucket by a process that was killed while
/// it held the lock. Only called with the lock held, so nothing in use is removed.
fn remove_stale_temps(bucket: &Path) {
    let Ok(entries) = fs::read_dir(bucket) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with(".download-") || name.starts_with(".apt-")) {
            continue;
        }
        let path = entry.path();
        tracing::debug!(path = %path.display(), "removing stale temp");
        let _ = if path.is_dir() {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        };
    }
}

/// The cached entry when it is there and still matches; a corrupted entry is removed.
fn check_cached(
    archive: &ArchiveSource,
    target: &Path,
    reporter: &dyn Reporter,
) -> Result<Option<Fetched>, SourceError> {
    if !target.is_file() {
        return Ok(None);
    }
    match hash::hash_file(target) {
        Ok(actual) if actual == archive.sha256.as_str() => {
            tracing::debug!(path = %target.display(), "cache hit");
            Ok(Some(Fetched {
                path: target.to_path_buf(),
                provider: "cache".to_string(),
                sha256: Some(archive.sha256.clone()),
            }))
        }
        outcome => {
            let why = match outcome {
                Ok(actual) => format!("its sha256 is {actual}"),
                Err(error) => format!("it cannot be read: {error}"),
            };
            tracing::debug!(path = %target.display(), why, "corrupted cache entry");
            reporter.info(&format!(
                "cached {} is corrupted ({why}); fetching it again",
                archive.file_name
            ));
            fs::remove_file(target).map_err(|e| SourceError::io("remove", target, e))?;
            Ok(None)
        }
    }
}

/// A temp file in the bucket that hashes what is written to it.
fn temp_in(bucket: &Path) -> Result<HashingWriter<tempfile::NamedTempFile>, FailureReason> {
    tempfile::Builder::new()
        .prefix(".download-")
        .tempfile_in(bucket)
        .inspect(|temp| crate::interrupt::track_temp_until_exit(temp.path()))
        .map(HashingWriter::new)
        .map_err(|source| FailureReason::Io {
            path: bucket.to_path_buf(),
            source,
        })
}

/// Checks the digest and renames the temp file to `target`.
fn commit_temp(
    writer: HashingWriter<tempfile::NamedTempFile>,
    archive: &ArchiveSource,
    target: &Path,
) -> Result<(), FailureReason> {
    let (temp, actual) = writer.finish().map_err(|source| FailureReason::Io {
        path: target.to_path_buf(),
        source,
    })?;
    if actual != archive.sha256.as_str() {
        // `temp` is removed when dropped.
        return Err(FailureReason::ChecksumMismatch {
            expected: archive.sha256.to_string(),
            actual,
        });
    }
    temp.as_file()
        .sync_all()
        .map_err(|source| FailureReason::Io {
            path: temp.path().to_path_buf(),
            source,
        })?;
    temp.persist(target).map_err(|error| FailureReason::Io {
        path: target.to_path_buf(),
        source: error.error,
    })?;
    Ok(())
}

/// Downloads `url` (or copies a `file://` URL) through a hashing temp file into `target`.
fn download_verified(
    url: &str,
    archive: &ArchiveSource,
    bucket: &Path,
    target: &Path,
    reporter: &dyn Reporter,
) -> Result<(), FailureReason> {
    if let Some(path) = url.strip_prefix("file://") {
        return copy_verified(Path::new(path), archive, bucket, target, reporter);
    }
    let mut writer = temp_in(bucket)?;
    http::download(
        url,
        &mut writer,
        &format!("download {}", archive.file_name),
        reporter,
    )?;
    commit_temp(writer, archive, target)
}

/// Copies a local file through a hashing temp file into `target`.
fn copy_verified(
    source: &Path,
    archive: &ArchiveSource,
    bucket: &Path,
    target: &Path,
    reporter: &dyn Reporter,
) -> Result<(), FailureReason> {
    let io_error = |source_error: io::Error| FailureReason::Io {
        path: source.to_path_buf(),
        source: source_error,
    };
    let mut file = File::open(source).map_err(io_error)?;
    let total = file.metadata().ok().map(|metadata| metadata.len());
    let mut writer = temp_in(bucket)?;
    reporter.task_start(&format!("copy {}", archive.file_name), total);
    let copied = (|| {
        let mut buffer = vec![0; 64 * 1024];
        loop {
            let read = file.read(&mut buffer)?;
            if read == 0 {
                return Ok(());
            }
            io::Write::write_all(&mut writer, &buffer[..read])?;
            reporter.task_advance(read as u64);
        }
    })();
    reporter.task_finish();
    copied.map_err(io_error)?;
    commit_temp(writer, archive, target)
}

/// Tries `<dir>/<file name>`, then `<dir>/<Debian file name>`. Returns the file used.
fn copy_from_dir(
    dir: &Path,
    archive: &ArchiveSource,
    bucket: &Path,
    target: &Path,
    reporter: &dyn Reporter,
) -> Result<PathBuf, FailureReason> {
    let mut names = vec![archive.file_name.as_str()];
    if let Some(debian) = &archive.debian {
        names.push(debian.file.as_str());
    }
    let mut last_failure = None;
    for name in &names {
        let candidate = dir.join(name);
        if !candidate.is_file() {
            continue;
        }
        match copy_verified(&candidate, archive, bucket, target, reporter) {
            Ok(()) => return Ok(candidate),
            Err(reason) => {
                tracing::debug!(candidate = %candidate.display(), %reason, "mirror file rejected");
                last_failure = Some(reason);
            }
        }
    }
    Err(last_failure.unwrap_or_else(|| FailureReason::NotInFolder {
        candidates: names.iter().map(|name| name.to_string()).collect(),
    }))
}

/// Runs apt-get in a temp folder inside the bucket, verifies the orig tarball and moves it
/// into place.
fn fetch_from_apt(
    debian: &crate::recipe::DebianSource,
    archive: &ArchiveSource,
    bucket: &Path,
    target: &Path,
) -> Result<(), FailureReason> {
    let work = tempfile::Builder::new()
        .prefix(".apt-")
        .tempdir_in(bucket)
        .map_err(|source| FailureReason::Io {
            path: bucket.to_path_buf(),
            source,
        })?;
    let _tracked = crate::interrupt::track_temp(work.path());
    let downloaded = apt::download_source(debian, work.path())?;
    let actual = hash::hash_file(&downloaded).map_err(|source| FailureReason::Io {
        path: downloaded.clone(),
        source,
    })?;
    if actual != archive.sha256.as_str() {
        return Err(FailureReason::ChecksumMismatch {
            expected: archive.sha256.to_string(),
            actual,
        });
    }
    fs::rename(&downloaded, target).map_err(|source| FailureReason::Io {
        path: target.to_path_buf(),
        source,
    })
    // `work` (the .dsc and debian tarball) is removed when dropped.
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirrors_from_env_value() {
        let dir = tempfile::tempdir().unwrap();
        let value = format!(
            "http://mirror.example/php, file:///srv/archives {}\n",
            dir.path().display()
        );
        assert_eq!(
            parse_mirrors(&value),
            vec![
                Mirror::Url("http://mirror.example/php".to_string()),
                Mirror::Dir(PathBuf::from("/srv/archives")),
                Mirror::Dir(dir.path().to_path_buf()),
            ]
        );
        assert!(parse_mirrors("  , ").is_empty());
    }

    #[test]
    fn file_names_must_be_plain() {
        assert!(check_file_name("archive", "php-7.4.33.tar.xz").is_ok());
        for bad in ["", "..", "../x.tar.gz", "a/b.tar.gz", ".lock"] {
            assert!(check_file_name("archive", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn apt_switch() {
        assert!(is_false("0"));
        assert!(is_false(" off "));
        assert!(!is_false("1"));
    }
}
