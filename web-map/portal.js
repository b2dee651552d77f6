// 街镇网格化门户 (/portal?street=CODE; the district view without street): the day's and the
// month's cases by stage, overdue, supervised (督办) and queued cases, attendance now, patrol
// coverage of the day, grids coloured by a chosen indicator (with its legend), open cases as
// clustered markers — kept live by the server's event stream (GET /api/v1/events), read with
// fetch so that the token goes in the Authorization header (EventSource cannot send one).
// The token comes from the link (#token=…, which is never sent to the server and is removed from
// the address bar at once) or from the field, and is kept for the tab's session only.
import * as maplibregl from './vendor/maplibre-gl/maplibre-gl.mjs';
import * as echarts from './vendor/echarts/echarts.esm.min.mjs';
import { getWithToken, readEvents } from './api.js';
import { t, applyI18n, getLang, setLang } from './i18n.js';
import { problemText } from './problems.js';
import { initDesk, loadDesk, caseChanged, setCategories } from './desk.js';

const $ = (s) => document.querySelector(s);
const STREET = new URLSearchParams(location.search).get('street') || '';
const TOKEN_KEY = 'gridatlas.portalToken';
// Chinese districts keep China Standard Time; "today" and "this month" are the district's.
const DISTRICT_TZ = 'Asia/Shanghai';
const STAGES = ['reported', 'accepted', 'verified', 'opened', 'dispatched', 'disposed', 'checked', 'closed', 'rejected', 'on_hold', 'void'];
const GRID_LAYERS = ['resident_grid', 'street_grid', 'extended_grid'];
// Indicators a grid can be coloured by (rates of the national standard), and the class breaks.
export const INDICATORS = ['on_time_rate', 'close_rate', 'dispose_on_time_rate', 'verify_on_time_rate', 'satisfaction_rate', 'front_end_resolution_rate'];
export const BREAKS = [0.6, 0.8, 0.9, 0.95];
export const CLASS_COLORS = ['#d7301f', '#fc8d59', '#fdcc8a', '#a1d99b', '#31a354'];
const NO_DATA = '#d9d9d9';

const state = { token: '', map: null, chart: null, indicators: null, cases: new Map(), refresh: null, categories: new Map() };

function district(d = new Date()) {
  return new Intl.DateTimeFormat('en-CA', { timeZone: DISTRICT_TZ, year: 'numeric', month: '2-digit', day: '2-digit' }).format(d);
}

function q(params) {
  const p = new URLSearchParams();
  if (STREET) p.set('street', STREET);
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) p.set(k, v);
  const s = p.toString();
  return s ? `?${s}` : '';
}

const get = (path) => getWithToken(path, state.token);

/** A failure in the page's language, with the server's sentence after it. */
function failure(e) {
  const { text, detail } = problemText(e);
  return t('portal.error', { msg: detail ? `${text} (${detail})` : text });
}

function setStatus(msg, cls = '') {
  const el = $('#portal-status');
  el.textContent = msg;
  el.className = `status ${cls}`;
}

function setLive(on) {
  const el = $('#live');
  el.classList.toggle('off', !on);
  el.dataset.i18n = on ? 'portal.live.on' : 'portal.live.off';
  el.textContent = t(el.dataset.i18n);
}

const pct = (v) => (v === null || v === undefined ? '–' : `${(v * 100).toFixed(1)}%`);

/** The class (0–4) of an indicator value, or -1 without a value. */
export function classOf(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return -1;
  let i = 0;
  while (i < BREAKS.length && v >= BREAKS[i]) i += 1;
  return i;
}

function legendLabel(i) {
  if (i === 0) return `< ${BREAKS[0] * 100}%`;
  if (i === BREAKS.length) return `≥ ${BREAKS[i - 1] * 100}%`;
  return `${BREAKS[i - 1] * 100}–${BREAKS[i] * 100}%`;
}

// ------------------------------------------------------------------ figures

async function loadStats() {
  const today = district();
  const month = `${today.slice(0, 8)}01`;
  const [day, mon] = await Promise.all([
    get(`/api/v1/cases/stats${q({ from: today })}`),
    get(`/api/v1/cases/stats${q({ from: month })}`),
  ]);
  $('#kpi-today').textContent = day.total;
  $('#kpi-month').textContent = mon.total;
  $('#kpi-open').textContent = mon.open;
  $('#kpi-overdue').textContent = mon.overdue;
  $('#kpi-supervised').textContent = mon.supervised;
  $('#kpi-queued').textContent = mon.queued;
  if (!state.chart) state.chart = echarts.init($('#chart-stages'), null, { renderer: 'canvas' });
  state.chart.setOption({
    animation: false,
    grid: { left: 36, right: 8, top: 28, bottom: 52 },
    legend: { top: 0, data: [t('portal.today'), t('portal.month')] },
    tooltip: { trigger: 'axis' },
    xAxis: { type: 'category', data: STAGES.map((s) => t(`stage.${s}`)), axisLabel: { rotate: 40, fontSize: 11 } },
    yAxis: { type: 'value', minInterval: 1 },
    series: [
      { name: t('portal.today'), type: 'bar', data: STAGES.map((s) => day.by_stage[s] ?? 0), itemStyle: { color: '#b8312f' } },
      { name: t('portal.month'), type: 'bar', data: STAGES.map((s) => mon.by_stage[s] ?? 0), itemStyle: { color: '#4a78b5' } },
    ],
  }, true);
  $('#chart-stages').dataset.today = JSON.stringify(day.by_stage);
}

async function loadField() {
  const today = district();
  const [att, cov] = await Promise.all([
    get(`/api/v1/attendance${q({ date: today })}`),
    get(`/api/v1/coverage${q({ from: today })}`),
  ]);
  const sum = att.total;
  $('#att-on-duty').textContent = sum.on_duty;
  $('#att-late').textContent = sum.late;
  $('#att-absent').textContent = sum.absent;
  $('#att-outside').textContent = sum.outside;
  $('#cov-share').textContent = pct(cov.covered_share);
  $('#cov-unpatrolled').textContent = cov.unpatrolled_grids.length;
  const uncovered = new Set(cov.segments.filter((s) => s.share < 0.8).map((s) => s.code));
  if (state.map?.getLayer('uncovered')) state.map.setFilter('uncovered', ['in', ['get', 'code'], ['literal', [...uncovered]]]);
}

async function loadIndicators() {
  const today = district();
  state.indicators = await get(`/api/v1/indicators${q({ from: `${today.slice(0, 8)}01` })}`);
  paintChoropleth();
}

function paintChoropleth() {
  const key = $('#indicator').value;
  const grids = state.indicators?.grids ?? [];
  const counts = [0, 0, 0, 0, 0];
  let none = 0;
  const match = ['match', ['get', 'code']];
  for (const g of grids) {
    const c = classOf(g[key]);
    if (c < 0) { none += 1; continue; }
    counts[c] += 1;
    match.push(g.code, CLASS_COLORS[c]);
  }
  // a `match` needs one label at least: with no grid of a value, every grid is "no data"
  const color = match.length > 2 ? [...match, NO_DATA] : NO_DATA;
  if (state.map) {
    for (const l of GRID_LAYERS) {
      if (state.map.getLayer(`${l}-choropleth`)) state.map.setPaintProperty(`${l}-choropleth`, 'fill-color', color);
    }
  }
  const legend = $('#legend');
  legend.replaceChildren();
  const item = (color, text, n, cls) => {
    const li = document.createElement('li');
    li.dataset.class = cls;
    li.dataset.count = String(n);
    const sw = document.createElement('span');
    sw.className = 'swatch';
    sw.style.background = color;
    const label = document.createElement('span');
    label.textContent = `${text} · ${t('portal.legend.grids', { n })}`;
    li.append(sw, label);
    legend.append(li);
  };
  for (let i = CLASS_COLORS.length - 1; i >= 0; i -= 1) item(CLASS_COLORS[i], legendLabel(i), counts[i], String(i));
  item(NO_DATA, t('portal.legend.none'), none, 'none');
}

async function loadCases() {
  const list = await get(`/api/v1/cases${q({ stage: 'open', limit: 1000 })}`);
  state.cases.clear();
  for (const c of list.items) state.cases.set(c.id, { id: c.id, lon: c.assignment.point[0], lat: c.assignment.point[1], stage: c.stage, overdue: c.overdue });
  paintCases();
}

function paintCases() {
  const src = state.map?.getSource('cases');
  if (!src) return;
  src.setData({ type: 'FeatureCollection', features: [...state.cases.values()].map((c) => ({
    type: 'Feature', geometry: { type: 'Point', coordinates: [c.lon, c.lat] }, properties: { id: c.id, stage: c.stage, overdue: c.overdue ? 1 : 0 } })) });
}

/** The day's patrol paths of the street (personal data: the dispatcher, supervisor or admin
 * reads them; for another token the layer stays empty and says why). */
async function loadPaths() {
  const src = state.map?.getSource('paths');
  if (!src) return;
  // the district view has no paths layer: the API reads paths street by street (≤ 7 days)
  if (!STREET) { $('#show-paths').closest('label').hidden = true; return; }
  if (!$('#show-paths').checked) { src.setData({ type: 'FeatureCollection', features: [] }); return; }
  const fc = await get(`/api/v1/tracks${q({ from: district() })}`);
  src.setData(fc);
  $('#show-paths').closest('label').dataset.count = String(fc.features.length);
}

function periodStart(p) {
  const today = district();
  if (p === 'day') return today;
  if (p === 'month') return `${today.slice(0, 8)}01`;
  return district(new Date(Date.now() - 6 * 86400000));
}

/** The heat of a category's cases (or all) reported in the chosen period. */
async function loadHeat() {
  const on = $('#show-heat').checked;
  if (!state.map) return;
  state.map.setLayoutProperty('case-heat', 'visibility', on ? 'visible' : 'none');
  if (!on) return;
  const cat = $('#heat-category').value;
  const list = await get(`/api/v1/cases${q({ category: cat || undefined, from: periodStart($('#heat-period').value), limit: 1000 })}`);
  state.map.getSource('heat').setData({ type: 'FeatureCollection', features: list.items.map((c) => ({
    type: 'Feature', geometry: { type: 'Point', coordinates: c.assignment.point }, properties: { id: c.id } })) });
  $('#show-heat').closest('label').dataset.count = String(list.items.length);
}

function setupLayers() {
  const sel = $('#heat-category');
  sel.replaceChildren(new Option(t('portal.heat.all'), ''), ...[...state.categories.values()].map((c) => new Option(categoryName(c.code), c.code)));
  const fail = (e) => setStatus(failure(e), 'error');
  $('#show-paths').addEventListener('change', () => loadPaths().catch(fail));
  $('#show-uncovered').addEventListener('change', () => state.map?.setLayoutProperty('uncovered', 'visibility', $('#show-uncovered').checked ? 'visible' : 'none'));
  for (const id of ['#show-heat', '#heat-category', '#heat-period']) $(id).addEventListener('change', () => loadHeat().catch(fail));
}

async function loadAll() {
  const jobs = [loadStats(), loadField(), loadIndicators(), loadCases(), loadDesk(), loadPaths(), loadHeat()];
  const results = await Promise.allSettled(jobs);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) setStatus(failure(failed.reason), 'error');
  else setStatus('');
  // every panel has its data (first render, measured by tests/portal-perf.test.mjs)
  if (!document.body.dataset.loaded) {
    performance.mark('portal-loaded');
    document.body.dataset.loaded = failed ? 'error' : 'ready';
  }
}

function scheduleRefresh() {
  clearTimeout(state.refresh);
  state.refresh = setTimeout(() => {
    for (const load of [loadStats, loadField, loadIndicators, loadDesk]) load().catch((e) => setStatus(failure(e), 'error'));
  }, 300);
}

// ------------------------------------------------------------------ live

/** A category's name in the page's language (its code when the task list does not have it). */
function categoryName(code) {
  const c = state.categories.get(code);
  if (!c) return code;
  return getLang() === 'zh' ? c.name_zh : (c.name_en || c.name_zh);
}

async function loadCategories() {
  const list = await get('/api/v1/categories');
  state.categories = new Map(list.items.map((c) => [c.code, c]));
  setCategories(state.categories);
}

function feed(text, kind) {
  const li = document.createElement('li');
  li.className = kind;
  const time = document.createElement('time');
  time.textContent = new Date().toLocaleTimeString(getLang() === 'zh' ? 'zh-CN' : 'en-GB', { timeZone: DISTRICT_TZ, hour12: false });
  const span = document.createElement('span');
  span.textContent = text;
  li.append(time, span);
  const list = $('#feed');
  list.prepend(li);
  while (list.children.length > 200) list.lastChild.remove();
}

function onEvent(kind, e) {
  if (kind === 'case' && e.case) {
    const c = e.case;
    const finished = ['closed', 'rejected', 'void'].includes(c.stage);
    if (finished) state.cases.delete(c.id);
    else state.cases.set(c.id, { id: c.id, lon: c.lon, lat: c.lat, stage: c.stage, overdue: c.overdue });
    paintCases();
    feed(t('portal.feed.case', { id: c.id, stage: t(`stage.${c.stage}`), category: categoryName(c.category) }), 'case');
    caseChanged(c.id);
    scheduleRefresh();
  } else if (kind === 'checkin' && e.checkin) {
    const who = e.checkin.staff ?? t('portal.feed.someone');
    feed(t('portal.feed.checkin', { who, grid: e.grid ?? '–', klass: t(`attendance.${e.checkin.class}`) }), 'checkin');
    scheduleRefresh();
    loadPaths().catch(() => {});
  } else if (kind === 'publish') {
    feed(t('portal.feed.publish', { n: e.generation }), 'publish');
  } else if (kind === 'lagged') {
    loadAll();
  }
}

async function stream() {
  let first = true;
  for (;;) {
    try {
      await readEvents(`/api/v1/events${q({})}`, state.token, (kind, data) => {
        if (kind === 'ready') {
          setLive(true);
          // after a reconnect, what happened meanwhile is read again
          if (!first) loadAll();
          first = false;
          document.body.dataset.live = 'ready';
        } else {
          onEvent(kind, data);
        }
      });
    } catch (e) {
      if (e.status === 401 || e.status === 403) { setStatus(failure(e), 'error'); setLive(false); return; }
      if (e.status) setStatus(failure(e), 'error');
    }
    setLive(false);
    await new Promise((r) => setTimeout(r, 2000));
  }
}

// ------------------------------------------------------------------ map

async function setupMap() {
  const [config, tilejson] = await Promise.all([get('/api/v1/config'), get('/api/v1/tiles.json')]);
  const tiles = (tilejson.tiles || []).map((u) => new URL(u, location.href).href.replace(/%7B/gi, '{').replace(/%7D/gi, '}'));
  let bounds = config.bbox;
  if (STREET) {
    const area = await get(`/api/v1/areas/${encodeURIComponent(STREET)}`);
    $('#portal-area').textContent = area.name ?? STREET;
    document.title = `${area.name ?? STREET} · ${t('portal.title')}`;
    if (area.bbox) bounds = area.bbox;
  } else {
    $('#portal-area').textContent = config.district?.name ?? '';
  }
  const src = (layer) => ({ source: 'atlas', 'source-layer': layer });
  const streetFilter = STREET ? ['==', ['get', 'parent'], STREET] : true;
  const layers = [
    { id: 'background', type: 'background', paint: { 'background-color': '#eef1f4' } },
    { id: 'district-fill', type: 'fill', ...src('district'), paint: { 'fill-color': '#ffffff' } },
    ...GRID_LAYERS.map((l) => ({ id: `${l}-choropleth`, type: 'fill', ...src(l), filter: streetFilter, paint: { 'fill-color': NO_DATA, 'fill-opacity': 0.75 } })),
    ...GRID_LAYERS.map((l) => ({ id: `${l}-line`, type: 'line', ...src(l), paint: { 'line-color': '#5b6b7b', 'line-width': 0.6 } })),
    { id: 'uncovered', type: 'line', ...src('road_segment'), filter: ['in', ['get', 'code'], ['literal', []]], paint: { 'line-color': '#7a0177', 'line-width': 3, 'line-dasharray': [2, 1] } },
    { id: 'street-line', type: 'line', ...src('street'), paint: { 'line-color': '#b8312f', 'line-width': 1.6 } },
    { id: 'case-heat', type: 'heatmap', source: 'heat', layout: { visibility: 'none' }, paint: { 'heatmap-radius': ['interpolate', ['linear'], ['zoom'], 10, 12, 16, 40], 'heatmap-opacity': 0.75 } },
    { id: 'patrol-paths', type: 'line', source: 'paths', paint: { 'line-color': '#1a7f37', 'line-width': 1.2, 'line-opacity': 0.6 } },
    { id: 'case-clusters', type: 'circle', source: 'cases', filter: ['has', 'point_count'], paint: { 'circle-color': '#b8312f', 'circle-radius': ['step', ['get', 'point_count'], 12, 10, 16, 50, 22], 'circle-opacity': 0.85 } },
    { id: 'case-cluster-count', type: 'symbol', source: 'cases', filter: ['has', 'point_count'], layout: { 'text-field': ['get', 'point_count_abbreviated'], 'text-size': 12 }, paint: { 'text-color': '#fff' } },
    { id: 'case-points', type: 'circle', source: 'cases', filter: ['!', ['has', 'point_count']], paint: { 'circle-color': ['case', ['==', ['get', 'overdue'], 1], '#d7301f', '#e8a33d'], 'circle-radius': 6, 'circle-stroke-color': '#fff', 'circle-stroke-width': 1.5 } },
  ];
  const map = new maplibregl.Map({
    container: 'map',
    style: {
      version: 8,
      sources: {
        atlas: { type: 'vector', tiles, minzoom: tilejson.minzoom ?? 0, maxzoom: tilejson.maxzoom ?? 16, promoteId: 'code' },
        cases: { type: 'geojson', data: { type: 'FeatureCollection', features: [] }, cluster: true, clusterMaxZoom: 16, clusterRadius: 40 },
        heat: { type: 'geojson', data: { type: 'FeatureCollection', features: [] } },
        paths: { type: 'geojson', data: { type: 'FeatureCollection', features: [] } },
      },
      layers,
    },
    bounds,
    fitBoundsOptions: { padding: 20 },
    attributionControl: false,
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  state.map = map;
  await new Promise((r) => (map.loaded() ? r() : map.once('load', r)));
  document.body.dataset.map = 'ready';
  // tiles drawn (first render, measured by tests/portal-perf.test.mjs)
  map.once('idle', () => { document.body.dataset.mapIdle = '1'; });
}

function setupIndicators() {
  const sel = $('#indicator');
  sel.replaceChildren(...INDICATORS.map((k) => {
    const o = document.createElement('option');
    o.value = k;
    o.textContent = t(`indicator.${k}`);
    return o;
  }));
  sel.addEventListener('change', paintChoropleth);
}

async function start() {
  applyI18n();
  $('#lang-toggle').addEventListener('click', () => setLang(getLang() === 'zh' ? 'en' : 'zh'));
  // the month's report of the street (the token stays in this tab's session)
  if (STREET) $('#portal-report').href = `report?street=${encodeURIComponent(STREET)}`;
  else $('#portal-report').hidden = true;
  document.addEventListener('langchange', () => { setupIndicators(); paintChoropleth(); loadStats().catch(() => {}); });
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.get('token')) {
    try { sessionStorage.setItem(TOKEN_KEY, hash.get('token')); } catch { /* ignore */ }
    history.replaceState(null, '', location.pathname + location.search);
  }
  const field = $('#portal-token');
  try { field.value = sessionStorage.getItem(TOKEN_KEY) || ''; } catch { /* ignore */ }
  setupIndicators();
  const go = async () => {
    state.token = field.value.trim();
    if (!state.token) { setStatus(t('portal.need_token'), 'error'); return; }
    try { sessionStorage.setItem(TOKEN_KEY, state.token); } catch { /* ignore */ }
    setStatus(t('portal.loading'));
    initDesk({ token: state.token, street: STREET, onActed: () => scheduleRefresh() });
    try {
      if (!state.map) await setupMap();
      await loadCategories();
      setupLayers();
      await loadAll();
    } catch (e) {
      setStatus(failure(e), 'error');
      return;
    }
    stream();
  };
  field.addEventListener('change', go, { once: true });
  window.addEventListener('resize', () => state.chart?.resize());
  if (field.value.trim()) go();
  else setStatus(t('portal.need_token'), 'error');
}

start();
