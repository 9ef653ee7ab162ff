/* The "New chat" dialog: pick one of my contacts, open (or start) our direct chat. */

import { avatar, h } from './dom.js';
import { events } from './events.js';
import { gettext } from './i18n.js';
import { presenceDot } from './presence.js';
import { openDirect } from './sidebar.js';
import { state } from './state.js';
import { ui } from './ui.js';

function openPicker() {
  ui.chatFilter.value = '';
  fillPicker();
  if (typeof ui.chatDialog.showModal === 'function') ui.chatDialog.showModal();
  else ui.chatDialog.setAttribute('open', '');
  ui.chatFilter.focus();
}

/** The contacts, or a note while the page is still loading them. */
function fillPicker() {
  if (!state.loaded) {
    ui.chatPeople.dataset.loading = 'true';
    ui.chatPeople.replaceChildren(h('li', { class: 'muted small', text: gettext('Loading…') }));
    return;
  }
  delete ui.chatPeople.dataset.loading;
  const people = [...state.contacts].sort((a, b) => (a.display_name || a.username).localeCompare(b.display_name || b.username));
  ui.chatPeople.replaceChildren(...people.map((p) => {
    const li = h('li', null, h('button', {
      type: 'button', class: 'chat-pick-item chat-pick-person', 'data-testid': 'contact', 'data-username': p.username, 'data-user-id': p.id,
      onclick: () => { closePicker(); openDirect(p.id); },
    },
    h('span', { class: 'avatar-wrap' }, avatar(p.display_name || p.username, p.id), presenceDot(p.id)),
    h('span', { class: 'chat-item-main' },
      h('span', { class: 'chat-item-title', text: p.display_name || p.username }),
      h('span', { class: 'chat-item-sub', text: [p.title, p.department && p.department.name].filter(Boolean).join(' · ') || '@' + p.username }))));
    li.dataset.search = `${p.display_name} ${p.username} ${p.title || ''} ${(p.department && p.department.name) || ''}`.toLowerCase();
    return li;
  }));
  if (!people.length) ui.chatPeople.append(h('li', { class: 'muted small', text: gettext('No contacts yet. Find colleagues on the People page.') }));
}

// Opened before the contacts had loaded: fill in when they have.
events.addEventListener('conversations-changed', () => { if (ui.chatDialog.open && ui.chatPeople.dataset.loading) fillPicker(); });

function closePicker() {
  if (typeof ui.chatDialog.close === 'function') ui.chatDialog.close();
  else ui.chatDialog.removeAttribute('open');
}

export function bindPicker() {
  ui.newChat.addEventListener('click', openPicker);
  ui.chatCancel.addEventListener('click', closePicker);
  ui.chatFilter.addEventListener('input', () => {
    const q = ui.chatFilter.value.trim().toLowerCase();
    for (const li of ui.chatPeople.children) li.hidden = !!q && !q.split(/\s+/).every((w) => (li.dataset.search || '').includes(w));
  });
}
