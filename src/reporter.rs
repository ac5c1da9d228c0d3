//! How core code reports progress. Only the CLI layer knows how it is shown.

/// Progress events from the pipeline. Every method has a no-op default.
pub trait Reporter: Sync {
    /// A named step starts (`fetch`, `extract`, `configure`, ...).
    fn step(&self, _name: &str) {}
    /// A measurable task starts; `total` is in bytes or entries when known.
    fn task_start(&self, _label: &str, _total: Option<u64>) {}
    /// The current task advanced by `delta` units.
    fn task_advance(&self, _delta: u64) {}
    /// The current task is over.
    fn task_finish(&self) {}
    /// An informational line for the user (`using cached archive ...`).
    fn info(&self, _message: &str) {}
    /// Something went wrong but the command goes on (an unreachable build cache).
    fn warn(&self, message: &str) {
        self.info(&format!("warning: {message}"));
    }
}

/// Reports nothing: for tests and `--quiet`.
pub struct SilentReporter;

impl Reporter for SilentReporter {}
