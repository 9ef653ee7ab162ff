/* What comes straight from a peer over a data channel (p2p.js), and what becomes of it. */

import { MAX_BODY_BYTES } from './config.js';
import { clearTyping, decorate, nearBottom, scrollToBottom, showPending, storedByClientId } from './conversation.js';
import { fromPeer } from './renderers.js';
import { otherMember, state } from './state.js';
import { bodySize } from './text.js';

/** A message the peer sent straight over the data channel: shown at once, replaced by
 * the server's stored copy (same client_id) when that arrives. Returns whether it was
 * accepted. Nothing in it has been checked by a server: only apps registered with
 * fromPeer are taken, and only the body their fromPeer makes of it is shown; the rest
 * (approvals, announcements, …) the server's copy shows. */
export function receiveDirect(raw) {
  const conv = state.convs.get(Number(raw.conversation));
  const sender = Number(raw.sender);
  if (!conv || conv.kind !== 'direct' || otherMember(conv) !== sender || typeof raw.client_id !== 'string') return false;
  if (!raw.body || typeof raw.body !== 'object' || Array.isArray(raw.body) || bodySize(raw.body) > MAX_BODY_BYTES) return false;
  const app = typeof raw.app === 'string' ? raw.app : 'chat';
  const take = fromPeer(app);
  if (!take) return false;
  let body = null;
  try { body = take(raw.body); } catch (e) { body = null; }
  if (!body || typeof body !== 'object') return false;
  const v = state.view;
  if (v && v.id === conv.id && (v.pending.has(raw.client_id) || storedByClientId(v, raw.client_id, sender))) return true;
  state.viaPeer.add(raw.client_id);
  if (!v || v.id !== conv.id || v.loading) return true; // the server's copy shows it, marked p2p
  const item = {
    client_id: raw.client_id, conversation: conv.id, app,
    body, sender, created_at: typeof raw.created_at === 'string' ? raw.created_at : new Date().toISOString(),
    status: null, error: null, id: null, seq: null, edited_at: null, recalled: false, transport: 'p2p',
  };
  const stick = nearBottom();
  showPending(v, item);
  clearTyping(v, sender);
  decorate();
  if (stick) scrollToBottom();
  return true;
}

/** The peer's server send was refused: what it showed us directly must go. */
export function retractDirect(clientId) {
  state.viaPeer.delete(clientId);
  const v = state.view;
  const pend = v && v.pending.get(clientId);
  if (!pend || pend.sender === state.me.id) return;
  v.pending.delete(clientId);
  pend.el.remove();
  decorate();
}

/** Our message reached the peer over the data channel (the peer acknowledged it). */
export function markTransport(clientId) {
  state.viaPeer.add(clientId);
  const v = state.view;
  if (!v) return;
  const msg = v.pending.get(clientId) || storedByClientId(v, clientId, state.me.id);
  if (msg && msg.el) msg.el.dataset.transport = 'p2p';
}
