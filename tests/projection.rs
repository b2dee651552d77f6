//! The projections of `geo_io::crs::FileCrs` against PROJ: `tests/data/projection-reference.csv`
//! holds easting/northing computed by PyPI pyproj 3.7.2 (`scripts/gen-projection-reference`)
//! for a lon/lat grid over China (73–136°E, 18–54°N; each zone's central meridian, ±0.75°,
//! ±1.5°, ±2.25°, ±3°, ±3.5° and off-grid offsets) in every EPSG code of the catalogue:
//! 4491–4554, 32649–32651 and 3857. Forward and inverse must agree within 1 mm; the measured
//! maxima are printed (`cargo test --locked --test projection -- --nocapture`).

use gridatlas::geo_io::crs::FileCrs;
use std::collections::BTreeSet;

struct Row {
    epsg: u32,
    lon: f64,
    lat: f64,
    x: f64,
    y: f64,
}

fn rows() -> Vec<Row> {
    include_str!("data/projection-reference.csv")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("epsg"))
        .map(|l| {
            let v: Vec<&str> = l.split(',').collect();
            assert_eq!(v.len(), 5, "{l}");
            let f = |i: usize| v[i].parse::<f64>().expect("number");
            Row {
                epsg: v[0].parse().expect("code"),
                lon: f(1),
                lat: f(2),
                x: f(3),
                y: f(4),
            }
        })
        .collect()
}

/// The largest error seen, with where.
#[derive(Default)]
struct Max {
    metres: f64,
    at: String,
}

impl Max {
    fn see(&mut self, metres: f64, r: &Row) {
        assert!(metres.is_finite());
        if metres > self.metres {
            self.metres = metres;
            self.at = format!("EPSG:{} lon {} lat {}", r.epsg, r.lon, r.lat);
        }
    }
}

#[test]
fn forward_and_inverse_match_pyproj_within_a_millimetre() {
    let rows = rows();
    assert!(rows.len() > 20_000, "{} rows", rows.len());
    let codes: BTreeSet<u32> = rows.iter().map(|r| r.epsg).collect();
    let want: BTreeSet<u32> = (4491..=4554).chain(32649..=32651).chain([3857]).collect();
    assert_eq!(codes, want);

    // [Gauss–Krüger, UTM, Web Mercator] × [forward, inverse]
    let mut max: [[Max; 2]; 3] = Default::default();
    for r in &rows {
        let crs = FileCrs::from_epsg(r.epsg).expect("a code of the catalogue");
        let family = match r.epsg {
            4491..=4554 => 0,
            32649..=32651 => 1,
            _ => 2,
        };
        let (x, y) = crs
            .from_lon_lat(r.lon, r.lat)
            .unwrap_or_else(|e| panic!("forward EPSG:{} {} {}: {e}", r.epsg, r.lon, r.lat));
        max[family][0].see((x - r.x).hypot(y - r.y), r);
        let (lon, lat) = crs
            .to_lon_lat(r.x, r.y)
            .unwrap_or_else(|e| panic!("inverse EPSG:{} {} {}: {e}", r.epsg, r.x, r.y));
        // On the ground: metres per degree of latitude and of longitude at this latitude.
        let m = 6_378_137f64.to_radians();
        let ground = ((lat - r.lat) * m).hypot((lon - r.lon) * m * r.lat.to_radians().cos());
        max[family][1].see(ground, r);
    }
    for (name, [fwd, inv]) in ["Gauss-Kruger", "UTM", "Web Mercator"].iter().zip(&max) {
        println!(
            "{name}: forward max {:.3e} m ({}), inverse max {:.3e} m ({})",
            fwd.metres, fwd.at, inv.metres, inv.at
        );
    }
    for (name, [fwd, inv]) in ["Gauss-Kruger", "UTM", "Web Mercator"].iter().zip(&max) {
        assert!(
            fwd.metres < 1e-3,
            "{name} forward {} m at {}",
            fwd.metres,
            fwd.at
        );
        assert!(
            inv.metres < 1e-3,
            "{name} inverse {} m at {}",
            inv.metres,
            inv.at
        );
    }
}

/// Points beyond a zone's edge are still taken (up to 30° from the central meridian); a
/// coordinate of another zone fed to the wrong one comes out far from China, which is what
/// the readers' plausibility check looks for.
#[test]
fn a_coordinate_in_the_wrong_zone_lands_elsewhere() {
    let zone40 = FileCrs::from_epsg(4528).expect("4528");
    let zone39 = FileCrs::from_epsg(4527).expect("4527");
    let (x, y) = zone40.from_lon_lat(121.47, 31.23).expect("Shanghai");
    let (lon, lat) = zone39
        .to_lon_lat(x, y)
        .expect("1,000 km east of zone 39's meridian");
    assert!((lon - 121.47).abs() > 5.0, "{lon} {lat}");
    assert!(zone40.to_lon_lat(x + 1e9, y).is_err());
}
