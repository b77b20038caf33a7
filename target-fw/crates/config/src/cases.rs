//! The case tables of a run configuration, expanded into one list of cases in
//! file order: `[defaults]` (keys every case starts from), `[[case]]` (one
//! case) and `[[matrix]]` (the cartesian product of its array-valued keys,
//! less its `exclude` rules, named by a `name` template or by the labels of
//! its axes). Each expanded case remembers where its keys came from, so a
//! validation error in `run.rs` can name the table the user has to edit.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Range;
use std::path::Path;

use serde::de::{self, DeserializeOwned, IntoDeserializer, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use toml::Spanned;

use crate::{ConfigError, SourceFile};

/// Declares the case keys once, for `[defaults]`, `[[case]]` and
/// `[[matrix]]`, so the tables cannot drift apart. Each key:
/// `field "kebab-name": type`.
macro_rules! case_keys {
    ($( $(#[$doc:meta])* $field:ident $key:literal: $ty:ty, )*) => {
        /// `[defaults]`, and a case's keys after merging: every key optional.
        #[derive(Debug, Default, Clone, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub(crate) struct RawCaseKeys {
            $( $(#[$doc])* #[serde(rename = $key)] pub $field: Option<Spanned<$ty>>, )*
        }

        /// A `[[case]]`: a name and any case keys.
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub(crate) struct RawCase {
            name: Spanned<String>,
            $( #[serde(rename = $key)] $field: Option<Spanned<$ty>>, )*
        }

        /// A `[[matrix]]`: any case key, as one value or an array of them
        /// (an axis); a name template; exclude rules.
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub(crate) struct RawMatrix {
            /// Template of the rows' names: `{key}` is the row's label for key.
            name: Option<Spanned<String>>,
            /// Rows to drop: each rule matches a row when all its keys do.
            exclude: Option<Spanned<Vec<Spanned<ExcludeRule>>>>,
            $( #[serde(rename = $key)] $field: Option<Spanned<Axis<$ty>>>, )*
        }

        impl RawMatrix {
            /// Each key the matrix sets, with its values as written.
            fn entries(&self) -> Vec<Entry> {
                let mut entries = Vec::new();
                $( if let Some(axis) = &self.$field { entries.push(entry($key, axis)); } )*
                entries
            }

            /// The case keys of one row: value `pick(key)` of each key.
            fn row(&self, pick: impl Fn(&str) -> usize) -> RawCaseKeys {
                RawCaseKeys { $( $field: self.$field.as_ref().map(|a| a.get_ref().pick(a.span(), pick($key))), )* }
            }
        }

        /// Every case key, in declaration order.
        const CASE_KEYS: &[&str] = &[$($key),*];

        impl RawCaseKeys {
            /// The keys that are set, in declaration order.
            fn set(&self) -> Vec<&'static str> {
                let mut keys = Vec::new();
                $( if self.$field.is_some() { keys.push($key); } )*
                keys
            }

            /// `self`, with the value of `defaults` for each key it lacks.
            fn or(mut self, defaults: &RawCaseKeys) -> RawCaseKeys {
                $( if self.$field.is_none() { self.$field = defaults.$field.clone(); } )*
                self
            }
        }

        impl RawCase {
            fn keys(&self) -> RawCaseKeys {
                RawCaseKeys { $( $field: self.$field.clone(), )* }
            }
        }
    };
}

case_keys! {
    /// `conv2d-3x3` or `model`.
    workload "workload": String,
    /// `reference`, `fused` or `simd`.
    kernels "kernels": String,
    /// `[height, width, channels]` of the input tensor.
    input_shape "input-shape": Vec<u32>,
    out_channels "out-channels": u32,
    /// Seed of the synthetic input and weights.
    seed "seed": u32,
    /// `hang` or `fail`.
    self_test "self-test": String,
    /// Model file (`.tflite` or `.tbm`), relative to the config file.
    model "model": String,
    /// Raw int8 input samples, relative to the config file.
    input "input": String,
    /// Index of the input sample to run.
    sample "sample": u32,
    /// `int8` or `int4` weight storage for a `.tflite` model.
    weights "weights": String,
    /// Labeled test set: inputs and labels files.
    accuracy_inputs "accuracy-inputs": String,
    accuracy_labels "accuracy-labels": String,
    /// How many test samples the target also runs (default 20; 0: host only).
    target_accuracy_samples "target-accuracy-samples": u32,
    /// The meter measuring the case (a `[power.meter.<name>]`).
    power "power": String,
}

/// Keys whose values are file paths: their label is the file stem.
const PATH_KEYS: &[&str] = &["model", "input", "accuracy-inputs", "accuracy-labels"];

/// Axes that come first, in this order; the others follow in file order.
const LEADING_AXES: &[&str] = &["model", "weights", "kernels"];

/// Most rows one matrix may expand to: each row is a firmware build, so
/// more is likelier a mistake than a plan (and would exhaust memory first).
const MAX_MATRIX_ROWS: usize = 1000;

/// `{ kernels = "reference", weights = "int4" }`: key -> value as written or
/// its label.
type ExcludeRule = BTreeMap<Spanned<String>, Spanned<toml::Value>>;

/// A matrix key's value: one for every row, or an array of them (an axis).
#[derive(Debug)]
enum Axis<T> {
    One(T),
    Many(Vec<Spanned<T>>),
}

/// A type a case key holds.
trait CaseValue: DeserializeOwned + Serialize + Clone {
    /// A single value is itself an array (`input-shape`): only an array of
    /// arrays is an axis.
    const IS_ARRAY: bool = false;
}

impl CaseValue for String {}
impl CaseValue for u32 {}
impl CaseValue for Vec<u32> {
    const IS_ARRAY: bool = true;
}

impl<T: Clone> Axis<T> {
    /// Value `index` (0 for a single value), spanned where it is written.
    fn pick(&self, span: Range<usize>, index: usize) -> Spanned<T> {
        match self {
            Axis::One(value) => Spanned::new(span, value.clone()),
            Axis::Many(values) => values[index].clone(),
        }
    }
}

impl<'de, T: CaseValue> Deserialize<'de> for Axis<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(AxisVisitor(PhantomData))
    }
}

struct AxisVisitor<T>(PhantomData<T>);

impl<T> AxisVisitor<T> {
    fn one<'de, E: de::Error>(value: impl IntoDeserializer<'de, E>) -> Result<Axis<T>, E>
    where
        T: CaseValue,
    {
        T::deserialize(value.into_deserializer()).map(Axis::One)
    }
}

/// Converts a value read as `toml::Value` into `T`, with serde's message.
fn convert<T: CaseValue, E: de::Error>(value: toml::Value) -> Result<T, E> {
    T::deserialize(value).map_err(|e| E::custom(e.message()))
}

impl<'de, T: CaseValue> Visitor<'de> for AxisVisitor<T> {
    type Value = Axis<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a value, or an array of values (one per row)")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Axis<T>, A::Error> {
        if !T::IS_ARRAY {
            let mut values = Vec::new();
            while let Some(value) = seq.next_element::<Spanned<T>>()? {
                values.push(value);
            }
            return Ok(Axis::Many(values));
        }
        let mut items: Vec<Spanned<toml::Value>> = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        if !items.is_empty() && items.iter().all(|i| i.get_ref().is_array()) {
            let values = items.into_iter().map(|i| {
                let span = i.span();
                convert(i.into_inner()).map(|v| Spanned::new(span, v))
            });
            values.collect::<Result<_, _>>().map(Axis::Many)
        } else {
            convert(toml::Value::Array(items.into_iter().map(Spanned::into_inner).collect())).map(Axis::One)
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Axis<T>, E> {
        Self::one(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Axis<T>, E> {
        Self::one(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Axis<T>, E> {
        Self::one(v)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Axis<T>, E> {
        Self::one(v)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Axis<T>, E> {
        Self::one(v)
    }
}

/// A key a matrix sets, type-erased: what expansion, `exclude` and names
/// need.
#[derive(Debug)]
struct Entry {
    key: &'static str,
    /// The whole value (array or single).
    span: Range<usize>,
    /// An array of values: one per row.
    axis: bool,
    values: Vec<EntryValue>,
}

#[derive(Debug)]
struct EntryValue {
    /// As written, to match `exclude` rules.
    written: toml::Value,
    /// For names and `exclude`: a path's file stem, else the value.
    label: String,
}

fn entry<T: CaseValue>(key: &'static str, axis: &Spanned<Axis<T>>) -> Entry {
    let value = |v: &T| {
        // u32, String and Vec<u32> always convert.
        let written = toml::Value::try_from(v).expect("a case value converts to a TOML value");
        EntryValue { label: label(key, &written), written }
    };
    let (is_axis, values) = match axis.get_ref() {
        Axis::One(v) => (false, vec![value(v)]),
        Axis::Many(vs) => (true, vs.iter().map(|v| value(v.get_ref())).collect()),
    };
    Entry { key, span: axis.span(), axis: is_axis, values }
}

/// How a value appears in a row's name: a path's file stem, numbers in
/// decimal, a shape as `8x8x4`, other strings as they are.
fn label(key: &str, value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) if PATH_KEYS.contains(&key) => {
            Path::new(s).file_stem().map_or_else(|| s.clone(), |stem| stem.to_string_lossy().into_owned())
        }
        toml::Value::String(s) => s.clone(),
        toml::Value::Array(items) => items.iter().map(|i| label(key, i)).collect::<Vec<_>>().join("x"),
        other => other.to_string(),
    }
}

/// One case after expansion, before validation.
#[derive(Debug)]
pub(crate) struct Expanded {
    /// Its name; the span is where to point a name error.
    pub name: Spanned<String>,
    /// Its keys, with `[defaults]` filled in.
    pub keys: RawCaseKeys,
    /// The span of its table's header.
    pub header: Range<usize>,
    /// `case` for a `[[case]]`, `matrix` for a row of a `[[matrix]]`.
    pub table: &'static str,
    /// The keys it took from `[defaults]`.
    pub from_defaults: Vec<&'static str>,
}

impl Expanded {
    /// Dotted path of `key` in the table this case took it from.
    pub fn key_path(&self, key: &str) -> String {
        let table = if self.from_defaults.contains(&key) { "defaults" } else { self.table };
        format!("{table}.{key}")
    }

    fn is_row(&self) -> bool {
        self.table == "matrix"
    }

    /// Names the case in an error about `key` when its place does not: a
    /// matrix row shares its place with the other rows, and a value in
    /// `[defaults]` with every case.
    pub fn context(&self, key: &str) -> Option<String> {
        if self.is_row() {
            Some(format!("in row \"{}\"", self.name.get_ref()))
        } else {
            self.from_defaults.contains(&key).then(|| format!("in case \"{}\"", self.name.get_ref()))
        }
    }

    /// Where the case is written, to name it next to another one.
    pub fn place(&self, source: &SourceFile) -> String {
        if self.is_row() {
            let (line, column) = source.line_column(self.header.start);
            format!("row \"{}\" of the [[matrix]] at {line}:{column}", self.name.get_ref())
        } else {
            let (line, column) = source.line_column(self.name.span().start);
            format!("the [[case]] at {line}:{column}")
        }
    }

    /// How to fix a bad name.
    pub fn name_fix(&self) -> &'static str {
        if self.is_row() {
            "give the matrix a name template whose rows differ, e.g. name = \"{model}-{kernels}\""
        } else {
            "rename the case"
        }
    }
}

/// The cases of a run configuration in file order (`[[case]]` tables and
/// `[[matrix]]` rows as they are interleaved), each starting from
/// `defaults`.
pub(crate) fn expand(
    source: &SourceFile,
    defaults: &RawCaseKeys,
    cases: &[Spanned<RawCase>],
    matrices: &[Spanned<RawMatrix>],
) -> Result<Vec<Expanded>, ConfigError> {
    let mut tables: Vec<(usize, Vec<Expanded>)> = Vec::with_capacity(cases.len() + matrices.len());
    for c in cases {
        let case = expanded(c.get_ref().name.clone(), c.get_ref().keys(), c.span(), "case", defaults);
        tables.push((c.span().start, vec![case]));
    }
    for m in matrices {
        tables.push((m.span().start, expand_matrix(source, m, defaults)?));
    }
    tables.sort_by_key(|(start, _)| *start);
    Ok(tables.into_iter().flat_map(|(_, cases)| cases).collect())
}

/// The rows of one matrix, in product order.
fn expand_matrix(
    source: &SourceFile,
    matrix: &Spanned<RawMatrix>,
    defaults: &RawCaseKeys,
) -> Result<Vec<Expanded>, ConfigError> {
    let m = matrix.get_ref();
    let header = matrix.span();
    let entries = m.entries();
    if let Some(e) = entries.iter().find(|e| e.axis && e.values.is_empty()) {
        return Err(source.invalid(
            e.span.clone(),
            &format!("matrix.{}", e.key),
            "an empty array gives the matrix no rows",
            "give at least one value, or remove the key",
        ));
    }
    let mut axes: Vec<&Entry> = entries.iter().filter(|e| e.axis).collect();
    axes.sort_by_key(|e| (LEADING_AXES.iter().position(|k| *k == e.key).unwrap_or(LEADING_AXES.len()), e.span.start));
    let count = axes.iter().try_fold(1usize, |n, a| n.checked_mul(a.values.len()));
    if count.is_none_or(|n| n > MAX_MATRIX_ROWS) {
        return Err(source.invalid(
            header,
            "matrix",
            format!("the matrix has more than {MAX_MATRIX_ROWS} rows (each one a firmware build)"),
            "split it, or give fewer values per axis",
        ));
    }
    let rules = exclude_rules(source, m, &entries, &axes)?;
    let template = m.name.as_ref().map(|n| parse_template(source, n, &entries)).transpose()?;
    if template.is_none() && axes.is_empty() {
        return Err(source.invalid(
            header,
            "matrix.name",
            "a matrix without an array-valued key has no axis labels to name its row by",
            "add name = \"...\", or give a key an array of values",
        ));
    }
    let name_span = m.name.as_ref().map_or_else(|| header.clone(), |n| n.span());
    let mut rows = Vec::new();
    for pick in product(&axes.iter().map(|a| a.values.len()).collect::<Vec<_>>()) {
        let excluded = rules.iter().any(|rule| rule.iter().all(|(axis, matches)| matches[pick[*axis]]));
        if excluded {
            continue;
        }
        let index = |key: &str| axes.iter().position(|a| a.key == key).map_or(0, |axis| pick[axis]);
        let name = match &template {
            Some(pieces) => pieces
                .iter()
                .map(|piece| match piece {
                    Piece::Text(text) => text.clone(),
                    Piece::Key(entry) => entries[*entry].values[index(entries[*entry].key)].label.clone(),
                })
                .collect(),
            None => axes.iter().zip(&pick).map(|(a, &i)| a.values[i].label.as_str()).collect::<Vec<_>>().join("-"),
        };
        rows.push(expanded(Spanned::new(name_span.clone(), name), m.row(index), header.clone(), "matrix", defaults));
    }
    if rows.is_empty() {
        let span = m.exclude.as_ref().map_or(header, |e| e.span());
        return Err(source.invalid(
            span,
            "matrix.exclude",
            "exclude drops every row of the matrix",
            "remove or narrow a rule",
        ));
    }
    Ok(rows)
}

/// Index tuples of the cartesian product of axes with `lens` values, the
/// last axis varying fastest. (A dozen lines here rather than a crate:
/// the firmware's build script links this crate under its own lock file.)
fn product(lens: &[usize]) -> Vec<Vec<usize>> {
    let mut rows = vec![Vec::new()];
    for &len in lens {
        rows = rows
            .into_iter()
            .flat_map(|row: Vec<usize>| {
                (0..len).map(move |i| {
                    let mut next = row.clone();
                    next.push(i);
                    next
                })
            })
            .collect();
    }
    rows
}

/// An exclude rule, per key: (index into the axes, which of that axis's
/// values it matches). A row is dropped when every key matches.
type Rule = Vec<(usize, Vec<bool>)>;

/// The matrix's exclude rules. A rule that names no axis, or a value no axis has, would
/// silently drop nothing: refused.
fn exclude_rules(
    source: &SourceFile,
    m: &RawMatrix,
    entries: &[Entry],
    axes: &[&Entry],
) -> Result<Vec<Rule>, ConfigError> {
    let axis_keys = || axes.iter().map(|a| a.key).collect::<Vec<_>>().join(", ");
    let mut rules = Vec::new();
    for rule in m.exclude.iter().flat_map(|e| e.get_ref()) {
        if rule.get_ref().is_empty() {
            return Err(source.invalid(
                rule.span(),
                "matrix.exclude",
                "an empty rule would drop every row",
                "name axis values to drop, e.g. { kernels = \"reference\" }",
            ));
        }
        let mut keys: Vec<_> = rule.get_ref().iter().collect();
        keys.sort_by_key(|(k, _)| k.span().start);
        let mut matchers = Vec::with_capacity(keys.len());
        for (key, value) in keys {
            let Some(axis) = axes.iter().position(|a| a.key == key.get_ref()) else {
                let what = if entries.iter().any(|e| e.key == key.get_ref()) {
                    format!("{} has one value in this matrix, it is not an axis", key.get_ref())
                } else if CASE_KEYS.contains(&key.get_ref().as_str()) {
                    format!("{} is not an axis of this matrix", key.get_ref())
                } else {
                    format!("{} is not a case key", key.get_ref())
                };
                return Err(source.invalid(
                    key.span(),
                    "matrix.exclude",
                    what,
                    if axes.is_empty() {
                        "remove the rule: the matrix has no axes".to_owned()
                    } else {
                        format!("name one of the axes ({}), or remove the rule", axis_keys())
                    },
                ));
            };
            let values = &axes[axis].values;
            let matches: Vec<bool> = values
                .iter()
                .map(|v| v.written == *value.get_ref() || value.get_ref().as_str() == Some(v.label.as_str()))
                .collect();
            if !matches.contains(&true) {
                let labels = values.iter().map(|v| v.label.as_str()).collect::<Vec<_>>().join(", ");
                return Err(source.invalid(
                    value.span(),
                    "matrix.exclude",
                    format!(
                        "{} = {} is not a value of the {} axis ({labels})",
                        key.get_ref(),
                        value.get_ref(),
                        key.get_ref()
                    ),
                    "give a value of the axis as written or its label, or remove the rule",
                ));
            }
            matchers.push((axis, matches));
        }
        rules.push(matchers);
    }
    Ok(rules)
}

/// A piece of a name template.
enum Piece {
    Text(String),
    /// `{key}`: the row's label for a key of the matrix (index into its
    /// entries).
    Key(usize),
}

fn parse_template(source: &SourceFile, name: &Spanned<String>, entries: &[Entry]) -> Result<Vec<Piece>, ConfigError> {
    let invalid = |message: String, fix: String| source.invalid(name.span(), "matrix.name", message, fix);
    let keys = || entries.iter().map(|e| format!("{{{}}}", e.key)).collect::<Vec<_>>().join(", ");
    let mut pieces = Vec::new();
    let mut rest = name.get_ref().as_str();
    while !rest.is_empty() {
        let text_end = rest.find(['{', '}']).unwrap_or(rest.len());
        if text_end > 0 {
            pieces.push(Piece::Text(rest[..text_end].to_owned()));
        }
        rest = &rest[text_end..];
        let Some(inner) = rest.strip_prefix('{') else {
            if rest.is_empty() {
                break;
            }
            return Err(invalid(
                format!("unmatched '}}' in name template \"{}\"", name.get_ref()),
                format!("placeholders are {}", keys()),
            ));
        };
        let Some(close) = inner.find('}') else {
            return Err(invalid(
                format!("unmatched '{{' in name template \"{}\"", name.get_ref()),
                format!("placeholders are {}", keys()),
            ));
        };
        let key = &inner[..close];
        let Some(entry) = entries.iter().position(|e| e.key == key) else {
            return Err(invalid(
                format!("placeholder {{{key}}} names no key of this matrix"),
                format!("use one of {}, or set {key} in the matrix", keys()),
            ));
        };
        pieces.push(Piece::Key(entry));
        rest = &inner[close + 1..];
    }
    Ok(pieces)
}

fn expanded(
    name: Spanned<String>,
    own: RawCaseKeys,
    header: Range<usize>,
    table: &'static str,
    defaults: &RawCaseKeys,
) -> Expanded {
    let set = own.set();
    let from_defaults = defaults.set().into_iter().filter(|k| !set.contains(k)).collect();
    Expanded { name, keys: own.or(defaults), header, table, from_defaults }
}
