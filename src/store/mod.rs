//! The store of finished builds: one folder per build identity, verified on every read.
//!
//! Layout, under the cache root:
//!
//! ```text
//! <root>/builds-v1/<identity>/entry.json     what the entry holds: files with size + sha256
//! <root>/builds-v1/<identity>/<path>...      the files (nested relative paths allowed)
//! <root>/builds-v1/<identity>/.last-use      touched on every hit (not part of the entry)
//! <root>/builds-v1/<identity>.lock           held while the entry is checked, filled or removed
//! <root>/builds-v1/.tmp-*                    entries being written (renamed into place)
//! ```
//!
//! An entry is any folder of files described by its `entry.json`: an interpreter build
//! (artifacts + the build's `manifest.json`) or a library prefix (`include/`, `lib/*.a`,
//! `lib/pkgconfig/*.pc`). An entry appears in one rename, so a reader never sees half of
//! one; an entry whose files do not match `entry.json` is removed.
//!
//! [`remote`] fetches entries from and pushes them to a plain HTTP server with the same
//! layout.

pub mod http;
pub mod remote;
pub mod units;

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::files::hash_file;
use crate::source::{LockGuard, lock_exclusive};

/// The builds bucket; bump the version when the layout inside changes.
pub const BUCKET: &str = "builds-v1";
/// The file that describes an entry (written last, read first).
pub const ENTRY_FILE: &str = "entry.json";
pub const ENTRY_VERSION: u32 = 1;
const LAST_USE: &str = ".last-use";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot {action} `{}`", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot lock the build cache entry `{}`", path.display())]
    Lock {
        path: PathBuf,
        #[source]
        source: crate::source::SourceError,
    },
    #[error("`{identity}` is not a build identity (64 hex digits expected)")]
    BadIdentity { identity: String },
    #[error("the entry lists `{path}`, which is not a plain relative path")]
    BadPath { path: String },
    #[error("the files do not match {ENTRY_FILE}: {reason}")]
    Mismatch { reason: String },
    #[error("no build cache entry starts with `{prefix}`")]
    NoMatch { prefix: String },
    #[error("`{prefix}` matches {count} build cache entries")]
    Ambiguous { prefix: String, count: usize },
}

impl StoreError {
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Io { .. } | Self::Lock { .. } => Some(format!(
                "check the cache folder's permissions and free space, or point {} elsewhere",
                crate::env_vars::WLMAKE_CACHE_DIR
            )),
            Self::NoMatch { .. } | Self::Ambiguous { .. } => {
                Some("`wlmake cache ls` lists the entries with their identity prefixes".into())
            }
            Self::BadIdentity { .. } | Self::BadPath { .. } | Self::Mismatch { .. } => None,
        }
    }

    fn io(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> StoreError {
        let path = path.to_path_buf();
        move |source| StoreError::Io {
            action,
            path,
            source,
        }
    }
}

/// `entry.json`: what an entry is and the files it holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EntryIndex {
    pub entry_version: u32,
    pub identity: String,
    /// The recipe the entry was built from (`php/php-8.2.32`).
    pub recipe: String,
    pub runtime: String,
    /// Seconds since the Unix epoch when the entry was made.
    pub created: u64,
    pub files: Vec<EntryFile>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EntryFile {
    /// Relative to the entry's folder, `/`-separated, no `..`.
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

impl EntryIndex {
    pub fn size(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }

    /// Every path is a plain relative path and the identity is well formed: a remote
    /// entry.json must not name files outside its folder.
    pub fn check(&self) -> Result<(), StoreError> {
        check_identity(&self.identity)?;
        for file in &self.files {
            check_relative(&file.path)?;
        }
        Ok(())
    }
}

/// A verified entry in the local store.
#[derive(Debug, Clone)]
pub struct Entry {
    pub dir: PathBuf,
    pub index: EntryIndex,
}

impl Entry {
    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.join(relative)
    }
}

/// What a look-up found.
#[derive(Debug)]
pub enum Lookup {
    Hit(Entry),
    Miss,
    /// The entry was there but did not match its `entry.json`: it was removed.
    Removed {
        reason: String,
    },
}

/// One line of `wlmake cache ls`.
#[derive(Debug, Clone)]
pub struct Summary {
    pub identity: String,
    pub recipe: String,
    pub runtime: String,
    pub size: u64,
    pub created: SystemTime,
    pub last_use: SystemTime,
    /// The entry.json could not be read (a damaged entry; `gc` removes it).
    pub damaged: bool,
}

/// The local store: `<cache root>/builds-v1`.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

pub fn check_identity(identity: &str) -> Result<(), StoreError> {
    if identity.len() == 64
        && identity
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        Err(StoreError::BadIdentity {
            identity: identity.to_string(),
        })
    }
}

fn check_relative(path: &str) -> Result<(), StoreError> {
    let bad = || StoreError::BadPath {
        path: path.to_string(),
    };
    if path.is_empty() || path.contains('\\') || path == ENTRY_FILE || path == LAST_USE {
        return Err(bad());
    }
    for component in Path::new(path).components() {
        match component {
            Component::Normal(part) if !part.to_string_lossy().starts_with(".tmp-") => {}
            _ => return Err(bad()),
        }
    }
    Ok(())
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Every file under `dir`, as sorted `/`-separated relative paths.
pub fn list_files(dir: &Path) -> io::Result<Vec<String>> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) -> io::Result<()> {
        for entry in fs::read_dir(dir)? {
            let entry = entry?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                walk(base, &path, out)?;
            } else {
                let relative = path.strip_prefix(base).expect("under base");
                let parts: Vec<_> = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.push(parts.join("/"));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out)?;
    out.sort();
    Ok(out)
}

impl Store {
    /// The store under a cache root (created on first write).
    pub fn new(cache_root: &Path) -> Store {
        Store {
            root: cache_root.join(BUCKET),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn entry_dir(&self, identity: &str) -> PathBuf {
        self.root.join(identity)
    }

    fn lock(&self, identity: &str) -> Result<LockGuard, StoreError> {
        let path = self.root.join(format!("{identity}.lock"));
        lock_exclusive(&path).map_err(|source| StoreError::Lock { path, source })
    }

    /// Looks up an entry and verifies every file (size and sha256). A damaged entry is
    /// removed and reported as [`Lookup::Removed`].
    pub fn lookup(&self, identity: &str) -> Result<Lookup, StoreError> {
        check_identity(identity)?;
        let dir = self.entry_dir(identity);
        if !dir.join(ENTRY_FILE).is_file() && !dir.exists() {
            return Ok(Lookup::Miss);
        }
        let _lock = self.lock(identity)?;
        if !dir.exists() {
            return Ok(Lookup::Miss);
        }
        match verify(&dir, identity) {
            Ok(index) => {
                // Last use is bookkeeping: a read-only store still serves hits.
                let _ = fs::write(dir.join(LAST_USE), unix_now().to_string());
                Ok(Lookup::Hit(Entry { dir, index }))
            }
            Err(reason) => {
                remove_dir(&dir)?;
                Ok(Lookup::Removed { reason })
            }
        }
    }

    /// Copies `files` (relative paths under `from`) into a new entry. An existing intact
    /// entry is kept as it is. The entry appears in one rename: a failure (full disk,
    /// read-only folder) leaves no partial entry behind.
    pub fn insert(
        &self,
        identity: &str,
        recipe: &str,
        runtime: &str,
        from: &Path,
        files: &[String],
    ) -> Result<Entry, StoreError> {
        self.insert_with::<StoreError>(identity, |temp| {
            let mut listed = Vec::new();
            for relative in files {
                check_relative(relative)?;
                let source = from.join(relative);
                let target = temp.join(relative);
                if let Some(parent) = target.parent() {
                    fs::create_dir_all(parent).map_err(StoreError::io("create folder", parent))?;
                }
                fs::copy(&source, &target).map_err(StoreError::io("copy", &source))?;
                let (sha256, size) = hash_file(&target).map_err(StoreError::io("read", &target))?;
                listed.push(EntryFile {
                    path: relative.clone(),
                    size,
                    sha256,
                });
            }
            Ok(EntryIndex {
                entry_version: ENTRY_VERSION,
                identity: identity.to_string(),
                recipe: recipe.to_string(),
                runtime: runtime.to_string(),
                created: unix_now(),
                files: listed,
            })
        })
    }

    /// Makes an entry: `fill` writes the files into a temp folder inside the bucket and
    /// returns their index; the index is checked against the files, written, and the
    /// folder renamed into place. Used for local inserts and remote downloads alike.
    pub fn insert_with<E: From<StoreError>>(
        &self,
        identity: &str,
        fill: impl FnOnce(&Path) -> Result<EntryIndex, E>,
    ) -> Result<Entry, E> {
        check_identity(identity)?;
        fs::create_dir_all(&self.root).map_err(StoreError::io("create folder", &self.root))?;
        let _lock = self.lock(identity)?;
        let dir = self.entry_dir(identity);
        if dir.exists() {
            match verify(&dir, identity) {
                Ok(index) => return Ok(Entry { dir, index }),
                Err(_) => remove_dir(&dir)?,
            }
        }
        let (temp, _tracked) = crate::interrupt::temp_dir_in(&self.root, ".tmp-")
            .map_err(StoreError::io("create a temp folder in", &self.root))?;
        let index = fill(temp.path())?;
        index.check()?;
        if index.identity != identity {
            return Err(StoreError::Mismatch {
                reason: format!("it names another identity ({})", index.identity),
            }
            .into());
        }
        // The files must be what the index says, whoever wrote them.
        verify_files(temp.path(), &index).map_err(|reason| StoreError::Mismatch { reason })?;
        let text = serde_json::to_string_pretty(&index).expect("serializable") + "\n";
        let entry_file = temp.path().join(ENTRY_FILE);
        write_synced(&entry_file, text.as_bytes()).map_err(StoreError::io("write", &entry_file))?;
        let _ = fs::write(temp.path().join(LAST_USE), unix_now().to_string());
        let kept = temp.keep();
        if let Err(error) = fs::rename(&kept, &dir) {
            let _ = fs::remove_dir_all(&kept);
            return Err(StoreError::Io {
                action: "move into place",
                path: dir,
                source: error,
            }
            .into());
        }
        Ok(Entry { dir, index })
    }

    /// Every entry, newest use first. Temp folders and lock files are left out.
    pub fn list(&self) -> Result<Vec<Summary>, StoreError> {
        let mut out = Vec::new();
        let read = match fs::read_dir(&self.root) {
            Ok(read) => read,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(out),
            Err(error) => return Err(StoreError::io("read", &self.root)(error)),
        };
        for item in read {
            let item = item.map_err(StoreError::io("read", &self.root))?;
            let name = item.file_name().to_string_lossy().into_owned();
            if check_identity(&name).is_err() || !item.path().is_dir() {
                continue;
            }
            let dir = item.path();
            let modified = |path: &Path| fs::metadata(path).and_then(|m| m.modified()).ok();
            let created = modified(&dir.join(ENTRY_FILE))
                .or_else(|| modified(&dir))
                .unwrap_or(UNIX_EPOCH);
            let last_use = modified(&dir.join(LAST_USE)).unwrap_or(created);
            let summary = match read_index(&dir) {
                Some(index) => Summary {
                    recipe: index.recipe.clone(),
                    runtime: index.runtime.clone(),
                    size: index.size(),
                    created: UNIX_EPOCH + Duration::from_secs(index.created),
                    last_use,
                    damaged: false,
                    identity: name,
                },
                None => Summary {
                    recipe: "?".into(),
                    runtime: "?".into(),
                    size: 0,
                    created,
                    last_use,
                    damaged: true,
                    identity: name,
                },
            };
            out.push(summary);
        }
        out.sort_by_key(|s| std::cmp::Reverse(s.last_use));
        Ok(out)
    }

    /// Removes the one entry whose identity starts with `prefix`.
    pub fn remove_prefix(&self, prefix: &str) -> Result<Summary, StoreError> {
        let matches: Vec<Summary> = self
            .list()?
            .into_iter()
            .filter(|s| !prefix.is_empty() && s.identity.starts_with(prefix))
            .collect();
        match matches.len() {
            0 => Err(StoreError::NoMatch {
                prefix: prefix.to_string(),
            }),
            1 => {
                let summary = matches.into_iter().next().expect("one");
                self.remove(&summary.identity)?;
                Ok(summary)
            }
            count => Err(StoreError::Ambiguous {
                prefix: prefix.to_string(),
                count,
            }),
        }
    }

    /// Removes every entry (and leftover temp folders).
    pub fn remove_all(&self) -> Result<Vec<Summary>, StoreError> {
        let all = self.list()?;
        for summary in &all {
            self.remove(&summary.identity)?;
        }
        if let Ok(read) = fs::read_dir(&self.root) {
            for item in read.flatten() {
                if item.file_name().to_string_lossy().starts_with(".tmp-") {
                    let _ = fs::remove_dir_all(item.path());
                }
            }
        }
        Ok(all)
    }

    /// Removes the entry with this identity (nothing when there is none).
    pub fn remove(&self, identity: &str) -> Result<(), StoreError> {
        let _lock = self.lock(identity)?;
        remove_dir(&self.entry_dir(identity))
    }

    /// Removes day-old temp folders, damaged entries, entries unused for longer than
    /// `max_age`, then the least recently used entries until the store holds at most
    /// `max_size` bytes.
    pub fn gc(
        &self,
        max_size: Option<u64>,
        max_age: Option<Duration>,
        now: SystemTime,
    ) -> Result<Vec<Summary>, StoreError> {
        // Temp folders of killed processes (a day old: none is still being written).
        if let Ok(read) = fs::read_dir(&self.root) {
            for item in read.flatten() {
                let stale = item
                    .metadata()
                    .and_then(|m| m.modified())
                    .is_ok_and(|time| {
                        now.duration_since(time)
                            .is_ok_and(|age| age > Duration::from_secs(86400))
                    });
                if stale && item.file_name().to_string_lossy().starts_with(".tmp-") {
                    let _ = fs::remove_dir_all(item.path());
                }
            }
        }
        let mut entries = self.list()?;
        // Oldest use first.
        entries.reverse();
        let mut removed = Vec::new();
        let mut kept = Vec::new();
        for summary in entries {
            let too_old = max_age.is_some_and(|age| {
                now.duration_since(summary.last_use)
                    .is_ok_and(|unused| unused > age)
            });
            if summary.damaged || too_old {
                self.remove(&summary.identity)?;
                removed.push(summary);
            } else {
                kept.push(summary);
            }
        }
        if let Some(limit) = max_size {
            let mut total: u64 = kept.iter().map(|s| s.size).sum();
            for summary in kept {
                if total <= limit {
                    break;
                }
                self.remove(&summary.identity)?;
                total -= summary.size;
                removed.push(summary);
            }
        }
        Ok(removed)
    }
}

/// An error and its causes on one line, for warnings that do not stop the build.
pub fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        let more = inner.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = inner.source();
    }
    text
}

fn read_index(dir: &Path) -> Option<EntryIndex> {
    let text = fs::read_to_string(dir.join(ENTRY_FILE)).ok()?;
    serde_json::from_str(&text).ok()
}

/// Reads an entry's index and checks every file against it; the reason on a mismatch.
fn verify(dir: &Path, identity: &str) -> Result<EntryIndex, String> {
    let text = fs::read_to_string(dir.join(ENTRY_FILE))
        .map_err(|error| format!("cannot read {ENTRY_FILE}: {error}"))?;
    let index: EntryIndex = serde_json::from_str(&text)
        .map_err(|error| format!("{ENTRY_FILE} is not valid: {error}"))?;
    if index.identity != identity {
        return Err(format!(
            "{ENTRY_FILE} names identity {}",
            &index.identity.get(..16).unwrap_or(&index.identity)
        ));
    }
    index.check().map_err(|error| error.to_string())?;
    verify_files(dir, &index)?;
    Ok(index)
}

fn verify_files(dir: &Path, index: &EntryIndex) -> Result<(), String> {
    for file in &index.files {
        let path = dir.join(&file.path);
        let (sha256, size) =
            hash_file(&path).map_err(|error| format!("`{}`: {error}", file.path))?;
        if size != file.size {
            return Err(format!(
                "`{}` has {size} bytes, {ENTRY_FILE} says {}",
                file.path, file.size
            ));
        }
        if sha256 != file.sha256 {
            return Err(format!(
                "`{}` has sha256 {}, {ENTRY_FILE} says {}",
                file.path,
                &sha256[..16],
                &file.sha256.get(..16).unwrap_or(&file.sha256)
            ));
        }
    }
    Ok(())
}

/// Moves the folder aside (one rename, so it is gone from its place at once), then
/// deletes it.
fn remove_dir(dir: &Path) -> Result<(), StoreError> {
    if !dir.exists() {
        return Ok(());
    }
    let parent = dir.parent().expect("entry has a parent");
    let aside = parent.join(format!(
        ".tmp-removed-{}-{}",
        std::process::id(),
        dir.file_name().and_then(|n| n.to_str()).unwrap_or("entry")
    ));
    // A leftover of a process with the same id that died while removing.
    let _ = fs::remove_dir_all(&aside);
    fs::rename(dir, &aside).map_err(StoreError::io("remove", dir))?;
    fs::remove_dir_all(&aside).map_err(StoreError::io("remove", &aside))
}

fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = fs::File::create(path)?;
    io::Write::write_all(&mut file, bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const ID_B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    fn prefix_tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("include/sub")).unwrap();
        fs::create_dir_all(root.join("lib/pkgconfig")).unwrap();
        fs::write(root.join("include/sub/a.h"), "int a;\n").unwrap();
        fs::write(root.join("lib/libz.a"), b"!<arch>\n").unwrap();
        fs::write(root.join("lib/pkgconfig/z.pc"), "Name: z\n").unwrap();
        dir
    }

    #[test]
    fn a_nested_tree_goes_in_and_comes_back_verified() {
        let cache = tempfile::tempdir().unwrap();
        let store = Store::new(cache.path());
        let tree = prefix_tree();
        let files = list_files(tree.path()).unwrap();
        assert_eq!(
            files,
            ["include/sub/a.h", "lib/libz.a", "lib/pkgconfig/z.pc"]
        );
        assert!(matches!(store.lookup(ID_A).unwrap(), Lookup::Miss));
        store
            .insert(ID_A, "lib/zlib-1.2.13", "wasmtime", tree.path(), &files)
            .unwrap();
        let Lookup::Hit(entry) = store.lookup(ID_A).unwrap() else {
            panic!("expected a hit");
        };
        assert_eq!(entry.index.files.len(), 3);
        assert_eq!(
            fs::read_to_string(entry.path("include/sub/a.h")).unwrap(),
            "int a;\n"
        );
        // Nothing but the entry is left in the bucket (no temp folders).
        let names: Vec<String> = fs::read_dir(store.root())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !n.ends_with(".lock"))
            .collect();
        assert_eq!(names, [ID_A]);
    }

    #[test]
    fn a_damaged_entry_is_removed_on_lookup() {
        let cache = tempfile::tempdir().unwrap();
        let store = Store::new(cache.path());
        let tree = prefix_tree();
        let files = list_files(tree.path()).unwrap();
        store
            .insert(ID_A, "lib/z", "wasmtime", tree.path(), &files)
            .unwrap();
        fs::write(store.entry_dir(ID_A).join("lib/libz.a"), b"!<arch>\nX").unwrap();
        match store.lookup(ID_A).unwrap() {
            Lookup::Removed { reason } => assert!(reason.contains("lib/libz.a"), "{reason}"),
            other => panic!("expected removal, got {other:?}"),
        }
        assert!(!store.entry_dir(ID_A).exists());
        assert!(matches!(store.lookup(ID_A).unwrap(), Lookup::Miss));
    }

    #[test]
    fn a_failed_fill_leaves_no_entry() {
        let cache = tempfile::tempdir().unwrap();
        let store = Store::new(cache.path());
        let error = store
            .insert_with::<StoreError>(ID_A, |temp| {
                fs::write(temp.join("half"), b"x").unwrap();
                Err(StoreError::Io {
                    action: "write",
                    path: temp.join("half"),
                    source: io::Error::other("No space left on device"),
                })
            })
            .unwrap_err();
        assert!(error.to_string().contains("cannot write"));
        assert!(matches!(store.lookup(ID_A).unwrap(), Lookup::Miss));
        assert!(store.list().unwrap().is_empty());
        let leftovers: Vec<_> = fs::read_dir(store.root())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n.to_string_lossy().starts_with(".tmp-"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn an_index_that_does_not_match_its_files_is_refused() {
        let cache = tempfile::tempdir().unwrap();
        let store = Store::new(cache.path());
        let error = store
            .insert_with::<StoreError>(ID_A, |temp| {
                fs::write(temp.join("a"), b"abc").unwrap();
                Ok(EntryIndex {
                    entry_version: ENTRY_VERSION,
                    identity: ID_A.into(),
                    recipe: "r".into(),
                    runtime: "wasmtime".into(),
                    created: 0,
                    files: vec![EntryFile {
                        path: "a".into(),
                        size: 3,
                        sha256: "0".repeat(64),
                    }],
                })
            })
            .unwrap_err();
        assert!(error.to_string().contains("do not match"), "{error}");
        assert!(!store.entry_dir(ID_A).exists());
    }

    #[test]
    fn paths_outside_the_entry_are_refused() {
        for bad in ["../x", "/etc/passwd", "a/../../b", "", "entry.json", "a\\b"] {
            assert!(check_relative(bad).is_err(), "{bad}");
        }
        for good in ["php.wasm", "lib/pkgconfig/z.pc", "manifest.json"] {
            check_relative(good).unwrap();
        }
        assert!(check_identity("abc").is_err());
        assert!(check_identity(&"A".repeat(64)).is_err());
        check_identity(ID_A).unwrap();
    }

    #[test]
    fn gc_removes_by_age_then_least_recently_used_by_size_and_rm_by_prefix() {
        let cache = tempfile::tempdir().unwrap();
        let store = Store::new(cache.path());
        let tree = prefix_tree();
        let files = list_files(tree.path()).unwrap();
        store
            .insert(ID_A, "lib/a", "wasmtime", tree.path(), &files)
            .unwrap();
        store
            .insert(ID_B, "lib/b", "wasmtime", tree.path(), &files)
            .unwrap();
        let size = store.list().unwrap()[0].size;
        // A was used long ago, B just now.
        let old = SystemTime::now() - Duration::from_secs(10 * 86400);
        fs::File::options()
            .write(true)
            .open(store.entry_dir(ID_A).join(LAST_USE))
            .unwrap()
            .set_modified(old)
            .unwrap();
        let listed = store.list().unwrap();
        assert_eq!(listed[0].identity, ID_B, "most recent use first");

        // Nothing is older than 30 days; both fit in twice their size.
        let removed = store
            .gc(
                Some(2 * size),
                Some(Duration::from_secs(30 * 86400)),
                SystemTime::now(),
            )
            .unwrap();
        assert!(removed.is_empty());
        // Room for one: the least recently used goes.
        let removed = store.gc(Some(size), None, SystemTime::now()).unwrap();
        assert_eq!(removed.len(), 1);
        assert_eq!(removed[0].identity, ID_A);
        assert_eq!(store.list().unwrap().len(), 1);

        store
            .insert(ID_A, "lib/a", "wasmtime", tree.path(), &files)
            .unwrap();
        assert_eq!(store.remove_prefix("aaaa").unwrap().identity, ID_A);
        assert!(matches!(
            store.remove_prefix("c").unwrap_err(),
            StoreError::NoMatch { .. }
        ));
        assert_eq!(store.list().unwrap().len(), 1);
        assert_eq!(store.remove_all().unwrap().len(), 1);
        assert!(store.list().unwrap().is_empty());
    }
}
