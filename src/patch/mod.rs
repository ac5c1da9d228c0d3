//! Patch sets: the common series, then the runtime's overlay, applied in file-name order.
//!
//! Beside applying them for a build, this module holds the patch-set workflow: a git
//! workspace per recipe and runtime ([`workspace`]), export back to patch files
//! ([`diff`], [`message`]), checks of every series ([`check`]), rebases onto another
//! upstream ([`rebase`]) and new recipes made from existing ones ([`scaffold`]).

pub mod check;
pub mod diff;
pub mod error;
pub mod message;
pub mod rebase;
pub mod scaffold;
pub mod workspace;

pub use error::WorkspaceError;

use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::process::{Command, ProcessError};
use crate::recipe::Recipe;
use crate::runtime::Kind;

#[derive(Debug, thiserror::Error)]
pub enum PatchError {
    #[error("cannot read patch set folder `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("patch `{}` does not apply{}", failure.patch.display(), render_failures(&failure.failures))]
    DoesNotApply {
        failure: Box<ApplyFailure>,
        #[source]
        source: ProcessError,
    },
    #[error("patch `{}` applies only with offset or fuzz:\n{details}", patch.display())]
    Inexact { patch: PathBuf, details: String },
}

/// Which patch failed, and how (boxed: errors stay small).
#[derive(Debug)]
pub struct ApplyFailure {
    pub patch: PathBuf,
    /// One line per hunk or file that failed, when `patch` said which.
    pub failures: Vec<String>,
}

fn render_failures(failures: &[String]) -> String {
    match failures {
        [] => String::new(),
        [one] => format!(": {one}"),
        many => format!(":\n{}", many.join("\n")),
    }
}

impl PatchError {
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::DoesNotApply { .. } | Self::Inexact { .. } => Some(
                "the patch was written for another upstream tree: refresh it against this version"
                    .into(),
            ),
            Self::Read { .. } => None,
        }
    }

    /// The per-hunk lines of a failure (or the inexact hunks), for reports.
    pub fn details(&self) -> Vec<String> {
        match self {
            Self::DoesNotApply { failure, .. } => failure.failures.clone(),
            Self::Inexact { details, .. } => details.lines().map(str::to_string).collect(),
            Self::Read { .. } => Vec::new(),
        }
    }
}

/// One patch file of a series.
#[derive(Debug, Clone, Serialize)]
pub struct PatchFile {
    /// `common` or a runtime name.
    pub set: String,
    /// Path relative to the repository root.
    pub path: String,
    #[serde(skip)]
    pub absolute: PathBuf,
    pub sha256: String,
}

/// The ordered series for a recipe and runtime: common first, then the overlay.
pub fn series(repo: &Path, recipe: &Recipe, runtime: Kind) -> Result<Vec<PatchFile>, PatchError> {
    let mut sets = Vec::new();
    if let Some(common) = &recipe.patches.common {
        sets.push(("common".to_string(), common.clone()));
    }
    if let Some(overlay) = recipe.patches.runtime.get(&runtime) {
        sets.push((runtime.to_string(), overlay.clone()));
    }
    let mut files = Vec::new();
    for (set, dir) in sets {
        let folder = repo.join(&dir);
        let read_error = |source| PatchError::Read {
            path: folder.clone(),
            source,
        };
        let mut names: Vec<String> = std::fs::read_dir(&folder)
            .map_err(read_error)?
            .flatten()
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".patch"))
            .collect();
        names.sort();
        for name in names {
            let absolute = folder.join(&name);
            let bytes = std::fs::read(&absolute).map_err(read_error)?;
            files.push(PatchFile {
                set: set.clone(),
                path: format!("{dir}/{name}"),
                sha256: hex::encode(Sha256::digest(&bytes)),
                absolute,
            });
        }
    }
    Ok(files)
}

/// Applies one patch to `tree` exactly: no fuzz, and an offset is an error too.
///
/// A failure names the file and hunk (`@@ ... @@` header) that did not apply.
pub fn apply(tree: &Path, patch: &PatchFile, log: &Path) -> Result<(), PatchError> {
    let command = Command::new("patch")
        .args([
            "-p1",
            "--forward",
            "--batch",
            "--fuzz=0",
            "--no-backup-if-mismatch",
            "-i",
        ])
        .arg(&patch.absolute)
        .dir(tree);
    let captured = command
        .capture()
        .map_err(|source| PatchError::DoesNotApply {
            failure: Box::new(ApplyFailure {
                patch: PathBuf::from(&patch.path),
                failures: Vec::new(),
            }),
            source,
        })?;
    let output = format!("{}{}", captured.stdout, captured.stderr);
    let _ = append(log, &format!("$ {}\n{output}", command.display()));
    let text = std::fs::read_to_string(&patch.absolute).unwrap_or_default();
    let hunks = check::HunkIndex::parse(&text);
    if captured.status != Some(0) {
        return Err(PatchError::DoesNotApply {
            failure: Box::new(ApplyFailure {
                patch: PathBuf::from(&patch.path),
                failures: check::failures(&output, &hunks),
            }),
            source: ProcessError::Failed {
                command: command.display(),
                status: format!("exit status {}", captured.status.unwrap_or(-1)),
                tail: crate::process::tail(&output, crate::process::TAIL_LINES),
                log: Some(log.to_path_buf()),
            },
        });
    }
    let inexact = check::inexact(&output, &hunks);
    if !inexact.is_empty() {
        return Err(PatchError::Inexact {
            patch: PathBuf::from(&patch.path),
            details: inexact.join("\n"),
        });
    }
    Ok(())
}

fn append(log: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(parent) = log.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut file = std::fs::File::options()
        .create(true)
        .append(true)
        .open(log)?;
    file.write_all(text.as_bytes())
}
