//! `wlmake test RECIPE --suite upstream`: PHP's run-tests.php (or the recipe's own
//! `[suite]`) against the wasm build, judged against `expected-failures/<id>-<runtime>.txt`.
//! The run lives in [`crate::suite`]; here it is parsed, called and printed.

use anyhow::{Result, bail};

use super::Session;
use crate::cli::{Suite, TestArgs};
use crate::suite::run::Request;
use crate::suite::{SuiteError, guest, junit, report, run_tests};

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
    let (plan, manifest) = super::run::built(session, &repo, &args.target)?;
    let request = Request {
        repo: &repo,
        plan: &plan,
        manifest: &manifest,
        only: &args.only,
        jobs: args.jobs,
        timeout: args.timeout,
    };
    let outcome = match &plan.recipe.suite {
        Some(suite) => guest::run_suite(&request, suite, &session.reporter)?,
        None => {
            let tools = run_tests::Tools::find(&plan)?;
            let cache = session.cache()?;
            run_tests::run(
                &request,
                &tools,
                &cache,
                &session.fetch_options(),
                &session.reporter,
            )
            .inspect_err(print_stale_entries)?
        }
    };
    let verdict = outcome.verdict();
    if let Some(path) = &args.junit {
        junit::write_report(
            path,
            &outcome.name,
            outcome.elapsed,
            &outcome.records,
            &verdict,
            &outcome.list,
        )?;
    }
    print!(
        "{}",
        report::text(&outcome, &verdict, args.junit.as_deref())
    );
    if !verdict.is_clean() {
        return Err(SuiteError::regressions(&verdict, &outcome.list, repo.root()).into());
    }
    Ok(())
}

/// The listed tests the source lacks, one `file:line:` line each, before the error.
fn print_stale_entries(error: &anyhow::Error) {
    if let Some(SuiteError::StaleEntries { file, missing }) = error.downcast_ref() {
        for (line, test) in missing {
            eprintln!("{}:{line}: no test `{test}` in the source", file.display());
        }
    }
}
