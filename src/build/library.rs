//! Library builds: each `[library]` recipe is built once per identity into a prefix of
//! its own (`include/`, `lib/*.a`, `lib/pkgconfig/*.pc`), shared by every recipe,
//! runtime and checkout that needs it.
//!
//! Where a prefix lives: the build store (`<cache>/builds-v1/<identity>/`, verified on
//! every use, fetched from and pushed to the remote like any build) unless the cache is
//! off; then the checkout's `<work>/lib/<name>/<identity16>/prefix`. Builds happen in
//! the checkout's folder; a finished prefix is made relocatable (its `.pc` files name
//! their prefix as `${pcfiledir}/../..`, libtool's `.la` files are dropped) and then
//! copied into the store, so a prefix works wherever the store is.
//!
//! [`ensure_library`] is the one place that answers "this library, built, where?";
//! [`build_graph`] runs it over a dependency graph, independent libraries at the same
//! time within the `-j` budget.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use sha2::{Digest, Sha256};

use super::CachePolicy;
use super::settings::{Placeholders, Settings, toolchain_env};
use crate::patch::{self, PatchError};
use crate::process::{Command, ProcessError};
use crate::recipe::graph::Graph;
use crate::recipe::{Recipe, RecipeId, Repository, SourceSpec};
use crate::reporter::Reporter;
use crate::runtime::Kind;
use crate::source::{self, Cache, FetchOptions, SourceError};
use crate::store::{Lookup, Store, describe, list_files};
use crate::toolchain::Toolchain;

/// Bump when what a library build does changes: part of every library identity.
/// 2: prefixes are relocatable (`${pcfiledir}` in `.pc` files, no `.la` files).
/// 3: hermetic steps (cleared environment, fixed PATH, no network).
/// 4: reproducible (SOURCE_DATE_EPOCH, `-ffile-prefix-map` in CFLAGS/CXXFLAGS).
const LIBRARY_LOGIC_VERSION: u32 = 4;
/// autoconf's own config.sub (2022): knows `wasm32-wasi`, which the copies in older
/// release tarballs (libxml2 2.9.14, ...) refuse. It replaces theirs before configure.
pub const HOST_CONFIG_SUB: &str = "/usr/share/autoconf/build-aux/config.sub";
/// The file whose content (the identity) says a library's prefix is complete.
const STAMP: &str = "complete";

#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    #[error("library `{id}`: step `{step}` failed")]
    Step {
        id: RecipeId,
        step: String,
        #[source]
        source: Box<ProcessError>,
    },
    #[error("library `{id}` built but its prefix `{}` lacks {what}", prefix.display())]
    Missing {
        id: RecipeId,
        what: String,
        prefix: PathBuf,
    },
    #[error("library `{id}`: cannot prepare its source")]
    Source {
        id: RecipeId,
        #[source]
        source: Box<SourceError>,
    },
    #[error("library `{id}`: cannot apply its patches")]
    Patch {
        id: RecipeId,
        #[source]
        source: Box<PatchError>,
    },
    #[error(
        "library `{id}`: `{}` still names the build folder `{}` after relocation",
        file.display(),
        prefix.display()
    )]
    NotRelocatable {
        id: RecipeId,
        file: PathBuf,
        prefix: PathBuf,
    },
    #[error("library `{id}`: its source has no configure script `{script}`")]
    NoConfigureScript { id: RecipeId, script: String },
    #[error("library `{id}` depends on `{dep}`, which is not a [library] recipe")]
    NotALibrary { id: RecipeId, dep: RecipeId },
    #[error("library `{id}`: {what} `{}`", path.display())]
    Io {
        id: RecipeId,
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl LibraryError {
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Step { step, source, .. } => crate::process::hint_from_output(&source.to_string())
                .or_else(|| Some(format!("the full `{step}` log is named above; fix the recipe's settings or add a patch under patches/lib/"))),
            Self::Missing { .. } => Some(
                "check the recipe's [library] archives and pkg-config names against what `make install` wrote (the install log is in the library's logs folder)".into(),
            ),
            Self::NotRelocatable { .. } => Some(
                "a .pc file must describe its prefix through `prefix=`: write the other paths relative to it (`${prefix}/lib`), with a patch under patches/lib/ if the library's template does not".into(),
            ),
            Self::NoConfigureScript { .. } => Some(
                "name the source's configure script in [build] configure-script (a path inside the source tree, e.g. \"Configure\"), or use system = \"make\"".into(),
            ),
            Self::NotALibrary { .. } => Some(
                "a library's dependencies must be [library] recipes too: they are found by prefix".into(),
            ),
            Self::Source { source, .. } => source.hint(),
            Self::Patch { source, .. } => source.hint(),
            Self::Io { .. } => Some("check that the work folder is writable".into()),
        }
    }
}

/// A library ready to use.
#[derive(Debug, Clone)]
pub struct LibraryBuild {
    pub id: RecipeId,
    /// The recipe's `package.name`: what `{dep:NAME}` and `[build.requires]` use.
    pub name: String,
    pub identity: String,
    /// `include/`, `lib/*.a`, `lib/pkgconfig/*.pc`.
    pub prefix: PathBuf,
    /// False when an earlier build with the same identity was reused.
    pub rebuilt: bool,
    /// Seconds this build took (0 when reused).
    pub seconds: f64,
}

/// What every library build shares.
pub struct LibraryEnv<'a> {
    pub repo: &'a Repository,
    pub toolchain: &'a Toolchain,
    pub cache: &'a Cache,
    pub fetch_options: &'a FetchOptions,
    pub runtime: Kind,
    /// `<work root>/lib`: where libraries are built (and kept when the cache is off).
    pub root: &'a Path,
    /// The build store (and remote) that keeps finished prefixes for every checkout.
    pub cache_policy: &'a CachePolicy,
    pub force: bool,
}

/// The environment that makes pkg-config see the given prefixes and nothing else: no
/// host `.pc` file (`PKG_CONFIG_LIBDIR` replaces the default search path), no
/// `PKG_CONFIG_PATH` from the caller, no sysroot rewriting.
pub fn pkg_config_env(prefixes: &[&Path]) -> BTreeMap<String, String> {
    let dirs: Vec<String> = prefixes
        .iter()
        .map(|p| p.join("lib").join("pkgconfig").display().to_string())
        .collect();
    BTreeMap::from([
        ("PKG_CONFIG_LIBDIR".to_string(), dirs.join(":")),
        ("PKG_CONFIG_PATH".to_string(), String::new()),
    ])
}

/// A library's identity: its recipe, source, patches, settings for this runtime,
/// toolchain and its dependencies' identities (never the recipe that asked for it).
/// Runtimes share a build when the recipe builds the same for both.
pub fn identity(
    env: &LibraryEnv<'_>,
    recipe: &Recipe,
    deps: &[&LibraryBuild],
) -> anyhow::Result<String> {
    let patches = patch::series(env.repo.root(), recipe, env.runtime)?;
    let settings = Settings::for_runtime(&recipe.build, env.runtime);
    let input = serde_json::json!({
        "library_logic": LIBRARY_LOGIC_VERSION,
        "recipe": recipe.content_sha256.as_str(),
        "source": super::source_digest(recipe)?,
        "patches": patches.iter().map(|p| (&p.path, &p.sha256)).collect::<Vec<_>>(),
        "settings": {
            "env": settings.env,
            "configure_args": settings.configure_args,
            "make_targets": settings.make_targets,
            "make_vars": settings.make_vars,
        },
        "toolchain": env.toolchain.identity,
        "config_sub": (recipe.build.system == "autotools")
            .then(|| std::fs::read(HOST_CONFIG_SUB).ok())
            .flatten()
            .map(|bytes| hex::encode(Sha256::digest(bytes))),
        "dependencies": deps.iter().map(|d| (d.id.0.as_str(), d.identity.as_str())).collect::<Vec<_>>(),
    });
    Ok(hex::encode(Sha256::digest(input.to_string().as_bytes())))
}

/// Where a library of this identity lives: `<root>/<name>/<identity16>/`.
pub fn library_dir(root: &Path, name: &str, identity: &str) -> PathBuf {
    root.join(name).join(&identity[..16])
}

/// The prefix holds every archive and `.pc` file the recipe promises.
fn check_prefix(recipe: &Recipe, prefix: &Path) -> Result<(), LibraryError> {
    let library = recipe.library.as_ref().expect("a library recipe");
    let missing = |what: String| LibraryError::Missing {
        id: recipe.id.clone(),
        what,
        prefix: prefix.to_path_buf(),
    };
    for file in library.archives.iter().chain(&library.headers) {
        if !prefix.join(file).is_file() {
            return Err(missing(format!("`{file}`")));
        }
    }
    for module in &library.pkg_config {
        let pc = format!("lib/pkgconfig/{module}.pc");
        if !prefix.join(&pc).is_file() {
            return Err(missing(format!("`{pc}`")));
        }
    }
    Ok(())
}

/// Builds `recipe` into its prefix unless a complete build of the same identity exists;
/// `deps` are its direct and indirect library dependencies, already built.
pub fn ensure_library(
    env: &LibraryEnv<'_>,
    recipe: &Recipe,
    deps: &[&LibraryBuild],
    jobs: usize,
    reporter: &dyn Reporter,
) -> anyhow::Result<LibraryBuild> {
    let identity = identity(env, recipe, deps)?;
    let policy = env.cache_policy;
    let store = Store::new(env.cache.root());
    let found = |prefix: PathBuf| LibraryBuild {
        id: recipe.id.clone(),
        name: recipe.name.clone(),
        identity: identity.clone(),
        prefix,
        rebuilt: false,
        seconds: 0.0,
    };
    if policy.read
        && !env.force
        && let Some(prefix) = from_cache(env, &store, recipe, &identity, reporter)
    {
        return Ok(found(prefix));
    }
    let local = build_in_checkout(env, recipe, deps, &identity, jobs, reporter)?;
    if !policy.write {
        return Ok(local);
    }
    match store.insert(
        &identity,
        &recipe.id.0,
        env.runtime.name(),
        &local.prefix,
        &list_files(&local.prefix).map_err(|source| LibraryError::Io {
            id: recipe.id.clone(),
            what: "cannot list",
            path: local.prefix.clone(),
            source,
        })?,
    ) {
        Ok(entry) => {
            if let Some(remote) = policy.remote.as_ref().filter(|r| r.push)
                && let Err(error) = remote.push(&entry)
            {
                reporter.warn(&format!(
                    "cannot push library {} to the remote build cache: {}",
                    recipe.id,
                    describe(&error)
                ));
            }
            Ok(LibraryBuild {
                prefix: entry.dir,
                ..local
            })
        }
        Err(error) => {
            reporter.warn(&format!(
                "cannot store library {} in the build cache: {} (using {})",
                recipe.id,
                describe(&error),
                local.prefix.display()
            ));
            Ok(local)
        }
    }
}

/// A verified prefix of this identity from the local store, else from the remote.
fn from_cache(
    env: &LibraryEnv<'_>,
    store: &Store,
    recipe: &Recipe,
    identity: &str,
    reporter: &dyn Reporter,
) -> Option<PathBuf> {
    let usable = |dir: &Path| check_prefix(recipe, dir).is_ok();
    match store.lookup(identity) {
        Ok(Lookup::Hit(entry)) if usable(&entry.dir) => return Some(entry.dir),
        Ok(Lookup::Hit(_)) => {
            reporter.warn(&format!(
                "the build cache entry of library {} lacks files its recipe promises: removed it",
                recipe.id
            ));
            let _ = store.remove(identity);
        }
        Ok(Lookup::Removed { reason }) => reporter.warn(&format!(
            "the build cache entry of library {} did not match its entry.json ({reason}): \
             removed it; building instead",
            recipe.id
        )),
        Ok(Lookup::Miss) => {}
        Err(error) => reporter.warn(&format!(
            "cannot read the build cache for library {}: {}",
            recipe.id,
            describe(&error)
        )),
    }
    let remote = env.cache_policy.remote.as_ref()?;
    match remote.fetch(store, identity) {
        Ok(Some(entry)) if usable(&entry.dir) => {
            reporter.info(&format!(
                "library {} from the remote build cache {}",
                recipe.id,
                remote.base()
            ));
            Some(entry.dir)
        }
        Ok(_) => None,
        Err(error) => {
            reporter.warn(&format!(
                "{}; building library {} locally",
                describe(&error),
                recipe.id
            ));
            None
        }
    }
}

/// Makes a finished prefix independent of its place: every `.pc` file names its prefix
/// relative to itself (`${pcfiledir}/../..`), libtool's `.la` files (absolute paths of
/// dependency archives; pkg-config is the interface) are removed. A `.pc` file that still
/// names the build folder is an error.
fn make_relocatable(recipe: &Recipe, dir: &Path, prefix: &Path) -> Result<(), LibraryError> {
    let io = |what: &'static str, path: &Path| {
        let id = recipe.id.clone();
        let path = path.to_path_buf();
        move |source| LibraryError::Io {
            id,
            what,
            path,
            source,
        }
    };
    let absolute = prefix.display().to_string();
    for relative in list_files(prefix).map_err(io("cannot list", prefix))? {
        let path = prefix.join(&relative);
        if relative.ends_with(".la") {
            std::fs::remove_file(&path).map_err(io("cannot remove", &path))?;
        } else if relative.ends_with(".pc") && relative.matches('/').count() == 2 {
            let text = std::fs::read_to_string(&path).map_err(io("cannot read", &path))?;
            let relocated = text.replace(&absolute, "${pcfiledir}/../..");
            if relocated.contains(&dir.display().to_string()) {
                return Err(LibraryError::NotRelocatable {
                    id: recipe.id.clone(),
                    file: path,
                    prefix: prefix.to_path_buf(),
                });
            }
            std::fs::write(&path, relocated).map_err(io("cannot write", &path))?;
        }
    }
    Ok(())
}

/// Builds the library in the checkout's `<work>/lib/<name>/<identity16>/` unless a
/// complete build of this identity is there.
fn build_in_checkout(
    env: &LibraryEnv<'_>,
    recipe: &Recipe,
    deps: &[&LibraryBuild],
    identity: &str,
    jobs: usize,
    reporter: &dyn Reporter,
) -> anyhow::Result<LibraryBuild> {
    let identity = identity.to_string();
    let dir = library_dir(env.root, &recipe.name, &identity);
    let io = |what: &'static str, path: &Path| {
        let id = recipe.id.clone();
        let path = path.to_path_buf();
        move |source| LibraryError::Io {
            id,
            what,
            path,
            source,
        }
    };
    std::fs::create_dir_all(dir.parent().expect("has a parent"))
        .map_err(io("cannot create", env.root))?;
    // One build of an identity at a time, across processes: others wait, then reuse it.
    let _lock = source::lock_exclusive(&dir.with_extension("lock"))?;
    let prefix = dir.join("prefix");
    let done = |rebuilt: bool, seconds: f64| LibraryBuild {
        id: recipe.id.clone(),
        name: recipe.name.clone(),
        identity: identity.clone(),
        prefix: prefix.clone(),
        rebuilt,
        seconds,
    };
    if !env.force
        && std::fs::read_to_string(dir.join(STAMP)).ok().as_deref() == Some(identity.as_str())
        && check_prefix(recipe, &prefix).is_ok()
    {
        return Ok(done(false, 0.0));
    }
    let start = Instant::now();
    reporter.step(&format!("library {}", recipe.id));
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(io("cannot remove", &dir))?;
    }
    std::fs::create_dir_all(&prefix).map_err(io("cannot create", &prefix))?;
    let tree = dir.join("src");
    let logs = dir.join("logs");
    source::prepare(
        &recipe.source,
        env.cache,
        env.fetch_options,
        &tree,
        reporter,
    )
    .map_err(|source| LibraryError::Source {
        id: recipe.id.clone(),
        source: Box::new(source),
    })?;
    // Before any patch touches a file: the archive's own times.
    let epoch = super::reproducible::source_date_epoch(recipe, &tree);
    for file in patch::series(env.repo.root(), recipe, env.runtime)? {
        patch::apply(&tree, &file, &logs.join("patch.log")).map_err(|source| {
            LibraryError::Patch {
                id: recipe.id.clone(),
                source: Box::new(source),
            }
        })?;
    }

    let dep_prefixes: BTreeMap<String, PathBuf> = deps
        .iter()
        .map(|d| (d.name.clone(), d.prefix.clone()))
        .collect();
    let placeholders = Placeholders {
        toolchain: env.toolchain,
        src: &tree,
        repo: env.repo.root(),
        jobs,
        deps: &dep_prefixes,
        prefix: Some(&prefix),
        native: None,
    };
    let settings = Settings::for_runtime(&recipe.build, env.runtime).expand(&placeholders);
    let mut vars = pkg_config_env(&deps.iter().map(|d| d.prefix.as_path()).collect::<Vec<_>>());
    vars.extend(toolchain_env(env.toolchain, &settings.env));
    let label = format!("{}-{}", recipe.name, recipe.version);
    let mut maps = super::reproducible::PrefixMaps::new()
        .add(&tree, format!("/src/{label}"))
        .add(&prefix, format!("/lib/{}", recipe.name))
        .add(&dir, format!("/build/{label}"))
        .add(&env.toolchain.view, "/toolchain")
        .add(env.repo.root(), "/repo");
    for dep in deps {
        maps = maps.add(&dep.prefix, format!("/lib/{}", dep.name));
    }
    super::reproducible::apply(&mut vars, epoch, &maps);
    let step = |name: &str, command: Command| -> Result<(), LibraryError> {
        super::hermetic::hermetic(
            command,
            &env.toolchain.build_path(),
            &dir.join("home"),
            &vars,
        )
        .run_logged(&logs.join(format!("{name}.log")))
        .map(|_| ())
        .map_err(|source| LibraryError::Step {
            id: recipe.id.clone(),
            step: name.to_string(),
            source: Box::new(source),
        })
    };
    let make_with = |jobs: usize, targets: &[String]| {
        Command::new("make")
            .dir(&tree)
            .arg(format!("-j{jobs}"))
            .args(&settings.make_vars)
            .args(targets)
    };
    let make = |targets: &[String]| make_with(jobs, targets);
    let library = recipe.library.as_ref().expect("a library recipe");
    match recipe.build.system.as_str() {
        "cmake" => {
            let toolchain_file = dir.join("toolchain.cmake");
            std::fs::write(
                &toolchain_file,
                cmake_toolchain_file(
                    env.toolchain,
                    &deps.iter().map(|d| d.prefix.as_path()).collect::<Vec<_>>(),
                ),
            )
            .map_err(io("cannot write", &toolchain_file))?;
            let build = tree.join("wlmake-build");
            step(
                "configure",
                Command::new("cmake")
                    .dir(&tree)
                    .args(["-S", ".", "-B"])
                    .arg(&build)
                    .args(["-G", "Unix Makefiles"])
                    .arg(format!(
                        "-DCMAKE_TOOLCHAIN_FILE={}",
                        toolchain_file.display()
                    ))
                    .arg(format!("-DCMAKE_INSTALL_PREFIX={}", prefix.display()))
                    .args([
                        "-DCMAKE_BUILD_TYPE=Release",
                        "-DBUILD_SHARED_LIBS=OFF",
                        "-DCMAKE_INSTALL_LIBDIR=lib",
                    ])
                    .args(&settings.configure_args),
            )?;
            step(
                "make",
                Command::new("cmake")
                    .dir(&tree)
                    .arg("--build")
                    .arg(&build)
                    .args(["--parallel", &jobs.to_string()]),
            )?;
            step(
                "install",
                Command::new("cmake")
                    .dir(&tree)
                    .arg("--install")
                    .arg(&build),
            )?;
        }
        system => {
            if system == "autotools" && Path::new(HOST_CONFIG_SUB).is_file() {
                for folder in ["", "build-aux", "config", "conftools"] {
                    let target = tree.join(folder).join("config.sub");
                    if target.is_file() {
                        std::fs::copy(HOST_CONFIG_SUB, &target)
                            .map_err(io("cannot replace", &target))?;
                    }
                }
            }
            if system == "autotools" || system == "configure" {
                let script = recipe.build.configure_script();
                if !tree.join(script).is_file() {
                    return Err(LibraryError::NoConfigureScript {
                        id: recipe.id.clone(),
                        script: script.to_string(),
                    }
                    .into());
                }
                let mut configure =
                    Command::new(tree.join(script).display().to_string()).dir(&tree);
                if system == "autotools" {
                    configure = configure.arg(format!("--host={}", env.toolchain.target));
                }
                step(
                    "configure",
                    configure
                        .arg(format!("--prefix={}", prefix.display()))
                        .args(&settings.configure_args),
                )?;
            }
            step("make", make(&settings.make_targets))?;
            // One job: install targets run in the order the recipe lists them (libpng's
            // link targets, run beside the library's install, found no lib/ folder yet).
            step("install", make_with(1, &library.install_targets))?;
        }
    }
    check_prefix(recipe, &prefix)?;
    make_relocatable(recipe, &dir, &prefix)?;
    std::fs::write(dir.join(STAMP), &identity).map_err(io("cannot write", &dir))?;
    Ok(done(
        true,
        (start.elapsed().as_secs_f64() * 10.0).round() / 10.0,
    ))
}

/// A CMake toolchain file from the toolchain view: the view's compiler and sysroot, and
/// find_* calls restricted to the dependencies' prefixes (and the sysroot), never the host.
pub fn cmake_toolchain_file(toolchain: &Toolchain, dep_prefixes: &[&Path]) -> String {
    let quote = |p: &Path| format!("\"{}\"", p.display());
    let roots: Vec<String> = std::iter::once(toolchain.sysroot.as_path())
        .chain(dep_prefixes.iter().copied())
        .map(quote)
        .collect();
    let prefixes: Vec<String> = dep_prefixes.iter().map(|p| quote(p)).collect();
    format!(
        "# Written by wlmake from its toolchain view.\n\
         set(CMAKE_SYSTEM_NAME Generic)\n\
         set(CMAKE_SYSTEM_PROCESSOR wasm32)\n\
         set(CMAKE_C_COMPILER {cc})\n\
         set(CMAKE_C_COMPILER_TARGET {target})\n\
         set(CMAKE_AR {ar} CACHE FILEPATH \"\")\n\
         set(CMAKE_RANLIB {ranlib} CACHE FILEPATH \"\")\n\
         set(CMAKE_NM {nm} CACHE FILEPATH \"\")\n\
         set(CMAKE_SYSROOT {sysroot})\n\
         set(CMAKE_FIND_ROOT_PATH {roots})\n\
         set(CMAKE_PREFIX_PATH {prefixes})\n\
         set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)\n\
         set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)\n\
         set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)\n\
         set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)\n\
         set(CMAKE_C_FLAGS_INIT \"-D_WASI_EMULATED_SIGNAL -D_WASI_EMULATED_PROCESS_CLOCKS -D_WASI_EMULATED_GETPID\")\n",
        cc = quote(&toolchain.cc),
        target = toolchain.target,
        ar = quote(&toolchain.ar),
        ranlib = quote(&toolchain.ranlib),
        nm = quote(&toolchain.nm),
        sysroot = quote(&toolchain.sysroot),
        roots = roots.join(" "),
        prefixes = prefixes.join(" "),
    )
}

/// Builds every `[library]` node of `graph` (the root too, when it is one), each after
/// its dependencies; the libraries ready at the same moment build at the same time, the
/// `jobs` budget shared between them. Returns the builds by node index.
pub fn build_graph(
    env: &LibraryEnv<'_>,
    graph: &Graph,
    jobs: usize,
    reporter: &dyn Reporter,
) -> anyhow::Result<BTreeMap<usize, LibraryBuild>> {
    let libraries: Vec<usize> = (0..graph.nodes.len())
        .filter(|&i| graph.nodes[i].recipe.library.is_some())
        .collect();
    for &index in &libraries {
        let node = &graph.nodes[index];
        for &dep in &node.deps {
            if graph.nodes[dep].recipe.library.is_none() {
                return Err(LibraryError::NotALibrary {
                    id: node.recipe.id.clone(),
                    dep: graph.nodes[dep].recipe.id.clone(),
                }
                .into());
            }
        }
    }
    // A library starts as soon as its dependencies are built and a slot is free: at
    // most `jobs` builds at once, each given an equal share of the jobs when it starts.
    let jobs = jobs.max(1);
    let mut built: BTreeMap<usize, LibraryBuild> = BTreeMap::new();
    let mut started: std::collections::BTreeSet<usize> = std::collections::BTreeSet::new();
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let (send, receive) = std::sync::mpsc::channel::<(usize, anyhow::Result<LibraryBuild>)>();
        let mut running = 0usize;
        let mut failure: Option<anyhow::Error> = None;
        loop {
            if failure.is_none() {
                let ready: Vec<usize> = libraries
                    .iter()
                    .copied()
                    .filter(|i| !started.contains(i))
                    .filter(|&i| graph.nodes[i].deps.iter().all(|d| built.contains_key(d)))
                    .collect();
                let wanted = (running + ready.len()).min(jobs);
                for index in ready.into_iter().take(jobs - running) {
                    let share = (jobs / wanted).max(1);
                    let deps: Vec<LibraryBuild> = graph
                        .transitive(index)
                        .iter()
                        .map(|d| built[d].clone())
                        .collect();
                    let recipe = &graph.nodes[index].recipe;
                    let send = send.clone();
                    started.insert(index);
                    running += 1;
                    scope.spawn(move || {
                        let deps: Vec<&LibraryBuild> = deps.iter().collect();
                        let result = ensure_library(env, recipe, &deps, share, reporter);
                        let _ = send.send((index, result));
                    });
                }
            }
            if running == 0 {
                break;
            }
            let (index, result) = receive.recv().expect("a library build thread reports");
            running -= 1;
            match result {
                Ok(build) => {
                    built.insert(index, build);
                }
                // The builds already running finish; nothing new starts.
                Err(error) => {
                    failure.get_or_insert(error);
                }
            }
        }
        match failure {
            Some(error) => Err(error),
            None => Ok(()),
        }
    })?;
    Ok(built)
}

/// The identity of every node, known without building: libraries by [`identity`], other
/// recipes from their content, source and the toolchain (as their dependents record them).
pub fn graph_identities(env: &LibraryEnv<'_>, graph: &Graph) -> anyhow::Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    let mut fake: BTreeMap<usize, LibraryBuild> = BTreeMap::new();
    for (index, node) in graph.nodes.iter().enumerate() {
        let identity = if node.recipe.library.is_some() {
            let deps: Vec<&LibraryBuild> = graph
                .transitive(index)
                .iter()
                .filter_map(|d| fake.get(d))
                .collect();
            identity(env, &node.recipe, &deps)?
        } else {
            let digest = super::source_digest(&node.recipe)?;
            hex::encode(Sha256::digest(
                format!(
                    "{}\n{digest}\n{}",
                    node.recipe.content_sha256, env.toolchain.identity
                )
                .as_bytes(),
            ))
        };
        fake.insert(
            index,
            LibraryBuild {
                id: node.recipe.id.clone(),
                name: node.recipe.name.clone(),
                identity: identity.clone(),
                prefix: PathBuf::new(),
                rebuilt: false,
                seconds: 0.0,
            },
        );
        out.push(identity);
    }
    Ok(out)
}

/// Whether a source is fetched over the network or comes with the repository (for the
/// graph's labels).
pub fn source_label(recipe: &Recipe) -> &'static str {
    match &recipe.source {
        SourceSpec::Archive(_) => "archive",
        SourceSpec::Git(_) => "git",
        SourceSpec::Path(_) => "path",
    }
}
