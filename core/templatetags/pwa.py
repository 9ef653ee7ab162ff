"""``{% app_head %}``: what makes a page part of the installable app (docs/mobile.md): the
web app manifest, the colour of the browser's bar and what iOS reads instead of the
manifest when a page is added to the Home Screen."""

from django import template

from core import pwa

register = template.Library()


@register.inclusion_tag("core/app_head.html", takes_context=True)
def app_head(context) -> dict:
    """Besides, whom the page is for: the user's id, or "" on a page for no one signed in
    (then core/static/core/pwa.js deletes what the chat kept on the device for offline
    use); nothing on a page rendered without a request (the offline page, the same for
    everyone)."""
    request = getattr(context, "request", None)
    user = getattr(request, "user", None)
    signed_in = None if user is None else (str(user.pk) if user.is_authenticated else "")
    return {"theme_color": pwa.THEME_COLOR, "apple_touch_icon": pwa.APPLE_TOUCH_ICON, "signed_in": signed_in}
