//! Command-line definitions (clap). The work they trigger lives in `commands/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::env_vars;

/// Build language interpreters (PHP first) for WebAssembly/WASI from recipes.
#[derive(Debug, Parser)]
#[command(name = "wlmake", version, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Print debug logs (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Print only errors and results: no progress bars, no status lines.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Cache root for downloaded sources.
    #[arg(long, global = true, env = env_vars::WLMAKE_CACHE_DIR, hide_env_values = true, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// An archive mirror tried first: a base URL or a folder of pre-seeded archives.
    #[arg(long, global = true, value_name = "URL|DIR")]
    pub mirror: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List every recipe with the runtimes it supports.
    List(ListArgs),
    /// Show a resolved recipe.
    Show(ShowArgs),
    /// Fetch, verify and extract a recipe's source into a fresh work tree.
    Fetch(FetchArgs),
    /// Validate every recipe and every patch-set reference.
    Lint,
    /// Build a recipe for a runtime: fetch, patch, configure, make, collect artifacts.
    Build(BuildArgs),
    /// Run a built artifact on its runtime.
    Run(RunArgs),
    /// Run a recipe's smoke tests on its runtime.
    Test(TestArgs),
    /// Report the toolchain and runtimes found, with versions, and what is missing.
    Doctor,
    /// Show a wasm file's size, imports and exports; check its imports against a runtime.
    Inspect(InspectArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Recipe id, e.g. `php/php-7.4.33`.
    pub recipe: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// Recipe id, e.g. `php/php-7.4.33`.
    pub recipe: String,
}

#[derive(Debug, Args, Clone)]
pub struct BuildTarget {
    /// Recipe id, e.g. `php/php-7.4.33`.
    pub recipe: String,
    /// Runtime to build for.
    #[arg(long, short = 'r', default_value = "wasmtime")]
    pub runtime: String,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub target: BuildTarget,
    /// Rebuild even when nothing changed.
    #[arg(long)]
    pub force: bool,
    /// Parallel make jobs (default: one per core).
    #[arg(short, long)]
    pub jobs: Option<usize>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub target: BuildTarget,
    /// Artifact to run (default: the recipe's first artifact).
    #[arg(long)]
    pub artifact: Option<String>,
    /// A host folder preopened in the guest, `HOST[::GUEST]` (default: the current folder as `/`... see docs).
    #[arg(long = "dir", value_name = "HOST[::GUEST]")]
    pub dirs: Vec<String>,
    /// An environment variable for the guest, `NAME=VALUE`.
    #[arg(long = "env", value_name = "NAME=VALUE")]
    pub env: Vec<String>,
    /// Arguments for the artifact.
    #[arg(last = true)]
    pub args: Vec<String>,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    #[command(flatten)]
    pub target: BuildTarget,
    /// Run only the smoke tests whose name contains this.
    #[arg(long)]
    pub filter: Option<String>,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The WebAssembly module to read.
    pub file: PathBuf,
    /// Check the imports against this runtime's table (`wasmtime`, `wasmedge`, or a
    /// table's file name in `runtimes/`); exit non-zero on a mismatch.
    #[arg(long, short = 'r')]
    pub runtime: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}
