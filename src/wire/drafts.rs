//! Drafts, validation reports and generations on the wire: `POST /api/v1/drafts[/inspect]`,
//! `GET /api/v1/drafts/{id}[/report]`, `POST /api/v1/drafts/{id}/publish`,
//! `GET /api/v1/generations[/{a}/diff/{b}]`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// The counts of a validation report: every finding is counted, also those a bounded report
/// summarises instead of listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportSummary {
    /// Error findings (they block publishing).
    pub errors: u64,
    /// Warning findings.
    pub warnings: u64,
    /// Findings per rule, then per severity (`error`, `warning`).
    pub by_rule: BTreeMap<String, BTreeMap<String, u64>>,
}

/// `201` of `POST /api/v1/drafts`: the stored draft.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftCreated {
    /// The draft's id.
    pub id: i64,
    /// The generation the draft was made on (0: none); it can only be published on top of it.
    pub base_generation: i32,
    /// Features uploaded.
    pub features: usize,
    /// Streets the draft replaces; `null`: the whole territory.
    pub streets: Option<Vec<String>>,
    /// Counts of the validation report.
    pub summary: ReportSummary,
    /// Where the report is: `/api/v1/drafts/{id}/report`.
    pub report: String,
}

/// `GET /api/v1/drafts/{id}`: a draft's metadata and the counts of its report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftView {
    /// The draft's id.
    pub id: i64,
    /// When it was uploaded.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Who uploaded it (`token:<id> (<role>)`, or the operator's name from the CLI).
    pub created_by: String,
    /// The generation it was made on (0: none).
    pub base_generation: i32,
    /// Streets it replaces; `null`: the whole territory.
    pub covered_streets: Option<Vec<String>>,
    /// Errors in its report.
    pub error_count: usize,
    /// Features uploaded.
    pub feature_count: usize,
    /// The generation it became, once published.
    pub published_generation: Option<i32>,
    /// Counts of the validation report.
    pub summary: ReportSummary,
    /// Where the report is.
    pub report: String,
}

/// A message in Chinese and English.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Message {
    /// Chinese.
    pub zh: String,
    /// English.
    pub en: String,
}

/// A fix suggestion of a finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Fix {
    /// `merge_into` | `subtract_from` | `repair` | `manual`.
    pub action: String,
    /// The feature to change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// In words.
    pub message: Message,
}

/// One defect found by validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    /// `invalid_geometry` | `hierarchy` | `overlap` | `gap` | `containment` | `sliver` | `codes`.
    pub rule: String,
    /// Sub-kind within the rule, e.g. `self_intersection`, `unknown_parent`, `outside_parent`.
    pub kind: String,
    /// `error` (blocks publishing) | `warning`.
    pub severity: String,
    /// Codes of the features involved.
    pub codes: Vec<String>,
    /// GeoJSON geometry of the defect itself.
    #[schema(value_type = Option<Object>)]
    pub location: Option<serde_json::Value>,
    /// Geodesic area of the defect, m².
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area_m2: Option<f64>,
    /// Geodesic length, m.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length_m: Option<f64>,
    /// Width = 2·area/perimeter, m.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width_m: Option<f64>,
    /// What is wrong, in words.
    pub message: Message,
    /// Suggested fix.
    pub fix: Option<Fix>,
    /// The location was cut down to bound the report.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub location_simplified: bool,
    /// This finding stands for this many of its group (itself included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub omitted: Option<usize>,
}

/// A page of a report's findings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingsPage {
    /// The report's summary as the validator wrote it (counts, timing, tolerance).
    #[schema(value_type = Object)]
    pub summary: serde_json::Value,
    /// Findings in the whole report.
    pub total: usize,
    /// First finding of this page.
    pub offset: usize,
    /// Page size asked for.
    pub limit: usize,
    /// The findings of this page.
    pub findings: Vec<Finding>,
}

/// `GET /api/v1/drafts/{id}/report`: a page of the validation report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftReport {
    /// The draft's id.
    pub draft: i64,
    /// Errors in the report.
    pub error_count: usize,
    /// Counts of the whole report.
    pub summary: ReportSummary,
    /// The page.
    pub report: FindingsPage,
}

/// A finding drawn on a map: the defect's geometry, the finding as properties.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingFeature {
    /// Always `Feature`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The defect's GeoJSON geometry.
    #[schema(value_type = Object)]
    pub geometry: serde_json::Value,
    /// The finding without its location.
    #[schema(value_type = Object)]
    pub properties: serde_json::Value,
}

/// `GET /api/v1/drafts/{id}/report?format=geojson`: a page of findings as a FeatureCollection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingsCollection {
    /// Always `FeatureCollection`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Findings with a location.
    pub features: Vec<FindingFeature>,
    /// Findings in the whole report.
    pub total: usize,
    /// First finding of the page.
    pub offset: usize,
    /// Page size.
    pub limit: usize,
}

/// Query of `GET /api/v1/drafts/{id}/report`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// `json` (default) | `geojson`.
    pub format: Option<String>,
    /// First finding of the page (default 0).
    #[param(value_type = Option<u64>)]
    pub offset: Option<String>,
    /// Findings per page, 1..=1000 (default 1000).
    #[param(value_type = Option<u64>)]
    pub limit: Option<String>,
}

/// Query of `GET /api/v1/generations/{a}/export` and `GET /api/v1/drafts/{id}/export`
/// (docs/formats.md, "Export").
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `geojson` (default) | `shapefile` (a .zip, one Shapefile per layer) | `gpkg`.
    pub format: Option<String>,
    /// `EPSG:4490` (default) or another code of the catalogue: 4326, 4491-4554 (CGCS2000
    /// Gauss-Kruger), 32649-32651, 3857. GeoJSON takes only 4490 and 4326.
    pub crs: Option<String>,
    /// Shapefile DBF text: `gbk` (default) | `utf-8`.
    pub encoding: Option<String>,
}

/// Query of `POST /api/v1/drafts`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// Comma-separated street codes the draft replaces (default: the streets the upload
    /// touches; a file with the district replaces everything).
    pub streets: Option<String>,
    /// The body's format, `geojson`, `shapefile` (a zip), `gpkg` or `csv`; default by the
    /// content type (`application/geo+json`, `application/zip`,
    /// `application/geopackage+sqlite3`, `text/csv`), else by `filename`'s extension.
    pub format: Option<String>,
    /// The uploaded file's name (its extension gives the format under
    /// `application/octet-stream`; problems name it).
    pub filename: Option<String>,
    /// The coordinate system (`EPSG:4528`), overriding a Shapefile's .prj or a GeoPackage
    /// layer's srs_id (a CSV's: default EPSG:4490 longitude/latitude); or `gcj02` / `bd09`:
    /// longitude/latitude from Chinese web maps, taken back to WGS84. GeoJSON takes only
    /// longitude/latitude (4326, 4490, gcj02, bd09).
    pub crs: Option<String>,
    /// The .dbf's or CSV's encoding, `utf-8` or `gbk`, overriding the .cpg and detection.
    pub encoding: Option<String>,
    /// The column mapping (JSON, docs/formats.md), e.g.
    /// `{"code":"网格编码","name":"网格名称","parent":"所属街道","layer":"图层"}`.
    pub mapping: Option<String>,
}

/// Body of `POST /api/v1/drafts/{id}/publish` (optional).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishRequest {
    /// Publish over validation errors (admin only); the reason is stored with the generation.
    #[serde(default)]
    pub override_reason: Option<String>,
}

/// What changed in one layer (or in the management units) against the previous generation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LayerChanges {
    /// Features whose code is new.
    pub added: usize,
    /// Features whose code is gone.
    pub removed: usize,
    /// Features whose geometry or properties changed.
    pub changed: usize,
}

/// A published generation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Generation {
    /// Number (1, 2, …).
    pub number: i32,
    /// When it was published.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Who published it.
    pub created_by: String,
    /// The draft it was published from.
    pub draft_id: i64,
    /// The reason given for publishing over validation errors.
    pub override_reason: Option<String>,
    /// Errors in the draft's report at publish time.
    pub error_count: usize,
    /// Features in the generation.
    pub feature_count: usize,
    /// Per layer (`district`, `street`, …, `management_unit`): what changed.
    pub changes: BTreeMap<String, LayerChanges>,
}

/// `200` of `POST /api/v1/drafts/{id}/publish`: the new generation, now served.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Published {
    /// The new generation's number.
    pub generation: i32,
    /// The new generation.
    pub info: Generation,
}

/// `GET /api/v1/generations`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Generations {
    /// Every published generation, oldest first.
    pub items: Vec<Generation>,
    /// The generation this server serves.
    pub current: Option<i64>,
}

/// One area that changed between two generations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AreaChange {
    /// Layer, or `management_unit`.
    pub layer: String,
    /// Code.
    pub code: String,
    /// Name (in the newer generation when it exists there).
    pub name: String,
    /// `added` | `removed` | `changed`.
    pub change: String,
    /// What differs: `geometry`, `name`, `parent`, `kind`, `people`, `attributes`, `grids`.
    pub fields: Vec<String>,
    /// Area gained, m² (`null` for road segments).
    pub gained_m2: Option<f64>,
    /// Area lost, m² (`null` for road segments).
    pub lost_m2: Option<f64>,
    /// Area that changed hands, m², to 0.1 m².
    pub changed_hands_m2: f64,
}

/// `GET /api/v1/generations/{a}/diff/{b}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Diff {
    /// The older generation.
    pub from: i32,
    /// The newer generation.
    pub to: i32,
    /// The areas that changed.
    pub items: Vec<AreaChange>,
}

/// Query of `POST /api/v1/drafts/inspect`: the upload's reading parameters.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InspectQuery {
    /// The body's format, `shapefile` (a zip) or another table format; default by the content
    /// type (`application/zip`), else by `filename`'s extension.
    pub format: Option<String>,
    /// The file's name (its extension gives the format under `application/octet-stream`;
    /// problems name it).
    pub filename: Option<String>,
    /// The coordinate system (`EPSG:4528`), overriding a Shapefile's .prj.
    pub crs: Option<String>,
    /// The .dbf encoding, `utf-8` or `gbk`, overriding the .cpg and detection.
    pub encoding: Option<String>,
}

/// A coordinate system of the catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CrsRef {
    /// `EPSG:4528`.
    pub code: String,
    /// The EPSG name, e.g. `CGCS2000 / 3-degree Gauss-Kruger zone 40`.
    pub name: String,
}

/// The coordinate system of a file layer: identified (or given), or not known and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InspectedCrs {
    /// The system; `null`: not known (no `.prj`, one not identified) — give `crs=`.
    pub crs: Option<CrsRef>,
    /// Why it is not known (`null` when it is).
    pub reason: Option<String>,
    /// When not known: a system the coordinates look like (a guess from the first vertex, to
    /// offer; never applied).
    pub guess: Option<CrsRef>,
}

/// The text encoding of a file layer's attributes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InspectedEncoding {
    /// `utf-8` | `gbk`.
    pub encoding: String,
    /// `given` (`encoding=`) | `cpg` (the .cpg) | `ldid` (the .dbf header) | `detected`.
    pub source: String,
}

/// A column of a file layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InspectedColumn {
    /// Its name.
    pub name: String,
    /// Up to 5 distinct non-empty values, in record order, as text (at most 80 characters).
    pub samples: Vec<String>,
    /// Records with a non-empty value.
    pub filled: usize,
}

/// A geometry in a few numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GeometrySummary {
    /// The GeoJSON type (`MultiPolygon`, …); `null`: no geometry.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Vertices.
    pub vertices: usize,
    /// The first vertex, `[lon, lat]` (the system known).
    pub first_lon_lat: Option<[f64; 2]>,
    /// The first vertex as written in the file, `[x, y]` (the system not known).
    pub first_xy: Option<[f64; 2]>,
}

/// A previewed record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewRow {
    /// Its record number, from 1.
    pub record: usize,
    /// One value per column, in the order of `columns` (texts cut to 80 characters).
    #[schema(value_type = Vec<Object>)]
    pub values: Vec<serde_json::Value>,
    /// Its geometry, summarised.
    pub geometry: GeometrySummary,
}

/// One file layer (a `.shp` of the zip, …).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InspectedLayer {
    /// The file layer's name (the Shapefile's stem): the key of the mapping's `layer_of`.
    pub name: String,
    /// The file, as problems name it (`areas.shp`).
    pub file: String,
    /// The declared geometry type (`polygon`, `polyline`, `point`, …).
    pub geometry_type: Option<String>,
    /// Records.
    pub records: usize,
    /// The columns with samples.
    pub columns: Vec<InspectedColumn>,
    /// The first 5 records.
    pub preview: Vec<PreviewRow>,
    /// Its coordinate system.
    pub crs: InspectedCrs,
    /// The attributes' encoding (`null`: the format has none to choose).
    pub encoding: Option<InspectedEncoding>,
}

/// `200` of `POST /api/v1/drafts/inspect`: what the file holds; nothing is stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Inspection {
    /// The format read (`shapefile`, …).
    pub format: String,
    /// The file layers.
    pub layers: Vec<InspectedLayer>,
    /// A column mapping suggested from the column names (standard and common Chinese ones),
    /// for the `mapping=` parameter of the upload.
    pub suggested_mapping: crate::geo_io::mapping::ColumnMapping,
}
