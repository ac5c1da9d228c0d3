//! The Node column of `wlmake bench`: the same PHP command lines on `@php-wasm/node`
//! (WordPress Playground's Emscripten build of PHP for Node), run by a small runner that
//! wlmake writes next to its other bench files.
//!
//! Where the package is: `WLMAKE_PHP_WASM_NODE` (a folder holding
//! `node_modules/@php-wasm/node`), else `<cache>/php-wasm-node/`, where `.ci/install-deps`
//! installs the pinned version. Without it, or without `node`, the column is absent and the
//! report says why.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::env_vars::WLMAKE_PHP_WASM_NODE;
use crate::process::{Command, which};

/// The package, and the version `.ci/install-deps` installs (the last one whose
/// `engines` accepts Node 20; 3.1.55 wants Node 24).
pub const PACKAGE: &str = "@php-wasm/node";
pub const PINNED_VERSION: &str = "3.1.54";
/// The folder under the wlmake cache where the package is looked for.
pub const CACHE_FOLDER: &str = "php-wasm-node";
/// The runner's file name and text.
const RUNNER_NAME: &str = "php-wasm-node.mjs";
const RUNNER: &str = include_str!("php-wasm-node.mjs");
/// How long `node --version` and the first PHP run may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("{WLMAKE_PHP_WASM_NODE}=`{}` holds no `node_modules/{PACKAGE}/package.json`", .0.display())]
    NotAPackageFolder(PathBuf),
    #[error("`{}` is not readable as the package's package.json: {reason}", .path.display())]
    BadPackageJson { path: PathBuf, reason: String },
    #[error("cannot write the Node runner `{}`", .path.display())]
    Runner {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{PACKAGE} {version} in `{}` did not run PHP {php}:\n{output}", .folder.display())]
    Probe {
        folder: PathBuf,
        version: String,
        php: String,
        output: String,
    },
}

impl NodeError {
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            Self::NotAPackageFolder(_) => format!(
                "install it there with `npm install --prefix FOLDER {PACKAGE}@{PINNED_VERSION}`, \
                 or unset {WLMAKE_PHP_WASM_NODE} to bench without the Node column"
            ),
            Self::BadPackageJson { .. } | Self::Probe { .. } => format!(
                "install the pinned version again (`npm install --prefix FOLDER \
                 {PACKAGE}@{PINNED_VERSION}`, as .ci/install-deps does), or remove the \
                 folder to bench without the Node column"
            ),
            Self::Runner { .. } => return None,
        })
    }
}

/// Node and the package, ready to run one PHP version.
#[derive(Debug, Clone)]
pub struct PhpWasmNode {
    pub node: PathBuf,
    pub node_version: String,
    /// The folder holding `node_modules/`.
    pub folder: PathBuf,
    pub package_version: String,
    /// The PHP line the runner loads (`8.2`).
    pub php_line: String,
    /// What that PHP says it is (`8.2.33`).
    pub php_version: String,
    runner: PathBuf,
}

/// Found, or why not.
#[derive(Debug)]
pub enum Found {
    Ready(Box<PhpWasmNode>),
    Absent(String),
}

/// `8.2.32` -> `8.2`.
pub fn php_line(version: &str) -> Option<String> {
    let mut parts = version.split('.');
    let major = parts.next().filter(|p| is_number(p))?;
    let minor = parts.next().filter(|p| is_number(p))?;
    Some(format!("{major}.{minor}"))
}

fn is_number(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

fn package_json(folder: &Path, package: &str) -> PathBuf {
    folder
        .join("node_modules")
        .join(package)
        .join("package.json")
}

/// The package's folder: from the variable (which must then hold the package), else the
/// cache's fixed place; `Ok(Err(reason))` when neither has it.
pub fn locate(
    variable: Option<OsString>,
    cache_root: &Path,
) -> Result<Result<PathBuf, String>, NodeError> {
    if let Some(value) = variable.filter(|v| !v.is_empty()) {
        let folder = PathBuf::from(value);
        if !package_json(&folder, PACKAGE).is_file() {
            return Err(NodeError::NotAPackageFolder(folder));
        }
        return Ok(Ok(folder));
    }
    let folder = cache_root.join(CACHE_FOLDER);
    if package_json(&folder, PACKAGE).is_file() {
        Ok(Ok(folder))
    } else {
        Ok(Err(format!(
            "{PACKAGE} not found: {WLMAKE_PHP_WASM_NODE} is not set and `{}` holds no \
             `node_modules/{PACKAGE}` (install it with `npm install --prefix {} \
             {PACKAGE}@{PINNED_VERSION}`)",
            folder.display(),
            folder.display()
        )))
    }
}

/// The `version` of a package.json.
pub fn package_version(path: &Path) -> Result<String, NodeError> {
    let bad = |reason: String| NodeError::BadPackageJson {
        path: path.to_path_buf(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    value
        .get("version")
        .and_then(|v| v.as_str())
        .map(String::from)
        .ok_or_else(|| bad("no `version` string".into()))
}

/// Finds Node and the package for the recipe's PHP `version` and checks that it runs
/// (`echo PHP_VERSION;`). `variable` is `WLMAKE_PHP_WASM_NODE`'s value; the runner is
/// written into `work`.
pub fn find(
    variable: Option<OsString>,
    version: &str,
    cache_root: &Path,
    work: &Path,
) -> Result<Found, NodeError> {
    let folder = match locate(variable, cache_root)? {
        Ok(folder) => folder,
        Err(reason) => return Ok(Found::Absent(reason)),
    };
    let Some(node) = which("node") else {
        return Ok(Found::Absent(format!(
            "{PACKAGE} is in `{}` but `node` is not on PATH",
            folder.display()
        )));
    };
    let Some(line) = php_line(version) else {
        return Ok(Found::Absent(format!(
            "`{version}` is not a PHP version of the form MAJOR.MINOR.PATCH"
        )));
    };
    let package_version = package_version(&package_json(&folder, PACKAGE))?;
    let php_package = format!("@php-wasm/node-{}", line.replace('.', "-"));
    if !package_json(&folder, &php_package).is_file() {
        return Ok(Found::Absent(format!(
            "{PACKAGE} {package_version} in `{}` has no PHP {line} (`{php_package}`)",
            folder.display()
        )));
    }
    let node_version = Command::new(&node)
        .arg("--version")
        .timeout(PROBE_TIMEOUT)
        .capture()
        .ok()
        .filter(|out| out.status == Some(0))
        .map(|out| out.stdout.trim().to_string())
        .unwrap_or_else(|| "unknown version".into());

    let runner = work.join(RUNNER_NAME);
    if std::fs::read_to_string(&runner).map_or(true, |old| old != RUNNER) {
        crate::files::write_atomically(work, &runner, RUNNER.as_bytes()).map_err(|source| {
            NodeError::Runner {
                path: runner.clone(),
                source,
            }
        })?;
    }
    let mut ready = PhpWasmNode {
        node,
        node_version,
        folder,
        package_version,
        php_line: line,
        php_version: String::new(),
        runner,
    };
    let probe = ready
        .command(
            work,
            "/bench",
            &["-n".into(), "-r".into(), "echo PHP_VERSION;".into()],
        )
        .timeout(PROBE_TIMEOUT)
        .capture();
    let failed = |output: String| NodeError::Probe {
        folder: ready.folder.clone(),
        version: ready.package_version.clone(),
        php: ready.php_line.clone(),
        output,
    };
    match probe {
        Ok(out) if out.status == Some(0) && out.stdout.starts_with(&ready.php_line) => {
            ready.php_version = out.stdout.trim().to_string();
            Ok(Found::Ready(Box::new(ready)))
        }
        Ok(out) => Err(failed(crate::process::tail(
            &format!("exit status {:?}\n{}{}", out.status, out.stdout, out.stderr),
            20,
        ))),
        Err(e) => Err(failed(e.to_string())),
    }
}

impl PhpWasmNode {
    /// `php ARGS` on Node, with `host` mounted at `guest`.
    pub fn command(&self, host: &Path, guest: &str, args: &[String]) -> Command {
        Command::new(&self.node)
            .arg(&self.runner)
            .arg(&self.folder)
            .arg(&self.php_line)
            .arg(host)
            .arg(guest)
            .arg("--")
            .args(args)
    }

    /// One line for the report: what ran in the Node column.
    pub fn describe(&self) -> String {
        format!(
            "PHP {} on {PACKAGE} {} (Node {}, `{}`)",
            self.php_version,
            self.package_version,
            self.node_version,
            self.folder.display()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn install_fake_package(folder: &Path, name: &str, json: &str) {
        let dir = folder.join("node_modules").join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("package.json"), json).unwrap();
    }

    #[test]
    fn the_php_line_is_major_dot_minor() {
        assert_eq!(php_line("8.2.32").as_deref(), Some("8.2"));
        assert_eq!(php_line("7.4.33").as_deref(), Some("7.4"));
        assert_eq!(php_line("8.2").as_deref(), Some("8.2"));
        assert_eq!(php_line("8"), None);
        assert_eq!(php_line("8.x.1"), None);
        assert_eq!(php_line(""), None);
    }

    #[test]
    fn the_variable_wins_and_must_hold_the_package() {
        let cache = tempfile::tempdir().unwrap();
        let chosen = tempfile::tempdir().unwrap();
        install_fake_package(
            &cache.path().join(CACHE_FOLDER),
            PACKAGE,
            r#"{"version":"1"}"#,
        );

        let err = locate(Some(chosen.path().into()), cache.path()).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains(WLMAKE_PHP_WASM_NODE)
                && message.contains(&chosen.path().display().to_string()),
            "{message}"
        );
        assert!(err.hint().unwrap().contains(PINNED_VERSION));

        install_fake_package(chosen.path(), PACKAGE, r#"{"version":"2"}"#);
        let found = locate(Some(chosen.path().into()), cache.path()).unwrap();
        assert_eq!(found, Ok(chosen.path().to_path_buf()));
    }

    #[test]
    fn without_the_variable_the_cache_folder_is_used_or_the_reason_given() {
        let cache = tempfile::tempdir().unwrap();
        let reason = locate(None, cache.path()).unwrap().unwrap_err();
        assert!(
            reason.contains(WLMAKE_PHP_WASM_NODE)
                && reason.contains(&cache.path().join(CACHE_FOLDER).display().to_string())
                && reason.contains(&format!("{PACKAGE}@{PINNED_VERSION}")),
            "{reason}"
        );
        // An empty variable counts as unset.
        assert!(
            locate(Some(OsString::new()), cache.path())
                .unwrap()
                .is_err()
        );

        install_fake_package(
            &cache.path().join(CACHE_FOLDER),
            PACKAGE,
            r#"{"version":"3.1.54"}"#,
        );
        let folder = locate(None, cache.path()).unwrap().unwrap();
        assert_eq!(folder, cache.path().join(CACHE_FOLDER));
        assert_eq!(
            package_version(&package_json(&folder, PACKAGE)).unwrap(),
            "3.1.54"
        );
    }

    #[test]
    fn a_package_json_without_a_version_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        install_fake_package(dir.path(), PACKAGE, r#"{"name":"x"}"#);
        let err = package_version(&package_json(dir.path(), PACKAGE)).unwrap_err();
        assert!(err.to_string().contains("no `version` string"), "{err}");
        install_fake_package(dir.path(), PACKAGE, "not json");
        assert!(package_version(&package_json(dir.path(), PACKAGE)).is_err());
    }

    #[test]
    fn a_package_without_the_php_line_is_absent_with_the_reason() {
        let cache = tempfile::tempdir().unwrap();
        let work = tempfile::tempdir().unwrap();
        let folder = cache.path().join(CACHE_FOLDER);
        install_fake_package(&folder, PACKAGE, r#"{"version":"3.1.54"}"#);
        if which("node").is_none() {
            // The reason is then Node's absence, checked before the PHP line.
            let Found::Absent(reason) = find(None, "5.6.40", cache.path(), work.path()).unwrap()
            else {
                panic!("found without node");
            };
            assert!(reason.contains("`node` is not on PATH"), "{reason}");
            return;
        }
        let Found::Absent(reason) = find(None, "5.6.40", cache.path(), work.path()).unwrap() else {
            panic!("PHP 5.6 found in a package that has no node-5-6");
        };
        assert!(
            reason.contains("has no PHP 5.6") && reason.contains("@php-wasm/node-5-6"),
            "{reason}"
        );
    }
}
