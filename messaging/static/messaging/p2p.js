/* Switchboard hybrid delivery: peer-to-peer when two browsers can reach each other,
 * the server when they cannot (docs/p2p.md).
 *
 * For the other person of an open direct conversation who is online, this opens a WebRTC
 * data channel, signalled with `signal` frames over the WebSocket. While it is open, each
 * chat and file message goes to the peer over the channel (the peer acknowledges it there)
 * as well as to the server, which stores it and serves history, other devices and offline
 * delivery; the receiving chat shows it once, by client_id, and takes nothing in the
 * peer's copy as markup (fromPeer in renderers.js register). Files go over a
 * channel of their own in chunks, verified by SHA-256. Without a channel everything simply
 * takes the server path, which it takes anyway: falling back never delays or loses a
 * message.
 *
 * It meets the chat in direct.js (what a peer sends) and through the event bus.
 */
import { api } from './api.js';
import { config } from './config.js';
import { markTransport, receiveDirect, retractDirect } from './direct.js';
import { emit, events } from './events.js';
import { gettext, pgettext } from './i18n.js';
import { newClientId } from './outbox.js';
import { presenceOf } from './presence.js';
import { travelsDirect } from './renderers.js';
import { sendFrame } from './socket.js';
import { openId, otherMember, peerOf, state } from './state.js';
import { ui } from './ui.js';

const cfg = Object.assign(
  { enabled: true, ice_servers: [], connect_timeout_ms: 4000 },
  config.p2p || {},
);
const supported = !!cfg.enabled && typeof window.RTCPeerConnection === 'function';

const CHUNK = 64 * 1024;             // at most 64 KiB a chunk
const HIGH_WATER = 1024 * 1024;      // stop writing while this much waits in the channel
const LOW_WATER = 256 * 1024;
const WINDOW = 4 * 1024 * 1024;      // never more than this ahead of what the peer confirmed
const PROGRESS_EVERY = 256 * 1024;   // the receiver confirms this often
const RETRY_AFTER = 15000;           // after a failed attempt, try again no sooner than this
const REPORT_EVERY = 5000;

const TAB = newClientId();           // this page: a person may have several open
const peers = new Map();             // user id -> Peer
const meId = () => state.me.id;
// Signals need the socket's hello (the server knows who sends them).
const sendSignal = (frame) => sendFrame(frame, true);
// Someone this page does not follow counts as offline (no peer-to-peer offer).
const presence = (userId) => { const st = presenceOf(Number(userId)); return st === 'unknown' ? 'offline' : st; };

// --- bytes sent directly, reported so that /metrics shows the offload -------------------
const unreported = { message: 0, file: 0 };
let reportTimer = null;
function countSent(kind, bytes) {
  unreported[kind] += bytes;
  if (!reportTimer) reportTimer = setTimeout(flushReport, REPORT_EVERY);
}
function flushReport() {
  clearTimeout(reportTimer);
  reportTimer = null;
  if (!config.p2p_report_url) return;
  for (const kind of Object.keys(unreported)) {
    const bytes = unreported[kind];
    if (!bytes) continue;
    unreported[kind] = 0;
    api('POST', config.p2p_report_url, { bytes, kind }).catch(() => { unreported[kind] += bytes; });
  }
}

// --- one peer: its connection, its message channel, its file channels -----------------
class Peer {
  constructor(userId) {
    this.userId = userId;
    this.pc = null;
    this.channel = null;      // the message channel, once open
    this.sid = null;          // this connection attempt
    this.remoteTab = null;    // the peer's page that answered
    this.offering = false;    // we made the offer of the current attempt
    this.failedAt = 0;
    this.timer = null;
    this.queuedCandidates = [];
    this.localCandidates = 0;
    this.incoming = new Map(); // file id -> receiving state
  }

  get state() { return this.channel && this.channel.readyState === 'open' ? 'p2p' : 'relay'; }

  signal(data) {
    const frame = Object.assign({ p2p: 1, sid: this.sid, tab: TAB }, data);
    if (this.remoteTab && !frame.to_tab) frame.to_tab = this.remoteTab;
    return sendSignal({ type: 'signal', to: this.userId, data: frame });
  }

  newConnection(sid, offering) {
    this.close(false);
    this.sid = sid;
    this.offering = offering;
    this.localCandidates = 0;
    this.queuedCandidates = [];
    const pc = (this.pc = new RTCPeerConnection({ iceServers: cfg.ice_servers }));
    pc.onicecandidate = (e) => {
      if (pc !== this.pc) return;
      if (e.candidate) {
        this.localCandidates++;
        this.signal({ kind: 'candidate', candidate: e.candidate.toJSON() });
      } else if (!this.localCandidates) {
        this.fail('no candidates'); // nothing to connect over: the server path, now
      }
    };
    pc.onconnectionstatechange = () => {
      if (pc !== this.pc) return;
      if (pc.connectionState === 'failed' || pc.connectionState === 'closed') this.fail(pc.connectionState);
    };
    pc.ondatachannel = (e) => {
      if (pc !== this.pc) return;
      if (e.channel.label === 'messages') this.adoptChannel(e.channel);
      else if (e.channel.label === 'file') this.receiveFile(e.channel);
    };
    clearTimeout(this.timer);
    this.timer = setTimeout(() => { if (pc === this.pc && this.state !== 'p2p') this.fail('timeout'); }, cfg.connect_timeout_ms);
    return pc;
  }

  async offer() {
    if (!supported || this.pc || Date.now() - this.failedAt < RETRY_AFTER) return;
    const pc = this.newConnection(newClientId(), true);
    this.remoteTab = null;
    this.adoptChannel(pc.createDataChannel('messages', { ordered: true }));
    try {
      await pc.setLocalDescription(await pc.createOffer());
      // Not connected to the server yet: no attempt, and none held against the peer.
      if (pc === this.pc && !this.signal({ kind: 'offer', sdp: pc.localDescription.sdp })) this.close(true);
    } catch (e) {
      if (pc === this.pc) this.fail('offer');
    }
  }

  async onSignal(d) {
    if (d.to_tab && d.to_tab !== TAB) return; // meant for another page of mine
    if (d.kind === 'offer') {
      if (!supported) { sendSignal({ type: 'signal', to: this.userId, data: { p2p: 1, kind: 'bye', sid: d.sid, tab: TAB, to_tab: d.tab } }); return; }
      // Both offered at once: the offer of the smaller user id stands.
      if (this.pc && this.offering && this.state !== 'p2p' && meId() < this.userId) return;
      const pc = this.newConnection(d.sid, false);
      this.remoteTab = d.tab;
      try {
        await pc.setRemoteDescription({ type: 'offer', sdp: d.sdp });
        await this.flushCandidates();
        await pc.setLocalDescription(await pc.createAnswer());
        if (pc === this.pc) this.signal({ kind: 'answer', sdp: pc.localDescription.sdp });
      } catch (e) {
        if (pc === this.pc) this.fail('answer');
      }
      return;
    }
    if (!this.pc || d.sid !== this.sid) return;
    if (d.kind === 'answer') {
      if (this.remoteTab && this.remoteTab !== d.tab) {
        // Another page of the peer answered too: it is not needed.
        sendSignal({ type: 'signal', to: this.userId, data: { p2p: 1, kind: 'bye', sid: d.sid, tab: TAB, to_tab: d.tab } });
        return;
      }
      if (this.pc.signalingState !== 'have-local-offer') return;
      this.remoteTab = d.tab;
      try {
        await this.pc.setRemoteDescription({ type: 'answer', sdp: d.sdp });
        await this.flushCandidates();
      } catch (e) {
        this.fail('answer');
      }
    } else if (d.kind === 'candidate' && d.candidate) {
      if (this.remoteTab && d.tab !== this.remoteTab) return;
      this.queuedCandidates.push(d.candidate);
      if (this.pc.remoteDescription) await this.flushCandidates();
    } else if (d.kind === 'bye') {
      this.close(true);
    }
  }

  async flushCandidates() {
    const pc = this.pc;
    while (pc && this.queuedCandidates.length) {
      const candidate = this.queuedCandidates.shift();
      try { await pc.addIceCandidate(candidate); } catch (e) { /* a stale candidate */ }
    }
  }

  adoptChannel(channel) {
    channel.onopen = () => {
      if (this.pc && channel === this.channel) { clearTimeout(this.timer); this.failedAt = 0; emit('transport', { user: this.userId, state: 'p2p' }); }
    };
    channel.onclose = () => { if (channel === this.channel) this.fail('closed'); };
    channel.onmessage = (e) => this.onChannelMessage(e.data);
    this.channel = channel;
    if (channel.readyState === 'open') channel.onopen();
  }

  onChannelMessage(data) {
    let m;
    try { m = JSON.parse(data); } catch (e) { return; }
    if (!m || typeof m !== 'object') return;
    if (m.t === 'msg') {
      const accepted = receiveDirect({
        client_id: m.client_id, conversation: m.conversation, sender: this.userId, app: m.app, body: m.body, created_at: m.created_at,
      });
      if (accepted) this.send({ t: 'ack', client_id: m.client_id });
    } else if (m.t === 'ack' && typeof m.client_id === 'string') {
      markTransport(m.client_id);
    } else if (m.t === 'retract' && typeof m.client_id === 'string') {
      retractDirect(m.client_id);
    }
  }

  send(obj) {
    if (this.state !== 'p2p') return 0;
    const text = JSON.stringify(obj);
    try { this.channel.send(text); } catch (e) { return 0; }
    return text.length;
  }

  fail(reason) {
    if (!this.pc) return;
    this.failedAt = Date.now();
    console.info('Switchboard: no direct path to user %s (%s); using the server', this.userId, reason);
    this.close(false);
  }

  /** Drop the connection; `fresh` lets the next attempt start at once (the peer said
   * goodbye, or it never began), where a failure waits RETRY_AFTER. */
  close(fresh) {
    clearTimeout(this.timer);
    const wasOpen = this.state === 'p2p';
    if (fresh) this.failedAt = 0;
    const pc = this.pc;
    this.pc = null;
    this.channel = null;
    if (pc) { try { pc.close(); } catch (e) { /* closed */ } }
    for (const [id, rx] of this.incoming) { rx.abort(); this.incoming.delete(id); }
    if (wasOpen || pc) emit('transport', { user: this.userId, state: 'relay' });
  }

  // --- files, one data channel each ---------------------------------------------------
  /** Send a File over a new channel; resolves once the peer has verified every byte. */
  sendFile(meta, file, onProgress) {
    return new Promise((resolve, reject) => {
      if (this.state !== 'p2p') { reject(transferError('unavailable')); return; }
      const ch = this.pc.createDataChannel('file', { ordered: true });
      ch.binaryType = 'arraybuffer';
      ch.bufferedAmountLowThreshold = LOW_WATER;
      let confirmed = 0;
      let done = false;
      let wake = null;
      const nudge = () => { if (wake) { const w = wake; wake = null; w(); } };
      const finish = (error) => {
        if (done) return;
        done = true;
        nudge();
        if (error) { try { ch.close(); } catch (e) { /* closed */ } reject(error); } else resolve();
      };
      ch.onbufferedamountlow = nudge;
      ch.onclose = () => finish(transferError('closed'));
      ch.onerror = () => finish(transferError('closed'));
      ch.onmessage = (e) => {
        let m;
        try { m = JSON.parse(e.data); } catch (err) { return; }
        if (m.t === 'got') { confirmed = Math.min(file.size, Number(m.bytes) || 0); onProgress(confirmed); nudge(); }
        else if (m.t === 'ok') { onProgress(file.size); countSent('file', file.size); flushReport(); finish(null); try { ch.close(); } catch (err) { /* closed */ } }
        else if (m.t === 'bad') finish(transferError('damaged'));
      };
      ch.onopen = async () => {
        try {
          ch.send(JSON.stringify(Object.assign({ t: 'file' }, meta)));
          for (let offset = 0; offset < file.size && !done;) {
            if (ch.bufferedAmount > HIGH_WATER || offset - confirmed > WINDOW) {
              await new Promise((r) => { wake = r; setTimeout(r, 250); });
              continue;
            }
            const chunk = await file.slice(offset, offset + CHUNK).arrayBuffer();
            if (done) break;
            ch.send(chunk);
            offset += chunk.byteLength;
          }
        } catch (e) {
          finish(transferError('closed'));
        }
      };
    });
  }

  receiveFile(ch) {
    ch.binaryType = 'arraybuffer';
    let rx = null;
    ch.onmessage = async (e) => {
      if (typeof e.data === 'string') {
        let m;
        try { m = JSON.parse(e.data); } catch (err) { return; }
        if (m.t !== 'file' || rx || typeof m.id !== 'string' || !(Number(m.size) >= 0) || !/^[0-9a-f]{64}$/.test(m.sha256 || '')) return;
        rx = { id: m.id, meta: m, parts: [], bytes: 0, reported: 0, aborted: false };
        rx.abort = () => {
          if (rx.aborted || rx.finished) return;
          rx.aborted = true;
          rx.parts = [];
          emit('p2p-file-abort', { id: m.id, from: this.userId });
        };
        this.incoming.set(m.id, rx);
        emit('p2p-file-start', { id: m.id, from: this.userId, meta: m });
        if (!m.size) await complete();
        return;
      }
      if (!rx || rx.aborted || rx.finished) return;
      rx.parts.push(e.data);
      rx.bytes += e.data.byteLength;
      if (rx.bytes > rx.meta.size) { ch.send(JSON.stringify({ t: 'bad' })); rx.abort(); return; }
      if (rx.bytes - rx.reported >= PROGRESS_EVERY || rx.bytes === rx.meta.size) {
        rx.reported = rx.bytes;
        ch.send(JSON.stringify({ t: 'got', bytes: rx.bytes }));
        emit('p2p-file-progress', { id: rx.id, from: this.userId, bytes: rx.bytes, size: rx.meta.size });
      }
      if (rx.bytes === rx.meta.size) await complete();
    };
    const complete = async () => {
      const blob = new Blob(rx.parts, { type: 'application/octet-stream' });
      rx.parts = [];
      const digest = await sha256Hex(blob);
      if (digest !== rx.meta.sha256) {
        ch.send(JSON.stringify({ t: 'bad' }));
        rx.abort();
        return;
      }
      rx.finished = true;
      this.incoming.delete(rx.id);
      ch.send(JSON.stringify({ t: 'ok' }));
      emit('p2p-file-done', { id: rx.id, from: this.userId, meta: rx.meta, blob });
    };
    ch.onclose = () => {
      if (rx && !rx.finished) { rx.abort(); this.incoming.delete(rx.id); }
    };
  }
}

function transferError(code) {
  const error = new Error(code);
  error.code = code;
  return error;
}

async function sha256Hex(blob) {
  const digest = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function peer(userId) {
  userId = Number(userId);
  if (!peers.has(userId)) peers.set(userId, new Peer(userId));
  return peers.get(userId);
}

/** Try for a channel to the other person of the open direct conversation. */
function tryOpenView() {
  const convId = openId();
  const other = convId && peerOf(convId);
  if (other && presence(other) !== 'offline') peer(other).offer();
}

// --- wiring ----------------------------------------------------------------------------
events.addEventListener('signal', (e) => {
  const f = e.detail;
  if (!f || !f.data || f.data.p2p !== 1 || !f.from) return;
  peer(f.from).onSignal(f.data);
});
events.addEventListener('conversation-open', (e) => {
  if (e.detail.peer && presence(e.detail.peer) !== 'offline') peer(e.detail.peer).offer();
});
events.addEventListener('presence', (e) => {
  const f = e.detail;
  const p = peers.get(Number(f.user));
  if (f.status === 'offline' && p) p.close(true);
  else if (f.status !== 'offline' && openId() && peerOf(openId()) === Number(f.user)) tryOpenView();
});
events.addEventListener('hello', () => setTimeout(tryOpenView, 500));
window.addEventListener('pagehide', () => {
  for (const p of peers.values()) if (p.pc) { p.signal({ kind: 'bye' }); p.close(false); }
  flushReport();
});

/** The header's badge: the path messages of the open conversation take now, straight to
 * the peer or through the server. Only a direct conversation can go peer-to-peer. */
function renderBadge() {
  const id = openId();
  const conv = id && state.convs.get(id);
  if (!ui.transport || !conv) return;
  const other = otherMember(conv);
  const path = other ? transport.stateFor(other) : 'relay';
  ui.transport.dataset.state = path;
  ui.transport.classList.toggle('badge-ok', path === 'p2p');
  ui.transport.textContent = path === 'p2p' ? pgettext('transport', 'Direct') : gettext('Via server');
  ui.transport.title = path === 'p2p'
    ? gettext("Messages and files go straight to this colleague's browser; the server keeps the history.")
    : gettext('Messages and files go through the server.');
}
events.addEventListener('transport', renderBadge);
events.addEventListener('conversation-open', renderBadge);

export const transport = {
  supported,
  /** 'p2p' while a data channel to this user is open, else 'relay'. */
  stateFor: (userId) => (peers.has(Number(userId)) ? peers.get(Number(userId)).state : 'relay'),
  /** A message being sent: straight to the peer too, if a channel is open and its app
   * is one a receiving page takes from a peer (chat, file); the rest go by the server only. */
  offerMessage(item) {
    if (!travelsDirect(item.app)) return false;
    const other = peerOf(item.conversation);
    const p = other && peers.get(other);
    if (!p || p.state !== 'p2p') return false;
    const sent = p.send({ t: 'msg', client_id: item.client_id, conversation: item.conversation, app: item.app, body: item.body, created_at: item.created_at });
    if (sent) countSent('message', sent);
    return sent > 0;
  },
  retractMessage(item) {
    const other = peerOf(item.conversation);
    const p = other && peers.get(other);
    if (p) p.send({ t: 'retract', client_id: item.client_id });
  },
  /** Resolves true once a channel to this user is open, false when there will be none. */
  whenReady(userId, timeoutMs = cfg.connect_timeout_ms) {
    const p = peer(userId);
    if (p.state === 'p2p') return Promise.resolve(true);
    if (!supported || presence(userId) === 'offline') return Promise.resolve(false);
    p.offer();
    if (!p.pc) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onChange = (e) => {
        if (e.detail.user !== p.userId) return;
        events.removeEventListener('transport', onChange);
        clearTimeout(timer);
        resolve(e.detail.state === 'p2p');
      };
      const timer = setTimeout(() => { events.removeEventListener('transport', onChange); resolve(p.state === 'p2p'); }, timeoutMs + 500);
      events.addEventListener('transport', onChange);
    });
  },
  /** Send a file to this user over its own channel; see Peer.sendFile. */
  sendFile: (userId, meta, file, onProgress) => peer(userId).sendFile(meta, file, onProgress),
  sha256Hex,
  canHash: !!(window.crypto && crypto.subtle),
};
