"""Office apps plug into messaging through handlers keyed by the message's ``app`` attribute.

Core messaging never branches on an app's name: it looks the handler up here. Each app
registers its handler from its ``AppConfig.ready()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, TypeVar

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import ApplicationError

if TYPE_CHECKING:
    from accounts.models import User

    from .models import Conversation, Message

T = TypeVar("T")


class Registry(Generic[T]):
    """A named set of objects with errors for a duplicate or an unknown key."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, key: str, item: T) -> T:
        if key in self._items:
            raise ValueError(f"{self.kind} {key!r} is already registered")
        self._items[key] = item
        return item

    def unregister(self, key: str) -> None:
        self._items.pop(key, None)

    def get(self, key: str) -> T:
        try:
            return self._items[key]
        except KeyError:
            raise ApplicationError(
                _("No application is registered for %(app)r.") % {"app": key}, code="unknown_app"
            ) from None

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def keys(self) -> list[str]:
        return sorted(self._items)

    def values(self) -> list[T]:
        return [self._items[key] for key in sorted(self._items)]


class AppHandler:
    """What an office app tells messaging about its messages.

    ``clean`` validates and normalises a body before it is stored (raise
    ``ApplicationError(code="invalid")`` to refuse it); ``on_stored`` reacts once the
    message is committed; ``renderer`` names the client-side renderer, and
    ``chat_include`` a template that the web chat includes to load it (its script,
    styles and strings).
    """

    app: str = ""
    #: What people call a message of this app, in their language (``gettext_lazy``): the
    #: inbox and notifications put it before a preview, "[Approval] Leave". Without one,
    #: the app's key stands in.
    label: Any = ""
    renderer: str = ""
    chat_include: str = ""
    #: A template shown above the chat (pinned announcements, say).
    chat_banner: str = ""
    #: Whether clients may send messages of this app themselves (over the socket or REST),
    #: or only the app's own services may.
    client_sendable: bool = True
    #: Whether a sender may edit such a message afterwards.
    editable: bool = True
    #: Whether a member may forward a copy of such a message to another conversation
    #: (``forward``): only where the body stands on its own there.
    forwardable: bool = False
    #: Whether a message of this app is a file (what a search's ``has:file`` finds).
    is_file: bool = False

    def clean(self, body: dict[str, Any], *, sender: User, conversation: Conversation) -> dict[str, Any]:
        return body

    def on_stored(self, message: Message) -> None:
        """Called after commit for each new message of this app."""

    def preview_text(self, body: dict[str, Any]) -> str:
        """What of a message of this app a one-line preview shows (the inbox, a
        notification), in the reader's language: by default the body's title, summary,
        text or name, after the app's label."""
        return default_preview(self.label, body)

    def quote_text(self, body: dict[str, Any]) -> str:
        """What a reply quotes of a message of this app: plain text in no one language
        (a reply's quote goes to every member alike); by default none, and the reader's
        client names the app instead."""
        return ""

    def mention_text(self, body: dict[str, Any]) -> str:
        """The text of a message of this app in which ``@username`` mentions someone
        (``messaging.mentions``); by default none."""
        return ""

    def search_text(self, body: dict[str, Any]) -> str:
        """What a search finds a message of this app by: the text its readers see, without
        Markdown or the app's label, in no one language (the index serves every reader);
        by default the body's title, summary, text and name."""
        return default_search_text(body)

    def action_url(self, body: dict[str, Any]) -> str | None:
        """Where a message of this app asks its recipient to act (an approval waiting for
        their decision, an announcement to confirm): the page's URL, else ``None`` (the
        default). Such a message notifies its recipient even in a muted conversation, at
        once and with high urgency, and its notification opens that page."""
        return None

    def chat_config(self) -> dict[str, Any] | None:
        """What the app's client-side code needs from the server (limits, URLs): the chat
        page hands it over as ``config.apps[<app>]``."""
        return None


app_handlers: Registry[AppHandler] = Registry("app handler")


def register_app_handler(handler: AppHandler) -> AppHandler:
    if not handler.app:
        raise ValueError("an AppHandler needs its app attribute")
    handler.renderer = handler.renderer or handler.app
    handler.label = handler.label or handler.app
    return app_handlers.register(handler.app, handler)


# An app may let two people exchange its own messages where the visibility rules alone
# would not (an approval's requester and approver, say): a permit, keyed by the app,
# is a function of the two users. It never opens the conversation to other apps.
conversation_permits: Registry = Registry("conversation permit")


def register_conversation_permit(app: str, permit) -> None:
    conversation_permits.register(app, permit)


def conversation_permitted_by_app(a: User, b: User, *, app: str) -> bool:
    return app in conversation_permits and conversation_permits.get(app)(a, b)


PREVIEW_CHARS = 140


def default_preview(label: Any, body: dict[str, Any]) -> str:
    """``[label] text``: the body's title, summary, text or name after the app's label (a
    lazy translation is read now, in the reader's language)."""
    for key in ("title", "summary", "text", "name"):
        value = body.get(key)
        if isinstance(value, str) and value.strip():
            return f"[{label}] {value.strip()}"
    return _("“%(app)s” message") % {"app": label}


def default_search_text(body: dict[str, Any]) -> str:
    """The body's title, summary, text and name, one a line."""
    values = (body.get(key) for key in ("title", "summary", "text", "name"))
    return "\n".join(value.strip() for value in values if isinstance(value, str) and value.strip())


def search_text(message: Message) -> str:
    """What a search finds ``message`` by (:meth:`AppHandler.search_text`); nothing for a
    recalled one."""
    if message.recalled_at is not None:
        return ""
    body = message.body if isinstance(message.body, dict) else {}
    if message.app in app_handlers:
        return app_handlers.get(message.app).search_text(body)
    return default_search_text(body)


def app_label(app: str) -> str:
    """What people call a message of ``app``, in the active language; an unknown app's key."""
    return str(app_handlers.get(app).label) if app in app_handlers else app


def quote_text(message: Message) -> str:
    body = message.body if isinstance(message.body, dict) else {}
    return app_handlers.get(message.app).quote_text(body) if message.app in app_handlers else ""


def action_url(message: Message) -> str | None:
    """The page where ``message`` asks its recipient to act (:meth:`AppHandler.action_url`),
    if it does; never for a recalled one."""
    if message.recalled_at is not None or message.app not in app_handlers:
        return None
    body = message.body if isinstance(message.body, dict) else {}
    return app_handlers.get(message.app).action_url(body)


def message_preview(message: Message) -> str:
    """One line of plain text for a message: what the inbox and notifications show."""
    if message.recalled_at is not None:
        return _("This message was recalled")
    body = message.body if isinstance(message.body, dict) else {}
    if message.app in app_handlers:
        text = app_handlers.get(message.app).preview_text(body)
    else:
        text = default_preview(message.app, body)
    text = " ".join(text.split())
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"
