//! Build profiles: what `--profile` changes in a build, defined here and nowhere else.
//!
//! `release` is the recipe as written (the build every release ships; its identity and
//! output folder are what they were before profiles existed). `speed` and `size` add
//! compiler flags after the recipe's own (the last `-O` wins) and run binaryen's
//! `wasm-opt` on every wasm artifact after the link, before the import check. They apply
//! to the recipe being built, for every recipe alike (a recipe's `[profile.speed]` /
//! `[profile.size]` may replace the flags or the `wasm-opt` arguments); the `[library]`
//! recipes it links keep their shared release builds (one prefix per library, whatever
//! the profile).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::process::{Command, ProcessError};
use crate::runtime::Kind;

/// A build profile, as `--profile` names it.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum Profile {
    // The recipe's own flags (what releases ship). Plain comments on the variants: doc
    // comments would turn `--help` into its long form.
    #[default]
    Release,
    // Faster code: `-O3`, then `wasm-opt -O3`.
    Speed,
    // A smaller binary: `-Oz`, then `wasm-opt -Oz --strip-debug`.
    Size,
}

/// What a profile does to a build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileSpec {
    /// Appended to `CFLAGS` and `CXXFLAGS` (and so to the link line of programs
    /// that link through the compiler driver).
    pub cflags: Vec<String>,
    /// The arguments of the post-link `wasm-opt` run (input and `-o` added), if any.
    pub wasm_opt: Option<Vec<String>>,
    /// Commands run in the patched source tree before configure (the recipe's only).
    pub prepare: Vec<Vec<String>>,
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("the `{profile}` profile runs binaryen's `wasm-opt`, and none was found on PATH")]
    NoWasmOpt { profile: &'static str },
    #[error(
        "the `{profile}` profile of this recipe runs `{program}` before configure, and none was found on PATH"
    )]
    NoPrepareTool {
        profile: &'static str,
        program: String,
    },
    #[error("cannot read the version of `{}`", program.display())]
    Version {
        program: PathBuf,
        #[source]
        source: Box<ProcessError>,
    },
    #[error("`wasm-opt` failed on artifact `{artifact}` (`{}`)", path.display())]
    WasmOpt {
        artifact: String,
        path: PathBuf,
        #[source]
        source: Box<ProcessError>,
    },
    #[error("cannot replace `{}` with its optimised form", path.display())]
    Replace {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl ProfileError {
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::NoWasmOpt { .. } => Some(
                "install binaryen (Debian: `apt-get install binaryen`), or build with `--profile release`"
                    .into(),
            ),
            Self::NoPrepareTool { program, .. } => Some(format!(
                "install `{program}` on the build machine (PHP's VM generator: Debian's `php-cli`), or build with `--profile release`"
            )),
            Self::WasmOpt { .. } => Some(
                "the log `logs/wasm-opt.log` in the build's work folder has wasm-opt's output".into(),
            ),
            _ => None,
        }
    }
}

impl Profile {
    pub const ALL: [Profile; 3] = [Profile::Release, Profile::Speed, Profile::Size];

    pub fn name(self) -> &'static str {
        match self {
            Self::Release => "release",
            Self::Speed => "speed",
            Self::Size => "size",
        }
    }

    /// The one table of what each profile does (a recipe's `[profile.<name>]` may
    /// replace either part: [`Profile::spec_for`]).
    pub fn spec(self) -> ProfileSpec {
        match self {
            Self::Release => ProfileSpec {
                cflags: Vec::new(),
                wasm_opt: None,
                prepare: Vec::new(),
            },
            Self::Speed => ProfileSpec {
                cflags: strings(&["-O3"]),
                wasm_opt: Some(strings(&["-O3"])),
                prepare: Vec::new(),
            },
            Self::Size => ProfileSpec {
                cflags: strings(&["-Oz"]),
                wasm_opt: Some(strings(&["-Oz", "--strip-debug", "--strip-producers"])),
                prepare: Vec::new(),
            },
        }
    }

    /// The profile's spec for a recipe: the defaults, with what the recipe's
    /// `[profile.<name>]` sets instead (an empty `wasm-opt` list: no `wasm-opt` run).
    pub fn spec_for(self, recipe: Option<&crate::recipe::ProfileOverride>) -> ProfileSpec {
        let mut spec = self.spec();
        if self == Self::Release {
            return spec;
        }
        if let Some(over) = recipe {
            if let Some(cflags) = &over.cflags {
                spec.cflags = cflags.clone();
            }
            if let Some(args) = &over.wasm_opt {
                spec.wasm_opt = (!args.is_empty()).then(|| args.clone());
            }
            if let Some(commands) = &over.prepare {
                spec.prepare = commands.clone();
            }
        }
        spec
    }

    /// The folder a build of this profile for `runtime` is published in, below the
    /// recipe's output folder (and its work folder): the runtime's name for `release`, as
    /// before profiles, `<runtime>-<profile>` otherwise.
    pub fn folder(self, runtime: Kind) -> String {
        match self {
            Self::Release => runtime.to_string(),
            other => format!("{runtime}-{}", other.name()),
        }
    }
}

/// A profile resolved on this machine: its table entry and the `wasm-opt` it runs.
#[derive(Debug, Clone)]
pub struct ResolvedProfile {
    pub profile: Profile,
    pub spec: ProfileSpec,
    /// The real `wasm-opt` and its version line, when the profile runs one.
    pub wasm_opt: Option<(PathBuf, String)>,
}

/// What the manifest records of a build's profile.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ProfileEntry {
    pub name: Profile,
    pub cflags: Vec<String>,
    /// The post-link `wasm-opt` arguments, empty when none ran.
    #[serde(default)]
    pub wasm_opt: Vec<String>,
    /// `wasm-opt --version`, when it ran.
    #[serde(default)]
    pub wasm_opt_version: Option<String>,
    /// The commands run in the source tree before configure (absent when none: the
    /// identities of profiles without them are unchanged).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prepare: Vec<Vec<String>>,
}

/// Identity string of the release profile: the value builds had before profiles
/// existed, so the identities (and the build cache) of release builds are unchanged.
pub const RELEASE_IDENTITY: &str = super::identity::DEFAULT_PROFILE;

impl ResolvedProfile {
    /// Resolves the profile for a recipe (its `[profile.<name>]`, if any): finds
    /// `wasm-opt` when it needs one. `toolchain_bin` is the toolchain view's `bin` folder,
    /// whose `wasm-opt` is a no-op (src/toolchain) and so is skipped.
    pub fn resolve(
        profile: Profile,
        recipe: Option<&crate::recipe::ProfileOverride>,
        toolchain_bin: &Path,
    ) -> Result<Self, ProfileError> {
        let spec = profile.spec_for(recipe);
        if let Some(program) = spec
            .prepare
            .iter()
            .filter_map(|command| command.first())
            .find(|program| crate::process::which_all(program).is_empty())
        {
            return Err(ProfileError::NoPrepareTool {
                profile: profile.name(),
                program: program.clone(),
            });
        }
        let wasm_opt = match spec.wasm_opt {
            None => None,
            Some(_) => {
                let program = crate::process::which_all("wasm-opt")
                    .into_iter()
                    .find(|p| !p.starts_with(toolchain_bin))
                    .ok_or(ProfileError::NoWasmOpt {
                        profile: profile.name(),
                    })?;
                let out = Command::new(&program)
                    .arg("--version")
                    .capture_checked()
                    .map_err(|source| ProfileError::Version {
                        program: program.clone(),
                        source: Box::new(source),
                    })?;
                let version = out.stdout.trim().to_string();
                Some((program, version))
            }
        };
        Ok(Self {
            profile,
            spec,
            wasm_opt,
        })
    }

    /// The profile's part of the build identity: `"default"` for release (as before
    /// profiles), else the name, the flags and the `wasm-opt` version as JSON.
    pub fn identity(&self) -> String {
        if self.profile == Profile::Release {
            return RELEASE_IDENTITY.to_string();
        }
        serde_json::to_string(&self.entry()).expect("serializable")
    }

    pub fn entry(&self) -> ProfileEntry {
        ProfileEntry {
            name: self.profile,
            cflags: self.spec.cflags.clone(),
            wasm_opt: self.spec.wasm_opt.clone().unwrap_or_default(),
            wasm_opt_version: self.wasm_opt.as_ref().map(|(_, v)| v.clone()),
            prepare: self.spec.prepare.clone(),
        }
    }

    /// Adds the profile's compiler flags to a build's environment: after the recipe's
    /// own `CFLAGS` / `CXXFLAGS`, so that the profile's `-O` is the last one.
    pub fn apply_flags(&self, env: &mut BTreeMap<String, String>) {
        if self.spec.cflags.is_empty() {
            return;
        }
        let flags = self.spec.cflags.join(" ");
        for key in ["CFLAGS", "CXXFLAGS"] {
            match env.get_mut(key) {
                Some(value) => {
                    value.push(' ');
                    value.push_str(&flags);
                }
                // Without a CXXFLAGS of the recipe's, no C++ is assumed: CFLAGS only.
                None if key == "CFLAGS" => {
                    env.insert(key.into(), flags.clone());
                }
                None => {}
            }
        }
    }

    /// Runs the post-link `wasm-opt` on one artifact, in place (through a temporary file
    /// beside it and a rename). Output to `log`.
    pub fn optimise(&self, artifact: &str, path: &Path, log: &Path) -> Result<(), ProfileError> {
        let (Some(args), Some((program, _))) = (&self.spec.wasm_opt, &self.wasm_opt) else {
            return Ok(());
        };
        let mut temp = path.as_os_str().to_owned();
        temp.push(".wasm-opt.tmp");
        let temp = PathBuf::from(temp);
        Command::new(program)
            .arg(path)
            .args(args.iter())
            .arg("-o")
            .arg(&temp)
            .run_logged(log)
            .map_err(|source| {
                let _ = std::fs::remove_file(&temp);
                ProfileError::WasmOpt {
                    artifact: artifact.to_string(),
                    path: path.to_path_buf(),
                    source: Box::new(source),
                }
            })?;
        std::fs::rename(&temp, path).map_err(|source| ProfileError::Replace {
            path: path.to_path_buf(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_keeps_the_identity_and_folder_of_builds_before_profiles() {
        let release =
            ResolvedProfile::resolve(Profile::Release, None, Path::new("/nowhere")).unwrap();
        assert_eq!(release.identity(), "default");
        assert_eq!(Profile::Release.folder(Kind::Wasmtime), "wasmtime");
        let mut env = BTreeMap::from([("CFLAGS".to_string(), "-O2".to_string())]);
        release.apply_flags(&mut env);
        assert_eq!(env["CFLAGS"], "-O2");
    }

    #[test]
    fn other_profiles_have_folders_and_identities_of_their_own() {
        assert_eq!(Profile::Speed.folder(Kind::Wasmtime), "wasmtime-speed");
        assert_eq!(Profile::Size.folder(Kind::Wasmedge), "wasmedge-size");
        let speed = ResolvedProfile {
            profile: Profile::Speed,
            spec: Profile::Speed.spec(),
            wasm_opt: Some(("/usr/bin/wasm-opt".into(), "wasm-opt version 108".into())),
        };
        let newer = ResolvedProfile {
            wasm_opt: Some(("/usr/bin/wasm-opt".into(), "wasm-opt version 116".into())),
            ..speed.clone()
        };
        let size = ResolvedProfile {
            profile: Profile::Size,
            spec: Profile::Size.spec(),
            ..speed.clone()
        };
        let ids = [speed.identity(), newer.identity(), size.identity()];
        assert!(ids.iter().all(|id| id != "default"));
        assert_ne!(
            ids[0], ids[1],
            "the wasm-opt version is part of the identity"
        );
        assert_ne!(ids[0], ids[2]);
        assert!(!ids[0].contains("/usr/bin"), "no machine path: {}", ids[0]);
        // Profiles without prepare commands keep the identity they had before the field.
        assert!(!ids[1].contains("prepare"), "{}", ids[1]);
        let prepared = ResolvedProfile {
            spec: ProfileSpec {
                prepare: vec![vec!["php".into(), "gen.php".into()]],
                ..Profile::Speed.spec()
            },
            ..speed.clone()
        };
        assert_ne!(prepared.identity(), ids[0]);
        assert!(prepared.identity().contains("gen.php"));
    }

    #[test]
    fn a_recipe_replaces_what_it_sets_and_keeps_the_rest() {
        let over = crate::recipe::ProfileOverride {
            cflags: Some(vec!["-O3".into(), "-flto".into()]),
            wasm_opt: None,
            prepare: Some(vec![vec!["php".into(), "gen.php".into()]]),
        };
        let spec = Profile::Speed.spec_for(Some(&over));
        assert_eq!(spec.cflags, ["-O3", "-flto"]);
        assert_eq!(spec.wasm_opt, Profile::Speed.spec().wasm_opt);
        assert_eq!(spec.prepare, [["php", "gen.php"]]);
        let none = crate::recipe::ProfileOverride {
            cflags: None,
            wasm_opt: Some(Vec::new()),
            prepare: None,
        };
        assert!(Profile::Size.spec_for(Some(&none)).prepare.is_empty());
        assert_eq!(Profile::Size.spec_for(Some(&none)).wasm_opt, None);
        assert_eq!(
            Profile::Release.spec_for(Some(&over)),
            Profile::Release.spec()
        );
    }

    #[test]
    fn profile_flags_come_after_the_recipe_flags() {
        let size = ResolvedProfile {
            profile: Profile::Size,
            spec: Profile::Size.spec(),
            wasm_opt: None,
        };
        let mut env = BTreeMap::from([("CFLAGS".to_string(), "-O2 -Wall".to_string())]);
        size.apply_flags(&mut env);
        assert_eq!(env["CFLAGS"], "-O2 -Wall -Oz");
        assert!(!env.contains_key("CXXFLAGS"));
        let mut empty = BTreeMap::new();
        size.apply_flags(&mut empty);
        assert_eq!(empty["CFLAGS"], "-Oz");
    }
}
