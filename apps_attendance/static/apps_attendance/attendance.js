/* Attendance in the web chat: the `attendance` app's renderer and the banner's buttons.
 *
 * The Attendance account sends two kinds of message: a punch confirmed,
 * {punch, kind: "check_in" | "check_out", at, text}, where `at` is the company's local
 * time, so the card shows its hours and minutes as they are; and a reminder to check in,
 * {reminder: "check_in", date, start, text}. The banner above the chat
 * (apps_attendance/chat_banner.html) arrives as a placeholder: this module fetches it from
 * /attendance/today/, punches through the REST API when its button is pressed, and fetches
 * it again after the punch and whenever an attendance message comes in (a punch from
 * another device), so the chat page and its socket stay as they are.
 */
import { register, api, h, events, gettext, fill } from '../messaging/client.js';

// Drawn rather than emoji, which not every system has a font for. Constant markup.
const SVG = (paths) => '<svg viewBox="0 0 24 24" width="18" height="18" fill="none" stroke="currentColor" '
  + `stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">${paths}</svg>`;
const ICONS = {
  check_in: SVG('<path d="M14 4h4a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2h-4"/><path d="M4 12h11"/><path d="m11 8 4 4-4 4"/>'),
  check_out: SVG('<path d="M10 4H6a2 2 0 0 0-2 2v12a2 2 0 0 0 2 2h4"/><path d="M9 12h11"/><path d="m16 8 4 4-4 4"/>'),
  reminder: SVG('<circle cx="12" cy="13" r="8"/><path d="M12 9v4l2.5 2"/><path d="M5 3.5 2.5 6M19 3.5 21.5 6"/>'),
};

// ---------------------------------------------------------------------------------------
// The punch card
// ---------------------------------------------------------------------------------------
/** "09:02" from "2026-11-23T09:02:31.123+08:00": the company's wall time, as sent. */
function wallTime(iso) {
  const m = /T(\d{2}):(\d{2})/.exec(typeof iso === 'string' ? iso : '');
  return m ? `${m[1]}:${m[2]}` : '';
}

function cardText(body, kind) {
  if (kind === 'reminder') {
    const start = /^\d{2}:\d{2}$/.test(body.start) ? body.start : '';
    return start ? fill(gettext('You have not checked in yet today; work started at {time}.'), { time: start }) : '';
  }
  const time = wallTime(body.at);
  if (!time) return '';
  return kind === 'check_out'
    ? fill(gettext('Checked out at {time}'), { time })
    : fill(gettext('Checked in at {time}'), { time });
}

const kindOf = (body) => (body.reminder === 'check_in' ? 'reminder' : (body.kind === 'check_out' ? 'check_out' : 'check_in'));

/** A punch confirmed ({punch, kind, at}) or a reminder to check in ({reminder, start}). */
function renderAttendance(body) {
  body = body || {};
  const kind = kindOf(body);
  const text = cardText(body, kind) || (typeof body.text === 'string' && body.text) || gettext('Attendance');
  const icon = h('span', { class: 'att-card-icon', 'aria-hidden': 'true' });
  icon.innerHTML = ICONS[kind];
  return h('article', { class: 'att-card', 'data-testid': 'attendance-card', 'data-kind': kind, 'aria-label': text },
    icon,
    h('div', { class: 'att-card-main' },
      h('span', { class: 'muted', text: kind === 'reminder' ? gettext('Reminder') : gettext('Attendance') }),
      h('strong', { text }),
      h('a', { href: '/attendance/', class: 'small', 'data-testid': 'attendance-open', text: gettext('My attendance') + ' →' })));
}

// The inbox's line for one that arrives live: the card's text in the page's language.
register('attendance', renderAttendance, { preview: (body) => cardText(body, kindOf(body)) || body.text });

// ---------------------------------------------------------------------------------------
// The banner
// ---------------------------------------------------------------------------------------
/** The banner's placeholder, fetched now and again after a punch or an attendance message. */
function mountBanner(placeholder) {
  let banner = placeholder;
  const source = banner.dataset.src;
  let loading = null;
  let again = false;

  /** Fetch the banner and put it in place; a second call while one runs fetches once more after it. */
  function load() {
    if (loading) { again = true; return loading; }
    loading = (async () => {
      try {
        const res = await fetch(source, { credentials: 'same-origin', headers: { Accept: 'text/html' } });
        // A session that ended redirects to the sign-in page: keep the banner as it is.
        if (!res.ok || res.redirected) return;
        const template = document.createElement('template');
        template.innerHTML = (await res.text()).trim(); // our own server-rendered template
        const fresh = template.content.querySelector('[data-testid="attendance-banner"]');
        if (!fresh) return;
        const hadFocus = banner.contains(document.activeElement);
        banner.replaceWith(fresh);
        banner = fresh;
        if (hadFocus) {
          const next = banner.querySelector('button, a');
          if (next) next.focus({ preventScroll: true });
        }
      } catch (e) {
        // Offline: the banner stays; the next attendance message or punch tries again.
      } finally {
        loading = null;
        if (again) { again = false; load(); }
      }
    })();
    return loading;
  }

  function showError(text) {
    const el = banner.querySelector('.att-banner-error');
    if (!el) return;
    el.textContent = text;
    el.hidden = !text;
  }

  // The banner is replaced on each load: listen on the document.
  document.addEventListener('submit', async (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !banner.contains(form) || !form.dataset.api) return;
    event.preventDefault();
    const button = form.querySelector('button');
    if (button.disabled) return;
    button.disabled = true;
    showError('');
    try {
      await api('POST', form.dataset.api);
      await load();
    } catch (err) {
      button.disabled = false;
      showError((err && err.detail) || gettext('That did not work. Please try again.'));
    }
  });

  events.addEventListener('message', (event) => {
    if (event.detail && event.detail.app === 'attendance') load();
  });

  load();
}

const bannerPlaceholder = document.querySelector('[data-testid="attendance-banner"][data-src]');
if (bannerPlaceholder) mountBanner(bannerPlaceholder);
