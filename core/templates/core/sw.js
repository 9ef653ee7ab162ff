/* Switchboard's service worker (docs/mobile.md), served at /sw.js by core.views.service_worker
 * so that its scope is the whole site. It keeps the application shell: the static files
 * of Switchboard's own apps and an offline page, in one cache per release. Pages are per
 * person and come from the network; without one, the chat page last served to the person
 * signed in opens from the cache (its messages are in IndexedDB: messaging/offline.js),
 * and the offline page stands in for any other. It also shows the pushes the server
 * sends (push.delivery) and opens the app where a clicked one points. */

const VERSION = {{ version }};
const CACHE = `switchboard-shell-${VERSION}`;
// The chat page as last served and the translations its modules read (/jsi18n/), kept
// across releases: a page is served only by the release that made it, which it names in
// the SHELL_HEADER header. Signing out deletes this cache (core/static/core/pwa.js).
const PAGES = 'switchboard-pages';
const SHELL_HEADER = {{ shell_header }};
const STATIC_PREFIX = {{ static_prefix }};
const OFFLINE_URL = {{ offline_url }};
const CHAT_URL = {{ chat_url }};
const CATALOG_URL = {{ catalog_url }};
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
    // A chat page of another release names static files this one does not keep.
    const pages = await caches.open(PAGES);
    const chat = await pages.match(CHAT_URL, { ignoreVary: true });
    if (chat && chat.headers.get(SHELL_HEADER) !== VERSION) await pages.delete(CHAT_URL, { ignoreVary: true });
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

async function offlinePage(error) {
  const offline = await caches.match(OFFLINE_URL, { cacheName: CACHE });
  if (offline) return offline;
  throw error;
}

async function networkOrOffline(request) {
  try {
    return await fetch(request);
  } catch (error) {
    return offlinePage(error);
  }
}

/** The chat page: from the network, keeping a copy of it; without a network, the copy
 * if this release made it. A sign-in page instead of the chat (a redirect: the session
 * ended) drops the copy. */
async function chatPage(event) {
  let response;
  try {
    response = await fetch(event.request);
  } catch (error) {
    const pages = await caches.open(PAGES);
    const kept = await pages.match(CHAT_URL, { ignoreSearch: true, ignoreVary: true });
    if (kept && kept.headers.get(SHELL_HEADER) === VERSION) return kept;
    return offlinePage(error);
  }
  const copy = response.clone();
  event.waitUntil((async () => {
    const pages = await caches.open(PAGES);
    if (copy.ok && copy.type === 'basic' && copy.headers.has(SHELL_HEADER)) await pages.put(CHAT_URL, copy);
    else if (copy.type === 'opaqueredirect' || copy.status === 401 || copy.status === 403) await pages.delete(CHAT_URL, { ignoreVary: true });
  })());
  return response;
}

/** A chat page this worker did not serve asks for a copy (messaging/offline.js): the
 * same page, fetched with the person's cookies, kept unless one is already. */
async function keepChat() {
  const pages = await caches.open(PAGES);
  if (await pages.match(CHAT_URL, { ignoreVary: true })) return;
  const response = await fetch(CHAT_URL, { credentials: 'same-origin', redirect: 'manual' });
  if (response.ok && response.type === 'basic' && response.headers.has(SHELL_HEADER)) await pages.put(CHAT_URL, response);
}

self.addEventListener('message', (event) => {
  if (event.data && event.data.type === 'keep-chat' && event.origin === self.location.origin) {
    event.waitUntil(keepChat());
  }
});

/** The translations: from the network, keeping a copy for when there is none. */
async function networkOrKept(event) {
  let response;
  try {
    response = await fetch(event.request);
  } catch (error) {
    const kept = await caches.match(event.request, { cacheName: PAGES, ignoreVary: true });
    if (kept) return kept;
    throw error;
  }
  if (response.ok) {
    const copy = response.clone();
    event.waitUntil(caches.open(PAGES).then((pages) => pages.put(event.request, copy)));
  }
  return response;
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === 'navigate') {
    event.respondWith(url.pathname === CHAT_URL ? chatPage(event) : networkOrOffline(request));
  } else if (url.pathname === CATALOG_URL) {
    event.respondWith(networkOrKept(event));
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
