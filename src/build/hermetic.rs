//! Hermetic build steps: configure, make, cmake and the like start from an empty
//! environment (the toolchain's PATH, a fixed locale and time zone, a HOME inside the
//! build folder, then what the recipe and the toolchain set) and, where the machine
//! allows it, in a network namespace of their own with no interface up, so a step that
//! tries to download something fails at once instead of depending on the network.
//!
//! `WLMAKE_BUILD_NETWORK=host` keeps the host's network (a recipe that must download
//! during its build; the build is then not hermetic). `wlmake doctor` says whether
//! isolation is available.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use crate::process::Command;

/// Opts out of the network namespace.
pub const NETWORK_VAR: &str = "WLMAKE_BUILD_NETWORK";
/// The wrapper that runs a step without network.
const UNSHARE: [&str; 3] = ["unshare", "--net", "--"];

/// Whether steps run without network: `unshare --net` works here (root, or a kernel
/// that lets this user make namespaces) and the user did not opt out.
pub fn network_isolation() -> Result<(), String> {
    if std::env::var(NETWORK_VAR).is_ok_and(|v| v == "host") {
        return Err(format!("{NETWORK_VAR}=host keeps the host's network"));
    }
    static PROBE: OnceLock<Result<(), String>> = OnceLock::new();
    PROBE
        .get_or_init(|| {
            match Command::new(UNSHARE[0])
                .args(["--net", "true"])
                .env_clear()
                .env("PATH", "/usr/bin:/bin:/usr/sbin:/sbin")
                .capture()
            {
                Ok(out) if out.status == Some(0) => Ok(()),
                Ok(out) => Err(format!(
                    "`unshare --net` is not permitted here ({})",
                    out.stderr.trim()
                )),
                Err(error) => Err(format!("`unshare` cannot run ({error})")),
            }
        })
        .clone()
}

/// The environment every build step starts from.
pub fn base_env(path: &str, home: &Path) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("PATH".to_string(), path.to_string()),
        ("HOME".to_string(), home.display().to_string()),
        ("TMPDIR".to_string(), "/tmp".to_string()),
        ("LC_ALL".to_string(), "C".to_string()),
        ("LANG".to_string(), "C".to_string()),
        ("TZ".to_string(), "UTC".to_string()),
        ("SHELL".to_string(), "/bin/sh".to_string()),
    ])
}

/// Makes `command` a hermetic build step: only `base_env(path, home)` and `vars` reach
/// it (`home` is created), and it runs without network when the machine allows it.
pub fn hermetic(
    command: Command,
    path: &str,
    home: &Path,
    vars: &BTreeMap<String, String>,
) -> Command {
    let _ = std::fs::create_dir_all(home);
    let command = command
        .env_clear()
        .envs(base_env(path, home))
        .envs(vars.iter());
    if network_isolation().is_ok() {
        command.wrapped(&UNSHARE)
    } else {
        command
    }
}
