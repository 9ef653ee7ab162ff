"""The word segmenter in a process of its own, for web workers.

jieba's dictionary is hundreds of thousands of Python objects; in a web worker's process
they measurably slow its event loop's delivery under load. A web worker therefore starts
this small process (``python -m search.segmenter``, which imports no Django) and asks it
over a pipe, one JSON line a request: ``["index", [texts]]`` or ``["query", [texts]]``,
answered with one list of words per text. Other processes (Celery, commands, tests) cut
words in their own process.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent


class SegmenterProcess:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None

    def start(self) -> None:
        """Start it and wait until it has read its dictionary."""
        self.call("query", [""])

    def _ensure(self) -> subprocess.Popen:
        if self._process is None or self._process.poll() is not None:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "search.segmenter"],
                cwd=_ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                encoding="utf-8",
            )
        return self._process

    def call(self, kind: str, texts: list[str]) -> list[list[str]]:
        with self._lock:
            for attempt in (1, 2):
                process = self._ensure()
                try:
                    process.stdin.write(json.dumps([kind, texts], ensure_ascii=False) + "\n")
                    process.stdin.flush()
                    line = process.stdout.readline()
                    if line:
                        return json.loads(line)
                except (BrokenPipeError, OSError, ValueError):
                    pass
                # It died (or answered nonsense): start it again, once.
                process.kill()
                self._process = None
            raise RuntimeError("the word segmenter process does not answer")


def main() -> None:
    from search.text import index_words_here, query_words_here, tokenizer

    tokenizer()
    cut = {"index": index_words_here, "query": query_words_here}
    for line in sys.stdin:
        kind, texts = json.loads(line)
        sys.stdout.write(json.dumps([cut[kind](text) for text in texts], ensure_ascii=False) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
