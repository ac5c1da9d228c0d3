//! `wlmake doctor`: what the machine has for building and running, and what is missing.

use std::cell::RefCell;

use anyhow::Result;

use super::Session;
use crate::cli::DoctorArgs;
use crate::process::{Command, which};
use crate::runtime::{Kind, Launcher, Runtime};
use crate::toolchain;

thread_local! {
    /// `--json`: the checks collected instead of printed (group, then the entries).
    static JSON: RefCell<Option<Vec<serde_json::Value>>> = const { RefCell::new(None) };
    static GROUP: RefCell<String> = const { RefCell::new(String::new()) };
}

fn group(name: &str) {
    GROUP.with(|g| *g.borrow_mut() = name.to_string());
    if JSON.with(|j| j.borrow().is_none()) {
        println!("{name}:");
    }
}

fn report(ok: bool, what: &str, detail: &str) {
    let collected = JSON.with(|j| {
        j.borrow_mut().as_mut().map(|entries| {
            entries.push(serde_json::json!({
                "group": GROUP.with(|g| g.borrow().clone()),
                "check": what,
                "ok": ok,
                "detail": detail,
                "notes": [],
            }))
        })
    });
    if collected.is_none() {
        let mark = if ok { "ok     " } else { "missing" };
        println!("{mark} {what:<22} {detail}");
    }
}

/// A note or hint under the last check.
fn note(text: &str) {
    let collected = JSON.with(|j| {
        j.borrow_mut().as_mut().map(|entries| {
            if let Some(last) = entries.last_mut() {
                last["notes"]
                    .as_array_mut()
                    .expect("notes is a list")
                    .push(text.into());
            }
        })
    });
    if collected.is_none() {
        println!("        {}", text.replace('\n', "\n        "));
    }
}

fn version(program: &str) -> Option<String> {
    let path = which(program)?;
    let out = Command::new(path).arg("--version").capture().ok()?;
    let text = if out.stdout.trim().is_empty() {
        out.stderr
    } else {
        out.stdout
    };
    Some(text.lines().next().unwrap_or_default().trim().to_string())
}

/// Wall time of `PROGRAM --version`, the best of three, in milliseconds.
fn start_up_ms(program: &std::path::Path) -> Option<f64> {
    (0..3)
        .filter_map(|_| {
            let start = std::time::Instant::now();
            Command::new(program).arg("--version").capture().ok()?;
            Some(start.elapsed().as_secs_f64() * 1000.0)
        })
        .reduce(f64::min)
}

/// A launcher script on PATH costs its start-up on every run: say what it costs and
/// whether wlmake got past it.
fn report_launcher(runtime: &Runtime) {
    let native = start_up_ms(&runtime.binary);
    match &runtime.launcher {
        Launcher::Native => {}
        Launcher::Resolved { script } => {
            let through = start_up_ms(script);
            note(&format!(
                "note: `{}` on PATH is a launcher script; wlmake runs the binary it starts ({} per start instead of {})",
                script.display(),
                ms(native),
                ms(through),
            ));
        }
        Launcher::Unresolved { script } => note(&format!(
            "warning: `{}` is a launcher script wlmake cannot see through: each run pays {} of start-up\nhint: set {} to the runtime's binary itself, or put its folder before `{}` on PATH",
            script.display(),
            ms(native),
            match runtime.kind {
                Kind::Wasmtime => crate::env_vars::WLMAKE_WASMTIME,
                Kind::Wasmedge => crate::env_vars::WLMAKE_WASMEDGE,
            },
            script
                .parent()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        )),
    }
}

fn ms(value: Option<f64>) -> String {
    value.map_or_else(|| "unknown".into(), |v| format!("{v:.0} ms"))
}

/// Prints one line per tool (or, with `--json`, the checks as JSON); exits 1 when
/// something needed for a build is missing.
pub fn doctor(_session: &Session, args: &DoctorArgs) -> Result<i32> {
    if args.json {
        JSON.with(|j| *j.borrow_mut() = Some(Vec::new()));
    }
    let code = checks();
    if let Some(entries) = JSON.with(|j| j.borrow_mut().take()) {
        let report = serde_json::json!({ "ok": code == 0, "checks": entries });
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("serializable")
        );
    }
    Ok(code)
}

/// Which container engine works for `wlmake build --container`, with the settings this
/// machine needs, and whether the builder image is there and starts (optional checks).
fn containers() {
    use crate::container::{self, Engine, EngineSettings};
    group("containers (build --container)");
    let image = std::env::var(crate::env_vars::WLMAKE_CONTAINER_IMAGE)
        .ok()
        .filter(|image| !image.is_empty())
        .unwrap_or_else(|| container::DEFAULT_IMAGE.to_string());
    for engine in Engine::ALL {
        let settings = EngineSettings::detect(engine);
        if let Err(reason) = container::probe(engine, &settings) {
            report(false, engine.name(), &reason);
            continue;
        }
        report(
            true,
            engine.name(),
            &format!(
                "{} ({engine} {})",
                version(engine.name()).unwrap_or_else(|| "version unknown".into()),
                settings.describe()
            ),
        );
        let what = format!("{engine}: {image}");
        match container::image_id(engine, &settings, &image) {
            Err(_) => {
                report(false, &what, "not in the image store");
                note(&match engine {
                    Engine::Podman => "hint: bash scripts/container-image (no registry needed: the base image comes from this machine's apt sources)".to_string(),
                    Engine::Docker => format!("hint: docker build -f docker/Dockerfile.distro -t {image} ."),
                });
            }
            Ok(_) => match container::try_image(engine, &settings, &image) {
                Ok(wlmake) => report(true, &what, &format!("starts; inside: {wlmake}")),
                Err(reason) => report(false, &what, &format!("does not start: {reason}")),
            },
        }
    }
}

fn checks() -> i32 {
    let mut missing_required = false;
    group("toolchain");
    match toolchain::discover() {
        Ok(tools) => {
            report(true, "layout", &format!("{:?}", tools.layout));
            report(
                true,
                "clang",
                &format!("{} ({})", tools.clang.display(), tools.versions.clang),
            );
            report(
                true,
                "wasm-ld",
                &format!("{} ({})", tools.wasm_ld.display(), tools.versions.wasm_ld),
            );
            report(
                true,
                "ar / ranlib / nm",
                &format!(
                    "{}, {}, {}",
                    tools.ar.display(),
                    tools.ranlib.display(),
                    tools.nm.display()
                ),
            );
            report(
                true,
                "wasi-libc",
                &format!(
                    "{} in {}",
                    tools.versions.wasi_libc,
                    tools.sysroot.display()
                ),
            );
            if let Some(builtins) = &tools.builtins {
                report(
                    true,
                    "compiler-rt builtins",
                    &builtins.display().to_string(),
                );
            }
        }
        Err(error) => {
            missing_required = true;
            report(false, "wasm toolchain", &error.to_string());
            if let Some(hint) = error.hint() {
                note(&format!("hint: {hint}"));
            }
        }
    }
    group("build tools");
    for (program, package) in [
        ("make", "make"),
        ("patch", "patch"),
        ("bison", "bison"),
        ("re2c", "re2c"),
    ] {
        match version(program) {
            Some(v) => report(true, program, &v),
            None => {
                missing_required = true;
                report(false, program, &format!("apt-get install {package}"));
            }
        }
    }
    match version("apt-get") {
        Some(v) => report(true, "apt-get (sources)", &v),
        None => report(
            false,
            "apt-get (sources)",
            "only needed for the Debian source-package provider",
        ),
    }
    match crate::build::hermetic::network_isolation() {
        Ok(()) => report(
            true,
            "build isolation",
            "build steps run with a cleared environment and no network (unshare --net)",
        ),
        Err(why) => report(
            false,
            "build isolation",
            &format!("cleared environment, but the network stays reachable: {why}"),
        ),
    }
    group("runtimes");
    for kind in [Kind::Wasmtime, Kind::Wasmedge] {
        match Runtime::find(kind) {
            Ok(runtime) => {
                report(
                    true,
                    kind.name(),
                    &format!("{} ({})", runtime.binary.display(), runtime.version),
                );
                report_launcher(&runtime);
            }
            Err(error) => {
                let detail = match error.hint() {
                    Some(hint) => format!("{error}; {hint}"),
                    None => error.to_string(),
                };
                report(false, kind.name(), &detail);
            }
        }
    }
    containers();
    group("optional");
    for (program, why) in [
        ("wasm-opt", "binaryen: size optimisation"),
        ("wasm-objdump", "wabt: inspecting modules"),
        ("php", "php-cli: drives PHP's run-tests.php"),
    ] {
        match version(program) {
            Some(v) => report(true, program, &v),
            None => report(false, program, why),
        }
    }
    if missing_required { 1 } else { 0 }
}
