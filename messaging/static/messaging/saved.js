/* What the chat keeps on this device to work offline (docs/mobile.md, "Working offline"):
 * the inbox, the last messages of the recent conversations and the messages not sent yet,
 * as plain data. Their shapes, their bounds and how new messages join the kept ones;
 * store.js holds them in IndexedDB. Whatever comes back from the storage goes through the
 * same shapes again before the page uses it. No DOM: tested with node --test. */

import { mergeReactions, normaliseMessage } from './text.js';

/** Conversations of the inbox kept (the first ones, in the inbox's order). */
export const INBOX_MAX = 200;
/** The newest messages kept of each conversation. */
export const MESSAGES_PER_CONVERSATION = 50;
/** Conversations whose messages are kept: the ones used last. */
export const CONVERSATIONS_KEPT = 20;
/** Unsent messages kept; past that, the page alone holds them until they go. */
export const OUTBOX_MAX = 200;
/** A conversation's messages not touched for this long are dropped. */
export const MAX_AGE_MS = 30 * 24 * 3600 * 1000;

const KINDS = new Set(['direct', 'group', 'department']);
const STATUSES = new Set(['sending', 'failed']);

const int = (v) => { const n = Number(v); return Number.isSafeInteger(n) ? n : 0; };
const str = (v) => (typeof v === 'string' ? v : '');
const isObject = (v) => !!v && typeof v === 'object' && !Array.isArray(v);

/** A copy of a JSON object with nothing but JSON in it ({} for anything else). */
export function plain(v) {
  if (!isObject(v)) return {};
  try {
    const copy = JSON.parse(JSON.stringify(v));
    return isObject(copy) ? copy : {};
  } catch (e) { return {}; }
}

/** When a conversation last saw activity: its last message, or its creation. */
export function activity(c) {
  return (c.last_message && (Date.parse(c.last_message.created_at) || 0)) || Date.parse(c.created_at || '') || 0;
}

/** The inbox's order, as the server's: pinned first, then the latest activity. */
export function inboxOrder(a, b) {
  return (b.pinned ? 1 : 0) - (a.pinned ? 1 : 0) || activity(b) - activity(a) || b.id - a.id;
}

/** A stored message as kept: the fields of the protocol's message, numbers as numbers,
 * a body of plain JSON. Null for anything that is not a stored message. */
export function savedMessage(m) {
  if (!isObject(m)) return null;
  const n = normaliseMessage(m);
  if (!(n.id > 0 && n.seq > 0 && n.conversation > 0)) return null;
  return Object.assign(n, {
    body: plain(m.body), created_at: str(m.created_at), edited_at: typeof m.edited_at === 'string' ? m.edited_at : null,
    client_id: typeof m.client_id === 'string' ? m.client_id : null,
  });
}

/** The last message of an inbox entry: a kept message and the server's preview line. */
function savedLast(m) {
  const kept = savedMessage(m);
  if (!kept) return null;
  if (typeof m.preview === 'string') kept.preview = m.preview;
  return kept;
}

function savedMember(m) {
  if (!isObject(m) || !(int(m.id) > 0)) return null;
  return { id: int(m.id), username: str(m.username), display_name: str(m.display_name), last_read_seq: int(m.last_read_seq) };
}

/** An inbox entry as kept: what the sidebar and a conversation's header show. Null for
 * anything that is not a conversation. */
export function savedConversation(c) {
  if (!isObject(c) || !(int(c.id) > 0) || !KINDS.has(c.kind)) return null;
  const unread = Math.max(0, int(c.unread));
  return {
    id: int(c.id), kind: c.kind, title: str(c.title),
    members: (Array.isArray(c.members) ? c.members : []).map(savedMember).filter(Boolean),
    unread, mentions: Math.min(unread, Math.max(0, int(c.mentions))),
    last_read_seq: int(c.last_read_seq), last_seq: int(c.last_seq),
    muted: !!c.muted, pinned: !!c.pinned, owner: int(c.owner) || null, notice: str(c.notice),
    created_at: str(c.created_at), last_message: savedLast(c.last_message),
  };
}

/** The inbox to keep, or read back: valid entries, in the inbox's order, the first `max`. */
export function savedInbox(convs, max = INBOX_MAX) {
  return [...(convs || [])].map(savedConversation).filter(Boolean).sort(inboxOrder).slice(0, max);
}

/** A conversation's kept messages with more of them (newer, or the same ones changed):
 * one per id, in seq order, the newest `limit` of the unbroken run that ends at the
 * newest one. A page that held seq 1–50 and then hears of 60 keeps 60 alone rather than
 * show a history with a hole in it. */
export function mergeMessages(kept, incoming, limit = MESSAGES_PER_CONVERSATION) {
  const byId = new Map();
  for (const m of [...(kept || []), ...(incoming || [])]) {
    const s = savedMessage(m);
    if (s) byId.set(s.id, s); // the later copy wins
  }
  const bySeq = new Map([...byId.values()].map((s) => [s.seq, s]));
  const list = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  let start = list.length - 1;
  while (start > 0 && list[start - 1].seq === list[start].seq - 1) start--;
  return list.slice(Math.max(start, list.length - limit));
}

/** A kept message changed (a message_update frame: an edit, a recall, reactions): the
 * list with it changed, or null when it is not among them. */
export function applyUpdate(list, f, meId) {
  const id = int(f && f.id);
  const i = (list || []).findIndex((m) => m.id === id);
  if (!id || i < 0) return null;
  const m = Object.assign({}, list[i]);
  if (f.body !== undefined) m.body = plain(f.body);
  if (f.edited_at !== undefined) m.edited_at = typeof f.edited_at === 'string' ? f.edited_at : null;
  if (f.recalled !== undefined) m.recalled = !!f.recalled;
  if (Array.isArray(f.mentions)) m.mentions = f.mentions.map(Number).filter(Number.isInteger);
  if (Array.isArray(f.reactions)) m.reactions = mergeReactions(m.reactions, f.reactions, f.reaction, meId);
  if (m.recalled) m.reactions = [];
  const out = list.slice();
  out[i] = m;
  return out;
}

/** Which conversations' kept messages go: beyond the `keep` used last, untouched for
 * `maxAge`, or no longer in the inbox (`inbox`: a Set of ids, or null not to ask).
 * `records`: [{conversation, at}]. */
export function conversationsToDrop(records, { keep = CONVERSATIONS_KEPT, now = Date.now(), maxAge = MAX_AGE_MS, inbox = null } = {}) {
  const sorted = [...(records || [])].sort((a, b) => (Number(b.at) || 0) - (Number(a.at) || 0));
  return sorted
    .filter((r, i) => i >= keep || !(Number(r.at) > now - maxAge) || (inbox && !inbox.has(r.conversation)))
    .map((r) => r.conversation);
}

/** An outbox item (outbox.js) as kept until the server stores it. */
export function outboxRecord(item) {
  return {
    client_id: item.client_id, conversation: int(item.conversation), app: str(item.app) || 'chat',
    body: plain(item.body), sender: int(item.sender), created_at: str(item.created_at),
    status: item.status === 'failed' ? 'failed' : 'sending', error: typeof item.error === 'string' ? item.error : null,
    refusal: typeof item.refusal === 'string' ? item.refusal : null,
    reply_to: isObject(item.reply_to) ? plain(item.reply_to) : null, forward: int(item.forward) || null,
  };
}

/** The kept outbox items of `user` that can go again, the oldest first. */
export function savedOutbox(records, user) {
  const out = [];
  for (const r of records || []) {
    if (!isObject(r) || int(r.sender) !== user || !user) continue;
    if (typeof r.client_id !== 'string' || !r.client_id || r.client_id.length > 64) continue;
    if (!(int(r.conversation) > 0) || !STATUSES.has(r.status)) continue;
    out.push(outboxRecord(r));
  }
  return out.sort((a, b) => (Date.parse(a.created_at) || 0) - (Date.parse(b.created_at) || 0));
}

/** The unread messages of the conversations that are not muted: the page's title and
 * the app's badge. */
export function unreadTotal(convs) {
  let n = 0;
  for (const c of convs || []) if (!c.muted) n += Math.max(0, int(c.unread));
  return n;
}
