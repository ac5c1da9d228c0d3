//! Runs a module the way `wasmedge MODULE.wasm ARGS...` does: WASI preview1 from
//! wasi-common, WasmEdge's socket calls layered on top (see `sockets`), then `_start`.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use wasi_common::sync::dir::Dir as SyncDir;
use wasi_common::sync::{Dir, ambient_authority, clocks_ctx, random_ctx, stdio};
use wasi_common::{I32Exit, Table, WasiCtx};
use wasmtime::error::Context;
use wasmtime::{Engine, Linker, Module, Store, format_err};

use crate::cli::RunOptions;
use crate::sched::ReadyOnlySched;
use crate::sockets::{self, SocketTable};

/// Everything the host functions reach through the store.
pub struct HostState {
    pub wasi: WasiCtx,
    pub sockets: SocketTable,
}

/// Runs the module to completion and returns its exit code; a trap or a link error is an
/// error.
pub fn run(options: &RunOptions) -> wasmtime::Result<i32> {
    let engine = Engine::default();
    let module = load(&engine, &options.module)
        .with_context(|| format!("cannot load module `{}`", options.module.display()))?;

    let mut linker = Linker::new(&engine);
    wasi_common::sync::add_to_linker(&mut linker, |state: &mut HostState| &mut state.wasi)?;
    linker.allow_shadowing(true);
    sockets::add_to_linker(&mut linker, &module)?;

    let state = HostState {
        wasi: wasi_context(options)?,
        sockets: SocketTable::from_env(),
    };
    let mut store = Store::new(&engine, state);
    let instance = linker
        .instantiate(&mut store, &module)
        .with_context(|| format!("cannot link `{}`", options.module.display()))?;
    let start = instance
        .get_typed_func::<(), ()>(&mut store, "_start")
        .context("the module exports no `_start` function (it is not a WASI command)")?;
    match start.call(&mut store, ()) {
        Ok(()) => Ok(0),
        Err(err) => match err.downcast_ref::<I32Exit>() {
            Some(exit) => Ok(exit.0),
            None => Err(err.context(format!("`{}` trapped", options.module.display()))),
        },
    }
}

/// Arguments, environment (only what `--env` gives, as in WasmEdge), stdio and preopens,
/// as wasi-common's sync builder sets them up, with the scheduler of `sched`.
fn wasi_context(options: &RunOptions) -> wasmtime::Result<WasiCtx> {
    let mut wasi = WasiCtx::new(
        random_ctx(),
        clocks_ctx(),
        Box::new(ReadyOnlySched),
        Table::new(),
    );
    wasi.set_stdin(Box::new(stdio::stdin()));
    wasi.set_stdout(Box::new(stdio::stdout()));
    wasi.set_stderr(Box::new(stdio::stderr()));
    for arg in &options.args {
        wasi.push_arg(arg)?;
    }
    for (name, value) in &options.env {
        wasi.push_env(name, value)?;
    }
    for preopen in &options.preopens {
        let dir = Dir::open_ambient_dir(&preopen.host, ambient_authority()).with_context(|| {
            format!(
                "cannot open the `--dir` folder `{}`",
                preopen.host.display()
            )
        })?;
        wasi.push_preopened_dir(Box::new(SyncDir::from_cap_std(dir)), &preopen.guest)
            .map_err(|err| format_err!("cannot preopen `{}`: {err}", preopen.guest))?;
    }
    Ok(wasi)
}

/// Compiles the module, or reuses the machine code compiled for the same bytes and the
/// same engine by an earlier run: compiling PHP takes about 3 s, and the tests start it
/// dozens of times. The cache is `$WASMEDGE_TEST_HOST_CACHE`, else
/// `$XDG_CACHE_HOME/wasmedge-test-host` or `~/.cache/wasmedge-test-host`; an empty
/// `WASMEDGE_TEST_HOST_CACHE` turns it off.
fn load(engine: &Engine, path: &Path) -> wasmtime::Result<Module> {
    let bytes = std::fs::read(path)?;
    let Some(dir) = cache_dir() else {
        return Module::new(engine, &bytes);
    };
    let mut hasher = DefaultHasher::new();
    bytes.hash(&mut hasher);
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let cached = dir.join(format!("{:016x}-{}.cwasm", hasher.finish(), bytes.len()));
    if cached.is_file() {
        // SAFETY: the file was written by `Module::serialize` below, for this engine's
        // configuration (its hash is in the name), into a folder of this program's.
        if let Ok(module) = unsafe { Module::deserialize_file(engine, &cached) } {
            return Ok(module);
        }
    }
    let module = Module::new(engine, &bytes)?;
    // A cache that cannot be written only costs time; write whole files only.
    if std::fs::create_dir_all(&dir).is_ok() {
        let partial = cached.with_extension(format!("{}.partial", std::process::id()));
        if let Ok(serialized) = module.serialize()
            && std::fs::write(&partial, serialized).is_ok()
            && std::fs::rename(&partial, &cached).is_err()
        {
            let _ = std::fs::remove_file(&partial);
        }
    }
    Ok(module)
}

fn cache_dir() -> Option<PathBuf> {
    match std::env::var_os("WASMEDGE_TEST_HOST_CACHE") {
        Some(dir) if dir.is_empty() => None,
        Some(dir) => Some(dir.into()),
        None => std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache")))
            .map(|base| base.join("wasmedge-test-host")),
    }
}
