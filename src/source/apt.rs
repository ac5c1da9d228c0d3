//! The Debian source-package provider: `apt-get source --download-only <package>`.
//!
//! Debian's orig tarballs are upstream's release archives byte for byte, so the recipe's
//! sha256 still decides whether the file is the right one.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::process::{Command, ProcessError};

use crate::recipe::DebianSource;

use super::error::FailureReason;

/// Messages apt-get prints when it has no deb-src entries or does not know the package.
const NO_SOURCE_ENTRIES: &[&str] = &[
    "You must put some 'deb-src' URIs in your sources.list",
    "You must put some 'source' URIs in your sources.list",
    "Unable to find a source package",
];

/// Runs apt-get in `work_dir` (an empty folder) and returns the path of the downloaded
/// orig tarball inside it.
pub(crate) fn download_source(
    debian: &DebianSource,
    work_dir: &Path,
) -> Result<PathBuf, FailureReason> {
    let command = Command::new("apt-get")
        .args(["source", "--download-only", "--yes", &debian.package])
        .dir(work_dir)
        .env("DEBIAN_FRONTEND", "noninteractive")
        // Stable English messages: they are matched below.
        .env("LC_ALL", "C")
        .env("LANGUAGE", "C")
        .timeout(Duration::from_secs(600));
    let output = match command.capture() {
        Ok(output) => output,
        Err(ProcessError::Spawn { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
            return Err(FailureReason::AptNotInstalled);
        }
        Err(error) => {
            return Err(FailureReason::Io {
                path: "apt-get".into(),
                source: io::Error::other(error.to_string()),
            });
        }
    };
    let (stdout, stderr) = (&output.stdout, &output.stderr);
    tracing::debug!(status = ?output.status, %stdout, %stderr, "apt-get finished");

    if let Some(message) = no_source_entries_message(stderr) {
        return Err(FailureReason::AptNoSourceEntries {
            file: debian.file.clone(),
            message,
        });
    }
    if output.status != Some(0) {
        return Err(FailureReason::AptFailed {
            file: debian.file.clone(),
            status: output
                .status
                .map_or("a signal".into(), |code| format!("exit status {code}")),
            output: tail(stderr, 5),
        });
    }
    let candidate = work_dir.join(&debian.file);
    if candidate.is_file() {
        return Ok(candidate);
    }
    let mut downloaded: Vec<String> = std::fs::read_dir(work_dir)
        .map(|entries| {
            entries
                .filter_map(|entry| entry.ok())
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    downloaded.sort();
    Err(FailureReason::AptFileMissing {
        file: debian.file.clone(),
        downloaded,
    })
}

/// The line of apt-get's output that says it has no source entries, if any.
fn no_source_entries_message(stderr: &str) -> Option<String> {
    stderr
        .lines()
        .find(|line| NO_SOURCE_ENTRIES.iter().any(|needle| line.contains(needle)))
        .map(|line| line.trim_start_matches("E: ").trim().to_string())
}

/// The last `count` non-empty lines, joined with ` | `.
fn tail(text: &str, count: usize) -> String {
    let lines: Vec<&str> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect();
    let start = lines.len().saturating_sub(count);
    lines[start..].join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_missing_deb_src() {
        let stderr =
            "Reading package lists...\nE: You must put some 'deb-src' URIs in your sources.list\n";
        assert_eq!(
            no_source_entries_message(stderr).as_deref(),
            Some("You must put some 'deb-src' URIs in your sources.list")
        );
        let stderr = "E: Unable to find a source package for php7.4\n";
        assert_eq!(
            no_source_entries_message(stderr).as_deref(),
            Some("Unable to find a source package for php7.4")
        );
        assert_eq!(no_source_entries_message("W: something else"), None);
    }

    #[test]
    fn tail_keeps_last_lines() {
        assert_eq!(tail("a\n\nb\nc\n", 2), "b | c");
        assert_eq!(tail("", 2), "");
    }
}
