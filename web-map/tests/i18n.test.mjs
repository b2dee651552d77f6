// Every string exists in both languages, and every key the pages and scripts use is defined.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { STRINGS } from '../i18n.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..');

test('zh and en have the same keys', () => {
  assert.deepEqual(Object.keys(STRINGS.en).sort(), Object.keys(STRINGS.zh).sort());
});

test('every key used by the pages and scripts is defined', () => {
  const used = new Set();
  for (const f of ['index.html', 'board.html', 'portal.html', 'm.html', 'report.html']) {
    for (const m of readFileSync(join(dir, f), 'utf8').matchAll(/data-i18n(?:-placeholder|-title)?="([^"]+)"/g)) used.add(m[1]);
  }
  for (const f of ['app.js', 'mapping.js', 'board.js', 'portal.js', 'desk.js', 'problems.js', 'm.js', 'report.js']) {
    for (const m of readFileSync(join(dir, f), 'utf8').matchAll(/\bt\('([a-z_.]+)'/g)) used.add(m[1]);
  }
  const missing = [...used].filter((k) => !(k in STRINGS.zh));
  assert.deepEqual(missing, []);
  assert.ok(used.size > 50, `${used.size} keys used`);
});

test('the labels of roles, kinds, rules, layers, component classes and states, and standing levels are there in both languages', () => {
  const ids = {
    role: ['station_head', 'deputy_head', 'enforcement_officer', 'block_head', 'assistant', 'volunteer'],
    layer: ['district', 'street', 'resident_grid', 'street_grid', 'extended_grid', 'block', 'road_segment'],
    rule: ['invalid_geometry', 'hierarchy', 'overlap', 'gap', 'containment', 'sliver'],
    kind: ['subdistrict', 'town', 'zone', 'residents', 'villagers', 'factory', 'campus', 'industrial_park', 'business_district', 'institution', 'public_area'],
    // the asset layers: major classes of components, their states, shops' standing levels
    class: ['01', '02', '03', '04', '05', '06', '07'],
    cstate: ['intact', 'damaged', 'missing', 'occupied', 'abandoned'],
    level: ['good', 'warned', 'escalated'],
    'assets.what': ['components', 'shops'],
  };
  for (const [prefix, list] of Object.entries(ids)) {
    for (const id of list) for (const l of ['zh', 'en']) assert.ok(`${prefix}.${id}` in STRINGS[l], `${l}: ${prefix}.${id}`);
  }
});

test('every problem type the server can answer, and every case action has words in both languages', () => {
  // the slugs of src/http/error.rs and of the problems built elsewhere in src/http
  const src = join(dir, '..', 'src', 'http');
  const slugs = new Set();
  for (const f of readdirSync(src).filter((n) => n.endsWith('.rs'))) {
    const text = readFileSync(join(src, f), 'utf8');
    for (const m of text.matchAll(/StatusCode::[A-Z_]+,\s*"([a-z-]+)"/g)) slugs.add(m[1]);
    for (const m of text.matchAll(/slug: "([a-z-]+)"/g)) slugs.add(m[1]);
  }
  assert.ok(slugs.size >= 14, `${slugs.size} problem types found: ${[...slugs]}`);
  const workflow = readFileSync(join(dir, '..', 'src', 'cases', 'workflow.rs'), 'utf8');
  const actions = [...workflow.matchAll(/Action::[A-Za-z]+ => "([a-z_]+)"/g)].map((m) => m[1]);
  assert.ok(actions.length >= 19, `${actions.length} actions found`);
  const missing = [];
  for (const lang of ['zh', 'en']) {
    for (const s of slugs) if (!(`problem.${s}` in STRINGS[lang])) missing.push(`${lang} problem.${s}`);
    for (const a of actions) if (!(`action.${a}` in STRINGS[lang])) missing.push(`${lang} action.${a}`);
  }
  assert.deepEqual(missing, []);
});

// issue 20: every code a problem+json can carry (`code`, the slug of `type`) reads as a sentence
// of the page's language — not the server's English — in both languages, through the same
// mapping the pages use (problems.js), and docs/api.md lists it.
test('every problem code the API can answer is translated by problems.js in zh and en, with the server text only as the detail', async () => {
  const src = join(dir, '..', 'src', 'http');
  const codes = new Set();
  for (const f of readdirSync(src).filter((n) => n.endsWith('.rs'))) {
    const text = readFileSync(join(src, f), 'utf8');
    for (const m of text.matchAll(/StatusCode::[A-Z_]+,\s*"([a-z-]+)"/g)) codes.add(m[1]);
    for (const m of text.matchAll(/slug: "([a-z-]+)"/g)) codes.add(m[1]);
  }
  assert.ok(codes.size >= 15, `${codes.size} codes: ${[...codes]}`);
  const apiDoc = readFileSync(join(dir, '..', 'docs', 'api.md'), 'utf8');
  for (const c of codes) assert.ok(apiDoc.includes(`\`${c}\``), `docs/api.md lists the code ${c}`);
  // a minimal document for setLang (the pages' language switch) outside a browser
  globalThis.document ??= { documentElement: {}, querySelectorAll: () => [], dispatchEvent: () => true };
  globalThis.CustomEvent ??= class { constructor(type, init) { this.type = type; this.detail = init?.detail; } };
  const { setLang } = await import('../i18n.js');
  const { problemText } = await import('../problems.js');
  const seen = { zh: new Set(), en: new Set() };
  for (const lang of ['zh', 'en']) {
    setLang(lang);
    for (const code of codes) {
      const detail = `server sentence for ${code}`;
      const status = { 'not-found': 404, conflict: 409, unauthorized: 401, forbidden: 403 }[code] ?? 418;
      const { text, detail: d } = problemText({ status, problem: { type: `urn:gridatlas:problem:${code}`, code, detail } });
      assert.equal(text, STRINGS[lang][`problem.${code}`], `${lang} ${code}`);
      assert.equal(d, detail, `${lang} ${code}: the server's text is the detail`);
      assert.ok(!text.includes(detail));
      if (lang === 'zh') assert.match(text, /[\u4e00-\u9fff]/, `zh ${code} is Chinese: ${text}`);
      seen[lang].add(text);
    }
    // the code alone (no `type`) is enough
    assert.equal(problemText({ status: 409, problem: { code: 'conflict', detail: 'x' } }).text, STRINGS[lang]['problem.conflict']);
    // a parameter at fault is named in the page's language (the lookup's `lon`)
    assert.equal(problemText({ status: 400, problem: { code: 'invalid-parameter', parameter: 'lon', detail: 'parameter `lon`: NaN' } }).text,
      STRINGS[lang]['problem.field'].replace('{field}', STRINGS[lang]['field.lon']));
  }
  setLang('zh');
  assert.equal(seen.zh.size, codes.size, 'one sentence per code (zh)');
});
