//! File-system steps every stage shares: hashing files and folders, writing a file or
//! replacing a folder so that a reader sees the old content or the new, never a part.
//! (Locks that say what they wait for are in `source::cache`; temp paths removed on an
//! interruption in `interrupt`.)

use std::io::{Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

/// sha256 and size of a file, streamed.
pub fn hash_file(path: &Path) -> std::io::Result<(String, u64)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        size += read as u64;
        hasher.update(&buffer[..read]);
    }
    Ok((hex::encode(hasher.finalize()), size))
}

/// The files of a folder, relative to it with `/` separators, sorted. Symbolic links
/// are refused: a folder artifact must be the same bytes wherever it is copied.
pub fn folder_files(dir: &Path) -> std::io::Result<Vec<String>> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let path = entry.path();
            let kind = entry.file_type()?;
            if kind.is_dir() {
                walk(root, &path, out)?;
            } else if kind.is_file() {
                let relative = path.strip_prefix(root).expect("inside the root");
                out.push(relative.to_string_lossy().replace('\\', "/"));
            } else {
                return Err(std::io::Error::other(format!(
                    "`{}` is neither a file nor a folder",
                    path.display()
                )));
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(dir, dir, &mut files)?;
    files.sort();
    Ok(files)
}

/// One file's line in a folder's tree hash ([`hash_folder`]).
pub fn tree_line(relative: &str, size: u64, sha256: &str) -> String {
    format!("{relative}\0{size}\0{sha256}\n")
}

/// Tree hash of a folder: sha256 over each file's relative path, size and sha256, in
/// path order; with the total size and the number of files.
pub fn hash_folder(dir: &Path) -> std::io::Result<(String, u64, u64)> {
    let files = folder_files(dir)?;
    let mut hasher = Sha256::new();
    let mut total = 0;
    for relative in &files {
        let (sha256, size) = hash_file(&dir.join(relative))?;
        hasher.update(tree_line(relative, size, &sha256).as_bytes());
        total += size;
    }
    Ok((hex::encode(hasher.finalize()), total, files.len() as u64))
}

/// Writes `path` through a temp file in `folder` and a rename: readers see the old
/// content or the new, never a part. The file is an ordinary one (mode 0644).
pub fn write_atomically(folder: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut temp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(folder)?;
    temp.write_all(bytes)?;
    temp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Puts the finished folder `new` at `dest`: one atomic exchange when `dest` exists
/// (then the old folder, now in `new`'s place, is removed when `new` drops), a rename
/// when it does not.
pub fn replace_folder(new: tempfile::TempDir, dest: &Path) -> std::io::Result<()> {
    if dest.exists() {
        exchange(new.path(), dest)
    } else {
        let kept = new.keep();
        std::fs::rename(&kept, dest)
    }
}

/// Swaps two folders in one step (renameat2 with RENAME_EXCHANGE).
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let a = std::ffi::CString::new(a.as_os_str().as_bytes())?;
    let b = std::ffi::CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: both are valid NUL-terminated paths; AT_FDCWD resolves them as given.
    let result = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if result == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}
