//! A zipped upload (a Shapefile's .shp/.shx/.dbf/.prj/.cpg) read into memory, bounded against
//! zip bombs: at most [`MAX_ENTRIES`] entries, each entry's and the total uncompressed size
//! within the caller's byte limit whatever the entry headers declare (reading stops one byte
//! past it), directories and macOS resource forks (`__MACOSX/`, `._*`) skipped. Entry names
//! are UTF-8, else GBK (Chinese Windows zips names in GBK without the UTF-8 flag).

use super::dbf::DbfEncoding;
use std::io::{Cursor, Read};

/// The most entries read from an archive.
pub const MAX_ENTRIES: usize = 256;

/// One file of the archive.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Its path in the archive.
    pub name: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// Reads every file of a zip archive, at most `max_bytes` uncompressed in all.
pub fn read_zip(bytes: &[u8], max_bytes: usize) -> Result<Vec<Entry>, String> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| format!("not a readable zip archive: {e}"))?;
    if zip.len() > MAX_ENTRIES {
        return Err(format!(
            "the archive has {} entries; at most {MAX_ENTRIES} are read",
            zip.len()
        ));
    }
    let mut out = Vec::new();
    let mut total = 0usize;
    for i in 0..zip.len() {
        let mut f = zip
            .by_index(i)
            .map_err(|e| format!("archive entry {i}: {e}"))?;
        let raw = f.name_raw().to_vec();
        let name = match DbfEncoding::Utf8.decode(&raw) {
            Some(s) => s.into_owned(),
            None => DbfEncoding::Gbk
                .decode(&raw)
                .map(|s| s.into_owned())
                .unwrap_or_else(|| String::from_utf8_lossy(&raw).into_owned()),
        };
        let base = name.rsplit('/').next().unwrap_or(&name);
        if f.is_dir() || name.starts_with("__MACOSX/") || base.starts_with("._") {
            continue;
        }
        let left = max_bytes.saturating_sub(total);
        if f.size() > left as u64 {
            return Err(format!(
                "archive entry {name}: {} bytes uncompressed; at most {max_bytes} in all are read",
                f.size()
            ));
        }
        let mut buf = Vec::with_capacity((f.size() as usize).min(left));
        (&mut f)
            .take(left as u64 + 1)
            .read_to_end(&mut buf)
            .map_err(|e| format!("archive entry {name}: {e}"))?;
        if buf.len() > left {
            return Err(format!(
                "archive entry {name}: more bytes than its header declares, over the limit of {max_bytes} in all"
            ));
        }
        total += buf.len();
        out.push(Entry { name, bytes: buf });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (n, b) in files {
            w.start_file(*n, zip::write::SimpleFileOptions::default())
                .expect("start");
            w.write_all(b).expect("write");
        }
        w.finish().expect("finish").into_inner()
    }

    #[test]
    fn reads_and_bounds() {
        let z = zip_of(&[
            ("a/x.shp", b"12345"),
            ("__MACOSX/a/._x.shp", b"junk"),
            ("y.dbf", &[0u8; 1000]),
        ]);
        let e = read_zip(&z, 2000).expect("read");
        assert_eq!(
            e.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
            ["a/x.shp", "y.dbf"]
        );
        let err = read_zip(&z, 500).expect_err("limit");
        assert!(err.contains("y.dbf"), "{err}");
        assert!(read_zip(b"not a zip", 10).is_err());
    }
}
