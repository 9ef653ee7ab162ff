/* Sending: a message goes into the outbox, shows as sending, leaves over the socket (and
 * to the peer when a data channel is open), and becomes the stored message on its ack. */

import { api, listOf } from './api.js';
import { addToView, decorate, nearBottom, place, scrollToBottom, setHistoryTop, checkGap } from './conversation.js';
import { gettext } from './i18n.js';
import { buildMessageEl, fillBody, fillMeta } from './messages.js';
import { transport } from './p2p.js';
import { publicMessage } from './renderers.js';
import { scheduleSidebar } from './sidebar.js';
import { noteLastId, state } from './state.js';
import { looksFormatted } from './text.js';
import { ui } from './ui.js';

/** Send a message of any app into a conversation; returns its client_id.
 * It always goes to the server (history, other devices, offline delivery); in a direct
 * conversation with an open data channel it also goes straight to the peer. */
export function send(conversation, app, body, opts = {}) {
  const item = state.outbox.create({ conversation, app, body, sender: state.me.id, clientId: opts.client_id });
  const v = state.view;
  if (v && v.id === item.conversation && !v.loading) {
    showPending(v, item);
    decorate();
    scrollToBottom();
  }
  if (transport) transport.offerMessage(item);
  state.outbox.transmit(item);
  return item.client_id;
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

export function retrySend(clientId) {
  const item = state.outbox.get(clientId);
  if (!item) return;
  item.status = 'sending';
  item.error = null;
  fillMeta(item);
  state.outbox.retry(clientId);
}

export function discardSend(clientId) {
  const item = state.outbox.discard(clientId);
  if (!item) return;
  const v = state.view;
  if (v && v.pending.get(clientId) === item) {
    v.pending.delete(clientId);
    item.el.remove();
    decorate();
    if (ui.historyTop.dataset.state === 'start') setHistoryTop('start');
  }
}

export function onAck(f) {
  noteLastId(f.id);
  const item = state.outbox.stored(f.client_id, f);
  if (item) afterOwnStored(item, null); // else a repeated ack, or a send from elsewhere
}

/** An own message is stored (ack, or the same message seen by client_id). */
export function afterOwnStored(msg, full) {
  const conv = state.convs.get(msg.conversation);
  if (conv) {
    if (msg.seq > conv.last_seq) {
      conv.last_seq = msg.seq;
      conv.last_message = publicMessage(full || msg);
    }
    conv.last_read_seq = Math.max(conv.last_read_seq, msg.seq);
    conv.unread = Math.max(0, conv.last_seq - conv.last_read_seq);
    scheduleSidebar();
  }
  const v = state.view;
  if (v && v.id === msg.conversation) {
    const pend = v.pending.get(msg.client_id);
    if (pend) promotePending(v, pend, full || msg);
  }
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
  v.hold(pend);
  pend.el.remove();
  place(v, pend);
  if (bodyChanged) fillBody(pend);
  fillMeta(pend);
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

/** The server refused a send. */
export function onSendError(f) {
  const stick = nearBottom();
  const item = state.outbox.refused(f.client_id, f.code, f.detail, gettext('Something went wrong.'));
  if (!item) return; // not ours, or going again after a rate limit
  if (transport) transport.retractMessage(item);
  fillMeta(item);
  if (stick && item.el && item.el.isConnected) scrollToBottom();
}
