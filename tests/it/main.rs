//! One integration test binary.

mod abi;
mod cli;
mod pipeline;
mod recipes;
mod server;
mod source;
mod support;
