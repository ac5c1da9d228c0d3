//! Build outputs: artifacts and `manifest.json` under `build-output/`, one folder per
//! recipe and runtime so flavors never overwrite each other.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::files::{folder_files, hash_file, hash_folder};

pub mod compare;
pub mod precompiled;
pub mod sbom;

pub const MANIFEST: &str = "manifest.json";
pub const MANIFEST_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("cannot write build output `{}`", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("artifact `{name}` was not produced: `{}` is missing", path.display())]
    MissingArtifact { name: String, path: PathBuf },
    #[error("artifact `{name}` (`{}`) is not a WebAssembly module: {reason}", path.display())]
    NotWasm {
        name: String,
        path: PathBuf,
        reason: String,
    },
    #[error("no build of `{id}` for {runtime} in `{}`", dir.display())]
    NotBuilt {
        id: String,
        runtime: String,
        dir: PathBuf,
    },
    #[error("`{}` is not a readable build manifest: {reason}", path.display())]
    CorruptManifest { path: PathBuf, reason: String },
    #[error(
        "artifact `{name}` (`{}`) does not match its manifest: sha256 {actual} ({actual_size} bytes), the manifest says {expected} ({expected_size} bytes)",
        path.display()
    )]
    Tampered {
        name: String,
        path: PathBuf,
        expected: String,
        expected_size: u64,
        actual: String,
        actual_size: u64,
    },
    #[error("cannot read `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl OutputError {
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::NotBuilt { id, runtime, .. } => Some(format!(
                "build it first: wlmake build {id} --runtime {runtime}"
            )),
            Self::CorruptManifest { .. } | Self::Tampered { .. } => Some(
                "the build output was changed after the build: rebuild it with `wlmake build RECIPE --runtime R` (it restores the artifacts from the build cache or builds them again)".into(),
            ),
            Self::MissingArtifact { .. } => {
                Some("check the recipe's [[artifact]] paths and the make targets".into())
            }
            _ => None,
        }
    }
}

/// The manifest's keys that must be equal for two builds of the same inputs, wherever
/// and whenever they ran (docs/reproducibility.md): the inputs and the artifacts'
/// digests. `source` counts without its `provider` (cache, mirror, URL, ...). The other
/// keys describe the host and the run and may differ: `flags` (the environment with
/// the host's folders), `toolchain` (tool paths), `step_seconds`, `records` (the
/// runtime's version line).
pub const REPRODUCIBLE_KEYS: [&str; 12] = [
    "manifest_version",
    "wlmake_version",
    "recipe",
    "runtime",
    "build_identity",
    "source",
    "patches",
    "dependencies",
    "artifacts",
    "warnings",
    "import_check",
    "materials",
];

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub manifest_version: u32,
    pub wlmake_version: String,
    pub recipe: RecipeEntry,
    pub runtime: crate::runtime::Kind,
    /// sha256 over every input; equal identity means nothing to rebuild.
    pub build_identity: String,
    pub source: SourceEntry,
    pub patches: Vec<PatchEntry>,
    pub dependencies: Vec<DependencyEntry>,
    pub toolchain: serde_json::Value,
    pub flags: Flags,
    /// The build profile and what it applied (`None` in manifests made before profiles,
    /// which were all release builds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<crate::build::profile::ProfileEntry>,
    pub artifacts: Vec<ArtifactEntry>,
    /// Warning flag -> distinct warnings of that kind in the build (recipe's count-warnings).
    #[serde(default)]
    pub warnings: BTreeMap<String, usize>,
    /// Artifact name -> the import table it was checked against (`runtimes/*.toml`).
    #[serde(default)]
    pub import_check: BTreeMap<String, String>,
    /// Wall time of each step, seconds.
    pub step_seconds: BTreeMap<String, f64>,
    /// The recipe's `[[record]]`s: name -> what the built artifact said.
    #[serde(default)]
    pub records: BTreeMap<String, RecordEntry>,
    /// What went into the artifacts (the recipe's source, libraries, in-tree sources):
    /// the bill of materials `sbom.spdx.json` is made from it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub materials: Vec<sbom::Material>,
}

/// The output of one `[[record]]` command, run on the flavor's runtime after the build.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RecordEntry {
    pub artifact: String,
    pub args: Vec<String>,
    /// The runtime's version line, when one was found.
    pub runtime: Option<String>,
    /// stdout, one entry per line (empty when it did not run).
    pub lines: Vec<String>,
    /// Why it did not run (no runtime for this flavor on the build machine).
    pub skipped: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RecipeEntry {
    pub id: String,
    pub file: String,
    pub content_sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SourceEntry {
    pub kind: String,
    /// Archive sha256, git commit, or content hash of a folder.
    pub digest: String,
    pub provider: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PatchEntry {
    pub set: String,
    pub path: String,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DependencyEntry {
    pub id: String,
    pub identity: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Flags {
    pub env: BTreeMap<String, String>,
    pub configure_args: Vec<String>,
    pub make_targets: Vec<String>,
    pub make_vars: Vec<String>,
    pub jobs: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ArtifactEntry {
    pub name: String,
    /// Relative to the manifest's folder.
    pub path: String,
    /// Bytes; for a folder, the sum of its files.
    pub size: u64,
    /// For a folder, the tree hash ([`hash_folder`]).
    pub sha256: String,
    /// `folder` for a folder artifact (a standard library); absent for a file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Files in a folder artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<u64>,
}

/// The `kind` of a folder artifact in the manifest.
pub const FOLDER: &str = "folder";

impl ArtifactEntry {
    pub fn is_folder(&self) -> bool {
        self.kind.as_deref() == Some(FOLDER)
    }
}

/// Copies a folder's files (no links) into `to`.
fn copy_folder(from: &Path, to: &Path) -> std::io::Result<()> {
    for relative in folder_files(from)? {
        let target = to.join(&relative);
        std::fs::create_dir_all(target.parent().expect("has a parent"))?;
        std::fs::copy(from.join(&relative), &target)?;
    }
    std::fs::create_dir_all(to)
}

/// `build-output/<language>/<name>-<version>/<folder>/`: the folder is the runtime's
/// name, `<runtime>-<profile>` for a profile other than release (`Profile::folder`).
pub fn output_dir(root: &Path, id: &str, folder: &str) -> PathBuf {
    root.join(id).join(folder)
}

impl Manifest {
    /// The part of the manifest two reproducible builds share ([`REPRODUCIBLE_KEYS`]).
    pub fn reproducible(&self) -> serde_json::Value {
        let mut all = serde_json::to_value(self).expect("serializable");
        if let Some(source) = all.get_mut("source").and_then(|s| s.as_object_mut()) {
            source.remove("provider");
        }
        let map = all.as_object().expect("a manifest is an object");
        serde_json::Value::Object(
            REPRODUCIBLE_KEYS
                .iter()
                .filter_map(|key| map.get(*key).map(|v| (key.to_string(), v.clone())))
                .collect(),
        )
    }

    pub fn read(dir: &Path) -> Option<Manifest> {
        Self::load(dir).ok().flatten()
    }

    /// The manifest in `dir`: `None` when there is none, an error when it cannot be
    /// read or parsed.
    pub fn load(dir: &Path) -> Result<Option<Manifest>, OutputError> {
        let path = dir.join(MANIFEST);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => {
                return Err(OutputError::CorruptManifest {
                    path,
                    reason: error.to_string(),
                });
            }
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|error| OutputError::CorruptManifest {
                path,
                reason: error.to_string(),
            })
    }

    /// True when every artifact is present with its recorded size and hash.
    pub fn artifacts_intact(&self, dir: &Path) -> bool {
        self.first_changed(dir).is_none()
    }

    /// The first artifact that is missing or differs from the manifest.
    pub fn first_changed(&self, dir: &Path) -> Option<OutputError> {
        self.artifacts
            .iter()
            .find_map(|artifact| self.verify(dir, &artifact.name).err())
    }

    /// Checks the artifact `name` against its recorded sha256 and size.
    pub fn verify(&self, dir: &Path, name: &str) -> Result<(), OutputError> {
        let Some(artifact) = self.artifacts.iter().find(|a| a.name == name) else {
            return Ok(());
        };
        let path = dir.join(&artifact.path);
        let hashed = if artifact.is_folder() {
            hash_folder(&path).map(|(sha256, size, _)| (sha256, size))
        } else {
            hash_file(&path)
        };
        let (actual, actual_size) = hashed.map_err(|_| OutputError::MissingArtifact {
            name: name.to_string(),
            path: path.clone(),
        })?;
        if actual == artifact.sha256 && actual_size == artifact.size {
            Ok(())
        } else {
            Err(OutputError::Tampered {
                name: name.to_string(),
                path,
                expected: artifact.sha256.clone(),
                expected_size: artifact.size,
                actual,
                actual_size,
            })
        }
    }

    pub fn artifact_path(&self, dir: &Path, name: &str) -> Option<PathBuf> {
        self.artifacts
            .iter()
            .find(|a| a.name == name)
            .map(|a| dir.join(&a.path))
    }
}

/// Checks that `bytes` is a WebAssembly module wasmparser can read end to end.
pub fn check_wasm(bytes: &[u8]) -> Result<(), String> {
    if !bytes.starts_with(b"\0asm") {
        return Err("no `\\0asm` header".into());
    }
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        payload.map_err(|error| error.to_string())?;
    }
    Ok(())
}

/// Writes the artifacts and manifest into `dir` as one step: everything goes to a
/// temp folder beside it, which then replaces `dir`. A failure leaves `dir` as it was.
pub fn publish(
    dir: &Path,
    artifacts: &[(String, PathBuf)],
    mut manifest: Manifest,
) -> Result<Manifest, OutputError> {
    let parent = dir.parent().expect("output dir has a parent");
    let write = |path: &Path| {
        let path = path.to_path_buf();
        move |source| OutputError::Write { path, source }
    };
    std::fs::create_dir_all(parent).map_err(write(parent))?;
    let (temp, _tracked) =
        crate::interrupt::temp_dir_in(parent, ".publish-").map_err(write(parent))?;
    manifest.artifacts.clear();
    for (name, built) in artifacts {
        if built.is_dir() {
            // A folder the modules need at run time: copied as it is, checked by tree hash.
            let target = temp.path().join(name);
            copy_folder(built, &target).map_err(|source| OutputError::Read {
                path: built.clone(),
                source,
            })?;
            let (sha256, size, files) = hash_folder(&target).map_err(write(&target))?;
            manifest.artifacts.push(ArtifactEntry {
                name: name.clone(),
                path: name.clone(),
                size,
                sha256,
                kind: Some(FOLDER.into()),
                files: Some(files),
            });
            continue;
        }
        if !built.is_file() {
            return Err(OutputError::MissingArtifact {
                name: name.clone(),
                path: built.clone(),
            });
        }
        let bytes = std::fs::read(built).map_err(|source| OutputError::Read {
            path: built.clone(),
            source,
        })?;
        // Static libraries (`.a`, from library recipes) keep their kind; everything
        // else must be a WebAssembly module.
        let file = if built.extension().is_some_and(|e| e == "a") {
            format!("{name}.a")
        } else {
            check_wasm(&bytes).map_err(|reason| OutputError::NotWasm {
                name: name.clone(),
                path: built.clone(),
                reason,
            })?;
            format!("{name}.wasm")
        };
        let target = temp.path().join(&file);
        std::fs::write(&target, &bytes).map_err(write(&target))?;
        manifest.artifacts.push(ArtifactEntry {
            name: name.clone(),
            path: file,
            size: bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(&bytes)),
            kind: None,
            files: None,
        });
    }
    let text = serde_json::to_string_pretty(&manifest).expect("serializable") + "\n";
    let manifest_path = temp.path().join(MANIFEST);
    std::fs::write(&manifest_path, text).map_err(write(&manifest_path))?;
    let sbom = serde_json::to_string_pretty(&sbom::spdx(&manifest, &sbom::created_now()))
        .expect("serializable")
        + "\n";
    let sbom_path = temp.path().join(sbom::SBOM);
    std::fs::write(&sbom_path, sbom).map_err(write(&sbom_path))?;
    // One atomic exchange of the old and the new folder (a reader sees the old set or
    // the new one, never no folder), then the old one goes. An interruption waits for it.
    let _critical = crate::interrupt::critical();
    crate::files::replace_folder(temp, dir).map_err(write(dir))?;
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_wasm_accepts_a_module_and_refuses_other_bytes() {
        // The smallest valid module: magic + version.
        assert!(check_wasm(b"\0asm\x01\0\0\0").is_ok());
        assert!(check_wasm(b"#!/bin/sh\n").is_err());
        assert!(check_wasm(b"\0asm\x01\0\0\0\x01\xff").is_err());
    }

    fn manifest(identity: &str) -> Manifest {
        serde_json::from_value(serde_json::json!({
            "manifest_version": MANIFEST_VERSION,
            "wlmake_version": "test",
            "recipe": {"id": "c/x-1", "file": "recipes/c/x-1.toml", "content_sha256": "0"},
            "runtime": "wasmtime",
            "build_identity": identity,
            "source": {"kind": "path", "digest": "0", "provider": "path"},
            "patches": [],
            "dependencies": [],
            "toolchain": null,
            "flags": {"env": {}, "configure_args": [], "make_targets": [], "make_vars": [], "jobs": 1},
            "artifacts": [],
            "step_seconds": {}
        }))
        .unwrap()
    }

    #[test]
    fn a_reader_never_sees_the_folder_missing_or_mixed_during_publishes() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("c/x-1/wasmtime");
        let module = root.path().join("x.wasm");
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let write_set = |round: usize| {
            // The module's custom section carries the round: module and manifest must agree.
            let mut bytes = b"\0asm\x01\0\0\0\0\x05\x01r".to_vec();
            bytes.extend(format!("{:03}", round % 1000).as_bytes());
            std::fs::write(&module, &bytes).unwrap();
            publish(
                &dir,
                &[("x".to_string(), module.clone())],
                manifest(&format!("{round}")),
            )
            .unwrap();
        };
        write_set(0);
        let reader = {
            let (dir, stop) = (dir.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut reads = 0;
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    let manifest = Manifest::load(&dir)
                        .expect("readable")
                        .expect("the folder and its manifest are always there");
                    // A swap between reading the manifest and the module is a newer set,
                    // never a half one: the module is checked against a fresh manifest.
                    if manifest.verify(&dir, "x").is_err() {
                        let again = Manifest::load(&dir).unwrap().unwrap();
                        assert_ne!(again, manifest, "a module that matches no manifest");
                    }
                    reads += 1;
                }
                reads
            })
        };
        for round in 1..200 {
            write_set(round);
        }
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        assert!(reader.join().unwrap() > 0);
        let leftovers: Vec<_> = std::fs::read_dir(dir.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, vec![std::ffi::OsString::from("wasmtime")]);
    }
}
