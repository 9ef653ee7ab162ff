from django.urls import path

from . import oidc_login, views

urlpatterns = [
    path("settings/", views.settings_view, name="account-settings"),
    # Django's sign-in page (ahead of django.contrib.auth.urls), with the company provider's
    # button when OIDC_LOGIN_ISSUER is set.
    path("login/", oidc_login.LoginView.as_view(), name="login"),
    path("oidc/login/", oidc_login.start, name="oidc-login"),
    path("oidc/callback/", oidc_login.callback, name="oidc-callback"),
]
