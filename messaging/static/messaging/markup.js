/* Chat text to HTML in the browser, by the server's rules (render_markdown in
 * messaging/handlers.py): the same Markdown subset through markdown-it, of which the
 * server's markdown-it-py is a port, then the same allow-list through DOMPurify where the
 * server uses nh3. A peer's copy of a chat message is rendered here from its text, so that
 * it looks as the server's copy will; no HTML a peer sends is ever used (docs/p2p.md).
 *
 * Needs vendor/markdown-it and vendor/dompurify (messaging/static/vendor) loaded first. Without them
 * (or in a browser DOMPurify cannot protect) render() returns null and a
 * peer's copy shows its text as plain text until the server's copy arrives.
 */
function build() {
  if (typeof window.markdownit !== 'function' || typeof window.DOMPurify !== 'function') return null;

  // An instance of its own: its hooks stay out of any other use of DOMPurify on the page.
  const purify = window.DOMPurify(window);
  if (!purify.isSupported) return null; // it would hand back its input unsanitised

  // No raw HTML, no images, no headings or tables (chat is not a document); bare web
  // addresses become links.
  const md = window.markdownit('commonmark', { html: false, linkify: true, breaks: true })
    .disable(['image', 'heading', 'lheading', 'html_block', 'html_inline', 'hr'])
    .enable('linkify');
  // As on the server: only http:// and https:// addresses and ones starting with "www."
  // are linked; no mailto:, ftp: or "//", no e-mail addresses, no "main.py" as a site.
  for (const schema of ['mailto:', 'ftp:', '//']) md.linkify.add(schema, null);
  md.linkify.set({ fuzzyLink: true, fuzzyEmail: false, fuzzyIP: false });
  const FUZZY_WWW = /^[wW]{3}\./;
  const linkifyMatch = md.linkify.match.bind(md.linkify);
  md.linkify.match = (text) => (linkifyMatch(text) || []).filter((link) => link.schema || FUZZY_WWW.test(link.text));
  // markdown-it-py is a port with departures of its own; these re-apply the ones a chat
  // text can meet, so that the two agree (messaging/tests/test_markup_browser.py; what
  // still differs is in docs/p2p.md).
  md.block.ruler.at('paragraph', paragraph);
  md.inline.ruler.at('backticks', backtick);
  md.inline.State = stateWithCodePoints(md.inline.State);
  md.normalizeLink = keepingIpv6Brackets(md.normalizeLink, md.utils.lib.mdurl);

  /* markdown-it trims a paragraph with String.prototype.trim, which also takes U+FEFF (a
   * byte-order mark pasted in with the text); markdown-it-py's mdTrim keeps it. */
  const MD_TRIM = /^[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;
  const mdTrim = (str) => str.replace(MD_TRIM, '');

  // markdown-it's paragraph rule, with mdTrim.
  function paragraph(state, startLine, endLine) {
    const terminatorRules = state.md.block.ruler.getRules('paragraph');
    const oldParentType = state.parentType;
    let nextLine = startLine + 1;
    state.parentType = 'paragraph';
    for (; nextLine < endLine && !state.isEmpty(nextLine); nextLine++) {
      // Indented: a lazy continuation after a paragraph, not code.
      if (state.sCount[nextLine] - state.blkIndent > 3) continue;
      if (state.sCount[nextLine] < 0) continue; // a blockquote's line, checked by that rule
      if (terminatorRules.some((rule) => rule(state, nextLine, endLine, true))) break;
    }
    const content = mdTrim(state.getLines(startLine, nextLine, state.blkIndent, false));
    state.line = nextLine;
    const open = state.push('paragraph_open', 'p', 1);
    open.map = [startLine, state.line];
    const inline = state.push('inline', '', 0);
    inline.content = content;
    inline.map = [startLine, state.line];
    inline.children = [];
    state.push('paragraph_close', 'p', -1);
    state.parentType = oldParentType;
    return true;
  }

  /* Code spans by markdown-it-py's rule (rules_inline/backticks.py), which departs from
   * markdown-it's in two ways: it finds closers from the last run of each length in the
   * whole text, where markdown-it trusts a cache left by a lookahead and so misses the
   * spans after a `[` that starts no link ("[`a` b"); and it keeps a span of spaces only
   * whole, as CommonMark says ("`  `"). Same input, same spans on both sides. */
  function lastRuns(src) {
    const runs = new Map(); // run length -> where its last run starts
    let pos = 0;
    let start;
    while ((start = src.indexOf('`', pos)) !== -1) {
      pos = start + 1;
      while (pos < src.length && src.charCodeAt(pos) === 0x60) pos++;
      runs.set(pos - start, start);
    }
    return runs;
  }

  function backtick(state, silent) {
    const src = state.src;
    const start = state.pos;
    if (src.charCodeAt(start) !== 0x60) return false;
    const max = state.posMax;
    let pos = start + 1;
    while (pos < max && src.charCodeAt(pos) === 0x60) pos++;
    const marker = src.slice(start, pos);
    if (!state.sbBacktickRuns) state.sbBacktickRuns = lastRuns(src);
    const last = state.sbBacktickRuns.get(marker.length);
    if (last !== undefined && last >= pos) {
      let matchEnd = pos;
      let matchStart;
      while ((matchStart = src.indexOf('`', matchEnd)) !== -1 && matchStart < max) {
        matchEnd = matchStart + 1;
        while (matchEnd < src.length && src.charCodeAt(matchEnd) === 0x60) matchEnd++;
        if (matchEnd > max) break; // a run that crosses the end of this range closes nothing
        if (matchEnd - matchStart === marker.length) {
          if (!silent) {
            const token = state.push('code_inline', 'code', 0);
            token.markup = marker;
            let content = src.slice(pos, matchStart).replace(/\n/g, ' ');
            if (content.startsWith(' ') && content.endsWith(' ') && /[^ ]/.test(content)) content = content.slice(1, -1);
            token.content = content;
          }
          state.pos = matchEnd;
          return true;
        }
      }
    }
    if (!silent) state.pending += marker;
    state.pos = pos;
    return true;
  }

  /* Emphasis decides whether a `*` or `_` opens or closes by the characters on either
   * side. markdown-it reads them as UTF-16 units, so an emoji (a symbol, hence punctuation
   * to CommonMark) counts as a letter there and not in markdown-it-py, which reads code
   * points: "a**😀**b" stays as typed on the server. The same test, by code point. */
  const PUNCT = /^[\p{P}\p{S}]$/u; // ASCII punctuation included
  function isWhiteSpace(c) {
    return (c >= 0x2000 && c <= 0x200a) || [0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0xa0, 0x1680, 0x202f, 0x205f, 0x3000].includes(c);
  }
  const isPunct = (ch) => PUNCT.test(ch);

  function stateWithCodePoints(Base) {
    return class extends Base {
      scanDelims(start, canSplitWord) {
        const src = this.src;
        const max = this.posMax;
        const marker = src.charCodeAt(start);
        let pos = start;
        while (pos < max && src.charCodeAt(pos) === marker) pos++;
        const lastCode = start > 0 ? codePointBefore(src, start) : 0x20; // the line's start counts as a space
        const nextCode = pos < max ? src.codePointAt(pos) : 0x20;
        const last = String.fromCodePoint(lastCode);
        const next = String.fromCodePoint(nextCode);
        const isLastPunct = isPunct(last);
        const isNextPunct = isPunct(next);
        const isLastSpace = isWhiteSpace(lastCode);
        const isNextSpace = isWhiteSpace(nextCode);
        const leftFlanking = !isNextSpace && (!isNextPunct || isLastSpace || isLastPunct);
        const rightFlanking = !isLastSpace && (!isLastPunct || isNextSpace || isNextPunct);
        return {
          can_open: leftFlanking && (canSplitWord || !rightFlanking || isLastPunct),
          can_close: rightFlanking && (canSplitWord || !leftFlanking || isNextPunct),
          length: pos - start,
        };
      }
    };
  }

  function codePointBefore(src, pos) {
    const low = src.charCodeAt(pos - 1);
    if (low >= 0xdc00 && low <= 0xdfff && pos >= 2) {
      const high = src.charCodeAt(pos - 2);
      if (high >= 0xd800 && high <= 0xdbff) return src.codePointAt(pos - 2);
    }
    return low;
  }

  /* An IPv6 host: markdown-it percent-encodes the brackets that mdurl.format() put around
   * it ("http://%5B::1%5D/", which nh3 would then drop as a broken URL); markdown-it-py
   * encodes each part first and keeps them. */
  function keepingIpv6Brackets(normalizeLink, mdurl) {
    return (url) => {
      const parsed = mdurl.parse(url, true);
      const host = parsed.hostname;
      // markdown-it-py first punycodes a host; an ASCII one stays as it is.
      if (!host || !host.includes(':') || /[^\x00-\x7f]/.test(host)) return normalizeLink(url);
      for (const part of ['protocol', 'auth', 'hostname', 'pathname', 'search', 'hash']) {
        if (parsed[part]) parsed[part] = mdurl.encode(parsed[part]);
      }
      return mdurl.format(parsed);
    };
  }

  // --- the sanitiser: nh3's allow-list (messaging/handlers.py) ---------------------------
  const TAGS = ['p', 'br', 'em', 'strong', 'code', 'pre', 'a', 'ul', 'ol', 'li', 'blockquote', 'del', 's'];
  const SCHEMES = new Set(['http:', 'https:', 'mailto:']);
  const LINK_REL = 'noopener noreferrer nofollow';
  const SCHEME = /^[\u0000-\u0020]*[a-z][a-z0-9+.-]*:/i;

  /** nh3 keeps a URL with an allowed scheme or with none (relative) and drops any other,
   * an absolute URL that does not parse included; both parse by the WHATWG URL rules. */
  function allowedUrl(value) {
    const s = String(value).replace(/[\t\n\r]/g, ''); // the URL parser ignores these anywhere
    let url = null;
    try { url = new URL(s); } catch (e) { /* relative, or a broken absolute URL */ }
    if (url) return SCHEMES.has(url.protocol);
    return !SCHEME.test(s);
  }

  purify.addHook('uponSanitizeAttribute', (node, data) => {
    // nh3 allows attributes on links only ({a: {href, title}}); DOMPurify's list is global.
    if (node.nodeName !== 'A') data.keepAttr = false;
    else if (data.attrName === 'href' && !allowedUrl(data.attrValue)) data.keepAttr = false;
  });
  purify.addHook('afterSanitizeAttributes', (node) => {
    // nh3's link_rel: every link gets it, with or without an href left.
    if (node.nodeName === 'A') node.setAttribute('rel', LINK_REL);
  });

  const CONFIG = {
    ALLOWED_TAGS: TAGS,
    ALLOWED_ATTR: ['href', 'title'],
    ALLOW_DATA_ATTR: false,
    ALLOW_ARIA_ATTR: false,
    // Its XML guards drop a title such as "a --> b" that nh3 keeps. Nothing they look for
    // can come out of markdown-it without raw HTML (no comments, no raw-text elements, all
    // text escaped), and the page parses the result as HTML, where the attribute is inert.
    SAFE_FOR_XML: false,
  };

  /** Chat text -> sanitised HTML, equal to what the server stores as the message's html. */
  function render(text) {
    return String(purify.sanitize(md.render(String(text)), CONFIG)).trim();
  }

  /** Any HTML -> what of it the server's allow-list keeps. */
  function sanitize(html) {
    return String(purify.sanitize(String(html), CONFIG)).trim();
  }

  return { render, sanitize };
}

let renderer;

/** Chat text -> the sanitised HTML the server stores for it; null where the vendored
 * parts are missing or DOMPurify cannot work in this browser. */
export function render(text) {
  if (renderer === undefined) renderer = build();
  return renderer ? renderer.render(text) : null;
}

/** HTML from somewhere the page does not trust (a message kept on this device) -> only
 * what the server's allow-list keeps (the tags and links of a message's html, which the
 * server made by the same list); null where DOMPurify cannot work in this browser. */
export function sanitize(html) {
  if (renderer === undefined) renderer = build();
  return renderer ? renderer.sanitize(html) : null;
}
