"""Words: what a message is indexed by, what a query asks for, and the marked snippet.

Chinese has no spaces between words, so both the index and the queries are cut into words
by jieba's dictionary (without its HMM guesses, so that a word cuts the same way in a
query as in a message), lowercased and joined by spaces. Each database's full-text index
then reads those words (English ones stemmed: "meetings" is found by "meeting").
"""

from __future__ import annotations

import html
import logging
import re
import threading
from collections.abc import Iterable

_tokenizer = None
_tokenizer_lock = threading.Lock()

# A word has at least one letter or digit; punctuation and Markdown's marks are no words.
_WORD = re.compile(r"[^\W_]")
_ASCII_WORD = re.compile(r"[a-z0-9]+")
#: The most characters of a message's text indexed (a chat message has at most 10,000).
MAX_TEXT_CHARS = 20_000


def tokenizer():
    """jieba's tokenizer, loaded once per process on first use (its dictionary takes a
    second or two to read)."""
    global _tokenizer
    if _tokenizer is None:
        with _tokenizer_lock:
            if _tokenizer is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                loaded = jieba.Tokenizer()
                loaded.initialize()
                _tokenizer = loaded
    return _tokenizer


def _words(tokens: Iterable[str]) -> list[str]:
    return [token.lower() for token in (t.strip() for t in tokens) if _WORD.search(token)]


#: A process of its own that cuts the words (search.segmenter), once a web worker starts it.
_process = None


def segmenter_process_start() -> None:
    """Cut words in a process of its own from now on (web workers: imsite.asgi)."""
    global _process
    from .segmenter import SegmenterProcess

    if _process is None:
        _process = SegmenterProcess()
    _process.start()


def index_words_here(text: str) -> list[str]:
    return _words(tokenizer().cut_for_search(text[:MAX_TEXT_CHARS], HMM=False))


def query_words_here(text: str) -> list[str]:
    return _words(tokenizer().cut(text, HMM=False))


def index_words_many(texts: list[str]) -> list[list[str]]:
    """The words each text is found by: every word of its cut, and the shorter dictionary
    words inside a long one (中华人民共和国 is found by 人民 too)."""
    if _process is not None:
        return _process.call("index", [text[:MAX_TEXT_CHARS] for text in texts])
    return [index_words_here(text) for text in texts]


def index_words(text: str) -> list[str]:
    return index_words_many([text])[0]


def index_terms(text: str) -> str:
    return " ".join(index_words(text))


def query_words(text: str) -> list[str]:
    """A query's words, cut the same way (Q3预算 is Q3 and 预算)."""
    if _process is not None:
        return _process.call("query", [text])[0]
    return query_words_here(text)


# --- the highlighted snippet -------------------------------------------------------------

SNIPPET_CHARS = 160
_SNIPPET_BEFORE = 40
_SUFFIXES = ("ing", "ed", "es", "s")


def _stem(word: str) -> str:
    """A rough English stem, to mark "meetings" for "meeting"; the index's own stemmer
    decides what matches, this only finds it again in the text."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _pattern(words: Iterable[str]) -> re.Pattern | None:
    parts = []
    for word in sorted(set(words), key=len, reverse=True):
        if _ASCII_WORD.fullmatch(word):
            # A whole English word or number and its forms: "meet" in "meetings", not in "unmeet".
            parts.append(rf"(?<![^\W_]){re.escape(_stem(word))}[a-z0-9]*")
        else:
            parts.append(re.escape(word))
    return re.compile("|".join(parts), re.IGNORECASE) if parts else None


def highlight(text: str, words: Iterable[str], *, chars: int = SNIPPET_CHARS) -> str:
    """``text`` as safe HTML: clipped to about ``chars`` characters around the first
    match, escaped, with each match in ``<mark>``. Without a match, its beginning."""
    text = " ".join(text.split())
    pattern = _pattern(words)
    first = pattern.search(text) if pattern else None
    start = max(0, first.start() - _SNIPPET_BEFORE) if first else 0
    if start and len(text) - start < chars:
        start = max(0, len(text) - chars)
    end = min(len(text), start + chars)
    clipped = text[start:end]
    pieces = ["…"] if start else []
    at = 0
    for match in pattern.finditer(clipped) if pattern else ():
        if match.end() == match.start():
            continue
        pieces.append(html.escape(clipped[at : match.start()]))
        pieces.append(f"<mark>{html.escape(match.group())}</mark>")
        at = match.end()
    pieces.append(html.escape(clipped[at:]))
    if end < len(text):
        pieces.append("…")
    return "".join(pieces)
