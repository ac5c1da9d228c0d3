//! The expected-failures list: one known failing test per line with a one-line reason,
//! `Zend/tests/foo.phpt  # fibers: no stack switching under WASI`. Blank lines and lines
//! starting with `#` are comments.
//!
//! A run fails on a failure the list does not name, and on a listed test that passed:
//! the list only shrinks. The one exception is a reason starting with `flaky:` (a test
//! whose outcome depends on the machine's speed): it may pass or fail.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::SuiteError;
use super::results::{Status, TestRecord};
use crate::runtime::Kind;

/// One listed test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Relative to the source root, as the report names tests.
    pub test: String,
    pub reason: String,
    /// 1-based line in the list.
    pub line: usize,
}

impl Entry {
    /// The reason starts with `flaky:`: passing is no error.
    pub fn is_flaky(&self) -> bool {
        self.reason.starts_with("flaky:")
    }
}

/// The parsed list; an absent file is an empty list.
#[derive(Debug, Clone, Default)]
pub struct ExpectedFailures {
    pub file: PathBuf,
    pub entries: BTreeMap<String, Entry>,
}

impl ExpectedFailures {
    /// The list of a recipe on a runtime: `expected-failures/<id>-<runtime>.txt`.
    pub fn file_of(repo_root: &Path, id: &str, runtime: Kind) -> PathBuf {
        repo_root
            .join("expected-failures")
            .join(format!("{id}-{runtime}.txt"))
    }

    /// Reads `file`; a missing file is an empty list.
    pub fn load(file: &Path) -> Result<Self, SuiteError> {
        match std::fs::read_to_string(file) {
            Ok(text) => Self::parse(file, &text),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Self {
                file: file.to_path_buf(),
                entries: BTreeMap::new(),
            }),
            Err(source) => Err(SuiteError::Io {
                action: "read",
                path: file.to_path_buf(),
                source,
            }),
        }
    }

    pub fn parse(file: &Path, text: &str) -> Result<Self, SuiteError> {
        Self::parse_with(file, text, |test| {
            (test.contains(char::is_whitespace) || !test.ends_with(".phpt"))
                .then(|| format!("`{test}` is not one `.phpt` path relative to the source root"))
        })
    }

    /// Reads `file` with names that `check` accepts (it returns why a name is wrong).
    pub fn load_with(
        file: &Path,
        check: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, SuiteError> {
        match std::fs::read_to_string(file) {
            Ok(text) => Self::parse_with(file, &text, check),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Self {
                file: file.to_path_buf(),
                entries: BTreeMap::new(),
            }),
            Err(source) => Err(SuiteError::Io {
                action: "read",
                path: file.to_path_buf(),
                source,
            }),
        }
    }

    pub fn parse_with(
        file: &Path,
        text: &str,
        check: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, SuiteError> {
        let problem = |line: usize, message: String| SuiteError::ExpectedList {
            file: file.to_path_buf(),
            line,
            message,
        };
        let mut entries = BTreeMap::new();
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let content = raw.trim();
            if content.is_empty() || content.starts_with('#') {
                continue;
            }
            let Some((test, reason)) = content.split_once('#') else {
                return Err(problem(
                    line,
                    format!("`{content}` has no reason: write `TEST  # reason`"),
                ));
            };
            let (test, reason) = (test.trim(), reason.trim());
            if reason.is_empty() {
                return Err(problem(line, format!("`{test}` has an empty reason")));
            }
            if let Some(message) = check(test) {
                return Err(problem(line, message));
            }
            if test.contains(char::is_whitespace) {
                return Err(problem(line, format!("`{test}` is not one test name")));
            }
            let entry = Entry {
                test: test.to_string(),
                reason: reason.to_string(),
                line,
            };
            if let Some(first) = entries.insert(test.to_string(), entry) {
                return Err(problem(
                    line,
                    format!("`{test}` is listed twice (first on line {})", first.line),
                ));
            }
        }
        Ok(Self {
            file: file.to_path_buf(),
            entries,
        })
    }

    /// Listed tests with no file in `tree`: a typo, or a test upstream removed.
    pub fn missing_in(&self, tree: &Path) -> Vec<&Entry> {
        self.entries
            .values()
            .filter(|entry| !tree.join(&entry.test).is_file())
            .collect()
    }

    /// Sorts a run's records against the list.
    pub fn compare<'a>(&'a self, records: &'a [TestRecord]) -> Verdict<'a> {
        let mut verdict = Verdict::default();
        for record in records {
            let entry = self.entries.get(&record.name);
            match (record.status, entry) {
                (Status::Failed, Some(entry)) => verdict.expected.push((record, entry)),
                (Status::Failed, None) => verdict.unexpected.push(record),
                (Status::Passed, Some(entry)) if entry.is_flaky() => {
                    verdict.flaky_passed.push((record, entry));
                }
                (Status::Passed, Some(entry)) => verdict.now_passing.push((record, entry)),
                _ => {}
            }
        }
        verdict
    }
}

/// A run judged against the list.
#[derive(Debug, Default)]
pub struct Verdict<'a> {
    /// Failed and listed.
    pub expected: Vec<(&'a TestRecord, &'a Entry)>,
    /// Failed and not listed: the run fails.
    pub unexpected: Vec<&'a TestRecord>,
    /// Listed but passed: the run fails until the line is removed.
    pub now_passing: Vec<(&'a TestRecord, &'a Entry)>,
    /// Listed as flaky and passed this time.
    pub flaky_passed: Vec<(&'a TestRecord, &'a Entry)>,
}

impl Verdict<'_> {
    pub fn is_clean(&self) -> bool {
        self.unexpected.is_empty() && self.now_passing.is_empty()
    }
}

/// The line to add for an unexpected failure, with a reason to fill in.
pub fn suggested_line(record: &TestRecord, timeout_seconds: u64) -> String {
    let reason = if record.timed_out {
        format!("timers: stopped at the {timeout_seconds} s limit")
    } else {
        "TODO: why it fails".to_string()
    };
    format!("{}  # {reason}", record.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(name: &str, status: Status) -> TestRecord {
        TestRecord {
            name: name.into(),
            path: PathBuf::from("/s").join(name),
            raw: String::new(),
            status,
            timed_out: false,
        }
    }

    #[test]
    fn parses_entries_with_reasons_and_skips_comments() {
        let list = ExpectedFailures::parse(
            Path::new("x.txt"),
            "# header\n\nZend/tests/a.phpt  # fibers: no stack switching\n  tests/lang/b.phpt #timers\n",
        )
        .unwrap();
        assert_eq!(list.entries.len(), 2);
        assert_eq!(
            list.entries["Zend/tests/a.phpt"].reason,
            "fibers: no stack switching"
        );
        assert_eq!(list.entries["tests/lang/b.phpt"].line, 4);
    }

    #[test]
    fn rejects_missing_reasons_duplicates_and_odd_paths() {
        let error = |text: &str| {
            ExpectedFailures::parse(Path::new("list.txt"), text)
                .unwrap_err()
                .to_string()
        };
        insta::assert_snapshot!(error("a.phpt\n"), @"list.txt:1: `a.phpt` has no reason: write `TEST  # reason`");
        insta::assert_snapshot!(error("a.phpt #\n"), @"list.txt:1: `a.phpt` has an empty reason");
        insta::assert_snapshot!(error("a.phpt # x\n# c\na.phpt # y\n"), @"list.txt:3: `a.phpt` is listed twice (first on line 1)");
        insta::assert_snapshot!(error("a b.phpt # x\n"), @"list.txt:1: `a b.phpt` is not one `.phpt` path relative to the source root");
    }

    #[test]
    fn compare_sorts_expected_unexpected_and_now_passing() {
        let list = ExpectedFailures::parse(
            Path::new("x.txt"),
            "t/listed-fails.phpt # r\nt/listed-passes.phpt # r\nt/listed-skipped.phpt # r\nt/flaky.phpt # flaky: slow\n",
        )
        .unwrap();
        let records = vec![
            record("t/listed-fails.phpt", Status::Failed),
            record("t/listed-passes.phpt", Status::Passed),
            record("t/listed-skipped.phpt", Status::Skipped),
            record("t/new-failure.phpt", Status::Failed),
            record("t/fine.phpt", Status::Passed),
            record("t/flaky.phpt", Status::Passed),
        ];
        let verdict = list.compare(&records);
        assert_eq!(verdict.expected.len(), 1);
        assert_eq!(verdict.unexpected[0].name, "t/new-failure.phpt");
        assert_eq!(verdict.now_passing.len(), 1);
        assert_eq!(verdict.now_passing[0].0.name, "t/listed-passes.phpt");
        assert_eq!(verdict.flaky_passed[0].0.name, "t/flaky.phpt");
        assert!(!verdict.is_clean());
    }

    #[test]
    fn entries_without_a_test_file_are_found() {
        let tree = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tree.path().join("Zend/tests")).unwrap();
        std::fs::write(tree.path().join("Zend/tests/there.phpt"), "").unwrap();
        let list = ExpectedFailures::parse(
            Path::new("x.txt"),
            "Zend/tests/there.phpt # r\nZend/tests/typo.phpt # r\n",
        )
        .unwrap();
        let missing: Vec<_> = list
            .missing_in(tree.path())
            .iter()
            .map(|e| e.line)
            .collect();
        assert_eq!(missing, [2]);
    }

    #[test]
    fn a_missing_file_is_an_empty_list() {
        let dir = tempfile::tempdir().unwrap();
        let list = ExpectedFailures::load(&dir.path().join("none.txt")).unwrap();
        assert!(list.entries.is_empty());
    }

    #[test]
    fn suggested_lines_name_timeouts() {
        let mut test = record("t/loop.phpt", Status::Failed);
        assert_eq!(
            suggested_line(&test, 20),
            "t/loop.phpt  # TODO: why it fails"
        );
        test.timed_out = true;
        assert_eq!(
            suggested_line(&test, 20),
            "t/loop.phpt  # timers: stopped at the 20 s limit"
        );
    }
}
