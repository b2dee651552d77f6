// A small synthetic demo district for front-end development without the Rust server.
// Real names and codes from fixtures/jinshan-divisions.json, rectangular made-up boundaries.
// Not the server's demo district: the browser tests run against `gridatlas serve`.
import { readFileSync } from 'node:fs';

const SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤';
const GIVEN = '伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏辉玲建国红梅海燕志强文斌晓东春雷立新建华';

function rng(seed) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 4294967296);
}

let BLOCKS_PER_GRID = [3, 2];
const rect = (x0, y0, x1, y1) => ({
  type: 'Polygon',
  coordinates: [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]],
});

// scale > 1: the district repeated in a mosaic (codes suffixed), with 16 blocks per grid
// instead of 6, so that scale 20 gives about 100,000 blocks (like `gridatlas synth --scale 20`).
export function makeDemo(divisionsPath, scale = 1) {
  if (scale > 1) return mosaic(divisionsPath, scale);
  const div = JSON.parse(readFileSync(divisionsPath, 'utf8'));
  const r = rng(7);
  const person = (role, code, i) => {
    const name = SURNAMES[Math.floor(r() * SURNAMES.length)] + GIVEN[Math.floor(r() * GIVEN.length)] +
      (r() < 0.5 ? GIVEN[Math.floor(r() * GIVEN.length)] : '');
    const phone = '1' + (3 + Math.floor(r() * 6)) + String(Math.floor(r() * 1e9)).padStart(9, '0');
    return { role, name, phone, photo_url: `/avatars/${code}-${i}.svg` };
  };
  const features = [];
  const [W, S, E, N] = [121.02, 30.70, 121.40, 30.94];
  features.push({ type: 'Feature', geometry: rect(W, S, E, N),
    properties: { layer: 'district', code: div.district.code, name: div.district.name } });
  const cols = 4, rows = 3;
  const sw = (E - W) / cols, sh = (N - S) / rows;
  div.streets.forEach((st, si) => {
    const sx = W + (si % cols) * sw, sy = N - Math.floor(si / cols) * sh - sh;
    const x1 = si === div.streets.length - 1 ? E : sx + sw;
    features.push({ type: 'Feature', geometry: rect(sx, sy, x1, sy + sh),
      properties: { layer: 'street', code: st.code, name: st.name, kind: st.kind, parent: div.district.code } });
    const grids = st.committees.map((c) => ({ layer: 'resident_grid', code: c.code, name: c.name, kind: c.kind }));
    grids.push({ layer: 'street_grid', code: st.code + '9001', name: st.name + '街面网格一', kind: null });
    grids.push({ layer: 'street_grid', code: st.code + '9002', name: st.name + '街面网格二', kind: null });
    const ek = ['factory', 'campus', 'industrial_park', 'business_district', 'institution', 'public_area'];
    const en = { factory: '厂区', campus: '校区', industrial_park: '园区', business_district: '商务区', institution: '机关单位', public_area: '公共区域' };
    for (let k = 0; k < 3; k++) {
      const kind = ek[(si + k) % ek.length];
      grids.push({ layer: 'extended_grid', code: st.code + '80' + (k + 1), name: st.name + en[kind] + '网格', kind });
    }
    const gc = Math.ceil(Math.sqrt(grids.length * (x1 - sx) / sh)), gr = Math.ceil(grids.length / gc);
    const gw = (x1 - sx) / gc, gh = sh / gr;
    grids.forEach((g, gi) => {
      const gx = sx + (gi % gc) * gw, gy = sy + sh - Math.floor(gi / gc) * gh - gh;
      const last = gi === grids.length - 1;
      const gx1 = last ? x1 : gx + gw;
      const people = g.layer === 'block' ? [] : [
        person('station_head', g.code, 1), person('deputy_head', g.code, 2), person('deputy_head', g.code, 3),
        person('enforcement_officer', g.code, 4), person('assistant', g.code, 5), person('volunteer', g.code, 6)];
      features.push({ type: 'Feature', geometry: rect(gx, gy, gx1, gy + gh),
        properties: { layer: g.layer, code: g.code, name: g.name, ...(g.kind ? { kind: g.kind } : {}), parent: st.code, people } });
      const [bc, br] = BLOCKS_PER_GRID; const bw = (gx1 - gx) / bc, bh = gh / br;
      for (let b = 0; b < bc * br; b++) {
        const bx = gx + (b % bc) * bw, by = gy + gh - Math.floor(b / bc) * bh - bh;
        const code = g.code + String(b + 1).padStart(3, '0');
        const nm = g.layer === 'resident_grid' ? `${g.name.replace(/(居委会|村委会)$/, '')}第${b + 1}责任块` : `${g.name}第${b + 1}块`;
        features.push({ type: 'Feature', geometry: rect(bx, by, bx + bw, by + bh),
          properties: { layer: 'block', code, name: nm, parent: g.code, seq: b + 1, people: [person('block_head', code, 1)] } });
        if (g.layer === 'street_grid' && b < 3) {
          features.push({ type: 'Feature', geometry: { type: 'LineString', coordinates: [[bx + bw * 0.05, by + bh / 2], [bx + bw * 0.95, by + bh / 2]] },
            properties: { layer: 'road_segment', code: code + '01', name: `${st.name}${['中心路', '人民路', '新华路'][b]}段`, parent: code,
              people: [person('block_head', code + '01', 1)] } });
        }
      }
    });
  });
  return { type: 'FeatureCollection', features };
}

function mosaic(divisionsPath, scale) {
  BLOCKS_PER_GRID = [4, 4];
  const one = makeDemo(divisionsPath, 1);
  BLOCKS_PER_GRID = [3, 2];
  const n = Math.round(scale);
  const cols = Math.ceil(Math.sqrt(n));
  const features = [];
  const shift = (c, dx, dy) => (typeof c[0] === 'number' ? [c[0] + dx, c[1] + dy] : c.map((x) => shift(x, dx, dy)));
  for (let k = 0; k < n; k++) {
    const dx = (k % cols) * 0.40, dy = -Math.floor(k / cols) * 0.26;
    const sfx = k === 0 ? '' : `-${k}`;
    for (const f of one.features) {
      if (f.properties.layer === 'district' && k > 0) continue;
      const p = { ...f.properties, code: f.properties.code + sfx };
      if (p.parent && p.layer !== 'street') p.parent = p.parent + sfx;
      features.push({ type: 'Feature', geometry: { type: f.geometry.type, coordinates: shift(f.geometry.coordinates, dx, dy) }, properties: p });
    }
  }
  // the district covers the whole mosaic
  const d = features.find((f) => f.properties.layer === 'district');
  const rows = Math.ceil(n / cols);
  d.geometry = { type: 'Polygon', coordinates: [[[121.02, 30.94 - rows * 0.26 + 0.02], [121.02 + cols * 0.40 - 0.02, 30.94 - rows * 0.26 + 0.02], [121.02 + cols * 0.40 - 0.02, 30.94], [121.02, 30.94], [121.02, 30.94 - rows * 0.26 + 0.02]]] };
  return { type: 'FeatureCollection', features };
}
