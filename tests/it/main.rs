//! One integration test binary.

mod abi;
mod cli;
mod pipeline;
mod recipes;
mod source;
mod support;
