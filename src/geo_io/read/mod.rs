//! Streaming reader for the GeoJSON feature format (docs/geojson-format.md).
//!
//! 1. The top-level object is walked with a serde [`Visitor`]; its members may come in any order.
//!    `features` is consumed one element at a time: each feature is parsed into a small raw form
//!    (properties as a JSON map, coordinates as a compact tree), checked, converted to a
//!    [`Feature`] and the raw form dropped. Memory stays near the size of the result.
//! 2. Per feature: `layer`, `code`, `name`, `parent`, `kind`, `people`, the geometry type for the
//!    layer, every position (two or three finite numbers, longitude in [-180, 180], latitude in
//!    [-90, 90]), ring length and closure, line length. Ring orientation is normalised silently
//!    (exterior counter-clockwise, holes clockwise, RFC 7946).
//! 3. Across features, during the stream: duplicate codes, more than one district.
//! 4. After the stream: parents (known code, right layer) and the `management_units` member.
//!
//! Every problem is collected (up to [`ReadOptions::max_problems_per_feature`] per feature, then
//! one summary line) and returned together in [`ReadError::Invalid`], each with the feature index,
//! its code when readable, and the JSON path of the member at fault.
//!
//! Files: [`json`] (raw forms and serde visitors), [`properties`] (a feature's members and
//! properties), [`geometry`] (its geometry), [`units`] (management units), [`state`] (checks
//! across features), [`problems`] (the problem collector of one feature); this file has the public
//! types, the limits ([`ReadOptions`]) and the entry points.

mod geometry;
mod json;
mod problems;
mod properties;
mod raw;
mod state;
#[cfg(test)]
mod tests;
mod units;

use crate::model::{FeatureSet, Layer};
use json::TopVisitor;
use serde::de::Deserializer;
use state::State;
use std::collections::HashMap;
use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// One problem with the input, located precisely enough for a planner to fix it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// Index of the feature in the `features` array, when the problem belongs to one.
    pub index: Option<usize>,
    /// The feature's code, when it has a readable one (for a management unit: the unit's code).
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
    /// The input is not well-formed JSON (or not a JSON object at the top).
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
    /// A limit of [`ReadOptions`] was exceeded; reading stopped there.
    #[error("input too large: {0}")]
    TooLarge(Problem),
}

/// Limits for reading untrusted input. The defaults impose no size limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOptions {
    /// Most features accepted; more gives [`ReadError::TooLarge`].
    pub max_features: Option<usize>,
    /// Most positions (more exactly: array elements inside `coordinates`) in one feature's
    /// geometry; more gives [`ReadError::TooLarge`]. Checked while parsing, so a huge geometry
    /// is refused before it is held in memory.
    pub max_positions_per_feature: Option<usize>,
    /// Most problems listed for one feature; the rest are counted in one summary problem.
    /// Default 20 (a feature in the wrong CRS would otherwise give one problem per position).
    pub max_problems_per_feature: usize,
    /// Codes outside the file that a `parent` may name, with their layers: when a planner uploads
    /// one street, its parent (the district) is in the current generation, not in the file; and
    /// a management unit of that upload may serve grids of other streets.
    pub known_parents: Option<std::sync::Arc<HashMap<String, Layer>>>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            max_features: None,
            max_positions_per_feature: None,
            max_problems_per_feature: 20,
            known_parents: None,
        }
    }
}

/// Reads a FeatureCollection from a byte stream, with default options.
pub fn read<R: Read>(input: R) -> Result<FeatureSet, ReadError> {
    read_with(input, &ReadOptions::default())
}

/// Reads a FeatureCollection from a byte stream.
pub fn read_with<R: Read>(input: R, opts: &ReadOptions) -> Result<FeatureSet, ReadError> {
    read_buffered(BufReader::with_capacity(1 << 16, input), opts)
}

/// Reads a FeatureCollection from memory, with default options.
pub fn read_slice(input: &[u8]) -> Result<FeatureSet, ReadError> {
    read_slice_with(input, &ReadOptions::default())
}

/// Reads a FeatureCollection from memory.
pub fn read_slice_with(input: &[u8], opts: &ReadOptions) -> Result<FeatureSet, ReadError> {
    let input = input.strip_prefix(BOM).unwrap_or(input);
    run(serde_json::Deserializer::from_slice(input), opts)
}

/// Reads a FeatureCollection from a file, with default options.
pub fn read_path(path: &Path) -> Result<FeatureSet, ReadError> {
    read_path_with(path, &ReadOptions::default())
}

/// Reads a FeatureCollection from a file.
pub fn read_path_with(path: &Path, opts: &ReadOptions) -> Result<FeatureSet, ReadError> {
    let f = std::fs::File::open(path)?;
    read_buffered(BufReader::with_capacity(1 << 20, f), opts)
}

/// Reads features given one by one as GeoJSON Feature values, with every check of the
/// stream reader (the readers of tables — Shapefile, GeoPackage, CSV — build them; their
/// problems are then relocated to file, record and column by `geo_io::source`).
pub(crate) fn read_feature_values<I>(
    features: I,
    opts: &ReadOptions,
) -> Result<FeatureSet, ReadError>
where
    I: IntoIterator<Item = serde_json::Value>,
{
    use serde::de::DeserializeSeed;
    let mut st = State::new(opts);
    st.seen_type = true;
    st.seen_features = true;
    for (index, f) in features.into_iter().enumerate() {
        if let Some(max) = opts.max_features {
            if index >= max {
                return Err(ReadError::TooLarge(Problem {
                    index: Some(index),
                    code: None,
                    path: format!("features[{index}]"),
                    message: format!("more than {max} features (the limit)"),
                }));
            }
        }
        st.budget = raw::Budget {
            left: opts.max_positions_per_feature.unwrap_or(usize::MAX),
            exceeded: false,
        };
        match (json::FeatureSeed {
            budget: &mut st.budget,
        })
        .deserialize(f)
        {
            Ok(raw) => st.accept(index, raw),
            Err(e) => {
                let max = opts.max_positions_per_feature.unwrap_or(usize::MAX);
                let (path, message) = if st.budget.exceeded {
                    (
                        format!("features[{index}].geometry.coordinates"),
                        format!(
                            "more than {max} positions in one feature (the limit); simplify the geometry or split the feature"
                        ),
                    )
                } else {
                    (format!("features[{index}]"), e.to_string())
                };
                return Err(ReadError::TooLarge(Problem {
                    index: Some(index),
                    code: None,
                    path,
                    message,
                }));
            }
        }
    }
    st.finish()
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

fn read_buffered<R: BufRead>(mut input: R, opts: &ReadOptions) -> Result<FeatureSet, ReadError> {
    // Skip a UTF-8 byte order mark (written by some Windows GIS tools). The parser reads straight
    // from `input` (a BufReader reads byte by byte fastest); only when the first read returned
    // fewer than 3 bytes that could start a mark are they collected and chained in front.
    let buf = input.fill_buf()?;
    if buf.starts_with(BOM) {
        input.consume(BOM.len());
        return run(serde_json::Deserializer::from_reader(input), opts);
    }
    if buf.len() >= BOM.len() || !BOM.starts_with(buf) || buf.is_empty() {
        return run(serde_json::Deserializer::from_reader(input), opts);
    }
    let mut head = Vec::with_capacity(BOM.len());
    while head.len() < BOM.len() {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            break;
        }
        let n = buf.len().min(BOM.len() - head.len());
        head.extend_from_slice(&buf[..n]);
        input.consume(n);
    }
    let head = if head == BOM { Vec::new() } else { head };
    let chained = std::io::Cursor::new(head).chain(input);
    run(serde_json::Deserializer::from_reader(chained), opts)
}

fn run<'de, R: serde_json::de::Read<'de>>(
    mut de: serde_json::Deserializer<R>,
    opts: &ReadOptions,
) -> Result<FeatureSet, ReadError> {
    let mut st = State::new(opts);
    let parsed = (&mut de)
        .deserialize_any(TopVisitor { st: &mut st })
        .and_then(|()| de.end());
    if let Some(p) = st.too_large.take() {
        return Err(ReadError::TooLarge(p));
    }
    if let Err(e) = parsed {
        return Err(syntax_error(e));
    }
    st.finish()
}

fn syntax_error(e: serde_json::Error) -> ReadError {
    if e.is_io() {
        return ReadError::Io(e.into());
    }
    let (line, column) = (e.line(), e.column());
    let full = e.to_string();
    let suffix = format!(" at line {line} column {column}");
    let mut message = full.strip_suffix(&suffix).unwrap_or(&full).to_string();
    if message == "number out of range" {
        message.push_str(" (a number this large is not a finite coordinate or value)");
    }
    ReadError::Syntax {
        line,
        column,
        message,
    }
}
