//! Coordinates from Chinese web maps: GCJ-02 (Amap, Tencent, WeChat) and BD-09 (Baidu) to and
//! from WGS84; CGCS2000 is taken as WGS84 (they differ by centimetres).
//!
//! The forward transforms are the published ones. The inverses are solved by fixed-point
//! iteration (`w ← w − (forward(w) − target)`) until the residual is below 1e-10° (≈ 0.01 mm),
//! not by the common one-step approximation, which is off by up to a few metres. Outside the
//! rough box of mainland China the shifted systems equal WGS84, as the maps do.
//!
//! Small crates exist for this (e.g. `gcoord` 0.1), but without an iterative inverse; the
//! transforms are short, so they are written here and checked against reference values computed
//! by an independent implementation (PyPI `coordtransform`, see tests).

use serde::{Deserialize, Serialize};
use std::f64::consts::PI;
use std::fmt;
use std::str::FromStr;

/// A coordinate reference system a point may be given in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Crs {
    /// WGS84 longitude/latitude (EPSG:4326), the stored system.
    #[default]
    Wgs84,
    /// CGCS2000 (EPSG:4490): treated as WGS84.
    Cgcs2000,
    /// GCJ-02 ("Mars coordinates"): Amap, Tencent, WeChat.
    Gcj02,
    /// BD-09: Baidu.
    Bd09,
}

impl Crs {
    /// Every accepted value.
    pub const ALL: [Crs; 4] = [Crs::Wgs84, Crs::Cgcs2000, Crs::Gcj02, Crs::Bd09];

    /// The API identifier.
    pub fn as_str(self) -> &'static str {
        match self {
            Crs::Wgs84 => "wgs84",
            Crs::Cgcs2000 => "cgcs2000",
            Crs::Gcj02 => "gcj02",
            Crs::Bd09 => "bd09",
        }
    }

    /// [`Crs::to_wgs84`] of a point given by a client: the longitude must lie in [-180, 180]
    /// and the latitude in [-90, 90] (finite), else the error names which is out of range.
    pub fn checked_to_wgs84(self, lon: f64, lat: f64) -> Result<(f64, f64), String> {
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err(format!("longitude {lon} is outside [-180, 180]"));
        }
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(format!("latitude {lat} is outside [-90, 90]"));
        }
        Ok(self.to_wgs84(lon, lat))
    }

    /// Converts `(lon, lat)` in this system to WGS84.
    pub fn to_wgs84(self, lon: f64, lat: f64) -> (f64, f64) {
        match self {
            Crs::Wgs84 | Crs::Cgcs2000 => (lon, lat),
            Crs::Gcj02 => gcj02_to_wgs84(lon, lat),
            Crs::Bd09 => {
                let (x, y) = bd09_to_gcj02(lon, lat);
                gcj02_to_wgs84(x, y)
            }
        }
    }

    /// Converts WGS84 `(lon, lat)` to this system.
    pub fn from_wgs84(self, lon: f64, lat: f64) -> (f64, f64) {
        match self {
            Crs::Wgs84 | Crs::Cgcs2000 => (lon, lat),
            Crs::Gcj02 => wgs84_to_gcj02(lon, lat),
            Crs::Bd09 => {
                let (x, y) = wgs84_to_gcj02(lon, lat);
                gcj02_to_bd09(x, y)
            }
        }
    }
}

impl fmt::Display for Crs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Crs {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let l = s.to_ascii_lowercase();
        match l.as_str() {
            "wgs84" | "epsg:4326" | "4326" => Ok(Crs::Wgs84),
            "cgcs2000" | "epsg:4490" | "4490" => Ok(Crs::Cgcs2000),
            "gcj02" | "gcj-02" => Ok(Crs::Gcj02),
            "bd09" | "bd-09" => Ok(Crs::Bd09),
            _ => Err(format!(
                "unknown crs {s:?}: expected one of wgs84, cgcs2000, gcj02, bd09"
            )),
        }
    }
}

const A: f64 = 6_378_245.0;
const EE: f64 = 0.006_693_421_622_965_943;
const X_PI: f64 = PI * 3000.0 / 180.0;

fn out_of_china(lon: f64, lat: f64) -> bool {
    !(72.004..=137.8347).contains(&lon) || !(0.8293..=55.8271).contains(&lat)
}

fn transform_lat(x: f64, y: f64) -> f64 {
    let mut r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    r
}

fn transform_lon(x: f64, y: f64) -> f64 {
    let mut r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    r
}

/// WGS84 → GCJ-02.
pub fn wgs84_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    if out_of_china(lon, lat) {
        return (lon, lat);
    }
    let mut dlat = transform_lat(lon - 105.0, lat - 35.0);
    let mut dlon = transform_lon(lon - 105.0, lat - 35.0);
    let radlat = lat / 180.0 * PI;
    let magic = 1.0 - EE * radlat.sin() * radlat.sin();
    let sqrt_magic = magic.sqrt();
    dlat = (dlat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrt_magic) * PI);
    dlon = (dlon * 180.0) / (A / sqrt_magic * radlat.cos() * PI);
    (lon + dlon, lat + dlat)
}

/// Inverts `forward` at `target` by fixed-point iteration.
fn invert(target: (f64, f64), forward: impl Fn(f64, f64) -> (f64, f64)) -> (f64, f64) {
    let (mut x, mut y) = target;
    for _ in 0..30 {
        let (fx, fy) = forward(x, y);
        let (dx, dy) = (fx - target.0, fy - target.1);
        x -= dx;
        y -= dy;
        if dx.abs() < 1e-10 && dy.abs() < 1e-10 {
            break;
        }
    }
    (x, y)
}

/// GCJ-02 → WGS84 (iterative; residual below 1e-10°).
pub fn gcj02_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    if !lon.is_finite() || !lat.is_finite() || out_of_china(lon, lat) {
        return (lon, lat);
    }
    invert((lon, lat), wgs84_to_gcj02)
}

/// GCJ-02 → BD-09.
pub fn gcj02_to_bd09(lon: f64, lat: f64) -> (f64, f64) {
    let z = (lon * lon + lat * lat).sqrt() + 0.00002 * (lat * X_PI).sin();
    let theta = lat.atan2(lon) + 0.000003 * (lon * X_PI).cos();
    (z * theta.cos() + 0.0065, z * theta.sin() + 0.006)
}

/// BD-09 → GCJ-02 (iterative).
pub fn bd09_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    if !lon.is_finite() || !lat.is_finite() {
        return (lon, lat);
    }
    invert((lon, lat), gcj02_to_bd09)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::measure::LocalFrame;

    fn metres(a: (f64, f64), b: (f64, f64)) -> f64 {
        let f = LocalFrame::new(a.0, a.1);
        let d = f.to_xy(geo::Coord { x: b.0, y: b.1 });
        (d.x * d.x + d.y * d.y).sqrt()
    }

    #[test]
    fn round_trips_are_sub_millimetre_across_shanghai() {
        for i in 0..20 {
            for j in 0..20 {
                let w = (120.85 + 0.05 * f64::from(i), 30.65 + 0.05 * f64::from(j));
                for crs in Crs::ALL {
                    let s = crs.from_wgs84(w.0, w.1);
                    let back = crs.to_wgs84(s.0, s.1);
                    assert!(metres(w, back) < 0.001, "{crs} {w:?}");
                }
            }
        }
    }

    #[test]
    fn the_shift_is_hundreds_of_metres_in_shanghai() {
        let w = (121.2, 30.8);
        let g = wgs84_to_gcj02(w.0, w.1);
        let b = Crs::Bd09.from_wgs84(w.0, w.1);
        assert!((300.0..800.0).contains(&metres(w, g)), "{}", metres(w, g));
        assert!((800.0..1500.0).contains(&metres(w, b)), "{}", metres(w, b));
    }

    #[test]
    fn outside_china_nothing_moves() {
        assert_eq!(Crs::Gcj02.to_wgs84(2.35, 48.85), (2.35, 48.85));
        assert!(Crs::Wgs84.checked_to_wgs84(181.0, 0.0).is_err());
        assert!(Crs::Wgs84.checked_to_wgs84(0.0, f64::NAN).is_err());
        assert_eq!(Crs::Wgs84.checked_to_wgs84(121.0, 31.0), Ok((121.0, 31.0)));
        assert_eq!(wgs84_to_gcj02(-74.0, 40.7), (-74.0, 40.7));
    }

    #[test]
    fn crs_names_parse() {
        assert_eq!("GCJ02".parse::<Crs>(), Ok(Crs::Gcj02));
        assert_eq!("EPSG:4490".parse::<Crs>(), Ok(Crs::Cgcs2000));
        assert!(
            "mercator"
                .parse::<Crs>()
                .unwrap_err()
                .contains("wgs84, cgcs2000")
        );
    }
}
