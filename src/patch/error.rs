//! What can go wrong in a patch workspace (start, export, rebase), with the data a user
//! needs and a hint.

use std::path::PathBuf;

use super::PatchError;
use super::diff::DiffError;
use crate::recipe::RecipeError;
use crate::source::SourceError;

#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    #[error("cannot prepare the source of `{id}`")]
    Source {
        id: String,
        #[source]
        source: SourceError,
    },

    #[error(transparent)]
    Patch(#[from] PatchError),

    #[error(transparent)]
    Recipe(RecipeError),

    #[error("git: cannot {action}")]
    Git {
        action: String,
        #[source]
        source: git2::Error,
    },

    #[error("cannot {action} `{}`", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("a patch workspace already exists at `{}`", dir.display())]
    Exists { dir: PathBuf },

    #[error("`{}` is not inside a patch workspace", start.display())]
    NotAWorkspace { start: PathBuf },

    #[error("no patch workspace for `{id}` ({runtime}) at `{}`", dir.display())]
    NoWorkspace {
        id: String,
        runtime: String,
        dir: PathBuf,
    },

    #[error("`{id}` has patch workspaces for several runtimes: {}", runtimes.join(", "))]
    AmbiguousWorkspace { id: String, runtimes: Vec<String> },

    #[error("the workspace metadata `{}` is unreadable: {reason}", path.display())]
    Metadata { path: PathBuf, reason: String },

    #[error("the workspace `{}` has uncommitted changes:\n{}{}", dir.display(), entries.join("\n"), more_line(*more))]
    Dirty {
        dir: PathBuf,
        entries: Vec<String>,
        more: usize,
    },

    #[error("a {what} is in progress in `{}`", dir.display())]
    InProgress { dir: PathBuf, what: String },

    #[error("the workspace has no `upstream` tag (the pristine source commit)")]
    NoUpstream,

    #[error("HEAD does not descend from the `upstream` commit")]
    NotDescendant,

    #[error(
        "commit {commit} (\"{subject}\") is a merge: a patch series is a straight line of commits"
    )]
    MergeCommit { commit: String, subject: String },

    #[error("commit {commit} (\"{subject}\") belongs to no patch set")]
    NeedsSet {
        commit: String,
        subject: String,
        sets: Vec<String>,
    },

    #[error("commit {commit} (\"{subject}\") names patch set `{set}`, which this workspace does not have (sets: {})", sets.join(", "))]
    UnknownSet {
        commit: String,
        subject: String,
        set: String,
        sets: Vec<String>,
    },

    #[error(
        "commit {later} (\"{later_subject}\", set {later_set}) comes after commit {earlier} (set {earlier_set}), but the {later_set} set is applied first"
    )]
    SetOrder {
        earlier: String,
        earlier_set: String,
        later: String,
        later_subject: String,
        later_set: String,
    },

    #[error("commit {commit} (\"{subject}\") cannot be exported")]
    Diff {
        commit: String,
        subject: String,
        #[source]
        source: DiffError,
    },

    #[error("recipe `{id}` has no folder for patch set `{set}`")]
    NoSetFolder { id: String, set: String },

    #[error("the patch folder `{folder}` changed since this workspace last read it:\n{}", changes.join("\n"))]
    FolderChanged {
        folder: String,
        changes: Vec<String>,
    },

    #[error("a rebase stays within one language: `{source_id}` and `{target}` differ")]
    OtherLanguage { source_id: String, target: String },

    #[error("`{id}` is both the recipe and the target of the rebase")]
    SameRecipe { id: String },

    #[error("no rebase is in progress in `{}`", dir.display())]
    NoRebase { dir: PathBuf },

    #[error("unresolved conflicts remain:\n{}", paths.join("\n"))]
    Unresolved { paths: Vec<String> },

    #[error(
        "nothing to continue: the conflicting patch `{patch}` was neither resolved nor committed"
    )]
    NothingToContinue { patch: String },
}

fn more_line(more: usize) -> String {
    if more == 0 {
        String::new()
    } else {
        format!("\n... and {more} more")
    }
}

impl WorkspaceError {
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            Self::Source { source, .. } => return source.hint(),
            Self::Patch(error) => return error.hint(),
            Self::Recipe(error) => return error.hint(),
            Self::Exists { .. } => {
                "work in it (`git log` shows the series), or pass --force to start over (its commits are lost)".into()
            }
            Self::NotAWorkspace { .. } => {
                "run it inside a workspace made by `wlmake patch start RECIPE --runtime R`, or name the recipe and runtime".into()
            }
            Self::NoWorkspace { id, runtime, .. } => {
                format!("make one with `wlmake patch start {id} --runtime {runtime}`")
            }
            Self::AmbiguousWorkspace { .. } => "say which with --runtime".into(),
            Self::Metadata { .. } => {
                "the workspace was not made by this wlmake: start a new one with --force".into()
            }
            Self::Dirty { .. } => {
                "commit the changes (`git add -A && git commit`) or put them aside (`git stash -u`), then run it again".into()
            }
            Self::InProgress { what, .. } if what.contains("wlmake") => {
                "finish it with `wlmake patch rebase --continue` (or --skip, --abort)".into()
            }
            Self::InProgress { .. } => "finish or abort it with git first".into(),
            Self::NoUpstream | Self::NotDescendant => {
                "the series must sit on the `upstream` tag: `git rebase upstream`, or start over with `wlmake patch start --force`".into()
            }
            Self::MergeCommit { .. } => "flatten the history with `git rebase upstream`".into(),
            Self::NeedsSet { sets, .. } => format!(
                "new commits go into the set named with --set ({}); exported commits carry a `Patch-Set:` trailer",
                sets.join(", ")
            ),
            Self::UnknownSet { .. } => "fix the `Patch-Set:` trailer with `git commit --amend` (or `git rebase -i upstream`, reword)".into(),
            Self::SetOrder { .. } => {
                "reorder the commits with `git rebase -i upstream`: the common set first, then the runtime's".into()
            }
            Self::Diff { .. } => "keep binary files and unusual changes out of patches".into(),
            Self::NoSetFolder { id, set } => format!(
                "add the folder to recipe `{id}` ([patches] common, or [patches.runtime] {set}), or write elsewhere with --export-to DIR"
            ),
            Self::FolderChanged { .. } => {
                "someone else changed the patch files: start over from them (`wlmake patch start --force`), or overwrite them with --force".into()
            }
            Self::OtherLanguage { .. } | Self::SameRecipe { .. } => {
                "rebase onto another version of the same language, e.g. `--onto php/php-8.2.32`".into()
            }
            Self::NoRebase { .. } => {
                "start one with `wlmake patch rebase RECIPE --onto OTHER --runtime R`".into()
            }
            Self::Unresolved { .. } => {
                "edit the files (remove the <<<<<<< ======= >>>>>>> markers), `git add` them, then run `wlmake patch rebase --continue`; or drop the patch with --skip".into()
            }
            Self::NothingToContinue { .. } => {
                "resolve the conflict and `git add` the files, or drop the patch with `wlmake patch rebase --skip`".into()
            }
            Self::Git { .. } | Self::Io { .. } => return None,
        })
    }
}

/// `git2` failures with what wlmake was doing.
pub(crate) trait GitContext<T> {
    fn git(self, action: &str) -> Result<T, WorkspaceError>;
}

impl<T> GitContext<T> for Result<T, git2::Error> {
    fn git(self, action: &str) -> Result<T, WorkspaceError> {
        self.map_err(|source| WorkspaceError::Git {
            action: action.to_string(),
            source,
        })
    }
}

/// I/O failures with the path.
pub(crate) trait IoContext<T> {
    fn io(self, action: &'static str, path: impl Into<PathBuf>) -> Result<T, WorkspaceError>;
}

impl<T> IoContext<T> for Result<T, std::io::Error> {
    fn io(self, action: &'static str, path: impl Into<PathBuf>) -> Result<T, WorkspaceError> {
        self.map_err(|source| WorkspaceError::Io {
            action,
            path: path.into(),
            source,
        })
    }
}
