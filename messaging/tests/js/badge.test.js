// node --test: the app's badge (messaging/static/messaging/badge.js) with a stand-in navigator.
import assert from 'node:assert/strict';
import test from 'node:test';

import { appBadge } from '../../static/messaging/badge.js';

function navigatorLike({ refuse = false } = {}) {
  const calls = [];
  return {
    calls,
    setAppBadge(n) { calls.push(['set', n]); return refuse ? Promise.reject(new Error('NotAllowedError')) : Promise.resolve(); },
    clearAppBadge() { calls.push(['clear']); return Promise.resolve(); },
  };
}

test('the badge shows the unread total, cleared at none, and the browser is asked only on a change', () => {
  const nav = navigatorLike();
  const show = appBadge(nav);
  show(3);
  show(3);
  show(4);
  show(0);
  show(0);
  show('2');
  assert.deepEqual(nav.calls, [['set', 3], ['set', 4], ['clear'], ['set', 2]]);
});

test('without the Badging API, or refused, nothing happens and nothing throws', async () => {
  appBadge({})(5);
  appBadge(undefined)(5);
  const nav = navigatorLike({ refuse: true });
  appBadge(nav)(1);
  await new Promise((r) => setTimeout(r, 0)); // the refusal is caught
  assert.deepEqual(nav.calls, [['set', 1]]);
  const throwing = { setAppBadge() { throw new Error('no'); } };
  assert.doesNotThrow(() => appBadge(throwing)(1));
  // Only setAppBadge: 0 clears through it.
  const calls = [];
  const show = appBadge({ setAppBadge: (n) => { calls.push(n); } });
  show(2);
  show(0);
  assert.deepEqual(calls, [2, 0]);
});
