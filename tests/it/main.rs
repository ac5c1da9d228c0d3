//! One integration test binary.

mod abi;
mod cli;
mod patch_workflow;
mod pipeline;
mod recipes;
mod release;
mod server;
mod source;
mod support;
mod upstream_suite;
mod wordpress;
