/* The web chat (docs/protocol.md): one WebSocket for real time, the REST API for lists and
 * history. Each concern is a module of its own; this one starts the page:
 *
 *   socket.js        the /ws/ connection, keepalive, reconnect (backoff.js)
 *   incoming.js      each server frame and what it changes
 *   send.js          sending through the outbox (outbox.js), acks and refusals
 *   conversation.js  the open conversation: history, seq gaps (seqgap.js), reading, typing
 *   messages.js      one message on screen; renderers.js draws its body by app
 *   actions.js       the message menu: react, reply, forward, copy, edit, recall
 *   sidebar.js       the inbox: conversations, badges, mute and pin, presence dots (presence.js)
 *   search.js        the search box's message results (searchtext.js)
 *   offline.js       what is kept on this device (store.js, saved.js) and shown offline
 *   composer.js      text in; picker.js the new-chat dialog, groups.js the new-group one
 *   groupinfo.js     a group's notice, its change lines and Group info (members, leave; the owner's changes)
 *   p2p.js           data channels to peers, the transport badge; direct.js what a peer sends
 *   viewport.js      on a phone, the chat above the on-screen keyboard
 *   client.js        what office apps import
 */

import { bindActions } from './actions.js';
import { api, listOf, onUnauthorized } from './api.js';
import { bindComposer } from './composer.js';
import {
  closeConversation, hashConversation, markRead, maybeLoadOlder, nearBottom, notePinned, isPinned,
  openConversation, reloadSaved, scrollToBottom,
} from './conversation.js';
import { h } from './dom.js';
import { bindGroupDialog } from './groups.js';
import { bindGroupInfo } from './groupinfo.js';
import { gettext } from './i18n.js';
import { askNotificationPermission, listen } from './incoming.js';
import { leaveSavedInbox, showSavedInbox, startKeeping } from './offline.js';
import { checkIdle, noteVisibility, onUserActivity } from './presence.js';
import { bindPicker } from './picker.js';
import { bindSearch } from './search.js';
import { applyFilter, openDirect } from './sidebar.js';
import { connect, goOffline, isHelloed, ping, reconnectNow, sendFrame, setConnState, signedOut } from './socket.js';
import { changed, learnUser, loadLastId, state, upsertConv } from './state.js';
import { ui } from './ui.js';
import { bindViewport } from './viewport.js';

async function loadInitial() {
  const [contacts, convs] = await Promise.all([
    api('GET', '/api/v1/contacts/'),
    api('GET', '/api/v1/conversations/'),
  ]);
  leaveSavedInbox(); // the server's inbox takes the place of the one kept here
  state.contacts = listOf(contacts);
  for (const c of state.contacts) learnUser(c);
  for (const c of listOf(convs)) upsertConv(c);
  state.loaded = true;
  changed(); // the inbox renders, an open New chat dialog fills in
}

function bindEvents() {
  ui.filter.addEventListener('input', applyFilter);
  bindGroupDialog();
  bindGroupInfo();
  bindPicker();
  bindComposer();
  bindActions();
  bindSearch();
  ui.back.addEventListener('click', () => {
    if (history.state && history.state.sbConversation) history.back();
    else { closeConversation(); history.replaceState(null, '', location.pathname + location.search); }
  });
  window.addEventListener('popstate', () => {
    const id = hashConversation();
    if (id) openConversation(id, { push: false });
    else closeConversation();
  });
  // On a phone, the Chat tab of the inbox's own page goes back to the top of the inbox.
  if (ui.chatTab) {
    ui.chatTab.addEventListener('click', (e) => {
      if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
      e.preventDefault();
      ui.convList.closest('.chat-sidebar-scroll').scrollTo({ top: 0, behavior: 'smooth' });
    });
  }
  bindViewport();

  if ('ResizeObserver' in window) {
    const keepPinned = () => { if (isPinned() && state.view) ui.history.scrollTop = ui.history.scrollHeight; };
    const ro = new ResizeObserver(keepPinned);
    ro.observe(ui.history);
    ro.observe(ui.list);
  }
  ui.history.addEventListener('scroll', () => {
    notePinned();
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
    noteVisibility();
    if (document.visibilityState !== 'hidden') {
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
  window.addEventListener('offline', goOffline);
}

/** A pause before trying the server again, cut short when the browser is back online;
 * resolves to whether it was. */
function pause(tries) {
  return new Promise((resolve) => {
    const online = () => { clearTimeout(timer); resolve(true); };
    const timer = setTimeout(() => { window.removeEventListener('online', online); resolve(false); },
      Math.min(15000, 1000 * 2 ** tries) * Math.random() + 500);
    window.addEventListener('online', online, { once: true });
  });
}

async function start() {
  if (!ui.root) return;
  onUnauthorized(signedOut);
  state.outbox.ready = isHelloed;
  state.outbox.sendFrame = (frame) => sendFrame(frame, true);
  state.lastId = loadLastId();
  learnUser(state.me);
  listen();
  bindEvents();
  setConnState('connecting');
  // What this device keeps; the messages an earlier page could not send go with this one's.
  await startKeeping();
  let tries = 0;
  let opened = false; // the conversation the address names, opened from the kept inbox
  for (;;) {
    try {
      await loadInitial();
      break;
    } catch (e) {
      if (state.signedOut) return;
      tries++;
      if (state.savedView) {
        // The kept inbox is on screen already.
      } else if (await showSavedInbox()) {
        // The server is out of reach: the inbox and messages kept on this device meanwhile.
        setConnState('offline');
        const id = hashConversation();
        if (id) { opened = true; openConversation(id, { push: false }); }
      } else {
        ui.convList.replaceChildren(h('li', { class: 'muted small chat-list-note' }, gettext('Could not load your contacts and conversations.'), ' ',
          h('button', { type: 'button', class: 'link', text: gettext('Try again'), onclick: () => location.reload() })));
      }
      if (await pause(tries)) tries = 0;
    }
  }
  connect();
  reloadSaved(); // a conversation opened from the kept inbox: the server's messages now
  if (opened) return;
  // /chat/?with=<user id> (the People page's "Message"): that person's direct chat.
  const params = new URLSearchParams(location.search);
  const withUser = Number(params.get('with'));
  if (withUser > 0) {
    history.replaceState(null, '', location.pathname + location.hash);
    openDirect(withUser);
    return;
  }
  const id = hashConversation();
  if (id) openConversation(id, { push: false });
}

start();
