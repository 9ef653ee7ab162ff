"""Switchboard settings.

Configuration comes only from the environment. With nothing set, the project runs on
its embedded defaults: SQLite, the in-memory channel layer and eager Celery tasks.
``DATABASE_URL`` and ``REDIS_URL`` switch the same code to PostgreSQL and Redis.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("SWITCHBOARD_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _local_secret_key() -> str:
    """A per-checkout key for development, kept out of version control.

    Production sets ``SECRET_KEY``; a checkout without it still gets a stable, random
    key, so sessions survive restarts and no key is ever shared between machines.
    """
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


def _oidc_private_key() -> str:
    """The RSA key that signs ID tokens: ``OIDC_RSA_PRIVATE_KEY`` (PEM) or the file named by
    ``OIDC_RSA_PRIVATE_KEY_FILE``; for development, one generated per checkout."""
    if os.environ.get("OIDC_RSA_PRIVATE_KEY"):
        return os.environ["OIDC_RSA_PRIVATE_KEY"]
    path = Path(os.environ.get("OIDC_RSA_PRIVATE_KEY_FILE") or VAR_DIR / "oidc_rsa_key.pem")
    if not path.exists():
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        path.chmod(0o600)
    return path.read_text()


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY") or _local_secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# The worker's name appears in the protocol's `hello` frame and in metrics.
SWITCHBOARD_WORKER_NAME = os.environ.get("WORKER_NAME") or f"{os.uname().nodename}:{os.getpid()}"

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
    "core",
    "accounts",
    "contacts",
    "messaging",
    "apps_approval",
    "apps_attendance",
    "apps_announcements",
    "files",
    "integrations",
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

# --- Database -------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("DATABASE_POOL", True):
    # A connection pool (psycopg_pool): the socket's database threads and the request
    # threads borrow connections instead of opening one per call.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env_int("DATABASE_POOL_MIN", 2),
        "max_size": env_int("DATABASE_POOL_SIZE", 20),
        "timeout": 20,
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the async workers and the request threads share the file.
    # IMMEDIATE transactions take the write lock at BEGIN, so concurrent writers queue
    # instead of failing on a stale snapshot.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;",
        }
    )
    # Tests use a file too, not shared-cache memory, so that threads lock it as in production
    # (one per test run, so that two runs in one checkout do not meet).
    DATABASES["default"].setdefault("TEST", {})["NAME"] = str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# See core.db: SQLite is called from one thread, PostgreSQL from a pool.
DB_THREAD_SENSITIVE = env_bool(
    "DB_THREAD_SENSITIVE", DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
)

# --- Redis: channel layer, presence, Celery ------------------------------------------
# REDIS_URL may name several hosts separated by commas; the channel layer shards across
# them with consistent hashing.
REDIS_URLS = env_list("REDIS_URL")
REDIS_URL = REDIS_URLS[0] if REDIS_URLS else ""
REDIS_POOL_SIZE = env_int("REDIS_POOL_SIZE", 1000)
CHANNEL_LISTENER_CAPACITY = env_int("CHANNEL_LISTENER_CAPACITY", 20000)

if REDIS_URLS:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # channels-redis with redis-py 8 defaults to a pool of 100 connections that
                # raises when full and a 5 s socket timeout equal to the layer's blocking
                # pop, which drops consumers; give each host a larger pool and no timeout.
                "hosts": [
                    {
                        "address": url,
                        "max_connections": REDIS_POOL_SIZE,
                        "socket_timeout": None,
                        # A connection idle this long is pinged first, so that after a
                        # Redis restart the pool replaces its dead connections.
                        "health_check_interval": 2,
                        # No CLIENT SETINFO: redis-py would read its version from the
                        # package metadata (a directory scan) for every new connection,
                        # and send it in an extra round trip.
                        "driver_info": None,
                    }
                    for url in REDIS_URLS
                ],
                "capacity": env_int("CHANNEL_CAPACITY", 1000),
                # Each worker's listener (messaging.realtime.dispatch) carries every event of the
                # cluster, so it may hold far more than one connection's channel.
                "channel_capacity": {"workers*": CHANNEL_LISTENER_CAPACITY},
                "expiry": 60,
            },
        }
    }
else:
    # One process: the worker's listener is the only channel.
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": CHANNEL_LISTENER_CAPACITY}}
    }

# The cache holds rate-limit buckets and the like; with Redis it is shared by all workers.
CACHES = {
    "default": (
        # The first host only: Django takes further hosts for read replicas of the first.
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "sb"}
        if REDIS_URLS
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# How often a worker checks that Redis still holds its state (a restart loses it): at
# most this long a socket of it can miss events before it is closed to resync.
LAYER_CHECK_SECONDS = float(os.environ.get("LAYER_CHECK_SECONDS") or 2)
# A client that leaves more than this unsent (it stopped reading) is cut off; it
# reconnects and catches up with sync (messaging.socket.backpressure: Daphne and uvicorn).
SLOW_CLIENT_MAX_BYTES = env_int("SLOW_CLIENT_MAX_BYTES", 2**20)

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = os.environ.get("TIME_ZONE", "UTC")

# --- Authentication -------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses locked-out credentials before any other backend runs.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Repeated failed logins lock that username from that address for a while.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]

# Signing in with the company's OpenID Connect provider (accounts.oidc_login, docs/sso.md):
# off while OIDC_LOGIN_ISSUER is empty. The returned identity is matched to an account by
# the claims in OIDC_LOGIN_MATCH, in order; a misconfiguration stops start-up.
OIDC_LOGIN_ISSUER = os.environ.get("OIDC_LOGIN_ISSUER", "").strip()
OIDC_LOGIN_CLIENT_ID = os.environ.get("OIDC_LOGIN_CLIENT_ID", "").strip()
OIDC_LOGIN_CLIENT_SECRET = os.environ.get("OIDC_LOGIN_CLIENT_SECRET", "")
OIDC_LOGIN_NAME = os.environ.get("OIDC_LOGIN_NAME", "").strip() or _("your company account")
OIDC_LOGIN_MATCH = env_list("OIDC_LOGIN_MATCH", "employee_number,email")
OIDC_LOGIN_SCOPES = os.environ.get("OIDC_LOGIN_SCOPES", "openid profile email").replace(",", " ").split()
if OIDC_LOGIN_ISSUER:
    from django.core.exceptions import ImproperlyConfigured

    if not OIDC_LOGIN_CLIENT_ID:
        raise ImproperlyConfigured("OIDC_LOGIN_ISSUER is set, so OIDC_LOGIN_CLIENT_ID is required.")
    if not OIDC_LOGIN_MATCH or not set(OIDC_LOGIN_MATCH) <= {"employee_number", "email"}:
        raise ImproperlyConfigured("OIDC_LOGIN_MATCH must name employee_number and/or email.")
    if "openid" not in OIDC_LOGIN_SCOPES:
        raise ImproperlyConfigured("OIDC_LOGIN_SCOPES must include openid.")

# --- OAuth2 (django-oauth-toolkit) ----------------------------------------------------
SWITCHBOARD_FIRST_PARTY_CLIENT_ID = "switchboard-first-party"
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER = {
    "ACCESS_TOKEN_EXPIRE_SECONDS": min(env_int("ACCESS_TOKEN_EXPIRE_SECONDS", 900), 900),
    "REFRESH_TOKEN_EXPIRE_SECONDS": env_int("REFRESH_TOKEN_EXPIRE_SECONDS", 14 * 24 * 3600),
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "PKCE_REQUIRED": True,
    # OAuth 2.0 Security BCP (RFC 9700): no implicit or password grant at /o/token/ (the
    # first-party token endpoint issues its own), S256 only, tokens only in headers,
    # hashed token storage, `iss` in authorisation responses.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    # Plain-http redirect URIs only where the site itself is plain http (development,
    # `make run`, tests), unless OAUTH_ALLOW_HTTP_REDIRECTS says otherwise.
    "ALLOWED_REDIRECT_URI_SCHEMES": (
        ["http", "https"]
        if env_bool("OAUTH_ALLOW_HTTP_REDIRECTS", DEBUG or not env_bool("SECURE", not DEBUG))
        else ["https"]
    ),
    "SCOPES": {
        "read": _("Read your messages and contacts"),
        "write": _("Send messages as you"),
        "openid": _("Confirm who you are"),
        "profile": _("See your name, employee number, department and title"),
        "email": _("See your email address"),
        "notify": _("Send notifications to employees"),
        "directory:read": _("Read the company directory"),
        "scim": _("Create, change and deactivate accounts and departments"),
    },
    "DEFAULT_SCOPES": ["read", "write"],
    # Each client gets only the scopes it was registered with (integrations.Client).
    "SCOPES_BACKEND_CLASS": "integrations.oauth.ClientScopes",
    "OAUTH2_VALIDATOR_CLASS": "integrations.oauth.Validator",
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": _oidc_private_key(),
    "OIDC_ISS_ENDPOINT": os.environ.get("OIDC_ISSUER", ""),
    "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
}

# --- REST API -------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Bearer first: its WWW-Authenticate header turns anonymous requests into 401s.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "oauth2_provider.contrib.rest_framework.OAuth2Authentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "core.api.TokenScopePermission",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "core.api.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    "PAGE_SIZE": 50,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Switchboard API",
    "DESCRIPTION": "REST API of the Switchboard office messaging platform.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "COMPONENT_SPLIT_REQUEST": True,
    # Serve Swagger UI from our own static files, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Integrations ---------------------------------------------------------------------
# Notifications one integration may send a minute (each up to 1,000 recipients); a client
# may have its own figure (integrations.Client.notify_per_minute).
NOTIFY_RATE_PER_MINUTE = env_int("NOTIFY_RATE_PER_MINUTE", 60)

# --- Messaging ------------------------------------------------------------------------
MESSAGE_RATE_BURST = env_int("MESSAGE_RATE_BURST", 30)
MESSAGE_RATE_PER_SECOND = float(os.environ.get("MESSAGE_RATE_PER_SECOND") or 10)
# Every frame, whatever its type, has a looser limit so that no client can flood a worker.
FRAME_RATE_BURST = env_int("FRAME_RATE_BURST", 120)
FRAME_RATE_PER_SECOND = float(os.environ.get("FRAME_RATE_PER_SECOND") or 40)
# Sockets one worker holds open at once for one user, and for one client address (the
# address behind the proxy, with --proxy-headers); past them a handshake is answered with
# close code 4429. 0 lifts a limit.
SOCKET_LIMIT_PER_USER = env_int("SOCKET_LIMIT_PER_USER", 20)
SOCKET_LIMIT_PER_ADDRESS = env_int("SOCKET_LIMIT_PER_ADDRESS", 1000)
MESSAGE_EDIT_WINDOW_SECONDS = env_int("MESSAGE_EDIT_WINDOW_SECONDS", 15 * 60)
MESSAGE_RECALL_WINDOW_SECONDS = env_int("MESSAGE_RECALL_WINDOW_SECONDS", 2 * 60)
# Pending approvals older than this are reminded (by a Celery beat task).
APPROVAL_REMIND_AFTER_HOURS = env_int("APPROVAL_REMIND_AFTER_HOURS", 24)
APPROVAL_FILE_MAX_BYTES = env_int("APPROVAL_FILE_MAX_BYTES", 10 * 2**20)
CELERY_BEAT_SCHEDULE = {
    "approvals-remind": {"task": "apps_approval.tasks.remind_pending", "schedule": 3600.0},
    "approvals-discard-unused-files": {"task": "apps_approval.tasks.discard_unused_files", "schedule": 86400.0},
    # Yesterday's results are settled shortly after midnight (in TIME_ZONE); whoever has not
    # checked in by their start plus grace is reminded once, checked every five minutes.
    "attendance-close-day": {"task": "apps_attendance.tasks.close_day", "schedule": crontab(hour=0, minute=15)},
    "attendance-remind-check-in": {"task": "apps_attendance.tasks.remind_check_in", "schedule": 300.0},
}
# Members of these departments may announce to the whole company; a manager may announce
# to the departments they manage. Large audiences are delivered in batches of this size.
ANNOUNCE_TO_EVERYONE_DEPARTMENTS = env_list("ANNOUNCE_TO_EVERYONE_DEPARTMENTS", "hr,office")
ANNOUNCEMENT_BATCH_SIZE = env_int("ANNOUNCEMENT_BATCH_SIZE", 200)
# Staff and these addresses may read /metrics.
METRICS_ALLOWED_ADDRESSES = env_list("METRICS_ALLOWED_ADDRESSES", "127.0.0.1,::1")

# --- Direct (P2P) transport and files ------------------------------------------------
# Two browsers that reach each other send messages and files over a WebRTC data channel;
# when they cannot, the server relays. An office LAN needs no STUN or TURN server, so
# ICE_SERVERS is empty unless set: a JSON list of RTCIceServer dicts, checked here so that
# a typo stops start-up instead of silently breaking every connection.
P2P_ENABLED = env_bool("P2P_ENABLED", True)
P2P_CONNECT_TIMEOUT_MS = env_int("P2P_CONNECT_TIMEOUT_MS", 4000)


def _ice_servers() -> list[dict]:
    import json

    from django.core.exceptions import ImproperlyConfigured

    raw = os.environ.get("ICE_SERVERS", "").strip()
    if not raw:
        return []
    try:
        servers = json.loads(raw)
    except ValueError as error:
        raise ImproperlyConfigured(f"ICE_SERVERS is not valid JSON: {error}") from None
    if not isinstance(servers, list):
        raise ImproperlyConfigured('ICE_SERVERS must be a JSON list, e.g. [{"urls": "stun:stun.example.com:3478"}].')
    for index, server in enumerate(servers):
        urls = server.get("urls") if isinstance(server, dict) else None
        if isinstance(urls, str):
            urls = [urls]
        if not isinstance(urls, list) or not urls or not all(
            isinstance(url, str) and url.split(":", 1)[0] in {"stun", "stuns", "turn", "turns"} for url in urls
        ):
            raise ImproperlyConfigured(
                f"ICE_SERVERS[{index}] needs \"urls\": one or more stun:, stuns:, turn: or turns: URLs."
            )
        unknown = set(server) - {"urls", "username", "credential"}
        if unknown:
            raise ImproperlyConfigured(f"ICE_SERVERS[{index}] has unknown keys: {', '.join(sorted(unknown))}.")
        if not all(isinstance(server.get(key, ""), str) for key in ("username", "credential")):
            raise ImproperlyConfigured(f"ICE_SERVERS[{index}]: username and credential must be strings.")
    return servers


ICE_SERVERS = _ice_servers()
if P2P_CONNECT_TIMEOUT_MS <= 0:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("P2P_CONNECT_TIMEOUT_MS must be a positive number of milliseconds.")
# Files sent through the server (and P2P files archived there): the largest one, and how
# much one person may keep in all.
FILE_MAX_BYTES = env_int("FILE_MAX_BYTES", 100 * 2**20)
FILE_QUOTA_BYTES = env_int("FILE_QUOTA_BYTES", 2**30)
# When true, a file sent directly is uploaded afterwards too, so that the server keeps a
# copy (for people who join later or lose the file); its message then names that copy.
FILE_ARCHIVE_P2P = env_bool("FILE_ARCHIVE_P2P", False)
# The most one report of directly sent bytes may claim (it only feeds /metrics).
FILE_MAX_P2P_REPORT = env_int("FILE_MAX_P2P_REPORT", 4 * 2**30)

# --- Address book ---------------------------------------------------------------------
# The policy that decides who may see and talk to whom; swappable like DOT's validators.
SWITCHBOARD_POLICY_CLASS = os.environ.get("SWITCHBOARD_POLICY_CLASS", "contacts.policy.RulePolicy")

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
