// Planner upload: a dirty boundary file → progress → findings on the map and in the list, with the
// count matching `gridatlas validate`; a clean file publishes a new generation.
// Needs a planner token: GRIDATLAS_PLANNER_TOKEN (scripts/test-web creates one with
// `gridatlas token create --role planner --street 310116101`) and, against the real server, the
// `gridatlas` binary (GRIDATLAS_BIN) for `gridatlas validate`; without them the tests fail.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, openMap, waitIdle, demoFixture, getJSON, knownBlock, required, cspViolations, ARTIFACTS, REPO, MOCK, BASE } from './helpers.mjs';
import { STRINGS } from '../i18n.js';

let TOKEN = '';
const STREET = process.env.GRIDATLAS_PLANNER_STREET || '310116101';
const BIN = process.env.GRIDATLAS_BIN || join(REPO, 'target/release/gridatlas');
const dir = mkdtempSync(join(tmpdir(), 'gridatlas-web-'));
let browser;
before(async () => {
  TOKEN = required(process.env.GRIDATLAS_PLANNER_TOKEN, 'a planner token in GRIDATLAS_PLANNER_TOKEN');
  // the mock server has no CLI: its findings are compared with its draft report only
  if (!MOCK) required(existsSync(BIN), `the gridatlas binary at ${BIN} (GRIDATLAS_BIN)`);
  browser = await launch();
});
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

// What `gridatlas validate --format json` finds in a file: { findings, errors, warnings, byRule }
// (byRule: per rule, the count per severity). Exit 0 (clean) and 1 (errors) are answers; anything
// else is a failure of the test, not a reason to compare less.
function validateCli(file) {
  let out;
  try {
    out = execFileSync(BIN, ['validate', '--format', 'json', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 28 });
  } catch (e) {
    if (e.status !== 1) throw new Error(`gridatlas validate --format json ${file} failed (exit ${e.status}): ${e.stderr || e.message}`);
    out = e.stdout;
  }
  const j = JSON.parse(out);
  assert.ok(Array.isArray(j.findings), 'gridatlas validate --format json lists findings');
  return { findings: j.findings.length, errors: j.summary.errors, warnings: j.summary.warnings, byRule: j.summary.by_rule };
}

// The legend above the findings list as a person reads it: one badge per rule, "label count".
async function legend(page) {
  return page.locator('#findings-legend .badge').evaluateAll((els) => els.map((e) => ({ rule: e.dataset.rule, text: e.innerText.trim() })));
}
const total = (bySeverity) => Object.values(bySeverity).reduce((a, n) => a + n, 0);

async function upload(page, file) {
  await page.locator('.tab[data-tab="planner"]').click();
  await page.locator('#planner-token').fill(TOKEN);
  await page.locator('#planner-file').setInputFiles(file);
  await page.locator('#planner-upload').click();
  await page.locator('#findings-count').waitFor({ timeout: 60000 });
  return Number(await page.locator('#findings-count').getAttribute('data-count'));
}

test('a dirty upload shows its findings on the map, in the legend and in the list, as gridatlas validate finds them', async (t) => {
  const block = await knownBlock();
  const { all, street } = await streetFeatures();
  const gridCode = street.find((f) => f.properties.layer === 'block' && f.properties.parent === block.parent) ? block.parent
    : street.find((f) => f.properties.layer === 'resident_grid').properties.code;
  const dirty = makeDirty(street, gridCode);
  const upFile = join(dir, 'dirty-street.geojson');
  writeFileSync(upFile, JSON.stringify({ type: 'FeatureCollection', features: dirty }));
  const { page, context } = await openMap(browser);
  const shown = await upload(page, upFile);
  const draftId = await page.evaluate(() => window.gridatlas.draft.id);
  const report = await getJSON(`/api/v1/drafts/${draftId}/report?format=geojson`, { headers: { Authorization: `Bearer ${TOKEN}` } });
  if (!MOCK) {
    // the report is the planner's: nobody reads it without a token
    const anon = await fetch(`${BASE}/api/v1/drafts/${draftId}/report`);
    assert.equal(anon.status, 401, 'a draft report needs a token');
  }
  const summary = await page.evaluate(() => window.gridatlas.draftSummary);
  let expected = { findings: report.features.length, errors: summary.errors, warnings: summary.warnings, byRule: summary.by_rule };
  if (!MOCK) {
    // the CLI validates the whole district with that street replaced: what the server's draft is
    assert.ok(all, 'the demo fixture file is there (fixtures/demo-district.geojson)');
    const codes = new Set(street.map((f) => f.properties.code));
    const cliFile = join(dir, 'dirty-district.geojson');
    writeFileSync(cliFile, JSON.stringify({ type: 'FeatureCollection', features: [...all.features.filter((f) => !codes.has(f.properties.code)), ...dirty] }));
    expected = validateCli(cliFile);
  }
  t.diagnostic(`findings shown: ${shown}; expected (${MOCK ? 'mock draft report' : 'gridatlas validate'}): ${expected.findings}, by rule ${JSON.stringify(expected.byRule)}`);
  // the enlarged block overlaps its neighbours and sticks out of its grid, the dropped one leaves a gap
  // (the mock finds no containment)
  for (const rule of MOCK ? ['overlap', 'gap'] : ['overlap', 'containment', 'gap']) assert.ok(total(expected.byRule[rule] || {}) > 0, `the dirty file has ${rule} findings`);
  assert.equal(shown, expected.findings, 'the page lists as many findings as expected');
  assert.equal(report.features.length, expected.findings, 'the draft report has as many findings');
  assert.deepEqual([summary.errors, summary.warnings], [expected.errors, expected.warnings]);
  assert.equal(await page.locator('#findings-list li[data-i]').count(), Math.min(shown, 500));
  // the legend reads "越出上级 3" etc.: one badge per rule with its label and its count
  const seen = await legend(page);
  assert.deepEqual(seen.map((b) => b.rule).sort(), Object.keys(expected.byRule).sort());
  for (const b of seen) assert.equal(b.text, `${STRINGS.zh[`rule.${b.rule}`]} ${total(expected.byRule[b.rule])}`);
  assert.doesNotMatch(await page.locator('#planner-summary').innerText(), /object|undefined|NaN/);
  await waitIdle(page);
  const drawn = await page.evaluate(() => window.gridatlas.map.queryRenderedFeatures({
    layers: ['finding-gap', 'finding-gap-line', 'finding-overlap', 'finding-sliver', 'finding-containment', 'finding-other', 'finding-invalid'] }).length);
  assert.ok(drawn > 0, 'findings are drawn on the map');
  await page.screenshot({ path: join(ARTIFACTS, 'planner-findings.png') });
  await page.locator('#findings-list [data-zoom]').first().click();
  await page.waitForTimeout(700);
  await waitIdle(page);
  assert.deepEqual(await cspViolations(page), []);
  await context.close();
});

test('a clean upload publishes the next generation', async () => {
  const { all, street } = await streetFeatures();
  const file = join(dir, 'clean-street.geojson');
  writeFileSync(file, JSON.stringify({ type: 'FeatureCollection', features: street }));
  const before = (await getJSON('/api/v1/config')).generation;
  const { page, context } = await openMap(browser);
  const n = await upload(page, file);
  const summary = await page.evaluate(() => window.gridatlas.draftSummary);
  const draftId = await page.evaluate(() => window.gridatlas.draft.id);
  const report = await getJSON(`/api/v1/drafts/${draftId}/report?format=geojson`, { headers: { Authorization: `Bearer ${TOKEN}` } });
  assert.equal(n, report.features.length);
  if (!MOCK) {
    // the street as published: the draft is the demo district itself, as the CLI sees it
    const cliFile = join(dir, 'clean-district.geojson');
    writeFileSync(cliFile, JSON.stringify(all));
    const cli = validateCli(cliFile);
    assert.deepEqual([n, summary.errors, summary.warnings], [cli.findings, cli.errors, cli.warnings]);
  }
  if (summary.errors > 0) await page.locator('#override-reason').fill('browser test: republish the demo street');
  await page.locator('#planner-publish').click();
  await page.waitForFunction(() => document.querySelector('#planner-status')?.classList.contains('ok'), null, { timeout: 30000 });
  const after = (await getJSON('/api/v1/config')).generation;
  assert.equal(after, before + 1, `generation ${before} → ${after}`);
  assert.match(await page.locator('#planner-status').innerText(), new RegExp(String(after)));
  await context.close();
});
