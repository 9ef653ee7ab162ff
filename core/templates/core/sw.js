/* Switchboard's service worker (docs/mobile.md), served at /sw.js by core.views.service_worker
 * so that its scope is the whole site. It keeps the application shell: the static files
 * of Switchboard's own apps and an offline page, in one cache per release. No page is
 * ever kept: pages are per person and always come from the network, or, without one, the
 * offline page stands in for them. */

const VERSION = {{ version }};
const CACHE = `switchboard-shell-${VERSION}`;
const STATIC_PREFIX = {{ static_prefix }};
const OFFLINE_URL = {{ offline_url }};
const SHELL = {{ shell }};

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll([...SHELL, OFFLINE_URL]);
    // Static files are named by their content, so the pages of an older release lose
    // nothing when this release takes over at once.
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((name) => name.startsWith('switchboard-shell-') && name !== CACHE)
      .map((name) => caches.delete(name)));
    await self.clients.claim();
  })());
});

// A page that was still loading when this worker claimed the open pages (a sign-in's
// redirect, say) stays without a worker until it is opened again; it asks to be claimed
// (core/static/core/pwa.js).
self.addEventListener('message', (event) => {
  if (event.data === 'claim') event.waitUntil(self.clients.claim());
});

async function cacheFirst(request) {
  const cache = await caches.open(CACHE);
  const kept = await cache.match(request);
  if (kept) return kept;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}

async function networkOrOffline(request) {
  try {
    return await fetch(request);
  } catch (error) {
    const offline = await caches.match(OFFLINE_URL, { cacheName: CACHE });
    if (offline) return offline;
    throw error;
  }
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === 'navigate') {
    event.respondWith(networkOrOffline(request));
  } else if (url.pathname.startsWith(STATIC_PREFIX)) {
    event.respondWith(cacheFirst(request));
  }
});
