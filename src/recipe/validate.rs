//! From the raw TOML model to a [`Recipe`]: every invariant checked, every problem
//! reported with its position.

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256 as Sha256Hasher};

use super::diagnostic::{Diagnostic, Key, locate_nearest};
use super::model::*;
use super::raw::*;
use crate::build::profile::Profile;
use crate::runtime::Kind;

/// Runtimes wlmake knows how to build for and run on.
/// Build systems wlmake can drive.
pub const KNOWN_SYSTEMS: &[&str] = &["autotools", "configure", "cmake", "make"];
/// Placeholders that build settings may use, expanded by the build step.
pub const PLACEHOLDERS: &[&str] = &[
    "cc", "ar", "ranlib", "nm", "sysroot", "target", "src", "repo", "jobs", "prefix", "native",
];

struct Checker<'a> {
    file: &'a Path,
    text: &'a str,
    problems: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn problem(&mut self, path: &[Key<'_>], message: impl Into<String>) -> &mut Diagnostic {
        let span = locate_nearest(self.text, path);
        self.problems
            .push(Diagnostic::at(self.file, self.text, span, message.into()));
        self.problems.last_mut().expect("just pushed")
    }

    fn hint(&mut self, path: &[Key<'_>], message: impl Into<String>, hint: impl Into<String>) {
        let diagnostic = self.problem(path, message);
        diagnostic.hint = Some(hint.into());
    }
}

/// Parses and validates one recipe file's text. `repo` is the repository root (for
/// folder references); `file` is used for positions and the recipe id.
pub fn parse_recipe(repo: &Path, file: &Path, text: &str) -> Result<Recipe, Vec<Diagnostic>> {
    let raw: RawRecipe = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(error) => {
            let message = error.message().trim().to_string();
            let mut diagnostic = Diagnostic::at(file, text, error.span(), message.clone());
            if message.starts_with("unknown field") {
                diagnostic.hint = Some(
                    "the recipe format is documented in docs/recipes.md; check the key's spelling"
                        .into(),
                );
            }
            return Err(vec![diagnostic]);
        }
    };
    let mut checker = Checker {
        file,
        text,
        problems: Vec::new(),
    };
    let recipe = check(&mut checker, repo, file, text, raw);
    if checker.problems.is_empty() {
        Ok(recipe.expect("no problems means a recipe"))
    } else {
        Err(checker.problems)
    }
}

fn is_name(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b))
}

fn check(
    c: &mut Checker<'_>,
    repo: &Path,
    file: &Path,
    text: &str,
    raw: RawRecipe,
) -> Option<Recipe> {
    use Key::Name as N;
    let package = &raw.package;
    for (key, value) in [
        ("language", &package.language),
        ("name", &package.name),
        ("version", &package.version),
    ] {
        if !is_name(value) {
            c.problem(
                &[N("package"), N(key)],
                format!("package.{key} `{value}` must be non-empty lowercase letters, digits, `-`, `_` or `.`"),
            );
        }
    }
    let id = RecipeId(format!(
        "{}/{}-{}",
        package.language, package.name, package.version
    ));
    // The file must sit at recipes/<language>/<name>-<version>.toml.
    let expected_stem = format!("{}-{}", package.name, package.version);
    let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    let parent = file
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|s| s.to_str())
        .unwrap_or("");
    if stem != expected_stem || parent != package.language {
        c.hint(
            &[N("package")],
            format!(
                "recipe `{id}` is in the wrong file: expected recipes/{}/{expected_stem}.toml",
                package.language
            ),
            "rename the file or fix package.language, package.name and package.version",
        );
    }
    let mut runtimes = Vec::new();
    for (index, runtime) in package.runtimes.iter().enumerate() {
        match Kind::parse(runtime) {
            Ok(kind) => runtimes.push(kind),
            Err(_) => c.hint(
                &[N("package"), N("runtimes"), Key::Index(index)],
                format!("unknown runtime `{runtime}`"),
                format!("known runtimes: {}", Kind::known()),
            ),
        }
    }

    let source = check_source(c, repo, &raw.source);
    let patches = check_patches(c, repo, &raw.patches, &runtimes);
    let build = check_build(c, &raw.build, &runtimes);

    let mut artifacts = Vec::new();
    for (index, artifact) in raw.artifacts.iter().enumerate() {
        if !is_name(&artifact.name) {
            c.problem(
                &[N("artifact"), Key::Index(index), N("name")],
                format!(
                    "artifact name `{}` must be lowercase letters, digits, `-`, `_` or `.`",
                    artifact.name
                ),
            );
        }
        if artifacts
            .iter()
            .any(|a: &ArtifactSpec| a.name == artifact.name)
        {
            c.problem(
                &[N("artifact"), Key::Index(index), N("name")],
                format!("artifact `{}` is declared twice", artifact.name),
            );
        }
        if artifact.path.is_empty()
            || Path::new(&artifact.path).is_absolute()
            || artifact.path.contains("..")
        {
            c.problem(
                &[N("artifact"), Key::Index(index), N("path")],
                format!(
                    "artifact path `{}` must be a relative path inside the build tree",
                    artifact.path
                ),
            );
        }
        let kind = match artifact.kind.as_deref() {
            None | Some("file") => ArtifactKind::File,
            Some("folder") => ArtifactKind::Folder,
            Some(other) => {
                c.hint(
                    &[N("artifact"), Key::Index(index), N("kind")],
                    format!("unknown artifact kind `{other}`"),
                    "known kinds: file (a module, the default), folder",
                );
                ArtifactKind::File
            }
        };
        match (kind, &artifact.mount) {
            (ArtifactKind::Folder, None) => c.hint(
                &[N("artifact"), Key::Index(index)],
                format!("folder artifact `{}` needs `mount`", artifact.name),
                "the guest path where every run sees the folder, e.g. mount = \"/usr/local/lib/python3.11\"",
            ),
            (ArtifactKind::File, Some(_)) => c.hint(
                &[N("artifact"), Key::Index(index), N("mount")],
                format!("artifact `{}` is a file: only folders are mounted", artifact.name),
                "add kind = \"folder\" or remove mount",
            ),
            (_, Some(mount)) if !mount.starts_with('/') || mount.contains("..") => c.hint(
                &[N("artifact"), Key::Index(index), N("mount")],
                format!("mount `{mount}` must be an absolute guest path without `..`"),
                "e.g. mount = \"/usr/local/lib/python3.11\"",
            ),
            _ => {}
        }
        artifacts.push(ArtifactSpec {
            name: artifact.name.clone(),
            path: artifact.path.clone(),
            kind,
            mount: artifact.mount.clone(),
        });
    }

    let mut tests = Vec::new();
    for (index, test) in raw.tests.iter().enumerate() {
        let at = |key| [N("test"), Key::Index(index), N(key)];
        if artifacts
            .iter()
            .any(|a| a.name == test.artifact && a.kind == ArtifactKind::Folder)
        {
            c.problem(
                &at("artifact"),
                format!(
                    "test `{}` runs folder artifact `{}`",
                    test.name, test.artifact
                ),
            );
        }
        if !artifacts.iter().any(|a| a.name == test.artifact) {
            c.hint(
                &at("artifact"),
                format!(
                    "test `{}` runs unknown artifact `{}`",
                    test.name, test.artifact
                ),
                "name one of the recipe's [[artifact]] entries",
            );
        }
        let expect = match (&test.expect_stdout, &test.expect_pattern) {
            (Some(stdout), None) => Some(Expectation::Stdout(stdout.clone())),
            (None, Some(pattern)) => {
                if let Err(error) = regex::Regex::new(pattern) {
                    c.problem(
                        &at("expect-pattern"),
                        format!("invalid regular expression: {error}"),
                    );
                }
                Some(Expectation::Pattern(pattern.clone()))
            }
            (Some(_), Some(_)) => {
                c.problem(
                    &at("expect-pattern"),
                    format!(
                        "test `{}` sets both expect-stdout and expect-pattern; keep one",
                        test.name
                    ),
                );
                None
            }
            (None, None) => {
                c.problem(
                    &[N("test"), Key::Index(index)],
                    format!("test `{}` needs expect-stdout or expect-pattern", test.name),
                );
                None
            }
        };
        if let Some(pattern) = &test.expect_stderr
            && let Err(error) = regex::Regex::new(pattern)
        {
            c.problem(
                &at("expect-stderr"),
                format!("invalid regular expression: {error}"),
            );
        }
        if let Some(dir) = &test.dir
            && !repo.join(dir).is_dir()
        {
            c.problem(
                &at("dir"),
                format!("test folder `{dir}` does not exist in the repository"),
            );
        }
        if let Some(expect) = expect {
            tests.push(SmokeTest {
                name: test.name.clone(),
                artifact: test.artifact.clone(),
                args: test.args.clone(),
                stdin: test.stdin.clone(),
                env: test.env.clone(),
                dir: test.dir.clone(),
                expect,
                expect_exit: test.expect_exit,
                mount_folders: test.mount_folders.unwrap_or(true),
                expect_stderr: test.expect_stderr.clone(),
            });
        }
    }

    let server = raw.server.as_ref().map(|server| {
        if !artifacts.iter().any(|a| a.name == server.artifact) {
            c.hint(
                &[N("server"), N("artifact")],
                format!("server runs unknown artifact `{}`", server.artifact),
                "name one of the recipe's [[artifact]] entries",
            );
        }
        ServerSpec {
            artifact: server.artifact.clone(),
            listen_flag: server.listen_flag.clone(),
            docroot_flag: server.docroot_flag.clone(),
        }
    });

    let library = raw
        .library
        .as_ref()
        .map(|library| check_library(c, library));
    if library.is_some() && !artifacts.is_empty() {
        c.hint(
            &[N("library")],
            "a [library] recipe installs into its prefix and has no [[artifact]]",
            "list what the prefix must hold in library.archives and library.pkg-config",
        );
    }

    let mut records: Vec<RecordSpec> = Vec::new();
    for (index, record) in raw.records.iter().enumerate() {
        let at = |key| [N("record"), Key::Index(index), N(key)];
        if !is_name(&record.name) || records.iter().any(|r| r.name == record.name) {
            c.hint(
                &at("name"),
                format!("record name `{}` is not a unique name", record.name),
                "use lowercase letters, digits, `-`, `_` and `.`, once per recipe",
            );
        }
        if !artifacts.iter().any(|a| a.name == record.artifact) {
            c.hint(
                &at("artifact"),
                format!("record runs unknown artifact `{}`", record.artifact),
                "name one of the recipe's [[artifact]] entries",
            );
        }
        records.push(RecordSpec {
            name: record.name.clone(),
            artifact: record.artifact.clone(),
            args: record.args.clone(),
        });
    }

    let native = raw.native.as_ref().map(|native| {
        let base = [N("native")];
        check_env(c, &base, &native.env);
        check_setting_list(c, &base, "configure-args", &native.configure_args);
        if native.program.is_empty()
            || Path::new(&native.program).is_absolute()
            || native.program.contains("..")
        {
            c.problem(
                &[N("native"), N("program")],
                format!(
                    "native program `{}` must be a relative path inside the stage's tree",
                    native.program
                ),
            );
        }
        for (index, kept) in native.keep.iter().enumerate() {
            if kept.is_empty() || Path::new(kept).is_absolute() || kept.contains("..") {
                c.problem(
                    &[N("native"), N("keep"), Key::Index(index)],
                    format!("native keep `{kept}` must be a relative path inside the stage's tree"),
                );
            }
        }
        NativeSpec {
            env: native.env.clone(),
            configure_args: native.configure_args.clone(),
            make_targets: native.make_targets.clone(),
            program: native.program.clone(),
            keep: native.keep.clone(),
        }
    });
    if native.is_none() && text.contains("{native}") {
        c.hint(
            &[N("build")],
            "`{native}` is used but the recipe has no [native] stage",
            "add a [native] table (docs/recipes.md, \"Native stage\")",
        );
    }
    if native.is_some() && library.is_some() {
        c.problem(
            &[N("native")],
            "a [library] recipe cannot have a [native] stage",
        );
    }
    if let Some(site) = &build.config_site
        && !repo.join(site).is_file()
    {
        c.hint(
            &[N("build"), N("config-site")],
            format!("config-site `{site}` is not a file in the repository"),
            "give a path relative to the repository root",
        );
    }
    let run_env = raw.run.as_ref().map(|r| r.env.clone()).unwrap_or_default();
    let profiles = check_profiles(c, &raw.profiles);
    let suite = raw.suite.as_ref().map(|suite| {
        if !artifacts
            .iter()
            .any(|a| a.name == suite.artifact && a.kind == ArtifactKind::File)
        {
            c.hint(
                &[N("suite"), N("artifact")],
                format!("the suite runs unknown artifact `{}`", suite.artifact),
                "name one of the recipe's module [[artifact]] entries",
            );
        }
        if suite.tests.is_empty() {
            c.problem(&[N("suite"), N("tests")], "the suite lists no tests");
        }
        for (key, pattern) in [
            ("case-pattern", Some(&suite.case_pattern)),
            ("passed", Some(&suite.passed)),
            ("skipped", suite.skipped.as_ref()),
        ] {
            let Some(pattern) = pattern else { continue };
            match regex::Regex::new(pattern) {
                Err(error) => {
                    c.problem(
                        &[N("suite"), N(key)],
                        format!("invalid regular expression: {error}"),
                    );
                }
                Ok(re)
                    if key == "case-pattern"
                        && !(re.capture_names().any(|n| n == Some("name"))
                            && re.capture_names().any(|n| n == Some("status"))) =>
                {
                    c.hint(
                        &[N("suite"), N(key)],
                        "case-pattern needs the named groups `name` and `status`",
                        "e.g. '^\\w+ \\((?P<name>[\\w.]+)\\) \\.\\.\\. (?P<status>.+)$'",
                    );
                }
                Ok(_) => {}
            }
        }
        GuestSuite {
            artifact: suite.artifact.clone(),
            args: suite.args.clone(),
            tests: suite.tests.clone(),
            case_pattern: suite.case_pattern.clone(),
            passed: suite.passed.clone(),
            skipped: suite.skipped.clone(),
            timeout: suite.timeout.unwrap_or(600),
        }
    });

    let source = source?;
    Some(Recipe {
        id,
        language: package.language.clone(),
        name: package.name.clone(),
        version: package.version.clone(),
        description: package.description.clone(),
        file: file.to_path_buf(),
        content_sha256: Sha256::parse(&hex::encode(Sha256Hasher::digest(text.as_bytes())))
            .expect("hex digest"),
        source,
        runtimes,
        patches,
        build,
        artifacts,
        tests,
        server,
        library,
        records,
        native,
        run_env,
        suite,
        profiles,
    })
}

/// `[profile.speed]`, `[profile.size]`: flags that start with `-`; `release` is the
/// recipe as written and has no section.
fn check_profiles(
    c: &mut Checker<'_>,
    raw: &BTreeMap<String, super::raw::RawProfile>,
) -> BTreeMap<Profile, ProfileOverride> {
    use Key::Name as N;
    use clap::ValueEnum;
    let mut out = BTreeMap::new();
    for (name, settings) in raw {
        let base = [N("profile"), N(name)];
        let profile = Profile::from_str(name, false).ok();
        match profile {
            None => c.hint(
                &base,
                format!("unknown build profile `{name}`"),
                "profiles with settings: speed, size",
            ),
            Some(Profile::Release) => c.hint(
                &base,
                "the release profile is the recipe as written",
                "put release flags in [build]; [profile.*] is for speed and size",
            ),
            Some(_) => {}
        }
        for (key, list) in [
            ("cflags", &settings.cflags),
            ("wasm-opt", &settings.wasm_opt),
        ] {
            for flag in list.iter().flatten() {
                if !flag.starts_with('-') || flag == "-o" {
                    c.hint(
                        &[N("profile"), N(name), N(key)],
                        format!("`{flag}` is not a flag"),
                        "give options only, e.g. \"-O3\" (wlmake adds the files and `-o`)",
                    );
                }
            }
        }
        for (index, command) in settings.prepare.iter().flatten().enumerate() {
            let key = [N("profile"), N(name), N("prepare"), Key::Index(index)];
            match command.first() {
                None => {
                    c.problem(&key, "an empty command");
                }
                Some(program) if program.is_empty() || program.contains('/') => c.hint(
                    &key,
                    format!("`{program}` is not a program name"),
                    "name a program of the build machine's PATH, e.g. [\"php\", \"-n\", \"Zend/zend_vm_gen.php\"]; it runs in the patched source tree",
                ),
                Some(_) => {}
            }
        }
        if let Some(profile) = profile.filter(|p| *p != Profile::Release) {
            out.insert(
                profile,
                ProfileOverride {
                    cflags: settings.cflags.clone(),
                    wasm_opt: settings.wasm_opt.clone(),
                    prepare: settings.prepare.clone(),
                },
            );
        }
    }
    out
}

fn check_library(c: &mut Checker<'_>, raw: &RawLibrary) -> LibrarySpec {
    use Key::Name as N;
    if raw.archives.is_empty() {
        c.hint(
            &[N("library")],
            "a [library] needs `archives`: the static archives its prefix must hold",
            "e.g. archives = [\"lib/libz.a\"]",
        );
    }
    for (index, archive) in raw.archives.iter().enumerate() {
        if Path::new(archive).is_absolute() || archive.contains("..") || !archive.ends_with(".a") {
            c.problem(
                &[N("library"), N("archives"), Key::Index(index)],
                format!("`{archive}` must be a `.a` file relative to the library's prefix"),
            );
        }
    }
    for (index, header) in raw.headers.iter().enumerate() {
        if Path::new(header).is_absolute()
            || header.contains("..")
            || !header.starts_with("include/")
        {
            c.problem(
                &[N("library"), N("headers"), Key::Index(index)],
                format!("`{header}` must be a file under `include/` in the library's prefix"),
            );
        }
    }
    for (index, module) in raw.pkg_config.iter().enumerate() {
        if module.is_empty() || module.contains(['/', ' ']) || module.ends_with(".pc") {
            c.hint(
                &[N("library"), N("pkg-config"), Key::Index(index)],
                format!("`{module}` is not a pkg-config module name"),
                "name the module as `pkg-config --cflags NAME` would: `zlib` for lib/pkgconfig/zlib.pc",
            );
        }
    }
    LibrarySpec {
        archives: raw.archives.clone(),
        pkg_config: raw.pkg_config.clone(),
        headers: raw.headers.clone(),
        install_targets: raw
            .install_targets
            .clone()
            .unwrap_or_else(|| vec!["install".into()]),
    }
}

fn check_source(c: &mut Checker<'_>, repo: &Path, raw: &RawSource) -> Option<SourceSpec> {
    use Key::Name as N;
    // An archive is named by `url`, or by `debian` alone (a Debian orig as the archive).
    let archive_only_debian = raw.url.is_none() && raw.git.is_none() && raw.path.is_none();
    let kinds: Vec<&str> = [
        raw.url
            .as_ref()
            .or(raw
                .debian
                .as_ref()
                .map(|d| &d.file)
                .filter(|_| archive_only_debian))
            .map(|_| "url"),
        raw.git.as_ref().map(|_| "git"),
        raw.path.as_ref().map(|_| "path"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if kinds.len() != 1 {
        c.hint(
            &[N("source")],
            match kinds.len() {
                0 => "source needs one of `url`, `git` or `path`".to_string(),
                _ => format!("source sets {}: they exclude each other", kinds.join(" and ")),
            },
            "an archive source uses url + sha256 (or debian + sha256), a git source git + tag + commit, an in-repository source path",
        );
        return None;
    }
    let misplaced = |c: &mut Checker<'_>, key: &'static str, set: bool, kind: &str| {
        if set {
            c.problem(
                &[N("source"), N(key)],
                format!("`{key}` does not apply to a {kind} source"),
            );
        }
    };
    if raw.url.is_some() || raw.debian.is_some() && archive_only_debian {
        return check_archive(c, raw);
    }
    misplaced(c, "mirrors", !raw.mirrors.is_empty(), "git or path");
    misplaced(c, "debian", raw.debian.is_some(), "git or path");
    misplaced(c, "upstream", raw.upstream.is_some(), "git or path");
    misplaced(c, "sha256", raw.sha256.is_some(), "git or path");
    misplaced(c, "strip-prefix", raw.strip_prefix.is_some(), "git or path");
    check_git_or_path(c, repo, raw)
}

/// An archive: `url` (+ `mirrors`) and/or `debian`, one `sha256` that every provider's
/// bytes must match. Without `url` the Debian orig is the archive and `upstream` may name
/// the original release (never fetched).
fn check_archive(c: &mut Checker<'_>, raw: &RawSource) -> Option<SourceSpec> {
    use Key::Name as N;
    let misplaced = |c: &mut Checker<'_>, key: &'static str, set: bool, kind: &str| {
        if set {
            c.problem(
                &[N("source"), N(key)],
                format!("`{key}` does not apply to a {kind} source"),
            );
        }
    };
    let debian_file = raw.debian.as_ref().map(|d| d.file.clone());
    let named = raw.url.clone().or(debian_file).unwrap_or_default();
    let url = &named;
    {
        misplaced(c, "tag", raw.tag.is_some(), "url");
        misplaced(c, "commit", raw.commit.is_some(), "url");
        let sha256 = match &raw.sha256 {
            None => {
                c.hint(
                    &[N("source"), N("url")],
                    format!("source `{url}` has no sha256"),
                    "every provider's bytes are verified: add `sha256 = \"<64 hex digits>\"` (sha256sum FILE)",
                );
                None
            }
            Some(text) => {
                let parsed = Sha256::parse(text);
                if parsed.is_none() {
                    c.problem(
                        &[N("source"), N("sha256")],
                        format!("sha256 `{text}` is not 64 hex digits"),
                    );
                }
                parsed
            }
        };
        if raw.url.is_none() && !raw.mirrors.is_empty() {
            c.hint(
                &[N("source"), N("mirrors")],
                "`mirrors` without `url`",
                "mirrors deliver the same file as `url`; set url or remove mirrors",
            );
        }
        if raw.url.is_some()
            && let Some(upstream) = &raw.upstream
        {
            c.hint(
                &[N("source"), N("upstream")],
                format!("`upstream = \"{upstream}\"` next to `url`: url already names the upstream archive"),
                "keep `upstream` only for a Debian orig without `url` (a repack, or bytes not verified against upstream)",
            );
        }
        for (index, mirror) in raw.url.iter().chain(&raw.mirrors).enumerate() {
            if !(mirror.starts_with("http://")
                || mirror.starts_with("https://")
                || mirror.starts_with("file://"))
            {
                let path = if index == 0 {
                    vec![N("source"), N("url")]
                } else {
                    vec![N("source"), N("mirrors"), Key::Index(index - 1)]
                };
                c.problem(
                    &path,
                    format!("`{mirror}` is not an http://, https:// or file:// URL"),
                );
            }
        }
        if let Some(upstream) = &raw.upstream
            && !(upstream.starts_with("http://") || upstream.starts_with("https://"))
        {
            c.problem(
                &[N("source"), N("upstream")],
                format!("`{upstream}` is not an http:// or https:// URL"),
            );
        }
        let file_name = url.rsplit('/').next().unwrap_or_default().to_string();
        if !(file_name.ends_with(".tar.gz")
            || file_name.ends_with(".tgz")
            || file_name.ends_with(".tar.xz")
            || file_name.ends_with(".tar.bz2"))
        {
            c.hint(
                &[N("source"), N("url")],
                format!("cannot tell the archive format of `{file_name}`"),
                "supported archives: .tar.gz, .tgz, .tar.xz, .tar.bz2",
            );
        }
        let debian = raw.debian.as_ref().map(|d| DebianSource {
            package: d.package.clone(),
            file: d.file.clone(),
        });
        Some(SourceSpec::Archive(ArchiveSource {
            urls: raw.url.iter().chain(&raw.mirrors).cloned().collect(),
            sha256: sha256?,
            file_name,
            debian,
            upstream: raw.upstream.clone(),
            strip_prefix: raw.strip_prefix.clone(),
        }))
    }
}

fn check_git_or_path(c: &mut Checker<'_>, repo: &Path, raw: &RawSource) -> Option<SourceSpec> {
    use Key::Name as N;
    let misplaced = |c: &mut Checker<'_>, key: &'static str, set: bool, kind: &str| {
        if set {
            c.problem(
                &[N("source"), N(key)],
                format!("`{key}` does not apply to a {kind} source"),
            );
        }
    };
    if let Some(url) = &raw.git {
        let tag = raw.tag.clone();
        if tag.is_none() {
            c.problem(&[N("source"), N("git")], "a git source needs `tag`");
        }
        let commit = raw.commit.clone();
        match &commit {
            None => {
                c.hint(
                    &[N("source"), N("git")],
                    "a git source needs `commit` (the tag's pinned commit)",
                    "git rev-parse TAG^{commit}",
                );
            }
            Some(commit)
                if commit.len() != 40 || !commit.bytes().all(|b| b.is_ascii_hexdigit()) =>
            {
                c.problem(
                    &[N("source"), N("commit")],
                    format!("commit `{commit}` is not a full 40-digit hex id"),
                );
            }
            _ => {}
        }
        return Some(SourceSpec::Git(GitSource {
            url: url.clone(),
            tag: tag?,
            commit: commit?.to_ascii_lowercase(),
        }));
    }
    misplaced(c, "tag", raw.tag.is_some(), "path");
    misplaced(c, "commit", raw.commit.is_some(), "path");
    let path = raw.path.clone()?;
    let dir = repo.join(&path);
    if Path::new(&path).is_absolute() || path.contains("..") {
        c.problem(
            &[N("source"), N("path")],
            format!("source path `{path}` must be relative to the repository and stay inside it"),
        );
    } else if !dir.is_dir() {
        c.problem(
            &[N("source"), N("path")],
            format!("source folder `{path}` does not exist"),
        );
    }
    Some(SourceSpec::Path(PathSource { path, dir }))
}

fn check_patch_dir(c: &mut Checker<'_>, repo: &Path, path: &[Key<'_>], dir: &str) {
    let full = repo.join(dir);
    if Path::new(dir).is_absolute() || dir.contains("..") {
        c.problem(
            path,
            format!("patch set `{dir}` must be relative to the repository"),
        );
        return;
    }
    if !full.is_dir() {
        c.hint(
            path,
            format!("patch set folder `{dir}` does not exist"),
            "create it (it may be empty) or remove the reference",
        );
        return;
    }
    let Ok(entries) = std::fs::read_dir(&full) else {
        c.problem(path, format!("cannot read patch set folder `{dir}`"));
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let numbered = name.len() > 5
            && name[..4].bytes().all(|b| b.is_ascii_digit())
            && name.as_bytes()[4] == b'-';
        if !name.ends_with(".patch") || !numbered {
            c.hint(
                path,
                format!("`{dir}/{name}` is not a patch file named NNNN-slug.patch"),
                "patch files are applied in name order: 0001-what.patch, 0002-...",
            );
        }
    }
}

fn check_patches(
    c: &mut Checker<'_>,
    repo: &Path,
    raw: &RawPatches,
    runtimes: &[Kind],
) -> PatchSets {
    use Key::Name as N;
    if let Some(common) = &raw.common {
        check_patch_dir(c, repo, &[N("patches"), N("common")], common);
    }
    let mut overlays = BTreeMap::new();
    for (runtime, dir) in &raw.runtime {
        let path = [N("patches"), N("runtime"), N(runtime)];
        let listed = runtimes.iter().find(|kind| kind.name() == runtime);
        if let Some(kind) = listed {
            overlays.insert(*kind, dir.clone());
        } else {
            c.hint(
                &path,
                format!(
                    "patch overlay for runtime `{runtime}`, which package.runtimes does not list"
                ),
                "add the runtime to package.runtimes or remove the overlay",
            );
        }
        check_patch_dir(c, repo, &path, dir);
    }
    PatchSets {
        common: raw.common.clone(),
        runtime: overlays,
    }
}

/// Checks `{placeholder}` uses in one setting.
fn check_placeholders(c: &mut Checker<'_>, path: &[Key<'_>], value: &str) {
    let mut rest = value;
    while let Some(start) = rest.find('{') {
        let Some(end) = rest[start..].find('}') else {
            break;
        };
        let name = &rest[start + 1..start + end];
        let known = PLACEHOLDERS.contains(&name) || name.strip_prefix("dep:").is_some_and(is_name);
        if !known {
            c.hint(
                path,
                format!("unknown placeholder `{{{name}}}` in `{value}`"),
                format!(
                    "placeholders: {}, dep:NAME",
                    PLACEHOLDERS
                        .iter()
                        .map(|p| format!("{{{p}}}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
        rest = &rest[start + end + 1..];
    }
}

fn check_setting_list(c: &mut Checker<'_>, base: &[Key<'_>], key: &str, values: &[String]) {
    for (index, value) in values.iter().enumerate() {
        let mut path = base.to_vec();
        path.extend([Key::Name(key), Key::Index(index)]);
        check_placeholders(c, &path, value);
    }
}

fn check_env(c: &mut Checker<'_>, base: &[Key<'_>], env: &BTreeMap<String, String>) {
    for (name, value) in env {
        let mut path = base.to_vec();
        path.extend([Key::Name("env"), Key::Name(name)]);
        check_placeholders(c, &path, value);
    }
}

fn check_depends(c: &mut Checker<'_>, base: &[Key<'_>], depends: &[String]) -> Vec<RecipeId> {
    let mut ids = Vec::new();
    for (index, dep) in depends.iter().enumerate() {
        let mut path = base.to_vec();
        path.extend([Key::Name("depends"), Key::Index(index)]);
        if dep
            .split_once('/')
            .is_none_or(|(l, n)| !is_name(l) || !is_name(n))
        {
            c.problem(
                &path,
                format!("dependency `{dep}` is not a recipe id like `lib/name-1.0`"),
            );
        }
        ids.push(RecipeId(dep.clone()));
    }
    ids
}

fn check_build(c: &mut Checker<'_>, raw: &RawBuild, runtimes: &[Kind]) -> BuildSpec {
    use Key::Name as N;
    let system = raw.system.clone().unwrap_or_else(|| "autotools".into());
    if !KNOWN_SYSTEMS.contains(&system.as_str()) {
        c.hint(
            &[N("build"), N("system")],
            format!("unknown build system `{system}`"),
            format!("known systems: {}", KNOWN_SYSTEMS.join(", ")),
        );
    }
    let base = [N("build")];
    check_env(c, &base, &raw.env);
    check_setting_list(c, &base, "configure-args", &raw.configure_args);
    check_setting_list(c, &base, "make-vars", &raw.make_vars);
    let depends = check_depends(c, &base, &raw.depends);
    for (index, flag) in raw.count_warnings.iter().enumerate() {
        if !flag.starts_with("-W") {
            c.problem(
                &[N("build"), N("count-warnings"), Key::Index(index)],
                format!("`{flag}` is not a warning flag (`-W...`)"),
            );
        }
    }
    for (flag, library) in &raw.requires {
        if !flag.starts_with('-') || !is_name(library) {
            c.hint(
                &[N("build"), N("requires"), N(flag)],
                format!("requires `{flag}` = `{library}` is not a configure flag and a library name"),
                "e.g. \"--with-zlib\" = \"zlib\": the flag (alone or as FLAG=VALUE) needs dependency `zlib`",
            );
        }
    }
    if let Some(script) = &raw.configure_script {
        let path = [N("build"), N("configure-script")];
        if system != "autotools" && system != "configure" {
            c.hint(
                &path,
                format!("configure-script with build system `{system}`, which runs no configure script"),
                "configure-script names the script of `autotools` and `configure` builds; remove it or change the system",
            );
        } else if script.is_empty() || Path::new(script).is_absolute() || script.contains("..") {
            c.hint(
                &path,
                format!("configure-script `{script}` is not a path inside the source tree"),
                "give a relative path without `..`, such as \"Configure\"",
            );
        }
    }
    let mut runtime = BTreeMap::new();
    for (name, over) in &raw.runtime {
        let base = [N("build"), N("runtime"), N(name)];
        let listed = runtimes.iter().find(|kind| kind.name() == name).copied();
        if listed.is_none() {
            c.hint(
                &base,
                format!(
                    "build settings for runtime `{name}`, which package.runtimes does not list"
                ),
                "add the runtime to package.runtimes or remove the section",
            );
        }
        check_env(c, &base, &over.env);
        check_setting_list(c, &base, "configure-args", &over.configure_args);
        check_setting_list(c, &base, "make-vars", &over.make_vars);
        let depends = check_depends(c, &base, &over.depends);
        let Some(kind) = listed else {
            continue;
        };
        runtime.insert(
            kind,
            BuildOverride {
                env: over.env.clone(),
                configure_args: over.configure_args.clone(),
                make_vars: over.make_vars.clone(),
                depends,
            },
        );
    }
    BuildSpec {
        system,
        env: raw.env.clone(),
        configure_args: raw.configure_args.clone(),
        make_targets: raw.make_targets.clone(),
        make_vars: raw.make_vars.clone(),
        depends,
        count_warnings: raw.count_warnings.clone(),
        requires: raw.requires.clone(),
        config_site: raw.config_site.clone(),
        configure_script: raw.configure_script.clone(),
        runtime,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[package]
language = "c"
name = "hello"
version = "1.0"
runtimes = ["wasmtime"]

[source]
url = "https://example.invalid/hello-1.0.tar.gz"
sha256 = "0000000000000000000000000000000000000000000000000000000000000000"

[[artifact]]
name = "hello"
path = "hello"

[[test]]
name = "runs"
artifact = "hello"
expect-stdout = "hi\n"
"#;

    fn parse(text: &str) -> Result<Recipe, Vec<Diagnostic>> {
        let repo = tempfile::tempdir().unwrap();
        parse_recipe(repo.path(), Path::new("recipes/c/hello-1.0.toml"), text)
    }

    fn problems(text: &str) -> Vec<String> {
        parse(text)
            .unwrap_err()
            .iter()
            .map(|d| d.to_string())
            .collect()
    }

    #[test]
    fn profile_sections_replace_flags_and_are_checked() {
        let recipe = parse(&format!(
            "{GOOD}\n[profile.speed]\ncflags = [\"-O3\", \"-flto\"]\n[profile.size]\nwasm-opt = []\n"
        ))
        .unwrap();
        assert_eq!(
            recipe.profiles[&Profile::Speed].cflags.as_deref(),
            Some(&["-O3".to_string(), "-flto".to_string()][..])
        );
        assert_eq!(
            recipe.profiles[&Profile::Size].wasm_opt.as_deref(),
            Some(&[][..])
        );
        let found = problems(&format!(
            "{GOOD}\n[profile.fast]\ncflags = [\"-O3\"]\n[profile.release]\ncflags = [\"-O1\"]\n[profile.size]\nwasm-opt = [\"-o\", \"x.wasm\"]\n"
        ))
        .join("\n");
        assert!(found.contains("unknown build profile `fast`"), "{found}");
        assert!(
            found.contains("the release profile is the recipe as written"),
            "{found}"
        );
        assert!(found.contains("`-o` is not a flag"), "{found}");
        assert!(found.contains("`x.wasm` is not a flag"), "{found}");
    }

    #[test]
    fn a_good_recipe_parses() {
        let recipe = parse(GOOD).unwrap();
        assert_eq!(recipe.id.0, "c/hello-1.0");
        let SourceSpec::Archive(archive) = &recipe.source else {
            panic!("archive")
        };
        assert_eq!(archive.file_name, "hello-1.0.tar.gz");
        assert_eq!(recipe.build.system, "autotools");
        assert_eq!(recipe.tests[0].expect_exit, 0);
    }

    #[test]
    fn a_runtime_the_recipe_lacks_is_refused_with_its_runtimes() {
        let recipe = parse(GOOD).unwrap();
        assert!(recipe.require_runtime(Kind::Wasmtime).is_ok());
        let error = recipe.require_runtime(Kind::Wasmedge).unwrap_err();
        assert_eq!(
            error.to_string(),
            "recipe `c/hello-1.0` does not support runtime `wasmedge` (it supports: wasmtime)"
        );
        assert_eq!(
            error.hint().as_deref(),
            Some("pass one of the recipe's runtimes: --runtime wasmtime")
        );
    }

    #[test]
    fn malformed_toml_has_a_position() {
        let text = GOOD.replace("version = \"1.0\"", "version = 1.0\"");
        let found = problems(&text);
        assert_eq!(found.len(), 1);
        assert!(
            found[0].starts_with("recipes/c/hello-1.0.toml:5:"),
            "{found:?}"
        );
    }

    #[test]
    fn unknown_key_is_an_error_with_position_and_hint() {
        let text = GOOD.replace("[source]\n", "[source]\nsha265 = \"x\"\n");
        let error = parse(&text).unwrap_err();
        assert_eq!(error.len(), 1);
        assert!(
            error[0].message.contains("unknown field `sha265`"),
            "{}",
            error[0]
        );
        assert_eq!((error[0].line, error[0].column), (9, 1));
        assert!(
            error[0]
                .hint
                .as_deref()
                .unwrap()
                .contains("docs/recipes.md")
        );
    }

    #[test]
    fn url_without_sha256_is_refused() {
        let text = GOOD.replace(
            "sha256 = \"0000000000000000000000000000000000000000000000000000000000000000\"\n",
            "",
        );
        let error = parse(&text).unwrap_err();
        assert!(error[0].message.contains("has no sha256"), "{}", error[0]);
        assert_eq!(error[0].line, 9);
    }

    #[test]
    fn bad_sha256_and_source_kinds_that_exclude_each_other() {
        let text = GOOD.replace(
            "0000000000000000000000000000000000000000000000000000000000000000",
            "abc",
        );
        assert!(problems(&text)[0].contains("is not 64 hex digits"));
        let text = GOOD.replace("[source]\n", "[source]\npath = \"src\"\n");
        assert!(problems(&text)[0].contains("url and path: they exclude each other"));
    }

    #[test]
    fn git_source_needs_tag_and_full_commit() {
        let text = GOOD.replace(
            "url = \"https://example.invalid/hello-1.0.tar.gz\"\nsha256 = \"0000000000000000000000000000000000000000000000000000000000000000\"",
            "git = \"https://example.invalid/hello.git\"\ncommit = \"abc\"",
        );
        let found = problems(&text);
        assert!(found.iter().any(|p| p.contains("needs `tag`")), "{found:?}");
        assert!(
            found
                .iter()
                .any(|p| p.contains("not a full 40-digit hex id")),
            "{found:?}"
        );
    }

    #[test]
    fn wrong_file_name_unknown_runtime_and_placeholder() {
        let text = GOOD
            .replace("name = \"hello\"\nversion", "name = \"hi\"\nversion")
            .replace(
                "runtimes = [\"wasmtime\"]",
                "runtimes = [\"wasmtime\", \"node\"]",
            )
            .replace(
                "[[artifact]]",
                "[build]\nconfigure-args = [\"CC={compiler}\"]\n\n[[artifact]]",
            );
        let found = problems(&text);
        assert!(
            found
                .iter()
                .any(|p| p.contains("expected recipes/c/hi-1.0.toml")),
            "{found:?}"
        );
        assert!(
            found.iter().any(|p| p.contains("unknown runtime `node`")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|p| p.contains("unknown placeholder `{compiler}`")),
            "{found:?}"
        );
    }

    #[test]
    fn tests_must_name_an_artifact_and_one_expectation() {
        let text = GOOD.replace(
            "artifact = \"hello\"\nexpect-stdout",
            "artifact = \"nope\"\nexpect-pattern = \"(\"\nexpect-stdout",
        );
        let found = problems(&text);
        assert!(
            found.iter().any(|p| p.contains("unknown artifact `nope`")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|p| p.contains("both expect-stdout and expect-pattern")),
            "{found:?}"
        );
    }

    #[test]
    fn records_name_a_known_artifact_once() {
        let good = format!(
            "{GOOD}\n[[record]]\nname = \"modules\"\nartifact = \"hello\"\nargs = [\"-m\"]\n"
        );
        let recipe = parse(&good).expect("a record of a known artifact parses");
        assert_eq!(recipe.records.len(), 1);
        assert_eq!(recipe.records[0].args, ["-m"]);

        let bad = format!(
            "{GOOD}\n[[record]]\nname = \"m\"\nartifact = \"nope\"\n\n[[record]]\nname = \"m\"\nartifact = \"hello\"\n"
        );
        let found = problems(&bad);
        assert!(
            found
                .iter()
                .any(|p| p.contains("record runs unknown artifact `nope`")),
            "{found:?}"
        );
        assert!(
            found.iter().any(|p| p.contains("`m` is not a unique name")),
            "{found:?}"
        );
    }

    #[test]
    fn missing_patch_folder_is_reported() {
        let text = GOOD.replace(
            "[[artifact]]",
            "[patches]\ncommon = \"patches/none\"\n\n[[artifact]]",
        );
        let found = problems(&text);
        assert!(
            found[0].contains("patch set folder `patches/none` does not exist"),
            "{found:?}"
        );
    }

    const DEBIAN_ONLY: &str = r#"
[package]
language = "lib"
name = "z"
version = "1.0"
runtimes = ["wasmtime"]

[source]
upstream = "https://example.invalid/z-1.0.tar.gz"
debian = { package = "z", file = "z_1.0.dfsg.orig.tar.bz2" }
sha256 = "0000000000000000000000000000000000000000000000000000000000000000"

[build]
system = "configure"

[library]
archives = ["lib/libz.a"]
pkg-config = ["zlib"]
"#;

    fn parse_lib(text: &str) -> Result<Recipe, Vec<Diagnostic>> {
        let repo = tempfile::tempdir().unwrap();
        parse_recipe(repo.path(), Path::new("recipes/lib/z-1.0.toml"), text)
    }

    #[test]
    fn a_debian_orig_can_be_the_archive_with_upstream_named() {
        let recipe = parse_lib(DEBIAN_ONLY).unwrap();
        let SourceSpec::Archive(archive) = &recipe.source else {
            panic!("archive")
        };
        assert!(archive.urls.is_empty());
        assert_eq!(archive.file_name, "z_1.0.dfsg.orig.tar.bz2");
        assert_eq!(
            archive.upstream.as_deref(),
            Some("https://example.invalid/z-1.0.tar.gz")
        );
        let library = recipe.library.unwrap();
        assert_eq!(library.install_targets, ["install"]);
        assert_eq!(recipe.build.system, "configure");
    }

    #[test]
    fn configure_script_names_a_script_in_the_tree_of_a_configure_build() {
        let with = |system: &str, script: &str| {
            DEBIAN_ONLY.replace(
                "system = \"configure\"\n",
                &format!("system = \"{system}\"\nconfigure-script = \"{script}\"\n"),
            )
        };
        let recipe = parse_lib(&with("configure", "Configure")).unwrap();
        assert_eq!(recipe.build.configure_script(), "Configure");
        assert_eq!(
            parse_lib(DEBIAN_ONLY).unwrap().build.configure_script(),
            "configure"
        );
        assert!(parse_lib(&with("autotools", "build-aux/configure")).is_ok());

        let text = with("cmake", "Configure");
        let found = parse_lib(&text).unwrap_err();
        assert_eq!(found.len(), 1, "{found:?}");
        let rendered = found[0].to_string();
        assert!(
            rendered.starts_with(
                "recipes/lib/z-1.0.toml:15:20: configure-script with build system `cmake`"
            ),
            "{rendered}"
        );
        assert!(found[0].hint.is_some(), "{found:?}");
        for bad in ["/usr/bin/Configure", "../Configure", ""] {
            let found = parse_lib(&with("configure", bad)).unwrap_err();
            let rendered = found[0].to_string();
            assert!(
                rendered.contains(&format!(
                    "configure-script `{bad}` is not a path inside the source tree"
                )),
                "{rendered}"
            );
        }
    }

    #[test]
    fn upstream_next_to_url_and_bad_library_entries_are_refused() {
        let text = DEBIAN_ONLY.replace(
            "[source]\n",
            "[source]\nurl = \"https://example.invalid/z-1.0.tar.gz\"\n",
        );
        let found: Vec<String> = parse_lib(&text)
            .unwrap_err()
            .iter()
            .map(|d| d.to_string())
            .collect();
        assert!(
            found
                .iter()
                .any(|p| p.starts_with("recipes/lib/z-1.0.toml:10:12: `upstream = ")),
            "{found:?}"
        );
        let text = DEBIAN_ONLY
            .replace("\"lib/libz.a\"", "\"/usr/lib/libz.so\"")
            .replace("[\"zlib\"]", "[\"zlib.pc\"]");
        let found: Vec<String> = parse_lib(&text)
            .unwrap_err()
            .iter()
            .map(|d| d.to_string())
            .collect();
        assert!(
            found
                .iter()
                .any(|p| p.contains("must be a `.a` file relative")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|p| p.contains("is not a pkg-config module name")),
            "{found:?}"
        );
        let text = DEBIAN_ONLY.replace(
            "sha256 = \"0000000000000000000000000000000000000000000000000000000000000000\"\n",
            "",
        );
        let found: Vec<String> = parse_lib(&text)
            .unwrap_err()
            .iter()
            .map(|d| d.to_string())
            .collect();
        assert!(
            found.iter().any(|p| p.contains("has no sha256")),
            "{found:?}"
        );
    }
}
