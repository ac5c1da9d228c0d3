//! The upstream test suite: PHP's own `run-tests.php`, driven by a native PHP, with the
//! wasm build as the PHP under test. The build runs through a generated wrapper
//! ([`wrapper`]) on the runtime, each run under a time limit; the results are judged
//! against a per-recipe, per-runtime expected-failures list ([`expected`]).
//!
//! Everything a run writes lives in one folder, `<work>/suite/<id>/<runtime>/`:
//!
//! ```text
//! src/            the recipe's source with its patches, fresh each run; run-tests.php
//!                 leaves `.diff`/`.out` files beside each failing test
//! tmp/            the tests' temporary folder (TMPDIR), also the guest's /tmp
//! bin/php         the wrappers run-tests.php runs (bin/php-cgi for CGI tests)
//! php.cwasm       the artifacts, precompiled once per artifact and runtime version
//! results.txt     run-tests.php's `-W` list: STATUS<TAB>test
//! timeouts.log    the runs the wrappers stopped at the time limit
//! run-tests.log   run-tests.php's own output
//! ```

pub mod expected;
pub mod guest;
pub mod junit;
pub mod prepare;
pub mod report;
pub mod results;
pub mod run;
pub mod run_tests;
pub mod wrapper;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::env_vars::{WLMAKE_PHP, WLMAKE_SUITE_TIME_LIMIT};
use crate::process::{Command, ProcessError, which};
use crate::reporter::Reporter;
use crate::runtime::Kind;
use crate::runtime::Preopen;

/// Seconds a test may run when `--timeout` is not given: run-tests.php's own default.
/// Some tests take 20-30 s on a loaded machine (100,000 failed includes, each a WASI
/// path lookup), and the few that never end cost this much each.
pub const DEFAULT_TEST_SECONDS: u64 = 60;
/// Seconds a whole run may take when WLMAKE_SUITE_TIME_LIMIT is not set.
pub const DEFAULT_RUN_SECONDS: u64 = 7200;

#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    #[error("the upstream suite runs PHP's run-tests.php; `{id}` is a {language} recipe")]
    NotPhp { id: String, language: String },
    #[error("the upstream suite runs on wasmtime only, not on {runtime}")]
    UnsupportedRuntime { runtime: Kind },
    #[error("no native PHP found to drive run-tests.php")]
    NoNativePhp,
    #[error("coreutils `timeout` not found on PATH")]
    NoTimeoutProgram,
    #[error("the build has no `{0}` artifact to test")]
    NoArtifact(String),
    #[error("the source has no `{}`", path.display())]
    NoDriver { path: PathBuf },
    #[error("no tests at `{}`", path.display())]
    NoSuchTests { path: PathBuf },
    #[error("another upstream run of {id} on {runtime} is using `{}`", dir.display())]
    Busy {
        id: String,
        runtime: String,
        dir: PathBuf,
    },
    #[error("{}:{line}: {message}", file.display())]
    ExpectedList {
        file: PathBuf,
        line: usize,
        message: String,
    },
    #[error("`{}` lists {} test(s) the source does not have", file.display(), missing.len())]
    StaleEntries {
        file: PathBuf,
        /// Each listed test the source lacks, with its line in the list.
        missing: Vec<(usize, String)>,
    },
    #[error("cannot {action} `{}`", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("run-tests.php reported no results (its output: `{}`)", log.display())]
    NoResults { log: PathBuf },
    #[error("the upstream suite did not finish within {seconds} s and was stopped")]
    TimedOut { seconds: u64 },
    #[error("{}", describe_regressions(*unexpected, *now_passing))]
    Regressions {
        unexpected: usize,
        now_passing: usize,
        list: PathBuf,
    },
}

impl SuiteError {
    /// The run's failures against its list, the list named relative to the repository.
    pub fn regressions(
        verdict: &expected::Verdict<'_>,
        list: &expected::ExpectedFailures,
        repo_root: &Path,
    ) -> Self {
        Self::Regressions {
            unexpected: verdict.unexpected.len(),
            now_passing: verdict.now_passing.len(),
            list: list
                .file
                .strip_prefix(repo_root)
                .unwrap_or(&list.file)
                .to_path_buf(),
        }
    }
}

fn describe_regressions(unexpected: usize, now_passing: usize) -> String {
    let mut parts = Vec::new();
    if unexpected > 0 {
        parts.push(format!(
            "{unexpected} test(s) failed that the expected-failures list does not name"
        ));
    }
    if now_passing > 0 {
        parts.push(format!("{now_passing} listed test(s) now pass"));
    }
    parts.join("; ")
}

impl SuiteError {
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            Self::NoNativePhp => format!(
                "install Debian's php-cli (`.ci/install-deps` does), or set {WLMAKE_PHP} to a PHP 8 binary"
            ),
            Self::NoTimeoutProgram => "install coreutils".into(),
            Self::UnsupportedRuntime { .. } => {
                "run the upstream suite with --runtime wasmtime; the smoke tests run everywhere"
                    .into()
            }
            Self::NoSuchTests { .. } => "--only takes a folder or `.phpt` file relative to the source root (`Zend/tests`), or an absolute path".into(),
            Self::Busy { .. } => "wait for the other run to end; runs of different recipes or runtimes may overlap".into(),
            Self::ExpectedList { .. } => {
                "one test per line, relative to the source root: `Zend/tests/foo.phpt  # reason`".into()
            }
            Self::StaleEntries { .. } => "delete the lines named above".into(),
            Self::TimedOut { .. } => format!(
                "run fewer tests with --only, or raise {WLMAKE_SUITE_TIME_LIMIT} (seconds)"
            ),
            Self::Regressions { list, unexpected, .. } if *unexpected > 0 => format!(
                "read the diffs above; a failure that is a known limit goes into `{}` with its reason (suggested lines above), and a listed test that passes comes out",
                list.display()
            ),
            Self::Regressions { list, .. } => format!(
                "the list only shrinks: delete those lines from `{}`",
                list.display()
            ),
            _ => return None,
        })
    }
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> SuiteError {
    let path = path.to_path_buf();
    move |source| SuiteError::Io {
        action,
        path,
        source,
    }
}

/// The paths of one recipe-and-runtime suite folder.
#[derive(Debug, Clone)]
pub struct Layout {
    pub root: PathBuf,
}

impl Layout {
    pub fn new(work_root: &Path, id: &str, runtime: Kind) -> Self {
        Self {
            root: work_root.join("suite").join(id).join(runtime),
        }
    }
    pub fn tree(&self) -> PathBuf {
        self.root.join("src")
    }
    pub fn tmp(&self) -> PathBuf {
        self.root.join("tmp")
    }
    pub fn wrapper(&self, artifact: &str) -> PathBuf {
        self.root.join("bin").join(artifact)
    }
    pub fn results(&self) -> PathBuf {
        self.root.join("results.txt")
    }
    pub fn timeouts(&self) -> PathBuf {
        self.root.join("timeouts.log")
    }
    pub fn log(&self) -> PathBuf {
        self.root.join("run-tests.log")
    }
    pub fn step_log(&self, step: &str) -> PathBuf {
        self.root.join("logs").join(format!("{step}.log"))
    }
    pub fn driver(&self) -> PathBuf {
        self.tree().join("run-tests.php")
    }

    /// Command-line markers of this folder's processes: the modules, the wrappers and
    /// the driver (see [`crate::sweep`]).
    pub fn markers(&self) -> Vec<String> {
        vec![
            self.root.join("bin").display().to_string() + "/",
            // Every runtime process preopens the source tree (the module itself lives in
            // the machine's precompiled cache, shared with other runs).
            self.tree().display().to_string() + "::",
            self.driver().display().to_string(),
        ]
    }

    /// Holds the folder for this process; fails at once if another run has it.
    pub fn lock(&self, id: &str, runtime: Kind) -> Result<File, SuiteError> {
        std::fs::create_dir_all(&self.root).map_err(io("create", &self.root))?;
        let path = self.root.join(".lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io("open", &path))?;
        match fs4::FileExt::try_lock(&file) {
            Ok(()) => Ok(file),
            Err(fs4::TryLockError::WouldBlock) => Err(SuiteError::Busy {
                id: id.into(),
                runtime: runtime.name().into(),
                dir: self.root.clone(),
            }),
            Err(fs4::TryLockError::Error(source)) => Err(io("lock", &path)(source)),
        }
    }

    /// Removes what the previous run left (results, logs, temporary files).
    pub fn clear_run_files(&self) -> Result<(), SuiteError> {
        for file in [self.results(), self.timeouts(), self.log()] {
            match std::fs::remove_file(&file) {
                Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                    return Err(io("remove", &file)(error));
                }
                _ => {}
            }
        }
        let tmp = self.tmp();
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).map_err(io("remove", &tmp))?;
        }
        std::fs::create_dir_all(&tmp).map_err(io("create", &tmp))?;
        std::fs::create_dir_all(self.root.join("bin")).map_err(io("create", &self.root))
    }
}

/// The native PHP that runs run-tests.php, with its version.
#[derive(Debug, Clone)]
pub struct NativePhp {
    pub binary: PathBuf,
    pub version: String,
}

impl NativePhp {
    /// WLMAKE_PHP, else `php` on PATH.
    pub fn find() -> Result<Self, SuiteError> {
        let name = std::env::var(WLMAKE_PHP).unwrap_or_else(|_| "php".into());
        let binary = which(&name).ok_or(SuiteError::NoNativePhp)?;
        let version = Command::new(&binary)
            .args(["-n", "-r", "echo PHP_VERSION;"])
            .timeout(Duration::from_secs(60))
            .capture_checked()
            .map_err(|_| SuiteError::NoNativePhp)?
            .stdout;
        Ok(Self { binary, version })
    }
}

/// Writes an executable script, only when its text changed.
pub fn write_script(path: &Path, text: &str) -> Result<(), SuiteError> {
    use std::os::unix::fs::PermissionsExt;
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    let partial = path.with_extension("partial");
    std::fs::write(&partial, text).map_err(io("write", &partial))?;
    std::fs::set_permissions(&partial, std::fs::Permissions::from_mode(0o755))
        .map_err(io("set permissions of", &partial))?;
    std::fs::rename(&partial, path).map_err(io("write", path))
}

/// What to run and how.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Absolute test folders or files; empty: everything run-tests.php finds.
    pub selections: Vec<PathBuf>,
    pub jobs: usize,
    pub test_seconds: u64,
    pub run_seconds: u64,
}

impl Plan {
    /// The overall limit: WLMAKE_SUITE_TIME_LIMIT, else [`DEFAULT_RUN_SECONDS`].
    pub fn run_seconds_from_env() -> u64 {
        std::env::var(WLMAKE_SUITE_TIME_LIMIT)
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(DEFAULT_RUN_SECONDS)
    }
}

/// `--only` values as real paths (run-tests.php resolves them so): relative ones against
/// the source root. Each must exist.
pub fn resolve_selections(tree: &Path, only: &[PathBuf]) -> Result<Vec<PathBuf>, SuiteError> {
    only.iter()
        .map(|item| {
            let path = if item.is_absolute() {
                item.clone()
            } else {
                tree.join(item)
            };
            path.canonicalize()
                .map_err(|_| SuiteError::NoSuchTests { path })
        })
        .collect()
}

/// The folders the guest sees: the source tree at its own path and as `/` (run-tests.php
/// runs tests from the source root, and relative paths in the guest resolve against
/// `/`), the temporary folder at its own path and as `/tmp`, and each selected folder
/// outside the tree at its own path.
pub fn preopens(layout: &Layout, selections: &[PathBuf]) -> Vec<Preopen> {
    let tree = layout.tree();
    let tmp = layout.tmp();
    let same = |path: &Path| Preopen {
        host: path.to_path_buf(),
        guest: path.display().to_string(),
    };
    let mut preopens = vec![
        same(&tree),
        Preopen {
            host: tree.clone(),
            guest: "/".into(),
        },
        same(&tmp),
        Preopen {
            host: tmp.clone(),
            guest: "/tmp".into(),
        },
    ];
    // The guest starts in the source tree (WLMAKE_GUEST_CWD): its parent, the run's own
    // folder, makes `..` exist there as it does natively.
    if let Some(parent) = tree.parent() {
        preopens.push(same(parent));
    }
    for selection in selections.iter().filter(|s| !s.starts_with(&tree)) {
        let folder = if selection.is_dir() {
            selection.as_path()
        } else {
            selection.parent().unwrap_or(selection)
        };
        if !preopens.iter().any(|p| p.host == folder) {
            preopens.push(same(folder));
        }
    }
    preopens
}

/// What this source's run-tests.php supports.
#[derive(Debug, Clone, Copy)]
pub struct Driver {
    pub parallel: bool,
    pub no_progress: bool,
    pub no_color: bool,
}

impl Driver {
    pub fn inspect(path: &Path) -> Result<Self, SuiteError> {
        let text = std::fs::read_to_string(path).map_err(|_| SuiteError::NoDriver {
            path: path.to_path_buf(),
        })?;
        Ok(Self {
            parallel: text.contains("-j<workers>"),
            no_progress: text.contains("--no-progress"),
            no_color: text.contains("--no-color"),
        })
    }
}

/// The run-tests.php command line.
pub fn driver_command(
    php: &NativePhp,
    layout: &Layout,
    driver: Driver,
    plan: &Plan,
    cgi: bool,
) -> Command {
    let wrapper = layout.wrapper("php");
    // run-tests.php's own limit comes after the wrapper's, which stops the runtime
    // process itself (run-tests.php would kill only the shell above it).
    let driver_limit = plan.test_seconds + wrapper::KILL_AFTER_SECONDS + 10;
    let mut command = Command::new(&php.binary)
        .arg("-n")
        .arg(layout.driver())
        .arg("-p")
        .arg(&wrapper)
        .arg("-q")
        .arg("--set-timeout")
        .arg(driver_limit.to_string())
        .arg("-W")
        .arg(layout.results())
        // Tests past half the limit are named in the log: the next to be stopped.
        .arg("--show-slow")
        .arg((plan.test_seconds * 500).to_string());
    if driver.parallel && plan.jobs > 1 {
        command = command.arg(format!("-j{}", plan.jobs));
    }
    if driver.no_progress {
        command = command.arg("--no-progress");
    }
    if driver.no_color {
        command = command.arg("--no-color");
    }
    command = command
        .args(&plan.selections)
        .dir(layout.tree())
        .env("TEST_PHP_EXECUTABLE", &wrapper)
        .env("TEST_PHP_SRCDIR", layout.tree())
        .env("NO_INTERACTION", "1")
        .env("SKIP_ONLINE_TESTS", "1")
        .env("TMPDIR", layout.tmp())
        .env_remove("TEST_PHP_ARGS")
        .env_remove("TEST_PHP_JUNIT")
        .env_remove("TEST_PHPDBG_EXECUTABLE")
        .timeout(Duration::from_secs(plan.run_seconds));
    if cgi {
        command = command.env("TEST_PHP_CGI_EXECUTABLE", layout.wrapper("php-cgi"));
    } else {
        command = command.env_remove("TEST_PHP_CGI_EXECUTABLE");
    }
    command
}

/// `.phpt` files under the selections (for the progress bar).
pub fn count_tests(selections: &[PathBuf]) -> u64 {
    fn walk(path: &Path) -> u64 {
        if path.is_file() {
            return u64::from(path.extension().is_some_and(|e| e == "phpt"));
        }
        std::fs::read_dir(path)
            .map(|entries| entries.flatten().map(|e| walk(&e.path())).sum())
            .unwrap_or(0)
    }
    selections.iter().map(|s| walk(s)).sum()
}

/// Runs the driver, reporting progress from its results file, then stops whatever the
/// run left behind. A non-zero exit of run-tests.php (it has failures) is not an error.
pub fn run_driver(
    command: &Command,
    layout: &Layout,
    total: Option<u64>,
    reporter: &dyn Reporter,
) -> Result<Duration, SuiteError> {
    let start = Instant::now();
    // Ctrl-C or SIGTERM stops these too (the interrupt handler only reaches our groups).
    let _marked = crate::interrupt::sweep_on_signal(layout.markers());
    reporter.task_start("tests", total);
    let outcome = std::thread::scope(|scope| {
        let handle = scope.spawn(|| command.run_logged(&layout.log()));
        let mut reported = 0;
        while !handle.is_finished() {
            std::thread::sleep(Duration::from_millis(250));
            let done = std::fs::read_to_string(layout.results())
                .map_or(0, |text| text.lines().count() as u64);
            if done > reported {
                reporter.task_advance(done - reported);
                reported = done;
            }
        }
        handle.join().expect("the driver thread does not panic")
    });
    reporter.task_finish();
    let stopped = crate::sweep::stop_all(&layout.markers());
    if stopped > 0 {
        tracing::warn!(stopped, "stopped processes the run left behind");
    }
    match outcome {
        Ok(_) | Err(ProcessError::Failed { .. }) => {}
        Err(ProcessError::TimedOut { seconds, .. }) => {
            return Err(SuiteError::TimedOut { seconds });
        }
        Err(other) => {
            return Err(SuiteError::Io {
                action: "run",
                path: layout.driver(),
                source: std::io::Error::other(other.to_string()),
            });
        }
    }
    Ok(start.elapsed())
}

/// The run's records, from the results file and the wrappers' timeout log.
pub fn collect(layout: &Layout) -> Result<Vec<results::TestRecord>, SuiteError> {
    let text = std::fs::read_to_string(layout.results()).unwrap_or_default();
    let timeouts = std::fs::read_to_string(layout.timeouts()).unwrap_or_default();
    let records =
        results::parse_results(&text, &layout.tree(), &results::parse_timeouts(&timeouts));
    if records.is_empty() {
        return Err(SuiteError::NoResults { log: layout.log() });
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selections_resolve_against_the_tree_and_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("Zend/tests")).unwrap();
        let real = dir.path().canonicalize().unwrap();
        let found = resolve_selections(
            dir.path(),
            &[
                PathBuf::from("Zend/tests"),
                PathBuf::from("Zend/tests/../tests"),
            ],
        )
        .unwrap();
        assert_eq!(found, [real.join("Zend/tests"), real.join("Zend/tests")]);
        let error = resolve_selections(dir.path(), &[PathBuf::from("nope")]).unwrap_err();
        assert!(matches!(error, SuiteError::NoSuchTests { .. }));
        assert!(
            error
                .hint()
                .unwrap()
                .contains("relative to the source root")
        );
    }

    #[test]
    fn preopens_cover_the_tree_its_parent_tmp_and_outside_selections() {
        let outside = tempfile::tempdir().unwrap();
        let layout = Layout::new(Path::new("/w"), "php/php-8.2.32", Kind::Wasmtime);
        let selections = vec![
            layout.tree().join("Zend/tests"),
            outside.path().to_path_buf(),
        ];
        let guests: Vec<_> = preopens(&layout, &selections)
            .into_iter()
            .map(|p| format!("{}::{}", p.host.display(), p.guest))
            .collect();
        let outside = outside.path().display();
        assert_eq!(
            guests,
            [
                "/w/suite/php/php-8.2.32/wasmtime/src::/w/suite/php/php-8.2.32/wasmtime/src"
                    .to_string(),
                "/w/suite/php/php-8.2.32/wasmtime/src::/".into(),
                "/w/suite/php/php-8.2.32/wasmtime/tmp::/w/suite/php/php-8.2.32/wasmtime/tmp".into(),
                "/w/suite/php/php-8.2.32/wasmtime/tmp::/tmp".into(),
                "/w/suite/php/php-8.2.32/wasmtime::/w/suite/php/php-8.2.32/wasmtime".into(),
                format!("{outside}::{outside}"),
            ]
        );
    }

    #[test]
    fn driver_command_passes_the_wrapper_limits_and_results_file() {
        let layout = Layout::new(Path::new("/w"), "php/php-7.4.33", Kind::Wasmtime);
        let php = NativePhp {
            binary: "/usr/bin/php".into(),
            version: "8.2.29".into(),
        };
        let plan = Plan {
            selections: vec![layout.tree().join("tests/lang")],
            jobs: 2,
            test_seconds: 20,
            run_seconds: 600,
        };
        let driver = Driver {
            parallel: true,
            no_progress: false,
            no_color: false,
        };
        insta::assert_snapshot!(driver_command(&php, &layout, driver, &plan, true).display(), @"/usr/bin/php -n /w/suite/php/php-7.4.33/wasmtime/src/run-tests.php -p /w/suite/php/php-7.4.33/wasmtime/bin/php -q --set-timeout 35 -W /w/suite/php/php-7.4.33/wasmtime/results.txt --show-slow 10000 -j2 /w/suite/php/php-7.4.33/wasmtime/src/tests/lang");
    }

    #[test]
    fn a_second_run_on_the_same_folder_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path(), "php/php-8.2.32", Kind::Wasmtime);
        let _held = layout.lock("php/php-8.2.32", Kind::Wasmtime).unwrap();
        let error = layout.lock("php/php-8.2.32", Kind::Wasmtime).unwrap_err();
        assert!(matches!(error, SuiteError::Busy { .. }), "{error}");
    }

    #[test]
    fn regressions_say_what_went_wrong_and_how_to_fix_the_list() {
        let error = SuiteError::Regressions {
            unexpected: 2,
            now_passing: 1,
            list: "expected-failures/php/php-8.2.32-wasmtime.txt".into(),
        };
        assert_eq!(
            error.to_string(),
            "2 test(s) failed that the expected-failures list does not name; 1 listed test(s) now pass"
        );
        let only_passing = SuiteError::Regressions {
            unexpected: 0,
            now_passing: 1,
            list: "l.txt".into(),
        };
        assert!(only_passing.hint().unwrap().contains("only shrinks"));
    }
}
