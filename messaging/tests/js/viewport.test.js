// node --test: the chat's height under a phone's on-screen keyboard (messaging/static/messaging/viewport.js).
import assert from 'node:assert/strict';
import test from 'node:test';

import { keyboardFit } from '../../static/messaging/viewport.js';

test('on a phone, a keyboard that covers the page gives the chat the visible height', () => {
  assert.equal(keyboardFit({ phone: true, innerHeight: 844, height: 508.4, scale: 1 }), 508);
});

test('the page keeps its own height without a keyboard, under a toolbar, zoomed in or wider than a phone', () => {
  assert.equal(keyboardFit({ phone: true, innerHeight: 844, height: 844, scale: 1 }), null);
  assert.equal(keyboardFit({ phone: true, innerHeight: 844, height: 790, scale: 1 }), null);
  assert.equal(keyboardFit({ phone: true, innerHeight: 844, height: 420, scale: 2 }), null);
  assert.equal(keyboardFit({ phone: false, innerHeight: 900, height: 500, scale: 1 }), null);
});
