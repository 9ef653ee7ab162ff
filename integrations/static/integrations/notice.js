/* Notice cards in the web chat: the `notice` app's renderer.
 *
 * A body is {notification, from, title, text, link}: a notification that an integration
 * (the HR system, say) sent through POST /api/v1/notifications/. The text is plain text,
 * shown as such; the link opens in a new tab.
 */
import { register, h, gettext } from '../messaging/client.js';

function safeLink(value) {
  try {
    const url = new URL(String(value || ''), window.location.href);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : '';
  } catch (e) {
    return '';
  }
}

function renderNotice(body) {
  const card = h('article', { class: 'notice-card', 'data-testid': 'notice-card', 'data-notification': Number(body.notification) || '' });
  const icon = h('span', { class: 'notice-icon', 'aria-hidden': 'true' });
  icon.innerHTML = '<svg viewBox="0 0 24 24" width="18" height="18" fill="none" stroke="currentColor" stroke-width="1.8" '
    + 'stroke-linecap="round" stroke-linejoin="round" focusable="false"><path d="M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9"/>'
    + '<path d="M10.3 21a1.94 1.94 0 0 0 3.4 0"/></svg>';
  const head = h('div', { class: 'notice-card-head' }, [
    icon,
    h('div', { class: 'notice-card-title' }, [
      h('span', { class: 'notice-card-from' }, [String(body.from || gettext('Notice'))]),
      h('strong', {}, [String(body.title || '')]),
    ]),
  ]);
  card.append(head, h('p', { class: 'notice-card-text' }, [String(body.text || '')]));
  const href = safeLink(body.link);
  if (href) {
    card.append(h('a', { class: 'button notice-card-link', href, target: '_blank', rel: 'noopener noreferrer' }, [gettext('Open')]));
  }
  return card;
}

register('notice', renderNotice);
