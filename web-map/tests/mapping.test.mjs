// Issue 19's "not done until": the demo district, exported by GDAL (ogr2ogr) as a GBK Shapefile
// in CGCS2000 3° Gauss–Krüger zone 40 with the zone prefix (EPSG:4528) and Chinese column names,
// zipped, uploads through the planner tab with the mapping step (the columns chosen in the
// page), validates and publishes; every vertex of the published generation is within 1 mm of
// ogr2ogr's (PROJ's) conversion of the same Shapefile to EPSG:4490. The mapping step is looked at
// on a phone (390 px: nothing wider than the screen, tap targets of 44 px) and on a desktop, in
// screenshots, with no console error and no serious or critical axe-core violation. At the end
// the original demo district is published again, so the next test files see the demo.
// Needs GDAL (scripts/ensure-gdal, called by scripts/test-web), python3 (to zip) and the admin
// token GRIDATLAS_ADMIN_TOKEN (a whole district is an admin's upload).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, required, ARTIFACTS, REPO, BASE, getJSON } from './helpers.mjs';
import { openAt, PHONE, DESKTOP } from './viewports.mjs';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const FIXTURE = join(REPO, 'fixtures/demo-district.geojson');
const dir = mkdtempSync(join(tmpdir(), 'gridatlas-mapping-'));
let ADMIN = '';
let OGR2OGR = '';
let browser;
let ZIP = '';

// The Chinese columns of the export, from the demo's standard properties.
const SQL = (where) => `SELECT code AS "网格编码", name AS "网格名称", parent AS "所属街道", layer AS "图层", kind AS "类型" FROM "demo-district" WHERE ${where}`;

function ogr2ogr(args) {
  execFileSync(OGR2OGR, args, { stdio: ['ignore', 'pipe', 'pipe'] });
}

before(async () => {
  ADMIN = required(process.env.GRIDATLAS_ADMIN_TOKEN, 'an admin token in GRIDATLAS_ADMIN_TOKEN');
  required(existsSync(FIXTURE), `the demo district at ${FIXTURE}`);
  // GDAL: scripts/ensure-gdal installs it when missing and prints ogr2ogr's path last
  const out = execFileSync(join(REPO, 'scripts/ensure-gdal'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  OGR2OGR = out.trim().split('\n').pop().trim();
  // Areas and road segments apart (a Shapefile holds one geometry type), GBK, EPSG:4528.
  for (const [name, where] of [['网格', "layer <> 'road_segment'"], ['路段', "layer = 'road_segment'"]]) {
    ogr2ogr(['-f', 'ESRI Shapefile', '-lco', 'ENCODING=GBK', '-s_srs', 'EPSG:4490', '-t_srs', 'EPSG:4528',
      '-dialect', 'OGRSQL', '-sql', SQL(where), '-nln', name, join(dir, `${name}.shp`), FIXTURE]);
  }
  const files = ['网格', '路段'].flatMap((n) => ['shp', 'shx', 'dbf', 'prj', 'cpg'].map((e) => `${n}.${e}`)).filter((f) => existsSync(join(dir, f)));
  ZIP = join(dir, 'demo-4528.zip');
  execFileSync('python3', ['-c', 'import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], "w") as z:\n    for f in sys.argv[2:]: z.write(f, f)', ZIP, ...files], { cwd: dir });
  browser = await launch();
});
after(async () => { await browser?.close(); });

const axe = async (page) => {
  // evaluated through the browser's protocol: the page's CSP (script-src 'self') does not apply
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(readFileSync(AXE, 'utf8'));
  const res = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return res.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.slice(0, 5).map((n) => n.target.join(' ')).join(' | ')}`);
};

// Opens the planner tab, gives the token and the file, and waits for the mapping step.
async function mappingStepOf(page) {
  await page.locator('.tab[data-tab="planner"]').click();
  await page.locator('#planner-token').fill(ADMIN);
  await page.locator('#planner-token').dispatchEvent('change');
  await page.locator('#planner-file').setInputFiles(ZIP);
  await page.locator('#planner-upload').click();
  await page.locator('#mapping-step:not([hidden]) #mapping-apply').waitFor({ timeout: 60000 });
}

// Every vertex of a GeoJSON geometry.
function vertices(g) {
  const out = [];
  const walk = (c) => (typeof c[0] === 'number' ? out.push(c) : c.forEach(walk));
  if (g) walk(g.coordinates);
  return out;
}

// Metres between two lon/lat points this close (the local scale of the ellipsoid's radius).
function metres(a, b) {
  const r = 6378137, rad = Math.PI / 180;
  const dx = (a[0] - b[0]) * rad * r * Math.cos(a[1] * rad);
  const dy = (a[1] - b[1]) * rad * r;
  return Math.hypot(dx, dy);
}

// The largest distance from a vertex of `from` to its nearest vertex of `to`.
function farthest(from, to) {
  let worst = 0;
  for (const p of from) {
    let best = Infinity;
    for (const q of to) {
      const d = metres(p, q);
      if (d < best) best = d;
      if (best === 0) break;
    }
    if (best > worst) worst = best;
  }
  return worst;
}

test('the mapping step fits a phone: nothing wider than 390 px, tap targets of 44 px, no errors', async () => {
  const { page, context, problems } = await openAt(browser, PHONE, 'zh');
  await mappingStepOf(page);
  const step = page.locator('#mapping-step');
  // the two file layers, their columns with samples, the preview and the system found
  assert.equal(await step.locator('.mapping-layer').count(), 2);
  assert.match(await step.innerText(), /网格编码/);
  assert.match(await step.innerText(), /EPSG:4528/);
  assert.equal(await page.locator('[data-target="code"]').inputValue(), '网格编码', 'preselected from the suggestion');
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(wide <= 390, `the page is ${wide} px wide`);
  const small = await step.locator('select, button, summary').evaluateAll((els) => els
    .filter((e) => e.offsetParent)
    .map((e) => ({ id: e.id || e.dataset.target || e.dataset.person || e.textContent.trim().slice(0, 20), h: e.getBoundingClientRect().height }))
    .filter((x) => x.h < 44));
  assert.deepEqual(small, [], 'tap targets of at least 44 px');
  await step.scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(ARTIFACTS, 'mapping-step-phone.png'), fullPage: false });
  await page.locator('#mapping-step [data-target="code"]').scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(ARTIFACTS, 'mapping-step-phone-selects.png') });
  await page.locator('#mapping-cancel').click();
  assert.ok(await step.isHidden());
  assert.deepEqual(await problems(), []);
  await context.close();
});

test('the demo district as a GBK Shapefile in EPSG:4528 with Chinese columns uploads with a mapping, publishes, and every vertex is within 1 mm of ogr2ogr\'s', async (t) => {
  const before = (await getJSON('/api/v1/config')).generation;
  const { page, context, problems } = await openAt(browser, DESKTOP, 'zh');
  await mappingStepOf(page);
  // The columns chosen in the page (they are preselected; chosen again as a planner would).
  for (const [target, column] of [['layer', '图层'], ['code', '网格编码'], ['name', '网格名称'], ['parent', '所属街道'], ['kind', '类型']]) {
    await page.locator(`[data-target="${target}"]`).selectOption(column);
  }
  await page.locator('#mapping-crs').selectOption('4528');
  await page.locator('#mapping-encoding').selectOption('gbk');
  // (the encoding re-reads the file: wait for the step again)
  await page.locator('#mapping-step:not([hidden]) #mapping-crs').waitFor({ timeout: 60000 });
  await page.waitForFunction(() => document.querySelector('#mapping-encoding')?.value === 'gbk');
  for (const [target, column] of [['layer', '图层'], ['code', '网格编码'], ['name', '网格名称'], ['parent', '所属街道'], ['kind', '类型']]) {
    await page.locator(`[data-target="${target}"]`).selectOption(column);
  }
  assert.equal(await page.locator('#mapping-crs').inputValue(), '4528', 'the system chosen is kept');
  const shown = await page.locator('#mapping-step').innerText();
  assert.match(shown, /EPSG:4528/);
  assert.match(shown, /GBK|gbk/);
  await page.screenshot({ path: join(ARTIFACTS, 'mapping-step-desktop.png'), fullPage: true });
  assert.deepEqual(await axe(page), [], 'axe on the mapping step');
  await page.locator('#mapping-apply').click();
  await page.locator('#findings-count').waitFor({ timeout: 180000 });
  const summary = await page.evaluate(() => window.gridatlas.draftSummary);
  t.diagnostic(`draft: ${JSON.stringify(summary)}`);
  if (summary.errors > 0) await page.locator('#override-reason').fill('browser test: the Shapefile of the demo');
  await page.locator('#planner-publish').click();
  await page.waitForFunction(() => document.querySelector('#planner-status')?.classList.contains('ok'), null, { timeout: 60000 });
  const generation = (await getJSON('/api/v1/config')).generation;
  assert.equal(generation, before + 1);
  assert.equal(summary.errors, 0, 'the demo district validates without errors');
  assert.deepEqual(await problems(), []);
  await context.close();

  // The published generation against ogr2ogr's conversion of the same Shapefiles to EPSG:4490.
  const published = await getJSON(`/api/v1/generations/${generation}/export`, { headers: { Authorization: `Bearer ${ADMIN}` } });
  const reference = new Map();
  for (const name of ['网格', '路段']) {
    const out = join(dir, `${name}-4490.geojson`);
    ogr2ogr(['-f', 'GeoJSON', '-t_srs', 'EPSG:4490', '-lco', 'COORDINATE_PRECISION=15', out, join(dir, `${name}.shp`)]);
    for (const f of JSON.parse(readFileSync(out, 'utf8')).features) reference.set(f.properties['网格编码'], f);
  }
  const demo = JSON.parse(readFileSync(FIXTURE, 'utf8'));
  assert.equal(published.features.length, demo.features.length, 'every feature of the demo is published');
  assert.equal(reference.size, demo.features.length);
  let worst = 0;
  let count = 0;
  for (const f of published.features) {
    const ref = reference.get(f.properties.code);
    assert.ok(ref, `${f.properties.code} is in the Shapefile`);
    assert.equal(f.properties.name, ref.properties['网格名称']);
    const a = vertices(f.geometry), b = vertices(ref.geometry);
    assert.equal(a.length, b.length, `${f.properties.code}: as many vertices`);
    const d = Math.max(farthest(a, b), farthest(b, a));
    if (d > worst) worst = d;
    count += a.length;
  }
  t.diagnostic(`${count} vertices; the largest distance to ogr2ogr's is ${(worst * 1000).toFixed(4)} mm`);
  assert.ok(worst < 0.001, `every vertex within 1 mm of ogr2ogr's (largest ${(worst * 1000).toFixed(4)} mm)`);

  // The original demo district again, for the test files after this one.
  const up = await fetch(`${BASE}/api/v1/drafts`, {
    method: 'POST', headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/geo+json' }, body: readFileSync(FIXTURE),
  });
  assert.equal(up.status, 201, await up.clone().text());
  const { id } = await up.json();
  const pub = await fetch(`${BASE}/api/v1/drafts/${id}/publish`, { method: 'POST', headers: { Authorization: `Bearer ${ADMIN}` } });
  assert.equal(pub.status, 200, await pub.clone().text());
  writeFileSync(join(ARTIFACTS, 'mapping-worst-mm.txt'), `${(worst * 1000).toFixed(6)} mm over ${count} vertices\n`);
});
