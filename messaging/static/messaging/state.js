/* What the page knows: the user, people, conversations, read positions, the outbox. */

import { api, listOf } from './api.js';
import { pageUser } from './config.js';
import { emit } from './events.js';
import { gettext, fill } from './i18n.js';
import { Outbox } from './outbox.js';
import { activity } from './saved.js';

export const state = {
  me: pageUser,
  users: new Map(),          // id -> {id, username, display_name}
  contacts: [],              // cards from /api/v1/contacts/
  convs: new Map(),          // id -> conversation
  directByUser: new Map(),   // other user id -> direct conversation id
  presence: new Map(),       // user id -> online | away | offline
  readBy: new Map(),         // conversation id -> Map(user id -> seq), from receipts
  outbox: new Outbox(),      // own messages not yet acknowledged
  viaPeer: new Set(),        // client_ids of messages that went over a data channel
  lastId: 0,                 // newest message id this page has seen
  view: null,                // the open conversation (conversation.js)
  loaded: false,             // the inbox came from the server
  savedView: false,          // the inbox shown is the one kept on this device (offline.js)
  signedOut: false,
};

export const me = () => Object.assign({}, state.me);
/** The open conversation's id, or null. */
export const openId = () => (state.view ? state.view.id : null);

/** Conversations, unread counts or read positions changed: the sidebar renders again
 * (once, after whatever else this turn changes). */
export function changed() {
  // Reading clears the mentions it passes: at most as many as are unread.
  for (const c of state.convs.values()) c.mentions = Math.min(Math.max(0, Number(c.mentions) || 0), c.unread || 0);
  emit('conversations-changed');
}

const lastIdKey = () => `switchboard:last-message-id:${state.me.id}`;
export function loadLastId() {
  try { return Number(sessionStorage.getItem(lastIdKey())) || 0; } catch (e) { return 0; }
}
/** The newest message id seen: a new connection syncs from it. */
export function noteLastId(id) {
  id = Number(id) || 0;
  if (id <= state.lastId) return;
  state.lastId = id;
  try { sessionStorage.setItem(lastIdKey(), String(id)); } catch (e) { /* private mode */ }
}

export function learnUser(u) {
  if (!u || !u.id) return;
  const known = state.users.get(u.id) || {};
  state.users.set(u.id, Object.assign(known, u));
}

export function userName(id) {
  if (id === state.me.id) return state.me.display_name || state.me.username;
  const u = state.users.get(id);
  return (u && (u.display_name || u.username)) || fill(gettext('User {id}'), { id });
}

/** The other person of a direct conversation. */
export function otherMember(conv) {
  if (!conv || conv.kind !== 'direct') return null;
  const m = (conv.members || []).find((x) => x.id !== state.me.id);
  return m ? m.id : null;
}
export const peerOf = (convId) => otherMember(state.convs.get(Number(convId)));
export const directWith = (userId) => state.directByUser.get(Number(userId)) || null;

export function convTitle(conv) {
  if (!conv) return '';
  if (conv.kind === 'direct') {
    const other = otherMember(conv);
    if (other) return userName(other);
  }
  return conv.title || gettext('Group');
}

const KIND = { group: () => gettext('Group'), department: () => gettext('Department') };
export const kindLabel = (kind) => (KIND[kind] ? KIND[kind]() : kind);

/** When a conversation last saw activity, for ordering the list. */
export const convActivity = activity;

export function noteReadBy(convId, userId, seq) {
  let m = state.readBy.get(convId);
  if (!m) state.readBy.set(convId, (m = new Map()));
  if ((m.get(userId) || 0) < seq) m.set(userId, seq);
}

/** How far the others have read a conversation (for the read ticks). */
export function othersReadUpTo(convId) {
  const m = state.readBy.get(convId);
  if (!m) return 0;
  let best = 0;
  for (const [uid, seq] of m) if (uid !== state.me.id && seq > best) best = seq;
  return best;
}

/** Take a conversation from the API: never backwards, so that a list fetched before a
 * live message does not undo it. */
export function upsertConv(c) {
  if (!c || !c.id) return null;
  (c.members || []).forEach(learnUser);
  const old = state.convs.get(c.id);
  let conv = c;
  if (old) {
    if ((old.last_seq || 0) > (c.last_seq || 0)) {
      conv = Object.assign({}, c, { last_seq: old.last_seq, last_message: old.last_message, unread: old.unread, mentions: old.mentions });
    }
    conv = Object.assign(old, conv);
  }
  conv.unread = Math.max(0, Number(conv.unread) || 0);
  conv.mentions = Math.min(Math.max(0, Number(conv.mentions) || 0), conv.unread);
  conv.last_seq = Number(conv.last_seq) || 0;
  conv.last_read_seq = Number(conv.last_read_seq) || 0;
  state.convs.set(conv.id, conv);
  if (conv.kind === 'direct') {
    const other = otherMember(conv);
    if (other) state.directByUser.set(other, conv.id);
  }
  // Read positions of the others, if the server shares them.
  for (const m of conv.members || []) {
    if (m.id !== state.me.id && Number(m.last_read_seq) > 0) noteReadBy(conv.id, m.id, Number(m.last_read_seq));
  }
  if (conv.last_message && conv.last_message.id) noteLastId(conv.last_message.id);
  return conv;
}

const fetching = new Map();
/** A conversation this page does not know yet (a new group, a first direct message). */
export function fetchConversation(id) {
  if (fetching.has(id)) return fetching.get(id);
  const p = api('GET', `/api/v1/conversations/${id}/`)
    .then((c) => { const conv = upsertConv(c); changed(); return conv; })
    .catch(() => null)
    .finally(() => fetching.delete(id));
  fetching.set(id, p);
  return p;
}

/** The list again, after a reconnection. */
export async function refreshConversations() {
  try {
    const list = listOf(await api('GET', '/api/v1/conversations/'));
    for (const c of list) upsertConv(c);
    changed();
  } catch (e) { /* keep what we have */ }
}
