"""Configuration comes from the environment: the same code on SQLite or PostgreSQL, in-memory or Redis."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

from core.conf import declarations

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "db_name": settings.DATABASES["default"]["NAME"],
    "layer": settings.CHANNEL_LAYERS["default"]["BACKEND"],
    "hosts": settings.CHANNEL_LAYERS["default"].get("CONFIG", {}).get("hosts"),
    "broker": settings.CELERY_BROKER_URL,
    "eager": settings.CELERY_TASK_ALWAYS_EAGER,
    "tz": settings.TIME_ZONE,
    "debug": settings.DEBUG,
}, default=str))
"""

CLEAN_ENV = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "TIME_ZONE"}}


def probe(**env):
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={**CLEAN_ENV, "DJANGO_SETTINGS_MODULE": "imsite.settings", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_embedded_defaults():
    config = probe()
    assert config["engine"] == "django.db.backends.sqlite3"
    assert config["layer"] == "channels.layers.InMemoryChannelLayer"
    assert config["eager"] is True and config["broker"] == "memory://"
    assert config["debug"] is False


def test_environment_switches_to_postgres_and_redis():
    config = probe(
        DATABASE_URL="postgres://sb:pw@db.internal:5432/switchboard",
        REDIS_URL="redis://r1:6379/0,redis://r2:6379/0",
        TIME_ZONE="Asia/Shanghai",
    )
    assert config["engine"] == "django.db.backends.postgresql"
    assert config["db_name"] == "switchboard"
    assert config["layer"] == "channels_redis.core.RedisChannelLayer"
    assert [h["address"] for h in config["hosts"]] == ["redis://r1:6379/0", "redis://r2:6379/0"]
    assert all(h["socket_timeout"] is None and h["max_connections"] >= 1000 for h in config["hosts"])
    assert config["broker"] == "redis://r1:6379/0" and config["eager"] is False
    assert config["tz"] == "Asia/Shanghai"


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = {
        **CLEAN_ENV,
        "SECRET_KEY": "x" * 64 + "production-secret-with-enough-entropy-0123456789",
        "ALLOWED_HOSTS": "chat.example.com",
        "SECURE_SSL_REDIRECT": "true",
        "DEBUG": "false",
        "VAPID_SUBJECT": "mailto:it@chat.example.com",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_readme_lists_every_setting_the_apps_declare():
    readme = (ROOT / "README.md").read_text()
    declared = declarations(settings.SWITCHBOARD_APPS)
    assert {setting.name for setting in declared} <= set(dir(settings))
    assert [setting.variable for setting in declared if f"`{setting.variable}`" not in readme] == []


def test_channel_layer_round_trip():
    """Runs on the in-memory layer, and on Redis when REDIS_URL is set."""
    layer = get_channel_layer()

    async def round_trip():
        channel = await layer.new_channel()
        await layer.group_add("settings-test", channel)
        await layer.group_send("settings-test", {"type": "ping", "n": 1})
        message = await layer.receive(channel)
        await layer.group_discard("settings-test", channel)
        return message

    assert async_to_sync(round_trip)() == {"type": "ping", "n": 1}
    if os.environ.get("REDIS_URL"):
        assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == "channels_redis.core.RedisChannelLayer"


@pytest.mark.django_db
def test_database_is_the_configured_one():
    from django.db import connection

    expected = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    assert connection.vendor == expected
