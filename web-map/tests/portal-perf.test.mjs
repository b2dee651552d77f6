// The street portal's first render: navigation → every panel has its data (document.body
// .dataset.loaded, set by portal.js after the first loadAll) and the map's first idle, for one
// street (GRIDATLAS_DISPATCHER_TOKEN of GRIDATLAS_PERF_STREET, default 310116001) and for the
// district view (GRIDATLAS_DISTRICT_TOKEN: a dispatcher of every street). Logs the time and the
// slowest API answers; scripts/bench-portal runs it on a scale-20 city with a month of cases
// (BENCHMARKS.md). With GRIDATLAS_PERF_STRICT=1 it enforces first render < 2 s.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { launch, watchCsp, required, BASE, ARTIFACTS, MOCK } from './helpers.mjs';

const STRICT = process.env.GRIDATLAS_PERF_STRICT === '1';
const STREET = process.env.GRIDATLAS_PERF_STREET || '310116001';
const ROUNDS = Number(process.env.GRIDATLAS_PERF_ROUNDS || 1);
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function firstRender(label, path, token) {
  const results = [];
  for (let round = 0; round < ROUNDS; round++) {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN' });
    await watchCsp(context);
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error' && !/^Failed to load resource/.test(m.text())) errors.push(m.text()); });
    const t0 = Date.now();
    await page.goto(`${BASE}${path}#token=${token}`);
    await page.waitForFunction(() => document.body.dataset.loaded && document.body.dataset.mapIdle === '1', null, { timeout: 60000 });
    const ms = Date.now() - t0;
    assert.equal(await page.evaluate(() => document.body.dataset.loaded), 'ready', `${label}: every panel loaded (${await page.locator('#portal-status').textContent().catch(() => '')})`);
    assert.deepEqual(errors, [], `${label}: no script errors`);
    // the API answers, slowest first
    const api = await page.evaluate(() => performance.getEntriesByType('resource')
      .filter((e) => e.name.includes('/api/v1/') && !e.name.includes('/api/v1/events'))
      .map((e) => ({ path: new URL(e.name).pathname + new URL(e.name).search, ms: Math.round(e.duration), kB: Math.round(e.transferSize / 1024) }))
      .sort((a, b) => b.ms - a.ms));
    const total = await page.locator('#kpi-month').textContent().catch(() => '?');
    console.log(JSON.stringify({ view: label, round, first_render_ms: ms, month_cases: total, slowest_api: api.slice(0, 4) }));
    if (round === 0) await page.screenshot({ path: join(ARTIFACTS, `portal-perf-${label}.png`) });
    results.push(ms);
    await context.close();
  }
  return results;
}

test('the street portal\'s first render', { skip: MOCK && 'the mock server has no cases' }, async () => {
  const token = required(process.env.GRIDATLAS_DISPATCHER_TOKEN, `a dispatcher token of street ${STREET} in GRIDATLAS_DISPATCHER_TOKEN`);
  const ms = await firstRender('street', `/portal?street=${STREET}`, token);
  if (STRICT) assert.ok(Math.min(...ms) < 2000, `first render ${ms.join(', ')} ms, target < 2 s`);
});

test('the district view\'s first render', { skip: MOCK && 'the mock server has no cases' }, async () => {
  const token = required(process.env.GRIDATLAS_DISTRICT_TOKEN, 'a dispatcher token of every street in GRIDATLAS_DISTRICT_TOKEN');
  const ms = await firstRender('district', '/portal', token);
  if (STRICT) assert.ok(Math.min(...ms) < 2000, `first render ${ms.join(', ')} ms, target < 2 s`);
});
