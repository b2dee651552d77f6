// Shared set-up for the browser tests: the server under test, Debian's Chromium through
// playwright-core, screenshots into artifacts/.
import { chromium } from 'playwright-core';
import { mkdirSync, existsSync, readFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const BASE = (process.env.GRIDATLAS_URL || 'http://127.0.0.1:8077').replace(/\/$/, '');
export const ARTIFACTS = resolve(process.env.ARTIFACTS_DIR || join(REPO, 'artifacts'));
mkdirSync(ARTIFACTS, { recursive: true });
/** Whether the server under test is dev/mock-server.mjs (`scripts/test-web --mock`). */
export const MOCK = process.env.GRIDATLAS_MOCK === '1';

/**
 * The value of a prerequisite (a token, the server binary), or an error saying how to provide it:
 * against the real server nothing is skipped. Only against the mock server (which has no
 * `gridatlas` CLI and no `--data` mode) may a test skip a step, checking `MOCK`.
 */
export function required(value, what) {
  if (value) return value;
  throw new Error(`missing prerequisite: ${what} (scripts/test-web provides it)`);
}

/** Records the Content-Security-Policy violations of every page of a browser context in `window.__csp`. */
export async function watchCsp(context) {
  await context.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__csp.push(`${e.effectiveDirective || e.violatedDirective} blocked ${e.blockedURI || '(inline)'} at ${e.sourceFile || '?'}:${e.lineNumber || '?'}`);
    });
  });
}

/** The policy's violations reported on a page so far. */
export function cspViolations(page) {
  return page.evaluate(() => window.__csp);
}

export function chromiumPath() {
  for (const p of [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser']) if (p && existsSync(p)) return p;
  throw new Error('Chromium not found: apt-get install -y chromium, or set CHROMIUM');
}

export async function launch() {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--enable-unsafe-swiftshader', '--use-angle=swiftshader',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
    ],
  });
}

/** A page on the map, waited until the map is idle; returns { page, ms } with the time to first idle. */
export async function openMap(browser, { lang = 'zh', query = '', viewport = { width: 1440, height: 900 }, base = BASE } = {}) {
  const context = await browser.newContext({ viewport, locale: lang === 'en' ? 'en-GB' : 'zh-CN' });
  await watchCsp(context);
  const page = await context.newPage();
  const errors = [];
  const tiles = [];
  context.on('request', (r) => { if (/\/tiles\/\d+\/\d+\/\d+/.test(r.url())) tiles.push(r.url()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  // HTTP errors are collected by URL (the console only says "Failed to load resource")
  const failed = [];
  page.on('response', (r) => { if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`); });
  page.on('console', (m) => { if (m.type() === 'error' && !/^Failed to load resource/.test(m.text())) errors.push(m.text()); });
  const t0 = Date.now();
  const response = await page.goto(`${base}/${query}`);
  await page.waitForFunction(() => document.body.dataset.mapReady === '1', null, { timeout: 30000 });
  const ms = Date.now() - t0;
  return { page, context, ms, errors, tiles, failed, response };
}

/** Waits for the map to finish loading and rendering after a camera move. */
export async function waitIdle(page) {
  await page.evaluate(() => new Promise((ok) => {
    const m = window.gridatlas.map;
    if (m.loaded() && !m.isMoving() && m.areTilesLoaded()) { setTimeout(ok, 50); return; }
    m.once('idle', () => ok());
  }));
}

export async function getJSON(path, opts = {}) {
  const res = await fetch(BASE + path, opts);
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** A point inside a polygon: the middle of the widest run across its middle latitude. */
export function interiorPoint(geometry) {
  const poly = geometry.type === 'Polygon' ? geometry.coordinates : geometry.coordinates[0];
  const ys = poly[0].map((c) => c[1]);
  const y = (Math.min(...ys) + Math.max(...ys)) / 2 + 1e-9;
  const xs = [];
  for (const ring of poly) for (let i = 1; i < ring.length; i++) {
    const [x1, y1] = ring[i - 1], [x2, y2] = ring[i];
    if ((y1 > y) !== (y2 > y)) xs.push(x1 + ((y - y1) * (x2 - x1)) / (y2 - y1));
  }
  xs.sort((a, b) => a - b);
  let best = [xs[0], xs[1]];
  for (let i = 0; i + 1 < xs.length; i += 2) if (xs[i + 1] - xs[i] > best[1] - best[0]) best = [xs[i], xs[i + 1]];
  return [(best[0] + best[1]) / 2, y];
}

/** The demo district's fixture file when the repository has one (else null: use the API). */
export function demoFixture() {
  for (const p of [process.env.GRIDATLAS_FIXTURE, join(REPO, 'fixtures/demo-district.geojson')]) {
    if (p && existsSync(p)) return JSON.parse(readFileSync(p, 'utf8'));
  }
  return null;
}

/** WGS84 → GCJ-02 (the public algorithm), for entering shifted coordinates in the tests. */
export function wgsToGcj(lon, lat) {
  const A = 6378245.0, EE = 0.00669342162296594323;
  const x = lon - 105, y = lat - 35;
  let dLat = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  dLat += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
  dLat += (20 * Math.sin(y * Math.PI) + 40 * Math.sin(y / 3 * Math.PI)) * 2 / 3;
  dLat += (160 * Math.sin(y / 12 * Math.PI) + 320 * Math.sin(y * Math.PI / 30)) * 2 / 3;
  let dLon = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  dLon += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
  dLon += (20 * Math.sin(x * Math.PI) + 40 * Math.sin(x / 3 * Math.PI)) * 2 / 3;
  dLon += (150 * Math.sin(x / 12 * Math.PI) + 300 * Math.sin(x / 30 * Math.PI)) * 2 / 3;
  const rad = (lat / 180) * Math.PI;
  let m = Math.sin(rad); m = 1 - EE * m * m; const sm = Math.sqrt(m);
  return [lon + (dLon * 180) / ((A / sm) * Math.cos(rad) * Math.PI), lat + (dLat * 180) / (((A * (1 - EE)) / (m * sm)) * Math.PI)];
}

/**
 * A known block of the demo district with its block head: from the fixture file when there is
 * one, else from the API. Returns { code, name, parent, head, point:[lon,lat] }.
 */
export async function knownBlock() {
  const fx = demoFixture();
  if (fx) {
    const f = fx.features.find((x) => x.properties?.layer === 'block' && (x.properties.people || []).some((p) => p.role === 'block_head')
      && /^(Multi)?Polygon$/.test(x.geometry?.type));
    if (f) {
      const head = f.properties.people.find((p) => p.role === 'block_head');
      return { code: f.properties.code, name: f.properties.name, parent: f.properties.parent, head, point: interiorPoint(f.geometry) };
    }
  }
  const list = await getJSON('/api/v1/areas?layer=block&limit=50');
  for (const it of list.items) {
    const a = await getJSON(`/api/v1/areas/${encodeURIComponent(it.code)}?geometry=1`);
    const head = (a.people || []).find((p) => p.role === 'block_head');
    if (head && a.geometry) return { code: a.code, name: a.name, parent: a.parent, head, point: interiorPoint(a.geometry) };
  }
  throw new Error('no block with a block head in the demo district');
}

/** Centres the map on a point at a zoom and waits until it is rendered. */
export async function jumpTo(page, [lon, lat], zoom) {
  await page.evaluate(({ lon, lat, zoom }) => window.gridatlas.map.jumpTo({ center: [lon, lat], zoom }), { lon, lat, zoom });
  await waitIdle(page);
}

/** Clicks the map canvas where a lon/lat is drawn. */
export async function clickMapAt(page, [lon, lat]) {
  const { x, y } = await page.evaluate(({ lon, lat }) => {
    const m = window.gridatlas.map;
    const p = m.project([lon, lat]);
    const r = m.getCanvas().getBoundingClientRect();
    return { x: r.left + p.x, y: r.top + p.y };
  }, { lon, lat });
  await page.mouse.click(x, y);
}
