//! Building a recipe for a runtime: an ordered list of named steps.
//!
//! [`BuildContext`] says what a build *is* (recipe, runtime, toolchain, folders);
//! [`run`] performs the steps: identity, fetch, patch, dependencies, configure, make,
//! collect.

mod cached;
pub mod check;
pub mod hermetic;
pub mod identity;
pub mod library;
pub mod native;
pub mod profile;
pub mod record;
pub mod reproducible;
pub mod settings;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

use crate::output::sbom::Material;
use crate::output::{self, DependencyEntry, Flags, Manifest, PatchEntry, RecipeEntry, SourceEntry};
use crate::patch::{self, PatchFile};
use crate::plan::{Layout, Plan};
use crate::process::Command;
use crate::recipe::graph;
use crate::recipe::{ArtifactKind, Recipe, RecipeId, Repository, SourceSpec};
use crate::reporter::Reporter;
use crate::runtime::abi;
use crate::source::{self, Cache, FetchOptions};
use crate::store::remote::Remote;
use crate::toolchain::Toolchain;
use identity::{BUILD_LOGIC_VERSION, DEFAULT_PROFILE, IdentityInputs};
use profile::ResolvedProfile;
use settings::{Placeholders, Settings, toolchain_env};

/// How a build uses the build cache (`<cache root>/builds-v1`, docs/cache.md).
#[derive(Debug, Clone, Default)]
pub struct CachePolicy {
    /// Look in the local store (and the remote) before building.
    pub read: bool,
    /// Put a finished build into the local store.
    pub write: bool,
    /// A remote build cache: read when `read`, pushed to when `remote.push`.
    pub remote: Option<Remote>,
}

/// What a build is: inputs, constraints, folders.
pub struct BuildContext<'a> {
    pub repo: &'a Repository,
    /// The recipe, runtime, profile, dependency graph and folders of the build.
    pub plan: &'a Plan,
    /// The plan's toolchain ([`Plan::toolchain`]).
    pub toolchain: &'a Toolchain,
    pub cache: Cache,
    pub fetch_options: FetchOptions,
    pub jobs: usize,
    pub force: bool,
    pub cache_policy: CachePolicy,
    /// The build profile (`--profile`): flags and the post-link `wasm-opt` of the recipe
    /// itself; its libraries and in-tree dependencies are release builds.
    pub profile: ResolvedProfile,
    /// `<work>/build/<id>/<runtime>` (`<runtime>-<profile>` for a profile other than
    /// release): source tree, logs, dependencies.
    pub work_dir: PathBuf,
    /// `<output root>/<id>/<runtime>` (or `<runtime>-<profile>`, as `work_dir`).
    pub output_dir: PathBuf,
    /// `<work root>/lib`: library prefixes shared by every recipe and runtime.
    pub lib_root: PathBuf,
}

/// What a build did.
#[derive(Debug)]
pub struct BuildOutcome {
    pub manifest: Manifest,
    pub output_dir: PathBuf,
    /// False when the existing output was up to date.
    pub rebuilt: bool,
    pub origin: Origin,
}

/// Where the published build came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The output was already this build.
    UpToDate,
    /// The local build cache.
    LocalCache,
    /// The remote build cache (now in the local one too).
    RemoteCache,
    /// Built here and now.
    Built,
}

/// The inputs of a build, resolved: what its identity is made of.
pub struct ResolvedInputs {
    pub patches: Vec<PatchFile>,
    pub settings: Settings,
    pub source_digest: String,
    /// Direct dependencies that are not `[library]` recipes (built in the build's folder).
    pub dependencies: Vec<(Recipe, DependencyEntry)>,
    /// Every dependency with its identity: those above, then every `[library]` recipe of
    /// the graph (transitively).
    pub dependency_entries: Vec<DependencyEntry>,
    /// The recipe's dependency graph (libraries built into shared prefixes).
    pub graph: graph::Graph,
    /// The identity of the recipe's native stage, if it has one.
    pub native_identity: Option<String>,
    pub identity: String,
}

impl BuildContext<'_> {
    /// Builds in `layout`'s folders instead of the plan's: `build --check` rebuilds in a
    /// temporary layout, beside nothing that is published.
    pub fn build_in(&mut self, layout: &Layout) {
        let (id, folder) = (&self.plan.recipe.id, self.plan.folder());
        self.work_dir = layout.work_dir(id, &folder);
        self.lib_root = layout.lib_root();
        self.output_dir = layout.output_dir(id, &folder);
    }

    fn tree(&self) -> PathBuf {
        self.work_dir.join("src")
    }

    /// `<work root>/native`: native stages, shared by every runtime.
    fn native_root(&self) -> PathBuf {
        self.lib_root.with_file_name("native")
    }

    fn log(&self, step: &str) -> PathBuf {
        self.work_dir.join("logs").join(format!("{step}.log"))
    }
}

/// Hash of a folder's files (relative paths and contents), for in-repository sources.
pub fn hash_tree(dir: &Path) -> std::io::Result<String> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.is_dir() {
                walk(&path, out)?;
            } else {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(dir, &mut files)?;
    files.sort();
    let mut hasher = Sha256::new();
    for file in files {
        let relative = file.strip_prefix(dir).unwrap_or(&file);
        hasher.update(relative.to_string_lossy().as_bytes());
        hasher.update([0]);
        hasher.update(std::fs::read(&file)?);
        hasher.update([0]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// A file artifact that starts with the wasm magic (not a folder, not an archive).
fn is_wasm_module(path: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 4];
    path.is_file()
        && std::fs::File::open(path)
            .and_then(|mut f| f.read_exact(&mut magic))
            .is_ok()
        && magic == *b"\0asm"
}

/// Distinct compiler warnings of one kind (`[-Wflag]`) in a build log: a warning in a
/// header counts once however many files include it.
pub fn count_warnings(log: &str, flag: &str) -> usize {
    let marker = format!("[{flag}]");
    let locations: std::collections::BTreeSet<&str> = log
        .lines()
        .filter(|line| line.contains("warning:") && line.contains(&marker))
        .map(|line| line.split(": warning:").next().unwrap_or(line))
        .collect();
    locations.len()
}

/// The digest that names a source: archive sha256, pinned commit, or folder content.
pub(crate) fn source_digest(recipe: &Recipe) -> Result<String> {
    Ok(match &recipe.source {
        SourceSpec::Archive(archive) => archive.sha256.to_string(),
        SourceSpec::Git(git) => git.commit.clone(),
        SourceSpec::Path(path) => hash_tree(&path.dir)
            .with_context(|| format!("cannot read source folder `{}`", path.dir.display()))?,
    })
}

fn identity_of(
    ctx: &BuildContext<'_>,
    recipe: &Recipe,
    source_digest: &str,
    patches: &[PatchFile],
    dependencies: &[DependencyEntry],
    profile: &str,
) -> String {
    identity::identity(&IdentityInputs {
        build_logic: BUILD_LOGIC_VERSION,
        recipe: recipe.content_sha256.as_str(),
        runtime: ctx.plan.runtime,
        source: source_digest,
        patches: patches
            .iter()
            .map(|p| (p.path.as_str(), p.sha256.as_str()))
            .collect(),
        dependencies,
        toolchain: &ctx.toolchain.identity,
        profile,
    })
}

/// A dependency's identity comes from its inputs alone, so it is known before building:
/// the same inputs as a build's (recipe, source, patches, runtime, toolchain), with its
/// own dependencies' identities, recursively. `chain` holds the recipes being resolved,
/// to name a cycle.
fn resolve_dependency(
    ctx: &BuildContext<'_>,
    id: &RecipeId,
    chain: &mut Vec<String>,
) -> Result<(Recipe, DependencyEntry)> {
    let parent = chain.last().cloned().unwrap_or_default();
    let dep = ctx
        .repo
        .load(&id.0)
        .with_context(|| format!("loading dependency `{id}` of `{parent}`"))?;
    if chain.contains(&dep.id.0) {
        bail!("dependency cycle: {} -> {}", chain.join(" -> "), dep.id);
    }
    chain.push(dep.id.0.clone());
    let settings = Settings::for_runtime(&dep.build, ctx.plan.runtime);
    let mut entries = Vec::new();
    for sub in &settings.depends {
        entries.push(resolve_dependency(ctx, sub, chain)?.1);
    }
    chain.pop();
    let patches = patch::series(ctx.repo.root(), &dep, ctx.plan.runtime)?;
    let entry = DependencyEntry {
        id: dep.id.to_string(),
        identity: identity_of(
            ctx,
            &dep,
            &source_digest(&dep)?,
            &patches,
            &entries,
            DEFAULT_PROFILE,
        ),
    };
    Ok((dep, entry))
}

/// The shared library prefixes of a build's context. `force` rebuilds the libraries too
/// (`wlmake build lib/... --force`); a recipe's --force rebuilds that recipe, not the
/// libraries it shares with others.
fn library_env<'a>(ctx: &'a BuildContext<'_>, force: bool) -> library::LibraryEnv<'a> {
    library::LibraryEnv {
        repo: ctx.repo,
        toolchain: ctx.toolchain,
        cache: &ctx.cache,
        fetch_options: &ctx.fetch_options,
        runtime: ctx.plan.runtime,
        root: &ctx.lib_root,
        cache_policy: &ctx.cache_policy,
        force,
    }
}

/// The identity of every node of the build's dependency graph, in build order.
pub fn graph_identities(ctx: &BuildContext<'_>) -> Result<Vec<String>> {
    library::graph_identities(&library_env(ctx, false), &ctx.plan.graph)
}

/// Resolves a build's inputs and its identity without building anything.
pub fn resolve_inputs(ctx: &BuildContext<'_>) -> Result<ResolvedInputs> {
    let recipe = &ctx.plan.recipe;
    let patches = patch::series(ctx.repo.root(), recipe, ctx.plan.runtime)?;
    let settings = Settings::for_runtime(&recipe.build, ctx.plan.runtime);
    let digest = source_digest(recipe)?;
    // The whole graph: [library] recipes (transitively) are built into shared prefixes;
    // other direct dependencies (in-repository C sources) inside this build's folder.
    let graph = &ctx.plan.graph;
    let node_identities = graph_identities(ctx)?;
    let root_index = graph.nodes.len() - 1;
    let mut chain = vec![recipe.id.0.clone()];
    let dependencies = graph
        .root()
        .deps
        .iter()
        .filter(|&&i| graph.nodes[i].recipe.library.is_none())
        .map(|&i| resolve_dependency(ctx, &graph.nodes[i].recipe.id, &mut chain))
        .collect::<Result<Vec<_>>>()?;
    let mut entries: Vec<DependencyEntry> = dependencies.iter().map(|(_, e)| e.clone()).collect();
    entries.extend(
        graph
            .transitive(root_index)
            .into_iter()
            .filter(|&i| graph.nodes[i].recipe.library.is_some())
            .map(|i| DependencyEntry {
                id: graph.nodes[i].recipe.id.to_string(),
                identity: node_identities[i].clone(),
            }),
    );
    // The native stage and the CONFIG_SITE file are inputs like dependencies: their
    // identities go into the build's identity and its manifest.
    let native_identity = recipe
        .native
        .as_ref()
        .map(|spec| native::identity(spec, &digest, &native::host_compiler(spec)));
    if let Some(identity) = &native_identity {
        entries.push(DependencyEntry {
            id: native::dependency_id(&recipe.id),
            identity: identity.clone(),
        });
    }
    if let Some(site) = &recipe.build.config_site {
        let path = ctx.repo.root().join(site);
        let bytes = std::fs::read(&path)
            .with_context(|| format!("cannot read the config-site file `{}`", path.display()))?;
        entries.push(DependencyEntry {
            id: format!("config-site:{site}"),
            identity: hex::encode(Sha256::digest(&bytes)),
        });
    }
    let identity = identity_of(
        ctx,
        recipe,
        &digest,
        &patches,
        &entries,
        &ctx.profile.identity(),
    );
    Ok(ResolvedInputs {
        patches,
        settings,
        source_digest: digest,
        dependencies,
        dependency_entries: entries,
        graph: graph.clone(),
        native_identity,
        identity,
    })
}

/// What went into the build, for its bill of materials: the recipe's own source and
/// patches first, then every other recipe of its graph with its identity.
fn materials(
    ctx: &BuildContext<'_>,
    graph: &graph::Graph,
    identity: &str,
    digest: &str,
    patches: &[PatchFile],
    entries: &[DependencyEntry],
) -> Result<Vec<Material>> {
    let mut out = vec![Material::new(
        &ctx.plan.recipe,
        "source",
        identity,
        digest,
        patches,
    )];
    for node in &graph.nodes[..graph.nodes.len() - 1] {
        let recipe = &node.recipe;
        let identity = entries
            .iter()
            .find(|e| e.id == recipe.id.0)
            .map(|e| e.identity.as_str())
            .unwrap_or_default();
        let role = if recipe.library.is_some() {
            "library"
        } else {
            "in-tree"
        };
        out.push(Material::new(
            recipe,
            role,
            identity,
            &source_digest(recipe)?,
            &patch::series(ctx.repo.root(), recipe, ctx.plan.runtime)?,
        ));
    }
    Ok(out)
}

/// Builds the library recipes this build depends on (in-repository C sources) inside
/// the build's work folder; returns name -> built tree. A dependency whose identity
/// matches its stamp is reused.
fn build_dependencies(
    ctx: &BuildContext<'_>,
    dependencies: &[(Recipe, DependencyEntry)],
    reporter: &dyn Reporter,
) -> Result<BTreeMap<String, PathBuf>> {
    let mut trees = BTreeMap::new();
    for (dep, entry) in dependencies {
        let dest = ctx.work_dir.join("deps").join(&dep.name).join("src");
        let stamp = dest.with_file_name("identity");
        if ctx.force
            || std::fs::read_to_string(&stamp).ok().as_deref() != Some(entry.identity.as_str())
        {
            reporter.step(&format!("dependency {}", dep.id));
            let _ = std::fs::remove_file(&stamp);
            source::prepare(&dep.source, &ctx.cache, &ctx.fetch_options, &dest, reporter)
                .with_context(|| format!("preparing the source of `{}`", dep.id))?;
            let placeholders = Placeholders {
                toolchain: ctx.toolchain,
                src: &dest,
                repo: ctx.repo.root(),
                jobs: ctx.jobs,
                deps: &trees,
                prefix: None,
                native: None,
            };
            let mut settings =
                Settings::for_runtime(&dep.build, ctx.plan.runtime).expand(&placeholders);
            let maps = reproducible::PrefixMaps::new()
                .add(&dest, format!("/deps/{}", dep.name))
                .add(&ctx.toolchain.view, "/toolchain")
                .add(ctx.repo.root(), "/repo");
            let epoch = reproducible::source_date_epoch(dep, &dest);
            reproducible::apply(&mut settings.env, epoch, &maps);
            make(
                ctx,
                &dest,
                &settings,
                &ctx.log(&format!("dep-{}", dep.name)),
            )
            .with_context(|| format!("building dependency `{}`", dep.id))?;
            for artifact in &dep.artifacts {
                if !dest.join(&artifact.path).is_file() {
                    bail!(
                        "dependency `{}` did not produce `{}`",
                        dep.id,
                        artifact.path
                    );
                }
            }
            std::fs::write(&stamp, &entry.identity)?;
        }
        trees.insert(dep.name.clone(), dest);
    }
    Ok(trees)
}

fn base_command(
    ctx: &BuildContext<'_>,
    program: &str,
    tree: &Path,
    env: &BTreeMap<String, String>,
) -> Command {
    let home = tree.with_file_name("home");
    hermetic::hermetic(
        Command::new(program).dir(tree),
        &ctx.toolchain.build_path(),
        &home,
        env,
    )
}

fn configure(ctx: &BuildContext<'_>, tree: &Path, settings: &Settings) -> Result<()> {
    let env = toolchain_env(ctx.toolchain, &settings.env);
    let name = ctx.plan.recipe.build.configure_script();
    let script = tree.join(name);
    if !script.is_file() {
        bail!("`{}` has no configure script `{name}`", tree.display());
    }
    // `./configure`, not its absolute path: PHP records the command line it ran (`$0`).
    // Started through `sh` from the step's PATH: a program named by a relative path is
    // not found by the spawn when the step runs without the `unshare` wrapper (inside a
    // container, where namespaces are not permitted). A script the recipe names
    // (`configure-script`) may be in another language: it runs by its own path.
    let command = match ctx.plan.recipe.build.configure_script {
        None => base_command(ctx, "sh", tree, &env).arg("./configure"),
        Some(_) => base_command(ctx, &script.display().to_string(), tree, &env),
    };
    command
        .arg(format!("--host={}", ctx.toolchain.target))
        .args(&settings.configure_args)
        .run_logged(&ctx.log("configure"))?;
    Ok(())
}

fn make(ctx: &BuildContext<'_>, tree: &Path, settings: &Settings, log: &Path) -> Result<()> {
    let env = toolchain_env(ctx.toolchain, &settings.env);
    base_command(ctx, "make", tree, &env)
        .arg(format!("-j{}", ctx.jobs))
        .args(&settings.make_vars)
        .args(&settings.make_targets)
        .run_logged(log)?;
    Ok(())
}

/// Builds a `[library]` recipe and its library dependencies into their shared prefixes.
pub fn run_library(
    ctx: &BuildContext<'_>,
    reporter: &dyn Reporter,
) -> Result<library::LibraryBuild> {
    ctx.plan.recipe.require_runtime(ctx.plan.runtime)?;
    let graph = &ctx.plan.graph;
    let lib_env = library_env(ctx, ctx.force);
    let mut built = library::build_graph(&lib_env, graph, ctx.jobs, reporter)?;
    Ok(built
        .remove(&(graph.nodes.len() - 1))
        .expect("the root library was built"))
}

/// Runs the build, or returns at once when the output is up to date.
pub fn run(ctx: &BuildContext<'_>, reporter: &dyn Reporter) -> Result<BuildOutcome> {
    let mut seconds = BTreeMap::new();
    let mut timed = |name: &str, start: Instant| {
        seconds.insert(
            name.to_string(),
            (start.elapsed().as_secs_f64() * 100.0).round() / 100.0,
        );
    };
    let recipe = &ctx.plan.recipe;
    recipe.require_runtime(ctx.plan.runtime)?;
    // One build of a recipe and runtime at a time: others wait here.
    let _lock = source::lock_exclusive_announced(&ctx.work_dir.join(".lock"), |holder| {
        let holder = holder
            .map(|pid| format!(" (pid {pid})"))
            .unwrap_or_default();
        reporter.warn(&format!(
            "waiting for another build of {} for {}{holder} to finish ...",
            recipe.id, ctx.plan.runtime
        ));
    })?;
    let ResolvedInputs {
        patches,
        settings,
        source_digest: digest,
        dependencies,
        dependency_entries,
        graph,
        native_identity,
        identity: build_identity,
    } = resolve_inputs(ctx)?;
    let lib_env = library_env(ctx, false);

    let existing = match Manifest::load(&ctx.output_dir) {
        Ok(existing) => existing,
        Err(error) => {
            reporter.warn(&format!("{error}: building again"));
            None
        }
    };
    let intact = existing.as_ref().is_some_and(|existing| {
        existing.build_identity == build_identity
            && match existing.first_changed(&ctx.output_dir) {
                None => true,
                Some(changed) => {
                    reporter.warn(&format!(
                        "{changed}: restoring it from the build cache or building it again"
                    ));
                    false
                }
            }
    });
    if !ctx.force
        && intact
        && let Some(existing) = existing
    {
        cached::push_up_to_date(ctx, &existing, reporter);
        return Ok(BuildOutcome {
            manifest: existing,
            output_dir: ctx.output_dir.clone(),
            rebuilt: false,
            origin: Origin::UpToDate,
        });
    }
    if let Some(outcome) = cached::restore(ctx, &build_identity, reporter)? {
        return Ok(outcome);
    }

    // A fresh start: old logs and trees of this recipe and runtime go.
    let _ = std::fs::remove_dir_all(ctx.work_dir.join("logs"));
    let tree = ctx.tree();

    reporter.step("fetch");
    let start = Instant::now();
    let prepared = source::prepare(
        &recipe.source,
        &ctx.cache,
        &ctx.fetch_options,
        &tree,
        reporter,
    )
    .with_context(|| format!("preparing the source of `{}`", recipe.id))?;
    // Before any patch touches a file: the archive's own times.
    let epoch = reproducible::source_date_epoch(recipe, &tree);
    timed("fetch", start);

    reporter.step("patch");
    let start = Instant::now();
    reporter.task_start("patch", Some(patches.len() as u64));
    for file in &patches {
        patch::apply(&tree, file, &ctx.log("patch"))?;
        reporter.task_advance(1);
    }
    reporter.task_finish();
    timed("patch", start);

    // The profile's own source preparation (e.g. PHP's VM generated as another kind).
    if !ctx.profile.spec.prepare.is_empty() {
        reporter.step("prepare");
        let start = Instant::now();
        for command in &ctx.profile.spec.prepare {
            let (program, args) = command.split_first().expect("validated: not empty");
            base_command(ctx, program, &tree, &BTreeMap::new())
                .args(args)
                .run_logged(&ctx.log("prepare"))
                .with_context(|| {
                    format!(
                        "the `{}` profile's prepare command `{}` failed in `{}`",
                        ctx.profile.profile.name(),
                        command.join(" "),
                        tree.display()
                    )
                })?;
        }
        timed("prepare", start);
    }

    let start = Instant::now();
    let libraries = library::build_graph(&lib_env, &graph, ctx.jobs, reporter)?;
    let mut dep_trees = build_dependencies(ctx, &dependencies, reporter)?;
    for build in libraries.values() {
        dep_trees.insert(build.name.clone(), build.prefix.clone());
    }
    timed("dependencies", start);

    // The native stage: the same source for the build machine, in a tree of its own.
    let native_program = match &native_identity {
        Some(identity) => {
            let start = Instant::now();
            let store = crate::store::Store::new(ctx.cache.root());
            let env = native::NativeEnv {
                cache: &ctx.cache,
                fetch_options: &ctx.fetch_options,
                root: &ctx.native_root(),
                repo: ctx.repo.root(),
                jobs: ctx.jobs,
                store: Some(&store),
                store_read: ctx.cache_policy.read,
                store_write: ctx.cache_policy.write,
            };
            let program = native::ensure(&env, recipe, identity, reporter)?;
            timed("native", start);
            Some(program)
        }
        None => None,
    };

    let placeholders = Placeholders {
        toolchain: ctx.toolchain,
        src: &tree,
        repo: ctx.repo.root(),
        jobs: ctx.jobs,
        deps: &dep_trees,
        prefix: None,
        native: native_program.as_deref(),
    };
    let mut expanded = settings.expand(&placeholders);
    // pkg-config sees the libraries' prefixes and nothing of the host, through a
    // wrapper: their (host) folders stay out of configure's environment.
    let prefixes: Vec<&Path> = libraries.values().map(|b| b.prefix.as_path()).collect();
    let pkg_config_vars: BTreeMap<String, String> = library::pkg_config_env(&prefixes)
        .into_iter()
        .filter(|(key, _)| !expanded.env.contains_key(key))
        .collect();
    let path = reproducible::pkg_config_wrapper(
        &ctx.work_dir.join("bin"),
        &pkg_config_vars,
        &ctx.toolchain.build_path(),
    )
    .with_context(|| {
        format!(
            "cannot write the pkg-config wrapper in `{}`",
            ctx.work_dir.display()
        )
    })?;
    expanded.env.entry("PATH".into()).or_insert(path);
    let mut maps = reproducible::PrefixMaps::new()
        .add(&tree, format!("/src/{}-{}", recipe.name, recipe.version))
        .add(
            &ctx.work_dir,
            format!("/build/{}-{}", recipe.name, recipe.version),
        )
        .add(&ctx.toolchain.view, "/toolchain")
        .add(ctx.repo.root(), "/repo");
    // Library prefixes first: they are among `dep_trees` too, and the first name of a
    // folder is the one kept.
    for build in libraries.values() {
        maps = maps.add(&build.prefix, format!("/lib/{}", build.name));
    }
    for (name, dir) in &dep_trees {
        maps = maps.add(dir, format!("/deps/{name}"));
    }
    reproducible::apply(&mut expanded.env, epoch, &maps);
    ctx.profile.apply_flags(&mut expanded.env);
    if let Some(site) = &recipe.build.config_site {
        expanded.env.insert(
            "CONFIG_SITE".into(),
            ctx.repo.root().join(site).display().to_string(),
        );
    }

    if recipe.build.system == "autotools" {
        reporter.step("configure");
        let start = Instant::now();
        configure(ctx, &tree, &expanded)?;
        timed("configure", start);
    }

    reporter.step("make");
    let start = Instant::now();
    make(ctx, &tree, &expanded, &ctx.log("make"))?;
    timed("make", start);

    let log = std::fs::read_to_string(ctx.log("make")).unwrap_or_default();
    let warnings = recipe
        .build
        .count_warnings
        .iter()
        .map(|flag| (flag.clone(), count_warnings(&log, flag)))
        .collect();

    let artifacts: Vec<(String, PathBuf)> = recipe
        .artifacts
        .iter()
        .map(|a| (a.name.clone(), tree.join(&a.path)))
        .collect();
    if ctx.profile.spec.wasm_opt.is_some() {
        reporter.step("wasm-opt");
        let start = Instant::now();
        for (name, path) in &artifacts {
            if is_wasm_module(path) {
                ctx.profile.optimise(name, path, &ctx.log("wasm-opt"))?;
            }
        }
        timed("wasm-opt", start);
    }

    reporter.step("check imports");
    let start = Instant::now();
    // WasmEdge 0.13-0.16 do not refuse a wrong socket signature at load time (they
    // corrupt memory), so every artifact's imports are checked against the runtime's table.
    let table = abi::load_table(ctx.repo.root(), ctx.plan.runtime.abi_table())?;
    let mut import_tables = BTreeMap::new();
    for spec in &recipe.artifacts {
        let path = tree.join(&spec.path);
        let found = match spec.kind {
            ArtifactKind::File => path.is_file(),
            ArtifactKind::Folder => path.is_dir(),
        };
        if !found {
            bail!(
                "artifact `{}` was not produced: `{}` is not a {}",
                spec.name,
                path.display(),
                match spec.kind {
                    ArtifactKind::File => "file",
                    ArtifactKind::Folder => "folder",
                }
            );
        }
    }
    for (name, path) in &artifacts {
        if path.extension().is_some_and(|e| e == "a") || path.is_dir() {
            continue;
        }
        let module = abi::read_module_file(path)?;
        abi::verdict(path, &table, abi::check(&module, &table))
            .and_then(|()| abi::check_features_file(path, &table))
            .with_context(|| {
                format!(
                    "artifact `{name}` does not fit runtime {}",
                    ctx.plan.runtime
                )
            })?;
        let file = table
            .file
            .strip_prefix(ctx.repo.root())
            .unwrap_or(&table.file);
        import_tables.insert(name.clone(), file.display().to_string());
    }
    timed("check imports", start);

    reporter.step("record");
    let start = Instant::now();
    let setting = crate::runtime::RunSetting {
        mounts: crate::runtime::folder_mounts(recipe, |name| {
            artifacts
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, p)| p.clone())
        }),
        env: recipe.run_env.clone(),
    };
    let records = record::run_records(
        &recipe.records,
        ctx.plan.runtime,
        &artifacts,
        &setting,
        reporter,
    )?;
    timed("record", start);

    reporter.step("collect");
    let start = Instant::now();
    let materials = materials(
        ctx,
        &graph,
        &build_identity,
        &digest,
        &patches,
        &dependency_entries,
    )?;
    let manifest = Manifest {
        manifest_version: output::MANIFEST_VERSION,
        wlmake_version: env!("CARGO_PKG_VERSION").into(),
        recipe: RecipeEntry {
            id: recipe.id.to_string(),
            file: recipe
                .file
                .strip_prefix(ctx.repo.root())
                .unwrap_or(&recipe.file)
                .display()
                .to_string(),
            content_sha256: recipe.content_sha256.to_string(),
        },
        runtime: ctx.plan.runtime,
        build_identity,
        source: SourceEntry {
            kind: match &recipe.source {
                SourceSpec::Archive(_) => "archive",
                SourceSpec::Git(_) => "git",
                SourceSpec::Path(_) => "path",
            }
            .into(),
            digest,
            provider: prepared.fetched.provider.clone(),
        },
        patches: patches
            .iter()
            .map(|p| PatchEntry {
                set: p.set.clone(),
                path: p.path.clone(),
                sha256: p.sha256.clone(),
            })
            .collect(),
        dependencies: dependency_entries,
        toolchain: serde_json::json!({
            "identity": ctx.toolchain.identity,
            "layout": ctx.toolchain.tools.layout,
            "target": ctx.toolchain.target,
            "versions": ctx.toolchain.tools.versions,
            "clang": ctx.toolchain.tools.clang,
            "wasm_ld": ctx.toolchain.tools.wasm_ld,
            "sysroot": ctx.toolchain.tools.sysroot,
        }),
        flags: Flags {
            env: toolchain_env(ctx.toolchain, &expanded.env),
            configure_args: expanded.configure_args.clone(),
            make_targets: expanded.make_targets.clone(),
            make_vars: expanded.make_vars.clone(),
            jobs: ctx.jobs,
        },
        profile: Some(ctx.profile.entry()),
        artifacts: Vec::new(),
        import_check: import_tables,
        warnings,
        step_seconds: BTreeMap::new(),
        records,
        materials,
    };
    timed("collect", start);
    let manifest = Manifest {
        step_seconds: seconds,
        ..manifest
    };
    let manifest = output::publish(&ctx.output_dir, &artifacts, manifest)?;
    // The build is published: from here on a cache problem is only a warning.
    cached::save(ctx, &manifest, reporter);
    Ok(BuildOutcome {
        manifest,
        output_dir: ctx.output_dir.clone(),
        rebuilt: true,
        origin: Origin::Built,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_are_counted_once_per_location() {
        let log = "\
Zend/zend.h:10:5: warning: cast from 'int (*)(void)' to 'void (*)(void)' converts to incompatible function type [-Wcast-function-type-strict]
Zend/zend.h:10:5: warning: cast from 'int (*)(void)' to 'void (*)(void)' converts to incompatible function type [-Wcast-function-type-strict]
main/main.c:3:1: warning: cast from 'a' to 'b' converts to incompatible function type [-Wcast-function-type-strict]
main/main.c:9:1: warning: unused variable 'x' [-Wunused-variable]
";
        assert_eq!(count_warnings(log, "-Wcast-function-type-strict"), 2);
        assert_eq!(count_warnings(log, "-Wunused-variable"), 1);
        assert_eq!(count_warnings(log, "-Wformat"), 0);
    }
}
