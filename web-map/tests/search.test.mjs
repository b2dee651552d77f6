// issue 20, item 12: search finds what people type — pinyin and initials, partial codes,
// several terms, a pasted point (also in the coordinate fields, full-width, DMS), my location —
// as they type (stale answers dropped), at the phone and desktop viewports in zh and en.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, COMBOS, openPage, shot, settled, paste } from './issue20.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const options = (page) => page.locator('#search-results li[role="option"]');
const codesShown = (page) => page.$$eval('#search-results li[role="option"][data-code]', (els) => els.map((e) => e.dataset.code));

async function typeQuery(page, q) {
  await page.locator('#search').fill('');
  await page.locator('#search').pressSequentially(q, { delay: 20 });
  await page.waitForFunction((q) => document.querySelector('#search-results').dataset.query === q
    || !document.querySelector('#search-results').hidden && document.querySelector('#search-results li.r-point, #search-results li.r-here'), q, { timeout: 10000 });
}

const distanceM = ([a, b], [c, d]) => Math.hypot((a - c) * 111320 * Math.cos((b * Math.PI) / 180), (b - d) * 110540);
const centre = (page) => page.evaluate(() => { const c = window.gridatlas.map.getCenter(); return [c.lng, c.lat]; });

for (const { device, lang } of COMBOS) {
  test(`search as people type it (${device}, ${lang}): pinyin, initials, partial codes, several terms, stale answers dropped`, async () => {
    const { page, context, errors } = await openPage(browser, { device, lang });
    await page.locator('#search').scrollIntoViewIfNeeded();
    // the box is a combobox controlling a listbox of options
    assert.equal(await page.locator('#search').getAttribute('role'), 'combobox');
    assert.equal(await page.locator('#search-results').getAttribute('role'), 'listbox');

    await typeQuery(page, 'zhujing');
    assert.ok((await codesShown(page)).includes('310116101'), `zhujing → 朱泾镇: ${await codesShown(page)}`);
    assert.equal(await page.locator('#search').getAttribute('aria-expanded'), 'true');
    await typeQuery(page, 'zj');
    assert.ok((await codesShown(page)).includes('310116101'), 'zj → 朱泾镇');
    await typeQuery(page, '101001');
    assert.equal((await codesShown(page))[0], '310116101001', 'a part of a code: the grid 310116101001 first');
    await typeQuery(page, 'B07');
    const b07 = await codesShown(page);
    assert.equal(b07.length, 12);
    assert.ok(b07.every((c) => c.includes('B07')), b07.join());
    // more than shown: the total is said outside the listbox
    assert.match(await page.locator('#search-note').textContent(), /\d{3}/);
    await typeQuery(page, '东林 7');
    assert.equal((await codesShown(page))[0], '310116101001B07');
    await shot(page, `search-terms-${device}-${lang}`);

    // stale answers are dropped: the first query's answer arrives after the second's
    await page.route(/\/api\/v1\/areas\?q=lvxiang/, async (route) => { await new Promise((r) => setTimeout(r, 1500)); await route.continue(); });
    await page.locator('#search').fill('lvxiang');
    await page.waitForTimeout(350); // past the debounce: the slow request is on its way
    await typeQuery(page, '东林 7');
    await page.waitForTimeout(1800); // the slow answer has arrived meanwhile
    assert.equal(await page.locator('#search').inputValue(), '东林 7');
    assert.equal((await codesShown(page))[0], '310116101001B07', 'the older answer (吕巷) did not replace the list');

    // choosing the result opens the block's card
    await options(page).first().click();
    await page.locator('#card:not([hidden]) #card-title').first().waitFor({ timeout: 15000 });
    // the card may show its loading line first (a phone's sheet opens before the lookup answers)
    await page.waitForFunction(() => /东林居委第7责任块/.test(document.querySelector('#card')?.textContent ?? ''), null, { timeout: 15000 })
      .catch(() => {});
    assert.match(await page.locator('#card').textContent(), /东林居委第7责任块/);
    await settled(page);
    await shot(page, `search-chosen-${device}-${lang}`);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test(`a pasted point, full-width or DMS, goes to the point; the coordinate fields take them too (${device}, ${lang})`, async () => {
    const { page, context, errors } = await openPage(browser, { device, lang });
    const target = [121.164809, 30.890424];
    await paste(page, '#search', '121.164809,30.890424');
    await page.locator('#card:not([hidden]) #card-title').first().waitFor({ timeout: 15000 });
    await settled(page);
    const pin = await page.evaluate(() => window.gridatlas.marker?.getLngLat().toArray());
    assert.ok(pin && distanceM(pin, target) < 1, `the pin is at the point: ${pin}`);
    const view = await page.evaluate(() => window.gridatlas.map.getBounds().toArray().flat());
    assert.ok(view[0] < target[0] && target[0] < view[2] && view[1] < target[1] && target[1] < view[3], 'the point is in view');
    await shot(page, `search-paste-${device}-${lang}`);

    // typed in full width: an option for the point, Enter goes there
    await page.locator('#search').fill('');
    await typeQuery(page, '１２１．１７１２，３０．８９９６');
    assert.equal(await page.locator('#search-results li.r-point').count(), 1);
    await page.locator('#search').press('Enter');
    await page.waitForFunction(() => Math.abs(window.gridatlas.marker?.getLngLat().lng - 121.1712) < 1e-6, null, { timeout: 10000 });

    // degrees, minutes, seconds in the coordinate fields
    await page.locator('#coord-lon').scrollIntoViewIfNeeded();
    await page.locator('#coord-lon').fill(`121°9'53.3"E`);
    await page.locator('#coord-lat').fill(`30°53'25.5"N`);
    await page.locator('#coord-form button[type="submit"]').click();
    await page.waitForFunction(() => Math.abs(window.gridatlas.marker?.getLngLat().lng - (121 + 9 / 60 + 53.3 / 3600)) < 1e-6, null, { timeout: 10000 });
    assert.equal(await page.locator('#coord-error').isHidden(), true);
    // a whole point pasted into the longitude field fills both
    await page.locator('#coord-lon').fill('');
    await page.locator('#coord-lat').fill('');
    await paste(page, '#coord-lon', '１２１．１６４８０９，３０．８９０４２４');
    assert.equal(await page.locator('#coord-lon').inputValue(), '121.164809');
    assert.equal(await page.locator('#coord-lat').inputValue(), '30.890424');
    // a wrong one is said in the page's language
    await page.locator('#coord-lon').fill('121°75\'');
    await page.locator('#coord-form button[type="submit"]').click();
    assert.match(await page.locator('#coord-error').textContent(), lang === 'zh' ? /经纬度/ : /longitude/i);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test(`"我的位置" goes to the browser's position (${device}, ${lang})`, async () => {
    const here = [121.1712, 30.8996];
    const { page, context, errors } = await openPage(browser, {
      device, lang, contextOptions: { geolocation: { longitude: here[0], latitude: here[1], accuracy: 10 }, permissions: ['geolocation'] },
    });
    await page.locator('#locate-me').click();
    await page.waitForFunction(() => window.gridatlas.marker?.getLngLat(), null, { timeout: 10000 });
    const pin = await page.evaluate(() => window.gridatlas.marker.getLngLat().toArray());
    assert.ok(distanceM(pin, here) < 1, `pin at my location: ${pin}`);
    await page.locator('#card:not([hidden]) #card-title').first().waitFor({ timeout: 15000 });
    await settled(page);
    // in view on the map (the camera offsets it beside the side card or above the sheet, so it
    // need not be at the centre)
    const seen = await page.evaluate(([lon, lat]) => {
      const m = window.gridatlas.map;
      const p = m.project([lon, lat]);
      const c = m.getCanvas();
      return p.x > 0 && p.y > 0 && p.x < c.clientWidth && p.y < c.clientHeight;
    }, here);
    assert.ok(seen, 'my location is in view');
    // typed, too
    await page.evaluate(() => window.gridatlas.marker.remove());
    await typeQuery(page, lang === 'zh' ? '我的位置' : 'my location');
    assert.equal(await page.locator('#search-results li.r-here').count(), 1);
    await page.locator('#search-results li.r-here').click();
    await page.waitForFunction(() => window.gridatlas.marker?._map, null, { timeout: 10000 });
    await shot(page, `search-my-location-${device}-${lang}`);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test(`"我的位置" refused by the browser is said in the page's language (${device}, ${lang})`, async () => {
    const { page, context, errors } = await openPage(browser, { device, lang });
    await page.locator('#locate-me').click();
    await page.locator('#search-note:not([hidden])').waitFor({ timeout: 10000 });
    await page.waitForFunction(() => !/…/.test(document.querySelector('#search-note').textContent), null, { timeout: 20000 });
    assert.match(await page.locator('#search-note').textContent(), lang === 'zh' ? /定位/ : /location/i);
    assert.deepEqual(errors, []);
    await context.close();
  });
}
