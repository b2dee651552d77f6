// The phone page's service worker: keeps the page (/m) and its scripts available without a
// network. Network first (a new version is taken as soon as the server can be reached), the
// cached copy when it cannot. API calls are never cached: the page's outbox (IndexedDB) holds
// what waits to be sent, and the server's answers are always fresh.
const CACHE = 'gridatlas-m-v1';
const SHELL = ['/m', '/m.js', '/m.css', '/api.js', '/i18n.js', '/problems.js', '/outbox.js', '/dom.js'];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin) return;
  const path = url.pathname === '/m/' ? '/m' : url.pathname;
  if (!SHELL.includes(path)) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const res = await fetch(event.request);
      if (res.ok) await cache.put(path, res.clone());
      return res;
    } catch (e) {
      const hit = await cache.match(path);
      if (hit) return hit;
      throw e;
    }
  })());
});
