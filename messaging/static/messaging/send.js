/* Sending: a message goes into the outbox, shows as sending, leaves over the socket (and
 * to the peer when a data channel is open), and becomes the stored message on its ack. */

import { addToView, decorate, nearBottom, promotePending, scrollToBottom, setHistoryTop, showPending } from './conversation.js';
import { events } from './events.js';
import { gettext } from './i18n.js';
import { fillMeta } from './messages.js';
import { keepMessages } from './offline.js';
import { transport } from './p2p.js';
import { publicMessage } from './renderers.js';
import { changed, noteLastId, state } from './state.js';
import { ui } from './ui.js';

/** Send a message of any app into a conversation; returns its client_id.
 * It always goes to the server (history, other devices, offline delivery); in a direct
 * conversation with an open data channel it also goes straight to the peer. */
export function send(conversation, app, body, opts = {}) {
  const item = state.outbox.create({
    conversation, app, body, sender: state.me.id, clientId: opts.client_id, replyTo: opts.reply_to || null,
    forward: opts.forward || null,
  });
  const v = state.view;
  if (v && v.id === item.conversation && !v.loading) {
    showPending(v, item);
    decorate();
    scrollToBottom();
  }
  // A forward goes through the server only: it is a copy of what the server holds.
  if (transport && !item.forward) transport.offerMessage(item);
  state.outbox.transmit(item);
  return item.client_id;
}

/** Forward a copy of a stored message into a conversation. */
export function forward(conversation, msg) {
  return send(conversation, msg.app, msg.body, { forward: msg.id });
}

function retrySend(clientId) {
  const item = state.outbox.retry(clientId);
  if (item) fillMeta(item);
}

function discardSend(clientId) {
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

/** "Edit" under a failed chat message: it leaves the outbox and the page, and is returned
 * for its text to go back into the composer (null if it is not a failed chat message). */
export function takeBackFailed(clientId) {
  const item = state.outbox.get(clientId);
  if (!item || item.status !== 'failed' || item.app !== 'chat' || !item.body || typeof item.body.text !== 'string') return null;
  discardSend(clientId);
  return item;
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
    changed();
  }
  const v = state.view;
  if (v && v.id === msg.conversation) {
    const pend = v.pending.get(msg.client_id);
    if (pend) promotePending(v, pend, full || msg);
    else addToView(v, [full || msg], {}); // sent while the history was loading: it joins it
  } else keepMessages(msg.conversation, [full || msg]);
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

// The buttons under a failed message (messages.js); "Edit" is the composer's (composer.js).
events.addEventListener('message-retry', (e) => retrySend(e.detail));
events.addEventListener('message-discard', (e) => discardSend(e.detail));
