/* Announcement cards in the web chat: the `announcement` app's renderer.
 *
 * A message body is {announcement: id, title, html, pinned, requires_confirmation,
 * expires_at, reminder}, a snapshot taken when the announcement was sent; `html` was
 * rendered from Markdown and sanitised by the server. Seeing a card (in view while the
 * page is visible) marks the announcement read: POST /api/v1/announcements/{id}/read/,
 * once per announcement and page. Its answer carries the reader's receipt, so the card
 * then knows whether it has been confirmed. "Confirm" posts .../confirm/. Every card of
 * the same announcement on the page shows the same state.
 */
import { register, api, h, gettext, fill, LANG } from '../messaging/client.js';

// Drawn rather than emoji, which not every system has a font for. Constant markup.
const SVG = (paths) => '<svg viewBox="0 0 24 24" width="18" height="18" fill="none" stroke="currentColor" '
  + `stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">${paths}</svg>`;
const ICONS = {
  announcement: SVG('<path d="M3 10v4h3l7 5V5L6 10z"/><path d="M16.5 9a4 4 0 0 1 0 6"/><path d="M19 6.5a7.5 7.5 0 0 1 0 11"/>'),
  reminder: SVG('<circle cx="12" cy="13" r="8"/><path d="M12 9v4l2.5 2"/><path d="M5 3.5 2.5 6M19 3.5 21.5 6"/>'),
};
function icon(name) {
  const span = h('span', { class: 'announcement-icon', 'aria-hidden': 'true' });
  span.innerHTML = ICONS[name];
  return span;
}

// ---------------------------------------------------------------------------------------
// My receipt of each announcement: {read, confirmed, busy, error, reading}
// ---------------------------------------------------------------------------------------
const receipts = new Map();
function receipt(id) {
  let r = receipts.get(id);
  if (!r) receipts.set(id, (r = { read: false, confirmed: false, busy: false, error: '', reading: null }));
  return r;
}

function learn(id, data) {
  const r = receipt(id);
  if (data && data.read_at) r.read = true;
  if (data && data.confirmed_at) r.confirmed = true;
}

function cardsOf(id) {
  return document.querySelectorAll(`.announcement-card[data-announcement="${Number(id)}"]`);
}
function paintAll(id) {
  for (const card of cardsOf(id)) paint(card);
}

/** Mark read, once per announcement and page (a failure may be retried by seeing it again). */
function markRead(id) {
  const r = receipt(id);
  if (r.read || r.reading) return;
  r.reading = api('POST', `/api/v1/announcements/${id}/read/`).then(
    (data) => { learn(id, data); r.read = true; paintAll(id); },
    () => { r.reading = null; });
}

// A card counts as seen when at least half of it is in view while the page is visible.
const waiting = new Set(); // cards seen while the page was hidden
function seenNow(card) {
  const st = cardState.get(card);
  if (!st) return;
  if (document.visibilityState !== 'visible') { waiting.add(card); return; }
  markRead(st.id);
}
const seen = 'IntersectionObserver' in window
  ? new IntersectionObserver((entries) => {
    for (const en of entries) {
      if (!en.isIntersecting) continue;
      seen.unobserve(en.target);
      seenNow(en.target);
    }
  }, { threshold: 0.5 })
  : null;
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState !== 'visible') return;
  for (const card of waiting) if (card.isConnected) seenNow(card);
  waiting.clear();
});

// ---------------------------------------------------------------------------------------
// Cards
// ---------------------------------------------------------------------------------------
const cardState = new WeakMap(); // card element -> {id, body}

function whenText(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return d.toLocaleString(LANG, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

function bodyEl(html) {
  const div = h('div', { class: 'announcement-card-body msg-text' });
  if (typeof html === 'string' && html.trim()) {
    // Sanitised by the server. Only the server's copy gets here: announcements never
    // come from a peer (no fromPeer when registered, so the chat refuses a direct copy).
    div.innerHTML = html;
    for (const a of div.querySelectorAll('a[href]')) {
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
    }
  }
  return div;
}

function paint(card) {
  const st = cardState.get(card);
  if (!st) return;
  const { id, body } = st;
  const r = receipt(id);
  const title = typeof body.title === 'string' && body.title.trim() ? body.title : gettext('Announcement');
  const expired = body.expires_at ? new Date(body.expires_at).getTime() <= Date.now() : false;
  const asks = body.requires_confirmation === true;
  const hadFocus = card.contains(document.activeElement);

  card.dataset.confirmed = r.confirmed ? 'true' : 'false';
  card.dataset.read = r.read ? 'true' : 'false';
  card.setAttribute('aria-label', `${body.reminder ? gettext('Reminder') : gettext('Announcement')}: ${title}`);

  const badges = [];
  if (body.pinned && !expired) badges.push(h('span', { class: 'badge announcement-badge-pinned', text: gettext('Pinned') }));
  if (expired) badges.push(h('span', { class: 'badge', text: gettext('Expired') }));
  else if (body.expires_at && whenText(body.expires_at)) badges.push(h('span', { class: 'badge', text: fill(gettext('Until {when}'), { when: whenText(body.expires_at) }) }));

  const children = [
    h('div', { class: 'announcement-card-head' },
      icon(body.reminder ? 'reminder' : 'announcement'),
      h('div', { class: 'announcement-card-title' },
        h('div', { class: 'muted small', text: body.reminder ? gettext('Reminder') : gettext('Announcement') }),
        h('strong', { text: title }),
        badges.length ? h('div', { class: 'announcement-badges' }, badges) : null)),
    bodyEl(body.html),
  ];

  if (asks) {
    if (r.confirmed) {
      children.push(h('p', { class: 'announcement-confirmed', 'data-testid': 'announcement-confirmed' },
        h('span', { class: 'announcement-check', 'aria-hidden': 'true', text: '✓' }), ' ', gettext('Confirmed')));
    } else {
      children.push(h('div', { class: 'announcement-card-confirm' },
        h('span', { class: 'muted small', text: gettext('Please confirm that you have read this.') }),
        h('button', {
          type: 'button',
          class: 'button button-primary',
          'data-role': 'confirm',
          'data-testid': 'announcement-confirm',
          disabled: r.busy || null,
          text: gettext('Confirm'),
          onclick: () => confirmRead(id),
        })));
    }
  }

  children.push(h('p', { class: 'announcement-card-error', role: 'alert', hidden: !r.error || null, text: r.error || '' }));
  children.push(h('div', { class: 'announcement-card-foot' },
    h('a', { href: `/announcements/${id}/`, class: 'small', 'data-testid': 'announcement-open', text: gettext('Open announcement') + ' →' })));

  card.replaceChildren(...children.filter(Boolean));
  if (hadFocus && !card.contains(document.activeElement)) card.focus({ preventScroll: true });
}

async function confirmRead(id) {
  const r = receipt(id);
  if (r.busy || r.confirmed) return;
  r.busy = true;
  r.error = '';
  paintAll(id);
  try {
    learn(id, await api('POST', `/api/v1/announcements/${id}/confirm/`));
    r.read = true;
  } catch (err) {
    r.error = (err && err.detail) || gettext('Something went wrong.');
  }
  r.busy = false;
  paintAll(id);
}

function renderAnnouncement(body) {
  const id = Number(body && body.announcement);
  if (!Number.isInteger(id) || id <= 0) throw new TypeError('an announcement card needs an announcement id');
  const card = h('article', {
    class: 'announcement-card',
    'data-testid': 'announcement-card',
    'data-announcement': id,
    'data-confirmed': 'false',
    tabindex: '-1',
  });
  if (body.reminder) card.classList.add('announcement-card-reminder');
  cardState.set(card, { id, body });
  paint(card);
  if (!receipt(id).read) {
    if (seen) seen.observe(card);
    else queueMicrotask(() => seenNow(card));
  }
  return card;
}

register('announcement', renderAnnouncement);
