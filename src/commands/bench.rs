//! `wlmake bench`: the interpreter's own benchmark scripts and its start-up, wasm
//! against native, as a Markdown table (and JSON).

use anyhow::{Context, Result, bail};

use super::Session;
use crate::bench::{self, Report, Setup, node};
use crate::cli::BenchArgs;
use crate::reporter::Reporter;
use crate::runtime::{Kind, Runtime, precompile};
use crate::source;
use crate::suite::NativePhp;

pub fn bench(session: &Session, args: &BenchArgs) -> Result<()> {
    let repo = session.repository()?;
    let (plan, manifest) = super::run::built(session, &repo, &args.target)?;
    let (recipe, dir) = (&plan.recipe, plan.output_dir());
    if recipe.language != "php" {
        bail!(
            "wlmake bench runs PHP's Zend/bench.php and Zend/micro_bench.php; `{}` is a {} recipe",
            recipe.id,
            recipe.language
        );
    }
    let runtime = Runtime::find(args.target.runtime)?;
    let native = NativePhp::find()?;
    let artifact = manifest
        .artifacts
        .iter()
        .find(|a| a.name == "php")
        .context("the build has no `php` artifact")?;
    let module = dir.join(&artifact.path);

    // The scripts come from the recipe's own source tree.
    let work = session
        .work_root(&repo)
        .join("bench")
        .join(&recipe.id.0)
        .join(args.target.profile.folder(args.target.runtime));
    std::fs::create_dir_all(&work)
        .with_context(|| format!("cannot create `{}`", work.display()))?;
    let _lock = source::lock_exclusive(&work.join(".lock"))?;
    // The Node column, where Node and @php-wasm/node are there (first: a wrong
    // WLMAKE_PHP_WASM_NODE stops before the minutes of source and precompile steps).
    session.reporter.step("node");
    let mut notes = Vec::new();
    let php_wasm_node = match node::find(
        std::env::var_os(crate::env_vars::WLMAKE_PHP_WASM_NODE),
        &recipe.version,
        session.cache()?.root(),
        &work,
    )
    .map_err(bench::BenchError::from)?
    {
        node::Found::Ready(found) => Some(found),
        node::Found::Absent(reason) => {
            notes.push(format!("no Node column: {reason}"));
            None
        }
    };

    session.reporter.step("source");
    let tree = work.join("src");
    source::prepare(
        &recipe.source,
        &session.cache()?,
        &session.fetch_options(),
        &tree,
        &session.reporter,
    )
    .with_context(|| format!("cannot prepare the source of `{}`", recipe.id))?;

    let precompiled = if args.target.runtime == Kind::Wasmtime || args.aot {
        session.reporter.step("precompile php");
        Some(precompile::cached(
            session.cache()?.root(),
            &runtime,
            &module,
            &artifact.sha256,
            &session.reporter,
        )?)
    } else {
        None
    };

    let setup = Setup {
        runtime: &runtime,
        module: &module,
        precompiled: precompiled.as_deref(),
        native: &native.binary,
        scripts: &tree.join("Zend"),
        node: php_wasm_node.as_deref(),
        runs: args.runs as usize,
    };
    let (rows, run_notes) = bench::run(&setup, &|name| session.reporter.step(name))?;
    notes.extend(run_notes);
    if args.target.runtime == Kind::Wasmedge && !args.aot {
        notes.push("WasmEdge ran its interpreter; --aot measures its AOT form too".into());
    }
    let report = Report {
        recipe: recipe.id.0.clone(),
        runtime: args.target.runtime.name().into(),
        runtime_version: runtime.version.clone(),
        artifact_sha256: artifact.sha256.clone(),
        native: format!("PHP {} ({})", native.version, native.binary.display()),
        node: php_wasm_node.as_ref().map(|n| n.describe()),
        runs: args.runs as usize,
        rows,
        notes,
    };
    print!("{}", bench::markdown(&report));
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&report).expect("serializable") + "\n";
        std::fs::write(path, text).with_context(|| format!("cannot write `{}`", path.display()))?;
    }
    Ok(())
}
