"""``{% app_head %}``: what makes a page part of the installable app (docs/mobile.md): the
web app manifest, the colour of the browser's bar and what iOS reads instead of the
manifest when a page is added to the Home Screen."""

from django import template

from core import pwa

register = template.Library()


@register.inclusion_tag("core/app_head.html")
def app_head() -> dict:
    return {"theme_color": pwa.THEME_COLOR, "apple_touch_icon": pwa.APPLE_TOUCH_ICON}
