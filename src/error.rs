//! Rendering errors for people: `error:` / `Caused by:` / `hint:`.
//!
//! Each module has its own error enum with a `hint()`; the first hint found along the
//! cause chain is shown.

use crate::bench::BenchError;
use crate::build::library::LibraryError;
use crate::build::profile::ProfileError;
use crate::container::ContainerError;
use crate::output::OutputError;
use crate::patch::PatchError;
use crate::patch::WorkspaceError;
use crate::patch::check::CheckError;
use crate::patch::scaffold::ScaffoldError;
use crate::process::ProcessError;
use crate::recipe::RecipeError;
use crate::recipe::graph::GraphError;
use crate::release::ReleaseError;
use crate::runtime::RuntimeError;
use crate::runtime::abi::AbiError;
use crate::runtime::precompile::PrecompileError;
use crate::source::SourceError;
use crate::store::StoreError;
use crate::store::remote::RemoteError;
use crate::suite::SuiteError;
use crate::toolchain::ToolchainError;

/// An error that already said what it had to say (e.g. lint's list): exit non-zero
/// without another message.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Reported(pub String);

/// Smoke tests or an upstream suite found failures (already listed on stdout).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TestsFailed(pub String);

/// The documented exit codes (README "Exit codes").
pub mod exit {
    /// A build, fetch or other step failed.
    pub const FAILURE: i32 = 1;
    /// Bad input: a recipe, a flag, an environment variable.
    pub const BAD_INPUT: i32 = 2;
    /// Tests ran and some failed (smoke tests, an upstream suite's regressions).
    pub const TESTS_FAILED: i32 = 3;
    /// A tool wlmake needs is missing: toolchain, runtime, native PHP, container engine.
    pub const MISSING_TOOL: i32 = 4;
}

/// Which exit code an error gets (see [`exit`]); the first kind found along the cause
/// chain decides.
pub fn exit_code(error: &anyhow::Error) -> i32 {
    for cause in error.chain() {
        if cause.downcast_ref::<RecipeError>().is_some()
            || cause.downcast_ref::<GraphError>().is_some()
            || cause
                .downcast_ref::<ReleaseError>()
                .is_some_and(ReleaseError::is_bad_input)
        {
            return exit::BAD_INPUT;
        }
        if let Some(error) = cause.downcast_ref::<RuntimeError>() {
            return match error {
                RuntimeError::NotFound { .. } => exit::MISSING_TOOL,
                _ => exit::BAD_INPUT,
            };
        }
        if cause.downcast_ref::<TestsFailed>().is_some()
            || matches!(
                cause.downcast_ref::<SuiteError>(),
                Some(SuiteError::Regressions { .. })
            )
        {
            return exit::TESTS_FAILED;
        }
        if matches!(
            cause.downcast_ref::<ToolchainError>(),
            Some(ToolchainError::NotFound { .. } | ToolchainError::BadWasiSdk(_))
        ) || matches!(
            cause.downcast_ref::<ProfileError>(),
            Some(ProfileError::NoWasmOpt { .. })
        ) || matches!(
            cause.downcast_ref::<SuiteError>(),
            Some(SuiteError::NoNativePhp | SuiteError::NoTimeoutProgram)
        ) || matches!(
            cause.downcast_ref::<ContainerError>(),
            Some(ContainerError::NoEngine { .. } | ContainerError::Unusable { .. })
        ) {
            return exit::MISSING_TOOL;
        }
    }
    exit::FAILURE
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
        BenchError,
        RecipeError,
        GraphError,
        LibraryError,
        ProfileError,
        SourceError,
        PatchError,
        WorkspaceError,
        CheckError,
        ScaffoldError,
        ProcessError,
        PrecompileError,
        ToolchainError,
        OutputError,
        RuntimeError,
        AbiError,
        ContainerError,
        ReleaseError,
        SuiteError,
        StoreError,
        RemoteError
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
    fn exit_codes_follow_the_error_kind_along_the_chain() {
        let code = |error: anyhow::Error| exit_code(&error.context("while doing something"));
        assert_eq!(
            code(RuntimeError::Unknown("x".into()).into()),
            exit::BAD_INPUT
        );
        assert_eq!(
            code(
                RuntimeError::NotFound {
                    name: crate::runtime::Kind::Wasmedge,
                    variable: "WLMAKE_WASMEDGE"
                }
                .into()
            ),
            exit::MISSING_TOOL
        );
        assert_eq!(
            code(
                ToolchainError::NotFound {
                    missing: "clang".into()
                }
                .into()
            ),
            exit::MISSING_TOOL
        );
        assert_eq!(code(SuiteError::NoNativePhp.into()), exit::MISSING_TOOL);
        assert_eq!(
            code(TestsFailed("2 smoke test(s) failed".into()).into()),
            exit::TESTS_FAILED
        );
        assert_eq!(
            code(
                SuiteError::Regressions {
                    unexpected: 1,
                    now_passing: 0,
                    list: "x.txt".into()
                }
                .into()
            ),
            exit::TESTS_FAILED
        );
        assert_eq!(code(anyhow::anyhow!("make failed")), exit::FAILURE);
    }

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
