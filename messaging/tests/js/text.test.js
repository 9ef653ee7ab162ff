// node --test: text without markup (messaging/static/messaging/text.js) and the string
// helpers (i18n.js), here without Django's catalogue: English.
import assert from 'node:assert/strict';
import test from 'node:test';

import { fill, ngettext } from '../../static/messaging/i18n.js';
import {
  bodySize, charCount, clip, dayLabel, limitText, looksFormatted, MAX_TEXT_CHARS, normaliseMessage, plainFromHtml, previewText,
  shortWhen, textLimit,
} from '../../static/messaging/text.js';

test('placeholders are filled by name; unknown ones stay', () => {
  assert.equal(fill('{name} is typing…', { name: 'Bob' }), 'Bob is typing…');
  assert.equal(fill('{a} and {b}', { a: 1 }), '1 and {b}');
  assert.equal(fill('{n} members'), '{n} members');
  assert.equal(ngettext('{n} member', '{n} members', 1), '{n} member');
  assert.equal(ngettext('{n} member', '{n} members', 2), '{n} members');
});

test('a chat preview is its text on one line, never markup', () => {
  assert.equal(previewText({ app: 'chat', body: { text: 'two\n\nlines  here' } }), 'two lines here');
  assert.equal(previewText({ app: 'chat', body: { text: '<b>x</b>' } }), '<b>x</b>');
  assert.equal(previewText({ app: 'chat', recalled: true, body: {} }), 'This message was recalled');
  assert.equal(previewText(null), '');
});

test('a chat preview shows the rendered text without its Markdown', () => {
  const html = '<p>Quote for <strong>Q3</strong> &amp; more:</p>\n<ul>\n<li>one</li>\n<li>a &lt;tag&gt;</li>\n</ul>';
  assert.equal(previewText({ app: 'chat', body: { text: 'Quote for **Q3** & more:\n\n- one\n- a <tag>', html } }), 'Quote for Q3 & more: one a <tag>');
  assert.equal(plainFromHtml('<p>a<br>b</p>'), 'a b ');
});

test('an app message previews its title, summary or text, else its app', () => {
  assert.equal(previewText({ app: 'approval', body: { title: ' Leave ', text: 'x' } }), '[approval] Leave');
  assert.equal(previewText({ app: 'notice', body: { summary: 'Build failed' } }), '[notice] Build failed');
  assert.equal(previewText({ app: 'poll', body: { options: [] } }), '“poll” message');
});

test('the size of a body is counted in UTF-8 bytes of its JSON, as the server counts it', () => {
  assert.equal(bodySize({ text: 'ab' }), 13);
  assert.equal(bodySize({ text: '开会' }), 17);
});

test('clipping counts characters, not UTF-16 units, and never splits one', () => {
  assert.equal(clip('abcdef', 4), 'abc…');
  assert.equal(clip('abc', 4), 'abc');
  assert.equal(clip('😀😀😀😀😀', 3), '😀😀…');
});

test('text that the server will render with markup is recognised', () => {
  for (const t of ['**bold**', 'see https://example.com', '- item', '1. first', '`code`']) assert.ok(looksFormatted(t), t);
  for (const t of ['hello', '下周三开会', 'a - b']) assert.ok(!looksFormatted(t), t);
});

test('a message from the API has numbers as numbers and defaults filled in', () => {
  assert.deepEqual(normaliseMessage({ id: '5', conversation: '2', seq: '3', sender: '9', created_at: 'x' }), {
    id: 5, conversation: 2, seq: 3, sender: 9, app: 'chat', body: {}, created_at: 'x', client_id: null, edited_at: null, recalled: false,
    mentions: [], reply_to: null, forwarded: false, reactions: [],
  });
  assert.deepEqual(normaliseMessage({ id: 1, mentions: ['4', 7, 'x'] }).mentions, [4, 7]);
});

test('days read as today, yesterday or a date; times as hh:mm today', () => {
  const today = new Date(2026, 11, 7, 15, 0);
  assert.equal(dayLabel(new Date(2026, 11, 7, 9, 0), today), 'Today');
  assert.equal(dayLabel(new Date(2026, 11, 6, 23, 59), today), 'Yesterday');
  assert.match(dayLabel(new Date(2025, 0, 2), today), /2025/);
  assert.equal(shortWhen(new Date(2026, 11, 7, 9, 5).toISOString(), today), '09:05');
});

test('a text is as long as its code points, as the server counts', () => {
  assert.equal(charCount('héllo'), 5);
  assert.equal(charCount('😀😀'), 2); // four UTF-16 units
  assert.equal(charCount('\ud800'), 1); // a lone surrogate is one
  assert.equal(charCount(''), 0);
});

test('the limit shows past 90% and stops a text past 10,000 characters', () => {
  assert.equal(MAX_TEXT_CHARS, 10000);
  const quiet = textLimit('x'.repeat(9000));
  assert.deepEqual([quiet.chars, quiet.near, quiet.over], [9000, false, false]);
  const near = textLimit('x'.repeat(9120));
  assert.deepEqual([near.near, near.over], [true, false]);
  assert.equal(limitText(near, 'en').counter, '9,120 / 10,000');
  assert.equal(limitText(near, 'en').refusal, '');
  assert.equal(textLimit('x'.repeat(10000)).over, false);
  const over = textLimit('x'.repeat(10512));
  assert.deepEqual([over.tooLong, over.over], [true, true]);
  assert.equal(limitText(over, 'en').counter, '10,512 / 10,000');
  assert.equal(limitText(over, 'en').refusal, 'This message is too long to send: 10,512 characters, at most 10,000.');
  // Emoji count once each, not as the two UTF-16 units they take.
  assert.equal(textLimit('😀'.repeat(6000)).over, false);
  assert.equal(textLimit('😀'.repeat(6000)).chars, 6000);
  // German groups digits with dots; a language tag Intl does not know falls back.
  assert.equal(limitText(over, 'de').counter, '10.512 / 10.000');
  assert.match(limitText(over, 'not a tag!').counter, /^10.512 \/ 10.000$/);
});

test('a text within the characters but over the body size is stopped too', () => {
  const big = textLimit('\u0001'.repeat(100), 500); // each one "\u0001" in JSON: six bytes
  assert.deepEqual([big.tooLong, big.tooLarge, big.over, big.near], [false, true, true, false]);
  assert.equal(limitText(big, 'en').refusal, 'This message is too long to send.');
  assert.equal(textLimit('\u0001'.repeat(50), 500).over, false);
});

test("an app message's preview puts the app's label, in the page's language, before the app's text", () => {
  assert.equal(previewText({ app: 'approval', body: { title: 'Leave' } }, { label: '审批', text: '请假' }), '[审批] 请假');
  assert.equal(previewText({ app: 'approval', body: { title: 'Leave' } }, { label: '审批' }), '[审批] Leave');
  assert.equal(previewText({ app: 'file', body: { name: 'report.pdf' } }, { label: '文件', text: ' ' }), '[文件] report.pdf');
  assert.equal(previewText({ app: 'chat', body: { text: 'hi' } }, { label: '消息' }), 'hi');
});
