//! The work behind each subcommand. This layer may print; core modules may not.

mod bench;
mod build;
mod cache;
mod docs;
mod doctor;
mod graph;
mod inspect;
mod inspect_recipes;
mod patch;
pub mod progress;
pub mod release;
mod run;
mod suite;

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::cli::{BuildTarget, Cli, Command, GlobalArgs};
use crate::env_vars::{WLMAKE_OUTPUT_DIR, WLMAKE_WORK_DIR};
use crate::plan::{Layout, Plan};
use crate::recipe::Repository;
use crate::source::{Cache, FetchOptions, Mirror};
use progress::CliReporter;

/// What every command may need, made on demand.
pub struct Session {
    pub global: GlobalArgs,
    pub reporter: CliReporter,
}

impl Session {
    pub fn repository(&self) -> Result<Repository> {
        let cwd = std::env::current_dir().context("cannot read the current folder")?;
        Ok(Repository::discover(&cwd)?)
    }

    pub fn cache(&self) -> Result<Cache> {
        Ok(match &self.global.cache_dir {
            Some(dir) => Cache::new(dir.clone())?,
            None => Cache::from_env()?,
        })
    }

    pub fn fetch_options(&self) -> FetchOptions {
        let mut options = FetchOptions::from_env();
        // Mirrors given on the command line go first.
        let flags: Vec<Mirror> = self
            .global
            .mirror
            .iter()
            .map(|text| {
                let dir = PathBuf::from(text.strip_prefix("file://").unwrap_or(text));
                if dir.is_dir() {
                    Mirror::Dir(dir)
                } else {
                    Mirror::Url(text.clone())
                }
            })
            .collect();
        options.mirrors.splice(0..0, flags);
        options
    }

    pub fn work_root(&self, repo: &Repository) -> PathBuf {
        std::env::var_os(WLMAKE_WORK_DIR)
            .map(PathBuf::from)
            .unwrap_or_else(|| repo.root().join("work"))
    }

    pub fn output_root(&self, repo: &Repository) -> PathBuf {
        std::env::var_os(WLMAKE_OUTPUT_DIR)
            .map(PathBuf::from)
            .unwrap_or_else(|| repo.root().join("build-output"))
    }

    /// The work and output roots, as the environment or the repository sets them.
    pub fn layout(&self, repo: &Repository) -> Layout {
        Layout::new(self.work_root(repo), self.output_root(repo))
    }

    /// The build plan of a `RECIPE --runtime R --profile P` target.
    pub fn plan(&self, repo: &Repository, target: &BuildTarget) -> Result<Plan> {
        Plan::resolve(
            repo,
            self.layout(repo),
            &target.recipe,
            target.runtime,
            target.profile,
        )
    }
}

pub fn run(cli: Cli) -> Result<i32> {
    let reporter = CliReporter::new(cli.global.quiet, cli.global.verbose > 0);
    let session = Session {
        global: cli.global,
        reporter,
    };
    let result = match cli.command {
        Command::List(args) => inspect_recipes::list(&session, &args).map(|()| 0),
        Command::Show(args) => inspect_recipes::show(&session, &args).map(|()| 0),
        Command::Lint => inspect_recipes::lint(&session).map(|()| 0),
        Command::Fetch(args) => build::fetch(&session, &args).map(|()| 0),
        Command::Build(args) => build::build(&session, &args).map(|_| 0),
        Command::Identity(target) => build::identity(&session, &target).map(|()| 0),
        Command::Cache(args) => cache::cache(&session, &args).map(|()| 0),
        Command::Run(args) => run::run(&session, &args),
        Command::Test(args) => run::test(&session, &args).map(|()| 0),
        Command::Doctor(args) => doctor::doctor(&session, &args),
        Command::Inspect(args) => inspect::inspect(&session, &args),
        Command::Graph(args) => graph::graph(&session, &args).map(|()| 0),
        Command::Patch(args) => patch::patch(&session, &args),
        Command::New(args) => patch::new_recipe(&session, &args).map(|()| 0),
        Command::Matrix(args) => release::matrix(&session, &args).map(|()| 0),
        Command::ReleaseAssets(args) => release::release_assets(&session, &args).map(|()| 0),
        Command::Bench(args) => bench::bench(&session, &args).map(|()| 0),
        Command::Completions(args) => docs::completions(&args).map(|()| 0),
        Command::Man(args) => docs::man(&args).map(|()| 0),
    };
    session.reporter.finish();
    result
}
