//! A loaded TOML file: its text, for turning byte spans into `line:column`
//! and dotted key paths in error messages.

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use crate::ConfigError;

/// The text of one configuration file and where it came from.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
}

impl SourceFile {
    pub fn read(path: &Path) -> Result<Self, ConfigError> {
        let bytes = crate::input::read_limited(path, crate::input::MAX_CONFIG_BYTES, "configuration file")
            .map_err(|error| ConfigError::Input(Box::new(error)))?;
        let text = String::from_utf8(bytes).map_err(|e| ConfigError::Read {
            path: path.to_owned(),
            error: std::io::Error::new(std::io::ErrorKind::InvalidData, e.utf8_error()),
        })?;
        Ok(Self { path: path.to_owned(), text })
    }

    /// Parses the whole file into `T` (a `Raw*` type that denies unknown keys).
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, ConfigError> {
        self.parse_with(&[])
    }

    /// [`parse`](Self::parse), with what to say about each required key
    /// that may be missing.
    pub(crate) fn parse_with<T: DeserializeOwned>(&self, required: &[Required]) -> Result<T, ConfigError> {
        toml::from_str(&self.text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            if let Some(field) = e.message().strip_prefix("missing field `").and_then(|m| m.strip_suffix('`')) {
                return self.missing(span, field, required);
            }
            let (line, column) = self.line_column(span.start);
            ConfigError::Parse {
                path: self.path.clone(),
                line,
                column,
                key: self.key_at(span.clone()),
                message: one_line(e.message()),
            }
        })
    }

    /// serde's `missing field` names only the field: the span says whose.
    /// It is empty for the document itself, else the table's header (or the
    /// braces of an inline table).
    fn missing(&self, span: Range<usize>, field: &str, required: &[Required]) -> ConfigError {
        let table = (!span.is_empty()).then(|| self.key_at(span.clone()));
        let key = table.as_ref().map_or_else(|| field.to_owned(), |t| format!("{t}.{field}"));
        let (message, fix) = match required.iter().find(|r| r.key == key) {
            Some(r) => (r.message.to_owned(), r.fix.to_owned()),
            None => (
                format!("missing key {field}"),
                match &table {
                    Some(t) => format!("add {field} under [{t}]"),
                    None => format!("add {field} at the top of the file"),
                },
            ),
        };
        // The document has no line of its own: say the file only.
        let (line, column) = if table.is_some() { self.line_column(span.start) } else { (0, 0) };
        ConfigError::Invalid { path: self.path.clone(), line, column, key, message, fix }
    }

    /// 1-based line and column of a byte offset.
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, column)
    }

    /// A validation error at `span` (the value's span from `toml::Spanned`).
    pub fn invalid(
        &self,
        span: Range<usize>,
        key: &str,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> ConfigError {
        let (line, column) = self.line_column(span.start);
        ConfigError::Invalid {
            path: self.path.clone(),
            line,
            column,
            key: key.to_owned(),
            message: message.into(),
            fix: fix.into(),
        }
    }

    /// A validation error about a key that is absent or has no useful span.
    pub fn invalid_here(&self, key: &str, message: impl Into<String>, fix: impl Into<String>) -> ConfigError {
        let offset = self.find_key(key).unwrap_or(0);
        self.invalid(offset..offset, key, message, fix)
    }

    /// Byte offset of the line defining `key` (last dotted part) inside its
    /// table, if the key appears literally.
    fn find_key(&self, dotted: &str) -> Option<usize> {
        let (table, leaf) = match dotted.rsplit_once('.') {
            Some((t, l)) => (Some(t), l),
            None => (None, dotted),
        };
        let mut current_table = String::new();
        let mut offset = 0;
        for line in self.text.split_inclusive('\n') {
            let trimmed = line.trim();
            if let Some(header) = table_header(trimmed) {
                current_table = header;
            } else if let Some((k, _)) = trimmed.split_once('=') {
                let in_table = match table {
                    Some(t) => current_table == t || t.starts_with(&format!("{current_table}[")),
                    None => current_table.is_empty(),
                };
                if in_table && k.trim() == leaf {
                    return Some(offset + (line.len() - line.trim_start().len()));
                }
            } else if table.is_some_and(|t| t == trimmed.trim_matches(['[', ']'])) {
                return Some(offset);
            }
            offset += line.len();
        }
        table.and_then(|t| self.text.find(&format!("[{t}]")))
    }

    /// Dotted key path of the key or value at `span`: the enclosing
    /// `[table]` header plus the key on that line.
    fn key_at(&self, span: Range<usize>) -> String {
        let start = span.start.min(self.text.len());
        let mut table = String::new();
        let mut offset = 0;
        let mut key = None;
        for line in self.text.split_inclusive('\n') {
            if offset > start {
                break;
            }
            let trimmed = line.trim();
            if let Some(header) = table_header(trimmed) {
                table = header;
                key = None;
            }
            if offset + line.len() > start || offset + line.len() == self.text.len() {
                key = trimmed
                    .split_once('=')
                    .map(|(k, _)| k.trim().trim_matches('"').to_owned())
                    .filter(|k| !k.is_empty() && !k.starts_with('['));
            }
            offset += line.len();
        }
        match (table.is_empty(), key) {
            (true, Some(k)) => k,
            (false, Some(k)) => format!("{table}.{k}"),
            (false, None) => table,
            (true, None) => "(document)".to_owned(),
        }
    }
}

/// A key serde requires, and what to tell a user whose file lacks it.
pub(crate) struct Required {
    /// Dotted key path: `power`, `target.kind`, `memory.start`.
    pub key: &'static str,
    /// E.g. `missing table [power]`.
    pub message: &'static str,
    pub fix: &'static str,
}

fn table_header(trimmed: &str) -> Option<String> {
    let inner = trimmed
        .strip_prefix("[[")
        .and_then(|s| s.split("]]").next())
        .or_else(|| trimmed.strip_prefix('[').and_then(|s| s.split(']').next()))?;
    Some(inner.trim().to_owned())
}

/// Collapses a multi-line parser message to one line.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> SourceFile {
        SourceFile { path: "x.toml".into(), text: text.to_owned() }
    }

    #[test]
    fn line_column_is_one_based() {
        let f = file("a = 1\nbb = 2\n");
        assert_eq!(f.line_column(0), (1, 1));
        assert_eq!(f.line_column(6), (2, 1));
        assert_eq!(f.line_column(11), (2, 6));
    }

    #[test]
    fn key_path_includes_the_table() {
        let f = file("top = 1\n[run]\nwarmup = 2\niterations = \"x\"\n");
        let value = f.text.find("\"x\"").unwrap();
        assert_eq!(f.key_at(value..value + 3), "run.iterations");
        assert_eq!(f.key_at(0..3), "top");
    }

    #[test]
    fn key_path_in_array_of_tables() {
        let f = file("[[case]]\nname = \"a\"\n[[case]]\nbogus = 1\n");
        let at = f.text.find("bogus").unwrap();
        assert_eq!(f.key_at(at..at + 5), "case.bogus");
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Doc {
        top: u32,
        t: Table,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Table {
        k: u32,
    }

    #[test]
    fn missing_keys_are_named_by_their_table() {
        let required = [Required { key: "t", message: "missing table [t]", fix: "add [t] with k = 1" }];
        let e = file("top = 1\n").parse_with::<Doc>(&required).unwrap_err().to_string();
        assert_eq!(e, "x.toml: t: missing table [t]; add [t] with k = 1");
        let e = file("[t]\nk = 1\n").parse_with::<Doc>(&required).unwrap_err().to_string();
        assert_eq!(e, "x.toml: top: missing key top; add top at the top of the file");
        let e = file("top = 1\n\n[t]\nj = 2\n").parse::<Doc>().unwrap_err().to_string();
        assert!(e.starts_with("x.toml:4:1: t.j: unknown field `j`"), "{e}");
        let e = file("top = 1\n\n[t]\n").parse::<Doc>().unwrap_err().to_string();
        assert_eq!(e, "x.toml:3:1: t.k: missing key k; add k under [t]");
        let e = file("top = 1\nt = {}\n").parse::<Doc>().unwrap_err().to_string();
        assert_eq!(e, "x.toml:2:5: t.k: missing key k; add k under [t]");
    }

    #[test]
    fn find_key_locates_the_line() {
        let f = file("[board]\nname = \"x\"\n[run]\nname = 3\n");
        assert_eq!(f.find_key("run.name"), Some(f.text.rfind("name").unwrap()));
        assert_eq!(f.find_key("board.name"), Some(f.text.find("name").unwrap()));
    }
}
