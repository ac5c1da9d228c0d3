//! The import ABI check: does a linked module import only what its runtime provides,
//! with the right signatures?
//!
//! Each runtime's functions live in a data file, `runtimes/<runtime>[-<versions>].toml`
//! (one `[[import]]` per accepted signature). wasmparser reads a module's imports and
//! exports; `check` compares them with the table. WasmEdge 0.13 to 0.16 bind a socket
//! import of the wrong type anyway and corrupt memory, so for them this is the only guard.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The folder of import tables, relative to the repository root.
pub const TABLES_DIR: &str = "runtimes";

#[derive(Debug, thiserror::Error)]
pub enum AbiError {
    #[error("cannot read `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid import table `{}`:\n{message}", path.display())]
    InvalidTable { path: PathBuf, message: String },
    #[error("no import table for runtime `{name}` in `{}`", dir.display())]
    UnknownRuntime {
        name: String,
        dir: PathBuf,
        known: Vec<String>,
    },
    #[error("several import tables for runtime `{name}`: {}", candidates.join(", "))]
    AmbiguousRuntime {
        name: String,
        candidates: Vec<String>,
    },
    #[error("not a WebAssembly module: {0}")]
    Malformed(String),
    #[error("`{}` is not a WebAssembly module: {reason}", path.display())]
    NotWasm { path: PathBuf, reason: String },
    #[error(
        "`{}` uses a WebAssembly feature runtime {runtime} ({versions}) does not accept: {detail}",
        path.display()
    )]
    Feature {
        path: PathBuf,
        runtime: String,
        versions: String,
        /// The features the table lists.
        accepted: Vec<String>,
        /// The validator's message (names the feature and the offset).
        detail: String,
    },
    #[error(
        "`{}` does not fit runtime {runtime} ({versions}): {} import(s) wrong\n{}",
        path.display(),
        mismatches.len(),
        render_mismatches(mismatches)
    )]
    Mismatch {
        path: PathBuf,
        runtime: String,
        versions: String,
        mismatches: Vec<Mismatch>,
    },
}

impl AbiError {
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Read { .. } | Self::Malformed(_) => None,
            Self::InvalidTable { .. } => Some(format!(
                "each [[import]] needs module, name, params and results; value types are {}",
                ValType::NAMES.join(", ")
            )),
            Self::UnknownRuntime { known, .. } if known.is_empty() => Some(format!(
                "the `{TABLES_DIR}/` folder of the repository holds one table per runtime"
            )),
            Self::UnknownRuntime { known, .. } => {
                Some(format!("tables exist for: {}", known.join(", ")))
            }
            Self::AmbiguousRuntime { candidates, .. } => Some(format!(
                "name one table by its file name, e.g. `{}`",
                candidates[0]
            )),
            Self::NotWasm { .. } => {
                Some("give a linked core module (`wasm32-wasi`); components are not checked".into())
            }
            Self::Mismatch {
                runtime,
                mismatches,
                ..
            } => Some(mismatch_hint(runtime, mismatches)),
            Self::Feature {
                runtime, accepted, ..
            } => Some(format!(
                "runtime {runtime} accepts: {} (`features` in its table in `{TABLES_DIR}/`); build without the compiler flag that enables the feature (e.g. -msimd128), or for a runtime that has it",
                accepted.join(", ")
            )),
        }
    }
}

fn render_mismatches(mismatches: &[Mismatch]) -> String {
    mismatches
        .iter()
        .map(|m| format!("  {m}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn mismatch_hint(runtime: &str, mismatches: &[Mismatch]) -> String {
    let from_env = mismatches
        .iter()
        .any(|m| matches!(m, Mismatch::UnknownModule { module, .. } if module == "env"));
    if from_env {
        return "imports from `env` are symbols nothing defined, left by linking with \
                --allow-undefined: define or stub them (a compat library), or link without \
                the flag to see them as errors"
            .into();
    }
    if mismatches
        .iter()
        .any(|m| matches!(m, Mismatch::WrongSignature { .. }))
    {
        let mut hint = "the import is declared with other parameters than the runtime's: fix \
                        the declaration (an `__attribute__((import_name(...)))` in the source \
                        or a patch) to the expected signature"
            .to_string();
        if runtime == "wasmedge" {
            hint.push_str(
                "; WasmEdge 0.13 to 0.16 do not refuse a wrong socket signature, they corrupt memory",
            );
        }
        return hint;
    }
    format!(
        "runtime {runtime} does not provide these imports: patch out the calls, or build for a \
         runtime that has them (tables in `{TABLES_DIR}/`)"
    )
}

// ---------------------------------------------------------------------------------------
// Signatures

/// A WebAssembly value type, as written in the tables and shown to users.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ValType {
    I32,
    I64,
    F32,
    F64,
    V128,
    FuncRef,
    ExternRef,
    /// Any other reference type found in a module (GC proposal); never in a table.
    Ref(String),
}

impl ValType {
    /// The names a table may use.
    pub const NAMES: [&'static str; 7] =
        ["i32", "i64", "f32", "f64", "v128", "funcref", "externref"];

    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "i32" => Self::I32,
            "i64" => Self::I64,
            "f32" => Self::F32,
            "f64" => Self::F64,
            "v128" => Self::V128,
            "funcref" => Self::FuncRef,
            "externref" => Self::ExternRef,
            _ => return None,
        })
    }

    fn from_wasm(ty: wasmparser::ValType) -> Self {
        use wasmparser::ValType as W;
        match ty {
            W::I32 => Self::I32,
            W::I64 => Self::I64,
            W::F32 => Self::F32,
            W::F64 => Self::F64,
            W::V128 => Self::V128,
            W::Ref(r) if r == wasmparser::RefType::FUNCREF => Self::FuncRef,
            W::Ref(r) if r == wasmparser::RefType::EXTERNREF => Self::ExternRef,
            W::Ref(r) => Self::Ref(r.to_string()),
        }
    }
}

impl fmt::Display for ValType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::I32 => "i32",
            Self::I64 => "i64",
            Self::F32 => "f32",
            Self::F64 => "f64",
            Self::V128 => "v128",
            Self::FuncRef => "funcref",
            Self::ExternRef => "externref",
            Self::Ref(name) => name,
        })
    }
}

impl Serialize for ValType {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A function type: `(i32, i32, i32) -> i32`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct FuncSig {
    pub params: Vec<ValType>,
    pub results: Vec<ValType>,
}

impl fmt::Display for FuncSig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |types: &[ValType]| {
            types
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        write!(f, "({}) -> ", list(&self.params))?;
        match self.results.as_slice() {
            [single] => write!(f, "{single}"),
            many => write!(f, "({})", list(many)),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Tables

/// `runtimes/*.toml` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawTable {
    runtime: String,
    versions: String,
    #[serde(default)]
    tested: Vec<String>,
    /// The WebAssembly features (proposals) the runtime accepts by default.
    #[serde(default)]
    features: Option<Vec<String>>,
    #[serde(rename = "import", default)]
    imports: Vec<RawImport>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawImport {
    module: String,
    name: String,
    params: Vec<String>,
    results: Vec<String>,
    #[serde(default)]
    note: Option<String>,
}

/// One accepted signature of one import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub module: String,
    pub name: String,
    pub signature: FuncSig,
    pub note: Option<String>,
}

/// A runtime's import table: every function it provides, with each accepted signature.
#[derive(Debug, Clone, Serialize)]
pub struct Table {
    pub runtime: String,
    /// A human-readable version range, e.g. `>=0.13, <0.17`.
    pub versions: String,
    /// Versions the table was checked against.
    pub tested: Vec<String>,
    /// The file it was read from.
    pub file: PathBuf,
    /// The WebAssembly features the runtime accepts (names of [`FEATURES`]); `None` when
    /// the table does not say (no feature check then).
    pub features: Option<Vec<String>>,
    pub entries: Vec<Entry>,
}

impl Table {
    /// Parses and validates a table; every problem is reported, not just the first.
    pub fn parse(text: &str, file: &Path) -> Result<Self, AbiError> {
        let invalid = |message: String| AbiError::InvalidTable {
            path: file.to_path_buf(),
            message,
        };
        let raw: RawTable = toml::from_str(text).map_err(|error| {
            invalid(
                error
                    .to_string()
                    .trim_end()
                    .lines()
                    .map(|l| format!("  {l}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            )
        })?;
        let mut problems = Vec::new();
        if raw.runtime.trim().is_empty() {
            problems.push("`runtime` is empty".to_string());
        }
        if raw.versions.trim().is_empty() {
            problems.push("`versions` is empty".to_string());
        }
        if raw.imports.is_empty() {
            problems.push("no [[import]] entries".to_string());
        }
        for name in raw.features.iter().flatten() {
            if feature_flags(name).is_none() {
                problems.push(format!(
                    "unknown feature `{name}` (known: {})",
                    FEATURES
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        let mut entries: Vec<Entry> = Vec::new();
        for (number, import) in raw.imports.into_iter().enumerate() {
            let label = format!(
                "import #{} (`{}.{}`)",
                number + 1,
                import.module,
                import.name
            );
            if import.module.is_empty() || import.name.is_empty() {
                problems.push(format!("{label}: module and name must not be empty"));
            }
            let mut types = |names: &[String]| -> Vec<ValType> {
                names
                    .iter()
                    .filter_map(|name| {
                        let parsed = ValType::parse(name);
                        if parsed.is_none() {
                            problems.push(format!("{label}: unknown value type `{name}`"));
                        }
                        parsed
                    })
                    .collect()
            };
            let signature = FuncSig {
                params: types(&import.params),
                results: types(&import.results),
            };
            let entry = Entry {
                module: import.module,
                name: import.name,
                signature,
                note: import.note,
            };
            if entries.iter().any(|e| {
                e.module == entry.module && e.name == entry.name && e.signature == entry.signature
            }) {
                problems.push(format!(
                    "{label}: {} is listed twice for this name",
                    entry.signature
                ));
            }
            entries.push(entry);
        }
        if !problems.is_empty() {
            return Err(invalid(
                problems
                    .iter()
                    .map(|p| format!("  {p}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ));
        }
        Ok(Self {
            runtime: raw.runtime,
            versions: raw.versions,
            tested: raw.tested,
            file: file.to_path_buf(),
            features: raw.features,
            entries,
        })
    }

    pub fn load(file: &Path) -> Result<Self, AbiError> {
        let text = std::fs::read_to_string(file).map_err(|source| AbiError::Read {
            path: file.to_path_buf(),
            source,
        })?;
        Self::parse(&text, file)
    }

    /// The file name without `.toml`, e.g. `wasmedge-0.13-0.16`.
    pub fn stem(&self) -> String {
        self.file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// The modules the runtime provides.
    pub fn modules(&self) -> BTreeSet<&str> {
        self.entries.iter().map(|e| e.module.as_str()).collect()
    }

    /// Every accepted signature of `module.name` (empty when the runtime lacks it).
    pub fn signatures(&self, module: &str, name: &str) -> Vec<&FuncSig> {
        self.entries
            .iter()
            .filter(|e| e.module == module && e.name == name)
            .map(|e| &e.signature)
            .collect()
    }
}

/// `<repo>/runtimes`.
pub fn tables_dir(repo_root: &Path) -> PathBuf {
    repo_root.join(TABLES_DIR)
}

/// The tables compiled into wlmake, used for repositories without a `runtimes/` folder
/// (a repository's own folder replaces them).
const BUILTIN_TABLES: &[(&str, &str)] = &[
    (
        "runtimes/wasmedge-0.13-0.16.toml",
        include_str!("../../runtimes/wasmedge-0.13-0.16.toml"),
    ),
    (
        "runtimes/wasmtime.toml",
        include_str!("../../runtimes/wasmtime.toml"),
    ),
];

/// Every table in the repository (or the built-in ones), sorted by file name.
pub fn load_all(repo_root: &Path) -> Result<Vec<Table>, AbiError> {
    let dir = tables_dir(repo_root);
    if !dir.is_dir() {
        return BUILTIN_TABLES
            .iter()
            .map(|(file, text)| Table::parse(text, Path::new(file)))
            .collect();
    }
    let read_error = |source| AbiError::Read {
        path: dir.clone(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&dir).map_err(read_error)? {
        let path = entry.map_err(read_error)?.path();
        if path.extension().is_some_and(|e| e == "toml") {
            files.push(path);
        }
    }
    files.sort();
    files.iter().map(|file| Table::load(file)).collect()
}

/// The table for `runtime`: a runtime name (`wasmtime`, `wasmedge`) when one table has
/// it, or a table's file name without `.toml` (`wasmedge-0.13-0.16`).
pub fn load_table(repo_root: &Path, runtime: &str) -> Result<Table, AbiError> {
    let dir = tables_dir(repo_root);
    let tables = load_all(repo_root)?;
    if let Some(index) = tables.iter().position(|t| t.stem() == runtime) {
        return Ok(tables.into_iter().nth(index).expect("index found above"));
    }
    let mut matching: Vec<Table> = tables
        .iter()
        .filter(|t| t.runtime == runtime)
        .cloned()
        .collect();
    match matching.len() {
        1 => Ok(matching.remove(0)),
        0 => Err(AbiError::UnknownRuntime {
            name: runtime.into(),
            dir,
            known: tables
                .iter()
                .map(|t| t.runtime.clone())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
        }),
        _ => Err(AbiError::AmbiguousRuntime {
            name: runtime.into(),
            candidates: matching.iter().map(Table::stem).collect(),
        }),
    }
}

// ---------------------------------------------------------------------------------------
// Modules

/// What an import or export is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExternKind {
    Func,
    Table,
    Memory,
    Global,
    Tag,
}

impl ExternKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Func => "func",
            Self::Table => "table",
            Self::Memory => "memory",
            Self::Global => "global",
            Self::Tag => "tag",
        }
    }
}

impl fmt::Display for ExternKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Import {
    pub module: String,
    pub name: String,
    pub kind: ExternKind,
    /// The function type, for function imports.
    pub signature: Option<FuncSig>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Export {
    pub name: String,
    pub kind: ExternKind,
}

/// A module's imports and exports, in file order, and its size in bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModuleInfo {
    pub size: u64,
    pub imports: Vec<Import>,
    pub exports: Vec<Export>,
}

/// Reads the imports (function types resolved through the type section) and exports.
pub fn read_module(bytes: &[u8]) -> Result<ModuleInfo, AbiError> {
    use wasmparser::{CompositeInnerType, Encoding, ExternalKind, Payload, TypeRef};

    let malformed = |error: wasmparser::BinaryReaderError| AbiError::Malformed(error.to_string());
    if !bytes.starts_with(b"\0asm") {
        return Err(AbiError::Malformed("no `\\0asm` header".into()));
    }
    // Function types by type index; `None` for array and struct types.
    let mut types: Vec<Option<FuncSig>> = Vec::new();
    let mut imports = Vec::new();
    let mut exports = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload.map_err(malformed)? {
            Payload::Version {
                encoding: Encoding::Component,
                ..
            } => {
                return Err(AbiError::Malformed("a component, not a core module".into()));
            }
            Payload::TypeSection(reader) => {
                for group in reader {
                    for sub_type in group.map_err(malformed)?.into_types() {
                        types.push(match sub_type.composite_type.inner {
                            CompositeInnerType::Func(func) => Some(FuncSig {
                                params: func
                                    .params()
                                    .iter()
                                    .map(|t| ValType::from_wasm(*t))
                                    .collect(),
                                results: func
                                    .results()
                                    .iter()
                                    .map(|t| ValType::from_wasm(*t))
                                    .collect(),
                            }),
                            _ => None,
                        });
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import.map_err(malformed)?;
                    let (kind, signature) = match import.ty {
                        TypeRef::Func(index) | TypeRef::FuncExact(index) => {
                            let signature = types.get(index as usize).cloned().flatten().ok_or_else(|| {
                                AbiError::Malformed(format!(
                                    "function import `{}.{}` names type {index}, which is not a function type",
                                    import.module, import.name
                                ))
                            })?;
                            (ExternKind::Func, Some(signature))
                        }
                        TypeRef::Table(_) => (ExternKind::Table, None),
                        TypeRef::Memory(_) => (ExternKind::Memory, None),
                        TypeRef::Global(_) => (ExternKind::Global, None),
                        TypeRef::Tag(_) => (ExternKind::Tag, None),
                    };
                    imports.push(Import {
                        module: import.module.into(),
                        name: import.name.into(),
                        kind,
                        signature,
                    });
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export.map_err(malformed)?;
                    let kind = match export.kind {
                        ExternalKind::Func | ExternalKind::FuncExact => ExternKind::Func,
                        ExternalKind::Table => ExternKind::Table,
                        ExternalKind::Memory => ExternKind::Memory,
                        ExternalKind::Global => ExternKind::Global,
                        ExternalKind::Tag => ExternKind::Tag,
                    };
                    exports.push(Export {
                        name: export.name.into(),
                        kind,
                    });
                }
            }
            _ => {}
        }
    }
    Ok(ModuleInfo {
        size: bytes.len() as u64,
        imports,
        exports,
    })
}

/// `read_module` on a file; errors name the file.
pub fn read_module_file(path: &Path) -> Result<ModuleInfo, AbiError> {
    let bytes = std::fs::read(path).map_err(|source| AbiError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    read_module(&bytes).map_err(|error| match error {
        AbiError::Malformed(reason) => AbiError::NotWasm {
            path: path.to_path_buf(),
            reason,
        },
        other => other,
    })
}

// ---------------------------------------------------------------------------------------
// The check

/// One import the runtime does not provide as the module wants it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "kebab-case")]
pub enum Mismatch {
    /// The runtime provides nothing under this module name (e.g. `env`).
    UnknownModule {
        module: String,
        name: String,
        runtime: String,
    },
    /// The module exists but has no import of this name.
    UnknownName {
        module: String,
        name: String,
        runtime: String,
    },
    /// A table, memory, global or tag import from a module that only provides functions.
    WrongKind {
        module: String,
        name: String,
        kind: ExternKind,
        runtime: String,
    },
    /// The function exists with other signatures.
    WrongSignature {
        module: String,
        name: String,
        expected: Vec<FuncSig>,
        found: FuncSig,
    },
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownModule {
                module,
                name,
                runtime,
            } => write!(
                f,
                "`{module}.{name}`: runtime {runtime} provides no module `{module}`"
            ),
            Self::UnknownName {
                module,
                name,
                runtime,
            } => write!(
                f,
                "`{module}.{name}`: runtime {runtime} has no import `{name}` in `{module}`"
            ),
            Self::WrongKind {
                module,
                name,
                kind,
                runtime,
            } => write!(
                f,
                "`{module}.{name}`: a {kind} import, but runtime {runtime} provides only functions in `{module}`"
            ),
            Self::WrongSignature {
                module,
                name,
                expected,
                found,
            } => {
                let expected = expected
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" or ");
                write!(f, "`{module}.{name}`: expected {expected}, found {found}")
            }
        }
    }
}

/// Every import of `module` that `table`'s runtime does not provide as typed.
pub fn check(module: &ModuleInfo, table: &Table) -> Vec<Mismatch> {
    let modules = table.modules();
    let runtime = || table.runtime.clone();
    module
        .imports
        .iter()
        .filter_map(|import| {
            if !modules.contains(import.module.as_str()) {
                return Some(Mismatch::UnknownModule {
                    module: import.module.clone(),
                    name: import.name.clone(),
                    runtime: runtime(),
                });
            }
            let Some(found) = import
                .signature
                .as_ref()
                .filter(|_| import.kind == ExternKind::Func)
            else {
                return Some(Mismatch::WrongKind {
                    module: import.module.clone(),
                    name: import.name.clone(),
                    kind: import.kind,
                    runtime: runtime(),
                });
            };
            let expected = table.signatures(&import.module, &import.name);
            if expected.is_empty() {
                return Some(Mismatch::UnknownName {
                    module: import.module.clone(),
                    name: import.name.clone(),
                    runtime: runtime(),
                });
            }
            (!expected.contains(&found)).then(|| Mismatch::WrongSignature {
                module: import.module.clone(),
                name: import.name.clone(),
                expected: expected.into_iter().cloned().collect(),
                found: found.clone(),
            })
        })
        .collect()
}

/// The feature names a table may list, with wasmparser's flags for each.
pub const FEATURES: &[(&str, wasmparser::WasmFeatures)] = &[
    ("mutable-global", wasmparser::WasmFeatures::MUTABLE_GLOBAL),
    ("sign-ext", wasmparser::WasmFeatures::SIGN_EXTENSION),
    (
        "nontrapping-fptoint",
        wasmparser::WasmFeatures::SATURATING_FLOAT_TO_INT,
    ),
    ("multi-value", wasmparser::WasmFeatures::MULTI_VALUE),
    ("bulk-memory", wasmparser::WasmFeatures::BULK_MEMORY),
    ("reference-types", wasmparser::WasmFeatures::REFERENCE_TYPES),
    ("simd128", wasmparser::WasmFeatures::SIMD),
    ("relaxed-simd", wasmparser::WasmFeatures::RELAXED_SIMD),
    ("tail-call", wasmparser::WasmFeatures::TAIL_CALL),
    ("extended-const", wasmparser::WasmFeatures::EXTENDED_CONST),
    ("multi-memory", wasmparser::WasmFeatures::MULTI_MEMORY),
    ("threads", wasmparser::WasmFeatures::THREADS),
    ("exceptions", wasmparser::WasmFeatures::EXCEPTIONS),
    ("memory64", wasmparser::WasmFeatures::MEMORY64),
];

fn feature_flags(name: &str) -> Option<wasmparser::WasmFeatures> {
    FEATURES.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// Validates `bytes` with only the features `table` lists (on top of the 1.0 core):
/// an instruction or type of another proposal is refused with the validator's message.
pub fn check_features(wasm: &Path, bytes: &[u8], table: &Table) -> Result<(), AbiError> {
    let Some(names) = &table.features else {
        return Ok(());
    };
    let features = names
        .iter()
        .filter_map(|name| feature_flags(name))
        .fold(wasmparser::WasmFeatures::WASM1, |all, f| all | f);
    wasmparser::Validator::new_with_features(features)
        .validate_all(bytes)
        .map(|_| ())
        .map_err(|error| AbiError::Feature {
            path: wasm.to_path_buf(),
            runtime: table.runtime.clone(),
            versions: table.versions.clone(),
            accepted: names.clone(),
            detail: error.to_string(),
        })
}

/// [`check_features`] on a file.
pub fn check_features_file(wasm: &Path, table: &Table) -> Result<(), AbiError> {
    let bytes = std::fs::read(wasm).map_err(|source| AbiError::Read {
        path: wasm.to_path_buf(),
        source,
    })?;
    check_features(wasm, &bytes, table)
}

/// `AbiError::Mismatch` for `wasm` when `mismatches` is not empty.
pub fn verdict(wasm: &Path, table: &Table, mismatches: Vec<Mismatch>) -> Result<(), AbiError> {
    if mismatches.is_empty() {
        return Ok(());
    }
    Err(AbiError::Mismatch {
        path: wasm.to_path_buf(),
        runtime: table.runtime.clone(),
        versions: table.versions.clone(),
        mismatches,
    })
}

/// The build step's check: reads `wasm`, checks it against `runtime`'s table, fails
/// with every mismatch.
pub fn check_artifact(
    repo_root: &Path,
    runtime: &str,
    wasm: &Path,
) -> Result<ModuleInfo, AbiError> {
    let table = load_table(repo_root, runtime)?;
    let module = read_module_file(wasm)?;
    verdict(wasm, &table, check(&module, &table))?;
    check_features_file(wasm, &table)?;
    Ok(module)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Table, AbiError> {
        Table::parse(text, Path::new("runtimes/test.toml"))
    }

    fn message(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    const HEADER: &str = "runtime = \"test\"\nversions = \">=1\"\n";

    fn sig(params: &[ValType], results: &[ValType]) -> FuncSig {
        FuncSig {
            params: params.to_vec(),
            results: results.to_vec(),
        }
    }

    #[test]
    fn a_table_parses_with_several_signatures_per_name() {
        let table = parse(&format!(
            "{HEADER}tested = [\"1.0\"]\n\
             [[import]]\nmodule = \"m\"\nname = \"f\"\nparams = [\"i32\", \"i32\"]\nresults = [\"i32\"]\n\
             [[import]]\nmodule = \"m\"\nname = \"f\"\nparams = [\"i32\", \"i32\", \"i32\"]\nresults = [\"i32\"]\nnote = \"v2\"\n\
             [[import]]\nmodule = \"m\"\nname = \"exit\"\nparams = [\"i32\"]\nresults = []\n"
        ))
        .unwrap();
        assert_eq!(table.runtime, "test");
        assert_eq!(table.tested, ["1.0"]);
        assert_eq!(table.signatures("m", "f").len(), 2);
        assert_eq!(table.signatures("m", "exit")[0].to_string(), "(i32) -> ()");
        assert!(table.signatures("m", "g").is_empty());
        assert_eq!(table.stem(), "test");
    }

    #[test]
    fn unknown_fields_are_refused() {
        let error = message(&format!(
            "{HEADER}[[import]]\nmodule = \"m\"\nname = \"f\"\nparams = []\nresults = []\nresult = [\"i32\"]\n"
        ));
        assert!(error.contains("unknown field `result`"), "{error}");
        let error = message(&format!("{HEADER}version = \"1\"\n"));
        assert!(error.contains("unknown field `version`"), "{error}");
    }

    #[test]
    fn missing_fields_are_refused() {
        let error = message(&format!(
            "{HEADER}[[import]]\nmodule = \"m\"\nname = \"f\"\nparams = []\n"
        ));
        assert!(error.contains("missing field `results`"), "{error}");
        let error = message("versions = \"1\"\n");
        assert!(error.contains("missing field `runtime`"), "{error}");
    }

    #[test]
    fn bad_types_duplicates_and_empty_tables_are_all_reported() {
        let error = message(&format!(
            "{HEADER}[[import]]\nmodule = \"m\"\nname = \"f\"\nparams = [\"i33\"]\nresults = [\"u8\"]\n\
             [[import]]\nmodule = \"m\"\nname = \"g\"\nparams = []\nresults = []\n\
             [[import]]\nmodule = \"m\"\nname = \"g\"\nparams = []\nresults = []\n"
        ));
        assert!(
            error.starts_with("invalid import table `runtimes/test.toml`:"),
            "{error}"
        );
        assert!(
            error.contains("import #1 (`m.f`): unknown value type `i33`"),
            "{error}"
        );
        assert!(
            error.contains("import #1 (`m.f`): unknown value type `u8`"),
            "{error}"
        );
        assert!(
            error.contains("import #3 (`m.g`): () -> () is listed twice"),
            "{error}"
        );
        let error = message(HEADER);
        assert!(error.contains("no [[import]] entries"), "{error}");
        let error = message(
            "runtime = \"\"\nversions = \" \"\n[[import]]\nmodule = \"\"\nname = \"f\"\nparams = []\nresults = []\n",
        );
        assert!(error.contains("`runtime` is empty"), "{error}");
        assert!(error.contains("`versions` is empty"), "{error}");
        assert!(
            error.contains("module and name must not be empty"),
            "{error}"
        );
    }

    #[test]
    fn toml_syntax_errors_keep_their_position() {
        let error = message("runtime = \"x\nversions = 1\n");
        assert!(error.contains("line 1"), "{error}");
        assert!(
            parse("runtime = \"x\"\nversions = \"1\"\n[[import]]\nmodule = \"m\"\nname = \"f\"\nparams = \"i32\"\nresults = []\n")
                .is_err()
        );
    }

    #[test]
    fn signatures_display_like_the_spec() {
        use ValType::*;
        assert_eq!(
            sig(&[I32, I32, I32], &[I32]).to_string(),
            "(i32, i32, i32) -> i32"
        );
        assert_eq!(sig(&[], &[I32]).to_string(), "() -> i32");
        assert_eq!(sig(&[I64], &[I32, F64]).to_string(), "(i64) -> (i32, f64)");
    }

    /// A section: id, size (one byte: small bodies only), body.
    fn section(id: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![id, body.len() as u8];
        out.extend_from_slice(body);
        out
    }

    /// A module with one type, one import of that type and one exported memory, encoded by hand.
    fn module_importing(module: &str, name: &str, params: &[u8]) -> Vec<u8> {
        fn string(text: &str) -> Vec<u8> {
            let mut out = vec![text.len() as u8];
            out.extend_from_slice(text.as_bytes());
            out
        }
        let mut bytes = b"\0asm\x01\0\0\0".to_vec();
        let mut types = vec![1, 0x60, params.len() as u8];
        types.extend_from_slice(params);
        types.extend_from_slice(&[1, 0x7f]);
        bytes.extend(section(1, &types));
        let mut imports = vec![1];
        imports.extend(string(module));
        imports.extend(string(name));
        imports.extend_from_slice(&[0x00, 0]);
        bytes.extend(section(2, &imports));
        bytes.extend(section(5, &[1, 0, 1]));
        let mut exports = vec![1];
        exports.extend(string("memory"));
        exports.extend_from_slice(&[0x02, 0]);
        bytes.extend(section(7, &exports));
        bytes
    }

    fn test_table() -> Table {
        parse(&format!(
            "{HEADER}[[import]]\nmodule = \"wasi_snapshot_preview1\"\nname = \"sock_accept\"\nparams = [\"i32\", \"i32\", \"i32\"]\nresults = [\"i32\"]\n"
        ))
        .unwrap()
    }

    #[test]
    fn features_are_checked_only_against_what_the_table_lists() {
        let error = message(&format!(
            "{HEADER}features = [\"simd128\", \"warp-drive\"]\n[[import]]\nmodule = \"m\"\nname = \"f\"\nparams = []\nresults = []\n"
        ));
        assert!(error.contains("unknown feature `warp-drive`"), "{error}");
        // A module with one function using `i32.extend8_s` (sign-ext).
        let mut bytes = b"\0asm\x01\0\0\0".to_vec();
        bytes.extend(section(1, &[1, 0x60, 1, 0x7f, 1, 0x7f]));
        bytes.extend(section(3, &[1, 0]));
        bytes.extend(section(10, &[1, 5, 0, 0x20, 0, 0xc0, 0x0b]));
        let wasm = Path::new("f.wasm");
        let table_with = |features: &str| {
            parse(&format!(
                "{HEADER}{features}[[import]]\nmodule = \"m\"\nname = \"f\"\nparams = []\nresults = []\n"
            ))
            .unwrap()
        };
        assert!(check_features(wasm, &bytes, &table_with("")).is_ok());
        assert!(check_features(wasm, &bytes, &table_with("features = [\"sign-ext\"]\n")).is_ok());
        let error =
            check_features(wasm, &bytes, &table_with("features = [\"simd128\"]\n")).unwrap_err();
        assert!(matches!(error, AbiError::Feature { .. }), "{error}");
        assert!(error.to_string().contains("sign"), "{error}");
        assert!(error.hint().unwrap().contains("accepts: simd128"));
    }

    #[test]
    fn read_module_resolves_function_types() {
        let bytes = module_importing("wasi_snapshot_preview1", "sock_accept", &[0x7f, 0x7e]);
        let info = read_module(&bytes).unwrap();
        assert_eq!(info.size, bytes.len() as u64);
        assert_eq!(info.imports.len(), 1);
        let import = &info.imports[0];
        assert_eq!(import.kind, ExternKind::Func);
        assert_eq!(
            import.signature.as_ref().unwrap().to_string(),
            "(i32, i64) -> i32"
        );
        assert_eq!(
            info.exports,
            [Export {
                name: "memory".into(),
                kind: ExternKind::Memory
            }]
        );
    }

    #[test]
    fn read_module_refuses_other_files() {
        assert!(matches!(
            read_module(b"#!/bin/sh\n"),
            Err(AbiError::Malformed(_))
        ));
        let mut truncated = module_importing("m", "f", &[]);
        truncated.truncate(truncated.len() - 3);
        assert!(matches!(
            read_module(&truncated),
            Err(AbiError::Malformed(_))
        ));
    }

    #[test]
    fn check_names_module_name_and_signature() {
        let table = test_table();
        let ok = read_module(&module_importing(
            "wasi_snapshot_preview1",
            "sock_accept",
            &[0x7f, 0x7f, 0x7f],
        ))
        .unwrap();
        assert!(check(&ok, &table).is_empty());

        let two = read_module(&module_importing(
            "wasi_snapshot_preview1",
            "sock_accept",
            &[0x7f, 0x7f],
        ))
        .unwrap();
        let mismatches = check(&two, &table);
        assert_eq!(
            mismatches
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            [
                "`wasi_snapshot_preview1.sock_accept`: expected (i32, i32, i32) -> i32, found (i32, i32) -> i32"
            ]
        );

        let unknown = read_module(&module_importing(
            "wasi_snapshot_preview1",
            "sock_open",
            &[],
        ))
        .unwrap();
        assert_eq!(
            check(&unknown, &table)[0].to_string(),
            "`wasi_snapshot_preview1.sock_open`: runtime test has no import `sock_open` in `wasi_snapshot_preview1`"
        );

        let env = read_module(&module_importing("env", "getpwnam", &[0x7f])).unwrap();
        let mismatches = check(&env, &table);
        assert_eq!(
            mismatches[0].to_string(),
            "`env.getpwnam`: runtime test provides no module `env`"
        );
        let error = verdict(Path::new("x.wasm"), &table, mismatches).unwrap_err();
        assert!(error.hint().unwrap().contains("--allow-undefined"));
    }

    #[test]
    fn non_function_imports_from_a_table_module_are_mismatches() {
        let table = test_table();
        let module = ModuleInfo {
            size: 0,
            imports: vec![Import {
                module: "wasi_snapshot_preview1".into(),
                name: "memory".into(),
                kind: ExternKind::Memory,
                signature: None,
            }],
            exports: vec![],
        };
        assert!(matches!(
            check(&module, &table)[..],
            [Mismatch::WrongKind { .. }]
        ));
    }
}
