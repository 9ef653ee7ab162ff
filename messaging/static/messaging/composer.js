/* The composer: text in, a chat message out, and the typing signal; each conversation's
 * draft (drafts.js), how long the text may be, the members offered after an `@`
 * (mentions.js), and the bar over it while it answers a message or edits one. */

import { MAX_BODY_BYTES } from './config.js';
import { api } from './api.js';
import { h, isNarrow } from './dom.js';
import { Drafts } from './drafts.js';
import { events } from './events.js';
import { fill, gettext } from './i18n.js';
import { insertMention, mentionAt, mentionCandidates } from './mentions.js';
import { send, takeBackFailed } from './send.js';
import { sendFrame } from './socket.js';
import { state, userName } from './state.js';
import { limitText, quoteOf, textLimit } from './text.js';
import { ui } from './ui.js';

const TYPING_EVERY = 3000;
/** A draft is stored this long after the last keystroke (and at once on leaving). */
const SAVE_AFTER = 300;
let lastTypingSent = 0;

function browserStorage() {
  try {
    const s = globalThis.localStorage;
    s.getItem('switchboard:probe'); // throws where storage is disabled
    return s;
  } catch (e) { return null; }
}

const drafts = new Drafts(browserStorage(), state.me.id, { maxBytes: MAX_BODY_BYTES });

let sendButton = null;
let counter = null;
let contextBar = null;
// What the composer's next message does besides being sent: answer a message (its
// quote), or replace the text of one of mine ({id, conversation, before: draft}).
let replyTo = null;
let editing = null;
let limit = null; // textLimit() of the composer's text, as last shown

function autoGrow() {
  const c = ui.composer;
  c.style.height = 'auto';
  c.style.height = Math.min(c.scrollHeight + 2, 200) + 'px';
}

function showComposerError(text) {
  if (ui.composerError.textContent !== text) ui.composerError.textContent = text;
  ui.composerError.hidden = false;
}

function hideComposerError() {
  ui.composerError.hidden = true;
  ui.composerError.textContent = '';
}

/** The counter near the limit; past it, why the text cannot go, and no sending. */
function showLimit() {
  limit = textLimit(ui.composer.value, MAX_BODY_BYTES);
  const shown = limit.near || limit.over;
  if (counter) {
    counter.hidden = !shown;
    counter.dataset.state = limit.over ? 'over' : 'near';
    if (shown) counter.textContent = limitText(limit).counter;
  }
  if (sendButton) sendButton.disabled = limit.over;
  if (limit.over) {
    ui.composer.setAttribute('aria-invalid', 'true');
    showComposerError(limitText(limit).refusal);
  } else {
    ui.composer.removeAttribute('aria-invalid');
    hideComposerError();
  }
  return limit;
}

// Drafts: stored a moment after typing stops, at once when the conversation changes or the
// page goes away.
let saveTimer = null;
let saveFor = null; // the conversation whose draft is waiting to be stored

function saveDraftSoon() {
  if (editing) return; // the text being edited is not a draft
  const v = state.view;
  if (!v) return;
  if (saveFor !== null && saveFor !== v.id) saveDraftNow();
  saveFor = v.id;
  clearTimeout(saveTimer);
  saveTimer = setTimeout(saveDraftNow, SAVE_AFTER);
}

function saveDraftNow() {
  clearTimeout(saveTimer);
  saveTimer = null;
  if (saveFor === null) return;
  const id = saveFor;
  saveFor = null;
  const v = state.view;
  if (v && v.id === id) drafts.set(id, ui.composer.value);
}

function forgetDraft(id) {
  if (saveFor === id) { clearTimeout(saveTimer); saveTimer = null; saveFor = null; }
  drafts.delete(id);
}

// @mentions: typing `@` at the start or after a space offers the open conversation's
// members in a listbox; arrows choose, Enter or Tab picks, Escape closes.
let mentionBox = null;
let mention = null; // {start, caret, options, active} while the list is open

function closeMentions() {
  if (!mentionBox) return;
  mention = null;
  mentionBox.hidden = true;
  mentionBox.replaceChildren();
  ui.composer.removeAttribute('aria-activedescendant');
  ui.composer.removeAttribute('aria-controls');
}

function updateMentions() {
  const c = ui.composer;
  const v = state.view;
  const conv = v && state.convs.get(v.id);
  const at = conv && c.selectionStart === c.selectionEnd ? mentionAt(c.value, c.selectionStart) : null;
  const options = at ? mentionCandidates(conv.members, at.query, state.me.id) : [];
  if (!options.length) { closeMentions(); return; }
  const was = mention && mention.options[mention.active];
  const keep = was ? options.findIndex((m) => m.id === was.id) : -1;
  mention = { start: at.start, caret: c.selectionStart, options, active: Math.max(0, keep) };
  renderMentions();
}

function renderMentions() {
  const items = mention.options.map((m, i) => h('li', {
    id: `sb-mention-${m.id}`, role: 'option', class: 'mention-option', 'data-testid': 'mention-option',
    'data-username': m.username, 'aria-selected': i === mention.active ? 'true' : 'false',
    onmousedown: (e) => { e.preventDefault(); pickMention(i); },
  }, h('span', { class: 'mention-option-name', text: m.display_name || m.username }),
  h('span', { class: 'mention-option-username', text: `@${m.username}` })));
  mentionBox.replaceChildren(...items);
  mentionBox.hidden = false;
  ui.composer.setAttribute('aria-controls', mentionBox.id);
  ui.composer.setAttribute('aria-activedescendant', items[mention.active].id);
  items[mention.active].scrollIntoView({ block: 'nearest' });
}

function pickMention(i) {
  const m = mention && mention.options[i];
  if (!m) return;
  const c = ui.composer;
  const put = insertMention(c.value, mention.start, mention.caret, m.username);
  closeMentions();
  c.value = put.text;
  c.focus({ preventScroll: true });
  c.setSelectionRange(put.caret, put.caret);
  onComposerInput();
}

/** The list's keys, while it is open: true when the key was the list's. */
function mentionKey(e) {
  if (!mention || e.isComposing || e.keyCode === 229) return false;
  const n = mention.options.length;
  if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
    mention.active = (mention.active + (e.key === 'ArrowDown' ? 1 : n - 1)) % n;
    renderMentions();
  } else if ((e.key === 'Enter' && !e.shiftKey) || (e.key === 'Tab' && !e.shiftKey)) {
    pickMention(mention.active);
  } else if (e.key === 'Escape') {
    closeMentions();
    e.stopPropagation();
  } else return false;
  e.preventDefault();
  return true;
}

/** Answer a message of the open conversation: the bar shows its quote until sent or
 * closed. */
export function startReply(msg) {
  const v = state.view;
  if (!v || v.id !== msg.conversation) return;
  endEdit(true);
  replyTo = quoteOf(msg);
  showContext();
  ui.composer.focus({ preventScroll: true });
}

/** Edit one of my chat messages in the composer (the draft waits meanwhile). */
export function startEdit(msg) {
  const v = state.view;
  if (!v || v.id !== msg.conversation || !msg.body || typeof msg.body.text !== 'string') return;
  replyTo = null;
  if (!editing) editing = { before: ui.composer.value };
  Object.assign(editing, { id: msg.id, conversation: msg.conversation });
  ui.composer.value = msg.body.text;
  autoGrow();
  showLimit();
  showContext();
  ui.composer.focus({ preventScroll: true });
  ui.composer.setSelectionRange(ui.composer.value.length, ui.composer.value.length);
}

/** Leave editing; the draft comes back unless `keepText`. */
function endEdit(keepText = false) {
  if (!editing) return;
  const before = editing.before;
  editing = null;
  if (!keepText) ui.composer.value = before;
  autoGrow();
  showLimit();
  showContext();
}

function cancelContext() {
  if (editing) endEdit();
  replyTo = null;
  showContext();
  ui.composer.focus({ preventScroll: true });
}

function showContext() {
  if (!contextBar) return;
  contextBar.replaceChildren();
  const close = h('button', { type: 'button', class: 'composer-context-close', 'data-testid': 'composer-context-close', 'aria-label': gettext('Cancel'), title: gettext('Cancel (Esc)'), text: '×', onclick: cancelContext });
  if (editing) {
    contextBar.append(h('span', { class: 'composer-context-label', text: gettext('Editing message') }), close);
  } else if (replyTo) {
    const what = replyTo.quote || gettext('Message');
    contextBar.append(h('span', { class: 'composer-context-label' },
      h('strong', { text: fill(gettext('Replying to {name}'), { name: userName(replyTo.sender) }) }), ' ',
      h('span', { class: 'composer-context-quote', text: what })), close);
  }
  contextBar.hidden = !contextBar.childElementCount;
  contextBar.dataset.mode = editing ? 'edit' : replyTo ? 'reply' : '';
}

async function submitEdit(text) {
  const { id } = editing;
  try {
    await api('PATCH', `/api/v1/messages/${id}/`, { body: { text } });
  } catch (e) {
    showComposerError(e && e.message ? e.message : gettext('Something went wrong.'));
    return;
  }
  endEdit();
  // Everyone, this page too, sees the edit through the socket's message_update.
}

function submitComposer() {
  const v = state.view;
  if (!v) return;
  closeMentions();
  const text = ui.composer.value;
  if (!text.trim()) return;
  if (showLimit().over) return;
  if (editing) { submitEdit(text); return; }
  ui.composer.value = '';
  forgetDraft(v.id);
  autoGrow();
  showLimit();
  const reply = replyTo;
  replyTo = null;
  showContext();
  send(v.id, 'chat', { text }, { reply_to: reply });
  lastTypingSent = 0; // the message clears the indicator on the other side: typing again shows it again
  ui.composer.focus({ preventScroll: true });
}

function onComposerInput() {
  autoGrow();
  showLimit();
  saveDraftSoon();
  updateMentions();
  const v = state.view;
  if (!v || !ui.composer.value.trim()) return;
  const now = Date.now();
  if (now - lastTypingSent < TYPING_EVERY) return;
  if (sendFrame({ type: 'typing', conversation: v.id })) lastTypingSent = now;
}

/** A failed message's text back in its conversation's composer, before what is there. */
function putBack(item) {
  const text = item.body.text;
  const v = state.view;
  if (!v || v.id !== item.conversation) {
    const old = drafts.get(item.conversation);
    drafts.set(item.conversation, old.trim() ? `${text}\n\n${old}` : text);
    return;
  }
  const old = ui.composer.value;
  ui.composer.value = old.trim() ? `${text}\n\n${old}` : text;
  autoGrow();
  showLimit();
  saveFor = v.id;
  saveDraftNow();
  ui.composer.focus({ preventScroll: true });
  ui.composer.setSelectionRange(text.length, text.length);
}

// Each conversation keeps its draft while another is open, and across reloads.
events.addEventListener('conversation-close', (e) => {
  endEdit();
  replyTo = null;
  showContext();
  if (saveFor === e.detail.id) { clearTimeout(saveTimer); saveTimer = null; saveFor = null; }
  drafts.set(e.detail.id, ui.composer.value);
});
events.addEventListener('conversation-open', (e) => {
  closeMentions();
  ui.composer.value = drafts.get(e.detail.id);
  autoGrow();
  showLimit();
  if (!isNarrow()) ui.composer.focus({ preventScroll: true });
});
// "Edit" under a failed message: send.js takes it out of the outbox, its text comes here.
events.addEventListener('message-reedit', (e) => {
  const item = takeBackFailed(e.detail);
  if (item) putBack(item);
});

export function bindComposer() {
  sendButton = ui.form.querySelector('button[type="submit"]');
  counter = h('span', { class: 'composer-count', 'data-testid': 'composer-count' });
  counter.hidden = true;
  ui.composer.after(counter);
  contextBar = h('div', { class: 'composer-context', 'data-testid': 'composer-context', role: 'status' });
  contextBar.hidden = true;
  ui.form.prepend(contextBar);
  mentionBox = h('ul', { id: 'sb-mention-list', class: 'mention-list', role: 'listbox', 'aria-label': gettext('Mention someone'), 'data-testid': 'mention-list' });
  mentionBox.hidden = true;
  ui.form.prepend(mentionBox);
  ui.composer.setAttribute('aria-autocomplete', 'list');
  ui.composer.addEventListener('blur', closeMentions);
  ui.composer.addEventListener('click', updateMentions);
  ui.composer.addEventListener('keyup', (e) => { if (e.key === 'ArrowLeft' || e.key === 'ArrowRight' || e.key === 'Home' || e.key === 'End') updateMentions(); });
  ui.form.addEventListener('submit', (e) => { e.preventDefault(); submitComposer(); });
  ui.composer.addEventListener('keydown', (e) => {
    if (mentionKey(e)) return;
    if (e.key === 'Escape' && (editing || replyTo)) { e.preventDefault(); cancelContext(); return; }
    if (e.key === 'Enter' && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      submitComposer();
    }
  });
  ui.composer.addEventListener('input', onComposerInput);
  // A reload or a closed tab within the moment after the last keystroke keeps it too.
  window.addEventListener('pagehide', saveDraftNow);
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'hidden') saveDraftNow(); });
}
