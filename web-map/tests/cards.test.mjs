// Issue 20, items 6, 7 and 8: the right card for what was chosen, at the phone and the desktop
// viewport, in Chinese and in English. A grid (chosen by name or code) gets a grid card — its
// station, staff, management units and blocks, not one arbitrary block's head; a road segment
// (clicked on the map, or in a card's list of nearby segments) its own card with its person and
// length; management units' staff have their pictures (they were 404s) and whole names.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { launch, knownBlock, getJSON, ARTIFACTS } from './helpers.mjs';
import { VIEWS, LANGS, openAt, settle } from './viewports.mjs';

let browser;
let block;
let grid;
let blocks;
let road;
let roadPoint;
before(async () => {
  browser = await launch();
  block = await knownBlock();
  // a grid with a management unit (its staff's avatars), its blocks
  grid = await getJSON(`/api/v1/areas/${block.parent}`);
  if (!grid.management_units.length) {
    const unit = (await getJSON('/api/v1/areas?layer=resident_grid&limit=200')).items;
    for (const g of unit) {
      const d = await getJSON(`/api/v1/areas/${g.code}`);
      if (d.management_units.length && d.people.some((p) => p.role === 'station_head')) { grid = d; break; }
    }
  }
  assert.ok(grid.management_units.length, 'a grid with a management unit');
  blocks = (await getJSON(`/api/v1/areas/${grid.code}/children`)).items.filter((b) => b.layer === 'block');
  // a road segment with its person, and a point in the middle of its line
  for (const it of (await getJSON('/api/v1/areas?layer=road_segment&limit=50')).items) {
    const d = await getJSON(`/api/v1/areas/${it.code}?geometry=1`);
    if (!d.people.length || !d.geometry) continue;
    const line = d.geometry.type === 'LineString' ? d.geometry.coordinates : d.geometry.coordinates[0];
    const i = Math.floor((line.length - 1) / 2);
    roadPoint = [(line[i][0] + line[i + 1][0]) / 2, (line[i][1] + line[i + 1][1]) / 2];
    road = d;
    break;
  }
  assert.ok(road, 'a road segment with a responsible person');
});
after(async () => { await browser?.close(); });

const WORDS = {
  zh: { station: '网格工作站', metres: (d) => `${d} 米`, away: (d) => `相距 ${d} 米`, grid: '居村网格' },
  en: { station: 'Grid workstation', metres: (d) => `${d} m`, away: (d) => `${d} m away`, grid: 'Resident grid' },
};

/** Expands the bottom sheet on a phone (the card is whole on a desk). */
async function expand(page, view) {
  if (view.name === 'phone') await page.locator('.card-expand').tap();
}

for (const view of VIEWS) {
  for (const lang of LANGS) {
    test(`${view.name} ${lang}: a grid chosen by name gets the grid's card — station, staff, units, every block`, async () => {
      const { page, context, problems } = await openAt(browser, view, lang);
      await page.locator('#search').fill(grid.name);
      const item = page.locator(`#search-results li[data-code="${grid.code}"]`).first();
      await item.waitFor({ timeout: 5000 });
      // one item, one badge: singular in English
      assert.equal((await item.locator('.badge').textContent()).trim(), WORDS[lang].grid);
      await item.click();
      await page.waitForFunction(() => document.querySelector('#card')?.dataset.kind === 'grid', null, { timeout: 15000 });
      assert.equal((await page.locator('#card-title').textContent()).trim(), grid.name);
      // no block's head: the station head is the person on top, with a call button
      assert.equal(await page.locator('#card-block-head').count(), 0);
      const head = grid.people.find((p) => p.role === 'station_head');
      const lead = page.locator('#card-station .person.lead');
      assert.equal((await lead.locator('.p-name').textContent()).trim(), head.name);
      assert.ok(await lead.locator(`a.call[href="tel:${head.phone}"]`).isVisible(), 'call the station head');
      await page.screenshot({ path: join(ARTIFACTS, `card-grid-${view.name}-${lang}.png`) });
      await expand(page, view);
      assert.match(await page.locator('#card-grid').textContent(), new RegExp(grid.code));
      assert.equal(await page.locator('#card-blocks li').count(), blocks.length);
      for (const b of blocks.slice(0, 3)) {
        const li = page.locator(`#card-blocks li[data-code="${b.code}"]`);
        assert.match(await li.textContent(), new RegExp(b.name));
        const bh = (b.people || []).find((p) => p.role === 'block_head');
        if (bh?.phone) assert.equal(await li.locator('a[href^="tel:"]').getAttribute('href'), `tel:${bh.phone}`);
      }
      // every person of the grid is on it
      const text = await page.locator('#card').textContent();
      for (const p of grid.people) assert.ok(text.includes(p.name), `${p.name} on the grid card`);
      // a block of the list opens that block's card
      await page.locator(`#card-blocks li[data-code="${blocks[0].code}"] button[data-open]`).click();
      await page.waitForFunction((code) => (document.querySelector('#card-block')?.textContent || '').includes(code), blocks[0].code, { timeout: 15000 });
      assert.equal(await page.evaluate(() => document.querySelector('#card').dataset.kind), 'block');
      assert.deepEqual(await problems(), []);
      await context.close();
    });

    test(`${view.name} ${lang}: management units' staff have their pictures and whole names`, async () => {
      const { page, context, problems } = await openAt(browser, view, lang, { path: `/?area=${grid.code}` });
      await page.waitForFunction(() => document.querySelector('#card')?.dataset.kind === 'grid', null, { timeout: 15000 });
      await expand(page, view);
      const unitPeople = grid.management_units.flatMap((u) => u.people || []);
      assert.ok(unitPeople.length > 0);
      const imgs = page.locator('#card-units img');
      assert.equal(await imgs.count(), unitPeople.length);
      await page.locator('#card-units').scrollIntoViewIfNeeded();
      await page.waitForFunction(() => [...document.querySelectorAll('#card-units img')].every((i) => i.complete), null, { timeout: 10000 });
      const shown = await page.evaluate(() => [...document.querySelectorAll('#card-units .person')].map((p) => {
        const img = p.querySelector('img');
        const name = p.querySelector('.p-name');
        return { src: img.getAttribute('src'), ok: img.naturalWidth > 0, name: name.textContent, whole: name.scrollWidth <= name.clientWidth + 1 && name.getBoundingClientRect().right <= p.closest('#card').getBoundingClientRect().right };
      }));
      for (const s of shown) {
        assert.ok(s.ok, `the picture ${s.src} is shown`);
        assert.ok(s.whole, `the name ${s.name} is whole`);
      }
      for (const p of unitPeople) {
        const res = await page.request.get(new URL(p.photo_url, page.url()).href);
        assert.equal(res.status(), 200, p.photo_url);
        assert.match(res.headers()['content-type'], /image\/svg\+xml/);
      }
      await page.screenshot({ path: join(ARTIFACTS, `card-units-${view.name}-${lang}.png`) });
      assert.deepEqual(await problems(), []);
      await context.close();
    });

    test(`${view.name} ${lang}: a road segment clicked on the map gets its own card with its person and length`, async () => {
      const { page, context, problems } = await openAt(browser, view, lang);
      await page.evaluate(([lon, lat]) => window.gridatlas.map.jumpTo({ center: [lon, lat], zoom: 17.5 }), roadPoint);
      await settle(page);
      const at = await page.evaluate(([lon, lat]) => {
        const m = window.gridatlas.map; const p = m.project([lon, lat]); const r = m.getCanvas().getBoundingClientRect();
        return { x: r.left + p.x, y: r.top + p.y };
      }, roadPoint);
      if (view.hasTouch) await page.touchscreen.tap(at.x, at.y); else await page.mouse.click(at.x, at.y);
      await page.waitForFunction(() => document.querySelector('#card')?.dataset.kind === 'road_segment', null, { timeout: 15000 });
      assert.equal((await page.locator('#card-title').textContent()).trim(), road.name);
      const person = road.people[0];
      const who = page.locator('#card-road-person');
      assert.match(await who.textContent(), new RegExp(person.name));
      assert.ok(await who.locator(`a.call[href="tel:${person.phone}"]`).isVisible(), 'call the segment\'s person');
      assert.ok(road.length_m > 0, `the API gives the length: ${road.length_m}`);
      await expand(page, view);
      assert.equal((await page.locator('#card-road-length').textContent()).trim(), WORDS[lang].metres(Math.round(road.length_m)));
      assert.match(await page.locator('#card-block').textContent(), new RegExp(road.parent));
      // drawn as chosen
      assert.deepEqual(await page.evaluate(() => window.gridatlas.map.getFilter('selected-road-line')), ['==', ['get', 'code'], road.code]);
      await page.screenshot({ path: join(ARTIFACTS, `card-road-${view.name}-${lang}.png`) });
      assert.deepEqual(await problems(), []);
      await context.close();
    });

    test(`${view.name} ${lang}: a block card lists nearby segments by distance, each opening the segment's card`, async () => {
      const { page, context, problems } = await openAt(browser, view, lang, { path: `/?lon=${roadPoint[0]}&lat=${roadPoint[1]}` });
      await page.waitForFunction(() => document.querySelector('#card')?.dataset.kind === 'block', null, { timeout: 15000 });
      const look = await getJSON(`/api/v1/lookup?lon=${roadPoint[0]}&lat=${roadPoint[1]}`);
      const near = look.road_segments.find((s) => s.code === road.code);
      assert.ok(near, 'the lookup lists the segment');
      await expand(page, view);
      const btn = page.locator(`#card-roads [data-road="${road.code}"]`);
      assert.equal((await btn.locator('xpath=..').locator('.code').textContent()).trim(), WORDS[lang].away(Math.round(near.distance_m)));
      await btn.click();
      await page.waitForFunction(() => document.querySelector('#card')?.dataset.kind === 'road_segment', null, { timeout: 15000 });
      assert.match(await page.locator('#card-road-person').textContent(), new RegExp(road.people[0].name));
      assert.deepEqual(await problems(), []);
      await context.close();
    });
  }
}
