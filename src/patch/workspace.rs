//! Patch workspaces: a git repository per recipe and runtime where a patch series is a
//! line of commits.
//!
//! `<work>/patch/<language>/<name>-<version>/<runtime>/` holds the source tree. Its first
//! commit is the pristine upstream (tag `upstream`), then one commit per patch, the common
//! set first, then the runtime's overlay, on the branch `series`. People edit and commit
//! with ordinary git; [`Workspace::export`] writes the commits back as patch files.
//!
//! A commit's message is its patch's header; the trailers `Patch-Set:` and `Patch-File:`
//! say which set it belongs to and which file it was last written to (see
//! [`super::message`]). Commits wlmake makes have a fixed author and date, so the same
//! series always gives the same commit ids.
//!
//! `.git/wlmake/workspace.json` records the recipe, the runtime, the repository and the
//! patch files as last read or written; export refuses to overwrite a patch folder that
//! someone else changed since.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use git2::{
    Commit, IndexAddOption, Oid, Repository as GitRepository, RepositoryInitOptions, Signature,
    Status, StatusOptions, Time,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::PatchFile;
use super::diff;
use super::error::{GitContext, IoContext, WorkspaceError};
use super::message::{self, Description, ParsedMessage};
use crate::recipe::{Recipe, Repository, SourceSpec};
use crate::reporter::Reporter;
use crate::runtime::Kind;
use crate::source::{self, Cache, FetchOptions};

/// The branch holding the series.
pub const BRANCH: &str = "series";
/// The tag on the pristine upstream commit.
pub const UPSTREAM_TAG: &str = "upstream";
/// The set every runtime shares.
pub const COMMON: &str = "common";
const META_DIR: &str = "wlmake";
const META_FILE: &str = "workspace.json";
const META_FORMAT: u32 = 1;

/// `<work>/patch/<language>/<name>-<version>/<runtime>`.
pub fn workspace_dir(work_root: &Path, id: &str, runtime: Kind) -> PathBuf {
    work_root.join("patch").join(id).join(runtime)
}

/// What `.git/wlmake/workspace.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Metadata {
    pub format: u32,
    /// The recipe id (`php/php-7.4.33`).
    pub recipe: String,
    pub runtime: Kind,
    /// The repository root holding `recipes/` and `patches/`.
    pub repository: PathBuf,
    /// Patch files of the workspace's set folders as last read or written:
    /// repository-relative path -> sha256.
    pub files: BTreeMap<String, String>,
    /// The recipe whose series was rebased onto this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rebased_from: Option<String>,
}

/// The author and committer of every commit wlmake makes: fixed, so commits are
/// reproducible.
pub(crate) fn signature() -> Signature<'static> {
    Signature::new("wlmake", "wlmake@localhost", &Time::new(946_684_800, 0))
        .expect("a valid fixed signature")
}

/// The sets of a workspace in application order: `common`, then the runtime.
pub fn set_names(runtime: Kind) -> Vec<String> {
    vec![COMMON.to_string(), runtime.to_string()]
}

/// The folder (repository-relative) of `set` in `recipe`.
pub fn set_folder<'r>(recipe: &'r Recipe, set: &str) -> Option<&'r str> {
    if set == COMMON {
        recipe.patches.common.as_deref()
    } else {
        let runtime = Kind::parse(set).ok()?;
        recipe.patches.runtime.get(&runtime).map(String::as_str)
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The `*.patch` files of the folders (repository-relative) that exist.
fn folder_files(root: &Path, folders: &[&str]) -> Result<BTreeMap<String, String>, WorkspaceError> {
    let mut files = BTreeMap::new();
    for folder in folders {
        let dir = root.join(folder);
        if !dir.is_dir() {
            continue;
        }
        for entry in std::fs::read_dir(&dir).io("read folder", &dir)?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.ends_with(".patch") {
                continue;
            }
            let bytes = std::fs::read(entry.path()).io("read", entry.path())?;
            files.insert(format!("{folder}/{name}"), sha256_hex(&bytes));
        }
    }
    Ok(files)
}

/// The recorded patch files of the recipe's folders for the workspace's sets.
pub(crate) fn recorded_files(
    root: &Path,
    recipe: &Recipe,
    runtime: Kind,
) -> Result<BTreeMap<String, String>, WorkspaceError> {
    let names = set_names(runtime);
    let folders: Vec<&str> = names.iter().filter_map(|s| set_folder(recipe, s)).collect();
    folder_files(root, &folders)
}

pub(crate) fn check_runtime(recipe: &Recipe, runtime: Kind) -> Result<(), WorkspaceError> {
    recipe
        .require_runtime(runtime)
        .map_err(WorkspaceError::Recipe)
}

/// `git init` with the settings that keep blobs byte-exact: no end-of-line conversion,
/// no `ident` or other filters, no custom merge drivers from the upstream's
/// `.gitattributes`. Its diff drivers stay (PHP 8 sets `*.[ch] diff=cpp`): hunk headers
/// then name the enclosing function as `git diff` does in an upstream checkout.
pub(crate) fn init(dir: &Path) -> Result<GitRepository, WorkspaceError> {
    let mut options = RepositoryInitOptions::new();
    options.initial_head(BRANCH).no_reinit(true);
    let git = GitRepository::init_opts(dir, &options).git("create the workspace repository")?;
    let mut config = git.config().git("open the repository config")?;
    for (key, value) in [
        ("core.autocrlf", "false"),
        ("core.safecrlf", "false"),
        ("core.filemode", "true"),
        ("gc.auto", "0"),
    ] {
        config
            .set_str(key, value)
            .git("write the repository config")?;
    }
    let info = git.path().join("info");
    std::fs::create_dir_all(&info).io("create folder", &info)?;
    std::fs::write(
        info.join("attributes"),
        "# wlmake: blobs are the upstream's bytes; merges use git's default driver.\n\
         * -text -eol -ident -filter -working-tree-encoding !merge\n",
    )
    .io("write", info.join("attributes"))?;
    std::fs::create_dir_all(git.path().join(META_DIR)).io("create folder", git.path())?;
    Ok(git)
}

/// Stages every file of the work tree (ignored ones too: the upstream's `.gitignore` does
/// not decide what the pristine tree is) and returns the tree id.
pub(crate) fn stage_all(git: &GitRepository) -> Result<Oid, WorkspaceError> {
    let mut index = git.index().git("open the index")?;
    index
        .add_all(["*"], IndexAddOption::FORCE, None)
        .git("stage the work tree")?;
    index.update_all(["*"], None).git("stage removed files")?;
    index.write().git("write the index")?;
    index.write_tree().git("write the tree")
}

/// The first line of the upstream commit and a sentence about the source.
pub(crate) fn upstream_message(recipe: &Recipe) -> String {
    let origin = match &recipe.source {
        SourceSpec::Archive(archive) => {
            format!("{} (sha256 {})", archive.file_name, archive.sha256)
        }
        SourceSpec::Git(git) => format!("{} at {} ({})", git.url, git.tag, git.commit),
        SourceSpec::Path(path) => format!("the folder {}", path.path),
    };
    format!(
        "Upstream {}\n\nThe pristine source of {}: {origin}.\n",
        recipe.id, recipe.id
    )
}

/// A patch committed by wlmake.
#[derive(Debug, Clone)]
pub struct ChainCommit {
    pub id: Oid,
    pub set: String,
    pub file: String,
    pub subject: String,
    /// Exporting the commit gives the file's bytes back; false means export rewrites the
    /// file in the canonical form (same change).
    pub canonical: bool,
}

/// Commits the work tree of `git` as the upstream commit, then applies each patch of
/// `series` to it exactly and commits it. With `update_head`, the commits go on HEAD.
pub(crate) fn build_chain(
    git: &GitRepository,
    workdir: &Path,
    upstream: &str,
    series: &[PatchFile],
    update_head: bool,
    reporter: &dyn Reporter,
) -> Result<(Oid, Vec<ChainCommit>), WorkspaceError> {
    let signature = signature();
    let head = update_head.then_some("HEAD");
    let tree = git.find_tree(stage_all(git)?).git("read the tree")?;
    let upstream_id = git
        .commit(head, &signature, &signature, upstream, &tree, &[])
        .git("commit the upstream tree")?;
    let mut parent = git.find_commit(upstream_id).git("read a commit")?;
    let log = git.path().join(META_DIR).join("patch.log");
    let mut commits = Vec::new();
    reporter.task_start("commit the patches", Some(series.len() as u64));
    for patch in series {
        super::apply(workdir, patch, &log)?;
        let tree = git.find_tree(stage_all(git)?).git("read the tree")?;
        let text = std::fs::read_to_string(&patch.absolute).io("read", &patch.absolute)?;
        let name = patch
            .path
            .rsplit('/')
            .next()
            .unwrap_or(&patch.path)
            .to_string();
        let parts = message::split_patch(&text);
        let description =
            Description::from_header(parts.header, &message::subject_from_file(&name));
        let id = git
            .commit(
                head,
                &signature,
                &signature,
                &description.to_message(&patch.set, &name),
                &tree,
                &[&parent],
            )
            .git("commit a patch")?;
        let parent_tree = parent.tree().git("read a tree")?;
        let canonical = description.to_header() == parts.header
            && diff::render(git, Some(&parent_tree), &tree).is_ok_and(|d| d == parts.diff);
        parent = git.find_commit(id).git("read a commit")?;
        commits.push(ChainCommit {
            id,
            set: patch.set.clone(),
            file: name,
            subject: description.subject,
            canonical,
        });
        reporter.task_advance(1);
    }
    reporter.task_finish();
    Ok((upstream_id, commits))
}

/// What `wlmake patch start` needs.
pub struct StartRequest<'a> {
    pub repository: &'a Repository,
    pub recipe: &'a Recipe,
    pub runtime: Kind,
    pub cache: &'a Cache,
    pub fetch_options: &'a FetchOptions,
    pub dir: PathBuf,
    /// Replace an existing workspace.
    pub force: bool,
}

#[derive(Debug)]
pub struct StartOutcome {
    pub dir: PathBuf,
    pub upstream: Oid,
    pub commits: Vec<ChainCommit>,
}

/// Makes the workspace: the fresh source tree, the upstream commit (tagged), one commit
/// per patch.
pub fn start(
    request: StartRequest<'_>,
    reporter: &dyn Reporter,
) -> Result<StartOutcome, WorkspaceError> {
    let recipe = request.recipe;
    check_runtime(recipe, request.runtime)?;
    if request.dir.exists() && !request.force {
        return Err(WorkspaceError::Exists { dir: request.dir });
    }
    let root = request.repository.root();
    let series = super::series(root, recipe, request.runtime)?;
    reporter.step("fetch");
    source::prepare(
        &recipe.source,
        request.cache,
        request.fetch_options,
        &request.dir,
        reporter,
    )
    .map_err(|source| WorkspaceError::Source {
        id: recipe.id.to_string(),
        source,
    })?;
    reporter.step("commit");
    let made = commit_workspace(&request, &series, reporter);
    if made.is_err() {
        // Half a workspace is no use: the next start would find it in the way.
        let _ = std::fs::remove_dir_all(&request.dir);
    }
    made
}

/// The repository, the commits and the metadata of a workspace whose tree is ready.
fn commit_workspace(
    request: &StartRequest<'_>,
    series: &[PatchFile],
    reporter: &dyn Reporter,
) -> Result<StartOutcome, WorkspaceError> {
    let git = init(&request.dir)?;
    let (_, upstream, commits) = commit_series(
        git,
        &request.dir,
        request.repository,
        request.recipe,
        request.runtime,
        series,
        None,
        reporter,
    )?;
    Ok(StartOutcome {
        dir: request.dir.clone(),
        upstream,
        commits,
    })
}

/// Commits the tree in `dir` as the recipe's upstream (tagged), then `series` on top;
/// records and saves the workspace's metadata. `rebased_from` names the recipe a rebase
/// started from.
#[allow(clippy::too_many_arguments)]
pub(crate) fn commit_series(
    git: GitRepository,
    dir: &Path,
    repository: &Repository,
    recipe: &Recipe,
    runtime: Kind,
    series: &[PatchFile],
    rebased_from: Option<String>,
    reporter: &dyn Reporter,
) -> Result<(Workspace, Oid, Vec<ChainCommit>), WorkspaceError> {
    let root = repository.root();
    let (upstream, commits) =
        build_chain(&git, dir, &upstream_message(recipe), series, true, reporter)?;
    {
        let object = git.find_object(upstream, None).git("read a commit")?;
        git.tag_lightweight(UPSTREAM_TAG, &object, true)
            .git("tag the upstream commit")?;
    }
    let workspace = Workspace {
        dir: dir.to_path_buf(),
        meta: Metadata {
            format: META_FORMAT,
            recipe: recipe.id.to_string(),
            runtime,
            repository: root.to_path_buf(),
            files: recorded_files(root, recipe, runtime)?,
            rebased_from,
        },
        git,
    };
    workspace.save()?;
    Ok((workspace, upstream, commits))
}

/// A commit of the series, read back.
#[derive(Debug, Clone)]
pub struct SeriesCommit {
    pub id: Oid,
    pub parsed: ParsedMessage,
}

/// Where export writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "dir", rename_all = "kebab-case")]
pub enum ExportTarget {
    /// The recipe's patch folders.
    Recipe,
    /// `<DIR>/<set>/` (leaves the repository alone).
    Dir(PathBuf),
}

pub struct ExportOptions<'a> {
    /// The set of commits without a `Patch-Set:` trailer.
    pub default_set: Option<&'a str>,
    pub target: ExportTarget,
    /// Overwrite patch folders that changed since the workspace last read them.
    pub force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileChange {
    Unchanged,
    Added,
    Updated,
    Removed,
}

#[derive(Debug)]
pub struct ExportOutcome {
    /// Each file written, kept or removed, as shown to the user.
    pub files: Vec<(String, FileChange)>,
    /// Commits whose message got (new) `Patch-Set:`/`Patch-File:` trailers.
    pub rewritten: usize,
    /// Commits without changes, left out.
    pub empty: Vec<String>,
}

/// One exported patch.
#[derive(Debug, Clone)]
pub struct Planned {
    pub commit: Oid,
    pub set: String,
    pub file: String,
    pub text: String,
    pub description: Description,
}

fn short(id: Oid) -> String {
    id.to_string()[..10].to_string()
}

/// An open workspace.
pub struct Workspace {
    pub dir: PathBuf,
    pub git: GitRepository,
    pub meta: Metadata,
}

fn meta_path(dir: &Path) -> PathBuf {
    dir.join(".git").join(META_DIR).join(META_FILE)
}

impl Workspace {
    pub fn open(dir: &Path) -> Result<Workspace, WorkspaceError> {
        let path = meta_path(dir);
        if !path.is_file() {
            return Err(WorkspaceError::NotAWorkspace {
                start: dir.to_path_buf(),
            });
        }
        let text = std::fs::read_to_string(&path).io("read", &path)?;
        let meta: Metadata =
            serde_json::from_str(&text).map_err(|error| WorkspaceError::Metadata {
                path: path.clone(),
                reason: error.to_string(),
            })?;
        if meta.format != META_FORMAT {
            return Err(WorkspaceError::Metadata {
                path,
                reason: format!("format {} (this wlmake reads {META_FORMAT})", meta.format),
            });
        }
        let git = GitRepository::open(dir).git("open the workspace repository")?;
        Ok(Workspace {
            dir: dir.to_path_buf(),
            git,
            meta,
        })
    }

    /// The workspace holding `start` (the folder itself or one of its parents).
    pub fn discover(start: &Path) -> Result<Workspace, WorkspaceError> {
        start
            .ancestors()
            .find(|dir| meta_path(dir).is_file())
            .map(Workspace::open)
            .unwrap_or_else(|| {
                Err(WorkspaceError::NotAWorkspace {
                    start: start.to_path_buf(),
                })
            })
    }

    pub(crate) fn meta_dir(&self) -> PathBuf {
        self.git.path().join(META_DIR)
    }

    pub fn save(&self) -> Result<(), WorkspaceError> {
        let path = meta_path(&self.dir);
        let text = serde_json::to_string_pretty(&self.meta).expect("metadata serializes");
        std::fs::write(&path, text + "\n").io("write", &path)
    }

    /// The set names in application order.
    pub fn sets(&self) -> Vec<String> {
        set_names(self.meta.runtime)
    }

    /// One line per changed, staged, untracked or conflicted path (ignored files aside).
    pub fn changes(&self) -> Result<Vec<String>, WorkspaceError> {
        let mut options = StatusOptions::new();
        options
            .include_untracked(true)
            .recurse_untracked_dirs(true)
            .include_ignored(false)
            .exclude_submodules(true);
        let statuses = self
            .git
            .statuses(Some(&mut options))
            .git("read the work tree status")?;
        let mut lines = Vec::new();
        for entry in statuses.iter() {
            let status = entry.status();
            if status.is_ignored() || status == Status::CURRENT {
                continue;
            }
            let label = if status.is_conflicted() {
                "conflict"
            } else if status.is_wt_new() {
                "untracked"
            } else if status.is_index_new() {
                "added"
            } else if status.is_wt_deleted() || status.is_index_deleted() {
                "deleted"
            } else {
                "modified"
            };
            let staged = if status.intersects(
                Status::INDEX_NEW
                    | Status::INDEX_MODIFIED
                    | Status::INDEX_DELETED
                    | Status::INDEX_RENAMED
                    | Status::INDEX_TYPECHANGE,
            ) && !status.is_conflicted()
            {
                " (staged)"
            } else {
                ""
            };
            let path = String::from_utf8_lossy(entry.path_bytes()).into_owned();
            lines.push(format!("{label:<9} {path}{staged}"));
        }
        Ok(lines)
    }

    /// Refuses a work tree with uncommitted changes.
    pub fn ensure_clean(&self) -> Result<(), WorkspaceError> {
        const SHOWN: usize = 20;
        let mut entries = self.changes()?;
        if entries.is_empty() {
            return Ok(());
        }
        let more = entries.len().saturating_sub(SHOWN);
        entries.truncate(SHOWN);
        Err(WorkspaceError::Dirty {
            dir: self.dir.clone(),
            entries,
            more,
        })
    }

    /// Refuses while a rebase (wlmake's or git's), merge or cherry-pick is in progress.
    pub fn ensure_idle(&self) -> Result<(), WorkspaceError> {
        if super::rebase::in_progress(self) {
            return Err(WorkspaceError::InProgress {
                dir: self.dir.clone(),
                what: "wlmake patch rebase".into(),
            });
        }
        let state = self.git.state();
        if state != git2::RepositoryState::Clean {
            return Err(WorkspaceError::InProgress {
                dir: self.dir.clone(),
                what: format!("git {state:?}").to_lowercase(),
            });
        }
        Ok(())
    }

    pub fn upstream(&self) -> Result<Commit<'_>, WorkspaceError> {
        self.git
            .revparse_single(&format!("refs/tags/{UPSTREAM_TAG}"))
            .and_then(|object| object.peel_to_commit())
            .map_err(|_| WorkspaceError::NoUpstream)
    }

    pub fn head(&self) -> Result<Commit<'_>, WorkspaceError> {
        self.git
            .head()
            .and_then(|head| head.peel_to_commit())
            .git("read HEAD")
    }

    /// The commits from the upstream commit (excluded) to HEAD, oldest first.
    pub fn commits(&self) -> Result<Vec<SeriesCommit>, WorkspaceError> {
        let upstream = self.upstream()?.id();
        let mut current = self.head()?;
        let mut commits = Vec::new();
        while current.id() != upstream {
            let parsed = message::parse_message(&String::from_utf8_lossy(current.message_bytes()));
            match current.parent_count() {
                0 => return Err(WorkspaceError::NotDescendant),
                1 => {}
                _ => {
                    return Err(WorkspaceError::MergeCommit {
                        commit: short(current.id()),
                        subject: parsed.description.subject,
                    });
                }
            }
            commits.push(SeriesCommit {
                id: current.id(),
                parsed,
            });
            current = current.parent(0).git("read a parent commit")?;
        }
        commits.reverse();
        Ok(commits)
    }

    /// The patch of every commit (`None` for a commit without changes), with its set and
    /// file name.
    pub fn plan(
        &self,
        default_set: Option<&str>,
    ) -> Result<Vec<(SeriesCommit, Option<Planned>)>, WorkspaceError> {
        let sets = self.sets();
        let mut numbers: BTreeMap<String, usize> = BTreeMap::new();
        let mut last: Option<(usize, String, String)> = None;
        let mut planned = Vec::new();
        for commit in self.commits()? {
            let subject = commit.parsed.description.subject.clone();
            let set = match commit.parsed.set.as_deref().or(default_set) {
                Some(set) => set.to_string(),
                None => {
                    return Err(WorkspaceError::NeedsSet {
                        commit: short(commit.id),
                        subject,
                        sets,
                    });
                }
            };
            let Some(rank) = sets.iter().position(|s| *s == set) else {
                return Err(WorkspaceError::UnknownSet {
                    commit: short(commit.id),
                    subject,
                    set,
                    sets,
                });
            };
            if let Some((last_rank, last_commit, last_set)) = &last
                && *last_rank > rank
            {
                return Err(WorkspaceError::SetOrder {
                    earlier: last_commit.clone(),
                    earlier_set: last_set.clone(),
                    later: short(commit.id),
                    later_subject: subject,
                    later_set: set,
                });
            }
            let git_commit = self.git.find_commit(commit.id).git("read a commit")?;
            let parent = git_commit.parent(0).git("read a parent commit")?;
            let diff_error = |source| WorkspaceError::Diff {
                commit: short(commit.id),
                subject: subject.clone(),
                source,
            };
            let text = diff::render(
                &self.git,
                Some(&parent.tree().git("read a tree")?),
                &git_commit.tree().git("read a tree")?,
            )
            .map_err(diff_error)?;
            if text.is_empty() {
                planned.push((commit, None));
                continue;
            }
            last = Some((rank, short(commit.id), set.clone()));
            let number = numbers.entry(set.clone()).or_default();
            *number += 1;
            let slug = commit
                .parsed
                .file
                .as_deref()
                .and_then(message::slug_of_file)
                .map(str::to_string)
                .unwrap_or_else(|| message::slugify(&subject));
            let description = commit.parsed.description.clone();
            planned.push((
                commit.clone(),
                Some(Planned {
                    commit: commit.id,
                    file: message::file_name(*number, &slug),
                    text: description.to_header() + &text,
                    set,
                    description,
                }),
            ));
        }
        Ok(planned)
    }

    /// Writes the series back: one file per commit into its set's folder; files of
    /// dropped commits go. Commits get `Patch-Set:`/`Patch-File:` trailers for next time.
    pub fn export(
        &mut self,
        repository: &Repository,
        options: &ExportOptions<'_>,
    ) -> Result<ExportOutcome, WorkspaceError> {
        self.ensure_idle()?;
        self.ensure_clean()?;
        let recipe = repository
            .load(&self.meta.recipe)
            .map_err(WorkspaceError::Recipe)?;
        let plan = self.plan(options.default_set)?;
        let root = repository.root();

        // Where each set goes: (set, absolute folder, shown folder, repository-relative).
        let mut folders = Vec::new();
        for set in self.sets() {
            let used = plan
                .iter()
                .any(|(_, p)| p.as_ref().is_some_and(|p| p.set == set));
            match &options.target {
                ExportTarget::Recipe => match set_folder(&recipe, &set) {
                    Some(folder) => folders.push((
                        set,
                        root.join(folder),
                        folder.to_string(),
                        Some(folder.to_string()),
                    )),
                    None if used => {
                        return Err(WorkspaceError::NoSetFolder {
                            id: recipe.id.to_string(),
                            set,
                        });
                    }
                    None => {}
                },
                ExportTarget::Dir(dir) => {
                    let folder = dir.join(&set);
                    folders.push((set, folder.clone(), folder.display().to_string(), None));
                }
            }
        }

        if options.target == ExportTarget::Recipe && !options.force {
            let relative: Vec<&str> = folders.iter().filter_map(|f| f.3.as_deref()).collect();
            let now = folder_files(root, &relative)?;
            for folder in &relative {
                let prefix = format!("{folder}/");
                let mut changes = Vec::new();
                for (path, sha) in now.iter().filter(|(p, _)| p.starts_with(&prefix)) {
                    match self.meta.files.get(path) {
                        None => changes.push(format!("new       {path}")),
                        Some(old) if old != sha => changes.push(format!("modified  {path}")),
                        Some(_) => {}
                    }
                }
                for path in self.meta.files.keys().filter(|p| p.starts_with(&prefix)) {
                    if !now.contains_key(path) {
                        changes.push(format!("removed   {path}"));
                    }
                }
                if !changes.is_empty() {
                    return Err(WorkspaceError::FolderChanged {
                        folder: folder.to_string(),
                        changes,
                    });
                }
            }
        }

        let mut files = Vec::new();
        for (set, folder, shown, _) in &folders {
            std::fs::create_dir_all(folder).io("create folder", folder)?;
            let wanted: Vec<&Planned> = plan
                .iter()
                .filter_map(|(_, p)| p.as_ref())
                .filter(|p| &p.set == set)
                .collect();
            for patch in &wanted {
                let path = folder.join(&patch.file);
                let change = match std::fs::read(&path) {
                    Ok(bytes) if bytes == patch.text.as_bytes() => FileChange::Unchanged,
                    Ok(_) => FileChange::Updated,
                    Err(_) => FileChange::Added,
                };
                if change != FileChange::Unchanged {
                    crate::files::write_atomically(folder, &path, patch.text.as_bytes())
                        .io("write", &path)?;
                }
                files.push((format!("{shown}/{}", patch.file), change));
            }
            let mut stale: Vec<String> = std::fs::read_dir(folder)
                .io("read folder", folder)?
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| name.ends_with(".patch") && !wanted.iter().any(|p| p.file == *name))
                .collect();
            stale.sort();
            for name in stale {
                let path = folder.join(&name);
                std::fs::remove_file(&path).io("remove", &path)?;
                files.push((format!("{shown}/{name}"), FileChange::Removed));
            }
        }

        let rewritten = self.record_trailers(&plan)?;
        if options.target == ExportTarget::Recipe {
            self.meta.files = recorded_files(root, &recipe, self.meta.runtime)?;
            self.save()?;
        }
        let empty = plan
            .iter()
            .filter(|(_, p)| p.is_none())
            .map(|(c, _)| format!("{} {}", short(c.id), c.parsed.description.subject))
            .collect();
        Ok(ExportOutcome {
            files,
            rewritten,
            empty,
        })
    }

    /// Rewrites the commits whose trailers do not name their set and file (same trees,
    /// authors and dates), and moves the branch. Returns how many messages changed.
    fn record_trailers(
        &self,
        plan: &[(SeriesCommit, Option<Planned>)],
    ) -> Result<usize, WorkspaceError> {
        let needs = |commit: &SeriesCommit, planned: &Option<Planned>| {
            planned.as_ref().is_some_and(|p| {
                commit.parsed.set.as_deref() != Some(p.set.as_str())
                    || commit.parsed.file.as_deref() != Some(p.file.as_str())
            })
        };
        let Some(first) = plan.iter().position(|(c, p)| needs(c, p)) else {
            return Ok(0);
        };
        let first_commit = self
            .git
            .find_commit(plan[first].0.id)
            .git("read a commit")?;
        let mut parent = first_commit.parent(0).git("read a parent commit")?;
        let mut rewritten = 0;
        for (commit, planned) in &plan[first..] {
            let original = self.git.find_commit(commit.id).git("read a commit")?;
            let message = match planned {
                Some(p) if needs(commit, planned) => {
                    rewritten += 1;
                    p.description.to_message(&p.set, &p.file)
                }
                _ => String::from_utf8_lossy(original.message_bytes()).into_owned(),
            };
            let id = self
                .git
                .commit(
                    None,
                    &original.author(),
                    &original.committer(),
                    &message,
                    &original.tree().git("read a tree")?,
                    &[&parent],
                )
                .git("record the patch sets in the commit messages")?;
            parent = self.git.find_commit(id).git("read a commit")?;
        }
        let head = self.git.head().git("read HEAD")?;
        if head.is_branch() {
            let name = head.name().unwrap_or("refs/heads/series").to_string();
            self.git
                .reference(
                    &name,
                    parent.id(),
                    true,
                    "wlmake patch export: record patch sets",
                )
                .git("move the branch")?;
        } else {
            self.git.set_head_detached(parent.id()).git("move HEAD")?;
        }
        Ok(rewritten)
    }
}
