//! A run of PHP's run-tests.php against the wasm build, from the tools it needs to the
//! records it leaves: a fresh patched tree, the precompiled artifacts behind their
//! wrappers, then the driver under its limits.

use std::path::PathBuf;

use anyhow::{Context, Result};

use super::expected::ExpectedFailures;
use super::run::{Outcome, Request, Runner};
use super::{Driver, Layout, NativePhp, Plan, SuiteError, prepare};
use crate::reporter::Reporter;
use crate::runtime::Runtime;
use crate::source::{Cache, FetchOptions};

/// What a run needs on this machine: the runtime, the native PHP that drives
/// run-tests.php, and coreutils' `timeout` for the wrappers.
#[derive(Debug, Clone)]
pub struct Tools {
    pub runtime: Runtime,
    pub php: NativePhp,
    pub timeout_program: PathBuf,
}

impl Tools {
    /// The tools for the plan's recipe and runtime; refuses a recipe that is not PHP and
    /// a runtime the suite does not run on.
    pub fn find(plan: &crate::plan::Plan) -> Result<Self> {
        let recipe = &plan.recipe;
        if recipe.language != "php" {
            return Err(SuiteError::NotPhp {
                id: recipe.id.0.clone(),
                language: recipe.language.clone(),
            }
            .into());
        }
        if !plan.runtime.runs_upstream_suite() {
            return Err(SuiteError::UnsupportedRuntime {
                runtime: plan.runtime,
            }
            .into());
        }
        Ok(Self {
            runtime: Runtime::find(plan.runtime)?,
            php: NativePhp::find()?,
            timeout_program: crate::process::which("timeout")
                .ok_or(SuiteError::NoTimeoutProgram)?,
        })
    }
}

/// Runs run-tests.php on the request's build in `<work>/suite/<id>/<runtime>/`.
pub fn run(
    request: &Request<'_>,
    tools: &Tools,
    cache: &Cache,
    options: &FetchOptions,
    reporter: &dyn Reporter,
) -> Result<Outcome> {
    let plan = request.plan;
    let (recipe, runtime_name) = (&plan.recipe, plan.runtime);
    let list = ExpectedFailures::load(&ExpectedFailures::file_of(
        request.repo.root(),
        &recipe.id.0,
        runtime_name,
    ))?;

    // run-tests.php hands the PHP under test real paths (symbolic links resolved): the
    // preopened folders must be real paths too.
    let work_root = plan.layout.work_root();
    let work_root = std::fs::create_dir_all(work_root)
        .and_then(|()| work_root.canonicalize())
        .with_context(|| format!("cannot create the work folder `{}`", work_root.display()))?;
    let layout = Layout::new(&work_root, &recipe.id.0, runtime_name);
    let lock = layout.lock(&recipe.id.0, runtime_name)?;
    layout.clear_run_files()?;
    prepare::tree(
        request.repo,
        recipe,
        runtime_name,
        &layout,
        cache,
        options,
        reporter,
    )?;
    let run = Plan {
        selections: super::resolve_selections(&layout.tree(), request.only)?,
        jobs: request
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .max(1),
        test_seconds: request
            .timeout
            .unwrap_or(super::DEFAULT_TEST_SECONDS)
            .max(1),
        run_seconds: Plan::run_seconds_from_env(),
    };
    let cgi = prepare::executables(
        reporter,
        recipe,
        &tools.runtime,
        &plan.output_dir(),
        request.manifest,
        &layout,
        &tools.timeout_program,
        &run,
        cache.root(),
    )?;
    let stale = list.missing_in(&layout.tree());
    if !stale.is_empty() {
        return Err(SuiteError::StaleEntries {
            file: list.file.clone(),
            missing: stale
                .iter()
                .map(|entry| (entry.line, entry.test.clone()))
                .collect(),
        }
        .into());
    }
    let driver = Driver::inspect(&layout.driver())?;
    let command = super::driver_command(&tools.php, &layout, driver, &run, cgi);
    reporter.info(&format!(
        "upstream suite of {} on {} ({}): run-tests.php driven by PHP {} ({}), {} job(s), {} s per test",
        recipe.id,
        runtime_name,
        tools.runtime.version,
        tools.php.version,
        tools.php.binary.display(),
        if driver.parallel { run.jobs } else { 1 },
        run.test_seconds
    ));
    reporter.step("run-tests.php");
    let total = (!run.selections.is_empty()).then(|| super::count_tests(&run.selections));
    let elapsed = super::run_driver(&command, &layout, total, reporter)?;
    let records = super::collect(&layout)?;
    Ok(Outcome {
        name: format!("{} on {runtime_name}", recipe.id),
        records,
        list,
        elapsed,
        test_seconds: run.test_seconds,
        runner: Runner::RunTests {
            results: layout.results(),
            log: layout.log(),
        },
        _lock: lock,
    })
}
