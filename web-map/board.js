// Public board (宣传版面) of one grid: the grid with its numbered blocks as inline SVG (no tiles,
// so it prints reliably), the organisation chart, the task list, the reporting contacts and the
// shops under frontage duty (门责商户) by the road segment they face, with their pledge and level.
// board.html?grid=CODE (index.html?board=CODE redirects here).
import { api } from './api.js';
import { t, label, applyI18n, setLang, getLang } from './i18n.js';

const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const BLOCK_FILLS = ['#fde2c8', '#d7e8f7', '#dcefd9', '#efe0f5', '#fbf0c2', '#f8d9d9', '#d9f0ee', '#e6e2d3'];
const HOTLINE = '12345';
// A phone number as a link that calls it (on a phone; printed, it is the number).
const telLink = (phone, cls = '') => (phone ? `<a class="${cls}" href="tel:${esc(String(phone).replace(/[^0-9+]/g, ''))}">${esc(phone)}</a>` : '');

const grid = new URLSearchParams(location.search).get('grid') || new URLSearchParams(location.search).get('board');
let loaded = null;

document.getElementById('print').addEventListener('click', () => window.print());
document.getElementById('lang-toggle').addEventListener('click', () => setLang(getLang() === 'zh' ? 'en' : 'zh'));
document.addEventListener('langchange', () => { if (loaded) { render(loaded); fitShops(loaded.shops); } });

async function load() {
  applyI18n();
  const root = document.getElementById('board');
  if (!grid) {
    root.innerHTML = `<div class="message">${esc(t('board.choose'))}</div>`;
    return;
  }
  let area;
  try {
    area = await api.area(grid, true);
  } catch (e) {
    root.innerHTML = `<div class="message">${esc(e.status === 404 ? t('board.not_found', { code: grid }) : e.message)}</div>`;
    document.body.dataset.boardReady = '1';
    return;
  }
  const [children, categories, config, shops] = await Promise.all([
    api.children(grid, true).then((r) => r.items || []).catch(() => []),
    api.categories(area.layer).then((r) => r.items || []).catch(() => null),
    api.config().catch(() => null),
    // a failure is shown in the shops' section (not as an empty list)
    allShops(grid).then((list) => ({ groups: shopGroups(list), total: list.length, signed: list.filter((s) => s.pledge_signed).length }),
      (e) => ({ error: e.message || String(e) })),
  ]);
  const blocks = children.filter((c) => !c.layer || c.layer === 'block');
  // Block heads: from the children listing when it carries people, else one request per block.
  await Promise.all(blocks.map(async (b) => {
    if (!Array.isArray(b.people)) b.people = (await api.area(b.code).catch(() => ({}))).people || [];
  }));
  blocks.forEach((b, i) => { b.number = blockNumber(b, i); });
  blocks.sort((a, b) => a.number - b.number);
  loaded = { area, blocks, categories, config, shops };
  render(loaded);
  await document.fonts?.ready;
  fitShops(shops);
  document.body.dataset.boardReady = '1';
}

// Every shop of the area: the public list (no contacts), page after page by `next_after`.
async function allShops(code) {
  const shops = [];
  let after;
  for (;;) {
    const page = await api.shopsOfArea(code, { after });
    shops.push(...(page.shops || []));
    if (!page.next_after || page.next_after === after) return shops;
    after = page.next_after;
  }
}

// The shops by the road segment they face, by segment name; those facing none last ("other").
// A name two segments share gets the segment's code, so that the groups can be told apart.
function shopGroups(shops) {
  const coll = new Intl.Collator('zh-CN', { numeric: true });
  const bySegment = new Map();
  for (const s of shops) {
    const seg = s.frontage?.segment ?? '';
    if (!bySegment.has(seg)) bySegment.set(seg, { segment: seg, name: seg ? (s.segment_name || seg) : '', shops: [] });
    bySegment.get(seg).shops.push(s);
  }
  const groups = [...bySegment.values()];
  for (const g of groups) g.shops.sort((a, b) => coll.compare(a.name, b.name) || coll.compare(a.id, b.id));
  groups.sort((a, b) => (a.segment ? 0 : 1) - (b.segment ? 0 : 1) || coll.compare(a.name, b.name) || coll.compare(a.segment, b.segment));
  const named = {};
  for (const g of groups) if (g.segment) named[g.name] = (named[g.name] || 0) + 1;
  for (const g of groups) g.shared = !!g.segment && named[g.name] > 1;
  return groups;
}

// Same numbering as the map's labels: `seq` when given, else the code's last 3 digits.
function blockNumber(b, i) {
  const seq = Number(b.seq ?? b.attributes?.seq);
  if (Number.isFinite(seq) && seq > 0) return seq;
  const m = String(b.code).match(/(\d{1,3})$/);
  const tail = m ? Number(m[1]) : NaN;
  return Number.isFinite(tail) && tail > 0 ? tail : i + 1;
}

function render({ area, blocks, categories, config, shops }) {
  const root = document.getElementById('board');
  const street = (area.parents || []).find((p) => p.layer === 'street');
  const district = (area.parents || []).find((p) => p.layer === 'district') || config?.district;
  const people = area.people || [];
  const byRole = (r) => people.filter((p) => p.role === r);
  const station = byRole('station_head');
  const stationPhone = station[0]?.phone;
  document.title = `${area.name} · ${t('board.title')}`;
  const kind = [label('layer', area.layer), area.kind ? label('kind', area.kind) : ''].filter(Boolean).join(' · ');
  const lang = getLang();
  // with shops the map row is lower (board.css: .has-shops): two columns from 5 blocks
  const density = blocks.length > (shops?.total ? 18 : 24) ? 'dense' : blocks.length > (shops?.total ? 4 : 8) ? 'many' : '';

  root.innerHTML = `
    <header class="b-head">
      <div class="b-slogan">${esc(t('board.subtitle'))}</div>
      <h1 id="board-title">${esc(area.name)}</h1>
      <div class="b-title2">${esc(t('board.title'))}</div>
      <div class="b-meta"><span>${esc([district?.name, street?.name].filter(Boolean).join(' · '))}</span><span>${esc(kind)}</span><span>${esc(area.code)}</span></div>
    </header>
    <div class="b-body${shops?.total ? ' has-shops' : ''}">
      <div class="b-row r1">
        <section class="b-sec">
          <h2>${esc(t('board.map'))}</h2>
          <div class="b-map">${mapSvg(area, blocks)}</div>
        </section>
        <section class="b-sec">
          <h2>${esc(t('board.blocks'))}</h2>
          <div class="b-blocks ${density}">
            ${blocks.map((b) => blockCard(b)).join('')}
          </div>
        </section>
      </div>
      <div class="b-row r2">
        <section class="b-sec">
          <h2>${esc(t('board.org'))}</h2>
          ${orgChart(byRole)}
        </section>
        <div class="b-col">
          <section class="b-sec b-tasks">
            <h2>${esc(t('board.tasks'))}</h2>
            ${categories && categories.length
              ? `<ol id="board-tasks">${categories.map((c) => `<li>${esc(lang === 'en' ? (c.name_en || c.name_zh) : c.name_zh)}</li>`).join('')}</ol>`
              : `<div class="placeholder" id="board-tasks">${esc(t('board.tasks.placeholder'))}</div>`}
          </section>
          <section class="b-sec">
            <h2>${esc(t('board.report'))}</h2>
            <div class="b-report">
              <div class="rep wide"><div class="rl">${esc(t('board.hotline'))}</div><div class="rv" id="board-hotline">${telLink(HOTLINE)}</div></div>
              <div class="rep"><div class="rl">${esc(t('board.station_phone'))}</div><div class="rv small" id="board-station-phone">${stationPhone ? telLink(stationPhone) : '—'}</div></div>
              <div class="rep"><div class="rl">${esc(t('board.scan'))}</div>${reportQr()}</div>
            </div>
          </section>
        </div>
      </div>
      ${shopsSection(shops)}
    </div>
    <footer class="b-foot"><span>${esc([district?.name, street?.name, area.name].filter(Boolean).join(' · '))}</span><span>${esc(t('board.updated', { g: config?.generation ?? '—', d: new Date().toLocaleDateString(lang === 'zh' ? 'zh-CN' : 'en-GB') }))}</span></footer>
  `;
}

// 扫码上报: a QR code (drawn by the server, /qr.svg) of the phone page on this server.
function reportQr() {
  const url = new URL('/m', location.href).href;
  return `<img id="board-qr" class="qr-img" src="/qr.svg?url=${encodeURIComponent(url)}" data-url="${esc(url)}" alt="${esc(t('board.scan.alt', { url }))}" width="120" height="120">`;
}

// ---- shops under frontage duty (门责商户): a summary and the groups, fitted by fitShops()

function shopsSection(shops) {
  let summary;
  let body = '';
  if (!shops || shops.error) {
    summary = `<div class="b-shops-msg error" id="board-shops-error" role="alert">${esc(t('board.shops.error', { msg: shops?.error ?? '—' }))}</div>`;
  } else if (!shops.total) {
    summary = `<div class="b-shops-msg" id="board-shops-summary">${esc(t('board.shops.none'))}</div>`;
  } else {
    const p = Math.round((100 * shops.signed) / shops.total);
    summary = `<div class="b-shops-sum" id="board-shops-summary">${esc(t('board.shops.summary', { n: shops.total, m: shops.signed, p }))}</div>`;
    body = '<div class="b-shops-groups" id="board-shops-groups"></div>';
  }
  const data = shops && !shops.error ? ` data-total="${shops.total}" data-signed="${shops.signed}"` : '';
  return `<section class="b-sec b-row r3 b-shops" id="board-shops"${data}>
    <div class="b-shops-top"><h2>${esc(t('board.shops'))}</h2>${summary}</div>${body}</section>`;
}

function shopRow(s) {
  const level = s.standing?.level;
  const pledge = s.pledge_signed
    ? `<span class="sp signed">${esc(t('board.shops.signed', { d: s.pledge_signed }))}</span>`
    : `<span class="sp unsigned">${esc(t('board.shops.unsigned'))}</span>`;
  const levels = { good: t('board.shops.level.good'), warned: t('board.shops.level.warned'), escalated: t('board.shops.level.escalated') };
  return `<li class="b-shop" data-id="${esc(s.id)}"><span class="sn">${esc(s.name)}</span>${pledge}`
    + `<span class="lv lv-${esc(level)}" data-level="${esc(level)}">${esc(levels[level] ?? level ?? '—')}</span></li>`;
}

// At most `rows` shops per group and the first `count` groups; the rest are counted.
function groupsHtml(groups, rows, count) {
  const shown = groups.slice(0, count);
  const rest = groups.slice(count);
  const html = shown.map((g) => {
    const n = g.shops.length;
    const more = n - Math.min(n, rows);
    return `<div class="b-sg" data-segment="${esc(g.segment)}" data-count="${n}">
      <div class="sg-h"><span class="sg-n">${esc(g.segment ? g.name : t('board.shops.other'))}</span>${g.shared ? `<span class="sg-code">${esc(g.segment)}</span>` : ''}`
      + `<span class="sg-c">${esc(n === 1 ? t('board.shops.count.one') : t('board.shops.count', { n }))}</span></div>
      <ul>${g.shops.slice(0, rows).map(shopRow).join('')}</ul>
      ${more ? `<div class="sg-more" data-more="${more}">${esc(t('board.shops.more', { n: more }))}</div>` : ''}</div>`;
  }).join('');
  const restShops = rest.reduce((a, g) => a + g.shops.length, 0);
  return html + (rest.length
    ? `<div class="b-sg sg-rest" data-more-groups="${rest.length}" data-more="${restShops}">${esc(t('board.shops.more_groups', { g: rest.length, n: restShops }))}</div>`
    : '');
}

// Fits the groups in their box (one A3 page): the box takes the room the organisation chart, the
// task list and the contacts leave (or gives them what they lack), then fewer rows per group
// until nothing overflows, then fewer groups; when everything fits, the box shrinks to its
// content and the rows above grow.
const MAX_ROWS = 40;
// The board on a phone's screen (board.css, max-width 800px): one column, no A3 sheet.
const phoneView = () => window.matchMedia('screen and (max-width: 800px)').matches;
function fitShops(shops) {
  const box = document.getElementById('board-shops-groups');
  if (!box || !shops?.groups) return;
  // the phone view (board.css): one column as long as it needs, every group
  if (phoneView()) {
    box.style.height = '';
    box.innerHTML = groupsHtml(shops.groups, MAX_ROWS, shops.groups.length);
    box.dataset.rows = String(MAX_ROWS);
    return;
  }
  // the row above keeps what its contents need (a long task list), no more
  const mm = 96 / 25.4;
  const r2 = document.querySelector('.b-row.r2');
  const used = Math.max(...['#board-org', '#board-tasks', '.b-report'].map((sel) => document.querySelector(sel)?.getBoundingClientRect().bottom ?? 0));
  const slack = r2.getBoundingClientRect().bottom - used - 3 * mm;
  box.style.height = `${Math.max(24 * mm, box.clientHeight + slack)}px`;
  // overflowing the box (to a fourth column), or a group split across columns
  const over = () => box.scrollHeight > box.clientHeight + 1 || box.scrollWidth > box.clientWidth + 1
    || [...box.querySelectorAll('.b-sg')].some((g) => g.getClientRects().length > 1);
  const groups = shops.groups;
  const most = Math.min(MAX_ROWS, Math.max(...groups.map((g) => g.shops.length)));
  let rows = most;
  let count = groups.length;
  const draw = () => { box.innerHTML = groupsHtml(groups, rows, count); };
  draw();
  while (over() && rows > 1) { rows--; draw(); }
  while (over() && count > 1) { count--; draw(); }
  box.dataset.rows = String(rows);
  if (rows === most && count === groups.length) {
    // all shown: give back the height they do not need (in 2 mm steps)
    const step = 2 * mm;
    let h = box.clientHeight;
    while (h > 6 * step) {
      box.style.height = `${h - step}px`;
      if (over()) break;
      h -= step;
    }
    box.style.height = `${h}px`;
  }
}

function blockCard(b) {
  const head = (b.people || []).find((p) => p.role === 'block_head') || (b.people || [])[0];
  const photo = head?.photo_url ? `<img src="${esc(head.photo_url)}" alt="">` : '<img alt="">';
  return `<div class="b-block" data-code="${esc(b.code)}">
    <div class="b-num">${b.number}</div>${photo}
    <div><div class="bn">${esc(b.name)}</div>
    ${head ? `<div class="bp">${esc(label('role', head.role))} <b>${esc(head.name)}</b></div><div class="tel">${telLink(head.phone)}</div>` : ''}</div></div>`;
}

function orgPerson(p, cls = '') {
  return `<div class="op ${cls}" data-role="${esc(p.role)}">${p.photo_url ? `<img src="${esc(p.photo_url)}" alt="">` : '<img alt="">'}
    <div class="on">${esc(p.name)}</div><div class="or">${esc(label('role', p.role))}</div><div class="ot">${telLink(p.phone)}</div></div>`;
}

function orgChart(byRole) {
  const rows = [];
  const station = byRole('station_head');
  const deputies = byRole('deputy_head');
  const forces = [...byRole('enforcement_officer'), ...byRole('assistant'), ...byRole('volunteer')];
  if (station.length) rows.push(`<div class="org-row top">${station.map((p) => orgPerson(p, 'lead')).join('')}</div>`);
  if (deputies.length) rows.push(`<div class="org-row">${deputies.map((p) => orgPerson(p)).join('')}</div>`);
  if (forces.length) rows.push(`<div class="org-row">${forces.map((p) => orgPerson(p, 'minor')).join('')}</div>`);
  return `<div class="org" id="board-org">${rows.join('') || `<div class="placeholder">—</div>`}</div>`;
}

// ---- the grid map as SVG: equirectangular, x scaled by cos(latitude)

function rings(g) {
  if (!g) return [];
  if (g.type === 'Polygon') return [g.coordinates];
  if (g.type === 'MultiPolygon') return g.coordinates;
  return [];
}

function mapSvg(area, blocks) {
  const W = 1000;
  const all = [area.geometry, ...blocks.map((b) => b.geometry)].filter(Boolean);
  if (!all.length) return '';
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const g of all) for (const poly of rings(g)) for (const [x, y] of poly[0]) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
  const k = Math.cos(((y0 + y1) / 2) * Math.PI / 180);
  const pad = 30;
  const sx = (W - 2 * pad) / Math.max((x1 - x0) * k, 1e-12);
  const H = Math.min(1000, Math.max(500, Math.round((y1 - y0) * sx + 2 * pad)));
  const s = Math.min(sx, (H - 2 * pad) / Math.max(y1 - y0, 1e-12));
  const ox = (W - (x1 - x0) * k * s) / 2, oy = (H - (y1 - y0) * s) / 2;
  const P = ([x, y]) => `${((x - x0) * k * s + ox).toFixed(1)},${((y1 - y) * s + oy).toFixed(1)}`;
  const path = (g) => rings(g).map((poly) => poly.map((r) => `M${r.map(P).join('L')}Z`).join('')).join('');
  const parts = [];
  parts.push(`<svg viewBox="0 0 ${W} ${H}" preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${esc(area.name)}" id="board-map">`);
  parts.push(`<defs><pattern id="paper" width="20" height="20" patternUnits="userSpaceOnUse"><path d="M20 0H0V20" fill="none" stroke="#f1e8de" stroke-width="1"/></pattern></defs>`);
  parts.push(`<rect width="${W}" height="${H}" fill="url(#paper)"/>`);
  if (area.geometry) parts.push(`<path d="${path(area.geometry)}" fill="#fff7ee" stroke="none" fill-rule="evenodd"/>`);
  blocks.forEach((b, i) => {
    if (!b.geometry) return;
    parts.push(`<path d="${path(b.geometry)}" fill="${BLOCK_FILLS[i % BLOCK_FILLS.length]}" stroke="#5b4636" stroke-width="1.6" stroke-dasharray="7 4" fill-rule="evenodd"/>`);
  });
  if (area.geometry) parts.push(`<path d="${path(area.geometry)}" fill="none" stroke="#b8312f" stroke-width="5" stroke-linejoin="round"/>`);
  for (const b of blocks) {
    const c = labelPoint(b.geometry);
    if (!c) continue;
    const [x, y] = P(c).split(',').map(Number);
    parts.push(`<g class="blk-label"><circle cx="${x}" cy="${y}" r="22" fill="#b8312f" stroke="#fff" stroke-width="3"/><text x="${x}" y="${y + 8}" text-anchor="middle" font-size="24" font-weight="800" fill="#fff">${b.number}</text></g>`);
  }
  // north arrow
  parts.push(`<g transform="translate(${W - 50},60)"><path d="M0,-30 L12,10 L0,2 L-12,10Z" fill="#333"/><text class="north" y="32" text-anchor="middle" font-size="20" font-weight="700">N</text></g>`);
  parts.push('</svg>');
  return parts.join('');
}

// Middle of the widest horizontal run across the middle of the largest polygon.
function labelPoint(g) {
  const polys = rings(g);
  if (!polys.length) return null;
  let poly = polys[0];
  let best = -1;
  for (const p of polys) {
    const ys = p[0].map((c) => c[1]);
    const xs = p[0].map((c) => c[0]);
    const a = (Math.max(...xs) - Math.min(...xs)) * (Math.max(...ys) - Math.min(...ys));
    if (a > best) { best = a; poly = p; }
  }
  const ys = poly[0].map((c) => c[1]);
  const y = (Math.min(...ys) + Math.max(...ys)) / 2 + 1e-9;
  const xs = [];
  for (const ring of poly) for (let i = 1; i < ring.length; i++) {
    const [xa, ya] = ring[i - 1], [xb, yb] = ring[i];
    if ((ya > y) !== (yb > y)) xs.push(xa + ((y - ya) * (xb - xa)) / (yb - ya));
  }
  xs.sort((a, b) => a - b);
  let run = null;
  for (let i = 0; i + 1 < xs.length; i += 2) if (!run || xs[i + 1] - xs[i] > run[1] - run[0]) run = [xs[i], xs[i + 1]];
  return run ? [(run[0] + run[1]) / 2, y] : null;
}

load();
