// issue 20, item 14: axe-core on every page people use — the map (phone and desktop, zh and en,
// with search results and a card open), the public board, the portal desk, the phone page and
// the monthly report — failing on any serious or critical violation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { launch, COMBOS, openPage, shot } from './issue20.mjs';
import { required, MOCK } from './helpers.mjs';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** The serious and critical violations on the page, one line each (rule, impact, elements). */
async function violations(page) {
  // axe is injected as a script: the pages' CSP (script-src 'self') is bypassed in these contexts only
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.addScriptTag({ path: AXE });
  const res = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  // axe did look: many rules applied to the page (passed or not)
  assert.ok(res.passes.length + res.violations.length >= 15, `axe applied ${res.passes.length + res.violations.length} rules`);
  return res.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.slice(0, 5).map((n) => n.target.join(' ')).join(' | ')}${v.nodes.length > 5 ? ` (+${v.nodes.length - 5})` : ''}`);
}

const opts = (extra = {}) => ({ contextOptions: { bypassCSP: true, ...extra } });

for (const { device, lang } of COMBOS) {
  test(`the map has no serious or critical accessibility violation (${device}, ${lang}): at rest, with search results, with a card`, async () => {
    const { page, context, errors } = await openPage(browser, { device, lang, ...opts() });
    assert.deepEqual(await violations(page), [], 'at rest');
    await page.locator('#search').fill('东林');
    await page.locator('#search-results li[role="option"]').first().waitFor({ timeout: 10000 });
    await page.locator('#search-note:not([hidden])').waitFor({ timeout: 10000 }); // the totals line
    assert.deepEqual(await violations(page), [], 'with search results and the totals line');
    await shot(page, `a11y-map-search-${device}-${lang}`);
    await page.locator('#search-results li[role="option"]').first().click();
    await page.locator('#card:not([hidden]) #card-title').waitFor({ timeout: 15000 });
    assert.deepEqual(await violations(page), [], 'with a card');
    // the check can fail: an option outside a listbox (what the results list was) is found
    await page.evaluate(() => document.body.insertAdjacentHTML('beforeend', '<ul id="axe-control"><li role="option">x</li></ul>'));
    assert.ok((await violations(page)).some((v) => /aria-required-parent/.test(v)), 'axe finds an option without a listbox');
    await page.evaluate(() => document.querySelector('#axe-control').remove());
    await shot(page, `a11y-map-card-${device}-${lang}`);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test(`the public board has no serious or critical accessibility violation (${device}, ${lang})`, async () => {
    const { page, context, errors } = await openPage(browser, { device, lang, path: `/board.html?grid=310116101001&lang=${lang}`, ...opts() });
    await page.waitForFunction(() => document.body.dataset.ready === '1' || document.querySelector('#board-title')?.textContent.trim(), null, { timeout: 20000 });
    await page.waitForLoadState('networkidle');
    assert.deepEqual(await violations(page), []);
    await shot(page, `a11y-board-${device}-${lang}`);
    assert.deepEqual(errors, []);
    await context.close();
  });
}

for (const lang of ['zh', 'en']) {
  test(`the portal desk and the monthly report have no serious or critical accessibility violation (desktop, ${lang})`, { skip: MOCK && 'the mock server has no desk' }, async () => {
    const token = required(process.env.GRIDATLAS_DISPATCHER_TOKEN, 'a dispatcher token of street 310116001 in GRIDATLAS_DISPATCHER_TOKEN');
    const pages = [
      [`/portal?street=310116001#token=${token}`, () => document.body.dataset.live === 'ready' && document.body.dataset.map === 'ready'],
      [`/report?street=310116001#token=${token}`, () => document.body.dataset.ready === '1'],
    ];
    for (const [path, ready] of pages) {
      const { page, context, errors } = await openPage(browser, { device: 'desktop', lang, path, map: false, ...opts() });
      await page.waitForFunction(ready, null, { timeout: 30000 });
      assert.deepEqual(await violations(page), [], path.split('#')[0]);
      await shot(page, `a11y-${path.slice(1).split('?')[0]}-desktop-${lang}`);
      assert.deepEqual(errors, []);
      await context.close();
    }
  });

  test(`the phone page has no serious or critical accessibility violation (phone, ${lang})`, { skip: MOCK && 'the mock server has no field force' }, async () => {
    const token = required(process.env.GRIDATLAS_WORKER_TOKEN, 'a grid worker token in GRIDATLAS_WORKER_TOKEN');
    const { page, context, errors } = await openPage(browser, {
      device: 'phone', lang, path: `/m#token=${token}`, map: false,
      ...opts({ permissions: ['geolocation'], geolocation: { longitude: 121.34, latitude: 30.71, accuracy: 10 } }),
    });
    await page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: 30000 });
    assert.deepEqual(await violations(page), []);
    await shot(page, `a11y-m-phone-${lang}`);
    assert.deepEqual(errors, []);
    await context.close();
  });
}
