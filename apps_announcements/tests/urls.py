"""The site's URLs with the announcement pages, whether or not imsite.urls includes them yet."""

from django.urls import include, path

from imsite.urls import urlpatterns as site_urlpatterns

included = any(getattr(p, "namespace", None) == "announcements" for p in site_urlpatterns)
urlpatterns = list(site_urlpatterns)
if not included:
    urlpatterns.insert(0, path("announcements/", include("apps_announcements.urls")))

handler404 = "core.views.not_found"
handler500 = "core.views.server_error"
