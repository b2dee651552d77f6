// The street portal (/portal?street=): it opens with a dispatcher token from the link, shows the
// street's figures, colours its grids by an indicator with a legend that counts the API's grids,
// and shows a case posted through the API within 2 s, from the live event stream. Needs a
// dispatcher token of street 310116001 (GRIDATLAS_DISPATCHER_TOKEN; the street of the demo cases) and an intake token
// (GRIDATLAS_INTAKE_TOKEN), both made by scripts/test-web.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { launch, watchCsp, cspViolations, getJSON, required, interiorPoint, demoFixture, BASE, ARTIFACTS, MOCK } from './helpers.mjs';

const STREET = '310116001';
const BREAKS = [0.6, 0.8, 0.9, 0.95];
let DISPATCHER = '';
let INTAKE = '';
let browser;

before(async () => {
  DISPATCHER = required(process.env.GRIDATLAS_DISPATCHER_TOKEN, 'a dispatcher token of street 310116001 in GRIDATLAS_DISPATCHER_TOKEN');
  INTAKE = required(process.env.GRIDATLAS_INTAKE_TOKEN, 'an intake token in GRIDATLAS_INTAKE_TOKEN');
  browser = await launch();
});
after(async () => { await browser?.close(); });

/** The class of an indicator value under the portal's documented breaks (-1: no value). */
function classOf(v) {
  if (v === null || v === undefined) return -1;
  let i = 0;
  while (i < BREAKS.length && v >= BREAKS[i]) i += 1;
  return i;
}

function districtDate(d = new Date()) {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' }).format(d);
}

test('the portal shows a case posted through the API within 2 s, and a legend that counts the API\'s grids', { skip: MOCK && 'the mock server has no event stream' }, async () => {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN' });
  await watchCsp(context);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error' && !/^Failed to load resource/.test(m.text())) errors.push(m.text()); });
  await page.goto(`${BASE}/portal?street=${STREET}#token=${DISPATCHER}`);
  await page.waitForFunction(() => document.body.dataset.live === 'ready' && document.body.dataset.map === 'ready', null, { timeout: 30000 });
  assert.ok(!page.url().includes(DISPATCHER), `the token is taken out of the address bar: ${page.url()}`);
  assert.equal((await page.locator('#live').textContent()).trim(), '实时');

  const auth = { headers: { Authorization: `Bearer ${DISPATCHER}` } };
  // the day's figures are the API's
  const stats = await getJSON(`/api/v1/cases/stats?street=${STREET}&from=${districtDate()}`, auth);
  await page.waitForFunction((n) => document.querySelector('#kpi-today').textContent === String(n), stats.total, { timeout: 10000 });

  // a case posted through the API reaches the open portal within 2 s
  const fx = demoFixture();
  const block = fx.features.find((f) => f.properties?.layer === 'block' && String(f.properties.code).startsWith(STREET));
  const [lon, lat] = interiorPoint(block.geometry);
  const categories = (await getJSON('/api/v1/categories')).items;
  const cat = categories.find((c) => c.code === 'RG0105') || categories[0];
  const category = cat.code;
  const res = await fetch(`${BASE}/api/v1/cases`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${INTAKE}` },
    body: JSON.stringify({ lon, lat, category, source: 'hotline', description: '门户实时测试' }),
  });
  assert.equal(res.status, 201, await res.clone().text());
  const created = await res.json();
  await page.waitForFunction((id) => document.querySelector('#feed').textContent.includes(`#${id}`), created.id, { timeout: 2000 });
  const line = await page.locator('#feed li').first().textContent();
  assert.ok(line.includes(cat.name_zh) && line.includes('上报'), `the category's name and the stage in: ${line}`);
  // and the day's count follows
  await page.waitForFunction((n) => document.querySelector('#kpi-today').textContent === String(n), stats.total + 1, { timeout: 10000 });

  // the legend counts the grids of the API's indicators of the month, class by class (the
  // new case's grid has one at least)
  const month = `${districtDate().slice(0, 8)}01`;
  const report = await getJSON(`/api/v1/indicators?street=${STREET}&from=${month}`, auth);
  assert.ok(report.grids.length > 0, 'the street has grids with indicators this month');
  const key = await page.locator('#indicator').inputValue();
  const expected = { none: 0, 0: 0, 1: 0, 2: 0, 3: 0, 4: 0 };
  for (const g of report.grids) {
    const c = classOf(g[key]);
    expected[c < 0 ? 'none' : c] += 1;
  }
  const want = Object.fromEntries(Object.entries(expected).map(([k, v]) => [String(k), v]));
  const legend = () => page.$$eval('#legend li', (lis) => Object.fromEntries(lis.map((li) => [li.dataset.class, Number(li.dataset.count)])));
  await page.waitForFunction((w) => {
    const lis = [...document.querySelectorAll('#legend li')];
    return lis.length === 6 && lis.every((li) => Number(li.dataset.count) === w[li.dataset.class]);
  }, want, { timeout: 10000 }).catch(() => {});
  assert.deepEqual(await legend(), want, `legend of ${key}`);
  await page.screenshot({ path: join(ARTIFACTS, 'portal.png') });
  assert.deepEqual(errors, []);
  assert.deepEqual(await cspViolations(page), []);
  await context.close();
});

test('a dispatcher accepts, opens and dispatches a case from the desk, the routing suggestion preselected and the duplicates shown; a refusal is shown in Chinese', { skip: MOCK && 'the mock server has no case workflow' }, async () => {
  const auth = { headers: { Authorization: `Bearer ${DISPATCHER}` } };
  const fx = demoFixture();
  const blocks = fx.features.filter((f) => f.properties?.layer === 'block' && String(f.properties.code).startsWith(STREET));
  const [lon, lat] = interiorPoint(blocks[Math.min(3, blocks.length - 1)].geometry);
  const post = async (body) => {
    const res = await fetch(`${BASE}/api/v1/cases`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${INTAKE}` },
      body: JSON.stringify({ lon, lat, category: 'RG0103', ...body }),
    });
    assert.equal(res.status, 201, await res.clone().text());
    return res.json();
  };
  // an earlier report of the same category at the same place: the desk shows it as a duplicate
  const earlier = await post({ source: 'hotline', description: '调度台测试（先报）', reported_at: new Date(Date.now() - 10 * 60000).toISOString() });
  const created = await post({ source: 'patrol', description: '调度台测试' });
  const id = created.id;
  const routed = created.assignment.grid?.code;
  assert.ok(routed, `the case has a grid: ${JSON.stringify(created.assignment)}`);

  const context = await browser.newContext({ viewport: { width: 1440, height: 1000 }, locale: 'zh-CN' });
  await watchCsp(context);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error' && !/^Failed to load resource/.test(m.text())) errors.push(m.text()); });
  await page.goto(`${BASE}/portal?street=${STREET}#token=${DISPATCHER}`);
  await page.waitForFunction(() => document.body.dataset.live === 'ready', null, { timeout: 30000 });

  // 待受理 holds it, counted on its tab
  await page.locator('#desk-tabs button[data-bucket="accept"]').click();
  const item = page.locator(`#desk-list button[data-case="${id}"]`);
  await item.waitFor({ timeout: 10000 });
  await item.click();
  await page.waitForFunction((i) => document.querySelector('#desk-case h3')?.textContent.includes(`#${i}`), id, { timeout: 10000 });
  const dups = await page.$$eval('#desk-case .duplicates li', (lis) => lis.map((li) => Number(li.dataset.id)));
  assert.ok(dups.includes(earlier.id), `the earlier report #${earlier.id} is shown as a possible duplicate: ${dups}`);

  const step = async (action, stage) => {
    await page.locator(`#desk-case button[data-action="${action}"]`).click();
    await page.waitForFunction((s) => document.querySelector('#desk-case .desk-msg.ok')?.textContent.includes(s), stage, { timeout: 10000 });
  };
  // a patrol report is verified on acceptance
  await step('accept', '核实');
  await step('open', '立案');
  // 派遣: the routing's grid is preselected
  await page.locator('#desk-case button[data-action="dispatch"]').click();
  const select = page.locator('#desk-form select[name="grid"]');
  assert.equal(await select.inputValue(), routed, 'the routing suggestion is preselected');
  await page.locator('#desk-form button[type="submit"]').click();
  await page.waitForFunction(() => document.querySelector('#desk-case .desk-msg.ok')?.textContent.includes('派遣'), null, { timeout: 10000 });
  const after = await getJSON(`/api/v1/cases/${id}`, auth);
  assert.equal(after.stage, 'dispatched');
  assert.equal(after.assigned_grid, routed);
  assert.equal(after.events.at(-1).action, 'dispatch');
  await page.screenshot({ path: join(ARTIFACTS, 'portal-desk.png'), fullPage: true });

  // 转派 to the grid it already has: the server refuses, the desk says so in Chinese
  await page.locator('#desk-case button[data-action="transfer"]').click();
  await page.locator('#desk-form select[name="grid"]').selectOption(routed);
  await page.locator('#desk-form button[type="submit"]').click();
  const msg = page.locator('#desk-case .desk-msg.error .problem-text');
  await msg.waitFor({ timeout: 10000 });
  const text = await msg.textContent();
  assert.match(text, /[\u4e00-\u9fff]/, `a Chinese message: ${text}`);
  assert.ok(text.includes('其他网格'), `it says what to do: ${text}`);
  assert.equal((await getJSON(`/api/v1/cases/${id}`, auth)).events.length, after.events.length, 'the refused transfer wrote nothing');
  await page.screenshot({ path: join(ARTIFACTS, 'portal-desk-refused.png'), fullPage: true });
  assert.deepEqual(errors, []);
  assert.deepEqual(await cspViolations(page), []);
  await context.close();
});

test('the portal draws the day\'s patrol paths and the heat of a category over a period, as the API counts them', { skip: MOCK && 'the mock server has no tracks' }, async () => {
  const auth = { headers: { Authorization: `Bearer ${DISPATCHER}` } };
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN' });
  await watchCsp(context);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${BASE}/portal?street=${STREET}#token=${DISPATCHER}`);
  await page.waitForFunction(() => document.body.dataset.live === 'ready' && document.body.dataset.map === 'ready', null, { timeout: 30000 });
  const paths = await getJSON(`/api/v1/tracks?street=${STREET}&from=${districtDate()}`, auth);
  assert.ok(paths.features.length > 0, 'the demo has patrols today');
  await page.waitForFunction((n) => document.querySelector('#show-paths').closest('label').dataset.count === String(n), paths.features.length, { timeout: 10000 });

  await page.locator('#heat-category').selectOption('RG0103');
  await page.locator('#heat-period').selectOption('month');
  await page.locator('#show-heat').check();
  const month = `${districtDate().slice(0, 8)}01`;
  const list = await getJSON(`/api/v1/cases?street=${STREET}&category=RG0103&from=${month}&limit=1000`, auth);
  assert.ok(list.total > 0, 'cases of RG0103 this month');
  await page.waitForFunction((n) => document.querySelector('#show-heat').closest('label').dataset.count === String(n), list.items.length, { timeout: 10000 });
  await page.screenshot({ path: join(ARTIFACTS, 'portal-layers.png') });
  assert.deepEqual(errors, []);
  assert.deepEqual(await cspViolations(page), []);
  await context.close();
});

test('the monthly report of the street shows its grade, rank and overdue cases as the API has them, and prints to A4 pages', { skip: MOCK && 'the mock server has no ranking' }, async () => {
  const auth = { headers: { Authorization: `Bearer ${DISPATCHER}` } };
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, locale: 'zh-CN' });
  await watchCsp(context);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${BASE}/report?street=${STREET}#token=${DISPATCHER}`);
  await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 30000 });
  assert.equal(await page.evaluate(() => document.body.dataset.ready), '1', await page.locator('#r-status').textContent());
  const month = `${districtDate().slice(0, 8)}01`;
  const ranking = await getJSON(`/api/v1/ranking?kind=street&from=${month}`, auth);
  const mine = ranking.items.find((r) => r.code === STREET);
  assert.ok(mine, 'the street is ranked');
  assert.equal((await page.locator('#r-grade').textContent()).trim(), String(mine.grade));
  assert.equal((await page.locator('#r-rank').textContent()).trim(), `${mine.rank} / ${ranking.items.length}`);
  const overdue = await getJSON(`/api/v1/cases?street=${STREET}&overdue=1&limit=200`, auth);
  assert.equal(await page.locator('#r-overdue-list').getAttribute('data-count'), String(overdue.items.length));
  assert.equal(await page.locator('#r-chart-stages svg').count(), 1, 'the stage chart is drawn (SVG)');
  await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });
  const pdf = await page.pdf({ format: 'A4', printBackground: true, preferCSSPageSize: true, path: join(ARTIFACTS, 'report.pdf') });
  const text = pdf.toString('latin1');
  const pages = (text.match(/\/Type\s*\/Page(?!s)/g) || []).length;
  assert.ok(pages >= 1, `${pages} pages`);
  const box = text.match(/\/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]/);
  assert.ok(box, 'a media box');
  assert.ok(Math.abs(Number(box[1]) - 595.9) < 2 && Math.abs(Number(box[2]) - 842) < 2, `A4 portrait: ${box[1]} × ${box[2]} pt`);
  assert.deepEqual(errors, []);
  assert.deepEqual(await cspViolations(page), []);
  await context.close();
});
