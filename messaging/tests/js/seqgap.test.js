// node --test: holding messages by seq and repairing gaps (messaging/static/messaging/seqgap.js).
import assert from 'node:assert/strict';
import test from 'node:test';

import { repairGap, SeqWindow } from '../../static/messaging/seqgap.js';

const msg = (seq) => ({ id: 100 + seq, seq });

function windowWith(...seqs) {
  const win = new SeqWindow();
  for (const s of seqs) win.hold(msg(s));
  win.advance();
  return win;
}

test('contig runs over what arrived in order; a jump is a gap', () => {
  const win = windowWith(1, 2, 3);
  assert.equal(win.contig, 3);
  assert.equal(win.hasGap(), false);
  win.hold(msg(5));
  win.advance();
  assert.equal(win.contig, 3);
  assert.equal(win.hasGap(), true);
  win.hold(msg(4));
  win.advance();
  assert.equal(win.contig, 5);
  assert.equal(win.hasGap(), false);
});

test('a message is held once', () => {
  const win = windowWith(1);
  assert.equal(win.hold(msg(1)), false);
  assert.equal(win.byId.size, 1);
});

test('a window opened on a later page starts at its first seq', () => {
  const win = new SeqWindow();
  win.minSeq = 51;
  win.contig = 100;
  win.hold(msg(102));
  win.advance();
  assert.equal(win.contig, 100);
  assert.equal(win.hasGap(), true);
  assert.equal(new SeqWindow().maxSeq(), 0);
});

test('repair fetches after contig page by page until the gap is closed', async () => {
  const win = windowWith(1, 2);
  win.hold(msg(9));
  const asked = [];
  await repairGap(win, {
    fetchAfter: async (seq) => { asked.push(seq); return [seq + 1, seq + 2, seq + 3].filter((s) => s < 9).map(msg); },
    accept: (messages) => { messages.forEach((m) => win.hold(m)); win.advance(); },
  });
  assert.deepEqual(asked, [2, 5]);
  assert.equal(win.contig, 9);
  assert.equal(win.hasGap(), false);
});

test('repair stops when a page brings nothing new (the missing seq is gone for good)', async () => {
  const win = windowWith(1);
  win.hold(msg(3));
  let calls = 0;
  await repairGap(win, { fetchAfter: async () => { calls++; return []; }, accept: () => {} });
  assert.equal(calls, 1);
  assert.equal(win.contig, 1);
});

test('repair stops when the conversation is closed, and after at most `rounds` pages', async () => {
  const win = windowWith(1);
  win.hold(msg(1000));
  let closed = false;
  let calls = 0;
  await repairGap(win, {
    fetchAfter: async (seq) => { calls++; closed = true; return [msg(seq + 1)]; },
    accept: () => assert.fail('nothing is taken once closed'),
    isClosed: () => closed,
  });
  assert.equal(calls, 1);
  calls = 0;
  await repairGap(win, {
    fetchAfter: async (seq) => { calls++; return [msg(seq + 1)]; },
    accept: (messages) => { messages.forEach((m) => win.hold(m)); win.advance(); },
    rounds: 4,
  });
  assert.equal(calls, 4);
  assert.equal(win.contig, 5);
});
