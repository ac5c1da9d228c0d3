//! The wasm toolchain, resolved once into concrete paths and versions.
//!
//! Two layouts are supported: a wasi-sdk installation (`WASI_SDK_PATH`: `bin/clang`,
//! `share/wasi-sysroot`) and the distro layout (Debian's clang-16, lld-16, llvm-16,
//! wasi-libc, libclang-rt-16-dev-wasm32). Either way builds see a private *view*: a
//! folder with a clean sysroot (so host headers under `/usr/include` are never
//! searched), single-word tool wrappers (`wasm32-wasi-clang`, `llvm-ar`, ...) and a
//! no-op `wasm-opt` (clang otherwise runs binaryen on every optimised link).

use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::env_vars::WASI_SDK_PATH;
use crate::process::{Command, which};

pub const TARGET: &str = "wasm32-wasi";
/// Bump when the view's layout or wrappers change: it is part of every build identity.
const VIEW_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum ToolchainError {
    #[error("no wasm toolchain found: {missing}")]
    NotFound { missing: String },
    #[error("`{}` from {WASI_SDK_PATH} is missing", .0.display())]
    BadWasiSdk(PathBuf),
    #[error("cannot prepare the toolchain view in `{}`", path.display())]
    View {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl ToolchainError {
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            Self::NotFound { .. } => "on Debian 12: apt-get install clang-16 lld-16 llvm-16 wasi-libc libclang-rt-16-dev-wasm32, or set WASI_SDK_PATH to a wasi-sdk; `wlmake doctor` checks".into(),
            Self::BadWasiSdk(_) => format!("point {WASI_SDK_PATH} at a wasi-sdk folder holding bin/clang and share/wasi-sysroot"),
            Self::View { .. } => "check that the work folder is writable".into(),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    WasiSdk,
    Distro,
}

/// The real tools, before the view is made.
#[derive(Debug, Clone, Serialize)]
pub struct Tools {
    pub layout: Layout,
    pub clang: PathBuf,
    pub ar: PathBuf,
    pub ranlib: PathBuf,
    pub nm: PathBuf,
    pub wasm_ld: PathBuf,
    /// The sysroot's `include` parent: for the distro layout the folder whose
    /// `include/wasm32-wasi` and `lib/wasm32-wasi` hold wasi-libc.
    pub sysroot: PathBuf,
    pub builtins: Option<PathBuf>,
    pub versions: Versions,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Versions {
    pub clang: String,
    pub wasm_ld: String,
    pub wasi_libc: String,
}

/// A resolved toolchain: the paths a build uses, all inside the view, plus identity.
#[derive(Debug, Clone, Serialize)]
pub struct Toolchain {
    pub tools: Tools,
    pub target: String,
    /// The view folder; `bin` goes first on a build's PATH.
    pub view: PathBuf,
    pub cc: PathBuf,
    pub ar: PathBuf,
    pub ranlib: PathBuf,
    pub nm: PathBuf,
    pub sysroot: PathBuf,
    /// sha256 over layout, tool paths and versions: part of every build identity.
    pub identity: String,
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().trim().to_string()
}

fn version_of(tool: &Path) -> String {
    Command::new(tool)
        .arg("--version")
        .capture()
        .map(|out| first_line(&out.stdout))
        .unwrap_or_else(|_| "unknown".into())
}

/// Finds the tools: `WASI_SDK_PATH` first, then the distro layout.
pub fn discover() -> Result<Tools, ToolchainError> {
    if let Some(sdk) = std::env::var_os(WASI_SDK_PATH) {
        return discover_wasi_sdk(Path::new(&sdk));
    }
    discover_distro()
}

fn discover_wasi_sdk(sdk: &Path) -> Result<Tools, ToolchainError> {
    let need = |relative: &str| {
        let path = sdk.join(relative);
        if path.exists() {
            Ok(path)
        } else {
            Err(ToolchainError::BadWasiSdk(path))
        }
    };
    let clang = need("bin/clang")?;
    let wasm_ld = need("bin/wasm-ld")?;
    let sysroot = need("share/wasi-sysroot")?;
    let versions = Versions {
        clang: version_of(&clang),
        wasm_ld: version_of(&wasm_ld),
        wasi_libc: std::fs::read_to_string(sdk.join("VERSION"))
            .map(|v| format!("wasi-sdk {}", first_line(&v)))
            .unwrap_or_else(|_| "wasi-sdk".into()),
    };
    Ok(Tools {
        layout: Layout::WasiSdk,
        ar: need("bin/llvm-ar")?,
        ranlib: need("bin/llvm-ranlib")?,
        nm: need("bin/llvm-nm")?,
        clang,
        wasm_ld,
        sysroot,
        builtins: None,
        versions,
    })
}

fn discover_distro() -> Result<Tools, ToolchainError> {
    let mut missing = Vec::new();
    let mut find = |names: &[&str], package: &str| {
        let found = names.iter().find_map(|name| which(name));
        if found.is_none() {
            missing.push(format!("{} (package {package})", names[0]));
        }
        found.unwrap_or_default()
    };
    // The real binary, not /usr/bin/clang-16: clang looks for `wasm-opt` in the folder it
    // was started from before PATH, and /usr/bin holds binaryen's.
    let clang = find(&["clang-16"], "clang-16");
    let clang = std::fs::canonicalize(&clang).unwrap_or(clang);
    let wasm_ld = find(&["wasm-ld-16"], "lld-16");
    let ar = find(&["llvm-ar-16"], "llvm-16");
    let ranlib = find(&["llvm-ranlib-16"], "llvm-16");
    let nm = find(&["llvm-nm-16"], "llvm-16");
    let libc = Path::new("/usr/lib/wasm32-wasi/libc.a");
    if !libc.is_file() || !Path::new("/usr/include/wasm32-wasi/stdio.h").is_file() {
        missing.push("wasi-libc (package wasi-libc)".into());
    }
    let builtins =
        Path::new("/usr/lib/llvm-16/lib/clang/16/lib/wasi/libclang_rt.builtins-wasm32.a");
    if !builtins.is_file() {
        missing.push("compiler-rt builtins for wasm32 (package libclang-rt-16-dev-wasm32)".into());
    }
    if !missing.is_empty() {
        return Err(ToolchainError::NotFound {
            missing: missing.join(", "),
        });
    }
    let wasi_libc = Command::new("dpkg-query")
        .args(["-W", "-f=${Version}", "wasi-libc"])
        .capture()
        .map(|out| format!("wasi-libc {}", out.stdout.trim()))
        .unwrap_or_else(|_| "wasi-libc".into());
    Ok(Tools {
        layout: Layout::Distro,
        versions: Versions {
            clang: version_of(&clang),
            wasm_ld: version_of(&wasm_ld),
            wasi_libc,
        },
        clang,
        wasm_ld,
        ar,
        ranlib,
        nm,
        sysroot: PathBuf::from("/usr"),
        builtins: Some(builtins.to_path_buf()),
    })
}

impl Tools {
    pub fn identity(&self) -> String {
        let text = serde_json::to_string(self).expect("serializable");
        let mut hasher = Sha256::new();
        hasher.update(format!("view-v{VIEW_VERSION}\n"));
        hasher.update(text);
        hex::encode(hasher.finalize())
    }

    /// Writes (once) the private view under `root` and returns the toolchain.
    pub fn into_toolchain(self, root: &Path) -> Result<Toolchain, ToolchainError> {
        let identity = self.identity();
        let view = root
            .join(format!("toolchain-v{VIEW_VERSION}"))
            .join(&identity[..16]);
        let io = |source| ToolchainError::View {
            path: view.clone(),
            source,
        };
        if !view.join("ready").exists() {
            let (temp, _tracked) = crate::interrupt::temp_dir_in(root, ".view-").map_err(io)?;
            write_view(&self, temp.path(), &view).map_err(io)?;
            std::fs::write(temp.path().join("ready"), &identity).map_err(io)?;
            std::fs::create_dir_all(view.parent().expect("has parent")).map_err(io)?;
            let kept = temp.keep();
            if std::fs::rename(&kept, &view).is_err() {
                // Another process made the same view first: theirs is as good as ours.
                let _ = std::fs::remove_dir_all(&kept);
            }
        }
        let bin = view.join("bin");
        Ok(Toolchain {
            target: TARGET.into(),
            cc: bin.join(format!("{TARGET}-clang")),
            ar: bin.join("llvm-ar"),
            ranlib: bin.join("llvm-ranlib"),
            nm: bin.join("llvm-nm"),
            sysroot: view.join("sysroot"),
            view,
            identity,
            tools: self,
        })
    }
}

fn write_script(path: &Path, body: &str) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, format!("#!/bin/sh\n# Written by wlmake.\n{body}\n"))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
}

/// Writes the view's files into `dir`; scripts refer to `final_view`, where `dir` is
/// renamed to once complete.
fn write_view(tools: &Tools, dir: &Path, final_view: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::symlink;
    let bin = dir.join("bin");
    let sysroot = dir.join("sysroot");
    std::fs::create_dir_all(&bin)?;
    match tools.layout {
        Layout::WasiSdk => symlink(&tools.sysroot, &sysroot)?,
        Layout::Distro => {
            for part in ["include", "lib"] {
                std::fs::create_dir_all(sysroot.join(part))?;
                symlink(
                    tools.sysroot.join(part).join(TARGET),
                    sysroot.join(part).join(TARGET),
                )?;
            }
        }
    }
    // clang looks for `wasm-ld` next to itself or on PATH: give it ours.
    symlink(&tools.wasm_ld, bin.join("wasm-ld"))?;
    symlink(&tools.ar, bin.join("llvm-ar"))?;
    symlink(&tools.ranlib, bin.join("llvm-ranlib"))?;
    symlink(&tools.nm, bin.join("llvm-nm"))?;
    let clang = tools.clang.display();
    let sysroot = final_view.join("sysroot");
    let sysroot = sysroot.display();
    for (name, driver) in [
        ("clang", String::new()),
        ("clang++", " --driver-mode=g++".into()),
    ] {
        let driver = format!("{clang}{driver}");
        write_script(
            &bin.join(format!("{TARGET}-{name}")),
            &format!("exec {driver} --target={TARGET} --sysroot={sysroot} \"$@\""),
        )?;
    }
    // clang runs `wasm-opt OUT -O2 -o OUT` after optimised links when one is on PATH;
    // builds stay fast and reproducible without it (wlmake can optimise artifacts itself).
    write_script(&bin.join("wasm-opt"), "exit 0")?;
    Ok(())
}

/// The system folders a build step finds its tools in (make, cmake, sed, tclsh, ...).
pub const SYSTEM_PATH: [&str; 6] = [
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
];

impl Toolchain {
    /// PATH for builds: the view's bin first, then the system's folders; never the
    /// caller's PATH (a build must not depend on who runs it: src/build/hermetic.rs).
    pub fn build_path(&self) -> String {
        let mut paths = vec![self.view.join("bin").display().to_string()];
        paths.extend(SYSTEM_PATH.iter().map(|p| p.to_string()));
        paths.join(":")
    }
}

#[cfg(test)]
mod identity_tests {
    use super::*;

    fn tools() -> Tools {
        Tools {
            layout: Layout::Distro,
            clang: "/usr/bin/clang-16".into(),
            ar: "/usr/bin/llvm-ar-16".into(),
            ranlib: "/usr/bin/llvm-ranlib-16".into(),
            nm: "/usr/bin/llvm-nm-16".into(),
            wasm_ld: "/usr/bin/wasm-ld-16".into(),
            sysroot: "/usr".into(),
            builtins: Some("/usr/lib/llvm-16/lib/clang/16/lib/wasi".into()),
            versions: Versions {
                clang: "Debian clang version 16.0.6 (15~deb12u1)".into(),
                wasm_ld: "LLD 16.0.6".into(),
                wasi_libc: "0.0~git20221206.8b7148f-1".into(),
            },
        }
    }

    /// The toolchain part of every build identity moves with each tool's version and
    /// path, and with the layout (the build cache then misses).
    #[test]
    fn the_toolchain_identity_follows_versions_paths_and_layout() {
        let base = tools().identity();
        assert_eq!(base, tools().identity());
        let mut changed = Vec::new();
        let mut t = tools();
        t.versions.clang = "Debian clang version 16.0.7".into();
        changed.push(t);
        let mut t = tools();
        t.versions.wasi_libc = "0.0~git20230621".into();
        changed.push(t);
        let mut t = tools();
        t.versions.wasm_ld = "LLD 19.1.7".into();
        changed.push(t);
        let mut t = tools();
        t.clang = "/usr/bin/clang-19".into();
        changed.push(t);
        let mut t = tools();
        t.layout = Layout::WasiSdk;
        changed.push(t);
        for tools in changed {
            assert_ne!(tools.identity(), base, "{tools:?}");
        }
    }
}
