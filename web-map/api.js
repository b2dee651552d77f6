// Thin client of the gridatlas HTTP API (/api/v1). Errors are application/problem+json:
// the thrown Error carries the server's `detail` (or title) as its message and `.status`.

export class ApiError extends Error {
  constructor(message, status, problem) {
    super(message);
    this.status = status;
    this.problem = problem;
  }
}

export async function toError(res) {
  let msg = `${res.status} ${res.statusText}`;
  let problem = null;
  try {
    const text = await res.text();
    try {
      problem = JSON.parse(text);
      msg = problem.detail || problem.title || msg;
    } catch {
      if (text) msg = text.slice(0, 300);
    }
  } catch { /* body unreadable */ }
  return new ApiError(msg, res.status, problem);
}

export async function getJSON(path, opts = {}) {
  const res = await fetch(path, { headers: { Accept: 'application/json' }, ...opts });
  if (!res.ok) throw await toError(res);
  return res.json();
}

/** GET with a bearer token (the pages that act for a person: portal, desk, report, phone). */
export const getWithToken = (path, token) =>
  getJSON(path, { headers: { Accept: 'application/json', Authorization: `Bearer ${token}` } });

export async function postJSON(path, body, token) {
  const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(path, { method: 'POST', headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) throw await toError(res);
  return res.status === 204 ? null : res.json();
}

export const api = {
  config: () => getJSON('/api/v1/config'),
  tilejson: () => getJSON('/api/v1/tiles.json'),
  lookup: (lon, lat, crs = 'wgs84') =>
    getJSON(`/api/v1/lookup?lon=${encodeURIComponent(lon)}&lat=${encodeURIComponent(lat)}&crs=${encodeURIComponent(crs)}`),
  search: (q, limit = 12) => getJSON(`/api/v1/areas?q=${encodeURIComponent(q)}&limit=${limit}`),
  areasOfLayer: (layer, limit = 100) => getJSON(`/api/v1/areas?layer=${encodeURIComponent(layer)}&limit=${limit}`),
  area: (code, geometry = false) => getJSON(`/api/v1/areas/${encodeURIComponent(code)}${geometry ? '?geometry=1' : ''}`),
  children: (code, geometry = false) =>
    getJSON(`/api/v1/areas/${encodeURIComponent(code)}/children${geometry ? '?geometry=1' : ''}`),
  categories: (layer) => getJSON(`/api/v1/categories${layer ? `?layer=${encodeURIComponent(layer)}` : ''}`),
  // reports are private to the planners of the draft's streets (and admins): send the token
  report: (id, token) =>
    getWithToken(`/api/v1/drafts/${id}/report?format=geojson`, token),
  publish: (id, token, overrideReason) =>
    postJSON(`/api/v1/drafts/${id}/publish`, overrideReason ? { override_reason: overrideReason } : undefined, token),
  createCase: (body, token) => postJSON('/api/v1/cases', body, token),
  // the bearer token's role, scope and abilities (`may_publish_over_errors`: admins only)
  tokenSelf: (token) => getWithToken('/api/v1/tokens/self', token),
  // the asset registers: a page within a bbox (`after` = the previous page's `next_after`)
  components: (bbox, { after, limit = 5000 } = {}, signal) =>
    getJSON(`/api/v1/components?bbox=${bbox.map((v) => v.toFixed(6)).join(',')}&limit=${limit}${after ? `&after=${encodeURIComponent(after)}` : ''}`, { signal }),
  componentClasses: () => getJSON('/api/v1/component-classes'),
  shops: (bbox, { after, limit = 5000 } = {}, signal) =>
    getJSON(`/api/v1/shops?bbox=${bbox.map((v) => v.toFixed(6)).join(',')}&limit=${limit}${after ? `&after=${encodeURIComponent(after)}` : ''}`, { signal }),
  // the shops of an area (facing its road segments or standing in it), a page by id
  shopsOfArea: (code, { after, limit = 1000 } = {}) =>
    getJSON(`/api/v1/shops?area=${encodeURIComponent(code)}&limit=${limit}${after ? `&after=${encodeURIComponent(after)}` : ''}`),
  shop: (id) => getJSON(`/api/v1/shops/${encodeURIComponent(id)}`),
};

// The query of an upload or inspection: the parameters given (empty ones left out).
function uploadQuery(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

/**
 * What a table-format file (a zipped Shapefile, a GeoPackage, a CSV) holds, for the mapping
 * step: POST /api/v1/drafts/inspect with `params` ({filename, crs, encoding}); nothing is stored.
 */
export async function inspectDraft(file, token, params) {
  const res = await fetch(`/api/v1/drafts/inspect${uploadQuery(params)}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/octet-stream', Accept: 'application/json', Authorization: `Bearer ${token}` },
    body: file,
  });
  if (!res.ok) throw await toError(res);
  return res.json();
}

/**
 * POST a file as a draft with upload progress (XMLHttpRequest: fetch has no upload progress).
 * Without `params` the file is GeoJSON; with them ({filename, mapping, crs, encoding}) it goes as
 * application/octet-stream and the server tells the format by the file name.
 */
export function uploadDraft(file, token, onProgress, params) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/v1/drafts${uploadQuery(params)}`);
    xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.setRequestHeader('Content-Type', params ? 'application/octet-stream' : 'application/geo+json');
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    xhr.upload.onload = () => onProgress(1, true);
    xhr.onerror = () => reject(new ApiError('network error', 0, null));
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(new ApiError(body?.detail || body?.title || `${xhr.status} ${xhr.statusText}`, xhr.status, body));
    };
    xhr.send(file);
  });
}

/**
 * Reads a server-sent event stream (GET, with the token in the Authorization header, which
 * EventSource cannot send), calling `onEvent(kind, data)` with each event's parsed JSON data
 * until the stream ends; a refusal throws an ApiError (with `.status`), a network failure an
 * ApiError with status 0.
 */
export async function readEvents(path, token, onEvent, signal) {
  let res;
  try {
    res = await fetch(path, { headers: { Accept: 'text/event-stream', Authorization: `Bearer ${token}` }, signal });
  } catch (e) {
    throw new ApiError(e?.message || 'network error', 0, null);
  }
  if (!res.ok) throw await toError(res);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    let chunk;
    try {
      chunk = await reader.read();
    } catch (e) {
      throw new ApiError(e?.message || 'network error', 0, null);
    }
    if (chunk.done) return;
    buf += chunk.value;
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      let kind = 'message';
      let data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) kind = line.slice(6).trim();
        else if (line.startsWith('data:')) data += line.slice(5).trimStart();
      }
      if (!data) continue;
      let parsed;
      try { parsed = JSON.parse(data); } catch { continue; }
      onEvent(kind, parsed);
    }
  }
}
