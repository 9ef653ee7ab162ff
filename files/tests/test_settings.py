"""The transport and file settings come from the environment; the system checks judge them,
and a worker does not start with a value they refuse."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import run_checks

from core.conf import declared_settings
from imsite.testing.servers import ASGI_SERVERS, free_port, worker_command

ROOT = Path(__file__).resolve().parents[2]
NAMES = ["P2P_ENABLED", "ICE_SERVERS", "P2P_CONNECT_TIMEOUT_MS", "FILE_MAX_BYTES", "FILE_QUOTA_BYTES",
         "FILE_ARCHIVE_P2P", "FILE_MAX_P2P_REPORT"]
PROBE = f"""
import json
from django.conf import settings
print(json.dumps({{name: getattr(settings, name) for name in {NAMES!r}}}))
"""


def start(**env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in NAMES}
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "imsite.settings", **env},
        capture_output=True,
        text=True,
    )


def test_defaults_suit_an_office_lan():
    result = start()
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "P2P_ENABLED": True,
        "ICE_SERVERS": [],
        "P2P_CONNECT_TIMEOUT_MS": 4000,
        "FILE_MAX_BYTES": 100 * 2**20,
        "FILE_QUOTA_BYTES": 2**30,
        "FILE_ARCHIVE_P2P": False,
        "FILE_MAX_P2P_REPORT": 4 * 2**30,
    }


def test_the_environment_sets_them():
    servers = [{"urls": "stun:stun.example.com:3478"},
               {"urls": ["turn:turn.example.com:3478?transport=udp", "turns:turn.example.com:5349"], "username": "u", "credential": "p"}]
    result = start(P2P_ENABLED="false", ICE_SERVERS=json.dumps(servers), P2P_CONNECT_TIMEOUT_MS="2500",
                   FILE_MAX_BYTES="1000", FILE_QUOTA_BYTES="5000", FILE_ARCHIVE_P2P="true")
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)
    assert config["ICE_SERVERS"] == servers
    assert (config["P2P_ENABLED"], config["P2P_CONNECT_TIMEOUT_MS"], config["FILE_ARCHIVE_P2P"]) == (False, 2500, True)
    assert (config["FILE_MAX_BYTES"], config["FILE_QUOTA_BYTES"]) == (1000, 5000)


@pytest.mark.parametrize(
    "env, check, message",
    [
        ({"ICE_SERVERS": "[{urls: stun:x}]"}, "messaging.E001", "ICE_SERVERS is not valid JSON"),
        ({"ICE_SERVERS": '{"urls": "stun:x"}'}, "messaging.E001", "ICE_SERVERS must be a JSON list"),
        ({"ICE_SERVERS": '[{"urls": "https://stun.example.com"}]'}, "messaging.E001", "ICE_SERVERS[0] needs \"urls\""),
        ({"ICE_SERVERS": '[{"urls": []}]'}, "messaging.E001", "ICE_SERVERS[0] needs \"urls\""),
        ({"ICE_SERVERS": '["stun:x"]'}, "messaging.E001", "ICE_SERVERS[0] needs \"urls\""),
        ({"ICE_SERVERS": '[{"urls": "stun:x"}, {"url": "stun:y"}]'}, "messaging.E001", "ICE_SERVERS[1] needs \"urls\""),
        (
            {"ICE_SERVERS": '[{"urls": "turn:x", "password": "p"}]'},
            "messaging.E001", "ICE_SERVERS[0] has unknown keys: password",
        ),
        (
            {"ICE_SERVERS": '[{"urls": "turn:x", "credential": 5}]'},
            "messaging.E001", "username and credential must be strings",
        ),
        ({"P2P_CONNECT_TIMEOUT_MS": "0"}, "messaging.E002", "P2P_CONNECT_TIMEOUT_MS must be a positive number"),
    ],
)
def test_a_bad_value_is_a_clear_system_check_error(env, check, message, settings):
    """Reading the settings takes any value; the system checks, which every worker runs as
    it starts (below), say what is wrong."""
    # The settings of this environment, read as imsite.settings reads them.
    for name, value in declared_settings(["messaging"], env).items():
        setattr(settings, name, value)
    errors = [error for error in run_checks() if error.is_serious()]
    assert [error.id for error in errors] == [check]
    assert message in errors[0].msg


@pytest.mark.parametrize("asgi_server", ASGI_SERVERS)
def test_a_bad_value_stops_start_up(asgi_server):
    clean = {k: v for k, v in os.environ.items() if k not in NAMES}
    env = {**clean, "ICE_SERVERS": '[{"url": "stun:stun.example.com"}]'}
    expected = '(messaging.E001) ICE_SERVERS[0] needs "urls"'
    check = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert check.returncode != 0 and expected in check.stderr
    # Daphne and uvicorn run no checks themselves: the application does as it is loaded.
    worker = subprocess.run(
        worker_command(asgi_server, "127.0.0.1", free_port()),
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert worker.returncode != 0
    assert "SystemCheckError" in worker.stderr and expected in worker.stderr
