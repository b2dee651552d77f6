//! The domain model: layers, kinds, codes, people, features, management units.
//!
//! Plain data, no I/O. Identifiers follow the glossary (docs/glossary.md) so that code, API fields,
//! database columns and the GeoJSON format read the same as the policy documents.
//!
//! A [`FeatureSet`] is one consistent picture of a district: every area and road segment with its
//! parent, plus the management units. It is what the reader produces, what the synthesiser
//! generates, what validation checks and what the atlas indexes.

mod feature;
mod layer;
mod person;
pub mod text;

pub use feature::{Feature, FeatureSet, Geometry, ManagementUnit, ManagementUnitKind};
pub use layer::{Kind, Layer};
pub use person::{Person, Role};
