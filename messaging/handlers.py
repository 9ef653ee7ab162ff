"""The handler of ordinary chat messages (``app: "chat"``)."""

from __future__ import annotations

import re
from typing import Any

from html import unescape

import nh3
from django.utils.html import strip_tags
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from markdown_it import MarkdownIt

from core.errors import ApplicationError

from .registry import AppHandler

# A Markdown subset: emphasis, code, links, lists, quotes, line breaks, and bare web
# addresses as links. No raw HTML, no images, no headings or tables (chat is not a document).
_markdown = (
    MarkdownIt("commonmark", {"html": False, "linkify": True, "breaks": True})
    .disable(["image", "heading", "lheading", "html_block", "html_inline", "hr"])
    .enable("linkify")
)
# Bare addresses are linked only when they are http:// or https:// ones, or start with
# "www." (then http://): no mailto:, ftp: or "//" links, no e-mail addresses, and no
# "report.md" or "main.py" taken for a web site. markup.js does the same.
for _schema in ("mailto:", "ftp:", "//"):
    _markdown.linkify.add(_schema, None)
_markdown.linkify.set({"fuzzy_link": True, "fuzzy_email": False, "fuzzy_ip": False})
_FUZZY_WWW = re.compile(r"[wW]{3}\.")
_linkify_match = _markdown.linkify.match


def _web_links(text: str) -> list:
    return [link for link in _linkify_match(text) or () if link.schema or _FUZZY_WWW.match(link.text)]


_markdown.linkify.match = _web_links
_ALLOWED_TAGS = {"p", "br", "em", "strong", "code", "pre", "a", "ul", "ol", "li", "blockquote", "del", "s"}
MAX_TEXT_CHARS = 10_000


# One line of words that Markdown leaves as they are: letters (any script), digits, single
# spaces and punctuation with no Markdown meaning, not starting with a digit (a numbered
# list) and with no space at either end. Most chat lines are such; they skip the parser.
_PLAIN = re.compile(r"(?![0-9])(?:[^\W_]|[,.?!':;，。！？、：；])+(?: (?:[^\W_]|[,.?!':;，。！？、：；])+)*")


def render_markdown(text: str) -> str:
    # "www." makes a link of a line that would otherwise be plain.
    if _PLAIN.fullmatch(text) and not _FUZZY_WWW.search(text):
        return f"<p>{text}</p>"
    return _render_fully(text)


def _render_fully(text: str) -> str:
    html = _markdown.render(text)
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    ).strip()


def _plain(html: str) -> str:
    """The text a reader sees of rendered HTML."""
    return unescape(strip_tags(html))


class ChatHandler(AppHandler):
    app = "chat"
    label = pgettext_lazy("message kind", "Message")
    forwardable = True

    def clean(self, body: dict[str, Any], *, sender, conversation) -> dict[str, Any]:
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ApplicationError(_("A chat message needs some text."), code="invalid")
        if len(text) > MAX_TEXT_CHARS:
            raise ApplicationError(
                _("A chat message can have at most %(n)d characters.") % {"n": MAX_TEXT_CHARS},
                code="too_large",
            )
        # Clients send text; the server renders the HTML, whatever a client put there.
        return {"text": text, "html": render_markdown(text)}

    def mention_text(self, body: dict[str, Any]) -> str:
        text = body.get("text")
        return text if isinstance(text, str) else ""

    def quote_text(self, body: dict[str, Any]) -> str:
        return self.preview_text(body)

    def search_text(self, body: dict[str, Any]) -> str:
        return self.preview_text(body)

    def preview_text(self, body: dict[str, Any]) -> str:
        """The text as the reader sees it, without its Markdown."""
        html = body.get("html")
        if isinstance(html, str) and html:
            return _plain(html)
        text = body.get("text")
        return text if isinstance(text, str) else ""


GROUP_APP = "group"


def _names(people: Any) -> str:
    names = [p.get("name") for p in people if isinstance(p, dict)] if isinstance(people, list) else []
    return ", ".join(name for name in names if isinstance(name, str))


class GroupHandler(AppHandler):
    """What changed in a group (``messaging.services``: members added or removed, someone
    left, a new name or notice), told in the group by the one who changed it. Only the
    server sends these, and they are never edited."""

    app = GROUP_APP
    client_sendable = False
    editable = False

    def clean(self, body: dict[str, Any], *, sender, conversation) -> dict[str, Any]:
        if conversation.kind != conversation.Kind.GROUP:
            raise ApplicationError(_("Only a group is told of changes to a group."), code="invalid")
        return body

    def preview_text(self, body: dict[str, Any]) -> str:
        by = body.get("by") if isinstance(body.get("by"), dict) else {}
        actor = by.get("name") if isinstance(by.get("name"), str) else ""
        action = body.get("action")
        names = _names(body.get("users"))
        if action == "add":
            return _("%(actor)s added %(names)s") % {"actor": actor, "names": names}
        if action == "remove":
            return _("%(actor)s removed %(names)s") % {"actor": actor, "names": names}
        if action == "leave":
            owner = body.get("owner")
            if isinstance(owner, dict) and isinstance(owner.get("name"), str):
                return _("%(actor)s left the group; %(owner)s is its owner now") % {
                    "actor": actor, "owner": owner["name"],
                }  # fmt: skip
            return _("%(actor)s left the group") % {"actor": actor}
        if action == "rename":
            return _("%(actor)s renamed the group to “%(title)s”") % {"actor": actor, "title": body.get("title") or ""}
        if action == "notice":
            if body.get("notice"):
                return _("%(actor)s changed the group notice") % {"actor": actor}
            return _("%(actor)s cleared the group notice") % {"actor": actor}
        return _("%(actor)s changed the group") % {"actor": actor}
