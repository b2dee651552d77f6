//! Geometry shared by the atlas, validation and the synthesiser: the exact point-in-polygon rule,
//! and measures in metres on the WGS84 ellipsoid.

pub mod crs;
pub mod measure;
pub mod pip;
