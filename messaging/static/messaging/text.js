/* Text without markup: previews, dates, sizes (tested with node --test). */

import { fill, gettext, LANG, ngettext } from './i18n.js';
import { groupEventText } from './grouptext.js';

// messaging/send/checks.py MAX_TEXT_CHARS: the server refuses longer text, in code points.
export const MAX_TEXT_CHARS = 10000;

/** A message as the REST API and the socket give it, with numbers as numbers. */
export function normaliseMessage(m) {
  return {
    id: Number(m.id), conversation: Number(m.conversation), seq: Number(m.seq), sender: Number(m.sender),
    app: m.app || 'chat', body: m.body || {}, created_at: m.created_at, client_id: m.client_id || null,
    edited_at: m.edited_at || null, recalled: !!m.recalled,
    mentions: Array.isArray(m.mentions) ? m.mentions.map(Number).filter(Number.isInteger) : [],
    reply_to: normaliseReply(m.reply_to), forwarded: !!m.forwarded, reactions: normaliseReactions(m.reactions),
  };
}

/** What a reply carries of the message it answers (docs/protocol.md, "Message actions"):
 * only ever shown as text. */
export function normaliseReply(r) {
  if (!r || typeof r !== 'object' || !Number.isInteger(Number(r.id))) return null;
  return {
    id: Number(r.id), seq: Number(r.seq) || 0, sender: Number(r.sender) || 0, app: String(r.app || 'chat'),
    quote: typeof r.quote === 'string' ? r.quote : '', recalled: !!r.recalled,
  };
}

export function normaliseReactions(list) {
  if (!Array.isArray(list)) return [];
  return list
    .filter((r) => r && typeof r.emoji === 'string' && Number(r.count) > 0)
    .map((r) => ({ emoji: r.emoji, count: Number(r.count), me: !!r.me }));
}

// messaging/frames.py QUOTE_CHARS: how much of the answered message a reply quotes.
export const QUOTE_CHARS = 100;

/** The quote a reply carries of `msg`, as the server makes it: a chat message's text
 * without its Markdown, a file's name, nothing of other apps or a recalled message. */
export function quoteOf(msg) {
  if (!msg) return null;
  const b = msg.body || {};
  let text = '';
  if (!msg.recalled) {
    if (msg.app === 'chat') text = typeof b.html === 'string' && b.html ? plainFromHtml(b.html) : (typeof b.text === 'string' ? b.text : '');
    else if (msg.app === 'file' && typeof b.name === 'string') text = b.name;
  }
  return {
    id: Number(msg.id), seq: Number(msg.seq) || 0, sender: Number(msg.sender) || 0, app: msg.app || 'chat',
    quote: clip(text.replace(/\s+/g, ' ').trim(), QUOTE_CHARS), recalled: !!msg.recalled,
  };
}

/** A message's reactions after a message_update: the counts everyone hears, with `me`
 * kept from what this reader had, and flipped where the change was its own. */
export function mergeReactions(mine, counts, change, meId) {
  const had = new Map((mine || []).map((r) => [r.emoji, !!r.me]));
  return normaliseReactions(counts).map((r) => {
    let me = had.get(r.emoji) || false;
    if (change && Number(change.user) === Number(meId) && change.emoji === r.emoji) me = !!change.on;
    return { emoji: r.emoji, count: r.count, me };
  });
}

/** The size of a body as the server counts it: UTF-8 bytes of its JSON. */
export function bodySize(body) {
  try { return new TextEncoder().encode(JSON.stringify(body)).length; } catch (e) { return 0; }
}

/** The length of a text as the server counts it: code points, not UTF-16 units. */
export function charCount(text) {
  let n = 0;
  for (const _ of String(text)) n++;
  return n;
}

/** Past this share of the limit the composer shows how long the text is. */
export const NEAR_LIMIT = 0.9;

/** How a chat text stands against what the server takes: its length in code points,
 * whether it is near the limit, and whether it is over it (too many characters, or a
 * body over maxBytes): a text over it is not sent. */
export function textLimit(text, maxBytes = Infinity, maxChars = MAX_TEXT_CHARS) {
  text = String(text);
  const chars = charCount(text);
  const tooLong = chars > maxChars;
  // A UTF-16 unit takes at most 6 bytes of JSON (\u001f): most texts need no counting.
  const tooLarge = !tooLong && text.length * 6 + 16 > maxBytes && bodySize({ text }) > maxBytes;
  return { chars, max: maxChars, near: chars > maxChars * NEAR_LIMIT, tooLong, tooLarge, over: tooLong || tooLarge };
}

/** What the composer says of a textLimit(): the counter ("9,120 / 10,000") and, when the
 * text cannot be sent, why. */
export function limitText(limit, lang = LANG) {
  let nf;
  try { nf = new Intl.NumberFormat(lang); } catch (e) { nf = new Intl.NumberFormat(); } // a tag Intl does not know
  const vars = { count: nf.format(limit.chars), max: nf.format(limit.max) };
  let refusal = '';
  if (limit.tooLong) {
    refusal = fill(ngettext('This message is too long to send: {count} character, at most {max}.',
      'This message is too long to send: {count} characters, at most {max}.', limit.chars), vars);
  } else if (limit.tooLarge) refusal = gettext('This message is too long to send.');
  return { counter: fill(gettext('{count} / {max}'), vars), refusal };
}

const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#x27': "'", nbsp: ' ' };

/** Text with the entities the server's escaping writes read back (the result is only
 * ever used as text). */
export function unescapeHtml(text) {
  return String(text).replace(/&(#?\w+);/g, (m, name) => (name in ENTITIES ? ENTITIES[name] : m));
}

/** The text a reader sees of the server's rendered HTML (for a preview; the result is
 * only ever used as text). */
export function plainFromHtml(html) {
  return unescapeHtml(String(html).replace(/<\/(p|li|blockquote|pre|h\d)>|<br\s*\/?>/gi, ' ').replace(/<[^>]*>/g, ''));
}

/** One line of plain text for a message: the sidebar and notifications show it.
 * An office app's message is "[label] text", as the server makes it: `label` is what
 * people call the app's messages in their language (the app's key without one), `text`
 * what the app's module made of the body (renderers.js), else its title, summary, text
 * or name. */
export function previewText(msg, { label, text } = {}) {
  if (!msg) return '';
  if (msg.recalled) return gettext('This message was recalled');
  const b = msg.body || {};
  if (msg.app === 'chat') {
    const plain = typeof b.html === 'string' && b.html ? plainFromHtml(b.html) : (typeof b.text === 'string' ? b.text : '');
    return plain.replace(/\s+/g, ' ').trim();
  }
  if (msg.app === 'group') return groupEventText(b);
  const name = label || msg.app;
  if (typeof text === 'string' && text.trim()) return `[${name}] ${text.trim()}`;
  for (const k of ['title', 'summary', 'text', 'name']) if (typeof b[k] === 'string' && b[k].trim()) return `[${name}] ${b[k].trim()}`;
  return fill(gettext('“{app}” message'), { app: name });
}

/** Text the server will render with markup (the ack carries none, so the page fetches it). */
export function looksFormatted(text) {
  return typeof text === 'string' && /[*_`[\]>#~]|https?:\/\/|^\s*([-+]|\d+\.)\s/m.test(text);
}

/** Cut to `max` characters (code points), with an ellipsis. */
export function clip(text, max) {
  const chars = [...String(text)];
  return chars.length > max ? chars.slice(0, max - 1).join('') + '…' : String(text);
}

const pad = (n) => String(n).padStart(2, '0');
export const hhmm = (d) => `${pad(d.getHours())}:${pad(d.getMinutes())}`;
export const dayKey = (d) => `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;

export function parseDate(s) {
  const d = s ? new Date(s) : new Date();
  return Number.isNaN(d.getTime()) ? new Date() : d;
}

/** "Today", "Yesterday", or the date, with the year when it is not this one. */
export function dayLabel(d, today = new Date()) {
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  if (dayKey(d) === dayKey(today)) return gettext('Today');
  if (dayKey(d) === dayKey(yesterday)) return gettext('Yesterday');
  const opts = { weekday: 'long', month: 'long', day: 'numeric' };
  if (d.getFullYear() !== today.getFullYear()) opts.year = 'numeric';
  return d.toLocaleDateString(LANG, opts);
}

/** The time for today's messages, the date for older ones. */
export function shortWhen(s, today = new Date()) {
  const d = parseDate(s);
  if (dayKey(d) === dayKey(today)) return hhmm(d);
  return d.toLocaleDateString(LANG, { month: 'short', day: 'numeric' });
}
