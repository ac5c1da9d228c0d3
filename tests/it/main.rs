//! One integration test binary.

mod abi;
mod cache;
mod cli;
mod container;
mod guest_files;
mod interrupt;
mod libraries;
mod patch_workflow;
mod pipeline;
mod precompile;
mod profiles;
mod python_server;
mod recipes;
mod release;
mod repro;
mod server;
mod source;
mod stages;
mod support;
mod trust;
mod upstream_suite;
mod wasm_stack;
mod wordpress;
