/* The outbox: own messages not yet acknowledged by the server, sent in order at a pace
 * under the server's limit, sent again on every new connection, and kept with their error
 * when refused; kept on the device as well (offline.js), so that a page opened later sends
 * what an earlier one could not. No DOM: tested with node --test. */

import { TokenBucket } from './backoff.js';

/** A client_id (a UUID). crypto.randomUUID needs a secure context, which plain http on a
 * LAN address lacks; getRandomValues does not. */
export function newClientId() {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  const b = c.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = Array.from(b, (v) => v.toString(16).padStart(2, '0')).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** Retries of a send refused as rate_limited before it shows as failed. */
export const AUTO_RETRIES = 5;

/** Refusals that the same message would meet again (core/errors.py codes: a body the
 * server does not take, too large, of an app it does not know): such a message can be
 * edited or discarded, not sent again as it is. Other refusals (not_permitted,
 * not_found, rate_limited, …) may pass later. */
export const FINAL_REFUSALS = new Set(['invalid', 'too_large', 'unknown_app']);

/** Whether "Retry" may send a failed message again as it is. */
export function mayRetry(item) {
  return !!item && item.status === 'failed' && !FINAL_REFUSALS.has(item.refusal);
}

/** The `send` frame of an outbox item: a forward names its original instead of a body. */
export function sendFrameOf(item) {
  const frame = { type: 'send', client_id: item.client_id, conversation: item.conversation };
  if (item.forward) frame.forward = item.forward;
  else Object.assign(frame, { app: item.app, body: item.body });
  if (item.reply_to && item.reply_to.id) frame.reply_to = item.reply_to.id;
  return frame;
}

export class Outbox {
  /** burst/rate: the send pace (the server allows bursts of 30, then 10 a second). */
  constructor({
    burst = 20, rate = 8, now = () => Date.now(), random = Math.random,
    setTimer = (fn, ms) => setTimeout(fn, ms), clearTimer = (timer) => clearTimeout(timer),
  } = {}) {
    this.items = new Map(); // client_id -> item, in the order they were sent
    this.queue = [];        // client_ids waiting to go, oldest first
    this.bucket = new TokenBucket(burst, rate, now);
    this.setTimer = setTimer;
    this.clearTimer = clearTimer;
    this.random = random;
    this.timer = null;
    /** Whether a frame can go now (the socket is open and has said hello). */
    this.ready = () => false;
    /** Send a frame; returns whether it went. */
    this.sendFrame = () => false;
    /** An item is new or changed (keep it: it must go even if the page closes first), or
     * has left the outbox (stored, discarded): offline.js keeps them on the device. */
    this.keep = () => {};
    this.forget = () => {};
  }

  /** A new own message, shown as sending until acknowledged. `replyTo`: the quote of the
   * message it answers (text.js quoteOf); `forward`: the id of the message it copies
   * (its app and body then are the original's, shown until the server's copy comes). */
  create({ conversation, app, body, sender, clientId, replyTo = null, forward = null }) {
    const item = {
      client_id: clientId || newClientId(), conversation: Number(conversation), app: app || 'chat', body,
      sender, created_at: new Date().toISOString(), status: 'sending', error: null,
      id: null, seq: null, edited_at: null, recalled: false, transport: 'relay', refusal: null,
      reply_to: replyTo, forward: forward ? Number(forward) : null, forwarded: !!forward, reactions: [],
    };
    this.items.set(item.client_id, item);
    this.keep(item);
    return item;
  }

  /** Items kept from an earlier page (saved.js outboxRecord), as they were: unsent ones
   * go on the next connection, ahead of this page's (they are older), failed ones wait
   * for Retry or Discard. Returns the items taken (not the ones this page holds already). */
  restore(records) {
    const taken = [];
    for (const r of records || []) {
      if (!r || !r.client_id || this.items.has(r.client_id) || taken.some((i) => i.client_id === r.client_id)) continue;
      const item = {
        client_id: r.client_id, conversation: Number(r.conversation), app: r.app || 'chat', body: r.body || {},
        sender: r.sender, created_at: r.created_at || new Date().toISOString(),
        status: r.status === 'failed' ? 'failed' : 'sending', error: r.error || null,
        id: null, seq: null, edited_at: null, recalled: false, transport: 'relay', refusal: r.refusal || null,
        reply_to: r.reply_to || null, forward: r.forward ? Number(r.forward) : null, forwarded: !!r.forward, reactions: [],
      };
      taken.push(item);
    }
    this.items = new Map([...taken.map((item) => [item.client_id, item]), ...this.items]);
    return taken;
  }

  get(clientId) { return this.items.get(clientId); }
  has(clientId) { return this.items.has(clientId); }
  values() { return this.items.values(); }
  delete(clientId) {
    const had = this.items.delete(clientId);
    if (had) this.forget(clientId);
    return had;
  }

  /** Queue an item to go (again) and send what the pace allows now. */
  transmit(item) {
    if (!item || item.status !== 'sending') return;
    if (!this.queue.includes(item.client_id)) this.queue.push(item.client_id);
    this.pump();
  }

  /** On a new connection every unacknowledged message goes again, oldest first. */
  resendAll() {
    this.queue = [...this.items.values()].filter((i) => i.status === 'sending').map((i) => i.client_id);
    this.pump();
  }

  pump() {
    this.clearTimer(this.timer);
    this.timer = null;
    while (this.queue.length) {
      if (!this.ready()) return; // the next hello pumps again
      const item = this.items.get(this.queue[0]);
      if (!item || item.status !== 'sending') { this.queue.shift(); continue; }
      const wait = this.bucket.waitMs();
      if (wait > 0) {
        this.timer = this.setTimer(() => this.pump(), wait);
        return;
      }
      const frame = sendFrameOf(item);
      if (!this.sendFrame(frame)) return;
      this.bucket.take();
      this.queue.shift();
    }
  }

  /** The server stored it (an ack, or the message itself seen by client_id): the item,
   * now out of the outbox, or null if it was not in it. */
  stored(clientId, { id, seq, created_at: createdAt }) {
    const item = this.items.get(clientId);
    if (!item) return null;
    this.delete(clientId);
    return Object.assign(item, { id: Number(id), seq: Number(seq), created_at: createdAt || item.created_at, status: 'delivered' });
  }

  /** The server refused a send (an error frame with its client_id). Over the rate limit
   * nothing was stored: it goes again shortly with the same client_id, a few times.
   * Returns the item if it is now failed, else null. */
  refused(clientId, code, detail, fallbackText) {
    const item = this.items.get(clientId);
    if (!item) return null;
    if (code === 'rate_limited' && (item.autoRetries || 0) < AUTO_RETRIES) {
      item.autoRetries = (item.autoRetries || 0) + 1;
      this.setTimer(() => this.transmit(item), 700 * item.autoRetries + this.random() * 500);
      return null;
    }
    item.status = 'failed';
    item.refusal = code || null;
    item.error = detail || code || fallbackText || 'error';
    this.keep(item);
    return item;
  }

  /** "Retry" on a failed message: it goes again with the same client_id (not after a
   * refusal it would meet again). Returns the item, or null. */
  retry(clientId) {
    const item = this.items.get(clientId);
    if (!mayRetry(item)) return null;
    item.status = 'sending';
    item.refusal = null;
    item.error = null;
    item.autoRetries = 0;
    this.keep(item);
    this.transmit(item);
    return item;
  }

  /** "Discard" on a failed message: it leaves the outbox. */
  discard(clientId) {
    const item = this.items.get(clientId);
    if (!item || item.status !== 'failed') return null;
    this.delete(clientId);
    return item;
  }
}
