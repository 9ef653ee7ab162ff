// node --test: what the chat keeps on the device to work offline
// (messaging/static/messaging/saved.js): shapes, bounds, merges.
import assert from 'node:assert/strict';
import test from 'node:test';

import {
  applyUpdate, conversationsToDrop, inboxOrder, INBOX_MAX, MAX_AGE_MS, mergeMessages, outboxRecord, savedConversation,
  savedInbox, savedMessage, savedOutbox, unreadTotal,
} from '../../static/messaging/saved.js';

const msg = (seq, extra = {}) => ({
  id: 100 + seq, conversation: 7, seq, sender: 2, app: 'chat', body: { text: `m${seq}`, html: `<p>m${seq}</p>` },
  created_at: `2024-05-01T08:${String(seq % 60).padStart(2, '0')}:00Z`, ...extra,
});
const seqs = (list) => list.map((m) => m.seq);

test('a message is kept as plain data, only the fields of the protocol', () => {
  const el = { tagName: 'LI' };
  const kept = savedMessage({ ...msg(3), el, refs: { body: el }, status: 'delivered', reactions: [{ emoji: '👍', count: 2, me: true }, { emoji: 'x' }] });
  assert.deepEqual(Object.keys(kept).sort(), [
    'app', 'body', 'client_id', 'conversation', 'created_at', 'edited_at', 'forwarded', 'id', 'mentions', 'reactions',
    'recalled', 'reply_to', 'sender', 'seq',
  ]);
  assert.deepEqual(kept.body, { text: 'm3', html: '<p>m3</p>' });
  assert.deepEqual(kept.reactions, [{ emoji: '👍', count: 2, me: true }]);
  // Not stored yet (no id or seq), or not a message: nothing to keep.
  assert.equal(savedMessage({ ...msg(3), id: null }), null);
  assert.equal(savedMessage({ ...msg(3), seq: 0 }), null);
  assert.equal(savedMessage('<img src=x>'), null);
  // A body that is not a JSON object becomes an empty one.
  assert.deepEqual(savedMessage({ ...msg(3), body: [1, 2] }).body, {});
  assert.deepEqual(savedMessage({ ...msg(3), body: { text: 'a', f: () => 1 } }).body, { text: 'a' });
});

test('new messages join the kept ones: one per id, in seq order, the newest fifty', () => {
  let kept = mergeMessages([], [msg(2), msg(1)]);
  assert.deepEqual(seqs(kept), [1, 2]);
  kept = mergeMessages(kept, [msg(3), msg(2, { body: { text: 'edited' } })]);
  assert.deepEqual(seqs(kept), [1, 2, 3]);
  assert.equal(kept[1].body.text, 'edited');
  const many = mergeMessages([], Array.from({ length: 80 }, (_, i) => msg(i + 1)));
  assert.equal(many.length, 50);
  assert.deepEqual([many[0].seq, many.at(-1).seq], [31, 80]);
  assert.equal(mergeMessages(many, [msg(81)], 10).length, 10);
});

test('a message past a gap starts the kept history again, so that it never has a hole', () => {
  const kept = mergeMessages([], [msg(1), msg(2), msg(3)]);
  assert.deepEqual(seqs(mergeMessages(kept, [msg(6)])), [6]);
  assert.deepEqual(seqs(mergeMessages(kept, [msg(5), msg(4)])), [1, 2, 3, 4, 5]);
  // An older page loaded later joins below.
  assert.deepEqual(seqs(mergeMessages([msg(5), msg(6)], [msg(3), msg(4)])), [3, 4, 5, 6]);
});

test('an edit, a recall or reactions change a kept message; one not kept is left alone', () => {
  const kept = mergeMessages([], [msg(1), msg(2, { reactions: [{ emoji: '👍', count: 1, me: true }] })]);
  const edited = applyUpdate(kept, { id: 102, body: { text: 'new', html: '<p>new</p>' }, edited_at: '2024-05-01T09:00:00Z' }, 5);
  assert.equal(edited[1].body.text, 'new');
  assert.equal(edited[1].edited_at, '2024-05-01T09:00:00Z');
  assert.equal(kept[1].body.text, 'm2'); // a new list
  const reacted = applyUpdate(kept, { id: 102, reactions: [{ emoji: '👍', count: 2 }, { emoji: '🎉', count: 1 }], reaction: { user: 5, emoji: '🎉', on: true } }, 5);
  assert.deepEqual(reacted[1].reactions, [{ emoji: '👍', count: 2, me: true }, { emoji: '🎉', count: 1, me: true }]);
  const recalled = applyUpdate(kept, { id: 102, body: {}, recalled: true }, 5);
  assert.equal(recalled[1].recalled, true);
  assert.deepEqual(recalled[1].body, {});
  assert.deepEqual(recalled[1].reactions, []);
  assert.equal(applyUpdate(kept, { id: 999, recalled: true }, 5), null);
});

test('the messages of the twenty conversations used last are kept, for thirty days, while in the inbox', () => {
  const now = 1_000_000_000_000;
  const records = Array.from({ length: 25 }, (_, i) => ({ conversation: i + 1, at: now - i * 1000 }));
  assert.deepEqual(conversationsToDrop(records, { now }), [21, 22, 23, 24, 25]);
  const old = [{ conversation: 1, at: now }, { conversation: 2, at: now - MAX_AGE_MS - 1 }, { conversation: 3, at: 'x' }];
  assert.deepEqual(conversationsToDrop(old, { now }), [2, 3]);
  assert.deepEqual(conversationsToDrop(records.slice(0, 3), { now, inbox: new Set([1, 3]) }), [2]);
});

const conv = (id, extra = {}) => ({
  id, kind: 'group', title: `Group ${id}`, members: [{ id: 1, username: 'alice', display_name: 'Alice', last_read_seq: 2, email: 'a@example.com' }],
  unread: 0, mentions: 0, last_read_seq: 2, last_seq: 2, muted: false, pinned: false, owner: 1, notice: '',
  created_at: '2024-01-01T00:00:00Z', last_message: { ...msg(2, { conversation: id }), preview: 'Alice: m2' }, ...extra,
});

test('the inbox is kept in its order, as plain data, at most INBOX_MAX conversations', () => {
  const a = conv(1, { last_message: { ...msg(1, { conversation: 1 }), created_at: '2024-05-01T10:00:00Z', preview: 'newest' } });
  const b = conv(2, { pinned: true });
  const c = conv(3, { last_message: null, created_at: '2024-04-01T00:00:00Z' });
  const kept = savedInbox([c, a, b, { id: 4, kind: 'nonsense' }, null]);
  assert.deepEqual(kept.map((x) => x.id), [2, 1, 3]);
  assert.equal(kept[1].last_message.preview, 'newest');
  assert.deepEqual(kept[0].members, [{ id: 1, username: 'alice', display_name: 'Alice', last_read_seq: 2 }]);
  assert.deepEqual([...kept].sort(inboxOrder).map((x) => x.id), [2, 1, 3]);
  const many = Array.from({ length: INBOX_MAX + 10 }, (_, i) => conv(i + 1));
  assert.equal(savedInbox(many).length, INBOX_MAX);
  // Read back, the same shapes: counts as numbers, mentions within the unread.
  const back = savedConversation({ ...conv(9), unread: '3', mentions: 7, muted: 1, title: 5 });
  assert.deepEqual([back.unread, back.mentions, back.muted, back.title], [3, 3, true, '']);
  assert.equal(savedConversation({ ...conv(9), id: 'x' }), null);
});

test('unsent messages are kept with what sends them again, and only the signed-in person\'s are read back', () => {
  const item = {
    client_id: 'c-1', conversation: 7, app: 'chat', body: { text: 'hi' }, sender: 5, created_at: '2024-05-01T08:00:00Z',
    status: 'sending', error: null, refusal: null, reply_to: null, forward: null, el: {}, refs: {}, autoRetries: 2,
  };
  const record = outboxRecord(item);
  assert.deepEqual(record, {
    client_id: 'c-1', conversation: 7, app: 'chat', body: { text: 'hi' }, sender: 5, created_at: '2024-05-01T08:00:00Z',
    status: 'sending', error: null, refusal: null, reply_to: null, forward: null,
  });
  const later = { ...record, client_id: 'c-0', created_at: '2024-04-30T08:00:00Z', status: 'failed', error: 'No.' };
  const read = savedOutbox([record, later, { ...record, client_id: 'c-2', sender: 6 }, { ...record, client_id: 'x'.repeat(65) },
    { ...record, client_id: 'c-3', status: 'delivered' }, { ...record, client_id: 'c-4', conversation: 0 }], 5);
  assert.deepEqual(read.map((r) => r.client_id), ['c-0', 'c-1']);
  assert.equal(read[0].status, 'failed');
  assert.deepEqual(savedOutbox([record], 0), []);
});

test('the unread total leaves out muted conversations', () => {
  assert.equal(unreadTotal([{ unread: 2 }, { unread: 3, muted: true }, { unread: '4' }, { unread: -1 }]), 6);
  assert.equal(unreadTotal(new Map([[1, { unread: 1 }]]).values()), 1);
  assert.equal(unreadTotal([]), 0);
});
