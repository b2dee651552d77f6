//! Streaming reader for the GeoJSON feature format. (Being written: see docs/geojson-format.md.)

use crate::model::FeatureSet;
use std::fmt;
use std::io::Read;
use std::path::Path;

/// One problem with the input, located precisely enough for a planner to fix it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// Index of the feature in the `features` array, when the problem belongs to one.
    pub index: Option<usize>,
    /// The feature's code, when it has a readable one.
    pub code: Option<String>,
    /// JSON path of the offending member, e.g. `features[3].geometry.coordinates[0][5][1]`.
    pub path: String,
    /// What is wrong, in plain English.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(i) = self.index {
            write!(f, "feature {i}")?;
            if let Some(c) = &self.code {
                write!(f, " (code {c})")?;
            }
            write!(f, ", ")?;
        }
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be opened or read.
    #[error("cannot read input: {0}")]
    Io(#[from] std::io::Error),
    /// The input is not well-formed JSON (or not a FeatureCollection at the top).
    #[error("malformed JSON at line {line}, column {column}: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the JSON parser said.
        message: String,
    },
    /// Well-formed JSON with one or more problems; every problem found is listed.
    #[error("{} problem(s) in input; first: {}", .0.len(), .0.first().map(ToString::to_string).unwrap_or_default())]
    Invalid(Vec<Problem>),
}

/// Reads a FeatureCollection from a byte stream.
pub fn read<R: Read>(_input: R) -> Result<FeatureSet, ReadError> {
    Err(ReadError::Invalid(vec![Problem {
        index: None,
        code: None,
        path: "$".into(),
        message: "reader not written yet".into(),
    }]))
}

/// Reads a FeatureCollection from memory.
pub fn read_slice(input: &[u8]) -> Result<FeatureSet, ReadError> {
    read(input)
}

/// Reads a FeatureCollection from a file.
pub fn read_path(path: &Path) -> Result<FeatureSet, ReadError> {
    let f = std::fs::File::open(path)?;
    read(std::io::BufReader::with_capacity(1 << 20, f))
}
