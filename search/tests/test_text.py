"""Cutting words, in this process and in the segmenter's own, and the marked snippet."""

from __future__ import annotations

from search import text
from search.segmenter import SegmenterProcess


def test_the_segmenter_process_cuts_as_this_one_does(monkeypatch):
    process = SegmenterProcess()
    process.start()
    try:
        samples = ["我们下周三开会", "The **Meetings** moved, Q3预算", ""]
        here = [text.index_words_here(sample) for sample in samples]
        monkeypatch.setattr(text, "_process", process)
        assert text.index_words_many(samples) == here
        assert here[0] == ["我们", "下", "周三", "开会"] and "meetings" in here[1] and here[2] == []
        assert text.query_words("Q3预算") == ["q3", "预算"] == text.query_words_here("Q3预算")
        # One that dies is started again.
        process._process.kill()
        process._process.wait()
        assert text.query_words("开会") == ["开会"]
    finally:
        process._process.stdin.close()
        process._process.wait(timeout=10)


def test_the_highlight_escapes_first_and_marks_word_forms():
    assert text.highlight("a <b>Meetings</b> & 开会", ["meeting", "开会"]) == (
        "a &lt;b&gt;<mark>Meetings</mark>&lt;/b&gt; &amp; <mark>开会</mark>"
    )
    assert text.highlight("unmeet meet", ["meet"]) == "unmeet <mark>meet</mark>"
    assert text.highlight("no match here", ["zzz"]) == "no match here"
