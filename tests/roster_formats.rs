//! The roster's files as offices and other programs make them: CSV in UTF-8 (with or without a
//! byte-order mark) and GBK with Chinese or English headers, JSON, every error located, and the
//! GBK written checked by an independent reader (Python's `gbk` codec).

use gridatlas::field::roster::{
    Encoding, MAX_PROBLEMS, MAX_STAFF, MAX_TEXT, OrgKind, Place, Staff, read_csv, read_json,
    write_csv, write_json,
};
use gridatlas::model::Role;

fn staff() -> Vec<Staff> {
    vec![
        Staff {
            id: "ZJ-CG-001".into(),
            name: "张伟".into(),
            phone: Some("13800000001".into()),
            role: Role::EnforcementOfficer,
            org: "朱泾镇城管中队".into(),
            org_kind: OrgKind::CityManagement,
            team: Some("patrol".into()),
            street: "310116101".into(),
            areas: vec!["310116101S01".into(), "310116101S02".into()],
        },
        Staff {
            id: "ZJ-JW-002".into(),
            name: "陈静".into(),
            phone: None,
            role: Role::BlockHead,
            org: "东林居委会, \"一组\"".into(), // a comma and quotes: quoted in CSV
            org_kind: OrgKind::Committee,
            team: None,
            street: "310116101".into(),
            areas: vec![],
        },
        Staff {
            id: "ZJ-WY-001".into(),
            name: "欧阳·娜娜".into(),
            phone: Some("021-57310000".into()),
            role: Role::Volunteer,
            org: "罗星苑物业".into(),
            org_kind: OrgKind::Property,
            team: Some("夜班二组".into()),
            street: "310116101".into(),
            areas: vec!["310116101002B01".into()],
        },
    ]
}

fn gbk(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(text);
    assert!(!unmappable, "test text must be GBK");
    bytes.into_owned()
}

/// The problems of a file as a person reads them.
fn problems(bytes: &[u8]) -> Vec<String> {
    match read_csv(bytes, None) {
        Ok(s) => panic!("expected problems, read {} people", s.len()),
        Err(e) => e.problems.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn utf8_round_trip_with_a_byte_order_mark() {
    let bytes = write_csv(&staff(), Encoding::Utf8).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "Excel needs the BOM");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    assert!(text.starts_with(
        "工号,姓名,联系电话,角色,所属单位,单位类型,班组,所属街道,责任区域\r\n\
         ZJ-CG-001,张伟,13800000001,执法力量,朱泾镇城管中队,城管,patrol,310116101,\
         310116101S01、310116101S02\r\n"
    ));
    assert_eq!(read_csv(&bytes, None).unwrap(), staff());
    assert_eq!(read_csv(&bytes, Some(Encoding::Utf8)).unwrap(), staff());
    // And without the BOM.
    assert_eq!(read_csv(&bytes[3..], None).unwrap(), staff());
}

#[test]
fn gbk_round_trip() {
    let bytes = write_csv(&staff(), Encoding::Gbk).unwrap();
    assert!(std::str::from_utf8(&bytes).is_err(), "GBK, not UTF-8");
    // Exactly the UTF-8 file's text, encoded as GBK by encoding_rs.
    let utf8 = write_csv(&staff(), Encoding::Utf8).unwrap();
    assert_eq!(bytes, gbk(std::str::from_utf8(&utf8[3..]).unwrap()));
    // 张伟 and 朱泾镇城管中队 as GBK bytes.
    let zhang_wei = [0xD5, 0xC5, 0xCE, 0xB0];
    assert!(bytes.windows(4).any(|w| w == zhang_wei));
    assert!(bytes.windows(14).any(|w| w == gbk("朱泾镇城管中队")));
    assert_eq!(read_csv(&bytes, None).unwrap(), staff());
    assert_eq!(read_csv(&bytes, Some(Encoding::Gbk)).unwrap(), staff());
}

#[test]
fn a_district_offices_gbk_export() {
    // As saved from Excel on Chinese Windows: GBK, other header names in another order, Chinese
    // roles and kinds, areas in one cell with mixed separators, a column with no header and a
    // blank row left by Excel, spaces around values.
    let text = "姓名,工号,岗位,单位,单位类型,街镇,负责网格,电话,班组,\r\n\
                张伟,ZJ-CG-001,执法力量,朱泾镇城管中队,城管,310116101,\"310116101S01, 310116101S02\",13800000001,patrol,\r\n\
                李娜 , ZJ-CG-002 ,enforcement_officer,朱泾镇城管中队,city_management,310116101,310116101S03；310116101S04、310116101S03,,patrol,\r\n\
                ,,,,,,,,,\r\n\
                刘芳,ZJ-JW-001,网格站长,东林居委会,居村委,310116101,310116101001,,,\r\n";
    let people = read_csv(&gbk(text), None).unwrap();
    assert_eq!(people.len(), 3);
    assert_eq!(people[0], staff()[0]);
    let li = &people[1];
    assert_eq!((li.id.as_str(), li.name.as_str()), ("ZJ-CG-002", "李娜"));
    assert_eq!(li.phone, None);
    assert_eq!(li.areas, ["310116101S03", "310116101S04"]);
    let liu = &people[2];
    assert_eq!(
        (liu.role, liu.org_kind, liu.team.as_deref()),
        (Role::StationHead, OrgKind::Committee, None)
    );
}

#[test]
fn english_headers_and_the_example_fixture() {
    let text = "id,name,role,org,org_kind,street\nA1,Wang Qiang,deputy_head,Zhujing police,police,310116101\n";
    let people = read_csv(text.as_bytes(), None).unwrap();
    assert_eq!(people[0].role, Role::DeputyHead);
    assert_eq!(people[0].org_kind, OrgKind::Police);
    assert!(people[0].areas.is_empty() && people[0].phone.is_none());

    let example = read_csv(include_bytes!("../fixtures/roster.example.csv"), None).unwrap();
    assert_eq!(example.len(), 8);
    assert_eq!(example[0].name, "张伟");
    assert_eq!(example[4].areas, ["310116101001B01", "310116101001B02"]);
    assert!(example.iter().all(|s| s.street == "310116101"));
}

#[test]
fn every_problem_of_a_file_is_located() {
    let long = "长".repeat(MAX_TEXT + 1);
    let text = format!(
        "工号,姓名,电话,角色,所属单位,单位类型,所属街道,责任区域,\n\
         A1,张伟,,执法力量,朱泾镇城管中队,城管,310116101,S01,\n\
         A2,,,执法力量,朱泾镇城管中队,城管,310116101,S01,\n\
         A3,李娜,,站长,朱泾镇城管中队,执法局,310116101,S01,\n\
         A1,王强,,执法力量,朱泾镇城管中队,城管,310116101,S01,\n\
         A5,{long},,执法力量,\"朱泾镇\n城管中队\",城管,,S01,备注\n\
         A6,赵磊,,执法力量,朱泾镇城管中队,城管,310116101,S01,,多余\n"
    );
    assert_eq!(
        problems(text.as_bytes()),
        [
            "row 3, column 姓名: empty".to_string(),
            "row 4, column 角色: unknown role \"站长\": one of station_head (网格站长), \
             deputy_head (网格副站长), enforcement_officer (执法力量), block_head (责任块长), \
             assistant (协管人员), volunteer (志愿者)"
                .to_string(),
            "row 4, column 单位类型: unknown organisation kind \"执法局\": one of committee \
             (居村委), city_management (城管), police (派出所), market_supervision (市场监管), \
             cleaning (保洁), property (物业), street (街镇网格中心), other (其他)"
                .to_string(),
            "row 5, column 工号: \"A1\" is also the 工号 of row 2".to_string(),
            "row 6: a value in column 9, which has no header".to_string(),
            format!("row 6, column 姓名: longer than {MAX_TEXT} characters"),
            "row 6, column 所属街道: empty".to_string(),
            "row 7: a value in column 10 past the last header".to_string(),
        ]
    );
}

#[test]
fn headers_are_checked_first() {
    assert_eq!(
        problems("工号,姓名,角色,单位,单位类型,街镇,备注\n".as_bytes()),
        [
            "row 1, column 备注: unknown header; accepted: id / 工号, name / 姓名, phone / 联系电话 / \
          电话, role / 角色 / 岗位, org / 所属单位 / 单位, org_kind / 单位类型, team / 班组, \
          street / 所属街道 / 街镇, areas / 责任区域 / 负责网格"
        ]
    );
    assert_eq!(
        problems("工号,姓名,电话,联系电话\nA1,张伟,1,2\n".as_bytes()),
        [
            "row 1, column 联系电话: a second column for phone (column 4)",
            "row 1: no column 角色 (role)",
            "row 1: no column 所属单位 (org)",
            "row 1: no column 单位类型 (org_kind)",
            "row 1: no column 所属街道 (street)",
        ]
    );
    assert_eq!(problems(b""), ["the file is empty: no header row"]);
    let header_only = "工号,姓名,角色,单位,单位类型,街镇\r\n";
    assert_eq!(read_csv(header_only.as_bytes(), None).unwrap(), []);
    assert_eq!(
        problems(b"id,name\nA1,\xFF\n"),
        ["neither UTF-8 (invalid at byte 11, line 2) nor GBK (invalid at byte 11, line 2)"]
    );
    let as_utf8 = read_csv(&gbk(header_only), Some(Encoding::Utf8)).unwrap_err();
    assert_eq!(
        as_utf8.to_string(),
        "not UTF-8 at byte 0 (line 1)",
        "a GBK file read as UTF-8"
    );
}

#[test]
fn limits_on_people_and_problems() {
    let header = "工号,姓名,角色,单位,单位类型,街镇,责任区域\n";
    // Too many areas and a code too long.
    let areas = (0..201)
        .map(|i| format!("S{i}"))
        .collect::<Vec<_>>()
        .join(";");
    let text = format!(
        "{header}A1,张伟,执法力量,城管中队,城管,310116101,{areas}\nA2,李娜,执法力量,城管中队,城管,310116101,{}\n",
        "S".repeat(MAX_TEXT + 1)
    );
    let p = problems(text.as_bytes());
    assert_eq!(p[0], "row 2, column 责任区域: more than 200 areas");
    assert!(
        p[1].starts_with("row 3, column 责任区域: \"SSS"),
        "{}",
        p[1]
    );
    // Problems past the cap are counted.
    let mut text = header.to_string();
    for i in 0..MAX_PROBLEMS + 50 {
        text.push_str(&format!("A{i},,执法力量,城管中队,城管,310116101,\n"));
    }
    let e = read_csv(text.as_bytes(), None).unwrap_err();
    assert_eq!((e.problems.len(), e.more), (MAX_PROBLEMS, 50));
    assert_eq!(e.problems[99].place, Place::Row(101));
    // More than MAX_STAFF people.
    let mut text = String::with_capacity(40 * (MAX_STAFF + 2));
    text.push_str(header);
    for i in 0..=MAX_STAFF {
        text.push_str(&format!("A{i},N,assistant,O,other,S,\n"));
    }
    assert_eq!(
        problems(text.as_bytes()),
        [format!(
            "row {}: more than {MAX_STAFF} people",
            MAX_STAFF + 2
        )]
    );
}

#[test]
fn names_gbk_cannot_hold_are_refused_not_replaced() {
    let mut people = staff();
    people[1].name = "𠮷田".into(); // U+20BB7: GB18030, not GBK
    people[2].org = "罗星苑物业🏠".into();
    let e = write_csv(&people, Encoding::Gbk).unwrap_err();
    assert_eq!(
        e.to_string(),
        "item 2, 姓名: '𠮷' (U+20BB7) cannot be written in GBK\n\
         item 3, 所属单位: '🏠' (U+1F3E0) cannot be written in GBK"
    );
    // UTF-8 holds them.
    let bytes = write_csv(&people, Encoding::Utf8).unwrap();
    assert_eq!(read_csv(&bytes, None).unwrap(), people);
    // A person the reader would refuse is not written either.
    people[0].name = String::new();
    people[2].id = people[1].id.clone();
    assert_eq!(
        write_csv(&people, Encoding::Utf8).unwrap_err().to_string(),
        "item 1, 姓名: empty\nitem 3, 工号: \"ZJ-JW-002\" is also the 工号 of item 2"
    );
}

#[test]
fn json_round_trip_and_problems() {
    let json = write_json(&staff()).unwrap();
    assert_eq!(read_json(json.as_bytes()).unwrap(), staff());
    let bad = r#"[
      {"id": "A1", "name": "张伟", "role": "enforcement_officer", "org": "城管中队",
       "org_kind": "city_management", "street": "310116101"},
      {"id": "A2", "name": "李娜", "role": "网格站长", "org": "居委会",
       "org_kind": "committee", "street": "310116101"},
      {"id": "A1", "name": "", "role": "assistant", "org": "居委会",
       "org_kind": "committee", "street": "310116101", "areas": ["S01", ""]},
      {"id": "A4", "name": "王强", "role": "assistant", "org": "居委会",
       "org_kind": "committee", "street": "310116101", "gender": "男"}
    ]"#;
    let e = read_json(bad.as_bytes()).unwrap_err();
    let p: Vec<String> = e.problems.iter().map(ToString::to_string).collect();
    assert_eq!(p.len(), 5, "{p:#?}");
    assert!(
        p[0].starts_with("item 2: unknown variant `网格站长`"),
        "{}",
        p[0]
    );
    assert_eq!(
        &p[1..4],
        [
            "item 3, name: empty",
            "item 3, areas: \"\" is not an area code",
            "item 3, id: \"A1\" is also the 工号 of item 1",
        ]
    );
    assert!(
        p[4].starts_with("item 4: unknown field `gender`"),
        "{}",
        p[4]
    );
    assert!(
        read_json(b"{\"id\": 1}")
            .unwrap_err()
            .to_string()
            .starts_with("not a JSON array of staff: invalid type: map")
    );
}

/// Python's csv module with the `gbk` codec reads the GBK file as the same cells; and with
/// `utf-8-sig` the UTF-8 one. Fails (does not skip) when python3 is missing.
#[test]
fn an_independent_reader_agrees() {
    let dir = tempfile::tempdir().unwrap();
    let script = "import csv, json, sys\n\
                  with open(sys.argv[1], encoding=sys.argv[2], newline='') as f:\n\
                  \x20   print(json.dumps(list(csv.reader(f)), ensure_ascii=True))\n";
    // The cells as a person reads them in the spreadsheet.
    let expected: Vec<Vec<String>> = [
        "工号,姓名,联系电话,角色,所属单位,单位类型,班组,所属街道,责任区域",
        "ZJ-CG-001,张伟,13800000001,执法力量,朱泾镇城管中队,城管,patrol,310116101,310116101S01、310116101S02",
        "ZJ-JW-002,陈静,,责任块长,东林居委会| \"一组\",居村委,,310116101,",
        "ZJ-WY-001,欧阳·娜娜,021-57310000,志愿者,罗星苑物业,物业,夜班二组,310116101,310116101002B01",
    ]
    .iter()
    .map(|row| row.split(',').map(|c| c.replace('|', ",")).collect())
    .collect();
    for (encoding, codec) in [(Encoding::Gbk, "gbk"), (Encoding::Utf8, "utf-8-sig")] {
        let path = dir.path().join(format!("roster-{codec}.csv"));
        std::fs::write(&path, write_csv(&staff(), encoding).unwrap()).unwrap();
        let out = std::process::Command::new("python3")
            .arg("-c")
            .arg(script)
            .arg(&path)
            .arg(codec)
            .output()
            .expect("python3 must be installed for this test");
        assert!(
            out.status.success(),
            "python3 failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let rows: Vec<Vec<String>> = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(rows, expected, "{codec}");
    }
}

#[test]
fn cells_a_spreadsheet_would_run_are_written_quoted_and_read_back_as_given() {
    let mut people = staff();
    people[0].name = "=HYPERLINK(\"http://x\",\"张伟\")".into();
    people[0].phone = Some("+86 13800000001".into());
    people[1].org = "@SUM(A1)".into();
    people[2].team = Some("－夜班".into());
    for encoding in [Encoding::Utf8, Encoding::Gbk] {
        let bytes = write_csv(&people, encoding).unwrap();
        let text = match encoding {
            Encoding::Utf8 => String::from_utf8(bytes[3..].to_vec()).unwrap(),
            Encoding::Gbk => encoding_rs::GBK.decode(&bytes).0.into_owned(),
        };
        // Every record's cells as a CSV reader (and so a spreadsheet) sees them.
        let cells: Vec<String> = csv::Reader::from_reader(text.as_bytes())
            .records()
            .flat_map(|r| r.unwrap().iter().map(str::to_owned).collect::<Vec<_>>())
            .collect();
        for formula in ["=HYPERLINK", "+86", "@SUM", "－夜班"] {
            assert!(
                cells.iter().any(|c| c.starts_with(&format!("'{formula}"))),
                "{formula} quoted in {encoding:?}"
            );
            assert!(!cells.iter().any(|c| c.starts_with(formula)), "{formula}");
        }
        assert_eq!(read_csv(&bytes, None).unwrap(), people, "{encoding:?}");
    }
}

#[test]
fn organisation_kinds_by_their_full_names() {
    for (name, kind) in [
        ("居委会", OrgKind::Committee),
        ("村民委员会", OrgKind::Committee),
        ("城管中队", OrgKind::CityManagement),
        ("公安派出所", OrgKind::Police),
        ("市场监督管理所", OrgKind::MarketSupervision),
        ("保洁公司", OrgKind::Cleaning),
        ("物业公司", OrgKind::Property),
        ("网格中心", OrgKind::Street),
        (" city_management ", OrgKind::CityManagement),
        ("城管", OrgKind::CityManagement),
    ] {
        assert_eq!(OrgKind::parse(name), Some(kind), "{name}");
    }
    assert_eq!(OrgKind::parse("城管局长"), None);
    // No name stands for two kinds.
    let mut seen = std::collections::HashSet::new();
    for k in OrgKind::ALL {
        for n in [k.as_str(), k.name_zh()].iter().chain(k.aliases()) {
            assert!(seen.insert(*n), "{n} names two kinds");
        }
    }
}
