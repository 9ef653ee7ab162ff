/* Presence: whom this page follows (docs/protocol.md, "Presence subscriptions"), what
 * they are, and this user's own online/away. */

import { h } from './dom.js';
import { emit } from './events.js';
import { gettext } from './i18n.js';
import { isHelloed, sendFrame } from './socket.js';
import { otherMember, state } from './state.js';

// The people this page shows, at most PRESENCE_MAX of them; the others show no dot.
const PRESENCE_MAX = 500;
const IDLE_MS = 5 * 60 * 1000;
const followed = { sent: null, kept: new Set() };

/** online | away | offline, or unknown for someone this page does not follow. */
export const presenceOf = (id) => state.presence.get(id) || (followed.kept.has(id) ? 'offline' : 'unknown');

const TITLES = { online: () => gettext('Online'), away: () => gettext('Away'), offline: () => gettext('Offline') };
export const presenceTitle = (st) => (TITLES[st] ? TITLES[st]() : '');

export function presenceDot(uid) {
  const st = presenceOf(uid);
  return h('span', { class: 'presence-dot', 'data-testid': 'presence', 'data-status': st, title: presenceTitle(st) });
}

/** The people whose presence this page shows: direct partners, then contacts. */
function presenceWanted() {
  const ids = new Set();
  for (const c of state.convs.values()) {
    const other = otherMember(c);
    if (other) ids.add(other);
  }
  for (const c of state.contacts) ids.add(c.id);
  ids.delete(state.me.id);
  return [...ids].slice(0, PRESENCE_MAX);
}

/** Tell the server whom to follow, when that changed since this connection last said. */
export function followPresence() {
  if (!isHelloed() || !state.loaded) return;
  const wanted = presenceWanted();
  const key = [...wanted].sort((a, b) => a - b).join(',');
  if (key === followed.sent) return;
  if (sendFrame({ type: 'presence_subscribe', users: wanted }, true)) followed.sent = key;
}

/** A new connection follows no one yet: say whom again; the answer brings each one's
 * presence, offline included. */
export function followAgain() {
  followed.sent = null;
  followPresence();
}

export function onPresenceSubscribed(f) {
  followed.kept = new Set((f.users || []).map(Number));
  for (const uid of [...state.presence.keys()]) if (!followed.kept.has(uid)) state.presence.delete(uid);
  emit('presence-changed');
}

export function onPresence(f) {
  const uid = Number(f.user);
  const st = ['online', 'away', 'offline'].includes(f.status) ? f.status : 'offline';
  if (presenceOf(uid) === st) return;
  state.presence.set(uid, st);
  emit('presence-changed');
}

// This user: away after five minutes hidden or idle.
let myStatus = 'online';
let lastInput = Date.now();
let hiddenSince = document.visibilityState === 'hidden' ? Date.now() : null;

export const myPresence = () => myStatus;

function setMyStatus(st) {
  if (myStatus === st) return;
  myStatus = st;
  sendFrame({ type: 'presence', status: st });
}

export function onUserActivity() {
  lastInput = Date.now();
  if (myStatus === 'away' && document.visibilityState === 'visible') setMyStatus('online');
}

export function noteVisibility() {
  if (document.visibilityState === 'hidden') hiddenSince = Date.now();
  else {
    hiddenSince = null;
    onUserActivity();
  }
}

export function checkIdle() {
  const now = Date.now();
  const idle = now - lastInput >= IDLE_MS;
  const hiddenLong = hiddenSince !== null && now - hiddenSince >= IDLE_MS;
  if ((idle || hiddenLong) && myStatus === 'online') setMyStatus('away');
}
