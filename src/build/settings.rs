//! A build's settings for one runtime: the recipe's common settings plus the runtime's
//! additions, with `{placeholders}` expanded.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::recipe::{BuildSpec, RecipeId};
use crate::runtime::Kind;
use crate::toolchain::Toolchain;

/// Values the placeholders of a recipe's build settings expand to.
pub struct Placeholders<'a> {
    pub toolchain: &'a Toolchain,
    pub src: &'a Path,
    pub repo: &'a Path,
    pub jobs: usize,
    /// Dependency name (the recipe name) -> its built tree, or a library's prefix.
    pub deps: &'a BTreeMap<String, PathBuf>,
    /// The install prefix of a library build (`{prefix}`).
    pub prefix: Option<&'a Path>,
    /// The program of the recipe's native stage (`{native}`).
    pub native: Option<&'a Path>,
}

impl Placeholders<'_> {
    fn value(&self, name: &str) -> Option<String> {
        let path = |p: &Path| p.display().to_string();
        Some(match name {
            "cc" => path(&self.toolchain.cc),
            "ar" => path(&self.toolchain.ar),
            "ranlib" => path(&self.toolchain.ranlib),
            "nm" => path(&self.toolchain.nm),
            "sysroot" => path(&self.toolchain.sysroot),
            "target" => self.toolchain.target.clone(),
            "src" => path(self.src),
            "repo" => path(self.repo),
            "jobs" => self.jobs.to_string(),
            "prefix" => path(self.prefix?),
            "native" => path(self.native?),
            other => path(self.deps.get(other.strip_prefix("dep:")?)?),
        })
    }

    /// Expands every `{name}` in `text`; unknown names are kept as written (lint reports them).
    pub fn expand(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find('{') {
            out.push_str(&rest[..start]);
            let after = &rest[start..];
            match after
                .find('}')
                .and_then(|end| Some((end, self.value(&after[1..end])?)))
            {
                Some((end, value)) => {
                    out.push_str(&value);
                    rest = &after[end + 1..];
                }
                None => {
                    out.push('{');
                    rest = &after[1..];
                }
            }
        }
        out.push_str(rest);
        out
    }
}

/// Settings merged for one runtime, not yet expanded.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub env: BTreeMap<String, String>,
    pub configure_args: Vec<String>,
    pub make_targets: Vec<String>,
    pub make_vars: Vec<String>,
    pub depends: Vec<RecipeId>,
}

impl Settings {
    pub fn for_runtime(spec: &BuildSpec, runtime: Kind) -> Self {
        let mut settings = Self {
            env: spec.env.clone(),
            configure_args: spec.configure_args.clone(),
            make_targets: spec.make_targets.clone(),
            make_vars: spec.make_vars.clone(),
            depends: spec.depends.clone(),
        };
        if let Some(over) = spec.runtime.get(&runtime) {
            for (key, value) in &over.env {
                // A runtime's value for a variable the common settings set is appended
                // (flags accumulate); a new variable is added.
                settings
                    .env
                    .entry(key.clone())
                    .and_modify(|current| {
                        current.push(' ');
                        current.push_str(value);
                    })
                    .or_insert_with(|| value.clone());
            }
            settings
                .configure_args
                .extend(over.configure_args.iter().cloned());
            settings.make_vars.extend(over.make_vars.iter().cloned());
            settings.depends.extend(over.depends.iter().cloned());
        }
        settings
    }

    pub fn expand(&self, placeholders: &Placeholders<'_>) -> Self {
        Self {
            env: self
                .env
                .iter()
                .map(|(k, v)| (k.clone(), placeholders.expand(v)))
                .collect(),
            configure_args: self
                .configure_args
                .iter()
                .map(|a| placeholders.expand(a))
                .collect(),
            make_targets: self.make_targets.clone(),
            make_vars: self
                .make_vars
                .iter()
                .map(|a| placeholders.expand(a))
                .collect(),
            depends: self.depends.clone(),
        }
    }
}

/// The environment of every configure and make run: the toolchain's tools as the
/// autotools cross conventions name them, unless the recipe sets them itself.
pub fn toolchain_env(
    toolchain: &Toolchain,
    recipe_env: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut env = recipe_env.clone();
    let path = |p: &Path| p.display().to_string();
    for (key, value) in [
        ("CC", path(&toolchain.cc)),
        ("AR", path(&toolchain.ar)),
        ("RANLIB", path(&toolchain.ranlib)),
        ("NM", path(&toolchain.nm)),
    ] {
        env.entry(key.to_string()).or_insert(value);
    }
    env
}
