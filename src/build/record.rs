//! The recipe's `[[record]]` commands: after the import check, each runs its artifact on
//! the flavor's runtime and the manifest keeps its stdout (PHP's recipes record `php -m`,
//! the list of compiled-in modules).
//!
//! A build machine without the flavor's runtime still builds: the record then says why
//! it is empty. A command that runs and fails stops the build (a broken artifact).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::output::RecordEntry;
use crate::recipe::RecordSpec;
use crate::reporter::Reporter;
use crate::runtime::{Invocation, Kind, RunSetting, Runtime};

/// Limit for one record command (WasmEdge's interpreter is about 100x slower than Wasmtime).
const RECORD_TIMEOUT: Duration = Duration::from_secs(300);

pub fn run_records(
    records: &[RecordSpec],
    runtime: Kind,
    artifacts: &[(String, PathBuf)],
    setting: &RunSetting,
    reporter: &dyn Reporter,
) -> Result<BTreeMap<String, RecordEntry>> {
    let mut entries = BTreeMap::new();
    if records.is_empty() {
        return Ok(entries);
    }
    let found = Runtime::find(runtime);
    for record in records {
        let mut entry = RecordEntry {
            artifact: record.artifact.clone(),
            args: record.args.clone(),
            runtime: None,
            lines: Vec::new(),
            skipped: None,
        };
        match &found {
            Err(error) => {
                reporter.info(&format!("record `{}` left empty: {error}", record.name));
                entry.skipped = Some(error.to_string());
            }
            Ok(runner) => {
                let module = artifacts
                    .iter()
                    .find(|(name, _)| name == &record.artifact)
                    .map(|(_, path)| path)
                    .with_context(|| {
                        format!("record `{}` names no artifact of the build", record.name)
                    })?;
                let invocation = Invocation {
                    args: record.args.clone(),
                    env: setting.env.clone(),
                    preopens: setting.mounts.clone(),
                    timeout: Some(RECORD_TIMEOUT),
                    ..Invocation::default()
                };
                let captured = runner
                    .command(module, &invocation)
                    .capture()
                    .with_context(|| format!("running record `{}`", record.name))?;
                if captured.status != Some(0) {
                    bail!(
                        "record `{}`: `{} {}` on {} ended with {:?}\n{}",
                        record.name,
                        record.artifact,
                        record.args.join(" "),
                        runner.version,
                        captured.status,
                        crate::process::tail(
                            &format!("{}{}", captured.stdout, captured.stderr),
                            20
                        )
                    );
                }
                entry.runtime = Some(runner.version.clone());
                entry.lines = captured.stdout.lines().map(str::to_string).collect();
            }
        }
        entries.insert(record.name.clone(), entry);
    }
    Ok(entries)
}
