//! `wlmake test RECIPE --suite upstream`: PHP's run-tests.php against the wasm build,
//! judged against `expected-failures/<id>-<runtime>.txt`.

use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::Session;
use crate::cli::{Suite, TestArgs};
use crate::output::Manifest;
use crate::reporter::Reporter;
use crate::runtime::Runtime;
use crate::suite::expected::{ExpectedFailures, Verdict, suggested_line};
use crate::suite::junit;
use crate::suite::results::{Counts, Status, TestRecord};
use crate::suite::{self, Driver, Layout, NativePhp, Plan, SuiteError};

/// Flags that mean nothing to the smoke tests are refused rather than ignored.
pub fn check_smoke_flags(args: &TestArgs) -> Result<()> {
    if args.suite == Suite::Smoke
        && (!args.only.is_empty()
            || args.jobs.is_some()
            || args.timeout.is_some()
            || args.junit.is_some())
    {
        bail!("--only, --jobs, --timeout and --junit apply to `--suite upstream` only");
    }
    Ok(())
}

pub fn upstream(session: &Session, args: &TestArgs) -> Result<()> {
    if args.filter.is_some() {
        bail!("--filter selects smoke tests; use --only with `--suite upstream`");
    }
    if args.json {
        bail!("--json reports smoke tests; `--suite upstream` writes JUnit XML with --junit");
    }
    let repo = session.repository()?;
    let (plan, manifest) = super::build::built(session, &repo, &args.target)?;
    let (recipe, dir) = (&plan.recipe, plan.output_dir());
    let runtime_name = plan.runtime;
    if let Some(suite) = &recipe.suite {
        return guest_upstream(session, args, &repo, &plan, &manifest, suite);
    }
    if recipe.language != "php" {
        return Err(SuiteError::NotPhp {
            id: recipe.id.0.clone(),
            language: recipe.language.clone(),
        }
        .into());
    }
    if !runtime_name.runs_upstream_suite() {
        return Err(SuiteError::UnsupportedRuntime {
            runtime: runtime_name,
        }
        .into());
    }
    let runtime = Runtime::find(runtime_name)?;
    let php = NativePhp::find()?;
    let timeout_program = crate::process::which("timeout").ok_or(SuiteError::NoTimeoutProgram)?;
    let list = ExpectedFailures::load(&ExpectedFailures::file_of(
        repo.root(),
        &recipe.id.0,
        runtime_name,
    ))?;

    // run-tests.php hands the PHP under test real paths (symbolic links resolved): the
    // preopened folders must be real paths too.
    let work_root = session.work_root(&repo);
    let work_root = std::fs::create_dir_all(&work_root)
        .and_then(|()| work_root.canonicalize())
        .with_context(|| format!("cannot create the work folder `{}`", work_root.display()))?;
    let layout = Layout::new(&work_root, &recipe.id.0, runtime_name);
    let _lock = layout.lock(&recipe.id.0, runtime_name)?;
    layout.clear_run_files()?;
    suite::prepare::tree(
        &repo,
        recipe,
        runtime_name,
        &layout,
        &session.cache()?,
        &session.fetch_options(),
        &session.reporter,
    )?;
    let plan = Plan {
        selections: suite::resolve_selections(&layout.tree(), &args.only)?,
        jobs: args
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .max(1),
        test_seconds: args.timeout.unwrap_or(suite::DEFAULT_TEST_SECONDS).max(1),
        run_seconds: Plan::run_seconds_from_env(),
    };
    let cgi = suite::prepare::executables(
        &session.reporter,
        recipe,
        &runtime,
        &dir,
        &manifest,
        &layout,
        &timeout_program,
        &plan,
        session.cache()?.root(),
    )?;
    let stale = list.missing_in(&layout.tree());
    if !stale.is_empty() {
        for entry in &stale {
            eprintln!(
                "{}:{}: no test `{}` in the source",
                list.file.display(),
                entry.line,
                entry.test
            );
        }
        return Err(SuiteError::StaleEntries {
            file: list.file.clone(),
            count: stale.len(),
        }
        .into());
    }
    let driver = Driver::inspect(&layout.driver())?;
    let command = suite::driver_command(&php, &layout, driver, &plan, cgi);
    session.reporter.line(&format!(
        "upstream suite of {} on {} ({}): run-tests.php driven by PHP {} ({}), {} job(s), {} s per test",
        recipe.id,
        runtime_name,
        runtime.version,
        php.version,
        php.binary.display(),
        if driver.parallel { plan.jobs } else { 1 },
        plan.test_seconds
    ));
    session.reporter.step("run-tests.php");
    let total = (!plan.selections.is_empty()).then(|| suite::count_tests(&plan.selections));
    let elapsed = suite::run_driver(&command, &layout, total, &session.reporter)?;
    let records = suite::collect(&layout)?;
    let verdict = list.compare(&records);

    if let Some(path) = &args.junit {
        junit::write_report(
            path,
            &format!("{} on {runtime_name}", recipe.id),
            elapsed,
            &records,
            &verdict,
            &list,
        )?;
    }
    print_report(&records, &verdict, &list, &layout, &plan, elapsed);
    if let Some(path) = &args.junit {
        println!("junit: {}", path.display());
    }
    if !verdict.is_clean() {
        return Err(SuiteError::regressions(&verdict, &list, repo.root()).into());
    }
    Ok(())
}

/// `[suite]`: the recipe's own test runner inside the wasm build, one run per test
/// (`--only NAME` picks tests), judged case by case against the expected failures.
fn guest_upstream(
    session: &Session,
    args: &TestArgs,
    repo: &crate::recipe::Repository,
    plan: &crate::plan::Plan,
    manifest: &Manifest,
    suite: &crate::recipe::GuestSuite,
) -> Result<()> {
    if args.jobs.is_some() {
        bail!("--jobs: the tests of a [suite] run one after the other");
    }
    let (recipe, dir) = (&plan.recipe, &plan.output_dir());
    let runtime_name = plan.runtime;
    let runtime = Runtime::find(runtime_name)?;
    let module = manifest
        .artifact_path(dir, &suite.artifact)
        .ok_or_else(|| SuiteError::NoArtifact(suite.artifact.clone()))?;
    manifest.verify(dir, &suite.artifact)?;
    let setting = crate::runtime::launch::run_setting(recipe, dir, manifest)?;
    let list = ExpectedFailures::load_with(
        &ExpectedFailures::file_of(repo.root(), &recipe.id.0, runtime_name),
        |test| {
            let module = test.split('.').nth(1).unwrap_or(test);
            (!suite.tests.iter().any(|t| t == module || t == test)).then(|| {
                format!(
                    "`{test}` is not a case of the suite's tests ({})",
                    suite.tests.join(", ")
                )
            })
        },
    )?;
    let selected: Vec<String> = if args.only.is_empty() {
        suite.tests.clone()
    } else {
        let only: Vec<String> = args.only.iter().map(|p| p.display().to_string()).collect();
        for name in &only {
            if !suite.tests.contains(name) {
                bail!(
                    "--only {name}: not one of the suite's tests ({})",
                    suite.tests.join(", ")
                );
            }
        }
        only
    };
    let mut suite = suite.clone();
    if let Some(seconds) = args.timeout {
        suite.timeout = seconds.max(1);
    }
    let layout = plan.layout.suite(&recipe.id, runtime_name);
    let _lock = layout.lock(&recipe.id.0, runtime_name)?;
    let scratch = layout.tmp();
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch)
        .with_context(|| format!("cannot create `{}`", scratch.display()))?;
    let log_path = layout.log();
    session.reporter.line(&format!(
        "upstream suite of {} on {} ({}): {} test(s) inside the wasm build, {} s each",
        recipe.id,
        runtime_name,
        runtime.version,
        selected.len(),
        suite.timeout
    ));
    let start = std::time::Instant::now();
    let mut log = String::new();
    let mut records = Vec::new();
    for test in &selected {
        session.reporter.step(test);
        let run = suite::guest::run_test(&runtime, &module, &suite, &setting, &scratch, test)?;
        log.push_str(&format!(
            "==> {} (exit {:?}{}, {:.1} s)\n{}\n",
            run.test,
            run.exit,
            if run.timed_out { ", stopped" } else { "" },
            run.seconds,
            run.output
        ));
        let failed = run
            .records
            .iter()
            .filter(|r| r.status == Status::Failed)
            .count();
        session.reporter.line(&format!(
            "{test}: {} case(s), {failed} failed, {:.1} s",
            run.records.len(),
            run.seconds
        ));
        records.extend(run.records);
    }
    std::fs::write(&log_path, &log)
        .with_context(|| format!("cannot write `{}`", log_path.display()))?;
    let elapsed = start.elapsed();
    let verdict = list.compare(&records);
    if let Some(path) = &args.junit {
        junit::write_report(
            path,
            &format!("{} on {runtime_name}", recipe.id),
            elapsed,
            &records,
            &verdict,
            &list,
        )?;
    }
    for record in &verdict.unexpected {
        println!("FAIL {} [{}]", record.name, record.raw);
    }
    for (record, entry) in &verdict.now_passing {
        println!(
            "NOW PASSING {} (listed on line {}: {})",
            record.name, entry.line, entry.reason
        );
    }
    if !verdict.unexpected.is_empty() {
        println!(
            "\nIf these are known limits, add them to {} with their reason:",
            list.file.display()
        );
        for record in &verdict.unexpected {
            println!("    {}", suggested_line(record, suite.timeout));
        }
    }
    let counts = Counts::of(&records);
    println!(
        "\n{} passed, {} failed, {} expected failures, {} skipped in {:.0} s",
        counts.passed,
        verdict.unexpected.len(),
        verdict.expected.len(),
        counts.skipped,
        elapsed.as_secs_f64()
    );
    println!("output of every run: {}", log_path.display());
    if !verdict.is_clean() {
        return Err(SuiteError::regressions(&verdict, &list, repo.root()).into());
    }
    Ok(())
}

fn print_report(
    records: &[TestRecord],
    verdict: &Verdict<'_>,
    list: &ExpectedFailures,
    layout: &Layout,
    plan: &Plan,
    elapsed: Duration,
) {
    for record in &verdict.unexpected {
        let timed_out = if record.timed_out {
            format!(" (stopped at the {} s limit)", plan.test_seconds)
        } else {
            String::new()
        };
        println!("FAIL {} [{}]{timed_out}", record.name, record.raw);
        let diff = record.diff_path();
        if diff.is_file() {
            println!("    diff: {}", diff.display());
        }
    }
    for (record, entry) in &verdict.now_passing {
        println!(
            "NOW PASSING {} (listed on line {}: {})",
            record.name, entry.line, entry.reason
        );
    }
    // Tests outside the source tree (absolute names) have no place in the list.
    let listable: Vec<_> = verdict
        .unexpected
        .iter()
        .filter(|record| !record.name.starts_with('/'))
        .collect();
    if !listable.is_empty() {
        println!(
            "\nIf these are known limits, add them to {} with their reason:",
            list.file.display()
        );
        for record in listable {
            println!("    {}", suggested_line(record, plan.test_seconds));
        }
    }
    let counts = Counts::of(records);
    let timed_out = records.iter().filter(|r| r.timed_out).count();
    println!(
        "\n{} passed, {} failed, {} expected failures, {} skipped{} in {:.0} s",
        counts.passed,
        verdict.unexpected.len(),
        verdict.expected.len(),
        counts.skipped,
        if counts.upstream_xfail > 0 {
            format!(", {} xfail (upstream)", counts.upstream_xfail)
        } else {
            String::new()
        },
        elapsed.as_secs_f64()
    );
    if !verdict.flaky_passed.is_empty() {
        println!(
            "{} of the passes are tests listed as flaky",
            verdict.flaky_passed.len()
        );
    }
    println!(
        "pass rate {:.1}% of the {} tests that ran ({} stopped at the {} s limit)",
        counts.pass_rate(),
        counts.ran(),
        timed_out,
        plan.test_seconds
    );
    println!(
        "results: {}\nrun-tests.php output: {}",
        layout.results().display(),
        layout.log().display()
    );
}
