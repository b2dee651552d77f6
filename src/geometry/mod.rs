//! Geometry shared by the atlas, validation and the synthesiser: the exact point-in-polygon rule,
//! measures in metres on the WGS84 ellipsoid, the Chinese web-map shifts (`crs`) and the map
//! projections of imported files (`projection`: Gauss–Krüger/UTM, Web Mercator).

pub mod crs;
pub mod measure;
pub mod pip;
pub mod projection;
