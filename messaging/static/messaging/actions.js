/* What can be done to a message (docs/protocol.md, "Message actions"): the menu that its
 * ⋯ button, a right click or a long press opens (react, reply, forward, copy, edit,
 * recall), the reactions under it, and the dialog that forwards it. Every action is
 * checked again by the server; the menu only leaves out what it would refuse. */

import { api } from './api.js';
import { startEdit, startReply } from './composer.js';
import { config } from './config.js';
import { updateMessage } from './conversation.js';
import { h, isNarrow, toast } from './dom.js';
import { events } from './events.js';
import { fill, gettext, ngettext } from './i18n.js';
import { forward } from './send.js';
import { sendFrame } from './socket.js';
import { convActivity, convTitle, state } from './state.js';
import { normaliseReactions, parseDate } from './text.js';

const REACTIONS = Array.isArray(config.reactions) && config.reactions.length ? config.reactions : ['👍', '❤️', '😂', '🎉', '🙏', '👀'];
const EDIT_MS = (Number(config.edit_window_seconds) || 900) * 1000;
const RECALL_MS = (Number(config.recall_window_seconds) || 120) * 1000;
/** Conversations one forward may go to at most. */
export const FORWARD_MAX = 10;

let menu = null;
let menuFor = null;
let returnFocus = null;

/** What the menu offers for a message, in order (tested with node --test). */
export function actionsFor(msg, meId, now = Date.now(), windows = { edit: EDIT_MS, recall: RECALL_MS }) {
  // A group change is a line of the timeline, not something said: it has no actions.
  if (!msg || !msg.id || msg.recalled || msg.app === 'group') return [];
  const own = msg.sender === meId;
  const age = now - parseDate(msg.created_at).getTime();
  const isChat = msg.app === 'chat' && msg.body && typeof msg.body.text === 'string';
  const list = ['react', 'reply'];
  if (isChat) list.push('forward', 'copy');
  if (own && isChat && age < windows.edit) list.push('edit');
  if (own && age < windows.recall) list.push('recall');
  return list;
}

const LABELS = {
  reply: () => gettext('Reply'),
  forward: () => gettext('Forward'),
  copy: () => gettext('Copy text'),
  edit: () => gettext('Edit'),
  recall: () => gettext('Recall'),
};

function closeMenu() {
  if (!menu || menu.hidden) return;
  menu.hidden = true;
  menu.replaceChildren();
  menuFor = null;
  if (returnFocus) returnFocus.setAttribute('aria-expanded', 'false');
  if (returnFocus && returnFocus.isConnected) returnFocus.focus({ preventScroll: true });
  returnFocus = null;
}

function openMenu(msg, anchor) {
  const actions = actionsFor(msg, state.me.id);
  if (!actions.length) return;
  closeMenu();
  menuFor = msg;
  returnFocus = anchor;
  anchor.setAttribute('aria-expanded', 'true');
  const items = [];
  if (actions.includes('react')) {
    const row = h('div', { class: 'msg-menu-reactions', role: 'group', 'aria-label': gettext('React') });
    for (const emoji of REACTIONS) {
      const mine = (msg.reactions || []).some((r) => r.emoji === emoji && r.me);
      const b = h('button', {
        type: 'button', role: 'menuitemcheckbox', 'aria-checked': mine ? 'true' : 'false', class: 'msg-menu-emoji',
        'data-testid': 'react-choice', 'data-emoji': emoji, title: emoji, text: emoji,
        onclick: () => { react(msg, emoji, !mine); closeMenu(); },
      });
      row.append(b);
      items.push(b);
    }
    menu.append(row);
  }
  for (const action of actions) {
    if (action === 'react') continue;
    const b = h('button', {
      type: 'button', role: 'menuitem', class: 'msg-menu-item' + (action === 'recall' ? ' msg-menu-danger' : ''),
      'data-testid': `action-${action}`, text: LABELS[action](),
      onclick: () => { closeMenu(); run(action, msg); },
    });
    menu.append(b);
    items.push(b);
  }
  menu.hidden = false;
  place(anchor);
  (items.find((b) => b.classList.contains('msg-menu-item')) || items[0]).focus({ preventScroll: true });
}

/** Beside the message's ⋯ button, kept inside the window; on a phone, at the bottom. */
function place(anchor) {
  menu.style.left = menu.style.top = '';
  if (isNarrow()) { menu.dataset.sheet = 'true'; return; }
  delete menu.dataset.sheet;
  const a = anchor.getBoundingClientRect();
  const m = menu.getBoundingClientRect();
  const left = Math.min(Math.max(8, a.right - m.width), window.innerWidth - m.width - 8);
  let top = a.bottom + 4;
  if (top + m.height > window.innerHeight - 8) top = Math.max(8, a.top - m.height - 4);
  menu.style.left = `${left}px`;
  menu.style.top = `${top}px`;
}

function run(action, msg) {
  if (action === 'reply') startReply(msg);
  else if (action === 'forward') openForward(msg);
  else if (action === 'copy') copyText(msg);
  else if (action === 'edit') startEdit(msg);
  else if (action === 'recall') recall(msg);
}

async function copyText(msg) {
  try {
    await navigator.clipboard.writeText(msg.body.text);
    toast(gettext('Copied.'));
  } catch (e) {
    toast(gettext('Could not copy the text.'));
  }
}

async function recall(msg) {
  try {
    await api('POST', `/api/v1/messages/${msg.id}/recall/`);
  } catch (e) {
    toast(e && e.message ? e.message : gettext('Something went wrong.'));
  }
  // The message_update that every member hears shows it recalled, here too.
}

/** Give or take back a reaction; the server's message_update (to every member, this
 * page too) shows it. */
export function react(msg, emoji, on) {
  if (!msg.id) return;
  if (!sendFrame({ type: 'react', message: msg.id, emoji, on })) {
    api('POST', `/api/v1/messages/${msg.id}/react/`, { emoji, on })
      .then((res) => {
        const v = state.view;
        const shown = v && v.byId.get(msg.id);
        if (shown && res && Array.isArray(res.reactions)) updateMessage(shown, { reactions: normaliseReactions(res.reactions) });
      })
      .catch((e) => toast(e && e.message ? e.message : gettext('Something went wrong.')));
  }
}

// --- who reacted ----------------------------------------------------------------------------

const peopleAsked = new WeakMap(); // a message -> {key, people}: asked once per state of its reactions

/** Hovering or focusing a reaction names who gave it (its title). */
async function namePeople(chip) {
  const li = chip.closest('.msg');
  const v = state.view;
  const msg = li && v && v.byId.get(Number(li.dataset.id));
  if (!msg || chip.title) return;
  const key = JSON.stringify(msg.reactions || []);
  let asked = peopleAsked.get(msg);
  if (!asked || asked.key !== key) {
    asked = { key, people: api('GET', `/api/v1/messages/${msg.id}/reactions/`).catch(() => []) };
    peopleAsked.set(msg, asked);
  }
  const entry = (await asked.people).find((r) => r.emoji === chip.dataset.emoji);
  if (!entry || !chip.isConnected) return;
  const names = entry.users.map((u) => (u.id === state.me.id ? gettext('you') : u.display_name));
  const more = entry.count - names.length;
  const list = more > 0 ? fill(ngettext('{names} and {n} other', '{names} and {n} others', more), { names: names.join(', '), n: more }) : names.join(', ');
  chip.title = fill(gettext('{names} reacted with {emoji}'), { names: list, emoji: entry.emoji });
}

// --- forwarding ----------------------------------------------------------------------------

let dialog = null;

function openForward(msg) {
  if (!dialog) dialog = buildForwardDialog();
  const { filter, list, count, submit, error } = dialog.refs;
  dialog.msg = msg;
  dialog.chosen = new Set();
  filter.value = '';
  error.hidden = true;
  renderTargets();
  count.textContent = '';
  submit.disabled = true;
  dialog.el.showModal();
  filter.focus();

  function renderTargets() {
    const q = filter.value.trim().toLowerCase();
    const convs = [...state.convs.values()]
      .filter((c) => !q || convTitle(c).toLowerCase().includes(q))
      .sort((a, b) => convActivity(b) - convActivity(a))
      .slice(0, 100);
    list.replaceChildren(...convs.map((c) => {
      const id = `sb-forward-${c.id}`;
      const box = h('input', { type: 'checkbox', id, value: c.id, 'data-testid': 'forward-target' });
      box.checked = dialog.chosen.has(c.id);
      box.disabled = !box.checked && dialog.chosen.size >= FORWARD_MAX;
      box.addEventListener('change', () => {
        if (box.checked) dialog.chosen.add(c.id); else dialog.chosen.delete(c.id);
        const n = dialog.chosen.size;
        count.textContent = n ? fill(ngettext('{n} chosen', '{n} chosen', n), { n }) : '';
        submit.disabled = !n;
        renderTargets();
        document.getElementById(id)?.focus();
      });
      return h('li', null, box, h('label', { for: id, text: convTitle(c) }));
    }));
  }
  dialog.render = renderTargets;
}

function buildForwardDialog() {
  const filter = h('input', { type: 'search', placeholder: gettext('Filter conversations'), 'aria-label': gettext('Filter conversations'), autocomplete: 'off' });
  const list = h('ul', { class: 'chat-pick forward-pick', 'data-testid': 'forward-targets' });
  const count = h('span', { class: 'muted small', 'aria-live': 'polite' });
  const error = h('p', { class: 'alert alert-error', role: 'alert' });
  error.hidden = true;
  const submit = h('button', { type: 'submit', class: 'button button-primary', 'data-testid': 'forward-send', text: gettext('Forward') });
  const cancel = h('button', { type: 'button', class: 'button button-quiet', text: gettext('Cancel') });
  const form = h('form', { class: 'form', method: 'dialog' },
    h('h2', { id: 'sb-forward-title', text: gettext('Forward to…') }),
    filter, list, error,
    h('div', { class: 'chat-dialog-actions' }, count, cancel, submit));
  const el = h('dialog', { class: 'chat-dialog card', 'data-testid': 'forward-dialog', 'aria-labelledby': 'sb-forward-title' }, form);
  document.body.append(el);
  filter.addEventListener('input', () => dialog.render());
  cancel.addEventListener('click', () => el.close());
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const targets = [...dialog.chosen];
    if (!targets.length) return;
    for (const id of targets) forward(id, dialog.msg);
    el.close();
    toast(fill(ngettext('Forwarded to {n} conversation.', 'Forwarded to {n} conversations.', targets.length), { n: targets.length }));
  });
  return { el, refs: { filter, list, count, submit, error } };
}

export function bindActions() {
  menu = h('div', { class: 'msg-menu card', role: 'menu', 'data-testid': 'message-menu', 'aria-label': gettext('Message actions') });
  menu.hidden = true;
  document.body.append(menu);
  events.addEventListener('message-menu', (e) => {
    const { msg, anchor } = e.detail;
    if (menuFor === msg && !menu.hidden) closeMenu();
    else openMenu(msg, anchor);
  });
  events.addEventListener('message-react', (e) => react(e.detail.msg, e.detail.emoji, e.detail.on));
  events.addEventListener('conversation-close', closeMenu);
  document.addEventListener('click', (e) => {
    if (!menu.hidden && !menu.contains(e.target) && !e.target.closest('.msg-menu-button')) closeMenu();
  }, true);
  document.addEventListener('keydown', (e) => {
    if (menu.hidden) return;
    if (e.key === 'Escape') { e.preventDefault(); closeMenu(); return; }
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp' || e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
      const items = [...menu.querySelectorAll('button')];
      const i = items.indexOf(document.activeElement);
      const step = e.key === 'ArrowDown' || e.key === 'ArrowRight' ? 1 : -1;
      items[(i + step + items.length) % items.length].focus();
      e.preventDefault();
    }
  });
  const history = document.getElementById('sb-history');
  history?.addEventListener('scroll', closeMenu, { passive: true });
  for (const type of ['pointerover', 'focusin']) {
    history?.addEventListener(type, (e) => {
      const chip = e.target.closest && e.target.closest('.reaction');
      if (chip) namePeople(chip);
    });
  }
}
