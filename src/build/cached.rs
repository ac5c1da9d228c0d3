//! The build cache around a build: a finished build is taken from the local store, else
//! from the remote, before anything is built; a new build goes into the store (and to
//! the remote when pushing). A cache problem is a warning, never a failed build.

use std::path::PathBuf;

use anyhow::{Context, Result};

use super::{BuildContext, BuildOutcome, Origin};
use crate::output::{self, MANIFEST, Manifest};
use crate::reporter::Reporter;
use crate::store::{Entry, Lookup, Store, describe};

fn short(identity: &str) -> &str {
    identity.get(..16).unwrap_or(identity)
}

/// The build from the local store or the remote, published into the output folder;
/// `None` when neither has it (or the cache is not to be read).
pub(super) fn restore(
    ctx: &BuildContext<'_>,
    identity: &str,
    reporter: &dyn Reporter,
) -> Result<Option<BuildOutcome>> {
    if !ctx.cache_policy.read || ctx.force {
        return Ok(None);
    }
    let store = Store::new(ctx.cache.root());
    match store.lookup(identity) {
        Ok(Lookup::Hit(entry)) => {
            if let Some(manifest) = publish_entry(ctx, &store, &entry, identity, reporter)? {
                reporter.info(&format!(
                    "{} for {} from the build cache ({})",
                    ctx.plan.recipe.id,
                    ctx.plan.runtime,
                    short(identity)
                ));
                push(ctx, &entry, reporter);
                return Ok(Some(outcome(ctx, manifest, Origin::LocalCache)));
            }
        }
        Ok(Lookup::Removed { reason }) => reporter.warn(&format!(
            "the build cache entry {} did not match its entry.json ({reason}): removed it; \
             building instead",
            short(identity)
        )),
        Ok(Lookup::Miss) => {}
        Err(error) => reporter.warn(&format!(
            "cannot read the build cache: {}; building instead",
            describe(&error)
        )),
    }
    let Some(remote) = &ctx.cache_policy.remote else {
        return Ok(None);
    };
    reporter.step("remote cache");
    match remote.fetch(&store, identity) {
        Ok(Some(entry)) => {
            if let Some(manifest) = publish_entry(ctx, &store, &entry, identity, reporter)? {
                reporter.info(&format!(
                    "{} for {} from the remote build cache {} ({})",
                    ctx.plan.recipe.id,
                    ctx.plan.runtime,
                    remote.base(),
                    short(identity)
                ));
                return Ok(Some(outcome(ctx, manifest, Origin::RemoteCache)));
            }
        }
        Ok(None) => reporter.info(&format!(
            "not in the remote build cache {} ({}): building",
            remote.base(),
            short(identity)
        )),
        Err(error) => reporter.warn(&format!("{}; building locally", describe(&error))),
    }
    Ok(None)
}

fn outcome(ctx: &BuildContext<'_>, manifest: Manifest, origin: Origin) -> BuildOutcome {
    BuildOutcome {
        manifest,
        output_dir: ctx.output_dir.clone(),
        rebuilt: false,
        origin,
    }
}

/// Publishes a verified entry into the output folder. An entry whose manifest does not
/// describe this build is removed (`Ok(None)`: build instead); a failure to write the
/// output is an error, as for a build.
fn publish_entry(
    ctx: &BuildContext<'_>,
    store: &Store,
    entry: &Entry,
    identity: &str,
    reporter: &dyn Reporter,
) -> Result<Option<Manifest>> {
    let manifest =
        std::fs::read_to_string(entry.path(MANIFEST))
            .ok()
            .and_then(|text| serde_json::from_str::<Manifest>(&text).ok())
            .filter(|m| {
                m.build_identity == identity
                    && m.runtime == ctx.plan.runtime
                    && m.recipe.id == ctx.plan.recipe.id.0
                    && m.artifacts.iter().all(|a| {
                        let folder = format!("{}/", a.path);
                        entry.index.files.iter().any(|f| {
                            f.path == a.path || (a.is_folder() && f.path.starts_with(&folder))
                        })
                    })
            });
    let Some(manifest) = manifest else {
        reporter.warn(&format!(
            "the build cache entry {} holds no manifest of this build: removed it; building \
             instead",
            short(identity)
        ));
        let _ = store.remove(identity);
        return Ok(None);
    };
    let artifacts: Vec<(String, PathBuf)> = manifest
        .artifacts
        .iter()
        .map(|a| (a.name.clone(), entry.path(&a.path)))
        .collect();
    let published = output::publish(&ctx.output_dir, &artifacts, manifest)
        .context("cannot publish the build from the build cache")?;
    Ok(Some(published))
}

/// Puts a published build into the local store, then pushes it when asked.
pub(super) fn save(ctx: &BuildContext<'_>, manifest: &Manifest, reporter: &dyn Reporter) {
    if !ctx.cache_policy.write {
        return;
    }
    if let Some(entry) = insert(ctx, manifest, reporter) {
        push(ctx, &entry, reporter);
    }
}

/// An up-to-date output is pushed too when pushing is asked for (a release job that
/// built earlier shares its build).
pub(super) fn push_up_to_date(
    ctx: &BuildContext<'_>,
    manifest: &Manifest,
    reporter: &dyn Reporter,
) {
    if !ctx.cache_policy.remote.as_ref().is_some_and(|r| r.push) {
        return;
    }
    let store = Store::new(ctx.cache.root());
    let entry = match store.lookup(&manifest.build_identity) {
        Ok(Lookup::Hit(entry)) => Some(entry),
        _ => insert(ctx, manifest, reporter),
    };
    if let Some(entry) = entry {
        push(ctx, &entry, reporter);
    }
}

fn insert(ctx: &BuildContext<'_>, manifest: &Manifest, reporter: &dyn Reporter) -> Option<Entry> {
    let store = Store::new(ctx.cache.root());
    let mut files = vec![MANIFEST.to_string()];
    for artifact in &manifest.artifacts {
        if artifact.is_folder() {
            // A folder artifact is stored file by file.
            let listed = crate::files::folder_files(&ctx.output_dir.join(&artifact.path));
            match listed {
                Ok(listed) => files.extend(listed.iter().map(|f| format!("{}/{f}", artifact.path))),
                Err(error) => {
                    reporter.warn(&format!(
                        "cannot store the build in the build cache: cannot list folder artifact `{}`: {error}",
                        artifact.name
                    ));
                    return None;
                }
            }
        } else {
            files.push(artifact.path.clone());
        }
    }
    match store.insert(
        &manifest.build_identity,
        &manifest.recipe.id,
        manifest.runtime.name(),
        &ctx.output_dir,
        &files,
    ) {
        Ok(entry) => {
            reporter.info(&format!(
                "stored in the build cache as {}",
                short(&manifest.build_identity)
            ));
            Some(entry)
        }
        Err(error) => {
            reporter.warn(&format!(
                "cannot store the build in the build cache: {} (the build is published in {})",
                describe(&error),
                ctx.output_dir.display()
            ));
            None
        }
    }
}

fn push(ctx: &BuildContext<'_>, entry: &Entry, reporter: &dyn Reporter) {
    let Some(remote) = ctx.cache_policy.remote.as_ref().filter(|r| r.push) else {
        return;
    };
    let identity = short(&entry.index.identity);
    match remote.push(entry) {
        Ok(true) => reporter.info(&format!(
            "pushed {identity} to the remote build cache {}",
            remote.base()
        )),
        Ok(false) => reporter.info(&format!(
            "the remote build cache {} has {identity} already",
            remote.base()
        )),
        Err(error) => reporter.warn(&format!(
            "cannot push {identity} to the remote build cache: {}",
            describe(&error)
        )),
    }
}
