//! Fresh work trees: build a tree in a temp folder next to its destination, then swap it
//! into place, so a destination is either the old tree or the complete new one.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

use super::error::SourceError;

/// A temp folder next to `dest` (same file system, so the final rename is atomic).
pub(crate) fn temp_dir_beside(dest: &Path, purpose: &str) -> Result<TempDir, SourceError> {
    let parent = parent_of(dest);
    fs::create_dir_all(&parent).map_err(|e| SourceError::io("create folder", &parent, e))?;
    let name = dest
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "tree".to_string());
    let temp = tempfile::Builder::new()
        .prefix(&format!(".{name}.{purpose}-"))
        .tempdir_in(&parent)
        .map_err(|e| SourceError::io("create temp folder in", &parent, e))?;
    crate::interrupt::track_temp_until_exit(temp.path());
    Ok(temp)
}

fn parent_of(dest: &Path) -> PathBuf {
    match dest.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Moves the complete tree in `new` to `dest`, replacing what was there.
///
/// The old tree is first renamed aside, then the new one renamed in, then the old one
/// removed; if the second rename fails, the old tree is put back.
pub(crate) fn replace_dir(new: TempDir, dest: &Path) -> Result<(), SourceError> {
    if fs::symlink_metadata(dest).is_err() {
        let new_path = new.path().to_path_buf();
        fs::rename(&new_path, dest).map_err(|e| SourceError::io("move tree to", dest, e))?;
        // The folder now lives at `dest`; nothing is left for the guard to clean up.
        let _ = new.keep();
        return Ok(());
    }

    let trash = temp_dir_beside(dest, "old")?;
    let old_aside = trash
        .path()
        .join(dest.file_name().unwrap_or(&OsString::from("old")));
    fs::rename(dest, &old_aside).map_err(|e| SourceError::io("move aside", dest, e))?;
    if let Err(error) = fs::rename(new.path(), dest) {
        let _ = fs::rename(&old_aside, dest);
        return Err(SourceError::io("move tree to", dest, error));
    }
    let _ = new.keep();
    // Dropping `trash` removes the old tree.
    drop(trash);
    Ok(())
}

/// Copies the folder `from` into the (existing, empty) folder `to`: files with their
/// permissions, symbolic links as links.
pub(crate) fn copy_dir(from: &Path, to: &Path) -> Result<(), SourceError> {
    let entries = fs::read_dir(from).map_err(|e| SourceError::io("read folder", from, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| SourceError::io("read folder", from, e))?;
        let source = entry.path();
        let target = to.join(entry.file_name());
        let kind = entry
            .file_type()
            .map_err(|e| SourceError::io("inspect", &source, e))?;
        if kind.is_dir() {
            fs::create_dir(&target).map_err(|e| SourceError::io("create folder", &target, e))?;
            copy_dir(&source, &target)?;
        } else if kind.is_symlink() {
            let link =
                fs::read_link(&source).map_err(|e| SourceError::io("read link", &source, e))?;
            symlink(&link, &target).map_err(|e| SourceError::io("create link", &target, e))?;
        } else {
            fs::copy(&source, &target).map_err(|e| SourceError::io("copy", &source, e))?;
        }
    }
    Ok(())
}

#[cfg(unix)]
pub(crate) fn symlink(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(windows)]
pub(crate) fn symlink(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::windows::fs::symlink_file(target, link)
}
