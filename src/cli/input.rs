//! The input arguments `validate` and `import` share: the format of the feature file and, for
//! the table formats (Shapefile), its coordinate system, DBF encoding and column mapping
//! (docs/formats.md). They become a `geo_io::source::ImportOptions`.

use crate::geo_io::mapping::ColumnMapping;
use crate::geo_io::source::{Format, ImportOptions, Requested};
use anyhow::{Context, Result, anyhow};

/// How to read the feature file.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct InputArgs {
    /// The file's format: geojson or shapefile (a .zip, or a .shp with its .dbf/.prj/.cpg
    /// beside it); default by the extension.
    #[arg(long, value_name = "FORMAT")]
    pub input_format: Option<String>,
    /// The coordinate system of the coordinates (EPSG:n, e.g. EPSG:4528), overriding the .prj;
    /// or gcj02 / bd09: longitude/latitude from Chinese web maps (Amap, Tencent / Baidu), taken
    /// back to WGS84. A GeoJSON file takes only longitude/latitude (4326, 4490, gcj02, bd09).
    #[arg(long, value_name = "EPSG:N|gcj02|bd09")]
    pub crs: Option<String>,
    /// The .dbf text encoding (utf-8 or gbk), overriding the .cpg and detection.
    #[arg(long)]
    pub encoding: Option<String>,
    /// The column mapping: a JSON file, or the JSON itself (starting with `{`), e.g.
    /// {"code":"网格编码","name":"网格名称","people":[{"role":"网格站长","name":"责任人","phone":"联系电话"}]}.
    #[arg(long, value_name = "FILE|JSON")]
    pub mapping: Option<String>,
    /// One mapping member, KEY=COLUMN (layer, code, name, parent, kind, layer_of.FILE_LAYER=LAYER);
    /// repeatable, applied over --mapping.
    #[arg(long = "column", value_name = "KEY=COLUMN")]
    pub columns: Vec<String>,
}

impl InputArgs {
    /// The format given, and the import options.
    pub fn options(&self) -> Result<(Option<Format>, ImportOptions)> {
        let json;
        let mapping = match &self.mapping {
            Some(m) if m.trim_start().starts_with('{') => Some(m.as_str()),
            Some(path) => {
                json = std::fs::read_to_string(path)
                    .with_context(|| format!("reading the mapping {path}"))?;
                Some(json.as_str())
            }
            None => None,
        };
        let (format, mut opts) = Requested {
            format: self.input_format.as_deref(),
            crs: self.crs.as_deref(),
            encoding: self.encoding.as_deref(),
            mapping,
            ..Requested::default()
        }
        .resolve()
        .map_err(|(flag, e)| {
            let flag = match flag {
                "format" => "input-format",
                f => f,
            };
            anyhow!("--{flag}: {e}")
        })?;
        for c in &self.columns {
            opts.mapping
                .get_or_insert_with(ColumnMapping::default)
                .set(c)
                .map_err(|e| anyhow!("--column {e}"))?;
        }
        Ok((format, opts))
    }
}
