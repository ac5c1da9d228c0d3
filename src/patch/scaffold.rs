//! `wlmake new`: a recipe for a new release, made from an existing recipe of the language.
//!
//! The text of the existing recipe is kept (settings, tests, comments inside), with the
//! version replaced everywhere it appears as a version (URLs, strip prefix, test patterns,
//! also regex-escaped), and the checksum (or pinned commit) replaced by a placeholder that
//! `wlmake lint` refuses, so the recipe cannot be used before someone verified the new
//! archive. With `--patches DIR` the patch sets point at new folders (created empty).

use std::path::{Path, PathBuf};

use crate::recipe::{Recipe, Repository, SourceSpec};

#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    #[error("`{id}` is not a recipe id of the form <language>/<name>-<version>")]
    BadId { id: String },
    #[error("a new recipe stays in the language of `{from}`: `{id}` is not a `{language}` recipe")]
    OtherLanguage {
        id: String,
        from: String,
        language: String,
    },
    #[error("recipe `{}` already exists", path.display())]
    Exists { path: PathBuf },
    #[error("cannot {action} `{}`", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl ScaffoldError {
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::BadId { .. } => {
                Some("for example `wlmake new php/php-7.4.34 --from php/php-7.4.33`".into())
            }
            Self::OtherLanguage { .. } => Some(
                "copy a recipe of the new language instead, or write one (docs/recipes.md)".into(),
            ),
            Self::Exists { .. } => Some("edit it, or pass --force to replace it".into()),
            Self::Io { .. } => None,
        }
    }
}

/// A recipe ready to write.
#[derive(Debug)]
pub struct Scaffold {
    pub id: String,
    pub path: PathBuf,
    pub text: String,
    /// Patch folders to create (repository-relative).
    pub folders: Vec<String>,
    /// What the user still has to do.
    pub todo: Vec<String>,
}

/// Replaces `old` by `new` where it is not part of a longer number (`7.4.33` but not
/// `17.4.330`).
fn replace_version(text: &str, old: &str, new: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(position) = rest.find(old) {
        let before = rest[..position].chars().next_back();
        let after = rest[position + old.len()..].chars().next();
        let inside_number = before.is_some_and(|c| c.is_ascii_digit() || c == '.')
            || after.is_some_and(|c| c.is_ascii_digit());
        out.push_str(&rest[..position]);
        out.push_str(if inside_number { old } else { new });
        rest = &rest[position + old.len()..];
    }
    out.push_str(rest);
    out
}

/// `key = ...` on a TOML line (whitespace allowed).
fn is_key(line: &str, key: &str) -> bool {
    line.trim_start()
        .strip_prefix(key)
        .is_some_and(|rest| rest.trim_start().starts_with('='))
}

/// The folder the recipe's patch folders share (`patches/php/7.4`).
fn shared_patch_root(recipe: &Recipe) -> Option<String> {
    let folders: Vec<&str> = recipe
        .patches
        .common
        .iter()
        .chain(recipe.patches.runtime.values())
        .map(String::as_str)
        .collect();
    let first = folders.first()?;
    let mut root = Path::new(first).parent()?.to_path_buf();
    while !folders.iter().all(|f| Path::new(f).starts_with(&root)) {
        root = root.parent()?.to_path_buf();
    }
    Some(root.to_string_lossy().into_owned())
}

/// Makes the new recipe's text from `from`.
pub fn scaffold(
    repository: &Repository,
    from: &Recipe,
    id: &str,
    patches: Option<&str>,
) -> Result<Scaffold, ScaffoldError> {
    let bad = || ScaffoldError::BadId { id: id.to_string() };
    let (language, stem) = id.split_once('/').ok_or_else(bad)?;
    if language.is_empty() || stem.is_empty() || id.contains("..") || stem.contains('/') {
        return Err(bad());
    }
    if language != from.language {
        return Err(ScaffoldError::OtherLanguage {
            id: id.to_string(),
            from: from.id.to_string(),
            language: from.language.clone(),
        });
    }
    let (name, version) = match stem.strip_prefix(&format!("{}-", from.name)) {
        Some(version) if !version.is_empty() => (from.name.clone(), version.to_string()),
        _ => {
            let (name, version) = stem.rsplit_once('-').ok_or_else(bad)?;
            (name.to_string(), version.to_string())
        }
    };
    let path = repository
        .root()
        .join("recipes")
        .join(language)
        .join(format!("{stem}.toml"));
    let original = std::fs::read_to_string(&from.file).map_err(|source| ScaffoldError::Io {
        action: "read",
        path: from.file.clone(),
        source,
    })?;

    let old = &from.version;
    let mut text = replace_version(&original, old, &version);
    // Regex-escaped in test patterns: `7\\.4\\.33` in basic strings, `7\.4\.33` in literal ones.
    for escape in ["\\\\.", "\\."] {
        text = replace_version(
            &text,
            &old.replace('.', escape),
            &version.replace('.', escape),
        );
    }

    let mut todo = Vec::new();
    let (placeholder_key, placeholder) = match &from.source {
        SourceSpec::Archive(archive) => {
            let file = replace_version(&archive.file_name, old, &version);
            todo.push(format!(
                "fill in source.sha256 with the sha256 of {file} (`sha256sum {file}`); `wlmake lint` fails until then"
            ));
            todo.push("check the URLs (and the Debian source package, if any)".to_string());
            ("sha256", format!("FILL-IN: sha256 of {file}"))
        }
        SourceSpec::Git(git) => {
            let tag = replace_version(&git.tag, old, &version);
            todo.push(format!(
                "fill in source.commit with the commit of tag {tag} (`git rev-parse {tag}^{{commit}}`); `wlmake lint` fails until then"
            ));
            ("commit", format!("FILL-IN: the commit of tag {tag}"))
        }
        SourceSpec::Path(path) => {
            todo.push(format!(
                "the source is the folder {}: point it at the new version's sources",
                path.path
            ));
            ("", String::new())
        }
    };

    let old_root = shared_patch_root(from);
    let mut folders = Vec::new();
    let mut section = String::new();
    let mut lines = Vec::new();
    let mut header_done = false;
    for line in text.lines() {
        // The original's leading comment describes the original release: replaced.
        if !header_done && line.trim_start().starts_with('#') {
            continue;
        }
        header_done = true;
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            section = trimmed
                .trim_start_matches('[')
                .trim_end_matches(']')
                .trim()
                .to_string();
        }
        let mut line = line.to_string();
        if section == "package" && is_key(&line, "name") {
            line = format!("name = \"{name}\"");
        } else if section == "package" && is_key(&line, "version") {
            line = format!("version = \"{version}\"");
        } else if section == "source"
            && !placeholder_key.is_empty()
            && is_key(&line, placeholder_key)
        {
            line = format!("{placeholder_key} = \"{placeholder}\"");
        } else if section.starts_with("patches")
            && let (Some(new_root), Some(old_root)) = (patches, old_root.as_deref())
        {
            let new_root = new_root.trim_end_matches('/');
            let quoted = format!("\"{old_root}/");
            if line.contains(&quoted) {
                line = line.replace(&quoted, &format!("\"{new_root}/"));
                if let Some(folder) = line.split('"').nth(1) {
                    folders.push(folder.to_string());
                }
            }
        }
        lines.push(line);
    }
    let mut header = format!(
        "# {} {version}: made by `wlmake new {id} --from {}`.\n",
        name, from.id
    );
    for item in &todo {
        header.push_str(&format!("# TODO: {item}.\n"));
    }
    if patches.is_none() && (from.patches.common.is_some() || !from.patches.runtime.is_empty()) {
        header.push_str(&format!(
            "# The patch sets are {}'s; `wlmake patch check {id}` tells whether they apply.\n",
            from.id
        ));
    }
    let text = header + &lines.join("\n") + "\n";
    todo.push(format!(
        "then run `wlmake lint` and `wlmake patch check {id}`"
    ));
    Ok(Scaffold {
        id: id.to_string(),
        path,
        text,
        folders,
        todo,
    })
}

/// Writes the recipe and creates the new patch folders (each with a `.keep`).
pub fn write(
    repository: &Repository,
    scaffold: &Scaffold,
    force: bool,
) -> Result<(), ScaffoldError> {
    if scaffold.path.exists() && !force {
        return Err(ScaffoldError::Exists {
            path: scaffold.path.clone(),
        });
    }
    let io = |action, path: &Path| {
        let path = path.to_path_buf();
        move |source| ScaffoldError::Io {
            action,
            path,
            source,
        }
    };
    for folder in &scaffold.folders {
        let dir = repository.root().join(folder);
        std::fs::create_dir_all(&dir).map_err(io("create folder", &dir))?;
        let keep = dir.join(".keep");
        let empty = std::fs::read_dir(&dir)
            .map_err(io("read folder", &dir))?
            .next()
            .is_none();
        if empty {
            std::fs::write(&keep, "").map_err(io("write", &keep))?;
        }
    }
    if let Some(parent) = scaffold.path.parent() {
        std::fs::create_dir_all(parent).map_err(io("create folder", parent))?;
    }
    std::fs::write(&scaffold.path, &scaffold.text).map_err(io("write", &scaffold.path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_replaced_only_as_whole_versions() {
        assert_eq!(
            replace_version(
                "php-7.4.33.tar.xz 17.4.33 7.4.330 x7.4.33",
                "7.4.33",
                "7.4.34"
            ),
            "php-7.4.34.tar.xz 17.4.33 7.4.330 x7.4.34"
        );
        assert_eq!(
            replace_version("^PHP 7\\\\.4\\\\.33 ", "7\\\\.4\\\\.33", "7\\\\.4\\\\.34"),
            "^PHP 7\\\\.4\\\\.34 "
        );
    }
}
