//! Running a published build: the module, the folders and variables every run gets,
//! each checked against the build's manifest. `wlmake run` and `wlmake test` parse
//! their flags, call these and render the results.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::{Invocation, Preopen, RunSetting, Runtime, TestResult, parse_env, precompile};
use crate::output::Manifest;
use crate::output::precompiled::{self, Lookup};
use crate::plan::Plan;
use crate::recipe::{Recipe, SmokeTest};
use crate::reporter::Reporter;

/// What `wlmake run` asks for.
#[derive(Debug, Clone, Copy)]
pub struct RunRequest<'a> {
    /// The artifact to run (default: the build's first).
    pub artifact: Option<&'a str>,
    /// The program's arguments.
    pub args: &'a [String],
    /// `HOST[::GUEST]` folders to mount; none: the current folder as `/`.
    pub dirs: &'a [String],
    /// Guest variables, `NAME=VALUE`.
    pub env: &'a [String],
    /// Run a precompiled form, compiled into the cache when the build has none.
    pub precompiled: bool,
}

/// A run ready to start: the runtime found on this machine, the module it loads and
/// everything else it gets.
pub struct PreparedRun {
    pub runtime: Runtime,
    pub module: PathBuf,
    pub invocation: Invocation,
}

/// Checks the artifact against `manifest` (the plan's published build), finds the
/// runtime and assembles the run: the user's folders, then the recipe's; a server
/// run's listening socket and document root; the build's own precompiled module while
/// it matches, or one compiled into the cache with `precompiled`.
pub fn prepare_run(
    plan: &Plan,
    manifest: &Manifest,
    request: RunRequest<'_>,
    cache_root: &Path,
    reporter: &dyn Reporter,
) -> Result<PreparedRun> {
    let (recipe, dir) = (&plan.recipe, plan.output_dir());
    let name = request
        .artifact
        .map(str::to_string)
        .or_else(|| manifest.artifacts.first().map(|a| a.name.clone()))
        .context("the build has no artifacts")?;
    let module = manifest.artifact_path(&dir, &name).with_context(|| {
        let names: Vec<_> = manifest.artifacts.iter().map(|a| a.name.as_str()).collect();
        format!("no artifact `{name}` (artifacts: {})", names.join(", "))
    })?;
    // A changed artifact is refused: it is not what the manifest vouches for.
    verify_artifact(&dir, manifest, &name)?;
    let setting = run_setting(recipe, &dir, manifest)?;
    let runtime = Runtime::find(plan.runtime)?;
    let mut preopens: Vec<Preopen> = request.dirs.iter().map(|d| Preopen::parse(d)).collect();
    if preopens.is_empty() {
        // Relative paths resolve against `/` in WASI: make the current folder that root.
        let cwd = std::env::current_dir().context("cannot read the current folder")?;
        preopens.push(Preopen {
            host: cwd,
            guest: "/".into(),
        });
    }
    // A server run: the runtime may have to open the listening socket, and an
    // absolute document root must be visible in the guest at the same path.
    let server = recipe.server.as_ref().filter(|s| s.artifact == name);
    let listen = server.and_then(|s| value_after(request.args, &s.listen_flag));
    if listen.is_some() {
        runtime.check_server_support()?;
    }
    let docroot = server
        .and_then(|s| s.docroot_flag.as_deref())
        .and_then(|flag| value_after(request.args, flag));
    if let Some(docroot) = docroot.filter(|d| Path::new(d).is_absolute())
        && request.dirs.is_empty()
    {
        preopens.push(Preopen {
            host: docroot.clone().into(),
            guest: docroot,
        });
    }
    let sha256 = manifest
        .artifacts
        .iter()
        .find(|a| a.name == name)
        .map(|a| a.sha256.clone())
        .expect("a verified artifact is in the manifest");
    // The build's own precompiled form (`build --precompile`) while it matches; else,
    // with `--precompiled`, one compiled into the cache.
    let own = match precompiled::lookup(&dir, &name, &sha256, runtime.kind, &runtime.version)? {
        Lookup::Ready(path) => {
            tracing::debug!(module = %path.display(), "running the build's precompiled artifact");
            Some(path)
        }
        Lookup::Stale(why) => {
            let fallback = if request.precompiled {
                "compiling it into the cache instead"
            } else {
                "running the `.wasm` instead"
            };
            reporter.warn(&format!(
                "{why}: {fallback}; `wlmake build {} --runtime {} --precompile` makes it again",
                recipe.id, plan.runtime
            ));
            None
        }
        Lookup::Absent => None,
    };
    let (module, runtime_args) = match own {
        Some(compiled) => (compiled, runtime.precompiled_args()),
        None if request.precompiled => (
            precompile::cached(cache_root, &runtime, &module, &sha256, reporter)?,
            runtime.precompiled_args(),
        ),
        None => (module, Vec::new()),
    };
    // The recipe's folders (a standard library) are always mounted, after the user's.
    preopens.extend(setting.mounts);
    let mut env = setting.env;
    env.extend(parse_env(request.env)?);
    let invocation = Invocation {
        runtime_args,
        args: request.args.to_vec(),
        env,
        preopens,
        listen,
        ..Invocation::default()
    };
    Ok(PreparedRun {
        runtime,
        module,
        invocation,
    })
}

/// Runs the recipe's smoke tests whose name contains `filter` (all without one), each
/// artifact checked against the manifest first; `on_result` sees each result as it
/// comes. Returns how many passed and failed.
pub fn smoke_tests(
    plan: &Plan,
    manifest: &Manifest,
    runtime: &Runtime,
    repo_root: &Path,
    filter: Option<&str>,
    mut on_result: impl FnMut(&SmokeTest, &TestResult),
) -> Result<(usize, usize)> {
    let (recipe, dir) = (&plan.recipe, plan.output_dir());
    let setting = run_setting(recipe, &dir, manifest)?;
    let (mut passed, mut failed) = (0, 0);
    for test in &recipe.tests {
        if filter.is_some_and(|f| !test.name.contains(f)) {
            continue;
        }
        let module = manifest
            .artifact_path(&dir, &test.artifact)
            .with_context(|| {
                format!(
                    "test `{}`: the build has no artifact `{}`",
                    test.name, test.artifact
                )
            })?;
        verify_artifact(&dir, manifest, &test.artifact)?;
        let result = super::run_smoke_test(runtime, &module, repo_root, test, &setting)?;
        if result.passed {
            passed += 1;
        } else {
            failed += 1;
        }
        on_result(test, &result);
    }
    Ok((passed, failed))
}

pub fn run_setting(recipe: &Recipe, dir: &Path, manifest: &Manifest) -> Result<RunSetting> {
    let mut mounts = Vec::new();
    for spec in recipe.artifacts.iter().filter(|a| a.mount.is_some()) {
        let mount = spec.mount.as_deref().unwrap_or_default();
        let host = manifest.artifact_path(dir, &spec.name).with_context(|| {
            format!(
                "the build in `{}` has no folder `{}`, which every run mounts at `{mount}`: rebuild it with `wlmake build {} --runtime {}`",
                dir.display(),
                spec.name,
                recipe.id,
                manifest.runtime
            )
        })?;
        if !host.exists() {
            bail!(
                "the build's folder `{}` (`{}`) is missing: every run mounts it at `{mount}`; `wlmake build {} --runtime {}` restores it",
                spec.name,
                host.display(),
                recipe.id,
                manifest.runtime
            );
        }
        verify_artifact(dir, manifest, &spec.name).with_context(|| {
            format!(
                "folder `{}` is mounted at `{mount}` for every run",
                spec.name
            )
        })?;
        mounts.push(Preopen {
            host,
            guest: mount.to_string(),
        });
    }
    Ok(RunSetting {
        mounts,
        env: recipe.run_env.clone(),
    })
}

/// Checks an artifact against the manifest read before. A build that published a new
/// set in between (one atomic folder exchange) is no tampering: then the artifact must
/// match the new manifest.
pub fn verify_artifact(dir: &Path, manifest: &Manifest, name: &str) -> Result<()> {
    let Err(error) = manifest.verify(dir, name) else {
        return Ok(());
    };
    match Manifest::load(dir)? {
        Some(current) if &current != manifest => Ok(current.verify(dir, name)?),
        _ => Err(error.into()),
    }
}

/// The value of `flag` in `args`: the next argument, or the rest of a joined `-Sx`.
fn value_after(args: &[String], flag: &str) -> Option<String> {
    args.iter().enumerate().find_map(|(index, arg)| {
        if arg == flag {
            args.get(index + 1).cloned()
        } else {
            arg.strip_prefix(flag)
                .filter(|rest| !rest.is_empty() && flag.len() == 2)
                .map(str::to_string)
        }
    })
}
