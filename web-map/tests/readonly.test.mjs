// A server without a store (`gridatlas serve --data FILE`) answers lookups but takes no uploads
// and no cases: the map works, and the planner and intake tabs are not offered.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { launch, openMap, required, REPO, MOCK } from './helpers.mjs';

const BIN = process.env.GRIDATLAS_BIN || join(REPO, 'target/release/gridatlas');
const DATA = join(REPO, 'fixtures/demo-district.geojson');
let server = null;
let base = null;
let browser;

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
    s.on('error', reject);
  });
}

before(async () => {
  if (MOCK) return; // the mock server has no --data mode
  required(existsSync(BIN), `the gridatlas binary at ${BIN} (GRIDATLAS_BIN)`);
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(BIN, ['serve', '--data', DATA, '--listen', `127.0.0.1:${port}`], { stdio: 'ignore' });
  for (let i = 0; i < 240; i++) {
    const ok = await fetch(`${base}/readyz`).then((r) => r.ok, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.ok(await fetch(`${base}/readyz`).then((r) => r.ok, () => false), `gridatlas serve --data ${DATA} is ready`);
  browser = await launch();
});
after(async () => {
  await browser?.close();
  server?.kill();
});

test('serving a file, the map works and offers no planner or intake tab', async (t) => {
  if (MOCK) return t.skip('the mock server has no --data mode');
  const config = await (await fetch(`${base}/api/v1/config`)).json();
  assert.equal(config.writable, false);
  const { page, errors } = await openMap(browser, { base });
  await page.waitForTimeout(300);
  assert.equal(await page.locator('.tab[data-tab="explore"]').isVisible(), true);
  assert.equal(await page.locator('.tab[data-tab="planner"]').isVisible(), false);
  assert.equal(await page.locator('#tab-intake').isVisible(), false);
  assert.deepEqual(errors, []);
});
