//! What `run-tests.php` reported: its `-W` results file (`STATUS<TAB>/abs/test.phpt`, one
//! line per test) and the wrapper's log of runs it stopped at the time limit.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One test's status as `run-tests.php` names it, folded into what wlmake judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    Passed,
    /// FAILED, BORKED (a broken test file), WARNED, LEAKED and anything unknown.
    Failed,
    Skipped,
    /// XFAIL or XLEAK: the test's own `--XFAIL--` section says it fails upstream too.
    UpstreamXfail,
}

impl Status {
    /// `PASSED`, `FAILED`, `SKIPPED`, `BORKED`, `XFAILED`, `LEAKED&FAILED`, ...
    pub fn from_run_tests(word: &str) -> Self {
        match word {
            "PASSED" => Self::Passed,
            "SKIPPED" => Self::Skipped,
            "XFAILED" | "XLEAKED" => Self::UpstreamXfail,
            _ => Self::Failed,
        }
    }
}

/// One test that ran (or was skipped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestRecord {
    /// Relative to the source root (`Zend/tests/foo.phpt`), or absolute for tests outside it.
    pub name: String,
    pub path: PathBuf,
    /// The word `run-tests.php` wrote (`BORKED`, `FAILED`, ...).
    pub raw: String,
    pub status: Status,
    /// The runtime process was stopped at the per-test time limit.
    pub timed_out: bool,
}

impl TestRecord {
    /// Where `run-tests.php` left the diff of a failed test: `foo.phpt` -> `foo.diff`.
    pub fn diff_path(&self) -> PathBuf {
        self.path.with_extension("diff")
    }
}

/// Reads the results file. A test listed twice (a retry) keeps its last status.
pub fn parse_results(text: &str, tree: &Path, timed_out: &BTreeSet<PathBuf>) -> Vec<TestRecord> {
    let mut by_path: BTreeMap<PathBuf, TestRecord> = BTreeMap::new();
    for line in text.lines() {
        let Some((word, file)) = line.split_once('\t') else {
            continue;
        };
        let path = PathBuf::from(file.trim());
        let name = path
            .strip_prefix(tree)
            .map_or_else(|_| path.display().to_string(), |p| p.display().to_string());
        let record = TestRecord {
            name,
            timed_out: timed_out.contains(&path),
            raw: word.trim().to_string(),
            status: Status::from_run_tests(word.trim()),
            path: path.clone(),
        };
        by_path.insert(path, record);
    }
    let mut records: Vec<_> = by_path.into_values().collect();
    records.sort_by(|a, b| a.name.cmp(&b.name));
    records
}

/// The `.phpt` files whose runs the wrapper stopped. The wrapper logs the script it ran:
/// `foo.php` (the test), `foo.skip.php` (its SKIPIF) or `foo.clean.php` (its CLEAN).
pub fn parse_timeouts(text: &str) -> BTreeSet<PathBuf> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|script| {
            let base = [".skip.php", ".clean.php", ".php"]
                .iter()
                .find_map(|suffix| script.strip_suffix(suffix))
                .unwrap_or(script);
            PathBuf::from(format!("{base}.phpt"))
        })
        .collect()
}

/// Totals over a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub upstream_xfail: usize,
}

impl Counts {
    pub fn of(records: &[TestRecord]) -> Self {
        let mut counts = Self::default();
        for record in records {
            match record.status {
                Status::Passed => counts.passed += 1,
                Status::Failed => counts.failed += 1,
                Status::Skipped => counts.skipped += 1,
                Status::UpstreamXfail => counts.upstream_xfail += 1,
            }
        }
        counts
    }

    /// Tests that ran: everything but the skipped ones.
    pub fn ran(&self) -> usize {
        self.passed + self.failed + self.upstream_xfail
    }

    /// Passed over ran, in percent.
    pub fn pass_rate(&self) -> f64 {
        if self.ran() == 0 {
            0.0
        } else {
            100.0 * self.passed as f64 / self.ran() as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_are_named_relative_to_the_tree_and_retries_keep_the_last_status() {
        let text = "PASSED\t/s/tests/lang/001.phpt\n\
                    FAILED\t/s/Zend/tests/loop.phpt\n\
                    SKIPPED\t/s/Zend/tests/skip.phpt\n\
                    BORKED\t/s/Zend/tests/broken.phpt\n\
                    XFAILED\t/s/Zend/tests/x.phpt\n\
                    FAILED\t/s/Zend/tests/flaky.phpt\n\
                    PASSED\t/s/Zend/tests/flaky.phpt\n\
                    PASSED\t/elsewhere/mine.phpt\n\
                    garbage line\n";
        let timed_out = parse_timeouts("/s/Zend/tests/loop.php\n");
        let records = parse_results(text, Path::new("/s"), &timed_out);
        let names: Vec<_> = records.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "/elsewhere/mine.phpt",
                "Zend/tests/broken.phpt",
                "Zend/tests/flaky.phpt",
                "Zend/tests/loop.phpt",
                "Zend/tests/skip.phpt",
                "Zend/tests/x.phpt",
                "tests/lang/001.phpt"
            ]
        );
        let loop_test = records
            .iter()
            .find(|r| r.name.ends_with("loop.phpt"))
            .unwrap();
        assert!(loop_test.timed_out);
        assert_eq!(loop_test.diff_path(), Path::new("/s/Zend/tests/loop.diff"));
        assert_eq!(
            Counts::of(&records),
            Counts {
                passed: 3,
                failed: 2,
                skipped: 1,
                upstream_xfail: 1
            }
        );
        assert_eq!(Counts::of(&records).ran(), 6);
    }

    #[test]
    fn timeouts_map_skipif_and_clean_scripts_to_their_test() {
        let set = parse_timeouts("/s/a.php\n/s/b.skip.php\n\n/s/c.clean.php\n");
        let expected: BTreeSet<PathBuf> = ["/s/a.phpt", "/s/b.phpt", "/s/c.phpt"]
            .into_iter()
            .map(PathBuf::from)
            .collect();
        assert_eq!(set, expected);
    }

    #[test]
    fn pass_rate_ignores_skipped_tests() {
        let counts = Counts {
            passed: 90,
            failed: 10,
            skipped: 50,
            upstream_xfail: 0,
        };
        assert!((counts.pass_rate() - 90.0).abs() < 1e-9);
        assert_eq!(Counts::default().pass_rate(), 0.0);
    }
}
