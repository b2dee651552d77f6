// Planner upload: a dirty boundary file → progress → findings on the map and in the list, with the
// count matching `gridatlas validate`; a clean file publishes a new generation.
// Needs a planner token: GRIDATLAS_PLANNER_TOKEN (scripts/test-web creates one with
// `gridatlas token create --role planner --street 310116101`); skipped without one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, openMap, waitIdle, demoFixture, getJSON, knownBlock, ARTIFACTS, REPO } from './helpers.mjs';

const TOKEN = process.env.GRIDATLAS_PLANNER_TOKEN || '';
const STREET = process.env.GRIDATLAS_PLANNER_STREET || '310116101';
const BIN = process.env.GRIDATLAS_BIN || join(REPO, 'target/release/gridatlas');
const dir = mkdtempSync(join(tmpdir(), 'gridatlas-web-'));
let browser;
before(async () => { if (TOKEN) browser = await launch(); });
after(async () => { await browser?.close(); });

// The street's features (street, grids, blocks, road segments), from the fixture or the API.
async function streetFeatures() {
  const fx = demoFixture();
  if (fx) {
    const inStreet = new Set([STREET]);
    const out = [];
    // parents come before children in the fixture; loop until stable to be safe
    let grew = true;
    while (grew) {
      grew = false;
      for (const f of fx.features) {
        const p = f.properties;
        if (!inStreet.has(p.code) && inStreet.has(p.parent)) { inStreet.add(p.code); grew = true; }
      }
    }
    for (const f of fx.features) if (inStreet.has(f.properties.code)) out.push(f);
    return { all: fx, street: out };
  }
  const feat = (a) => ({ type: 'Feature', geometry: a.geometry, properties: { layer: a.layer, code: a.code, name: a.name, parent: a.parent, ...(a.kind ? { kind: a.kind } : {}) } });
  const street = await getJSON(`/api/v1/areas/${STREET}?geometry=1`);
  const out = [feat(street)];
  const grids = (await getJSON(`/api/v1/areas/${STREET}/children?geometry=1`)).items;
  for (const g of grids) {
    out.push(feat({ ...g, parent: STREET }));
    for (const b of (await getJSON(`/api/v1/areas/${g.code}/children?geometry=1`)).items) out.push(feat({ ...b, parent: g.code }));
  }
  return { all: null, street: out };
}

// Defects inside one grid: one block enlarged by 40 % (overlaps its neighbours, sticks out of
// the grid) and another block removed (a gap in the grid's coverage).
function makeDirty(features, gridCode) {
  const blocks = features.filter((f) => f.properties.layer === 'block' && f.properties.parent === gridCode);
  assert.ok(blocks.length >= 2, `grid ${gridCode} has at least 2 blocks`);
  const [grow, drop] = blocks;
  const scale = (g) => {
    const pts = [];
    const walk = (c) => (typeof c[0] === 'number' ? pts.push(c) : c.forEach(walk));
    walk(g.coordinates);
    const cx = pts.reduce((s, p) => s + p[0], 0) / pts.length, cy = pts.reduce((s, p) => s + p[1], 0) / pts.length;
    const map = (c) => (typeof c[0] === 'number' ? [cx + (c[0] - cx) * 1.4, cy + (c[1] - cy) * 1.4] : c.map(map));
    return { ...g, coordinates: map(g.coordinates) };
  };
  return features.filter((f) => f !== drop).map((f) => (f === grow ? { ...f, geometry: scale(f.geometry) } : f));
}

// Number of findings `gridatlas validate` reports for a file, or null when the CLI cannot tell.
function validateCount(file) {
  if (!existsSync(BIN)) return null;
  for (const args of [['validate', '--format', 'json', file], ['validate', file, '--format', 'json'], ['validate', '--json', file], ['validate', file]]) {
    let out;
    try {
      out = execFileSync(BIN, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 28 });
    } catch (e) {
      out = e.stdout; // validate may exit non-zero when it finds errors
      if (!out) continue;
    }
    try {
      const j = JSON.parse(out);
      if (Array.isArray(j.findings)) return j.findings.length;
      if (Array.isArray(j.features)) return j.features.length;
      if (j.summary && Number.isFinite(j.summary.errors)) return j.summary.errors + (j.summary.warnings || 0);
    } catch { /* not JSON: try the next form */ }
  }
  return null;
}

async function upload(page, file) {
  await page.locator('.tab[data-tab="planner"]').click();
  await page.locator('#planner-token').fill(TOKEN);
  await page.locator('#planner-file').setInputFiles(file);
  await page.locator('#planner-upload').click();
  await page.locator('#findings-count').waitFor({ timeout: 60000 });
  return Number(await page.locator('#findings-count').getAttribute('data-count'));
}

test('a dirty upload shows its findings on the map and in the list, as many as gridatlas validate finds', { skip: !TOKEN && 'no planner token (GRIDATLAS_PLANNER_TOKEN)' }, async (t) => {
  const block = await knownBlock();
  const { all, street } = await streetFeatures();
  const gridCode = street.find((f) => f.properties.layer === 'block' && f.properties.parent === block.parent) ? block.parent
    : street.find((f) => f.properties.layer === 'resident_grid').properties.code;
  const dirty = makeDirty(street, gridCode);
  const upFile = join(dir, 'dirty-street.geojson');
  writeFileSync(upFile, JSON.stringify({ type: 'FeatureCollection', features: dirty }));
  // the CLI validates the whole district with that street replaced: what the server's draft is
  let cliFile = upFile;
  if (all) {
    const codes = new Set(street.map((f) => f.properties.code));
    cliFile = join(dir, 'dirty-district.geojson');
    writeFileSync(cliFile, JSON.stringify({ type: 'FeatureCollection', features: [...all.features.filter((f) => !codes.has(f.properties.code)), ...dirty] }));
  }
  const expected = validateCount(cliFile);

  const { page, context } = await openMap(browser);
  const shown = await upload(page, upFile);
  t.diagnostic(`findings shown: ${shown}; gridatlas validate: ${expected ?? 'n/a'}`);
  assert.ok(shown > 0, 'the dirty file has findings');
  if (expected !== null) assert.equal(shown, expected, 'the page lists as many findings as gridatlas validate');
  else t.diagnostic('gridatlas validate gave no count: compared with the draft report only');
  const draftId = await page.evaluate(() => window.gridatlas.draft.id);
  const report = await getJSON(`/api/v1/drafts/${draftId}/report?format=geojson`);
  assert.equal(shown, report.features.length);
  assert.equal(await page.locator('#findings-list li[data-i]').count(), Math.min(shown, 500));
  await waitIdle(page);
  const drawn = await page.evaluate(() => window.gridatlas.map.queryRenderedFeatures({
    layers: ['finding-gap', 'finding-gap-line', 'finding-overlap', 'finding-sliver', 'finding-containment', 'finding-other', 'finding-invalid'] }).length);
  assert.ok(drawn > 0, 'findings are drawn on the map');
  await page.screenshot({ path: join(ARTIFACTS, 'planner-findings.png') });
  await page.locator('#findings-list [data-zoom]').first().click();
  await page.waitForTimeout(700);
  await waitIdle(page);
  await context.close();
});

test('a clean upload publishes a new generation', { skip: !TOKEN && 'no planner token (GRIDATLAS_PLANNER_TOKEN)' }, async () => {
  const { street } = await streetFeatures();
  const file = join(dir, 'clean-street.geojson');
  writeFileSync(file, JSON.stringify({ type: 'FeatureCollection', features: street }));
  const before = (await getJSON('/api/v1/config')).generation;
  const { page, context } = await openMap(browser);
  const n = await upload(page, file);
  const errors = await page.evaluate(() => window.gridatlas.draftSummary.errors);
  if (errors > 0) await page.locator('#override-reason').fill('browser test: republish the demo street');
  assert.ok(n >= 0);
  await page.locator('#planner-publish').click();
  await page.waitForFunction(() => document.querySelector('#planner-status')?.classList.contains('ok'), null, { timeout: 30000 });
  const after = (await getJSON('/api/v1/config')).generation;
  assert.ok(after > before, `generation ${before} → ${after}`);
  await context.close();
});
