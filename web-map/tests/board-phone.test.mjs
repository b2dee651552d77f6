// Issue 20, item 3: the public board on a phone (390×844, touch) is the same content in one
// column — the title whole, nothing off the screen sideways — and every phone number on it (the
// block heads', the organisation chart's, the station's, the 12345 hotline) is a tel: link, at
// the desk's viewport too (where the board is still the A3 sheet), in Chinese and in English.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { launch, knownBlock, getJSON, ARTIFACTS } from './helpers.mjs';
import { PHONE, DESKTOP, LANGS, openAt } from './viewports.mjs';

let browser;
let grid;
let blocks;
before(async () => {
  browser = await launch();
  const block = await knownBlock();
  grid = await getJSON(`/api/v1/areas/${block.parent}`);
  blocks = (await getJSON(`/api/v1/areas/${grid.code}/children`)).items.filter((b) => b.layer === 'block');
});
after(async () => { await browser?.close(); });

async function openBoard(view, lang) {
  const r = await openAt(browser, view, lang, { path: `/board.html?grid=${grid.code}`, map: false, allowFailed: /$^/ });
  await r.page.waitForFunction(() => document.body.dataset.boardReady === '1', null, { timeout: 30000 });
  return r;
}

/** Every phone number of the grid's people and block heads, and the hotline, as tel: links. */
async function assertTelLinks(page) {
  const hrefs = await page.$$eval('#board a[href^="tel:"]', (as) => as.map((a) => a.getAttribute('href')));
  const want = new Set(['tel:12345']);
  for (const p of grid.people) if (p.phone) want.add(`tel:${p.phone}`);
  for (const b of blocks) {
    const h = (b.people || []).find((p) => p.role === 'block_head') || (b.people || [])[0];
    if (h?.phone) want.add(`tel:${h.phone}`);
  }
  for (const w of want) assert.ok(hrefs.includes(w), `${w} is a link (links: ${hrefs.length})`);
  // and no phone number shown as plain text
  const plain = await page.$$eval('#board .tel, #board .ot, #board-station-phone, #board-hotline', (els) => els.filter((e) => e.textContent.trim() && e.textContent.trim() !== '—' && !e.querySelector('a[href^="tel:"]')).map((e) => e.textContent));
  assert.deepEqual(plain, []);
}

for (const lang of LANGS) {
  test(`phone ${lang}: the board fits the screen in one column, the title whole, numbers to call`, async () => {
    const { page, context, problems } = await openBoard(PHONE, lang);
    const width = PHONE.viewport.width;
    const overflow = await page.evaluate(() => ({ doc: document.documentElement.scrollWidth, body: document.body.scrollWidth }));
    assert.ok(overflow.doc <= width && overflow.body <= width, `no sideways scrolling: ${JSON.stringify(overflow)}`);
    const title = page.locator('#board-title');
    const tb = await title.boundingBox();
    assert.ok(tb.x >= 0 && tb.x + tb.width <= width, `the title inside the screen: ${JSON.stringify(tb)}`);
    assert.ok(await title.evaluate((h) => h.scrollWidth <= h.clientWidth + 1), 'the title is not cut');
    assert.equal((await title.textContent()).trim(), grid.name);
    // one column: the map, the blocks, the organisation, the tasks, the contacts one under another
    const secs = await page.$$eval('#board .b-sec', (els) => els.map((e) => { const r = e.getBoundingClientRect(); return { x: r.x, y: r.y, w: r.width }; }));
    assert.ok(secs.length >= 5, `${secs.length} sections`);
    for (let i = 1; i < secs.length; i += 1) {
      assert.ok(secs[i].y >= secs[i - 1].y + 10, `section ${i} under section ${i - 1}`);
      assert.ok(secs[i].x + secs[i].w <= width + 0.5, `section ${i} inside the screen`);
    }
    // every element inside the screen's width
    const wide = await page.$$eval('#board *', (els, w) => els.filter((e) => e.getBoundingClientRect().right > w + 0.5 && e.getClientRects().length).map((e) => `${e.tagName}.${e.className}`).slice(0, 5), width);
    assert.deepEqual(wide, []);
    // the same content: every block with its number and head
    assert.equal(await page.locator('.b-block').count(), blocks.length);
    await assertTelLinks(page);
    // the links are big enough to tap
    const small = await page.$$eval('#board a[href^="tel:"]', (as) => as.filter((a) => a.getBoundingClientRect().height < 44).map((a) => a.textContent));
    assert.deepEqual(small, []);
    await page.screenshot({ path: join(ARTIFACTS, `board-phone-${lang}.png`), fullPage: true });
    assert.deepEqual(await problems(), []);
    await context.close();
  });

  test(`desktop ${lang}: the board is still the A3 sheet, its numbers tel: links`, async () => {
    const { page, context, problems } = await openBoard(DESKTOP, lang);
    const sheet = await page.locator('#board').boundingBox();
    assert.ok(Math.abs(sheet.width - (297 * 96) / 25.4) < 2, `A3 width: ${sheet.width}`);
    await assertTelLinks(page);
    assert.deepEqual(await problems(), []);
    await context.close();
  });
}
