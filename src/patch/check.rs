//! `wlmake patch check`: every series applies to a fresh upstream tree exactly.
//!
//! Also reads what GNU patch says (`Hunk #2 FAILED at 120.`) and names the hunk by its
//! `@@ ... @@` header from the patch file, so a failure says which change no longer fits.

use std::path::Path;

use super::{PatchError, PatchFile};
use crate::recipe::Recipe;
use crate::reporter::Reporter;
use crate::runtime::Kind;
use crate::source::{self, Cache, FetchOptions, SourceError};

/// The hunks of a patch file, per file, in order.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct HunkIndex {
    pub files: Vec<(String, Vec<Hunk>)>,
}

/// One hunk: its `@@ ... @@` header and the lines it expects (context and removed lines).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Hunk {
    pub header: String,
    pub preimage: String,
}

fn strip_side(path: &str) -> &str {
    let path = path.split('\t').next().unwrap_or(path).trim_end();
    path.strip_prefix("a/")
        .or_else(|| path.strip_prefix("b/"))
        .unwrap_or(path)
}

/// `@@ -12,7 +12,9 @@ ...` -> (7, 9); a missing count is 1.
fn hunk_counts(header: &str) -> Option<(u32, u32)> {
    let mut parts = header.split_whitespace().skip(1);
    let count = |range: &str| -> Option<u32> {
        Some(match range.split_once(',') {
            Some((_, count)) => count.parse().ok()?,
            None => 1,
        })
    };
    let old = count(parts.next()?.strip_prefix('-')?)?;
    let new = count(parts.next()?.strip_prefix('+')?)?;
    Some((old, new))
}

impl HunkIndex {
    /// Reads the diff part of a patch file (the header before it is skipped).
    pub fn parse(text: &str) -> HunkIndex {
        let mut index = HunkIndex::default();
        let mut old_path: Option<String> = None;
        let (mut old_left, mut new_left) = (0u32, 0u32);
        for line in text.lines() {
            if old_left > 0 || new_left > 0 {
                let first = line.as_bytes().first();
                if matches!(first, Some(b' ' | b'-') | None)
                    && let Some(hunk) = index.files.last_mut().and_then(|(_, h)| h.last_mut())
                {
                    hunk.preimage.push_str(line.get(1..).unwrap_or_default());
                    hunk.preimage.push('\n');
                }
                match first {
                    Some(b' ') | None => {
                        old_left = old_left.saturating_sub(1);
                        new_left = new_left.saturating_sub(1);
                    }
                    Some(b'-') => old_left = old_left.saturating_sub(1),
                    Some(b'+') => new_left = new_left.saturating_sub(1),
                    _ => {}
                }
                continue;
            }
            if let Some(rest) = line.strip_prefix("diff --git ") {
                let new = rest.rsplit_once(" b/").map(|(_, b)| b).unwrap_or(rest);
                index.files.push((new.to_string(), Vec::new()));
                old_path = None;
            } else if let Some(rest) = line.strip_prefix("--- ") {
                old_path = Some(strip_side(rest).to_string());
            } else if let Some(rest) = line.strip_prefix("+++ ") {
                let new = strip_side(rest);
                let name = if new == "/dev/null" {
                    old_path.clone().unwrap_or_default()
                } else {
                    new.to_string()
                };
                match index.files.last_mut() {
                    Some((last, hunks)) if hunks.is_empty() => *last = name,
                    _ => index.files.push((name, Vec::new())),
                }
            } else if line.starts_with("@@ ") {
                if let Some((old, new)) = hunk_counts(line) {
                    old_left = old;
                    new_left = new;
                }
                let hunk = Hunk {
                    header: line.trim_end().to_string(),
                    preimage: String::new(),
                };
                match index.files.last_mut() {
                    Some((_, hunks)) => hunks.push(hunk),
                    None => index.files.push((String::new(), vec![hunk])),
                }
            }
        }
        index
    }

    /// The header of hunk `number` (1-based) of `file`.
    pub fn hunk(&self, file: &str, number: usize) -> Option<&str> {
        self.files
            .iter()
            .find(|(name, _)| name == file)
            .and_then(|(_, hunks)| hunks.get(number.checked_sub(1)?))
            .map(|hunk| hunk.header.as_str())
    }

    /// Every hunk of `file`.
    pub fn hunks_of(&self, file: &str) -> &[Hunk] {
        self.files
            .iter()
            .find(|(name, _)| name == file)
            .map_or(&[], |(_, hunks)| hunks.as_slice())
    }
}

fn unquote(name: &str) -> &str {
    name.trim()
        .trim_start_matches(['\'', '"'])
        .trim_end_matches(['\'', '"'])
}

/// `Hunk #2 FAILED at 120.` -> (2, "FAILED at 120").
fn hunk_line(line: &str) -> Option<(usize, &str)> {
    let rest = line.strip_prefix("Hunk #")?;
    let (number, what) = rest.split_once(' ')?;
    Some((number.parse().ok()?, what.trim_end_matches('.')))
}

fn describe_hunk(file: &str, number: usize, what: &str, hunks: &HunkIndex) -> String {
    match hunks.hunk(file, number) {
        Some(header) => format!("{file}: hunk #{number} ({header}) {what}"),
        None => format!("{file}: hunk #{number} {what}"),
    }
}

/// What went wrong, one line per failed hunk or file, from GNU patch's output.
pub fn failures(output: &str, hunks: &HunkIndex) -> Vec<String> {
    let mut found = Vec::new();
    let mut current = String::new();
    let mut lines = output.lines().peekable();
    while let Some(line) = lines.next() {
        if let Some(name) = line
            .strip_prefix("patching file ")
            .or_else(|| line.strip_prefix("checking file "))
            .or_else(|| line.strip_prefix("patching symbolic link "))
        {
            current = unquote(name).to_string();
        } else if let Some((number, what)) = hunk_line(line) {
            if what.starts_with("FAILED") {
                found.push(describe_hunk(&current, number, what, hunks));
            }
        } else if line.starts_with("can't find file to patch") {
            let mut missing = String::new();
            while let Some(next) = lines.next_if(|l| {
                l.starts_with('|')
                    || l.starts_with("--")
                    || l.starts_with("Perhaps")
                    || l.starts_with("The text")
            }) {
                if let Some(name) = next.strip_prefix("|+++ ") {
                    missing = strip_side(name).to_string();
                } else if let Some(rest) = next.strip_prefix("|diff --git ")
                    && missing.is_empty()
                {
                    missing = rest.rsplit_once(" b/").map_or(rest, |(_, b)| b).to_string();
                }
            }
            let count = hunks.hunks_of(&missing).len();
            found.push(format!(
                "{missing}: no such file in the tree ({count} hunk(s) not applied)"
            ));
        } else if line.starts_with("Reversed (or previously applied) patch detected") {
            found.push(format!(
                "{current}: the change is already there (reversed or previously applied patch)"
            ));
        } else if let Some(rest) = line.strip_prefix("The next patch would create the file ") {
            found.push(format!("{}: already exists", rest.trim_end_matches(',')));
        } else if let Some(rest) = line.strip_prefix("patch: **** ") {
            found.push(rest.to_string());
        }
    }
    found
}

/// Hunks that applied only at an offset or with fuzz.
pub fn inexact(output: &str, hunks: &HunkIndex) -> Vec<String> {
    let mut found = Vec::new();
    let mut current = String::new();
    for line in output.lines() {
        if let Some(name) = line.strip_prefix("patching file ") {
            current = unquote(name).to_string();
        } else if let Some((number, what)) = hunk_line(line)
            && (what.contains("with fuzz") || what.contains("(offset"))
        {
            found.push(describe_hunk(&current, number, what, hunks));
        } else if line.contains("with fuzz") || line.contains("(offset") {
            found.push(line.to_string());
        }
    }
    found
}

/// One patch's verdict.
#[derive(Debug)]
pub struct PatchVerdict {
    pub patch: PatchFile,
    /// The runtime whose series was applied (the common set is checked once).
    pub runtime: Kind,
    pub error: Option<PatchError>,
}

/// What checking one recipe found.
#[derive(Debug)]
pub enum RecipeCheck {
    /// No patch files in any set: nothing to apply.
    NoPatches,
    /// The source could not be fetched (no internet, no mirror, not in the cache).
    Unreachable {
        reason: String,
    },
    Checked {
        verdicts: Vec<PatchVerdict>,
    },
}

impl RecipeCheck {
    pub fn failed(&self) -> usize {
        match self {
            RecipeCheck::Checked { verdicts } => {
                verdicts.iter().filter(|v| v.error.is_some()).count()
            }
            _ => 0,
        }
    }
}

/// How a check gets its trees.
pub struct CheckContext<'a> {
    pub repo_root: &'a Path,
    pub cache: &'a Cache,
    pub fetch_options: &'a FetchOptions,
    /// A scratch folder for the fresh trees (emptied afterwards by the caller).
    pub scratch: &'a Path,
}

/// The series to apply, one tree each: the common set with every runtime overlay that
/// has patches (or alone when none has).
fn plans(
    ctx: &CheckContext<'_>,
    recipe: &Recipe,
) -> Result<Vec<(Kind, Vec<PatchFile>)>, PatchError> {
    let mut plans = Vec::new();
    let mut common_only = None;
    for &runtime in &recipe.runtimes {
        let series = super::series(ctx.repo_root, recipe, runtime)?;
        if series.iter().any(|p| p.set == runtime.name()) {
            plans.push((runtime, series));
        } else if common_only.is_none() {
            common_only = Some((runtime, series));
        }
    }
    if plans.is_empty()
        && let Some(plan) = common_only
    {
        plans.push(plan);
    }
    Ok(plans)
}

/// Applies every series of `recipe` to fresh trees of its source; `on_verdict` sees each
/// patch's verdict as it comes.
pub fn check_recipe(
    ctx: &CheckContext<'_>,
    recipe: &Recipe,
    reporter: &dyn Reporter,
    on_verdict: &mut dyn FnMut(&PatchVerdict),
) -> Result<RecipeCheck, CheckError> {
    let plans = plans(ctx, recipe).map_err(CheckError::Patch)?;
    if plans.iter().all(|(_, series)| series.is_empty()) {
        return Ok(RecipeCheck::NoPatches);
    }
    match source::fetch(&recipe.source, ctx.cache, ctx.fetch_options, reporter) {
        Ok(_) => {}
        Err(error @ (SourceError::AllProvidersFailed { .. } | SourceError::PathMissing { .. })) => {
            return Ok(RecipeCheck::Unreachable {
                reason: error
                    .to_string()
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_string(),
            });
        }
        Err(source) => {
            return Err(CheckError::Source {
                id: recipe.id.to_string(),
                source,
            });
        }
    }
    let mut verdicts = Vec::new();
    let mut common_done = false;
    for (runtime, series) in plans {
        let tree = ctx.scratch.join("tree");
        source::prepare(
            &recipe.source,
            ctx.cache,
            ctx.fetch_options,
            &tree,
            reporter,
        )
        .map_err(|source| CheckError::Source {
            id: recipe.id.to_string(),
            source,
        })?;
        let log = ctx.scratch.join("patch.log");
        for patch in series {
            let result = super::apply(&tree, &patch, &log);
            if patch.set == "common" && common_done {
                continue;
            }
            let verdict = PatchVerdict {
                runtime,
                error: result.err(),
                patch,
            };
            on_verdict(&verdict);
            verdicts.push(verdict);
        }
        common_done = true;
    }
    Ok(RecipeCheck::Checked { verdicts })
}

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("cannot prepare the source of `{id}`")]
    Source {
        id: String,
        #[source]
        source: SourceError,
    },
    #[error(transparent)]
    Patch(PatchError),
}

impl CheckError {
    pub fn hint(&self) -> Option<String> {
        match self {
            CheckError::Source { source, .. } => source.hint(),
            CheckError::Patch(error) => error.hint(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATCH: &str = "Subject: x\n\ndiff --git a/x.c b/x.c\n--- a/x.c\n+++ b/x.c\n@@ -1,3 +1,3 @@\n a\n-B\n+b2\n c\n@@ -5,3 +5,3 @@ foo\n e\n--- f\n+f2\n g\ndiff --git a/nope.c b/nope.c\n--- a/nope.c\n+++ b/nope.c\n@@ -1 +1 @@\n-x\n+y\n";

    #[test]
    fn hunks_are_indexed_per_file_even_with_dashed_lines() {
        let index = HunkIndex::parse(PATCH);
        let headers: Vec<(&str, Vec<&str>)> = index
            .files
            .iter()
            .map(|(file, hunks)| {
                (
                    file.as_str(),
                    hunks.iter().map(|h| h.header.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(
            headers,
            vec![
                ("x.c", vec!["@@ -1,3 +1,3 @@", "@@ -5,3 +5,3 @@ foo"]),
                ("nope.c", vec!["@@ -1 +1 @@"]),
            ]
        );
        assert_eq!(index.hunks_of("x.c")[1].preimage, "e\n-- f\ng\n");
    }

    #[test]
    fn gnu_patch_output_names_file_and_hunk() {
        let output = "patching file x.c\nHunk #1 FAILED at 1.\nHunk #2 succeeded at 7 (offset 2 lines).\n1 out of 2 hunks FAILED -- saving rejects to file x.c.rej\ncan't find file to patch at input line 17\nPerhaps you used the wrong -p or --strip option?\nThe text leading up to this was:\n--------------------------\n|diff --git a/nope.c b/nope.c\n|--- a/nope.c\n|+++ b/nope.c\n--------------------------\nNo file to patch.  Skipping patch.\n1 out of 1 hunk ignored\n";
        let index = HunkIndex::parse(PATCH);
        assert_eq!(
            failures(output, &index),
            vec![
                "x.c: hunk #1 (@@ -1,3 +1,3 @@) FAILED at 1".to_string(),
                "nope.c: no such file in the tree (1 hunk(s) not applied)".to_string(),
            ]
        );
        assert_eq!(
            inexact(output, &index),
            vec!["x.c: hunk #2 (@@ -5,3 +5,3 @@ foo) succeeded at 7 (offset 2 lines)".to_string()]
        );
    }
}
