//! `gridatlas synth`: a deterministic demo district on real division names and codes.
//! (Being written.)

use crate::model::FeatureSet;
use serde::{Deserialize, Serialize};

/// What to generate.
#[derive(Debug, Clone)]
pub struct SynthOptions {
    /// Random seed; the same seed and scale give byte-identical output.
    pub seed: u64,
    /// 1 = the real district (≈5,000 blocks); 20 ≈ a whole city (≈100,000 blocks).
    pub scale: f64,
    /// Number of each kind of defect to inject (0 = clean coverage).
    pub dirty: usize,
}

impl Default for SynthOptions {
    fn default() -> Self {
        SynthOptions {
            seed: 1,
            scale: 1.0,
            dirty: 0,
        }
    }
}

/// Kinds of injected defect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DefectKind {
    /// Part of a parent covered by none of its children.
    Gap,
    /// Two siblings overlapping.
    Overlap,
    /// A thin gap or overlap (drawing noise).
    Sliver,
    /// A block sticking out of its grid.
    BlockOutsideGrid,
    /// A self-intersecting ring.
    SelfIntersection,
}

/// One injected defect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Defect {
    /// Kind.
    pub kind: DefectKind,
    /// Codes of the features involved.
    pub codes: Vec<String>,
    /// A point inside the defect, `[lon, lat]`.
    pub point: [f64; 2],
}

/// Ground truth of a dirty synthesis.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    /// Every injected defect.
    pub defects: Vec<Defect>,
}

/// Generates a district.
pub fn synth(_opts: &SynthOptions) -> (FeatureSet, Truth) {
    (FeatureSet::default(), Truth::default())
}
