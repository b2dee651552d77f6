// The asset layers of the map against the demo district: city components (部件) coloured by major
// class and clustered, shops under frontage duty (门责商户) coloured by standing. Off by default;
// switched on they load the view (by bbox, not when zoomed out: a hint says to zoom in); a click
// opens the component's or the shop's card; switched off nothing of them is drawn. At the desktop
// and the phone viewport, in Chinese, and once in English.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { launch, openMap, waitIdle, jumpTo, clickMapAt, getJSON, cspViolations, ARTIFACTS } from './helpers.mjs';

const VIEWPORTS = { desktop: { width: 1440, height: 900 }, phone: { width: 390, height: 844 } };
const COMPONENT_LAYERS = ['component-cluster', 'component-cluster-count', 'component-point'];
const SHOP_LAYERS = ['shop-point'];
// the words the card must show (kept here, not taken from i18n.js, so a wrong label fails)
const STATE_ZH = { intact: '完好', damaged: '破损', missing: '丢失', occupied: '占用', abandoned: '废弃' };
const STATE_EN = { intact: 'Intact', damaged: 'Damaged', missing: 'Missing', occupied: 'Occupied', abandoned: 'Abandoned' };
const LEVEL_ZH = { good: '良好', warned: '约谈', escalated: '移交城管' };
const CLASSES_ZH = ['公用设施', '道路交通', '市容环境', '园林绿化', '房屋土地', '其他设施', '扩展部件'];

let browser;
let component; // the first component of the register
let shop; // a shop facing a road segment, inspected (the demo escalates the first one it inspects)
let shopDetail;
let classes;
before(async () => {
  browser = await launch();
  component = (await getJSON('/api/v1/components?limit=1')).components[0];
  assert.ok(component, 'the demo district has components');
  const shops = (await getJSON('/api/v1/shops?limit=200')).shops;
  shop = shops.find((s) => s.frontage && s.standing.level !== 'good') || shops.find((s) => s.frontage);
  assert.ok(shop, 'the demo district has shops bound to a road segment');
  shopDetail = await getJSON(`/api/v1/shops/${encodeURIComponent(shop.id)}`);
  classes = await getJSON('/api/v1/component-classes');
});
after(async () => { await browser?.close(); });

/** The features of some layers drawn in the viewport, with their layer and properties. */
const rendered = (page, layers) => page.evaluate((ls) => window.gridatlas.map.queryRenderedFeatures({ layers: ls })
  .map((f) => ({ layer: f.layer.id, ...f.properties })), layers);

/** Waits until a move's load of the asset layer is over (and the map has drawn it). */
async function settled(page, key) {
  await page.waitForFunction((k) => {
    const a = window.gridatlas.assets;
    return !a.scheduled && ['ready', 'partial', 'zoom', 'error', 'off'].includes(a.status[k]);
  }, key, { timeout: 20000 });
  await waitIdle(page);
}

/** Records the requests of the asset API a page makes. */
function watchRequests(page, path) {
  const urls = [];
  page.on('request', (r) => { if (new URL(r.url()).pathname === path) urls.push(r.url()); });
  return urls;
}

for (const [name, viewport] of Object.entries(VIEWPORTS)) {
  test(`components (${name}): off by default, drawn by class for the view, card with code and owner, nothing drawn when off`, async () => {
    const { page, context, errors } = await openMap(browser, { viewport });
    const requests = watchRequests(page, '/api/v1/components');
    const input = page.locator('input[data-layer="components"]');
    assert.equal(await input.isChecked(), false, 'off by default');
    await jumpTo(page, [component.lon, component.lat], 18);
    assert.deepEqual(await rendered(page, COMPONENT_LAYERS), [], 'nothing drawn while off');
    assert.equal(await page.locator('#legend-components').isVisible(), false);

    await input.check();
    await settled(page, 'components');
    assert.equal(await page.evaluate(() => window.gridatlas.assets.status.components), 'ready');
    assert.ok(requests.length >= 1, 'the components in view were requested');
    // by the view's box: the component's place is inside it
    for (const u of requests) {
      const [w, s, e, n] = new URL(u).searchParams.get('bbox').split(',').map(Number);
      assert.ok(w < component.lon && component.lon < e && s < component.lat && component.lat < n, `bbox of ${u} holds the view`);
      assert.ok(e - w < 0.05, `a view-sized bbox, not the district (${u})`);
    }
    const feats = await rendered(page, ['component-point']);
    const mine = feats.find((f) => f.code === component.code);
    assert.ok(mine, `component ${component.code} is drawn (${feats.length} drawn)`);
    assert.equal(mine.cls, component.code.slice(6, 8), 'coloured by its major class');

    // the legend names the seven classes, in the colours the map draws them with
    const legend = page.locator('#legend-components');
    await legend.scrollIntoViewIfNeeded();
    assert.ok(await legend.isVisible(), 'the legend is shown with the layer');
    const legendText = await legend.textContent();
    for (const c of CLASSES_ZH) assert.ok(legendText.includes(c), `legend names ${c}`);
    const swatches = await page.evaluate(() => [...document.querySelectorAll('#legend-components .swatch')]
      .map((el) => getComputedStyle(el).backgroundColor));
    const drawnColors = await page.evaluate(() => {
      const m = window.gridatlas.map;
      const expr = m.getPaintProperty('component-point', 'circle-color');
      const out = {};
      for (let i = 2; i + 1 < expr.length; i += 2) out[expr[i]] = expr[i + 1];
      return out;
    });
    const hex = (rgb) => `#${rgb.match(/\d+/g).slice(0, 3).map((v) => Number(v).toString(16).padStart(2, '0')).join('')}`;
    assert.deepEqual(swatches.map(hex), ['01', '02', '03', '04', '05', '06', '07'].map((c) => drawnColors[c]), 'legend colours = map colours');

    // a click on it opens its card: code, class, owner, maintainer, state, grid and block
    await clickMapAt(page, [component.lon, component.lat]);
    await page.locator('#card-component-code').waitFor({ timeout: 10000 });
    assert.equal((await page.locator('#card-component-code').textContent()).trim(), component.code);
    assert.equal((await page.locator('#card-component-owner').textContent()).trim(), component.owner);
    if (component.maintainer) assert.equal((await page.locator('#card-component-maintainer').textContent()).trim(), component.maintainer);
    assert.equal((await page.locator('#card-component-state').textContent()).trim(), STATE_ZH[component.state]);
    const cls = await page.locator('#card-component-class').textContent();
    assert.ok(cls.includes(component.class_name) && cls.includes(component.subclass_name), `class and subclass: ${cls}`);
    if (component.grid) assert.ok((await page.locator('#card-component-grid').textContent()).includes(component.grid.name));
    if (component.block) assert.ok((await page.locator('#card-component-block').textContent()).includes(component.block.name));
    assert.equal(await page.locator('#card-block-head').count(), 0, 'the component card, not the place lookup');
    assert.equal(await page.evaluate(() => window.gridatlas.map.getFilter('component-selected')[2]), component.code, 'the component is marked');
    await page.screenshot({ path: join(ARTIFACTS, `components-${name}.png`) });

    // off: nothing of it is drawn, its card closes
    await input.uncheck();
    await waitIdle(page);
    assert.deepEqual(await rendered(page, [...COMPONENT_LAYERS, 'component-selected']), []);
    assert.equal(await page.locator('#card').isVisible(), false);
    assert.equal(await page.locator('#legend-components').isVisible(), false);
    assert.deepEqual(await cspViolations(page), []);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test(`shops (${name}): drawn by standing for the view, card with name, frontage, standing and inspections, nothing drawn when off`, async () => {
    const { page, context, errors } = await openMap(browser, { viewport });
    const requests = watchRequests(page, '/api/v1/shops');
    const input = page.locator('input[data-layer="shops"]');
    assert.equal(await input.isChecked(), false, 'off by default');
    await jumpTo(page, shop.anchor, 18);
    assert.deepEqual(await rendered(page, SHOP_LAYERS), [], 'nothing drawn while off');

    await input.check();
    await settled(page, 'shops');
    assert.equal(await page.evaluate(() => window.gridatlas.assets.status.shops), 'ready');
    assert.ok(requests.length >= 1 && requests.every((u) => new URL(u).searchParams.has('bbox')), 'the shops in view were requested by bbox');
    const feats = await rendered(page, SHOP_LAYERS);
    const mine = feats.find((f) => f.id === shop.id);
    assert.ok(mine, `shop ${shop.id} is drawn (${feats.length} drawn)`);
    assert.equal(mine.level, shop.standing.level, 'coloured by its standing');
    const legend = page.locator('#legend-shops');
    await legend.scrollIntoViewIfNeeded();
    assert.match(await legend.textContent(), /良好[\s\S]*约谈[\s\S]*移交城管/);

    await clickMapAt(page, shop.anchor);
    // on a phone the card opens small (a bottom sheet with the standing): expanded for the rest
    if (name === 'phone') {
      await page.locator('#card-shop-standing').waitFor({ timeout: 10000 });
      await page.locator('.card-expand').click();
    }
    await page.locator('#card-shop-inspections').waitFor({ timeout: 10000 });
    assert.equal((await page.locator('#card-title').textContent()).trim(), shop.name);
    assert.equal((await page.locator('#card-shop-level').textContent()).trim(), LEVEL_ZH[shop.standing.level]);
    assert.ok((await page.locator('#card-shop-standing').textContent()).includes(`${shop.standing.points_in_window} 分`), 'the points are shown');
    if (shop.credit_code) assert.equal((await page.locator('#card-shop-credit').textContent()).trim(), shop.credit_code);
    assert.equal((await page.locator('#card-shop-pledge').textContent()).trim(), shop.pledge_signed ?? '未签订');
    const frontage = await page.locator('#card-shop-frontage').textContent();
    assert.ok(frontage.includes(shop.segment_name ?? shop.frontage.segment), `frontage segment: ${frontage}`);
    assert.ok(frontage.includes(`${Math.round(shop.frontage.distance_m)} 米`), `frontage distance: ${frontage}`);
    if (shop.block) assert.ok((await page.locator('#card-shop-block').textContent()).includes(shop.block.name));
    // its inspections (from GET /api/v1/shops/{id}), newest first
    const list = page.locator('#card-shop-inspections');
    assert.equal(Number(await list.getAttribute('data-count')), shopDetail.inspections.length);
    if (shopDetail.inspections.length) {
      const newest = shopDetail.inspections.map((i) => i.date).sort().at(-1);
      assert.equal((await list.locator('.i-date').first().textContent()).trim(), newest);
      const failed = shopDetail.inspections.flatMap((i) => i.items.filter((x) => !x.passed).map((x) => x.item));
      if (failed.length) assert.ok((await list.textContent()).includes(failed[0]), 'failed items are named');
    }
    assert.equal(await page.evaluate(() => window.gridatlas.map.getFilter('shop-selected')[2]), shop.id, 'the shop is marked');
    await page.screenshot({ path: join(ARTIFACTS, `shops-${name}.png`) });

    await input.uncheck();
    await waitIdle(page);
    assert.deepEqual(await rendered(page, [...SHOP_LAYERS, 'shop-selected']), []);
    assert.equal(await page.locator('#card').isVisible(), false);
    assert.deepEqual(await cspViolations(page), []);
    assert.deepEqual(errors, []);
    await context.close();
  });
}

test('components are not loaded zoomed out (a hint says to zoom in) and cluster at low zoom', async () => {
  const { page, context, errors } = await openMap(browser);
  const requests = watchRequests(page, '/api/v1/components');
  await jumpTo(page, [component.lon, component.lat], 11);
  await page.locator('input[data-layer="components"]').check();
  await settled(page, 'components');
  const hint = page.locator('#asset-hint');
  assert.ok(await hint.isVisible(), 'the hint is shown');
  assert.equal((await hint.textContent()).trim(), '放大以查看部件');
  assert.equal(requests.length, 0, 'nothing requested at zoom 11');
  assert.deepEqual(await rendered(page, COMPONENT_LAYERS), []);

  // zoom 13.5: loaded, drawn as clusters with counts; the hint is gone
  await jumpTo(page, [component.lon, component.lat], 13.5);
  await settled(page, 'components');
  assert.equal(await hint.isVisible(), false);
  assert.ok(requests.length >= 1);
  const clusters = await rendered(page, ['component-cluster']);
  assert.ok(clusters.length > 0, 'clusters drawn at zoom 13.5');
  const total = await page.evaluate(() => window.gridatlas.assets.components.size);
  assert.ok(clusters.some((c) => c.point_count > 1) && clusters.every((c) => c.point_count <= total), 'clusters count the loaded components');
  // a click on a cluster zooms in
  const nearest = await page.evaluate(() => {
    const m = window.gridatlas.map;
    const c = m.project(m.getCenter());
    const d = (f) => { const p = m.project(f.geometry.coordinates); return Math.hypot(p.x - c.x, p.y - c.y); };
    const fs = m.queryRenderedFeatures({ layers: ['component-cluster'] }).sort((a, b) => d(a) - d(b));
    return fs[0].geometry.coordinates;
  });
  await clickMapAt(page, nearest);
  await page.waitForFunction(() => window.gridatlas.map.getZoom() > 13.6, null, { timeout: 5000 });
  await settled(page, 'components');
  // at zoom 17 single components, no clusters
  await jumpTo(page, [component.lon, component.lat], 17);
  await settled(page, 'components');
  assert.deepEqual(await rendered(page, ['component-cluster']), []);
  assert.ok((await rendered(page, ['component-point'])).length > 0);
  // zoomed out again: nothing drawn, the hint again
  const before = requests.length;
  await jumpTo(page, [component.lon, component.lat], 12);
  await settled(page, 'components');
  assert.deepEqual(await rendered(page, COMPONENT_LAYERS), []);
  assert.ok(await hint.isVisible());
  assert.equal(requests.length, before, 'nothing requested at zoom 12');
  assert.deepEqual(errors, []);
  await context.close();
});

test('both layers in English: legend, component card from the class table, shop standing', async () => {
  const { page, context, errors } = await openMap(browser, { lang: 'en', query: '?lang=en' });
  await jumpTo(page, [component.lon, component.lat], 18);
  await page.locator('input[data-layer="components"]').check();
  await page.locator('input[data-layer="shops"]').check();
  await settled(page, 'components');
  await settled(page, 'shops');
  assert.match(await page.locator('#legend-components').textContent(), /Public utilities[\s\S]*Extended components/);
  assert.match(await page.locator('#legend-shops').textContent(), /Good[\s\S]*Warned[\s\S]*Escalated/);
  await clickMapAt(page, [component.lon, component.lat]);
  await page.locator('#card-component-code').waitFor({ timeout: 10000 });
  const major = classes.classes.find((c) => c.code === component.code.slice(6, 8));
  const minor = major.subclasses.find((c) => c.code === component.code.slice(8, 10));
  await page.waitForFunction((n) => document.querySelector('#card-component-class')?.textContent.includes(n), minor.name_en, { timeout: 5000 });
  assert.ok((await page.locator('#card-component-class').textContent()).includes(major.name_en));
  assert.equal((await page.locator('#card-component-state').textContent()).trim(), STATE_EN[component.state]);
  assert.match(await page.locator('#card-component').textContent(), /Owner/);
  // switching to Chinese re-labels the open card
  await page.locator('#lang-toggle').click();
  assert.equal((await page.locator('#card-component-state').textContent()).trim(), STATE_ZH[component.state]);
  assert.match(await page.locator('#card-component').textContent(), /权属单位/);
  await page.locator('#lang-toggle').click();
  // the shop, with the component layer on too
  await jumpTo(page, shop.anchor, 18);
  await settled(page, 'components');
  await settled(page, 'shops');
  await clickMapAt(page, shop.anchor);
  await page.locator('#card-shop-inspections').waitFor({ timeout: 10000 });
  assert.equal((await page.locator('#card-title').textContent()).trim(), shop.name);
  const levelEn = { good: /Good/, warned: /Warned/, escalated: /Escalated/ }[shop.standing.level];
  assert.match(await page.locator('#card-shop-level').textContent(), levelEn);
  assert.match(await page.locator('#card-shop-standing').textContent(), new RegExp(`${shop.standing.points_in_window} points`));
  assert.deepEqual(errors, []);
  await context.close();
});
