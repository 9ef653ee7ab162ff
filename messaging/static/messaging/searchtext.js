/* Message search results as text (docs/search.md): the server's highlight taken apart into
 * plain text and marked words, never used as markup here. No DOM: tested with node --test. */

import { unescapeHtml } from './text.js';

/** The parts of a highlight ("我们<mark>开会</mark> &amp; …"): [{text, mark}], the marked
 * ones being the words that matched. Any other tag is text. */
export function highlightParts(html) {
  const parts = [];
  let mark = false;
  for (const piece of String(html || '').split(/(<mark>|<\/mark>)/)) {
    if (piece === '<mark>') mark = true;
    else if (piece === '</mark>') mark = false;
    else if (piece) parts.push({ text: unescapeHtml(piece), mark });
  }
  return parts;
}

/** Results grouped by conversation, in the order each conversation first appears. */
export function groupByConversation(results) {
  const groups = new Map();
  for (const r of results) {
    const id = Number(r.conversation);
    if (!groups.has(id)) groups.set(id, []);
    groups.get(id).push(r);
  }
  return [...groups].map(([conversation, items]) => ({ conversation, items }));
}

/** Whether a query is worth asking the server: some word of two characters, or a filter
 * (a lone Chinese character is a word too). */
export function worthSearching(q) {
  const text = String(q || '').trim();
  if (!text) return false;
  if (/\b(from|in|after|before|has|is)[:：]\S/.test(text)) return true;
  return [...text.replace(/\s+/g, '')].length >= 2 || /[\u3400-\u9fff]/.test(text);
}
