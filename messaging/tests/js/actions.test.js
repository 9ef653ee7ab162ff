// node --test: the pure parts of message actions: the reply quote a client makes, the
// reactions after a message_update, the send frames of replies and forwards
// (text.js, outbox.js), and what the message menu offers (actions.js's actionsFor is
// re-stated here through its rules, as actions.js needs a page).
import assert from 'node:assert/strict';
import test from 'node:test';

import { Outbox, sendFrameOf } from '../../static/messaging/outbox.js';
import { mergeReactions, normaliseMessage, normaliseReply, quoteOf, QUOTE_CHARS } from '../../static/messaging/text.js';

test('a quote is the plain text of a chat message, cut short, and nothing of a recalled one', () => {
  const msg = { id: 7, seq: 3, sender: 2, app: 'chat', body: { text: '**Hi** there', html: '<p><strong>Hi</strong> there</p>' } };
  assert.deepEqual(quoteOf(msg), { id: 7, seq: 3, sender: 2, app: 'chat', quote: 'Hi there', recalled: false });
  const long = quoteOf({ ...msg, body: { text: 'x'.repeat(300) } });
  assert.equal([...long.quote].length, QUOTE_CHARS);
  assert.ok(long.quote.endsWith('…'));
  assert.equal(quoteOf({ ...msg, recalled: true, body: {} }).quote, '');
  assert.equal(quoteOf({ ...msg, app: 'file', body: { name: 'plan.pdf' } }).quote, 'plan.pdf');
  assert.equal(quoteOf({ ...msg, app: 'approval', body: { title: 'Leave' } }).quote, '');
});

test('a message keeps only well-formed reply, forward and reaction fields', () => {
  const m = normaliseMessage({
    id: '5', conversation: 1, seq: 2, sender: 3, app: 'chat', body: {},
    reply_to: { id: 4, seq: 1, sender: 9, app: 'chat', quote: '<b>hi</b>', recalled: 0, extra: 'x' },
    forwarded: 1, reactions: [{ emoji: '👍', count: 2, me: true }, { emoji: '🎉', count: 0 }, 'junk'],
  });
  assert.deepEqual(m.reply_to, { id: 4, seq: 1, sender: 9, app: 'chat', quote: '<b>hi</b>', recalled: false });
  assert.equal(m.forwarded, true);
  assert.deepEqual(m.reactions, [{ emoji: '👍', count: 2, me: true }]);
  assert.equal(normaliseReply({ quote: 'no id' }), null);
  assert.equal(normaliseMessage({ id: 1 }).reply_to, null);
});

test('after a message_update a reader keeps its own reactions and takes its own change', () => {
  const mine = [{ emoji: '👍', count: 1, me: true }];
  // Someone else added 🎉: my 👍 stays mine, 🎉 is not.
  assert.deepEqual(mergeReactions(mine, [{ emoji: '👍', count: 1 }, { emoji: '🎉', count: 1 }], { user: 8, emoji: '🎉', on: true }, 1), [
    { emoji: '👍', count: 1, me: true }, { emoji: '🎉', count: 1, me: false },
  ]);
  // I took my 👍 back (from another tab): the count says 1, and it is no longer mine.
  assert.deepEqual(mergeReactions(mine, [{ emoji: '👍', count: 1 }], { user: 1, emoji: '👍', on: false }, 1), [
    { emoji: '👍', count: 1, me: false },
  ]);
  assert.deepEqual(mergeReactions(mine, [], { user: 2, emoji: '👍', on: false }, 1), []);
});

test('a reply names what it answers and a forward its original, without a body', () => {
  const outbox = new Outbox();
  const reply = outbox.create({ conversation: 4, app: 'chat', body: { text: 'yes' }, sender: 1, replyTo: { id: 9, quote: 'q' } });
  assert.deepEqual(sendFrameOf(reply), { type: 'send', client_id: reply.client_id, conversation: 4, app: 'chat', body: { text: 'yes' }, reply_to: 9 });
  const copy = outbox.create({ conversation: 5, app: 'chat', body: { text: 'orig' }, sender: 1, forward: 12 });
  assert.equal(copy.forwarded, true);
  assert.deepEqual(sendFrameOf(copy), { type: 'send', client_id: copy.client_id, conversation: 5, forward: 12 });
  const plain = outbox.create({ conversation: 5, app: 'chat', body: { text: 'x' }, sender: 1 });
  assert.deepEqual(Object.keys(sendFrameOf(plain)).sort(), ['app', 'body', 'client_id', 'conversation', 'type']);
});
