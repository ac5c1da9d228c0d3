//! `wlmake build --check`: the recipe rebuilt in a fresh temporary folder and every
//! artifact compared with the published build (docs/reproducibility.md).
//!
//! The recipe itself is rebuilt (no store hit for it); its libraries and its native stage
//! come from the local build store, each verified by its digest, as Nix's `--check`
//! reuses the outputs of a derivation's inputs. Nothing is written to the store, and the
//! published output is only read.

use anyhow::{Context, Result, bail};

use super::{BuildContext, resolve_inputs, run};
use crate::build::profile::Profile;
use crate::output::Manifest;
use crate::output::compare::{ArtifactCheck, compare_builds};
use crate::plan::Layout;
use crate::reporter::Reporter;

/// Rebuilds `ctx`'s recipe beside nothing that is published and compares it with
/// `published` (the manifest of the plan's output folder). `ctx` must not read the store
/// for the recipe itself (`force`); it is turned into a build that writes no store entry.
pub fn rebuild_and_compare(
    mut ctx: BuildContext<'_>,
    published: &Manifest,
    reporter: &dyn Reporter,
) -> Result<Vec<ArtifactCheck>> {
    let plan = ctx.plan;
    if plan.recipe.library.is_some() {
        bail!(
            "`--check` compares published artifacts; `{}` is a library (its prefix is not published in build-output)",
            plan.recipe.id
        );
    }
    let published_dir = plan.output_dir();
    let work_root = plan.layout.work_root().to_path_buf();
    std::fs::create_dir_all(&work_root)
        .with_context(|| format!("cannot create the work folder `{}`", work_root.display()))?;
    // Removed when dropped, and by the interrupt handler on Ctrl-C or SIGTERM.
    let (temp, _tracked) =
        crate::interrupt::temp_dir_in(&work_root, ".check-").with_context(|| {
            format!(
                "cannot create a temporary folder in `{}`",
                work_root.display()
            )
        })?;
    ctx.force = true;
    ctx.cache_policy.read = true;
    ctx.cache_policy.remote = None;
    ctx.cache_policy.write = false;
    ctx.build_in(&Layout::new(temp.path(), temp.path().join("out")));
    let inputs = resolve_inputs(&ctx)
        .with_context(|| format!("cannot resolve the inputs of `{}`", plan.recipe.id))?;
    if inputs.identity != published.build_identity {
        bail!(
            "the published build in `{}` is of other inputs (identity {}, these inputs: {}): build it first with `wlmake build {} --runtime {}{}`, then check it",
            published_dir.display(),
            &published.build_identity[..16.min(published.build_identity.len())],
            &inputs.identity[..16],
            plan.recipe.id,
            plan.runtime,
            match plan.profile {
                Profile::Release => String::new(),
                other => format!(" --profile {}", other.name()),
            }
        );
    }
    reporter.info(&format!(
        "rebuilding {} for {} in `{}` to compare with `{}`",
        plan.recipe.id,
        plan.runtime,
        temp.path().display(),
        published_dir.display()
    ));
    let outcome = run(&ctx, reporter)
        .with_context(|| format!("cannot rebuild `{}` for {}", plan.recipe.id, plan.runtime))?;
    Ok(compare_builds(
        &published_dir,
        published,
        &outcome.output_dir,
        &outcome.manifest,
    )?)
}
