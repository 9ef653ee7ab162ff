/* File messages in the web chat: the composer's attach button, transfers with progress,
 * and the card of a `file` message (docs/p2p.md).
 *
 * A file goes straight to the other person of a direct conversation when a data channel
 * can be opened (the chat's `transport`); otherwise it is uploaded to the server and the
 * recipient downloads it from there. Either way the message that announces it is an
 * ordinary `file` message, and its card looks the same.
 */
import {
  register, send, csrfToken, h, appConfig, events, userName, peerOf, directWith,
  openId, keepInView, messageList, transport, gettext, fill, newClientId,
} from '../messaging/client.js';

const cfg = Object.assign(
  { max_bytes: 100 * 1024 * 1024, upload_url: '/api/v1/files/', archive_p2p: false },
  appConfig('file'),
);
// Above this a file is uploaded instead: the receiving browser holds a direct transfer in memory.
const P2P_MAX_BYTES = 512 * 1024 * 1024;

const saved = new Map();     // client_id of a file message -> {url, type}: an object URL of the bytes this page holds
const transfers = new Map(); // transfer id (the file message's client_id) -> transfer

function formatSize(n) {
  n = Number(n) || 0;
  const units = ['B', 'KB', 'MB', 'GB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? String(n) : n.toFixed(n < 10 ? 1 : 0)) + ' ' + units[i];
}

function icon() {
  const span = h('span', { class: 'file-icon', 'aria-hidden': 'true' });
  span.innerHTML = '<svg viewBox="0 0 24 24" width="22" height="22"><path d="M6 2.75h8.2L19.25 7.8V21.25H6z" fill="none" stroke="currentColor" stroke-width="1.5" stroke-linejoin="round"/><path d="M14 2.75V8h5.25" fill="none" stroke="currentColor" stroke-width="1.5" stroke-linejoin="round"/></svg>';
  return span;
}

// --- pictures: the thumbnail in the message, the full-size viewer -----------------------
// Shown in the message at most this large (CSS pixels); the server's thumbnail is 480.
const PICTURE_BOX = 320;
// Kinds of picture this page shows from bytes it holds itself (a file sent directly).
const LOCAL_PICTURE_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

/** A picture the server made a thumbnail of: its paths, built from the upload's id alone,
 * and only when the server's own body names exactly those (files/handlers.py). */
function serverPicture(body) {
  const id = Number(body.file);
  if (!Number.isSafeInteger(id) || id <= 0) return null;
  const thumbnail = `/files/${id}/thumbnail/`;
  const view = `/files/${id}/view/`;
  if (body.thumbnail !== thumbnail || body.view !== view) return null;
  const width = Number(body.width);
  const height = Number(body.height);
  if (!(width > 0 && height > 0)) return null;
  return { thumbnail, view, width, height };
}

function fitted(width, height, box) {
  const scale = Math.min(1, box / width, box / height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

function pictureEl(name, picture) {
  const size = picture.width ? fitted(picture.width, picture.height, PICTURE_BOX) : {};
  const img = h('img', {
    class: 'file-picture-img', src: picture.thumbnail, alt: name, width: size.width, height: size.height,
    loading: 'lazy', decoding: 'async', draggable: 'false', 'data-testid': 'file-thumbnail',
  });
  const button = h('button', {
    type: 'button', class: 'file-picture', 'data-testid': 'file-picture',
    'aria-label': fill(gettext('Open {name} at full size'), { name }),
    'aria-haspopup': 'dialog',
  }, img);
  button.addEventListener('click', () => openViewer({ name, src: picture.view, width: picture.width, height: picture.height, download: picture.download }, button));
  return button;
}

let viewer = null;

function viewerEl() {
  if (viewer) return viewer;
  const title = h('h2', { class: 'picture-viewer-title', id: 'sb-picture-viewer-title', 'data-testid': 'picture-viewer-title' });
  const img = h('img', { class: 'picture-viewer-img', alt: '', 'data-testid': 'picture-viewer-img' });
  const download = h('a', { class: 'button button-quiet', 'data-testid': 'picture-viewer-download', text: gettext('Download') });
  const close = h('button', { type: 'button', class: 'button', 'data-testid': 'picture-viewer-close', text: gettext('Close') });
  const dialog = h('dialog', {
    class: 'picture-viewer', id: 'sb-picture-viewer', 'data-testid': 'picture-viewer',
    'aria-labelledby': 'sb-picture-viewer-title',
  },
  h('div', { class: 'picture-viewer-head' }, title, h('div', { class: 'picture-viewer-actions' }, download, close)),
  h('div', { class: 'picture-viewer-body' }, img));
  close.addEventListener('click', () => dialog.close());
  // A click on the backdrop (the dialog itself, outside its content) closes it too.
  dialog.addEventListener('click', (e) => { if (e.target === dialog) dialog.close(); });
  dialog.addEventListener('close', () => {
    img.removeAttribute('src');
    if (viewer.opener && viewer.opener.isConnected) viewer.opener.focus();
    viewer.opener = null;
  });
  document.body.append(dialog);
  viewer = { dialog, title, img, download, close, opener: null };
  return viewer;
}

/** The full-size picture in a modal dialog; Escape, the Close button or a click beside
 * it closes it, and focus goes back to the thumbnail. */
function openViewer({ name, src, width, height, download }, opener) {
  const v = viewerEl();
  v.title.textContent = name;
  v.img.alt = name;
  if (width && height) { v.img.width = width; v.img.height = height; } else { v.img.removeAttribute('width'); v.img.removeAttribute('height'); }
  v.img.src = src;
  v.download.hidden = !download;
  if (download) { v.download.href = download; v.download.setAttribute('download', name); }
  v.opener = opener || null;
  if (!v.dialog.open) v.dialog.showModal();
  v.close.focus();
}

// --- the card of a stored `file` message ----------------------------------------------
// The only link a card takes from a message: the server's own download path
// (files/urls.py). "//host/…" starts with "/" too, and goes to another site.
const DOWNLOAD_URL = /^\/files\/[0-9]+\/$/;

function fileRenderer(body, message) {
  const name = typeof body.name === 'string' ? body.name : gettext('Unnamed file');
  const card = h('div', { class: 'file-card', 'data-testid': 'file', 'data-transport': body.transport === 'p2p' ? 'p2p' : 'relay' });
  const local = message.client_id && saved.get(message.client_id);
  const picture = serverPicture(body);
  let pictureBox = null;
  if (picture) {
    picture.download = typeof body.url === 'string' && DOWNLOAD_URL.test(body.url) ? body.url : null;
    pictureBox = pictureEl(name, picture);
  } else if (local && LOCAL_PICTURE_TYPES.has(local.type)) {
    // Bytes this page holds (sent directly, or being sent): shown from memory, at no set size.
    pictureBox = pictureEl(name, { thumbnail: local.url, view: local.url, download: local.url });
  }
  card.append(icon());
  const main = h('div', { class: 'file-main' },
    h('div', { class: 'file-name', text: name, title: name }),
    h('div', { class: 'file-meta muted small', text: [formatSize(body.size), body.type || ''].filter(Boolean).join(' · ') }));
  card.append(main);
  if (local) {
    card.append(h('a', { class: 'button file-save', href: local.url, download: name, 'data-testid': 'file-save', text: gettext('Save') }));
  } else if (typeof body.url === 'string' && DOWNLOAD_URL.test(body.url)) {
    card.append(h('a', { class: 'button file-save', href: body.url, download: name, 'data-testid': 'file-save', text: gettext('Download') }));
  } else {
    const note = message.own
      ? gettext('Sent directly; the server keeps no copy.')
      : gettext('Sent directly to another of your devices; the server keeps no copy.');
    main.append(h('div', { class: 'file-note muted small', text: note }));
  }
  if (typeof body.sha256 === 'string') card.title = 'SHA-256 ' + body.sha256;
  if (!pictureBox) return card;
  return h('div', { class: 'file-with-picture' }, pictureBox, card);
}

/** A peer's copy of a file message, before the server's: what the file is, as text and
 * numbers, and no link whatever the peer sent (its `url` or `file` could name anything).
 * The bytes, if they came directly, are this page's own (`saved`); otherwise the
 * server's copy brings the download link. What the server would refuse is refused. */
function fileFromPeer(body) {
  if (typeof body.name !== 'string' || !body.name) return null;
  if (typeof body.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(body.sha256)) return null;
  const size = Number(body.size);
  return {
    name: body.name,
    size: Number.isFinite(size) && size >= 0 ? size : 0,
    type: typeof body.type === 'string' ? body.type : '',
    sha256: body.sha256,
    transport: body.transport === 'relay' ? 'relay' : 'p2p',
  };
}

register('file', fileRenderer, { fromPeer: fileFromPeer });

/** Keep bytes this page holds for the file message `id` (its client_id). The type is the
 * one the sending browser gave (File.type, or what the peer said): it only decides whether
 * an <img> is tried, and an <img> runs nothing whatever the bytes are. */
function keep(id, blob, type = blob.type) {
  saved.set(id, { url: URL.createObjectURL(blob), type: typeof type === 'string' ? type.toLowerCase() : '' });
}

// --- transfers: a bubble with a progress bar until the file message takes over -------
function transferEl(x) {
  const progress = h('progress', { class: 'file-progress', max: String(Math.max(1, x.size)), value: '0', 'data-testid': 'transfer-progress' });
  const status = h('div', { class: 'file-status muted small', role: 'status' });
  const actions = h('div', { class: 'file-actions' });
  const card = h('div', { class: 'file-card file-card-transfer' }, icon(),
    h('div', { class: 'file-main' },
      h('div', { class: 'file-name', text: x.name, title: x.name }),
      h('div', { class: 'file-meta muted small', text: formatSize(x.size) }),
      progress, status, actions));
  const li = h('li', {
    class: 'msg-transfer ' + (x.direction === 'out' ? 'msg-transfer-out' : 'msg-transfer-in'),
    'data-testid': 'transfer', 'data-direction': x.direction, 'data-state': 'active',
  }, h('div', { class: 'msg-bubble' }, card));
  x.refs = { li, progress, status, actions };
  return li;
}

function show(x) {
  if (!x.refs) transferEl(x);
  if (openId() === x.conversation && !x.refs.li.isConnected) {
    messageList().append(x.refs.li);
    keepInView();
  }
}

function update(x, { bytes, text, state } = {}) {
  if (!x.refs) return;
  if (bytes !== undefined) {
    x.refs.progress.value = String(bytes);
    const pct = x.size ? Math.floor((bytes / x.size) * 100) : 100;
    x.refs.status.textContent = (text || x.activity) + ` ${pct}%`;
  } else if (text !== undefined) {
    x.refs.status.textContent = text;
  }
  if (state) x.refs.li.dataset.state = state;
}

function finish(x) {
  transfers.delete(x.id);
  if (x.refs) x.refs.li.remove();
}

function failOut(x, text) {
  x.failed = true;
  update(x, { text, state: 'failed' });
  x.refs.progress.hidden = true;
  x.refs.status.classList.add('file-status-error');
  x.refs.actions.replaceChildren(
    h('button', { type: 'button', class: 'link', 'data-testid': 'resend', text: gettext('Send again'), onclick: () => { finish(x); sendFile(x.file, x.conversation); } }),
    ' · ',
    h('button', { type: 'button', class: 'link', text: gettext('Dismiss'), onclick: () => finish(x) }));
}

// --- sending ---------------------------------------------------------------------------
async function sendFile(file, conversation) {
  const x = { id: newClientId(), direction: 'out', conversation, file, name: file.name || gettext('Unnamed file'), size: file.size, type: file.type || '', activity: '' };
  transfers.set(x.id, x);
  show(x);
  const peer = peerOf(conversation);
  const direct = peer && transport && transport.canHash && file.size <= P2P_MAX_BYTES;
  if (direct) {
    update(x, { text: gettext('Getting ready…') });
    if (await transport.whenReady(peer)) {
      await sendDirect(x, peer);
      return;
    }
  }
  await sendViaServer(x);
}

async function sendDirect(x, peer) {
  update(x, { text: gettext('Preparing the file…') });
  let sha256;
  try {
    sha256 = await transport.sha256Hex(x.file);
  } catch (e) {
    await sendViaServer(x);
    return;
  }
  x.activity = gettext('Sending directly…');
  update(x, { bytes: 0 });
  try {
    await transport.sendFile(peer, { id: x.id, name: x.name, size: x.size, type: x.type, sha256 }, x.file, (n) => update(x, { bytes: n }));
  } catch (e) {
    const who = userName(peer);
    failOut(x, e.code === 'damaged'
      ? fill(gettext('The file reached {name} damaged and was thrown away. Send it again.'), { name: who })
      : fill(gettext('{name} went offline before the file arrived. Send it again and it will wait on the server.'), { name: who }));
    return;
  }
  const body = { name: x.name, size: x.size, type: x.type, sha256, transport: 'p2p' };
  if (cfg.archive_p2p) {
    // A copy for the history: the direct transfer already arrived, so a failure here is not fatal.
    x.activity = gettext('Keeping a copy on the server…');
    try { body.file = (await upload(x)).id; } catch (e) { console.warn('Switchboard: could not archive %s', x.name, e); }
  }
  keep(x.id, x.file);
  finish(x);
  send(x.conversation, 'file', body, { client_id: x.id });
}

async function sendViaServer(x) {
  if (x.size > cfg.max_bytes) {
    failOut(x, fill(gettext('This file is too large to send through the server (at most {max}).'), { max: formatSize(cfg.max_bytes) }));
    x.refs.actions.querySelector('[data-testid="resend"]').remove();
    return;
  }
  x.activity = gettext('Uploading…');
  update(x, { bytes: 0 });
  let stored;
  try {
    stored = await upload(x);
  } catch (e) {
    failOut(x, e.detail || gettext('The file could not be uploaded.'));
    return;
  }
  keep(x.id, x.file);
  finish(x);
  const body = {
    name: stored.name, size: stored.size, type: stored.type || '', sha256: stored.sha256, transport: 'relay', file: stored.id,
  };
  // A picture: shown at once as the server will describe it (the server sets these
  // itself from the upload, whatever is sent).
  if (stored.thumbnail) Object.assign(body, { width: stored.width, height: stored.height, thumbnail: stored.thumbnail, view: stored.view });
  send(x.conversation, 'file', body, { client_id: x.id });
}

function upload(x) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    form.append('conversation', String(x.conversation));
    form.append('file', x.file, x.name);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', cfg.upload_url);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.setRequestHeader('X-CSRFToken', csrfToken());
    xhr.upload.onprogress = (e) => update(x, { bytes: e.loaded });
    xhr.onload = () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
      if (xhr.status === 201 && data) resolve(data);
      else reject(Object.assign(new Error('upload'), { code: data && data.code, detail: data && data.detail }));
    };
    xhr.onerror = () => reject(Object.assign(new Error('upload'), { code: 'network' }));
    xhr.send(form);
  });
}

// --- receiving directly ---------------------------------------------------------------
events.addEventListener('p2p-file-start', (e) => {
  const { id, from, meta } = e.detail;
  const conversation = directWith(from);
  if (!conversation) return;
  const x = { id, direction: 'in', conversation, name: String(meta.name || gettext('Unnamed file')), size: Number(meta.size) || 0, activity: fill(gettext('Receiving from {name}…'), { name: userName(from) }) };
  transfers.set(id, x);
  show(x);
  update(x, { bytes: 0 });
});
events.addEventListener('p2p-file-progress', (e) => {
  const x = transfers.get(e.detail.id);
  if (x) update(x, { bytes: e.detail.bytes });
});
events.addEventListener('p2p-file-done', (e) => {
  keep(e.detail.id, e.detail.blob, e.detail.meta && e.detail.meta.type);
  const x = transfers.get(e.detail.id);
  if (x) finish(x); // the file message, over the channel and from the server, shows it
});
events.addEventListener('p2p-file-abort', (e) => {
  const x = transfers.get(e.detail.id);
  if (!x) return;
  x.refs.progress.hidden = true;
  update(x, { text: fill(gettext('{name} stopped sending this file; nothing was saved.'), { name: userName(e.detail.from) }), state: 'failed' });
  x.refs.status.classList.add('file-status-error');
  x.refs.actions.replaceChildren(h('button', { type: 'button', class: 'link', text: gettext('Dismiss'), onclick: () => finish(x) }));
});
events.addEventListener('conversation-open', () => { for (const x of transfers.values()) show(x); });

// --- the composer's attach button -----------------------------------------------------
function mountComposer() {
  const form = document.getElementById('sb-composer-form');
  if (!form || form.querySelector('[data-testid="file-input"]')) return;
  const input = h('input', { type: 'file', class: 'visually-hidden', id: 'sb-file-input', 'data-testid': 'file-input', multiple: '' });
  const label = h('label', { class: 'button button-quiet composer-attach', for: 'sb-file-input', title: gettext('Attach a file'), 'aria-label': gettext('Attach a file') });
  label.innerHTML = '<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true"><path d="M20.5 11.5l-8.1 8.1a5 5 0 0 1-7.1-7.1l8.5-8.5a3.4 3.4 0 0 1 4.8 4.8l-8.5 8.5a1.7 1.7 0 0 1-2.4-2.4l7.8-7.8" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round"/></svg>';
  input.addEventListener('change', () => {
    const conversation = openId();
    const files = [...(input.files || [])];
    input.value = '';
    if (!conversation) return;
    for (const file of files) sendFile(file, conversation);
  });
  form.prepend(input, label);
}
mountComposer();

// --- paste and drag-and-drop: files attached as by the attach button --------------------
/** The files of a paste into the composer: only when nothing else comes with them, so
 * that a paste of text (say from a spreadsheet, which also offers a picture of the cells)
 * stays text. */
function pastedFiles(data) {
  if (!data || !data.files || !data.files.length) return [];
  if ((data.getData('text/plain') || '').trim()) return [];
  return [...data.files];
}

document.addEventListener('paste', (e) => {
  if (!e.target || e.target.id !== 'sb-composer') return;
  const conversation = openId();
  const files = pastedFiles(e.clipboardData);
  if (!conversation || !files.length) return;
  e.preventDefault();
  for (const file of files) sendFile(file, conversation);
});

function dropZone() {
  const pane = document.getElementById('sb-conversation');
  if (!pane || pane.dataset.fileDrop) return;
  pane.dataset.fileDrop = 'on';
  const carriesFiles = (e) => !!e.dataTransfer && [...(e.dataTransfer.types || [])].includes('Files');
  let depth = 0; // dragenter/dragleave come for every child the pointer crosses
  const leave = () => { depth = 0; pane.classList.remove('file-drop-active'); };
  pane.addEventListener('dragenter', (e) => {
    if (!carriesFiles(e) || !openId()) return;
    e.preventDefault();
    depth++;
    pane.classList.add('file-drop-active');
  });
  pane.addEventListener('dragover', (e) => {
    if (!carriesFiles(e) || !openId()) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
  });
  pane.addEventListener('dragleave', (e) => {
    if (!carriesFiles(e)) return;
    depth = Math.max(0, depth - 1);
    if (!depth) leave();
  });
  pane.addEventListener('drop', (e) => {
    if (!carriesFiles(e)) return;
    e.preventDefault();
    leave();
    const conversation = openId();
    if (!conversation) return;
    for (const file of [...(e.dataTransfer.files || [])]) sendFile(file, conversation);
  });
  pane.setAttribute('data-drop-hint', gettext('Drop files to send them'));
}
dropZone();

// For other modules: send(file, conversation) and formatSize(bytes).
export { sendFile as send, formatSize };
