//! One integration test binary.

mod abi;
mod cache;
mod cli;
mod libraries;
mod patch_workflow;
mod pipeline;
mod recipes;
mod release;
mod server;
mod source;
mod support;
mod upstream_suite;
mod wordpress;
