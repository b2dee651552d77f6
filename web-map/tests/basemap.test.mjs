// issue 20, item 15: a basemap that works in China — Tianditu (天地图) map tiles (vec_w) with its
// labels (cva_w) over them, configured by key through `serve --basemap-url` (two WMTS templates
// separated by `|`, each with `tk=`) — end to end against a stub tile server: both layers are
// requested with the key and drawn, at the phone and desktop viewports. And the public board's
// 扫码上报 QR code decodes to the phone page of the server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer as netServer } from 'node:net';
import { createServer } from 'node:http';
import { deflateSync, crc32 } from 'node:zlib';
import { join } from 'node:path';
import jsQR from 'jsqr';
import { REPO, required, MOCK, BASE } from './helpers.mjs';
import { launch, openPage, shot } from './issue20.mjs';

const BIN = process.env.GRIDATLAS_BIN || join(REPO, 'target/release/gridatlas');
const DATA = join(REPO, 'fixtures/demo-district.geojson');
const KEY = 'test-tianditu-key';
const VEC = [40, 170, 90]; // the stub's map tiles: one green
const CVA = [200, 30, 160]; // its label tiles: a magenta square in the middle, transparent around
let browser, server, stub, base;
const tileRequests = [];

const freePort = () => new Promise((resolve, reject) => {
  const s = netServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  s.on('error', reject);
});

// A 256×256 RGBA PNG from a pixel function.
function png(pixel) {
  const w = 256, h = 256;
  const raw = Buffer.alloc((w * 4 + 1) * h);
  for (let y = 0; y < h; y++) {
    raw[y * (w * 4 + 1)] = 0;
    for (let x = 0; x < w; x++) raw.set(pixel(x, y), y * (w * 4 + 1) + 1 + x * 4);
  }
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4); ihdr[8] = 8; ihdr[9] = 6;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}
const VEC_PNG = png(() => [...VEC, 255]);
const CVA_PNG = png((x, y) => (x > 96 && x < 160 && y > 96 && y < 160 ? [...CVA, 255] : [0, 0, 0, 0]));

// Tianditu's WMTS KVP request, as its documentation gives it for the Web Mercator sets (_w)
const template = (stubBase, layer) => `${stubBase}/${layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=${layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=${KEY}`;

before(async () => {
  if (MOCK) return;
  required(existsSync(BIN), `the gridatlas binary at ${BIN} (GRIDATLAS_BIN)`);
  const stubPort = await freePort();
  stub = createServer((req, res) => {
    const u = new URL(req.url, 'http://stub');
    tileRequests.push(u);
    const layer = u.pathname.split('/')[1];
    if (u.searchParams.get('tk') !== KEY) { res.writeHead(403, { 'Access-Control-Allow-Origin': '*' }); res.end('bad key'); return; }
    const body = layer === 'vec_w' ? VEC_PNG : layer === 'cva_w' ? CVA_PNG : null;
    if (!body) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'Content-Type': 'image/png', 'Access-Control-Allow-Origin': '*' });
    res.end(body);
  }).listen(stubPort, '127.0.0.1');
  const stubBase = `http://127.0.0.1:${stubPort}`;
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(BIN, ['serve', '--data', DATA, '--listen', `127.0.0.1:${port}`, '--basemap-url', `${template(stubBase, 'vec')}|${template(stubBase, 'cva')}`], { stdio: 'ignore' });
  for (let i = 0; i < 240; i++) {
    if (await fetch(`${base}/readyz`).then((r) => r.ok, () => false)) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.ok(await fetch(`${base}/readyz`).then((r) => r.ok, () => false), 'gridatlas serve --basemap-url … is ready');
  browser = await launch();
});
after(async () => {
  await browser?.close();
  server?.kill();
  stub?.close();
});

/** The RGBA pixels of a PNG screenshot, decoded by the page's own canvas. */
async function pixels(page, buf) {
  return page.evaluate(async (b64) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.naturalWidth; c.height = img.naturalHeight;
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0);
    return { width: c.width, height: c.height, data: Array.from(g.getImageData(0, 0, c.width, c.height).data) };
  }, buf.toString('base64'));
}

const near = (p, c, d = 40) => Math.abs(p[0] - c[0]) < d && Math.abs(p[1] - c[1]) < d && Math.abs(p[2] - c[2]) < d;

for (const device of ['phone', 'desktop']) {
  for (const lang of ['zh', 'en']) {
    test(`Tianditu map and labels by key: requested with tk=, drawn under the grids (${device}, ${lang})`, { skip: MOCK && 'the mock server has no --basemap-url' }, async () => {
      tileRequests.length = 0;
      const config = await (await fetch(`${base}/api/v1/config`)).json();
      assert.match(config.basemap_url, /vec_w.*\|.*cva_w/);
      const { page, context, errors } = await openPage(browser, { device, lang, base });
      await page.waitForFunction(() => window.gridatlas.map.isSourceLoaded('basemap') && window.gridatlas.map.isSourceLoaded('basemap-1'), null, { timeout: 20000 });
      await page.waitForFunction(() => window.gridatlas.map.areTilesLoaded() && !window.gridatlas.map.isMoving(), null, { timeout: 20000 });
      await page.waitForTimeout(400);
      const vec = tileRequests.filter((u) => u.pathname === '/vec_w/wmts');
      const cva = tileRequests.filter((u) => u.pathname === '/cva_w/wmts');
      assert.ok(vec.length > 0 && cva.length > 0, `both layers requested (${vec.length} map, ${cva.length} label tiles)`);
      for (const u of [...vec, ...cva]) {
        assert.equal(u.searchParams.get('tk'), KEY);
        assert.match(u.searchParams.get('TILEMATRIX'), /^\d+$/);
        assert.match(u.searchParams.get('TILEROW'), /^\d+$/);
        assert.match(u.searchParams.get('TILECOL'), /^\d+$/);
      }
      // drawn: the map's canvas shows the stub's green, and the labels' magenta over it
      const canvas = page.locator('canvas.maplibregl-canvas');
      const img = await pixels(page, await canvas.screenshot());
      let green = 0, magenta = 0;
      for (let i = 0; i < img.data.length; i += 4 * 7) {
        const p = [img.data[i], img.data[i + 1], img.data[i + 2]];
        if (near(p, VEC, 60)) green++;
        if (near(p, CVA, 60)) magenta++;
      }
      const n = img.data.length / 4 / 7;
      assert.ok(green / n > 0.05, `the map tiles are drawn (${(100 * green / n).toFixed(1)} % of the sampled pixels are the stub's green)`);
      assert.ok(magenta > 0, `the label tiles are drawn over them (${magenta} magenta samples)`);
      // the layer switch hides both
      await shot(page, `basemap-tianditu-${device}-${lang}`);
      assert.deepEqual(errors, []);
      await context.close();
    });
  }
}

for (const device of ['phone', 'desktop']) {
  test(`the public board's 扫码上报 QR code decodes to the phone page (${device})`, async () => {
    const { page, context, errors } = await openPage(browser ?? await (browser = await launch()), { device, lang: 'zh', path: '/board.html?grid=310116101001', map: false });
    const qr = page.locator('#board-qr');
    await qr.waitFor({ timeout: 20000 });
    await page.waitForFunction(() => { const i = document.querySelector('#board-qr'); return i.complete && i.naturalWidth > 0; }, null, { timeout: 10000 });
    await qr.scrollIntoViewIfNeeded();
    assert.match(await page.locator('#board-qr').evaluate((e) => e.closest('.rep').textContent), /扫码上报/);
    // the screen as a person sees it, with the code scrolled into view (jsQR finds it in the picture)
    const img = await pixels(page, await page.screenshot());
    const code = jsQR(Uint8ClampedArray.from(img.data), img.width, img.height);
    assert.ok(code, 'the QR code is readable');
    assert.equal(code.data, `${BASE}/m`);
    await shot(page, `board-qr-${device}`);
    assert.deepEqual(errors, []);
    await context.close();
  });
}
