//! Rendering errors for people: `error:` / `Caused by:` / `hint:`.
//!
//! Each module has its own error enum with a `hint()`; the first hint found along the
//! cause chain is shown.

use crate::build::library::LibraryError;
use crate::commands::release::ReleaseError;
use crate::container::ContainerError;
use crate::output::OutputError;
use crate::patch::PatchError;
use crate::patch::WorkspaceError;
use crate::patch::check::CheckError;
use crate::patch::scaffold::ScaffoldError;
use crate::process::ProcessError;
use crate::recipe::RecipeError;
use crate::recipe::graph::GraphError;
use crate::runtime::RuntimeError;
use crate::runtime::abi::AbiError;
use crate::source::SourceError;
use crate::suite::SuiteError;
use crate::toolchain::ToolchainError;

/// An error that already said what it had to say (e.g. lint's list): exit non-zero
/// without another message.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Reported(pub String);

/// Which exit code an error gets: 2 for bad input (recipes, flags), 1 otherwise.
pub fn exit_code(error: &anyhow::Error) -> i32 {
    let bad_input = error.chain().any(|cause| {
        cause.downcast_ref::<RecipeError>().is_some()
            || cause.downcast_ref::<GraphError>().is_some()
            || cause.downcast_ref::<RuntimeError>().is_some()
            || cause
                .downcast_ref::<ReleaseError>()
                .is_some_and(ReleaseError::is_bad_input)
    });
    if bad_input { 2 } else { 1 }
}

fn hint_of(cause: &(dyn std::error::Error + 'static)) -> Option<String> {
    macro_rules! try_hint {
        ($($kind:ty),*) => {
            $(if let Some(error) = cause.downcast_ref::<$kind>() {
                return error.hint();
            })*
        };
    }
    try_hint!(
        RecipeError,
        GraphError,
        LibraryError,
        SourceError,
        PatchError,
        WorkspaceError,
        CheckError,
        ScaffoldError,
        ProcessError,
        ToolchainError,
        OutputError,
        RuntimeError,
        AbiError,
        ContainerError,
        ReleaseError,
        SuiteError
    );
    None
}

/// `error: <top>` then `Caused by:` lines for each cause, then the first `hint:`.
pub fn render(error: &anyhow::Error) -> String {
    let mut out = format!("error: {error}\n");
    let causes: Vec<_> = error.chain().skip(1).collect();
    if !causes.is_empty() {
        out.push_str("Caused by:\n");
        for cause in &causes {
            let text = cause.to_string();
            let mut lines = text.lines();
            out.push_str(&format!("  {}\n", lines.next().unwrap_or_default()));
            for line in lines {
                out.push_str(&format!("    {line}\n"));
            }
        }
    }
    if let Some(hint) = error.chain().find_map(hint_of) {
        out.push_str(&format!("hint: {hint}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn render_shows_causes_and_the_first_hint() {
        let error: anyhow::Result<()> = Err(RuntimeError::Unknown("nodejs".into()).into());
        let error = error.context("cannot run php/php-7.4.33").unwrap_err();
        insta::assert_snapshot!(render(&error), @r"
        error: cannot run php/php-7.4.33
        Caused by:
          unknown runtime `nodejs`
        hint: known runtimes: wasmtime, wasmedge
        ");
        assert_eq!(exit_code(&error), 2);
    }
}
