"""Django itself: the apps, the secret key, templates, languages, static files, security
and logging."""

from __future__ import annotations

import os
from pathlib import Path

from core.conf import env_bool, env_int, env_list

BASE_DIR = Path(__file__).resolve().parents[2]
# What a checkout keeps for itself: its keys (made by `manage.py make_keys`) and the test
# databases.
VAR_DIR = Path(os.environ.get("SWITCHBOARD_VAR_DIR", BASE_DIR / "var"))


def key_file_text(path: Path | None) -> str:
    """A key kept in a file, or nothing while the file is missing: the settings never make
    a key (`manage.py make_keys` does) and a system check says what is missing."""
    return path.read_text() if path is not None and path.exists() else ""


DEBUG = env_bool("DEBUG", False)
# Production sets SECRET_KEY; a checkout keeps a random one of its own in VAR_DIR, so that
# sessions survive restarts and no key is ever shared between machines.
SECRET_KEY_FILE = None if os.environ.get("SECRET_KEY") else VAR_DIR / "secret_key"
SECRET_KEY = os.environ.get("SECRET_KEY") or key_file_text(SECRET_KEY_FILE).strip()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# The worker's name appears in the protocol's `hello` frame and in metrics.
SWITCHBOARD_WORKER_NAME = os.environ.get("WORKER_NAME") or f"{os.uname().nodename}:{os.getpid()}"

# Switchboard's own apps, from the bottom floor up (README.md, Architecture). Each may
# declare the settings it reads in its conf.py (core.conf).
SWITCHBOARD_APPS = [
    "core",
    "accounts",
    "contacts",
    "messaging",
    "search",
    "apps_approval",
    "apps_attendance",
    "apps_announcements",
    "files",
    "integrations",
    "push",
]

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "oauth2_provider",
    "treebeard",
    "axes",
    *SWITCHBOARD_APPS,
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so that it sees the lockouts raised by the authentication backends.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "imsite.urls"
WSGI_APPLICATION = None
ASGI_APPLICATION = "imsite.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Internationalisation -------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
# The company's time zone: times are stored in UTC and shown in this zone.
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_TZ = True

# --- Static and media -----------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
# Once `STATIC_MANIFEST=true manage.py collectstatic` has run (make run and deployments
# do), files are served hashed and compressed from STATIC_ROOT; a checkout that has not
# collected them (tests, development) serves them from the apps' folders instead.
_STATIC_COLLECTED = env_bool("STATIC_MANIFEST", (STATIC_ROOT / "staticfiles.json").exists())
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if _STATIC_COLLECTED
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not _STATIC_COLLECTED

# --- Security -------------------------------------------------------------------------
# Secure cookies and HSTS are on unless DEBUG is (or SECURE=false, for plain HTTP on a
# trusted LAN). The HTTP-to-HTTPS redirect is usually the proxy's job; set
# SECURE_SSL_REDIRECT=true when Switchboard faces browsers directly.
_SECURE = env_bool("SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SESSION_COOKIE_SECURE = _SECURE
CSRF_COOKIE_SECURE = _SECURE
CSRF_FAILURE_VIEW = "core.views.csrf_failure"
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if _SECURE else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _SECURE
SECURE_HSTS_PRELOAD = _SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
BEHIND_PROXY = env_bool("BEHIND_PROXY", False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 14 * 24 * 3600)

# --- Logging --------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        "switchboard.security": {"level": "INFO"},
        # It reports every event dropped for a full channel, which floods under load;
        # the drops are counted on /metrics instead.
        "channels_redis": {"level": "WARNING"},
    },
}
