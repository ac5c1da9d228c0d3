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
//!
//! - [`engine`]: which engine works here and the settings it needs;
//! - [`image`]: the builder image in the engine's store, and a trial run of it;
//! - [`build`]: the build in a container: the caller's ids and folders, and the
//!   engine command line.

pub mod build;
pub mod engine;
pub mod image;

use std::path::PathBuf;
use std::time::Duration;

use crate::process::ProcessError;

pub use build::{ContainerBuild, Host, caller_folder, user_ids};
pub use engine::{Engine, EngineSettings, Limit, Machine, find_engine, podman_settings, probe};
pub use image::{image_id, try_image};

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

/// The last line with text in a command's output: why it failed, in one line.
fn last_line(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .rfind(|line| !line.is_empty())
        .map(str::to_string)
}
