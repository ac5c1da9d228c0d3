//! What a run of the upstream suite needs before run-tests.php starts: a fresh patched
//! source tree and, per artifact, a precompiled module with its wrapper script.

use std::path::Path;

use anyhow::{Context, Result};

use super::wrapper::Wrapper;
use super::{Layout, Plan, SuiteError};
use crate::output::Manifest;
use crate::patch;
use crate::recipe::{Recipe, Repository};
use crate::reporter::Reporter;
use crate::runtime::Kind;
use crate::runtime::{Runtime, precompile};
use crate::source::{self, Cache, FetchOptions};

/// A fresh copy of the recipe's source with its patches: the tree the build compiled,
/// without its build products. run-tests.php writes beside the tests, so each run
/// starts clean.
pub fn tree(
    repo: &Repository,
    recipe: &Recipe,
    runtime: Kind,
    layout: &Layout,
    cache: &Cache,
    options: &FetchOptions,
    reporter: &dyn Reporter,
) -> Result<()> {
    reporter.step("source");
    let tree = layout.tree();
    source::prepare(&recipe.source, cache, options, &tree, reporter)
        .with_context(|| format!("cannot prepare the source of `{}` for its tests", recipe.id))?;
    let log = layout.step_log("patch");
    for patch in patch::series(repo.root(), recipe, runtime)? {
        patch::apply(&tree, &patch, &log)?;
    }
    Ok(())
}

/// Precompiles the CLI (and CGI, when built) artifacts and writes their wrappers.
/// Returns whether there is a CGI wrapper.
#[allow(clippy::too_many_arguments)]
pub fn executables(
    reporter: &dyn Reporter,
    recipe: &Recipe,
    runtime: &Runtime,
    output_dir: &Path,
    manifest: &Manifest,
    layout: &Layout,
    timeout_program: &Path,
    plan: &Plan,
    cache_root: &Path,
) -> Result<bool> {
    let preopens = super::preopens(layout, &plan.selections);
    let mut cgi = false;
    for name in ["php", "php-cgi"] {
        let Some(artifact) = manifest.artifacts.iter().find(|a| a.name == name) else {
            if name == "php" {
                return Err(SuiteError::NoArtifact(name.into()).into());
            }
            continue;
        };
        reporter.step(&format!("precompile {name}"));
        let module = precompile::cached(
            cache_root,
            runtime,
            &output_dir.join(&artifact.path),
            &artifact.sha256,
            reporter,
        )?;
        let wrapper = Wrapper {
            label: format!("{name} of {} on {}", recipe.id, runtime.kind.name()),
            timeout_program: timeout_program.to_path_buf(),
            wasmtime: runtime.binary.clone(),
            module,
            preopens: preopens.clone(),
            limit_seconds: plan.test_seconds,
            timeouts_log: layout.timeouts(),
        };
        super::write_script(&layout.wrapper(name), &wrapper.script())?;
        cgi |= name == "php-cgi";
    }
    Ok(cgi)
}
