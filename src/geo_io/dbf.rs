//! The dBase III table (`.dbf`) of a Shapefile: reading and writing, with the text encoding
//! chosen explicitly and applied strictly. See docs/formats.md.
//!
//! The `dbase` crate decodes GBK lossily (U+FFFD on read, `&#NNNN;` on write), writes field
//! names as UTF-8 bytes whatever the encoding and crops values inside a character, so the
//! format is done here; it is small:
//!
//! 1. A 32-byte header (version 0x03, last update date, record count `u32`, header length
//!    `u16` = 32 + 32·fields + 1, record length `u16` = 1 + Σ field lengths, language driver
//!    id at byte 29), one 32-byte descriptor per field (name in 11 NUL-padded bytes, type
//!    letter, length, decimal count), `0x0D`, then the records (a deletion flag `' '` or `'*'`,
//!    then each field's bytes, space-padded), then `0x1A`.
//! 2. [`RawTable::parse`] reads the bytes as they are (names and values undecoded), within
//!    [`Limits`]; [`DbfEncoding`] decodes and encodes strictly: bytes that are not valid text
//!    in the chosen encoding, or characters it cannot hold, are errors, never replaced.
//! 3. [`choose_encoding`]: a given encoding, else the `.cpg`, else the language driver id
//!    (0x4D and 0x7A are GBK), else detected: every name and character value valid UTF-8 →
//!    UTF-8, else GBK (then decoding names the first field that is not GBK either).
//! 4. [`write`] makes a table from [`Field`]s and rows of text, for the Shapefile writer:
//!    names and values are encoded strictly and must fit their widths in encoded bytes.

use std::borrow::Cow;
use thiserror::Error;

/// The text encoding of a table's names and character values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DbfEncoding {
    /// UTF-8 (`.cpg` "UTF-8", language driver id 0).
    Utf8,
    /// GBK, code page 936 (`.cpg` "936", language driver id 0x4D).
    Gbk,
}

impl DbfEncoding {
    /// The encoding a name means: `utf-8`/`utf8`/`65001`, or `gbk`/`cp936`/`936`/`gb2312`/
    /// `gb18030` (GB2312 is a subset of GBK; GB18030's two-byte part is GBK), any case.
    pub fn from_name(name: &str) -> Option<DbfEncoding> {
        let n = name.trim().to_ascii_lowercase();
        match n.as_str() {
            "utf-8" | "utf8" | "65001" => Some(DbfEncoding::Utf8),
            "gbk" | "cp936" | "936" | "gb2312" | "gb18030" | "ms936" | "windows-936" => {
                Some(DbfEncoding::Gbk)
            }
            _ => None,
        }
    }

    /// The encoding of a language driver id (header byte 29), if it names one of ours.
    pub fn from_ldid(ldid: u8) -> Option<DbfEncoding> {
        match ldid {
            0x4D | 0x7A => Some(DbfEncoding::Gbk),
            _ => None,
        }
    }

    /// What a writer puts in the `.cpg`.
    pub fn cpg(self) -> &'static str {
        match self {
            DbfEncoding::Utf8 => "UTF-8",
            DbfEncoding::Gbk => "936",
        }
    }

    /// What a writer puts in header byte 29 (0: not stated, the `.cpg` says it).
    pub fn ldid(self) -> u8 {
        match self {
            DbfEncoding::Utf8 => 0,
            DbfEncoding::Gbk => 0x4D,
        }
    }

    /// The lower-case name (`utf-8`, `gbk`).
    pub fn as_str(self) -> &'static str {
        match self {
            DbfEncoding::Utf8 => "utf-8",
            DbfEncoding::Gbk => "gbk",
        }
    }

    /// Decodes strictly: `None` when `bytes` are not valid text in this encoding.
    pub fn decode(self, bytes: &[u8]) -> Option<Cow<'_, str>> {
        match self {
            DbfEncoding::Utf8 => std::str::from_utf8(bytes).ok().map(Cow::Borrowed),
            DbfEncoding::Gbk => {
                encoding_rs::GBK.decode_without_bom_handling_and_without_replacement(bytes)
            }
        }
    }

    /// Encodes strictly: `Err(c)` names the first character this encoding cannot hold.
    pub fn encode(self, text: &str) -> Result<Vec<u8>, char> {
        match self {
            DbfEncoding::Utf8 => Ok(text.as_bytes().to_vec()),
            DbfEncoding::Gbk => {
                let mut enc = encoding_rs::GBK.new_encoder();
                let mut out = Vec::with_capacity(text.len() + 8);
                let mut src = text;
                loop {
                    let need = enc
                        .max_buffer_length_from_utf8_without_replacement(src.len())
                        .unwrap_or(src.len() * 4 + 16);
                    out.reserve(need);
                    let (res, read) =
                        enc.encode_from_utf8_to_vec_without_replacement(src, &mut out, true);
                    match res {
                        encoding_rs::EncoderResult::InputEmpty => return Ok(out),
                        encoding_rs::EncoderResult::OutputFull => src = &src[read..],
                        encoding_rs::EncoderResult::Unmappable(c) => return Err(c),
                    }
                }
            }
        }
    }
}

/// Where the encoding came from, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncodingSource {
    /// Given by the caller (`--encoding`, `encoding=`).
    Given,
    /// The `.cpg` file.
    Cpg,
    /// The header's language driver id.
    Ldid,
    /// Detected from the bytes.
    Detected,
}

impl EncodingSource {
    /// "the .cpg", "the --encoding given", …
    pub fn describe(self) -> &'static str {
        match self {
            EncodingSource::Given => "the encoding given",
            EncodingSource::Cpg => "the .cpg",
            EncodingSource::Ldid => "the .dbf header's language driver id",
            EncodingSource::Detected => "detection",
        }
    }
}

/// A field (column) of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The name (at most 10 bytes once encoded).
    pub name: String,
    /// The type letter: `C` (character), `N` (numeric), `F` (float), `L` (logical), `D` (date).
    pub kind: u8,
    /// Width in bytes (C at most 254).
    pub length: u8,
    /// Decimal places (N, F).
    pub decimals: u8,
}

/// Bounds for reading untrusted tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most records.
    pub max_records: usize,
    /// Most fields.
    pub max_fields: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_records: 1_000_000,
            max_fields: 1024,
        }
    }
}

/// A table as read, nothing decoded yet.
#[derive(Debug, Clone)]
pub struct RawTable<'a> {
    /// Field names (bytes before the first NUL), types, widths.
    pub fields: Vec<RawField<'a>>,
    /// The language driver id.
    pub ldid: u8,
    record_len: usize,
    records: &'a [u8],
    count: usize,
}

/// A field as read.
#[derive(Debug, Clone, Copy)]
pub struct RawField<'a> {
    /// The name's bytes.
    pub name: &'a [u8],
    /// The type letter.
    pub kind: u8,
    /// Width in bytes.
    pub length: u8,
    /// Decimal places.
    pub decimals: u8,
    offset: usize,
}

/// Why a `.dbf` cannot be read or written.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DbfError {
    /// Shorter than its header says, or malformed.
    #[error("{0}")]
    Malformed(String),
    /// Over a [`Limits`] bound.
    #[error("{0}")]
    TooLarge(String),
    /// A name or value that the encoding cannot hold, or too wide (writing).
    #[error("{0}")]
    Value(String),
}

impl<'a> RawTable<'a> {
    /// Reads the header and field descriptors; the records stay in `bytes`.
    pub fn parse(bytes: &'a [u8], limits: &Limits) -> Result<RawTable<'a>, DbfError> {
        let bad = |m: String| Err(DbfError::Malformed(m));
        if bytes.len() < 33 {
            return bad(format!(
                "the .dbf is {} bytes, shorter than a header",
                bytes.len()
            ));
        }
        let count = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
        let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        let record_len = u16::from_le_bytes([bytes[10], bytes[11]]) as usize;
        let ldid = bytes[29];
        if count > limits.max_records {
            return Err(DbfError::TooLarge(format!(
                "the .dbf has {count} records; at most {} are read",
                limits.max_records
            )));
        }
        if header_len < 33 || header_len > bytes.len() {
            return bad(format!(
                "the .dbf header length {header_len} does not fit the file ({} bytes)",
                bytes.len()
            ));
        }
        let mut fields = Vec::new();
        let mut pos = 32;
        let mut offset = 1;
        while pos < header_len && bytes[pos] != 0x0D {
            if pos + 32 > header_len {
                return bad(format!(
                    "the .dbf field descriptor at byte {pos} runs past the header"
                ));
            }
            if fields.len() >= limits.max_fields {
                return Err(DbfError::TooLarge(format!(
                    "the .dbf has more than {} fields",
                    limits.max_fields
                )));
            }
            let d = &bytes[pos..pos + 32];
            let name_end = d[..11].iter().position(|&b| b == 0).unwrap_or(11);
            let f = RawField {
                name: &d[..name_end],
                kind: d[11].to_ascii_uppercase(),
                length: d[16],
                decimals: d[17],
                offset,
            };
            offset += f.length as usize;
            fields.push(f);
            pos += 32;
        }
        if offset != record_len {
            return bad(format!(
                "the .dbf record length is {record_len} bytes but its fields add up to {offset}"
            ));
        }
        let records = &bytes[header_len..];
        Ok(RawTable {
            fields,
            ldid,
            record_len,
            records,
            count,
        })
    }

    /// The number of records the header states.
    pub fn len(&self) -> usize {
        self.count
    }

    /// No records.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The number of complete records present (fewer than [`Self::len`] when truncated).
    pub fn complete(&self) -> usize {
        if self.record_len == 0 {
            return self.count;
        }
        (self.records.len() / self.record_len).min(self.count)
    }

    /// Record `i` (0-based): deleted flag and each field's bytes, trailing spaces (and, for
    /// numbers, leading spaces) trimmed. `None` past the complete records.
    pub fn record(&self, i: usize) -> Option<(bool, Vec<&'a [u8]>)> {
        if i >= self.complete() {
            return None;
        }
        let r = self
            .records
            .get(i * self.record_len..(i + 1) * self.record_len)?;
        let deleted = r.first() == Some(&b'*');
        let values = self
            .fields
            .iter()
            .map(|f| {
                let v = r
                    .get(f.offset..f.offset + f.length as usize)
                    .unwrap_or_default();
                let v = trim_end(v);
                if f.kind == b'C' { v } else { trim_start(v) }
            })
            .collect();
        Some((deleted, values))
    }
}

fn trim_end(v: &[u8]) -> &[u8] {
    let n = v
        .iter()
        .rposition(|&b| b != b' ' && b != 0)
        .map_or(0, |p| p + 1);
    &v[..n]
}

fn trim_start(v: &[u8]) -> &[u8] {
    let n = v.iter().position(|&b| b != b' ').unwrap_or(v.len());
    &v[n..]
}

/// The encoding to decode `table` with: `given`, else the `.cpg` text (an unknown one is an
/// error naming it), else the language driver id, else detected (every name and character
/// value valid UTF-8 → UTF-8, else GBK).
pub fn choose_encoding(
    given: Option<DbfEncoding>,
    cpg: Option<&[u8]>,
    table: &RawTable<'_>,
) -> Result<(DbfEncoding, EncodingSource), String> {
    if let Some(e) = given {
        return Ok((e, EncodingSource::Given));
    }
    if let Some(cpg) = cpg {
        let text = String::from_utf8_lossy(cpg);
        let t = text.trim();
        if !t.is_empty() {
            return match DbfEncoding::from_name(t) {
                Some(e) => Ok((e, EncodingSource::Cpg)),
                None => Err(format!(
                    "the .cpg names the encoding {t:?}; only UTF-8 and GBK (936) are read — give the encoding explicitly (utf-8 or gbk)"
                )),
            };
        }
    }
    if let Some(e) = DbfEncoding::from_ldid(table.ldid) {
        return Ok((e, EncodingSource::Ldid));
    }
    let all_utf8 = table
        .fields
        .iter()
        .all(|f| std::str::from_utf8(f.name).is_ok())
        && (0..table.complete()).all(|i| {
            table.record(i).is_some_and(|(_, vals)| {
                vals.iter()
                    .zip(&table.fields)
                    .all(|(v, f)| f.kind != b'C' || std::str::from_utf8(v).is_ok())
            })
        });
    Ok((
        if all_utf8 {
            DbfEncoding::Utf8
        } else {
            DbfEncoding::Gbk
        },
        EncodingSource::Detected,
    ))
}

/// Writes a table: `fields`, then each row (one text per field; empty is blank). C values are
/// left-aligned, others right-aligned; a name over 10 bytes, a value wider than its field or
/// a character the encoding cannot hold is an error naming the field (and row, 0-based).
pub fn write<'r, I>(fields: &[Field], rows: I, encoding: DbfEncoding) -> Result<Vec<u8>, DbfError>
where
    I: IntoIterator<Item = &'r [String]>,
{
    let rows: Vec<&[String]> = rows.into_iter().collect();
    let record_len: usize = 1 + fields.iter().map(|f| f.length as usize).sum::<usize>();
    let header_len = 32 + 32 * fields.len() + 1;
    if header_len > u16::MAX as usize || record_len > u16::MAX as usize {
        return Err(DbfError::TooLarge(format!(
            "{} fields do not fit a .dbf header",
            fields.len()
        )));
    }
    let count = u32::try_from(rows.len())
        .map_err(|_| DbfError::TooLarge(format!("{} records", rows.len())))?;
    let mut out = Vec::with_capacity(header_len + record_len * rows.len() + 1);
    let today = chrono::Utc::now().date_naive();
    use chrono::Datelike;
    out.push(0x03);
    out.push(((today.year() - 1900).clamp(0, 255)) as u8);
    out.push(today.month() as u8);
    out.push(today.day() as u8);
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&(header_len as u16).to_le_bytes());
    out.extend_from_slice(&(record_len as u16).to_le_bytes());
    out.extend_from_slice(&[0; 17]);
    out.push(encoding.ldid());
    out.extend_from_slice(&[0; 2]);
    for f in fields {
        let name = encoding.encode(&f.name).map_err(|c| {
            DbfError::Value(format!(
                "field name {:?}: {c:?} cannot be written in {}",
                f.name,
                encoding.as_str()
            ))
        })?;
        if name.is_empty() || name.len() > 10 {
            return Err(DbfError::Value(format!(
                "field name {:?} is {} bytes in {}; a .dbf name is 1 to 10 bytes",
                f.name,
                name.len(),
                encoding.as_str()
            )));
        }
        let mut d = [0u8; 32];
        d[..name.len()].copy_from_slice(&name);
        d[11] = f.kind;
        d[16] = f.length;
        d[17] = f.decimals;
        out.extend_from_slice(&d);
    }
    out.push(0x0D);
    for (i, row) in rows.iter().enumerate() {
        if row.len() != fields.len() {
            return Err(DbfError::Value(format!(
                "row {i} has {} values for {} fields",
                row.len(),
                fields.len()
            )));
        }
        out.push(b' ');
        for (f, v) in fields.iter().zip(row.iter()) {
            let bytes = encoding.encode(v).map_err(|c| {
                DbfError::Value(format!(
                    "row {i}, field {}: {c:?} cannot be written in {}",
                    f.name,
                    encoding.as_str()
                ))
            })?;
            let w = f.length as usize;
            if bytes.len() > w {
                return Err(DbfError::Value(format!(
                    "row {i}, field {}: the value is {} bytes in {}, wider than the field ({w})",
                    f.name,
                    bytes.len(),
                    encoding.as_str()
                )));
            }
            let pad = w - bytes.len();
            if f.kind == b'C' {
                out.extend_from_slice(&bytes);
                out.resize(out.len() + pad, b' ');
            } else {
                out.resize(out.len() + pad, b' ');
                out.extend_from_slice(&bytes);
            }
        }
    }
    out.push(0x1A);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> Vec<Field> {
        vec![
            Field {
                name: "网格码".into(),
                kind: b'C',
                length: 20,
                decimals: 0,
            },
            Field {
                name: "人数".into(),
                kind: b'N',
                length: 6,
                decimals: 0,
            },
        ]
    }

    #[test]
    fn gbk_round_trip_with_detection() {
        let rows = [
            vec!["310116101001".to_string(), "12".to_string()],
            vec!["朱泾镇".to_string(), String::new()],
        ];
        let bytes =
            write(&fields(), rows.iter().map(Vec::as_slice), DbfEncoding::Gbk).expect("write");
        let t = RawTable::parse(&bytes, &Limits::default()).expect("parse");
        assert_eq!(t.len(), 2);
        assert_eq!(t.ldid, 0x4D);
        let (e, src) = choose_encoding(None, None, &t).expect("choose");
        assert_eq!((e, src), (DbfEncoding::Gbk, EncodingSource::Ldid));
        assert_eq!(e.decode(t.fields[0].name).as_deref(), Some("网格码"));
        let (del, v) = t.record(1).expect("record");
        assert!(!del);
        assert_eq!(e.decode(v[0]).as_deref(), Some("朱泾镇"));
        assert_eq!(v[1], b"");
        let (_, v) = t.record(0).expect("record");
        assert_eq!(v[1], b"12");
        // Without the language driver id, detection finds GBK (not valid UTF-8).
        let mut b2 = bytes.clone();
        b2[29] = 0;
        let t2 = RawTable::parse(&b2, &Limits::default()).expect("parse");
        assert_eq!(
            choose_encoding(None, None, &t2).expect("choose"),
            (DbfEncoding::Gbk, EncodingSource::Detected)
        );
        // A .cpg wins over the header; an unknown .cpg is an error naming it.
        assert_eq!(
            choose_encoding(None, Some(b"UTF-8\r\n"), &t)
                .expect("cpg")
                .0,
            DbfEncoding::Utf8
        );
        let e = choose_encoding(None, Some(b"1252"), &t).expect_err("unknown");
        assert!(e.contains("\"1252\""), "{e}");
    }

    #[test]
    fn utf8_detected_and_truncation_counted() {
        let rows = [vec!["网格".to_string(), "1".to_string()]];
        let bytes =
            write(&fields(), rows.iter().map(Vec::as_slice), DbfEncoding::Utf8).expect("write");
        let t = RawTable::parse(&bytes, &Limits::default()).expect("parse");
        assert_eq!(
            choose_encoding(None, None, &t).expect("choose"),
            (DbfEncoding::Utf8, EncodingSource::Detected)
        );
        let cut = &bytes[..bytes.len() - 10];
        let t = RawTable::parse(cut, &Limits::default()).expect("parse");
        assert_eq!((t.len(), t.complete()), (1, 0));
        assert!(t.record(0).is_none());
    }

    #[test]
    fn strict_both_ways() {
        assert_eq!(DbfEncoding::Gbk.encode("a😀"), Err('😀'));
        assert!(DbfEncoding::Utf8.decode(&[0xD6, 0xEC]).is_none());
        assert!(DbfEncoding::Gbk.decode(&[0xFF, 0xFF]).is_none());
        let long = Field {
            name: "一二三四五六".into(),
            kind: b'C',
            length: 4,
            decimals: 0,
        };
        let e = write(&[long], std::iter::empty(), DbfEncoding::Gbk).expect_err("long name");
        assert!(e.to_string().contains("12 bytes"), "{e}");
        let f = Field {
            name: "名".into(),
            kind: b'C',
            length: 4,
            decimals: 0,
        };
        let rows = [vec!["朱泾镇".to_string()]];
        let e = write(&[f], rows.iter().map(Vec::as_slice), DbfEncoding::Gbk).expect_err("wide");
        assert!(e.to_string().contains("6 bytes"), "{e}");
    }

    #[test]
    fn malformed_headers_refused() {
        assert!(RawTable::parse(b"short", &Limits::default()).is_err());
        let bytes = write(&fields(), std::iter::empty(), DbfEncoding::Utf8).expect("write");
        let mut b = bytes.clone();
        b[10] = 99; // record length disagrees with the fields
        assert!(RawTable::parse(&b, &Limits::default()).is_err());
        let mut b = bytes;
        b[4] = 0xFF;
        b[5] = 0xFF;
        b[6] = 0xFF;
        let e = RawTable::parse(
            &b,
            &Limits {
                max_records: 10,
                max_fields: 10,
            },
        )
        .expect_err("too many");
        assert!(matches!(e, DbfError::TooLarge(_)));
    }
}
