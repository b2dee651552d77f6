//! Map projections of the coordinate systems files come in (see `geo_io::crs`): transverse
//! Mercator on an ellipsoid (Gauss–Krüger of CGCS2000, UTM of WGS84) forward and inverse, and
//! Web Mercator (EPSG:3857). Pure functions on `f64` degrees and metres; input outside a
//! projection's domain is a typed [`ProjectionError`], never a NaN.
//!
//! 1. Transverse Mercator uses Krüger's series to sixth order in the third flattening `n`, in
//!    the form of Karney (2011, "Transverse Mercator with an accuracy of a few nanometers",
//!    J. Geodesy 85:475): conformal latitude via `τ' = τ√(1+σ²) − σ√(1+τ²)`, the spherical
//!    transverse Mercator `(ξ', η')`, then the α series forward and the β series inverse;
//!    the inverse solves `τ` from `τ'` by Newton's method. Error below 5 nm within 3,900 km of
//!    the central meridian; points more than [`MAX_CENTRAL_MERIDIAN_OFFSET`] degrees of
//!    longitude from it are refused (a 6° zone spans ±3°).
//! 2. Web Mercator projects WGS84 longitude/latitude as if on a sphere of radius 6,378,137 m:
//!    `x = Rλ`, `y = R·asinh(tan φ)`; latitudes beyond ±85.0511° (the square map) are refused.
//!
//! Checked against PROJ (PyPI pyproj) on a grid over China in `tests/projection.rs`.

use std::f64::consts::{FRAC_PI_2, PI};
use thiserror::Error;

/// Points farther than this many degrees of longitude from the central meridian are refused
/// by the transverse Mercator (the series stays nanometre-accurate well beyond it).
pub const MAX_CENTRAL_MERIDIAN_OFFSET: f64 = 30.0;

/// Radius of the Web Mercator sphere (the WGS84 semi-major axis), metres.
pub const WEB_MERCATOR_RADIUS: f64 = 6_378_137.0;

/// Largest latitude Web Mercator takes: the square map, `atan(sinh π)` in degrees.
pub const WEB_MERCATOR_MAX_LAT: f64 = 85.051_128_779_806_59;

/// A point or parameter outside a projection's domain.
#[derive(Debug, Clone, Copy, PartialEq, Error)]
pub enum ProjectionError {
    /// The longitude is not a finite number in [-180, 180].
    #[error("longitude {0} is not a number in [-180, 180]")]
    Longitude(f64),
    /// The latitude is not a finite number in [-90, 90] (or beyond Web Mercator's ±85.0511°).
    #[error("latitude {lat} is not a number in [-{max}, {max}]")]
    Latitude {
        /// The latitude given.
        lat: f64,
        /// The largest latitude the projection takes.
        max: f64,
    },
    /// The longitude is too far from the central meridian for a transverse Mercator.
    #[error(
        "longitude {lon} is {offset:.3}° from the central meridian {lon0}°; at most {MAX_CENTRAL_MERIDIAN_OFFSET}° is taken (wrong zone or wrong coordinate system?)"
    )]
    FarFromCentralMeridian {
        /// The longitude given (or computed by the inverse).
        lon: f64,
        /// The central meridian.
        lon0: f64,
        /// `|lon − lon0|`, degrees.
        offset: f64,
    },
    /// A projected coordinate that is not finite or lies outside the projection's range.
    #[error("{axis} {value} is outside the range of the projection")]
    Projected {
        /// "easting" or "northing".
        axis: &'static str,
        /// The value given.
        value: f64,
    },
    /// A projection parameter that is not usable (e.g. a non-positive scale factor).
    #[error("projection parameter {name} = {value} is not usable")]
    Parameter {
        /// The parameter's name.
        name: &'static str,
        /// Its value.
        value: f64,
    },
}

/// An ellipsoid of revolution: semi-major axis and inverse flattening.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ellipsoid {
    /// Semi-major axis, metres.
    pub a: f64,
    /// Inverse flattening `1/f`.
    pub inv_f: f64,
}

impl Ellipsoid {
    /// The CGCS2000 ellipsoid (EPSG:1024; equal to GRS 1980 up to 1/f's last digit).
    pub const CGCS2000: Ellipsoid = Ellipsoid {
        a: 6_378_137.0,
        inv_f: 298.257_222_101,
    };
    /// The WGS84 ellipsoid (EPSG:7030).
    pub const WGS84: Ellipsoid = Ellipsoid {
        a: 6_378_137.0,
        inv_f: 298.257_223_563,
    };
}

/// Coefficients of Krüger's series for one ellipsoid.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Series {
    /// First eccentricity.
    e: f64,
    /// `1 − e²`.
    e2m: f64,
    /// Rectifying radius `A`.
    big_a: f64,
    /// Forward coefficients α₁..α₆.
    alpha: [f64; 6],
    /// Inverse coefficients β₁..β₆.
    beta: [f64; 6],
}

impl Series {
    fn new(ellipsoid: Ellipsoid) -> Series {
        let f = 1.0 / ellipsoid.inv_f;
        let e2 = f * (2.0 - f);
        let n = f / (2.0 - f);
        let n2 = n * n;
        let n3 = n2 * n;
        let n4 = n3 * n;
        let n5 = n4 * n;
        let n6 = n5 * n;
        let big_a = ellipsoid.a / (1.0 + n) * (1.0 + n2 / 4.0 + n4 / 64.0 + n6 / 256.0);
        let alpha = [
            n / 2.0 - 2.0 * n2 / 3.0 + 5.0 * n3 / 16.0 + 41.0 * n4 / 180.0 - 127.0 * n5 / 288.0
                + 7891.0 * n6 / 37800.0,
            13.0 * n2 / 48.0 - 3.0 * n3 / 5.0 + 557.0 * n4 / 1440.0 + 281.0 * n5 / 630.0
                - 1_983_433.0 * n6 / 1_935_360.0,
            61.0 * n3 / 240.0 - 103.0 * n4 / 140.0
                + 15061.0 * n5 / 26880.0
                + 167_603.0 * n6 / 181_440.0,
            49561.0 * n4 / 161_280.0 - 179.0 * n5 / 168.0 + 6_601_661.0 * n6 / 7_257_600.0,
            34729.0 * n5 / 80640.0 - 3_418_889.0 * n6 / 1_995_840.0,
            212_378_941.0 * n6 / 319_334_400.0,
        ];
        let beta = [
            n / 2.0 - 2.0 * n2 / 3.0 + 37.0 * n3 / 96.0 - n4 / 360.0 - 81.0 * n5 / 512.0
                + 96199.0 * n6 / 604_800.0,
            n2 / 48.0 + n3 / 15.0 - 437.0 * n4 / 1440.0 + 46.0 * n5 / 105.0
                - 1_118_711.0 * n6 / 3_870_720.0,
            17.0 * n3 / 480.0 - 37.0 * n4 / 840.0 - 209.0 * n5 / 4480.0 + 5569.0 * n6 / 90720.0,
            4397.0 * n4 / 161_280.0 - 11.0 * n5 / 504.0 - 830_251.0 * n6 / 7_257_600.0,
            4583.0 * n5 / 161_280.0 - 108_847.0 * n6 / 3_991_680.0,
            20_648_693.0 * n6 / 638_668_800.0,
        ];
        Series {
            e: e2.sqrt(),
            e2m: 1.0 - e2,
            big_a,
            alpha,
            beta,
        }
    }

    /// `τ'` (tangent of the conformal latitude) from `τ` (tangent of the geodetic latitude).
    fn taup(&self, tau: f64) -> f64 {
        let tau1 = tau.hypot(1.0);
        let sig = (self.e * (self.e * tau / tau1).atanh()).sinh();
        tau * sig.hypot(1.0) - sig * tau1
    }

    /// `τ` from `τ'` by Newton's method (Karney 2011, eqs. 19–21).
    fn tau(&self, taup: f64) -> f64 {
        let mut tau = taup / self.e2m;
        let tol = f64::EPSILON.sqrt() / 10.0 * taup.abs().max(1.0);
        for _ in 0..6 {
            let taupa = self.taup(tau);
            let dtau = (taup - taupa) * (1.0 + self.e2m * tau * tau)
                / (self.e2m * tau.hypot(1.0) * taupa.hypot(1.0));
            tau += dtau;
            if dtau.abs() < tol {
                break;
            }
        }
        tau
    }
}

/// A transverse Mercator projection (latitude of origin 0): Gauss–Krüger (scale 1) or UTM
/// (scale 0.9996), with its ellipsoid, central meridian and false origin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TransverseMercator {
    lon0: f64,
    k0: f64,
    false_easting: f64,
    false_northing: f64,
    series: Series,
}

impl TransverseMercator {
    /// A transverse Mercator with latitude of origin 0. `lon0` in degrees, the false easting
    /// and northing in metres; every parameter must be finite, `|lon0| ≤ 180` and `k0` in (0, 2].
    pub fn new(
        ellipsoid: Ellipsoid,
        lon0: f64,
        k0: f64,
        false_easting: f64,
        false_northing: f64,
    ) -> Result<TransverseMercator, ProjectionError> {
        let checks = [
            ("semi-major axis", ellipsoid.a, ellipsoid.a > 0.0),
            ("inverse flattening", ellipsoid.inv_f, ellipsoid.inv_f > 2.0),
            ("central meridian", lon0, lon0.abs() <= 180.0),
            ("scale factor", k0, k0 > 0.0 && k0 <= 2.0),
            ("false easting", false_easting, false_easting.abs() < 1e9),
            ("false northing", false_northing, false_northing.abs() < 1e9),
        ];
        for (name, value, ok) in checks {
            if !value.is_finite() || !ok {
                return Err(ProjectionError::Parameter { name, value });
            }
        }
        Ok(TransverseMercator {
            lon0,
            k0,
            false_easting,
            false_northing,
            series: Series::new(ellipsoid),
        })
    }

    /// Gauss–Krüger on the CGCS2000 ellipsoid: scale 1, false northing 0.
    pub fn gauss_kruger(lon0: f64, false_easting: f64) -> Result<Self, ProjectionError> {
        Self::new(Ellipsoid::CGCS2000, lon0, 1.0, false_easting, 0.0)
    }

    /// UTM zone `zone` north on WGS84 (central meridian `6·zone − 183`, scale 0.9996, false
    /// easting 500 km). `zone` must be 1..=60.
    pub fn utm_north(zone: u8) -> Result<Self, ProjectionError> {
        if !(1..=60).contains(&zone) {
            return Err(ProjectionError::Parameter {
                name: "UTM zone",
                value: f64::from(zone),
            });
        }
        let lon0 = 6.0 * f64::from(zone) - 183.0;
        Self::new(Ellipsoid::WGS84, lon0, 0.9996, 500_000.0, 0.0)
    }

    /// The central meridian, degrees.
    pub fn central_meridian(&self) -> f64 {
        self.lon0
    }

    /// Longitude/latitude (degrees) → easting/northing (metres).
    pub fn forward(&self, lon: f64, lat: f64) -> Result<(f64, f64), ProjectionError> {
        check_lon_lat(lon, lat, 90.0)?;
        let dlon = wrap180(lon - self.lon0);
        if dlon.abs() > MAX_CENTRAL_MERIDIAN_OFFSET {
            return Err(ProjectionError::FarFromCentralMeridian {
                lon,
                lon0: self.lon0,
                offset: dlon.abs(),
            });
        }
        let s = &self.series;
        let lam = dlon.to_radians();
        let (sin_lam, cos_lam) = lam.sin_cos();
        // At the poles tan φ is huge but finite; the formulas below stay exact there.
        let (xip, etap) = if lat.abs() == 90.0 {
            (FRAC_PI_2.copysign(lat), 0.0)
        } else {
            let taup = s.taup(lat.to_radians().tan());
            (taup.atan2(cos_lam), (sin_lam / taup.hypot(cos_lam)).asinh())
        };
        let mut xi = xip;
        let mut eta = etap;
        for (j, a) in s.alpha.iter().enumerate() {
            let m = 2.0 * (j as f64 + 1.0);
            xi += a * (m * xip).sin() * (m * etap).cosh();
            eta += a * (m * xip).cos() * (m * etap).sinh();
        }
        let scale = self.k0 * s.big_a;
        Ok((
            self.false_easting + scale * eta,
            self.false_northing + scale * xi,
        ))
    }

    /// Easting/northing (metres) → longitude/latitude (degrees). Refuses points whose
    /// longitude would lie more than [`MAX_CENTRAL_MERIDIAN_OFFSET`] from the central meridian.
    pub fn inverse(&self, x: f64, y: f64) -> Result<(f64, f64), ProjectionError> {
        let s = &self.series;
        let scale = self.k0 * s.big_a;
        let eta = (x - self.false_easting) / scale;
        let xi = (y - self.false_northing) / scale;
        // |η| ≤ ~0.55 and |ξ| ≤ π/2 in the domain; bounding them first keeps sinh/cosh finite.
        if !x.is_finite() || eta.abs() > 1.0 {
            return Err(ProjectionError::Projected {
                axis: "easting",
                value: x,
            });
        }
        if !y.is_finite() || xi.abs() > FRAC_PI_2 + 1e-9 {
            return Err(ProjectionError::Projected {
                axis: "northing",
                value: y,
            });
        }
        let mut xip = xi;
        let mut etap = eta;
        for (j, b) in s.beta.iter().enumerate() {
            let m = 2.0 * (j as f64 + 1.0);
            xip -= b * (m * xi).sin() * (m * eta).cosh();
            etap -= b * (m * xi).cos() * (m * eta).sinh();
        }
        let (sin_xip, cos_xip) = xip.sin_cos();
        let sinh_etap = etap.sinh();
        let r = sinh_etap.hypot(cos_xip);
        let lam = sinh_etap.atan2(cos_xip);
        let lat = if r == 0.0 {
            90f64.copysign(xip)
        } else {
            let taup = sin_xip / r;
            s.tau(taup).atan().to_degrees()
        };
        let dlon = lam.to_degrees();
        let lon = wrap180(self.lon0 + dlon);
        // A hair of slack so that the forward's limit round-trips.
        if dlon.abs() > MAX_CENTRAL_MERIDIAN_OFFSET + 1e-9 {
            return Err(ProjectionError::FarFromCentralMeridian {
                lon,
                lon0: self.lon0,
                offset: dlon.abs(),
            });
        }
        Ok((lon, lat.clamp(-90.0, 90.0)))
    }
}

/// WGS84 longitude/latitude (degrees) → Web Mercator (EPSG:3857) x/y (metres).
pub fn web_mercator_forward(lon: f64, lat: f64) -> Result<(f64, f64), ProjectionError> {
    check_lon_lat(lon, lat, WEB_MERCATOR_MAX_LAT)?;
    let x = WEB_MERCATOR_RADIUS * lon.to_radians();
    let y = WEB_MERCATOR_RADIUS * lat.to_radians().tan().asinh();
    Ok((x, y))
}

/// Web Mercator (EPSG:3857) x/y (metres) → WGS84 longitude/latitude (degrees).
pub fn web_mercator_inverse(x: f64, y: f64) -> Result<(f64, f64), ProjectionError> {
    let max = WEB_MERCATOR_RADIUS * PI * (1.0 + 1e-12);
    if !x.is_finite() || x.abs() > max {
        return Err(ProjectionError::Projected {
            axis: "easting",
            value: x,
        });
    }
    if !y.is_finite() || y.abs() > max {
        return Err(ProjectionError::Projected {
            axis: "northing",
            value: y,
        });
    }
    let lon = (x / WEB_MERCATOR_RADIUS).to_degrees().clamp(-180.0, 180.0);
    let lat = (y / WEB_MERCATOR_RADIUS).sinh().atan().to_degrees();
    Ok((lon, lat))
}

fn check_lon_lat(lon: f64, lat: f64, max_lat: f64) -> Result<(), ProjectionError> {
    if !lon.is_finite() || lon.abs() > 180.0 {
        return Err(ProjectionError::Longitude(lon));
    }
    if !lat.is_finite() || lat.abs() > max_lat {
        return Err(ProjectionError::Latitude { lat, max: max_lat });
    }
    Ok(())
}

/// `d` reduced to [-180, 180).
fn wrap180(d: f64) -> f64 {
    if (-180.0..180.0).contains(&d) {
        d
    } else {
        (d + 180.0).rem_euclid(360.0) - 180.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn central_meridian_maps_to_the_false_easting_and_the_equator_to_the_false_northing() {
        let gk = TransverseMercator::gauss_kruger(120.0, 40_500_000.0).unwrap();
        let (x, y) = gk.forward(120.0, 0.0).unwrap();
        assert!((x - 40_500_000.0).abs() < 1e-9 && y.abs() < 1e-9, "{x} {y}");
        let (x, _) = gk.forward(120.0, 31.0).unwrap();
        assert!((x - 40_500_000.0).abs() < 1e-9);
        // The meridian arc from the equator to the pole of GRS80: 10,001,965.7293 m.
        let (_, y) = gk.forward(120.0, 90.0).unwrap();
        assert!((y - 10_001_965.729_3).abs() < 1e-3, "{y}");
        let (lon, lat) = gk.inverse(40_500_000.0, y).unwrap();
        assert!(
            (lon - 120.0).abs() < 1e-9 && (lat - 90.0).abs() < 1e-9,
            "{lon} {lat}"
        );
    }

    #[test]
    fn east_and_west_are_symmetric() {
        let utm = TransverseMercator::utm_north(50).unwrap();
        let (xe, ye) = utm.forward(119.5, 30.0).unwrap();
        let (xw, yw) = utm.forward(114.5, 30.0).unwrap();
        assert!((xe - 500_000.0 + (xw - 500_000.0)).abs() < 1e-6);
        assert!((ye - yw).abs() < 1e-6);
    }

    #[test]
    fn out_of_domain_input_is_refused() {
        let gk = TransverseMercator::gauss_kruger(120.0, 500_000.0).unwrap();
        assert!(matches!(
            gk.forward(f64::NAN, 30.0),
            Err(ProjectionError::Longitude(_))
        ));
        assert!(matches!(
            gk.forward(120.0, 90.5),
            Err(ProjectionError::Latitude { .. })
        ));
        assert!(matches!(
            gk.forward(120.0, f64::INFINITY),
            Err(ProjectionError::Latitude { .. })
        ));
        let e = gk.forward(151.0, 30.0).unwrap_err();
        assert!(
            matches!(e, ProjectionError::FarFromCentralMeridian { .. }),
            "{e}"
        );
        assert!(e.to_string().contains("151"), "{e}");
        assert!(gk.forward(149.0, 30.0).is_ok());
        assert!(gk.inverse(f64::NAN, 3e6).is_err());
        assert!(gk.inverse(500_000.0, 1e8).is_err());
        assert!(gk.inverse(1e12, 3e6).is_err());
        // 5,000 km east of the central meridian at 60°N is ~60° of longitude away.
        let e = gk.inverse(5_500_000.0, 6.7e6).unwrap_err();
        assert!(
            matches!(e, ProjectionError::FarFromCentralMeridian { .. }),
            "{e}"
        );
        assert!(TransverseMercator::utm_north(0).is_err());
        assert!(TransverseMercator::new(Ellipsoid::WGS84, 120.0, 0.0, 0.0, 0.0).is_err());
        assert!(TransverseMercator::gauss_kruger(f64::NAN, 0.0).is_err());
        assert!(web_mercator_forward(120.0, 86.0).is_err());
        assert!(web_mercator_forward(181.0, 0.0).is_err());
        assert!(web_mercator_inverse(0.0, 3e7).is_err());
        assert!(web_mercator_inverse(f64::INFINITY, 0.0).is_err());
    }

    #[test]
    fn web_mercator_of_the_square_corner() {
        let (x, y) = web_mercator_forward(180.0, WEB_MERCATOR_MAX_LAT).unwrap();
        let edge = WEB_MERCATOR_RADIUS * PI;
        assert!(
            (x - edge).abs() < 1e-6 && (y - edge).abs() < 1e-3,
            "{x} {y}"
        );
        let (lon, lat) = web_mercator_inverse(edge, edge).unwrap();
        assert!((lon - 180.0).abs() < 1e-12 && (lat - WEB_MERCATOR_MAX_LAT).abs() < 1e-9);
    }

    fn ellipsoid() -> impl Strategy<Value = Ellipsoid> {
        prop_oneof![Just(Ellipsoid::CGCS2000), Just(Ellipsoid::WGS84)]
    }

    proptest! {
        #[test]
        fn transverse_mercator_round_trips(
            ellipsoid in ellipsoid(),
            lon0 in 73.0f64..136.0,
            k0 in prop_oneof![Just(1.0), Just(0.9996)],
            fe in prop_oneof![Just(500_000.0), Just(40_500_000.0)],
            dlon in -MAX_CENTRAL_MERIDIAN_OFFSET..MAX_CENTRAL_MERIDIAN_OFFSET,
            lat in -89.9f64..89.9,
        ) {
            let tm = TransverseMercator::new(ellipsoid, lon0, k0, fe, 0.0).unwrap();
            let lon = lon0 + dlon;
            let (x, y) = tm.forward(lon, lat).unwrap();
            let (lon2, lat2) = tm.inverse(x, y).unwrap();
            prop_assert!((lon2 - lon).abs() < 1e-9, "lon {lon} -> {lon2}");
            prop_assert!((lat2 - lat).abs() < 1e-9, "lat {lat} -> {lat2}");
        }

        #[test]
        fn web_mercator_round_trips(lon in -180.0f64..180.0, lat in -85.0f64..85.0) {
            let (x, y) = web_mercator_forward(lon, lat).unwrap();
            let (lon2, lat2) = web_mercator_inverse(x, y).unwrap();
            prop_assert!((lon2 - lon).abs() < 1e-9 && (lat2 - lat).abs() < 1e-9);
        }
    }
}
