//! What makes two builds of the same inputs give the same bytes, wherever and whenever
//! they run (docs/reproducibility.md):
//!
//! - `SOURCE_DATE_EPOCH` in every step's environment: the newest file time in the
//!   upstream archive (read from the freshly extracted tree, before any patch), or
//!   [`FIXED_EPOCH`] for sources without meaningful times (git checkouts, folders of
//!   the repository). clang 16 takes `__DATE__`/`__TIME__` from it, PHP's configure
//!   its build date.
//! - `-ffile-prefix-map` in `CFLAGS`/`CXXFLAGS`: the build's folders (source tree,
//!   work folder, library prefixes, toolchain view) appear as fixed names (`/src/<name>`,
//!   `/lib/<name>`, ...) in `__FILE__` and in debug information.
//! - `pkg-config` through a wrapper on PATH that carries the library folders, so no
//!   `PKG_CONFIG_LIBDIR` with host paths is in configure's environment (PHP records
//!   configure's precious variables in its configure command, shown by `phpinfo()`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::recipe::{Recipe, SourceSpec};

/// `SOURCE_DATE_EPOCH` for sources whose file times mean nothing (git checkouts get
/// the checkout time, repository folders the edit time): 1980-01-01 00:00:00 UTC.
pub const FIXED_EPOCH: u64 = 315_532_800;

/// The environment variable every step sees.
pub const EPOCH_VAR: &str = "SOURCE_DATE_EPOCH";

/// The build's `SOURCE_DATE_EPOCH`: for an archive, the newest modification time of
/// the files in `tree` (call it right after extraction, before patching), else
/// [`FIXED_EPOCH`]. An archive without usable times also gets [`FIXED_EPOCH`].
pub fn source_date_epoch(recipe: &Recipe, tree: &Path) -> u64 {
    match recipe.source {
        SourceSpec::Archive(_) => newest_mtime(tree).unwrap_or(FIXED_EPOCH),
        SourceSpec::Git(_) | SourceSpec::Path(_) => FIXED_EPOCH,
    }
}

/// The newest modification time (seconds since the epoch) of a file below `dir`;
/// symbolic links are not followed. `None` when there is no file.
pub fn newest_mtime(dir: &Path) -> Option<u64> {
    let mut newest: Option<u64> = None;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(meta) = entry.path().symlink_metadata() else {
                continue;
            };
            if meta.is_dir() {
                stack.push(entry.path());
            } else if meta.is_file()
                && let Ok(modified) = meta.modified()
                && let Ok(since) = modified.duration_since(std::time::UNIX_EPOCH)
            {
                newest = Some(newest.map_or(since.as_secs(), |n| n.max(since.as_secs())));
            }
        }
    }
    newest
}

/// Host folders and the fixed names they get in the build's output.
#[derive(Debug, Clone, Default)]
pub struct PrefixMaps(Vec<(PathBuf, String)>);

impl PrefixMaps {
    pub fn new() -> Self {
        Self::default()
    }

    /// Maps `host` (and, when it differs, its canonical form) to `fixed`.
    pub fn add(mut self, host: &Path, fixed: impl Into<String>) -> Self {
        let fixed = fixed.into();
        if let Ok(canonical) = host.canonicalize()
            && canonical != host
        {
            self.0.push((canonical, fixed.clone()));
        }
        self.0.push((host.to_path_buf(), fixed));
        self
    }

    /// `-ffile-prefix-map=HOST=FIXED ...`, the longest host path first (clang uses the
    /// first map that matches, so a folder inside another keeps its own name).
    pub fn flags(&self) -> String {
        let mut maps = self.0.clone();
        maps.sort_by(|a, b| {
            let (a, b) = (a.0.as_os_str().len(), b.0.as_os_str().len());
            b.cmp(&a)
        });
        maps.dedup_by(|a, b| a.0 == b.0);
        maps.iter()
            .map(|(host, fixed)| format!("-ffile-prefix-map={}={fixed}", host.display()))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Puts `SOURCE_DATE_EPOCH` into `env` and appends the prefix maps to `CFLAGS` and
/// `CXXFLAGS` (after the recipe's own flags).
pub fn apply(env: &mut BTreeMap<String, String>, epoch: u64, maps: &PrefixMaps) {
    env.insert(EPOCH_VAR.to_string(), epoch.to_string());
    let flags = maps.flags();
    if flags.is_empty() {
        return;
    }
    for key in ["CFLAGS", "CXXFLAGS"] {
        let value = env.entry(key.to_string()).or_default();
        if value.is_empty() {
            *value = flags.clone();
        } else {
            *value = format!("{value} {flags}");
        }
    }
}

/// Writes `<bin>/pkg-config`, which runs the real `pkg-config` with `vars` (the
/// library folders) set, so they need not be in the step's environment; `bin` goes
/// first on the step's PATH. Returns that PATH.
pub fn pkg_config_wrapper(
    bin: &Path,
    vars: &BTreeMap<String, String>,
    path: &str,
) -> std::io::Result<String> {
    std::fs::create_dir_all(bin)?;
    let real = path
        .split(':')
        .map(|dir| Path::new(dir).join("pkg-config"))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| PathBuf::from("/usr/bin/pkg-config"));
    let mut script = String::from(
        "#!/bin/sh\n# Written by wlmake: the build's library folders for pkg-config.\n",
    );
    for (key, value) in vars {
        script.push_str(&format!(
            "{key}='{}'; export {key}\n",
            value.replace('\'', "'\\''")
        ));
    }
    script.push_str(&format!("exec '{}' \"$@\"\n", real.display()));
    let file = bin.join("pkg-config");
    std::fs::write(&file, script)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(format!("{}:{path}", bin.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_host_path_maps_first() {
        let maps = PrefixMaps::new()
            .add(Path::new("/w/build/x"), "/build/x")
            .add(Path::new("/w/build/x/src"), "/src/x");
        assert_eq!(
            maps.flags(),
            "-ffile-prefix-map=/w/build/x/src=/src/x -ffile-prefix-map=/w/build/x=/build/x"
        );
    }

    #[test]
    fn apply_appends_to_the_recipe_flags_and_sets_the_epoch() {
        let mut env = BTreeMap::from([("CFLAGS".to_string(), "-O2".to_string())]);
        apply(
            &mut env,
            42,
            &PrefixMaps::new().add(Path::new("/a"), "/src/a"),
        );
        assert_eq!(env["CFLAGS"], "-O2 -ffile-prefix-map=/a=/src/a");
        assert_eq!(env["CXXFLAGS"], "-ffile-prefix-map=/a=/src/a");
        assert_eq!(env[EPOCH_VAR], "42");
    }

    #[test]
    fn newest_mtime_is_the_newest_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        for (name, secs) in [("a", 1_000_000_000u64), ("sub/b", 1_200_000_000)] {
            let file = std::fs::File::create(dir.path().join(name)).unwrap();
            file.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
                .unwrap();
        }
        assert_eq!(newest_mtime(dir.path()), Some(1_200_000_000));
        assert_eq!(newest_mtime(&dir.path().join("missing")), None);
    }
}
