"""The browser renders chat text exactly as the server does (messaging/static/messaging/markup.js
against render_markdown in messaging/handlers.py).

A peer's copy of a chat message arrives over the data channel as text; the receiving page
renders it with markup.js and shows that until the server's copy replaces it, so the two
must agree byte for byte, and neither may let markup in. The expectations come from the
server's own function, run here; the scripts run in Debian's Chromium, as shipped.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from imsite.testing.browser import launch
from messaging.handlers import _PLAIN, render_markdown

pytestmark = [pytest.mark.browser]

STATIC = Path(__file__).resolve().parents[1] / "static"
# In the order messaging/templates/messaging/chat.html loads them; markup.js, a module, after.
SCRIPTS = (
    "vendor/markdown-it/markdown-it.min.js",
    "vendor/dompurify/purify.min.js",
)
MODULE = "messaging/markup.js"

CORPUS = [
    # plain lines (the server's fast path) and plain text the parser handles
    "hello",
    "See you at three, Bob.",
    "Ok! Is it done? Yes: today; tomorrow.",
    "It's fine",
    "Déjà vu, naïve café",
    "今天下午三点开会。",
    "好的，收到！明天见？",
    "会议室：三楼、五楼；",
    "Привет, как дела?",
    "مرحبا بالعالم",
    "2 apples",
    "a  b",
    " leading and trailing ",
    "emoji 🎉 and ✓",
    "tabs\tinside",
    # emphasis
    "*em* and _em_",
    "**strong** and __strong__",
    "***both*** and **_nested_**",
    "~~not strikethrough in commonmark~~",
    "snake_case_name and 2*3*4",
    "unbalanced **bold",
    # code
    "`code` and ``co`de``",
    "`<b>not bold</b>`",
    "```\nblock <i>code</i> & more\n```",
    "```python\nprint('hi')\n```",
    "    indented code\n    second line",
    "~~~\ntilde fence\n~~~",
    # links
    "[site](http://example.com)",
    "[secure](https://example.com/path?q=1&r=2#frag)",
    "[mail](mailto:someone@example.com)",
    '[titled](https://example.com "The title")',
    "[title with quotes](https://example.com 'say \"hi\"')",
    "[arrow title](https://example.com \"a --> b\")",
    "[js](javascript:alert(1))",
    "[JS](JaVaScRiPt:alert(1))",
    "[js2](javascript&colon;alert(1))",
    "[vb](vbscript:msgbox(1))",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[data image](data:image/png;base64,iVBORw0KGgo=)",
    "[file](file:///etc/passwd)",
    "[ftp](ftp://files.example.com/a.txt)",
    "[tel](tel:+123456)",
    "[odd scheme](web+app:thing)",
    "[relative](/files/12/)",
    "[relative path](docs/p2p.md)",
    "[protocol relative](//evil.example/x)",
    "[anchor](#top)",
    "[query](?a=1)",
    "[spaces](<https://example.com/a b>)",
    "[unicode](https://例子.测试/路径?q=值)",
    "[encoded](https://example.com/%E4%BD%A0%20x)",
    "[bad host](http://[::1)",
    "[empty]()",
    "<https://example.com/auto>",
    "<mailto:auto@example.com>",
    "<auto@example.com>",
    "<ftp://example.com/auto>",
    # bare addresses: http(s) and www. ones become links, nothing else
    "bare https://example.com becomes a link",
    "https://example.com",
    "http://example.com/path?q=1&r=2#frag.",
    "www.example.com",
    "WWW.Example.COM/Path",
    "see www.example.com, then (https://example.com/a_(b)).",
    "javascript:alert(1)",
    "javascript://example.com/%0aalert(1)",
    "http://a.b/x?y=<z>",
    "https://example.com/报告 请看",
    "https://example.com/报告请看",
    "链接：https://example.com。好的",
    "https://例子.测试/路径?q=值 ok",
    "http://localhost:8000/x and http://127.0.0.1/y",
    "http://[::1]:8080/p",
    "https://user:pass@example.com/",
    "mailto:someone@example.com and someone@example.com",
    "ftp://files.example.com/a.txt //example.com/x",
    "readme.md, main.py and example.com",
    "**https://example.com/bold** and _www.example.com_",
    "`https://example.com/in-code`",
    "[label](https://a.example) https://b.example",
    "<https://example.com/auto> https://example.com/bare",
    "https://example.com/trailing*** and https://x.example/a~~",
    "http://",
    "https://example.com/​zero-width",
    "data:text/html,<script>alert(1)</script> vbscript:x file:///etc/passwd",
    "[ref]\n\n[ref]: https://example.com/ref \"Ref\"",
    "[a **bold** link](https://example.com)",
    # lists and quotes
    "- one\n- two\n- three",
    "* star\n+ plus",
    "1. first\n2. second",
    "3. starts at three\n4. four",
    "- outer\n  - inner\n- back",
    "1) paren\n2) list",
    "> quoted\n> lines",
    "> outer\n>> inner",
    "> - list in quote",
    # line breaks and paragraphs
    "line one\nline two",
    "hard break  \nafter two spaces",
    "backslash break\\\nnext",
    "para one\n\npara two",
    "\n\n\nafter blank lines\n\n\n",
    "a\r\nb",
    # disabled rules show as text
    "# not a heading",
    "Title\n=====",
    "---",
    "***",
    "![image](https://example.com/x.png)",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    # raw HTML and entities
    "<img src=x onerror=alert(1)>",
    '<img src=x onerror="window.__pwned=1">',
    "<script>alert(1)</script>",
    "<a href=\"javascript:alert(1)\">click</a>",
    "<b>bold?</b> <i>no</i>",
    "<!-- comment -->",
    "<div>\nblock html\n</div>",
    "<svg onload=alert(1)>",
    '"><script>alert(1)</script>',
    "5 < 6 > 4 & 3",
    "&amp; &copy; &#x3C;script&#x3E; &nbsp; &unknown;",
    "\\*not em\\* \\<b\\>",
    "quote \" and apostrophe '",
    "nul \x00 char",
    "[x](https://example.com)<img src=x onerror=alert(1)>",
    "**<script>alert(1)</script>**",
    "`x` [y](javascript:z) <u>u</u> *w*",
    # where markdown-it-py departs from markdown-it (messaging/static/messaging/markup.js follows it)
    "[`a` b `c",
    "see [`config` in the docs",
    "`  \n `",
    "a**😀**b",
    "great!**🎉**ok",
    "_x_😀 and 😀_y_",
    "**done** 👍🏽",
    "[v6](http://[::1]:8080/p?q#h) <http://[2001:db8::1]/>",
    "\ufeffpasted with a byte-order mark\ufeff",
    "- \ufeffitem",
]


@pytest.fixture(scope="module")
def browser_rendered():
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        try:
            page = chromium.new_page()
            page.set_content("<!doctype html><html lang='en'><head></head><body></body></html>")
            for script in SCRIPTS:
                page.add_script_tag(path=str(STATIC / script))
            # The module as it is, with its export handed to the page.
            page.add_script_tag(content=(STATIC / MODULE).read_text() + "\nwindow.markupRender = render;\n", type="module")
            page.wait_for_function("typeof window.markupRender === 'function'")
            assert page.evaluate("typeof window.markupRender('*x*') === 'string'")
            rendered = page.evaluate("(texts) => texts.map((t) => window.markupRender(t))", CORPUS)
        finally:
            chromium.close()
    return dict(zip(CORPUS, rendered))


def test_the_corpus_covers_both_of_the_servers_paths():
    plain = [text for text in CORPUS if _PLAIN.fullmatch(text)]
    assert len(plain) >= 5 and len(plain) < len(CORPUS) - 50


@pytest.mark.parametrize("text", CORPUS)
def test_the_browser_renders_chat_text_as_the_server_does(browser_rendered, text):
    assert browser_rendered[text] == render_markdown(text)
