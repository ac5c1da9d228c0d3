//! One integration test binary.

mod cli;
mod pipeline;
mod recipes;
mod source;
mod support;
