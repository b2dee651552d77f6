// Every string exists in both languages, and every key the pages and scripts use is defined.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
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
  for (const f of ['app.js', 'board.js', 'portal.js', 'desk.js', 'problems.js', 'm.js', 'report.js']) {
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
  for (const f of ['error.rs', 'body.rs', 'events.rs', 'mod.rs']) {
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
