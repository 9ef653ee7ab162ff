// node --test: the outbox (messaging/static/messaging/outbox.js), with a fake clock and socket.
import assert from 'node:assert/strict';
import test from 'node:test';

import { AUTO_RETRIES, FINAL_REFUSALS, mayRetry, newClientId, Outbox } from '../../static/messaging/outbox.js';

function harness({ burst = 20, rate = 8 } = {}) {
  const clock = { now: 0, timers: [] };
  const outbox = new Outbox({
    burst, rate, now: () => clock.now, random: () => 0,
    setTimer: (fn, ms) => { const t = { fn, at: clock.now + ms }; clock.timers.push(t); return t; },
    clearTimer: (t) => { clock.timers = clock.timers.filter((x) => x !== t); },
  });
  const sent = [];
  let open = true;
  outbox.ready = () => open;
  outbox.sendFrame = (frame) => { if (!open) return false; sent.push(frame); return true; };
  const advance = (ms) => {
    clock.now += ms;
    for (;;) {
      const due = clock.timers.filter((t) => t.at <= clock.now).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      clock.timers = clock.timers.filter((t) => t !== due);
      due.fn();
    }
  };
  return { outbox, sent, advance, setOpen: (v) => { open = v; } };
}

const message = (outbox, text) => outbox.create({ conversation: 7, app: 'chat', body: { text }, sender: 1 });

test('client ids are UUIDs, each new', () => {
  const a = newClientId();
  assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.notEqual(a, newClientId());
});

test('a message goes out as a send frame with its client_id', () => {
  const { outbox, sent } = harness();
  const item = message(outbox, 'hi');
  outbox.transmit(item);
  assert.deepEqual(sent, [{ type: 'send', client_id: item.client_id, conversation: 7, app: 'chat', body: { text: 'hi' } }]);
  assert.equal(item.status, 'sending');
});

test('a burst is paced, in order, not dropped', () => {
  const { outbox, sent, advance } = harness({ burst: 3, rate: 2 });
  const items = ['a', 'b', 'c', 'd', 'e'].map((t) => message(outbox, t));
  items.forEach((i) => outbox.transmit(i));
  assert.deepEqual(sent.map((f) => f.body.text), ['a', 'b', 'c']);
  advance(1000);
  assert.deepEqual(sent.map((f) => f.body.text), ['a', 'b', 'c', 'd', 'e']);
});

test('nothing goes while the socket is down; a new connection sends what is unacknowledged, oldest first', () => {
  const { outbox, sent, setOpen } = harness();
  setOpen(false);
  const [a, b, c] = ['a', 'b', 'c'].map((t) => message(outbox, t));
  [a, b, c].forEach((i) => outbox.transmit(i));
  assert.equal(sent.length, 0);
  setOpen(true);
  outbox.stored(b.client_id, { id: 11, seq: 2 }); // b was stored by another socket meanwhile
  outbox.resendAll();
  assert.deepEqual(sent.map((f) => f.body.text), ['a', 'c']);
});

test('an ack takes the message out of the outbox with its id and seq', () => {
  const { outbox } = harness();
  const item = message(outbox, 'x');
  const stored = outbox.stored(item.client_id, { id: '41', seq: '5', created_at: '2026-12-07T10:00:00Z' });
  assert.equal(stored, item);
  assert.deepEqual([item.id, item.seq, item.status, item.created_at], [41, 5, 'delivered', '2026-12-07T10:00:00Z']);
  assert.equal(outbox.has(item.client_id), false);
  assert.equal(outbox.stored(item.client_id, { id: 41, seq: 5 }), null); // a repeated ack
});

test('over the rate limit a send goes again with the same client_id, then fails', () => {
  const { outbox, sent, advance } = harness();
  const item = message(outbox, 'x');
  outbox.transmit(item);
  for (let i = 0; i < AUTO_RETRIES; i++) {
    assert.equal(outbox.refused(item.client_id, 'rate_limited', 'slow down'), null);
    advance(10000);
  }
  assert.equal(sent.length, 1 + AUTO_RETRIES);
  assert.ok(sent.every((f) => f.client_id === item.client_id));
  assert.equal(outbox.refused(item.client_id, 'rate_limited', 'slow down'), item);
  assert.equal(item.status, 'failed');
  assert.equal(item.error, 'slow down');
});

test('a refused send fails at once and keeps its text; retry sends it again, discard drops it', () => {
  const { outbox, sent } = harness();
  const item = message(outbox, 'to a former colleague');
  outbox.transmit(item);
  assert.equal(outbox.refused(item.client_id, 'not_permitted', '', 'Something went wrong.'), item);
  assert.equal(item.error, 'not_permitted');
  assert.equal(outbox.discard('nope'), null);
  assert.equal(outbox.retry(item.client_id), item);
  assert.equal(item.status, 'sending');
  assert.equal(sent.length, 2);
  assert.equal(outbox.discard(item.client_id), null); // only a failed message can be discarded
  outbox.refused(item.client_id, 'not_found', 'No such conversation.');
  assert.equal(outbox.discard(item.client_id), item);
  assert.equal(outbox.has(item.client_id), false);
});

test('a send refused for what it is (invalid, too large) is not retried as it is', () => {
  const { outbox, sent } = harness();
  for (const code of FINAL_REFUSALS) {
    const item = message(outbox, 'x');
    outbox.transmit(item);
    outbox.refused(item.client_id, code, 'No.');
    assert.equal(mayRetry(item), false);
    assert.equal(outbox.retry(item.client_id), null);
    assert.equal(item.status, 'failed');
    assert.equal(outbox.discard(item.client_id), item);
  }
  assert.deepEqual([...FINAL_REFUSALS].sort(), ['invalid', 'too_large', 'unknown_app']);
  assert.equal(sent.length, FINAL_REFUSALS.size);
  const other = message(outbox, 'y');
  assert.equal(mayRetry(other), false); // still sending
  outbox.refused(other.client_id, 'rate_limited', 'slow down');
  for (let i = 0; i < AUTO_RETRIES; i++) outbox.refused(other.client_id, 'rate_limited', 'slow down');
  assert.equal(other.status, 'failed');
  assert.equal(mayRetry(other), true);
});

test('every change is told to the keeper: kept while unsent or failed, forgotten once stored or discarded', () => {
  const { outbox } = harness();
  const kept = [];
  const forgotten = [];
  outbox.keep = (item) => kept.push([item.client_id, item.status]);
  outbox.forget = (clientId) => forgotten.push(clientId);
  const a = message(outbox, 'a');
  const b = message(outbox, 'b');
  assert.deepEqual(kept, [[a.client_id, 'sending'], [b.client_id, 'sending']]);
  outbox.stored(a.client_id, { id: 10, seq: 1 });
  assert.deepEqual(forgotten, [a.client_id]);
  outbox.refused(b.client_id, 'not_permitted', 'No.');
  assert.deepEqual(kept.at(-1), [b.client_id, 'failed']);
  outbox.retry(b.client_id);
  assert.deepEqual(kept.at(-1), [b.client_id, 'sending']);
  outbox.refused(b.client_id, 'not_permitted', 'No.');
  outbox.discard(b.client_id);
  assert.deepEqual(forgotten, [a.client_id, b.client_id]);
  // Deleting what is not there tells nothing.
  assert.equal(outbox.delete('nobody'), false);
  assert.equal(forgotten.length, 2);
});

test('messages kept by an earlier page join the outbox and go on the next connection', () => {
  const { outbox, sent, setOpen } = harness();
  setOpen(false);
  const kept = [];
  outbox.keep = (item) => kept.push(item.client_id);
  const mine = message(outbox, 'this page');
  const restored = outbox.restore([
    { client_id: 'earlier-1', conversation: 7, app: 'chat', body: { text: 'written offline' }, sender: 1, created_at: '2024-05-01T08:00:00Z', status: 'sending' },
    { client_id: 'earlier-2', conversation: 8, app: 'chat', body: { text: 'refused' }, sender: 1, created_at: '2024-05-01T08:01:00Z', status: 'failed', error: 'No.', refusal: 'not_permitted' },
    { client_id: mine.client_id, conversation: 7, app: 'chat', body: { text: 'held already' }, sender: 1, status: 'sending' },
    { client_id: 'earlier-3', conversation: 7, app: 'chat', body: {}, sender: 1, status: 'sending', forward: 55, reply_to: { id: 3, seq: 2, sender: 2, app: 'chat', quote: 'q', recalled: false } },
  ]);
  assert.deepEqual(restored.map((i) => i.client_id), ['earlier-1', 'earlier-2', 'earlier-3']);
  assert.equal(outbox.get(mine.client_id).body.text, 'this page');
  assert.deepEqual(kept, [mine.client_id]); // restoring keeps nothing again
  const failed = outbox.get('earlier-2');
  assert.equal(failed.status, 'failed');
  assert.equal(mayRetry(failed), true);
  assert.equal(outbox.get('earlier-3').forwarded, true);

  setOpen(true);
  outbox.resendAll();
  // The earlier page's first: they were written first.
  assert.deepEqual(sent.map((f) => f.client_id), ['earlier-1', 'earlier-3', mine.client_id]);
  assert.deepEqual(sent[0], { type: 'send', client_id: 'earlier-1', conversation: 7, app: 'chat', body: { text: 'written offline' } });
  assert.deepEqual(sent[1], { type: 'send', client_id: 'earlier-3', conversation: 7, forward: 55, reply_to: 3 });
});
