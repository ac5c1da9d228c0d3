//! Where two builds of an artifact differ (`wlmake build --check`): for WebAssembly
//! modules the sections that differ and, in the code section, the functions (by index
//! and, when the module has a name section, by name); for other files the first
//! differing byte.

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Serialize;
use wasmparser::{KnownCustom, Name, Parser, Payload, TypeRef};

use super::{Manifest, OutputError};

/// How many differing functions a report names at most (the count is always given).
pub const MAX_FUNCTIONS: usize = 10;

/// The difference between a published artifact and its rebuild.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Difference {
    /// Two WebAssembly modules: their differing sections, in module order.
    Wasm { sections: Vec<SectionDifference> },
    /// Other files (or a module that does not parse): the first differing offset.
    Bytes {
        offset: u64,
        published_size: u64,
        rebuilt_size: u64,
    },
}

/// One section that differs between the two modules.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SectionDifference {
    /// `code`, `data`, `custom:name`, ...
    pub section: String,
    pub published_size: u64,
    pub rebuilt_size: u64,
    /// Code section: how many function bodies differ.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub differing_functions: Option<usize>,
    /// Code section: the first of them ([`MAX_FUNCTIONS`] at most).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub functions: Vec<FunctionRef>,
}

/// A function of the module, by index (imports count) and by name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunctionRef {
    pub index: u32,
    pub name: Option<String>,
}

impl std::fmt::Display for FunctionRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.name {
            Some(name) => write!(f, "function {} ({name})", self.index),
            None => write!(f, "function {}", self.index),
        }
    }
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Bytes {
                offset,
                published_size,
                rebuilt_size,
            } => write!(
                f,
                "first difference at byte {offset} (published {published_size} bytes, rebuilt {rebuilt_size} bytes)"
            ),
            Self::Wasm { sections } => {
                let parts: Vec<String> = sections
                    .iter()
                    .map(|s| {
                        let mut text = format!(
                            "section {} (published {} bytes, rebuilt {} bytes)",
                            s.section, s.published_size, s.rebuilt_size
                        );
                        if let Some(count) = s.differing_functions {
                            let names: Vec<String> =
                                s.functions.iter().map(ToString::to_string).collect();
                            text.push_str(&format!(
                                ": {count} function(s) differ: {}{}",
                                names.join(", "),
                                if count > s.functions.len() {
                                    ", ..."
                                } else {
                                    ""
                                }
                            ));
                        }
                        text
                    })
                    .collect();
                write!(f, "{}", parts.join("; "))
            }
        }
    }
}

/// `None` when the bytes are equal.
pub fn compare(published: &[u8], rebuilt: &[u8]) -> Option<Difference> {
    if published == rebuilt {
        return None;
    }
    if published.starts_with(b"\0asm")
        && rebuilt.starts_with(b"\0asm")
        && let (Some(a), Some(b)) = (Module::parse(published), Module::parse(rebuilt))
    {
        let sections = compare_modules(&a, &b);
        if !sections.is_empty() {
            return Some(Difference::Wasm { sections });
        }
    }
    let offset = published
        .iter()
        .zip(rebuilt)
        .position(|(a, b)| a != b)
        .unwrap_or(published.len().min(rebuilt.len()));
    Some(Difference::Bytes {
        offset: offset as u64,
        published_size: published.len() as u64,
        rebuilt_size: rebuilt.len() as u64,
    })
}

/// A module split into sections, with its function bodies and names.
struct Module<'a> {
    /// (section name, its bytes), in order.
    sections: Vec<(String, &'a [u8])>,
    /// Function bodies in the code section, in order.
    bodies: Vec<&'a [u8]>,
    imported_functions: u32,
    names: std::collections::BTreeMap<u32, String>,
}

fn section_name(id: u8) -> &'static str {
    match id {
        1 => "type",
        2 => "import",
        3 => "function",
        4 => "table",
        5 => "memory",
        6 => "global",
        7 => "export",
        8 => "start",
        9 => "element",
        10 => "code",
        11 => "data",
        12 => "data count",
        13 => "tag",
        _ => "unknown",
    }
}

impl<'a> Module<'a> {
    fn parse(bytes: &'a [u8]) -> Option<Self> {
        let mut module = Module {
            sections: Vec::new(),
            bodies: Vec::new(),
            imported_functions: 0,
            names: Default::default(),
        };
        let slice = |range: Range<u64>| bytes.get(range.start as usize..range.end as usize);
        for payload in Parser::new(0).parse_all(bytes) {
            let payload = payload.ok()?;
            match &payload {
                Payload::ImportSection(reader) => {
                    for import in reader.clone().into_imports() {
                        if matches!(import.ok()?.ty, TypeRef::Func(_) | TypeRef::FuncExact(_)) {
                            module.imported_functions += 1;
                        }
                    }
                }
                Payload::CodeSectionEntry(body) => module.bodies.push(slice(body.range())?),
                Payload::CustomSection(reader) => {
                    if let KnownCustom::Name(names) = reader.as_known() {
                        for name in names.into_iter().flatten() {
                            if let Name::Function(map) = name {
                                for naming in map.into_iter().flatten() {
                                    module.names.insert(naming.index, naming.name.to_string());
                                }
                            }
                        }
                    }
                    module
                        .sections
                        .push((format!("custom:{}", reader.name()), slice(reader.range())?));
                    continue;
                }
                _ => {}
            }
            if let Some((id, range)) = payload.as_section() {
                module
                    .sections
                    .push((section_name(id).to_string(), slice(range)?));
            }
        }
        Some(module)
    }
}

fn compare_modules(a: &Module<'_>, b: &Module<'_>) -> Vec<SectionDifference> {
    let mut out = Vec::new();
    let count = a.sections.len().max(b.sections.len());
    for i in 0..count {
        let (name, pa, pb) = match (a.sections.get(i), b.sections.get(i)) {
            (Some((na, pa)), Some((nb, pb))) if na == nb => (na.clone(), *pa, *pb),
            (Some((na, pa)), Some((nb, pb))) => (format!("{na} / {nb}"), *pa, *pb),
            (Some((na, pa)), None) => (format!("{na} (only published)"), *pa, &[][..]),
            (None, Some((nb, pb))) => (format!("{nb} (only rebuilt)"), &[][..], *pb),
            (None, None) => unreachable!("i < the longer length"),
        };
        if pa == pb {
            continue;
        }
        let mut difference = SectionDifference {
            section: name.clone(),
            published_size: pa.len() as u64,
            rebuilt_size: pb.len() as u64,
            differing_functions: None,
            functions: Vec::new(),
        };
        if name == "code" {
            let bodies = a.bodies.len().max(b.bodies.len());
            let differing: Vec<u32> = (0..bodies)
                .filter(|&j| a.bodies.get(j) != b.bodies.get(j))
                .map(|j| a.imported_functions + j as u32)
                .collect();
            difference.differing_functions = Some(differing.len());
            difference.functions = differing
                .iter()
                .take(MAX_FUNCTIONS)
                .map(|&index| FunctionRef {
                    index,
                    name: b.names.get(&index).or(a.names.get(&index)).cloned(),
                })
                .collect();
        }
        out.push(difference);
    }
    out
}

/// One published artifact compared with its rebuild (`wlmake build --check`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactCheck {
    pub name: String,
    /// The artifact's path in the manifest, relative to the build's folder.
    pub path: String,
    /// The published artifact.
    pub published_path: PathBuf,
    pub published_sha256: String,
    /// `None`: the rebuild did not produce it.
    pub rebuilt_sha256: Option<String>,
    /// Where the two differ; `None` when they are identical.
    pub difference: Option<String>,
}

/// Compares every artifact of the `published` build (in `published_dir`) with the one
/// of the same name in the `rebuilt` build (in `rebuilt_dir`).
pub fn compare_builds(
    published_dir: &Path,
    published: &Manifest,
    rebuilt_dir: &Path,
    rebuilt: &Manifest,
) -> Result<Vec<ArtifactCheck>, OutputError> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|source| OutputError::Read {
            path: path.to_path_buf(),
            source,
        })
    };
    let mut checks = Vec::new();
    for artifact in &published.artifacts {
        let again = rebuilt.artifacts.iter().find(|a| a.name == artifact.name);
        let published_path = published_dir.join(&artifact.path);
        let difference = match again {
            None => Some("not produced by the rebuild".to_string()),
            Some(again) if again.sha256 == artifact.sha256 => None,
            Some(again) => {
                let rebuilt_path = rebuilt_dir.join(&again.path);
                if published_path.is_dir() || rebuilt_path.is_dir() {
                    Some("the folder's content differs".to_string())
                } else {
                    compare(&read(&published_path)?, &read(&rebuilt_path)?)
                        .map(|d| d.to_string())
                        .or_else(|| Some("the bytes are equal but the digests differ".into()))
                }
            }
        };
        checks.push(ArtifactCheck {
            name: artifact.name.clone(),
            path: artifact.path.clone(),
            published_path,
            published_sha256: artifact.sha256.clone(),
            rebuilt_sha256: again.map(|a| a.sha256.clone()),
            difference,
        });
    }
    Ok(checks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_bytes_have_no_difference() {
        assert_eq!(compare(b"abc", b"abc"), None);
    }

    #[test]
    fn other_files_name_the_first_differing_byte() {
        assert_eq!(
            compare(b"abcdef", b"abXdef"),
            Some(Difference::Bytes {
                offset: 2,
                published_size: 6,
                rebuilt_size: 6
            })
        );
        assert_eq!(
            compare(b"abc", b"abcd"),
            Some(Difference::Bytes {
                offset: 3,
                published_size: 3,
                rebuilt_size: 4
            })
        );
    }
}
