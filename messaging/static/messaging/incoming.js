/* What the server sends: each frame type of docs/protocol.md and what it changes on the
 * page. */

import { addToView, checkGap, markRead, openConversation, showTyping, updateMessage } from './conversation.js';
import { pageActive } from './dom.js';
import { fill, gettext } from './i18n.js';
import { mentionsMe } from './mentions.js';
import { fillMeta } from './messages.js';
import { keepMessages, keepUpdate } from './offline.js';
import { followAgain, myPresence, onPresence, onPresenceSubscribed } from './presence.js';
import { afterOwnStored, onAck, onSendError } from './send.js';
import { applySettings } from './sidebar.js';
import { preview } from './renderers.js';
import { onFrame, sendFrame, sessionInDoubt, setConnState, wasOnline } from './socket.js';
import {
  changed, convTitle, fetchConversation, learnUser, loadLastId, noteLastId, noteReadBy, refreshConversations, state, userName,
} from './state.js';
import { clip, mergeReactions, normaliseMessage, parseDate } from './text.js';

function onHello(f) {
  if (f.user && f.user.id && state.me.id && f.user.id !== state.me.id) {
    location.reload(); // the session now belongs to someone else
    return;
  }
  if (f.user && f.user.id) {
    state.me = Object.assign({}, state.me, f.user);
    learnUser(state.me);
    if (!state.lastId) state.lastId = loadLastId();
  }
  setConnState('online');
  followAgain();
  sendFrame({ type: 'sync', after: state.lastId });
  if (myPresence() === 'away') sendFrame({ type: 'presence', status: 'away' });
  state.outbox.resendAll();
  if (wasOnline()) refreshConversations();
  if (state.view && !state.view.loading) { checkGap(state.view); markRead(); }
}

function onMessage(f) {
  const m = normaliseMessage(f);
  noteLastId(m.id);
  const own = m.sender === state.me.id;
  if (own && m.client_id && state.outbox.has(m.client_id)) {
    // Stored, but the ack went to a socket that died: the same message, not a new one.
    afterOwnStored(state.outbox.stored(m.client_id, m), m);
    return;
  }
  const conv = state.convs.get(m.conversation);
  if (!conv) {
    // A conversation this page does not know yet (a new group, a first direct message).
    // Messages that come while it is fetched were stored after the answer, or in it:
    // each is taken again once the conversation is known, and counts only if newer.
    fetchConversation(m.conversation).then((c) => {
      if (c && m.seq > c.last_seq) onMessage(f);
      else if (c && !own) notify(m, c);
    });
    return;
  }
  const isNew = m.seq > conv.last_seq;
  if (isNew) {
    conv.last_seq = m.seq;
    conv.last_message = m;
  } else if (conv.last_message && conv.last_message.id === m.id) conv.last_message = m;
  const v = state.view;
  const isOpen = v && v.id === m.conversation;
  if (isOpen) addToView(v, [m], {});
  else keepMessages(m.conversation, [m]);
  if (isNew) {
    if (own) {
      conv.last_read_seq = Math.max(conv.last_read_seq, m.seq);
      conv.unread = Math.max(0, conv.last_seq - conv.last_read_seq);
    } else if (m.seq > conv.last_read_seq) {
      if (!(isOpen && !v.loading && pageActive())) {
        conv.unread += 1; // else markRead() follows
        if (mentionsMe(m, state.me.id)) conv.mentions = (conv.mentions || 0) + 1;
      }
      notify(m, conv);
    }
  }
  if (isOpen) {
    if (v.hasGap()) checkGap(v);
    markRead();
  }
  changed();
}

function onMessageUpdate(f) {
  const id = Number(f.id);
  const conv = state.convs.get(Number(f.conversation));
  if (conv && conv.last_message && conv.last_message.id === id) {
    Object.assign(conv.last_message, { body: f.body || conv.last_message.body, edited_at: f.edited_at || null, recalled: !!f.recalled });
    changed();
  }
  const v = state.view;
  if (v && v.id === Number(f.conversation)) {
    const msg = v.byId.get(id);
    if (msg) {
      const update = { body: f.body, edited_at: f.edited_at, recalled: !!f.recalled };
      if (Array.isArray(f.mentions)) update.mentions = f.mentions.map(Number).filter(Number.isInteger);
      // Reactions: everyone hears the counts; my own `me` I keep, or it was my change.
      if (Array.isArray(f.reactions)) update.reactions = mergeReactions(msg.reactions, f.reactions, f.reaction, state.me.id);
      updateMessage(msg, update); // kept on this device as well
      return;
    }
  }
  keepUpdate(f); // not on screen: perhaps one kept on this device
}

function onReceipt(f) {
  const convId = Number(f.conversation);
  const user = Number(f.user);
  const seq = Number(f.seq) || 0;
  const conv = state.convs.get(convId);
  if (user === state.me.id) {
    // Read on another device.
    if (conv && seq > conv.last_read_seq) {
      conv.last_read_seq = seq;
      conv.unread = Math.max(0, conv.last_seq - seq);
      changed();
    }
    return;
  }
  noteReadBy(convId, user, seq);
  const v = state.view;
  if (v && v.id === convId) {
    for (const msg of v.byId.values()) {
      if (msg.sender === state.me.id && msg.seq <= seq && msg.status !== 'read') fillMeta(msg);
    }
  }
}

function onTyping(f) {
  const v = state.view;
  const uid = Number(f.user);
  if (!v || v.id !== Number(f.conversation) || uid === state.me.id) return;
  showTyping(v, uid);
}

function onError(f) {
  if (f.client_id) { onSendError(f); return; }
  if (f.code === 'unauthenticated') {
    // The session ended, or changed under this page: a password changed in another tab
    // of this session leaves it signed in under a new cookie. Connecting again tells
    // which, without an API call whose answer to the old cookie could delete the new one.
    sessionInDoubt();
    return;
  }
  console.warn('Switchboard: server error %s: %s', f.code, f.detail);
}

/** Desktop notifications: asked for on the first click, shown while the page is hidden. */
export function askNotificationPermission() {
  if (!('Notification' in window) || Notification.permission !== 'default') return;
  try {
    const r = Notification.requestPermission();
    if (r && r.catch) r.catch(() => {});
  } catch (e) { /* old API */ }
}

function notify(m, conv) {
  if (document.visibilityState !== 'hidden') return;
  if (!('Notification' in window) || Notification.permission !== 'granted') return;
  // A muted conversation notifies of nothing but a message that mentions me.
  if (m.sender === state.me.id || (conv && conv.muted && !mentionsMe(m, state.me.id))) return;
  if (Date.now() - parseDate(m.created_at).getTime() > 10 * 60 * 1000) return; // old news from a resync
  const name = userName(m.sender);
  const title = conv && conv.kind !== 'direct' ? fill(gettext('{name} in {conversation}'), { name, conversation: convTitle(conv) }) : name;
  const body = clip(preview(m), 140);
  try {
    const n = new Notification(title, { body, tag: `switchboard-conversation-${m.conversation}` });
    n.onclick = () => { window.focus(); openConversation(m.conversation); n.close(); };
  } catch (e) { /* e.g. Android Chrome needs a service worker */ }
}

/** Route each frame type to its handler. */
export function listen() {
  onFrame('hello', onHello);
  onFrame('message', onMessage);
  onFrame('ack', onAck);
  onFrame('receipt', onReceipt);
  onFrame('presence', onPresence);
  onFrame('presence_subscribed', onPresenceSubscribed);
  onFrame('typing', onTyping);
  onFrame('message_update', onMessageUpdate);
  onFrame('error', onError);
  onFrame('conversation_update', applySettings);
}
