// issue 20, items 5, 9, 10: the map speaks the page's language when the server refuses
// (problem+json `code`, the server's sentence only as the detail; raw values translated); the
// planner tab shows the override to an admin token only and tells a planner whom to ask; after a
// publish the map, an open card and the planner panel show the new generation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, COMBOS, openPage, shot, settled } from './issue20.mjs';
import { required, demoFixture, interiorPoint, getJSON, clickMapAt, jumpTo, BASE } from './helpers.mjs';
import { STRINGS } from '../i18n.js';

const STREET = '310116101';
const dir = mkdtempSync(join(tmpdir(), 'gridatlas-words-'));
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const S = (lang, key) => STRINGS[lang][key];

for (const { device, lang } of COMBOS) {
  test(`server refusals read in the page's language with the server's text as the detail (${device}, ${lang})`, async () => {
    // a lookup the server refuses (NaN longitude): the card names the parameter in the page's language
    const { page, context, errors } = await openPage(browser, { device, lang, path: '/?lon=abc&lat=30.9' });
    await page.locator('#card .card-problem').waitFor({ timeout: 15000 });
    const card = page.locator('#card .card-problem');
    assert.equal(await card.locator('.problem-text').textContent(), S(lang, 'problem.field').replace('{field}', S(lang, 'field.lon')));
    assert.match(await card.locator('.problem-detail').textContent(), /parameter `lon`/);
    await shot(page, `words-lookup-problem-${device}-${lang}`);

    // a planner upload with an unknown token
    await page.locator('.tab[data-tab="planner"]').click();
    await page.locator('#planner-token').fill('0'.repeat(64));
    const file = join(dir, 'tiny.geojson');
    writeFileSync(file, JSON.stringify({ type: 'FeatureCollection', features: [] }));
    await page.locator('#planner-file').setInputFiles(file);
    await page.locator('#planner-upload').click();
    await page.locator('#planner-status .problem-text').waitFor({ timeout: 15000 });
    assert.equal(await page.locator('#planner-status .problem-text').textContent(), S(lang, 'problem.unauthorized'));
    assert.match(await page.locator('#planner-status .problem-detail').textContent(), /token/);
    // the token's role line says it is refused, too
    await page.locator('#planner-role .problem-text').waitFor({ timeout: 10000 });
    assert.equal(await page.locator('#planner-role .problem-text').textContent(), S(lang, 'problem.unauthorized'));
    await shot(page, `words-planner-problem-${device}-${lang}`);

    // case intake with an unknown token, then with a real one: the routing's confidence in words
    const intake = required(process.env.GRIDATLAS_INTAKE_TOKEN, 'an intake token in GRIDATLAS_INTAKE_TOKEN');
    await page.locator('#tab-intake').click();
    await page.locator('#intake-token').fill('f'.repeat(64));
    const fx = demoFixture();
    const block = fx.features.find((f) => f.properties.layer === 'block' && f.properties.parent === '310116101001');
    const point = interiorPoint(block.geometry);
    await jumpTo(page, point, 15);
    await clickMapAt(page, point);
    await page.locator('#intake-submit').click();
    await page.locator('#intake-status .problem-text').waitFor({ timeout: 15000 });
    assert.equal(await page.locator('#intake-status .problem-text').textContent(), S(lang, 'problem.unauthorized'));
    assert.notEqual(await page.locator('#intake-status .problem-text').textContent(), await page.locator('#intake-status .problem-detail').textContent(), 'the server sentence is only the detail');
    await page.locator('#intake-token').fill(intake);
    await page.locator('#intake-description').fill('issue 20: words');
    await page.locator('#intake-submit').click();
    await page.locator('#intake-confidence').waitFor({ timeout: 15000 });
    const value = await page.locator('#intake-confidence').getAttribute('data-value');
    assert.equal(await page.locator('#intake-confidence').textContent(), S(lang, `confidence.${value}`), `confidence ${value} in words`);
    assert.doesNotMatch(await page.locator('#intake-result').textContent(), /\b(inside|boundary|nearest|street_queue|reported|dispatched)\b/);
    await shot(page, `words-intake-${device}-${lang}`);
    assert.deepEqual(errors, []);
    await context.close();
  });
}

// The street's features from the demo fixture (the street, its grids, blocks and road segments).
function streetFeatures() {
  const fx = demoFixture();
  const inStreet = new Set([STREET]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const f of fx.features) if (!inStreet.has(f.properties.code) && inStreet.has(f.properties.parent)) { inStreet.add(f.properties.code); grew = true; }
  }
  return fx.features.filter((f) => inStreet.has(f.properties.code));
}

// Two defects in grid 310116101001: its first block enlarged by 40 % (overlaps, sticks out), its
// second removed (a gap): errors a planner may not publish over.
function dirty(features) {
  const blocks = features.filter((f) => f.properties.layer === 'block' && f.properties.parent === '310116101001');
  const [grow, drop] = blocks;
  const scale = (g) => {
    const pts = [];
    const walk = (c) => (typeof c[0] === 'number' ? pts.push(c) : c.forEach(walk));
    walk(g.coordinates);
    const cx = pts.reduce((s, p) => s + p[0], 0) / pts.length, cy = pts.reduce((s, p) => s + p[1], 0) / pts.length;
    const map = (c) => (typeof c[0] === 'number' ? [cx + (c[0] - cx) * 1.4, cy + (c[1] - cy) * 1.4] : c.map(map));
    return { ...g, coordinates: map(g.coordinates) };
  };
  return { features: features.filter((f) => f !== drop).map((f) => (f === grow ? { ...f, geometry: scale(f.geometry) } : f)), drop };
}

for (const { device, lang } of COMBOS.filter((c) => c.device === 'desktop' || c.lang === 'zh')) {
  test(`a planner is told who may publish over errors; an admin token publishes; the map, the card and the panel show the new generation (${device}, ${lang})`, async () => {
    const planner = required(process.env.GRIDATLAS_PLANNER_TOKEN, 'a planner token of street 310116101 in GRIDATLAS_PLANNER_TOKEN');
    const admin = required(process.env.GRIDATLAS_ADMIN_TOKEN, 'an admin token in GRIDATLAS_ADMIN_TOKEN');
    // what the page learns about the tokens
    const me = await getJSON('/api/v1/tokens/self', { headers: { Authorization: `Bearer ${planner}` } });
    assert.deepEqual([me.role, me.may_publish, me.may_publish_over_errors], ['planner', true, false]);
    const street = streetFeatures();
    const { features, drop } = dirty(street);
    const file = join(dir, `dirty-${device}-${lang}.geojson`);
    writeFileSync(file, JSON.stringify({ type: 'FeatureCollection', features }));
    const { page, context, errors } = await openPage(browser, { device, lang });
    // a card open on the block the draft removes
    const dropPoint = interiorPoint(drop.geometry);
    await jumpTo(page, dropPoint, 15.5);
    await clickMapAt(page, dropPoint);
    await page.locator('#card:not([hidden]) #card-title').waitFor({ timeout: 15000 });
    assert.equal((await page.locator('#card-title').textContent()).trim(), drop.properties.name);
    const genBefore = (await getJSON('/api/v1/config')).generation;

    await page.locator('.tab[data-tab="planner"]').click();
    await page.locator('#planner-token').fill(planner);
    await page.locator('#planner-token').dispatchEvent('change');
    await page.locator('#planner-role[data-role="planner"]').waitFor({ timeout: 10000 });
    assert.match(await page.locator('#planner-role').textContent(), new RegExp(S(lang, 'role.planner')));
    await page.locator('#planner-file').setInputFiles(file);
    await page.locator('#planner-upload').click();
    await page.locator('#findings-count').waitFor({ timeout: 60000 });
    const summary = await page.evaluate(() => window.gridatlas.draftSummary);
    assert.ok(summary.errors > 0, 'the dirty draft has errors');
    // the planner: no override, but whom to ask and a place for an admin token
    assert.equal(await page.locator('#override-box').isHidden(), true, 'no override for a planner token');
    assert.equal(await page.locator('#override-ask').isVisible(), true);
    assert.equal(await page.locator('#override-who').textContent(), S(lang, 'planner.override.who').replace('{e}', summary.errors));
    assert.equal(await page.locator('#planner-publish').isDisabled(), true, 'a planner cannot press 发布 over errors');
    await page.locator('#override-who').scrollIntoViewIfNeeded();
    await shot(page, `words-planner-ask-admin-${device}-${lang}`);
    // a planner token in the admin field is not enough
    await page.locator('#planner-admin-token').fill(planner);
    await page.locator('#planner-admin-token').dispatchEvent('change');
    await page.locator('#admin-token-status.error').waitFor({ timeout: 10000 });
    assert.equal(await page.locator('#override-box').isHidden(), true);
    // the admin token: the override appears
    await page.locator('#planner-admin-token').fill(admin);
    await page.locator('#planner-admin-token').dispatchEvent('change');
    await page.locator('#admin-token-status.ok').waitFor({ timeout: 10000 });
    assert.equal(await page.locator('#override-box').isVisible(), true);
    assert.equal(await page.locator('#planner-publish').isDisabled(), false);
    // no reason: said, nothing sent
    await page.locator('#planner-publish').click();
    assert.equal(await page.locator('#planner-status').textContent(), S(lang, 'planner.need_reason'));
    await page.locator('#override-reason').fill('issue 20: an admin publishes over errors');
    const lookups = [];
    page.on('request', (r) => { if (r.url().includes('/api/v1/lookup')) lookups.push(r.url()); });
    await page.locator('#planner-publish').click();
    await page.waitForFunction(() => document.querySelector('#planner-status')?.classList.contains('ok'), null, { timeout: 30000 });
    const genAfter = (await getJSON('/api/v1/config')).generation;
    assert.equal(genAfter, genBefore + 1);
    assert.match(await page.locator('#planner-status').textContent(), new RegExp(`${genAfter}`));
    // the panel: the published draft offers no 发布, its findings are gone
    assert.equal(await page.locator('#publish-box').isHidden(), true, 'no 发布 for a published draft');
    assert.equal(await page.locator('#planner-summary').isHidden(), true);
    assert.equal(await page.locator('#findings-list li').count(), 0);
    // the map: no hatching, no outline; tiles of the new generation
    const sources = await page.evaluate(() => ['findings', 'findings-points', 'draft'].map((id) => window.gridatlas.map.getSource(id).serialize().data.features.length));
    assert.deepEqual(sources, [0, 0, 0]);
    assert.ok(await page.evaluate((g) => window.gridatlas.map.getSource('atlas').tiles.every((u) => u.includes(`g=${g}`)), genAfter));
    assert.match(await page.locator('#generation').textContent(), new RegExp(`${genAfter}`));
    // the card: asked again, it answers from the new generation (the block is no more)
    await page.waitForFunction((g) => window.gridatlas.lastLookup?.generation === g, genAfter, { timeout: 15000 });
    assert.ok(lookups.length >= 1, 'the open card was looked up again');
    assert.notEqual((await page.locator('#card-title').textContent()).trim(), drop.properties.name);
    await settled(page);
    const hatched = await page.evaluate(() => window.gridatlas.map.queryRenderedFeatures({ layers: ['finding-gap', 'finding-overlap', 'draft-line'] }).length);
    assert.equal(hatched, 0, 'no findings or draft outline drawn');
    await shot(page, `words-published-${device}-${lang}`);
    assert.deepEqual(errors, []);
    await context.close();

    // the demo street again (clean: a planner may publish it), for the tests that follow
    const up = await fetch(`${BASE}/api/v1/drafts`, { method: 'POST', headers: { Authorization: `Bearer ${planner}`, 'Content-Type': 'application/geo+json' }, body: JSON.stringify({ type: 'FeatureCollection', features: street }) });
    assert.equal(up.status, 201, await up.clone().text());
    const { id } = await up.json();
    const pub = await fetch(`${BASE}/api/v1/drafts/${id}/publish`, { method: 'POST', headers: { Authorization: `Bearer ${planner}` } });
    assert.equal(pub.status, 200, await pub.text());
  });
}
