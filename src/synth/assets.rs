//! The demo district's registers: city components (部件) along its road segments and shops
//! (门责) along the street-front ones, deterministic from a seed.
//!
//! Components: walking every road segment, one every 35 m on alternate sides 3 m off the
//! centre line, cycling through manhole covers of six owners (上水, 污水, 雨水, 电力, 通信,
//! 燃气), street lamps, hydrants, bins, traffic signs and street trees — each class with its
//! owner department and maintainer as a district would record them; 94 % intact, the rest
//! damaged, missing, occupied or abandoned; serials numbered per class; codes 16 digits with the
//! district's 6-digit code (the first 6 digits of its streets' codes).
//!
//! Shops: along road segments of street grids, one every 28 m on one side, 8–14 m off the centre
//! line (so within the 30 m binding distance of their segment): a name, a valid unified social
//! credit code of an individual business (92…, check character computed), a contact and phone,
//! a pledge signed on some date of the last two years for 85 % of them.

use super::mesh::mix;
use crate::assets::codes::{CREDIT_ALPHABET, credit_check_char};
use crate::assets::{Component, ComponentState, Shop, ShopGeometry};
use crate::geometry::measure::LocalFrame;
use crate::model::{FeatureSet, Layer};
use chrono::{Duration, NaiveDate};
use geo::Coord;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;

/// One kind of component the demo surveys: class and subclass, owner, maintainer.
struct Kind {
    class: &'static str,
    owner: &'static str,
    maintainer: &'static str,
}

const KINDS: [Kind; 12] = [
    Kind {
        class: "0101",
        owner: "区自来水公司",
        maintainer: "区自来水公司管网所",
    },
    Kind {
        class: "0118",
        owner: "区路灯管理所",
        maintainer: "区路灯管理所",
    },
    Kind {
        class: "0102",
        owner: "区排水公司",
        maintainer: "区排水公司养护队",
    },
    Kind {
        class: "0304",
        owner: "区绿化市容局",
        maintainer: "区环卫保洁公司",
    },
    Kind {
        class: "0103",
        owner: "区排水公司",
        maintainer: "区排水公司养护队",
    },
    Kind {
        class: "0402",
        owner: "区绿化市容局",
        maintainer: "区绿化养护公司",
    },
    Kind {
        class: "0105",
        owner: "国网金山供电公司",
        maintainer: "国网金山供电公司",
    },
    Kind {
        class: "0118",
        owner: "区路灯管理所",
        maintainer: "区路灯管理所",
    },
    Kind {
        class: "0107",
        owner: "中国电信金山分公司",
        maintainer: "中国电信金山分公司",
    },
    Kind {
        class: "0115",
        owner: "区消防救援支队",
        maintainer: "区自来水公司管网所",
    },
    Kind {
        class: "0111",
        owner: "金山燃气公司",
        maintainer: "金山燃气公司",
    },
    Kind {
        class: "0208",
        owner: "区公安局交警支队",
        maintainer: "区道路养护公司",
    },
];

const SHOP_KINDS: [&str; 16] = [
    "面馆",
    "便利店",
    "水果店",
    "五金店",
    "理发店",
    "药房",
    "早餐店",
    "烟酒店",
    "干洗店",
    "花店",
    "包子铺",
    "眼镜店",
    "茶叶店",
    "手机维修",
    "文具店",
    "小吃店",
];
const SURNAMES: [&str; 16] = [
    "张", "王", "李", "赵", "陈", "刘", "杨", "黄", "吴", "周", "徐", "孙", "朱", "马", "胡", "郭",
];
const GIVEN: [&str; 12] = [
    "伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "艳", "勇", "军", "杰",
];

/// Points every `step_m` along a polyline (WGS84), each offset `side_m` to the left (negative:
/// right) of the direction of travel, with the distance walked.
fn along(
    line: &[Coord<f64>],
    step_m: f64,
    first_m: f64,
    mut side_m: impl FnMut(usize) -> f64,
) -> Vec<(f64, f64)> {
    let Some(&origin) = line.first() else {
        return Vec::new();
    };
    let frame = LocalFrame::new(origin.x, origin.y);
    let xy: Vec<Coord<f64>> = line.iter().map(|&c| frame.to_xy(c)).collect();
    let mut out = Vec::new();
    let mut next = first_m;
    let mut walked = 0.0;
    for w in xy.windows(2) {
        let (a, b) = (w[0], w[1]);
        let len = (b.x - a.x).hypot(b.y - a.y);
        if len <= 0.0 {
            continue;
        }
        let (ux, uy) = ((b.x - a.x) / len, (b.y - a.y) / len);
        while next <= walked + len {
            let t = next - walked;
            let off = side_m(out.len());
            let p = Coord {
                x: a.x + ux * t - uy * off,
                y: a.y + uy * t + ux * off,
            };
            let ll = frame.to_lonlat(p);
            out.push((ll.x, ll.y));
            next += step_m;
        }
        walked += len;
    }
    out
}

/// The district's 6-digit code: the first 6 digits of its streets' codes.
fn district_code(set: &FeatureSet) -> String {
    set.layer(Layer::Street)
        .next()
        .and_then(|s| s.code.get(..6))
        .filter(|c| c.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or("310116")
        .to_owned()
}

fn state(r: f64) -> ComponentState {
    match r {
        r if r < 0.94 => ComponentState::Intact,
        r if r < 0.97 => ComponentState::Damaged,
        r if r < 0.98 => ComponentState::Missing,
        r if r < 0.99 => ComponentState::Occupied,
        _ => ComponentState::Abandoned,
    }
}

/// The demo's components and shops for `set` (surveyed on or before `today`).
pub fn assets(set: &FeatureSet, seed: u64, today: NaiveDate) -> (Vec<Component>, Vec<Shop>) {
    let district = district_code(set);
    let mut rng = ChaCha8Rng::seed_from_u64(mix(seed ^ 0xA55E_7500));
    let mut serials: HashMap<&str, u32> = HashMap::new();
    let mut components = Vec::new();
    let mut shops = Vec::new();
    let mut k = 0usize;
    for seg in set.layer(Layer::RoadSegment) {
        let Some(lines) = seg.geometry.as_line() else {
            continue;
        };
        // the segment's grid: its parent, or its block's parent
        let mut up = set.parent_of(seg);
        while let Some(a) = up.filter(|a| a.layer == Layer::Block) {
            up = set.parent_of(a);
        }
        let street_front = up.is_some_and(|g| g.layer == Layer::StreetGrid);
        for line in &lines.0 {
            for (lon, lat) in along(&line.0, 35.0, 10.0, |i| if i % 2 == 0 { 3.0 } else { -3.0 }) {
                let kind = &KINDS[k % KINDS.len()];
                k += 1;
                let serial = serials.entry(kind.class).or_insert(0);
                *serial += 1;
                let survey = today - Duration::days(rng.random_range(30..900));
                components.push(Component {
                    code: format!("{district}{}{:06}", kind.class, serial),
                    lon,
                    lat,
                    owner: kind.owner.to_owned(),
                    maintainer: Some(kind.maintainer.to_owned()),
                    state: state(rng.random::<f64>()),
                    survey_date: Some(survey),
                    attributes: serde_json::Map::new(),
                });
            }
            if !street_front {
                continue;
            }
            let offset = |_: usize| 8.0 + 6.0 * ((k % 7) as f64 / 6.0);
            for (lon, lat) in along(&line.0, 28.0, 14.0, offset) {
                let n = shops.len() + 1;
                let surname = SURNAMES[rng.random_range(0..SURNAMES.len())];
                let kind = SHOP_KINDS[rng.random_range(0..SHOP_KINDS.len())];
                let mut credit = format!("92{district}");
                let alphabet: Vec<char> = CREDIT_ALPHABET.chars().collect();
                for _ in 0..9 {
                    credit.push(alphabet[rng.random_range(0..alphabet.len())]);
                }
                let Some(check) = credit_check_char(&credit) else {
                    continue;
                };
                credit.push(check);
                let signed = rng.random::<f64>() < 0.85;
                let pledge_signed =
                    signed.then(|| today - Duration::days(rng.random_range(1..730)));
                shops.push(Shop {
                    id: format!("{}-MZ{n:05}", seg.code.get(..9).unwrap_or(&district)),
                    name: format!("{surname}记{kind}"),
                    credit_code: Some(credit),
                    contact: Some(format!(
                        "{surname}{}",
                        GIVEN[rng.random_range(0..GIVEN.len())]
                    )),
                    phone: Some(format!("139{:08}", rng.random_range(0..100_000_000u32))),
                    pledge_signed,
                    geometry: ShopGeometry::Point(lon, lat),
                    frontage: None,
                    attributes: serde_json::Map::new(),
                });
            }
        }
    }
    (components, shops)
}
