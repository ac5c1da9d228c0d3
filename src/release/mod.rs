//! Releases: which builds a release covers (the matrix of recipes and runtimes, narrowed
//! by language, runtime or release tag) and the release folder itself.
//!
//! - The matrix is every release recipe (not `lib/`) times its runtimes, in GitHub
//!   Actions' `{"include": [...]}` form.
//! - Release assets are the `.wasm` artifacts of `build-output/` under release names
//!   (`php-cgi-7.4.32-wasmedge.wasm`), folder artifacts as reproducible archives
//!   (`stdlib-3.11.2-wasmtime.tar.gz`), each build's manifest
//!   (`php-7.4.32-wasmedge.manifest.json`), its SBOM, the precompiled artifacts of
//!   `wlmake build --precompile` named with the runtime's version, and a `SHA256SUMS`
//!   file; every artifact is checked against its manifest's sha256 while it is copied,
//!   and the folder appears whole or not at all.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::cli::ReleaseSelection;
use crate::output::{MANIFEST, Manifest};
use crate::recipe::{Recipe, Repository};
use crate::runtime::Kind;

/// The checksum file written beside the assets, in `sha256sum` format.
pub const SHA256SUMS: &str = "SHA256SUMS";

/// Language of library recipes: built as dependencies, never released on their own.
const LIBRARY_LANGUAGE: &str = "lib";

#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    #[error("`{0}` is not a release tag like `php/7.4.33+20250101-0123abc`")]
    BadTag(String),
    #[error("release tag `{tag}` names no recipe: no `{language}` recipe has version {version}")]
    TagMatchesNothing {
        tag: String,
        language: String,
        version: String,
    },
    #[error("the release matrix is empty: no recipe and runtime match the selection")]
    EmptyMatrix,
    #[error("nothing to release: no selected build with a `.wasm` artifact under `{}`", .0.display())]
    NothingToRelease(PathBuf),
    #[error("cannot use the manifest `{}`: {reason}", path.display())]
    BadManifest { path: PathBuf, reason: String },
    #[error("artifact `{}` is missing (named by `{}`)", path.display(), manifest.display())]
    MissingArtifact { path: PathBuf, manifest: PathBuf },
    #[error(
        "artifact `{}` does not match its manifest: its sha256 is {actual} ({actual_size} bytes), `{}` says {expected} ({expected_size} bytes)",
        path.display(),
        manifest.display()
    )]
    Tampered {
        path: PathBuf,
        manifest: PathBuf,
        expected: String,
        expected_size: u64,
        actual: String,
        actual_size: u64,
    },
    #[error("two builds want the release name `{name}`: `{}` and `{}`", first.display(), second.display())]
    Duplicate {
        name: String,
        first: PathBuf,
        second: PathBuf,
    },
    #[error("the release folder `{}` is not empty", .0.display())]
    OutDirNotEmpty(PathBuf),
    #[error("`{}` exists and is not a folder", .0.display())]
    OutDirNotFolder(PathBuf),
    #[error("cannot read `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write `{}`", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl ReleaseError {
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            Self::BadTag(_) => "release tags are `<language>/<version>+<YYYYMMDD>-<first 7 hex digits of the commit>`; see docs/release.md".into(),
            Self::TagMatchesNothing { language, .. } => format!(
                "`wlmake list` shows every recipe; a `{language}` recipe file is `recipes/{language}/<name>-<version>.toml`"
            ),
            Self::EmptyMatrix => "`wlmake list` shows every recipe and its runtimes; `lib` recipes are included only with --language lib".into(),
            Self::NothingToRelease(_) => "build first, e.g. `wlmake build php/php-7.4.33 --runtime wasmtime`, or point WLMAKE_OUTPUT_DIR at the build outputs".into(),
            Self::Tampered { .. } | Self::MissingArtifact { .. } => "rebuild it (`wlmake build ... --force`); never release an artifact whose checksum differs from its manifest".into(),
            Self::OutDirNotEmpty(_) => "pass --force to replace it, or name a new folder".into(),
            _ => return None,
        })
    }

    /// True for mistakes in the command line (exit code 2).
    pub fn is_bad_input(&self) -> bool {
        matches!(self, Self::BadTag(_) | Self::TagMatchesNothing { .. })
    }
}

/// A release tag: `<language>/<version>+<YYYYMMDD>-<sha7>`, e.g. `php/7.4.32+20250101-0123abc`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseTag {
    pub text: String,
    pub language: String,
    pub version: String,
    /// `YYYYMMDD`.
    pub date: String,
    /// The first 7 (or more) hex digits of the tagged commit.
    pub commit: String,
}

impl ReleaseTag {
    pub fn parse(text: &str) -> Result<Self, ReleaseError> {
        let bad = || ReleaseError::BadTag(text.to_string());
        let (language, rest) = text.split_once('/').ok_or_else(bad)?;
        let (version, build) = rest.split_once('+').ok_or_else(bad)?;
        let (date, commit) = build.split_once('-').ok_or_else(bad)?;
        let word = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        };
        let ok = word(language)
            && word(version)
            && date.len() == 8
            && date.bytes().all(|b| b.is_ascii_digit())
            && (7..=40).contains(&commit.len())
            && commit.bytes().all(|b| b.is_ascii_hexdigit());
        if !ok {
            return Err(bad());
        }
        Ok(Self {
            text: text.to_string(),
            language: language.to_string(),
            version: version.to_string(),
            date: date.to_string(),
            commit: commit.to_ascii_lowercase(),
        })
    }
}

/// Which builds a release covers, checked.
#[derive(Debug, Default)]
pub struct Selection {
    pub languages: Vec<String>,
    pub runtimes: Vec<Kind>,
    pub tags: Vec<ReleaseTag>,
}

impl Selection {
    pub fn from_args(args: &ReleaseSelection) -> Result<Self> {
        let tags = args
            .tags
            .iter()
            .map(|tag| ReleaseTag::parse(tag))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            languages: args.languages.clone(),
            runtimes: args.runtimes.clone(),
            tags,
        })
    }

    /// The release tags a build is selected for: `[None]` without a tag filter, one
    /// entry per matching tag with one, empty when the build is not selected. `lib`
    /// recipes are selected only when a language filter or a tag names `lib`.
    pub fn select(&self, language: &str, version: &str, runtime: Kind) -> Vec<Option<&ReleaseTag>> {
        let language_ok = if self.languages.is_empty() {
            language != LIBRARY_LANGUAGE || !self.tags.is_empty()
        } else {
            self.languages.iter().any(|l| l == language)
        };
        let runtime_ok = self.runtimes.is_empty() || self.runtimes.contains(&runtime);
        if !language_ok || !runtime_ok {
            return Vec::new();
        }
        if self.tags.is_empty() {
            return vec![None];
        }
        self.tags
            .iter()
            .filter(|tag| tag.language == language && tag.version == version)
            .map(Some)
            .collect()
    }
}

/// One job of the release matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatrixEntry {
    pub recipe: String,
    pub language: String,
    pub name: String,
    pub version: String,
    pub runtime: Kind,
    /// The release tag this build is for (only when selected by `--tag`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

/// GitHub Actions' matrix form: `{"include": [...]}`.
#[derive(Debug, Serialize)]
pub struct Matrix {
    pub include: Vec<MatrixEntry>,
}

/// The release matrix: recipes (sorted by id) times their runtimes (in recipe order).
pub fn matrix_of(recipes: &[Recipe], selection: &Selection) -> Result<Matrix, ReleaseError> {
    for tag in &selection.tags {
        let named = recipes
            .iter()
            .any(|r| r.language == tag.language && r.version == tag.version);
        if !named {
            return Err(ReleaseError::TagMatchesNothing {
                tag: tag.text.clone(),
                language: tag.language.clone(),
                version: tag.version.clone(),
            });
        }
    }
    let mut include = Vec::new();
    for recipe in recipes {
        for &runtime in &recipe.runtimes {
            for tag in selection.select(&recipe.language, &recipe.version, runtime) {
                include.push(MatrixEntry {
                    recipe: recipe.id.0.clone(),
                    language: recipe.language.clone(),
                    name: recipe.name.clone(),
                    version: recipe.version.clone(),
                    runtime,
                    tag: tag.map(|t| t.text.clone()),
                });
            }
        }
    }
    if include.is_empty() {
        return Err(ReleaseError::EmptyMatrix);
    }
    Ok(Matrix { include })
}

#[derive(Debug, Clone)]
pub struct Asset {
    /// The file name in the release folder.
    pub name: String,
    pub source: PathBuf,
    /// For artifacts: the manifest that vouches for it, its sha256 and size (for a
    /// folder: its tree hash and the size of its files).
    pub expected: Option<(PathBuf, String, u64)>,
    /// A folder artifact (a standard library), written as a reproducible `.tar.gz`
    /// whose one top folder is named `top`.
    pub archive: Option<String>,
}

impl Asset {
    /// The error for an asset whose source is gone.
    fn missing(&self) -> ReleaseError {
        ReleaseError::MissingArtifact {
            path: self.source.clone(),
            manifest: self
                .expected
                .as_ref()
                .map(|(m, _, _)| m.clone())
                .unwrap_or_default(),
        }
    }
}

/// A file written to the release folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub name: String,
    pub sha256: String,
    pub size: u64,
}

/// Every selected build's `.wasm` artifacts and manifest under `root`
/// (`<language>/<name>-<version>/<runtime>/manifest.json`), as release assets, sorted.
pub fn assets_of(root: &Path, repo: &Repository, selection: &Selection) -> Result<Vec<Asset>> {
    let mut assets: BTreeMap<String, Asset> = BTreeMap::new();
    for manifest_path in manifests_under(root)? {
        let dir = manifest_path.parent().expect("a manifest has a folder");
        let bad = |reason: String| ReleaseError::BadManifest {
            path: manifest_path.clone(),
            reason,
        };
        let text =
            std::fs::read_to_string(&manifest_path).map_err(|source| ReleaseError::Read {
                path: manifest_path.clone(),
                source,
            })?;
        let manifest: Manifest =
            serde_json::from_str(&text).map_err(|error| bad(error.to_string()))?;
        // The folder must be the one the manifest describes.
        let folder_id = dir
            .parent()
            .and_then(|p| p.strip_prefix(root).ok())
            .map(|p| p.to_string_lossy().replace('\\', "/"));
        let folder_runtime = dir.file_name().map(|n| n.to_string_lossy().into_owned());
        if folder_id.as_deref() != Some(manifest.recipe.id.as_str())
            || folder_runtime.as_deref() != Some(manifest.runtime.name())
        {
            return Err(bad(format!(
                "it describes `{}` for {}, not the build its folder is for",
                manifest.recipe.id, manifest.runtime
            ))
            .into());
        }
        let language = manifest.recipe.id.split('/').next().unwrap_or_default();
        if selection.languages.is_empty()
            && selection.tags.is_empty()
            && language == LIBRARY_LANGUAGE
        {
            continue;
        }
        let recipe = repo.load(&manifest.recipe.id).with_context(|| {
            format!(
                "the manifest `{}` names its recipe",
                manifest_path.display()
            )
        })?;
        if selection
            .select(&recipe.language, &recipe.version, manifest.runtime)
            .is_empty()
        {
            continue;
        }
        let suffix = format!("{}-{}", recipe.version, manifest.runtime);
        let mut wanted = Vec::new();
        for artifact in &manifest.artifacts {
            if !artifact.path.ends_with(".wasm") && !artifact.is_folder() {
                continue;
            }
            let relative = Path::new(&artifact.path);
            if !plain_relative(relative) || !release_name_ok(&artifact.name) {
                return Err(bad(format!(
                    "artifact `{}` at `{}` is not a plain name and relative path",
                    artifact.name, artifact.path
                ))
                .into());
            }
            let (extension, archive) = if artifact.is_folder() {
                ("tar.gz", Some(artifact.name.clone()))
            } else {
                ("wasm", None)
            };
            wanted.push(Asset {
                name: format!("{}-{suffix}.{extension}", artifact.name),
                source: dir.join(relative),
                expected: Some((
                    manifest_path.clone(),
                    artifact.sha256.clone(),
                    artifact.size,
                )),
                archive,
            });
        }
        if wanted.is_empty() {
            continue;
        }
        wanted.extend(precompiled_assets(dir, &manifest, &recipe.name, &suffix)?);
        wanted.push(Asset {
            name: format!("{}-{suffix}.manifest.json", recipe.name),
            source: manifest_path.clone(),
            expected: None,
            archive: None,
        });
        // The bill of materials, when the build wrote one (builds since it exists do).
        let sbom = dir.join(crate::output::sbom::SBOM);
        if sbom.is_file() {
            wanted.push(Asset {
                name: format!("{}-{suffix}.sbom.spdx.json", recipe.name),
                source: sbom,
                expected: None,
                archive: None,
            });
        }
        for asset in wanted {
            if let Some(first) = assets.get(&asset.name) {
                return Err(ReleaseError::Duplicate {
                    name: asset.name,
                    first: first.source.clone(),
                    second: asset.source,
                }
                .into());
            }
            assets.insert(asset.name.clone(), asset);
        }
    }
    if assets.is_empty() {
        return Err(ReleaseError::NothingToRelease(root.to_path_buf()).into());
    }
    Ok(assets.into_values().collect())
}

/// The precompiled artifacts of a build folder (`wlmake build --precompile`) that were
/// compiled from the artifacts its manifest names, as release assets named with the
/// runtime's version and the machine (`php-7.4.33-wasmtime.wasmtime-49.0.4-x86_64-linux.cwasm`),
/// plus the list that ties each to its module (`...precompiled.json`). One compiled from
/// an earlier build of the folder describes no released module and is left out.
fn precompiled_assets(
    dir: &Path,
    manifest: &Manifest,
    recipe_name: &str,
    suffix: &str,
) -> Result<Vec<Asset>, ReleaseError> {
    use crate::output::precompiled;
    let list_path = dir.join(precompiled::PRECOMPILED);
    let bad = |reason: String| ReleaseError::BadManifest {
        path: list_path.clone(),
        reason,
    };
    let entries = precompiled::load(dir).map_err(|error| bad(error.to_string()))?;
    let mut assets = Vec::new();
    for entry in entries {
        let current = manifest
            .artifacts
            .iter()
            .any(|a| a.name == entry.artifact && a.sha256 == entry.artifact_sha256);
        if !current {
            continue;
        }
        let relative = Path::new(&entry.path);
        let version = entry
            .runtime_version
            .split_whitespace()
            .find(|word| word.starts_with(|c: char| c.is_ascii_digit()))
            .unwrap_or_default();
        let kind = entry.runtime.parse::<Kind>().ok();
        let (Some(kind), true, true, true) = (
            kind,
            plain_relative(relative),
            release_name_ok(version),
            release_name_ok(&entry.target),
        ) else {
            return Err(bad(format!(
                "its entry for `{}` ({}, `{}`) is not a runtime, version and relative path wlmake wrote",
                entry.artifact, entry.runtime_version, entry.path
            )));
        };
        assets.push(Asset {
            name: format!(
                "{}-{suffix}.{}-{version}-{}{}",
                entry.artifact,
                entry.runtime,
                entry.target,
                precompiled::extension(kind)
            ),
            source: dir.join(relative),
            expected: Some((list_path.clone(), entry.sha256.clone(), entry.size)),
            archive: None,
        });
    }
    if !assets.is_empty() {
        assets.push(Asset {
            name: format!("{recipe_name}-{suffix}.precompiled.json"),
            source: list_path.clone(),
            expected: None,
            archive: None,
        });
    }
    Ok(assets)
}

/// A path inside the build folder: names only, no `..`, no root.
fn plain_relative(path: &Path) -> bool {
    path.components().all(|c| matches!(c, Component::Normal(_)))
}

fn release_name_ok(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._+-".contains(&b))
}

/// `root/*/*/*/manifest.json`, sorted; folders starting with `.` (a build being
/// published) are skipped.
fn manifests_under(root: &Path) -> Result<Vec<PathBuf>, ReleaseError> {
    let mut level = vec![root.to_path_buf()];
    for _ in 0..3 {
        let mut next = Vec::new();
        for dir in &level {
            let entries = match std::fs::read_dir(dir) {
                Ok(entries) => entries,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound && dir == root => {
                    return Err(ReleaseError::NothingToRelease(root.to_path_buf()));
                }
                Err(source) => {
                    return Err(ReleaseError::Read {
                        path: dir.clone(),
                        source,
                    });
                }
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let hidden = entry.file_name().to_string_lossy().starts_with('.');
                if !hidden && path.is_dir() {
                    next.push(path);
                }
            }
        }
        level = next;
    }
    let mut manifests: Vec<PathBuf> = level
        .into_iter()
        .map(|dir| dir.join(MANIFEST))
        .filter(|path| path.is_file())
        .collect();
    manifests.sort();
    Ok(manifests)
}

/// Copies `from` to `to` and returns the sha256 and size of the bytes written.
fn copy_hashed(from: &Path, to: &Path) -> Result<(String, u64), ReleaseError> {
    let read_error = |source| ReleaseError::Read {
        path: from.to_path_buf(),
        source,
    };
    let write_error = |source| ReleaseError::Write {
        path: to.to_path_buf(),
        source,
    };
    let mut input = std::fs::File::open(from).map_err(read_error)?;
    let mut output = std::fs::File::create(to).map_err(write_error)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let read = input.read(&mut buffer).map_err(read_error)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        output.write_all(&buffer[..read]).map_err(write_error)?;
        size += read as u64;
    }
    output.flush().map_err(write_error)?;
    Ok((hex::encode(hasher.finalize()), size))
}

/// The time, owner and mode every archive entry gets: the same folder always makes the
/// same bytes.
const ARCHIVE_MTIME: u64 = 0;

/// Writes the folder artifact `asset` as a `.tar.gz` at `target`: its files in path
/// order under `top/`, mode 0644 (0755 when executable), owner 0, time 0, and a gzip
/// header without name or time. The folder's tree hash is computed from the bytes that
/// go into the archive and must be the manifest's.
fn write_archive(asset: &Asset, top: &str, target: &Path) -> Result<Written, ReleaseError> {
    use std::os::unix::fs::PermissionsExt;
    let read_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ReleaseError::Read { path, source }
    };
    let write_error = |source| ReleaseError::Write {
        path: target.to_path_buf(),
        source,
    };
    if !asset.source.is_dir() {
        return Err(asset.missing());
    }
    let files = crate::files::folder_files(&asset.source).map_err(read_error(&asset.source))?;
    let file = std::fs::File::create(target).map_err(write_error)?;
    let gzip = flate2::GzBuilder::new()
        .mtime(0)
        .write(HashingWriter::new(file), flate2::Compression::default());
    let mut tar = tar::Builder::new(gzip);
    let mut tree = Sha256::new();
    let mut total = 0u64;
    for relative in &files {
        let path = asset.source.join(relative);
        let bytes = std::fs::read(&path).map_err(read_error(&path))?;
        let executable = std::fs::metadata(&path)
            .map_err(read_error(&path))?
            .permissions()
            .mode()
            & 0o111
            != 0;
        let sha256 = hex::encode(Sha256::digest(&bytes));
        tree.update(crate::files::tree_line(relative, bytes.len() as u64, &sha256).as_bytes());
        total += bytes.len() as u64;
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(if executable { 0o755 } else { 0o644 });
        header.set_mtime(ARCHIVE_MTIME);
        header.set_uid(0);
        header.set_gid(0);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, format!("{top}/{relative}"), bytes.as_slice())
            .map_err(write_error)?;
    }
    let gzip = tar.into_inner().map_err(write_error)?;
    let hashing = gzip.finish().map_err(write_error)?;
    let (sha256, size) = hashing.finish().map_err(write_error)?;
    if let Some((manifest, expected, expected_size)) = &asset.expected {
        let actual = hex::encode(tree.finalize());
        if &actual != expected || total != *expected_size {
            return Err(ReleaseError::Tampered {
                path: asset.source.clone(),
                manifest: manifest.clone(),
                expected: expected.clone(),
                expected_size: *expected_size,
                actual,
                actual_size: total,
            });
        }
    }
    Ok(Written {
        name: asset.name.clone(),
        sha256,
        size,
    })
}

/// A file writer that hashes what goes through it.
struct HashingWriter {
    file: std::fs::File,
    hasher: Sha256,
    size: u64,
}

impl HashingWriter {
    fn new(file: std::fs::File) -> Self {
        Self {
            file,
            hasher: Sha256::new(),
            size: 0,
        }
    }

    /// Flushes the file; the sha256 and size of everything written.
    fn finish(mut self) -> std::io::Result<(String, u64)> {
        self.file.flush()?;
        Ok((hex::encode(self.hasher.finalize()), self.size))
    }
}

impl Write for HashingWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let written = self.file.write(bytes)?;
        self.hasher.update(&bytes[..written]);
        self.size += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// `SHA256SUMS` text: `<sha256>  <name>` lines sorted by name (`sha256sum -c` reads it).
pub fn sha256sums(files: &[Written]) -> String {
    let mut lines: Vec<_> = files
        .iter()
        .map(|file| format!("{}  {}\n", file.sha256, file.name))
        .collect();
    lines.sort_by(|a, b| a[66..].cmp(&b[66..]));
    lines.concat()
}

/// Writes `assets` and `SHA256SUMS` into `out_dir` as one step: everything goes to a
/// temp folder beside it, each artifact checked against its manifest on the way, and
/// the folder is renamed into place only when all of it is there. A non-empty
/// `out_dir` is refused unless `force`, and then replaced whole.
pub fn write_release(
    out_dir: &Path,
    assets: &[Asset],
    force: bool,
) -> Result<Vec<Written>, ReleaseError> {
    let out_dir = std::path::absolute(out_dir).unwrap_or_else(|_| out_dir.to_path_buf());
    let write_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ReleaseError::Write { path, source }
    };
    match std::fs::symlink_metadata(&out_dir) {
        Ok(meta) if !meta.is_dir() => return Err(ReleaseError::OutDirNotFolder(out_dir)),
        Ok(_) => {
            let empty = std::fs::read_dir(&out_dir)
                .map_err(|source| ReleaseError::Read {
                    path: out_dir.clone(),
                    source,
                })?
                .next()
                .is_none();
            if !empty && !force {
                return Err(ReleaseError::OutDirNotEmpty(out_dir));
            }
        }
        Err(_) => {}
    }
    let parent = out_dir
        .parent()
        .ok_or_else(|| ReleaseError::OutDirNotFolder(out_dir.clone()))?;
    std::fs::create_dir_all(parent).map_err(write_error(parent))?;
    let temp = tempfile::Builder::new()
        .prefix(".release-assets-")
        .tempdir_in(parent)
        .map_err(write_error(parent))?;
    let mut written = Vec::new();
    for asset in assets {
        let target = temp.path().join(&asset.name);
        if let Some(top) = &asset.archive {
            written.push(write_archive(asset, top, &target)?);
            continue;
        }
        let (sha256, size) = match copy_hashed(&asset.source, &target) {
            Err(ReleaseError::Read { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                return Err(asset.missing());
            }
            other => other?,
        };
        if let Some((manifest, expected, expected_size)) = &asset.expected
            && (&sha256 != expected || size != *expected_size)
        {
            return Err(ReleaseError::Tampered {
                path: asset.source.clone(),
                manifest: manifest.clone(),
                expected: expected.clone(),
                expected_size: *expected_size,
                actual: sha256,
                actual_size: size,
            });
        }
        written.push(Written {
            name: asset.name.clone(),
            sha256,
            size,
        });
    }
    let sums = temp.path().join(SHA256SUMS);
    std::fs::write(&sums, sha256sums(&written)).map_err(write_error(&sums))?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(temp.path(), std::fs::Permissions::from_mode(0o755))
            .map_err(write_error(temp.path()))?;
    }
    // The new folder in, the old one (a `--force` run) dropped.
    crate::files::replace_folder(temp, &out_dir).map_err(write_error(&out_dir))?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_tags_parse_and_bad_ones_are_refused() {
        let tag = ReleaseTag::parse("php/7.4.32+20250101-0123abc").unwrap();
        assert_eq!(
            (
                tag.language.as_str(),
                tag.version.as_str(),
                tag.date.as_str()
            ),
            ("php", "7.4.32", "20250101")
        );
        assert_eq!(tag.commit, "0123abc");
        for bad in [
            "php-7.4.32",
            "php/7.4.32",
            "php/7.4.32+2025-0123abc",
            "php/7.4.32+20250101-xyz1234",
            "php/7.4.32+20250101-0123ab",
            "/7.4.32+20250101-0123abc",
            "php/+20250101-0123abc",
            "php/7.4 32+20250101-0123abc",
        ] {
            assert!(ReleaseTag::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn selection_leaves_out_libraries_unless_asked() {
        let all = Selection::default();
        assert_eq!(all.select("php", "7.4.33", Kind::Wasmtime), vec![None]);
        assert!(all.select("lib", "1.0", Kind::Wasmtime).is_empty());
        let libs = Selection {
            languages: vec!["lib".into()],
            ..Selection::default()
        };
        assert_eq!(libs.select("lib", "1.0", Kind::Wasmtime), vec![None]);
        assert!(libs.select("php", "7.4.33", Kind::Wasmtime).is_empty());
    }

    #[test]
    fn selection_by_tag_and_runtime() {
        let tag = ReleaseTag::parse("php/7.4.32+20250101-0123abc").unwrap();
        let selection = Selection {
            runtimes: vec![Kind::Wasmedge],
            tags: vec![tag.clone()],
            ..Selection::default()
        };
        assert_eq!(
            selection.select("php", "7.4.32", Kind::Wasmedge),
            vec![Some(&tag)]
        );
        assert!(selection.select("php", "7.4.32", Kind::Wasmtime).is_empty());
        assert!(selection.select("php", "7.4.33", Kind::Wasmedge).is_empty());
    }

    #[test]
    fn sha256sums_is_sorted_by_name_with_two_spaces() {
        let file = |name: &str, digit: char| Written {
            name: name.into(),
            sha256: digit.to_string().repeat(64),
            size: 1,
        };
        let text = sha256sums(&[file("b.wasm", '1'), file("a.wasm", '2')]);
        assert_eq!(
            text,
            format!("{}  a.wasm\n{}  b.wasm\n", "2".repeat(64), "1".repeat(64))
        );
    }
}
