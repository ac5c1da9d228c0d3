//! The dependency graph of a recipe for one runtime: every library it needs,
//! transitively, in an order where each comes after its own dependencies.
//!
//! [`resolve`] serves builds and `wlmake graph`; [`lint`] checks every recipe of the
//! repository at once (cycles, `[build.requires]`) for `wlmake lint`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::diagnostic::Diagnostic;
use super::model::{Recipe, RecipeId};
use super::repository::{RecipeError, Repository};
use crate::runtime::Kind;

#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    #[error("dependency cycle: {}", chain.iter().map(|id| id.0.as_str()).collect::<Vec<_>>().join(" -> "))]
    Cycle { chain: Vec<RecipeId> },
    #[error("cannot load dependency `{id}` of `{from}`")]
    Load {
        id: RecipeId,
        from: RecipeId,
        #[source]
        source: RecipeError,
    },
}

impl GraphError {
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            Self::Cycle { .. } => {
                "a library cannot depend on itself, even through others: remove one edge of the cycle from build.depends".into()
            }
            Self::Load { .. } => "`wlmake list` shows every recipe; `wlmake lint` checks every dependency".into(),
        })
    }
}

/// The dependencies a recipe declares for one runtime: common ones, then the runtime's
/// (the common ones alone for a recipe that lists no runtime).
pub fn direct_depends(recipe: &Recipe, runtime: Option<Kind>) -> Vec<&RecipeId> {
    let mut out: Vec<&RecipeId> = recipe.build.depends.iter().collect();
    if let Some(over) = runtime.and_then(|runtime| recipe.build.runtime.get(&runtime)) {
        out.extend(over.depends.iter());
    }
    let mut seen = BTreeSet::new();
    out.retain(|id| seen.insert(*id));
    out
}

/// One recipe of the graph with the indexes (into [`Graph::nodes`]) of its direct
/// dependencies.
#[derive(Debug, Clone)]
pub struct Node {
    pub recipe: Recipe,
    pub deps: Vec<usize>,
}

/// Dependencies first: `nodes[i].deps` only holds indexes below `i`; the root is last.
#[derive(Debug, Clone)]
pub struct Graph {
    pub nodes: Vec<Node>,
}

impl Graph {
    pub fn root(&self) -> &Node {
        self.nodes.last().expect("a graph has its root")
    }

    /// Every node `index` depends on, directly or not (indexes, ascending).
    pub fn transitive(&self, index: usize) -> BTreeSet<usize> {
        let mut out = BTreeSet::new();
        let mut stack = self.nodes[index].deps.clone();
        while let Some(next) = stack.pop() {
            if out.insert(next) {
                stack.extend(self.nodes[next].deps.iter().copied());
            }
        }
        out
    }
}

/// Loads `root`'s dependencies for `runtime`, transitively, and orders them.
pub fn resolve(repo: &Repository, root: Recipe, runtime: Kind) -> Result<Graph, GraphError> {
    struct Walk<'a> {
        repo: &'a Repository,
        runtime: Kind,
        index: BTreeMap<RecipeId, usize>,
        nodes: Vec<Node>,
        path: Vec<RecipeId>,
    }
    fn visit(walk: &mut Walk<'_>, recipe: Recipe) -> Result<usize, GraphError> {
        walk.path.push(recipe.id.clone());
        let mut deps = Vec::new();
        for dep in direct_depends(&recipe, Some(walk.runtime)) {
            if let Some(start) = walk.path.iter().position(|id| id == dep) {
                let mut chain = walk.path[start..].to_vec();
                chain.push(dep.clone());
                return Err(GraphError::Cycle { chain });
            }
            let index = match walk.index.get(dep) {
                Some(index) => *index,
                None => {
                    let loaded = walk.repo.load(&dep.0).map_err(|source| GraphError::Load {
                        id: dep.clone(),
                        from: recipe.id.clone(),
                        source,
                    })?;
                    visit(walk, loaded)?
                }
            };
            deps.push(index);
        }
        walk.path.pop();
        let index = walk.nodes.len();
        walk.index.insert(recipe.id.clone(), index);
        walk.nodes.push(Node { recipe, deps });
        Ok(index)
    }
    let mut walk = Walk {
        repo,
        runtime,
        index: BTreeMap::new(),
        nodes: Vec::new(),
        path: Vec::new(),
    };
    visit(&mut walk, root)?;
    Ok(Graph { nodes: walk.nodes })
}

/// Position of `"needle"` (quoted, as TOML writes strings) in a recipe file.
fn diagnostic_at(file: &Path, needle: &str, message: String, hint: &str) -> Diagnostic {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let span = text
        .find(&format!("\"{needle}\""))
        .map(|start| start..start + 1);
    Diagnostic::at(file, &text, span, message).with_hint(hint)
}

/// Graph checks over every recipe: cycles (over the dependencies of every runtime) and
/// `[build.requires]` flags whose library is not among the recipe's dependencies.
/// Unknown dependencies are reported by [`Repository::load_all`]; they are skipped here.
/// `relative` turns a recipe's absolute file into the path shown.
pub fn lint(recipes: &[Recipe], relative: &dyn Fn(&Path) -> std::path::PathBuf) -> Vec<Diagnostic> {
    let by_id: BTreeMap<&RecipeId, &Recipe> = recipes.iter().map(|r| (&r.id, r)).collect();
    let mut problems = Vec::new();

    // Cycles: depth-first over the union of every runtime's edges.
    let edges = |recipe: &Recipe| -> Vec<RecipeId> {
        let mut all: Vec<RecipeId> = recipe.build.depends.clone();
        for over in recipe.build.runtime.values() {
            all.extend(over.depends.iter().cloned());
        }
        all.retain(|id| by_id.contains_key(id));
        all
    };
    let mut done: BTreeSet<RecipeId> = BTreeSet::new();
    let mut reported: BTreeSet<(RecipeId, RecipeId)> = BTreeSet::new();
    for start in recipes {
        let mut path: Vec<(RecipeId, Vec<RecipeId>)> = Vec::new();
        if done.contains(&start.id) {
            continue;
        }
        path.push((start.id.clone(), edges(start)));
        while let Some((current, pending)) = path.last_mut() {
            let Some(next) = pending.pop() else {
                done.insert(current.clone());
                path.pop();
                continue;
            };
            let current = current.clone();
            if let Some(at) = path.iter().position(|(id, _)| *id == next) {
                if reported.insert((current.clone(), next.clone())) {
                    let mut chain: Vec<&str> =
                        path[at..].iter().map(|(id, _)| id.0.as_str()).collect();
                    chain.push(&next.0);
                    let recipe = by_id[&current];
                    let file = relative(&recipe.file);
                    let mut diagnostic = diagnostic_at(
                        &recipe.file,
                        &next.0,
                        format!("dependency cycle: {}", chain.join(" -> ")),
                        "a library cannot depend on itself, even through others: remove one edge of the cycle",
                    );
                    diagnostic.file = file;
                    problems.push(diagnostic);
                }
                continue;
            }
            if done.contains(&next) {
                continue;
            }
            let recipe = by_id[&next];
            path.push((next.clone(), edges(recipe)));
        }
    }

    // Requires: each runtime's configure flags against that runtime's transitive names.
    for recipe in recipes {
        if recipe.build.requires.is_empty() {
            continue;
        }
        let runtimes: Vec<Option<Kind>> = if recipe.runtimes.is_empty() {
            vec![None]
        } else {
            recipe.runtimes.iter().copied().map(Some).collect()
        };
        let mut flagged: BTreeSet<String> = BTreeSet::new();
        for runtime in runtimes {
            let names = transitive_names(&by_id, recipe, runtime);
            let mut args: Vec<&String> = recipe.build.configure_args.iter().collect();
            if let Some(over) = runtime.and_then(|runtime| recipe.build.runtime.get(&runtime)) {
                args.extend(over.configure_args.iter());
            }
            for arg in args {
                let flag = arg.split_once('=').map_or(arg.as_str(), |(flag, _)| flag);
                let Some(library) = recipe.build.requires.get(flag) else {
                    continue;
                };
                if names.contains(library) || !flagged.insert(arg.clone()) {
                    continue;
                }
                let mut diagnostic = diagnostic_at(
                    &recipe.file,
                    arg,
                    format!(
                        "`{arg}` needs library `{library}`, which is not among the dependencies{}",
                        runtime.map_or(String::new(), |runtime| format!(" for {runtime}"))
                    ),
                    &format!(
                        "add its recipe (e.g. `lib/{library}-VERSION`, see `wlmake list`) to build.depends, or drop the flag"
                    ),
                );
                diagnostic.file = relative(&recipe.file);
                problems.push(diagnostic);
            }
        }
    }
    problems
}

/// `package.name` of every recipe `recipe` depends on for `runtime`, transitively.
fn transitive_names(
    by_id: &BTreeMap<&RecipeId, &Recipe>,
    recipe: &Recipe,
    runtime: Option<Kind>,
) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut seen = BTreeSet::new();
    let mut stack: Vec<&RecipeId> = direct_depends(recipe, runtime);
    while let Some(id) = stack.pop() {
        if !seen.insert(id) {
            continue;
        }
        if let Some(dep) = by_id.get(id) {
            names.insert(dep.name.clone());
            stack.extend(direct_depends(dep, runtime));
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A repository of library recipes `lib/<name>-1.0`, each with its dependencies.
    fn repo(recipes: &[(&str, &[&str])]) -> (tempfile::TempDir, Repository) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("recipes/lib")).unwrap();
        std::fs::create_dir_all(dir.path().join("src")).unwrap();
        for (name, deps) in recipes {
            let deps: Vec<String> = deps.iter().map(|d| format!("\"lib/{d}-1.0\"")).collect();
            let text = format!(
                "[package]\nlanguage = \"lib\"\nname = \"{name}\"\nversion = \"1.0\"\nruntimes = [\"wasmtime\"]\n\n\
                 [source]\npath = \"src\"\n\n[build]\nsystem = \"make\"\ndepends = [{}]\n\n\
                 [library]\narchives = [\"lib/lib{name}.a\"]\n",
                deps.join(", ")
            );
            std::fs::write(
                dir.path().join(format!("recipes/lib/{name}-1.0.toml")),
                text,
            )
            .unwrap();
        }
        let repository = Repository::at(dir.path().to_path_buf());
        (dir, repository)
    }

    fn order(graph: &Graph) -> Vec<&str> {
        graph.nodes.iter().map(|n| n.recipe.name.as_str()).collect()
    }

    #[test]
    fn dependencies_come_first_and_shared_ones_once() {
        let (_dir, repo) = repo(&[
            ("zlib", &[]),
            ("png", &["zlib"]),
            ("xml", &["zlib"]),
            ("app", &["png", "xml"]),
        ]);
        let root = repo.load("lib/app-1.0").unwrap();
        let graph = resolve(&repo, root, Kind::Wasmtime).unwrap();
        assert_eq!(order(&graph), ["zlib", "png", "xml", "app"]);
        for (index, node) in graph.nodes.iter().enumerate() {
            assert!(node.deps.iter().all(|&d| d < index), "{:?}", order(&graph));
        }
        assert_eq!(graph.transitive(3).len(), 3);
        assert_eq!(graph.transitive(1), BTreeSet::from([0]));
    }

    #[test]
    fn a_cycle_is_refused_by_resolve_and_by_lint_with_a_position() {
        let (_dir, repo) = repo(&[("a", &["b"]), ("b", &["c"]), ("c", &["a"]), ("d", &[])]);
        let root = repo.load("lib/a-1.0").unwrap();
        let error = resolve(&repo, root, Kind::Wasmtime).unwrap_err();
        assert_eq!(
            error.to_string(),
            "dependency cycle: lib/a-1.0 -> lib/b-1.0 -> lib/c-1.0 -> lib/a-1.0"
        );
        let problems = repo.load_all().unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        let text = problems[0].to_string();
        assert!(text.starts_with("recipes/lib/"), "{text}");
        assert!(text.contains(":12:12: dependency cycle: "), "{text}");
        assert!(
            problems[0]
                .hint
                .as_deref()
                .unwrap()
                .contains("remove one edge")
        );
    }

    #[test]
    fn an_unknown_dependency_is_refused_with_a_position() {
        let (_dir, repo) = repo(&[("a", &["missing"])]);
        let problems = repo.load_all().unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(
            problems[0].to_string(),
            "recipes/lib/a-1.0.toml:12:12: dependency `lib/missing-1.0` names no recipe"
        );
        let root = repo.load("lib/a-1.0").unwrap();
        let error = resolve(&repo, root, Kind::Wasmtime).unwrap_err();
        assert!(matches!(error, GraphError::Load { .. }), "{error}");
    }

    #[test]
    fn a_flag_whose_library_is_not_a_dependency_fails_lint() {
        let (dir, repo) = repo(&[("zlib", &[]), ("png", &["zlib"])]);
        let app = "[package]\nlanguage = \"c\"\nname = \"app\"\nversion = \"1.0\"\nruntimes = [\"wasmtime\"]\n\n\
                   [source]\npath = \"src\"\n\n[build]\ndepends = [\"lib/png-1.0\"]\n\
                   configure-args = [\"--with-zlib\", \"--with-xml=yes\"]\n\n\
                   [build.requires]\n\"--with-zlib\" = \"zlib\"\n\"--with-xml\" = \"xml\"\n";
        std::fs::create_dir_all(dir.path().join("recipes/c")).unwrap();
        std::fs::write(dir.path().join("recipes/c/app-1.0.toml"), app).unwrap();
        let problems = repo.load_all().unwrap_err();
        // zlib comes through png (transitively): only the xml flag is refused.
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(
            problems[0].to_string(),
            "recipes/c/app-1.0.toml:12:34: `--with-xml=yes` needs library `xml`, which is not among the dependencies for wasmtime"
        );
        assert!(
            problems[0]
                .hint
                .as_deref()
                .unwrap()
                .contains("build.depends")
        );
    }
}
