/* The open conversation: loading its history, placing messages by seq, repairing gaps,
 * scrolling, reading, and who is typing. */

import { api, ApiError, listOf } from './api.js';
import { PAGE } from './config.js';
import { avatar, h, pageActive, toast } from './dom.js';
import { emit, events } from './events.js';
import { fill, gettext, ngettext } from './i18n.js';
import { buildMessageEl, fillBody, fillMeta, fillReactions } from './messages.js';
import { keepMessages, savedMessages } from './offline.js';
import { presenceDot, presenceOf, presenceTitle } from './presence.js';
import { onRegister } from './renderers.js';
import { repairGap, SeqWindow } from './seqgap.js';
import { sendFrame } from './socket.js';
import { changed, convTitle, fetchConversation, kindLabel, otherMember, state, userName } from './state.js';
import { dayKey, dayLabel, looksFormatted, normaliseMessage, parseDate, quoteOf } from './text.js';
import { ui } from './ui.js';

const TYPING_SHOWN = 4000;

export class ConversationView extends SeqWindow {
  constructor(id) {
    super();
    this.id = id;
    this.hasMore = false;
    this.loading = true;
    this.loadingOlder = false;
    this.filling = false;
    this.buffer = [];         // live messages that arrived during the first load
    this.typing = new Map();  // user id -> timeout
    this.unseen = 0;
    this.closed = false;
    this.saved = false;       // showing the messages kept on this device: the server was not reached
  }
}

/** The <ol> of the open conversation's messages. */
export const messageList = () => ui.list;
/** Stay at the newest message if the reader was there. */
export function keepInView() { if (nearBottom()) scrollToBottom(); }

export function renderHeader() {
  const v = state.view;
  if (!v) return;
  const conv = state.convs.get(v.id);
  if (!conv) return;
  ui.headTitle.textContent = convTitle(conv);
  ui.headAvatar.replaceChildren();
  if (conv.kind === 'direct') {
    const other = otherMember(conv);
    ui.headAvatar.append(avatar(userName(other), other));
    if (other) {
      const st = presenceOf(other);
      ui.headAvatar.append(presenceDot(other));
      ui.headSub.replaceChildren(h('span', { class: 'presence-text', 'data-status': st, text: presenceTitle(st) }));
    } else ui.headSub.replaceChildren();
  } else {
    ui.headAvatar.append(avatar(conv.title || '#', 1000 + conv.id, 'avatar-square'));
    const members = conv.members || [];
    const n = members.length;
    const label = fill(ngettext('{n} member', '{n} members', n), { n });
    const names = members.map((m) => (m.id === state.me.id ? state.me.display_name || m.display_name : m.display_name || m.username)).join(', ');
    ui.headSub.replaceChildren(h('span', { class: 'chat-kind', text: kindLabel(conv.kind) }), ' ', h('span', { title: names, text: label }));
  }
}

function showPane(open) {
  ui.empty.hidden = open;
  ui.pane.hidden = !open;
  ui.root.dataset.view = open ? 'conversation' : 'list';
  // On a phone, the open conversation has the screen to itself (chat.css).
  document.body.dataset.chatView = ui.root.dataset.view;
}

export async function openConversation(id, opts = {}) {
  id = Number(id);
  const { push = true } = opts;
  if (state.view && state.view.id === id) {
    showPane(true);
    renderHeader();
    if (push) setHash(id);
    return;
  }
  let conv = state.convs.get(id);
  if (!conv) {
    conv = await fetchConversation(id);
    if (!conv) { toast(gettext('Could not open the conversation.')); return; }
  }
  closeView();
  const v = (state.view = new ConversationView(id));
  showPane(true);
  renderHeader();
  ui.list.replaceChildren();
  ui.typing.textContent = '';
  ui.jump.hidden = true;
  setHistoryTop('loading');
  if (push) setHash(id);
  // The composer takes the draft, the sidebar marks it, p2p offers a data channel.
  emit('conversation-open', { id, peer: otherMember(conv) });
  await loadNewest(v);
}

/** The open conversation shows the messages kept on this device and the server answers
 * again: its messages load anew from the server, in place. */
export function reloadSaved() {
  const v = state.view;
  if (!v || !v.saved || v.closed) return;
  for (const tm of v.typing.values()) clearTimeout(tm);
  v.closed = true;
  const fresh = (state.view = new ConversationView(v.id));
  renderHeader();
  ui.list.replaceChildren();
  ui.typing.textContent = '';
  ui.jump.hidden = true;
  loadNewest(fresh);
}
// A connection (re)made: the server answers.
events.addEventListener('hello', reloadSaved);

function closeView() {
  const v = state.view;
  if (!v) return;
  emit('conversation-close', { id: v.id }); // the composer keeps the draft
  for (const tm of v.typing.values()) clearTimeout(tm);
  v.closed = true;
  state.view = null;
}

export function closeConversation() {
  closeView();
  showPane(false);
  changed();
}

function setHash(id) {
  const want = `#conversation-${id}`;
  if (location.hash !== want) history.pushState({ sbConversation: id }, '', want);
}
export function hashConversation() {
  const m = location.hash.match(/^#conversation-(\d+)$/);
  return m ? Number(m[1]) : null;
}

export function setHistoryTop(what) {
  const v = state.view;
  ui.historyTop.replaceChildren();
  ui.historyTop.dataset.state = what || '';
  if (what === 'loading') ui.historyTop.append(h('span', { class: 'chat-spinner', 'aria-hidden': 'true' }), ' ', gettext('Loading…'));
  else if (what === 'error') {
    ui.historyTop.append(gettext('Could not load the messages.'), ' ',
      h('button', { type: 'button', class: 'link', text: gettext('Try again'), onclick: () => (v && v.minSeq ? loadOlder(v) : v && loadNewest(v)) }));
  } else if (what === 'start') {
    if (!v || (v.byId.size === 0 && v.pending.size === 0)) ui.historyTop.append(h('div', { class: 'chat-start', text: gettext('No messages yet. Say hello!') }));
  } else if (what === 'saved') {
    ui.historyTop.append(h('div', {
      class: 'chat-saved', 'data-testid': 'saved-messages',
      text: v && v.byId.size ? gettext('Offline: these are the messages saved on this device. The others show when the connection is back.')
        : gettext('Offline: no messages of this conversation are saved on this device. They show when the connection is back.'),
    }));
  }
}

async function loadNewest(v) {
  const conv = state.convs.get(v.id);
  // Where my reading stopped: the conversation opens there, not at the bottom.
  const firstUnread = conv && conv.unread > 0 && conv.last_read_seq < conv.last_seq ? conv.last_read_seq + 1 : 0;
  v.loading = true;
  setHistoryTop('loading');
  let res;
  let results;
  try {
    res = await api('GET', `/api/v1/conversations/${v.id}/messages/?limit=${PAGE}`);
    results = listOf(res);
  } catch (e) {
    if (v.closed) return;
    if (e instanceof ApiError) { setHistoryTop('error'); return; }
    // No answer at all (offline, or the server out of reach): the messages kept here,
    // until the connection is back (reloadSaved).
    results = await savedMessages(v.id);
    v.saved = true;
  }
  if (v.closed) return;
  v.hasMore = !!(res && res.has_more);
  if (results.length) {
    v.minSeq = results[0].seq;
    v.contig = results[results.length - 1].seq;
  }
  addToView(v, results, { initial: true });
  // Own messages still waiting in the outbox for this conversation.
  for (const item of state.outbox.values()) if (item.conversation === v.id) showPending(v, item);
  v.loading = false;
  const buffered = v.buffer;
  v.buffer = [];
  if (buffered.length) addToView(v, buffered, {});
  setHistoryTop(v.saved ? 'saved' : v.hasMore ? '' : 'start');
  scrollToBottom();
  if (v.saved) return; // read, gaps and older pages wait for the server
  if (firstUnread) await showFirstUnread(v, firstUnread);
  checkGap(v);
  markRead();
  // A short first page does not fill the pane: load more until it does.
  queueMicrotask(() => maybeLoadOlder());
}

/** Mark where the unread messages begin and bring that line to the top of the pane,
 * fetching a few older pages if it is further back. */
async function showFirstUnread(v, seq) {
  for (let pages = 0; pages < 4 && !v.closed && v.hasMore && v.minSeq > seq; pages++) await loadOlder(v);
  if (v.closed) return;
  const first = [...ui.list.querySelectorAll('.msg[data-seq]')].find((el) => Number(el.dataset.seq) >= seq);
  if (!first) return;
  const line = h('li', { class: 'unread-sep', 'data-testid': 'unread-line' }, h('span', { text: gettext('Unread messages') }));
  first.before(line);
  line.scrollIntoView({ block: 'start' });
  pinned = false;
}

async function loadOlder(v, limit = PAGE) {
  if (!v || v.loading || v.loadingOlder || !v.hasMore || !v.minSeq) return;
  v.loadingOlder = true;
  setHistoryTop('loading');
  let res;
  try {
    res = await api('GET', `/api/v1/conversations/${v.id}/messages/?before=${v.minSeq}&limit=${limit}`);
  } catch (e) {
    v.loadingOlder = false;
    if (!v.closed) setHistoryTop('error');
    return;
  }
  if (v.closed) return;
  const results = listOf(res);
  v.hasMore = !!(res && res.has_more) && results.length > 0;
  const h0 = ui.history.scrollHeight;
  const top0 = ui.history.scrollTop;
  if (results.length) v.minSeq = Math.min(v.minSeq, results[0].seq);
  addToView(v, results, { older: true });
  setHistoryTop(v.hasMore ? '' : 'start');
  // Keep the message the reader was looking at in place.
  ui.history.scrollTop = top0 + (ui.history.scrollHeight - h0);
  v.loadingOlder = false;
  queueMicrotask(() => maybeLoadOlder());
}

export function maybeLoadOlder() {
  const v = state.view;
  if (!v || v.loading || v.loadingOlder || !v.hasMore) return;
  if (ui.history.scrollTop < 80 || ui.history.scrollHeight <= ui.history.clientHeight + 10) loadOlder(v);
}

export function nearBottom() {
  return ui.history.scrollHeight - ui.history.scrollTop - ui.history.clientHeight < 120;
}

let pinned = true; // the reader is at the newest message: stay there when sizes change
export const isPinned = () => pinned;
export function notePinned() { pinned = nearBottom(); }

export function scrollToBottom() {
  pinned = true;
  ui.history.scrollTop = ui.history.scrollHeight;
  const v = state.view;
  if (v) v.unseen = 0;
  ui.jump.hidden = true;
}

/** Put messages into the open view: deduplicated by id and client_id, ordered by seq. */
export function addToView(v, messages, { initial = false, older = false } = {}) {
  if (v.closed) return;
  if (v.loading && !initial) { v.buffer.push(...messages); return; }
  const conv = state.convs.get(v.id);
  const stick = initial || nearBottom();
  let added = 0;
  let addedOthers = 0;
  const kept = [];
  for (const raw of messages) {
    const m = normaliseMessage(raw);
    if (m.conversation !== v.id || !m.id) continue;
    const existing = v.byId.get(m.id);
    if (existing) { updateMessage(existing, m); continue; }
    // Our own message that came back another way before its ack, or a peer's message
    // that came over the data channel before the server's copy.
    if (m.client_id) {
      const pend = v.pending.get(m.client_id);
      if (pend && pend.sender === m.sender) { promotePending(v, pend, m); continue; }
      if (m.sender === state.me.id) state.outbox.delete(m.client_id); // stored already: show the stored copy only
    }
    buildMessageEl(m, conv);
    v.hold(m);
    place(v, m);
    kept.push(m);
    added++;
    if (m.sender !== state.me.id) { addedOthers++; clearTyping(v, m.sender); }
  }
  if (!added) return;
  if (!v.saved) keepMessages(v.id, kept);
  v.advance();
  decorate();
  if (older || initial) return;
  if (stick) scrollToBottom();
  else if (addedOthers) {
    v.unseen += addedOthers;
    ui.jumpCount.textContent = gettext('New messages') + ` (${v.unseen})`;
    ui.jump.hidden = false;
  }
  if (ui.historyTop.dataset.state === 'start') setHistoryTop('start');
}

/** Insert msg.el at its seq position; unacknowledged messages stay at the end. */
export function place(v, msg) {
  if (!msg.seq) { ui.list.append(msg.el); return; }
  const els = ui.list.children;
  for (let i = els.length - 1; i >= 0; i--) {
    const el = els[i];
    if (el === msg.el || !el.classList.contains('msg')) continue;
    const s = Number(el.dataset.seq);
    if (s && s < msg.seq) { el.after(msg.el); return; } // pending bubbles after el stay after it
  }
  const first = ui.list.querySelector('.msg');
  if (first && first !== msg.el) ui.list.insertBefore(msg.el, first);
  else ui.list.append(msg.el);
}

/** Day separators and runs of messages from the same sender. */
export function decorate() {
  for (const sep of ui.list.querySelectorAll('.day-sep')) sep.remove();
  let prevDay = null;
  let prevSender = null;
  let prevTime = 0;
  const v = state.view;
  for (const el of [...ui.list.children]) {
    const msg = v && (v.byId.get(Number(el.dataset.id)) || v.pending.get(el.dataset.clientId));
    if (!msg) continue;
    const d = parseDate(msg.created_at);
    const k = dayKey(d);
    if (k !== prevDay) {
      el.before(h('li', { class: 'day-sep' }, h('span', { text: dayLabel(d) })));
      prevDay = k;
      prevSender = null;
    }
    const cont = prevSender === msg.sender && d.getTime() - prevTime < 5 * 60 * 1000;
    el.classList.toggle('msg-cont', cont);
    prevSender = msg.sender;
    prevTime = d.getTime();
  }
}

export function updateMessage(existing, m) {
  let bodyChanged = false;
  if (m.body && JSON.stringify(m.body) !== JSON.stringify(existing.body)) { existing.body = m.body; bodyChanged = true; }
  if (m.recalled !== undefined && !!m.recalled !== !!existing.recalled) { existing.recalled = !!m.recalled; bodyChanged = true; }
  if (m.edited_at && m.edited_at !== existing.edited_at) existing.edited_at = m.edited_at;
  if (Array.isArray(m.mentions) && String(m.mentions) !== String(existing.mentions || [])) { existing.mentions = m.mentions; bodyChanged = true; }
  if (m.reply_to !== undefined && JSON.stringify(m.reply_to) !== JSON.stringify(existing.reply_to || null)) { existing.reply_to = m.reply_to; bodyChanged = true; }
  if (m.forwarded !== undefined && !!m.forwarded !== !!existing.forwarded) { existing.forwarded = !!m.forwarded; bodyChanged = true; }
  if (Array.isArray(m.reactions) && JSON.stringify(m.reactions) !== JSON.stringify(existing.reactions || [])) {
    existing.reactions = m.reactions;
    if (!bodyChanged) fillReactions(existing);
  }
  if (bodyChanged) fillBody(existing);
  fillMeta(existing);
  if (bodyChanged) updateQuotesOf(existing);
  if (existing.id && !(state.view && state.view.saved)) keepMessages(existing.conversation, [existing]);
}

/** The replies on screen that quote a message follow its edit or recall. */
function updateQuotesOf(original) {
  const v = state.view;
  if (!v || !original.id) return;
  for (const msg of v.all()) {
    if (msg.reply_to && msg.reply_to.id === original.id) {
      msg.reply_to = quoteOf(original);
      fillBody(msg);
    }
  }
}

/** Bring a message of the open conversation into view and flash it, loading older
 * history until it is there (a reply's quote was clicked). */
export async function revealMessage(id, seq, { far = false } = {}) {
  const v = state.view;
  if (!v) return;
  // The first page may still be loading (a search result opens its conversation).
  for (let waits = 0; waits < 100 && v.loading && !v.closed; waits++) await new Promise((r) => setTimeout(r, 50));
  // A search result may be far back: larger pages, further.
  const pages = far ? 40 : 20;
  for (let n = 0; n < pages && !v.byId.has(id) && v.hasMore && (!seq || !v.minSeq || v.minSeq > seq); n++) {
    await loadOlder(v, far ? 200 : PAGE);
    if (v.closed) return;
  }
  const msg = v.byId.get(id);
  if (!msg || !msg.el) { toast(gettext('That message is no longer here.')); return; }
  pinned = false;
  msg.el.scrollIntoView({ block: 'center', behavior: 'smooth' });
  msg.el.classList.remove('msg-flash');
  void msg.el.offsetWidth; // restart the animation
  msg.el.classList.add('msg-flash');
  const focusable = msg.refs && msg.refs.bubble;
  if (focusable) { focusable.tabIndex = -1; focusable.focus({ preventScroll: true }); }
}

events.addEventListener('message-jump', (e) => {
  const v = state.view;
  if (v && v.id === e.detail.conversation) revealMessage(e.detail.id, e.detail.seq);
});

/** seq jumped (have 7, got 9): fetch what is missing. */
export async function checkGap(v) {
  if (!v || v.closed || v.loading || v.saved || v.filling || !v.hasGap()) return;
  v.filling = true;
  try {
    await repairGap(v, {
      fetchAfter: async (seq) => listOf(await api('GET', `/api/v1/conversations/${v.id}/messages/?after=${seq}&limit=200`)),
      accept: (messages) => addToView(v, messages, {}),
      isClosed: () => v.closed,
    });
  } catch (e) {
    console.warn('Switchboard: could not fill a gap in conversation %s', v.id, e);
  } finally {
    v.filling = false;
  }
  markRead();
}

/** Show a message that is not stored yet (own, or a peer's direct copy) at the end. */
export function showPending(v, item) {
  if (v.pending.has(item.client_id)) return;
  const conv = state.convs.get(v.id);
  buildMessageEl(item, conv);
  v.pending.set(item.client_id, item);
  ui.list.append(item.el);
  if (ui.historyTop.dataset.state === 'start') setHistoryTop('start');
}

/** A shown-but-unstored message becomes the stored one, moved to its seq. */
export function promotePending(v, pend, stored) {
  v.pending.delete(pend.client_id);
  state.outbox.delete(pend.client_id);
  if (v.byId.has(Number(stored.id))) { pend.el.remove(); decorate(); return; }
  pend.id = Number(stored.id);
  pend.seq = Number(stored.seq);
  pend.created_at = stored.created_at || pend.created_at;
  pend.status = 'delivered';
  let bodyChanged = false;
  if (stored.body && stored.body !== pend.body) { pend.body = stored.body; bodyChanged = true; }
  // The server's word on the app too: a peer's copy may have claimed another one.
  if (stored.app && stored.app !== pend.app) { pend.app = stored.app; bodyChanged = true; }
  // And on what it answers, and whether it is a forward (a peer's copy says neither).
  if (stored.reply_to !== undefined && JSON.stringify(stored.reply_to) !== JSON.stringify(pend.reply_to || null)) { pend.reply_to = stored.reply_to; bodyChanged = true; }
  if (stored.forwarded !== undefined && !!stored.forwarded !== !!pend.forwarded) { pend.forwarded = !!stored.forwarded; bodyChanged = true; }
  if (Array.isArray(stored.reactions)) pend.reactions = stored.reactions;
  v.hold(pend);
  pend.el.remove();
  place(v, pend);
  if (bodyChanged) fillBody(pend);
  fillMeta(pend);
  keepMessages(v.id, [pend]);
  v.advance();
  decorate();
  if (!bodyChanged && pend.app === 'chat' && looksFormatted(pend.body && pend.body.text)) refreshRendered(v, pend.seq);
  checkGap(v);
}

// The ack carries no html: fetch the server's rendering of formatted text.
const refreshQueue = new Set();
let refreshTimer = null;
function refreshRendered(v, seq) {
  refreshQueue.add(seq);
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(async () => {
    const seqs = [...refreshQueue];
    refreshQueue.clear();
    if (v.closed || !seqs.length) return;
    const from = Math.min(...seqs) - 1;
    const to = Math.max(...seqs);
    try {
      const res = await api('GET', `/api/v1/conversations/${v.id}/messages/?after=${from}&limit=${Math.min(200, to - from)}`);
      if (!v.closed) addToView(v, listOf(res), {});
    } catch (e) { /* the plain text stays */ }
  }, 250);
}

/** A renderer registered late re-renders the messages of its app already on screen. */
onRegister((app) => {
  const v = state.view;
  if (!v) return;
  for (const msg of v.all()) if (msg.app === app && msg.el) fillBody(msg);
});

events.addEventListener('presence-changed', renderHeader);

export function storedByClientId(v, clientId, sender) {
  for (const m of v.byId.values()) if (m.client_id === clientId && m.sender === sender) return m;
  return null;
}

// Reading: the read position goes to the server shortly after messages are seen.
let readTimer = null;
export function markRead() {
  clearTimeout(readTimer);
  readTimer = setTimeout(markReadNow, 300);
}

function markReadNow() {
  const v = state.view;
  if (!v || v.loading || v.saved || !pageActive() || ui.pane.hidden) return;
  const conv = state.convs.get(v.id);
  if (!conv) return;
  const seq = Math.max(v.contig, 0);
  if (!seq) return;
  if (!(seq > conv.last_read_seq || conv.unread)) return;
  const send = seq > conv.last_read_seq;
  conv.last_read_seq = Math.max(conv.last_read_seq, seq);
  conv.unread = Math.max(0, conv.last_seq - conv.last_read_seq);
  changed();
  if (!send) return;
  if (!sendFrame({ type: 'read', conversation: v.id, seq })) {
    api('POST', `/api/v1/conversations/${v.id}/read/`, { seq }).catch(() => {});
  }
}

// Who is typing in the open conversation.
export function showTyping(v, userId) {
  clearTimeout(v.typing.get(userId));
  v.typing.set(userId, setTimeout(() => clearTyping(v, userId), TYPING_SHOWN));
  renderTyping(v);
}

export function clearTyping(v, userId) {
  if (!v.typing.has(userId)) return;
  clearTimeout(v.typing.get(userId));
  v.typing.delete(userId);
  renderTyping(v);
}

function renderTyping(v) {
  if (state.view !== v) return;
  const names = [...v.typing.keys()].map(userName);
  ui.typing.textContent = !names.length ? ''
    : names.length === 1 ? fill(gettext('{name} is typing…'), { name: names[0] })
      : fill(gettext('{names} are typing…'), { names: names.join(', ') });
}
