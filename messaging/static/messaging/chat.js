/* Switchboard web chat: plain ES2020, no build step, no dependencies.
 *
 * Speaks docs/protocol.md: one WebSocket (/ws/, session cookie) for real time, the REST API
 * for lists and history. Office apps add message renderers through
 * window.Switchboard.renderers.register(app, fn(body, message) -> HTMLElement); this file
 * must load before them.
 */
(() => {
  'use strict';

  // ---------------------------------------------------------------------------------------
  // Public namespace and the renderer registry (defined first, before anything can fail).
  // ---------------------------------------------------------------------------------------
  const SB = (window.Switchboard = window.Switchboard || {});
  const rendererMap = new Map();
  const fromPeerMap = new Map(); // app -> what of a peer's direct copy to show (docs/p2p.md)

  const renderers = {
    /** Register fn(body, message) -> HTMLElement as the renderer of messages of `app`.
     * With `options.fromPeer(body) -> body | null`, messages of `app` may also come straight
     * from the other person over a data channel: it takes what the peer sent, which no
     * server has checked, and returns the body to show until the server's copy replaces it
     * (or null to refuse it). That body must be safe in the renderer whatever the peer put
     * in: no markup, no links. An app without it never travels directly. */
    register(app, fn, options) {
      if (typeof app !== 'string' || !app || typeof fn !== 'function') {
        throw new TypeError('Switchboard.renderers.register(app: string, fn: function)');
      }
      rendererMap.set(app, fn);
      if (options && typeof options.fromPeer === 'function') fromPeerMap.set(app, options.fromPeer);
      else fromPeerMap.delete(app);
      rerenderApp(app);
    },
    get(app) { return rendererMap.get(app) || null; },
    has(app) { return rendererMap.has(app); },
    /** Render a message body to an element, falling back to a neutral card. */
    render(message) { return renderBody(message); },
  };
  SB.renderers = renderers;
  SB.events = SB.events || new EventTarget();

  // ---------------------------------------------------------------------------------------
  // Configuration, strings, helpers
  // ---------------------------------------------------------------------------------------
  function readJSON(id, fallback) {
    const el = document.getElementById(id);
    if (!el) return fallback;
    try { return JSON.parse(el.textContent); } catch (e) { return fallback; }
  }

  function fill(s, vars) {
    return vars ? s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m)) : s;
  }
  const STRINGS = readJSON('sb-strings', {});
  function t(key, vars) {
    return fill(Object.prototype.hasOwnProperty.call(STRINGS, key) ? STRINGS[key] : key, vars);
  }
  SB.t = t;

  /** An office app's translator: its own strings (the JSON in the element with this id),
   * then the chat's. `tr.has(key)` tells whether the app has a string of its own. */
  SB.translator = (id) => {
    const own = readJSON(id, {});
    const has = (key) => Object.prototype.hasOwnProperty.call(own, key);
    const tr = (key, vars) => (has(key) ? fill(own[key], vars) : t(key, vars));
    tr.has = has;
    return tr;
  };

  const config = Object.assign({ ws_path: '/ws/', max_body_bytes: 65536, page_size: 50 }, readJSON('sb-config', {}));
  const PAGE = Math.max(1, Math.min(200, Number(config.page_size) || 50));
  const LANG = document.documentElement.lang || undefined;
  const IDLE_MS = 5 * 60 * 1000;
  const PING_EVERY = 25000;
  const PONG_WITHIN = 10000;
  const BACKOFF_BASE = 500;
  const BACKOFF_CAP = 15000;
  const TYPING_EVERY = 3000;
  const TYPING_SHOWN = 4000;

  /** Tiny element builder: h('div', {class: 'x', text: 'y', onclick: fn}, child, ...). */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v === null || v === undefined || v === false) continue;
        if (k === 'class') el.className = v;
        else if (k === 'text') el.textContent = v;
        else if (k === 'dataset') Object.assign(el.dataset, v);
        else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
        else el.setAttribute(k, v === true ? '' : String(v));
      }
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : String(c));
    }
    return el;
  }
  SB.h = h;

  const pad = (n) => String(n).padStart(2, '0');
  const hhmm = (d) => `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  const dayKey = (d) => `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
  function parseDate(s) {
    const d = s ? new Date(s) : new Date();
    return Number.isNaN(d.getTime()) ? new Date() : d;
  }
  function dayLabel(d) {
    const today = new Date();
    const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
    if (dayKey(d) === dayKey(today)) return t('today');
    if (dayKey(d) === dayKey(yesterday)) return t('yesterday');
    const opts = { weekday: 'long', month: 'long', day: 'numeric' };
    if (d.getFullYear() !== today.getFullYear()) opts.year = 'numeric';
    return d.toLocaleDateString(LANG, opts);
  }
  function shortWhen(s) {
    const d = parseDate(s);
    if (dayKey(d) === dayKey(new Date())) return hhmm(d);
    return d.toLocaleDateString(LANG, { month: 'short', day: 'numeric' });
  }

  function uuid() {
    if (window.crypto && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
    // crypto.randomUUID needs a secure context; plain http on a LAN address lacks it.
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const x = Array.from(b, (v) => v.toString(16).padStart(2, '0')).join('');
    return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
  }

  function hue(n) { return (Number(n) * 47) % 360; }
  function avatar(name, seed, extraClass) {
    const el = h('span', { class: 'avatar' + (extraClass ? ' ' + extraClass : ''), 'aria-hidden': 'true' },
      (String(name || '?').trim()[0] || '?').toUpperCase());
    el.style.setProperty('--avatar-hue', String(hue(seed)));
    return el;
  }

  function csrfToken() {
    const input = document.querySelector('#sb-chat input[name=csrfmiddlewaretoken], input[name=csrfmiddlewaretoken]');
    if (input && input.value) return input.value;
    const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : '';
  }

  class ApiError extends Error {
    constructor(status, code, detail) {
      super(detail || code || `HTTP ${status}`);
      this.status = status;
      this.code = code;
      this.detail = detail;
    }
  }

  async function api(method, path, body) {
    const opts = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
    if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    if (method !== 'GET' && method !== 'HEAD') opts.headers['X-CSRFToken'] = csrfToken();
    const res = await fetch(path, opts);
    const text = await res.text();
    let data = null;
    if (text) { try { data = JSON.parse(text); } catch (e) { data = null; } }
    if (!res.ok) {
      if (res.status === 401) signedOut();
      throw new ApiError(res.status, data && data.code, data && data.detail);
    }
    return data;
  }
  SB.api = api;
  const listOf = (d) => (Array.isArray(d) ? d : (d && Array.isArray(d.results) ? d.results : []));

  // ---------------------------------------------------------------------------------------
  // State
  // ---------------------------------------------------------------------------------------
  const state = {
    me: readJSON('sb-user', null) || { id: 0, username: '', display_name: '' },
    users: new Map(),          // id -> {id, username, display_name}
    contacts: [],              // cards from /api/v1/contacts/
    contactIds: new Set(),
    convs: new Map(),          // id -> conversation
    directByUser: new Map(),   // other user id -> direct conversation id
    presence: new Map(),       // user id -> online | away | offline
    readBy: new Map(),         // conversation id -> Map(user id -> seq), from receipts
    outbox: new Map(),         // client_id -> unsent / unacknowledged message
    drafts: new Map(),         // conversation id -> composer text
    viaPeer: new Set(),        // client_ids of messages that went over a data channel
    lastId: 0,                 // newest message id this page has seen
    view: null,                // the open conversation
    loaded: false,
    signedOut: false,
  };
  SB.me = () => Object.assign({}, state.me);

  const LAST_ID_KEY = () => `switchboard:last-message-id:${state.me.id}`;
  function loadLastId() {
    try { return Number(sessionStorage.getItem(LAST_ID_KEY())) || 0; } catch (e) { return 0; }
  }
  function noteLastId(id) {
    id = Number(id) || 0;
    if (id <= state.lastId) return;
    state.lastId = id;
    try { sessionStorage.setItem(LAST_ID_KEY(), String(id)); } catch (e) { /* private mode */ }
  }

  function learnUser(u) {
    if (!u || !u.id) return;
    const known = state.users.get(u.id) || {};
    state.users.set(u.id, Object.assign(known, u));
  }
  function userName(id) {
    if (id === state.me.id) return state.me.display_name || state.me.username;
    const u = state.users.get(id);
    return (u && (u.display_name || u.username)) || t('user_fallback', { id });
  }
  SB.userName = userName;
  // Presence is followed by subscription (docs/protocol.md, "Presence subscriptions"):
  // the people this page shows, at most PRESENCE_MAX of them; the others show no dot.
  const PRESENCE_MAX = 500;
  const presenceFollowed = { sent: null, kept: new Set() };
  const presenceOf = (id) => state.presence.get(id) || (presenceFollowed.kept.has(id) ? 'offline' : 'unknown');
  const presenceTitle = (st) => (st === 'unknown' ? '' : t('presence_' + st));

  /** The people whose presence this page shows: direct partners, then contacts. */
  function presenceWanted() {
    const ids = new Set();
    for (const c of state.convs.values()) {
      const other = otherMember(c);
      if (other) ids.add(other);
    }
    for (const c of state.contacts) ids.add(c.id);
    ids.delete(state.me.id);
    return [...ids].slice(0, PRESENCE_MAX);
  }

  /** Tell the server whom to follow, when that changed since this connection last said. */
  function followPresence() {
    if (!conn.helloed || !state.loaded) return;
    const wanted = presenceWanted();
    const key = [...wanted].sort((a, b) => a - b).join(',');
    if (key === presenceFollowed.sent) return;
    if (sendFrame({ type: 'presence_subscribe', users: wanted }, true)) presenceFollowed.sent = key;
  }

  function onPresenceSubscribed(f) {
    presenceFollowed.kept = new Set((f.users || []).map(Number));
    for (const uid of [...state.presence.keys()]) if (!presenceFollowed.kept.has(uid)) state.presence.delete(uid);
    updatePresenceDots();
  }

  function otherMember(conv) {
    if (!conv || conv.kind !== 'direct') return null;
    const m = (conv.members || []).find((x) => x.id !== state.me.id);
    return m ? m.id : null;
  }
  function convTitle(conv) {
    if (!conv) return '';
    if (conv.kind === 'direct') {
      const other = otherMember(conv);
      if (other) return userName(other);
    }
    return conv.title || t('kind_group');
  }

  function upsertConv(c) {
    if (!c || !c.id) return null;
    (c.members || []).forEach(learnUser);
    const old = state.convs.get(c.id);
    let conv = c;
    if (old) {
      // Never go backwards: a list fetched before a live message must not undo it.
      if ((old.last_seq || 0) > (c.last_seq || 0)) {
        conv = Object.assign({}, c, { last_seq: old.last_seq, last_message: old.last_message, unread: old.unread });
      }
      conv = Object.assign(old, conv);
    }
    conv.unread = Math.max(0, Number(conv.unread) || 0);
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

  function noteReadBy(convId, userId, seq) {
    let m = state.readBy.get(convId);
    if (!m) state.readBy.set(convId, (m = new Map()));
    if ((m.get(userId) || 0) < seq) m.set(userId, seq);
  }
  function othersReadUpTo(convId) {
    const m = state.readBy.get(convId);
    if (!m) return 0;
    let best = 0;
    for (const [uid, seq] of m) if (uid !== state.me.id && seq > best) best = seq;
    return best;
  }

  // ---------------------------------------------------------------------------------------
  // DOM references
  // ---------------------------------------------------------------------------------------
  const $ = (id) => document.getElementById(id);
  const ui = {
    root: $('sb-chat'),
    conn: document.querySelector('#sb-chat [data-testid="connection-state"]'),
    filter: $('sb-filter'),
    convList: $('sb-conversations'),
    contacts: $('sb-contacts'),
    empty: $('sb-empty'),
    pane: $('sb-conversation'),
    back: $('sb-back'),
    headAvatar: $('sb-head-avatar'),
    headTitle: $('sb-head-title'),
    headSub: $('sb-head-sub'),
    transport: $('sb-transport'),
    history: $('sb-history'),
    historyTop: $('sb-history-top'),
    list: $('sb-messages'),
    jump: $('sb-jump'),
    jumpCount: $('sb-jump-count'),
    typing: $('sb-typing'),
    form: $('sb-composer-form'),
    composer: $('sb-composer'),
    composerError: $('sb-composer-error'),
    toast: $('sb-toast'),
    newGroup: $('sb-new-group'),
    dialog: $('sb-group-dialog'),
    groupForm: $('sb-group-form'),
    groupTitle: $('sb-group-title'),
    groupFilter: $('sb-group-filter'),
    groupMembers: $('sb-group-members'),
    groupError: $('sb-group-error'),
    groupCancel: $('sb-group-cancel'),
  };
  const contactEls = new Map(); // user id -> {item, dot, badge}

  let toastTimer = null;
  function toast(text) {
    if (!ui.toast) return;
    ui.toast.textContent = text;
    ui.toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { ui.toast.hidden = true; }, 5000);
  }

  const isNarrow = () => window.matchMedia('(max-width: 720px)').matches;
  const pageActive = () => document.visibilityState === 'visible' && document.hasFocus();

  // ---------------------------------------------------------------------------------------
  // Message rendering
  // ---------------------------------------------------------------------------------------
  function publicMessage(msg) {
    return {
      id: msg.id, conversation: msg.conversation, seq: msg.seq, sender: msg.sender, app: msg.app,
      body: msg.body, created_at: msg.created_at, client_id: msg.client_id, edited_at: msg.edited_at,
      recalled: !!msg.recalled, own: msg.sender === state.me.id, transport: 'relay',
    };
  }

  function fallbackRenderer(body, message) {
    const card = h('div', { class: 'app-card' });
    card.append(h('div', { class: 'app-card-head' },
      h('span', { class: 'badge' }, message.app || '?'),
      h('span', { class: 'muted small' }, t('app_message', { app: message.app || '?' }))));
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
    const details = h('details', { class: 'app-card-details' }, h('summary', { text: t('details') }), h('pre', { text: json || '' }));
    if (!summary) details.open = true;
    card.append(details);
    return card;
  }

  function chatRenderer(body) {
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
    return div;
  }

  // messaging/handlers.py MAX_TEXT_CHARS: the server refuses longer text, in code points.
  const MAX_TEXT_CHARS = 10000;

  /** A peer's copy of a chat message: its text, and the HTML the server will make of it
   * made here by the same rules (markup.js). Whatever else the peer sent, its `html`
   * above all, is dropped. */
  function chatFromPeer(body) {
    const text = body.text;
    if (typeof text !== 'string' || !text.trim() || [...text].length > MAX_TEXT_CHARS) return null;
    let html = null;
    try { html = SB.markup ? SB.markup.render(text) : null; } catch (e) { html = null; }
    return typeof html === 'string' ? { text, html } : { text }; // without html: plain text
  }

  function renderBody(msg) {
    if (msg.recalled) return h('div', { class: 'msg-text msg-recalled', text: t('recalled') });
    const pub = publicMessage(msg);
    const fn = rendererMap.get(msg.app);
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

  function previewText(msg) {
    if (!msg) return '';
    if (msg.recalled) return t('recalled');
    const b = msg.body || {};
    if (msg.app === 'chat') return typeof b.text === 'string' ? b.text.replace(/\s+/g, ' ').trim() : '';
    for (const k of ['title', 'summary', 'text']) if (typeof b[k] === 'string' && b[k].trim()) return `[${msg.app}] ${b[k].trim()}`;
    return t('app_message', { app: msg.app });
  }

  const ICONS = {
    sending: '<svg viewBox="0 0 16 16" width="13" height="13" aria-hidden="true"><circle cx="8" cy="8" r="6.2" fill="none" stroke="currentColor" stroke-width="1.5"/><path d="M8 4.6V8l2.3 1.5" fill="none" stroke="currentColor" stroke-width="1.5" stroke-linecap="round"/></svg>',
    delivered: '<svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true"><path d="M3 8.5l3 3 7-7" fill="none" stroke="currentColor" stroke-width="1.7" stroke-linecap="round" stroke-linejoin="round"/></svg>',
    read: '<svg viewBox="0 0 20 16" width="18" height="14" aria-hidden="true"><path d="M1.5 8.5l3 3 7-7M8 11.5l.5.5 7-7.5" fill="none" stroke="currentColor" stroke-width="1.7" stroke-linecap="round" stroke-linejoin="round"/></svg>',
    failed: '<svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true"><circle cx="8" cy="8" r="6.5" fill="currentColor"/><path d="M8 4.5v4.2M8 11v.3" stroke="#fff" stroke-width="1.7" stroke-linecap="round"/></svg>',
  };

  function buildMessageEl(msg, conv) {
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
    refs.body = h('div', { class: 'msg-body' });
    refs.meta = h('div', { class: 'msg-meta' });
    refs.bubble.append(refs.body, refs.meta);
    main.append(refs.bubble);
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
  function transportOf(msg) {
    if (msg.transport === 'p2p' || (msg.client_id && state.viaPeer.has(msg.client_id))) return 'p2p';
    return 'relay';
  }

  function fillBody(msg) {
    if (!msg.refs) return;
    msg.refs.body.replaceChildren(renderBody(msg));
    msg.el.dataset.app = msg.app;
    msg.el.classList.toggle('msg-is-card', !msg.recalled && msg.app !== 'chat');
  }

  function statusOf(msg) {
    if (msg.sender !== state.me.id) return null;
    if (msg.status === 'sending' || msg.status === 'failed') return msg.status;
    if (msg.seq && othersReadUpTo(msg.conversation) >= msg.seq) return 'read';
    return 'delivered';
  }

  function fillMeta(msg) {
    if (!msg.refs) return;
    const el = msg.el;
    if (msg.id) el.dataset.id = msg.id; else delete el.dataset.id;
    if (msg.seq) el.dataset.seq = msg.seq; else delete el.dataset.seq;
    if (msg.client_id) el.dataset.clientId = msg.client_id;
    const status = statusOf(msg);
    if (status) { el.dataset.status = status; msg.status = status; } else delete el.dataset.status;
    const d = parseDate(msg.created_at);
    const meta = msg.refs.meta;
    meta.replaceChildren();
    if (msg.edited_at && !msg.recalled) meta.append(h('span', { class: 'msg-edited', text: t('edited') }));
    meta.append(h('time', { datetime: d.toISOString(), title: d.toLocaleString(LANG), text: hhmm(d) }));
    if (status) {
      const s = h('span', { class: `msg-status msg-status-${status}`, title: t('status_' + status), 'aria-label': t('status_' + status), 'data-testid': 'message-status' });
      s.innerHTML = ICONS[status];
      meta.append(s);
    }
    const err = msg.refs.error;
    if (status === 'failed') {
      err.replaceChildren(
        h('span', { text: msg.error || t('status_failed') }), ' ',
        h('button', { type: 'button', class: 'link msg-retry', 'data-testid': 'retry', text: t('retry'), onclick: () => retrySend(msg.client_id) }),
        ' · ',
        h('button', { type: 'button', class: 'link msg-retry', 'data-testid': 'discard', text: t('discard'), onclick: () => discardSend(msg.client_id) }));
      err.hidden = false;
    } else {
      err.replaceChildren();
      err.hidden = true;
    }
  }

  /** A renderer registered late re-renders the messages of its app already on screen. */
  function rerenderApp(app) {
    const v = state.view;
    if (!v) return;
    for (const msg of v.all()) if (msg.app === app && msg.el) fillBody(msg);
  }

  // ---------------------------------------------------------------------------------------
  // Sidebar: conversations and contacts
  // ---------------------------------------------------------------------------------------
  let sidebarQueued = false;
  function scheduleSidebar() {
    if (sidebarQueued) return;
    sidebarQueued = true;
    queueMicrotask(() => { sidebarQueued = false; renderSidebar(); });
  }

  function unreadBadge(n) {
    const b = h('span', { class: 'badge badge-unread', 'data-testid': 'unread' });
    setBadge(b, n);
    return b;
  }
  function setBadge(b, n) {
    n = Number(n) || 0;
    b.textContent = n > 99 ? '99+' : String(n);
    b.dataset.count = String(n);
    b.hidden = n <= 0;
  }

  function presenceDot(uid) {
    const st = presenceOf(uid);
    return h('span', { class: 'presence-dot', 'data-testid': 'presence', 'data-status': st, title: presenceTitle(st) });
  }

  function convActivity(c) {
    return (c.last_message && (Date.parse(c.last_message.created_at) || 0)) || Date.parse(c.created_at || '') || 0;
  }

  function renderSidebar() {
    followPresence();
    renderConversations();
    updateContactBadges();
    updateTitle();
    applyFilter();
  }

  function renderConversations() {
    const focusedId = document.activeElement && document.activeElement.closest && document.activeElement.closest('[data-testid="conversation"]');
    const focusKey = focusedId ? focusedId.dataset.id : null;
    const list = [...state.convs.values()]
      .filter((c) => c.kind !== 'direct' || !state.contactIds.has(otherMember(c)))
      .filter((c) => c.kind !== 'direct' || c.last_message) // a stranger's empty direct chat is noise
      .sort((a, b) => convActivity(b) - convActivity(a) || b.id - a.id);
    const openId = state.view && state.view.id;
    const items = list.map((c) => {
      const other = otherMember(c);
      const last = c.last_message;
      const preview = last ? (last.sender === state.me.id ? t('you_prefix') : (c.kind !== 'direct' ? userName(last.sender) + ': ' : '')) + previewText(last) : '';
      const av = h('span', { class: 'avatar-wrap' }, avatar(c.kind === 'direct' ? userName(other) : (c.title || '#'), c.kind === 'direct' ? other : 1000 + c.id, c.kind === 'direct' ? '' : 'avatar-square'));
      if (c.kind === 'direct' && other) av.append(presenceDot(other));
      const btn = h('button', {
        type: 'button',
        class: 'chat-item' + (c.id === openId ? ' active' : '') + (c.unread ? ' has-unread' : ''),
        'data-testid': 'conversation', 'data-id': c.id, 'data-kind': c.kind,
        'aria-current': c.id === openId ? 'true' : null,
        onclick: () => { openToken++; openConversation(c.id); },
      },
      av,
      h('span', { class: 'chat-item-main' },
        h('span', { class: 'chat-item-title' }, convTitle(c),
          c.kind !== 'direct' ? h('span', { class: 'chat-kind', text: t('kind_' + c.kind) }) : null),
        h('span', { class: 'chat-item-sub', text: preview })),
      h('span', { class: 'chat-item-side' },
        last ? h('time', { class: 'chat-item-time', text: shortWhen(last.created_at) }) : null,
        unreadBadge(c.unread)));
      btn.dataset.search = (convTitle(c) + ' ' + (c.members || []).map((m) => `${m.display_name} ${m.username}`).join(' ')).toLowerCase();
      return h('li', null, btn);
    });
    if (!items.length) items.push(h('li', { class: 'muted small chat-list-note', text: t('no_conversations') }));
    ui.convList.replaceChildren(...items);
    if (focusKey) {
      const again = ui.convList.querySelector(`[data-testid="conversation"][data-id="${CSS.escape(focusKey)}"]`);
      if (again) again.focus();
    }
  }

  function renderContacts() {
    contactEls.clear();
    if (!state.contacts.length) {
      ui.contacts.replaceChildren(h('p', { class: 'muted small chat-list-note', text: t('no_contacts') }));
      return;
    }
    const groups = new Map();
    for (const c of state.contacts) {
      const key = c.department ? c.department.name : '';
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(c);
    }
    const keys = [...groups.keys()].sort((a, b) => (a === '' ? 1 : b === '' ? -1 : 0)); // stable; "other" last
    const sections = keys.map((key) => {
      const people = groups.get(key);
      const ul = h('ul', { class: 'chat-list' }, people.map((p) => {
        const dot = presenceDot(p.id);
        const badge = unreadBadge(0);
        const item = h('button', {
          type: 'button', class: 'chat-item', 'data-testid': 'contact', 'data-username': p.username, 'data-user-id': p.id,
          onclick: () => openDirect(p.id),
        },
        h('span', { class: 'avatar-wrap' }, avatar(p.display_name || p.username, p.id), dot),
        h('span', { class: 'chat-item-main' },
          h('span', { class: 'chat-item-title', text: p.display_name || p.username }),
          h('span', { class: 'chat-item-sub', text: p.title || '@' + p.username })),
        h('span', { class: 'chat-item-side' }, badge));
        item.dataset.search = `${p.display_name} ${p.username} ${p.title || ''} ${key}`.toLowerCase();
        contactEls.set(p.id, { item, dot, badge });
        return h('li', null, item);
      }));
      return h('div', { class: 'chat-dept', 'data-testid': 'department' },
        h('h3', { class: 'chat-dept-title', text: key || t('no_department') }), ul);
    });
    ui.contacts.replaceChildren(...sections);
    updateContactBadges();
    updatePresenceDots();
  }

  function updateContactBadges() {
    const openId = state.view && state.view.id;
    for (const [uid, refs] of contactEls) {
      const convId = state.directByUser.get(uid);
      const conv = convId && state.convs.get(convId);
      setBadge(refs.badge, conv ? conv.unread : 0);
      const active = !!convId && convId === openId;
      refs.item.classList.toggle('active', active);
      refs.item.classList.toggle('has-unread', !!(conv && conv.unread));
      if (active) refs.item.setAttribute('aria-current', 'true'); else refs.item.removeAttribute('aria-current');
    }
  }

  function updatePresenceDots() {
    for (const [uid, refs] of contactEls) {
      const st = presenceOf(uid);
      refs.dot.dataset.status = st;
      refs.dot.title = presenceTitle(st);
    }
    for (const btn of ui.convList.querySelectorAll('[data-testid="conversation"][data-kind="direct"]')) {
      const conv = state.convs.get(Number(btn.dataset.id));
      const dot = btn.querySelector('.presence-dot');
      if (conv && dot) {
        const st = presenceOf(otherMember(conv));
        dot.dataset.status = st;
        dot.title = presenceTitle(st);
      }
    }
    renderHeader();
  }

  function applyFilter() {
    const q = (ui.filter.value || '').trim().toLowerCase();
    const match = (el) => !q || q.split(/\s+/).every((w) => (el.dataset.search || '').includes(w));
    for (const btn of ui.convList.querySelectorAll('[data-testid="conversation"]')) btn.parentElement.hidden = !match(btn);
    let any = false;
    for (const dept of ui.contacts.querySelectorAll('.chat-dept')) {
      let shown = 0;
      for (const btn of dept.querySelectorAll('[data-testid="contact"]')) {
        const ok = match(btn);
        btn.parentElement.hidden = !ok;
        if (ok) shown++;
      }
      dept.hidden = shown === 0;
      if (shown) any = true;
    }
    let note = ui.contacts.querySelector('.chat-no-match');
    if (q && !any && state.contacts.length) {
      if (!note) ui.contacts.append(note = h('p', { class: 'muted small chat-list-note chat-no-match', text: t('no_match') }));
    } else if (note) note.remove();
  }

  const baseTitle = document.title;
  function updateTitle() {
    let n = 0;
    for (const c of state.convs.values()) n += c.unread || 0;
    document.title = n ? `(${n}) ${baseTitle}` : baseTitle;
  }

  // ---------------------------------------------------------------------------------------
  // The open conversation
  // ---------------------------------------------------------------------------------------
  class ConversationView {
    constructor(id) {
      this.id = id;
      this.byId = new Map();
      this.bySeq = new Map();
      this.pending = new Map(); // client_id -> msg (own, not yet acknowledged)
      this.minSeq = null;
      this.contig = 0;          // every seq from minSeq to contig is loaded
      this.hasMore = false;
      this.loading = true;
      this.loadingOlder = false;
      this.filling = false;
      this.buffer = [];         // live messages that arrived during the first load
      this.typing = new Map();  // user id -> timeout
      this.unseen = 0;
      this.closed = false;
    }
    *all() {
      yield* this.byId.values();
      yield* this.pending.values();
    }
    maxSeq() {
      let m = 0;
      for (const s of this.bySeq.keys()) if (s > m) m = s;
      return m;
    }
  }

  /** The path messages of the open conversation take now: straight to the peer, or
   * through the server. Only a direct conversation can go peer-to-peer. */
  function renderTransport() {
    const v = state.view;
    const conv = v && state.convs.get(v.id);
    if (!ui.transport || !conv) return;
    const other = otherMember(conv);
    const path = other && SB.transport ? SB.transport.stateFor(other) : 'relay';
    ui.transport.dataset.state = path;
    ui.transport.classList.toggle('badge-ok', path === 'p2p');
    ui.transport.textContent = t(path === 'p2p' ? 'transport_p2p' : 'transport_relay');
    ui.transport.title = t(path === 'p2p' ? 'transport_p2p_hint' : 'transport_relay_hint');
  }

  function renderHeader() {
    const v = state.view;
    if (!v) return;
    const conv = state.convs.get(v.id);
    if (!conv) return;
    renderTransport();
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
      const label = t(n === 1 ? 'members_one' : 'members_many', { n });
      const names = members.map((m) => (m.id === state.me.id ? state.me.display_name || m.display_name : m.display_name || m.username)).join(', ');
      ui.headSub.replaceChildren(h('span', { class: 'chat-kind', text: t('kind_' + conv.kind) }), ' ', h('span', { title: names, text: label }));
    }
  }

  function showPane(open) {
    ui.empty.hidden = open;
    ui.pane.hidden = !open;
    ui.root.dataset.view = open ? 'conversation' : 'list';
  }

  async function openConversation(id, opts = {}) {
    id = Number(id);
    const { push = true } = opts;
    if (state.view && state.view.id === id) {
      showPane(true);
      if (push) setHash(id);
      return;
    }
    let conv = state.convs.get(id);
    if (!conv) {
      conv = await fetchConversation(id);
      if (!conv) { toast(t('could_not_open')); return; }
    }
    closeView();
    const v = (state.view = new ConversationView(id));
    showPane(true);
    renderHeader();
    ui.list.replaceChildren();
    ui.typing.textContent = '';
    ui.jump.hidden = true;
    setHistoryTop('loading');
    ui.composer.value = state.drafts.get(id) || '';
    autoGrow();
    hideComposerError();
    if (push) setHash(id);
    scheduleSidebar();
    if (!isNarrow()) ui.composer.focus({ preventScroll: true });
    SB.events.dispatchEvent(new CustomEvent('conversation-open', { detail: { id, peer: otherMember(conv) } }));
    await loadNewest(v);
  }

  function closeView() {
    const v = state.view;
    if (!v) return;
    state.drafts.set(v.id, ui.composer.value);
    for (const tm of v.typing.values()) clearTimeout(tm);
    v.closed = true;
    state.view = null;
  }

  function closeConversation() {
    closeView();
    showPane(false);
    scheduleSidebar();
  }

  function setHash(id) {
    const want = `#conversation-${id}`;
    if (location.hash !== want) history.pushState({ sbConversation: id }, '', want);
  }
  function hashConversation() {
    const m = location.hash.match(/^#conversation-(\d+)$/);
    return m ? Number(m[1]) : null;
  }

  function setHistoryTop(what) {
    const v = state.view;
    ui.historyTop.replaceChildren();
    ui.historyTop.dataset.state = what || '';
    if (what === 'loading') ui.historyTop.append(h('span', { class: 'chat-spinner', 'aria-hidden': 'true' }), ' ', t('loading'));
    else if (what === 'error') {
      ui.historyTop.append(t('load_failed'), ' ',
        h('button', { type: 'button', class: 'link', text: t('try_again'), onclick: () => (v && v.minSeq ? loadOlder(v) : v && loadNewest(v)) }));
    } else if (what === 'start') {
      if (!v || (v.byId.size === 0 && v.pending.size === 0)) ui.historyTop.append(h('div', { class: 'chat-start', text: t('no_messages') }));
    }
  }

  async function loadNewest(v) {
    v.loading = true;
    setHistoryTop('loading');
    let res;
    try {
      res = await api('GET', `/api/v1/conversations/${v.id}/messages/?limit=${PAGE}`);
    } catch (e) {
      if (v.closed) return;
      setHistoryTop('error');
      return;
    }
    if (v.closed) return;
    const results = listOf(res);
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
    setHistoryTop(v.hasMore ? '' : 'start');
    scrollToBottom();
    checkGap(v);
    markRead();
    // A short first page does not fill the pane: load more until it does.
    queueMicrotask(() => maybeLoadOlder());
  }

  async function loadOlder(v) {
    if (!v || v.loading || v.loadingOlder || !v.hasMore || !v.minSeq) return;
    v.loadingOlder = true;
    setHistoryTop('loading');
    let res;
    try {
      res = await api('GET', `/api/v1/conversations/${v.id}/messages/?before=${v.minSeq}&limit=${PAGE}`);
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

  function maybeLoadOlder() {
    const v = state.view;
    if (!v || v.loading || v.loadingOlder || !v.hasMore) return;
    if (ui.history.scrollTop < 80 || ui.history.scrollHeight <= ui.history.clientHeight + 10) loadOlder(v);
  }

  function nearBottom() {
    return ui.history.scrollHeight - ui.history.scrollTop - ui.history.clientHeight < 120;
  }
  let pinned = true; // the reader is at the newest message: stay there when sizes change
  function scrollToBottom() {
    pinned = true;
    ui.history.scrollTop = ui.history.scrollHeight;
    const v = state.view;
    if (v) v.unseen = 0;
    ui.jump.hidden = true;
  }

  function normaliseMessage(m) {
    return {
      id: Number(m.id), conversation: Number(m.conversation), seq: Number(m.seq), sender: Number(m.sender),
      app: m.app || 'chat', body: m.body || {}, created_at: m.created_at, client_id: m.client_id || null,
      edited_at: m.edited_at || null, recalled: !!m.recalled,
    };
  }

  /** Put messages into the open view: deduplicated by id and client_id, ordered by seq. */
  function addToView(v, messages, { initial = false, older = false } = {}) {
    if (v.closed) return;
    if (v.loading && !initial) { v.buffer.push(...messages); return; }
    const conv = state.convs.get(v.id);
    const stick = initial || nearBottom();
    let added = 0;
    let addedOthers = 0;
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
      v.byId.set(m.id, m);
      v.bySeq.set(m.seq, m);
      place(v, m);
      added++;
      if (m.sender !== state.me.id) { addedOthers++; clearTyping(v, m.sender); }
    }
    if (!added) return;
    advanceContig(v);
    decorate();
    if (older || initial) return;
    if (stick) scrollToBottom();
    else if (addedOthers) {
      v.unseen += addedOthers;
      ui.jumpCount.textContent = t('new_messages') + ` (${v.unseen})`;
      ui.jump.hidden = false;
    }
    if (ui.historyTop.dataset.state === 'start') setHistoryTop('start');
  }

  /** Insert msg.el at its seq position; unacknowledged messages stay at the end. */
  function place(v, msg) {
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

  function advanceContig(v) {
    // An empty conversation at load time has contig 0: seq 1 is the first one expected.
    while (v.bySeq.has(v.contig + 1)) v.contig++;
    if (v.minSeq === null && v.bySeq.size) v.minSeq = Math.min(...v.bySeq.keys());
  }

  /** Day separators and runs of messages from the same sender. */
  function decorate() {
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
        el.before(h('li', { class: 'day-sep', role: 'separator' }, h('span', { text: dayLabel(d) })));
        prevDay = k;
        prevSender = null;
      }
      const cont = prevSender === msg.sender && d.getTime() - prevTime < 5 * 60 * 1000;
      el.classList.toggle('msg-cont', cont);
      prevSender = msg.sender;
      prevTime = d.getTime();
    }
  }

  function updateMessage(existing, m) {
    let bodyChanged = false;
    if (m.body && JSON.stringify(m.body) !== JSON.stringify(existing.body)) { existing.body = m.body; bodyChanged = true; }
    if (m.recalled !== undefined && !!m.recalled !== !!existing.recalled) { existing.recalled = !!m.recalled; bodyChanged = true; }
    if (m.edited_at && m.edited_at !== existing.edited_at) existing.edited_at = m.edited_at;
    if (bodyChanged) fillBody(existing);
    fillMeta(existing);
  }

  /** seq jumped (have 7, got 9): fetch what is missing. */
  async function checkGap(v) {
    if (!v || v.closed || v.loading || v.filling) return;
    if (v.maxSeq() <= v.contig) return;
    v.filling = true;
    try {
      for (let rounds = 0; rounds < 20 && !v.closed; rounds++) {
        const before = v.contig;
        const res = await api('GET', `/api/v1/conversations/${v.id}/messages/?after=${v.contig}&limit=200`);
        if (v.closed) return;
        addToView(v, listOf(res), {});
        if (v.maxSeq() <= v.contig || v.contig === before) break;
      }
    } catch (e) {
      console.warn('Switchboard: could not fill a gap in conversation %s', v.id, e);
    } finally {
      v.filling = false;
    }
    markRead();
  }

  // ---------------------------------------------------------------------------------------
  // Reading
  // ---------------------------------------------------------------------------------------
  let readTimer = null;
  function markRead() {
    clearTimeout(readTimer);
    readTimer = setTimeout(markReadNow, 300);
  }
  function markReadNow() {
    const v = state.view;
    if (!v || v.loading || !pageActive() || ui.pane.hidden) return;
    const conv = state.convs.get(v.id);
    if (!conv) return;
    const seq = Math.max(v.contig, 0);
    if (!seq) return;
    const changed = seq > conv.last_read_seq || conv.unread;
    if (!changed) return;
    const send = seq > conv.last_read_seq;
    conv.last_read_seq = Math.max(conv.last_read_seq, seq);
    conv.unread = Math.max(0, conv.last_seq - conv.last_read_seq);
    scheduleSidebar();
    if (!send) return;
    if (!sendFrame({ type: 'read', conversation: v.id, seq })) {
      api('POST', `/api/v1/conversations/${v.id}/read/`, { seq }).catch(() => {});
    }
  }

  // ---------------------------------------------------------------------------------------
  // Sending
  // ---------------------------------------------------------------------------------------
  function bodySize(body) {
    try { return new TextEncoder().encode(JSON.stringify(body)).length; } catch (e) { return 0; }
  }

  /** Send a message of any app into a conversation; returns its client_id.
   * It always goes to the server (history, other devices, offline delivery); in a direct
   * conversation with an open data channel it also goes straight to the peer. */
  function sendMessage(conversation, app, body, opts = {}) {
    const item = {
      client_id: opts.client_id || uuid(), conversation: Number(conversation), app: app || 'chat', body,
      sender: state.me.id, created_at: new Date().toISOString(), status: 'sending', error: null,
      id: null, seq: null, edited_at: null, recalled: false, transport: 'relay',
    };
    state.outbox.set(item.client_id, item);
    const v = state.view;
    if (v && v.id === item.conversation && !v.loading) {
      showPending(v, item);
      decorate();
      scrollToBottom();
    }
    if (SB.transport) SB.transport.offerMessage(item);
    transmit(item);
    return item.client_id;
  }
  SB.send = sendMessage;

  function showPending(v, item) {
    if (v.pending.has(item.client_id)) return;
    const conv = state.convs.get(v.id);
    buildMessageEl(item, conv);
    v.pending.set(item.client_id, item);
    ui.list.append(item.el);
    if (ui.historyTop.dataset.state === 'start') setHistoryTop('start');
  }

  /* Sends leave in order through a small token bucket (under the server's limit of bursts
   * of 30, then 10 a second), so that a burst from an app is paced rather than refused. */
  const SEND_BURST = 20;
  const SEND_RATE = 8;
  const pacer = { tokens: SEND_BURST, last: Date.now(), queue: [], timer: null };

  function transmit(item) {
    if (item.status !== 'sending') return;
    if (!pacer.queue.includes(item.client_id)) pacer.queue.push(item.client_id);
    pump();
  }

  /** On a new connection every unacknowledged message goes again, oldest first. */
  function resendOutbox() {
    pacer.queue = [...state.outbox.values()].filter((i) => i.status === 'sending').map((i) => i.client_id);
    pump();
  }

  function pump() {
    clearTimeout(pacer.timer);
    pacer.timer = null;
    const now = Date.now();
    pacer.tokens = Math.min(SEND_BURST, pacer.tokens + ((now - pacer.last) / 1000) * SEND_RATE);
    pacer.last = now;
    while (pacer.queue.length) {
      if (!conn.ws || !conn.helloed || conn.ws.readyState !== WebSocket.OPEN) return; // hello pumps again
      const item = state.outbox.get(pacer.queue[0]);
      if (!item || item.status !== 'sending') { pacer.queue.shift(); continue; }
      if (pacer.tokens < 1) {
        pacer.timer = setTimeout(pump, ((1 - pacer.tokens) / SEND_RATE) * 1000 + 5);
        return;
      }
      const frame = { type: 'send', client_id: item.client_id, conversation: item.conversation, app: item.app, body: item.body };
      if (!sendFrame(frame, true)) return;
      pacer.tokens -= 1;
      pacer.queue.shift();
    }
  }

  function retrySend(clientId) {
    const item = state.outbox.get(clientId);
    if (!item) return;
    item.status = 'sending';
    item.error = null;
    item.autoRetries = 0;
    fillMeta(item);
    transmit(item);
  }

  function discardSend(clientId) {
    const item = state.outbox.get(clientId);
    if (!item || item.status !== 'failed') return;
    state.outbox.delete(clientId);
    const v = state.view;
    if (v && v.pending.get(clientId) === item) {
      v.pending.delete(clientId);
      item.el.remove();
      decorate();
      if (ui.historyTop.dataset.state === 'start') setHistoryTop('start');
    }
  }

  function handleAck(f) {
    const item = state.outbox.get(f.client_id);
    noteLastId(f.id);
    if (!item) return; // a repeated ack, or a send from elsewhere
    state.outbox.delete(f.client_id);
    const msg = Object.assign(item, {
      id: Number(f.id), seq: Number(f.seq), created_at: f.created_at || item.created_at, status: 'delivered',
    });
    afterOwnStored(msg, null);
  }

  /** An own message is stored (ack, or the same message seen by client_id). */
  function afterOwnStored(msg, full) {
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

  function promotePending(v, pend, stored) {
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
    v.byId.set(pend.id, pend);
    v.bySeq.set(pend.seq, pend);
    pend.el.remove();
    place(v, pend);
    if (bodyChanged) fillBody(pend);
    fillMeta(pend);
    advanceContig(v);
    decorate();
    if (!bodyChanged && pend.app === 'chat' && looksFormatted(pend.body && pend.body.text)) refreshRendered(v, pend.seq);
    checkGap(v);
  }

  /** The ack carries no html: fetch the server's rendering of formatted text. */
  const refreshQueue = new Set();
  let refreshTimer = null;
  function looksFormatted(text) {
    return typeof text === 'string' && /[*_`[\]>#~]|https?:\/\/|^\s*([-+]|\d+\.)\s/m.test(text);
  }
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

  function handleSendError(f) {
    const item = state.outbox.get(f.client_id);
    if (!item) return;
    if (f.code === 'rate_limited' && (item.autoRetries || 0) < 5) {
      // Over the send limit: nothing was stored; try again shortly with the same client_id.
      item.autoRetries = (item.autoRetries || 0) + 1;
      setTimeout(() => transmit(item), 700 * item.autoRetries + Math.random() * 500);
      return;
    }
    const stick = nearBottom();
    if (SB.transport) SB.transport.retractMessage(item);
    item.status = 'failed';
    item.error = f.detail || f.code || t('error_generic');
    fillMeta(item);
    if (stick && item.el && item.el.isConnected) scrollToBottom();
  }

  // ---------------------------------------------------------------------------------------
  // What the peer-to-peer transport (p2p.js) needs from the chat
  // ---------------------------------------------------------------------------------------
  function storedByClientId(v, clientId, sender) {
    for (const m of v.byId.values()) if (m.client_id === clientId && m.sender === sender) return m;
    return null;
  }

  /** A message the peer sent straight over the data channel: shown at once, replaced by
   * the server's stored copy (same client_id) when that arrives. Returns whether it was
   * accepted. Nothing in it has been checked by a server: only apps registered with
   * fromPeer are taken, and only the body their fromPeer makes of it is shown; the rest
   * (approvals, announcements, …) the server's copy shows. */
  function receiveDirect(raw) {
    const conv = state.convs.get(Number(raw.conversation));
    const sender = Number(raw.sender);
    if (!conv || conv.kind !== 'direct' || otherMember(conv) !== sender || typeof raw.client_id !== 'string') return false;
    if (!raw.body || typeof raw.body !== 'object' || Array.isArray(raw.body) || bodySize(raw.body) > (Number(config.max_body_bytes) || 65536)) return false;
    const app = typeof raw.app === 'string' ? raw.app : 'chat';
    const fromPeer = fromPeerMap.get(app);
    if (!fromPeer) return false;
    let body = null;
    try { body = fromPeer(raw.body); } catch (e) { body = null; }
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
  function retractDirect(clientId) {
    state.viaPeer.delete(clientId);
    const v = state.view;
    const pend = v && v.pending.get(clientId);
    if (!pend || pend.sender === state.me.id) return;
    v.pending.delete(clientId);
    pend.el.remove();
    decorate();
  }

  /** Our message reached the peer over the data channel (the peer acknowledged it). */
  function markTransport(clientId) {
    state.viaPeer.add(clientId);
    const v = state.view;
    if (!v) return;
    const msg = v.pending.get(clientId) || storedByClientId(v, clientId, state.me.id);
    if (msg && msg.el) msg.el.dataset.transport = 'p2p';
  }

  SB.chat = {
    config,
    t,
    toast,
    csrfToken,
    sendFrame: (frame) => sendFrame(frame, true),
    conversation: (id) => state.convs.get(Number(id)) || null,
    peerOf: (convId) => otherMember(state.convs.get(Number(convId))),
    directWith: (userId) => state.directByUser.get(Number(userId)) || null,
    // Someone this page does not follow counts as offline (no peer-to-peer offer).
    presence: (userId) => { const st = presenceOf(Number(userId)); return st === 'unknown' ? 'offline' : st; },
    openId: () => (state.view ? state.view.id : null),
    list: () => ui.list,
    keepInView: () => { if (nearBottom()) scrollToBottom(); },
    receiveDirect,
    retractDirect,
    markTransport,
    /** Whether messages of this app may go to the peer directly (see renderers.register). */
    travelsDirect: (app) => fromPeerMap.has(app),
  };
  SB.events.addEventListener('transport', renderTransport);

  // Composer
  function autoGrow() {
    const c = ui.composer;
    c.style.height = 'auto';
    c.style.height = Math.min(c.scrollHeight + 2, 200) + 'px';
  }
  function showComposerError(text) {
    ui.composerError.textContent = text;
    ui.composerError.hidden = false;
  }
  function hideComposerError() {
    ui.composerError.hidden = true;
    ui.composerError.textContent = '';
  }

  function submitComposer() {
    const v = state.view;
    if (!v) return;
    const text = ui.composer.value;
    if (!text.trim()) return;
    const body = { text };
    if (bodySize(body) > (Number(config.max_body_bytes) || 65536)) { showComposerError(t('too_large')); return; }
    hideComposerError();
    ui.composer.value = '';
    state.drafts.delete(v.id);
    autoGrow();
    sendMessage(v.id, 'chat', body);
    lastTypingSent = 0; // the message clears the indicator on the other side: typing again shows it again
    ui.composer.focus({ preventScroll: true });
  }

  let lastTypingSent = 0;
  function onComposerInput() {
    autoGrow();
    if (!ui.composerError.hidden && bodySize({ text: ui.composer.value }) <= (Number(config.max_body_bytes) || 65536)) hideComposerError();
    const v = state.view;
    if (!v || !ui.composer.value.trim()) return;
    const now = Date.now();
    if (now - lastTypingSent < TYPING_EVERY) return;
    if (sendFrame({ type: 'typing', conversation: v.id })) lastTypingSent = now;
  }

  // ---------------------------------------------------------------------------------------
  // Typing indicator
  // ---------------------------------------------------------------------------------------
  function showTyping(v, userId) {
    clearTimeout(v.typing.get(userId));
    v.typing.set(userId, setTimeout(() => clearTyping(v, userId), TYPING_SHOWN));
    renderTyping(v);
  }
  function clearTyping(v, userId) {
    if (!v.typing.has(userId)) return;
    clearTimeout(v.typing.get(userId));
    v.typing.delete(userId);
    renderTyping(v);
  }
  function renderTyping(v) {
    if (state.view !== v) return;
    const names = [...v.typing.keys()].map(userName);
    ui.typing.textContent = !names.length ? '' : names.length === 1 ? t('typing_one', { name: names[0] }) : t('typing_many', { names: names.join(', ') });
  }

  // ---------------------------------------------------------------------------------------
  // Incoming frames
  // ---------------------------------------------------------------------------------------
  const fetchingConvs = new Map();
  function fetchConversation(id) {
    if (fetchingConvs.has(id)) return fetchingConvs.get(id);
    const p = api('GET', `/api/v1/conversations/${id}/`)
      .then((c) => { const conv = upsertConv(c); scheduleSidebar(); return conv; })
      .catch(() => null)
      .finally(() => fetchingConvs.delete(id));
    fetchingConvs.set(id, p);
    return p;
  }

  function onMessageFrame(f) {
    const m = normaliseMessage(f);
    noteLastId(m.id);
    const own = m.sender === state.me.id;
    if (own && m.client_id && state.outbox.has(m.client_id)) {
      // Stored, but the ack went to a socket that died: the same message, not a new one.
      const item = state.outbox.get(m.client_id);
      state.outbox.delete(m.client_id);
      Object.assign(item, { id: m.id, seq: m.seq, created_at: m.created_at, status: 'delivered' });
      afterOwnStored(item, m);
      return;
    }
    const conv = state.convs.get(m.conversation);
    if (!conv) {
      // A conversation this page does not know yet (a new group, a first direct message).
      fetchConversation(m.conversation).then((c) => { if (c && !own) notify(m, c); });
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
    if (isNew) {
      if (own) {
        conv.last_read_seq = Math.max(conv.last_read_seq, m.seq);
        conv.unread = Math.max(0, conv.last_seq - conv.last_read_seq);
      } else if (m.seq > conv.last_read_seq) {
        if (!(isOpen && !v.loading && pageActive())) conv.unread += 1; // else markRead() follows
        notify(m, conv);
      }
    }
    if (isOpen) {
      if (v.maxSeq() > v.contig) checkGap(v);
      markRead();
    }
    scheduleSidebar();
  }

  function onMessageUpdate(f) {
    const id = Number(f.id);
    const conv = state.convs.get(Number(f.conversation));
    if (conv && conv.last_message && conv.last_message.id === id) {
      Object.assign(conv.last_message, { body: f.body || conv.last_message.body, edited_at: f.edited_at || null, recalled: !!f.recalled });
      scheduleSidebar();
    }
    const v = state.view;
    if (v && v.id === Number(f.conversation)) {
      const msg = v.byId.get(id);
      if (msg) updateMessage(msg, { body: f.body, edited_at: f.edited_at, recalled: !!f.recalled });
    }
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
        scheduleSidebar();
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

  function onPresence(f) {
    const uid = Number(f.user);
    const st = ['online', 'away', 'offline'].includes(f.status) ? f.status : 'offline';
    if (presenceOf(uid) === st) return;
    state.presence.set(uid, st);
    updatePresenceDots();
  }

  function onTyping(f) {
    const v = state.view;
    const uid = Number(f.user);
    if (!v || v.id !== Number(f.conversation) || uid === state.me.id) return;
    showTyping(v, uid);
  }

  function onError(f) {
    if (f.client_id) { handleSendError(f); return; }
    if (f.code === 'unauthenticated') {
      // The session ended, or changed under this page: a password changed in another tab
      // of this session leaves it signed in under a new cookie. Connecting again tells
      // which (a refused handshake twice, then the probe), without an API call whose
      // answer to the old cookie could delete the new one.
      conn.attempt = 0;
      return;
    }
    console.warn('Switchboard: server error %s: %s', f.code, f.detail);
  }

  // Desktop notifications
  function askNotificationPermission() {
    if (!('Notification' in window) || Notification.permission !== 'default') return;
    try {
      const r = Notification.requestPermission();
      if (r && r.catch) r.catch(() => {});
    } catch (e) { /* old API */ }
  }
  function notify(m, conv) {
    if (document.visibilityState !== 'hidden') return;
    if (!('Notification' in window) || Notification.permission !== 'granted') return;
    if (m.sender === state.me.id) return;
    if (Date.now() - parseDate(m.created_at).getTime() > 10 * 60 * 1000) return; // old news from a resync
    const name = userName(m.sender);
    const title = conv && conv.kind !== 'direct' ? t('notification_in', { name, conversation: convTitle(conv) }) : name;
    let body = previewText(m);
    if (body.length > 140) body = body.slice(0, 139) + '…';
    try {
      const n = new Notification(title, { body, tag: `switchboard-conversation-${m.conversation}` });
      n.onclick = () => { window.focus(); openConversation(m.conversation); n.close(); };
    } catch (e) { /* e.g. Android Chrome needs a service worker */ }
  }

  // ---------------------------------------------------------------------------------------
  // The WebSocket: connect, keepalive, reconnect with backoff and full jitter
  // ---------------------------------------------------------------------------------------
  const conn = {
    ws: null, gen: 0, attempt: 0, timer: null, pingTimer: null, deadline: null,
    helloed: false, everOnline: false, failuresBeforeOpen: 0, lastProbe: 0,
  };

  function wsURL() {
    const path = config.ws_path + (config.ws_path.includes('?') ? '&' : '?') + 'presence=subscribe';
    return (location.protocol === 'https:' ? 'wss' : 'ws') + '://' + location.host + path;
  }

  function setConnState(st) {
    if (!ui.conn) return;
    ui.conn.dataset.state = st;
    const text = ui.conn.querySelector('.chat-connection-text');
    if (state.signedOut) {
      text.replaceChildren(t('signed_out'), ' ',
        h('a', { href: '/accounts/login/?next=' + encodeURIComponent(location.pathname + location.hash), text: t('sign_in_again') }));
      return;
    }
    text.textContent = st === 'online' ? '' : st === 'offline' ? t('offline') : conn.everOnline ? t('reconnecting') : t('connecting');
  }

  function connect() {
    clearTimeout(conn.timer);
    conn.timer = null;
    if (state.signedOut || conn.ws) return;
    if (navigator.onLine === false) { setConnState('offline'); return; }
    setConnState(conn.attempt > 3 ? 'offline' : 'connecting');
    let ws;
    try { ws = new WebSocket(wsURL()); } catch (e) { scheduleReconnect(); return; }
    const gen = ++conn.gen;
    conn.ws = ws;
    conn.helloed = false;
    let opened = false;
    ws.onopen = () => {
      if (gen !== conn.gen) return;
      opened = true;
      conn.failuresBeforeOpen = 0;
      startKeepalive();
    };
    ws.onmessage = (e) => { if (gen === conn.gen) onRaw(e.data); };
    ws.onclose = () => {
      if (gen !== conn.gen) return;
      if (!opened) conn.failuresBeforeOpen++;
      dropSocket();
      scheduleReconnect();
    };
    ws.onerror = () => { /* onclose follows */ };
  }

  function dropSocket() {
    const ws = conn.ws;
    conn.ws = null;
    conn.gen++;
    conn.helloed = false;
    stopKeepalive();
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try { ws.close(); } catch (e) { /* already closed */ }
    }
  }

  function scheduleReconnect() {
    if (state.signedOut || conn.timer || conn.ws) return;
    const cap = Math.min(BACKOFF_CAP, BACKOFF_BASE * 2 ** conn.attempt);
    const delay = Math.random() * cap;
    conn.attempt++;
    setConnState(navigator.onLine === false || conn.attempt > 3 ? 'offline' : 'connecting');
    conn.timer = setTimeout(connect, delay);
    // A handshake refused again and again may mean the session ended.
    if (conn.failuresBeforeOpen >= 2 && Date.now() - conn.lastProbe > 8000) {
      conn.lastProbe = Date.now();
      fetch('/api/v1/me/', { credentials: 'same-origin', headers: { Accept: 'application/json' } })
        .then((r) => { if (r.status === 401 || r.status === 403) signedOut(); })
        .catch(() => {});
    }
  }

  function reconnectNow() {
    clearTimeout(conn.timer);
    conn.timer = null;
    conn.attempt = 0;
    if (!conn.ws) connect();
  }

  function startKeepalive() {
    stopKeepalive();
    conn.pingTimer = setInterval(ping, PING_EVERY);
  }
  function stopKeepalive() {
    clearInterval(conn.pingTimer);
    clearTimeout(conn.deadline);
    conn.pingTimer = null;
    conn.deadline = null;
  }
  function ping() {
    if (!conn.ws || conn.ws.readyState !== WebSocket.OPEN) return;
    try { conn.ws.send('{"type":"ping"}'); } catch (e) { return; }
    if (!conn.deadline) {
      conn.deadline = setTimeout(() => {
        // Nothing came back: the socket is dead even if the browser has not noticed.
        conn.deadline = null;
        dropSocket();
        scheduleReconnect();
      }, PONG_WITHIN);
    }
  }

  /** Send a frame now if the socket is ready; returns whether it went. */
  function sendFrame(frame, needsHello) {
    const ws = conn.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN || (needsHello && !conn.helloed)) return false;
    try { ws.send(JSON.stringify(frame)); return true; } catch (e) { return false; }
  }

  function onRaw(data) {
    clearTimeout(conn.deadline);
    conn.deadline = null;
    let f;
    try { f = JSON.parse(data); } catch (e) { return; }
    if (!f || typeof f !== 'object' || typeof f.type !== 'string') return;
    try {
      switch (f.type) {
        case 'hello': onHello(f); break;
        case 'message': onMessageFrame(f); break;
        case 'ack': handleAck(f); break;
        case 'receipt': onReceipt(f); break;
        case 'presence': onPresence(f); break;
        case 'presence_subscribed': onPresenceSubscribed(f); break;
        case 'typing': onTyping(f); break;
        case 'message_update': onMessageUpdate(f); break;
        case 'error': onError(f); break;
        default: break; // pong, signal and anything newer
      }
    } catch (e) {
      console.error('Switchboard: could not handle a %s frame', f.type, e);
    }
    SB.events.dispatchEvent(new CustomEvent('frame', { detail: f }));
    SB.events.dispatchEvent(new CustomEvent(f.type, { detail: f }));
  }

  function onHello(f) {
    const first = !conn.everOnline;
    conn.helloed = true;
    conn.everOnline = true;
    conn.attempt = 0;
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
    // A new connection follows no one yet: say whom again; the answer brings each one's
    // presence, offline included.
    presenceFollowed.sent = null;
    followPresence();
    sendFrame({ type: 'sync', after: state.lastId });
    if (myStatus === 'away') sendFrame({ type: 'presence', status: 'away' });
    resendOutbox();
    if (!first) refreshConversations();
    if (state.view && !state.view.loading) { checkGap(state.view); markRead(); }
  }

  function signedOut() {
    if (state.signedOut) return;
    state.signedOut = true;
    clearTimeout(conn.timer);
    conn.timer = null;
    dropSocket();
    setConnState('offline');
  }

  // ---------------------------------------------------------------------------------------
  // Presence of this user: away after 5 minutes hidden or idle
  // ---------------------------------------------------------------------------------------
  let myStatus = 'online';
  let lastInput = Date.now();
  let hiddenSince = document.visibilityState === 'hidden' ? Date.now() : null;
  function setMyStatus(st) {
    if (myStatus === st) return;
    myStatus = st;
    sendFrame({ type: 'presence', status: st });
  }
  function onUserActivity() {
    lastInput = Date.now();
    if (myStatus === 'away' && document.visibilityState === 'visible') setMyStatus('online');
  }
  function checkIdle() {
    const now = Date.now();
    const idle = now - lastInput >= IDLE_MS;
    const hiddenLong = hiddenSince !== null && now - hiddenSince >= IDLE_MS;
    if ((idle || hiddenLong) && myStatus === 'online') setMyStatus('away');
  }

  // ---------------------------------------------------------------------------------------
  // New group dialog
  // ---------------------------------------------------------------------------------------
  function openGroupDialog() {
    ui.groupTitle.value = '';
    ui.groupFilter.value = '';
    ui.groupError.hidden = true;
    ui.groupMembers.replaceChildren(...state.contacts.map((p) => {
      const li = h('li', null, h('label', { class: 'chat-pick-item' },
        h('input', { type: 'checkbox', value: p.id, 'data-username': p.username, 'data-testid': 'group-member' }),
        avatar(p.display_name || p.username, p.id),
        h('span', { class: 'chat-item-main' },
          h('span', { class: 'chat-item-title', text: p.display_name || p.username }),
          h('span', { class: 'chat-item-sub', text: (p.department && p.department.name) || '@' + p.username }))));
      li.dataset.search = `${p.display_name} ${p.username} ${(p.department && p.department.name) || ''}`.toLowerCase();
      return li;
    }));
    if (!state.contacts.length) ui.groupMembers.append(h('li', { class: 'muted small', text: t('no_contacts') }));
    if (typeof ui.dialog.showModal === 'function') ui.dialog.showModal();
    else ui.dialog.setAttribute('open', '');
    ui.groupTitle.focus();
  }
  function closeGroupDialog() {
    if (typeof ui.dialog.close === 'function') ui.dialog.close();
    else ui.dialog.removeAttribute('open');
  }
  async function createGroup(e) {
    e.preventDefault();
    const title = ui.groupTitle.value.trim();
    const members = [...ui.groupMembers.querySelectorAll('input[type=checkbox]:checked')].map((i) => Number(i.value));
    const fail = (text) => { ui.groupError.textContent = text; ui.groupError.hidden = false; };
    if (!title) { fail(t('group_title_required')); ui.groupTitle.focus(); return; }
    if (!members.length) { fail(t('group_members_required')); return; }
    const submit = ui.groupForm.querySelector('[type=submit]');
    submit.disabled = true;
    try {
      const conv = upsertConv(await api('POST', '/api/v1/conversations/', { title, members }));
      closeGroupDialog();
      scheduleSidebar();
      if (conv) openConversation(conv.id);
    } catch (err) {
      fail((err && err.detail) || t('could_not_create'));
    } finally {
      submit.disabled = false;
    }
  }

  // ---------------------------------------------------------------------------------------
  // Opening a direct conversation from a contact
  // ---------------------------------------------------------------------------------------
  let openToken = 0;
  async function openDirect(userId) {
    const token = ++openToken;
    const known = state.directByUser.get(userId);
    if (known && state.convs.has(known)) openConversation(known);
    try {
      const conv = upsertConv(await api('POST', '/api/v1/conversations/direct/', { user: userId }));
      scheduleSidebar();
      if (token !== openToken) return; // another click since
      if (conv && !(state.view && state.view.id === conv.id)) openConversation(conv.id);
      else if (conv) renderHeader();
    } catch (e) {
      if (!known) toast((e && e.detail) || t('could_not_open'));
    }
  }

  // ---------------------------------------------------------------------------------------
  // Start-up
  // ---------------------------------------------------------------------------------------
  async function refreshConversations() {
    try {
      const list = listOf(await api('GET', '/api/v1/conversations/'));
      for (const c of list) upsertConv(c);
      scheduleSidebar();
    } catch (e) { /* keep what we have */ }
  }

  async function loadInitial() {
    const [contacts, convs] = await Promise.all([
      api('GET', '/api/v1/contacts/'),
      api('GET', '/api/v1/conversations/'),
    ]);
    state.contacts = listOf(contacts);
    for (const c of state.contacts) { learnUser(c); state.contactIds.add(c.id); }
    for (const c of listOf(convs)) upsertConv(c);
    state.loaded = true;
    renderContacts();
    renderSidebar();
  }

  function bindEvents() {
    ui.filter.addEventListener('input', applyFilter);
    ui.newGroup.addEventListener('click', openGroupDialog);
    ui.groupForm.addEventListener('submit', createGroup);
    ui.groupCancel.addEventListener('click', closeGroupDialog);
    ui.groupFilter.addEventListener('input', () => {
      const q = ui.groupFilter.value.trim().toLowerCase();
      for (const li of ui.groupMembers.children) li.hidden = !!q && !(li.dataset.search || '').includes(q);
    });
    ui.back.addEventListener('click', () => {
      if (history.state && history.state.sbConversation) history.back();
      else { closeConversation(); history.replaceState(null, '', location.pathname + location.search); }
    });
    window.addEventListener('popstate', () => {
      const id = hashConversation();
      if (id) openConversation(id, { push: false });
      else closeConversation();
    });

    ui.form.addEventListener('submit', (e) => { e.preventDefault(); submitComposer(); });
    ui.composer.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        submitComposer();
      }
    });
    ui.composer.addEventListener('input', onComposerInput);

    if ('ResizeObserver' in window) {
      const keepPinned = () => { if (pinned && state.view) ui.history.scrollTop = ui.history.scrollHeight; };
      const ro = new ResizeObserver(keepPinned);
      ro.observe(ui.history);
      ro.observe(ui.list);
    }
    ui.history.addEventListener('scroll', () => {
      pinned = nearBottom();
      maybeLoadOlder();
      if (nearBottom()) {
        const v = state.view;
        if (v) v.unseen = 0;
        ui.jump.hidden = true;
      }
    }, { passive: true });
    ui.jump.addEventListener('click', scrollToBottom);

    document.addEventListener('click', askNotificationPermission, { once: true, capture: true });

    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'hidden') hiddenSince = Date.now();
      else {
        hiddenSince = null;
        onUserActivity();
        markRead();
        ping(); // a laptop waking up: find out now whether the socket survived
      }
    });
    window.addEventListener('focus', () => { onUserActivity(); markRead(); });
    for (const ev of ['pointerdown', 'pointermove', 'keydown', 'wheel', 'touchstart']) {
      window.addEventListener(ev, onUserActivity, { passive: true, capture: true });
    }
    setInterval(checkIdle, 15000);

    window.addEventListener('online', reconnectNow);
    window.addEventListener('offline', () => {
      clearTimeout(conn.timer);
      conn.timer = null;
      dropSocket();
      setConnState('offline');
    });
  }

  async function start() {
    if (!ui.root) return;
    state.lastId = loadLastId();
    learnUser(state.me);
    bindEvents();
    setConnState('connecting');
    let tries = 0;
    for (;;) {
      try {
        await loadInitial();
        break;
      } catch (e) {
        if (state.signedOut) return;
        tries++;
        ui.contacts.replaceChildren(h('p', { class: 'muted small chat-list-note' }, t('could_not_load'), ' ',
          h('button', { type: 'button', class: 'link', text: t('try_again'), onclick: () => location.reload() })));
        await new Promise((r) => setTimeout(r, Math.min(15000, 1000 * 2 ** tries) * Math.random() + 500));
      }
    }
    connect();
    const id = hashConversation();
    if (id) {
      openConversation(id, { push: false });
    }
  }

  // Built-in renderer for ordinary chat messages.
  renderers.register('chat', chatRenderer, { fromPeer: chatFromPeer });

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start, { once: true });
  else start();
})();
