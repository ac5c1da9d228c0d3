//! `wlmake run` and `wlmake test` (the smoke tests; `--suite upstream` is in `suite`):
//! both work on a published build.

use anyhow::{Result, bail};

use super::Session;
use crate::cli::{BuildTarget, RunArgs, TestArgs};
use crate::error::TestsFailed;
use crate::output::Manifest;
use crate::plan::Plan;
use crate::recipe::Repository;
use crate::runtime::Runtime;
use crate::runtime::launch::{self, RunRequest};

/// The plan of a target and the manifest of its published build (an error saying how
/// to make one when there is none).
pub(super) fn built(
    session: &Session,
    repo: &Repository,
    target: &BuildTarget,
) -> Result<(Plan, Manifest)> {
    let plan = session.plan(repo, target)?;
    let manifest = plan.built()?;
    Ok((plan, manifest))
}

pub fn run(session: &Session, args: &RunArgs) -> Result<i32> {
    let repo = session.repository()?;
    let (plan, manifest) = built(session, &repo, &args.target)?;
    let request = RunRequest {
        artifact: args.artifact.as_deref(),
        args: &args.args,
        dirs: &args.dirs,
        env: &args.env,
        precompiled: args.precompiled,
    };
    let run = launch::prepare_run(
        &plan,
        &manifest,
        request,
        session.cache()?.root(),
        &session.reporter,
    )?;
    Err(run
        .runtime
        .command(&run.module, &run.invocation)
        .exec()
        .into())
}

pub fn test(session: &Session, args: &TestArgs) -> Result<()> {
    if args.suite == crate::cli::Suite::Upstream {
        return super::suite::upstream(session, args);
    }
    super::suite::check_smoke_flags(args)?;
    let repo = session.repository()?;
    let (plan, manifest) = built(session, &repo, &args.target)?;
    let recipe = &plan.recipe;
    let runtime = Runtime::find(plan.runtime)?;
    session.reporter.line(&format!(
        "testing {} on {} ({})",
        recipe.id, args.target.runtime, runtime.version
    ));
    let mut results = Vec::new();
    let (passed, failed) = launch::smoke_tests(
        &plan,
        &manifest,
        &runtime,
        repo.root(),
        args.filter.as_deref(),
        |test, result| {
            if args.json {
                results.push(serde_json::json!({
                    "name": result.name,
                    "artifact": test.artifact,
                    "passed": result.passed,
                    "seconds": (result.elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
                    "reason": (!result.passed).then_some(&result.reason),
                }));
            } else if result.passed {
                println!(
                    "PASS {} ({:.2} s)",
                    result.name,
                    result.elapsed.as_secs_f64()
                );
            } else {
                println!("FAIL {}\n{}", result.name, indent(&result.reason));
            }
        },
    )?;
    if args.json {
        let report = serde_json::json!({
            "recipe": recipe.id.0,
            "runtime": args.target.runtime,
            "runtime_version": runtime.version,
            "passed": passed,
            "failed": failed,
            "tests": results,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("serializable")
        );
    } else {
        println!("{passed} passed, {failed} failed");
    }
    if failed > 0 {
        return Err(TestsFailed(format!("{failed} smoke test(s) of {} failed", recipe.id)).into());
    }
    if passed == 0 {
        bail!("no smoke test matched");
    }
    Ok(())
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
