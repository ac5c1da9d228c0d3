//! `wlmake patch rebase`: replays a recipe's series onto another upstream of the language
//! with three-way merges.
//!
//! The target's workspace gets, besides its own upstream commit, the source's upstream
//! and series as commits (`refs/wlmake/source-upstream`, `refs/wlmake/source`). Each
//! source patch is cherry-picked onto the target line: git merges the patch's change
//! (source upstream -> source upstream + patch) into the target tree. A patch whose
//! change is already upstream is dropped. At the first conflict the rebase stops with the
//! conflict in the work tree (git's markers, `git status` shows it); the user resolves,
//! `git add`s, and `--continue`s. At the end the workspace is an ordinary workspace of the
//! target recipe and the series is exported into the target's patch sets.
//!
//! `.git/wlmake/rebase.json` holds the state between runs.

use std::path::{Path, PathBuf};

use git2::build::CheckoutBuilder;
use git2::{CherrypickOptions, Commit, MergeOptions, Oid, RepositoryState, ResetType};
use serde::{Deserialize, Serialize};

use super::check::HunkIndex;
use super::diff;
use super::error::{GitContext, IoContext, WorkspaceError};
use super::workspace::{self, ExportOptions, ExportOutcome, ExportTarget, Workspace};
use crate::recipe::{Recipe, Repository};
use crate::reporter::Reporter;
use crate::runtime::Kind;
use crate::source::{self, Cache, FetchOptions};

const STATE_FILE: &str = "rebase.json";
const SOURCE_UPSTREAM_REF: &str = "refs/wlmake/source-upstream";
const SOURCE_REF: &str = "refs/wlmake/source";

/// A patch of the source series, as a commit in the workspace.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SourcePatch {
    pub commit: String,
    pub set: String,
    pub file: String,
    pub subject: String,
}

impl SourcePatch {
    /// `common/0003-zend-resource-destructor-exact-type.patch`
    pub fn label(&self) -> String {
        format!("{}/{}", self.set, self.file)
    }
}

/// What became of a patch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Merged without conflict.
    Applied,
    /// Conflicted; resolved by the user.
    Resolved,
    /// Its change is already in the target (the merge changed nothing).
    AlreadyUpstream,
    /// Dropped with `--skip`.
    Skipped,
}

impl Verdict {
    pub fn describe(self) -> &'static str {
        match self {
            Verdict::Applied => "applied",
            Verdict::Resolved => "conflicted, resolved",
            Verdict::AlreadyUpstream => "dropped: already upstream",
            Verdict::Skipped => "skipped",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PatchResult {
    pub patch: SourcePatch,
    pub verdict: Verdict,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RebaseState {
    pub source: String,
    pub target: String,
    /// Not tried yet, in order.
    pub pending: Vec<SourcePatch>,
    /// The patch that conflicted, waiting for `--continue` or `--skip`.
    pub current: Option<SourcePatch>,
    /// HEAD when the current patch conflicted.
    pub head_before: Option<String>,
    pub conflicted_paths: Vec<String>,
    pub results: Vec<PatchResult>,
    /// Where the series goes at the end; `None`: nowhere.
    pub export: Option<ExportTarget>,
    /// Export over folders that changed meanwhile.
    pub force_export: bool,
}

fn state_path(workspace: &Workspace) -> PathBuf {
    workspace.meta_dir().join(STATE_FILE)
}

pub fn in_progress(workspace: &Workspace) -> bool {
    state_path(workspace).is_file()
}

fn save_state(workspace: &Workspace, state: &RebaseState) -> Result<(), WorkspaceError> {
    let path = state_path(workspace);
    let text = serde_json::to_string_pretty(state).expect("state serializes");
    std::fs::write(&path, text + "\n").io("write", &path)
}

pub fn load_state(workspace: &Workspace) -> Result<RebaseState, WorkspaceError> {
    let path = state_path(workspace);
    if !path.is_file() {
        return Err(WorkspaceError::NoRebase {
            dir: workspace.dir.clone(),
        });
    }
    let text = std::fs::read_to_string(&path).io("read", &path)?;
    serde_json::from_str(&text).map_err(|error| WorkspaceError::Metadata {
        path,
        reason: error.to_string(),
    })
}

/// One conflicted file.
#[derive(Debug, Clone)]
pub struct ConflictFile {
    pub path: String,
    /// `both changed`, `deleted upstream, changed by the patch`, ...
    pub kind: &'static str,
    /// Line ranges (1-based, inclusive) of the conflict markers in the work tree file.
    pub regions: Vec<(usize, usize)>,
    /// The patch's hunk headers for the file.
    pub hunks: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Conflict {
    pub patch: SourcePatch,
    pub files: Vec<ConflictFile>,
}

#[derive(Debug)]
pub enum RebaseOutcome {
    Stopped {
        dir: PathBuf,
        results: Vec<PatchResult>,
        conflict: Conflict,
        remaining: usize,
    },
    Finished {
        dir: PathBuf,
        results: Vec<PatchResult>,
        export: Option<ExportOutcome>,
    },
}

/// What `wlmake patch rebase RECIPE --onto OTHER` needs.
pub struct RebaseRequest<'a> {
    pub repository: &'a Repository,
    pub source: &'a Recipe,
    pub target: &'a Recipe,
    pub runtime: Kind,
    pub cache: &'a Cache,
    pub fetch_options: &'a FetchOptions,
    /// The target's workspace folder.
    pub dir: PathBuf,
    /// Replace an existing workspace there.
    pub force: bool,
    pub export: Option<ExportTarget>,
    pub force_export: bool,
}

/// Makes the target's workspace with both upstreams and the source series, then replays.
pub fn start(
    request: RebaseRequest<'_>,
    reporter: &dyn Reporter,
) -> Result<RebaseOutcome, WorkspaceError> {
    let (source, target) = (request.source, request.target);
    if source.language != target.language {
        return Err(WorkspaceError::OtherLanguage {
            source_id: source.id.to_string(),
            target: target.id.to_string(),
        });
    }
    if source.id == target.id {
        return Err(WorkspaceError::SameRecipe {
            id: source.id.to_string(),
        });
    }
    workspace::check_runtime(source, request.runtime)?;
    workspace::check_runtime(target, request.runtime)?;
    if request.dir.exists() && !request.force {
        return Err(WorkspaceError::Exists { dir: request.dir });
    }
    let root = request.repository.root();
    let series = super::series(root, source, request.runtime)?;

    let parent = request.dir.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).io("create folder", parent)?;
    let scratch = tempfile::Builder::new()
        .prefix(".rebase-source-")
        .tempdir_in(parent)
        .io("create a temp folder in", parent)?;
    let source_tree = scratch.path().join("tree");
    let prepare = |recipe: &Recipe, dest: &Path| {
        reporter.step(&format!("fetch {}", recipe.id));
        source::prepare(
            &recipe.source,
            request.cache,
            request.fetch_options,
            dest,
            reporter,
        )
        .map_err(|source| WorkspaceError::Source {
            id: recipe.id.to_string(),
            source,
        })
    };
    prepare(source, &source_tree)?;
    prepare(target, &request.dir)?;

    let made = set_up(&request, &series, &source_tree, reporter);
    drop(scratch);
    match made {
        Ok((mut workspace, state)) => replay(&mut workspace, request.repository, state, reporter),
        Err(error) => {
            // Half a workspace is no use: the next rebase would find it in the way.
            let _ = std::fs::remove_dir_all(&request.dir);
            Err(error)
        }
    }
}

/// The target's workspace with both upstreams and the source series as commits, and the
/// state of a rebase about to replay every source patch.
fn set_up(
    request: &RebaseRequest<'_>,
    series: &[super::PatchFile],
    source_tree: &Path,
    reporter: &dyn Reporter,
) -> Result<(Workspace, RebaseState), WorkspaceError> {
    let (source, target) = (request.source, request.target);
    let git = workspace::init(&request.dir)?;
    // The source series is built in the scratch tree, into the same object database.
    reporter.step(&format!("commit the series of {}", source.id));
    git.set_workdir(source_tree, false)
        .git("switch to the source tree")?;
    let (source_upstream, chain) = workspace::build_chain(
        &git,
        source_tree,
        &workspace::upstream_message(source),
        series,
        false,
        reporter,
    )?;
    let source_tip = chain.last().map_or(source_upstream, |c| c.id);
    git.reference(
        SOURCE_UPSTREAM_REF,
        source_upstream,
        true,
        "source upstream",
    )
    .git("record the source upstream")?;
    git.reference(SOURCE_REF, source_tip, true, "source series")
        .git("record the source series")?;

    reporter.step(&format!("commit the upstream of {}", target.id));
    git.set_workdir(&request.dir, false)
        .git("switch to the workspace tree")?;
    {
        let mut index = git.index().git("open the index")?;
        index.clear().git("clear the index")?;
        index.write().git("write the index")?;
    }
    let (workspace, _, _) = workspace::commit_series(
        git,
        &request.dir,
        request.repository,
        target,
        request.runtime,
        &[],
        Some(source.id.to_string()),
        reporter,
    )?;
    let state = RebaseState {
        source: source.id.to_string(),
        target: target.id.to_string(),
        pending: chain
            .into_iter()
            .map(|c| SourcePatch {
                commit: c.id.to_string(),
                set: c.set,
                file: c.file,
                subject: c.subject,
            })
            .collect(),
        current: None,
        head_before: None,
        conflicted_paths: Vec::new(),
        results: Vec::new(),
        export: request.export.clone(),
        force_export: request.force_export,
    };
    save_state(&workspace, &state)?;
    Ok((workspace, state))
}

fn source_commit<'r>(
    workspace: &'r Workspace,
    patch: &SourcePatch,
) -> Result<Commit<'r>, WorkspaceError> {
    let id = Oid::from_str(&patch.commit).git("read the rebase state")?;
    workspace
        .git
        .find_commit(id)
        .git("find the source patch commit")
}

/// Points HEAD's branch (or a detached HEAD) at `id`.
fn move_head(workspace: &Workspace, id: Oid) -> Result<(), WorkspaceError> {
    let head = workspace.git.head().git("read HEAD")?;
    if head.is_branch() {
        let name = head.name().unwrap_or("refs/heads/series").to_string();
        workspace
            .git
            .reference(&name, id, true, "wlmake patch rebase")
            .git("move the branch")?;
    } else {
        workspace.git.set_head_detached(id).git("move HEAD")?;
    }
    Ok(())
}

/// Commits `tree` on HEAD with `message`, updating the work tree and index to it.
fn commit_on_head(workspace: &Workspace, tree: Oid, message: &str) -> Result<Oid, WorkspaceError> {
    let git = &workspace.git;
    let head = workspace.head()?;
    let signature = workspace::signature();
    let tree = git.find_tree(tree).git("read a tree")?;
    let id = git
        .commit(None, &signature, &signature, message, &tree, &[&head])
        .git("commit a patch")?;
    let object = git.find_object(id, None).git("read a commit")?;
    git.checkout_tree(&object, Some(CheckoutBuilder::new().force()))
        .git("update the work tree")?;
    move_head(workspace, id)?;
    Ok(id)
}

/// Tries each pending patch; stops at the first conflict or finishes (and exports).
fn replay(
    workspace: &mut Workspace,
    repository: &Repository,
    mut state: RebaseState,
    reporter: &dyn Reporter,
) -> Result<RebaseOutcome, WorkspaceError> {
    reporter.task_start("replay the series", Some(state.pending.len() as u64));
    while !state.pending.is_empty() {
        let patch = state.pending.remove(0);
        let commit = source_commit(workspace, &patch)?;
        let head = workspace.head()?;
        let mut index = workspace
            .git
            .cherrypick_commit(&commit, &head, 0, Some(&MergeOptions::new()))
            .git("merge a patch")?;
        if !index.has_conflicts() {
            let tree = index
                .write_tree_to(&workspace.git)
                .git("write a merged tree")?;
            let verdict = if tree == head.tree_id() {
                Verdict::AlreadyUpstream
            } else {
                commit_on_head(
                    workspace,
                    tree,
                    &String::from_utf8_lossy(commit.message_bytes()),
                )?;
                Verdict::Applied
            };
            state.results.push(PatchResult { patch, verdict });
            save_state(workspace, &state)?;
            reporter.task_advance(1);
            continue;
        }
        reporter.task_finish();
        // Redo the pick on the work tree: the conflict, git's markers, CHERRY_PICK_HEAD.
        let mut checkout = CheckoutBuilder::new();
        checkout
            .ancestor_label(&format!("{} (before the patch)", state.source))
            .our_label(&format!("{} + series", state.target))
            .their_label(&format!("patch {}", patch.label()));
        let mut options = CherrypickOptions::new();
        options
            .checkout_builder(checkout)
            .merge_opts(MergeOptions::new());
        workspace
            .git
            .cherrypick(&commit, Some(&mut options))
            .git("merge a patch into the work tree")?;
        let conflict = describe_conflict(workspace, &commit, &patch)?;
        state.conflicted_paths = conflict.files.iter().map(|f| f.path.clone()).collect();
        state.current = Some(patch);
        state.head_before = Some(head.id().to_string());
        save_state(workspace, &state)?;
        return Ok(RebaseOutcome::Stopped {
            dir: workspace.dir.clone(),
            results: state.results,
            remaining: state.pending.len(),
            conflict,
        });
    }
    reporter.task_finish();
    std::fs::remove_file(state_path(workspace)).io("remove", state_path(workspace))?;
    let export = match state.export {
        Some(target) => Some(workspace.export(
            repository,
            &ExportOptions {
                default_set: None,
                target,
                force: state.force_export,
            },
        )?),
        None => None,
    };
    Ok(RebaseOutcome::Finished {
        dir: workspace.dir.clone(),
        results: state.results,
        export,
    })
}

fn conflict_regions(path: &Path) -> Vec<(usize, usize)> {
    let text = std::fs::read(path).unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let mut regions = Vec::new();
    let mut start = None;
    for (number, line) in text.lines().enumerate() {
        if line.starts_with("<<<<<<< ") || line == "<<<<<<<" {
            start = Some(number + 1);
        } else if (line.starts_with(">>>>>>> ") || line == ">>>>>>>")
            && let Some(first) = start.take()
        {
            regions.push((first, number + 1));
        }
    }
    regions
}

fn describe_conflict(
    workspace: &Workspace,
    commit: &Commit<'_>,
    patch: &SourcePatch,
) -> Result<Conflict, WorkspaceError> {
    let git = &workspace.git;
    let parent = commit.parent(0).git("read a parent commit")?;
    let hunks = HunkIndex::parse(
        &diff::render(
            git,
            Some(&parent.tree().git("read a tree")?),
            &commit.tree().git("read a tree")?,
        )
        .unwrap_or_default(),
    );
    let index = git.index().git("open the index")?;
    let mut files = Vec::new();
    for conflict in index.conflicts().git("read the conflicts")? {
        let conflict = conflict.git("read a conflict")?;
        let path_of = |entry: &Option<git2::IndexEntry>| {
            entry
                .as_ref()
                .map(|e| String::from_utf8_lossy(&e.path).into_owned())
        };
        let (ancestor, ours, theirs) = (
            path_of(&conflict.ancestor),
            path_of(&conflict.our),
            path_of(&conflict.their),
        );
        let kind = match (&ancestor, &ours, &theirs) {
            (_, None, Some(_)) => "deleted or moved upstream, changed by the patch",
            (_, Some(_), None) => "changed upstream, deleted by the patch",
            (None, Some(_), Some(_)) => "added upstream and by the patch",
            _ => "changed upstream and by the patch",
        };
        let path = ours
            .clone()
            .or(theirs.clone())
            .or(ancestor.clone())
            .unwrap_or_default();
        let mut file_hunks = hunks.hunks_of(&path).to_vec();
        for other in [&theirs, &ancestor].into_iter().flatten() {
            if file_hunks.is_empty() {
                file_hunks = hunks.hunks_of(other).to_vec();
            }
        }
        // A hunk whose lines are no longer in the target's file is where the upstream
        // moved on; the others merged as they were.
        let ours_text = conflict
            .our
            .as_ref()
            .and_then(|entry| git.find_blob(entry.id).ok())
            .map(|blob| String::from_utf8_lossy(blob.content()).into_owned());
        let file_hunks = file_hunks
            .into_iter()
            .map(|hunk| match &ours_text {
                Some(text) if text.contains(&hunk.preimage) => {
                    format!("{} (its lines are unchanged upstream)", hunk.header)
                }
                Some(_) => format!("{} (its lines changed upstream)", hunk.header),
                None => hunk.header,
            })
            .collect();
        files.push(ConflictFile {
            regions: conflict_regions(&workspace.dir.join(&path)),
            path,
            kind,
            hunks: file_hunks,
        });
    }
    Ok(Conflict {
        patch: patch.clone(),
        files,
    })
}

/// `--continue` (take the resolution) or `--skip` (drop the conflicting patch), then go on.
pub fn resume(
    workspace: &mut Workspace,
    repository: &Repository,
    skip: bool,
    reporter: &dyn Reporter,
) -> Result<RebaseOutcome, WorkspaceError> {
    let mut state = load_state(workspace)?;
    let Some(current) = state.current.clone() else {
        return replay(workspace, repository, state, reporter);
    };
    let head_before = state
        .head_before
        .as_deref()
        .and_then(|id| Oid::from_str(id).ok())
        .ok_or_else(|| WorkspaceError::Metadata {
            path: state_path(workspace),
            reason: "no HEAD recorded for the conflicting patch".into(),
        })?;
    let commit = source_commit(workspace, &current)?;
    let message = String::from_utf8_lossy(commit.message_bytes()).into_owned();
    drop(commit);
    let git = &workspace.git;
    let verdict = if skip {
        let object = git.find_object(head_before, None).git("read a commit")?;
        git.reset(&object, ResetType::Hard, None)
            .git("drop the conflicting patch")?;
        git.cleanup_state().git("clean up the cherry-pick")?;
        Verdict::Skipped
    } else {
        match git.state() {
            RepositoryState::CherryPick | RepositoryState::CherryPickSequence => {
                let mut index = git.index().git("open the index")?;
                index.read(true).git("read the index")?;
                if index.has_conflicts() {
                    let mut paths = Vec::new();
                    for conflict in index.conflicts().git("read the conflicts")? {
                        let conflict = conflict.git("read a conflict")?;
                        if let Some(entry) = conflict.our.or(conflict.their).or(conflict.ancestor) {
                            paths.push(String::from_utf8_lossy(&entry.path).into_owned());
                        }
                    }
                    paths.dedup();
                    return Err(WorkspaceError::Unresolved { paths });
                }
                let marked: Vec<String> = state
                    .conflicted_paths
                    .iter()
                    .filter(|p| !conflict_regions(&workspace.dir.join(p)).is_empty())
                    .map(|p| format!("{p} (conflict markers remain)"))
                    .collect();
                if !marked.is_empty() {
                    return Err(WorkspaceError::Unresolved { paths: marked });
                }
                let unstaged: Vec<String> = workspace
                    .changes()?
                    .into_iter()
                    .filter(|line| !line.ends_with("(staged)"))
                    .collect();
                if !unstaged.is_empty() {
                    return Err(WorkspaceError::Dirty {
                        dir: workspace.dir.clone(),
                        entries: unstaged,
                        more: 0,
                    });
                }
                let tree = index.write_tree().git("write the resolved tree")?;
                let verdict = if tree == workspace.head()?.tree_id() {
                    Verdict::AlreadyUpstream
                } else {
                    commit_on_head(workspace, tree, &message)?;
                    Verdict::Resolved
                };
                git.cleanup_state().git("clean up the cherry-pick")?;
                verdict
            }
            RepositoryState::Clean => {
                // The user may have committed the resolution with git.
                let head = workspace.head()?;
                if head.id() == head_before {
                    return Err(WorkspaceError::NothingToContinue {
                        patch: current.label(),
                    });
                }
                if head.parent_count() != 1
                    || head.parent_id(0).git("read a parent")? != head_before
                {
                    return Err(WorkspaceError::NotDescendant);
                }
                // Keep the resolution, with the patch's message and wlmake's identity.
                let tree = head.tree_id();
                let object = git.find_object(head_before, None).git("read a commit")?;
                git.reset(&object, ResetType::Soft, None)
                    .git("take the committed resolution")?;
                commit_on_head(workspace, tree, &message)?;
                Verdict::Resolved
            }
            other => {
                return Err(WorkspaceError::InProgress {
                    dir: workspace.dir.clone(),
                    what: format!("git {other:?}").to_lowercase(),
                });
            }
        }
    };
    state.results.push(PatchResult {
        patch: current,
        verdict,
    });
    state.current = None;
    state.head_before = None;
    state.conflicted_paths.clear();
    save_state(workspace, &state)?;
    replay(workspace, repository, state, reporter)
}

/// Gives up: removes the workspace the rebase made. Returns its folder.
pub fn abort(workspace: Workspace) -> Result<PathBuf, WorkspaceError> {
    load_state(&workspace)?;
    let dir = workspace.dir.clone();
    drop(workspace);
    std::fs::remove_dir_all(&dir).io("remove", &dir)?;
    Ok(dir)
}
