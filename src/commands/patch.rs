//! `wlmake patch start|export|check|rebase` and `wlmake new`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::Session;
use crate::cli::{
    NewArgs, PatchArgs, PatchCheckArgs, PatchCommand, PatchExportArgs, PatchRebaseArgs,
    PatchStartArgs,
};
use crate::error::Reported;
use crate::patch::WorkspaceError;
use crate::patch::check::{self, CheckContext, PatchVerdict, RecipeCheck};
use crate::patch::rebase::{self, RebaseOutcome, RebaseRequest};
use crate::patch::scaffold;
use crate::patch::workspace::{
    self, ExportOptions, ExportOutcome, ExportTarget, FileChange, StartRequest, Workspace,
};
use crate::recipe::{Recipe, RecipeError, Repository};
use crate::runtime::Kind;

pub fn patch(session: &Session, args: &PatchArgs) -> Result<i32> {
    match &args.command {
        PatchCommand::Start(args) => start(session, args).map(|()| 0),
        PatchCommand::Export(args) => export(session, args).map(|()| 0),
        PatchCommand::Check(args) => check(session, args).map(|()| 0),
        PatchCommand::Rebase(args) => rebase(session, args),
    }
}

fn short(id: impl ToString) -> String {
    id.to_string().chars().take(10).collect()
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

fn start(session: &Session, args: &PatchStartArgs) -> Result<()> {
    let repo = session.repository()?;
    let plan = session.plan(&repo, &args.target)?;
    let (recipe, runtime) = (&plan.recipe, plan.runtime);
    let dir = plan.layout.patch_dir(&recipe.id, runtime);
    let outcome = workspace::start(
        StartRequest {
            repository: &repo,
            recipe,
            runtime,
            cache: &session.cache()?,
            fetch_options: &session.fetch_options(),
            dir,
            force: args.force,
        },
        &session.reporter,
    )
    .with_context(|| {
        format!(
            "cannot start a patch workspace for `{}` ({runtime})",
            recipe.id
        )
    })?;
    let line = |text: &str| session.reporter.line(text);
    line(&format!(
        "patch workspace of {} for {runtime}: {} patch(es) on the upstream",
        recipe.id,
        outcome.commits.len()
    ));
    line(&format!(
        "  {}  upstream  Upstream {} (tag `upstream`)",
        short(outcome.upstream),
        recipe.id
    ));
    for commit in &outcome.commits {
        line(&format!(
            "  {}  {:<8}  {}  {}",
            short(commit.id),
            commit.set,
            commit.file,
            commit.subject
        ));
    }
    let rewritten: Vec<&str> = outcome
        .commits
        .iter()
        .filter(|c| !c.canonical)
        .map(|c| c.file.as_str())
        .collect();
    if !rewritten.is_empty() {
        line(&format!(
            "note: export will rewrite {} in wlmake's format (same changes)",
            rewritten.join(", ")
        ));
    }
    line(&format!(
        "next: cd {0}, edit and `git commit`, then `wlmake patch export` (new commits need --set common|{runtime})",
        outcome.dir.display()
    ));
    println!("{}", outcome.dir.display());
    Ok(())
}

/// The workspace a command acts on: the one named by recipe (and runtime), else the one
/// holding the current folder.
fn find_workspace(
    session: &Session,
    recipe: Option<&str>,
    runtime: Option<Kind>,
) -> Result<Workspace> {
    let Some(id) = recipe else {
        let cwd = std::env::current_dir().context("cannot read the current folder")?;
        return Ok(Workspace::discover(&cwd)?);
    };
    let repo = session.repository()?;
    let id = repo.load(id)?.id.0;
    let root = session.work_root(&repo).join("patch").join(&id);
    let runtime = match runtime {
        Some(runtime) => runtime.name().to_string(),
        None => {
            let mut found: Vec<String> = std::fs::read_dir(&root)
                .map(|entries| {
                    entries
                        .flatten()
                        .filter(|e| e.path().join(".git").is_dir())
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default();
            found.sort();
            match found.len() {
                1 => found.remove(0),
                0 => {
                    return Err(WorkspaceError::NoWorkspace {
                        dir: root.join(Kind::Wasmtime),
                        id,
                        runtime: Kind::Wasmtime.name().into(),
                    }
                    .into());
                }
                _ => {
                    return Err(WorkspaceError::AmbiguousWorkspace {
                        id,
                        runtimes: found,
                    }
                    .into());
                }
            }
        }
    };
    let dir = root.join(&runtime);
    if !dir.is_dir() {
        return Err(WorkspaceError::NoWorkspace { id, runtime, dir }.into());
    }
    Ok(Workspace::open(&dir)?)
}

fn print_export(outcome: &ExportOutcome) {
    let mut counts = [0usize; 4];
    for (path, change) in &outcome.files {
        let (label, slot) = match change {
            FileChange::Unchanged => ("unchanged", 0),
            FileChange::Added => ("new", 1),
            FileChange::Updated => ("updated", 2),
            FileChange::Removed => ("removed", 3),
        };
        counts[slot] += 1;
        println!("  {label:<9} {path}");
    }
    println!(
        "{} new, {} updated, {} removed, {} unchanged",
        counts[1], counts[2], counts[3], counts[0]
    );
    if outcome.rewritten > 0 {
        println!(
            "recorded the patch set and file name in {} commit message(s) (Patch-Set:, Patch-File: trailers)",
            outcome.rewritten
        );
    }
    for commit in &outcome.empty {
        println!("left out a commit without changes: {commit}");
    }
}

fn export_target(export_to: Option<&PathBuf>) -> ExportTarget {
    match export_to {
        Some(dir) => ExportTarget::Dir(absolute(dir)),
        None => ExportTarget::Recipe,
    }
}

fn export(session: &Session, args: &PatchExportArgs) -> Result<()> {
    let mut workspace = find_workspace(session, args.recipe.as_deref(), args.runtime)?;
    let repository = Repository::at(workspace.meta.repository.clone());
    let options = ExportOptions {
        default_set: args.set.as_deref(),
        target: export_target(args.export_to.as_ref()),
        force: args.force,
    };
    let (id, runtime) = (workspace.meta.recipe.clone(), workspace.meta.runtime);
    let outcome = workspace
        .export(&repository, &options)
        .with_context(|| format!("cannot export the series of `{id}` ({runtime})"))?;
    println!("exported the series of {id} ({runtime}):");
    print_export(&outcome);
    Ok(())
}

fn print_verdict(verdict: &PatchVerdict) {
    let overlay = if verdict.patch.set == "common" {
        String::new()
    } else {
        format!(" ({})", verdict.runtime)
    };
    match &verdict.error {
        None => println!("  ok   {}{overlay}", verdict.patch.path),
        Some(error) => {
            let details = error.details();
            match details.split_first() {
                Some((first, rest)) => {
                    println!("  FAIL {}{overlay}: {first}", verdict.patch.path);
                    for line in rest {
                        println!("         {line}");
                    }
                }
                None => println!(
                    "  FAIL {}{overlay}: {}",
                    verdict.patch.path,
                    error.to_string().lines().next().unwrap_or_default()
                ),
            }
        }
    }
}

fn check(session: &Session, args: &PatchCheckArgs) -> Result<()> {
    let repo = session.repository()?;
    let recipes: Vec<Recipe> = if args.all {
        repo.load_all().map_err(RecipeError::Invalid)?
    } else {
        args.recipes
            .iter()
            .map(|id| repo.load(id))
            .collect::<Result<_, _>>()?
    };
    let work_root = session.work_root(&repo);
    std::fs::create_dir_all(&work_root)
        .with_context(|| format!("cannot create the work folder `{}`", work_root.display()))?;
    let scratch = tempfile::Builder::new()
        .prefix("patch-check-")
        .tempdir_in(&work_root)
        .with_context(|| format!("cannot create a temp folder in `{}`", work_root.display()))?;
    let cache = session.cache()?;
    let fetch_options = session.fetch_options();
    let ctx = CheckContext {
        repo_root: repo.root(),
        cache: &cache,
        fetch_options: &fetch_options,
        scratch: scratch.path(),
    };
    let (mut ok, mut failed, mut checked) = (0, 0, 0);
    let mut skipped = Vec::new();
    for recipe in &recipes {
        println!("{}", recipe.id);
        let result = check::check_recipe(&ctx, recipe, &session.reporter, &mut |verdict| {
            print_verdict(verdict)
        })
        .with_context(|| format!("cannot check the patches of `{}`", recipe.id))?;
        match &result {
            RecipeCheck::NoPatches => println!("  no patches"),
            RecipeCheck::Unreachable { reason } => {
                if !args.all {
                    bail!(
                        "cannot check `{}`: its source cannot be fetched: {reason}",
                        recipe.id
                    );
                }
                println!("  skipped: the source cannot be fetched ({reason})");
                skipped.push(recipe.id.to_string());
            }
            RecipeCheck::Checked { verdicts } => {
                checked += 1;
                failed += result.failed();
                ok += verdicts.len() - result.failed();
            }
        }
    }
    println!("{ok} patch(es) apply exactly, {failed} fail, in {checked} recipe(s) checked");
    if !skipped.is_empty() {
        println!(
            "skipped (source not reachable here): {}",
            skipped.join(", ")
        );
    }
    if failed > 0 {
        return Err(Reported(format!("{failed} patch(es) do not apply exactly")).into());
    }
    Ok(())
}

fn print_results(results: &[rebase::PatchResult]) {
    for result in results {
        println!(
            "  {:<26} {}",
            result.verdict.describe(),
            result.patch.label()
        );
    }
}

fn rebase(session: &Session, args: &PatchRebaseArgs) -> Result<i32> {
    let outcome = if args.resume || args.skip || args.abort {
        let mut workspace = match &args.onto {
            Some(onto) => find_workspace(session, Some(onto), Some(args.runtime))?,
            None => find_workspace(session, None, None)?,
        };
        if args.abort {
            let dir = rebase::abort(workspace).context("cannot abort the rebase")?;
            println!("rebase aborted; removed the workspace {}", dir.display());
            return Ok(0);
        }
        let repository = Repository::at(workspace.meta.repository.clone());
        rebase::resume(&mut workspace, &repository, args.skip, &session.reporter)
            .context("cannot continue the rebase")?
    } else {
        let repo = session.repository()?;
        let source = repo.load(args.recipe.as_deref().expect("clap requires RECIPE"))?;
        let target = repo.load(args.onto.as_deref().expect("clap requires --onto"))?;
        let export = if args.no_export {
            None
        } else {
            Some(export_target(args.export_to.as_ref()))
        };
        rebase::start(
            RebaseRequest {
                repository: &repo,
                source: &source,
                target: &target,
                runtime: args.runtime,
                cache: &session.cache()?,
                fetch_options: &session.fetch_options(),
                dir: workspace::workspace_dir(
                    &session.work_root(&repo),
                    &target.id.0,
                    args.runtime,
                ),
                force: args.force,
                export,
                force_export: args.force,
            },
            &session.reporter,
        )
        .with_context(|| {
            format!(
                "cannot rebase the series of `{}` onto `{}`",
                source.id, target.id
            )
        })?
    };
    match outcome {
        RebaseOutcome::Stopped {
            dir,
            results,
            conflict,
            remaining,
        } => {
            print_results(&results);
            println!(
                "  {:<26} {} (\"{}\")",
                "CONFLICT",
                conflict.patch.label(),
                conflict.patch.subject
            );
            for file in &conflict.files {
                println!("    {}: {}", file.path, file.kind);
                for (first, last) in &file.regions {
                    println!("      conflict markers at lines {first}-{last}");
                }
                for hunk in &file.hunks {
                    println!("      patch hunk {hunk}");
                }
            }
            println!("{remaining} patch(es) left after this one");
            println!(
                "resolve it in {}: edit the files, `git add` them, then `wlmake patch rebase --continue` (or --skip to drop the patch, --abort to give up)",
                dir.display()
            );
            Ok(1)
        }
        RebaseOutcome::Finished {
            dir,
            results,
            export,
        } => {
            print_results(&results);
            let count = |v: rebase::Verdict| results.iter().filter(|r| r.verdict == v).count();
            println!(
                "rebase done: {} applied, {} resolved, {} already upstream, {} skipped; workspace {}",
                count(rebase::Verdict::Applied),
                count(rebase::Verdict::Resolved),
                count(rebase::Verdict::AlreadyUpstream),
                count(rebase::Verdict::Skipped),
                dir.display()
            );
            match export {
                Some(outcome) => {
                    println!("exported:");
                    print_export(&outcome);
                }
                None => println!("not exported: run `wlmake patch export` in the workspace"),
            }
            Ok(0)
        }
    }
}

pub fn new_recipe(session: &Session, args: &NewArgs) -> Result<()> {
    let repo = session.repository()?;
    let from = repo.load(&args.from)?;
    let made = scaffold::scaffold(&repo, &from, &args.recipe, args.patches.as_deref())
        .with_context(|| format!("cannot make recipe `{}`", args.recipe))?;
    scaffold::write(&repo, &made, args.force)
        .with_context(|| format!("cannot make recipe `{}`", args.recipe))?;
    let shown = made.path.strip_prefix(repo.root()).unwrap_or(&made.path);
    println!("created {} from {}", shown.display(), from.id);
    for folder in &made.folders {
        println!("  patch folder {folder}");
    }
    for item in &made.todo {
        println!("todo: {item}");
    }
    Ok(())
}
