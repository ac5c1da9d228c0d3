//! A JUnit XML report for CI: one `<testcase>` per test. Unexpected failures and listed
//! tests that now pass are `<failure>`s; expected failures and skipped tests are
//! `<skipped>` with the reason.

use std::fmt::Write;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;

use super::expected::{ExpectedFailures, Verdict};
use super::results::{Status, TestRecord};

/// Diff text kept per failure in the report.
const DIFF_BYTES: usize = 64 * 1024;

/// One test in the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// The test's folder, dotted (`Zend.tests.fibers`).
    pub classname: String,
    /// The test's file name (`backtrace-object.phpt`).
    pub name: String,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    Failed { message: String, body: String },
    Skipped { message: String },
}

impl Case {
    /// Splits a test's name (`Zend/tests/foo.phpt`) into classname and name.
    pub fn new(test: &str, outcome: Outcome) -> Self {
        let (folder, file) = test.rsplit_once('/').unwrap_or(("", test));
        Self {
            classname: folder.trim_start_matches('/').replace('/', "."),
            name: file.to_string(),
            outcome,
        }
    }
}

/// The whole document.
pub fn render(suite: &str, elapsed: Duration, cases: &[Case]) -> String {
    let failures = cases
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Failed { .. }))
        .count();
    let skipped = cases
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Skipped { .. }))
        .count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let header = format!(
        "name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{:.3}\"",
        escape(suite),
        cases.len(),
        elapsed.as_secs_f64()
    );
    let _ = writeln!(out, "<testsuites {header}>");
    let _ = writeln!(out, "  <testsuite {header}>");
    for case in cases {
        let start = format!(
            "    <testcase classname=\"{}\" name=\"{}\"",
            escape(&case.classname),
            escape(&case.name)
        );
        match &case.outcome {
            Outcome::Passed => {
                let _ = writeln!(out, "{start}/>");
            }
            Outcome::Failed { message, body } => {
                let _ = writeln!(
                    out,
                    "{start}>\n      <failure message=\"{}\">{}</failure>\n    </testcase>",
                    escape(message),
                    escape(body)
                );
            }
            Outcome::Skipped { message } => {
                let _ = writeln!(
                    out,
                    "{start}>\n      <skipped message=\"{}\"/>\n    </testcase>",
                    escape(message)
                );
            }
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// Text and attribute escaping; characters XML 1.0 forbids (most control characters,
/// which test output does contain) become `\xNN`.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// Writes the report of one run to `path` (its folder is made).
pub fn write_report(
    path: &Path,
    name: &str,
    elapsed: Duration,
    records: &[TestRecord],
    verdict: &Verdict<'_>,
    list: &ExpectedFailures,
) -> anyhow::Result<()> {
    let cases: Vec<Case> = records
        .iter()
        .map(|record| Case::new(&record.name, outcome_of(record, verdict, list)))
        .collect();
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create `{}`", parent.display()))?;
    }
    std::fs::write(path, render(name, elapsed, &cases))
        .with_context(|| format!("cannot write the JUnit report `{}`", path.display()))
}

fn outcome_of(record: &TestRecord, verdict: &Verdict<'_>, list: &ExpectedFailures) -> Outcome {
    let listed = list.entries.get(&record.name);
    match (record.status, listed) {
        (Status::Passed, Some(entry)) if entry.is_flaky() => Outcome::Passed,
        (Status::Passed, Some(entry)) => Outcome::Failed {
            message: format!(
                "passes, but {} line {} lists it as failing: delete the line",
                list.file.display(),
                entry.line
            ),
            body: String::new(),
        },
        (Status::Passed, None) => Outcome::Passed,
        (Status::Failed, Some(entry)) => Outcome::Skipped {
            message: format!("expected failure: {}", entry.reason),
        },
        (Status::Failed, None) => {
            debug_assert!(verdict.unexpected.iter().any(|r| r.name == record.name));
            let diff = record.diff_path();
            let mut body = std::fs::read(&diff)
                .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
                .unwrap_or_default();
            if body.len() > DIFF_BYTES {
                let mut cut = DIFF_BYTES;
                while !body.is_char_boundary(cut) {
                    cut -= 1;
                }
                body.truncate(cut);
                body.push_str("\n[... cut]\n");
            }
            let stopped = if record.timed_out {
                ", stopped at the time limit"
            } else {
                ""
            };
            Outcome::Failed {
                message: format!("{}{stopped}: diff in {}", record.raw, diff.display()),
                body,
            }
        }
        (Status::Skipped, _) => Outcome::Skipped {
            message: "skipped by the test's SKIPIF".into(),
        },
        (Status::UpstreamXfail, _) => Outcome::Skipped {
            message: "XFAIL: fails upstream too".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_passes_failures_and_skips() {
        let cases = vec![
            Case::new("tests/lang/001.phpt", Outcome::Passed),
            Case::new(
                "Zend/tests/a&b.phpt",
                Outcome::Failed {
                    message: "failed: diff in /s/Zend/tests/a&b.diff".into(),
                    body: "-<expected>\n+got \u{0}\"\n".into(),
                },
            ),
            Case::new(
                "Zend/tests/fibers/x.phpt",
                Outcome::Skipped {
                    message: "expected failure: fibers".into(),
                },
            ),
        ];
        insta::assert_snapshot!(render("php/php-8.2.32 on wasmtime", Duration::from_millis(1500), &cases), @r#"
        <?xml version="1.0" encoding="UTF-8"?>
        <testsuites name="php/php-8.2.32 on wasmtime" tests="3" failures="1" errors="0" skipped="1" time="1.500">
          <testsuite name="php/php-8.2.32 on wasmtime" tests="3" failures="1" errors="0" skipped="1" time="1.500">
            <testcase classname="tests.lang" name="001.phpt"/>
            <testcase classname="Zend.tests" name="a&amp;b.phpt">
              <failure message="failed: diff in /s/Zend/tests/a&amp;b.diff">-&lt;expected&gt;
        +got \x00&quot;
        </failure>
            </testcase>
            <testcase classname="Zend.tests.fibers" name="x.phpt">
              <skipped message="expected failure: fibers"/>
            </testcase>
          </testsuite>
        </testsuites>
        "#);
    }

    #[test]
    fn absolute_test_paths_get_a_dotted_classname() {
        let case = Case::new("/tmp/mine/loop.phpt", Outcome::Passed);
        assert_eq!(case.classname, "tmp.mine");
        assert_eq!(case.name, "loop.phpt");
    }
}
