/* Drafts: what was typed into each conversation and not sent, kept in the browser's
 * storage (localStorage) so that it survives a reload and a closed tab. No DOM: tested
 * with node --test.
 *
 * A draft is stored under switchboard:draft:<user>:<conversation> as {"at": ms, "text"};
 * at most maxDrafts are kept (the oldest go first), and a text larger than a message may
 * be is kept by this page only. */

import { bodySize } from './text.js';

export const DRAFT_PREFIX = 'switchboard:draft:';
/** Drafts kept in the storage, for all the users of this browser together. */
export const MAX_DRAFTS = 200;

export class Drafts {
  /** storage: a Storage (localStorage) or null where there is none (then only this page
   * keeps the drafts); user: the signed-in user's id. */
  constructor(storage, user, { maxDrafts = MAX_DRAFTS, maxBytes = 64 * 1024, now = () => Date.now() } = {}) {
    this.storage = storage || null;
    this.user = user;
    this.maxDrafts = maxDrafts;
    this.maxBytes = maxBytes;
    this.now = now;
    this.memory = new Map(); // key -> text that the storage does not hold (too large, or full)
  }

  key(conversation) { return `${DRAFT_PREFIX}${this.user}:${Number(conversation)}`; }

  /** The draft of a conversation, or ''. */
  get(conversation) {
    const key = this.key(conversation);
    if (this.memory.has(key)) return this.memory.get(key);
    const value = this.read(key);
    return value ? value.text : '';
  }

  /** Keep what the composer holds for a conversation; an empty text removes the draft. */
  set(conversation, text) {
    const key = this.key(conversation);
    text = typeof text === 'string' ? text : '';
    if (!text.trim()) { this.delete(conversation); return; }
    if (bodySize({ text }) > this.maxBytes) { this.memory.set(key, text); this.remove(key); return; }
    this.memory.delete(key);
    if (!this.storage) { this.memory.set(key, text); return; }
    const fresh = this.read(key) === null;
    const value = JSON.stringify({ at: this.now(), text });
    if (!this.write(key, value)) {
      // The storage is full: make room with the oldest quarter of the drafts, once.
      const older = this.oldestFirst(key);
      for (const k of older.slice(0, Math.max(1, Math.ceil(older.length / 4)))) this.remove(k);
      if (!this.write(key, value)) { this.memory.set(key, text); return; }
    }
    if (fresh) this.prune(key);
  }

  /** The message was sent, or its text emptied. */
  delete(conversation) {
    const key = this.key(conversation);
    this.memory.delete(key);
    this.remove(key);
  }

  /** Drop the oldest drafts beyond maxDrafts, `keep` (the newest) counted in. */
  prune(keep) {
    const older = this.oldestFirst(keep);
    for (const k of older.slice(0, Math.max(0, older.length + 1 - this.maxDrafts))) this.remove(k);
  }

  /** The keys of the stored drafts (of every user) but `keep`, the oldest first. */
  oldestFirst(keep) {
    if (!this.storage) return [];
    const keys = [];
    try {
      for (let i = 0; i < this.storage.length; i++) {
        const key = this.storage.key(i);
        if (key && key.startsWith(DRAFT_PREFIX) && key !== keep) keys.push(key);
      }
    } catch (e) { return []; }
    const at = new Map(keys.map((key) => { const v = this.read(key); return [key, v ? v.at : 0]; }));
    return keys.sort((a, b) => at.get(a) - at.get(b));
  }

  /** A stored draft, {at, text}, or null (none, unreadable or of another shape). */
  read(key) {
    let raw;
    try { raw = this.storage ? this.storage.getItem(key) : null; } catch (e) { return null; }
    if (typeof raw !== 'string') return null;
    try {
      const v = JSON.parse(raw);
      if (v && typeof v.text === 'string') return { at: Number(v.at) || 0, text: v.text };
    } catch (e) { /* not ours */ }
    return null;
  }

  write(key, value) {
    try { this.storage.setItem(key, value); return true; } catch (e) { return false; }
  }

  remove(key) {
    try { if (this.storage) this.storage.removeItem(key); } catch (e) { /* nothing to do */ }
  }
}
