/* Message renderers, keyed by a message's app. The chat registers 'chat'; office apps
 * register theirs from their modules (client.js). */

import { appLabel } from './config.js';
import { h } from './dom.js';
import { gettext, fill } from './i18n.js';
import { render as renderMarkup, sanitize } from './markup.js';
import { splitMentions } from './mentions.js';
import { state } from './state.js';
import { MAX_TEXT_CHARS, previewText } from './text.js';

const renderers = new Map();
const fromPeers = new Map(); // app -> what of a peer's direct copy to show (docs/p2p.md)
const previews = new Map(); // app -> fn(body) -> the text of its one-line preview
let registered = () => {};

/** Called with the app whenever a renderer is registered (the open view re-renders). */
export function onRegister(fn) { registered = fn; }

/** Register fn(body, message) -> HTMLElement as the renderer of messages of `app`.
 * With `options.fromPeer(body) -> body | null`, messages of `app` may also come straight
 * from the other person over a data channel: it takes what the peer sent, which no
 * server has checked, and returns the body to show until the server's copy replaces it
 * (or null to refuse it). That body must be safe in the renderer whatever the peer put
 * in: no markup, no links. An app without it never travels directly.
 * With `options.preview(body) -> string`, the inbox and notifications show
 * "[label] <that text>" for a message that arrives live (in the reader's language, as
 * the server's own preview is); without it, the body's title, summary, text or name. */
export function register(app, fn, options) {
  if (typeof app !== 'string' || !app || typeof fn !== 'function') {
    throw new TypeError('register(app: string, fn: function)');
  }
  renderers.set(app, fn);
  if (options && typeof options.fromPeer === 'function') fromPeers.set(app, options.fromPeer);
  else fromPeers.delete(app);
  if (options && typeof options.preview === 'function') previews.set(app, options.preview);
  else previews.delete(app);
  registered(app);
}

/** One line of plain text for a message, by its app: the sidebar and notifications. */
export function preview(msg) {
  if (!msg) return '';
  let text = null;
  const fn = previews.get(msg.app);
  if (fn && !msg.recalled) {
    try { text = fn(msg.body || {}); } catch (e) { text = null; }
  }
  return previewText(msg, { label: appLabel(msg.app), text });
}

/** Whether messages of this app may go to the peer directly. */
export const travelsDirect = (app) => fromPeers.has(app);
export const fromPeer = (app) => fromPeers.get(app) || null;

/** A message read back from this device's storage (offline.js), as the renderers may take
 * it. Nothing kept there is trusted as markup: the `html` of its body (a chat message's,
 * an announcement's) goes through the server's allow-list again, and is dropped where
 * that cannot run (the text then shows as plain text). A chat message kept without its
 * html (one's own, kept from its ack) has it made from its text, as the server would. */
export function fromSaved(msg) {
  const body = Object.assign({}, msg.body);
  if (msg.app === 'chat' && !msg.recalled && typeof body.html !== 'string' && typeof body.text === 'string') {
    const made = chatFromPeer(body);
    if (made) return Object.assign({}, msg, { body: Object.assign(body, made) });
  }
  if ('html' in body) {
    let html = null;
    if (typeof body.html === 'string') {
      try { html = sanitize(body.html); } catch (e) { html = null; }
    }
    if (typeof html === 'string') body.html = html;
    else delete body.html;
  }
  return Object.assign({}, msg, { body });
}

/** What a renderer sees of a message. */
export function publicMessage(msg) {
  return {
    id: msg.id, conversation: msg.conversation, seq: msg.seq, sender: msg.sender, app: msg.app,
    body: msg.body, created_at: msg.created_at, client_id: msg.client_id, edited_at: msg.edited_at,
    recalled: !!msg.recalled, own: msg.sender === state.me.id, transport: 'relay',
    mentions: Array.isArray(msg.mentions) ? msg.mentions : [],
  };
}

function fallbackRenderer(body, message) {
  const card = h('div', { class: 'app-card' });
  card.append(h('div', { class: 'app-card-head' },
    h('span', { class: 'badge' }, appLabel(message.app || '?')),
    h('span', { class: 'muted small' }, fill(gettext('“{app}” message'), { app: appLabel(message.app || '?') }))));
  let summary = '';
  if (body && typeof body === 'object') {
    for (const k of ['title', 'summary', 'text', 'name', 'subject']) {
      if (typeof body[k] === 'string' && body[k].trim()) { summary = body[k]; break; }
    }
  }
  if (summary) card.append(h('div', { class: 'app-card-summary', text: summary }));
  let json;
  try { json = JSON.stringify(body, null, 2); } catch (e) { json = String(body); }
  if (json && json.length > 1200) json = json.slice(0, 1200) + '…';
  const details = h('details', { class: 'app-card-details' }, h('summary', { text: gettext('Details') }), h('pre', { text: json || '' }));
  if (!summary) details.open = true;
  card.append(details);
  return card;
}

/** Render a message body to an element, falling back to a neutral card. */
export function render(msg) {
  if (msg.recalled) return h('div', { class: 'msg-text msg-recalled', text: gettext('This message was recalled') });
  const pub = publicMessage(msg);
  const fn = renderers.get(msg.app);
  if (fn) {
    try {
      const el = fn(msg.body || {}, pub);
      if (el instanceof Node) return el;
    } catch (e) {
      console.warn('Switchboard: the renderer of "%s" failed', msg.app, e);
    }
  }
  return fallbackRenderer(msg.body || {}, pub);
}

/** `@username` of the conversation's members marked in rendered text (not in code or
 * links): `mention`, and `mention-me` for mine. Done on the rendered page, so the HTML
 * stays the server's (and markup.js's) byte for byte. */
function markMentions(root, conversationId) {
  const conv = state.convs.get(conversationId);
  const names = new Set((conv && conv.members || []).map((m) => m.username).filter(Boolean));
  if (!names.size || !root.textContent.includes('@')) return;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
    acceptNode: (n) => (n.nodeValue.includes('@') && !n.parentElement.closest('code, pre, a') ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_REJECT),
  });
  const found = [];
  while (walker.nextNode()) found.push(walker.currentNode);
  for (const node of found) {
    const parts = splitMentions(node.nodeValue, names);
    if (!parts.some((p) => typeof p !== 'string')) continue;
    node.replaceWith(...parts.map((p) => (typeof p === 'string' ? p : h('span', {
      class: 'mention' + (p.mention === state.me.username ? ' mention-me' : ''), 'data-testid': 'mention', text: p.text,
    }))));
  }
}

function chatRenderer(body, message) {
  const div = h('div', { class: 'msg-text' });
  if (body && typeof body.html === 'string' && body.html.trim()) {
    // Sanitised by the server, or for a peer's copy made here from its text (chatFromPeer).
    div.innerHTML = body.html;
    for (const a of div.querySelectorAll('a[href]')) {
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
    }
  } else {
    div.classList.add('msg-plain');
    div.textContent = body && typeof body.text === 'string' ? body.text : '';
  }
  if (message) markMentions(div, message.conversation);
  return div;
}

/** A peer's copy of a chat message: its text, and the HTML the server will make of it
 * made here by the same rules (markup.js). Whatever else the peer sent, its `html`
 * above all, is dropped. */
function chatFromPeer(body) {
  const text = body.text;
  if (typeof text !== 'string' || !text.trim() || [...text].length > MAX_TEXT_CHARS) return null;
  let html = null;
  try { html = renderMarkup(text); } catch (e) { html = null; }
  return typeof html === 'string' ? { text, html } : { text }; // without html: plain text
}

register('chat', chatRenderer, { fromPeer: chatFromPeer });
