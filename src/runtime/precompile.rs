//! Modules compiled ahead of time (Wasmtime's `.cwasm`, WasmEdge's AOT form), through
//! one machine-wide cache: `<cache>/precompiled-v1/`, keyed by the module's sha256 and
//! the runtime's version line. `run --precompiled`, `build --precompile`, the upstream
//! suites and the benchmark all take their compiled modules from it, so each module is
//! compiled once per runtime version on a machine, whichever command needs it first.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::Runtime;
use crate::process::ProcessError;
use crate::reporter::Reporter;
use crate::source::SourceError;

/// The cache's folder under the cache root.
pub const BUCKET: &str = "precompiled-v1";

/// The longest a compile may take: WasmEdge's AOT compile of PHP takes 4 to 26 min
/// here, depending on the load.
pub const TIMEOUT: Duration = Duration::from_secs(1800);

#[derive(Debug, thiserror::Error)]
pub enum PrecompileError {
    #[error("cannot precompile `{}` with {runtime} (log: {})", module.display(), log.display())]
    Compile {
        module: PathBuf,
        runtime: String,
        log: PathBuf,
        #[source]
        source: Box<ProcessError>,
    },
    #[error("cannot write `{}`", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Lock(#[from] SourceError),
    #[error(transparent)]
    Output(#[from] crate::output::OutputError),
}

impl PrecompileError {
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Compile { source, .. } => source.hint().or_else(|| {
                Some(
                    "the compile log (named above) says why; `wlmake doctor` checks the runtime"
                        .into(),
                )
            }),
            Self::Lock(error) => error.hint(),
            Self::Output(error) => error.hint(),
            Self::Write { .. } => None,
        }
    }
}

/// `module` (sha256 `sha256`) compiled for `runtime`, from the cache under
/// `cache_root`; compiled into it first when it is not there (one process at a time per
/// entry: others wait on its lock).
pub fn cached(
    cache_root: &Path,
    runtime: &Runtime,
    module: &Path,
    sha256: &str,
    reporter: &dyn Reporter,
) -> Result<PathBuf, PrecompileError> {
    let folder = cache_root.join(BUCKET);
    std::fs::create_dir_all(&folder).map_err(|source| PrecompileError::Write {
        path: folder.clone(),
        source,
    })?;
    let version = hex::encode(Sha256::digest(runtime.version.as_bytes()));
    let extension = runtime.kind.precompiled_extension();
    let base = format!(
        "{}-{}-{}",
        runtime.kind.name(),
        sha256.get(..16).unwrap_or(sha256),
        &version[..12]
    );
    let dest = folder.join(format!("{base}.{extension}"));
    let _lock = crate::source::lock_exclusive(&folder.join(format!("{base}.lock")))?;
    let stamp = dest.with_extension("cwasm.key");
    let key = format!("{sha256} {}\n", runtime.version);
    if dest.is_file() && std::fs::read_to_string(&stamp).is_ok_and(|k| k == key) {
        return Ok(dest);
    }
    reporter.info(&format!(
        "precompiling {} for {} (once per module and runtime version on this machine; minutes for a large module)",
        module.display(),
        runtime.version
    ));
    let partial = dest.with_extension("cwasm.partial");
    let _tracked = crate::interrupt::track_temp(&partial);
    let log = folder.join(format!("{base}.log"));
    runtime
        .precompile_command(module, &partial)
        .timeout(TIMEOUT)
        .run_logged(&log)
        .map_err(|source| PrecompileError::Compile {
            module: module.to_path_buf(),
            runtime: runtime.version.clone(),
            log: log.clone(),
            source: Box::new(source),
        })?;
    let written = std::fs::rename(&partial, &dest).and_then(|()| std::fs::write(&stamp, key));
    written.map_err(|source| PrecompileError::Write {
        path: dest.clone(),
        source,
    })?;
    Ok(dest)
}
