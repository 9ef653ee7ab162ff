/* @mentions in the composer and in messages: pure helpers, no DOM (node --test).
 *
 * The server decides whom a message mentions (messaging/send/mentions.py) and says so in
 * the message's `mentions`; these only help to type a name and to find names in text. */

// What a username may hold (Django's rule): letters, digits and _ . @ + -.
const NAME_CHAR = /[\p{L}\p{N}_.@+-]/u;
const TRAILING = '.@+-';

/** The `@name` being typed where the caret is, or null: an `@` at the start or after
 * white space, then name characters up to the caret. Returns {start, query}: start is
 * the index of the `@`. */
export function mentionAt(text, caret) {
  if (typeof text !== 'string') return null;
  let i = Math.min(Math.max(0, caret | 0), text.length);
  const end = i;
  while (i > 0 && text[i - 1] !== '@' && NAME_CHAR.test(text[i - 1])) i--;
  if (i === 0 || text[i - 1] !== '@') return null;
  const at = i - 1;
  if (at > 0 && !/\s/u.test(text[at - 1])) return null;
  return { start: at, query: text.slice(i, end) };
}

/** The members to offer for a query: not me, whose username or name starts with it
 * (then those that contain it), at most `limit`. */
export function mentionCandidates(members, query, meId, limit = 8) {
  const q = String(query || '').toLowerCase();
  const scored = [];
  for (const m of members || []) {
    if (!m || m.id === meId || !m.username) continue;
    const user = m.username.toLowerCase();
    const name = String(m.display_name || '').toLowerCase();
    let rank;
    if (user.startsWith(q)) rank = 0;
    else if (name.startsWith(q) || name.split(/\s+/u).some((w) => w.startsWith(q))) rank = 1;
    else if (user.includes(q) || name.includes(q)) rank = 2;
    else continue;
    scored.push([rank, user, m]);
  }
  scored.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return scored.slice(0, limit).map((s) => s[2]);
}

/** The text with the `@query` at `start` (up to `caret`) replaced by `@username `, and
 * where the caret goes. */
export function insertMention(text, start, caret, username) {
  const after = text.slice(caret).replace(/^[\p{L}\p{N}_.@+-]*/u, '');
  const inserted = `@${username} `;
  const rest = after.startsWith(' ') ? after.slice(1) : after;
  return { text: text.slice(0, start) + inserted + rest, caret: start + inserted.length };
}

/** Text cut into pieces at mentions of the given usernames: strings, and {mention:
 * username, text} for `@username` where it starts a word (trailing . @ + - that are not
 * part of a known name stay text). */
export function splitMentions(text, usernames) {
  const known = usernames instanceof Set ? usernames : new Set(usernames || []);
  const out = [];
  let plain = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '@' && (i === 0 || !NAME_CHAR.test(text[i - 1]))) {
      let j = i + 1;
      while (j < text.length && NAME_CHAR.test(text[j])) j++;
      let name = text.slice(i + 1, j);
      while (name && !known.has(name) && TRAILING.includes(name[name.length - 1])) name = name.slice(0, -1);
      if (name && known.has(name)) {
        if (plain) out.push(plain);
        plain = '';
        out.push({ mention: name, text: `@${name}` });
        i += 1 + name.length;
        continue;
      }
    }
    plain += ch;
    i++;
  }
  if (plain) out.push(plain);
  return out;
}

/** Whether a message (with the server's `mentions`) mentions this user. */
export function mentionsMe(message, meId) {
  return !!(message && Array.isArray(message.mentions) && message.mentions.includes(meId));
}
