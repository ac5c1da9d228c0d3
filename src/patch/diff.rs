//! A commit's change as the diff part of a patch file, the same bytes every time.
//!
//! The format is `git diff`'s (3 lines of context, `a/` and `b/` prefixes, the indent
//! heuristic, hunk headers with the enclosing function) without the `index` lines, whose
//! abbreviated blob ids would churn with every upstream release. No renames or copies are
//! detected, so a moved file is a deletion and an addition, which `patch` applies.

use git2::{Delta, DiffOptions, Patch, Repository, Tree};

/// Why a change cannot be written as a text patch.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error("cannot compute the diff")]
    Git(#[from] git2::Error),
    #[error("`{path}` is a binary file: a text patch cannot carry its change")]
    Binary { path: String },
    #[error("`{path}`: {what} cannot be written as a patch")]
    Unsupported { path: String, what: String },
}

/// Options shared by every diff wlmake writes.
pub fn options() -> DiffOptions {
    let mut options = DiffOptions::new();
    options
        .context_lines(3)
        .interhunk_lines(0)
        .indent_heuristic(true)
        .ignore_submodules(true);
    options
}

fn path_of(file: git2::DiffFile<'_>) -> String {
    file.path()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn mode_of(file: git2::DiffFile<'_>) -> u32 {
    u32::from(file.mode())
}

/// The diff from `old` to `new` (`None`: the empty tree) in patch-file form.
pub fn render(
    repo: &Repository,
    old: Option<&Tree<'_>>,
    new: &Tree<'_>,
) -> Result<String, DiffError> {
    let diff = repo.diff_tree_to_tree(old, Some(new), Some(&mut options()))?;
    let mut out = String::new();
    for index in 0..diff.deltas().len() {
        let delta = diff.get_delta(index).expect("index in range");
        let old_path = path_of(delta.old_file());
        let new_path = path_of(delta.new_file());
        let patch = Patch::from_diff(&diff, index)?;
        if delta.flags().is_binary() || delta.old_file().is_binary() || delta.new_file().is_binary()
        {
            return Err(DiffError::Binary { path: new_path });
        }
        let hunks = patch.as_ref().map_or(0, |p| p.num_hunks());
        let (old_mode, new_mode) = (mode_of(delta.old_file()), mode_of(delta.new_file()));
        match delta.status() {
            Delta::Added => {
                out.push_str(&format!(
                    "diff --git a/{new_path} b/{new_path}\nnew file mode {new_mode:o}\n"
                ));
                if hunks > 0 {
                    out.push_str(&format!("--- /dev/null\n+++ b/{new_path}\n"));
                }
            }
            Delta::Deleted => {
                out.push_str(&format!(
                    "diff --git a/{old_path} b/{old_path}\ndeleted file mode {old_mode:o}\n"
                ));
                if hunks > 0 {
                    out.push_str(&format!("--- a/{old_path}\n+++ /dev/null\n"));
                }
            }
            Delta::Modified => {
                out.push_str(&format!("diff --git a/{old_path} b/{new_path}\n"));
                if old_mode != new_mode {
                    out.push_str(&format!("old mode {old_mode:o}\nnew mode {new_mode:o}\n"));
                }
                if hunks > 0 {
                    out.push_str(&format!("--- a/{old_path}\n+++ b/{new_path}\n"));
                }
            }
            other => {
                return Err(DiffError::Unsupported {
                    path: new_path,
                    what: format!("a change of kind {other:?}"),
                });
            }
        }
        let Some(patch) = patch else { continue };
        for hunk_index in 0..hunks {
            let (hunk, lines) = patch.hunk(hunk_index)?;
            // git trims trailing blanks from the function context; libgit2 may keep one
            // when it cuts the line at 80 characters.
            let header = String::from_utf8_lossy(hunk.header());
            out.push_str(header.trim_end());
            out.push('\n');
            for line_index in 0..lines {
                let line = patch.line_in_hunk(hunk_index, line_index)?;
                let content =
                    std::str::from_utf8(line.content()).map_err(|_| DiffError::Unsupported {
                        path: new_path.clone(),
                        what: "text that is not UTF-8".to_string(),
                    })?;
                match line.origin() {
                    origin @ ('+' | '-' | ' ') => {
                        out.push(origin);
                        out.push_str(content);
                    }
                    // End-of-file markers carry their own text (`\ No newline at end of file`).
                    _ => out.push_str(content),
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn tree_of<'r>(repo: &'r Repository, dir: &Path, files: &[(&str, &str)]) -> Tree<'r> {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            if entry.file_name() != ".git" {
                std::fs::remove_file(entry.path()).unwrap();
            }
        }
        let mut index = repo.index().unwrap();
        index.clear().unwrap();
        for (name, text) in files {
            std::fs::write(dir.join(name), text).unwrap();
            index.add_path(Path::new(name)).unwrap();
        }
        let id = index.write_tree().unwrap();
        repo.find_tree(id).unwrap()
    }

    #[test]
    fn git_format_without_index_lines() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let body: String = (1..=12).map(|i| format!("    line {i}\n")).collect();
        let old = tree_of(
            &repo,
            dir.path(),
            &[
                ("a.c", &format!("int main(void)\n{{\n{body}}}\n")),
                ("gone.txt", "x\n"),
            ],
        );
        let new = tree_of(
            &repo,
            dir.path(),
            &[
                (
                    "a.c",
                    &format!(
                        "int main(void)\n{{\n{}}}\n",
                        body.replace("line 9\n", "line nine\n")
                    ),
                ),
                ("new.txt", "no newline"),
            ],
        );
        let text = render(&repo, Some(&old), &new).unwrap();
        assert_eq!(
            text,
            "diff --git a/a.c b/a.c\n--- a/a.c\n+++ b/a.c\n@@ -8,7 +8,7 @@ int main(void)\n     line 6\n     line 7\n     line 8\n-    line 9\n+    line nine\n     line 10\n     line 11\n     line 12\n\
diff --git a/gone.txt b/gone.txt\ndeleted file mode 100644\n--- a/gone.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n\
diff --git a/new.txt b/new.txt\nnew file mode 100644\n--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1 @@\n+no newline\n\\ No newline at end of file\n"
        );
        // The same trees give the same bytes.
        assert_eq!(render(&repo, Some(&old), &new).unwrap(), text);
    }
}
