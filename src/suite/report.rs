//! The run's report for people, on stdout: each unexpected failure and each listed test
//! that passed, the lines to add to the list, and the counts.

use std::fmt::Write;
use std::path::Path;

use super::expected::{ExpectedFailures, Verdict, suggested_line};
use super::results::{Counts, TestRecord};
use super::run::{Outcome, Runner};

/// The report of `outcome`; `junit` names the JUnit report written beside it.
pub fn text(outcome: &Outcome, verdict: &Verdict<'_>, junit: Option<&Path>) -> String {
    let mut out = String::new();
    let seconds = outcome.test_seconds;
    let counts = Counts::of(&outcome.records);
    let elapsed = outcome.elapsed.as_secs_f64();
    match &outcome.runner {
        Runner::RunTests { results, log } => {
            for record in &verdict.unexpected {
                let timed_out = if record.timed_out {
                    format!(" (stopped at the {seconds} s limit)")
                } else {
                    String::new()
                };
                let _ = writeln!(out, "FAIL {} [{}]{timed_out}", record.name, record.raw);
                let diff = record.diff_path();
                if diff.is_file() {
                    let _ = writeln!(out, "    diff: {}", diff.display());
                }
            }
            now_passing(&mut out, verdict);
            // Tests outside the source tree (absolute names) have no place in the list.
            let listable: Vec<_> = verdict
                .unexpected
                .iter()
                .copied()
                .filter(|record| !record.name.starts_with('/'))
                .collect();
            suggestions(&mut out, &listable, &outcome.list, seconds);
            totals(&mut out, &counts, verdict, elapsed);
            let timed_out = outcome.records.iter().filter(|r| r.timed_out).count();
            if !verdict.flaky_passed.is_empty() {
                let _ = writeln!(
                    out,
                    "{} of the passes are tests listed as flaky",
                    verdict.flaky_passed.len()
                );
            }
            let _ = writeln!(
                out,
                "pass rate {:.1}% of the {} tests that ran ({timed_out} stopped at the {seconds} s limit)",
                counts.pass_rate(),
                counts.ran(),
            );
            let _ = writeln!(
                out,
                "results: {}\nrun-tests.php output: {}",
                results.display(),
                log.display()
            );
            if let Some(path) = junit {
                let _ = writeln!(out, "junit: {}", path.display());
            }
        }
        Runner::Guest { log } => {
            for record in &verdict.unexpected {
                let _ = writeln!(out, "FAIL {} [{}]", record.name, record.raw);
            }
            now_passing(&mut out, verdict);
            suggestions(&mut out, &verdict.unexpected, &outcome.list, seconds);
            totals(&mut out, &counts, verdict, elapsed);
            let _ = writeln!(out, "output of every run: {}", log.display());
        }
    }
    out
}

fn now_passing(out: &mut String, verdict: &Verdict<'_>) {
    for (record, entry) in &verdict.now_passing {
        let _ = writeln!(
            out,
            "NOW PASSING {} (listed on line {}: {})",
            record.name, entry.line, entry.reason
        );
    }
}

/// The counts; upstream's own expected failures (run-tests.php's XFAIL) where there are any.
fn totals(out: &mut String, counts: &Counts, verdict: &Verdict<'_>, elapsed: f64) {
    let _ = writeln!(
        out,
        "\n{} passed, {} failed, {} expected failures, {} skipped{} in {elapsed:.0} s",
        counts.passed,
        verdict.unexpected.len(),
        verdict.expected.len(),
        counts.skipped,
        if counts.upstream_xfail > 0 {
            format!(", {} xfail (upstream)", counts.upstream_xfail)
        } else {
            String::new()
        },
    );
}

/// The lines to add to the list for `records`, each with a reason to fill in.
fn suggestions(out: &mut String, records: &[&TestRecord], list: &ExpectedFailures, seconds: u64) {
    if records.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\nIf these are known limits, add them to {} with their reason:",
        list.file.display()
    );
    for record in records {
        let _ = writeln!(out, "    {}", suggested_line(record, seconds));
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::Duration;

    use super::*;
    use crate::suite::results::Status;

    fn record(tree: &Path, name: &str, raw: &str, timed_out: bool) -> TestRecord {
        let path = if name.starts_with('/') {
            PathBuf::from(name)
        } else {
            tree.join(name)
        };
        TestRecord {
            name: name.into(),
            path,
            raw: raw.into(),
            status: Status::from_run_tests(raw),
            timed_out,
        }
    }

    fn outcome(tree: &Path, runner: Runner) -> Outcome {
        let list = ExpectedFailures::parse(
            Path::new("expected-failures/php/php-8.2.32-wasmtime.txt"),
            "Zend/tests/b.phpt  # fixed since\nZend/tests/c.phpt  # fibers\nZend/tests/f.phpt  # flaky: timers\n",
        )
        .unwrap();
        Outcome {
            name: "php/php-8.2.32 on wasmtime".into(),
            records: vec![
                record(tree, "/elsewhere/d.phpt", "FAILED", false),
                record(tree, "Zend/tests/a.phpt", "FAILED", true),
                record(tree, "Zend/tests/b.phpt", "PASSED", false),
                record(tree, "Zend/tests/c.phpt", "BORKED", false),
                record(tree, "Zend/tests/e.phpt", "XFAILED", false),
                record(tree, "Zend/tests/f.phpt", "PASSED", false),
                record(tree, "Zend/tests/g.phpt", "SKIPPED", false),
            ],
            list,
            elapsed: Duration::from_millis(61_600),
            test_seconds: 20,
            runner,
            _lock: tempfile::tempfile().unwrap(),
        }
    }

    #[test]
    fn the_run_tests_report_names_failures_diffs_suggestions_and_counts() {
        let dir = tempfile::tempdir().unwrap();
        let tree = dir.path().join("src");
        std::fs::create_dir_all(tree.join("Zend/tests")).unwrap();
        std::fs::write(tree.join("Zend/tests/a.diff"), "-1\n+2\n").unwrap();
        let outcome = outcome(
            &tree,
            Runner::RunTests {
                results: "/w/results.txt".into(),
                log: "/w/run-tests.log".into(),
            },
        );
        let text = text(&outcome, &outcome.verdict(), Some(Path::new("report.xml")))
            .replace(&tree.display().to_string(), "<tree>");
        insta::assert_snapshot!(text, @r"
        FAIL /elsewhere/d.phpt [FAILED]
        FAIL Zend/tests/a.phpt [FAILED] (stopped at the 20 s limit)
            diff: <tree>/Zend/tests/a.diff
        NOW PASSING Zend/tests/b.phpt (listed on line 1: fixed since)

        If these are known limits, add them to expected-failures/php/php-8.2.32-wasmtime.txt with their reason:
            Zend/tests/a.phpt  # timers: stopped at the 20 s limit

        2 passed, 2 failed, 1 expected failures, 1 skipped, 1 xfail (upstream) in 62 s
        1 of the passes are tests listed as flaky
        pass rate 33.3% of the 6 tests that ran (1 stopped at the 20 s limit)
        results: /w/results.txt
        run-tests.php output: /w/run-tests.log
        junit: report.xml
        ");
    }

    #[test]
    fn the_guest_report_lists_every_failure_and_the_log_of_the_runs() {
        let dir = tempfile::tempdir().unwrap();
        let mut outcome = outcome(
            dir.path(),
            Runner::Guest {
                log: "/w/run-tests.log".into(),
            },
        );
        // A case passes, fails or is skipped: upstream XFAIL is run-tests.php's word.
        outcome
            .records
            .retain(|record| record.status != Status::UpstreamXfail);
        let text = text(&outcome, &outcome.verdict(), Some(Path::new("report.xml")));
        // No time-limit note and no diff: a case is not a file; `--junit` is not echoed.
        insta::assert_snapshot!(text, @r"
        FAIL /elsewhere/d.phpt [FAILED]
        FAIL Zend/tests/a.phpt [FAILED]
        NOW PASSING Zend/tests/b.phpt (listed on line 1: fixed since)

        If these are known limits, add them to expected-failures/php/php-8.2.32-wasmtime.txt with their reason:
            /elsewhere/d.phpt  # TODO: why it fails
            Zend/tests/a.phpt  # timers: stopped at the 20 s limit

        2 passed, 2 failed, 1 expected failures, 1 skipped in 62 s
        output of every run: /w/run-tests.log
        ");
    }
}
