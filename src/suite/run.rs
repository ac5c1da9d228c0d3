//! One run of the upstream suite: what `wlmake test --suite upstream` asks for, and what
//! came out of it before it is judged against the expected failures.

use std::fs::File;
use std::path::PathBuf;
use std::time::Duration;

use super::expected::{ExpectedFailures, Verdict};
use super::results::TestRecord;
use crate::output::Manifest;
use crate::plan::Plan;
use crate::recipe::Repository;

/// A published build and the flags that narrow its run.
#[derive(Clone, Copy)]
pub struct Request<'a> {
    pub repo: &'a Repository,
    pub plan: &'a Plan,
    pub manifest: &'a Manifest,
    /// `--only`: test folders or files (run-tests.php), or test names (`[suite]`).
    pub only: &'a [PathBuf],
    /// `--jobs`: run-tests.php's workers.
    pub jobs: Option<usize>,
    /// `--timeout`: seconds per test.
    pub timeout: Option<u64>,
}

/// Which runner ran the tests, with the files it left.
#[derive(Debug, Clone)]
pub enum Runner {
    /// PHP's run-tests.php: its `-W` results file and its own output.
    RunTests { results: PathBuf, log: PathBuf },
    /// The recipe's `[suite]` inside the wasm build: the output of every run.
    Guest { log: PathBuf },
}

/// A finished run. The run's folder stays held until this is dropped, so that the
/// report can still read what the tests left there.
#[derive(Debug)]
pub struct Outcome {
    /// `<id> on <runtime>`: the suite's name in the JUnit report.
    pub name: String,
    pub records: Vec<TestRecord>,
    pub list: ExpectedFailures,
    pub elapsed: Duration,
    /// Seconds a test could run before it was stopped.
    pub test_seconds: u64,
    pub runner: Runner,
    pub(super) _lock: File,
}

impl Outcome {
    /// The records sorted against the expected-failures list.
    pub fn verdict(&self) -> Verdict<'_> {
        self.list.compare(&self.records)
    }
}
