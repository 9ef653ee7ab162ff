// node --test: what the group pieces say and decide (messaging/static/messaging/grouptext.js).
import assert from 'node:assert/strict';
import test from 'node:test';

import { addableContacts, groupEventText, isGroupOwner, membersInOrder } from '../../static/messaging/grouptext.js';

const alice = { id: 1, name: 'Alice Wang' };
const bob = { id: 2, name: 'Bob Li' };

test('each change is one sentence, as the server previews it', () => {
  assert.equal(groupEventText({ action: 'add', by: alice, users: [bob, { id: 3, name: 'Ann' }] }), 'Alice Wang added Bob Li, Ann');
  assert.equal(groupEventText({ action: 'remove', by: alice, users: [bob] }), 'Alice Wang removed Bob Li');
  assert.equal(groupEventText({ action: 'leave', by: bob, users: [bob] }), 'Bob Li left the group');
  assert.equal(groupEventText({ action: 'leave', by: alice, users: [alice], owner: bob }), 'Alice Wang left the group; Bob Li is its owner now');
  assert.equal(groupEventText({ action: 'rename', by: alice, title: 'Lunch' }), 'Alice Wang renamed the group to “Lunch”');
  assert.equal(groupEventText({ action: 'notice', by: alice, notice: 'Noon' }), 'Alice Wang changed the group notice');
  assert.equal(groupEventText({ action: 'notice', by: alice, notice: '' }), 'Alice Wang cleared the group notice');
});

test('a body of the wrong shape still makes a sentence, and markup stays text', () => {
  assert.equal(groupEventText(null), ' changed the group');
  assert.equal(groupEventText({ action: 'add', by: 'x', users: 'y' }), ' added ');
  assert.equal(groupEventText({ action: 'rename', by: { name: '<b>Eve</b>' }, title: '<img src=x>' }), '<b>Eve</b> renamed the group to “<img src=x>”');
});

test('only a group has an owner', () => {
  assert.equal(isGroupOwner({ kind: 'group', owner: 1 }, 1), true);
  assert.equal(isGroupOwner({ kind: 'group', owner: 1 }, 2), false);
  assert.equal(isGroupOwner({ kind: 'group', owner: null }, null), false);
  assert.equal(isGroupOwner({ kind: 'department', owner: 1 }, 1), false);
  assert.equal(isGroupOwner(undefined, 1), false);
});

test('the contacts offered are those not in the group, by name; the owner leads the members', () => {
  const conv = { kind: 'group', owner: 3, members: [{ id: 1, display_name: 'Zed' }, { id: 3, display_name: 'Mia' }, { id: 2, username: 'al' }] };
  const contacts = [{ id: 4, display_name: 'Yan' }, { id: 1, display_name: 'Zed' }, { id: 5, username: 'ben' }];
  assert.deepEqual(addableContacts(contacts, conv).map((p) => p.id), [5, 4]);
  assert.deepEqual(membersInOrder(conv).map((m) => m.id), [3, 2, 1]);
});

test('a group message previews as its sentence', async () => {
  const { previewText } = await import('../../static/messaging/text.js');
  assert.equal(previewText({ app: 'group', body: { action: 'rename', by: alice, title: 'Lunch' } }), 'Alice Wang renamed the group to “Lunch”');
});
