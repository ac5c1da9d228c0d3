//! Recipes: the TOML files under `recipes/<language>/`.
//!
//! Two layers: [`raw`] mirrors the TOML (serde, unknown keys refused), [`validate`]
//! turns it into the [`model`] the rest of wlmake uses.

pub mod diagnostic;
pub mod graph;
pub mod model;
pub mod raw;
pub mod repository;
pub mod validate;

pub use diagnostic::Diagnostic;
pub use model::*;
pub use repository::{RecipeError, Repository};
