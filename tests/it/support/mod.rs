//! Helpers for the integration tests: a real HTTP server, real archives, real git
//! repositories, and a reporter that records what it is told.

#![allow(dead_code)]

pub mod archive;
pub mod git;
pub mod http;
pub mod reporter;

use sha2::Digest;

/// Lowercase hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}
