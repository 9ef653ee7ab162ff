// node --test: drafts kept per user and conversation (messaging/static/messaging/drafts.js),
// in a Storage-like object standing for localStorage.
import assert from 'node:assert/strict';
import test from 'node:test';

import { DRAFT_PREFIX, Drafts } from '../../static/messaging/drafts.js';

/** localStorage's interface over a Map; `quota` bounds the characters it holds. */
class FakeStorage {
  constructor(quota = Infinity) { this.map = new Map(); this.quota = quota; }
  get length() { return this.map.size; }
  key(i) { return [...this.map.keys()][i] ?? null; }
  getItem(k) { return this.map.has(k) ? this.map.get(k) : null; }
  setItem(k, v) {
    const used = [...this.map].reduce((n, [key, val]) => n + (key === k ? 0 : key.length + val.length), 0);
    if (used + k.length + String(v).length > this.quota) throw new Error('QuotaExceededError');
    this.map.set(k, String(v));
  }
  removeItem(k) { this.map.delete(k); }
}

function clock() {
  let t = 1000;
  return () => ++t;
}

test('a draft is stored under the user and the conversation, and read back by a new page', () => {
  const storage = new FakeStorage();
  const drafts = new Drafts(storage, 4, { now: clock() });
  drafts.set(12, 'half a thought');
  drafts.set(13, 'another');
  assert.deepEqual([...storage.map.keys()].sort(), [`${DRAFT_PREFIX}4:12`, `${DRAFT_PREFIX}4:13`]);
  const later = new Drafts(storage, 4);
  assert.equal(later.get(12), 'half a thought');
  assert.equal(later.get('13'), 'another');
  assert.equal(later.get(14), '');
  // Another user of the same browser has drafts of their own.
  assert.equal(new Drafts(storage, 5).get(12), '');
});

test('sending or emptying the text removes the draft', () => {
  const storage = new FakeStorage();
  const drafts = new Drafts(storage, 1);
  drafts.set(7, 'hello');
  drafts.delete(7);
  assert.equal(storage.length, 0);
  drafts.set(7, 'hello');
  drafts.set(7, '  \n ');
  assert.equal(storage.length, 0);
  assert.equal(drafts.get(7), '');
});

test('at most maxDrafts are kept: the oldest go', () => {
  const storage = new FakeStorage();
  storage.setItem('unrelated', 'kept');
  const drafts = new Drafts(storage, 1, { maxDrafts: 3, now: clock() });
  for (const c of [1, 2, 3]) drafts.set(c, `draft ${c}`);
  drafts.set(1, 'draft 1, newer'); // now 2 is the oldest
  drafts.set(4, 'draft 4');
  assert.equal(drafts.get(2), '');
  assert.deepEqual([1, 3, 4].map((c) => drafts.get(c)), ['draft 1, newer', 'draft 3', 'draft 4']);
  assert.equal(storage.getItem('unrelated'), 'kept');

  const many = new Drafts(new FakeStorage(), 1, { maxDrafts: 200, now: clock() });
  for (let c = 1; c <= 200; c++) many.set(c, `draft ${c}`);
  assert.equal(many.storage.length, 200);
  many.set(201, 'one more');
  assert.equal(many.storage.length, 200);
  assert.equal(many.get(1), '');
  assert.equal(many.get(2), 'draft 2');
});

test('a text larger than a message may be is kept by the page only', () => {
  const storage = new FakeStorage();
  const drafts = new Drafts(storage, 1, { maxBytes: 100 });
  drafts.set(9, 'short');
  drafts.set(9, 'x'.repeat(200));
  assert.equal(storage.getItem(`${DRAFT_PREFIX}1:9`), null); // not the older, shorter text either
  assert.equal(drafts.get(9), 'x'.repeat(200));
  assert.equal(new Drafts(storage, 1).get(9), '');
  drafts.set(9, 'trimmed');
  assert.equal(new Drafts(storage, 1).get(9), 'trimmed');
});

test('a full storage makes room with older drafts; without storage the page keeps them', () => {
  const storage = new FakeStorage(300);
  const drafts = new Drafts(storage, 1, { maxDrafts: 8, now: clock() });
  for (let c = 1; c <= 5; c++) drafts.set(c, 'y'.repeat(20));
  drafts.set(6, 'z'.repeat(60));
  assert.equal(drafts.get(6), 'z'.repeat(60));
  assert.equal(drafts.get(1), '');

  const none = new Drafts(null, 1);
  none.set(3, 'in memory');
  assert.equal(none.get(3), 'in memory');
  none.delete(3);
  assert.equal(none.get(3), '');
});

test('what is not a draft of ours reads as none', () => {
  const storage = new FakeStorage();
  storage.setItem(`${DRAFT_PREFIX}1:2`, 'not json');
  storage.setItem(`${DRAFT_PREFIX}1:3`, '{"at": 1}');
  const drafts = new Drafts(storage, 1);
  assert.equal(drafts.get(2), '');
  assert.equal(drafts.get(3), '');
  const broken = { getItem() { throw new Error('denied'); }, setItem() { throw new Error('denied'); }, removeItem() {}, key() { return null; }, length: 0 };
  const d = new Drafts(broken, 1);
  d.set(1, 'kept here');
  assert.equal(d.get(1), 'kept here');
});
