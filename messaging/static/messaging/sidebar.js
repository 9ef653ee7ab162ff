/* The sidebar: conversations by last activity, contacts by department, unread badges,
 * presence dots and the filter. */

import { api } from './api.js';
import { openConversation } from './conversation.js';
import { avatar, h, toast } from './dom.js';
import { events } from './events.js';
import { gettext } from './i18n.js';
import { followPresence, presenceDot, presenceOf, presenceTitle } from './presence.js';
import { changed, convActivity, convTitle, kindLabel, otherMember, state, upsertConv, userName } from './state.js';
import { previewText, shortWhen } from './text.js';
import { ui } from './ui.js';

const contactEls = new Map(); // user id -> {item, dot, badge}

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

events.addEventListener('conversations-changed', scheduleSidebar);
events.addEventListener('conversation-open', scheduleSidebar);
events.addEventListener('presence-changed', () => updatePresenceDots());

export function renderSidebar() {
  followPresence();
  renderConversations();
  updateContactBadges();
  updateTitle();
  applyFilter();
}

let openToken = 0;

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
    const preview = last ? (last.sender === state.me.id ? gettext('You: ') : (c.kind !== 'direct' ? userName(last.sender) + ': ' : '')) + previewText(last) : '';
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
        c.kind !== 'direct' ? h('span', { class: 'chat-kind', text: kindLabel(c.kind) }) : null),
      h('span', { class: 'chat-item-sub', text: preview })),
    h('span', { class: 'chat-item-side' },
      last ? h('time', { class: 'chat-item-time', text: shortWhen(last.created_at) }) : null,
      unreadBadge(c.unread)));
    btn.dataset.search = (convTitle(c) + ' ' + (c.members || []).map((m) => `${m.display_name} ${m.username}`).join(' ')).toLowerCase();
    return h('li', null, btn);
  });
  if (!items.length) items.push(h('li', { class: 'muted small chat-list-note', text: gettext('No group conversations yet.') }));
  ui.convList.replaceChildren(...items);
  if (focusKey) {
    const again = ui.convList.querySelector(`[data-testid="conversation"][data-id="${CSS.escape(focusKey)}"]`);
    if (again) again.focus();
  }
}

export function renderContacts() {
  contactEls.clear();
  if (!state.contacts.length) {
    ui.contacts.replaceChildren(h('p', { class: 'muted small chat-list-note', text: gettext('No contacts yet. Find colleagues on the People page.') }));
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
      h('h3', { class: 'chat-dept-title', text: key || gettext('Other contacts') }), ul);
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
}

export function applyFilter() {
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
    if (!note) ui.contacts.append(note = h('p', { class: 'muted small chat-list-note chat-no-match', text: gettext('Nobody matches.') }));
  } else if (note) note.remove();
}

const baseTitle = document.title;
function updateTitle() {
  let n = 0;
  for (const c of state.convs.values()) n += c.unread || 0;
  document.title = n ? `(${n}) ${baseTitle}` : baseTitle;
}

/** Open (or start) the direct conversation with a contact. */
async function openDirect(userId) {
  const token = ++openToken;
  const known = state.directByUser.get(userId);
  if (known && state.convs.has(known)) openConversation(known);
  try {
    const conv = upsertConv(await api('POST', '/api/v1/conversations/direct/', { user: userId }));
    changed();
    if (token !== openToken) return; // another click since
    if (conv) openConversation(conv.id); // renders the header again if it is open already
  } catch (e) {
    if (!known) toast((e && e.detail) || gettext('Could not open the conversation.'));
  }
}
