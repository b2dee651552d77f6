//! The coordinate systems files (Shapefile `.prj`, GeoPackage) are taken in — `FileCrs` — with
//! their EPSG codes and the conversion of their coordinates to and from longitude/latitude.
//! See docs/formats.md.
//!
//! 1. The catalogue: CGCS2000 (EPSG:4490) and WGS84 (4326) longitude/latitude; the CGCS2000
//!    Gauss–Krüger zones, 6° and 3°, with the zone number prefixed to the easting or not
//!    (EPSG:4491–4554); WGS84 UTM zones 49N–51N (32649–32651); Web Mercator (3857).
//! 2. Longitude/latitude out of [`FileCrs::to_lon_lat`] are CGCS2000 for the CGCS2000 systems
//!    and WGS84 for the others; the project takes the two as equal (`geometry::crs`: they
//!    differ by centimetres). The projections are `geometry::projection`.
//! 3. Beijing 1954, New Beijing and Xi'an 1980 are refused ([`LegacyDatum`]): their
//!    conversion to CGCS2000 needs shift parameters that differ by area, so no guess is made.

use crate::geometry::projection::{
    Ellipsoid, ProjectionError, TransverseMercator, web_mercator_forward, web_mercator_inverse,
};
use std::fmt;
use thiserror::Error;

/// The geodetic datum of a geographic system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Datum {
    /// China Geodetic Coordinate System 2000 (EPSG:1043, ellipsoid GRS80/CGCS2000).
    Cgcs2000,
    /// World Geodetic System 1984 (EPSG:6326).
    Wgs84,
}

/// The width of a Gauss–Krüger zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ZoneWidth {
    /// 3° zones: central meridians 75°E, 78°E, … 135°E (zone `z` has CM `3z`, z = 25..=45).
    Three,
    /// 6° zones: central meridians 75°E, 81°E, … 135°E (zone `z` has CM `6z − 3`, z = 13..=23).
    Six,
}

impl ZoneWidth {
    /// The width in degrees.
    pub fn degrees(self) -> u16 {
        match self {
            ZoneWidth::Three => 3,
            ZoneWidth::Six => 6,
        }
    }

    /// The zone whose central meridian is `cm` (degrees east), if there is one in China.
    pub fn zone_of(self, cm: u16) -> Option<u16> {
        let z = match self {
            ZoneWidth::Three if cm % 3 == 0 => cm / 3,
            ZoneWidth::Six if (cm + 3) % 6 == 0 => (cm + 3) / 6,
            _ => return None,
        };
        self.zones().contains(&z).then_some(z)
    }

    /// The central meridian of zone `zone`, if it is one of China's.
    pub fn cm_of(self, zone: u16) -> Option<u16> {
        if !self.zones().contains(&zone) {
            return None;
        }
        Some(match self {
            ZoneWidth::Three => 3 * zone,
            ZoneWidth::Six => 6 * zone - 3,
        })
    }

    /// The zone numbers with an EPSG code: 25..=45 (3°), 13..=23 (6°).
    pub fn zones(self) -> std::ops::RangeInclusive<u16> {
        match self {
            ZoneWidth::Three => 25..=45,
            ZoneWidth::Six => 13..=23,
        }
    }
}

/// A coordinate system a file's coordinates may be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileCrs {
    /// Longitude/latitude in degrees: EPSG:4490 (CGCS2000) or 4326 (WGS84).
    Geographic(Datum),
    /// CGCS2000 Gauss–Krüger (transverse Mercator, scale 1, false northing 0): EPSG:4491–4554.
    GaussKruger {
        /// 3° or 6° zones.
        width: ZoneWidth,
        /// Central meridian, degrees east (a zone's: 75..=135).
        cm: u16,
        /// The zone number is prefixed to the easting (false easting `zone·10⁶ + 500,000`).
        prefixed: bool,
    },
    /// WGS84 UTM zone `zone` north (49..=51): EPSG:32649–32651.
    Utm {
        /// The zone, 49..=51.
        zone: u8,
    },
    /// Web Mercator, EPSG:3857.
    WebMercator,
}

/// The datums refused because their conversion to CGCS2000 needs local shift parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LegacyDatum {
    /// Beijing 1954 (北京54; EPSG:4214, Krasovsky 1940 ellipsoid).
    Beijing1954,
    /// New Beijing (新北京54; EPSG:4555, Krasovsky 1940 ellipsoid).
    NewBeijing,
    /// Xi'an 1980 (西安80; EPSG:4610, IAG 1975 ellipsoid).
    Xian1980,
}

impl LegacyDatum {
    /// The datum of a legacy EPSG code (geographic or Gauss–Krüger), if it is one.
    pub fn of_epsg(code: u32) -> Option<LegacyDatum> {
        match code {
            4214 | 2401..=2442 | 21413..=21423 | 21453..=21463 | 21473..=21483 => {
                Some(LegacyDatum::Beijing1954)
            }
            4555 | 4568..=4589 | 4652..=4656 | 4766..=4800 | 4812 | 4822 => {
                Some(LegacyDatum::NewBeijing)
            }
            4610 | 2327..=2390 => Some(LegacyDatum::Xian1980),
            _ => None,
        }
    }
}

impl fmt::Display for LegacyDatum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LegacyDatum::Beijing1954 => "Beijing 1954 (北京54)",
            LegacyDatum::NewBeijing => "New Beijing (新北京54)",
            LegacyDatum::Xian1980 => "Xi'an 1980 (西安80)",
        })
    }
}

/// The advice shared by every refusal of a legacy datum or local grid.
pub const CONVERT_FIRST: &str = "convert the data to CGCS2000 (EPSG:4490, or a CGCS2000 Gauss-Kruger zone EPSG:4491-4554) with the conversion parameters of your local surveying and mapping authority, then import it";

/// An EPSG code that is not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum CrsError {
    /// A system on a legacy Chinese datum.
    #[error(
        "EPSG:{code} is on the {datum} datum, which is not taken: its conversion to CGCS2000 needs seven shift parameters that differ by area, and none is guessed; {CONVERT_FIRST}"
    )]
    Legacy {
        /// The code given.
        code: u32,
        /// Its datum.
        datum: LegacyDatum,
    },
    /// Any other code.
    #[error(
        "EPSG:{0} is not supported: the coordinate systems taken are EPSG:4490 and 4326 (longitude/latitude), 4491-4554 (CGCS2000 Gauss-Kruger), 32649-32651 (WGS84 UTM 49N-51N) and 3857 (Web Mercator)"
    )]
    Unsupported(u32),
}

impl FileCrs {
    /// CGCS2000 longitude/latitude, EPSG:4490.
    pub const CGCS2000: FileCrs = FileCrs::Geographic(Datum::Cgcs2000);
    /// WGS84 longitude/latitude, EPSG:4326.
    pub const WGS84: FileCrs = FileCrs::Geographic(Datum::Wgs84);

    /// The system of an EPSG code.
    pub fn from_epsg(code: u32) -> Result<FileCrs, CrsError> {
        // Offsets within the 4491–4554 family, in order: 6° zones 13–23, 6° CM 75E–135E,
        // 3° zones 25–45, 3° CM 75E–135E.
        let gk = |width: ZoneWidth, cm: u32, prefixed: bool| FileCrs::GaussKruger {
            width,
            cm: cm as u16,
            prefixed,
        };
        Ok(match code {
            4490 => FileCrs::CGCS2000,
            4326 => FileCrs::WGS84,
            4491..=4501 => gk(ZoneWidth::Six, 75 + 6 * (code - 4491), true),
            4502..=4512 => gk(ZoneWidth::Six, 75 + 6 * (code - 4502), false),
            4513..=4533 => gk(ZoneWidth::Three, 75 + 3 * (code - 4513), true),
            4534..=4554 => gk(ZoneWidth::Three, 75 + 3 * (code - 4534), false),
            32649..=32651 => FileCrs::Utm {
                zone: (code - 32600) as u8,
            },
            3857 => FileCrs::WebMercator,
            _ => {
                return Err(match LegacyDatum::of_epsg(code) {
                    Some(datum) => CrsError::Legacy { code, datum },
                    None => CrsError::Unsupported(code),
                });
            }
        })
    }

    /// A Gauss–Krüger system of the catalogue: `None` if `cm` is not the central meridian of
    /// a zone of that width in China.
    pub fn gauss_kruger(width: ZoneWidth, cm: u16, prefixed: bool) -> Option<FileCrs> {
        width.zone_of(cm)?;
        Some(FileCrs::GaussKruger {
            width,
            cm,
            prefixed,
        })
    }

    /// The EPSG code (of a value from [`FileCrs::from_epsg`], [`FileCrs::gauss_kruger`] or the
    /// `.prj` reader; a variant built by hand outside the catalogue has no meaningful code).
    pub fn epsg(self) -> u32 {
        match self {
            FileCrs::Geographic(Datum::Cgcs2000) => 4490,
            FileCrs::Geographic(Datum::Wgs84) => 4326,
            FileCrs::GaussKruger {
                width,
                cm,
                prefixed,
            } => {
                let i = u32::from(cm.saturating_sub(75)) / u32::from(width.degrees());
                match (width, prefixed) {
                    (ZoneWidth::Six, true) => 4491 + i,
                    (ZoneWidth::Six, false) => 4502 + i,
                    (ZoneWidth::Three, true) => 4513 + i,
                    (ZoneWidth::Three, false) => 4534 + i,
                }
            }
            FileCrs::Utm { zone } => 32600 + u32::from(zone),
            FileCrs::WebMercator => 3857,
        }
    }

    /// The EPSG name, e.g. "CGCS2000 / 3-degree Gauss-Kruger CM 120E".
    pub fn name(self) -> String {
        match self {
            FileCrs::Geographic(Datum::Cgcs2000) => {
                "China Geodetic Coordinate System 2000".to_owned()
            }
            FileCrs::Geographic(Datum::Wgs84) => "WGS 84".to_owned(),
            FileCrs::GaussKruger {
                width,
                cm,
                prefixed,
            } => {
                let w = match width {
                    ZoneWidth::Three => "3-degree ",
                    ZoneWidth::Six => "",
                };
                match (prefixed, width.zone_of(cm)) {
                    (true, Some(z)) => format!("CGCS2000 / {w}Gauss-Kruger zone {z}"),
                    _ => format!("CGCS2000 / {w}Gauss-Kruger CM {cm}E"),
                }
            }
            FileCrs::Utm { zone } => format!("WGS 84 / UTM zone {zone}N"),
            FileCrs::WebMercator => "WGS 84 / Pseudo-Mercator".to_owned(),
        }
    }

    /// Whether coordinates are longitude/latitude in degrees (else projected metres).
    pub fn is_geographic(self) -> bool {
        matches!(self, FileCrs::Geographic(_))
    }

    /// The transverse Mercator of a Gauss–Krüger or UTM system.
    pub fn transverse_mercator(self) -> Option<TransverseMercator> {
        match self {
            FileCrs::GaussKruger {
                width,
                cm,
                prefixed,
            } => {
                let zone = if prefixed { width.zone_of(cm)? } else { 0 };
                let fe = f64::from(zone) * 1e6 + 500_000.0;
                TransverseMercator::new(Ellipsoid::CGCS2000, f64::from(cm), 1.0, fe, 0.0).ok()
            }
            FileCrs::Utm { zone } => TransverseMercator::utm_north(zone).ok(),
            _ => None,
        }
    }

    /// A coordinate of this system (x = longitude or easting, y = latitude or northing,
    /// whatever the EPSG axis order) → longitude/latitude in degrees.
    pub fn to_lon_lat(self, x: f64, y: f64) -> Result<(f64, f64), ProjectionError> {
        match self {
            FileCrs::Geographic(_) => check_geographic(x, y),
            FileCrs::WebMercator => web_mercator_inverse(x, y),
            FileCrs::GaussKruger { .. } | FileCrs::Utm { .. } => self.tm()?.inverse(x, y),
        }
    }

    /// Longitude/latitude in degrees → a coordinate of this system (x, y as in
    /// [`FileCrs::to_lon_lat`]).
    pub fn from_lon_lat(self, lon: f64, lat: f64) -> Result<(f64, f64), ProjectionError> {
        match self {
            FileCrs::Geographic(_) => check_geographic(lon, lat),
            FileCrs::WebMercator => web_mercator_forward(lon, lat),
            FileCrs::GaussKruger { .. } | FileCrs::Utm { .. } => self.tm()?.forward(lon, lat),
        }
    }

    /// The transverse Mercator, or an error naming the parameter outside the catalogue (a
    /// `GaussKruger` or `Utm` value built by hand with a central meridian or zone of none).
    fn tm(self) -> Result<TransverseMercator, ProjectionError> {
        self.transverse_mercator().ok_or(match self {
            FileCrs::Utm { zone } => ProjectionError::Parameter {
                name: "UTM zone",
                value: f64::from(zone),
            },
            FileCrs::GaussKruger { cm, .. } => ProjectionError::Parameter {
                name: "central meridian",
                value: f64::from(cm),
            },
            _ => ProjectionError::Parameter {
                name: "projection",
                value: 0.0,
            },
        })
    }
}

impl fmt::Display for FileCrs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EPSG:{} ({})", self.epsg(), self.name())
    }
}

fn check_geographic(lon: f64, lat: f64) -> Result<(f64, f64), ProjectionError> {
    if !lon.is_finite() || lon.abs() > 180.0 {
        return Err(ProjectionError::Longitude(lon));
    }
    if !lat.is_finite() || lat.abs() > 90.0 {
        return Err(ProjectionError::Latitude { lat, max: 90.0 });
    }
    Ok((lon, lat))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_of_the_catalogue_round_trips() {
        let codes = [4490, 4326, 3857]
            .into_iter()
            .chain(4491..=4554)
            .chain(32649..=32651);
        for code in codes {
            let crs = FileCrs::from_epsg(code).unwrap();
            assert_eq!(crs.epsg(), code, "{crs:?}");
            assert!(crs.to_string().starts_with(&format!("EPSG:{code} (")));
        }
        for (code, name) in [
            (4549, "CGCS2000 / 3-degree Gauss-Kruger CM 120E"),
            (4528, "CGCS2000 / 3-degree Gauss-Kruger zone 40"),
            (4491, "CGCS2000 / Gauss-Kruger zone 13"),
            (4509, "CGCS2000 / Gauss-Kruger CM 117E"),
            (32650, "WGS 84 / UTM zone 50N"),
            (3857, "WGS 84 / Pseudo-Mercator"),
        ] {
            assert_eq!(FileCrs::from_epsg(code).unwrap().name(), name);
        }
        assert_eq!(
            FileCrs::from_epsg(32650).unwrap(),
            FileCrs::Utm { zone: 50 }
        );
    }

    #[test]
    fn legacy_and_unknown_codes_are_refused_with_the_reason() {
        for (code, datum) in [
            (4214, LegacyDatum::Beijing1954),
            (2437, LegacyDatum::Beijing1954),
            (21460, LegacyDatum::Beijing1954),
            (4555, LegacyDatum::NewBeijing),
            (4797, LegacyDatum::NewBeijing),
            (4610, LegacyDatum::Xian1980),
            (2385, LegacyDatum::Xian1980),
        ] {
            let e = FileCrs::from_epsg(code).unwrap_err();
            assert_eq!(e, CrsError::Legacy { code, datum });
            let m = e.to_string();
            assert!(m.contains("shift parameters") && m.contains("local"), "{m}");
        }
        let e = FileCrs::from_epsg(32648).unwrap_err();
        assert_eq!(e, CrsError::Unsupported(32648));
        assert!(e.to_string().contains("32649-32651"));
    }

    #[test]
    fn the_zone_prefix_is_in_the_easting() {
        let zoned = FileCrs::from_epsg(4528).unwrap();
        let plain = FileCrs::from_epsg(4549).unwrap();
        let (xz, yz) = zoned.from_lon_lat(121.47, 31.23).unwrap();
        let (xp, yp) = plain.from_lon_lat(121.47, 31.23).unwrap();
        assert!((xz - xp - 40_000_000.0).abs() < 1e-6 && (yz - yp).abs() < 1e-9);
        let (lon, lat) = zoned.to_lon_lat(xz, yz).unwrap();
        assert!((lon - 121.47).abs() < 1e-10 && (lat - 31.23).abs() < 1e-10);
        assert!(FileCrs::CGCS2000.to_lon_lat(200.0, 0.0).is_err());
        assert_eq!(FileCrs::WGS84.from_lon_lat(121.0, 31.0), Ok((121.0, 31.0)));
    }
}
