//! The software bill of materials of a build: an SPDX 2.3 JSON document written beside the
//! manifest (`sbom.spdx.json`) that names every artifact with its sha256, and what went
//! into it: the recipe's source (URL, Debian source package, sha256), each patch, every
//! library linked in (with its own source and patches) and the toolchain.
//!
//! The document is a function of the manifest: [`Material`]s are recorded there at build
//! time, so a build restored from the build cache gets the same bill.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Manifest, PatchEntry};
use crate::patch::PatchFile;
use crate::recipe::{Recipe, SourceSpec};

/// The SBOM's file name in the output folder and in release assets.
pub const SBOM: &str = "sbom.spdx.json";

/// One input of a build: the recipe's own source or a dependency.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Material {
    /// Recipe id (`lib/zlib-1.2.13`).
    pub id: String,
    pub name: String,
    pub version: String,
    /// `source` (the recipe built), `library` (linked in), `in-tree` (C sources we own).
    pub role: String,
    /// The material's build identity (the build's own for `source`).
    pub identity: String,
    /// `archive`, `git` or `path`.
    pub source_kind: String,
    /// Where the source comes from: the primary URL, the git URL, or the folder.
    pub location: String,
    /// The release the archive stands for, when it is a Debian orig (never fetched).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream: Option<String>,
    /// `package file` of the Debian source package that carries the same archive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debian: Option<String>,
    /// Archive sha256, git commit, or the folder's content hash.
    pub digest: String,
    pub patches: Vec<PatchEntry>,
}

impl Material {
    pub fn new(
        recipe: &Recipe,
        role: &str,
        identity: &str,
        digest: &str,
        patches: &[PatchFile],
    ) -> Self {
        let (source_kind, location, upstream, debian) = match &recipe.source {
            SourceSpec::Archive(archive) => (
                "archive",
                archive.urls.first().cloned().unwrap_or_default(),
                archive.upstream.clone(),
                archive
                    .debian
                    .as_ref()
                    .map(|d| format!("{} {}", d.package, d.file)),
            ),
            SourceSpec::Git(git) => ("git", format!("{}@{}", git.url, git.tag), None, None),
            SourceSpec::Path(path) => ("path", path.path.clone(), None, None),
        };
        Material {
            id: recipe.id.to_string(),
            name: recipe.name.clone(),
            version: recipe.version.clone(),
            role: role.into(),
            identity: identity.into(),
            source_kind: source_kind.into(),
            location,
            upstream,
            debian,
            digest: digest.into(),
            patches: patches
                .iter()
                .map(|p| PatchEntry {
                    set: p.set.clone(),
                    path: p.path.clone(),
                    sha256: p.sha256.clone(),
                })
                .collect(),
        }
    }
}

/// An SPDX element id: letters, digits, `.` and `-` only.
fn spdx_id(kind: &str, name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("SPDXRef-{kind}-{clean}")
}

fn sha256(value: &str) -> Value {
    json!([{ "algorithm": "SHA256", "checksumValue": value }])
}

/// The SPDX 2.3 document for a published build. `created` is an RFC 3339 UTC time.
pub fn spdx(manifest: &Manifest, created: &str) -> Value {
    let mut packages = Vec::new();
    let mut relationships = Vec::new();
    let relate = |a: &str, kind: &str, b: &str| json!({ "spdxElementId": a, "relationshipType": kind, "relatedSpdxElement": b });
    let artifact_ids: Vec<String> = manifest
        .artifacts
        .iter()
        .map(|a| spdx_id("Artifact", &a.path))
        .collect();
    for (artifact, id) in manifest.artifacts.iter().zip(&artifact_ids) {
        packages.push(json!({
            "SPDXID": id,
            "name": artifact.path,
            "versionInfo": manifest.build_identity,
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": false,
            "checksums": sha256(&artifact.sha256),
            "primaryPackagePurpose": if artifact.path.ends_with(".a") { "LIBRARY" } else { "APPLICATION" },
            "comment": format!("{} for {}, built by wlmake from {} ({})", artifact.name, manifest.runtime, manifest.recipe.id, manifest.recipe.file),
        }));
        relationships.push(relate("SPDXRef-DOCUMENT", "DESCRIBES", id));
    }
    for material in &manifest.materials {
        let id = spdx_id("Source", &material.id);
        let mut package = json!({
            "SPDXID": id,
            "name": material.name,
            "versionInfo": material.version,
            "downloadLocation": if material.source_kind == "path" || material.location.is_empty() { "NOASSERTION".to_string() } else { material.location.clone() },
            "filesAnalyzed": false,
            "primaryPackagePurpose": if material.role == "library" { "LIBRARY" } else { "SOURCE" },
            "comment": format!("{} ({}), build identity {}", material.id, material.role, material.identity),
        });
        let mut info = Vec::new();
        if material.source_kind == "archive" {
            package["checksums"] = sha256(&material.digest);
        } else {
            info.push(format!("{} {}", material.source_kind, material.digest));
        }
        if material.source_kind == "path" {
            info.push(format!(
                "folder {} in the wlmake repository",
                material.location
            ));
        }
        if let Some(debian) = &material.debian {
            info.push(format!(
                "the same archive as Debian source package {debian}"
            ));
        }
        if let Some(upstream) = &material.upstream {
            info.push(format!("upstream release {upstream}"));
        }
        if !info.is_empty() {
            package["sourceInfo"] = json!(info.join("; "));
        }
        packages.push(package);
        let kind = match material.role.as_str() {
            "library" => "STATIC_LINK",
            _ => "GENERATED_FROM",
        };
        for artifact in &artifact_ids {
            relationships.push(relate(artifact, kind, &id));
        }
        for patch in &material.patches {
            let patch_id = spdx_id("Patch", &patch.path);
            packages.push(json!({
                "SPDXID": patch_id,
                "name": patch.path,
                "downloadLocation": "NOASSERTION",
                "filesAnalyzed": false,
                "checksums": sha256(&patch.sha256),
                "primaryPackagePurpose": "SOURCE",
                "comment": format!("patch ({} set) applied to {}", patch.set, material.id),
            }));
            relationships.push(relate(&patch_id, "PATCH_APPLIED", &id));
        }
    }
    let toolchain = &manifest.toolchain;
    let tool_id = "SPDXRef-Toolchain";
    let versions = toolchain
        .get("versions")
        .map(|v| v.to_string())
        .unwrap_or_default();
    packages.push(json!({
        "SPDXID": tool_id,
        "name": "wasm32-wasi toolchain (clang, wasm-ld, wasi-libc)",
        "versionInfo": toolchain.get("identity").and_then(Value::as_str).unwrap_or("unknown"),
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": false,
        "primaryPackagePurpose": "APPLICATION",
        "comment": format!("target {}; tool versions {versions}", toolchain.get("target").and_then(Value::as_str).unwrap_or("?")),
    }));
    for artifact in &artifact_ids {
        relationships.push(relate(tool_id, "BUILD_TOOL_OF", artifact));
    }
    json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": format!("{} for {}", manifest.recipe.id, manifest.runtime),
        "documentNamespace": format!("urn:wlmake:build:{}", manifest.build_identity),
        "creationInfo": {
            "created": created,
            "creators": [format!("Tool: wlmake-{}", manifest.wlmake_version)],
        },
        "packages": packages,
        "relationships": relationships,
    })
}

/// Now as `YYYY-MM-DDTHH:MM:SSZ`, or the time `SOURCE_DATE_EPOCH` names (reproducible
/// documents).
pub fn created_now() -> String {
    let seconds = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0)
        });
    rfc3339(seconds)
}

/// Seconds since the epoch as an RFC 3339 UTC time (civil-from-days, proleptic Gregorian).
fn rfc3339(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let rest = seconds.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_796_083_199), "2026-11-30T23:59:59Z");
    }

    #[test]
    fn ids_keep_only_what_spdx_allows() {
        assert_eq!(
            spdx_id("Patch", "patches/php/8.2/common/0001-x_y.patch"),
            "SPDXRef-Patch-patches-php-8.2-common-0001-x-y.patch"
        );
    }
}
