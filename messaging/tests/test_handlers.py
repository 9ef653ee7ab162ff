"""The chat handler's rendering: plain lines skip the Markdown parser and come out the same."""

import pytest

from messaging.handlers import _PLAIN, _render_fully, render_markdown

PLAIN = [
    "bench",
    "Hello Bob",
    "Lunch at noon? Sure, see you there!",
    "it's done: two more; then home.",
    "Meeting moved to 3",
    "你好，世界。明天见！",
    "Grüße aus Köln",
    "Привет мир",
    "a1 b2 c3",
]

NOT_PLAIN = [
    "1. first",  # a numbered list
    "2) second",
    "  indented",
    "trailing ",
    "two  spaces",
    "*emphasis*",
    "snake_case",
    "a <b> tag",
    "fish & chips",
    "line\nbreak",
    "`code`",
    "[link](https://example.com)",
    "> quote",
    "- item",
    "# heading",
    "non\u00a0breaking",
    "\"quoted\"",
    "emoji 😀",
    "",
]


@pytest.mark.parametrize("text", PLAIN)
def test_plain_lines_skip_the_parser_and_come_out_the_same(text):
    assert _PLAIN.fullmatch(text)
    assert render_markdown(text) == _render_fully(text) == f"<p>{text}</p>"


@pytest.mark.parametrize("text", NOT_PLAIN)
def test_anything_else_goes_through_the_parser(text):
    assert not _PLAIN.fullmatch(text)
    assert render_markdown(text) == _render_fully(text)


def test_random_plain_lines_come_out_as_the_parser_renders_them():
    import random

    rng = random.Random(8)
    alphabet = "abcXYZ09éж中文 ,.?!':;，。！？、：；"
    checked = 0
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
        if _PLAIN.fullmatch(text):
            checked += 1
            assert render_markdown(text) == _render_fully(text), text
    assert checked > 300
