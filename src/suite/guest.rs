//! A suite that runs inside the wasm build (`[suite]` in the recipe): CPython's
//! `python -m test TEST` is such a runner. Each listed test runs once as
//! `ARTIFACT ARGS TEST` on the runtime, with the recipe's folders mounted and a scratch
//! folder as the guest's `/`; every output line matching the recipe's `case-pattern` is
//! one test case (`name`, `status`). A run that fails without a failing case (a crash, a
//! time-out, an import error) counts as a failure of the test itself.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use regex::Regex;

use super::SuiteError;
use super::expected::ExpectedFailures;
use super::results::{Status, TestRecord};
use super::run::{Outcome, Request, Runner};
use crate::process::ProcessError;
use crate::recipe::GuestSuite;
use crate::reporter::Reporter;
use crate::runtime::{Invocation, Preopen, RunSetting, Runtime};

/// Runs the request's tests of `suite` (all of them, or the `--only` ones) one after
/// the other in `<work>/suite/<id>/<runtime>/`, each with its own time limit.
pub fn run_suite(
    request: &Request<'_>,
    suite: &GuestSuite,
    reporter: &dyn Reporter,
) -> Result<Outcome> {
    if request.jobs.is_some() {
        bail!("--jobs: the tests of a [suite] run one after the other");
    }
    let (plan, manifest) = (request.plan, request.manifest);
    let (recipe, dir) = (&plan.recipe, &plan.output_dir());
    let runtime_name = plan.runtime;
    let runtime = Runtime::find(runtime_name)?;
    let module = manifest
        .artifact_path(dir, &suite.artifact)
        .ok_or_else(|| SuiteError::NoArtifact(suite.artifact.clone()))?;
    manifest.verify(dir, &suite.artifact)?;
    let setting = crate::runtime::launch::run_setting(recipe, dir, manifest)?;
    let list = ExpectedFailures::load_with(
        &ExpectedFailures::file_of(request.repo.root(), &recipe.id.0, runtime_name),
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
    let selected: Vec<String> = if request.only.is_empty() {
        suite.tests.clone()
    } else {
        let only: Vec<String> = request
            .only
            .iter()
            .map(|p| p.display().to_string())
            .collect();
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
    if let Some(seconds) = request.timeout {
        suite.timeout = seconds.max(1);
    }
    let layout = plan.layout.suite(&recipe.id, runtime_name);
    let lock = layout.lock(&recipe.id.0, runtime_name)?;
    let scratch = layout.tmp();
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch)
        .with_context(|| format!("cannot create `{}`", scratch.display()))?;
    let log_path = layout.log();
    reporter.info(&format!(
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
        reporter.step(test);
        let run = run_test(&runtime, &module, &suite, &setting, &scratch, test)?;
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
        reporter.info(&format!(
            "{test}: {} case(s), {failed} failed, {:.1} s",
            run.records.len(),
            run.seconds
        ));
        records.extend(run.records);
    }
    std::fs::write(&log_path, &log)
        .with_context(|| format!("cannot write `{}`", log_path.display()))?;
    Ok(Outcome {
        name: format!("{} on {runtime_name}", recipe.id),
        records,
        list,
        elapsed: start.elapsed(),
        test_seconds: suite.timeout,
        runner: Runner::Guest { log: log_path },
        _lock: lock,
    })
}

/// What one test's run said.
#[derive(Debug)]
pub struct TestRun {
    pub test: String,
    pub records: Vec<TestRecord>,
    pub exit: Option<i32>,
    pub timed_out: bool,
    pub seconds: f64,
    /// The run's output, for the log.
    pub output: String,
}

fn record(name: String, status: Status, raw: &str, timed_out: bool) -> TestRecord {
    TestRecord {
        path: PathBuf::from(&name),
        name,
        raw: raw.to_string(),
        status,
        timed_out,
    }
}

/// The test cases in one run's output; the test itself when the run failed and no
/// case says why.
pub fn parse_cases(
    suite: &GuestSuite,
    test: &str,
    output: &str,
    exit: Option<i32>,
    timed_out: bool,
) -> Vec<TestRecord> {
    let (Ok(cases), Ok(passed)) = (Regex::new(&suite.case_pattern), Regex::new(&suite.passed))
    else {
        return vec![record(
            test.into(),
            Status::Failed,
            "BAD-PATTERN",
            timed_out,
        )];
    };
    let skipped = suite.skipped.as_deref().and_then(|p| Regex::new(p).ok());
    let mut records: Vec<TestRecord> = Vec::new();
    for line in output.lines() {
        let Some(found) = cases.captures(line) else {
            continue;
        };
        let (Some(name), Some(status)) = (found.name("name"), found.name("status")) else {
            continue;
        };
        let status_text = status.as_str().trim();
        let status = if passed.is_match(status_text) {
            Status::Passed
        } else if skipped.as_ref().is_some_and(|s| s.is_match(status_text)) {
            Status::Skipped
        } else {
            Status::Failed
        };
        // A case reported twice (a re-run) keeps its last status.
        records.retain(|r| r.name != name.as_str());
        records.push(record(name.as_str().into(), status, status_text, false));
    }
    let failed_case = records.iter().any(|r| r.status == Status::Failed);
    if (exit != Some(0) || timed_out) && !failed_case {
        let raw = if timed_out { "TIMEOUT" } else { "FAILED" };
        records.push(record(test.into(), Status::Failed, raw, timed_out));
    }
    records
}

/// Runs one test of the suite; `scratch` is the guest's `/` (its temp files go there).
pub fn run_test(
    runtime: &Runtime,
    module: &Path,
    suite: &GuestSuite,
    setting: &RunSetting,
    scratch: &Path,
    test: &str,
) -> Result<TestRun, SuiteError> {
    let mut args = suite.args.clone();
    args.push(test.to_string());
    let mut preopens = vec![Preopen {
        host: scratch.to_path_buf(),
        guest: "/".into(),
    }];
    preopens.extend(setting.mounts.iter().cloned());
    let invocation = Invocation {
        args,
        env: setting.env.clone(),
        preopens,
        timeout: Some(Duration::from_secs(suite.timeout)),
        ..Invocation::default()
    };
    let start = std::time::Instant::now();
    let (output, exit, timed_out) = match runtime.command(module, &invocation).capture() {
        Ok(captured) => (
            format!("{}{}", captured.stdout, captured.stderr),
            captured.status,
            false,
        ),
        Err(ProcessError::TimedOut { .. }) => (String::new(), None, true),
        Err(other) => {
            return Err(SuiteError::Io {
                action: "run",
                path: module.to_path_buf(),
                source: std::io::Error::other(other.to_string()),
            });
        }
    };
    Ok(TestRun {
        test: test.to_string(),
        records: parse_cases(suite, test, &output, exit, timed_out),
        exit,
        timed_out,
        seconds: start.elapsed().as_secs_f64(),
        output,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suite() -> GuestSuite {
        GuestSuite {
            artifact: "python".into(),
            args: vec!["-m".into(), "test".into(), "-v".into()],
            tests: vec!["test_json".into()],
            case_pattern: r"^\w+ \((?P<name>[\w.]+)\)(?: \.\.\.)? (?P<status>ok|FAIL|ERROR|skipped.*|expected failure|unexpected success)$".into(),
            passed: "^(ok|expected failure)$".into(),
            skipped: Some("^skipped".into()),
            timeout: 60,
        }
    }

    #[test]
    fn cases_are_read_from_the_output() {
        let output = "\
test_a (test.test_json.T.test_a) ... ok
test_b (test.test_json.T.test_b) ... FAIL
test_c (test.test_json.T.test_c) ... skipped 'no threads'
printed by a test
test_d (test.test_json.T.test_d) ... expected failure
";
        let records = parse_cases(&suite(), "test_json", output, Some(2), false);
        let statuses: Vec<(&str, Status)> = records
            .iter()
            .map(|r| (r.name.as_str(), r.status))
            .collect();
        assert_eq!(
            statuses,
            [
                ("test.test_json.T.test_a", Status::Passed),
                ("test.test_json.T.test_b", Status::Failed),
                ("test.test_json.T.test_c", Status::Skipped),
                ("test.test_json.T.test_d", Status::Passed),
            ]
        );
    }

    #[test]
    fn a_failed_run_without_a_failed_case_fails_the_test() {
        let records = parse_cases(
            &suite(),
            "test_json",
            "test_a (x.y) ... ok\nTraceback",
            Some(1),
            false,
        );
        assert_eq!(records.len(), 2);
        assert_eq!(records[1].name, "test_json");
        assert_eq!(records[1].status, Status::Failed);
        let records = parse_cases(&suite(), "test_json", "", None, true);
        assert!(records[0].timed_out && records[0].raw == "TIMEOUT");
        assert!(
            parse_cases(
                &suite(),
                "test_json",
                "test_a (x.y) ... ok\n",
                Some(0),
                false
            )
            .iter()
            .all(|r| r.status == Status::Passed)
        );
    }
}
