// The phone and desktop viewports of issue 20's tests, and a page opened at one of them that
// records what should never happen: script errors, console errors and warnings (MapLibre's
// "Map cannot fit within canvas…" is a warning), failed requests, policy violations.
import { BASE, watchCsp } from './helpers.mjs';

export const PHONE = { name: 'phone', viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true, deviceScaleFactor: 2 };
export const DESKTOP = { name: 'desktop', viewport: { width: 1440, height: 900 }, hasTouch: false, isMobile: false };
export const VIEWS = [PHONE, DESKTOP];
export const LANGS = ['zh', 'en'];

/**
 * Opens `path` (default: the map) at a viewport in a language; with `map` (default true) waits for
 * the map's first idle. Returns { page, context, problems } where problems() lists the page
 * errors, console errors and warnings, and failed requests (except those `allowFailed` matches).
 */
export async function openAt(browser, view, lang, { path = '/', map = true, allowFailed = /\/api\/v1\/categories$/ } = {}) {
  const context = await browser.newContext({
    viewport: view.viewport, hasTouch: view.hasTouch, isMobile: view.isMobile, deviceScaleFactor: view.deviceScaleFactor ?? 1,
    locale: lang === 'en' ? 'en-GB' : 'zh-CN',
  });
  await watchCsp(context);
  // the language as a person chose it (the button stores it)
  await context.addInitScript((l) => { try { localStorage.setItem('gridatlas.lang', l); } catch { /* ignore */ } }, lang);
  const page = await context.newPage();
  const seen = [];
  page.on('pageerror', (e) => seen.push(`pageerror: ${e}`));
  page.on('console', (m) => {
    // (SwiftShader's "GL Driver Message … GPU stall" is the software renderer's, not the page's)
    if ((m.type() === 'error' || m.type() === 'warning') && !/^Failed to load resource|GL Driver Message/.test(m.text())) seen.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('response', (r) => { if (r.status() >= 400 && !allowFailed.test(r.url())) seen.push(`HTTP ${r.status()} ${r.url()}`); });
  await page.goto(`${BASE}${path}`);
  if (map) await page.waitForFunction(() => document.body.dataset.mapReady === '1', null, { timeout: 30000 });
  const problems = async () => [...seen, ...(await page.evaluate(() => window.__csp || []).catch(() => []))];
  return { page, context, problems };
}

/** Waits until the map has stopped moving and drawn its tiles. */
export async function settle(page) {
  await page.waitForFunction(() => {
    const m = window.gridatlas?.map;
    return m && m.loaded() && !m.isMoving() && m.areTilesLoaded();
  }, null, { timeout: 20000 });
  await page.waitForTimeout(100);
}

/** The box of an element in the page, or null when it is not shown. */
export async function box(page, selector) {
  const l = page.locator(selector).first();
  if (!(await l.count()) || !(await l.isVisible())) return null;
  return l.boundingBox();
}

/** The part of the map a person sees: the map's box less the open card (desktop) or sheet (phone). */
export async function freeMapArea(page) {
  return page.evaluate(() => {
    const m = document.querySelector('#map').getBoundingClientRect();
    const card = document.querySelector('#card');
    const free = { left: m.left, top: m.top, right: m.right, bottom: m.bottom };
    if (!card.hidden) {
      const c = card.getBoundingClientRect();
      if (c.width >= m.width - 20) free.bottom = Math.min(free.bottom, c.top); else free.right = Math.min(free.right, c.left);
    }
    return free;
  });
}
