/* A group, managed (docs/api.md): its notice above the open group, the `group` messages
 * that tell its changes as a line of their own, and the Group info dialog, where everyone
 * sees the members and may leave, and the owner renames it, sets its notice, adds and
 * removes members. The server checks each of these; the page only offers what it allows.
 *
 * A `group` message makes the page fetch its conversation again, so that title, members,
 * owner and notice follow live; one the page may no longer fetch (I was removed, or left
 * on another device) leaves the inbox and, if it is open, closes. */

import { api } from './api.js';
import { closeConversation, renderHeader } from './conversation.js';
import { avatar, h, toast } from './dom.js';
import { events } from './events.js';
import { contactChoice, filterChoices } from './groups.js';
import { addableContacts, groupEventText, isGroupOwner, membersInOrder } from './grouptext.js';
import { fill, gettext, ngettext } from './i18n.js';
import { register } from './renderers.js';
import { changed, state, upsertConv } from './state.js';

const $ = (id) => document.getElementById(id);
const el = {
  button: $('sb-group-info'),
  notice: $('sb-group-notice'),
  dialog: $('sb-group-info-dialog'),
  title: $('sb-group-info-title'),
  body: $('sb-group-info-body'),
  error: $('sb-group-info-error'),
  close: $('sb-group-info-close'),
};

const NOTICE_MAX = 2000;
const TITLE_MAX = 200;

// A change told in the group: one muted line of plain text, whatever the body holds.
register('group', (body) => h('p', { class: 'group-event', 'data-testid': 'group-event', text: groupEventText(body) }));

const openGroup = () => {
  const conv = state.view && state.convs.get(state.view.id);
  return conv && conv.kind === 'group' ? conv : null;
};

/** The header's Group info button and the notice above the open conversation. */
function renderChrome() {
  if (!el.button) return;
  const conv = openGroup();
  el.button.hidden = !conv;
  const notice = conv && typeof conv.notice === 'string' ? conv.notice.trim() : '';
  el.notice.hidden = !notice;
  el.notice.textContent = notice;
  if (dialogOpen() && dialogFor !== (conv && conv.id)) closeDialog();
  else if (dialogOpen() && signature(conv) !== shown) renderDialog();
}

// What the dialog shows of its group: it is drawn again only when that changes.
let shown = '';
const signature = (conv) => JSON.stringify([conv.title, conv.notice, conv.owner, (conv.members || []).map((m) => m.id), state.contacts.length]);

// --- the dialog -------------------------------------------------------------------------

let dialogFor = null;   // the conversation the dialog shows
let adding = false;     // the owner's list of contacts to add is open
let leaving = false;    // "Leave the group?" is asked

const dialogOpen = () => !!(el.dialog && el.dialog.open);

function openDialog() {
  const conv = openGroup();
  if (!conv) return;
  dialogFor = conv.id;
  adding = false;
  leaving = false;
  showError('');
  renderDialog({ fresh: true });
  if (typeof el.dialog.showModal === 'function') el.dialog.showModal();
  else el.dialog.setAttribute('open', '');
  const first = el.body.querySelector('input, textarea, button');
  if (first) first.focus();
}

function closeDialog() {
  if (typeof el.dialog.close === 'function') el.dialog.close();
  else el.dialog.removeAttribute('open');
}

function showError(text) {
  el.error.textContent = text || '';
  el.error.hidden = !text;
}

/** A field the owner edits keeps what they typed while the group changes under it. */
function keepTyped(id, value) {
  const old = document.getElementById(id);
  return old && old.dataset.dirty ? old.value : value;
}

function renderDialog({ fresh = false } = {}) {
  const conv = state.convs.get(dialogFor);
  if (!conv) return;
  const owner = isGroupOwner(conv, state.me.id);
  const parts = [];
  shown = signature(conv);
  el.title.textContent = conv.title || gettext('Group info');

  if (owner) {
    const title = h('input', {
      type: 'text', id: 'sb-group-rename', maxlength: TITLE_MAX, autocomplete: 'off', required: true, 'data-testid': 'group-rename-input',
      oninput: (e) => { e.target.dataset.dirty = '1'; },
    });
    title.value = fresh ? conv.title || '' : keepTyped('sb-group-rename', conv.title || '');
    if (!fresh && document.getElementById('sb-group-rename')?.dataset.dirty) title.dataset.dirty = '1';
    parts.push(h('form', { class: 'group-info-field', onsubmit: (e) => { e.preventDefault(); save({ title: title.value }); } },
      h('label', { for: 'sb-group-rename', text: gettext('Group name') }),
      h('div', { class: 'group-info-row' }, title,
        h('button', { type: 'submit', class: 'button', 'data-testid': 'group-rename', text: gettext('Rename') }))));

    const notice = h('textarea', {
      id: 'sb-group-notice-input', rows: 3, maxlength: NOTICE_MAX, 'data-testid': 'group-notice-input',
      'aria-describedby': 'sb-group-notice-hint', oninput: (e) => { e.target.dataset.dirty = '1'; },
    });
    notice.value = fresh ? conv.notice || '' : keepTyped('sb-group-notice-input', conv.notice || '');
    if (!fresh && document.getElementById('sb-group-notice-input')?.dataset.dirty) notice.dataset.dirty = '1';
    parts.push(h('form', { class: 'group-info-field', onsubmit: (e) => { e.preventDefault(); save({ notice: notice.value }); } },
      h('label', { for: 'sb-group-notice-input', text: gettext('Notice') }),
      notice,
      h('div', { class: 'group-info-row' },
        h('span', { class: 'muted small', id: 'sb-group-notice-hint', text: gettext('Shown to every member above the messages. Leave it empty to remove it.') }),
        h('button', { type: 'submit', class: 'button', 'data-testid': 'group-notice-save', text: gettext('Save notice') }))));
  } else if (conv.notice) {
    parts.push(h('section', { class: 'group-info-field' },
      h('h3', { text: gettext('Notice') }),
      h('p', { class: 'group-info-notice', text: conv.notice })));
  }

  const members = membersInOrder(conv);
  const list = h('ul', { class: 'chat-pick group-info-members', 'data-testid': 'group-info-members' }, ...members.map((m) => {
    const name = m.id === state.me.id ? fill(gettext('{name} (you)'), { name: m.display_name || m.username }) : (m.display_name || m.username);
    return h('li', { class: 'chat-pick-item', 'data-testid': 'group-info-member', 'data-username': m.username },
      avatar(m.display_name || m.username, m.id),
      h('span', { class: 'chat-item-main' },
        h('span', { class: 'chat-item-title', text: name }),
        h('span', { class: 'chat-item-sub', text: '@' + m.username })),
      m.id === conv.owner ? h('span', { class: 'badge', text: gettext('Owner') }) : null,
      owner && m.id !== state.me.id ? h('button', {
        type: 'button', class: 'button button-quiet group-info-remove', 'data-testid': 'group-remove',
        'aria-label': fill(gettext('Remove {name}'), { name: m.display_name || m.username }),
        text: gettext('Remove'), onclick: () => removeMember(m),
      }) : null);
  }));
  parts.push(h('section', { class: 'group-info-field', 'aria-labelledby': 'sb-group-members-title' },
    h('h3', { id: 'sb-group-members-title', text: fill(ngettext('{n} member', '{n} members', members.length), { n: members.length }) }),
    list));

  if (owner) parts.push(addSection(conv));

  parts.push(leaving
    ? h('div', { class: 'group-info-confirm', role: 'group', 'aria-labelledby': 'sb-group-leave-q' },
      h('p', { id: 'sb-group-leave-q', text: fill(gettext('Leave “{title}”? You will no longer see its messages.'), { title: conv.title }) }),
      h('div', { class: 'group-info-row' },
        h('button', { type: 'button', class: 'button', 'data-testid': 'group-leave-cancel', text: gettext('Stay'), onclick: () => { leaving = false; renderDialog(); el.body.querySelector('[data-testid="group-leave"]').focus(); } }),
        h('button', { type: 'button', class: 'button button-danger', 'data-testid': 'group-leave-confirm', text: gettext('Leave group'), onclick: leave })))
    : h('div', { class: 'group-info-row group-info-leave' },
      h('button', { type: 'button', class: 'button button-danger-quiet', 'data-testid': 'group-leave', text: gettext('Leave group'),
        onclick: () => { leaving = true; renderDialog(); el.body.querySelector('[data-testid="group-leave-cancel"]').focus(); } })));

  const focusedId = document.activeElement && el.body.contains(document.activeElement) ? document.activeElement.id : null;
  const filterText = document.getElementById('sb-group-add-filter')?.value || '';
  const ticked = new Set([...el.body.querySelectorAll('.group-info-add input[type=checkbox]:checked')].map((i) => i.value));
  el.body.replaceChildren(...parts);
  for (const input of el.body.querySelectorAll('.group-info-add input[type=checkbox]')) input.checked = ticked.has(input.value);
  const filter = document.getElementById('sb-group-add-filter');
  if (filter && filterText) { filter.value = filterText; filterChoices(document.getElementById('sb-group-add-list'), filterText); }
  if (focusedId && document.getElementById(focusedId)) document.getElementById(focusedId).focus();
}

function addSection(conv) {
  if (!adding) {
    return h('div', { class: 'group-info-row' },
      h('button', { type: 'button', class: 'button', 'data-testid': 'group-add-open', 'aria-expanded': 'false', text: gettext('Add members'),
        onclick: () => { adding = true; renderDialog(); document.getElementById('sb-group-add-filter').focus(); } }));
  }
  const people = addableContacts(state.contacts, conv);
  const list = h('ul', { class: 'chat-pick', id: 'sb-group-add-list', 'data-testid': 'group-add-list', 'aria-label': gettext('Contacts to add') },
    ...people.map(contactChoice));
  if (!people.length) list.append(h('li', { class: 'muted small', text: gettext('All your contacts are in this group.') }));
  return h('form', { class: 'group-info-field group-info-add', onsubmit: (e) => { e.preventDefault(); addMembers(list); } },
    h('label', { for: 'sb-group-add-filter', text: gettext('Add members') }),
    h('input', { type: 'search', id: 'sb-group-add-filter', placeholder: gettext('Filter contacts'), autocomplete: 'off',
      oninput: (e) => filterChoices(list, e.target.value) }),
    list,
    h('div', { class: 'group-info-row' },
      h('button', { type: 'button', class: 'button button-quiet', text: gettext('Cancel'), onclick: () => { adding = false; renderDialog(); } }),
      h('button', { type: 'submit', class: 'button button-primary', 'data-testid': 'group-add', text: gettext('Add') })));
}

// --- what the owner and members do ---------------------------------------------------------

async function act(work, failure) {
  showError('');
  const buttons = [...el.body.querySelectorAll('button')];
  for (const b of buttons) b.disabled = true;
  try {
    await work();
  } catch (err) {
    showError((err && err.detail) || failure);
  } finally {
    for (const b of buttons) b.disabled = false;
  }
}

function take(conv) {
  upsertConv(conv);
  changed();
  renderHeader();
  renderChrome();
}

function save(fields) {
  const id = dialogFor;
  return act(async () => {
    // The field saved shows what the server kept; the other keeps what is being typed.
    const saved = document.getElementById(fields.title !== undefined ? 'sb-group-rename' : 'sb-group-notice-input');
    if (saved) delete saved.dataset.dirty;
    take(await api('PATCH', `/api/v1/conversations/${id}/`, fields));
    renderDialog();
    toast(fields.title !== undefined ? gettext('The group was renamed.') : gettext('The notice was saved.'));
  }, gettext('Could not change the group.'));
}

function addMembers(list) {
  const users = [...list.querySelectorAll('input[type=checkbox]:checked')].map((i) => Number(i.value));
  if (!users.length) { showError(gettext('Pick at least one colleague.')); return null; }
  const id = dialogFor;
  return act(async () => {
    take(await api('POST', `/api/v1/conversations/${id}/members/`, { users }));
    adding = false;
    renderDialog();
  }, gettext('Could not add them.'));
}

function removeMember(m) {
  const id = dialogFor;
  return act(async () => {
    take(await api('DELETE', `/api/v1/conversations/${id}/members/${m.id}/`));
  }, gettext('Could not remove them.'));
}

function leave() {
  const id = dialogFor;
  const conv = state.convs.get(id);
  return act(async () => {
    await api('POST', `/api/v1/conversations/${id}/leave/`);
    drop(id, fill(gettext('You left “{title}”.'), { title: (conv && conv.title) || '' }));
  }, gettext('Could not leave the group.'));
}

// --- following changes live ---------------------------------------------------------------

/** A conversation I am no longer in: out of the inbox, closed if it is open. */
function drop(id, note) {
  const conv = state.convs.get(id);
  if (!conv) return;
  state.convs.delete(id);
  if (dialogFor === id && dialogOpen()) closeDialog();
  if (state.view && state.view.id === id) {
    closeConversation();
    if (location.hash === `#conversation-${id}`) history.replaceState(null, '', location.pathname + location.search);
  }
  changed();
  toast(note || fill(gettext('You are no longer a member of “{title}”.'), { title: conv.title || '' }));
}

const refreshing = new Map(); // conversation id -> timer: one fetch for a burst of changes
function refreshSoon(id) {
  if (refreshing.has(id)) return;
  refreshing.set(id, setTimeout(async () => {
    refreshing.delete(id);
    try {
      take(await api('GET', `/api/v1/conversations/${id}/`));
    } catch (err) {
      if (err && err.status === 404) drop(id);
    }
  }, 150));
}

events.addEventListener('message', (e) => {
  const f = e.detail;
  if (!f || f.app !== 'group' || !state.convs.has(Number(f.conversation))) return;
  const b = f.body || {};
  // Removed, or left on another device: the server has let go of me already. (Added back
  // later, its next message brings the group back.)
  if ((b.action === 'remove' || b.action === 'leave') && Array.isArray(b.users) && b.users.some((u) => u && u.id === state.me.id)) {
    drop(Number(f.conversation), b.action === 'leave' ? fill(gettext('You left “{title}”.'), { title: (state.convs.get(Number(f.conversation)) || {}).title || '' }) : null);
  } else refreshSoon(Number(f.conversation));
});

export function bindGroupInfo() {
  if (!el.button || !el.dialog) return;
  el.button.addEventListener('click', openDialog);
  el.close.addEventListener('click', closeDialog);
  el.dialog.addEventListener('close', () => {
    dialogFor = null;
    if (!el.button.hidden) el.button.focus();
  });
  events.addEventListener('conversation-open', renderChrome);
  events.addEventListener('conversation-close', () => queueMicrotask(renderChrome));
  events.addEventListener('conversations-changed', renderChrome);
}
