//! Benchmarks of what wlmake builds, not of wlmake: the interpreter's own benchmark
//! scripts (PHP's `Zend/bench.php` and `Zend/micro_bench.php`, from the recipe's source
//! tree) and its start-up, on the wasm build and on the machine's native interpreter,
//! with the same scripts and settings, N runs each.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::process::{Command, ProcessError};
use crate::runtime::{Invocation, Kind, Preopen, Runtime};

pub mod node;

pub use node::PhpWasmNode;

/// The start-up scenario's code: a statement that does nothing. Empty code (`-r ''`) is
/// refused by PHP 7.4 (exit status 254: its `compile_string()` makes no op array for it);
/// `;` runs on every version, the same on every side.
pub const STARTUP_CODE: &str = ";";

/// A run of a benchmark script may take this long (WasmEdge's interpreter is slow).
const RUN_TIMEOUT: Duration = Duration::from_secs(1800);

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("`{scenario}` ({subject}) failed with exit status {status:?}:\n{stderr}")]
    RunFailed {
        scenario: String,
        subject: String,
        status: Option<i32>,
        stderr: String,
    },
    #[error("`{scenario}` ({subject}) could not run")]
    Process {
        scenario: String,
        subject: String,
        #[source]
        source: Box<ProcessError>,
    },
    #[error("the source tree has no `{}`", .0.display())]
    NoScript(PathBuf),
    #[error(transparent)]
    Node(#[from] node::NodeError),
}

impl BenchError {
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::RunFailed { .. } => Some(
                "run the same command by hand with `wlmake run ... -- ARGS` to see the whole output"
                    .into(),
            ),
            Self::NoScript(_) => Some(
                "the benchmark scripts come from the recipe's source tree (PHP: Zend/bench.php)"
                    .into(),
            ),
            Self::Process { .. } => None,
            Self::Node(e) => e.hint(),
        }
    }
}

/// Seconds of each run, and their min / median / max.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Stats {
    pub runs: Vec<f64>,
    pub min: f64,
    pub median: f64,
    pub max: f64,
}

impl Stats {
    pub fn new(mut runs: Vec<f64>) -> Self {
        assert!(!runs.is_empty(), "at least one run");
        let sorted = {
            let mut sorted = runs.clone();
            sorted.sort_by(f64::total_cmp);
            sorted
        };
        let middle = sorted.len() / 2;
        let median = if sorted.len() % 2 == 0 {
            (sorted[middle - 1] + sorted[middle]) / 2.0
        } else {
            sorted[middle]
        };
        for run in &mut runs {
            *run = round(*run);
        }
        Self {
            min: round(sorted[0]),
            median: round(median),
            max: round(sorted[sorted.len() - 1]),
            runs,
        }
    }
}

fn round(seconds: f64) -> f64 {
    (seconds * 10_000.0).round() / 10_000.0
}

/// One line of the report: a scenario measured on the wasm build (in one way) and,
/// where it applies, natively and on Node (`@php-wasm/node`).
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub scenario: String,
    /// How the wasm side ran: `cache off`, `runtime cache`, `precompiled`, ...
    pub mode: String,
    pub wasm: Stats,
    pub native: Option<Stats>,
    /// wasm median / native median.
    pub ratio: Option<f64>,
    /// The same command line on `@php-wasm/node`, whole `node` process each run.
    pub node: Option<Stats>,
    /// node median / native median.
    pub node_ratio: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub recipe: String,
    pub runtime: String,
    pub runtime_version: String,
    pub artifact_sha256: String,
    pub native: String,
    /// What ran in the Node column; `None`: no Node column (the notes say why).
    pub node: Option<String>,
    pub runs: usize,
    pub rows: Vec<Row>,
    /// What was not measured, and why.
    pub notes: Vec<String>,
}

/// What one benchmark runs on.
pub struct Setup<'a> {
    pub runtime: &'a Runtime,
    /// The `.wasm` interpreter.
    pub module: &'a Path,
    /// The same module compiled ahead of time for this runtime, if there is one.
    pub precompiled: Option<&'a Path>,
    /// The machine's native interpreter.
    pub native: &'a Path,
    /// The folder holding the benchmark scripts (PHP: the source's `Zend/`).
    pub scripts: &'a Path,
    /// The third column, when Node and `@php-wasm/node` are there.
    pub node: Option<&'a PhpWasmNode>,
    pub runs: usize,
}

/// The interpreter arguments shared by both sides: no ini file, no OPcache.
fn common_args() -> Vec<String> {
    ["-n", "-d", "opcache.enable_cli=0", "-d", "memory_limit=-1"]
        .map(String::from)
        .to_vec()
}

fn time_runs(
    scenario: &str,
    subject: &str,
    runs: usize,
    make: &dyn Fn() -> Command,
) -> Result<Stats, BenchError> {
    let mut seconds = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        let out = make()
            .timeout(RUN_TIMEOUT)
            .capture()
            .map_err(|source| BenchError::Process {
                scenario: scenario.into(),
                subject: subject.into(),
                source: Box::new(source),
            })?;
        let elapsed = start.elapsed().as_secs_f64();
        if out.status != Some(0) {
            return Err(BenchError::RunFailed {
                scenario: scenario.into(),
                subject: subject.into(),
                status: out.status,
                stderr: crate::process::tail(&format!("{}{}", out.stdout, out.stderr), 20),
            });
        }
        seconds.push(elapsed);
    }
    Ok(Stats::new(seconds))
}

/// `of`'s median / native median, to two places.
fn ratio(of: &Stats, native: Option<&Stats>) -> Option<f64> {
    native
        .filter(|n| n.median > 0.0)
        .map(|n| (of.median / n.median * 100.0).round() / 100.0)
}

fn row(scenario: &str, mode: &str, wasm: Stats, native: Option<Stats>, node: Option<Stats>) -> Row {
    Row {
        scenario: scenario.into(),
        mode: mode.into(),
        ratio: ratio(&wasm, native.as_ref()),
        node_ratio: node.as_ref().and_then(|n| ratio(n, native.as_ref())),
        wasm,
        native,
        node,
    }
}

/// Runs every scenario; `progress` hears the name of each before it starts.
pub fn run(
    setup: &Setup<'_>,
    progress: &dyn Fn(&str),
) -> Result<(Vec<Row>, Vec<String>), BenchError> {
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    let guest_dir = "/bench";
    let wasm = |runtime_args: Vec<String>, module: &Path, args: Vec<String>| {
        let invocation = Invocation {
            runtime_args,
            args,
            preopens: vec![Preopen {
                host: setup.scripts.to_path_buf(),
                guest: guest_dir.into(),
            }],
            ..Invocation::default()
        };
        setup.runtime.command(module, &invocation)
    };
    let (fast_args, fast_module, fast_mode) = match (setup.runtime.kind, setup.precompiled) {
        (Kind::Wasmtime, Some(cwasm)) => (
            vec!["--allow-precompiled".to_string()],
            cwasm,
            "precompiled",
        ),
        (Kind::Wasmedge, Some(aot)) => (Vec::new(), aot, "AOT"),
        (Kind::Wasmtime, None) => (
            vec!["-C".into(), "cache=y".into()],
            setup.module,
            "runtime cache",
        ),
        (Kind::Wasmedge, None) => (Vec::new(), setup.module, "interpreter"),
    };

    for script in ["bench.php", "micro_bench.php"] {
        let host_script = setup.scripts.join(script);
        if !host_script.is_file() {
            return Err(BenchError::NoScript(host_script));
        }
        progress(script);
        let mut args = common_args();
        args.push(format!("{guest_dir}/{script}"));
        let wasm_stats = time_runs(script, "wasm", setup.runs, &|| {
            wasm(fast_args.clone(), fast_module, args.clone())
        })?;
        let mut native_args = common_args();
        native_args.push(host_script.display().to_string());
        let native_stats = time_runs(script, "native", setup.runs, &|| {
            Command::new(setup.native).args(&native_args)
        })?;
        let node_stats = node_runs(setup, script, guest_dir, &args)?;
        rows.push(row(
            script,
            fast_mode,
            wasm_stats,
            Some(native_stats),
            node_stats,
        ));
    }

    progress("start-up");
    let mut startup = common_args();
    startup.extend(["-r".to_string(), STARTUP_CODE.to_string()]);
    let native_startup = time_runs("start-up", "native", setup.runs, &|| {
        Command::new(setup.native).args(&startup)
    })?;
    let node_startup = node_runs(setup, "start-up", guest_dir, &startup)?;
    let mut modes: Vec<(&str, Vec<String>, &Path)> = Vec::new();
    match setup.runtime.kind {
        Kind::Wasmtime => {
            modes.push((
                "cache off",
                vec!["-C".into(), "cache=n".into()],
                setup.module,
            ));
            // One untimed run fills the cache first.
            let _ = wasm(
                vec!["-C".into(), "cache=y".into()],
                setup.module,
                startup.clone(),
            )
            .timeout(RUN_TIMEOUT)
            .capture();
            modes.push((
                "runtime cache",
                vec!["-C".into(), "cache=y".into()],
                setup.module,
            ));
        }
        Kind::Wasmedge => modes.push(("interpreter", Vec::new(), setup.module)),
    }
    if fast_mode == "precompiled" || fast_mode == "AOT" {
        modes.push((fast_mode, fast_args.clone(), fast_module));
    } else {
        notes.push(format!(
            "no precompiled artifact for {}: start-up was not measured precompiled",
            setup.runtime.kind.name()
        ));
    }
    for (mode, runtime_args, module) in modes {
        let stats = time_runs("start-up", mode, setup.runs, &|| {
            wasm(runtime_args.clone(), module, startup.clone())
        })?;
        rows.push(row(
            &format!("start-up (-r '{STARTUP_CODE}')"),
            mode,
            stats,
            Some(native_startup.clone()),
            node_startup.clone(),
        ));
    }
    Ok((rows, notes))
}

/// The Node column's runs of one command line, when there is a Node column.
fn node_runs(
    setup: &Setup<'_>,
    scenario: &str,
    guest_dir: &str,
    args: &[String],
) -> Result<Option<Stats>, BenchError> {
    let Some(node) = setup.node else {
        return Ok(None);
    };
    time_runs(scenario, "node", setup.runs, &|| {
        node.command(setup.scripts, guest_dir, args)
    })
    .map(Some)
}

/// The report as a Markdown table.
pub fn markdown(report: &Report) -> String {
    let stats = |s: Option<&Stats>| {
        s.map(|s| format!("{:.3} / {:.3} / {:.3}", s.min, s.median, s.max))
            .unwrap_or_else(|| "-".into())
    };
    let times = |r: Option<f64>| r.map(|r| format!("{r:.2}x")).unwrap_or_else(|| "-".into());
    let mut out = format!(
        "{} on {} ({}), {} run(s) each; native: {}\n",
        report.recipe, report.runtime, report.runtime_version, report.runs, report.native
    );
    if let Some(node) = &report.node {
        out.push_str(&format!("node: {node}\n"));
    }
    out.push_str("\n| scenario | wasm mode | wasm s (min / median / max) | native s (min / median / max) | wasm / native |");
    if report.node.is_some() {
        out.push_str(" node s (min / median / max) | node / native |");
    }
    out.push_str("\n| --- | --- | --- | --- | --- |");
    if report.node.is_some() {
        out.push_str(" --- | --- |");
    }
    out.push('\n');
    for row in &report.rows {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |",
            row.scenario,
            row.mode,
            stats(Some(&row.wasm)),
            stats(row.native.as_ref()),
            times(row.ratio),
        ));
        if report.node.is_some() {
            out.push_str(&format!(
                " {} | {} |",
                stats(row.node.as_ref()),
                times(row.node_ratio)
            ));
        }
        out.push('\n');
    }
    for note in &report.notes {
        out.push_str(&format!("\nnote: {note}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_take_min_median_max() {
        let stats = Stats::new(vec![3.0, 1.0, 2.0]);
        assert_eq!((stats.min, stats.median, stats.max), (1.0, 2.0, 3.0));
        assert_eq!(stats.runs, vec![3.0, 1.0, 2.0], "runs keep their order");
        let even = Stats::new(vec![4.0, 1.0, 2.0, 3.0]);
        assert_eq!(even.median, 2.5);
        assert_eq!(Stats::new(vec![0.123456]).min, 0.1235);
    }

    #[test]
    fn the_ratio_is_of_the_medians() {
        let r = row(
            "bench.php",
            "precompiled",
            Stats::new(vec![3.0, 2.8, 2.9]),
            Some(Stats::new(vec![0.6, 0.59, 0.61])),
            None,
        );
        assert_eq!(r.ratio, Some(4.83));
        assert_eq!(r.node_ratio, None);
        let report = Report {
            recipe: "php/php-8.2.32".into(),
            runtime: "wasmtime".into(),
            runtime_version: "wasmtime 49".into(),
            artifact_sha256: "00".into(),
            native: "PHP 8.2".into(),
            node: None,
            runs: 3,
            rows: vec![r],
            notes: vec!["x".into()],
        };
        let table = markdown(&report);
        assert!(
            table.contains("| bench.php | precompiled | 2.800 / 2.900 / 3.000 | 0.590 / 0.600 / 0.610 | 4.83x |\n"),
            "{table}"
        );
        assert!(!table.contains("node"), "no Node column: {table}");
        assert!(table.contains("note: x"));
    }

    #[test]
    fn the_node_column_is_a_third_one_with_its_own_ratio() {
        let native = Stats::new(vec![0.5, 0.5, 0.5]);
        let bench = row(
            "bench.php",
            "precompiled",
            Stats::new(vec![1.5]),
            Some(native.clone()),
            Some(Stats::new(vec![2.0, 3.0, 2.5])),
        );
        assert_eq!((bench.ratio, bench.node_ratio), (Some(3.0), Some(5.0)));
        let startup = row(
            "start-up (-r ';')",
            "cache off",
            Stats::new(vec![1.0]),
            Some(native),
            None,
        );
        let report = Report {
            recipe: "php/php-7.4.33".into(),
            runtime: "wasmtime".into(),
            runtime_version: "wasmtime 49".into(),
            artifact_sha256: "00".into(),
            native: "PHP 8.2".into(),
            node: Some("PHP 7.4.33 on @php-wasm/node 3.1.54".into()),
            runs: 3,
            rows: vec![bench, startup],
            notes: Vec::new(),
        };
        let table = markdown(&report);
        let lines: Vec<&str> = table.lines().collect();
        assert!(
            lines.contains(&"node: PHP 7.4.33 on @php-wasm/node 3.1.54"),
            "{table}"
        );
        assert!(lines.contains(&"| scenario | wasm mode | wasm s (min / median / max) | native s (min / median / max) | wasm / native | node s (min / median / max) | node / native |"), "{table}");
        assert!(
            lines.contains(&"| --- | --- | --- | --- | --- | --- | --- |"),
            "{table}"
        );
        assert!(lines.contains(&"| bench.php | precompiled | 1.500 / 1.500 / 1.500 | 0.500 / 0.500 / 0.500 | 3.00x | 2.000 / 2.500 / 3.000 | 5.00x |"), "{table}");
        assert!(lines.contains(&"| start-up (-r ';') | cache off | 1.000 / 1.000 / 1.000 | 0.500 / 0.500 / 0.500 | 2.00x | - | - |"), "{table}");

        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["node"], "PHP 7.4.33 on @php-wasm/node 3.1.54");
        assert_eq!(json["rows"][0]["node"]["median"], 2.5);
        assert_eq!(json["rows"][0]["node_ratio"], 5.0);
        assert!(json["rows"][1]["node"].is_null());
    }
}
