//! Writing a Shapefile's `.shp` and `.shx` (ESRI Shapefile Technical Description, 1998): shape
//! types Polygon (5), PolyLine (3) and MultiPoint (8), coordinates already in the output system.
//!
//! A polygon's outer rings are written clockwise and its holes counter-clockwise, as the
//! format requires (the feature model, like GeoJSON, has them the other way round).

/// A Shapefile shape type written here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShapeType {
    /// PolyLine (3): a road segment.
    PolyLine,
    /// Polygon (5): an area.
    Polygon,
    /// MultiPoint (8): points (a validation finding's location).
    MultiPoint,
}

impl ShapeType {
    fn code(self) -> i32 {
        match self {
            ShapeType::PolyLine => 3,
            ShapeType::Polygon => 5,
            ShapeType::MultiPoint => 8,
        }
    }
}

/// A ring or line: closed (first = last) for polygons.
pub type Path = Vec<(f64, f64)>;

/// One shape: its parts. For a polygon, each polygon is its outer ring then its holes.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// Polygons, each an outer ring and holes.
    Polygons(Vec<Vec<Path>>),
    /// Lines.
    Lines(Vec<Path>),
    /// Points.
    Points(Vec<(f64, f64)>),
}

/// Twice the signed area of a ring (positive: counter-clockwise).
fn signed_area2(ring: &[(f64, f64)]) -> f64 {
    ring.windows(2)
        .map(|w| w[0].0 * w[1].1 - w[1].0 * w[0].1)
        .sum()
}

fn oriented(ring: &[(f64, f64)], clockwise: bool) -> Vec<(f64, f64)> {
    let ccw = signed_area2(ring) > 0.0;
    if ccw == clockwise {
        ring.iter().rev().copied().collect()
    } else {
        ring.to_vec()
    }
}

/// The parts of a shape in file order and orientation.
fn parts(shape: &Shape) -> Vec<Vec<(f64, f64)>> {
    match shape {
        Shape::Lines(lines) => lines.clone(),
        Shape::Points(points) => vec![points.clone()],
        Shape::Polygons(polys) => polys
            .iter()
            .flat_map(|rings| rings.iter().enumerate().map(|(i, r)| oriented(r, i == 0)))
            .collect(),
    }
}

/// A bounding box: xmin, ymin, xmax, ymax.
type Bbox = [f64; 4];

fn bbox<'a>(points: impl Iterator<Item = &'a (f64, f64)>) -> Option<Bbox> {
    points.fold(None, |b, &(x, y)| {
        Some(match b {
            None => [x, y, x, y],
            Some([a, c, d, e]) => [a.min(x), c.min(y), d.max(x), e.max(y)],
        })
    })
}

/// What does not fit the format.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ShpError {
    /// A shape with no point.
    #[error("shape {0} has no point")]
    Empty(usize),
    /// A non-finite coordinate.
    #[error("shape {0} has a coordinate that is not a finite number")]
    NotFinite(usize),
    /// A file past the format's 2 GB (2^31 bytes) limit, or a count past `i32`.
    #[error("the .shp would be larger than the format's 2 GB limit")]
    TooLarge,
}

fn header(out: &mut Vec<u8>, words: i32, kind: ShapeType, b: Bbox) {
    out.extend_from_slice(&9994i32.to_be_bytes());
    out.extend_from_slice(&[0u8; 20]);
    out.extend_from_slice(&words.to_be_bytes());
    out.extend_from_slice(&1000i32.to_le_bytes());
    out.extend_from_slice(&kind.code().to_le_bytes());
    for v in b {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&[0u8; 32]);
}

/// The `.shp` and `.shx` of `shapes`, all of type `kind` (a `Shape::Polygons` in a PolyLine file
/// is written as its rings, and the other way round; a MultiPoint file writes every shape's
/// points; callers keep them apart).
pub fn write(kind: ShapeType, shapes: &[Shape]) -> Result<(Vec<u8>, Vec<u8>), ShpError> {
    let mut records = Vec::new();
    let mut index = Vec::with_capacity(shapes.len() * 8);
    let mut total: Option<Bbox> = None;
    let too_large = |_| ShpError::TooLarge;
    for (i, shape) in shapes.iter().enumerate() {
        let parts = parts(shape);
        if parts
            .iter()
            .flatten()
            .any(|(x, y)| !x.is_finite() || !y.is_finite())
        {
            return Err(ShpError::NotFinite(i));
        }
        let b = bbox(parts.iter().flatten()).ok_or(ShpError::Empty(i))?;
        total = Some(match total {
            None => b,
            Some(t) => [
                t[0].min(b[0]),
                t[1].min(b[1]),
                t[2].max(b[2]),
                t[3].max(b[3]),
            ],
        });
        let n_points: usize = parts.iter().map(Vec::len).sum();
        let multipoint = kind == ShapeType::MultiPoint;
        let content = if multipoint {
            4 + 32 + 4 + 16 * n_points
        } else {
            4 + 32 + 4 + 4 + 4 * parts.len() + 16 * n_points
        };
        let offset = 50 + records.len() / 2;
        index.extend_from_slice(&i32::try_from(offset).map_err(too_large)?.to_be_bytes());
        let words = i32::try_from(content / 2).map_err(too_large)?;
        index.extend_from_slice(&words.to_be_bytes());
        let number = i32::try_from(i + 1).map_err(too_large)?;
        records.extend_from_slice(&number.to_be_bytes());
        records.extend_from_slice(&words.to_be_bytes());
        records.extend_from_slice(&kind.code().to_le_bytes());
        for v in b {
            records.extend_from_slice(&v.to_le_bytes());
        }
        if !multipoint {
            records
                .extend_from_slice(&i32::try_from(parts.len()).map_err(too_large)?.to_le_bytes());
        }
        records.extend_from_slice(&i32::try_from(n_points).map_err(too_large)?.to_le_bytes());
        if !multipoint {
            let mut start = 0usize;
            for p in &parts {
                records.extend_from_slice(&i32::try_from(start).map_err(too_large)?.to_le_bytes());
                start += p.len();
            }
        }
        for &(x, y) in parts.iter().flatten() {
            records.extend_from_slice(&x.to_le_bytes());
            records.extend_from_slice(&y.to_le_bytes());
        }
    }
    let b = total.unwrap_or([0.0; 4]);
    let shp_words = i32::try_from(50 + records.len() / 2).map_err(too_large)?;
    let shx_words = i32::try_from(50 + index.len() / 2).map_err(too_large)?;
    let mut shp = Vec::with_capacity(100 + records.len());
    header(&mut shp, shp_words, kind, b);
    shp.extend_from_slice(&records);
    let mut shx = Vec::with_capacity(100 + index.len());
    header(&mut shx, shx_words, kind, b);
    shx.extend_from_slice(&index);
    Ok((shp, shx))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn be(b: &[u8], at: usize) -> i32 {
        i32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
    }
    fn le(b: &[u8], at: usize) -> i32 {
        i32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
    }
    fn f(b: &[u8], at: usize) -> f64 {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[at..at + 8]);
        f64::from_le_bytes(a)
    }

    #[test]
    fn a_polygon_with_a_hole_is_written_clockwise_outside() {
        let outer = vec![
            (0.0, 0.0),
            (10.0, 0.0),
            (10.0, 10.0),
            (0.0, 10.0),
            (0.0, 0.0),
        ];
        let hole = vec![(2.0, 2.0), (2.0, 4.0), (4.0, 4.0), (4.0, 2.0), (2.0, 2.0)];
        let shapes = [Shape::Polygons(vec![vec![outer, hole]])];
        let (shp, shx) = write(ShapeType::Polygon, &shapes).expect("written");
        assert_eq!(be(&shp, 0), 9994);
        assert_eq!(be(&shp, 24) as usize * 2, shp.len());
        assert_eq!(be(&shx, 24) as usize * 2, shx.len());
        assert_eq!(le(&shp, 28), 1000);
        assert_eq!(le(&shp, 32), 5);
        assert_eq!((f(&shp, 36), f(&shp, 52)), (0.0, 10.0));
        assert_eq!(be(&shx, 100), 50);
        assert_eq!(be(&shx, 104) as usize * 2, shp.len() - 108);
        let r = 108;
        assert_eq!(le(&shp, r), 5);
        assert_eq!((le(&shp, r + 36), le(&shp, r + 40)), (2, 10));
        assert_eq!((le(&shp, r + 44), le(&shp, r + 48)), (0, 5));
        let pts: Vec<(f64, f64)> = (0..10)
            .map(|i| (f(&shp, r + 52 + 16 * i), f(&shp, r + 60 + 16 * i)))
            .collect();
        assert!(signed_area2(&pts[..5]) < 0.0, "outer clockwise: {pts:?}");
        assert!(
            signed_area2(&pts[5..]) > 0.0,
            "hole counter-clockwise: {pts:?}"
        );
    }

    #[test]
    fn lines_and_refusals() {
        let (shp, _) = write(
            ShapeType::PolyLine,
            &[Shape::Lines(vec![vec![(1.0, 2.0), (3.0, 4.0)]])],
        )
        .expect("written");
        assert_eq!(le(&shp, 32), 3);
        assert_eq!(
            write(ShapeType::PolyLine, &[Shape::Lines(vec![])]),
            Err(ShpError::Empty(0))
        );
        assert_eq!(
            write(
                ShapeType::PolyLine,
                &[Shape::Lines(vec![vec![(f64::NAN, 0.0), (1.0, 1.0)]])]
            ),
            Err(ShpError::NotFinite(0))
        );
    }

    #[test]
    fn multipoints() {
        let shapes = [
            Shape::Points(vec![(1.0, 2.0)]),
            Shape::Points(vec![(3.0, 4.0), (-1.0, 5.0)]),
        ];
        let (shp, shx) = write(ShapeType::MultiPoint, &shapes).expect("written");
        assert_eq!(le(&shp, 32), 8);
        assert_eq!(be(&shp, 24) as usize * 2, shp.len());
        assert_eq!(be(&shx, 24) as usize * 2, shx.len());
        assert_eq!(shx.len(), 100 + 2 * 8);
        // Header box over both shapes.
        assert_eq!(
            (f(&shp, 36), f(&shp, 44), f(&shp, 52), f(&shp, 60)),
            (-1.0, 2.0, 3.0, 5.0)
        );
        // Record 1: number, length, type 8, box, 1 point, the point.
        let r = 100;
        assert_eq!((be(&shp, r), be(&shp, r + 4)), (1, (4 + 32 + 4 + 16) / 2));
        assert_eq!(le(&shp, r + 8), 8);
        assert_eq!(le(&shp, r + 44), 1);
        assert_eq!((f(&shp, r + 48), f(&shp, r + 56)), (1.0, 2.0));
        // Record 2 starts where the index says, with 2 points.
        let r2 = be(&shx, 108) as usize * 2;
        assert_eq!(r2, r + 8 + 56);
        assert_eq!(be(&shp, r2), 2);
        assert_eq!(le(&shp, r2 + 44), 2);
        assert_eq!((f(&shp, r2 + 64), f(&shp, r2 + 72)), (-1.0, 5.0));
        assert_eq!(r2 + 8 + 2 * be(&shp, r2 + 4) as usize, shp.len());
        assert_eq!(
            write(ShapeType::MultiPoint, &[Shape::Points(vec![])]),
            Err(ShpError::Empty(0))
        );
    }
}
