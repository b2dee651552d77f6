// The public board (宣传版面) of one resident grid: map with numbered blocks, organisation chart,
// task list and reporting contacts; the shops under frontage duty (门责商户) of a grid that has
// them, against GET /api/v1/shops?area=, and a failed load of them; screenshots and A3 PDFs saved
// as artifacts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { launch, knownBlock, getJSON, watchCsp, cspViolations, BASE, ARTIFACTS } from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('the public board of a resident grid shows blocks, people, tasks and contacts, and prints on one A3 page', async () => {
  const block = await knownBlock();
  const gridCode = block.parent;
  const grid = await getJSON(`/api/v1/areas/${encodeURIComponent(gridCode)}`);
  const children = (await getJSON(`/api/v1/areas/${encodeURIComponent(gridCode)}/children`)).items.filter((c) => !c.layer || c.layer === 'block');
  const context = await browser.newContext({ viewport: { width: 1200, height: 1650 } });
  await watchCsp(context);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  const response = await page.goto(`${BASE}/board.html?grid=${encodeURIComponent(gridCode)}`);
  // served under the web map's policy (the board renders and prints under it: asserted below)
  assert.match(response.headers()['content-security-policy'] || '', /default-src 'self'/);
  await page.waitForFunction(() => document.body.dataset.boardReady === '1', null, { timeout: 20000 });
  assert.equal((await page.locator('#board-title').textContent()).trim(), grid.name);
  // one numbered block on the map and in the list per child block
  assert.equal(await page.locator('#board-map .blk-label').count(), children.length);
  assert.equal(await page.locator('.b-block').count(), children.length);
  assert.match(await page.locator(`.b-block[data-code="${block.code}"]`).textContent(), new RegExp(block.head.name));
  const station = (grid.people || []).find((p) => p.role === 'station_head');
  if (station) assert.match(await page.locator('#board-org').textContent(), new RegExp(station.name));
  assert.ok(await page.locator('#board-tasks').count() === 1);
  assert.match(await page.locator('.b-report').textContent(), /12345/);
  // the shops' section is there (with shops or saying there are none), below the rest
  assert.equal(await page.locator('#board-shops h2').count(), 1);
  await assertNoOverlap(page);
  assert.deepEqual(errors, []);
  await page.screenshot({ path: join(ARTIFACTS, 'board.png'), fullPage: true });
  const pdf = await page.pdf({ path: join(ARTIFACTS, 'board.pdf'), preferCSSPageSize: true, printBackground: true });
  const pages = (pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) || []).length;
  assert.equal(pages, 1, 'the board prints on one A3 page');
  assert.deepEqual(await cspViolations(page), [], 'no Content-Security-Policy violation on screen or in print');
  assert.deepEqual(errors, []);
  const box = pdf.toString('latin1').match(/\/MediaBox\s*\[0 0 ([\d.]+) ([\d.]+)\]/);
  assert.ok(box && Math.abs(box[1] - 841.9) < 2 && Math.abs(box[2] - 1190.6) < 2, `A3 paper (297 × 420 mm), got ${box?.[0]}`);
  await context.close();
});

// All shops of an area from the API, page after page (as the board reads them).
async function shopsOf(code) {
  const shops = [];
  let after = '';
  for (;;) {
    const page = await getJSON(`/api/v1/shops?area=${encodeURIComponent(code)}&limit=1000${after ? `&after=${encodeURIComponent(after)}` : ''}`);
    shops.push(...page.shops);
    if (!page.next_after) return shops;
    after = page.next_after;
  }
}

async function openBoard(context, code, lang = 'zh') {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error' && !/^Failed to load resource/.test(m.text())) errors.push(m.text()); });
  await page.goto(`${BASE}/board.html?grid=${encodeURIComponent(code)}&lang=${lang}`);
  await page.waitForFunction(() => document.body.dataset.boardReady === '1', null, { timeout: 20000 });
  return { page, errors };
}

/** Nothing of the rows above runs into the shops' section (a long task list, a tall chart). */
async function assertNoOverlap(page) {
  const top = (await page.locator('#board-shops').boundingBox()).y;
  for (const sel of ['#board-org', '#board-tasks', '.b-report']) {
    const box = await page.locator(sel).boundingBox();
    assert.ok(box.y + box.height <= top + 1, `${sel} ends above the shops' section (${box.y + box.height} > ${top})`);
  }
}

const LEVEL = { zh: { good: '良好', warned: '约谈', escalated: '移交城管' }, en: { good: 'Good', warned: 'Warned', escalated: 'Escalated' } };

test('the board lists the grid\'s shops under frontage duty by road segment, with pledge and level, in both languages, on one A3 page', async () => {
  // the grid with the most shops on the first page of the register
  const byGrid = {};
  for (const s of (await getJSON('/api/v1/shops?limit=1000')).shops) if (s.grid) byGrid[s.grid.code] = (byGrid[s.grid.code] || 0) + 1;
  const gridCode = Object.entries(byGrid).sort((a, b) => b[1] - a[1])[0]?.[0];
  assert.ok(gridCode, 'the demo district has shops in a grid');
  const shops = await shopsOf(gridCode);
  assert.ok(shops.length > 0, `grid ${gridCode} has shops by area=`);
  const signed = shops.filter((s) => s.pledge_signed).length;
  const bySegment = new Map();
  for (const s of shops) {
    const k = s.frontage?.segment ?? '';
    if (!bySegment.has(k)) bySegment.set(k, []);
    bySegment.get(k).push(s);
  }

  const context = await browser.newContext({ viewport: { width: 1200, height: 1650 } });
  await watchCsp(context);
  // small pages, so that the board has to follow `next_after`
  const requests = [];
  await context.route('**/api/v1/shops?*', (route) => {
    const url = new URL(route.request().url());
    requests.push(url.search);
    url.searchParams.set('limit', '7');
    return route.continue({ url: url.href });
  });
  const { page, errors } = await openBoard(context, gridCode);
  assert.ok(requests.length >= Math.ceil(shops.length / 7), `the board read every page (${requests.length} requests)`);
  assert.ok(requests.every((q) => new URLSearchParams(q).get('area') === gridCode));

  const section = page.locator('#board-shops');
  assert.equal((await section.locator('h2').textContent()).trim(), '门责商户');
  assert.equal(Number(await section.getAttribute('data-total')), shops.length);
  assert.equal(Number(await section.getAttribute('data-signed')), signed);
  assert.equal((await page.locator('#board-shops-summary').textContent()).trim(),
    `共 ${shops.length} 家商户，${signed} 家已签订门责承诺（${Math.round((100 * signed) / shops.length)}%）`);

  // every group is its segment's whole frontage: the rows shown and "…等 N 家"; the groups left out are counted
  const groups = await page.locator('.b-sg[data-segment]').evaluateAll((els) => els.map((g) => ({
    segment: g.dataset.segment,
    count: Number(g.dataset.count),
    title: g.querySelector('.sg-n').textContent.trim(),
    rows: g.querySelectorAll('.b-shop').length,
    more: Number(g.querySelector('.sg-more')?.dataset.more || 0),
  })));
  assert.ok(groups.length >= 1 && groups.every((g) => g.rows >= 1), 'at least one row per group shown');
  for (const g of groups) {
    const list = bySegment.get(g.segment);
    assert.ok(list, `group ${g.segment || '(other)'} is a segment of the answer`);
    assert.equal(g.count, list.length, `${g.segment}: count`);
    assert.equal(g.rows + g.more, list.length, `${g.segment}: rows shown and "more"`);
    assert.equal(g.title, g.segment ? (list[0].segment_name ?? g.segment) : '其他');
  }
  const rest = page.locator('.sg-rest');
  const restGroups = (await rest.count()) ? Number(await rest.getAttribute('data-more-groups')) : 0;
  const restShops = (await rest.count()) ? Number(await rest.getAttribute('data-more')) : 0;
  assert.equal(groups.length + restGroups, bySegment.size, 'every segment shown or counted');
  assert.equal(groups.reduce((a, g) => a + g.count, 0) + restShops, shops.length, 'every shop shown or counted');
  if (bySegment.has('')) assert.ok(groups.at(-1)?.segment === '' || restGroups > 0, '其他 comes last');

  // a known shop: its name, pledge and level in its row, under its segment's name
  const firstId = await page.locator('.b-shop').first().getAttribute('data-id');
  const known = shops.find((s) => s.id === firstId);
  assert.ok(known, `shop ${firstId} is one of the answer`);
  const group = page.locator('.b-sg', { has: page.locator(`.b-shop[data-id="${firstId}"]`) });
  assert.equal(await group.getAttribute('data-segment'), known.frontage?.segment ?? '');
  assert.equal((await group.locator('.sg-n').textContent()).trim(), known.frontage ? (known.segment_name ?? known.frontage.segment) : '其他');
  const row = group.locator(`.b-shop[data-id="${firstId}"]`);
  assert.equal((await row.locator('.sn').textContent()).trim(), known.name);
  assert.equal((await row.locator('.sp').textContent()).trim(), known.pledge_signed ? `已签约 ${known.pledge_signed}` : '未签约');
  assert.equal((await row.locator('.lv').textContent()).trim(), LEVEL.zh[known.standing.level]);
  assert.ok(await row.isVisible());
  // no contact of a shop on the public board
  for (const s of shops) if (s.phone) assert.ok(!(await section.textContent()).includes(s.phone));

  // English by the toggle
  await page.locator('#lang-toggle').click();
  await page.waitForFunction(() => document.documentElement.lang === 'en');
  assert.equal((await page.locator('#board-shops h2').textContent()).trim(), 'Shops under frontage duty');
  assert.match(await page.locator('#board-shops-summary').textContent(), new RegExp(`^${shops.length} shops?, ${signed} signed`));
  const rowEn = page.locator(`.b-shop[data-id="${firstId}"]`);
  assert.equal((await rowEn.locator('.sp').textContent()).trim(), known.pledge_signed ? `Signed ${known.pledge_signed}` : 'Not signed');
  assert.equal((await rowEn.locator('.lv').textContent()).trim(), LEVEL.en[known.standing.level]);

  await assertNoOverlap(page);
  await page.screenshot({ path: join(ARTIFACTS, 'board-shops-en.png'), fullPage: true });
  await page.locator('#lang-toggle').click();
  await page.waitForFunction(() => document.documentElement.lang === 'zh-CN');
  await page.screenshot({ path: join(ARTIFACTS, 'board-shops.png'), fullPage: true });
  const pdf = await page.pdf({ path: join(ARTIFACTS, 'board-shops.pdf'), preferCSSPageSize: true, printBackground: true });
  assert.equal((pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) || []).length, 1, 'the board with its shops prints on one A3 page');
  // the section ends above the footer (nothing of it cut off)
  const [shopsBox, footBox] = await Promise.all([section.boundingBox(), page.locator('.b-foot').boundingBox()]);
  assert.ok(shopsBox.y + shopsBox.height <= footBox.y + 1, 'the shops section ends above the footer');
  await assertNoOverlap(page);
  assert.deepEqual(await cspViolations(page), []);
  assert.deepEqual(errors, []);
  await context.close();
});

test('the board says so when the shops cannot be loaded', async () => {
  const block = await knownBlock();
  const context = await browser.newContext({ viewport: { width: 1200, height: 1650 } });
  await watchCsp(context);
  await context.route('**/api/v1/shops?*', (route) => route.fulfill({
    status: 503, contentType: 'application/problem+json',
    body: JSON.stringify({ type: 'about:blank', title: 'Service Unavailable', status: 503, detail: 'the store is busy' }),
  }));
  const { page, errors } = await openBoard(context, block.parent);
  const msg = page.locator('#board-shops-error');
  assert.ok(await msg.isVisible(), 'a visible message in the section');
  assert.equal((await msg.textContent()).trim(), '门责商户加载失败：the store is busy');
  assert.equal(await page.locator('.b-shop').count(), 0);
  assert.equal(await page.locator('#board-shops-summary').count(), 0, 'no summary (not "no shops")');
  // the rest of the board is there
  assert.equal(await page.locator(`.b-block[data-code="${block.code}"]`).count(), 1);
  assert.deepEqual(await cspViolations(page), []);
  assert.deepEqual(errors, []);
  await context.close();
});
