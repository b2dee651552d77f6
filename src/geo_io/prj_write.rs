//! Writing a [`FileCrs`] as a Shapefile `.prj`: WKT1 in the ESRI flavour, exactly as GDAL 3
//! writes it (`gdalsrsinfo -o wkt_esri EPSG:n`) and as ArcGIS does — `CGCS2000_3_Degree_GK_Zone_40`,
//! `Gauss_Kruger`, `D_China_2000`. GDAL and `geo_io::prj` identify the text back to the same
//! EPSG code (tests here and in tests/formats_gdal.rs).

use super::crs::{Datum, FileCrs, ZoneWidth};

const GEOGCS_CGCS2000: &str = "GEOGCS[\"GCS_China_Geodetic_Coordinate_System_2000\",DATUM[\"D_China_2000\",SPHEROID[\"CGCS2000\",6378137.0,298.257222101]],PRIMEM[\"Greenwich\",0.0],UNIT[\"Degree\",0.0174532925199433]]";
const GEOGCS_WGS84: &str = "GEOGCS[\"GCS_WGS_1984\",DATUM[\"D_WGS_1984\",SPHEROID[\"WGS_1984\",6378137.0,298.257223563]],PRIMEM[\"Greenwich\",0.0],UNIT[\"Degree\",0.0174532925199433]]";

/// The ESRI name of a system, e.g. `CGCS2000_3_Degree_GK_CM_120E`.
pub fn esri_name(crs: FileCrs) -> String {
    match crs {
        FileCrs::Geographic(Datum::Cgcs2000) => "GCS_China_Geodetic_Coordinate_System_2000".into(),
        FileCrs::Geographic(Datum::Wgs84) => "GCS_WGS_1984".into(),
        FileCrs::GaussKruger {
            width,
            cm,
            prefixed,
        } => {
            let w = match width {
                ZoneWidth::Three => "3_Degree_",
                ZoneWidth::Six => "",
            };
            match (prefixed, width.zone_of(cm)) {
                (true, Some(z)) => format!("CGCS2000_{w}GK_Zone_{z}"),
                _ => format!("CGCS2000_{w}GK_CM_{cm}E"),
            }
        }
        FileCrs::Utm { zone } => format!("WGS_1984_UTM_Zone_{zone}N"),
        FileCrs::WebMercator => "WGS_1984_Web_Mercator_Auxiliary_Sphere".into(),
    }
}

/// A number as ESRI WKT writes it: shortest round trip, always with a decimal point.
fn num(x: f64) -> String {
    format!("{x:?}")
}

/// The `.prj` text of `crs` (one line, no line break, ASCII).
pub fn esri_wkt(crs: FileCrs) -> String {
    let tm = |geogcs: &str, projection: &str, fe: f64, cm: f64, k: f64| {
        format!(
            "PROJCS[\"{}\",{geogcs},PROJECTION[\"{projection}\"],PARAMETER[\"False_Easting\",{}],PARAMETER[\"False_Northing\",0.0],PARAMETER[\"Central_Meridian\",{}],PARAMETER[\"Scale_Factor\",{}],PARAMETER[\"Latitude_Of_Origin\",0.0],UNIT[\"Meter\",1.0]]",
            esri_name(crs),
            num(fe),
            num(cm),
            num(k)
        )
    };
    match crs {
        FileCrs::Geographic(Datum::Cgcs2000) => GEOGCS_CGCS2000.into(),
        FileCrs::Geographic(Datum::Wgs84) => GEOGCS_WGS84.into(),
        FileCrs::GaussKruger {
            width,
            cm,
            prefixed,
        } => {
            let zone = if prefixed {
                width.zone_of(cm).unwrap_or(0)
            } else {
                0
            };
            let fe = f64::from(zone) * 1e6 + 500_000.0;
            tm(GEOGCS_CGCS2000, "Gauss_Kruger", fe, f64::from(cm), 1.0)
        }
        FileCrs::Utm { zone } => {
            let cm = 6.0 * f64::from(zone) - 183.0;
            tm(GEOGCS_WGS84, "Transverse_Mercator", 500_000.0, cm, 0.9996)
        }
        FileCrs::WebMercator => format!(
            "PROJCS[\"{}\",{GEOGCS_WGS84},PROJECTION[\"Mercator_Auxiliary_Sphere\"],PARAMETER[\"False_Easting\",0.0],PARAMETER[\"False_Northing\",0.0],PARAMETER[\"Central_Meridian\",0.0],PARAMETER[\"Standard_Parallel_1\",0.0],PARAMETER[\"Auxiliary_Sphere_Type\",0.0],UNIT[\"Meter\",1.0]]",
            esri_name(crs)
        ),
    }
}

/// Every EPSG code of the catalogue (`FileCrs::from_epsg` takes each).
pub fn catalogue() -> impl Iterator<Item = u32> {
    [4490, 4326, 3857]
        .into_iter()
        .chain(4491..=4554)
        .chain(32649..=32651)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo_io::prj::identify;
    use proptest::prelude::*;

    #[test]
    fn every_system_of_the_catalogue_reads_back_as_itself() {
        for code in catalogue() {
            let crs = FileCrs::from_epsg(code).expect("catalogue code");
            let wkt = esri_wkt(crs);
            assert!(wkt.is_ascii() && !wkt.contains('\n'), "{wkt}");
            let back = identify(wkt.as_bytes()).unwrap_or_else(|e| panic!("{code}: {e}\n{wkt}"));
            assert_eq!(back, crs, "EPSG:{code}: {wkt}");
            assert_eq!(back.epsg(), code);
        }
    }

    #[test]
    fn gdal_s_text_for_zone_40() {
        assert_eq!(
            esri_wkt(FileCrs::from_epsg(4528).expect("4528")),
            "PROJCS[\"CGCS2000_3_Degree_GK_Zone_40\",GEOGCS[\"GCS_China_Geodetic_Coordinate_System_2000\",DATUM[\"D_China_2000\",SPHEROID[\"CGCS2000\",6378137.0,298.257222101]],PRIMEM[\"Greenwich\",0.0],UNIT[\"Degree\",0.0174532925199433]],PROJECTION[\"Gauss_Kruger\"],PARAMETER[\"False_Easting\",40500000.0],PARAMETER[\"False_Northing\",0.0],PARAMETER[\"Central_Meridian\",120.0],PARAMETER[\"Scale_Factor\",1.0],PARAMETER[\"Latitude_Of_Origin\",0.0],UNIT[\"Meter\",1.0]]"
        );
    }

    proptest! {
        #[test]
        fn any_gauss_kruger_zone_round_trips(three in any::<bool>(), i in 0u16..21, prefixed in any::<bool>()) {
            let width = if three { ZoneWidth::Three } else { ZoneWidth::Six };
            let cm = 75 + i * width.degrees();
            prop_assume!(cm <= 135);
            let crs = FileCrs::gauss_kruger(width, cm, prefixed).expect("a zone");
            prop_assert_eq!(identify(esri_wkt(crs).as_bytes()).expect("identified"), crs);
        }
    }
}
