// The map page in a real browser: first render, click → card with the block head, layer toggle,
// search by Chinese name, coordinate entry in GCJ-02, English switch, screenshot of the map.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BASE, launch, openMap, waitIdle, knownBlock, jumpTo, clickMapAt, wgsToGcj, getJSON, cspViolations, ARTIFACTS, REPO } from './helpers.mjs';

let browser;
let block;
before(async () => {
  browser = await launch();
  block = await knownBlock();
});
after(async () => { await browser?.close(); });

test('the map loads and renders: first render time is measured', async () => {
  const { page, context, ms, errors, tiles, failed } = await openMap(browser);
  const firstIdle = await page.evaluate(() => window.gridatlas.firstIdleAt);
  console.log(`first render: ${ms} ms from navigation to the map's first idle (performance.now at idle ${Math.round(firstIdle)} ms)`);
  assert.ok(await page.locator('canvas.maplibregl-canvas').isVisible());
  assert.match(await page.locator('h1').textContent(), /网格化管理/);
  const cfg = await getJSON('/api/v1/config');
  assert.equal((await page.locator('#district-name').textContent()).trim(), cfg.district.name);
  // only tiles in view were requested: every requested tile intersects the viewport at its zoom
  assert.ok(tiles.length > 0, 'vector tiles were fetched');
  const inView = await page.evaluate((urls) => {
    const m = window.gridatlas.map;
    const b = m.getBounds();
    return urls.every((u) => {
      const [, z, x, y] = u.match(/\/tiles\/(\d+)\/(\d+)\/(\d+)/).map(Number);
      const n = 2 ** z;
      const lon0 = (x / n) * 360 - 180, lon1 = ((x + 1) / n) * 360 - 180;
      const lat = (yy) => (Math.atan(Math.sinh(Math.PI * (1 - (2 * yy) / n))) * 180) / Math.PI;
      return lon1 >= b.getWest() - 1e-9 && lon0 <= b.getEast() + 1e-9 && lat(y) >= b.getSouth() - 1e-9 && lat(y + 1) <= b.getNorth() + 1e-9;
    });
  }, tiles);
  assert.ok(inView, 'only tiles in view are fetched');
  assert.deepEqual(errors, []);
  // no failed request but the optional case API's (its 404 hides the intake tab)
  assert.deepEqual(failed.filter((f) => !/\/api\/v1\/categories/.test(f)), []);
  await context.close();
});

test('the map works under its Content-Security-Policy: tiles parsed in blob: workers, drawn, no violation', async () => {
  const { page, context, response, errors } = await openMap(browser);
  const h = response.headers();
  const csp = h['content-security-policy'] || '';
  for (const part of ["default-src 'self'", "script-src 'self'", "worker-src 'self' blob:", "frame-ancestors 'none'"]) assert.ok(csp.includes(part), `${part} in ${csp}`);
  assert.doesNotMatch(csp, /unsafe/);
  assert.equal(h['x-content-type-options'], 'nosniff');
  assert.equal(h['referrer-policy'], 'strict-origin-when-cross-origin');
  // the scripts and styles the page loads carry the headers too
  const js = await page.request.get(`${BASE}/app.js`);
  assert.equal(js.headers()['x-content-type-options'], 'nosniff');
  assert.match(js.headers()['content-type'], /javascript/);
  // a block-level view needs the workers: vector tiles are decoded there
  await jumpTo(page, block.point, 15);
  const drawn = await page.evaluate(() => window.gridatlas.map.queryRenderedFeatures({ layers: ['block-line', 'road_segment-line', 'resident_grid-fill'] }).length);
  assert.ok(drawn > 0, `features drawn at zoom 15 (${drawn})`);
  await clickMapAt(page, block.point);
  await page.locator('#card-block-head img').waitFor({ timeout: 10000 });
  assert.ok(await page.locator('#card-block-head img').evaluate((img) => img.complete && img.naturalWidth > 0), 'the photo is shown');
  assert.deepEqual(await cspViolations(page), []);
  assert.deepEqual(errors, []);
  await context.close();
});

test('clicking a known block of the demo district shows its block head', async () => {
  const { page, context } = await openMap(browser);
  await jumpTo(page, block.point, 16);
  await clickMapAt(page, block.point);
  const head = page.locator('#card-block-head');
  await head.waitFor({ timeout: 10000 });
  assert.match(await head.textContent(), new RegExp(block.head.name));
  if (block.head.phone) assert.equal(await head.locator('a.tel').getAttribute('href'), `tel:${block.head.phone}`);
  assert.match(await page.locator('#card-block').textContent(), new RegExp(block.code));
  assert.match(await page.locator('#card').textContent(), /WGS84[\s\S]*GCJ-02/);
  // the block head's photo is served
  const src = await head.locator('img').getAttribute('src');
  if (src) assert.equal((await page.request.get(new URL(src, BASE).href)).status(), 200);
  // a wider view for the screenshot, the card open beside the block
  await page.evaluate(([lon, lat]) => window.gridatlas.map.jumpTo({ center: [lon, lat], zoom: 14.5, padding: { right: 380 } }), block.point);
  await waitIdle(page);
  await page.screenshot({ path: join(ARTIFACTS, 'map.png') });
  await context.close();
});

test('switching a layer off hides it', async () => {
  const { page, context } = await openMap(browser);
  await jumpTo(page, block.point, 14);
  const count = () => page.evaluate(() => window.gridatlas.map.queryRenderedFeatures({ layers: ['block-line'] }).length);
  assert.ok(await count() > 0, 'blocks are drawn at zoom 14');
  await page.locator('input[data-layer="block"]').uncheck();
  await waitIdle(page);
  assert.equal(await page.evaluate(() => window.gridatlas.map.getLayoutProperty('block-line', 'visibility')), 'none');
  assert.equal(await count(), 0);
  await page.locator('input[data-layer="block"]').check();
  await waitIdle(page);
  assert.ok(await count() > 0);
  // the labels switch hides every name and number, and showing them again keeps the others' state
  const vis = (id) => page.evaluate((i) => window.gridatlas.map.getLayoutProperty(i, 'visibility') ?? 'visible', id);
  await page.locator('input[data-layer="labels"]').uncheck();
  assert.equal(await vis('block-number'), 'none');
  assert.equal(await vis('grid-label'), 'none');
  await page.locator('input[data-layer="resident_grid"]').uncheck();
  await page.locator('input[data-layer="labels"]').check();
  assert.equal(await vis('block-number'), 'visible');
  assert.equal(await vis('grid-label'), 'none', 'resident grid labels stay off with their layer');
  await context.close();
});

test('search a committee by its Chinese name and fly to it', async () => {
  // a residents' committee's grid of the demo district: names from the committed divisions fixture
  const div = JSON.parse(readFileSync(join(REPO, 'fixtures/jinshan-divisions.json'), 'utf8'));
  const street = div.streets.find((s) => s.code === '310116101') || div.streets[0];
  const committee = street.committees[0];
  // the committee's grid has the committee's code (resident grid = committee, 12 digits)
  const hit = await getJSON(`/api/v1/areas/${committee.code}`);
  const { page, context } = await openMap(browser);
  await page.locator('#search').fill(committee.name);
  const item = page.locator(`#search-results li[data-code="${committee.code}"]`).first();
  await item.waitFor({ timeout: 5000 });
  await item.click();
  await page.waitForFunction((code) => (document.querySelector('#card-grid')?.textContent || '').includes(code), committee.code, { timeout: 10000 });
  assert.match(await page.locator('#card-grid').textContent(), new RegExp(hit.name));
  await waitIdle(page);
  const center = await page.evaluate(() => window.gridatlas.map.getCenter().toArray());
  const b = hit.bbox;
  if (b) assert.ok(center[0] > b[0] - 0.05 && center[0] < b[2] + 0.05 && center[1] > b[1] - 0.05 && center[1] < b[3] + 0.05, 'the map flew to the committee');
  await context.close();
});

test('coordinates entered in GCJ-02 find the owner', async () => {
  const { page, context } = await openMap(browser);
  const [glon, glat] = wgsToGcj(...block.point);
  await page.locator('#coord-lon').fill(glon.toFixed(7));
  await page.locator('#coord-lat').fill(glat.toFixed(7));
  await page.locator('#coord-crs').selectOption('gcj02');
  await page.locator('#coord-form button[type="submit"]').click();
  await page.locator('#card-block-head').waitFor({ timeout: 10000 });
  assert.match(await page.locator('#card-block').textContent(), new RegExp(block.code));
  assert.match(await page.locator('#card-block-head').textContent(), new RegExp(block.head.name));
  const wgs = await page.evaluate(() => [window.gridatlas.lastLookup.lon, window.gridatlas.lastLookup.lat]);
  assert.ok(Math.abs(wgs[0] - block.point[0]) < 1e-5 && Math.abs(wgs[1] - block.point[1]) < 1e-5, `converted back to WGS84: ${wgs}`);
  await context.close();
});

test('the interface switches to English and remembers it', async () => {
  const { page, context } = await openMap(browser);
  await page.locator('#lang-toggle').click();
  assert.equal(await page.locator('h1').textContent(), 'Grid Management · Responsibility Map');
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');
  await jumpTo(page, block.point, 16);
  await clickMapAt(page, block.point);
  await page.locator('#card-block-head').waitFor({ timeout: 10000 });
  assert.match(await page.locator('#card').textContent(), /Block head/);
  await page.reload();
  await page.waitForFunction(() => document.body.dataset.mapReady === '1');
  assert.equal(await page.locator('h1').textContent(), 'Grid Management · Responsibility Map');
  await page.screenshot({ path: join(ARTIFACTS, 'map-en.png') });
  await context.close();
});
