// node --test: the @mention helpers (messaging/static/messaging/mentions.js).
import assert from 'node:assert/strict';
import test from 'node:test';

import { insertMention, mentionAt, mentionCandidates, mentionsMe, splitMentions } from '../../static/messaging/mentions.js';

test('an @ at the start or after a space opens a mention up to the caret', () => {
  assert.deepEqual(mentionAt('@al', 3), { start: 0, query: 'al' });
  assert.deepEqual(mentionAt('hi @', 4), { start: 3, query: '' });
  assert.deepEqual(mentionAt('hi\n@bo b', 6), { start: 3, query: 'bo' });
  assert.equal(mentionAt('mail@al', 7), null); // inside a word: an address, not a mention
  assert.equal(mentionAt('@al ice', 7), null); // the caret is past the name
  assert.equal(mentionAt('plain', 5), null);
});

test('members are offered by username, then by name; never me', () => {
  const members = [
    { id: 1, username: 'alice', display_name: 'Alice Wang' },
    { id: 2, username: 'bob', display_name: 'Bob Li' },
    { id: 3, username: 'dev_lead', display_name: 'Ali Khan' },
  ];
  assert.deepEqual(mentionCandidates(members, 'al', 2).map((m) => m.id), [1, 3]);
  assert.deepEqual(mentionCandidates(members, '', 1).map((m) => m.id), [2, 3]);
  assert.deepEqual(mentionCandidates(members, 'LI', 9).map((m) => m.id), [2, 1, 3]);
  assert.deepEqual(mentionCandidates(members, 'zz', 9), []);
  assert.equal(mentionCandidates(members, '', 9, 2).length, 2);
});

test('picking a member puts @username and a space in place of what was typed', () => {
  assert.deepEqual(insertMention('hi @al', 3, 6, 'alice'), { text: 'hi @alice ', caret: 10 });
  assert.deepEqual(insertMention('@al there', 0, 3, 'alice'), { text: '@alice there', caret: 7 });
  assert.deepEqual(insertMention('@alxx, ok', 0, 3, 'alice'), { text: '@alice , ok', caret: 7 });
});

test('text is cut at mentions of known usernames only', () => {
  const names = ['alice', 'bob.b'];
  assert.deepEqual(splitMentions('hi @alice.', names), ['hi ', { mention: 'alice', text: '@alice' }, '.']);
  assert.deepEqual(splitMentions('@bob.b, @carol', names), [{ mention: 'bob.b', text: '@bob.b' }, ', @carol']);
  assert.deepEqual(splitMentions('x@alice', names), ['x@alice']);
  assert.deepEqual(splitMentions('', names), []);
});

test('a message mentions me when the server says so', () => {
  assert.equal(mentionsMe({ mentions: [4, 5] }, 5), true);
  assert.equal(mentionsMe({ mentions: [] }, 5), false);
  assert.equal(mentionsMe({}, 5), false);
});
