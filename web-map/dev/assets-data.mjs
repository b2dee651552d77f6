// Synthetic asset registers for the mock server (dev/mock-server.mjs): components (部件) every
// 35 m along the road segments, alternately 3 m either side, and shops (门责) every 28 m 10 m off
// them, with a standing and inspections (the first shop escalated, every seventh warned; every
// thirteenth bound to no road segment, as if its binding had been removed by hand). The shapes of
// GET /api/v1/components, /component-classes, /shops (bbox=, segment=, area=) and /shops/{id};
// not the server's demo (the browser tests run against `gridatlas serve --demo`).
import { readFileSync } from 'node:fs';

const KINDS = [
  ['0101', '区自来水公司', '区自来水公司管网所'],
  ['0118', '区路灯管理所', '区路灯管理所'],
  ['0102', '区排水公司', '区排水公司养护队'],
  ['0304', '区绿化市容局', '区环卫保洁公司'],
  ['0402', '区绿化市容局', '区绿化养护公司'],
  ['0201', '区交通委', '区道路养护公司'],
  ['0601', '区消防救援支队', '区消防救援支队'],
];
const STATES = ['intact', 'intact', 'intact', 'intact', 'intact', 'intact', 'intact', 'intact', 'damaged', 'missing', 'occupied', 'abandoned'];
const SHOP_NAMES = ['早餐店', '五金店', '便利店', '理发店', '面馆', '药房', '水果店', '服装店', '烟酒店', '手机维修'];
const SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗';
const ITEMS = ['门前无乱堆物', '无跨门营业', '门前环境整洁'];

// Points along a line every `step` metres, `off` metres to its left (negative: right).
function along(line, step, off) {
  const out = [];
  const k = Math.cos((line[0][1] * Math.PI) / 180) * 111320;
  let d = 0; // distance of the next point into the current piece
  for (let i = 1; i < line.length; i++) {
    const [ax, ay] = line[i - 1], [bx, by] = line[i];
    const dx = (bx - ax) * k, dy = (by - ay) * 110540;
    const len = Math.hypot(dx, dy);
    if (!len) continue;
    for (; d < len; d += step) {
      const t = d / len;
      const side = typeof off === 'function' ? off(out.length) : off;
      out.push([(ax * k + dx * t - (dy / len) * side) / k, (ay * 110540 + dy * t + (dx / len) * side) / 110540]);
    }
    d -= len;
  }
  return out;
}

/** The registers of a feature set, with `areasAt([lon, lat])` → {street, grid, block} for the views. */
export function makeAssets(data, classesFile, areasAt) {
  const classes = JSON.parse(readFileSync(classesFile, 'utf8'));
  const district = data.features.find((f) => f.properties.layer === 'district')?.properties.code ?? '310116';
  const segments = data.features.filter((f) => f.properties.layer === 'road_segment' && f.geometry?.type === 'LineString');
  const serial = {};
  const components = [];
  const shops = [];
  const today = new Date();
  const day = (n) => new Date(today.getTime() - n * 86400e3).toISOString().slice(0, 10);
  for (const seg of segments) {
    for (const p of along(seg.geometry.coordinates, 35, (i) => (i % 2 ? 3 : -3))) {
      const [cls, owner, maintainer] = KINDS[components.length % KINDS.length];
      serial[cls] = (serial[cls] || 0) + 1;
      components.push({ code: `${district}${cls}${String(serial[cls]).padStart(6, '0')}`, lon: p[0], lat: p[1], owner, maintainer,
        state: STATES[components.length % STATES.length], survey_date: day(30 + (components.length % 300)) });
    }
    for (const p of along(seg.geometry.coordinates, 28, 10)) {
      const n = shops.length + 1;
      shops.push({
        id: `${district}-MS${String(n).padStart(5, '0')}`,
        name: `${SURNAMES[n % SURNAMES.length]}记${SHOP_NAMES[n % SHOP_NAMES.length]}`,
        credit_code: n % 9 ? `92${district}MOCK${String(n).padStart(6, '0')}` : undefined,
        pledge_signed: n % 7 ? day(20 + (n % 600)) : undefined,
        geometry: { type: 'Point', coordinates: p }, anchor: p,
        ...(n % 13 ? { frontage: { segment: seg.properties.code, distance_m: 10, source: 'nearest' }, segment_name: seg.properties.name } : {}),
      });
    }
  }
  components.sort((a, b) => (a.code < b.code ? -1 : 1));
  // inspections (a point per failed item; warned at 6, escalated at 12): the first shop fails
  // all three items four times (escalated), every seventh twice (warned), every fifth passes
  const inspections = new Map();
  shops.forEach((s, i) => {
    const rounds = i === 0 ? 4 : i % 7 === 0 ? 2 : i % 5 === 0 ? 1 : 0;
    const failing = i === 0 || i % 7 === 0 ? 3 : 0;
    const list = [];
    for (let r = 0; r < rounds; r++) {
      list.push({ id: i * 10 + r + 1, shop: s.id, date: day(7 * (rounds - r)), inspector: '演示巡查员',
        items: ITEMS.map((item, k) => ({ item, passed: k >= failing })) });
    }
    inspections.set(s.id, list);
    const points = list.reduce((a, x) => a + x.items.filter((it) => !it.passed).length, 0);
    s.standing = { points_in_window: points, level: points >= 12 ? 'escalated' : points >= 6 ? 'warned' : 'good' };
  });
  const byCode = new Map(components.map((c) => [c.code, c]));
  const byId = new Map(shops.map((s) => [s.id, s]));

  const classNames = (code) => {
    const major = classes.classes.find((c) => c.code === code.slice(6, 8));
    const minor = major?.subclasses.find((c) => c.code === code.slice(8, 10));
    return { class_name: major?.name_zh, subclass_name: minor?.name_zh };
  };
  const componentView = (c) => ({ ...c, ...classNames(c.code), ...areasAt([c.lon, c.lat]) });
  // a shop's street, grid and block, located once
  const located = new Map();
  const areasOf = (s) => { if (!located.has(s.id)) located.set(s.id, areasAt(s.anchor)); return located.get(s.id); };
  const shopView = (s) => ({ ...s, ...areasOf(s) });
  // area=: the codes of the area and everything under it (null when there is no such area)
  const children = new Map();
  for (const { properties: { code, parent } } of data.features) {
    if (!parent) continue;
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(code);
  }
  const known = new Set(data.features.map((f) => f.properties.code));
  const within = (code) => {
    if (!known.has(code)) return null;
    const out = new Set();
    const stack = [code];
    while (stack.length) { const c = stack.pop(); out.add(c); stack.push(...(children.get(c) || [])); }
    return out;
  };
  // the shops facing a road segment within the area or standing in it (as the server's area=)
  const ofArea = (codes, s) => codes.has(s.frontage?.segment) || Object.values(areasOf(s)).some((a) => a && codes.has(a.code));
  const inBox = (b, [x, y]) => !b || (x >= b[0] && x <= b[2] && y >= b[1] && y <= b[3]);
  const page = (items, key, q, view) => {
    const bbox = q.get('bbox') ? q.get('bbox').split(',').map(Number) : null;
    if (bbox && (bbox.length !== 4 || bbox.some((v) => !Number.isFinite(v)))) return { status: 400, detail: 'bbox: min_lon,min_lat,max_lon,max_lat' };
    const limit = Math.min(Number(q.get('limit') || 1000), 10000);
    const after = q.get('after');
    if (q.get('segment') && q.get('area')) return { status: 400, detail: 'give `segment` or `area`, not both' };
    const area = q.get('area') ? within(q.get('area')) : undefined;
    if (area === null) return { status: 400, detail: `area: no area ${JSON.stringify(q.get('area'))} in the served generation` };
    const out = [];
    for (const it of items) {
      if (after && it[key] <= after) continue;
      if (!inBox(bbox, it.anchor || [it.lon, it.lat])) continue;
      if (q.get('segment') && it.frontage?.segment !== q.get('segment')) continue;
      if (area && !ofArea(area, it)) continue;
      out.push(it);
      if (out.length === limit) break;
    }
    const body = { [key === 'code' ? 'components' : 'shops']: out.map(view) };
    if (out.length === limit) body.next_after = out.at(-1)[key];
    return { status: 200, body };
  };
  return {
    classes,
    components: (q) => page(components, 'code', q, componentView),
    component: (code) => (byCode.has(code) ? componentView(byCode.get(code)) : null),
    shops: (q) => page(shops, 'id', q, shopView),
    shop: (id) => {
      const s = byId.get(id);
      if (!s) return null;
      const list = inspections.get(id) || [];
      const points = list.flatMap((i) => {
        const n = i.items.filter((x) => !x.passed).length;
        return n ? [{ shop: id, at: `${i.date}T10:00:00Z`, points: n, reason: { kind: 'inspection', inspection: i.id } }] : [];
      });
      return { shop: shopView(s), inspections: list, points };
    },
  };
}
