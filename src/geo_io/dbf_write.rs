//! Writing a dBASE III table (a Shapefile's `.dbf`): field types C (text), N (number), F
//! (float), L (logical) and D (date); names of at most 10 bytes; text in GBK or UTF-8.
//!
//! The whole table is built in memory ([`write`]). Nothing is truncated: a value longer than
//! its field, a number that does not fit, a name over 10 bytes or a character the encoding
//! cannot write is a [`DbfError`] naming the record and the field.

use thiserror::Error;

/// The text encoding of names and values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// GBK (code page 936), what Chinese ArcGIS reads by default.
    Gbk,
    /// UTF-8.
    Utf8,
}

impl Encoding {
    /// The `.cpg` text naming the encoding (`936` for GBK, as ArcGIS writes; GDAL reads it as
    /// CP936).
    pub fn cpg(self) -> &'static str {
        match self {
            Encoding::Gbk => "936",
            Encoding::Utf8 => "UTF-8",
        }
    }

    /// The dBASE language driver id (header byte 29): 0x4D for code page 936, 0 for UTF-8 (no
    /// id exists; the `.cpg` says it).
    pub fn ldid(self) -> u8 {
        match self {
            Encoding::Gbk => 0x4D,
            Encoding::Utf8 => 0,
        }
    }

    /// `s` in this encoding, or `None` if a character has no GBK code.
    pub fn encode(self, s: &str) -> Option<Vec<u8>> {
        match self {
            Encoding::Utf8 => Some(s.as_bytes().to_vec()),
            Encoding::Gbk => {
                let (bytes, _, unmappable) = encoding_rs::GBK.encode(s);
                (!unmappable).then(|| bytes.into_owned())
            }
        }
    }

    /// Parses `gbk` / `utf-8` (case-insensitive; also `utf8`, `cp936`, `936`).
    pub fn parse(s: &str) -> Option<Encoding> {
        match s.to_ascii_lowercase().as_str() {
            "gbk" | "cp936" | "936" => Some(Encoding::Gbk),
            "utf-8" | "utf8" => Some(Encoding::Utf8),
            _ => None,
        }
    }
}

/// The type of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// Text of at most `len` bytes (1..=254).
    Char {
        /// Width in bytes.
        len: u8,
    },
    /// A number written with `dec` decimals in `len` characters (len ≤ 20, dec ≤ 15, dec < len − 1 when dec > 0).
    Numeric {
        /// Width.
        len: u8,
        /// Decimals.
        dec: u8,
    },
    /// As `Numeric`, type letter F.
    Float {
        /// Width.
        len: u8,
        /// Decimals.
        dec: u8,
    },
    /// True/false (`T`/`F`, `?` for none).
    Logical,
    /// A date, `YYYYMMDD`.
    Date,
}

impl FieldType {
    fn letter(self) -> u8 {
        match self {
            FieldType::Char { .. } => b'C',
            FieldType::Numeric { .. } => b'N',
            FieldType::Float { .. } => b'F',
            FieldType::Logical => b'L',
            FieldType::Date => b'D',
        }
    }

    fn len_dec(self) -> (u8, u8) {
        match self {
            FieldType::Char { len } => (len, 0),
            FieldType::Numeric { len, dec } | FieldType::Float { len, dec } => (len, dec),
            FieldType::Logical => (1, 0),
            FieldType::Date => (8, 0),
        }
    }
}

/// A field (column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The name: 1–10 bytes in the table's encoding.
    pub name: String,
    /// Its type.
    pub kind: FieldType,
}

/// A value of a record.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// No value (blanks; `?` in a logical field).
    Null,
    /// Text, for a C field.
    Text(String),
    /// A number, for an N or F field.
    Number(f64),
    /// For an L field.
    Bool(bool),
    /// Year, month, day, for a D field.
    Date(u16, u8, u8),
}

/// What is wrong with a table.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum DbfError {
    /// A field name that is empty or longer than 10 bytes.
    #[error("field name {name:?} is {bytes} bytes in {encoding:?}; a DBF field name has 1 to 10")]
    Name {
        /// The name.
        name: String,
        /// Its length.
        bytes: usize,
        /// The encoding.
        encoding: Encoding,
    },
    /// Two fields with the same name (case-insensitive).
    #[error("field name {0:?} is used twice (DBF names are case-insensitive)")]
    DuplicateName(String),
    /// A field's width or decimals out of range.
    #[error("field {name:?}: width {len} and {dec} decimals are out of range for type {letter}")]
    Width {
        /// Field name.
        name: String,
        /// Width.
        len: u8,
        /// Decimals.
        dec: u8,
        /// Type letter.
        letter: char,
    },
    /// More fields than a dBASE III header holds.
    #[error("{0} fields; a DBF table has at most 255")]
    TooManyFields(usize),
    /// A record with a different number of values than fields.
    #[error("record {record}: {got} values for {want} fields")]
    Arity {
        /// Record number (0-based).
        record: usize,
        /// Values given.
        got: usize,
        /// Fields.
        want: usize,
    },
    /// A text longer than its field.
    #[error(
        "record {record}, field {field:?}: the text is {bytes} bytes in {encoding:?}, the field holds {max}"
    )]
    TooLong {
        /// Record.
        record: usize,
        /// Field name.
        field: String,
        /// Encoded length.
        bytes: usize,
        /// Field width.
        max: usize,
        /// Encoding.
        encoding: Encoding,
    },
    /// A character GBK has no code for.
    #[error(
        "record {record}, field {field:?}: {text:?} has a character GBK cannot write; export in UTF-8"
    )]
    Unencodable {
        /// Record.
        record: usize,
        /// Field name (or the name itself for a field name).
        field: String,
        /// The text.
        text: String,
    },
    /// A number that does not fit its field, or is not finite.
    #[error(
        "record {record}, field {field:?}: {value} does not fit in {len} characters with {dec} decimals"
    )]
    Number {
        /// Record.
        record: usize,
        /// Field name.
        field: String,
        /// The value.
        value: f64,
        /// Width.
        len: u8,
        /// Decimals.
        dec: u8,
    },
    /// A value of the wrong type for its field.
    #[error("record {record}, field {field:?}: a {got} value in a field of type {letter}")]
    Type {
        /// Record.
        record: usize,
        /// Field name.
        field: String,
        /// What was given.
        got: &'static str,
        /// Type letter.
        letter: char,
    },
    /// More records than the header counts.
    #[error("{0} records; a DBF table has fewer than 2^32")]
    TooManyRecords(usize),
}

impl DbfError {
    /// The record (0-based) the problem is in, when it is in one.
    pub fn record(&self) -> Option<usize> {
        match self {
            DbfError::TooLong { record, .. }
            | DbfError::Unencodable { record, .. }
            | DbfError::Number { record, .. }
            | DbfError::Type { record, .. }
            | DbfError::Arity { record, .. } => Some(*record),
            _ => None,
        }
    }
}

fn value_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Text(_) => "text",
        Value::Number(_) => "number",
        Value::Bool(_) => "logical",
        Value::Date(..) => "date",
    }
}

/// The header, descriptors and records of a dBASE III table, ending with the 0x1A marker.
/// `date` is the last-update date written in the header.
pub fn write(
    fields: &[Field],
    records: &[Vec<Value>],
    encoding: Encoding,
    date: (u16, u8, u8),
) -> Result<Vec<u8>, DbfError> {
    if fields.len() > 255 {
        return Err(DbfError::TooManyFields(fields.len()));
    }
    let mut names: Vec<[u8; 11]> = Vec::with_capacity(fields.len());
    let mut seen = std::collections::HashSet::new();
    for f in fields {
        let bytes = encoding
            .encode(&f.name)
            .ok_or_else(|| DbfError::Unencodable {
                record: 0,
                field: f.name.clone(),
                text: f.name.clone(),
            })?;
        if bytes.is_empty() || bytes.len() > 10 || bytes.contains(&0) {
            return Err(DbfError::Name {
                name: f.name.clone(),
                bytes: bytes.len(),
                encoding,
            });
        }
        if !seen.insert(f.name.to_lowercase()) {
            return Err(DbfError::DuplicateName(f.name.clone()));
        }
        let (len, dec) = f.kind.len_dec();
        let ok = match f.kind {
            FieldType::Char { len } => (1..=254).contains(&len),
            FieldType::Numeric { len, dec } | FieldType::Float { len, dec } => {
                (1..=20).contains(&len) && dec <= 15 && (dec == 0 || dec + 2 <= len)
            }
            _ => true,
        };
        if !ok {
            return Err(DbfError::Width {
                name: f.name.clone(),
                len,
                dec,
                letter: char::from(f.kind.letter()),
            });
        }
        let mut n = [0u8; 11];
        n[..bytes.len()].copy_from_slice(&bytes);
        names.push(n);
    }
    let record_len: usize = 1 + fields
        .iter()
        .map(|f| usize::from(f.kind.len_dec().0))
        .sum::<usize>();
    let header_len = 32 + 32 * fields.len() + 1;
    let count =
        u32::try_from(records.len()).map_err(|_| DbfError::TooManyRecords(records.len()))?;
    let mut out = Vec::with_capacity(header_len + record_len * records.len() + 1);
    out.push(0x03);
    out.push(u8::try_from(date.0.saturating_sub(1900)).unwrap_or(u8::MAX));
    out.push(date.1);
    out.push(date.2);
    out.extend_from_slice(&count.to_le_bytes());
    // header_len ≤ 32 + 32·255 + 1 and record_len ≤ 1 + 255·254: both fit 16 bits.
    out.extend_from_slice(&(header_len as u16).to_le_bytes());
    out.extend_from_slice(&(record_len as u16).to_le_bytes());
    out.extend_from_slice(&[0u8; 17]);
    out.push(encoding.ldid());
    out.extend_from_slice(&[0u8; 2]);
    for (f, name) in fields.iter().zip(&names) {
        let (len, dec) = f.kind.len_dec();
        out.extend_from_slice(name);
        out.push(f.kind.letter());
        out.extend_from_slice(&[0u8; 4]);
        out.push(len);
        out.push(dec);
        out.extend_from_slice(&[0u8; 14]);
    }
    out.push(0x0D);
    for (r, values) in records.iter().enumerate() {
        if values.len() != fields.len() {
            return Err(DbfError::Arity {
                record: r,
                got: values.len(),
                want: fields.len(),
            });
        }
        out.push(b' ');
        for (f, v) in fields.iter().zip(values) {
            write_value(&mut out, r, f, v, encoding)?;
        }
    }
    out.push(0x1A);
    Ok(out)
}

fn write_value(
    out: &mut Vec<u8>,
    record: usize,
    f: &Field,
    v: &Value,
    encoding: Encoding,
) -> Result<(), DbfError> {
    let (len, dec) = f.kind.len_dec();
    let width = usize::from(len);
    let type_error = || DbfError::Type {
        record,
        field: f.name.clone(),
        got: value_kind(v),
        letter: char::from(f.kind.letter()),
    };
    match (f.kind, v) {
        (FieldType::Logical, Value::Null) => out.push(b'?'),
        (_, Value::Null) => out.extend(std::iter::repeat_n(b' ', width)),
        (FieldType::Char { .. }, Value::Text(s)) => {
            let bytes = encoding.encode(s).ok_or_else(|| DbfError::Unencodable {
                record,
                field: f.name.clone(),
                text: s.clone(),
            })?;
            if bytes.len() > width {
                return Err(DbfError::TooLong {
                    record,
                    field: f.name.clone(),
                    bytes: bytes.len(),
                    max: width,
                    encoding,
                });
            }
            out.extend_from_slice(&bytes);
            out.extend(std::iter::repeat_n(b' ', width - bytes.len()));
        }
        (FieldType::Numeric { .. } | FieldType::Float { .. }, Value::Number(x)) => {
            let text = format!(
                "{:>width$.prec$}",
                x,
                width = width,
                prec = usize::from(dec)
            );
            if !x.is_finite() || text.len() > width {
                return Err(DbfError::Number {
                    record,
                    field: f.name.clone(),
                    value: *x,
                    len,
                    dec,
                });
            }
            out.extend_from_slice(text.as_bytes());
        }
        (FieldType::Logical, Value::Bool(b)) => out.push(if *b { b'T' } else { b'F' }),
        (FieldType::Date, Value::Date(y, m, d)) => {
            let text = format!("{y:04}{m:02}{d:02}");
            if text.len() != 8 || !(1..=12).contains(m) || !(1..=31).contains(d) {
                return Err(type_error());
            }
            out.extend_from_slice(text.as_bytes());
        }
        _ => return Err(type_error()),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str, kind: FieldType) -> Field {
        Field {
            name: name.into(),
            kind,
        }
    }

    #[test]
    fn a_gbk_table_has_the_layout_of_dbase_iii() {
        let fields = [
            field("code", FieldType::Char { len: 12 }),
            field("名称", FieldType::Char { len: 10 }),
            field("n", FieldType::Numeric { len: 6, dec: 2 }),
            field("ok", FieldType::Logical),
            field("day", FieldType::Date),
        ];
        let rows = vec![
            vec![
                Value::Text("310116".into()),
                Value::Text("金山区".into()),
                Value::Number(12.5),
                Value::Bool(true),
                Value::Date(2026, 5, 1),
            ],
            vec![
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
            ],
        ];
        let b = write(&fields, &rows, Encoding::Gbk, (2026, 12, 1)).expect("table");
        assert_eq!(b[0], 3);
        assert_eq!(&b[1..4], &[126, 12, 1]);
        assert_eq!(u32::from_le_bytes([b[4], b[5], b[6], b[7]]), 2);
        let header = usize::from(u16::from_le_bytes([b[8], b[9]]));
        let rec = usize::from(u16::from_le_bytes([b[10], b[11]]));
        assert_eq!(header, 32 + 5 * 32 + 1);
        assert_eq!(rec, 1 + 12 + 10 + 6 + 1 + 8);
        assert_eq!(b[29], 0x4D);
        assert_eq!(&b[64..66], "名".encode_gbk_for_test().as_slice());
        assert_eq!(b[header - 1], 0x0D);
        let r0 = &b[header..header + rec];
        let mut want = b" 310116      ".to_vec();
        want.extend(encoding_rs::GBK.encode("金山区").0.iter());
        want.extend_from_slice(b"    ");
        want.extend_from_slice(b" 12.50T20260501");
        assert_eq!(r0, want.as_slice());
        let r1 = &b[header + rec..header + 2 * rec];
        assert_eq!(r1[1 + 12 + 10 + 6], b'?');
        assert_eq!(b.len(), header + 2 * rec + 1);
        assert_eq!(*b.last().expect("end"), 0x1A);
    }

    trait Gbk {
        fn encode_gbk_for_test(&self) -> Vec<u8>;
    }
    impl Gbk for str {
        fn encode_gbk_for_test(&self) -> Vec<u8> {
            encoding_rs::GBK.encode(self).0.into_owned()
        }
    }

    #[test]
    fn nothing_is_truncated() {
        let f = [field("name", FieldType::Char { len: 4 })];
        let e = write(
            &f,
            &[vec![Value::Text("金山区".into())]],
            Encoding::Gbk,
            (2026, 1, 1),
        );
        assert!(
            matches!(
                e,
                Err(DbfError::TooLong {
                    bytes: 6,
                    max: 4,
                    ..
                })
            ),
            "{e:?}"
        );
        let e = write(
            &f,
            &[vec![Value::Text("😀".into())]],
            Encoding::Gbk,
            (2026, 1, 1),
        );
        assert!(matches!(e, Err(DbfError::Unencodable { .. })), "{e:?}");
        let n = [field("n", FieldType::Numeric { len: 3, dec: 0 })];
        let e = write(
            &n,
            &[vec![Value::Number(12345.0)]],
            Encoding::Utf8,
            (2026, 1, 1),
        );
        assert!(matches!(e, Err(DbfError::Number { .. })), "{e:?}");
        let long = [field("网格编码名", FieldType::Logical)];
        assert!(write(&long, &[], Encoding::Gbk, (2026, 1, 1)).is_ok());
        let e = write(&long, &[], Encoding::Utf8, (2026, 1, 1));
        assert!(matches!(e, Err(DbfError::Name { bytes: 15, .. })), "{e:?}");
        let dup = [
            field("A", FieldType::Logical),
            field("a", FieldType::Logical),
        ];
        assert!(matches!(
            write(&dup, &[], Encoding::Utf8, (2026, 1, 1)),
            Err(DbfError::DuplicateName(_))
        ));
        let e = write(
            &f,
            &[vec![Value::Number(1.0)]],
            Encoding::Utf8,
            (2026, 1, 1),
        );
        assert!(matches!(e, Err(DbfError::Type { .. })), "{e:?}");
    }
}
