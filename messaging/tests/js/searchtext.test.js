// node --test: message search results as text (messaging/static/messaging/searchtext.js).
import assert from 'node:assert/strict';
import test from 'node:test';

import { groupByConversation, highlightParts, worthSearching } from '../../static/messaging/searchtext.js';

test('a highlight comes apart into text and marked words, never markup', () => {
  assert.deepEqual(highlightParts('我们下周三<mark>开会</mark>，带 &lt;Q3&gt; &amp; <mark>Budget</mark>'), [
    { text: '我们下周三', mark: false }, { text: '开会', mark: true }, { text: '，带 <Q3> & ', mark: false }, { text: 'Budget', mark: true },
  ]);
  // Anything but <mark> stays text, shown as written.
  assert.deepEqual(highlightParts('<img src=x onerror=alert(1)>'), [{ text: '<img src=x onerror=alert(1)>', mark: false }]);
  assert.deepEqual(highlightParts(null), []);
});

test('results are grouped by conversation in the order they came', () => {
  const groups = groupByConversation([{ conversation: 2, id: 9 }, { conversation: 1, id: 8 }, { conversation: 2, id: 7 }]);
  assert.deepEqual(groups.map((g) => [g.conversation, g.items.map((r) => r.id)]), [[2, [9, 7]], [1, [8]]]);
});

test('a query is asked once it has two characters, a Chinese one, or a filter', () => {
  assert.equal(worthSearching(''), false);
  assert.equal(worthSearching('a'), false);
  assert.equal(worthSearching('ab'), true);
  assert.equal(worthSearching('会'), true);
  assert.equal(worthSearching('has:file'), true);
  assert.equal(worthSearching('  '), false);
});
