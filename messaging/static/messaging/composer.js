/* The composer: text in, a chat message out, and the typing signal. */

import { MAX_BODY_BYTES } from './config.js';
import { isNarrow } from './dom.js';
import { events } from './events.js';
import { gettext } from './i18n.js';
import { send } from './send.js';
import { sendFrame } from './socket.js';
import { state } from './state.js';
import { bodySize } from './text.js';
import { ui } from './ui.js';

const TYPING_EVERY = 3000;
let lastTypingSent = 0;

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
  if (bodySize(body) > MAX_BODY_BYTES) { showComposerError(gettext('This message is too long to send.')); return; }
  hideComposerError();
  ui.composer.value = '';
  state.drafts.delete(v.id);
  autoGrow();
  send(v.id, 'chat', body);
  lastTypingSent = 0; // the message clears the indicator on the other side: typing again shows it again
  ui.composer.focus({ preventScroll: true });
}

function onComposerInput() {
  autoGrow();
  if (!ui.composerError.hidden && bodySize({ text: ui.composer.value }) <= MAX_BODY_BYTES) hideComposerError();
  const v = state.view;
  if (!v || !ui.composer.value.trim()) return;
  const now = Date.now();
  if (now - lastTypingSent < TYPING_EVERY) return;
  if (sendFrame({ type: 'typing', conversation: v.id })) lastTypingSent = now;
}

// Each conversation keeps its draft while another is open.
events.addEventListener('conversation-close', (e) => { state.drafts.set(e.detail.id, ui.composer.value); });
events.addEventListener('conversation-open', (e) => {
  ui.composer.value = state.drafts.get(e.detail.id) || '';
  autoGrow();
  hideComposerError();
  if (!isNarrow()) ui.composer.focus({ preventScroll: true });
});

export function bindComposer() {
  ui.form.addEventListener('submit', (e) => { e.preventDefault(); submitComposer(); });
  ui.composer.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      submitComposer();
    }
  });
  ui.composer.addEventListener('input', onComposerInput);
}
