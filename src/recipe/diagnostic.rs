//! Recipe problems with a position: `file:line:col: message`, plus a hint.

use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::de::{DeTable, DeValue};

/// One problem in one recipe file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn at(file: &Path, text: &str, span: Option<Range<usize>>, message: String) -> Self {
        let (line, column) = span.map_or((1, 1), |span| line_column(text, span.start));
        Self {
            file: file.to_path_buf(),
            line,
            column,
            message,
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message
        )
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// One step of a key path: a table key or an array index.
#[derive(Debug, Clone, Copy)]
pub enum Key<'a> {
    Name(&'a str),
    Index(usize),
}

/// The span of the value at `path`, if it exists.
pub fn locate(text: &str, path: &[Key<'_>]) -> Option<Range<usize>> {
    let document = DeTable::parse(text).ok()?;
    let root = DeValue::Table(document.get_ref().clone());
    let mut current = &root;
    let mut span = None;
    for key in path {
        let next = match (key, current) {
            (Key::Name(name), DeValue::Table(table)) => {
                table.iter().find(|(k, _)| k.get_ref() == name)?.1
            }
            (Key::Index(index), DeValue::Array(array)) => array.get(*index)?,
            _ => return None,
        };
        span = Some(next.span());
        current = next.get_ref();
    }
    span
}

/// Like [`locate`] but falls back to the deepest ancestor that exists.
pub fn locate_nearest(text: &str, path: &[Key<'_>]) -> Option<Range<usize>> {
    (0..=path.len())
        .rev()
        .find_map(|len| locate(text, &path[..len]).filter(|_| len > 0))
}
