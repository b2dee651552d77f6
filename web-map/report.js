// 网格化管理月报 (/report?street=CODE&month=YYYY-MM): a street's month on A4 — its score, grade
// and rank among the streets, the standard indicators beside the district's, cases by stage and
// the grids' on-time rate (ECharts, SVG so that it prints sharp), the streets' ranking, the
// overdue cases and the month's patrol coverage per grid. Print it, or save it as PDF, from the
// browser. The token is the portal's (#token=… or the tab's session).
import * as echarts from './vendor/echarts/echarts.esm.min.mjs';
import { getWithToken } from './api.js';
import { t, applyI18n, getLang, setLang } from './i18n.js';
import { problemText } from './problems.js';
import { el } from './dom.js';

const $ = (s) => document.querySelector(s);
const params = new URLSearchParams(location.search);
const STREET = params.get('street') || '';
const TOKEN_KEY = 'gridatlas.portalToken';
const DISTRICT_TZ = 'Asia/Shanghai';
const RATES = ['on_time_rate', 'close_rate', 'dispose_on_time_rate', 'verify_on_time_rate', 'front_end_resolution_rate', 'satisfaction_rate'];
const STAGES = ['reported', 'accepted', 'verified', 'opened', 'dispatched', 'disposed', 'checked', 'closed', 'rejected', 'on_hold', 'void'];
let token = '';
const charts = [];

const pct = (v) => (v === null || v === undefined ? '–' : `${(v * 100).toFixed(1)}%`);
const get = (path) => getWithToken(path, token);

function districtMonth(d = new Date()) {
  return new Intl.DateTimeFormat('en-CA', { timeZone: DISTRICT_TZ, year: 'numeric', month: '2-digit' }).format(d).slice(0, 7);
}

/** [first day, first day of the next month, last day] of `YYYY-MM`, as dates. */
function monthSpan(m) {
  const [y, mo] = m.split('-').map(Number);
  const next = mo === 12 ? `${y + 1}-01` : `${y}-${String(mo + 1).padStart(2, '0')}`;
  const days = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  return [`${m}-01`, `${next}-01`, `${m}-${String(days).padStart(2, '0')}`];
}

function rows(tbody, list, cells, empty) {
  const body = $(tbody);
  if (!list.length) {
    body.replaceChildren(el('tr', {}, el('td', { colSpan: 9, className: 'empty' }, empty)));
    return;
  }
  body.replaceChildren(...list.map((x) => {
    const tr = el('tr', {}, ...cells(x).map((c) => (typeof c === 'object' && c?.num !== undefined ? el('td', { className: 'num' }, c.num) : el('td', {}, c))));
    return tr;
  }));
}

function chart(id, option) {
  const c = echarts.init($(id), null, { renderer: 'svg' });
  c.setOption({ animation: false, ...option });
  charts.push(c);
}

async function load() {
  const month = $('#r-month').value || districtMonth();
  // `to` of the case figures is exclusive (the next month's midnight); the coverage's is the
  // last day, inclusive
  const [from, to, last] = monthSpan(month);
  const current = month === districtMonth();
  const period = current ? `from=${from}` : `from=${from}&to=${to}`;
  const s = `street=${encodeURIComponent(STREET)}`;
  const [area, ranking, ind, stats, overdue, coverage, cats] = await Promise.all([
    get(`/api/v1/areas/${encodeURIComponent(STREET)}`),
    get(`/api/v1/ranking?kind=street&${period}`),
    get(`/api/v1/indicators?${s}&${period}`),
    get(`/api/v1/cases/stats?${s}&${period}`),
    get(`/api/v1/cases?${s}&overdue=1&limit=200`),
    get(`/api/v1/coverage?${s}&from=${from}&to=${last}`),
    get('/api/v1/categories'),
  ]);
  const names = new Map(cats.items.map((c) => [c.code, getLang() === 'zh' ? c.name_zh : (c.name_en || c.name_zh)]));
  const when = (iso) => new Date(iso).toLocaleString(getLang() === 'zh' ? 'zh-CN' : 'en-GB', { timeZone: DISTRICT_TZ, hour12: false, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });

  $('#r-street').textContent = area.name ?? STREET;
  document.title = `${area.name ?? STREET} ${t('report.title')} ${month}`;
  $('#r-period').textContent = t('report.period', { month });
  $('#r-generated').textContent = when(new Date().toISOString());

  const mine = ranking.items.find((r) => r.code === STREET);
  $('#r-score').textContent = mine?.score ?? '–';
  $('#r-grade').textContent = mine?.grade ?? '–';
  $('#r-rank').textContent = mine ? `${mine.rank} / ${ranking.items.length}` : '–';
  $('#r-cases').textContent = stats.total;
  $('#r-overdue').textContent = overdue.total;
  $('#r-coverage').textContent = pct(coverage.covered_share);

  const street = ind.streets.find((x) => x.code === STREET) ?? {};
  rows('#r-indicators tbody', RATES, (k) => [t(`indicator.${k}`), { num: pct(street[k]) }, { num: pct(ind.district[k]) }], '');
  rows('#r-ranking tbody', ranking.items, (r) => [{ num: r.rank }, r.name ?? r.code, { num: r.score ?? '–' }, r.grade ?? '–', { num: r.indicators?.cases ?? 0 }], t('report.none'));
  for (const tr of document.querySelectorAll('#r-ranking tbody tr')) if (tr.children[1]?.textContent === (area.name ?? STREET)) tr.classList.add('mine');
  rows('#r-overdue-list tbody', overdue.items, (c) => [{ num: c.id }, names.get(c.category) ?? c.category, t(`stage.${c.stage}`), c.assignment?.grid?.name ?? t('desk.street_queue'), when(c.due_at)], t('report.none'));
  $('#r-overdue-list').dataset.count = String(overdue.items.length);
  rows('#r-coverage-list tbody', coverage.grids, (g) => [g.name ?? g.code, { num: `${g.covered_segments} / ${g.segments}` }, { num: `${g.blocks_visited} / ${g.blocks}` }, { num: (g.inside_s / 3600).toFixed(1) }], t('report.none'));

  for (const c of charts.splice(0)) c.dispose();
  chart('#r-chart-stages', {
    title: { text: t('portal.chart.stages'), textStyle: { fontSize: 12 } },
    grid: { left: 30, right: 6, top: 30, bottom: 44 },
    xAxis: { type: 'category', data: STAGES.map((x) => t(`stage.${x}`)), axisLabel: { rotate: 40, fontSize: 9 } },
    yAxis: { type: 'value', minInterval: 1 },
    series: [{ type: 'bar', data: STAGES.map((x) => stats.by_stage[x] ?? 0), itemStyle: { color: '#b8312f' } }],
  });
  // the grids with cases this month, most first: their cases and how many were closed on time
  const grids = ind.grids.filter((g) => g.cases > 0).sort((a, b) => b.cases - a.cases).slice(0, 20);
  chart('#r-chart-grids', {
    title: { text: t('report.chart.grids'), textStyle: { fontSize: 12 } },
    legend: { top: 0, right: 0, textStyle: { fontSize: 9 } },
    grid: { left: 30, right: 6, top: 30, bottom: 60 },
    xAxis: { type: 'category', data: grids.map((g) => g.name ?? g.code), axisLabel: { rotate: 50, fontSize: 8 } },
    yAxis: { type: 'value', minInterval: 1 },
    series: [
      { name: t('report.cases'), type: 'bar', data: grids.map((g) => g.cases), itemStyle: { color: '#4a78b5' } },
      { name: t('report.closed_on_time'), type: 'bar', data: grids.map((g) => g.closed_on_time ?? 0), itemStyle: { color: '#1a7f37' } },
    ],
  });
  document.body.dataset.ready = '1';
}

function start() {
  applyI18n();
  $('#lang-toggle').addEventListener('click', () => setLang(getLang() === 'zh' ? 'en' : 'zh'));
  document.addEventListener('langchange', () => load().catch(fail));
  $('#r-print').addEventListener('click', () => window.print());
  $('#r-back').href = `portal?street=${encodeURIComponent(STREET)}`;
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.get('token')) {
    try { sessionStorage.setItem(TOKEN_KEY, hash.get('token')); } catch { /* ignore */ }
    history.replaceState(null, '', location.pathname + location.search);
  }
  try { token = sessionStorage.getItem(TOKEN_KEY) || ''; } catch { token = ''; }
  $('#r-month').value = /^\d{4}-\d{2}$/.test(params.get('month') || '') ? params.get('month') : districtMonth();
  $('#r-month').addEventListener('change', () => load().catch(fail));
  if (!STREET) { fail(new Error(t('report.need_street'))); return; }
  if (!token) { fail(new Error(t('portal.need_token'))); return; }
  load().catch(fail);
}

function fail(e) {
  const el2 = $('#r-status');
  el2.className = 'status error';
  const { text, detail } = e.status !== undefined ? problemText(e) : { text: e.message, detail: '' };
  el2.textContent = detail ? `${text} (${detail})` : text;
  document.body.dataset.ready = 'error';
}

start();
