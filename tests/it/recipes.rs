//! Every recipe in the repository parses and validates, so a typo never lands.

use std::path::Path;

use wlmake::recipe::{Repository, SourceSpec};

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
        assert_eq!(recipe.runtimes, ["wasmtime", "wasmedge"], "{id}");
    }
}
