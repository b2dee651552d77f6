// gridatlas web map: who is responsible for this place?
// Plain ES module, no build step. MapLibre GL JS is vendored in vendor/maplibre-gl/.
import * as maplibregl from './vendor/maplibre-gl/maplibre-gl.mjs';
import { api, uploadDraft, getWithToken } from './api.js';
import { needsMapping, mappingStep, closeMapping } from './mapping.js';
import { t, label, applyI18n, setLang, getLang } from './i18n.js';
import { problemText, problemHtml, showProblem } from './problems.js';
import { parsePoint, parseAngle } from './coords.js';

const $ = (sel, root = document) => root.querySelector(sel);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const fmt = (n, d = 6) => Number(n).toFixed(d);

// Layer colours (mirrored in style.css).
export const COLORS = {
  street: '#4a5563',
  resident: '#e8873a',
  villagers: '#d9a13b',
  streetGrid: '#2f7fd1',
  extGreen: '#2e9d6a',
  extPurple: '#8a5cc2',
  block: '#3a3f47',
  road: '#d2372c',
  highlight: '#b8312f',
};
// Components by major class (01–07), shops by standing (mirrored in style.css).
export const ASSET_COLORS = {
  class: { '01': '#1d6fb8', '02': '#e0662b', '03': '#8a5cc2', '04': '#2e9d4a', '05': '#8c6d3f', '06': '#5f6b7a', '07': '#d63384' },
  level: { good: '#2e9d6a', warned: '#f0a020', escalated: '#d92d20' },
  other: '#98a2b3',
  cluster: '#1d5fa8',
};
const EXT_GREEN_KINDS = ['campus', 'public_area'];
const GRID_LAYERS = ['resident_grid', 'street_grid', 'extended_grid'];

// Map-layer ids belonging to each toggle in the panel.
const TOGGLES = {
  street: ['street-line', 'street-casing', 'street-fill'],
  resident_grid: ['resident_grid-fill', 'resident_grid-line'],
  street_grid: ['street_grid-fill', 'street_grid-line'],
  extended_grid: ['extended_grid-fill', 'extended_grid-line'],
  block: ['block-line', 'block-number', 'block-name'],
  road_segment: ['road_segment-line', 'road_segment-label'],
  labels: ['street-label', 'grid-label', 'block-number', 'block-name', 'road_segment-label', 'district-label'],
  basemap: ['basemap'],
  components: ['component-cluster', 'component-cluster-count', 'component-point', 'component-selected'],
  shops: ['shop-point', 'shop-selected'],
};
// The asset layers are loaded for the view (by bbox) when on, and not below this zoom.
const ASSET_KEYS = ['components', 'shops'];
export const ASSET_MIN_ZOOM = 13;
const ASSET_PAGE = 5000; // per request (the API allows 10,000)
const ASSET_MAX = 20000; // per view: beyond it the hint asks to zoom in

const state = {
  config: null,
  map: null,
  marker: null,
  intakeMarker: null,
  lastLookup: null,
  tab: 'explore',
  intakePoint: null,
  categories: null,
  draft: null,
  findings: null,
  layerOn: {},
  // the asset layers: the items in the loaded box by code / id, the box, and the state of the
  // last load per layer ('off', 'zoom' (zoomed out), 'loading', 'ready', 'partial', 'error')
  assets: {
    components: new Map(), shops: new Map(), box: {}, status: { components: 'off', shops: 'off' },
    loads: { components: 0, shops: 0 }, classes: null, scheduled: false,
  },
  lastAsset: null,
};
window.gridatlas = state; // for the browser tests and for debugging

function pinElement(color) {
  const el = document.createElement('div');
  el.className = 'pin';
  el.innerHTML = `<svg viewBox="0 0 22 30" width="22" height="30"><path d="M11 29s10-10.5 10-18A10 10 0 0 0 1 11c0 7.5 10 18 10 18z" fill="${color}" stroke="#fff" stroke-width="2"/><circle cx="11" cy="11" r="4" fill="#fff"/></svg>`;
  return el;
}

// ---------------------------------------------------------------- map style

function gridFillColor() {
  return ['match', ['get', 'kind'], 'villagers', COLORS.villagers, COLORS.resident];
}
function extColor() {
  return ['match', ['get', 'kind'], EXT_GREEN_KINDS, COLORS.extGreen, COLORS.extPurple];
}
// The block's number: `seq` when the server sends one, else the number the code ends with
// (310116001002B01 → 1, 310116101001003 → 3): the last 3, 2 or 1 characters that are a number.
const CODE = ['to-string', ['get', 'code']];
const tail = (n) => ['slice', CODE, ['max', 0, ['-', ['length', CODE], n]]];
const BLOCK_NUMBER = ['to-string', ['coalesce', ['get', 'seq'], ['to-number', tail(3), tail(2), tail(1), 0]]];

function buildStyle(config, tilejson, streets = []) {
  const tiles = (tilejson.tiles || ['/api/v1/tiles/{z}/{x}/{y}.mvt'])
    .map((u) => new URL(u, location.href).href.replace(/%7B/gi, '{').replace(/%7D/gi, '}'));
  const sources = {
    atlas: {
      type: 'vector',
      tiles,
      minzoom: tilejson.minzoom ?? 0,
      maxzoom: tilejson.maxzoom ?? 16,
      bounds: tilejson.bounds || config.bbox,
      promoteId: 'code',
    },
    findings: { type: 'geojson', data: { type: 'FeatureCollection', features: [] } },
    // first street labels at the centres of the streets' extents (refined from tiles later)
    'street-labels': { type: 'geojson', data: { type: 'FeatureCollection', features: streets.filter((a) => a.bbox).map((a) => ({
      type: 'Feature', geometry: { type: 'Point', coordinates: [(a.bbox[0] + a.bbox[2]) / 2, (a.bbox[1] + a.bbox[3]) / 2] }, properties: { code: a.code, name: a.name } })) } },
    'area-labels': { type: 'geojson', data: { type: 'FeatureCollection', features: [] } },
    // one district label (the tiles' polygon pieces would label it once per tile), under the
    // district's extent, where it hides no street's name
    'district-labels': { type: 'geojson', data: { type: 'FeatureCollection', features: config.bbox && config.district ? [{
      type: 'Feature', geometry: { type: 'Point', coordinates: [(config.bbox[0] + config.bbox[2]) / 2, config.bbox[1]] }, properties: { code: config.district.code, name: config.district.name } }] : [] } },
    'findings-points': { type: 'geojson', data: { type: 'FeatureCollection', features: [] } },
    draft: { type: 'geojson', data: { type: 'FeatureCollection', features: [] } },
    // the asset registers in view (loaded when their layer is on)
    components: { type: 'geojson', data: { type: 'FeatureCollection', features: [] }, cluster: true, clusterMaxZoom: 15, clusterRadius: 40 },
    shops: { type: 'geojson', data: { type: 'FeatureCollection', features: [] } },
  };
  const layers = [{ id: 'background', type: 'background', paint: { 'background-color': '#eef1f4' } }];
  if (config.basemap_url && /\{z\}/.test(config.basemap_url)) {
    // one raster template, or several separated by `|` drawn in order (Tianditu: the map vec_w,
    // then its labels cva_w over it)
    config.basemap_url.split('|').map((u) => u.trim()).filter(Boolean).forEach((url, i) => {
      const id = i ? `basemap-${i}` : 'basemap';
      sources[id] = { type: 'raster', tiles: [url], tileSize: 256 };
      layers.push({ id, type: 'raster', source: id, paint: { 'raster-opacity': i ? 1 : 0.85 } });
      if (i) TOGGLES.basemap.push(id);
    });
  }
  const src = (layer) => ({ source: 'atlas', 'source-layer': layer });
  const labelFont = ['Noto Sans Regular'];
  layers.push(
    { id: 'district-fill', type: 'fill', ...src('district'), paint: { 'fill-color': '#ffffff', 'fill-opacity': config.basemap_url ? 0 : 0.9 } },
    // a light tint per kind of street, visible before the grids appear (z11)
    { id: 'street-fill', type: 'fill', ...src('street'), maxzoom: 12,
      paint: { 'fill-color': ['match', ['get', 'kind'], 'subdistrict', '#e9eef6', 'zone', '#ebf3ea', '#f7f0e4'],
        'fill-opacity': config.basemap_url ? 0.35 : ['interpolate', ['linear'], ['zoom'], 10.5, 0.9, 12, 0] } },
    { id: 'resident_grid-fill', type: 'fill', ...src('resident_grid'), minzoom: 11,
      paint: { 'fill-color': gridFillColor(), 'fill-opacity': ['interpolate', ['linear'], ['zoom'], 11, 0.28, 16, 0.16] } },
    { id: 'street_grid-fill', type: 'fill', ...src('street_grid'), minzoom: 11,
      paint: { 'fill-color': COLORS.streetGrid, 'fill-opacity': ['interpolate', ['linear'], ['zoom'], 11, 0.26, 16, 0.14] } },
    { id: 'extended_grid-fill', type: 'fill', ...src('extended_grid'), minzoom: 11,
      paint: { 'fill-color': extColor(), 'fill-opacity': ['interpolate', ['linear'], ['zoom'], 11, 0.28, 16, 0.15] } },
    { id: 'selected-fill', type: 'fill', source: 'atlas', 'source-layer': 'block', filter: ['==', ['get', 'code'], ''],
      paint: { 'fill-color': COLORS.highlight, 'fill-opacity': 0.18 } },
    { id: 'resident_grid-line', type: 'line', ...src('resident_grid'), minzoom: 11,
      paint: { 'line-color': gridFillColor(), 'line-width': ['interpolate', ['linear'], ['zoom'], 11, 0.8, 15, 2] } },
    { id: 'street_grid-line', type: 'line', ...src('street_grid'), minzoom: 11,
      paint: { 'line-color': COLORS.streetGrid, 'line-width': ['interpolate', ['linear'], ['zoom'], 11, 0.8, 15, 2] } },
    { id: 'extended_grid-line', type: 'line', ...src('extended_grid'), minzoom: 11,
      paint: { 'line-color': extColor(), 'line-width': ['interpolate', ['linear'], ['zoom'], 11, 0.8, 15, 2] } },
    { id: 'block-line', type: 'line', ...src('block'), minzoom: 13,
      paint: { 'line-color': COLORS.block, 'line-opacity': 0.7, 'line-width': ['interpolate', ['linear'], ['zoom'], 13, 0.4, 17, 1.4], 'line-dasharray': [3, 2] } },
    // the road segment whose card is open: a halo under its line
    { id: 'selected-road-line', type: 'line', ...src('road_segment'), filter: ['==', ['get', 'code'], ''],
      layout: { 'line-cap': 'round', 'line-join': 'round' }, paint: { 'line-color': '#ffcf33', 'line-width': 12, 'line-opacity': 0.9 } },
    { id: 'road_segment-line', type: 'line', ...src('road_segment'), minzoom: 13,
      layout: { 'line-cap': 'round', 'line-join': 'round' },
      paint: { 'line-color': COLORS.road, 'line-width': ['interpolate', ['linear'], ['zoom'], 13, 2, 17, 5] } },
    { id: 'street-casing', type: 'line', ...src('street'),
      paint: { 'line-color': '#ffffff', 'line-width': ['interpolate', ['linear'], ['zoom'], 9, 3, 14, 6], 'line-opacity': 0.8 } },
    { id: 'street-line', type: 'line', ...src('street'),
      paint: { 'line-color': COLORS.street, 'line-width': ['interpolate', ['linear'], ['zoom'], 9, 1.2, 14, 2.6] } },
    { id: 'district-line', type: 'line', ...src('district'),
      paint: { 'line-color': '#7a1f1d', 'line-width': 2.5, 'line-opacity': 0.8 } },
    { id: 'selected-grid-line', type: 'line', source: 'atlas', 'source-layer': 'resident_grid', filter: ['==', ['get', 'code'], ''],
      paint: { 'line-color': COLORS.highlight, 'line-width': 3.5 } },
    { id: 'selected-line', type: 'line', source: 'atlas', 'source-layer': 'block', filter: ['==', ['get', 'code'], ''],
      paint: { 'line-color': COLORS.highlight, 'line-width': 3 } },
    // the uploaded draft's boundaries, over the published ones
    { id: 'draft-line', type: 'line', source: 'draft', filter: ['!=', ['geometry-type'], 'Point'],
      paint: { 'line-color': '#101828', 'line-width': ['match', ['get', 'layer'], 'block', 1, 'road_segment', 2, 1.8], 'line-opacity': 0.75, 'line-dasharray': [1, 1] } },
    // validation findings
    { id: 'finding-gap', type: 'fill', source: 'findings', filter: ['==', ['get', 'rule'], 'gap'],
      paint: { 'fill-pattern': 'hatch-red', 'fill-opacity': 0.9 } },
    { id: 'finding-gap-line', type: 'line', source: 'findings', filter: ['==', ['get', 'rule'], 'gap'],
      paint: { 'line-color': '#d92d20', 'line-width': 1.5 } },
    { id: 'finding-overlap', type: 'fill', source: 'findings', filter: ['==', ['get', 'rule'], 'overlap'],
      paint: { 'fill-color': '#f79009', 'fill-opacity': 0.6, 'fill-outline-color': '#b54708' } },
    { id: 'finding-sliver', type: 'line', source: 'findings', filter: ['==', ['get', 'rule'], 'sliver'],
      paint: { 'line-color': '#d61f9a', 'line-width': 1.2 } },
    { id: 'finding-containment', type: 'line', source: 'findings', filter: ['==', ['get', 'rule'], 'containment'],
      paint: { 'line-color': '#7a3fc2', 'line-width': 2.5, 'line-dasharray': [2, 1.5] } },
    { id: 'finding-containment-fill', type: 'fill', source: 'findings', filter: ['==', ['get', 'rule'], 'containment'],
      paint: { 'fill-color': '#7a3fc2', 'fill-opacity': 0.12 } },
    { id: 'finding-other', type: 'line', source: 'findings', filter: ['match', ['get', 'rule'], ['hierarchy', 'invalid_geometry'], true, false],
      paint: { 'line-color': '#111111', 'line-width': 1.5 } },
    { id: 'finding-selected', type: 'line', source: 'findings', filter: ['==', ['get', 'idx'], -1],
      paint: { 'line-color': '#101828', 'line-width': 3 } },
    { id: 'finding-invalid', type: 'circle', source: 'findings-points',
      paint: { 'circle-radius': 6, 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 2,
        'circle-color': ['match', ['get', 'rule'], 'gap', '#d92d20', 'overlap', '#f79009', 'sliver', '#d61f9a', 'containment', '#7a3fc2', '#111111'] } },
    // labels (glyphs are drawn locally by MapLibre: no glyph server needed)
    { id: 'block-number', type: 'symbol', source: 'area-labels', filter: ['==', ['get', 'layer'], 'block'], minzoom: 14.5,
      layout: { 'text-field': BLOCK_NUMBER, 'text-font': labelFont, 'text-size': 13, 'symbol-placement': 'point', 'text-allow-overlap': false },
      paint: { 'text-color': '#2b3138', 'text-halo-color': '#ffffff', 'text-halo-width': 2 } },
    { id: 'block-name', type: 'symbol', source: 'area-labels', filter: ['==', ['get', 'layer'], 'block'], minzoom: 16,
      layout: { 'text-field': ['get', 'name'], 'text-font': labelFont, 'text-size': 11, 'text-offset': [0, 1.3], 'text-max-width': 8 },
      paint: { 'text-color': '#4a5563', 'text-halo-color': '#ffffff', 'text-halo-width': 1.5 } },
    { id: 'road_segment-label', type: 'symbol', ...src('road_segment'), minzoom: 15,
      layout: { 'text-field': ['get', 'name'], 'text-font': labelFont, 'text-size': 11.5, 'symbol-placement': 'line' },
      paint: { 'text-color': '#a3251c', 'text-halo-color': '#ffffff', 'text-halo-width': 2 } },
    { id: 'grid-label', type: 'symbol', source: 'area-labels', filter: ['==', ['get', 'layer'], 'resident_grid'], minzoom: 12.5,
      layout: { 'text-field': ['get', 'name'], 'text-font': labelFont, 'text-size': ['interpolate', ['linear'], ['zoom'], 12.5, 11, 16, 14], 'text-max-width': 7, 'text-padding': 6 },
      paint: { 'text-color': '#7a3b0c', 'text-halo-color': '#ffffff', 'text-halo-width': 2 } },
    // the district's name under the streets' (a label of a layer higher up is placed first):
    // shown where the streets leave room, never instead of one
    { id: 'district-label', type: 'symbol', source: 'district-labels', maxzoom: 9,
      layout: { 'text-field': ['get', 'name'], 'text-font': labelFont, 'text-size': 16, 'text-anchor': 'top', 'text-offset': [0, 0.6] },
      paint: { 'text-color': '#7a1f1d', 'text-halo-color': '#ffffff', 'text-halo-width': 2.5 } },
    // every street named at the first view of a phone too: smaller when zoomed out, and moved
    // off its point when it would collide
    { id: 'street-label', type: 'symbol', source: 'street-labels', maxzoom: 13,
      layout: { 'text-field': ['step', ['zoom'], ['case', ['>', ['length', ['get', 'name']], 8], ['concat', ['slice', ['get', 'name'], 0, 4], '…'], ['get', 'name']], 9.5, ['get', 'name']], 'text-font': labelFont, 'text-size': ['interpolate', ['linear'], ['zoom'], 8, 10, 9, 11.5, 10.5, 13, 12, 16],
        'text-letter-spacing': 0.05, 'text-max-width': 5, 'text-padding': 1,
        'text-variable-anchor': ['center', 'top', 'bottom', 'left', 'right'], 'text-radial-offset': 0.4 },
      paint: { 'text-color': '#1f2933', 'text-halo-color': '#ffffff', 'text-halo-width': 2.5 } },
  );
  // extra grid labels for street/extended grids share the resident style but another colour
  for (const l of ['street_grid', 'extended_grid']) {
    layers.push({ id: `${l}-label`, type: 'symbol', source: 'area-labels', filter: ['==', ['get', 'layer'], l], minzoom: 13,
      layout: { 'text-field': ['get', 'name'], 'text-font': labelFont, 'text-size': 11.5, 'text-max-width': 7, 'text-padding': 6 },
      paint: { 'text-color': l === 'street_grid' ? '#1c5c9e' : '#5b3496', 'text-halo-color': '#ffffff', 'text-halo-width': 2 } });
    TOGGLES.labels.push(`${l}-label`);
    TOGGLES[l].push(`${l}-label`);
  }
  TOGGLES.resident_grid.push('grid-label');
  layers.push(...assetLayers(labelFont));
  return { version: 8, sources, layers };
}

// Components (clustered below zoom 16, coloured by major class) and shops (by standing), off
// until their switch is turned on.
function assetLayers(labelFont) {
  const off = { visibility: 'none' };
  const classColor = ['match', ['get', 'cls'], ...Object.entries(ASSET_COLORS.class).flat(), ASSET_COLORS.other];
  const levelColor = ['match', ['get', 'level'], ...Object.entries(ASSET_COLORS.level).flat(), ASSET_COLORS.other];
  const radius = (r13, r17, r19) => ['interpolate', ['linear'], ['zoom'], 13, r13, 17, r17, 19, r19];
  return [
    { id: 'shop-point', type: 'circle', source: 'shops', layout: off,
      paint: { 'circle-color': levelColor, 'circle-radius': radius(3, 6.5, 9), 'circle-stroke-color': '#1f2933', 'circle-stroke-width': 1.2 } },
    { id: 'shop-selected', type: 'circle', source: 'shops', filter: ['==', ['get', 'id'], ''], layout: off,
      paint: { 'circle-color': 'rgba(0,0,0,0)', 'circle-radius': radius(7, 11, 14), 'circle-stroke-color': COLORS.highlight, 'circle-stroke-width': 3 } },
    { id: 'component-cluster', type: 'circle', source: 'components', filter: ['has', 'point_count'], layout: off,
      paint: { 'circle-color': ASSET_COLORS.cluster, 'circle-opacity': 0.8, 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 2,
        'circle-radius': ['step', ['get', 'point_count'], 11, 20, 14, 100, 18, 500, 22] } },
    { id: 'component-cluster-count', type: 'symbol', source: 'components', filter: ['has', 'point_count'],
      layout: { ...off, 'text-field': ['to-string', ['get', 'point_count_abbreviated']], 'text-font': labelFont, 'text-size': 11.5,
        'text-allow-overlap': true, 'text-ignore-placement': true },
      paint: { 'text-color': '#ffffff' } },
    { id: 'component-point', type: 'circle', source: 'components', filter: ['!', ['has', 'point_count']], layout: off,
      paint: { 'circle-color': classColor, 'circle-radius': radius(3, 5.5, 8), 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 1.2 } },
    { id: 'component-selected', type: 'circle', source: 'components', filter: ['==', ['get', 'code'], ''], layout: off,
      paint: { 'circle-color': 'rgba(0,0,0,0)', 'circle-radius': radius(7, 10, 13), 'circle-stroke-color': COLORS.highlight, 'circle-stroke-width': 3 } },
  ];
}

function hatchImage(color) {
  const size = 12;
  const data = new Uint8ClampedArray(size * size * 4);
  const [r, g, b] = [parseInt(color.slice(1, 3), 16), parseInt(color.slice(3, 5), 16), parseInt(color.slice(5, 7), 16)];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const on = (x + y) % size < 3;
      const i = (y * size + x) * 4;
      data.set(on ? [r, g, b, 230] : [r, g, b, 60], i);
    }
  }
  return { width: size, height: size, data };
}

// ---------------------------------------------------------------- start

async function main() {
  const board = new URLSearchParams(location.search).get('board');
  if (board) {
    location.replace(`board.html?grid=${encodeURIComponent(board)}`);
    return;
  }
  applyI18n();
  $('#lang-toggle').addEventListener('click', () => setLang(getLang() === 'zh' ? 'en' : 'zh'));
  document.addEventListener('langchange', () => {
    renderStatus();
    if (state.lastLookup) renderCard(state.lastLookup);
    if (state.lastAsset) renderAssetCard(state.lastAsset);
    if (state.lastArea) renderAreaCard(state.lastArea);
    renderAssetHint();
    if (state.draftSummary) renderFindings();
    fillCategories();
    renderIntakePlace();
    if (state.lastCase?.res && !$('#intake-result').hidden) renderIntakeResult(state.lastCase.res);
  });
  setupTabs();
  setupSheet();
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && !$('#card').hidden && !e.target.closest?.('input, select, textarea')) closeCard();
  });

  performance.mark('gridatlas:start');
  let config, tilejson, streets;
  try {
    [config, tilejson, streets] = await Promise.all([api.config(), api.tilejson(), api.areasOfLayer('street', 1000).catch(() => null)]);
  } catch (e) {
    $('#map-status').textContent = t('card.error', { msg: problemLine(e) });
    return;
  }
  performance.mark('gridatlas:config');
  state.config = config;
  $('#district-name').textContent = config.district?.name ?? '';
  document.title = `${config.district?.name ?? ''} · ${t('app.title')}`;
  if (config.basemap_url) $('#basemap-toggle').hidden = false;

  const map = new maplibregl.Map({
    container: 'map',
    style: buildStyle(config, tilejson, streets?.items || []),
    bounds: config.bbox,
    fitBoundsOptions: { padding: 30 },
    maxZoom: 19,
    attributionControl: false,
    localIdeographFontFamily: '"Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Microsoft YaHei", sans-serif',
    fadeDuration: 150,
  });
  state.map = map;
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-left');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-right');
  map.on('styleimagemissing', (e) => {
    if (e.id === 'hatch-red' && !map.hasImage('hatch-red')) map.addImage('hatch-red', hatchImage('#d92d20'));
  });
  map.once('load', () => { if (!map.hasImage('hatch-red')) map.addImage('hatch-red', hatchImage('#d92d20')); });
  map.once('load', () => performance.mark('gridatlas:load'));
  map.once('idle', () => {
    performance.mark('gridatlas:idle');
    state.firstIdleAt = performance.now();
    document.body.dataset.mapReady = '1';
  });
  renderStatus();

  if (config.basemap_url && !/\{z\}/.test(config.basemap_url)) addVectorBasemap(map, config.basemap_url);

  map.on('click', (e) => onMapClick(e));
  map.on('moveend', scheduleAssets);
  // One label per area in view, recomputed when the view settles (not on every frame).
  let labelTimer = null;
  // (not before the first render is complete: it would only delay it)
  const scheduleLabels = () => {
    if (!state.firstIdleAt) return;
    clearTimeout(labelTimer);
    labelTimer = setTimeout(() => updateAreaLabels(map), 120);
  };
  map.once('idle', () => setTimeout(scheduleLabels, 0));
  map.on('moveend', scheduleLabels);
  map.on('sourcedata', (e) => { if (e.sourceId === 'atlas' && e.tile) scheduleLabels(); });
  // Pointer cursor over areas: only on mousemove with a cheap check, no re-render.
  let hoverPending = false;
  map.on('mousemove', (e) => {
    if (hoverPending) return;
    hoverPending = true;
    requestAnimationFrame(() => {
      hoverPending = false;
      map.getCanvas().style.cursor = state.tab === 'intake' ? 'crosshair' : 'pointer';
    });
    void e;
  });

  setupLayerToggles();
  setupSearch();
  setupCoords();
  // A server without a store (`serve --data FILE`) takes no uploads and no cases: it says so
  // in its config, and the writing tabs stay out of the way.
  if (config.writable === false) {
    document.querySelector('.tab[data-tab="planner"]').hidden = true;
  } else {
    setupPlanner();
    setupIntake();
  }

  // Deep links: ?lon=&lat=&crs= opens the card; ?area=CODE flies to an area; ?board=CODE opens the board.
  const qs = new URLSearchParams(location.search);
  if (qs.get('lon') && qs.get('lat')) map.once('load', () => lookupAndShow(Number(qs.get('lon')), Number(qs.get('lat')), qs.get('crs') || 'wgs84', true));
  if (qs.get('area')) map.once('load', () => flyToArea(qs.get('area')));
}

// Vector tiles cut polygons at tile edges, and a symbol layer on them repeats a label in every
// tile an area touches. Instead: gather the pieces of each area in the loaded tiles, and put one
// label point per area (the centre of its pieces' extent when inside, else inside its largest piece).
function updateAreaLabels(map) {
  const z = map.getZoom();
  const layers = [];
  if (z < 13) layers.push('street');
  if (z >= 12.5) layers.push(...GRID_LAYERS);
  if (z >= 14.5) layers.push('block');
  const out = [];
  for (const sl of layers) {
    const groups = new Map();
    for (const f of map.querySourceFeatures('atlas', { sourceLayer: sl })) {
      const code = f.properties.code;
      if (code == null) continue;
      let g = groups.get(code);
      if (!g) groups.set(code, (g = { props: f.properties, polys: [] }));
      const geom = f.geometry;
      if (geom.type === 'Polygon') g.polys.push(geom.coordinates);
      else if (geom.type === 'MultiPolygon') g.polys.push(...geom.coordinates);
    }
    for (const { props, polys } of groups.values()) {
      const p = labelPointOf(polys);
      if (p) out.push({ type: 'Feature', geometry: { type: 'Point', coordinates: p }, properties: { ...props, layer: sl } });
    }
  }
  const streetsOut = out.filter((f) => f.properties.layer === 'street');
  const areasOut = out.filter((f) => f.properties.layer !== 'street');
  // skip an update (a worker round-trip and a repaint) when the same areas are labelled
  const sig = (fs) => fs.map((f) => `${f.properties.code}@${f.geometry.coordinates.map((c) => c.toFixed(4))}`).join(',');
  const ss = sig(streetsOut), as = `${layers.join()}:${sig(areasOut)}`;
  if (streetsOut.length && ss !== lastLabelSig.streets) {
    lastLabelSig.streets = ss;
    map.getSource('street-labels')?.setData({ type: 'FeatureCollection', features: streetsOut });
  }
  if (as !== lastLabelSig.areas) {
    lastLabelSig.areas = as;
    map.getSource('area-labels')?.setData({ type: 'FeatureCollection', features: areasOut });
  }
}
const lastLabelSig = { streets: '', areas: '' };

function inPoly(pt, poly) {
  let inside = false;
  for (const ring of poly) {
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i], [xj, yj] = ring[j];
      if ((yi > pt[1]) !== (yj > pt[1]) && pt[0] < ((xj - xi) * (pt[1] - yi)) / (yj - yi) + xi) inside = !inside;
    }
  }
  return inside;
}

function labelPointOf(polys) {
  if (!polys.length) return null;
  let b = [Infinity, Infinity, -Infinity, -Infinity];
  let largest = null, largestArea = -1;
  for (const poly of polys) {
    let pb = [Infinity, Infinity, -Infinity, -Infinity];
    for (const [x, y] of poly[0]) pb = [Math.min(pb[0], x), Math.min(pb[1], y), Math.max(pb[2], x), Math.max(pb[3], y)];
    b = [Math.min(b[0], pb[0]), Math.min(b[1], pb[1]), Math.max(b[2], pb[2]), Math.max(b[3], pb[3])];
    const a = (pb[2] - pb[0]) * (pb[3] - pb[1]);
    if (a > largestArea) { largestArea = a; largest = poly; }
  }
  const c = [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2];
  if (polys.some((poly) => inPoly(c, poly))) return c;
  return scanPoint(largest);
}

// Middle of the widest horizontal run across the middle latitude of a polygon.
function scanPoint(poly) {
  const ys = poly[0].map((c) => c[1]);
  const y = (Math.min(...ys) + Math.max(...ys)) / 2 + 1e-9;
  const xs = [];
  for (const ring of poly) {
    for (let i = 1; i < ring.length; i++) {
      const [x1, y1] = ring[i - 1], [x2, y2] = ring[i];
      if ((y1 > y) !== (y2 > y)) xs.push(x1 + ((y - y1) * (x2 - x1)) / (y2 - y1));
    }
  }
  xs.sort((p, q) => p - q);
  let best = null;
  for (let i = 0; i + 1 < xs.length; i += 2) if (!best || xs[i + 1] - xs[i] > best[1] - best[0]) best = [xs[i], xs[i + 1]];
  return best ? [(best[0] + best[1]) / 2, y] : null;
}

function renderStatus() {
  const c = state.config;
  if (!c) return;
  $('#generation').textContent = c.generation != null ? t('status.generation', { g: c.generation }) : '';
  $('#map-status').textContent = c.basemap_url ? `${c.district?.name ?? ''}` : t('status.offline_basemap');
}

// A basemap given as a MapLibre style URL: its sources and layers go under ours.
async function addVectorBasemap(map, url) {
  try {
    const style = await (await fetch(url)).json();
    const add = () => {
      for (const [id, s] of Object.entries(style.sources || {})) if (!map.getSource(`bm-${id}`)) map.addSource(`bm-${id}`, s);
      for (const l of style.layers || []) {
        if (l.type === 'symbol' || l.type === 'background') continue;
        map.addLayer({ ...l, id: `bm-${l.id}`, ...(l.source ? { source: `bm-${l.source}` } : {}) }, 'district-fill');
        TOGGLES.basemap.push(`bm-${l.id}`);
      }
      map.setPaintProperty('district-fill', 'fill-opacity', 0);
    };
    if (map.isStyleLoaded()) add(); else map.once('load', add);
  } catch (e) {
    console.warn('basemap style failed to load', e);
  }
}

// ---------------------------------------------------------------- tabs

function setupTabs() {
  for (const b of document.querySelectorAll('.tab')) {
    b.addEventListener('click', () => selectTab(b.dataset.tab));
  }
}
function selectTab(name) {
  state.tab = name;
  for (const b of document.querySelectorAll('.tab')) b.classList.toggle('active', b.dataset.tab === name);
  for (const p of document.querySelectorAll('.tab-page')) p.hidden = p.dataset.page !== name;
}

// ---------------------------------------------------------------- layers

function setupLayerToggles() {
  for (const input of document.querySelectorAll('#layer-list input[data-layer]')) {
    const key = input.dataset.layer;
    state.layerOn[key] = input.checked;
    if (!ASSET_KEYS.includes(key)) {
      input.addEventListener('change', () => setLayerVisible(key, input.checked));
      continue;
    }
    // an asset layer is off in the style: switched on before the style has loaded (or kept
    // checked by the browser), it is shown once it has
    const apply = () => {
      if (state.map.getLayer(TOGGLES[key][0])) setLayerVisible(key, input.checked);
      else state.map.once('load', () => setLayerVisible(key, input.checked));
    };
    input.addEventListener('change', apply);
    if (input.checked) apply();
  }
}
function setLayerVisible(key, on) {
  state.layerOn[key] = on;
  const map = state.map;
  for (const id of TOGGLES[key] || []) {
    if (!map.getLayer(id)) continue;
    // a label layer stays hidden if either its own layer or "labels" is off
    let visible = on;
    if (key !== 'labels' && TOGGLES.labels.includes(id)) visible = on && state.layerOn.labels !== false;
    if (key === 'labels') {
      const owner = Object.keys(TOGGLES).find((k) => k !== 'labels' && TOGGLES[k].includes(id));
      if (owner) visible = on && state.layerOn[owner] !== false;
    }
    map.setLayoutProperty(id, 'visibility', visible ? 'visible' : 'none');
  }
  if (ASSET_KEYS.includes(key)) assetLayerSwitched(key, on);
}

// ---------------------------------------------------------------- search

// As the user types (debounced; an answer to an older query is dropped): areas by code, name,
// pinyin, initials or several terms (the server's search); a pasted point ("121.164809,30.890424",
// full-width digits, 121°9'53.3"E 30°53'25.5"N) as the first option; "我的位置" (my location) by the
// browser's geolocation. The list is a listbox of options the input controls (a combobox).
function setupSearch() {
  const input = $('#search');
  const list = $('#search-results');
  const note = $('#search-note');
  input.setAttribute('role', 'combobox');
  input.setAttribute('aria-controls', 'search-results');
  input.setAttribute('aria-autocomplete', 'list');
  input.setAttribute('aria-expanded', 'false');
  list.setAttribute('role', 'listbox');
  list.setAttribute('aria-label', t('search.title'));
  let timer = null;
  let seq = 0;
  let items = [];
  let cursor = -1;
  const MY_LOCATION = /^(我的位置|我的定位|当前位置|my location|my position|current location)$/i;
  const show = (html, noteText = '', options = true) => {
    list.innerHTML = html;
    list.hidden = !options || !html;
    note.innerHTML = noteText;
    note.hidden = !noteText;
    input.setAttribute('aria-expanded', String(!list.hidden));
    input.removeAttribute('aria-activedescendant');
    cursor = -1;
  };
  const optionHtml = (it, i) => {
    const id = `search-opt-${i}`;
    if (it.point) {
      return `<li id="${id}" data-i="${i}" role="option" aria-selected="false" class="r-point"><span class="badge l-point">${esc(t('search.point'))}</span><span class="r-name">${esc(fmt(it.point.lon))}, ${esc(fmt(it.point.lat))}</span></li>`;
    }
    if (it.here) {
      return `<li id="${id}" data-i="${i}" role="option" aria-selected="false" class="r-here"><span class="badge l-point">${esc(t('search.here'))}</span><span class="r-name">${esc(t('search.here.go'))}</span></li>`;
    }
    return `<li id="${id}" data-i="${i}" data-code="${esc(it.code)}" role="option" aria-selected="false"><span class="badge l-${esc(it.layer)}">${esc(label('layer.one', it.layer))}</span><span class="r-name">${esc(it.name)}</span><span class="r-code">${esc(it.code)}</span></li>`;
  };
  const run = async () => {
    const q = input.value.trim();
    const my = ++seq;
    if (!q) { items = []; show(''); return; }
    const point = parsePoint(q);
    const lead = point ? [{ point }] : MY_LOCATION.test(q) ? [{ here: true }] : [];
    if (lead.length) {
      items = lead;
      show(items.map(optionHtml).join(''));
      return;
    }
    try {
      let res = await api.search(q, 12);
      // "三村居委会" (the committee) finds "三村居委网格" (its grid): retry without the trailing 会
      if (!res.items?.length && /[居村]委会$/.test(q)) res = await api.search(q.slice(0, -1), 12);
      if (my !== seq) return; // the user has typed on: an older answer is dropped
      items = res.items || [];
      show(items.map(optionHtml).join(''),
        items.length ? (res.total > items.length ? esc(t('search.total', { n: res.total })) : '') : esc(t('search.none')));
    } catch (e) {
      if (my !== seq) return;
      items = [];
      show('', problemHtml(e), false);
    }
    list.dataset.query = q;
  };
  input.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(run, 200); });
  // a point pasted into the box goes to the point at once
  input.addEventListener('paste', (e) => {
    const text = e.clipboardData?.getData('text') ?? '';
    const point = parsePoint(text);
    if (!point) return;
    e.preventDefault();
    input.value = text.trim();
    clearTimeout(timer);
    ++seq;
    items = [{ point }];
    show(items.map(optionHtml).join(''));
    chooseResult(items[0]);
  });
  const mark = () => {
    for (const li of list.querySelectorAll('li[data-i]')) {
      const on = Number(li.dataset.i) === cursor;
      li.classList.toggle('active', on);
      li.setAttribute('aria-selected', String(on));
    }
    const active = list.querySelector('li.active');
    if (active) { input.setAttribute('aria-activedescendant', active.id); active.scrollIntoView({ block: 'nearest' }); }
  };
  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      if (!items.length) return;
      e.preventDefault();
      cursor = (cursor + (e.key === 'ArrowDown' ? 1 : items.length - 1)) % items.length;
      mark();
    }
    if (e.key === 'Enter') {
      e.preventDefault();
      clearTimeout(timer);
      if (cursor >= 0 && items[cursor]) chooseResult(items[cursor]);
      else run().then(() => items[0] && chooseResult(items[0]));
    }
    if (e.key === 'Escape') { list.hidden = true; input.setAttribute('aria-expanded', 'false'); }
  });
  list.addEventListener('click', (e) => {
    const li = e.target.closest('li[data-i]');
    if (li) chooseResult(items[Number(li.dataset.i)]);
  });
  document.addEventListener('langchange', () => {
    list.setAttribute('aria-label', t('search.title'));
    if (input.value.trim()) run();
  });
  $('#locate-me')?.addEventListener('click', () => goToMyLocation());
}

// "My location": the browser's position (WGS84), looked up and shown like a click there.
function goToMyLocation() {
  const status = $('#search-note');
  const say = (key) => { status.textContent = t(key); status.hidden = false; };
  if (!navigator.geolocation) { say('search.here.unsupported'); return; }
  say('search.here.wait');
  navigator.geolocation.getCurrentPosition(
    (pos) => {
      status.hidden = true;
      lookupAndShow(pos.coords.longitude, pos.coords.latitude, 'wgs84', true);
    },
    (err) => say(err.code === 1 ? 'search.here.denied' : 'search.here.failed'),
    { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
  );
}

function chooseResult(item) {
  if (item.point) { lookupAndShow(item.point.lon, item.point.lat, 'wgs84', true); return; }
  if (item.here) { goToMyLocation(); return; }
  for (const li of document.querySelectorAll('#search-results li[data-i]')) li.classList.toggle('active', li.dataset.code === item.code);
  flyToArea(item.code, item);
}

async function flyToArea(code, item = null) {
  const map = state.map;
  let a = item;
  try {
    if (!a || !a.bbox) a = await api.area(code);
  } catch (e) {
    $('#map-status').textContent = problemLine(e);
    return;
  }
  const b = a.bbox;
  // a grid and a road segment get their own card; a block the card of a point inside it
  const own = GRID_LAYERS.includes(a.layer) || a.layer === 'road_segment';
  if (own) openCardShell();
  if (b) map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: mapPadding(own || !$('#card').hidden), maxZoom: 17, duration: 900 });
  highlight(a.layer === 'block' ? a.code : null, GRID_LAYERS.includes(a.layer) ? a : null);
  if (own) { showAreaCard(a.code); return; }
  // Show who is responsible at the centre of the area once the camera has moved.
  if (b && a.layer !== 'district' && a.layer !== 'street') {
    const inner = await interiorPoint(a).catch(() => null);
    const p = inner || [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2];
    lookupAndShow(p[0], p[1], 'wgs84', false);
  }
}

// A point inside an area (its geometry's first polygon: middle of the widest horizontal run).
async function interiorPoint(a) {
  const full = a.geometry ? a : await api.area(a.code, true);
  const g = full.geometry;
  if (!g) return null;
  const polys = g.type === 'Polygon' ? [g.coordinates] : g.type === 'MultiPolygon' ? g.coordinates : [];
  return polys.length ? labelPointOf(polys) : null;
}

function highlight(blockCode, grid) {
  const map = state.map;
  map.setFilter('selected-line', ['==', ['get', 'code'], blockCode || '']);
  map.setFilter('selected-fill', ['==', ['get', 'code'], blockCode || '']);
  const gridLayer = grid?.layer && GRID_LAYERS.includes(grid.layer) ? grid.layer : 'resident_grid';
  // the selected-grid layer is re-pointed at the grid's own source layer
  if (map.getLayer('selected-grid-line')) {
    const def = map.getStyle().layers.find((l) => l.id === 'selected-grid-line');
    if (def['source-layer'] !== gridLayer) {
      map.removeLayer('selected-grid-line');
      map.addLayer({ ...def, 'source-layer': gridLayer }, 'selected-line');
    }
  }
  map.setFilter('selected-grid-line', ['==', ['get', 'code'], grid?.code || '']);
}

// ---------------------------------------------------------------- click → card

function onMapClick(e) {
  const lngLat = e.lngLat;
  if (state.tab === 'intake') setIntakePoint(lngLat.lng, lngLat.lat);
  // a component or shop under the pointer opens its card (not while placing a case)
  const hit = state.tab === 'intake' ? null : assetAt(e.point);
  if (hit) { openAsset(hit); return; }
  // so does a road segment: its own card, with its person and length
  const road = state.tab === 'intake' ? null : roadAt(e.point);
  if (road) { showAreaCard(road, [lngLat.lng, lngLat.lat]); return; }
  lookupAndShow(lngLat.lng, lngLat.lat, 'wgs84', false);
}

async function lookupAndShow(lon, lat, crs, fly) {
  const card = $('#card');
  const my = ++cardSeq;
  selectAsset(null);
  state.lastArea = null;
  openCardShell();
  try {
    const r = await api.lookup(lon, lat, crs);
    if (my !== cardSeq) return; // another card was opened meanwhile
    state.lastLookup = r;
    const map = state.map;
    placeMarker(r.lon, r.lat);
    highlight(r.block?.code, r.grid);
    highlightRoad(null);
    renderCard(r);
    // the point at the middle of the map's free part (beside the card, above the sheet)
    if (fly) map.flyTo({ center: [r.lon, r.lat], zoom: Math.max(map.getZoom(), 15.5), duration: 900, offset: freeOffset(mapPadding(true)) });
  } catch (e) {
    if (my !== cardSeq) return;
    card.innerHTML = `${cardHead(t('card.error', { msg: '' }), '')}<div class="loading card-problem peek" role="alert">${problemHtml(e)}</div>`;
    card.querySelector('.card-close').addEventListener('click', closeCard);
  }
}

// The card opened last (a lookup or an asset): an answer to an earlier one is dropped.
let cardSeq = 0;

function closeCard() {
  $('#card').hidden = true;
  $('#card').classList.remove('expanded');
  state.lastLookup = null;
  state.lastArea = null;
  selectAsset(null);
  state.marker?.remove();
  highlight(null, null);
  highlightRoad(null);
}

// A person with photo, name, role and phone; the lead (the one to call) with a call button.
function personHtml(p, lead = false) {
  if (!p) return '';
  const photo = p.photo_url ? `<img src="${esc(p.photo_url)}" alt="${esc(p.name)}" loading="lazy">` : '<img alt="">';
  const tel = p.phone ? `<a class="tel" href="tel:${esc(p.phone)}">${esc(p.phone)}</a>` : '';
  const call = lead && p.phone ? `<a class="btn call" href="tel:${esc(p.phone)}" aria-label="${esc(t('card.call_to', { name: p.name }))}">${esc(t('card.call'))}</a>` : '';
  return `<div class="person${lead ? ' lead' : ''}" data-role="${esc(p.role)}">${photo}<div class="p-text"><div class="p-name">${esc(p.name)}</div><div class="p-role">${esc(label('role', p.role))}</div>${tel}</div>${call}</div>`;
}

// ---------------------------------------------------------------- issue 20: layout and cards

// The phone layout (style.css, max-width 800px): the panel under the map, the card a bottom sheet.
const phoneLayout = () => window.matchMedia('(max-width: 800px)').matches;

// The padding of a camera move: a margin, plus what the card covers of the map (the side card
// on a desk, the bottom sheet on a phone) when it is open (or `withCard`, about to open), never
// more than 60 % of the map's width or height (MapLibre refuses a fit into nothing).
function mapPadding(withCard = !$('#card').hidden) {
  const el = state.map.getContainer();
  const w = el.clientWidth, h = el.clientHeight;
  const m = phoneLayout() ? 16 : 48;
  const pad = { top: m, bottom: m, left: m, right: m };
  if (withCard) {
    const card = $('#card');
    const c = el.getBoundingClientRect();
    const r = card.hidden || phoneLayout() ? null : card.getBoundingClientRect();
    // (a new card opens the sheet small: its peek, whatever the sheet's height now)
    if (phoneLayout()) pad.bottom += sheetPeek();
    else pad.right += r && r.width ? Math.max(0, c.right - r.left) : 372;
  }
  const fit = (a, b, total) => (a + b <= total * 0.6 ? [a, b] : [(a * total * 0.6) / (a + b), (b * total * 0.6) / (a + b)]);
  [pad.left, pad.right] = fit(pad.left, pad.right, w);
  [pad.top, pad.bottom] = fit(pad.top, pad.bottom, h);
  return pad;
}
// The bottom sheet's height when it opens (style.css --sheet-peek).
const sheetPeek = () => parseFloat(getComputedStyle(document.documentElement).getPropertyValue('--sheet-peek')) || 160;
// flyTo's offset that puts the target at the middle of the free part of the map.
const freeOffset = (pad) => [(pad.left - pad.right) / 2, (pad.top - pad.bottom) / 2];

// The sheet's expand button (on a phone; the card is whole on a desk).
function setupSheet() {
  $('#card').addEventListener('click', (e) => {
    if (!e.target.closest('.card-expand')) return;
    $('#card').classList.toggle('expanded');
    syncSheet();
  });
}
// The expand button says what it does (after a toggle, and when a card is drawn again).
function syncSheet() {
  const b = $('#card .card-expand');
  if (!b) return;
  const open = $('#card').classList.contains('expanded');
  b.setAttribute('aria-expanded', String(open));
  b.setAttribute('aria-label', t(open ? 'card.collapse' : 'card.expand'));
  b.title = b.getAttribute('aria-label');
}

// A new card: open small (the sheet's peek), loading.
function openCardShell() {
  const card = $('#card');
  card.hidden = false;
  card.classList.remove('expanded');
  card.dataset.kind = 'loading';
  card.innerHTML = `${cardHead(t('card.loading'), '')}`;
  card.querySelector('.card-close').addEventListener('click', closeCard);
}

function placeMarker(lon, lat) {
  // in the cases tab the case's pin marks the place: no lookup pin over it
  if (state.tab === 'intake') { state.marker?.remove(); return; }
  if (!state.marker) state.marker = new maplibregl.Marker({ element: pinElement(COLORS.highlight), anchor: 'bottom' });
  state.marker.setLngLat([lon, lat]).addTo(state.map);
}

// The road segment drawn under a point of the map (within a few pixels), by code.
function roadAt(point) {
  const map = state.map;
  if (!map.getLayer('road_segment-line') || map.getLayoutProperty('road_segment-line', 'visibility') === 'none') return null;
  const r = 6;
  const f = map.queryRenderedFeatures([[point.x - r, point.y - r], [point.x + r, point.y + r]], { layers: ['road_segment-line'] })[0];
  return f?.properties?.code ?? null;
}

function highlightRoad(code) {
  if (state.map?.getLayer('selected-road-line')) state.map.setFilter('selected-road-line', ['==', ['get', 'code'], code || '']);
}

// A grid's card (its station, staff, management units and blocks) or a road segment's (its
// person, length, block and grid), from GET /areas/{code} (and /children for a grid's blocks).
async function showAreaCard(code, at = null) {
  const my = ++cardSeq;
  selectAsset(null);
  state.lastLookup = null;
  state.lastArea = null;
  openCardShell();
  if (at) placeMarker(at[0], at[1]); else state.marker?.remove();
  try {
    const detail = await api.area(code);
    const blocks = GRID_LAYERS.includes(detail.layer) ? (await api.children(code)).items.filter((b) => b.layer === 'block') : null;
    if (my !== cardSeq) return;
    if (detail.layer === 'road_segment') {
      const grid = detail.parents.find((p) => GRID_LAYERS.includes(p.layer));
      highlight(detail.parents.find((p) => p.layer === 'block')?.code, grid || null);
      highlightRoad(detail.code);
    } else {
      highlight(null, detail);
      highlightRoad(null);
    }
    state.lastArea = { detail, blocks };
    renderAreaCard(state.lastArea);
  } catch (e) {
    if (my !== cardSeq) return;
    const card = $('#card');
    card.innerHTML = cardHead(t('card.error', { msg: e.message }), '');
    card.querySelector('.card-close').addEventListener('click', closeCard);
  }
}

function renderAreaCard({ detail: d, blocks }) {
  const card = $('#card');
  const up = (layer) => d.parents.find((p) => (Array.isArray(layer) ? layer.includes(p.layer) : p.layer === layer));
  const street = up('street');
  const crumbs = [...d.parents].reverse().map((p) => p.name).join(' › ');
  const people = d.people || [];
  const codeSpan = (a) => (a?.code ? `<span class="code">${esc(a.code)}</span>` : '');
  const openable = (a) => (a ? `<button class="link" type="button" data-open="${esc(a.code)}">${esc(a.name)}</button>${codeSpan(a)}` : esc(t('card.none')));
  let body;
  if (d.layer === 'road_segment') {
    const [lead, ...others] = people;
    const grid = up(GRID_LAYERS);
    card.dataset.kind = 'road_segment';
    body = `${lead ? `<div class="card-sec peek" id="card-road-person"><h3>${esc(t('card.road_person'))}</h3>${personHtml(lead, true)}</div>` : `<div class="card-sec peek"><p class="muted" id="card-road-person">${esc(t('card.road_person.none'))}</p></div>`}
    <div class="card-sec" id="card-road">
      <dl class="kv">
        <dt>${esc(t('card.road'))}</dt><dd id="card-road-name">${esc(d.name)}${codeSpan(d)}</dd>
        <dt>${esc(t('card.length'))}</dt><dd id="card-road-length">${d.length_m != null ? esc(t('card.length_m', { d: Math.round(d.length_m) })) : '—'}</dd>
        ${d.attributes?.road ? `<dt>${esc(t('card.road_name'))}</dt><dd>${esc(d.attributes.road)}</dd>` : ''}
        <dt>${esc(t('card.block'))}</dt><dd id="card-block">${openable(up('block'))}</dd>
        <dt>${esc(t('card.grid'))}</dt><dd id="card-grid">${openable(grid)}</dd>
        <dt>${esc(t('card.street'))}</dt><dd id="card-street">${esc(street?.name ?? t('card.none'))}</dd>
      </dl>
    </div>
    ${others.length ? `<div class="card-sec"><div class="people-grid">${others.map((p) => personHtml(p)).join('')}</div></div>` : ''}`;
  } else {
    const head = people.find((p) => p.role === 'station_head');
    const deputies = people.filter((p) => p.role === 'deputy_head');
    const staff = people.filter((p) => p.role !== 'station_head' && p.role !== 'deputy_head');
    card.dataset.kind = 'grid';
    body = `<div class="card-sec peek" id="card-station"><h3>${esc(t('card.station'))}</h3>${head ? personHtml(head, true) : `<p class="muted">${esc(t('card.station.none'))}</p>`}</div>
    ${deputies.length ? `<div class="card-sec" id="card-deputies">${deputies.map((p) => personHtml(p)).join('')}</div>` : ''}
    <div class="card-sec">
      <dl class="kv">
        <dt>${esc(t('card.street'))}</dt><dd id="card-street">${esc(street?.name ?? t('card.none'))}${codeSpan(street)}</dd>
        <dt>${esc(t('card.grid'))}</dt><dd id="card-grid">${esc(d.name)} <span class="badge l-${esc(d.layer)}">${esc(kindLabel(d))}</span>${codeSpan(d)}</dd>
      </dl>
    </div>
    ${staff.length ? `<div class="card-sec" id="card-staff"><h3>${esc(t('card.others'))}</h3><div class="people-grid">${staff.map((p) => personHtml(p)).join('')}</div></div>` : ''}
    ${unitsHtml(d.management_units)}
    <div class="card-sec"><h3>${esc(t('card.blocks', { n: blocks.length }))}</h3>
      <ol class="blocks" id="card-blocks" data-count="${blocks.length}">${blocks.map((b) => {
        const bh = (b.people || []).find((p) => p.role === 'block_head');
        return `<li data-code="${esc(b.code)}"><button class="link" type="button" data-open="${esc(b.code)}">${esc(b.name)}</button>${bh ? `<span class="b-head">${esc(bh.name)}${bh.phone ? ` <a class="tel" href="tel:${esc(bh.phone)}">${esc(bh.phone)}</a>` : ''}</span>` : ''}</li>`;
      }).join('')}</ol>
    </div>
    <div class="card-actions"><a class="btn" id="card-board" href="board.html?grid=${encodeURIComponent(d.code)}" target="_blank" rel="noopener">${esc(t('card.board'))}</a></div>`;
  }
  card.innerHTML = `${cardHead(d.name, crumbs)}${body}`;
  card.querySelector('.card-close').addEventListener('click', closeCard);
  for (const b of card.querySelectorAll('[data-open]')) b.addEventListener('click', () => flyToArea(b.dataset.open));
  syncSheet();
}

// The management units serving a grid, each with its team.
function unitsHtml(units) {
  if (!(units || []).length) return '';
  return `<div class="card-sec" id="card-units"><h3>${esc(t('card.units'))}</h3>${units.map((u) => `<div class="unit"><span>${esc(u.name)}</span><span class="badge">${esc(label('unit', u.kind))}</span></div><div class="people-grid">${(u.people || []).map((p) => personHtml(p)).join('')}</div>`).join('')}</div>`;
}

// The street of the nearest grid, for a point just outside the district (the lookup names no
// street there): from the grid's parent chain.
const streetOfGrid = new Map();
async function fillStreetFromGrid(r) {
  if (r.street || !r.grid) return;
  try {
    if (!streetOfGrid.has(r.grid.code)) streetOfGrid.set(r.grid.code, (await api.area(r.grid.code)).parents.find((p) => p.layer === 'street') || null);
  } catch { return; /* the card says 无, as the lookup did */ }
  const s = streetOfGrid.get(r.grid.code);
  const dd = document.getElementById('card-street');
  if (s && dd && state.lastLookup === r) dd.innerHTML = `${esc(s.name)} <span class="muted">${esc(t('card.street.of_nearest'))}</span><span class="code">${esc(s.code)}</span>`;
}

function kindLabel(a) {
  if (!a) return '';
  const parts = [label('layer.one', a.layer)];
  if (a.kind) parts.push(label('kind', a.kind));
  return parts.join(' · ');
}

function renderCard(r) {
  const card = $('#card');
  const title = r.block?.name || r.grid?.name || r.street?.name || r.district?.name || t('card.outside');
  const crumbs = [r.district?.name, r.street?.name, r.grid?.name].filter(Boolean).join(' › ');
  const gridPeople = r.grid?.people || [];
  const leads = gridPeople.filter((p) => p.role === 'station_head' || p.role === 'deputy_head');
  const others = gridPeople.filter((p) => p.role !== 'station_head' && p.role !== 'deputy_head' && p.role !== 'block_head');
  let notice = '';
  if (r.fallback) {
    notice = r.fallback === 'outside' ? t('card.outside')
      : t(`card.fallback.${r.fallback}`, { d: r.distance_m != null ? Math.round(r.distance_m) : '?' });
  }
  const codeSpan = (a) => (a?.code ? `<span class="code">${esc(a.code)}</span>` : '');
  const gcj = r.gcj02 || [];
  card.dataset.kind = r.block ? 'block' : 'place';
  card.innerHTML = `
    ${cardHead(title, crumbs)}
    ${notice ? `<div class="card-sec peek"><p class="notice">${esc(notice)}</p></div>` : ''}
    ${r.block_head ? `<div class="card-sec peek" id="card-block-head"><h3>${esc(t('card.block_head'))}</h3>${personHtml(r.block_head, true)}</div>` : ''}
    <div class="card-sec">
      <dl class="kv">
        <dt>${esc(t('card.street'))}</dt><dd id="card-street">${esc(r.street?.name ?? t('card.none'))}${r.street?.kind ? ` <span class="badge">${esc(label('kind', r.street.kind))}</span>` : ''}${codeSpan(r.street)}</dd>
        <dt>${esc(t('card.grid'))}</dt><dd id="card-grid">${esc(r.grid?.name ?? t('card.none'))} ${r.grid ? `<span class="badge l-${esc(r.grid.layer)}">${esc(kindLabel(r.grid))}</span>` : ''}${codeSpan(r.grid)}</dd>
        <dt>${esc(t('card.block'))}</dt><dd id="card-block">${esc(r.block?.name ?? t('card.none'))}${codeSpan(r.block)}</dd>
        <dt>${esc(t('card.point'))}</dt><dd class="coords">${esc(t('card.wgs84'))} ${fmt(r.lon)}, ${fmt(r.lat)}<br>${esc(t('card.gcj02'))} ${gcj.length ? `${fmt(gcj[0])}, ${fmt(gcj[1])}` : '—'}</dd>
      </dl>
    </div>
    ${leads.length ? `<div class="card-sec" id="card-station"><h3>${esc(t('card.station'))}</h3>${leads.map((p) => personHtml(p, p.role === 'station_head')).join('')}</div>` : ''}
    ${others.length ? `<div class="card-sec"><h3>${esc(t('card.others'))}</h3><div class="people-grid">${others.map((p) => personHtml(p)).join('')}</div></div>` : ''}
    ${unitsHtml(r.management_units)}
    ${(r.road_segments || []).length ? `<div class="card-sec" id="card-roads"><h3>${esc(t('card.roads'))}</h3>${r.road_segments.map((s) => `<div class="road"><button class="link" type="button" data-road="${esc(s.code)}">${esc(s.name)}</button><span class="code">${esc(t('card.road_distance', { d: Math.round(s.distance_m) }))}</span></div>`).join('')}</div>` : ''}
    ${r.grid ? `<div class="card-actions"><a class="btn" id="card-board" href="board.html?grid=${encodeURIComponent(r.grid.code)}" target="_blank" rel="noopener">${esc(t('card.board'))}</a></div>` : ''}
  `;
  card.querySelector('.card-close').addEventListener('click', closeCard);
  for (const b of card.querySelectorAll('[data-road]')) b.addEventListener('click', () => showAreaCard(b.dataset.road));
  syncSheet();
  fillStreetFromGrid(r);
}

// ---------------------------------------------------------------- components and shops

// The view's box grown by a quarter on each side (small pans need no new load), and whether
// one box holds another.
function paddedBox(b, f = 0.25) {
  const dx = (b[2] - b[0]) * f, dy = (b[3] - b[1]) * f;
  return [b[0] - dx, b[1] - dy, b[2] + dx, b[3] + dy];
}
const boxHolds = (outer, inner) => outer[0] <= inner[0] && outer[1] <= inner[1] && outer[2] >= inner[2] && outer[3] >= inner[3];

let assetTimer = null;
function scheduleAssets() {
  if (!ASSET_KEYS.some((k) => state.layerOn[k])) return;
  clearTimeout(assetTimer);
  state.assets.scheduled = true; // (the tests wait for it to be done)
  assetTimer = setTimeout(loadAssetsInView, 250);
}

function assetLayerSwitched(key, on) {
  $(`#legend-${key}`).hidden = !on;
  if (!on) {
    state.assets.loads[key]++; // an answer still under way is dropped
    state.assets.status[key] = 'off';
    if (state.lastAsset?.kind === (key === 'components' ? 'component' : 'shop')) closeCard();
    renderAssetHint();
    return;
  }
  if (key === 'components' && !state.assets.classes) {
    api.componentClasses().then((table) => {
      state.assets.classes = table;
      if (state.lastAsset?.kind === 'component') renderAssetCard(state.lastAsset);
    }).catch(() => { /* the card falls back to the register's Chinese names */ });
  }
  clearTimeout(assetTimer);
  loadAssetsInView();
}

function loadAssetsInView() {
  const map = state.map;
  state.assets.scheduled = false;
  const b = map.getBounds();
  const view = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()];
  for (const key of ASSET_KEYS) {
    if (!state.layerOn[key]) continue;
    if (map.getZoom() < ASSET_MIN_ZOOM) {
      // zoomed out: nothing is loaded (the district holds tens of thousands), the hint says why
      state.assets.loads[key]++;
      state.assets.box[key] = null;
      state.assets[key] = new Map();
      map.getSource(key)?.setData({ type: 'FeatureCollection', features: [] });
      state.assets.status[key] = 'zoom';
      continue;
    }
    // loaded, or being loaded, for a box holding the view: nothing to do
    const have = state.assets.box[key];
    if (have && boxHolds(have, view) && ['ready', 'loading'].includes(state.assets.status[key])) continue;
    loadAssets(key, paddedBox(view));
  }
  renderAssetHint();
}

async function loadAssets(key, box) {
  const my = ++state.assets.loads[key];
  state.assets.status[key] = 'loading';
  state.assets.box[key] = box;
  state.assets.error = null;
  renderAssetHint();
  const items = [];
  let after = null;
  let partial = false;
  try {
    do {
      const page = await api[key](box, { after, limit: ASSET_PAGE });
      if (my !== state.assets.loads[key]) return; // the view or the switch changed meanwhile
      items.push(...(page[key] || []));
      after = page.next_after || null;
      if (after && items.length >= ASSET_MAX) { partial = true; break; }
    } while (after);
  } catch (e) {
    if (my !== state.assets.loads[key]) return;
    state.assets.status[key] = 'error';
    state.assets.error = problemLine(e);
    renderAssetHint();
    return;
  }
  const byId = new Map();
  const features = [];
  if (key === 'components') {
    for (const c of items) {
      byId.set(c.code, c);
      features.push({ type: 'Feature', geometry: { type: 'Point', coordinates: [c.lon, c.lat] },
        properties: { code: c.code, cls: String(c.code).slice(6, 8), state: c.state } });
    }
  } else {
    for (const s of items) {
      byId.set(s.id, s);
      const at = s.anchor || (s.geometry?.type === 'Point' ? s.geometry.coordinates : null);
      if (!at) continue;
      features.push({ type: 'Feature', geometry: { type: 'Point', coordinates: at },
        properties: { id: s.id, level: s.standing?.level ?? '', points: s.standing?.points_in_window ?? 0 } });
    }
  }
  state.assets[key] = byId;
  state.assets.box[key] = partial ? null : box;
  state.assets.count = { ...state.assets.count, [key]: items.length };
  state.map.getSource(key)?.setData({ type: 'FeatureCollection', features });
  state.assets.status[key] = partial ? 'partial' : 'ready';
  renderAssetHint();
}

// One line over the map: zoom in to see the layers that are on, loading, too many, or failed.
function renderAssetHint() {
  const el = $('#asset-hint');
  if (!el) return;
  const what = (status) => ASSET_KEYS.filter((k) => state.layerOn[k] && state.assets.status[k] === status).map((k) => t(`assets.what.${k}`)).join(t('assets.and'));
  let msg = '', error = false;
  if (what('error')) { msg = t('assets.error', { what: what('error'), msg: state.assets.error ?? '' }); error = true; }
  else if (what('zoom')) msg = t('assets.zoom_in', { what: what('zoom') });
  else if (what('partial')) msg = t('assets.truncated', { what: what('partial'), n: ASSET_MAX });
  else if (what('loading')) msg = t('assets.loading', { what: what('loading') });
  el.textContent = msg;
  el.classList.toggle('error', error);
  el.hidden = !msg;
}

// The component or shop drawn nearest to a point of the map (within a few pixels), or a cluster.
function assetAt(point) {
  const map = state.map;
  const layers = ['component-point', 'component-cluster', 'shop-point']
    .filter((id) => map.getLayer(id) && map.getLayoutProperty(id, 'visibility') === 'visible');
  if (!layers.length) return null;
  const r = 6;
  const feats = map.queryRenderedFeatures([[point.x - r, point.y - r], [point.x + r, point.y + r]], { layers });
  let best = null, bestD = Infinity;
  for (const f of feats) {
    const p = map.project(f.geometry.coordinates);
    // a single item before a cluster drawn over it
    const d = Math.hypot(p.x - point.x, p.y - point.y) + (f.layer.id === 'component-cluster' ? 1000 : 0);
    if (d < bestD) { bestD = d; best = f; }
  }
  return best;
}

async function openAsset(f) {
  const map = state.map;
  if (f.layer.id === 'component-cluster') {
    // a cluster: zoom in until it falls apart
    try {
      const z = await map.getSource('components').getClusterExpansionZoom(f.properties.cluster_id);
      map.easeTo({ center: f.geometry.coordinates, zoom: Math.min(z + 0.2, map.getMaxZoom()), duration: 500 });
    } catch { /* the source changed meanwhile */ }
    return;
  }
  if (f.layer.id === 'component-point') {
    const c = state.assets.components.get(f.properties.code);
    if (c) showAsset({ kind: 'component', item: c });
    return;
  }
  const shop = state.assets.shops.get(f.properties.id);
  if (!shop) return;
  const my = showAsset({ kind: 'shop', item: shop, detail: null });
  try {
    const detail = await api.shop(shop.id);
    if (my !== cardSeq) return;
    showAsset({ kind: 'shop', item: detail.shop || shop, detail }, my);
  } catch (e) {
    if (my !== cardSeq) return;
    showAsset({ kind: 'shop', item: shop, detail: null, error: problemLine(e) }, my);
  }
}

// Shows an asset's card (a new card unless `seq` is the card's own), returns the card's number.
function showAsset(a, seq = null) {
  const my = seq ?? ++cardSeq;
  state.lastLookup = null;
  state.marker?.remove();
  highlight(null, null);
  selectAsset(a);
  renderAssetCard(a);
  return my;
}

function selectAsset(a) {
  state.lastAsset = a;
  const map = state.map;
  if (!map?.getLayer('component-selected')) return;
  map.setFilter('component-selected', ['==', ['get', 'code'], a?.kind === 'component' ? a.item.code : '']);
  map.setFilter('shop-selected', ['==', ['get', 'id'], a?.kind === 'shop' ? a.item.id : '']);
}

// The names of a component's major class and subclass in the interface's language: the class
// table's (English), else the register's (Chinese), else the legend's.
function componentClassNames(c) {
  const cls = String(c.code).slice(6, 8), sub = String(c.code).slice(8, 10);
  const major = state.assets.classes?.classes?.find((k) => k.code === cls);
  const minor = major?.subclasses?.find((k) => k.code === sub);
  const en = getLang() === 'en';
  return {
    cls: (en ? major?.name_en : null) ?? c.class_name ?? major?.name_zh ?? label('class', cls),
    sub: (en ? minor?.name_en : null) ?? c.subclass_name ?? minor?.name_zh ?? '',
  };
}

function renderAssetCard(a) {
  const card = $('#card');
  card.hidden = false;
  card.dataset.kind = a.kind;
  card.innerHTML = a.kind === 'component' ? componentCardHtml(a.item) : shopCardHtml(a);
  card.querySelector('.card-close').addEventListener('click', closeCard);
  syncSheet();
}

const codeOf = (x) => (x?.code ? ` <span class="code">${esc(x.code)}</span>` : '');
const areaDd = (id, x) => `<dd id="${id}">${esc(x?.name ?? t('card.none'))}${codeOf(x)}</dd>`;
// The card's head: title and crumbs, the sheet's expand button (shown on a phone) and close.
const cardHead = (title, crumbs) => `<div class="card-head peek">
      <button class="card-expand" type="button" aria-expanded="false" aria-label="${esc(t('card.expand'))}" title="${esc(t('card.expand'))}"></button>
      <button class="card-close" type="button" aria-label="${esc(t('card.close'))}" title="${esc(t('card.close'))}">×</button>
      <h2 id="card-title">${esc(title)}</h2>
      <div class="crumbs">${esc(crumbs)}</div>
    </div>`;

function componentCardHtml(c) {
  const names = componentClassNames(c);
  return `${cardHead(names.sub || names.cls || t('component.title'), [label('layer.one', 'components'), names.cls, names.sub].filter(Boolean).join(' › '))}
    <div class="card-sec peek" id="card-component">
      <dl class="kv">
        <dt>${esc(t('component.code'))}</dt><dd id="card-component-code" class="coords">${esc(c.code)}</dd>
        <dt>${esc(t('component.class'))}</dt><dd id="card-component-class">${esc([names.cls, names.sub].filter(Boolean).join(' / '))}</dd>
        <dt>${esc(t('component.owner'))}</dt><dd id="card-component-owner">${esc(c.owner)}</dd>
        <dt>${esc(t('component.maintainer'))}</dt><dd id="card-component-maintainer">${esc(c.maintainer ?? t('card.none'))}</dd>
        <dt>${esc(t('component.state'))}</dt><dd id="card-component-state"><span class="badge state-${esc(c.state)}">${esc(label('cstate', c.state))}</span></dd>
        ${c.survey_date ? `<dt>${esc(t('component.survey_date'))}</dt><dd>${esc(c.survey_date)}</dd>` : ''}
      </dl>
    </div>
    <div class="card-sec">
      <dl class="kv">
        <dt>${esc(t('card.street'))}</dt>${areaDd('card-component-street', c.street)}
        <dt>${esc(t('card.grid'))}</dt>${areaDd('card-component-grid', c.grid)}
        <dt>${esc(t('card.block'))}</dt>${areaDd('card-component-block', c.block)}
        <dt>${esc(t('card.point'))}</dt><dd class="coords">${esc(t('card.wgs84'))} ${fmt(c.lon)}, ${fmt(c.lat)}</dd>
      </dl>
    </div>`;
}

function shopCardHtml(a) {
  const s = a.item;
  const level = s.standing?.level;
  const f = s.frontage;
  const frontage = f
    ? `${esc(s.segment_name ?? f.segment)} <span class="muted">${esc(t('card.distance', { d: Math.round(f.distance_m) }))}${f.source === 'manual' ? ` · ${esc(t('shop.frontage.manual'))}` : ''}</span>${codeOf({ code: f.segment })}`
    : esc(t('shop.frontage.none'));
  let inspections;
  if (a.error) inspections = `<p class="muted">${esc(t('card.error', { msg: a.error }))}</p>`;
  else if (!a.detail) inspections = `<p class="muted">${esc(t('card.loading'))}</p>`;
  else {
    // the last five, newest first, with the points each added
    const all = [...(a.detail.inspections || [])].sort((x, y) => String(y.date).localeCompare(String(x.date)) || y.id - x.id);
    const pointsOf = new Map();
    for (const p of a.detail.points || []) if (p.reason?.kind === 'inspection') pointsOf.set(p.reason.inspection, (pointsOf.get(p.reason.inspection) || 0) + p.points);
    const shown = all.slice(0, 5);
    inspections = all.length ? `<ul class="inspections" id="card-shop-inspections" data-count="${all.length}">${shown.map((i) => {
      const items = i.items || [];
      const failed = items.filter((x) => !x.passed);
      const pts = pointsOf.get(i.id);
      return `<li data-id="${esc(i.id)}"><div class="i-head"><span class="i-date">${esc(i.date)}</span><span class="muted">${esc(i.inspector)}</span></div>
        <div>${esc(t('shop.inspection.passed', { p: items.length - failed.length, n: items.length }))}${pts ? ` · <span class="i-points">${esc(t('shop.inspection.points', { n: pts }))}</span>` : ''}</div>
        ${failed.map((x) => `<div class="i-failed">${esc(x.item)}${x.note ? `：${esc(x.note)}` : ''}</div>`).join('')}</li>`;
    }).join('')}</ul>${all.length > shown.length ? `<p class="muted">${esc(t('shop.inspections.more', { n: all.length - shown.length }))}</p>` : ''}`
      : `<p class="muted" id="card-shop-inspections" data-count="0">${esc(t('shop.inspections.none'))}</p>`;
  }
  return `${cardHead(s.name, [label('layer.one', 'shops'), s.street?.name, s.grid?.name].filter(Boolean).join(' › '))}
    <div class="card-sec peek" id="card-shop-standing">
      <h3>${esc(t('shop.standing'))}</h3>
      <div class="standing"><span class="points">${esc(t('shop.points', { n: s.standing?.points_in_window ?? 0 }))}</span><span class="badge level-${esc(level)}" id="card-shop-level">${esc(label('level', level))}</span></div>
    </div>
    <div class="card-sec">
      <dl class="kv">
        <dt>${esc(t('shop.credit_code'))}</dt><dd id="card-shop-credit" class="coords">${esc(s.credit_code ?? t('card.none'))}</dd>
        <dt>${esc(t('shop.pledge'))}</dt><dd id="card-shop-pledge">${esc(s.pledge_signed ?? t('shop.pledge.none'))}</dd>
        ${s.contact || s.phone ? `<dt>${esc(t('shop.contact'))}</dt><dd>${esc(s.contact ?? '')} ${s.phone ? `<a class="tel" href="tel:${esc(s.phone)}">${esc(s.phone)}</a>` : ''}</dd>` : ''}
        <dt>${esc(t('shop.frontage'))}</dt><dd id="card-shop-frontage">${frontage}</dd>
        <dt>${esc(t('card.block'))}</dt>${areaDd('card-shop-block', s.block)}
        <dt>${esc(t('card.grid'))}</dt>${areaDd('card-shop-grid', s.grid)}
      </dl>
    </div>
    <div class="card-sec"><h3>${esc(t('shop.inspections'))}</h3>${inspections}</div>`;
}

// ---------------------------------------------------------------- coordinates

function setupCoords() {
  $('#coord-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const p = coordFields();
    const err = $('#coord-error');
    if (!p) {
      err.textContent = t('coords.invalid');
      err.hidden = false;
      return;
    }
    err.hidden = true;
    lookupAndShow(p.lon, p.lat, $('#coord-crs').value, true);
  });
  // a point pasted into either field fills both
  for (const id of ['#coord-lon', '#coord-lat']) {
    $(id).addEventListener('paste', (e) => {
      const point = parsePoint(e.clipboardData?.getData('text') ?? '');
      if (!point) return;
      e.preventDefault();
      $('#coord-lon').value = String(point.lon);
      $('#coord-lat').value = String(point.lat);
    });
  }
}

// The point of the coordinate fields: decimal degrees or degrees-minutes-seconds, full-width
// digits too; a whole point ("121.16,30.89") in the longitude field; a hemisphere letter that
// names the other axis swaps them. Null when not a point.
function coordFields() {
  const lonText = $('#coord-lon').value.trim();
  const latText = $('#coord-lat').value.trim();
  if (!lonText) return null;
  if (!latText) return parsePoint(lonText);
  const a = parseAngle(lonText);
  const b = parseAngle(latText);
  if (!a || !b) return null;
  const [lon, lat] = a.axis === 'lat' || b.axis === 'lon' ? [b.value, a.value] : [a.value, b.value];
  if (Math.abs(lon) > 180 || Math.abs(lat) > 90) return null;
  return { lon, lat };
}

// ---------------------------------------------------------------- planner

// A failed call in words of the page's language; the server's sentence (English) as the detail.
function problemLine(e) {
  const { text, detail } = problemText(e);
  return detail ? `${text} (${detail})` : text;
}
function showStatusProblem(el, e) {
  showProblem(el, e);
  el.className = 'status-line error';
}

function tokenField(id, key) {
  const el = $(id);
  try { el.value = sessionStorage.getItem(key) || ''; } catch { /* ignore */ }
  el.addEventListener('change', () => { try { sessionStorage.setItem(key, el.value.trim()); } catch { /* ignore */ } });
  return () => el.value.trim();
}

function setupPlanner() {
  const token = tokenField('#planner-token', 'gridatlas.plannerToken');
  const adminToken = tokenField('#planner-admin-token', 'gridatlas.adminToken');
  const status = $('#planner-status');
  const setStatus = (msg, cls = '') => { status.textContent = msg; status.className = `status-line ${cls}`; };
  // What the tokens are (GET /api/v1/tokens/self): the override is shown to an admin token only.
  const who = { planner: null, admin: null };
  const describe = async (secret) => (secret ? api.tokenSelf(secret) : null);
  const showRole = () => {
    const el = $('#planner-role');
    const me = who.planner;
    if (!me) { el.textContent = ''; return; }
    const streets = me.role === 'admin' || me.streets.includes('*') ? t('planner.role.all') : me.streets.join('、');
    el.textContent = me.may_publish
      ? t('planner.role', { role: label('role', me.role), scope: streets ? t('planner.role.scope', { streets }) : '' })
      : t('planner.role.cannot');
    el.className = `status-line ${me.may_publish ? '' : 'error'}`;
    el.dataset.role = me.role;
  };
  const checkPlanner = async () => {
    who.planner = null;
    try { who.planner = await describe(token()); } catch (e) { showStatusProblem($('#planner-role'), e); return; }
    showRole();
    renderPublishBox();
  };
  const checkAdmin = async () => {
    who.admin = null;
    const el = $('#admin-token-status');
    el.textContent = '';
    el.className = 'status-line';
    if (adminToken()) {
      try {
        const me = await describe(adminToken());
        if (me.may_publish_over_errors) { who.admin = me; el.textContent = t('planner.admin_token.ok'); el.className = 'status-line ok'; }
        else { el.textContent = t('planner.admin_token.not_admin', { role: label('role', me.role) }); el.className = 'status-line error'; }
      } catch (e) { showStatusProblem(el, e); }
    }
    renderPublishBox();
  };
  // The publish box of the current draft: nothing once it is published; with errors, the
  // override (reason) to an admin token only, and to a planner who may publish over them.
  const renderPublishBox = () => {
    const d = state.draft;
    const box = $('#publish-box');
    box.hidden = !d || d.published;
    if (box.hidden) return;
    const errors = state.draftSummary?.errors ?? 0;
    const admin = who.planner?.may_publish_over_errors ? who.planner : who.admin;
    $('#override-ask').hidden = !(errors > 0) || !!who.planner?.may_publish_over_errors;
    $('#override-who').textContent = t('planner.override.who', { e: errors });
    $('#override-box').hidden = !(errors > 0 && admin);
    $('#planner-publish').disabled = errors > 0 && !admin;
  };
  state.renderPublishBox = renderPublishBox;
  $('#planner-file').addEventListener('change', () => closeMapping());
  $('#planner-token').addEventListener('change', checkPlanner);
  $('#planner-admin-token').addEventListener('change', checkAdmin);
  document.addEventListener('langchange', () => { showRole(); renderPublishBox(); });
  if (token()) checkPlanner();
  if (adminToken()) checkAdmin();
  $('#planner-upload').addEventListener('click', async () => {
    const file = $('#planner-file').files[0];
    if (!token()) return setStatus(t('planner.need_token'), 'error');
    if (!file) return setStatus(t('planner.need_file'), 'error');
    // A table format (Shapefile .zip, GeoPackage, CSV): the mapping step first (mapping.js).
    let params;
    if (needsMapping(file)) {
      $('#publish-box').hidden = true;
      $('#planner-summary').hidden = true;
      $('#findings-list').innerHTML = '';
      try {
        params = await mappingStep(file, token(), setStatus);
      } catch (e) {
        return showStatusProblem(status, e);
      }
      if (!params) return;
    }
    const prog = $('#planner-progress');
    const bar = prog.querySelector('.bar');
    const lab = prog.querySelector('.progress-label');
    prog.hidden = false;
    $('#planner-upload').disabled = true;
    $('#publish-box').hidden = true;
    $('#planner-summary').hidden = true;
    $('#findings-list').innerHTML = '';
    setStatus('');
    try {
      const res = await uploadDraft(file, token(), (f, done) => {
        bar.style.width = `${Math.round(f * 100)}%`;
        lab.textContent = done ? t('planner.validating') : t('planner.uploading', { p: Math.round(f * 100) });
      }, params);
      state.draft = res;
      state.draftSummary = res.summary;
      if (params) showDraftExport(res.id, token());
      else showDraftOutline(file);
      const report = await api.report(res.id, token());
      state.findings = (report.features || []).map((f, i) => ({ ...f, properties: { ...f.properties, idx: i } }));
      drawFindings();
      renderFindings();
      prog.hidden = true;
      if (!who.planner) await checkPlanner();
      renderPublishBox();
      zoomToFindings();
    } catch (e) {
      prog.hidden = true;
      showStatusProblem(status, e);
    } finally {
      $('#planner-upload').disabled = false;
    }
  });
  $('#planner-publish').addEventListener('click', async () => {
    const d = state.draft;
    if (!d || d.published) return;
    const errors = state.draftSummary?.errors ?? 0;
    const admin = who.planner?.may_publish_over_errors ? token() : who.admin ? adminToken() : '';
    const reason = $('#override-reason').value.trim();
    if (errors > 0 && !reason) return setStatus(t('planner.need_reason'), 'error');
    const btn = $('#planner-publish');
    btn.disabled = true;
    try {
      const r = await api.publish(d.id, errors > 0 ? admin : token(), errors > 0 ? reason : undefined);
      d.published = r.generation;
      afterPublish(r.generation);
      setStatus(t('planner.published.done', { id: d.id, g: r.generation }), 'ok');
    } catch (e) {
      showStatusProblem(status, e);
    } finally {
      btn.disabled = false;
      renderPublishBox();
    }
  });
}

// After a publish the page shows the new generation: the draft's outline and findings leave the
// map, the tiles are fetched for it, an open card is asked again, the draft offers no 发布.
function afterPublish(generation) {
  const empty = { type: 'FeatureCollection', features: [] };
  for (const id of ['findings', 'findings-points', 'draft']) state.map.getSource(id)?.setData(empty);
  state.map.setFilter('finding-selected', ['==', ['get', 'idx'], -1]);
  state.findings = [];
  state.draftSummary = null;
  $('#planner-summary').hidden = true;
  $('#findings-list').innerHTML = '';
  $('#override-reason').value = '';
  state.config.generation = generation;
  renderStatus();
  refreshTiles(generation);
  state.publishedGeneration = generation;
  const open = state.lastLookup;
  if (open && !$('#card').hidden) lookupAndShow(open.lon, open.lat, 'wgs84', false);
}

// Draws a draft read from another format as the server read it (its GeoJSON export).
async function showDraftExport(id, token) {
  try {
    const fc = await getWithToken(`/api/v1/drafts/${id}/export`, token);
    if (fc?.type === 'FeatureCollection') state.map.getSource('draft').setData(fc);
  } catch { /* the outline is a help only; the findings are drawn without it */ }
}

// Draws the uploaded file's boundaries (dashed) so the findings can be read against them.
async function showDraftOutline(file) {
  if (file.size > 64 * 1024 * 1024) return;
  try {
    const fc = JSON.parse(await file.text());
    if (fc?.type === 'FeatureCollection') state.map.getSource('draft').setData(fc);
  } catch { /* the server has already said what is wrong with the file */ }
}

function refreshTiles(generation) {
  const src = state.map.getSource('atlas');
  const tiles = src.tiles.map((u) => {
    const url = new URL(u);
    url.searchParams.set('g', generation);
    return url.href.replace(/%7B/gi, '{').replace(/%7D/gi, '}');
  });
  src.setTiles(tiles);
}

function findingPoint(f) {
  const g = f.geometry;
  if (!g) return null;
  let c = g.coordinates;
  while (Array.isArray(c) && Array.isArray(c[0])) c = c[0];
  return Array.isArray(c) && typeof c[0] === 'number' ? c : null;
}

function bboxOfGeometry(g) {
  if (!g) return null;
  const b = [Infinity, Infinity, -Infinity, -Infinity];
  const walk = (c) => {
    if (typeof c[0] === 'number') { b[0] = Math.min(b[0], c[0]); b[1] = Math.min(b[1], c[1]); b[2] = Math.max(b[2], c[0]); b[3] = Math.max(b[3], c[1]); } else c.forEach(walk);
  };
  if (g.type === 'GeometryCollection') g.geometries.forEach((x) => walk(x.coordinates)); else walk(g.coordinates);
  return Number.isFinite(b[0]) ? b : null;
}

function drawFindings() {
  const feats = state.findings || [];
  state.map.getSource('findings').setData({ type: 'FeatureCollection', features: feats.filter((f) => f.geometry) });
  const pts = feats.filter((f) => f.properties.rule === 'invalid_geometry' || f.geometry?.type === 'Point' || f.geometry?.type === 'MultiPoint')
    .map((f) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: findingPoint(f) }, properties: f.properties }))
    .filter((f) => f.geometry.coordinates);
  state.map.getSource('findings-points').setData({ type: 'FeatureCollection', features: pts });
}

function zoomToFindings() {
  const boxes = (state.findings || []).map((f) => bboxOfGeometry(f.geometry)).filter(Boolean);
  if (!boxes.length) return;
  const b = boxes.reduce((a, c) => [Math.min(a[0], c[0]), Math.min(a[1], c[1]), Math.max(a[2], c[2]), Math.max(a[3], c[3])]);
  state.map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: 80, maxZoom: 16, duration: 600 });
}

// A rule's number of findings from the draft summary's `by_rule`: per rule, the count per severity
// (`{"containment": {"error": 2, "warning": 1}}` → 3).
function ruleCount(rule, bySeverity) {
  const counts = Object.values(bySeverity && typeof bySeverity === 'object' ? bySeverity : { _: NaN });
  const n = counts.reduce((a, c) => a + c, 0);
  if (!counts.every(Number.isInteger)) throw new Error(`summary.by_rule.${rule}: expected counts per severity, got ${JSON.stringify(bySeverity)}`);
  return n;
}

function renderFindings() {
  const s = state.draftSummary || {};
  const feats = state.findings || [];
  const sum = $('#planner-summary');
  sum.hidden = false;
  sum.classList.toggle('clean', feats.length === 0);
  const byRule = s.by_rule || {};
  sum.innerHTML = `<div class="headline" id="planner-headline">${esc(t('planner.summary', { id: state.draft?.id ?? '', e: s.errors ?? 0, w: s.warnings ?? 0 }))}</div>
    <div class="rules" id="findings-legend">${Object.entries(byRule).map(([k, sev]) => {
      const n = ruleCount(k, sev);
      const parts = Object.entries(sev).map(([v, c]) => `${label('severity', v)} ${c}`).join(' · ');
      return `<span class="badge" data-rule="${esc(k)}" data-count="${n}" title="${esc(parts)}"><i class="swatch mini f-${esc(k)}"></i>${esc(label('rule', k))} ${n}</span>`;
    }).join('')}</div>
    <div class="f-meta findings-count" id="findings-count" data-count="${feats.length}">${esc(feats.length ? t('planner.findings', { n: feats.length }) : t('planner.no_findings'))}</div>`;
  const lang = getLang();
  const LIST_MAX = 500; // the map draws every finding; the list shows the first 500
  $('#findings-list').innerHTML = feats.slice(0, LIST_MAX).map((f, i) => {
    const p = f.properties;
    // message as {zh, en} (the API's report) or message_zh / message_en (gridatlas validate's GeoJSON)
    const msg = (typeof p.message === 'object' && p.message ? (p.message[lang] ?? p.message.zh) : p.message)
      ?? p[`message_${lang}`] ?? p.message_zh ?? '';
    const fixText = (typeof p.fix === 'object' && p.fix ? (p.fix.message?.[lang] ?? p.fix.message?.zh ?? p.fix[lang]) : null)
      ?? p[`fix_${lang}`] ?? p.fix_zh ?? '';
    const area = p.area_m2 != null ? ` · ${Math.round(p.area_m2).toLocaleString()} m²` : '';
    return `<li data-i="${i}"><span class="f-sym f-${esc(p.rule)}"></span><div><div class="f-msg">${esc(msg)}</div>${fixText ? `<div class="f-fix">${esc(fixText)}</div>` : ''}<div class="f-meta">${esc(label('rule', p.rule))} · ${esc(label('severity', p.severity))}${esc(area)}${(p.codes || []).length ? ` · ${esc(p.codes.join(', '))}` : ''}</div></div>${f.geometry ? `<button class="btn small" type="button" data-zoom="${i}">${esc(t('planner.zoom'))}</button>` : '<span></span>'}</li>`;
  }).join('') + (feats.length > LIST_MAX ? `<li class="more">${esc(t('planner.more', { n: feats.length - LIST_MAX }))}</li>` : '');
  for (const b of document.querySelectorAll('#findings-list [data-zoom]')) {
    b.addEventListener('click', () => {
      const i = Number(b.dataset.zoom);
      const bb = bboxOfGeometry(feats[i].geometry);
      if (bb) state.map.fitBounds([[bb[0], bb[1]], [bb[2], bb[3]]], { padding: 160, maxZoom: 16.5, duration: 600 });
      state.map.setFilter('finding-selected', ['==', ['get', 'idx'], i]);
    });
  }
}

// ---------------------------------------------------------------- case intake

async function setupIntake() {
  try {
    const res = await api.categories();
    state.categories = res.items || [];
  } catch {
    state.categories = null; // the case API is not there: keep the tab hidden
    return;
  }
  $('#tab-intake').hidden = false;
  fillCategories();
  const token = tokenField('#intake-token', 'gridatlas.intakeToken');
  const status = $('#intake-status');
  const setStatus = (msg, cls = '') => { status.textContent = msg; status.className = `status-line ${cls}`; };
  const submit = async (confirmed) => {
    $('#intake-repeat').hidden = true;
    if (!token()) return setStatus(t('intake.need_token'), 'error');
    // a place is used for one case: the next needs a place chosen again on the map
    if (!state.intakePoint) return setStatus(t('intake.need_place'), 'error');
    const [lon, lat] = state.intakePoint;
    const body = { lon, lat, crs: 'wgs84', category: $('#intake-category').value, description: $('#intake-description').value.trim(), source: 'app' };
    const last = state.lastCase;
    if (!confirmed && last && metresBetween([last.lon, last.lat], [lon, lat]) < REPEAT_M && (last.category === body.category || (body.description && last.description === body.description))) {
      $('#intake-repeat-text').textContent = t('intake.repeat', { id: last.res.id, d: Math.round(metresBetween([last.lon, last.lat], [lon, lat])) });
      $('#intake-repeat').hidden = false;
      return setStatus('');
    }
    setStatus('');
    $('#intake-result').hidden = true; // no earlier answer under a new one (or under an error)
    $('#intake-submit').disabled = true;
    try {
      const res = await api.createCase(body, token());
      state.lastCase = { ...body, res };
      renderIntakeResult(res);
      state.intakePoint = null;
      state.intakeMarker?.getElement().classList.add('used');
      renderIntakePlace();
    } catch (e) {
      showStatusProblem(status, e);
    } finally {
      $('#intake-submit').disabled = false;
    }
  };
  $('#intake-submit').addEventListener('click', () => submit(false));
  $('#intake-repeat-confirm').addEventListener('click', () => submit(true));
  $('#intake-repeat-cancel').addEventListener('click', () => { $('#intake-repeat').hidden = true; });
}

// A second case within this distance of the last one (same category or description) is asked about first.
const REPEAT_M = 50;
function metresBetween([lon1, lat1], [lon2, lat2]) {
  const k = Math.PI / 180;
  const x = (lon2 - lon1) * k * Math.cos(((lat1 + lat2) / 2) * k), y = (lat2 - lat1) * k;
  return Math.hypot(x, y) * 6371008.8;
}

function fillCategories() {
  const sel = $('#intake-category');
  if (!state.categories || !sel) return;
  const cur = sel.value;
  const lang = getLang();
  sel.innerHTML = state.categories.map((c) => `<option value="${esc(c.code)}">${esc(lang === 'en' ? (c.name_en || c.name_zh) : c.name_zh)}${c.layer ? ` · ${esc(label('layer.one', c.layer))}` : ''}</option>`).join('');
  if (cur) sel.value = cur;
}

function setIntakePoint(lon, lat) {
  state.intakePoint = [lon, lat];
  if (!state.intakeMarker) {
    const el = pinElement('#1d5fa8');
    el.classList.add('case-place');
    state.intakeMarker = new maplibregl.Marker({ element: el, anchor: 'bottom' });
  }
  state.intakeMarker.getElement().classList.remove('used');
  state.intakeMarker.setLngLat([lon, lat]).addTo(state.map);
  $('#intake-repeat').hidden = true;
  renderIntakePlace();
}
function renderIntakePlace() {
  const el = $('#intake-place');
  if (!el) return;
  el.textContent = state.intakePoint ? `${fmt(state.intakePoint[0])}, ${fmt(state.intakePoint[1])}` : t('intake.place.none');
}

function renderIntakeResult(res) {
  const a = res.assignment || {};
  // the due time of the case's stage (reported: to be accepted by), on the working calendar
  const dueAt = res.due_at || a.due_at;
  const due = dueAt ? new Date(dueAt).toLocaleString(getLang() === 'zh' ? 'zh-CN' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short' }) : '—';
  const stage = res.stage ? label('stage', res.stage) : '—';
  const dups = (res.possible_duplicates || []).map((d) => `#${d.id} (${Math.round(d.distance_m)} m)`).join(', ');
  const box = $('#intake-result');
  box.hidden = false;
  box.innerHTML = `<h3>${esc(t('intake.routed', { id: res.id }))}</h3><dl>
    <dt>${esc(t('intake.grid'))}</dt><dd>${esc(a.grid?.name ?? '—')}</dd>
    <dt>${esc(t('intake.block'))}</dt><dd>${esc(a.block?.name ?? '—')}</dd>
    <dt>${esc(t('intake.person'))}</dt><dd>${a.block_head ? `${esc(a.block_head.name)} <a href="tel:${esc(a.block_head.phone)}">${esc(a.block_head.phone ?? '')}</a>` : '—'}</dd>
    <dt>${esc(t('intake.stage'))}</dt><dd id="intake-stage">${esc(stage)}</dd>
    <dt>${esc(t('intake.due'))}</dt><dd id="intake-due">${esc(due)}</dd>
    ${a.confidence ? `<dt>${esc(t('intake.confidence'))}</dt><dd id="intake-confidence" data-value="${esc(a.confidence)}">${esc(label('confidence', a.confidence))}</dd>` : ''}
  </dl>${dups ? `<p class="warning" id="intake-duplicates">${esc(t('intake.duplicates', { ids: dups }))}</p>` : ''}`;
}

main();
