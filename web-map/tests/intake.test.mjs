// Case intake: click a place, choose a category, see where the case is routed and its due date.
// Needs the case API (GET /api/v1/categories) and an intake token (GRIDATLAS_INTAKE_TOKEN).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openMap, knownBlock, jumpTo, clickMapAt, BASE } from './helpers.mjs';

const TOKEN = process.env.GRIDATLAS_INTAKE_TOKEN || '';
let browser;
let categories = null;
before(async () => {
  const res = await fetch(`${BASE}/api/v1/categories`).catch(() => null);
  if (res?.ok) categories = (await res.json()).items;
  if (TOKEN && categories) browser = await launch();
});
after(async () => { await browser?.close(); });

test('the intake tab is hidden when the case API is absent', async (t) => {
  if (categories) return t.skip('the case API is present');
  const b = await launch();
  const { page } = await openMap(b);
  await page.waitForTimeout(300);
  assert.equal(await page.locator('#tab-intake').isVisible(), false);
  await b.close();
});

test('a case placed on the map is routed to the block head with a due date', async (t) => {
  if (!categories) return t.skip('no case API (GET /api/v1/categories)');
  if (!TOKEN) return t.skip('no intake token (GRIDATLAS_INTAKE_TOKEN)');
  const block = await knownBlock();
  const { page, context } = await openMap(browser);
  await page.locator('#tab-intake').click();
  await page.locator('#intake-token').fill(TOKEN);
  await jumpTo(page, block.point, 16);
  await clickMapAt(page, block.point);
  await page.locator('#intake-category').selectOption({ index: 0 });
  await page.locator('#intake-description').fill('测试：楼道堆物');
  await page.locator('#intake-submit').click();
  await page.locator('#intake-result').waitFor({ timeout: 10000 });
  const text = await page.locator('#intake-result').textContent();
  assert.match(text, new RegExp(block.head.name));
  assert.notEqual((await page.locator('#intake-due').textContent()).trim(), '—');
  await context.close();
});
