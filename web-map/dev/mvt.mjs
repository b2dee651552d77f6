// A minimal Mapbox Vector Tile (MVT 2.1) encoder for the dev mock server: polygons and lines,
// Sutherland–Hodgman clipping to the tile plus a buffer, string/number properties.
const EXTENT = 4096, BUFFER = 64;

class Pbf {
  constructor() { this.b = []; }
  varint(n) { n = Math.floor(n); while (n > 127) { this.b.push((n & 127) | 128); n = Math.floor(n / 128); } this.b.push(n); }
  tag(f, w) { this.varint((f << 3) | w); }
  bytes(f, arr) { this.tag(f, 2); this.varint(arr.length); for (const x of arr) this.b.push(x); }
  string(f, s) { this.bytes(f, [...Buffer.from(s, 'utf8')]); }
  packed(f, nums) { const p = new Pbf(); for (const n of nums) p.varint(n); this.bytes(f, p.b); }
  double(f, v) { this.tag(f, 1); const buf = Buffer.alloc(8); buf.writeDoubleLE(v); for (const x of buf) this.b.push(x); }
}
const zz = (n) => (n << 1) ^ (n >> 31);

function project(lon, lat, z, x, y) {
  const n = 2 ** z;
  const px = ((lon + 180) / 360) * n;
  const s = Math.sin((lat * Math.PI) / 180);
  const py = (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * n;
  return [Math.round((px - x) * EXTENT), Math.round((py - y) * EXTENT)];
}

function clipRing(ring) {
  const lo = -BUFFER, hi = EXTENT + BUFFER;
  let pts = ring;
  const edges = [[0, lo, 1], [0, hi, -1], [1, lo, 1], [1, hi, -1]];
  for (const [axis, v, dir] of edges) {
    const out = [];
    for (let i = 0; i < pts.length; i++) {
      const a = pts[i], b = pts[(i + 1) % pts.length];
      const ina = (a[axis] - v) * dir >= 0, inb = (b[axis] - v) * dir >= 0;
      if (ina) out.push(a);
      if (ina !== inb) {
        const t = (v - a[axis]) / (b[axis] - a[axis]);
        const p = [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])];
        p[axis] = v;
        out.push([Math.round(p[0]), Math.round(p[1])]);
      }
    }
    pts = out;
    if (!pts.length) break;
  }
  return pts;
}

function geomCommands(type, parts) {
  const cmds = [];
  let cx = 0, cy = 0;
  for (const pts of parts) {
    if (pts.length < (type === 3 ? 3 : 2)) continue;
    cmds.push((1 & 7) | (1 << 3), zz(pts[0][0] - cx), zz(pts[0][1] - cy));
    cx = pts[0][0]; cy = pts[0][1];
    cmds.push((2 & 7) | ((pts.length - 1) << 3));
    for (let i = 1; i < pts.length; i++) { cmds.push(zz(pts[i][0] - cx), zz(pts[i][1] - cy)); cx = pts[i][0]; cy = pts[i][1]; }
    if (type === 3) cmds.push(7 | (1 << 3));
  }
  return cmds;
}

/** layers: { name: [ {geometry, properties} ] } → Buffer */
export function encodeTile(layers, z, x, y) {
  const tile = new Pbf();
  for (const [name, feats] of Object.entries(layers)) {
    if (!feats.length) continue;
    const layer = new Pbf();
    layer.tag(15, 0); layer.varint(2);
    layer.string(1, name);
    const keys = [], keyIdx = new Map(), vals = [], valIdx = new Map();
    let id = 1;
    for (const f of feats) {
      const g = f.geometry;
      let type, parts = [];
      if (g.type === 'Polygon' || g.type === 'MultiPolygon') {
        type = 3;
        const polys = g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
        for (const poly of polys) for (const ring of poly) {
          const pts = clipRing(ring.slice(0, -1).map(([lo, la]) => project(lo, la, z, x, y)));
          if (pts.length >= 3) parts.push(pts);
        }
      } else if (g.type === 'LineString' || g.type === 'MultiLineString') {
        type = 2;
        const lines = g.type === 'LineString' ? [g.coordinates] : g.coordinates;
        for (const l of lines) parts.push(l.map(([lo, la]) => project(lo, la, z, x, y)));
      } else continue;
      const geom = geomCommands(type, parts);
      if (!geom.length) continue;
      const tags = [];
      for (const [k, v] of Object.entries(f.properties)) {
        if (v === null || v === undefined || typeof v === 'object') continue;
        if (!keyIdx.has(k)) { keyIdx.set(k, keys.length); keys.push(k); }
        const vk = typeof v + ':' + v;
        if (!valIdx.has(vk)) { valIdx.set(vk, vals.length); vals.push(v); }
        tags.push(keyIdx.get(k), valIdx.get(vk));
      }
      const feat = new Pbf();
      feat.tag(1, 0); feat.varint(id++);
      feat.packed(2, tags);
      feat.tag(3, 0); feat.varint(type);
      feat.packed(4, geom);
      layer.bytes(2, feat.b);
    }
    for (const k of keys) layer.string(3, k);
    for (const v of vals) {
      const val = new Pbf();
      if (typeof v === 'number') val.double(3, v); else val.string(1, String(v));
      layer.bytes(4, val.b);
    }
    layer.tag(5, 0); layer.varint(EXTENT);
    tile.bytes(3, layer.b);
  }
  return Buffer.from(tile.b);
}

export function tileBounds(z, x, y) {
  const n = 2 ** z;
  const lon = (xx) => (xx / n) * 360 - 180;
  const lat = (yy) => (Math.atan(Math.sinh(Math.PI * (1 - (2 * yy) / n))) * 180) / Math.PI;
  return [lon(x), lat(y + 1), lon(x + 1), lat(y)];
}
