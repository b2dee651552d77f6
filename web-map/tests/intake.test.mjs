// Case intake: click a place, choose a category, see where the case is routed and its due date.
// Needs the case API (GET /api/v1/categories) and an intake token (GRIDATLAS_INTAKE_TOKEN,
// created by scripts/test-web with `gridatlas token create --role intake`); without either the
// test fails. (A server without a store offers no intake tab: readonly.test.mjs.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openMap, knownBlock, jumpTo, clickMapAt, getJSON, required, cspViolations } from './helpers.mjs';

let TOKEN = '';
let categories = [];
let browser;
before(async () => {
  TOKEN = required(process.env.GRIDATLAS_INTAKE_TOKEN, 'an intake token in GRIDATLAS_INTAKE_TOKEN');
  categories = (await getJSON('/api/v1/categories')).items;
  browser = await launch();
});
after(async () => { await browser?.close(); });

test('a case placed on the map is routed to the block head with a due date', async () => {
  assert.ok(categories.length > 0, 'the case API lists categories');
  const block = await knownBlock();
  const { page, context } = await openMap(browser);
  await page.locator('#tab-intake').click();
  await page.locator('#intake-token').fill(TOKEN);
  await jumpTo(page, block.point, 16);
  await clickMapAt(page, block.point);
  // every category of the API is offered, the first chosen
  assert.equal(await page.locator('#intake-category option').count(), categories.length);
  await page.locator('#intake-category').selectOption({ index: 0 });
  await page.locator('#intake-description').fill('测试：楼道堆物');
  await page.locator('#intake-submit').click();
  await page.locator('#intake-result').waitFor({ timeout: 10000 });
  const text = await page.locator('#intake-result').textContent();
  assert.ok(text.includes(block.head.name), `the block head ${block.head.name} in: ${text}`);
  assert.ok(text.includes(block.name), `the block ${block.name} in: ${text}`);
  assert.notEqual((await page.locator('#intake-due').textContent()).trim(), '—');
  assert.deepEqual(await cspViolations(page), []);
  await context.close();
});
