"""Reading the settings never writes a key: `manage.py make_keys` makes what is missing,
and until it has, the system checks (which every worker runs as it starts) say so."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
from pathlib import Path

from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]
KEY_VARIABLES = {
    "SECRET_KEY", "OIDC_RSA_PRIVATE_KEY", "OIDC_RSA_PRIVATE_KEY_FILE", "VAPID_PRIVATE_KEY", "VAPID_PRIVATE_KEY_FILE",
    "SWITCHBOARD_VAR_DIR",
}


def manage(var_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in KEY_VARIABLES}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**env, "SWITCHBOARD_VAR_DIR": str(var_dir)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_fresh_checkout_is_refused_until_make_keys_has_run(tmp_path):
    var = tmp_path / "var"
    refused = manage(var, "check")
    assert refused.returncode != 0
    assert "(core.E001) No secret key: set SECRET_KEY or run `manage.py make_keys`." in refused.stderr
    assert "(integrations.E001) No key to sign ID tokens" in refused.stderr
    assert "(push.E001) No VAPID key to sign Web Push requests" in refused.stderr
    assert not var.exists()  # the settings were read, and wrote nothing

    made = manage(var, "make_keys")
    assert made.returncode == 0, made.stderr
    secret, oidc, vapid = var / "secret_key", var / "oidc_rsa_key.pem", var / "vapid_private_key.pem"
    assert made.stdout.split() == ["Made", str(secret), "Made", str(oidc), "Made", str(vapid)]
    assert len(secret.read_text().strip()) >= 64 and private(secret)
    assert oidc.read_text().startswith("-----BEGIN PRIVATE KEY-----") and private(oidc)
    assert vapid.read_text().startswith("-----BEGIN PRIVATE KEY-----") and private(vapid)
    keys = secret.read_bytes(), oidc.read_bytes(), vapid.read_bytes()

    checked = manage(var, "check")
    assert checked.returncode == 0, checked.stderr

    again = manage(var, "make_keys")
    assert again.returncode == 0 and again.stdout == ""
    assert (secret.read_bytes(), oidc.read_bytes(), vapid.read_bytes()) == keys


def test_keys_in_the_environment_need_no_file(settings):
    # Every key set: the settings name no file.
    settings.SECRET_KEY_FILE = settings.OIDC_RSA_PRIVATE_KEY_FILE = settings.VAPID_PRIVATE_KEY_FILE = None
    out = io.StringIO()
    call_command("make_keys", stdout=out)
    assert out.getvalue() == ""


def test_the_id_token_key_goes_where_oidc_rsa_private_key_file_says(settings, tmp_path):
    settings.SECRET_KEY_FILE = settings.VAPID_PRIVATE_KEY_FILE = None
    settings.OIDC_RSA_PRIVATE_KEY_FILE = tmp_path / "etc" / "oidc.pem"
    out = io.StringIO()
    call_command("make_keys", stdout=out)
    assert out.getvalue() == f"Made {tmp_path / 'etc' / 'oidc.pem'}\n"
    assert settings.OIDC_RSA_PRIVATE_KEY_FILE.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert private(settings.OIDC_RSA_PRIVATE_KEY_FILE)
