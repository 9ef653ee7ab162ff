/* The chat's data kept on this device, in IndexedDB (docs/mobile.md, "Working offline"):
 * one database, "switchboard", holding the data of one person, the one signed in. The
 * shapes and bounds are saved.js's; offline.js decides when to keep and read.
 *
 *   kv             "owner": whose data this is; "inbox": the inbox as last seen
 *   conversations  per conversation: its last messages, and when they were last kept
 *   outbox         the messages written and not stored by the server yet
 *
 * A page of another person finds the data not theirs and empties it first. Signing out
 * deletes the database (core/static/core/pwa.js, on the next page, which is signed out;
 * offline.js when the chat finds the session ended). Nothing here ever throws: without
 * IndexedDB (or with it refused), every read finds nothing and every write does nothing. */

import {
  applyUpdate, conversationsToDrop, mergeMessages, OUTBOX_MAX, savedInbox, savedMessage, savedOutbox,
} from './saved.js';

export const DB_NAME = 'switchboard';
const DB_VERSION = 1;
const STORES = ['kv', 'conversations', 'outbox'];

const done = (req) => new Promise((resolve, reject) => {
  req.onsuccess = () => resolve(req.result);
  req.onerror = () => reject(req.error);
});
const committed = (tx) => new Promise((resolve, reject) => {
  tx.oncomplete = () => resolve();
  tx.onabort = tx.onerror = () => reject(tx.error);
});

function openDatabase(factory) {
  const req = factory.open(DB_NAME, DB_VERSION);
  req.onupgradeneeded = () => {
    const db = req.result;
    if (!db.objectStoreNames.contains('kv')) db.createObjectStore('kv');
    if (!db.objectStoreNames.contains('conversations')) db.createObjectStore('conversations', { keyPath: 'conversation' });
    if (!db.objectStoreNames.contains('outbox')) db.createObjectStore('outbox', { keyPath: 'client_id' });
  };
  // Another page is deleting the database (a sign-out): wait no longer than it takes.
  req.onblocked = () => {};
  return done(req);
}

function withTimeout(promise, ms) {
  return Promise.race([promise, new Promise((resolve, reject) => setTimeout(() => reject(new Error('timeout')), ms))]);
}

export class Store {
  constructor(db, user) {
    this.db = db;
    this.user = user;
    if (db) {
      // A sign-out in another tab deletes the database: let it, and keep nothing more.
      db.onversionchange = () => this.close();
      db.onclose = () => { this.db = null; };
    }
  }

  get available() { return !!this.db; }

  close() {
    const db = this.db;
    this.db = null;
    if (db) try { db.close(); } catch (e) { /* closed already */ }
  }

  /** Run fn(stores, tx) in one transaction over `names`; its result once committed, or
   * `fallback` when anything fails. */
  async run(names, mode, fn, fallback) {
    if (!this.db) return fallback;
    try {
      const tx = this.db.transaction(names, mode);
      const stores = Object.fromEntries(names.map((n) => [n, tx.objectStore(n)]));
      const result = await fn(stores, tx);
      await committed(tx);
      return result;
    } catch (e) {
      return fallback;
    }
  }

  /** The data is this person's: anyone else's goes first. */
  async claim() {
    await this.run(STORES, 'readwrite', async ({ kv, conversations, outbox }) => {
      const owner = await done(kv.get('owner'));
      if (owner === this.user) return;
      kv.clear();
      conversations.clear();
      outbox.clear();
      kv.put(this.user, 'owner');
    });
  }

  /** The inbox as last kept, or null. */
  async inbox() {
    const record = await this.run(['kv'], 'readonly', ({ kv }) => done(kv.get('inbox')), null);
    if (!record || record.user !== this.user || !Array.isArray(record.conversations)) return null;
    return { at: Number(record.at) || 0, conversations: savedInbox(record.conversations) };
  }

  /** Keep the inbox; the kept messages of conversations no longer in it go. */
  async keepInbox(convs, now = Date.now()) {
    const conversations = savedInbox(convs);
    const ids = new Set(conversations.map((c) => c.id));
    await this.run(['kv', 'conversations'], 'readwrite', async ({ kv, conversations: kept }) => {
      kv.put({ user: this.user, at: now, conversations }, 'inbox');
      await this.prune(kept, { now, inbox: ids });
    });
  }

  async prune(kept, options) {
    const records = (await done(kept.getAll())).map((r) => ({ conversation: r.conversation, at: r.user === this.user ? r.at : 0 }));
    for (const id of conversationsToDrop(records, options)) kept.delete(id);
  }

  /** The kept messages of a conversation, oldest first (maybe none). */
  async messages(conversation) {
    const record = await this.run(['conversations'], 'readonly', ({ conversations }) => done(conversations.get(Number(conversation))), null);
    if (!record || record.user !== this.user || !Array.isArray(record.messages)) return [];
    return record.messages.map(savedMessage).filter((m) => m && m.conversation === Number(conversation));
  }

  /** More messages of a conversation (new ones, or ones changed): kept with the others. */
  async keepMessages(conversation, messages, now = Date.now()) {
    conversation = Number(conversation);
    const incoming = messages.filter((m) => m && Number(m.conversation) === conversation);
    if (!incoming.length) return;
    await this.run(['conversations'], 'readwrite', async ({ conversations }) => {
      const record = await done(conversations.get(conversation));
      const kept = record && record.user === this.user && Array.isArray(record.messages) ? record.messages : [];
      const merged = mergeMessages(kept, incoming);
      if (!merged.length) return;
      conversations.put({ conversation, user: this.user, at: now, messages: merged });
      await this.prune(conversations, { now });
    });
  }

  /** A message_update for a conversation that is not on screen. */
  async updateMessage(conversation, frame) {
    conversation = Number(conversation);
    await this.run(['conversations'], 'readwrite', async ({ conversations }) => {
      const record = await done(conversations.get(conversation));
      if (!record || record.user !== this.user || !Array.isArray(record.messages)) return;
      const changed = applyUpdate(record.messages.map(savedMessage).filter(Boolean), frame, this.user);
      if (changed) conversations.put(Object.assign({}, record, { messages: changed }));
    });
  }

  /** The messages kept unsent, the oldest first. */
  async outbox() {
    const records = await this.run(['outbox'], 'readonly', ({ outbox }) => done(outbox.getAll()), []);
    return savedOutbox(records, this.user);
  }

  /** Keep an unsent message (saved.js outboxRecord), unless OUTBOX_MAX are kept already. */
  async keepOutbox(record) {
    await this.run(['outbox'], 'readwrite', async ({ outbox }) => {
      const known = await done(outbox.getKey(record.client_id));
      if (known === undefined && (await done(outbox.count())) >= OUTBOX_MAX) return;
      outbox.put(record);
    });
  }

  async forgetOutbox(clientId) {
    await this.run(['outbox'], 'readwrite', ({ outbox }) => { outbox.delete(clientId); });
  }
}

/** The store of `user`'s data (an empty one, which keeps nothing, where IndexedDB cannot
 * be used). Opening gives up after `timeoutMs`: a database being deleted by another page
 * keeps it waiting. */
export async function openStore(user, { factory = globalThis.indexedDB, timeoutMs = 3000 } = {}) {
  if (!factory || !user) return new Store(null, user);
  let db = null;
  const opening = Promise.resolve().then(() => openDatabase(factory));
  try {
    db = await withTimeout(opening, timeoutMs);
  } catch (e) {
    // Opened after all: closed, so that it holds up no one's deletion.
    opening.then((lateDb) => lateDb.close(), () => {});
    return new Store(null, user);
  }
  const store = new Store(db, user);
  await store.claim();
  return store;
}

/** Delete everything kept (a sign-out). Resolves once it is gone, or could not be. */
export function deleteSaved(factory = globalThis.indexedDB) {
  if (!factory) return Promise.resolve();
  return new Promise((resolve) => {
    try {
      const req = factory.deleteDatabase(DB_NAME);
      req.onsuccess = req.onerror = () => resolve();
    } catch (e) { resolve(); }
  });
}
