// node --test: the reconnect delay and the send pace (messaging/static/messaging/backoff.js).
import assert from 'node:assert/strict';
import test from 'node:test';

import { BACKOFF_CAP_MS, reconnectDelay, TokenBucket } from '../../static/messaging/backoff.js';

test('the reconnect delay doubles its ceiling per attempt, up to the cap', () => {
  const top = () => 0.999999;
  assert.ok(reconnectDelay(0, top) < 500);
  assert.ok(reconnectDelay(1, top) < 1000 && reconnectDelay(1, top) > 999);
  assert.ok(reconnectDelay(3, top) > 3999);
  assert.ok(reconnectDelay(30, top) <= BACKOFF_CAP_MS);
  assert.ok(reconnectDelay(30, top) > BACKOFF_CAP_MS - 1);
});

test('the delay is full jitter: anywhere from zero to the ceiling', () => {
  assert.equal(reconnectDelay(5, () => 0), 0);
  assert.equal(reconnectDelay(2, () => 0.5), 1000);
});

test('a token bucket gives its burst at once, then its rate', () => {
  let now = 0;
  const bucket = new TokenBucket(3, 2, () => now);
  assert.ok(bucket.take() && bucket.take() && bucket.take());
  assert.equal(bucket.take(), false);
  assert.ok(bucket.waitMs() > 490 && bucket.waitMs() < 510);
  now += 500;
  assert.equal(bucket.waitMs(), 0);
  assert.ok(bucket.take());
  now += 60000;
  bucket.refill();
  assert.equal(bucket.tokens, 3); // never more than the burst
});
