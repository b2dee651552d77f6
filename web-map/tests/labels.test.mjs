// Issue 20, item 13: the map's labels and the words around them, at the phone and the desktop
// viewport, in Chinese and in English. At the first view every street is named and the district
// once (its tile pieces named it twice and hid four streets); switching blocks off at zoom ≥ 16
// takes their names too; a click just outside the district names the street of the nearest
// grid (not "无"); one item's badge says its layer in the singular in English.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { launch, knownBlock, getJSON, ARTIFACTS } from './helpers.mjs';
import { VIEWS, LANGS, openAt, settle } from './viewports.mjs';

let browser;
let block;
let streets;
let outside; // a point ~20 m outside the district, with the street of its nearest grid
before(async () => {
  browser = await launch();
  block = await knownBlock();
  streets = (await getJSON('/api/v1/areas?layer=street&limit=1000')).items;
  const cfg = await getJSON('/api/v1/config');
  const d = await getJSON(`/api/v1/areas/${cfg.district.code}?geometry=1`);
  const polys = d.geometry.type === 'Polygon' ? [d.geometry.coordinates] : d.geometry.coordinates;
  const west = polys.flatMap((p) => p[0]).reduce((a, c) => (c[0] < a[0] ? c : a));
  const point = [west[0] - 0.0002, west[1]];
  const look = await getJSON(`/api/v1/lookup?lon=${point[0]}&lat=${point[1]}`);
  assert.equal(look.street, null, 'the lookup names no street outside the district');
  assert.ok(look.grid, 'but a nearest grid');
  const street = (await getJSON(`/api/v1/areas/${look.grid.code}`)).parents.find((p) => p.layer === 'street');
  outside = { point, street };
});
after(async () => { await browser?.close(); });

const NONE = { zh: '无', en: 'None' };

for (const view of VIEWS) {
  for (const lang of LANGS) {
    test(`${view.name} ${lang}: the first view names every street and the district at most once`, async () => {
      const { page, context, problems } = await openAt(browser, view, lang);
      // the labels settle once the first tiles are in (street label points refined from them)
      await page.waitForTimeout(1500);
      await settle(page);
      const shown = await page.evaluate(() => window.gridatlas.map.queryRenderedFeatures({ layers: ['street-label', 'district-label'] })
        .map((f) => ({ layer: f.layer.id, name: f.properties.name })));
      const named = new Set(shown.filter((f) => f.layer === 'street-label').map((f) => f.name));
      const missing = streets.map((s) => s.name).filter((n) => !named.has(n));
      assert.deepEqual(missing, [], `unlabelled streets at zoom ${await page.evaluate(() => window.gridatlas.map.getZoom())}`);
      assert.ok(shown.filter((f) => f.layer === 'district-label').length <= 1, 'the district named at most once');
      await page.screenshot({ path: join(ARTIFACTS, `labels-first-view-${view.name}-${lang}.png`) });
      assert.deepEqual(await problems(), []);
      await context.close();
    });

    test(`${view.name} ${lang}: blocks switched off at zoom 16 take their names and numbers with them`, async () => {
      const { page, context, problems } = await openAt(browser, view, lang);
      await page.evaluate(([lon, lat]) => window.gridatlas.map.jumpTo({ center: [lon, lat], zoom: 16.5 }), block.point);
      await settle(page);
      // the labels of a view are recomputed after it settles (and symbol placement takes frames):
      // wait for what is drawn rather than a fixed time, which a loaded machine can outlast
      const drawn = (want) => page.waitForFunction((want) => {
        const n = window.gridatlas.map.queryRenderedFeatures({ layers: ['block-name', 'block-number'] }).length;
        return want ? n > 0 : n === 0;
      }, want, { timeout: 15000 }).then(() => true, () => false);
      assert.ok(await drawn(true), 'block names are drawn at zoom 16.5');
      if (view.name === 'phone') await page.locator('#layer-list input[data-layer="block"]').scrollIntoViewIfNeeded();
      await page.locator('#layer-list input[data-layer="block"]').uncheck();
      await settle(page);
      assert.ok(await drawn(false), 'no block name or number drawn once blocks are off');
      assert.equal(await page.evaluate(() => window.gridatlas.map.getLayoutProperty('block-name', 'visibility')), 'none');
      await page.locator('#layer-list input[data-layer="block"]').check();
      await settle(page);
      assert.ok(await drawn(true), 'and back');
      assert.deepEqual(await problems(), []);
      await context.close();
    });

    test(`${view.name} ${lang}: a click just outside the district names the nearest grid's street`, async () => {
      const { page, context, problems } = await openAt(browser, view, lang, { path: `/?lon=${outside.point[0]}&lat=${outside.point[1]}` });
      await page.waitForFunction((name) => (document.querySelector('#card-street')?.textContent || '').includes(name), outside.street.name, { timeout: 15000 });
      const text = (await page.locator('#card-street').textContent()).trim();
      assert.ok(!text.startsWith(NONE[lang]), text);
      assert.deepEqual(await problems(), []);
      await context.close();
    });
  }
}

test('en: one item\'s badges name its layer in the singular', async () => {
  const { page, context, problems } = await openAt(browser, VIEWS[1], 'en');
  await page.locator('#search').fill(block.code);
  const item = page.locator(`#search-results li[data-code="${block.code}"]`).first();
  await item.waitFor({ timeout: 5000 });
  assert.equal((await item.locator('.badge').textContent()).trim(), 'Block');
  await item.click();
  await page.locator('#card-grid .badge').waitFor({ timeout: 15000 });
  assert.match((await page.locator('#card-grid .badge').textContent()).trim(), /^(Resident|Street-front|Extended) grid( · .+)?$/);
  assert.deepEqual(await problems(), []);
  await context.close();
});
