//! wlmake: build language interpreters for WebAssembly/WASI from recipes.
//!
//! The pipeline, one folder per stage:
//! recipe -> source -> patch -> toolchain -> build -> output -> runtime.

pub mod bench;
pub mod build;
pub mod cli;
pub mod commands;
pub mod container;
pub mod env_vars;
pub mod error;
pub mod files;
pub mod interrupt;
pub mod net;
pub mod output;
pub mod patch;
pub mod plan;
pub mod process;
pub mod recipe;
pub mod release;
pub mod reporter;
pub mod runtime;
pub mod source;
pub mod store;
pub mod suite;
pub mod sweep;
pub mod toolchain;
