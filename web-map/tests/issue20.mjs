// Shared by the browser tests of issue 20 (words, search, a11y, basemap): the map at the phone
// (390×844, touch) and desktop viewports in both languages, failing on page errors.
import { launch, BASE, ARTIFACTS, watchCsp } from './helpers.mjs';
import { join } from 'node:path';

export { launch, BASE, ARTIFACTS };

export const VIEWPORTS = {
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
  desktop: { viewport: { width: 1440, height: 900 } },
};

/** The four combinations every page is tried in. */
export const COMBOS = ['phone', 'desktop'].flatMap((device) => ['zh', 'en'].map((lang) => ({ device, lang })));

/**
 * A page of the web map (`path`, default the map) at `device`'s viewport in `lang`, with extra
 * context options (geolocation, permissions); page errors and console errors collected in `errors`.
 * Waits for the map's first idle when the page is the map.
 */
export async function openPage(browser, { device = 'desktop', lang = 'zh', path = '/', contextOptions = {}, map = path === '/' || path.startsWith('/?'), base = BASE } = {}) {
  const context = await browser.newContext({ ...VIEWPORTS[device], locale: lang === 'en' ? 'en-GB' : 'zh-CN', ...contextOptions });
  await watchCsp(context);
  // the language is chosen before the page's scripts run (the pages keep it in localStorage)
  await context.addInitScript((l) => { try { localStorage.setItem('gridatlas.lang', l); } catch { /* ignore */ } }, lang);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error' && !/^Failed to load resource/.test(m.text())) errors.push(m.text()); });
  await page.goto(`${base}${path}`);
  if (map) await page.waitForFunction(() => document.body.dataset.mapReady === '1', null, { timeout: 30000 });
  return { page, context, errors };
}

/** A screenshot into the artifacts directory. */
export async function shot(page, name) {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

/** Waits until the map has stopped moving and drawn its tiles. */
export async function settled(page) {
  await page.waitForFunction(() => {
    const m = window.gridatlas?.map;
    return m && !m.isMoving() && m.loaded();
  }, null, { timeout: 20000 });
}

/** Pastes `text` into the element `selector` (a real paste event with clipboard data). */
export async function paste(page, selector, text) {
  await page.locator(selector).focus();
  await page.evaluate(({ selector, text }) => {
    const el = document.querySelector(selector);
    const dt = new DataTransfer();
    dt.setData('text/plain', text);
    const ev = new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true });
    // not handled by the page: a plain paste
    if (el.dispatchEvent(ev)) { el.value = text; el.dispatchEvent(new Event('input', { bubbles: true })); }
  }, { selector, text });
}
