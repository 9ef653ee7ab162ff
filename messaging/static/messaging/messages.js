/* One message on screen: its bubble, body, time, read ticks and send error. */

import { appLabel } from './config.js';
import { avatar, h } from './dom.js';
import { emit } from './events.js';
import { fill, gettext, LANG, ngettext } from './i18n.js';
import { mentionsMe } from './mentions.js';
import { mayRetry } from './outbox.js';
import { render } from './renderers.js';
import { othersReadUpTo, state, userName } from './state.js';
import { hhmm, parseDate } from './text.js';

const ICONS = {
  sending: '<svg viewBox="0 0 16 16" width="13" height="13" aria-hidden="true"><circle cx="8" cy="8" r="6.2" fill="none" stroke="currentColor" stroke-width="1.5"/><path d="M8 4.6V8l2.3 1.5" fill="none" stroke="currentColor" stroke-width="1.5" stroke-linecap="round"/></svg>',
  delivered: '<svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true"><path d="M3 8.5l3 3 7-7" fill="none" stroke="currentColor" stroke-width="1.7" stroke-linecap="round" stroke-linejoin="round"/></svg>',
  read: '<svg viewBox="0 0 20 16" width="18" height="14" aria-hidden="true"><path d="M1.5 8.5l3 3 7-7M8 11.5l.5.5 7-7.5" fill="none" stroke="currentColor" stroke-width="1.7" stroke-linecap="round" stroke-linejoin="round"/></svg>',
  failed: '<svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true"><circle cx="8" cy="8" r="6.5" fill="currentColor"/><path d="M8 4.5v4.2M8 11v.3" stroke="#fff" stroke-width="1.7" stroke-linecap="round"/></svg>',
};

const STATUS_TEXT = {
  sending: () => gettext('Sending…'),
  delivered: () => gettext('Delivered'),
  read: () => gettext('Read'),
  failed: () => gettext('Not sent'),
};

export function buildMessageEl(msg, conv) {
  const own = msg.sender === state.me.id;
  const showSender = !own && conv && conv.kind !== 'direct';
  const li = h('li', {
    class: 'msg ' + (own ? 'msg-own' : 'msg-other') + (showSender ? ' msg-grouped' : ''),
    'data-testid': 'message',
    'data-transport': transportOf(msg),
    'data-app': msg.app,
    'data-sender': msg.sender,
  });
  const refs = {};
  if (showSender) li.append(refs.avatar = avatar(userName(msg.sender), msg.sender, 'msg-avatar'));
  const main = h('div', { class: 'msg-main' });
  if (showSender) main.append(refs.sender = h('div', { class: 'msg-sender', text: userName(msg.sender) }));
  refs.bubble = h('div', { class: 'msg-bubble' });
  refs.head = h('div', { class: 'msg-head' });
  refs.body = h('div', { class: 'msg-body' });
  refs.meta = h('div', { class: 'msg-meta' });
  refs.bubble.append(refs.head, refs.body, refs.meta);
  // The message menu: a button shown on hover or focus, a right click, or a long press.
  refs.menu = h('button', {
    type: 'button', class: 'msg-menu-button', 'data-testid': 'message-menu-button', 'aria-haspopup': 'menu',
    'aria-label': gettext('Message actions'), title: gettext('Message actions'), text: '⋯',
    onclick: (e) => { e.stopPropagation(); emit('message-menu', { msg, anchor: refs.menu }); },
  });
  refs.reactions = h('div', { class: 'msg-reactions', 'data-testid': 'reactions' });
  const row = h('div', { class: 'msg-row' }, refs.bubble, refs.menu);
  main.append(row, refs.reactions);
  bindLongPress(refs.bubble, () => emit('message-menu', { msg, anchor: refs.menu }));
  refs.bubble.addEventListener('contextmenu', (e) => {
    if (!msg.id || msg.recalled || window.getSelection().toString()) return; // the browser's own menu then
    e.preventDefault();
    emit('message-menu', { msg, anchor: refs.menu });
  });
  refs.error = h('div', { class: 'msg-error', role: 'alert' });
  refs.error.hidden = true;
  main.append(refs.error);
  li.append(main);
  msg.el = li;
  msg.refs = refs;
  fillBody(msg);
  fillMeta(msg);
  return li;
}

/** 'p2p' for a message that came (or, for one's own, was acknowledged) over a data
 * channel; 'relay' for one that came through the server. */
export function transportOf(msg) {
  if (msg.transport === 'p2p' || (msg.client_id && state.viaPeer.has(msg.client_id))) return 'p2p';
  return 'relay';
}

/** A press held for half a second (on a phone) opens the message menu. */
function bindLongPress(el, open) {
  let timer = null;
  let start = null;
  const cancel = () => { clearTimeout(timer); timer = null; };
  el.addEventListener('touchstart', (e) => {
    if (e.touches.length !== 1) return cancel();
    start = { x: e.touches[0].clientX, y: e.touches[0].clientY };
    timer = setTimeout(() => { timer = null; open(); }, 500);
  }, { passive: true });
  el.addEventListener('touchmove', (e) => {
    if (timer && start && Math.hypot(e.touches[0].clientX - start.x, e.touches[0].clientY - start.y) > 10) cancel();
  }, { passive: true });
  el.addEventListener('touchend', cancel);
  el.addEventListener('touchcancel', cancel);
}

/** Above the body: "Forwarded", and the quote of the message this one answers, which
 * jumps to it. Both text only, whatever the server or a peer sent. */
function fillHead(msg) {
  const head = msg.refs.head;
  head.replaceChildren();
  if (msg.recalled) { head.hidden = true; return; }
  if (msg.forwarded) head.append(h('div', { class: 'msg-forwarded', 'data-testid': 'forwarded', text: gettext('Forwarded') }));
  const r = msg.reply_to;
  if (r) {
    const what = r.recalled ? gettext('This message was recalled') : (r.quote || `[${appLabel(r.app)}]`);
    head.append(h('button', {
      type: 'button', class: 'msg-quote', 'data-testid': 'reply-quote', 'data-reply-to': r.id,
      title: gettext('Show the message this answers'),
      onclick: () => emit('message-jump', { conversation: msg.conversation, id: r.id, seq: r.seq }),
    }, h('span', { class: 'msg-quote-name', text: userName(r.sender) }), h('span', { class: 'msg-quote-text', text: what })));
  }
  head.hidden = !head.childElementCount;
}

/** The reactions under the bubble: each emoji with its count, pressed where I gave it. */
export function fillReactions(msg) {
  if (!msg.refs) return;
  const box = msg.refs.reactions;
  const list = msg.recalled ? [] : (msg.reactions || []);
  box.replaceChildren(...list.map((r) => h('button', {
    type: 'button', class: 'reaction' + (r.me ? ' reaction-mine' : ''), 'data-testid': 'reaction', 'data-emoji': r.emoji,
    'aria-pressed': r.me ? 'true' : 'false',
    'aria-label': fill(ngettext('{emoji} {count} reaction', '{emoji} {count} reactions', r.count), { emoji: r.emoji, count: r.count }),
    onclick: () => emit('message-react', { msg, emoji: r.emoji, on: !r.me }),
  }, h('span', { 'aria-hidden': 'true', text: r.emoji }), h('span', { class: 'reaction-count', 'aria-hidden': 'true', text: String(r.count) }))));
  box.hidden = !list.length;
}

export function fillBody(msg) {
  if (!msg.refs) return;
  fillHead(msg);
  fillReactions(msg);
  msg.refs.body.replaceChildren(render(msg));
  msg.el.dataset.app = msg.app;
  msg.el.classList.toggle('msg-is-card', !msg.recalled && msg.app !== 'chat');
  msg.el.classList.toggle('msg-mentions-me', !msg.recalled && mentionsMe(msg, state.me.id));
}

function statusOf(msg) {
  if (msg.sender !== state.me.id) return null;
  if (msg.status === 'sending' || msg.status === 'failed') return msg.status;
  if (msg.seq && othersReadUpTo(msg.conversation) >= msg.seq) return 'read';
  return 'delivered';
}

export function fillMeta(msg) {
  if (!msg.refs) return;
  const el = msg.el;
  if (msg.id) el.dataset.id = msg.id; else delete el.dataset.id;
  msg.refs.menu.hidden = !msg.id || !!msg.recalled || msg.app === 'group'; // stored messages have actions (actions.js)
  if (msg.seq) el.dataset.seq = msg.seq; else delete el.dataset.seq;
  if (msg.client_id) el.dataset.clientId = msg.client_id;
  const status = statusOf(msg);
  if (status) { el.dataset.status = status; msg.status = status; } else delete el.dataset.status;
  const d = parseDate(msg.created_at);
  const meta = msg.refs.meta;
  meta.replaceChildren();
  if (msg.edited_at && !msg.recalled) meta.append(h('span', { class: 'msg-edited', text: gettext('(edited)') }));
  meta.append(h('time', { datetime: d.toISOString(), title: d.toLocaleString(LANG), text: hhmm(d) }));
  if (status) {
    const label = STATUS_TEXT[status]();
    const s = h('span', { class: `msg-status msg-status-${status}`, role: 'img', title: label, 'aria-label': label, 'data-testid': 'message-status' });
    s.innerHTML = ICONS[status];
    meta.append(s);
  }
  const err = msg.refs.error;
  if (status === 'failed') {
    // Retry unless the server would refuse the same message again; Edit puts a chat
    // message's text back into the composer.
    const actions = [];
    if (mayRetry(msg)) actions.push(h('button', { type: 'button', class: 'link msg-retry', 'data-testid': 'retry', text: gettext('Retry'), onclick: () => emit('message-retry', msg.client_id) }));
    if (msg.app === 'chat' && msg.body && typeof msg.body.text === 'string') {
      actions.push(h('button', { type: 'button', class: 'link msg-retry', 'data-testid': 'edit-failed', text: gettext('Edit'), onclick: () => emit('message-reedit', msg.client_id) }));
    }
    actions.push(h('button', { type: 'button', class: 'link msg-retry', 'data-testid': 'discard', text: gettext('Discard'), onclick: () => emit('message-discard', msg.client_id) }));
    err.replaceChildren(h('span', { text: msg.error || gettext('Not sent') }), ' ', ...actions.flatMap((a, i) => (i ? [' · ', a] : [a])));
    err.hidden = false;
  } else {
    err.replaceChildren();
    err.hidden = true;
  }
}
