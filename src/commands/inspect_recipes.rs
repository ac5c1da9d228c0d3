//! `wlmake list`, `wlmake show`, `wlmake lint`.

use anyhow::Result;

use super::Session;
use crate::cli::{ListArgs, ShowArgs};
use crate::error::Reported;
use crate::recipe::{RecipeError, SourceSpec};

pub fn list(session: &Session, args: &ListArgs) -> Result<()> {
    let repo = session.repository()?;
    let recipes = repo.load_all().map_err(RecipeError::Invalid)?;
    if args.json {
        let rows: Vec<_> = recipes
            .iter()
            .map(|r| serde_json::json!({"id": r.id, "runtimes": r.runtimes, "description": r.description}))
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    let width = recipes.iter().map(|r| r.id.0.len()).max().unwrap_or(0);
    for recipe in &recipes {
        let runtimes = if recipe.runtimes.is_empty() {
            "-".to_string()
        } else {
            names(&recipe.runtimes)
        };
        println!("{:width$}  {runtimes}", recipe.id.0);
    }
    Ok(())
}

pub fn show(session: &Session, args: &ShowArgs) -> Result<()> {
    let repo = session.repository()?;
    let recipe = repo.load(&args.recipe)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&recipe)?);
        return Ok(());
    }
    println!("{}", recipe.id);
    if !recipe.description.is_empty() {
        println!("  {}", recipe.description);
    }
    println!(
        "file:      {}",
        recipe
            .file
            .strip_prefix(repo.root())
            .unwrap_or(&recipe.file)
            .display()
    );
    println!("runtimes:  {}", names(&recipe.runtimes));
    match &recipe.source {
        SourceSpec::Archive(archive) => {
            println!("source:    archive {}", archive.file_name);
            println!("  sha256:  {}", archive.sha256);
            for url in &archive.urls {
                println!("  url:     {url}");
            }
            if let Some(debian) = &archive.debian {
                println!(
                    "  debian:  source package {} ({})",
                    debian.package, debian.file
                );
            }
            if let Some(upstream) = &archive.upstream {
                println!("  upstream: {upstream} (not fetched: the Debian orig is the archive)");
            }
        }
        SourceSpec::Git(git) => println!(
            "source:    git {} tag {} commit {}",
            git.url, git.tag, git.commit
        ),
        SourceSpec::Path(path) => println!("source:    folder {}", path.path),
    }
    println!("patches:");
    match &recipe.patches.common {
        Some(common) => println!("  common:   {common}"),
        None => println!("  common:   (none)"),
    }
    for (runtime, dir) in &recipe.patches.runtime {
        println!("  {runtime}: {dir}");
    }
    let build = &recipe.build;
    println!("build:     {}", build.system);
    if let Some(script) = &build.configure_script {
        println!("  configure-script {script}");
    }
    for (name, value) in &build.env {
        println!("  env {name}={value}");
    }
    for arg in &build.configure_args {
        println!("  configure {arg}");
    }
    if !build.make_targets.is_empty() {
        println!("  make {}", build.make_targets.join(" "));
    }
    for dep in &build.depends {
        println!("  depends {dep}");
    }
    if let Some(site) = &build.config_site {
        println!("  config-site {site}");
    }
    for (runtime, over) in &build.runtime {
        for arg in &over.configure_args {
            println!("  [{runtime}] configure {arg}");
        }
        for (name, value) in &over.env {
            println!("  [{runtime}] env {name}+={value}");
        }
        for dep in &over.depends {
            println!("  [{runtime}] depends {dep}");
        }
    }
    if let Some(library) = &recipe.library {
        println!("library:");
        println!("  archives:   {}", library.archives.join(", "));
        println!("  pkg-config: {}", library.pkg_config.join(", "));
        if recipe.build.system == "cmake" {
            println!("  install:    cmake --install");
        } else {
            println!("  install:    make {}", library.install_targets.join(" "));
        }
    }
    if let Some(native) = &recipe.native {
        println!("native stage ({{native}} = {}):", native.program);
        for arg in &native.configure_args {
            println!("  configure {arg}");
        }
        if !native.make_targets.is_empty() {
            println!("  make {}", native.make_targets.join(" "));
        }
    }
    println!("artifacts:");
    for artifact in &recipe.artifacts {
        match &artifact.mount {
            Some(mount) => println!(
                "  {}/ <- {} (folder, mounted at {mount})",
                artifact.name, artifact.path
            ),
            None => println!("  {}.wasm <- {}", artifact.name, artifact.path),
        }
    }
    for (name, value) in &recipe.run_env {
        println!("run env {name}={value}");
    }
    if let Some(suite) = &recipe.suite {
        println!(
            "upstream suite: {} {} TEST for TEST in {}",
            suite.artifact,
            suite.args.join(" "),
            suite.tests.join(", ")
        );
    }
    if !recipe.tests.is_empty() {
        println!(
            "smoke tests: {}",
            recipe
                .tests
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(())
}

pub fn lint(session: &Session) -> Result<()> {
    let repo = session.repository()?;
    let count = repo.recipe_files()?.len();
    match repo.load_all() {
        Ok(recipes) => {
            session
                .reporter
                .line(&format!("{} recipe(s) OK", recipes.len()));
            Ok(())
        }
        Err(problems) => {
            for problem in &problems {
                eprintln!("{problem}");
                if let Some(hint) = &problem.hint {
                    eprintln!("  hint: {hint}");
                }
            }
            Err(Reported(format!(
                "{} problem(s) in {count} recipe(s)",
                problems.len()
            ))
            .into())
        }
    }
}

/// `wasmtime, wasmedge`: a recipe's runtimes as the listing shows them.
fn names(runtimes: &[crate::runtime::Kind]) -> String {
    runtimes
        .iter()
        .map(|kind| kind.name())
        .collect::<Vec<_>>()
        .join(", ")
}
