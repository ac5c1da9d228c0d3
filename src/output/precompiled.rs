//! Artifacts compiled ahead of time for one runtime (`wlmake build --precompile`):
//! Wasmtime's `.cwasm`, WasmEdge's AOT form. They sit beside the build's artifacts and
//! are listed in `precompiled.json`, each tied to the artifact's sha256, the runtime's
//! version line and the machine's target. They are not part of the build (another
//! Wasmtime makes other bytes from the same module), so neither the manifest nor the
//! build identity names them; a new build of the folder drops them.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Manifest, OutputError, hash_file};
use crate::reporter::Reporter;
use crate::runtime::precompile::{self, PrecompileError};
use crate::runtime::{Kind, Runtime};

/// The list of precompiled artifacts, beside `manifest.json`.
pub const PRECOMPILED: &str = "precompiled.json";
const LIST_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Precompiled {
    /// The artifact it was compiled from (its name in the manifest).
    pub artifact: String,
    /// The artifact's sha256 when it was compiled.
    pub artifact_sha256: String,
    /// `wasmtime` or `wasmedge`.
    pub runtime: String,
    /// The runtime's version line (`wasmtime 49.0.3 (...)`).
    pub runtime_version: String,
    /// The machine it runs on (`x86_64-linux`): native code for one CPU and OS.
    pub target: String,
    /// Relative to the build's folder.
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct List {
    version: u32,
    precompiled: Vec<Precompiled>,
}

/// This machine's target as the list records it.
pub fn target() -> String {
    format!("{}-{}", std::env::consts::ARCH, std::env::consts::OS)
}

/// The file a precompiled artifact is written to: `php.cwasm` for Wasmtime,
/// `php.aot.wasm` for WasmEdge (still a `.wasm`: the native code is a custom section).
pub fn file_name(artifact: &str, kind: Kind) -> String {
    format!("{artifact}{}", extension(kind))
}

/// The ending of a precompiled artifact's file name for `kind`.
pub fn extension(kind: Kind) -> &'static str {
    match kind {
        Kind::Wasmtime => ".cwasm",
        Kind::Wasmedge => ".aot.wasm",
    }
}

/// What a run may use for an artifact.
#[derive(Debug, PartialEq)]
pub enum Lookup {
    /// A precompiled artifact that matches: this path.
    Ready(PathBuf),
    /// One exists but must not run: why, in words.
    Stale(String),
    /// None was made for this runtime.
    Absent,
}

/// The precompiled artifacts listed in `dir` (none when there is no list).
pub fn load(dir: &Path) -> Result<Vec<Precompiled>, OutputError> {
    let path = dir.join(PRECOMPILED);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(OutputError::Read { path, source }),
    };
    let list: List = serde_json::from_str(&text).map_err(|error| OutputError::CorruptManifest {
        path: path.clone(),
        reason: error.to_string(),
    })?;
    if list.version != LIST_VERSION {
        return Err(OutputError::CorruptManifest {
            path,
            reason: format!(
                "version {} (this wlmake reads {LIST_VERSION})",
                list.version
            ),
        });
    }
    Ok(list.precompiled)
}

/// Records `entry` in `dir`'s list, replacing the one for the same artifact and runtime.
pub fn record(dir: &Path, entry: Precompiled) -> Result<(), OutputError> {
    let mut precompiled = load(dir)?;
    precompiled.retain(|p| !(p.artifact == entry.artifact && p.runtime == entry.runtime));
    precompiled.push(entry);
    precompiled.sort_by(|a, b| (&a.artifact, &a.runtime).cmp(&(&b.artifact, &b.runtime)));
    let list = List {
        version: LIST_VERSION,
        precompiled,
    };
    let text = serde_json::to_string_pretty(&list).expect("serializable") + "\n";
    let path = dir.join(PRECOMPILED);
    crate::files::write_atomically(dir, &path, text.as_bytes())
        .map_err(|source| OutputError::Write { path, source })
}

/// Whether `dir` holds a precompiled form of `artifact` (sha256 `artifact_sha256`) that
/// `runtime` (`kind`, version line `runtime_version`) may run on this machine. The
/// precompiled file is hashed: it is native code, so a changed one never runs.
pub fn lookup(
    dir: &Path,
    artifact: &str,
    artifact_sha256: &str,
    kind: Kind,
    runtime_version: &str,
) -> Result<Lookup, OutputError> {
    let list = load(dir)?;
    let Some(entry) = list
        .iter()
        .find(|p| p.artifact == artifact && p.runtime == kind.name())
    else {
        return Ok(Lookup::Absent);
    };
    let path = dir.join(&entry.path);
    if entry.artifact_sha256 != artifact_sha256 {
        return Ok(Lookup::Stale(format!(
            "`{}` was compiled from another `{artifact}` (sha256 {}, this one is {})",
            entry.path,
            short(&entry.artifact_sha256),
            short(artifact_sha256)
        )));
    }
    if entry.runtime_version != runtime_version {
        return Ok(Lookup::Stale(format!(
            "`{}` was compiled by {}; the runtime here is {runtime_version}",
            entry.path, entry.runtime_version
        )));
    }
    if entry.target != target() {
        return Ok(Lookup::Stale(format!(
            "`{}` holds native code for {}; this machine is {}",
            entry.path,
            entry.target,
            target()
        )));
    }
    match hash_file(&path) {
        Ok((sha256, size)) if sha256 == entry.sha256 && size == entry.size => {
            Ok(Lookup::Ready(path))
        }
        Ok(_) => Ok(Lookup::Stale(format!(
            "`{}` changed after it was compiled (its sha256 is not the one {PRECOMPILED} records)",
            entry.path
        ))),
        Err(_) => Ok(Lookup::Stale(format!("`{}` is missing", entry.path))),
    }
}

/// Each module of the build in `dir` compiled ahead of time for `runtime`, into `dir`
/// and its list, unless a matching one is there. Compiling goes through the machine's
/// precompiled cache under `cache_root` (a module compiled for a run or a suite is
/// copied, not compiled again). A WasmEdge that cannot compile ahead of time (the test
/// host) is reported and skipped: its runs interpret the `.wasm`. Returns the list's
/// entries for the modules.
pub fn write_beside(
    dir: &Path,
    manifest: &Manifest,
    runtime: &Runtime,
    cache_root: &Path,
    reporter: &dyn Reporter,
) -> Result<Vec<Precompiled>, PrecompileError> {
    let kind = runtime.kind;
    let write = |path: &Path| {
        let path = path.to_path_buf();
        move |source| PrecompileError::Write { path, source }
    };
    let mut listed = Vec::new();
    let modules = manifest
        .artifacts
        .iter()
        .filter(|a| !a.is_folder() && a.path.ends_with(".wasm"));
    for artifact in modules {
        match lookup(
            dir,
            &artifact.name,
            &artifact.sha256,
            kind,
            &runtime.version,
        )? {
            Lookup::Ready(_) => {
                listed.extend(
                    load(dir)?
                        .into_iter()
                        .find(|p| p.artifact == artifact.name && p.runtime == kind.name()),
                );
                continue;
            }
            Lookup::Stale(why) => reporter.info(&format!("{why}: compiling it again")),
            Lookup::Absent => {}
        }
        let module = dir.join(&artifact.path);
        let cached = match precompile::cached(
            cache_root,
            runtime,
            &module,
            &artifact.sha256,
            reporter,
        ) {
            Ok(cached) => cached,
            Err(PrecompileError::Compile { log, .. }) if kind == Kind::Wasmedge => {
                reporter.warn(&format!(
                    "{} cannot compile `{}` ahead of time (log: {}): its runs interpret the `.wasm`",
                    runtime.version,
                    artifact.path,
                    log.display()
                ));
                continue;
            }
            Err(error) => return Err(error),
        };
        let file = file_name(&artifact.name, kind);
        let (temp, _tracked) =
            crate::interrupt::temp_dir_in(dir, ".precompile-").map_err(write(dir))?;
        let partial = temp.path().join(&file);
        std::fs::copy(&cached, &partial).map_err(write(&partial))?;
        let (sha256, size) = hash_file(&partial).map_err(write(&partial))?;
        let dest = dir.join(&file);
        std::fs::rename(&partial, &dest).map_err(write(&dest))?;
        let entry = Precompiled {
            artifact: artifact.name.clone(),
            artifact_sha256: artifact.sha256.clone(),
            runtime: kind.name().to_string(),
            runtime_version: runtime.version.clone(),
            target: target(),
            path: file,
            size,
            sha256,
        };
        record(dir, entry.clone())?;
        listed.push(entry);
    }
    Ok(listed)
}

fn short(sha256: &str) -> &str {
    sha256.get(..16).unwrap_or(sha256)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(dir: &Path, bytes: &[u8]) -> Precompiled {
        std::fs::write(dir.join("php.cwasm"), bytes).unwrap();
        let (sha256, size) = hash_file(&dir.join("php.cwasm")).unwrap();
        Precompiled {
            artifact: "php".into(),
            artifact_sha256: "a".repeat(64),
            runtime: "wasmtime".into(),
            runtime_version: "wasmtime 49.0.3".into(),
            target: target(),
            path: "php.cwasm".into(),
            size,
            sha256,
        }
    }

    #[test]
    fn a_matching_precompiled_artifact_is_ready_and_every_mismatch_is_explained() {
        let dir = tempfile::tempdir().unwrap();
        let a = "a".repeat(64);
        assert_eq!(
            lookup(dir.path(), "php", &a, Kind::Wasmtime, "wasmtime 49.0.3").unwrap(),
            Lookup::Absent
        );
        record(dir.path(), entry(dir.path(), b"native")).unwrap();
        assert_eq!(
            lookup(dir.path(), "php", &a, Kind::Wasmtime, "wasmtime 49.0.3").unwrap(),
            Lookup::Ready(dir.path().join("php.cwasm"))
        );
        assert_eq!(
            lookup(dir.path(), "php", &a, Kind::Wasmedge, "wasmedge 0.14.1").unwrap(),
            Lookup::Absent
        );
        let stale = |found: Lookup| match found {
            Lookup::Stale(why) => why,
            other => panic!("expected stale, got {other:?}"),
        };
        let why = stale(lookup(dir.path(), "php", &a, Kind::Wasmtime, "wasmtime 48.0.0").unwrap());
        assert!(
            why.contains("compiled by wasmtime 49.0.3; the runtime here is wasmtime 48.0.0"),
            "{why}"
        );
        let b = "b".repeat(64);
        let why = stale(lookup(dir.path(), "php", &b, Kind::Wasmtime, "wasmtime 49.0.3").unwrap());
        assert!(why.contains("compiled from another `php`"), "{why}");
        std::fs::write(dir.path().join("php.cwasm"), b"changed").unwrap();
        let why = stale(lookup(dir.path(), "php", &a, Kind::Wasmtime, "wasmtime 49.0.3").unwrap());
        assert!(why.contains("changed after it was compiled"), "{why}");
    }

    #[test]
    fn recording_again_replaces_the_entry_for_the_same_artifact_and_runtime() {
        let dir = tempfile::tempdir().unwrap();
        record(dir.path(), entry(dir.path(), b"one")).unwrap();
        let mut second = entry(dir.path(), b"two");
        second.runtime_version = "wasmtime 50.0.0".into();
        record(dir.path(), second.clone()).unwrap();
        assert_eq!(load(dir.path()).unwrap(), vec![second]);
    }

    #[test]
    fn a_list_of_another_version_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(PRECOMPILED),
            r#"{"version": 9, "precompiled": []}"#,
        )
        .unwrap();
        let error = load(dir.path()).unwrap_err().to_string();
        assert!(error.contains("precompiled.json"), "{error}");
    }
}
