//! Which container engine works here, and what it needs beyond its defaults (see the
//! module [`super`]'s text for why each setting).

use std::path::Path;

use super::{ContainerError, PROBE_TIMEOUT, last_line};
use crate::process::{Command, ProcessError};

/// A container engine wlmake knows how to drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Docker,
    Podman,
}

impl Engine {
    /// The order `--container` without a value tries them in.
    pub const ALL: [Engine; 2] = [Engine::Docker, Engine::Podman];

    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "docker" => Some(Self::Docker),
            "podman" => Some(Self::Podman),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Docker => "docker",
            Self::Podman => "podman",
        }
    }
}

impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A resource limit, soft and hard (`--ulimit NAME=SOFT:HARD`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub soft: u64,
    pub hard: u64,
}

/// What an engine needs on this machine beyond its defaults (see the module's text).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineSettings {
    /// Podman's OCI runtime (`--runtime`, a global flag).
    pub oci_runtime: Option<String>,
    /// Podman's `--cgroup-manager=cgroupfs` (a global flag).
    pub cgroupfs: bool,
    /// `--ulimit nofile=...`.
    pub nofile: Option<Limit>,
    /// `--ulimit nproc=...`.
    pub nproc: Option<Limit>,
}

impl EngineSettings {
    /// The settings `engine` needs here: nothing for Docker (its daemon's configuration
    /// decides); for Podman what [`podman_settings`] derives from the machine.
    pub fn detect(engine: Engine) -> Self {
        match engine {
            Engine::Docker => Self::default(),
            Engine::Podman => podman_settings(&Machine::read()),
        }
    }

    /// The flags that go before the subcommand (`podman --runtime runc ... run`).
    pub fn global_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(runtime) = &self.oci_runtime {
            args.push("--runtime".into());
            args.push(runtime.clone());
        }
        if self.cgroupfs {
            args.push("--cgroup-manager=cgroupfs".into());
        }
        args
    }

    /// The flags of `run` (and `build`) beyond `--init`.
    pub fn run_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        for (name, limit) in [("nofile", self.nofile), ("nproc", self.nproc)] {
            if let Some(limit) = limit {
                args.push("--ulimit".into());
                args.push(format!("{name}={}:{}", limit.soft, limit.hard));
            }
        }
        args
    }

    /// One line for `wlmake doctor`: the flags around `run`.
    pub fn describe(&self) -> String {
        let mut flags = self.global_args();
        flags.push("run --init".into());
        flags.extend(self.run_args());
        flags.join(" ")
    }
}

/// The facts about the machine [`podman_settings`] decides on.
#[derive(Debug, Clone, Default)]
pub struct Machine {
    /// `/sys/fs/cgroup` is the unified (v2) hierarchy (`cgroup.controllers` exists).
    pub unified_cgroups: bool,
    /// systemd runs as init (`/run/systemd/system` exists, as `sd_booted()` checks).
    pub systemd: bool,
    /// `runc` is on PATH.
    pub runc: bool,
    /// The text of `/proc/self/limits`.
    pub limits: String,
    /// `/proc/sys/kernel/pid_max`.
    pub pid_max: Option<u64>,
}

impl Machine {
    pub fn read() -> Self {
        Self {
            unified_cgroups: Path::new("/sys/fs/cgroup/cgroup.controllers").exists(),
            systemd: Path::new("/run/systemd/system").is_dir(),
            runc: crate::process::which("runc").is_some(),
            limits: std::fs::read_to_string("/proc/self/limits").unwrap_or_default(),
            pid_max: std::fs::read_to_string("/proc/sys/kernel/pid_max")
                .ok()
                .and_then(|text| text.trim().parse().ok()),
        }
    }
}

/// Podman's settings on `machine` (see the module's text for why each one).
pub fn podman_settings(machine: &Machine) -> EngineSettings {
    let cap = |limit: Limit| match machine.pid_max {
        Some(max) => Limit {
            soft: limit.soft.min(max),
            hard: limit.hard.min(max),
        },
        None => limit,
    };
    EngineSettings {
        oci_runtime: (!machine.unified_cgroups && machine.runc).then(|| "runc".to_string()),
        cgroupfs: !machine.systemd,
        nofile: limit(&machine.limits, "Max open files"),
        nproc: limit(&machine.limits, "Max processes").map(cap),
    }
}

/// A finite limit from `/proc/self/limits` (`Max open files  20000  20000  files`);
/// None when it is unlimited or not there.
fn limit(limits: &str, name: &str) -> Option<Limit> {
    let line = limits.lines().find(|line| line.starts_with(name))?;
    let mut values = line[name.len()..].split_whitespace();
    let soft = values.next()?.parse().ok()?;
    let hard = values.next()?.parse().ok()?;
    Some(Limit { soft, hard })
}

/// Whether `engine` answers `ENGINE info` with `settings`; the reason in one line when
/// it does not.
pub fn probe(engine: Engine, settings: &EngineSettings) -> Result<(), String> {
    let command = Command::new(engine.name())
        .args(settings.global_args())
        .arg("info")
        .timeout(PROBE_TIMEOUT);
    match command.capture() {
        Ok(out) if out.status == Some(0) => Ok(()),
        Ok(out) => Err(last_line(&out.stderr)
            .or_else(|| last_line(&out.stdout))
            .unwrap_or_else(|| match out.status {
                Some(code) => format!("`{engine} info` failed with exit status {code}"),
                None => format!("`{engine} info` was stopped by a signal"),
            })),
        Err(ProcessError::Spawn { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            Err("not found on PATH".into())
        }
        Err(ProcessError::Spawn { source, .. }) => Err(format!("cannot start it: {source}")),
        Err(ProcessError::TimedOut { seconds, .. }) => {
            Err(format!("`{engine} info` did not answer within {seconds} s"))
        }
        Err(other) => Err(other.to_string()),
    }
}

/// The engine to use, with the settings it needs here: `wanted` if it works, else (no
/// preference) the first of [`Engine::ALL`] that works.
pub fn find_engine(wanted: Option<Engine>) -> Result<(Engine, EngineSettings), ContainerError> {
    if let Some(engine) = wanted {
        let settings = EngineSettings::detect(engine);
        return probe(engine, &settings)
            .map(|()| (engine, settings))
            .map_err(|reason| ContainerError::Unusable { engine, reason });
    }
    let mut tried = Vec::new();
    for engine in Engine::ALL {
        let settings = EngineSettings::detect(engine);
        match probe(engine, &settings) {
            Ok(()) => return Ok((engine, settings)),
            Err(reason) => tried.push((engine, reason)),
        }
    }
    Err(ContainerError::NoEngine { tried })
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(in crate::container) const LIMITS: &str =
        "Limit                     Soft Limit           Hard Limit           Units     
Max cpu time              unlimited            unlimited            seconds   
Max processes             96365                96365                processes 
Max open files            20000                20000                files     
Max locked memory         8388608              8388608              bytes     
";

    #[test]
    fn podman_on_a_hybrid_cgroup_machine_without_systemd() {
        let machine = Machine {
            unified_cgroups: false,
            systemd: false,
            runc: true,
            limits: LIMITS.into(),
            pid_max: Some(32768),
        };
        let settings = podman_settings(&machine);
        assert_eq!(
            settings.describe(),
            "--runtime runc --cgroup-manager=cgroupfs run --init --ulimit nofile=20000:20000 --ulimit nproc=32768:32768"
        );
    }

    #[test]
    fn podman_on_a_systemd_machine_with_cgroups_v2_keeps_its_defaults_but_the_limits() {
        let machine = Machine {
            unified_cgroups: true,
            systemd: true,
            runc: true,
            limits: LIMITS.replace(
                "96365                96365",
                "unlimited            unlimited",
            ),
            pid_max: None,
        };
        let settings = podman_settings(&machine);
        assert_eq!(settings.oci_runtime, None);
        assert!(!settings.cgroupfs);
        assert_eq!(
            settings.nofile,
            Some(Limit {
                soft: 20000,
                hard: 20000
            })
        );
        assert_eq!(settings.nproc, None);
        assert!(settings.global_args().is_empty());
    }

    #[test]
    fn engine_names_round_trip() {
        for engine in Engine::ALL {
            assert_eq!(Engine::parse(engine.name()), Some(engine));
        }
        assert_eq!(Engine::parse("lxc"), None);
    }
}
