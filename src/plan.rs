//! The resolved build plan: one recipe for one runtime and profile, its dependency graph,
//! every folder it uses and (found when a build first asks) its toolchain, made once and
//! handed to build, identity, run, test, the upstream suite, patch workspaces, the
//! container build and the release commands.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{Context, Result};

use crate::build::profile::Profile;
use crate::output::{Manifest, OutputError};
use crate::recipe::graph::{self, Graph};
use crate::recipe::{Recipe, RecipeId, Repository};
use crate::runtime::Kind;
use crate::toolchain::{self, Toolchain};

/// Where wlmake keeps its trees: the work root (sources, build folders, library
/// prefixes, patch workspaces, suite runs) and the output root (published builds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    work_root: PathBuf,
    output_root: PathBuf,
}

impl Layout {
    pub fn new(work_root: impl Into<PathBuf>, output_root: impl Into<PathBuf>) -> Self {
        Self {
            work_root: work_root.into(),
            output_root: output_root.into(),
        }
    }

    pub fn work_root(&self) -> &Path {
        &self.work_root
    }

    pub fn output_root(&self) -> &Path {
        &self.output_root
    }

    /// `<work>/src/<id>`: the fetched source of `wlmake fetch`.
    pub fn source_dir(&self, id: &RecipeId) -> PathBuf {
        self.work_root.join("src").join(&id.0)
    }

    /// `<work>/build/<id>/<folder>`: source tree, logs and in-tree dependencies of a build.
    pub fn work_dir(&self, id: &RecipeId, folder: &str) -> PathBuf {
        self.work_root.join("build").join(&id.0).join(folder)
    }

    /// `<output>/<id>/<folder>`: the published build (artifacts, manifest, SBOM).
    pub fn output_dir(&self, id: &RecipeId, folder: &str) -> PathBuf {
        crate::output::output_dir(&self.output_root, &id.0, folder)
    }

    /// `<work>/lib`: library prefixes shared by every recipe and runtime.
    pub fn lib_root(&self) -> PathBuf {
        self.work_root.join("lib")
    }

    /// `<work>/patch/<id>/<runtime>`: the patch workspace of a recipe and runtime.
    pub fn patch_dir(&self, id: &RecipeId, runtime: Kind) -> PathBuf {
        crate::patch::workspace::workspace_dir(&self.work_root, &id.0, runtime)
    }

    /// The upstream suite's folders for a recipe and runtime.
    pub fn suite(&self, id: &RecipeId, runtime: Kind) -> crate::suite::Layout {
        crate::suite::Layout::new(&self.work_root, &id.0, runtime)
    }
}

/// One recipe resolved for one runtime and profile.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The validated recipe, which supports `runtime`.
    pub recipe: Recipe,
    pub runtime: Kind,
    pub profile: Profile,
    /// The recipe's dependencies for `runtime`, each after its own; the recipe is last.
    pub graph: Graph,
    pub layout: Layout,
    /// Found on first use by [`Plan::toolchain`]: only builds need clang.
    toolchain: OnceLock<Toolchain>,
}

impl Plan {
    /// Loads and checks the recipe (it must list `runtime`) and orders its dependencies.
    pub fn resolve(
        repo: &Repository,
        layout: Layout,
        recipe: &str,
        runtime: Kind,
        profile: Profile,
    ) -> Result<Self> {
        let recipe = repo.load(recipe)?;
        recipe.require_runtime(runtime)?;
        let graph = graph::resolve(repo, recipe.clone(), runtime)?;
        Ok(Self {
            recipe,
            runtime,
            profile,
            graph,
            layout,
            toolchain: OnceLock::new(),
        })
    }

    /// The wasm toolchain the plan builds with, its view under the work root: found the
    /// first time a build, an identity or a graph asks, then kept. Running and testing a
    /// published build never ask, so they need no clang.
    pub fn toolchain(&self) -> Result<&Toolchain> {
        if let Some(toolchain) = self.toolchain.get() {
            return Ok(toolchain);
        }
        let work_root = self.layout.work_root();
        std::fs::create_dir_all(work_root)
            .with_context(|| format!("cannot create the work folder `{}`", work_root.display()))?;
        let found = toolchain::discover()?.into_toolchain(work_root)?;
        Ok(self.toolchain.get_or_init(|| found))
    }

    /// The folder name of this runtime and profile below the recipe's work and output
    /// folders: `wasmtime`, `wasmtime-speed`.
    pub fn folder(&self) -> String {
        self.profile.folder(self.runtime)
    }

    pub fn work_dir(&self) -> PathBuf {
        self.layout.work_dir(&self.recipe.id, &self.folder())
    }

    pub fn output_dir(&self) -> PathBuf {
        self.layout.output_dir(&self.recipe.id, &self.folder())
    }

    /// `RUNTIME` or `RUNTIME --profile P`: the flags that name this build in messages.
    pub fn flags(&self) -> String {
        match self.profile {
            Profile::Release => self.runtime.to_string(),
            other => format!("{} --profile {}", self.runtime, other.name()),
        }
    }

    /// The manifest of the published build, or an error saying how to make one.
    pub fn built(&self) -> Result<Manifest> {
        let dir = self.output_dir();
        Ok(Manifest::load(&dir)?.ok_or_else(|| OutputError::NotBuilt {
            id: self.recipe.id.0.clone(),
            runtime: self.flags(),
            dir,
        })?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repository() -> Repository {
        Repository::at(PathBuf::from(env!("CARGO_MANIFEST_DIR")))
    }

    #[test]
    fn a_plan_has_its_folders_from_one_layout_and_its_dependencies_first() {
        let layout = Layout::new("/w", "/out");
        let plan = Plan::resolve(
            &repository(),
            layout,
            "php/php-8.2.32",
            Kind::Wasmedge,
            Profile::Speed,
        )
        .unwrap();
        assert_eq!(plan.folder(), "wasmedge-speed");
        assert_eq!(
            plan.work_dir(),
            Path::new("/w/build/php/php-8.2.32/wasmedge-speed")
        );
        assert_eq!(
            plan.output_dir(),
            Path::new("/out/php/php-8.2.32/wasmedge-speed")
        );
        assert_eq!(plan.layout.lib_root(), Path::new("/w/lib"));
        assert_eq!(
            plan.layout.patch_dir(&plan.recipe.id, plan.runtime),
            Path::new("/w/patch/php/php-8.2.32/wasmedge")
        );
        assert_eq!(plan.flags(), "wasmedge --profile speed");
        assert_eq!(plan.graph.root().recipe.id, plan.recipe.id);
        // The WasmEdge flavor links the socket layer; the Wasmtime one does not.
        let ids: Vec<_> = plan
            .graph
            .nodes
            .iter()
            .map(|n| n.recipe.id.0.as_str())
            .collect();
        assert!(ids.contains(&"lib/wasmedge-sockets-1.0"), "{ids:?}");
    }

    #[test]
    fn a_plan_finds_its_toolchain_on_first_use_only_and_once() {
        let work = tempfile::tempdir().unwrap();
        let plan = Plan::resolve(
            &repository(),
            Layout::new(work.path(), "/nonexistent-output"),
            "php/php-7.4.33",
            Kind::Wasmtime,
            Profile::Release,
        )
        .unwrap();
        // Made, cloned and asked for folders without looking for clang.
        assert!(plan.clone().toolchain.get().is_none());
        match plan.toolchain() {
            Ok(first) => {
                assert!(first.view.starts_with(work.path()), "{first:?}");
                assert!(std::ptr::eq(first, plan.toolchain().unwrap()));
            }
            // A machine without a wasm toolchain: nothing is kept, the next call looks again.
            Err(error) => {
                assert!(error.downcast_ref::<toolchain::ToolchainError>().is_some());
                assert!(plan.toolchain.get().is_none());
            }
        }
    }

    #[test]
    fn a_runtime_the_recipe_lacks_is_refused_when_the_plan_is_made() {
        let error = Plan::resolve(
            &repository(),
            Layout::new("/w", "/out"),
            "lib/wasmedge-sockets-1.0",
            Kind::Wasmtime,
            Profile::Release,
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "recipe `lib/wasmedge-sockets-1.0` does not support runtime `wasmtime` (it supports: wasmedge)"
        );
        let not_built = Plan::resolve(
            &repository(),
            Layout::new("/nonexistent-work", "/nonexistent-output"),
            "php/php-7.4.33",
            Kind::Wasmtime,
            Profile::Release,
        )
        .unwrap()
        .built()
        .unwrap_err();
        assert!(
            not_built
                .to_string()
                .starts_with("no build of `php/php-7.4.33` for wasmtime in"),
            "{not_built}"
        );
    }
}
