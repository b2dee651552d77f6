// Dev mock of the gridatlas HTTP API (the contract in web-map/README.md), for working on the
// front-end without the Rust server: `node web-map/dev/mock-server.mjs [port]`.
// Serves web-map/ at / like `gridatlas serve`. Data: dev/demo-data.mjs (synthetic rectangles).
// Not used by the browser tests, which run against the real server (scripts/test-web).
import http from 'node:http';
import { readFileSync, existsSync, statSync } from 'node:fs';
import { join, extname, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeDemo } from './demo-data.mjs';
import { encodeTile, tileBounds } from './mvt.mjs';
import { makeAssets } from './assets-data.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
// MOCK_DATA=file.geojson serves a feature file (e.g. fixtures/demo-district.geojson) instead
const data = process.env.MOCK_DATA ? JSON.parse(readFileSync(process.env.MOCK_DATA, 'utf8'))
  : makeDemo(resolve(root, '../fixtures/jinshan-divisions.json'), Number(process.env.MOCK_SCALE || 1));
const UNITS = data.management_units || [];
let generation = 1;
const LAYERS = ['district', 'street', 'resident_grid', 'street_grid', 'extended_grid', 'block', 'road_segment'];
const GRID_LAYERS = ['resident_grid', 'street_grid', 'extended_grid'];

function bboxOf(g) {
  let b = [Infinity, Infinity, -Infinity, -Infinity];
  const walk = (c) => { if (typeof c[0] === 'number') { b = [Math.min(b[0], c[0]), Math.min(b[1], c[1]), Math.max(b[2], c[0]), Math.max(b[3], c[1])]; } else c.forEach(walk); };
  walk(g.coordinates);
  return b;
}
for (const f of data.features) f.bbox = bboxOf(f.geometry);
const byCode = new Map(data.features.map((f) => [f.properties.code, f]));

// --- CRS (GCJ-02 / BD-09) ---
const A = 6378245.0, EE = 0.00669342162296594323;
function tLat(x, y) { let r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x)); r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3; r += (20 * Math.sin(y * Math.PI) + 40 * Math.sin(y / 3 * Math.PI)) * 2 / 3; r += (160 * Math.sin(y / 12 * Math.PI) + 320 * Math.sin(y * Math.PI / 30)) * 2 / 3; return r; }
function tLon(x, y) { let r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x)); r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3; r += (20 * Math.sin(x * Math.PI) + 40 * Math.sin(x / 3 * Math.PI)) * 2 / 3; r += (150 * Math.sin(x / 12 * Math.PI) + 300 * Math.sin(x / 30 * Math.PI)) * 2 / 3; return r; }
function wgsToGcj(lon, lat) {
  const dLat0 = tLat(lon - 105, lat - 35), dLon0 = tLon(lon - 105, lat - 35);
  const rad = lat / 180 * Math.PI; let m = Math.sin(rad); m = 1 - EE * m * m; const sm = Math.sqrt(m);
  return [lon + (dLon0 * 180) / (A / sm * Math.cos(rad) * Math.PI), lat + (dLat0 * 180) / ((A * (1 - EE)) / (m * sm) * Math.PI)];
}
function gcjToWgs(lon, lat) { let [x, y] = [lon, lat]; for (let i = 0; i < 5; i++) { const [gx, gy] = wgsToGcj(x, y); x -= gx - lon; y -= gy - lat; } return [x, y]; }
function bdToGcj(lon, lat) { const X = Math.PI * 3000 / 180; const x = lon - 0.0065, y = lat - 0.006; const z = Math.sqrt(x * x + y * y) - 0.00002 * Math.sin(y * X); const t = Math.atan2(y, x) - 0.000003 * Math.cos(x * X); return [z * Math.cos(t), z * Math.sin(t)]; }

// --- geometry ---
function inRing(p, ring) { let c = false; for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) { const [xi, yi] = ring[i], [xj, yj] = ring[j]; if ((yi > p[1]) !== (yj > p[1]) && p[0] < ((xj - xi) * (p[1] - yi)) / (yj - yi) + xi) c = !c; } return c; }
function contains(f, p) {
  const b = f.bbox; if (p[0] < b[0] || p[0] > b[2] || p[1] < b[1] || p[1] > b[3]) return false;
  const polys = f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.type === 'MultiPolygon' ? f.geometry.coordinates : [];
  return polys.some((poly) => inRing(p, poly[0]) && !poly.slice(1).some((h) => inRing(p, h)));
}
function distM(p, line) {
  const k = Math.cos(p[1] * Math.PI / 180) * 111320; let best = Infinity;
  for (let i = 1; i < line.length; i++) {
    const ax = line[i - 1][0] * k, ay = line[i - 1][1] * 110540, bx = line[i][0] * k, by = line[i][1] * 110540, px = p[0] * k, py = p[1] * 110540;
    const dx = bx - ax, dy = by - ay; const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy || 1)));
    best = Math.min(best, Math.hypot(ax + t * dx - px, ay + t * dy - py));
  }
  return best;
}

function area(f, withPeople = true) {
  const p = f.properties; const a = { code: p.code, name: p.name, layer: p.layer };
  if (p.kind) a.kind = p.kind;
  if (withPeople && p.people) a.people = p.people;
  return a;
}
function summary(f) { const p = f.properties; return { code: p.code, name: p.name, layer: p.layer, kind: p.kind ?? null, parent: p.parent ?? null, bbox: f.bbox }; }

function lookup(lon, lat, crs) {
  let w = [lon, lat];
  if (crs === 'gcj02') w = gcjToWgs(lon, lat);
  if (crs === 'bd09') w = gcjToWgs(...bdToGcj(lon, lat));
  const hit = (layers) => data.features.find((f) => layers.includes(f.properties.layer) && contains(f, w));
  const district = hit(['district']), street = hit(['street']), grid = hit(GRID_LAYERS), block = hit(['block']);
  const roads = data.features.filter((f) => f.properties.layer === 'road_segment')
    .map((f) => ({ code: f.properties.code, name: f.properties.name, distance_m: Math.round(distM(w, f.geometry.coordinates)) }))
    .filter((r) => r.distance_m < 300).sort((a, b) => a.distance_m - b.distance_m).slice(0, 3);
  return {
    lon: w[0], lat: w[1], input: { lon, lat, crs }, gcj02: wgsToGcj(w[0], w[1]),
    district: district ? area(district) : null, street: street ? area(street) : null,
    grid: grid ? area(grid) : null, block: block ? area(block, false) : null,
    block_head: block?.properties.people?.[0] ?? null,
    management_units: !grid ? [] : UNITS.length ? UNITS.filter((u) => u.grids.includes(grid.properties.code))
      : [{ code: 'MU-' + grid.properties.parent + '-1', name: '城管执法管理单元一', kind: 'city_management', grids: [grid.properties.code], people: [] }],
    road_segments: roads, fallback: district ? null : 'outside', distance_m: null, generation,
  };
}

// the unit grid's areas at a point (for the asset registers' views)
function areasAt(w) {
  const ref = (f) => (f ? { code: f.properties.code, name: f.properties.name } : undefined);
  const hit = (layers) => data.features.find((f) => layers.includes(f.properties.layer) && contains(f, w));
  return { street: ref(hit(['street'])), grid: ref(hit(GRID_LAYERS)), block: ref(hit(['block'])) };
}
const assets = makeAssets(data, resolve(root, '../fixtures/component-classes.example.json'), areasAt);

const CATEGORIES = [
  { code: 'rg-01', name_zh: '违法搭建', name_en: 'Illegal construction', layer: 'resident_grid' },
  { code: 'rg-02', name_zh: '群租整治', name_en: 'Group renting', layer: 'resident_grid' },
  { code: 'rg-03', name_zh: '垃圾分类', name_en: 'Waste sorting', layer: 'resident_grid' },
  { code: 'rg-04', name_zh: '消防通道堵塞', name_en: 'Blocked fire lanes', layer: 'resident_grid' },
  { code: 'sg-01', name_zh: '占道经营', name_en: 'Street vending', layer: 'street_grid' },
  { code: 'sg-02', name_zh: '共享单车乱停放', name_en: 'Bike parking', layer: 'street_grid' },
];
const drafts = new Map();

function avatar(code) {
  let h = 0; for (const c of code) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  const hue = h % 360;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" fill="hsl(${hue},45%,85%)"/><circle cx="32" cy="25" r="12" fill="hsl(${hue},35%,45%)"/><path d="M10 60c2-14 12-20 22-20s20 6 22 20z" fill="hsl(${hue},35%,45%)"/></svg>`;
}

// The security headers of the real server's web map (src/http/web.rs, no basemap configured):
// keep them equal, so that front-end work under the mock meets the same policy.
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; script-src 'self'; worker-src 'self' blob:; child-src 'self' blob:; "
    + "style-src 'self'; font-src 'self'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    + "form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'strict-origin-when-cross-origin',
};
const MIME = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png' };
const json = (res, status, body, type = 'application/json') => { res.writeHead(status, { 'content-type': type }); res.end(JSON.stringify(body)); };
const problem = (res, status, title, detail) => json(res, status, { type: 'about:blank', title, status, detail }, 'application/problem+json');

function findings(fc) {
  // Stand-in validation: overlapping sibling blocks and blocks sticking out of their grid.
  const out = [];
  const feats = fc.features.filter((f) => f.geometry && f.properties?.layer === 'block').map((f) => ({ ...f, bbox: bboxOf(f.geometry) }));
  for (let i = 0; i < feats.length; i++) for (let j = i + 1; j < feats.length; j++) {
    const a = feats[i].bbox, b = feats[j].bbox;
    const x0 = Math.max(a[0], b[0]), y0 = Math.max(a[1], b[1]), x1 = Math.min(a[2], b[2]), y1 = Math.min(a[3], b[3]);
    if (x1 - x0 > 1e-6 && y1 - y0 > 1e-6 && feats[i].properties.parent === feats[j].properties.parent) {
      const thin = Math.min(x1 - x0, y1 - y0) < 5e-5;
      out.push({ type: 'Feature', geometry: { type: 'Polygon', coordinates: [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]] },
        properties: { rule: thin ? 'sliver' : 'overlap', severity: thin ? 'warning' : 'error', codes: [feats[i].properties.code, feats[j].properties.code],
          message: { zh: `责任块 ${feats[i].properties.code} 与 ${feats[j].properties.code} 重叠`, en: `Blocks ${feats[i].properties.code} and ${feats[j].properties.code} overlap` }, area_m2: Math.round((x1 - x0) * (y1 - y0) * 1.2e10), fix: null } });
    }
  }
  // gaps: blocks of the current data missing from an uploaded grid; containment: a block
  // sticking out of its grid's extent; invalid geometry: a ring with fewer than 4 positions
  const up = new Map(fc.features.map((f) => [f.properties?.code, f]));
  for (const f of fc.features) {
    const pr = f.properties || {};
    if (!GRID_LAYERS.includes(pr.layer)) continue;
    for (const cur of data.features) {
      if (cur.properties.parent === pr.code && cur.properties.layer === 'block' && !up.has(cur.properties.code)) {
        out.push({ type: 'Feature', geometry: cur.geometry, properties: { rule: 'gap', severity: 'error', codes: [pr.code],
          message: { zh: `网格 ${pr.code} 内有未划入责任块的区域`, en: `Part of grid ${pr.code} is in no block` }, area_m2: null, fix: null } });
      }
    }
  }
  for (const f of feats) {
    const grid = up.get(f.properties.parent) || byCode.get(f.properties.parent);
    if (!grid) continue;
    const g = bboxOf(grid.geometry), b = f.bbox;
    if (b[0] < g[0] - 1e-9 || b[1] < g[1] - 1e-9 || b[2] > g[2] + 1e-9 || b[3] > g[3] + 1e-9) {
      out.push({ type: 'Feature', geometry: f.geometry, properties: { rule: 'containment', severity: 'error', codes: [f.properties.code, grid.properties.code],
        message: { zh: `责任块 ${f.properties.code} 超出所属网格`, en: `Block ${f.properties.code} lies partly outside its grid` }, area_m2: null, fix: null } });
    }
  }
  for (const f of fc.features) {
    const g = f.geometry;
    if (g?.type === 'Polygon' && g.coordinates.some((r) => r.length < 4)) {
      out.push({ type: 'Feature', geometry: { type: 'Point', coordinates: g.coordinates[0][0] }, properties: { rule: 'invalid_geometry', severity: 'error', codes: [f.properties.code],
        message: { zh: `${f.properties.code} 的边界环少于 4 个点`, en: `A ring of ${f.properties.code} has fewer than 4 positions` }, area_m2: null, fix: null } });
    }
  }
  return { type: 'FeatureCollection', features: out };
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  const p = url.pathname;
  try {
    if (p === '/readyz') return json(res, 200, { ready: true });
    if (p === '/api/v1/config') {
      const d = data.features.find((f) => f.properties.layer === 'district');
      return json(res, 200, { district: { code: d.properties.code, name: d.properties.name }, bbox: d.bbox, center: [(d.bbox[0] + d.bbox[2]) / 2, (d.bbox[1] + d.bbox[3]) / 2], basemap_url: process.env.BASEMAP_URL || null, generation });
    }
    if (p === '/api/v1/tiles.json') {
      return json(res, 200, { tilejson: '3.0.0', tiles: ['/api/v1/tiles/{z}/{x}/{y}.mvt'], minzoom: 0, maxzoom: 16, bounds: data.features.find((f) => f.properties.layer === 'district').bbox,
        vector_layers: LAYERS.map((id) => ({ id, fields: { code: 'String', name: 'String', layer: 'String', kind: 'String', parent: 'String' } })) });
    }
    let m;
    if ((m = p.match(/^\/api\/v1\/tiles\/(\d+)\/(\d+)\/(\d+)\.mvt$/))) {
      const [z, x, y] = m.slice(1).map(Number);
      const tb = tileBounds(z, x, y);
      const layers = {};
      for (const f of data.features) {
        const l = f.properties.layer;
        if ((l === 'block' || l === 'road_segment') && z < 13) continue;
        if (GRID_LAYERS.includes(l) && z < 11) continue;
        const b = f.bbox; if (b[2] < tb[0] || b[0] > tb[2] || b[3] < tb[1] || b[1] > tb[3]) continue;
        const pr = f.properties;
        (layers[l] ||= []).push({ geometry: f.geometry, properties: { code: pr.code, name: pr.name, layer: l, kind: pr.kind, parent: pr.parent, seq: pr.seq } });
      }
      res.writeHead(200, { 'content-type': 'application/vnd.mapbox-vector-tile' });
      return res.end(encodeTile(layers, z, x, y));
    }
    if (p === '/api/v1/lookup') {
      const lon = Number(url.searchParams.get('lon')), lat = Number(url.searchParams.get('lat'));
      if (!Number.isFinite(lon) || !Number.isFinite(lat)) return problem(res, 400, 'Bad Request', 'lon and lat must be numbers');
      return json(res, 200, lookup(lon, lat, url.searchParams.get('crs') || 'wgs84'));
    }
    if (p === '/api/v1/areas') {
      const q = (url.searchParams.get('q') || '').trim(), layer = url.searchParams.get('layer'), parent = url.searchParams.get('parent');
      const limit = Number(url.searchParams.get('limit') || 20), offset = Number(url.searchParams.get('offset') || 0);
      const items = data.features.filter((f) => { const pr = f.properties; return (!q || pr.name.includes(q) || pr.code.startsWith(q)) && (!layer || pr.layer === layer) && (!parent || pr.parent === parent); });
      return json(res, 200, { items: items.slice(offset, offset + limit).map(summary), total: items.length });
    }
    if ((m = p.match(/^\/api\/v1\/areas\/([^/]+)(\/children)?$/))) {
      const f = byCode.get(decodeURIComponent(m[1]));
      if (!f) return problem(res, 404, 'Not Found', `no area with code ${m[1]}`);
      const geom = url.searchParams.get('geometry') === '1';
      if (m[2]) {
        return json(res, 200, { items: data.features.filter((c) => c.properties.parent === f.properties.code).map((c) => ({ ...summary(c), people: c.properties.people || [], attributes: { seq: c.properties.seq }, ...(geom ? { geometry: c.geometry } : {}) })) });
      }
      const parents = []; let cur = f;
      while (cur.properties.parent && byCode.get(cur.properties.parent)) { cur = byCode.get(cur.properties.parent); parents.unshift({ code: cur.properties.code, name: cur.properties.name, layer: cur.properties.layer }); }
      const children = {};
      for (const c of data.features) if (c.properties.parent === f.properties.code) children[c.properties.layer] = (children[c.properties.layer] || 0) + 1;
      return json(res, 200, { ...summary(f), parents, children, people: f.properties.people || [], attributes: {}, ...(geom ? { geometry: f.geometry } : {}) });
    }
    if ((m = p.match(/^\/avatars\/(.+)\.svg$/))) { res.writeHead(200, { 'content-type': 'image/svg+xml' }); return res.end(avatar(m[1])); }
    if (p === '/api/v1/categories') {
      if (process.env.NO_CASES) return problem(res, 404, 'Not Found', 'no categories');
      const layer = url.searchParams.get('layer');
      return json(res, 200, { items: CATEGORIES.filter((c) => !layer || c.layer === layer) });
    }
    if (p === '/api/v1/cases' && req.method === 'POST') {
      if (!/^Bearer \S+/.test(req.headers.authorization || '')) return problem(res, 401, 'Unauthorized', 'an intake token is required');
      const body = JSON.parse(await readBody(req));
      const l = lookup(body.lon, body.lat, body.crs || 'wgs84');
      if (!l.grid) return problem(res, 422, 'Unprocessable Entity', 'the point is outside every grid');
      const due = new Date(Date.now() + 7 * 86400e3).toISOString();
      return json(res, 201, { id: Math.floor(Math.random() * 1e6), assignment: { grid: l.grid, block: l.block, block_head: l.block_head, confidence: 'exact', due_at: due, category: body.category } });
    }
    if (p === '/api/v1/drafts' && req.method === 'POST') {
      if (!/^Bearer \S+/.test(req.headers.authorization || '')) return problem(res, 401, 'Unauthorized', 'a planner token is required');
      let fc; try { fc = JSON.parse(await readBody(req)); } catch (e) { return problem(res, 400, 'Bad Request', 'not JSON: ' + e.message); }
      const rep = findings(fc); const id = drafts.size + 1; drafts.set(id, rep);
      // per rule, the count per severity, as the server's summary has it
      const by = {}; for (const { properties: p } of rep.features) { const r = (by[p.rule] ||= {}); r[p.severity] = (r[p.severity] || 0) + 1; }
      const errors = rep.features.filter((f) => f.properties.severity === 'error').length;
      return json(res, 201, { id, summary: { errors, warnings: rep.features.length - errors, by_rule: by }, streets: [] });
    }
    if ((m = p.match(/^\/api\/v1\/drafts\/(\d+)\/report$/))) return json(res, 200, drafts.get(Number(m[1])) || { type: 'FeatureCollection', features: [] }, 'application/geo+json');
    if ((m = p.match(/^\/api\/v1\/drafts\/(\d+)\/publish$/)) && req.method === 'POST') {
      const rep = drafts.get(Number(m[1])); const body = await readBody(req);
      const errs = rep ? rep.features.filter((f) => f.properties.severity === 'error').length : 0;
      if (errs && !(body && JSON.parse(body).override_reason)) return problem(res, 409, 'Conflict', `the draft has ${errs} errors; publish needs an override reason`);
      return json(res, 200, { generation: ++generation });
    }
    if (p === '/api/v1/component-classes') return json(res, 200, assets.classes);
    if (p === '/api/v1/components' || p === '/api/v1/shops') {
      const r = assets[p.slice(8)](url.searchParams);
      return r.status === 200 ? json(res, 200, r.body) : problem(res, r.status, 'Bad Request', r.detail);
    }
    if ((m = p.match(/^\/api\/v1\/(components|shops)\/([^/]+)$/))) {
      const one = m[1] === 'shops' ? assets.shop(decodeURIComponent(m[2])) : assets.component(decodeURIComponent(m[2]));
      return one ? json(res, 200, one) : problem(res, 404, 'Not Found', `no ${m[1].slice(0, -1)} ${m[2]}`);
    }
    if (p.startsWith('/api/')) return problem(res, 404, 'Not Found', `no route ${p}`);
    // static files
    let file = join(root, p === '/' ? 'index.html' : decodeURIComponent(p));
    if (!file.startsWith(root) || !existsSync(file) || statSync(file).isDirectory()) { res.writeHead(404); return res.end('not found'); }
    res.writeHead(200, { 'content-type': MIME[extname(file)] || 'application/octet-stream', ...SECURITY_HEADERS });
    res.end(readFileSync(file));
  } catch (e) {
    problem(res, 500, 'Internal Server Error', String(e?.stack || e));
  }
});
function readBody(req) { return new Promise((ok, err) => { const c = []; req.on('data', (d) => c.push(d)); req.on('end', () => ok(Buffer.concat(c).toString('utf8'))); req.on('error', err); }); }

const port = Number(process.argv[2] || process.env.PORT || 8077);
server.listen(port, '127.0.0.1', () => console.log(`mock gridatlas API + web-map on http://127.0.0.1:${port}/`));
