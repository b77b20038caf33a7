//! The case tables of a run configuration, expanded into one list of cases in
//! file order: `[defaults]` (keys every case starts from) and `[[case]]`.
//! Each expanded case remembers where its keys came from, so a validation
//! error in `run.rs` can name the table the user has to edit.

use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use crate::SourceFile;

/// Declares the case keys once, for `[defaults]` and `[[case]]`, so the
/// tables cannot drift apart. Each key: `field "kebab-name": type`.
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
    /// `case` for a `[[case]]`.
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

    /// Names the case in an error about `key` when its place does not: a
    /// value in `[defaults]` is shared by every case.
    pub fn context(&self, key: &str) -> Option<String> {
        self.from_defaults.contains(&key).then(|| format!("in case \"{}\"", self.name.get_ref()))
    }

    /// Where the case is written, to name it next to another one.
    pub fn place(&self, source: &SourceFile) -> String {
        let (line, column) = source.line_column(self.name.span().start);
        format!("the [[{}]] at {line}:{column}", self.table)
    }
}

/// The cases of a run configuration in file order, each starting from
/// `defaults`.
pub(crate) fn expand(defaults: &RawCaseKeys, cases: &[Spanned<RawCase>]) -> Vec<Expanded> {
    cases.iter().map(|c| expanded(c.get_ref().name.clone(), c.get_ref().keys(), c.span(), "case", defaults)).collect()
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
