// 调度台 (the dispatcher's desk) of the street portal: the cases waiting for the centre, bucket by
// bucket (to accept, to verify, to open, to dispatch — with the street queue —, extension
// requests, to close, on hold); the chosen case with its routing (confidence, grid, the boundary
// candidates or the street queue's nearest grids), its possible duplicates, and the actions its
// stage allows the centre. Each action is the case API's (POST /api/v1/cases/{id}/events); a
// refusal is shown in the page's language, with the server's sentence beside it.
import { getWithToken, postJSON } from './api.js';
import { t, getLang } from './i18n.js';
import { showProblem } from './problems.js';
import { el } from './dom.js';

const $ = (s, root = document) => root.querySelector(s);
const DISTRICT_TZ = 'Asia/Shanghai';

/** The desk's buckets, in the order of the workflow, each with the stages it holds. */
export const BUCKETS = [
  { id: 'accept', test: (c) => c.stage === 'reported' },
  { id: 'verify', test: (c) => c.stage === 'accepted' },
  { id: 'open', test: (c) => c.stage === 'verified' },
  { id: 'dispatch', test: (c) => c.stage === 'opened' },
  { id: 'extension', test: (c) => c.stage === 'dispatched' && !!c.pending_extension },
  { id: 'close', test: (c) => c.stage === 'checked' },
  { id: 'hold', test: (c) => c.stage === 'on_hold' },
];
const STAGES = 'reported,accepted,verified,opened,dispatched,checked,on_hold';

/** The centre's actions, in the order the desk offers them, with what each one asks for. */
const ACTIONS = {
  accept: { primary: true },
  verify: { primary: true },
  open: { primary: true },
  dispatch: { primary: true, target: true, note: 'optional' },
  transfer: { target: true, note: 'optional' },
  approve_extension: { primary: true },
  refuse_extension: { note: 'required' },
  close: { primary: true, note: 'optional' },
  escalate: { note: 'optional' },
  reject: { note: 'required' },
  hold: { note: 'required', until: true },
  resume: {},
  void: { note: 'required', duplicate: true },
};

const desk = {
  token: '',
  street: '',
  cases: new Map(),
  suggestions: new Map(),
  bucket: 'accept',
  selected: null,
  view: null,
  form: null,
  busy: false,
  onActed: () => {},
};


function when(iso) {
  if (!iso) return '–';
  return new Date(iso).toLocaleString(getLang() === 'zh' ? 'zh-CN' : 'en-GB', {
    timeZone: DISTRICT_TZ, hour12: false, month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
  });
}

/** Sets up the desk for a token and a street ('' for the district view). */
export function initDesk({ token, street, onActed }) {
  desk.token = token;
  desk.street = street;
  desk.onActed = onActed ?? (() => {});
  renderTabs();
}

/** Reads the waiting cases (and the street queue's suggestions) again and redraws. */
export async function loadDesk() {
  const p = new URLSearchParams({ stage: STAGES, limit: '1000' });
  if (desk.street) p.set('street', desk.street);
  const list = await getWithToken(`/api/v1/cases?${p}`, desk.token);
  desk.cases = new Map(list.items.map((c) => [c.id, c]));
  desk.suggestions = new Map();
  if (desk.street) {
    const queue = await getWithToken(`/api/v1/queue?street=${encodeURIComponent(desk.street)}&limit=1000`, desk.token);
    for (const q of queue.items) desk.suggestions.set(q.case.id, q.suggestions);
  }
  renderTabs();
  renderList();
  if (desk.selected !== null) await select(desk.selected, { keepForm: true });
}

/** A live case event: the chosen case is read again; the lists follow on the next load. */
export async function caseChanged(id) {
  if (id === desk.selected && !desk.busy) await select(id, { keepForm: true }).catch(() => {});
}

function inBucket(id) {
  const b = BUCKETS.find((x) => x.id === id);
  return [...desk.cases.values()].filter(b.test).sort((a, c) => new Date(a.due_at) - new Date(c.due_at) || a.id - c.id);
}

function renderTabs() {
  const tabs = $('#desk-tabs');
  tabs.replaceChildren(...BUCKETS.map((b) => {
    const n = inBucket(b.id).length;
    const btn = el('button', { type: 'button', role: 'tab', dataset: { bucket: b.id, count: String(n) } },
      t(`desk.bucket.${b.id}`), el('span', { className: 'n' }, String(n)));
    btn.setAttribute('aria-selected', String(b.id === desk.bucket));
    btn.addEventListener('click', () => { desk.bucket = b.id; renderTabs(); renderList(); });
    return btn;
  }));
}

function renderList() {
  const list = $('#desk-list');
  const items = inBucket(desk.bucket);
  if (!items.length) {
    list.replaceChildren(el('li', { className: 'empty' }, t('desk.empty')));
    return;
  }
  const now = Date.now();
  list.replaceChildren(...items.map((c) => {
    const grid = c.assignment?.grid?.name ?? (c.assignment?.queue ? t('desk.street_queue') : '–');
    const overdue = c.overdue || new Date(c.due_at).getTime() < now;
    const meta = el('span', { className: 'meta' },
      `${grid} · ${t('desk.due')} ${when(c.due_at)}`,
      overdue ? el('span', { className: 'overdue' }, ` · ${t('desk.overdue')}`) : null);
    const btn = el('button', { type: 'button', dataset: { case: String(c.id) } },
      el('strong', {}, `#${c.id} `), categoryName(c.category), meta);
    if (c.id === desk.selected) btn.setAttribute('aria-current', 'true');
    btn.addEventListener('click', () => select(c.id).catch((e) => message(e)));
    return el('li', {}, btn);
  }));
}

let categories = new Map();
/** The task list, for the categories' names. */
export function setCategories(map) { categories = map; }
function categoryName(code) {
  const c = categories.get(code);
  if (!c) return code;
  return getLang() === 'zh' ? c.name_zh : (c.name_en || c.name_zh);
}

async function select(id, { keepForm = false } = {}) {
  const view = await getWithToken(`/api/v1/cases/${id}`, desk.token);
  desk.selected = id;
  desk.view = view;
  if (!keepForm) desk.form = null;
  for (const b of document.querySelectorAll('#desk-list button[data-case]')) {
    if (b.dataset.case === String(id)) b.setAttribute('aria-current', 'true');
    else b.removeAttribute('aria-current');
  }
  renderCase(keepForm);
}

function renderCase(keepMessage) {
  const c = desk.view;
  const box = $('#desk-case');
  const oldMsg = keepMessage ? $('.desk-msg', box) : null;
  const a = c.assignment ?? {};
  const facts = el('dl', { className: 'facts' });
  const fact = (k, v) => facts.append(el('div', {}, el('dt', {}, t(k)), el('dd', {}, v)));
  fact('desk.stage', `${t(`stage.${c.stage}`)}${c.track ? ` · ${t(`track.${c.track}`)}` : ''}`);
  fact('desk.reported', `${when(c.reported_at)} · ${t(`source.${c.source}`)}`);
  fact('desk.due', `${when(c.due_at)}${c.overdue ? ` · ${t('desk.overdue')}` : ''}`);
  if (c.description) fact('desk.description', c.description);
  if (c.address) fact('desk.address', c.address);
  fact('desk.confidence', t(`confidence.${a.confidence}`));
  fact('desk.grid', a.grid ? `${a.grid.name ?? ''} ${a.grid.code}` : t('desk.street_queue'));
  // the block head's phone as a link that calls it (issue 20: tel: links everywhere)
  if (a.block_head) {
    const span = el('span', {}, a.block_head.name);
    if (a.block_head.phone) span.append(' ', el('a', { className: 'tel', href: `tel:${a.block_head.phone}` }, a.block_head.phone));
    fact('desk.block_head', span);
  }
  if (c.department) fact('desk.assignee', c.department);
  else if (c.assigned_grid) fact('desk.assignee', c.assigned_grid === a.grid?.code ? `${a.grid.name ?? ''} ${c.assigned_grid}` : c.assigned_grid);
  if (c.pending_extension) fact('desk.pending_extension', when(c.pending_extension));
  if (a.mismatch_reason) fact('desk.mismatch', a.mismatch_reason);

  const parts = [el('h3', {}, `#${c.id} ${categoryName(c.category)}`), facts];
  const cands = a.candidates ?? [];
  const sugg = desk.suggestions.get(c.id) ?? [];
  if (cands.length || sugg.length) {
    parts.push(el('h4', {}, t(cands.length ? 'desk.candidates' : 'desk.suggestions')));
    parts.push(el('ul', { className: 'candidates' }, ...(cands.length ? cands : sugg).map((g) =>
      el('li', {}, `${g.name ?? ''} ${g.code} · ${Number(g.distance_m ?? 0).toFixed(1)} ${t('desk.metres')}`))));
  }
  const dups = c.possible_duplicates ?? [];
  parts.push(el('h4', {}, t('desk.duplicates')));
  parts.push(dups.length
    ? el('ul', { className: 'duplicates' }, ...dups.map((d) =>
      el('li', { dataset: { id: String(d.id) } }, t('desk.duplicate', { id: d.id, stage: t(`stage.${d.stage}`), m: d.distance_m, min: d.age_minutes }))))
    : el('p', { className: 'muted' }, t('desk.no_duplicates')));

  const actions = el('div', { className: 'actions' });
  for (const [name, spec] of Object.entries(ACTIONS)) {
    if (!c.next.includes(name)) continue;
    if (name === 'verify' && a.grid) continue; // its grid worker verifies it
    if (name === 'escalate' && c.track !== 'front_end') continue;
    // a decision on an extension needs a request waiting
    if ((name === 'approve_extension' || name === 'refuse_extension') && !c.pending_extension) continue;
    const b = el('button', { type: 'button', className: spec.primary ? 'primary' : '', dataset: { action: name } }, t(`action.${name}`));
    b.addEventListener('click', () => openForm(name));
    actions.append(b);
  }
  if (!actions.children.length) actions.append(el('p', { className: 'muted' }, t('desk.nothing')));
  parts.push(actions);
  const formBox = el('div', { id: 'desk-form' });
  parts.push(formBox);
  parts.push(oldMsg ?? el('p', { className: 'desk-msg', role: 'status' }));
  box.replaceChildren(...parts);
  if (desk.form) openForm(desk.form);
}

/** The grids a dispatch may go to, the routing's choice first. */
function gridChoices(c) {
  const out = [];
  const seen = new Set();
  const add = (g, why) => {
    if (!g?.code || seen.has(g.code)) return;
    seen.add(g.code);
    out.push({ code: g.code, label: `${g.name ?? ''} ${g.code}${why ? ` · ${why}` : ''}` });
  };
  const a = c.assignment ?? {};
  add(a.grid, t('desk.routing_choice'));
  for (const g of a.candidates ?? []) add(g, t('desk.candidate'));
  for (const g of desk.suggestions.get(c.id) ?? []) add(g, `${Number(g.distance_m ?? 0).toFixed(0)} ${t('desk.metres')}`);
  return out;
}

function openForm(action) {
  const spec = ACTIONS[action];
  const c = desk.view;
  const box = $('#desk-form');
  desk.form = action;
  if (!spec.target && !spec.note && !spec.until && !spec.duplicate) {
    box.replaceChildren();
    act(action, {});
    return;
  }
  const form = el('form', { className: 'act-form', dataset: { action } });
  const fields = {};
  if (spec.target) {
    const grids = gridChoices(c);
    // the routing's suggestion: a grid when it has one; a back-end case goes to a department
    const toDept = c.track === 'back_end' || !grids.length;
    const kind = el('fieldset', {},
      el('legend', { className: 'muted' }, t('desk.target')),
      el('label', {}, fields.toGrid = el('input', { type: 'radio', name: 'target', value: 'grid', checked: !toDept }), t('desk.to_grid')),
      el('label', {}, fields.toDept = el('input', { type: 'radio', name: 'target', value: 'department', checked: toDept }), t('desk.to_department')));
    fields.grid = el('select', { name: 'grid' }, ...grids.map((g) => el('option', { value: g.code }, g.label)));
    const units = (c.assignment?.management_units ?? []).map((u) => u.name).filter(Boolean);
    const listId = `units-${c.id}`;
    fields.department = el('input', { name: 'department', list: listId, autocomplete: 'off', value: c.department ?? '' });
    const datalist = el('datalist', { id: listId }, ...units.map((u) => el('option', { value: u })));
    const gridRow = el('label', {}, t('field.grid'), fields.grid);
    const deptRow = el('label', {}, t('field.department'), fields.department, datalist);
    const sync = () => { gridRow.hidden = !fields.toGrid.checked; deptRow.hidden = !fields.toDept.checked; };
    fields.toGrid.addEventListener('change', sync);
    fields.toDept.addEventListener('change', sync);
    sync();
    form.append(kind, gridRow, deptRow);
  }
  if (spec.until) {
    fields.until = el('input', { type: 'date', name: 'until', required: true });
    form.append(el('label', {}, t('field.until'), fields.until));
  }
  if (spec.duplicate) {
    const dups = c.possible_duplicates ?? [];
    fields.duplicate = el('select', { name: 'duplicate_of' },
      el('option', { value: '' }, t('desk.not_duplicate')),
      ...dups.map((d) => el('option', { value: String(d.id) }, `#${d.id} · ${Number(d.distance_m).toFixed(1)} ${t('desk.metres')}`)));
    form.append(el('label', {}, t('field.duplicate_of'), fields.duplicate));
  }
  if (spec.note) {
    fields.note = el('textarea', { name: 'note', rows: 2, required: spec.note === 'required', maxLength: 2000 });
    form.append(el('label', {}, t(spec.note === 'required' ? 'desk.note_required' : 'field.note'), fields.note));
  }
  const cancel = el('button', { type: 'button' }, t('desk.cancel'));
  cancel.addEventListener('click', () => { desk.form = null; box.replaceChildren(); });
  form.append(el('div', { className: 'row' }, el('button', { type: 'submit', className: 'primary' }, t('desk.confirm', { action: t(`action.${action}`) })), cancel));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const body = {};
    if (fields.note?.value.trim()) body.note = fields.note.value.trim();
    if (spec.target) {
      if (fields.toGrid.checked) body.grid = fields.grid.value;
      else body.department = fields.department.value.trim();
    }
    if (fields.until?.value) body.until = `${fields.until.value}T18:00:00+08:00`;
    if (fields.duplicate?.value) body.duplicate_of = Number(fields.duplicate.value);
    act(action, body);
  });
  box.replaceChildren(form);
}

function message(errOrText, ok = false, action = '') {
  const m = $('#desk-case .desk-msg');
  if (!m) return;
  m.className = `desk-msg ${ok ? 'ok' : 'error'}`;
  if (typeof errOrText === 'string') m.textContent = errOrText;
  else showProblem(m, errOrText, action);
}

async function act(action, body) {
  const id = desk.selected;
  if (desk.busy || id === null) return;
  desk.busy = true;
  try {
    const v = await postJSON(`/api/v1/cases/${id}/events`, { action, ...body }, desk.token);
    desk.form = null;
    desk.cases.set(id, v);
    // the case leaves its bucket when its stage moved on
    if (!BUCKETS.some((b) => b.test(v))) desk.cases.delete(id);
    await select(id, { keepForm: false });
    renderTabs();
    renderList();
    message(t('desk.done', { id, action: t(`action.${action}`), stage: t(`stage.${v.stage}`) }), true);
    desk.onActed(v);
  } catch (e) {
    message(e, false, action);
  } finally {
    desk.busy = false;
  }
}
