//! The build in a container: what it needs from this machine (the engine, the image,
//! the caller's ids and folders) and the engine command line that runs `wlmake build`
//! in the image, a pure function of [`ContainerBuild`].

use std::path::{Path, PathBuf};

use super::{
    CACHE_MOUNT, ContainerError, Engine, EngineSettings, MIRRORS_MOUNT, OUTPUT_MOUNT, REPO_MOUNT,
    WORK_MOUNT, find_engine, image_id,
};
use crate::env_vars::{WLMAKE_APT, WLMAKE_CACHE_DIR, WLMAKE_OUTPUT_DIR, WLMAKE_WORK_DIR};
use crate::process::{Command, ProcessError};
use crate::source::Mirror;

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
    use crate::container::engine::tests::LIMITS;
    use crate::container::{DEFAULT_IMAGE, Machine, podman_settings};

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
}
