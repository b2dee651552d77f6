//! Spreadsheet exports of report tables (indicators, rankings) for the district offices: CSV
//! and XLSX with Chinese column headers.
//!
//! A presentation format like the JSON shapes beside it: a [`Sheet`] is plain data (a Chinese
//! worksheet name, typed columns with a stable English key and a Chinese header, rows of typed
//! cells) and [`to_csv`] / [`to_xlsx`] turn sheets into the bytes of a file. No I/O: the caller
//! (the service or a handler) builds the sheets and sends or writes the bytes.
//!
//! # Cells
//!
//! A column has a [`ColumnKind`]; each cell of it is the matching [`Cell`] variant or
//! [`Cell::Empty`] (anything else is [`SheetError::CellKind`]). An absent rate or score
//! (`Rate(None)`, `Number(None)`: an empty denominator) is an empty cell, never 0. Rates and
//! scores must be finite.
//!
//! # CSV ([`to_csv`])
//!
//! - UTF-8 with a byte-order mark, so Excel on Chinese Windows (whose default code page is GBK)
//!   reads the headers right; RFC 4180 quoting and CRLF line ends (the `csv` crate); the header
//!   row is the Chinese headers.
//! - A count is an integer; a score has two decimals (`92.46`); a rate is a **percentage with
//!   two decimals** (`87.50%`), not the fraction `0.875`: Excel reads `87.50%` as the number
//!   0.875 shown as a percentage, so the file opens as people read the report and still sums and
//!   sorts as numbers; a program reading the CSV strips the `%` and divides by 100 (or asks for
//!   the XLSX, where a rate is the plain fraction).
//! - A text cell (and a header) starting with `=`, `+`, `-`, `@`, a tab or a carriage return —
//!   or their full-width forms `＝＋－＠`, which CJK input methods produce — is prefixed with
//!   `'` ([`neutralise`]): names and codes can come from uploaded data, and a spreadsheet would
//!   otherwise run them as formulas (CSV injection).
//!
//! # XLSX ([`to_xlsx`], `rust_xlsxwriter`)
//!
//! - One worksheet per sheet, named by [`worksheet_names`]: Excel's forbidden characters
//!   `[ ] : * ? / \` become `_`, apostrophes at either end and blanks are dropped, names are cut
//!   to 31 UTF-16 units, and a name already taken (Excel compares without case; `History` is
//!   reserved) gets ` (2)`, ` (3)`, …
//! - Bold header row, frozen, with an autofilter over the table; column widths fit the longest
//!   header or value, counting a CJK character as two.
//! - Rates are numbers with the format `0.00%`, counts numbers with `0`, scores numbers with
//!   `0.00` (an XLSX number is a double: a count is exact up to 2^53); text is always a string
//!   cell, never a formula, so it needs no neutralising.
//!
//! # Bounds
//!
//! At most [`MAX_DATA_ROWS`] rows under the header (a worksheet's 1,048,576 rows), at most
//! [`MAX_COLUMNS`] columns and (XLSX) [`MAX_SHEETS`] sheets; a text cell of an XLSX holds at
//! most [`MAX_TEXT_UNITS`] UTF-16 units. Past a bound the export is refused with a
//! [`SheetError`], never a panic or a partial file. The bounds on rows and columns apply to the CSV
//! too: a file the offices' spreadsheet cannot open whole is no export for them.

use std::collections::HashSet;
use std::fmt::Write as _;

use rust_xlsxwriter::{Format, Workbook, Worksheet};

/// Rows of a worksheet, the header row included.
pub const MAX_WORKSHEET_ROWS: usize = 1_048_576;
/// Rows of a sheet under its header row.
pub const MAX_DATA_ROWS: usize = MAX_WORKSHEET_ROWS - 1;
/// Columns of a worksheet.
pub const MAX_COLUMNS: usize = 16_384;
/// Sheets of one workbook export: far more than a report has, few enough to bound the work.
pub const MAX_SHEETS: usize = 64;
/// Length of an XLSX text cell, in UTF-16 units (Excel's 32,767 characters).
pub const MAX_TEXT_UNITS: usize = 32_767;
/// Length of a worksheet name, in UTF-16 units.
pub const MAX_SHEET_NAME_UNITS: usize = 31;

/// One table: a worksheet of an XLSX, or a whole CSV.
#[derive(Debug, Clone, PartialEq)]
pub struct Sheet {
    /// Worksheet name, Chinese (`街镇`); see [`worksheet_names`] for what XLSX makes of it.
    pub name: String,
    /// The columns, in order.
    pub columns: Vec<Column>,
    /// The rows, each with one cell per column.
    pub rows: Vec<Vec<Cell>>,
}

/// A column of a [`Sheet`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Stable English key (`on_time_rate`), as in the JSON answers; not written to the file.
    pub key: String,
    /// Chinese header (`按期结案率`), the file's header row.
    pub header: String,
    /// What the cells hold and how they are shown.
    pub kind: ColumnKind,
}

impl Column {
    /// A column of `kind` with its key and header.
    pub fn new(key: impl Into<String>, header: impl Into<String>, kind: ColumnKind) -> Self {
        Column {
            key: key.into(),
            header: header.into(),
            kind,
        }
    }
}

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// Text ([`Cell::Text`]): names, codes.
    Text,
    /// An integer ([`Cell::Int`]): cases, overdue.
    Count,
    /// A fraction 0..1 shown as a percentage with two decimals ([`Cell::Rate`]).
    Rate,
    /// A score shown with two decimals ([`Cell::Number`]).
    Number,
}

/// One cell; its variant matches its column's [`ColumnKind`], or is [`Cell::Empty`].
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text, written as text whatever it looks like.
    Text(String),
    /// A count.
    Int(i64),
    /// A fraction 0..1; `None` (an empty denominator) is an empty cell, never 0.
    Rate(Option<f64>),
    /// A score; `None` is an empty cell.
    Number(Option<f64>),
    /// Nothing.
    Empty,
}

impl Cell {
    fn name(&self) -> &'static str {
        match self {
            Cell::Text(_) => "text",
            Cell::Int(_) => "integer",
            Cell::Rate(_) => "rate",
            Cell::Number(_) => "number",
            Cell::Empty => "empty",
        }
    }

    fn fits(&self, kind: ColumnKind) -> bool {
        matches!(
            (self, kind),
            (Cell::Empty, _)
                | (Cell::Text(_), ColumnKind::Text)
                | (Cell::Int(_), ColumnKind::Count)
                | (Cell::Rate(_), ColumnKind::Rate)
                | (Cell::Number(_), ColumnKind::Number)
        )
    }
}

/// Why an export was refused. `row` is the index in [`Sheet::rows`] (0 for the first row under
/// the header).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SheetError {
    /// An XLSX needs at least one worksheet.
    #[error("no sheets to export")]
    NoSheets,
    #[error("{sheets} sheets; an export holds at most {MAX_SHEETS}")]
    TooManySheets { sheets: usize },
    #[error("sheet {sheet:?} has no columns")]
    NoColumns { sheet: String },
    #[error("sheet {sheet:?} has {columns} columns; a worksheet holds at most {MAX_COLUMNS}")]
    TooManyColumns { sheet: String, columns: usize },
    #[error(
        "sheet {sheet:?} has {rows} rows; a worksheet holds at most {MAX_DATA_ROWS} under its header"
    )]
    TooManyRows { sheet: String, rows: usize },
    #[error("sheet {sheet:?}, row {row}: {found} cells for {expected} columns")]
    RowWidth {
        sheet: String,
        row: usize,
        expected: usize,
        found: usize,
    },
    #[error("sheet {sheet:?}, row {row}, column `{column}`: a {cell} cell in a {kind:?} column")]
    CellKind {
        sheet: String,
        row: usize,
        column: String,
        kind: ColumnKind,
        cell: &'static str,
    },
    #[error("sheet {sheet:?}, row {row}, column `{column}`: {value} is not a finite number")]
    NotFinite {
        sheet: String,
        row: usize,
        column: String,
        value: f64,
    },
    /// `row` is `None` for the header.
    #[error(
        "sheet {sheet:?}, row {row:?}, column `{column}`: text of {units} UTF-16 units; an XLSX cell holds at most {MAX_TEXT_UNITS}"
    )]
    TextTooLong {
        sheet: String,
        row: Option<usize>,
        column: String,
        units: usize,
    },
    /// The CSV writer failed (it writes to memory: not expected).
    #[error("writing CSV: {0}")]
    Csv(String),
    /// The XLSX writer refused something the checks above let through (not expected).
    #[error("writing XLSX: {0}")]
    Xlsx(String),
}

impl From<csv::Error> for SheetError {
    fn from(e: csv::Error) -> Self {
        SheetError::Csv(e.to_string())
    }
}

impl From<rust_xlsxwriter::XlsxError> for SheetError {
    fn from(e: rust_xlsxwriter::XlsxError) -> Self {
        SheetError::Xlsx(e.to_string())
    }
}

/// Checks the bounds of one sheet and that every cell fits its column.
fn check(sheet: &Sheet) -> Result<(), SheetError> {
    let name = || sheet.name.clone();
    let columns = sheet.columns.len();
    if columns == 0 {
        return Err(SheetError::NoColumns { sheet: name() });
    }
    if columns > MAX_COLUMNS {
        return Err(SheetError::TooManyColumns {
            sheet: name(),
            columns,
        });
    }
    if sheet.rows.len() > MAX_DATA_ROWS {
        return Err(SheetError::TooManyRows {
            sheet: name(),
            rows: sheet.rows.len(),
        });
    }
    for (r, row) in sheet.rows.iter().enumerate() {
        if row.len() != columns {
            return Err(SheetError::RowWidth {
                sheet: name(),
                row: r,
                expected: columns,
                found: row.len(),
            });
        }
        for (cell, column) in row.iter().zip(&sheet.columns) {
            if !cell.fits(column.kind) {
                return Err(SheetError::CellKind {
                    sheet: name(),
                    row: r,
                    column: column.key.clone(),
                    kind: column.kind,
                    cell: cell.name(),
                });
            }
            if let Cell::Rate(Some(v)) | Cell::Number(Some(v)) = cell {
                if !v.is_finite() {
                    return Err(SheetError::NotFinite {
                        sheet: name(),
                        row: r,
                        column: column.key.clone(),
                        value: *v,
                    });
                }
            }
        }
    }
    Ok(())
}

/// The UTF-8 byte-order mark that starts every CSV.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

pub use crate::model::text::neutralise;

/// `v` with two decimals, without a sign on a value that rounds to zero.
fn two_decimals(out: &mut String, v: f64) {
    let start = out.len();
    let _ = write!(out, "{v:.2}");
    if &out[start..] == "-0.00" {
        out.remove(start);
    }
}

/// The CSV text of a cell (empty for an empty cell or an absent value).
fn csv_field(out: &mut String, cell: &Cell) {
    out.clear();
    match cell {
        Cell::Text(t) => out.push_str(&neutralise(t)),
        Cell::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Cell::Rate(Some(r)) => {
            two_decimals(out, r * 100.0);
            out.push('%');
        }
        Cell::Number(Some(n)) => two_decimals(out, *n),
        Cell::Rate(None) | Cell::Number(None) | Cell::Empty => {}
    }
}

/// The sheet as a CSV file: UTF-8 with a BOM, the Chinese headers, then the rows (see the module
/// doc for how each kind of cell is written).
pub fn to_csv(sheet: &Sheet) -> Result<Vec<u8>, SheetError> {
    check(sheet)?;
    let mut out = Vec::with_capacity(64 * (sheet.rows.len() + 1));
    out.extend_from_slice(BOM);
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    for column in &sheet.columns {
        w.write_field(neutralise(&column.header).as_bytes())?;
    }
    w.write_record(None::<&[u8]>)?;
    let mut field = String::new();
    for row in &sheet.rows {
        for cell in row {
            csv_field(&mut field, cell);
            w.write_field(field.as_bytes())?;
        }
        w.write_record(None::<&[u8]>)?;
    }
    w.into_inner().map_err(|e| SheetError::Csv(e.to_string()))
}

/// The worksheet names [`to_xlsx`] gives `sheets`, in order: valid for Excel and unique (see
/// the module doc).
pub fn worksheet_names(sheets: &[Sheet]) -> Vec<String> {
    // Excel compares names without case and reserves "History".
    let mut taken: HashSet<String> = HashSet::from(["history".to_string()]);
    let mut names = Vec::with_capacity(sheets.len());
    for (i, sheet) in sheets.iter().enumerate() {
        let cleaned: String = sheet
            .name
            .chars()
            .map(|c| match c {
                '[' | ']' | ':' | '*' | '?' | '/' | '\\' => '_',
                c if c.is_control() => ' ',
                c => c,
            })
            .collect();
        let mut base = cut(trim_name(&cleaned), MAX_SHEET_NAME_UNITS).to_string();
        if base.is_empty() {
            base = format!("Sheet{}", i + 1);
        }
        let mut name = base.clone();
        let mut n = 2;
        while taken.contains(&name.to_lowercase()) {
            let suffix = format!(" ({n})");
            let room = MAX_SHEET_NAME_UNITS - suffix.len();
            name = format!("{}{suffix}", trim_name(cut(&base, room)));
            n += 1;
        }
        taken.insert(name.to_lowercase());
        names.push(name);
    }
    names
}

/// `name` without blanks or apostrophes at either end (Excel refuses an apostrophe there).
fn trim_name(name: &str) -> &str {
    name.trim_matches(|c: char| c == '\'' || c.is_whitespace())
}

/// The longest prefix of `s` of at most `units` UTF-16 units.
fn cut(s: &str, units: usize) -> &str {
    let mut used = 0;
    for (i, c) in s.char_indices() {
        used += c.len_utf16();
        if used > units {
            return trim_name(&s[..i]);
        }
    }
    s
}

/// Display width of `text` in Excel's character units, a CJK (wide) character counting two;
/// of its longest line if it has several.
fn display_width(text: &str) -> usize {
    text.lines()
        .map(|line| line.chars().map(|c| if wide(c) { 2 } else { 1 }).sum())
        .max()
        .unwrap_or(0)
}

/// East Asian wide and full-width characters (Unicode's W and F classes, in outline).
fn wide(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x115F
        | 0x2E80..=0x303E
        | 0x3041..=0x33FF
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6
        | 0x1F300..=0x1F64F
        | 0x20000..=0x3FFFD)
}

/// The number formats of the cells.
struct Formats {
    header: Format,
    count: Format,
    rate: Format,
    number: Format,
}

/// The sheets as an XLSX workbook, one worksheet per sheet (see the module doc).
pub fn to_xlsx(sheets: &[Sheet]) -> Result<Vec<u8>, SheetError> {
    if sheets.is_empty() {
        return Err(SheetError::NoSheets);
    }
    if sheets.len() > MAX_SHEETS {
        return Err(SheetError::TooManySheets {
            sheets: sheets.len(),
        });
    }
    for sheet in sheets {
        check(sheet)?;
    }
    let formats = Formats {
        header: Format::new().set_bold(),
        count: Format::new().set_num_format("0"),
        rate: Format::new().set_num_format("0.00%"),
        number: Format::new().set_num_format("0.00"),
    };
    let mut workbook = Workbook::new();
    for (sheet, name) in sheets.iter().zip(worksheet_names(sheets)) {
        let worksheet = workbook.add_worksheet();
        worksheet.set_name(name)?;
        write_worksheet(worksheet, sheet, &formats)?;
    }
    Ok(workbook.save_to_buffer()?)
}

/// Writes one checked sheet: header, cells, widths, frozen header, autofilter.
fn write_worksheet(ws: &mut Worksheet, sheet: &Sheet, f: &Formats) -> Result<(), SheetError> {
    let too_long = |row: Option<usize>, column: &Column, text: &str| {
        let units = text.encode_utf16().count();
        (units > MAX_TEXT_UNITS).then(|| SheetError::TextTooLong {
            sheet: sheet.name.clone(),
            row,
            column: column.key.clone(),
            units,
        })
    };
    // Widths in character units, from the header (bold: a little wider) and every value as shown.
    let mut widths: Vec<usize> = Vec::with_capacity(sheet.columns.len());
    for (c, column) in sheet.columns.iter().enumerate() {
        if let Some(e) = too_long(None, column, &column.header) {
            return Err(e);
        }
        ws.write_string_with_format(0, col(c), &column.header, &f.header)?;
        widths.push(display_width(&column.header) * 11 / 10 + 1);
    }
    let mut shown = String::new();
    for (r, row) in sheet.rows.iter().enumerate() {
        // At most MAX_DATA_ROWS (checked), so the worksheet row fits a u32.
        let at = (r + 1) as u32;
        for (c, (cell, column)) in row.iter().zip(&sheet.columns).enumerate() {
            let width = match cell {
                Cell::Text(t) => {
                    if let Some(e) = too_long(Some(r), column, t) {
                        return Err(e);
                    }
                    ws.write_string(at, col(c), t)?;
                    display_width(t)
                }
                Cell::Int(i) => {
                    ws.write_number_with_format(at, col(c), *i as f64, &f.count)?;
                    csv_field(&mut shown, cell);
                    shown.len()
                }
                Cell::Rate(Some(v)) => {
                    ws.write_number_with_format(at, col(c), *v, &f.rate)?;
                    csv_field(&mut shown, cell);
                    shown.len()
                }
                Cell::Number(Some(v)) => {
                    ws.write_number_with_format(at, col(c), *v, &f.number)?;
                    csv_field(&mut shown, cell);
                    shown.len()
                }
                Cell::Rate(None) | Cell::Number(None) | Cell::Empty => 0,
            };
            widths[c] = widths[c].max(width);
        }
    }
    for (c, width) in widths.into_iter().enumerate() {
        // Room for the autofilter's button; no column wider than a screen's half.
        ws.set_column_width(col(c), (width + 3).clamp(8, 80) as f64)?;
    }
    ws.set_freeze_panes(1, 0)?;
    let last_row = sheet.rows.len() as u32;
    ws.autofilter(0, 0, last_row, col(sheet.columns.len() - 1))?;
    Ok(())
}

/// A column index as rust_xlsxwriter counts it (at most MAX_COLUMNS, checked).
fn col(c: usize) -> u16 {
    c as u16
}

#[cfg(test)]
mod tests;
