/* Working offline (docs/mobile.md): the chat keeps on this device (store.js) the inbox,
 * the last messages of the conversations used last and the messages not sent yet. When the
 * server cannot be reached, the page shows what it kept, and what is written meanwhile
 * waits in the outbox, kept too, for the connection to come back; the server's own
 * answers then take the place of the kept ones.
 *
 * Kept as they change: the inbox and a conversation's messages a moment after they change
 * (loaded, arrived, edited), an outbox item at once. */

import { showBadge } from './badge.js';
import { events } from './events.js';
import { fromSaved } from './renderers.js';
import { outboxRecord } from './saved.js';
import { deleteSaved, openStore } from './store.js';
import { changed, state, upsertConv } from './state.js';

const INBOX_AFTER = 300;
const MESSAGES_AFTER = 400;

let opening = null; // Promise<Store>
let ended = false; // signed out: nothing more is kept

function store() {
  if (!opening) opening = openStore(state.me.id);
  return opening;
}

/** Open the store and keep the outbox in it from now on; the unsent messages an earlier
 * page kept join the outbox (they go on the next connection). */
export async function startKeeping() {
  keepThisPage();
  const s = await store();
  state.outbox.keep = (item) => { if (!ended) s.keepOutbox(outboxRecord(item)); };
  state.outbox.forget = (clientId) => { if (!ended) s.forgetOutbox(clientId); };
  state.outbox.restore(await s.outbox());
}

/** The chat page asks the service worker to keep a copy of it unless it has one: a page
 * the worker did not serve (the first visit, the worker installing meanwhile and taking
 * the page over later) opens offline too. */
function keepThisPage() {
  const sw = navigator.serviceWorker;
  if (!sw) return;
  sw.ready.then((registration) => {
    if (!ended && registration.active) registration.active.postMessage({ type: 'keep-chat' });
  }).catch(() => {});
}

/** The server could not be reached at the start: show the inbox as kept. False when
 * nothing was kept. */
export async function showSavedInbox() {
  const saved = await (await store()).inbox();
  if (!saved || state.loaded || ended) return false;
  state.savedView = true;
  for (const c of saved.conversations) upsertConv(c);
  changed();
  return true;
}

/** The server's inbox is here: it replaces the kept one. */
export function leaveSavedInbox() {
  if (!state.savedView) return;
  state.savedView = false;
  state.convs.clear();
  state.directByUser.clear();
}

/** The kept messages of a conversation, ready for the renderers. */
export async function savedMessages(conversation) {
  return (await (await store()).messages(conversation)).map(fromSaved);
}

// Messages waiting to be kept, by conversation (several arrive together: one write).
const waiting = new Map(); // conversation -> Map(id -> message)
let messagesTimer = null;

/** Messages of a conversation were loaded, arrived or changed: keep them (a copy of what
 * they are now). */
export function keepMessages(conversation, messages) {
  if (ended) return;
  conversation = Number(conversation);
  let m = waiting.get(conversation);
  for (const msg of messages) {
    if (!msg || !msg.id || !msg.seq) continue;
    if (!m) waiting.set(conversation, (m = new Map()));
    m.set(msg.id, msg);
  }
  if (m && !messagesTimer) messagesTimer = setTimeout(flushMessages, MESSAGES_AFTER);
}

function flushMessages() {
  clearTimeout(messagesTimer);
  messagesTimer = null;
  if (ended || !waiting.size) return;
  const batch = [...waiting].map(([conversation, msgs]) => [conversation, [...msgs.values()]]);
  waiting.clear();
  // savedMessage (saved.js) copies each: the page's own objects, with their elements, stay here.
  store().then((s) => batch.reduce((p, [conversation, msgs]) => p.then(() => s.keepMessages(conversation, msgs)), Promise.resolve()));
}

/** A message_update for a conversation whose messages are not on screen. */
export function keepUpdate(frame) {
  if (ended) return;
  flushMessages();
  store().then((s) => s.updateMessage(frame.conversation, frame));
}

let inboxTimer = null;
function keepInboxSoon() {
  if (ended || !state.loaded || state.savedView || inboxTimer) return;
  inboxTimer = setTimeout(keepInboxNow, INBOX_AFTER);
}

function keepInboxNow() {
  clearTimeout(inboxTimer);
  inboxTimer = null;
  if (ended || !state.loaded || state.savedView) return;
  const convs = [...state.convs.values()];
  store().then((s) => s.keepInbox(convs));
}

events.addEventListener('conversations-changed', keepInboxSoon);
events.addEventListener('signed-out', () => { forgetEverything(); });
// Leaving the page (a reload, a closed tab, another app in front on a phone): what waits
// is kept now.
function keepWaiting() {
  if (inboxTimer) keepInboxNow();
  if (messagesTimer) flushMessages();
}
if (globalThis.document) {
  globalThis.addEventListener('pagehide', keepWaiting);
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'hidden') keepWaiting(); });
}

/** The session has ended: what was kept goes, and nothing more is kept. */
export async function forgetEverything() {
  ended = true;
  clearTimeout(inboxTimer);
  clearTimeout(messagesTimer);
  waiting.clear();
  showBadge(0);
  (await store()).close();
  await deleteSaved();
  if (globalThis.caches) {
    // The chat page the service worker keeps (core/templates/core/sw.js).
    try { await caches.delete('switchboard-pages'); } catch (e) { /* nothing kept */ }
  }
}
