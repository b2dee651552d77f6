// The phone page's outbox: every check-in, batch of fixes, case report, photo and case action is
// written here (IndexedDB) before it is sent, with the Idempotency-Key it will be sent with, and
// leaves only when the server has answered. A network drop, a closed tab or a lost answer never
// loses an action, and sending one again never applies it twice (the server replays the answer
// to a key it has seen).

const DB_NAME = 'gridatlas-m';
const VERSION = 1;
let dbPromise = null;

function db() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      const req = indexedDB.open(DB_NAME, VERSION);
      req.onupgradeneeded = () => {
        const d = req.result;
        if (!d.objectStoreNames.contains('outbox')) d.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true });
        // answers of sent items that later items refer to (a case's id for its photos)
        if (!d.objectStoreNames.contains('done')) d.createObjectStore('done', { keyPath: 'seq' });
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }
  return dbPromise;
}

async function tx(store, mode, fn) {
  const d = await db();
  return new Promise((resolve, reject) => {
    const t = d.transaction(store, mode);
    const s = t.objectStore(store);
    let out;
    Promise.resolve(fn(s)).then((v) => { out = v; });
    t.oncomplete = () => resolve(out);
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error);
  });
}

const req2p = (r) => new Promise((resolve, reject) => { r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });

/** A fresh idempotency key. */
export function newKey() {
  return crypto.randomUUID();
}

/** Queues an item (`{kind, …}`); it gets its `seq` and, if it has none, its idempotency `key`. */
export async function enqueue(item) {
  const full = { key: newKey(), queued_at: new Date().toISOString(), ...item };
  return tx('outbox', 'readwrite', (s) => req2p(s.add(full)));
}

/** The items waiting, oldest first. */
export async function pending() {
  return tx('outbox', 'readonly', (s) => req2p(s.getAll()));
}

/** Merges `patch` into a waiting item. */
export async function update(seq, patch) {
  const d = await db();
  return new Promise((resolve, reject) => {
    const t = d.transaction('outbox', 'readwrite');
    const s = t.objectStore('outbox');
    const g = s.get(seq);
    g.onsuccess = () => { if (g.result) s.put({ ...g.result, ...patch }); };
    t.oncomplete = () => resolve();
    t.onerror = () => reject(t.error);
  });
}

/** Takes a sent item out of the outbox, keeping its answer for the items that refer to it. */
export async function complete(seq, answer) {
  const d = await db();
  return new Promise((resolve, reject) => {
    const t = d.transaction(['outbox', 'done'], 'readwrite');
    t.objectStore('outbox').delete(seq);
    t.objectStore('done').put({ seq, answer, at: new Date().toISOString() });
    t.oncomplete = () => resolve();
    t.onerror = () => reject(t.error);
  });
}

/** Drops a waiting item (the worker chose to discard a refused one). */
export async function discard(seq) {
  return tx('outbox', 'readwrite', (s) => req2p(s.delete(seq)));
}

/** The answer of a sent item, or undefined. */
export async function answerOf(seq) {
  const r = await tx('done', 'readonly', (s) => req2p(s.get(seq)));
  return r?.answer;
}

/** Forgets answers older than a week. */
export async function prune(days = 7) {
  const cutoff = Date.now() - days * 86400000;
  const all = await tx('done', 'readonly', (s) => req2p(s.getAll()));
  const old = all.filter((r) => Date.parse(r.at) < cutoff).map((r) => r.seq);
  if (old.length) await tx('done', 'readwrite', (s) => { for (const k of old) s.delete(k); });
}
