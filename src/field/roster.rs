//! The staff roster (人员名册): who works in the field, for which organisation and team, and
//! which areas each person is assigned to (grids, blocks, road segments, management units).
//! A person's 工号 (`id`) is stable: features' people may name it (`staff_id`) so the public
//! board, lookups and attendance show the same person.
//!
//! This module owns the types ([`Staff`], [`OrgKind`]), their checks ([`Staff::problems`]) and
//! the roster's files; storing and serving the roster are the store's and the API's.
//!
//! **CSV** ([`read_csv`], [`write_csv`]), as district offices export it from Excel:
//! - encoding: UTF-8 with or without a byte-order mark, or GBK (older Excel on Chinese Windows);
//!   given, or detected: valid UTF-8 is UTF-8, anything else GBK;
//! - a header row (row 1) naming the columns in any order, in English or Chinese: `id` 工号,
//!   `name` 姓名, `phone` 联系电话 / 电话, `role` 角色 / 岗位, `org` 所属单位 / 单位,
//!   `org_kind` 单位类型, `team` 班组, `street` 所属街道 / 街镇, `areas` 责任区域 / 负责网格;
//!   phone, team and areas may be left out; an unknown header is refused with the accepted ones;
//!   a column with an empty header must be empty (Excel leaves such columns);
//! - role: its identifier (`station_head`, …) or its Chinese title (网格站长, …);
//!   organisation kind: identifier, Chinese name or a full name such as 城管中队
//!   ([`OrgKind::parse`]); areas: codes separated by `;` `；` `、` `,` or `，` in the cell;
//!   cells are trimmed; empty rows are skipped;
//! - every problem is reported (up to [`MAX_PROBLEMS`]), located as the spreadsheet shows it:
//!   `row 7, column 姓名: empty` (the header is row 1; a row is a CSV record, so a cell holding a
//!   line break does not shift the numbers; a blank line, which Excel never writes, is not
//!   counted); a repeated 工号 names both rows.
//!
//! Written with the Chinese headers, Chinese role and kind names, areas joined with `、`: UTF-8
//! with a byte-order mark, or GBK — a character GBK cannot hold is refused by name, never
//! written as `?`. A cell a spreadsheet would take for a formula (starting with `=`, `+`, `-`,
//! `@`, …) is written after a `'` ([`crate::model::text::neutralise`]), and the reader drops that
//! `'` again, so a roster read back is the roster written.
//!
//! **JSON** ([`read_json`], [`write_json`]): an array of [`Staff`] as in the API, with the same
//! checks, problems located by item (from 1) and field (`item 3, name: empty`).

use crate::model::Role;
use crate::model::text::{neutralise, unneutralise};
use encoding_rs::DecoderResult;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;

/// Longest 工号, name, phone, organisation or team, in characters.
pub const MAX_TEXT: usize = 100;
/// Most areas one person may be assigned to.
pub const MAX_AREAS: usize = 200;
/// Most people in one roster import.
pub const MAX_STAFF: usize = 100_000;

/// What kind of organisation a person works for.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    /// 居委会 / 村委会: a residents' or villagers' committee.
    Committee,
    /// 城管中队: a city-management team.
    CityManagement,
    /// 派出所: a police station.
    Police,
    /// 市场监管所: market supervision.
    MarketSupervision,
    /// 保洁公司: a cleaning company.
    Cleaning,
    /// 物业: a property management company.
    Property,
    /// 街镇网格中心: the street's grid sub-centre.
    Street,
    /// Anything else.
    Other,
}

impl OrgKind {
    /// Every kind.
    pub const ALL: [OrgKind; 8] = [
        OrgKind::Committee,
        OrgKind::CityManagement,
        OrgKind::Police,
        OrgKind::MarketSupervision,
        OrgKind::Cleaning,
        OrgKind::Property,
        OrgKind::Street,
        OrgKind::Other,
    ];

    /// The identifier used in files and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::Committee => "committee",
            OrgKind::CityManagement => "city_management",
            OrgKind::Police => "police",
            OrgKind::MarketSupervision => "market_supervision",
            OrgKind::Cleaning => "cleaning",
            OrgKind::Property => "property",
            OrgKind::Street => "street",
            OrgKind::Other => "other",
        }
    }

    /// Chinese name.
    pub fn name_zh(self) -> &'static str {
        match self {
            OrgKind::Committee => "居村委",
            OrgKind::CityManagement => "城管",
            OrgKind::Police => "派出所",
            OrgKind::MarketSupervision => "市场监管",
            OrgKind::Cleaning => "保洁",
            OrgKind::Property => "物业",
            OrgKind::Street => "街镇网格中心",
            OrgKind::Other => "其他",
        }
    }

    /// Other names offices write for the kind: the full names of the organisations.
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            OrgKind::Committee => &[
                "居委会",
                "村委会",
                "居民委员会",
                "村民委员会",
                "居委",
                "村委",
            ],
            OrgKind::CityManagement => &["城管中队", "城管执法中队", "城市管理", "城管队"],
            OrgKind::Police => &["公安派出所", "公安", "警务站"],
            OrgKind::MarketSupervision => &["市场监管所", "市场监督管理所", "市场所"],
            OrgKind::Cleaning => &["保洁公司", "环卫", "环卫所", "保洁单位"],
            OrgKind::Property => &["物业公司", "物业服务企业"],
            OrgKind::Street => &[
                "网格中心",
                "街道网格中心",
                "镇网格中心",
                "网格化综合管理中心",
            ],
            OrgKind::Other => &[],
        }
    }

    /// The kind named by its identifier, its Chinese name or one of its [`aliases`](Self::aliases).
    pub fn parse(s: &str) -> Option<OrgKind> {
        let s = s.trim();
        OrgKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s || k.name_zh() == s || k.aliases().contains(&s))
    }
}

/// One person of the field force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Staff {
    /// 工号: stable identifier.
    pub id: String,
    /// Name.
    pub name: String,
    /// Phone (personal data: shown only to roles that need it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Role in the grid.
    pub role: Role,
    /// Organisation's name (e.g. 朱泾城管中队).
    pub org: String,
    /// Organisation's kind.
    pub org_kind: OrgKind,
    /// Team (shift templates are per team); `None`: no shifts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// Street the person works for (scopes dispatchers' reads).
    pub street: String,
    /// Codes of the assigned areas: grids, blocks, road segments, management units.
    #[serde(default)]
    pub areas: Vec<String>,
}

impl Staff {
    /// Checks lengths and counts; the first problem, naming the field (`"name: empty"`).
    pub fn check(&self) -> Result<(), String> {
        match self.problems().into_iter().next() {
            None => Ok(()),
            Some((field, message)) => Err(format!("{field}: {message}")),
        }
    }

    /// Every problem of this person, each with the field it is in (the field's name in JSON):
    /// an empty or too long 工号, name, organisation or street, a too long phone or team, too
    /// many areas, an area code that is empty, too long or holds a separator or space.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        for (field, v, required) in [
            ("id", Some(self.id.as_str()), true),
            ("name", Some(self.name.as_str()), true),
            ("phone", self.phone.as_deref(), false),
            ("org", Some(self.org.as_str()), true),
            ("team", self.team.as_deref(), false),
            ("street", Some(self.street.as_str()), true),
        ] {
            let Some(v) = v else { continue };
            if v.chars().count() > MAX_TEXT {
                out.push((field, format!("longer than {MAX_TEXT} characters")));
            } else if required && v.trim().is_empty() {
                out.push((field, "empty".into()));
            } else if v.trim() != v {
                out.push((field, format!("{v:?} has spaces before or after it")));
            }
        }
        if self.areas.len() > MAX_AREAS {
            out.push(("areas", format!("more than {MAX_AREAS} areas")));
        }
        if let Some(a) = self.areas.iter().find(|a| {
            a.is_empty()
                || a.chars().count() > MAX_TEXT
                || a.chars()
                    .any(|c| c.is_whitespace() || AREA_SEPARATORS.contains(&c))
        }) {
            out.push(("areas", format!("{a:?} is not an area code")));
        }
        out
    }
}

// ---------------------------------------------------------------------------------------------
// The roster's files: CSV (UTF-8 or GBK, English or Chinese headers) and JSON.

/// Separators of area codes inside one CSV cell: `;` `；` `、` `,` `，`.
pub const AREA_SEPARATORS: [char; 5] = [';', '；', '、', ',', '，'];
/// Largest roster file read, bytes.
pub const MAX_ROSTER_BYTES: usize = 64 << 20;
/// Most problems reported for one file (the rest are counted).
pub const MAX_PROBLEMS: usize = 100;

/// The character encoding of a roster CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 (written with a byte-order mark, so that Excel reads it as UTF-8).
    Utf8,
    /// GBK, as older Excel saves CSV on Chinese Windows.
    Gbk,
}

/// A column of the roster CSV: the field of [`Staff`] it fills and the headers that name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Column {
    Id,
    Name,
    Phone,
    Role,
    Org,
    OrgKind,
    Team,
    Street,
    Areas,
}

impl Column {
    const ALL: [Column; 9] = [
        Column::Id,
        Column::Name,
        Column::Phone,
        Column::Role,
        Column::Org,
        Column::OrgKind,
        Column::Team,
        Column::Street,
        Column::Areas,
    ];

    /// The English header: the field's name in JSON.
    fn key(self) -> &'static str {
        match self {
            Column::Id => "id",
            Column::Name => "name",
            Column::Phone => "phone",
            Column::Role => "role",
            Column::Org => "org",
            Column::OrgKind => "org_kind",
            Column::Team => "team",
            Column::Street => "street",
            Column::Areas => "areas",
        }
    }

    /// The Chinese headers offices use; the first is written.
    fn headers_zh(self) -> &'static [&'static str] {
        match self {
            Column::Id => &["工号"],
            Column::Name => &["姓名"],
            Column::Phone => &["联系电话", "电话"],
            Column::Role => &["角色", "岗位"],
            Column::Org => &["所属单位", "单位"],
            Column::OrgKind => &["单位类型"],
            Column::Team => &["班组"],
            Column::Street => &["所属街道", "街镇"],
            Column::Areas => &["责任区域", "负责网格"],
        }
    }

    /// Whether a file must have this column.
    fn required(self) -> bool {
        !matches!(self, Column::Phone | Column::Team | Column::Areas)
    }

    /// The column a header names (English keys in any case, spaces around ignored).
    fn of_header(h: &str) -> Option<Column> {
        let h = h.trim();
        Column::ALL
            .into_iter()
            .find(|c| c.key().eq_ignore_ascii_case(h) || c.headers_zh().contains(&h))
    }

    fn of_key(key: &str) -> Option<Column> {
        Column::ALL.into_iter().find(|c| c.key() == key)
    }
}

/// The accepted headers, for messages: `id / 工号, name / 姓名, …`.
fn accepted_headers() -> String {
    Column::ALL
        .iter()
        .map(|c| {
            let mut names = vec![c.key()];
            names.extend_from_slice(c.headers_zh());
            names.join(" / ")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The role named by its identifier (any case) or its Chinese title ([`Role::name_zh`]).
pub fn parse_role(s: &str) -> Option<Role> {
    let s = s.trim();
    Role::ALL
        .into_iter()
        .find(|r| r.as_str().eq_ignore_ascii_case(s) || r.name_zh() == s)
}

/// `id (中文), …` of every value.
fn accepted(values: impl Iterator<Item = (&'static str, &'static str)>) -> String {
    values
        .map(|(id, zh)| format!("{id} ({zh})"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn accepted_roles() -> String {
    accepted(Role::ALL.iter().map(|r| (r.as_str(), r.name_zh())))
}

fn accepted_org_kinds() -> String {
    accepted(OrgKind::ALL.iter().map(|k| (k.as_str(), k.name_zh())))
}

/// Area codes of one CSV cell, split on [`AREA_SEPARATORS`], trimmed, empty pieces and repeats
/// dropped, in order.
pub fn split_areas(cell: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for a in cell.split(AREA_SEPARATORS).map(str::trim) {
        if !a.is_empty() && !out.iter().any(|b| b == a) {
            out.push(a.to_string());
        }
    }
    out
}

/// Where a problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// The file as a whole.
    File,
    /// A CSV row as the spreadsheet shows it: the header is row 1, the first person row 2.
    Row(usize),
    /// A person in a JSON array (or a list being written), counted from 1.
    Item(usize),
}

/// One problem of a roster file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where.
    pub place: Place,
    /// The column as its header is written in the file (CSV), or the field (JSON).
    pub column: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl Problem {
    fn file(message: impl Into<String>) -> Problem {
        Problem {
            place: Place::File,
            column: None,
            message: message.into(),
        }
    }

    fn at(place: Place, column: Option<&str>, message: impl Into<String>) -> Problem {
        Problem {
            place,
            column: column.map(str::to_string),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    /// `row 7, column 姓名: empty`; `item 3, name: empty`; `the file is empty`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.place, &self.column) {
            (Place::Row(r), Some(c)) => write!(f, "row {r}, column {c}: {}", self.message),
            (Place::Item(i), Some(c)) => write!(f, "item {i}, {c}: {}", self.message),
            (Place::File, Some(c)) => write!(f, "column {c}: {}", self.message),
            (place, None) if *place != Place::File => write!(f, "{place}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

/// Every problem of a roster file (the first [`MAX_PROBLEMS`], and how many more there were).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RosterErrors {
    /// The problems, in file order.
    pub problems: Vec<Problem>,
    /// Problems past [`MAX_PROBLEMS`], not listed.
    pub more: usize,
}

impl RosterErrors {
    fn one(p: Problem) -> RosterErrors {
        RosterErrors {
            problems: vec![p],
            more: 0,
        }
    }

    fn push(&mut self, p: Problem) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(p);
        } else {
            self.more += 1;
        }
    }

    /// `Ok(value)` if there was no problem.
    fn or<T>(self, value: T) -> Result<T, RosterErrors> {
        if self.problems.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

impl fmt::Display for RosterErrors {
    /// One problem a line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{p}")?;
        }
        if self.more > 0 {
            write!(f, "\n… and {} more problems", self.more)?;
        }
        Ok(())
    }
}

impl std::error::Error for RosterErrors {}

/// The checks every roster passes, whatever its format, as its people are read: each person's
/// [`Staff::problems`] (located by place, named by column), no 工号 twice (the problem names both
/// places); [`MAX_STAFF`] is checked by the readers, which stop there.
struct Checked<C: Fn(Column) -> String> {
    staff: Vec<Staff>,
    seen: HashMap<String, Place>,
    errors: RosterErrors,
    /// A column's name in the problems.
    column: C,
}

impl<C: Fn(Column) -> String> Checked<C> {
    fn new(column: C) -> Self {
        Checked {
            staff: Vec::new(),
            seen: HashMap::new(),
            errors: RosterErrors::default(),
            column,
        }
    }

    fn problem(&mut self, place: &Place, column: Option<Column>, message: String) {
        let c = column.map(&self.column);
        self.errors
            .push(Problem::at(place.clone(), c.as_deref(), message));
    }

    fn add(&mut self, place: Place, s: Staff) {
        for (field, message) in s.problems() {
            self.problem(&place, Column::of_key(field), message);
        }
        match self.seen.entry(s.id.clone()) {
            Entry::Vacant(v) => {
                v.insert(place);
            }
            Entry::Occupied(first) => {
                let message = format!("{:?} is also the 工号 of {}", s.id, first.get());
                self.problem(&place, Some(Column::Id), message);
            }
        }
        self.staff.push(s);
    }

    fn finish(self) -> Result<Vec<Staff>, RosterErrors> {
        self.errors.or(self.staff)
    }
}

impl fmt::Display for Place {
    /// `row 7`, `item 3`, `the file`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::File => f.write_str("the file"),
            Place::Row(r) => write!(f, "row {r}"),
            Place::Item(i) => write!(f, "item {i}"),
        }
    }
}

/// The text of a roster CSV: `encoding` if given, else UTF-8 if the bytes are valid UTF-8 and
/// GBK if not. A UTF-8 byte-order mark is dropped (and means UTF-8 when detecting).
pub(crate) fn decode(bytes: &[u8], encoding: Option<Encoding>) -> Result<String, String> {
    const BOM: &[u8] = b"\xEF\xBB\xBF";
    let utf8 = |b: &[u8]| std::str::from_utf8(b).map(str::to_string);
    match encoding {
        Some(Encoding::Utf8) => {
            let b = bytes.strip_prefix(BOM).unwrap_or(bytes);
            utf8(b).map_err(|e| {
                let at = e.valid_up_to() + bytes.len() - b.len();
                format!("not UTF-8 at byte {at} (line {})", line_at(bytes, at))
            })
        }
        Some(Encoding::Gbk) => decode_gbk(bytes)
            .map_err(|at| format!("not GBK at byte {at} (line {})", line_at(bytes, at))),
        None => match bytes.strip_prefix(BOM) {
            Some(b) => decode(b, Some(Encoding::Utf8))
                .map_err(|e| format!("{e} after a UTF-8 byte-order mark")),
            None => utf8(bytes).or_else(|e| {
                decode_gbk(bytes).map_err(|at| {
                    let u = e.valid_up_to();
                    format!(
                        "neither UTF-8 (invalid at byte {u}, line {}) nor GBK (invalid at byte \
                         {at}, line {})",
                        line_at(bytes, u),
                        line_at(bytes, at)
                    )
                })
            }),
        },
    }
}

/// GBK bytes as text; `Err(offset)` of the first byte that is not GBK.
fn decode_gbk(bytes: &[u8]) -> Result<String, usize> {
    let mut decoder = encoding_rs::GBK.new_decoder_without_bom_handling();
    let mut out = String::with_capacity(
        decoder
            .max_utf8_buffer_length_without_replacement(bytes.len())
            .unwrap_or(bytes.len()),
    );
    let mut start = 0;
    loop {
        let (result, read) =
            decoder.decode_to_string_without_replacement(&bytes[start..], &mut out, true);
        match result {
            DecoderResult::InputEmpty => return Ok(out),
            DecoderResult::Malformed(bad, after) => {
                return Err((start + read).saturating_sub(usize::from(bad) + usize::from(after)));
            }
            DecoderResult::OutputFull => {
                start += read;
                out.reserve(bytes.len() - start + 16);
            }
        }
    }
}

/// The line (from 1) of byte `offset`.
fn line_at(bytes: &[u8], offset: usize) -> usize {
    1 + bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

/// Reads a roster CSV as district offices export it from Excel (see the module doc): every
/// problem of the file (up to [`MAX_PROBLEMS`]), each located by row and column, or the people
/// in file order.
pub fn read_csv(bytes: &[u8], encoding: Option<Encoding>) -> Result<Vec<Staff>, RosterErrors> {
    if bytes.len() > MAX_ROSTER_BYTES {
        return Err(RosterErrors::one(Problem::file(format!(
            "the file is {} bytes, more than the {MAX_ROSTER_BYTES} accepted",
            bytes.len()
        ))));
    }
    let text = decode(bytes, encoding).map_err(|m| RosterErrors::one(Problem::file(m)))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let header = match records.next() {
        None => {
            return Err(RosterErrors::one(Problem::file(
                "the file is empty: no header row",
            )));
        }
        Some(Err(e)) => {
            return Err(RosterErrors::one(Problem::at(
                Place::Row(1),
                None,
                e.to_string(),
            )));
        }
        Some(Ok(h)) => h,
    };
    let columns = header_columns(&header)?;
    let header_of = |c: Column| {
        columns
            .iter()
            .zip(header.iter())
            .find(|(k, _)| **k == Some(c))
            .map_or_else(|| c.key().to_string(), |(_, h)| h.trim().to_string())
    };
    let mut checked = Checked::new(header_of);
    for (i, record) in records.enumerate() {
        let row = Place::Row(i + 2);
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                checked.problem(&row, None, e.to_string());
                continue;
            }
        };
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if checked.staff.len() == MAX_STAFF {
            checked.problem(&row, None, format!("more than {MAX_STAFF} people"));
            break;
        }
        let mut cells: HashMap<Column, &str> = HashMap::new();
        for (j, cell) in record.iter().enumerate() {
            let cell = unneutralise(cell.trim());
            match columns.get(j) {
                Some(Some(c)) => {
                    cells.insert(*c, cell);
                }
                _ if cell.is_empty() => {}
                Some(None) => {
                    checked.problem(
                        &row,
                        None,
                        format!("a value in column {}, which has no header", j + 1),
                    );
                }
                None => {
                    checked.problem(
                        &row,
                        None,
                        format!("a value in column {} past the last header", j + 1),
                    );
                }
            }
        }
        let cell = |c: Column| cells.get(&c).copied().unwrap_or("");
        let optional = |c: Column| Some(cell(c).to_string()).filter(|v| !v.is_empty());
        let role = parse_role(cell(Column::Role));
        if role.is_none() {
            let m = unknown(cell(Column::Role), "role", &accepted_roles());
            checked.problem(&row, Some(Column::Role), m);
        }
        let org_kind = OrgKind::parse(cell(Column::OrgKind));
        if org_kind.is_none() {
            let m = unknown(
                cell(Column::OrgKind),
                "organisation kind",
                &accepted_org_kinds(),
            );
            checked.problem(&row, Some(Column::OrgKind), m);
        }
        // An unknown role or kind is reported above; the person is still checked (and the file
        // refused) so that every problem of the row is listed.
        let person = Staff {
            id: cell(Column::Id).to_string(),
            name: cell(Column::Name).to_string(),
            phone: optional(Column::Phone),
            role: role.unwrap_or(Role::Volunteer),
            org: cell(Column::Org).to_string(),
            org_kind: org_kind.unwrap_or(OrgKind::Other),
            team: optional(Column::Team),
            street: cell(Column::Street).to_string(),
            areas: split_areas(cell(Column::Areas)),
        };
        checked.add(row, person);
    }
    checked.finish()
}

/// `empty` or `unknown {what} "x": one of …`.
fn unknown(value: &str, what: &str, accepted: &str) -> String {
    if value.is_empty() {
        "empty".into()
    } else {
        format!("unknown {what} {value:?}: one of {accepted}")
    }
}

/// The column of each header cell (`None`: an empty header, whose column must stay empty), or
/// every problem of the header row: unknown headers (with the accepted ones), a column named
/// twice, required columns missing.
fn header_columns(header: &csv::StringRecord) -> Result<Vec<Option<Column>>, RosterErrors> {
    let mut errors = RosterErrors::default();
    let mut columns = Vec::with_capacity(header.len());
    for (j, h) in header.iter().enumerate() {
        let h = h.trim();
        if h.is_empty() {
            columns.push(None);
            continue;
        }
        match Column::of_header(h) {
            None => errors.push(Problem::at(
                Place::Row(1),
                Some(h),
                format!("unknown header; accepted: {}", accepted_headers()),
            )),
            Some(c) if columns.contains(&Some(c)) => errors.push(Problem::at(
                Place::Row(1),
                Some(h),
                format!("a second column for {} (column {})", c.key(), j + 1),
            )),
            Some(_) => {}
        }
        columns.push(Column::of_header(h));
    }
    for c in Column::ALL {
        if c.required() && !columns.contains(&Some(c)) {
            errors.push(Problem::at(
                Place::Row(1),
                None,
                format!("no column {} ({})", c.headers_zh()[0], c.key()),
            ));
        }
    }
    errors.or(columns)
}

/// The roster as CSV with the Chinese headers (工号, 姓名, 联系电话, 角色, 所属单位, 单位类型, 班组,
/// 所属街道, 责任区域), roles and organisation kinds by their Chinese names, areas joined with
/// `、`, CRLF line ends: UTF-8 with a byte-order mark (Excel then reads it as UTF-8) or GBK
/// (older Excel). Refused, naming each person (item, from 1) and column: a person
/// [`read_csv`] would refuse, or text GBK cannot hold (never written as `?`).
pub fn write_csv(staff: &[Staff], encoding: Encoding) -> Result<Vec<u8>, RosterErrors> {
    let zh = |c: Column| c.headers_zh()[0].to_string();
    if staff.len() > MAX_STAFF {
        return Err(RosterErrors::one(Problem::file(format!(
            "more than {MAX_STAFF} people"
        ))));
    }
    let mut checked = Checked::new(zh);
    for (i, s) in staff.iter().enumerate() {
        let item = Place::Item(i + 1);
        if encoding == Encoding::Gbk {
            for (c, cell) in Column::ALL.into_iter().zip(csv_row(s)) {
                if encode_gbk(&cell).is_some() {
                    continue;
                }
                if let Some(ch) = cell
                    .chars()
                    .find(|&ch| encode_gbk(ch.encode_utf8(&mut [0; 4])).is_none())
                {
                    let m = format!("{ch:?} (U+{:04X}) cannot be written in GBK", u32::from(ch));
                    checked.problem(&item, Some(c), m);
                }
            }
        }
        checked.add(item, s.clone());
    }
    let staff = checked.finish()?;
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let failed =
        |e: &dyn fmt::Display| RosterErrors::one(Problem::file(format!("writing CSV: {e}")));
    writer
        .write_record(Column::ALL.map(zh))
        .map_err(|e| failed(&e))?;
    for s in &staff {
        writer
            .write_record(csv_row(s).iter().map(|c| neutralise(c).into_owned()))
            .map_err(|e| failed(&e))?;
    }
    let bytes = writer.into_inner().map_err(|e| failed(&e))?;
    let text = String::from_utf8(bytes).map_err(|e| failed(&e))?;
    match encoding {
        Encoding::Utf8 => {
            let mut out = b"\xEF\xBB\xBF".to_vec();
            out.extend_from_slice(text.as_bytes());
            Ok(out)
        }
        Encoding::Gbk => encode_gbk(&text).ok_or_else(|| failed(&"text GBK cannot hold")),
    }
}

/// A person's CSV cells, in the order of [`Column::ALL`].
fn csv_row(s: &Staff) -> [String; 9] {
    [
        s.id.clone(),
        s.name.clone(),
        s.phone.clone().unwrap_or_default(),
        s.role.name_zh().to_string(),
        s.org.clone(),
        s.org_kind.name_zh().to_string(),
        s.team.clone().unwrap_or_default(),
        s.street.clone(),
        s.areas.join("、"),
    ]
}

/// `text` in GBK; `None` if GBK cannot hold some character of it.
fn encode_gbk(text: &str) -> Option<Vec<u8>> {
    // GBK's encoder writes what it cannot hold as `&#…;` and says so: refused here.
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(text);
    (!unmappable).then(|| bytes.into_owned())
}

/// Reads a roster in JSON: an array of [`Staff`] (the fields as in the API, unknown fields
/// refused), with the checks of [`read_csv`]; every problem, each located by item (from 1)
/// and field.
pub fn read_json(bytes: &[u8]) -> Result<Vec<Staff>, RosterErrors> {
    if bytes.len() > MAX_ROSTER_BYTES {
        return Err(RosterErrors::one(Problem::file(format!(
            "the file is {} bytes, more than the {MAX_ROSTER_BYTES} accepted",
            bytes.len()
        ))));
    }
    let items: Vec<&RawValue> = serde_json::from_slice(bytes)
        .map_err(|e| RosterErrors::one(Problem::file(format!("not a JSON array of staff: {e}"))))?;
    if items.len() > MAX_STAFF {
        return Err(RosterErrors::one(Problem::file(format!(
            "more than {MAX_STAFF} people"
        ))));
    }
    let mut checked = Checked::new(|c: Column| c.key().to_string());
    for (i, raw) in items.iter().enumerate() {
        let item = Place::Item(i + 1);
        match serde_json::from_str::<Staff>(raw.get()) {
            Ok(s) => checked.add(item, s),
            Err(e) => checked.problem(&item, None, e.to_string()),
        }
    }
    checked.finish()
}

/// The roster as JSON (a pretty-printed array of [`Staff`]), as [`read_json`] reads it.
pub fn write_json(staff: &[Staff]) -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(staff)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zhang() -> Staff {
        Staff {
            id: "ZJ-CG-001".into(),
            name: "张伟".into(),
            phone: None,
            role: Role::EnforcementOfficer,
            org: "朱泾镇城管中队".into(),
            org_kind: OrgKind::CityManagement,
            team: None,
            street: "310116101".into(),
            areas: vec!["310116101S01".into()],
        }
    }

    #[test]
    fn areas_split_on_every_separator() {
        assert_eq!(
            split_areas(" A1;A2；A3、A4,A5，A6 ;; A1 "),
            ["A1", "A2", "A3", "A4", "A5", "A6"]
        );
        assert!(split_areas("  ").is_empty());
    }

    #[test]
    fn roles_and_headers_by_identifier_or_chinese() {
        assert_eq!(parse_role("网格站长"), Some(Role::StationHead));
        assert_eq!(parse_role(" Block_Head "), Some(Role::BlockHead));
        assert_eq!(parse_role("站长"), None);
        for (h, c) in [
            ("工号", Column::Id),
            ("ID", Column::Id),
            ("电话", Column::Phone),
            ("联系电话", Column::Phone),
            ("岗位", Column::Role),
            ("单位", Column::Org),
            ("所属单位", Column::Org),
            (" org_kind ", Column::OrgKind),
            ("街镇", Column::Street),
            ("负责网格", Column::Areas),
            ("责任区域", Column::Areas),
        ] {
            assert_eq!(Column::of_header(h), Some(c), "{h}");
        }
        assert_eq!(Column::of_header("备注"), None);
        assert!(accepted_headers().starts_with("id / 工号, name / 姓名, phone / 联系电话 / 电话"));
    }

    #[test]
    fn a_persons_problems_name_the_field() {
        assert_eq!(zhang().check(), Ok(()));
        let mut s = zhang();
        s.name = " ".into();
        s.street = "x".repeat(MAX_TEXT + 1);
        s.areas = vec!["A;B".into()];
        assert_eq!(
            s.problems(),
            [
                ("name", "empty".to_string()),
                ("street", format!("longer than {MAX_TEXT} characters")),
                ("areas", "\"A;B\" is not an area code".to_string()),
            ]
        );
        assert_eq!(s.check(), Err("name: empty".into()));
        s = zhang();
        s.id = " A1".into();
        assert_eq!(
            s.check(),
            Err("id: \" A1\" has spaces before or after it".into())
        );
    }

    #[test]
    fn problems_read_as_a_person_says_them() {
        let p = |place, column: Option<&str>| Problem::at(place, column, "empty").to_string();
        assert_eq!(p(Place::Row(7), Some("姓名")), "row 7, column 姓名: empty");
        assert_eq!(p(Place::Item(3), Some("name")), "item 3, name: empty");
        assert_eq!(p(Place::Row(7), None), "row 7: empty");
        assert_eq!(p(Place::File, None), "empty");
        let mut e = RosterErrors::default();
        for _ in 0..MAX_PROBLEMS + 2 {
            e.push(Problem::file("x"));
        }
        assert_eq!((e.problems.len(), e.more), (MAX_PROBLEMS, 2));
        assert!(e.to_string().ends_with("x\n… and 2 more problems"));
    }

    #[test]
    fn encodings_are_detected_or_taken_as_given() {
        let text = "工号,姓名\n";
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        assert_eq!(decode(text.as_bytes(), None).as_deref(), Ok(text));
        assert_eq!(decode(&gbk, None).as_deref(), Ok(text));
        assert_eq!(decode(&gbk, Some(Encoding::Gbk)).as_deref(), Ok(text));
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(text.as_bytes());
        assert_eq!(decode(&bom, None).as_deref(), Ok(text));
        assert_eq!(decode(&bom, Some(Encoding::Utf8)).as_deref(), Ok(text));
        assert_eq!(
            decode(&gbk, Some(Encoding::Utf8)),
            Err("not UTF-8 at byte 0 (line 1)".into())
        );
        // 0xFF never starts a GBK character.
        let bad = b"id,name\nA1,\xFF\n";
        assert_eq!(
            decode(bad, Some(Encoding::Gbk)),
            Err("not GBK at byte 11 (line 2)".into())
        );
        assert_eq!(
            decode(bad, None),
            Err(
                "neither UTF-8 (invalid at byte 11, line 2) nor GBK (invalid at byte 11, line 2)"
                    .into()
            )
        );
        assert_eq!(encode_gbk("张伟"), Some(vec![0xD5, 0xC5, 0xCE, 0xB0]));
        assert_eq!(encode_gbk("𠮷"), None);
    }
}
