from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from oauth2_provider import urls as oauth_urls
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps_approval import files as approval_files
from core import views
from integrations import oauth
from messaging import views as messaging_views

api_v1 = [
    path("", include("accounts.api.urls")),
    path("", include("contacts.api.urls")),
    path("", include("messaging.api.urls")),
    path("", include("search.urls")),
    path("", include("apps_approval.api.urls")),
    path("", include("apps_announcements.api.urls")),
    path("", include("apps_attendance.api.urls")),
    path("", include("files.api.urls")),
    path("", include("integrations.api.urls")),
    path("", include("push.api.urls")),
]

# The OAuth2 endpoints Switchboard offers: no device flow, no self-service client pages.
OAUTH_ENDPOINTS = [
    p for p in oauth_urls.base_urlpatterns if p.name in {"authorize", "token", "revoke-token", "introspect"}
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("favicon.ico", views.favicon),
    # The installable app (docs/mobile.md): its manifest, its service worker (at the root,
    # for the whole site's scope) and the page that worker shows offline.
    path("manifest.webmanifest", views.web_app_manifest, name="manifest"),
    path("sw.js", views.service_worker, name="service-worker"),
    path("offline/", views.offline, name="offline"),
    path("metrics", messaging_views.metrics, name="metrics"),
    path("chat/", messaging_views.chat, name="chat"),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("contacts/", include("contacts.urls")),
    path("approvals/files/<int:file_id>/", approval_files.download, name="approval-file"),
    path("approvals/", include("apps_approval.urls")),
    path("announcements/", include("apps_announcements.urls")),
    path("attendance/", include("apps_attendance.urls")),
    path("files/", include("files.urls")),
    path("push/", include("push.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    # Translated strings of the web client's modules (locale/*/LC_MESSAGES/djangojs.po).
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("admin/", admin.site.urls),
    # The OAuth2 protocol endpoints only; clients are registered by administrators.
    path("o/.well-known/openid-configuration", oauth.DiscoveryView.as_view(), name="oidc-discovery"),
    path("o/.well-known/openid-configuration/", oauth.DiscoveryView.as_view()),
    path("o/", include((OAUTH_ENDPOINTS + oauth_urls.oidc_urlpatterns, "oauth2_provider"))),
    path("api/v1/", include(api_v1)),
    path("scim/v2/", include("integrations.scim.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler404 = "core.views.not_found"
handler500 = "core.views.server_error"
