/* Message search in the sidebar (docs/search.md): the search box finds conversations by
 * name as before and, past a couple of characters, messages too, grouped by conversation
 * as you type; a result opens its conversation at that message, marked. Ctrl+K or / puts
 * the cursor in the box; Escape empties it. */

import { api } from './api.js';
import { openConversation, revealMessage } from './conversation.js';
import { h } from './dom.js';
import { gettext } from './i18n.js';
import { convTitle, state, userName } from './state.js';
import { groupByConversation, highlightParts, worthSearching } from './searchtext.js';
import { shortWhen } from './text.js';
import { ui } from './ui.js';

const WAIT_MS = 250;
let box = null;
let timer = null;
let asked = 0; // the latest search; older answers are dropped

function clear() {
  clearTimeout(timer);
  asked++;
  box.hidden = true;
  box.replaceChildren();
}

function schedule() {
  clearTimeout(timer);
  const q = ui.filter.value;
  if (!worthSearching(q)) { clear(); return; }
  timer = setTimeout(() => run(q), WAIT_MS);
}

async function run(q, cursor = null) {
  const mine = ++asked;
  if (!cursor) {
    box.hidden = false;
    box.replaceChildren(h('h2', { class: 'chat-search-head', text: gettext('Messages') }),
      h('p', { class: 'muted small chat-list-note', text: gettext('Searching…') }));
  }
  let page;
  try {
    page = await api('GET', `/api/v1/search/messages/?q=${encodeURIComponent(q)}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
  } catch (e) {
    if (mine !== asked) return;
    show([], null, q, (e && e.detail) || gettext('Search is not available right now.'), !!cursor);
    return;
  }
  if (mine !== asked) return;
  show(page.results || [], page.next || null, q, null, !!cursor);
}

function show(results, next, q, error, more) {
  if (!more) box.replaceChildren(h('h2', { class: 'chat-search-head', text: gettext('Messages') }));
  box.querySelector('.chat-search-more')?.remove();
  box.querySelector('.chat-list-note')?.remove();
  if (error) { box.append(h('p', { class: 'muted small chat-list-note', role: 'alert', text: error })); return; }
  if (!results.length && !more) { box.append(h('p', { class: 'muted small chat-list-note', text: gettext('No messages found.') })); return; }
  for (const group of groupByConversation(results)) {
    const conv = state.convs.get(group.conversation);
    let list = box.querySelector(`ul[data-conversation="${group.conversation}"]`);
    if (!list) {
      box.append(h('h3', { class: 'chat-search-conv', text: conv ? convTitle(conv) : gettext('Conversation') }));
      box.append(list = h('ul', { class: 'chat-search-list', 'data-conversation': group.conversation }));
    }
    for (const r of group.items) list.append(h('li', null, resultButton(r)));
  }
  if (next) {
    box.append(h('button', { type: 'button', class: 'link chat-search-more', 'data-testid': 'search-more', text: gettext('More results'), onclick: () => run(q, next) }));
  }
}

function resultButton(r) {
  const text = h('span', { class: 'chat-search-text' },
    ...highlightParts(r.highlight).map((p) => (p.mark ? h('mark', { text: p.text }) : p.text)));
  return h('button', {
    type: 'button', class: 'chat-search-result', 'data-testid': 'search-result', 'data-id': r.id, 'data-conversation': r.conversation,
    onclick: () => openResult(r),
  }, h('span', { class: 'chat-search-meta' }, h('strong', { text: userName(Number(r.sender)) }), ' ', h('time', { text: shortWhen(r.created) })), text);
}

async function openResult(r) {
  await openConversation(Number(r.conversation));
  await revealMessage(Number(r.id), Number(r.seq), { far: true });
}

export function bindSearch() {
  box = h('section', { class: 'chat-search', id: 'sb-search', 'data-testid': 'search-results', 'aria-label': gettext('Messages found'), 'aria-live': 'polite' });
  box.hidden = true;
  ui.convList.after(box);
  ui.filter.setAttribute('aria-label', gettext('Search conversations and messages'));
  ui.filter.placeholder = gettext('Search (Ctrl+K)');
  ui.filter.addEventListener('input', schedule);
  ui.filter.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && ui.filter.value) {
      e.preventDefault();
      ui.filter.value = '';
      ui.filter.dispatchEvent(new Event('input'));
    }
  });
  document.addEventListener('keydown', (e) => {
    const typing = e.target.closest && e.target.closest('input, textarea, select, [contenteditable="true"]');
    if ((e.key === 'k' && (e.ctrlKey || e.metaKey)) || (e.key === '/' && !typing && !e.ctrlKey && !e.metaKey && !e.altKey)) {
      e.preventDefault();
      ui.root.dataset.view = 'list'; // on a phone the list comes back to show the box
      ui.filter.focus();
      ui.filter.select();
    }
  });
}
