//! Unpacking tar archives (.tar.gz, .tar.xz, .tar.bz2, .tar) safely.
//!
//! Every entry is checked before anything is written: no absolute paths, no `..`, no
//! symbolic link whose target leaves the tree, no hard link to a file outside it, and no
//! write through a symbolic link that leads outside. The tree is built in a temp folder
//! next to the destination and renamed into place only when complete.

use std::fs::{self, File};
use std::io::{self, BufReader, Read};
use std::path::{Component, Path, PathBuf};

use crate::reporter::Reporter;

use super::error::SourceError;
use super::tree;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compression {
    Gzip,
    Xz,
    Bzip2,
    None,
}

impl Compression {
    fn from_file_name(name: &str) -> Option<Self> {
        let name = name.to_ascii_lowercase();
        let table: &[(&str, Compression)] = &[
            (".tar.gz", Self::Gzip),
            (".tgz", Self::Gzip),
            (".tar.xz", Self::Xz),
            (".txz", Self::Xz),
            (".tar.bz2", Self::Bzip2),
            (".tbz2", Self::Bzip2),
            (".tbz", Self::Bzip2),
            (".tar", Self::None),
        ];
        table
            .iter()
            .find(|(suffix, _)| name.ends_with(suffix))
            .map(|(_, compression)| *compression)
    }
}

/// Extracts `archive` into a fresh `dest`, dropping the leading folder `strip_prefix`.
///
/// On error nothing is left behind and an existing `dest` is untouched; on success an
/// existing `dest` is replaced.
pub fn extract_archive(
    archive: &Path,
    dest: &Path,
    strip_prefix: Option<&str>,
    reporter: &dyn Reporter,
) -> Result<(), SourceError> {
    let file_name = archive
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let compression =
        Compression::from_file_name(&file_name).ok_or_else(|| SourceError::UnsupportedArchive {
            file_name: file_name.clone(),
        })?;
    let prefix = match strip_prefix {
        Some(prefix) => Some(
            normalize_prefix(prefix).ok_or_else(|| SourceError::StripPrefix {
                archive: archive.to_path_buf(),
                entry: String::new(),
                prefix: prefix.to_string(),
            })?,
        ),
        None => None,
    };
    let file = File::open(archive).map_err(|e| SourceError::io("open", archive, e))?;
    let total = file.metadata().ok().map(|metadata| metadata.len());
    tracing::debug!(archive = %archive.display(), dest = %dest.display(), ?strip_prefix, "extract");

    let temp = tree::temp_dir_beside(dest, "extract")?;
    reporter.task_start(&format!("extract {file_name}"), total);
    let counted = ProgressReader {
        inner: BufReader::with_capacity(256 * 1024, file),
        reporter,
    };
    let decoder: Box<dyn Read + '_> = match compression {
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(counted)),
        Compression::Xz => Box::new(xz2::read::XzDecoder::new_multi_decoder(counted)),
        Compression::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(counted)),
        Compression::None => Box::new(counted),
    };
    let result = unpack(decoder, temp.path(), archive, prefix.as_deref());
    reporter.task_finish();
    result?;
    tree::replace_dir(temp, dest)
}

/// `php-7.4.33/` or `./php-7.4.33` -> `php-7.4.33`; `None` when it is not a relative path.
fn normalize_prefix(prefix: &str) -> Option<PathBuf> {
    let normalized = safe_relative(Path::new(prefix)).ok()?;
    (!normalized.as_os_str().is_empty()).then_some(normalized)
}

struct ProgressReader<'a, R> {
    inner: R,
    reporter: &'a dyn Reporter,
}

impl<R: Read> Read for ProgressReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buf)?;
        if read > 0 {
            self.reporter.task_advance(read as u64);
        }
        Ok(read)
    }
}

fn unpack(
    reader: impl Read,
    target: &Path,
    archive: &Path,
    prefix: Option<&Path>,
) -> Result<(), SourceError> {
    let root = target
        .canonicalize()
        .map_err(|e| SourceError::io("resolve", target, e))?;
    let read_error = |source: io::Error| SourceError::ArchiveRead {
        archive: archive.to_path_buf(),
        source,
    };
    let mut tar = tar::Archive::new(reader);
    tar.set_preserve_permissions(false);
    tar.set_preserve_ownerships(false);
    tar.set_preserve_mtime(true);
    tar.set_unpack_xattrs(false);
    tar.set_overwrite(true);

    for entry in tar.entries().map_err(read_error)? {
        let mut entry = entry.map_err(read_error)?;
        let kind = entry.header().entry_type();
        if kind.is_pax_global_extensions()
            || kind.is_pax_local_extensions()
            || kind.is_gnu_longname()
            || kind.is_gnu_longlink()
        {
            continue;
        }
        let raw_path = entry.path().map_err(read_error)?.into_owned();
        let name = raw_path.to_string_lossy().into_owned();
        let unsafe_entry = |reason: String| SourceError::UnsafeEntry {
            archive: archive.to_path_buf(),
            entry: name.clone(),
            reason,
        };
        let relative = safe_relative(&raw_path).map_err(unsafe_entry)?;
        let Some(relative) = strip(&relative, prefix).map_err(|()| SourceError::StripPrefix {
            archive: archive.to_path_buf(),
            entry: name.clone(),
            prefix: prefix.map(|p| p.display().to_string()).unwrap_or_default(),
        })?
        else {
            // The prefix folder itself, or `./`.
            continue;
        };
        let failed = |source: io::Error| SourceError::ExtractEntry {
            archive: archive.to_path_buf(),
            entry: name.clone(),
            source,
        };

        if kind.is_dir() {
            ensure_dir(&root, &relative).map_err(|e| e.into_error(&unsafe_entry, &failed))?;
            continue;
        }

        let file_name = relative
            .file_name()
            .expect("a non-empty normalized path ends in a name")
            .to_owned();
        let parent_relative = relative.parent().unwrap_or(Path::new(""));
        let parent =
            ensure_dir(&root, parent_relative).map_err(|e| e.into_error(&unsafe_entry, &failed))?;
        let destination = parent.join(&file_name);
        if fs::symlink_metadata(&destination).is_ok_and(|metadata| metadata.is_dir()) {
            return Err(unsafe_entry(
                "it would replace a folder extracted before".to_string(),
            ));
        }

        if kind.is_symlink() {
            let link = entry
                .link_name()
                .map_err(read_error)?
                .ok_or_else(|| unsafe_entry("symbolic link without a target".to_string()))?
                .into_owned();
            if link.has_root() {
                return Err(unsafe_entry(format!(
                    "symbolic link to the absolute path `{}`",
                    link.display()
                )));
            }
            if resolve_lexically(&parent_relative.join(&link)).is_none() {
                return Err(unsafe_entry(format!(
                    "symbolic link target `{}` points outside the archive",
                    link.display()
                )));
            }
            entry.unpack(&destination).map_err(failed)?;
        } else if kind.is_hard_link() {
            let link = entry
                .link_name()
                .map_err(read_error)?
                .ok_or_else(|| unsafe_entry("hard link without a target".to_string()))?
                .into_owned();
            let outside = |detail: &str| {
                unsafe_entry(format!("hard link target `{}` {detail}", link.display()))
            };
            let link_relative =
                safe_relative(&link).map_err(|_| outside("points outside the archive"))?;
            let link_relative = strip(&link_relative, prefix)
                .ok()
                .flatten()
                .ok_or_else(|| outside("is not under the strip prefix"))?;
            let link_parent =
                ensure_existing_dir(&root, link_relative.parent().unwrap_or(Path::new("")))
                    .ok_or_else(|| outside("is not a file extracted before"))?;
            let source = link_parent.join(link_relative.file_name().expect("non-empty path"));
            match fs::symlink_metadata(&source) {
                Ok(metadata) if metadata.is_file() => {}
                _ => return Err(outside("is not a file extracted before")),
            }
            if fs::symlink_metadata(&destination).is_ok() {
                fs::remove_file(&destination).map_err(failed)?;
            }
            fs::hard_link(&source, &destination).map_err(failed)?;
        } else if kind.is_file() || kind.is_contiguous() || kind.is_gnu_sparse() {
            entry.unpack(&destination).map_err(failed)?;
        } else {
            return Err(unsafe_entry(format!(
                "unsupported entry type {:?} (device or fifo)",
                kind.as_byte() as char
            )));
        }
    }
    Ok(())
}

/// A relative path made of plain names only; `.` components are dropped.
fn safe_relative(path: &Path) -> Result<PathBuf, String> {
    let mut relative = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => relative.push(part),
            Component::CurDir => {}
            Component::ParentDir => return Err("the path has a `..` component".to_string()),
            Component::RootDir | Component::Prefix(_) => {
                return Err("the path is absolute".to_string());
            }
        }
    }
    Ok(relative)
}

/// `relative` without the leading `prefix`; `Ok(None)` for the prefix itself (or an empty
/// path), `Err` when the path is not under the prefix.
fn strip(relative: &Path, prefix: Option<&Path>) -> Result<Option<PathBuf>, ()> {
    let stripped = match prefix {
        Some(prefix) => relative.strip_prefix(prefix).map_err(|_| ())?,
        None => relative,
    };
    Ok((!stripped.as_os_str().is_empty()).then(|| stripped.to_path_buf()))
}

/// `a/b/../c` -> `a/c`; `None` when the path climbs above its start.
fn resolve_lexically(path: &Path) -> Option<PathBuf> {
    let mut resolved = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => resolved.push(part),
            Component::CurDir => {}
            Component::ParentDir => {
                if !resolved.pop() {
                    return None;
                }
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(resolved)
}

enum DirError {
    /// The path leads outside the root (through a symbolic link) or through a file.
    Unsafe(String),
    Io(io::Error),
}

impl DirError {
    fn into_error(
        self,
        unsafe_entry: &dyn Fn(String) -> SourceError,
        failed: &dyn Fn(io::Error) -> SourceError,
    ) -> SourceError {
        match self {
            Self::Unsafe(reason) => unsafe_entry(reason),
            Self::Io(error) => failed(error),
        }
    }
}

/// Creates the folder `root/relative` one component at a time, following only symbolic
/// links that stay inside `root` (canonical). Returns the real path of the folder.
fn ensure_dir(root: &Path, relative: &Path) -> Result<PathBuf, DirError> {
    let mut current = root.to_path_buf();
    for component in relative.components() {
        current.push(component);
        match fs::symlink_metadata(&current) {
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                fs::create_dir(&current).map_err(DirError::Io)?;
            }
            Err(error) => return Err(DirError::Io(error)),
            Ok(metadata) if metadata.is_dir() => {}
            Ok(metadata) if metadata.file_type().is_symlink() => {
                let real = current.canonicalize().map_err(|_| {
                    DirError::Unsafe(format!(
                        "its folder `{}` is a dangling symbolic link",
                        relative.display()
                    ))
                })?;
                if !real.starts_with(root) {
                    return Err(DirError::Unsafe(
                        "its folder is a symbolic link pointing outside the archive".to_string(),
                    ));
                }
                if !real.is_dir() {
                    return Err(DirError::Unsafe(
                        "its folder is a symbolic link to a file".to_string(),
                    ));
                }
                current = real;
            }
            Ok(_) => {
                return Err(DirError::Unsafe(
                    "its folder was extracted as a file before".to_string(),
                ));
            }
        }
    }
    Ok(current)
}

/// Like [`ensure_dir`] but creates nothing: the real path of an existing folder inside
/// `root`, or `None`.
fn ensure_existing_dir(root: &Path, relative: &Path) -> Option<PathBuf> {
    let real = root.join(relative).canonicalize().ok()?;
    (real.starts_with(root) && real.is_dir()).then_some(real)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compression_from_file_name() {
        assert_eq!(
            Compression::from_file_name("php-7.4.33.tar.xz"),
            Some(Compression::Xz)
        );
        assert_eq!(
            Compression::from_file_name("a.TGZ"),
            Some(Compression::Gzip)
        );
        assert_eq!(
            Compression::from_file_name("a.tar.bz2"),
            Some(Compression::Bzip2)
        );
        assert_eq!(Compression::from_file_name("a.zip"), None);
    }

    #[test]
    fn lexical_resolution() {
        assert_eq!(
            resolve_lexically(Path::new("a/b/../c")),
            Some(PathBuf::from("a/c"))
        );
        assert_eq!(resolve_lexically(Path::new("a/../..")), None);
        assert_eq!(resolve_lexically(Path::new("/etc")), None);
    }

    #[test]
    fn relative_paths() {
        assert_eq!(
            safe_relative(Path::new("./a//b/")),
            Ok(PathBuf::from("a/b"))
        );
        assert!(safe_relative(Path::new("a/../b")).is_err());
        assert!(safe_relative(Path::new("/a")).is_err());
        assert_eq!(
            strip(Path::new("p/a"), Some(Path::new("p"))),
            Ok(Some(PathBuf::from("a")))
        );
        assert_eq!(strip(Path::new("p"), Some(Path::new("p"))), Ok(None));
        assert_eq!(strip(Path::new("q/a"), Some(Path::new("p"))), Err(()));
    }
}
