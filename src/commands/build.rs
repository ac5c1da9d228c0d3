//! `wlmake fetch`, `wlmake build` (and `--check`), `wlmake identity`.

use std::time::Instant;

use anyhow::{Context, Result, bail};

use super::Session;
use crate::build::profile::{Profile, ResolvedProfile};
use crate::build::{self, BuildContext, BuildOutcome, CachePolicy, Origin};
use crate::cli::{BuildArgs, BuildCacheArgs, BuildTarget, FetchArgs};
use crate::env_vars;
use crate::output::precompiled::{self, Precompiled};
use crate::plan::Plan;
use crate::recipe::Repository;
use crate::runtime::Runtime;
use crate::source;
use crate::store::remote::Remote;

pub fn fetch(session: &Session, args: &FetchArgs) -> Result<()> {
    let start = Instant::now();
    let repo = session.repository()?;
    let recipe = repo.load(&args.recipe)?;
    let cache = session.cache()?;
    let dest = session.work_root(&repo).join("src").join(&recipe.id.0);
    let prepared = source::prepare(
        &recipe.source,
        &cache,
        &session.fetch_options(),
        &dest,
        &session.reporter,
    )
    .with_context(|| format!("cannot fetch `{}`", recipe.id))?;
    session.reporter.line(&format!(
        "fetched {} from {} in {:.1} s",
        recipe.id,
        prepared.fetched.provider,
        start.elapsed().as_secs_f64()
    ));
    println!("{}", prepared.tree.display());
    Ok(())
}

/// The build cache as the flags and environment ask for it.
fn cache_policy(args: &BuildCacheArgs) -> CachePolicy {
    let remote = args
        .cache_url
        .as_deref()
        .filter(|url| !url.trim().is_empty())
        .map(|url| {
            let token = std::env::var(env_vars::WLMAKE_CACHE_TOKEN).ok();
            Remote::new(url.trim(), args.cache_push, token)
        });
    CachePolicy {
        read: !args.no_cache,
        write: true,
        remote,
    }
}

/// Cache flags of the commands that only compute identities: no store, no remote.
pub(super) const IDENTITY_ONLY: BuildCacheArgs = BuildCacheArgs {
    no_cache: true,
    cache_url: None,
    cache_push: false,
};

/// The build context of a plan on this machine: toolchain, profile, cache policy.
pub(super) fn context<'a>(
    session: &Session,
    repo: &'a Repository,
    plan: &'a Plan,
    jobs: Option<usize>,
    force: bool,
    cache: &BuildCacheArgs,
) -> Result<BuildContext<'a>> {
    let toolchain = plan.toolchain()?;
    let profile = ResolvedProfile::resolve(
        plan.profile,
        plan.recipe.profiles.get(&plan.profile),
        &toolchain.view.join("bin"),
    )?;
    let jobs = jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    Ok(BuildContext {
        repo,
        toolchain,
        cache: session.cache()?,
        fetch_options: session.fetch_options(),
        jobs,
        force,
        cache_policy: cache_policy(cache),
        profile,
        work_dir: plan.work_dir(),
        lib_root: plan.layout.lib_root(),
        output_dir: plan.output_dir(),
        plan,
    })
}

/// `wlmake identity`: the build cache key of a build, without building.
pub fn identity(session: &Session, target: &BuildTarget) -> Result<()> {
    let repo = session.repository()?;
    let plan = session.plan(&repo, target)?;
    let ctx = context(session, &repo, &plan, None, false, &IDENTITY_ONLY)?;
    let inputs = build::resolve_inputs(&ctx)
        .with_context(|| format!("cannot resolve the inputs of `{}`", ctx.plan.recipe.id))?;
    println!("{}", inputs.identity);
    Ok(())
}

/// Builds a recipe; a `[library]` recipe is built into its shared prefix (no outcome).
pub fn build(session: &Session, args: &BuildArgs) -> Result<Option<BuildOutcome>> {
    if args.container.is_some() && args.target.profile != Profile::Release {
        bail!(
            "`--container` builds the release profile only (the builder image has no binaryen yet); build `--profile {}` without it",
            args.target.profile.name()
        );
    }
    if let Some(engine) = &args.container {
        // The container's wlmake uses the mounted cache folder (store included) and the
        // same cache flags; the runtime that precompiles is this machine's.
        let outcome = super::release::build_in_container(session, args, engine.as_deref())?;
        if args.precompile {
            precompile_build(session, &outcome)?;
        }
        return Ok(Some(outcome));
    }
    if args.check {
        return check(session, args).map(|()| None);
    }
    let start = Instant::now();
    let repo = session.repository()?;
    let plan = session.plan(&repo, &args.target)?;
    let ctx = context(session, &repo, &plan, args.jobs, args.force, &args.cache)?;
    if ctx.plan.recipe.library.is_some() {
        if args.target.profile != Profile::Release {
            bail!(
                "`{}` is a library: libraries are built once, as release builds, into a prefix every build shares; `--profile {}` applies to the recipes that link it",
                ctx.plan.recipe.id,
                args.target.profile.name()
            );
        }
        let library = build::run_library(&ctx, &session.reporter).with_context(|| {
            format!(
                "cannot build `{}` for {}",
                ctx.plan.recipe.id, ctx.plan.runtime
            )
        })?;
        let verb = if library.rebuilt {
            "built"
        } else {
            "up to date:"
        };
        session.reporter.line(&format!(
            "{verb} {} (identity {}) in {:.1} s",
            ctx.plan.recipe.id,
            &library.identity[..16],
            start.elapsed().as_secs_f64()
        ));
        println!("{}", library.prefix.display());
        return Ok(None);
    }
    let outcome = build::run(&ctx, &session.reporter).with_context(|| {
        format!(
            "cannot build `{}` for {}",
            ctx.plan.recipe.id, ctx.plan.runtime
        )
    })?;
    let verb = match outcome.origin {
        Origin::Built => "built",
        Origin::UpToDate => "up to date:",
        Origin::LocalCache => "from the build cache:",
        Origin::RemoteCache => "from the remote build cache:",
    };
    session.reporter.line(&format!(
        "{verb} {} for {} in {:.1} s",
        ctx.plan.recipe.id,
        ctx.plan.runtime,
        start.elapsed().as_secs_f64()
    ));
    for (flag, count) in &outcome.manifest.warnings {
        session.reporter.line(&format!("warnings {flag}: {count}"));
    }
    let precompiled = if args.precompile {
        precompile_build(session, &outcome)?
    } else {
        Vec::new()
    };
    if args.json {
        let origin = match outcome.origin {
            Origin::Built => "built",
            Origin::UpToDate => "up-to-date",
            Origin::LocalCache => "build-cache",
            Origin::RemoteCache => "remote-build-cache",
        };
        let manifest = &outcome.manifest;
        let report = serde_json::json!({
            "recipe": manifest.recipe.id,
            "runtime": manifest.runtime,
            "identity": manifest.build_identity,
            "origin": origin,
            "output_dir": outcome.output_dir,
            "artifacts": manifest.artifacts.iter().map(|a| serde_json::json!({
                "name": a.name,
                "path": outcome.output_dir.join(&a.path),
                "size": a.size,
                "sha256": a.sha256,
            })).collect::<Vec<_>>(),
            "precompiled": precompiled.iter().map(|p| serde_json::json!({
                "artifact": p.artifact,
                "path": outcome.output_dir.join(&p.path),
                "size": p.size,
                "sha256": p.sha256,
                "runtime_version": p.runtime_version,
                "target": p.target,
            })).collect::<Vec<_>>(),
            "manifest": outcome.output_dir.join(crate::output::MANIFEST),
            "sbom": outcome.output_dir.join(crate::output::sbom::SBOM),
            "seconds": (start.elapsed().as_secs_f64() * 100.0).round() / 100.0,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("serializable")
        );
        return Ok(Some(outcome));
    }
    for artifact in &outcome.manifest.artifacts {
        println!(
            "{} ({} bytes, sha256 {})",
            outcome.output_dir.join(&artifact.path).display(),
            artifact.size,
            &artifact.sha256[..16]
        );
    }
    for compiled in &precompiled {
        println!(
            "{} ({} bytes, sha256 {}, {} for {})",
            outcome.output_dir.join(&compiled.path).display(),
            compiled.size,
            &compiled.sha256[..16],
            compiled.runtime_version,
            compiled.target
        );
    }
    Ok(Some(outcome))
}

/// `wlmake build --precompile` with the flavor's runtime on this machine.
fn precompile_build(session: &Session, outcome: &BuildOutcome) -> Result<Vec<Precompiled>> {
    let runtime = Runtime::find(outcome.manifest.runtime)
        .context("`--precompile` compiles with the flavor's runtime")?;
    Ok(precompiled::write_beside(
        &outcome.output_dir,
        &outcome.manifest,
        &runtime,
        session.cache()?.root(),
        &session.reporter,
    )?)
}

/// `wlmake build --check`: rebuilds the recipe in a fresh temporary folder and compares
/// every artifact with the published build ([`build::check`]).
fn check(session: &Session, args: &BuildArgs) -> Result<()> {
    let start = Instant::now();
    let repo = session.repository()?;
    let plan = session.plan(&repo, &args.target)?;
    let published_dir = plan.output_dir();
    let published = plan
        .built()
        .context("`--check` compares a rebuild with the published build")?;
    let ctx = context(session, &repo, &plan, args.jobs, true, &args.cache)?;
    let checks = build::check::rebuild_and_compare(ctx, &published, &session.reporter)?;
    let mut results = Vec::new();
    let mut differing = Vec::new();
    for check in &checks {
        if let Some(text) = &check.difference {
            differing.push(check.name.clone());
            if !args.json {
                println!("DIFFERS {} ({}): {text}", check.name, check.path);
            }
        } else if !args.json {
            println!(
                "identical {} ({}, sha256 {})",
                check.name,
                check.path,
                &check.published_sha256[..16]
            );
        }
        results.push(serde_json::json!({
            "name": check.name,
            "path": check.published_path,
            "identical": check.difference.is_none(),
            "published_sha256": check.published_sha256,
            "rebuilt_sha256": check.rebuilt_sha256,
            "difference": check.difference,
        }));
    }
    if args.json {
        let report = serde_json::json!({
            "recipe": published.recipe.id,
            "runtime": published.runtime,
            "identity": published.build_identity,
            "check": if differing.is_empty() { "identical" } else { "differs" },
            "output_dir": published_dir,
            "artifacts": results,
            "seconds": (start.elapsed().as_secs_f64() * 100.0).round() / 100.0,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("serializable")
        );
    }
    session.reporter.line(&format!(
        "checked {} for {} in {:.1} s",
        published.recipe.id,
        published.runtime,
        start.elapsed().as_secs_f64()
    ));
    if !differing.is_empty() {
        bail!(
            "the rebuild of {} for {} differs from the published build: {}",
            published.recipe.id,
            published.runtime,
            differing.join(", ")
        );
    }
    Ok(())
}
