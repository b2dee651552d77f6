// The public board (宣传版面) of one resident grid: map with numbered blocks, organisation chart,
// task list and reporting contacts; screenshot and an A3 PDF saved as artifacts.
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
