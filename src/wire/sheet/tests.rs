//! Exports read back with independent readers: `csv` for CSV, `calamine` for the XLSX values
//! and `zip` for what calamine does not show (number formats, bold header, frozen pane, filter).

use super::*;
use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use proptest::prelude::*;
use std::borrow::Cow;
use std::io::{Cursor, Read as _};

fn streets() -> Sheet {
    Sheet {
        name: "街镇".into(),
        columns: vec![
            Column::new("name", "街镇名称", ColumnKind::Text),
            Column::new("code", "街镇代码", ColumnKind::Text),
            Column::new("cases", "案件数", ColumnKind::Count),
            Column::new("on_time_rate", "按期结案率", ColumnKind::Rate),
            Column::new("score", "综合得分", ColumnKind::Number),
        ],
        rows: vec![
            vec![
                Cell::Text("南京东路街道".into()),
                Cell::Text("310101002".into()),
                Cell::Int(120),
                Cell::Rate(Some(0.875)),
                Cell::Number(Some(92.456)),
            ],
            vec![
                Cell::Text("=HYPERLINK(\"http://x\",\"点我\")".into()),
                Cell::Text("-1".into()),
                Cell::Int(0),
                Cell::Rate(None),
                Cell::Number(None),
            ],
            vec![
                Cell::Text("外滩街道, \"老城厢\"\n第二行".into()),
                Cell::Empty,
                Cell::Int(7),
                Cell::Rate(Some(0.0)),
                Cell::Number(Some(-0.001)),
            ],
        ],
    }
}

fn grids() -> Sheet {
    Sheet {
        name: "网格".into(),
        columns: vec![
            Column::new("grid", "网格", ColumnKind::Text),
            Column::new("overdue", "超期案件数", ColumnKind::Count),
        ],
        rows: vec![vec![Cell::Text("@SUM(A1)".into()), Cell::Int(3)]],
    }
}

/// The CSV's records after the BOM, header first.
fn read_csv(bytes: &[u8]) -> Vec<Vec<String>> {
    assert!(bytes.starts_with(BOM), "no BOM");
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(&bytes[BOM.len()..])
        .records()
        .map(|r| r.expect("record").iter().map(str::to_string).collect())
        .collect()
}

#[test]
fn csv_has_bom_chinese_headers_percentages_and_empty_absent_rates() {
    let bytes = to_csv(&streets()).expect("csv");
    let records = read_csv(&bytes);
    assert_eq!(
        records,
        [
            vec!["街镇名称", "街镇代码", "案件数", "按期结案率", "综合得分"],
            vec!["南京东路街道", "310101002", "120", "87.50%", "92.46"],
            vec!["'=HYPERLINK(\"http://x\",\"点我\")", "'-1", "0", "", ""],
            vec!["外滩街道, \"老城厢\"\n第二行", "", "7", "0.00%", "0.00"],
        ]
    );
    // RFC 4180: CRLF between records, the field with a quote, comma and newline quoted.
    let text = std::str::from_utf8(&bytes[BOM.len()..]).expect("utf-8");
    assert!(text.starts_with("街镇名称,街镇代码,案件数,按期结案率,综合得分\r\n"));
    assert!(text.contains("\"外滩街道, \"\"老城厢\"\"\n第二行\""));
    assert!(text.ends_with("\r\n"));
}

#[test]
fn injection_is_neutralised_and_plain_text_is_not() {
    for t in [
        "=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "＝1+1", "＋1", "－1", "＠x",
        // already quoted: quoted once more, so that a spreadsheet shows the text as it is
        "'=1",
    ] {
        assert_eq!(neutralise(t), format!("'{t}"), "{t:?}");
    }
    for t in ["", "南京东路街道", "310101002", "1-2", "a=b", " =1", "'1"] {
        assert!(matches!(neutralise(t), Cow::Borrowed(_)), "{t:?}");
    }
    let records = read_csv(&to_csv(&grids()).expect("csv"));
    assert_eq!(records[1], ["'@SUM(A1)", "3"]);
}

fn open(bytes: Vec<u8>) -> Xlsx<Cursor<Vec<u8>>> {
    open_workbook_from_rs(Cursor::new(bytes)).expect("an XLSX calamine reads")
}

#[test]
fn xlsx_reads_back_with_headers_typed_values_and_sheet_names() {
    let mut book = open(to_xlsx(&[streets(), grids()]).expect("xlsx"));
    assert_eq!(book.sheet_names(), ["街镇", "网格"]);

    let range = book.worksheet_range("街镇").expect("sheet");
    assert_eq!(range.start(), Some((0, 0)));
    assert_eq!(range.get_size(), (4, 5));
    let row = |r: usize| -> Vec<Data> { (0..5).map(|c| range[(r, c)].clone()).collect() };
    let s = |t: &str| Data::String(t.into());
    assert_eq!(
        row(0),
        [
            s("街镇名称"),
            s("街镇代码"),
            s("案件数"),
            s("按期结案率"),
            s("综合得分")
        ]
    );
    // A rate is the number 0.875 (shown as 87.50%), not a string; a count is a number too.
    assert_eq!(
        row(1),
        [
            s("南京东路街道"),
            s("310101002"),
            Data::Float(120.0),
            Data::Float(0.875),
            Data::Float(92.456)
        ]
    );
    // Text is text, whatever it looks like; absent values are empty cells, not 0.
    assert_eq!(
        row(2),
        [
            s("=HYPERLINK(\"http://x\",\"点我\")"),
            s("-1"),
            Data::Float(0.0),
            Data::Empty,
            Data::Empty
        ]
    );
    assert_eq!(
        row(3),
        [
            s("外滩街道, \"老城厢\"\n第二行"),
            Data::Empty,
            Data::Float(7.0),
            Data::Float(0.0),
            Data::Float(-0.001)
        ]
    );
    let formulas = book.worksheet_formula("街镇").expect("formulas");
    assert!(
        formulas.used_cells().all(|(_, _, f)| f.is_empty()),
        "no cell is a formula"
    );

    let range = book.worksheet_range("网格").expect("sheet");
    assert_eq!(range[(1, 0)], s("@SUM(A1)"));
    assert_eq!(range[(1, 1)], Data::Float(3.0));
}

/// A part of the XLSX package, as text.
fn part(bytes: &[u8], name: &str) -> String {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).expect("zip");
    let mut text = String::new();
    zip.by_name(name)
        .expect(name)
        .read_to_string(&mut text)
        .expect("utf-8");
    text
}

/// The value of attribute `name` in the first element starting with `start` in `xml`.
fn attribute<'a>(xml: &'a str, start: &str, name: &str) -> Option<&'a str> {
    let element = &xml[xml.find(start)?..];
    let element = &element[..element.find('>')?];
    let value = &element[element.find(&format!(" {name}=\""))? + name.len() + 3..];
    Some(&value[..value.find('"')?])
}

#[test]
fn xlsx_formats_header_freeze_filter_and_widths() {
    let bytes = to_xlsx(&[streets()]).expect("xlsx");
    let sheet = part(&bytes, "xl/worksheets/sheet1.xml");
    let styles = part(&bytes, "xl/styles.xml");
    let cell_xfs = &styles[styles.find("<cellXfs").expect("cellXfs")..];
    let xfs: Vec<&str> = cell_xfs.split("<xf ").skip(1).collect();
    // The format of a cell: its number format (an id of Excel's built-in formats or of one
    // the file declares) and its font id.
    let format_code = |id: &str| -> String {
        match id {
            "0" => "General".into(),
            "1" => "0".into(),
            "2" => "0.00".into(),
            "10" => "0.00%".into(),
            custom => attribute(
                &styles,
                &format!("<numFmt numFmtId=\"{custom}\""),
                "formatCode",
            )
            .unwrap_or_else(|| panic!("number format {custom} is declared"))
            .to_string(),
        }
    };
    let style = |cell: &str| {
        let s: usize = attribute(&sheet, &format!("<c r=\"{cell}\""), "s")
            .unwrap_or("0")
            .parse()
            .expect("style index");
        let xf = format!(" {}", xfs[s]);
        (
            format_code(attribute(&xf, " ", "numFmtId").unwrap_or("0")),
            attribute(&xf, " ", "fontId").map(str::to_string),
        )
    };
    assert_eq!(style("C2").0, "0", "count");
    assert_eq!(style("D2").0, "0.00%", "rate");
    assert_eq!(style("E2").0, "0.00", "score");
    assert_eq!(style("D4").0, "0.00%", "a zero rate is a rate");
    assert_eq!(style("A2").0, "General", "text");
    let fonts: Vec<&str> = styles[styles.find("<fonts").expect("fonts")..]
        .split("<font>")
        .skip(1)
        .collect();
    for header in ["A1", "B1", "C1", "D1", "E1"] {
        let font: usize = style(header).1.expect("font").parse().expect("font id");
        assert!(fonts[font].starts_with("<b/>"), "{header} is bold");
    }
    assert!(!fonts[0].starts_with("<b/>"), "the body is not bold");
    // Frozen under the header, filter over the whole table.
    assert_eq!(attribute(&sheet, "<pane", "ySplit"), Some("1"));
    assert_eq!(attribute(&sheet, "<pane", "state"), Some("frozen"));
    assert_eq!(attribute(&sheet, "<autoFilter", "ref"), Some("A1:E4"));
    // Widths: the Chinese names are wider than their count of characters.
    let width = |min: &str| -> f64 {
        let at = sheet
            .find(&format!("<col min=\"{min}\""))
            .expect("column width");
        attribute(&sheet[at..], "<col", "width")
            .expect("width")
            .parse()
            .expect("number")
    };
    assert!(width("1") >= 2.0 * "外滩街道, \"老城厢\"".chars().count() as f64);
    assert!(width("4") >= 10.0, "按期结案率 is five wide characters");
}

#[test]
fn sheet_names_are_valid_unique_and_short() {
    let named = |name: &str| Sheet {
        name: name.into(),
        ..grids()
    };
    let long =
        "上海市黄浦区南京东路街道第一网格化综合管理责任区考核结果汇总表（二〇二六年第一季度）";
    let sheets: Vec<Sheet> = [
        "街镇",
        "街镇",
        "网格/部门[2026]:*?\\",
        "'引号'",
        "",
        "History",
        long,
        long,
        "abc",
        "ABC",
    ]
    .iter()
    .map(|n| named(n))
    .collect();
    let names = worksheet_names(&sheets);
    assert_eq!(names[0], "街镇");
    assert_eq!(names[1], "街镇 (2)");
    assert_eq!(names[2], "网格_部门_2026_____");
    assert_eq!(names[3], "引号");
    assert_eq!(names[4], "Sheet5");
    assert_eq!(names[5], "History (2)");
    assert_eq!(names[6].chars().count(), 31);
    assert!(long.starts_with(&names[6]));
    assert!(names[7].ends_with(" (2)") && names[7].encode_utf16().count() <= 31);
    assert_eq!(names[9], "ABC (2)", "Excel compares names without case");
    let mut book = open(to_xlsx(&sheets).expect("xlsx"));
    assert_eq!(book.sheet_names(), names);
    for name in &names {
        assert_eq!(
            book.worksheet_range(name).expect("sheet")[(1, 1)],
            Data::Float(3.0)
        );
    }
}

#[test]
fn bad_tables_are_refused_with_a_typed_error() {
    let mut sheet = grids();
    sheet.rows.push(vec![Cell::Int(1)]);
    assert!(matches!(
        to_csv(&sheet),
        Err(SheetError::RowWidth {
            row: 1,
            expected: 2,
            found: 1,
            ..
        })
    ));

    let mut sheet = grids();
    sheet.rows[0][1] = Cell::Rate(Some(0.5));
    let err = to_xlsx(&[sheet]).expect_err("a rate in a count column");
    assert!(
        matches!(&err, SheetError::CellKind { column, kind: ColumnKind::Count, cell: "rate", .. } if column == "overdue"),
        "{err}"
    );

    let mut sheet = streets();
    sheet.rows[0][3] = Cell::Rate(Some(f64::NAN));
    assert!(matches!(to_csv(&sheet), Err(SheetError::NotFinite { .. })));

    let mut sheet = grids();
    sheet.columns.clear();
    sheet.rows.clear();
    assert!(matches!(
        to_xlsx(&[sheet]),
        Err(SheetError::NoColumns { .. })
    ));

    assert_eq!(to_xlsx(&[]), Err(SheetError::NoSheets));
    let many = vec![grids(); MAX_SHEETS + 1];
    assert_eq!(
        to_xlsx(&many),
        Err(SheetError::TooManySheets {
            sheets: MAX_SHEETS + 1
        })
    );
    assert!(to_xlsx(&many[..MAX_SHEETS]).is_ok());

    let mut sheet = grids();
    sheet.rows[0][0] = Cell::Text("长".repeat(MAX_TEXT_UNITS + 1));
    assert!(matches!(
        to_xlsx(&[sheet.clone()]),
        Err(SheetError::TextTooLong { row: Some(0), .. })
    ));
    assert!(to_csv(&sheet).is_ok(), "a CSV field has no such limit");
}

#[test]
fn more_rows_than_a_worksheet_holds_are_refused() {
    let sheet = Sheet {
        name: "网格".into(),
        columns: vec![Column::new("n", "序号", ColumnKind::Count)],
        rows: vec![vec![Cell::Empty]; MAX_DATA_ROWS + 1],
    };
    let refused = SheetError::TooManyRows {
        sheet: "网格".into(),
        rows: MAX_WORKSHEET_ROWS,
    };
    assert_eq!(to_xlsx(std::slice::from_ref(&sheet)), Err(refused.clone()));
    assert_eq!(to_csv(&sheet), Err(refused));
}

/// Text with what CSV must quote (quotes, commas, CR, LF), Chinese, and anything else.
fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just('"'),
            Just(','),
            Just('\n'),
            Just('\r'),
            Just('='),
            Just('-'),
            Just(' '),
            prop::char::range('\u{4e00}', '\u{9fa5}'),
            any::<char>(),
        ],
        0..24,
    )
    .prop_map(String::from_iter)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Any text comes back from the CSV as written, neutralised where it would be a formula.
    #[test]
    fn text_round_trips_through_csv(rows in prop::collection::vec((text(), text()), 0..6)) {
        let sheet = Sheet {
            name: "街镇".into(),
            columns: vec![
                Column::new("a", "名称", ColumnKind::Text),
                Column::new("b", "备注", ColumnKind::Text),
            ],
            rows: rows
                .iter()
                .map(|(a, b)| vec![Cell::Text(a.clone()), Cell::Text(b.clone())])
                .collect(),
        };
        let records = read_csv(&to_csv(&sheet).expect("csv"));
        prop_assert_eq!(records.len(), rows.len() + 1);
        for ((a, b), record) in rows.iter().zip(&records[1..]) {
            prop_assert_eq!(&record[0], &neutralise(a));
            prop_assert_eq!(&record[1], &neutralise(b));
        }
    }
}
