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


# --- bare web addresses --------------------------------------------------------------

REL = 'rel="noopener noreferrer nofollow"'


@pytest.mark.parametrize(
    "text, href",
    [
        ("see https://example.com/a?b=1 now", "https://example.com/a?b=1"),
        ("http://example.com", "http://example.com"),
        ("www.example.com", "http://www.example.com"),
        ("Www.Example.com/x.", "http://Www.Example.com/x"),
        ("https://example.com/报告 请看", "https://example.com/%E6%8A%A5%E5%91%8A"),
    ],
)
def test_bare_web_addresses_become_safe_links(text, href):
    html = render_markdown(text)
    assert f'<a href="{href}" {REL}>' in html
    assert html.count("<a ") == 1


@pytest.mark.parametrize(
    "text",
    [
        "javascript:alert(1)",
        "javascript://example.com/%0aalert(1)",
        "data:text/html,x vbscript:x file:///etc/passwd",
        "mailto:someone@example.com",
        "someone@example.com",
        "ftp://files.example.com/a.txt",
        "//example.com/x",
        "readme.md, main.py and example.com",
        "`https://example.com/in-code`",
        "wwwexample.com",
    ],
)
def test_nothing_else_becomes_a_link(text):
    assert "<a " not in render_markdown(text)


def test_markup_after_an_address_stays_text():
    html = render_markdown("http://a.b/x?y=<z>")
    assert html == f'<p><a href="http://a.b/x?y=" {REL}>http://a.b/x?y=</a>&lt;z&gt;</p>'


def test_a_plain_line_with_www_is_not_taken_for_plain():
    assert _PLAIN.fullmatch("www.example.com")
    assert render_markdown("www.example.com") == _render_fully("www.example.com") != "<p>www.example.com</p>"
