//! The native stage of a recipe (`[native]`): the same upstream source, built for the
//! build machine with the host's compiler before the wasm build. CPython needs it: its
//! cross build runs a build-machine Python of the same version
//! (`--with-build-python={native}`). The recipe's patches are for the wasm target and
//! are not applied: the stage is the pristine release.
//!
//! A stage is built once per *identity* (its settings, the source digest, the host
//! compiler's version) into `<work>/native/<name>/<identity16>/`, locked while it
//! builds and stamped when complete, like a library prefix. Its identity is one of the
//! wasm build's dependencies, so a changed stage changes the build's identity.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use sha2::{Digest, Sha256};

use crate::process::{Command, ProcessError};
use crate::recipe::{NativeSpec, Recipe, RecipeId};
use crate::reporter::Reporter;
use crate::source::{self, Cache, FetchOptions, SourceError};
use crate::store::{Lookup, Store};

/// Bump when what a native stage does changes: part of every stage identity.
const NATIVE_LOGIC_VERSION: u32 = 1;
/// The file whose content (the identity) says a stage is complete.
const STAMP: &str = "complete";

#[derive(Debug, thiserror::Error)]
pub enum NativeError {
    #[error("the native stage of `{id}`: step `{step}` failed")]
    Step {
        id: RecipeId,
        step: String,
        #[source]
        source: Box<ProcessError>,
    },
    #[error("the native stage of `{id}` did not produce `{}`", program.display())]
    NoProgram { id: RecipeId, program: PathBuf },
    #[error("the native stage of `{id}`: cannot prepare its source")]
    Source {
        id: RecipeId,
        #[source]
        source: Box<SourceError>,
    },
    #[error("the native stage of `{id}`: {what} `{}`", path.display())]
    Io {
        id: RecipeId,
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl NativeError {
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Step { step, source, .. } => crate::process::hint_from_output(&source.to_string())
                .or_else(|| Some(format!("the stage builds with the host's compiler (`cc`, or CC in [native] env); the full `native-{step}` log is named above"))),
            Self::NoProgram { .. } => Some(
                "check [native] program and make-targets: the program is relative to the stage's tree".into(),
            ),
            Self::Source { source, .. } => source.hint(),
            Self::Io { .. } => Some("check that the work folder is writable".into()),
        }
    }
}

/// The first line of `cc --version` (or of the compiler [native] env names): part of
/// the stage's identity. Unknown when the compiler does not answer.
pub fn host_compiler(native: &NativeSpec) -> String {
    let cc = native.env.get("CC").map(String::as_str).unwrap_or("cc");
    let program = cc.split_whitespace().next().unwrap_or("cc");
    Command::new(program)
        .arg("--version")
        .capture()
        .ok()
        .and_then(|c| c.stdout.lines().next().map(str::to_string))
        .unwrap_or_else(|| format!("{cc} (unknown version)"))
}

/// The stage's identity: its settings, source and host compiler (not `keep`, which
/// says what is cached, not how the stage builds).
pub fn identity(native: &NativeSpec, source_digest: &str, compiler: &str) -> String {
    let settings = serde_json::json!({
        "env": native.env,
        "configure_args": native.configure_args,
        "make_targets": native.make_targets,
        "program": native.program,
    });
    let text = serde_json::json!({
        "logic": NATIVE_LOGIC_VERSION,
        "native": settings,
        "source": source_digest,
        "compiler": compiler,
    })
    .to_string();
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The dependency entry a stage adds to its recipe's build identity and manifest.
pub fn dependency_id(recipe: &RecipeId) -> String {
    format!("native:{recipe}")
}

/// What the stage shares with the build that needs it.
pub struct NativeEnv<'a> {
    pub cache: &'a Cache,
    pub fetch_options: &'a FetchOptions,
    /// `<work root>/native`.
    pub root: &'a Path,
    pub repo: &'a Path,
    pub jobs: usize,
    /// The build cache (`<cache root>/builds-v1`): read a stored stage, store a built one.
    pub store: Option<&'a Store>,
    pub store_read: bool,
    pub store_write: bool,
}

/// Builds the stage unless a complete one of the same identity exists; returns the
/// absolute path of its program.
pub fn ensure(
    env: &NativeEnv<'_>,
    recipe: &Recipe,
    identity: &str,
    reporter: &dyn Reporter,
) -> Result<PathBuf, NativeError> {
    let native = recipe
        .native
        .as_ref()
        .expect("a recipe with a [native] stage");
    let id = &recipe.id;
    let dir = env.root.join(&recipe.name).join(&identity[..16]);
    let io = |what: &'static str, path: &Path| {
        let id = id.clone();
        let path = path.to_path_buf();
        move |source| NativeError::Io {
            id,
            what,
            path,
            source,
        }
    };
    std::fs::create_dir_all(env.root).map_err(io("cannot create", env.root))?;
    std::fs::create_dir_all(dir.parent().expect("has a parent"))
        .map_err(io("cannot create", env.root))?;
    // One build of a stage at a time, across processes: others wait, then reuse it.
    let lock_path = dir.with_extension("lock");
    let _lock = source::lock_exclusive(&lock_path).map_err(|source| NativeError::Source {
        id: id.clone(),
        source: Box::new(source),
    })?;
    let tree = dir.join("src");
    let program = tree.join(&native.program);
    let storable = !native.keep.is_empty() && env.store_write;
    if std::fs::read_to_string(dir.join(STAMP)).ok().as_deref() == Some(identity)
        && program.is_file()
    {
        // A stage built before the cache had it (or with the cache off) goes in now.
        if storable
            && let Some(store) = env.store
            && matches!(store.lookup(identity), Ok(Lookup::Miss))
            && let Err(error) = save(store, identity, id, &tree, native)
        {
            reporter.warn(&format!(
                "cannot store the native stage of {id} in the build cache: {error}"
            ));
        }
        return Ok(program);
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(io("cannot remove", &dir))?;
    }
    if !native.keep.is_empty()
        && env.store_read
        && let Some(store) = env.store
        && restore(store, identity, &tree, &program)
    {
        std::fs::write(dir.join(STAMP), identity).map_err(io("cannot write", &dir.join(STAMP)))?;
        reporter.info(&format!(
            "native stage of {id} from the build cache ({})",
            &identity[..16]
        ));
        return Ok(program);
    }
    let start = Instant::now();
    reporter.step(&format!("native stage of {id}"));
    let logs = dir.join("logs");
    source::prepare(
        &recipe.source,
        env.cache,
        env.fetch_options,
        &tree,
        reporter,
    )
    .map_err(|source| NativeError::Source {
        id: id.clone(),
        source: Box::new(source),
    })?;
    let vars: BTreeMap<String, String> = native
        .env
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                v.replace("{repo}", &env.repo.display().to_string()),
            )
        })
        .collect();
    let step = |name: &str, command: Command| -> Result<(), NativeError> {
        // The host's tools: none of the wasm toolchain's variables leak in.
        let mut command = command.dir(&tree).envs(vars.iter());
        for name in ["CC", "CFLAGS", "CPPFLAGS", "LDFLAGS", "LIBS", "CONFIG_SITE"] {
            if !vars.contains_key(name) {
                command = command.env_remove(name);
            }
        }
        command
            .run_logged(&logs.join(format!("{name}.log")))
            .map(|_| ())
            .map_err(|source| NativeError::Step {
                id: id.clone(),
                step: name.to_string(),
                source: Box::new(source),
            })
    };
    step(
        "configure",
        Command::new(tree.join("configure").display().to_string()).args(&native.configure_args),
    )?;
    step(
        "make",
        Command::new("make")
            .arg(format!("-j{}", env.jobs))
            .args(&native.make_targets),
    )?;
    if !program.is_file() {
        return Err(NativeError::NoProgram {
            id: id.clone(),
            program,
        });
    }
    std::fs::write(dir.join(STAMP), identity).map_err(io("cannot write", &dir.join(STAMP)))?;
    reporter.info(&format!(
        "native stage of {id} built in {:.1} s",
        start.elapsed().as_secs_f64()
    ));
    if storable && let Some(store) = env.store {
        // A cache problem is only a warning: the stage is built.
        if let Err(error) = save(store, identity, id, &tree, native) {
            reporter.warn(&format!(
                "cannot store the native stage of {id} in the build cache: {error}"
            ));
        }
    }
    Ok(program)
}

/// Copies a stored stage (the program and `keep`) into `tree`; false when the cache has
/// none or it is unusable (then the stage is built).
fn restore(store: &Store, identity: &str, tree: &Path, program: &Path) -> bool {
    let Ok(Lookup::Hit(entry)) = store.lookup(identity) else {
        return false;
    };
    let copied = entry.index.files.iter().try_for_each(|file| {
        let target = tree.join(&file.path);
        std::fs::create_dir_all(target.parent().expect("has a parent"))?;
        std::fs::copy(entry.path(&file.path), &target).map(|_| ())
    });
    if copied.is_err() || !program.is_file() {
        let _ = std::fs::remove_dir_all(tree);
        return false;
    }
    true
}

/// Stores the program and the `keep` paths of a built stage under its identity.
fn save(
    store: &Store,
    identity: &str,
    id: &RecipeId,
    tree: &Path,
    native: &NativeSpec,
) -> anyhow::Result<()> {
    let mut files = vec![native.program.clone()];
    for kept in &native.keep {
        let path = tree.join(kept);
        if path.is_dir() {
            files.extend(
                crate::files::folder_files(&path)?
                    .into_iter()
                    .map(|f| format!("{kept}/{f}")),
            );
        } else {
            files.push(kept.clone());
        }
    }
    store.insert(identity, &dependency_id(id), "native", tree, &files)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> NativeSpec {
        NativeSpec {
            env: BTreeMap::new(),
            configure_args: vec!["--prefix=/usr/local".into()],
            make_targets: vec!["python".into()],
            program: "python".into(),
            keep: vec!["Lib".into()],
        }
    }

    #[test]
    fn settings_source_and_compiler_change_the_identity() {
        let base = identity(&spec(), "a", "gcc 12");
        assert_eq!(base, identity(&spec(), "a", "gcc 12"));
        assert_ne!(base, identity(&spec(), "b", "gcc 12"));
        assert_ne!(base, identity(&spec(), "a", "gcc 13"));
        let mut other = spec();
        other.configure_args.push("--with-pydebug".into());
        assert_ne!(base, identity(&other, "a", "gcc 12"));
        // What is cached is not how the stage builds.
        let mut other = spec();
        other.keep.push("Modules/Setup.local".into());
        assert_eq!(base, identity(&other, "a", "gcc 12"));
    }
}
