/* Switchboard's service worker (docs/mobile.md), served at /sw.js by core.views.service_worker
 * so that its scope is the whole site. It keeps the application shell: the static files
 * of Switchboard's own apps and an offline page, in one cache per release. No page is
 * ever kept: pages are per person and always come from the network, or, without one, the
 * offline page stands in for them. It also shows the pushes the server sends (push.delivery)
 * and opens the app where a clicked one points. */

const VERSION = {{ version }};
const CACHE = `switchboard-shell-${VERSION}`;
const STATIC_PREFIX = {{ static_prefix }};
const OFFLINE_URL = {{ offline_url }};
const SHELL = {{ shell }};
const ICON = {{ icon }};

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

// A push: {title, body, url, tag} (docs/mobile.md, Notifications). A later one with the
// same tag replaces the notification, as the chat's own notifications of a conversation do.
self.addEventListener('push', (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (error) { /* not ours: shown as a bare notification */ }
  const title = typeof data.title === 'string' && data.title ? data.title : 'Switchboard';
  const url = typeof data.url === 'string' && data.url.startsWith('/') && !data.url.startsWith('//') ? data.url : '/chat/';
  event.waitUntil(self.registration.showNotification(title, {
    body: typeof data.body === 'string' ? data.body : '',
    tag: typeof data.tag === 'string' ? data.tag : undefined,
    renotify: Boolean(data.tag),
    icon: ICON,
    data: { url },
  }));
});

// A click opens the app at the conversation or page: a window of the app already open is
// focused and taken there; with none, a new one opens.
async function openAt(url) {
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const open = windows.find((client) => new URL(client.url).origin === self.location.origin);
  if (open) {
    // Focusing needs the click's user activation; without it the window is still taken there.
    try { await open.focus(); } catch (error) { /* not focusable now */ }
    try {
      return await open.navigate(url);
    } catch (error) { /* a window this worker does not control: a new one instead */ }
  }
  return self.clients.openWindow(url);
}

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = new URL((event.notification.data && event.notification.data.url) || '/chat/', self.location.origin).href;
  event.waitUntil(openAt(url));
});
