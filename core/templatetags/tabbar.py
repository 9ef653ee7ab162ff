"""``{% tab_bar %}``: the bar of tabs along the bottom of a phone's screen (docs/mobile.md,
The phone layout): Chat, Approvals, Attendance, Announcements and People, the page's own
marked, with the signed-in person's unread messages on Chat and the requests waiting for
their decision on Approvals, both counted here for the person asking."""

from __future__ import annotations

from django import template

register = template.Library()

#: A badge shows at most this; beyond, "99+".
BADGE_MAX = 99

#: The tab a page belongs to: its URL namespace (or, for the chat, its name).
TABS = {"chat": "chat", "approvals": "approvals", "attendance": "attendance", "announcements": "announcements", "contacts": "people"}


def badge(count: int) -> str:
    return f"{BADGE_MAX}+" if count > BADGE_MAX else str(count)


@register.inclusion_tag("core/tab_bar.html", takes_context=True)
def tab_bar(context) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"shown": False}
    from apps_approval.selectors import pending_count_for_user
    from messaging.selectors import unread_total_for_user

    match = request.resolver_match
    active = TABS.get(match.namespace or match.url_name) if match else None
    unread = unread_total_for_user(user=user)
    pending = pending_count_for_user(user=user)
    return {
        "shown": True,
        "active": active,
        "unread": unread,
        "unread_badge": badge(unread),
        "pending": pending,
        "pending_badge": badge(pending),
    }
