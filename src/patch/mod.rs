//! Patch sets: the common series, then the runtime's overlay, applied in file-name order.

use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::process::{Command, ProcessError};
use crate::recipe::Recipe;

#[derive(Debug, thiserror::Error)]
pub enum PatchError {
    #[error("cannot read patch set folder `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("patch `{}` does not apply", patch.display())]
    DoesNotApply {
        patch: PathBuf,
        #[source]
        source: ProcessError,
    },
    #[error("patch `{}` applies only with offset or fuzz:\n{details}", patch.display())]
    Inexact { patch: PathBuf, details: String },
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
pub fn series(repo: &Path, recipe: &Recipe, runtime: &str) -> Result<Vec<PatchFile>, PatchError> {
    let mut sets = Vec::new();
    if let Some(common) = &recipe.patches.common {
        sets.push(("common".to_string(), common.clone()));
    }
    if let Some(overlay) = recipe.patches.runtime.get(runtime) {
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
            patch: PathBuf::from(&patch.path),
            source,
        })?;
    let output = format!("{}{}", captured.stdout, captured.stderr);
    let _ = append(log, &format!("$ {}\n{output}", command.display()));
    if captured.status != Some(0) {
        return Err(PatchError::DoesNotApply {
            patch: PathBuf::from(&patch.path),
            source: ProcessError::Failed {
                command: command.display(),
                status: format!("exit status {}", captured.status.unwrap_or(-1)),
                tail: crate::process::tail(&output, crate::process::TAIL_LINES),
                log: Some(log.to_path_buf()),
            },
        });
    }
    let inexact: Vec<&str> = output
        .lines()
        .filter(|line| line.contains("with fuzz") || line.contains("(offset"))
        .collect();
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
