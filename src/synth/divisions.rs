//! The division table the demo is built on: the real 金山区 (fixtures/jinshan-divisions.json,
//! NBS 2023 codes) and, above scale 1, generated streets and committees with well-formed codes.

use crate::model::Kind;
use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;

const JINSHAN: &str = include_str!("../../fixtures/jinshan-divisions.json");

/// One committee (居委会 / 村委会).
#[derive(Debug, Clone, Deserialize)]
pub struct Committee {
    /// 12-digit statistical code.
    pub code: String,
    /// Name.
    pub name: String,
    /// `residents` or `villagers`.
    pub kind: Kind,
}

/// One street (街道 / 镇 / 开发区).
#[derive(Debug, Clone, Deserialize)]
pub struct Street {
    /// 9-digit statistical code.
    pub code: String,
    /// Name.
    pub name: String,
    /// `subdistrict`, `town` or `zone`.
    pub kind: Kind,
    /// Its committees.
    pub committees: Vec<Committee>,
    /// Approximate centre (lon, lat), filled in by the generator.
    #[serde(skip)]
    pub centre: Option<[f64; 2]>,
    /// Relative size (km², approximate), filled in by the generator.
    #[serde(skip)]
    pub size: f64,
    /// True for generated (non-real) streets.
    #[serde(skip)]
    pub generated: bool,
}

impl Street {
    /// Short name without the 街道/镇 suffix (for police stations, grid names).
    pub fn short(&self) -> String {
        short_name(&self.code, &self.name)
    }
}

/// A street's short name from its code and name, without the 街道/镇 suffix (the zone `…503` is
/// 湾区).
pub fn short_name(code: &str, name: &str) -> String {
    if code.ends_with("503") {
        return "湾区".to_string();
    }
    for suf in ["街道", "镇", "工业区", "园区"] {
        if let Some(s) = name.strip_suffix(suf) {
            return s.to_string();
        }
    }
    name.to_string()
}

#[derive(Debug, Clone, Deserialize)]
struct District {
    code: String,
    name: String,
}

#[derive(Debug, Clone, Deserialize)]
struct Table {
    district: District,
    streets: Vec<Street>,
}

/// The district: code, name and streets.
#[derive(Debug, Clone)]
pub struct Divisions {
    /// 6-digit code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Streets, real ones first, in code order.
    pub streets: Vec<Street>,
}

/// Approximate real town centres (lon, lat) and areas (km²) of 金山区's streets.
const REAL: [(&str, f64, f64, f64); 11] = [
    ("310116001", 121.34, 30.72, 11.0), // 石化街道 (coast)
    ("310116101", 121.17, 30.90, 70.0), // 朱泾镇
    ("310116102", 121.02, 30.89, 92.0), // 枫泾镇 (west)
    ("310116103", 121.28, 30.80, 36.0), // 张堰镇
    ("310116104", 121.31, 30.88, 80.0), // 亭林镇
    ("310116105", 121.13, 30.84, 60.0), // 吕巷镇
    ("310116107", 121.10, 30.78, 47.0), // 廊下镇
    ("310116109", 121.27, 30.73, 60.0), // 金山卫镇 (coast)
    ("310116112", 121.42, 30.80, 45.0), // 漕泾镇 (east, coast)
    ("310116113", 121.37, 30.76, 46.0), // 山阳镇 (coast)
    ("310116503", 121.22, 30.84, 55.0), // 上海湾区高新技术产业开发区
];

const SYL: &[&str] = &[
    "新", "安", "华", "兴", "东", "西", "南", "北", "泾", "浦", "塘", "桥", "港", "湾", "林", "泉",
    "庄", "丰", "和", "平", "永", "长", "金", "银", "松", "柳", "梅", "荷", "枫", "竹", "青", "白",
    "龙", "凤", "星", "月", "阳", "清", "河", "湖", "江", "海", "石", "山", "田", "家", "春", "秋",
    "嘉", "盛", "宁", "康", "福", "乐", "泰", "隆", "元", "明", "光", "德", "仁", "义", "胜", "利",
];

fn syllables(rng: &mut ChaCha8Rng, n: usize) -> String {
    (0..n)
        .map(|_| SYL[rng.random_range(0..SYL.len())])
        .collect()
}

/// The real district.
pub fn jinshan() -> anyhow::Result<Divisions> {
    let t: Table = serde_json::from_str(JINSHAN)?;
    let mut streets = t.streets;
    for s in &mut streets {
        let Some(&(_, lon, lat, size)) = REAL.iter().find(|r| r.0 == s.code) else {
            anyhow::bail!("no centre known for street {}", s.code);
        };
        s.centre = Some([lon, lat]);
        s.size = size;
    }
    streets.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(Divisions {
        code: t.district.code,
        name: t.district.name,
        streets,
    })
}

/// Adds `n` generated streets (with committees) to `div`, with unused well-formed codes:
/// 0xx subdistrict, 1xx town, 4xx–5xx zone.
pub fn add_generated(div: &mut Divisions, n: usize, rng: &mut ChaCha8Rng) -> anyhow::Result<()> {
    let used: std::collections::BTreeSet<u32> = div
        .streets
        .iter()
        .filter_map(|s| s.code.get(6..).and_then(|x| x.parse().ok()))
        .collect();
    let free = |range: std::ops::RangeInclusive<u32>| -> Vec<u32> {
        range.filter(|c| !used.contains(c)).collect()
    };
    let mut pools = [free(2..=99), free(101..=199), free(401..=599)];
    for p in &mut pools {
        p.reverse(); // pop() takes the lowest code first
    }
    let mut names = std::collections::BTreeSet::new();
    for s in &div.streets {
        names.insert(s.short());
    }
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let roll: f64 = rng.random();
        let mut order = if roll < 0.3 {
            [0, 1, 2]
        } else if roll < 0.85 {
            [1, 0, 2]
        } else {
            [2, 1, 0]
        };
        if pools[order[0]].is_empty() {
            order.rotate_left(1);
        }
        let Some(pi) = order.into_iter().find(|&p| !pools[p].is_empty()) else {
            anyhow::bail!(
                "scale too large: street codes of district {} exhausted",
                div.code
            );
        };
        let num = pools[pi].pop().unwrap_or_default();
        let kind = [Kind::Subdistrict, Kind::Town, Kind::Zone][pi];
        let mut short = syllables(rng, 2);
        while names.contains(&short) {
            short = syllables(rng, 2);
        }
        names.insert(short.clone());
        let name = match kind {
            Kind::Subdistrict => format!("{short}街道"),
            Kind::Town => format!("{short}镇"),
            _ => format!("{short}工业区"),
        };
        let code = format!("{}{num:03}", div.code);
        let k = rng.random_range(12..=36usize);
        let share_res = match kind {
            Kind::Subdistrict => 1.0,
            Kind::Town => rng.random_range(0.2..0.6),
            _ => rng.random_range(0.3..0.6),
        };
        let n_res = ((k as f64 * share_res).round() as usize).clamp(1, k);
        let mut committees = Vec::with_capacity(k);
        let mut cnames = std::collections::BTreeSet::new();
        for i in 0..k {
            let res = i < n_res;
            let (num, suffix, kind) = if res {
                (1 + i, "居委会", Kind::Residents)
            } else {
                (200 + i - n_res, "村委会", Kind::Villagers)
            };
            let mut base = syllables(rng, 2);
            while cnames.contains(&base) {
                base = syllables(rng, 2);
            }
            cnames.insert(base.clone());
            committees.push(Committee {
                code: format!("{code}{num:03}"),
                name: format!("{base}{suffix}"),
                kind,
            });
        }
        out.push(Street {
            code,
            name,
            kind,
            committees,
            centre: None,
            size: k as f64 * 2.4,
            generated: true,
        });
    }
    out.shuffle(rng);
    div.streets.extend(out);
    Ok(())
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "沈", "顾", "陆", "钱", "蒋", "蔡", "姚", "卢", "陶", "金", "范", "汪", "施", "倪", "潘", "袁",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀英", "霞", "平", "刚", "桂英", "建华", "国强", "志明", "海燕", "雪梅", "文", "斌",
    "红", "建国", "玉兰", "晓东", "佳", "婷", "浩", "宇", "欣怡", "子豪", "丹", "俊", "琳", "建平",
    "美华", "卫东", "春燕", "立新", "振华", "惠", "萍",
];
const PHONE_PREFIX: &[&str] = &[
    "139", "138", "137", "136", "135", "158", "159", "150", "151", "188", "187", "186", "189",
    "133", "177", "180", "181", "199",
];

/// A generated Chinese name.
pub fn person_name(rng: &mut ChaCha8Rng) -> String {
    let mut s = SURNAMES[rng.random_range(0..SURNAMES.len())].to_string();
    s.push_str(GIVEN[rng.random_range(0..GIVEN.len())]);
    s
}

/// A generated (fictitious) mobile number.
pub fn phone(rng: &mut ChaCha8Rng) -> String {
    format!(
        "{}{:08}",
        PHONE_PREFIX[rng.random_range(0..PHONE_PREFIX.len())],
        rng.random_range(0..100_000_000u32)
    )
}

/// Real road names of the area, for the generated road network.
pub const ROADS: &[&str] = &[
    "沪杭公路",
    "亭枫公路",
    "朱枫公路",
    "松金公路",
    "卫零路",
    "金山大道",
    "龙航路",
    "蒙山路",
    "漕廊公路",
    "张廊公路",
    "金张公路",
    "朱吕公路",
    "亭卫公路",
    "松卫公路",
    "金廊公路",
    "新农路",
    "板桥路",
    "卫清路",
    "浦卫公路",
    "朱平公路",
    "山德路",
    "学府路",
    "龙胜路",
    "石化大道",
];

/// A generated local road name.
pub fn road_name(rng: &mut ChaCha8Rng, short: &str) -> String {
    let suffix = ["路", "街", "公路", "大道"][rng.random_range(0..4)];
    format!("{short}{}{suffix}", syllables(rng, 1))
}
