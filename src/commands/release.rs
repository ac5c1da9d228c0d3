//! `wlmake matrix`, `wlmake release-assets`, and `wlmake build --container`: what the
//! release workflow runs, so that the CI YAML stays thin and the same steps run locally.
//! The logic lives in [`crate::release`]; here it is parsed, called and printed.

use anyhow::Result;

use super::Session;
use crate::build::BuildOutcome;
use crate::cli::{BuildArgs, MatrixArgs, ReleaseAssetsArgs};
use crate::container::{self, ContainerBuild, Host};
use crate::env_vars::{WLMAKE_OUTPUT_DIR, WLMAKE_WORK_DIR};
use crate::recipe::RecipeError;
use crate::release::{SHA256SUMS, Selection, assets_of, matrix_of, write_release};

pub fn matrix(session: &Session, args: &MatrixArgs) -> Result<()> {
    let selection = Selection::from_args(&args.select)?;
    let repo = session.repository()?;
    let recipes = repo.load_all().map_err(RecipeError::Invalid)?;
    let matrix = matrix_of(&recipes, &selection)?;
    if args.json {
        // One line: CI writes it to `$GITHUB_OUTPUT` as `matrix=<json>`.
        println!("{}", serde_json::to_string(&matrix)?);
        return Ok(());
    }
    let width = matrix
        .include
        .iter()
        .map(|e| e.recipe.len())
        .max()
        .unwrap_or(0);
    for entry in &matrix.include {
        let line = format!("{:width$}  {}", entry.recipe, entry.runtime);
        match &entry.tag {
            Some(tag) => println!("{line:<w$}  {tag}", w = width + 10),
            None => println!("{line}"),
        }
    }
    Ok(())
}

/// One file to put in the release folder.
pub fn release_assets(session: &Session, args: &ReleaseAssetsArgs) -> Result<()> {
    let selection = Selection::from_args(&args.select)?;
    let repo = session.repository()?;
    let root = session.output_root(&repo);
    let assets = assets_of(&root, &repo, &selection)?;
    let written = write_release(&args.out_dir, &assets, args.force)?;
    for file in &written {
        println!(
            "{}  {} ({} bytes)",
            &file.sha256[..16],
            file.name,
            file.size
        );
    }
    session.reporter.line(&format!(
        "wrote {} files and {SHA256SUMS} to {}",
        written.len(),
        args.out_dir.display()
    ));
    Ok(())
}

/// `wlmake build --container [ENGINE]`: the same build, run by the builder image's
/// wlmake with the repository and the cache mounted. Replaces this process with the
/// engine once the engine, the image and the recipe are known to be good, so the
/// container gets the terminal and the signals; returns only on failure.
pub fn build_in_container(
    session: &Session,
    args: &BuildArgs,
    engine: Option<&str>,
) -> Result<BuildOutcome> {
    let repo = session.repository()?;
    // The recipe, runtime and profile checked here; the container's wlmake builds the same plan.
    let plan = session.plan(&repo, &args.target)?;
    let host = Host::find(engine, &args.container_image)?;
    let cache = session.cache()?;
    let options = session.fetch_options();
    let spec = ContainerBuild {
        engine: host.engine,
        settings: host.settings.clone(),
        image: args.container_image.clone(),
        uid: host.uid,
        gid: host.gid,
        repo: repo.root().to_path_buf(),
        cache: std::path::absolute(cache.root())?,
        output_dir: container::caller_folder(WLMAKE_OUTPUT_DIR)?,
        work_dir: container::caller_folder(WLMAKE_WORK_DIR)?,
        mirrors: options.mirrors,
        use_apt: options.use_apt,
        recipe: args.target.recipe.clone(),
        runtime: plan.runtime,
        force: args.force,
        jobs: args.jobs,
        quiet: session.global.quiet,
        verbose: session.global.verbose,
        no_cache: args.cache.no_cache,
        cache_url: args
            .cache
            .cache_url
            .clone()
            .filter(|url| !url.trim().is_empty()),
        cache_push: args.cache.cache_push,
    };
    let command = spec.command()?;
    session.reporter.line(&format!(
        "building {} for {} in {} ({}, image {}); {} is {} inside",
        plan.recipe.id,
        plan.runtime,
        args.container_image,
        host.engine,
        host.short_image_id(),
        repo.root().display(),
        container::REPO_MOUNT,
    ));
    session.reporter.line(&format!("$ {}", command.display()));
    session.reporter.finish();
    Err(command.exec().into())
}
