//! The repository of recipes: `recipes/<language>/<name>-<version>.toml`.

use std::path::{Path, PathBuf};

use super::diagnostic::Diagnostic;
use super::model::{Recipe, RecipeId};
use super::validate::parse_recipe;
use crate::env_vars::WLMAKE_REPO;
use crate::runtime::Kind;

#[derive(Debug, thiserror::Error)]
pub enum RecipeError {
    #[error("no wlmake repository (a folder with `recipes/`) found from `{0}` upward")]
    NoRepository(PathBuf),
    #[error("cannot read `{path}`")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("unknown recipe `{id}`")]
    Unknown {
        id: String,
        suggestions: Vec<String>,
    },
    #[error("invalid recipe ({} problem(s)):\n{}", .0.len(), render_diagnostics(.0))]
    Invalid(Vec<Diagnostic>),
    #[error(
        "recipe `{id}` does not support runtime `{runtime}` (it supports: {})",
        names(supported, ", ")
    )]
    UnsupportedRuntime {
        id: String,
        runtime: Kind,
        supported: Vec<Kind>,
    },
}

impl RecipeError {
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::NoRepository(_) => Some(format!(
                "run wlmake inside its repository, or set {WLMAKE_REPO} to the folder holding `recipes/`"
            )),
            Self::Unknown { suggestions, .. } if !suggestions.is_empty() => {
                Some(format!("did you mean {}?", suggestions.join(", ")))
            }
            Self::Unknown { .. } => Some("`wlmake list` shows every recipe".into()),
            Self::Invalid(diagnostics) => diagnostics.iter().find_map(|d| d.hint.clone()),
            Self::UnsupportedRuntime { supported, .. } => Some(format!(
                "pass one of the recipe's runtimes: --runtime {}",
                names(supported, " | --runtime ")
            )),
            Self::Read { .. } => None,
        }
    }
}

fn names(runtimes: &[Kind], separator: &str) -> String {
    runtimes
        .iter()
        .map(|kind| kind.name())
        .collect::<Vec<_>>()
        .join(separator)
}

fn render_diagnostics(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(|d| format!("  {d}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The recipe folder and every recipe file in it.
pub struct Repository {
    root: PathBuf,
}

impl Repository {
    /// `WLMAKE_REPO`, else the nearest ancestor of `start` that holds `recipes/`.
    pub fn discover(start: &Path) -> Result<Self, RecipeError> {
        if let Some(root) = std::env::var_os(WLMAKE_REPO) {
            return Ok(Self::at(PathBuf::from(root)));
        }
        start
            .ancestors()
            .find(|dir| dir.join("recipes").is_dir())
            .map(|dir| Self::at(dir.to_path_buf()))
            .ok_or_else(|| RecipeError::NoRepository(start.to_path_buf()))
    }

    pub fn at(root: PathBuf) -> Self {
        let root = std::path::absolute(&root).unwrap_or(root);
        Self { root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Every recipe file, sorted by path.
    pub fn recipe_files(&self) -> Result<Vec<PathBuf>, RecipeError> {
        let recipes = self.root.join("recipes");
        let read = |path: &Path| {
            std::fs::read_dir(path).map_err(|source| RecipeError::Read {
                path: path.to_path_buf(),
                source,
            })
        };
        let mut files = Vec::new();
        for language in read(&recipes)?.flatten() {
            if !language.path().is_dir() {
                continue;
            }
            for entry in read(&language.path())?.flatten() {
                let path = entry.path();
                if path.extension().is_some_and(|e| e == "toml") {
                    files.push(path);
                }
            }
        }
        files.sort();
        Ok(files)
    }

    fn relative<'a>(&self, path: &'a Path) -> &'a Path {
        path.strip_prefix(&self.root).unwrap_or(path)
    }

    pub fn load_file(&self, path: &Path) -> Result<Recipe, RecipeError> {
        let text = std::fs::read_to_string(path).map_err(|source| RecipeError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut recipe =
            parse_recipe(&self.root, self.relative(path), &text).map_err(RecipeError::Invalid)?;
        recipe.file = path.to_path_buf();
        Ok(recipe)
    }

    /// Loads the recipe `<language>/<name>-<version>`.
    pub fn load(&self, id: &str) -> Result<Recipe, RecipeError> {
        let path = id
            .split_once('/')
            .filter(|(language, file)| {
                !language.is_empty() && !file.is_empty() && !id.contains("..")
            })
            .map(|(language, file)| {
                self.root
                    .join("recipes")
                    .join(language)
                    .join(format!("{file}.toml"))
            });
        match path {
            Some(path) if path.is_file() => self.load_file(&path),
            _ => Err(RecipeError::Unknown {
                id: id.to_string(),
                suggestions: self.suggest(id),
            }),
        }
    }

    /// Recipe ids that share a name or language/name prefix with `id`.
    fn suggest(&self, id: &str) -> Vec<String> {
        let ids = self.ids();
        let wanted = id.rsplit('/').next().unwrap_or(id);
        let stem = wanted.rsplit_once('-').map_or(wanted, |(name, _)| name);
        ids.into_iter()
            .filter(|candidate| {
                let tail = candidate.rsplit('/').next().unwrap_or(candidate);
                tail.starts_with(stem) || candidate.ends_with(wanted)
            })
            .take(5)
            .collect()
    }

    /// Every recipe id found from file names (without parsing).
    pub fn ids(&self) -> Vec<String> {
        self.recipe_files()
            .unwrap_or_default()
            .iter()
            .filter_map(|path| {
                let language = path.parent()?.file_name()?.to_str()?;
                let stem = path.file_stem()?.to_str()?;
                Some(format!("{language}/{stem}"))
            })
            .collect()
    }

    /// Every recipe, or every problem found in any of them (including dependencies that
    /// name no recipe).
    pub fn load_all(&self) -> Result<Vec<Recipe>, Vec<Diagnostic>> {
        let files = self.recipe_files().map_err(|error| {
            vec![Diagnostic {
                file: self.root.join("recipes"),
                line: 1,
                column: 1,
                message: error.to_string(),
                hint: None,
            }]
        })?;
        let mut recipes = Vec::new();
        let mut problems = Vec::new();
        for file in &files {
            match self.load_file(file) {
                Ok(recipe) => recipes.push(recipe),
                Err(RecipeError::Invalid(found)) => problems.extend(found),
                Err(other) => problems.push(Diagnostic {
                    file: self.relative(file).to_path_buf(),
                    line: 1,
                    column: 1,
                    message: other.to_string(),
                    hint: None,
                }),
            }
        }
        let ids: Vec<RecipeId> = recipes.iter().map(|r| r.id.clone()).collect();
        for recipe in &recipes {
            let all_deps = recipe
                .build
                .depends
                .iter()
                .chain(recipe.build.runtime.values().flat_map(|o| o.depends.iter()));
            for dep in all_deps {
                if !ids.contains(dep) {
                    let text = std::fs::read_to_string(&recipe.file).unwrap_or_default();
                    let span = text
                        .find(&format!("\"{dep}\""))
                        .map(|start| start..start + 1);
                    problems.push(
                        Diagnostic::at(
                            self.relative(&recipe.file),
                            &text,
                            span,
                            format!("dependency `{dep}` names no recipe"),
                        )
                        .with_hint("`wlmake list` shows every recipe"),
                    );
                }
            }
        }
        problems.extend(super::graph::lint(&recipes, &|file| {
            self.relative(file).to_path_buf()
        }));
        if problems.is_empty() {
            Ok(recipes)
        } else {
            Err(problems)
        }
    }
}
