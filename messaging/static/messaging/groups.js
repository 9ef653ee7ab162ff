/* The "New group" dialog, and the contacts to tick in it (groupinfo.js adds people with them too). */

import { api } from './api.js';
import { openConversation } from './conversation.js';
import { avatar, h } from './dom.js';
import { gettext } from './i18n.js';
import { changed, state, upsertConv } from './state.js';
import { ui } from './ui.js';

/** One contact to tick (a new group's members, people to add to a group). */
export function contactChoice(p) {
  const li = h('li', null, h('label', { class: 'chat-pick-item' },
    h('input', { type: 'checkbox', value: p.id, 'data-username': p.username, 'data-testid': 'group-member' }),
    avatar(p.display_name || p.username, p.id),
    h('span', { class: 'chat-item-main' },
      h('span', { class: 'chat-item-title', text: p.display_name || p.username }),
      h('span', { class: 'chat-item-sub', text: (p.department && p.department.name) || '@' + p.username }))));
  li.dataset.search = `${p.display_name} ${p.username} ${(p.department && p.department.name) || ''}`.toLowerCase();
  return li;
}

/** Show only the items of a list whose words include what is typed. */
export function filterChoices(list, text) {
  const q = text.trim().toLowerCase();
  for (const li of list.children) li.hidden = !!q && !(li.dataset.search || '').includes(q);
}

function openGroupDialog() {
  ui.groupTitle.value = '';
  ui.groupFilter.value = '';
  ui.groupError.hidden = true;
  ui.groupMembers.replaceChildren(...state.contacts.map(contactChoice));
  if (!state.contacts.length) ui.groupMembers.append(h('li', { class: 'muted small', text: gettext('No contacts yet. Find colleagues on the People page.') }));
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
  if (!title) { fail(gettext('Give the group a name.')); ui.groupTitle.focus(); return; }
  if (!members.length) { fail(gettext('Pick at least one colleague.')); return; }
  const submit = ui.groupForm.querySelector('[type=submit]');
  submit.disabled = true;
  try {
    const conv = upsertConv(await api('POST', '/api/v1/conversations/', { title, members }));
    closeGroupDialog();
    changed();
    if (conv) openConversation(conv.id);
  } catch (err) {
    fail((err && err.detail) || gettext('Could not create the group.'));
  } finally {
    submit.disabled = false;
  }
}

export function bindGroupDialog() {
  ui.newGroup.addEventListener('click', openGroupDialog);
  ui.groupForm.addEventListener('submit', createGroup);
  ui.groupCancel.addEventListener('click', closeGroupDialog);
  ui.groupFilter.addEventListener('input', () => filterChoices(ui.groupMembers, ui.groupFilter.value));
}
