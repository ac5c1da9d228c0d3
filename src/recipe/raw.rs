//! The raw serde model: mirrors the TOML exactly, no invariants beyond types.
//!
//! Unknown keys are errors everywhere (`deny_unknown_fields`); names are kebab-case.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawRecipe {
    pub package: RawPackage,
    pub source: RawSource,
    #[serde(default)]
    pub patches: RawPatches,
    #[serde(default)]
    pub build: RawBuild,
    #[serde(default, rename = "artifact")]
    pub artifacts: Vec<RawArtifact>,
    #[serde(default, rename = "test")]
    pub tests: Vec<RawTest>,
    pub server: Option<RawServer>,
    pub library: Option<RawLibrary>,
    #[serde(default, rename = "record")]
    pub records: Vec<RawRecord>,
    pub native: Option<RawNative>,
    pub run: Option<RawRun>,
    pub suite: Option<RawSuite>,
    /// `[profile.speed]`, `[profile.size]`: the recipe's own flags for a build profile.
    #[serde(default, rename = "profile")]
    pub profiles: BTreeMap<String, RawProfile>,
}

/// `[profile.<name>]`: replaces the profile's default flags (src/build/profile.rs).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawProfile {
    pub cflags: Option<Vec<String>>,
    pub wasm_opt: Option<Vec<String>>,
    /// Commands (program and arguments) run in the patched source tree before configure.
    pub prepare: Option<Vec<Vec<String>>>,
}

/// `[suite]`: the language's own tests, run inside the wasm build.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawSuite {
    pub artifact: String,
    #[serde(default)]
    pub args: Vec<String>,
    pub tests: Vec<String>,
    pub case_pattern: String,
    pub passed: String,
    pub skipped: Option<String>,
    pub timeout: Option<u64>,
}

/// `[native]`: a stage built from the same source for the build machine first.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawNative {
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub configure_args: Vec<String>,
    #[serde(default)]
    pub make_targets: Vec<String>,
    pub program: String,
    #[serde(default)]
    pub keep: Vec<String>,
}

/// `[run]`: what every run of the recipe's artifacts gets (`wlmake run`, tests, records).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawRun {
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

/// `[library]`: the recipe installs a static library into a prefix of its own.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawLibrary {
    #[serde(default)]
    pub archives: Vec<String>,
    #[serde(default)]
    pub pkg_config: Vec<String>,
    #[serde(default)]
    pub headers: Vec<String>,
    pub install_targets: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawRecord {
    pub name: String,
    pub artifact: String,
    #[serde(default)]
    pub args: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawServer {
    pub artifact: String,
    pub listen_flag: String,
    pub docroot_flag: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawPackage {
    pub language: String,
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub runtimes: Vec<String>,
}

/// Exactly one of `url`, `git`, `path` (checked in validation).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawSource {
    pub url: Option<String>,
    #[serde(default)]
    pub mirrors: Vec<String>,
    pub sha256: Option<String>,
    pub strip_prefix: Option<String>,
    pub debian: Option<RawDebian>,
    pub upstream: Option<String>,
    pub git: Option<String>,
    pub tag: Option<String>,
    pub commit: Option<String>,
    pub path: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawDebian {
    pub package: String,
    pub file: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawPatches {
    pub common: Option<String>,
    #[serde(default)]
    pub runtime: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawBuild {
    pub system: Option<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub configure_args: Vec<String>,
    #[serde(default)]
    pub make_targets: Vec<String>,
    #[serde(default)]
    pub make_vars: Vec<String>,
    #[serde(default)]
    pub depends: Vec<String>,
    #[serde(default)]
    pub count_warnings: Vec<String>,
    #[serde(default)]
    pub requires: BTreeMap<String, String>,
    pub config_site: Option<String>,
    pub configure_script: Option<String>,
    #[serde(default)]
    pub runtime: BTreeMap<String, RawBuildOverride>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawBuildOverride {
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub configure_args: Vec<String>,
    #[serde(default)]
    pub make_vars: Vec<String>,
    #[serde(default)]
    pub depends: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawArtifact {
    pub name: String,
    pub path: String,
    pub kind: Option<String>,
    pub mount: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawTest {
    pub name: String,
    pub artifact: String,
    #[serde(default)]
    pub args: Vec<String>,
    pub stdin: Option<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    pub dir: Option<String>,
    pub expect_stdout: Option<String>,
    pub expect_pattern: Option<String>,
    #[serde(default)]
    pub expect_exit: i32,
    pub mount_folders: Option<bool>,
    pub expect_stderr: Option<String>,
}
