/* The inbox: every conversation I am in, pinned ones first, then by last activity, with
 * previews, unread badges (quiet for a muted one), presence dots, a menu to mute or pin,
 * and the filter. */

import { api } from './api.js';
import { showBadge } from './badge.js';
import { openConversation } from './conversation.js';
import { avatar, h, toast } from './dom.js';
import { events } from './events.js';
import { gettext } from './i18n.js';
import { followPresence, presenceDot, presenceOf, presenceTitle } from './presence.js';
import { preview } from './renderers.js';
import { inboxOrder, unreadTotal } from './saved.js';
import { changed, convTitle, kindLabel, otherMember, state, upsertConv, userName } from './state.js';
import { shortWhen } from './text.js';
import { ui } from './ui.js';

let sidebarQueued = false;
function scheduleSidebar() {
  if (sidebarQueued) return;
  sidebarQueued = true;
  queueMicrotask(() => { sidebarQueued = false; renderSidebar(); });
}

events.addEventListener('conversations-changed', scheduleSidebar);
events.addEventListener('conversation-open', scheduleSidebar);
events.addEventListener('presence-changed', () => updatePresenceDots());
document.addEventListener('click', (e) => { if (!e.target.closest('.chat-menu')) closeMenus(); });
document.addEventListener('keydown', (e) => { if (e.key === 'Escape') closeMenus(); });

function setCount(b, n) {
  n = Number(n) || 0;
  b.textContent = n > 99 ? '99+' : String(n);
  b.dataset.count = String(n);
  b.hidden = n <= 0;
}

function unreadBadge(n, quiet) {
  const b = h('span', { class: 'badge badge-unread' + (quiet ? ' badge-quiet' : ''), 'data-testid': 'unread' });
  setCount(b, n);
  return b;
}

function mentionBadge(n) {
  n = Number(n) || 0;
  const label = gettext('You are mentioned');
  const b = h('span', { class: 'badge badge-mention', 'data-testid': 'mention-badge', title: label, 'aria-label': label, 'data-count': String(n), text: '@' });
  b.hidden = n <= 0;
  return b;
}

export function renderSidebar() {
  followPresence();
  renderConversations();
  updateTitle();
  applyFilter();
}

let openToken = 0;

/** The last message's line: the server's preview (plain, in my language) while it is
 * the one the server described, else made here. */
function previewOf(c) {
  const last = c.last_message;
  if (!last) return '';
  const text = typeof last.preview === 'string' ? last.preview : preview(last);
  if (last.app === 'group') return text; // "Alice added Bob" names who did it already
  const who = last.sender === state.me.id ? gettext('You: ') : (c.kind !== 'direct' ? userName(last.sender) + ': ' : '');
  return who + text;
}

const PIN_ICON = '<svg viewBox="0 0 16 16" width="12" height="12" aria-hidden="true"><path d="M9.5 1.5l5 5-2 .5-2.5 2.5.5 3-1.5 1.5-3-3-3.5 3.5-.5-.5 3.5-3.5-3-3L4 5l3 .5L9.5 3z" fill="currentColor"/></svg>';
const MUTE_ICON = '<svg viewBox="0 0 16 16" width="12" height="12" aria-hidden="true"><path d="M8 2a4 4 0 0 0-4 4v3L2.5 11h11L12 9V6a4 4 0 0 0-4-4zM6.5 12.5a1.5 1.5 0 0 0 3 0M2 2l12 12" fill="none" stroke="currentColor" stroke-width="1.4" stroke-linecap="round"/></svg>';

function icon(svg, label, cls) {
  const el = h('span', { class: cls, title: label, 'aria-label': label, role: 'img' });
  el.innerHTML = svg;
  return el;
}

function renderConversations() {
  const focused = document.activeElement && document.activeElement.closest && document.activeElement.closest('[data-testid="conversation"]');
  const focusKey = focused ? focused.dataset.id : null;
  const openId = state.view && state.view.id;
  const list = [...state.convs.values()]
    // An empty direct chat shows once it is opened or has a message.
    .filter((c) => c.kind !== 'direct' || c.last_message || c.id === openId)
    .sort(inboxOrder); // pinned first, then the latest activity, as the server orders it
  const items = list.map((c) => {
    const other = otherMember(c);
    const last = c.last_message;
    const av = h('span', { class: 'avatar-wrap' }, avatar(c.kind === 'direct' ? userName(other) : (c.title || '#'), c.kind === 'direct' ? other : 1000 + c.id, c.kind === 'direct' ? '' : 'avatar-square'));
    if (c.kind === 'direct' && other) av.append(presenceDot(other));
    const btn = h('button', {
      type: 'button',
      class: 'chat-item' + (c.id === openId ? ' active' : '') + (c.unread ? ' has-unread' : '') + (c.muted ? ' is-muted' : ''),
      'data-testid': 'conversation', 'data-id': c.id, 'data-kind': c.kind,
      'data-pinned': c.pinned ? 'true' : null, 'data-muted': c.muted ? 'true' : null,
      'data-username': c.kind === 'direct' && other ? (state.users.get(other) || {}).username : null,
      'aria-current': c.id === openId ? 'true' : null,
      onclick: () => { openToken++; openConversation(c.id); },
    },
    av,
    h('span', { class: 'chat-item-main' },
      h('span', { class: 'chat-item-title' }, convTitle(c),
        c.kind !== 'direct' ? h('span', { class: 'chat-kind', text: kindLabel(c.kind) }) : null),
      h('span', { class: 'chat-item-sub', 'data-testid': 'preview', text: previewOf(c) })),
    h('span', { class: 'chat-item-side' },
      last ? h('time', { class: 'chat-item-time', text: shortWhen(last.created_at) }) : null,
      h('span', { class: 'chat-item-flags' },
        c.pinned ? icon(PIN_ICON, gettext('Pinned'), 'chat-flag chat-flag-pin') : null,
        c.muted ? icon(MUTE_ICON, gettext('Muted'), 'chat-flag chat-flag-mute') : null,
        mentionBadge(c.mentions),
        unreadBadge(c.unread, c.muted))));
    btn.dataset.search = (convTitle(c) + ' ' + (c.members || []).map((m) => `${m.display_name} ${m.username}`).join(' ')).toLowerCase();
    return h('li', { class: 'chat-row' }, btn, conversationMenu(c));
  });
  if (!items.length) items.push(h('li', { class: 'muted small chat-list-note', text: gettext('No conversations yet. Start one with New chat.') }));
  ui.convList.replaceChildren(...items);
  if (focusKey) {
    const again = ui.convList.querySelector(`[data-testid="conversation"][data-id="${CSS.escape(focusKey)}"]`);
    if (again) again.focus();
  }
}

function closeMenus(except) {
  for (const menu of ui.convList.querySelectorAll('.chat-menu[data-open]')) {
    if (menu === except) continue;
    delete menu.dataset.open;
    menu.querySelector('.chat-menu-button').setAttribute('aria-expanded', 'false');
    menu.querySelector('[role="menu"]').hidden = true;
  }
}

/** Mute or pin, for me alone: the server tells my other devices (conversation_update). */
function conversationMenu(c) {
  const setting = async (path, field, value) => {
    closeMenus();
    try {
      const result = await api('POST', `/api/v1/conversations/${c.id}/${path}/`, { [field]: value });
      applySettings(result);
    } catch (e) {
      toast((e && e.detail) || gettext('Something went wrong.'));
    }
  };
  const items = h('div', { role: 'menu', class: 'chat-menu-items card' },
    h('button', { type: 'button', role: 'menuitem', 'data-testid': 'pin-toggle', text: c.pinned ? gettext('Unpin') : gettext('Pin to top'), onclick: () => setting('pin', 'pinned', !c.pinned) }),
    h('button', { type: 'button', role: 'menuitem', 'data-testid': 'mute-toggle', text: c.muted ? gettext('Unmute') : gettext('Mute notifications'), onclick: () => setting('mute', 'muted', !c.muted) }));
  items.hidden = true;
  const menu = h('div', { class: 'chat-menu' });
  const button = h('button', {
    type: 'button', class: 'chat-menu-button', 'data-testid': 'conversation-menu',
    'aria-haspopup': 'menu', 'aria-expanded': 'false', 'aria-label': gettext('Options'), title: gettext('Options'), text: '⋯',
    onclick: () => {
      const open = !menu.dataset.open;
      closeMenus(menu);
      if (open) menu.dataset.open = ''; else delete menu.dataset.open;
      button.setAttribute('aria-expanded', String(open));
      items.hidden = !open;
      if (open) items.querySelector('[role="menuitem"]').focus();
    },
  });
  menu.append(button, items);
  return menu;
}

/** A conversation's mute and pin, from the API or a conversation_update frame. */
export function applySettings(f) {
  const conv = state.convs.get(Number(f.conversation));
  if (!conv) return;
  conv.muted = !!f.muted;
  conv.pinned = !!f.pinned;
  changed();
}

function updatePresenceDots() {
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
  let any = false;
  for (const btn of ui.convList.querySelectorAll('[data-testid="conversation"]')) {
    const ok = match(btn);
    btn.parentElement.hidden = !ok;
    if (ok) any = true;
  }
  let note = ui.convList.querySelector('.chat-no-match');
  if (q && !any && state.convs.size) {
    if (!note) ui.convList.append(note = h('li', { class: 'muted small chat-list-note chat-no-match', text: gettext('Nobody matches.') }));
  } else if (note) note.remove();
}

const baseTitle = document.title;
/** My unread messages outside muted conversations: in the page's title, on the app's icon,
 * and on the phone's Chat tab (which the server drew with the same count,
 * core/templatetags/tabbar.py). */
function updateTitle() {
  const n = unreadTotal(state.convs.values());
  document.title = n ? `(${n}) ${baseTitle}` : baseTitle;
  showBadge(n);
  if (ui.chatTabBadge && state.loaded) setCount(ui.chatTabBadge, n);
}

/** Open (or start) the direct conversation with someone. */
export async function openDirect(userId) {
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
