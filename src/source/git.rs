//! Git sources: a bare repository per URL in the cache, the tag checked against the pinned
//! commit, and a work tree written from the commit's tree.
//!
//! The work tree has no `.git` folder: it is a clean copy of the pinned commit's files
//! (regular files with their executable bit, symbolic links, and an empty folder for each
//! submodule), the same shape as an extracted release archive.

use std::fs;
use std::path::Path;

use git2::{AutotagOption, ObjectType, Oid, Repository, Tree};

use crate::recipe::GitSource;
use crate::reporter::Reporter;

use super::Fetched;
use super::cache::{self, Cache};
use super::error::SourceError;
use super::tree;

/// Brings `source.tag` into the cached bare repository (fetching only when the cached copy
/// does not already have the tag at the pinned commit) and checks it against the commit.
pub(crate) fn fetch(
    source: &GitSource,
    cache: &Cache,
    reporter: &dyn Reporter,
) -> Result<Fetched, SourceError> {
    let expected = parse_commit(&source.commit)?;
    let repository_dir = cache.git_repository(&source.url);
    let lock_path = repository_dir.with_extension("lock");
    let _lock = cache::lock_exclusive(&lock_path)?;
    let git_error = |action: &'static str| {
        let url = source.url.clone();
        move |error: git2::Error| SourceError::Git {
            url,
            action,
            source: error,
        }
    };

    let repository =
        open_or_init(&repository_dir).map_err(git_error("opening the cached repository"))?;
    let reference = format!("refs/tags/{}", source.tag);

    if resolve(&repository, &reference).ok() == Some(expected) {
        tracing::debug!(url = source.url, tag = source.tag, "git tag found in cache");
        return Ok(Fetched {
            path: repository_dir,
            provider: "cache".to_string(),
            sha256: None,
        });
    }

    tracing::debug!(url = source.url, tag = source.tag, "git fetch");
    reporter.task_start(&format!("fetch {} (tag {})", source.url, source.tag), None);
    let fetched = fetch_tag(&repository, &source.url, &reference, reporter);
    reporter.task_finish();
    fetched.map_err(|error| {
        if error.code() == git2::ErrorCode::NotFound
            || error.message().contains("couldn't find remote ref")
        {
            SourceError::GitTagNotFound {
                url: source.url.clone(),
                tag: source.tag.clone(),
                source: error,
            }
        } else {
            SourceError::Git {
                url: source.url.clone(),
                action: "fetching the tag",
                source: error,
            }
        }
    })?;

    let actual = resolve(&repository, &reference).map_err(|error| SourceError::GitTagNotFound {
        url: source.url.clone(),
        tag: source.tag.clone(),
        source: error,
    })?;
    if actual != expected {
        return Err(SourceError::GitTagMismatch {
            url: source.url.clone(),
            tag: source.tag.clone(),
            expected: expected.to_string(),
            actual: actual.to_string(),
        });
    }
    Ok(Fetched {
        path: repository_dir,
        provider: format!("git {}", source.url),
        sha256: None,
    })
}

/// Writes the files of the pinned commit into a fresh `dest` (no `.git`).
pub(crate) fn checkout(
    source: &GitSource,
    repository_dir: &Path,
    dest: &Path,
    reporter: &dyn Reporter,
) -> Result<(), SourceError> {
    let git_error = |action: &'static str| {
        let url = source.url.clone();
        move |error: git2::Error| SourceError::Git {
            url,
            action,
            source: error,
        }
    };
    let commit_id = parse_commit(&source.commit)?;
    let repository = Repository::open_bare(repository_dir)
        .map_err(git_error("opening the cached repository"))?;
    let commit = repository
        .find_commit(commit_id)
        .map_err(git_error("reading the pinned commit"))?;
    let tree_object = commit
        .tree()
        .map_err(git_error("reading the commit's tree"))?;

    let temp = tree::temp_dir_beside(dest, "checkout")?;
    reporter.task_start(&format!("checkout {} {}", source.url, source.tag), None);
    let written = write_tree(&repository, &tree_object, temp.path(), source, reporter);
    reporter.task_finish();
    written?;
    tree::replace_dir(temp, dest)
}

fn parse_commit(commit: &str) -> Result<Oid, SourceError> {
    let valid = commit.len() == 40 && commit.bytes().all(|b| b.is_ascii_hexdigit());
    valid
        .then(|| Oid::from_str(commit).ok())
        .flatten()
        .ok_or_else(|| SourceError::GitInvalidCommit {
            commit: commit.to_string(),
        })
}

fn open_or_init(dir: &Path) -> Result<Repository, git2::Error> {
    match Repository::open_bare(dir) {
        Ok(repository) => Ok(repository),
        Err(error) => {
            if dir.exists() {
                tracing::debug!(dir = %dir.display(), %error, "cached repository unusable, starting over");
                let _ = fs::remove_dir_all(dir);
            }
            Repository::init_bare(dir)
        }
    }
}

/// The commit a tag reference points at, annotated tags peeled.
fn resolve(repository: &Repository, reference: &str) -> Result<Oid, git2::Error> {
    Ok(repository.find_reference(reference)?.peel_to_commit()?.id())
}

fn fetch_tag(
    repository: &Repository,
    url: &str,
    reference: &str,
    reporter: &dyn Reporter,
) -> Result<(), git2::Error> {
    let mut remote = repository.remote_anonymous(url)?;
    let mut callbacks = git2::RemoteCallbacks::new();
    let mut reported = 0usize;
    callbacks.transfer_progress(move |progress| {
        let received = progress.received_objects();
        reporter.task_advance(received.saturating_sub(reported) as u64);
        reported = received;
        true
    });
    let mut options = git2::FetchOptions::new();
    options
        .download_tags(AutotagOption::None)
        .remote_callbacks(callbacks);
    // Forced, so a tag moved upstream replaces the cached one and the mismatch is reported.
    let refspec = format!("+{reference}:{reference}");
    remote.fetch(&[refspec.as_str()], Some(&mut options), None)
}

fn write_tree(
    repository: &Repository,
    tree: &Tree<'_>,
    target: &Path,
    source: &GitSource,
    reporter: &dyn Reporter,
) -> Result<(), SourceError> {
    let git_error = |error: git2::Error| SourceError::Git {
        url: source.url.clone(),
        action: "reading the commit's files",
        source: error,
    };
    for entry in tree.iter() {
        let name = entry_name(entry.name_bytes()).ok_or_else(|| SourceError::GitUnsafeEntry {
            url: source.url.clone(),
            entry: String::from_utf8_lossy(entry.name_bytes()).into_owned(),
        })?;
        let path = target.join(name);
        match entry.kind() {
            Some(ObjectType::Tree) => {
                fs::create_dir(&path).map_err(|e| SourceError::io("create folder", &path, e))?;
                let subtree = repository.find_tree(entry.id()).map_err(git_error)?;
                write_tree(repository, &subtree, &path, source, reporter)?;
            }
            Some(ObjectType::Blob) => {
                let blob = repository.find_blob(entry.id()).map_err(git_error)?;
                let mode = entry.filemode();
                if mode == 0o120000 {
                    let link = link_target(blob.content());
                    tree::symlink(&link, &path)
                        .map_err(|e| SourceError::io("create link", &path, e))?;
                } else {
                    fs::write(&path, blob.content())
                        .map_err(|e| SourceError::io("write", &path, e))?;
                    set_executable(&path, mode & 0o111 != 0)?;
                }
                reporter.task_advance(1);
            }
            // A submodule (a commit inside the tree): an empty folder, as git leaves it.
            Some(ObjectType::Commit) => {
                fs::create_dir(&path).map_err(|e| SourceError::io("create folder", &path, e))?;
            }
            _ => {
                return Err(SourceError::GitUnsafeEntry {
                    url: source.url.clone(),
                    entry: name.to_string_lossy().into_owned(),
                });
            }
        }
    }
    Ok(())
}

/// A tree entry name that is safe as one path component.
fn entry_name(bytes: &[u8]) -> Option<&std::ffi::OsStr> {
    let bad = bytes.is_empty()
        || bytes == b"."
        || bytes == b".."
        || bytes.eq_ignore_ascii_case(b".git")
        || bytes.contains(&b'/')
        || bytes.contains(&0);
    if bad {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Some(std::ffi::OsStr::from_bytes(bytes))
    }
    #[cfg(not(unix))]
    {
        std::str::from_utf8(bytes).ok().map(std::ffi::OsStr::new)
    }
}

fn link_target(bytes: &[u8]) -> std::path::PathBuf {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        std::ffi::OsStr::from_bytes(bytes).into()
    }
    #[cfg(not(unix))]
    {
        String::from_utf8_lossy(bytes).into_owned().into()
    }
}

#[cfg(unix)]
fn set_executable(path: &Path, executable: bool) -> Result<(), SourceError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = if executable { 0o755 } else { 0o644 };
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(|e| SourceError::io("set permissions of", path, e))
}

#[cfg(not(unix))]
fn set_executable(_path: &Path, _executable: bool) -> Result<(), SourceError> {
    Ok(())
}
