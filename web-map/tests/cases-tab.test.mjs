// Issue 20, items 2 and 11: the cases tab (案件受理) at the phone and the desktop viewport, in
// Chinese and in English. A place is used for one case: submitting again asks for a new place;
// a new case near the last one of the same category is asked about before it is sent; a failed
// submission leaves no earlier success under the error; the answer follows the language; the
// case's pin is not hidden under the lookup's. Needs an intake token (GRIDATLAS_INTAKE_TOKEN).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { launch, knownBlock, required, ARTIFACTS } from './helpers.mjs';
import { VIEWS, LANGS, openAt, settle } from './viewports.mjs';

let TOKEN = '';
let browser;
let block;
before(async () => {
  TOKEN = required(process.env.GRIDATLAS_INTAKE_TOKEN, 'an intake token in GRIDATLAS_INTAKE_TOKEN');
  browser = await launch();
  block = await knownBlock();
});
after(async () => { await browser?.close(); });

const WORDS = {
  zh: { needPlace: '请先在地图上点击位置', routed: /^案件 #(\d+) 已派送$/, routedOther: /^Case #\d+ routed$/, noPlace: '请在地图上点击位置', failed: /失败|令牌|token/i },
  en: { needPlace: 'Click a place on the map first', routed: /^Case #(\d+) routed$/, routedOther: /^案件 #\d+ 已派送$/, noPlace: 'Click a place on the map', failed: /failed|token/i },
};

/**
 * Taps (phone) or clicks (desktop) the map where a lon/lat is drawn, once the map has settled, and
 * waits until the form shows the place chosen. The spot must show the map itself (not the sheet,
 * a card or an earlier case's pin: a tap there chooses nothing, rightly). A tap the browser turns
 * into no click at all (a touch taken for a long press on a loaded machine) is tried once more;
 * a second miss fails.
 */
async function tapMap(page, view, [lon, lat]) {
  for (let attempt = 1; ; attempt += 1) {
    await settle(page);
    const at = await page.evaluate(({ lon, lat }) => {
      const m = window.gridatlas.map; const p = m.project([lon, lat]); const r = m.getCanvas().getBoundingClientRect();
      const x = r.left + p.x, y = r.top + p.y;
      const el = document.elementFromPoint(x, y);
      const over = el && el !== m.getCanvas() ? `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}.${[...(el.closest('[class]')?.classList || [])].join('.')}` : null;
      return { x, y, over };
    }, { lon, lat });
    assert.equal(at.over, null, `the map is covered where ${lon}, ${lat} is drawn (${at.x}, ${at.y})`);
    if (view.hasTouch) await page.touchscreen.tap(at.x, at.y); else await page.mouse.click(at.x, at.y);
    try {
      await page.waitForFunction(() => /\d+\.\d+, *\d+\.\d+/.test(document.querySelector('#intake-place')?.textContent || ''), null, { timeout: 5000 });
      return at;
    } catch (e) {
      if (attempt >= 2) throw e;
      console.error(`tapMap ${view.name}: the tap at ${lon}, ${lat} chose no place; once more`);
    }
  }
}

for (const view of VIEWS) {
  for (const lang of LANGS) {
    test(`${view.name} ${lang}: one case per chosen place, a warning before a repeat, no stale success, answers in the page's language`, async () => {
      const w = WORDS[lang];
      const { page, context, problems } = await openAt(browser, view, lang);
      const posts = [];
      page.on('request', (r) => { if (r.method() === 'POST' && /\/api\/v1\/cases$/.test(r.url())) posts.push(r.url()); });
      await page.locator('#tab-intake').click();
      await page.locator('#intake-token').fill(TOKEN);
      await page.locator('#intake-token').dispatchEvent('change');
      // the map's middle third (above the sheet on a phone) shows the block
      await page.evaluate(([lon, lat]) => {
        const m = window.gridatlas.map;
        m.jumpTo({ center: [lon, lat], zoom: 17, offset: [0, -m.getContainer().clientHeight / 6] });
      }, block.point);
      await settle(page);
      const at = await tapMap(page, view, block.point);
      await page.locator('#card-block-head').waitFor({ timeout: 15000 });
      // the case's pin is the one seen where the place was tapped (no lookup pin over it)
      assert.equal(await page.locator('.maplibregl-marker.pin:not(.case-place)').count(), 0, 'no lookup pin in the cases tab');
      const onTop = await page.evaluate(({ x, y }) => !!document.elementFromPoint(x, y - 12)?.closest('.case-place'), at);
      assert.ok(onTop, 'the case pin is on top at the place');
      await page.locator('#intake-category').selectOption({ index: 0 });
      await page.locator('#intake-description').fill(`测试 ${view.name} ${lang}`);
      await page.locator('#intake-submit').click();
      await page.locator('#intake-result').waitFor({ timeout: 15000 });
      const first = (await page.locator('#intake-result h3').textContent()).trim();
      const id = first.match(w.routed)?.[1];
      assert.ok(id, `routed: ${first}`);
      assert.match(await page.locator('#intake-result').textContent(), new RegExp(block.head.name));
      assert.equal(posts.length, 1);
      // the place was used: the form asks for a new one, and a second press sends nothing
      assert.equal((await page.locator('#intake-place').textContent()).trim(), w.noPlace);
      await page.locator('#intake-submit').click();
      assert.equal((await page.locator('#intake-status').textContent()).trim(), w.needPlace);
      assert.equal(posts.length, 1, 'no case for a place not chosen again');
      // the result follows the language, and back
      await page.locator('#lang-toggle').click();
      assert.match((await page.locator('#intake-result h3').textContent()).trim(), w.routedOther);
      await page.locator('#lang-toggle').click();
      assert.match((await page.locator('#intake-result h3').textContent()).trim(), w.routed);
      // a place chosen again a few metres away, same category: a warning naming the case first
      // (28 m east: clear of the first case's pin, which stands above its place)
      await tapMap(page, view, [block.point[0] + 0.0003, block.point[1]]);
      await page.locator('#intake-submit').click();
      const warn = page.locator('#intake-repeat');
      await warn.waitFor({ timeout: 5000 });
      assert.match(await warn.textContent(), new RegExp(`#${id}`));
      assert.equal(posts.length, 1, 'nothing sent before the answer');
      await page.screenshot({ path: join(ARTIFACTS, `cases-repeat-${view.name}-${lang}.png`) });
      await page.locator('#intake-repeat-cancel').click();
      assert.equal(await warn.isVisible(), false);
      assert.equal(posts.length, 1);
      await page.locator('#intake-submit').click();
      await warn.waitFor();
      await page.locator('#intake-repeat-confirm').click();
      await page.waitForFunction((old) => (document.querySelector('#intake-result h3')?.textContent || '').trim() !== old && !document.querySelector('#intake-result').hidden, first, { timeout: 15000 });
      assert.equal(posts.length, 2, 'sent when confirmed');
      // a failed submission: the error, and no earlier success under it
      await page.locator('#intake-token').fill('0'.repeat(64));
      await page.locator('#intake-token').dispatchEvent('change');
      // (south of both: the pins stand above their places)
      await tapMap(page, view, [block.point[0], block.point[1] - 0.0002]);
      // (another kind of problem: no repeat to ask about)
      await page.locator('#intake-category').selectOption({ index: 1 });
      await page.locator('#intake-description').fill(`另一个问题 ${view.name} ${lang}`);
      await page.locator('#intake-submit').click();
      await page.waitForFunction(() => document.querySelector('#intake-status').classList.contains('error'), null, { timeout: 15000 });
      assert.equal(await page.locator('#intake-result').isVisible(), false, 'the earlier success is gone');
      assert.equal(posts.length, 3);
      await page.screenshot({ path: join(ARTIFACTS, `cases-failed-${view.name}-${lang}.png`) });
      // (the 401 of the refused token is the one failed request expected)
      assert.deepEqual((await problems()).filter((p) => !/^HTTP 40[13] .*\/api\/v1\/cases$/.test(p)), []);
      await context.close();
    });
  }
}
