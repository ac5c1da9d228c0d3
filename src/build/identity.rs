//! A build's identity: sha256 over every input that can change its result. Equal
//! identity means an equal build, which is what lets the build cache hand out a build
//! made in another checkout, on another machine, or by a CI runner (docs/cache.md).
//!
//! Nothing machine- or checkout-specific goes in: paths are relative to the repository,
//! the source is named by its digest, and the toolchain by its tool paths and versions.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::output::DependencyEntry;
use crate::runtime::Kind;

/// Bump when what a build does changes in a way that must invalidate earlier builds
/// (a new step, another way of calling configure, a changed view of the toolchain...).
/// 2: dependency identities became recursive and carry the runtime.
/// 3: the manifest lists the build's materials (its bill of materials comes from them).
/// 4: hermetic steps (cleared environment, fixed PATH, no network).
/// 5: reproducible: SOURCE_DATE_EPOCH, `-ffile-prefix-map`, `./configure`, pkg-config
///    through a wrapper (docs/reproducibility.md).
pub const BUILD_LOGIC_VERSION: u32 = 5;

/// The profile part of a release build's identity (and of in-tree dependencies, always
/// built as release): the value every build had before profiles existed
/// (src/build/profile.rs), kept so that their identities did not change.
pub const DEFAULT_PROFILE: &str = "default";

/// Everything a build's result depends on.
#[derive(Debug, Clone, Serialize)]
pub struct IdentityInputs<'a> {
    pub build_logic: u32,
    /// sha256 of the recipe file.
    pub recipe: &'a str,
    pub runtime: Kind,
    /// Archive sha256, pinned git commit, or content hash of an in-repository folder.
    pub source: &'a str,
    /// (path relative to the repository, sha256) of each patch, in the order applied.
    pub patches: Vec<(&'a str, &'a str)>,
    /// Direct dependencies, each with its own (recursive) identity.
    pub dependencies: &'a [DependencyEntry],
    /// The toolchain's identity: layout, tool paths and versions, view version.
    pub toolchain: &'a str,
    pub profile: &'a str,
}

/// sha256 (64 hex digits) of the inputs.
pub fn identity(inputs: &IdentityInputs<'_>) -> String {
    let text = serde_json::to_string(inputs).expect("serializable");
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base_dependencies() -> Vec<DependencyEntry> {
        vec![DependencyEntry {
            id: "lib/wasi-compat-1.0".into(),
            identity: "1".repeat(64),
        }]
    }

    fn base<'a>(dependencies: &'a [DependencyEntry]) -> IdentityInputs<'a> {
        IdentityInputs {
            build_logic: BUILD_LOGIC_VERSION,
            recipe: "recipe-sha",
            runtime: Kind::Wasmtime,
            source: "source-sha",
            patches: vec![("patches/php/8.2/common/0001-a.patch", "patch-sha")],
            dependencies,
            toolchain: "toolchain-id",
            profile: DEFAULT_PROFILE,
        }
    }

    #[test]
    fn the_identity_is_stable_and_has_no_folder_in_it() {
        let deps = base_dependencies();
        let inputs = base(&deps);
        let first = identity(&inputs);
        assert_eq!(first, identity(&inputs.clone()));
        assert_eq!(first.len(), 64);
        let text = serde_json::to_string(&inputs).unwrap();
        assert!(!text.contains("/tmp") && !text.contains("/work"), "{text}");
    }

    /// Pins the identity of a release build: builds made before profiles existed (profile
    /// `"default"`) must keep their identity, or every warm build store would miss.
    #[test]
    fn a_release_build_keeps_the_identity_it_had_before_profiles() {
        let deps = base_dependencies();
        let release = crate::build::profile::ResolvedProfile::resolve(
            crate::build::profile::Profile::Release,
            None,
            std::path::Path::new("/nowhere"),
        )
        .unwrap()
        .identity();
        let inputs = IdentityInputs {
            profile: &release,
            ..base(&deps)
        };
        assert_eq!(
            identity(&inputs),
            "619558728017e8b5d337eb5ebc966c9d6476016ba3c3d8cf6b7180a94c36e278"
        );
    }

    /// Each input, changed alone, changes the identity: the cache then misses.
    #[test]
    fn every_input_changes_the_identity() {
        let deps = base_dependencies();
        let original = identity(&base(&deps));
        let other_dep = vec![DependencyEntry {
            id: "lib/wasi-compat-1.0".into(),
            identity: "2".repeat(64),
        }];
        let extra_dep = {
            let mut more = base_dependencies();
            more.push(DependencyEntry {
                id: "lib/wasmedge-sockets-1.0".into(),
                identity: "3".repeat(64),
            });
            more
        };
        let changes: Vec<(&str, IdentityInputs<'_>)> = vec![
            (
                "build logic",
                IdentityInputs {
                    build_logic: BUILD_LOGIC_VERSION + 1,
                    ..base(&deps)
                },
            ),
            (
                "recipe",
                IdentityInputs {
                    recipe: "recipe-sha-2",
                    ..base(&deps)
                },
            ),
            (
                "runtime",
                IdentityInputs {
                    runtime: Kind::Wasmedge,
                    ..base(&deps)
                },
            ),
            (
                "source",
                IdentityInputs {
                    source: "source-sha-2",
                    ..base(&deps)
                },
            ),
            (
                "patch content",
                IdentityInputs {
                    patches: vec![("patches/php/8.2/common/0001-a.patch", "patch-sha-2")],
                    ..base(&deps)
                },
            ),
            (
                "patch name",
                IdentityInputs {
                    patches: vec![("patches/php/8.2/common/0002-a.patch", "patch-sha")],
                    ..base(&deps)
                },
            ),
            (
                "no patches",
                IdentityInputs {
                    patches: vec![],
                    ..base(&deps)
                },
            ),
            (
                "dependency identity",
                IdentityInputs {
                    dependencies: &other_dep,
                    ..base(&deps)
                },
            ),
            (
                "one more dependency",
                IdentityInputs {
                    dependencies: &extra_dep,
                    ..base(&deps)
                },
            ),
            (
                "no dependency",
                IdentityInputs {
                    dependencies: &[],
                    ..base(&deps)
                },
            ),
            (
                "toolchain",
                IdentityInputs {
                    toolchain: "toolchain-id-2",
                    ..base(&deps)
                },
            ),
            (
                "profile",
                IdentityInputs {
                    profile: "debug",
                    ..base(&deps)
                },
            ),
        ];
        let mut seen = std::collections::BTreeSet::from([original.clone()]);
        for (what, inputs) in changes {
            let changed = identity(&inputs);
            assert_ne!(changed, original, "changing the {what} kept the identity");
            assert!(seen.insert(changed), "changing the {what} collided");
        }
    }
}
