// 网格员手机页 (/m): a grid worker's day on a phone. Sign in with a token (the QR code on the
// badge links /m#token=…); check in and out where the browser's geolocation says the phone is;
// record a patrol (fixes sent in batches); report a case from the shift's task list with photos
// from the camera; act on "my tasks" (verify, dispose of front-end cases with before/after photos,
// check). Every action goes through the outbox (IndexedDB, outbox.js) with an idempotency key,
// so it survives a network drop and is applied once; the service worker (sw.js) keeps the page
// itself available offline.
import { getWithToken, toError, ApiError } from './api.js';
import { t, applyI18n, getLang, setLang } from './i18n.js';
import { problemText, showProblem } from './problems.js';
import * as outbox from './outbox.js';
import { el } from './dom.js';

const $ = (s, root = document) => root.querySelector(s);
const TOKEN_KEY = 'gridatlas.mToken';
const CRS_KEY = 'gridatlas.mCrs';
const CACHE_KEY = 'gridatlas.mCache';
// a patrol's fixes leave in batches: every 30 s or 20 fixes, whichever comes first
const BATCH_MS = 30000;
const BATCH_FIXES = 20;
const PHOTO_MAX_PX = 2048;
// shift times are the district's (China Standard Time)
const DISTRICT_TZ = 'Asia/Shanghai';

const state = {
  token: '',
  me: null,
  categories: new Map(),
  crs: 'wgs84',
  watch: null,
  fixes: [],
  sentFixes: 0,
  batchTimer: null,
  flushing: false,
  tasks: [],
};

// ------------------------------------------------------------------ helpers

function say(target, text, cls) {
  const e = typeof target === 'string' ? $(target) : target;
  e.className = `result ${cls}`;
  e.textContent = text;
}

function sayProblem(target, err, action) {
  const e = typeof target === 'string' ? $(target) : target;
  e.className = 'result error';
  showProblem(e, err, action);
}

const authHeaders = (extra = {}) => ({ Accept: 'application/json', Authorization: `Bearer ${state.token}`, ...extra });

async function send(path, { body, type, key }) {
  const headers = authHeaders();
  if (type) headers['Content-Type'] = type;
  if (key) headers['Idempotency-Key'] = key;
  let res;
  try {
    res = await fetch(path, { method: 'POST', headers, body });
  } catch (e) {
    throw new ApiError(e?.message || 'network error', 0, null);
  }
  if (!res.ok) throw await toError(res);
  return res.status === 204 ? null : res.json();
}

function categoryName(code) {
  const c = state.categories.get(code);
  if (!c) return code;
  return getLang() === 'zh' ? c.name_zh : (c.name_en || c.name_zh);
}

/** The phone's position: `{lon, lat, accuracy_m, t}` from the browser's geolocation. */
function position() {
  return new Promise((resolve, reject) => {
    if (!navigator.geolocation) { reject(new Error(t('m.geo.none'))); return; }
    navigator.geolocation.getCurrentPosition(
      (p) => resolve(fix(p)),
      (e) => reject(new Error(e.code === 1 ? t('m.geo.denied') : t('m.geo.failed'))),
      { enableHighAccuracy: true, timeout: 20000, maximumAge: 5000 },
    );
  });
}

function fix(p) {
  return {
    lon: Number(p.coords.longitude.toFixed(7)),
    lat: Number(p.coords.latitude.toFixed(7)),
    accuracy_m: Math.round(p.coords.accuracy * 10) / 10,
    t: new Date(p.timestamp || Date.now()).toISOString(),
  };
}

// ------------------------------------------------------------------ the outbox

async function showOutbox() {
  const items = await outbox.pending();
  const box = $('#m-outbox');
  const failed = items.filter((i) => i.failed);
  const waiting = items.length - failed.length;
  box.hidden = items.length === 0;
  box.dataset.count = String(items.length);
  box.replaceChildren();
  if (waiting) box.append(el('span', {}, t('m.outbox.waiting', { n: waiting })));
  for (const f of failed) {
    const discard = el('button', { type: 'button', className: 'btn small' }, t('m.outbox.discard'));
    discard.addEventListener('click', async () => { await outbox.discard(f.seq); showOutbox(); });
    box.append(el('div', { className: 'failed' }, `${t(`m.kind.${f.kind}`)}：${f.failed} `, discard));
  }
}

/** Sends what waits, oldest first; stops at the first network failure (tried again later). */
async function flush() {
  if (state.flushing || !state.token) return;
  state.flushing = true;
  try {
    for (const item of await outbox.pending()) {
      if (item.failed) continue;
      let answer;
      try {
        answer = await deliver(item);
      } catch (e) {
        if (e instanceof Waiting) continue;
        if (!e.status || e.status >= 500 || e.status === 408 || e.status === 429) break;
        // refused: kept, with the reason, until the worker discards it
        const { text } = problemText(e, item.body?.action ?? '');
        await outbox.update(item.seq, { failed: text });
        notify(item, null, e);
        continue;
      }
      await outbox.complete(item.seq, answer);
      notify(item, answer, null);
    }
  } finally {
    state.flushing = false;
    showOutbox();
  }
}

class Waiting extends Error {}

/** The case id an item is about: its own, or the answer of the queued report it refers to. */
async function caseIdOf(item) {
  if (item.case_id) return item.case_id;
  const answer = await outbox.answerOf(item.case_ref);
  if (answer?.id) return answer.id;
  const still = (await outbox.pending()).find((i) => i.seq === item.case_ref);
  if (still && !still.failed) throw new Waiting();
  throw new ApiError(t('m.outbox.orphan'), 422, null);
}

async function deliver(item) {
  switch (item.kind) {
    case 'checkin':
      return send('/api/v1/checkins', { body: JSON.stringify(item.body), type: 'application/json', key: item.key });
    case 'fixes':
      return send('/api/v1/fixes', { body: item.ndjson, type: 'application/x-ndjson', key: item.key });
    case 'case':
      return send('/api/v1/cases', { body: JSON.stringify(item.body), type: 'application/json', key: item.key });
    case 'photo': {
      const id = await caseIdOf(item);
      const form = new FormData();
      form.append('kind', item.photo_kind);
      form.append('photo', item.blob, item.name || 'photo.jpg');
      return send(`/api/v1/cases/${id}/photos`, { body: form, key: item.key });
    }
    case 'event': {
      const id = await caseIdOf(item);
      const body = { ...item.body };
      // the photos uploaded for this step, by the URLs the server gave them
      const urls = [];
      for (const ref of item.photo_refs ?? []) {
        const a = await outbox.answerOf(ref);
        if (a?.url) urls.push(new URL(a.url, location.origin).href);
        else if ((await outbox.pending()).some((i) => i.seq === ref && !i.failed)) throw new Waiting();
      }
      if (urls.length) body.photos = urls;
      return send(`/api/v1/cases/${id}/events`, { body: JSON.stringify(body), type: 'application/json', key: item.key });
    }
    default:
      throw new ApiError(`unknown outbox item ${item.kind}`, 422, null);
  }
}

/** What a sent (or refused) item means for the page. */
function notify(item, answer, err) {
  if (item.kind === 'checkin') {
    if (err) sayProblem('#m-att-result', err);
    else {
      const c = answer.checkin;
      say('#m-att-result', t('m.checkin.done', {
        punch: t(`m.punch.${c.punch}`), place: t(`place.${c.place}`), klass: t(`attendance.${c.class}`),
        m: Math.round(c.distance_m ?? 0),
      }), c.class === 'outside' ? 'error' : 'ok');
    }
  } else if (item.kind === 'fixes') {
    if (!err) {
      state.sentFixes += item.count ?? 0;
      showPatrol();
    }
  } else if (item.kind === 'case') {
    if (err) sayProblem('#m-report-result', err);
    else say('#m-report-result', t('m.report.done', { id: answer.id, grid: answer.assignment?.grid?.name ?? t('m.no_grid') }), 'ok');
  } else if (item.kind === 'event') {
    if (!err) loadTasks().catch(() => {});
  }
}

// ------------------------------------------------------------------ check-in

async function punch(kind) {
  const btns = [$('#m-in'), $('#m-out')];
  for (const b of btns) b.disabled = true;
  say('#m-att-result', t('m.locating'), '');
  try {
    const p = await position();
    const body = { ...p, crs: state.crs, punch: kind };
    await outbox.enqueue({ kind: 'checkin', body });
    say('#m-att-result', t('m.saved'), 'queued');
    await showOutbox();
    await flush();
  } catch (e) {
    if (e instanceof ApiError) sayProblem('#m-att-result', e);
    else say('#m-att-result', e.message, 'error');
  } finally {
    for (const b of btns) b.disabled = false;
  }
}

// ------------------------------------------------------------------ patrol

function showPatrol() {
  const on = state.watch !== null;
  const btn = $('#m-patrol-toggle');
  btn.dataset.i18n = on ? 'm.patrol.stop' : 'm.patrol.start';
  btn.textContent = t(btn.dataset.i18n);
  btn.classList.toggle('primary', !on);
  document.body.dataset.patrol = on ? 'on' : 'off';
  const s = $('#m-patrol-state');
  s.className = 'result';
  s.dataset.sent = String(state.sentFixes);
  s.textContent = on || state.sentFixes
    ? t('m.patrol.state', { n: state.fixes.length, sent: state.sentFixes })
    : '';
}

async function batch() {
  clearTimeout(state.batchTimer);
  state.batchTimer = null;
  if (!state.fixes.length) return;
  const fixes = state.fixes.splice(0);
  const staff = state.me?.staff;
  const ndjson = fixes.map((f) => JSON.stringify({ staff, ...f, crs: state.crs })).join('\n') + '\n';
  await outbox.enqueue({ kind: 'fixes', ndjson, count: fixes.length });
  showPatrol();
  await showOutbox();
  flush();
}

function togglePatrol() {
  if (state.watch !== null) {
    navigator.geolocation.clearWatch(state.watch);
    state.watch = null;
    batch();
    showPatrol();
    return;
  }
  if (!navigator.geolocation) { say('#m-patrol-state', t('m.geo.none'), 'error'); return; }
  state.watch = navigator.geolocation.watchPosition(
    (p) => {
      state.fixes.push(fix(p));
      if (state.fixes.length >= BATCH_FIXES) batch();
      else if (!state.batchTimer) state.batchTimer = setTimeout(batch, BATCH_MS);
      showPatrol();
    },
    (e) => say('#m-patrol-state', e.code === 1 ? t('m.geo.denied') : t('m.geo.failed'), 'error'),
    { enableHighAccuracy: true, maximumAge: 0 },
  );
  showPatrol();
}

// ------------------------------------------------------------------ photos

/** A photo as JPEG of at most PHOTO_MAX_PX on its long side (re-encoding also drops EXIF);
 * the file as it is when the browser cannot decode it (the server then says why it refuses it). */
async function shrink(file) {
  try {
    const bmp = await createImageBitmap(file, { imageOrientation: 'from-image' });
    const scale = Math.min(1, PHOTO_MAX_PX / Math.max(bmp.width, bmp.height));
    const w = Math.max(1, Math.round(bmp.width * scale));
    const h = Math.max(1, Math.round(bmp.height * scale));
    const canvas = document.createElement('canvas');
    canvas.width = w;
    canvas.height = h;
    canvas.getContext('2d').drawImage(bmp, 0, 0, w, h);
    bmp.close?.();
    const blob = await new Promise((r) => canvas.toBlob(r, 'image/jpeg', 0.85));
    return blob ?? file;
  } catch {
    return file;
  }
}

async function queuePhotos(files, ref, kind) {
  const seqs = [];
  for (const f of files) {
    const blob = await shrink(f);
    seqs.push(await outbox.enqueue({ kind: 'photo', ...ref, photo_kind: kind, blob, name: (f.name || 'photo').replace(/\.[^.]*$/, '') + '.jpg' }));
  }
  return seqs;
}

// ------------------------------------------------------------------ report

async function report(e) {
  e.preventDefault();
  const btn = $('#m-report-form button[type="submit"]');
  btn.disabled = true;
  say('#m-report-result', t('m.locating'), '');
  try {
    const p = await position();
    const body = {
      lon: p.lon, lat: p.lat, crs: state.crs, category: $('#m-category').value,
      description: $('#m-description').value.trim(), source: 'patrol', reported_at: p.t,
    };
    const seq = await outbox.enqueue({ kind: 'case', body });
    await queuePhotos([...$('#m-photos').files], { case_ref: seq }, 'report');
    $('#m-report-form').reset();
    fillCategories();
    say('#m-report-result', t('m.saved'), 'queued');
    await showOutbox();
    await flush();
  } catch (err) {
    if (err instanceof ApiError) sayProblem('#m-report-result', err);
    else say('#m-report-result', err.message, 'error');
  } finally {
    btn.disabled = false;
  }
}

function fillCategories() {
  const sel = $('#m-category');
  const codes = state.me?.categories?.length ? state.me.categories : [...state.categories.keys()];
  sel.replaceChildren(...codes.map((c) => el('option', { value: c }, categoryName(c))));
}

// ------------------------------------------------------------------ my tasks

/** The steps a grid worker takes, by stage. */
const TASK_ACTIONS = {
  accepted: [{ action: 'verify' }],
  dispatched: [{ action: 'dispose', note: true, photos: ['before', 'after'] }, { action: 'return', note: true }, { action: 'request_extension', note: true, extend: true }],
  disposed: [{ action: 'check' }, { action: 'rework', note: true }],
};

async function loadTasks() {
  const list = await getWithToken('/api/v1/cases?stage=accepted,dispatched,disposed&limit=200', state.token);
  state.tasks = list.items.filter((c) => c.stage !== 'dispatched' || c.track === 'front_end');
  cache({ tasks: state.tasks });
  renderTasks();
}

function renderTasks() {
  const ol = $('#m-task-list');
  if (!state.tasks.length) {
    ol.replaceChildren(el('li', { className: 'empty' }, t('m.tasks.none')));
    return;
  }
  ol.replaceChildren(...state.tasks.map((c) => {
    const li = el('li', { dataset: { case: String(c.id), stage: c.stage } },
      el('div', { className: 'title' }, `#${c.id} ${categoryName(c.category)} · ${t(`stage.${c.stage}`)}`),
      el('div', { className: 'muted' }, `${c.assignment?.block?.name ?? c.assignment?.grid?.name ?? ''} · ${c.description ?? ''}`));
    const actions = el('div', { className: 'actions' });
    for (const spec of TASK_ACTIONS[c.stage] ?? []) {
      if (!c.next.includes(spec.action)) continue;
      const b = el('button', { type: 'button', className: 'btn', dataset: { action: spec.action } }, t(`action.${spec.action}`));
      b.addEventListener('click', () => taskForm(li, c, spec));
      actions.append(b);
    }
    li.append(actions, el('p', { className: 'result', role: 'status' }));
    return li;
  }));
}

function taskForm(li, c, spec) {
  li.querySelector('form')?.remove();
  const form = el('form', { dataset: { action: spec.action } });
  let note = null;
  let extend = null;
  const photoInputs = {};
  if (spec.note) {
    note = el('textarea', { rows: 2, required: true, maxLength: 2000 });
    form.append(el('label', {}, t(spec.action === 'dispose' ? 'm.task.result' : 'm.task.reason'), note));
  }
  if (spec.extend) {
    extend = el('select', {}, ...['1 work_days', '2 work_days', '3 work_days'].map((v, i) => el('option', { value: v }, t('m.task.days', { n: i + 1 }))));
    form.append(el('label', {}, t('field.extend_by'), extend));
  }
  for (const kind of spec.photos ?? []) {
    photoInputs[kind] = el('input', { type: 'file', accept: 'image/jpeg,image/png', capture: 'environment', multiple: true, name: kind });
    form.append(el('label', { className: 'file' }, t(`m.photo.${kind}`), photoInputs[kind]));
  }
  form.append(el('button', { type: 'submit', className: 'btn primary' }, t('desk.confirm', { action: t(`action.${spec.action}`) })));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const out = li.querySelector('.result');
    try {
      const refs = [];
      for (const [kind, input] of Object.entries(photoInputs)) refs.push(...await queuePhotos([...input.files], { case_id: c.id }, kind));
      const body = { action: spec.action };
      if (note?.value.trim()) body.note = note.value.trim();
      if (extend) body.extend_by = extend.value;
      // the "after" photos are the disposal's evidence on the case's record
      await outbox.enqueue({ kind: 'event', case_id: c.id, body, photo_refs: spec.action === 'dispose' ? refs : [] });
      form.remove();
      say(out, t('m.saved'), 'queued');
      await showOutbox();
      await flush();
    } catch (err) {
      sayProblem(out, err, spec.action);
    }
  });
  li.append(form);
}

// ------------------------------------------------------------------ sign-in and start

function cache(patch) {
  try {
    const old = JSON.parse(localStorage.getItem(CACHE_KEY) || '{}');
    localStorage.setItem(CACHE_KEY, JSON.stringify({ ...old, ...patch }));
  } catch { /* storage full or unavailable: the page works without */ }
}

function cached() {
  try { return JSON.parse(localStorage.getItem(CACHE_KEY) || '{}'); } catch { return {}; }
}

function showMe() {
  const me = state.me;
  $('#m-name').textContent = me ? `${me.name} · ${me.staff}` : t('m.title');
  const s = me?.shift;
  const hm = (iso) => new Date(iso).toLocaleTimeString('zh-CN', { timeZone: DISTRICT_TZ, hour: '2-digit', minute: '2-digit', hour12: false });
  $('#m-shift').textContent = s
    ? `${s.name_zh ?? s.code ?? ''} ${hm(s.start)}–${hm(s.end)}${s.mode_zh ? ` · ${s.mode_zh}` : ''}`
    : t('m.no_shift');
}

function setNet() {
  const on = navigator.onLine;
  const e = $('#m-net');
  e.classList.toggle('off', !on);
  e.dataset.i18n = on ? 'm.online' : 'm.offline';
  e.textContent = t(e.dataset.i18n);
}

async function signedIn() {
  $('#m-signin').hidden = true;
  $('#m-main').hidden = false;
  const c = cached();
  if (c.me) state.me = c.me;
  if (c.categories) state.categories = new Map(c.categories.map((x) => [x.code, x]));
  if (c.tasks) state.tasks = c.tasks;
  showMe();
  fillCategories();
  renderTasks();
  showPatrol();
  await showOutbox();
  try {
    const [me, cats] = await Promise.all([
      getWithToken('/api/v1/my-shift', state.token),
      getWithToken('/api/v1/categories', state.token),
    ]);
    state.me = me;
    state.categories = new Map(cats.items.map((x) => [x.code, x]));
    cache({ me, categories: cats.items });
    showMe();
    fillCategories();
    await loadTasks();
  } catch (e) {
    if (e.status === 401) { signOut(); sayProblem('#m-report-result', e); return; }
    // offline: the cached shift, task list and tasks stay
  }
  document.body.dataset.ready = '1';
  flush();
}

function signOut() {
  try { localStorage.removeItem(TOKEN_KEY); localStorage.removeItem(CACHE_KEY); } catch { /* ignore */ }
  state.token = '';
  $('#m-main').hidden = true;
  $('#m-signin').hidden = false;
}

function start() {
  applyI18n();
  $('#lang-toggle').addEventListener('click', () => setLang(getLang() === 'zh' ? 'en' : 'zh'));
  document.addEventListener('langchange', () => { showMe(); fillCategories(); renderTasks(); showPatrol(); showOutbox(); setNet(); });
  try { state.crs = localStorage.getItem(CRS_KEY) || new URLSearchParams(location.search).get('crs') || 'wgs84'; } catch { /* ignore */ }
  if (!['wgs84', 'gcj02'].includes(state.crs)) state.crs = 'wgs84';
  $('#m-crs').value = state.crs;
  $('#m-crs').addEventListener('change', () => { state.crs = $('#m-crs').value; try { localStorage.setItem(CRS_KEY, state.crs); } catch { /* ignore */ } });
  $('#m-in').addEventListener('click', () => punch('in'));
  $('#m-out').addEventListener('click', () => punch('out'));
  $('#m-patrol-toggle').addEventListener('click', togglePatrol);
  $('#m-report-form').addEventListener('submit', report);
  $('#m-tasks-reload').addEventListener('click', () => loadTasks().catch((e) => sayProblem('#m-report-result', e)));
  $('#m-signout').addEventListener('click', signOut);
  $('#m-signin-form').addEventListener('submit', (e) => {
    e.preventDefault();
    state.token = $('#m-token').value.trim();
    try { localStorage.setItem(TOKEN_KEY, state.token); } catch { /* ignore */ }
    signedIn();
  });
  window.addEventListener('online', () => { setNet(); flush(); });
  window.addEventListener('offline', setNet);
  // retried every 15 s as well: `online` is not fired on every network change
  setInterval(flush, 15000);
  setNet();
  outbox.prune().catch(() => {});
  if ('serviceWorker' in navigator) navigator.serviceWorker.register('/sw.js').catch(() => {});

  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.get('token')) {
    try { localStorage.setItem(TOKEN_KEY, hash.get('token')); } catch { /* ignore */ }
    history.replaceState(null, '', location.pathname + location.search);
  }
  try { state.token = localStorage.getItem(TOKEN_KEY) || ''; } catch { state.token = ''; }
  if (state.token) signedIn();
  else { $('#m-signin').hidden = false; }
}

start();
