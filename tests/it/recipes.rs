//! Every recipe in the repository parses and validates, so a typo never lands.

use std::path::Path;

use wlmake::recipe::{Repository, SourceSpec};
use wlmake::runtime::Kind;

fn repository() -> Repository {
    Repository::at(Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf())
}

#[test]
fn every_recipe_in_the_repository_is_valid() {
    let repo = repository();
    let recipes = match repo.load_all() {
        Ok(recipes) => recipes,
        Err(problems) => panic!(
            "invalid recipes:\n{}",
            problems
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        ),
    };
    let ids: Vec<&str> = recipes.iter().map(|r| r.id.0.as_str()).collect();
    for wanted in ["php/php-7.4.32", "php/php-7.4.33", "php/php-8.2.32"] {
        assert!(ids.contains(&wanted), "missing {wanted} in {ids:?}");
    }
}

#[test]
fn php_recipes_carry_the_upstream_checksums() {
    let repo = repository();
    for (id, sha256, debian) in [
        (
            "php/php-7.4.32",
            "323332c991e8ef30b1d219cb10f5e30f11b5f319ce4c6642a5470d75ade7864a",
            None,
        ),
        (
            "php/php-7.4.33",
            "924846abf93bc613815c55dd3f5809377813ac62a9ec4eb3778675b82a27b927",
            Some("php7.4"),
        ),
        (
            "php/php-8.2.32",
            "e02aa173c236c12791696254d607da680e6d5516f8f5c2339642de7c4f944bd2",
            Some("php8.2"),
        ),
    ] {
        let recipe = repo.load(id).unwrap();
        let SourceSpec::Archive(archive) = &recipe.source else {
            panic!("{id} is not an archive source")
        };
        assert_eq!(archive.sha256.as_str(), sha256, "{id}");
        assert_eq!(
            archive.debian.as_ref().map(|d| d.package.as_str()),
            debian,
            "{id}"
        );
        assert!(archive.urls[0].starts_with("https://www.php.net/"), "{id}");
        assert_eq!(recipe.runtimes, [Kind::Wasmtime, Kind::Wasmedge], "{id}");
    }
}

#[test]
fn the_python_recipe_pins_python_orgs_release_and_uses_the_shared_libraries() {
    let recipe = repository().load("python/python-3.11.2").unwrap();
    let SourceSpec::Archive(archive) = &recipe.source else {
        panic!("not an archive source")
    };
    assert_eq!(
        archive.sha256.as_str(),
        "2411c74bda5bbcfcddaf4531f66d1adc73f247f529aee981b029513aefdbf849"
    );
    assert!(archive.urls[0].starts_with("https://www.python.org/ftp/python/3.11.2/"));
    assert_eq!(
        archive.debian.as_ref().map(|d| d.file.as_str()),
        Some("python3.11_3.11.2.orig.tar.gz")
    );
    assert_eq!(recipe.runtimes, [Kind::Wasmtime, Kind::Wasmedge]);
    let depends: Vec<&str> = recipe.build.depends.iter().map(|d| d.0.as_str()).collect();
    assert_eq!(depends, ["lib/zlib-1.2.13", "lib/sqlite3-3.40.1"]);
    assert!(recipe.native.is_some() && recipe.build.config_site.is_some());
    let mounts: Vec<_> = recipe
        .artifacts
        .iter()
        .filter_map(|a| a.mount.as_deref())
        .collect();
    assert_eq!(
        mounts,
        [
            "/usr/local/lib/python3.11",
            "/usr/local/lib/python3.11/lib-dynload"
        ]
    );
}

/// The release path has no language-specific code: the matrix lists Python's flavors
/// as it lists PHP's.
#[test]
fn the_release_matrix_includes_python() {
    let out = assert_cmd::Command::cargo_bin("wlmake")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["matrix", "--json", "--language", "python"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let matrix: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = matrix.to_string();
    for runtime in ["wasmtime", "wasmedge"] {
        assert!(
            matrix["include"]
                .as_array()
                .unwrap()
                .iter()
                .any(|row| row.to_string().contains("python/python-3.11.2")
                    && row.to_string().contains(runtime)),
            "{text}"
        );
    }
}
