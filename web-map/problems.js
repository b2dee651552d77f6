// What a failed API call means, in the page's language. The server answers problem+json
// (RFC 9457) in English; its `type` (urn:gridatlas:problem:<slug>), `status` and extension
// members (`field`, `parameter`, `stage`, `allowed`) say what went wrong in a form the page
// translates. The server's own sentence stays available as the detail.
import { t } from './i18n.js';

/**
 * The problem's code (`conflict`, `forbidden`, …): its `code` member, else the slug of its `type`
 * (urn:gridatlas:problem:<slug>); '' without a problem document.
 */
export function slugOf(problem) {
  if (typeof problem?.code === 'string' && /^[a-z-]+$/.test(problem.code)) return problem.code;
  const type = typeof problem?.type === 'string' ? problem.type : '';
  return type.startsWith('urn:gridatlas:problem:') ? type.slice('urn:gridatlas:problem:'.length) : '';
}

const has = (key) => t(key) !== key;

/** A field or parameter's name in the page's language (its own name when not translated). */
export function fieldName(name) {
  return has(`field.${name}`) ? t(`field.${name}`) : name;
}

/**
 * `{ text, detail }` of a failed `action` (a case action's name, or ''): `text` says in the page's language what went wrong (and what to do);
 * `detail` is the server's sentence (English), shown smaller beside it.
 */
export function problemText(err, action = '') {
  const p = err?.problem ?? null;
  const status = err?.status ?? 0;
  const detail = p?.detail || (status ? '' : err?.message || '');
  if (!status) return { text: t('problem.network'), detail };
  const slug = slugOf(p);
  // the stage allows the action, but not this way (e.g. a transfer to the same assignee)
  if (slug === 'conflict' && p?.stage && action && Array.isArray(p.allowed) && p.allowed.includes(action)) {
    return { text: has(`problem.conflict.${action}`) ? t(`problem.conflict.${action}`) : t('problem.conflict'), detail };
  }
  if (slug === 'conflict' && p?.stage) {
    const allowed = Array.isArray(p.allowed) && p.allowed.length
      ? p.allowed.map((a) => (has(`action.${a}`) ? t(`action.${a}`) : a)).join('、')
      : t('problem.none');
    return { text: t('problem.stage', { stage: t(`stage.${p.stage}`), allowed }), detail };
  }
  const field = p?.field ?? p?.parameter;
  if (field && (status === 422 || status === 400)) return { text: t('problem.field', { field: fieldName(field) }), detail };
  if (slug && has(`problem.${slug}`)) return { text: t(`problem.${slug}`), detail };
  if (has(`problem.http${status}`)) return { text: t(`problem.http${status}`), detail };
  return { text: t('problem.other', { status }), detail };
}

/** Writes a problem into an element: the translated sentence, then the server's detail. */
export function showProblem(el, err, action = '') {
  const { text, detail } = problemText(err, action);
  el.replaceChildren();
  const main = document.createElement('span');
  main.className = 'problem-text';
  main.textContent = text;
  el.append(main);
  if (detail) {
    const small = document.createElement('small');
    small.className = 'problem-detail';
    small.textContent = detail;
    el.append(' ', small);
  }
}

/** The same as HTML (escaped): the translated sentence, then the server's detail in a <small>. */
export function problemHtml(err, action = '') {
  const { text, detail } = problemText(err, action);
  const esc = (v) => String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
  return `<span class="problem-text">${esc(text)}</span>${detail ? ` <small class="problem-detail">${esc(detail)}</small>` : ''}`;
}
