"""``{% pinned_announcements as pinned %}``: the pinned banner's data, for pages that are
not the announcements app's own (the chat), without their views knowing about it."""

from __future__ import annotations

from django import template

from apps_announcements import selectors

register = template.Library()

#: The banner shows this many; the rest are a link to the list away.
BANNER_SIZE = 3


@register.simple_tag(takes_context=True)
def pinned_announcements(context) -> dict:
    """Pinned, unexpired announcements of the signed-in user: ``{"shown": [...], "more": n}``."""
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    if user is None or not user.is_authenticated:
        return {"shown": [], "more": 0}
    pinned = selectors.pinned_for_user(user=user)
    shown = list(pinned[: BANNER_SIZE + 1])
    more = pinned.count() - BANNER_SIZE if len(shown) > BANNER_SIZE else 0
    return {"shown": shown[:BANNER_SIZE], "more": more}
