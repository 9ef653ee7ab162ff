/* The WebSocket (docs/protocol.md): connect with the session cookie, keepalive, reconnect
 * with backoff and full jitter, and hand each frame to its handler. */

import { reconnectDelay } from './backoff.js';
import { config } from './config.js';
import { h } from './dom.js';
import { emit } from './events.js';
import { gettext } from './i18n.js';
import { state } from './state.js';
import { ui } from './ui.js';

const PING_EVERY = 25000;
const PONG_WITHIN = 10000;

const conn = {
  ws: null, gen: 0, attempt: 0, timer: null, pingTimer: null, deadline: null,
  helloed: false, everOnline: false, failuresBeforeOpen: 0, lastProbe: 0,
};
const handlers = new Map(); // frame type -> fn(frame)

/** Handle frames of this type (one handler each; the event bus has the rest). */
export function onFrame(type, fn) { handlers.set(type, fn); }

/** The socket is open and the server said hello: frames that need a user may go. */
export const isHelloed = () => !!(conn.ws && conn.helloed && conn.ws.readyState === WebSocket.OPEN);
/** Whether this page had a connection before (a hello now is a reconnection). */
export const wasOnline = () => conn.everOnline;

function wsURL() {
  const path = config.ws_path + (config.ws_path.includes('?') ? '&' : '?') + 'presence=subscribe';
  return (location.protocol === 'https:' ? 'wss' : 'ws') + '://' + location.host + path;
}

export function setConnState(st) {
  if (!ui.conn) return;
  // The inbox kept on this device stands in for the server's until the server answers.
  if (state.savedView && st !== 'online') st = 'offline';
  ui.conn.dataset.state = st;
  ui.conn.dataset.saved = state.savedView ? 'true' : 'false';
  const text = ui.conn.querySelector('.chat-connection-text');
  if (state.signedOut) {
    text.replaceChildren(gettext('Your session has ended.'), ' ',
      h('a', { href: '/accounts/login/?next=' + encodeURIComponent(location.pathname + location.hash), text: gettext('Sign in again') }));
    return;
  }
  text.textContent = st === 'online' ? ''
    : state.savedView ? gettext('Offline — showing saved messages')
    : st === 'offline' ? gettext('Offline — messages will be sent when the connection is back')
      : conn.everOnline ? gettext('Reconnecting…') : gettext('Connecting…');
}

export function connect() {
  clearTimeout(conn.timer);
  conn.timer = null;
  if (state.signedOut || conn.ws) return;
  if (navigator.onLine === false) { setConnState('offline'); return; }
  setConnState(conn.attempt > 3 ? 'offline' : 'connecting');
  let ws;
  try { ws = new WebSocket(wsURL()); } catch (e) { scheduleReconnect(); return; }
  const gen = ++conn.gen;
  conn.ws = ws;
  conn.helloed = false;
  let opened = false;
  ws.onopen = () => {
    if (gen !== conn.gen) return;
    opened = true;
    conn.failuresBeforeOpen = 0;
    startKeepalive();
  };
  ws.onmessage = (e) => { if (gen === conn.gen) onRaw(e.data); };
  ws.onclose = () => {
    if (gen !== conn.gen) return;
    if (!opened) conn.failuresBeforeOpen++;
    dropSocket();
    scheduleReconnect();
  };
  ws.onerror = () => { /* onclose follows */ };
}

function dropSocket() {
  const ws = conn.ws;
  conn.ws = null;
  conn.gen++;
  conn.helloed = false;
  stopKeepalive();
  if (ws) {
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    try { ws.close(); } catch (e) { /* already closed */ }
  }
}

function scheduleReconnect() {
  if (state.signedOut || conn.timer || conn.ws) return;
  const delay = reconnectDelay(conn.attempt);
  conn.attempt++;
  setConnState(navigator.onLine === false || conn.attempt > 3 ? 'offline' : 'connecting');
  conn.timer = setTimeout(connect, delay);
  // A handshake refused again and again may mean the session ended.
  if (conn.failuresBeforeOpen >= 2 && Date.now() - conn.lastProbe > 8000) {
    conn.lastProbe = Date.now();
    fetch('/api/v1/me/', { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then((r) => { if (r.status === 401 || r.status === 403) signedOut(); })
      .catch(() => {});
  }
}

/** Back online: connect now, not after the backoff. */
export function reconnectNow() {
  clearTimeout(conn.timer);
  conn.timer = null;
  conn.attempt = 0;
  if (!conn.ws) connect();
}

/** The browser says the network is gone. */
export function goOffline() {
  clearTimeout(conn.timer);
  conn.timer = null;
  dropSocket();
  setConnState('offline');
}

/** The session has ended: stop reconnecting and say so. */
export function signedOut() {
  if (state.signedOut) return;
  state.signedOut = true;
  clearTimeout(conn.timer);
  conn.timer = null;
  dropSocket();
  setConnState('offline');
  emit('signed-out'); // what this device kept of the person goes (offline.js)
}

/** The server answered that the session is gone (an error frame): connecting again tells
 * whether it ended or changed under this page (a refused handshake twice, then the probe). */
export function sessionInDoubt() { conn.attempt = 0; }

function startKeepalive() {
  stopKeepalive();
  conn.pingTimer = setInterval(ping, PING_EVERY);
}

function stopKeepalive() {
  clearInterval(conn.pingTimer);
  clearTimeout(conn.deadline);
  conn.pingTimer = null;
  conn.deadline = null;
}

/** Ask the server for a pong; without one soon, the socket is dead even if the browser
 * has not noticed (a laptop waking up). */
export function ping() {
  if (!conn.ws || conn.ws.readyState !== WebSocket.OPEN) return;
  try { conn.ws.send('{"type":"ping"}'); } catch (e) { return; }
  if (!conn.deadline) {
    conn.deadline = setTimeout(() => {
      conn.deadline = null;
      dropSocket();
      scheduleReconnect();
    }, PONG_WITHIN);
  }
}

/** Send a frame now if the socket is ready; returns whether it went. */
export function sendFrame(frame, needsHello) {
  const ws = conn.ws;
  if (!ws || ws.readyState !== WebSocket.OPEN || (needsHello && !conn.helloed)) return false;
  try { ws.send(JSON.stringify(frame)); return true; } catch (e) { return false; }
}

function onRaw(data) {
  clearTimeout(conn.deadline);
  conn.deadline = null;
  let f;
  try { f = JSON.parse(data); } catch (e) { return; }
  if (!f || typeof f !== 'object' || typeof f.type !== 'string') return;
  if (f.type === 'hello') {
    conn.helloed = true;
    conn.attempt = 0;
  }
  const handler = handlers.get(f.type);
  try {
    if (handler) handler(f); // pong, signal and anything newer have none
  } catch (e) {
    console.error('Switchboard: could not handle a %s frame', f.type, e);
  }
  if (f.type === 'hello') conn.everOnline = true;
  emit('frame', f);
  emit(f.type, f);
}
