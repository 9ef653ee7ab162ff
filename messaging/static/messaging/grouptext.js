/* What the group pieces of the chat say and decide, without the page: the sentence of a
 * `group` message (the server's preview says the same), who owns a group, and which of
 * my contacts could still be added to it. Tested under node --test. */

import { fill, gettext } from './i18n.js';

const nameOf = (person) => (person && typeof person.name === 'string' ? person.name : '');
const namesOf = (people) => (Array.isArray(people) ? people.map(nameOf).filter(Boolean).join(', ') : '');

/** The plain-text sentence of a `group` message's body (docs/protocol.md). */
export function groupEventText(body) {
  const b = body && typeof body === 'object' ? body : {};
  const actor = nameOf(b.by);
  const names = namesOf(b.users);
  switch (b.action) {
    case 'add': return fill(gettext('{actor} added {names}'), { actor, names });
    case 'remove': return fill(gettext('{actor} removed {names}'), { actor, names });
    case 'leave':
      return nameOf(b.owner)
        ? fill(gettext('{actor} left the group; {owner} is its owner now'), { actor, owner: nameOf(b.owner) })
        : fill(gettext('{actor} left the group'), { actor });
    case 'rename': return fill(gettext('{actor} renamed the group to “{title}”'), { actor, title: typeof b.title === 'string' ? b.title : '' });
    case 'notice':
      return b.notice ? fill(gettext('{actor} changed the group notice'), { actor }) : fill(gettext('{actor} cleared the group notice'), { actor });
    default: return fill(gettext('{actor} changed the group'), { actor });
  }
}

/** Whether `userId` owns this conversation: only a group has an owner. */
export const isGroupOwner = (conv, userId) => !!conv && conv.kind === 'group' && conv.owner != null && conv.owner === userId;

/** My contacts who are not in the group yet, by name. */
export function addableContacts(contacts, conv) {
  const inGroup = new Set(((conv && conv.members) || []).map((m) => m.id));
  return (contacts || [])
    .filter((p) => p && !inGroup.has(p.id))
    .sort((a, b) => (a.display_name || a.username || '').localeCompare(b.display_name || b.username || ''));
}

/** The members, the owner first, then by name. */
export function membersInOrder(conv) {
  const owner = conv && conv.owner;
  const name = (m) => m.display_name || m.username || '';
  return [...((conv && conv.members) || [])].sort((a, b) => (b.id === owner) - (a.id === owner) || name(a).localeCompare(name(b)));
}
