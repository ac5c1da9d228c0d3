//! Command-line definitions (clap). The work they trigger lives in `commands/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::env_vars;
use crate::runtime::Kind;

/// Build language interpreters (PHP first) for WebAssembly/WASI from recipes.
#[derive(Debug, Parser)]
#[command(
    name = "wlmake",
    version,
    propagate_version = true,
    after_help = "Exit codes: 0 success, 1 a step failed (fetch, build, ...), 2 bad input (recipe, flag, \
                  environment variable), 3 tests ran and failed, 4 a needed tool is missing \
                  (toolchain, runtime, native PHP, container engine)."
)]
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
    /// Cache root for downloaded sources and finished builds.
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
    /// Print a build's identity (the build cache key) without building.
    Identity(BuildTarget),
    /// The store of finished builds: list, garbage-collect, remove entries.
    Cache(CacheArgs),
    /// Run a built artifact on its runtime.
    Run(RunArgs),
    /// Run a recipe's smoke tests on its runtime.
    Test(TestArgs),
    /// Report the toolchain and runtimes found, with versions, and what is missing.
    Doctor(DoctorArgs),
    /// Show a wasm file's size, imports and exports; check its imports against a runtime.
    Inspect(InspectArgs),
    /// Print a recipe's dependency graph for a runtime, each node with its identity.
    Graph(GraphArgs),
    /// Edit patch series as git commits: start, export, check, rebase.
    Patch(PatchArgs),
    /// Make a recipe for a new release from an existing one (checksum left to fill in).
    New(NewArgs),
    /// The release matrix: every release recipe times its runtimes (`lib/` left out).
    Matrix(MatrixArgs),
    /// Collect built artifacts under release names, with their manifests and SHA256SUMS.
    ReleaseAssets(ReleaseAssetsArgs),
    /// Benchmark a build against the machine's native interpreter (not a test).
    Bench(BenchArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(CompletionsArgs),
    /// Print wlmake's man page, or write one page per command into a folder.
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(flatten)]
    pub target: BuildTarget,
    /// Runs of each scenario.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub runs: u32,
    /// Also write the results as JSON here.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// WasmEdge: AOT-compile the artifact first (minutes; reused while it is unchanged)
    /// and measure that too.
    #[arg(long)]
    pub aot: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write `wlmake.1` and `wlmake-COMMAND.1` pages into this folder instead.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
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
    #[arg(long, short = 'r', value_enum, hide_possible_values = true, default_value_t = Kind::Wasmtime)]
    pub runtime: Kind,
    /// Build profile: `release` (the recipe as written), `speed` (-O3, wasm-opt -O3) or
    /// `size` (-Oz, wasm-opt -Oz --strip-debug); each has its own output folder.
    #[arg(long, value_enum, default_value_t = crate::build::profile::Profile::Release)]
    pub profile: crate::build::profile::Profile,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub target: BuildTarget,
    /// Rebuild even when nothing changed (the build cache is not read).
    #[arg(long)]
    pub force: bool,
    /// Parallel make jobs (default: one per core).
    #[arg(short, long)]
    pub jobs: Option<usize>,
    #[command(flatten)]
    pub cache: BuildCacheArgs,
    /// Build inside the builder image (`docker/`) with this engine (default: the first of
    /// docker, podman that works).
    #[arg(long, value_name = "ENGINE", num_args = 0..=1, value_parser = ["docker", "podman"])]
    pub container: Option<Option<String>>,
    /// The builder image `--container` runs.
    #[arg(long, value_name = "IMAGE", env = env_vars::WLMAKE_CONTAINER_IMAGE, hide_env_values = true, default_value = crate::container::DEFAULT_IMAGE)]
    pub container_image: String,
    /// Print the result as JSON on stdout (recipe, runtime, identity, origin, output
    /// folder, artifacts with size and sha256, seconds) instead of the artifact lines.
    #[arg(long)]
    pub json: bool,
    /// Rebuild in a fresh temporary folder (the recipe itself; its libraries from the
    /// local build store) and compare every artifact with the published build:
    /// "identical", or where the bytes differ (wasm section, function). Exits 1 on a
    /// difference; the published output stays as it is.
    #[arg(long, conflicts_with_all = ["container", "force"])]
    pub check: bool,
    /// Also compile the modules ahead of time for the flavor's runtime on this machine
    /// (Wasmtime's `.cwasm`, WasmEdge's AOT form where the installed WasmEdge makes it),
    /// beside the `.wasm` and listed in `precompiled.json` with the runtime's version and
    /// target; `wlmake run` uses them while they match.
    #[arg(long, conflicts_with = "check")]
    pub precompile: bool,
}

/// How `wlmake build` uses the build cache (docs/cache.md).
#[derive(Debug, Args, Clone)]
pub struct BuildCacheArgs {
    /// Build for real: do not take the build from the build cache (it is still stored).
    #[arg(long)]
    pub no_cache: bool,
    /// A remote build cache (HTTP GET/PUT/HEAD, `<URL>/builds-v1/<identity>/<file>`),
    /// read before building.
    #[arg(long, value_name = "URL", env = env_vars::WLMAKE_CACHE_URL, hide_env_values = true)]
    pub cache_url: Option<String>,
    /// Push builds the remote cache lacks (with `Authorization: Bearer
    /// $WLMAKE_CACHE_TOKEN` when that is set).
    #[arg(long, env = env_vars::WLMAKE_CACHE_PUSH, hide_env_values = true, value_parser = clap::builder::FalseyValueParser::new())]
    pub cache_push: bool,
}

#[derive(Debug, Args)]
pub struct CacheArgs {
    #[command(subcommand)]
    pub command: CacheCommand,
}

#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// List the stored builds: recipe, runtime, identity, size, age, last use.
    Ls,
    /// Remove damaged entries, entries unused for longer than --max-age, then the least
    /// recently used until the store fits in --max-size.
    Gc(CacheGcArgs),
    /// Remove the entry whose identity starts with IDENTITY-PREFIX, or every entry.
    Rm(CacheRmArgs),
}

#[derive(Debug, Args)]
pub struct CacheGcArgs {
    /// Largest total size to keep, e.g. `500M`, `10G`.
    #[arg(long, value_name = "SIZE", value_parser = crate::store::units::parse_size)]
    pub max_size: Option<u64>,
    /// Remove entries not used for this long, e.g. `12h`, `30d`, `2w`.
    #[arg(long, value_name = "DURATION", value_parser = crate::store::units::parse_duration)]
    pub max_age: Option<std::time::Duration>,
}

#[derive(Debug, Args)]
pub struct CacheRmArgs {
    /// The start of an identity, as `wlmake cache ls` shows it.
    #[arg(
        value_name = "IDENTITY-PREFIX",
        required_unless_present = "all",
        conflicts_with = "all"
    )]
    pub prefix: Option<String>,
    /// Remove every entry.
    #[arg(long)]
    pub all: bool,
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
    /// Run native code compiled ahead of time from the artifact (WasmEdge's AOT form,
    /// Wasmtime's `.cwasm`): compiled once per artifact and runtime version into the
    /// cache (minutes for PHP on WasmEdge), then reused. WasmEdge's interpreter is about
    /// 100 times slower than its AOT code. Without this flag, a run still uses the
    /// build's own precompiled artifact (`wlmake build --precompile`) while it matches
    /// the runtime, and says why when it does not.
    #[arg(long)]
    pub precompiled: bool,
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
    /// Smoke tests: print the results as JSON on stdout (each test with its outcome,
    /// seconds and the reason of a failure) instead of PASS/FAIL lines.
    #[arg(long)]
    pub json: bool,
    /// Which tests: the recipe's smoke tests, or the language's own test suite
    /// (PHP's `run-tests.php`) checked against `expected-failures/`.
    #[arg(long, value_enum, default_value_t = Suite::Smoke)]
    pub suite: Suite,
    /// Upstream suite: a test folder or `.phpt` file, relative to the source root
    /// (`Zend/tests`) or absolute (repeatable; default: everything run-tests.php finds).
    #[arg(long, value_name = "DIR")]
    pub only: Vec<PathBuf>,
    /// Upstream suite: tests run in parallel (default: one per core).
    #[arg(short, long)]
    pub jobs: Option<usize>,
    /// Upstream suite: seconds before one test's runtime process is stopped (default: 60).
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
    /// Upstream suite: write a JUnit XML report here.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

/// The test suites `wlmake test` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Suite {
    /// The recipe's `[[test]]` entries.
    Smoke,
    /// The language's own test suite, driven by a native interpreter.
    Upstream,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Print the checks as JSON on stdout: each with its group, name, outcome and detail.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    /// Recipe id, e.g. `php/php-8.2.32`.
    pub recipe: String,
    /// Runtime whose dependencies are shown.
    #[arg(long, short = 'r', value_enum, hide_possible_values = true, default_value_t = Kind::Wasmtime)]
    pub runtime: Kind,
    /// Print Graphviz DOT instead of a tree.
    #[arg(long)]
    pub dot: bool,
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

/// Which builds a release covers (shared by `matrix` and `release-assets`).
#[derive(Debug, Args, Clone)]
pub struct ReleaseSelection {
    /// Only this language (repeatable); `lib` recipes are left out unless named here.
    #[arg(long = "language", value_name = "LANGUAGE")]
    pub languages: Vec<String>,
    /// Only this runtime (repeatable).
    #[arg(
        long = "runtime",
        short = 'r',
        value_name = "RUNTIME",
        value_enum,
        hide_possible_values = true
    )]
    pub runtimes: Vec<Kind>,
    /// Only the recipes of this release tag, `<language>/<version>+<YYYYMMDD>-<sha7>`
    /// (repeatable).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
}

#[derive(Debug, Args)]
pub struct MatrixArgs {
    #[command(flatten)]
    pub select: ReleaseSelection,
    /// Print GitHub Actions matrix JSON on one line: `{"include":[{"recipe":...},...]}`.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ReleaseAssetsArgs {
    /// The folder to create with the release files.
    pub out_dir: PathBuf,
    #[command(flatten)]
    pub select: ReleaseSelection,
    /// Replace OUT_DIR even when it is not empty.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct PatchArgs {
    #[command(subcommand)]
    pub command: PatchCommand,
}

#[derive(Debug, Subcommand)]
pub enum PatchCommand {
    /// Make a git workspace: the pristine upstream (tag `upstream`), then one commit per
    /// patch, the common set first, then the runtime's overlay.
    Start(PatchStartArgs),
    /// Write the workspace's commits back as patch files, one per commit.
    Export(PatchExportArgs),
    /// Check that every patch series applies exactly (no fuzz, no offset) to its upstream.
    Check(PatchCheckArgs),
    /// Replay a recipe's series onto another recipe of the language with three-way merges.
    Rebase(PatchRebaseArgs),
}

#[derive(Debug, Args)]
pub struct PatchStartArgs {
    #[command(flatten)]
    pub target: BuildTarget,
    /// Replace an existing workspace (its commits are lost).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct PatchExportArgs {
    /// Recipe id of the workspace (default: the workspace holding the current folder).
    pub recipe: Option<String>,
    /// Runtime of the workspace (needed when the recipe has several workspaces).
    #[arg(long, short = 'r', value_enum, hide_possible_values = true)]
    pub runtime: Option<Kind>,
    /// The patch set of new commits (those without a `Patch-Set:` trailer): `common` or
    /// the workspace's runtime.
    #[arg(long, value_name = "SET")]
    pub set: Option<String>,
    /// Write `DIR/<set>/NNNN-slug.patch` instead of the recipe's patch folders.
    #[arg(long, value_name = "DIR")]
    pub export_to: Option<PathBuf>,
    /// Overwrite patch folders that changed since the workspace last read them.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct PatchCheckArgs {
    /// Recipe ids to check.
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub recipes: Vec<String>,
    /// Check every recipe; those whose source cannot be fetched are skipped (and listed).
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct PatchRebaseArgs {
    /// The recipe whose series is replayed, e.g. `php/php-7.4.33`.
    #[arg(required_unless_present_any = ["resume", "skip", "abort"])]
    pub recipe: Option<String>,
    /// The recipe to replay it onto, e.g. `php/php-8.2.32`; its workspace is made anew.
    #[arg(long, value_name = "RECIPE", required_unless_present_any = ["resume", "skip", "abort"])]
    pub onto: Option<String>,
    /// The runtime whose series (common set + overlay) is replayed.
    #[arg(long, short = 'r', value_enum, hide_possible_values = true, default_value_t = Kind::Wasmtime)]
    pub runtime: Kind,
    /// Go on after resolving a conflict (`git add` the files first).
    #[arg(long = "continue", conflicts_with_all = ["skip", "abort"])]
    pub resume: bool,
    /// Drop the conflicting patch and go on.
    #[arg(long, conflicts_with = "abort")]
    pub skip: bool,
    /// Give up: remove the workspace the rebase made.
    #[arg(long)]
    pub abort: bool,
    /// Write the result to `DIR/<set>/` instead of the target recipe's patch folders.
    #[arg(long, value_name = "DIR", conflicts_with = "no_export")]
    pub export_to: Option<PathBuf>,
    /// Leave the result in the workspace only (export it later with `wlmake patch export`).
    #[arg(long)]
    pub no_export: bool,
    /// Replace an existing workspace of the target; export over patch folders that changed.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct NewArgs {
    /// The new recipe's id, e.g. `php/php-7.4.34`.
    pub recipe: String,
    /// The recipe to start from, e.g. `php/php-7.4.33`.
    #[arg(long, value_name = "RECIPE")]
    pub from: String,
    /// Point the patch sets at new folders under DIR (e.g. `patches/php/8.3`), created
    /// empty; without it the new recipe shares the patch sets of `--from`.
    #[arg(long, value_name = "DIR")]
    pub patches: Option<String>,
    /// Replace an existing recipe file.
    #[arg(long)]
    pub force: bool,
}
