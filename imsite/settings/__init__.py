"""Switchboard settings.

Configuration comes only from the environment. With nothing set, the project runs on
its embedded defaults: SQLite, the in-memory channel layer and eager Celery tasks.
``DATABASE_URL`` and ``REDIS_URL`` switch the same code to PostgreSQL and Redis.

The site's own settings are kept by concern: ``base`` (Django itself, security, static
files, languages, logging), ``services`` (database, Redis, cache, Celery) and ``auth``
(sign-in, the OAuth2 provider, the REST API). Each app declares the settings it reads,
with their defaults, in its own ``conf.py`` (core.conf); they are read here as well, so
that every setting is ``django.conf.settings.NAME``. Reading the settings checks nothing
and writes nothing: the apps' system checks judge the values (``manage.py check``, and
every worker as it starts), and ``manage.py make_keys`` makes a checkout's keys.
"""

from core.conf import declared_settings

from .base import *  # noqa: F403
from .services import *  # noqa: F403
from .auth import *  # noqa: F403

_declared = declared_settings(SWITCHBOARD_APPS)  # noqa: F405
_clash = sorted(name for name in _declared if name in globals())
if _clash:
    raise ValueError(f"Settings declared by an app and by imsite.settings: {', '.join(_clash)}")
globals().update(_declared)
