//! The validated recipe: what the rest of wlmake works with.
//!
//! Built from [`super::raw`] by [`super::validate`]; every invariant the raw TOML cannot
//! express (a URL needs a sha256, `url`/`git`/`path` exclude each other, ...) holds here.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::runtime::Kind;

/// `<language>/<name>-<version>`, e.g. `php/php-7.4.33`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct RecipeId(pub String);

impl std::fmt::Display for RecipeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A lowercase hex sha256 digest (64 characters), checked on construction.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Sha256(String);

impl Sha256 {
    pub fn parse(text: &str) -> Option<Self> {
        let ok = text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit());
        ok.then(|| Self(text.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Sha256 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Recipe {
    pub id: RecipeId,
    pub language: String,
    pub name: String,
    pub version: String,
    pub description: String,
    /// The recipe file, absolute.
    pub file: PathBuf,
    /// sha256 of the recipe file's bytes: part of every build's identity.
    pub content_sha256: Sha256,
    pub source: SourceSpec,
    /// Runtimes this recipe supports, in the recipe's order.
    pub runtimes: Vec<Kind>,
    pub patches: PatchSets,
    pub build: BuildSpec,
    pub artifacts: Vec<ArtifactSpec>,
    pub tests: Vec<SmokeTest>,
    /// How an artifact runs as a network server (`php -S HOST:PORT -t DOCROOT`).
    pub server: Option<ServerSpec>,
    /// Set for a library that installs into a prefix of its own (`[library]`).
    pub library: Option<LibrarySpec>,
    /// Commands run on the built artifacts whose output the manifest keeps (`php -m`).
    pub records: Vec<RecordSpec>,
    /// A stage built natively from the same source before the wasm build (`[native]`).
    pub native: Option<NativeSpec>,
    /// Guest environment of every run of the artifacts (`[run] env`).
    pub run_env: BTreeMap<String, String>,
    /// The language's own tests, run inside the wasm build (`[suite]`).
    pub suite: Option<GuestSuite>,
    /// `[profile.speed]` / `[profile.size]`: the recipe's flags for a build profile,
    /// replacing the defaults of src/build/profile.rs.
    pub profiles: BTreeMap<crate::build::profile::Profile, ProfileOverride>,
}

/// A recipe's own settings for one build profile; `None` keeps the default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ProfileOverride {
    pub cflags: Option<Vec<String>>,
    /// The post-link `wasm-opt` arguments; empty: no `wasm-opt` run.
    pub wasm_opt: Option<Vec<String>>,
    /// Commands run in the patched source tree before configure (program, arguments),
    /// e.g. a generator that rewrites sources for this profile only.
    pub prepare: Option<Vec<Vec<String>>>,
}

impl Recipe {
    /// The one check that the recipe lists `runtime` (build, run, test, graph, container).
    pub fn require_runtime(&self, runtime: Kind) -> Result<(), super::RecipeError> {
        if self.runtimes.contains(&runtime) {
            return Ok(());
        }
        Err(super::RecipeError::UnsupportedRuntime {
            id: self.id.to_string(),
            runtime,
            supported: self.runtimes.clone(),
        })
    }
}

/// `[suite]`: `wlmake test --suite upstream` runs `ARTIFACT ARGS TEST` once per test on
/// the runtime (folders mounted, a scratch folder as `/`), reads each test case's result
/// from its output with `case_pattern`, and judges them against the expected failures.
#[derive(Debug, Clone, Serialize)]
pub struct GuestSuite {
    pub artifact: String,
    pub args: Vec<String>,
    pub tests: Vec<String>,
    /// A line per test case, with named groups `name` (no spaces) and `status`.
    pub case_pattern: String,
    /// A status that matches this passed; one matching `skipped` was skipped; any
    /// other failed.
    pub passed: String,
    pub skipped: Option<String>,
    /// Seconds one test's run may take.
    pub timeout: u64,
}

/// `[native]`: the recipe's source built for the build machine (host compiler, in a
/// tree of its own) before the wasm build, which reaches the produced program as
/// `{native}` (CPython's cross build needs a build-machine Python of the same version).
#[derive(Debug, Clone, Serialize)]
pub struct NativeSpec {
    /// Environment for its configure and make (the host's compiler unless set here).
    pub env: BTreeMap<String, String>,
    pub configure_args: Vec<String>,
    pub make_targets: Vec<String>,
    /// The program the stage produces, relative to its tree (`python`).
    pub program: String,
    /// What else the program needs at run time (files or folders of the tree): with the
    /// program, what the build cache keeps of the stage. Empty: the stage is not cached.
    pub keep: Vec<String>,
}

/// What a library build must leave in its prefix; dependents see the prefix as
/// `{dep:NAME}` and its `lib/pkgconfig` through a restricted pkg-config.
#[derive(Debug, Clone, Serialize)]
pub struct LibrarySpec {
    /// Static archives relative to the prefix (`lib/libz.a`).
    pub archives: Vec<String>,
    /// pkg-config module names: `lib/pkgconfig/<name>.pc` in the prefix.
    pub pkg_config: Vec<String>,
    /// Headers relative to the prefix (`include/zlib.h`) that must be installed.
    pub headers: Vec<String>,
    /// make targets that install into the prefix (autotools, configure, make).
    pub install_targets: Vec<String>,
}

/// One `[[record]]`: after a build, `artifact ARGS` runs on the flavor's runtime and its
/// stdout lines go into the manifest under `name`.
#[derive(Debug, Clone, Serialize)]
pub struct RecordSpec {
    pub name: String,
    pub artifact: String,
    pub args: Vec<String>,
}

/// A server mode of one artifact: wlmake finds the address and document root in its
/// arguments to give the runtime what it needs (a listening socket, a preopened folder).
#[derive(Debug, Clone, Serialize)]
pub struct ServerSpec {
    pub artifact: String,
    /// The flag followed by `HOST:PORT` (`-S`).
    pub listen_flag: String,
    /// The flag followed by the document root folder (`-t`), if any.
    pub docroot_flag: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SourceSpec {
    /// An upstream archive, verified against `sha256` whichever provider delivers it.
    Archive(ArchiveSource),
    /// A git repository at a tag that must resolve to the pinned commit.
    Git(GitSource),
    /// A folder inside the repository (C sources we own).
    Path(PathSource),
}

#[derive(Debug, Clone, Serialize)]
pub struct ArchiveSource {
    /// The primary URL first, then the mirrors, tried in order.
    pub urls: Vec<String>,
    pub sha256: Sha256,
    /// The archive's file name (from the primary URL), used for the format and cache name.
    pub file_name: String,
    /// A Debian/Ubuntu source package whose orig tarball is the same archive.
    pub debian: Option<DebianSource>,
    /// The upstream release this archive comes from, for people: never fetched (set when
    /// the archive is a Debian orig whose bytes differ from upstream's, or are unverified).
    pub upstream: Option<String>,
    /// Leading folder removed on extraction (`php-7.4.33`); `None` keeps the layout.
    pub strip_prefix: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DebianSource {
    /// Source package name, e.g. `php7.4`.
    pub package: String,
    /// The orig tarball's file name, e.g. `php7.4_7.4.33.orig.tar.xz`.
    pub file: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct GitSource {
    pub url: String,
    pub tag: String,
    /// Full 40-hex commit id.
    pub commit: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PathSource {
    /// As written in the recipe (relative to the repository root).
    pub path: String,
    /// Resolved absolute folder.
    pub dir: PathBuf,
}

/// Patch sets: the common series, then one overlay per runtime.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PatchSets {
    /// Folder (relative to the repository root) of the common series, if any.
    pub common: Option<String>,
    /// runtime name -> overlay folder (relative to the repository root).
    pub runtime: BTreeMap<Kind, String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct BuildSpec {
    /// `autotools` (configure --host + make), `configure` (a configure script that is
    /// not autoconf's: no --host), `cmake` (toolchain file from the view) or `make`.
    pub system: String,
    /// Environment for configure and make; `{toolchain.*}`-style placeholders are expanded
    /// by the build step.
    pub env: BTreeMap<String, String>,
    pub configure_args: Vec<String>,
    pub make_targets: Vec<String>,
    /// Extra make variables (`NAME=VALUE`) passed on the make command line only.
    pub make_vars: Vec<String>,
    /// Library recipes (ids) built first; `{dep:NAME}` expands to a dependency's build tree.
    pub depends: Vec<RecipeId>,
    /// Compiler warning flags (`-Wcast-function-type-strict`) whose warnings are counted
    /// in the make log, shown after the build and recorded in the manifest.
    pub count_warnings: Vec<String>,
    /// Configure flag -> library (dependency `package.name`) it needs: `wlmake lint`
    /// refuses a flag in use whose library is not among the (transitive) dependencies.
    pub requires: BTreeMap<String, String>,
    /// A `CONFIG_SITE` file (relative to the repository) given to configure: answers for
    /// probes a cross build cannot run. Its content is part of the build's identity.
    pub config_site: Option<String>,
    /// The configure script of `autotools` and `configure` builds, relative to the source
    /// tree, when it is not `configure` (OpenSSL's perl `Configure`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub configure_script: Option<String>,
    /// Per-runtime additions, appended to the common settings.
    pub runtime: BTreeMap<Kind, BuildOverride>,
}

impl BuildSpec {
    /// The configure script's path inside the source tree (`configure` unless the recipe
    /// names another).
    pub fn configure_script(&self) -> &str {
        self.configure_script.as_deref().unwrap_or("configure")
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct BuildOverride {
    pub env: BTreeMap<String, String>,
    pub configure_args: Vec<String>,
    pub make_vars: Vec<String>,
    pub depends: Vec<RecipeId>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ArtifactSpec {
    /// Name users see (`php`, `php-cgi`); the output file is `<name>.wasm`.
    pub name: String,
    /// Path inside the build tree of the linked binary, or of the folder.
    pub path: String,
    pub kind: ArtifactKind,
    /// Where a folder artifact appears in the guest: every run mounts it there.
    pub mount: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArtifactKind {
    /// A WebAssembly module (`<name>.wasm`) or a static archive (`<name>.a`).
    File,
    /// A folder the modules need at run time (a standard library), published as
    /// `<name>/` and mounted read by every run at the artifact's `mount`.
    Folder,
}

#[derive(Debug, Clone, Serialize)]
pub struct SmokeTest {
    pub name: String,
    pub artifact: String,
    pub args: Vec<String>,
    pub stdin: Option<String>,
    pub env: BTreeMap<String, String>,
    /// Repository folder preopened as `/app` for the run.
    pub dir: Option<String>,
    pub expect: Expectation,
    pub expect_exit: i32,
    /// Mount the recipe's folder artifacts (default); false runs the module alone.
    pub mount_folders: bool,
    /// A regular expression stderr must match, when set.
    pub expect_stderr: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "kebab-case")]
pub enum Expectation {
    /// stdout must equal this exactly.
    Stdout(String),
    /// stdout must match this regular expression.
    Pattern(String),
}
