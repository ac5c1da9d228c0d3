//! Builds inside the builder image (`docker/`): which container engine works here, and
//! the engine command line that runs `wlmake build` in the image.
//!
//! The repository is mounted at [`REPO_MOUNT`] and the source cache at [`CACHE_MOUNT`];
//! the build runs as the calling user, so everything it writes under `build-output/`
//! and `work/` belongs to that user. The command line is a pure function of
//! [`ContainerBuild`] (snapshot-tested); only [`find_engine`], [`image_id`],
//! [`user_ids`] and [`EngineSettings::detect`] look at the machine, and every program
//! they start goes through [`crate::process::Command`].
//!
//! What the engine needs beyond its defaults ([`EngineSettings`]), measured on a Debian 12
//! machine with the hybrid cgroup layout and no systemd (WASI-FACTS.md section 6):
//! - always, both engines: `--init`, so that SIGINT/SIGTERM reach the build (a shell or
//!   wlmake as PID 1 ignores signals it has no handler for) and zombies are reaped;
//! - Podman, detected: `--runtime runc` where `/sys/fs/cgroup` is not the unified (v2)
//!   hierarchy and runc is installed (crun refuses the hybrid layout);
//!   `--cgroup-manager=cgroupfs` where systemd is not running (`/run/systemd/system`
//!   missing: Podman's default manager talks to systemd); `--ulimit nofile=S:H` and
//!   `--ulimit nproc=S:H` from the caller's own limits (Podman's defaults ask for more
//!   than an unprivileged hard limit allows; runc then fails with "error setting
//!   rlimits"), the process limit capped at `kernel.pid_max` (runc fails to set more,
//!   and more processes than pids cannot exist).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::env_vars::{WLMAKE_APT, WLMAKE_CACHE_DIR, WLMAKE_OUTPUT_DIR, WLMAKE_WORK_DIR};
use crate::process::{Command, ProcessError};
use crate::source::Mirror;

/// The image `--container` runs unless `--container-image`/`WLMAKE_CONTAINER_IMAGE` says
/// otherwise: `docker/Dockerfile.distro` built as `wlmake-builder:distro`.
pub const DEFAULT_IMAGE: &str = "wlmake-builder:distro";
/// Where the repository appears in the container (the build's working folder).
pub const REPO_MOUNT: &str = "/work/repo";
/// Where the source cache appears in the container.
pub const CACHE_MOUNT: &str = "/work/cache";
/// Where a `WLMAKE_OUTPUT_DIR` outside the repository appears in the container.
pub const OUTPUT_MOUNT: &str = "/work/output";
/// Where a `WLMAKE_WORK_DIR` outside the repository appears in the container.
pub const WORK_MOUNT: &str = "/work/build";
/// Folder mirrors appear as `/work/mirrors/<n>`, read-only.
pub const MIRRORS_MOUNT: &str = "/work/mirrors";

/// How long `docker info` / `podman info` may take before the engine counts as broken.
const PROBE_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    #[error("no container engine works here: {}", describe(.tried))]
    NoEngine { tried: Vec<(Engine, String)> },
    #[error("container engine `{engine}` does not work here: {reason}")]
    Unusable { engine: Engine, reason: String },
    #[error("the builder image `{image}` is not in {engine}'s image store")]
    ImageMissing { engine: Engine, image: String },
    #[error("cannot mount `{}` into the container: the path contains `:`", .0.display())]
    BadMountPath(PathBuf),
    #[error("cannot read the calling user's id")]
    UserIds(#[source] ProcessError),
    #[error("unknown container engine `{0}`")]
    UnknownEngine(String),
    #[error("cannot create `{}`", .0.display())]
    Folder(PathBuf, #[source] std::io::Error),
}

impl ContainerError {
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            Self::NoEngine { .. } => "install Docker (with a running daemon) or Podman and check that `docker info` or `podman info` works, or build without --container; see docs/release.md".into(),
            Self::Unusable { engine, .. } => format!(
                "check that `{engine} info` works, or try the other engine (--container docker|podman)"
            ),
            Self::ImageMissing {
                engine: Engine::Podman,
                image,
            } if image == DEFAULT_IMAGE => "make it from the repository root: bash scripts/container-image (no registry needed: its base image comes from this machine's apt sources)".into(),
            Self::ImageMissing { engine, image } => format!(
                "build it from the repository root: {engine} build -f docker/Dockerfile.distro -t {image} .  (or pull it if it lives in a registry)"
            ),
            Self::BadMountPath(_) => "move the folder to a path without `:`".into(),
            Self::UserIds(_) | Self::UnknownEngine(_) | Self::Folder(..) => return None,
        })
    }
}

fn describe(tried: &[(Engine, String)]) -> String {
    tried
        .iter()
        .map(|(engine, reason)| format!("{engine}: {reason}"))
        .collect::<Vec<_>>()
        .join("; ")
}

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

fn last_line(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .rfind(|line| !line.is_empty())
        .map(str::to_string)
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

/// The image's id in the engine's store, or [`ContainerError::ImageMissing`].
pub fn image_id(
    engine: Engine,
    settings: &EngineSettings,
    image: &str,
) -> Result<String, ContainerError> {
    let out = Command::new(engine.name())
        .args(settings.global_args())
        .args(["image", "inspect", "--format", "{{.Id}}", image])
        .timeout(PROBE_TIMEOUT)
        .capture();
    match out {
        Ok(out) if out.status == Some(0) => Ok(out.stdout.trim().to_string()),
        _ => Err(ContainerError::ImageMissing {
            engine,
            image: image.to_string(),
        }),
    }
}

/// Starts `image` with `settings` and asks its wlmake for its version: the first line
/// of `wlmake --version`, or why the container did not run (its last line of output).
pub fn try_image(engine: Engine, settings: &EngineSettings, image: &str) -> Result<String, String> {
    let out = Command::new(engine.name())
        .args(settings.global_args())
        .args(["run", "--rm", "--init"])
        .args(settings.run_args())
        .args([image, "wlmake", "--version"])
        .timeout(PROBE_TIMEOUT)
        .capture()
        .map_err(|error| error.to_string())?;
    if out.status == Some(0) {
        Ok(out
            .stdout
            .lines()
            .next()
            .unwrap_or_default()
            .trim()
            .to_string())
    } else {
        Err(last_line(&out.stderr)
            .or_else(|| last_line(&out.stdout))
            .unwrap_or_else(|| format!("`{engine} run` failed ({:?})", out.status)))
    }
}

/// The calling user's numeric user and group ids (`id -u`, `id -g`).
pub fn user_ids() -> Result<(u32, u32), ContainerError> {
    let read = |flag: &str| -> Result<u32, ContainerError> {
        let out = Command::new("id")
            .arg(flag)
            .capture_checked()
            .map_err(ContainerError::UserIds)?;
        out.stdout.trim().parse().map_err(|_| {
            ContainerError::UserIds(ProcessError::Failed {
                command: format!("id {flag}"),
                status: "exit status 0".into(),
                tail: format!("not a number: {}", out.stdout.trim()),
                log: None,
            })
        })
    };
    Ok((read("-u")?, read("-g")?))
}

/// What a container build needs from this machine: the engine that works (with its
/// settings), the builder image's id in its store, and the calling user's ids.
#[derive(Debug, Clone)]
pub struct Host {
    pub engine: Engine,
    pub settings: EngineSettings,
    pub image_id: String,
    pub uid: u32,
    pub gid: u32,
}

impl Host {
    /// `wanted` (`docker`, `podman`) when it works here, else (no preference) the first
    /// engine that does; `image` must be in its store.
    pub fn find(wanted: Option<&str>, image: &str) -> Result<Self, ContainerError> {
        let wanted = match wanted {
            Some(name) => Some(
                Engine::parse(name).ok_or_else(|| ContainerError::UnknownEngine(name.into()))?,
            ),
            None => None,
        };
        let (engine, settings) = find_engine(wanted)?;
        let image_id = image_id(engine, &settings, image)?;
        let (uid, gid) = user_ids()?;
        Ok(Self {
            engine,
            settings,
            image_id,
            uid,
            gid,
        })
    }

    /// The image id as 12 hex digits: `sha256:0123456789ab...` (Docker) or
    /// `0123456789ab...` (Podman).
    pub fn short_image_id(&self) -> &str {
        let hex = self
            .image_id
            .strip_prefix("sha256:")
            .unwrap_or(&self.image_id);
        hex.get(..12).unwrap_or(hex)
    }
}

/// The folder a variable (`WLMAKE_OUTPUT_DIR`, `WLMAKE_WORK_DIR`) names, made absolute;
/// None when it is not set. Made here, so that it belongs to the caller and not to the
/// engine.
pub fn caller_folder(variable: &str) -> Result<Option<PathBuf>, ContainerError> {
    let Some(dir) = std::env::var_os(variable).filter(|d| !d.is_empty()) else {
        return Ok(None);
    };
    let dir = PathBuf::from(dir);
    let dir = std::path::absolute(&dir).map_err(|source| ContainerError::Folder(dir, source))?;
    std::fs::create_dir_all(&dir).map_err(|source| ContainerError::Folder(dir.clone(), source))?;
    Ok(Some(dir))
}

/// Everything the engine command line depends on.
#[derive(Debug, Clone)]
pub struct ContainerBuild {
    pub engine: Engine,
    pub settings: EngineSettings,
    pub image: String,
    /// The calling user's ids; 0 (root) needs no user mapping.
    pub uid: u32,
    pub gid: u32,
    /// The repository root on the host (absolute).
    pub repo: PathBuf,
    /// The source cache on the host (absolute).
    pub cache: PathBuf,
    /// `WLMAKE_OUTPUT_DIR` on the host, when set (absolute).
    pub output_dir: Option<PathBuf>,
    /// `WLMAKE_WORK_DIR` on the host, when set (absolute).
    pub work_dir: Option<PathBuf>,
    pub mirrors: Vec<Mirror>,
    pub use_apt: bool,
    pub recipe: String,
    pub runtime: crate::runtime::Kind,
    pub force: bool,
    pub jobs: Option<usize>,
    pub quiet: bool,
    pub verbose: u8,
    /// `--no-cache`, `--cache-url`, `--cache-push`, passed on; the token travels as the
    /// variable `WLMAKE_CACHE_TOKEN` taken from the caller's environment by name, never
    /// on the command line.
    pub no_cache: bool,
    pub cache_url: Option<String>,
    pub cache_push: bool,
}

impl ContainerBuild {
    /// `ENGINE <global settings> run --rm --init <settings> <user> -v ... -e ... -w /work/repo
    /// IMAGE wlmake build RECIPE --runtime R`.
    pub fn command(&self) -> Result<Command, ContainerError> {
        let mut run: Vec<String> = self.settings.global_args();
        run.extend(["run".into(), "--rm".into(), "--init".into()]);
        run.extend(self.settings.run_args());
        if self.uid != 0 {
            match self.engine {
                Engine::Docker => {
                    run.push("--user".into());
                    run.push(format!("{}:{}", self.uid, self.gid));
                }
                // Rootless Podman: the caller's id is the same inside, so files written
                // to the mounts belong to the caller.
                Engine::Podman => run.push("--userns=keep-id".into()),
            }
        }
        let mut env: Vec<String> = vec![format!("{WLMAKE_CACHE_DIR}={CACHE_MOUNT}")];
        let mut volumes = vec![
            volume(&self.repo, REPO_MOUNT, false)?,
            volume(&self.cache, CACHE_MOUNT, false)?,
        ];
        for (host, mount, variable) in [
            (&self.output_dir, OUTPUT_MOUNT, WLMAKE_OUTPUT_DIR),
            (&self.work_dir, WORK_MOUNT, WLMAKE_WORK_DIR),
        ] {
            let Some(host) = host else { continue };
            let guest = match host.strip_prefix(&self.repo) {
                // Inside the repository: already mounted.
                Ok(relative) => guest_join(REPO_MOUNT, relative),
                Err(_) => {
                    volumes.push(volume(host, mount, false)?);
                    mount.to_string()
                }
            };
            env.push(format!("{variable}={guest}"));
        }
        if !self.use_apt {
            env.push(format!("{WLMAKE_APT}=0"));
        }
        let mut inner: Vec<String> = vec![
            "wlmake".into(),
            "build".into(),
            self.recipe.clone(),
            "--runtime".into(),
            self.runtime.name().into(),
        ];
        if self.force {
            inner.push("--force".into());
        }
        if let Some(jobs) = self.jobs {
            inner.push("--jobs".into());
            inner.push(jobs.to_string());
        }
        if self.quiet {
            inner.push("--quiet".into());
        }
        if self.no_cache {
            inner.push("--no-cache".into());
        }
        if let Some(url) = &self.cache_url {
            inner.push("--cache-url".into());
            inner.push(url.clone());
            if self.cache_push {
                inner.push("--cache-push".into());
            }
            env.push(crate::env_vars::WLMAKE_CACHE_TOKEN.to_string());
        }
        inner.extend((0..self.verbose).map(|_| "--verbose".to_string()));
        let mut mirror_count = 0;
        for mirror in &self.mirrors {
            inner.push("--mirror".into());
            match mirror {
                Mirror::Url(url) => inner.push(url.clone()),
                Mirror::Dir(dir) => {
                    let guest = format!("{MIRRORS_MOUNT}/{mirror_count}");
                    mirror_count += 1;
                    volumes.push(volume(dir, &guest, true)?);
                    inner.push(guest);
                }
            }
        }
        for spec in volumes {
            run.push("-v".into());
            run.push(spec);
        }
        for pair in env {
            run.push("-e".into());
            run.push(pair);
        }
        run.extend(["-w".to_string(), REPO_MOUNT.to_string(), self.image.clone()]);
        Ok(Command::new(self.engine.name()).args(run).args(inner))
    }
}

/// `HOST:GUEST[:ro]`, refusing host paths the engine would split at `:`.
fn volume(host: &Path, guest: &str, read_only: bool) -> Result<String, ContainerError> {
    let text = host.to_string_lossy();
    if text.contains(':') {
        return Err(ContainerError::BadMountPath(host.to_path_buf()));
    }
    Ok(format!(
        "{text}:{guest}{}",
        if read_only { ":ro" } else { "" }
    ))
}

/// `base/relative` with `/` separators (the guest is Linux whatever the host is).
fn guest_join(base: &str, relative: &Path) -> String {
    relative.components().fold(base.to_string(), |path, part| {
        format!("{path}/{}", part.as_os_str().to_string_lossy())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(engine: Engine) -> ContainerBuild {
        ContainerBuild {
            engine,
            settings: EngineSettings::default(),
            image: DEFAULT_IMAGE.into(),
            uid: 1000,
            gid: 1000,
            repo: "/home/dev/wlmake".into(),
            cache: "/home/dev/.cache/wlmake".into(),
            output_dir: None,
            work_dir: None,
            mirrors: Vec::new(),
            use_apt: true,
            recipe: "php/php-7.4.32".into(),
            runtime: crate::runtime::Kind::Wasmedge,
            force: false,
            jobs: None,
            quiet: false,
            verbose: 0,
            no_cache: false,
            cache_url: None,
            cache_push: false,
        }
    }

    #[test]
    fn root_needs_no_user_mapping() {
        let mut spec = build(Engine::Docker);
        spec.uid = 0;
        spec.gid = 0;
        let line = spec.command().unwrap().display();
        assert!(!line.contains("--user"), "{line}");
        spec.engine = Engine::Podman;
        let line = spec.command().unwrap().display();
        assert!(!line.contains("--userns"), "{line}");
    }

    #[test]
    fn output_and_work_folders_inside_the_repository_need_no_mount() {
        let mut spec = build(Engine::Docker);
        spec.output_dir = Some("/home/dev/wlmake/out/release".into());
        spec.work_dir = Some("/scratch/wlmake-work".into());
        let line = spec.command().unwrap().display();
        assert!(
            line.contains("-e WLMAKE_OUTPUT_DIR=/work/repo/out/release"),
            "{line}"
        );
        assert!(!line.contains(":/work/output"), "{line}");
        assert!(
            line.contains("-v /scratch/wlmake-work:/work/build"),
            "{line}"
        );
        assert!(line.contains("-e WLMAKE_WORK_DIR=/work/build"), "{line}");
    }

    #[test]
    fn a_path_with_a_colon_is_refused() {
        let mut spec = build(Engine::Docker);
        spec.cache = "/tmp/a:b".into();
        assert!(matches!(
            spec.command(),
            Err(ContainerError::BadMountPath(_))
        ));
    }

    const LIMITS: &str =
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
    fn the_settings_go_around_run() {
        let mut spec = build(Engine::Podman);
        spec.settings = podman_settings(&Machine {
            runc: true,
            limits: LIMITS.into(),
            pid_max: Some(4_194_304),
            ..Machine::default()
        });
        let line = spec.command().unwrap().display();
        assert!(
            line.starts_with("podman --runtime runc --cgroup-manager=cgroupfs run --rm --init --ulimit nofile=20000:20000 --ulimit nproc=96365:96365 "),
            "{line}"
        );
    }

    #[test]
    fn engine_names_round_trip() {
        for engine in Engine::ALL {
            assert_eq!(Engine::parse(engine.name()), Some(engine));
        }
        assert_eq!(Engine::parse("lxc"), None);
    }
}
