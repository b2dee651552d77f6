// Issue 20, items 1, 2 and 4: the map as used on a phone (390×844, touch) and at a desk, in
// Chinese and in English. Camera moves (a `?lon=&lat=` deep link, a `?area=` deep link, a search
// result) leave their target in the part of the map the card does not cover; on a phone the card
// is a bottom sheet that opens small (the block head and a call button) and expands, and a tap on
// the map above it opens the new place's card; every tap target is at least 44 px.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { launch, knownBlock, getJSON, ARTIFACTS } from './helpers.mjs';
import { PHONE, DESKTOP, VIEWS, LANGS, openAt, settle, box, freeMapArea } from './viewports.mjs';

let browser;
let block;
let grid;
before(async () => {
  browser = await launch();
  block = await knownBlock();
  grid = await getJSON(`/api/v1/areas/${block.parent}`);
});
after(async () => { await browser?.close(); });

/** Where a lon/lat is drawn, in page coordinates. */
const screenOf = (page, [lon, lat]) => page.evaluate(({ lon, lat }) => {
  const m = window.gridatlas.map;
  const p = m.project([lon, lat]);
  const r = m.getCanvas().getBoundingClientRect();
  return { x: r.left + p.x, y: r.top + p.y };
}, { lon, lat });

const inside = (p, a, margin = 0) => p.x >= a.left + margin && p.x <= a.right - margin && p.y >= a.top + margin && p.y <= a.bottom - margin;

for (const view of VIEWS) {
  for (const lang of LANGS) {
    test(`${view.name} ${lang}: a ?lon=&lat= deep link puts the pin in the visible map, beside or above the card`, async () => {
      const { page, context, problems } = await openAt(browser, view, lang, { path: `/?lon=${block.point[0]}&lat=${block.point[1]}` });
      await page.locator('#card-block-head').waitFor({ timeout: 15000 });
      await settle(page);
      const free = await freeMapArea(page);
      const pin = await box(page, '.maplibregl-marker.pin:not(.case-place)');
      assert.ok(pin, 'the pin is shown');
      // the pin's tip (its bottom middle) and its whole picture are in the free part of the map
      const tip = { x: pin.x + pin.width / 2, y: pin.y + pin.height };
      assert.ok(inside(tip, free, 8), `pin tip ${JSON.stringify(tip)} inside the free map ${JSON.stringify(free)}`);
      assert.ok(inside({ x: pin.x, y: pin.y }, free) && inside({ x: pin.x + pin.width, y: pin.y + pin.height }, free), 'the whole pin is visible');
      // and the point is near the middle of the free part (the camera moved for it)
      const mid = { x: (free.left + free.right) / 2, y: (free.top + free.bottom) / 2 };
      assert.ok(Math.abs(tip.x - mid.x) < 30 && Math.abs(tip.y - mid.y) < 30, `pin ${JSON.stringify(tip)} near the middle ${JSON.stringify(mid)}`);
      assert.match(await page.locator('#card-block-head').textContent(), new RegExp(block.head.name));
      await page.screenshot({ path: join(ARTIFACTS, `deeplink-point-${view.name}-${lang}.png`) });
      assert.deepEqual(await problems(), []);
      await context.close();
    });

    test(`${view.name} ${lang}: a ?area= deep link fits the grid into the visible map and opens the grid's card`, async () => {
      const { page, context, problems } = await openAt(browser, view, lang, { path: `/?area=${grid.code}` });
      await page.waitForFunction(() => document.querySelector('#card')?.dataset.kind === 'grid', null, { timeout: 15000 });
      await settle(page);
      const free = await freeMapArea(page);
      const [w, s, e, n] = grid.bbox;
      const sw = await screenOf(page, [w, s]);
      const ne = await screenOf(page, [e, n]);
      assert.ok(inside(sw, free, -2) && inside(ne, free, -2), `the grid ${JSON.stringify({ sw, ne })} inside the free map ${JSON.stringify(free)}`);
      // and fills a good part of it (the map moved and zoomed)
      assert.ok(ne.x - sw.x > (free.right - free.left) * 0.4 || sw.y - ne.y > (free.bottom - free.top) * 0.4, 'the grid fills the view');
      assert.equal((await page.locator('#card-title').textContent()).trim(), grid.name);
      await page.screenshot({ path: join(ARTIFACTS, `deeplink-area-${view.name}-${lang}.png`) });
      assert.deepEqual(await problems(), []);
      await context.close();
    });

    test(`${view.name} ${lang}: coordinates entered put the pin in the visible map and leave no padding behind`, async () => {
      const { page, context, problems } = await openAt(browser, view, lang);
      await page.locator('#coord-lon').fill(block.point[0].toFixed(7));
      await page.locator('#coord-lat').fill(block.point[1].toFixed(7));
      await page.locator('#coord-form button[type="submit"]').click();
      await page.locator('#card-block-head').waitFor({ timeout: 15000 });
      await settle(page);
      const free = await freeMapArea(page);
      const pin = await box(page, '.maplibregl-marker.pin:not(.case-place)');
      const tip = { x: pin.x + pin.width / 2, y: pin.y + pin.height };
      assert.ok(inside(tip, free, 8) && inside({ x: pin.x, y: pin.y }, free), `pin ${JSON.stringify(pin)} inside the free map ${JSON.stringify(free)}`);
      // the camera's padding is not kept: the next move starts from the whole map
      assert.deepEqual(await page.evaluate(() => window.gridatlas.map.getPadding()), { top: 0, bottom: 0, left: 0, right: 0 });
      assert.deepEqual(await problems(), []);
      await context.close();
    });

    test(`${view.name} ${lang}: a search result moves the map to the area`, async () => {
      const { page, context, problems } = await openAt(browser, view, lang);
      await page.locator('#search').fill(block.code);
      const item = page.locator(`#search-results li[data-code="${block.code}"]`).first();
      await item.waitFor({ timeout: 5000 });
      await item.click();
      await page.waitForFunction((code) => (document.querySelector('#card-block')?.textContent || '').includes(code), block.code, { timeout: 15000 });
      await settle(page);
      const free = await freeMapArea(page);
      const p = await screenOf(page, block.point);
      assert.ok(inside(p, free), `the block ${JSON.stringify(p)} in the free map ${JSON.stringify(free)}`);
      assert.ok(await page.evaluate(() => window.gridatlas.map.getZoom()) > 14, 'zoomed to the block');
      assert.deepEqual(await problems(), []);
      await context.close();
    });
  }
}

for (const lang of LANGS) {
  test(`phone ${lang}: the card is a bottom sheet that opens small with the block head and a call button, and expands`, async () => {
    const { page, context, problems } = await openAt(browser, PHONE, lang, { path: `/?lon=${block.point[0]}&lat=${block.point[1]}` });
    await page.locator('#card-block-head').waitFor({ timeout: 15000 });
    await settle(page);
    const map = await box(page, '#map');
    const sheet = await box(page, '#card');
    assert.ok(Math.abs(sheet.x - map.x) < 1 && Math.abs(sheet.width - map.width) < 1, 'the sheet spans the map');
    assert.ok(Math.abs(sheet.y + sheet.height - (map.y + map.height)) < 1, 'at the bottom of the map');
    assert.ok(sheet.height <= map.height * 0.4, `collapsed: ${sheet.height} px of the map's ${map.height}`);
    // what it shows small: the block's name, its head and a call button
    assert.equal((await page.locator('#card-title').textContent()).trim(), block.name);
    assert.ok(await page.locator('#card-block-head .p-name').isVisible());
    const call = page.locator('#card-block-head a.call[href^="tel:"]');
    assert.ok(await call.isVisible(), 'the call button is visible');
    assert.equal(await call.getAttribute('href'), `tel:${block.head.phone}`);
    const callBox = await call.boundingBox();
    assert.ok(callBox.y + callBox.height <= sheet.y + sheet.height, 'the call button is inside the sheet');
    assert.equal(await page.locator('#card-grid').isVisible(), false, 'the rest waits for expanding');
    await page.screenshot({ path: join(ARTIFACTS, `sheet-collapsed-${lang}.png`) });
    // expanded: the rest of the card, scrollable within the map
    await page.locator('.card-expand').tap();
    assert.equal(await page.locator('.card-expand').getAttribute('aria-expanded'), 'true');
    assert.ok(await page.locator('#card-grid').isVisible());
    const open = await box(page, '#card');
    assert.ok(open.height > sheet.height + 100 && open.height <= map.height, `expanded ${open.height}`);
    await page.screenshot({ path: join(ARTIFACTS, `sheet-expanded-${lang}.png`) });
    await page.locator('.card-expand').tap();
    assert.ok((await box(page, '#card')).height <= map.height * 0.4, 'collapses again');
    // a tap on the map above the sheet is a tap on the map: the card is the new place's
    const before = (await page.locator('#card-title').textContent()).trim();
    const target = { x: map.x + map.width / 2, y: map.y + 40 };
    const lngLat = await page.evaluate(({ x, y }) => {
      const m = window.gridatlas.map; const r = m.getCanvas().getBoundingClientRect();
      return m.unproject([x - r.left, y - r.top]).toArray();
    }, target);
    await page.touchscreen.tap(target.x, target.y);
    await page.waitForFunction(([lon, lat]) => {
      const l = window.gridatlas.lastLookup;
      return l && Math.abs(l.input.lon - lon) < 1e-6 && Math.abs(l.input.lat - lat) < 1e-6;
    }, lngLat, { timeout: 10000 });
    const expected = await getJSON(`/api/v1/lookup?lon=${lngLat[0]}&lat=${lngLat[1]}`);
    const title = expected.block?.name || expected.grid?.name || expected.street?.name;
    if (title) assert.equal((await page.locator('#card-title').textContent()).trim(), title);
    assert.ok(title !== before || expected.block?.code !== block.code, 'another place was looked up');
    assert.deepEqual(await problems(), []);
    await context.close();
  });

  test(`phone ${lang}: every tap target is at least 44 px, the language button on one line`, async () => {
    const { page, context, problems } = await openAt(browser, PHONE, lang, { path: `/?lon=${block.point[0]}&lat=${block.point[1]}` });
    await page.locator('#card-block-head').waitFor({ timeout: 15000 });
    const small = await page.evaluate(() => {
      const out = [];
      const sel = [
        '.maplibregl-ctrl-zoom-in', '.maplibregl-ctrl-zoom-out', '#lang-toggle', '.tab:not([hidden])',
        '#layer-list label', '#search', '#coord-lon', '#coord-lat', '#coord-crs', '#coord-form button',
        '#card .card-close', '#card .card-expand', '#card a.call',
      ];
      for (const s of sel) {
        const els = [...document.querySelectorAll(s)].filter((e) => e.getClientRects().length);
        if (!els.length) out.push(`${s}: not found`);
        for (const e of els) {
          const r = e.getBoundingClientRect();
          if (r.height < 44 || r.width < 44) out.push(`${s} "${(e.textContent || e.getAttribute('aria-label') || '').trim().slice(0, 20)}": ${Math.round(r.width)}×${Math.round(r.height)}`);
        }
      }
      // a checkbox is tapped through its label: the label holds it
      for (const i of document.querySelectorAll('#layer-list input[type=checkbox]')) {
        if (!i.getClientRects().length) continue;
        const l = i.closest('label').getBoundingClientRect();
        if (l.height < 44) out.push(`checkbox ${i.dataset.layer}: label ${Math.round(l.height)} px tall`);
      }
      return out;
    });
    assert.deepEqual(small, []);
    const lt = await box(page, '#lang-toggle');
    const oneLine = await page.locator('#lang-toggle').evaluate((b) => {
      const r = document.createRange(); r.selectNodeContents(b);
      return r.getClientRects().length === 1;
    });
    assert.ok(oneLine, `the language button's label is on one line (${lt.width}×${lt.height})`);
    await page.screenshot({ path: join(ARTIFACTS, `tap-targets-phone-${lang}.png`) });
    assert.deepEqual(await problems(), []);
    await context.close();
  });
}

test('desktop: the card stays whole beside the map (no sheet)', async () => {
  const { page, context, problems } = await openAt(browser, DESKTOP, 'zh', { path: `/?lon=${block.point[0]}&lat=${block.point[1]}` });
  await page.locator('#card-block-head').waitFor({ timeout: 15000 });
  const card = await box(page, '#card');
  const map = await box(page, '#map');
  assert.ok(card.width < 400 && card.x + card.width <= map.x + map.width, 'a side card');
  assert.equal(await page.locator('.card-expand').isVisible(), false);
  assert.ok(await page.locator('#card-grid').isVisible());
  assert.ok(await page.locator('#card-block-head a.call[href^="tel:"]').isVisible());
  assert.deepEqual(await problems(), []);
  await context.close();
});
