// The planner tab's mapping step (issue 19): a table-format file (a zipped Shapefile, a
// GeoPackage, a CSV) is inspected by the server (POST /api/v1/drafts/inspect) — its file layers,
// the columns with sample values, the first records, the coordinate system found (or why none
// is) and the attributes' encoding, and a suggested column mapping — and shown here: a select per
// target (layer, code, name, parent, kind; person groups; a layer per file layer without a layer
// column), preselected from the suggestion, a coordinate system and an encoding select. The
// planner's choice becomes the upload's `mapping=`, `crs=` and `encoding=` (docs/formats.md).

import { inspectDraft } from './api.js';
import { t, label } from './i18n.js';

const $ = (s) => document.querySelector(s);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

/** Files the server reads as tables: they go through the mapping step. */
export function needsMapping(file) {
  return /\.(zip|shp|gpkg|csv)$/i.test(file?.name || '');
}

// The systems offered: CGCS2000 lon/lat, its 3° Gauss–Krüger zones (with the zone prefix
// 4513–4533, without 4534–4554), WGS 84 UTM 49–51N and Web Mercator.
export const CRS_CHOICES = [
  4490,
  ...Array.from({ length: 42 }, (_, i) => 4513 + i),
  32649, 32650, 32651, 3857,
];

function crsLabel(code) {
  if (code === 4490) return t('mapping.crs.geographic', { code });
  if (code >= 4513 && code <= 4533) return t('mapping.crs.gk_zone', { code, zone: code - 4513 + 25 });
  if (code >= 4534 && code <= 4554) return t('mapping.crs.gk_cm', { code, cm: 75 + 3 * (code - 4534) });
  if (code >= 32649 && code <= 32651) return t('mapping.crs.utm', { code, zone: code - 32600 });
  return t('mapping.crs.mercator', { code });
}

const TARGETS = ['layer', 'code', 'name', 'parent', 'kind'];
const ROLES = ['station_head', 'deputy_head', 'enforcement_officer', 'block_head', 'assistant', 'volunteer'];
const LAYERS = ['district', 'street', 'resident_grid', 'street_grid', 'extended_grid', 'block', 'road_segment'];

/** The mapping chosen in the form, as the upload's `mapping=` JSON takes it. */
export function mappingOf(root) {
  const m = {};
  for (const k of TARGETS) {
    const v = root.querySelector(`[data-target="${k}"]`)?.value;
    if (v) m[k] = v;
  }
  const layerOf = {};
  for (const s of root.querySelectorAll('[data-layer-of]')) if (s.value && !m.layer) layerOf[s.dataset.layerOf] = s.value;
  if (Object.keys(layerOf).length) m.layer_of = layerOf;
  const people = [];
  for (const g of root.querySelectorAll('.person-group')) {
    const get = (w) => g.querySelector(`[data-person="${w}"]`)?.value || '';
    const name = get('name');
    if (!name) continue;
    const p = {};
    const role = get('role');
    if (role.startsWith('col:')) p.role_column = role.slice(4);
    else p.role = role || 'assistant';
    p.name = name;
    if (get('phone')) p.phone = get('phone');
    if (get('staff_id')) p.staff_id = get('staff_id');
    people.push(p);
  }
  if (people.length) m.people = people;
  return m;
}

function columnsOf(found) {
  const cols = new Map();
  for (const l of found.layers) {
    for (const c of l.columns) if (!cols.has(c.name)) cols.set(c.name, c.samples);
  }
  return cols;
}

function columnOptions(cols, chosen, none = true) {
  const opts = none ? [`<option value="">${esc(t('mapping.none'))}</option>`] : [];
  for (const [name, samples] of cols) {
    const s = samples.length ? ` — ${samples.slice(0, 2).join('、')}` : '';
    opts.push(`<option value="${esc(name)}"${name === chosen ? ' selected' : ''}>${esc(name + s)}</option>`);
  }
  return opts.join('');
}

function personGroup(cols, p, i) {
  const roleOpts = [
    ...ROLES.map((r) => `<option value="${r}"${p.role === r ? ' selected' : ''}>${esc(label('role', r))}</option>`),
    ...[...cols.keys()].map((c) => `<option value="col:${esc(c)}"${p.role_column === c ? ' selected' : ''}>${esc(t('mapping.person.role_column', { c }))}</option>`),
  ].join('');
  const sel = (w, chosen, none) => `<label class="field"><span>${esc(t(`mapping.person.${w}`))}</span><select data-person="${w}">${columnOptions(cols, chosen, none)}</select></label>`;
  return `<fieldset class="person-group" data-i="${i}"><legend>${esc(t('mapping.person', { n: i + 1 }))}</legend>
    <label class="field"><span>${esc(t('mapping.person.role'))}</span><select data-person="role">${roleOpts}</select></label>
    ${sel('name', p.name, true)}${sel('phone', p.phone, true)}${sel('staff_id', p.staff_id, true)}
    <button class="btn small person-remove" type="button">${esc(t('mapping.person.remove'))}</button></fieldset>`;
}

function crsLine(l) {
  const c = l.crs;
  if (c.crs) return t('mapping.crs.found', { code: c.crs.code, name: c.crs.name });
  const guess = c.guess ? t('mapping.crs.guess', { code: c.guess.code, name: c.guess.name }) : '';
  return t('mapping.crs.unknown', { reason: c.reason || '' }) + guess;
}

function encodingLine(l) {
  if (!l.encoding) return '';
  return t('mapping.encoding.found', { e: l.encoding.encoding, source: t(`mapping.encoding.source.${l.encoding.source}`) });
}

function fmt(x) { return Number.isInteger(x) ? String(x) : x.toFixed(Math.abs(x) > 1000 ? 2 : 6); }

function geometryCell(g) {
  if (!g.type) return esc(t('mapping.geometry.none'));
  const v = g.first_lon_lat || g.first_xy;
  const at = v ? ` (${fmt(v[0])}, ${fmt(v[1])})` : '';
  return esc(`${g.type} · ${t('mapping.vertices', { n: g.vertices })}${at}`);
}

function layerHtml(l) {
  const cols = l.columns.map((c) => `<li><b>${esc(c.name)}</b> <span class="samples">${esc(c.samples.join('、') || t('mapping.empty'))}</span></li>`).join('');
  const head = l.columns.map((c) => `<th scope="col">${esc(c.name)}</th>`).join('');
  const rows = l.preview.map((r) => `<tr><th scope="row">${r.record}</th>${r.values.map((v) => `<td>${esc(v ?? '')}</td>`).join('')}<td>${geometryCell(r.geometry)}</td></tr>`).join('');
  return `<section class="mapping-layer" data-layer="${esc(l.name)}">
    <h4>${esc(t('mapping.layer', { name: l.name, file: l.file }))}</h4>
    <p class="f-meta">${esc(t('mapping.layer.meta', { type: l.geometry_type || '—', n: l.records }))}</p>
    <p class="f-meta crs-line${l.crs.crs ? '' : ' warn'}">${esc(crsLine(l))}</p>
    <p class="f-meta">${esc(encodingLine(l))}</p>
    <details><summary>${esc(t('mapping.columns', { n: l.columns.length }))}</summary><ul class="columns">${cols}</ul></details>
    <div class="preview-wrap" tabindex="0" role="region" aria-label="${esc(t('mapping.preview', { name: l.name }))}"><table class="preview"><caption>${esc(t('mapping.preview', { name: l.name }))}</caption><thead><tr><th scope="col">#</th>${head}<th scope="col">${esc(t('mapping.geometry'))}</th></tr></thead><tbody>${rows}</tbody></table></div>
  </section>`;
}

/**
 * The mapping step of `file`: inspects it with `opts` ({crs, encoding}), shows what it holds and
 * the selects in #mapping-step, and resolves with the upload's parameters ({mapping, crs,
 * encoding, filename}) when the planner confirms, or null when they cancel or start over.
 */
let pending = null;

export function mappingStep(file, token, setStatus) {
  const box = $('#mapping-step');
  pending?.(null);
  let finish = () => {};
  const done = new Promise((resolve) => { finish = resolve; });
  pending = finish;
  const state = { crs: '', encoding: '' };

  const render = (found) => {
    const cols = columnsOf(found);
    const sug = found.suggested_mapping || {};
    const unknown = found.layers.some((l) => !l.crs.crs);
    const crsNow = state.crs;
    const crsOpts = [`<option value="">${esc(t(unknown ? 'mapping.crs.choose' : 'mapping.crs.from_file'))}</option>`,
      ...CRS_CHOICES.map((c) => `<option value="${c}"${String(c) === crsNow ? ' selected' : ''}>${esc(crsLabel(c))}</option>`)].join('');
    const encOpts = ['', 'utf-8', 'gbk'].map((e) => `<option value="${e}"${e === state.encoding ? ' selected' : ''}>${esc(t(`mapping.encoding.${e || 'auto'}`))}</option>`).join('');
    const targets = TARGETS.map((k) => `<label class="field"><span>${esc(t(`mapping.target.${k}`))}</span><select data-target="${k}">${columnOptions(cols, sug[k])}</select></label>`).join('');
    const layerOf = found.layers.map((l) => `<label class="field"><span>${esc(t('mapping.layer_of', { name: l.name }))}</span><select data-layer-of="${esc(l.name)}"><option value="">${esc(t('mapping.none'))}</option>${LAYERS.map((x) => `<option value="${x}"${sug.layer_of?.[l.name] === x ? ' selected' : ''}>${esc(label('layer', x))}</option>`).join('')}</select></label>`).join('');
    const people = (sug.people || []).map((p, i) => personGroup(cols, p, i)).join('');
    box.innerHTML = `<h3 id="mapping-title">${esc(t('mapping.title'))}</h3>
      <p class="help">${esc(t('mapping.help'))}</p>
      ${found.layers.map(layerHtml).join('')}
      <div class="mapping-form">
        <label class="field"><span>${esc(t('mapping.crs'))}</span><select id="mapping-crs">${crsOpts}</select></label>
        <label class="field"><span>${esc(t('mapping.encoding'))}</span><select id="mapping-encoding">${encOpts}</select></label>
        ${targets}
        <div id="mapping-layer-of" class="layer-of"${sug.layer ? ' hidden' : ''}><p class="help">${esc(t('mapping.layer_of.help'))}</p>${layerOf}</div>
        <div id="mapping-people">${people}</div>
        <button id="mapping-add-person" class="btn wide" type="button">${esc(t('mapping.person.add'))}</button>
      </div>
      <div id="mapping-error" class="status-line error" role="alert"></div>
      <button id="mapping-apply" class="btn primary wide" type="button">${esc(t('mapping.apply'))}</button>
      <button id="mapping-cancel" class="btn wide" type="button">${esc(t('mapping.cancel'))}</button>`;
    box.hidden = false;
    const layerSel = box.querySelector('[data-target="layer"]');
    layerSel.addEventListener('change', () => { $('#mapping-layer-of').hidden = !!layerSel.value; });
    $('#mapping-encoding').addEventListener('change', (e) => { state.encoding = e.target.value; state.crs = $('#mapping-crs').value; load(); });
    $('#mapping-crs').addEventListener('change', (e) => { state.crs = e.target.value; });
    $('#mapping-add-person').addEventListener('click', () => {
      const n = box.querySelectorAll('.person-group').length;
      $('#mapping-people').insertAdjacentHTML('beforeend', personGroup(cols, { role: 'assistant' }, n));
    });
    $('#mapping-people').addEventListener('click', (e) => {
      if (e.target.closest('.person-remove')) e.target.closest('.person-group').remove();
    });
    $('#mapping-cancel').addEventListener('click', () => { box.hidden = true; finish(null); });
    $('#mapping-apply').addEventListener('click', () => {
      const crs = $('#mapping-crs').value;
      const err = $('#mapping-error');
      if (unknown && !crs) { err.textContent = t('mapping.need_crs'); return; }
      const m = mappingOf(box);
      if (!m.code || !m.name) { err.textContent = t('mapping.need_code_name'); return; }
      err.textContent = '';
      box.hidden = true;
      finish({ mapping: JSON.stringify(m), crs: crs ? `EPSG:${crs}` : '', encoding: state.encoding, filename: file.name });
    });
  };

  const load = async () => {
    setStatus(t('mapping.inspecting'));
    try {
      const found = await inspectDraft(file, token, { encoding: state.encoding, filename: file.name });
      setStatus('');
      render(found);
    } catch (e) {
      box.hidden = true;
      finish(e);
    }
  };
  load();
  return done.then((r) => {
    if (r instanceof Error) throw r;
    return r;
  });
}

/** Hides the step (a new file chosen). */
export function closeMapping() {
  pending?.(null);
  pending = null;
  const box = $('#mapping-step');
  if (box) { box.hidden = true; box.innerHTML = ''; }
}
