// The grid worker's phone page (/m) at a phone's viewport (390×844, touch) with a mocked
// geolocation: a check-in, a patrol, a case with a photo; then, offline, a check-out and a case
// that wait in the outbox (the page reloaded offline from its service worker keeps them) and are
// sent once the network returns; and a report whose answer is lost on the way back, sent again
// with the same idempotency key: one case on the server. Needs a grid worker token whose subject is a
// staff member of grid 310116001002 (GRIDATLAS_WORKER_TOKEN) and a dispatcher token of street
// 310116001 to read the server's side (GRIDATLAS_DISPATCHER_TOKEN); scripts/test-web makes both.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { launch, watchCsp, cspViolations, getJSON, required, interiorPoint, demoFixture, BASE, ARTIFACTS, MOCK } from './helpers.mjs';

const GRID = '310116001002';
const STAFF = 'G310116001002-01';
let WORKER = '';
let DISPATCHER = '';
let browser;

before(async () => {
  WORKER = required(process.env.GRIDATLAS_WORKER_TOKEN, `a grid worker token with subject ${STAFF} in GRIDATLAS_WORKER_TOKEN`);
  DISPATCHER = required(process.env.GRIDATLAS_DISPATCHER_TOKEN, 'a dispatcher token of street 310116001 in GRIDATLAS_DISPATCHER_TOKEN');
  browser = await launch();
});
after(async () => { await browser?.close(); });

/** A small PNG (w×h, a gradient), made here so that no binary fixture is needed. */
function png(w = 64, h = 48) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; ihdr[9] = 2; // 8-bit RGB
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y += 1) {
    raw[y * (w * 3 + 1)] = 0;
    for (let x = 0; x < w; x += 1) {
      const o = y * (w * 3 + 1) + 1 + x * 3;
      raw[o] = (x * 4) & 255; raw[o + 1] = (y * 5) & 255; raw[o + 2] = 128;
    }
  }
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

const today = () => new Date(Date.now() - 3600000).toISOString();

test('a grid worker checks in, patrols and reports a case with a photo from a phone, also through a network drop, with nothing applied twice', { skip: MOCK && 'the mock server has no field force' }, async () => {
  const auth = { headers: { Authorization: `Bearer ${DISPATCHER}` } };
  const fx = demoFixture();
  const block = fx.features.find((f) => f.properties?.layer === 'block' && String(f.properties.code).startsWith(GRID));
  assert.ok(block, `a block of grid ${GRID} in the demo district`);
  const [lon, lat] = interiorPoint(block.geometry);
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2, locale: 'zh-CN',
    permissions: ['geolocation'], geolocation: { longitude: lon, latitude: lat, accuracy: 8 },
  });
  await watchCsp(context);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error' && !/^Failed to load resource/.test(m.text())) errors.push(m.text()); });
  await page.goto(`${BASE}/m#token=${WORKER}`);
  await page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: 30000 });
  assert.ok(!page.url().includes(WORKER), 'the token is taken out of the address bar');
  assert.ok((await page.locator('#m-name').textContent()).includes(STAFF), 'the worker is named');
  // the page fits the phone: nothing wider than the viewport
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), 'no horizontal scrolling');

  const checkins = async () => (await getJSON(`/api/v1/checkins?staff=${STAFF}&from=${encodeURIComponent(today())}`, auth)).checkins;
  const before = (await checkins()).length;

  // 签到
  await page.locator('#m-in').tap();
  await page.waitForFunction(() => document.querySelector('#m-att-result')?.textContent.includes('签到成功'), null, { timeout: 15000 });
  assert.match(await page.locator('#m-att-result').textContent(), /在责任区内/);
  assert.equal((await checkins()).length, before + 1, 'one check-in on the server');

  // 巡查: a walk of a few metres a step, then the end of the patrol sends the batch
  await page.locator('#m-patrol-toggle').tap();
  await page.waitForFunction(() => document.body.dataset.patrol === 'on');
  for (let i = 1; i <= 6; i += 1) {
    await context.setGeolocation({ longitude: lon + i * 0.00004, latitude: lat, accuracy: 8 });
    await page.waitForTimeout(400);
  }
  await page.locator('#m-patrol-toggle').tap();
  await page.waitForFunction(() => Number(document.querySelector('#m-patrol-state')?.dataset.sent) >= 3, null, { timeout: 15000 });
  const tracks = await getJSON(`/api/v1/tracks?staff=${STAFF}&from=${encodeURIComponent(today())}`, auth);
  const fixes = tracks.features.reduce((n, f) => n + (f.geometry.type === 'Point' ? 1 : f.geometry.coordinates.length), 0);
  assert.ok(fixes >= 3, `the patrol's fixes are on the server: ${fixes}`);
  await page.screenshot({ path: join(ARTIFACTS, 'phone-patrol.png'), fullPage: true });

  // 上报 with a photo from the camera
  const cases = async (text) => (await getJSON('/api/v1/cases?street=310116001&limit=1000', auth)).items.filter((c) => c.description === text);
  const run = Date.now();
  const first = `手机上报测试 ${run}`;
  await page.locator('#m-description').fill(first);
  await page.locator('#m-photos').setInputFiles({ name: 'scene.png', mimeType: 'image/png', buffer: png() });
  await page.locator('#m-report-form button[type="submit"]').tap();
  await page.waitForFunction(() => document.querySelector('#m-report-result')?.textContent.includes('已上报'), null, { timeout: 15000 });
  const [reported] = await cases(first);
  assert.ok(reported, 'the case is on the server');
  assert.equal(reported.source, 'patrol');
  await page.waitForFunction(() => document.querySelector('#m-outbox').hidden, null, { timeout: 15000 });
  const photos = await getJSON(`/api/v1/cases/${reported.id}/photos`, auth);
  assert.equal(photos.photos.length, 1, `one photo with the case: ${JSON.stringify(photos)}`);
  await page.screenshot({ path: join(ARTIFACTS, 'phone-report.png'), fullPage: true });

  // offline: a check-out and a report wait in the outbox, and survive a reload of the page
  const outs = (await checkins()).length;
  await context.setOffline(true);
  await page.waitForFunction(() => document.querySelector('#m-net').textContent.includes('离线'));
  await page.locator('#m-out').tap();
  await page.waitForFunction(() => document.querySelector('#m-outbox')?.dataset.count === '1', null, { timeout: 15000 });
  const offline = `离线上报测试 ${run}`;
  await page.locator('#m-description').fill(offline);
  await page.locator('#m-report-form button[type="submit"]').tap();
  await page.waitForFunction(() => document.querySelector('#m-outbox')?.dataset.count === '2', null, { timeout: 15000 });
  await page.reload();
  await page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: 30000 });
  assert.equal(await page.locator('#m-outbox').getAttribute('data-count'), '2', 'the outbox survives a reload (served by the service worker)');
  await page.screenshot({ path: join(ARTIFACTS, 'phone-offline.png'), fullPage: true });
  assert.equal((await checkins()).length, outs, 'nothing reached the server while offline');
  await context.setOffline(false);
  await page.waitForFunction(() => document.querySelector('#m-outbox').hidden, null, { timeout: 20000 });
  assert.equal((await checkins()).length, outs + 1, 'the check-out arrived once');
  assert.equal((await cases(offline)).length, 1, 'the offline report arrived once');

  // the answer to a report is lost on the way back: the page sends it again with the same key
  const lost = `应答丢失测试 ${run}`;
  let dropped = 0;
  let recorded = null;
  let handled;
  const lostOnce = new Promise((r) => { handled = r; });
  await page.route('**/api/v1/cases', async (route) => {
    if (route.request().method() !== 'POST' || dropped > 0) return route.continue();
    dropped += 1;
    try {
      const res = await route.fetch(); // the server records it …
      recorded = res.status();
    } catch (e) {
      recorded = String(e);
    }
    await route.abort('connectionreset'); // … and the phone never hears back
    handled();
  });
  await page.locator('#m-description').fill(lost);
  await page.locator('#m-report-form button[type="submit"]').tap();
  await lostOnce;
  await page.waitForFunction(() => document.querySelector('#m-outbox')?.dataset.count === '1', null, { timeout: 15000 });
  assert.equal(dropped, 1);
  assert.equal(recorded, 201, 'the server recorded the report');
  assert.equal((await cases(lost)).length, 1, 'the server has it');
  await page.unroute('**/api/v1/cases');
  // the network "returns": the outbox sends it again
  await context.setOffline(true);
  await context.setOffline(false);
  await page.waitForFunction(() => document.querySelector('#m-outbox').hidden, null, { timeout: 30000 });
  assert.equal((await cases(lost)).length, 1, 'sent twice, recorded once');
  await page.waitForFunction(() => document.querySelector('#m-report-result')?.textContent.includes('已上报'), null, { timeout: 15000 });

  assert.deepEqual(errors, []);
  assert.deepEqual(await cspViolations(page), []);
  await context.close();
});

test('"my tasks" on the phone: the worker verifies a case of the grid, then disposes of it with before and after photos', { skip: MOCK && 'the mock server has no case workflow' }, async () => {
  const auth = { headers: { Authorization: `Bearer ${DISPATCHER}` } };
  const fx = demoFixture();
  const block = fx.features.find((f) => f.properties?.layer === 'block' && String(f.properties.code).startsWith(GRID));
  const [lon, lat] = interiorPoint(block.geometry);
  const api = async (path, body) => {
    const res = await fetch(`${BASE}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${DISPATCHER}` }, body: JSON.stringify(body) });
    assert.ok(res.ok, `${path}: ${res.status} ${await res.clone().text()}`);
    return res.json();
  };
  const created = await api('/api/v1/cases', { lon, lat, category: 'RG0103', source: 'hotline', description: `任务测试 ${Date.now()}` });
  assert.equal(created.assignment.grid.code, GRID);
  await api(`/api/v1/cases/${created.id}/events`, { action: 'accept' });

  const context = await browser.newContext({
    viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: 'zh-CN',
    permissions: ['geolocation'], geolocation: { longitude: lon, latitude: lat, accuracy: 8 },
  });
  await watchCsp(context);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${BASE}/m#token=${WORKER}`);
  await page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: 30000 });
  const task = page.locator(`#m-task-list li[data-case="${created.id}"]`);
  await task.waitFor({ timeout: 10000 });
  await task.locator('button[data-action="verify"]').tap();
  await task.locator('form button[type="submit"]').tap();
  const stageIs = async (s) => {
    for (let i = 0; i < 50; i += 1) {
      if ((await getJSON(`/api/v1/cases/${created.id}`, auth)).stage === s) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.fail(`case ${created.id} never reached ${s}`);
  };
  await stageIs('verified');
  await api(`/api/v1/cases/${created.id}/events`, { action: 'open' });
  await api(`/api/v1/cases/${created.id}/events`, { action: 'dispatch', grid: GRID });

  await page.locator('#m-tasks-reload').tap();
  const again = page.locator(`#m-task-list li[data-case="${created.id}"][data-stage="dispatched"]`);
  await again.waitFor({ timeout: 10000 });
  await again.locator('button[data-action="dispose"]').tap();
  await again.locator('textarea').fill('已清理');
  await again.locator('input[name="before"]').setInputFiles({ name: 'before.png', mimeType: 'image/png', buffer: png(40, 30) });
  await again.locator('input[name="after"]').setInputFiles({ name: 'after.png', mimeType: 'image/png', buffer: png(30, 40) });
  await again.locator('form button[type="submit"]').tap();
  await stageIs('disposed');
  const done = await getJSON(`/api/v1/cases/${created.id}`, auth);
  const dispose = done.events.find((e) => e.action === 'dispose');
  assert.equal(dispose.note, '已清理');
  assert.equal(dispose.photos.length, 2, `the disposal carries the before and after photos: ${JSON.stringify(dispose)}`);
  const photos = await getJSON(`/api/v1/cases/${created.id}/photos`, auth);
  assert.deepEqual(photos.photos.map((p) => p.kind).sort(), ["after", "before"]);
  await page.screenshot({ path: join(ARTIFACTS, 'phone-tasks.png'), fullPage: true });
  assert.deepEqual(errors, []);
  assert.deepEqual(await cspViolations(page), []);
  await context.close();
});
