//! The builder image in the engine's store, and a trial run of its wlmake.

use super::{ContainerError, Engine, EngineSettings, PROBE_TIMEOUT, last_line};
use crate::process::Command;

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
